"""A control plane (`aimass serve --role control-plane`) with one worker (`--role worker`) joined to it, for tests
that need every role of `aimass serve`; and the same across a link the test can silence (a partition)."""

from __future__ import annotations

import signal
import socket
import threading
from contextlib import contextmanager

from conftest import admin_token, aimass_binary, cli_environment, start_server, stop_server
from test_pool import cli, restartable_control_plane


@contextmanager
def control_plane_with_worker(tmp_path):
    """Yields (control plane, worker, admin token, CLI environment pointed at the control plane)."""
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    cp = start_server("control-plane", [exe, "serve", "--role", "control-plane", "--port", "0", "--data-dir", data],
                      r"aimass listening on (127\.0\.0\.1):(\d+)")
    worker = None
    try:
        token = admin_token(data)
        worker = start_server("worker", [exe, "serve", "--role", "worker", "--join", cp.target, "--port", "0",
                                         "--token", token], r"aimass worker listening on (127\.0\.0\.1):(\d+)")
        env = cli_environment(AIMASS_SERVER=cp.target, AIMASS_TOKEN=token)
        yield cp, worker, token, env
    finally:
        if worker is not None:
            stop_server(worker, expect_alive=False)
        stop_server(cp)


def deploy_model(exe, env, model, data, neighbours):
    """Creates `model`, uploads `data` as ItemCF with `neighbours` neighbours and deploys one replica of it (not
    waiting for it to be ready)."""
    manifest = ["--manifest", "algorithm=itemcf", "--manifest", f"neighbours={neighbours}"]
    cli(exe, env, "model", "create", model, *manifest)
    cli(exe, env, "model", "upload", model, str(data), *manifest)
    cli(exe, env, "deploy", "--model", model, "--min", "1", "--max", "1")


class SilenceableProxy:
    """A loopback TCP proxy the test controls: it forwards both ways until silence(), then drops every byte in both
    directions without closing anything (as a partition that loses packets without a reset: no FIN, no RST reach
    either side; new connections are accepted and black-holed too). silence_answers() drops only what the upstream
    sends (its requests reach the server, which acts on them, but no answer comes back). heal() closes the
    connections made so far and forwards again."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests_flow = self.answers_flow = True
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                return
            with self.lock:
                self.sockets += [client, upstream]
            for src, dst, answers in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pump, args=(src, dst, answers), name="proxy-pump", daemon=True).start()

    def _flowing(self, answers: bool) -> bool:
        return self.answers_flow if answers else self.requests_flow

    def _pump(self, src, dst, answers):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                if self._flowing(answers):  # a real close travels while the link is up, never during the partition
                    for s in (src, dst):
                        try:
                            s.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                return
            if self._flowing(answers):
                try:
                    dst.sendall(data)
                except OSError:
                    return

    def silence(self):
        self.requests_flow = self.answers_flow = False

    def silence_answers(self):
        self.answers_flow = False

    def heal(self):
        with self.lock:
            stale, self.sockets = self.sockets, []
        for s in stale:
            try:
                s.close()
            except OSError:
                pass
        self.requests_flow = self.answers_flow = True

    def close(self):
        self.heal()
        self.listener.close()


PARTITION_KEEPALIVE_MS = 2000
# How long a call over the worker's concurrency limit waits for a slot before it is shed (the default is 5 ms). The
# paced clients of these tests require every call to succeed; beside a CPU hog the worker's adaptive limit can fall
# below what their 50 calls/s keep in flight, and a shed call there says nothing about what they check. 2 s was not
# enough once (a soak run beside the hog and other builds, load 6: 2 of 804 calls of test_etcd_ha shed after 2 s).
PACED_QUEUE_BUDGET_MS = 10000


class PartitionablePool:
    """A restartable control plane (test_pool.restartable_control_plane) and `worker` joined to it through a
    SilenceableProxy (`proxy`), with a 2 s keepalive and room for four replicas; more workers join with add_worker().
    Made by partitionable_pool(), which stops every process of it afterwards."""

    def __init__(self, tmp_path):
        self.exe, self.data, self.argv, self.ready = restartable_control_plane(tmp_path)
        self.control_plane = self.proxy = self.worker = None
        self.workers = []
        self.token, self.env = "", {}

    def _start(self):
        self.control_plane = start_server("control-plane", self.argv, self.ready)
        self.token = admin_token(self.data)
        self.env = cli_environment(AIMASS_SERVER=self.control_plane.target, AIMASS_TOKEN=self.token)
        self.proxy = SilenceableProxy(self.control_plane.port)
        self.worker = self.add_worker(f"127.0.0.1:{self.proxy.port}", "worker")

    def add_worker(self, join, name):
        """`aimass serve --role worker` joined at `join` (an address), with the same options as `worker`."""
        worker = start_server(name, [self.exe, "serve", "--role", "worker", "--join", join, "--port", "0",
                                     "--token", self.token, "--keepalive-ms", str(PARTITION_KEEPALIVE_MS),
                                     "--queue-budget-ms", str(PACED_QUEUE_BUDGET_MS),
                                     "--capacity-cpu-millis", "2000", "--capacity-memory-bytes", str(4 << 30),
                                     "--capacity-replicas", "4"],
                              r"aimass worker listening on (127\.0\.0\.1):(\d+)")
        self.workers.append(worker)
        return worker

    def kill_and_restart_control_plane(self):
        """kill -9 of the control plane, then the same command again (same port, same data directory)."""
        self.control_plane.proc.send_signal(signal.SIGKILL)
        self.control_plane.proc.wait(10)
        self.control_plane = start_server("control-plane-again", self.argv, self.ready)

    def _stop(self):
        for worker in self.workers:
            stop_server(worker, expect_alive=False)
        if self.proxy is not None:
            self.proxy.close()
        if self.control_plane is not None:
            stop_server(self.control_plane, expect_alive=False)


@contextmanager
def partitionable_pool(tmp_path):
    """Yields a started PartitionablePool; stops every process of it afterwards, whatever happened."""
    pool = PartitionablePool(tmp_path)
    try:
        pool._start()
        yield pool
    finally:
        pool._stop()
