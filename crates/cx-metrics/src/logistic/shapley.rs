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
//! Above [`MAX_EXACT_DRIVERS`] drivers, or on request, φⱼ is estimated by permutation sampling: for each of
//! `permutations` random orders of entry (seeded ChaCha8, one stream per block of orders, so the estimate
//! does not depend on the number of threads) the drivers enter one at a time and each is credited with the
//! pseudo-R² it adds. The increments of one order sum to the full model's pseudo-R², so the estimates do
//! too; the standard error of φⱼ is the standard deviation of its increments over orders divided by
//! √permutations (Castro, Gómez & Tejada 2009).
//!
//! A subset of a model without separation is never separated (a separating direction of the subset would
//! separate the full model too), so separation is checked once, on the full model.

use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{self, Data};
use super::{
    design_names, fit_data, irls, null_log_likelihood, null_start, LogisticOptions,
    SeparationPolicy,
};
use crate::error::{Error, Result};
use crate::importance::shapley_from_subsets;
use crate::resample::{stream, Family};

/// The most drivers for which the exact decomposition (2^p logistic fits) is computed.
pub const MAX_EXACT_DRIVERS: usize = 12;

/// How the Shapley values are computed: the one enum of the crate for exact or sampled Shapley
/// values, shared with LMG.
pub use crate::importance::ShapleyMethod;

/// Options of the pseudo-R² decomposition.
///
/// ```
/// let o = cx_metrics::logistic::ShapleyOptions::default();
/// assert_eq!((o.permutations, o.seed), (1000, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShapleyOptions {
    /// Exact, sampled, or exact when possible (default).
    pub method: ShapleyMethod,
    /// Random orders of entry when sampling (at least 2). Default 1000.
    pub permutations: usize,
    /// Seed of the orders when sampling. Default 0.
    pub seed: u64,
}

impl Default for ShapleyOptions {
    fn default() -> Self {
        Self {
            method: ShapleyMethod::Auto,
            permutations: 1000,
            seed: 0,
        }
    }
}

/// One driver's part of the pseudo-R².
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverShare {
    /// The driver's name.
    pub name: String,
    /// Its Shapley value φⱼ, in pseudo-R² units.
    pub value: f64,
    /// `φⱼ / R²`, its fraction of the full model's pseudo-R² (0 when R² = 0).
    pub share: f64,
    /// Monte Carlo standard error of `value` when sampled; 0 when exact.
    pub std_error: f64,
}

/// The Shapley decomposition of McFadden's pseudo-R²: plain data.
#[non_exhaustive]
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
    /// [`ShapleyMethod::Exact`] or [`ShapleyMethod::Sampled`]: how the values were computed.
    pub method: ShapleyMethod,
    /// Orders of entry sampled (0 when exact).
    pub permutations: usize,
    /// When exact, the pseudo-R² of every subset by bitmask (bit j = driver j), 2^p entries, entry 0 = 0;
    /// empty when sampled.
    pub subsets: Vec<f64>,
    /// Complete rows (those of weight 0 included).
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
/// the policy); [`Error::InvalidArgument`] without drivers, for [`ShapleyMethod::Exact`] with more than
/// [`MAX_EXACT_DRIVERS`] drivers, or for fewer than 2 permutations when sampling;
/// [`Error::NoConvergence`] if a fit does not converge within `max_iter`.
///
/// ```
/// use cx_metrics::logistic::{pseudo_r2_shapley, LogisticOptions, ShapleyOptions};
/// let y = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 2.5, 4.5, 3.5, 3.0];
/// let b = [2.0, 1.0, 2.0, 3.0, 1.0, 3.0, 1.0, 2.0, 1.5, 2.5];
/// let (lo, so) = (LogisticOptions::default(), ShapleyOptions::default());
/// let s = pseudo_r2_shapley(&y, &[("a", &a), ("b", &b)], None, &lo, &so).unwrap();
/// let total: f64 = s.drivers.iter().map(|d| d.value).sum();
/// assert!((total - s.pseudo_r2).abs() < 1e-12);
/// ```
pub fn pseudo_r2_shapley(
    outcome: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &LogisticOptions,
    shapley: &ShapleyOptions,
) -> Result<PseudoR2Shapley> {
    let settings = options.settings()?;
    let exact = check_method(drivers.len(), shapley)?;
    let y = data::binary_outcome(outcome)?;
    let data = data::prepare("outcome", &y, drivers, weights, options.nan_policy)?;
    decompose(&data, options, &settings, exact, shapley)
}

/// Validate the driver count and options; whether the decomposition is exact.
pub(crate) fn check_method(p: usize, shapley: &ShapleyOptions) -> Result<bool> {
    if p == 0 {
        return Err(Error::invalid(
            "drivers",
            "none given; the decomposition needs at least one driver",
        ));
    }
    let exact = match shapley.method {
        ShapleyMethod::Exact if p > MAX_EXACT_DRIVERS => {
            return Err(Error::invalid(
                "drivers",
                format!(
                    "{p} drivers, but the exact Shapley decomposition of the pseudo-R² fits all 2^p \
                     subsets and is limited to {MAX_EXACT_DRIVERS} drivers; use method=\"sampled\", or \
                     group or preselect drivers"
                ),
            ))
        }
        ShapleyMethod::Exact => true,
        ShapleyMethod::Sampled => false,
        ShapleyMethod::Auto => p <= MAX_EXACT_DRIVERS,
    };
    if !exact && shapley.permutations < 2 {
        return Err(Error::invalid(
            "permutations",
            format!(
                "{}; at least 2 orders of entry are needed for a standard error",
                shapley.permutations
            ),
        ));
    }
    Ok(exact)
}

