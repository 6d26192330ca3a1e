//! Logistic regression of a binary outcome on named drivers, with survey weights; the promoter and
//! detractor models of NPS; and the Shapley decomposition of McFadden's pseudo-R².
//!
//! # Model
//!
//! `P(yᵢ = 1) = μᵢ = 1/(1 + e^{−ηᵢ})`, `ηᵢ = β₀ + Σⱼ βⱼ xᵢⱼ`, fitted by maximising the (weighted)
//! log-likelihood `ℓ(β) = Σ wᵢ [yᵢ ln μᵢ + (1 − yᵢ) ln(1 − μᵢ)]` by iteratively reweighted least squares
//! (Newton–Raphson with step halving; McCullagh & Nelder 1989, ch. 4). Standard errors are the square roots
//! of the diagonal of the inverse Fisher information `(XᵀVX)⁻¹`, `V = diag(wᵢ μᵢ (1 − μᵢ))`; Wald
//! `z = β/SE`, two-sided normal p-values, intervals `β ± z_{1−α/2} SE` and odds ratios `e^β` with
//! interval `[e^{lo}, e^{hi}]`.
//!
//! With survey weights the estimates are the pseudo-maximum-likelihood estimates (the weighted score
//! equations `Σ wᵢ xᵢ (yᵢ − μᵢ) = 0`), the same point estimates as statsmodels'
//! `GLM(family=Binomial(), freq_weights=w)` or `var_weights=w`; the standard errors treat the weights as
//! frequency weights (the information of `Σw` observations), so rescaling the weights rescales the SEs.
//! For design-based SEs normalise the weights to sum to the Kish effective sample size, or bootstrap.
//!
//! Goodness of fit: deviance `D = −2ℓ`, `AIC = −2ℓ + 2k` (k = drivers + 1), McFadden's (1974)
//! pseudo-R² `1 − ℓ/ℓ₀` with `ℓ₀ = W₁ ln p̄ + W₀ ln(1 − p̄)` the intercept-only log-likelihood
//! (`W₁`, `W₀` the weights of events and non-events, `p̄ = W₁/(W₁ + W₀)`).
//!
//! # Separation
//!
//! When a combination of drivers predicts the outcome perfectly for all rows (complete separation) or for
//! some rows with ties on the boundary (quasi-complete), the maximum-likelihood estimates do not exist
//! (Albert & Anderson 1984). This is detected (see [`SeparationPolicy`]) and reported as
//! [`Error::Separation`] or, on request, as [`LogisticRegression::separation`] — never as silent estimates.
//!
//! # References
//!
//! - McCullagh, P. & Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed. Chapman & Hall.
//! - McFadden, D. (1974). Conditional logit analysis of qualitative choice behavior. In P. Zarembka (ed.),
//!   *Frontiers in Econometrics*, 105–142. Academic Press.
//! - Albert, A. & Anderson, J. A. (1984). On the existence of maximum likelihood estimates in logistic
//!   regression models. *Biometrika* 71(1), 1–10.
//! - Shapley, L. S. (1953). A value for n-person games. *Contributions to the Theory of Games* II, 307–317.
//! - Castro, J., Gómez, D. & Tejada, J. (2009). Polynomial calculation of the Shapley value based on
//!   sampling. *Computers & Operations Research* 36(5), 1726–1730.

mod bootstrap;
mod data;
mod irls;
mod nps;
mod shapley;

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::intervals::{check_level, normal_p_two_sided, z_two_sided, Interval};
use crate::scale::NanPolicy;

pub use bootstrap::{LogisticBootstrap, MIN_RESAMPLES};
pub use nps::{
    detractor_model, nps_model, nps_model_bootstrap, nps_pseudo_r2_shapley, promoter_model,
    NpsOutcome,
};
pub use shapley::{
    pseudo_r2_shapley, DriverShare, PseudoR2Shapley, ShapleyMethod, ShapleyOptions,
    MAX_EXACT_DRIVERS,
};

/// What to do when the drivers separate the outcome.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeparationPolicy {
    /// Fail with [`Error::Separation`] naming the drivers involved (the default).
    #[default]
    Raise,
    /// Return the result with [`LogisticRegression::separation`] set, `converged = false`, and infinite
    /// standard errors (the estimates are the last iterate of a diverging fit, not estimates).
    Warn,
}

