//! LMG: the Shapley decomposition of R² (Lindeman, Merenda & Gold 1980; Grömping 2006).
//!
//! # Formula
//!
//! With `v(S)` the R² explained by the units in `S` (beyond the `always` covariates) and `g` units,
//!
//! ```text
//! LMG_j = Σ_{S ⊆ U∖{j}} |S|! (g − |S| − 1)! / g! · [v(S ∪ {j}) − v(S)]
//!       = (1/g) Σ_{s=0}^{g−1} C_j(s),     C_j(s) = mean over |S| = s, j ∉ S of [v(S ∪ {j}) − v(S)]
//! ```
//!
//! i.e. the increment of `j` averaged over all g! orders of entry. The `C_j(s)` are Budescu's conditional
//! dominance statistics, so LMG is also the general dominance weight. The shares sum to `v(U)`.
//!
//! Exact LMG enumerates the 2^g subsets (see [`subsets`](super::subsets)) without storing them. Above
//! [`MAX_EXACT_UNITS`](super::MAX_EXACT_UNITS) units, or on request, LMG is estimated by averaging the increments over random
//! orders of entry; each order costs one sequence of eliminations and its increments sum to `v(U)`
//! exactly, so the estimate sums to R² too. The standard error is the standard deviation of a unit's
//! increments across orders divided by √(orders).

use std::str::FromStr;

use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::problem::Problem;
use super::subsets::eliminate;
use crate::error::{Error, Result};
use crate::resample::{stream, Family};

/// How a Shapley decomposition is computed: of R² (LMG, [`ImportanceOptions::lmg_method`]) or of a
/// logistic pseudo-R² ([`ShapleyOptions::method`](crate::logistic::ShapleyOptions::method)).
///
/// The option strings are `"auto"`, `"exact"` and `"sampled"` (`FromStr`, serde and Python).
///
/// ```
/// use cx_metrics::ShapleyMethod;
/// assert_eq!("sampled".parse::<ShapleyMethod>().unwrap(), ShapleyMethod::Sampled);
/// ```
///
/// [`ImportanceOptions::lmg_method`]: super::ImportanceOptions::lmg_method
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShapleyMethod {
    /// Exact when the caller's limit allows ([`MAX_EXACT_UNITS`](super::MAX_EXACT_UNITS) units for
    /// LMG, [`MAX_EXACT_DRIVERS`](crate::logistic::MAX_EXACT_DRIVERS) drivers for the logistic
    /// models), sampled above (the default).
    #[default]
    Auto,
    /// Exact over all subsets; an error above the caller's limit.
    Exact,
    /// Estimated from random orders of entry (permutation sampling), with standard errors.
    Sampled,
}

/// The name this enum had for LMG; the same type as [`ShapleyMethod`].
pub type LmgMethod = ShapleyMethod;

impl FromStr for ShapleyMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "exact" => Ok(Self::Exact),
            "sampled" => Ok(Self::Sampled),
            other => Err(Error::invalid(
                "method",
                format!("{other:?}; use \"auto\", \"exact\" or \"sampled\""),
            )),
        }
    }
}

/// Shapley values of a set function given by its table of values, `values[mask]` for every bitmask
/// (bit `i` = player `i`), e.g. a table of subset R² values.
///
/// `φ_j = (1/p) Σ_{s=0}^{p−1} mean_{|S|=s, j∉S} [values[S ∪ j] − values[S]]`: the average over sizes of
/// the average increment (Shapley 1953; for R² this is LMG, Lindeman, Merenda & Gold 1980). The values
/// sum to `values[full] − values[0]`.
///
/// # Errors
/// [`Error::InvalidArgument`] if the length is not a power of two ≥ 2 (at most 2^30), and
/// [`Error::NonFinite`] naming the first non-finite entry.
///
/// ```
/// // A = bit 0, B = bit 1, C = bit 2.
/// let r2 = [0.0, 0.4, 0.2, 0.4, 0.1, 0.5, 0.3, 0.5];
/// let phi = cx_metrics::importance::shapley_from_subsets(&r2).unwrap();
/// assert!((phi[0] - 0.3).abs() < 1e-15 && (phi[1] - 0.1).abs() < 1e-15);
/// ```
pub fn shapley_from_subsets(values: &[f64]) -> Result<Vec<f64>> {
    let by_size = conditional_by_size_from_table(values)?;
    Ok(by_size
        .iter()
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect())
}

