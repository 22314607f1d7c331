#!/usr/bin/env bash
# Runs the whole test command N times (or, after `--`, `cargo test` with the given arguments)
# and counts the runs that failed: a suite that fails by chance shows up here. Logs of failed
# runs are kept in target/flake-check/.
#
#   scripts/flake-check.sh 10                                    # the whole test command, 10 times
#   scripts/flake-check.sh 30 -- --all-features --test cluster   # one test binary, 30 times
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:?usage: scripts/flake-check.sh N [-- cargo test arguments]}"
shift
if [ "${1:-}" = "--" ]; then
    shift
    command=(cargo test "$@")
else
    command=(./scripts/test.sh)
fi
logs=target/flake-check
mkdir -p "$logs"
failed=0
started=$(date +%s)
for run in $(seq 1 "$runs"); do
    log="$logs/run-$run.log"
    begin=$(date +%s)
    if "${command[@]}" >"$log" 2>&1; then
        passed=$(grep -ho 'test result: ok\. [0-9]* passed' "$log" | awk '{n += $4} END {print n + 0}')
        rm -f "$log"
        verdict="ok ($passed tests passed)"
    else
        failed=$((failed + 1))
        verdict="FAILED (log: $log)"
    fi
    echo "run $run/$runs: $verdict in $(( $(date +%s) - begin )) s"
done
echo "${command[*]}: $failed of $runs runs failed ($(( $(date +%s) - started )) s in all)"
[ "$failed" -eq 0 ]
