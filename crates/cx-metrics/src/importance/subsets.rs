//! R² of every subset of units, by one depth-first walk that sweeps one unit at a time.
//!
//! # Method
//!
//! A node of the walk is a subset `S` whose largest unit is `k`. It holds the covariance of the units
//! after `k` and the outcome *conditional on S* (the Schur complement left by sweeping `S` in). A child
//! adds a unit `c > k` by one Gaussian elimination step per driver of `c`:
//!
//! ```text
//! M'[a][b] = M[a][b] − M[a][c] · M[c][b] / M[c][c]        (a, b after c, outcome included)
//! R²(S ∪ c) = R²(S) + M[c][y]² / M[c][c]
//! ```
//!
//! so R² grows by non-negative increments with no cancellation, and the child's matrix only spans the
//! units after `c`. Half of all subsets end in the last unit and cost O(1); the average cost per subset
//! is a small constant instead of the O(p³) of a fresh solve (Grömping 2006 lists the subset fits as the
//! bottleneck of LMG).
//!
//! For the Shapley and dominance sums the walk also returns, per node, the sums of R² over its subtree by
//! subset size: every subset containing unit `c` lies in the subtree of exactly one node whose last unit
//! is `c`, which gives `Σ_{S ∋ c, |S| = s} R²(S)` without visiting the members of each subset.
//!
//! The subsets are split into 2^m blocks by the membership of the last `m` units; blocks run in
//! parallel (rayon) and their sums are added in block order, so results do not depend on the thread
//! count.

use std::ops::Range;

use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::problem::Problem;
use crate::error::{Error, Result};

/// Largest number of units for which every subset is enumerated (2^25 subsets; a stored table of them
/// takes 256 MiB).
pub const MAX_EXACT_UNITS: usize = 25;

/// R² of the model with every subset of the ranked units (plus the `always` covariates), by bitmask.
///
/// `r_squared[mask]` is the R² of the outcome on the `always` covariates and the units whose bits are
/// set in `mask` (bit `i` = unit `i` of [`names`](Self::names)); `r_squared[0]` is the R² of the
/// `always` covariates alone (0 without them).
///
/// ```
/// use cx_metrics::importance::{relative_importance, ImportanceOptions};
/// use nalgebra::DMatrix;
/// // Two uncorrelated drivers with r = 0.6 and 0.3 to the outcome.
/// let r = DMatrix::from_row_slice(3, 3, &[1.0, 0.0, 0.6, 0.0, 1.0, 0.3, 0.6, 0.3, 1.0]);
/// let mut opts = ImportanceOptions::default();
/// opts.all_subsets = true;
/// let res = relative_importance(&r, &["a", "b"], &opts).unwrap();
/// let table = res.subsets.unwrap();
/// assert!((table.get(0b11).unwrap() - 0.45).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetRSquared {
    /// The units, in bit order.
    pub names: Vec<String>,
    /// R² by bitmask, length 2^units.
    pub r_squared: Vec<f64>,
}

impl SubsetRSquared {
    /// R² of the subset `mask`, or `None` if `mask` has a bit beyond the last unit.
    pub fn get(&self, mask: usize) -> Option<f64> {
        self.r_squared.get(mask).copied()
    }

    /// Number of units (bits).
    pub fn n_units(&self) -> usize {
        self.names.len()
    }
}

/// Sums of the explained variance `v(S) = R²(S ∪ always) − R²(always)` over subsets, the sufficient
/// statistics of LMG and of conditional dominance.
#[derive(Debug, Clone)]
pub(crate) struct SubsetSums {
    /// Number of units `g`.
    pub g: usize,
    /// `by_unit[s * g + u] = Σ_{S ∋ u, |S| = s} v(S)`, for `s` in `0..=g`.
    pub by_unit: Vec<f64>,
    /// `total[s] = Σ_{|S| = s} v(S)`.
    pub total: Vec<f64>,
}

impl SubsetSums {
    fn new(g: usize) -> Self {
        Self {
            g,
            by_unit: vec![0.0; (g + 1) * g],
            total: vec![0.0; g + 1],
        }
    }

