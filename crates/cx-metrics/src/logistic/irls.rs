//! The maximum-likelihood engine: Newton–Raphson (= IRLS for the canonical logit link) with step halving,
//! a condition check on every weighted least-squares solve, and separation detection.
//!
//! # Formula
//!
//! With `μᵢ = 1/(1 + e^{−ηᵢ})`, `η = Xβ`, weights `wᵢ` and `vᵢ = wᵢ μᵢ (1 − μᵢ)`, each iteration solves
//! the weighted least-squares normal equations `(XᵀVX) δ = Xᵀ W (y − μ)` and sets `β ← β + t δ`, halving
//! `t` until the deviance `D = −2 Σ wᵢ [yᵢ ln μᵢ + (1 − yᵢ) ln(1 − μᵢ)]` does not increase. It stops when
//! `|D − D_old| / (|D| + 0.1) < tol` (the criterion of R's `glm.fit`; McCullagh & Nelder 1989, §4.4).
//!
//! The Gram matrix is equilibrated (`S = diag(XᵀVX)^{−1/2}`, `G = S XᵀVX S`, unit diagonal) and its
//! condition number `λ_max/λ_min` is checked before the Cholesky solve.
//!
//! # Separation
//!
//! Under complete or quasi-complete separation (Albert & Anderson 1984) the likelihood has no maximum:
//! along the separating direction the deviance keeps falling while the fitted probabilities of the
//! separated rows tend to 0 or 1, and each Newton step moves their linear predictor outwards by about one
//! unit however far out they already are. At a genuine maximum the next Newton step is negligible. So once
//! the deviance criterion is met, one more Newton step is computed: rows whose linear predictor it moves by
//! at least [`OUTWARD_STEP`] towards their observed outcome are diverging. If all of them already have
//! fitted probabilities within `separation_tol` of their outcome, separation is reported (rows at 0/1,
//! and the drivers that carry the diverging direction); otherwise the iterations continue.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use crate::error::{Error, Result};

/// A Newton step that moves a row's linear predictor by at least this much towards its observed outcome,
/// after the deviance has converged, marks the row as diverging.
pub(crate) const OUTWARD_STEP: f64 = 0.5;

/// Step halvings tried before declaring the deviance minimised to machine precision.
const MAX_HALVINGS: usize = 40;

/// A driver is named as involved in a separation when its share of the diverging direction (coefficient
/// change times the driver's standard deviation) is at least this fraction of the largest.
const INVOLVED_FRACTION: f64 = 0.05;

/// Tuning of the engine (validated by the caller).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub max_iter: usize,
    pub tol: f64,
    pub separation_tol: f64,
    pub max_condition: f64,
}

/// A separation found by the engine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    /// Every row with positive weight is at 0/1.
    pub complete: bool,
    /// Design columns (1-based: 0 is the intercept) carrying the diverging direction.
    pub columns: Vec<usize>,
    /// Rows (positive weight) whose fitted probability is within tolerance of their outcome.
    pub rows: usize,
}

/// The outcome of the engine.
#[derive(Debug, Clone)]
pub(crate) struct Fit {
    pub beta: Vec<f64>,
    pub log_likelihood: f64,
    pub iterations: usize,
    pub converged: bool,
    /// Inverse Fisher information `(XᵀVX)⁻¹` at the estimate; `None` under separation.
    pub covariance: Option<DMatrix<f64>>,
    pub separation: Option<Found>,
}

/// The sandwich (HC0) covariance `A⁻¹BA⁻¹` of the coefficients `beta`, with `A⁻¹ = a_inv` (the
/// inverse information `(XᵀVX)⁻¹`) and `B = Σ wᵢ²(yᵢ − μᵢ)² xᵢxᵢᵀ` (the outer products of the
/// score contributions). Binder (1983), "On the variances of asymptotically normal estimators from
/// complex surveys", *Int. Stat. Review* 51(3).
pub(crate) fn sandwich(
    x: &DMatrix<f64>,
    y: &[f64],
    w: &[f64],
    beta: &[f64],
    a_inv: &DMatrix<f64>,
) -> DMatrix<f64> {
    let eta = x * DVector::from_column_slice(beta);
    let mut scores = x.clone();
    for (i, mut row) in scores.row_iter_mut().enumerate() {
        let (mu, q) = (logistic(eta[i]), logistic(-eta[i]));
        // y − μ, without cancellation when μ is near 1.
        let resid = if y[i] > 0.5 { q } else { -mu };
        row *= w[i] * resid;
    }
    let b = scores.tr_mul(&scores);
    let v = a_inv * b * a_inv;
    (&v + v.transpose()) * 0.5
}

/// `ln(1 + eˣ)` without overflow or cancellation.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// `1/(1 + e^{−x})`, accurate in both tails.
pub(crate) fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `Σ wᵢ [yᵢ ln μᵢ + (1 − yᵢ) ln(1 − μᵢ)]` with `ln μ = −softplus(−η)`, `ln(1 − μ) = −softplus(η)`.
pub(crate) fn log_likelihood(eta: &DVector<f64>, y: &[f64], w: &[f64]) -> f64 {
    eta.iter()
        .zip(y)
        .zip(w)
        .map(|((&e, &y), &w)| {
            if w == 0.0 {
                0.0
            } else if y > 0.5 {
                -w * softplus(-e)
            } else {
                -w * softplus(e)
            }
        })
        .sum()
}

