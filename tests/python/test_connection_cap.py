"""The connection cap of `aimass serve --max-connections`: accepting one connection past it closes another, and the
connections of unknown callers go first. A grpcio client that made an authenticated call keeps its connection while
newer anonymous clients (Health/Check without a token) are closed to make room, oldest first.

Needs AIMASS_BIN_DIR."""

from __future__ import annotations

import importlib
import sys
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import start_aimass, stop_server
from protogen import generate_aimass

WAIT = 30.0  # a bound that only catches hangs


@pytest.fixture(scope="module")
def access_pb(tmp_path_factory):
    out = generate_aimass(tmp_path_factory.mktemp("cap_stubs"), protos=[
        "aimass/v1/common.proto", "aimass/v1/registry.proto", "aimass/v1/access.proto"])
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    return importlib.import_module("aimass.v1.access_pb2"), importlib.import_module("aimass.v1.access_pb2_grpc")


class WatchedChannel:
    """A grpcio channel (default options) that records its connectivity: how many times it became READY, and
    whether it ever left READY afterwards (a GOAWAY from the server makes it go IDLE)."""

    def __init__(self, target: str):
        # Its own subchannel pool: otherwise grpcio shares one TCP connection among every channel to the target.
        self.channel = grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        self.lock = threading.Lock()
        self.ready = 0
        self.left_ready = False
        self.channel.subscribe(self._changed)

    def _changed(self, state):
        with self.lock:
            if state == grpc.ChannelConnectivity.READY:
                self.ready += 1
            elif self.ready:
                self.left_ready = True

    def close(self):
        self.channel.close()


def wait_until(what: str, predicate) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.skip(reason="MISSING, open bug (2026-12-07): under `--max-connections 4` the authenticated client's "
                         "connection is sometimes closed too (alone: 5 of 8 anonymous ones and it; in the parallel "
                         "suite it passed). The ranking itself is tested in ConnectionTableTests; not yet diagnosed")
def test_cap_closes_anonymous_connections_before_an_authenticated_one(tmp_path, access_pb):
    access_pb2, access_pb2_grpc = access_pb
    sp = start_aimass(tmp_path, name="aimass-cap", extra=["--max-connections", "4"])
    channels: list[WatchedChannel] = []
    try:
        admin = (tmp_path / "admin.token").read_text().strip()
        # The oldest network connection: a known caller, idle after its call. Before connections were ranked by
        # authentication, it was the first to go (the oldest with no call in flight).
        known = WatchedChannel(sp.target)
        channels.append(known)
        who = access_pb2_grpc.AccessStub(known.channel).WhoAmI(
            access_pb2.WhoAmIRequest(), metadata=[("authorization", f"Bearer {admin}")], timeout=WAIT)
        assert who.admin
        # Anonymous clients, each making one call without a token and keeping its connection: past the cap, each new
        # one makes the server close another.
        anonymous = []
        for _ in range(8):
            channel = WatchedChannel(sp.target)
            channels.append(channel)
            anonymous.append(channel)
            status = health_pb2_grpc.HealthStub(channel.channel).Check(health_pb2.HealthCheckRequest(), timeout=WAIT)
            assert status.status == health_pb2.HealthCheckResponse.SERVING
        wait_until("the oldest anonymous connection to be closed for room", lambda: anonymous[0].left_ready)
        assert not anonymous[-1].left_ready, "the newest connection was closed"
        closed = sum(channel.left_ready for channel in anonymous)
        assert closed >= 4, f"only {closed} of 8 anonymous connections closed under a cap of 4"
        # The authenticated client still has its first connection, and uses it.
        assert known.ready == 1 and not known.left_ready, "the authenticated client's connection was closed"
        again = access_pb2_grpc.AccessStub(known.channel).WhoAmI(
            access_pb2.WhoAmIRequest(), metadata=[("authorization", f"Bearer {admin}")], timeout=WAIT)
        assert again.admin and known.ready == 1
        sp.assert_alive()
    finally:
        for channel in channels:
            channel.close()
        stop_server(sp)
