#!/usr/bin/env bash
# Builds the solution, runs every test project (unit, integration against real redis-server and PostgreSQL
# processes the tests start themselves, AppHost, worker), runs the Redis-backed projects again on Valkey 8, merges the
# line coverage of each product assembly
# (Coordination.Core, Coordination.Api, Coordination.Worker) over all of them, prints one figure per assembly and
# fails when any is below the threshold (COVERAGE_THRESHOLD, default 90).
# Needs: .NET 10 SDK; redis-server, redis-cli and redis-sentinel on PATH; valkey-server and valkey-cli on PATH; PostgreSQL binaries (initdb, postgres) on
# PATH or in /usr/lib/postgresql/*/bin (and a "postgres" user to run them as, when running as root); Chromium at
# /usr/lib/chromium/chromium (the browser test). On Debian/Ubuntu the set-up below installs what is missing when run
# as root (apt-get), and otherwise prints the apt-get command to run and exits 2 before building anything.
#
# Usage: bash eng/test.sh [--setup-only]
#   --setup-only  only check (and, as root, install) the programs the tests need, then exit.
set -euo pipefail
cd "$(dirname "$0")/.."

setup_only=false
for argument in "$@"; do
  case $argument in
    --setup-only) setup_only=true ;;
    *) echo "usage: bash eng/test.sh [--setup-only]" >&2; exit 2 ;;
  esac
done

# Where the tests look for PostgreSQL (tests/Coordination.IntegrationTests/Infrastructure/PostgresServer.cs and the
# AppHost's LocalResources/PostgresBinaries.cs): /usr/lib/postgresql/<major>/bin, else initdb and postgres on PATH.
have_postgres_binaries() {
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    if [ -x "$bin/initdb" ] && [ -x "$bin/postgres" ]; then
      return 0
    fi
  done
  command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1
}

