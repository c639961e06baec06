"""The console's JSON API (`aimass serve --http-port`) with real HTTP requests against a real server with
MovieLens-100k deployed: status codes, authorization (exactly gRPC's, through the gateway), the data it returns
checked against what the CLI put there, uploads streamed into UploadVersion, and the Mesh event stream as
server-sent events resumed by Last-Event-ID or ?since=."""
import hashlib
import http.client
import json
import subprocess
import sys
from pathlib import Path

import pytest

from console_support import DATA, HTTP_TIMEOUT, MODEL, start_console, stop_console
# The module's server deploys ML-100k before its first test: a bound for a loaded machine, against hangs only.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    c = start_console(tmp_path_factory.mktemp("console-api"))
    yield c
    stop_console(c)


def test_embedded_page_is_current():
    """The binary embeds Sources/AIMassConsole/Web as WebAssets/*.swift: the generated files match the files."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(root / "scripts" / "gen-console-assets.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_page_and_assets_are_served(console):
    status, _, headers = console.request("GET", "/", token=None)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for asset in ["app.js", "api.js", "events.js", "style.css"]:
        status, _, headers = console.request("GET", f"/assets/{asset}", token=None)
        assert status == 200, asset
    assert console.request("GET", "/assets/nope.js", token=None)[0] == 404


def test_no_token_and_wrong_token_are_401(console):
    for token in [None, "aimass_wrong"]:
        for method, path in [("GET", "/api/models"), ("GET", "/api/pool"), ("GET", "/api/events"),
                             ("POST", "/api/deployments")]:
            status, body, _ = console.request(method, path, token=token, body={} if method == "POST" else None)
            assert status == 401, (method, path, token, body)
            assert body["code"] == "UNAUTHENTICATED" and body["message"]


def test_reader_reads_but_gets_403_on_writes(console):
    status, body, _ = console.request("GET", "/api/models", token="reader")
    assert status == 200 and [m["name"] for m in body["models"]] == [MODEL]
    assert console.request("GET", f"/api/models/{MODEL}/versions", token="reader")[0] == 200
    writes = [
        ("PUT", f"/api/models/{MODEL}/aliases/production", {"version": 1, "reason": "reader tries"}),
        ("POST", "/api/deployments", {"model": MODEL, "min_replicas": 1, "max_replicas": 1}),
        ("PUT", f"/api/models/{MODEL}/permissions", {"principal": "user:reader", "role": "OWNER"}),
    ]
    for method, path, body in writes:
        status, answer, _ = console.request(method, path, body=body, token="reader")
        assert status == 403 and answer["code"] == "PERMISSION_DENIED", (path, answer)
    payload = b"1\t2\t5\t1\n"
    status, answer, _ = console.request(
        "POST", f"/api/models/{MODEL}/versions?sha256={hashlib.sha256(payload).hexdigest()}", raw=payload,
        token="reader", headers={"Content-Type": "application/octet-stream"})
    assert status == 403 and answer["code"] == "PERMISSION_DENIED", answer


def test_whoami_names_the_token_and_its_roles(console):
    status, body, _ = console.request("GET", f"/api/whoami?models={MODEL}")
    assert status == 200 and body == {"user": "admin", "admin": True, "groups": [], "roles": {MODEL: "OWNER"},
                                      "may_create_models": True}, body
    status, body, _ = console.request("GET", f"/api/whoami?models={MODEL},no-such-model", token="reader")
    # A READER grant on one model does not stop an unscoped token from creating others.
    assert status == 200 and body == {"user": "reader", "admin": False, "groups": [],
                                      "roles": {MODEL: "READER", "no-such-model": "NONE"}, "may_create_models": True}, body
    status, body, _ = console.request("GET", "/api/whoami", token="aimass_wrong")
    assert status == 401 and body["code"] == "UNAUTHENTICATED"
    # A group's grant counts for its members only, and a scoped token's ceiling caps it.
    ana = console.cli("token", "create", "--user", "ana").stdout.strip()
    ana_reading = console.cli("token", "create", "--user", "ana", "--role", "reader").stdout.strip()
    console.cli("model", "grant", MODEL, "group:editors", "writer")
    try:
        status, body, _ = console.request("GET", f"/api/whoami?models={MODEL}", token=ana)
        assert status == 200 and body == {"user": "ana", "admin": False, "groups": ["editors"],
                                          "roles": {MODEL: "WRITER"}, "may_create_models": True}, body
        assert console.request("GET", f"/api/whoami?models={MODEL}", token="reader")[1]["roles"] == {MODEL: "READER"}
        reading = console.request("GET", f"/api/whoami?models={MODEL}", token=ana_reading)[1]
        assert reading["roles"] == {MODEL: "READER"} and reading["may_create_models"] is False, reading
    finally:
        console.cli("model", "revoke", MODEL, "group:editors")
    # What WhoAmI says is what CreateModel does: the token capped at reader is refused, ana's unscoped one is not.
    status, body, _ = console.request("POST", "/api/models", body={"name": "ana-reads"}, token=ana_reading)
    assert (status, body["code"]) == (403, "PERMISSION_DENIED") and "cannot create models" in body["message"], body
    assert console.request("GET", "/api/models/ana-reads")[0] == 404  # nothing was created
    status, body, _ = console.request("POST", "/api/models", body={"name": "ana-writes"}, token=ana)
    assert status == 201 and body["author"] == "user:ana", body
    console.cli("model", "delete", "ana-writes")  # the other tests list the one MovieLens model
    assert console.request("GET", f"/api/whoami?models={MODEL}", token=ana)[1]["roles"] == {MODEL: "NONE"}


def test_status_codes_follow_grpc(console):
    status, body, _ = console.request("GET", "/api/models/no-such-model")
    assert (status, body["code"]) == (404, "NOT_FOUND") and "no-such-model" in body["message"]
    status, body, _ = console.request("POST", "/api/models", body={"name": "bad name!"})
    assert (status, body["code"]) == (400, "INVALID_ARGUMENT")
    status, body, _ = console.request("POST", "/api/models", body={"name": MODEL})
    assert (status, body["code"]) == (409, "ALREADY_EXISTS")
    status, body, _ = console.request("POST", "/api/models", raw=b"{not json", headers={"Content-Type": "application/json"})
    assert (status, body["code"]) == (400, "INVALID_ARGUMENT") and "JSON object" in body["message"]
    status, body, _ = console.request("POST", "/api/recommend", body={"model": MODEL, "k": "ten"})
    assert (status, body["code"]) == (400, "INVALID_ARGUMENT") and "'k'" in body["message"]
    status, body, _ = console.request("GET", "/api/nothing-here")
    assert (status, body["code"]) == (404, "NOT_FOUND")
    status, body, _ = console.request("GET", "/api/models?page_token=garbage")
    assert (status, body["code"]) == (400, "INVALID_ARGUMENT")
    # An upload whose bytes do not match the sha256 it declares stores nothing (DATA_LOSS).
    payload = b"1\t2\t5\t1\n"
    before = console.request("GET", f"/api/models/{MODEL}")[1]["latest_version"]
    status, body, _ = console.request("POST", f"/api/models/{MODEL}/versions?sha256={'0' * 64}", raw=payload,
                                      headers={"Content-Type": "application/octet-stream"})
    assert (status, body["code"]) == (500, "DATA_LOSS"), body
    assert console.request("GET", f"/api/models/{MODEL}")[1]["latest_version"] == before
    status, body, _ = console.request("POST", f"/api/models/{MODEL}/versions", raw=payload,
                                      headers={"Content-Type": "application/octet-stream"})
    assert (status, body["code"]) == (400, "INVALID_ARGUMENT") and "sha256" in body["message"]


def test_models_search_matches_the_registry(console):
    listed = json.loads(console.cli("model", "list", "--json").stdout)
    listed = listed["models"] if isinstance(listed, dict) else listed
    status, body, _ = console.request("GET", "/api/models")
    assert status == 200 and [m["name"] for m in body["models"]] == [m["name"] for m in listed]
    model = body["models"][0]
    assert model["author"] == "user:admin" and model["tags"] == ["movies"]
    assert model["manifest"] == {"algorithm": "itemcf", "neighbours": "20"} and model["aliases"] == {"production": 1}
    assert console.request("GET", "/api/models?tag=movies")[1]["models"][0]["name"] == MODEL
    assert console.request("GET", "/api/models?tag=books")[1]["models"] == []
    assert console.request("GET", "/api/models?name=movie")[1]["models"][0]["name"] == MODEL
    assert console.request("GET", "/api/models?name=zzz")[1]["models"] == []
    assert console.request("GET", "/api/models?author=user:admin")[1]["models"][0]["name"] == MODEL
    assert console.request("GET", "/api/models?author=user:reader")[1]["models"] == []


def test_upload_evaluate_diff_and_alias_history(console):
    # Upload half of ML-100k as v2 through the gateway (the body is streamed into UploadVersion in chunks).
    artifact = b"".join(DATA.read_bytes().splitlines(keepends=True)[:50000])
    digest = hashlib.sha256(artifact).hexdigest()
    status, version, _ = console.request(
        "POST", f"/api/models/{MODEL}/versions?sha256={digest}&description=half&manifest.neighbours=10"
                f"&metric.custom.score=0.5", raw=artifact, headers={"Content-Type": "application/octet-stream"})
    assert status == 201, version
    assert version["sha256"] == digest and version["size_bytes"] == len(artifact)
    assert version["manifest"]["neighbours"] == "10" and version["metrics"] == {"custom.score": 0.5}
    number = version["number"]
    shown = console.cli("model", "show", MODEL, "--version", number, "--json").stdout
    assert json.loads(shown)["sha256"] == digest  # the registry (over gRPC) has what the gateway uploaded

    status, evaluation, _ = console.request("POST", "/api/evaluate", body={"model": MODEL, "version": number, "k": 10})
    assert status == 200 and evaluation["stored"] and evaluation["version"] == number
    assert 0 < evaluation["metrics"]["loo.hr@10"] <= 1
    versions = console.request("GET", f"/api/models/{MODEL}/versions")[1]["versions"]
    assert [v["number"] for v in versions][:2] == [number, number - 1]
    assert versions[0]["metrics"]["loo.hr@10"] == evaluation["metrics"]["loo.hr@10"]

    status, diff, _ = console.request("GET", f"/api/models/{MODEL}/diff?old=1&new={number}")
    assert status == 200 and (diff["old_version"], diff["new_version"]) == (1, number)
    fields = {c["field"]: c for c in diff["changes"]}
    assert fields["manifest.neighbours"]["old_value"] == "20" and fields["manifest.neighbours"]["new_value"] == "10"
    assert fields["sha256"]["kind"] == "CHANGED" and fields["description"]["new_value"] == "half"

    status, change, _ = console.request("PUT", f"/api/models/{MODEL}/aliases/staging",
                                        body={"version": number, "reason": "try the half model"})
    assert status == 200 and change["previous_version"] == 0 and change["version"] == number
    status, history, _ = console.request("GET", f"/api/models/{MODEL}/aliases?alias=staging")
    assert [(c["version"], c["reason"], c["principal"]) for c in history["changes"]] == \
        [(number, "try the half model", "user:admin")]
    status, body, _ = console.request("PUT", f"/api/models/{MODEL}/aliases/staging", body={"version": 999})
    assert (status, body["code"]) == (404, "NOT_FOUND")


def test_ab_report_is_the_clis(console, tmp_path):
    """GET /api/models/M/ab is `aimass ab report --json`: the same Feedback.ListFeedback read, grouped by the version
    that served, click-through with Wilson's 95% interval; READER may read it, as over gRPC."""
    lines = [f"u{i}\t{100 + i}\tview\t1\t1" for i in range(25)] + [f"u{i}\t{100 + i}\tclick\t1\t1" for i in range(4)]
    lines += ["u1\t101\tpurchase\t1\t1", "u2\t102\trating\t4\t1", "u3\t103\trating\t5\t1"]
    lines += [f"w{i}\t{200 + i}\tview" for i in range(5)]  # served by an unknown version (0)
    events = tmp_path / "feedback.tsv"
    events.write_text("\n".join(lines) + "\n")
    console.cli("feedback", "send", "--model", MODEL, events)
    expected = json.loads(console.cli("ab", "report", "--model", MODEL, "--json").stdout)
    status, body, _ = console.request("GET", f"/api/models/{MODEL}/ab")
    assert status == 200 and body == expected, (body, expected)
    rows = {r["version"]: r for r in body["versions"]}
    assert (rows[1]["views"], rows[1]["clicks"], rows[1]["purchases"], rows[1]["ratings"]) == (25, 4, 1, 2)
    assert rows[1]["click_through"] == 4 / 25 and rows[1]["mean_rating"] == 4.5
    low, high = rows[1]["click_through_ci95"]
    assert 0 < low < 4 / 25 < high < 1
    assert (rows[0]["views"], rows[0]["clicks"], rows[0]["mean_rating"]) == (5, 0, None)
    assert console.request("GET", f"/api/models/{MODEL}/ab", token="reader")[1] == expected
    assert console.request("GET", f"/api/models/{MODEL}/ab", token=None)[0] == 401
    status, body, _ = console.request("GET", "/api/models/no-such-model/ab")
    assert (status, body["code"]) == (404, "NOT_FOUND")


