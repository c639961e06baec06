#!/usr/bin/env bash
# Autoscaling on real processes, print-only (not a test): `aimass serve` (embedded, one local worker with 8
# replica slots) with a 6 s stable / 1 s panic autoscaler window, ML-100k deployed with --min 1 --max 6
# --target-concurrency 2, and a ramp of concurrent Recommend callers (baskets of 200 seed items by default;
# 1 -> 4 -> 12 -> 2 -> 0, 8 s each, then 20 s idle). Prints `t callers desired ready calls/s reported state`
# every second and a summary per phase. See docs/scheduler.md (Autoscaling on real processes).
# Usage: scripts/bench-autoscale.sh [--phase-seconds S] [--ramp 1,4,12,2,0] [--seeds N] [--k K] [--stable-ms N]
#        [--panic-ms N] [--tail-seconds S]     (CONFIG=release for a release build; PYTHON overrides .venv/bin/python)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CONFIG=${CONFIG:-debug}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
[[ -x "$PYTHON" ]] || { echo "no $PYTHON: run scripts/install-deps.sh (or set PYTHON)" >&2; exit 1; }
[[ -f data/ml-100k.inter ]] || scripts/fetch-ml100k.sh data
swift build -c "$CONFIG" --product aimass >&2
exec "$PYTHON" scripts/autoscale_ramp.py --bin "$(swift build -c "$CONFIG" --show-bin-path)" "$@"
