//! Mergeable tallies: weighted counts per scale point.
//!
//! A [`ScaleTally`] is the state every survey score is computed from (NPS, CSAT, CES). It folds raw values
//! row by row or from slices, merges with another tally of the same scale (associative, commutative, the
//! empty tally is the identity) and round-trips through serde, so partitions can be tallied on other
//! threads, processes or machines and combined.
//!
//! Folding a slice validates every value and weight first and changes nothing on error, so a failed fold
//! never leaves a half-updated tally behind.
//!
//! # Weights of any magnitude
//!
//! A tally keeps its sums of weights (Σw and Σw² per point) as the true sums times `2^-e`, with a
//! binary scale exponent `e` of its own ([`ScaleTally::weight_exponent`]). A fold takes `e` from the
//! batch's largest weight ([`weights::tally_exponent`]): 0 for ordinary weights (within `2^±256`,
//! tallied as they are, bit for bit as without an exponent), else the power of two that brings the
//! largest weight into `[1, 2)`. Multiplying by a power of two is exact, so no digit of any weight
//! changes; a merge aligns the two exponents by scaling the side with the smaller one down (again
//! exact, except that a sum more than `2^1074` times smaller than the other side's weights underflows:
//! it is negligible next to them, below a rounding of the merged sum). Every figure (shares, scores,
//! means, effective n, standard errors, intervals, comparisons) is a ratio of sums of the same degree,
//! computed from the scaled sums, so it is the same bit for bit when every weight is multiplied by a
//! power of two, and to a rounding for any other factor: weights of 10^-300 or 10^300 give the figures
//! of weights near 1.
//!
//! Sums in the caller's units are scaled back: Σw ([`ScaleTally::sum_weights`], per point
//! [`ScaleTally::weights`]) is always representable, because a fold or merge whose Σw would exceed
//! `f64::MAX` (weights near 1.8e308) is refused with a typed error; Σw² in the caller's units
//! ([`ScaleTally::sum_weights_sq`]) overflows for weights above about 1e154 and underflows below about
//! 1e-162, and is then a typed error ([`Error::Overflow`]) rather than ±∞ or 0; the exact sums are
//! [`ScaleTally::scaled_weights_sq`] times `2^(2e)`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::scale::{Direction, NanPolicy, RawValue, Scale};
use crate::simd::vectorized;
use crate::state::{
    add_count, check_cell, Accumulator, Decoder, Encoder, Ratings, StateKind, ValuesOp,
};
use crate::weights;

/// States that can be combined with another state of the same kind.
///
/// Implementations are associative and commutative, and a freshly created (empty) state is the identity.
pub trait Merge {
    /// Fold `other` into `self`.
    fn merge(&mut self, other: &Self) -> Result<()>;
}

/// Weighted counts per scale point, with everything needed for estimates and their intervals.
///
/// ```
/// use cx_metrics::{Direction, Merge, NanPolicy, Scale, ScaleTally};
/// let scale = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
/// let mut a = ScaleTally::new(scale);
/// a.fold(&[5.0, 4.0, f64::NAN], None, NanPolicy::Omit).unwrap();
/// let mut b = ScaleTally::new(scale);
/// b.fold(&[1u8, 5], Some(&[2.0, 1.0]), NanPolicy::Omit).unwrap();
/// a.merge(&b).unwrap();
/// assert_eq!(a.n(), 4);
/// assert_eq!(a.n_omitted(), 1);
/// assert_eq!(a.weight_at(5), 2.0);
/// assert_eq!(a.sum_weights(), 5.0);
/// // Weights of 10^300 are tallied scaled by a power of two: the same shares, Σw scaled back.
/// let mut big = ScaleTally::new(scale);
/// big.fold(&[1u8, 5, 5], Some(&[2e300, 1e300, 0.0]), NanPolicy::Omit).unwrap();
/// assert_eq!(big.weight_exponent(), 997);
/// assert_eq!(big.shares()[0], 2.0 / 3.0);
/// assert!((big.sum_weights() - 3e300).abs() <= 1e-15 * 3e300);
/// assert!(big.sum_weights_sq().is_err()); // 5e600 is beyond f64
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawTally")]
pub struct ScaleTally {
    scale: Scale,
    rows: Vec<u64>,
    /// Σw per point, times `2^-exponent`.
    weight: Vec<f64>,
    /// Σw² per point, times `2^-2·exponent`.
    weight_sq: Vec<f64>,
    omitted: u64,
    /// The binary scale exponent of the sums of weights (0 for ordinary weights, and whenever no
    /// row carries weight).
    exponent: i32,
}

/// The serialised form, checked on the way in so a hand-edited or corrupted state cannot break merges.
/// The exponent is absent (0) in the states of format version 1.
#[derive(Deserialize)]
struct RawTally {
    scale: Scale,
    rows: Vec<u64>,
    weight: Vec<f64>,
    weight_sq: Vec<f64>,
    omitted: u64,
    #[serde(default)]
    exponent: i32,
}

impl TryFrom<RawTally> for ScaleTally {
    type Error = Error;
    fn try_from(r: RawTally) -> Result<Self> {
        let scale = Scale::new(r.scale.min(), r.scale.max(), r.scale.direction())?;
        let t = Self {
            scale,
            rows: r.rows,
            weight: r.weight,
            weight_sq: r.weight_sq,
            omitted: r.omitted,
            exponent: r.exponent,
        };
        t.check(StateKind::ScaleTally)?;
        Ok(t)
    }
}

/// The exponents a tally may carry: those of a finite positive `f64` (subnormals included).
pub(crate) const EXPONENTS: std::ops::RangeInclusive<i32> = -1074..=1023;

/// The checks of a tally's scale exponent, naming `kind`: an exponent a weight can have, 0 when no
/// row carries weight (so that equal tallies compare equal), and Σw in the caller's units (the
/// scaled `sum_weights` times `2^exponent`) representable.
pub(crate) fn check_exponent(kind: StateKind, exponent: i32, sum_weights: f64) -> Result<()> {
    if !EXPONENTS.contains(&exponent) {
        return Err(kind.invalid(format!(
            "the weight exponent {exponent} is outside {}..={} (the exponents of a finite weight)",
            EXPONENTS.start(),
            EXPONENTS.end()
        )));
    }
    if sum_weights == 0.0 && exponent != 0 {
        return Err(kind.invalid(format!(
            "a weight exponent ({exponent}) without any weight (it is 0 then)"
        )));
    }
    if !weights::ldexp(sum_weights, exponent).is_finite() {
        return Err(kind.invalid(format!(
            "the sum of weights {sum_weights} × 2^{exponent} exceeds the largest floating-point number"
        )));
    }
    Ok(())
}

