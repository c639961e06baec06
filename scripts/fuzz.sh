#!/usr/bin/env bash
# Builds libFuzzer targets of the Benchmarks package (with AddressSanitizer) in their own scratch path, .build-fuzz,
# and fuzzes each for N seconds (or N runs).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default 30 s, target `deframer`; `all` for every target
#   FUZZ_RUNS=10000000 scripts/fuzz.sh 0 messages    a number of inputs instead of a time
#   FUZZ_CONFIG=release scripts/fuzz.sh ...          an optimised build (for long runs)
#   FUZZ_FORKS=2 ...                                 libFuzzer's fork mode: that many worker processes, one corpus;
#                                                    FUZZ_RUNS then counts the inputs of all of them together
#
# Targets: deframer (MessageDeframer + protobuf-c decoding of the interop/health messages), messages (the aimass.v1
# requests: Join, UploadVersion, Watch, Recommend), headers (nghttp2's HPACK decoding + the server's header path).
# Exit status non-zero when a crash was found. New corpus entries go to .build-fuzz/corpus/TARGET (kept between
# runs); the checked-in seeds in Tests/FuzzCorpus/TARGET are read too. A crashing input is written to
# .build-fuzz/artifacts/; replay it with a plain build: `swift build --package-path Benchmarks --product fuzz-TARGET
# && Benchmarks/.build/debug/fuzz-TARGET FILE`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${1:-30}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=(deframer)
[[ ${TARGETS[0]} == all ]] && TARGETS=(deframer messages headers)
CONFIG=${FUZZ_CONFIG:-debug}
SCRATCH=.build-fuzz

for target in "${TARGETS[@]}"; do
    swift build -c "$CONFIG" --package-path Benchmarks --product "fuzz-$target" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --scratch-path "$SCRATCH"
done

# A crash report from libFuzzer's own handler (with ASan's symbolised stack), not from Swift's backtracer: that one
# reads other threads' stacks, which ASan reports as a stack-buffer-underflow in CrashHandlerLinux.cpp, hiding the
# real failure (a trapped precondition, say).
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}

ARTIFACTS="$SCRATCH/artifacts"
mkdir -p "$ARTIFACTS"
LIMIT=(-max_total_time="$DURATION")
[[ -n ${FUZZ_RUNS:-} ]] && LIMIT=(-runs="$FUZZ_RUNS")
[[ -n ${FUZZ_FORKS:-} ]] && LIMIT+=(-fork="$FUZZ_FORKS")
for target in "${TARGETS[@]}"; do
    CORPUS="$SCRATCH/corpus/$target"
    mkdir -p "$CORPUS"
    SEEDS=()
    [[ -d Tests/FuzzCorpus/$target ]] && SEEDS=("Tests/FuzzCorpus/$target")
    echo "== fuzz-$target"
    # -max_len above 64 KiB + 5 so that the deframer's size limit itself can be reached.
    "$SCRATCH/$CONFIG/fuzz-$target" \
        "${LIMIT[@]}" \
        -max_len=70000 \
        -len_control=200 \
        -timeout=10 \
        -rss_limit_mb=2048 \
        -print_final_stats=1 \
        -artifact_prefix="$ARTIFACTS/$target-" \
        "$CORPUS" "${SEEDS[@]}"
done
