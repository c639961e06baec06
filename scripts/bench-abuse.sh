#!/usr/bin/env bash
# Legitimate latency under each HTTP/2 attack of scripts/h2abuse.py, print-only (not a test; tests/python/test_abuse.py
# asserts the rest). Builds `aimass-interop` and runs scripts/bench_abuse.py, which for each attack and repetition
# starts a fresh server pinned to CPU $SERVER_CPU (default 0), measures two grpcio clients (pinned to $CLIENT_CPU,
# default 1) first alone (the run's baseline), then beside the attacker, and prints one Markdown row per attack with
# the medians over the repetitions (see its docstring for the method and the bar).
#
# Usage: scripts/bench-abuse.sh [SPEC...]     (default: the rows of issue 14's table; CONFIG=debug for a debug build)
# Environment: REPEATS (default 3), SECONDS_PER_RUN (default 10), IDLE_CONNECTIONS (default 10000), PING_SECONDS
# (default 60), SERVER_CPU, CLIENT_CPU, ATTACKER_CPU (default: CLIENT_CPU), ATTACKER_NICE (default 10), JSON (a file
# for every run's raw figures).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFIG=${CONFIG:-release}
PY=${PYTHON:-.venv/bin/python}
SPECS=("$@")
[[ ${#SPECS[@]} -eq 0 ]] && SPECS=(grpcio-default:"${PING_SECONDS:-60}" hpack-bomb hpack-bomb:4 rapid-reset:10
    idle:1000:1024 idle:"${IDLE_CONNECTIONS:-10000}" lower-stream-id invalid-frames stream-flood continuation-flood
    settings-flood ping-flood garbage)

swift build -c "$CONFIG" --product aimass-interop >&2
BIN=$(swift build -c "$CONFIG" --show-bin-path)/aimass-interop
ulimit -n "$(ulimit -Hn)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs" >&2
"$PY" scripts/bench_abuse.py --bin "$BIN" --repeats "${REPEATS:-3}" --seconds "${SECONDS_PER_RUN:-10}" \
    ${JSON:+--json "$JSON"} "${SPECS[@]}"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
