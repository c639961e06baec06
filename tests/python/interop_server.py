"""A grpcio implementation of grpc.testing.TestService, written from the official server feature
descriptions (grpc/grpc doc/interop-test-descriptions.md, "Server" section).

It is the reference peer for our Swift interop client. Run it as

    python interop_server.py --port 0 [--stubs-dir DIR]

and it prints `python-interop listening on 127.0.0.1:PORT` once listening; SIGTERM stops it.

CompressedRequest needs to know whether each request message arrived with the compressed flag,
which grpcio does not expose. The server therefore runs with per-message decompression turned
off in gRPC core (`grpc.per_message_decompression` = 0): core hands the servicer the message bytes
as they came off the wire, and this module inflates compressed ones itself (gzip or deflate,
recognised by their magic bytes, which no uncompressed message of test.proto can start with).
"""

from __future__ import annotations

import argparse
import gzip
import signal
import sys
import threading
import time
import zlib
from concurrent import futures
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protogen  # noqa: E402

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"

_CODES = {c.value[0]: c for c in grpc.StatusCode}

SERVER_OPTIONS = [
    ("grpc.per_message_decompression", 0),
    ("grpc.so_reuseport", 0),
]


def inflate(raw: bytes) -> tuple[bytes, bool]:
    """Returns (message bytes, arrived compressed)."""
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw), True
    if len(raw) >= 2 and raw[0] == 0x78 and (raw[0] * 256 + raw[1]) % 31 == 0:
        return zlib.decompress(raw), True
    return raw, False


class _Req:
    """A decoded request plus whether it arrived compressed."""

    __slots__ = ("msg", "compressed")

    def __init__(self, msg, compressed: bool):
        self.msg = msg
        self.compressed = compressed


def _decoder(msg_cls):
    def decode(raw: bytes) -> _Req:
        data, compressed = inflate(raw)
        return _Req(msg_cls.FromString(data), compressed)

    return decode


def _encode(msg) -> bytes:
    return msg.SerializeToString()


