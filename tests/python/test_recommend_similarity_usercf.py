"""The UserCF half of test_recommend_similarity.py's variants (its docstring says what is checked): a file of its own
so that the two halves run on two xdist workers side by side (`--dist loadfile` runs a file whole on one worker).

Needs AIMASS_BENCH_BIN_DIR and data/ml-100k.{inter,user,item} (scripts/fetch-ml100k.sh)."""

import pytest

from test_recommend_similarity import VARIANTS, check_top10, name, pairs  # noqa: F401 (pairs: the fixture)


@pytest.mark.parametrize("spec", [v for v in VARIANTS if v["algorithm"] == "usercf"], ids=name)
def test_top10_matches_reference(spec, pairs, tmp_path):  # noqa: F811 (pairs: the fixture)
    check_top10(spec, pairs, tmp_path / "ours.json")
