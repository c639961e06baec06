"""Self-test of the harness: the grpcio client cases against the grpcio interop server.

If these fail, the bug is in tests/python, not in the Swift code.
"""

import gzip
import zlib

import pytest

import h2grpc
from interop_client_cases import CASE_NAMES, run_case
from interop_server import inflate


@pytest.mark.parametrize("case", CASE_NAMES)
def test_grpcio_client_against_python_server(case, python_interop_server, stubs):
    python_interop_server.assert_alive()
    run_case(case, python_interop_server.target, stubs)
    python_interop_server.assert_alive()


def test_inflate_recognises_compressed_bodies(stubs):
    pb = stubs.messages_pb2
    for msg in (pb.SimpleRequest(response_size=7, payload=pb.Payload(body=b"\0" * 100)),
                pb.StreamingInputCallRequest(payload=pb.Payload(body=b"\0" * 5)),
                pb.StreamingOutputCallResponse(payload=pb.Payload(body=b"")),
                pb.SimpleResponse()):
        raw = msg.SerializeToString()
        assert inflate(raw) == (raw, False)
        assert inflate(gzip.compress(raw)) == (raw, True)
        assert inflate(zlib.compress(raw)) == (raw, True)


def test_grpc_framing_round_trip():
    body = h2grpc.frame_message(b"abc") + h2grpc.frame_message(b"\0" * 1000, compressed=True)
    assert h2grpc.parse_messages(body) == [(0, b"abc"), (1, b"\0" * 1000)]
    with pytest.raises(ValueError):
        h2grpc.parse_messages(h2grpc.frame_message(b"abc", declared_length=10))
