"""An A/B split served by `--role worker` processes (issue 17): a control plane and two workers, MovieLens-100k as
two versions, `production` -> 1 deployed with 2 replicas, then `aimass ab split --challenger 2 --percent 50`:

- the scheduler places replicas of the challenger beside the champion's (one of each version on each worker);
- a grpcio client calling Recommend on each worker directly for alias `production` is served by both versions, each
  user by the version an independent computation of the split's hash names (FNV-1a 64 of `model\\0alias\\0user`,
  modulo 100, under 50 -> challenger), the same on both workers and on every repeat;
- feedback sent to the workers (Feedback/Record, forwarded to the control plane) is counted per version exactly by
  `aimass ab report`: views carry the served version, clicks only `served_alias`, which the worker attributes to
  the version that served that user; an unknown alias is the control plane's INVALID_ARGUMENT, relayed;
- ending the split removes the challenger's replicas and every user gets version 1 again.

Needs AIMASS_BIN_DIR; MovieLens-100k is fetched when missing."""

from __future__ import annotations

import importlib
import json
import sys
from collections import Counter, defaultdict

import grpc
import pytest

from conftest import stop_server
from protogen import generate_aimass
from test_pool import DATA, cli, ensure_ml100k, pool, wait_until  # noqa: F401 (pool is a fixture)

USERS = [str(u) for u in range(1, 121)]


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    out = generate_aimass(tmp_path_factory.mktemp("ab_worker_stubs"), protos=[
        "aimass/v1/common.proto", "aimass/v1/recommend.proto", "aimass/v1/feedback.proto"])
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    return {name: importlib.import_module(f"aimass.v1.{name}") for name in (
        "common_pb2", "recommend_pb2", "recommend_pb2_grpc", "feedback_pb2", "feedback_pb2_grpc")}


def bucket(model: str, alias: str, user: str) -> int:
    """The split's bucket, written here from its definition (docs/recommendation.md), not from the server's code."""
    h = 0xCBF29CE484222325
    for byte in f"{model}\0{alias}\0{user}".encode():
        h = ((h ^ byte) * 0x100000001B3) % (1 << 64)
    return h % 100


def live_versions(exe, env, deployment):
    """worker id -> sorted versions of the READY replicas of `deployment` it holds, and whether any is not READY."""
    workers = json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]
    ready = {w["id"]: sorted(r["version"] for r in w["replicas"]
                             if r["deployment_id"] == deployment and r["state"] == "READY") for w in workers}
    others = any(r["deployment_id"] == deployment and r["state"] != "READY" for w in workers for r in w["replicas"])
    return ready, others


def bearer(env):
    return [("authorization", f"Bearer {env['AIMASS_TOKEN']}")]


