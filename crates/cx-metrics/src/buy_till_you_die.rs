//! "Buy till you die" models of non-contractual customers, fitted by maximum likelihood: the BG/NBD
//! model of purchase counts (Fader, Hardie & Lee 2005, "Counting your customers the easy way") and
//! the Gamma–Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo &
//! Jiang 1999).
//!
//! **BG/NBD.** While alive, a customer buys as a Poisson process of rate λ ~ Gamma(r, α); after
//! each purchase the customer dies with probability p ~ Beta(a, b). A customer observed for `T`
//! time units since the first purchase, with `x` repeat purchases, the last at `t_x`, has
//!
//! ```text
//! L = B(a, b + x)/B(a, b) · Γ(r + x) αʳ / (Γ(r) (α + T)^(r+x))
//!   + [x > 0] B(a + 1, b + x − 1)/B(a, b) · Γ(r + x) αʳ / (Γ(r) (α + t_x)^(r+x))
//! ```
//!
//! Frequencies are whole numbers, so Γ(r + x)/Γ(r) = Π_{j<x} (r + j) and
//! B(a, b + x)/B(a, b) = Π_{j<x} (b + j)/(a + b + j): the log-likelihood, its gradient and its
//! Hessian are exact sums of logarithms and reciprocals (no special function, nothing overflows),
//! and the two terms are added in log space (log-sum-exp). The sums over `j` are shared by every
//! customer with more than `j` purchases, so one evaluation costs O(customers + largest frequency).
//!
//! **Gamma–Gamma.** The spend of each purchase is Gamma(p, ν) with ν ~ Gamma(q, γ) across
//! customers, independent of the purchase process; the mean spend `m` of a customer's `x` repeat
//! purchases then has the likelihood
//! `Γ(px + q)/(Γ(px) Γ(q)) · γ^q m^(px−1) x^(px) / (γ + m x)^(px+q)` (ln Γ of non-integers from
//! `statrs`, digamma from `statrs`, trigamma below).
//!
//! Both fits maximise over the logarithms of the parameters (so every parameter stays > 0) by
//! Newton's method with a Levenberg shift (the step solves (−H + μI) d = g, μ raised until the
//! likelihood rises), using the analytic gradient and Hessian. A fit never fails for a numerical
//! reason: whether it converged, the gradient norm, the iterations, the condition number of the
//! observed information and the standard errors from it are returned as data.
//!
//! ```
//! use cx_metrics::buy_till_you_die::{bgnbd_fit, BtydOptions, Rfm};
//! let rfm = Rfm { frequency: &[2.0, 1.0, 0.0, 0.0, 5.0, 3.0], recency: &[30.4, 1.7, 0.0, 0.0, 35.1, 12.0],
//!                 t: &[38.9, 38.9, 38.9, 38.9, 38.0, 37.5] };
//! let fit = bgnbd_fit(&rfm, &BtydOptions::default()).unwrap();
//! assert!(fit.diagnostics.log_likelihood.is_finite());
//! let p = fit.p_alive(0.0, 0.0, 38.9);
//! assert_eq!(p, 1.0);
//! ```

// Gradients and Hessians of three or four parameters are indexed alike across several arrays.
#![allow(clippy::needless_range_loop)]

use serde::{Deserialize, Serialize};
use statrs::function::gamma::{digamma, ln_gamma};

use crate::cohorts::PeriodUnit;
use crate::error::{Error, Result};

/// Options of the fits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BtydOptions {
    /// Largest number of Newton iterations.
    pub max_iterations: u32,
    /// Convergence: the largest |∂ℓ/∂ ln θ| relative to 1 + |ℓ|.
    pub tolerance: f64,
}

impl Default for BtydOptions {
    fn default() -> Self {
        Self {
            max_iterations: 200,
            tolerance: 1e-10,
        }
    }
}

/// Per-customer recency / frequency / age, in one time unit.
#[derive(Debug, Clone, Copy)]
pub struct Rfm<'a> {
    /// Repeat purchases `x` (whole numbers ≥ 0).
    pub frequency: &'a [f64],
    /// Time from the first to the last purchase, `t_x` (0 when `x` = 0).
    pub recency: &'a [f64],
    /// Time from the first purchase to the end of the calibration period, `T` ≥ `t_x`.
    pub t: &'a [f64],
}

/// Check one customer's (x, t_x, T); `row` names the position in the error.
fn check_customer(row: usize, x: f64, tx: f64, t: f64) -> Result<()> {
    check_history(row, x, tx, t)?;
    if t == 0.0 {
        return Err(Error::invalid(
            "T",
            format!("row {row}: T 0; a customer observed for no time adds nothing to the fit"),
        ));
    }
    Ok(())
}

