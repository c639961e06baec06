"""The official interop cases over TLS (ALPN h2), both ways against grpcio, with the harness's flags:
`aimass-interop server --use_tls=true --tls-cert F --tls-key F` and
`aimass-interop client --use_tls=true --ca-file F --server_host_override NAME`. Certificates are made at test time
(tls_certs.py). Also: a wrong CA, plaintext against TLS, and a TLS peer without ALPN h2 are refused with a clear
error, and the server stays up."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import HERE, aimass_binary, start_server, stop_server
from interop_client_cases import CASE_NAMES, TLSTarget, run_case
from tls_certs import CertificateAuthority

CLIENT_TIMEOUT = 60
OVERRIDE = "foo.test.google.fr"  # the name gRPC's interop harness passes as --server_host_override


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority(d / "ca", "interop")
    server = ca.issue("server", server=True)
    wrong = CertificateAuthority(d / "wrong", "other")
    ca.client = ca.issue("client", server=False)
    return ca, server, wrong


@pytest.fixture(scope="module")
def tls_interop_server(pki):
    _, server, _ = pki
    sp = start_server("aimass-interop-tls",
                      [aimass_binary("aimass-interop"), "server", "--port", "0", "--use_tls=true",
                       "--tls-cert", server.cert, "--tls-key", server.key],
                      r"aimass-interop listening on (127\.0\.0\.1):(\d+)")
    yield sp
    stop_server(sp)


@pytest.fixture(scope="module")
def python_tls_interop_server(pki, stubs_dir):
    _, server, _ = pki
    sp = start_server("python-interop-tls",
                      [sys.executable, HERE / "interop_server.py", "--port", "0", "--stubs-dir", stubs_dir,
                       "--use_tls=true", "--tls-cert", server.cert, "--tls-key", server.key],
                      r"python-interop listening on (127\.0\.0\.1):(\d+)")
    yield sp
    stop_server(sp)


def run_our_client(server, case, *tls_args):
    argv = [str(aimass_binary("aimass-interop")), "client", "--server_host", server.host,
            "--server_port", str(server.port), "--test_case", case, *map(str, tls_args)]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=CLIENT_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(argv)} did not finish within {CLIENT_TIMEOUT}s\nstderr:\n{e.stderr}", pytrace=False)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_grpcio_tls_client_against_our_tls_server(case, tls_interop_server, pki, stubs):
    ca, _, _ = pki
    run_case(case, TLSTarget(tls_interop_server.target, str(ca.cert_path), OVERRIDE), stubs)
    tls_interop_server.assert_alive()


@pytest.mark.parametrize("case", CASE_NAMES)
def test_our_tls_client_against_grpcio_tls_server(case, python_tls_interop_server, pki):
    ca, _, _ = pki
    r = run_our_client(python_tls_interop_server, case, "--use_tls=true", "--ca-file", ca.cert_path,
                       "--server_host_override", OVERRIDE)
    assert r.returncode == 0, f"{case} exited {r.returncode}\n--- stderr ---\n{r.stderr}\n--- stdout ---\n{r.stdout}"
    assert f"{case}: PASSED" in r.stdout
    python_tls_interop_server.assert_alive()


def test_our_client_refuses_a_server_signed_by_another_ca(python_tls_interop_server, pki):
    _, _, wrong = pki
    r = run_our_client(python_tls_interop_server, "empty_unary", "--use_tls=true", "--ca-file", wrong.cert_path,
                       "--server_host_override", OVERRIDE)
    assert r.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in r.stderr and "does not chain to a trusted CA" in r.stderr, r.stderr


def test_our_client_refuses_a_certificate_for_another_name(python_tls_interop_server, pki):
    ca, _, _ = pki
    r = run_our_client(python_tls_interop_server, "empty_unary", "--use_tls=true", "--ca-file", ca.cert_path,
                       "--server_host_override", "not-the-server.example")
    assert r.returncode != 0
    assert "TLS handshake failed" in r.stderr, r.stderr


def test_grpcio_with_another_ca_is_refused_and_server_stays_up(tls_interop_server, pki, stubs):
    ca, _, wrong = pki
    creds = grpc.ssl_channel_credentials(root_certificates=wrong.cert_path.read_bytes())
    with grpc.secure_channel(tls_interop_server.target, creds,
                             options=[("grpc.ssl_target_name_override", OVERRIDE)]) as ch:
        with pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    run_case("empty_unary", TLSTarget(tls_interop_server.target, str(ca.cert_path), OVERRIDE), stubs)


def test_plaintext_client_against_tls_server_fails_cleanly(tls_interop_server, pki, stubs):
    with grpc.insecure_channel(tls_interop_server.target) as ch:
        with pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    ca, _, _ = pki
    run_case("empty_unary", TLSTarget(tls_interop_server.target, str(ca.cert_path), OVERRIDE), stubs)


def test_tls_client_without_h2_is_refused(tls_interop_server, pki):
    """A TLS client offering only http/1.1: the handshake may finish, but the server closes without a byte of
    HTTP/2 (it must not speak HTTP/2 to a peer that did not agree to it)."""
    ca, _, _ = pki
    ctx = ssl.create_default_context(cafile=str(ca.cert_path))
    ctx.set_alpn_protocols(["http/1.1"])
    with socket.create_connection((tls_interop_server.host, tls_interop_server.port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname=OVERRIDE) as tls:
                assert tls.selected_alpn_protocol() is None
                tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                assert tls.recv(1024) == b"", "the server answered a peer that did not negotiate h2"
        except (ssl.SSLError, ConnectionResetError):
            pass  # refused during the handshake: as good
    tls_interop_server.assert_alive()


def test_our_client_refuses_a_tls_server_without_h2(pki):
    """A TLS server that selects no ALPN protocol: our client reports that h2 was not negotiated."""
    ca, server, _ = pki
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(server.cert, server.key)
    ctx.set_alpn_protocols(["http/1.1"])
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_one():
        listener.settimeout(CLIENT_TIMEOUT)
        try:
            conn, _ = listener.accept()
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(CLIENT_TIMEOUT)
                tls.recv(1024)
        except (OSError, ssl.SSLError):
            pass

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()
    argv = [str(aimass_binary("aimass-interop")), "client", "--server_host", "127.0.0.1", "--server_port", str(port),
            "--test_case", "empty_unary", "--use_tls=true", "--ca-file", str(ca.cert_path),
            "--server_host_override", OVERRIDE]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=CLIENT_TIMEOUT, stdin=subprocess.DEVNULL)
    listener.close()
    thread.join(CLIENT_TIMEOUT)
    assert r.returncode != 0
    assert 'did not negotiate ALPN "h2"' in r.stderr, r.stderr


def test_use_tls_needs_certificate_files():
    r = subprocess.run([str(aimass_binary("aimass-interop")), "server", "--port", "0", "--use_tls=true"],
                       capture_output=True, text=True, timeout=CLIENT_TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode != 0 and "--tls-cert and --tls-key" in r.stderr, r.stderr


@pytest.fixture(scope="module")
def mtls_interop_server(pki):
    ca, server, _ = pki
    sp = start_server("aimass-interop-mtls",
                      [aimass_binary("aimass-interop"), "server", "--port", "0", "--use_tls=true",
                       "--tls-cert", server.cert, "--tls-key", server.key, "--tls-client-ca", ca.cert_path],
                      r"aimass-interop listening on (127\.0\.0\.1):(\d+)")
    yield sp
    stop_server(sp)


@pytest.mark.parametrize("case", ["large_unary", "client_compressed_streaming", "ping_pong"])
def test_grpcio_with_client_certificate_against_our_mtls_server(case, mtls_interop_server, pki, stubs):
    ca, _, _ = pki
    target = TLSTarget(mtls_interop_server.target, str(ca.cert_path), OVERRIDE,
                       client_cert=str(ca.client.cert), client_key=str(ca.client.key))
    run_case(case, target, stubs)


def test_mtls_server_refuses_clients_without_certificate(mtls_interop_server, pki, stubs):
    ca, _, _ = pki
    creds = grpc.ssl_channel_credentials(root_certificates=ca.cert_path.read_bytes())
    with grpc.secure_channel(mtls_interop_server.target, creds,
                             options=[("grpc.ssl_target_name_override", OVERRIDE)]) as ch:
        with pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    r = run_our_client(mtls_interop_server, "empty_unary", "--use_tls=true", "--ca-file", ca.cert_path,
                       "--server_host_override", OVERRIDE)
    assert r.returncode != 0 and "requires a client certificate" in r.stderr, r.stderr
    r = run_our_client(mtls_interop_server, "large_unary", "--use_tls=true", "--ca-file", ca.cert_path,
                       "--server_host_override", OVERRIDE, "--cert-file", ca.client.cert, "--key-file", ca.client.key)
    assert r.returncode == 0, r.stderr
    mtls_interop_server.assert_alive()
