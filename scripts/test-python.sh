#!/usr/bin/env bash
# Runs the Python suite (tests/python) against the debug build, as CI does: three pytest-xdist workers, each file
# whole on one worker (`--dist loadfile`), the slowest files first (conftest.py). Arguments go on to pytest, e.g.
#   scripts/test-python.sh --deselect test_fuzz_short.py::test_fuzz_every_target_15s     (ids relative to tests/python)
#   scripts/test-python.sh tests/python/test_pool.py                                       (only these files)
# AIMASS_BIN_DIR and AIMASS_BENCH_BIN_DIR default to the debug builds of this checkout and of Benchmarks/;
# AIMASS_TEST_WORKERS=0 runs the files one at a time in one process.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export AIMASS_BIN_DIR=${AIMASS_BIN_DIR:-$(swift build --show-bin-path)}
export AIMASS_BENCH_BIN_DIR=${AIMASS_BENCH_BIN_DIR:-$(swift build --package-path Benchmarks --show-bin-path)}
# Three on two cores: most tests wait on servers and events, not on CPU (docs/testing.md has the figures).
WORKERS=${AIMASS_TEST_WORKERS:-3}
PARALLEL=()
[[ $WORKERS != 0 ]] && PARALLEL=(-n "$WORKERS" --dist loadfile --no-loadscope-reorder)
# The whole suite, unless files or folders are named (a path that is the value of an option, as in
# `--ignore tests/python/test_x.py`, names nothing to run).
SUITE=(tests/python)
previous=""
for arg in "$@"; do
  case $previous in --ignore | --ignore-glob | --deselect | -k | -m | -p | -c | -o | --rootdir | --basetemp) ;;
    *) [[ -e $arg ]] && SUITE=() && break ;;
  esac
  previous=$arg
done
exec .venv/bin/python -m pytest -q -rfE "${PARALLEL[@]}" "${SUITE[@]}" "$@"
