"""The connection cap of `aimass serve --max-connections`: accepting one connection past it closes another, and the
connections of unknown callers go first. A grpcio client that made an authenticated call keeps its connection while
newer anonymous clients (Health/Check without a token) are closed to make room, oldest first.

What the server closed is read from its own debug log (`connection opened`, `closing a connection to make room`
with the victim's `authenticated` flag), not from grpcio's connectivity callbacks: grpcio polls the channel state, and
under load it missed whole READY periods (anonymous channels that served a call and were closed were never reported
READY, so never "left READY"), which made this test fail although the server had closed exactly the right ones.

Needs AIMASS_BIN_DIR."""

from __future__ import annotations

import importlib
import re
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import admin_token, start_aimass, stop_server
from protogen import generate_aimass

WAIT = 30.0  # a bound that only catches hangs
ANONYMOUS = 8
CAP = 4


@pytest.fixture(scope="module")
def access_pb(tmp_path_factory):
    out = generate_aimass(tmp_path_factory.mktemp("cap_stubs"), protos=[
        "aimass/v1/common.proto", "aimass/v1/registry.proto", "aimass/v1/access.proto"])
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    return importlib.import_module("aimass.v1.access_pb2"), importlib.import_module("aimass.v1.access_pb2_grpc")


def channel(target: str) -> grpc.Channel:
    # Its own subchannel pool: otherwise grpcio shares one TCP connection among every channel to the target.
    return grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])


class ServerLog:
    """The server's connection events, from its stderr (`--log-level debug`)."""

    def __init__(self, path):
        self.path = path

    def _lines(self) -> list[str]:
        return self.path.read_text(errors="replace").splitlines()

    def opened(self) -> list[str]:
        return [m.group(1) for line in self._lines() if "connection opened" in line
                for m in [re.search(r"peer=(\S+)", line)] if m]

    def closed_for_room(self) -> list[tuple[str, bool]]:
        """(peer, authenticated) of every connection the server chose to close for room."""
        out = []
        for line in self._lines():
            if "closing a connection to make room" in line:
                peer = re.search(r"peer=(\S+)", line)
                authenticated = re.search(r"authenticated=(true|false)", line)
                assert peer and authenticated, line
                out.append((peer.group(1), authenticated.group(1) == "true"))
        return out


def wait_until(what: str, predicate) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_cap_closes_anonymous_connections_before_an_authenticated_one(tmp_path, access_pb):
    access_pb2, access_pb2_grpc = access_pb
    sp = start_aimass(tmp_path, name="aimass-cap", extra=["--max-connections", str(CAP), "--log-level", "debug"])
    log = ServerLog(sp.stderr_path)
    channels: list[grpc.Channel] = []
    try:
        admin = admin_token(tmp_path)
        auth = [("authorization", f"Bearer {admin}")]
        # The oldest connection of the test: a known caller, idle after its call. Before connections were ranked by
        # authentication, it was the first to go (the oldest with no call in flight).
        known = channel(sp.target)
        channels.append(known)
        assert access_pb2_grpc.AccessStub(known).WhoAmI(access_pb2.WhoAmIRequest(), metadata=auth, timeout=WAIT).admin
        # Anonymous clients, each making one call without a token and keeping its connection: past the cap, each new
        # one makes the server close another.
        for _ in range(ANONYMOUS):
            anonymous = channel(sp.target)
            channels.append(anonymous)
            status = health_pb2_grpc.HealthStub(anonymous).Check(health_pb2.HealthCheckRequest(), timeout=WAIT)
            assert status.status == health_pb2.HealthCheckResponse.SERVING
        # At least (1 + ANONYMOUS) - CAP connections went (more when the embedded worker's Join connection counts).
        wait_until("the server to close connections for room",
                   lambda: len(log.closed_for_room()) >= 1 + ANONYMOUS - CAP)
        closed = log.closed_for_room()
        assert not [peer for peer, authenticated in closed if authenticated], \
            f"an authenticated connection was closed for room: {closed}"
        assert len({peer for peer, _ in closed}) == len(closed), f"a connection was chosen twice: {closed}"
        opened = len(log.opened())
        # The authenticated client and the newest anonymous one still have their connections: calling again opens none.
        again = access_pb2_grpc.AccessStub(known).WhoAmI(access_pb2.WhoAmIRequest(), metadata=auth, timeout=WAIT)
        assert again.admin
        health_pb2_grpc.HealthStub(channels[-1]).Check(health_pb2.HealthCheckRequest(), timeout=WAIT)
        assert len(log.opened()) == opened, "the authenticated or the newest client had to reconnect"
        # The oldest anonymous client was closed: its next call reconnects, and is served.
        health_pb2_grpc.HealthStub(channels[1]).Check(health_pb2.HealthCheckRequest(), timeout=WAIT)
        assert len(log.opened()) == opened + 1, "the oldest anonymous client's connection was not closed"
        sp.assert_alive()
    finally:
        for ch in channels:
            ch.close()
        stop_server(sp)
