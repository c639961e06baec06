"""The `aimass` Python package (clients/python), installed in .venv by scripts/venv.sh, against a real `aimass serve`.

It uploads MovieLens-100k with a progress callback (and as an iterator), deploys it and waits for READY through
Mesh.Watch, asks for recommendations and checks them against the independent numpy reference
(scripts/reference_cf.py) and the raw aimass.v1 stub, watches deployment events and resumes from a revision, and maps
failures to the exception classes (Unauthenticated, NotFound, InvalidArgument, AlreadyExists, PermissionDenied for
a second user). Against grpcio servers made to misbehave: retries honouring `retry-after-ms`, Watch reconnecting
after UNAVAILABLE, TLS and mutual TLS. And the build itself (stubs generated from proto/ at build time) from a copy
of a clean checkout and from an sdist; and the README's session, run as written.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from conftest import REPO_ROOT, admin_token, aimass_binary, start_aimass, stop_server

try:
    import aimass
    from aimass.v1 import mesh_pb2, mesh_pb2_grpc, recommend_pb2, recommend_pb2_grpc, scheduler_pb2
except ImportError as error:  # a clear failure, not a skip: CI must have installed it
    pytest.fail(f"the aimass package is not installed in this Python ({sys.executable}): {error}; run "
                "scripts/venv.sh (it runs pip install ./clients/python)", pytrace=False)

# Builds (pip wheel, sdist) and the MovieLens upload + deployment take a while on a loaded 2-core machine; this
# is only the safety net against hangs (pytest.ini's is 120 s).
pytestmark = pytest.mark.timeout(600)

DATA = REPO_ROOT / "data" / "ml-100k.inter"
MANIFEST = {"algorithm": "itemcf", "neighbours": "20"}
USER = "196"
TIE = 1e-9
EVENT_TIMEOUT = 60.0  # only catches hangs

_spec = importlib.util.spec_from_file_location("reference_cf", REPO_ROOT / "scripts" / "reference_cf.py")
reference_cf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference_cf)


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("aimass-data")
    sp = start_aimass(data_dir, name="aimass-pyclient")
    sp.token = admin_token(data_dir)
    yield sp
    stop_server(sp)


@pytest.fixture(scope="module")
def client(server):
    with aimass.Client(server.target, token=server.token) as c:
        yield c


@pytest.fixture(scope="module")
def movies(client):
    """MovieLens-100k uploaded as version 1 of `movies` with 64 KiB chunks, the progress reports kept."""
    if not DATA.is_file():
        pytest.fail(f"{DATA} is missing: run scripts/fetch-ml100k.sh data", pytrace=False)
    client.create_model("movies", description="item CF on MovieLens-100k", tags=["movies"], manifest=MANIFEST)
    reports = []
    version = client.upload("movies", DATA, description="ml-100k", chunk_size=64 * 1024, progress=reports.append)
    return version, reports


@pytest.fixture(scope="module")
def deployed(client, movies):
    """The deployment of movies@production (version 1), READY."""
    version, _ = movies
    client.set_alias("movies", "production", version.number, reason="first")
    deployment = client.deploy("movies", "production")
    return client.wait_for_deployment(deployment.id, timeout=EVENT_TIMEOUT)


# -- the build ---------------------------------------------------------------------------------

def test_installed_package_was_built_from_these_protos():
    from aimass import _build_info

    root = REPO_ROOT / "proto"
    names = sorted(str(p.relative_to(root)) for p in (root / "aimass" / "v1").glob("*.proto"))
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    assert _build_info.PROTO_FILES == names
    assert _build_info.PROTO_SHA256 == digest.hexdigest(), (
        "the installed aimass package was built from other protos: rerun scripts/venv.sh")
    assert recommend_pb2.DESCRIPTOR.name == "aimass/v1/recommend.proto"


def _copy_checkout(dest: Path) -> Path:
    """clients/python and proto/ as a clean checkout has them (no build output, nothing generated)."""
    shutil.copytree(REPO_ROOT / "proto", dest / "proto")
    shutil.copytree(REPO_ROOT / "clients" / "python", dest / "clients" / "python",
                    ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "v1", "_build_info.py"))
    return dest / "clients" / "python"


def _pip_wheel(source, out: Path, cwd: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q",
                          "-w", str(out), str(source)], cwd=str(cwd), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"pip wheel {source} failed:\n{run.stdout}\n{run.stderr}"
    wheels = list(out.glob("aimass-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _generated(wheel: Path) -> set:
    with zipfile.ZipFile(wheel) as archive:
        return {n for n in archive.namelist() if n.startswith("aimass/v1/") or n == "aimass/_build_info.py"}


def test_builds_from_a_clean_checkout_and_from_its_sdist(tmp_path):
    package = _copy_checkout(tmp_path / "checkout")
    assert not (package / "aimass" / "v1").exists()
    protos = sorted(path.stem for path in (REPO_ROOT / "proto" / "aimass" / "v1").glob("*.proto"))
    assert {"common", "registry", "scheduler", "recommend", "mesh"} <= set(protos)
    expected = {f"aimass/v1/{name}{suffix}" for name in protos for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")} | {"aimass/v1/__init__.py",
                                                                          "aimass/_build_info.py"}
    assert _generated(_pip_wheel(package, tmp_path / "wheel", tmp_path)) == expected
    assert not (package / "aimass" / "v1").exists(), "a regular build must not write generated files into the tree"

    # An sdist carries the protos, so it builds where ../../proto does not exist.
    sdist = subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path / "sdist")],
                           cwd=str(package), capture_output=True, text=True, timeout=600)
    assert sdist.returncode == 0, sdist.stderr
    (tarball,) = (tmp_path / "sdist").glob("aimass-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert any(n.endswith("/proto/aimass/v1/recommend.proto") for n in names), names
    alone = tmp_path / "alone"
    alone.mkdir()
    moved = shutil.copy(tarball, alone)
    assert _generated(_pip_wheel(moved, tmp_path / "wheel2", alone)) == expected


def test_build_without_protos_says_where_it_looked(tmp_path):
    package = _copy_checkout(tmp_path / "checkout")
    shutil.rmtree(tmp_path / "checkout" / "proto")
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q",
                          "-w", str(tmp_path / "out"), str(package)], capture_output=True, text=True, timeout=600)
    assert run.returncode != 0
    assert "no aimass/v1/*.proto found" in run.stdout + run.stderr and "AIMASS_PROTO_DIR" in run.stdout + run.stderr


# -- registry ----------------------------------------------------------------------------------

def test_upload_reports_progress_and_the_server_stores_the_sha256(movies):
    version, reports = movies
    data = DATA.read_bytes()
    assert version.number == 1 and version.model == "movies"
    assert version.size_bytes == len(data)
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert version.manifest["algorithm"] == "itemcf" and version.manifest["neighbours"] == "20"
    sent = [r.sent_bytes for r in reports]
    assert sent[0] == 0 and sent[-1] == len(data)
    assert len(sent) == 1 + -(-len(data) // (64 * 1024))  # before the first chunk, then once per chunk
    assert all(b - a == 64 * 1024 for a, b in zip(sent, sent[1:-1]))
    assert {r.total_bytes for r in reports} == {len(data)} and reports[-1].fraction == 1.0


def test_models_and_versions_list_page_by_page(client, movies):
    client.create_model("movies-b", manifest=MANIFEST, tags=["movies"])
    again = client.create_model("movies-b", description="ignored", exist_ok=True)
    assert again.name == "movies-b" and again.description == ""
    names = [m.name for m in client.list_models(tag="movies", page_size=1)]
    assert names == ["movies", "movies-b"]
    assert client.get_model("movies").latest_version == 1
    assert [v.number for v in client.list_versions("movies")] == [1]
    assert client.get_version("movies", 1).sha256 == movies[0].sha256
    with pytest.raises(aimass.AlreadyExists) as caught:
        client.create_model("movies-b")
    assert caught.value.code == grpc.StatusCode.ALREADY_EXISTS and "movies-b" in caught.value.message


def test_iter_upload_yields_progress_then_the_version_and_stops_when_left(client, movies):
    client.create_model("iterated", manifest=MANIFEST)
    steps = list(client.iter_upload("iterated", DATA, chunk_size=256 * 1024, description="iterated"))
    size = DATA.stat().st_size
    assert [s.sent_bytes for s in steps[:-1]] == [0, *range(256 * 1024, size, 256 * 1024), size]
    assert all(s.version is None for s in steps[:-1])
    last = steps[-1]
    assert last.sent_bytes == size and last.version.number == 1 and last.version.sha256 == movies[0].sha256

    for step in client.iter_upload("iterated", DATA, chunk_size=64 * 1024):
        if step.sent_bytes > 0:
            break  # leaving the loop cancels the upload
    assert client.get_model("iterated").latest_version == 1
    with pytest.raises(aimass.NotFound):
        list(client.iter_upload("no-such-model", DATA))


def test_an_upload_whose_file_changes_midway_fails_and_stores_nothing(client, tmp_path):
    client.create_model("changing", manifest=MANIFEST)
    path = tmp_path / "changing.inter"
    shutil.copy(DATA, path)

    def tamper(progress):  # after the first chunk is sent, the bytes of a later one change
        if progress.sent_bytes == 64 * 1024:
            with path.open("r+b") as handle:
                handle.seek(200 * 1024)
                byte = handle.read(1)
                handle.seek(200 * 1024)
                handle.write(b"0" if byte != b"0" else b"1")

    with pytest.raises(aimass.IntegrityError) as caught:
        client.upload("changing", path, chunk_size=64 * 1024, progress=tamper)
    assert caught.value.code == grpc.StatusCode.DATA_LOSS and "changed during the upload" in caught.value.message
    assert client.get_model("changing").latest_version == 0

    class Stop(Exception):
        pass

    def stop(progress):
        if progress.sent_bytes > 0:
            raise Stop()

    with pytest.raises(Stop):
        client.upload("changing", DATA, chunk_size=64 * 1024, progress=stop)
    assert client.get_model("changing").latest_version == 0


# -- deployments and inference ----------------------------------------------------------------

def test_recommend_returns_the_reference_items_for_a_movielens_user(server, client, deployed):
    assert deployed.state == scheduler_pb2.DEPLOYMENT_STATE_READY and deployed.ready_replicas >= 1
    ours = client.recommend("movies", user_id=USER, k=10, exclude_seen=True)
    model = reference_cf.Model(reference_cf.load(DATA), algorithm="itemcf", neighbours=20)
    expected = model.top(10)[USER]
    reference_scores = dict(zip(model.items, model.scores()[model.users.index(USER)]))
    assert ours.version == 1 and ours.worker_id and ours.replica_id
    assert len(ours.items) == len(expected) == 10
    for position, (mine, (ref_item, ref_score)) in enumerate(zip(ours.items, expected)):
        assert abs(mine.score - ref_score) <= TIE, f"#{position + 1}: {mine} vs reference {ref_item} {ref_score}"
        # the same item, or another one tied with it in the reference (either order is right)
        assert mine.item_id == ref_item or abs(reference_scores[mine.item_id] - ref_score) <= TIE, (
            f"#{position + 1}: {mine.item_id} vs reference {ref_item}")

    # The generated aimass.v1 stub, called directly, agrees with the typed layer.
    with grpc.insecure_channel(client.target) as channel:
        raw = recommend_pb2_grpc.RecommendStub(channel).Recommend(
            recommend_pb2.RecommendRequest(model="movies", user_id=USER, k=10, exclude_seen=True),
            metadata=[("authorization", f"Bearer {server.token}")], timeout=30)
    assert [(i.item_id, i.score) for i in raw.items] == [(i.item_id, i.score) for i in ours.items]


def test_similar_items_and_seed_recommendations(client, deployed):
    similar = client.similar_items("movies", "50", k=5, version="production")
    assert len(similar.items) == 5 and "50" not in similar.item_ids
    assert [i.score for i in similar.items] == sorted((i.score for i in similar.items), reverse=True)
    basket = client.recommend("movies", seed_items=["50", "181"], k=5, exclude_seen=True)
    assert len(basket.items) == 5 and not {"50", "181"} & set(basket.item_ids)
    with pytest.raises(ValueError):
        client.recommend("movies", user_id=USER, seed_items=["50"])


def test_scale_and_get_deployment(client, deployed):
    scaled = client.scale(deployed.id, max_replicas=2)
    assert scaled.id == deployed.id and scaled.min_replicas == 1 and scaled.max_replicas == 2
    assert client.get_deployment(deployed.id).max_replicas == 2
    assert deployed.id in [d.id for d in client.list_deployments("movies")]


def test_evaluate_returns_and_stores_metrics(client, movies):
    dry = client.evaluate("movies", 1, dry_run=True, timeout=600)
    assert dry.version == 1 and not dry.stored
    assert {"loo.hr@10", "loo.ndcg@10", "loo.coverage@10", "loo.users"} <= set(dry.metrics)
    assert 0 < dry.metrics["loo.hr@10"] <= 1 and dry.metrics["loo.users"] == 943
    stored = client.evaluate("movies", 1, protocol="holdout", k=5)
    assert stored.stored and "holdout.precision@5" in stored.metrics
    assert client.get_version("movies", 1).metrics["holdout.precision@5"] == stored.metrics["holdout.precision@5"]
    with pytest.raises(ValueError):
        client.evaluate("movies", protocol="kfold")


# -- events ------------------------------------------------------------------------------------

def test_watch_yields_deployment_events_and_resumes_from_a_revision(client, deployed):
    with client.watch(models=["movies"]) as events:
        first = next(events)
        assert first.kind == mesh_pb2.EVENT_KIND_SNAPSHOT
        assert deployed.id in [d.id for d in first.snapshot.deployments]
        assert events.revision == first.revision > 0

        pinned = client.deploy("movies", 1)  # a second deployment: same model, another selector
        for event in events:
            if event.kind == mesh_pb2.EVENT_KIND_DEPLOYMENT_SCALED and event.deployment_scaled.id == pinned.id:
                break
        assert event.deployment_scaled.model == "movies" and event.revision == events.revision
        seen_up_to = events.revision

    # Resuming from the revision seen: no snapshot, only what happened since (here: the undeploy).
    client.undeploy(pinned.id)
    with client.watch(models=["movies"], resume_from_revision=seen_up_to,
                      kinds=[mesh_pb2.EVENT_KIND_DEPLOYMENT_SCALED]) as resumed:
        first = next(resumed)
        assert first.kind == mesh_pb2.EVENT_KIND_DEPLOYMENT_SCALED, "a resumed stream starts with what was missed"
        assert first.revision > seen_up_to
        event = first
        while not (event.deployment_scaled.id == pinned.id
                   and event.deployment_scaled.state == scheduler_pb2.DEPLOYMENT_STATE_DELETING):
            event = next(resumed)
            assert event.kind == mesh_pb2.EVENT_KIND_DEPLOYMENT_SCALED and event.revision > seen_up_to


def test_watch_with_a_deadline_ends_with_deadline_exceeded(client):
    with pytest.raises(aimass.DeadlineExceeded):
        for _ in client.watch(kinds=[mesh_pb2.EVENT_KIND_WORKER_LEFT], heartbeat_interval_ms=100, timeout=1.0):
            pass


# -- errors ------------------------------------------------------------------------------------

def test_errors_are_exceptions_with_code_and_message(server, client, movies):
    with aimass.Client(server.target, token="not-a-token") as stranger:
        with pytest.raises(aimass.Unauthenticated) as caught:
            stranger.get_model("movies")
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED and caught.value.message

    with aimass.Client(server.target) as anonymous:  # this server has authentication on
        with pytest.raises(aimass.Unauthenticated):
            list(anonymous.list_models())

    with pytest.raises(aimass.NotFound) as caught:
        client.get_model("no-such-model")
    assert caught.value.code == grpc.StatusCode.NOT_FOUND and "no-such-model" in caught.value.message
    assert isinstance(caught.value, aimass.AIMassError) and str(caught.value).startswith("NOT_FOUND: ")
    with pytest.raises(aimass.NotFound):
        client.recommend("no-such-model", user_id=USER)
    with pytest.raises(aimass.NotFound):
        client.get_version("movies", "no-such-alias")
    with pytest.raises(aimass.NotFound):  # the server refuses after the header, while chunks are still going
        client.upload("no-such-model", DATA, chunk_size=64 * 1024)

    with pytest.raises(aimass.InvalidArgument) as caught:
        client.upload("movies", b"user\titem\n1\t2\n", manifest={"algorithm": "svd"})
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT and "algorithm" in caught.value.message
    assert client.get_model("movies").latest_version == movies[0].number  # nothing stored
    with pytest.raises(aimass.InvalidArgument):
        client.create_model("bad name!")


def test_a_reader_may_read_but_not_upload(tmp_path):
    """PermissionDenied against a real server: a second user (made with `aimass token create` while the server is
    stopped) granted READER may read the model but not upload to it, and does not see a model without a grant."""
    data_dir = tmp_path / "data"
    sp = start_aimass(data_dir, name="aimass-perm")
    stop_server(sp)
    made = subprocess.run([str(aimass_binary("aimass")), "token", "create", "--offline", "--user", "bob", "--data-dir",
                           str(data_dir)], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    bob_token = made.stdout.strip().splitlines()[-1]
    sp = start_aimass(data_dir, name="aimass-perm")
    try:
        with aimass.Client(sp.target, token=admin_token(data_dir)) as admin, \
                aimass.Client(sp.target, token=bob_token) as bob:
            admin.create_model("shared", manifest=MANIFEST)
            admin.create_model("private", manifest=MANIFEST)
            assert admin.grant("shared", "user:bob", "reader") == {"user:admin": "owner", "user:bob": "reader"}
            assert bob.permissions("shared")["user:bob"] == "reader"
            assert bob.get_model("shared").name == "shared"
            with pytest.raises(aimass.PermissionDenied) as caught:
                bob.upload("shared", b"user\titem\n1\t2\n")
            assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED and caught.value.message
            with pytest.raises(aimass.NotFound):  # a model bob cannot read does not exist for him
                bob.get_model("private")
            with pytest.raises(ValueError):
                admin.grant("shared", "user:bob", "admin")
        sp.assert_alive()
    finally:
        stop_server(sp)


# -- retries (against a grpcio server that sheds on purpose) -----------------------------------

class SheddingRecommend(recommend_pb2_grpc.RecommendServicer):
    """Answers RESOURCE_EXHAUSTED with `retry-after-ms: 150` to the first `sheds` calls, then items."""

    def __init__(self, sheds: int, code=grpc.StatusCode.RESOURCE_EXHAUSTED):
        self.sheds, self.code, self.calls = sheds, code, []
        self.lock = threading.Lock()

    def Recommend(self, request, context):
        with self.lock:
            self.calls.append(time.monotonic())
            shed = len(self.calls) <= self.sheds
        if shed:
            context.set_trailing_metadata([("retry-after-ms", "150")])
            context.abort(self.code, "queue full")
        return recommend_pb2.RecommendResponse(items=[recommend_pb2.ScoredItem(item_id="7", score=1.5)],
                                               served_by=recommend_pb2.ServedBy(version=3))


@pytest.fixture
def shedding():
    def start(sheds, code=grpc.StatusCode.RESOURCE_EXHAUSTED):
        servicer = SheddingRecommend(sheds, code)
        srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        recommend_pb2_grpc.add_RecommendServicer_to_server(servicer, srv)
        port = srv.add_insecure_port("127.0.0.1:0")
        srv.start()
        started.append(srv)
        return servicer, f"127.0.0.1:{port}"

    started = []
    yield start
    for srv in started:
        srv.stop(None)


def test_retries_are_off_by_default_and_carry_retry_after(shedding):
    servicer, target = shedding(sheds=1)
    with aimass.Client(target) as c:
        with pytest.raises(aimass.ResourceExhausted) as caught:
            c.recommend("m", user_id="u")
    assert caught.value.retry_after_ms == 150 and caught.value.message == "queue full"
    assert len(servicer.calls) == 1


def test_retries_honour_retry_after_and_are_bounded(shedding):
    servicer, target = shedding(sheds=2)
    with aimass.Client(target, retry=aimass.RetryPolicy(max_attempts=3)) as c:
        answer = c.recommend("m", user_id="u")
    assert answer.item_ids == ["7"] and answer.version == 3 and len(servicer.calls) == 3
    gaps = [b - a for a, b in zip(servicer.calls, servicer.calls[1:])]
    assert all(gap >= 0.14 for gap in gaps), gaps  # waited the server's 150 ms each time

    servicer, target = shedding(sheds=5, code=grpc.StatusCode.UNAVAILABLE)
    with aimass.Client(target, retry=aimass.RetryPolicy(max_attempts=2)) as c:
        with pytest.raises(aimass.Unavailable):
            c.recommend("m", user_id="u")
    assert len(servicer.calls) == 2


def test_retry_policy_and_client_arguments_are_validated(tmp_path):
    with pytest.raises(ValueError):
        aimass.RetryPolicy(max_attempts=1)
    with pytest.raises(ValueError):
        aimass.RetryPolicy(codes=frozenset({grpc.StatusCode.INTERNAL}))
    with pytest.raises(ValueError):
        aimass.Client("")
    with pytest.raises(ValueError):
        aimass.Client("127.0.0.1:1", token="two words")
    with pytest.raises(ValueError, match="cert_file and key_file"):
        aimass.Client("127.0.0.1:1", cert_file=str(tmp_path / "c.pem"))
    with pytest.raises(FileNotFoundError, match="ca_file"):
        aimass.Client("127.0.0.1:1", ca_file=str(tmp_path / "missing.pem"))
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ValueError, match="not PEM"):
        aimass.Client("127.0.0.1:1", ca_file=str(tmp_path / "junk.pem"))
    with aimass.Client("127.0.0.1:1") as c:
        with pytest.raises(ValueError, match="reconnect"):
            c.watch(reconnect=True)
        with pytest.raises(ValueError):
            c.upload("m", b"x" * 10, chunk_size=1024)
        with pytest.raises(ValueError):
            c.get_version("m", 0)
    with aimass.Client("127.0.0.1:1", timeout=10) as nobody:  # nothing listens: fails at once, never hangs
        with pytest.raises(aimass.Unavailable):
            list(nobody.iter_upload("m", b"x" * 10))
        with pytest.raises(aimass.Unavailable):
            nobody.upload("m", b"x" * 10)


class DroppingMesh(mesh_pb2_grpc.MeshServicer):
    """Watch: a fresh stream sends a snapshot at revision 5 then ends UNAVAILABLE (a control plane restarting);
    a resumed one answers with the event after the revision it resumes from."""

    def __init__(self):
        self.requests = []

    def Watch(self, request, context):
        self.requests.append(request)
        if request.resume_from_revision == 0:
            yield mesh_pb2.MeshEvent(revision=5, kind=mesh_pb2.EVENT_KIND_SNAPSHOT, snapshot=mesh_pb2.Snapshot())
            yield mesh_pb2.MeshEvent(revision=5, kind=mesh_pb2.EVENT_KIND_HEARTBEAT, heartbeat=mesh_pb2.Heartbeat())
            context.abort(grpc.StatusCode.UNAVAILABLE, "control plane shutting down")
        yield mesh_pb2.MeshEvent(revision=request.resume_from_revision + 1, kind=mesh_pb2.EVENT_KIND_WORKER_LEFT,
                                 worker_left=mesh_pb2.WorkerLeft(worker_id="w1", reason="stream closed"))


def test_watch_reconnects_from_the_last_revision_after_unavailable():
    servicer = DroppingMesh()
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    mesh_pb2_grpc.add_MeshServicer_to_server(servicer, srv)
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    try:
        policy = aimass.RetryPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.05)
        with aimass.Client(f"127.0.0.1:{port}", retry=policy) as c:
            with c.watch(models=["m"], reconnect=True) as events:
                assert next(events).kind == mesh_pb2.EVENT_KIND_SNAPSHOT  # the heartbeat after it is skipped
                after = next(events)
                assert after.kind == mesh_pb2.EVENT_KIND_WORKER_LEFT and after.revision == 6
                assert events.revision == 6
            assert [r.resume_from_revision for r in servicer.requests] == [0, 5]
            assert list(servicer.requests[1].models) == ["m"]
            with pytest.raises(aimass.Unavailable):  # without reconnect the stream's end is an error
                list(c.watch())
    finally:
        srv.stop(None)


# -- TLS (against a grpcio TLS server; AI Mass's own TLS is not there yet) ----------------------

def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=str(cwd), check=True, capture_output=True, timeout=120)


@pytest.fixture
def tls_files(tmp_path):
    """A CA, and a server certificate for 127.0.0.1 / localhost signed by it (the openssl CLI, which
    scripts/install-deps.sh installs)."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=aimass test CA", cwd=tmp_path)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=localhost", cwd=tmp_path)
    (tmp_path / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=tmp_path)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr",
             "-subj", "/CN=ml-engineer", cwd=tmp_path)
    _openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "client.pem", "-days", "2", cwd=tmp_path)
    return tmp_path


