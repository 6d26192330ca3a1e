//! The one tolerance policy of the integration tests: how close a computed figure must be to its
//! reference, and an assertion whose message names what was compared.
//!
//! A figure passes when it equals the reference exactly (infinities included), or when both are NaN
//! and the tolerance says NaN equals NaN, or when `|got − want|` is within the tolerance:
//!
//! - [`Tol::rel`]`(r)`: `|got − want| ≤ r·s`, where the scale `s` is `|want|` (the default),
//!   `max(|got|, |want|)` ([`Tol::of_larger`]) or `max(1, |got|, |want|)` ([`Tol::of_larger_or_one`]);
//! - [`Tol::abs`]`(a)`: `|got − want| ≤ a`;
//! - [`Tol::near_zero`]`(a, below)`: when `|want| < below`, `|got − want| ≤ a` replaces the relative
//!   test (a relative error means nothing for a reference that is zero or nearly so).

// Each test file uses part of this module.
#![allow(dead_code)]

/// What the relative tolerance is relative to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// `|want|`, the reference.
    Want,
    /// `max(|got|, |want|)`: symmetric, for two computations of the same figure.
    Larger,
    /// `max(1, |got|, |want|)`: relative for large figures, absolute for figures below 1.
    LargerOrOne,
}

/// How close a figure must be to its reference (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tol {
    /// Relative tolerance.
    pub rel: f64,
    /// Absolute tolerance, used when `|want| < abs_below`.
    pub abs: f64,
    /// The absolute tolerance replaces the relative one below this `|want|` (∞: always).
    pub abs_below: f64,
    /// What the relative tolerance is relative to.
    pub scale: Scale,
    /// Whether two NaNs are equal.
    pub nan_equal: bool,
}

impl Tol {
    /// `|got − want| ≤ rel·|want|`.
    pub const fn rel(rel: f64) -> Self {
        Self {
            rel,
            abs: 0.0,
            abs_below: 0.0,
            scale: Scale::Want,
            nan_equal: false,
        }
    }

    /// `|got − want| ≤ abs`.
    pub const fn abs(abs: f64) -> Self {
        Self {
            rel: 0.0,
            abs,
            abs_below: f64::INFINITY,
            scale: Scale::Want,
            nan_equal: false,
        }
    }

    /// For a reference with `|want| < below`, `|got − want| ≤ abs` instead of the relative test.
    pub const fn near_zero(self, abs: f64, below: f64) -> Self {
        Self {
            abs,
            abs_below: below,
            ..self
        }
    }

    /// Relative to `max(|got|, |want|)`.
    pub const fn of_larger(self) -> Self {
        Self {
            scale: Scale::Larger,
            ..self
        }
    }

    /// Relative to `max(1, |got|, |want|)`.
    pub const fn of_larger_or_one(self) -> Self {
        Self {
            scale: Scale::LargerOrOne,
            ..self
        }
    }

    /// Two NaNs are equal.
    pub const fn nan_equal(self) -> Self {
        Self {
            nan_equal: true,
            ..self
        }
    }

    /// Whether `got` is close enough to `want`.
    pub fn accepts(&self, got: f64, want: f64) -> bool {
        if got == want || (self.nan_equal && got.is_nan() && want.is_nan()) {
            return true;
        }
        let diff = (got - want).abs();
        if want.abs() < self.abs_below {
            return diff <= self.abs;
        }
        let s = match self.scale {
            Scale::Want => want.abs(),
            Scale::Larger => got.abs().max(want.abs()),
            Scale::LargerOrOne => got.abs().max(want.abs()).max(1.0),
        };
        diff <= self.rel * s
    }
}

/// Whether `got` is within `tol` of `want` (for `prop_assert!`).
pub fn close(got: f64, want: f64, tol: Tol) -> bool {
    tol.accepts(got, want)
}

/// Whether every figure of `got` is within `tol` of the same figure of `want` (and as many).
pub fn all_close(got: &[f64], want: &[f64], tol: Tol) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(&g, &w)| tol.accepts(g, w))
}

/// Asserts that `got` is within `tol` of `want`; the message names `what` and both figures.
#[track_caller]
pub fn assert_close(what: &str, got: f64, want: f64, tol: Tol) {
    assert!(
        tol.accepts(got, want),
        "{what}: got {got:.17e}, want {want:.17e} (difference {:e}, relative {:e}; tolerance {tol:?})",
        (got - want).abs(),
        ((got - want) / want).abs()
    );
}
