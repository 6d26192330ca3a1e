//! Results do not depend on the unit of the survey weights: every weighted estimate is the same when
//! every weight is multiplied by 10^-200 or 10^200 (the weights are rescaled internally by a power of
//! two before any sum of squares is formed), to 1e-12 relative; a weight vector whose sums cannot be
//! represented is a typed error, never a NaN reported as a defined figure.

use cx_metrics::drivers::{driver_analysis, DriverOptions, MissingPolicy};
use cx_metrics::{Error, ImportanceMeasure};

/// The tolerance of these tests: relative to the larger magnitude, absolute below 1e-300.
const RTOL: f64 = 1e-12;

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    a == b || (a - b).abs() <= RTOL * a.abs().max(b.abs()).max(1e-300)
}

fn assert_close(what: &str, a: f64, b: f64) {
    assert!(close(a, b), "{what}: {a} vs {b}");
}

/// A deterministic sample: three 1-10 drivers, a 0-10 outcome and weights in (0.2, 3), some zero.
struct Sample {
    y: Vec<f64>,
    x: [Vec<f64>; 3],
    w: Vec<f64>,
}

fn sample(n: usize) -> Sample {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = [Vec::new(), Vec::new(), Vec::new()];
    let (mut y, mut w) = (Vec::new(), Vec::new());
    for i in 0..n {
        let common = next();
        let row: Vec<f64> = (0..3)
            .map(|_| (1.0 + (6.0 * common + 4.0 * next()).floor()).min(10.0))
            .collect();
        let ltr = (0.5 * row[0] + 0.3 * row[1] + 0.1 * row[2] + 3.0 * next()).floor();
        for (c, v) in x.iter_mut().zip(&row) {
            c.push(*v);
        }
        y.push(ltr.min(10.0));
        w.push(if i % 17 == 3 { 0.0 } else { 0.2 + 2.8 * next() });
    }
    Sample { y, x, w }
}

fn scaled(w: &[f64], factor: f64) -> Vec<f64> {
    w.iter().map(|v| v * factor).collect()
}

const FACTORS: [f64; 2] = [1e-200, 1e200];

#[test]
fn driver_analysis_does_not_depend_on_the_unit_of_the_weights() {
    for (n, missing) in [
        (300, MissingPolicy::Listwise),
        (300, MissingPolicy::Pairwise),
        // Large enough for the one-pass solver (pilot fit and corrected semi-normal equations).
        (120_000, MissingPolicy::Listwise),
    ] {
        let mut s = sample(n);
        if missing == MissingPolicy::Pairwise {
            s.x[1][5] = f64::NAN;
            s.x[2][9] = f64::NAN;
        }
        let drivers = [
            ("a", s.x[0].as_slice()),
            ("b", s.x[1].as_slice()),
            ("c", s.x[2].as_slice()),
        ];
        let options = DriverOptions::default().with_missing(missing);
        let base = driver_analysis(&s.y, &drivers, Some(&s.w), &options).unwrap();
        for factor in FACTORS {
            let w = scaled(&s.w, factor);
            let r = driver_analysis(&s.y, &drivers, Some(&w), &options).unwrap();
            let what = |s: &str| format!("n = {n}, {missing:?}, x{factor:e}: {s}");
            assert_eq!((r.n, r.n_zero_weight), (base.n, base.n_zero_weight));
            for (a, b) in r
                .regression
                .coefficients
                .iter()
                .zip(&base.regression.coefficients)
            {
                assert_close(&what("estimate"), a.estimate, b.estimate);
                assert_close(&what("std_error"), a.std_error, b.std_error);
                assert_close(&what("p_value"), a.p_value, b.p_value);
                assert_close(&what("ci"), a.ci.low, b.ci.low);
            }
            assert_close(&what("r_squared"), r.r_squared, base.r_squared);
            assert_close(&what("effective_n"), r.effective_n, base.effective_n);
            assert_close(
                &what("sigma"),
                r.regression.sigma,
                base.regression.sigma * factor.sqrt(),
            );
            assert_close(
                &what("sum_weights"),
                r.regression.sum_weights,
                base.regression.sum_weights * factor,
            );
            let (la, lb) = (
                r.scores(ImportanceMeasure::Lmg).unwrap(),
                base.scores(ImportanceMeasure::Lmg).unwrap(),
            );
            for (a, b) in la.raw.iter().zip(&lb.raw) {
                assert_close(&what("lmg"), *a, *b);
            }
            for (a, b) in r.vif.iter().zip(&base.vif) {
                assert_close(&what("vif"), *a, *b);
            }
        }
    }
}

#[test]
fn weights_whose_sums_cannot_be_represented_are_a_typed_error() {
    let s = sample(50);
    let drivers = [("a", s.x[0].as_slice()), ("b", s.x[1].as_slice())];
    let w = vec![f64::MAX; 50];
    let e = driver_analysis(&s.y, &drivers, Some(&w), &DriverOptions::default()).unwrap_err();
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
}

/// The sample's drivers as 1-10 rated drivers.
fn rated(s: &Sample) -> Vec<cx_metrics::drivers::matrix::RatedDriver<'_>> {
    let scale = cx_metrics::Scale::new(1, 10, cx_metrics::Direction::HigherIsBetter).unwrap();
    ["a", "b", "c"]
        .into_iter()
        .zip(&s.x)
        .map(|(n, c)| cx_metrics::drivers::matrix::RatedDriver::new(n, c, scale, 2).unwrap())
        .collect()
}