/// Budescu's conditional dominance statistics from a table of values by bitmask: `[player][s]` is the
/// average increment `values[S ∪ j] − values[S]` over the subsets `S` of size `s` of the other players.
pub(crate) fn conditional_by_size_from_table(values: &[f64]) -> Result<Vec<Vec<f64>>> {
    let len = values.len();
    if len < 2 || !len.is_power_of_two() || len > 1 << 30 {
        return Err(Error::invalid(
            "values",
            format!("a table by bitmask needs 2^p entries (1 ≤ p ≤ 30), got {len}"),
        ));
    }
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite { index, value });
    }
    let p = len.trailing_zeros() as usize;
    let mut sums = vec![vec![0.0; p]; p];
    for (mask, &v) in values.iter().enumerate() {
        let s = mask.count_ones() as usize;
        for (j, row) in sums.iter_mut().enumerate() {
            let bit = 1usize << j;
            if mask & bit == 0 {
                if let (Some(with), Some(slot)) = (values.get(mask | bit), row.get_mut(s)) {
                    *slot += with - v;
                }
            }
        }
    }
    for row in &mut sums {
        for (s, x) in row.iter_mut().enumerate() {
            *x /= super::subsets::binomial(p - 1, s);
        }
    }
    Ok(sums)
}

/// LMG estimated from `permutations` random orders of entry, seeded; returns (estimate, standard error).
pub(crate) fn lmg_sampled(
    problem: &Problem,
    permutations: usize,
    seed: u64,
) -> Result<(Vec<f64>, Vec<f64>)> {
    const BLOCK: usize = 64;
    if permutations < 2 {
        return Err(Error::invalid(
            "permutations",
            format!(
                "need at least 2 orders of entry to estimate a standard error, got {permutations}"
            ),
        ));
    }
    let g = problem.n_units();
    let n_blocks = permutations.div_ceil(BLOCK);
    let blocks: Vec<Result<(Vec<f64>, Vec<f64>)>> = (0..n_blocks)
        .into_par_iter()
        .map(|b| {
            let mut rng = stream(seed, Family::Expanded, b as u64);
            let count = BLOCK.min(permutations - b * BLOCK);
            let mut sum = vec![0.0; g];
            let mut sum_sq = vec![0.0; g];
            let mut order: Vec<usize> = (0..g).collect();
            let mut inc = vec![0.0; g];
            let (mut mat, mut tmp) = (Vec::new(), Vec::new());
            for _ in 0..count {
                order.shuffle(&mut rng);
                one_order(problem, &order, &mut inc, &mut mat, &mut tmp)?;
                for ((s, q), &x) in sum.iter_mut().zip(sum_sq.iter_mut()).zip(&inc) {
                    *s += x;
                    *q += x * x;
                }
            }
            Ok((sum, sum_sq))
        })
        .collect();
    sampled_mean_and_se(blocks, g, permutations)
}

/// Combine per-block (Σ increment, Σ increment²) of a permutation-sampling Shapley estimate, in block
/// order, into the mean increment per player and its standard error `sd / √permutations`.
/// Shared by every sampled Shapley decomposition (LMG here, pseudo-R² in `logistic`).
pub(crate) fn sampled_mean_and_se(
    blocks: Vec<Result<(Vec<f64>, Vec<f64>)>>,
    players: usize,
    permutations: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut sum = vec![0.0; players];
    let mut sum_sq = vec![0.0; players];
    for r in blocks {
        let (s, q) = r?;
        for (a, b) in sum.iter_mut().zip(&s) {
            *a += b;
        }
        for (a, b) in sum_sq.iter_mut().zip(&q) {
            *a += b;
        }
    }
    let m = permutations as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / m).collect();
    let se = sum_sq
        .iter()
        .zip(&mean)
        .map(|(q, mu)| ((q - m * mu * mu).max(0.0) / (m - 1.0) / m).sqrt())
        .collect();
    Ok((mean, se))
}

/// Increments of each unit when the units enter in `order`.
fn one_order(
    problem: &Problem,
    order: &[usize],
    inc: &mut [f64],
    mat: &mut Vec<f64>,
    tmp: &mut Vec<f64>,
) -> Result<()> {
    let y = problem.n_drivers();
    let mut rows: Vec<usize> = order
        .iter()
        .flat_map(|&u| problem.units[u].clone())
        .collect();
    rows.push(y);
    let mut d = rows.len();
    mat.clear();
    for &i in &rows {
        for &j in &rows {
            mat.push(problem.cov[(i, j)]);
        }
    }
    for &u in order {
        let mut x = 0.0;
        for _ in problem.units[u].clone() {
            x += eliminate(mat, d, 0, tmp).ok_or_else(|| Error::Collinear {
                columns: problem.unit_names[u].clone(),
            })?;
            d -= 1;
            std::mem::swap(mat, tmp);
        }
        if let Some(slot) = inc.get_mut(u) {
            *slot = x;
        }
    }
    Ok(())
}
