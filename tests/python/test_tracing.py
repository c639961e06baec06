"""Traces as an operator sees them in their collector: a grpcio OTLP/gRPC receiver (opentelemetry-proto's
TraceService) gets the spans of `aimass recommend --otlp-endpoint` (the CLI process: one client span) and of
`aimass serve --otlp-endpoint` (the server process: the call's server span and the work inside it: authorization and the model's top-k), all in
one trace, the server span a child of the CLI's, the work children of the server span with the model and version
as attributes. An upload's storage and a registry read are children of their calls' spans too. A caller's own `traceparent` is continued the same way.
A call that waits in a replica's admission queue has an `admission.wait` span under its call's span.

Needs AIMASS_BIN_DIR."""

from __future__ import annotations

import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from conftest import admin_token, aimass_binary, cli_environment, start_server, stop_server
from test_metrics import metrics_address, samples, scrape, value
from test_pool import DATA as ML100K, cli, ensure_ml100k, wait_until

REPO = Path(__file__).resolve().parents[2]
DISHES = REPO / "examples" / "dishes" / "interactions.tsv"


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self):
        self.lock = threading.Lock()
        self.spans = []  # (service.name, span)

    def Export(self, request, context):
        with self.lock:
            for resource_spans in request.resource_spans:
                attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    self.spans.extend((attributes.get("service.name"), span) for span in scope.spans)
        return trace_service_pb2.ExportTraceServiceResponse()

    def trace(self, trace_id: bytes):
        with self.lock:
            return [(service, span) for service, span in self.spans if span.trace_id == trace_id]


@pytest.fixture
def receiver():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    receiver = Receiver()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield receiver, f"127.0.0.1:{port}"
    server.stop(None)


def attributes(span):
    values = {}
    for a in span.attributes:
        kind = a.value.WhichOneof("value")
        values[a.key] = getattr(a.value, kind) if kind else None
    return values


