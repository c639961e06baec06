"""Fencing across a partition (issue 13, item 4): every placement carries the control plane's epoch (its
incarnation, persisted and increasing across restarts), the worker reports the epoch of each replica it holds when
it rejoins, and the control plane confirms (re-stamps) or removes each one, so a healed partition never leaves two
replicas of one slot serving two versions without the control plane knowing.

Real processes: a control plane on a data directory, worker 1 joined through a loopback proxy the test silences (no
FIN, no RST), worker 2 joined directly. `movies@production` (alias production -> v1) runs on worker 1. During the
partition the control plane drops worker 1, re-places the replica on worker 2, is killed with -9 and restarted
(a new epoch) and the alias moves to v2. Worker 1 keeps serving v1 meanwhile (it cannot know). After the heal the
control plane removes worker 1's stale v1 replica, and every replica left in the pool is of v2 and carries the new
epoch."""

from __future__ import annotations

import importlib
import os
import signal
import time
from pathlib import Path

import grpc
import pytest

import protogen
from conftest import start_server, stop_server
from test_control_plane_restart import SilenceableProxy, recommend_once
from test_mesh_pool import mesh_stubs  # noqa: F401 (the fixture)
from test_pool import DATA, cli, ready_holders, restartable_control_plane, wait_until

KEEPALIVE_MS = 2000


@pytest.fixture(scope="module")
def scheduler_stubs(aimass_stubs, mesh_stubs):  # noqa: F811 (mesh_stubs generates scheduler.proto too)
    importlib.invalidate_caches()
    return (importlib.import_module("aimass.v1.scheduler_pb2"), importlib.import_module("aimass.v1.scheduler_pb2_grpc"))


def pool(target, token, stubs):
    """GetPool's workers, as messages."""
    pb, pb_grpc = stubs
    with grpc.insecure_channel(target) as channel:
        return list(pb_grpc.SchedulerStub(channel).GetPool(
            pb.GetPoolRequest(), metadata=[("authorization", f"Bearer {token}")], timeout=10).workers)


def start_worker(exe, token, join, name):
    return start_server(name, [exe, "serve", "--role", "worker", "--join", join, "--port", "0", "--token", token,
                               "--keepalive-ms", str(KEEPALIVE_MS), "--capacity-cpu-millis", "2000",
                               "--capacity-memory-bytes", str(4 << 30), "--capacity-replicas", "4"],
                        r"aimass worker listening on (127\.0\.0\.1):(\d+)")


@pytest.mark.timeout(900)
def test_healed_partition_leaves_one_version_with_the_new_epoch(tmp_path, recommend_pb, scheduler_stubs):
    exe, data, argv, ready = restartable_control_plane(tmp_path)
    cp = start_server("control-plane", argv, ready)
    proxy = w1 = w2 = None
    try:
        token = (data / "admin.token").read_text().strip()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIMASS_")}
        env.update(AIMASS_SERVER=cp.target, AIMASS_TOKEN=token)
        proxy = SilenceableProxy(cp.port)
        w1 = start_worker(exe, token, f"127.0.0.1:{proxy.port}", "worker-1")
        manifest = ["--manifest", "algorithm=itemcf", "--manifest", "neighbours=50"]
        cli(exe, env, "model", "create", "movies", *manifest)
        cli(exe, env, "model", "upload", "movies", str(DATA), *manifest)
        cli(exe, env, "model", "alias", "movies", "production", "1")
        cli(exe, env, "deploy", "--model", "movies", "--alias", "production", "--min", "1")
        wait_until("a READY replica on worker 1", lambda: ready_holders(exe, env, "movies@production"), 120)
        [first] = pool(cp.target, token, scheduler_stubs)
        [stale] = first.replicas
        epoch_before = stale.epoch
        assert epoch_before > 0, "placements carry the control plane's epoch"
        assert recommend_once(w1.target, token, recommend_pb) == (grpc.StatusCode.OK, stale.id)
        w2 = start_worker(exe, token, cp.target, "worker-2")
        wait_until("worker 2 in the pool", lambda: len(pool(cp.target, token, scheduler_stubs)) == 2, 30)

        proxy.silence()

        def replaced():
            workers = pool(cp.target, token, scheduler_stubs)
            return (len(workers) == 1 and workers[0].id != first.id
                    and [r.state for r in workers[0].replicas] == [4])  # READY
        wait_until("the control plane to drop worker 1 and re-place its replica on worker 2", replaced, 120)

        cp.proc.send_signal(signal.SIGKILL)
        cp.proc.wait(10)
        cp = start_server("control-plane-again", argv, ready)

        def confirmed():
            workers = pool(cp.target, token, scheduler_stubs)
            replicas = [r for w in workers for r in w.replicas]
            return (len(replicas) == 1 and replicas[0].state == 4 and replicas[0].epoch > epoch_before
                    and replicas[0])
        adopted = wait_until("worker 2's replica adopted under the new epoch", confirmed, 60)
        epoch_after = adopted.epoch

        cli(exe, env, "model", "upload", "movies", str(DATA), *manifest)
        cli(exe, env, "model", "alias", "movies", "production", "2")

        def rolled():
            replicas = [r for w in pool(cp.target, token, scheduler_stubs) for r in w.replicas]
            return [(r.version, r.state) for r in replicas] == [(2, 4)]
        wait_until("the deployment rolled to v2 on worker 2", rolled, 120)
        # Worker 1 is still cut off and keeps serving what it holds: v1, placed under the old epoch.
        assert recommend_once(w1.target, token, recommend_pb) == (grpc.StatusCode.OK, stale.id)

        t_heal = time.monotonic()
        proxy.heal()

        def healed():
            workers = {w.id: w for w in pool(cp.target, token, scheduler_stubs)}
            return (first.id in workers and not workers[first.id].replicas
                    and recommend_once(w1.target, token, recommend_pb)[0] != grpc.StatusCode.OK and workers)
        workers = wait_until("worker 1 back, its stale v1 replica removed", healed, 60)
        print(f"\nepoch {epoch_before} -> {epoch_after}; worker 1's v1 replica {stale.id} removed "
              f"{time.monotonic() - t_heal:.1f} s after the heal")
        replicas = [r for w in workers.values() for r in w.replicas]
        assert [(r.version, r.epoch) for r in replicas] == [(2, epoch_after)], replicas
    finally:
        for worker in (w1, w2):
            if worker is not None:
                stop_server(worker, expect_alive=False)
        if proxy is not None:
            proxy.close()
        stop_server(cp, expect_alive=False)