impl FromStr for SeparationPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "raise" => Ok(Self::Raise),
            "warn" => Ok(Self::Warn),
            other => Err(Error::invalid(
                "separation",
                format!("{other:?}; use \"raise\" or \"warn\""),
            )),
        }
    }
}

/// What survey weights stand for, and so which standard errors a weighted fit reports.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightKind {
    /// Sampling (survey, inverse-probability) weights, the default: design-based sandwich standard
    /// errors (HC0), which do not change when every weight is multiplied by a constant.
    #[default]
    Sampling,
    /// Frequency weights (a weight of 3 is three identical respondents): model-based standard errors
    /// of `Σw` observations, `(XᵀVX)⁻¹`, as statsmodels `GLM(freq_weights=w)`; multiplying the
    /// weights by `c` divides them by `√c`.
    Frequency,
}

impl WeightKind {
    /// `"sampling"` or `"frequency"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sampling => "sampling",
            Self::Frequency => "frequency",
        }
    }
}

impl FromStr for WeightKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sampling" => Ok(Self::Sampling),
            "frequency" => Ok(Self::Frequency),
            other => Err(Error::invalid(
                "weight_kind",
                format!(
                    "{other:?}; use \"sampling\" (survey weights, design-based standard errors) \
                     or \"frequency\" (a weight counts identical respondents)"
                ),
            )),
        }
    }
}

/// Which standard errors a logistic fit reports.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogisticStdError {
    /// `√[(XᵀVX)⁻¹]ⱼⱼ`, the inverse Fisher information (unweighted fits, frequency weights).
    #[default]
    ModelBased,
    /// The sandwich `A⁻¹BA⁻¹` with `A = XᵀVX`, `B = Σ wᵢ²(yᵢ − μᵢ)² xᵢxᵢᵀ` (HC0; sampling weights).
    /// statsmodels `GLM(y, X, family=Binomial(), var_weights=w).fit(cov_type="HC0")` gives the same;
    /// R `survey::svyglm` (one stratum, no clusters) gives these times `√(n/(n − 1))`.
    SandwichHc0,
}

impl LogisticStdError {
    /// `"model-based"` or `"sandwich (HC0)"`.
    pub fn label(self) -> &'static str {
        match self {
            Self::ModelBased => "model-based",
            Self::SandwichHc0 => "sandwich (HC0)",
        }
    }
}

/// Options of the logistic fit.
///
/// ```
/// let o = cx_metrics::logistic::LogisticOptions::default();
/// assert_eq!(o.confidence_level, 0.95);
/// assert_eq!(o.max_iter, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticOptions {
    /// Level of the coefficient and odds-ratio intervals, in (0, 1). Default 0.95.
    pub confidence_level: f64,
    /// Most Newton (IRLS) iterations. Default 100.
    pub max_iter: usize,
    /// Convergence when the relative deviance change `|D − D_old| / (|D| + 0.1)` falls below this.
    /// Default 1e-10.
    pub tol: f64,
    /// A fitted probability within this distance of a row's observed outcome counts as "at 0/1" in the
    /// separation check. Default 1e-6.
    pub separation_tol: f64,
    /// Largest condition number `λ_max/λ_min` of the equilibrated weighted Gram matrix `XᵀVX` that is
    /// solved; above it the fit fails with [`Error::IllConditioned`] (or [`Error::Collinear`] when the
    /// matrix is numerically singular). Default 1e12.
    pub max_condition: f64,
    /// Separated data: raise (default) or warn.
    pub separation: SeparationPolicy,
    /// Rows with a missing outcome or driver: omit listwise and count (default) or raise.
    pub nan_policy: NanPolicy,
    /// What the weights stand for (default sampling weights: sandwich standard errors). Ignored
    /// without weights.
    #[serde(default)]
    pub weight_kind: WeightKind,
}

impl Default for LogisticOptions {
    fn default() -> Self {
        Self {
            confidence_level: 0.95,
            max_iter: 100,
            tol: 1e-10,
            separation_tol: 1e-6,
            max_condition: 1e12,
            separation: SeparationPolicy::Raise,
            nan_policy: NanPolicy::Omit,
            weight_kind: WeightKind::Sampling,
        }
    }
}

