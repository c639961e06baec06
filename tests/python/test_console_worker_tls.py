"""The console over TLS and on a worker, against real processes: a control plane serving TLS (`--tls-cert`) whose
console is HTTPS with the same certificate (Python `requests` trusting only the test CA), and a worker that joins it
over TLS with `--http-port`, whose console is read-only: the pool, the models and the events come from the control
plane, "try it" and the Open Inference Protocol's REST form are served by the worker itself, and every write is a
405 saying where writes are done. A small interactions file stands in for MovieLens (this is about the console).
The console's HTTPS follows the gRPC listener's certificate reloads (SIGHUP, and the files changing)."""
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import admin_token, aimass_binary, cli_environment, start_server, stop_server
from test_console_browser import browser, shot, shots, text_of, wait  # noqa: F401 (fixtures)
from tls_certs import CertificateAuthority, peer_certificate_serial

MODEL = "tiny"
# Bounds that only catch hangs on a loaded 2-core machine.
TIMEOUT = 120
pytestmark = pytest.mark.timeout(600)


def interactions(path: Path) -> Path:
    """40 users who each rated a window of 10 of 30 items, windows overlapping (item-based CF finds neighbours)."""
    path.write_text("".join(f"{u}\t{(u * 3 + j) % 30}\t{1 + (u + j) % 5}\n" for u in range(1, 41) for j in range(10)))
    return path


class Setup:
    def __init__(self, tmp: Path):
        self.exe = aimass_binary("aimass")
        self.ca = CertificateAuthority(tmp / "pki")
        self.server_cert = self.ca.issue("server", server=True)
        data = tmp / "data"
        self.cp = start_server(
            "console-tls-cp",
            [self.exe, "serve", "--role", "control-plane", "--port", "0", "--http-port", "0", "--data-dir", data,
             "--tls-cert", self.server_cert.cert, "--tls-key", self.server_cert.key, "--ca-file", self.ca.cert_path],
            r"aimass console on https://(127\.0\.0\.1):(\d+)/")
        self.grpc = next(l for l in self.cp.stdout_lines if l.startswith("aimass listening on ")).split()[-1]
        self.token = admin_token(data)
        self.https = f"https://127.0.0.1:{self.cp.port}"
        self.worker = None
        try:
            self.worker = start_server(
                "console-worker",
                [self.exe, "serve", "--role", "worker", "--join", self.grpc, "--port", "0", "--http-port", "0",
                 "--token", self.token, "--ca-file", self.ca.cert_path, "--capacity-replicas", "2"],
                r"aimass console on http://(127\.0\.0\.1):(\d+)/")
            self.worker_grpc = next(
                l for l in self.worker.stdout_lines if l.startswith("aimass worker listening on ")).split()[-1]
            self.http = f"http://127.0.0.1:{self.worker.port}"
            self.cli("model", "create", MODEL, "--manifest", "algorithm=itemcf", "--manifest", "neighbours=10")
            self.cli("model", "upload", MODEL, interactions(tmp / "tiny.inter"))
            self.cli("deploy", "--model", MODEL, "--min", "1", "--max", "1")
            self.wait_ready()
        except BaseException:
            self.stop(expect_alive=False)
            raise

    def cli(self, *args):
        env = cli_environment(AIMASS_SERVER=self.grpc, AIMASS_TOKEN=self.token, AIMASS_CA_FILE=str(self.ca.cert_path))
        out = subprocess.run([str(self.exe), *map(str, args)], capture_output=True, text=True, env=env, timeout=TIMEOUT)
        assert out.returncode == 0, f"aimass {' '.join(map(str, args))}: {out.stderr}"
        return out

    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def wait_ready(self):
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            answer = requests.get(f"{self.https}/api/deployments?model={MODEL}", headers=self.headers(),
                                  verify=str(self.ca.cert_path), timeout=TIMEOUT).json()
            if any(r["state"] == "READY" for d in answer["deployments"] for r in d["replicas"]):
                return
            time.sleep(0.2)  # polling a condition, bounded by the deadline
        raise AssertionError(f"{MODEL} not ready: {json.dumps(answer)}")

    def stop(self, expect_alive=True):
        if self.worker:
            stop_server(self.worker, expect_alive=expect_alive)
        stop_server(self.cp, expect_alive=expect_alive)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    s = Setup(tmp_path_factory.mktemp("console-tls"))
    yield s
    s.stop()


def test_console_serves_https_with_the_servers_certificate(setup):
    ca = str(setup.ca.cert_path)
    page = requests.get(setup.https + "/", verify=ca, timeout=TIMEOUT)
    assert page.status_code == 200 and "AI Mass console" in page.text
    models = requests.get(setup.https + "/api/models", headers=setup.headers(), verify=ca, timeout=TIMEOUT)
    assert models.status_code == 200 and [m["name"] for m in models.json()["models"]] == [MODEL]
    assert requests.get(setup.https + "/v2/health/ready", verify=ca, timeout=TIMEOUT).status_code == 200
    # The gateway reaches the gRPC port over TLS with the caller's token: authorization is unchanged.
    assert requests.get(setup.https + "/api/models", verify=ca, timeout=TIMEOUT).status_code == 401
    # It is the test CA's certificate: without that CA the client refuses it; plaintext HTTP gets no answer.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(setup.https + "/", timeout=TIMEOUT)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{setup.cp.port}/", timeout=TIMEOUT)


