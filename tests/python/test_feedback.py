"""Feedback as an application records it: a grpcio client streams events (some of them twice), bad events fail with
INVALID_ARGUMENT naming the event, a model the caller cannot write or read is refused, the CLI sends a file twice and
records it once, and what was acknowledged survives a SIGKILL of the server.

Needs AIMASS_BIN_DIR."""

from __future__ import annotations

import importlib
import signal
import sys
from pathlib import Path

import grpc
import pytest

from conftest import admin_token, aimass_binary, cli_environment, start_aimass, stop_server
from protogen import generate_aimass
from test_pool import cli

REPO = Path(__file__).resolve().parents[2]
DISHES = REPO / "examples" / "dishes" / "interactions.tsv"


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    out = generate_aimass(tmp_path_factory.mktemp("feedback_stubs"),
                          protos=["aimass/v1/common.proto", "aimass/v1/feedback.proto"])
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    return importlib.import_module("aimass.v1.feedback_pb2"), importlib.import_module("aimass.v1.feedback_pb2_grpc")


def bearer(token):
    return [("authorization", f"Bearer {token}")]


def test_feedback_is_recorded_once_validated_and_durable(tmp_path, pb):
    fpb, fgrpc = pb
    exe = aimass_binary("aimass")
    data = tmp_path / "data"
    server = start_aimass(data)
    admin = admin_token(data)
    env = cli_environment(AIMASS_SERVER=server.target, AIMASS_TOKEN=admin)
    try:
        cli(exe, env, "model", "create", "dishes", "--manifest", "algorithm=itemcf")
        cli(exe, env, "user", "create", "viewer")
        cli(exe, env, "model", "grant", "dishes", "user:viewer", "reader")
        viewer = cli(exe, env, "token", "create", "--user", "viewer").stdout.strip()

        def event(i, kind=fpb.FEEDBACK_KIND_CLICK, **fields):
            base = dict(event_id=f"e{i}", model="dishes", user_id=f"u{i % 7}", item_id=f"item{i % 11}", kind=kind,
                        served_version=1)
            base.update(fields)
            return fpb.FeedbackEvent(**base)

        with grpc.insecure_channel(server.target) as channel:
            stub = fgrpc.FeedbackStub(channel)
            messages = [fpb.RecordFeedbackRequest(events=[event(i) for i in range(0, 500)]),
                        fpb.RecordFeedbackRequest(events=[event(i) for i in range(400, 600)] +
                                                  [event(600, kind=fpb.FEEDBACK_KIND_RATING, value=4.0)])]
            response = stub.Record(iter(messages), metadata=bearer(admin), timeout=60)
            assert (response.recorded, response.duplicates) == (601, 100)

            # A bad event names itself; the messages before it stay recorded.
            bad = [fpb.RecordFeedbackRequest(events=[event(700)]),
                   fpb.RecordFeedbackRequest(events=[event(701), event(702, kind=fpb.FEEDBACK_KIND_UNSPECIFIED)])]
            with pytest.raises(grpc.RpcError) as refused:
                stub.Record(iter(bad), metadata=bearer(admin), timeout=60)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "event 2 (id 'e702')" in refused.value.details() and "kind" in refused.value.details()

            # A reader may list but not record; a model nobody can see is missing.
            with pytest.raises(grpc.RpcError) as denied:
                stub.Record(iter([fpb.RecordFeedbackRequest(events=[event(800)])]), metadata=bearer(viewer), timeout=60)
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
            with pytest.raises(grpc.RpcError) as missing:
                stub.Record(iter([fpb.RecordFeedbackRequest(events=[event(801, model="nope")])]),
                            metadata=bearer(admin), timeout=60)
            assert missing.value.code() == grpc.StatusCode.NOT_FOUND
            listed = stub.ListFeedback(fpb.ListFeedbackRequest(model="dishes", page_size=10000),
                                       metadata=bearer(viewer), timeout=60).events
            assert [e.event.event_id for e in listed] == [f"e{i}" for i in range(601)] + ["e700"]
            assert listed[600].event.kind == fpb.FEEDBACK_KIND_RATING and listed[600].event.value == 4.0
            assert listed[0].event.value == 1.0, "an implicit event's weight defaults to 1"

        # The CLI sends a file; sending it again records nothing twice.
        events = tmp_path / "events.tsv"
        events.write_text("# user item kind value\n196\t242\trating\t4\n196\t50\tclick\n22\t377\tpurchase\t1\t1\n")
        assert "recorded 3 events (0 already recorded)" in cli(exe, env, "feedback", "send", "--model", "dishes",
                                                               str(events)).stdout
        assert "recorded 0 events (3 already recorded)" in cli(exe, env, "feedback", "send", "--model", "dishes",
                                                               str(events)).stdout
        bad_file = tmp_path / "bad.tsv"
        bad_file.write_text("196\t242\tliked\n")
        out = cli(exe, env, "feedback", "send", "--model", "dishes", str(bad_file), check=False)
        assert out.returncode != 0 and "line 1" in out.stderr

        # What was acknowledged survives kill -9.
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=60)
    finally:
        stop_server(server, expect_alive=False)
    server = start_aimass(data)
    try:
        env["AIMASS_SERVER"] = server.target
        import json
        listed = json.loads(cli(exe, env, "feedback", "list", "--model", "dishes", "--limit", "10000", "--json").stdout)
        assert len(listed) == 605
        assert listed[-1]["user_id"] == "22" and listed[-1]["kind"] == "purchase" and listed[-1]["served_version"] == 1
    finally:
        stop_server(server)
