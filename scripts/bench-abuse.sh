#!/usr/bin/env bash
# Legitimate latency under each HTTP/2 attack of scripts/h2abuse.py, print-only (not a test; tests/python/test_abuse.py
# asserts the rest). For each attack: a fresh `aimass-interop server` pinned to CPU $SERVER_CPU (default 0); a grpcio
# client calling Health/Check 100 times a second on one connection and another opening a new connection for each of
# its calls (5 a second) run beside the attacker (its own process) for $SECONDS_PER_RUN s; first once with no attack
# (the baseline). Prints a Markdown table: legit p50/p99/max, failures, the server's RSS before and after, what the
# attacker saw (connections, GOAWAYs).
#
# Usage: scripts/bench-abuse.sh [ATTACK...]     (default: every attack; CONFIG=debug for a debug build)
# Environment: SECONDS_PER_RUN (default 10), IDLE_CONNECTIONS (default 10000), SERVER_CPU, CLIENT_CPU (default 1).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFIG=${CONFIG:-release}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
PY=${PYTHON:-.venv/bin/python}
ATTACKS=("$@")
[[ ${#ATTACKS[@]} -eq 0 ]] && ATTACKS=(none hpack-bomb hpack-bomb:4 rapid-reset:10 invalid-frames stream-flood
    continuation-flood settings-flood ping-flood garbage lower-stream-id idle:1000:1024 idle:"$IDLE_CONNECTIONS")

swift build -c "$CONFIG" --product aimass-interop >&2
BIN=$(swift build -c "$CONFIG" --show-bin-path)/aimass-interop
ulimit -n "$(ulimit -Hn)"
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

start_server() {  # [open-file limit]
    local limit=${1:-}
    (
        [[ -n $limit ]] && ulimit -n "$limit"
        exec taskset -c "$SERVER_CPU" "$BIN" server --port 0
    ) > "$WORK/server.out" 2> "$WORK/server.err" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.out")
        [[ -n $PORT ]] && return
        sleep 0.1
    done
    echo "the server did not start" >&2
    cat "$WORK/server.err" >&2
    exit 1
}

echo "| attack | legit p50 | legit p99 | legit max | new-connection p50 | new-connection p99 | legit failures | RSS before → after (MiB) | attacker |"
echo "|---|---:|---:|---:|---:|---:|---:|---|---|"
for spec in "${ATTACKS[@]}"; do
    IFS=: read -r attack connections limit <<< "$spec"
    start_server "$limit"
    # A second of warm-up, then the baseline RSS.
    taskset -c "$CLIENT_CPU" "$PY" scripts/h2abuse.py legit 127.0.0.1 "$PORT" --seconds 1 > /dev/null
    before=$(rss_kib "$SERVER_PID")
    taskset -c "$CLIENT_CPU" "$PY" scripts/h2abuse.py legit 127.0.0.1 "$PORT" --seconds "$SECONDS_PER_RUN" \
        > "$WORK/steady.json" &
    steady=$!
    taskset -c "$CLIENT_CPU" "$PY" scripts/h2abuse.py legit 127.0.0.1 "$PORT" --seconds "$SECONDS_PER_RUN" --fresh \
        --rate 5 > "$WORK/fresh.json" &
    fresh=$!
    if [[ $attack == none ]]; then
        echo '{}' > "$WORK/attack.json"
    else
        # The attacker shares the client's core: the server's core is its own.
        taskset -c "$CLIENT_CPU" "$PY" scripts/h2abuse.py "$attack" 127.0.0.1 "$PORT" \
            --seconds "$SECONDS_PER_RUN" --connections "${connections:-1}" > "$WORK/attack.json"
    fi
    wait "$steady" "$fresh"
    sleep 2  # what memory comes back (a figure, not a synchronisation)
    after=$(kill -0 "$SERVER_PID" 2>/dev/null && rss_kib "$SERVER_PID" || echo dead)
    "$PY" - "$spec" "$before" "$after" "$WORK" <<'EOF'
import json, sys
spec, before, after, work = sys.argv[1:]
steady = json.load(open(f"{work}/steady.json"))
fresh = json.load(open(f"{work}/fresh.json"))
attack = json.load(open(f"{work}/attack.json"))
mib = lambda kib: f"{int(kib) / 1024:.1f}" if kib.isdigit() else kib
seen = "" if not attack else (f"{attack['connections']} conns, {attack['closed_by_server']} closed by server, "
                              f"GOAWAYs {attack['goaways']}, units {attack['units']}")
print(f"| {spec} | {steady['p50_ms']} ms | {steady['p99_ms']} ms | {steady['max_ms']} ms | {fresh['p50_ms']} ms "
      f"| {fresh['p99_ms']} ms | {steady['failures'] + fresh['failures']} | {mib(before)} → {mib(after)} | {seen} |")
EOF
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
done
