//! The shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007), fitted by
//! maximum likelihood.
//!
//! Each customer renews every period with a probability 1 − θ until the first failure; θ varies
//! across customers as Beta(α, β). Then
//!
//! ```text
//! S(t)     = B(α, β + t) / B(α, β)       = Π_{j<t} (β + j) / (α + β + j)
//! P(T = t) = B(α + 1, β + t − 1) / B(α, β) = S(t − 1) · α / (α + β + t − 1)
//! r_t      = S(t) / S(t − 1)             = (β + t − 1) / (α + β + t − 1)
//! ```
//!
//! A cohort observed for `T` periods with survivors n₀ ≥ n₁ ≥ … ≥ n_T contributes
//! Σ_t (n_{t−1} − n_t) ln P(T = t) + n_T ln S(T) to the log-likelihood; several cohorts observed for
//! different lengths add their terms (Fader & Hardie, "Fitting the sBG model to multi-cohort data",
//! note 017). The ratios of beta functions are finite products, so the likelihood, its gradient
//! and its Hessian are exact sums of logarithms and reciprocals: no special function is needed and
//! nothing overflows however long the cohorts are observed.
//!
//! The fit maximises over (ln α, ln β) by Newton's method with a backtracking line search (a
//! gradient step where the Hessian is not negative definite). It never fails for a numerical
//! reason: convergence, the gradient norm, the iterations and the condition number of the observed
//! information are returned as data ([`SbgFit::converged`], [`SbgFit::message`]). Intervals of α and
//! β are Wald intervals on the log scale from the observed information.
//!
//! Converged means an **interior** maximum: the gradient in (ln α, ln β) is below the tolerance
//! *and* the observed information there is positive definite and well conditioned (condition
//! number in (ln α, ln β) below [`SbgOptions::max_condition`]). Some data have no interior
//! maximum: when every customer churns in the first period the likelihood only rises as β/α → 0,
//! and when one churn probability for everyone fits as well as any mix it rises as α, β → ∞ with
//! their ratio fixed. The search then walks towards the edge, the gradient in (ln α, ln β)
//! vanishes while α and β are not identified, and the fit is reported with
//! [`SbgFit::boundary`] set, `converged == false`, a message saying so, and no intervals or
//! standard errors (NaN).
//!
//! ```
//! use cx_metrics::sbg::{sbg_fit, SbgOptions};
//! // Fader & Hardie (2007), "regular" customers: α = 0.704, β = 1.182.
//! let survivors = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
//! let fit = sbg_fit(&[&survivors[..]], &SbgOptions::default()).unwrap();
//! assert!(fit.converged);
//! assert!((fit.alpha - 0.704077301911277).abs() < 1e-6);
//! assert!((1000.0 * fit.survival(12) - 170.03745204595606).abs() < 1e-3);
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::intervals::{z_two_sided, Interval};

/// Options of the fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SbgOptions {
    /// Coverage of the intervals of α and β.
    pub confidence_level: f64,
    /// Largest number of Newton iterations.
    pub max_iterations: u32,
    /// Convergence: the largest |∂ℓ/∂ ln α|, |∂ℓ/∂ ln β| relative to 1 + |ℓ|.
    pub tolerance: f64,
    /// Largest condition number of the observed information in (ln α, ln β) at an interior
    /// maximum; above it (or not positive definite) the maximum is at the edge of the parameter
    /// space and α, β are not identified.
    pub max_condition: f64,
}

impl Default for SbgOptions {
    fn default() -> Self {
        Self {
            confidence_level: 0.95,
            max_iterations: 200,
            tolerance: 1e-12,
            max_condition: 1e8,
        }
    }
}

/// One cohort's data: survivors at the start (n₀) and after each period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SbgCohort {
    /// n₀, n₁, …, n_T.
    pub survivors: Vec<f64>,
}

