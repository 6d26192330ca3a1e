//! Mergeable weighted moments of k variables: means and co-moments, the state of driver analysis.
//!
//! [`Moments`] folds rows `(x₁ … x_k)` with survey weights `w ≥ 0` and keeps
//!
//! * `n`, the rows with positive weight (zero-weight rows are counted apart, as R `lm` does),
//! * `W = Σw` and `Σw²` (for Kish's effective sample size `n_eff = W²/Σw²`),
//! * the weighted means `x̄ⱼ = Σw xⱼ / W`,
//! * the co-moments `Cⱼₗ = Σ w (xⱼ − x̄ⱼ)(xₗ − x̄ₗ)`.
//!
//! One row ([`Moments::add_row`]) is added with West's weighted form of Welford's update (West 1979, "Updating mean and variance
//! estimates: an improved method", CACM 22(9)): with `W' = W + w` and `d = x − x̄`,
//! `x̄ ← x̄ + d·w/W'` and `C ← C + d dᵀ · w·W/W'`. Two states merge with the pairwise formula of Chan,
//! Golub & LeVeque (1979, "Updating formulae and a pairwise algorithm for computing sample variances"):
//! with `δ = x̄_b − x̄_a`, `x̄ = x̄_a + δ·W_b/W` and `C = C_a + C_b + δδᵀ·W_a W_b / W`. Neither ever forms
//! raw sums of squares. [`Moments::fold_columns`] works in blocks of 2048 rows: each block's means and
//! co-moments come from the corrected two-pass formula (Chan, Golub & LeVeque 1983, "Algorithms for
//! computing the sample variance"), computed while the block is in cache, and the block is merged in. The means are carried in double-double (a compensation term beside each, see
//! [`crate::linalg`]), so the deviations `d` are accurate to working precision relative to themselves
//! rather than to the mean: the state stays accurate when means are large relative to spreads
//! (e.g. timestamps, or revenue around 10⁶ with a spread of a few units).
//!
//! The state is a monoid ([`Merge`]): partitions can be folded anywhere, serialised with serde and
//! combined; [`Moments::covariance`] turns it into a [`Covariance`] that regression consumes.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::design::{Block, BlockBuffer, DesignRows, BLOCK};
use crate::error::{Error, Result, UndefinedReason};
use crate::linalg::two_sum;
use crate::simd::{self, vectorized};
use crate::state::{add_count, check_cell, Accumulator, Decoder, Encoder, StateKind};
use crate::tally::Merge;
use crate::weights;

/// Weighted means and co-moments of k named variables.
///
/// ```
/// use cx_metrics::{Merge, Moments};
/// let mut a = Moments::new(["x", "y"]).unwrap();
/// a.add_row(&[1.0, 2.0], 1.0).unwrap();
/// a.add_row(&[2.0, 4.0], 1.0).unwrap();
/// let mut b = Moments::new(["x", "y"]).unwrap();
/// b.fold_columns(&[&[3.0], &[6.0]], None).unwrap();
/// a.merge(&b).unwrap();
/// let cov = a.covariance().unwrap();
/// assert_eq!(a.n(), 3);
/// assert!((cov.get(0, 1) - 2.0).abs() < 1e-15);
/// assert!((cov.correlation_at(0, 1) - 1.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MomentsState")]
pub struct Moments {
    names: Vec<String>,
    n: u64,
    n_zero_weight: u64,
    sum_w: f64,
    sum_w2: f64,
    mean: Vec<f64>,
    /// Compensation terms: the mean is the double-double `mean + mean_lo`.
    mean_lo: Vec<f64>,
    /// Co-moments, row-major k×k (symmetric).
    comoment: Vec<f64>,
}

/// The serialised form of [`Moments`], checked on the way in so a corrupt state cannot reach the
/// arithmetic.
#[derive(Deserialize)]
struct MomentsState {
    names: Vec<String>,
    n: u64,
    n_zero_weight: u64,
    sum_w: f64,
    sum_w2: f64,
    mean: Vec<f64>,
    mean_lo: Vec<f64>,
    comoment: Vec<f64>,
}

impl TryFrom<MomentsState> for Moments {
    type Error = Error;
    fn try_from(s: MomentsState) -> Result<Self> {
        let m = Moments {
            names: s.names,
            n: s.n,
            n_zero_weight: s.n_zero_weight,
            sum_w: s.sum_w,
            sum_w2: s.sum_w2,
            mean: s.mean,
            mean_lo: s.mean_lo,
            comoment: s.comoment,
        };
        m.validate()?;
        Ok(m)
    }
}

/// Tolerance of the check that the co-moment diagonal is ≥ 0, relative to Σw·x̄².
///
/// A diagonal entry Σw(x − x̄)² is computed as Σw·d² − c²/W from deviations d that are exact to
/// working precision; it can come out below zero only for a (nearly) constant column, whose
/// deviations are at most an ulp of the mean (|d| ≤ u·|x̄|), by at most a few roundings of W·d²:
/// about u³·W·x̄². 64·u² (u = 2⁻⁵² here) is far above that and far below any real spread.
const DIAGONAL_RTOL: f64 = 64.0 * f64::EPSILON * f64::EPSILON;

