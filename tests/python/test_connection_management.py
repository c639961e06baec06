"""Connection management of our server, seen on the wire with a raw HTTP/2 client: keepalive
PINGs, GOAWAY too_many_pings for a client pinging too often, max connection idle and max age."""

import time

import h2.events
import pytest

from conftest import aimass_binary, start_server, stop_server
from h2grpc import ConnectionClosed, H2GrpcConnection


def _server(*flags):
    exe = aimass_binary("aimass-interop")
    return start_server("aimass-interop-cm", [exe, "server", "--port", "0", *flags],
                        r"aimass-interop listening on (127\.0\.0\.1):(\d+)")


def _pump_until(conn, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        try:
            conn.pump(0.05)
        except ConnectionClosed:
            return predicate()
    return predicate()


def test_server_sends_keepalive_pings_when_idle():
    sp = _server("--keepalive_ms", "200")
    try:
        with H2GrpcConnection(sp.host, sp.port) as conn:
            conn.wait_settings()
            pings = []
            original = conn._on_event

            def record(ev):
                if isinstance(ev, h2.events.PingReceived):
                    pings.append(ev)
                original(ev)

            conn._on_event = record
            assert _pump_until(conn, lambda: len(pings) > 0, 3.0), "no keepalive PING within 3 s"
    finally:
        stop_server(sp)


def test_too_many_pings_get_goaway_enhance_your_calm():
    sp = _server("--min_ping_interval_ms", "10000")
    try:
        with H2GrpcConnection(sp.host, sp.port) as conn:
            conn.wait_settings()
            for i in range(5):
                conn.conn.ping(bytes([i]) * 8)
                conn.flush()
                time.sleep(0.02)
            assert _pump_until(conn, lambda: conn.terminated is not None, 3.0), "no GOAWAY after 5 rapid pings"
            assert int(conn.terminated.error_code) == 0xB  # ENHANCE_YOUR_CALM
            assert conn.terminated.additional_data == b"too_many_pings"
        sp.assert_alive()
    finally:
        stop_server(sp)


@pytest.mark.parametrize("flags", [
    ("--max_connection_idle_ms", "300"),
    ("--max_connection_age_ms", "300", "--max_connection_age_grace_ms", "300"),
])
def test_idle_or_old_connection_gets_goaway_and_server_keeps_serving(flags):
    sp = _server(*flags)
    try:
        with H2GrpcConnection(sp.host, sp.port) as conn:
            conn.wait_settings()
            start = time.monotonic()
            assert _pump_until(conn, lambda: conn.terminated is not None, 5.0), f"no GOAWAY with {flags}"
            assert int(conn.terminated.error_code) == 0  # NO_ERROR: a graceful close
            assert time.monotonic() - start >= 0.2
        # A new connection is served as usual.
        with H2GrpcConnection(sp.host, sp.port) as conn:
            sid = conn.start("/grpc.health.v1.Health/Check")
            conn.send(sid, b"\x00\x00\x00\x00\x00", end_stream=True)
            assert _pump_until(conn, lambda: conn.streams[sid].done, 5.0)
            assert conn.streams[sid].grpc_status == 0
    finally:
        stop_server(sp)