class TestService:
    """The official server features. With broken=True every feature is subtly wrong (sizes off by
    one, no metadata echo, status messages missing their last character, compression inverted, compression expectations
    ignored, UnimplementedCall implemented): clients must notice (see test_interop_negative.py)."""

    def __init__(self, stubs, broken: bool = False):
        self.pb = stubs.messages_pb2
        self.empty = stubs.empty_pb2
        self.broken = broken

    # -- helpers -------------------------------------------------------------------------------
    def _echo_metadata(self, context):
        if self.broken:
            return
        md = dict(context.invocation_metadata())
        initial = [(ECHO_INITIAL_KEY, md[ECHO_INITIAL_KEY])] if ECHO_INITIAL_KEY in md else []
        if initial:
            context.send_initial_metadata(initial)
        if ECHO_TRAILING_KEY in md:
            context.set_trailing_metadata([(ECHO_TRAILING_KEY, md[ECHO_TRAILING_KEY])])

    def _echo_status(self, context, status):
        if status is not None and status.code != 0:
            code = _CODES.get(status.code, grpc.StatusCode.UNKNOWN)
            context.abort(code, status.message[:-1] if self.broken else status.message)

    def _payload(self, size: int):
        if size < 0:
            raise ValueError("negative size")
        if self.broken:
            size += 1
        return self.pb.Payload(type=self.pb.COMPRESSABLE, body=b"\0" * size)

    def _check_compressed(self, context, req: _Req, expect):
        if expect.value and not req.compressed and not self.broken:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          "expect_compressed is true but the request was not compressed")

    def _check_type(self, context, response_type):
        if response_type != self.pb.COMPRESSABLE:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unsupported response_type {response_type}")

    # -- methods -------------------------------------------------------------------------------
    def EmptyCall(self, req: _Req, context):
        self._echo_metadata(context)
        if self.broken:
            context.abort(grpc.StatusCode.INTERNAL, "broken server")
        return self.empty.Empty()

    def UnimplementedCall(self, req: _Req, context):  # only served when broken
        return self.empty.Empty()

    def UnaryCall(self, req: _Req, context):
        r = req.msg
        # Compression is chosen before initial metadata leaves (it sets grpc-encoding).
        if r.response_compressed.value != self.broken:
            context.set_compression(grpc.Compression.Gzip)
        self._echo_metadata(context)
        self._check_compressed(context, req, r.expect_compressed)
        self._echo_status(context, r.response_status if r.HasField("response_status") else None)
        self._check_type(context, r.response_type)
        return self.pb.SimpleResponse(payload=self._payload(r.response_size))

    def CacheableUnaryCall(self, req: _Req, context):
        self._echo_metadata(context)
        context.set_trailing_metadata([("cache-control", "max-age=60, public")])
        return self.pb.SimpleResponse(
            payload=self.pb.Payload(type=self.pb.COMPRESSABLE, body=str(time.time_ns()).encode()))

    def StreamingInputCall(self, request_iterator, context):
        self._echo_metadata(context)
        total = 0
        for req in request_iterator:
            self._check_compressed(context, req, req.msg.expect_compressed)
            total += len(req.msg.payload.body)
        if self.broken:
            total += 1
        return self.pb.StreamingInputCallResponse(aggregated_payload_size=total)

    def _responses(self, context, r, compression_set: bool):
        """Yields the responses one StreamingOutputCallRequest asks for (sleeping interval_us)."""
        self._check_type(context, r.response_type)
        for p in r.response_parameters:
            if p.interval_us > 0:
                time.sleep(p.interval_us / 1e6)
            if compression_set and p.compressed.value == self.broken:
                context.disable_next_message_compression()
            yield self.pb.StreamingOutputCallResponse(payload=self._payload(p.size))

    def _maybe_compress(self, context, r) -> bool:
        if self.broken or any(p.compressed.value for p in r.response_parameters):
            context.set_compression(grpc.Compression.Gzip)
            return True
        return False

    def StreamingOutputCall(self, req: _Req, context):
        r = req.msg
        compressed = self._maybe_compress(context, r)
        self._echo_metadata(context)
        self._echo_status(context, r.response_status if r.HasField("response_status") else None)
        yield from self._responses(context, r, compressed)

    def FullDuplexCall(self, request_iterator, context):
        # Initial metadata waits for the first request, which decides the call's compression.
        compressed = None
        for req in request_iterator:
            r = req.msg
            if compressed is None:
                compressed = self._maybe_compress(context, r)
                self._echo_metadata(context)
            self._echo_status(context, r.response_status if r.HasField("response_status") else None)
            yield from self._responses(context, r, compressed)
        if compressed is None:
            self._echo_metadata(context)
        if self.broken:  # one response nobody asked for
            yield self.pb.StreamingOutputCallResponse(payload=self._payload(1))

    def HalfDuplexCall(self, request_iterator, context):
        buffered = []
        for req in request_iterator:
            r = req.msg
            if r.HasField("response_status") and r.response_status.code != 0:
                self._echo_metadata(context)
                self._echo_status(context, r.response_status)
            buffered.append(r)
        compressed = self._maybe_compress(context, buffered[0]) if buffered else False
        self._echo_metadata(context)
        for r in buffered:
            yield from self._responses(context, r, compressed)