impl Moments {
    /// The consistency checks of a restored state (see [`Accumulator::validate`]).
    fn check(&self) -> Result<()> {
        let kind = StateKind::Moments;
        let k = self.names.len();
        // Shapes first: the co-moments hold k² numbers, which bounds k by the input's size before
        // the names are compared with each other.
        if k == 0 || self.mean.len() != k || self.mean_lo.len() != k || self.comoment.len() != k * k
        {
            return Err(kind.invalid(format!(
                "{k} variables need {k} means, {k} compensations and {} co-moments; found {}, {} \
                 and {}",
                k * k,
                self.mean.len(),
                self.mean_lo.len(),
                self.comoment.len()
            )));
        }
        Moments::new(self.names.iter().map(String::as_str))
            .map_err(|e| kind.invalid(format!("names: {e}")))?;
        if self.n.checked_add(self.n_zero_weight).is_none() {
            return Err(kind.invalid("the row counts add up to more than 2^64 - 1"));
        }
        if !self.is_finite() {
            return Err(kind.invalid("a sum, mean or co-moment is not finite"));
        }
        if self.n == 0 {
            let zero = [self.sum_w, self.sum_w2]
                .iter()
                .chain(&self.mean)
                .chain(&self.mean_lo)
                .chain(&self.comoment)
                .all(|v| *v == 0.0);
            if !zero {
                return Err(kind.invalid("sums, means or co-moments without any weighted row"));
            }
            return Ok(());
        }
        if self.sum_w <= 0.0 {
            return Err(kind.invalid(format!(
                "{} rows with positive weight but Σw = {}",
                self.n, self.sum_w
            )));
        }
        check_cell(self.n, self.sum_w, self.sum_w2).map_err(|m| kind.invalid(m))?;
        for j in 0..k {
            let (hi, lo) = (self.mean[j], self.mean_lo[j]);
            if lo.abs() > hi.abs() * f64::EPSILON {
                return Err(kind.invalid(format!(
                    "the compensation {lo} of the mean of {:?} exceeds an ulp of the mean {hi}",
                    self.names[j]
                )));
            }
            let c = self.comoment[j * k + j];
            if c < -DIAGONAL_RTOL * self.sum_w * hi * hi {
                return Err(kind.invalid(format!(
                    "the co-moment of {:?} with itself is negative ({c})",
                    self.names[j]
                )));
            }
            for l in 0..j {
                if self.comoment[j * k + l] != self.comoment[l * k + j] {
                    return Err(kind.invalid(format!(
                        "the co-moments of {:?} and {:?} are not symmetric",
                        self.names[j], self.names[l]
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Slices longer than this are folded in parallel chunks of this size, then merged in order.
const CHUNK: usize = 1 << 14;

/// Scratch space of one fold, allocated once per worker thread: the block's rows as `f64` (see
/// [`DesignRows::read`]), and what the fold derives from them.
struct Scratch {
    input: BlockBuffer,
    work: Work,
}

/// The deviations of a block's rows from the block means (and the same times the weights), and the
/// block's own moments.
struct Work {
    /// The derived residual column of a block (see [`Moments::fold_with_residual`]).
    residual: Vec<f64>,
    dev: Vec<f64>,
    wdev: Vec<f64>,
    correction: Vec<f64>,
    block: Moments,
}

impl Scratch {
    fn new(like: &Moments, columns: usize, weighted: bool) -> Self {
        let k = like.k();
        Self {
            input: BlockBuffer::new(columns),
            work: Work {
                residual: vec![0.0; BLOCK],
                dev: vec![0.0; k * BLOCK],
                wdev: if weighted {
                    vec![0.0; k * BLOCK]
                } else {
                    Vec::new()
                },
                correction: vec![0.0; k],
                block: like.empty_like(),
            },
        }
    }
}

impl Moments {
    /// An empty state over the named variables (at least one; names unique).
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Result<Self> {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        if names.is_empty() {
            return Err(Error::invalid("names", "at least one variable is needed"));
        }
        for (i, a) in names.iter().enumerate() {
            if names[..i].contains(a) {
                return Err(Error::invalid("names", format!("{a:?} appears twice")));
            }
        }
        let k = names.len();
        Ok(Self {
            names,
            n: 0,
            n_zero_weight: 0,
            sum_w: 0.0,
            sum_w2: 0.0,
            mean: vec![0.0; k],
            mean_lo: vec![0.0; k],
            comoment: vec![0.0; k * k],
        })
    }

    /// Number of variables k.
    pub fn k(&self) -> usize {
        self.names.len()
    }
    /// The variables' names.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Rows with positive weight.
    pub fn n(&self) -> u64 {
        self.n
    }
    /// Rows with weight zero (counted, but they contribute nothing).
    pub fn n_zero_weight(&self) -> u64 {
        self.n_zero_weight
    }
    /// W = Σw.
    pub fn sum_weights(&self) -> f64 {
        self.sum_w
    }
    /// Σw².
    pub fn sum_weights_sq(&self) -> f64 {
        self.sum_w2
    }
    /// Kish's effective sample size (Σw)²/Σw² (equals `n` without weights; 0 when empty).
    pub fn effective_n(&self) -> f64 {
        if self.sum_w2 > 0.0 {
            self.sum_w * self.sum_w / self.sum_w2
        } else {
            0.0
        }
    }
    /// Weighted means x̄ⱼ = Σw xⱼ / Σw.
    pub fn means(&self) -> &[f64] {
        &self.mean
    }
    /// Co-moments Cⱼₗ = Σw (xⱼ − x̄ⱼ)(xₗ − x̄ₗ), row-major k×k.
    pub fn comoments(&self) -> &[f64] {
        &self.comoment
    }

    /// Add one row of k values with weight `weight` (finite, ≥ 0).
    ///
    /// Values must be finite: a NaN or infinity is an [`Error::BadColumn`] naming the column and the row's
    /// position in the stream (missing-data policies belong to the caller). Nothing changes on error.
    pub fn add_row(&mut self, row: &[f64], weight: f64) -> Result<()> {
        let position = self.n.saturating_add(self.n_zero_weight);
        self.check_row(row, weight, position)?;
        add_count(position, 1, || "the row count".into())?;
        if !self.row_fits(row, weight) {
            return Err(overflow(&self.names));
        }
        self.push_unchecked(row, weight);
        Ok(())
    }

    fn check_row(&self, row: &[f64], weight: f64, position: u64) -> Result<()> {
        if row.len() != self.k() {
            return Err(Error::LengthMismatch {
                what: "row and variables",
                left: row.len(),
                right: self.k(),
            });
        }
        weights::check_one(weight, position as usize)?;
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(non_finite(&self.names[j], position as usize, row[j]));
        }
        Ok(())
    }

    /// Whether West's update with this (finite) row keeps every sum finite, checked before it
    /// changes anything: Σw and Σw² stay finite, and the largest co-moment increment, bounded by
    /// max|d|²·w·W/W' with d = x − x̄, added to the largest co-moment, stays finite (a bound that
    /// only refuses rows whose deviations near 10^154).
    fn row_fits(&self, row: &[f64], w: f64) -> bool {
        let w_new = self.sum_w + w;
        if !(w_new.is_finite() && (self.sum_w2 + w * w).is_finite()) {
            return false;
        }
        if w == 0.0 || self.sum_w == 0.0 {
            return true;
        }
        let d = row
            .iter()
            .zip(&self.mean)
            .fold(0.0f64, |m, (x, mu)| m.max((x - mu).abs()));
        let c = self.comoment.iter().fold(0.0f64, |m, c| m.max(c.abs()));
        (d * d * (w * (self.sum_w / w_new)) + c).is_finite()
    }

    /// West's update with a validated row.
    fn push_unchecked(&mut self, row: &[f64], w: f64) {
        if w == 0.0 {
            self.n_zero_weight += 1;
            return;
        }
        let k = self.k();
        let w_new = self.sum_w + w;
        let factor = w * self.sum_w / w_new;
        let ratio = w / w_new;
        let mut d = [0.0f64; 16];
        let mut heap;
        let d: &mut [f64] = if k <= 16 {
            &mut d[..k]
        } else {
            heap = vec![0.0; k];
            &mut heap
        };
        for j in 0..k {
            d[j] = (row[j] - self.mean[j]) - self.mean_lo[j];
            self.shift_mean(j, d[j] * ratio);
        }
        for j in 0..k {
            let dj = d[j] * factor;
            for (c, dl) in self.comoment[j * k + j..(j + 1) * k]
                .iter_mut()
                .zip(&d[j..])
            {
                *c += dj * dl;
            }
        }
        for j in 0..k {
            for l in 0..j {
                self.comoment[j * k + l] = self.comoment[l * k + j];
            }
        }
        self.n += 1;
        self.sum_w = w_new;
        self.sum_w2 += w * w;
    }

    /// Fold column slices (one per variable, same length), optionally weighted.
    ///
    /// Every value and weight is validated first and nothing changes on error; errors name the column
    /// and the row's position in these slices. Long inputs are folded in parallel chunks that are merged
    /// in input order, so the result does not depend on the number of threads.
    pub fn fold_columns(&mut self, columns: &[&[f64]], weights: Option<&[f64]>) -> Result<()> {
        if columns.len() != self.k() {
            return Err(Error::LengthMismatch {
                what: "columns and variables",
                left: columns.len(),
                right: self.k(),
            });
        }
        let n = columns.first().map_or(0, |c| c.len());
        for (j, c) in columns.iter().enumerate() {
            if c.len() != n {
                return Err(Error::BadColumn {
                    column: self.names[j].clone(),
                    message: format!(
                        "has {} values but {:?} has {n}; columns must have the same length",
                        c.len(),
                        self.names[0]
                    ),
                });
            }
        }
        if let Some(w) = weights {
            if w.len() != n {
                return Err(Error::LengthMismatch {
                    what: "columns and weights",
                    left: n,
                    right: w.len(),
                });
            }
            weights::check(w)?;
        }
        // The values are checked while they are folded (a non-finite value makes its block's sums
        // non-finite); only then is a failed fold searched for the value to name.
        let mut part = self.empty_like();
        if !part.fold_unchecked(columns, weights, n) {
            return Err(first_non_finite(
                self.names
                    .iter()
                    .map(String::as_str)
                    .zip(columns.iter().copied()),
            ));
        }
        Merge::merge(self, &part)
    }

    /// [`Moments::fold_columns`] of columns whose lengths and weights are already checked: `k`
    /// columns of length `n`, finite non-negative weights. Returns whether every value was finite;
    /// when one was not, `self` holds non-finite sums and must be discarded.
    ///
    /// A value is seen as non-finite when its block's sums are (a NaN or an infinity makes them so;
    /// finite values whose sums overflow are reported the same way).
    pub(crate) fn fold_unchecked(
        &mut self,
        columns: &[&[f64]],
        weights: Option<&[f64]>,
        n: usize,
    ) -> bool {
        self.fold_rows(&DesignRows::from_slices(columns, weights), n, None)
    }

    /// [`Moments::fold_unchecked`] of the first `n` rows of a design's columns (`k` of them), read
    /// block by block in their own width (see [`DesignRows::read`]). Also `false` when a row the
    /// design skips holds a value that is not finite.
    pub(crate) fn fold_design(&mut self, rows: &DesignRows<'_>, n: usize) -> bool {
        debug_assert_eq!(rows.width(), self.k());
        self.fold_rows(rows, n, None)
    }

    /// [`Moments::fold_design`] of `rows` = `[x₁, …, x_p, y]` and a derived last variable, the
    /// residual `e = y − Σ βⱼxⱼ` of the given `slopes` β, computed block by block while the rows are
    /// in cache (so that its co-moments with the drivers cost no second pass over the data). `self`
    /// has `p + 2` variables.
    pub(crate) fn fold_with_residual(
        &mut self,
        rows: &DesignRows<'_>,
        n: usize,
        slopes: &[f64],
    ) -> bool {
        debug_assert_eq!(rows.width() + 1, self.k());
        debug_assert_eq!(slopes.len() + 1, rows.width());
        self.fold_rows(rows, n, Some(slopes))
    }

    fn fold_rows(&mut self, rows: &DesignRows<'_>, n: usize, slopes: Option<&[f64]>) -> bool {
        let weighted = rows.weights().is_some();
        let width = rows.width();
        let fold_range = |scratch: &mut Scratch, start: usize, end: usize| {
            let mut m = self.empty_like();
            let finite = vectorized(
                #[inline(always)]
                || {
                    let mut s = start;
                    while s < end {
                        let e = (s + BLOCK).min(end);
                        let Some(block) = rows.read(s, e, &mut scratch.input) else {
                            return false;
                        };
                        m.fold_block(&block, slopes, &mut scratch.work);
                        s = e;
                    }
                    true
                },
            );
            if !finite {
                m.sum_w = f64::NAN;
            }
            m
        };
        let parts: Vec<Moments> = if n <= CHUNK {
            vec![fold_range(&mut Scratch::new(self, width, weighted), 0, n)]
        } else {
            // Scratch space per worker rather than per chunk: no allocation (and no page faults) for
            // every chunk.
            (0..n.div_ceil(CHUNK))
                .into_par_iter()
                .map_init(
                    || Scratch::new(self, width, weighted),
                    |scratch, c| fold_range(scratch, c * CHUNK, ((c + 1) * CHUNK).min(n)),
                )
                .collect()
        };
        for p in &parts {
            self.merge_unchecked(p);
        }
        self.is_finite()
    }

    /// The moments of all variables but the last (as if it had never been folded).
    pub(crate) fn without_last(&self) -> Moments {
        let k = self.k();
        let j = k - 1;
        let mut comoment = Vec::with_capacity(j * j);
        for row in self.comoment.chunks_exact(k).take(j) {
            comoment.extend_from_slice(&row[..j]);
        }
        Moments {
            names: self.names[..j].to_vec(),
            n: self.n,
            n_zero_weight: self.n_zero_weight,
            sum_w: self.sum_w,
            sum_w2: self.sum_w2,
            mean: self.mean[..j].to_vec(),
            mean_lo: self.mean_lo[..j].to_vec(),
            comoment,
        }
    }

    /// Whether every sum of the state is finite.
    fn is_finite(&self) -> bool {
        [self.sum_w, self.sum_w2]
            .iter()
            .chain(&self.mean)
            .chain(&self.mean_lo)
            .chain(&self.comoment)
            .all(|v| v.is_finite())
    }

    /// Fold one block of rows (at most [`BLOCK`], validated) as one block: the block's own means and
    /// co-moments by the corrected two-pass formula while the rows are in cache, then a Chan merge.
    ///
    /// With `d = x − x̄_b` (x̄_b the block's weighted mean) and `c = Σw·d` (zero in exact arithmetic,
    /// its rounding residue), the block mean is `x̄_b + c/W` and the co-moments `Σ w dⱼ dₗ − cⱼcₗ/W`.
    #[inline(always)]
    fn fold_block(&mut self, input: &Block<'_>, slopes: Option<&[f64]>, buf: &mut Work) {
        self.n_zero_weight += input.zero_weight;
        let columns = &input.columns;
        let len = columns.first().map_or(0, |c| c.len());
        if len == 0 {
            return;
        }
        let k = self.k();
        let w = input.weights;
        let (n_positive, sum_w, sum_w2) = match w {
            Some(w) => (
                w.iter().filter(|v| **v > 0.0).count() as u64,
                simd::sum(w),
                simd::dot(w, w),
            ),
            None => (len as u64, len as f64, len as f64),
        };
        if n_positive == 0 {
            // Nothing to add, but the values must still be finite.
            let finite = columns.iter().all(|c| c.iter().all(|v| v.is_finite()));
            self.n_zero_weight += len as u64;
            if !finite {
                self.sum_w = f64::NAN;
            }
            return;
        }
        let block = &mut buf.block;
        block.n = n_positive;
        block.n_zero_weight = len as u64 - n_positive;
        block.sum_w = sum_w;
        block.sum_w2 = sum_w2;
        if let Some(b) = slopes {
            // e = y − Σ βⱼxⱼ, the outcome (the last column) first.
            let e = &mut buf.residual[..len];
            e.copy_from_slice(columns[b.len()]);
            for (bj, col) in b.iter().zip(columns) {
                for (ei, xi) in e.iter_mut().zip(col.iter()) {
                    *ei -= bj * xi;
                }
            }
        }
        for j in 0..k {
            let x: &[f64] = match columns.get(j) {
                Some(col) => col,
                None => &buf.residual[..len],
            };
            let d = &mut buf.dev[j * BLOCK..j * BLOCK + len];
            let mean = match w {
                Some(w) => simd::dot(w, x),
                None => simd::sum(x),
            } / sum_w;
            for (di, xi) in d.iter_mut().zip(x) {
                *di = xi - mean;
            }
            let correction = match w {
                Some(w) => {
                    let wd = &mut buf.wdev[j * BLOCK..j * BLOCK + len];
                    for ((o, di), wi) in wd.iter_mut().zip(d.iter()).zip(w) {
                        *o = wi * di;
                    }
                    simd::sum(wd)
                }
                None => simd::sum(d),
            };
            let (hi, lo) = two_sum(mean, correction / sum_w);
            block.mean[j] = hi;
            block.mean_lo[j] = lo;
            buf.correction[j] = correction;
        }
        // Σ w dⱼ dₗ: the weighted deviations against the plain ones, two columns per sweep.
        let weighted = if w.is_some() { &buf.wdev } else { &buf.dev };
        let dev = |j: usize| &buf.dev[j * BLOCK..j * BLOCK + len];
        for j in 0..k {
            let a = &weighted[j * BLOCK..j * BLOCK + len];
            let mut l = j;
            while l < k {
                let (cl, cm) = if l + 1 < k {
                    simd::dot2(a, dev(l), dev(l + 1))
                } else {
                    (simd::dot(a, dev(l)), 0.0)
                };
                for (m, c) in [(l, cl), (l + 1, cm)] {
                    if m < k {
                        let c = c - buf.correction[j] * buf.correction[m] / sum_w;
                        block.comoment[j * k + m] = c;
                        block.comoment[m * k + j] = c;
                    }
                }
                l += 2;
            }
        }
        self.merge_unchecked(block);
    }

    /// The empty state of the same variables (the identity of [`Merge::merge`]).
    pub fn empty_like(&self) -> Self {
        let k = self.k();
        Self {
            names: self.names.clone(),
            n: 0,
            n_zero_weight: 0,
            sum_w: 0.0,
            sum_w2: 0.0,
            mean: vec![0.0; k],
            mean_lo: vec![0.0; k],
            comoment: vec![0.0; k * k],
        }
    }

    /// Add `increment` to the double-double mean of variable `j`, keeping it normalised.
    #[inline]
    fn shift_mean(&mut self, j: usize, increment: f64) {
        let (s, e) = two_sum(self.mean[j], increment);
        let (hi, lo) = two_sum(s, self.mean_lo[j] + e);
        self.mean[j] = hi;
        self.mean_lo[j] = lo;
    }

    /// Chan et al.'s pairwise merge (names already checked).
    fn merge_unchecked(&mut self, other: &Self) {
        self.n_zero_weight += other.n_zero_weight;
        if other.sum_w == 0.0 {
            self.n += other.n;
            return;
        }
        if self.sum_w == 0.0 {
            let zero = self.n_zero_weight;
            *self = other.clone();
            self.n_zero_weight = zero;
            return;
        }
        let k = self.k();
        let w = self.sum_w + other.sum_w;
        let factor = self.sum_w * other.sum_w / w;
        let ratio = other.sum_w / w;
        let mut stack = [0.0f64; 16];
        let mut heap;
        let delta: &mut [f64] = if k <= 16 {
            &mut stack[..k]
        } else {
            heap = vec![0.0; k];
            &mut heap
        };
        for (j, d) in delta.iter_mut().enumerate() {
            *d = (other.mean[j] - self.mean[j]) + (other.mean_lo[j] - self.mean_lo[j]);
        }
        for j in 0..k {
            for l in 0..k {
                self.comoment[j * k + l] +=
                    other.comoment[j * k + l] + delta[j] * delta[l] * factor;
            }
            self.shift_mean(j, delta[j] * ratio);
        }
        self.n += other.n;
        self.sum_w = w;
        self.sum_w2 += other.sum_w2;
    }

    /// The weighted covariance matrix, means and sample sizes (see [`Covariance`]).
    ///
    /// Fails with [`Error::Undefined`] when no row has positive weight ([`UndefinedReason::NoRows`]) or
    /// when the data cannot give a covariance (`n_eff ≤ 1`, e.g. a single row:
    /// [`UndefinedReason::SingleObservation`]).
    pub fn covariance(&self) -> Result<Covariance> {
        if self.n == 0 {
            return Err(Error::Undefined(UndefinedReason::NoRows));
        }
        if !(self.sum_w.is_finite() && self.sum_w2.is_finite()) {
            return Err(Error::invalid(
                "weights",
                "their sum (or sum of squares) overflows; rescale the weights",
            ));
        }
        let denominator = self.sum_w - self.sum_w2 / self.sum_w;
        if denominator.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(Error::Undefined(UndefinedReason::SingleObservation));
        }
        Ok(Covariance {
            names: self.names.clone(),
            matrix: self.comoment.iter().map(|c| c / denominator).collect(),
            means: self.mean.clone(),
            n: self.n,
            sum_weights: self.sum_w,
            effective_n: self.effective_n(),
        })
    }
}

impl Merge for Moments {
    /// Chan, Golub & LeVeque's pairwise combination; fails if the variables differ.
    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.names != other.names {
            return Err(Error::Incompatible(format!(
                "moments of different variables ({} and {})",
                self.names.join(", "),
                other.names.join(", ")
            )));
        }
        let n = add_count(self.n, other.n, || "the row count".into())?;
        let zero = add_count(self.n_zero_weight, other.n_zero_weight, || {
            "the count of zero-weight rows".into()
        })?;
        add_count(n, zero, || "the row count".into())?;
        let mut sum = self.clone();
        sum.merge_unchecked(other);
        if !sum.is_finite() {
            return Err(Error::Overflow {
                what: format!("the weighted sums of {}", self.names.join(", ")),
            });
        }
        *self = sum;
        Ok(())
    }
}

impl Accumulator for Moments {
    const KIND: StateKind = StateKind::Moments;
    /// One column per variable, in the state's order, all of the same length.
    type Batch<'a> = &'a [&'a [f64]];
    type Options = ();
    type Output = Covariance;

    fn fold_batch(&mut self, columns: &[&[f64]], weights: Option<&[f64]>) -> Result<()> {
        self.fold_columns(columns, weights)
    }
    fn n(&self) -> u64 {
        self.n
    }
    fn finish(&self, _: &()) -> Result<Covariance> {
        self.covariance()
    }
    /// Dimensions consistent and names unique; counts without overflow; every sum finite; an
    /// empty state all zeros; Σw > 0 with Σw² ≤ (Σw)² ≤ n·Σw² (effective n ≤ n); means normalised
    /// double-doubles; co-moment diagonal ≥ 0 (up to rounding) and the matrix exactly symmetric
    /// (as every fold and merge keeps it).
    fn validate(&self) -> Result<()> {
        self.check()
    }
    /// k, the names, n, zero-weight rows, Σw, Σw², the means, their compensations, the co-moments.
    fn encode_payload(&self, out: &mut Encoder) {
        out.u32(self.names.len() as u32);
        self.names.iter().for_each(|s| out.str(s));
        out.u64(self.n);
        out.u64(self.n_zero_weight);
        out.f64(self.sum_w);
        out.f64(self.sum_w2);
        out.f64s(&self.mean);
        out.f64s(&self.mean_lo);
        out.f64s(&self.comoment);
    }
    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let k = input.u32("the number of variables")? as usize;
        // The numbers alone need (k² + 2k + 2)·8 bytes: check before reading (and allocating) any.
        let numbers = k
            .checked_mul(k)
            .and_then(|kk| kk.checked_add(2 * k + 2))
            .ok_or_else(|| input.invalid(format!("{k} variables are too many")))?;
        input.check_fits(numbers, 8, "sums")?;
        let names = (0..k)
            .map(|_| input.str("a variable's name"))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            names,
            n: input.u64("the row count")?,
            n_zero_weight: input.u64("the zero-weight rows")?,
            sum_w: input.f64("Σw")?,
            sum_w2: input.f64("Σw²")?,
            mean: input.f64s(k, "the means")?,
            mean_lo: input.f64s(k, "the means' compensations")?,
            comoment: input.f64s(k * k, "the co-moments")?,
        })
    }
}

/// The error for the first non-finite value of the named `columns`, column by column; when every value
/// is finite, the error for sums that overflowed. For folds that found a non-finite sum.
#[cold]
pub(crate) fn first_non_finite<'a>(
    columns: impl IntoIterator<Item = (&'a str, &'a [f64])>,
) -> Error {
    let mut names = Vec::new();
    for (name, col) in columns {
        if let Some(i) = col.iter().position(|v| !v.is_finite()) {
            return non_finite(name, i, col[i]);
        }
        names.push(name);
    }
    overflow(&names)
}

/// The error for finite values whose sums overflow.
pub(crate) fn overflow<S: AsRef<str>>(names: &[S]) -> Error {
    let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    Error::invalid(
        "values",
        format!(
            "the sums of {} overflow the floating-point range; rescale the data",
            names.join(", ")
        ),
    )
}

pub(crate) fn non_finite(column: &str, index: usize, value: f64) -> Error {
    Error::BadColumn {
        column: column.to_string(),
        message: format!(
            "value {value} at row {index} is not finite; drop or impute missing values first"
        ),
    }
}

/// A weighted covariance matrix with the means and sample sizes needed to fit a regression from it.
///
/// `matrix[j·k + l] = Cⱼₗ / d` where `Cⱼₗ = Σw (xⱼ − x̄ⱼ)(xₗ − x̄ₗ)` and the denominator is
/// `d = W − Σw²/W = W (1 − 1/n_eff)` with `W = Σw` — R's `cov.wt(method = "unbiased")`; without weights
/// `d = n − 1`, the ordinary sample covariance. Correlations do not depend on `d`.
///
/// Build one from data with [`Moments::covariance`], or from published summaries with
/// [`Covariance::new`] / [`Covariance::from_correlation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Covariance {
    /// Variable names, in matrix order.
    pub names: Vec<String>,
    /// Covariances, row-major k×k.
    pub matrix: Vec<f64>,
    /// Weighted means.
    pub means: Vec<f64>,
    /// Rows with positive weight.
    pub n: u64,
    /// W = Σw (equals `n` without weights).
    pub sum_weights: f64,
    /// Kish's effective sample size W²/Σw² (equals `n` without weights).
    pub effective_n: f64,
}

impl Covariance {
    /// A covariance summary from its parts, checked for shape, symmetry and finiteness.
    ///
    /// Without weights pass `sum_weights = effective_n = n` (the matrix is then the usual `n − 1`
    /// sample covariance).
    pub fn new(
        names: Vec<String>,
        matrix: Vec<f64>,
        means: Vec<f64>,
        n: u64,
        sum_weights: f64,
        effective_n: f64,
    ) -> Result<Self> {
        let c = Self {
            names,
            matrix,
            means,
            n,
            sum_weights,
            effective_n,
        };
        c.validate()?;
        Ok(c)
    }

