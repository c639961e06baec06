#!/usr/bin/env bash
# Makes the Python virtual environment .venv with tests/python/requirements.txt: grpcio for the polyglot tests and
# demos, grpcio-tools (protoc and the descriptor classes) for scripts/gen-swift-messages.py; then the Python client
# package clients/python (`aimass`), whose stubs that grpcio-tools generates from proto/ at build time (no build
# isolation, so nothing beyond requirements.txt is downloaded). Safe to re-run.
#
# The client package is rebuilt only when what it is built from changed since the last install (its sources, the
# aimass/v1 protos, grpcio-tools' version): a re-run that changes nothing leaves the installed package untouched.
# scripts/run.sh reruns this (through install-deps.sh) while the Python tests, which import the package, run beside
# it; a reinstall there removes the package's files for a moment, and an import in another test failed on it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY="$ROOT/.venv/bin/python"
[[ -x "$PY" ]] || python3 -m venv "$ROOT/.venv"
"$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/tests/python/requirements.txt"

# The client's inputs, hashed: every file of clients/python but build output (as a clean checkout has it), the protos.
client_inputs_sha256() {
  cd "$ROOT"
  {
    find clients/python \( -name build -o -name dist -o -name '*.egg-info' -o -name __pycache__ -o -path '*/aimass/v1' \) \
      -prune -o -type f ! -name _build_info.py -print
    find proto/aimass/v1 -name '*.proto'
  } | LC_ALL=C sort | xargs sha256sum
  "$PY" -c 'from grpc_tools import grpc_version; print("grpcio-tools", grpc_version.VERSION)'
}
STAMP="$ROOT/.venv/aimass-client.sha256"
WANT=$(client_inputs_sha256 | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$STAMP" 2>/dev/null)" == "$WANT" ]] && "$PY" -c 'import aimass._build_info' 2>/dev/null; then
  exit 0
fi
"$PY" -m pip install -q --disable-pip-version-check --no-build-isolation "$ROOT/clients/python"
echo "$WANT" >"$STAMP"
