"""A control plane that crashes and restarts costs the data path nothing (issue 13's first bar), with real
processes: `aimass serve --role control-plane` on a data directory, one `--role worker` joined to it, ML-100k
ItemCF deployed (min 1), and a grpcio client calling Recommend on the worker directly at 50 calls/s.

Phases: 5 s before the crash, 15 s after `kill -9` of the control plane, then the control plane restarted on the
same port and data directory and 15 s more. Every call of every phase must succeed, every one must be answered by
the same replica (served_by.replica_id), the restarted control plane must list that replica again (adopted, not
re-placed) with its deployment restored, the worker's health must say it was cut off and is back, and the Mesh
revision must continue (a watcher resuming from the old revision gets a snapshot with reset, at a higher one).

The worker authorizes on its own, from the access rules the control plane pushed: during the outage a reader who
never called this worker before is served, and a user without a role on the model gets NOT_FOUND (the model is not
revealed to them); after the restart, a grant removed on the control plane is enforced by the worker (pushed to it).

Prints the phases table (calls failed / made) that docs/operations.md quotes."""

from __future__ import annotations

import json
import signal
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import admin_token, cli_environment, start_server, stop_server
from roles import PACED_QUEUE_BUDGET_MS, PARTITION_KEEPALIVE_MS, partitionable_pool
from test_mesh_pool import mesh_stubs  # noqa: F401 (the fixture)
from test_pool import DATA, cli, ready_holders, restartable_control_plane, wait_until

RATE = 50.0
CONTROL_PLANE_HEALTH = "aimass.worker.ControlPlane"


class PacedClient:
    """Calls Recommend on one address at RATE calls/s from a thread (each call sent at its slot, or at once when
    the previous one ran late) and records (sent at, status code, replica id) per call."""

    def __init__(self, address, token, recommend_pb):
        pb, pb_grpc = recommend_pb
        self.channel = grpc.insecure_channel(address)
        self.stub = pb_grpc.RecommendStub(self.channel)
        self.request = pb.RecommendRequest(model="movies", user_id="196", k=10)
        self.metadata = [("authorization", f"Bearer {token}")]
        self.calls: list[tuple[float, grpc.StatusCode, str, str]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="paced-client", daemon=True)

    def start(self):
        self.thread.start()

    def _run(self):
        start = time.monotonic()
        n = 0
        while not self.stopping.is_set():
            slot = start + n / RATE
            delay = slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = time.monotonic()
            try:
                response = self.stub.Recommend(self.request, metadata=self.metadata, timeout=30)
                self.calls.append((sent, grpc.StatusCode.OK, response.served_by.replica_id, ""))
            except grpc.RpcError as error:
                self.calls.append((sent, error.code(), "", error.details() or ""))
            n += 1

    def stop(self):
        self.stopping.set()
        self.thread.join(30)
        self.channel.close()

    def between(self, begin, end):
        return [c for c in self.calls if begin <= c[0] < end]


