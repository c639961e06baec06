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
import time

import grpc
import pytest

from roles import partitionable_pool
from test_control_plane_restart import recommend_once
from test_mesh_pool import mesh_stubs  # noqa: F401 (the fixture)
from test_pool import DATA, cli, ready_holders, wait_until


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


@pytest.mark.timeout(900)
def test_healed_partition_leaves_one_version_with_the_new_epoch(tmp_path, recommend_pb, scheduler_stubs):
    with partitionable_pool(tmp_path) as cluster:
        exe, env, token, w1 = cluster.exe, cluster.env, cluster.token, cluster.worker

        def workers_now():
            return pool(cluster.control_plane.target, token, scheduler_stubs)
        manifest = ["--manifest", "algorithm=itemcf", "--manifest", "neighbours=50"]
        cli(exe, env, "model", "create", "movies", *manifest)
        cli(exe, env, "model", "upload", "movies", str(DATA), *manifest)
        cli(exe, env, "model", "alias", "movies", "production", "1")
        cli(exe, env, "deploy", "--model", "movies", "--alias", "production", "--min", "1")
        wait_until("a READY replica on worker 1", lambda: ready_holders(exe, env, "movies@production"), 120)
        [first] = workers_now()
        [stale] = first.replicas
        epoch_before = stale.epoch
        assert epoch_before > 0, "placements carry the control plane's epoch"
        assert recommend_once(w1.target, token, recommend_pb) == (grpc.StatusCode.OK, stale.id)
        cluster.add_worker(cluster.control_plane.target, "worker-2")
        wait_until("worker 2 in the pool", lambda: len(workers_now()) == 2, 30)

        cluster.proxy.silence()

        def replaced():
            workers = workers_now()
            return (len(workers) == 1 and workers[0].id != first.id
                    and [r.state for r in workers[0].replicas] == [4])  # READY
        wait_until("the control plane to drop worker 1 and re-place its replica on worker 2", replaced, 120)

        cluster.kill_and_restart_control_plane()

        def confirmed():
            workers = workers_now()
            replicas = [r for w in workers for r in w.replicas]
            return (len(replicas) == 1 and replicas[0].state == 4 and replicas[0].epoch > epoch_before
                    and replicas[0])
        adopted = wait_until("worker 2's replica adopted under the new epoch", confirmed, 60)
        epoch_after = adopted.epoch

        cli(exe, env, "model", "upload", "movies", str(DATA), *manifest)
        cli(exe, env, "model", "alias", "movies", "production", "2")

        def rolled():
            replicas = [r for w in workers_now() for r in w.replicas]
            return [(r.version, r.state) for r in replicas] == [(2, 4)]
        wait_until("the deployment rolled to v2 on worker 2", rolled, 120)
        # Worker 1 is still cut off and keeps serving what it holds: v1, placed under the old epoch.
        assert recommend_once(w1.target, token, recommend_pb) == (grpc.StatusCode.OK, stale.id)

        t_heal = time.monotonic()
        cluster.proxy.heal()

        def healed():
            workers = {w.id: w for w in workers_now()}
            return (first.id in workers and not workers[first.id].replicas
                    and recommend_once(w1.target, token, recommend_pb)[0] != grpc.StatusCode.OK and workers)
        workers = wait_until("worker 1 back, its stale v1 replica removed", healed, 60)
        print(f"\nepoch {epoch_before} -> {epoch_after}; worker 1's v1 replica {stale.id} removed "
              f"{time.monotonic() - t_heal:.1f} s after the heal")
        replicas = [r for w in workers.values() for r in w.replicas]
        assert [(r.version, r.epoch) for r in replicas] == [(2, epoch_after)], replicas
