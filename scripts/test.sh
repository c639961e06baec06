#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the Swift suites and the Python polyglot
# tests (grpcio clients and servers against ours on real loopback sockets).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
scripts/install-deps.sh
scripts/generate-protos.sh --check
# MovieLens-100k is real test data for both suites (Swift and Python): fetch it first.
scripts/fetch-ml100k.sh "$ROOT/data" >/dev/null
swift build --build-tests
swift test --skip-build
# The benchmarks and fuzz targets are their own package (Benchmarks/Package.swift, on this one by path): CI builds
# it (debug) so they keep compiling, and the Python tests run some of them (AIMASS_BENCH_BIN_DIR).
swift build --package-path Benchmarks
# The release configuration too: optimised builds have broken what debug builds did not (a protobuf-c struct
# packed from a copy), and the README's first command runs it (tests/python/test_run_serving.py).
swift build -c release
# In parallel (three pytest-xdist workers, a file whole on each): docs/testing.md has the soak beside a CPU hog that
# this rests on. AIMASS_TEST_WORKERS=0 runs it serially.
scripts/test-python.sh