impl LogisticOptions {
    fn settings(&self) -> Result<irls::Settings> {
        check_level(self.confidence_level)?;
        if self.max_iter == 0 {
            return Err(Error::invalid(
                "max_iter",
                "0; at least one iteration is needed",
            ));
        }
        if !(self.tol > 0.0 && self.tol < 1.0) {
            return Err(Error::invalid(
                "tol",
                format!("{}; it must lie in (0, 1), e.g. 1e-10", self.tol),
            ));
        }
        if !(self.separation_tol > 0.0 && self.separation_tol < 0.5) {
            return Err(Error::invalid(
                "separation_tol",
                format!(
                    "{}; it must lie in (0, 0.5), e.g. 1e-6",
                    self.separation_tol
                ),
            ));
        }
        if self.max_condition.is_nan() || self.max_condition < 1.0 {
            return Err(Error::invalid(
                "max_condition",
                format!("{}; it must be at least 1, e.g. 1e12", self.max_condition),
            ));
        }
        Ok(irls::Settings {
            max_iter: self.max_iter,
            tol: self.tol,
            separation_tol: self.separation_tol,
            max_condition: self.max_condition,
        })
    }
}

/// Complete or quasi-complete separation (Albert & Anderson 1984).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeparationKind {
    /// Every row (with positive weight) is predicted perfectly.
    Complete,
    /// Some rows are predicted perfectly; the others tie on the separating boundary.
    QuasiComplete,
}

impl SeparationKind {
    /// "complete" or "quasi-complete", for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::QuasiComplete => "quasi-complete",
        }
    }
}

/// A detected separation: the maximum-likelihood estimates do not exist.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Separation {
    /// Complete or quasi-complete.
    pub kind: SeparationKind,
    /// The drivers along which the coefficients diverge (those whose coefficient change, times their
    /// standard deviation, is at least 5 % of the largest).
    pub drivers: Vec<String>,
    /// Rows (with positive weight) whose fitted probability reached their observed outcome within
    /// [`LogisticOptions::separation_tol`].
    pub rows: usize,
}

impl Separation {
    /// The same report as an [`Error::Separation`].
    pub fn to_error(&self) -> Error {
        Error::Separation {
            kind: self.kind.label(),
            drivers: self.drivers.join(", "),
            rows: self.rows,
        }
    }
}

/// Fewer events (or non-events) per estimated slope than this draw a
/// [`LogisticWarning::FewEventsPerVariable`] (Peduzzi et al. 1996).
pub const MIN_EVENTS_PER_VARIABLE: f64 = 10.0;

/// Something to know about a logistic model (or its bootstrap) that is nonetheless returned.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LogisticWarning {
    /// The drivers separate the outcome (returned only with [`SeparationPolicy::Warn`]): the
    /// estimates are the last iterate of a diverging fit and the standard errors infinite. Drop or
    /// merge the drivers named, or use fewer categories.
    Separation {
        /// "complete" or "quasi-complete".
        separation: String,
        /// The drivers along which the coefficients diverge.
        drivers: Vec<String>,
        /// Rows predicted perfectly.
        rows: usize,
    },
    /// Fewer than [`MIN_EVENTS_PER_VARIABLE`] of the rarer outcome per slope (Peduzzi, Concato,
    /// Kemper, Holford & Feinstein 1996, *J. Clin. Epidemiol.* 49(12)): coefficients are biased
    /// away from zero and Wald intervals too narrow. Use fewer drivers, more rows, or bootstrap.
    FewEventsPerVariable {
        /// Rows with the rarer outcome (events or non-events).
        events: usize,
        /// Slopes estimated (drivers).
        drivers: usize,
        /// `events / drivers`.
        per_variable: f64,
    },
    /// Bootstrap resamples that could not be fitted (separation, a driver or outcome without
    /// variation): the percentiles come from the others, and lean towards the resamples without
    /// the problem. Many failures mean the model is too large for the rows.
    FailedResamples {
        /// Resamples left out.
        n_failed: usize,
        /// Resamples drawn.
        n_resamples: usize,
    },
}

