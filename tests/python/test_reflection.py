"""Server reflection (grpc.reflection.v1 and v1alpha) as grpcio-reflection's client sees it, on every role of
`aimass serve`: the embedded default, a control plane and a worker. Reflection is public, as health is: no token.

Needs AIMASS_BIN_DIR."""

from __future__ import annotations

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from conftest import aimass_binary, start_server, stop_server
from roles import control_plane_with_worker

REFLECTION = {"grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}
EMBEDDED = {
    "aimass.v1.ModelRegistry", "aimass.v1.Recommend", "aimass.v1.Scheduler", "aimass.v1.Mesh", "aimass.v1.Access",
    "aimass.v1.Feedback",
    "inference.GRPCInferenceService", "grpc.health.v1.Health",
} | REFLECTION
# A worker serves Feedback/Record too (forwarded to the control plane, attributed to the version it served).
WORKER = {"aimass.v1.Recommend", "aimass.v1.Feedback", "inference.GRPCInferenceService",
          "grpc.health.v1.Health"} | REFLECTION


class V1Channel:
    """Sends grpcio-reflection's calls, which it makes on v1alpha, to grpc.reflection.v1: the messages of both are
    the same on the wire, so its client (and descriptor database) speak v1 through this."""

    def __init__(self, channel):
        self.channel = channel
        self.paths = []

    def stream_stream(self, method, *args, **kwargs):
        path = method.replace("/grpc.reflection.v1alpha.", "/grpc.reflection.v1.")
        self.paths.append(path)
        return self.channel.stream_stream(path, *args, **kwargs)


def check_database(channel, expected_services):
    database = ProtoReflectionDescriptorDatabase(channel)
    assert set(database.get_services()) == expected_services
    pool = DescriptorPool(database)
    request = pool.FindMessageTypeByName("aimass.v1.RecommendRequest")
    assert {"model", "user_id", "seed_items", "k", "exclude_seen"} <= set(request.fields_by_name)
    assert request.fields_by_name["version"].message_type.full_name == "aimass.v1.VersionSelector"
    for name in expected_services:
        service = pool.FindServiceByName(name)
        assert service.methods, name
    if "inference.GRPCInferenceService" in expected_services:
        methods = {m.name for m in pool.FindServiceByName("inference.GRPCInferenceService").methods}
        assert {"ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata", "ModelInfer"} <= methods


def ask(channel, *requests, path="/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"):
    call = channel.stream_stream(path, request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                                 response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    return list(call(iter(requests), timeout=30))


def test_embedded_server_on_v1alpha_and_v1(tmp_path):
    server = start_server("aimass", [aimass_binary("aimass"), "serve", "--port", "0", "--data-dir", tmp_path],
                          r"aimass listening on (127\.0\.0\.1):(\d+)")
    try:
        with grpc.insecure_channel(server.target) as channel:
            check_database(channel, EMBEDDED)
            v1 = V1Channel(channel)
            check_database(v1, EMBEDDED)
            assert v1.paths and all("/grpc.reflection.v1.ServerReflection/" in p for p in v1.paths)
    finally:
        stop_server(server)


def test_v1_stream_answers_each_request_and_errors_in_band(tmp_path):
    server = start_server("aimass", [aimass_binary("aimass"), "serve", "--port", "0", "--data-dir", tmp_path],
                          r"aimass listening on (127\.0\.0\.1):(\d+)")
    R = reflection_pb2.ServerReflectionRequest
    try:
        with grpc.insecure_channel(server.target) as channel:
            responses = ask(
                channel,
                R(host="h", list_services=""),
                R(file_containing_symbol="aimass.v1.RecommendRequest"),
                R(file_by_filename="aimass/v1/recommend.proto"),
                R(file_by_filename="no/such.proto"),
                R(file_containing_symbol="inference.ModelInferRequest.InferInputTensor"),
                R(all_extension_numbers_of_type="aimass.v1.RecommendRequest"),
                R(all_extension_numbers_of_type="aimass.v1.NoSuchMessage"),
                R(file_containing_extension=reflection_pb2.ExtensionRequest(containing_type="aimass.v1.RecommendRequest",
                                                                            extension_number=100)),
            )
        assert len(responses) == 8
        assert responses[0].valid_host == "h" and responses[0].original_request.list_services == ""
        assert {s.name for s in responses[0].list_services_response.service} == EMBEDDED
        # The file with its imports, then (on the same stream) the file alone: its import was sent already.
        first = [descriptor_pb2.FileDescriptorProto.FromString(b)
                 for b in responses[1].file_descriptor_response.file_descriptor_proto]
        assert [f.name for f in first] == ["aimass/v1/recommend.proto", "aimass/v1/common.proto"]
        assert "RecommendRequest" in {m.name for m in first[0].message_type}
        again = responses[2].file_descriptor_response.file_descriptor_proto
        assert [descriptor_pb2.FileDescriptorProto.FromString(b).name for b in again] == ["aimass/v1/recommend.proto"]
        assert responses[3].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
        assert "no/such.proto" in responses[3].error_response.error_message
        inference = descriptor_pb2.FileDescriptorProto.FromString(
            responses[4].file_descriptor_response.file_descriptor_proto[0])
        assert inference.name == "inference/grpc_service.proto" and inference.package == "inference"
        assert responses[5].all_extension_numbers_response.base_type_name == "aimass.v1.RecommendRequest"
        assert list(responses[5].all_extension_numbers_response.extension_number) == []
        assert responses[6].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
        assert responses[7].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    finally:
        stop_server(server)


def test_control_plane_and_worker_roles(tmp_path):
    with control_plane_with_worker(tmp_path) as (cp, worker, _, _):
        with grpc.insecure_channel(cp.target) as channel:
            check_database(channel, EMBEDDED)
        with grpc.insecure_channel(worker.target) as channel:
            check_database(channel, WORKER)
            check_database(V1Channel(channel), WORKER)


def test_interop_server(interop_server):
    expected = {"grpc.testing.TestService", "grpc.health.v1.Health"} | REFLECTION
    with grpc.insecure_channel(interop_server.target) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        assert set(database.get_services()) == expected
        pool = DescriptorPool(database)
        call = pool.FindMethodByName("grpc.testing.TestService.UnaryCall")
        assert call.input_type.full_name == "grpc.testing.SimpleRequest"
        assert "response_size" in call.input_type.fields_by_name
        assert set(ProtoReflectionDescriptorDatabase(V1Channel(channel)).get_services()) == expected
