"""TLS to etcd (issue 13): Debian's etcd serving its client port over TLS and requiring client certificates
(`--client-cert-auth`), certificates made by the test's own CA (tls_certs.py); a control plane given
`--etcd https://...` with `--etcd-ca-file`, `--etcd-cert-file` and `--etcd-key-file` leads, and its desired state
lands in that etcd. Without a client certificate the same control plane cannot reach etcd and never leads; the TLS
flags with plaintext endpoints are refused."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import admin_token, aimass_binary, cli_environment, reserved_ports, start_server, stop_server
from test_etcd_ha import STANDBY_RE, leaders
from test_pool import DATA, cli, ensure_ml100k, wait_until
from tls_certs import CertificateAuthority


class TLSEtcd:
    """One etcd member whose client port speaks TLS only and requires a client certificate of the test CA."""

    def __init__(self, root, ca, server):
        self.etcd, self.etcdctl = shutil.which("etcd"), shutil.which("etcdctl")
        assert self.etcd and self.etcdctl, "etcd and etcdctl are missing: scripts/install-deps.sh installs etcd-server"
        self.client_port, peer_port = reserved_ports(2)
        self.ca = ca
        self.client = ca.issue("etcdctl", server=False)
        self.log = open(root / "etcd-tls.log", "w")
        self.proc = subprocess.Popen(
            [self.etcd, "--name", "tls0", "--data-dir", str(root / "etcd-tls"),
             "--listen-client-urls", f"https://127.0.0.1:{self.client_port}",
             "--advertise-client-urls", f"https://127.0.0.1:{self.client_port}",
             "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
             "--initial-cluster", f"tls0=http://127.0.0.1:{peer_port}",
             "--cert-file", str(server.cert), "--key-file", str(server.key),
             "--trusted-ca-file", str(ca.cert_path), "--client-cert-auth"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until("etcd (TLS) to be healthy", lambda: self.ctl(["endpoint", "health"]).returncode == 0, 60)

    @property
    def endpoint(self):
        return f"https://127.0.0.1:{self.client_port}"

    def ctl(self, args):
        return subprocess.run(
            [self.etcdctl, f"--endpoints={self.endpoint}", "--cacert", str(self.ca.cert_path),
             "--cert", str(self.client.cert), "--key", str(self.client.key), "--command-timeout=5s", *args],
            capture_output=True, text=True, timeout=30, env={**os.environ, "ETCDCTL_API": "3"})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


@pytest.mark.timeout(600)
def test_control_plane_on_etcd_over_tls_with_client_certificates(tmp_path):
    ensure_ml100k()
    exe = aimass_binary("aimass")
    ca = CertificateAuthority(tmp_path / "pki", "etcd")
    etcd = TLSEtcd(tmp_path, ca, ca.issue("etcd-server", server=True))
    plane_client = ca.issue("aimass-control-plane", server=False)
    data = tmp_path / "data"
    cps = []
    try:
        # The TLS flags with plaintext endpoints only: refused with a clear message.
        refused = subprocess.run(
            [str(exe), "serve", "--role", "control-plane", "--port", "0", "--data-dir", str(tmp_path / "unused"),
             "--etcd", "http://127.0.0.1:1", "--etcd-ca-file", str(ca.cert_path)],
            capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "need https:// --etcd endpoints" in refused.stderr, refused.stderr

        # Trusting the CA but without a client certificate: etcd refuses the handshake, so it never leads.
        anonymous = start_server("control-plane-no-cert", [
            exe, "serve", "--role", "control-plane", "--port", "0", "--data-dir", tmp_path / "anonymous",
            "--etcd", etcd.endpoint, "--etcd-ca-file", ca.cert_path, "--leader-ttl-s", "5"], STANDBY_RE)
        cps.append(anonymous)

        port = reserved_ports(1)[0]
        cp = start_server("control-plane-tls", [
            exe, "serve", "--role", "control-plane", "--port", str(port), "--data-dir", data,
            "--etcd", etcd.endpoint, "--etcd-ca-file", ca.cert_path, "--etcd-cert-file", plane_client.cert,
            "--etcd-key-file", plane_client.key, "--leader-ttl-s", "5"], STANDBY_RE)
        cps.append(cp)
        wait_until("the control plane with a client certificate to lead", lambda: leaders([cp]) == [cp], 60)
        held = etcd.ctl(["get", "/aimass/leader", "--print-value-only"])
        assert held.stdout.strip() == cp.target, held

        token = wait_until("the admin token", lambda: (data / "admin.token").exists()
                           and admin_token(data), 30)
        env = cli_environment(AIMASS_SERVER=cp.target, AIMASS_TOKEN=token)
        cli(exe, env, "model", "create", "movies", "--manifest", "algorithm=itemcf", "--manifest", "neighbours=50")
        cli(exe, env, "model", "upload", "movies", str(DATA), "--manifest", "algorithm=itemcf",
            "--manifest", "neighbours=50")
        cli(exe, env, "deploy", "--model", "movies", "--min", "1")
        stored = etcd.ctl(["get", "/aimass/state/deployment/", "--prefix", "--keys-only"]).stdout.split()
        assert stored == ["/aimass/state/deployment/movies@1"], stored
        # The Mesh journal went over the same TLS connection.
        assert etcd.ctl(["get", "/aimass/mesh/checkpoint", "--keys-only"]).stdout.split() == ["/aimass/mesh/checkpoint"]

        # The one without a client certificate never led (it had the whole run above to try).
        assert anonymous not in leaders(cps), anonymous.report()
        print(f"\ncontrol plane on TLS etcd ({etcd.endpoint}, client certificates required): leads, deployment stored")
    finally:
        for sp in cps:
            stop_server(sp, expect_alive=False)
        etcd.stop()
