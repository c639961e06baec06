"""Every official interop client case, with grpcio as the client, against our Swift server."""

import pytest

from interop_client_cases import CASE_NAMES, run_case


@pytest.mark.parametrize("case", CASE_NAMES)
def test_grpcio_client_against_our_server(case, interop_server, stubs):
    interop_server.assert_alive()
    run_case(case, interop_server.target, stubs)
    interop_server.assert_alive()
