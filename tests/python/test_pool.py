"""A pool on loopback: `aimass serve --role control-plane` and three `--role worker` processes. ML-100k is
uploaded and deployed with min 2 through the CLI; the two replicas become READY on two different workers; one
of them is SIGKILLed and its replica is re-placed on the third worker within the lease plus a few seconds, while
Recommend calls (routed by the client to workers holding a READY replica, as the mesh balancer does) keep being
answered. A deployment that does not fit is reported PENDING with the shortfall. `aimass pool drain` moves a
replica off a worker while calls run (the replacement is READY before the old one stops), then `uncordon`. A
control plane restarted on the same port and data directory sees its worker rejoin with its previous id and adopts
its replica (same id; test_control_plane_restart.py measures the calls through a kill -9).

Needs data/ml-100k.inter (the test runs scripts/fetch-ml100k.sh when it is missing)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import admin_token, aimass_binary, cli_environment, reserved_ports, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "ml-100k.inter"
LEASE_MS = 3000


def ensure_ml100k():
    if DATA.exists():
        return
    out = subprocess.run(["bash", str(ROOT / "scripts" / "fetch-ml100k.sh"), str(DATA.parent)],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHON": sys.executable})
    if out.returncode != 0 or not DATA.exists():
        pytest.skip(f"cannot fetch ML-100k: {out.stderr[-500:]}")


@pytest.fixture
def pool(tmp_path):
    ensure_ml100k()
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    cp = start_server("control-plane", [exe, "serve", "--role", "control-plane", "--port", "0", "--data-dir", data,
                                        "--lease-ms", str(LEASE_MS)],
                      r"aimass listening on (127\.0\.0\.1):(\d+)")
    token = admin_token(data)
    workers = []
    try:
        for i in range(3):
            workers.append(start_server(
                f"worker{i}",
                [exe, "serve", "--role", "worker", "--join", cp.target, "--port", "0", "--token", token,
                 "--capacity-cpu-millis", "2000", "--capacity-memory-bytes", str(4 << 30), "--capacity-replicas", "4"],
                r"aimass worker listening on (127\.0\.0\.1):(\d+)"))
        env = cli_environment(AIMASS_SERVER=cp.target, AIMASS_TOKEN=token)
        yield cp, workers, env, exe
    finally:
        for w in workers:
            stop_server(w, expect_alive=False)
        stop_server(cp)


def restartable_control_plane(tmp_path):
    """(exe, data dir, argv, ready line) of a control plane on a fixed free port, so that it can be started again
    where its workers rejoin."""
    ensure_ml100k()
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    port = reserved_ports(1)[0]
    argv = [exe, "serve", "--role", "control-plane", "--port", str(port), "--data-dir", data, "--lease-ms", str(LEASE_MS)]
    return exe, data, argv, r"aimass listening on (127\.0\.0\.1):(\d+)"


def cli(exe, env, *args, check=True, timeout=120):
    out = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert out.returncode == 0, f"aimass {' '.join(args)}: {out.stderr}"
    return out


def wait_until(what, predicate, timeout):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < end, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.2)


def ready_holders(exe, env, deployment):
    """worker id -> address for workers holding a READY replica of the deployment."""
    workers = json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]
    return {w["id"]: w["address"] for w in workers
            if any(r["deployment_id"] == deployment and r["state"] == "READY" for r in w["replicas"])}


def recommend_tried(exe, env, addresses):
    """Calls Recommend on each worker in turn until one answers, like a client balancer with retries; returns
    served_by and the addresses that failed first (the errors a client sees before its retry succeeds)."""
    errors = []
    for address in addresses:
        out = cli(exe, {**env, "AIMASS_SERVER": address}, "recommend", "--model", "movies", "--user", "196", "-k", "5",
                  "--json", "--timeout", "5", check=False)
        if out.returncode == 0:
            return json.loads(out.stdout)["served_by"], [address for address, _ in errors]
        errors.append((address, out.stderr.strip()))
    raise AssertionError("no worker answered: " + "; ".join(f"{a}: {e}" for a, e in errors))


def recommend_via(exe, env, addresses):
    """served_by of a Recommend call answered by the first of `addresses` that can."""
    return recommend_tried(exe, env, addresses)[0]


@pytest.mark.timeout(900)  # its own bounded waits add up past the suite's 120 s safety net
def test_pool_failover_and_pending(pool):
    cp, workers, env, exe = pool
    wait_until("3 workers in the pool", lambda: len(json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]) == 3, 20)

    cli(exe, env, "model", "create", "movies", "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
    cli(exe, env, "model", "upload", "movies", str(DATA), "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
    deployed = json.loads(cli(exe, env, "deploy", "--model", "movies", "--min", "2", "--json").stdout)
    assert deployed["id"] == "movies@1" and deployed["min_replicas"] == 2

    holders = wait_until("2 READY replicas on 2 workers", lambda: (h := ready_holders(exe, env, "movies@1"))
                         and len(h) == 2 and h, 60)
    listed = json.loads(cli(exe, env, "deployments", "--json").stdout)["deployments"]
    assert listed[0]["id"] == "movies@1" and listed[0]["state"] == "READY" and listed[0]["ready_replicas"] == 2
    assert "READY" in cli(exe, env, "deployments").stdout
    served = recommend_via(exe, env, list(holders.values()))
    assert served["worker_id"] in holders

    # SIGKILL one worker holding a replica.
    by_address = {w.target: w for w in workers}
    victim_id, victim_address = sorted(holders.items())[0]
    survivor_id = next(i for i in holders if i != victim_id)
    by_address[victim_address].proc.send_signal(signal.SIGKILL)
    by_address[victim_address].proc.wait(10)
    killed_at = time.monotonic()

    # A client that knows only what the pool says: it calls the READY holders the control plane lists (the victim
    # too, until its lease runs out), the victim first every other call, and retries on the next one when a call
    # fails, as the mesh balancer does. Every call must be answered; the errors it sees before its retry must come
    # from the victim only, and stop once the pool no longer lists it.
    answered = 0
    failed_attempts = []
    listed_victim_after_kill = 0
    while True:
        current = ready_holders(exe, env, "movies@1")
        listed_victim_after_kill += victim_id in current
        order = sorted(current.values(), key=lambda address: (address != victim_address) == (answered % 2 == 0))
        served, failed = recommend_tried(exe, env, order)
        assert served["worker_id"] != victim_id
        answered += 1
        failed_attempts += [(address, victim_id in current) for address in failed]
        new = [i for i in current if i not in (victim_id, survivor_id)]
        if new:
            break
        assert time.monotonic() - killed_at < LEASE_MS / 1000 + 20, f"replica not re-placed: {current}"
    elapsed = time.monotonic() - killed_at
    assert {address for address, _ in failed_attempts} <= {victim_address}, failed_attempts
    assert all(listed for _, listed in failed_attempts), "an error after the pool stopped listing the victim"
    assert listed_victim_after_kill == 0 or failed_attempts, "the victim was listed but never tried"
    assert len(failed_attempts) <= answered
    print(f"replica re-placed on {new[0]} {elapsed:.1f}s after SIGKILL; {answered} calls answered, "
          f"{len(failed_attempts)} failed first on the victim (listed in {listed_victim_after_kill} rounds)")
    pool_now = json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]
    assert victim_id not in {w["id"] for w in pool_now}
    assert recommend_via(exe, env, [a for i, a in ready_holders(exe, env, "movies@1").items()])["worker_id"] in (
        survivor_id, new[0])

    # A deployment that cannot fit anywhere is RESOURCE_EXHAUSTED with the shortfall (exit 10 + 8), and kept
    # PENDING with the shortfall as its reason, to be placed when capacity appears.
    cli(exe, env, "model", "alias", "movies", "big", "1")
    refused = cli(exe, env, "deploy", "--model", "movies", "--alias", "big", "--cpu-millis", "100000", "--json",
                  check=False)
    assert refused.returncode == 18, (refused.returncode, refused.stderr)
    assert "RESOURCE_EXHAUSTED" in refused.stderr and "unplaced" in refused.stderr, refused.stderr
    pending = json.loads(refused.stdout)
    assert pending["id"] == "movies@big" and pending["state"] == "PENDING" and pending["pending_code"] == 8
    assert "unplaced" in pending["reason"] and "cpu" in pending["reason"], pending["reason"]
    shown = json.loads(cli(exe, env, "deployments", "--json").stdout)["deployments"]
    assert any(d["id"] == "movies@big" and d["state"] == "PENDING" and d["pending_code"] == 8 for d in shown)
    table = cli(exe, env, "deployments").stdout
    assert "movies@big" in table and "PENDING" in table
    assert "SERVING" in cli(exe, env, "pool").stdout


def worker_health(address):
    """The worker's own grpc.health.v1 status of aimass.v1.Recommend."""
    with grpc.insecure_channel(address) as channel:
        request = health_pb2.HealthCheckRequest(service="aimass.v1.Recommend")
        return health_pb2_grpc.HealthStub(channel).Check(request, timeout=5).status