/// The probability the fit gives to the outcome that was *not* observed.
fn mismatch(eta: f64, y: f64) -> f64 {
    if y > 0.5 {
        logistic(-eta)
    } else {
        logistic(eta)
    }
}

/// `(XᵀVX, Xᵀ W (y − μ))` at linear predictor `eta`.
fn system(
    x: &DMatrix<f64>,
    eta: &DVector<f64>,
    y: &[f64],
    w: &[f64],
) -> (DMatrix<f64>, DVector<f64>) {
    let n = x.nrows();
    let mut root_v = DVector::zeros(n);
    let mut r = DVector::zeros(n);
    for (i, ((&e, &y), &w)) in eta.iter().zip(y).zip(w).enumerate() {
        let (mu, q) = (logistic(e), logistic(-e));
        root_v[i] = (w * mu * q).sqrt();
        r[i] = w * if y > 0.5 { q } else { -mu };
    }
    let mut xs = x.clone();
    for mut col in xs.column_iter_mut() {
        col.component_mul_assign(&root_v);
    }
    (xs.tr_mul(&xs), x.tr_mul(&r))
}

/// A solved Newton system.
struct Solved {
    delta: DVector<f64>,
    /// `S`, the equilibrating scale.
    scale: DVector<f64>,
    chol: nalgebra::Cholesky<f64, nalgebra::Dyn>,
}

impl Solved {
    /// `(XᵀVX)⁻¹ = S G⁻¹ S`.
    fn covariance(&self) -> DMatrix<f64> {
        let g_inv = self.chol.inverse();
        let s = DMatrix::from_diagonal(&self.scale);
        &s * g_inv * &s
    }
}

/// A Gram matrix too ill-conditioned to solve.
struct Unsolvable {
    condition: f64,
    /// Eigenvector of the smallest eigenvalue, in coefficient units (`S v`).
    null: DVector<f64>,
}

fn solve(
    h: &DMatrix<f64>,
    g: &DVector<f64>,
    max_condition: f64,
) -> std::result::Result<Solved, Unsolvable> {
    let k = h.nrows();
    let mut scale = DVector::zeros(k);
    for j in 0..k {
        let d = h[(j, j)];
        if !(d.is_finite() && d > 0.0) {
            let mut null = DVector::zeros(k);
            null[j] = 1.0;
            return Err(Unsolvable {
                condition: f64::INFINITY,
                null,
            });
        }
        scale[j] = 1.0 / d.sqrt();
    }
    let s = DMatrix::from_diagonal(&scale);
    let gram = &s * h * &s;
    let eig = SymmetricEigen::new(gram.clone());
    let (mut lo, mut hi) = (0, 0);
    for (j, &l) in eig.eigenvalues.iter().enumerate() {
        if l < eig.eigenvalues[lo] {
            lo = j;
        }
        if l > eig.eigenvalues[hi] {
            hi = j;
        }
    }
    let (l_min, l_max) = (eig.eigenvalues[lo], eig.eigenvalues[hi]);
    let condition = if l_min > 0.0 {
        l_max / l_min
    } else {
        f64::INFINITY
    };
    let null = || scale.component_mul(&eig.eigenvectors.column(lo));
    if condition.is_nan() || condition > max_condition {
        return Err(Unsolvable {
            condition,
            null: null(),
        });
    }
    let Some(chol) = gram.cholesky() else {
        return Err(Unsolvable {
            condition: f64::INFINITY,
            null: null(),
        });
    };
    let delta = scale.component_mul(&chol.solve(&scale.component_mul(g)));
    Ok(Solved { delta, scale, chol })
}

/// Standard deviation of each design column (0 for the intercept).
fn column_sd(x: &DMatrix<f64>) -> Vec<f64> {
    let n = x.nrows() as f64;
    x.column_iter()
        .enumerate()
        .map(|(j, c)| {
            if j == 0 {
                return 0.0;
            }
            let m = c.sum() / n;
            (c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n).sqrt()
        })
        .collect()
}

/// Driver columns (≥ 1) whose share of `direction` is at least [`INVOLVED_FRACTION`] of the largest.
fn involved(x: &DMatrix<f64>, direction: &DVector<f64>) -> Vec<usize> {
    let contrib: Vec<f64> = column_sd(x)
        .iter()
        .zip(direction.iter())
        .map(|(s, d)| (s * d).abs())
        .collect();
    let top = contrib.iter().copied().fold(0.0, f64::max);
    (1..contrib.len())
        .filter(|&j| top > 0.0 && contrib[j] >= INVOLVED_FRACTION * top)
        .collect()
}

