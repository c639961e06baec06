"""The similarity measures and the attribute blend (issue 17 item 1) against the independent numpy reference.

For every variant below, RecommendCore's top-10 of every one of MovieLens-100k's 943 users must match
scripts/reference_cf.py's, with the rules of test_recommend_reference.py (scores to 1e-9 at every position, ids
exactly except tie swaps). Some measures make many exact ties (adjusted cosine is exactly ±1 between items with one
common rater), so here the swaps may number up to the reference's tied positions; each swap is still checked to be a
tie to 1e-9, and the counts are printed. The holdout metrics of two blends are compared to 1e-9.

The last test runs the same through `aimass serve` and the CLI (a sectioned artifact carrying the user attributes).

Needs AIMASS_BIN_DIR, AIMASS_BENCH_BIN_DIR and data/ml-100k.{inter,user,item} (scripts/fetch-ml100k.sh).
"""

import json
import subprocess

import pytest

from conftest import aimass_binary, cli_environment, start_aimass, stop_server
from test_recommend_reference import (DATA, TOLERANCE, assert_matches_reference, bench, reference_cf, run_ours,
                                      tied_positions)

USERS = DATA.with_suffix(".user")
ITEMS = DATA.with_suffix(".item")
USER_FEATURES = "age/10, gender, occupation, zip_code[:1]"
ITEM_FEATURES = "class, release_year/10"


def variant(algorithm, similarity, neighbours=20, feedback="implicit", weighting="none", normalize=False, **blend):
    return dict(algorithm=algorithm, neighbours=neighbours, feedback=feedback, weighting=weighting,
                normalize=normalize, similarity=similarity, **blend)


def user_blend(weight):
    return dict(user_attributes=USERS, user_features=USER_FEATURES, user_feature_weight=weight)


def item_blend(weight):
    return dict(item_attributes=ITEMS, item_features=ITEM_FEATURES, item_feature_weight=weight)


VARIANTS = [
    variant("itemcf", "pearson"),
    variant("itemcf", "pearson", feedback="explicit", neighbours=50),
    variant("itemcf", "adjusted_cosine", feedback="explicit"),
    variant("itemcf", "jaccard", normalize=True),
    variant("itemcf", "euclidean", feedback="explicit"),
    variant("itemcf", "euclidean"),
    variant("usercf", "pearson", neighbours=50),
    variant("usercf", "pearson", feedback="explicit"),
    variant("usercf", "adjusted_cosine", feedback="explicit", neighbours=50),
    variant("usercf", "jaccard"),
    variant("usercf", "euclidean", feedback="explicit"),
    variant("usercf", "euclidean"),
    variant("usercf", "cosine", neighbours=50, weighting="iif", **user_blend(0.2)),
    variant("usercf", "pearson", feedback="explicit", **user_blend(0.5)),
    variant("usercf", "euclidean", **user_blend(0.3)),
    variant("itemcf", "cosine", weighting="iuf", normalize=True, **item_blend(0.1)),
    variant("itemcf", "jaccard", neighbours=50, **item_blend(0.4)),
]


def reference_options(spec):
    """The reference Model's keyword arguments of a variant (the blend's attribute file: users for usercf, items for
    itemcf)."""
    options = {k: spec[k] for k in ("algorithm", "neighbours", "feedback", "weighting", "normalize", "similarity")}
    weight = spec.get("user_feature_weight", spec.get("item_feature_weight", 0.0))
    if weight:
        path = spec.get("user_attributes", spec.get("item_attributes"))
        options.update(attributes=reference_cf.load_attributes(path), feature_weight=weight,
                       features=spec.get("user_features", spec.get("item_features")))
    return options


def name(spec):
    blend = spec.get("user_feature_weight", spec.get("item_feature_weight"))
    parts = [spec["algorithm"], spec["similarity"], spec["feedback"], f"K{spec['neighbours']}", spec["weighting"]]
    return "-".join(parts + (["normalize"] if spec["normalize"] else []) + ([f"blend{blend}"] if blend else []))


@pytest.fixture(scope="module")
def pairs():
    for path in (DATA, USERS, ITEMS):
        if not path.exists():
            pytest.skip(f"{path} is missing; run scripts/fetch-ml100k.sh")
    return reference_cf.load(DATA)


