"""cx.trend and cx.compare_all against independent figures.

Tolerances: closed forms recomputed with numpy (estimates, standard errors, control limits) agree to
1e-12; p-values against scipy's normal tail to 1e-9 relative (the core's normal tail, statrs' erfc,
is accurate to about 1e-10 relative); statsmodels' WLS slope and its fixed-scale standard error to
1e-10 (a different solver), its p-value to 1e-9 relative; statsmodels' multipletests to 1e-12 on the
same raw p-values.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cx_metrics as cx
from cx_metrics.exceptions import InvalidArgumentError, OutOfRangeError

TOL = 1e-12


def _panel(seed: int = 7, waves: int = 6, n: int = 120, segments: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for w in range(waves):
        for s in range(segments):
            p = np.array([0.25 - 0.02 * w + 0.03 * s, 0.3, 0.45 + 0.02 * w - 0.03 * s])
            p = p / p.sum()
            cat = rng.choice(3, size=n, p=p)
            ltr = np.where(
                cat == 0,
                rng.integers(0, 7, n),
                np.where(cat == 1, rng.integers(7, 9, n), rng.integers(9, 11, n)),
            )
            csat = rng.integers(1, 6, n)
            rows.append(
                pd.DataFrame(
                    {
                        "wave": f"W{w + 1}",
                        "segment": f"S{s}",
                        "ltr": ltr,
                        "csat": csat,
                        "weight": rng.uniform(0.5, 2.0, n),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def _nps_hand(ltr: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float, float, float, float]:
    w = np.ones(len(ltr)) if w is None else w
    p = w[ltr >= 9].sum() / w.sum()
    d = w[ltr <= 6].sum() / w.sum()
    n_eff = w.sum() ** 2 / (w**2).sum()
    score = p - d
    return score, np.sqrt((p + d - score**2) / n_eff), p, d, n_eff


def test_waves_and_independent_changes_by_hand() -> None:
    df = _panel()
    t = cx.trend(df, "nps", by="wave", weights="weight", adjust=None)
    assert t.waves == tuple(f"W{i}" for i in range(1, 7))
    waves = t.table
    hand = [_nps_hand(g["ltr"].to_numpy(), g["weight"].to_numpy()) for _, g in df.groupby("wave")]
    np.testing.assert_allclose(waves["estimate"], [h[0] for h in hand], rtol=0, atol=TOL)
    np.testing.assert_allclose(waves["std_error"], [h[1] for h in hand], rtol=0, atol=TOL)
    # The interval is that of cx.nps(by=) (adjusted Wald).
    by = cx.nps("ltr", data=df, by="wave", weights="weight").to_pandas()
    np.testing.assert_allclose(waves["ci_low"], by["ci_low"], rtol=0, atol=TOL)
    ch = t.changes
    d = np.diff([h[0] for h in hand])
    se = np.hypot([h[1] for h in hand][:-1], [h[1] for h in hand][1:])
    np.testing.assert_allclose(ch["difference"], d, rtol=0, atol=TOL)
    np.testing.assert_allclose(ch["std_error"], se, rtol=0, atol=TOL)
    np.testing.assert_allclose(ch["p_value"], 2 * stats.norm.sf(np.abs(d / se)), rtol=1e-9, atol=0)
    np.testing.assert_allclose(ch["p_adjusted"], ch["p_value"], rtol=0, atol=0)
    assert set(ch["test"]) == {"independent"}
    assert ch["from"].tolist() == list(t.waves[:-1])


def test_trend_test_is_statsmodels_wls_with_known_variances() -> None:
    sm = pytest.importorskip("statsmodels.api")
    df = _panel(seed=3)
    t = cx.trend(df, "nps", by="wave")
    w = t.table
    y, se = w["estimate"].to_numpy(), w["std_error"].to_numpy()
    fit = sm.WLS(y, sm.add_constant(np.arange(len(y), dtype=float)), weights=1 / se**2).fit(
        cov_type="fixed scale"
    )
    test = t.tests.iloc[0]
    assert test["method"] == "wls_slope"
    assert abs(test["slope"] - fit.params[1]) < 1e-10
    assert abs(test["std_error"] - fit.bse[1]) < 1e-10
    assert abs(test["p_value"] - fit.pvalues[1]) < 1e-9 * fit.pvalues[1]


def test_holm_and_bh_across_segments_are_multipletests() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    df = _panel(seed=11)
    for adjust, method in (("holm", "holm"), ("bh", "fdr_bh")):
        t = cx.trend(df, "nps", by="wave", segment="segment", adjust=adjust)
        ch = t.changes
        assert len(ch) == 3 * 5
        expected = multitest.multipletests(ch["p_value"].to_numpy(), method=method)[1]
        np.testing.assert_allclose(ch["p_adjusted"], expected, rtol=0, atol=TOL)
        tests = t.tests
        expected = multitest.multipletests(tests["p_value"].to_numpy(), method=method)[1]
        np.testing.assert_allclose(tests["p_adjusted"], expected, rtol=0, atol=TOL)


def test_segments_equal_separate_trends() -> None:
    df = _panel(seed=5)
    t = cx.trend(df, "nps", by="wave", segment="segment", weights="weight")
    assert t.segments == ("S0", "S1", "S2")
    table = t.table
    for s in t.segments:
        alone = cx.trend(df[df["segment"] == s], "nps", by="wave", weights="weight").table
        mine = table[table["segment"] == s].reset_index(drop=True)
        for col in ("estimate", "std_error", "ci_low", "lcl", "ucl", "centre"):
            np.testing.assert_allclose(mine[col], alone[col], rtol=0, atol=TOL)


def test_paired_change_is_the_paired_comparison() -> None:
    rng = np.random.default_rng(1)
    n = 300
    first = rng.integers(0, 11, n)
    second = np.clip(first + rng.integers(-3, 4, n), 0, 10)
    ids = np.arange(n)
    # Respondents 0..249 answer both waves, 250..299 only the first; 40 newcomers in the second.
    df = pd.DataFrame(
        {
            "id": np.concatenate([ids, ids[:250], 1000 + np.arange(40)]),
            "wave": [1] * n + [2] * 290,
            "ltr": np.concatenate([first, second[:250], rng.integers(0, 11, 40)]),
        }
    )
    t = cx.trend(df, "nps", by="wave", respondent_id="id")
    ch = t.changes.iloc[0]
    ref = cx.compare_nps(second[:250], first[:250], paired=True)
    assert ch["test"] == "paired"
    assert abs(ch["difference"] - ref.difference) < TOL
    assert abs(ch["std_error"] - ref.std_error) < TOL
    assert abs(ch["p_value"] - ref.p_value) < TOL
    assert (ch["n_paired"], ch["n_only_from"], ch["n_only_to"]) == (250, 50, 40)
    # The waves' own estimates use every respondent.
    assert t.table["n"].tolist() == [300, 290]
    assert t.linked


def test_p_chart_and_laney_limits_by_hand() -> None:
    df = _panel(seed=9, waves=8)
    t = cx.trend(df, "csat", by="wave", satisfied="top_two_box")
    w = t.table
    sat = df.assign(s=df["csat"] >= 4).groupby("wave")["s"]
    p, n = sat.mean().to_numpy(), sat.size().to_numpy().astype(float)
    np.testing.assert_allclose(w["estimate"], p, rtol=0, atol=TOL)
    pbar = (p * n).sum() / n.sum()
    sigma = np.sqrt(pbar * (1 - pbar) / n)
    np.testing.assert_allclose(w["centre"], pbar, rtol=0, atol=TOL)
    np.testing.assert_allclose(w["ucl"], np.minimum(pbar + 3 * sigma, 1), rtol=0, atol=TOL)
    np.testing.assert_allclose(w["lcl"], np.maximum(pbar - 3 * sigma, 0), rtol=0, atol=TOL)
    assert t.tests["chart"].iloc[0] == "p"
    laney = cx.trend(df, "csat", by="wave", satisfied="top_two_box", limits="laney")
    z = (p - pbar) / sigma
    sigma_z = np.abs(np.diff(z)).mean() / 1.128
    lw = laney.table
    np.testing.assert_allclose(lw["ucl"], np.minimum(pbar + 3 * sigma * sigma_z, 1), rtol=0, atol=TOL)
    np.testing.assert_allclose(lw["lcl"], np.maximum(pbar - 3 * sigma * sigma_z, 0), rtol=0, atol=TOL)
    assert abs(laney.tests["sigma_z"].iloc[0] - sigma_z) < TOL
    assert laney.tests["chart"].iloc[0] == "laney_p_prime"


def test_trinomial_nps_limits_by_hand() -> None:
    df = _panel(seed=13)
    t = cx.trend(df, "nps", by="wave")
    hand = [_nps_hand(g["ltr"].to_numpy()) for _, g in df.groupby("wave")]
    n = np.array([h[4] for h in hand])
    pp = (np.array([h[2] for h in hand]) * n).sum() / n.sum()
    pd_ = (np.array([h[3] for h in hand]) * n).sum() / n.sum()
    c = pp - pd_
    sigma = np.sqrt((pp + pd_ - c**2) / n)
    w = t.table
    np.testing.assert_allclose(w["centre"], c, rtol=0, atol=TOL)
    np.testing.assert_allclose(w["ucl"], c + 3 * sigma, rtol=0, atol=TOL)
    np.testing.assert_allclose(w["lcl"], c - 3 * sigma, rtol=0, atol=TOL)
    assert t.tests["chart"].iloc[0] == "trinomial"


def test_i_mr_of_means_by_hand() -> None:
    df = _panel(seed=17, waves=7)
    t = cx.trend(df, "csat_mean", by="wave", limits="laney")
    g = df.groupby("wave")["csat"]
    m, s, n = g.mean().to_numpy(), g.std().to_numpy(), g.size().to_numpy().astype(float)
    w = t.table
    np.testing.assert_allclose(w["estimate"], m, rtol=0, atol=TOL)
    np.testing.assert_allclose(w["std_error"], s / np.sqrt(n), rtol=0, atol=TOL)
    centre = (m * n).sum() / n.sum()
    sp = np.sqrt(((n - 1) * s**2).sum() / (n - 1).sum())
    sigma = sp / np.sqrt(n)
    sigma_z = np.abs(np.diff((m - centre) / sigma)).mean() / 1.128
    np.testing.assert_allclose(w["ucl"], centre + 3 * sigma * sigma_z, rtol=0, atol=TOL)
    # Equal n: the classic I-MR limits, centre +- 3 MRbar / 1.128.
    np.testing.assert_allclose(w["ucl"], centre + 3 * np.abs(np.diff(m)).mean() / 1.128, rtol=0, atol=TOL)
    assert t.tests["chart"].iloc[0] == "i_mr"


def test_rule_1_flags_a_shifted_wave() -> None:
    rng = np.random.default_rng(2)
    frames = []
    for w in range(8):
        share = 0.55 if w == 5 else 0.4
        frames.append(pd.DataFrame({"wave": w, "ltr": np.where(rng.random(400) < share, 10, 3)}))
    t = cx.trend(pd.concat(frames), "nps", by="wave")
    w = t.table
    assert w["rule_1"].tolist() == [i == 5 for i in range(8)]
    assert 5 in t.flagged
    assert "rule 1" in str(t)


def test_compare_all_is_the_wald_comparison_with_holm() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    survey = cx.datasets.sample_survey()
    r = cx.compare_all(survey, "nps", by="segment", weights="weight")
    table = r.table
    assert len(table) == 6
    for _, row in table.iterrows():
        a = survey[survey["segment"] == row["a"]]
        b = survey[survey["segment"] == row["b"]]
        ref = cx.compare_nps(a["ltr"], b["ltr"], method="wald", weights=None)
        ea = cx.nps(a["ltr"], weights=a["weight"])
        eb = cx.nps(b["ltr"], weights=b["weight"])
        assert abs(row["difference"] - (ea.score - eb.score)) < TOL
        assert abs(row["std_error"] - np.hypot(ea.std_error, eb.std_error)) < TOL
        assert ref.method  # the unweighted comparison exists; the weighted one is checked by hand
    expected = multitest.multipletests(table["p_value"].to_numpy(), method="holm")[1]
    np.testing.assert_allclose(table["p_adjusted"], expected, rtol=0, atol=TOL)
    unweighted = cx.compare_all(survey, "nps", by="segment", adjust="bh").table
    row = unweighted.iloc[0]
    a = survey[survey["segment"] == row["a"]]["ltr"]
    b = survey[survey["segment"] == row["b"]]["ltr"]
    ref = cx.compare_nps(a, b, method="wald")
    assert abs(row["difference"] - ref.difference) < TOL
    assert abs(row["std_error"] - ref.std_error) < TOL
    assert abs(row["p_value"] - ref.p_value) < TOL
    m = r.matrix()
    assert m.shape == (4, 4) and np.isnan(m[0, 0])
    assert abs(m[1, 0] + m[0, 1]) < TOL


def test_shares_and_means_match_the_metrics() -> None:
    survey = cx.datasets.sample_survey()
    t = cx.trend(survey, "ces", by="wave", weights="weight")
    ref = cx.ces("ces", data=survey, by="wave", weights="weight").to_pandas()
    np.testing.assert_allclose(t.table["estimate"], ref["estimate"], rtol=0, atol=TOL)
    np.testing.assert_allclose(t.table["ci_low"], ref["ci_low"], rtol=0, atol=TOL)
    t = cx.trend(survey, "mean", by="wave", outcome="empathy", scale=(1, 10))
    means = survey.groupby("wave", observed=True)["empathy"].mean().to_numpy(dtype=float)
    np.testing.assert_allclose(t.table["estimate"], means, rtol=0, atol=TOL)


def test_results_convert_print_and_pickle() -> None:
    survey = cx.datasets.sample_survey()
    t = cx.trend(survey, "nps", by="wave", segment="segment", weights="weight")
    assert "WLS slope" in str(t) and "<table>" in t._repr_html_()
    assert t.to_polars("changes").columns == list(t.to_pandas("changes").columns)
    back = pickle.loads(pickle.dumps(t))
    assert back.waves == t.waves and back.to_dict() == t.to_dict()
    pd.testing.assert_frame_equal(back.table, t.table)
    r = cx.compare_all(survey, "csat", by="channel", satisfied="top_box")
    assert "pairs" in str(r) and "<table>" in r._repr_html_()
    assert pickle.loads(pickle.dumps(r)).to_dict() == r.to_dict()
    assert len(r.to_polars("groups")) == len(r.groups)


def test_errors_say_what_to_do() -> None:
    survey = cx.datasets.sample_survey()
    with pytest.raises(InvalidArgumentError, match="satisfied"):
        cx.trend(survey, "csat", by="wave")
    with pytest.raises(InvalidArgumentError, match="metric"):
        cx.trend(survey, "median", by="wave")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="scale"):
        cx.trend(survey, "mean", by="wave", outcome="empathy")
    with pytest.raises(InvalidArgumentError, match="adjust"):
        cx.trend(survey, "nps", by="wave", adjust="bonferroni")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="same respondent id"):
        cx.trend({"ltr": [10, 9, 8], "wave": [1, 1, 2], "id": [5, 5, 5]}, "nps", respondent_id="id")
    with pytest.raises(OutOfRangeError, match="position 2"):
        cx.trend({"ltr": [10, 9, 11], "wave": [1, 1, 2]}, "nps")


# NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3.3.2 (Proportions control charts): 30
# wafers of 50 chips, the fraction with a misregistration on each; published centre line .2313 and
# 3-sigma limits UCL .4102, LCL .0524 (rounded to 4 decimals).
NIST_WAFERS = [
    0.24, 0.30, 0.16, 0.20, 0.08, 0.14, 0.32, 0.18, 0.28, 0.20,
    0.10, 0.12, 0.34, 0.24, 0.44, 0.16, 0.20, 0.10, 0.26, 0.22,
    0.40, 0.36, 0.48, 0.30, 0.18, 0.24, 0.14, 0.26, 0.18, 0.12,
]  # fmt: skip


def test_p_chart_reproduces_the_nist_handbook_example() -> None:
    rows = []
    for i, p in enumerate(NIST_WAFERS):
        bad = round(p * 50)
        rows += [(i + 1, 5)] * bad + [(i + 1, 1)] * (50 - bad)  # top box = a misregistered chip
    df = pd.DataFrame(rows, columns=["wafer", "csat"])
    t = cx.trend(df, "csat", by="wafer", satisfied="top_box")
    w = t.table
    assert t.tests["chart"].iloc[0] == "p"
    assert round(float(w["centre"].iloc[0]), 4) == 0.2313
    assert (w["ucl"].round(4) == 0.4102).all() and (w["lcl"].round(4) == 0.0524).all()
    # Rule 1 flags the wafers beyond the published upper limit: 15 (0.44) and 23 (0.48).
    assert list(w.loc[w["rule_1"], "wafer"]) == [15, 23]
