"""The official gRPC interop client cases, written for grpcio from the descriptions in
grpc/grpc doc/interop-test-descriptions.md ("Client" section).

Each case is a function `case(target, stubs)` that raises AssertionError (or grpc.RpcError) when the
server under test misbehaves. `target` is "host:port" (plaintext, prior knowledge) or a TLSTarget
(grpcio's ssl_channel_credentials, ALPN h2, the certificate checked against `name_override`).

Two things grpcio does not expose are handled explicitly:
* The compressed flag of a received message (server_compressed_unary, server_compressed_streaming):
  those calls run on a channel with gRPC core's per-message decompression turned off
  (`grpc.per_message_decompression` = 0), so the response bytes arrive as sent and a gzip/deflate
  body (recognised by its magic bytes) means the flag was set; the case inflates it itself.
* Choosing compression per request message (client_compressed_streaming needs a compressed first
  message and an uncompressed second one in one call): that call is sent with raw HTTP/2 framing
  (h2grpc.py), where the flag of each message is explicit.

Run one case by hand:
    python interop_client_cases.py --server_host 127.0.0.1 --server_port 8080 --test_case large_unary
"""

from __future__ import annotations

import argparse
import queue
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import h2grpc  # noqa: E402
from interop_server import inflate  # noqa: E402

TIMEOUT = 15.0  # seconds; every call carries a deadline

ECHO_INITIAL = ("x-grpc-test-echo-initial", "test_initial_metadata_value")
ECHO_TRAILING = ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")
SPECIAL_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"

CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    ("grpc.max_send_message_length", 16 * 1024 * 1024),
    ("grpc.enable_retries", 0),
]
RAW_CHANNEL_OPTIONS = CHANNEL_OPTIONS + [("grpc.per_message_decompression", 0)]


# -- helpers -----------------------------------------------------------------------------------

def _zeros(n: int) -> bytes:
    return b"\0" * n


@dataclass(frozen=True)
class TLSTarget:
    """A TLS server: its address, the CA file to trust and the name expected on its certificate."""

    address: str
    ca_file: str
    name_override: str = "foo.test.google.fr"
    client_cert: str | None = None  # PEM client certificate and key, for servers that require one (mTLS)
    client_key: str | None = None

    def __str__(self) -> str:
        return f"{self.address} (TLS, as {self.name_override})"

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        ctx.set_alpn_protocols(["h2"])
        if self.client_cert:
            ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx


def _address(target) -> str:
    return target.address if isinstance(target, TLSTarget) else target


def _channel(target, raw: bool = False) -> grpc.Channel:
    options = RAW_CHANNEL_OPTIONS if raw else CHANNEL_OPTIONS
    if isinstance(target, TLSTarget):
        credentials = grpc.ssl_channel_credentials(
            root_certificates=Path(target.ca_file).read_bytes(),
            private_key=Path(target.client_key).read_bytes() if target.client_key else None,
            certificate_chain=Path(target.client_cert).read_bytes() if target.client_cert else None)
        ch = grpc.secure_channel(target.address, credentials,
                                 options=options + [("grpc.ssl_target_name_override", target.name_override)])
    else:
        ch = grpc.insecure_channel(target, options=options)
    try:
        grpc.channel_ready_future(ch).result(timeout=TIMEOUT)
    except grpc.FutureTimeoutError:
        ch.close()
        raise AssertionError(f"could not connect to {target} within {TIMEOUT}s")
    return ch


def _stub(stubs, ch):
    return stubs.test_pb2_grpc.TestServiceStub(ch)


def _expect_rpc_error(fn, code: grpc.StatusCode, details: str | None = None, what: str = "call"):
    try:
        result = fn()
    except grpc.RpcError as e:
        assert e.code() == code, f"{what}: expected {code.name}, got {e.code().name}: {e.details()!r}"
        if details is not None:
            assert e.details() == details, f"{what}: expected message {details!r}, got {e.details()!r}"
        return e
    raise AssertionError(f"{what}: expected {code.name}, but the call succeeded with {result!r}")


