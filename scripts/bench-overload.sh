#!/usr/bin/env bash
# Overload protection and autoscaling, print-only (not a test):
#   1. overload-bench drive: one worker replica (RPCServer + Recommend from a ReplicaStore, as a worker process serves)
#      in its own process pinned to CPU $SERVER_CPU (default 0), driven from this process pinned to CPU $CLIENT_CPU
#      (default 1) over several connections, open-loop at MULTIPLIER x its measured capacity, each call with a
#      deadline (grpc-timeout), with three protections: gate+replica (the worker's: the transport call gate, then
#      the replica's admission), replica only, off (neither): sent / not sent by the generator, ok, shed (and where:
#      at the gate or at the replica), deadline, admitted p50/p99 from send to response, goodput;
#   2. overload-bench autoscale: SchedulerCore.Autoscaler on a simulated load ramp, replicas over time.
# Usage: scripts/bench-overload.sh [--seconds S] [--multiplier M] [--connections N] [--per-connection C]
#        [--deadline-ms D] [--repeat N] [--modes full,replica,off] [--closed-loop N ...]   (CONFIG=debug: debug build)
# SERVER_CPU_QUOTA=0.5 runs the server under a CPU quota of half a core (cgroup v1 cpu controller, 1 ms per 2 ms, needs
# root): a cheap model's server then costs the generator less than a third of its core per call served, so the
# generator can offer 3x the server's capacity without becoming the bottleneck itself. AUTOSCALE=0 skips part 2.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFIG=${CONFIG:-release}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
[[ -f data/ml-100k.inter ]] || scripts/fetch-ml100k.sh data
# overload-bench lives in the Benchmarks package (Benchmarks/Package.swift).
swift build -c "$CONFIG" --package-path Benchmarks --product overload-bench >&2
BIN=$(swift build -c "$CONFIG" --package-path Benchmarks --show-bin-path)/overload-bench
CGROUP_ARGS=()
if [[ -n "${SERVER_CPU_QUOTA:-}" ]]; then
  CGROUP=/sys/fs/cgroup/cpu/aimass-overload-bench
  mkdir -p "$CGROUP"
  # The kernel's smallest quota is 1 ms: 1 ms of CPU per period of 1/QUOTA ms (throttled at most 1/QUOTA - 1 ms).
  echo -1 > "$CGROUP/cpu.cfs_quota_us"
  awk -v q="$SERVER_CPU_QUOTA" 'BEGIN { printf "%d", 1000 / q }' | tee "$CGROUP/cpu.cfs_period_us" > /dev/null
  echo 1000 > "$CGROUP/cpu.cfs_quota_us"
  CGROUP_ARGS=(--server-cgroup "$CGROUP")
fi
taskset -c "$CLIENT_CPU" "$BIN" drive --server-cpu "$SERVER_CPU" "${CGROUP_ARGS[@]}" --data data/ml-100k.inter "$@" \
  2> >(grep -v ' info ' >&2)
if [[ "${AUTOSCALE:-1}" != 0 ]]; then
  echo
  "$BIN" autoscale
fi
