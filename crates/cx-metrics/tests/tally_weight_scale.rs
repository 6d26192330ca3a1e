//! The rating tallies (NPS, CSAT, CES, paired NPS, and the tallies per group of `by=`) do not depend
//! on the unit of the survey weights: every figure is the same bit for bit when every weight is
//! multiplied by a power of two (2^±10 … 2^±1000), and to 1e-12 relative for 10^±200 and 10^±300,
//! folded in one go, folded in pieces and merged, or pushed row by row. Only the reported Σw follows
//! the unit (to 1e-12 relative). Weights whose sum cannot be represented in the caller's units are a
//! typed error; Σw² in the caller's units, when `f64` cannot hold it, is a typed error too.

mod common;

use common::tol::{assert_close, Tol};

use cx_metrics::csat::{compare_csat, csat, CsatScale, CsatTally, Satisfied};
use cx_metrics::groups::{Grouping, KeyColumn};
use cx_metrics::intervals::ProportionMethod;
use cx_metrics::nps::{compare, PairedTally, DEFAULT_PRIOR};
use cx_metrics::{
    compare_ces, Accumulator, Ces1, Ces1Tally, Ces2, Ces2Tally, CesResult, CesTally, CesVersion,
    Error, Merge, NanPolicy, NpsMethod, NpsResult, NpsTally, Scale, ScaleTally,
};

/// Factors that are powers of two: every figure is the same bit for bit.
const EXACT: [f64; 8] = [
    9.332636185032189e-302, // 2^-1000
    2.409919865102884e-181, // 2^-600
    4.909093465297727e-91,  // 2^-300
    0.0009765625,           // 2^-10
    1024.0,                 // 2^10
    2.037035976334486e90,   // 2^300
    4.149515568880993e180,  // 2^600
    1.0715086071862673e301, // 2^1000
];

/// Other factors: every figure to [`RTOL`] (each weight is rounded once when it is scaled).
const DECIMAL: [f64; 4] = [1e-300, 1e-200, 1e200, 1e300];

/// The tolerance for the decimal factors: the weights differ by one rounding each, and every figure
/// is a smooth function of ratios of their sums.
const RTOL: f64 = 1e-12;

/// The tolerance of the bounds found by iteration for the decimal factors: the Dirichlet interval's
/// quantiles (quadrature to 1e-12 relative, then a root search to 1e-13) and the beta quantiles of
/// the Jeffreys and Clopper–Pearson intervals (statrs' inverse CDF). Inputs that differ by a
/// rounding move them by up to about 1e-11 at these sample sizes, whatever the weights.
const ITERATIVE_RTOL: f64 = 1e-10;

/// More rows than one parallel chunk of a fold (65,536), so that chunks are merged too.
const N: usize = 150_001;

fn rng(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Ratings on `min..=max`, a few missing, and weights in (0.2, 3) with some zeros.
fn sample(n: usize, min: i32, max: i32, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut next = rng(seed);
    let k = f64::from(max - min + 1);
    let values = (0..n)
        .map(|i| {
            if i % 101 == 7 {
                f64::NAN
            } else {
                f64::from(min) + (k * next()).floor().min(k - 1.0)
            }
        })
        .collect();
    let weights = (0..n)
        .map(|i| if i % 13 == 5 { 0.0 } else { 0.2 + 2.8 * next() })
        .collect();
    (values, weights)
}

fn times(w: &[f64], factor: f64) -> Vec<f64> {
    w.iter().map(|x| x * factor).collect()
}

/// Check each named figure against the base: bit for bit when `exact`, else to [`RTOL`].
fn same(what: &str, got: &[(&str, f64)], want: &[(&str, f64)], exact: bool) {
    assert_eq!(got.len(), want.len());
    for ((name, a), (_, b)) in got.iter().zip(want) {
        if exact {
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{what}: {name} {a} vs {b}"
            );
        } else {
            let r = if name.starts_with("iterative") {
                ITERATIVE_RTOL
            } else {
                RTOL
            };
            // A net share or a difference of shares (in [-1, 1] or [-2, 2]) can cancel to near zero:
            // it is compared relative to 1, the scale of the shares it is made of.
            let tol = if name.contains("net") || name.contains("difference") {
                Tol::rel(r).of_larger_or_one()
            } else {
                Tol::rel(r).of_larger().near_zero(r, 1e-3)
            };
            assert_close(&format!("{what}: {name}"), *a, *b, tol);
        }
    }
}

