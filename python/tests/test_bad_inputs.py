"""Bad inputs and limits found by an adversarial run: each gets a clear, typed answer.

Every test here failed before its fix: masked values were silently unmasked (a masked 99 became an
out-of-range error, a masked weight of 1e9 decided the score), 2^40 resamples aborted the process,
reversed matrix intervals were taken as given, and so on.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import InvalidArgumentError, MissingValueError


def _masked(values: list[float], masked: list[int]) -> np.ma.MaskedArray:
    mask = np.zeros(len(values), dtype=bool)
    mask[masked] = True
    return np.ma.masked_array(values, mask=mask)


# ----- numpy masked arrays: masked = missing ---------------------------------------------------------


def test_masked_ratings_are_missing_in_every_score() -> None:
    m = _masked([10, 9, 99, 3], [2])  # the 99 under the mask is a "don't know" code
    r = cx.nps(m)
    assert (r.n, r.n_omitted) == (3, 1)
    assert r.score == cx.nps([10, 9, 3]).score
    c = cx.csat(_masked([5, 4, 99, 2], [2]), satisfied="top_two_box")
    assert (c.n, c.n_omitted, c.share_satisfied) == (3, 1, 2 / 3)
    e = cx.ces(_masked([7, 99, 2], [1]))
    assert (e.n, e.n_omitted) == (2, 1)
    t = cx.NpsTally()
    t.fold(_masked([10, 0, 7], [0]))
    assert (t.n, t.n_omitted) == (2, 1)
    with pytest.raises(MissingValueError):
        cx.nps(m, nan_policy="raise")


def test_masked_integer_ratings_and_no_mask() -> None:
    m = np.ma.masked_array(np.array([10, 9, 50], dtype=np.int16), mask=[False, False, True])
    assert cx.nps(m).n == 2
    plain = np.ma.masked_array(np.array([10, 9, 3], dtype=np.int8))  # nothing masked
    assert cx.nps(plain).score == cx.nps([10, 9, 3]).score


def test_masked_weights_are_refused() -> None:
    w = _masked([1.0, 1.0, 1e9, 1.0], [2])
    with pytest.raises(InvalidArgumentError, match="position 2 is masked"):
        cx.nps([10, 9, 3, 1], weights=w)
    assert cx.nps([10, 9, 3, 1], weights=np.ma.masked_array([1.0, 2.0, 1.0, 1.0])).n == 4


def test_masked_labels_are_the_missing_label() -> None:
    labels = _masked([1, 1, 2, 2], [2])
    with pytest.warns(cx.MissingLabelWarning):
        g = cx.nps([10, 9, 3, 1], by=labels)
    assert g.groups == (1, 2, None)
    assert (g[1].n, g[2].n, g[None].n) == (2, 1, 1)
    text = np.ma.masked_array(np.array(["a", "b", "a"], dtype=object), mask=[False, True, False])
    with pytest.warns(cx.MissingLabelWarning):
        g = cx.nps([10, 9, 3], by=text)
    assert g.groups == ("a", None) and g["a"].n == 2


def test_masked_driver_columns_are_missing() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    y = np.clip(np.round(5 + 2 * x + rng.normal(size=60)), 0, 10)
    bad = x.copy()
    bad[5] = 1e6  # hidden under the mask
    data = {"ltr": y, "x": np.ma.masked_array(bad, mask=np.arange(60) == 5)}
    r = cx.driver_analysis(data, drivers=["x"])
    want = cx.driver_analysis({"ltr": np.delete(y, 5), "x": np.delete(x, 5)}, drivers=["x"])
    assert (r.n, r.n_omitted) == (59, 1)
    assert math.isclose(r.r_squared, want.r_squared, rel_tol=1e-12)


# ----- driver_analysis arguments --------------------------------------------------------------------


def _drivers_data(n: int = 80, p: int = 2, seed: int = 1) -> dict[str, np.ndarray]:
    # A continuous outcome under the name "ltr": analysed with outcome_scale=None (no 0-10 check).
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n, p))
    y = xs.sum(axis=1) + rng.normal(size=n)
    return {"ltr": y, **{f"x{j}": xs[:, j] for j in range(p)}}


def _rated() -> dict[str, np.ndarray]:
    """Two drivers rated 1-10 and a 0-10 outcome that follows them, with noise."""
    rng = np.random.default_rng(5)
    x = np.clip(np.round(5.5 + 2 * rng.normal(size=(120, 2))), 1, 10)
    ltr = np.clip(np.round(x.sum(axis=1) / 2 + rng.normal(size=120)), 0, 10)
    return {"ltr": ltr, "x0": x[:, 0], "x1": x[:, 1]}


def test_duplicate_column_names_are_refused() -> None:
    arr = np.column_stack([np.arange(10.0), np.arange(10.0) ** 0.5, np.arange(10.0) % 3])
    with pytest.raises(InvalidArgumentError, match="'x' appears more than once in columns="):
        cx.driver_analysis(arr, outcome="ltr", drivers=["x"], columns=["ltr", "x", "x"])
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(arr, columns=["ltr", "x", "x"])
    with pytest.raises(InvalidArgumentError, match="'x' appears more than once"):
        cx.driver_analysis(frame, drivers=["x"])


def test_driver_names_must_be_text() -> None:
    arr = np.column_stack([np.arange(10.0), np.arange(10.0) % 4])
    with pytest.raises(InvalidArgumentError, match="entry 0 is 1, a int; drivers are column names"):
        cx.driver_analysis(arr, outcome="ltr", drivers=[1], columns=["ltr", "x"])


def test_measures_as_one_string_is_refused() -> None:
    r = cx.driver_analysis(_drivers_data(), drivers=["x0", "x1"], outcome_scale=None)
    with pytest.raises(InvalidArgumentError, match=re.escape("measures=['lmg']")):
        r.bootstrap(n_resamples=10, seed=1, measures="lmg")


def test_reversed_or_nan_matrix_intervals_name_the_driver() -> None:
    r = cx.driver_analysis(_rated(), drivers=["x0", "x1"])
    with pytest.raises(InvalidArgumentError, match=r"interval of \"x1\" is reversed"):
        r.matrix(scale=(1, 10), importance_intervals=[(0.1, 0.9), (0.8, 0.2)])
    with pytest.raises(InvalidArgumentError, match=r"interval of \"x0\".*finite"):
        r.matrix(scale=(1, 10), importance_intervals=[(math.nan, 0.9), (0.2, 0.8)])


def test_sampled_importance_is_stated() -> None:
    r = cx.driver_analysis(
        _drivers_data(n=300, p=26), drivers=[f"x{j}" for j in range(26)], outcome_scale=None
    )
    kinds = [w.kind for w in r.warnings]
    assert "sampled_importance" in kinds
    w = r.warnings[kinds.index("sampled_importance")]
    assert w.details["units"] == 26 and w.details["permutations"] == 10000
    assert "random orders of entry" in str(r) and "more than 25" in w.message and len(w.message) <= 140
    exact = cx.driver_analysis(
        _drivers_data(n=300, p=5), drivers=[f"x{j}" for j in range(5)], outcome_scale=None
    )
    assert "sampled_importance" not in [w.kind for w in exact.warnings]


# ----- resamples: bounded, typed errors ---------------------------------------------------------------


def test_too_many_resamples_are_a_typed_error() -> None:
    with pytest.raises(InvalidArgumentError, match=r"n_resamples.*1000000"):
        cx.nps_bootstrap_ci([10, 9, 3], n_resamples=2**40)
    for bad in (-1, 2**70, 2.5, True):
        with pytest.raises(InvalidArgumentError, match="n_resamples"):
            cx.nps_bootstrap_ci([10, 9, 3], n_resamples=bad)  # type: ignore[arg-type]
    r = cx.driver_analysis(_rated(), drivers=["x0", "x1"])
    with pytest.raises(InvalidArgumentError, match=r"n_resamples.*1000000"):
        r.bootstrap(n_resamples=2**40, seed=1)
    with pytest.raises(InvalidArgumentError, match=r"n_resamples.*1000000"):
        r.what_if({"x0": 1}, scale=(1, 10), n_resamples=2**40)


# ----- cx.nps warns when the ratings look like another scale ------------------------------------------


def test_nps_warns_on_another_scale() -> None:
    with pytest.warns(cx.ScaleWarning, match="1-5 scale.*cx.csat"):
        cx.nps([1, 2, 3, 4, 5] * 6)
    with pytest.warns(cx.ScaleWarning, match="1-7 scale.*cx.ces") as caught:
        r = cx.nps([1, 2, 3, 4, 5, 6, 7] * 5)
    # The 7s are passives, as the result says: the warning does not call them detractors.
    assert r.n_passives == 5
    assert "detractors (up to 6) or passives (7), never promoters" in str(caught[0].message)
    with pytest.warns(cx.ScaleWarning):
        cx.nps([1, 2, 3, 4, 5] * 6, by=[1, 2] * 15)
    with warnings.catch_warnings():
        warnings.simplefilter("error", cx.ScaleWarning)
        cx.nps([1, 2, 3, 4, 5] * 5)  # n = 25 < 30
        cx.nps([1, 2, 3, 4, 5, 8] * 6)  # an 8 is not on a 1-7 scale
        t = cx.NpsTally()
        t.fold([1, 2, 3, 4, 5] * 6)
        t.result()  # tallies do not warn
    assert issubclass(cx.ScaleWarning, UserWarning)


# ----- warnings print rounded figures and say what to do ----------------------------------------------


def test_warning_messages_are_rounded_and_use_the_table_coefficient() -> None:
    rng = np.random.default_rng(11)
    z = rng.normal(size=400)
    x2 = z + 0.3 * rng.normal(size=400)
    y = 2 * z - x2 + 0.5 * rng.normal(size=400)  # x2 correlates positively, its coefficient is -1
    data = {"ltr": y, "z": z, "x2": x2, "neg": -z + rng.normal(size=400)}
    r = cx.driver_analysis(data, drivers=["z", "x2", "neg"], outcome_scale=None)
    messages = {w.kind: w.message for w in r.warnings}
    sign = next(w for w in r.warnings if w.details.get("detail", {}).get("kind") == "sign_disagreement")
    estimate = r.coefficients.loc["x2", "estimate"] if "x2" in r.coefficients.index else None
    assert sign.details["estimate"] is not None
    if estimate is not None:
        assert math.isclose(sign.details["estimate"], float(estimate), rel_tol=1e-12)
    assert "coefficient -0.9" in sign.message or "coefficient -1" in sign.message, sign.message
    for text in [*messages.values(), sign.message]:
        # No figure with more than four significant digits.
        assert not re.search(r"\d\.\d{5,}", text), text
    assert "recode it" in messages["negative_correlation"]
    assert all(len(m) <= 140 for m in [*messages.values(), sign.message])