/// A fitted sBG model.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SbgFit {
    /// α of the Beta distribution of churn probabilities.
    pub alpha: f64,
    /// β of the Beta distribution of churn probabilities.
    pub beta: f64,
    /// Interval of α (Wald on ln α, observed information).
    pub alpha_ci: Interval,
    /// Interval of β (Wald on ln β, observed information).
    pub beta_ci: Interval,
    /// Standard error of α (observed information).
    pub alpha_std_error: f64,
    /// Standard error of β (observed information).
    pub beta_std_error: f64,
    /// Covariance of (α, β): the inverse observed information, row-major 2×2.
    pub covariance: [f64; 4],
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
    /// Whether the fit reached an interior maximum: a small gradient in (ln α, ln β) where the
    /// observed information is positive definite and well conditioned.
    pub converged: bool,
    /// Whether the likelihood is highest at the edge of the parameter space (α or β → 0 or ∞,
    /// or both → ∞ with their ratio fixed): α and β are then not identified, and their intervals
    /// and standard errors are NaN.
    #[serde(default)]
    pub boundary: bool,
    /// Newton iterations taken.
    pub iterations: u32,
    /// Euclidean norm of the gradient of ℓ in (α, β) at the estimate (the convergence test reads
    /// the gradient in (ln α, ln β), which is this one scaled by the parameters).
    pub gradient_norm: f64,
    /// Condition number of the observed information at the estimate (∞ when singular).
    #[serde(with = "crate::serde_nan")]
    pub condition_number: f64,
    /// What happened, in words.
    pub message: String,
    /// The cohorts fitted.
    pub cohorts: Vec<SbgCohort>,
    /// Customers at the start of every cohort together.
    pub n_customers: f64,
}

impl SbgFit {
    /// S(t): the share of a cohort still there after `t` periods.
    pub fn survival(&self, t: u32) -> f64 {
        survival(self.alpha, self.beta, t)
    }

    /// r_t = S(t) / S(t − 1): the retention rate of period `t` ≥ 1 among those still there.
    pub fn retention(&self, t: u32) -> f64 {
        let t = f64::from(t.max(1));
        (self.beta + t - 1.0) / (self.alpha + self.beta + t - 1.0)
    }

    /// S(0), …, S(`horizon`).
    pub fn survival_curve(&self, horizon: u32) -> Vec<f64> {
        let mut out = Vec::with_capacity(horizon as usize + 1);
        let mut s = 1.0;
        out.push(s);
        for j in 0..horizon {
            let j = f64::from(j);
            s *= (self.beta + j) / (self.alpha + self.beta + j);
            out.push(s);
        }
        out
    }

    /// r₁, …, r_`horizon`.
    pub fn retention_curve(&self, horizon: u32) -> Vec<f64> {
        (1..=horizon).map(|t| self.retention(t)).collect()
    }
}

/// S(t) = Π_{j<t} (β + j)/(α + β + j), summed in logs.
pub fn survival(alpha: f64, beta: f64, t: u32) -> f64 {
    (0..t)
        .map(|j| {
            let j = f64::from(j);
            (beta + j).ln() - (alpha + beta + j).ln()
        })
        .sum::<f64>()
        .exp()
}

/// Check the cohorts: at least one; each at least two whole counts ≥ 0, the first positive,
/// never increasing.
fn check_cohorts(cohorts: &[&[f64]]) -> Result<()> {
    if cohorts.is_empty() {
        return Err(Error::invalid("survivors", "no cohort given"));
    }
    for (c, s) in cohorts.iter().enumerate() {
        let name = if cohorts.len() == 1 {
            String::from("the cohort")
        } else {
            format!("cohort {c}")
        };
        if s.len() < 2 {
            return Err(Error::invalid(
                "survivors",
                format!(
                    "{name} has {} count(s); give the customers at the start and after at \
                     least one period",
                    s.len()
                ),
            ));
        }
        for (t, &n) in s.iter().enumerate() {
            if !(n.is_finite() && n >= 0.0) {
                return Err(Error::invalid(
                    "survivors",
                    format!("{name}: count {n} at period {t} is not a finite count >= 0"),
                ));
            }
            if n.fract() != 0.0 {
                return Err(Error::invalid(
                    "survivors",
                    format!(
                        "{name}: count {n} at period {t} is not a whole number of customers; the \
                         intervals count customers, so give counts (round weighted counts \
                         deliberately, or fit the unweighted counts)"
                    ),
                ));
            }
            if t > 0 && n > s[t - 1] {
                return Err(Error::invalid(
                    "survivors",
                    format!(
                        "{name}: survivors increase from {} at period {} to {n} at period {t}; \
                         survivors of one cohort can only fall (give each cohort's own counts, \
                         not active customers of every cohort)",
                        s[t - 1],
                        t - 1
                    ),
                ));
            }
        }
        if s[0] == 0.0 {
            return Err(Error::invalid(
                "survivors",
                format!("{name} starts with no customers"),
            ));
        }
    }
    Ok(())
}