/// The separation at `eta`, if rows with positive weight sit within `tol` of their outcome.
fn found(
    x: &DMatrix<f64>,
    eta: &DVector<f64>,
    y: &[f64],
    w: &[f64],
    tol: f64,
    direction: &DVector<f64>,
) -> Option<Found> {
    let weighted = w.iter().filter(|&&w| w > 0.0).count();
    let rows = eta
        .iter()
        .zip(y)
        .zip(w)
        .filter(|((&e, &y), &w)| w > 0.0 && mismatch(e, y) < tol)
        .count();
    (rows > 0).then(|| Found {
        complete: rows == weighted,
        columns: involved(x, direction),
        rows,
    })
}

/// What the next Newton step says about the rows.
enum Divergence {
    /// No row moves outwards: a genuine maximum.
    None,
    /// Rows move outwards and all of them are already at 0/1 within tolerance: separation.
    Separated,
    /// Rows move outwards but are not yet at 0/1: keep iterating.
    Pending,
}

fn divergence(
    eta: &DVector<f64>,
    moved: &DVector<f64>,
    y: &[f64],
    w: &[f64],
    tol: f64,
) -> Divergence {
    let mut movers = 0;
    let mut pending = 0;
    for (((&e, &m), &y), &w) in eta.iter().zip(moved.iter()).zip(y).zip(w) {
        let outward = if y > 0.5 { m } else { -m };
        if w > 0.0 && outward >= OUTWARD_STEP {
            movers += 1;
            if mismatch(e, y) >= tol {
                pending += 1;
            }
        }
    }
    match (movers, pending) {
        (0, _) => Divergence::None,
        (_, 0) => Divergence::Separated,
        _ => Divergence::Pending,
    }
}

/// The error for an unsolvable system that is not explained by separation.
fn singular_error(u: &Unsolvable, names: &[String]) -> Error {
    if u.condition > 1.0 / (f64::EPSILON * names.len().max(1) as f64) {
        let top = u.null.iter().skip(1).fold(0.0f64, |a, v| a.max(v.abs()));
        let columns: Vec<&str> = names
            .iter()
            .zip(u.null.iter())
            .skip(1)
            .filter(|(_, v)| top > 0.0 && v.abs() >= 0.1 * top)
            .map(|(n, _)| n.as_str())
            .collect();
        Error::Collinear {
            columns: columns.join(", "),
        }
    } else {
        Error::IllConditioned {
            condition: u.condition,
        }
    }
}

/// Fit by Newton–Raphson from `start`; `names` name the design columns (intercept first) in errors.
pub(crate) fn fit(
    x: &DMatrix<f64>,
    y: &[f64],
    w: &[f64],
    start: &[f64],
    s: &Settings,
    names: &[String],
) -> Result<Fit> {
    let mut beta = DVector::from_column_slice(start);
    let mut eta = x * &beta;
    let mut ll = log_likelihood(&eta, y, w);
    let mut iterations = 0;
    let mut converged = false;
    let mut done = false;
    loop {
        let (h, g) = system(x, &eta, y, w);
        let solved = match solve(&h, &g, s.max_condition) {
            Ok(v) => v,
            Err(u) => {
                return match found(x, &eta, y, w, s.separation_tol, &u.null) {
                    Some(sep) => Ok(Fit {
                        beta: beta.as_slice().to_vec(),
                        log_likelihood: ll,
                        iterations,
                        converged,
                        covariance: None,
                        separation: Some(sep),
                    }),
                    None => Err(singular_error(&u, names)),
                };
            }
        };
        if done || iterations >= s.max_iter {
            let moved = x * &solved.delta;
            let separation = match divergence(&eta, &moved, y, w, s.separation_tol) {
                Divergence::None => None,
                Divergence::Separated => found(x, &eta, y, w, s.separation_tol, &solved.delta),
                Divergence::Pending if iterations < s.max_iter => {
                    done = false;
                    converged = false;
                    None
                }
                Divergence::Pending => {
                    converged = false;
                    None
                }
            };
            if done || iterations >= s.max_iter || separation.is_some() {
                let covariance = separation.is_none().then(|| solved.covariance());
                return Ok(Fit {
                    beta: beta.as_slice().to_vec(),
                    log_likelihood: ll,
                    iterations,
                    converged: converged && separation.is_none(),
                    covariance,
                    separation,
                });
            }
        }
        iterations += 1;
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..=MAX_HALVINGS {
            let b = &beta + &solved.delta * t;
            let e = x * &b;
            let l = log_likelihood(&e, y, w);
            if l.is_finite() && l >= ll - 8.0 * f64::EPSILON * ll.abs() {
                accepted = Some((b, e, l));
                break;
            }
            t *= 0.5;
        }
        match accepted {
            // No step along a descent direction lowers the deviance: minimised to machine precision.
            None => {
                converged = true;
                done = true;
            }
            Some((b, e, l)) => {
                let change = (2.0 * (l - ll)).abs() / (2.0 * l.abs() + 0.1);
                beta = b;
                eta = e;
                ll = l;
                if change < s.tol {
                    converged = true;
                    done = true;
                }
            }
        }
    }
}