def make_handler(stubs, broken: bool = False) -> list:
    svc = TestService(stubs, broken)
    pb, empty = stubs.messages_pb2, stubs.empty_pb2
    handlers = {
        "EmptyCall": grpc.unary_unary_rpc_method_handler(
            svc.EmptyCall, request_deserializer=_decoder(empty.Empty), response_serializer=_encode),
        "UnaryCall": grpc.unary_unary_rpc_method_handler(
            svc.UnaryCall, request_deserializer=_decoder(pb.SimpleRequest), response_serializer=_encode),
        "CacheableUnaryCall": grpc.unary_unary_rpc_method_handler(
            svc.CacheableUnaryCall, request_deserializer=_decoder(pb.SimpleRequest),
            response_serializer=_encode),
        "StreamingOutputCall": grpc.unary_stream_rpc_method_handler(
            svc.StreamingOutputCall, request_deserializer=_decoder(pb.StreamingOutputCallRequest),
            response_serializer=_encode),
        "StreamingInputCall": grpc.stream_unary_rpc_method_handler(
            svc.StreamingInputCall, request_deserializer=_decoder(pb.StreamingInputCallRequest),
            response_serializer=_encode),
        "FullDuplexCall": grpc.stream_stream_rpc_method_handler(
            svc.FullDuplexCall, request_deserializer=_decoder(pb.StreamingOutputCallRequest),
            response_serializer=_encode),
        "HalfDuplexCall": grpc.stream_stream_rpc_method_handler(
            svc.HalfDuplexCall, request_deserializer=_decoder(pb.StreamingOutputCallRequest),
            response_serializer=_encode),
        # UnimplementedCall is absent (grpcio answers UNIMPLEMENTED) unless broken.
    }
    out = []
    if broken:
        unimpl = grpc.unary_unary_rpc_method_handler(
            svc.UnimplementedCall, request_deserializer=_decoder(empty.Empty), response_serializer=_encode)
        handlers["UnimplementedCall"] = unimpl
        out.append(grpc.method_handlers_generic_handler("grpc.testing.UnimplementedService",
                                                        {"UnimplementedCall": unimpl}))
    out.append(grpc.method_handlers_generic_handler("grpc.testing.TestService", handlers))
    return out


def serve(port: int, stubs, broken: bool = False, tls: tuple | None = None) -> tuple[grpc.Server, int]:
    """tls=(cert_path, key_path) serves with grpcio's ssl_server_credentials."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=SERVER_OPTIONS,
                         maximum_concurrent_rpcs=None)
    server.add_generic_rpc_handlers(tuple(make_handler(stubs, broken)))
    try:
        from grpc_health.v1 import health, health_pb2, health_pb2_grpc

        hs = health.HealthServicer()
        hs.set("", health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(hs, server)
    except ImportError:  # health is a convenience here, not part of the interop contract
        pass
    if tls is None:
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
    else:
        cert, key = (Path(p).read_bytes() for p in tls)
        bound = server.add_secure_port(f"127.0.0.1:{port}", grpc.ssl_server_credentials([(key, cert)]))
    if bound == 0:
        raise RuntimeError(f"could not bind 127.0.0.1:{port}")
    server.start()
    return server, bound


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--stubs-dir", default=None,
                    help="folder holding stubs made by protogen.generate (generated into a temp dir if absent)")
    ap.add_argument("--use_tls", default="false")
    ap.add_argument("--tls-cert", help="PEM certificate chain (with --use_tls=true)")
    ap.add_argument("--tls-key", help="PEM private key (with --use_tls=true)")
    ap.add_argument("--broken", action="store_true", help="serve subtly wrong answers (negative tests)")
    args = ap.parse_args(argv)
    tls = None
    if args.use_tls.lower() not in ("false", "0", "no"):
        if not (args.tls_cert and args.tls_key):
            print("--use_tls=true needs --tls-cert and --tls-key", file=sys.stderr)
            return 2
        tls = (args.tls_cert, args.tls_key)
    if args.stubs_dir:
        stubs = protogen.load(Path(args.stubs_dir))
    else:
        import tempfile

        stubs = protogen.generate_and_load(Path(tempfile.mkdtemp(prefix="aimass-pystubs-")))
    server, port = serve(args.port, stubs, args.broken, tls)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"python-interop{'-broken' if args.broken else ''} listening on 127.0.0.1:{port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.stop(grace=0.5).wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
