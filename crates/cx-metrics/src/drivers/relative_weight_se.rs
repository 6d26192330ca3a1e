//! Analytic (delta-method) standard errors of Johnson's relative weights, for when the bootstrap is off.
//!
//! # Method
//!
//! Johnson's (2000) relative weights are a smooth function of the correlation matrix `R` of the
//! drivers and the outcome: with `Λ = R_xx^{1/2}` (symmetric square root) and `ω = Λ⁻¹ r_xy`,
//! `RW_j = Σ_k Λ_jk² ω_k²`. Their standard errors follow from the delta method (Tonidandel, LeBreton &
//! Johnson 2009 bootstrap them; Johnson 2004 gives the delta-method route):
//!
//! 1. **Gradient** ([`relative_weight_gradient`]), analytic. For a symmetric change `dR_xx`, the
//!    square root changes by the solution of the Sylvester equation `Λ dΛ + dΛ Λ = dR_xx`, which in the
//!    eigenbasis `R_xx = V diag(λ) Vᵀ` is `(Vᵀ dΛ V)_cd = (Vᵀ dR_xx V)_cd / (√λ_c + √λ_d)`; then
//!    `dω = Λ⁻¹ (dr_xy − dΛ ω)` and `dRW_j = Σ_k 2Λ_jk dΛ_jk ω_k² + 2Λ_jk² ω_k dω_k`.
//! 2. **Covariance of the correlations**, distribution-free: the influence function of a correlation
//!    at a standardized row `z` is `IF_ab(z) = z_a z_b − ½ r_ab (z_a² + z_b²)`, whose second moments are
//!    the asymptotic covariance of `√n (r − ρ)` from fourth moments (Hsu 1949; Steiger & Hakstian
//!    1982; Browne 1984) — no normality is assumed.
//! 3. **Linearisation**: with `uᵢ = ∇RW · IF(zᵢ)` (weighted standardization, `Σ wᵢ uᵢ = 0`),
//!    `Var(RW_j) ≈ n/(n − 1) · Σ wᵢ² u_ij² / (Σ wᵢ)²`, the with-replacement linearisation variance of a
//!    weighted estimator; without weights it is `Σ u_ij² / (n(n − 1))`.
//!
//! Intervals are `RW ± z·se`, clipped to `[0, 1]` (flagged in [`Interval::clipped`]).
//!
//! # References
//! - Browne, M. W. (1984). Asymptotically distribution-free methods for the analysis of covariance
//!   structures. *British Journal of Mathematical and Statistical Psychology* 37, 62–83.
//! - Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor variables
//!   in multiple regression. *Multivariate Behavioral Research* 35(1), 1–19.
//! - Johnson, J. W. (2004). Factors affecting relative weights: the influence of sampling and
//!   measurement error. *Organizational Research Methods* 7(3), 283–299.
//! - Steiger, J. H. & Hakstian, A. R. (1982). The asymptotic distribution of elements of a correlation
//!   matrix. *British Journal of Mathematical and Statistical Psychology* 35, 208–215.
//! - Tonidandel, S., LeBreton, J. M. & Johnson, J. W. (2009). Determining the statistical significance
//!   of relative weights. *Psychological Methods* 14(4), 387–399.

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::bootstrap::Engine;
use super::DriverOptions;
use crate::error::{Error, Result};
use crate::importance::{relative_importance, ImportanceMeasure, ImportanceOptions};
use crate::intervals::{z_two_sided, Interval};

/// Johnson's relative weights with delta-method standard errors: plain data.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelativeWeightErrors {
    /// The drivers.
    pub names: Vec<String>,
    /// The relative weights (sum to R²).
    pub weights: Vec<f64>,
    /// Their delta-method standard errors.
    pub std_error: Vec<f64>,
    /// Normal intervals `weight ± z·se`, clipped to `[0, 1]`.
    pub ci: Vec<Interval>,
    /// Rows used (complete, positive weight).
    pub n: usize,
    /// Confidence level of the intervals.
    pub confidence_level: f64,
}

