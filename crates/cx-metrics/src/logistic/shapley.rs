//! Shapley decomposition of McFadden's pseudo-R² over the drivers.
//!
//! # Formula
//!
//! With `R²(S) = 1 − ℓ(S)/ℓ₀` the McFadden (1974) pseudo-R² of the logistic model with the drivers in `S`
//! (`R²(∅) = 0`: the empty model is the intercept-only model, whose log-likelihood is ℓ₀),
//!
//! ```text
//! φⱼ = Σ_{S ⊆ P∖{j}} |S|! (p − |S| − 1)! / p! · [R²(S ∪ {j}) − R²(S)]
//! ```
//!
//! (Shapley 1953), computed by [`shapley_from_subsets`] from the table of all 2^p subset fits. The φⱼ sum
//! to the full model's pseudo-R². Each subset is fitted by Newton–Raphson warm-started from the fit of the
//! subset without its highest-numbered driver; subsets of one size are fitted in parallel.
//!
//! A subset of a model without separation is never separated (a separating direction of the subset would
//! separate the full model too), so separation is checked once, on the full model.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{self, Data};
use super::{
    design_names, fit_data, irls, null_log_likelihood, null_start, LogisticOptions,
    SeparationPolicy,
};
use crate::error::{Error, Result};
use crate::importance::shapley_from_subsets;

/// The most drivers for which the exact decomposition (2^p logistic fits) is computed.
pub const MAX_EXACT_DRIVERS: usize = 12;

/// One driver's part of the pseudo-R².
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverShare {
    /// The driver's name.
    pub name: String,
    /// Its Shapley value φⱼ, in pseudo-R² units.
    pub value: f64,
    /// `φⱼ / R²`, its fraction of the full model's pseudo-R² (0 when R² = 0).
    pub share: f64,
}

/// The Shapley decomposition of McFadden's pseudo-R²: plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PseudoR2Shapley {
    /// What the outcome is ("outcome", "promoter" or "detractor").
    pub outcome: String,
    /// One entry per driver, in input order; the values sum to [`pseudo_r2`](Self::pseudo_r2).
    pub drivers: Vec<DriverShare>,
    /// McFadden's pseudo-R² of the model with every driver.
    pub pseudo_r2: f64,
    /// Log-likelihood of the full model.
    pub log_likelihood: f64,
    /// Log-likelihood of the intercept-only model.
    pub null_log_likelihood: f64,
    /// The pseudo-R² of every subset by bitmask (bit j = driver j), 2^p entries, entry 0 = 0.
    pub subsets: Vec<f64>,
    /// Complete rows used.
    pub n: usize,
    /// Rows with the outcome.
    pub n_events: usize,
    /// Rows dropped because a value was missing.
    pub n_omitted: usize,
}

/// Shapley decomposition of McFadden's pseudo-R² of a logistic model of a 0/1 outcome.
///
/// Inputs as in [`logistic_regression`](super::logistic_regression).
///
/// # Errors
/// As [`logistic_regression`](super::logistic_regression) (separation is always an error here, whatever
/// the policy); [`Error::InvalidArgument`] without drivers or with more than [`MAX_EXACT_DRIVERS`];
/// [`Error::NoConvergence`] if a fit does not converge within `max_iter`.
///
/// ```
/// use cx_metrics::logistic::{pseudo_r2_shapley, LogisticOptions};
/// let y = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 2.5, 4.5, 3.5, 3.0];
/// let b = [2.0, 1.0, 2.0, 3.0, 1.0, 3.0, 1.0, 2.0, 1.5, 2.5];
/// let s = pseudo_r2_shapley(&y, &[("a", &a), ("b", &b)], None, &LogisticOptions::default()).unwrap();
/// let total: f64 = s.drivers.iter().map(|d| d.value).sum();
/// assert!((total - s.pseudo_r2).abs() < 1e-12);
/// ```
pub fn pseudo_r2_shapley(
    outcome: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &LogisticOptions,
) -> Result<PseudoR2Shapley> {
    let settings = options.settings()?;
    check_count(drivers.len())?;
    let y = data::binary_outcome(outcome)?;
    let data = data::prepare("outcome", &y, drivers, weights, options.nan_policy)?;
    decompose(&data, options, &settings)
}

