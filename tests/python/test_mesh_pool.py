"""Mesh/Watch against a real pool: `aimass serve --role control-plane` and three `--role worker` processes, watched
with grpcio stubs generated from proto/aimass/v1/mesh.proto.

Watcher A subscribes before any worker joins and stays connected for the whole test: it must see the SNAPSHOT,
then WORKER_JOINED x3, REPLICA_PLACED / REPLICA_READY of `movies@1` (min 2) on two workers, LOAD_REPORTED, and
after a SIGKILL of one replica holder WORKER_LEFT and the replica re-placed (PLACED then READY) on the third worker.
Revision rules of mesh.proto checked on A's whole stream (unfiltered): state events numbered snapshot+1, +2, ...
without gap; LOAD_REPORTED and HEARTBEAT carry the revision of the last state event already delivered (so the
revisions never go down).

Watcher B disconnects (cancels its call) right after its first REPLICA_PLACED and resumes with
`resume_from_revision` = the last state revision it saw, once A has moved on: the resumed stream starts with the
missed events (no snapshot) and its state events are byte for byte A's from that revision on: nothing missing,
no duplicate.

Needs data/ml-100k.inter (fetched by scripts/fetch-ml100k.sh when missing, as test_pool.py does)."""

from __future__ import annotations

import importlib
import signal
import threading
import time
from pathlib import Path

import grpc
import pytest

import protogen
from conftest import admin_token, aimass_binary, cli_environment, start_server, stop_server
from test_pool import DATA, cli, ensure_ml100k

LEASE_MS = 3000
EPHEMERAL = ("LOAD_REPORTED", "HEARTBEAT")


@pytest.fixture(scope="module")
def mesh_stubs(aimass_stubs):
    """mesh_pb2 / mesh_pb2_grpc generated next to the session's aimass.v1 stubs (same `aimass.v1` package)."""
    protogen.generate_aimass(Path(aimass_stubs.dir), protos=["aimass/v1/scheduler.proto", "aimass/v1/mesh.proto"])
    importlib.invalidate_caches()
    return (importlib.import_module("aimass.v1.mesh_pb2"), importlib.import_module("aimass.v1.mesh_pb2_grpc"))


