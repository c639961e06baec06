"""A control plane (`aimass serve --role control-plane`) with one worker (`--role worker`) joined to it, for tests
that need every role of `aimass serve`."""

from __future__ import annotations

import os
from contextlib import contextmanager

from conftest import aimass_binary, start_server, stop_server
from test_pool import cli


@contextmanager
def control_plane_with_worker(tmp_path):
    """Yields (control plane, worker, admin token, CLI environment pointed at the control plane)."""
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    cp = start_server("control-plane", [exe, "serve", "--role", "control-plane", "--port", "0", "--data-dir", data],
                      r"aimass listening on (127\.0\.0\.1):(\d+)")
    worker = None
    try:
        token = (data / "admin.token").read_text().strip()
        worker = start_server("worker", [exe, "serve", "--role", "worker", "--join", cp.target, "--port", "0",
                                         "--token", token], r"aimass worker listening on (127\.0\.0\.1):(\d+)")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIMASS_")}
        env.update(AIMASS_SERVER=cp.target, AIMASS_TOKEN=token)
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
