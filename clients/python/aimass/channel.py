"""The gRPC channel of a Client: plaintext or TLS (optionally mutual), and the token as call metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Tuple

import grpc


def make_channel(target: str, ca_file: Optional[str], cert_file: Optional[str], key_file: Optional[str], tls: bool,
                 options: Sequence) -> grpc.Channel:
    """A TLS channel when any of tls, ca_file, cert_file is given (files checked first), else a plaintext one."""
    credentials = _channel_credentials(ca_file, cert_file, key_file, tls)
    if credentials is None:
        return grpc.insecure_channel(target, options=list(options))
    return grpc.secure_channel(target, credentials, options=list(options))


def auth_metadata(token: Optional[str]) -> Tuple[Tuple[str, str], ...]:
    """`authorization: Bearer TOKEN`, or nothing without a token."""
    if token is None:
        return ()
    if not isinstance(token, str) or not token or token != token.strip() or any(c.isspace() for c in token) \
            or not token.isprintable() or not token.isascii():
        raise ValueError("token must be a non-empty string of printable ASCII without spaces")
    return (("authorization", f"Bearer {token}"),)


def _read_pem(path: Optional[str], what: str) -> Optional[bytes]:
    if path is None:
        return None
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{what} {file} does not exist or is not a file")
    data = file.read_bytes()
    if b"-----BEGIN " not in data:
        raise ValueError(f"{what} {file} is not PEM (no -----BEGIN line)")
    return data


def _channel_credentials(ca_file: Optional[str], cert_file: Optional[str], key_file: Optional[str],
                         tls: bool) -> Optional[grpc.ChannelCredentials]:
    if (cert_file is None) != (key_file is None):
        raise ValueError("cert_file and key_file go together: give both for mutual TLS, or neither")
    if not (tls or ca_file or cert_file):
        return None
    return grpc.ssl_channel_credentials(root_certificates=_read_pem(ca_file, "ca_file"),
                                        private_key=_read_pem(key_file, "key_file"),
                                        certificate_chain=_read_pem(cert_file, "cert_file"))
