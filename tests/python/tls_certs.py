"""Test PKI made at test time with `cryptography`: a CA, server certificates for localhost/127.0.0.1 (SAN) and
client certificates, written as PEM files. Nothing is shipped: each test session makes its own keys."""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = ("localhost", "foo.test.google.fr")  # the second is the name gRPC's interop harness overrides to
SERVER_IPS = ("127.0.0.1", "::1")


@dataclass
class Issued:
    cert: Path
    key: Path
    serial: int


class CertificateAuthority:
    """A CA that writes its certificate to DIR/NAME-ca.pem and issues leaf certificates into DIR."""

    def __init__(self, directory: Path, name: str = "test"):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"AI Mass {name} test CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.name = subject
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = self.dir / f"{name}-ca.pem"
        self.cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, stem: str, *, server: bool, names=SERVER_NAMES, ips=SERVER_IPS,
              cert_path: Path | None = None, key_path: Path | None = None) -> Issued:
        """A leaf for a server (SAN names and IPs, serverAuth) or a client (clientAuth); written atomically
        (temporary file + rename), as an operator rotating certificates would."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        serial = x509.random_serial_number()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, stem)]))
            .issuer_name(self.name).public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                  else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        )
        if server:
            sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        cert_path = cert_path or self.dir / f"{stem}.pem"
        key_path = key_path or self.dir / f"{stem}.key"
        _write_atomically(key_path, key.private_bytes(serialization.Encoding.PEM,
                                                      serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
        _write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        return Issued(cert=cert_path, key=key_path, serial=serial)


def _write_atomically(path: Path, data: bytes):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def peer_certificate_serial(host: str, port: int, ca: Path, server_name: str = "localhost",
                            timeout: float = 10.0, alpn: str = "h2") -> int:
    """Opens a new TLS connection (ALPN `alpn`) and returns the serial of the certificate the server presented."""
    import socket
    import ssl

    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.set_alpn_protocols([alpn])
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            der = tls.getpeercert(binary_form=True)
            assert tls.selected_alpn_protocol() == alpn, f"ALPN: {tls.selected_alpn_protocol()!r}"
    return x509.load_der_x509_certificate(der).serial_number


class SessionProbe:
    """TLS connections (ALPN h2) from one client context, which can offer a session to resume.

    Each `connect` sends the HTTP/2 preface and reads the server's first frame: a TLS 1.3 server sends its session
    tickets with its first write, so the session returned is resumable from then on."""

    PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # and an empty SETTINGS

    def __init__(self, host: str, port: int, ca: Path, *, max_version=None, server_name: str = "localhost",
                 timeout: float = 10.0):
        import ssl

        self.host, self.port, self.server_name, self.timeout = host, port, server_name, timeout
        self.context = ssl.create_default_context(cafile=str(ca))  # a session resumes only with the context it came from
        self.context.set_alpn_protocols(["h2"])
        if max_version is not None:
            self.context.maximum_version = max_version

    def connect(self, session=None):
        """(the session to offer next time, whether this one was resumed, the TLS version, the certificate's serial)."""
        import socket

        with socket.create_connection((self.host, self.port), timeout=self.timeout) as raw:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as gRPC clients do
            with self.context.wrap_socket(raw, server_hostname=self.server_name, session=session) as tls:
                tls.sendall(self.PREFACE)
                received = b""
                while len(received) < 9:  # the server's SETTINGS frame header
                    chunk = tls.recv(65536)
                    assert chunk, "the server closed the connection before its SETTINGS"
                    received += chunk
                der = tls.getpeercert(binary_form=True)
                return tls.session, tls.session_reused, tls.version(), x509.load_der_x509_certificate(der).serial_number
