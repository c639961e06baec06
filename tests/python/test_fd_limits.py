"""File descriptors: the server raises its soft RLIMIT_NOFILE to the hard limit at start, and when it runs out
anyway it still accepts new clients, closing its oldest idle connections to make room (a reserve of descriptors
is given back so that accept succeeds). Real processes, real sockets, limits set with setrlimit before exec."""

from __future__ import annotations

import resource
import socket
import time

import grpc
import h2.config
import h2.connection
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import aimass_binary, start_server, stop_server

WAIT = 15.0


def start_interop_with_limits(soft: int, hard: int):
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    exe = aimass_binary("aimass-interop")
    return start_server("aimass-interop-limited", [exe, "server", "--port", "0"],
                        r"aimass-interop listening on (127\.0\.0\.1):(\d+)", preexec_fn=limit)


def open_files_limits(pid: int) -> tuple[int, int]:
    for line in open(f"/proc/{pid}/limits"):
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no 'Max open files' line")


def test_soft_limit_raised_to_hard_limit():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = min(256, hard)
    sp = start_interop_with_limits(soft, hard)
    try:
        assert open_files_limits(sp.proc.pid) == (hard, hard)
    finally:
        stop_server(sp)


def descriptor_table_size(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("FDSize:"):
            return int(line.split()[1])
    raise AssertionError("no 'FDSize' line")


def test_descriptor_table_is_sized_at_start():
    """Before its first connection the server's descriptor table holds what it may use (its connection limit fitted
    to the open-file limit), so that no accept waits for the kernel to grow the table (an RCU grace period each
    time, 6-16 ms measured under a connect flood)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = min(4096, hard)
    sp = start_interop_with_limits(soft, soft)
    try:
        assert descriptor_table_size(sp.proc.pid) >= soft  # a fresh process's table holds 64 or 256
    finally:
        stop_server(sp)


class IdleConnection:
    """A client that sends the preface and SETTINGS, waits for the server's SETTINGS, then stays idle."""

    def __init__(self, host: str, port: int):
        self.sock = socket.create_connection((host, port), timeout=WAIT)
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        self.sock.sendall(conn.data_to_send())
        header = self._read_exactly(9)
        assert header is not None, "closed before the server's SETTINGS"
        assert header[3] == 0x4, f"first frame type {header[3]}, expected SETTINGS"

    def _read_exactly(self, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def closed_by_server(self) -> bool:
        """Drains what the server sent; True once it has closed the connection (a GOAWAY may come first)."""
        self.sock.settimeout(0.0)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except (BlockingIOError, socket.timeout):
            return False
        except ConnectionResetError:
            return True


def test_server_at_its_descriptor_limit_still_accepts_and_closes_oldest_idle():
    limit = 64
    sp = start_interop_with_limits(limit, limit)
    connections = []
    try:
        # Twice as many idle connections as the process may have descriptors: each must be accepted and answered.
        for i in range(2 * limit):
            try:
                connections.append(IdleConnection(sp.host, sp.port))
            except (OSError, AssertionError) as error:
                pytest.fail(f"connection {i + 1} was not answered at the descriptor limit: {error}\n{sp.report()}",
                            pytrace=False)
        deadline = time.monotonic() + WAIT
        while True:
            closed = [c.closed_by_server() for c in connections]
            if sum(closed) >= limit or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert sum(closed) >= limit, f"only {sum(closed)} idle connections were closed to make room"
        # the oldest went first: the newest connection is still open
        assert not closed[-1], "the newest connection was closed instead of an old idle one"
        with grpc.insecure_channel(sp.target) as channel:
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=WAIT).status
        assert status == health_pb2.HealthCheckResponse.SERVING
        sp.assert_alive()
    finally:
        for c in connections:
            c.sock.close()
        stop_server(sp)
