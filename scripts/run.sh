#!/usr/bin/env bash
# Installs what is missing, builds AI Mass, and runs the platform on the embedded defaults: one
# process, a data directory (./aimass-data unless AIMASS_DATA_DIR says otherwise), nothing else to
# start. Extra arguments go to `aimass serve` (e.g. --port 0). Ctrl-C stops it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
scripts/install-deps.sh
swift build -c release --product aimass
BIN="$(swift build -c release --show-bin-path)/aimass"
exec "$BIN" serve --data-dir "${AIMASS_DATA_DIR:-$ROOT/aimass-data}" "$@"