class RequestQueue:
    """A request iterator fed from the test thread; close() ends it (half-close)."""

    _END = object()

    def __init__(self):
        self._q: queue.Queue = queue.Queue()

    def put(self, msg):
        self._q.put(msg)

    def close(self):
        self._q.put(self._END)

    def __iter__(self):
        while True:
            item = self._q.get()
            if item is self._END:
                return
            yield item


def _next(it, what: str):
    """next() on a response iterator, bounded by the call's deadline."""
    try:
        return next(it)
    except StopIteration:
        raise AssertionError(f"{what}: the stream ended before a response arrived")


def _assert_body(payload, size: int, what: str):
    assert len(payload.body) == size, f"{what}: payload body is {len(payload.body)} bytes, expected {size}"
    assert payload.body == _zeros(size), f"{what}: payload body is not all zeros"


def _large_request(pb, **kw):
    return pb.SimpleRequest(response_size=314159, payload=pb.Payload(body=_zeros(271828)), **kw)


# -- cases -------------------------------------------------------------------------------------

def empty_unary(target, stubs):
    with _channel(target) as ch:
        resp = _stub(stubs, ch).EmptyCall(stubs.empty_pb2.Empty(), timeout=TIMEOUT)
    assert resp is not None, "EmptyCall returned nothing"
    assert isinstance(resp, stubs.empty_pb2.Empty)
    assert resp.ByteSize() == 0


def large_unary(target, stubs):
    pb = stubs.messages_pb2
    with _channel(target) as ch:
        resp = _stub(stubs, ch).UnaryCall(_large_request(pb), timeout=TIMEOUT)
    _assert_body(resp.payload, 314159, "large_unary")


def client_compressed_unary(target, stubs):
    pb = stubs.messages_pb2
    with _channel(target) as ch:
        stub = _stub(stubs, ch)
        # 1. feature probe: uncompressed message that claims to be compressed
        _expect_rpc_error(
            lambda: stub.UnaryCall(_large_request(pb, expect_compressed=pb.BoolValue(value=True)),
                                   timeout=TIMEOUT, compression=grpc.Compression.NoCompression),
            grpc.StatusCode.INVALID_ARGUMENT, what="probe (uncompressed, expect_compressed=true)")
        # 2. compressed message, expect_compressed=true
        resp = stub.UnaryCall(_large_request(pb, expect_compressed=pb.BoolValue(value=True)),
                              timeout=TIMEOUT, compression=grpc.Compression.Gzip)
        _assert_body(resp.payload, 314159, "compressed request")
        # 3. uncompressed message, expect_compressed=false
        resp = stub.UnaryCall(_large_request(pb, expect_compressed=pb.BoolValue(value=False)),
                              timeout=TIMEOUT, compression=grpc.Compression.NoCompression)
        _assert_body(resp.payload, 314159, "uncompressed request")


def server_compressed_unary(target, stubs):
    pb = stubs.messages_pb2
    with _channel(target, raw=True) as ch:
        call = ch.unary_unary("/grpc.testing.TestService/UnaryCall",
                              request_serializer=lambda m: m.SerializeToString(),
                              response_deserializer=inflate)
        for want in (True, False):
            data, compressed = call(_large_request(pb, response_compressed=pb.BoolValue(value=want)),
                                    timeout=TIMEOUT)
            assert compressed == want, (f"response_compressed={want}: the response's compressed flag "
                                        f"was {'set' if compressed else 'clear'}")
            resp = pb.SimpleResponse.FromString(data)
            _assert_body(resp.payload, 314159, f"response_compressed={want}")


