"""A call shed by the server's transport gate, as grpcio sees it.

The server is `overload-bench serve` (one worker replica of ML-100k itemcf behind the worker's call gate,
`AdmissionCallGate.recommendInference`, sized for one core: it sheds while the calls in flight times the typical
call duration exceed 80 % of a 5 ms wait budget). Every call is held 3 s in the handler (`--hold-ms`): once one
call has completed (3 s typical), one call in flight fills the budget and the next Recommend is shed on the event loop as soon as its headers arrive: grpcio must report RESOURCE_EXHAUSTED
with the `retry-after-ms` trailer and the message, while the held calls succeed. (That ungated methods such as
health are never shed is tested in Swift, Tests/RPCHTTP2Tests/CallGateTests.swift.)

Needs AIMASS_BENCH_BIN_DIR (holding overload-bench; see conftest.bench_binary) and data/ml-100k.inter (scripts/fetch-ml100k.sh)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import grpc
import pytest

from conftest import bench_binary

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "ml-100k.inter"
HOLD_MS = 3000


@pytest.fixture
def gated_server():
    if not DATA.exists():
        pytest.fail(f"{DATA} is missing: run scripts/fetch-ml100k.sh data")
    exe = bench_binary("overload-bench")
    proc = subprocess.Popen([str(exe), "serve", "--data", str(DATA), "--protection", "on", "--gate", "on",
                             "--gate-cores", "1", "--hold-ms", str(HOLD_MS)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # "port N" once listening (after the model is built)
    if not line.startswith("port "):
        proc.kill()
        pytest.fail(f"overload-bench serve did not start: {line!r} {proc.stderr.read()[-2000:]}")
    try:
        yield f"127.0.0.1:{int(line.split()[1])}", proc
    finally:
        if proc.poll() is None:
            try:
                proc.communicate(input="quit\n", timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


def test_shed_call_reaches_grpcio_as_resource_exhausted_with_retry_after(gated_server, recommend_pb):
    target, proc = gated_server
    pb, pb_grpc = recommend_pb
    request = pb.RecommendRequest(model="movies", user_id="1", k=5)
    with grpc.insecure_channel(target) as held_channel, grpc.insecure_channel(target) as channel:
        held_stub = pb_grpc.RecommendStub(held_channel)
        first = held_stub.Recommend(request, timeout=60)  # teaches the gate the typical duration (3 s)
        assert len(first.items) == 5
        held = [held_stub.Recommend.future(request, timeout=60)]
        time.sleep(0.2)  # not needed for correctness: lets the held call arrive first
        stub = pb_grpc.RecommendStub(channel)
        shed = None
        # Once the held calls' headers are in, the gate is full; until then a probe may still be admitted, and is
        # then held too (which fills the gate just the same): keep probing until one fails.
        for _ in range(10):
            probe = stub.Recommend.future(request, timeout=30)
            try:
                probe.result(timeout=0.5)
            except grpc.FutureTimeoutError:
                held.append(probe)
                continue
            except grpc.RpcError as error:
                shed = error
                break
        assert shed is not None, "no call was shed while calls held the gate"
        assert shed.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, f"{shed.code()}: {shed.details()}"
        assert "overloaded" in shed.details(), shed.details()
        trailers = dict(shed.trailing_metadata() or ())
        assert "retry-after-ms" in trailers, f"trailers: {trailers}"
        assert int(trailers["retry-after-ms"]) >= 1

        for call in held:
            assert len(call.result(timeout=60).items) == 5

    # The gate, not the replica, shed it (counters: admitted, shed, shed for deadline, limit, replica shed).
    out, _ = proc.communicate(input="quit\n", timeout=30)  # the server stops, printing its counters
    counters = [line.split() for line in out.splitlines() if line.startswith("counters ")]
    assert counters, f"no counters line in {out!r}"
    admitted, gate_shed, _, _, replica_shed = map(int, counters[0][1:])
    assert gate_shed >= 1 and replica_shed == 0 and admitted >= 2, counters[0]