/// Log-likelihood, gradient and Hessian in (α, β).
fn likelihood(cohorts: &[&[f64]], a: f64, b: f64) -> (f64, [f64; 2], [f64; 4]) {
    let (mut ll, mut g, mut h) = (0.0, [0.0; 2], [0.0; 4]);
    for s in cohorts {
        // ln S(t−1) and its derivatives, built up period by period.
        let (mut ls, mut sa, mut sb, mut saa, mut sab, mut sbb) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for t in 1..s.len() {
            let j = (t - 1) as f64;
            let churned = s[t - 1] - s[t];
            let d = a + b + j;
            if churned > 0.0 {
                // ln P(t) = ln S(t−1) + ln α − ln(α + β + t − 1).
                ll += churned * (ls + a.ln() - d.ln());
                g[0] += churned * (sa + 1.0 / a - 1.0 / d);
                g[1] += churned * (sb - 1.0 / d);
                h[0] += churned * (saa - 1.0 / (a * a) + 1.0 / (d * d));
                h[1] += churned * (sab + 1.0 / (d * d));
                h[3] += churned * (sbb + 1.0 / (d * d));
            }
            // ln S(t) = ln S(t−1) + ln(β + t − 1) − ln(α + β + t − 1).
            let e = b + j;
            ls += e.ln() - d.ln();
            sa -= 1.0 / d;
            sb += 1.0 / e - 1.0 / d;
            saa += 1.0 / (d * d);
            sab += 1.0 / (d * d);
            sbb += -1.0 / (e * e) + 1.0 / (d * d);
        }
        let alive = s[s.len() - 1];
        if alive > 0.0 {
            ll += alive * ls;
            g[0] += alive * sa;
            g[1] += alive * sb;
            h[0] += alive * saa;
            h[1] += alive * sab;
            h[3] += alive * sbb;
        }
    }
    h[2] = h[1];
    (ll, g, h)
}

/// Eigenvalues of a symmetric 2×2 matrix, ascending.
fn eigen2(m: [f64; 4]) -> (f64, f64) {
    let (p, q, r) = (m[0], m[1], m[3]);
    let mean = (p + r) / 2.0;
    let rad = (((p - r) / 2.0).powi(2) + q * q).sqrt();
    (mean - rad, mean + rad)
}