    fn add(&mut self, other: &Self) {
        for (a, b) in self.by_unit.iter_mut().zip(&other.by_unit) {
            *a += b;
        }
        for (a, b) in self.total.iter_mut().zip(&other.total) {
            *a += b;
        }
    }

    /// Average increment of each unit over the subsets of each size of the other units:
    /// `C_u(s) = [Σ_{S ∌ u, |S|=s} v(S ∪ u) − Σ_{S ∌ u, |S|=s} v(S)] / C(g−1, s)`, as `[unit][s]`.
    pub fn conditional_by_size(&self) -> Vec<Vec<f64>> {
        let g = self.g;
        (0..g)
            .map(|u| {
                (0..g)
                    .map(|s| {
                        let with = self.by_unit[(s + 1) * g + u];
                        let without = self.total[s] - self.by_unit[s * g + u];
                        (with - without) / binomial(g - 1, s)
                    })
                    .collect()
            })
            .collect()
    }
}

/// `C(n, k)` as a float (exact for the sizes used here, n ≤ 63).
pub(crate) fn binomial(n: usize, k: usize) -> f64 {
    let k = k.min(n - k.min(n));
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// Sweep local row `i` of the `d×d` row-major matrix `src` into `dst`, which receives the Schur
/// complement over rows `i+1..d` (the outcome is the last row). Returns the increase in explained
/// outcome variance, or `None` if the pivot is not positive (a singular matrix).
#[inline]
pub(crate) fn eliminate(src: &[f64], d: usize, i: usize, dst: &mut Vec<f64>) -> Option<f64> {
    let nd = d - 1 - i;
    let row_i = src.get(i * d..(i + 1) * d)?;
    let pivot = *row_i.get(i)?;
    if pivot.is_nan() || pivot <= 0.0 {
        return None;
    }
    let tail_i = row_i.get(i + 1..)?;
    dst.clear();
    for a in 0..nd {
        let row_a = src.get((i + 1 + a) * d..(i + 2 + a) * d)?;
        let f = row_a.get(i)? / pivot;
        dst.extend(
            row_a
                .get(i + 1..)?
                .iter()
                .zip(tail_i)
                .map(|(&x, &z)| x - f * z),
        );
    }
    let ry = *row_i.get(d - 1)?;
    Some(ry * ry / pivot)
}

/// Scratch space of one depth of the walk.
#[derive(Default)]
struct Level {
    mat: Vec<f64>,
    tmp: Vec<f64>,
    sub: Vec<f64>,
}

/// The walk over the subsets of the first `free` units, below a fixed set of the other units.
struct Walk<'a> {
    /// Rows of each free unit in the block's working matrix (the outcome is the last row).
    units: &'a [Range<usize>],
    sums: SubsetSums,
    /// `R²(always)`, added to `v` when storing R².
    r2_always: f64,
    table: Option<&'a mut [f64]>,
    singular: bool,
}