def check_top10(spec, pairs, out):
    """One variant's top-10 of every user against the reference's."""
    model = reference_cf.Model(pairs, **reference_options(spec))
    total, swaps = assert_matches_reference(model, run_ours(spec, out), ties_allowed=True)
    print(f"{name(spec)}: {total} entries, {swaps} tie-order differences, {tied_positions(model.top(10))} tied positions")


# The UserCF variants are test_recommend_similarity_usercf.py's: each file runs whole on one xdist worker, and the
# seventeen variants in one file were the suite's longest file (about 300 s at load 15), so the two halves run side
# by side.
@pytest.mark.parametrize("spec", [v for v in VARIANTS if v["algorithm"] == "itemcf"], ids=name)
def test_top10_matches_reference(spec, pairs, tmp_path):
    check_top10(spec, pairs, tmp_path / "ours.json")


@pytest.mark.parametrize("spec", [VARIANTS[12], VARIANTS[15]], ids=name)
def test_holdout_metrics_match_reference(spec, pairs, tmp_path):
    """The 80/20 holdout metrics of a blend: the model is built on the train rows, the attributes are the same."""
    bench("evaluate", spec, "--protocol", "8020", "--out", str(tmp_path / "metrics.json"))
    with open(tmp_path / "metrics.json", encoding="utf-8") as handle:
        ours = json.load(handle)["holdout-80-20"]
    expected = reference_cf.evaluate(pairs, "8020", **reference_options(spec))
    assert set(ours) == set(expected)
    for metric, value in expected.items():
        assert abs(ours[metric] - value) <= TOLERANCE, f"{metric}: {ours[metric]} vs {value}"


def test_service_evaluates_a_sectioned_artifact_like_the_reference(pairs, tmp_path):
    """Through `aimass serve`: a version whose artifact carries ml-100k.user in a `users` section and whose manifest
    asks for Pearson blended with user attributes evaluates (80/20 holdout, dry run) to the reference's metrics; an
    unknown similarity is refused at upload naming the key and the allowed values."""
    data = tmp_path / "data"
    sp = start_aimass(data)
    exe = str(aimass_binary("aimass"))
    env = cli_environment(AIMASS_SERVER=sp.target)

    def cli(*args, check=True):
        out = subprocess.run([exe, *args, "--data-dir", str(data)], capture_output=True, text=True, timeout=600,
                             env=env, cwd=tmp_path)
        if check:
            assert out.returncode == 0, f"aimass {' '.join(args)}: {out.stderr}"
        return out

    try:
        bundle = tmp_path / "ml-100k.bundle"
        bundle.write_bytes(b"#%section interactions\n" + DATA.read_bytes() + b"#%section users\n" + USERS.read_bytes())
        cli("model", "create", "movies", "--manifest", "algorithm=usercf")
        manifest = ["similarity=pearson", "neighbours=50", "user_feature_weight=0.05", f"user_features={USER_FEATURES}"]
        cli("model", "upload", "movies", str(bundle), *[arg for pair in manifest for arg in ("--manifest", pair)])
        out = cli("evaluate", "--model", "movies", "--protocol", "holdout", "--dry-run", "--json")
        metrics = json.loads(out.stdout)["metrics"]
        expected = reference_cf.evaluate(
            pairs, "8020", algorithm="usercf", neighbours=50, similarity="pearson", feature_weight=0.05,
            attributes=reference_cf.load_attributes(USERS), features=USER_FEATURES)
        for metric in ("precision@10", "recall@10", "ndcg@10", "coverage@10"):
            assert abs(metrics[f"holdout.{metric}"] - expected[metric]) <= TOLERANCE, (metric, metrics, expected)
        print(f"service: holdout.precision@10 = {metrics['holdout.precision@10']}")

        refused = cli("model", "upload", "movies", str(bundle), "--manifest", "similarity=manhattan", check=False)
        assert refused.returncode != 0
        assert "INVALID_ARGUMENT" in refused.stderr or "invalid" in refused.stderr.lower(), refused.stderr
        assert "similarity" in refused.stderr and "adjusted_cosine" in refused.stderr, refused.stderr
    finally:
        stop_server(sp)