/// Check one customer's history for a prediction (T = 0 allowed: a customer just acquired).
fn check_history(row: usize, x: f64, tx: f64, t: f64) -> Result<()> {
    let bad =
        |name: &'static str, what: String| Err(Error::invalid(name, format!("row {row}: {what}")));
    if !x.is_finite() {
        return bad(
            "frequency",
            format!("{x} is not a finite number of repeat purchases"),
        );
    }
    if x < 0.0 || x.fract() != 0.0 {
        return bad(
            "frequency",
            format!("{x}; the frequency counts repeat purchases: a whole number >= 0"),
        );
    }
    if !tx.is_finite() || tx < 0.0 {
        return bad("recency", format!("{tx} is not a finite time >= 0"));
    }
    if !t.is_finite() || t < 0.0 {
        return bad(
            "T",
            format!(
                "{t} is not a finite time >= 0 (the age of the customer at the end of calibration)"
            ),
        );
    }
    if tx > t {
        return bad(
            "recency",
            format!(
                "recency {tx} exceeds T {t}; the last purchase cannot come after the end of the \
                 calibration period (give both in the same unit, measured from the first purchase)"
            ),
        );
    }
    if x == 0.0 && tx != 0.0 {
        return bad(
            "recency",
            format!(
                "frequency 0 with recency {tx}; a customer without repeat purchases has recency 0 \
                 (recency is the time from the first to the last purchase)"
            ),
        );
    }
    Ok(())
}

fn check_lengths(rfm: &Rfm<'_>) -> Result<()> {
    let n = rfm.frequency.len();
    for (what, len) in [
        ("frequency and recency", rfm.recency.len()),
        ("frequency and T", rfm.t.len()),
    ] {
        if len != n {
            return Err(Error::LengthMismatch {
                what,
                left: n,
                right: len,
            });
        }
    }
    Ok(())
}

fn check_rfm(rfm: &Rfm<'_>) -> Result<()> {
    let n = rfm.frequency.len();
    if rfm.recency.len() != n {
        return Err(Error::LengthMismatch {
            what: "frequency and recency",
            left: n,
            right: rfm.recency.len(),
        });
    }
    if rfm.t.len() != n {
        return Err(Error::LengthMismatch {
            what: "frequency and T",
            left: n,
            right: rfm.t.len(),
        });
    }
    if n == 0 {
        return Err(Error::invalid("frequency", "no customer given"));
    }
    for i in 0..n {
        check_customer(i, rfm.frequency[i], rfm.recency[i], rfm.t[i])?;
    }
    if rfm.frequency.iter().all(|&x| x == 0.0) {
        return Err(Error::invalid(
            "frequency",
            "no customer made a repeat purchase; the BG/NBD model cannot be fitted",
        ));
    }
    Ok(())
}

/// Convergence diagnostics of a fit, as data.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitDiagnostics {
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
    /// Whether the convergence test passed.
    pub converged: bool,
    /// Newton iterations taken.
    pub iterations: u32,
    /// Euclidean norm of the gradient of ℓ in the natural parameters at the estimate.
    pub gradient_norm: f64,
    /// Condition number of the observed information at the estimate (∞ when not positive definite).
    #[serde(with = "crate::serde_nan")]
    pub condition_number: f64,
    /// Covariance of the parameters (the inverse observed information), row-major (NaN when the
    /// information is not positive definite).
    #[serde(with = "crate::serde_nan::vec")]
    pub covariance: Vec<f64>,
    /// What happened, in words.
    pub message: String,
}

/// A fitted BG/NBD model (parameters and diagnostics only: no training data).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BgNbdFit {
    /// Shape of the Gamma distribution of purchase rates.
    pub r: f64,
    /// Rate (scale of time) of the Gamma distribution of purchase rates, in `time_unit`s.
    pub alpha: f64,
    /// First parameter of the Beta distribution of dropout probabilities.
    pub a: f64,
    /// Second parameter of the Beta distribution of dropout probabilities.
    pub b: f64,
    /// Standard errors of r, α, a, b (observed information; NaN when not positive definite).
    #[serde(with = "crate::serde_nan::vec")]
    pub std_errors: Vec<f64>,
    /// The unit of recency, T and every time argument.
    pub time_unit: PeriodUnit,
    /// Customers fitted.
    pub n_customers: u64,
    /// Of them, customers with at least one repeat purchase.
    pub n_repeat: u64,
    /// Convergence diagnostics.
    pub diagnostics: FitDiagnostics,
}

