#!/bin/bash
# Builds go_recommend, the grpc-go peer of aimass.v1.Recommend/Recommend, offline in GOPATH mode against Debian's
# golang-google-grpc-dev (1.33.3); the Go code of the project's protos is generated here, never committed.
#   build.sh [OUTDIR]   (default /tmp/aimass-bench/build/go-recommend; binary OUTDIR/go_recommend)
# Needs: apt-get install -y golang-go golang-google-grpc-dev golang-goprotobuf-dev protobuf-compiler
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
protos=$(cd "$here/../../../proto" && pwd)
out=${1:-/tmp/aimass-bench/build/go-recommend}
inputs=("$here/main.go" "$here/build.sh" "$protos/aimass/v1/recommend.proto" "$protos/aimass/v1/common.proto")
if [[ -x "$out/go_recommend" ]]; then
  stale=0
  for f in "${inputs[@]}"; do [[ "$f" -nt "$out/go_recommend" ]] && stale=1; done
  if [[ $stale == 0 ]]; then echo "go_recommend up to date"; exit 0; fi
fi
gp="$out/gopath"; pkg="$gp/src/gorecommend/aimassv1"
rm -rf "$gp" "$out/gen"; mkdir -p "$pkg" "$gp/src/gorecommend/server" "$out/gen"
M="Maimass/v1/common.proto=gorecommend/aimassv1,Maimass/v1/recommend.proto=gorecommend/aimassv1"
protoc -I"$protos" --plugin=protoc-gen-go=/usr/bin/protoc-gen-go \
  --go_out="plugins=grpc,paths=source_relative,$M:$out/gen" \
  aimass/v1/common.proto aimass/v1/recommend.proto
cp "$out"/gen/aimass/v1/*.pb.go "$pkg/"
cp "$here/main.go" "$gp/src/gorecommend/server/"
cd "$gp/src/gorecommend/server"
GO111MODULE=off GOPATH="$gp:/usr/share/gocode" GOCACHE="$out/cache" GOFLAGS= go build -o "$out/go_recommend" .
echo "built $out/go_recommend"
