"""The Open Inference Protocol v2 over gRPC as NVIDIA's tritonclient (from PyPI, unmodified) sees it, against
`aimass serve` with MovieLens-100k deployed as ItemCF: health, readiness and metadata, ModelInfer answering what
aimass.v1.Recommend answers (one user or a batch of 64 in one call), both tensor encodings, bad tensors and auth.

Needs AIMASS_BIN_DIR and data/ml-100k.inter (fetched when missing)."""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest
import tritonclient.grpc as triton
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

from conftest import aimass_binary, cli_environment
from roles import control_plane_with_worker, deploy_model
from test_pool import DATA, cli, ensure_ml100k, wait_until
from test_serving_path import deployed  # noqa: F401 (the module's fixture: movies deployed, one ready replica)

USERS = ["1", "7", "42", "196", "305"]


@pytest.fixture(scope="module")
def client(deployed):  # noqa: F811
    target, token = deployed
    with triton.InferenceServerClient(url=target) as client:
        yield client, {"authorization": f"Bearer {token}"}


def recommend(recommend_pb, target, token, user, k, exclude_seen=False):
    pb, pb_grpc = recommend_pb
    with grpc.insecure_channel(target) as channel:
        response = pb_grpc.RecommendStub(channel).Recommend(
            pb.RecommendRequest(model="movies", user_id=user, k=k, exclude_seen=exclude_seen),
            metadata=[("authorization", f"Bearer {token}")], timeout=60)
    return [item.item_id for item in response.items], [item.score for item in response.items]


def infer(client, headers, users, k=None, model="movies", **kwargs):
    inputs = [triton.InferInput("user_id", [len(users)], "BYTES")]
    inputs[0].set_data_from_numpy(np.array([u.encode() for u in users], dtype=np.object_))
    if k is not None:
        inputs.append(triton.InferInput("k", [1], "INT32"))
        inputs[1].set_data_from_numpy(np.array([k], dtype=np.int32))
    return client.infer(model, inputs, headers=headers, client_timeout=60, **kwargs)


def error_of(call):
    with pytest.raises(InferenceServerException) as raised:
        call()
    return raised.value.status(), raised.value.message()


def test_server_live_ready_and_metadata(client):
    client, headers = client
    assert client.is_server_live()
    assert client.is_server_ready()
    metadata = client.get_server_metadata(as_json=True)
    assert metadata["name"] == "aimass"


def test_model_ready(client):
    client, headers = client
    assert client.is_model_ready("movies", headers=headers)
    assert client.is_model_ready("movies", model_version="1", headers=headers)
    assert not client.is_model_ready("movies", model_version="2", headers=headers)
    status, message = error_of(lambda: client.is_model_ready("no-such-model", headers=headers))
    assert status == "StatusCode.NOT_FOUND", message


def test_a_model_without_ready_replicas_is_not_ready(client, deployed):  # noqa: F811
    target, token = deployed
    client, headers = client
    env = cli_environment(AIMASS_SERVER=target, AIMASS_TOKEN=token)
    cli(aimass_binary("aimass"), env, "model", "create", "undeployed")
    assert not client.is_model_ready("undeployed", headers=headers)
    assert client.get_model_metadata("undeployed", headers=headers, as_json=True).get("versions", []) == []


def test_model_metadata_describes_the_tensors(client):
    client, headers = client
    metadata = client.get_model_metadata("movies", headers=headers, as_json=True)
    assert metadata["name"] == "movies"
    assert metadata["versions"] == ["1"]
    inputs = {t["name"]: (t["datatype"], [int(d) for d in t["shape"]]) for t in metadata["inputs"]}
    assert inputs == {"user_id": ("BYTES", [-1]), "seed_items": ("BYTES", [-1]), "k": ("INT32", [1]),
                      "exclude_seen": ("BOOL", [1])}
    outputs = {t["name"]: (t["datatype"], [int(d) for d in t["shape"]]) for t in metadata["outputs"]}
    assert outputs == {"item_ids": ("BYTES", [-1, -1]), "scores": ("FP32", [-1, -1])}