impl LogisticWarning {
    /// A sentence with rounded figures and what to do.
    pub fn message(&self) -> String {
        match self {
            Self::Separation {
                separation,
                drivers,
                rows,
            } => format!(
                "{separation} separation along {}: {rows} rows predicted perfectly; the estimates do not exist (infinite standard errors): drop or merge those drivers",
                drivers.join(", ")
            ),
            Self::FewEventsPerVariable {
                events,
                drivers,
                per_variable,
            } => format!(
                "{per_variable:.1} events per driver ({events} of the rarer outcome, {drivers} drivers; at least 10 recommended): coefficients are biased away from zero and Wald intervals too narrow; use fewer drivers or .bootstrap()"
            ),
            Self::FailedResamples {
                n_failed,
                n_resamples,
            } => format!(
                "{n_failed} of {n_resamples} resamples ({:.1} %) could not be fitted and were left out; many failures mean too many drivers for the rows",
                100.0 * *n_failed as f64 / *n_resamples as f64
            ),
        }
    }
}

/// One coefficient of a logistic model, with its Wald inference and odds ratio.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticTerm {
    /// "intercept" or the driver's name.
    pub name: String,
    /// The coefficient β (change in log-odds per unit of the driver).
    #[serde(with = "crate::serde_nan")]
    pub estimate: f64,
    /// The standard error of [`LogisticRegression::std_error_type`]: `√[(XᵀVX)⁻¹]ⱼⱼ` (model-based) or
    /// the sandwich's (sampling weights); infinite under separation.
    #[serde(with = "crate::serde_nan")]
    pub std_error: f64,
    /// Wald statistic β/SE.
    #[serde(with = "crate::serde_nan")]
    pub z: f64,
    /// Two-sided p-value `2(1 − Φ(|z|))`.
    #[serde(with = "crate::serde_nan")]
    pub p_value: f64,
    /// `β ± z_{1−α/2} SE` at the fit's confidence level.
    pub interval: Interval,
    /// `e^β`: the factor by which the odds of the outcome change per unit of the driver.
    #[serde(with = "crate::serde_nan")]
    pub odds_ratio: f64,
    /// `[e^{lo}, e^{hi}]` from [`interval`](Self::interval).
    pub odds_ratio_interval: Interval,
}

impl LogisticTerm {
    fn new(name: String, estimate: f64, std_error: f64, z_crit: f64, level: f64) -> Self {
        let interval = wald(estimate, std_error, z_crit, level);
        let z = if std_error.is_finite() {
            estimate / std_error
        } else {
            0.0
        };
        Self {
            name,
            estimate,
            std_error,
            z,
            p_value: normal_p_two_sided(z),
            interval,
            odds_ratio: estimate.exp(),
            odds_ratio_interval: Interval::new(interval.low.exp(), interval.high.exp(), level),
        }
    }

    /// The Wald interval `β ± z_{1−α/2} SE` at another level.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `0 < confidence_level < 1`.
    pub fn interval_at(&self, confidence_level: f64) -> Result<Interval> {
        let z = z_two_sided(confidence_level)?;
        Ok(wald(self.estimate, self.std_error, z, confidence_level))
    }

    /// The odds-ratio interval `[e^{lo}, e^{hi}]` at another level.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `0 < confidence_level < 1`.
    pub fn odds_ratio_interval_at(&self, confidence_level: f64) -> Result<Interval> {
        let i = self.interval_at(confidence_level)?;
        Ok(Interval::new(i.low.exp(), i.high.exp(), confidence_level))
    }
}

fn wald(estimate: f64, std_error: f64, z: f64, level: f64) -> Interval {
    if std_error.is_finite() {
        Interval::new(estimate - z * std_error, estimate + z * std_error, level)
    } else {
        Interval::new(f64::NEG_INFINITY, f64::INFINITY, level)
    }
}

