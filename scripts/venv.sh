#!/usr/bin/env bash
# Makes the Python virtual environment .venv with tests/python/requirements.txt: grpcio for the polyglot tests and
# demos, grpcio-tools (protoc and the descriptor classes) for scripts/gen-swift-messages.py; then the Python client
# package clients/python (`aimass`), whose stubs that grpcio-tools generates from proto/ at build time (no build
# isolation, so nothing beyond requirements.txt is downloaded; a re-run rebuilds it from the current protos).
# Safe to re-run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ -x "$ROOT/.venv/bin/python" ]] || python3 -m venv "$ROOT/.venv"
"$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/tests/python/requirements.txt"
"$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation "$ROOT/clients/python"
