#!/usr/bin/env bash
# The serving path under load, print-only (not a test): `aimass serve` pinned to one core with MovieLens-100k
# ItemCF K=50 deployed, driven by h2load on the other core (Recommend at 1x1 ... 64x100 closed loop, Health/Check
# at 4x1), then the same against the grpc-go peer wrapping an equivalent handler (Benchmarks/Peers/go-recommend).
# Prints one table and the issue's ratios; see scripts/bench_serving.py for the columns.
# Usage: scripts/bench-serving.sh [--duration S] [--repeat N] [--loads 1x1,4x1,...] [--no-peer]
#        scripts/bench-serving.sh --metrics [...]: aimass with Prometheus metrics off and on, alternating (no peer)
#        (add --perf: the share of the metrics-on server's CPU samples in metrics code, by perf)
#        (CONFIG=debug for a debug build; SERVER_CPU / CLIENT_CPU override the pinning)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFIG=${CONFIG:-release}
PEER=1
ARGS=()
for arg in "$@"; do
  if [[ "$arg" == --no-peer || "$arg" == --metrics ]]; then PEER=0; fi
  [[ "$arg" == --no-peer ]] || ARGS+=("$arg")
done
command -v h2load >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; }
[[ -f data/ml-100k.inter ]] || scripts/fetch-ml100k.sh data >/dev/null
swift build -c "$CONFIG" --product aimass >&2
BIN=$(swift build -c "$CONFIG" --show-bin-path)
PEER_ARGS=()
if [[ "$PEER" == 1 ]]; then
  OUT=/tmp/aimass-bench/build/go-recommend
  Benchmarks/Peers/go-recommend/build.sh "$OUT" >&2
  PEER_ARGS=(--peer "$OUT/go_recommend")
fi
exec python3 scripts/bench_serving.py --aimass "$BIN/aimass" --data data/ml-100k.inter "${PEER_ARGS[@]}" "${ARGS[@]}"