/// A fitted logistic regression: plain data.
///
/// ```
/// use cx_metrics::logistic::{logistic_regression, LogisticOptions};
/// let y = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
/// let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 2.5, 4.5];
/// let fit = logistic_regression(&y, &[("effort", &x)], None, &LogisticOptions::default()).unwrap();
/// assert_eq!((fit.n, fit.n_events), (8, 4));
/// assert!(fit.drivers[0].odds_ratio > 1.0 && fit.converged);
/// assert!((fit.deviance + 2.0 * fit.log_likelihood).abs() < 1e-12);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    /// What the outcome is ("outcome", "promoter" or "detractor").
    pub outcome: String,
    /// The intercept (log-odds of the outcome when every driver is 0).
    pub intercept: LogisticTerm,
    /// One term per driver, in input order.
    pub drivers: Vec<LogisticTerm>,
    /// The covariance of the coefficients behind the standard errors (see `std_error_type`),
    /// intercept first then drivers in order; empty under separation.
    pub covariance: Vec<Vec<f64>>,
    /// Which standard errors the terms carry. Results serialised before this field read back as
    /// model-based.
    #[serde(default)]
    pub std_error_type: LogisticStdError,
    /// What the weights stood for (`None` without weights).
    #[serde(default)]
    pub weight_kind: Option<WeightKind>,
    /// Things to know about the fit (separation under [`SeparationPolicy::Warn`], few events per
    /// driver). Results serialised before this field read back without warnings.
    #[serde(default)]
    pub warnings: Vec<LogisticWarning>,
    /// Maximised log-likelihood ℓ (weighted).
    pub log_likelihood: f64,
    /// Log-likelihood ℓ₀ of the intercept-only model.
    pub null_log_likelihood: f64,
    /// Deviance `−2ℓ` (the saturated log-likelihood of a 0/1 outcome is 0).
    pub deviance: f64,
    /// Null deviance `−2ℓ₀`.
    pub null_deviance: f64,
    /// Akaike information criterion `−2ℓ + 2k`, k = drivers + 1.
    pub aic: f64,
    /// McFadden's pseudo-R² `1 − ℓ/ℓ₀`.
    pub pseudo_r2: f64,
    /// Complete rows (those of weight 0 included; they do not affect the fit).
    pub n: usize,
    /// Complete rows with the outcome (y = 1).
    pub n_events: usize,
    /// Rows dropped because the outcome or a driver was missing.
    pub n_omitted: usize,
    /// Σw over the complete rows (= n without weights).
    pub sum_weights: f64,
    /// Newton iterations taken.
    pub iterations: usize,
    /// Whether the deviance converged to a maximum (false under separation or at `max_iter`).
    pub converged: bool,
    /// The level of the intervals.
    pub confidence_level: f64,
    /// Separation, when found and [`SeparationPolicy::Warn`] was asked for.
    pub separation: Option<Separation>,
}

impl LogisticRegression {
    /// The term of a driver by name (or "intercept").
    pub fn term(&self, name: &str) -> Option<&LogisticTerm> {
        std::iter::once(&self.intercept)
            .chain(&self.drivers)
            .find(|t| t.name == name)
    }
}

/// Fit a logistic regression of a 0/1 outcome on named drivers, optionally weighted.
///
/// `outcome` holds 0.0, 1.0 or NaN (missing); `drivers` are `(name, values)` pairs of the same length;
/// `weights` are survey weights (finite, ≥ 0). Rows with a NaN outcome or driver are dropped listwise and
/// counted in `n_omitted` (or raise, per `options.nan_policy`).
///
/// # Errors
/// [`Error::OutOfRange`]/[`Error::NotIntegral`] for an outcome other than 0/1 (naming its position);
/// [`Error::LengthMismatch`]; [`Error::InvalidWeight`]; [`Error::BadColumn`] for infinite driver values, a
/// driver with zero variance or an outcome that never varies; [`Error::TooFewRows`];
/// [`Error::Separation`]; [`Error::Collinear`]/[`Error::IllConditioned`]; [`Error::InvalidArgument`] for
/// bad options or duplicate driver names.
pub fn logistic_regression(
    outcome: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &LogisticOptions,
) -> Result<LogisticRegression> {
    let settings = options.settings()?;
    let y = data::binary_outcome(outcome)?;
    let data = data::prepare("outcome", &y, drivers, weights, options.nan_policy)?;
    fit_data(&data, options, &settings)
}

/// Names of the design columns: "intercept" then the drivers in `idx`.
fn design_names(data: &data::Data, idx: &[usize]) -> Vec<String> {
    std::iter::once("intercept".to_string())
        .chain(idx.iter().filter_map(|&j| data.names.get(j).cloned()))
        .collect()
}

/// Start at the intercept-only maximum: β₀ = logit(p̄), other coefficients 0.
fn null_start(data: &data::Data, k: usize) -> Vec<f64> {
    let p = data.event_rate();
    let mut start = vec![0.0; k];
    if let Some(b0) = start.first_mut() {
        *b0 = (p / (1.0 - p)).ln();
    }
    start
}

/// `ℓ₀ = W₁ ln p̄ + W₀ ln(1 − p̄)`.
fn null_log_likelihood(data: &data::Data) -> f64 {
    let (w1, w0) = data.weight_split();
    let p = w1 / (w1 + w0);
    w1 * p.ln() + w0 * (-p).ln_1p()
}

