//! Confidence intervals shared by every metric: the [`Interval`] type and the normal quantile.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::{Error, Result};

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// Nominal coverage, in (0, 1).
    pub confidence_level: f64,
    /// Whether a bound was clipped to the parameter's range (e.g. NPS to [−1, 1]).
    pub clipped: bool,
}

impl Interval {
    /// An interval, unclipped.
    pub fn new(low: f64, high: f64, confidence_level: f64) -> Self {
        Self {
            low,
            high,
            confidence_level,
            clipped: false,
        }
    }

    /// The interval clipped to `[lo, hi]`, flagging whether clipping changed it.
    pub fn clip(self, lo: f64, hi: f64) -> Self {
        let (low, high) = (self.low.max(lo), self.high.min(hi));
        Self {
            low,
            high,
            clipped: self.clipped || low != self.low || high != self.high,
            ..self
        }
    }

    /// Whether `x` lies inside the closed interval.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// Width `high − low`.
    pub fn width(&self) -> f64 {
        self.high - self.low
    }
}

/// Check a confidence level lies strictly between 0 and 1.
pub fn check_level(confidence_level: f64) -> Result<f64> {
    if confidence_level > 0.0 && confidence_level < 1.0 {
        Ok(confidence_level)
    } else {
        Err(Error::invalid(
            "confidence_level",
            format!("{confidence_level}; it must lie strictly between 0 and 1, e.g. 0.95"),
        ))
    }
}

/// The standard normal quantile Φ⁻¹(p).
pub fn normal_quantile(p: f64) -> f64 {
    // Normal::new(0, 1) cannot fail.
    Normal::standard().inverse_cdf(p)
}

/// The two-sided critical value z such that P(|Z| ≤ z) = `confidence_level`.
///
/// ```
/// let z = cx_metrics::intervals::z_two_sided(0.95).unwrap();
/// assert!((z - 1.959963984540054).abs() < 1e-12);
/// ```
pub fn z_two_sided(confidence_level: f64) -> Result<f64> {
    let c = check_level(confidence_level)?;
    Ok(normal_quantile(0.5 + c / 2.0))
}

/// Two-sided p-value of a standard normal statistic.
pub fn normal_p_two_sided(z: f64) -> f64 {
    2.0 * Normal::standard().sf(z.abs())
}