def _tls_server(tls_files, require_client_auth: bool):
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    recommend_pb2_grpc.add_RecommendServicer_to_server(SheddingRecommend(sheds=0), srv)
    creds = grpc.ssl_server_credentials(
        [((tls_files / "server.key").read_bytes(), (tls_files / "server.pem").read_bytes())],
        root_certificates=(tls_files / "ca.pem").read_bytes() if require_client_auth else None,
        require_client_auth=require_client_auth)
    port = srv.add_secure_port("127.0.0.1:0", creds)
    srv.start()
    return srv, f"localhost:{port}"


def test_tls_with_a_ca_file(tls_files):
    srv, target = _tls_server(tls_files, require_client_auth=False)
    try:
        with aimass.Client(target, ca_file=str(tls_files / "ca.pem"), token="t0k") as c:
            assert c.recommend("m", user_id="u").item_ids == ["7"]
        with aimass.Client(target, timeout=5) as plain:  # plaintext to a TLS port fails
            with pytest.raises(aimass.Unavailable):
                plain.recommend("m", user_id="u")
    finally:
        srv.stop(None)


def test_mutual_tls_with_a_client_certificate(tls_files):
    srv, target = _tls_server(tls_files, require_client_auth=True)
    try:
        with aimass.Client(target, ca_file=str(tls_files / "ca.pem"), cert_file=str(tls_files / "client.pem"),
                           key_file=str(tls_files / "client.key")) as c:
            assert c.recommend("m", user_id="u").item_ids == ["7"]
        with aimass.Client(target, ca_file=str(tls_files / "ca.pem"), timeout=5) as anonymous:
            with pytest.raises(aimass.Unavailable):  # the server wants a certificate
                anonymous.recommend("m", user_id="u")
    finally:
        srv.stop(None)
