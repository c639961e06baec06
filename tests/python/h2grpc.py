"""A small raw HTTP/2 gRPC client on the `h2` library over a plain socket (prior knowledge).

It exists for what grpcio cannot do: choose the compressed flag of each request message, send
malformed framing, reset a stream half way. Every wait is bounded by a timeout.
"""

from __future__ import annotations

import gzip
import socket
import struct
import time
import urllib.parse
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings


def frame_message(payload: bytes, compressed: bool = False, flag: int | None = None,
                  declared_length: int | None = None) -> bytes:
    """The 5-byte gRPC length prefix plus payload (gzip-compressed first when compressed)."""
    if compressed:
        payload = gzip.compress(payload)
    f = (1 if compressed else 0) if flag is None else flag
    n = len(payload) if declared_length is None else declared_length
    return struct.pack(">BI", f, n) + payload


def parse_messages(data: bytes) -> list[tuple[int, bytes]]:
    """Splits a gRPC body into (flag, payload) pairs; compressed payloads are inflated."""
    out, i = [], 0
    while i < len(data):
        if len(data) - i < 5:
            raise ValueError(f"truncated gRPC prefix at {i}: {data[i:]!r}")
        flag, n = struct.unpack(">BI", data[i:i + 5])
        body = data[i + 5:i + 5 + n]
        if len(body) != n:
            raise ValueError(f"truncated gRPC message: declared {n}, got {len(body)}")
        if flag & 1:
            body = gzip.decompress(body)
        out.append((flag, body))
        i += 5 + n
    return out


@dataclass
class StreamState:
    headers: dict = field(default_factory=dict)
    trailers: dict = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    ended: bool = False
    reset_code: int | None = None

    @property
    def done(self) -> bool:
        return self.ended or self.reset_code is not None

    @property
    def http_status(self) -> int | None:
        s = self.headers.get(":status")
        return int(s) if s is not None else None

    @property
    def grpc_status(self) -> int | None:
        s = self.trailers.get("grpc-status", self.headers.get("grpc-status"))
        return int(s) if s is not None else None

    @property
    def grpc_message(self) -> str:
        m = self.trailers.get("grpc-message", self.headers.get("grpc-message", ""))
        return urllib.parse.unquote(m)

    def messages(self) -> list[tuple[int, bytes]]:
        return parse_messages(bytes(self.data))

    def describe(self) -> str:
        return (f"http={self.http_status} grpc-status={self.grpc_status} grpc-message={self.grpc_message!r} "
                f"reset={self.reset_code} ended={self.ended} data={len(self.data)}B headers={self.headers} "
                f"trailers={self.trailers}")


class ConnectionClosed(Exception):
    pass


