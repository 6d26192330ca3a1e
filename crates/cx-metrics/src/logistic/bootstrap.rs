//! Percentile bootstrap of a logistic model: rows resampled with replacement (each keeping its
//! weight), the model refitted on each resample, and the percentiles of the coefficients.
//!
//! With `B` resamples at level `c`, the interval of a coefficient is the `(1 − c)/2` and `(1 + c)/2`
//! quantiles (Hyndman–Fan type 7, numpy's default) of its `B` replicates, and the odds-ratio interval
//! their exponentials (the percentile interval is equivariant under the monotone `exp`). A resample
//! the model cannot be fitted on (separation, an outcome or a driver that no longer varies) is
//! counted in `n_failed` and left out; the share of failures is a warning of its own (see
//! [`LogisticWarning`](super::LogisticWarning)). Efron & Tibshirani (1993), *An Introduction to the
//! Bootstrap*, ch. 13.

use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{data, fit_data, irls, LogisticOptions, LogisticWarning};
use crate::error::{Error, Result};
use crate::intervals::{check_level, Interval};
use crate::resample::{check_resamples, quantile_sorted, stream, Family};

/// The key of the logistic bootstrap's random streams (ASCII "logistic").
const LOGISTIC_BOOTSTRAP: u64 = u64::from_le_bytes(*b"logistic");

/// The least number of resamples taken.
pub const MIN_RESAMPLES: usize = 100;

/// A percentile bootstrap of a logistic model: plain data.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticBootstrap {
    /// What the outcome is ("outcome", "promoter" or "detractor").
    pub outcome: String,
    /// "intercept", then the drivers in input order.
    pub terms: Vec<String>,
    /// The coefficients of the model fitted on all rows, in `terms` order.
    #[serde(with = "crate::serde_nan::vec")]
    pub estimates: Vec<f64>,
    /// Standard deviation of each coefficient's replicates (the bootstrap standard error).
    #[serde(with = "crate::serde_nan::vec")]
    pub std_errors: Vec<f64>,
    /// Percentile interval of each coefficient.
    pub intervals: Vec<Interval>,
    /// Percentile interval of each odds ratio `e^β` (the exponentials of `intervals`).
    pub odds_ratio_intervals: Vec<Interval>,
    /// Resamples drawn.
    pub n_resamples: usize,
    /// Resamples that could not be fitted, left out of the percentiles.
    pub n_failed: usize,
    /// The seed.
    pub seed: u64,
    /// Level of the intervals.
    pub confidence_level: f64,
    /// Things to know (resamples that failed).
    pub warnings: Vec<LogisticWarning>,
}

/// Bootstrap the model of `data` (prepared rows) with `options`.
pub(crate) fn bootstrap_data(
    data: &data::Data,
    options: &LogisticOptions,
    n_resamples: usize,
    seed: u64,
) -> Result<LogisticBootstrap> {
    let settings = options.settings()?;
    let level = options.confidence_level;
    check_level(level)?;
    check_resamples(
        "n_resamples",
        n_resamples,
        MIN_RESAMPLES,
        "at least 100 resamples are needed for percentile intervals; 2000 are a good start",
    )?;
    let full = fit_data(data, options, &settings)?;
    let estimates: Vec<f64> = std::iter::once(&full.intercept)
        .chain(&full.drivers)
        .map(|t| t.estimate)
        .collect();
    let terms: Vec<String> = std::iter::once(&full.intercept)
        .chain(&full.drivers)
        .map(|t| t.name.clone())
        .collect();
    let n = data.n();
    let k = estimates.len();
    // Separation in a resample is a failure, never a silent estimate.
    let strict = LogisticOptions {
        separation: super::SeparationPolicy::Raise,
        ..*options
    };
    let replicates: Vec<Option<Vec<f64>>> = (0..n_resamples as u64)
        .into_par_iter()
        .map(|b| {
            let mut rng = stream(
                seed,
                Family::Keyed {
                    tag: LOGISTIC_BOOTSTRAP,
                    stratum: 0,
                },
                b,
            );
            let index: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
            let sample = data.resample(&index).ok()?;
            fit_resample(&sample, &strict, &settings)
        })
        .collect();
    let kept: Vec<&Vec<f64>> = replicates.iter().flatten().collect();
    let n_failed = n_resamples - kept.len();
    if kept.len() < 2 {
        return Err(Error::invalid(
            "n_resamples",
            format!(
                "{n_failed} of {n_resamples} resamples could not be fitted (separation, or an \
                 outcome or driver without variation in the resample); there is no bootstrap \
                 distribution: use fewer drivers or more rows"
            ),
        ));
    }
    let (lo_q, hi_q) = ((1.0 - level) / 2.0, (1.0 + level) / 2.0);
    let mut std_errors = Vec::with_capacity(k);
    let mut intervals = Vec::with_capacity(k);
    for j in 0..k {
        let mut values: Vec<f64> = kept.iter().map(|r| r[j]).collect();
        values.sort_by(f64::total_cmp);
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var =
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
        std_errors.push(var.sqrt());
        intervals.push(Interval::new(
            quantile_sorted(&values, lo_q),
            quantile_sorted(&values, hi_q),
            level,
        ));
    }
    let warnings = (n_failed > 0)
        .then_some(LogisticWarning::FailedResamples {
            n_failed,
            n_resamples,
        })
        .into_iter()
        .collect();
    let odds_ratio_intervals = intervals
        .iter()
        .map(|i| Interval::new(i.low.exp(), i.high.exp(), level))
        .collect();
    Ok(LogisticBootstrap {
        outcome: full.outcome,
        terms,
        estimates,
        std_errors,
        intervals,
        odds_ratio_intervals,
        n_resamples,
        n_failed,
        seed,
        confidence_level: level,
        warnings,
    })
}

/// The coefficients of one resample, `None` when it cannot be fitted.
fn fit_resample(
    sample: &data::Data,
    options: &LogisticOptions,
    settings: &irls::Settings,
) -> Option<Vec<f64>> {
    let fit = fit_data(sample, options, settings).ok()?;
    if !fit.converged {
        return None;
    }
    Some(
        std::iter::once(&fit.intercept)
            .chain(&fit.drivers)
            .map(|t| t.estimate)
            .collect(),
    )
}