def test_infer_answers_what_recommend_answers(client, deployed, recommend_pb):  # noqa: F811
    target, token = deployed
    client, headers = client
    for user in USERS:
        result = infer(client, headers, [user], k=7)
        items = result.as_numpy("item_ids")
        scores = result.as_numpy("scores")
        assert items.shape == (1, 7) and scores.shape == (1, 7) and scores.dtype == np.float32
        expected_items, expected_scores = recommend(recommend_pb, target, token, user, 7)
        assert [i.decode() for i in items[0]] == expected_items
        np.testing.assert_allclose(scores[0], np.array(expected_scores, dtype=np.float32), rtol=1e-6)
        assert result.get_response().model_version == "1"


def test_exclude_seen_answers_what_recommend_answers(client, deployed, recommend_pb):  # noqa: F811
    target, token = deployed
    client, headers = client
    users = triton.InferInput("user_id", [2], "BYTES")
    users.set_data_from_numpy(np.array([b"196", b"42"], dtype=np.object_))
    flag = triton.InferInput("exclude_seen", [1], "BOOL")
    flag.set_data_from_numpy(np.array([True]))
    items = client.infer("movies", [users, flag], headers=headers).as_numpy("item_ids")
    for row, user in enumerate(["196", "42"]):
        expected, _ = recommend(recommend_pb, target, token, user, 10, exclude_seen=True)
        assert [i.decode() for i in items[row]] == expected
    assert [i.decode() for i in items[0]] != recommend(recommend_pb, target, token, "196", 10)[0]


def test_default_k_is_ten(client):
    client, headers = client
    assert infer(client, headers, ["196"]).as_numpy("item_ids").shape == (1, 10)


def test_batch_of_64_users_in_one_call(client, deployed, recommend_pb):  # noqa: F811
    target, token = deployed
    client, headers = client
    users = [str(u) for u in range(1, 65)]
    result = infer(client, headers, users, k=10)
    items = result.as_numpy("item_ids")
    scores = result.as_numpy("scores")
    assert items.shape == (64, 10) and scores.shape == (64, 10)
    for row, user in enumerate(users):
        expected_items, expected_scores = recommend(recommend_pb, target, token, user, 10)
        assert [i.decode() for i in items[row]] == expected_items, user
        np.testing.assert_allclose(scores[row], np.array(expected_scores, dtype=np.float32), rtol=1e-6)

    # Throughput of the same 64 queries as one batch and as 64 calls (reported, not bounded: a shared machine).
    rounds = 5
    start = time.perf_counter()
    for _ in range(rounds):
        infer(client, headers, users, k=10)
    batch = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(rounds):
        for user in users:
            infer(client, headers, [user], k=10)
    single = time.perf_counter() - start
    print(f"\nModelInfer, 64 users x {rounds}: one call each {64 * rounds / batch:.0f} users/s, "
          f"64 single calls {64 * rounds / single:.0f} users/s")


def test_seed_items_and_requested_outputs(client):
    client, headers = client
    seeds = triton.InferInput("seed_items", [3], "BYTES")
    seeds.set_data_from_numpy(np.array([b"50", b"181", b"1"], dtype=np.object_))
    result = client.infer("movies", [seeds], outputs=[triton.InferRequestedOutput("scores")], headers=headers)
    assert result.as_numpy("scores").shape == (10,)
    assert result.as_numpy("item_ids") is None


def test_contents_encoding_is_answered_in_contents(deployed):  # noqa: F811
    """tritonclient always sends raw_input_contents; KServe-style clients send typed contents, and get them back."""
    target, token = deployed
    request = service_pb2.ModelInferRequest(model_name="movies", id="r1")
    tensor = request.inputs.add(name="user_id", datatype="BYTES", shape=[2])
    tensor.contents.bytes_contents.extend([b"196", b"42"])
    k = request.inputs.add(name="k", datatype="INT32", shape=[1])
    k.contents.int_contents.append(3)
    with grpc.insecure_channel(target) as channel:
        response = service_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer(
            request, metadata=[("authorization", f"Bearer {token}")], timeout=60)
    assert response.id == "r1" and not response.raw_output_contents
    by_name = {o.name: o for o in response.outputs}
    assert list(by_name["item_ids"].shape) == [2, 3] and len(by_name["item_ids"].contents.bytes_contents) == 6
    assert len(by_name["scores"].contents.fp32_contents) == 6


