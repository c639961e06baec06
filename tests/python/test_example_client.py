"""examples/python/client.py, run as a user would, against `aimass serve --port 0 --data-dir TMP`.

The client uses the `aimass` package (clients/python, installed in .venv by scripts/venv.sh), reads the admin
token from the data directory, creates a model, uploads the dish interactions in chunks, deploys it on the
local worker, asks SimilarItems and Recommend (served by the replica), and watches Mesh/Watch.
"""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO_ROOT, start_aimass, stop_server

CLIENT = REPO_ROOT / "examples" / "python" / "client.py"
DISHES = {line.split("\t")[1] for line in (REPO_ROOT / "examples" / "dishes" / "interactions.tsv").read_text()
          .splitlines()[1:] if line.strip()}


def run_client(sp, data_dir, *extra):
    return subprocess.run([sys.executable, str(CLIENT), "--server", sp.target, "--data-dir", str(data_dir),
                           "--watch-seconds", "2", *extra],
                          cwd=str(CLIENT.parent), capture_output=True, text=True, timeout=180)


def similar_dishes(stdout: str) -> list:
    lines = stdout.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("similar to kung_pao_chicken"))
    items = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        items.append(line.split()[1])
    return items


def test_example_client_uploads_recommends_and_watches(tmp_path):
    data = tmp_path / "data"
    sp = start_aimass(data)
    try:
        out = run_client(sp, data, "--deploy")
        assert out.returncode == 0, f"client.py failed:\n{out.stdout}\n{out.stderr}"
        assert "uploaded interactions.tsv: version 1" in out.stdout, out.stdout
        similar = similar_dishes(out.stdout)
        assert len(similar) == 5 and set(similar) <= DISHES and "kung_pao_chicken" not in similar, out.stdout
        assert "recommended for alice" in out.stdout, out.stdout
        assert "deployed dishes-python@1" in out.stdout and "DEPLOYMENT_STATE_READY" in out.stdout, out.stdout
        assert "served by worker-" in out.stdout, out.stdout  # answered by the deployed replica
        assert "EVENT_KIND_SNAPSHOT" in out.stdout and "Mesh/Watch: " in out.stdout, out.stdout

        # Re-running is safe: the model is reused and a second version uploaded.
        again = run_client(sp, data, "--watch-events", "0")
        assert again.returncode == 0, f"second run failed:\n{again.stdout}\n{again.stderr}"
        assert "exists; adding a version" in again.stdout and "version 2" in again.stdout, again.stdout
        assert similar_dishes(again.stdout) == similar
        sp.assert_alive()
    finally:
        stop_server(sp)


def test_example_client_without_token_says_how_to_get_one(tmp_path):
    out = subprocess.run([sys.executable, str(CLIENT), "--server", "127.0.0.1:1", "--data-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode != 0 and "--token" in out.stderr, out.stderr