/// Every factor, with whether it is exact.
fn factors() -> impl Iterator<Item = (f64, bool)> {
    EXACT
        .into_iter()
        .map(|f| (f, true))
        .chain(DECIMAL.into_iter().map(|f| (f, false)))
}

/// Fold `values` three ways: in one go; in pieces folded into one tally; in pieces folded apart and
/// merged (in a different order).
fn three_ways<S: Accumulator>(
    empty: impl Fn() -> S,
    fold: impl Fn(&mut S, &[f64], &[f64]),
    values: &[f64],
    weights: &[f64],
) -> [S; 3] {
    let cuts = [0, 1_000, 90_001, values.len()];
    let mut whole = empty();
    fold(&mut whole, values, weights);
    let mut pieces = empty();
    let mut parts: Vec<S> = Vec::new();
    for c in cuts.windows(2) {
        fold(&mut pieces, &values[c[0]..c[1]], &weights[c[0]..c[1]]);
        let mut p = empty();
        fold(&mut p, &values[c[0]..c[1]], &weights[c[0]..c[1]]);
        parts.push(p);
    }
    let mut merged = empty();
    for p in parts.iter().rev() {
        merged.merge(p).unwrap();
    }
    [whole, pieces, merged]
}

fn nps_figures(r: &NpsResult, other: &NpsResult) -> Vec<(&'static str, f64)> {
    let mut f = vec![
        ("promoters", r.promoters),
        ("passives", r.passives),
        ("detractors", r.detractors),
        ("score", r.score),
        ("variance", r.variance),
        ("std_error", r.std_error),
        ("se_linearised", r.se_linearised),
        ("se_small_sample", r.se_linearised_small_sample.unwrap()),
        ("deff", r.deff),
        ("effective_n", r.effective_n),
    ];
    f.extend(r.distribution.iter().map(|d| ("distribution", *d)));
    for m in [NpsMethod::Wald, NpsMethod::AdjustedWald, NpsMethod::Tango] {
        let ci = r.ci(0.95, m).unwrap();
        f.extend([("ci low", ci.low), ("ci high", ci.high)]);
    }
    let dirichlet = NpsMethod::Dirichlet {
        prior: DEFAULT_PRIOR,
    };
    let ci = r.ci(0.95, dirichlet).unwrap();
    f.extend([
        ("iterative dirichlet low", ci.low),
        ("iterative dirichlet high", ci.high),
    ]);
    let c = compare(r, other, NpsMethod::AdjustedWald).unwrap();
    f.extend([
        ("compare difference", c.difference),
        ("compare se", c.std_error),
        ("compare p", c.p_value),
    ]);
    f
}

fn nps_fold(t: &mut NpsTally, v: &[f64], w: &[f64]) {
    t.fold(v, Some(w), NanPolicy::Omit).unwrap();
}

