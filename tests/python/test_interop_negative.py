"""Negative tests: against a deliberately broken grpcio server (interop_server.py --broken: sizes off
by one, no metadata echo, status messages cut short, inverted compression, ignored compression
expectations, an extra stream response, UnimplementedCall implemented), each case must FAIL, both
our Python cases (so this harness really asserts) and our Swift client (so it does not exit 0
regardless).

cancel_after_begin and timeout_on_sleeping_server are left out: their outcome is decided by the
client alone, so no server misbehaviour can make them fail.
"""

import subprocess

import grpc
import pytest

from conftest import aimass_binary
from interop_client_cases import CASE_NAMES, run_case

CLIENT_DECIDED = {"cancel_after_begin", "timeout_on_sleeping_server"}
NEGATIVE_CASES = [c for c in CASE_NAMES if c not in CLIENT_DECIDED]


@pytest.mark.parametrize("case", NEGATIVE_CASES)
def test_python_case_fails_against_broken_server(case, broken_python_interop_server, stubs):
    with pytest.raises((AssertionError, grpc.RpcError)):
        run_case(case, broken_python_interop_server.target, stubs)
    broken_python_interop_server.assert_alive()


@pytest.mark.parametrize("case", NEGATIVE_CASES)
def test_our_client_fails_against_broken_server(case, broken_python_interop_server):
    exe = aimass_binary("aimass-interop")
    argv = [str(exe), "client", "--server_host", broken_python_interop_server.host,
            "--server_port", str(broken_python_interop_server.port), "--test_case", case, "--use_tls=false"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode != 0, (f"{' '.join(argv)} exited 0 against a broken server\n--- stdout ---\n{r.stdout}"
                               f"\n--- stderr ---\n{r.stderr}")
    assert r.stderr.strip(), f"{case}: non-zero exit ({r.returncode}) but nothing on stderr"
