"""Legal-but-unusual HTTP/2 that real gRPC clients send, against our interop server (raw `h2`).

Covers what grpcio alone does not exercise: END_STREAM on HEADERS, messages split across DATA
frames and several messages in one frame, default 64 KiB windows (the server must pause and
resume on WINDOW_UPDATE), unknown SETTINGS ids, PING, grpc-timeout units, unpadded base64 in
`-bin` metadata. Each test ends with the server alive and SERVING (fixture `healthy`).
AIMASS_BAD_INPUT_PEER=python runs them against the grpcio server.
"""

from __future__ import annotations

import base64

import pytest

import h2grpc

TIMEOUT = 10.0
UNARY = "/grpc.testing.TestService/UnaryCall"
INPUT = "/grpc.testing.TestService/StreamingInputCall"
DUPLEX = "/grpc.testing.TestService/FullDuplexCall"


def _connect(server, **kw) -> h2grpc.H2GrpcConnection:
    conn = h2grpc.H2GrpcConnection(server.host, server.port, timeout=TIMEOUT, **kw)
    conn.wait_settings()
    return conn


def _simple(stubs, response_size: int, body_size: int = 0) -> bytes:
    pb = stubs.messages_pb2
    return pb.SimpleRequest(response_size=response_size,
                            payload=pb.Payload(body=b"\0" * body_size)).SerializeToString()


def _ok_unary(st, stubs, size: int, what: str):
    assert st.http_status == 200 and st.grpc_status == 0, f"{what}: {st.describe()}"
    msgs = st.messages()
    assert len(msgs) == 1, f"{what}: {len(msgs)} response messages"
    body = stubs.messages_pb2.SimpleResponse.FromString(msgs[0][1]).payload.body
    assert body == b"\0" * size, f"{what}: payload of {len(body)} bytes, expected {size} zero bytes"


def test_end_stream_on_headers_for_an_empty_duplex_call(healthy):
    with _connect(healthy) as conn:
        sid = conn.start(DUPLEX, end_stream=True)
        st = conn.wait(sid)
        assert st.grpc_status == 0, st.describe()
        assert st.messages() == [], st.describe()


def test_unary_without_a_request_message_fails_cleanly(healthy, stubs):
    with _connect(healthy) as conn:
        sid = conn.start(UNARY, end_stream=True)
        st = conn.wait(sid)
        assert st.grpc_status not in (None, 0), f"a unary call with no request message: {st.describe()}"
        _ok_unary(conn.call(UNARY, h2grpc.frame_message(_simple(stubs, 7))), stubs, 7, "next call")


def test_message_split_into_one_byte_data_frames(healthy, stubs):
    with _connect(healthy) as conn:
        sid = conn.start(UNARY)
        conn.send(sid, h2grpc.frame_message(_simple(stubs, 321, 64)), end_stream=True, max_frame=1)
        _ok_unary(conn.wait(sid), stubs, 321, "1-byte DATA frames")


def test_several_messages_in_one_data_frame(healthy, stubs):
    pb = stubs.messages_pb2
    sizes = [10, 0, 300, 5]
    body = b"".join(h2grpc.frame_message(pb.StreamingInputCallRequest(payload=pb.Payload(body=b"\0" * n))
                                         .SerializeToString()) for n in sizes)
    with _connect(healthy) as conn:
        st = conn.call(INPUT, body)
    assert st.grpc_status == 0, st.describe()
    (flag, data), = st.messages()
    assert pb.StreamingInputCallResponse.FromString(data).aggregated_payload_size == sum(sizes)


def test_large_messages_with_default_64k_windows(healthy, stubs):
    # both directions exceed 65,535 bytes: the server must honour our windows and grant its own
    with _connect(healthy, big_windows=False) as conn:
        st = conn.call(UNARY, h2grpc.frame_message(_simple(stubs, 300_000, 200_000)), timeout=20)
        _ok_unary(st, stubs, 300_000, "300 kB each way with 64 KiB windows")
        _ok_unary(conn.call(UNARY, h2grpc.frame_message(_simple(stubs, 100_000, 100_000))), stubs, 100_000,
                  "second call on the same connection")


def test_unknown_settings_id_and_ping(healthy, stubs):
    with _connect(healthy, extra_settings={0xFE03: 1, 0x4242: 7}) as conn:
        rtt = conn.ping(b"12345678")
        assert rtt < TIMEOUT
        _ok_unary(conn.call(UNARY, h2grpc.frame_message(_simple(stubs, 9))), stubs, 9, "after unknown SETTINGS")


@pytest.mark.parametrize("timeout", ["10S", "10100m", "3M", "1H", "99999999u"])
def test_grpc_timeout_units(timeout, healthy, stubs):
    with _connect(healthy) as conn:
        sid = conn.start(UNARY, extra_headers=[("grpc-timeout", timeout)])
        conn.send(sid, h2grpc.frame_message(_simple(stubs, 3)), end_stream=True)
        _ok_unary(conn.wait(sid), stubs, 3, f"grpc-timeout: {timeout}")


def test_bin_metadata_unpadded_base64_is_accepted(healthy, stubs):
    value = b"\xab\xab"  # base64 "q6s=", sent without its padding
    unpadded = base64.b64encode(value).decode().rstrip("=")
    with _connect(healthy) as conn:
        sid = conn.start(UNARY, extra_headers=[("x-grpc-test-echo-trailing-bin", unpadded)])
        conn.send(sid, h2grpc.frame_message(_simple(stubs, 1)), end_stream=True)
        st = conn.wait(sid)
    _ok_unary(st, stubs, 1, "unpadded -bin metadata")
    echoed = st.trailers.get("x-grpc-test-echo-trailing-bin")
    assert echoed is not None, f"trailer not echoed: {st.describe()}"
    assert base64.b64decode(echoed + "=" * (-len(echoed) % 4)) == value