def test_recommend_similar_and_pool(console):
    status, answer, _ = console.request("POST", "/api/recommend",
                                        body={"model": MODEL, "version": "production", "user_id": "196", "k": 5})
    assert status == 200 and len(answer["items"]) == 5, answer
    scores = [item["score"] for item in answer["items"]]
    assert scores == sorted(scores, reverse=True)
    assert answer["served_by"]["version"] == 1
    cli = json.loads(console.cli("recommend", "--model", MODEL, "--version", "production", "--user", "196", "-k", "5",
                                 "--json").stdout)
    assert [i["item_id"] for i in cli["items"]] == [i["item_id"] for i in answer["items"]]
    status, similar, _ = console.request("POST", "/api/similar", body={"model": MODEL, "item_id": "50", "k": 3},
                                         token="reader")
    assert status == 200 and len(similar["items"]) == 3 and "50" not in [i["item_id"] for i in similar["items"]]
    status, body, _ = console.request("POST", "/api/recommend", body={"model": MODEL, "user_id": "no-such-user"})
    assert status in (200, 404), body  # an unknown user gets popular items or NOT_FOUND, never a crash

    status, pool, _ = console.request("GET", "/api/pool")
    assert status == 200 and len(pool["workers"]) == 1
    worker = pool["workers"][0]
    assert worker["health"] == "SERVING" and worker["capacity"]["replica_slots"] > 0
    assert any(r["model"] == MODEL and r["state"] == "READY" for r in worker["replicas"])
    status, listing, _ = console.request("GET", f"/api/deployments?model={MODEL}")
    deployment = listing["deployments"][0]
    assert deployment["id"] == f"{MODEL}@production" and deployment["state"] == "READY"
    assert deployment["version"] == {"number": 0, "alias": "production"}
    status, one, _ = console.request("GET", f"/api/deployments/{MODEL}@production")
    assert status == 200 and one["id"] == deployment["id"]