/// Gauss's hypergeometric function ₂F₁(a, b; c; z) for a, b, c > 0 and 0 ≤ z < 1, by its series
/// (every term positive, so the sum has no cancellation).
///
/// # Errors
/// [`Error::InvalidArgument`] when z is outside [0, 1) or the series needs more than 10⁷ terms
/// (z within about 10⁻⁶ of 1).
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64> {
    if !(0.0..1.0).contains(&z) {
        return Err(Error::invalid(
            "t",
            format!("2F1 argument {z} outside [0, 1)"),
        ));
    }
    let (mut term, mut sum) = (1.0, 1.0);
    let mut n = 0.0;
    while n < 1e7 {
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        n += 1.0;
        // Once terms shrink they shrink for good (their ratio increases to z < 1); stop when the
        // rest, bounded by a geometric tail, is below the rounding of the sum.
        let ratio = (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        if ratio < 1.0 && term * ratio / (1.0 - ratio.max(z)) <= sum * 1e-17 {
            return Ok(sum);
        }
    }
    Err(Error::invalid(
        "t",
        "the horizon is too long for the hypergeometric series (t/(alpha + T + t) within 1e-6 of \
         1); give a shorter horizon",
    ))
}

impl BgNbdFit {
    /// The parameters (r, α, a, b).
    pub fn params(&self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }

    /// E[X(t)]: expected purchases in `t` time units of a customer just acquired (FHL 2005 eq. 9).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a negative or non-finite `t`, or `a` = 1 (the closed form's
    /// pole).
    pub fn expected_purchases(&self, t: f64) -> Result<f64> {
        if !(t.is_finite() && t >= 0.0) {
            return Err(Error::invalid(
                "t",
                format!("{t} is not a finite time >= 0"),
            ));
        }
        let [r, alpha, a, b] = self.params();
        if a == 1.0 {
            return Err(Error::invalid(
                "a",
                "a = 1 is a pole of the closed form of E[X(t)]",
            ));
        }
        let f = hyp2f1(r, b, a + b - 1.0, t / (alpha + t))?;
        Ok((a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)).powf(r) * f))
    }

    /// P(alive | x, t_x, T) (FHL 2005, "Computing P(alive)").
    pub fn p_alive(&self, x: f64, tx: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let [r, alpha, a, b] = self.params();
        let ln_odds = (a / (b + x - 1.0)).ln() + (r + x) * ((alpha + t) / (alpha + tx)).ln();
        1.0 / (1.0 + ln_odds.exp())
    }

    /// E[Y(t) | x, t_x, T]: expected purchases in the next `t` time units of a customer with this
    /// history (FHL 2005 eq. 10).
    ///
    /// # Errors
    /// As [`expected_purchases`](Self::expected_purchases).
    pub fn conditional_expected_purchases(
        &self,
        t: f64,
        x: f64,
        tx: f64,
        big_t: f64,
    ) -> Result<f64> {
        if !(t.is_finite() && t >= 0.0) {
            return Err(Error::invalid(
                "t",
                format!("{t} is not a finite time >= 0"),
            ));
        }
        let [r, alpha, a, b] = self.params();
        if a == 1.0 {
            return Err(Error::invalid(
                "a",
                "a = 1 is a pole of the closed form of E[Y(t)]",
            ));
        }
        let f = hyp2f1(r + x, b + x, a + b + x - 1.0, t / (alpha + big_t + t))?;
        let head = (a + b + x - 1.0) / (a - 1.0)
            * (1.0 - ((alpha + big_t) / (alpha + big_t + t)).powf(r + x) * f);
        Ok(head * self.p_alive(x, tx, big_t))
    }

    /// P(alive) of every customer of `rfm`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the row of a bad history; [`Error::LengthMismatch`].
    pub fn p_alive_of(&self, rfm: &Rfm<'_>) -> Result<Vec<f64>> {
        check_lengths(rfm)?;
        (0..rfm.frequency.len())
            .map(|i| {
                let (x, tx, t) = (rfm.frequency[i], rfm.recency[i], rfm.t[i]);
                check_history(i, x, tx, t)?;
                Ok(self.p_alive(x, tx, t))
            })
            .collect()
    }

    /// E[Y(t) | history] of every customer of `rfm`.
    ///
    /// # Errors
    /// As [`p_alive_of`](Self::p_alive_of) and
    /// [`conditional_expected_purchases`](Self::conditional_expected_purchases).
    pub fn conditional_expected_purchases_of(&self, t: f64, rfm: &Rfm<'_>) -> Result<Vec<f64>> {
        check_lengths(rfm)?;
        (0..rfm.frequency.len())
            .map(|i| {
                let (x, tx, tt) = (rfm.frequency[i], rfm.recency[i], rfm.t[i]);
                check_history(i, x, tx, tt)?;
                self.conditional_expected_purchases(t, x, tx, tt)
            })
            .collect()
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        format!(
            "BG/NBD r {:.4}, alpha {:.4} ({}s), a {:.4}, b {:.4}; log-likelihood {:.4}; {} \
             customers ({} repeat); {}",
            self.r,
            self.alpha,
            self.time_unit.id(),
            self.a,
            self.b,
            self.diagnostics.log_likelihood,
            self.n_customers,
            self.n_repeat,
            if self.diagnostics.converged {
                String::from("converged")
            } else {
                format!("NOT CONVERGED: {}", self.diagnostics.message)
            }
        )
    }
}

/// The BG/NBD data grouped for the likelihood.
struct BgNbdData {
    /// m_j: customers with more than j repeat purchases, j = 0..max x.
    more_than: Vec<f64>,
    /// Customers.
    n: f64,
    /// (x, t_x, T) of every customer.
    rows: Vec<(f64, f64, f64)>,
}

impl BgNbdData {
    fn new(rfm: &Rfm<'_>) -> Self {
        let max_x = rfm.frequency.iter().fold(0.0f64, |m, &x| m.max(x)) as usize;
        let mut count = vec![0.0; max_x + 1];
        for &x in rfm.frequency {
            count[x as usize] += 1.0;
        }
        let mut more_than = vec![0.0; max_x];
        let mut acc = 0.0;
        for j in (0..max_x).rev() {
            acc += count[j + 1];
            more_than[j] = acc;
        }
        let rows = (0..rfm.frequency.len())
            .map(|i| (rfm.frequency[i], rfm.recency[i], rfm.t[i]))
            .collect();
        Self {
            more_than,
            n: rfm.frequency.len() as f64,
            rows,
        }
    }

