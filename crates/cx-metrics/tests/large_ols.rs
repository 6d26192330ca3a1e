//! Large, well-conditioned designs are solved from the moments with corrected semi-normal equations
//! instead of the refined QR. Reference: the refined QR itself (`RefinedLeastSquares`, the exact
//! least-squares solution of the f64 data, rounded), run on the same rows. Tolerances: 1e-13 relative
//! for coefficients and standard errors, which is the accuracy a backward-stable solver (R `lm`,
//! statsmodels) reaches on designs this well conditioned; the RSS to 1e-10 when R² is 1 − 1e-12, where
//! an RSS taken from the co-moments would keep no digit at all.

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

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
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
        assert!(
            rel(c.estimate, sol.coefficients[j]) < 1e-13,
            "{}: {} vs exact {}",
            c.term,
            c.estimate,
            sol.coefficients[j]
        );
        assert!(
            rel(c.std_error, se) < 1e-10_f64.min(rss_tol.max(1e-13)),
            "{} se",
            c.term
        );
    }
    assert!(
        rel(fit.rss, rss) < rss_tol,
        "rss {} vs exact {rss}",
        fit.rss
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
        &DriverOptions::default().with_outcome("y"),
    )
    .unwrap();
    let fit = ols("y", &y, &drivers, Some(&w), 0.95).unwrap();
    assert_eq!(r.regression, fit);
}
