"""How `aimass serve` stops on signals. Ctrl-C in a terminal sends SIGINT to the whole foreground process group: a
server started by a script (`scripts/run.sh`, a supervisor's wrapper) gets it directly and, moments later, the SIGTERM
its script forwards. That is one request to stop, and the server drains and exits with status 0, not the forced exit
(status 1, `exiting without a complete shutdown`) that a second request during a long shutdown gets."""

import os
import signal

from conftest import start_aimass
from test_pool import wait_until

HANG_TIMEOUT = 120  # catches a hang only


def logged(sp, text: str) -> bool:
    """Whether the server has logged `text`; fails at once if it died meanwhile."""
    sp.assert_alive()
    return text in sp.stderr_path.read_text(errors="replace")


def test_sigint_then_forwarded_sigterm_is_one_graceful_stop(tmp_path):
    sp = start_aimass(tmp_path / "data", extra=["--http-port", "0"])
    try:
        wait_until("the server's signal handlers", lambda: logged(sp, "stops gracefully at SIGTERM or SIGINT"),
                   HANG_TIMEOUT)
        os.kill(sp.proc.pid, signal.SIGINT)
        os.kill(sp.proc.pid, signal.SIGTERM)
        assert sp.proc.wait(HANG_TIMEOUT) == 0, sp.report()
        log = sp.stderr_path.read_text(errors="replace")
        assert "exiting without a complete shutdown" not in log, sp.report()
        # A clean stop checkpoints SQLite's WAL into the database and removes it.
        assert not (tmp_path / "data" / "registry.sqlite-wal").exists()
    finally:
        sp.stop()