    /// ℓ, ∇ℓ and ∇²ℓ in (r, α, a, b).
    fn eval(&self, p: &[f64; 4]) -> (f64, [f64; 4], [[f64; 4]; 4]) {
        let [r, al, a, b] = *p;
        let mut ll = self.n * r * al.ln();
        let mut g = [self.n * al.ln(), self.n * r / al, 0.0, 0.0];
        let mut h = [[0.0; 4]; 4];
        h[0][1] = self.n / al;
        h[1][1] = -self.n * r / (al * al);
        for (j, &m) in self.more_than.iter().enumerate() {
            let j = j as f64;
            let (rj, bj, abj) = (r + j, b + j, a + b + j);
            ll += m * (rj.ln() + bj.ln() - abj.ln());
            g[0] += m / rj;
            g[2] -= m / abj;
            g[3] += m * (1.0 / bj - 1.0 / abj);
            h[0][0] -= m / (rj * rj);
            h[2][2] += m / (abj * abj);
            h[2][3] += m / (abj * abj);
            h[3][3] += m * (1.0 / (abj * abj) - 1.0 / (bj * bj));
        }
        for &(x, tx, t) in &self.rows {
            let rx = r + x;
            let (lt, at) = ((al + t).ln(), al + t);
            let a3 = -rx * lt;
            let g3 = [-lt, -rx / at, 0.0, 0.0];
            let (h3_ra, h3_aa) = (-1.0 / at, rx / (at * at));
            if x == 0.0 {
                ll += a3;
                for k in 0..2 {
                    g[k] += g3[k];
                }
                h[0][1] += h3_ra;
                h[1][1] += h3_aa;
                continue;
            }
            let (ltx, atx, bx) = ((al + tx).ln(), al + tx, b + x - 1.0);
            let a4 = a.ln() - bx.ln() - rx * ltx;
            let g4 = [-ltx, -rx / atx, 1.0 / a, -1.0 / bx];
            // log-sum-exp and the mixture weights of the two terms.
            let (hi, lo) = if a3 > a4 { (a3, a4) } else { (a4, a3) };
            ll += hi + (lo - hi).exp().ln_1p();
            let w4 = 1.0 / (1.0 + (a3 - a4).exp());
            let w3 = 1.0 - w4;
            let mut d = [0.0; 4];
            for k in 0..4 {
                g[k] += w3 * g3[k] + w4 * g4[k];
                d[k] = g3[k] - g4[k];
            }
            h[0][1] += w3 * h3_ra + w4 * (-1.0 / atx);
            h[1][1] += w3 * h3_aa + w4 * rx / (atx * atx);
            h[2][2] += w4 * (-1.0 / (a * a));
            h[3][3] += w4 / (bx * bx);
            let w34 = w3 * w4;
            for k in 0..4 {
                for l in k..4 {
                    h[k][l] += w34 * d[k] * d[l];
                }
            }
        }
        for k in 0..4 {
            for l in 0..k {
                h[k][l] = h[l][k];
            }
        }
        (ll, g, h)
    }
}

/// Fit the BG/NBD model by maximum likelihood (times in `time_unit`s: use
/// [`bgnbd_fit_in`] to record another unit than weeks).
///
/// # Errors
/// [`Error::InvalidArgument`] naming the row of a negative, fractional or non-finite frequency, a
/// recency above T, a recency > 0 with frequency 0, or a non-finite or non-positive T;
/// [`Error::LengthMismatch`]; [`Error::InvalidArgument`] when no customer repeated.
pub fn bgnbd_fit(rfm: &Rfm<'_>, options: &BtydOptions) -> Result<BgNbdFit> {
    bgnbd_fit_in(rfm, PeriodUnit::Week, options)
}

/// [`bgnbd_fit`] with the time unit of recency and T recorded in the fit.
///
/// # Errors
/// As [`bgnbd_fit`].
pub fn bgnbd_fit_in(
    rfm: &Rfm<'_>,
    time_unit: PeriodUnit,
    options: &BtydOptions,
) -> Result<BgNbdFit> {
    check_rfm(rfm)?;
    check_options(options)?;
    let data = BgNbdData::new(rfm);
    // Start at the data's scale: α from the mean age, the rest at 1.
    let mean_t = rfm.t.iter().sum::<f64>() / data.n;
    let start = [1.0, mean_t.max(1e-3), 1.0, 1.0];
    let (p, diagnostics, se) = maximize(|p| data.eval(p), start, options);
    Ok(BgNbdFit {
        r: p[0],
        alpha: p[1],
        a: p[2],
        b: p[3],
        std_errors: se.to_vec(),
        time_unit,
        n_customers: rfm.frequency.len() as u64,
        n_repeat: rfm.frequency.iter().filter(|&&x| x > 0.0).count() as u64,
        diagnostics,
    })
}

fn check_options(o: &BtydOptions) -> Result<()> {
    if !(o.tolerance.is_finite() && o.tolerance > 0.0) {
        return Err(Error::invalid(
            "tolerance",
            format!("{}; give a tolerance > 0", o.tolerance),
        ));
    }
    if o.max_iterations == 0 {
        return Err(Error::invalid("max_iterations", "0; give at least 1"));
    }
    Ok(())
}

