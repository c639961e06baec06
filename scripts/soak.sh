#!/usr/bin/env bash
# The flake check of issue 19: runs the Swift suite and then the Python suite N times in a row (default 20), with a
# CPU hog beside them (one busy `yes > /dev/null` a core), and stops at the first failure. It builds nothing: build
# first (`swift build --build-tests`, `swift build --package-path Benchmarks`; the Python suite's
# test_run_serving also needs `swift build -c release`, and test_fuzz_short builds .build-fuzz on its first run).
#
#   scripts/soak.sh [N] [-- PYTEST_ARGS...]     e.g. scripts/soak.sh 20 -- --deselect test_run_serving.py::test_x
#
# Every run is a line of SOAK_DIR/soak.log (default .build/soak): run number, suite, commit, start (UTC), duration
# in seconds, the load average at its end, result (pass/FAIL), the failing tests; each suite's whole output is
# SOAK_DIR/RUN-SUITE.log.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${1:-20}
shift || true
[[ ${1:-} == -- ]] && shift
DIR=${SOAK_DIR:-$ROOT/.build/soak}
mkdir -p "$DIR"
LOG="$DIR/soak.log"

HOGS=()
stop_hogs() { for pid in "${HOGS[@]}"; do kill "$pid" 2>/dev/null; done; }
trap stop_hogs EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 "$(nproc)"); do
  yes >/dev/null &
  HOGS+=($!)
done

commit() {
  local head
  head=$(git rev-parse --short HEAD)
  git diff --quiet HEAD -- . && echo "$head" || echo "$head+dirty"
}

# record RUN SUITE START SECONDS STATUS OUTPUT COMMIT: one line of the log; the failing tests taken from the output.
record() {
  local failing=""
  if [[ $5 != 0 ]]; then
    if [[ $2 == swift ]]; then
      failing=$(grep -aoE "(✘ Test [^ ]+.* failed|Test Case '[^']+' failed|error: .*)" "$6" | sort -u | head -5 | paste -sd';')
    else
      failing=$(grep -aE '^(FAILED|ERROR) ' "$6" | cut -c1-200 | head -5 | paste -sd';')
    fi
    [[ -n $failing ]] || failing="exit status $5, see $6"
  fi
  printf '%s\t%s\t%s\t%s\t%ss\tload %s\t%s\t%s\n' "$1" "$2" "$7" "$3" "$4" "$(cut -d' ' -f1 /proc/loadavg)" \
    "$([[ $5 == 0 ]] && echo pass || echo FAIL)" "$failing" | tee -a "$LOG"
}

echo "# soak of $N runs from $(date -u +%FT%TZ), $(nproc) hogs, pytest args: $*" | tee -a "$LOG"
for run in $(seq 1 "$N"); do
  start=$(date -u +%FT%TZ); t0=$SECONDS; rev=$(commit)
  swift test --skip-build >"$DIR/$run-swift.log" 2>&1
  status=$?
  record "$run" swift "$start" $((SECONDS - t0)) $status "$DIR/$run-swift.log" "$rev"
  [[ $status == 0 ]] || exit 1

  start=$(date -u +%FT%TZ); t0=$SECONDS; rev=$(commit)
  scripts/test-python.sh "$@" >"$DIR/$run-python.log" 2>&1
  status=$?
  record "$run" python "$start" $((SECONDS - t0)) $status "$DIR/$run-python.log" "$rev"
  [[ $status == 0 ]] || exit 1
done
echo "# $N consecutive clean runs of both suites" | tee -a "$LOG"
