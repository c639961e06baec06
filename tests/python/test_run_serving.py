"""The README's first command as a user runs it: `scripts/run.sh` with the release build (its default) and no
--demo-only, so after the demo it keeps serving until stopped. While it serves, a grpcio client gets
recommendations from it with the admin token; Ctrl-C then stops the server and the script exits cleanly. Ctrl-C
in a terminal sends SIGINT to the whole foreground process group, the server included, which then also gets the
SIGTERM the script forwards: one request to stop, not two (two would force an exit with status 1). scripts/test.sh
builds the release configuration first, so this builds nothing new; it catches what only optimised builds get wrong
(a protobuf-c struct packed from a copy did, once)."""

import os
import json
import re
import urllib.request
import signal
import socket
import subprocess
import threading
from pathlib import Path

import grpc
import pytest
from conftest import admin_token


REPO = Path(__file__).resolve().parents[2]


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.timeout(1900)
def test_run_script_keeps_serving_in_release_until_interrupted(tmp_path, recommend_pb):
    pb, pb_grpc = recommend_pb
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items()
           if k not in ("AIMASS_BUILD_CONFIG", "AIMASS_EXE", "AIMASS_SERVER", "AIMASS_TOKEN")}
    env.update(AIMASS_DATA_DIR=str(data), AIMASS_PORT="0", AIMASS_HTTP_PORT="0")
    script = subprocess.Popen([str(REPO / "scripts" / "run.sh")], cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
                              start_new_session=True)
    lines: list[str] = []
    serving = threading.Event()

    def read():
        for line in script.stdout:
            lines.append(line)
            if "keeps serving on" in line:
                serving.set()
        serving.set()  # the script exited: waiting longer would only delay the failure below

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        serving.wait(1800)
        assert any("keeps serving on" in line for line in lines), \
            f"run.sh (exit code {script.poll()}) never said it keeps serving:\n" + "".join(lines[-60:])
        output = "".join(lines)
        assert "/release/aimass" in output, "the demo did not use the release build"
        address = re.search(r"keeps serving on (\S+)\.", output).group(1)
        token = admin_token(data)
        with grpc.insecure_channel(address) as channel:
            response = pb_grpc.RecommendStub(channel).Recommend(
                pb.RecommendRequest(model="movielens-itemcf", user_id="42", k=5),
                metadata=[("authorization", f"Bearer {token}")], timeout=30)
        assert len(response.items) == 5 and response.served_by.worker_id
        # The printed console link logs in: its token (in the fragment) is accepted by the JSON API.
        link = re.search(r"(http://127\.0\.0\.1:(\d+)/)#token=(\S+)", output)
        assert link, "run.sh did not print the console's address:\n" + output[-2000:]
        request = urllib.request.Request(link.group(1) + "api/models",
                                         headers={"Authorization": f"Bearer {link.group(3)}"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert "movielens-itemcf" in [m["name"] for m in json.load(answer)["models"]]
        os.killpg(script.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the script and its server
        # A bound against hangs only. run.sh waits for the server to drain (up to its 5 s grace) before it exits
        # with the server's status.
        assert script.wait(timeout=300) == 0, "".join(lines[-40:])
        reader.join(timeout=60)
        assert not any("exited with status" in line for line in lines), "".join(lines[-40:])
        host, port = address.rsplit(":", 1)
        assert not listening(host, int(port)), "run.sh exited but its server still accepts connections"
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait()