/// A fitted Gamma–Gamma spend model (parameters and diagnostics only).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaFit {
    /// Shape of the Gamma distribution of each purchase's spend.
    pub p: f64,
    /// Shape of the Gamma distribution of the spend rate ν across customers.
    pub q: f64,
    /// Rate of the Gamma distribution of ν.
    pub gamma: f64,
    /// Standard errors of p, q, γ (observed information; NaN when not positive definite).
    #[serde(with = "crate::serde_nan::vec")]
    pub std_errors: Vec<f64>,
    /// Customers fitted (those with at least one repeat purchase).
    pub n_customers: u64,
    /// Customers left out for having no repeat purchase (their mean repeat spend is undefined).
    pub n_excluded: u64,
    /// Pearson correlation of frequency and mean spend among the customers fitted: the model
    /// assumes them independent, so it should be near 0.
    #[serde(with = "crate::serde_nan")]
    pub frequency_spend_correlation: f64,
    /// Convergence diagnostics.
    pub diagnostics: FitDiagnostics,
}

impl GammaGammaFit {
    /// E[M | x, m̄]: expected spend per purchase of a customer with `x` repeat purchases of mean
    /// spend `mean_spend` (the population mean p γ / (q − 1) when `x` = 0).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when q ≤ 1 (the mean spend of the population is infinite).
    pub fn expected_spend(&self, x: f64, mean_spend: f64) -> Result<f64> {
        if self.q <= 1.0 {
            return Err(Error::invalid(
                "q",
                format!("{}; with q <= 1 the expected spend is infinite", self.q),
            ));
        }
        let (p, q, g) = (self.p, self.q, self.gamma);
        if x == 0.0 {
            return Ok(p * g / (q - 1.0));
        }
        Ok(p * (g + x * mean_spend) / (p * x + q - 1.0))
    }

    /// E[M | x, m̄] of every customer.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the row of a bad frequency or of a spend that is not
    /// finite and > 0 with frequency > 0; [`Error::LengthMismatch`]; q ≤ 1 as in
    /// [`expected_spend`](Self::expected_spend).
    pub fn expected_spend_of(&self, frequency: &[f64], mean_spend: &[f64]) -> Result<Vec<f64>> {
        check_spend_rows(frequency, mean_spend)?;
        frequency
            .iter()
            .zip(mean_spend)
            .map(|(&x, &m)| self.expected_spend(x, m))
            .collect()
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        format!(
            "Gamma-Gamma p {:.4}, q {:.4}, gamma {:.4}; log-likelihood {:.4}; {} customers ({} \
             without repeat purchases left out); corr(frequency, mean spend) {:.3}; {}",
            self.p,
            self.q,
            self.gamma,
            self.diagnostics.log_likelihood,
            self.n_customers,
            self.n_excluded,
            self.frequency_spend_correlation,
            if self.diagnostics.converged {
                String::from("converged")
            } else {
                format!("NOT CONVERGED: {}", self.diagnostics.message)
            }
        )
    }
}

/// Trigamma ψ₁(x) for x > 0: recurrence up to x ≥ 10, then the asymptotic series (relative error
/// below 1e-15 there).
pub fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    // 1/x + 1/(2x²) + Σ B_{2k} / x^{2k+1}
    let series = 1.0 / 6.0
        + z * (-1.0 / 30.0
            + z * (1.0 / 42.0 + z * (-1.0 / 30.0 + z * (5.0 / 66.0 + z * (-691.0 / 2730.0)))));
    acc + 1.0 / x + z / 2.0 + series * z / x
}

/// Check frequencies and mean spends row by row.
fn check_spend_rows(frequency: &[f64], mean_spend: &[f64]) -> Result<()> {
    if frequency.len() != mean_spend.len() {
        return Err(Error::LengthMismatch {
            what: "frequency and monetary",
            left: frequency.len(),
            right: mean_spend.len(),
        });
    }
    for (i, (&x, &m)) in frequency.iter().zip(mean_spend).enumerate() {
        if !x.is_finite() || x < 0.0 || x.fract() != 0.0 {
            return Err(Error::invalid(
                "frequency",
                format!("row {i}: {x}; the frequency counts repeat purchases: a whole number >= 0"),
            ));
        }
        if x > 0.0 && !(m.is_finite() && m > 0.0) {
            return Err(Error::invalid(
                "monetary",
                format!(
                    "row {i}: mean spend {m} with {x} repeat purchase(s); the Gamma-Gamma model \
                     needs a finite spend > 0 (remove returns or zero-value orders first)"
                ),
            ));
        }
    }
    Ok(())
}