@pytest.mark.timeout(900)  # its own bounded waits add up past the suite's 120 s safety net
def test_drain_moves_replica_while_calls_run(pool):
    """`aimass pool drain` on the worker holding the only replica while Recommend calls run: the replica comes up
    on another worker first, every call is answered, and the drained worker ends DRAINING with no replica."""
    cp, workers, env, exe = pool
    wait_until("3 workers in the pool", lambda: len(json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]) == 3, 20)
    cli(exe, env, "model", "create", "movies", "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
    cli(exe, env, "model", "upload", "movies", str(DATA), "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
    cli(exe, env, "deploy", "--model", "movies", "--min", "1", "--json")
    holders = wait_until("1 READY replica", lambda: (h := ready_holders(exe, env, "movies@1")) and len(h) == 1 and h, 60)
    victim_id, victim_address = next(iter(holders.items()))
    every_address = [w.target for w in workers]

    # Calls run throughout, each routed to the workers holding a READY replica (then the others, as a balancer
    # retrying on UNAVAILABLE would): each must be answered by some worker.
    results, stop = [], threading.Event()

    def call_loop():
        while not stop.is_set():
            try:
                current = list(ready_holders(exe, env, "movies@1").values())
                served = recommend_via(exe, env, current + [a for a in every_address if a not in current])
                results.append(("ok", served["worker_id"]))
            except Exception as error:  # recorded, asserted below
                results.append(("error", str(error)))

    caller = threading.Thread(target=call_loop, daemon=True)
    caller.start()
    try:
        wait_until("calls before the drain", lambda: len(results) >= 2, 30)
        drained = json.loads(cli(exe, env, "pool", "drain", victim_id, "--reason", "maintenance", "--json").stdout)
        assert drained["workers"][0]["cordoned"] and drained["workers"][0]["drain_reason"] == "maintenance"

        def finished():
            listed = {w["id"]: w for w in json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]}
            moved = [i for i, w in listed.items() if i != victim_id
                     and any(r["deployment_id"] == "movies@1" and r["state"] == "READY" for r in w["replicas"])]
            victim = listed[victim_id]
            return moved and not victim["replicas"] and victim["health"] == "DRAINING" and (moved, victim)

        moved, victim = wait_until("the replica moved and the worker drained", finished, 60)
        calls_at_end = len(results)
        wait_until("calls after the drain", lambda: len(results) >= calls_at_end + 2, 30)
    finally:
        stop.set()
        caller.join(30)
    errors = [r for r in results if r[0] == "error"]
    assert not errors, errors
    assert results[-1][1] == moved[0], results[-3:]
    assert victim["cordoned"] and victim["drain_reason"] == "maintenance"
    assert worker_health(victim_address) == health_pb2.HealthCheckResponse.NOT_SERVING
    deployment = json.loads(cli(exe, env, "deployments", "--json").stdout)["deployments"][0]
    assert deployment["state"] == "READY" and deployment["ready_replicas"] == 1
    print(f"replica moved from {victim_id} to {moved[0]}; {len(results)} calls answered, none failed")

    table = cli(exe, env, "pool").stdout
    assert "DRAINING,CORDONED" in table
    undone = json.loads(cli(exe, env, "pool", "uncordon", victim_id, "--json").stdout)["workers"][0]
    assert not undone["cordoned"] and undone["health"] == "SERVING"
    # Its own health service serves again once it is given a replica: scale up so one lands there.
    cli(exe, env, "scale", "movies@1", "--min", "3", "--max", "3", "--json")
    wait_until("the uncordoned worker serves again",
               lambda: worker_health(victim_address) == health_pb2.HealthCheckResponse.SERVING, 60)
    missing = cli(exe, env, "pool", "drain", "worker-99", check=False)
    assert missing.returncode == 15 and "NOT_FOUND" in missing.stderr, missing.stderr


@pytest.mark.timeout(900)  # its own bounded waits add up past the suite's 120 s safety net
def test_worker_rejoins_restarted_control_plane(tmp_path):
    """The control plane restarts gracefully (same port and data directory): the worker reconnects with its
    previous id, the deployment comes back from the data directory and the replica the worker still holds is
    adopted (same id, READY, not reloaded); a replica placed afterwards does not reuse an old id."""
    exe, data, argv, ready = restartable_control_plane(tmp_path)
    cp = start_server("control-plane", argv, ready)
    worker = None
    try:
        token = admin_token(data)
        env = cli_environment(AIMASS_SERVER=cp.target, AIMASS_TOKEN=token)

        def start_worker(name):
            return start_server(name, [exe, "serve", "--role", "worker", "--join", cp.target, "--port", "0", "--token",
                                       token, "--capacity-cpu-millis", "2000", "--capacity-memory-bytes",
                                       str(4 << 30), "--capacity-replicas", "4"],
                                r"aimass worker listening on (127\.0\.0\.1):(\d+)")

        # A first worker joins and leaves, so the one that stays is worker-2: a fresh join after the restart
        # would be worker-1, a rejoin keeps worker-2.
        first = start_worker("worker-a")
        wait_until("worker-1 in the pool", lambda: json.loads(cli(exe, env, "pool", "--json").stdout)["workers"], 20)
        stop_server(first)
        wait_until("worker-1 gone", lambda: not json.loads(cli(exe, env, "pool", "--json").stdout)["workers"], 20)
        worker = start_worker("worker-b")
        cli(exe, env, "model", "create", "movies", "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
        cli(exe, env, "model", "upload", "movies", str(DATA), "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
        cli(exe, env, "deploy", "--model", "movies", "--min", "1")
        holders = wait_until("a READY replica", lambda: ready_holders(exe, env, "movies@1"), 60)
        worker_id = next(iter(holders))
        assert worker_id == "worker-2", holders
        old_replica = json.loads(cli(exe, env, "pool", "--json").stdout)["workers"][0]["replicas"][0]["id"]

        stop_server(cp)
        cp = start_server("control-plane-again", argv, ready)

        def rejoined():
            workers = json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]
            return len(workers) == 1 and workers[0]["health"] == "SERVING" and workers[0]["replicas"] and workers[0]
        back = wait_until("the worker back with its id and its replica", rejoined, 30)
        assert back["id"] == worker_id
        assert [(r["id"], r["state"]) for r in back["replicas"]] == [(old_replica, "READY")], back["replicas"]
        deployments = json.loads(cli(exe, env, "deployments", "--json").stdout)["deployments"]
        assert [(d["id"], d["state"]) for d in deployments] == [("movies@1", "READY")], deployments
        assert recommend_via(exe, env, [worker.target])["worker_id"] == worker_id
        cli(exe, env, "scale", "movies@1", "--min", "2", "--max", "2")
        wait_until("2 READY replicas", lambda: len([r for r in json.loads(cli(exe, env, "pool", "--json").stdout)[
            "workers"][0]["replicas"] if r["state"] == "READY"]) == 2, 60)
        replicas = [r["id"] for r in json.loads(cli(exe, env, "pool", "--json").stdout)["workers"][0]["replicas"]]
        assert old_replica in replicas and len(set(replicas)) == 2, replicas
    finally:
        if worker is not None:
            stop_server(worker, expect_alive=False)
        stop_server(cp, expect_alive=False)