/// The relative weights and their gradient with respect to the correlations.
///
/// `correlation` is the `(p+1)×(p+1)` correlation matrix with the outcome last. The gradient is
/// `p × q`, `q = p(p+1)/2`: column `c` is the derivative with respect to the `c`-th correlation of the
/// upper triangle taken row by row, `(0,1), (0,2), …, (0,p), (1,2), …, (p−1,p)` (the last index `p`
/// is the outcome), the matrix being kept symmetric.
///
/// # Errors
/// [`Error::InvalidArgument`] for a matrix that is not square with at least one driver;
/// [`Error::Collinear`] when the drivers' correlation matrix is not positive definite.
///
/// ```
/// use cx_metrics::drivers::relative_weight_gradient;
/// use nalgebra::DMatrix;
/// // One driver: RW = r², dRW/dr = 2r.
/// let r = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, 0.5, 1.0]);
/// let (rw, g) = relative_weight_gradient(&r).unwrap();
/// assert!((rw[0] - 0.25).abs() < 1e-15 && (g[(0, 0)] - 1.0).abs() < 1e-15);
/// ```
pub fn relative_weight_gradient(correlation: &DMatrix<f64>) -> Result<(Vec<f64>, DMatrix<f64>)> {
    let (k, cols) = correlation.shape();
    if k != cols || k < 2 {
        return Err(Error::invalid(
            "correlation",
            format!("must be square with at least one driver and the outcome, got {k}×{cols}"),
        ));
    }
    let p = k - 1;
    let rxx = correlation.view((0, 0), (p, p)).into_owned();
    let rxy = DVector::from_fn(p, |a, _| correlation[(a, p)]);
    let eig = rxx.symmetric_eigen();
    if eig.eigenvalues.iter().any(|l| l.is_nan() || *l <= 0.0) {
        return Err(Error::Collinear {
            columns: "some drivers".to_owned(),
        });
    }
    let v = &eig.eigenvectors;
    let root_vals = eig.eigenvalues.map(f64::sqrt);
    let root = v * DMatrix::from_diagonal(&root_vals) * v.transpose();
    let inv_root = v * DMatrix::from_diagonal(&root_vals.map(|x| 1.0 / x)) * v.transpose();
    let omega = &inv_root * &rxy;
    let rw: Vec<f64> = (0..p)
        .map(|j| (0..p).map(|c| (root[(j, c)] * omega[c]).powi(2)).sum())
        .collect();
    let q = p * (p + 1) / 2;
    let mut grad = DMatrix::zeros(p, q);
    let mut col = 0;
    for a in 0..p {
        for b in a + 1..=p {
            let (d_root, d_rxy) = if b < p {
                let mut dr = DMatrix::zeros(p, p);
                dr[(a, b)] = 1.0;
                dr[(b, a)] = 1.0;
                let m = v.transpose() * dr * v;
                let s = DMatrix::from_fn(p, p, |c, d| m[(c, d)] / (root_vals[c] + root_vals[d]));
                (v * s * v.transpose(), DVector::zeros(p))
            } else {
                let mut e = DVector::zeros(p);
                e[a] = 1.0;
                (DMatrix::zeros(p, p), e)
            };
            let d_omega = &inv_root * (d_rxy - &d_root * &omega);
            for j in 0..p {
                grad[(j, col)] = (0..p)
                    .map(|c| {
                        2.0 * root[(j, c)] * d_root[(j, c)] * omega[c] * omega[c]
                            + 2.0 * root[(j, c)].powi(2) * omega[c] * d_omega[c]
                    })
                    .sum();
            }
            col += 1;
        }
    }
    Ok((rw, grad))
}

