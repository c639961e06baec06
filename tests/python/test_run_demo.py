"""The README's first command, `scripts/run.sh`, run with --demo-only in a temporary data directory:
it must upload and deploy both models, print an evaluation line, similar dishes and recommendations obtained
over gRPC, and a second run must not duplicate anything. It runs the build under test (AIMASS_BIN_DIR, given to
run.sh as AIMASS_EXE) instead of having run.sh build: test_run_serving.py runs run.sh whole, its build included."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import admin_token, aimass_binary

REPO = Path(__file__).resolve().parents[2]


def _run(data_dir: Path) -> str:
    env = dict(os.environ, AIMASS_DATA_DIR=str(data_dir), AIMASS_PORT="0", AIMASS_HTTP_PORT="0",
               AIMASS_EXE=str(aimass_binary("aimass")))
    r = subprocess.run([str(REPO / "scripts" / "run.sh"), "--demo-only"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"run.sh failed ({r.returncode})\n--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"
    return r.stdout + r.stderr


@pytest.mark.timeout(1900)
def test_run_script_demo_then_rerun_is_safe(tmp_path):
    out = _run(tmp_path / "data")
    token = admin_token(tmp_path / "data")
    assert re.search(r"== Web console: http://127\.0\.0\.1:\d+/#token=" + re.escape(token) + "$", out, re.M), out[:2000]
    assert "uploaded dishes version 1" in out
    assert "uploaded movielens-itemcf version 1" in out
    assert "== dishes: deployed, replica ready" in out
    assert "== movielens-itemcf: deployed, replica ready" in out
    assert re.search(r"served by worker-\S+, version 1", out), "recommendations were not served by a deployed replica"
    evaluation = re.search(r"evaluated movielens-itemcf v1: .*loo\.hr@10=(\d\.\d+)", out)
    assert evaluation, out
    assert 0.0 < float(evaluation.group(1)) < 1.0
    similar = out.split("== dishes related to kung_pao_chicken", 1)[1]
    assert re.search(r"^1\s+\w+\s+0\.\d+", similar, re.M), similar
    movies = out.split("== top 10 movies for MovieLens user 196", 1)[1]
    ranks = re.findall(r"^(\d+)\s+(\d+)\s+(\S.*\(\d{4}\))\s+(\d+\.\d+)$", movies, re.M)
    assert [int(r[0]) for r in ranks] == list(range(1, 11)), movies  # each with its title, "Name (Year)"
    assert "== demo done" in out

    again = _run(tmp_path / "data")
    assert "dishes: interactions.tsv is already uploaded" in again
    assert "movielens-itemcf: ml-100k.bundle is already uploaded" in again
    assert "version 2" not in again
    assert "ALREADY_EXISTS" not in again