def test_tritonclient_http_over_https(setup):
    """NVIDIA's tritonclient.http with ssl=True and the test CA on the HTTPS console of the control plane, which
    holds no replica itself (role control-plane): health, metadata, a model that is not ready *here*, and infer."""
    import numpy as np
    import tritonclient.http as triton
    from tritonclient.utils import InferenceServerException
    client = triton.InferenceServerClient(url=f"127.0.0.1:{setup.cp.port}", ssl=True,
                                          ssl_options={"ca_certs": str(setup.ca.cert_path)},
                                          network_timeout=TIMEOUT, connection_timeout=TIMEOUT)
    try:
        assert client.is_server_live() and client.is_server_ready()
        assert client.get_model_metadata(MODEL, headers=setup.headers())["name"] == MODEL
        assert not client.is_model_ready(MODEL, headers=setup.headers())
        # Infer still answers there (with no ready replica here the server loads the model from its registry), binary
        # tensors both ways (the client's default).
        users = triton.InferInput("user_id", [2], "BYTES")
        users.set_data_from_numpy(np.array([b"1", b"2"], dtype=np.object_))
        result = client.infer(MODEL, [users], headers=dict(setup.headers()))
        assert result.as_numpy("item_ids").shape == (2, 10) and result.as_numpy("scores").shape == (2, 10)
        assert all(o["parameters"]["binary_data_size"] > 0 for o in result.get_response()["outputs"])
        with pytest.raises(InferenceServerException) as raised:
            client.infer(MODEL, [users])
        assert raised.value.status() == "401"
    finally:
        client.close()


def test_worker_console_shows_the_pool_read_only(setup):
    get = lambda path: requests.get(setup.http + path, headers=setup.headers(), timeout=TIMEOUT)  # noqa: E731
    info = requests.get(setup.http + "/api/console", timeout=TIMEOUT).json()
    assert info == {"role": "worker", "worker_address": setup.worker_grpc, "read_only": True}
    assert requests.get(setup.https + "/api/console", verify=str(setup.ca.cert_path), timeout=TIMEOUT).json() == {
        "role": "control-plane", "read_only": False}
    # Read from the control plane (over TLS) with the caller's token.
    pool = get("/api/pool")
    assert pool.status_code == 200, pool.text
    mine = [w for w in pool.json()["workers"] if w["address"] == setup.worker_grpc]
    assert len(mine) == 1 and [r["state"] for r in mine[0]["replicas"]] == ["READY"]
    assert get("/api/models").json()["models"][0]["name"] == MODEL
    assert requests.get(setup.http + "/api/pool", timeout=TIMEOUT).status_code == 401
    # Served by this worker.
    answer = requests.post(setup.http + "/api/recommend", json={"model": MODEL, "user_id": "1", "k": 3},
                           headers=setup.headers(), timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["items"]) == 3 and answer.json()["served_by"]["worker_id"] == mine[0]["id"]
    infer = requests.post(setup.http + f"/v2/models/{MODEL}/infer", headers=setup.headers(), timeout=TIMEOUT, json={
        "inputs": [{"name": "user_id", "datatype": "BYTES", "shape": [1], "data": ["1"]}]})
    assert infer.status_code == 200 and infer.json()["outputs"][0]["shape"] == [1, 10], infer.text
    # Every write is refused, saying where to go, before any call (the admin token could do them elsewhere).
    deployment = pool.json()["workers"][0]["replicas"][0]["deployment_id"]
    writes = [("POST", "/api/models", {"name": "other"}),
              ("POST", f"/api/models/{MODEL}/versions?sha256=00", None),
              ("PUT", f"/api/models/{MODEL}/aliases/production", {"version": 1}),
              ("PUT", f"/api/models/{MODEL}/permissions", {"principal": "user:x", "role": "READER"}),
              ("POST", "/api/deployments", {"model": MODEL}),
              ("POST", f"/api/deployments/{deployment}/scale", {"desired_replicas": 2}),
              ("DELETE", f"/api/deployments/{deployment}", None),
              ("POST", f"/api/workers/{mine[0]['id']}/drain", {}),
              ("POST", "/api/evaluate", {"model": MODEL})]
    for method, path, body in writes:
        response = requests.request(method, setup.http + path, json=body, headers=setup.headers(), timeout=TIMEOUT)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["Allow"] == "GET"
        assert "read-only" in response.json()["message"] and "control plane" in response.json()["message"]
    # Nothing changed.
    assert [m["name"] for m in get("/api/models").json()["models"]] == [MODEL]
    assert [d["desired_replicas"] for d in get("/api/deployments").json()["deployments"]] == [1]