/// Fit the Gamma–Gamma model to the mean repeat spend `mean_spend` of customers with `frequency`
/// repeat purchases; customers with frequency 0 are left out and counted.
///
/// # Errors
/// [`Error::InvalidArgument`] naming the row of a bad frequency, a non-finite spend, or a spend
/// ≤ 0 with frequency > 0; [`Error::LengthMismatch`]; [`Error::InvalidArgument`] with fewer than
/// two repeat customers.
pub fn gamma_gamma_fit(
    frequency: &[f64],
    mean_spend: &[f64],
    options: &BtydOptions,
) -> Result<GammaGammaFit> {
    check_options(options)?;
    check_spend_rows(frequency, mean_spend)?;
    let rows: Vec<(f64, f64)> = frequency
        .iter()
        .zip(mean_spend)
        .filter(|(&x, _)| x > 0.0)
        .map(|(&x, &m)| (x, m))
        .collect();
    if rows.len() < 2 {
        return Err(Error::invalid(
            "frequency",
            format!(
                "{} customer(s) with repeat purchases; the Gamma-Gamma model needs at least 2",
                rows.len()
            ),
        ));
    }
    let n = rows.len() as f64;
    let (mx, mm) = rows
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, m)| (a + x / n, b + m / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(x, m) in &rows {
        sxy += (x - mx) * (m - mm);
        sxx += (x - mx) * (x - mx);
        syy += (m - mm) * (m - mm);
    }
    let corr = sxy / (sxx * syy).sqrt();
    let eval = |p: &[f64; 3]| {
        let [pp, q, g] = *p;
        let (lg_q, dg_q, tg_q) = (ln_gamma(q), digamma(q), trigamma(q));
        let mut ll = 0.0;
        let mut gr = [0.0; 3];
        let mut h = [[0.0; 3]; 3];
        for &(x, m) in &rows {
            let (px, gxm) = (pp * x, g + x * m);
            let (lgm, lx, lg) = (m.ln(), x.ln(), gxm.ln());
            ll += ln_gamma(px + q) - ln_gamma(px) - lg_q + q * g.ln() + (px - 1.0) * lgm + px * lx
                - (px + q) * lg;
            let (d_pq, d_p) = (digamma(px + q), digamma(px));
            let (t_pq, t_p) = (trigamma(px + q), trigamma(px));
            gr[0] += x * (d_pq - d_p + lgm + lx - lg);
            gr[1] += d_pq - dg_q + g.ln() - lg;
            gr[2] += q / g - (px + q) / gxm;
            h[0][0] += x * x * (t_pq - t_p);
            h[0][1] += x * t_pq;
            h[0][2] -= x / gxm;
            h[1][1] += t_pq - tg_q;
            h[1][2] += 1.0 / g - 1.0 / gxm;
            h[2][2] += -q / (g * g) + (px + q) / (gxm * gxm);
        }
        for k in 0..3 {
            for l in 0..k {
                h[k][l] = h[l][k];
            }
        }
        (ll, gr, h)
    };
    let (p, diagnostics, se) = maximize(eval, [1.0, 1.0, mm.max(1e-12)], options);
    Ok(GammaGammaFit {
        p: p[0],
        q: p[1],
        gamma: p[2],
        std_errors: se.to_vec(),
        n_customers: rows.len() as u64,
        n_excluded: (frequency.len() - rows.len()) as u64,
        frequency_spend_correlation: corr,
        diagnostics,
    })
}

