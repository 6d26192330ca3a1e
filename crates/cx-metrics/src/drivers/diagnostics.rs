//! Structured warnings of a driver analysis: things to know about a result that is nonetheless valid.
//!
//! Warnings are data ([`DriverWarning`]), never printed; the Python side shows them. Thresholds:
//!
//! - sample size: fewer than [`MIN_ROWS`] rows, or fewer than [`ROWS_PER_TERM`] rows per model term
//!   (Harrell 2015, *Regression Modeling Strategies*, §4.4: about 10–20 observations per parameter);
//! - variance inflation: VIF ≥ [`VIF_MODERATE`] deserves a look, VIF ≥ [`VIF_SEVERE`] means the
//!   coefficient is unstable (the usual rules of thumb; O'Brien 2007, *Quality & Quantity* 41, 673–690);
//! - a driver negatively correlated with the outcome (on a satisfaction scale this usually means a
//!   reverse-coded item);
//! - an outcome with two distinct values (a linear model of a 0/1 outcome is a linear probability
//!   model: model promoters and detractors with a logistic model instead);
//! - LMG estimated by sampling orders of entry (more than
//!   [`MAX_EXACT_UNITS`](crate::importance::MAX_EXACT_UNITS) ranked units): the shares carry Monte
//!   Carlo error and dominance analysis is not computed.

use serde::{Deserialize, Serialize};

use crate::importance::{ImportanceMeasure, ImportanceWarning, RelativeImportance, ShapleyMethod};

/// Fewer rows than this draw a [`DriverWarning::SmallSample`].
pub const MIN_ROWS: u64 = 30;
/// Fewer rows than this many per model term draw a [`DriverWarning::SmallSample`].
pub const ROWS_PER_TERM: u64 = 10;
/// A VIF at least this (and below [`VIF_SEVERE`]) draws a [`DriverWarning::ModerateVif`].
pub const VIF_MODERATE: f64 = 4.0;
/// A VIF at least this draws a [`DriverWarning::SevereVif`].
pub const VIF_SEVERE: f64 = 10.0;

/// Something the caller should know about a driver analysis.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DriverWarning {
    /// Fewer than [`MIN_ROWS`] rows, or fewer than [`ROWS_PER_TERM`] per model term: estimates and
    /// rankings are unstable.
    SmallSample {
        /// Rows used.
        n: u64,
        /// Model terms (drivers, `always` covariates and indicators).
        terms: usize,
        /// Rows recommended: `max(MIN_ROWS, ROWS_PER_TERM · terms)`.
        recommended: u64,
    },
    /// A term's variance inflation factor is at least [`VIF_MODERATE`] and below [`VIF_SEVERE`].
    ModerateVif {
        /// The term.
        driver: String,
        /// Its VIF.
        vif: f64,
    },
    /// A term's variance inflation factor is at least [`VIF_SEVERE`]: its coefficient is unstable;
    /// consider grouping it with the drivers it overlaps.
    SevereVif {
        /// The term.
        driver: String,
        /// Its VIF.
        vif: f64,
    },
    /// A driver's zero-order correlation with the outcome is negative: is its scale reverse-coded?
    NegativeCorrelation {
        /// The driver.
        driver: String,
        /// Its correlation with the outcome.
        correlation: f64,
    },
    /// The outcome takes only two distinct values: a linear model of it is a linear probability model.
    /// Model promoters and detractors (a 0/1 outcome) with a logistic model instead.
    BinaryOutcome {
        /// The outcome.
        outcome: String,
        /// Its two values, smaller first.
        values: [f64; 2],
    },
    /// Pairwise deletion was used: correlations rest on different subsets of rows.
    PairwiseDeletion {
        /// Positive-weight rows of the pair with the fewest (the `n` of the fit).
        min_pair_n: u64,
        /// Positive-weight rows of the pair with the most.
        max_pair_n: u64,
        /// Rows with at least one missing value.
        incomplete_rows: usize,
    },
    /// A driver's missing values were filled by the indicator method (see
    /// [`MissingPolicy::Indicator`](super::MissingPolicy::Indicator) for the bias caveat).
    MissingIndicator {
        /// The driver.
        driver: String,
        /// Its indicator covariate, adjusted for in every model and not ranked.
        indicator: String,
        /// Analysed rows where the value was missing.
        n_missing: usize,
        /// The value filled in (weighted mean of the observed values).
        fill_value: f64,
    },
    /// A warning of the relative-importance computation.
    Importance {
        /// The warning.
        detail: ImportanceWarning,
    },
    /// LMG was estimated from random orders of entry, not computed exactly: more ranked units than
    /// [`MAX_EXACT_UNITS`](crate::importance::MAX_EXACT_UNITS). Its scores carry Monte Carlo error and
    /// dominance analysis is not computed.
    SampledImportance {
        /// Ranked units (drivers, or groups of drivers).
        units: usize,
        /// Orders of entry drawn.
        permutations: usize,
        /// The largest standard error of a sampled LMG score (R² units).
        max_std_error: f64,
    },
    /// The outcome is an exact linear function of the drivers (R² = 1 up to rounding): the
    /// coefficients are exact, the residual standard error is (about) zero, and so are the standard
    /// errors, which say nothing about sampling error. Usually the outcome is computed from the
    /// drivers (a total, an index): leave it out or model its parts.
    ExactFit {
        /// `1 − R²` as fitted (zero or rounding error).
        unexplained: f64,
    },
}