    /// A covariance summary from a correlation matrix and standard deviations (on the same
    /// denominator `d` as [`Covariance`]): `Σⱼₗ = ρⱼₗ·sⱼ·sₗ`.
    pub fn from_correlation(
        names: Vec<String>,
        correlation: &[f64],
        sds: &[f64],
        means: Vec<f64>,
        n: u64,
        sum_weights: f64,
        effective_n: f64,
    ) -> Result<Self> {
        let k = names.len();
        if correlation.len() != k * k || sds.len() != k {
            return Err(Error::invalid(
                "correlation",
                format!(
                    "{k} names need a {k}×{k} matrix ({} given) and {k} sds ({} given)",
                    correlation.len(),
                    sds.len()
                ),
            ));
        }
        let matrix = (0..k * k)
            .map(|i| correlation[i] * sds[i / k] * sds[i % k])
            .collect();
        Self::new(names, matrix, means, n, sum_weights, effective_n)
    }

    /// Check shape (k names, k×k matrix, k means), finiteness, symmetry, non-negative variances and
    /// `0 < Σw`, `1 < n_eff ≤ n`. The fields are public, so regression calls this before using them.
    pub fn validate(&self) -> Result<()> {
        let k = self.k();
        if k == 0 || self.matrix.len() != k * k || self.means.len() != k {
            return Err(Error::invalid(
                "covariance",
                format!(
                    "{k} names need a {k}×{k} matrix ({} given) and {k} means ({} given)",
                    self.matrix.len(),
                    self.means.len()
                ),
            ));
        }
        let all_finite = self.matrix.iter().chain(&self.means).all(|v| v.is_finite());
        if !all_finite {
            return Err(Error::invalid(
                "covariance",
                "matrix and means must be finite",
            ));
        }
        for j in 0..k {
            if self.matrix[j * k + j] < 0.0 {
                return Err(Error::BadColumn {
                    column: self.names[j].clone(),
                    message: "has a negative variance".into(),
                });
            }
            for l in 0..j {
                let (a, b) = (self.matrix[j * k + l], self.matrix[l * k + j]);
                if (a - b).abs() > 1e-12 * a.abs().max(b.abs()) {
                    return Err(Error::invalid(
                        "covariance",
                        format!(
                            "not symmetric at ({:?}, {:?}): {a} vs {b}",
                            self.names[j], self.names[l]
                        ),
                    ));
                }
            }
        }
        let sizes_ok = self.sum_weights.is_finite()
            && self.sum_weights > 0.0
            && self.effective_n.is_finite()
            && self.effective_n > 1.0
            && self.effective_n <= self.n as f64 * (1.0 + 1e-12);
        if !sizes_ok {
            return Err(Error::invalid(
                "covariance",
                format!(
                    "need sum_weights > 0 and 1 < effective_n <= n (got n = {}, sum_weights = {}, \
                     effective_n = {})",
                    self.n, self.sum_weights, self.effective_n
                ),
            ));
        }
        Ok(())
    }

