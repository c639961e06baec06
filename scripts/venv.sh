#!/usr/bin/env bash
# Makes the Python virtual environment .venv with tests/python/requirements.txt: grpcio for the polyglot tests and
# demos, grpcio-tools (protoc and the descriptor classes) for scripts/gen-swift-messages.py. Safe to re-run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ -x "$ROOT/.venv/bin/python" ]] || python3 -m venv "$ROOT/.venv"
"$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/tests/python/requirements.txt"
