#!/usr/bin/env bash
# Benchmarks and evaluates RecommendCore (release build of recommend-bench):
#   1. ML-100k: index build time, top-10 latency (median/p99), VmRSS and index size for several variants;
#   2. ML-100k: the evaluation grid (both protocols) as a Markdown table;
#   3. synthetic 10M interactions (100k users, 20k items, power-law items): ItemCF build and latency;
#   4. if PYTHON (default .venv/bin/python) can import `implicit`: implicit's CosineRecommender on the same data.
#   5. with --rounds N (needs `implicit`): N interleaved rounds on the synthetic set, each our ItemCF K 20 build
#      (a fresh `recommend-bench bench --synthetic` process) then implicit's fit in one Python process that loaded
#      the data once, so both see the same machine load; prints each round's ratio and the medians.
# Usage: [PYTHON=...] [BENCH_BIN=...] scripts/bench-recommend.sh [--no-synthetic] [--no-implicit] [--rounds N]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SYNTHETIC=1; IMPLICIT=1; ROUNDS=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-synthetic) SYNTHETIC=0 ;;
    --no-implicit) IMPLICIT=0 ;;
    --rounds) ROUNDS=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
DATA=$ROOT/data/ml-100k.inter
[[ -f "$DATA" ]] || scripts/fetch-ml100k.sh "$ROOT/data" >/dev/null
swift build -c release --package-path Benchmarks --product recommend-bench >/dev/null
BIN=${BENCH_BIN:-$(swift build -c release --package-path Benchmarks --show-bin-path)/recommend-bench}  # BENCH_BIN: compare another build
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "## machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## ML-100k bench"
for variant in "--algorithm itemcf --neighbours 20" "--algorithm itemcf --neighbours 50 --weighting iuf --normalize" \
               "--algorithm usercf --neighbours 20" "--algorithm usercf --neighbours 50 --weighting iif"; do
  # shellcheck disable=SC2086
  "$BIN" bench --data "$DATA" $variant
  echo
done

echo "## ML-100k evaluation grid (implicit feedback, seed 42)"
"$BIN" evaluate --data "$DATA" --grid
echo

if [[ $SYNTHETIC == 1 ]]; then
  echo "## synthetic 10M bench"
  "$BIN" bench --synthetic --algorithm itemcf --neighbours 20
  echo
fi

if [[ $IMPLICIT == 1 ]] && [[ -x "$PYTHON" ]] && "$PYTHON" -c "import implicit" 2>/dev/null; then
  echo "## implicit CosineRecommender"
  "$BIN" reference --data "$DATA" --algorithm itemcf --neighbours 20 --out "$TMP/ours.json"
  if [[ $SYNTHETIC == 1 ]]; then
    "$BIN" generate --out "$TMP/synthetic.tsv" >/dev/null
  fi
  OMP_NUM_THREADS=$(nproc) "$PYTHON" - "$DATA" "$TMP/ours.json" "$TMP/synthetic.tsv" <<'PY'
import json, os, resource, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
import scipy.sparse as sp
import implicit
from implicit.nearest_neighbours import CosineRecommender

def load(path):
    with open(path, "rb") as handle:
        handle.readline()  # header
        raw = np.array(handle.read().split(), dtype=np.int64)
    columns = 4 if path.endswith(".inter") else 2
    raw = raw.reshape(-1, columns)
    users, user_index = np.unique(raw[:, 0], return_inverse=True)
    items, item_index = np.unique(raw[:, 1], return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(raw), dtype=np.float32), (user_index, item_index)),
                           shape=(len(users), len(items)))
    matrix.data[:] = 1.0  # duplicates summed by csr_matrix: back to implicit 1
    return users, items, matrix

