"""CSAT and CES through Python: explicit satisfied sets, tallies, pickling, errors, formatting."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import IncompatibleError, InvalidArgumentError, OutOfRangeError, UndefinedError


def test_satisfied_is_required_and_never_guessed() -> None:
    with pytest.raises(TypeError):
        cx.csat([5, 4])  # type: ignore[call-arg]
    with pytest.raises(InvalidArgumentError, match="satisfied"):
        cx.csat([5, 4], satisfied="top3")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="satisfied"):
        cx.csat([5, 4], satisfied=True)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="satisfied"):
        cx.compare_csat([5], [4])
    assert cx.csat([5, 4, 3, 1], satisfied="top_box").share_satisfied == 0.25
    assert cx.csat([5, 4, 3, 1], satisfied=3).share_satisfied == 0.75


def test_scales_and_ranges() -> None:
    assert cx.csat([3, 1, 2], 3, satisfied="top_box").share_satisfied == pytest.approx(1 / 3, rel=1e-15)
    with pytest.raises(InvalidArgumentError, match="scale"):
        cx.csat([1], 4, satisfied="top_box")
    with pytest.raises(OutOfRangeError, match=r"value 6 at position 1 is outside the scale 1\.\.=5"):
        cx.csat([5, 6], satisfied="top_box")
    with pytest.raises(OutOfRangeError, match=r"1\.\.=5"):
        cx.ces([6], version=1)
    with pytest.raises(InvalidArgumentError, match="version"):
        cx.ces([6], version=3)  # type: ignore[arg-type]


def test_tallies_merge_pickle_and_keep_versions_apart() -> None:
    a, b = cx.CsatTally(5), cx.CsatTally(5)
    a.fold([5, 4, None])
    b.fold([1, 2], weights=[2.0, 1.0])
    total = pickle.loads(pickle.dumps(a + b))
    assert total == a + b and (total.n, total.n_omitted) == (4, 1)
    assert total.result(satisfied="top_two_box").share_satisfied == pytest.approx(2 / 5, rel=1e-15)
    with pytest.raises(IncompatibleError):
        a.merge(cx.CsatTally(7))
    c1, c2 = cx.CesTally(version=1), cx.CesTally(version=2)
    with pytest.raises(IncompatibleError, match=r"CES 1\.0 and CES 2\.0"):
        c1.merge(c2)  # type: ignore[arg-type]
    c1.fold([1, 2, 5])
    back = pickle.loads(pickle.dumps(c1))
    assert back.version == 1 and back == c1 and back.copy() == c1
    assert cx.CesTally.from_json(c1.to_json(), version=1) == c1


def test_results_pickle_print_and_serialise() -> None:
    r = cx.csat([5, 4, 4, 2, 1], satisfied="top_two_box")
    assert pickle.loads(pickle.dumps(r)) == r
    assert str(r).startswith("CSAT 60.0% top_two_box of 5 (95% CI ")
    assert repr(r).startswith("CsatResult(share_satisfied=0.6, ")
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d and d["ci"]["method"] == "wilson"
    assert "<table>" in r._repr_html_()
    e = cx.ces([7, 6, 2])
    assert pickle.loads(pickle.dumps(e)) == e
    assert str(e).startswith("CES 2.0 mean 5.00 (95% CI ")
    assert json.loads(json.dumps(e.to_dict()))["version"] == 2


def test_empty_input_is_undefined_not_a_crash() -> None:
    r = cx.csat([None, None], satisfied="top_box")
    assert r.undefined is not None and math.isnan(r.share_satisfied)
    assert r.n_omitted == 2
    assert "undefined" in str(r)
    assert r.to_dict()["share_satisfied"] is None
    with pytest.raises(UndefinedError, match="the estimate is undefined"):
        r.ci()
    with pytest.raises(UndefinedError):
        cx.compare_csat(r, r)


def test_comparisons() -> None:
    c = cx.compare_ces([7, 6, 6, 5, 7, 4, 6, 5], [2, 4, 5, 3, 6, 1, 4, 3])
    assert c.difference == pytest.approx(7 / 8 - 2 / 8, rel=1e-12)
    assert c.ci(0.99).width > c.ci(0.9).width
    assert pickle.loads(pickle.dumps(c)).difference == c.difference
    with pytest.raises(IncompatibleError):
        cx.compare_ces(cx.ces([1], version=1), cx.ces([1], version=2))
    with pytest.raises(InvalidArgumentError, match="confidence_level"):
        c.ci(1.5)
    with pytest.raises(InvalidArgumentError, match="method"):
        cx.csat([5], satisfied="top_box").ci(0.95, "wald")  # type: ignore[arg-type]


@pytest.mark.parametrize(("version", "agree", "disagree"), [(2, (5, 7), (1, 3)), (1, (1, 2), (4, 5))])
def test_ces_sides_are_the_points_the_shares_count(
    version: int, agree: tuple[int, int], disagree: tuple[int, int]
) -> None:
    # CES 2.0: "agree" (5-7 of 1-7) is easy; CES 1.0: low effort (1-2 of 1-5) is easy.
    values = np.array([1, 2, 2, 3, 4, 5, 5, 5, 6, 7, 7] if version == 2 else [1, 1, 2, 3, 3, 4, 5, 5])
    r = cx.ces(values, version=version)
    assert (r.agree_points, r.disagree_points) == (agree, disagree)
    share = lambda lo, hi: float(np.mean((values >= lo) & (values <= hi)))  # noqa: E731
    assert r.share_agree == pytest.approx(share(*agree), rel=1e-15)
    assert r.share_disagree == pytest.approx(share(*disagree), rel=1e-15)