#[test]
fn nps_does_not_depend_on_the_unit_of_the_weights() {
    let (v, w) = sample(N, 0, 10, 11);
    let (v2, w2) = sample(2_000, 0, 10, 12);
    let other = {
        let mut t = NpsTally::new();
        nps_fold(&mut t, &v2, &w2);
        t.result()
    };
    let bases = three_ways(NpsTally::new, nps_fold, &v, &w).map(|t| t.result());
    let base = &bases[0];
    assert!(base.weighted && base.undefined.is_none());
    for (factor, exact) in factors() {
        let scaled = times(&w, factor);
        for (way, t) in three_ways(NpsTally::new, nps_fold, &v, &scaled)
            .iter()
            .enumerate()
        {
            let r = t.result();
            let what = format!("NPS x {factor:e}, way {way}");
            let want = nps_figures(&bases[way], &other);
            same(&what, &nps_figures(&r, &other), &want, exact);
            assert_eq!(
                (r.n, r.n_omitted, r.weighted),
                (base.n, base.n_omitted, true)
            );
            let sw = Tol::rel(RTOL);
            assert_close(&what, r.sum_weights, base.sum_weights * factor, sw);
            assert!(t.tally().weight_exponent() != 0 || factor.abs().log2().abs() < 257.0);
            // The state round-trips with its exponent, bit for bit.
            assert_eq!(&NpsTally::from_bytes(&t.to_bytes()).unwrap(), t);
            assert_eq!(&NpsTally::from_json(&t.to_json()).unwrap(), t);
        }
        // Row by row, as `push` counts a stream.
        let mut pushed = NpsTally::new();
        for (x, y) in v[..5_000].iter().zip(&scaled) {
            pushed.push(*x, *y, NanPolicy::Omit).unwrap();
        }
        let mut folded = NpsTally::new();
        nps_fold(&mut folded, &v[..5_000], &w[..5_000]);
        let (a, b) = (pushed.result(), folded.result());
        let tol = Tol::rel(1e-12).of_larger();
        assert_close("pushed score", a.score, b.score, tol);
        assert_close("pushed se", a.std_error, b.std_error, tol);
        assert_close("pushed n_eff", a.effective_n, b.effective_n, tol);
        // The weighted bootstrap from rows draws the same resamples.
        let boot = |w: &[f64]| {
            cx_metrics::nps::bootstrap_ci(&v[..3_000], Some(w), 0.9, 200, 5, NanPolicy::Omit)
                .unwrap()
        };
        let (a, b) = (boot(&scaled[..3_000]), boot(&w[..3_000]));
        let tol = Tol::rel(RTOL).of_larger();
        assert_close("bootstrap low", a.interval.low, b.interval.low, tol);
        assert_close("bootstrap high", a.interval.high, b.interval.high, tol);
    }
}

fn csat_figures(
    r: &cx_metrics::CsatResult,
    other: &cx_metrics::CsatResult,
) -> Vec<(&'static str, f64)> {
    let mut f = vec![
        ("share_satisfied", r.share_satisfied),
        ("share_bottom", r.share_bottom),
        ("net", r.net),
        ("mean", r.mean),
        ("sd", r.sd),
        ("mean_0_100", r.mean_0_100),
        ("effective_n", r.effective_n),
    ];
    f.extend(r.distribution.iter().map(|d| ("distribution", *d)));
    for m in [ProportionMethod::Wilson, ProportionMethod::AgrestiCoull] {
        let ci = r.ci(0.95, m).unwrap();
        f.extend([("ci low", ci.low), ("ci high", ci.high)]);
    }
    for m in [ProportionMethod::Jeffreys, ProportionMethod::ClopperPearson] {
        let ci = r.ci(0.95, m).unwrap();
        f.extend([
            ("iterative beta low", ci.low),
            ("iterative beta high", ci.high),
        ]);
    }
    let ci = r.mean_ci(0.95).unwrap();
    f.extend([("mean ci low", ci.low), ("mean ci high", ci.high)]);
    let c = compare_csat(r, other, 0.95).unwrap();
    f.extend([
        ("compare difference", c.difference),
        ("compare low", c.interval.low),
        ("compare p", c.p_value),
    ]);
    f
}