pub(crate) fn check_count(p: usize) -> Result<()> {
    if p == 0 {
        return Err(Error::invalid(
            "drivers",
            "none given; the decomposition needs at least one driver",
        ));
    }
    if p > MAX_EXACT_DRIVERS {
        return Err(Error::invalid(
            "drivers",
            format!(
                "{p} drivers, but the exact Shapley decomposition of the pseudo-R² fits all 2^p subsets \
                 and is limited to {MAX_EXACT_DRIVERS} drivers; group or preselect drivers"
            ),
        ));
    }
    Ok(())
}

pub(crate) fn decompose(
    data: &Data,
    options: &LogisticOptions,
    settings: &irls::Settings,
) -> Result<PseudoR2Shapley> {
    let p = data.names.len();
    check_count(p)?;
    let strict = LogisticOptions {
        separation: SeparationPolicy::Raise,
        ..*options
    };
    let full = fit_data(data, &strict, settings)?;
    if !full.converged {
        return Err(not_converged("the full model", settings.max_iter));
    }
    let ll0 = null_log_likelihood(data);
    let len = 1usize << p;
    let full_mask = len - 1;
    let mut r2 = vec![0.0; len];
    let mut betas: Vec<Vec<f64>> = vec![Vec::new(); len];
    betas[0] = null_start(data, 1);
    r2[full_mask] = full.pseudo_r2;
    for size in 1..p {
        let masks: Vec<usize> = (1..full_mask)
            .filter(|m| m.count_ones() as usize == size)
            .collect();
        let fits: Vec<(usize, f64, Vec<f64>)> = masks
            .par_iter()
            .map(|&mask| {
                let top = usize::BITS - 1 - mask.leading_zeros();
                let parent = mask & !(1usize << top);
                let mut start = betas.get(parent).cloned().unwrap_or_default();
                start.push(0.0);
                let idx: Vec<usize> = (0..p).filter(|j| mask & (1 << j) != 0).collect();
                let names = design_names(data, &idx);
                let fit = irls::fit(
                    &data.design(&idx),
                    &data.y,
                    &data.w,
                    &start,
                    settings,
                    &names,
                )?;
                if let Some(f) = fit.separation {
                    // Unreachable when the full model is not separated; kept as a typed error.
                    return Err(Error::Separation {
                        kind: if f.complete {
                            "complete"
                        } else {
                            "quasi-complete"
                        },
                        drivers: names.get(1..).map(|n| n.join(", ")).unwrap_or_default(),
                        rows: f.rows,
                    });
                }
                if !fit.converged {
                    return Err(not_converged(
                        &format!("the subset {}", names[1..].join(", ")),
                        settings.max_iter,
                    ));
                }
                Ok((mask, 1.0 - fit.log_likelihood / ll0, fit.beta))
            })
            .collect::<Result<_>>()?;
        for (mask, v, beta) in fits {
            r2[mask] = v;
            betas[mask] = beta;
        }
    }
    let phi = shapley_from_subsets(&r2)?;
    let total = full.pseudo_r2;
    Ok(PseudoR2Shapley {
        outcome: data.outcome.clone(),
        drivers: data
            .names
            .iter()
            .zip(&phi)
            .map(|(name, &value)| DriverShare {
                name: name.clone(),
                value,
                share: if total > 0.0 { value / total } else { 0.0 },
            })
            .collect(),
        pseudo_r2: total,
        log_likelihood: full.log_likelihood,
        null_log_likelihood: ll0,
        subsets: r2,
        n: full.n,
        n_events: full.n_events,
        n_omitted: full.n_omitted,
    })
}

fn not_converged(what: &str, max_iter: usize) -> Error {
    Error::NoConvergence {
        method: "logistic regression (IRLS)",
        message: format!("{what} did not converge in {max_iter} iterations; raise max_iter or rescale the drivers"),
    }
}
