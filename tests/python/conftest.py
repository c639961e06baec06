"""Fixtures of the Python polyglot suite.

Binaries come from $AIMASS_BIN_DIR (CI always sets it); the benchmark and fuzz executables, which live in
their own package (Benchmarks/), from $AIMASS_BENCH_BIN_DIR (scripts/test.sh sets it; without it,
`swift build --package-path Benchmarks --show-bin-path` is asked). A missing variable or binary FAILS the
tests that need it, with the reason; it never skips them.

CLI contract relied on:
  $AIMASS_BIN_DIR/aimass-interop server --port 0
      -> prints `aimass-interop listening on 127.0.0.1:PORT` (flushed) once listening; SIGTERM stops it
  $AIMASS_BIN_DIR/aimass-interop client --server_host H --server_port N --test_case NAME --use_tls=false
      -> exit 0 when the case passes, non-zero with a message on stderr otherwise
  $AIMASS_BIN_DIR/aimass serve --port 0 --data-dir DIR
      -> prints `aimass listening on 127.0.0.1:PORT`; serves grpc.health.v1.Health
"""

from __future__ import annotations

import importlib
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import protogen  # noqa: E402

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
HEALTH_TIMEOUT = 10.0


# -- parallel runs (pytest-xdist) ---------------------------------------------------------------

# scripts/test-python.sh runs the suite with `-n 3 --dist loadfile --no-loadscope-reorder`: each file whole on one
# worker (its module fixtures made once), files handed out in collection order as workers free up. The files that
# take longest go first, so that none of them starts last and leaves one worker idle while it finishes (measured
# durations in docs/testing.md). The order of the others is unchanged.
SLOW_FILES_FIRST = ("test_fuzz_short.py", "test_run_serving.py", "test_recommend_similarity.py",
                    "test_recommend_similarity_usercf.py", "test_recommend_reference.py", "test_abuse.py", "test_tune.py",
                    "test_improve.py", "test_python_client.py", "test_run_demo.py", "test_control_plane_restart.py",
                    "test_console_browser.py", "test_interop_tls.py", "test_pool.py", "test_etcd_ha.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


# -- fixed ports -------------------------------------------------------------------------------

# A server that must come back on the same port (a restarted control plane) or a cluster whose members name each
# other's ports up front (etcd) cannot listen on port 0. A port taken from the kernel (bind to 0, close) races: the
# kernel hands the same range out again to any bind(0) or outgoing connection, and the other xdist worker takes
# ports from it all the time. So fixed ports come from below the ephemeral range, which the kernel never hands out,
# from a slice of it of this worker's own (gw0, gw1, ...), and are checked free before use.
_FIXED_PORTS_LOW = 20000
_FIXED_PORT_SLICES = 8
_handed_out: set = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def reserved_ports(n: int) -> list:
    """n free loopback ports that no other test of this run can be handed, outside the kernel's ephemeral range."""
    import random
    import socket
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    size = (_ephemeral_low() - _FIXED_PORTS_LOW) // _FIXED_PORT_SLICES
    first = _FIXED_PORTS_LOW + (index % _FIXED_PORT_SLICES) * size
    ports: list = []
    candidates = list(range(first, first + size))
    random.shuffle(candidates)  # another checkout's suite may run beside this one: do not all start at one end
    for port in candidates:
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        ports.append(port)
        if len(ports) == n:
            return ports
    pytest.fail(f"no {n} free ports in {first}-{first + size - 1}", pytrace=False)


# -- stubs -------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def stubs_dir(tmp_path_factory) -> Path:
    """Flat stubs generated once per session from proto/ (see protogen.py)."""
    return protogen.generate(tmp_path_factory.mktemp("pystubs"))


@pytest.fixture(scope="session")
def stubs(stubs_dir):
    """Namespace: empty_pb2, messages_pb2, test_pb2, test_pb2_grpc, health_pb2 (ours, with List)."""
    return protogen.load(stubs_dir)


@pytest.fixture(scope="session")
def aimass_stubs(tmp_path_factory):
    """Namespace: common_pb2, registry_pb2, registry_pb2_grpc of aimass.v1, generated from proto/."""
    return protogen.load_aimass(protogen.generate_aimass(tmp_path_factory.mktemp("aimass_stubs")))


# -- binaries ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def recommend_pb(tmp_path_factory):
    """(recommend_pb2, recommend_pb2_grpc) for aimass.v1.Recommend, generated once per session."""
    out = protogen.generate_aimass(tmp_path_factory.mktemp("recommend_stubs"),
                                   protos=["aimass/v1/common.proto", "aimass/v1/recommend.proto"])
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    return (importlib.import_module("aimass.v1.recommend_pb2"), importlib.import_module("aimass.v1.recommend_pb2_grpc"))


def aimass_binary(name: str) -> Path:
    bin_dir = os.environ.get("AIMASS_BIN_DIR")
    if not bin_dir:
        pytest.fail("AIMASS_BIN_DIR is not set: point it at the Swift build's bin directory, e.g. "
                    "AIMASS_BIN_DIR=\"$(swift build --show-bin-path)\" (scripts/test.sh does this)",
                    pytrace=False)
    path = Path(bin_dir) / name
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"{name} not found (or not executable) at {path}: build it first with `swift build`",
                    pytrace=False)
    return path


