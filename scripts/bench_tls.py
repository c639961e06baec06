#!/usr/bin/env python3
"""What TLS costs the server, print-only (run by scripts/bench-tls.sh; not a test).

Three `aimass-interop server`s, each pinned to --server-cpu in turn: plaintext, TLS with an ECDSA P-256 certificate
and TLS with an RSA-2048 one (self-signed, made here with openssl). h2load, pinned to --client-cpu, measures each:
- **per call**: Health/Check over 4 connections, one call in flight on each (`-c 4 -m 1`), for --seconds after a 1 s
  warm-up: calls per second and the server's CPU (user + system, /proc) per call;
- **per connection**: --connections connections opened at once, one Health/Check on each, then closed
  (`-c N -n N`): the server's CPU per connection, which is accept, the TLS handshake (TLS 1.3, h2load's default
  X25519 key share, no session resumption), the HTTP/2 setup, one call and the close;
- **per handshake, full and resumed** (TLS servers): --connections connections one after another from Python's
  `ssl` (TLS 1.3), each sending the HTTP/2 preface, reading the server's SETTINGS and closing; once offering no
  session, once offering the session (ticket) of the connection before: the server's CPU per connection.
The servers run alternately, --repeat times; each row is the median. The ratios compare each TLS server with
plaintext in the same run.

    bench_tls.py --bin PATH/aimass-interop [--repeat N] [--seconds S] [--connections N]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import ssl
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench_abuse import Server, cpu_seconds
from h2abuse import PREFACE, SETTINGS, frame

HEALTH = "/grpc.health.v1.Health/Check"
EMPTY_REQUEST = b"\x00\x00\x00\x00\x00"  # a gRPC message frame holding an empty HealthCheckRequest


def make_certificate(directory: Path, algorithm: str) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 with an ECDSA P-256 or RSA-2048 key."""
    key, certificate = directory / f"{algorithm}.key", directory / f"{algorithm}.pem"
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if algorithm == "ecdsa" else ["-newkey", "rsa:2048"]
    subprocess.run(["openssl", "req", "-x509", *new_key, "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return certificate, key


def h2load(cpu: str, url: str, body: Path, clients: int, streams: int, *, seconds: float = 0,
           requests: int = 0) -> tuple[int, float, str]:
    """(calls that succeeded, seconds h2load ran, the TLS version, cipher and key exchange it reports)."""
    command = ["taskset", "-c", cpu, "h2load", "-t", "1", "-c", str(clients), "-m", str(streams), "-d", str(body),
               "-H", "content-type: application/grpc", "-H", "te: trailers"]
    command += ["-D", str(max(1, round(seconds)))] if seconds else ["-n", str(requests)]
    result = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 300)
    succeeded = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", result.stdout)
    finished = re.search(r"finished in ([\d.]+)(us|ms|s),", result.stdout)
    if not (succeeded and finished):
        raise SystemExit(f"cannot read h2load's output:\n{result.stdout}\n{result.stderr}")
    tls = ", ".join(re.findall(r"^(?:TLS Protocol|Cipher|Server Temp Key): (.+)$", result.stdout, re.MULTILINE))
    seconds_run = float(finished.group(1)) / {"us": 1e6, "ms": 1e3, "s": 1}[finished.group(2)]
    return int(succeeded.group(1)), seconds_run, tls


def handshakes(port: int, certificate: Path, count: int, resume: bool) -> tuple[int, str]:
    """`count` TLS connections one after another (preface, the server's SETTINGS, close), each offering the session
    of the one before when `resume`; returns how many were resumed and the TLS version."""
    context = ssl.create_default_context(cafile=str(certificate))
    context.set_alpn_protocols(["h2"])
    session, resumed, version = None, 0, ""
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as gRPC clients do; else Nagle holds the preface
            with context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
                tls.sendall(PREFACE + frame(SETTINGS, 0, 0))
                received = b""
                while len(received) < 9:  # the server's SETTINGS frame; its session tickets came before it
                    chunk = tls.recv(65536)
                    if not chunk:
                        raise SystemExit("the server closed a connection before its SETTINGS")
                    received += chunk
                resumed += tls.session_reused
                version = tls.version() or ""
                if resume:
                    session = tls.session
    return resumed, version


def measure(args, server: Server, scheme: str, body: Path, certificate: Path | None) -> dict:
    url = f"{scheme}://127.0.0.1:{server.port}{HEALTH}"
    h2load(args.client_cpu, url, body, 4, 1, seconds=1)  # warm-up
    before = cpu_seconds(server.proc.pid)
    calls, elapsed, tls = h2load(args.client_cpu, url, body, 4, 1, seconds=args.seconds)
    call_cpu = cpu_seconds(server.proc.pid) - before
    before = cpu_seconds(server.proc.pid)
    connected, _, _ = h2load(args.client_cpu, url, body, args.connections, 1, requests=args.connections)
    connection_cpu = cpu_seconds(server.proc.pid) - before
    if connected != args.connections:
        raise SystemExit(f"{scheme}: {args.connections - connected} of {args.connections} one-call connections failed")
    figures = {"calls_per_s": calls / elapsed, "us_per_call": 1e6 * call_cpu / calls,
               "us_per_connection": 1e6 * connection_cpu / args.connections, "tls": tls}
    if certificate is not None:
        for key, resume in (("us_per_full_handshake", False), ("us_per_resumed_handshake", True)):
            before = cpu_seconds(server.proc.pid)
            resumed, version = handshakes(server.port, certificate, args.connections, resume)
            figures[key] = 1e6 * (cpu_seconds(server.proc.pid) - before) / args.connections
            if resumed != (args.connections - 1 if resume else 0):
                raise SystemExit(f"{version}: {resumed} of {args.connections} connections resumed (resume={resume})")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--server-cpu", default=os.environ.get("SERVER_CPU", "0"))
    parser.add_argument("--client-cpu", default=os.environ.get("CLIENT_CPU", "1"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-tls-") as work:
        directory = Path(work)
        body = directory / "health.bin"
        body.write_bytes(EMPTY_REQUEST)
        os.sched_setaffinity(0, {int(args.client_cpu)})  # the handshakes' client; servers and h2load are pinned apart
        variants = {"plaintext": ("http", (), None)}
        for algorithm in ("ecdsa", "rsa"):
            certificate, key = make_certificate(directory, algorithm)
            variants[f"TLS, {algorithm}"] = ("https", ("--use_tls=true", "--tls-cert", str(certificate),
                                                      "--tls-key", str(key)), certificate)
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, (scheme, extra, certificate) in variants.items():
                server = Server(args.bin, args.server_cpu, None, extra)
                try:
                    runs[name].append(measure(args, server, scheme, body, certificate))
                finally:
                    server.stop()

    def median(name, key):
        return statistics.median(run[key] for run in runs[name])

    print(f"h2load -t1 on cpu {args.client_cpu}, server on cpu {args.server_cpu}; median of {args.repeat} alternated "
          f"runs; per call: -c 4 -m 1 for {args.seconds:g} s; per connection: -c {args.connections} "
          f"-n {args.connections}")
    for name in variants:
        if runs[name][0]["tls"]:
            print(f"{name}: {runs[name][0]['tls']}")
    print()
    print("| server | calls/s (4x1) | server CPU per call | × plaintext | server CPU per connection (one call) "
          "| × plaintext |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in variants:
        per_call, per_connection = median(name, "us_per_call"), median(name, "us_per_connection")
        print(f"| {name} | {median(name, 'calls_per_s'):,.0f} | {per_call:.1f} µs "
              f"| {per_call / median('plaintext', 'us_per_call'):.2f} | {per_connection:.0f} µs "
              f"| {per_connection / median('plaintext', 'us_per_connection'):.2f} |")
    print()
    print("| server | server CPU per TLS 1.3 connection, full handshake | resumed (session ticket) | resumed / full |")
    print("|---|---:|---:|---:|")
    for name in variants:
        if "us_per_full_handshake" in runs[name][0]:
            full, resumed = median(name, "us_per_full_handshake"), median(name, "us_per_resumed_handshake")
            print(f"| {name} | {full:.0f} µs | {resumed:.0f} µs | {resumed / full:.2f} |")


if __name__ == "__main__":
    main()
