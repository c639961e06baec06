"""RFC 9113 §5.1.1: a client's new stream must have an id greater than every stream it opened before. A HEADERS
frame on a lower id that was never used (or is long closed) is a connection error PROTOCOL_ERROR: the server
answers GOAWAY(PROTOCOL_ERROR) and closes, and keeps serving everyone else. Raw frames, since h2 (rightly) refuses
to send them."""

from __future__ import annotations

import socket
import struct
import time

import grpc
import h2.config
import h2.connection
import h2.events
import hpack
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from h2grpc import frame_message

WAIT = 15.0
PROTOCOL_ERROR, STREAM_CLOSED = 0x1, 0x5
HEADERS, GOAWAY, FLAG_END_HEADERS, FLAG_END_STREAM = 0x1, 0x7, 0x4, 0x1


def request_headers(encoder: hpack.Encoder, host: str) -> bytes:
    return encoder.encode([(":method", "POST"), (":scheme", "http"), (":path", "/grpc.health.v1.Health/Check"),
                           (":authority", host), ("content-type", "application/grpc"), ("te", "trailers")])


def frame(kind: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + struct.pack(">I", stream_id) + payload


class RawClient:
    """Preface and SETTINGS through h2, then frames written by hand; reads frames until a GOAWAY or EOF."""

    def __init__(self, host: str, port: int):
        self.sock = socket.create_connection((host, port), timeout=WAIT)
        self.sock.settimeout(1.0)
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        self.sock.sendall(conn.data_to_send())
        self.encoder = hpack.Encoder()
        self.buffer = b""

    def call(self, stream_id: int, target: str):
        body = frame_message(health_pb2.HealthCheckRequest().SerializeToString())
        self.sock.sendall(frame(HEADERS, FLAG_END_HEADERS, stream_id, request_headers(self.encoder, target))
                          + frame(0x0, FLAG_END_STREAM, stream_id, body))

    def frames(self):
        """Yields (type, flags, stream_id, payload) until the peer closes; a timeout fails the test."""
        deadline = time.monotonic() + WAIT
        while True:
            while len(self.buffer) >= 9:
                length = int.from_bytes(self.buffer[:3], "big")
                if len(self.buffer) < 9 + length:
                    break
                kind, flags = self.buffer[3], self.buffer[4]
                stream_id = struct.unpack(">I", self.buffer[5:9])[0] & 0x7FFFFFFF
                payload, self.buffer = self.buffer[9:9 + length], self.buffer[9 + length:]
                yield kind, flags, stream_id, payload
            if time.monotonic() > deadline:
                pytest.fail("the server neither answered nor closed within the timeout", pytrace=False)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return
            if not chunk:
                return
            self.buffer += chunk

    def wait_response_end(self, stream_id: int):
        for kind, flags, sid, _ in self.frames():
            if kind == HEADERS and sid == stream_id and flags & FLAG_END_STREAM:
                return
            assert kind != GOAWAY, "GOAWAY instead of a response"
        pytest.fail(f"the connection closed before stream {stream_id} was answered", pytrace=False)

    def goaway(self):
        """The GOAWAY's (last stream id, error code), then asserts the server closes the connection."""
        got = None
        for kind, _, _, payload in self.frames():
            if kind == GOAWAY:
                last, code = struct.unpack(">II", payload[:8])
                got = (last & 0x7FFFFFFF, code)
        return got


@pytest.mark.parametrize("lower", [3, 1], ids=["never-used-id", "reused-id"])
def test_headers_on_a_lower_stream_id_is_a_connection_error(healthy, lower):
    server = healthy
    client = RawClient(server.host, server.port)
    try:
        client.call(1, server.target)
        client.wait_response_end(1)
        client.call(5, server.target)
        client.wait_response_end(5)
        client.call(lower, server.target)  # lower than 5: never opened (3), or opened and finished (1)
        got = client.goaway()
    finally:
        client.sock.close()
    assert got is not None, "the server closed without a GOAWAY"
    last, code = got
    # A never-used lower id is PROTOCOL_ERROR (§5.1.1); HEADERS on a stream the client already ended is also
    # STREAM_CLOSED by §5.1 ("closed" state), which nghttp2 answers with when it still knows the stream.
    expected = {PROTOCOL_ERROR} if lower == 3 else {PROTOCOL_ERROR, STREAM_CLOSED}
    assert code in expected, f"GOAWAY error code {code}, expected one of {expected}"
    assert last == 5, f"GOAWAY last stream id {last}"


def test_increasing_stream_ids_stay_fine(healthy):
    """The check must not touch legitimate clients: ids 1, 3, 5, … on one connection, and grpcio."""
    server = healthy
    client = RawClient(server.host, server.port)
    try:
        for stream_id in (1, 3, 5, 7, 101):
            client.call(stream_id, server.target)
            client.wait_response_end(stream_id)
    finally:
        client.sock.close()
    with grpc.insecure_channel(server.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for _ in range(50):
            assert stub.Check(health_pb2.HealthCheckRequest(), timeout=WAIT).status == health_pb2.HealthCheckResponse.SERVING