class EventStream:
    """/api/events read line by line over one HTTP connection."""

    def __init__(self, console, headers=None, query=""):
        self.conn = http.client.HTTPConnection("127.0.0.1", console.http_port, timeout=HTTP_TIMEOUT)
        self.conn.request("GET", "/api/events" + query,
                          headers={"Authorization": f"Bearer {console.admin_token}", **(headers or {})})
        self.response = self.conn.getresponse()

    def next_event(self):
        """The next event with data (comments and the retry line skipped): (event, id, data)."""
        event, event_id, data = "message", None, None
        while True:
            line = self.response.fp.readline()
            assert line, "the event stream ended"
            line = line.decode().rstrip("\n")
            if line == "":
                if data is not None:
                    return event, event_id, json.loads(data)
                event, event_id = "message", None
            elif line.startswith(":"):
                continue
            else:
                field, _, value = line.partition(": ")
                if field == "event":
                    event = value
                elif field == "id":
                    event_id = value
                elif field == "data":
                    data = value

    def next_change(self):
        """The next event that is not a load report."""
        while True:
            event = self.next_event()
            if event[0] != "load":
                return event

    def close(self):
        self.conn.close()


def test_events_snapshot_then_resume_by_last_event_id(console):
    stream = EventStream(console)
    assert stream.response.status == 200
    assert stream.response.getheader("Content-Type").startswith("text/event-stream")
    kind, first_id, snapshot = stream.next_change()
    assert kind == "snapshot" and int(first_id) == snapshot["revision"] > 0
    assert any(d["model"] == MODEL for d in snapshot["snapshot"]["deployments"])
    assert len(snapshot["snapshot"]["workers"]) == 1
    stream.close()

    # While no one listens, a deployment is made; a client resuming from the snapshot's revision gets only what
    # followed (the server publishes deployments, replicas, workers and load, not registry changes: see docs).
    status, made, _ = console.request("POST", "/api/deployments",
                                      body={"model": MODEL, "version": 1, "min_replicas": 1, "max_replicas": 1})
    assert status == 201 and made["id"] == f"{MODEL}@1", made
    try:
        firsts = []
        for resumed in [EventStream(console, headers={"Last-Event-ID": first_id}),
                        EventStream(console, query=f"?since={first_id}")]:
            assert resumed.response.status == 200
            # What was missed comes first, in order, with no snapshot (the history was still held); another change
            # (e.g. the production deployment's own update) may come before the new deployment's events.
            seen = []
            while True:
                kind, event_id, event = resumed.next_change()
                assert kind == "mesh", (kind, event)
                assert int(event_id) == event["revision"] > int(seen[-1] if seen else first_id)
                seen.append(event_id)
                payload = event.get("replica_placed") or event.get("deployment_scaled") or {}
                if f"{MODEL}@1" in (payload.get("deployment_id"), payload.get("id")):
                    break
                assert len(seen) < 50, "the new deployment's events never came"
            firsts.append(seen[0])
            resumed.close()
        assert firsts[0] == firsts[1]  # Last-Event-ID and ?since= resume at the same point
    finally:
        assert console.request("DELETE", f"/api/deployments/{MODEL}@1")[0] == 200


