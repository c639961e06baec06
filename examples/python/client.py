#!/usr/bin/env python3
"""A standalone Python client of AI Mass, with stubs generated from proto/ at start.

    python client.py --server 127.0.0.1:50051 --data-dir ../../aimass-data [--deploy]

Steps: create a model (an existing one is reused), upload the interactions file as a new version in
chunks with its SHA-256, optionally deploy it (Scheduler/Deploy), ask SimilarItems and Recommend,
then watch Mesh/Watch for a few events. Calls a server does not implement yet (UNIMPLEMENTED) are
reported and skipped. Needs only `pip install grpcio grpcio-tools`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import grpc

HERE = Path(__file__).resolve().parent
DEFAULT_PROTO_ROOT = HERE.parents[1] / "proto"
DEFAULT_DATA = HERE.parents[1] / "examples" / "dishes" / "interactions.tsv"
PROTOS = ["common", "registry", "scheduler", "recommend", "mesh"]   # proto/aimass/v1/<name>.proto


def generate_stubs(proto_root: Path, out_dir: Path):
    """Copies proto/aimass/v1/*.proto flat as aimass_<name>.proto (so no generated package can shadow
    an installed one, e.g. grpcio's `grpc`), rewrites their imports, runs grpc_tools.protoc and imports
    the modules. Returns a dict name -> (messages module, services module)."""
    import importlib

    from grpc_tools import protoc

    src = out_dir / "proto"
    src.mkdir(parents=True)
    for name in PROTOS:
        text = (proto_root / "aimass" / "v1" / f"{name}.proto").read_text()
        text = re.sub(r'import\s+"aimass/v1/(\w+)\.proto"\s*;', r'import "aimass_\1.proto";', text)
        (src / f"aimass_{name}.proto").write_text(text)
    files = [f"aimass_{name}.proto" for name in PROTOS]
    rc = protoc.main(["grpc_tools.protoc", f"-I{src}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
                      *files])
    if rc != 0:
        sys.exit(f"grpc_tools.protoc failed (exit {rc}) on {src}")
    sys.path.insert(0, str(out_dir))
    return {name: (importlib.import_module(f"aimass_{name}_pb2"), importlib.import_module(f"aimass_{name}_pb2_grpc"))
            for name in PROTOS}


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


def status_text(err: grpc.RpcError) -> str:
    return f"{err.code().name}: {err.details()}"


def upload_requests(reg_pb, model: str, data: bytes, chunk_size: int, manifest: dict, description: str):
    yield reg_pb.UploadVersionRequest(header=reg_pb.VersionHeader(
        model=model, description=description, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
        manifest=manifest))
    for offset in range(0, len(data), chunk_size):
        yield reg_pb.UploadVersionRequest(chunk=data[offset:offset + chunk_size])


def print_items(title: str, resp):
    served = resp.served_by
    print(f"{title} (version {served.version}, served by {served.worker_id or '?'}):")
    for rank, item in enumerate(resp.items, 1):
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
    ap.add_argument("--deploy", action="store_true", help="deploy the new version with Scheduler/Deploy")
    ap.add_argument("--watch-events", type=int, default=5, help="Mesh/Watch events to print (0 = skip)")
    ap.add_argument("--watch-seconds", type=float, default=3.0, help="stop watching after this long")
    ap.add_argument("--timeout", type=float, default=30.0, help="deadline of each unary call, seconds")
    ap.add_argument("--proto-root", type=Path, default=DEFAULT_PROTO_ROOT, help="folder holding aimass/v1/*.proto")
    args = ap.parse_args(argv)

    token = read_token(args)
    manifest = dict(kv.split("=", 1) for kv in (args.manifest or ["algorithm=itemcf", "neighbours=5"]))
    stub_dir = Path(tempfile.mkdtemp(prefix="aimass-pystubs-"))
    try:
        stubs = generate_stubs(args.proto_root, stub_dir)
        return run(args, token, manifest, stubs)
    finally:
        shutil.rmtree(stub_dir, ignore_errors=True)


def run(args, token: str, manifest: dict, stubs) -> int:
    common_pb, _ = stubs["common"]
    reg_pb, reg_grpc = stubs["registry"]
    sched_pb, sched_grpc = stubs["scheduler"]
    rec_pb, rec_grpc = stubs["recommend"]
    mesh_pb, mesh_grpc = stubs["mesh"]
    md = [("authorization", f"Bearer {token}")]
    t = args.timeout

    with grpc.insecure_channel(args.server) as channel:
        registry = reg_grpc.ModelRegistryStub(channel)
        scheduler = sched_grpc.SchedulerStub(channel)
        recommend = rec_grpc.RecommendStub(channel)
        mesh = mesh_grpc.MeshStub(channel)
        try:
            # 1. The model (re-running reuses it).
            try:
                model = registry.CreateModel(reg_pb.CreateModelRequest(model=reg_pb.Model(
                    name=args.model, description="dishes ordered together (example client)",
                    tags=["example", "dishes"], manifest=manifest)), metadata=md, timeout=t)
                print(f"created model {model.name} (author {model.author})")
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.ALREADY_EXISTS:
                    raise
                print(f"model {args.model} exists; adding a version")

            # 2. Upload: header (size + sha256), then chunks; client streaming.
            data = args.file.read_bytes()
            version = registry.UploadVersion(
                upload_requests(reg_pb, args.model, data, args.chunk_kib * 1024, manifest,
                                f"uploaded by examples/python/client.py from {args.file.name}"),
                metadata=md, timeout=max(t, 120))
            print(f"uploaded {args.file.name}: version {version.number}, {version.size_bytes} bytes, "
                  f"sha256 {version.sha256[:12]}…, manifest {dict(sorted(version.manifest.items()))}")
            selector = common_pb.VersionSelector(number=version.number)

            # 3. Deploy (optional).
            if args.deploy:
                deploy(scheduler, sched_pb, args.model, selector, md, t)

            # 4. Inference.
            similar = recommend.SimilarItems(rec_pb.SimilarItemsRequest(
                model=args.model, version=selector, item_id=args.item, k=args.k), metadata=md, timeout=t)
            print_items(f"similar to {args.item}", similar)
            recs = recommend.Recommend(rec_pb.RecommendRequest(
                model=args.model, version=selector, user_id=args.user, k=args.k, exclude_seen=True),
                metadata=md, timeout=t)
            print_items(f"recommended for {args.user}", recs)
        except grpc.RpcError as err:
            print(f"error: {status_text(err)}", file=sys.stderr)
            if err.code() == grpc.StatusCode.FAILED_PRECONDITION and not args.deploy:
                print("hint: the version may need a deployment; run again with --deploy", file=sys.stderr)
            return 1

        # 5. The mesh event stream.
        if args.watch_events > 0:
            watch(mesh, mesh_pb, args.model, args.watch_events, args.watch_seconds, md)
    return 0


def deploy(scheduler, sched_pb, model: str, selector, md, timeout: float):
    try:
        dep = scheduler.Deploy(sched_pb.DeployRequest(model=model, version=selector, min_replicas=1, max_replicas=1),
                               metadata=md, timeout=timeout)
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.UNIMPLEMENTED:
            print("Scheduler/Deploy: not implemented by this server (the embedded server loads versions on "
                  "demand); continuing without a deployment")
            return
        if err.code() == grpc.StatusCode.ALREADY_EXISTS:
            print(f"deployment of {model} exists already")
            return
        raise
    name = sched_pb.DeploymentState.Name
    print(f"deployed {dep.id}: {name(dep.state)} {dep.reason}".rstrip())
    deadline = time.monotonic() + timeout
    while dep.state != sched_pb.DEPLOYMENT_STATE_READY and time.monotonic() < deadline:
        time.sleep(0.2)
        dep = scheduler.GetDeployment(sched_pb.GetDeploymentRequest(id=dep.id), metadata=md, timeout=timeout)
    print(f"deployment {dep.id}: {name(dep.state)}, {dep.ready_replicas}/{dep.desired_replicas} replicas ready")


def watch(mesh, mesh_pb, model: str, max_events: int, seconds: float, md):
    call = mesh.Watch(mesh_pb.WatchRequest(models=[model], heartbeat_interval_ms=500), metadata=md, timeout=seconds)
    seen = 0
    try:
        for event in call:
            kind = mesh_pb.EventKind.Name(event.kind)
            payload = event.WhichOneof("payload")
            detail = ""
            if payload == "snapshot":
                s = event.snapshot
                detail = f"{len(s.workers)} workers, {len(s.deployments)} deployments, {len(s.replicas)} replicas"
            elif payload is not None:
                detail = str(getattr(event, payload)).replace("\n", " ").strip()[:100]
            print(f"mesh event rev {event.revision}: {kind} {detail}".rstrip())
            seen += 1
            if seen >= max_events:
                call.cancel()
                break
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.UNIMPLEMENTED:
            print("Mesh/Watch: not implemented by this server yet; skipped")
            return
        if err.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            print(f"Mesh/Watch: stopped after {seconds:g} s ({seen} events)")
            return
        if err.code() != grpc.StatusCode.CANCELLED:
            print(f"Mesh/Watch: {status_text(err)}")
            return
    print(f"Mesh/Watch: {seen} events")


if __name__ == "__main__":
    sys.exit(main())
