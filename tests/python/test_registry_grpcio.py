"""aimass.v1.ModelRegistry through a grpcio client generated from proto/ at test time, against
`aimass serve --port 0 --data-dir TMP` with the admin token the server wrote to TMP/admin.token.

The reader's token comes from `aimass token create --offline --user bob --data-dir TMP`, run before the
server starts (it opens the registry directly, and the server holds the data directory's lock).

The tests on the `registry` fixture run against both stores: SQLite alone (`sqlite`), and a control plane on a
single-member etcd (`etcd`: `--role control-plane --etcd URL` with a prefix of its own, the registry's rows
replicated to etcd; the data directory made offline first is the seed, so the admin and bob come from it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import uuid

import grpc
import pytest

from conftest import admin_token, aimass_binary, cli_environment, start_aimass, start_server, stop_server
from test_pool import cli, wait_until
from grpc_health.v1 import health_pb2, health_pb2_grpc

MiB = 1 << 20
TIMEOUT = 60


def upload_requests(pb, model: str, data: bytes, chunk: int = MiB, **header):
    yield pb.UploadVersionRequest(header=pb.VersionHeader(
        model=model, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), **header))
    for i in range(0, len(data), chunk):
        yield pb.UploadVersionRequest(chunk=data[i:i + chunk])


def download(stub, pb, common, model: str, number: int = 0, alias: str = "", md=()):
    stream = stub.DownloadVersion(pb.DownloadVersionRequest(
        model=model, version=common.VersionSelector(number=number, alias=alias)), metadata=md, timeout=TIMEOUT)
    first = next(stream)
    assert first.WhichOneof("part") == "version"
    body = b"".join(m.chunk for m in stream)
    return first.version, body


def create_token(data_dir, user: str) -> str:
    out = subprocess.run([str(aimass_binary("aimass")), "token", "create", "--offline", "--user", user,
                          "--data-dir", str(data_dir)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def etcd_ready(endpoint: str) -> bool:
    out = subprocess.run([shutil.which("etcdctl"), f"--endpoints={endpoint}", "--command-timeout=5s",
                          "endpoint", "health"], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "ETCDCTL_API": "3"})
    return out.returncode == 0


@pytest.fixture(scope="module")
def etcd_endpoint(tmp_path_factory):
    """One etcd member (Debian's `etcd`) on free loopback ports for this module; each test takes a prefix of its own."""
    proc, endpoint = start_etcd(tmp_path_factory.mktemp("etcd"))
    try:
        yield endpoint
    finally:
        stop_etcd(proc)


def start_etcd(root):
    """A single-member etcd in `root`, healthy; returns the process and its client URL."""
    etcd = shutil.which("etcd")
    assert etcd and shutil.which("etcdctl"), "etcd and etcdctl are missing: scripts/install-deps.sh installs etcd-server"
    sockets = [socket.socket() for _ in range(2)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    client, peer = (s.getsockname()[1] for s in sockets)
    for s in sockets:
        s.close()
    endpoint = f"http://127.0.0.1:{client}"
    with open(root / "etcd.log", "w") as log:
        proc = subprocess.Popen([etcd, "--name", "m0", "--data-dir", str(root / "member"), "--listen-client-urls",
                                 endpoint, "--advertise-client-urls", endpoint, "--listen-peer-urls",
                                 f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                                 "--initial-cluster", f"m0=http://127.0.0.1:{peer}"],
                                stdout=log, stderr=subprocess.STDOUT)
    for _ in range(120):  # bounded: etcd is up in a second or two (each check waits up to 5 s)
        if etcd_ready(endpoint):
            return proc, endpoint
        if proc.poll() is not None:
            break
    stop_etcd(proc)
    pytest.fail(f"etcd did not become healthy: {(root / 'etcd.log').read_text()[-2000:]}")


def pause_etcd(proc):
    """SIGSTOPs etcd and waits until every one of its threads is stopped. kill(2) only queues a stop: one thread,
    once scheduled, stops the others, and on a loaded machine etcd can answer a request or two before then."""
    proc.send_signal(signal.SIGSTOP)

    def stopped():
        states = []
        for task in os.listdir(f"/proc/{proc.pid}/task"):
            try:
                with open(f"/proc/{proc.pid}/task/{task}/stat") as stat:
                    states.append(stat.read().rsplit(")", 1)[1].split()[0])
            except FileNotFoundError:  # a thread that has just exited
                pass
        return states and all(state == "T" for state in states)
    wait_until("every etcd thread to stop", stopped, 120)


def stop_etcd(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def start_control_plane(data, endpoint: str, prefix: str, *extra, name: str = "aimass-etcd"):
    """`aimass serve --role control-plane` on etcd with DATA as its data directory (artifacts in DATA/artifacts
    unless EXTRA names another); returns once it leads."""
    artifacts = [] if "--artifact-dir" in map(str, extra) else ["--artifact-dir", data / "artifacts"]
    return start_server(name, [aimass_binary("aimass"), "serve", "--role", "control-plane", "--port", "0",
                               "--data-dir", data, *artifacts, "--etcd", endpoint, "--etcd-prefix", prefix, *extra],
                        r"aimass leader listening on (127\.0\.0\.1):(\d+)")


def etcd_model_count(endpoint: str, prefix: str) -> int:
    """How many models the registry rows in etcd under PREFIX hold (read with etcdctl, not through aimass)."""
    out = subprocess.run([shutil.which("etcdctl"), f"--endpoints={endpoint}", "get", f"{prefix}/registry/models/",
                          "--prefix", "--keys-only"], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "ETCDCTL_API": "3"})
    return len(out.stdout.split())


def create_usercf_model(stub, pb, admin, name: str):
    return stub.CreateModel(pb.CreateModelRequest(model=pb.Model(name=name, manifest={"algorithm": "usercf"})),
                            metadata=admin, timeout=120)


def settle_log_lines(sp) -> list[str]:
    """The lines in which control plane SP logged how it settled an etcd transaction whose answer it lost."""
    return [line for line in sp.stderr_path.read_text().splitlines() if "registry change settled" in line]


def wait_for_audited_creates(sp, data, count: int):
    """Waits until the audit log of control plane SP lists COUNT CreateModel calls. The audit log writes through the
    registry too, in the background: a test that makes etcd lose an answer waits for it first, or the audit log's
    write, not the test's own call, may be the one whose answer is lost."""
    env = cli_environment(AIMASS_SERVER=sp.target, AIMASS_TOKEN=admin_token(data))
    wait_until(f"{count} CreateModel calls in the audit log", lambda: len(json.loads(cli(
        aimass_binary("aimass"), env, "audit", "--method", "aimass.v1.ModelRegistry/CreateModel",
        "--json").stdout)) == count, 120)


def admin_metadata(data) -> list:
    """The admin token of data directory DATA, as call metadata."""
    return [("authorization", f"Bearer {(data / 'admin.token').read_text().strip()}")]


@pytest.fixture(params=["sqlite", "etcd"])
def registry(request, tmp_path, aimass_stubs):
    data = tmp_path / "data"
    reader_token = create_token(data, "bob")
    if request.param == "etcd":
        endpoint = request.getfixturevalue("etcd_endpoint")
        sp = start_control_plane(data, endpoint, f"/t{uuid.uuid4().hex}")
    else:
        sp = start_aimass(data)
    channel = grpc.insecure_channel(sp.target)
    stub = aimass_stubs.registry_pb2_grpc.ModelRegistryStub(channel)
    yield stub, admin_metadata(data), [("authorization", f"Bearer {reader_token}")], data
    channel.close()
    stop_server(sp)


def test_register_upload_list_diff_alias_and_refuse(registry, aimass_stubs):
    stub, admin, reader, data_dir = registry
    pb, common = aimass_stubs.registry_pb2, aimass_stubs.common_pb2

    model = stub.CreateModel(pb.CreateModelRequest(model=pb.Model(
        name="movies-itemcf", description="item CF on MovieLens", tags=["movies", "itemcf"],
        manifest={"algorithm": "itemcf", "neighbours": "50"},
        input_schema=[common.SchemaField(name="user_id", type="string")])), metadata=admin, timeout=TIMEOUT)
    assert model.name == "movies-itemcf" and model.author == "user:admin" and model.latest_version == 0
    assert model.created_at_ms > 0

    with pytest.raises(grpc.RpcError) as err:
        stub.CreateModel(pb.CreateModelRequest(model=pb.Model(name="movies-itemcf")), metadata=admin, timeout=TIMEOUT)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS

    # Version 1: 50 MiB in 1 MiB chunks.
    big = os.urandom(50 * MiB)
    v1 = stub.UploadVersion(upload_requests(pb, "movies-itemcf", big, description="first", metrics={"loo.ndcg@10": 0.31}),
                            metadata=admin, timeout=TIMEOUT)
    assert v1.number == 1 and v1.size_bytes == len(big) and v1.sha256 == hashlib.sha256(big).hexdigest()
    assert v1.manifest["neighbours"] == "50" and v1.author == "user:admin" and "latest" in v1.aliases
    assert [f.name for f in v1.input_schema] == ["user_id"]

    # Version 2: small, different manifest and metrics.
    small = b"u1\ti1\t5\nu2\ti1\t4\n"
    v2 = stub.UploadVersion(upload_requests(pb, "movies-itemcf", small, description="second",
                                            manifest={"neighbours": "20"}, metrics={"loo.ndcg@10": 0.35}),
                            metadata=admin, timeout=TIMEOUT)
    assert v2.number == 2 and v2.manifest == {"algorithm": "itemcf", "neighbours": "20"}

    got = stub.GetModel(pb.GetModelRequest(name="movies-itemcf"), metadata=admin, timeout=TIMEOUT)
    assert got.latest_version == 2 and got.size_bytes == len(small) and got.metrics["loo.ndcg@10"] == 0.35

    listed = stub.ListModels(pb.ListModelsRequest(tag="movies"), metadata=admin, timeout=TIMEOUT)
    assert [m.name for m in listed.models] == ["movies-itemcf"] and listed.next_page_token == ""
    assert stub.ListModels(pb.ListModelsRequest(tag="nope"), metadata=admin, timeout=TIMEOUT).models == []
    assert len(stub.ListModels(pb.ListModelsRequest(author="user:admin"), metadata=admin, timeout=TIMEOUT).models) == 1

    versions = stub.ListVersions(pb.ListVersionsRequest(model="movies-itemcf"), metadata=admin, timeout=TIMEOUT)
    assert [v.number for v in versions.versions] == [2, 1]
    page = stub.ListVersions(pb.ListVersionsRequest(model="movies-itemcf", page_size=1), metadata=admin, timeout=TIMEOUT)
    assert [v.number for v in page.versions] == [2] and page.next_page_token
    page = stub.ListVersions(pb.ListVersionsRequest(model="movies-itemcf", page_size=1, page_token=page.next_page_token),
                             metadata=admin, timeout=TIMEOUT)
    assert [v.number for v in page.versions] == [1] and page.next_page_token == ""

    version, body = download(stub, pb, common, "movies-itemcf", number=1, md=admin)
    assert version.number == 1 and hashlib.sha256(body).digest() == hashlib.sha256(big).digest()

    diff = stub.DiffVersions(pb.DiffVersionsRequest(model="movies-itemcf"), metadata=admin, timeout=TIMEOUT)
    assert (diff.old_version, diff.new_version) == (1, 2)
    changes = {c.field: c for c in diff.changes}
    assert changes["manifest.neighbours"].old_value == "50" and changes["manifest.neighbours"].new_value == "20"
    assert changes["manifest.neighbours"].kind == pb.CHANGE_KIND_CHANGED
    assert changes["description"].new_value == "second"
    assert changes["size_bytes"].old_value == str(len(big))
    assert "sha256" in changes and "metrics.loo.ndcg@10" in changes
    assert [c.field for c in diff.changes] == sorted(c.field for c in diff.changes)

    # Alias: set to 2, roll back to 1 by moving it.
    move = stub.SetAlias(pb.SetAliasRequest(model="movies-itemcf", alias="production", version=2), metadata=admin,
                         timeout=TIMEOUT)
    assert (move.change.previous_version, move.change.version) == (0, 2)
    move = stub.SetAlias(pb.SetAliasRequest(model="movies-itemcf", alias="production", version=1,
                                            reason="rollback: ndcg"), metadata=admin, timeout=TIMEOUT)
    assert (move.change.previous_version, move.change.version, move.change.principal) == (2, 1, "user:admin")
    got = stub.GetVersion(pb.GetVersionRequest(model="movies-itemcf", version=common.VersionSelector(alias="production")),
                          metadata=admin, timeout=TIMEOUT)
    assert got.number == 1 and "production" in got.aliases
    history = stub.ListAliasHistory(pb.ListAliasHistoryRequest(model="movies-itemcf"), metadata=admin, timeout=TIMEOUT)
    assert [(c.previous_version, c.version) for c in history.changes] == [(2, 1), (0, 2)]
    assert [c.reason for c in history.changes] == ["rollback: ndcg", ""]  # stored, not only echoed
    assert stub.GetModel(pb.GetModelRequest(name="movies-itemcf"), metadata=admin, timeout=TIMEOUT).aliases == \
        {"production": 1}
    with pytest.raises(grpc.RpcError) as err:
        stub.SetAlias(pb.SetAliasRequest(model="movies-itemcf", alias="latest", version=1), metadata=admin, timeout=TIMEOUT)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    # Without a token; with an unknown one.
    for md in ((), [("authorization", "Bearer aimass_nope")]):
        with pytest.raises(grpc.RpcError) as err:
            stub.GetModel(pb.GetModelRequest(name="movies-itemcf"), metadata=md, timeout=TIMEOUT)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED

    # bob has no role yet: the model is hidden.
    with pytest.raises(grpc.RpcError) as err:
        stub.GetModel(pb.GetModelRequest(name="movies-itemcf"), metadata=reader, timeout=TIMEOUT)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert stub.ListModels(pb.ListModelsRequest(), metadata=reader, timeout=TIMEOUT).models == []

    perms = stub.SetPermission(pb.SetPermissionRequest(model="movies-itemcf", principal="user:bob", role=pb.ROLE_READER),
                               metadata=admin, timeout=TIMEOUT)
    assert {(p.principal, p.role) for p in perms.permissions} == {("user:admin", pb.ROLE_OWNER),
                                                                   ("user:bob", pb.ROLE_READER)}
    # As a reader bob reads and downloads, but may not upload, move aliases or grant.
    assert stub.GetModel(pb.GetModelRequest(name="movies-itemcf"), metadata=reader, timeout=TIMEOUT).latest_version == 2
    # A reader sees who has access (granting stays owner-only, below).
    seen = stub.GetPermissions(pb.GetPermissionsRequest(model="movies-itemcf"), metadata=reader, timeout=TIMEOUT)
    assert {(p.principal, p.role) for p in seen.permissions} == {(p.principal, p.role) for p in perms.permissions}
    _, body = download(stub, pb, common, "movies-itemcf", md=reader)
    assert body == small
    with pytest.raises(grpc.RpcError) as err:
        stub.UploadVersion(upload_requests(pb, "movies-itemcf", small), metadata=reader, timeout=TIMEOUT)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "movies-itemcf" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        stub.SetAlias(pb.SetAliasRequest(model="movies-itemcf", alias="production", version=2), metadata=reader,
                      timeout=TIMEOUT)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        stub.SetPermission(pb.SetPermissionRequest(model="movies-itemcf", principal="user:bob", role=pb.ROLE_OWNER),
                           metadata=reader, timeout=TIMEOUT)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert [v.number for v in stub.ListVersions(pb.ListVersionsRequest(model="movies-itemcf"), metadata=admin,
                                                timeout=TIMEOUT).versions] == [2, 1]


def test_offline_token_refused_while_the_directory_is_in_use(registry, request):
    """`aimass token create --offline` on the data directory of a running server fails and says why: with SQLite the
    server holds the directory; on etcd the directory is a copy of etcd's registry, where a token written alone would
    be lost at the copy's next reload, so it is refused even before the lock is tried."""
    *_, data_dir = registry
    out = subprocess.run([str(aimass_binary("aimass")), "token", "create", "--offline", "--user", "carol",
                          "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and out.stdout == "", out
    if request.node.callspec.params["registry"] == "etcd":
        assert "holds a copy of the registry in etcd" in out.stderr, out.stderr
    else:
        assert "stop it first" in out.stderr, out.stderr


def test_upload_errors_store_nothing(registry, aimass_stubs):
    stub, admin, _, data_dir = registry
    pb = aimass_stubs.registry_pb2
    stub.CreateModel(pb.CreateModelRequest(model=pb.Model(name="m", manifest={"algorithm": "itemcf"})),
                     metadata=admin, timeout=TIMEOUT)
    payload = b"x" * 300_000

    def chunks_first():
        yield pb.UploadVersionRequest(chunk=b"abc")

    cases = [
        (chunks_first(), grpc.StatusCode.INVALID_ARGUMENT),
        # ends early: declared size larger than what is sent
        (iter([pb.UploadVersionRequest(header=pb.VersionHeader(model="m", size_bytes=len(payload) + 10,
                                                                sha256=hashlib.sha256(payload).hexdigest())),
               pb.UploadVersionRequest(chunk=payload)]), grpc.StatusCode.INVALID_ARGUMENT),
        # sha mismatch
        (iter([pb.UploadVersionRequest(header=pb.VersionHeader(model="m", size_bytes=len(payload), sha256="0" * 64)),
               pb.UploadVersionRequest(chunk=payload)]), grpc.StatusCode.DATA_LOSS),
        (upload_requests(pb, "nope", payload), grpc.StatusCode.NOT_FOUND),
        # manifests the replicas could not load: refused before any byte, naming the key and what it allows
        (upload_requests(pb, "m", payload, manifest={"neighbours": "-3"}), grpc.StatusCode.INVALID_ARGUMENT,
         "neighbours must be in 1...100000, got -3"),
        (upload_requests(pb, "m", payload, manifest={"algorithm": "svd"}), grpc.StatusCode.INVALID_ARGUMENT,
         "unknown algorithm 'svd' (allowed: itemcf, usercf)"),
        (upload_requests(pb, "m", payload, manifest={"similarity": "manhattan"}), grpc.StatusCode.INVALID_ARGUMENT,
         "key 'similarity': unknown similarity 'manhattan' (allowed: cosine, pearson, adjusted_cosine, jaccard, "
         "euclidean)"),
        (upload_requests(pb, "m", payload, manifest={"distance": "cosine"}), grpc.StatusCode.INVALID_ARGUMENT,
         "unknown key 'distance' (allowed: algorithm, neighbours, feedback, weighting, normalize, data, similarity"),
    ]
    for requests, code, *message in cases:
        with pytest.raises(grpc.RpcError) as err:
            stub.UploadVersion(requests, metadata=admin, timeout=TIMEOUT)
        assert err.value.code() == code, err.value.details()
        assert all(m in err.value.details() for m in message), err.value.details()
    assert stub.ListVersions(pb.ListVersionsRequest(model="m"), metadata=admin, timeout=TIMEOUT).versions == []
    # Uploads in progress are under DATA/tmp, or ARTIFACTS/tmp with --artifact-dir (the etcd form).
    assert all(os.listdir(d) == [] for d in (data_dir / "tmp", data_dir / "artifacts" / "tmp") if d.exists())
    with pytest.raises(grpc.RpcError) as err:
        stub.GetModel(pb.GetModelRequest(name="absent"), metadata=admin, timeout=TIMEOUT)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and "absent" in err.value.details()


def test_max_artifact_mb_limits_uploads(tmp_path, aimass_stubs):
    """`aimass serve --max-artifact-mb 1`: a 2 MiB upload is RESOURCE_EXHAUSTED and stores nothing; 0.5 MiB is fine."""
    data = tmp_path / "data"
    sp = start_aimass(data, extra=("--max-artifact-mb", "1"))
    try:
        admin = admin_metadata(data)
        pb = aimass_stubs.registry_pb2
        with grpc.insecure_channel(sp.target) as channel:
            stub = aimass_stubs.registry_pb2_grpc.ModelRegistryStub(channel)
            stub.CreateModel(pb.CreateModelRequest(model=pb.Model(name="capped", manifest={"algorithm": "itemcf"})),
                             metadata=admin, timeout=TIMEOUT)
            with pytest.raises(grpc.RpcError) as err:
                stub.UploadVersion(upload_requests(pb, "capped", os.urandom(2 * MiB), chunk=256 * 1024),
                                   metadata=admin, timeout=TIMEOUT)
            assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.value.details()
            assert stub.ListVersions(pb.ListVersionsRequest(model="capped"), metadata=admin,
                                     timeout=TIMEOUT).versions == []
            assert os.listdir(data / "tmp") == []
            small = os.urandom(MiB // 2)
            version = stub.UploadVersion(upload_requests(pb, "capped", small, chunk=128 * 1024), metadata=admin,
                                         timeout=TIMEOUT)
            assert version.number == 1 and version.size_bytes == len(small)
            _, body = download(stub, pb, aimass_stubs.common_pb2, "capped", number=1, md=admin)
            assert body == small
    finally:
        stop_server(sp)
    # Nonsense values are refused before the server starts.
    out = subprocess.run([str(aimass_binary("aimass")), "serve", "--port", "0", "--data-dir", str(data),
                          "--max-artifact-mb", "0"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "--max-artifact-mb" in out.stderr


def test_group_role_applies_to_its_members(tmp_path, aimass_stubs):
    data = tmp_path / "data"
    exe = str(aimass_binary("aimass"))
    ana = create_token(data, "ana")
    outsider = create_token(data, "eve")
    out = subprocess.run([exe, "token", "group", "analysts", "--member", "ana", "--data-dir", str(data)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    sp = start_aimass(data)
    try:
        admin = admin_metadata(data)
        pb = aimass_stubs.registry_pb2
        with grpc.insecure_channel(sp.target) as channel:
            stub = aimass_stubs.registry_pb2_grpc.ModelRegistryStub(channel)
            stub.CreateModel(pb.CreateModelRequest(model=pb.Model(name="shared", manifest={"algorithm": "itemcf"})),
                             metadata=admin, timeout=TIMEOUT)
            stub.SetPermission(pb.SetPermissionRequest(model="shared", principal="group:analysts", role=pb.ROLE_READER),
                               metadata=admin, timeout=TIMEOUT)
            member = [("authorization", f"Bearer {ana}")]
            assert stub.GetModel(pb.GetModelRequest(name="shared"), metadata=member, timeout=TIMEOUT).name == "shared"
            with pytest.raises(grpc.RpcError) as err:
                stub.UploadVersion(upload_requests(pb, "shared", b"u i\n"), metadata=member, timeout=TIMEOUT)
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
            with pytest.raises(grpc.RpcError) as err:
                stub.GetModel(pb.GetModelRequest(name="shared"), metadata=[("authorization", f"Bearer {outsider}")],
                              timeout=TIMEOUT)
            assert err.value.code() == grpc.StatusCode.NOT_FOUND  # no role at all: the model's existence is not revealed
    finally:
        stop_server(sp)


def test_delete_version(registry, aimass_stubs):
    """DeleteVersion: one version goes (its artifact too when unshared); an aliased or the newest one stays."""
    stub, admin, reader, data_dir = registry
    pb = aimass_stubs.registry_pb2
    stub.CreateModel(pb.CreateModelRequest(model=pb.Model(name="dv", manifest={"algorithm": "usercf"})),
                     metadata=admin, timeout=TIMEOUT)
    old, new = b"u1 i1\nu1 i2\n", b"u1 i1\nu2 i2\n"
    for payload in (old, new, new):
        stub.UploadVersion(upload_requests(pb, "dv", payload), metadata=admin, timeout=TIMEOUT)
    stub.SetAlias(pb.SetAliasRequest(model="dv", alias="production", version=1), metadata=admin, timeout=TIMEOUT)
    for number, code, words in [(1, grpc.StatusCode.FAILED_PRECONDITION, "'production'"),
                                (3, grpc.StatusCode.FAILED_PRECONDITION, "latest"),
                                (7, grpc.StatusCode.NOT_FOUND, "version 7")]:
        with pytest.raises(grpc.RpcError) as err:
            stub.DeleteVersion(pb.DeleteVersionRequest(model="dv", version=number), metadata=admin, timeout=TIMEOUT)
        assert err.value.code() == code and words in err.value.details(), err.value.details()
    with pytest.raises(grpc.RpcError) as err:  # a reader may not delete
        stub.DeleteVersion(pb.DeleteVersionRequest(model="dv", version=2), metadata=reader, timeout=TIMEOUT)
    assert err.value.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)

    stub.DeleteVersion(pb.DeleteVersionRequest(model="dv", version=2), metadata=admin, timeout=TIMEOUT)
    stub.SetAlias(pb.SetAliasRequest(model="dv", alias="production", version=3), metadata=admin, timeout=TIMEOUT)
    stub.DeleteVersion(pb.DeleteVersionRequest(model="dv", version=1), metadata=admin, timeout=TIMEOUT)
    versions = stub.ListVersions(pb.ListVersionsRequest(model="dv"), metadata=admin, timeout=TIMEOUT).versions
    assert [v.number for v in versions] == [3]
    artifacts = {p.name for p in (data_dir / "artifacts").rglob("*") if p.is_file()}
    assert hashlib.sha256(old).hexdigest() not in artifacts and hashlib.sha256(new).hexdigest() in artifacts


def test_alias_moves_cost(registry, aimass_stubs, request):
    """What a registry write costs on each store: 30 alias moves one after the other (each one registry transaction;
    on etcd, one etcd transaction before the SQLite commit), every one recorded in the history. Prints the figures
    docs/operations.md quotes."""
    import statistics
    import time

    stub, admin, _, _ = registry
    pb = aimass_stubs.registry_pb2
    stub.CreateModel(pb.CreateModelRequest(model=pb.Model(name="cost", manifest={"algorithm": "usercf"})),
                     metadata=admin, timeout=TIMEOUT)
    for payload in (b"u1 i1\n", b"u1 i2\n"):
        stub.UploadVersion(upload_requests(pb, "cost", payload), metadata=admin, timeout=TIMEOUT)
    took = []
    for i in range(30):
        start = time.monotonic()
        stub.SetAlias(pb.SetAliasRequest(model="cost", alias="production", version=1 + i % 2), metadata=admin,
                      timeout=TIMEOUT)
        took.append((time.monotonic() - start) * 1000)
    history = stub.ListAliasHistory(pb.ListAliasHistoryRequest(model="cost", alias="production", page_size=100),
                                    metadata=admin, timeout=TIMEOUT).changes
    assert len(history) == 30
    took.sort()
    print(f"\n[{request.node.callspec.params['registry']}] SetAlias: median {statistics.median(took):.1f} ms, "
          f"p90 {took[26]:.1f} ms, max {took[-1]:.1f} ms over 30 moves")


def test_writes_while_etcd_is_stopped_fail_or_apply_whole(tmp_path, aimass_stubs):
    """A control plane on etcd whose etcd stops answering (SIGSTOP: no RST, a silent member).
    - Its first write (it has not read the guard key yet): UNAVAILABLE, nothing written in SQLite or etcd.
    - A write whose etcd transaction was sent but not answered fails with UNAVAILABLE (outcome unknown), and every
      write after it too, until etcd answers again (SIGCONT, sent when the control plane logs that it is settling
      it) and the control plane has settled it: then the model is in etcd and in the control plane's SQLite, or in
      neither; never in one only.
    The lease TTL (60 s) outlasts the pauses, so the control plane keeps leading throughout."""
    (tmp_path / "etcd").mkdir()
    proc, endpoint = start_etcd(tmp_path / "etcd")
    sp = None
    try:
        data, prefix = tmp_path / "data", "/paused"
        sp = start_control_plane(data, endpoint, prefix, "--leader-ttl-s", "60")
        admin = admin_metadata(data)
        pb = aimass_stubs.registry_pb2

        with grpc.insecure_channel(sp.target) as channel:
            stub = aimass_stubs.registry_pb2_grpc.ModelRegistryStub(channel)

            def exists(name):
                try:
                    stub.GetModel(pb.GetModelRequest(name=name), metadata=admin, timeout=120)
                    return True
                except grpc.RpcError as error:
                    assert error.code() == grpc.StatusCode.NOT_FOUND, error
                    return False

            pause_etcd(proc)
            try:
                with pytest.raises(grpc.RpcError) as err:
                    create_usercf_model(stub, pb, admin, "first")
            finally:
                proc.send_signal(signal.SIGCONT)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE and "etcd" in err.value.details(), err.value
            assert not exists("first") and etcd_model_count(endpoint, prefix) == 0

            create_usercf_model(stub, pb, admin, "second")  # the guard is known from here on
            assert etcd_model_count(endpoint, prefix) == 1
            wait_for_audited_creates(sp, data, 2)
            pause_etcd(proc)
            try:
                with pytest.raises(grpc.RpcError) as unknown:
                    create_usercf_model(stub, pb, admin, "paused")
                wait_until("the control plane to settle the unanswered etcd transaction",
                           lambda: "outcome unknown; settling it" in sp.stderr_path.read_text(), 120)
            finally:
                proc.send_signal(signal.SIGCONT)
            assert unknown.value.code() == grpc.StatusCode.UNAVAILABLE, unknown.value
            assert "may or may not" in unknown.value.details(), unknown.value.details()

            def write_after():  # refused while the change is being settled, accepted once it is
                try:
                    create_usercf_model(stub, pb, admin, "after")
                    return True
                except grpc.RpcError as error:
                    assert error.code() == grpc.StatusCode.UNAVAILABLE, error
                    # A refusal names whose change it waits for: the paused CreateModel's.
                    details = error.details()
                    assert "being settled" not in details or "models" in details.split("(to ")[-1], details
                    return False
            wait_until("a write accepted once settled", write_after, 120)
            settled = settle_log_lines(sp)
            applied = etcd_model_count(endpoint, prefix) == 3
            print(f"\nwrite with etcd stopped, then resumed: applied in etcd: {applied}; {settled}")
            assert len(settled) == 1 and ("had applied it" in settled[0]) == applied, settled
            assert exists("paused") == applied and exists("after")
            assert etcd_model_count(endpoint, prefix) == 2 + applied
        assert sp.alive(), sp.report()
    finally:
        if sp is not None:
            shutil.copy(sp.stderr_path, tmp_path / "aimass.stderr")  # kept for a post-mortem
            stop_server(sp, expect_alive=False)
        stop_etcd(proc)


def test_write_applied_by_etcd_whose_answer_is_lost_is_found_applied(tmp_path, aimass_stubs):
    """A control plane reaches etcd through a proxy that, for a while, lets its requests through but drops every
    answer: etcd applies the CreateModel's transaction, the control plane never hears so. The call fails with
    UNAVAILABLE (outcome unknown); once answers flow again the control plane finds its transaction's id in the guard
    key, reloads its registry from etcd, and the model is there, in etcd and in the control plane, as if the call had
    succeeded."""
    from roles import SilenceableProxy

    (tmp_path / "etcd").mkdir()
    proc, endpoint = start_etcd(tmp_path / "etcd")
    proxy = SilenceableProxy(int(endpoint.rsplit(":", 1)[1]))
    sp = None
    try:
        data, prefix = tmp_path / "data", "/lost-answer"
        sp = start_control_plane(data, f"http://127.0.0.1:{proxy.port}", prefix, "--leader-ttl-s", "60")
        admin = admin_metadata(data)
        pb = aimass_stubs.registry_pb2

        with grpc.insecure_channel(sp.target) as channel:
            stub = aimass_stubs.registry_pb2_grpc.ModelRegistryStub(channel)
            create_usercf_model(stub, pb, admin, "before")
            wait_for_audited_creates(sp, data, 1)
            proxy.silence_answers()
            try:
                with pytest.raises(grpc.RpcError) as unknown:
                    create_usercf_model(stub, pb, admin, "lost-answer")
                wait_until("the control plane to settle the unanswered etcd transaction",
                           lambda: "outcome unknown; settling it" in sp.stderr_path.read_text(), 120)
                assert etcd_model_count(endpoint, prefix) == 2, "etcd did not apply the transaction it did not answer"
            finally:
                proxy.heal()
            assert unknown.value.code() == grpc.StatusCode.UNAVAILABLE, unknown.value
            assert "may or may not" in unknown.value.details(), unknown.value.details()

            wait_until("the control plane to find its transaction applied", lambda: settle_log_lines(sp), 120)
            settled = settle_log_lines(sp)
            assert len(settled) == 1 and "had applied it" in settled[0], settled
            model = stub.GetModel(pb.GetModelRequest(name="lost-answer"), metadata=admin, timeout=120)
            assert model.name == "lost-answer" and model.manifest["algorithm"] == "usercf", model
            create_usercf_model(stub, pb, admin, "after")
            assert etcd_model_count(endpoint, prefix) == 3
            listed = stub.ListModels(pb.ListModelsRequest(), metadata=admin, timeout=120).models
            assert {m.name for m in listed} == {"before", "lost-answer", "after"}, listed
        assert sp.alive(), sp.report()
    finally:
        if sp is not None:
            shutil.copy(sp.stderr_path, tmp_path / "aimass.stderr")  # kept for a post-mortem
            stop_server(sp, expect_alive=False)
        proxy.close()
        stop_etcd(proc)


def test_standby_replica_reads_every_row_in_pages(tmp_path, aimass_stubs, etcd_endpoint):
    """A second control plane on the same prefix stands by with a replica of its own data directory: it loads more
    rows than one etcd range page (500) holds (600 alias moves: 600 history rows, besides the rest), then follows the
    watch; its answers to registry reads match the leader's."""
    import re

    prefix = f"/t{uuid.uuid4().hex}"
    shared = ("--artifact-dir", tmp_path / "artifacts")
    leader = start_control_plane(tmp_path / "a", etcd_endpoint, prefix, *shared, name="aimass-leader")
    standby = None
    try:
        admin = admin_metadata(tmp_path / "a")
        pb = aimass_stubs.registry_pb2
        with grpc.insecure_channel(leader.target) as channel:
            stub = aimass_stubs.registry_pb2_grpc.ModelRegistryStub(channel)
            stub.CreateModel(pb.CreateModelRequest(model=pb.Model(name="paged", manifest={"algorithm": "usercf"})),
                             metadata=admin, timeout=TIMEOUT)
            for payload in (b"u1 i1\n", b"u1 i2\n"):
                stub.UploadVersion(upload_requests(pb, "paged", payload), metadata=admin, timeout=TIMEOUT)
            for i in range(600):
                stub.SetAlias(pb.SetAliasRequest(model="paged", alias="production", version=1 + i % 2),
                              metadata=admin, timeout=TIMEOUT)
        standby = start_server("aimass-standby", [aimass_binary("aimass"), "serve", "--role", "control-plane",
                                                  "--port", "0", "--data-dir", tmp_path / "b", "--etcd", etcd_endpoint,
                                                  "--etcd-prefix", prefix, *shared],
                               r"aimass standby listening on (127\.0\.0\.1):(\d+)")
        with grpc.insecure_channel(standby.target) as channel:
            stub = aimass_stubs.registry_pb2_grpc.ModelRegistryStub(channel)

            def history():
                try:
                    changes = []
                    token = ""
                    while True:
                        page = stub.ListAliasHistory(pb.ListAliasHistoryRequest(
                            model="paged", alias="production", page_size=500, page_token=token), metadata=admin,
                            timeout=TIMEOUT)
                        changes += page.changes
                        token = page.next_page_token
                        if not token:
                            return changes
                except grpc.RpcError as error:  # the replica not loaded yet: the standby names the leader
                    named = dict(error.trailing_metadata() or ()).get("aimass-leader")
                    assert (error.code() == grpc.StatusCode.UNAVAILABLE and "not loaded" in error.details()
                            and named in (None, leader.target)), error  # None: before it learned who leads
                    return []
            moves = wait_until("the standby's replica to hold every move", lambda: len(history()) == 600 and history(),
                               120)
            loaded = [int(n) for n in re.findall(r"rows=(\d+) \[AIMassServer\] registry replica loaded",
                                                 standby.stderr_path.read_text())]
            assert loaded and loaded[0] > 600, loaded  # one load, in pages
            assert {m.version for m in moves} == {1, 2}
            version = stub.GetVersion(pb.GetVersionRequest(model="paged", version=aimass_stubs.common_pb2.VersionSelector(
                alias="production")), metadata=admin, timeout=TIMEOUT)
            assert version.number == 2  # the last move (i = 599) went to version 2
    finally:
        for sp in (standby, leader):
            if sp is not None:
                stop_server(sp)


def test_change_over_etcd_txn_limit_fails_clearly_and_keeps_everything(registry, aimass_stubs, request):
    """Deleting a model deletes its rows in one transaction; on etcd that is one etcd transaction, which takes at most
    128 operations (etcd's --max-txn-ops). A model with 130 alias moves cannot be deleted there: RESOURCE_EXHAUSTED
    naming the limit, and the model is still whole. On SQLite alone it is deleted."""
    stub, admin, _, _ = registry
    pb = aimass_stubs.registry_pb2
    stub.CreateModel(pb.CreateModelRequest(model=pb.Model(name="long", manifest={"algorithm": "usercf"})),
                     metadata=admin, timeout=TIMEOUT)
    for payload in (b"u1 i1\n", b"u1 i2\n"):
        stub.UploadVersion(upload_requests(pb, "long", payload), metadata=admin, timeout=TIMEOUT)
    for i in range(130):
        stub.SetAlias(pb.SetAliasRequest(model="long", alias="production", version=1 + i % 2), metadata=admin,
                      timeout=TIMEOUT)
    if request.node.callspec.params["registry"] == "sqlite":
        stub.DeleteModel(pb.DeleteModelRequest(name="long"), metadata=admin, timeout=TIMEOUT)
        return
    with pytest.raises(grpc.RpcError) as err:
        stub.DeleteModel(pb.DeleteModelRequest(name="long"), metadata=admin, timeout=TIMEOUT)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.value
    assert "--max-txn-ops" in err.value.details(), err.value.details()
    versions = stub.ListVersions(pb.ListVersionsRequest(model="long"), metadata=admin, timeout=TIMEOUT).versions
    assert sorted(v.number for v in versions) == [1, 2]
    history = stub.ListAliasHistory(pb.ListAliasHistoryRequest(model="long", alias="production", page_size=500),
                                    metadata=admin, timeout=TIMEOUT).changes
    assert len(history) == 130


def test_writes_waiting_for_etcd_leave_the_other_calls_served(tmp_path, aimass_stubs):
    """Registry writes wait for etcd synchronously (under the registry's lock), for up to 10 s when etcd does not
    answer. They wait on threads of their own (`BlockingTaskExecutor`), not on Swift's cooperative pool, whose one
    thread per core serves every other call: with more writes waiting than the pool has threads, a Health.Watch (a
    streaming call, run as a task) still gets its first answer while every one of those writes is still waiting."""
    from test_metrics import metrics_address, scrape, value

    (tmp_path / "etcd").mkdir()
    proc, endpoint = start_etcd(tmp_path / "etcd")
    sp = None
    try:
        data = tmp_path / "data"
        sp = start_control_plane(data, endpoint, "/blocked", "--leader-ttl-s", "60", "--metrics-port", "0")
        admin = admin_metadata(data)
        pb = aimass_stubs.registry_pb2
        method = "aimass.v1.ModelRegistry/CreateModel"
        writers = max(4, 2 * (os.cpu_count() or 2))  # more than the cooperative pool's threads
        with grpc.insecure_channel(sp.target) as channel:
            stub = aimass_stubs.registry_pb2_grpc.ModelRegistryStub(channel)

            def create(name):
                return stub.CreateModel.future(
                    pb.CreateModelRequest(model=pb.Model(name=name, manifest={"algorithm": "usercf"})),
                    metadata=admin, timeout=120)

            create("before").result()  # etcd answering; the guard key is known from here on
            pause_etcd(proc)
            try:
                writes = [create(f"blocked-{i}") for i in range(writers)]
                wait_until(f"the server to start {writers + 1} CreateModel calls",
                           lambda: value(scrape(metrics_address(sp)), "grpc_server_call_started_total",
                                         grpc_method=method) >= writers + 1, 120)
                watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""),
                                                                  timeout=120)
                first = next(watch)
                pending = sum(not write.done() for write in writes)
                watch.cancel()
            finally:
                proc.send_signal(signal.SIGCONT)
            assert first.status == health_pb2.HealthCheckResponse.SERVING
            assert pending == writers, f"Health.Watch answered only after {writers - pending} writes had ended"
            outcomes = []
            for write in writes:
                try:
                    write.result()
                    outcomes.append("OK")
                except grpc.RpcError as error:
                    outcomes.append(error.code().name)
            assert set(outcomes) <= {"OK", "UNAVAILABLE"}, outcomes
        assert sp.alive(), sp.report()
    finally:
        if sp is not None:
            stop_server(sp, expect_alive=False)
        stop_etcd(proc)
