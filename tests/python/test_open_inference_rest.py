"""The REST form of the Open Inference Protocol v2 on `aimass serve --http-port`, as NVIDIA's tritonclient.http
(from PyPI, unmodified, with its default options: the binary tensor data extension both ways) sees it and as raw
bytes on the wire: health, readiness and metadata, infer answering what aimass.v1.Recommend answers (one user, a batch
of 64 users in one call; binary and JSON tensors), bad tensors as 400 naming the tensor, authentication and
authorization (401 without a token, 403 without a role on the model), and a token over its quota answered 429 with
the server's wait in `Retry-After` and the body.

The server is console_support's: ML-100k deployed as `movielens` (itemcf). Needs AIMASS_BIN_DIR."""

from __future__ import annotations

import http.client
import json
import struct
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from console_support import HTTP_TIMEOUT, MODEL, start_console, stop_console

USERS = ["1", "7", "42", "196", "305"]


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    # Calls over the worker's concurrency limit wait up to 5 s for a slot instead of being shed at once (5 ms): the
    # quota test's 20 calls at once must meet the token's quota, not the adaptive limit, which a CPU hog lowers
    # (the soak saw "server overloaded: at its concurrency limit" where a quota 429 was expected).
    c = start_console(tmp_path_factory.mktemp("oip-rest"), extra=("--queue-budget-ms", "5000"))
    yield c
    stop_console(c)


@pytest.fixture(scope="module")
def client(console):
    client = triton.InferenceServerClient(url=f"127.0.0.1:{console.http_port}", network_timeout=HTTP_TIMEOUT,
                                          connection_timeout=HTTP_TIMEOUT)
    yield client, {"Authorization": f"Bearer {console.admin_token}"}
    client.close()


def recommend(recommend_pb, console, user, k):
    pb, pb_grpc = recommend_pb
    with grpc.insecure_channel(console.grpc_target) as channel:
        response = pb_grpc.RecommendStub(channel).Recommend(
            pb.RecommendRequest(model=MODEL, user_id=user, k=k),
            metadata=[("authorization", f"Bearer {console.admin_token}")], timeout=HTTP_TIMEOUT)
    return [item.item_id for item in response.items], [item.score for item in response.items]


def infer(client, headers, users, k=None, model=MODEL, binary=True, outputs="named", **kwargs):
    """tritonclient.http infer: binary=True is the client's default (the binary tensor data extension both ways),
    False sends and asks for JSON tensors; outputs=None asks for every output (binary_data_output)."""
    inputs = [triton.InferInput("user_id", [len(users)], "BYTES")]
    inputs[0].set_data_from_numpy(np.array([u.encode() for u in users], dtype=np.object_), binary_data=binary)
    if k is not None:
        inputs.append(triton.InferInput("k", [1], "INT32"))
        inputs[1].set_data_from_numpy(np.array([k], dtype=np.int32), binary_data=binary)
    if outputs == "named":
        outputs = [triton.InferRequestedOutput(name, binary_data=binary) for name in ("item_ids", "scores")]
    # A copy: tritonclient adds Inference-Header-Content-Length to the headers dict it is given.
    return client.infer(model, inputs, outputs=outputs, headers=dict(headers), **kwargs)


def assert_same_as_recommend(recommend_pb, console, result, users, k):
    items, scores = result.as_numpy("item_ids"), result.as_numpy("scores")
    assert items.shape == (len(users), k) and scores.shape == (len(users), k)
    for row, user in enumerate(users):
        expected_items, expected_scores = recommend(recommend_pb, console, user, k)
        assert [i.decode() if isinstance(i, bytes) else i for i in items[row]] == expected_items, user
        np.testing.assert_allclose(scores[row].astype(np.float32), np.array(expected_scores, dtype=np.float32),
                                   rtol=1e-6)


def error_of(call):
    with pytest.raises(InferenceServerException) as raised:
        call()
    return raised.value.status(), raised.value.message()


def test_health_is_public_and_server_metadata(client):
    client, _ = client
    assert client.is_server_live()
    assert client.is_server_ready()
    metadata = client.get_server_metadata()
    assert metadata["name"] == "aimass" and metadata["version"]


