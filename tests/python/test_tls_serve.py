"""`aimass serve` over TLS and mutual TLS, with real processes and sockets: grpcio and the aimass CLI call it with
--ca-file (and a client certificate), a wrong CA or a missing client certificate is refused, a worker joins a
control plane over mTLS, certificates rotate without a restart (SIGHUP, and on file change), and plaintext is
refused on a non-loopback address unless --insecure."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import admin_token, aimass_binary, cli_environment, start_server, stop_server
from tls_certs import CertificateAuthority, SessionProbe, peer_certificate_serial

WAIT = 60  # seconds: only catches hangs


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority(d / "ca", "serve")
    return {
        "dir": d,
        "ca": ca,
        "server": ca.issue("server", server=True),
        "client": ca.issue("client", server=False),
        "wrong": CertificateAuthority(d / "wrong", "other"),
    }


def serve(data_dir, *extra, name="aimass-tls", ready=r"aimass listening on (127\.0\.0\.1):(\d+)"):
    return start_server(name, [aimass_binary("aimass"), "serve", "--port", "0", "--data-dir", data_dir, *extra], ready)


def health(target, ca=None, client=None, override=None):
    if ca is None:
        channel = grpc.insecure_channel(target)
    else:
        creds = grpc.ssl_channel_credentials(
            root_certificates=ca.read_bytes(),
            private_key=client.key.read_bytes() if client else None,
            certificate_chain=client.cert.read_bytes() if client else None)
        options = [("grpc.ssl_target_name_override", override)] if override else []
        channel = grpc.secure_channel(target, creds, options=options)
    with channel:
        return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=15).status


def cli(*args, env=None, timeout=WAIT):
    base = cli_environment(**(env or {}))
    return subprocess.run([str(aimass_binary("aimass")), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=base, stdin=subprocess.DEVNULL)


def wait_until(what, predicate, timeout=WAIT):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)
        time.sleep(0.2)


def pool_workers(target, token, tls_args):
    out = cli("pool", "--json", "--server", target, "--token", token, *tls_args)
    return json.loads(out.stdout)["workers"] if out.returncode == 0 else []


def test_tls_serve_with_grpcio_and_cli(tmp_path, pki):
    ca, server = pki["ca"], pki["server"]
    sp = serve(tmp_path / "data", "--tls-cert", server.cert, "--tls-key", server.key)
    try:
        assert health(sp.target, ca.cert_path) == health_pb2.HealthCheckResponse.SERVING
        token = admin_token(tmp_path / "data")
        # the CLI: --ca-file, and the same through AIMASS_CA_FILE
        out = cli("model", "list", "--server", sp.target, "--token", token, "--ca-file", ca.cert_path)
        assert out.returncode == 0, out.stderr
        out = cli("model", "list", "--server", f"localhost:{sp.port}", "--token", token,
                  env={"AIMASS_CA_FILE": str(ca.cert_path)})
        assert out.returncode == 0, out.stderr
        # the embedded worker joined its control plane (in-process) although the listener is TLS-only
        workers = wait_until("the embedded worker in the pool",
                             lambda: pool_workers(sp.target, token, ["--ca-file", ca.cert_path]))
        assert len(workers) == 1
        # a wrong CA: refused with a clear error
        out = cli("model", "list", "--server", sp.target, "--token", token, "--ca-file", pki["wrong"].cert_path)
        assert out.returncode != 0
        assert "does not chain to a trusted CA" in out.stderr, out.stderr
        # a plaintext client gets UNAVAILABLE, and the server is unharmed
        with pytest.raises(grpc.RpcError) as info:
            health(sp.target)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert health(sp.target, ca.cert_path) == health_pb2.HealthCheckResponse.SERVING
    finally:
        stop_server(sp)


def test_mutual_tls_requires_a_client_certificate(tmp_path, pki):
    ca, server, client = pki["ca"], pki["server"], pki["client"]
    sp = serve(tmp_path / "data", "--tls-cert", server.cert, "--tls-key", server.key, "--tls-client-ca", ca.cert_path)
    try:
        assert health(sp.target, ca.cert_path, client) == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as info:
            health(sp.target, ca.cert_path)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        # a client certificate from another CA is refused too
        stranger = pki["wrong"].issue("stranger", server=False)
        with pytest.raises(grpc.RpcError) as info:
            health(sp.target, ca.cert_path, stranger)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        token = admin_token(tmp_path / "data")
        out = cli("model", "list", "--server", sp.target, "--token", token, "--ca-file", ca.cert_path,
                  "--cert-file", client.cert, "--key-file", client.key)
        assert out.returncode == 0, out.stderr
        out = cli("model", "list", "--server", sp.target, "--token", token,
                  env={"AIMASS_CA_FILE": str(ca.cert_path), "AIMASS_CERT_FILE": str(client.cert),
                       "AIMASS_KEY_FILE": str(client.key)})
        assert out.returncode == 0, out.stderr
        config = tmp_path / "aimass.conf"  # the CLI's config file takes the same settings
        config.write_text(f"ca-file = {ca.cert_path}\ncert-file = {client.cert}\nkey-file = {client.key}\n")
        out = cli("model", "list", "--server", sp.target, "--token", token, env={"AIMASS_CONFIG": str(config)})
        assert out.returncode == 0, out.stderr
        out = cli("model", "list", "--server", sp.target, "--token", token, "--ca-file", ca.cert_path)
        assert out.returncode != 0
        assert "UNAVAILABLE" in out.stderr and "client certificate" in out.stderr, out.stderr
        assert "hint: check the TLS options" in out.stderr, out.stderr
        sp.assert_alive()
    finally:
        stop_server(sp)


def test_worker_joins_control_plane_over_mutual_tls(tmp_path, pki):
    ca, server, client = pki["ca"], pki["server"], pki["client"]
    cp = serve(tmp_path / "data", "--role", "control-plane", "--tls-cert", server.cert, "--tls-key", server.key,
               "--tls-client-ca", ca.cert_path, name="control-plane-tls")
    token = admin_token(tmp_path / "data")
    tls_args = ["--ca-file", ca.cert_path, "--cert-file", client.cert, "--key-file", client.key]
    workers = []
    try:
        # without a client certificate the worker cannot join
        lonely = start_server("worker-no-cert",
                              [aimass_binary("aimass"), "serve", "--role", "worker", "--join", cp.target, "--port", "0",
                               "--token", token, "--ca-file", ca.cert_path, "--tls-cert", server.cert,
                               "--tls-key", server.key],
                              r"aimass worker listening on (127\.0\.0\.1):(\d+)")
        workers.append(lonely)
        worker = start_server("worker-tls",
                              [aimass_binary("aimass"), "serve", "--role", "worker", "--join", cp.target, "--port", "0",
                               "--token", token, *tls_args, "--tls-cert", server.cert, "--tls-key", server.key,
                               "--tls-client-ca", ca.cert_path],
                              r"aimass worker listening on (127\.0\.0\.1):(\d+)")
        workers.append(worker)
        listed = wait_until("the mTLS worker in the pool", lambda: pool_workers(cp.target, token, tls_args))
        addresses = [w.get("address") for w in listed]
        assert f"127.0.0.1:{worker.port}" in addresses, listed
        assert f"127.0.0.1:{lonely.port}" not in addresses, listed
        # the worker's own listener is mTLS as well
        assert health(worker.target, ca.cert_path, client) == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError):
            health(worker.target, ca.cert_path)
    finally:
        for w in workers:
            stop_server(w, expect_alive=False)
        stop_server(cp)


@pytest.mark.parametrize("trigger", ["sighup", "file-change"])
def test_rotated_certificate_is_served_without_restart(tmp_path, pki, trigger):
    ca = pki["ca"]
    live = tmp_path / "live"
    live.mkdir()
    first = ca.issue("rotating", server=True, cert_path=live / "server.pem", key_path=live / "server.key")
    check_ms = "0" if trigger == "sighup" else "200"  # SIGHUP alone must do it when the files are not watched
    sp = serve(tmp_path / "data", "--tls-cert", first.cert, "--tls-key", first.key, "--tls-reload-check-ms", check_ms)
    try:
        assert peer_certificate_serial(sp.host, sp.port, ca.cert_path) == first.serial
        second = ca.issue("rotating", server=True, cert_path=live / "server.pem", key_path=live / "server.key")
        assert second.serial != first.serial
        if trigger == "sighup":
            sp.proc.send_signal(signal.SIGHUP)
        wait_until("a new connection to see the new certificate",
                   lambda: peer_certificate_serial(sp.host, sp.port, ca.cert_path) == second.serial)
        assert health(sp.target, ca.cert_path) == health_pb2.HealthCheckResponse.SERVING
        sp.assert_alive()
        # a broken replacement is refused and the last good certificate stays in service
        (live / "server.key").write_text("not a key\n")
        if trigger == "sighup":
            sp.proc.send_signal(signal.SIGHUP)
        wait_until("the failed reload in the log", lambda: "reload failed" in sp.stderr_path.read_text())
        assert peer_certificate_serial(sp.host, sp.port, ca.cert_path) == second.serial
    finally:
        stop_server(sp)


def test_tls_sessions_resume_until_the_certificate_is_reloaded(tmp_path, pki):
    """A reconnecting client resumes its TLS session (TLS 1.3 tickets, TLS 1.2 too) instead of a full handshake; a
    session from before a certificate reload is not resumed after it, so every new connection then gets the new
    certificate (and, with a client CA, the new CA's check)."""
    ca = pki["ca"]
    live = tmp_path / "live"
    live.mkdir()
    first = ca.issue("resumed", server=True, cert_path=live / "server.pem", key_path=live / "server.key")
    sp = serve(tmp_path / "data", "--tls-cert", first.cert, "--tls-key", first.key, "--tls-reload-check-ms", "0")
    try:
        sessions = {}
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            probe = SessionProbe(sp.host, sp.port, ca.cert_path, max_version=version)
            session, reused, negotiated, serial = probe.connect()
            assert (reused, negotiated, serial) == (False, version.name.replace("_", "."), first.serial)
            for _ in range(2):
                _, reused, _, serial = probe.connect(session)
                assert reused, f"{negotiated}: the session was not resumed"
                assert serial == first.serial
            sessions[version] = (probe, session)
        assert health(sp.target, ca.cert_path) == health_pb2.HealthCheckResponse.SERVING
        second = ca.issue("resumed", server=True, cert_path=live / "server.pem", key_path=live / "server.key")
        sp.proc.send_signal(signal.SIGHUP)
        wait_until("a new connection to see the new certificate",
                   lambda: peer_certificate_serial(sp.host, sp.port, ca.cert_path) == second.serial)
        for version, (probe, session) in sessions.items():
            _, reused, _, serial = probe.connect(session)
            assert (reused, serial) == (False, second.serial), f"{version.name}: resumed across a reload"
        sp.assert_alive()
    finally:
        stop_server(sp)


def test_plaintext_is_refused_beyond_loopback(tmp_path):
    out = cli("serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", tmp_path / "data")
    assert out.returncode != 0
    assert "refusing to serve plaintext on 0.0.0.0" in out.stderr and "--insecure" in out.stderr, out.stderr
    sp = serve(tmp_path / "data2", "--host", "0.0.0.0", "--insecure", ready=r"aimass listening on (0\.0\.0\.0):(\d+)")
    try:
        assert health(f"127.0.0.1:{sp.port}") == health_pb2.HealthCheckResponse.SERVING
    finally:
        stop_server(sp)


def test_bad_tls_files_fail_at_start(tmp_path, pki):
    out = cli("serve", "--port", "0", "--data-dir", tmp_path / "data", "--tls-cert", tmp_path / "missing.pem",
              "--tls-key", pki["server"].key)
    assert out.returncode != 0 and "missing.pem: does not exist" in out.stderr, out.stderr
    out = cli("serve", "--port", "0", "--data-dir", tmp_path / "data", "--tls-cert", pki["server"].cert,
              "--tls-key", pki["client"].key)
    assert out.returncode != 0 and "does the key match the certificate" in out.stderr, out.stderr
    out = cli("serve", "--port", "0", "--data-dir", tmp_path / "data", "--tls-cert", pki["server"].cert)
    assert out.returncode != 0 and "--tls-cert and --tls-key go together" in out.stderr, out.stderr