/// The exponent two sides of a merge are aligned to: the larger of the two, counting only a side
/// with some weight (an exponent without weight means nothing).
pub(crate) fn aligned_exponent(a: (i32, bool), b: (i32, bool)) -> i32 {
    match (a.1, b.1) {
        (true, true) => a.0.max(b.0),
        (true, false) => a.0,
        (false, true) => b.0,
        (false, false) => 0,
    }
}

/// The error of a state whose Σw in the caller's units would exceed `f64::MAX` after a merge.
#[cold]
pub(crate) fn sum_overflow(what: &str) -> Error {
    Error::Overflow {
        what: format!(
            "the sum of weights{what} (beyond 1.8e308; divide every weight by the same constant, \
             which changes no estimate)"
        ),
    }
}

/// The error for a sum of squared weights in the caller's units that `f64` cannot hold.
#[cold]
fn sq_unrepresentable(what: String, scaled: f64, exponent: i32) -> Error {
    Error::Overflow {
        what: format!(
            "{what} in the units of the weights ({scaled} × 2^{}, beyond the range of f64; read \
             the scaled sums and weight_exponent() instead)",
            2 * i64::from(exponent)
        ),
    }
}

impl ScaleTally {
    /// A tally from its parts: rows, Σw and Σw² per point (lowest point first) and the rows omitted
    /// as missing, with the checks a serialised state gets when it is read back (`from_bytes`).
    ///
    /// ```
    /// use cx_metrics::{Direction, Scale, ScaleTally};
    /// let scale = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
    /// let (rows, w) = (vec![0, 0, 1, 2, 1], vec![0.0, 0.0, 1.0, 2.0, 1.0]);
    /// let t = ScaleTally::from_parts(scale, rows.clone(), w.clone(), w.clone(), 3).unwrap();
    /// assert_eq!((t.n(), t.n_omitted()), (4, 3));
    /// // Weight on a point without rows is a contradiction, not a state.
    /// let mut bad = w.clone();
    /// bad[0] = 1.0;
    /// assert!(ScaleTally::from_parts(scale, rows, bad, w, 3).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an invalid scale, [`Error::InvalidState`] for counts that do
    /// not fit the scale or contradict each other.
    pub fn from_parts(
        scale: Scale,
        rows: Vec<u64>,
        weight: Vec<f64>,
        weight_sq: Vec<f64>,
        omitted: u64,
    ) -> Result<Self> {
        Self::from_scaled_parts(scale, rows, weight, weight_sq, omitted, 0)
    }

    /// [`ScaleTally::from_parts`] of sums of weights kept as the true sums times `2^-exponent`
    /// (see [`ScaleTally::weight_exponent`]); an exponent on parts without any weight is dropped.
    ///
    /// # Errors
    ///
    /// As [`ScaleTally::from_parts`]; also an exponent outside `-1074..=1023`, or a Σw that would
    /// exceed `f64::MAX` in the caller's units.
    pub fn from_scaled_parts(
        scale: Scale,
        rows: Vec<u64>,
        weight: Vec<f64>,
        weight_sq: Vec<f64>,
        omitted: u64,
        exponent: i32,
    ) -> Result<Self> {
        let scale = Scale::new(scale.min(), scale.max(), scale.direction())?;
        let exponent = if weight.iter().any(|w| *w != 0.0) {
            exponent
        } else {
            0
        };
        let t = Self {
            scale,
            rows,
            weight,
            weight_sq,
            omitted,
            exponent,
        };
        t.check(StateKind::ScaleTally)?;
        Ok(t)
    }

    /// Check the tally is consistent, naming `kind` in the error: one count per point; the rows
    /// and the omitted rows add up without overflow; per point, Σw and Σw² finite and ≥ 0, zero
    /// without rows, Σw² ≤ (Σw)² ≤ rows·Σw² (so the effective n never exceeds n), within
    /// [`SUM_RTOL`](crate::state::SUM_RTOL).
    pub(crate) fn check(&self, kind: StateKind) -> Result<()> {
        let k = self.scale.points();
        if self.rows.len() != k || self.weight.len() != k || self.weight_sq.len() != k {
            return Err(kind.invalid(format!(
                "a tally on {} needs {k} counts per field, found {}, {} and {}",
                self.scale,
                self.rows.len(),
                self.weight.len(),
                self.weight_sq.len()
            )));
        }
        let mut total = self.omitted;
        for (i, p) in (self.scale.min()..=self.scale.max()).enumerate() {
            total = total
                .checked_add(self.rows[i])
                .ok_or_else(|| kind.invalid("the row counts add up to more than 2^64 - 1"))?;
            check_cell(self.rows[i], self.weight[i], self.weight_sq[i])
                .map_err(|m| kind.invalid(format!("point {p} ({} rows): {m}", self.rows[i])))?;
        }
        check_exponent(kind, self.exponent, self.scaled_sum_weights())
    }

    /// The payload of the byte form: min, max, direction, omitted, then rows, Σw and Σw² per point
    /// (scaled), then (from format version 2) the weight exponent as an `i32`.
    pub(crate) fn encode(&self, out: &mut Encoder) {
        out.i32(self.scale.min());
        out.i32(self.scale.max());
        out.u8(match self.scale.direction() {
            Direction::HigherIsBetter => 0,
            Direction::LowerIsBetter => 1,
        });
        out.u64(self.omitted);
        out.u64s(&self.rows);
        out.f64s(&self.weight);
        out.f64s(&self.weight_sq);
        out.i32(self.exponent);
    }

    /// Read [`ScaleTally::encode`]'s payload (the caller validates).
    pub(crate) fn decode(input: &mut Decoder<'_>) -> Result<Self> {
        let min = input.i32("the scale's min")?;
        let max = input.i32("the scale's max")?;
        let direction = match input.u8("the scale's direction")? {
            0 => Direction::HigherIsBetter,
            1 => Direction::LowerIsBetter,
            d => return Err(input.invalid(format!("unknown scale direction {d}"))),
        };
        let scale = Scale::new(min, max, direction)
            .map_err(|e| input.invalid(format!("scale {min}..={max}: {e}")))?;
        let omitted = input.u64("the omitted rows")?;
        let k = scale.points();
        input.check_fits(k, 24, "counts per point")?;
        let rows = input.u64s(k, "the rows per point")?;
        let weight = input.f64s(k, "the weights per point")?;
        let weight_sq = input.f64s(k, "the squared weights per point")?;
        // Version 1 had no exponent: its sums are in the caller's units.
        let exponent = if input.version() >= 2 {
            input.i32("the weight exponent")?
        } else {
            0
        };
        Ok(Self {
            scale,
            rows,
            weight,
            weight_sq,
            omitted,
            exponent,
        })
    }

