"""`aimass tune` on MovieLens-100k as a user runs it: the ratings and the user attributes uploaded as one sectioned
artifact, a budgeted search on the 80/20 holdout (seed 42) that must find precision@10 >= 0.33, a new version stored
with the best manifest, its metrics and the trials, and `aimass evaluate --protocol holdout --dry-run` of that version
reproducing the metric exactly. Also: manifest overrides are a dry run only, and a bad one names its key.

Needs AIMASS_BIN_DIR; MovieLens-100k (with ml-100k.user) is fetched when missing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import admin_token, aimass_binary, cli_environment, start_aimass, stop_server
from test_pool import cli

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
FEATURES = "age/10, gender, occupation, zip_code[:1]"


@pytest.mark.timeout(1200)
def test_tune_finds_and_stores_a_model_above_the_bar(tmp_path):
    if not (DATA / "ml-100k.user").is_file():
        subprocess.run([str(REPO / "scripts" / "fetch-ml100k.sh"), str(DATA)], check=True, capture_output=True)
    bundle = tmp_path / "ml-100k.bundle"
    bundle.write_text("#%section interactions\n" + (DATA / "ml-100k.inter").read_text()
                      + "#%section users\n" + (DATA / "ml-100k.user").read_text())
    exe = aimass_binary("aimass")
    server = start_aimass(tmp_path / "data")
    try:
        env = cli_environment(AIMASS_SERVER=server.target,
                              AIMASS_TOKEN=admin_token(tmp_path / "data"))
        cli(exe, env, "model", "create", "movies", "--manifest", "algorithm=usercf")
        cli(exe, env, "model", "upload", "movies", str(bundle), "--manifest", "algorithm=usercf")

        # --dry-run searches and stores nothing.
        out = cli(exe, env, "tune", "--model", "movies", "--budget", "1", "--dry-run", "--json")
        assert json.loads(out.stdout)["version"] == 0 and len(json.loads(out.stdout)["trials"]) == 1

        tuned = cli(exe, env, "tune", "--model", "movies", "--budget", "18", "--user-features", FEATURES, "--json",
                    timeout=1100)
        result = json.loads(tuned.stdout)
        best = result["metrics"]["holdout.precision@10"]
        assert best >= 0.33, (best, tuned.stderr)
        assert len(result["trials"]) <= 18 and "trial 1/18" in tuned.stderr
        assert max(t["metrics"]["holdout.precision@10"] for t in result["trials"]) == best
        assert result["version"] == 2 and result["manifest"]["algorithm"] == "usercf"

        stored = json.loads(cli(exe, env, "model", "versions", "movies", "--json").stdout)
        versions = stored if isinstance(stored, list) else stored["versions"]
        version = next(v for v in versions if v["number"] == 2)
        assert version["manifest"] == result["manifest"]
        assert version["metrics"]["holdout.precision@10"] == best
        assert len(json.loads(version["annotations"]["tune.trials"])) == len(result["trials"])

        again = json.loads(cli(exe, env, "evaluate", "--model", "movies", "--version", "2", "--protocol", "holdout",
                               "--dry-run", "--json", timeout=600).stdout)
        assert again["metrics"]["holdout.precision@10"] == best
    finally:
        stop_server(server)


def test_manifest_overrides_need_a_dry_run_and_a_valid_manifest(tmp_path, recommend_pb):
    import grpc
    pb, pb_grpc = recommend_pb
    exe = aimass_binary("aimass")
    server = start_aimass(tmp_path / "data")
    try:
        token = admin_token(tmp_path / "data")
        env = cli_environment(AIMASS_SERVER=server.target, AIMASS_TOKEN=token)
        dishes = REPO / "examples" / "dishes" / "interactions.tsv"
        cli(exe, env, "model", "create", "dishes", "--manifest", "algorithm=itemcf")
        cli(exe, env, "model", "upload", "dishes", str(dishes), "--manifest", "algorithm=itemcf")
        with grpc.insecure_channel(server.target) as channel:
            stub = pb_grpc.RecommendStub(channel)
            metadata = [("authorization", f"Bearer {token}")]
            ok = stub.Evaluate(pb.EvaluateRequest(model="dishes", dry_run=True, manifest_overrides={"neighbours": "3"}),
                               metadata=metadata, timeout=120)
            assert not ok.stored and ok.metrics
            for request, words in [
                (pb.EvaluateRequest(model="dishes", manifest_overrides={"neighbours": "3"}), "needs dry_run"),
                (pb.EvaluateRequest(model="dishes", dry_run=True, manifest_overrides={"similarity": "manhattan"}),
                 "similarity"),
            ]:
                with pytest.raises(grpc.RpcError) as error:
                    stub.Evaluate(request, metadata=metadata, timeout=120)
                assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and words in error.value.details()
    finally:
        stop_server(server)