/// Johnson's relative weights of a driver analysis with distribution-free delta-method standard
/// errors (see the module docs), at `options.confidence_level`.
///
/// The inputs are those of [`driver_analysis`](super::driver_analysis); `always`, groups and the
/// `indicator` and `pairwise` policies are not supported here (use the bootstrap).
///
/// # Errors
/// Those of [`driver_analysis`](super::driver_analysis); [`Error::InvalidArgument`] for the
/// unsupported options.
///
/// ```
/// use cx_metrics::drivers::{relative_weight_standard_errors, DriverOptions};
/// let ltr = [9.0, 7.0, 10.0, 4.0, 8.0, 6.0, 9.0, 3.0, 7.0, 10.0, 5.0, 8.0];
/// let ease = [6.0, 5.0, 7.0, 2.0, 5.0, 4.0, 7.0, 1.0, 4.0, 6.0, 3.0, 6.0];
/// let speed = [5.0, 6.0, 6.0, 3.0, 4.0, 5.0, 5.0, 2.0, 6.0, 7.0, 4.0, 4.0];
/// let se = relative_weight_standard_errors(&ltr, &[("ease", &ease), ("speed", &speed)], None,
///     &DriverOptions::default()).unwrap();
/// assert!(se.std_error.iter().all(|s| *s > 0.0));
/// ```
pub fn relative_weight_standard_errors(
    outcome: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &DriverOptions,
) -> Result<RelativeWeightErrors> {
    let z_crit = z_two_sided(options.confidence_level)?;
    if !options.always.is_empty() || !options.groups.is_empty() {
        return Err(Error::invalid(
            "options",
            "analytic relative-weight standard errors do not support always or groups; use the bootstrap",
        ));
    }
    if matches!(
        options.missing,
        super::MissingPolicy::Indicator | super::MissingPolicy::Pairwise
    ) {
        return Err(Error::invalid(
            "missing",
            "analytic relative-weight standard errors need complete rows: use \"listwise\" or \"raise\"",
        ));
    }
    let engine = Engine::from_columns(outcome, drivers, weights, options, &[])?;
    let corr = engine.full_correlation().ok_or_else(|| Error::Collinear {
        columns: engine.terms.join(", "),
    })?;
    // The weights themselves come from the importance module, which also validates the matrix.
    let opts = ImportanceOptions::default().with_measures(&[ImportanceMeasure::Johnson]);
    let imp = relative_importance(&corr, &engine.terms, &opts)?;
    let weights_rw = imp
        .scores(ImportanceMeasure::Johnson)
        .map(|s| s.raw.clone())
        .ok_or_else(|| Error::invalid("measures", "johnson was not computed"))?;
    let (_, grad) = relative_weight_gradient(&corr)?;
    let k = corr.nrows();
    let p = k - 1;
    let pairs: Vec<(usize, usize)> = (0..p)
        .flat_map(|a| (a + 1..=p).map(move |b| (a, b)))
        .collect();
    let mut sum_sq = vec![0.0; p];
    let mut total_w = 0.0;
    let mut influence = vec![0.0; pairs.len()];
    for (z, w) in engine.standardized_rows() {
        total_w += w;
        for (f, &(a, b)) in influence.iter_mut().zip(&pairs) {
            *f = z[a] * z[b] - 0.5 * corr[(a, b)] * (z[a] * z[a] + z[b] * z[b]);
        }
        for (j, s) in sum_sq.iter_mut().enumerate() {
            let u: f64 = grad.row(j).iter().zip(&influence).map(|(g, f)| g * f).sum();
            *s += (w * u).powi(2);
        }
    }
    let n = engine.n as f64;
    let std_error: Vec<f64> = sum_sq
        .iter()
        .map(|s| (n / (n - 1.0) * s).sqrt() / total_w)
        .collect();
    let ci = weights_rw
        .iter()
        .zip(&std_error)
        .map(|(w, s)| {
            Interval::new(w - z_crit * s, w + z_crit * s, options.confidence_level).clip(0.0, 1.0)
        })
        .collect();
    Ok(RelativeWeightErrors {
        names: engine.terms.clone(),
        weights: weights_rw,
        std_error,
        ci,
        n: engine.n,
        confidence_level: options.confidence_level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic gradient equals central differences of the importance module's relative weights.
    #[test]
    fn gradient_matches_numerical_differentiation() {
        let r = DMatrix::from_row_slice(
            4,
            4,
            &[
                1.0, 0.45, 0.2, 0.5, //
                0.45, 1.0, 0.35, 0.4, //
                0.2, 0.35, 1.0, 0.3, //
                0.5, 0.4, 0.3, 1.0,
            ],
        );
        let names = ["a", "b", "c"];
        let opts = ImportanceOptions::default().with_measures(&[ImportanceMeasure::Johnson]);
        let rw = |m: &DMatrix<f64>| {
            relative_importance(m, &names, &opts).unwrap().scores[0]
                .raw
                .clone()
        };
        let (w, g) = relative_weight_gradient(&r).unwrap();
        for (a, b) in w.iter().zip(rw(&r)) {
            assert!((a - b).abs() < 1e-14);
        }
        let h = 1e-6;
        let mut col = 0;
        for a in 0..3 {
            for b in a + 1..4 {
                let mut up = r.clone();
                let mut down = r.clone();
                for (i, j) in [(a, b), (b, a)] {
                    up[(i, j)] += h;
                    down[(i, j)] -= h;
                }
                let (u, d) = (rw(&up), rw(&down));
                for j in 0..3 {
                    let numeric = (u[j] - d[j]) / (2.0 * h);
                    // Central differences are accurate to O(h²) + rounding/h ≈ 1e-9.
                    assert!(
                        (numeric - g[(j, col)]).abs() < 1e-8,
                        "d RW_{j} / d r_{a}{b}: {numeric} vs {}",
                        g[(j, col)]
                    );
                }
                col += 1;
            }
        }
    }
}