def deploy_movies(exe, env, grant_reader=None):
    """Creates `movies` from ML-100k (ItemCF), optionally grants `grant_reader` reader, deploys it with min 1 and
    waits for its replica to be READY on the only worker; returns (worker id, replica id)."""
    cli(exe, env, "model", "create", "movies", "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
    cli(exe, env, "model", "upload", "movies", str(DATA), "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
    if grant_reader:
        cli(exe, env, "model", "grant", "movies", f"user:{grant_reader}", "reader")
    cli(exe, env, "deploy", "--model", "movies", "--min", "1")
    holders = wait_until("a READY replica", lambda: ready_holders(exe, env, "movies@1"), 120)
    replica = json.loads(cli(exe, env, "pool", "--json").stdout)["workers"][0]["replicas"][0]["id"]
    return next(iter(holders)), replica


def recommend_once(address, token, recommend_pb):
    """(status code, replica id) of one Recommend call with `token`, retried as a well-behaved client does when the
    worker sheds it (RESOURCE_EXHAUSTED with `retry-after-ms`: its overload protection admits before it authorizes,
    and on a loaded machine the paced load can meet its adaptive limit; what is under test here is the answer)."""
    pb, pb_grpc = recommend_pb
    last = None
    with grpc.insecure_channel(address) as channel:
        for _ in range(50):
            try:
                response = pb_grpc.RecommendStub(channel).Recommend(
                    pb.RecommendRequest(model="movies", user_id="196", k=10),
                    metadata=[("authorization", f"Bearer {token}")], timeout=30)
                return grpc.StatusCode.OK, response.served_by.replica_id
            except grpc.RpcError as error:
                retry_after = dict(error.trailing_metadata() or ()).get("retry-after-ms")
                last = (error.code(), error.details())
                if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED or retry_after is None:
                    return last
                time.sleep(int(retry_after) / 1000)  # the server's own back-off, not a synchronisation
    return last


def worker_health(address, service):
    with grpc.insecure_channel(address) as channel:
        request = health_pb2.HealthCheckRequest(service=service)
        return health_pb2_grpc.HealthStub(channel).Check(request, timeout=5).status


def first_watch_event(target, token, mesh_pb, resume_from=0):
    """The first event of a Mesh/Watch (a snapshot), then the call is cancelled."""
    with grpc.insecure_channel(target) as channel:
        call = mesh_pb[1].MeshStub(channel).Watch(
            mesh_pb[0].WatchRequest(resume_from_revision=resume_from), metadata=[("authorization", f"Bearer {token}")],
            timeout=30)
        event = next(iter(call))
        call.cancel()
        return event


@pytest.mark.timeout(900)  # bounded waits of its own; the phases alone take 35 s
def test_serving_survives_control_plane_kill_and_restart(tmp_path, recommend_pb, mesh_stubs):
    exe, data, argv, ready = restartable_control_plane(tmp_path)
    # Users made before the first start (`aimass token create --offline` works on a stopped data directory): a
    # reader and a user with no role on the model.
    reader, stranger = (cli(exe, {}, "token", "create", "--offline", "--user", user, "--data-dir", str(data))
                        .stdout.strip() for user in ("bob", "carol"))
    cp = start_server("control-plane", argv, ready)
    worker = client = None
    try:
        token = admin_token(data)
        env = cli_environment(AIMASS_SERVER=cp.target, AIMASS_TOKEN=token)
        worker = start_server("worker", [exe, "serve", "--role", "worker", "--join", cp.target, "--port", "0",
                                         "--token", token, "--capacity-cpu-millis", "2000",
                                         "--capacity-memory-bytes", str(4 << 30), "--capacity-replicas", "4",
                                         "--queue-budget-ms", str(PACED_QUEUE_BUDGET_MS)],
                              r"aimass worker listening on (127\.0\.0\.1):(\d+)")
        worker_id, replica_id = deploy_movies(exe, env, grant_reader="bob")
        assert worker_health(worker.target, CONTROL_PLANE_HEALTH) == health_pb2.HealthCheckResponse.SERVING
        revision_before = first_watch_event(cp.target, token, mesh_stubs).revision

        client = PacedClient(worker.target, token, recommend_pb)
        client.start()
        wait_until("the client's first answer", lambda: any(c[1] == grpc.StatusCode.OK for c in client.calls), 30)
        t_start = time.monotonic()
        time.sleep(5)  # phase 1: the load runs against a healthy pool (a measurement window, not a wait)

        t_kill = time.monotonic()
        cp.proc.send_signal(signal.SIGKILL)
        cp.proc.wait(10)
        wait_until("the worker to report itself cut off",
                   lambda: worker_health(worker.target, CONTROL_PLANE_HEALTH)
                   == health_pb2.HealthCheckResponse.NOT_SERVING, 30)
        # Callers the worker never saw, decided from the pushed rules with no control plane to ask.
        assert recommend_once(worker.target, reader, recommend_pb) == (grpc.StatusCode.OK, replica_id)
        code, details = recommend_once(worker.target, stranger, recommend_pb)
        assert code == grpc.StatusCode.NOT_FOUND, (code, details)
        time.sleep(max(0.0, t_kill + 15 - time.monotonic()))  # phase 2: 15 s without a control plane

        t_restart = time.monotonic()
        cp = start_server("control-plane-again", argv, ready)
        t_ready = time.monotonic()

        def adopted():
            workers = json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]
            return (len(workers) == 1 and workers[0]["replicas"]
                    and [(r["id"], r["state"]) for r in workers[0]["replicas"]] == [(replica_id, "READY")]
                    and workers[0])
        back = wait_until("the worker back with the same READY replica", adopted, 30)
        assert back["id"] == worker_id
        deployments = json.loads(cli(exe, env, "deployments", "--json").stdout)["deployments"]
        assert [(d["id"], d["min_replicas"]) for d in deployments] == [("movies@1", 1)], deployments
        wait_until("the worker to report itself joined again",
                   lambda: worker_health(worker.target, CONTROL_PLANE_HEALTH)
                   == health_pb2.HealthCheckResponse.SERVING, 30)
        time.sleep(max(0.0, t_restart + 15 - time.monotonic()))  # phase 3: 15 s after the restart
        t_end = time.monotonic()
        client.stop()

        phases = [("before the crash", t_start, t_kill), ("15 s after kill -9 of the control plane", t_kill, t_restart),
                  ("15 s after its restart (same data directory)", t_restart, t_end)]
        print(f"\ncontrol plane restarted in {t_ready - t_restart:.1f} s; replica {replica_id} on {worker_id}")
        print("| phase | calls failed / made |\n|---|---|")
        for name, begin, end in phases:
            calls = client.between(begin, end)
            failed = [c for c in calls if c[1] != grpc.StatusCode.OK]
            print(f"| {name} | {len(failed)} / {len(calls)} |")
        for name, begin, end in phases:
            calls = client.between(begin, end)
            failed = [c for c in calls if c[1] != grpc.StatusCode.OK]
            assert not failed, f"{name}: {len(failed)} of {len(calls)} failed, first: {failed[:3]}"
            # At 50/s a phase makes hundreds of calls; this bound only proves the client ran through it.
            assert len(calls) >= 20, f"{name}: only {len(calls)} calls made"
            assert {c[2] for c in calls} == {replica_id}, f"{name}: answered by {sorted({c[2] for c in calls})}"

        # A grant removed on the restarted control plane reaches the worker (pushed, no cache to expire).
        assert recommend_once(worker.target, reader, recommend_pb) == (grpc.StatusCode.OK, replica_id)
        t_revoke = time.monotonic()
        cli(exe, env, "model", "revoke", "movies", "user:bob")
        wait_until("the worker to refuse bob",
                   lambda: recommend_once(worker.target, reader, recommend_pb)[0] == grpc.StatusCode.NOT_FOUND, 30)
        print(f"a removed grant was enforced on the worker {time.monotonic() - t_revoke:.2f} s after `model revoke`")

        # The Mesh revision continues past everything a watcher saw before the crash: resuming from the old
        # revision gets a snapshot with reset (the events of the previous run are not kept), at a higher revision.
        resumed = first_watch_event(cp.target, token, mesh_stubs, resume_from=revision_before)
        assert mesh_stubs[0].EventKind.Name(resumed.kind) == "EVENT_KIND_SNAPSHOT"
        assert resumed.snapshot.reset and resumed.revision > revision_before, (resumed.revision, revision_before)
        assert [r.id for r in resumed.snapshot.replicas] == [replica_id]
    finally:
        if client is not None:
            client.stop()
        if worker is not None:
            stop_server(worker, expect_alive=False)
        stop_server(cp, expect_alive=False)


@pytest.mark.timeout(900)
def test_silent_partition_between_worker_and_control_plane(tmp_path, recommend_pb):
    """A worker joined through a proxy that goes silent: the worker notices within 3x its keepalive interval
    (health aimass.worker.ControlPlane NOT_SERVING) and the control plane within its lease (the worker leaves the
    pool); calls on the worker keep being answered by the same replica throughout; once the link heals the
    worker rejoins and its replica is adopted with the same id."""
    client = None
    with partitionable_pool(tmp_path) as pool:
        try:
            exe, env, worker = pool.exe, pool.env, pool.worker
            worker_id, replica_id = deploy_movies(exe, env)
            client = PacedClient(worker.target, pool.token, recommend_pb)
            client.start()
            wait_until("the client's first answer", lambda: any(c[1] == grpc.StatusCode.OK for c in client.calls), 30)

            t_silent = time.monotonic()
            pool.proxy.silence()
            bound = 3 * PARTITION_KEEPALIVE_MS / 1000
            wait_until("the worker to notice the silent control plane",
                       lambda: worker_health(worker.target, CONTROL_PLANE_HEALTH)
                       == health_pb2.HealthCheckResponse.NOT_SERVING, bound)
            worker_noticed = time.monotonic() - t_silent
            wait_until("the control plane to drop the silent worker",
                       lambda: worker_id not in {w["id"] for w in json.loads(cli(exe, env, "pool", "--json").stdout)[
                           "workers"]}, bound)
            cp_noticed = time.monotonic() - t_silent
            # The partition lasts a while after both sides noticed (a measurement window, not a wait).
            time.sleep(max(0.0, t_silent + 10 - time.monotonic()))

            t_heal = time.monotonic()
            pool.proxy.heal()

            def adopted():
                workers = json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]
                return [(w["id"], [(r["id"], r["state"]) for r in w["replicas"]]) for w in workers] == [
                    (worker_id, [(replica_id, "READY")])]
            wait_until("the worker back with the same READY replica", adopted, 60)
            wait_until("the worker to report itself joined again",
                       lambda: worker_health(worker.target, CONTROL_PLANE_HEALTH)
                       == health_pb2.HealthCheckResponse.SERVING, 30)
            rejoined = time.monotonic() - t_heal
            time.sleep(max(0.0, t_heal + 5 - time.monotonic()))
            client.stop()

            during = client.between(t_silent, t_heal)
            after = client.between(t_heal, time.monotonic())
            print(f"\nkeepalive {PARTITION_KEEPALIVE_MS} ms: worker noticed after {worker_noticed:.1f} s, control plane "
                  f"after {cp_noticed:.1f} s (bound {bound:.0f} s); rejoined {rejoined:.1f} s after the heal")
            print(f"| partition | {sum(c[1] != grpc.StatusCode.OK for c in during)} / {len(during)} |")
            print(f"| after it healed | {sum(c[1] != grpc.StatusCode.OK for c in after)} / {len(after)} |")
            for name, calls in (("during the partition", during), ("after it healed", after)):
                failed = [c for c in calls if c[1] != grpc.StatusCode.OK]
                assert not failed, f"{name}: {len(failed)} of {len(calls)} failed, first: {failed[:3]}"
                assert len(calls) >= 20, f"{name}: only {len(calls)} calls made"
                assert {c[2] for c in calls} == {replica_id}
        finally:
            if client is not None:
                client.stop()