    /// Add `other`'s counts (same scale, checked by the caller; sums of weights scaled by
    /// `2^-exponent`) with checked arithmetic, aligning the two exponents (see the module
    /// documentation); changes nothing on error. A Σw beyond `f64::MAX` in the caller's units is the
    /// error `too_big()`.
    fn add_scaled(
        &mut self,
        rows: &[u64],
        weight: &[f64],
        weight_sq: &[f64],
        omitted: u64,
        exponent: i32,
        too_big: impl FnOnce() -> Error,
    ) -> Result<()> {
        let mut total = add_count(self.total_rows(), omitted, || "the row count".into())?;
        let mut merged = self.rows.clone();
        for (i, (m, r)) in merged.iter_mut().zip(rows).enumerate() {
            let p = self.scale.min() + i as i32;
            *m = add_count(*m, *r, || format!("the row count at point {p}"))?;
            total = add_count(total, *r, || "the row count".into())?;
        }
        let e = aligned_exponent(
            (self.exponent, self.weight.iter().any(|w| *w > 0.0)),
            (exponent, weight.iter().any(|w| *w > 0.0)),
        );
        let (mine, theirs) = (self.exponent - e, exponent - e);
        let down = |x: f64, k: i32| if k == 0 { x } else { weights::ldexp(x, k) };
        let sums: Vec<(f64, f64)> = (0..merged.len())
            .map(|i| {
                (
                    down(self.weight[i], mine) + down(weight[i], theirs),
                    down(self.weight_sq[i], 2 * mine) + down(weight_sq[i], 2 * theirs),
                )
            })
            .collect();
        if let Some(i) = sums
            .iter()
            .position(|(w, w2)| !(w.is_finite() && w2.is_finite()))
        {
            return Err(Error::Overflow {
                what: format!(
                    "the sum of weights (or of squared weights) at point {}",
                    self.scale.min() + i as i32
                ),
            });
        }
        let total_weight: f64 = sums.iter().map(|(w, _)| w).sum();
        if !weights::ldexp(total_weight, e).is_finite() {
            return Err(too_big());
        }
        self.rows = merged;
        for (i, (w, w2)) in sums.into_iter().enumerate() {
            self.weight[i] = w;
            self.weight_sq[i] = w2;
        }
        self.omitted += omitted;
        self.exponent = if total_weight > 0.0 { e } else { 0 };
        Ok(())
    }

    /// Rows counted and omitted (fits in `u64`: every constructor and merge checks it).
    fn total_rows(&self) -> u64 {
        self.rows
            .iter()
            .fold(self.omitted, |a, r| a.saturating_add(*r))
    }
}

/// The format version of every rating tally kind (scale, NPS, CSAT, CES, paired NPS): 2 adds the
/// weight exponent to the payload; version 1 (no exponent, sums in the units of the weights) is
/// still read.
pub const TALLY_VERSION: u16 = 2;

/// Slices longer than this are folded in parallel chunks of this size.
const CHUNK: usize = 1 << 16;

impl ScaleTally {
    /// An empty tally on `scale`.
    pub fn new(scale: Scale) -> Self {
        let k = scale.points();
        Self {
            scale,
            rows: vec![0; k],
            weight: vec![0.0; k],
            weight_sq: vec![0.0; k],
            omitted: 0,
            exponent: 0,
        }
    }

