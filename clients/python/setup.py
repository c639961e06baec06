"""Build step of the `aimass` package: generates the aimass.v1 gRPC stubs from the repository's .proto files.

Nothing generated is committed. The build finds the protos, in this order:
  1. $AIMASS_PROTO_DIR (a folder holding aimass/v1/*.proto),
  2. ./proto next to this file (an sdist carries a copy there, see `SdistWithProtos`),
  3. ../../proto (a checkout: this file is clients/python/setup.py; pip >= 21.3 builds a local folder in place).
It runs grpcio-tools' protoc on them into the build folder as the subpackage `aimass.v1` (`*_pb2.py`, `*_pb2.pyi`,
`*_pb2_grpc.py`), and writes `aimass/_build_info.py` with the SHA-256 of the protos it used, so a test can tell a
stale install from a current one. Runtime requirements follow the grpcio-tools of the build: the generated code
refuses an older grpcio or protobuf than the ones it was generated for.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
API_DIR = Path("aimass") / "v1"  # relative to the proto root, and the generated subpackage's path


def find_proto_root() -> Path:
    """The first folder holding aimass/v1/*.proto among $AIMASS_PROTO_DIR, ./proto and ../../proto."""
    candidates = []
    if os.environ.get("AIMASS_PROTO_DIR"):
        candidates.append(Path(os.environ["AIMASS_PROTO_DIR"]))
    candidates += [HERE / "proto", HERE.parent.parent / "proto"]
    for root in candidates:
        if any((root / API_DIR).glob("*.proto")):
            return root.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise SystemExit(f"aimass: no aimass/v1/*.proto found (tried {tried}); build from a checkout of the "
                     "repository (pip install ./clients/python) or set AIMASS_PROTO_DIR to its proto/ folder")


def proto_files(root: Path) -> list:
    """aimass/v1/*.proto relative to root, sorted (the names protoc sees and the descriptors record)."""
    return sorted(str(p.relative_to(root)) for p in (root / API_DIR).glob("*.proto"))


def protos_sha256(root: Path) -> str:
    """One SHA-256 over the names and contents of the protos, in order."""
    digest = hashlib.sha256()
    for name in proto_files(root):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def generate_stubs(out_dir: Path) -> None:
    """Runs protoc from grpcio-tools on the protos into out_dir/aimass/v1 and writes out_dir/aimass/_build_info.py."""
    from grpc_tools import grpc_version, protoc

    root = find_proto_root()
    files = proto_files(root)
    package_dir = out_dir / API_DIR
    if package_dir.exists():
        shutil.rmtree(package_dir)  # a proto removed since the last build must not leave its stub behind
    package_dir.mkdir(parents=True)
    args = ["grpc_tools.protoc", f"-I{root}", f"--python_out={out_dir}", f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}", *files]
    rc = protoc.main(args)
    if rc != 0:
        raise SystemExit(f"aimass: grpc_tools.protoc failed with exit code {rc}: {' '.join(args)}")
    (package_dir / "__init__.py").write_text(
        '"""The aimass.v1 messages and gRPC stubs, generated from proto/aimass/v1 when the package was built."""\n')
    (out_dir / "aimass" / "_build_info.py").write_text(
        '"""Written by setup.py when the package was built."""\n\n'
        f"PROTO_FILES = {files!r}\n"
        f"PROTO_SHA256 = {protos_sha256(root)!r}\n"
        f"GRPCIO_TOOLS_VERSION = {grpc_version.VERSION!r}\n")


class BuildPyWithStubs(build_py):
    """build_py that also generates the stubs: into the build folder, or into the source tree for an editable
    install (where the generated files are git-ignored)."""

    def run(self):
        super().run()
        generate_stubs(HERE if self.editable_mode else Path(self.build_lib))


class SdistWithProtos(sdist):
    """sdist that carries a copy of the protos in ./proto, so the sdist builds without the repository."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        root = find_proto_root()
        for name in proto_files(root):
            target = Path(base_dir) / "proto" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / name, target)


def runtime_requirements() -> list:
    """grpcio at least as new as the grpcio-tools that generates the stubs (their *_pb2_grpc.py check it), and
    the protobuf range that grpcio-tools requires (its protoc's generated code needs at least that runtime)."""
    from grpc_tools import grpc_version

    protobuf = [r.replace(" ", "") for r in importlib.metadata.requires("grpcio-tools") or []
                if r.replace(" ", "").startswith("protobuf") and ";" not in r]
    return [f"grpcio>={grpc_version.VERSION}", *(protobuf or ["protobuf"])]


setup(
    cmdclass={"build_py": BuildPyWithStubs, "sdist": SdistWithProtos},
    install_requires=runtime_requirements(),
)