/// Fit the sBG model to one or more cohorts (each: survivors n₀, n₁, …, n_T, whole counts).
///
/// # Errors
/// [`Error::InvalidArgument`] for no cohort, a cohort of fewer than two counts, a negative,
/// non-finite or fractional count, a first count of zero, survivors that increase (naming the
/// cohort and the period), or a bad confidence level. A fit that does not converge, or whose
/// maximum is at the edge of the parameter space, is returned with `converged == false` (and
/// [`SbgFit::boundary`]) and its diagnostics, not as an error.
pub fn sbg_fit(cohorts: &[&[f64]], options: &SbgOptions) -> Result<SbgFit> {
    check_cohorts(cohorts)?;
    let z = z_two_sided(options.confidence_level)?;
    // Newton on θ = (ln α, ln β), from α = β = 1.
    let mut theta = [0.0f64, 0.0f64];
    let eval = |th: [f64; 2]| {
        let (a, b) = (th[0].exp(), th[1].exp());
        let (ll, g, h) = likelihood(cohorts, a, b);
        // Chain rule to θ: g_θ = g·p, H_θ = diag(p) H diag(p) + diag(g·p).
        let gt = [g[0] * a, g[1] * b];
        let ht = [
            h[0] * a * a + gt[0],
            h[1] * a * b,
            h[1] * a * b,
            h[3] * b * b + gt[1],
        ];
        (ll, gt, ht, g, h)
    };
    let (mut ll, mut gt, mut ht, mut g, mut h) = eval(theta);
    let mut iterations = 0;
    let mut converged = false;
    let mut message = String::new();
    while iterations < options.max_iterations {
        if gt[0].abs().max(gt[1].abs()) <= options.tolerance * (1.0 + ll.abs()) {
            converged = true;
            break;
        }
        iterations += 1;
        // Newton direction where −H_θ is positive definite, else the gradient.
        let det = ht[0] * ht[3] - ht[1] * ht[2];
        let mut step = if ht[0] < 0.0 && det > 0.0 {
            [
                -(ht[3] * gt[0] - ht[1] * gt[1]) / det,
                -(-ht[2] * gt[0] + ht[0] * gt[1]) / det,
            ]
        } else {
            let scale = 1.0 / (1.0 + gt[0].abs().max(gt[1].abs()));
            [gt[0] * scale, gt[1] * scale]
        };
        // Keep each step within a factor e^3 of the current parameters.
        let largest = step[0].abs().max(step[1].abs());
        if largest > 3.0 {
            step = [step[0] * 3.0 / largest, step[1] * 3.0 / largest];
        }
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..60 {
            let cand = [theta[0] + t * step[0], theta[1] + t * step[1]];
            let next = eval(cand);
            if next.0.is_finite() && next.0 >= ll - 1e-12 * ll.abs() {
                theta = cand;
                (ll, gt, ht, g, h) = next;
                accepted = true;
                break;
            }
            t /= 2.0;
        }
        if !accepted {
            message = String::from("the line search found no better point");
            break;
        }
        if theta[0].abs() > 50.0 || theta[1].abs() > 50.0 {
            message = String::from(
                "the estimates diverge (α or β beyond e^±50): the data do not identify the \
                 model, e.g. no customer ever churned",
            );
            break;
        }
    }
    if !converged && message.is_empty() {
        if gt[0].abs().max(gt[1].abs()) <= options.tolerance * (1.0 + ll.abs()) {
            converged = true;
        } else {
            message = format!(
                "no convergence in {} iterations (the gradient is still {:.3e})",
                options.max_iterations,
                gt[0].hypot(gt[1])
            );
        }
    }
    let (alpha, beta) = (theta[0].exp(), theta[1].exp());
    // Observed information in (ln α, ln β): diag(p) (−H) diag(p), p = (α, β) (the gradient term
    // of the chain rule vanishes at a maximum). Its conditioning says whether the maximum is
    // interior: at the edge it flattens in some direction.
    let info_log = [
        -h[0] * alpha * alpha,
        -h[1] * alpha * beta,
        -h[2] * alpha * beta,
        -h[3] * beta * beta,
    ];
    let (lo_log, hi_log) = eigen2(info_log);
    let interior = lo_log > 0.0 && hi_log / lo_log <= options.max_condition && lo_log.is_finite();
    // A likelihood that stalls or diverges at the edge is a boundary too.
    let diverged = theta[0].abs() > 50.0 || theta[1].abs() > 50.0;
    let boundary = (converged || diverged) && !interior;
    if boundary {
        converged = false;
        let edge = if alpha / beta > 1e6 {
            "β/α → 0: everyone churns in the first period"
        } else if beta / alpha > 1e6 {
            "α/β → 0: almost nobody churns"
        } else {
            "α, β → ∞ with β/α fixed: one churn probability for everyone fits as well as any mix"
        };
        message =
            format!(
            "no interior maximum after {iterations} iterations: the likelihood is highest at the \
             edge of the parameter space ({edge}); α and β are not identified separately \
             (condition number of the information in (ln α, ln β) {:.3e}), so no intervals or \
             standard errors are given; the fitted curve is the limit, use more periods or \
             cohorts to separate them",
            if lo_log > 0.0 { hi_log / lo_log } else { f64::INFINITY }
        );
    } else if converged {
        message = format!("converged in {iterations} iterations");
    }
    // Observed information in (α, β) and its inverse.
    let info = [-h[0], -h[1], -h[2], -h[3]];
    let (lo, hi) = eigen2(info);
    let condition_number = if lo > 0.0 { hi / lo } else { f64::INFINITY };
    let det = info[0] * info[3] - info[1] * info[2];
    let covariance = if det > 0.0 && info[0] > 0.0 && !boundary {
        [info[3] / det, -info[1] / det, -info[2] / det, info[0] / det]
    } else {
        [f64::NAN; 4]
    };
    let (se_a, se_b) = (covariance[0].sqrt(), covariance[3].sqrt());
    let log_ci = |x: f64, se: f64| {
        let half = z * se / x;
        Interval::new(x * (-half).exp(), x * half.exp(), options.confidence_level)
    };
    Ok(SbgFit {
        alpha,
        beta,
        alpha_ci: log_ci(alpha, se_a),
        beta_ci: log_ci(beta, se_b),
        alpha_std_error: se_a,
        beta_std_error: se_b,
        covariance,
        log_likelihood: ll,
        converged,
        boundary,
        iterations,
        gradient_norm: g[0].hypot(g[1]),
        condition_number,
        message,
        cohorts: cohorts
            .iter()
            .map(|s| SbgCohort {
                survivors: s.to_vec(),
            })
            .collect(),
        n_customers: cohorts.iter().map(|s| s[0]).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGULAR: [f64; 8] = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
    const HIGH_END: [f64; 8] = [1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0];

    #[test]
    fn gradient_and_hessian_match_finite_differences() {
        let c: [&[f64]; 2] = [&REGULAR, &HIGH_END[..5]];
        let (a, b) = (0.9, 1.7);
        let (_, g, h) = likelihood(&c, a, b);
        let e = 1e-6;
        let f = |a: f64, b: f64| likelihood(&c, a, b);
        let ga = (f(a + e, b).0 - f(a - e, b).0) / (2.0 * e);
        let gb = (f(a, b + e).0 - f(a, b - e).0) / (2.0 * e);
        assert!((ga - g[0]).abs() < 1e-5 * g[0].abs().max(1.0));
        assert!((gb - g[1]).abs() < 1e-5 * g[1].abs().max(1.0));
        let haa = (f(a + e, b).1[0] - f(a - e, b).1[0]) / (2.0 * e);
        let hab = (f(a, b + e).1[0] - f(a, b - e).1[0]) / (2.0 * e);
        let hbb = (f(a, b + e).1[1] - f(a, b - e).1[1]) / (2.0 * e);
        assert!((haa - h[0]).abs() < 1e-5 * h[0].abs());
        assert!((hab - h[1]).abs() < 1e-5 * h[1].abs());
        assert!((hbb - h[3]).abs() < 1e-5 * h[3].abs());
    }

    #[test]
    fn high_end_segment_of_the_paper() {
        // Fader & Hardie (2007): α = 0.668, β = 3.806, LL = −1611.16 (recomputed with scipy).
        let fit = sbg_fit(&[&HIGH_END], &SbgOptions::default()).unwrap();
        assert!(fit.converged, "{}", fit.message);
        assert!((fit.alpha - 0.6681).abs() < 1e-4 && (fit.beta - 3.8061).abs() < 1e-4);
        assert!((fit.log_likelihood + 1611.16).abs() < 1e-2);
        assert!(fit.alpha_ci.contains(fit.alpha) && fit.condition_number.is_finite());
    }

    #[test]
    fn bad_survivors_are_named() {
        let e = sbg_fit(&[&[100.0, 80.0, 90.0]], &SbgOptions::default()).unwrap_err();
        assert!(e
            .to_string()
            .contains("increase from 80 at period 1 to 90 at period 2"));
        assert!(sbg_fit(&[&[100.0]], &SbgOptions::default()).is_err());
        assert!(sbg_fit(&[&[0.0, 0.0]], &SbgOptions::default()).is_err());
        assert!(sbg_fit(&[], &SbgOptions::default()).is_err());
    }

    #[test]
    fn a_maximum_at_the_edge_is_reported_not_converged() {
        // Everyone churns in period 1: ℓ = 100 ln(α/(α+β)) < 0 = its supremum as β/α → 0.
        let fit = sbg_fit(&[&[100.0, 0.0]], &SbgOptions::default()).unwrap();
        assert!(!fit.converged && fit.boundary, "{}", fit.message);
        assert!(
            fit.message.contains("no interior maximum"),
            "{}",
            fit.message
        );
        assert!(fit.log_likelihood > -1e-6 && fit.log_likelihood <= 0.0);
        assert!(fit.alpha_ci.low.is_nan() && fit.alpha_std_error.is_nan());
        // 99 churn in period 1 and 1 in period 2: the supremum is the geometric model
        // (α, β → ∞, θ = 100/101): 100 ln(100/101) + ln(1/101).
        let fit = sbg_fit(&[&[100.0, 1.0, 0.0]], &SbgOptions::default()).unwrap();
        let sup = 100.0 * (100.0f64 / 101.0).ln() + (1.0f64 / 101.0).ln();
        assert!(!fit.converged && fit.boundary, "{}", fit.message);
        assert!((fit.log_likelihood - sup).abs() < 1e-6 && fit.log_likelihood <= sup + 1e-12);
        assert!(
            (fit.beta / fit.alpha - 0.01).abs() < 1e-4,
            "{} {}",
            fit.alpha,
            fit.beta
        );
        assert!(fit.beta_ci.high.is_nan());
        // The paper's data stay interior.
        for data in [&REGULAR, &HIGH_END] {
            let fit = sbg_fit(&[data], &SbgOptions::default()).unwrap();
            assert!(fit.converged && !fit.boundary, "{}", fit.message);
        }
    }

    #[test]
    fn fractional_counts_are_refused_by_position() {
        let e = sbg_fit(&[&[100.5, 60.0, 40.0]], &SbgOptions::default()).unwrap_err();
        assert!(e.to_string().contains("count 100.5 at period 0"), "{e}");
        let e = sbg_fit(&[&REGULAR, &[10.0, 9.0, 8.25]], &SbgOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("cohort 1: count 8.25 at period 2"),
            "{e}"
        );
    }

    #[test]
    fn nobody_churning_is_reported_not_thrown() {
        let fit = sbg_fit(&[&[100.0, 100.0, 100.0]], &SbgOptions::default()).unwrap();
        assert!(!fit.converged);
        assert!(!fit.message.is_empty());
    }
}
