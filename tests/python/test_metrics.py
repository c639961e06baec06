"""Prometheus metrics (`aimass serve --metrics-port`), JSON logs and the access log, as an operator sees them.

An embedded server and a pool (control plane + worker) each serve /metrics; after N Recommend calls from grpcio,
`promtool check metrics` (Debian's `prometheus` package) accepts every role's exposition, the gRFC A66 server
histogram counts exactly the N calls, and the `aimass_*` series of the deployed model exist with the right counts.
A real Prometheus server then scrapes the pool and answers a per-model request rate and a p99 through its HTTP API.

Needs AIMASS_BIN_DIR; promtool and prometheus (scripts/install-deps.sh installs them)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import grpc
import pytest
import yaml

from conftest import admin_token, aimass_binary, cli_environment, start_server, stop_server
from test_pool import cli, wait_until

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "docs" / "observability" / "prometheus-alerts.yml"
DASHBOARD = ROOT / "docs" / "observability" / "grafana-dashboard.json"
MODEL = "films"
CALLS = 25
MANIFEST = ["--manifest", "algorithm=itemcf", "--manifest", "neighbours=20"]


def ratings(path):
    """A small deterministic interaction table: 60 users, 40 items."""
    path.write_bytes(b"".join(b"u%d\ti%d\t%d\n" % (u, (u * 7 + j * 3) % 40, (u + j) % 5 + 1)
                             for u in range(60) for j in range(12)))
    return path


def metrics_address(server):
    for line in server.stdout_lines:
        found = re.search(r"aimass metrics on http://([\d.]+):(\d+)/metrics", line)
        if found:
            return found.group(1), int(found.group(2))
    raise AssertionError(f"no metrics line on stdout:\n{server.report()}")


def scrape(address):
    host, port = address
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition."""
    found = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        name, _, labels = series.partition("{")
        pairs = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels))
        found[(name, pairs)] = float(value)
    return found


def value(text, name, **labels):
    matching = [v for (n, pairs), v in samples(text).items() if n == name and set(labels.items()) <= pairs]
    assert len(matching) == 1, f"{name}{labels}: {len(matching)} series match"
    return matching[0]


def promtool_accepts(text, role):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run scripts/install-deps.sh (Debian package prometheus)", pytrace=False)
    out = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"promtool check metrics refused the {role}'s exposition:\n{out.stdout}{out.stderr}"


def recommend_n(target, token, recommend_pb, n=CALLS):
    """n Recommend calls; returns the message bytes sent and received (as serialized, uncompressed)."""
    pb, pb_grpc = recommend_pb
    sent = received = 0
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.RecommendStub(channel)
        for i in range(n):
            request = pb.RecommendRequest(model=MODEL, user_id=f"u{i % 60}", k=5)
            response = stub.Recommend(request, metadata=[("authorization", f"Bearer {token}")], timeout=60)
            assert len(response.items) == 5
            sent += request.ByteSize()
            received += response.ByteSize()
    return sent, received


def deploy(exe, env, artifact):
    cli(exe, env, "model", "create", MODEL, *MANIFEST)
    cli(exe, env, "model", "upload", MODEL, str(artifact), *MANIFEST)
    cli(exe, env, "deploy", "--model", MODEL, "--min", "1", "--max", "1")
    wait_until("a READY replica", lambda: '"ready_replicas" : 1' in
               cli(exe, env, "deployments", "--model", MODEL, "--json").stdout, timeout=120)


def client_env(target, token):
    env = cli_environment(AIMASS_SERVER=target, AIMASS_TOKEN=token)
    return env


def assert_pool_view(text, cpu_millis=None):
    """The deployed model's replicas by state, desired vs ready, and every worker's capacity and allocation."""
    assert value(text, "aimass_replicas", model=MODEL, version="1", state="ready") == 1
    assert value(text, "aimass_deployment_replicas_desired", model=MODEL, version="1") == 1
    assert value(text, "aimass_deployment_replicas_ready", model=MODEL, version="1") == 1
    capacity = {dict(labels)["worker"]: v for (name, labels), v in samples(text).items()
                if name == "aimass_worker_capacity" and ("resource", "cpu_millis") in labels}
    assert capacity, "no aimass_worker_capacity{resource=\"cpu_millis\"} series"
    if cpu_millis is not None:
        assert cpu_millis in capacity.values()
    for worker in capacity:
        assert value(text, "aimass_worker_allocated", worker=worker, resource="replica_slots") is not None
    # One replica of the model holds one slot somewhere.
    assert sum(v for (name, labels), v in samples(text).items()
               if name == "aimass_worker_allocated" and ("resource", "replica_slots") in labels) == 1