def test_model_ready(client):
    client, headers = client
    assert client.is_model_ready(MODEL, headers=headers)
    assert client.is_model_ready(MODEL, model_version="1", headers=headers)
    assert not client.is_model_ready(MODEL, model_version="2", headers=headers)
    assert not client.is_model_ready("no-such-model", headers=headers)


def test_model_metadata_describes_the_tensors(client):
    client, headers = client
    metadata = client.get_model_metadata(MODEL, headers=headers)
    assert metadata["name"] == MODEL and metadata["versions"] == ["1"]
    inputs = {t["name"]: (t["datatype"], t["shape"]) for t in metadata["inputs"]}
    assert inputs == {"user_id": ("BYTES", [-1]), "seed_items": ("BYTES", [-1]), "k": ("INT32", [1]),
                      "exclude_seen": ("BOOL", [1])}
    outputs = {t["name"]: (t["datatype"], t["shape"]) for t in metadata["outputs"]}
    assert outputs == {"item_ids": ("BYTES", [-1, -1]), "scores": ("FP32", [-1, -1])}
    assert client.get_model_metadata(MODEL, model_version="1", headers=headers)["name"] == MODEL
    status, message = error_of(lambda: client.get_model_metadata("no-such-model", headers=headers))
    assert status == "404" and "no-such-model" in message


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_infer_answers_what_recommend_answers(client, console, recommend_pb, binary):
    client, headers = client
    for user in USERS:
        result = infer(client, headers, [user], k=7, binary=binary)
        assert_same_as_recommend(recommend_pb, console, result, [user], 7)
        response = result.get_response()
        assert response["model_version"] == "1"
        for output in response["outputs"]:
            # Binary outputs carry their size and no data; JSON ones their data.
            assert ("binary_data_size" in output.get("parameters", {})) == binary and ("data" in output) != binary


def test_default_options_ask_for_every_output_as_binary(client, console, recommend_pb):
    """No outputs named: tritonclient sets binary_data_output, so both outputs come back binary."""
    client, headers = client
    result = infer(client, headers, ["196"], k=4, outputs=None)
    assert_same_as_recommend(recommend_pb, console, result, ["196"], 4)
    assert all(o["parameters"]["binary_data_size"] > 0 for o in result.get_response()["outputs"])


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_batch_of_64_users_in_one_call(client, console, recommend_pb, binary):
    client, headers = client
    users = [str(u) for u in range(1, 65)]
    result = infer(client, headers, users, k=5, model_version="1", binary=binary)
    assert_same_as_recommend(recommend_pb, console, result, users, 5)


def test_bad_tensors_are_400_naming_the_tensor(client):
    client, headers = client
    wrong_name = triton.InferInput("user", [1], "BYTES")
    wrong_name.set_data_from_numpy(np.array([b"196"], dtype=np.object_), binary_data=False)
    status, message = error_of(lambda: client.infer(MODEL, [wrong_name], headers=headers))
    assert status == "400" and "'user'" in message and "user_id" in message

    users = triton.InferInput("user_id", [1], "BYTES")
    users.set_data_from_numpy(np.array([b"196"], dtype=np.object_), binary_data=False)
    k64 = triton.InferInput("k", [1], "INT64")
    k64.set_data_from_numpy(np.array([5], dtype=np.int64), binary_data=False)
    status, message = error_of(lambda: client.infer(MODEL, [users, k64], headers=headers))
    assert status == "400" and "'k'" in message and "INT32" in message

    # The same wrong datatype in binary form: the same answer.
    k64 = triton.InferInput("k", [1], "INT64")
    k64.set_data_from_numpy(np.array([5], dtype=np.int64))
    status, message = error_of(lambda: infer_inputs(client, headers, [users, k64]))
    assert status == "400" and "'k'" in message and "INT32" in message


def infer_inputs(client, headers, inputs):
    return client.infer(MODEL, inputs, headers=dict(headers))


def test_unknown_model_is_404_and_no_token_is_401(client):
    client, headers = client
    status, message = error_of(lambda: infer(client, headers, ["196"], model="no-such-model"))
    assert status == "404" and "no-such-model" in message, (status, message)
    status, message = error_of(lambda: infer(client, {}, ["196"]))
    assert status == "401" and message
    status, _ = error_of(lambda: infer(client, {"Authorization": "Bearer wrong"}, ["196"]))
    assert status == "401"
    status, _ = error_of(lambda: client.get_model_metadata(MODEL))
    assert status == "401"