/// Cholesky factor of a symmetric K×K matrix (`None` unless positive definite).
fn cholesky<const K: usize>(m: &[[f64; K]; K]) -> Option<[[f64; K]; K]> {
    let mut l = [[0.0; K]; K];
    for i in 0..K {
        for j in 0..=i {
            let mut s = m[i][j];
            for k in 0..j {
                s -= l[i][k] * l[j][k];
            }
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solve L Lᵀ x = b.
fn chol_solve<const K: usize>(l: &[[f64; K]; K], b: &[f64; K]) -> [f64; K] {
    let mut y = [0.0; K];
    for i in 0..K {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i][k] * y[k];
        }
        y[i] = s / l[i][i];
    }
    let mut x = [0.0; K];
    for i in (0..K).rev() {
        let mut s = y[i];
        for k in i + 1..K {
            s -= l[k][i] * x[k];
        }
        x[i] = s / l[i][i];
    }
    x
}

/// Eigenvalues of a symmetric K×K matrix by cyclic Jacobi rotations.
fn sym_eigenvalues<const K: usize>(m: &[[f64; K]; K]) -> [f64; K] {
    let mut a = *m;
    for _ in 0..100 {
        let off: f64 = (0..K)
            .flat_map(|i| (0..K).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        let diag: f64 = (0..K).map(|i| a[i][i] * a[i][i]).sum();
        if off <= 1e-30 * diag {
            break;
        }
        for p in 0..K {
            for q in p + 1..K {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..K {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..K {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
            }
        }
    }
    let mut e = [0.0; K];
    for i in 0..K {
        e[i] = a[i][i];
    }
    e
}

/// Maximise ℓ(θ) over the logarithms of positive parameters by Newton's method with a Levenberg
/// shift; `f` gives ℓ, ∇ℓ and ∇²ℓ in the natural parameters. Returns the estimate, the
/// diagnostics and the standard errors.
fn maximize<const K: usize, F>(
    f: F,
    start: [f64; K],
    options: &BtydOptions,
) -> ([f64; K], FitDiagnostics, [f64; K])
where
    F: Fn(&[f64; K]) -> (f64, [f64; K], [[f64; K]; K]),
{
    let to_log = |(ll, g, h): (f64, [f64; K], [[f64; K]; K]), p: &[f64; K]| {
        let mut gl = [0.0; K];
        let mut hl = [[0.0; K]; K];
        for i in 0..K {
            gl[i] = p[i] * g[i];
            for j in 0..K {
                hl[i][j] = p[i] * h[i][j] * p[j];
            }
            hl[i][i] += p[i] * g[i];
        }
        (ll, gl, hl)
    };
    let mut p = start;
    let (mut ll, mut g, mut h) = to_log(f(&p), &p);
    let mut iterations = 0;
    let mut converged = false;
    let mut message = String::new();
    let mut mu = 0.0f64;
    let small = |ll: f64, g: &[f64; K]| {
        g.iter().fold(0.0f64, |m, v| m.max(v.abs())) <= options.tolerance * (1.0 + ll.abs())
    };
    if !ll.is_finite() {
        message = String::from("the log-likelihood is not finite at the starting values");
    }
    while ll.is_finite() && iterations < options.max_iterations {
        if small(ll, &g) {
            converged = true;
            break;
        }
        iterations += 1;
        let scale = (0..K).fold(0.0f64, |m, i| m.max(h[i][i].abs())).max(1e-12);
        let mut accepted = false;
        for _ in 0..60 {
            let mut neg = [[0.0; K]; K];
            for i in 0..K {
                for j in 0..K {
                    neg[i][j] = -h[i][j];
                }
                neg[i][i] += mu;
            }
            let Some(l) = cholesky(&neg) else {
                mu = if mu == 0.0 { 1e-6 * scale } else { mu * 4.0 };
                continue;
            };
            let mut d = chol_solve(&l, &g);
            // Keep a step within a factor e³ of each parameter.
            let big = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if big > 3.0 {
                d.iter_mut().for_each(|v| *v *= 3.0 / big);
            }
            let mut q = p;
            for i in 0..K {
                q[i] = p[i] * d[i].exp();
            }
            let (lq, gq, hq) = to_log(f(&q), &q);
            // A step is taken when it raises ℓ, or, at the rounding level of ℓ near the maximum,
            // when it leaves ℓ within rounding and shrinks the gradient.
            let gmax = |g: &[f64; K]| g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let better = lq > ll || (lq >= ll - 1e-12 * (1.0 + ll.abs()) && gmax(&gq) < gmax(&g));
            if lq.is_finite() && better && q.iter().all(|v| v.is_finite() && *v > 0.0) {
                (p, ll, g, h) = (q, lq, gq, hq);
                mu = if mu > 0.0 { mu / 8.0 } else { 0.0 };
                if mu < 1e-12 * scale {
                    mu = 0.0;
                }
                accepted = true;
                break;
            }
            mu = if mu == 0.0 { 1e-6 * scale } else { mu * 4.0 };
        }
        if !accepted {
            converged = small(ll, &g);
            if !converged {
                message = String::from(
                    "no step raised the likelihood before the gradient test passed (flat or \
                     ill-conditioned likelihood)",
                );
            }
            break;
        }
    }
    if !converged && message.is_empty() && iterations >= options.max_iterations {
        message = format!("no convergence in {} iterations", options.max_iterations);
    }
    if converged {
        message = format!("converged in {iterations} iterations");
    }
    // Observed information in the natural parameters.
    let (_, gn, hn) = f(&p);
    let mut info = [[0.0; K]; K];
    for i in 0..K {
        for j in 0..K {
            info[i][j] = -hn[i][j];
        }
    }
    let eig = sym_eigenvalues(&info);
    let (lo, hi) = eig.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &e| {
        (a.min(e), b.max(e.abs()))
    });
    let condition_number = if lo > 0.0 { hi / lo } else { f64::INFINITY };
    let mut cov = vec![f64::NAN; K * K];
    let mut se = [f64::NAN; K];
    if let Some(l) = cholesky(&info) {
        for j in 0..K {
            let mut e = [0.0; K];
            e[j] = 1.0;
            let col = chol_solve(&l, &e);
            for i in 0..K {
                cov[i * K + j] = col[i];
            }
        }
        for i in 0..K {
            se[i] = cov[i * K + i].sqrt();
        }
    } else if converged {
        message
            .push_str("; the observed information is not positive definite (no standard errors)");
    }
    let gradient_norm = gn.iter().map(|v| v * v).sum::<f64>().sqrt();
    (
        p,
        FitDiagnostics {
            log_likelihood: ll,
            converged,
            iterations,
            gradient_norm,
            condition_number,
            covariance: cov,
            message,
        },
        se,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_matches_known_values() {
        // ψ₁(1) = π²/6, ψ₁(1/2) = π²/2, ψ₁(x + 1) = ψ₁(x) − 1/x².
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-14);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-13);
        assert!((trigamma(13.7) - (trigamma(12.7) - 1.0 / (12.7 * 12.7))).abs() < 1e-15);
    }

    #[test]
    fn hyp2f1_closed_forms() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z; ₂F₁(a, b; b; z) = (1 − z)^−a.
        for z in [0.0f64, 0.1, 0.5, 0.9, 0.99] {
            let want = if z == 0.0 { 1.0 } else { -(-z).ln_1p() / z };
            let got = hyp2f1(1.0, 1.0, 2.0, z).unwrap();
            assert!((got - want).abs() < 1e-13 * want, "{z}: {got} vs {want}");
            let got = hyp2f1(0.7, 2.3, 2.3, z).unwrap();
            let want = (1.0 - z).powf(-0.7);
            assert!((got - want).abs() < 1e-13 * want, "{z}: {got} vs {want}");
        }
        assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_err());
    }

    #[test]
    fn analytic_gradient_and_hessian_match_differences() {
        let rfm = Rfm {
            frequency: &[2.0, 1.0, 0.0, 0.0, 5.0, 3.0, 1.0],
            recency: &[30.4, 1.7, 0.0, 0.0, 35.1, 12.0, 20.0],
            t: &[38.9, 38.9, 38.9, 30.0, 38.0, 37.5, 25.0],
        };
        let data = BgNbdData::new(&rfm);
        let p = [0.4, 3.0, 0.8, 2.1];
        let (_, g, h) = data.eval(&p);
        for k in 0..4 {
            let e = 1e-6 * p[k];
            let (mut up, mut dn) = (p, p);
            up[k] += e;
            dn[k] -= e;
            let (lu, gu, _) = data.eval(&up);
            let (ld, gd, _) = data.eval(&dn);
            assert!(
                ((lu - ld) / (2.0 * e) - g[k]).abs() < 1e-6 * (1.0 + g[k].abs()),
                "g{k}"
            );
            for l in 0..4 {
                let fd = (gu[l] - gd[l]) / (2.0 * e);
                assert!(
                    (fd - h[k][l]).abs() < 1e-5 * (1.0 + h[k][l].abs()),
                    "h{k}{l}"
                );
            }
        }
    }

    #[test]
    fn bad_rows_are_named() {
        let fit = |x: &[f64], tx: &[f64], t: &[f64]| {
            bgnbd_fit(
                &Rfm {
                    frequency: x,
                    recency: tx,
                    t,
                },
                &BtydOptions::default(),
            )
            .unwrap_err()
            .to_string()
        };
        assert!(fit(&[1.0, -1.0], &[1.0, 0.0], &[2.0, 2.0]).contains("row 1"));
        assert!(fit(&[1.0, 1.0], &[1.0, 3.0], &[2.0, 2.0]).contains("exceeds T"));
        assert!(fit(&[1.0, 0.0], &[1.0, 1.0], &[2.0, 2.0]).contains("frequency 0 with recency"));
        assert!(fit(&[1.0, f64::NAN], &[1.0, 0.0], &[2.0, 2.0]).contains("row 1"));
        assert!(fit(&[1.0, 1.0], &[1.0, 1.0], &[2.0, f64::INFINITY]).contains("row 1"));
    }
    /// The CDNOW sample summary (2,357 customers, 39 weeks of calibration) bundled with the Python
    /// package: frequency, recency, T (weeks) and the mean spend of repeat purchases.
    fn cdnow() -> [Vec<f64>; 4] {
        let text = include_str!("../../../python/cx_metrics/data/cdnow_summary.csv");
        let mut cols: [Vec<f64>; 4] = Default::default();
        for line in text.lines().skip(1) {
            let f: Vec<f64> = line
                .split(',')
                .skip(1)
                .map(|v| v.parse().unwrap())
                .collect();
            for k in 0..4 {
                cols[k].push(f[k]);
            }
        }
        cols
    }

    #[test]
    fn cdnow_reproduces_the_published_bgnbd_fit() {
        let [x, tx, t, _] = cdnow();
        assert_eq!(x.len(), 2357);
        let fit = bgnbd_fit(
            &Rfm {
                frequency: &x,
                recency: &tx,
                t: &t,
            },
            &BtydOptions::default(),
        )
        .unwrap();
        // Fader, Hardie & Lee (2005): r = 0.243, α = 4.414, a = 0.793, b = 2.426, ℓ = −9582.4,
        // published to three decimals (half a unit of the last digit, plus the two-decimal
        // rounding of recency and T in the bundled summary).
        assert!(fit.diagnostics.converged, "{}", fit.diagnostics.message);
        for (got, want) in fit.params().iter().zip([0.243, 4.414, 0.793, 2.426]) {
            assert!((got - want).abs() < 1e-3, "{got} vs {want}");
        }
        assert!((fit.diagnostics.log_likelihood + 9582.4).abs() < 0.05);
        assert!(fit.diagnostics.gradient_norm < 1e-6);
        assert!(fit.std_errors.iter().all(|s| s.is_finite() && *s > 0.0));
        // E[Y(t)] of a customer with no repeat purchase at age 0 is E[X(t)] of a new customer.
        let y = fit
            .conditional_expected_purchases(39.0, 0.0, 0.0, 0.0)
            .unwrap();
        assert!((y - fit.expected_purchases(39.0).unwrap()).abs() < 1e-12);
    }

    #[test]
    fn cdnow_reproduces_the_published_gamma_gamma_fit() {
        let [x, _, _, m] = cdnow();
        let fit = gamma_gamma_fit(&x, &m, &BtydOptions::default()).unwrap();
        // Fader, Hardie & Lee (2005, "RFM and CLV"): p = 6.25, q = 3.74, γ = 15.44 on the 946
        // repeat customers (two decimals published).
        assert_eq!((fit.n_customers, fit.n_excluded), (946, 1411));
        assert!(fit.diagnostics.converged, "{}", fit.diagnostics.message);
        assert!((fit.p - 6.25).abs() < 0.01, "{}", fit.p);
        assert!((fit.q - 3.74).abs() < 0.01, "{}", fit.q);
        assert!((fit.gamma - 15.44).abs() < 0.02, "{}", fit.gamma);
    }
}
