"""A short libFuzzer run of the deframer/protobuf decoding target (scripts/fuzz.sh 20).

It builds `fuzz-deframer` with -sanitize=fuzzer,address in .build-fuzz (a separate scratch path:
the first run compiles every dependency again, about a minute or two on 2 cores) and fuzzes for
20 s. Any crash, sanitizer report or failed invariant makes libFuzzer exit non-zero.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_AND_RUN_TIMEOUT = 900  # a cold build of SwiftNIO & co. with ASan, plus the 20 s run


@pytest.mark.timeout(BUILD_AND_RUN_TIMEOUT + 30)
def test_fuzz_deframer_20s():
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "fuzz.sh"), "20"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_AND_RUN_TIMEOUT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"fuzz.sh exited {result.returncode}:\n{output[-6000:]}"
    # libFuzzer really ran (and did not, say, only print its help).
    assert "Done " in output and " runs in " in output, output[-3000:]
    runs = [line for line in output.splitlines() if line.startswith("stat::number_of_executed_units:")]
    assert runs and int(runs[-1].split(":")[-1]) > 1000, output[-3000:]
