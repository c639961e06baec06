#!/usr/bin/env bash
# What TLS costs the server per call and per connection, print-only (not a test): builds `aimass-interop` (release)
# and runs scripts/bench_tls.py (see its docstring), which compares a plaintext server with TLS servers holding an
# ECDSA P-256 and an RSA-2048 certificate, the server pinned to CPU $SERVER_CPU (0) and h2load to $CLIENT_CPU (1).
#
# Usage: scripts/bench-tls.sh [--repeat N] [--seconds S] [--connections N]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFIG=${CONFIG:-release}
command -v h2load >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; }
swift build -c "$CONFIG" --product aimass-interop >&2
BIN=$(swift build -c "$CONFIG" --show-bin-path)/aimass-interop
ulimit -n "$(ulimit -Hn)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs" >&2
"${PYTHON:-.venv/bin/python}" scripts/bench_tls.py --bin "$BIN" "$@"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
