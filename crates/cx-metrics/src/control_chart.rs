//! Control charts of an estimate followed over waves, with limits from each wave's own standard
//! error, and the Western Electric rules as data.
//!
//! A wave's estimate is compared with a **centre line** (the estimate of all waves pooled) and with
//! **limits** at ± 3 σᵢ, where σᵢ is the standard error the wave would have, at its own (effective)
//! sample size, if the centre line were true:
//!
//! | measure | centre line | σᵢ (standard chart) | standard chart | Laney chart |
//! | --- | --- | --- | --- | --- |
//! | a share | p̄ = Σ nᵢ pᵢ / Σ nᵢ | √(p̄(1 − p̄)/nᵢ) | p-chart | Laney P′ |
//! | NPS | P̄ − D̄ (pooled promoter and detractor shares) | √((P̄ + D̄ − (P̄ − D̄)²)/nᵢ) (trinomial) | trinomial | Laney trinomial |
//! | a mean | x̄ = Σ nᵢ x̄ᵢ / Σ nᵢ | s_p/√nᵢ, s_p² = Σ(nᵢ − 1)sᵢ² / Σ(nᵢ − 1) | X̄ | I-MR |
//!
//! nᵢ is the wave's Kish effective sample size (its n without weights).
//!
//! **Laney's charts** (Laney 2002) allow for variation between waves that sampling alone does not
//! explain (common with large waves): each wave is standardised, zᵢ = (yᵢ − centre)/σᵢ; the moving
//! ranges of consecutive waves MRᵢ = |zᵢ − zᵢ₋₁| give σ_z = MR̄ / 1.128 (d₂ for ranges of two, as
//! Minitab computes it), and the limits become centre ± 3 σᵢ σ_z. When every wave has the same n this
//! is exactly the individuals (I-MR) chart of the estimates, centre ± 3 MR̄(y)/1.128, which is why the
//! Laney chart of means is named `i_mr`. σ_z is reported for the standard chart too: well above 1 it
//! says the waves vary more than their sample sizes explain (Minitab's P chart diagnostic). The
//! moving ranges' own upper limit is D₄ MR̄ = 3.267 MR̄.
//!
//! Limits are clipped to the measure's range (shares to [0, 1], NPS to [−1, 1], means to the scale).
//!
//! # Western Electric rules
//!
//! With uᵢ = (yᵢ − centre)/(3σᵢ-limit distance / 3), the wave's distance from the centre line in the
//! chart's sigmas, a wave is flagged by
//!
//! 1. one point beyond 3σ;
//! 2. two of three consecutive points beyond 2σ on the same side;
//! 3. four of five consecutive points beyond 1σ on the same side;
//! 4. eight consecutive points on the same side of the centre line.
//!
//! A rule flags the wave that completes its pattern (and is itself beyond the zone), as Minitab
//! marks it; an undefined wave is never beyond a zone and breaks a run.
//!
//! # References
//! - Laney, D. B. (2002). Improved control charts for attributes. *Quality Engineering* 14(4), 531–537.
//! - Western Electric Company (1956). *Statistical Quality Control Handbook*, pp. 25–28.
//! - Montgomery, D. C. (2009). *Introduction to Statistical Quality Control*, 6th ed., §§ 6.4, 7.2.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// d₂ for moving ranges of two points.
pub const D2: f64 = 1.128;
/// D₄ for moving ranges of two points: the upper limit of the moving-range chart is D₄ MR̄.
pub const D4: f64 = 3.267;

/// Which limits the chart draws and the rules read.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartLimits {
    /// centre ± 3σᵢ: the p-chart, the trinomial chart, the X̄ chart. The default.
    #[default]
    Standard,
    /// centre ± 3σᵢσ_z (Laney 2002): Laney P′, Laney trinomial, I-MR.
    Laney,
}

impl ChartLimits {
    /// Every choice.
    pub const ALL: [Self; 2] = [Self::Standard, Self::Laney];

    /// The snake_case name, as parsed by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Laney => "laney",
        }
    }
}

