//! Large, well-conditioned designs are solved from the moments with corrected semi-normal equations
//! instead of the refined QR. Reference: the refined QR itself (`RefinedLeastSquares`, the exact
//! least-squares solution of the f64 data, rounded), run on the same rows. Tolerances: 1e-13 relative
//! for coefficients and standard errors, which is the accuracy a backward-stable solver (R `lm`,
//! statsmodels) reaches on designs this well conditioned; the RSS to 1e-10 when R² is 1 − 1e-12, where
//! an RSS taken from the co-moments would keep no digit at all.

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::linalg::{Dd, RefinedLeastSquares};
use cx_metrics::{driver_analysis, ols, DriverOptions};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Survey-like data: `p` correlated 1–10 ratings, an outcome on 0–10, optional weights with zeros.
fn survey(n: usize, p: usize, noise: f64, seed: u64) -> (Vec<Vec<f64>>, Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cols = vec![Vec::with_capacity(n); p];
    let mut y = Vec::with_capacity(n);
    let mut w = Vec::with_capacity(n);
    for _ in 0..n {
        let common: f64 = rng.random_range(-2.0..2.0);
        let mut fit = 0.5;
        for (j, c) in cols.iter_mut().enumerate() {
            let x = (6.0 + 1.5 * common + rng.random_range(-3.0..3.0f64))
                .round()
                .clamp(1.0, 10.0);
            c.push(x);
            fit += x / (j as f64 + 2.0);
        }
        y.push(fit + noise * rng.random_range(-1.0..1.0));
        w.push(if rng.random_range(0.0..1.0) < 0.05 {
            0.0
        } else {
            rng.random_range(0.2..3.0)
        });
    }
    (cols, y, w)
}

fn exact(cols: &[Vec<f64>], y: &[f64], w: Option<&[f64]>) -> (RefinedLeastSquares, f64, usize) {
    let keep: Vec<usize> = (0..y.len())
        .filter(|&i| w.is_none_or(|w| w[i] > 0.0))
        .collect();
    let pick = |c: &[f64]| keep.iter().map(|&i| c[i]).collect::<Vec<f64>>();
    let ones = vec![1.0; keep.len()];
    let xs: Vec<Vec<f64>> = cols.iter().map(|c| pick(c)).collect();
    let design: Vec<&[f64]> = std::iter::once(ones.as_slice())
        .chain(xs.iter().map(Vec::as_slice))
        .collect();
    let ww = w.map_or_else(|| ones.clone(), pick);
    let sol = RefinedLeastSquares::solve(&design, &pick(y), &ww).unwrap();
    let mut rss = Dd::ZERO;
    for (r, wi) in sol.residuals.iter().zip(&ww) {
        rss.add_prod(wi * r, *r);
    }
    (sol, rss.value(), keep.len())
}

fn check(n: usize, p: usize, noise: f64, weighted: bool, rss_tol: f64) {
    let (cols, y, w) = survey(n, p, noise, (n + p) as u64);
    let names: Vec<String> = (0..p).map(|j| format!("x{j}")).collect();
    let drivers: Vec<(&str, &[f64])> = names
        .iter()
        .zip(&cols)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let w = weighted.then_some(w.as_slice());
    let fit = ols("y", &y, &drivers, w, 0.95).unwrap();
    let (sol, rss, n_kept) = exact(&cols, &y, w);
    assert_eq!(fit.n as usize, n_kept);
    assert_eq!(fit.n_zero_weight as usize, n - n_kept);
    let m = p + 1;
    let sigma2 = rss / (n_kept - m) as f64;
    for (j, c) in fit.coefficients.iter().enumerate() {
        let se = (sigma2 * sol.unscaled_covariance[j * m + j]).sqrt();
        assert_close(
            &format!("{} against the exact solution", c.term),
            c.estimate,
            sol.coefficients[j],
            Tol::rel(1e-13),
        );
        assert_close(
            &format!("{} se", c.term),
            c.std_error,
            se,
            Tol::rel(1e-10_f64.min(rss_tol.max(1e-13))),
        );
    }
    assert_close(
        "rss against the exact solution",
        fit.rss,
        rss,
        Tol::rel(rss_tol),
    );
}

#[test]
fn large_design_matches_the_exact_solution() {
    check(60_000, 6, 2.0, false, 1e-13);
    check(60_000, 6, 2.0, true, 1e-13);
}

