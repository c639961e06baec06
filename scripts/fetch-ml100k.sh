#!/usr/bin/env bash
# Brings MovieLens-100k as RecBole packages it into DIR, from the recbole 1.2.1 wheel on PyPI, checking sha256 of
# the wheel and of each file: the interactions (ml-100k.inter), the user attributes (ml-100k.user: age, gender,
# occupation, zip code) and the item attributes (ml-100k.item: title, release year, genres). A second run with the
# files present is a no-op.
#
#   scripts/fetch-ml100k.sh DIR     -> DIR/ml-100k.inter, DIR/ml-100k.user, DIR/ml-100k.item
set -euo pipefail
DIR=${1:?usage: scripts/fetch-ml100k.sh DIR}
PYTHON=${PYTHON:-python3}
WHEEL_SHA256=9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407
declare -A FILE_SHA256=(
  [ml-100k.inter]=4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff
  [ml-100k.user]=4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972
  [ml-100k.item]=51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532
)

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

missing=()
for name in "${!FILE_SHA256[@]}"; do
  if [[ ! -f "$DIR/$name" || "$(sha256_of "$DIR/$name")" != "${FILE_SHA256[$name]}" ]]; then
    missing+=("$name")
  fi
done
(( ${#missing[@]} == 0 )) && exit 0
mkdir -p "$DIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" -m pip download -q --no-deps --only-binary=:all: --disable-pip-version-check -d "$WORK" "recbole==1.2.1"
WHEEL=$(ls "$WORK"/recbole-1.2.1-*.whl)
[[ "$(sha256_of "$WHEEL")" == "$WHEEL_SHA256" ]] || { echo "fetch-ml100k: wheel checksum mismatch" >&2; exit 1; }
for name in "${missing[@]}"; do
  "$PYTHON" -c 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
    "$WHEEL" "recbole/dataset_example/ml-100k/$name" "$WORK/$name"
  [[ "$(sha256_of "$WORK/$name")" == "${FILE_SHA256[$name]}" ]] || { echo "fetch-ml100k: $name checksum mismatch" >&2; exit 1; }
  mv "$WORK/$name" "$DIR/$name"
  echo "fetched $DIR/$name"
done