# The Debian/Ubuntu packages of the programs the tests start that are missing, one per line.
missing_packages() {
  command -v redis-server >/dev/null 2>&1 || echo redis-server
  command -v redis-cli >/dev/null 2>&1 || echo redis-tools
  command -v redis-sentinel >/dev/null 2>&1 || echo redis-sentinel
  # PostgreSQL refuses to run as root: as root the tests run it as the "postgres" user, which the package creates.
  if ! have_postgres_binaries || { [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; }; then
    echo postgresql
  fi
  # The status page's browser test launches Debian's Chromium directly (see docs/operations.md, "Fresh machine").
  [ -x /usr/lib/chromium/chromium ] || echo chromium
  # The second run on Valkey 8 (the Redis 7.2+ line; Debian bookworm has it in bookworm-backports).
  command -v valkey-server >/dev/null 2>&1 || echo valkey-server
  command -v valkey-cli >/dev/null 2>&1 || echo valkey-tools
}

# Valkey is in bookworm-backports on Debian 12 (same mirror as the rest): the suite is added once, and only there.
backports_for_valkey() {
  local codename
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  if [ "$codename" = bookworm ] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    cat > /etc/apt/sources.list.d/coordination-bookworm-backports.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  fi
  if [ "$codename" = bookworm ]; then
    echo "-t bookworm-backports"
  fi
}

setup() {
  local missing
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "set-up: redis-server, redis-cli, redis-sentinel, valkey-server, valkey-cli, PostgreSQL and Chromium are present"
    return 0
  fi

  local install=(apt-get install -y --no-install-recommends "${missing[@]}")
  if [ "$(id -u)" -ne 0 ]; then
    echo "set-up: the tests need ${missing[*]} (not installed). Run as root (or with sudo):" >&2
    echo "  apt-get update && ${install[*]}" >&2
    if [[ " ${missing[*]} " == *" valkey-"* ]]; then
      echo "  (on Debian 12, Valkey comes from bookworm-backports: add that suite and pass -t bookworm-backports)" >&2
    fi
    echo "then run this command again (or run it as root: it installs them itself)." >&2
    return 2
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "set-up: the tests need ${missing[*]} (Debian/Ubuntu package names) and there is no apt-get to install them." >&2
    return 2
  fi

  echo "set-up: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local package release_packages=() valkey_packages=() valkey_release=()
  for package in "${missing[@]}"; do
    if [[ $package == valkey-* ]]; then valkey_packages+=("$package"); else release_packages+=("$package"); fi
  done
  if [ "${#valkey_packages[@]}" -gt 0 ]; then
    read -r -a valkey_release <<<"$(backports_for_valkey)"
  fi
  # Wait for another apt-get or dpkg holding the lock rather than failing at once.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  if [ "${#release_packages[@]}" -gt 0 ]; then
    apt-get install -y --no-install-recommends -qq -o DPkg::Lock::Timeout=300 "${release_packages[@]}" >/dev/null
  fi
  # Valkey alone from backports where that is its home, so no other package is taken from there.
  if [ "${#valkey_packages[@]}" -gt 0 ]; then
    apt-get install -y --no-install-recommends -qq -o DPkg::Lock::Timeout=300 "${valkey_release[@]}" "${valkey_packages[@]}" >/dev/null
  fi
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "set-up: still missing after apt-get: ${missing[*]}" >&2
    return 1
  fi
  echo "set-up: installed"
}

setup
if [ "$setup_only" = true ]; then
  exit 0
fi

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

# The failover tests kill a Sentinel group's or a Cluster's primary under a 64-caller load and time the recovery: they
# run in a pass of their own, with nothing else on the machine's two cores, instead of among the other suites' tests
# (there a loaded machine stretched a failover beyond what they model: calls and the sentinels' own timeouts stalled).
failover_classes=(
  Coordination.IntegrationTests.Connections.FailoverAvailabilityTests
  Coordination.IntegrationTests.Connections.ClusterFailoverTests
  Coordination.IntegrationTests.Connections.SentinelTests
)
without_failover=()
only_failover=()
for class in "${failover_classes[@]}"; do
  without_failover+=(--filter-not-class "$class")
  only_failover+=(--filter-class "$class")
done

dotnet tool restore >/dev/null
dotnet build Aspire.sln -c Release

set +e
dotnet test --solution Aspire.sln -c Release --no-build --no-progress --no-ansi \
  --results-directory "$PWD/$results" \
  --max-parallel-test-modules 1 \
  --coverlet "${coverlet_include[@]}" --coverlet-output-format cobertura \
  "${without_failover[@]}" \
  2>&1 | tee "$results/test-output.log"
status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then
  echo "Running the failover tests alone"
  dotnet test --project tests/Coordination.IntegrationTests -c Release --no-build --no-progress --no-ansi \
    --results-directory "$PWD/$results/failover" \
    --coverlet "${coverlet_include[@]}" --coverlet-output-format cobertura \
    "${only_failover[@]}" \
    2>&1 | tee "$results/failover-output.log"
  status=${PIPESTATUS[0]}
  cat "$results/failover-output.log" >> "$results/test-output.log"
fi
set -e

# One closing line a CI can read, from the summaries dotnet test prints (the whole solution's, then the failover pass's).
awk '
  /Test run summary:/ { in_summary = 1; seen = 1 }
  in_summary && /^[[:space:]]*failed: [0-9]+/ { f += $2 }
  in_summary && /^[[:space:]]*succeeded: [0-9]+/ { p += $2 }
  in_summary && /^[[:space:]]*skipped: [0-9]+/ { s += $2; in_summary = 0 }
  END { if (seen) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }
' "$results/test-output.log" > "$results/summary.txt"
cat "$results/summary.txt"

redis_server="redis-server $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
if [ "$status" -ne 0 ]; then
  echo "Tests failed on $redis_server (exit $status)." >&2
  exit "$status"
fi

# The Redis-backed suites again on Valkey 8 (the Redis 7.2+ line): every server the tests start, the Cluster and
# Sentinel fixtures and the AppHost's local mode included (COORDINATION_TEST_REDIS_SERVER, see
# tests/Coordination.IntegrationTests/Infrastructure/RedisPrograms.cs). No coverage: the first run measured it.
valkey_server="valkey-server $(valkey-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
# What the passes whose full output goes to a file print: the summary lines, and each failed test's report (its error,
# stack trace and output, up to 200 lines), so that a failure in CI can be read from CI's output alone.
summarize() {
  awk '/^failed /{ report = 200 } report > 0 { print; report--; next } /^(  total|  failed|  succeeded|  skipped)|passed \(|failed \(/ { print }'
}

echo "Running the Redis-backed tests again on $valkey_server"
valkey_failed=()
for project in tests/Coordination.IntegrationTests tests/Coordination.Api.Tests tests/Coordination.Worker.Tests tests/AppHost.Tests; do
  set +e
  filter=()
  if [ "$project" = tests/Coordination.IntegrationTests ]; then
    filter=("${without_failover[@]}")
  fi
  COORDINATION_TEST_REDIS_SERVER=valkey dotnet test --project "$project" -c Release --no-build --no-progress --no-ansi \
    --results-directory "$PWD/$results/valkey" "${filter[@]}" 2>&1 | tee -a "$results/valkey-output.log" | summarize
  project_status=${PIPESTATUS[0]}
  set -e
  if [ "$project_status" -ne 0 ]; then
    valkey_failed+=("$(basename "$project") (exit $project_status)")
  fi
done
set +e
echo "Running the failover tests alone on $valkey_server"
COORDINATION_TEST_REDIS_SERVER=valkey dotnet test --project tests/Coordination.IntegrationTests -c Release --no-build --no-progress --no-ansi \
  --results-directory "$PWD/$results/valkey-failover" "${only_failover[@]}" 2>&1 | tee -a "$results/valkey-output.log" | summarize
project_status=${PIPESTATUS[0]}
set -e
if [ "$project_status" -ne 0 ]; then
  valkey_failed+=("failover tests (exit $project_status)")
fi
if [ "${#valkey_failed[@]}" -gt 0 ]; then
  echo "Tests failed on $valkey_server: ${valkey_failed[*]} (full output: $results/valkey-output.log)." >&2
  exit 1
fi
echo "tests on $valkey_server: passed"

# The integration suite again with its shared Redis as a real Cluster of three primaries (COORDINATION_TEST_SHARED_REDIS,
# see tests/Coordination.IntegrationTests/Infrastructure/SharedRedisFixture.cs): coordinator, locks, cache and its
# backplane, sessions and rate limits through one connection to a cluster, keys of every tenant on every node.
# No coverage: the first run measured it.
echo "Running tests/Coordination.IntegrationTests again on a Redis Cluster (COORDINATION_TEST_SHARED_REDIS=cluster)"
set +e
# The failover tests start their own Sentinel group and Cluster whatever the shared Redis is: not run a third time.
COORDINATION_TEST_SHARED_REDIS=cluster dotnet test --project tests/Coordination.IntegrationTests -c Release --no-build --no-progress --no-ansi \
  --results-directory "$PWD/$results/cluster" "${without_failover[@]}" 2>&1 | tee "$results/cluster-output.log" | summarize
cluster_status=${PIPESTATUS[0]}
set -e
if [ "$cluster_status" -ne 0 ]; then
  echo "Tests failed in cluster mode (COORDINATION_TEST_SHARED_REDIS=cluster, a Redis Cluster of three primaries): Coordination.IntegrationTests (exit $cluster_status; full output: $results/cluster-output.log)." >&2
  exit 1
fi
echo "tests on a Redis Cluster (COORDINATION_TEST_SHARED_REDIS=cluster): passed"

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
