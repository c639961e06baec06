"""RecommendCore against the independent numpy reference (scripts/reference_cf.py) on MovieLens 100k.

Top-10 lists of every user for six variants, and the evaluation protocols' metrics for two.

For every user, our top-10 ids and scores must match the reference's: scores to 1e-9 position by position, ids
exactly, except that where two items' reference scores are within 1e-9 of each other (a tie that rounding in a
different summation order may break either way) either order is accepted; such swaps are counted and must be rare.

Needs AIMASS_BENCH_BIN_DIR (the directory holding recommend-bench; see conftest.bench_binary) and data/ml-100k.inter (scripts/fetch-ml100k.sh).
"""

import importlib.util
import json
import pathlib
import subprocess

import pytest

from conftest import bench_binary

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "ml-100k.inter"
TOLERANCE = 1e-9

_spec = importlib.util.spec_from_file_location("reference_cf", ROOT / "scripts" / "reference_cf.py")
reference_cf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference_cf)

VARIANTS = [
    dict(algorithm="itemcf", neighbours=20, feedback="implicit", weighting="none", normalize=False),
    dict(algorithm="itemcf", neighbours=50, feedback="implicit", weighting="iuf", normalize=True),
    dict(algorithm="itemcf", neighbours=20, feedback="explicit", weighting="iuf", normalize=False),
    dict(algorithm="usercf", neighbours=20, feedback="implicit", weighting="none", normalize=False),
    dict(algorithm="usercf", neighbours=50, feedback="implicit", weighting="iif", normalize=False),
    dict(algorithm="usercf", neighbours=20, feedback="explicit", weighting="iif", normalize=False),
]


@pytest.fixture(scope="module")
def pairs():
    if not DATA.exists():
        pytest.skip(f"{DATA} is missing; run scripts/fetch-ml100k.sh")
    return reference_cf.load(DATA)


def bench(command, variant, *extra):
    """Runs `recommend-bench COMMAND --data DATA <variant options> EXTRA...`."""
    arguments = [
        str(bench_binary("recommend-bench")), command, "--data", str(DATA),
        "--algorithm", variant["algorithm"], "--neighbours", str(variant["neighbours"]),
        "--feedback", variant["feedback"], "--weighting", variant["weighting"], *extra,
    ]
    for option in ("similarity", "user_attributes", "item_attributes", "user_features", "user_feature_weight",
                   "item_features", "item_feature_weight"):
        if variant.get(option) is not None:
            arguments += ["--" + option.replace("_", "-"), str(variant[option])]
    if variant["normalize"]:
        arguments.append("--normalize")
    subprocess.run(arguments, check=True, timeout=600, stdout=subprocess.DEVNULL)


def run_ours(variant, out):
    """Our top-10 of every user: {user: [[item, score], ...]}."""
    bench("reference", variant, "--top", "10", "--out", str(out))
    with open(out, encoding="utf-8") as handle:
        return json.load(handle)["users"]


def tied_positions(expected):
    """How many positions of the reference's lists score within TOLERANCE of the next position (exact ties)."""
    return sum(1 for items in expected.values() for (_, a), (_, b) in zip(items, items[1:]) if abs(a - b) <= TOLERANCE)


def assert_matches_reference(model, ours, ties_allowed=False):
    """Every user's top-10 of `ours` against the reference `model`; returns (entries, tie-order differences).

    Swaps may be at most 1 per 1 000 entries, or, with `ties_allowed` (measures whose similarities are often exactly
    equal, such as adjusted cosine's ±1 for items with one common rater), at most the reference's tied positions."""
    expected = model.top(10)
    scores = model.scores()
    item_index = {item: n for n, item in enumerate(model.items)}
    assert set(ours) == set(expected), "user sets differ"
    swaps = 0
    for u, user in enumerate(model.users):
        mine, theirs = ours[user], expected[user]
        assert len(mine) == len(theirs), f"user {user}: {len(mine)} results, reference {len(theirs)}"
        assert len({item for item, _ in mine}) == len(mine), f"user {user}: repeated item"
        for position, ((item, score), (ref_item, ref_score)) in enumerate(zip(mine, theirs)):
            assert abs(score - ref_score) <= TOLERANCE, (
                f"user {user} #{position + 1}: score {score!r} vs reference {ref_score!r} ({item} / {ref_item})"
            )
            if item != ref_item:
                # Only a tie may be ordered differently: the reference must score our item the same.
                index = item_index[item]
                assert not model.seen[u, index], f"user {user}: recommended seen item {item}"
                assert abs(scores[u, index] - ref_score) <= TOLERANCE, (
                    f"user {user} #{position + 1}: {item} vs reference {ref_item} (not a tie)"
                )
                swaps += 1
    total = sum(len(v) for v in expected.values())
    assert total > 0
    limit = max(total // 1000, tied_positions(expected) if ties_allowed else 0)
    assert swaps <= limit, f"{swaps} tie swaps out of {total} entries (limit {limit})"
    return total, swaps


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(str(x) for x in v.values()))
def test_top10_matches_reference(variant, pairs, tmp_path):
    model = reference_cf.Model(pairs, **variant)
    total, swaps = assert_matches_reference(model, run_ours(variant, tmp_path / "ours.json"))
    print(f"{variant}: {total} entries, {swaps} tie-order differences")


@pytest.mark.parametrize("variant", [VARIANTS[1], VARIANTS[4]], ids=["itemcf-iuf-normalize", "usercf-iif"])
def test_evaluation_matches_reference(variant, pairs, tmp_path):
    """Both split protocols and every metric agree with the reference's independent split and metrics."""
    bench("evaluate", variant, "--protocol", "both", "--out", str(tmp_path / "metrics.json"))
    with open(tmp_path / "metrics.json", encoding="utf-8") as handle:
        ours = json.load(handle)
    for protocol, name in [("loo", "leave-last-one-out"), ("8020", "holdout-80-20")]:
        expected = reference_cf.evaluate(pairs, protocol, **variant)
        assert set(ours[name]) == set(expected), f"{name}: metric names differ"
        for metric, value in expected.items():
            assert abs(ours[name][metric] - value) <= TOLERANCE, f"{name} {metric}: {ours[name][metric]} vs {value}"
