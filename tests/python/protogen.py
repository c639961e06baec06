"""Generates flat Python stubs from the repository's proto/ folder at test time.

Stubs generated from grpc/testing/*.proto would land in a Python package named `grpc`, which
shadows grpcio itself, so the protos are copied flat (no grpc/... folders) into a temporary folder
and their imports rewritten before grpc_tools.protoc runs.

Our health.proto defines the same message names as the health.proto that grpcio-health-checking
ships (grpc.health.v1.HealthCheckRequest, ...). Both in one process would collide in protobuf's
default descriptor pool, so the flat copy of ours is moved to the package `aimass.pytests.health.v1`.
The wire format does not depend on the package; the tests call `/grpc.health.v1.Health/List`
by its real path (see HEALTH_LIST_PATH) with these messages.
"""

from __future__ import annotations

import importlib
import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO_ROOT / "proto"

PROTOS = {
    "empty.proto": "grpc/testing/empty.proto",
    "messages.proto": "grpc/testing/messages.proto",
    "test.proto": "grpc/testing/test.proto",
    "aimass_health.proto": "grpc/health/v1/health.proto",
}

HEALTH_LIST_PATH = "/grpc.health.v1.Health/List"

_IMPORT_RE = re.compile(r'import\s+"grpc/(?:testing|health/v1)/([A-Za-z0-9_]+\.proto)"\s*;')


def generate(out_dir: Path, proto_root: Path = PROTO_ROOT) -> Path:
    """Writes flat *_pb2.py / *_pb2_grpc.py modules into out_dir and returns it."""
    from grpc_tools import protoc  # imported lazily: the interop server subprocess may not need it

    out_dir = Path(out_dir)
    src = out_dir / "proto_flat"
    src.mkdir(parents=True, exist_ok=True)
    for flat_name, rel in PROTOS.items():
        path = proto_root / rel
        if not path.is_file():
            raise FileNotFoundError(f"proto missing: {path}")
        text = path.read_text()
        text = _IMPORT_RE.sub(lambda m: f'import "{m.group(1)}";', text)
        if flat_name == "aimass_health.proto":
            text, n = re.subn(r"^package\s+grpc\.health\.v1\s*;", "package aimass.pytests.health.v1;", text,
                              flags=re.M)
            if n != 1:
                raise RuntimeError("health.proto: expected `package grpc.health.v1;`")
        (src / flat_name).write_text(text)
    args = ["grpc_tools.protoc", f"-I{src}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"]
    args += sorted(PROTOS)
    # protoc resolves the file names relative to -I; run it from the source folder.
    rc = protoc.main(args + [])
    if rc != 0:
        raise RuntimeError(f"grpc_tools.protoc failed with exit code {rc}: {' '.join(args)}")
    return out_dir


def load(out_dir: Path) -> SimpleNamespace:
    """Imports the generated modules from out_dir (adding it to sys.path once)."""
    out = str(Path(out_dir))
    if out not in sys.path:
        sys.path.insert(0, out)
    names = ["empty_pb2", "messages_pb2", "test_pb2", "test_pb2_grpc", "aimass_health_pb2"]
    mods = {n: importlib.import_module(n) for n in names}
    return SimpleNamespace(
        dir=out,
        empty_pb2=mods["empty_pb2"],
        messages_pb2=mods["messages_pb2"],
        test_pb2=mods["test_pb2"],
        test_pb2_grpc=mods["test_pb2_grpc"],
        health_pb2=mods["aimass_health_pb2"],
    )


def generate_and_load(out_dir: Path) -> SimpleNamespace:
    generate(out_dir)
    return load(out_dir)


# -- the AI Mass API (aimass/v1) ---------------------------------------------------------------

AIMASS_PROTOS = ["aimass/v1/common.proto", "aimass/v1/registry.proto"]


def generate_aimass(out_dir: Path, proto_root: Path = PROTO_ROOT, protos=None) -> Path:
    """Writes the aimass.v1 stubs (package folders `aimass/v1/*_pb2*.py`) into out_dir and returns it.

    These protos import only each other, so protoc runs on proto/ directly (no flat copy needed); a
    separate out_dir keeps them apart from the flat grpc.testing stubs.
    """
    from grpc_tools import protoc

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    protos = list(protos or AIMASS_PROTOS)
    for rel in protos:
        if not (proto_root / rel).is_file():
            raise FileNotFoundError(f"proto missing: {proto_root / rel}")
    args = ["grpc_tools.protoc", f"-I{proto_root}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"]
    rc = protoc.main(args + protos)
    if rc != 0:
        raise RuntimeError(f"grpc_tools.protoc failed with exit code {rc}: {' '.join(args + protos)}")
    return out_dir


def load_aimass(out_dir: Path) -> SimpleNamespace:
    """Imports aimass.v1 common_pb2, registry_pb2 and registry_pb2_grpc from out_dir."""
    out = str(Path(out_dir))
    if out not in sys.path:
        sys.path.insert(0, out)
    common = importlib.import_module("aimass.v1.common_pb2")
    registry = importlib.import_module("aimass.v1.registry_pb2")
    registry_grpc = importlib.import_module("aimass.v1.registry_pb2_grpc")
    return SimpleNamespace(dir=out, common_pb2=common, registry_pb2=registry, registry_pb2_grpc=registry_grpc)
