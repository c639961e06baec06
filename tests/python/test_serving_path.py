"""The serving path as a grpcio client sees it: `aimass serve` (embedded) with MovieLens-100k deployed as ItemCF K=50,
many Recommend calls in flight at once from several channels. A cheap model's calls are answered on the server's
event loop (docs/benchmarks.md, "The serving path"); a slower one (this suite runs a debug build) on the inference
executor behind the call gate, which may shed (RESOURCE_EXHAUSTED with retry-after-ms). Either way every call must be
answered once: with the same answer as when it is alone (a shed call, retried after the hinted time as a well-behaved
client does, then succeeds), and errors (an unknown version, a missing token, a bad k) keep their codes under load.

Needs AIMASS_BIN_DIR and data/ml-100k.inter (fetched when missing)."""

from __future__ import annotations

import importlib
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from conftest import admin_token, aimass_binary, cli_environment, start_server, stop_server
from test_pool import DATA, cli, ensure_ml100k, wait_until

USERS = [str(u) for u in (1, 7, 42, 100, 196, 305, 450, 601, 777, 900)]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    ensure_ml100k()
    exe = aimass_binary("aimass")
    data = tmp_path_factory.mktemp("serving-data")
    server = start_server("aimass", [exe, "serve", "--port", "0", "--data-dir", data],
                          r"aimass listening on (127\.0\.0\.1):(\d+)")
    try:
        token = admin_token(data)
        env = cli_environment(AIMASS_SERVER=server.target, AIMASS_TOKEN=token)
        manifest = ["--manifest", "algorithm=itemcf", "--manifest", "neighbours=50", "--manifest", "weighting=iuf"]
        cli(exe, env, "model", "create", "movies", *manifest)
        cli(exe, env, "model", "upload", "movies", str(DATA), *manifest)
        cli(exe, env, "deploy", "--model", "movies", "--min", "1", "--max", "1")
        wait_until("a READY replica", lambda: '"ready_replicas" : 1' in
                   cli(exe, env, "deployments", "--model", "movies", "--json").stdout, timeout=120)
        yield server.target, token
    finally:
        stop_server(server)


def answer(response):
    return [(item.item_id, round(item.score, 12)) for item in response.items]


def call(stub, request, metadata, attempts=200):
    """A unary call retried when shed, after the server's retry-after-ms; returns (status code, the response or the
    error's details, sheds)."""
    for shed in range(attempts):
        try:
            return grpc.StatusCode.OK, stub.Recommend(request, metadata=metadata, timeout=60), shed
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                return error.code(), error.details(), shed
            hint = dict(error.trailing_metadata() or ()).get("retry-after-ms")
            assert hint is not None and int(hint) >= 1, f"a shed without retry-after-ms: {error.details()}"
            time.sleep(min(int(hint), 50) / 1000)
    raise AssertionError(f"still shed after {attempts} attempts")


def test_concurrent_calls_are_each_answered_once_with_the_answer_given_alone(deployed, recommend_pb):
    target, token = deployed
    pb, pb_grpc = recommend_pb
    metadata = [("authorization", f"Bearer {token}")]
    channels = [grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)]) for _ in range(4)]
    try:
        stubs = [pb_grpc.RecommendStub(channel) for channel in channels]
        alone = {}
        for user in USERS:
            code, response, _ = call(stubs[0], pb.RecommendRequest(model="movies", user_id=user, k=10), metadata)
            assert code == grpc.StatusCode.OK
            alone[user] = answer(response)
        assert all(len(items) == 10 for items in alone.values())
        jobs = [(index, user) for index in range(16) for user in USERS for _ in range(5)]
        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(
                lambda job: (job[1], call(stubs[job[0] % len(stubs)],
                                          pb.RecommendRequest(model="movies", user_id=job[1], k=10), metadata)),
                jobs))
        assert len(results) == len(jobs)
        failed = [(user, code.name, details) for user, (code, details, _) in results if code != grpc.StatusCode.OK]
        assert failed == [], failed[:5]
        wrong = [user for user, (_, response, _) in results if answer(response) != alone[user]]
        assert wrong == [], f"{len(wrong)} calls answered differently from the same call alone"
        assert {response.served_by.version for _, (_, response, _) in results} == {1}
    finally:
        for channel in channels:
            channel.close()


def test_errors_keep_their_codes_under_load(deployed, recommend_pb):
    target, token = deployed
    pb, pb_grpc = recommend_pb
    common_pb2 = importlib.import_module("aimass.v1.common_pb2")
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.RecommendStub(channel)
        good = [("authorization", f"Bearer {token}")]
        cases = [
            (pb.RecommendRequest(model="movies", version=common_pb2.VersionSelector(number=99), user_id="196", k=10),
             good, grpc.StatusCode.NOT_FOUND),
            (pb.RecommendRequest(model="movies", user_id="196", k=10), [], grpc.StatusCode.UNAUTHENTICATED),
            (pb.RecommendRequest(model="movies", user_id="196", k=10), [("authorization", "Bearer nope")],
             grpc.StatusCode.UNAUTHENTICATED),
            (pb.RecommendRequest(model="movies", user_id="196", k=20000), good, grpc.StatusCode.INVALID_ARGUMENT),
            (pb.RecommendRequest(model="no-such-model", user_id="196", k=10), good, grpc.StatusCode.NOT_FOUND),
            (pb.RecommendRequest(model="movies", user_id="196", k=10), good, grpc.StatusCode.OK),
        ]
        jobs = [case for _ in range(40) for case in cases]
        with ThreadPoolExecutor(max_workers=24) as pool:
            seen = list(pool.map(lambda job: (job[2], call(stub, job[0], job[1])[0]), jobs))
        mismatched = [(expected.name, got.name) for expected, got in seen if expected != got]
        assert mismatched == [], mismatched[:5]