def client_streaming(target, stubs):
    pb = stubs.messages_pb2
    reqs = [pb.StreamingInputCallRequest(payload=pb.Payload(body=_zeros(n))) for n in (27182, 8, 1828, 45904)]
    with _channel(target) as ch:
        resp = _stub(stubs, ch).StreamingInputCall(iter(reqs), timeout=TIMEOUT)
    assert resp.aggregated_payload_size == 74922, f"aggregated_payload_size={resp.aggregated_payload_size}"


def client_compressed_streaming(target, stubs):
    pb = stubs.messages_pb2
    first = pb.StreamingInputCallRequest(expect_compressed=pb.BoolValue(value=True),
                                         payload=pb.Payload(body=_zeros(27182)))
    second = pb.StreamingInputCallRequest(expect_compressed=pb.BoolValue(value=False),
                                          payload=pb.Payload(body=_zeros(45904)))
    # 1. probe: the uncompressed first message must fail with INVALID_ARGUMENT
    with _channel(target) as ch:
        _expect_rpc_error(
            lambda: _stub(stubs, ch).StreamingInputCall(iter([first]), timeout=TIMEOUT,
                                                        compression=grpc.Compression.NoCompression),
            grpc.StatusCode.INVALID_ARGUMENT, what="probe (uncompressed, expect_compressed=true)")
    # 2. one call, first message compressed, second uncompressed, then half-close (raw HTTP/2:
    #    grpcio has no per-message compression switch on the client)
    host, port = _address(target).rsplit(":", 1)
    tls = (target.ssl_context(), target.name_override) if isinstance(target, TLSTarget) else None
    with h2grpc.H2GrpcConnection(host, int(port), timeout=TIMEOUT, tls=tls) as conn:
        body = (h2grpc.frame_message(first.SerializeToString(), compressed=True)
                + h2grpc.frame_message(second.SerializeToString(), compressed=False))
        st = conn.call("/grpc.testing.TestService/StreamingInputCall", body,
                       extra_headers=[("grpc-encoding", "gzip")])
    assert st.http_status == 200, f"HTTP status {st.http_status}: {st.describe()}"
    assert st.grpc_status == 0, f"second call failed: {st.describe()}"
    msgs = st.messages()
    assert len(msgs) == 1, f"expected one response message, got {len(msgs)}"
    resp = pb.StreamingInputCallResponse.FromString(msgs[0][1])
    assert resp.aggregated_payload_size == 73086, f"aggregated_payload_size={resp.aggregated_payload_size}"


def server_streaming(target, stubs):
    pb = stubs.messages_pb2
    sizes = [31415, 9, 2653, 58979]
    req = pb.StreamingOutputCallRequest(response_parameters=[pb.ResponseParameters(size=n) for n in sizes])
    with _channel(target) as ch:
        resps = list(_stub(stubs, ch).StreamingOutputCall(req, timeout=TIMEOUT))
    assert len(resps) == 4, f"expected exactly four responses, got {len(resps)}"
    for r, n in zip(resps, sizes):
        _assert_body(r.payload, n, "server_streaming")


def server_compressed_streaming(target, stubs):
    pb = stubs.messages_pb2
    req = pb.StreamingOutputCallRequest(response_parameters=[
        pb.ResponseParameters(compressed=pb.BoolValue(value=True), size=31415),
        pb.ResponseParameters(compressed=pb.BoolValue(value=False), size=92653),
    ])
    with _channel(target, raw=True) as ch:
        call = ch.unary_stream("/grpc.testing.TestService/StreamingOutputCall",
                               request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=inflate)
        resps = list(call(req, timeout=TIMEOUT))
    assert len(resps) == 2, f"expected exactly two responses, got {len(resps)}"
    for (data, compressed), want, n in zip(resps, (True, False), (31415, 92653)):
        assert compressed == want, (f"response of {n} bytes: compressed flag "
                                    f"{'set' if compressed else 'clear'}, expected {'set' if want else 'clear'}")
        _assert_body(pb.StreamingOutputCallResponse.FromString(data).payload, n, "server_compressed_streaming")


