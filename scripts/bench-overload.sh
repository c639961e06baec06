#!/usr/bin/env bash
# Overload protection and autoscaling, print-only (not a test):
#   1. overload-bench: one worker replica (RPCServer + Recommend from a ReplicaStore, as a worker process serves)
#      driven open-loop at MULTIPLIER x its measured capacity, admission control on vs off: admitted p50/p99,
#      shed and deadline counts, goodput;
#   2. overload-bench --autoscale: SchedulerCore.Autoscaler on a simulated load ramp, replicas over time.
# Usage: scripts/bench-overload.sh [--seconds S] [--multiplier M]     (CONFIG=debug for a debug build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFIG=${CONFIG:-release}
[[ -f data/ml-100k.inter ]] || scripts/fetch-ml100k.sh data
swift build -c "$CONFIG" --product overload-bench >&2
BIN=$(swift build -c "$CONFIG" --show-bin-path)/overload-bench
"$BIN" --data data/ml-100k.inter "$@" 2> >(grep -v ' info ' >&2)
echo
"$BIN" --autoscale
