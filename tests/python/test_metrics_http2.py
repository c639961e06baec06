"""The HTTP/2 abuse a server refused, as an operator reads it on /metrics (`aimass_http2_*`), after real attacks.

A control plane (`aimass serve --role control-plane --metrics-port 0 --max-connections 4`) is sent what
scripts/h2abuse.py sends in the abuse suite (rapid resets, invalid frames, HPACK bombs), a grpcio call with metadata
over the header-list limit, and more idle connections than its cap. After each, its exposition counts what happened:
at least every GOAWAY(ENHANCE_YOUR_CALM) the attacker received, by reason; the oversized header list exactly once;
exactly one connection closed for room per connection over the cap. `promtool check metrics` accepts the result.

Needs AIMASS_BIN_DIR; promtool (scripts/install-deps.sh)."""

from __future__ import annotations

import json
import subprocess
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import REPO_ROOT, aimass_binary, start_server, stop_server
from test_metrics import metrics_address, promtool_accepts, samples, scrape, value
from test_pool import wait_until

ATTACKER = REPO_ROOT / "scripts" / "h2abuse.py"
ENHANCE_YOUR_CALM = 0xB
CAP = 4
COUNTERS = ["aimass_http2_rapid_resets_total", "aimass_http2_invalid_frames_total",
            "aimass_http2_header_lists_refused_total", "aimass_http2_connections_evicted_total"]
REASONS = ["too_many_resets", "too_many_invalid_frames", "too_many_oversized_headers",
           "header_decoding_budget_exceeded"]


def attack(server, name, seconds=1.5, connections=1):
    """Runs one attack of scripts/h2abuse.py; returns its summary (what the attacker saw)."""
    host, port = server.target.rsplit(":", 1)
    result = subprocess.run([sys.executable, str(ATTACKER), name, host, port, "--seconds", str(seconds),
                             "--connections", str(connections)], capture_output=True, text=True, timeout=seconds + 60)
    assert result.returncode == 0, f"the attacker failed:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def calm_goaways(summary, reason):
    return summary["goaways"].get(f"{ENHANCE_YOUR_CALM}:{reason}", 0)


def test_refused_frames_header_lists_resets_and_evictions_are_exported(tmp_path):
    exe = aimass_binary("aimass")
    server = start_server("control-plane", [exe, "serve", "--role", "control-plane", "--port", "0",
                                            "--data-dir", tmp_path / "data", "--metrics-port", "0",
                                            "--max-connections", str(CAP)],
                          r"aimass listening on (127\.0\.0\.1):(\d+)")
    try:
        address = metrics_address(server)
        text = scrape(address)
        for name in COUNTERS:
            assert value(text, name) == 0, name
        for reason in REASONS:
            assert value(text, "aimass_http2_abuse_goaways_total", reason=reason) == 0, reason

        # grpcio with 20 KB of metadata: over the 16 KiB limit, refused once with RESOURCE_EXHAUSTED.
        with grpc.insecure_channel(server.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                stub.Check(health_pb2.HealthCheckRequest(), metadata=[("x-big", "v" * 20_000)], timeout=30)
                raise AssertionError("an oversized header list was served")
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
            assert stub.Check(health_pb2.HealthCheckRequest(), timeout=30).status == \
                health_pb2.HealthCheckResponse.SERVING
        assert value(scrape(address), "aimass_http2_header_lists_refused_total") == 1

        # Rapid reset: the resets are counted (at most what was sent), and every GOAWAY the attacker got.
        resets = attack(server, "rapid-reset", connections=2)
        text = scrape(address)
        assert 1 <= value(text, "aimass_http2_rapid_resets_total") <= resets["units"], resets
        assert value(text, "aimass_http2_abuse_goaways_total", reason="too_many_resets") >= \
            max(1, calm_goaways(resets, "too_many_resets")), resets

        # Invalid frames: counted (at most what this attack sent), and part of the frames rejected.
        before = value(text, "aimass_http2_invalid_frames_total")
        invalid = attack(server, "invalid-frames")
        text = scrape(address)
        invalid_frames = value(text, "aimass_http2_invalid_frames_total")
        assert 1 <= invalid_frames - before <= invalid["units"], invalid
        assert value(text, "aimass_http2_frames_rejected_total") >= invalid_frames
        assert value(text, "aimass_http2_abuse_goaways_total", reason="too_many_invalid_frames") >= \
            max(1, calm_goaways(invalid, "too_many_invalid_frames")), invalid

        # HPACK bombs: each block past the header-list limit is refused; repeat offenders are sent away.
        bombs = attack(server, "hpack-bomb")
        text = scrape(address)
        assert 2 <= value(text, "aimass_http2_header_lists_refused_total") <= 1 + bombs["units"], bombs
        assert value(text, "aimass_http2_abuse_goaways_total", reason="too_many_oversized_headers") >= \
            max(1, calm_goaways(bombs, "too_many_oversized_headers")), bombs

        # Idle connections past the cap: one closed for room for each connection over it.
        wait_until("the attackers' connections closed", lambda: value(scrape(address),
                                                                       "aimass_http2_connections_open") == 0, timeout=60)
        before = value(scrape(address), "aimass_http2_connections_evicted_total")
        sys.path.insert(0, str(REPO_ROOT / "scripts"))
        import h2abuse

        host, port = server.target.rsplit(":", 1)
        idle = [h2abuse.RawConnection(host, int(port)) for _ in range(CAP + 6)]
        try:
            evicted = wait_until("6 connections closed for room", lambda: (lambda n: n if n >= before + 6 else None)(
                value(scrape(address), "aimass_http2_connections_evicted_total")), timeout=60)
            assert evicted == before + 6
        finally:
            for conn in idle:
                conn.close()

        text = scrape(address)
        promtool_accepts(text, "control plane after abuse")
        # Every abuse series is a counter with a help text.
        for name in COUNTERS + ["aimass_http2_abuse_goaways_total"]:
            assert f"# TYPE {name} counter" in text and f"# HELP {name} " in text, name
        assert sum(v for (name, _), v in samples(text).items() if name == "aimass_http2_abuse_goaways_total") >= 3
    finally:
        stop_server(server)