@pytest.mark.timeout(900)
def test_workers_serve_and_attribute_an_ab_split(pool, pb, tmp_path):
    cp, workers, env, exe = pool
    rpb, rgrpc, cpb = pb["recommend_pb2"], pb["recommend_pb2_grpc"], pb["common_pb2"]
    fpb, fgrpc = pb["feedback_pb2"], pb["feedback_pb2_grpc"]
    # Two workers are enough (the fixture starts three): the third leaves before anything is deployed.
    stop_server(workers.pop(), expect_alive=True)
    wait_until("2 workers in the pool",
               lambda: len(json.loads(cli(exe, env, "pool", "--json").stdout)["workers"]) == 2, 60)

    # Version 1: MovieLens-100k; version 2: without its last 5,000 rows (another model, so the versions differ).
    lines = DATA.read_text().splitlines(keepends=True)
    smaller = tmp_path / "ml-100k-smaller.inter"
    smaller.write_text("".join(lines[:-5000]))
    cli(exe, env, "model", "create", "movies", "--manifest", "algorithm=itemcf", "--manifest", "neighbours=20")
    cli(exe, env, "model", "upload", "movies", str(DATA))
    cli(exe, env, "model", "upload", "movies", str(smaller))
    cli(exe, env, "model", "alias", "movies", "production", "1")
    cli(exe, env, "deploy", "--model", "movies", "--alias", "production", "--min", "2", "--max", "2")
    wait_until("version 1 READY on both workers",
               lambda: list(live_versions(exe, env, "movies@production")[0].values()) == [[1], [1]], 300)

    split = json.loads(cli(exe, env, "ab", "split", "--model", "movies", "--alias", "production", "--challenger", "2",
                           "--percent", "50", "--json").stdout)
    assert split == {"alias": "production", "version": 1, "challenger_version": 2, "percent": 50}
    # The scheduler places the challenger beside the champion: each worker ends with one READY replica of each.
    wait_until("versions 1 and 2 READY on both workers",
               lambda: (v := live_versions(exe, env, "movies@production")) and not v[1]
               and list(v[0].values()) == [[1, 2], [1, 2]], 300)
    deployment = json.loads(cli(exe, env, "deployments", "--json").stdout)["deployments"][0]
    assert deployment["state"] == "READY", deployment

    expected = {user: 2 if bucket("movies", "production", user) < 50 else 1 for user in USERS}
    production = cpb.VersionSelector(alias="production")
    served = defaultdict(dict)  # worker address -> user -> version
    answers = {}
    for worker in workers:
        with grpc.insecure_channel(worker.target) as channel:
            stub = rgrpc.RecommendStub(channel)
            for user in USERS:
                answer = stub.Recommend(rpb.RecommendRequest(model="movies", version=production, user_id=user, k=5),
                                        metadata=bearer(env), timeout=60)
                again = stub.Recommend(rpb.RecommendRequest(model="movies", version=production, user_id=user, k=5),
                                       metadata=bearer(env), timeout=60)
                assert again.served_by.version == answer.served_by.version, user  # sticky on a worker
                assert answer.served_by.worker_id != "" and answer.path == rpb.SERVING_PATH_HISTORY
                served[worker.target][user] = answer.served_by.version
                answers[(worker.target, user)] = answer
    for worker in workers:
        assert served[worker.target] == expected, worker.target  # the control plane's hash, on every worker
    counts = Counter(expected.values())
    assert set(counts) == {1, 2} and 35 <= counts[2] <= 85, counts  # 50 % of 120, far outside any hash skew
    # The two versions are different models: some user's list differs between them.
    with grpc.insecure_channel(workers[0].target) as channel:
        stub = rgrpc.RecommendStub(channel)
        pinned = {v: stub.Recommend(rpb.RecommendRequest(model="movies", version=cpb.VersionSelector(number=v),
                                                         user_id="13", k=10), metadata=bearer(env), timeout=60)
                  for v in (1, 2)}
        assert pinned[1].served_by.version == 1 and pinned[2].served_by.version == 2
        assert [i.item_id for i in pinned[1].items] != [i.item_id for i in pinned[2].items]

    # Feedback through the workers: a view per item shown with the version that served it; a click from every third
    # user naming only the alias, which the worker attributes.
    sent = defaultdict(Counter)
    for n, worker in enumerate(workers):
        events = []
        for user in USERS[n::2]:  # each worker gets half the users' feedback
            answer = answers[(worker.target, user)]
            version = answer.served_by.version
            for rank, item in enumerate(answer.items):
                events.append(fpb.FeedbackEvent(event_id=f"view-{user}-{rank}", model="movies", user_id=user,
                                                item_id=item.item_id, kind=fpb.FEEDBACK_KIND_VIEW,
                                                served_version=version))
                sent[version]["views"] += 1
            if int(user) % 3 == 0:
                events.append(fpb.FeedbackEvent(event_id=f"click-{user}", model="movies", user_id=user,
                                                item_id=answer.items[0].item_id, kind=fpb.FEEDBACK_KIND_CLICK,
                                                served_alias="production"))
                sent[version]["clicks"] += 1
        with grpc.insecure_channel(worker.target) as channel:
            feedback = fgrpc.FeedbackStub(channel)
            half = len(events) // 2
            recorded = feedback.Record(iter([fpb.RecordFeedbackRequest(events=events[:half]),
                                             fpb.RecordFeedbackRequest(events=events[half:])]),
                                       metadata=bearer(env), timeout=60)
            assert recorded.recorded == len(events) and recorded.duplicates == 0
            # Sent again (a client that lost the answer): nothing stored twice.
            again = feedback.Record(iter([fpb.RecordFeedbackRequest(events=events)]), metadata=bearer(env),
                                    timeout=60)
            assert again.recorded == 0 and again.duplicates == len(events)
    assert sent[1]["clicks"] > 0 and sent[2]["clicks"] > 0
    # The control plane attributes an alias-only event the same way (its registry's split, the same hash).
    with grpc.insecure_channel(cp.target) as channel:
        direct = [fpb.FeedbackEvent(event_id=f"direct-click-{user}", model="movies", user_id=user, item_id="50",
                                    kind=fpb.FEEDBACK_KIND_CLICK, served_alias="production") for user in ("7", "8")]
        assert fgrpc.FeedbackStub(channel).Record(iter([fpb.RecordFeedbackRequest(events=direct)]),
                                                  metadata=bearer(env), timeout=60).recorded == 2
        for user in ("7", "8"):
            sent[expected[user]]["clicks"] += 1

    report = json.loads(cli(exe, env, "ab", "report", "--model", "movies", "--json").stdout)
    rows = {row["version"]: row for row in report["versions"]}
    assert set(rows) == {1, 2}, rows  # nothing unattributed
    for version in (1, 2):
        assert rows[version]["views"] == sent[version]["views"], (version, rows[version], sent[version])
        assert rows[version]["clicks"] == sent[version]["clicks"], (version, rows[version], sent[version])
    print(f"users per version {dict(counts)}; report " + "; ".join(
        f"v{v}: {rows[v]['views']} views, {rows[v]['clicks']} clicks, CTR {rows[v]['click_through']:.4f} "
        f"[{rows[v]['click_through_ci95'][0]:.4f}, {rows[v]['click_through_ci95'][1]:.4f}]" for v in (1, 2)))

    with grpc.insecure_channel(workers[0].target) as channel:
        feedback = fgrpc.FeedbackStub(channel)
        with pytest.raises(grpc.RpcError) as error:
            feedback.Record(iter([fpb.RecordFeedbackRequest(events=[fpb.FeedbackEvent(
                event_id="bad-alias", model="movies", user_id="1", item_id="50", kind=fpb.FEEDBACK_KIND_CLICK,
                served_alias="staging")])]), metadata=bearer(env), timeout=60)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "served_alias 'staging'" in error.value.details(), error.value.details()
        with pytest.raises(grpc.RpcError) as error:
            feedback.Record(iter([fpb.RecordFeedbackRequest(events=[])]), timeout=60)
        assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED

    # Ending the split: the challenger's replicas go, every user gets version 1 again.
    cli(exe, env, "ab", "split", "--model", "movies", "--alias", "production", "--challenger", "2", "--percent", "0")
    wait_until("only version 1 left on both workers",
               lambda: (v := live_versions(exe, env, "movies@production")) and not v[1]
               and list(v[0].values()) == [[1], [1]], 300)
    for worker in workers:
        with grpc.insecure_channel(worker.target) as channel:
            stub = rgrpc.RecommendStub(channel)
            versions = {stub.Recommend(rpb.RecommendRequest(model="movies", version=production, user_id=user, k=1),
                                       metadata=bearer(env), timeout=60).served_by.version for user in USERS[:40]}
            assert versions == {1}, worker.target