def ping_pong(target, stubs):
    pb = stubs.messages_pb2
    pairs = [(31415, 27182), (9, 8), (2653, 1828), (58979, 45904)]
    reqs = RequestQueue()
    with _channel(target) as ch:
        try:
            call = _stub(stubs, ch).FullDuplexCall(iter(reqs), timeout=TIMEOUT)
            for i, (size, body) in enumerate(pairs):
                reqs.put(pb.StreamingOutputCallRequest(response_parameters=[pb.ResponseParameters(size=size)],
                                                       payload=pb.Payload(body=_zeros(body))))
                resp = _next(call, f"ping_pong step {i + 1}")
                _assert_body(resp.payload, size, f"ping_pong step {i + 1}")
            reqs.close()
            rest = list(call)
            assert not rest, f"expected exactly four responses, got {4 + len(rest)}"
            assert call.code() == grpc.StatusCode.OK, f"status {call.code()}"
        finally:
            reqs.close()


def empty_stream(target, stubs):
    with _channel(target) as ch:
        call = _stub(stubs, ch).FullDuplexCall(iter([]), timeout=TIMEOUT)
        resps = list(call)
        assert call.code() == grpc.StatusCode.OK
    assert resps == [], f"expected zero responses, got {len(resps)}"


def _assert_echoed(initial, trailing, what):
    initial = list(initial or ())
    trailing = list(trailing or ())
    assert ECHO_INITIAL in initial, f"{what}: {ECHO_INITIAL} missing from initial metadata {initial}"
    assert ECHO_TRAILING in trailing, f"{what}: {ECHO_TRAILING} missing from trailing metadata {trailing}"


def custom_metadata(target, stubs):
    pb = stubs.messages_pb2
    md = [ECHO_INITIAL, ECHO_TRAILING]
    with _channel(target) as ch:
        stub = _stub(stubs, ch)
        resp, call = stub.UnaryCall.with_call(_large_request(pb), metadata=md, timeout=TIMEOUT)
        _assert_body(resp.payload, 314159, "custom_metadata UnaryCall")
        _assert_echoed(call.initial_metadata(), call.trailing_metadata(), "UnaryCall")

        req = pb.StreamingOutputCallRequest(response_parameters=[pb.ResponseParameters(size=314159)],
                                            payload=pb.Payload(body=_zeros(271828)))
        call = stub.FullDuplexCall(iter([req]), metadata=md, timeout=TIMEOUT)
        resps = list(call)
        assert len(resps) == 1, f"FullDuplexCall: expected one response, got {len(resps)}"
        _assert_body(resps[0].payload, 314159, "custom_metadata FullDuplexCall")
        assert call.code() == grpc.StatusCode.OK
        _assert_echoed(call.initial_metadata(), call.trailing_metadata(), "FullDuplexCall")


def _status_cases(target, stubs, message: str, duplex: bool):
    pb = stubs.messages_pb2
    status = pb.EchoStatus(code=2, message=message)
    with _channel(target) as ch:
        stub = _stub(stubs, ch)
        _expect_rpc_error(lambda: stub.UnaryCall(pb.SimpleRequest(response_status=status), timeout=TIMEOUT),
                          grpc.StatusCode.UNKNOWN, message, what="UnaryCall")
        if duplex:
            req = pb.StreamingOutputCallRequest(response_status=status)
            _expect_rpc_error(lambda: list(stub.FullDuplexCall(iter([req]), timeout=TIMEOUT)),
                              grpc.StatusCode.UNKNOWN, message, what="FullDuplexCall")


def status_code_and_message(target, stubs):
    _status_cases(target, stubs, "test status message", duplex=True)


def special_status_message(target, stubs):
    _status_cases(target, stubs, SPECIAL_MESSAGE, duplex=False)


def unimplemented_method(target, stubs):
    with _channel(target) as ch:
        _expect_rpc_error(lambda: _stub(stubs, ch).UnimplementedCall(stubs.empty_pb2.Empty(), timeout=TIMEOUT),
                          grpc.StatusCode.UNIMPLEMENTED, what="TestService/UnimplementedCall")