def cli_environment(**values) -> dict:
    """The environment for an `aimass` CLI process: this process's, without any `AIMASS_*` variable that could point
    the CLI elsewhere, plus `values` (`AIMASS_SERVER=…`, `AIMASS_TOKEN=…`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMASS_")}
    env.update(values)
    return env


def bench_binary(name: str) -> Path:
    """An executable of the Benchmarks package (overload-bench, recommend-bench, ...), built beforehand."""
    bin_dir = os.environ.get("AIMASS_BENCH_BIN_DIR")
    if not bin_dir:
        try:
            bin_dir = subprocess.run(["swift", "build", "--package-path", str(REPO_ROOT / "Benchmarks"),
                                      "--show-bin-path"], cwd=REPO_ROOT, capture_output=True, text=True,
                                     check=True, timeout=120).stdout.strip()
        except (OSError, subprocess.SubprocessError) as error:
            pytest.fail(f"AIMASS_BENCH_BIN_DIR is not set and the Benchmarks package's bin path is unknown: {error}",
                        pytrace=False)
    path = Path(bin_dir) / name
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"{name} not found (or not executable) at {path}: build it first with "
                    "`swift build --package-path Benchmarks`", pytrace=False)
    return path


# -- processes ---------------------------------------------------------------------------------

@dataclass
class ServerProcess:
    """A server subprocess that announced `... listening on HOST:PORT` on stdout."""

    name: str
    argv: list
    proc: subprocess.Popen
    stderr_path: Path
    host: str = ""
    port: int = 0
    stdout_lines: list = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def stderr_tail(self, n: int = 60) -> str:
        try:
            lines = self.stderr_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no stderr)"
        return "\n".join(lines[-n:]) or "(empty stderr)"

    def report(self) -> str:
        return (f"{self.name} ({' '.join(map(str, self.argv))}), pid {self.proc.pid}, "
                f"exit code {self.proc.poll()}\n--- stdout ---\n" + "\n".join(self.stdout_lines[-20:])
                + f"\n--- stderr (tail) ---\n{self.stderr_tail()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def assert_alive(self):
        assert self.alive(), f"the server process died:\n{self.report()}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)


def start_server(name: str, argv: list, ready_re: str, cwd: Path = REPO_ROOT,
                 timeout: float = STARTUP_TIMEOUT, preexec_fn=None) -> ServerProcess:
    """Starts argv, waits (bounded) for the ready line; fails with the server's stderr otherwise.
    preexec_fn runs in the child before exec (e.g. to set resource limits)."""
    err = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".stderr", delete=False)
    proc = subprocess.Popen([str(a) for a in argv], cwd=str(cwd), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=err, text=True, bufsize=1, preexec_fn=preexec_fn)
    err.close()
    sp = ServerProcess(name=name, argv=argv, proc=proc, stderr_path=Path(err.name))
    lines: queue.Queue = queue.Queue()

    def drain():  # keeps reading so a chatty server never blocks on a full pipe
        for line in proc.stdout:
            line = line.rstrip("\n")
            sp.stdout_lines.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, name=f"{name}-stdout", daemon=True).start()
    pattern = re.compile(ready_re)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            sp.stop()
            pytest.fail(f"{name} did not print its listening line within {timeout:.0f}s:\n{sp.report()}",
                        pytrace=False)
        try:
            line = lines.get(timeout=min(left, 0.5))
        except queue.Empty:
            if proc.poll() is not None and lines.empty():
                time.sleep(0.1)
                if lines.empty():
                    pytest.fail(f"{name} exited before listening:\n{sp.report()}", pytrace=False)
            continue
        if line is None:
            sp.stop()
            pytest.fail(f"{name} closed stdout before listening:\n{sp.report()}", pytrace=False)
        m = pattern.search(line)
        if m:
            sp.host, sp.port = m.group(1), int(m.group(2))
            return sp


def stop_server(sp: ServerProcess, expect_alive: bool = True):
    died = sp.proc.poll()
    sp.stop()
    try:
        os.unlink(sp.stderr_path)
    except OSError:
        pass
    if expect_alive and died is not None:
        pytest.fail(f"{sp.name} exited on its own (code {died}) before the end of its tests", pytrace=False)


def _start_interop(name="aimass-interop") -> ServerProcess:
    exe = aimass_binary("aimass-interop")
    return start_server(name, [exe, "server", "--port", "0"],
                        r"aimass-interop listening on (127\.0\.0\.1):(\d+)")


@pytest.fixture(scope="session")
def interop_server():
    """Our Swift aimass-interop server (TestService + Health), one per session."""
    sp = _start_interop()
    yield sp
    stop_server(sp)


@pytest.fixture
def fresh_interop_server():
    """A dedicated aimass-interop server for one test (bad-input tests must not poison others)."""
    sp = _start_interop()
    yield sp
    stop_server(sp)


@pytest.fixture(scope="session")
def python_interop_server(stubs_dir):
    """The grpcio TestService of interop_server.py, in a subprocess."""
    sp = start_server("python-interop",
                      [sys.executable, HERE / "interop_server.py", "--port", "0", "--stubs-dir", stubs_dir],
                      r"python-interop listening on (127\.0\.0\.1):(\d+)")
    yield sp
    stop_server(sp)


@pytest.fixture(scope="session")
def broken_python_interop_server(stubs_dir):
    """interop_server.py --broken: every feature subtly wrong, for negative tests."""
    sp = start_server("python-interop-broken",
                      [sys.executable, HERE / "interop_server.py", "--port", "0", "--stubs-dir", stubs_dir,
                       "--broken"],
                      r"python-interop-broken listening on (127\.0\.0\.1):(\d+)")
    yield sp
    stop_server(sp)


def start_aimass(data_dir: Path, name: str = "aimass", extra=()) -> ServerProcess:
    """`aimass serve --port 0 --data-dir DATA_DIR`; returns once it listens."""
    exe = aimass_binary("aimass")
    return start_server(name, [exe, "serve", "--port", "0", "--data-dir", data_dir, *extra],
                        r"aimass listening on (127\.0\.0\.1):(\d+)")


def admin_token(data_dir: Path) -> str:
    """The admin token `aimass serve` wrote into its data directory on first start."""
    return (data_dir / "admin.token").read_text().strip()


@pytest.fixture(scope="module")
def aimass_server(tmp_path_factory):
    """`aimass serve` on a free port with an empty data dir of its own (one per test module)."""
    exe = aimass_binary("aimass")
    data = tmp_path_factory.mktemp("aimass-data")
    sp = start_server("aimass", [exe, "serve", "--port", "0", "--data-dir", data],
                      r"aimass listening on (127\.0\.0\.1):(\d+)")
    yield sp
    stop_server(sp)


# -- raw HTTP/2 tests ---------------------------------------------------------------------------

@pytest.fixture
def raw_peer(request, stubs_dir):
    """A fresh aimass-interop server; AIMASS_BAD_INPUT_PEER=python swaps in the grpcio one."""
    if os.environ.get("AIMASS_BAD_INPUT_PEER") == "python":
        sp = start_server("python-interop",
                          [sys.executable, HERE / "interop_server.py", "--port", "0", "--stubs-dir", stubs_dir],
                          r"python-interop listening on (127\.0\.0\.1):(\d+)")
        yield sp
        stop_server(sp)
    else:
        yield request.getfixturevalue("fresh_interop_server")


@pytest.fixture
def healthy(raw_peer):
    """Yields the server; afterwards asserts it is alive and SERVING on a new connection."""
    server = raw_peer
    yield server
    server.assert_alive()
    with grpc.insecure_channel(server.target) as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=HEALTH_TIMEOUT)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING
    server.assert_alive()