#[test]
fn csat_on_every_scale_does_not_depend_on_the_unit_of_the_weights() {
    for k in CsatScale::SUPPORTED {
        let scale = CsatScale::new(k).unwrap();
        let satisfied = Satisfied::TopBox;
        let (v, w) = sample(N, 1, i32::from(k), 20 + u64::from(k));
        let (v2, w2) = sample(1_000, 1, i32::from(k), 40 + u64::from(k));
        let other = csat(&v2, Some(&w2), scale, satisfied, NanPolicy::Omit).unwrap();

        let fold = |t: &mut CsatTally, v: &[f64], w: &[f64]| {
            t.fold(v, Some(w), NanPolicy::Omit).unwrap();
        };
        let bases = three_ways(|| CsatTally::new(scale), fold, &v, &w)
            .map(|t| t.result(satisfied).unwrap());
        let base = &bases[0];
        for (factor, exact) in factors() {
            let scaled = times(&w, factor);
            for (way, t) in three_ways(|| CsatTally::new(scale), fold, &v, &scaled)
                .iter()
                .enumerate()
            {
                let r = t.result(satisfied).unwrap();
                let what = format!("CSAT 1..={k} x {factor:e}, way {way}");
                let want = csat_figures(&bases[way], &other);
                same(&what, &csat_figures(&r, &other), &want, exact);
                assert_eq!((r.n, r.n_omitted), (base.n, base.n_omitted));
                let sw = Tol::rel(RTOL);
                assert_close(&what, r.sum_weights, base.sum_weights * factor, sw);
            }
        }
    }
}

fn ces_figures<V: CesVersion>(r: &CesResult<V>, other: &CesResult<V>) -> Vec<(&'static str, f64)> {
    let mut f = vec![
        ("share_agree", r.share_agree),
        ("share_neutral", r.share_neutral),
        ("share_disagree", r.share_disagree),
        ("net", r.net),
        ("mean", r.mean),
        ("sd", r.sd),
        ("effective_n", r.effective_n),
    ];
    f.extend(r.distribution.iter().map(|d| ("distribution", *d)));
    let ci = r.ci(0.95, ProportionMethod::Wilson).unwrap();
    f.extend([("ci low", ci.low), ("ci high", ci.high)]);
    let ci = r.disagree_ci(0.95, ProportionMethod::Jeffreys).unwrap();
    f.extend([
        ("iterative disagree low", ci.low),
        ("iterative disagree high", ci.high),
    ]);
    let ci = r.mean_ci(0.95).unwrap();
    f.extend([("mean ci low", ci.low), ("mean ci high", ci.high)]);
    let c = compare_ces(r, other, 0.95).unwrap();
    f.extend([
        ("compare difference", c.difference),
        ("compare p", c.p_value),
    ]);
    f
}

fn ces_does_not_depend_on_the_unit<V: CesVersion>(seed: u64) {
    let (v, w) = sample(N, 1, V::MAX, seed);
    let (v2, w2) = sample(1_000, 1, V::MAX, seed + 1);
    let result = |v: &[f64], w: &[f64]| {
        let mut t = CesTally::<V>::new();
        t.fold(v, Some(w), NanPolicy::Omit).unwrap();
        t.result()
    };
    let other = result(&v2, &w2);
    let fold = |t: &mut CesTally<V>, v: &[f64], w: &[f64]| {
        t.fold(v, Some(w), NanPolicy::Omit).unwrap();
    };
    let bases = three_ways(CesTally::<V>::new, fold, &v, &w).map(|t| t.result());
    let base = &bases[0];
    for (factor, exact) in factors() {
        let scaled = times(&w, factor);
        for (way, t) in three_ways(CesTally::<V>::new, fold, &v, &scaled)
            .iter()
            .enumerate()
        {
            let r = t.result();
            let what = format!("{} x {factor:e}, way {way}", V::ID);
            let want = ces_figures(&bases[way], &other);
            same(&what, &ces_figures(&r, &other), &want, exact);
            assert_close(
                &what,
                r.sum_weights,
                base.sum_weights * factor,
                Tol::rel(RTOL),
            );
        }
    }
}

#[test]
fn ces_of_both_versions_does_not_depend_on_the_unit_of_the_weights() {
    ces_does_not_depend_on_the_unit::<Ces2>(60);
    ces_does_not_depend_on_the_unit::<Ces1>(70);
    // The aliases are the same types.
    let _: (Ces2Tally, Ces1Tally) = (CesTally::<Ces2>::new(), CesTally::<Ces1>::new());
}

