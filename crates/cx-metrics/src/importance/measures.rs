//! The closed-form measures, all read from the working (correlation) matrix of the full model.
//!
//! Notation: `C` is the covariance of the ranked drivers and the outcome `y` given the `always`
//! covariates (the correlation matrix itself without them), `β = C_xx⁻¹ c_xy` the standardized
//! full-model coefficients, and every score is a fraction of the outcome's total variance.
//!
//! - first (Grömping 2006): `v({j})`, the R² gained by `j` alone; `r_jy²` without `always`.
//! - last, usefulness (Darlington 1968; Grömping 2006): `v(U) − v(U∖{j}) = β_jᵀ [(C_xx⁻¹)_jj]⁻¹ β_j`
//!   (for one driver `β_j² / (C_xx⁻¹)_jj`); computed without subtracting two R² values.
//! - betasq: `β_j² C_jj`, the squared standardized coefficient.
//! - pratt (Pratt 1987): `β_j c_jy`; sums to `v(U)`, can be negative.
//! - genizi, Johnson's relative weights (Johnson 2000; Genizi 1993): with `R̃` the correlation form of
//!   `C`, `Λ = R̃_xx^{1/2}` (symmetric square root) and `ω = Λ⁻¹ r̃_xy`,
//!   `RW_j = C_yy Σ_k Λ_jk² ω_k²`; sums to `v(U)`.
//! - car (Zuber & Strimmer 2011): the CAR scores `ω` above, importance `C_yy ω_j²`; sums to `v(U)`.
//!
//! Without `always`, `C_yy = 1` and these are exactly relaimpo's `first`, `last`, `betasq`, `pratt`,
//! `genizi` and `car`. With `always`, `first`, `last` (and LMG) are relaimpo's; relaimpo computes
//! `genizi` and `car` on the partial correlation matrix without the factor `C_yy`, i.e. as fractions of
//! the variance left after the `always` covariates: theirs equal ours divided by `1 − R²(always)`. Here
//! every measure uses the one unit (total outcome variance), so the decompositions all sum to
//! `R² − R²(always)`.

use nalgebra::{DMatrix, DVector};

use super::problem::Problem;
use super::subsets::explained;
use crate::error::{Error, Result};

fn singular() -> Error {
    Error::Collinear {
        columns: "some drivers".to_owned(),
    }
}

/// The full model: standardized coefficients and the inverse of the drivers' covariance.
#[derive(Debug, Clone)]
pub(crate) struct FullModel {
    /// `β = C_xx⁻¹ c_xy`, one per ranked driver.
    pub beta: DVector<f64>,
    /// `C_xx⁻¹`.
    pub inverse: DMatrix<f64>,
}

/// Fit the full model from the working matrix.
pub(crate) fn full_model(problem: &Problem) -> Result<FullModel> {
    let n = problem.n_drivers();
    let cxx = problem.cov.view((0, 0), (n, n)).into_owned();
    let cxy = problem.cov.view((0, n), (n, 1)).column(0).into_owned();
    let chol = cxx.cholesky().ok_or_else(singular)?;
    Ok(FullModel {
        beta: chol.solve(&cxy),
        inverse: chol.inverse(),
    })
}

/// `first`: the R² each unit explains alone (beyond `always`).
pub(crate) fn first(problem: &Problem) -> Result<Vec<f64>> {
    problem
        .units
        .iter()
        .map(|r| explained(&problem.cov, &r.clone().collect::<Vec<_>>()))
        .collect()
}

/// `last`: the R² lost when each unit leaves the full model.
pub(crate) fn last(problem: &Problem, full: &FullModel) -> Result<Vec<f64>> {
    problem
        .units
        .iter()
        .map(|r| {
            let k = r.len();
            let block = DMatrix::from_fn(k, k, |i, j| full.inverse[(r.start + i, r.start + j)]);
            let b = DVector::from_fn(k, |i, _| full.beta[r.start + i]);
            let chol = block.cholesky().ok_or_else(singular)?;
            Ok(b.dot(&chol.solve(&b)))
        })
        .collect()
}

/// `betasq`: squared standardized coefficients.
pub(crate) fn betasq(problem: &Problem, full: &FullModel) -> Vec<f64> {
    full.beta
        .iter()
        .enumerate()
        .map(|(j, b)| b * b * problem.cov[(j, j)])
        .collect()
}

/// `pratt`: standardized coefficient times correlation with the outcome.
pub(crate) fn pratt(problem: &Problem, full: &FullModel) -> Vec<f64> {
    let y = problem.n_drivers();
    full.beta
        .iter()
        .enumerate()
        .map(|(j, b)| b * problem.cov[(j, y)])
        .collect()
}

/// Johnson's relative weights (relaimpo's `genizi`) and the CAR importances, both from the symmetric
/// square root of the drivers' correlation matrix.
pub(crate) fn genizi_and_car(problem: &Problem) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = problem.n_drivers();
    let c = &problem.cov;
    let sd: Vec<f64> = (0..=n).map(|i| c[(i, i)].sqrt()).collect();
    let rxx = DMatrix::from_fn(n, n, |i, j| c[(i, j)] / (sd[i] * sd[j]));
    let rxy = DVector::from_fn(n, |i, _| c[(i, n)] / (sd[i] * sd[n]));
    let eig = rxx.symmetric_eigen();
    if eig.eigenvalues.iter().any(|&l| l.is_nan() || l <= 0.0) {
        return Err(singular());
    }
    let v = &eig.eigenvectors;
    let root_vals = eig.eigenvalues.map(f64::sqrt);
    let root = v * DMatrix::from_diagonal(&root_vals) * v.transpose();
    let inv_root = v * DMatrix::from_diagonal(&root_vals.map(|x| 1.0 / x)) * v.transpose();
    let omega = inv_root * rxy;
    let cyy = c[(n, n)];
    let car = omega.iter().map(|w| cyy * w * w).collect();
    let genizi = (0..n)
        .map(|j| {
            cyy * (0..n)
                .map(|k| (root[(j, k)] * omega[k]).powi(2))
                .sum::<f64>()
        })
        .collect();
    Ok((genizi, car))
}

/// Direction of each ranked driver: the sign of its (partial, given `always`) correlation with the
/// outcome.
pub(crate) fn correlation_signs(problem: &Problem) -> Vec<f64> {
    let y = problem.n_drivers();
    (0..y).map(|j| sign(problem.cov[(j, y)])).collect()
}

/// −1, 0 or +1.
pub(crate) fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}
