"""Users, tokens and the audit log managed while `aimass serve` runs (aimass.v1.Access), as an operator does it with
the CLI and a grpcio client sees it: a token scoped to a role ceiling and a set of models, an expiring token, a revoked
token failing on its very next call (registry and inference alike), last-used times, and the audit log of mutating
calls with their outcome.

Needs AIMASS_BIN_DIR."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from conftest import admin_token, aimass_binary, cli_environment, start_aimass, stop_server
from protogen import generate_aimass
from roles import control_plane_with_worker, deploy_model
from test_pool import cli, wait_until

REPO = Path(__file__).resolve().parents[2]
DISHES = REPO / "examples" / "dishes" / "interactions.tsv"


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    import importlib
    import sys
    out = generate_aimass(tmp_path_factory.mktemp("access_stubs"), protos=[
        "aimass/v1/common.proto", "aimass/v1/registry.proto", "aimass/v1/recommend.proto", "aimass/v1/access.proto",
        "aimass/v1/scheduler.proto", "aimass/v1/mesh.proto"])
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    names = ["registry_pb2", "registry_pb2_grpc", "recommend_pb2", "recommend_pb2_grpc", "access_pb2",
             "access_pb2_grpc", "mesh_pb2", "mesh_pb2_grpc"]
    return {name: importlib.import_module(f"aimass.v1.{name}") for name in names}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    exe = aimass_binary("aimass")
    data = tmp_path_factory.mktemp("access-data")
    sp = start_aimass(data)
    admin = admin_token(data)
    env = cli_environment(AIMASS_SERVER=sp.target, AIMASS_TOKEN=admin)
    try:
        manifest = ["--manifest", "algorithm=itemcf", "--manifest", "neighbours=5"]
        for model in ("dishes", "other"):
            cli(exe, env, "model", "create", model, *manifest)
            cli(exe, env, "model", "upload", model, str(DISHES), *manifest)
        cli(exe, env, "deploy", "--model", "dishes", "--min", "1", "--max", "1")
        wait_until("a READY replica", lambda: '"ready_replicas" : 1' in
                   cli(exe, env, "deployments", "--model", "dishes", "--json").stdout, timeout=120)
        yield sp.target, exe, env
    finally:
        stop_server(sp)


def bearer(token: str):
    return [("authorization", f"Bearer {token}")]


def code_of(call):
    try:
        call()
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def test_scoped_token_sees_only_its_models_up_to_its_ceiling_and_revocation_is_immediate(server, pb):
    target, exe, env = server
    # An admin creates a user online, who gets owner on `dishes`; a token of theirs limited to reading `dishes`.
    cli(exe, env, "user", "create", "ana")
    cli(exe, env, "model", "grant", "dishes", "user:ana", "owner")
    created = json.loads(cli(exe, env, "token", "create", "--user", "ana", "--role", "reader", "--model", "dishes",
                             "--label", "dashboards", "--json").stdout)
    scoped = created["secret"]
    assert created["scope"] == {"role_ceiling": "reader", "models": ["dishes"]} and created["user"] == "ana"
    unscoped = cli(exe, env, "token", "create", "--user", "ana").stdout.strip()

    with grpc.insecure_channel(target) as channel:
        registry = pb["registry_pb2_grpc"].ModelRegistryStub(channel)
        recommend = pb["recommend_pb2_grpc"].RecommendStub(channel)
        rpb, mpb = pb["registry_pb2"], pb["recommend_pb2"]
        get = lambda model, token: registry.GetModel(rpb.GetModelRequest(name=model), metadata=bearer(token),
                                                     timeout=30)
        update = lambda token: registry.UpdateModel(rpb.UpdateModelRequest(
            model=rpb.Model(name="dishes", description="changed"), update_mask=["description"]),
            metadata=bearer(token), timeout=30)
        ask = lambda model, token: recommend.Recommend(mpb.RecommendRequest(model=model, seed_items=["mapo_tofu"], k=3),
                                                       metadata=bearer(token), timeout=30)

        # Within scope: reads and inference work; the ceiling stops what ana's own owner role would allow.
        assert get("dishes", scoped).name == "dishes"
        assert len(ask("dishes", scoped).items) == 3
        assert code_of(lambda: update(scoped)) == grpc.StatusCode.PERMISSION_DENIED
        assert code_of(lambda: update(unscoped)) == grpc.StatusCode.OK
        # Out of scope is as if the model did not exist, and listings leave it out.
        cli(exe, env, "model", "grant", "other", "user:ana", "reader")
        assert get("other", unscoped).name == "other"
        assert code_of(lambda: get("other", scoped)) == grpc.StatusCode.NOT_FOUND
        listed = registry.ListModels(rpb.ListModelsRequest(), metadata=bearer(scoped), timeout=30)
        assert [m.name for m in listed.models] == ["dishes"]
        # A scoped token never acts as an admin and cannot mint tokens.
        access = pb["access_pb2_grpc"].AccessStub(channel)
        apb = pb["access_pb2"]
        assert code_of(lambda: access.CreateToken(apb.CreateTokenRequest(), metadata=bearer(scoped),
                                                  timeout=30)) == grpc.StatusCode.PERMISSION_DENIED

        # Listing shows when each token was last used; ana sees her own tokens only.
        mine = access.ListTokens(apb.ListTokensRequest(), metadata=bearer(unscoped), timeout=30).tokens
        assert {t.user for t in mine} == {"ana"} and len(mine) == 2
        used = {t.id: t.last_used_at_ms for t in mine}
        assert used[created["id"]] > 0

        # Revoked: the very next call fails, on the registry and on inference.
        revoked = json.loads(cli(exe, env, "token", "revoke", str(created["id"]), "--json").stdout)
        assert revoked["revoked_at_ms"] > 0
        assert code_of(lambda: get("dishes", scoped)) == grpc.StatusCode.UNAUTHENTICATED
        assert code_of(lambda: ask("dishes", scoped)) == grpc.StatusCode.UNAUTHENTICATED
        assert get("dishes", unscoped).name == "dishes"


def test_expiring_token_stops_working(server, pb):
    target, exe, env = server
    short = cli(exe, env, "token", "create", "--user", "admin", "--ttl", "2s").stdout.strip()
    with grpc.insecure_channel(target) as channel:
        registry = pb["registry_pb2_grpc"].ModelRegistryStub(channel)
        get = lambda: registry.GetModel(pb["registry_pb2"].GetModelRequest(name="dishes"), metadata=bearer(short),
                                        timeout=30)
        first = code_of(get)
        # Waits for the expiry to pass (a bound only against hangs); before it, the token works.
        assert first in (grpc.StatusCode.OK, grpc.StatusCode.UNAUTHENTICATED)
        wait_until("the token to expire", lambda: code_of(get) == grpc.StatusCode.UNAUTHENTICATED, timeout=60)
        try:
            get()
        except grpc.RpcError as error:
            assert "expired" in error.details()
    bad = cli(exe, env, "token", "create", "--user", "admin", "--ttl", "soon", check=False)
    assert bad.returncode != 0 and "--ttl" in bad.stderr


def test_audit_log_records_mutating_calls_with_their_outcome(server, pb):
    target, exe, env = server
    cli(exe, env, "user", "create", "auditee")
    token = cli(exe, env, "token", "create", "--user", "auditee").stdout.strip()
    with grpc.insecure_channel(target) as channel:
        registry = pb["registry_pb2_grpc"].ModelRegistryStub(channel)
        rpb = pb["registry_pb2"]
        denied = code_of(lambda: registry.SetAlias(rpb.SetAliasRequest(model="dishes", alias="prod", version=1),
                                                   metadata=bearer(token), timeout=30))
        assert denied == grpc.StatusCode.NOT_FOUND  # auditee cannot read dishes
        registry.GetModel(rpb.GetModelRequest(name="dishes"), metadata=bearer(env["AIMASS_TOKEN"]), timeout=30)

    def events():
        return json.loads(cli(exe, env, "audit", "--json").stdout)

    wait_until("the SetAlias attempt in the audit log", lambda: any(
        e["method"] == "aimass.v1.ModelRegistry/SetAlias" and e["user"] == "auditee" for e in events()), timeout=60)
    log = events()
    attempt = next(e for e in log if e["method"] == "aimass.v1.ModelRegistry/SetAlias" and e["user"] == "auditee")
    assert attempt["code"] == grpc.StatusCode.NOT_FOUND.value[0] and attempt["peer"].startswith("ipv4:127.0.0.1:")
    assert attempt["token_id"] > 0
    created = [e for e in log if e["method"] == "aimass.v1.Access/CreateUser"]
    assert any(e["user"] == "admin" and e["code"] == 0 for e in created)
    assert not any(e["method"].endswith("/GetModel") for e in log), "reads are not audited"
    only = json.loads(cli(exe, env, "audit", "--user", "auditee", "--method", "aimass.v1.ModelRegistry", "--json").stdout)
    assert only and all(e["user"] == "auditee" and e["method"].startswith("aimass.v1.ModelRegistry/") for e in only)
    # Reading the log needs admin.
    reader_env = dict(env, AIMASS_TOKEN=token)
    refused = cli(exe, reader_env, "audit", check=False)
    assert refused.returncode != 0 and "PERMISSION_DENIED" in refused.stderr


def test_watch_leaves_out_models_the_caller_cannot_read(server, pb):
    target, exe, env = server
    cli(exe, env, "user", "create", "watcher")
    cli(exe, env, "model", "grant", "other", "user:watcher", "reader")
    watcher = cli(exe, env, "token", "create", "--user", "watcher").stdout.strip()
    scoped_admin = cli(exe, env, "token", "create", "--user", "admin", "--model", "other").stdout.strip()

    def first_snapshot(token):
        with grpc.insecure_channel(target) as channel:
            stream = pb["mesh_pb2_grpc"].MeshStub(channel).Watch(pb["mesh_pb2"].WatchRequest(), metadata=bearer(token),
                                                                 timeout=60)
            event = next(stream)
            stream.cancel()
            assert event.WhichOneof("payload") == "snapshot"
            return event.snapshot

    everything = first_snapshot(env["AIMASS_TOKEN"])
    assert "dishes" in {d.model for d in everything.deployments} and everything.replicas
    for token in (watcher, scoped_admin):
        seen = first_snapshot(token)
        assert not seen.deployments and not seen.replicas, "dishes is not readable with this token"
        assert {w.id for w in seen.workers} == {w.id for w in everything.workers}, "the pool's workers stay visible"


def test_token_quota_sheds_with_retry_after_and_spares_other_tokens(server, pb):
    target, exe, env = server
    limited = cli(exe, env, "token", "create", "--user", "admin", "--rate", "1").stdout.strip()
    with grpc.insecure_channel(target) as channel:
        registry = pb["registry_pb2_grpc"].ModelRegistryStub(channel)
        request = pb["registry_pb2"].GetModelRequest(name="dishes")
        # 20 calls at once against a quota of 1 call per second (a burst of 1): they would have to be spread over
        # 20 s for none to be shed.
        futures = [registry.GetModel.future(request, metadata=bearer(limited), timeout=60) for _ in range(20)]
        outcomes = []
        for future in futures:
            try:
                future.result()
                outcomes.append("ok")
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error.details()
                assert "quota of 1 calls per second" in error.details()
                hint = dict(error.trailing_metadata() or ()).get("retry-after-ms")
                assert hint is not None and 1 <= int(hint) <= 1000
                outcomes.append("shed")
        assert "ok" in outcomes and "shed" in outcomes, outcomes
        assert registry.GetModel(request, metadata=bearer(env["AIMASS_TOKEN"]), timeout=30).name == "dishes"


def test_a_worker_enforces_token_quotas_on_its_own(tmp_path, pb):
    """A worker decides from the rules the control plane pushes, quota included: a token limited to 1 call per
    second calling Recommend on the worker directly is shed there with retry-after-ms, others are not."""
    exe = aimass_binary("aimass")
    with control_plane_with_worker(tmp_path) as (_, worker, admin, env):
        deploy_model(exe, env, "dishes", DISHES, neighbours=5)
        wait_until("a READY replica", lambda: '"ready_replicas" : 1' in
                   cli(exe, env, "deployments", "--model", "dishes", "--json").stdout, timeout=120)
        limited = cli(exe, env, "token", "create", "--user", "admin", "--rate", "1").stdout.strip()
        mpb = pb["recommend_pb2"]
        request = mpb.RecommendRequest(model="dishes", seed_items=["mapo_tofu"], k=3)
        with grpc.insecure_channel(worker.target) as channel:
            recommend = pb["recommend_pb2_grpc"].RecommendStub(channel)

            def burst():
                """20 calls back to back: against 1 call per second, most are shed once the worker knows the quota.
                (One after another, not at once: 20 at once could meet the worker's own concurrency limit.)"""
                shed = []
                for _ in range(20):
                    try:
                        recommend.Recommend(request, metadata=bearer(limited), timeout=60)
                    except grpc.RpcError as error:
                        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error.details()
                        shed.append(error)
                return shed

            # The token reaches the worker with the next push of the rules (within ~200 ms of its creation); until
            # then the worker asks the control plane, which knows no quota of the worker's.
            shed = wait_until("the worker to shed most of a burst over quota",
                              lambda: (errors := burst()) and len(errors) >= 10 and errors, timeout=60)
            assert all("quota of 1 calls per second" in error.details() for error in shed)
            hints = [dict(error.trailing_metadata() or ()).get("retry-after-ms") for error in shed]
            assert all(hint is not None and 1 <= int(hint) <= 1000 for hint in hints), hints
            # The admin's own token has no quota: as many calls, all answered.
            answers = [recommend.Recommend(request, metadata=bearer(admin), timeout=60) for _ in range(20)]
            assert all(len(answer.items) == 3 for answer in answers)


def test_watchers_hear_of_published_versions_and_alias_moves_they_may_read(server, pb):
    target, exe, env = server
    mpb = pb["mesh_pb2"]
    kinds = [mpb.EVENT_KIND_VERSION_PUBLISHED, mpb.EVENT_KIND_ALIAS_MOVED]
    cli(exe, env, "user", "create", "dishes-only")
    cli(exe, env, "model", "grant", "dishes", "user:dishes-only", "reader")
    narrow = cli(exe, env, "token", "create", "--user", "dishes-only").stdout.strip()
    with grpc.insecure_channel(target) as channel:
        stub = pb["mesh_pb2_grpc"].MeshStub(channel)
        everything = stub.Watch(mpb.WatchRequest(kinds=kinds), metadata=bearer(env["AIMASS_TOKEN"]), timeout=120)
        limited = stub.Watch(mpb.WatchRequest(kinds=kinds), metadata=bearer(narrow), timeout=120)
        assert next(everything).WhichOneof("payload") == "snapshot"
        assert next(limited).WhichOneof("payload") == "snapshot"
        # A version of `other` (unreadable for dishes-only), then one of `dishes` and an alias move on it.
        cli(exe, env, "model", "upload", "other", str(DISHES), "--manifest", "algorithm=itemcf")
        uploaded = json.loads(cli(exe, env, "model", "upload", "dishes", str(DISHES), "--manifest", "algorithm=itemcf",
                                  "--json").stdout)
        cli(exe, env, "model", "alias", "dishes", "canary", str(uploaded["number"]), "--reason", "try it")
        seen = [next(everything) for _ in range(3)]
        assert [e.WhichOneof("payload") for e in seen] == ["version_published"] * 2 + ["alias_moved"]
        assert [e.version_published.model for e in seen[:2]] == ["other", "dishes"]
        moved = seen[2].alias_moved
        assert (moved.model, moved.alias, moved.version, moved.reason) == ("dishes", "canary", uploaded["number"], "try it")
        assert seen[0].revision < seen[1].revision < seen[2].revision
        mine = [next(limited) for _ in range(2)]
        assert [e.WhichOneof("payload") for e in mine] == ["version_published", "alias_moved"]
        assert mine[0].version_published.model == "dishes", "the version of `other` is left out"
        everything.cancel()
        limited.cancel()


def test_a_deployed_model_is_not_deleted(server, pb):
    target, exe, env = server
    refused = cli(exe, env, "model", "delete", "dishes", check=False)
    assert refused.returncode != 0 and "FAILED_PRECONDITION" in refused.stderr and "undeploy" in refused.stderr
    cli(exe, env, "user", "create", "not-owner")
    cli(exe, env, "model", "grant", "dishes", "user:not-owner", "reader")
    reader = cli(exe, env, "token", "create", "--user", "not-owner").stdout.strip()
    denied = cli(exe, dict(env, AIMASS_TOKEN=reader), "model", "delete", "dishes", check=False)
    assert denied.returncode != 0 and "PERMISSION_DENIED" in denied.stderr, "only an owner learns it is deployed"
    assert json.loads(cli(exe, env, "model", "show", "dishes", "--json").stdout)["name"] == "dishes"
