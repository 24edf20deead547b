#!/usr/bin/env bash
# The whole suite, several times, while another process keeps the CPUs busy: proves that the tests
# decide on behaviour, not on how fast the machine is (docs/architecture.md, "Tests on a busy machine").
#
#   bash scripts/suite-under-load.sh [--runs N] [--cpu N] [--only embedded|external]
#   npm run test:under-load -- --runs 1
#
# Starts `stress-ng --cpu N` (Debian package stress-ng, installed with apt-get when missing), runs
# `npm test` N times (default 3) on the embedded default database (DATABASE_URL unset) and N times on
# the external PostgreSQL server (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres),
# prints one line per run and a final tally, and always stops stress-ng. Exit status 0 only if every
# run passed. Logs: $TMPDIR/agrireturn-under-load/. TEST_COMMAND replaces `npm test` (the script's own
# test uses it to check the runs, the tally and that stress-ng is stopped, in seconds).
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-3}"
cpus="${STRESS_CPU:-2}"
only=""
test_command="${TEST_COMMAND:-npm test}"
external_url="${EXTERNAL_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --cpu) cpus="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "suite-under-load: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$runs" in ''|*[!0-9]*|0) echo "suite-under-load: --runs must be a positive whole number, got '$runs'" >&2; exit 2 ;; esac
case "$cpus" in ''|*[!0-9]*|0) echo "suite-under-load: --cpu must be a positive whole number, got '$cpus'" >&2; exit 2 ;; esac
case "$only" in ''|embedded|external) ;; *) echo "suite-under-load: --only must be embedded or external, got '$only'" >&2; exit 2 ;; esac

if ! command -v stress-ng >/dev/null; then
  if command -v apt-get >/dev/null; then
    echo "== installing stress-ng"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends stress-ng; } >/tmp/agrireturn-apt-stress.log 2>&1 \
      || { tail -20 /tmp/agrireturn-apt-stress.log; echo "suite-under-load: could not install stress-ng; install it (Debian: apt-get install stress-ng) and run again" >&2; exit 1; }
  else
    echo "suite-under-load: stress-ng is not installed and there is no apt-get; install stress-ng and run again" >&2
    exit 1
  fi
fi

logs="${TMPDIR:-/tmp}/agrireturn-under-load"
mkdir -p "$logs"

backends=()
[ "$only" != external ] && backends+=(embedded)
[ "$only" != embedded ] && backends+=(external)
if [[ " ${backends[*]} " == *" external "* ]]; then
  host=$(node -e 'const u=new URL(process.argv[1]); console.log(u.hostname||"127.0.0.1")' "$external_url" 2>/dev/null || echo 127.0.0.1)
  port=$(node -e 'const u=new URL(process.argv[1]); console.log(u.port||5432)' "$external_url" 2>/dev/null || echo 5432)
  if command -v pg_isready >/dev/null && ! pg_isready -q -h "$host" -p "$port"; then
    echo "suite-under-load: PostgreSQL is not reachable at ${host}:${port} (DATABASE_URL=${external_url}); start it (e.g. pg_ctlcluster 15 main start) or use --only embedded" >&2
    exit 1
  fi
fi

# Bounded: stress-ng stops by itself even if this script is killed without running its trap.
stress_seconds=$(( runs * ${#backends[@]} * 1800 + 600 ))
stress-ng --cpu "$cpus" --timeout "${stress_seconds}s" --quiet &
stress_pid=$!
stop_stress() {
  if kill -0 "$stress_pid" 2>/dev/null; then
    kill -TERM "$stress_pid" 2>/dev/null
    wait "$stress_pid" 2>/dev/null
  fi
}
trap stop_stress EXIT
trap 'stop_stress; exit 130' INT TERM
sleep 1
if ! kill -0 "$stress_pid" 2>/dev/null; then echo "suite-under-load: stress-ng did not start" >&2; exit 1; fi
echo "== stress-ng --cpu ${cpus} running (pid ${stress_pid}, at most ${stress_seconds} s); ${runs} run(s) of '${test_command}' on: ${backends[*]}"

export SUITE_UNDER_LOAD_STRESS_PID="$stress_pid"
passed_runs=0; failed_runs=0
for backend in "${backends[@]}"; do
  for i in $(seq 1 "$runs"); do
    log="${logs}/${backend}-${i}.log"
    started=$(date +%s)
    if [ "$backend" = embedded ]; then
      env -u DATABASE_URL bash -c "$test_command" >"$log" 2>&1
    else
      env DATABASE_URL="$external_url" bash -c "$test_command" >"$log" 2>&1
    fi
    rc=$?
    took=$(( $(date +%s) - started ))
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    [ -n "$summary" ] || summary="no test summary (see the log)"
    if [ "$rc" -eq 0 ]; then
      passed_runs=$((passed_runs + 1)); verdict=PASS
    else
      failed_runs=$((failed_runs + 1)); verdict=FAIL
    fi
    echo "${verdict} ${backend} run ${i}/${runs}: ${summary} in ${took} s (log ${log})"
    if [ "$rc" -ne 0 ]; then
      grep -E '^\s+[0-9]+\) ' "$log" | head -10 | sed 's/^/    /'
    fi
  done
done
stop_stress
echo "suite under load (stress-ng --cpu ${cpus}), whole-suite runs:"
echo "runs: ${passed_runs} passed, ${failed_runs} failed"
[ "$failed_runs" -eq 0 ]
