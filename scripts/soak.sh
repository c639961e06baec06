#!/usr/bin/env bash
# The flake check of issue 19: "twenty consecutive runs of the Python suite and the Swift suite on this machine, with
# a CPU hog running beside them, pass without a flake". Runs the Swift suite (`swift test --skip-build`) and then the
# Python suite (scripts/test-python.sh, the CI form) N times in a row (default 20) beside one busy `yes > /dev/null`
# (SOAK_HOGS=k for k of them), and stops at the first failure, keeping that run's whole output. It builds nothing:
# build first (`swift build --build-tests`, `swift build --package-path Benchmarks`, `swift build -c release`; the
# Python suite's test_fuzz_short builds .build-fuzz on its first run).
#
#   scripts/soak.sh [N] [-- PYTEST_ARGS...]     e.g. scripts/soak.sh 20 -- --deselect test_run_serving.py::test_x
#
# Every suite run is a line of SOAK_DIR/soak.log (default .build/soak): run number, suite, commit, start (UTC),
# duration in seconds, the load average at its end, result (pass/FAIL), the failing tests; then a line per iteration
# with both durations and their sum. A suite's whole output is SOAK_DIR/RUN-SUITE.log; a passing run's is removed
# (SOAK_KEEP_LOGS=1 keeps it), a failing one's is kept.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${1:-20}
shift || true
[[ ${1:-} == -- ]] && shift
DIR=${SOAK_DIR:-$ROOT/.build/soak}
HOG_COUNT=${SOAK_HOGS:-1}
mkdir -p "$DIR"
LOG="$DIR/soak.log"

HOGS=()
stop_hogs() { for pid in "${HOGS[@]}"; do kill "$pid" 2>/dev/null; done; }
trap stop_hogs EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 "$HOG_COUNT"); do
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

# suite RUN NAME COMMAND...: runs one suite, records it, removes its output if it passed; returns its status.
suite() {
  local run=$1 name=$2 start t0 rev status
  shift 2
  start=$(date -u +%FT%TZ); t0=$SECONDS; rev=$(commit)
  "$@" >"$DIR/$run-$name.log" 2>&1
  status=$?
  LAST=$((SECONDS - t0))
  record "$run" "$name" "$start" "$LAST" $status "$DIR/$run-$name.log" "$rev"
  [[ $status == 0 && ${SOAK_KEEP_LOGS:-0} != 1 ]] && rm -f "$DIR/$run-$name.log"
  return $status
}

echo "# soak of $N runs from $(date -u +%FT%TZ), $HOG_COUNT hog(s), $(nproc) cores, pytest args: $*" | tee -a "$LOG"
for run in $(seq 1 "$N"); do
  suite "$run" swift swift test --skip-build || { echo "# run $run: the Swift suite FAILED" | tee -a "$LOG"; exit 1; }
  swift_s=$LAST
  suite "$run" python scripts/test-python.sh "$@" ||
    { echo "# run $run: the Python suite FAILED" | tee -a "$LOG"; exit 1; }
  echo "# run $run: swift ${swift_s}s + python ${LAST}s = $((swift_s + LAST))s" | tee -a "$LOG"
done
echo "# $N consecutive clean runs of both suites" | tee -a "$LOG"
