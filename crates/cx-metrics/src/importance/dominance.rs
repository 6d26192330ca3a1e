//! Dominance analysis (Budescu 1993; Azen & Budescu 2003).
//!
//! # Definitions
//!
//! With `v(S)` the R² of subset `S` and `g` units, for units `i ≠ j`:
//!
//! - **complete**: `i` dominates `j` if `v(S ∪ i) ≥ v(S ∪ j)` for every `S ⊆ U∖{i, j}`, strictly for at
//!   least one;
//! - **conditional**: `i` dominates `j` if `C_i(s) ≥ C_j(s)` for every size `s = 0..g−1`, strictly for
//!   at least one, where `C_i(s)` is the average increment of `i` over the subsets of size `s` of the
//!   other units;
//! - **general**: `i` dominates `j` if `Ḡ_i > Ḡ_j`, where `Ḡ_i = (1/g) Σ_s C_i(s)` is the general
//!   dominance weight, equal to LMG.
//!
//! Complete implies conditional implies general. Each pairwise matrix `D` holds `D[i][j] = 1` if `i`
//! dominates `j`, `0` if `j` dominates `i`, and `0.5` if neither does (including the diagonal).
//! Differences within [`DOMINANCE_TOLERANCE`] count as ties.

use serde::{Deserialize, Serialize};

use super::lmg::conditional_by_size_from_table;
use crate::error::{Error, Result};

/// Absolute difference in R² below which two contributions are treated as equal when deciding dominance.
pub const DOMINANCE_TOLERANCE: f64 = 1e-12;

/// The dominance analysis of a set of units.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dominance {
    /// The units, in the order of every row and column below.
    pub names: Vec<String>,
    /// `conditional_by_size[i][s]`: average increment `C_i(s)` of unit `i` over the subsets of size `s`
    /// of the other units (`s = 0` is its R² alone; `s = g − 1` is its `last` contribution).
    pub conditional_by_size: Vec<Vec<f64>>,
    /// General dominance weights `Ḡ_i = mean_s C_i(s)` (= LMG); they sum to the decomposed R².
    pub general: Vec<f64>,
    /// Pairwise complete dominance: 1 = row dominates column, 0 = column dominates row, 0.5 = neither.
    pub complete: Vec<Vec<f64>>,
    /// Pairwise conditional dominance, same coding.
    pub conditional: Vec<Vec<f64>>,
    /// Pairwise general dominance, same coding.
    pub general_pairwise: Vec<Vec<f64>>,
}

/// Dominance analysis from a table of subset R² by bitmask (`values[mask]`, bit `i` = unit `i`).
///
/// # Errors
/// As [`shapley_from_subsets`](super::shapley_from_subsets), and [`Error::LengthMismatch`] if there is
/// not one name per bit.
///
/// ```
/// use cx_metrics::importance::dominance_from_subsets;
/// let r2 = [0.0, 0.4, 0.2, 0.4, 0.1, 0.5, 0.3, 0.5];
/// let d = dominance_from_subsets(&r2, &["a", "b", "c"]).unwrap();
/// assert_eq!(d.complete[0][1], 1.0); // a completely dominates b
/// ```
pub fn dominance_from_subsets<S: AsRef<str>>(values: &[f64], names: &[S]) -> Result<Dominance> {
    let by_size = conditional_by_size_from_table(values)?;
    let g = by_size.len();
    if names.len() != g {
        return Err(Error::LengthMismatch {
            what: "bits of the subset table and names",
            left: g,
            right: names.len(),
        });
    }
    let general: Vec<f64> = by_size
        .iter()
        .map(|c| c.iter().sum::<f64>() / g as f64)
        .collect();
    let pairwise = |decide: &dyn Fn(usize, usize) -> f64| -> Vec<Vec<f64>> {
        (0..g)
            .map(|i| {
                (0..g)
                    .map(|j| if i == j { 0.5 } else { decide(i, j) })
                    .collect()
            })
            .collect()
    };
    let complete = pairwise(&|i, j| complete_pair(values, g, i, j));
    let conditional =
        pairwise(&|i, j| verdict(by_size[i].iter().zip(&by_size[j]).map(|(a, b)| a - b)));
    let general_pairwise = pairwise(&|i, j| verdict(std::iter::once(general[i] - general[j])));
    Ok(Dominance {
        names: names.iter().map(|s| s.as_ref().to_owned()).collect(),
        conditional_by_size: by_size,
        general,
        complete,
        conditional,
        general_pairwise,
    })
}

/// 1 if every difference is ≥ −tol and one is > tol; 0 for the mirror; 0.5 otherwise.
fn verdict(diffs: impl Iterator<Item = f64>) -> f64 {
    let (mut pos, mut neg) = (false, false);
    for d in diffs {
        pos |= d > DOMINANCE_TOLERANCE;
        neg |= d < -DOMINANCE_TOLERANCE;
        if pos && neg {
            return 0.5;
        }
    }
    match (pos, neg) {
        (true, false) => 1.0,
        (false, true) => 0.0,
        _ => 0.5,
    }
}

/// Complete dominance of `i` over `j`: compare `v(S ∪ i)` with `v(S ∪ j)` over all `S` without both.
fn complete_pair(values: &[f64], g: usize, i: usize, j: usize) -> f64 {
    let (lo, hi) = if i < j { (i, j) } else { (j, i) };
    let (bi, bj) = (1usize << i, 1usize << j);
    let diffs = (0..1usize << (g - 2)).map(|k| {
        // Insert zero bits at `lo` and `hi` into k.
        let low = k & ((1 << lo) - 1);
        let k = (k >> lo) << (lo + 1) | low;
        let low = k & ((1 << hi) - 1);
        let s = (k >> hi) << (hi + 1) | low;
        let a = values.get(s | bi).copied().unwrap_or(0.0);
        let b = values.get(s | bj).copied().unwrap_or(0.0);
        a - b
    });
    verdict(diffs)
}
