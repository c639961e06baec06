#!/usr/bin/env bash
# Benchmarks and evaluates RecommendCore (release build of recommend-bench):
#   1. ML-100k: index build time, top-10 latency (median/p99), VmRSS and index size for several variants;
#   2. ML-100k: the evaluation grid (both protocols) as a Markdown table;
#   3. synthetic 10M interactions (100k users, 20k items, power-law items): ItemCF build and latency;
#   4. if PYTHON (default .venv/bin/python) can import `implicit`: implicit's CosineRecommender on the same data.
# Usage: scripts/bench-recommend.sh [--no-synthetic] [--no-implicit]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SYNTHETIC=1; IMPLICIT=1
for arg in "$@"; do
  case "$arg" in
    --no-synthetic) SYNTHETIC=0 ;;
    --no-implicit) IMPLICIT=0 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
DATA=$ROOT/data/ml-100k.inter
[[ -f "$DATA" ]] || scripts/fetch-ml100k.sh "$ROOT/data" >/dev/null
swift build -c release --product recommend-bench >/dev/null
BIN=$(swift build -c release --show-bin-path)/recommend-bench
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
