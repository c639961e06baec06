#!/usr/bin/env bash
# Feedback.Record throughput, print-only (not a test): `aimass serve` pinned to CPU $SERVER_CPU (default 0) on a
# fresh data directory (synchronous=FULL: every message's events are fsynced), and feedback-bench pinned to CPU
# $CLIENT_CPU (default 1) sending MovieLens-100k's ratings as events (fresh ids, so none is a duplicate).
# Prints events/s and the server's CPU time per event.
# Usage: scripts/bench-feedback.sh [--events N] [--batch B] [--streams S]     (CONFIG=debug: debug build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFIG=${CONFIG:-release}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
[[ -f data/ml-100k.inter ]] || scripts/fetch-ml100k.sh data >/dev/null
swift build -c "$CONFIG" --product aimass >&2
swift build -c "$CONFIG" --package-path Benchmarks --product feedback-bench >&2
AIMASS="$(swift build -c "$CONFIG" --show-bin-path)/aimass"
BENCH="$(swift build -c "$CONFIG" --package-path Benchmarks --show-bin-path)/feedback-bench"

WORK=$(mktemp -d)
LOG="$WORK/serve.log"
: >"$LOG"
taskset -c "$SERVER_CPU" "$AIMASS" serve --port 0 --data-dir "$WORK/data" >"$LOG" 2>"$WORK/serve.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 600); do
  grep -q "listening on" "$LOG" && break
  kill -0 $SERVER 2>/dev/null || { cat "$WORK/serve.err" >&2; exit 1; }
  sleep 0.1
done
ADDRESS=$(sed -n 's/^aimass listening on //p' "$LOG")
TOKEN=$(cat "$WORK/data/admin.token")
AIMASS_SERVER=$ADDRESS AIMASS_TOKEN=$TOKEN "$AIMASS" model create movies --manifest algorithm=itemcf >/dev/null
echo "== Feedback.Record into $ADDRESS (server on CPU $SERVER_CPU, client on CPU $CLIENT_CPU, $CONFIG build)"
taskset -c "$CLIENT_CPU" "$BENCH" --server "$ADDRESS" --token "$TOKEN" --model movies --data data/ml-100k.inter \
  --server-pid "$SERVER" "$@"