#[test]
fn what_if_and_matrix_do_not_depend_on_the_unit_of_the_weights() {
    use cx_metrics::drivers::matrix::{importance_performance, MatrixOptions};
    use cx_metrics::drivers::whatif::{what_if, Scenario, Shift};
    let s = sample(400);
    let drivers = rated(&s);
    let scenario = Scenario::new(&[("a", Shift::All(1.0))]);
    let columns = [
        ("a", s.x[0].as_slice()),
        ("b", s.x[1].as_slice()),
        ("c", s.x[2].as_slice()),
    ];
    let options = DriverOptions::default();
    let base = what_if(&s.y, &drivers, Some(&s.w), &scenario).unwrap();
    let fit = driver_analysis(&s.y, &columns, Some(&s.w), &options).unwrap();
    let matrix =
        importance_performance(&fit, &drivers, Some(&s.w), &MatrixOptions::default()).unwrap();
    for factor in FACTORS {
        let w = scaled(&s.w, factor);
        let r = what_if(&s.y, &drivers, Some(&w), &scenario).unwrap();
        assert_close("what-if baseline", r.baseline, base.baseline);
        assert_close("what-if simulated", r.simulated, base.simulated);
        assert_close("what-if change", r.change, base.change);
        assert_eq!((r.n, r.n_zero_weight), (base.n, base.n_zero_weight));
        let fit = driver_analysis(&s.y, &columns, Some(&w), &options).unwrap();
        let m =
            importance_performance(&fit, &drivers, Some(&w), &MatrixOptions::default()).unwrap();
        assert_eq!(m.drivers.len(), matrix.drivers.len());
        for (a, b) in m.drivers.iter().zip(&matrix.drivers) {
            assert_close("matrix importance", a.importance, b.importance);
            assert_close("matrix performance", a.performance, b.performance);
            assert_eq!(a.quadrant, b.quadrant);
        }
    }
}

#[test]
fn pillar_summary_does_not_depend_on_the_unit_of_the_weights() {
    use cx_metrics::{Pillar, PillarItems, SummaryOptions};
    let s = sample(250);
    let scale = cx_metrics::Scale::new(1, 10, cx_metrics::Direction::HigherIsBetter).unwrap();
    let items = PillarItems::new(
        scale,
        vec![
            ("i1".to_string(), Pillar::Integrity),
            ("i2".to_string(), Pillar::Integrity),
            ("e1".to_string(), Pillar::Empathy),
        ],
        1,
    )
    .unwrap();
    let scores = items.score(&[&s.x[0], &s.x[1], &s.x[2]]).unwrap();
    let base = scores
        .summarize(Some(&s.w), SummaryOptions::default())
        .unwrap();
    for factor in FACTORS {
        let w = scaled(&s.w, factor);
        let r = scores
            .summarize(Some(&w), SummaryOptions::default())
            .unwrap();
        for (a, b) in r.iter().zip(&base) {
            assert_close("effective_n", a.effective_n, b.effective_n);
            assert_close("mean", a.mean.unwrap(), b.mean.unwrap());
            assert_close("sd", a.sd.unwrap(), b.sd.unwrap());
            let (ia, ib) = (a.mean_ci.unwrap(), b.mean_ci.unwrap());
            assert_close("mean ci", ia.low, ib.low);
            assert_close("mean ci", ia.high, ib.high);
            assert_close(
                "top box",
                a.top_box_share.unwrap(),
                b.top_box_share.unwrap(),
            );
            let (ta, tb) = (a.top_box_ci.unwrap(), b.top_box_ci.unwrap());
            assert_close("top box ci", ta.low, tb.low);
        }
    }
}

/// Logistic models treat weights as frequency weights (see `cx_metrics::logistic`): the estimates and
/// McFadden's pseudo-R² do not depend on their unit; the standard errors scale with 1/√c and the
/// log-likelihood with c, as frequency weights say.
#[test]
fn logistic_models_do_not_depend_on_the_unit_of_the_weights() {
    use cx_metrics::logistic::{detractor_model, promoter_model, LogisticOptions, WeightKind};
    let s = sample(500);
    let drivers = [("a", s.x[0].as_slice()), ("b", s.x[1].as_slice())];
    // Sampling weights (the default): standard errors do not change with the weights' unit;
    // frequency weights: they shrink as 1/sqrt(factor). The log-likelihood and Σw are in the
    // caller's units either way.
    for kind in [WeightKind::Sampling, WeightKind::Frequency] {
        let options = LogisticOptions {
            weight_kind: kind,
            ..LogisticOptions::default()
        };
        let se_factor = |f: f64| {
            if kind == WeightKind::Frequency {
                f.sqrt()
            } else {
                1.0
            }
        };
        for model in [promoter_model::<f64>, detractor_model::<f64>] {
            let base = model(&s.y, &drivers, Some(&s.w), &options).unwrap();
            for factor in FACTORS {
                let w = scaled(&s.w, factor);
                let r = model(&s.y, &drivers, Some(&w), &options).unwrap();
                assert_close("pseudo_r2", r.pseudo_r2, base.pseudo_r2);
                assert_close(
                    "log-likelihood",
                    r.log_likelihood,
                    base.log_likelihood * factor,
                );
                assert_close("sum_weights", r.sum_weights, base.sum_weights * factor);
                assert_eq!((r.n, r.n_events), (base.n, base.n_events));
                let terms = std::iter::once(&r.intercept).chain(&r.drivers);
                let base_terms = std::iter::once(&base.intercept).chain(&base.drivers);
                for (a, b) in terms.zip(base_terms) {
                    assert_close("estimate", a.estimate, b.estimate);
                    assert_close("odds ratio", a.odds_ratio, b.odds_ratio);
                    assert_close("std_error", a.std_error * se_factor(factor), b.std_error);
                }
            }
        }
    }
}