pub(crate) fn decompose(
    data: &Data,
    options: &LogisticOptions,
    settings: &irls::Settings,
    exact: bool,
    shapley: &ShapleyOptions,
) -> Result<PseudoR2Shapley> {
    let strict = LogisticOptions {
        separation: SeparationPolicy::Raise,
        ..*options
    };
    let full = fit_data(data, &strict, settings)?;
    if !full.converged {
        return Err(not_converged("the full model", settings.max_iter));
    }
    let ll0 = null_log_likelihood(data);
    let (phi, se, subsets) = if exact {
        let table = subset_table(data, settings, full.pseudo_r2, ll0)?;
        let phi = shapley_from_subsets(&table)?;
        let se = vec![0.0; phi.len()];
        (phi, se, table)
    } else {
        let (phi, se) = sampled(data, settings, full.pseudo_r2, ll0, shapley)?;
        (phi, se, Vec::new())
    };
    let total = full.pseudo_r2;
    Ok(PseudoR2Shapley {
        outcome: data.outcome.clone(),
        drivers: data
            .names
            .iter()
            .zip(phi.iter().zip(&se))
            .map(|(name, (&value, &std_error))| DriverShare {
                name: name.clone(),
                value,
                share: if total > 0.0 { value / total } else { 0.0 },
                std_error,
            })
            .collect(),
        pseudo_r2: total,
        log_likelihood: full.log_likelihood,
        null_log_likelihood: ll0,
        method: if exact {
            ShapleyMethod::Exact
        } else {
            ShapleyMethod::Sampled
        },
        permutations: if exact { 0 } else { shapley.permutations },
        subsets,
        n: full.n,
        n_events: full.n_events,
        n_omitted: full.n_omitted,
    })
}

/// Fit the model with the drivers `idx` (in that order) from `start`; its pseudo-R² and coefficients.
fn fit_subset(
    data: &Data,
    idx: &[usize],
    start: &[f64],
    settings: &irls::Settings,
    ll0: f64,
) -> Result<(f64, Vec<f64>)> {
    let names = design_names(data, idx);
    let fit = irls::fit(&data.design(idx), &data.y, &data.w, start, settings, &names)?;
    let drivers = names.get(1..).map(|n| n.join(", ")).unwrap_or_default();
    if let Some(f) = fit.separation {
        // Unreachable when the full model is not separated; kept as a typed error.
        return Err(Error::Separation {
            kind: if f.complete {
                "complete"
            } else {
                "quasi-complete"
            },
            drivers,
            rows: f.rows,
        });
    }
    if !fit.converged {
        return Err(not_converged(
            &format!("the model with {drivers}"),
            settings.max_iter,
        ));
    }
    Ok((1.0 - fit.log_likelihood / ll0, fit.beta))
}

/// Pseudo-R² of every subset by bitmask; each fit warm-starts from the subset without its highest driver.
fn subset_table(
    data: &Data,
    settings: &irls::Settings,
    full_r2: f64,
    ll0: f64,
) -> Result<Vec<f64>> {
    let p = data.names.len();
    let len = 1usize << p;
    let full_mask = len - 1;
    let mut r2 = vec![0.0; len];
    let mut betas: Vec<Vec<f64>> = vec![Vec::new(); len];
    betas[0] = null_start(data, 1);
    r2[full_mask] = full_r2;
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
                let (v, beta) = fit_subset(data, &idx, &start, settings, ll0)?;
                Ok((mask, v, beta))
            })
            .collect::<Result<_>>()?;
        for (mask, v, beta) in fits {
            r2[mask] = v;
            betas[mask] = beta;
        }
    }
    Ok(r2)
}

/// Permutation-sampling estimate of the Shapley values and their standard errors.
fn sampled(
    data: &Data,
    settings: &irls::Settings,
    full_r2: f64,
    ll0: f64,
    shapley: &ShapleyOptions,
) -> Result<(Vec<f64>, Vec<f64>)> {
    const BLOCK: usize = 16;
    let p = data.names.len();
    let m = shapley.permutations;
    let blocks: Vec<Result<(Vec<f64>, Vec<f64>)>> = (0..m.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut rng = stream(shapley.seed, Family::Expanded, b as u64);
            let mut sum = vec![0.0; p];
            let mut sum_sq = vec![0.0; p];
            let mut order: Vec<usize> = (0..p).collect();
            for _ in 0..BLOCK.min(m - b * BLOCK) {
                order.shuffle(&mut rng);
                let mut beta = null_start(data, 1);
                let mut prev = 0.0;
                for (entered, &j) in order.iter().enumerate() {
                    let v = if entered + 1 == p {
                        full_r2
                    } else {
                        beta.push(0.0);
                        let (v, b) = fit_subset(data, &order[..=entered], &beta, settings, ll0)?;
                        beta = b;
                        v
                    };
                    let inc = v - prev;
                    prev = v;
                    if let (Some(s), Some(q)) = (sum.get_mut(j), sum_sq.get_mut(j)) {
                        *s += inc;
                        *q += inc * inc;
                    }
                }
            }
            Ok((sum, sum_sq))
        })
        .collect();
    crate::importance::lmg::sampled_mean_and_se(blocks, p, m)
}

fn not_converged(what: &str, max_iter: usize) -> Error {
    Error::NoConvergence {
        method: "logistic regression (IRLS)",
        message: format!(
            "{what} did not converge in {max_iter} iterations; raise max_iter or rescale the drivers"
        ),
    }
}