impl fmt::Display for ChartLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChartLimits {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::invalid("limits", format!("{s:?}; use \"standard\" or \"laney\""))
            })
    }
}

/// The chart drawn, named as quality-control texts name it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// p-chart of a share.
    P,
    /// Laney's P′ chart of a share.
    LaneyPPrime,
    /// Trinomial chart of NPS.
    Trinomial,
    /// Laney's chart of NPS on the trinomial σᵢ.
    LaneyTrinomial,
    /// X̄ chart of means with σᵢ from the pooled within-wave SD.
    Xbar,
    /// Individuals and moving-range chart of means (Laney's form, on each wave's effective n).
    IMr,
}

impl ChartKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::P => "p",
            Self::LaneyPPrime => "laney_p_prime",
            Self::Trinomial => "trinomial",
            Self::LaneyTrinomial => "laney_trinomial",
            Self::Xbar => "xbar",
            Self::IMr => "i_mr",
        }
    }
}

impl fmt::Display for ChartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What each wave contributes to a chart (NaN marks an undefined wave).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ChartInput<'a> {
    /// Shares pᵢ on effective sizes nᵢ.
    Share {
        /// pᵢ.
        shares: &'a [f64],
        /// nᵢ.
        n: &'a [f64],
    },
    /// Promoter and detractor shares on effective sizes nᵢ.
    Nps {
        /// Promoter shares.
        promoters: &'a [f64],
        /// Detractor shares.
        detractors: &'a [f64],
        /// nᵢ.
        n: &'a [f64],
    },
    /// Means with their standard deviations on effective sizes nᵢ, on a scale `[low, high]`.
    Mean {
        /// x̄ᵢ.
        means: &'a [f64],
        /// sᵢ.
        sds: &'a [f64],
        /// nᵢ.
        n: &'a [f64],
        /// The scale's ends (limits are clipped to them).
        bounds: (f64, f64),
    },
}

/// A control chart of waves: centre line, limits, standardised distances and rule flags.
/// Per-wave vectors are NaN (`null` in JSON) where a wave is undefined.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlChart {
    /// The chart drawn.
    pub kind: ChartKind,
    /// The limits the chart draws and the rules read.
    pub limits: ChartLimits,
    /// The centre line.
    #[serde(with = "crate::serde_nan")]
    pub centre: f64,
    /// Each wave's estimate.
    #[serde(with = "crate::serde_nan::vec")]
    pub values: Vec<f64>,
    /// σᵢ: each wave's standard error at the centre line.
    #[serde(with = "crate::serde_nan::vec")]
    pub sigma: Vec<f64>,
    /// σ_z = MR̄ / 1.128 of the standardised waves (NaN with fewer than two defined waves).
    #[serde(with = "crate::serde_nan")]
    pub sigma_z: f64,
    /// Lower control limit of each wave.
    #[serde(with = "crate::serde_nan::vec")]
    pub lower: Vec<f64>,
    /// Upper control limit of each wave.
    #[serde(with = "crate::serde_nan::vec")]
    pub upper: Vec<f64>,
    /// (yᵢ − centre) in the chart's sigmas (σᵢ, or σᵢσ_z for Laney limits).
    #[serde(with = "crate::serde_nan::vec")]
    pub z: Vec<f64>,
    /// |zᵢ − zᵢ₋₁| of the waves standardised by σᵢ (NaN for the first wave and after an undefined one).
    #[serde(with = "crate::serde_nan::vec")]
    pub moving_ranges: Vec<f64>,
    /// Upper limit of the moving ranges, D₄ MR̄.
    #[serde(with = "crate::serde_nan")]
    pub moving_range_upper: f64,
    /// The Western Electric rules 1–4, one flag per wave each.
    pub rules: WesternElectric,
}

/// The Western Electric rules, each a flag per wave.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WesternElectric {
    /// One point beyond 3σ.
    pub rule_1: Vec<bool>,
    /// Two of three consecutive points beyond 2σ, same side.
    pub rule_2: Vec<bool>,
    /// Four of five consecutive points beyond 1σ, same side.
    pub rule_3: Vec<bool>,
    /// Eight consecutive points on one side of the centre line.
    pub rule_4: Vec<bool>,
}