#[test]
fn the_paired_tally_does_not_depend_on_the_unit_of_the_weights() {
    let (a, w) = sample(20_000, 0, 10, 80);
    let (b, _) = sample(20_000, 0, 10, 81);
    let figures = |t: &PairedTally| {
        let r = t.result();
        let ci = r.ci(0.95).unwrap();
        vec![
            ("score_a", r.score_a),
            ("score_b", r.score_b),
            ("difference", r.difference),
            ("std_error", r.std_error),
            ("z", r.z),
            ("p_value", r.p_value),
            ("effective_n", r.effective_n),
            ("ci low", ci.low),
            ("ci high", ci.high),
        ]
    };
    let two_ways = |w: &[f64]| {
        let mut whole = PairedTally::new();
        whole.fold(&a, &b, Some(w), NanPolicy::Omit).unwrap();
        let (mut x, mut y) = (PairedTally::new(), PairedTally::new());
        let cut = 7_000;
        x.fold(&a[..cut], &b[..cut], Some(&w[..cut]), NanPolicy::Omit)
            .unwrap();
        y.fold(&a[cut..], &b[cut..], Some(&w[cut..]), NanPolicy::Omit)
            .unwrap();
        y.merge(&x).unwrap();
        [whole, y]
    };
    let bases = two_ways(&w);
    for (factor, exact) in factors() {
        let scaled = times(&w, factor);
        let mut pushed = PairedTally::new();
        for i in 0..a.len() {
            pushed.push(a[i], b[i], scaled[i], NanPolicy::Omit).unwrap();
        }
        for (way, t) in two_ways(&scaled).iter().enumerate() {
            let what = format!("paired x {factor:e}, way {way}");
            same(&what, &figures(t), &figures(&bases[way]), exact);
            let sw = t.result().sum_weights;
            let want = bases[way].result().sum_weights * factor;
            assert_close(&what, sw, want, Tol::rel(RTOL));
            assert_eq!(&PairedTally::from_bytes(&t.to_bytes()).unwrap(), t);
        }
        // Row by row the sums are added in another order: to a rounding.
        same(
            "paired pushed",
            &figures(&pushed),
            &figures(&bases[0]),
            false,
        );
    }
}

