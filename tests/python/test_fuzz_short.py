"""Short libFuzzer runs of every fuzz target (scripts/fuzz.sh 15 all): the deframer with the interop and health
decoders, the aimass.v1 request decoders, and the server's header path.

It builds the `fuzz-*` targets with -sanitize=fuzzer,address in .build-fuzz (a separate scratch path:
the first run compiles every dependency again, a few minutes on 2 cores) and fuzzes each for
15 s. Any crash, sanitizer report or failed invariant makes libFuzzer exit non-zero.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_AND_RUN_TIMEOUT = 1200  # a cold build of SwiftNIO & co. with ASan, plus three 15 s runs


@pytest.mark.timeout(BUILD_AND_RUN_TIMEOUT + 30)
def test_fuzz_every_target_15s():
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "fuzz.sh"), "15", "all"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_AND_RUN_TIMEOUT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"fuzz.sh exited {result.returncode}:\n{output[-6000:]}"
    # libFuzzer really ran (and did not, say, only print its help).
    assert "Done " in output and " runs in " in output, output[-3000:]
    for target in ("deframer", "messages", "headers"):
        assert f"== fuzz-{target}" in output, output[-3000:]
    runs = [line for line in output.splitlines() if line.startswith("stat::number_of_executed_units:")]
    assert len(runs) == 3 and all(int(line.split(":")[-1]) > 1000 for line in runs), output[-3000:]