    /// The scale.
    pub fn scale(&self) -> Scale {
        self.scale
    }
    /// Rows counted (missing values excluded).
    pub fn n(&self) -> u64 {
        self.rows.iter().sum()
    }
    /// Rows omitted as missing.
    pub fn n_omitted(&self) -> u64 {
        self.omitted
    }
    /// The binary scale exponent `e` of the sums of weights: [`ScaleTally::scaled_weights`] and
    /// [`ScaleTally::scaled_weights_sq`] are the true Σw and Σw² per point times `2^-e` and `2^-2e`.
    /// 0 for ordinary weights (the largest within `2^±256`) and whenever no row carries weight.
    pub fn weight_exponent(&self) -> i32 {
        self.exponent
    }
    /// Σw over counted rows, in the units of the weights (always representable: a fold or merge
    /// that would take it beyond `f64::MAX` is refused).
    pub fn sum_weights(&self) -> f64 {
        weights::ldexp(self.scaled_sum_weights(), self.exponent)
    }
    /// Σw over counted rows, times `2^-e` ([`ScaleTally::weight_exponent`]).
    pub fn scaled_sum_weights(&self) -> f64 {
        self.weight.iter().sum()
    }
    /// Σw² over counted rows, times `2^-2e` ([`ScaleTally::weight_exponent`]).
    pub fn scaled_sum_weights_sq(&self) -> f64 {
        self.weight_sq.iter().sum()
    }
    /// Σw² over counted rows, in the units of the weights.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] when `f64` cannot hold it (weights above about 1e154 overflow, positive
    /// weights below about 1e-162 underflow): read [`ScaleTally::scaled_sum_weights_sq`] and
    /// [`ScaleTally::weight_exponent`] instead.
    pub fn sum_weights_sq(&self) -> Result<f64> {
        self.unscale_sq(self.scaled_sum_weights_sq(), || "Σw²".into())
    }
    /// Kish effective sample size (Σw)²/Σw²; equals `n` without weights, 0 when Σw = 0. Computed
    /// from the scaled sums, so the same for weights of any magnitude.
    pub fn effective_n(&self) -> f64 {
        let s2 = self.scaled_sum_weights_sq();
        if s2 > 0.0 {
            let s = self.scaled_sum_weights();
            s * s / s2
        } else {
            0.0
        }
    }
    /// Rows counted at `point` (0 off the scale).
    pub fn rows_at(&self, point: i32) -> u64 {
        self.slot(point).map_or(0, |i| self.rows[i])
    }
    /// Σw at `point` in the units of the weights (0 off the scale).
    pub fn weight_at(&self, point: i32) -> f64 {
        self.slot(point)
            .map_or(0.0, |i| weights::ldexp(self.weight[i], self.exponent))
    }
    /// Σw² at `point` in the units of the weights (0 off the scale).
    ///
    /// # Errors
    ///
    /// As [`ScaleTally::sum_weights_sq`].
    pub fn weight_sq_at(&self, point: i32) -> Result<f64> {
        match self.slot(point) {
            Some(i) => self.unscale_sq(self.weight_sq[i], || format!("Σw² at point {point}")),
            None => Ok(0.0),
        }
    }
    /// Rows per point, lowest point first.
    pub fn rows(&self) -> &[u64] {
        &self.rows
    }
    /// Σw per point in the units of the weights, lowest point first (borrowed when the exponent is 0).
    pub fn weights(&self) -> std::borrow::Cow<'_, [f64]> {
        if self.exponent == 0 {
            std::borrow::Cow::Borrowed(&self.weight)
        } else {
            std::borrow::Cow::Owned(
                self.weight
                    .iter()
                    .map(|w| weights::ldexp(*w, self.exponent))
                    .collect(),
            )
        }
    }
    /// Σw per point times `2^-e` ([`ScaleTally::weight_exponent`]), lowest point first.
    pub fn scaled_weights(&self) -> &[f64] {
        &self.weight
    }
    /// Share of the weight on each point, lowest point first (summing to 1; NaN when no row was
    /// counted or the weights sum to zero): the answer distribution.
    pub fn shares(&self) -> Vec<f64> {
        let total = self.scaled_sum_weights();
        if self.n() == 0 || total <= 0.0 {
            return vec![f64::NAN; self.weight.len()];
        }
        self.weight.iter().map(|w| w / total).collect()
    }
    /// Σw² per point in the units of the weights, lowest point first.
    ///
    /// # Errors
    ///
    /// As [`ScaleTally::sum_weights_sq`], for the first point whose Σw² `f64` cannot hold.
    pub fn weights_sq(&self) -> Result<Vec<f64>> {
        (self.scale.min()..=self.scale.max())
            .zip(&self.weight_sq)
            .map(|(p, w2)| self.unscale_sq(*w2, || format!("Σw² at point {p}")))
            .collect()
    }
    /// Σw² per point times `2^-2e` ([`ScaleTally::weight_exponent`]), lowest point first.
    pub fn scaled_weights_sq(&self) -> &[f64] {
        &self.weight_sq
    }
    /// (Σw, Σw², rows) over the points for which `pred` is true, the sums scaled as
    /// [`ScaleTally::scaled_weights`] and [`ScaleTally::scaled_weights_sq`] (ratios of them are the
    /// ratios of the true sums).
    pub fn sum_where(&self, mut pred: impl FnMut(i32) -> bool) -> (f64, f64, u64) {
        let mut acc = (0.0, 0.0, 0);
        for (i, p) in (self.scale.min()..=self.scale.max()).enumerate() {
            if pred(p) {
                acc.0 += self.weight[i];
                acc.1 += self.weight_sq[i];
                acc.2 += self.rows[i];
            }
        }
        acc
    }

    /// A scaled Σw² in the units of the weights, or the error naming `what`.
    fn unscale_sq(&self, scaled: f64, what: impl FnOnce() -> String) -> Result<f64> {
        let v = weights::ldexp(scaled, 2 * self.exponent);
        if v.is_finite() && (scaled == 0.0 || v >= f64::MIN_POSITIVE) {
            Ok(v)
        } else {
            Err(sq_unrepresentable(what(), scaled, self.exponent))
        }
    }

    fn slot(&self, point: i32) -> Option<usize> {
        self.scale.contains(point).then(|| self.scale.slot(point))
    }

    /// Count one validated point with weight `weight` (finite, ≥ 0; of any magnitude, see
    /// [`ScaleTally::weight_exponent`]).
    pub fn push_point(&mut self, point: i32, weight: f64) -> Result<()> {
        let index = self.position();
        if !self.scale.contains(point) {
            return Err(self.scale.out_of_range(index, f64::from(point)));
        }
        weights::check_one(weight, index)?;
        let i = self.scale.slot(point);
        let e = weights::tally_exponent(weight);
        if e == self.exponent || weight == 0.0 {
            // The common case: no alignment, one cell updated in place.
            add_count(self.total_rows(), 1, || "the row count".into())?;
            let w = if e == 0 {
                weight
            } else {
                weights::ldexp(weight, -e)
            };
            let (sw, sw2) = (self.weight[i] + w, self.weight_sq[i] + w * w);
            if !(sw.is_finite() && sw2.is_finite()) {
                return Err(Error::Overflow {
                    what: format!("the sum of weights (or of squared weights) at point {point}"),
                });
            }
            let total = self.scaled_sum_weights() - self.weight[i] + sw;
            if !weights::ldexp(total, self.exponent).is_finite() {
                return Err(weights::unrepresentable());
            }
            self.rows[i] += 1;
            self.weight[i] = sw;
            self.weight_sq[i] = sw2;
            return Ok(());
        }
        let k = self.scale.points();
        let (mut rows, mut w, mut w2) = (vec![0u64; k], vec![0.0; k], vec![0.0; k]);
        let scaled = weights::ldexp(weight, -e);
        rows[i] = 1;
        w[i] = scaled;
        w2[i] = scaled * scaled;
        self.add_scaled(&rows, &w, &w2, 0, e, weights::unrepresentable)
    }

    /// Count one raw value with weight `weight`; its position in the stream names it in errors.
    pub fn push<T: RawValue>(&mut self, value: T, weight: f64, policy: NanPolicy) -> Result<()> {
        let index = self.position();
        weights::check_one(weight, index)?;
        if value.is_missing() {
            return match policy {
                NanPolicy::Raise => Err(Error::Missing { index }),
                _ => {
                    add_count(self.total_rows(), 1, || "the row count".into())?;
                    self.omitted += 1;
                    Ok(())
                }
            };
        }
        let p = self.scale.point_of(value, index)?;
        self.push_point(p, weight)
    }

    /// Count pre-aggregated answers (a `GROUP BY` of the answers, e.g. by Spark or SQL): `rows[i]`
    /// answers of value `values[i]`, whose weights sum to `sums.0[i]` with squares summing to
    /// `sums.1[i]` (without `sums`, every answer weighs 1), and `omitted` missing answers. The same
    /// state as folding the answers themselves: counts exactly, sums of weights to rounding.
    ///
    /// Every value is checked as an answer of the scale (its position in `values` names it) and
    /// every pair of sums as the sums of `rows[i]` weights (finite, ≥ 0, Σw² ≤ (Σw)² ≤ rows·Σw²).
    /// The sums are taken in the caller's units: weights whose squares under- or overflow cannot be
    /// given this way (fold the answers instead). On error nothing changes.
    ///
    /// ```
    /// use cx_metrics::{NanPolicy, Scale, ScaleTally};
    /// let scale = Scale::new(1, 5, cx_metrics::Direction::HigherIsBetter)?;
    /// let mut a = ScaleTally::new(scale);
    /// a.fold_counts(&[5.0, 3.0, 5.0], &[2, 1, 1], None, 1)?;
    /// let mut b = ScaleTally::new(scale);
    /// b.fold(&[5.0, 3.0, 5.0, 5.0, f64::NAN], None, NanPolicy::Omit)?;
    /// assert_eq!(a, b);
    /// assert!(a.fold_counts(&[6.0], &[1], None, 0).is_err());
    /// # Ok::<(), cx_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] for columns of different lengths; the errors of a rating for a value
    /// off the scale, fractional or not finite; [`Error::InvalidWeight`] for sums that are negative,
    /// not finite or contradictory; [`Error::Overflow`] for counts that overflow.
    pub fn fold_counts(
        &mut self,
        values: &[f64],
        rows: &[u64],
        sums: Option<(&[f64], &[f64])>,
        omitted: u64,
    ) -> Result<()> {
        let n = values.len();
        let check_len = |what: &'static str, len: usize| {
            if len == n {
                Ok(())
            } else {
                Err(Error::LengthMismatch {
                    what,
                    left: n,
                    right: len,
                })
            }
        };
        check_len("values and rows", rows.len())?;
        if let Some((w, w2)) = sums {
            check_len("values and sums of weights", w.len())?;
            check_len("values and sums of squared weights", w2.len())?;
        }
        let k = self.scale.points();
        let (mut r, mut w, mut w2) = (vec![0u64; k], vec![0.0; k], vec![0.0; k]);
        for (i, &value) in values.iter().enumerate() {
            let point = self.scale.point_of(value, i)?;
            let slot = self.scale.slot(point);
            r[slot] = add_count(r[slot], rows[i], || {
                format!("the row count at point {point}")
            })?;
            let (sw, sw2) = match sums {
                None => (rows[i] as f64, rows[i] as f64),
                Some((a, b)) => (a[i], b[i]),
            };
            if !(sw.is_finite() && sw2.is_finite() && sw >= 0.0 && sw2 >= 0.0) {
                return Err(Error::InvalidWeight {
                    index: i,
                    weight: if sw.is_finite() && sw >= 0.0 { sw2 } else { sw },
                });
            }
            // The same check a stored state's cells pass, reported as the input it is.
            crate::state::check_cell(rows[i], sw, sw2).map_err(|why| {
                Error::invalid(
                    "weights",
                    format!(
                        "the sums at position {i} (value {value}) cannot be those of {} weights: {why}",
                        rows[i]
                    ),
                )
            })?;
            w[slot] += sw;
            w2[slot] += sw2;
        }
        let part = Self::from_parts(self.scale, r, w, w2, omitted)?;
        self.merge(&part)
    }

    /// Rows seen so far, counted or omitted: the stream position of the next row.
    fn position(&self) -> usize {
        usize::try_from(self.total_rows()).unwrap_or(usize::MAX)
    }

    /// Fold a slice of raw values, optionally weighted, validating every value and weight.
    ///
    /// On error nothing is changed. Positions in errors are positions in `values`.
    /// Long slices are folded in parallel; the result does not depend on the number of threads.
    pub fn fold<T: RawValue>(
        &mut self,
        values: &[T],
        weights: Option<&[f64]>,
        policy: NanPolicy,
    ) -> Result<()> {
        if let Some(w) = weights {
            if w.len() != values.len() {
                return Err(Error::LengthMismatch {
                    what: "values and weights",
                    left: values.len(),
                    right: w.len(),
                });
            }
        }
        let scale = self.scale;
        let count = |start: usize, end: usize, w: Option<&[f64]>| -> Result<Chunk> {
            vectorized(
                #[inline(always)]
                || match w {
                    None => count_chunk(&values[start..end], start, &scale, policy),
                    Some(w) => weigh_chunk(&values[start..end], w, start, &scale, policy),
                },
            )
        };
        // A chunk whose sums of weights are out of range is counted again with its weights scaled
        // by the power of two of its largest weight (see the module documentation): the check of
        // the sums costs nothing for ordinary weights.
        let kernel = |start: usize, end: usize| -> Result<Chunk> {
            let w = weights.map(|w| &w[start..end]);
            let chunk = count(start, end, w)?;
            match (w, &chunk.weight) {
                (Some(w), Some((s1, s2))) if !weights::sums_in_range(s1, s2) => {
                    let e = weights::tally_exponent(weights::max_of(w));
                    if e == 0 {
                        return Ok(chunk);
                    }
                    let scaled = weights::scaled_by(w, e);
                    Ok(Chunk {
                        exponent: e,
                        ..count(start, end, Some(&scaled))?
                    })
                }
                _ => Ok(chunk),
            }
        };
        let parts: Vec<std::result::Result<Chunk, Error>> = if values.len() <= CHUNK {
            vec![kernel(0, values.len())]
        } else {
            (0..values.len().div_ceil(CHUNK))
                .into_par_iter()
                .map(|c| kernel(c * CHUNK, ((c + 1) * CHUNK).min(values.len())))
                .collect()
        };
        // Chunks are in input order, so the first error is the one at the lowest position.
        let mut chunks = Vec::with_capacity(parts.len());
        for part in parts {
            chunks.push(part?);
        }
        // Added to a copy, so that an overflow (possible only after merging huge states) changes
        // nothing.
        let mut sum = self.clone();
        for c in chunks {
            let (w, w2) = match c.weight {
                Some((w, w2)) => (w, w2),
                None => {
                    let w: Vec<f64> = c.rows.iter().map(|r| *r as f64).collect();
                    (w.clone(), w)
                }
            };
            sum.add_scaled(
                &c.rows,
                &w,
                &w2,
                c.omitted,
                c.exponent,
                weights::unrepresentable,
            )?;
        }
        *self = sum;
        Ok(())
    }
}