    /// Number of variables k.
    pub fn k(&self) -> usize {
        self.names.len()
    }
    /// Covariance of variables `j` and `l` (NaN when out of range).
    pub fn get(&self, j: usize, l: usize) -> f64 {
        let k = self.k();
        if j < k && l < k {
            self.matrix[j * k + l]
        } else {
            f64::NAN
        }
    }
    /// The denominator `d = W − Σw²/W = W(1 − 1/n_eff)` the co-moments were divided by.
    pub fn denominator(&self) -> f64 {
        self.sum_weights * (1.0 - 1.0 / self.effective_n)
    }
    /// Standard deviations `sⱼ = √Σⱼⱼ`.
    pub fn sds(&self) -> Vec<f64> {
        (0..self.k()).map(|j| self.get(j, j).sqrt()).collect()
    }
    /// Correlation of variables `j` and `l`: `Σⱼₗ / (sⱼ sₗ)` (NaN if either has zero variance).
    pub fn correlation_at(&self, j: usize, l: usize) -> f64 {
        let d = (self.get(j, j) * self.get(l, l)).sqrt();
        if d > 0.0 {
            self.get(j, l) / d
        } else {
            f64::NAN
        }
    }
    /// The correlation matrix, row-major k×k (NaN rows/columns for zero-variance variables).
    pub fn correlation(&self) -> Vec<f64> {
        let k = self.k();
        (0..k * k)
            .map(|i| {
                if i / k == i % k && self.get(i / k, i / k) > 0.0 {
                    1.0
                } else {
                    self.correlation_at(i / k, i % k)
                }
            })
            .collect()
    }
    /// Position of the variable called `name`.
    pub fn index_of(&self, name: &str) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::UnknownColumn {
                column: name.to_string(),
                available: self.names.join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_two_pass_formulas_and_rejects_bad_rows() {
        // Weighted covariance checked against the two-pass definition computed by hand:
        // x = (1, 2, 4), y = (3, 1, 2), w = (1, 2, 1): W = 4, x̄ = 9/4, ȳ = 7/4.
        let mut m = Moments::new(["x", "y"]).unwrap();
        m.fold_columns(
            &[&[1.0, 2.0, 4.0], &[3.0, 1.0, 2.0]],
            Some(&[1.0, 2.0, 1.0]),
        )
        .unwrap();
        assert_eq!(m.means(), &[2.25, 1.75]);
        // Cxx = 1·1.5625 + 2·0.0625 + 1·3.0625 = 4.75; Cxy = 1·(−1.25)(1.25) + 2·(−0.25)(−0.75)
        //       + 1·(1.75)(0.25) = −0.75; Cyy = 1.5625 + 2·0.5625 + 0.0625 = 2.75.
        let c = m.comoments();
        assert!((c[0] - 4.75).abs() < 1e-15 && (c[1] + 0.75).abs() < 1e-15);
        assert!((c[3] - 2.75).abs() < 1e-15 && c[1] == c[2]);
        let cov = m.covariance().unwrap();
        // d = 4 − 6/4 = 2.5.
        assert!((cov.denominator() - 2.5).abs() < 1e-15);
        assert!((cov.get(0, 0) - 1.9).abs() < 1e-15);
        let before = m.clone();
        let err = m.add_row(&[1.0, f64::NAN], 1.0).unwrap_err();
        assert!(err.to_string().contains("\"y\"") && err.to_string().contains("row 3"));
        assert!(matches!(
            m.add_row(&[1.0, 1.0], -1.0),
            Err(Error::InvalidWeight { index: 3, .. })
        ));
        assert!(m
            .fold_columns(&[&[1.0, 2.0], &[1.0]], None)
            .unwrap_err()
            .to_string()
            .contains("\"y\""));
        assert_eq!(m, before);
        m.add_row(&[5.0, 5.0], 0.0).unwrap();
        assert_eq!((m.n(), m.n_zero_weight()), (3, 1));
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Moments>(&json).unwrap(), m);
        assert!(Moments::new(["a", "a"]).is_err());
        let other = Moments::new(["x", "z"]).unwrap();
        assert!(matches!(m.merge(&other), Err(Error::Incompatible(_))));
    }
}