#[test]
fn large_near_perfect_fit_keeps_the_rss() {
    // R² = 1 − O(1e-12): the RSS is 12 orders of magnitude below the TSS.
    check(60_000, 4, 1e-5, false, 1e-10);
}

#[test]
fn driver_analysis_at_scale_equals_its_parts() {
    let (cols, y, w) = survey(80_000, 6, 2.0, 7);
    let names: Vec<String> = (0..6).map(|j| format!("x{j}")).collect();
    let drivers: Vec<(&str, &[f64])> = names
        .iter()
        .zip(&cols)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let r = driver_analysis(
        &y,
        &drivers,
        Some(&w),
        &DriverOptions::default()
            .with_outcome("y")
            .with_covariance(cx_metrics::CovarianceType::Classical),
    )
    .unwrap();
    let fit = ols("y", &y, &drivers, Some(&w), 0.95).unwrap();
    assert_eq!(r.regression, fit);
}

/// Values are checked for finiteness while the moments fold, not in a pass of their own: every way a
/// non-finite value can hide (a parallel chunk far from the start, a block of zero weights, a column of
/// infinities that also looks constant) still gives the error that names its column and row.
#[test]
fn non_finite_values_are_found_while_folding() {
    use cx_metrics::{Error, MissingPolicy, Moments};
    let (cols, y, w) = survey(70_000, 3, 2.0, 11);
    let names = ["x0", "x1", "x2"];
    let drivers = |cols: &[Vec<f64>]| -> Vec<(&'static str, Vec<f64>)> {
        names.iter().copied().zip(cols.iter().cloned()).collect()
    };
    let fit = |cols: &[Vec<f64>], y: &[f64], w: Option<&[f64]>| {
        let d = drivers(cols);
        let d: Vec<(&str, &[f64])> = d.iter().map(|(n, c)| (*n, c.as_slice())).collect();
        ols("y", y, &d, w, 0.95)
    };
    let names_of = |e: Error| match e {
        Error::BadColumn { column, message } => (column, message),
        other => panic!("unexpected {other:?}"),
    };

    // A NaN deep in a parallel chunk, and an infinity before it in another column.
    let mut c = cols.clone();
    c[2][65_000] = f64::NAN;
    c[1][40_123] = f64::INFINITY;
    let (column, message) = names_of(fit(&c, &y, None).unwrap_err());
    assert_eq!(column, "x1");
    assert!(message.contains("row 40123"), "{message}");

    // In a row of weight zero (left out of the fold): still an error.
    let mut wz = w.clone();
    let mut c = cols.clone();
    wz[50_000] = 0.0;
    c[0][50_000] = f64::NEG_INFINITY;
    let (column, message) = names_of(fit(&c, &y, Some(&wz)).unwrap_err());
    assert_eq!(column, "x0");
    assert!(message.contains("row 50000"), "{message}");

    // A whole block of weight zero with a NaN inside.
    let mut wz = w.clone();
    wz[4096..8192].iter_mut().for_each(|v| *v = 0.0);
    let mut yy = y.clone();
    yy[5000] = f64::NAN;
    let (column, message) = names_of(fit(&cols, &yy, Some(&wz)).unwrap_err());
    assert_eq!(column, "y");
    assert!(message.contains("row 5000"), "{message}");

    // An outcome of infinities is reported as non-finite, not as constant.
    let inf = vec![f64::INFINITY; y.len()];
    let (column, message) = names_of(fit(&cols, &inf, None).unwrap_err());
    assert_eq!(column, "y");
    assert!(message.contains("not finite"), "{message}");

    // Finite values whose sums overflow: an error that says so, not infinite moments.
    let huge: Vec<Vec<f64>> = cols
        .iter()
        .map(|c| c.iter().map(|v| v * 1e300).collect())
        .collect();
    let e = fit(&huge, &y, None).unwrap_err();
    assert!(e.to_string().contains("overflow"), "{e}");
    let mut m = Moments::new(["a", "b"]).unwrap();
    let e = m.fold_columns(&[&huge[0], &huge[1]], None).unwrap_err();
    assert!(e.to_string().contains("overflow"), "{e}");
    assert_eq!(m.n(), 0, "nothing is folded on error");

    // In a driver analysis with missing values, sums that overflow are reported as such, not as the
    // (legitimately missing) NaN.
    let mut huge_y: Vec<f64> = y.iter().map(|v| v * 1e300).collect();
    huge_y[10] = f64::NAN;
    let d = drivers(&huge);
    let d: Vec<(&str, &[f64])> = d.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    let e = driver_analysis(
        &huge_y,
        &d,
        None,
        &DriverOptions::default()
            .with_outcome("y")
            .with_covariance(cx_metrics::CovarianceType::Classical),
    )
    .unwrap_err();
    assert!(e.to_string().contains("overflow"), "{e}");

    // The moments name the first bad value too, and change nothing.
    let mut c = cols.clone();
    c[1][69_999] = f64::NAN;
    let mut m = Moments::new(names).unwrap();
    let slices: Vec<&[f64]> = c.iter().map(Vec::as_slice).collect();
    let (column, message) = names_of(m.fold_columns(&slices, Some(&w)).unwrap_err());
    assert_eq!(column, "x1");
    assert!(message.contains("row 69999"), "{message}");
    assert_eq!(m.n(), 0);

    // A driver analysis assumes no missing value first and redoes the fit when one is found: the
    // result equals the fit of the complete rows.
    let mut c = cols.clone();
    let mut yy = y.clone();
    c[0][100] = f64::NAN;
    c[2][60_000] = f64::NAN;
    yy[30_000] = f64::NAN;
    let d = drivers(&c);
    let d: Vec<(&str, &[f64])> = d.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    let r = driver_analysis(
        &yy,
        &d,
        Some(&w),
        &DriverOptions::default()
            .with_outcome("y")
            .with_covariance(cx_metrics::CovarianceType::Classical),
    )
    .unwrap();
    assert_eq!(r.n_omitted, 3);
    let keep: Vec<usize> = (0..y.len())
        .filter(|i| ![100, 30_000, 60_000].contains(i))
        .collect();
    let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let complete: Vec<Vec<f64>> = c.iter().map(|v| pick(v)).collect();
    let direct = fit(&complete, &pick(&yy), Some(&pick(&w))).unwrap();
    assert_eq!(r.regression, direct);
    // And under "raise" the missing value is an error naming it.
    let raise = DriverOptions::default()
        .with_outcome("y")
        .with_missing(MissingPolicy::Raise);
    let e = driver_analysis(&yy, &d, Some(&w), &raise).unwrap_err();
    assert!(e.to_string().contains("row 100"), "{e}");
}