pub(crate) fn fit_data(
    data: &data::Data,
    options: &LogisticOptions,
    settings: &irls::Settings,
) -> Result<LogisticRegression> {
    let idx: Vec<usize> = (0..data.names.len()).collect();
    let x = data.design(&idx);
    let names = design_names(data, &idx);
    let fit = irls::fit(
        &x,
        &data.y,
        &data.w,
        &null_start(data, names.len()),
        settings,
        &names,
    )?;
    let separation = fit.separation.as_ref().map(|f| Separation {
        kind: if f.complete {
            SeparationKind::Complete
        } else {
            SeparationKind::QuasiComplete
        },
        drivers: f
            .columns
            .iter()
            .filter_map(|&c| names.get(c).cloned())
            .collect(),
        rows: f.rows,
    });
    if let (Some(sep), SeparationPolicy::Raise) = (&separation, options.separation) {
        return Err(sep.to_error());
    }
    let level = options.confidence_level;
    let z_crit = z_two_sided(level)?;
    let k = names.len();
    let weight_kind = data.weighted.then_some(options.weight_kind);
    let sandwich = weight_kind == Some(WeightKind::Sampling);
    // Frequency-weight SEs, log-likelihoods and Σw in the caller's units (the fit saw the weights
    // times `data.weight_scale`); the sandwich does not depend on the weights' scale.
    let (cov, scale) = match &fit.covariance {
        Some(c) if sandwich => (
            Some(irls::sandwich(&x, &data.y, &data.w, &fit.beta, c)),
            1.0,
        ),
        other => (other.clone(), data.weight_scale),
    };
    let std_error_type = if sandwich {
        LogisticStdError::SandwichHc0
    } else {
        LogisticStdError::ModelBased
    };
    let se = |j: usize| {
        cov.as_ref()
            .map_or(f64::INFINITY, |c| (c[(j, j)] * scale).max(0.0).sqrt())
    };
    let mut terms = names
        .iter()
        .zip(&fit.beta)
        .enumerate()
        .map(|(j, (name, &b))| LogisticTerm::new(name.clone(), b, se(j), z_crit, level));
    let intercept = terms
        .next()
        .ok_or_else(|| Error::invalid("drivers", "internal: empty design"))?;
    let drivers: Vec<LogisticTerm> = terms.collect();
    let covariance = cov.as_ref().map_or_else(Vec::new, |c| {
        (0..k)
            .map(|i| (0..k).map(|j| c[(i, j)] * scale).collect())
            .collect()
    });
    // The log-likelihoods and Σw in the caller's units, whatever the standard errors.
    let unit = data.weight_scale;
    let ll = fit.log_likelihood / unit;
    let ll0 = null_log_likelihood(data) / unit;
    let sum_weights = data.w.iter().sum::<f64>() / unit;
    if !(ll.is_finite() && ll0.is_finite() && sum_weights.is_finite()) {
        return Err(crate::weights::unrepresentable());
    }
    let mut warnings: Vec<LogisticWarning> = separation
        .iter()
        .map(|sep| LogisticWarning::Separation {
            separation: sep.kind.label().to_owned(),
            drivers: sep.drivers.clone(),
            rows: sep.rows,
        })
        .collect();
    let n_events = data.n_events();
    let rarer = n_events.min(data.n() - n_events);
    let slopes = k - 1;
    if slopes > 0 && (rarer as f64) < MIN_EVENTS_PER_VARIABLE * slopes as f64 {
        warnings.push(LogisticWarning::FewEventsPerVariable {
            events: rarer,
            drivers: slopes,
            per_variable: rarer as f64 / slopes as f64,
        });
    }
    Ok(LogisticRegression {
        warnings,
        outcome: data.outcome.clone(),
        intercept,
        drivers,
        covariance,
        log_likelihood: ll,
        null_log_likelihood: ll0,
        deviance: -2.0 * ll,
        null_deviance: -2.0 * ll0,
        aic: -2.0 * ll + 2.0 * k as f64,
        pseudo_r2: 1.0 - ll / ll0,
        n: data.n(),
        n_events: data.n_events(),
        n_omitted: data.n_omitted,
        sum_weights,
        iterations: fit.iterations,
        converged: fit.converged,
        confidence_level: level,
        separation,
        std_error_type,
        weight_kind,
    })
}
