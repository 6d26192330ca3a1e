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
