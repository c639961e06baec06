"""Connections that have sent nothing yet. With `TCP_DEFER_ACCEPT` (the default) the kernel does not hand them to the
server until they speak, so they hold none of its descriptors. Accepted silent (`--defer_accept_s 0` here; under a
connect flood the kernel's queues overflow and it hands them over anyway) the server does not watch them for input,
checking a few at a time for their first bytes, so that thousands of them speaking at once are not all read in one
event-loop tick: every one is still answered. Real processes, real sockets."""

from __future__ import annotations

import os
import socket
import sys
import time

from grpc_health.v1 import health_pb2

from conftest import REPO_ROOT, aimass_binary, start_server, stop_server
from test_abuse import health_check

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from h2abuse import PREFACE, SETTINGS, frame  # noqa: E402

WAIT = 20.0  # a bound that only catches hangs
HELLO = PREFACE + frame(SETTINGS, 0, 0)  # the client's preface and an empty SETTINGS


def start_interop(*extra: str):
    return start_server("aimass-interop-silent", [aimass_binary("aimass-interop"), "server", "--port", "0", *extra],
                        r"aimass-interop listening on (127\.0\.0\.1):(\d+)")


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def server_end_open(server_port: int, client_port: int) -> bool:
    """Whether the server still holds its end of the loopback connection from `client_port` (ESTABLISHED, or
    CLOSE_WAIT: the client closed and the server has not), from the kernel's table (/proc/net/tcp)."""
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    with open("/proc/net/tcp") as table:
        return any(fields[1] == local and fields[2] == remote and fields[3] in ("01", "08")
                   for fields in (line.split() for line in table.readlines()[1:]))


def wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)  # paces the polling of /proc: the kernel's tables offer no event to wait on


def answered_with_settings(sock: socket.socket) -> bool:
    sock.settimeout(WAIT)
    header = b""
    while len(header) < 9:
        chunk = sock.recv(9 - len(header))
        if not chunk:
            return False
        header += chunk
    return header[3] == SETTINGS


def connect_silently(sp, count: int) -> list[socket.socket]:
    return [socket.create_connection((sp.host, sp.port), timeout=WAIT) for _ in range(count)]


def test_silent_connections_hold_no_descriptor_until_they_speak():
    sp = start_interop()
    socks: list[socket.socket] = []
    try:
        before = open_descriptors(sp.proc.pid)
        socks = connect_silently(sp, 50)
        # A connection that speaks after them is accepted after any of them that the kernel would hand over.
        marker = socket.create_connection((sp.host, sp.port), timeout=WAIT)
        socks.append(marker)
        marker.sendall(HELLO)
        assert answered_with_settings(marker)
        assert open_descriptors(sp.proc.pid) < before + 10, "silent connections were accepted"
        for sock in socks[:-1]:
            sock.sendall(HELLO)
        assert all(answered_with_settings(sock) for sock in socks[:-1]), "a connection that spoke was not answered"
        assert health_check(sp.target) == health_pb2.HealthCheckResponse.SERVING
    finally:
        for sock in socks:
            sock.close()
        stop_server(sp)


def test_silent_connections_accepted_at_once_are_answered_once_they_speak():
    sp = start_interop("--defer_accept_s", "0")
    socks: list[socket.socket] = []
    try:
        before = open_descriptors(sp.proc.pid)
        socks = connect_silently(sp, 300)
        wait_for(lambda: open_descriptors(sp.proc.pid) >= before + 300, "the server to accept 300 connections")
        # Not read while silent: no SETTINGS yet (the server's go out with its answer to the client's preface).
        socks[0].settimeout(0.2)
        try:
            early = socks[0].recv(9)
        except TimeoutError:
            early = None
        assert early is None, f"a silent connection was answered: {early!r}"
        assert health_check(sp.target) == health_pb2.HealthCheckResponse.SERVING
        # One leaves without a word: the server closes its end too.
        leaving = socks.pop()
        client_port = leaving.getsockname()[1]
        assert server_end_open(sp.port, client_port)
        leaving.close()
        wait_for(lambda: not server_end_open(sp.port, client_port), "the server to close a silent connection's end")
        # All the others speak at once: every one is answered.
        for sock in socks:
            sock.sendall(HELLO)
        answered = sum(answered_with_settings(sock) for sock in socks)
        assert answered == len(socks), f"{len(socks) - answered} of {len(socks)} connections were not answered"
        assert health_check(sp.target) == health_pb2.HealthCheckResponse.SERVING
    finally:
        for sock in socks:
            sock.close()
        stop_server(sp)
