#!/usr/bin/env bash
# Installs what AI Mass needs on Debian 12 and is missing: the C libraries and tools (apt), and a
# Python virtual environment in .venv with grpcio for the polyglot tests and demos. Safe to re-run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
APT_PACKAGES=(libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libsqlite3-dev libssl-dev
  pkg-config nghttp2-client python3-venv openssl chromium chromium-driver prometheus etcd-server etcd-client)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
"$ROOT/scripts/venv.sh"
