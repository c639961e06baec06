#!/usr/bin/env python3
"""The serving path under load, print-only (not a test): called by scripts/bench-serving.sh.

Starts `aimass serve` (embedded role, a fresh data directory) pinned to SERVER_CPU, uploads MovieLens-100k as
ItemCF K=50 (IUF weighting, as scripts/run.sh does), deploys it with one replica, then drives it with h2load pinned
to CLIENT_CPU: `aimass.v1.Recommend/Recommend` (user 196, k 10, the admin token) and `grpc.health.v1.Health/Check`,
closed loop (h2load -c C -m M: no deadline, no backoff). The same loads then run against a peer (the grpc-go server of
Benchmarks/Peers/go-recommend, which wraps an equivalent ItemCF handler) when its binary is given.

h2load counts a gRPC error as a success (HTTP 200, the status is in the trailers), so a call is counted as
successful by its response bytes: every successful Recommend response to the same request has the same DATA bytes,
and every error here (a shed, a deadline) is trailers-only (no DATA). The size is read from one unloaded call whose
trailers `nghttp` checks for grpc-status 0.

Columns: ok/s successful calls per second; shed % share of completed calls that were not successful; cpu_us/ok
server CPU (user+system, every thread) per successful call, and of it the kernel's (system); p50/p99 latency of every completed call (when shed % is
0, of successful calls); rss the server's resident memory after the run (MiB), hwm its high-water mark.

With --metrics: two aimass servers run side by side (pinned to the same core, one loaded at a time), one with
`--metrics-port` (Prometheus metrics on, scraped once a second during every run, as a busy Prometheus would) and one
without; the runs alternate between them (off, on, off, on, ...) so that drift hits both alike, and the table ends
with the CPU per call of each and the difference. No peer is run.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLK = os.sysconf("SC_CLK_TCK")
MODEL = "movielens-itemcf"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """(user + system, system) CPU seconds of a process, every thread."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK, int(fields[12]) / CLK


