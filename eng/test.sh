#!/usr/bin/env bash
# Builds the solution, runs every test project (unit, integration against real redis-server and PostgreSQL
# processes the tests start themselves, AppHost), merges the coverage of Coordination.Core over all of them and
# fails when it is below the threshold.
# Needs: .NET 10 SDK; redis-server on PATH; PostgreSQL binaries (initdb, postgres) on PATH or in /usr/lib/postgresql/*/bin.
set -euo pipefail
cd "$(dirname "$0")/.."

threshold="${COVERAGE_THRESHOLD:-90}"
results="artifacts/test-results"
coverage="artifacts/coverage"
rm -rf "$results" "$coverage"
mkdir -p "$results"

dotnet tool restore >/dev/null
dotnet build Aspire.sln -c Release

set +e
dotnet test --solution Aspire.sln -c Release --no-build --no-progress --no-ansi \
  --results-directory "$PWD/$results" \
  --max-parallel-test-modules 1 \
  --coverlet --coverlet-include "[Coordination.Core]*" --coverlet-output-format cobertura \
  2>&1 | tee "$results/test-output.log"
status=${PIPESTATUS[0]}
set -e

# One closing line a CI can read, from the summary dotnet test prints for the whole solution.
awk '
  /Test run summary:/ { in_summary = 1 }
  in_summary && /^[[:space:]]*failed: [0-9]+/ { f = $2 }
  in_summary && /^[[:space:]]*succeeded: [0-9]+/ { p = $2 }
  in_summary && /^[[:space:]]*skipped: [0-9]+/ { s = $2 }
  END { if (in_summary) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }
' "$results/test-output.log" > "$results/summary.txt"
cat "$results/summary.txt"

if [ "$status" -ne 0 ]; then
  echo "Tests failed (exit $status)." >&2
  exit "$status"
fi

reports=$(find "$results" -name '*.cobertura*.xml' | paste -sd ';' -)
if [ -z "$reports" ]; then
  echo "No coverage reports were written." >&2
  exit 1
fi
dotnet reportgenerator -reports:"$reports" -targetdir:"$coverage" -reporttypes:"TextSummary;Cobertura" >/dev/null
line=$(grep -m1 -E '^\s*Line coverage:' "$coverage/Summary.txt" | grep -oE '[0-9]+(\.[0-9]+)?')
echo "Coordination.Core line coverage: ${line}% (threshold ${threshold}%)"
if awk -v l="$line" -v t="$threshold" 'BEGIN { exit !(l + 0 < t + 0) }'; then
  echo "Coverage of Coordination.Core is below ${threshold}%." >&2
  exit 1
fi