def raw(console, method, path, body=None, token=None):
    """One HTTP request with http.client; returns (status, parsed JSON body or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", console.http_port, timeout=HTTP_TIMEOUT)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data else None


def test_raw_json_infer_on_the_wire(console, recommend_pb):
    body = {"id": "req-1", "inputs": [
        {"name": "user_id", "shape": [2], "datatype": "BYTES", "data": ["196", "42"]},
        {"name": "k", "shape": [1], "datatype": "INT32", "data": [[3]]},  # nested data is flattened, as the spec allows
    ]}
    status, answer = raw(console, "POST", f"/v2/models/{MODEL}/versions/1/infer", body, console.admin_token)
    assert status == 200, answer
    assert answer["id"] == "req-1" and answer["model_name"] == MODEL and answer["model_version"] == "1"
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["item_ids"]["datatype"] == "BYTES" and outputs["item_ids"]["shape"] == [2, 3]
    assert outputs["scores"]["datatype"] == "FP32" and outputs["scores"]["shape"] == [2, 3]
    for row, user in enumerate(["196", "42"]):
        expected_items, expected_scores = recommend(recommend_pb, console, user, 3)
        assert outputs["item_ids"]["data"][row * 3:row * 3 + 3] == expected_items
        np.testing.assert_allclose(np.array(outputs["scores"]["data"][row * 3:row * 3 + 3], dtype=np.float32),
                                   np.array(expected_scores, dtype=np.float32), rtol=1e-6)


def test_raw_json_errors_and_public_health(console):
    assert raw(console, "GET", "/v2/health/live") == (200, None)
    assert raw(console, "GET", "/v2/health/ready") == (200, None)
    status, answer = raw(console, "GET", "/v2")
    assert status == 200 and answer["name"] == "aimass" and "binary_tensor_data" in answer["extensions"]
    short = {"inputs": [{"name": "user_id", "shape": [2], "datatype": "BYTES", "data": ["196"]}]}
    status, answer = raw(console, "POST", f"/v2/models/{MODEL}/infer", short, console.admin_token)
    assert status == 400 and "'user_id'" in answer["error"], answer
    status, answer = raw(console, "POST", f"/v2/models/{MODEL}/infer", {"inputs": "x"}, console.admin_token)
    assert status == 400 and "inputs" in answer["error"]
    good = {"inputs": [{"name": "user_id", "shape": [1], "datatype": "BYTES", "data": ["196"]}]}
    status, answer = raw(console, "POST", f"/v2/models/{MODEL}/infer", good)
    assert status == 401 and answer["error"]
    status, answer = raw(console, "GET", f"/v2/models/{MODEL}/ready")
    assert status == 401 and answer["error"]
    status, answer = raw(console, "GET", f"/v2/models/{MODEL}/versions/x/ready", token=console.admin_token)
    assert status == 400 and "version" in answer["error"]


def test_a_user_without_a_role_on_the_model_is_403(client, console):
    client, _ = client
    stranger = console.cli("token", "create", "--user", "stranger").stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {stranger}"}
    status, message = error_of(lambda: infer(client, headers, ["196"]))
    assert status == "403" and message, message
    status, _ = error_of(lambda: client.get_model_metadata(MODEL, headers=headers))
    assert status == "403"
    # The reader granted on the model gets the answer the admin gets.
    reader = {"Authorization": f"Bearer {console.reader_token}"}
    assert infer(client, reader, ["196"], k=3).as_numpy("item_ids").shape == (1, 3)


def binary_request(console, body_json, binary, token, header_length=None):
    """POSTs a JSON header followed by `binary` with Inference-Header-Content-Length; returns (status, headers, body)."""
    header = json.dumps(body_json).encode()
    conn = http.client.HTTPConnection("127.0.0.1", console.http_port, timeout=HTTP_TIMEOUT)
    conn.request("POST", f"/v2/models/{MODEL}/infer", body=header + binary, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream",
        "Inference-Header-Content-Length": str(len(header) if header_length is None else header_length)})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def length_prefixed(values):
    return b"".join(struct.pack("<I", len(v)) + v for v in values)


def test_binary_extension_on_the_wire(console, recommend_pb):
    """The extension's framing as the spec writes it, without tritonclient: binary inputs in order after the JSON
    header, a binary output after the answer's header, whose length is in Inference-Header-Content-Length."""
    users = length_prefixed([b"196", b"42"])
    body = {"inputs": [
        {"name": "user_id", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": len(users)}},
        {"name": "k", "shape": [1], "datatype": "INT32", "parameters": {"binary_data_size": 4}},
    ], "outputs": [{"name": "item_ids"}, {"name": "scores", "parameters": {"binary_data": True}}]}
    status, headers, data = binary_request(console, body, users + struct.pack("<i", 3), console.admin_token)
    assert status == 200, data
    length = int(headers["inference-header-content-length"])
    answer = json.loads(data[:length])
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["scores"]["parameters"]["binary_data_size"] == 2 * 3 * 4 and "data" not in outputs["scores"]
    assert len(data) == length + 2 * 3 * 4
    scores = struct.unpack("<6f", data[length:])
    for row, user in enumerate(["196", "42"]):
        expected_items, expected_scores = recommend(recommend_pb, console, user, 3)
        assert outputs["item_ids"]["data"][row * 3:row * 3 + 3] == expected_items  # JSON: not asked for as binary
        np.testing.assert_allclose(np.array(scores[row * 3:row * 3 + 3], dtype=np.float32),
                                   np.array(expected_scores, dtype=np.float32), rtol=1e-6)


def test_binary_extension_errors_name_the_tensor(console):
    one = length_prefixed([b"196"])
    body = {"inputs": [{"name": "user_id", "shape": [1], "datatype": "BYTES",
                        "parameters": {"binary_data_size": len(one) + 4}}]}
    status, _, data = binary_request(console, body, one, console.admin_token)
    assert status == 400 and "'user_id'" in json.loads(data)["error"] and "remain" in json.loads(data)["error"]
    body["inputs"][0]["parameters"]["binary_data_size"] = len(one)
    status, _, data = binary_request(console, body, one + b"xx", console.admin_token)
    assert status == 400 and "no input claims" in json.loads(data)["error"]
    status, _, data = binary_request(console, body, one, console.admin_token, header_length=10**6)
    assert status == 400 and "Inference-Header-Content-Length" in json.loads(data)["error"]
    # A 2-element shape with one element's bytes.
    body["inputs"][0]["shape"] = [2]
    status, _, data = binary_request(console, body, one, console.admin_token)
    assert status == 400 and "holds 2 elements" in json.loads(data)["error"]


def test_a_token_over_its_quota_gets_429_with_retry_after(console):
    """A token of 1 call per second (a burst of 1): of 20 calls at once some are shed, each with the server's wait;
    a call made after waiting that long is admitted."""
    good = {"inputs": [{"name": "user_id", "shape": [1], "datatype": "BYTES", "data": ["196"]}]}
    for path, body, error_key in ((f"/v2/models/{MODEL}/infer", good, "error"),
                                  (f"/api/models/{MODEL}", None, "message")):
        limited = console.cli("token", "create", "--user", "reader", "--rate", "1").stdout.strip().splitlines()[-1]

        def one(_):
            conn = http.client.HTTPConnection("127.0.0.1", console.http_port, timeout=HTTP_TIMEOUT)
            conn.request("POST" if body else "GET", path, body=json.dumps(body).encode() if body else None,
                         headers={"Authorization": f"Bearer {limited}"})
            response = conn.getresponse()
            answer = json.loads(response.read() or b"null")
            conn.close()
            return response.status, response.getheader("Retry-After"), answer

        with ThreadPoolExecutor(max_workers=20) as pool:
            outcomes = list(pool.map(one, range(20)))
        statuses = sorted({status for status, _, _ in outcomes})
        assert 429 in statuses and 200 in statuses, (path, statuses)
        for status, retry_after, answer in outcomes:
            if status != 429:
                continue
            assert "quota" in answer[error_key], answer
            assert 1 <= answer["retry_after_ms"] <= 1000, answer
            # Whole seconds, rounded up: a client that waits this long is admitted.
            assert retry_after == str(-(-answer["retry_after_ms"] // 1000)), (retry_after, answer)
        time.sleep(max(int(retry_after) for status, retry_after, _ in outcomes if status == 429))  # as told to
        assert one(0)[0] == 200
