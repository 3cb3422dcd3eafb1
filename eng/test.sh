#!/usr/bin/env bash
# Builds the solution, runs every test project (unit, integration against real redis-server and PostgreSQL
# processes the tests start themselves, AppHost, worker), merges the line coverage of each product assembly
# (Coordination.Core, Coordination.Api, Coordination.Worker) over all of them, prints one figure per assembly and
# fails when any is below the threshold (COVERAGE_THRESHOLD, default 90).
# Needs: .NET 10 SDK; redis-server on PATH; PostgreSQL binaries (initdb, postgres) on PATH or in /usr/lib/postgresql/*/bin.
set -euo pipefail
cd "$(dirname "$0")/.."

threshold="${COVERAGE_THRESHOLD:-90}"
assemblies=(Coordination.Core Coordination.Api Coordination.Worker)
results="artifacts/test-results"
coverage="artifacts/coverage"
rm -rf "$results" "$coverage"
mkdir -p "$results"

coverlet_include=()
for assembly in "${assemblies[@]}"; do
  coverlet_include+=(--coverlet-include "[$assembly]*")
done

dotnet tool restore >/dev/null
dotnet build Aspire.sln -c Release

set +e
dotnet test --solution Aspire.sln -c Release --no-build --no-progress --no-ansi \
  --results-directory "$PWD/$results" \
  --max-parallel-test-modules 1 \
  --coverlet "${coverlet_include[@]}" --coverlet-output-format cobertura \
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

# Per assembly from the merged Cobertura report: one <package name="..." line-rate="0..1"> per assembly, whatever
# the order of its attributes. Figures are cut (not rounded) to one decimal, as ReportGenerator's summary does, so a
# printed 90.0% never hides a failing 89.97%.
rates=$(grep -o '<package [^>]*>' "$coverage/Cobertura.xml" | LC_ALL=C awk '
  {
    name = ""; rate = ""
    if (match($0, / name="[^"]*"/)) name = substr($0, RSTART + 7, RLENGTH - 8)
    if (match($0, / line-rate="[^"]*"/)) rate = substr($0, RSTART + 12, RLENGTH - 13)
    if (name != "" && rate != "") print name, rate
  }')
failed=()
for assembly in "${assemblies[@]}"; do
  rate=$(awk -v a="$assembly" '$1 == a { print $2 }' <<<"$rates")
  if [ -z "$rate" ]; then
    echo "$assembly line coverage: none recorded (threshold ${threshold}%)"
    echo "No coverage of $assembly was recorded: no test loaded it." >&2
    failed+=("$assembly")
    continue
  fi
  line=$(LC_ALL=C awk -v r="$rate" 'BEGIN { printf "%.1f", int(r * 1000 + 1e-9) / 10 }')
  echo "$assembly line coverage: ${line}% (threshold ${threshold}%)"
  if LC_ALL=C awk -v r="$rate" -v t="$threshold" 'BEGIN { exit !(r * 100 < t + 0) }'; then
    echo "Coverage of $assembly is below ${threshold}%." >&2
    failed+=("$assembly")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  exit 1
fi