class H2GrpcConnection:
    def __init__(self, host: str, port: int, timeout: float = 10.0, big_windows: bool = True,
                 extra_settings: dict | None = None, tls: tuple | None = None):
        """big_windows=False keeps HTTP/2's default 65,535-byte windows, so a server sending more
        must wait for our WINDOW_UPDATEs. extra_settings go into our first SETTINGS frame.
        tls=(ssl_context, server_name) speaks TLS (the context should offer ALPN h2)."""
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            context, server_name = tls
            self.sock = context.wrap_socket(self.sock, server_hostname=server_name)
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=cfg)
        self.streams: dict[int, StreamState] = {}
        self.terminated: h2.events.ConnectionTerminated | None = None
        self.closed = False
        self.remote_settings_seen = False
        self.ping_acks: list[bytes] = []
        self.conn.initiate_connection()
        if extra_settings:  # h2 refuses unknown ids: splice them into the first SETTINGS frame
            out = self.conn.data_to_send()
            preface, hdr, body = out[:24], out[24:33], out[33:]
            length = int.from_bytes(hdr[:3], "big")
            assert hdr[3] == 0x4 and len(body) == length, "unexpected h2 connection preamble"
            body += b"".join(struct.pack(">HI", k, v) for k, v in extra_settings.items())
            self.sock.sendall(preface + len(body).to_bytes(3, "big") + hdr[3:] + body)
        if big_windows:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 8 * 1024 * 1024})
            self.conn.increment_flow_control_window(16 * 1024 * 1024)
        self.flush()

    # -- plumbing ------------------------------------------------------------------------------
    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def pump(self, timeout: float) -> bool:
        """Reads once (up to timeout) and dispatches events. Returns False on timeout."""
        if self.closed:
            raise ConnectionClosed(f"connection closed (goaway={self.terminated})")
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return False
        except ConnectionError as e:
            self.closed = True
            raise ConnectionClosed(f"connection error: {e!r}") from e
        if not data:
            self.closed = True
            raise ConnectionClosed(f"server closed the connection (goaway={self.terminated})")
        for ev in self.conn.receive_data(data):
            self._on_event(ev)
        self.flush()
        return True

    def _st(self, sid: int) -> StreamState:
        return self.streams.setdefault(sid, StreamState())

    def _on_event(self, ev):
        if isinstance(ev, h2.events.ResponseReceived):
            self._st(ev.stream_id).headers.update(dict(ev.headers))
        elif isinstance(ev, h2.events.TrailersReceived):
            self._st(ev.stream_id).trailers.update(dict(ev.headers))
        elif isinstance(ev, h2.events.DataReceived):
            self._st(ev.stream_id).data += ev.data
            try:
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            except h2.exceptions.StreamClosedError:
                pass
        elif isinstance(ev, h2.events.StreamEnded):
            self._st(ev.stream_id).ended = True
        elif isinstance(ev, h2.events.StreamReset):
            self._st(ev.stream_id).reset_code = int(ev.error_code)
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.terminated = ev
        elif isinstance(ev, h2.events.RemoteSettingsChanged):
            self.remote_settings_seen = True
        elif isinstance(ev, h2.events.PingAckReceived):
            self.ping_acks.append(bytes(ev.ping_data))

    def wait_settings(self, timeout: float | None = None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.remote_settings_seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no SETTINGS from the server")
            self.pump(left)

    # -- streams -------------------------------------------------------------------------------
    def start(self, path: str, content_type: str = "application/grpc", extra_headers=(),
              end_stream: bool = False) -> int:
        sid = self.conn.get_next_available_stream_id()
        headers = [
            (":method", "POST"), (":scheme", "http"), (":path", path),
            (":authority", f"{self.host}:{self.port}"),
            ("content-type", content_type), ("te", "trailers"),
            ("grpc-accept-encoding", "identity,gzip"),
        ]
        extra = list(extra_headers)
        if not any(k == "grpc-timeout" for k, _ in extra):
            headers.append(("grpc-timeout", "10S"))
        headers += extra
        self.conn.send_headers(sid, headers, end_stream=end_stream)
        self._st(sid)
        self.flush()
        return sid

    def ping(self, opaque: bytes = b"aimass!!", timeout: float | None = None) -> float:
        """Sends a PING and waits for its ACK; returns the round trip in seconds."""
        t0 = time.monotonic()
        self.conn.ping(opaque)
        self.flush()
        deadline = t0 + (timeout or self.timeout)
        while opaque not in self.ping_acks:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no PING ACK from the server")
            self.pump(left)
        return time.monotonic() - t0

    def send(self, sid: int, data: bytes, end_stream: bool = False, timeout: float | None = None,
             max_frame: int | None = None) -> bool:
        """Sends data honouring flow control, in DATA frames of at most max_frame bytes.
        Returns False if the server ended/reset the stream first."""
        deadline = time.monotonic() + (timeout or self.timeout)
        view = memoryview(data)
        st = self._st(sid)
        while True:
            if st.done:
                return False
            if not view:
                if end_stream:
                    try:
                        self.conn.end_stream(sid)
                    except h2.exceptions.StreamClosedError:
                        return False
                    self.flush()
                return True
            window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size,
                         max_frame or (1 << 30))
            if window <= 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"stream {sid}: no flow-control window from the server for "
                                       f"{(timeout or self.timeout):.0f}s with {len(view)} bytes left to send")
                self.pump(min(left, 0.5))
                continue
            chunk = view[:window]
            try:
                self.conn.send_data(sid, bytes(chunk))
            except h2.exceptions.StreamClosedError:
                return False
            self.flush()
            view = view[window:]
            # let WINDOW_UPDATEs, RST_STREAMs and early responses in without blocking
            if max_frame is None or not view:
                self.pump(0.001)

    def end(self, sid: int):
        self.conn.end_stream(sid)
        self.flush()

    def reset(self, sid: int, code: int = 8):
        self.conn.reset_stream(sid, error_code=code)
        self.flush()

    def wait(self, sid: int, timeout: float | None = None) -> StreamState:
        deadline = time.monotonic() + (timeout or self.timeout)
        st = self._st(sid)
        while not st.done:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"stream {sid} did not finish in time: {st.describe()}")
            self.pump(left)
        return st

    def call(self, path: str, body: bytes, content_type: str = "application/grpc", extra_headers=(),
             timeout: float | None = None) -> StreamState:
        """One request: headers, body (raw bytes, already framed), END_STREAM; waits for the end."""
        sid = self.start(path, content_type=content_type, extra_headers=extra_headers)
        self.send(sid, body, end_stream=True, timeout=timeout)
        return self.wait(sid, timeout)
