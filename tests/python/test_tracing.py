"""Traces as an operator sees them in their collector: a grpcio OTLP/gRPC receiver (opentelemetry-proto's
TraceService) gets the spans of `aimass recommend --otlp-endpoint` (the CLI process: one client span) and of
`aimass serve --otlp-endpoint` (the server process: the call's server span and the work inside it: authorization and the model's top-k), all in
one trace, the server span a child of the CLI's, the work children of the server span with the model and version
as attributes. An upload's storage and a registry read are children of their calls' spans too. A caller's own `traceparent` is continued the same way.

Needs AIMASS_BIN_DIR."""

from __future__ import annotations

import os
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from conftest import aimass_binary, start_server, stop_server
from test_pool import cli, wait_until

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
        token = (tmp_path / "data" / "admin.token").read_text().strip()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIMASS_")}
        env.update(AIMASS_SERVER=server.target, AIMASS_TOKEN=token)
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