def test_one_trace_across_the_cli_and_the_server(tmp_path, receiver, recommend_pb):
    collector, endpoint = receiver
    exe = aimass_binary("aimass")
    server = start_server("aimass", [exe, "serve", "--port", "0", "--data-dir", tmp_path / "data",
                                     "--otlp-endpoint", endpoint],
                          r"aimass listening on (127\.0\.0\.1):(\d+)")
    try:
        token = admin_token(tmp_path / "data")
        env = cli_environment(AIMASS_SERVER=server.target, AIMASS_TOKEN=token)
        cli(exe, env, "model", "create", "dishes", "--manifest", "algorithm=itemcf")
        cli(exe, env, "model", "upload", "dishes", str(DISHES), "--manifest", "algorithm=itemcf")
        cli(exe, env, "deploy", "--model", "dishes", "--min", "1", "--max", "1")
        wait_until("a READY replica", lambda: '"ready_replicas" : 1' in
                   cli(exe, env, "deployments", "--model", "dishes", "--json").stdout, timeout=120)

        cli(exe, dict(env, AIMASS_OTLP_ENDPOINT=endpoint), "recommend", "--model", "dishes", "--seed", "mapo_tofu",
            "-k", "3")
        # The CLI exported before it exited; the server exports within its batch interval.
        root = wait_until("the CLI's span", lambda: next(
            (span for service, span in collector.spans if service == "aimass-cli"), None), timeout=60)
        assert root.name == "aimass recommend" and not root.parent_span_id
        spans = wait_until("the server's spans of that trace", lambda: (lambda found: found if len(found) >= 4 else None)(
            collector.trace(root.trace_id)), timeout=60)
        by_name = {span.name: (service, span) for service, span in spans}
        service, call = by_name["aimass.v1.Recommend/Recommend"]
        assert service == "aimass" and call.parent_span_id == root.span_id
        assert call.kind == call.SPAN_KIND_SERVER and attributes(call)["rpc.grpc.status_code"] == 0
        _, work = by_name["recommend.top_k"]
        assert work.parent_span_id == call.span_id
        assert attributes(work)["aimass.model"] == "dishes" and attributes(work)["aimass.version"] == 1
        assert call.start_time_unix_nano <= work.start_time_unix_nano <= work.end_time_unix_nano <= call.end_time_unix_nano
        # The caller's authorization (token, role, version) is its own child span, before the model work.
        _, authorize = by_name["authorize"]
        assert authorize.parent_span_id == call.span_id and attributes(authorize)["aimass.model"] == "dishes"
        assert authorize.end_time_unix_nano <= work.start_time_unix_nano

        # The upload above: the stored bytes are a child span of the UploadVersion call, with the version made.
        def upload_spans():
            found = {span.name: span for _, span in collector.spans
                     if span.name.endswith("/UploadVersion") or span.name == "registry.upload"}
            return found if len(found) == 2 else None
        uploaded = wait_until("the upload's spans", upload_spans, timeout=60)
        upload = uploaded.pop("registry.upload")
        upload_call = uploaded.popitem()[1]
        assert upload.trace_id == upload_call.trace_id and upload.parent_span_id == upload_call.span_id
        assert attributes(upload)["aimass.model"] == "dishes" and attributes(upload)["aimass.version"] == 1
        assert attributes(upload)["aimass.bytes"] == DISHES.stat().st_size

        # A registry read (GetVersion through `aimass model show --version`) under the CLI's trace.
        cli(exe, dict(env, AIMASS_OTLP_ENDPOINT=endpoint), "model", "show", "dishes", "--version", "1")
        show = wait_until("the CLI's model show span", lambda: next(
            (span for service, span in collector.spans if service == "aimass-cli" and span.name != "aimass recommend"),
            None), timeout=60)
        read_trace = wait_until("the registry read's spans", lambda: (lambda found: found if len(found) >= 3 else None)(
            collector.trace(show.trace_id)), timeout=60)
        names = {span.name: span for _, span in read_trace}
        get_call, read = names["aimass.v1.ModelRegistry/GetVersion"], names["registry.read"]
        assert get_call.parent_span_id == show.span_id and read.parent_span_id == get_call.span_id
        assert attributes(read)["aimass.model"] == "dishes" and attributes(read)["aimass.version"] == 1

        # A grpcio caller's own traceparent is continued; a failure is recorded on the server span.
        pb, pb_grpc = recommend_pb
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        with grpc.insecure_channel(server.target) as channel:
            with pytest.raises(grpc.RpcError):
                pb_grpc.RecommendStub(channel).Recommend(
                    pb.RecommendRequest(model="no-such-model", seed_items=["tofu"], k=3),
                    metadata=[("authorization", f"Bearer {token}"),
                              ("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01")], timeout=30)
        continued = wait_until("the continued trace", lambda: collector.trace(bytes.fromhex(trace_id)) or None,
                               timeout=60)
        _, span = next((s for s in continued if s[1].name == "aimass.v1.Recommend/Recommend"))
        assert span.parent_span_id == bytes.fromhex("00f067aa0ba902b7")
        assert attributes(span)["rpc.grpc.status_code"] == 5  # NOT_FOUND
    finally:
        stop_server(server)