#[test]
fn results_by_group_do_not_depend_on_the_unit_of_the_weights() {
    let (v, w) = sample(N, 0, 10, 90);
    let labels: Vec<i64> = (0..N as i64).map(|i| (i * 7 + i / 3) % 5).collect();
    let g = Grouping::new(vec![KeyColumn::from(&labels[..])], N).unwrap();
    let by = |w: &[f64], scale: Scale| g.fold_scale(scale, &v, Some(w), NanPolicy::Omit).unwrap();
    let base = by(&w, Scale::NPS);
    let other = NpsTally::from_counts(10, 20, 30).result();
    let five = CsatScale::new(5).unwrap();
    let v5: Vec<f64> = v
        .iter()
        .map(|x| (x / 2.0).floor().clamp(1.0, 5.0))
        .collect();
    let by5 = |w: &[f64]| {
        g.fold_scale(five.scale(), &v5, Some(w), NanPolicy::Omit)
            .unwrap()
            .into_iter()
            .map(|t| {
                CsatTally::from_tally(t)
                    .unwrap()
                    .result(Satisfied::TopTwoBox)
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let base5 = by5(&w);
    for (factor, exact) in factors() {
        let scaled = times(&w, factor);
        let got = by(&scaled, Scale::NPS);
        assert_eq!(got.len(), base.len());
        for (i, (t, b)) in got.iter().zip(&base).enumerate() {
            let (r, rb) = (
                NpsTally::try_from(t.clone()).unwrap().result(),
                NpsTally::try_from(b.clone()).unwrap().result(),
            );
            let what = format!("NPS by group {i}, x {factor:e}");
            same(
                &what,
                &nps_figures(&r, &other),
                &nps_figures(&rb, &other),
                exact,
            );
            assert_close(
                &what,
                r.sum_weights,
                rb.sum_weights * factor,
                Tol::rel(RTOL),
            );
        }
        let other5 = &base5[0];
        for (i, (r, rb)) in by5(&scaled).iter().zip(&base5).enumerate() {
            let what = format!("CSAT by group {i}, x {factor:e}");
            same(
                &what,
                &csat_figures(r, other5),
                &csat_figures(rb, other5),
                exact,
            );
        }
    }
}

#[test]
fn sums_that_cannot_be_represented_are_typed_errors() {
    let v = [10.0, 9.0, 3.0];
    // Σw beyond f64::MAX in the caller's units: the fold is refused and changes nothing.
    let mut t = NpsTally::new();
    t.fold(&v[..1], Some(&[f64::MAX]), NanPolicy::Omit).unwrap();
    let before = t.clone();
    let r = before.result();
    assert_eq!((r.sum_weights, r.score), (f64::MAX, 1.0));
    for e in [
        t.fold(&v[..2], Some(&[f64::MAX, 1e308]), NanPolicy::Omit)
            .unwrap_err(),
        t.push(3.0, f64::MAX, NanPolicy::Omit).unwrap_err(),
    ] {
        assert!(
            matches!(
                e,
                Error::InvalidArgument {
                    name: "weights",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("divide every weight"), "{e}");
    }
    assert_eq!(t, before);
    // ... and so is a merge, with the error of a count that would overflow.
    let e = t.merge(&before).unwrap_err();
    assert!(matches!(e, Error::Overflow { .. }), "{e:?}");
    assert_eq!(t, before);
    let mut p = PairedTally::new();
    p.fold(&v[..1], &v[..1], Some(&[f64::MAX]), NanPolicy::Omit)
        .unwrap();
    assert!(matches!(p.clone().merge(&p), Err(Error::Overflow { .. })));

    // Σw² in the caller's units: a typed error where f64 cannot hold it, never ±inf or 0.
    for (w, ok) in [
        (1.0, true),
        (1e150, true),
        (1e160, false),
        (1e-150, true),
        (1e-170, false),
    ] {
        let mut s = ScaleTally::new(Scale::NPS);
        s.fold(&v, Some(&[w, 2.0 * w, w]), NanPolicy::Omit).unwrap();
        let sq = s.sum_weights_sq();
        assert_eq!(sq.is_ok(), ok, "{w:e}: {sq:?}");
        if let Ok(x) = sq {
            assert_close("Σw²", x, 6.0 * w * w, Tol::rel(1e-15));
            assert_close(
                "Σw² at 9",
                s.weight_sq_at(9).unwrap(),
                4.0 * w * w,
                Tol::rel(1e-15),
            );
        } else {
            assert!(matches!(sq, Err(Error::Overflow { .. })), "{sq:?}");
            assert!(s.weights_sq().is_err() && s.weight_sq_at(9).is_err());
            let (m, e) = (s.scaled_sum_weights_sq(), s.weight_exponent());
            assert_close(
                "scaled Σw²",
                m * (2f64.powi(e) / w).powi(2),
                6.0,
                Tol::rel(1e-14),
            );
        }
        assert_close("Σw", s.sum_weights(), 4.0 * w, Tol::rel(1e-15));
        assert_close("n_eff", s.effective_n(), 16.0 / 6.0, Tol::rel(1e-15));
    }
    // Negative, NaN and infinite weights stay errors naming their position.
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let e = NpsTally::new().fold(&v, Some(&[1e300, 1e300, bad]), NanPolicy::Omit);
        assert!(
            matches!(e, Err(Error::InvalidWeight { index: 2, .. })),
            "{e:?}"
        );
    }
}

#[test]
fn merging_tallies_of_different_exponents_aligns_them() {
    let v = [10.0, 9.0, 7.0, 3.0, 0.0];
    let w = [1.0, 2.0, 0.5, 1.5, 1.0];
    let fold = |w: &[f64]| {
        let mut t = NpsTally::new();
        t.fold(&v, Some(w), NanPolicy::Omit).unwrap();
        t
    };
    // Subnormal weights: scaled up, the shares are exact.
    let tiny = fold(&[5e-324, 1e-323, 0.0, 5e-324, 0.0]);
    let r = tiny.result();
    assert_eq!((r.promoters, r.detractors), (0.75, 0.25));
    assert_eq!(r.effective_n, 16.0 / 6.0);
    assert_eq!(r.sum_weights, 2e-323);
    // Tallies of weights near 1e-300 and near 1 merged: the tiny ones are negligible (their scaled
    // sums underflow), the result is that of the ordinary weights; merged with the empty tally
    // (exponent 0) either way, a tally keeps its exponent.
    let (small, ordinary) = (fold(&times(&w, 1e-300)), fold(&w));
    assert_eq!(small.tally().weight_exponent(), -996); // 2e-300 = 1.6 × 2^-996
    let mut m = small.clone();
    m.merge(&ordinary).unwrap();
    let (a, b) = (m.result(), ordinary.result());
    assert_eq!((a.score, a.std_error), (b.score, b.std_error));
    assert_eq!(a.n, 10);
    let mut e = NpsTally::new();
    e.merge(&small).unwrap();
    assert_eq!(e, small);
    let mut s = small.clone();
    s.merge(&NpsTally::new()).unwrap();
    assert_eq!(s, small);
    // Zero-weight rows carry no exponent.
    let zero = fold(&[0.0; 5]);
    assert_eq!(zero.tally().weight_exponent(), 0);
    let mut z = zero.clone();
    z.merge(&small).unwrap();
    assert_eq!(z.tally().weight_exponent(), -996);
    // Commutative: the same state either way round.
    let huge = fold(&times(&w, 1e300));
    let (mut x, mut y) = (huge.clone(), small.clone());
    x.merge(&small).unwrap();
    y.merge(&huge).unwrap();
    assert_eq!(x, y);
    assert_eq!(x.result().score, huge.result().score);
}

#[test]
fn hostile_exponents_are_rejected() {
    let mut t = NpsTally::new();
    t.fold(&[10.0, 3.0], Some(&[1e300, 2e300]), NanPolicy::Omit)
        .unwrap();
    let json = t.to_json();
    let e = t.tally().weight_exponent();
    for (to, says) in [
        ("5000".to_string(), "outside -1074..=1023"),
        ("-2000".to_string(), "outside -1074..=1023"),
        (
            "1023".to_string(),
            "exceeds the largest floating-point number",
        ),
    ] {
        let text = json.replacen(
            &format!("\"exponent\":{e}"),
            &format!("\"exponent\":{to}"),
            1,
        );
        assert_ne!(text, json);
        let err = NpsTally::from_json(&text).unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }
    // In bytes: the exponent is the payload's last 4 bytes.
    let mut bytes = t.to_bytes();
    let at = bytes.len() - 4;
    bytes[at..].copy_from_slice(&i32::MAX.to_le_bytes());
    assert!(matches!(
        NpsTally::from_bytes(&bytes),
        Err(Error::InvalidState { .. })
    ));
    // An exponent without weight.
    let empty = NpsTally::new()
        .to_json()
        .replacen("\"exponent\":0", "\"exponent\":300", 1);
    let err = NpsTally::from_json(&empty).unwrap_err().to_string();
    assert!(err.contains("without any weight"), "{err}");
    let mut paired = PairedTally::new().to_bytes();
    let at = paired.len() - 4;
    paired[at..].copy_from_slice(&7i32.to_le_bytes());
    assert!(matches!(
        PairedTally::from_bytes(&paired),
        Err(Error::InvalidState { .. })
    ));
}