def test_worker_console_page_shows_that_worker_read_only(setup, browser, shots):
    """The page in headless Chromium: the header says which worker and read-only; the pool view has its card and
    replica, and no deploy, scale or drain control even for the admin token."""
    from selenium.webdriver.common.by import By
    browser.get(setup.http + "/#token=" + setup.token)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-model="{MODEL}"]'), "the models page")
    assert text_of(browser, "#console-role") == f"worker {setup.worker_grpc} · read-only"
    assert not browser.find_elements(By.ID, "create-form")
    browser.execute_script("location.hash = '#/pool'")

    def one_card(d):
        # One wait for all of it: the page redraws the card on every pool event, and text_of reads "" meanwhile (a
        # read after the wait once met the redraw and failed).
        text = text_of(d, "#workers .worker")
        return (len(d.find_elements(By.CSS_SELECTOR, "#workers .worker")) == 1 and "READY" in text
                and setup.worker_grpc in text and f"{MODEL}@v1" in text
                and d.find_elements(By.CSS_SELECTOR, "#deployments-table"))
    wait(browser, one_card, f"the worker's one card, with its address and its ready replica of {MODEL}@v1")
    assert not browser.find_element(By.ID, "deploy-card").is_displayed()
    assert not browser.find_elements(By.CSS_SELECTOR, ".scale-form") and not browser.find_elements(By.CSS_SELECTOR, "#workers button")
    shot(browser, shots, "11-worker-pool")
    browser.execute_script(f"location.hash = '#/models/{MODEL}'")
    wait(browser, lambda d: "read-only console of worker" in text_of(d, "#read-only"), "the model page, read-only")
    assert not browser.find_elements(By.ID, "alias-form") and not browser.find_elements(By.ID, "upload-drop")
    shot(browser, shots, "12-worker-model")


@pytest.mark.parametrize("trigger", ["sighup", "file-change"])
def test_console_https_serves_a_rotated_certificate_without_restart(tmp_path, trigger):
    """The certificate files are replaced while the server runs: after SIGHUP (files not watched) or by the file
    watch alone, a new HTTPS connection to the console gets the new certificate (as a new gRPC connection does), and
    a broken replacement leaves the last good one in service."""
    ca = CertificateAuthority(tmp_path / "pki")
    live = tmp_path / "live"
    live.mkdir()
    first = ca.issue("rotating", server=True, cert_path=live / "server.pem", key_path=live / "server.key")
    check_ms = "0" if trigger == "sighup" else "200"
    server = start_server(
        "console-tls-reload",
        [aimass_binary("aimass"), "serve", "--port", "0", "--http-port", "0", "--data-dir", tmp_path / "data",
         "--tls-cert", first.cert, "--tls-key", first.key, "--ca-file", ca.cert_path, "--tls-reload-check-ms", check_ms],
        r"aimass console on https://(127\.0\.0\.1):(\d+)/")
    grpc_port = int(next(l for l in server.stdout_lines if l.startswith("aimass listening on ")).rsplit(":", 1)[1])
    https = f"https://127.0.0.1:{server.port}"
    token = admin_token(tmp_path / "data")
    console_serial = lambda: peer_certificate_serial("127.0.0.1", server.port, ca.cert_path, alpn="http/1.1")  # noqa: E731
    grpc_serial = lambda: peer_certificate_serial("127.0.0.1", grpc_port, ca.cert_path)  # noqa: E731

    def wait_for(what, predicate):
        deadline = time.monotonic() + TIMEOUT
        while not predicate():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.2)  # polling a condition, bounded by the deadline

    try:
        assert console_serial() == first.serial == grpc_serial()
        second = ca.issue("rotating", server=True, cert_path=live / "server.pem", key_path=live / "server.key")
        assert second.serial != first.serial
        if trigger == "sighup":
            server.proc.send_signal(signal.SIGHUP)
        wait_for("a new HTTPS connection to get the new certificate", lambda: console_serial() == second.serial)
        assert grpc_serial() == second.serial  # the same reload, on both listeners
        # The console works on the new certificate: the page, and the gateway's call over TLS with the token.
        models = requests.get(https + "/api/models", headers={"Authorization": f"Bearer {token}"},
                              verify=str(ca.cert_path), timeout=TIMEOUT)
        assert models.status_code == 200 and models.json()["models"] == [], models.text
        # A broken replacement is refused; both listeners keep serving the last good certificate.
        (live / "server.key").write_text("not a key\n")
        if trigger == "sighup":
            server.proc.send_signal(signal.SIGHUP)
        wait_for("the failed reload in the log", lambda: "reload failed" in server.stderr_path.read_text())
        assert console_serial() == second.serial
        assert requests.get(https + "/", verify=str(ca.cert_path), timeout=TIMEOUT).status_code == 200
        server.assert_alive()
    finally:
        stop_server(server)
