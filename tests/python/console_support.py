"""A real `aimass serve --http-port 0` with MovieLens-100k uploaded and deployed, for the console's tests.

The server is set up through the CLI (gRPC), so what the console shows is checked against data it did not write:
model `movielens` v1 (ML-100k, itemcf), alias `production` → v1 with a deployment that follows the alias, and a
second user `reader` who holds the READER role on the model, and a group `editors` (member `ana`, not `reader`). Tokens: the admin token of the data directory, and
the reader's (made with `aimass token create --offline` before the server starts)."""
import http.client
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import admin_token, aimass_binary, cli_environment, start_server, stop_server
from test_pool import DATA, ensure_ml100k

MODEL = "movielens"
# Bounds that only catch hangs: a deployment on a loaded 2-core machine can take a while to load ML-100k.
READY_TIMEOUT = 300
HTTP_TIMEOUT = 120


@dataclass
class Console:
    server: object
    http_port: int
    grpc_target: str
    admin_token: str
    reader_token: str
    data_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    def cli(self, *args, check=True, timeout=HTTP_TIMEOUT):
        env = cli_environment(AIMASS_SERVER=self.grpc_target, AIMASS_TOKEN=self.admin_token)
        out = subprocess.run([str(aimass_binary("aimass")), *map(str, args)], capture_output=True, text=True,
                             env=env, timeout=timeout)
        if check and out.returncode != 0:
            raise AssertionError(f"aimass {' '.join(map(str, args))} failed ({out.returncode}):\n{out.stderr}")
        return out

    def request(self, method, path, body=None, token="admin", headers=None, raw=None):
        """One HTTP request; returns (status, parsed JSON or None, response headers)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=HTTP_TIMEOUT)
        all_headers = dict(headers or {})
        if token == "admin":
            token = self.admin_token
        elif token == "reader":
            token = self.reader_token
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        parsed = None
        if response.getheader("Content-Type", "").startswith("application/json"):
            parsed = json.loads(data)
        return response.status, parsed, dict(response.getheaders())

    def wait_ready(self, model=MODEL, version=None):
        """Waits (bounded) until a deployment of `model` has every desired replica READY (of `version`)."""
        deadline = time.monotonic() + READY_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            status, body, _ = self.request("GET", f"/api/deployments?model={model}")
            assert status == 200, body
            last = body["deployments"]
            for d in last:
                ready = [r for r in d["replicas"] if r["state"] == "READY"]
                if (d["state"] == "READY" and ready and len(ready) == d["desired_replicas"]
                        and (version is None or all(r["version"] == version for r in ready))):
                    return d
            time.sleep(0.2)  # polling a condition, bounded by the deadline above
        raise AssertionError(f"{model} not ready within {READY_TIMEOUT}s: {json.dumps(last, indent=1)}")


def start_console(tmp_path: Path, extra=()) -> Console:
    """`aimass serve` with its console (`--http-port 0`) and `extra` flags, MovieLens deployed (see below)."""
    ensure_ml100k()
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    made = subprocess.run([str(exe), "token", "create", "--user", "reader", "--offline", "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=HTTP_TIMEOUT)
    assert made.returncode == 0, made.stderr
    reader_token = made.stdout.strip().splitlines()[-1]
    # A group the reader is not in (groups are made offline): a role granted to it must not show as the reader's.
    grouped = subprocess.run([str(exe), "token", "group", "editors", "--member", "ana", "--data-dir", str(data)],
                             capture_output=True, text=True, timeout=HTTP_TIMEOUT)
    assert grouped.returncode == 0, grouped.stderr
    server = start_server("aimass-console", [exe, "serve", "--port", "0", "--http-port", "0", "--data-dir", data,
                                             *extra],
                          r"aimass console on http://(127\.0\.0\.1):(\d+)/")
    grpc_line = next(line for line in server.stdout_lines if line.startswith("aimass listening on "))
    console = Console(server=server, http_port=server.port, grpc_target=grpc_line.split()[-1],
                      admin_token=admin_token(data), reader_token=reader_token,
                      data_dir=data)
    try:
        console.cli("model", "create", MODEL, "--description", "MovieLens-100k, item-based CF", "--tag", "movies",
                    "--manifest", "algorithm=itemcf", "--manifest", "neighbours=20")
        console.cli("model", "upload", MODEL, DATA, "--description", "ml-100k")
        console.cli("model", "alias", MODEL, "production", "1", "--reason", "first release")
        console.cli("model", "grant", MODEL, "user:reader", "reader")
        console.cli("deploy", "--model", MODEL, "--alias", "production", "--min", "1", "--max", "1")
        console.wait_ready()
    except BaseException:
        stop_server(server, expect_alive=False)
        raise
    return console


def stop_console(console: Console):
    stop_server(console.server)