/// Large designs start their corrections from a pilot fit on the first rows. When those rows cannot be
/// fitted (a driver constant there), or when the design is correlated enough to need more than one
/// correction, the solution is still the exact one.
#[test]
fn the_pilot_start_never_changes_the_solution() {
    let compare = |cols: &[Vec<f64>], y: &[f64], tol: f64| {
        let names: Vec<String> = (0..cols.len()).map(|j| format!("x{j}")).collect();
        let drivers: Vec<(&str, &[f64])> = names
            .iter()
            .zip(cols)
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        let fit = ols("y", y, &drivers, None, 0.95).unwrap();
        let (sol, rss, _) = exact(cols, y, None);
        // Errors relative to the largest slope: a backward-stable solver's forward error is of order
        // κ²u·tanθ of the coefficient vector, so a near-zero coefficient of a correlated pair has no
        // relative accuracy of its own.
        let scale = sol.coefficients[1..]
            .iter()
            .fold(0.0f64, |m, b| m.max(b.abs()));
        for (j, c) in fit.coefficients.iter().enumerate() {
            let b = sol.coefficients[j];
            assert!(
                (c.estimate - b).abs() < tol * b.abs().max(scale),
                "{}: {} vs exact {}",
                c.term,
                c.estimate,
                sol.coefficients[j]
            );
        }
        assert_close("rss", fit.rss, rss, Tol::rel(tol));
        fit
    };
    // x0 is constant over the first 40,000 rows: the pilot cannot be fitted and starts from zero.
    let (mut cols, y, _) = survey(90_000, 3, 2.0, 21);
    cols[0][..40_000].iter_mut().for_each(|v| *v = 5.0);
    compare(&cols, &y, 1e-13);
    // x1 follows x0 closely (condition number in the hundreds, κ²u·tanθ about 1e-11): more than one
    // correction.
    let (mut cols, mut y, _) = survey(90_000, 3, 2.0, 22);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for i in 0..y.len() {
        cols[1][i] = cols[0][i] + 0.01 * rng.random_range(-1.0..1.0);
        y[i] += 0.3 * cols[1][i];
    }
    let fit = compare(&cols, &y, 1e-11);
    assert!(
        fit.condition_number > 100.0 && fit.condition_number < 1e3,
        "{}",
        fit.condition_number
    );
}