impl WesternElectric {
    /// Flag the waves of `z`, the distances from the centre line in sigmas (NaN: undefined).
    ///
    /// ```
    /// use cx_metrics::control_chart::WesternElectric;
    /// let r = WesternElectric::of(&[0.5, 3.2, 0.1]);
    /// assert_eq!(r.rule_1, [false, true, false]);
    /// assert_eq!(r.flagged(), [false, true, false]);
    /// ```
    pub fn of(z: &[f64]) -> Self {
        let k = z.len();
        let mut out = Self {
            rule_1: vec![false; k],
            rule_2: vec![false; k],
            rule_3: vec![false; k],
            rule_4: vec![false; k],
        };
        // `count(i, window, beyond, side)`: points of z[i+1-window..=i] beyond `beyond` on `side`.
        let count = |i: usize, window: usize, beyond: f64, side: f64| {
            z[(i + 1).saturating_sub(window)..=i]
                .iter()
                .filter(|&&v| side * v > beyond)
                .count()
        };
        for (i, &v) in z.iter().enumerate() {
            if v.is_nan() {
                continue;
            }
            out.rule_1[i] = v.abs() > 3.0;
            for side in [1.0, -1.0] {
                if side * v > 2.0 && count(i, 3, 2.0, side) >= 2 {
                    out.rule_2[i] = true;
                }
                if side * v > 1.0 && count(i, 5, 1.0, side) >= 4 {
                    out.rule_3[i] = true;
                }
                if i + 1 >= 8 && count(i, 8, 0.0, side) == 8 {
                    out.rule_4[i] = true;
                }
            }
        }
        out
    }

    /// Whether any rule flags each wave.
    pub fn flagged(&self) -> Vec<bool> {
        (0..self.rule_1.len())
            .map(|i| self.rule_1[i] || self.rule_2[i] || self.rule_3[i] || self.rule_4[i])
            .collect()
    }
}

fn check_lengths(lengths: &[usize]) -> Result<usize> {
    let k = lengths[0];
    if let Some(&other) = lengths.iter().find(|&&l| l != k) {
        return Err(Error::LengthMismatch {
            what: "the waves of a control chart",
            left: k,
            right: other,
        });
    }
    Ok(k)
}

/// Σ nᵢ xᵢ / Σ nᵢ over the waves where both are defined (NaN when there are none).
fn pooled(x: &[f64], n: &[f64]) -> f64 {
    let (mut s, mut sn) = (0.0, 0.0);
    for (&x, &n) in x.iter().zip(n) {
        if x.is_finite() && n.is_finite() && n > 0.0 {
            s += n * x;
            sn += n;
        }
    }
    if sn > 0.0 {
        s / sn
    } else {
        f64::NAN
    }
}

