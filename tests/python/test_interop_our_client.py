"""Every official interop client case run by our Swift client against the grpcio interop server."""

import subprocess

import pytest

from conftest import aimass_binary
from interop_client_cases import CASE_NAMES

CLIENT_TIMEOUT = 60


@pytest.mark.parametrize("case", CASE_NAMES)
def test_our_client_against_grpcio_server(case, python_interop_server):
    exe = aimass_binary("aimass-interop")
    argv = [str(exe), "client", "--server_host", python_interop_server.host,
            "--server_port", str(python_interop_server.port), "--test_case", case, "--use_tls=false"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=CLIENT_TIMEOUT,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(argv)} did not finish within {CLIENT_TIMEOUT}s\nstdout:\n{e.stdout}\n"
                    f"stderr:\n{e.stderr}", pytrace=False)
    assert r.returncode == 0, (f"{' '.join(argv)} exited {r.returncode}\n--- stderr ---\n{r.stderr}"
                               f"\n--- stdout ---\n{r.stdout}")
    python_interop_server.assert_alive()
