#!/usr/bin/env bash
# Builds the libFuzzer target `fuzz-deframer` of the Benchmarks package (MessageDeframer + protobuf-c decoding,
# with AddressSanitizer) in its own scratch path, .build-fuzz, and fuzzes it for N seconds.
#
#   scripts/fuzz.sh [SECONDS]        default 30; exit status non-zero when a crash was found
#
# New corpus entries go to .build-fuzz/corpus/deframer (kept between runs); the checked-in seeds in
# Tests/FuzzCorpus/deframer are read too. A crashing input is written to .build-fuzz/artifacts/;
# replay it with a plain build: `swift build --package-path Benchmarks --product fuzz-deframer &&
# Benchmarks/.build/debug/fuzz-deframer FILE`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${1:-30}
SCRATCH=.build-fuzz

swift build -c debug --package-path Benchmarks --product fuzz-deframer \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --scratch-path "$SCRATCH"

CORPUS="$SCRATCH/corpus/deframer"
ARTIFACTS="$SCRATCH/artifacts"
mkdir -p "$CORPUS" "$ARTIFACTS"
SEEDS=()
[[ -d Tests/FuzzCorpus/deframer ]] && SEEDS=(Tests/FuzzCorpus/deframer)

# -max_len above 64 KiB + 5 so that the size limit itself can be reached.
exec "$SCRATCH/debug/fuzz-deframer" \
    -max_total_time="$DURATION" \
    -max_len=70000 \
    -len_control=200 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    -artifact_prefix="$ARTIFACTS/" \
    "$CORPUS" "${SEEDS[@]}"