def watch_mesh(target, token):
    """An open Mesh.Watch stream (an empty WatchRequest: a snapshot, then live events), sent as raw bytes."""
    channel = grpc.insecure_channel(target)
    stream = channel.unary_stream("/aimass.v1.Mesh/Watch")(b"", metadata=[("authorization", f"Bearer {token}")])
    next(stream)  # the snapshot's first event: the stream is subscribed
    return channel, stream


def test_embedded_metrics_access_log_and_json_logs(tmp_path, recommend_pb):
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    server = start_server("aimass", [exe, "serve", "--port", "0", "--data-dir", data, "--metrics-port", "0",
                                     "--log-format", "json", "--access-log"],
                          r"aimass listening on (127\.0\.0\.1):(\d+)")
    try:
        address = metrics_address(server)
        token = admin_token(data)
        artifact = ratings(tmp_path / "ratings.tsv")
        deploy(exe, client_env(server.target, token), artifact)
        requests, responses = recommend_n(server.target, token, recommend_pb)

        text = scrape(address)
        promtool_accepts(text, "embedded server")
        method = "aimass.v1.Recommend/Recommend"
        assert value(text, "grpc_server_call_duration_seconds_count", grpc_method=method, grpc_status="OK") == CALLS
        assert value(text, "grpc_server_call_started_total", grpc_method=method) == CALLS
        # Message sizes: exactly the bytes grpcio sent and got (no compression asked for).
        ok = {"grpc_method": method, "grpc_status": "OK"}
        assert value(text, "grpc_server_call_rcvd_total_compressed_message_size_bytes_count", **ok) == CALLS
        assert value(text, "grpc_server_call_rcvd_total_compressed_message_size_bytes_sum", **ok) == requests
        assert value(text, "grpc_server_call_sent_total_compressed_message_size_bytes_sum", **ok) == responses
        assert value(text, "aimass_inference_calls_total", model=MODEL, version="1", outcome="ok") == CALLS
        assert value(text, "aimass_inference_duration_seconds_count", model=MODEL, version="1") == CALLS
        assert value(text, "aimass_admission_admitted_total", model=MODEL, version="1") == CALLS
        assert value(text, "aimass_admission_limit", model=MODEL, version="1") > 0
        assert value(text, "aimass_worker_replicas", model=MODEL, version="1", state="ready") == 1
        assert value(text, "aimass_gate_admitted_total") == CALLS
        assert value(text, "aimass_gate_limit") > 0 and value(text, "aimass_gate_in_flight") == 0
        assert value(text, "aimass_registry_uploads_total", model=MODEL, outcome="ok") == 1
        assert value(text, "aimass_registry_upload_bytes_total", model=MODEL) == artifact.stat().st_size
        assert value(text, "aimass_http2_connections_total") >= 1
        assert value(text, "aimass_http2_streams_total") >= CALLS
        # The control plane's view of the pool (the embedded server holds one).
        assert_pool_view(text)
        # The local worker's own calls to its control plane (Join, downloads) as a client.
        assert any(name == "grpc_client_attempt_started_total" and ("grpc_method", "aimass.v1.Scheduler/Join") in labels
                   for name, labels in samples(text))

        # Unknown paths are counted as "other" and never become a label value.
        with grpc.insecure_channel(server.target) as channel:
            with pytest.raises(grpc.RpcError) as error:
                channel.unary_unary("/no.such.Service/Nope")(b"", timeout=30)
            assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
        text = scrape(address)
        assert value(text, "grpc_server_call_duration_seconds_count", grpc_method="other",
                     grpc_status="UNIMPLEMENTED") == 1
        assert "no.such.Service" not in text

        # Other paths: 404; the listener survives a request that is not HTTP.
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://{address[0]}:{address[1]}/nope", timeout=30)
        assert missing.value.code == 404
        with socket.create_connection(address, timeout=30) as raw:
            raw.sendall(b"\x16\x03\x01 garbage\r\n\r\n")
            assert raw.recv(64).startswith(b"HTTP/1.1 400")
        assert "grpc_server_call_started_total" in scrape(address)

        # Every stderr line is one JSON object; one access line per Recommend call, with the model and a token id but
        # never the token.
        lines = [line for line in server.stderr_path.read_text().splitlines() if line.strip()]
        records = [json.loads(line) for line in lines]
        assert all({"ts", "level", "label", "message"} <= record.keys() for record in records)
        access = [r for r in records if r["label"] == "aimass.access" and r.get("grpc_method") == method]
        assert len(access) == CALLS
        token_id = hashlib.sha256(token.encode()).hexdigest()[:16]
        for record in access:
            assert record["grpc_status"] == "OK" and record["model"] == MODEL and record["version"] == "1"
            assert record["token_id"] == token_id and record["peer"].startswith("ipv4:127.0.0.1:")
            assert float(record["duration_ms"]) > 0
        assert token not in server.stderr_path.read_text()
    finally:
        stop_server(server)


