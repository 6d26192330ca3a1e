//! Survey weights, validated once.
//!
//! [`Weights`] checks a weight column once (every weight finite and `≥ 0`, else
//! [`Error::InvalidWeight`] naming the first bad position) and keeps what every weighted estimate needs
//! of it: the number of positive weights, the largest weight, and the power of two that brings the
//! largest weight near 1. Every function that takes survey weights builds one and works from it; none
//! repeats the check.
//!
//! # Rescaling
//!
//! Weighted estimates (shares, means, regression coefficients, their standard errors, Kish's effective
//! sample size `n_eff = (Σw)²/Σw²`) do not change when every weight is multiplied by the same positive
//! number, but their sums of squares do: weights of 10^200 give `Σw² = ∞`, weights of 10^-200 give
//! `Σw² = 0` (an infinite standard error). When the largest weight lies outside
//! [`2^-RANGE`, `2^RANGE`] ([`RANGE`]), [`Weights::scaled`] divides every weight by a power of two
//! ([`Weights::scale`], exact: it changes no digit of the ratios) so that the largest is in `[1, 2)`;
//! weights inside that range are used as they are, so ordinary weights give the same bits as before.
//! After rescaling, `Σw ≤ 2n` and `Σw² ≤ 4n` for `n` rows: every sum is representable. Weights much
//! smaller than the largest may underflow to zero after rescaling (below `2^-1074` of it), which
//! changes no sum by more than a rounding.
//!
//! ```
//! use cx_metrics::weights::Weights;
//! let w = [1e200, 2e200, 0.0];
//! let weights = Weights::new(&w).unwrap();
//! assert_eq!(weights.n_positive(), 2);
//! let scaled = weights.scaled();
//! assert!(scaled.iter().all(|w| *w <= 2.0));
//! assert!((weights.effective_n() - 9.0 / 5.0).abs() < 1e-12);
//! assert!(Weights::new(&[1.0, -1.0]).is_err());
//! ```

use std::borrow::Cow;

use crate::error::{Error, Result};

/// Weights whose largest lies in `[2^-RANGE, 2^RANGE]` are used as they are; others are rescaled by a
/// power of two. `2^(2·RANGE)` times a row count of up to `2^64` stays far below `f64::MAX`, and
/// `2^(-2·RANGE)` far above the smallest normal number, so sums of squares of weights in range are
/// always representable.
pub const RANGE: i32 = 256;

/// A weight column checked once: finite, non-negative, with its largest value and rescaling factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights<'a> {
    values: &'a [f64],
    max: f64,
    n_positive: usize,
    scale: f64,
}

impl<'a> Weights<'a> {
    /// Check `values`: every weight finite and `≥ 0`, else [`Error::InvalidWeight`] naming the first
    /// bad position.
    pub fn new(values: &'a [f64]) -> Result<Self> {
        check(values)?;
        let (max, n_positive) = values.iter().fold((0.0f64, 0usize), |(m, n), &w| {
            (m.max(w), n + usize::from(w > 0.0))
        });
        Ok(Self {
            values,
            max,
            n_positive,
            scale: rescale_factor(max),
        })
    }

    /// [`Weights::new`] of weights that must number `rows`: a different length is the error
    /// `mismatch(len)` (each caller names its inputs as its documentation says), checked first.
    pub fn for_rows(
        values: &'a [f64],
        rows: usize,
        mismatch: impl FnOnce(usize) -> Error,
    ) -> Result<Self> {
        if values.len() != rows {
            return Err(mismatch(values.len()));
        }
        Self::new(values)
    }