def memory_mib(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def grpc_frame(message):
    return b"\x00" + len(message).to_bytes(4, "big") + message


def recommend_body(user, k):
    # RecommendRequest{model = 1, user_id = 3, k = 5}
    message = field_bytes(1, MODEL.encode()) + field_bytes(3, user.encode()) + varint(5 << 3) + varint(k)
    return grpc_frame(message)


def wait_for(predicate, what, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Target:
    """A server under load: its name, port, process and bearer token."""

    def __init__(self, name, port, process, token):
        self.name, self.port, self.process, self.token = name, port, process, token


def start_aimass(args, workdir, name="aimass", extra=()):
    data = os.path.join(workdir, f"{name}-data")
    port = free_port()
    out = open(os.path.join(workdir, f"{name}.log"), "w")
    process = subprocess.Popen(
        ["taskset", "-c", args.server_cpu, args.aimass, "serve", "--port", str(port), "--data-dir", data]
        + args.serve_arg + list(extra),
        stdout=out, stderr=subprocess.STDOUT)
    wait_for(lambda: port_open(port) or process.poll() is not None, "aimass serve to listen")
    if process.poll() is not None:
        raise SystemExit(f"aimass serve exited: {open(out.name).read()[-2000:]}")
    env = dict(os.environ, AIMASS_SERVER=f"127.0.0.1:{port}", AIMASS_DATA_DIR=data)

    def cli(*command):
        subprocess.run(["taskset", "-c", args.client_cpu, args.aimass, *command], env=env, check=True,
                       stdout=subprocess.DEVNULL)

    manifest = ["--manifest", "algorithm=itemcf", "--manifest", "neighbours=50", "--manifest", "weighting=iuf"]
    cli("model", "create", MODEL, *manifest)
    cli("model", "upload", MODEL, args.data, *manifest)
    cli("deploy", "--model", MODEL, "--min", "1", "--max", "1")

    def ready():
        listing = subprocess.run([args.aimass, "deployments", "--model", MODEL, "--json"], env=env,
                                 capture_output=True, text=True).stdout
        return re.search(r'"ready_replicas"\s*:\s*[1-9]', listing) is not None
    wait_for(ready, "the replica to be ready")
    token = open(os.path.join(data, "admin.token")).read().strip()
    return Target(name, port, process, token)


class Scraper:
    """Scrapes a /metrics endpoint once a second in the background, as Prometheus would (pinned to the client core,
    like h2load)."""

    def __init__(self, args, port):
        self.process = subprocess.Popen(
            ["taskset", "-c", args.client_cpu, "sh", "-c",
             f"while :; do curl -s -o /dev/null http://127.0.0.1:{port}/metrics; sleep 1; done"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        self.process.terminate()
        self.process.wait()


def scrape_count(port, method):
    """The server's grpc_server_call_duration_seconds_count of `method` with status OK."""
    text = subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/metrics"], capture_output=True, text=True).stdout
    found = re.search(r'grpc_server_call_duration_seconds_count\{grpc_method="%s",grpc_status="OK"\} (\d+)'
                      % re.escape(method.lstrip("/")), text)
    return int(found.group(1)) if found else None


# Functions that exist only because metrics are on (the gRPC instruments, swift-metrics' API, the exporter, the
# histograms) and the clock reads that time calls. The clock is also read for other reasons (deadlines, the gate,
# connection management), so its share is an upper bound on what metrics add to it.
METRICS_SYMBOLS = re.compile(r"Metric|Prometheus|Histogram|StatusSlots|Instruments|recordEnd", re.IGNORECASE)
CLOCK_SYMBOLS = re.compile(r"clock_gettime|ContinuousClock")


def metrics_share(args, target, workload, body, load, workdir):
    """Share of the server's CPU samples (perf, cpu-clock) in metrics code and in clock reads during one run."""
    clients, streams = load
    data = os.path.join(workdir, f"perf.{workload}.{clients}x{streams}.data")
    command = ["taskset", "-c", args.client_cpu, "h2load", "-t", "1", "-c", str(clients), "-m", str(streams),
               "-D", str(args.duration + 2), "-d", body, "-H", "content-type: application/grpc", "-H", "te: trailers",
               "-H", f"authorization: Bearer {target.token}", f"http://127.0.0.1:{target.port}{WORKLOADS[workload]}"]
    load_process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # a measurement window inside the load, not a synchronisation
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-p", str(target.process.pid), "-o", data,
                    "--", "sleep", str(args.duration)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    load_process.wait(timeout=args.duration + 120)
    report = subprocess.run(["perf", "report", "-i", data, "--sort", "symbol", "--stdio"], capture_output=True,
                            text=True, check=True).stdout
    metrics = clock = 0.0
    for line in report.splitlines():
        parts = line.split()
        if line.startswith("#") or len(parts) < 3 or not parts[0].endswith("%"):
            continue
        share = float(parts[0].rstrip("%"))
        symbol = " ".join(parts[2:])
        if METRICS_SYMBOLS.search(symbol):
            metrics += share
        elif CLOCK_SYMBOLS.search(symbol):
            clock += share
    return metrics, clock


def compare_metrics(args, workdir, bodies):
    """Metrics off and on, in one run: rows alternate between the two servers."""
    metrics_port = free_port()
    targets = [start_aimass(args, workdir, "metrics-off"),
               start_aimass(args, workdir, "metrics-on", ["--metrics-port", str(metrics_port)])]
    scraper = Scraper(args, metrics_port)
    rows = []
    shares = []
    try:
        sizes = {(t.name, w): success_bytes(args, t, w, bodies[w]) for t in targets for w in WORKLOADS}
        plan = [("recommend", load) for load in parse_loads(args.loads)]
        plan += [("health", load) for load in parse_loads(args.health_loads)]
        for workload, load in plan:
            runs = {t.name: [] for t in targets}
            for _ in range(args.repeat):
                for target in targets:
                    runs[target.name].append(
                        measure(args, target, workload, bodies[workload], sizes[(target.name, workload)], load,
                                workdir))
            if args.perf:
                shares.append((workload, load, *metrics_share(args, targets[1], workload, bodies[workload], load,
                                                              workdir)))
            for target in targets:
                ordered = sorted(runs[target.name], key=lambda row: row["cpu_us_per_ok"])
                row = ordered[len(ordered) // 2]
                log(f"   {target.name} {workload} {row['load']}: {row['ok_per_s']:.0f} ok/s, "
                    f"{row['cpu_us_per_ok']:.2f} us/ok")
                rows.append(row)
        counted = scrape_count(metrics_port, WORKLOADS["recommend"])
    finally:
        scraper.stop()
        for target in targets:
            stop(target)
    print(f"h2load -t1 -D {args.duration} after a {args.warmup} s warm-up, median (by cpu_us/ok) of {args.repeat} "
          f"alternating runs; server on cpu {args.server_cpu}, h2load and a 1 s /metrics scraper on cpu "
          f"{args.client_cpu}")
    print()
    print("| call | load | metrics off cpu_us/ok | metrics on cpu_us/ok | difference | off ok/s | on ok/s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for off, on in zip(rows[0::2], rows[1::2]):
        difference = 100 * (on["cpu_us_per_ok"] - off["cpu_us_per_ok"]) / off["cpu_us_per_ok"]
        print(f"| {off['workload']} | {off['load']} | {off['cpu_us_per_ok']:.2f} | {on['cpu_us_per_ok']:.2f} "
              f"| {difference:+.1f} % | {off['ok_per_s']:.0f} | {on['ok_per_s']:.0f} |")
    print()
    print(f"metrics-on server: grpc_server_call_duration_seconds_count of Recommend OK = {counted}")
    if shares:
        print()
        print("perf (cpu-clock samples of the metrics-on server, one run of each load, scraped once a second):")
        print()
        print("| call | load | samples in metrics code | samples in clock reads (all uses) |")
        print("|---|---|---:|---:|")
        for workload, (clients, streams), metrics, clock in shares:
            print(f"| {workload} | {clients}x{streams} | {metrics:.2f} % | {clock:.2f} % |")


def start_peer(args, workdir):
    port = free_port()
    token = "bench-token"
    out = open(os.path.join(workdir, "peer.log"), "w")
    process = subprocess.Popen(
        ["taskset", "-c", args.server_cpu, args.peer, "--port", str(port), "--data", args.data, "--neighbours", "50",
         "--weighting", "iuf", "--token", token, "--model", MODEL],
        stdout=out, stderr=subprocess.STDOUT)
    wait_for(lambda: port_open(port) or process.poll() is not None, "the peer to listen")
    if process.poll() is not None:
        raise SystemExit(f"peer exited: {open(out.name).read()[-2000:]}")
    return Target("grpc-go", port, process, token)


def stop(target):
    target.process.send_signal(signal.SIGINT)
    try:
        target.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        target.process.kill()
        target.process.wait()


WORKLOADS = {
    "recommend": "/aimass.v1.Recommend/Recommend",
    "health": "/grpc.health.v1.Health/Check",
}


def h2load(args, target, workload, body, clients, streams, duration, log_file=None):
    command = ["taskset", "-c", args.client_cpu, "h2load", "-t", "1", "-c", str(clients), "-m", str(streams),
               "-d", body, "-H", "content-type: application/grpc", "-H", "te: trailers",
               "-H", f"authorization: Bearer {target.token}"]
    command += ["-D", str(duration)] if duration else ["-n", "1"]
    if log_file:
        command.append(f"--log-file={log_file}")
    command.append(f"http://127.0.0.1:{target.port}{WORKLOADS[workload]}")
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120 if duration else 60)
    out = result.stdout
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done", out)
    data = re.search(r"traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers .*?, .*?\((\d+)\) data", out)
    seconds = re.search(r"finished in ([\d.]+)(us|ms|s),", out)
    if not (done and data and seconds):
        raise SystemExit(f"cannot read h2load's output:\n{out}\n{result.stderr}")
    elapsed = float(seconds.group(1)) / {"us": 1e6, "ms": 1e3, "s": 1}[seconds.group(2)]
    return int(done.group(1)), int(data.group(3)), elapsed


def success_bytes(args, target, workload, body):
    """DATA bytes of one successful call, checked with nghttp (grpc-status 0 in the trailers)."""
    url = f"http://127.0.0.1:{target.port}{WORKLOADS[workload]}"
    probe = subprocess.run(
        ["nghttp", "-v", "-d", body, "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-H", f"authorization: Bearer {target.token}", url], capture_output=True, text=True, errors="replace", timeout=30)
    status = re.findall(r"grpc-status: (\d+)", probe.stdout)
    if status != ["0"]:
        raise SystemExit(f"{target.name} {workload}: the probe call did not succeed:\n{probe.stdout[-3000:]}")
    _, data, _ = h2load(args, target, workload, body, 1, 1, 0)
    return data


def latencies(log_file):
    values = []
    with open(log_file) as f:
        for line in f:
            parts = line.split("\t")
            if len(parts) >= 3:
                values.append(int(parts[2]))
    values.sort()
    if not values:
        return 0, 0

    def quantile(q):
        return values[min(len(values) - 1, int(q * len(values)))]
    return quantile(0.5), quantile(0.99)


def measure(args, target, workload, body, ok_bytes, load, workdir):
    clients, streams = load
    h2load(args, target, workload, body, clients, streams, args.warmup)
    log_file = os.path.join(workdir, f"{target.name}.{workload}.{clients}x{streams}.tsv")
    before, system_before = cpu_seconds(target.process.pid)
    done, data, elapsed = h2load(args, target, workload, body, clients, streams, args.duration, log_file)
    after, system_after = cpu_seconds(target.process.pid)
    cpu, system = after - before, system_after - system_before
    rss, hwm = memory_mib(target.process.pid)
    ok = data // ok_bytes if ok_bytes else 0
    p50, p99 = latencies(log_file)
    return {
        "target": target.name, "workload": workload, "load": f"{clients}x{streams}",
        "ok_per_s": ok / elapsed, "done_per_s": done / elapsed,
        "shed_pct": 100.0 * (done - ok) / done if done else 0.0,
        "cpu_us_per_ok": 1e6 * cpu / ok if ok else float("inf"),
        "sys_us_per_ok": 1e6 * system / ok if ok else float("inf"),
        "cpu_pct": 100.0 * cpu / elapsed, "p50_us": p50, "p99_us": p99, "rss": rss, "hwm": hwm,
    }


def parse_loads(text):
    return [tuple(int(part) for part in item.split("x")) for item in text.split(",") if item]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aimass", required=True, help="the aimass binary")
    parser.add_argument("--peer", help="the go_recommend binary (omit to measure aimass alone)")
    parser.add_argument("--data", required=True, help="ml-100k.inter")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs of every row; the median by ok/s is printed")
    parser.add_argument("--loads", default="1x1,4x1,16x1,16x10,64x100")
    parser.add_argument("--health-loads", default="4x1")
    parser.add_argument("--server-cpu", default=os.environ.get("SERVER_CPU", "0"))
    parser.add_argument("--client-cpu", default=os.environ.get("CLIENT_CPU", "1"))
    parser.add_argument("--serve-arg", action="append", default=[], help="extra argument of aimass serve")
    parser.add_argument("--metrics", action="store_true",
                        help="compare aimass with Prometheus metrics off and on (no peer)")
    parser.add_argument("--perf", action="store_true",
                        help="with --metrics: also the share of the metrics-on server's CPU samples in metrics code")
    args = parser.parse_args()
    for tool in ("h2load", "nghttp", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing (apt-get install nghttp2-client util-linux)")

    workdir = tempfile.mkdtemp(prefix="aimass-bench-serving-")
    bodies = {"recommend": os.path.join(workdir, "recommend.bin"), "health": os.path.join(workdir, "health.bin")}
    with open(bodies["recommend"], "wb") as f:
        f.write(recommend_body("196", 10))
    with open(bodies["health"], "wb") as f:
        f.write(grpc_frame(b""))

    if args.metrics:
        compare_metrics(args, workdir, bodies)
        shutil.rmtree(workdir, ignore_errors=True)
        return

    rows = []
    starters = [("aimass", start_aimass)] + ([("grpc-go", start_peer)] if args.peer else [])
    for name, start in starters:
        log(f"== {name}: starting")
        target = start(args, workdir)
        try:
            plan = [("recommend", load) for load in parse_loads(args.loads)]
            plan += [("health", load) for load in parse_loads(args.health_loads)]
            sizes = {workload: success_bytes(args, target, workload, bodies[workload]) for workload in WORKLOADS}
            for workload, load in plan:
                runs = [measure(args, target, workload, bodies[workload], sizes[workload], load, workdir)
                        for _ in range(args.repeat)]
                runs.sort(key=lambda row: row["ok_per_s"])
                row = runs[len(runs) // 2]
                log(f"   {workload} {row['load']}: {row['ok_per_s']:.0f} ok/s, shed {row['shed_pct']:.1f} %, "
                    f"{row['cpu_us_per_ok']:.1f} us/ok")
                rows.append(row)
        finally:
            stop(target)

    print(f"h2load -t1 -D {args.duration} after a {args.warmup} s warm-up, median of {args.repeat}; server on cpu "
          f"{args.server_cpu}, h2load on cpu {args.client_cpu}; Recommend = user 196, k 10, ML-100k ItemCF K=50 IUF")
    print()
    print("| server | call | load | ok/s | shed % | cpu_us/ok | of which sys | server cpu % | p50 us | p99 us | rss MiB "
          "| hwm MiB |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['target']} | {row['workload']} | {row['load']} | {row['ok_per_s']:.0f} | {row['shed_pct']:.1f} "
              f"| {row['cpu_us_per_ok']:.1f} | {row['sys_us_per_ok']:.1f} | {row['cpu_pct']:.0f} | {row['p50_us']} | {row['p99_us']} "
              f"| {row['rss']:.0f} | {row['hwm']:.0f} |")
    print()
    for name in ("aimass", "grpc-go"):
        mine = {(r["workload"], r["load"]): r for r in rows if r["target"] == name}
        health = mine.get(("health", "4x1"))
        recommend = mine.get(("recommend", "4x1"))
        if health and recommend:
            print(f"{name}: Recommend / Health server CPU per call at 4x1: "
                  f"{recommend['cpu_us_per_ok'] / health['cpu_us_per_ok']:.2f}x")
        best = max((mine[key]["ok_per_s"] for key in mine if key[0] == "recommend" and key[1] in ("1x1", "4x1")),
                   default=0)
        for load in ("16x10", "64x100"):
            row = mine.get(("recommend", load))
            if row and best:
                print(f"{name}: Recommend {load} goodput = {100 * row['ok_per_s'] / best:.0f} % of the best at 1-4 "
                      f"in flight")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
