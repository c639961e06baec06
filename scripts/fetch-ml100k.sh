#!/usr/bin/env bash
# Brings MovieLens-100k (the RecBole atomic file ml-100k.inter) into DIR, from the recbole 1.2.1 wheel
# on PyPI, checking sha256 of both the wheel and the file. A second run with the file present is a no-op.
#
#   scripts/fetch-ml100k.sh DIR     -> DIR/ml-100k.inter
set -euo pipefail
DIR=${1:?usage: scripts/fetch-ml100k.sh DIR}
PYTHON=${PYTHON:-python3}
FILE_SHA256=4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff
WHEEL_SHA256=9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407
TARGET="$DIR/ml-100k.inter"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$TARGET" && "$(sha256_of "$TARGET")" == "$FILE_SHA256" ]]; then
  exit 0
fi
mkdir -p "$DIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" -m pip download -q --no-deps --only-binary=:all: --disable-pip-version-check -d "$WORK" "recbole==1.2.1"
WHEEL=$(ls "$WORK"/recbole-1.2.1-*.whl)
[[ "$(sha256_of "$WHEEL")" == "$WHEEL_SHA256" ]] || { echo "fetch-ml100k: wheel checksum mismatch" >&2; exit 1; }
"$PYTHON" -c 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
  "$WHEEL" recbole/dataset_example/ml-100k/ml-100k.inter "$WORK/ml-100k.inter"
[[ "$(sha256_of "$WORK/ml-100k.inter")" == "$FILE_SHA256" ]] || { echo "fetch-ml100k: file checksum mismatch" >&2; exit 1; }
mv "$WORK/ml-100k.inter" "$TARGET"
echo "fetched $TARGET"
