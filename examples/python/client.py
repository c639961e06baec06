#!/usr/bin/env python3
"""An AI Mass client in Python, on the `aimass` package (clients/python: pip install ./clients/python).

    python client.py --server 127.0.0.1:50051 --data-dir ../../aimass-data [--deploy]

Steps: create a model (an existing one is reused), upload the interactions file as a new version in chunks with
its SHA-256 and a progress line, optionally deploy it and wait until it is READY, ask SimilarItems and Recommend,
then print a few Mesh/Watch events.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
from pathlib import Path

try:
    import aimass
    from aimass.v1 import mesh_pb2, scheduler_pb2
except ImportError:
    sys.exit("the aimass package is missing: pip install ./clients/python (from the repository root)")

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "examples" / "dishes" / "interactions.tsv"


def read_token(args) -> str:
    if args.token:
        return args.token
    if os.environ.get("AIMASS_TOKEN"):
        return os.environ["AIMASS_TOKEN"]
    path = Path(args.data_dir or os.environ.get("AIMASS_DATA_DIR") or "aimass-data") / "admin.token"
    try:
        return path.read_text().strip()
    except OSError as e:
        sys.exit(f"no token: pass --token, set AIMASS_TOKEN, or point --data-dir at the server's data "
                 f"directory (could not read {path}: {e.strerror})")


def print_items(title: str, answer: aimass.Recommendations):
    print(f"{title} (version {answer.version}, served by {answer.worker_id or '?'}):")
    for rank, item in enumerate(answer.items, 1):
        print(f"  {rank}. {item.item_id:<24} {item.score:.4f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Upload, deploy, recommend and watch with AI Mass over gRPC.")
    ap.add_argument("--server", default=os.environ.get("AIMASS_SERVER", "127.0.0.1:50051"), help="HOST:PORT")
    ap.add_argument("--token", help="API token (default: $AIMASS_TOKEN, else DATA_DIR/admin.token)")
    ap.add_argument("--data-dir", help="the server's data directory, to read admin.token from")
    ap.add_argument("--model", default="dishes-python", help="model name (created if missing)")
    ap.add_argument("--file", type=Path, default=DEFAULT_DATA, help="interactions file to upload")
    ap.add_argument("--manifest", action="append", default=[], metavar="KEY=VALUE",
                    help="manifest entry (repeatable; default algorithm=itemcf neighbours=5)")
    ap.add_argument("--chunk-kib", type=int, default=64, help="upload chunk size in KiB (64-1024)")
    ap.add_argument("--item", default="kung_pao_chicken", help="item for SimilarItems")
    ap.add_argument("--user", default="alice", help="user for Recommend")
    ap.add_argument("-k", type=int, default=5, help="items to return")
    ap.add_argument("--deploy", action="store_true", help="deploy the new version and wait until it is READY")
    ap.add_argument("--watch-events", type=int, default=5, help="Mesh/Watch events to print (0 = skip)")
    ap.add_argument("--watch-seconds", type=float, default=3.0, help="stop watching after this long")
    ap.add_argument("--timeout", type=float, default=30.0, help="deadline of each unary call, seconds")
    args = ap.parse_args(argv)

    token = read_token(args)
    manifest = dict(kv.split("=", 1) for kv in (args.manifest or ["algorithm=itemcf", "neighbours=5"]))
    with aimass.Client(args.server, token=token, timeout=args.timeout) as client:
        try:
            run(client, args, manifest)
        except aimass.AIMassError as error:
            print(f"error: {error}", file=sys.stderr)
            if isinstance(error, aimass.FailedPrecondition) and not args.deploy:
                print("hint: the version may need a deployment; run again with --deploy", file=sys.stderr)
            return 1
        if args.watch_events > 0:
            watch(client, args.model, args.watch_events, args.watch_seconds)
    return 0


def run(client: aimass.Client, args, manifest: dict):
    # 1. The model (re-running reuses it).
    try:
        model = client.create_model(args.model, description="dishes ordered together (example client)",
                                    tags=["example", "dishes"], manifest=manifest)
        print(f"created model {model.name} (author {model.author})")
    except aimass.AlreadyExists:
        print(f"model {args.model} exists; adding a version")

    # 2. Upload: header (size + sha256), then chunks, with progress; the stored sha256 is checked.
    def progress(p: aimass.UploadProgress):
        print(f"\ruploading {args.file.name}: {p.sent_bytes}/{p.total_bytes} bytes", end="", file=sys.stderr)

    version = client.upload(args.model, args.file, manifest=manifest, chunk_size=args.chunk_kib * 1024,
                            description=f"uploaded by examples/python/client.py from {args.file.name}",
                            progress=progress)
    print(file=sys.stderr)
    print(f"uploaded {args.file.name}: version {version.number}, {version.size_bytes} bytes, "
          f"sha256 {version.sha256[:12]}…, manifest {dict(sorted(version.manifest.items()))}")

    # 3. Deploy (optional): returns at once; wait_for_deployment follows Mesh/Watch until READY.
    if args.deploy:
        try:
            deployment = client.deploy(args.model, version.number)
            print(f"deployed {deployment.id}: {scheduler_pb2.DeploymentState.Name(deployment.state)} "
                  f"{deployment.reason}".rstrip())
            deployment = client.wait_for_deployment(deployment.id, timeout=max(args.timeout, 60))
            print(f"deployment {deployment.id}: {scheduler_pb2.DeploymentState.Name(deployment.state)}, "
                  f"{deployment.ready_replicas}/{deployment.desired_replicas} replicas ready")
        except aimass.AlreadyExists:
            print(f"deployment of {args.model}@{version.number} exists already")

    # 4. Inference.
    print_items(f"similar to {args.item}", client.similar_items(args.model, args.item, k=args.k,
                                                                version=version.number))
    print_items(f"recommended for {args.user}", client.recommend(args.model, user_id=args.user, k=args.k,
                                                                 exclude_seen=True, version=version.number))


def watch(client: aimass.Client, model: str, max_events: int, seconds: float):
    """Prints up to max_events Mesh events (the snapshot first) within `seconds`."""
    events = client.watch(models=[model], heartbeat_interval_ms=500)
    timer = threading.Timer(seconds, events.close)  # a bound on the demo, not a synchronisation
    timer.start()
    seen = 0
    try:
        for event in itertools.islice(events, max_events):
            payload = event.WhichOneof("payload")
            if payload == "snapshot":
                s = event.snapshot
                detail = f"{len(s.workers)} workers, {len(s.deployments)} deployments, {len(s.replicas)} replicas"
            else:
                detail = str(getattr(event, payload)).replace("\n", " ").strip()[:100] if payload else ""
            print(f"mesh event rev {event.revision}: {mesh_pb2.EventKind.Name(event.kind)} {detail}".rstrip())
            seen += 1
    except aimass.AIMassError as error:
        print(f"Mesh/Watch: {error}")
        return
    finally:
        timer.cancel()
        events.close()
    print(f"Mesh/Watch: {seen} events")


if __name__ == "__main__":
    sys.exit(main())