impl Merge for ScaleTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.scale != other.scale {
            return Err(Error::Incompatible(format!(
                "tallies on different scales ({} {:?} and {} {:?})",
                self.scale,
                self.scale.direction(),
                other.scale,
                other.scale.direction()
            )));
        }
        self.add_scaled(
            &other.rows,
            &other.weight,
            &other.weight_sq,
            other.omitted,
            other.exponent,
            || sum_overflow(""),
        )
    }
}

impl Accumulator for ScaleTally {
    const KIND: StateKind = StateKind::ScaleTally;
    /// 2: the weight exponent after the sums ([`ScaleTally::weight_exponent`]); 1 had none.
    const VERSION: u16 = TALLY_VERSION;
    type Batch<'a> = Ratings<'a>;
    type Options = ();
    /// The answer distribution: the share of the weight on each point ([`ScaleTally::shares`]).
    type Output = Vec<f64>;

    fn fold_batch(&mut self, batch: Ratings<'_>, weights: Option<&[f64]>) -> Result<()> {
        batch.values.apply(FoldOp {
            tally: self,
            weights,
            policy: batch.nan_policy,
        })
    }
    fn n(&self) -> u64 {
        ScaleTally::n(self)
    }
    fn finish(&self, _: &()) -> Result<Vec<f64>> {
        Ok(self.shares())
    }
    fn validate(&self) -> Result<()> {
        self.check(Self::KIND)
    }
    fn encode_payload(&self, out: &mut Encoder) {
        self.encode(out);
    }
    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        Self::decode(input)
    }
}

