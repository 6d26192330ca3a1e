//! Sample-size planning for NPS surveys.

use serde::{Deserialize, Serialize};

use super::NpsMethod;
use crate::error::{Error, Result};
use crate::intervals::{check_level, normal_quantile, z_two_sided};

/// The per-respondent variance V = p_P + p_D − (p_P − p_D)² to plan with.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnticipatedVariance {
    /// V = 1, the largest possible (half promoters, half detractors): the safe default.
    #[default]
    WorstCase,
    /// V from anticipated shares of promoters and detractors (each in [0, 1], summing to ≤ 1).
    Shares {
        /// Anticipated share of promoters.
        promoters: f64,
        /// Anticipated share of detractors.
        detractors: f64,
    },
    /// V given directly, in [0, 1].
    Variance(f64),
}

impl AnticipatedVariance {
    /// The variance V, validated.
    pub fn variance(&self) -> Result<f64> {
        match *self {
            Self::WorstCase => Ok(1.0),
            Self::Shares {
                promoters,
                detractors,
            } => {
                let ok = |x: f64| (0.0..=1.0).contains(&x);
                if !(ok(promoters) && ok(detractors) && promoters + detractors <= 1.0) {
                    return Err(Error::invalid(
                        "shares",
                        format!(
                            "promoters {promoters}, detractors {detractors}; each must lie in \
                             [0, 1] and together sum to at most 1"
                        ),
                    ));
                }
                let d = promoters - detractors;
                Ok((promoters + detractors - d * d).max(0.0))
            }
            Self::Variance(v) => {
                if (0.0..=1.0).contains(&v) {
                    Ok(v)
                } else {
                    Err(Error::invalid(
                        "variance",
                        format!("{v}; the NPS variance V lies in [0, 1]"),
                    ))
                }
            }
        }
    }
}

fn check_positive(name: &'static str, x: f64) -> Result<f64> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(Error::invalid(
            name,
            format!("{x}; it must be finite and > 0"),
        ))
    }
}

/// Respondents needed so that the interval's half-width (margin of error, on the −1..1 scale) is at
/// most `margin_of_error` at `confidence_level`, by [`NpsMethod::Wald`] or
/// [`NpsMethod::AdjustedWald`] (other methods are an [`Error::InvalidArgument`]). At least 1.
///
/// # Formula
/// Wald: n = ⌈z² V / m²⌉; adjusted Wald, whose SE divides by n + 3: n = ⌈z² V / m²⌉ − 3, where
/// z = Φ⁻¹((1 + level)/2).
///
/// ```
/// use cx_metrics::nps::{sample_size, AnticipatedVariance, NpsMethod};
/// let n = sample_size(0.05, 0.95, NpsMethod::Wald, AnticipatedVariance::WorstCase).unwrap();
/// assert_eq!(n, 1537);
/// ```
pub fn sample_size(
    margin_of_error: f64,
    confidence_level: f64,
    method: NpsMethod,
    anticipated: AnticipatedVariance,
) -> Result<u64> {
    let m = check_positive("margin_of_error", margin_of_error)?;
    let z = z_two_sided(confidence_level)?;
    let v = anticipated.variance()?;
    let base = (z * z * v / (m * m)).ceil();
    let n = match method {
        NpsMethod::Wald => base,
        NpsMethod::AdjustedWald => base - 3.0,
        other => {
            return Err(Error::invalid(
                "method",
                format!("{other}: planning is available for \"wald\" and \"adjusted_wald\""),
            ))
        }
    };
    to_count(n, "margin_of_error")
}

/// A planned count as an integer, at least 1; a count beyond 2^53 (a vanishing margin or effect)
/// is an error rather than a saturated number.
fn to_count(n: f64, name: &'static str) -> Result<u64> {
    if n.is_finite() && n <= 9.007_199_254_740_992e15 {
        Ok(n.max(1.0) as u64)
    } else {
        Err(Error::invalid(
            name,
            format!("the required sample size ({n:e}) is beyond any survey; ask for a wider margin or a larger difference"),
        ))
    }
}

/// Respondents per group (two independent groups of equal size) to detect a difference `delta` in
/// NPS (on −1..1) with a two-sided Wald test at level `alpha` and power `power`, both groups having
/// variance V. At least 1.
///
/// # Formula
/// n = ⌈(z_{1−α/2} + z_{power})² · 2V / δ²⌉.
///
/// ```
/// use cx_metrics::nps::{sample_size_two_groups, AnticipatedVariance};
/// let n = sample_size_two_groups(0.1, 0.05, 0.8, AnticipatedVariance::WorstCase).unwrap();
/// assert_eq!(n, 1570);
/// ```
pub fn sample_size_two_groups(
    delta: f64,
    alpha: f64,
    power: f64,
    anticipated: AnticipatedVariance,
) -> Result<u64> {
    if !(delta.is_finite() && delta != 0.0) {
        return Err(Error::invalid(
            "delta",
            format!("{delta}; the difference to detect must be finite and non-zero"),
        ));
    }
    let za = z_two_sided(1.0 - check_alpha(alpha)?)?;
    let power = check_level(power).map_err(|_| {
        Error::invalid(
            "power",
            format!("{power}; it must lie strictly between 0 and 1, e.g. 0.8"),
        )
    })?;
    let zb = normal_quantile(power);
    let v = anticipated.variance()?;
    let n = ((za + zb) * (za + zb) * 2.0 * v / (delta * delta)).ceil();
    to_count(n, "delta")
}

fn check_alpha(alpha: f64) -> Result<f64> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(alpha)
    } else {
        Err(Error::invalid(
            "alpha",
            format!("{alpha}; it must lie strictly between 0 and 1, e.g. 0.05"),
        ))
    }
}
