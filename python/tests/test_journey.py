"""Journey maps: every figure against an independent pandas / numpy / scipy / statsmodels computation
written here, with the tolerance stated at each check."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

import cx_metrics as cx
from cx_metrics.exceptions import InvalidArgumentError, JourneyError

TIGHT = 1e-12  # same arithmetic, different order of operations
LOOSE = 1e-9  # iterative or quantile-based references (t quantile, Newcombe)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return cx.sample_journey()


@pytest.fixture(scope="module")
def ours(data: pd.DataFrame) -> pd.DataFrame:
    return data[data["brand"] == "Northwind"].reset_index(drop=True)


@pytest.fixture(scope="module")
def jmap() -> cx.Journey:
    return cx.sample_journey_map()


def _adjusted_wald(p: int, d: int, n: int, z: float) -> tuple[float, float]:
    # Rocks (2016): add 0.75 promoters, 1.5 passives, 0.75 detractors.
    nt = n + 3
    pp, pd_ = (p + 0.75) / nt, (d + 0.75) / nt
    centre = pp - pd_
    var = pp + pd_ - centre**2
    half = z * math.sqrt(var / nt)
    return max(-1.0, centre - half), min(1.0, centre + half)


def test_touchpoint_and_stage_scores_match_pandas_scipy_statsmodels(
    ours: pd.DataFrame, jmap: cx.Journey
) -> None:
    s = cx.touchpoint_scores(ours, jmap, ltr="ltr", csat="csat", ces="ces")
    z = stats.norm.ppf(0.975)
    total = ours["customer_id"].nunique()
    assert s.n_customers == total
    for level, key in (("touchpoint", "touchpoint"), ("stage", "stage")):
        got = s.to_pandas(level).set_index(key)
        for name, g in ours.groupby(key):
            row = got.loc[name]
            assert row["n_rows"] == len(g)
            cust = g["customer_id"].nunique()
            assert row["n_customers"] == cust
            assert abs(row["customer_share"] - cust / total) < TIGHT
            lo, hi = proportion_confint(cust, total, method="wilson")
            assert (
                abs(row["customer_share_low"] - lo) < TIGHT and abs(row["customer_share_high"] - hi) < TIGHT
            )
            ltr = g["ltr"].dropna()
            p, d = int((ltr >= 9).sum()), int((ltr <= 6).sum())
            assert row["nps_n"] == len(ltr)
            assert abs(row["nps"] - (p - d) / len(ltr)) < TIGHT
            lo, hi = _adjusted_wald(p, d, len(ltr), z)
            assert abs(row["nps_low"] - lo) < TIGHT and abs(row["nps_high"] - hi) < TIGHT
            csat = g["csat"].dropna()
            sat = int((csat >= 4).sum())
            assert abs(row["csat"] - sat / len(csat)) < TIGHT
            lo, hi = proportion_confint(sat, len(csat), method="wilson")
            assert abs(row["csat_low"] - lo) < TIGHT and abs(row["csat_high"] - hi) < TIGHT
            assert abs(row["csat_bottom"] - (csat <= 2).mean()) < TIGHT
            assert abs(row["csat_mean"] - csat.mean()) < TIGHT
            ces = g["ces"].dropna()
            assert abs(row["ces_mean"] - ces.mean()) < TIGHT
            lo, hi = stats.t.interval(
                0.95, len(ces) - 1, loc=ces.mean(), scale=ces.std(ddof=1) / math.sqrt(len(ces))
            )
            assert abs(row["ces_mean_low"] - lo) < LOOSE and abs(row["ces_mean_high"] - hi) < LOOSE
            assert abs(row["ces_agree"] - (ces >= 5).mean()) < TIGHT
    # Stages come in map order, touchpoints stage by stage.
    assert list(s.to_pandas("stage")["stage"]) == [st for st, _ in jmap.stages]
    assert list(s.to_pandas()["touchpoint"]) == jmap.touchpoints


def test_inputs_polars_arrow_and_dict_give_the_same_result(ours: pd.DataFrame, jmap: cx.Journey) -> None:
    a = cx.touchpoint_scores(ours, jmap, ltr="ltr", csat="csat")
    b = cx.touchpoint_scores(pl.from_pandas(ours), jmap, ltr="ltr", csat="csat")
    c = cx.touchpoint_scores(pa.Table.from_pandas(ours), jmap, ltr="ltr", csat="csat")
    d = cx.touchpoint_scores({k: ours[k].tolist() for k in ours.columns}, jmap, ltr="ltr", csat="csat")
    assert a.to_json() == b.to_json() == c.to_json() == d.to_json()


def test_results_round_trip_and_print_their_conventions(ours: pd.DataFrame, jmap: cx.Journey) -> None:
    s = cx.touchpoint_scores(ours, jmap, ltr="ltr", csat="csat", ces="ces")
    back = cx.TouchpointScores.from_json(s.to_json())
    assert back.to_json() == s.to_json()
    assert pickle.loads(pickle.dumps(s)).to_json() == s.to_json()
    assert back.journey == jmap
    text = str(s)
    assert "adjusted_wald" in text and "wilson" in text and "top_two_box" in text
    assert "returns desk" in text
    assert s.to_polars(level="stage").height == len(jmap.stages)
    assert "<table" in s._repr_html_()
    assert s.to_dict()["n_customers"] == s.n_customers


def test_journey_validation_and_table_construction() -> None:
    with pytest.raises(JourneyError, match="named twice"):
        cx.Journey("j", [("a", ["x"]), ("a", ["y"])])
    with pytest.raises(JourneyError, match="is in stages"):
        cx.Journey("j", {"a": ["x"], "b": ["x"]})
    with pytest.raises(JourneyError, match="no touchpoint"):
        cx.Journey("j", {"a": []})
    with pytest.raises(InvalidArgumentError, match="third_party"):
        cx.Journey("j", {"a": [("x", "web", "partner")]})
    table = pd.DataFrame(
        {
            "stage": ["buy", "buy", "deliver"],
            "touchpoint": ["web", "shop", "carrier"],
            "channel": ["website", "store", "delivery"],
            "ownership": ["own", "own", "third_party"],
        }
    )
    j = cx.Journey.from_table(table, "retail", segment="new")
    assert j.stages == [
        ("buy", [("web", "website", "own"), ("shop", "store", "own")]),
        ("deliver", [("carrier", "delivery", "third_party")]),
    ]
    assert j.segment == "new"
    assert cx.Journey.from_json(j.to_json()) == j
    assert pickle.loads(pickle.dumps(j)) == j
    bad = table.assign(stage=["buy", "buy", "buy"], touchpoint=["web", "shop", "web"])
    with pytest.raises(JourneyError, match="rows 0"):
        cx.Journey.from_table(bad, "retail")
    assert "carrier [delivery, third party]" in str(j)


def test_bad_rows_are_named_or_excluded_and_counted(ours: pd.DataFrame, jmap: cx.Journey) -> None:
    bad = ours.copy()
    bad.loc[5, "touchpoint"] = "fax"
    with pytest.raises(JourneyError, match=r"row 5: touchpoint \"fax\" is not on the journey map"):
        cx.touchpoint_scores(bad, jmap, csat="csat")
    bad.loc[7, "touchpoint"] = None
    s = cx.touchpoint_scores(bad, jmap, csat="csat", unknown="exclude")
    assert s.n_excluded == 2
    assert s.to_pandas()["n_rows"].sum() == len(ours) - 2
    bad.loc[9, "customer_id"] = None
    with pytest.raises(JourneyError, match="row 9 has no customer id"):
        cx.touchpoint_scores(bad, jmap, csat="csat", unknown="exclude")
    with pytest.raises(cx.exceptions.OutOfRangeError):
        cx.touchpoint_scores(ours.assign(csat=ours["csat"] + 3), jmap, csat="csat")
    with pytest.raises(cx.exceptions.ColumnError):
        cx.touchpoint_scores(ours, jmap, csat="satisfaction")
    # A text rating column says what to do, not that a driver must be numeric.
    with pytest.raises(cx.exceptions.ColumnError, match="ratings, drivers and outcomes must be numeric"):
        cx.touchpoint_scores(ours.assign(csat=ours["csat"].map(str)), jmap, csat="csat")


def test_a_percentage_given_for_a_share_is_refused(ours: pd.DataFrame, jmap: cx.Journey) -> None:
    s = cx.touchpoint_scores(ours, jmap, csat="csat", ces="ces", ltr="ltr")
    # 85 meant as 85 % printed "csat >= 8500.00 ... missed beyond doubt" before.
    with pytest.raises(cx.exceptions.InvalidArgumentError, match=r"outside 0\.\.1.*give 0\.85"):
        cx.journey_gaps(s, [{"name": "website", "metric": "csat", "threshold": 85}])
    with pytest.raises(cx.exceptions.InvalidArgumentError, match=r"-1\.\.1"):
        cx.journey_gaps(s, [{"name": "website", "metric": "nps", "threshold": 30}])
    with pytest.raises(cx.exceptions.InvalidArgumentError, match=r"1\.\.7"):
        cx.journey_gaps(s, {"website": {"ces_mean": 8.5}})
    ok = cx.journey_gaps(s, [{"name": "website", "metric": "csat", "threshold": 0.85}])
    assert ok.to_pandas()["threshold"].tolist() == [0.85]


def test_gaps_verdicts_follow_the_wilson_and_t_intervals(ours: pd.DataFrame, jmap: cx.Journey) -> None:
    s = cx.touchpoint_scores(ours, jmap, csat="csat", ces="ces")
    targets = [
        {"name": "app", "metric": "csat", "threshold": 0.85},
        {"name": "call centre", "metric": "csat", "threshold": 0.85},
        {"name": "website", "metric": "ces_mean", "threshold": 5.5},
        {
            "name": "support",
            "level": "stage",
            "metric": "csat_bottom",
            "threshold": 0.2,
            "direction": "at_most",
        },
        {"name": "app", "metric": "csat", "threshold": 0.5},
    ]
    g = cx.journey_gaps(s, targets)
    got = g.to_pandas()
    for t, (_, row) in zip(targets, got.iterrows(), strict=True):
        key = "stage" if t.get("level") == "stage" else "touchpoint"
        rows = ours[ours[key] == t["name"]]
        if t["metric"] == "ces_mean":
            x = rows["ces"].dropna()
            est = x.mean()
            lo, hi = stats.t.interval(0.95, len(x) - 1, loc=est, scale=x.std(ddof=1) / math.sqrt(len(x)))
        else:
            x = rows["csat"].dropna()
            k = int((x >= 4).sum()) if t["metric"] == "csat" else int((x <= 2).sum())
            est = k / len(x)
            lo, hi = proportion_confint(k, len(x), method="wilson")
        thr = t["threshold"]
        assert abs(row["gap"] - (est - thr)) < TIGHT
        assert abs(row["gap_low"] - (lo - thr)) < LOOSE and abs(row["gap_high"] - (hi - thr)) < LOOSE
        if t.get("direction") == "at_most":
            want = "met_beyond_doubt" if hi <= thr else "missed_beyond_doubt" if lo > thr else "undecided"
        else:
            want = "met_beyond_doubt" if lo >= thr else "missed_beyond_doubt" if hi < thr else "undecided"
        assert row["verdict"] == want
    assert "missed_beyond_doubt" in g.verdicts and "met_beyond_doubt" in g.verdicts
    assert "missed beyond doubt" in str(g)
    with pytest.raises(JourneyError, match="not on the journey map"):
        cx.journey_gaps(s, [{"name": "fax", "metric": "csat", "threshold": 0.8}])
    with pytest.raises(InvalidArgumentError, match="nps"):
        cx.journey_gaps(s, [{"name": "app", "metric": "nps", "threshold": 0.1}])
    assert cx.journey_gaps(s, {"app": {"csat": 0.5}}).verdicts == [g.verdicts[-1]]


def _components(rows: pd.DataFrame, jmap: cx.Journey, reach: dict[str, int]) -> pd.DataFrame:
    """Effort, dissatisfaction (CSAT bottom box), volume and drop-off per touchpoint, with pandas."""
    total = rows["customer_id"].nunique()
    stages = [s for s, _ in jmap.stages]
    drop = {
        s: (1 - reach[stages[i + 1]] / reach[s]) if i + 1 < len(stages) else 0.0 for i, s in enumerate(stages)
    }
    g = rows.groupby("touchpoint")
    out = pd.DataFrame(
        {
            "effort": (7 - g["ces"].mean()) / 6,
            "dissatisfaction": g["csat"].apply(lambda x: (x.dropna() <= 2).mean()),
            "volume": g["customer_id"].nunique() / total,
        }
    )
    out["drop_off"] = [drop[jmap.stage_of(t)] for t in out.index]
    return out


def test_pain_points_components_weights_and_ranking(ours: pd.DataFrame, jmap: cx.Journey) -> None:
    reach = {
        "awareness": 400,
        "consideration": 334,
        "purchase": 255,
        "delivery": 242,
        "support": 112,
        "return": 53,
    }
    weights = {"effort": 2.0, "dissatisfaction": 1.0, "volume": 0.5, "drop_off": 0.5}
    p = cx.pain_points(
        ours, jmap, csat="csat", ces="ces", weights=weights, stage_reach=reach, n_resamples=1000, seed=3
    )
    assert p.normalised_weights == {
        "effort": 0.5,
        "dissatisfaction": 0.25,
        "volume": 0.125,
        "drop_off": 0.125,
    }
    want = _components(ours, jmap, reach)
    score = sum(p.normalised_weights[k] * want[k] for k in weights)
    got = p.to_pandas().set_index("touchpoint")
    for k in weights:
        assert np.allclose(got[k], want.loc[got.index, k], rtol=0, atol=TIGHT)
        assert np.allclose(
            got[f"{k}_contribution"], p.normalised_weights[k] * want.loc[got.index, k], atol=TIGHT
        )
    assert np.allclose(got["score"], score.loc[got.index], atol=TIGHT)
    assert p.worst == list(score.sort_values(ascending=False).index)
    assert abs(got["p_top"].sum() - 3) < TIGHT
    assert "0.500 effort" in str(p) and "stage_reach" in str(p)
    again = cx.pain_points(
        ours, jmap, csat="csat", ces="ces", weights=weights, stage_reach=reach, n_resamples=1000, seed=3
    )
    assert again.to_json() == p.to_json()
    assert cx.PainPoints.from_json(p.to_json()).worst == p.worst


def test_pain_point_probabilities_agree_with_an_independent_bootstrap(
    ours: pd.DataFrame, jmap: cx.Journey
) -> None:
    """P(among the worst 3) against a numpy bootstrap over customers written here (a different random
    stream): with 2000 resamples each, the Monte Carlo standard error of a difference is at most
    sqrt(2 x 0.25 / 2000) = 0.016; tolerance 0.06 (about 4 standard errors)."""
    p = cx.pain_points(ours, jmap, csat="csat", ces="ces", weights={"volume": 0.0}, n_resamples=2000, seed=11)
    rng = np.random.default_rng(5)
    tps = jmap.touchpoints
    ids = ours["customer_id"].unique()
    row_of = {c: i for i, c in enumerate(ids)}
    # Per customer and touchpoint: sums of CES and of bottom-box answers, and their counts.
    m = np.zeros((4, len(ids), len(tps)))
    for r in ours.itertuples():
        i, k = row_of[r.customer_id], tps.index(r.touchpoint)
        if not math.isnan(r.ces):
            m[0, i, k] += r.ces
            m[1, i, k] += 1
        if not math.isnan(r.csat):
            m[2, i, k] += r.csat <= 2
            m[3, i, k] += 1
    hits = pd.Series(0.0, index=tps)
    b = 2000
    for _ in range(b):
        w = np.bincount(rng.integers(0, len(ids), len(ids)), minlength=len(ids))
        ces_sum, ces_n, bad, bad_n = (w @ m[j] for j in range(4))
        score = pd.Series(0.5 * (7 - ces_sum / ces_n) / 6 + 0.5 * bad / bad_n, index=tps)
        for t in score.sort_values(ascending=False, kind="stable").index[:3]:
            hits[t] += 1
    got = p.to_pandas().set_index("touchpoint")["p_top"]
    assert np.all(np.abs(got - hits.loc[got.index] / b) < 0.06), pd.DataFrame({"got": got, "ref": hits / b})


def test_pain_point_inputs_are_checked(ours: pd.DataFrame, jmap: cx.Journey) -> None:
    with pytest.raises(InvalidArgumentError, match="no CES column"):
        cx.pain_points(ours, jmap, csat="csat")
    with pytest.raises(InvalidArgumentError, match="unknown component"):
        cx.pain_points(ours, jmap, csat="csat", ces="ces", weights={"price": 1.0})
    with pytest.raises(JourneyError, match="fax"):
        cx.pain_points(ours, jmap, csat="csat", ces="ces", drop_off={"fax": 0.2})
    with pytest.raises(InvalidArgumentError, match="must not grow"):
        cx.pain_points(
            ours,
            jmap,
            csat="csat",
            ces="ces",
            stage_reach={
                "awareness": 10,
                "consideration": 20,
                "purchase": 5,
                "delivery": 5,
                "support": 1,
                "return": 1,
            },
        )
    p = cx.pain_points(
        ours,
        jmap,
        ltr="ltr",
        ces="ces",
        dissatisfaction="detractors",
        drop_off={"carrier": 0.3},
        n_resamples=200,
    )
    row = p.to_pandas().set_index("touchpoint").loc["carrier"]
    ltr = ours.loc[ours["touchpoint"] == "carrier", "ltr"].dropna()
    assert abs(row["dissatisfaction"] - (ltr <= 6).mean()) < TIGHT
    assert row["drop_off"] == 0.3


def test_brand_differences_match_statsmodels_and_holm(data: pd.DataFrame, jmap: cx.Journey) -> None:
    c = cx.compare_brands(data, jmap, reference="Northwind", ltr="ltr", csat="csat", ces="ces")
    assert c.brands == ["Contoso", "Fabrikam", "Northwind"]
    diffs = c.to_pandas()
    z = stats.norm.ppf(0.975)
    for _, row in diffs[diffs["level"] == "touchpoint"].iterrows():
        a = data[(data["brand"] == row["brand"]) & (data["touchpoint"] == row["name"])]
        r = data[(data["brand"] == "Northwind") & (data["touchpoint"] == row["name"])]
        if row["metric"] == "nps":
            la, lr = a["ltr"].dropna(), r["ltr"].dropna()
            est = lambda x: (x >= 9).mean() - (x <= 6).mean()  # noqa: E731
            assert abs(row["difference"] - (est(la) - est(lr))) < TIGHT

            # Adjusted Wald difference: centres (P - D)/(n + 3), SE from the adjusted shares.
            def adj(x: pd.Series) -> tuple[float, float]:
                n = len(x) + 3
                pp, dd = ((x >= 9).sum() + 0.75) / n, ((x <= 6).sum() + 0.75) / n
                return pp - dd, (pp + dd - (pp - dd) ** 2) / n

            (ca, va), (cr, vr) = adj(la), adj(lr)
            se = math.sqrt(va + vr)
            assert abs(row["low"] - max(-2, ca - cr - z * se)) < TIGHT
            assert abs(row["high"] - min(2, ca - cr + z * se)) < TIGHT
            assert abs(row["p_value"] - 2 * stats.norm.sf(abs(row["difference"]) / se)) < LOOSE
        else:
            col, good = ("csat", 4) if row["metric"] == "csat" else ("ces", 5)
            xa, xr = a[col].dropna(), r[col].dropna()
            ka, kr = int((xa >= good).sum()), int((xr >= good).sum())
            assert abs(row["difference"] - (ka / len(xa) - kr / len(xr))) < TIGHT
            lo, hi = confint_proportions_2indep(ka, len(xa), kr, len(xr), method="newcomb")
            assert abs(row["low"] - lo) < LOOSE and abs(row["high"] - hi) < LOOSE
            _, pval = proportions_ztest([ka, kr], [len(xa), len(xr)])
            assert abs(row["p_value"] - pval) < LOOSE
    finite = diffs["p_value"].notna()
    holm = multipletests(diffs.loc[finite, "p_value"], method="holm")[1]
    assert np.allclose(diffs.loc[finite, "p_adjusted"], holm, atol=TIGHT)
    bh = cx.compare_brands(data, jmap, reference="Northwind", csat="csat", adjustment="benjamini_hochberg")
    d = bh.to_pandas()
    assert np.allclose(d["p_adjusted"], multipletests(d["p_value"], method="fdr_bh")[1], atol=TIGHT)
    # Each brand's own scores are those of touchpoint_scores on its rows.
    contoso = cx.touchpoint_scores(data[data["brand"] == "Contoso"], jmap, ltr="ltr", csat="csat", ces="ces")
    assert c.scores("Contoso").to_json() == contoso.to_json()
    assert "holm" in str(c)
    with pytest.raises(InvalidArgumentError, match="Acme"):
        cx.compare_brands(data, jmap, reference="Acme", csat="csat")


def test_text_audit_outcomes_are_refused_by_row() -> None:
    audit = cx.sample_audit()
    text = audit.assign(passed=audit["passed"].map({1.0: "yes", 0.0: "no"}))
    row = int(text["passed"].notna().to_numpy().argmax())
    # A bare "could not convert string to float" before, naming neither row nor column.
    with pytest.raises(cx.exceptions.InvalidArgumentError, match=rf"passed: row {row} has '(yes|no)'"):
        cx.audit_compliance(text)
    flags = audit.assign(passed=audit["passed"].map({1.0: True, 0.0: False}))
    assert cx.audit_compliance(flags).to_pandas().equals(cx.audit_compliance(audit).to_pandas())


def test_audit_compliance_matches_statsmodels_wilson_and_merges() -> None:
    audit = cx.sample_audit()
    a = cx.audit_compliance(audit)
    applicable = audit.dropna(subset=["passed"])
    for by, keys in (
        ("touchpoint", ["touchpoint"]),
        ("standard", ["touchpoint", "standard"]),
        ("location", ["touchpoint", "location"]),
        ("cell", ["touchpoint", "standard", "location"]),
    ):
        got = a.to_pandas(by).set_index(keys)
        want = applicable.groupby(keys)["passed"].agg(["size", "sum"])
        na = audit[audit["passed"].isna()].groupby(keys).size()
        for key, w in want.iterrows():
            row = got.loc[key]
            assert row["checks"] == w["size"] and row["passed"] == w["sum"]
            assert row["not_applicable"] == na.get(key, 0)
            lo, hi = proportion_confint(int(w["sum"]), int(w["size"]), method="wilson")
            assert abs(row["rate"] - w["sum"] / w["size"]) < TIGHT
            assert abs(row["low"] - lo) < TIGHT and abs(row["high"] - hi) < TIGHT
    # Mergeable: two halves of the visits, merged, equal one pass; bytes, JSON and pickle round-trip.
    first = audit[audit["visit_id"] <= 80]
    second = audit[audit["visit_id"] > 80]
    parts = []
    for part in (first, second):
        t = cx.AuditTally()
        t.fold(part["touchpoint"], part["standard"], part["location"], part["passed"])
        parts.append(t)
    whole = cx.AuditTally()
    whole.fold(audit["touchpoint"], audit["standard"], audit["location"], audit["passed"])
    assert sum(parts) == whole
    assert parts[1] + parts[0] == whole
    assert cx.AuditTally.from_bytes(whole.to_bytes()) == whole
    assert cx.AuditTally.from_json(whole.to_json()) == whole
    assert pickle.loads(pickle.dumps(whole)) == whole
    assert whole.n == len(audit)
    assert whole.result().to_json() == a.to_json()
    with pytest.raises(InvalidArgumentError, match="row 1"):
        cx.AuditTally().fold(["shop"] * 2, ["s"] * 2, ["x"] * 2, [1, 2])
    assert "not applicable" in str(a)


def test_plots_draw_the_map_and_the_benchmark(
    data: pd.DataFrame, ours: pd.DataFrame, jmap: cx.Journey
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cx_metrics import plot

    s = cx.touchpoint_scores(ours, jmap, ltr="ltr", csat="csat", ces="ces")
    ax = plot.journey_map(s, metric="csat", audit=cx.audit_compliance(cx.sample_audit()))
    texts = [t.get_text() for t in ax.texts]
    assert "purchase" in texts
    assert any(t.startswith("shop\ncsat") and "audit" in t for t in texts)
    plt.close(ax.figure)
    c = cx.compare_brands(data, jmap, reference="Northwind", ltr="ltr")
    ax = plot.benchmark(c, metric="nps", level="stage")
    assert [t.get_text() for t in ax.get_xticklabels()] == [st for st, _ in jmap.stages]
    plt.close(ax.figure)
    with pytest.raises(InvalidArgumentError):
        plot.journey_map(s, metric="effort")  # type: ignore[arg-type]


def test_scores_by_segment_match_pandas_within_each_segment(ours: pd.DataFrame, jmap: cx.Journey) -> None:
    """by=: every segment scored apart, its shares of customers within the segment (pandas and
    statsmodels' Wilson interval here), the stacked table's rows those of each segment's own result."""
    by = cx.touchpoint_scores(ours, jmap, ltr="ltr", csat="csat", ces="ces", by="segment")
    assert isinstance(by, cx.TouchpointScoresByGroup)
    assert list(by.groups) == sorted(ours["segment"].unique())
    table = by.to_pandas()
    for segment, rows in ours.groupby("segment"):
        alone = cx.touchpoint_scores(rows, jmap, ltr="ltr", csat="csat", ces="ces")
        assert by[segment] == alone
        got = table[table["segment"] == segment].set_index("touchpoint")
        total = rows["customer_id"].nunique()
        assert by[segment].n_customers == total
        for name, g in rows.groupby("touchpoint"):
            cust = g["customer_id"].nunique()
            assert got.loc[name, "n_customers"] == cust
            assert abs(got.loc[name, "customer_share"] - cust / total) < TIGHT
            lo, hi = proportion_confint(cust, total, method="wilson")
            assert abs(got.loc[name, "customer_share_low"] - lo) < TIGHT
            assert abs(got.loc[name, "customer_share_high"] - hi) < TIGHT
            ltr = g["ltr"].dropna()
            assert abs(got.loc[name, "nps"] - ((ltr >= 9).mean() - (ltr <= 6).mean())) < TIGHT
    assert len(table) == len(by.groups) * len(jmap.touchpoints)
    assert by.to_polars("stage").height == len(by.groups) * len(jmap.stages)
    assert pickle.loads(pickle.dumps(by)) == by
    assert cx.TouchpointScoresByGroup.from_json(by.to_json()) == by
    first = str(by).splitlines()[0]
    n, rows = ours["customer_id"].nunique(), len(ours)
    assert first == f"Touchpoint scores by segment: 2 segments, {n} customers, {rows} rows (0 excluded)"


def test_a_map_per_segment(ours: pd.DataFrame, jmap: cx.Journey) -> None:
    """Teams draw a map per segment: each segment's rows are scored against its own map, and a segment
    without a map is an error naming it."""
    stages = {s: [t[0] for t in tps] for s, tps in jmap.stages}
    short = cx.Journey("new customers", {k: v for k, v in stages.items() if k != "return"}, segment="new")
    maps = {"new": short, "returning": jmap}
    new = ours[ours["segment"] == "new"]
    by = cx.touchpoint_scores(ours, maps, csat="csat", by="segment", unknown="exclude")
    assert by["new"] == cx.touchpoint_scores(new, short, csat="csat", unknown="exclude")
    assert by["new"].n_excluded == int((new["stage"] == "return").sum())
    assert by["returning"].n_excluded == 0
    assert by["new"].journey == short
    with pytest.raises(JourneyError, match="no map for segment 'returning'"):
        cx.touchpoint_scores(ours, {"new": short}, csat="csat", by="segment", unknown="exclude")
    with pytest.raises(InvalidArgumentError, match="needs by="):
        cx.touchpoint_scores(ours, maps, csat="csat")


def test_segments_without_answers_are_listed(ours: pd.DataFrame, jmap: cx.Journey) -> None:
    rows = ours.assign(segment=pd.Categorical(ours["segment"], categories=["new", "returning", "vip"]))
    by = cx.touchpoint_scores(rows, jmap, csat="csat", by="segment")
    assert list(by.groups) == ["new", "returning"] and by.no_answers == ("vip",)
    assert "no answers: vip" in str(by)
    assert cx.TouchpointScoresByGroup.from_json(by.to_json()).no_answers == ("vip",)