def test_bad_tensors_are_invalid_argument_naming_the_tensor(client):
    client, headers = client
    wrong_name = triton.InferInput("user", [1], "BYTES")
    wrong_name.set_data_from_numpy(np.array([b"196"], dtype=np.object_))
    status, message = error_of(lambda: client.infer("movies", [wrong_name], headers=headers))
    assert status == "StatusCode.INVALID_ARGUMENT" and "'user'" in message and "user_id" in message

    users = triton.InferInput("user_id", [1], "BYTES")
    users.set_data_from_numpy(np.array([b"196"], dtype=np.object_))
    k64 = triton.InferInput("k", [1], "INT64")
    k64.set_data_from_numpy(np.array([5], dtype=np.int64))
    status, message = error_of(lambda: client.infer("movies", [users, k64], headers=headers))
    assert status == "StatusCode.INVALID_ARGUMENT" and "'k'" in message and "INT32" in message

    matrix = triton.InferInput("user_id", [1, 1], "BYTES")
    matrix.set_data_from_numpy(np.array([[b"196"]], dtype=np.object_))
    status, message = error_of(lambda: client.infer("movies", [matrix], headers=headers))
    assert status == "StatusCode.INVALID_ARGUMENT" and "'user_id'" in message and "[1, 1]" in message


def test_a_user_unknown_to_the_version_is_served_as_recommend_serves_them(client, deployed, recommend_pb):  # noqa: F811
    target, token = deployed
    client, headers = client
    result = infer(client, headers, ["no-such-user", "196"], k=5)
    items = [[i.decode() for i in row] for row in result.as_numpy("item_ids")]
    assert items[0] == recommend(recommend_pb, target, token, "no-such-user", 5)[0]  # the cold-start path
    assert items[1] == recommend(recommend_pb, target, token, "196", 5)[0] and items[0] != items[1]


def test_errors_keep_recommend_codes(client):
    client, headers = client
    status, message = error_of(lambda: infer(client, headers, ["196"], model="no-such-model"))
    assert status == "StatusCode.NOT_FOUND" and "no-such-model" in message, message
    status, _ = error_of(lambda: client.infer("no-such-model", [], headers=headers))
    assert status == "StatusCode.INVALID_ARGUMENT"  # no input tensor: checked before the model is looked up
    status, message = error_of(lambda: infer(client, headers, ["196"], model_version="latest"))
    assert status == "StatusCode.INVALID_ARGUMENT" and "version" in message


def test_auth(client):
    client, headers = client
    assert client.is_server_live() and client.is_server_ready()  # public, as health is
    for bad in (None, {"authorization": "Bearer nope"}):
        status, _ = error_of(lambda: infer(client, bad, ["196"]))
        assert status == "StatusCode.UNAUTHENTICATED"
        status, _ = error_of(lambda: client.is_model_ready("movies", headers=bad))
        assert status == "StatusCode.UNAUTHENTICATED"
        status, _ = error_of(lambda: client.get_model_metadata("movies", headers=bad))
        assert status == "StatusCode.UNAUTHENTICATED"


def test_a_worker_serves_the_protocol_from_its_replicas(tmp_path, recommend_pb):
    """`aimass serve --role worker`: the same protocol from the worker's own replicas, authorized by the control
    plane."""
    ensure_ml100k()
    exe = aimass_binary("aimass")
    with control_plane_with_worker(tmp_path) as (cp, worker, token, env):
        deploy_model(exe, env, "movies", DATA, neighbours=50)
        headers = {"authorization": f"Bearer {token}"}
        with triton.InferenceServerClient(url=worker.target) as client:
            wait_until("the worker's replica to be ready",
                       lambda: client.is_model_ready("movies", headers=headers), timeout=120)
            assert client.get_model_metadata("movies", headers=headers, as_json=True)["versions"] == ["1"]
            result = infer(client, headers, ["196", "42"], k=5)
            for row, user in enumerate(["196", "42"]):
                expected_items, expected_scores = recommend(recommend_pb, worker.target, token, user, 5)
                assert [i.decode() for i in result.as_numpy("item_ids")[row]] == expected_items
                np.testing.assert_allclose(result.as_numpy("scores")[row], expected_scores, rtol=1e-6)
            status, _ = error_of(lambda: infer(client, {"authorization": "Bearer nope"}, ["196"]))
            assert status == "StatusCode.UNAUTHENTICATED"