def test_autoscaler_decision_is_counted(tmp_path):
    """An operator scales a deployment to 2 that no call loads: the autoscaler (2 s stable window) takes it back to
    its minimum, and that decision is counted once, `down`, with desired back at 1."""
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    server = start_server("aimass", [exe, "serve", "--port", "0", "--data-dir", data, "--metrics-port", "0",
                                     "--autoscale-stable-ms", "2000", "--autoscale-panic-ms", "1000"],
                          r"aimass listening on (127\.0\.0\.1):(\d+)")
    try:
        address = metrics_address(server)
        env = client_env(server.target, admin_token(data))
        cli(exe, env, "model", "create", MODEL, *MANIFEST)
        cli(exe, env, "model", "upload", MODEL, str(ratings(tmp_path / "ratings.tsv")), *MANIFEST)
        cli(exe, env, "deploy", "--model", MODEL, "--min", "1", "--max", "2")
        deployment = wait_until("a READY replica", lambda: next(
            (d for d in json.loads(cli(exe, env, "deployments", "--model", MODEL, "--json").stdout)["deployments"]
             if d["ready_replicas"] == 1), None), timeout=120)
        text = scrape(address)
        assert not [k for k in samples(text) if k[0] == "aimass_autoscaler_decisions_total"], "a decision before any"
        assert value(text, "aimass_deployment_replicas_desired", model=MODEL, version="1") == 1

        cli(exe, env, "scale", deployment["id"], "--replicas", "2")

        def decided():
            text = scrape(address)
            found = [k for k in samples(text) if k[0] == "aimass_autoscaler_decisions_total"]
            return text if found else None
        text = wait_until("the autoscaler's decision", decided, timeout=60)
        assert value(text, "aimass_autoscaler_decisions_total", model=MODEL, version="1", direction="down") == 1
        assert [dict(k[1])["direction"] for k in samples(text) if k[0] == "aimass_autoscaler_decisions_total"] == ["down"]
        wait_until("desired back at 1", lambda: value(scrape(address), "aimass_deployment_replicas_desired",
                                                      model=MODEL, version="1") == 1, timeout=60)
        promtool_accepts(scrape(address), "embedded server after autoscaling")
    finally:
        stop_server(server)


