#!/usr/bin/env bash
# Benchmarks our gRPC server against the peer gRPC servers (C++ and Go by default) under the same
# h2load load in one run, with the shared harness (../shared/bench/run.sh): Health/Check and
# TestService/UnaryCall at 1x1, 16x10 and 64x100 (connections x streams), server pinned to CPU 0,
# h2load to CPU 1. Prints one table with req/s, latency and CPU per request for every peer.
#
#   scripts/bench-grpc.sh [extra run.sh options, e.g. --repeat 3 --peers cpp,go,nghttpd]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${BENCH_HARNESS:-$ROOT/../shared/bench/run.sh}
[[ -x "$HARNESS" ]] || { echo "the shared harness is missing: $HARNESS (set BENCH_HARNESS)" >&2; exit 1; }
cd "$ROOT"
swift build -c release --product aimass-interop
BIN="$(swift build -c release --show-bin-path)/aimass-interop"
# A copy, so that a rebuild during the run cannot change the binary under test.
cp "$BIN" /tmp/aimass-interop-bench
PORT=${BENCH_PORT:-50099}
# The idle spinner (ServerConfiguration.busyPollWindow) keeps the server's core out of idle for 2 ms after each
# read: the latency at concurrency 1 then no longer includes waking a halted vCPU. BUSY_POLL_US=0 turns it off.
BUSY_POLL_US=${BUSY_POLL_US:-2000}
exec "$HARNESS" --install --peers cpp,go \
  --start "aimass=$PORT=/tmp/aimass-interop-bench server --port $PORT --busy_poll_us $BUSY_POLL_US" "$@"
