"""docs/api/ is generated from proto/ by scripts/gen-api-docs.py and must be current.

Runs the generator in --check mode (regenerates into a temporary folder and compares), then checks
independently of the generator's parser — with a plain regular expression over the .proto files — that
every rpc of every service appears on its service's page.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "gen-api-docs.py"
API_DIR = REPO_ROOT / "docs" / "api"
PROTO_DIRS = [REPO_ROOT / "proto" / "aimass" / "v1", REPO_ROOT / "proto" / "grpc" / "health" / "v1"]

_SERVICE_RE = re.compile(r"^service\s+(\w+)\s*\{(.*?)^\}", re.M | re.S)
_RPC_RE = re.compile(r"^\s*rpc\s+(\w+)\s*\(", re.M)


def page_for(service: str) -> Path:
    return API_DIR / (re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", service).lower() + ".md")


def services_in_protos() -> dict:
    found = {}
    for d in PROTO_DIRS:
        for path in sorted(d.glob("*.proto")):
            text = re.sub(r"//[^\n]*", "", path.read_text())
            for m in _SERVICE_RE.finditer(text):
                found[m.group(1)] = _RPC_RE.findall(m.group(2))
    return found


def test_generated_docs_are_current():
    out = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"scripts/gen-api-docs.py --check failed:\n{out.stdout}\n{out.stderr}"


def test_every_rpc_is_on_its_service_page():
    services = services_in_protos()
    assert {"ModelRegistry", "Scheduler", "Recommend", "Mesh", "Health"} <= set(services), services
    index = (API_DIR / "README.md").read_text()
    for service, rpcs in services.items():
        page = page_for(service)
        assert page.is_file(), f"no page {page} for service {service}"
        assert page.name in index, f"{page.name} is not linked from docs/api/README.md"
        text = page.read_text()
        assert rpcs, f"service {service} has no rpc?"
        for rpc in rpcs:
            assert f"### {rpc}\n" in text, f"rpc {service}.{rpc} has no section in {page.name}"
            assert f"/{rpc}`" in text, f"the path of {service}.{rpc} is missing from {page.name}"


def test_check_detects_a_stale_page(tmp_path):
    out_dir = tmp_path / "api"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out_dir)], check=True, capture_output=True, timeout=120)
    ok = subprocess.run([sys.executable, str(SCRIPT), "--check", "--out", str(out_dir)], capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    page = out_dir / "recommend.md"
    page.write_text(page.read_text().replace("SimilarItems", "Similar"))
    stale = subprocess.run([sys.executable, str(SCRIPT), "--check", "--out", str(out_dir)], capture_output=True,
                           text=True, timeout=120)
    assert stale.returncode == 1 and "recommend.md" in stale.stderr


def test_parser_agrees_with_protoc(tmp_path):
    """The generator's own parser sees the same messages, fields, enums and rpcs as protoc does."""
    import importlib.util

    from google.protobuf import descriptor_pb2
    from grpc_tools import protoc

    spec = importlib.util.spec_from_file_location("gen_api_docs", SCRIPT)
    gen = importlib.util.module_from_spec(spec)
    sys.modules["gen_api_docs"] = gen
    spec.loader.exec_module(gen)
    reg = gen.Registry(gen.PROTO_ROOT)
    out = tmp_path / "fds.pb"
    assert protoc.main(["protoc", f"-I{gen.PROTO_ROOT}", "--include_imports", f"-o{out}", *sorted(reg.files)]) == 0
    fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())

    def walk(prefix, messages, enums):
        for m in messages:
            name = f"{prefix}.{m.name}"
            assert [(f.name, f.number) for f in m.field] == [(f.name, f.number) for f in reg.types[name].fields], name
            walk(name, [n for n in m.nested_type if not n.options.map_entry], m.enum_type)
        for e in enums:
            name = f"{prefix}.{e.name}"
            assert [(v.name, v.number) for v in e.value] == [(v.name, v.number) for v in reg.types[name].values], name

    services = {s.full_name: s for s in reg.services()}
    for f in fds.file:
        walk(f.package, f.message_type, f.enum_type)
        for s in f.service:
            ours = services[f"{f.package}.{s.name}"]
            assert [(m.name, m.input_type[1:], m.output_type[1:], m.client_streaming, m.server_streaming)
                    for m in s.method] == \
                [(r.name, r.request_resolved, r.response_resolved, r.client_streaming, r.server_streaming)
                 for r in ours.rpcs], s.name