def alert_expressions():
    return [rule["expr"] for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def dashboard_expressions():
    """Every panel query of the Grafana dashboard, with its variables filled in as Grafana would."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"].replace("$__rate_interval", "1m").replace("$model", ".*")
            for panel in panels for target in panel["targets"]]


def test_alert_rules_and_dashboard_queries_are_valid_promql(tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run scripts/install-deps.sh (Debian package prometheus)", pytrace=False)
    out = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert len(alert_expressions()) >= 5
    # The dashboard's queries as recording rules, which promtool parses the same way.
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"aimass:dashboard_{i}", "expr": expr}
                                                          for i, expr in enumerate(dashboard_expressions())]}]}
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    out = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.timeout(600)
def test_pool_roles_and_a_real_prometheus(tmp_path, recommend_pb):
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    cp = start_server("control-plane", [exe, "serve", "--role", "control-plane", "--port", "0", "--data-dir", data,
                                        "--metrics-port", "0"],
                      r"aimass listening on (127\.0\.0\.1):(\d+)")
    token = admin_token(data)
    servers = [cp]
    prometheus = None
    try:
        worker = start_server("worker", [exe, "serve", "--role", "worker", "--join", cp.target, "--port", "0",
                                         "--token", token, "--metrics-port", "0", "--capacity-cpu-millis", "2000"],
                              r"aimass worker listening on (127\.0\.0\.1):(\d+)")
        servers.append(worker)
        deploy(exe, client_env(cp.target, token), ratings(tmp_path / "ratings.tsv"))
        recommend_n(worker.target, token, recommend_pb)

        worker_text, cp_text = scrape(metrics_address(worker)), scrape(metrics_address(cp))
        promtool_accepts(worker_text, "worker")
        promtool_accepts(cp_text, "control plane")
        method = "aimass.v1.Recommend/Recommend"
        assert value(worker_text, "grpc_server_call_duration_seconds_count", grpc_method=method,
                     grpc_status="OK") == CALLS
        assert value(worker_text, "aimass_inference_calls_total", model=MODEL, version="1", outcome="ok") == CALLS
        assert value(worker_text, "aimass_worker_replicas", model=MODEL, version="1", state="ready") == 1
        assert value(worker_text, "aimass_worker_replicas", model=MODEL, version="1", state="loading") == 0
        # The worker joined the control plane: client metrics on the worker, server metrics on the control plane.
        assert value(worker_text, "grpc_client_attempt_started_total", grpc_method="aimass.v1.Scheduler/Join",
                     grpc_target=cp.target) >= 1
        assert value(cp_text, "grpc_server_call_started_total", grpc_method="aimass.v1.Scheduler/Join") >= 1
        # The worker's download of the model as a client call that ended, with its attempts.
        download = {"grpc_method": "aimass.v1.ModelRegistry/DownloadVersion", "grpc_target": cp.target,
                    "grpc_status": "OK"}
        assert value(worker_text, "grpc_client_call_duration_seconds_count", **download) >= 1
        assert value(worker_text, "grpc_client_attempt_duration_seconds_count", **download) == \
            value(worker_text, "grpc_client_call_duration_seconds_count", **download)
        assert_pool_view(cp_text, cpu_millis=2000)
        # The worker's load reports: its utilisation, a fraction.
        utilisation = wait_until("the worker's utilisation", lambda: [  # a list: an idle worker's 0.0 counts
            v for (name, _), v in samples(scrape(metrics_address(cp))).items() if name == "aimass_worker_utilisation"],
            timeout=60)
        assert len(utilisation) == 1 and 0 <= utilisation[0] <= 1

        # A Mesh.Watch subscriber is counted while its stream is open, with the events written to it.
        def subscribers():
            return value(scrape(metrics_address(cp)), "aimass_mesh_subscribers")
        before = subscribers()
        channel, stream = watch_mesh(cp.target, token)
        try:
            assert subscribers() == before + 1
            # Counted once the write of the event completes, which may be just after the client has read it.
            wait_until("the snapshot's events counted as sent",
                       lambda: value(scrape(metrics_address(cp)), "aimass_mesh_events_sent_total") >= 1, timeout=60)
        finally:
            stream.cancel()
            channel.close()
        wait_until("the subscriber gone", lambda: subscribers() == before, timeout=60)
        promtool_accepts(scrape(metrics_address(cp)), "control plane")

        prometheus_bin = shutil.which("prometheus")
        if prometheus_bin is None:
            pytest.fail("prometheus is missing: run scripts/install-deps.sh", pytrace=False)
        targets = [f"{h}:{p}" for h, p in (metrics_address(cp), metrics_address(worker))]
        config = tmp_path / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          "scrape_configs:\n  - job_name: aimass\n    static_configs:\n"
                          f"      - targets: {json.dumps(targets)}\n")
        # On port 0, its address read from its log (it logs to stderr: the shell sends that to stdout), so that no
        # port picked beforehand can be taken by another test first.
        prometheus = start_server("prometheus", ["sh", "-c", 'exec "$0" "$@" 2>&1', prometheus_bin,
                                                 f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                                 "--web.listen-address=127.0.0.1:0"],
                                  r'msg="Listening on" address=(127\.0\.0\.1):(\d+)', timeout=120)
        api = f"http://{prometheus.target}/api/v1"

        def get(path, **params):
            try:
                with urllib.request.urlopen(f"{api}/{path}?{urllib.parse.urlencode(params)}", timeout=10) as r:
                    return json.loads(r.read())["data"]
            except OSError:
                assert prometheus.alive(), "\n".join(prometheus.stdout_lines[-30:])
                return None

        def all_up():
            found = get("targets")
            active = found["activeTargets"] if found else []
            return len(active) == 2 and all(t["health"] == "up" for t in active)

        wait_until("Prometheus scraping both targets", all_up, timeout=120)

        rate = f'sum by (model) (rate(aimass_inference_calls_total{{model="{MODEL}"}}[30s]))'
        p99 = (f'histogram_quantile(0.99, sum by (le, model) '
               f'(rate(aimass_inference_duration_seconds_bucket{{model="{MODEL}"}}[30s])))')

        def answered(query):
            def attempt():
                recommend_n(worker.target, token, recommend_pb, n=5)  # keeps the rate above zero between scrapes
                result = (get("query", query=query) or {}).get("result", [])
                values = [float(r["value"][1]) for r in result]
                return values if values and all(v > 0 for v in values) else None
            return wait_until(f"an answer to {query}", attempt, timeout=120)

        assert answered(rate)[0] > 0
        assert 0 < answered(p99)[0] < 100  # seconds: the largest finite bucket bounds a quantile

        # Every alert and dashboard query runs against the real series (an empty result is fine: no alert fires).
        for expr in alert_expressions() + dashboard_expressions():
            with urllib.request.urlopen(f"{api}/query?{urllib.parse.urlencode({'query': expr})}", timeout=30) as r:
                assert json.loads(r.read())["status"] == "success", expr
    finally:
        if prometheus is not None:
            stop_server(prometheus, expect_alive=False)
        for server in reversed(servers):
            stop_server(server)