@pytest.mark.timeout(600)
def test_a_call_queued_at_admission_has_its_wait_span(tmp_path, receiver, recommend_pb):
    """ML-100k deployed with `--target-concurrency 1` (a replica admits one call at a time at first) and callers on
    eight channels at once, each call with its own `traceparent`: some call waits in the replica's admission queue.
    Its `admission.wait` span (model and version as attributes) is a child of that call's server span, itself the
    child of the caller's span; the wait lies within the call and ends before the model's top-k starts. Every call
    the replica queued (`aimass_admission_queued_total`) has its span."""
    ensure_ml100k()
    collector, endpoint = receiver
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    server = start_server("aimass", [exe, "serve", "--port", "0", "--data-dir", data, "--otlp-endpoint", endpoint,
                                     "--metrics-port", "0"],
                          r"aimass listening on (127\.0\.0\.1):(\d+)")
    channels = []
    try:
        token = admin_token(data)
        env = cli_environment(AIMASS_SERVER=server.target, AIMASS_TOKEN=token)
        manifest = ["--manifest", "algorithm=itemcf", "--manifest", "neighbours=50"]
        cli(exe, env, "model", "create", "movies", *manifest)
        cli(exe, env, "model", "upload", "movies", str(ML100K), *manifest)
        cli(exe, env, "deploy", "--model", "movies", "--min", "1", "--max", "1", "--target-concurrency", "1")
        wait_until("a READY replica", lambda: '"ready_replicas" : 1' in
                   cli(exe, env, "deployments", "--model", "movies", "--json").stdout, timeout=120)

        pb, pb_grpc = recommend_pb
        callers = 8
        channels = [grpc.insecure_channel(server.target) for _ in range(callers)]
        stubs = [pb_grpc.RecommendStub(channel) for channel in channels]
        parents = {}  # trace id -> the caller's span id
        rounds = iter(range(1, 1_000_000))

        outcomes = {grpc.StatusCode.OK: 0, grpc.StatusCode.RESOURCE_EXHAUSTED: 0}
        outcomes_lock = threading.Lock()

        def call(stub, trace_id, span_id, user):
            try:
                stub.Recommend(pb.RecommendRequest(model="movies", user_id=user, k=10),
                               metadata=[("authorization", f"Bearer {token}"),
                                         ("traceparent", f"00-{trace_id}-{span_id}-01")], timeout=60)
                code = grpc.StatusCode.OK
            except grpc.RpcError as error:  # shed under this load is fine; nothing else is
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
                code = error.code()
            with outcomes_lock:
                outcomes[code] += 1

        def burst():
            """Every caller calls at once; returns the admission.wait spans received so far."""
            round_ = next(rounds)
            with futures.ThreadPoolExecutor(max_workers=callers) as pool:
                done = []
                for i, stub in enumerate(stubs):
                    trace_id, span_id = f"{round_:016x}{i + 1:016x}", f"{0xC0DE0000 + i:016x}"
                    parents[bytes.fromhex(trace_id)] = bytes.fromhex(span_id)
                    done.append(pool.submit(call, stub, trace_id, span_id, str(1 + (round_ * callers + i) % 943)))
                for future in done:
                    future.result()
            with collector.lock:
                return [span for _, span in collector.spans if span.name == "admission.wait"] or None

        wait_until("a call queued at the replica's admission", burst, timeout=240)

        def a_served_wait():
            """A queued call that was then served, with its trace's spans: (wait, call, top_k)."""
            with collector.lock:
                waits = [span for _, span in collector.spans if span.name == "admission.wait"]
            for wait in waits:
                names = {span.name: span for _, span in collector.trace(wait.trace_id)}
                if {"aimass.v1.Recommend/Recommend", "recommend.top_k"} <= names.keys():
                    return wait, names["aimass.v1.Recommend/Recommend"], names["recommend.top_k"]
            burst()  # the waits so far were shed from the queue, or their call's spans are not in yet
            return None

        wait, call_span, work = wait_until("a queued call that was served", a_served_wait, timeout=240)
        assert wait.parent_span_id == call_span.span_id
        assert call_span.parent_span_id == parents[wait.trace_id]
        assert call_span.kind == call_span.SPAN_KIND_SERVER and attributes(call_span)["rpc.grpc.status_code"] == 0
        assert attributes(wait)["aimass.model"] == "movies" and attributes(wait)["aimass.version"] == 1
        assert call_span.start_time_unix_nano <= wait.start_time_unix_nano <= wait.end_time_unix_nano \
            <= call_span.end_time_unix_nano
        assert work.parent_span_id == call_span.span_id and wait.end_time_unix_nano <= work.start_time_unix_nano

        # The replica's metrics count the same queued calls as the spans (once every span is exported), and the
        # outcomes the callers saw: every answer served by the replica, every shed by the gate or the replica.
        address = metrics_address(server)

        def queued_and_spans():
            queued = value(scrape(address), "aimass_admission_queued_total", model="movies", version="1")
            with collector.lock:
                spans = sum(1 for _, span in collector.spans if span.name == "admission.wait")
            return (queued, spans) if queued == spans else None
        queued, _ = wait_until("a span for every queued call", queued_and_spans, timeout=60)
        text = scrape(address)
        labels = {"model": "movies", "version": "1"}
        assert 1 <= value(text, "aimass_admission_queue_seconds_count", **labels) <= queued
        assert value(text, "aimass_inference_calls_total", outcome="ok", **labels) == outcomes[grpc.StatusCode.OK]
        shed = sum(v for (name, _), v in samples(text).items()
                   if name in ("aimass_admission_shed_total", "aimass_gate_shed_total"))
        assert shed == outcomes[grpc.StatusCode.RESOURCE_EXHAUSTED], (shed, outcomes)
        # Every call has ended: the gate's in-flight gauge is back at 0 (concurrent ends could once leave it above).
        wait_until("the gate's in-flight gauge at 0", lambda: value(scrape(address), "aimass_gate_in_flight") == 0,
                   timeout=60)
    finally:
        for channel in channels:
            channel.close()
        stop_server(server)
