#!/usr/bin/env python3
"""Legitimate latency under each HTTP/2 attack of scripts/h2abuse.py, print-only (run by scripts/bench-abuse.sh).

For each attack and each repetition: a fresh `aimass-interop server` pinned to CPU --server-cpu; two grpcio clients
in their own processes pinned to --client-cpu (one channel calling Health/Check 100 times a second, and a new
connection for each call 5 times a second) run first for --seconds with no attack (the baseline of this run), then
for --seconds beside the attacker (its own process, on the clients' core at `nice 10`, so that what the legitimate
client measures is the server rather than the attacker's share of its core). The server's RSS is read before the
baseline and after the attack (waiting up to 10 s for it to come back within 20 %). Each row is the median over
the repetitions, the baseline and the attack taken in the same run, so a noisy shared machine moves both. Each run
also records the server's CPU use while the attack ran (user + system time over wall time: 100 % is its whole core)
and how many SYNs the kernel dropped because a listen queue was full (TcpExt ListenOverflows, machine-wide): what
tells a server that was busy from a machine that was.

For an attack that opens connections and holds them (idle), two more rows split the legitimate clients' calls at the
moment the attacker had every connection answered: "opening" and "held". `--decoy` is a control: the attacker hits a
second server (same core as the measured one, nice 19), so what the legitimate clients lose is what the attack costs
their side of the machine, the measured server doing none of its work.

The bar of issue 14 per attack: legit p99 within 3x of its baseline, no legit call fails, new connections served
throughout, RSS back within 20 % of the baseline. `grpcio-default:SECONDS` is the ping row: one grpcio channel with
default options (BDP pings on) calling 100 times a second; the bar is one connection (no GOAWAY) for the whole run.

    bench_abuse.py --bin PATH/aimass-interop [--repeats N] [--seconds S] SPEC...
    bench_abuse.py --peer --bin PATH/go_peer ... SPEC...   the same against a gRPC peer (../shared/bench/peers)
    SPEC: ATTACK[:CONNECTIONS[:OPEN_FILE_LIMIT]] (e.g. rapid-reset:10, idle:1000:1024) or grpcio-default:60
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_serving import free_port
from h2abuse import summarize

ROOT = Path(__file__).resolve().parent.parent
ATTACKER = ROOT / "scripts" / "h2abuse.py"


def rss_kib(pid: int) -> int | None:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Server:
    """`aimass-interop server` on a free port, pinned to CPU `cpu`, with `extra` arguments (TLS, say); with `peer`, the
    gRPC peer `binary` (../shared/bench/peers) instead."""

    def __init__(self, binary: str, cpu: str, open_files: int | None, extra: tuple[str, ...] = (), nice: int = 0,
                 peer: bool = False):
        def limit():
            if open_files:
                resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
            else:
                _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

        self.out = tempfile.NamedTemporaryFile("w+", prefix="bench-abuse-server-")
        # A peer (`--peer`) takes its port as its only argument and says "... on 127.0.0.1:PORT" once it listens.
        command = [binary, str(free_port())] if peer else [binary, "server", "--port", "0", *extra]
        # stdout to a file, not a pipe: nobody reads a pipe after the start, and a full one would stall the server.
        self.proc = subprocess.Popen(["nice", "-n", str(nice), "taskset", "-c", cpu, *command], preexec_fn=limit,
                                     stdout=self.out, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        self.port = None
        while self.port is None and time.monotonic() < deadline and self.proc.poll() is None:
            match = re.search(r" on 127\.0\.0\.1:(\d+)", Path(self.out.name).read_text())
            if match:
                self.port = int(match.group(1))
            else:
                time.sleep(0.05)  # polls the server's output file, which gives no event to wait on
        if self.port is None:
            self.stop()
            raise SystemExit("the server did not start")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.out.close()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time the process has used (/proc/PID/stat, clock ticks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listen_overflows() -> int | None:
    """The kernel's count of connections dropped because a listen queue was full (TcpExt ListenOverflows): each
    such SYN makes its client wait for the 1 s (then 3 s) retransmission."""
    try:
        header, values = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines()
                          if line.startswith("TcpExt:")][:2]
        return int(values[header.index("ListenOverflows")])
    except (OSError, ValueError, IndexError):
        return None


def python(cpu: str, args: list[str], nice: int = 0) -> subprocess.Popen:
    command = ["taskset", "-c", cpu, sys.executable, str(ATTACKER), *args]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(proc: subprocess.Popen, timeout: float) -> dict:
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"{proc.args} failed:\n{err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def legit_pair(port: int, cpu: str, seconds: float) -> tuple[subprocess.Popen, subprocess.Popen]:
    common = ["legit", "127.0.0.1", str(port), "--seconds", str(seconds)]
    return python(cpu, common), python(cpu, common + ["--fresh", "--rate", "5"])


def one_run(args, attack: str, connections: int, open_files: int | None) -> dict:
    server = Server(args.bin, args.server_cpu, open_files, peer=args.peer)
    # --decoy: the attacker hits a second server (on the same core at nice 19, so it takes only what the measured one
    # leaves) while the legitimate clients measure the first: what the attack costs them when the measured server
    # does none of its work.
    decoy = Server(args.bin, args.server_cpu, open_files, nice=19, peer=args.peer) if args.decoy else None
    try:
        result(python(args.client_cpu, ["legit", "127.0.0.1", str(server.port), "--seconds", "1"]), 60)  # warm-up
        before = rss_kib(server.proc.pid)
        steady, fresh = legit_pair(server.port, args.client_cpu, args.seconds)
        base_steady, base_fresh = result(steady, args.seconds + 60), result(fresh, args.seconds + 60)
        steady, fresh = legit_pair(server.port, args.client_cpu, args.seconds)
        cpu_before, overflows_before, started = cpu_seconds(server.proc.pid), listen_overflows(), time.monotonic()
        attacker = python(args.attacker_cpu or args.client_cpu,
                          [attack, "127.0.0.1", str((decoy or server).port), "--seconds", str(args.seconds),
                           "--connections", str(connections)], nice=args.attacker_nice)
        perf = None
        if args.perf:  # where the server's time goes under this attack (call graphs, 999 samples a second)
            perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-o", f"{args.perf}.{attack}.data",
                                     "-p", str(server.proc.pid), "--", "sleep", str(args.seconds)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        attack_steady, attack_fresh = result(steady, args.seconds + 120), result(fresh, args.seconds + 120)
        seen = result(attacker, args.seconds + 120)
        # The server's share of its core while the legitimate clients ran beside the attacker, and SYNs the kernel
        # dropped meanwhile (machine-wide: nothing else here opens connections that fast).
        cpu_after, overflows_after = cpu_seconds(server.proc.pid), listen_overflows()
        server_cpu = (None if cpu_before is None or cpu_after is None
                      else round((cpu_after - cpu_before) / (time.monotonic() - started), 3))
        overflows = None if overflows_before is None or overflows_after is None else overflows_after - overflows_before
        if perf is not None:
            perf.wait()
        alive = server.alive
        after, waited = rss_kib(server.proc.pid), 0.0
        while alive and after is not None and before and after > before * 1.2 and waited < 10:
            time.sleep(0.5)
            waited += 0.5
            after = rss_kib(server.proc.pid)
        return {"base": base_steady, "base_fresh": base_fresh, "steady": attack_steady, "fresh": attack_fresh,
                "attack": seen, "alive": alive, "rss_before": before, "rss_after": after, "server_cpu": server_cpu,
                "listen_overflows": overflows}
    finally:
        server.stop()
        if decoy is not None:
            decoy.stop()


def ping_run(args, seconds: float) -> dict:
    server = Server(args.bin, args.server_cpu, None, peer=args.peer)
    try:
        steady = result(python(args.client_cpu, ["legit", "127.0.0.1", str(server.port), "--seconds", str(seconds)]),
                        seconds + 60)
        return {"steady": steady, "alive": server.alive}
    finally:
        server.stop()


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def row_attack(spec: str, runs: list[dict]) -> str:
    base_p99 = median([r["base"]["p99_ms"] for r in runs])
    p99 = median([r["steady"]["p99_ms"] for r in runs])
    ratio = median([r["steady"]["p99_ms"] / r["base"]["p99_ms"] for r in runs])
    p50 = median([r["steady"]["p50_ms"] for r in runs])
    base_p50 = median([r["base"]["p50_ms"] for r in runs])
    fresh_p99 = median([r["fresh"]["p99_ms"] for r in runs])
    base_fresh_p99 = median([r["base_fresh"]["p99_ms"] for r in runs])
    failures = sum(r["steady"]["failures"] + r["fresh"]["failures"] for r in runs)
    fresh_calls = "/".join(str(r["fresh"]["calls"] - r["fresh"]["failures"]) for r in runs)
    rss = median([r["rss_after"] / r["rss_before"] for r in runs if r["rss_before"] and r["rss_after"]])
    rss_mib = median([r["rss_before"] / 1024 for r in runs if r["rss_before"]])
    attack = runs[len(runs) // 2]["attack"]
    seen = (f"{attack['connections']} conns, {attack['closed_by_server']} closed by server, units {attack['units']}, "
            f"GOAWAYs {attack['goaways']}; server CPU (each run) "
            + "/".join(f"{r['server_cpu']:.0%}" if r.get("server_cpu") is not None else "?" for r in runs)
            + ", SYNs dropped (each run) "
            + "/".join(str(r.get("listen_overflows", "?")) for r in runs))
    alive = "" if all(r["alive"] for r in runs) else " **server died**"
    ratios = "/".join(f"{r['steady']['p99_ms'] / r['base']['p99_ms']:.1f}" for r in runs)
    return (f"| {spec}{alive} | {base_p50:.2f} / {base_p99:.2f} ms | {p50:.2f} / {p99:.2f} ms | ×{ratio:.1f} ({ratios}) "
            f"| {base_fresh_p99:.1f} / {fresh_p99:.1f} ms | {fresh_calls} | {failures} | {rss_mib:.1f} MiB ×{rss:.2f} "
            f"| {seen} |")


def phase(summary: dict, since: float, held: bool) -> dict:
    """A legitimate client's calls, p50/p99/max (h2abuse's summary) over the calls it started before (`held` False)
    or after `since`."""
    return summarize([ms for start, ms in summary.get("samples", []) if (start >= since) == held], [])


def phase_rows(spec: str, runs: list[dict]) -> list[str]:
    """For an attack that opens its connections and then holds them (idle): the legitimate clients' figures while
    the connections were being opened and answered, and once all of them were held, each against the run's
    baseline (steady p50/p99 and its ratio; the new-connection client's p99 and its calls in the phase)."""
    if not all(r["attack"].get("held_since") for r in runs):
        return []
    rows = []
    for held, label in ((False, "opening (until every connection is answered)"), (True, "held (every connection open)")):
        phases = [phase(r["steady"], r["attack"]["held_since"], held) for r in runs]
        fresh = [phase(r["fresh"], r["attack"]["held_since"], held) for r in runs]
        if not any(p["calls"] for p in phases):
            continue  # e.g. every connection was open before the first steady call
        ratios = [p["p99_ms"] / r["base"]["p99_ms"] for p, r in zip(phases, runs)]
        rows.append(f"| {spec}, {label} | {median([r['base']['p50_ms'] for r in runs]):.2f} / "
                    f"{median([r['base']['p99_ms'] for r in runs]):.2f} ms | "
                    f"{median([p['p50_ms'] for p in phases]):.2f} / {median([p['p99_ms'] for p in phases]):.2f} ms | "
                    f"×{median(ratios):.1f} ({'/'.join(f'{x:.1f}' for x in ratios)}) | "
                    f"{median([r['base_fresh']['p99_ms'] for r in runs]):.1f} / "
                    f"{median([p['p99_ms'] for p in fresh]):.1f} ms "
                    f"(max {max((p['max_ms'] for p in fresh if p['max_ms'] is not None), default=float('nan')):.1f}) | "
                    f"{'/'.join(str(p['calls']) for p in fresh)} | | | steady calls in this phase (each run): "
                    f"{'/'.join(str(p['calls']) for p in phases)} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--server-cpu", default=os.environ.get("SERVER_CPU", "0"))
    parser.add_argument("--client-cpu", default=os.environ.get("CLIENT_CPU", "1"))
    parser.add_argument("--attacker-cpu", default=os.environ.get("ATTACKER_CPU"),
                        help="the attacker's CPU (default: the clients'); with the server's CPU and a high "
                             "--attacker-nice, the attacker takes only what the server leaves and does not compete "
                             "with the legitimate clients")
    parser.add_argument("--attacker-nice", type=int, default=int(os.environ.get("ATTACKER_NICE", "10")))
    parser.add_argument("--decoy", action="store_true",
                        help="a control: the attacker hits a second server (same core, nice 19) instead of the measured "
                             "one, so what the legitimate clients lose is what the attack costs their own side")
    parser.add_argument("--peer", action="store_true",
                        help="--bin is a gRPC peer of ../shared/bench/peers (e.g. grpc-go's go_peer, run as BIN PORT), "
                             "to compare what the same attacks do to it")
    parser.add_argument("--json", help="also write every run's raw figures here")
    parser.add_argument("--perf", help="perf record the server during each attack into PREFIX.ATTACK.data")
    parser.add_argument("specs", nargs="+")
    args = parser.parse_args()
    raw = {}
    print("| attack | baseline p50 / p99 | under attack p50 / p99 | p99 ratio (each run) | new-connection p99 "
          "baseline / attack | new-connection calls served (each run) | legit failures | RSS baseline, after/before "
          "| attacker (middle run) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for spec in args.specs:
        name, *rest = spec.split(":")
        if name == "grpcio-default":
            seconds = float(rest[0]) if rest else 60.0
            runs = [ping_run(args, seconds) for _ in range(args.repeats)]
            raw[spec] = runs
            conns = "/".join(str(r["steady"].get("connections")) for r in runs)
            print(f"| {spec} (one channel, {seconds:.0f} s at 100 calls/s) | | "
                  f"{median([r['steady']['p50_ms'] for r in runs]):.2f} / "
                  f"{median([r['steady']['p99_ms'] for r in runs]):.2f} ms | | | connections made (each run): {conns} "
                  f"| {sum(r['steady']['failures'] for r in runs)} | | |", flush=True)
            continue
        connections = int(rest[0]) if rest else 1
        open_files = int(rest[1]) if len(rest) > 1 else None
        runs = [one_run(args, name, connections, open_files) for _ in range(args.repeats)]
        raw[spec] = runs
        print(row_attack(spec, runs), flush=True)
        for row in phase_rows(spec, runs):
            print(row, flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(raw, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