class Watcher:
    """One Watch call read by a thread into `events`; `stop_after(event)` True cancels the call (a disconnect)."""

    def __init__(self, name, channel, pb, token, resume_from=0, stop_after=None):
        self.name, self.pb, self.stop_after = name, pb, stop_after
        self.events, self.error, self.done, self.cancelled = [], None, False, False
        self.cond = threading.Condition()
        stub = pb[1].MeshStub(channel)
        self.call = stub.Watch(pb[0].WatchRequest(resume_from_revision=resume_from, heartbeat_interval_ms=1000),
                               metadata=[("authorization", f"Bearer {token}")], timeout=120)
        self.thread = threading.Thread(target=self._run, name=f"watch-{name}", daemon=True)
        self.thread.start()

    def kind(self, event):
        return self.pb[0].EventKind.Name(event.kind).removeprefix("EVENT_KIND_")

    def _run(self):
        try:
            for event in self.call:
                with self.cond:
                    self.events.append(event)
                    self.cond.notify_all()
                if self.stop_after and self.stop_after(self, event):
                    self.cancelled = True
                    self.call.cancel()
                    break
        except grpc.RpcError as error:
            if not self.cancelled:
                self.error = error
        finally:
            with self.cond:
                self.done = True
                self.cond.notify_all()

    def wait_for(self, what, predicate, timeout):
        """Waits (bounded) until predicate(events) is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate(self.events)
                if value:
                    return value
                left = deadline - time.monotonic()
                assert not self.done, f"watcher {self.name} ended ({self.error}) while waiting for {what}"
                assert left > 0, f"watcher {self.name}: timed out after {timeout}s waiting for {what}; " \
                                 f"kinds so far: {[self.kind(e) for e in self.events][-30:]}"
                self.cond.wait(min(left, 0.5))

    def of_kind(self, kind, events=None):
        return [e for e in (self.events if events is None else events) if self.kind(e) == kind]

    def state_events(self):
        return [e for e in self.events if self.kind(e) not in EPHEMERAL + ("SNAPSHOT",)]

    def stop(self):
        self.cancelled = True
        self.call.cancel()
        self.thread.join(10)


def check_revision_rules(w, events, start_revision):
    """Unfiltered stream after a snapshot (or a resume) at start_revision: state events contiguous, ephemeral
    events at the last delivered state revision."""
    last_state = start_revision
    for e in events:
        kind = w.kind(e)
        assert kind != "SNAPSHOT", f"{w.name}: unexpected second snapshot at {e.revision}"
        if kind in EPHEMERAL:
            assert e.revision == last_state, f"{w.name}: {kind} at revision {e.revision}, last state {last_state}"
        else:
            assert e.revision == last_state + 1, f"{w.name}: {kind} at revision {e.revision} after {last_state}"
            last_state = e.revision
    return last_state


def replicas(w, kind, deployment="movies@1"):
    return [getattr(e, "replica_" + kind.split("_")[1].lower()) for e in w.of_kind(kind)
            if getattr(e, "replica_" + kind.split("_")[1].lower()).deployment_id == deployment]


# Its own waits (each bounded) add up past the suite's 120 s safety net: a loaded machine must not fail it there.
@pytest.mark.timeout(900)
def test_mesh_watch_pool(tmp_path, mesh_stubs):
    ensure_ml100k()
    started = time.monotonic()
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    cp = start_server("control-plane", [exe, "serve", "--role", "control-plane", "--port", "0", "--data-dir", data,
                                        "--lease-ms", str(LEASE_MS)],
                      r"aimass listening on (127\.0\.0\.1):(\d+)")
    token = admin_token(data)
    env = cli_environment(AIMASS_SERVER=cp.target, AIMASS_TOKEN=token)
    workers = []
    channel = grpc.insecure_channel(cp.target)
    watchers = []
    try:
        # A: uninterrupted. B: disconnects right after its first REPLICA_PLACED.
        a = Watcher("A", channel, mesh_stubs, token)
        b = Watcher("B", grpc.insecure_channel(cp.target), mesh_stubs, token,
                    stop_after=lambda w, e: w.kind(e) == "REPLICA_PLACED")
        watchers += [a, b]
        for w in (a, b):
            w.wait_for("the snapshot", lambda ev: len(ev) >= 1, 10)
            first = w.events[0]
            assert w.kind(first) == "SNAPSHOT" and not first.snapshot.reset, first
            assert len(first.snapshot.workers) == 0, first
        base = a.events[0].revision

        for i in range(3):
            workers.append(start_server(
                f"worker{i}",
                [exe, "serve", "--role", "worker", "--join", cp.target, "--port", "0", "--token", token,
                 "--capacity-cpu-millis", "2000", "--capacity-memory-bytes", str(4 << 30), "--capacity-replicas", "4"],
                r"aimass worker listening on (127\.0\.0\.1):(\d+)"))
        joined = a.wait_for("WORKER_JOINED x3", lambda ev: len(j := a.of_kind("WORKER_JOINED", ev)) >= 3 and j, 20)
        worker_ids = {e.worker_joined.id for e in joined}
        assert len(worker_ids) == 3, worker_ids
        assert {e.worker_joined.address for e in joined} == {w.target for w in workers}
        a.wait_for("a LOAD_REPORTED", lambda ev: a.of_kind("LOAD_REPORTED", ev), 10)

        cli(exe, env, "model", "create", "movies", "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
        cli(exe, env, "model", "upload", "movies", str(DATA), "--manifest", "algorithm=itemcf",
            "--manifest", "neighbours=50")
        cli(exe, env, "deploy", "--model", "movies", "--min", "2", "--json")

        ready = a.wait_for("2 REPLICA_READY of movies@1",
                           lambda ev: len(r := replicas(a, "REPLICA_READY")) >= 2 and r, 45)
        placed = replicas(a, "REPLICA_PLACED")
        holders = {r.worker_id for r in ready}
        assert len(holders) == 2 and holders <= worker_ids, ready
        assert {r.id for r in ready} <= {p.id for p in placed}
        for r in ready:  # PLACED before READY for each replica
            kinds = [a.kind(e) for e in a.events
                     if a.kind(e) in ("REPLICA_PLACED", "REPLICA_READY")
                     and getattr(e, "replica_placed" if a.kind(e) == "REPLICA_PLACED" else "replica_ready").id == r.id]
            assert kinds[0] == "REPLICA_PLACED" and "REPLICA_READY" in kinds, kinds

        # B resumes from the last state revision it saw, now that A has moved past it.
        b.thread.join(10)
        assert b.done and b.cancelled and b.error is None, b.error
        assert b.kind(b.events[-1]) == "REPLICA_PLACED"
        b_last = check_revision_rules(b, b.events[1:], b.events[0].revision)
        assert a.events[-1].revision > b_last
        b2 = Watcher("B2", grpc.insecure_channel(cp.target), mesh_stubs, token, resume_from=b_last)
        watchers.append(b2)

        # SIGKILL one replica holder: WORKER_LEFT, then the replica re-placed on the third worker and READY.
        by_address = {w.target: w for w in workers}
        victim = sorted(holders)[0]
        victim_address = next(e.worker_joined.address for e in joined if e.worker_joined.id == victim)
        spare = (worker_ids - holders).pop()
        by_address[victim_address].proc.send_signal(signal.SIGKILL)
        by_address[victim_address].proc.wait(10)
        killed_at = time.monotonic()
        left = a.wait_for("WORKER_LEFT of the victim",
                          lambda ev: [e for e in a.of_kind("WORKER_LEFT", ev) if e.worker_left.worker_id == victim],
                          LEASE_MS / 1000 + 10)[0]
        left_after = time.monotonic() - killed_at
        # The worker last reported at most ~1 s (its load interval) before the kill: the lease decides.
        assert left_after >= LEASE_MS / 1000 - 1.5, f"WORKER_LEFT {left_after:.1f}s after SIGKILL, lease {LEASE_MS} ms"
        after_left = lambda ev: ev[next(i for i, e in enumerate(ev) if e is left) + 1:]  # noqa: E731
        replaced = a.wait_for("movies@1 READY on the spare worker", lambda ev: [
            e for e in after_left(ev) if a.kind(e) == "REPLICA_READY" and e.replica_ready.deployment_id == "movies@1"
            and e.replica_ready.worker_id == spare], 30)[0]
        later = after_left(a.events)
        placed_again = [e for e in later if a.kind(e) == "REPLICA_PLACED" and e.replica_placed.worker_id == spare
                        and e.replica_placed.deployment_id == "movies@1"]
        assert placed_again and later.index(placed_again[0]) < later.index(replaced), "PLACED must precede READY"
        replaced_after = time.monotonic() - killed_at
        assert not [e for e in later if a.kind(e) in ("REPLICA_PLACED", "REPLICA_READY")
                    and getattr(e, "replica_placed" if a.kind(e) == "REPLICA_PLACED" else "replica_ready").worker_id
                    == victim], "nothing may be placed on the dead worker"

        # Everything A saw, in order, by the proto's rules.
        a_last = check_revision_rules(a, a.events[1:], base)
        # B2 catches up to A's last state revision (it is live by now), then both stop.
        b2.wait_for(f"revision {a_last}", lambda ev: [e for e in ev if e.revision >= a_last and b2.kind(e) not in EPHEMERAL], 10)
        snapshot_count = len(b2.of_kind("SNAPSHOT"))
        for w in watchers:
            w.stop()
        assert snapshot_count == 0, "a resume within the kept history must not send a snapshot"
        b2_last = check_revision_rules(b2, b2.events, b_last)
        upto = min(a_last, b2_last)
        expected = [e.SerializeToString(deterministic=True) for e in a.state_events() if b_last < e.revision <= upto]
        got = [e.SerializeToString(deterministic=True) for e in b2.state_events() if e.revision <= upto]
        missed_kinds = [b2.kind(e) for e in b2.state_events() if e.revision <= upto]
        assert got == expected, f"B2 received {missed_kinds}, A had {len(expected)} state events after {b_last}"
        assert len(got) > 0
        b_all = [e.revision for e in b.state_events()] + [e.revision for e in b2.state_events()]
        assert len(b_all) == len(set(b_all)), "duplicate revision across the disconnect"
        elapsed = time.monotonic() - started
        print(f"A: {len(a.events)} events (state revisions {base + 1}..{a_last}, "
              f"{len(a.of_kind('LOAD_REPORTED'))} load reports, {len(a.of_kind('HEARTBEAT'))} heartbeats); "
              f"B cut at revision {b_last}, B2 replayed/received {len(got)} state events up to {upto}; "
              f"WORKER_LEFT ({left.worker_left.reason!r}) {left_after:.1f}s and READY on {spare} "
              f"{replaced_after:.1f}s after SIGKILL; test {elapsed:.1f}s")
    finally:
        for w in watchers:
            w.stop()
        channel.close()
        for w in workers:
            stop_server(w, expect_alive=False)
        stop_server(cp)