/// [`ScaleTally::fold`] of a typed slice inside [`Values`].
pub(crate) struct FoldOp<'t, 'w> {
    pub(crate) tally: &'t mut ScaleTally,
    pub(crate) weights: Option<&'w [f64]>,
    pub(crate) policy: NanPolicy,
}

impl ValuesOp for FoldOp<'_, '_> {
    type Output = Result<()>;
    fn run<T: RawValue>(self, values: &[T]) -> Result<()> {
        self.tally.fold(values, self.weights, self.policy)
    }
}

/// Counts of one chunk of a slice.
struct Chunk {
    rows: Vec<u64>,
    /// Σw and Σw² per point, times `2^-exponent` and `2^-2·exponent`.
    weight: Option<(Vec<f64>, Vec<f64>)>,
    omitted: u64,
    exponent: i32,
}

/// The error for the value at `index` (called only once a value failed the fast check).
#[cold]
pub(crate) fn value_error<T: RawValue>(
    value: T,
    index: usize,
    scale: &Scale,
    policy: NanPolicy,
) -> Error {
    if value.is_missing() {
        debug_assert_eq!(policy, NanPolicy::Raise);
        return Error::Missing { index };
    }
    match scale.point_of(value, index) {
        Err(e) => e,
        Ok(_) => unreachable_valid(index),
    }
}

#[cold]
fn unreachable_valid(index: usize) -> Error {
    Error::invalid(
        "values",
        format!("internal: value at {index} rejected but valid"),
    )
}

/// Rows per block of the slice kernels: a block of values and weights stays in the L1 cache, and its
/// per-point counts fit in `u16`.
const BLOCK: usize = 2048;

/// Unweighted counts of a chunk, block by block.
///
/// Narrow integers and floats ([`RawValue::COMPARE`]) are counted by comparing the block with each
/// scale point (and, for floats under `omit`, counting the NaNs); when the counts add up to the block's
/// length, every value was a valid point or an omitted missing value, with nothing to check further.
/// Otherwise, and for the other types, the block goes through [`histogram_block`], which also finds the
/// first bad value.
#[inline(always)]
fn count_chunk<T: RawValue>(
    values: &[T],
    offset: usize,
    scale: &Scale,
    policy: NanPolicy,
) -> Result<Chunk> {
    let k = scale.points();
    let points: Vec<Option<T>> = if T::COMPARE {
        (scale.min()..=scale.max()).map(T::from_point).collect()
    } else {
        Vec::new()
    };
    let mut rows = vec![0u64; k];
    let mut block_rows = vec![0u64; k];
    let mut h = vec![0u64; 4 * k];
    let mut omitted = 0u64;
    for (b, block) in values.chunks(BLOCK).enumerate() {
        if T::COMPARE {
            let mut total = 0u64;
            for (r, p) in block_rows.iter_mut().zip(&points) {
                *r = p.map_or(0, |p| count_equal(block, p));
                total += *r;
            }
            let missing = if T::INTEGER || policy == NanPolicy::Raise {
                0
            } else {
                count_missing(block)
            };
            if total + missing == block.len() as u64 {
                rows.iter_mut().zip(&block_rows).for_each(|(r, c)| *r += c);
                omitted += missing;
                continue;
            }
        }
        omitted += histogram_block(block, offset + b * BLOCK, scale, policy, &mut h)?;
    }
    for (i, r) in rows.iter_mut().enumerate() {
        *r += h[i] + h[k + i] + h[2 * k + i] + h[3 * k + i];
    }
    Ok(Chunk {
        rows,
        weight: None,
        omitted,
        exponent: 0,
    })
}

/// How many values of `block` (at most [`BLOCK`]) equal `p`: compare and add in lanes as wide as the
/// values, so that it vectorises.
#[inline(always)]
fn count_equal<T: RawValue>(block: &[T], p: T) -> u64 {
    if std::mem::size_of::<T>() <= 2 {
        u64::from(
            block
                .iter()
                .fold(0u16, |a, &v| a.wrapping_add(u16::from(v == p))),
        )
    } else if std::mem::size_of::<T>() == 4 {
        u64::from(block.iter().fold(0u32, |a, &v| a + u32::from(v == p)))
    } else {
        block.iter().fold(0u64, |a, &v| a + u64::from(v == p))
    }
}

/// How many values of `block` are missing (NaN).
#[inline(always)]
fn count_missing<T: RawValue>(block: &[T]) -> u64 {
    if std::mem::size_of::<T>() == 4 {
        u64::from(
            block
                .iter()
                .fold(0u32, |a, &v| a + u32::from(v.is_missing())),
        )
    } else {
        block
            .iter()
            .fold(0u64, |a, &v| a + u64::from(v.is_missing()))
    }
}

/// Unweighted histogram of a block into `h` (four interleaved sub-histograms of the scale's points,
/// which keep the loop free of store-to-load stalls when neighbouring values fall on the same point);
/// returns the rows omitted as missing.
#[inline(always)]
fn histogram_block<T: RawValue>(
    values: &[T],
    offset: usize,
    scale: &Scale,
    policy: NanPolicy,
    h: &mut [u64],
) -> Result<u64> {
    let k = scale.points();
    let min = i64::from(scale.min());
    let (h01, h23) = h.split_at_mut(2 * k);
    let (h0, h1) = h01.split_at_mut(k);
    let (h2, h3) = h23.split_at_mut(k);
    let mut omitted = 0u64;
    let slot = |v: T| point_slot(v, min, k);
    let mut quads = values.chunks_exact(4);
    let mut base = offset;
    for q in quads.by_ref() {
        match (slot(q[0]), slot(q[1]), slot(q[2]), slot(q[3])) {
            (Some(a), Some(b), Some(c), Some(d)) => {
                h0[a] += 1;
                h1[b] += 1;
                h2[c] += 1;
                h3[d] += 1;
            }
            _ => {
                for (j, &v) in q.iter().enumerate() {
                    match slot(v) {
                        Some(s) => h0[s] += 1,
                        None if v.is_missing() && policy == NanPolicy::Omit => omitted += 1,
                        None => return Err(value_error(v, base + j, scale, policy)),
                    }
                }
            }
        }
        base += 4;
    }
    for (j, &v) in quads.remainder().iter().enumerate() {
        match slot(v) {
            Some(s) => h0[s] += 1,
            None if v.is_missing() && policy == NanPolicy::Omit => omitted += 1,
            None => return Err(value_error(v, base + j, scale, policy)),
        }
    }
    Ok(omitted)
}

