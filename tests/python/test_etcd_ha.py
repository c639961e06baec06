"""High availability on etcd (issue 13, item 5), with real processes: a 3-member etcd cluster (Debian's `etcd`) on
loopback ports in temporary directories, three `aimass serve --role control-plane --etcd ...`, each with its own
data directory (its registry a replica of the rows in etcd) and one shared `--artifact-dir`, and two workers given
all three (`--join A,B,C`).

What a user checks:
- exactly one control plane leads; the others answer UNAVAILABLE naming the leader (`aimass-leader` trailer), except
  registry reads, which a standby answers from its replica;
- `kill -9` of the leader: another one leads after at most about the lease TTL (measured), the worker rejoins it,
  its replica is adopted under the same id and the deployment is restored from etcd; what was written on the
  killed leader is there on its successor, from etcd (a user and its token, a grant, an alias move, an upload:
  its artifact downloads from the shared directory); a grpcio client calling the
  worker at 50 calls/s sees no failure, nor does `aimass recommend-load` (20 calls/s through the Swift
  `MeshBalancer`, routed by Mesh/Watch on all three control planes); an upload, an alias move and a Deploy issued after the failover succeed,
  and the CLI pointed at a standby follows the leader it names;
- a Mesh watcher that resumes on each new leader from the last revision it applied sees one gap-free sequence of
  revisions across both changes of leader (each state event the previous + 1, no snapshot after the first): the
  leader records every Mesh event in etcd before issuing it and its successor continues that journal;
- `kill -9` of one etcd member: with 2 of 3, an Undeploy and the calls still succeed;
- a graceful stop (SIGTERM) of the leader hands over at once (the lease is revoked), without waiting for the TTL.

Prints the figures docs/operations.md quotes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time

import grpc
import pytest

from conftest import aimass_binary, cli_environment, reserved_ports, start_server, stop_server
from test_control_plane_restart import PacedClient
from test_mesh_pool import EPHEMERAL, mesh_stubs  # noqa: F401 (the fixture)
from roles import PACED_QUEUE_BUDGET_MS
from test_pool import DATA, cli, ensure_ml100k, ready_holders, wait_until

LEASE_TTL_S = 10
STANDBY_RE = r"aimass standby listening on (127\.0\.0\.1):(\d+)"


class EtcdCluster:
    """Three etcd members on loopback, each in its own directory; `kill(i)` sends SIGKILL to one."""

    def __init__(self, root):
        self.etcd = shutil.which("etcd")
        self.etcdctl = shutil.which("etcdctl")
        assert self.etcd and self.etcdctl, "etcd and etcdctl are missing: scripts/install-deps.sh installs etcd-server"
        ports = reserved_ports(6)
        self.client_ports, peer_ports = ports[:3], ports[3:]
        cluster = ",".join(f"m{i}=http://127.0.0.1:{p}" for i, p in enumerate(peer_ports))
        self.procs, self.logs = [], []
        for i in range(3):
            log = open(root / f"etcd-m{i}.log", "w")
            self.logs.append(log)
            self.procs.append(subprocess.Popen(
                [self.etcd, "--name", f"m{i}", "--data-dir", str(root / f"etcd-m{i}"),
                 "--listen-client-urls", f"http://127.0.0.1:{self.client_ports[i]}",
                 "--advertise-client-urls", f"http://127.0.0.1:{self.client_ports[i]}",
                 "--listen-peer-urls", f"http://127.0.0.1:{peer_ports[i]}",
                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_ports[i]}",
                 "--initial-cluster", cluster, "--initial-cluster-state", "new",
                 "--initial-cluster-token", f"aimass-test-{os.getpid()}"],
                stdout=log, stderr=subprocess.STDOUT))
        wait_until("etcd to be healthy", lambda: self.healthy(range(3)), 60)

    @property
    def endpoints(self):
        return ",".join(f"http://127.0.0.1:{p}" for p in self.client_ports)

    def healthy(self, members):
        out = self.ctl(["endpoint", "health"], members)
        return out.returncode == 0

    def ctl(self, args, members=range(3)):
        endpoints = ",".join(f"http://127.0.0.1:{self.client_ports[i]}" for i in members)
        return subprocess.run([self.etcdctl, f"--endpoints={endpoints}", "--command-timeout=5s", *args],
                              capture_output=True, text=True, timeout=30, env={**os.environ, "ETCDCTL_API": "3"})

    def kill(self, i):
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait(10)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        for log in self.logs:
            log.close()


def leaders(control_planes):
    """The control planes alive that announced they lead."""
    return [cp for cp in control_planes if cp.alive() and any("aimass leader listening" in line
                                                              for line in cp.stdout_lines)]


class ResumingWatcher:
    """A Mesh/Watch client that, when its stream ends, resumes on whichever control plane answers (as a client
    given every address would), from the last revision it applied; records every event."""

    def __init__(self, targets, token, pb):
        self.targets, self.token, self.pb = targets, token, pb
        self.events, self.connections = [], []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="resuming-watcher", daemon=True)
        self.thread.start()

    def kind(self, event):
        return self.pb[0].EventKind.Name(event.kind).removeprefix("EVENT_KIND_")

    def _run(self):
        last, index = 0, 0
        while not self.stopping.is_set():
            target = self.targets[index % len(self.targets)]
            with grpc.insecure_channel(target) as channel:
                self.call = self.pb[1].MeshStub(channel).Watch(
                    self.pb[0].WatchRequest(resume_from_revision=last, heartbeat_interval_ms=1000),
                    metadata=[("authorization", f"Bearer {self.token}")])
                try:
                    for event in self.call:
                        if not self.connections or self.connections[-1] != target:
                            self.connections.append(target)
                        with self.lock:
                            self.events.append(event)
                        if self.kind(event) not in EPHEMERAL:
                            last = event.revision
                        if self.stopping.is_set():
                            break
                except grpc.RpcError:
                    pass
            index += 1
            time.sleep(0.1)

    def state_revisions(self):
        with self.lock:
            return [(self.kind(e), e.revision, e.snapshot.reset if self.kind(e) == "SNAPSHOT" else False)
                    for e in self.events if self.kind(e) not in EPHEMERAL]

    def published_versions(self):
        with self.lock:
            return [(e.version_published.model, e.version_published.number) for e in self.events
                    if self.kind(e) == "VERSION_PUBLISHED"]

    def alias_moves(self):
        with self.lock:
            return [(e.alias_moved.model, e.alias_moved.alias, e.alias_moved.version) for e in self.events
                    if self.kind(e) == "ALIAS_MOVED"]

    def stop(self):
        self.stopping.set()
        try:
            self.call.cancel()
        except Exception:  # noqa: BLE001 (the call may not exist yet)
            pass
        self.thread.join(10)


class BalancedClient:
    """`aimass recommend-load`: Recommend at 20 calls/s through the Swift MeshBalancer, which follows Mesh/Watch on
    every control plane given; one JSON line per call in `path`."""

    def __init__(self, exe, env, control_planes, path):
        self.path = path
        self.out = open(path, "w")
        self.proc = subprocess.Popen(
            [str(exe), "recommend-load", "--model", "movies", "--user", "196", "--control-planes", control_planes,
             "--rate", "20", "--count", "0", "--timeout", "5"],
            stdout=self.out, stderr=subprocess.PIPE, text=True, env=env)
        self.summary = ""

    def calls(self):
        lines = self.path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                _, self.summary = self.proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.out.close()
        return self.calls()


@pytest.mark.timeout(1200)
def test_control_planes_on_etcd_survive_leader_and_member_loss(tmp_path, recommend_pb, mesh_stubs):
    ensure_ml100k()
    exe = aimass_binary("aimass")
    etcd = EtcdCluster(tmp_path)
    data = [tmp_path / f"data-{i}" for i in range(3)]
    artifacts = tmp_path / "artifacts"
    cps, workers, client, watcher, balanced = [], [], None, None, None
    try:
        cp_ports = reserved_ports(3)
        argvs = [[exe, "serve", "--role", "control-plane", "--port", str(p), "--data-dir", data[i], "--artifact-dir",
                  artifacts, "--etcd", etcd.endpoints, "--leader-ttl-s", str(LEASE_TTL_S), "--lease-ms", "3000"]
                 for i, p in enumerate(cp_ports)]
        for i, argv in enumerate(argvs):
            cps.append(start_server(f"control-plane-{i}", argv, STANDBY_RE))
        leader = wait_until("one leader", lambda: len(leaders(cps)) == 1 and leaders(cps)[0], 60)
        held = etcd.ctl(["get", "/aimass/leader", "--print-value-only"]).stdout.strip()
        assert held == leader.target, (held, leader.target)
        # The first leader seeded the registry in etcd, with the admin user: its token file is in its data directory.
        seeded = data[cps.index(leader)] / "admin.token"
        token = wait_until("the admin token", lambda: seeded.exists() and seeded.read_text().strip(), 30)
        env = cli_environment(AIMASS_SERVER=leader.target, AIMASS_TOKEN=token)

        # A standby answers UNAVAILABLE and names the leader.
        standby = next(cp for cp in cps if cp is not leader)
        with grpc.insecure_channel(standby.target) as channel:
            with pytest.raises(grpc.RpcError) as refused:
                channel.unary_unary("/aimass.v1.Scheduler/ListDeployments")(b"", timeout=10,
                                                                          metadata=[("authorization", f"Bearer {token}")])
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert ("aimass-leader", leader.target) in tuple(refused.value.trailing_metadata()), refused.value

        join = ",".join(cp.target for cp in cps)
        for i in range(2):
            workers.append(start_server(
                f"worker-{i}", [exe, "serve", "--role", "worker", "--join", join, "--port", "0", "--token", token,
                                "--capacity-cpu-millis", "2000", "--capacity-memory-bytes", str(4 << 30),
                                "--capacity-replicas", "4", "--queue-budget-ms", str(PACED_QUEUE_BUDGET_MS)],
                r"aimass worker listening on (127\.0\.0\.1):(\d+)"))
        cli(exe, env, "model", "create", "movies", "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
        cli(exe, env, "model", "upload", "movies", str(DATA), "--manifest", "algorithm=itemcf",
            "--manifest", "neighbours=50")
        cli(exe, env, "deploy", "--model", "movies", "--min", "1")
        wait_until("a READY replica", lambda: ready_holders(exe, env, "movies@1"), 120)
        pool = json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]
        holder = next(w for w in pool if w["replicas"])
        replica_id = holder["replicas"][0]["id"]
        worker = next(w for w in workers if w.target == holder["address"])

        # Registry writes on this leader, to be found on its successor: a user with a token and a role, an alias.
        carol = cli(exe, env, "token", "create", "--user", "carol").stdout.strip().splitlines()[-1]
        cli(exe, env, "model", "grant", "movies", "user:carol", "reader")
        cli(exe, env, "model", "alias", "movies", "production", "1")
        rows = etcd.ctl(["get", "/aimass/registry/", "--prefix", "--keys-only"]).stdout.split()
        assert any(k.startswith("/aimass/registry/aliases/") for k in rows), rows
        assert any(k.startswith("/aimass/registry/users/") for k in rows), rows
        # A standby answers registry reads from its replica (no redirect), as soon as the watch brought the rows.
        def read_on_standby():
            out = cli(exe, {**env, "AIMASS_SERVER": standby.target, "AIMASS_TOKEN": carol}, "model", "show", "movies",
                      "--version", "production", "--json", check=False)
            return out.returncode == 0 and out
        shown = wait_until("a standby to serve the alias from its replica", read_on_standby, 60)
        assert json.loads(shown.stdout)["number"] == 1 and "following the leader" not in shown.stderr, shown.stderr

        watcher = ResumingWatcher([cp.target for cp in cps], token, mesh_stubs)
        client = PacedClient(worker.target, token, recommend_pb)
        client.start()
        wait_until("the client's first answer", lambda: any(c[1] == grpc.StatusCode.OK for c in client.calls), 30)
        wait_until("the watcher's snapshot", lambda: watcher.state_revisions(), 30)
        balanced = BalancedClient(exe, env, join, tmp_path / "recommend-load.jsonl")
        wait_until("the balanced client's first answer", lambda: any(c["code"] == "OK" for c in balanced.calls()), 60)

        # kill -9 of the leader.
        t_kill, wall_kill = time.monotonic(), time.time()
        leader.proc.send_signal(signal.SIGKILL)
        leader.proc.wait(10)
        successor = wait_until("a new leader", lambda: leaders(cps) and leaders(cps)[0], 120)
        failover_s = time.monotonic() - t_kill
        env["AIMASS_SERVER"] = successor.target
        held = etcd.ctl(["get", "/aimass/leader", "--print-value-only"]).stdout.strip()
        assert held == successor.target, (held, successor.target)

        # Writes right after the failover (before the worker is back): an upload (shared artifact directory), a Deploy
        # (desired state in etcd; placed once the hold for the known worker ends) and an alias move.
        t_writes = time.monotonic()
        cli(exe, env, "model", "create", "movies2", "--manifest", "algorithm=itemcf", "--manifest", "neighbours=20")
        cli(exe, env, "model", "upload", "movies2", str(DATA), "--manifest", "algorithm=itemcf",
            "--manifest", "neighbours=20")
        cli(exe, env, "deploy", "--model", "movies2", "--min", "1")
        cli(exe, env, "model", "alias", "movies2", "production", "1")
        writes_s = time.monotonic() - t_writes
        production = json.loads(cli(exe, env, "model", "show", "movies2", "--version", "production", "--json").stdout)
        assert production["number"] == 1, production
        # What the killed leader wrote: carol's token authenticates here, her grant and the alias hold, and the
        # version uploaded there downloads (the artifact from the shared directory, checked against its sha256).
        as_carol = {**env, "AIMASS_TOKEN": carol}
        shown = json.loads(cli(exe, as_carol, "model", "show", "movies", "--version", "production", "--json").stdout)
        assert shown["number"] == 1, shown
        downloaded = tmp_path / "movies-v1.bin"
        cli(exe, as_carol, "model", "download", "movies", "--version", "1", "-o", str(downloaded))
        assert downloaded.read_bytes() == DATA.read_bytes()

        def adopted():
            joined = json.loads(cli(exe, env, "pool", "--json", check=False).stdout or '{"workers": []}')["workers"]
            # (movies2, deployed right after the failover, may be placed on either)
            return len(joined) == 2 and (replica_id, "READY") in [(r["id"], r["state"]) for w in joined
                                                                  for r in w["replicas"]]
        wait_until("both workers rejoined, the same replica READY", adopted, 120)
        rejoined_s = time.monotonic() - t_kill
        deployments = json.loads(cli(exe, env, "deployments", "--json").stdout)["deployments"]
        # movies@1 restored from etcd, movies2@1 deployed right after the failover
        assert sorted((d["id"], d["min_replicas"]) for d in deployments) == [("movies2@1", 1), ("movies@1", 1)], deployments

        wait_until("movies2 READY after the failover", lambda: ready_holders(exe, env, "movies2@1"), 120)
        # The CLI pointed at a standby follows the leader it names, once.
        standby = next(cp for cp in cps if cp.alive() and cp is not successor)
        followed = cli(exe, {**env, "AIMASS_SERVER": standby.target}, "deployments", "--json")
        assert f"following the leader at {successor.target}" in followed.stderr, followed.stderr
        assert sorted(d["id"] for d in json.loads(followed.stdout)["deployments"]) == ["movies2@1", "movies@1"]
        stored = etcd.ctl(["get", "/aimass/state/deployment/", "--prefix", "--keys-only"]).stdout.split()
        assert sorted(stored) == ["/aimass/state/deployment/movies2@1", "/aimass/state/deployment/movies@1"], stored

        # One etcd member lost: 2 of 3 keep a quorum.
        t_member = time.monotonic()
        etcd.kill(0)
        undeploy = cli(exe, env, "undeploy", "movies2@1", check=False)
        assert undeploy.returncode == 0, f"{undeploy.stderr}\n{successor.report()}"
        wait_until("movies2 undeployed with one etcd member down",
                   lambda: [d["id"] for d in json.loads(cli(exe, env, "deployments", "--json").stdout)["deployments"]]
                   == ["movies@1"], 120)
        member_write_s = time.monotonic() - t_member
        for cp in cps:
            assert cp is leader or cp.alive(), cp.report()  # the standbys keep their leases with 2 of 3 too

        # A graceful stop (SIGTERM) of the leader resigns at once (its lease is revoked): the last standby leads
        # without waiting for the TTL, still with 2 of 3 etcd members.
        third = next(cp for cp in cps if cp.alive() and cp is not successor)
        t_term = time.monotonic()
        successor.proc.send_signal(signal.SIGTERM)
        assert successor.proc.wait(60) == 0, successor.report()
        wait_until("the last standby to lead", lambda: third in leaders(cps), 120)
        handover_s = time.monotonic() - t_term
        env["AIMASS_SERVER"] = third.target
        wait_until("both workers rejoined the third leader, the same replica READY", adopted, 120)
        t_end, wall_end = time.monotonic(), time.time()
        client.stop()
        watcher.stop()
        balanced_calls = [c for c in balanced.stop() if wall_kill * 1000 <= c["at_ms"] < wall_end * 1000]
        balanced_failed = [c for c in balanced_calls if c["code"] != "OK"]

        calls = client.between(t_kill, t_end)
        # Every call that did not succeed counts, a shed one too: the workers queue calls over their limit for up to
        # PACED_QUEUE_BUDGET_MS instead of shedding them at once, as on a machine shared with builds the adaptive
        # limit can fall to a few calls while a paced client needs every call answered.
        failed = [c for c in calls if c[1] != grpc.StatusCode.OK]
        revisions = watcher.state_revisions()
        print(f"\nleader {leader.target} killed: {successor.target} leads after {failover_s:.1f} s "
              f"(lease TTL {LEASE_TTL_S} s); the worker's replica {replica_id} adopted after {rejoined_s:.1f} s")
        print(f"calls on the worker from the kill to the end: {len(failed)} failed / {len(calls)}")
        print(f"undeploy with etcd member m0 killed: done after {member_write_s:.1f} s")
        print(f"graceful stop of the leader: {third.target} leads after {handover_s:.1f} s")
        print(f"watcher connections: {watcher.connections}; state events: {len(revisions)}, "
              f"revisions {revisions[0][1]}..{revisions[-1][1]}; resets: "
              f"{[(k, r) for k, r, reset in revisions if reset]}")
        print(f"calls through MeshBalancer (aimass recommend-load) from the kill to the end: {len(balanced_failed)} "
              f"failed / {len(balanced_calls)}")
        phases = {"kill": 0.0, "new leader": failover_s, "adopted": rejoined_s, "etcd member killed": t_member - t_kill,
                  "SIGTERM of the leader": t_term - t_kill, "end": t_end - t_kill}
        print(f"phases (s after the kill): {phases}")
        print(f"failures (s after the kill): grpcio {[(round(c[0] - t_kill, 2), c[3]) for c in failed]}; balanced "
              f"{[(round(c['at_ms'] / 1000 - wall_kill, 2), c['code'], c.get('message')) for c in balanced_failed]}")
        assert not failed, f"{len(failed)} of {len(calls)} calls failed, first: {failed[:3]}"
        assert not balanced_failed, f"{len(balanced_failed)} of {len(balanced_calls)} failed: {balanced_failed[:3]}"
        assert len(balanced_calls) >= 20, f"only {len(balanced_calls)} balanced calls made"
        assert {c["replica"] for c in balanced_calls if c["code"] == "OK"} == {replica_id}
        assert len(calls) >= 20, f"only {len(calls)} calls made"
        assert {c[2] for c in calls if c[1] == grpc.StatusCode.OK} == {replica_id}
        # One gap-free sequence across both changes of leader: the first snapshot, then every state event's
        # revision is the previous one + 1, whichever leader sent it (each resume on a new leader replays what the
        # watcher missed from the journal the previous leader wrote to etcd; no snapshot, no reset).
        numbers = [r for _, r, _ in revisions]
        assert revisions[0][0] == "SNAPSHOT" and not revisions[0][2], revisions[:3]
        assert [r for r in revisions[1:] if r[0] == "SNAPSHOT"] == [], revisions
        gaps = [(a, b) for a, b in zip(numbers, numbers[1:]) if b != a + 1]
        assert not gaps, f"revision gaps {gaps}: {revisions}"
        assert len(watcher.connections) >= 3, watcher.connections  # resumed on both new leaders
        # The writes made right after the failover reached the watcher in that sequence.
        assert ("movies2", 1) in watcher.published_versions(), watcher.published_versions()
        assert ("movies2", "production", 1) in watcher.alias_moves(), watcher.alias_moves()
        print(f"writes right after the failover (create, upload, deploy, alias): {writes_s:.1f} s")
    finally:
        if client is not None:
            client.stop()
        if watcher is not None:
            watcher.stop()
        if balanced is not None:
            balanced.stop()
        # The processes' logs and the watcher's events stay in the test's directory for a post-mortem.
        for sp in [*workers, *cps]:
            if sp is not None and sp.stderr_path.exists():
                shutil.copy(sp.stderr_path, tmp_path / f"{sp.name}.stderr")
        if watcher is not None:
            (tmp_path / "watcher-events.txt").write_text(
                "\n".join(f"{watcher.kind(e)} r{e.revision} {str(e).replace(chr(10), ' ')[:300]}" for e in watcher.events))
        for w in workers:
            stop_server(w, expect_alive=False)
        for cp in cps:
            stop_server(cp, expect_alive=False)
        etcd.stop()
