"""grpc.health.v1.Health of `aimass serve`: Check, Watch (grpcio-health-checking's stubs) and List
(our generated stubs; grpcio's health package has no List)."""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from protogen import HEALTH_LIST_PATH

TIMEOUT = 10


@pytest.fixture
def channel(aimass_server):
    with grpc.insecure_channel(aimass_server.target) as ch:
        grpc.channel_ready_future(ch).result(timeout=TIMEOUT)
        yield ch
    aimass_server.assert_alive()


def test_check_overall_is_serving(channel):
    resp = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_check_unknown_service_is_not_found(channel):
    with pytest.raises(grpc.RpcError) as ei:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="nope"), timeout=TIMEOUT)
    assert ei.value.code() == grpc.StatusCode.NOT_FOUND, f"{ei.value.code()}: {ei.value.details()}"


def test_watch_overall_first_message_is_serving(channel):
    call = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT)
    try:
        first = next(call)
        assert first.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        call.cancel()


def test_list_contains_overall_service(channel, stubs):
    hpb = stubs.health_pb2
    list_call = channel.unary_unary(HEALTH_LIST_PATH, request_serializer=hpb.HealthListRequest.SerializeToString,
                                    response_deserializer=hpb.HealthListResponse.FromString)
    resp = list_call(hpb.HealthListRequest(), timeout=TIMEOUT)
    assert "" in resp.statuses, f"List has no overall \"\" entry: {dict(resp.statuses)}"
    assert resp.statuses[""].status == hpb.HealthCheckResponse.SERVING