/// Largest `1 − R²` reported as an exact fit.
pub const EXACT_FIT: f64 = 1e-12;

/// The exact-fit warning, if R² is 1 up to rounding.
pub(crate) fn exact_fit(r_squared: f64) -> Option<DriverWarning> {
    let unexplained = 1.0 - r_squared;
    (unexplained.abs() <= EXACT_FIT).then_some(DriverWarning::ExactFit { unexplained })
}

/// The sample-size warning, if any.
pub(crate) fn sample_size(n: u64, terms: usize) -> Option<DriverWarning> {
    let recommended = MIN_ROWS.max(ROWS_PER_TERM.saturating_mul(terms as u64));
    (n < recommended).then_some(DriverWarning::SmallSample {
        n,
        terms,
        recommended,
    })
}

/// The VIF warning of one term, if any.
pub(crate) fn vif(driver: &str, vif: f64) -> Option<DriverWarning> {
    let driver = driver.to_owned();
    if vif >= VIF_SEVERE {
        Some(DriverWarning::SevereVif { driver, vif })
    } else if vif >= VIF_MODERATE {
        Some(DriverWarning::ModerateVif { driver, vif })
    } else {
        None
    }
}

/// The negative-correlation warning of one driver, if any.
pub(crate) fn negative_correlation(driver: &str, correlation: f64) -> Option<DriverWarning> {
    (correlation < 0.0).then(|| DriverWarning::NegativeCorrelation {
        driver: driver.to_owned(),
        correlation,
    })
}

/// The binary-outcome warning, if the (non-missing) outcome values take exactly two distinct values.
pub(crate) fn binary_outcome<'a>(
    outcome: &str,
    values: impl IntoIterator<Item = &'a f64>,
) -> Option<DriverWarning> {
    let mut distinct: Vec<f64> = Vec::with_capacity(3);
    for &v in values {
        if v.is_nan() || distinct.contains(&v) {
            continue;
        }
        distinct.push(v);
        if distinct.len() > 2 {
            return None;
        }
    }
    match distinct[..] {
        [a, b] => Some(DriverWarning::BinaryOutcome {
            outcome: outcome.to_owned(),
            values: [a.min(b), a.max(b)],
        }),
        _ => None,
    }
}

/// The sampled-importance warning, when LMG was sampled.
pub(crate) fn sampled_importance(
    importance: &RelativeImportance,
    permutations: usize,
) -> Option<DriverWarning> {
    if importance.lmg_method != Some(ShapleyMethod::Sampled) {
        return None;
    }
    let max_std_error = importance
        .scores(ImportanceMeasure::Lmg)
        .and_then(|s| s.std_error.as_ref())
        .map_or(f64::NAN, |se| se.iter().copied().fold(0.0, f64::max));
    Some(DriverWarning::SampledImportance {
        units: importance.names.len(),
        permutations,
        max_std_error,
    })
}