@pytest.mark.timeout(900)
def test_embedded_restart_replaces_its_replicas_at_once(tmp_path):
    """The embedded default (`aimass serve`: control plane and local worker in one process) killed with -9 and
    started again on its data directory: the deployment comes back, the local worker rejoins under its previous id
    (so placement is not held for the restart grace waiting for it), and a new replica, with a new id, is READY."""
    exe, data, argv, ready = restartable_control_plane(tmp_path)
    argv = [a for a in argv if a not in ("--role", "control-plane")]
    server = start_server("embedded", argv, ready)
    try:
        env = cli_environment(AIMASS_SERVER=server.target, AIMASS_TOKEN=admin_token(data))
        local_id, old_replica = deploy_movies(exe, env)

        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
        server = start_server("embedded-again", argv, ready)
        t_ready = time.monotonic()
        assert [d["id"] for d in json.loads(cli(exe, env, "deployments", "--json").stdout)["deployments"]] == [
            "movies@1"]
        again = wait_until("a READY replica again", lambda: ready_holders(exe, env, "movies@1"), 120)
        elapsed = time.monotonic() - t_ready
        assert list(again) == [local_id]
        replica = json.loads(cli(exe, env, "pool", "--json").stdout)["workers"][0]["replicas"][0]["id"]
        assert replica != old_replica, (replica, old_replica)
        print(f"\nembedded restart: local worker {local_id} back, new replica {replica} READY {elapsed:.1f} s after "
              f"the server listened again")
        assert "restart hold over" not in server.stderr_tail(400), "placement waited for the restart grace"
    finally:
        stop_server(server, expect_alive=False)