/// Build the chart of `input` with `limits`.
///
/// # Errors
/// [`Error::LengthMismatch`] when the per-wave slices differ in length.
///
/// ```
/// use cx_metrics::control_chart::{control_chart, ChartInput, ChartLimits};
/// // p̄ = (10 + 20 + 30) / 300 = 0.2; σ₁ = √(0.2 · 0.8 / 100) = 0.04.
/// let chart = control_chart(
///     ChartInput::Share { shares: &[0.1, 0.2, 0.3], n: &[100.0; 3] },
///     ChartLimits::Standard,
/// ).unwrap();
/// assert!((chart.centre - 0.2).abs() < 1e-15);
/// assert!((chart.upper[0] - 0.32).abs() < 1e-12);
/// ```
pub fn control_chart(input: ChartInput<'_>, limits: ChartLimits) -> Result<ControlChart> {
    let (kind, values, n, centre, var_unit, bounds): (_, Vec<f64>, &[f64], f64, f64, (f64, f64)) =
        match input {
            ChartInput::Share { shares, n } => {
                check_lengths(&[shares.len(), n.len()])?;
                let p = pooled(shares, n);
                let kind = match limits {
                    ChartLimits::Standard => ChartKind::P,
                    ChartLimits::Laney => ChartKind::LaneyPPrime,
                };
                (kind, shares.to_vec(), n, p, p * (1.0 - p), (0.0, 1.0))
            }
            ChartInput::Nps {
                promoters,
                detractors,
                n,
            } => {
                check_lengths(&[promoters.len(), detractors.len(), n.len()])?;
                let (pp, pd) = (pooled(promoters, n), pooled(detractors, n));
                let c = pp - pd;
                let kind = match limits {
                    ChartLimits::Standard => ChartKind::Trinomial,
                    ChartLimits::Laney => ChartKind::LaneyTrinomial,
                };
                let values = promoters
                    .iter()
                    .zip(detractors)
                    .map(|(p, d)| p - d)
                    .collect();
                (kind, values, n, c, (pp + pd - c * c).max(0.0), (-1.0, 1.0))
            }
            ChartInput::Mean {
                means,
                sds,
                n,
                bounds,
            } => {
                check_lengths(&[means.len(), sds.len(), n.len()])?;
                let c = pooled(means, n);
                let (mut ss, mut df) = (0.0, 0.0);
                for ((&m, &s), &n) in means.iter().zip(sds).zip(n) {
                    if m.is_finite() && s.is_finite() && n > 1.0 {
                        ss += (n - 1.0) * s * s;
                        df += n - 1.0;
                    }
                }
                let var = if df > 0.0 { ss / df } else { f64::NAN };
                let kind = match limits {
                    ChartLimits::Standard => ChartKind::Xbar,
                    ChartLimits::Laney => ChartKind::IMr,
                };
                (kind, means.to_vec(), n, c, var, bounds)
            }
        };
    let k = values.len();
    let sigma: Vec<f64> = (0..k)
        .map(|i| {
            if values[i].is_finite() && n[i] > 0.0 {
                (var_unit / n[i]).sqrt()
            } else {
                f64::NAN
            }
        })
        .collect();
    // Standardised by σᵢ (NaN where σᵢ is 0: a wave cannot be placed against a zero spread).
    let z0: Vec<f64> = (0..k)
        .map(|i| {
            if sigma[i] > 0.0 {
                (values[i] - centre) / sigma[i]
            } else {
                f64::NAN
            }
        })
        .collect();
    let moving_ranges: Vec<f64> = (0..k)
        .map(|i| {
            if i == 0 {
                f64::NAN
            } else {
                (z0[i] - z0[i - 1]).abs()
            }
        })
        .collect();
    let defined: Vec<f64> = moving_ranges
        .iter()
        .copied()
        .filter(|m| m.is_finite())
        .collect();
    let mr_bar = if defined.is_empty() {
        f64::NAN
    } else {
        defined.iter().sum::<f64>() / defined.len() as f64
    };
    let sigma_z = mr_bar / D2;
    let factor = match limits {
        ChartLimits::Standard => 1.0,
        ChartLimits::Laney => sigma_z,
    };
    let (lo, hi) = bounds;
    let clip = |x: f64| if x.is_nan() { x } else { x.clamp(lo, hi) };
    let lower = sigma
        .iter()
        .map(|s| clip(centre - 3.0 * s * factor))
        .collect();
    let upper = sigma
        .iter()
        .map(|s| clip(centre + 3.0 * s * factor))
        .collect();
    let z: Vec<f64> = z0
        .iter()
        .map(|&v| if factor > 0.0 { v / factor } else { f64::NAN })
        .collect();
    let rules = WesternElectric::of(&z);
    Ok(ControlChart {
        kind,
        limits,
        centre,
        values,
        sigma,
        sigma_z,
        lower,
        upper,
        z,
        moving_ranges,
        moving_range_upper: D4 * mr_bar,
        rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    /// Each rule triggered exactly once by a hand-built sequence, and by no other rule.
    #[test]
    fn western_electric_each_rule_once() {
        let only = |z: &[f64], rule: usize, at: usize| {
            let r = WesternElectric::of(z);
            let all = [&r.rule_1, &r.rule_2, &r.rule_3, &r.rule_4];
            for (j, flags) in all.iter().enumerate() {
                let expected: Vec<bool> = (0..z.len()).map(|i| j + 1 == rule && i == at).collect();
                assert_eq!(**flags, expected, "rule {} on {z:?}", j + 1);
            }
        };
        only(&[0.0, 0.5, -3.5, 0.2, -0.4], 1, 2);
        only(&[0.0, 2.5, 0.3, 2.4, -0.5, 0.1], 2, 3);
        only(&[-0.5, 1.5, 1.2, 0.5, 1.8, 1.1, -0.3], 3, 5);
        only(&[0.5, 0.4, 0.3, 0.2, 0.6, 0.7, 0.1, 0.9, -0.2], 4, 7);
        // Below as above.
        only(&[0.0, -2.5, -0.3, -2.4, 0.5], 2, 3);
    }

    #[test]
    fn undefined_waves_break_runs() {
        let mut z = vec![0.5; 10];
        z[4] = f64::NAN;
        assert!(WesternElectric::of(&z).rule_4.iter().all(|f| !f));
    }

    /// The P′ chart by hand: z of each wave, MR̄ / 1.128, limits p̄ ± 3σᵢσ_z.
    #[test]
    fn laney_by_hand() {
        let shares = [0.10, 0.14, 0.12, 0.18, 0.11];
        let n = [400.0, 500.0, 450.0, 600.0, 300.0];
        let c = control_chart(
            ChartInput::Share {
                shares: &shares,
                n: &n,
            },
            ChartLimits::Laney,
        )
        .unwrap();
        let p: f64 = shares.iter().zip(&n).map(|(s, n)| s * n).sum::<f64>() / n.iter().sum::<f64>();
        close(c.centre, p, 1e-15);
        let s: Vec<f64> = n.iter().map(|n| (p * (1.0 - p) / n).sqrt()).collect();
        let z: Vec<f64> = (0..5).map(|i| (shares[i] - p) / s[i]).collect();
        let mr = (1..5).map(|i| (z[i] - z[i - 1]).abs()).sum::<f64>() / 4.0;
        close(c.sigma_z, mr / 1.128, 1e-12);
        for (i, si) in s.iter().enumerate() {
            close(c.upper[i], p + 3.0 * si * mr / 1.128, 1e-12);
            close(c.lower[i], (p - 3.0 * si * mr / 1.128).max(0.0), 1e-12);
        }
        assert_eq!(c.kind, ChartKind::LaneyPPrime);
    }

    /// With equal n the Laney chart of means is the I-MR chart: centre ± 3 MR̄(x)/1.128.
    #[test]
    fn i_mr_with_equal_n() {
        let means = [3.1, 3.4, 3.2, 3.6, 3.3, 3.0];
        let c = control_chart(
            ChartInput::Mean {
                means: &means,
                sds: &[1.0, 1.2, 0.9, 1.1, 1.0, 1.05],
                n: &[50.0; 6],
                bounds: (1.0, 5.0),
            },
            ChartLimits::Laney,
        )
        .unwrap();
        let mr = (1..6).map(|i| (means[i] - means[i - 1]).abs()).sum::<f64>() / 5.0;
        let centre = means.iter().sum::<f64>() / 6.0;
        for i in 0..6 {
            close(c.upper[i], centre + 3.0 * mr / 1.128, 1e-12);
            close(c.lower[i], centre - 3.0 * mr / 1.128, 1e-12);
        }
        assert_eq!(c.kind, ChartKind::IMr);
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let e = control_chart(
            ChartInput::Share {
                shares: &[0.1, 0.2],
                n: &[10.0],
            },
            ChartLimits::Standard,
        );
        assert!(matches!(e, Err(Error::LengthMismatch { .. })));
        assert!("minitab".parse::<ChartLimits>().is_err());
    }
}