def run(path, ours_path=None):
    users, items, matrix = load(path)
    # implicit's K counts the item itself; K + 1 keeps 20 other neighbours like ours.
    model = CosineRecommender(K=21)
    start = time.perf_counter()
    model.fit(matrix, show_progress=False)
    build = time.perf_counter() - start
    rng = np.random.default_rng(7)
    latencies = []
    for u in rng.integers(0, len(users), 2000):
        start = time.perf_counter()
        model.recommend(u, matrix[u], N=10, filter_already_liked_items=True)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{os.path.basename(path)}: implicit {implicit.__version__} CosineRecommender(K=21) fit {build:.3f} s, "
          f"top-10 latency median {statistics.median(latencies)*1e6:.1f} µs p99 {latencies[int(len(latencies)*0.99)]*1e6:.1f} µs, "
          f"max RSS {rss:.0f} MiB")
    if ours_path:
        ours = json.load(open(ours_path))["users"]
        ids, _ = model.recommend(np.arange(len(users)), matrix, N=10, filter_already_liked_items=True)
        overlap = []
        for u, user in enumerate(users):
            mine = {item for item, _ in ours[str(user)]}
            theirs = {str(items[i]) for i in ids[u] if i >= 0}
            overlap.append(len(mine & theirs) / max(1, len(mine)))
        print(f"  top-10 overlap with RecommendCore itemcf K=20: mean {np.mean(overlap):.4f}, "
              f"identical sets {np.mean([o == 1.0 for o in overlap]):.4f}")

run(sys.argv[1], sys.argv[2])
if os.path.exists(sys.argv[3]):
    run(sys.argv[3])
PY
else
  echo "## implicit: not run (no $PYTHON with 'implicit' installed, or --no-implicit)"
fi

if [[ $ROUNDS -gt 0 ]] && [[ -x "$PYTHON" ]] && "$PYTHON" -c "import implicit" 2>/dev/null; then
  echo "## interleaved rounds: RecommendCore itemcf K 20 build vs implicit CosineRecommender(K=21) fit, synthetic 10M"
  "$BIN" generate --out "$TMP/rounds.tsv" >/dev/null
  OMP_NUM_THREADS=$(nproc) "$PYTHON" - "$BIN" "$TMP/rounds.tsv" "$ROUNDS" <<'PY'
import re, resource, statistics, subprocess, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
import scipy.sparse as sp
from implicit.nearest_neighbours import CosineRecommender

binary, path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "rb") as handle:
    handle.readline()
    raw = np.array(handle.read().split(), dtype=np.int64).reshape(-1, 2)
_, user_index = np.unique(raw[:, 0], return_inverse=True)
_, item_index = np.unique(raw[:, 1], return_inverse=True)
matrix = sp.csr_matrix((np.ones(len(raw), dtype=np.float32), (user_index, item_index)))
matrix.data[:] = 1.0
ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
for r in range(rounds):
    out = subprocess.run([binary, "bench", "--synthetic", "--algorithm", "itemcf", "--neighbours", "20"],
                         check=True, capture_output=True, text=True).stdout
    ours.append(float(re.search(r"index build: ([0-9.]+) s", out).group(1)))
    cores = re.search(r"([0-9.]+) cores busy", out).group(1)
    ours_cpu.append(float(re.search(r"CPU ([0-9.]+) s", out).group(1)))
    model = CosineRecommender(K=21)
    start, start_cpu = time.perf_counter(), cpu()
    model.fit(matrix, show_progress=False)
    theirs.append(time.perf_counter() - start)
    theirs_cpu.append(cpu() - start_cpu)
    load = open("/proc/loadavg").read().split()[0]
    print(f"round {r + 1}: ours {ours[-1]:.3f} s (CPU {ours_cpu[-1]:.3f} s, {cores} cores busy), "
          f"implicit {theirs[-1]:.3f} s (CPU {theirs_cpu[-1]:.3f} s), ratio {ours[-1] / theirs[-1]:.3f} "
          f"(CPU {ours_cpu[-1] / theirs_cpu[-1]:.3f}), load {load}", flush=True)
ratios = [a / b for a, b in zip(ours, theirs)]
print(f"median: ours {statistics.median(ours):.3f} s (min {min(ours):.3f}), implicit {statistics.median(theirs):.3f} s "
      f"(min {min(theirs):.3f}); ratio of medians {statistics.median(ours) / statistics.median(theirs):.3f}, "
      f"median per-round ratio {statistics.median(ratios):.3f}; CPU: ours median {statistics.median(ours_cpu):.3f} s, "
      f"implicit median {statistics.median(theirs_cpu):.3f} s, ratio {statistics.median(ours_cpu) / statistics.median(theirs_cpu):.3f}")
PY
fi