impl Walk<'_> {
    /// Record a chain of subsets below the current node (of `size` units, bitmask `mask`) that the walk
    /// resolved inline: `chain[k] = (unit, v)` adds `unit` to the previous subset of the chain.
    fn record(&mut self, sub: &mut [f64], size: usize, mask: usize, chain: &[(usize, f64)]) {
        let g = self.sums.g;
        let mut m = mask;
        for (k, &(unit, v)) in chain.iter().enumerate() {
            m |= 1 << unit;
            if let Some(slot) = self.table.as_deref_mut().and_then(|t| t.get_mut(m)) {
                *slot = self.r2_always + v;
            }
            // Every unit of the chain up to this one is in the subset.
            for &(member, _) in chain.get(..=k).unwrap_or_default() {
                if let Some(slot) = self.sums.by_unit.get_mut((size + 1 + k) * g + member) {
                    *slot += v;
                }
            }
            if let Some(slot) = sub.get_mut(1 + k) {
                *slot += v;
            }
        }
    }

    /// Visit the node whose matrix is `levels[0].mat` (dimension `d`, rows from unit `first` on),
    /// with `size` units and explained variance `v`; leaves in `levels[0].sub` the subtree's sums of `v`
    /// by size offset.
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &mut self,
        levels: &mut [Level],
        d: usize,
        first: usize,
        size: usize,
        v: f64,
        mask: usize,
    ) {
        let Some((cur, deeper)) = levels.split_first_mut() else {
            return;
        };
        let n_free = self.units.len();
        cur.sub.clear();
        cur.sub.resize(n_free - first + 1, 0.0);
        cur.sub[0] = v;
        if let Some(t) = self.table.as_deref_mut() {
            if let Some(slot) = t.get_mut(mask) {
                *slot = self.r2_always + v;
            }
        }
        let base = self.units.get(first).map_or(0, |r| r.start);
        for c in first..n_free {
            let Some(child) = deeper.first_mut() else {
                return;
            };
            let range = self.units[c].clone();
            let i = range.start - base;
            let y = d - 1;
            let at = |a: usize, b: usize| cur.mat.get(a * d + b).copied().unwrap_or(f64::NAN);
            let positive = |x: f64| x > 0.0;
            if c + 1 == n_free && range.len() == 1 {
                // A leaf of one driver: only its increment is needed, not the matrix it leaves.
                let pivot = at(i, i);
                if !positive(pivot) {
                    self.singular = true;
                    return;
                }
                let leaf = v + at(i, y).powi(2) / pivot;
                self.record(&mut cur.sub, size, mask, &[(c, leaf)]);
                continue;
            }
            if c + 2 == n_free && range.len() == 1 && self.units[c + 1].len() == 1 {
                // One single-driver unit left after this one: both subsets from a 2×2 elimination.
                let (l, pivot) = (i + 1, at(i, i));
                let f = at(i, l) / pivot;
                let rest = at(l, l) - f * at(i, l);
                if !positive(pivot) || !positive(rest) {
                    self.singular = true;
                    return;
                }
                let with_c = v + at(i, y).powi(2) / pivot;
                let both = with_c + (at(l, y) - f * at(i, y)).powi(2) / rest;
                self.record(&mut cur.sub, size, mask, &[(c, with_c), (c + 1, both)]);
                continue;
            }
            // First driver of the unit: rows of `cur.mat` are offset by `base`.
            let mut inc = 0.0;
            let mut nd = d;
            let mut ok = match eliminate(&cur.mat, nd, range.start - base, &mut child.mat) {
                Some(x) => {
                    inc += x;
                    nd = d - 1 - (range.start - base);
                    true
                }
                None => false,
            };
            // Further drivers of a group are now the first row.
            for _ in range.start + 1..range.end {
                if !ok {
                    break;
                }
                match eliminate(&child.mat, nd, 0, &mut cur.tmp) {
                    Some(x) => {
                        inc += x;
                        nd -= 1;
                        std::mem::swap(&mut child.mat, &mut cur.tmp);
                    }
                    None => ok = false,
                }
            }
            if !ok {
                self.singular = true;
                return;
            }
            self.visit(deeper, nd, c + 1, size + 1, v + inc, mask | (1 << c));
            let Some(child) = deeper.first() else {
                return;
            };
            let g = self.sums.g;
            for (t, &x) in child.sub.iter().enumerate() {
                if let Some(slot) = self.sums.by_unit.get_mut((size + 1 + t) * g + c) {
                    *slot += x;
                }
                if let Some(slot) = cur.sub.get_mut(1 + t) {
                    *slot += x;
                }
            }
        }
    }
}

