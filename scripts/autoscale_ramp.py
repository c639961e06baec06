#!/usr/bin/env python3
"""Autoscaling on real processes, print-only (not a test).

Starts `aimass serve` (embedded: control plane + one local worker with its default 8 replica slots) with short
autoscaler windows, uploads data/ml-100k.inter, deploys it with --min 1 --max 6 --target-concurrency 2, then
drives a ramp of concurrent Recommend callers (threads, each a closed loop on its own channel with the admin
token; by default each call is a basket of 200 seed items, `--seeds 0` calls by user) against the embedded server.
Every second it prints `t callers desired ready calls/s reported state` (desired/ready/state from
Scheduler/GetDeployment; reported = in-flight + queued calls of the deployment's replicas in the latest load
reports, from Scheduler/GetPool), and at the end a summary per phase. Exit status 0 when the deployment scaled
above 1 and ended at its minimum. DEBUG_LOADS=1 also prints each replica's (in_flight, queue_depth, served/s,
rejected/s, latency_ewma_us).

Usage: scripts/autoscale_ramp.py [--bin DIR] [--phase-seconds S] [--ramp 1,4,12,2,0] [--k K] [--seeds N]
       [--stable-ms N] [--panic-ms N] [--tail-seconds S]
Binaries: --bin or $AIMASS_BIN_DIR (default: `swift build --show-bin-path`). Stubs are generated from proto/ with
tests/python/protogen.py (grpcio-tools from the repository's .venv).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("GRPC_VERBOSITY", "NONE")  # no grpcio chatter (GOAWAY notes) in the table

import grpc

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "ml-100k.inter"
MODEL = "movies"


def load_protogen():
    spec = importlib.util.spec_from_file_location("protogen", ROOT / "tests" / "python" / "protogen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stubs(out_dir: Path):
    protogen = load_protogen()
    protos = ["aimass/v1/common.proto", "aimass/v1/registry.proto", "aimass/v1/scheduler.proto",
              "aimass/v1/recommend.proto"]
    protogen.generate_aimass(out_dir, protos=protos)
    sys.path.insert(0, str(out_dir))
    import aimass.v1.recommend_pb2 as recommend_pb2
    import aimass.v1.recommend_pb2_grpc as recommend_pb2_grpc
    import aimass.v1.scheduler_pb2 as scheduler_pb2
    import aimass.v1.scheduler_pb2_grpc as scheduler_pb2_grpc
    return recommend_pb2, recommend_pb2_grpc, scheduler_pb2, scheduler_pb2_grpc


def bin_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if os.environ.get("AIMASS_BIN_DIR"):
        return Path(os.environ["AIMASS_BIN_DIR"])
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def cli(exe: Path, env: dict, *args: str) -> str:
    out = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=300)
    if out.returncode != 0:
        sys.exit(f"aimass {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout


class Callers:
    """A pool of closed-loop Recommend callers whose number can change at any time."""

    def __init__(self, target: str, token: str, recommend_pb2, recommend_pb2_grpc, users: list[str], k: int,
                 items: list[str], seeds: int):
        self.target, self.md = target, [("authorization", f"Bearer {token}")]
        self.pb2, self.grpc = recommend_pb2, recommend_pb2_grpc
        self.users, self.k, self.items, self.seeds = users, k, items, seeds
        self.wanted = 0
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.ok = self.errors = 0
        self.error_codes: dict[str, int] = {}
        self.stop_all = threading.Event()

    def set(self, n: int):
        with self.lock:
            self.wanted = n
            while len(self.threads) < n:
                t = threading.Thread(target=self.loop, args=(len(self.threads),), daemon=True)
                self.threads.append(t)
                t.start()

    def loop(self, index: int):
        channel = grpc.insecure_channel(self.target)  # one connection per caller, like separate clients
        stub = self.grpc.RecommendStub(channel)
        i = index
        while not self.stop_all.is_set():
            if index >= self.wanted:
                time.sleep(0.05)
                continue
            if self.seeds:  # a basket of seed items instead of a user: more work per call
                basket = [self.items[(i * 31 + j) % len(self.items)] for j in range(self.seeds)]
                request = self.pb2.RecommendRequest(model=MODEL, seed_items=basket, k=self.k)
            else:
                request = self.pb2.RecommendRequest(model=MODEL, user_id=self.users[i % len(self.users)], k=self.k)
            i += 7
            try:
                stub.Recommend(request, metadata=self.md, timeout=10)
                ok = True
            except grpc.RpcError as e:
                ok = False
                code = e.code().name if e.code() else "?"
                with self.lock:
                    self.error_codes[code] = self.error_codes.get(code, 0) + 1
                time.sleep(0.05)
            with self.lock:
                if ok:
                    self.ok += 1
                else:
                    self.errors += 1
        channel.close()

    def counts(self):
        with self.lock:
            return self.ok, self.errors

    def stop(self):
        self.stop_all.set()
        for t in self.threads:
            t.join(5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin")
    ap.add_argument("--phase-seconds", type=float, default=8)
    ap.add_argument("--ramp", default="1,4,12,2,0")
    ap.add_argument("--k", type=int, default=10, help="items per Recommend call")
    ap.add_argument("--seeds", type=int, default=200, help="seed items per call (a basket: more work per call than a user); 0 = by user")
    ap.add_argument("--stable-ms", type=int, default=6000)
    ap.add_argument("--panic-ms", type=int, default=1000)
    ap.add_argument("--tail-seconds", type=float, default=20, help="extra idle time after the ramp (back to min)")
    args = ap.parse_args()
    ramp = [int(x) for x in args.ramp.split(",")]
    if not DATA.exists():
        sys.exit(f"{DATA} missing: run scripts/fetch-ml100k.sh data")
    exe = bin_dir(args.bin) / "aimass"
    if not exe.exists():
        sys.exit(f"{exe} missing: swift build first")

    tmp = Path(tempfile.mkdtemp(prefix="aimass-autoscale-"))
    recommend_pb2, recommend_pb2_grpc, scheduler_pb2, scheduler_pb2_grpc = stubs(tmp / "stubs")
    data_dir = tmp / "data"
    argv = [str(exe), "serve", "--port", "0", "--data-dir", str(data_dir),
            "--autoscale-stable-ms", str(args.stable_ms), "--autoscale-panic-ms", str(args.panic_ms)]
    stderr = open(tmp / "serve.stderr", "w")
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True, stdin=subprocess.DEVNULL)
    try:
        line = server.stdout.readline()
        m = re.search(r"listening on (\S+):(\d+)", line)
        if not m:
            sys.exit(f"server did not start: {line!r}; stderr in {tmp / 'serve.stderr'}")
        target = f"{m.group(1)}:{m.group(2)}"
        threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
        token = (data_dir / "admin.token").read_text().strip()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIMASS_")}
        env.update(AIMASS_SERVER=target, AIMASS_TOKEN=token)
        manifest = ["--manifest", "algorithm=itemcf", "--manifest", "neighbours=50"]
        cli(exe, env, "model", "create", MODEL, *manifest)
        cli(exe, env, "model", "upload", MODEL, str(DATA), *manifest)
        cli(exe, env, "deploy", "--model", MODEL, "--min", "1", "--max", "6", "--target-concurrency", "2")
        deployment_id = f"{MODEL}@1"

        md = [("authorization", f"Bearer {token}")]
        scheduler = scheduler_pb2_grpc.SchedulerStub(grpc.insecure_channel(target))

        def reported():
            """In-flight + queued calls of the deployment's replicas, as the last load reports say."""
            pool = scheduler.GetPool(scheduler_pb2.GetPoolRequest(), metadata=md, timeout=5)
            ids = {r.id for w in pool.workers for r in w.replicas if r.deployment_id == deployment_id}
            loads = [l for w in pool.workers for l in w.load.replicas if l.replica_id in ids]
            if os.environ.get("DEBUG_LOADS"):
                print("   ", [(l.in_flight, l.queue_depth, round(l.served_per_sec), round(l.rejected_per_sec), l.latency_ewma_us) for l in loads])
            return sum(l.in_flight + l.queue_depth for l in loads)

        def get():
            return scheduler.GetDeployment(scheduler_pb2.GetDeploymentRequest(id=deployment_id), metadata=md, timeout=5)

        end = time.monotonic() + 120
        while get().ready_replicas < 1:
            if time.monotonic() > end:
                sys.exit("the first replica never became READY")
            time.sleep(0.2)
        rows = [l.split("\t") for l in DATA.read_text().splitlines()[1:]]
        users = sorted({r[0] for r in rows[:2000]})
        items = sorted({r[1] for r in rows})
        callers = Callers(target, token, recommend_pb2, recommend_pb2_grpc, users, args.k, items, args.seeds)

        print(f"# aimass serve --autoscale-stable-ms {args.stable_ms} --autoscale-panic-ms {args.panic_ms}; "
              f"deploy --min 1 --max 6 --target-concurrency 2; ramp {ramp} callers x {args.phase_seconds:g}s "
              f"+ {args.tail_seconds:g}s idle")
        print(f"{'t':>5} {'callers':>7} {'desired':>7} {'ready':>5} {'calls/s':>8} {'reported':>8}  state")
        phases = [(n, args.phase_seconds) for n in ramp] + [(0, args.tail_seconds)]
        start = time.monotonic()
        summary = []
        last_ok, t_last = 0, start
        for n, seconds in phases:
            callers.set(n)
            phase_end = time.monotonic() + seconds
            desired_seen, ready_seen = [], []
            phase_ok0 = callers.counts()[0]
            while time.monotonic() < phase_end:
                time.sleep(max(0.0, 1 - ((time.monotonic() - start) % 1)))
                d = get()
                load = reported()
                ok, _ = callers.counts()
                now = time.monotonic()
                rate = (ok - last_ok) / max(now - t_last, 1e-6)
                last_ok, t_last = ok, now
                desired_seen.append(d.desired_replicas)
                ready_seen.append(d.ready_replicas)
                state = scheduler_pb2.DeploymentState.Name(d.state)
                print(f"{now - start:5.1f} {n:7d} {d.desired_replicas:7d} {d.ready_replicas:5d} {rate:8.0f} {load:8d}  {state}",
                      flush=True)
            summary.append((n, seconds, min(desired_seen), max(desired_seen), ready_seen[-1],
                            (callers.counts()[0] - phase_ok0) / seconds))
        callers.stop()
        ok, errors = callers.counts()
        final = get()
        print()
        print("summary: callers  seconds  desired(min..max)  ready(at end)  calls/s")
        for n, seconds, dmin, dmax, ready, rate in summary:
            print(f"         {n:7d}  {seconds:7g}  {dmin:>8d}..{dmax:<8d}  {ready:13d}  {rate:7.0f}")
        peak = max(s[3] for s in summary)
        print(f"calls ok {ok}, errors {errors} {callers.error_codes or ''}; peak desired {peak}; "
              f"final desired {final.desired_replicas} ready {final.ready_replicas} "
              f"(min {final.min_replicas}, max {final.max_replicas})")
        return 0 if peak > 1 and final.desired_replicas == final.min_replicas else 1
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        stderr.close()


if __name__ == "__main__":
    sys.exit(main())