def unimplemented_service(target, stubs):
    with _channel(target) as ch:
        stub = stubs.test_pb2_grpc.UnimplementedServiceStub(ch)
        _expect_rpc_error(lambda: stub.UnimplementedCall(stubs.empty_pb2.Empty(), timeout=TIMEOUT),
                          grpc.StatusCode.UNIMPLEMENTED, what="UnimplementedService/UnimplementedCall")


def cancel_after_begin(target, stubs):
    reqs = RequestQueue()
    with _channel(target) as ch:
        try:
            fut = _stub(stubs, ch).StreamingInputCall.future(iter(reqs), timeout=TIMEOUT)
            fut.cancel()
            assert fut.cancelled(), "the call was not cancelled"
            assert fut.code() == grpc.StatusCode.CANCELLED, f"status {fut.code()}"
        finally:
            reqs.close()


def cancel_after_first_response(target, stubs):
    pb = stubs.messages_pb2
    reqs = RequestQueue()
    with _channel(target) as ch:
        try:
            call = _stub(stubs, ch).FullDuplexCall(iter(reqs), timeout=TIMEOUT)
            reqs.put(pb.StreamingOutputCallRequest(response_parameters=[pb.ResponseParameters(size=31415)],
                                                   payload=pb.Payload(body=_zeros(27182))))
            resp = _next(call, "cancel_after_first_response")
            _assert_body(resp.payload, 31415, "first response")
            call.cancel()
            assert call.code() == grpc.StatusCode.CANCELLED, f"status {call.code()}"
            _expect_rpc_error(lambda: next(call), grpc.StatusCode.CANCELLED, what="reading after cancel")
        finally:
            reqs.close()


def timeout_on_sleeping_server(target, stubs):
    pb = stubs.messages_pb2
    reqs = RequestQueue()
    with _channel(target) as ch:
        try:
            call = _stub(stubs, ch).FullDuplexCall(iter(reqs), timeout=0.001)
            reqs.put(pb.StreamingOutputCallRequest(payload=pb.Payload(body=_zeros(27182))))
            _expect_rpc_error(lambda: list(call), grpc.StatusCode.DEADLINE_EXCEEDED, what="FullDuplexCall, 1ms")
            assert call.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        finally:
            reqs.close()


CASES = {f.__name__: f for f in (
    empty_unary, large_unary, client_compressed_unary, server_compressed_unary, client_streaming,
    client_compressed_streaming, server_streaming, server_compressed_streaming, ping_pong, empty_stream,
    custom_metadata, status_code_and_message, special_status_message, unimplemented_method,
    unimplemented_service, cancel_after_begin, cancel_after_first_response, timeout_on_sleeping_server,
)}
CASE_NAMES = list(CASES)


def run_case(name: str, target, stubs):
    CASES[name](target, stubs)


def main(argv=None) -> int:
    import tempfile

    import protogen

    ap = argparse.ArgumentParser(description="grpcio interop client (official cases)")
    ap.add_argument("--server_host", default="127.0.0.1")
    ap.add_argument("--server_port", type=int, required=True)
    ap.add_argument("--test_case", required=True, choices=CASE_NAMES + ["all"])
    ap.add_argument("--use_tls", default="false")
    args = ap.parse_args(argv)
    stubs = protogen.generate_and_load(Path(tempfile.mkdtemp(prefix="aimass-pystubs-")))
    target = f"{args.server_host}:{args.server_port}"
    failed = 0
    for name in (CASE_NAMES if args.test_case == "all" else [args.test_case]):
        try:
            run_case(name, target, stubs)
            print(f"{name}: ok")
        except (AssertionError, grpc.RpcError, Exception) as e:  # report every failure kind
            failed += 1
            print(f"{name}: FAILED: {e!r}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