/// The zero-based slot of `v` on a scale starting at `min` with `k` points, if `v` is one of its
/// points: exact integer arithmetic for integers, [`float_slot`] for floats.
#[inline(always)]
pub(crate) fn point_slot<T: RawValue>(v: T, min: i64, k: usize) -> Option<usize> {
    if T::INTEGER {
        let s = v.as_i64()?.wrapping_sub(min) as u64;
        (s < k as u64).then_some(s as usize)
    } else {
        float_slot(v.as_f64(), min, k)
    }
}

/// The zero-based slot of `x` on a scale starting at `min` with `k` points, if `x` is one of its
/// points. Works through `f64` without `trunc` (a library call on baseline x86-64): a whole number
/// survives the round trip through an integer. Exact for every integer type too, since only values
/// that convert to a small whole `f64` can pass, and those convert exactly.
#[inline(always)]
fn float_slot(x: f64, min: i64, k: usize) -> Option<usize> {
    let s = x - min as f64;
    (s >= 0.0 && s < k as f64 && (s as usize) as f64 == s).then_some(s as usize)
}

/// Weighted counts of a chunk, block by block.
///
/// Each block is first mapped to slots (the zero-based scale point of every value, or `k` for a value
/// that is not a point) while its weights are checked, two loops that vectorise; a block whose values
/// and weights are all valid is then added in one tight loop over four interleaved sets of
/// accumulators (which keep consecutive rows on the same point from waiting on each other's
/// additions). Any other block is taken row by row, with the checks of [`ScaleTally::push`].
#[inline(always)]
fn weigh_chunk<T: RawValue>(
    values: &[T],
    weights: &[f64],
    offset: usize,
    scale: &Scale,
    policy: NanPolicy,
) -> Result<Chunk> {
    let k = scale.points();
    let min = i64::from(scale.min());
    let slot = |v: T| point_slot(v, min, k);
    let good = weights::is_valid;
    let mut rows = vec![0u64; 4 * k];
    let mut w1 = vec![0.0f64; 4 * k];
    let mut w2 = vec![0.0f64; 4 * k];
    let mut omitted = 0u64;
    let mut slots = vec![0u32; BLOCK];
    for (b, (vb, wb)) in values.chunks(BLOCK).zip(weights.chunks(BLOCK)).enumerate() {
        let slots = &mut slots[..vb.len()];
        for (s, &v) in slots.iter_mut().zip(vb) {
            *s = slot(v).map_or(k as u32, |s| s as u32);
        }
        let valid = slots.iter().fold(true, |a, &s| a & ((s as usize) < k))
            & wb.iter().fold(true, |a, &w| a & good(w));
        if valid {
            let (sq, wq) = (slots.chunks_exact(4), wb.chunks_exact(4));
            let (sr, wr) = (sq.remainder(), wq.remainder());
            for (s, w) in sq.zip(wq) {
                for l in 0..4 {
                    let i = l * k + s[l] as usize;
                    rows[i] += 1;
                    w1[i] += w[l];
                    w2[i] += w[l] * w[l];
                }
            }
            for (&s, &w) in sr.iter().zip(wr) {
                let i = s as usize;
                rows[i] += 1;
                w1[i] += w;
                w2[i] += w * w;
            }
            continue;
        }
        // One row at a time, checked in full: the weight first, then the value (as `push`).
        let base = offset + b * BLOCK;
        for (j, (&v, &w)) in vb.iter().zip(wb).enumerate() {
            weights::check_one(w, base + j)?;
            match slot(v) {
                Some(s) => {
                    rows[s] += 1;
                    w1[s] += w;
                    w2[s] += w * w;
                }
                None if v.is_missing() && policy == NanPolicy::Omit => omitted += 1,
                None => return Err(value_error(v, base + j, scale, policy)),
            }
        }
    }
    let fold4 = |x: &[f64]| -> Vec<f64> {
        (0..k)
            .map(|i| (x[i] + x[k + i]) + (x[2 * k + i] + x[3 * k + i]))
            .collect()
    };
    Ok(Chunk {
        rows: (0..k)
            .map(|i| rows[i] + rows[k + i] + rows[2 * k + i] + rows[3 * k + i])
            .collect(),
        weight: Some((fold4(&w1), fold4(&w2))),
        omitted,
        exponent: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn five() -> Scale {
        Scale::new(1, 5, Direction::HigherIsBetter).unwrap()
    }

    #[test]
    fn fold_reports_first_bad_position_and_changes_nothing() {
        let mut t = ScaleTally::new(five());
        t.fold(&[1u8, 2, 3], None, NanPolicy::Omit).unwrap();
        let before = t.clone();
        let mut v = vec![3.0; 200_000];
        v[150_000] = 7.0;
        v[170_000] = 2.5;
        assert_eq!(
            t.fold(&v, None, NanPolicy::Omit),
            Err(five().out_of_range(150_000, 7.0))
        );
        assert_eq!(t, before);
        let w = vec![1.0; 3];
        assert!(matches!(
            t.fold(&[1.0, f64::NAN, 2.0], Some(&w), NanPolicy::Raise),
            Err(Error::Missing { index: 1 })
        ));
        assert!(matches!(
            t.fold(&[1.0, 2.0, 2.0], Some(&[1.0, -0.5, 1.0]), NanPolicy::Raise),
            Err(Error::InvalidWeight { index: 1, .. })
        ));
        assert!(matches!(
            t.fold(&[1.0, 2.0], Some(&[1.0]), NanPolicy::Raise),
            Err(Error::LengthMismatch { .. })
        ));
        assert_eq!(t, before);
    }

    #[test]
    fn parallel_fold_equals_sequential_push() {
        let v: Vec<i16> = (0..300_001).map(|i| (i * 7 % 5 + 1) as i16).collect();
        let w: Vec<f64> = (0..v.len()).map(|i| (i % 3) as f64 * 0.5).collect();
        let mut a = ScaleTally::new(five());
        a.fold(&v, Some(&w), NanPolicy::Omit).unwrap();
        let mut b = ScaleTally::new(five());
        for (x, y) in v.iter().zip(&w) {
            b.push(*x, *y, NanPolicy::Omit).unwrap();
        }
        assert_eq!(a.rows(), b.rows());
        for p in 1..=5 {
            let (x, y) = (a.weight_at(p), b.weight_at(p));
            assert!((x - y).abs() <= 1e-9 * y.abs());
        }
        let mut c = ScaleTally::new(five());
        c.fold(&v, None, NanPolicy::Omit).unwrap();
        assert_eq!(c.rows(), a.rows());
        assert_eq!(c.effective_n(), v.len() as f64);
    }

    #[test]
    fn small_and_large_scales_count_like_push() {
        // The parallel, interleaved histogram equals row-by-row pushes on a small and a large scale.
        for scale in [
            Scale::NPS,
            Scale::new(0, 100, Direction::HigherIsBetter).unwrap(),
        ] {
            let v: Vec<Option<i64>> = (0..100_003i64)
                .map(|i| (i % 17 != 3).then_some((i * 31 + i / 7) % i64::from(scale.max() + 1)))
                .collect();
            let mut fast = ScaleTally::new(scale);
            fast.fold(&v, None, NanPolicy::Omit).unwrap();
            let mut slow = ScaleTally::new(scale);
            for x in &v {
                slow.push(*x, 1.0, NanPolicy::Omit).unwrap();
            }
            assert_eq!(fast, slow);
            let mut bad = v.clone();
            bad[77_777] = Some(-1);
            assert_eq!(
                ScaleTally::new(scale).fold(&bad, None, NanPolicy::Omit),
                Err(scale.out_of_range(77_777, -1.0))
            );
        }
    }

    #[test]
    fn merge_rejects_other_scales_and_round_trips() {
        let mut a = ScaleTally::new(five());
        a.fold(&[Some(1u8), None, Some(5)], None, NanPolicy::Omit)
            .unwrap();
        let other = ScaleTally::new(Scale::new(1, 5, Direction::LowerIsBetter).unwrap());
        assert!(matches!(a.merge(&other), Err(Error::Incompatible(_))));
        let json = serde_json::to_string(&a).unwrap();
        let back: ScaleTally = serde_json::from_str(&json).unwrap();
        assert_eq!(a, back);
        assert_eq!(back.n_omitted(), 1);
        // A corrupted state is refused on the way in instead of breaking a later merge.
        let short = json.replacen("\"rows\":[1,0,0,0,1]", "\"rows\":[1,0]", 1);
        assert_ne!(short, json);
        assert!(serde_json::from_str::<ScaleTally>(&short).is_err());
        let negative = json.replacen("\"weight\":[1.0", "\"weight\":[-1.0", 1);
        assert_ne!(negative, json);
        assert!(serde_json::from_str::<ScaleTally>(&negative).is_err());
    }

    /// Every kernel (comparison for narrow integers and floats, histogram for wide integers and
    /// options, the weighted block kernel) counts like row-by-row pushes, over several parallel chunks
    /// and blocks, and names the first bad value or weight whatever block it is in.
    #[test]
    fn every_kernel_counts_like_push_and_names_the_first_bad_value() {
        fn check<T: RawValue + std::fmt::Debug>(
            make: impl Fn(i64) -> T,
            bad: T,
            missing: Option<T>,
        ) {
            let scale = Scale::new(1, 7, Direction::HigherIsBetter).unwrap();
            let n = 150_011usize;
            let mut v: Vec<T> = (0..n as i64)
                .map(|i| make(1 + (i * 7 + i / 13) % 7))
                .collect();
            if let Some(m) = missing {
                for i in (5..n).step_by(997) {
                    v[i] = m;
                }
            }
            let w: Vec<f64> = (0..n).map(|i| 0.25 + (i % 11) as f64 / 4.0).collect();
            for weights in [None, Some(w.as_slice())] {
                let mut fast = ScaleTally::new(scale);
                fast.fold(&v, weights, NanPolicy::Omit).unwrap();
                let mut slow = ScaleTally::new(scale);
                for (i, x) in v.iter().enumerate() {
                    slow.push(*x, weights.map_or(1.0, |w| w[i]), NanPolicy::Omit)
                        .unwrap();
                }
                assert_eq!(fast.rows(), slow.rows(), "{}", std::any::type_name::<T>());
                assert_eq!(fast.n_omitted(), slow.n_omitted());
                for (a, b) in fast.weights().iter().zip(slow.weights().iter()) {
                    assert!((a - b).abs() <= 1e-9 * b, "{a} vs {b}");
                }
                let mut wrong = v.clone();
                wrong[123_456] = bad;
                wrong[140_000] = bad;
                let e = ScaleTally::new(scale).fold(&wrong, weights, NanPolicy::Omit);
                assert!(
                    matches!(
                        &e,
                        Err(Error::OutOfRange { index: 123_456, .. })
                            | Err(Error::NotIntegral { index: 123_456, .. })
                            | Err(Error::NonFinite { index: 123_456, .. })
                    ),
                    "{} {e:?}",
                    std::any::type_name::<T>()
                );
                if missing.is_some() {
                    let e = ScaleTally::new(scale).fold(&v, weights, NanPolicy::Raise);
                    assert_eq!(e, Err(Error::Missing { index: 5 }));
                }
            }
            let mut bad_w = w.clone();
            bad_w[99_999] = f64::NAN;
            assert!(matches!(
                ScaleTally::new(scale).fold(&v, Some(&bad_w), NanPolicy::Omit),
                Err(Error::InvalidWeight { index: 99_999, .. })
            ));
        }
        check(|x| x as u8, 9u8, None);
        check(|x| x as i8, -1i8, None);
        check(|x| x as i16, 0i16, None);
        check(|x| x as u16, 300u16, None);
        check(|x| x as i32, 8i32, None);
        check(|x| x, -5i64, None);
        check(|x| x as u64, u64::MAX, None);
        check(|x| x as f32, 2.5f32, Some(f32::NAN));
        check(|x| x as f64, f64::INFINITY, Some(f64::NAN));
        check(|x| x as f64, 3.25f64, Some(f64::NAN));
        check(|x| Some(x as f64), Some(0.0), Some(None));
    }

    #[test]
    fn shares_are_the_weight_per_point_and_nan_when_undefined() {
        let mut t = ScaleTally::new(five());
        assert!(t.shares().iter().all(|x| x.is_nan()));
        t.fold(
            &[1u8, 2, 2, 5],
            Some(&[1.0, 0.5, 0.5, 2.0]),
            NanPolicy::Raise,
        )
        .unwrap();
        assert_eq!(t.shares(), vec![0.25, 0.25, 0.0, 0.0, 0.5]);
        let mut zero = ScaleTally::new(five());
        zero.fold(&[3u8], Some(&[0.0]), NanPolicy::Raise).unwrap();
        assert!(zero.shares().iter().all(|x| x.is_nan()));
    }
}