    /// The weights as given.
    pub fn values(&self) -> &'a [f64] {
        self.values
    }
    /// Number of weights.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    /// Whether there are no weights.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// The largest weight (0 when empty).
    pub fn max(&self) -> f64 {
        self.max
    }
    /// Number of positive weights.
    pub fn n_positive(&self) -> usize {
        self.n_positive
    }
    /// Whether every weight is zero (or there is none).
    pub fn all_zero(&self) -> bool {
        self.n_positive == 0
    }
    /// The power of two every weight is multiplied by in [`Weights::scaled`]: 1 when the largest weight
    /// is within `2^±RANGE` (or every weight is zero).
    pub fn scale(&self) -> f64 {
        self.scale
    }
    /// Whether [`Weights::scaled`] differs from [`Weights::values`].
    pub fn is_rescaled(&self) -> bool {
        self.scale != 1.0
    }
    /// The weights times [`Weights::scale`]: borrowed as given when the scale is 1, else a rescaled copy
    /// (of the weights only).
    pub fn scaled(&self) -> Cow<'a, [f64]> {
        if self.is_rescaled() {
            Cow::Owned(self.values.iter().map(|w| w * self.scale).collect())
        } else {
            Cow::Borrowed(self.values)
        }
    }
    /// `(Σw, Σw²)` of the rescaled weights (see [`Weights::scaled`]).
    pub fn scaled_sums(&self) -> (f64, f64) {
        let s = self.scale;
        self.values.iter().fold((0.0, 0.0), |(a, b), &w| {
            let w = w * s;
            (a + w, b + w * w)
        })
    }
    /// Kish's effective sample size `(Σw)²/Σw²`, from the rescaled weights (so the same for weights
    /// multiplied by any positive number); 0 when every weight is zero.
    pub fn effective_n(&self) -> f64 {
        let (s, s2) = self.scaled_sums();
        if s2 > 0.0 {
            s * s / s2
        } else {
            0.0
        }
    }
    /// `Σw` in the caller's units: the rescaled sum divided by the scale; an error when it cannot be
    /// represented (every weight near `f64::MAX`).
    pub fn sum(&self) -> Result<f64> {
        let total = self.scaled_sums().0 / self.scale;
        if total.is_finite() {
            Ok(total)
        } else {
            Err(unrepresentable())
        }
    }
}

/// The check of every weight column: finite and `≥ 0`, else [`Error::InvalidWeight`] naming the first
/// bad position.
pub fn check(values: &[f64]) -> Result<()> {
    // One branch-free pass before the search.
    if values.iter().fold(true, |a, &w| a & is_valid(w)) {
        return Ok(());
    }
    let index = values.iter().position(|&w| !is_valid(w)).unwrap_or(0);
    Err(invalid(values[index], index))
}

/// Whether one weight is valid: finite and `≥ 0` (NaN fails both comparisons). For kernels that check
/// weights while they fold them.
#[inline(always)]
pub fn is_valid(weight: f64) -> bool {
    (0.0..=f64::MAX).contains(&weight)
}

/// The check of one weight at position `index` (for row-by-row updates).
#[inline]
pub fn check_one(weight: f64, index: usize) -> Result<()> {
    if is_valid(weight) {
        Ok(())
    } else {
        Err(invalid(weight, index))
    }
}

#[cold]
fn invalid(weight: f64, index: usize) -> Error {
    Error::InvalidWeight { index, weight }
}

/// The error for weights whose sum, even rescaled, cannot be represented in the caller's units.
#[cold]
pub fn unrepresentable() -> Error {
    Error::invalid(
        "weights",
        "their sum cannot be represented as a floating-point number (weights near 1.8e308); \
         divide every weight by the same constant (estimates do not change)",
    )
}

/// The binary scale exponent of a batch of tallied weights whose largest is `max` (finite, `≥ 0`):
/// 0 when `max` is zero or within `[2^-RANGE, 2^RANGE]` (the weights are tallied as they are, so
/// ordinary weights give the same bits as ever), else `floor(log2(max))`, so that the largest weight
/// times `2^-e` lies in `[1, 2)`. The same rule as [`Weights::scale`], as an exponent, for the
/// mergeable tallies, which keep their sums as true sums × `2^-e` (see [`crate::ScaleTally`]).
pub fn tally_exponent(max: f64) -> i32 {
    if max == 0.0 || (2f64.powi(-RANGE)..=2f64.powi(RANGE)).contains(&max) {
        0
    } else {
        exponent_of(max)
    }
}

/// Whether sums of weights tallied as they are (exponent 0) are safe: every sum finite, and the
/// largest `Σw` zero or within `[2^-RANGE, 2^RANGE]`. Then no weight exceeds `2^RANGE` (so no square
/// overflows) and the largest weight is at least `2^-RANGE` divided by the rows (so its square is a
/// normal number); otherwise the batch is tallied again with its weights times `2^-e`
/// ([`tally_exponent`]). Checking the sums after the fold costs nothing for ordinary weights.
pub(crate) fn sums_in_range(w: &[f64], w2: &[f64]) -> bool {
    let max = w.iter().fold(0.0f64, |m, &x| m.max(x));
    let finite = w.iter().chain(w2).all(|x| x.is_finite());
    finite && (max == 0.0 || (2f64.powi(-RANGE)..=2f64.powi(RANGE)).contains(&max))
}

/// `values` times `2^-e` (exact: a power of two changes no digit, unless a result is subnormal).
pub fn scaled_by(values: &[f64], e: i32) -> Vec<f64> {
    values.iter().map(|&w| ldexp(w, -e)).collect()
}