/// Enumerate all subsets of the problem's units: the sums for LMG and dominance, and (if `store`) the
/// R² table by bitmask.
pub(crate) fn enumerate(problem: &Problem, store: bool) -> Result<(SubsetSums, Option<Vec<f64>>)> {
    let g = problem.n_units();
    if g > MAX_EXACT_UNITS {
        return Err(Error::invalid(
            "lmg_method",
            format!(
                "exact enumeration needs at most {MAX_EXACT_UNITS} units (drivers or groups), got {g}; \
                 use lmg_method=\"sampled\""
            ),
        ));
    }
    // Split by the membership of the last `m` units.
    let m = g.saturating_sub(8).min(6);
    let free = g - m;
    let block_len = 1usize << free;
    let mut table = if store {
        Some(vec![0.0; 1usize << g])
    } else {
        None
    };
    let run = |block: usize, chunk: Option<&mut [f64]>| block_sums(problem, free, block, chunk);
    let results: Vec<Result<SubsetSums>> = match table.as_mut() {
        Some(t) => t
            .par_chunks_mut(block_len)
            .enumerate()
            .map(|(b, chunk)| run(b, Some(chunk)))
            .collect(),
        None if m == 0 => vec![run(0, None)],
        None => (0..1usize << m)
            .into_par_iter()
            .map(|b| run(b, None))
            .collect(),
    };
    let mut sums = SubsetSums::new(g);
    for r in results {
        sums.add(&r?);
    }
    Ok((sums, table))
}

/// The subsets whose last `g − free` units are the set bits of `block` (shifted), and any free units.
fn block_sums(
    problem: &Problem,
    free: usize,
    block: usize,
    table: Option<&mut [f64]>,
) -> Result<SubsetSums> {
    let g = problem.n_units();
    let n = problem.n_drivers();
    let fixed: Vec<usize> = (free..g)
        .filter(|&u| block >> (u - free) & 1 == 1)
        .collect();
    // Rows: the fixed units' drivers, then every free unit's drivers, then the outcome.
    let free_end = problem.units.get(free).map_or(n, |r| r.start);
    let mut rows: Vec<usize> = fixed
        .iter()
        .flat_map(|&u| problem.units[u].clone())
        .collect();
    let n_fixed_rows = rows.len();
    rows.extend(0..free_end);
    rows.push(n);
    let mut d = rows.len();
    let mut mat: Vec<f64> = Vec::with_capacity(d * d);
    for &i in &rows {
        for &j in &rows {
            mat.push(problem.cov[(i, j)]);
        }
    }
    let singular = || Error::Collinear {
        columns: "some drivers".to_owned(),
    };
    let mut v = 0.0;
    let mut tmp = Vec::new();
    for _ in 0..n_fixed_rows {
        v += eliminate(&mat, d, 0, &mut tmp).ok_or_else(singular)?;
        d -= 1;
        std::mem::swap(&mut mat, &mut tmp);
    }
    let units: Vec<Range<usize>> = problem.units.iter().take(free).cloned().collect();
    let mut levels: Vec<Level> = (0..=free + 1).map(|_| Level::default()).collect();
    levels[0].mat = mat;
    let mut walk = Walk {
        units: &units,
        sums: SubsetSums::new(g),
        r2_always: problem.r2_always,
        table,
        singular: false,
    };
    walk.visit(&mut levels, d, 0, fixed.len(), v, 0);
    if walk.singular {
        return Err(singular());
    }
    let mut sums = walk.sums;
    // Every subset of this block contains the fixed units, and sizes start at |fixed|.
    let root = &levels[0].sub;
    for (t, &x) in root.iter().enumerate() {
        let s = fixed.len() + t;
        sums.total[s] += x;
        for &u in &fixed {
            sums.by_unit[s * g + u] += x;
        }
    }
    Ok(sums)
}

/// The explained variance `v(S)` for the drivers at `rows` of the working matrix, by a Cholesky solve.
pub(crate) fn explained(cov: &DMatrix<f64>, rows: &[usize]) -> Result<f64> {
    let y = cov.nrows() - 1;
    let k = rows.len();
    let css = DMatrix::from_fn(k, k, |i, j| cov[(rows[i], rows[j])]);
    let csy = nalgebra::DVector::from_fn(k, |i, _| cov[(rows[i], y)]);
    let chol = css.cholesky().ok_or_else(|| Error::Collinear {
        columns: "some drivers".to_owned(),
    })?;
    Ok(csy.dot(&chol.solve(&csy)))
}
