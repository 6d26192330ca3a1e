//! The weighted summary of a rating tally shared by the CSAT and CES results: sample sizes, mean,
//! standard deviation, share of the weight per point, and the intervals built from them.

use std::ops::RangeInclusive;

use crate::error::{Error, Result, UndefinedReason};
use crate::intervals::{mean_t_ci, proportion_ci, Interval, ProportionMethod};
use crate::tally::ScaleTally;

/// Sizes, location and spread of a tally (NaN where undefined).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Summary {
    pub n: u64,
    pub n_omitted: u64,
    pub sum_weights: f64,
    pub effective_n: f64,
    pub mean: f64,
    pub sd: f64,
    pub distribution: Vec<f64>,
    pub undefined: Option<UndefinedReason>,
}

impl Summary {
    /// Summarise `t`.
    ///
    /// mean = Σ wᵢxᵢ / Σ wᵢ; sd² = Σ wᵢ(xᵢ − mean)² / (Σw − Σw²/Σw), the reliability-weights
    /// correction, which is the ordinary n − 1 divisor for unit weights and does not change when all
    /// weights are multiplied by a constant. sd is NaN when the effective sample size is ≤ 1.
    ///
    /// Computed from the tally's scaled sums ([`ScaleTally::weight_exponent`]), so the same for
    /// weights of any magnitude; only `sum_weights` is in the units of the weights.
    pub fn of(t: &ScaleTally) -> Self {
        let n = t.n();
        let sum_weights = t.scaled_sum_weights();
        let undefined = if n == 0 {
            Some(UndefinedReason::NoRows)
        } else if sum_weights <= 0.0 {
            Some(UndefinedReason::ZeroTotalWeight)
        } else {
            None
        };
        let scale = t.scale();
        let points = || {
            (scale.min()..=scale.max())
                .map(f64::from)
                .zip(t.scaled_weights())
        };
        let (mean, sd) = if undefined.is_some() {
            (f64::NAN, f64::NAN)
        } else {
            // A weighted mean lies between the smallest and largest point; the division can round
            // past them (7·w / w = 7 + 1 ulp), so it is kept on the scale.
            let (lo, hi) = (f64::from(scale.min()), f64::from(scale.max()));
            let mean = (points().map(|(x, w)| w * x).sum::<f64>() / sum_weights).clamp(lo, hi);
            let ss: f64 = points().map(|(x, w)| w * (x - mean) * (x - mean)).sum();
            let denom = sum_weights - t.scaled_sum_weights_sq() / sum_weights;
            let sd = if t.effective_n() > 1.0 && denom > 0.0 {
                (ss / denom).sqrt()
            } else {
                f64::NAN
            };
            (mean, sd)
        };
        Self {
            n,
            n_omitted: t.n_omitted(),
            sum_weights: t.sum_weights(),
            effective_n: t.effective_n(),
            mean,
            sd,
            distribution: t.shares(),
            undefined,
        }
    }

    /// Share of the weight on the points in `range` (NaN when undefined).
    pub fn share(t: &ScaleTally, range: RangeInclusive<i32>) -> f64 {
        let total = t.scaled_sum_weights();
        if t.n() == 0 || total <= 0.0 {
            return f64::NAN;
        }
        // A sum over a subset of non-negative terms never exceeds the full sum in floating point.
        t.sum_where(|p| range.contains(&p)).0 / total
    }
}

/// Fail with the reason when a result is undefined.
pub(crate) fn defined(undefined: Option<UndefinedReason>) -> Result<()> {
    match undefined {
        Some(reason) => Err(Error::Undefined(reason)),
        None => Ok(()),
    }
}

/// The effective number of successes `share · n_eff` of a weighted share (exact for unit weights at
/// the ends: 0 and n_eff).
pub(crate) fn successes(share: f64, effective_n: f64) -> f64 {
    let x = share * effective_n;
    if x.is_nan() {
        // From a hand-built result: let validation reject it (clamp would panic on NaN bounds).
        x
    } else {
        x.max(0.0).min(effective_n)
    }
}

/// The interval for a share estimated on an effective sample of `effective_n`.
pub(crate) fn share_ci(
    undefined: Option<UndefinedReason>,
    share: f64,
    effective_n: f64,
    confidence_level: f64,
    method: ProportionMethod,
) -> Result<Interval> {
    defined(undefined)?;
    proportion_ci(
        successes(share, effective_n),
        effective_n,
        confidence_level,
        method,
    )
}

/// The t interval for the mean on the effective sample, clipped to the scale `[lo, hi]` (flagged).
pub(crate) fn mean_ci(
    undefined: Option<UndefinedReason>,
    mean: f64,
    sd: f64,
    effective_n: f64,
    confidence_level: f64,
    (lo, hi): (i32, i32),
) -> Result<Interval> {
    defined(undefined)?;
    crate::intervals::check_level(confidence_level)?;
    if !(effective_n > 1.0 && sd.is_finite()) {
        return Err(Error::Undefined(UndefinedReason::SingleObservation));
    }
    Ok(mean_t_ci(mean, sd, effective_n, confidence_level)?.clip(f64::from(lo), f64::from(hi)))
}