/// `x · 2^k` for any `k`, exact whenever the result is a normal number (in steps of at most
/// `2^±1000`, each a single rounding-free multiplication while the value stays normal); overflows
/// to infinity and underflows towards zero as the true product does.
pub fn ldexp(x: f64, k: i32) -> f64 {
    let step = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    let (mut x, mut k) = (x, k);
    while k > 1000 {
        x *= step(1000);
        k -= 1000;
    }
    while k < -1000 {
        x *= step(-1000);
        k += 1000;
    }
    x * step(k)
}

/// The largest of `values` (0 when empty); NaN is never the largest.
pub(crate) fn max_of(values: &[f64]) -> f64 {
    values.iter().fold(0.0f64, |m, &x| m.max(x))
}

/// The power of two that brings `max` into `[1, 2)`, or 1 when `max` is within `2^±RANGE` or zero.
fn rescale_factor(max: f64) -> f64 {
    let lo = 2f64.powi(-RANGE);
    let hi = 2f64.powi(RANGE);
    if max == 0.0 || (lo..=hi).contains(&max) {
        return 1.0;
    }
    // max = m·2^e with m in [1, 2); 2^-e is one f64 for every e but the subnormal exponents below
    // -1023, where the largest power of two is used (the weights are then only approximately
    // rescaled, which is all their few significant bits allow).
    pow2(-exponent_of(max))
}

/// `floor(log2(x))` of a positive finite `x` (subnormals included).
fn exponent_of(x: f64) -> i32 {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: x = mantissa · 2^-1074.
        let mantissa = bits & ((1u64 << 52) - 1);
        63 - mantissa.leading_zeros() as i32 - 1074
    } else {
        biased - 1023
    }
}

/// `2^e` for `e` in `-1023..=1074`: exact up to 1023, the largest power of two above.
fn pow2(e: i32) -> f64 {
    2f64.powi(e.min(1023))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_each_weight_and_names_the_first_bad_position() {
        assert!(Weights::new(&[]).unwrap().all_zero());
        for (w, index) in [
            (vec![1.0, f64::NAN, -1.0], 1),
            (vec![1.0, 2.0, -0.5], 2),
            (vec![f64::INFINITY], 0),
        ] {
            match Weights::new(&w) {
                Err(Error::InvalidWeight { index: i, .. }) => assert_eq!(i, index),
                other => panic!("{other:?}"),
            }
        }
        let e = Weights::for_rows(&[1.0], 2, |len| Error::LengthMismatch {
            what: "values and weights",
            left: 2,
            right: len,
        });
        assert!(matches!(e, Err(Error::LengthMismatch { right: 1, .. })));
        assert!(check_one(-0.0, 3).is_ok() && check_one(-1.0, 3).is_err());
    }

    #[test]
    fn ordinary_weights_are_not_rescaled_and_extreme_ones_are() {
        let w = [0.5, 2.0, 3.0, 0.0];
        let ordinary = Weights::new(&w).unwrap();
        assert_eq!((ordinary.scale(), ordinary.n_positive()), (1.0, 3));
        assert!(matches!(ordinary.scaled(), Cow::Borrowed(_)));
        // Kish n_eff by hand: (5.5)² / (0.25 + 4 + 9) = 30.25 / 13.25.
        let kish = 30.25 / 13.25;
        assert!((ordinary.effective_n() - kish).abs() < 1e-15);
        for factor in [1e-200, 1e200, 1e300, 1e-300] {
            let big: Vec<f64> = w.iter().map(|x| x * factor).collect();
            let b = Weights::new(&big).unwrap();
            assert!(b.is_rescaled(), "{factor}");
            let m = b.scaled().iter().fold(0.0f64, |m, x| m.max(*x));
            assert!((1.0..2.0).contains(&m), "{factor}: {m}");
            assert!((b.effective_n() - kish).abs() < 1e-12 * kish, "{factor}");
        }
        // Subnormal weights are brought up as far as one power of two can.
        let tiny = Weights::new(&[5e-324, 1e-323]).unwrap();
        assert!(tiny.scaled().iter().all(|w| *w > 1e-20));
        // Σw of two weights near f64::MAX is not representable.
        let huge = Weights::new(&[f64::MAX, f64::MAX]).unwrap();
        assert!((huge.effective_n() - 2.0).abs() < 1e-15);
        assert!(huge.sum().is_err());
        assert_eq!(Weights::new(&[1e200, 1e200]).unwrap().sum().unwrap(), 2e200);
    }
}
