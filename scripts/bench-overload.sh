#!/usr/bin/env bash
# Overload protection and autoscaling, print-only (not a test):
#   1. overload-bench: one worker replica (RPCServer + Recommend from a ReplicaStore, as a worker process serves)
#      in its own process pinned to CPU $SERVER_CPU (default 0), driven from this process pinned to CPU $CLIENT_CPU
#      (default 1) over several connections, open-loop at MULTIPLIER x its measured capacity, each call with a
#      deadline (grpc-timeout), with three protections: gate+replica (the worker's: the transport call gate, then
#      the replica's admission), replica only, off (neither): sent / not sent by the generator, ok, shed (and where:
#      at the gate or at the replica), deadline, admitted p50/p99 from send to response, goodput;
#   2. overload-bench --autoscale: SchedulerCore.Autoscaler on a simulated load ramp, replicas over time.
# Usage: scripts/bench-overload.sh [--seconds S] [--multiplier M] [--connections N] [--per-connection C]
#        [--deadline-ms D] [--repeat N [--yield]] [--modes full,replica,off]     (CONFIG=debug for a debug build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFIG=${CONFIG:-release}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
[[ -f data/ml-100k.inter ]] || scripts/fetch-ml100k.sh data
swift build -c "$CONFIG" --product overload-bench >&2
BIN=$(swift build -c "$CONFIG" --show-bin-path)/overload-bench
taskset -c "$CLIENT_CPU" "$BIN" --server-cpu "$SERVER_CPU" --data data/ml-100k.inter "$@" 2> >(grep -v ' info ' >&2)
echo
"$BIN" --autoscale