def test_events_reset_when_history_is_gone(console):
    # A revision the server never issued cannot be resumed from: the stream starts over with a reset snapshot.
    stream = EventStream(console, headers={"Last-Event-ID": str(10**15)})
    kind, event_id, event = stream.next_change()
    assert kind == "reset" and event["snapshot"]["reset"] is True and int(event_id) == event["revision"]
    stream.close()
    bad = EventStream(console, headers={"Last-Event-ID": "not-a-number"})
    assert bad.response.status == 400
    bad.close()


def test_http_port_errors_are_clear(tmp_path):
    """A taken port, an out-of-range port and a console over mutual TLS without an identity for its gateway each fail
    with a message, exit 1."""
    import socket
    from conftest import aimass_binary
    from tls_certs import CertificateAuthority
    exe = str(aimass_binary("aimass"))
    ca = CertificateAuthority(tmp_path / "pki")
    cert = ca.issue("server", server=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cases = [
            ([exe, "serve", "--port", "0", "--http-port", str(port), "--data-dir", str(tmp_path / "a")],
             f"the console cannot listen on 127.0.0.1:{port}"),
            ([exe, "serve", "--port", "0", "--http-port", "70000", "--data-dir", str(tmp_path / "b")],
             "--http-port must be between 0 and 65535"),
            ([exe, "serve", "--port", "0", "--http-port", "0", "--data-dir", str(tmp_path / "c"),
              "--tls-cert", str(cert.cert), "--tls-key", str(cert.key), "--tls-client-ca", str(ca.cert_path),
              "--ca-file", str(ca.cert_path)],
             "--http-port with --tls-client-ca needs --cert-file and --key-file"),
        ]
        for argv, message in cases:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=HTTP_TIMEOUT)
            assert out.returncode == 1 and message in out.stderr, (argv, out.stderr[-500:])
