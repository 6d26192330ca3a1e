//! Trends over waves: an estimate per wave with its interval, the change between consecutive waves
//! with its test, a trend test across waves, and a control chart, for one segment or many at once.
//!
//! # What is followed
//!
//! A [`Measure`] reads one figure from each wave's [`ScaleTally`]: the NPS (P − D), the share of
//! answers on a range of points (CSAT satisfied, CES agree, a top box), or the mean rating. Each
//! wave's [`GroupEstimate`] has the figure, its standard error on the wave's Kish effective n and
//! an interval: adjusted Wald for NPS, Wilson for shares, t for means (the defaults of `nps`, `csat`
//! and `ces`).
//!
//! # Change between consecutive waves
//!
//! - **Independent waves** (no respondent id): difference = y_{k+1} − y_k, SE = √(SE_k² + SE_{k+1}²),
//!   z = difference / SE, two-sided normal p-value, Wald interval. For NPS this is the Wald
//!   comparison of [`crate::nps::compare`].
//! - **Linked waves** (a respondent id): respondents with an answer in both waves form the paired
//!   part. Each contributes d = s_{k+1} − s_k of its per-respondent score (+1/0/−1 for NPS, 1/0 for
//!   a share, the rating for a mean), weighted by the mean of its two rows' weights; difference = the
//!   weighted mean of d, SE = √(Var(d)/n_eff) with Var(d) = Σw(d − d̄)²/Σw (the formula of
//!   [`crate::nps::PairedTally`]). Respondents in only one of the two waves are left out of the
//!   test and counted (`n_only_from`, `n_only_to`); the waves' own estimates use every respondent. A
//!   pair of waves with fewer than two linked respondents is compared as independent samples, and
//!   the change says which test it used.
//!
//! The change tests of all segments form one family, adjusted by [`PValueAdjustment`] (Holm or
//! Benjamini–Hochberg); the trend tests of the segments form another.
//!
//! # Trend test
//!
//! The weighted least-squares slope of the wave estimates on the wave index 0, 1, …, with weights
//! 1/SEᵢ² (known variances): b = Σwᵢ(xᵢ − x̄)(yᵢ − ȳ) / Σwᵢ(xᵢ − x̄)², SE(b) = 1/√(Σwᵢ(xᵢ − x̄)²),
//! z = b/SE(b), two-sided normal p-value (statsmodels' `WLS(y, X, weights=1/se**2)` fitted with
//! `cov_type="fixed scale"`). Waves that are undefined or whose SE is zero are left out and counted.
//! The slope is per wave, in the estimate's units.
//!
//! # Control chart
//!
//! See [`crate::control_chart`]: p-chart / Laney P′ for shares, trinomial limits for NPS, X̄ / I-MR
//! for means, each wave's σ from its own effective n, and the Western Electric rules as flags.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::control_chart::{control_chart, ChartInput, ChartLimits, ControlChart};
use crate::error::{Error, Result, UndefinedReason};
use crate::groups::{CodeSlice, Grouping, KeyColumn, Label};
use crate::intervals::ProportionMethod;
use crate::intervals::{check_level, normal_p_two_sided, z_two_sided};
use crate::multiple::PValueAdjustment;
use crate::nps::{NpsMethod, NpsTally};
use crate::scale::{NanPolicy, NpsCategory, Scale};
use crate::summary::{mean_ci, share_ci, Summary};
use crate::tally::ScaleTally;

/// The figure followed over waves.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Measure {
    /// NPS = P − D on −1..1 (0–10 ratings).
    Nps,
    /// The weighted share of answers on the points `low..=high`.
    Share {
        /// First point counted.
        low: i32,
        /// Last point counted.
        high: i32,
    },
    /// The weighted mean rating.
    Mean,
}

impl Measure {
    /// A measure by name: `"nps"`, `"share"` (with `points`) or `"mean"`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `measure` for another name or a share without points.
    pub fn parse(name: &str, points: Option<(i32, i32)>) -> Result<Self> {
        match (name, points) {
            ("nps", _) => Ok(Self::Nps),
            ("mean", _) => Ok(Self::Mean),
            ("share", Some((low, high))) if low <= high => Ok(Self::Share { low, high }),
            ("share", _) => Err(Error::invalid(
                "measure",
                "a share needs its points (low <= high)",
            )),
            _ => Err(Error::invalid(
                "measure",
                format!("{name:?}; use \"nps\", \"share\" or \"mean\""),
            )),
        }
    }

    /// Check that the measure can be read on `scale`.
    fn check(self, scale: Scale) -> Result<()> {
        match self {
            Self::Nps if scale != Scale::NPS => Err(Error::invalid(
                "measure",
                format!("NPS is read on the 0..=10 scale, not {scale}"),
            )),
            Self::Share { low, high } if low < scale.min() || high > scale.max() => {
                Err(Error::invalid(
                    "measure",
                    format!("the points {low}..={high} are not all on the scale {scale}"),
                ))
            }
            _ => Ok(()),
        }
    }

    /// The per-respondent score whose weighted mean is the figure (for paired changes).
    fn score(self, point: i32) -> f64 {
        match self {
            Self::Nps => match NpsCategory::of(point as u8) {
                NpsCategory::Promoter => 1.0,
                NpsCategory::Passive => 0.0,
                NpsCategory::Detractor => -1.0,
            },
            Self::Share { low, high } => f64::from(u8::from((low..=high).contains(&point))),
            Self::Mean => f64::from(point),
        }
    }
}

/// The figure of one group of rows (a wave, a segment) with its standard error and interval.
/// Estimate fields are NaN (`null` in JSON) when `undefined` is set.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupEstimate {
    /// Rows counted.
    pub n: u64,
    /// Rows omitted as missing.
    pub n_omitted: u64,
    /// Σw.
    pub sum_weights: f64,
    /// Kish effective n (n without weights).
    pub effective_n: f64,
    /// The figure.
    #[serde(with = "crate::serde_nan")]
    pub estimate: f64,
    /// Its standard error on the effective n (Wald for NPS and shares, sd/√n_eff for means).
    #[serde(with = "crate::serde_nan")]
    pub std_error: f64,
    /// Interval low (adjusted Wald for NPS, Wilson for shares, t for means).
    #[serde(with = "crate::serde_nan")]
    pub ci_low: f64,
    /// Interval high.
    #[serde(with = "crate::serde_nan")]
    pub ci_high: f64,
    /// Promoter share (NPS only, else NaN).
    #[serde(with = "crate::serde_nan")]
    pub promoters: f64,
    /// Detractor share (NPS only, else NaN).
    #[serde(with = "crate::serde_nan")]
    pub detractors: f64,
    /// Standard deviation of the ratings (means only, else NaN).
    #[serde(with = "crate::serde_nan")]
    pub sd: f64,
    /// Why the estimate is undefined, if it is.
    pub undefined: Option<UndefinedReason>,
}

impl GroupEstimate {
    /// The figure of `measure` in tally `t`, with its interval at `confidence_level`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a level outside (0, 1) or a measure that does not fit the
    /// tally's scale. An empty group is not an error: it is undefined.
    pub fn of(measure: Measure, t: &ScaleTally, confidence_level: f64) -> Result<Self> {
        check_level(confidence_level)?;
        measure.check(t.scale())?;
        let s = Summary::of(t);
        let nan = f64::NAN;
        let mut e = Self {
            n: s.n,
            n_omitted: s.n_omitted,
            sum_weights: s.sum_weights,
            effective_n: s.effective_n,
            estimate: nan,
            std_error: nan,
            ci_low: nan,
            ci_high: nan,
            promoters: nan,
            detractors: nan,
            sd: nan,
            undefined: s.undefined,
        };
        let interval = match measure {
            Measure::Nps => {
                let r = NpsTally::try_from(t.clone())?.result();
                e.undefined = r.undefined;
                e.estimate = r.score;
                e.std_error = r.std_error;
                e.promoters = r.promoters;
                e.detractors = r.detractors;
                r.ci(confidence_level, NpsMethod::AdjustedWald)
            }
            Measure::Share { low, high } => {
                let p = Summary::share(t, low..=high);
                e.estimate = p;
                e.std_error = (p * (1.0 - p) / s.effective_n).sqrt();
                share_ci(
                    s.undefined,
                    p,
                    s.effective_n,
                    confidence_level,
                    ProportionMethod::Wilson,
                )
            }
            Measure::Mean => {
                e.estimate = s.mean;
                e.sd = s.sd;
                e.std_error = s.sd / s.effective_n.sqrt();
                let scale = t.scale();
                mean_ci(
                    s.undefined,
                    s.mean,
                    s.sd,
                    s.effective_n,
                    confidence_level,
                    (scale.min(), scale.max()),
                )
            }
        };
        match interval {
            Ok(ci) => (e.ci_low, e.ci_high) = (ci.low, ci.high),
            Err(Error::Undefined(reason)) => {
                // A mean of one row has an estimate but no spread: keep the estimate.
                if e.undefined.is_none() && reason != UndefinedReason::SingleObservation {
                    e.undefined = Some(reason);
                }
            }
            Err(other) => return Err(other),
        }
        if e.undefined.is_some() {
            (e.estimate, e.std_error) = (nan, nan);
        }
        Ok(e)
    }

    fn defined(&self) -> bool {
        self.undefined.is_none() && self.estimate.is_finite()
    }
}

/// A difference with its standard error, normal test and Wald interval.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// The difference.
    #[serde(with = "crate::serde_nan")]
    pub difference: f64,
    /// Its standard error.
    #[serde(with = "crate::serde_nan")]
    pub std_error: f64,
    /// difference / std_error (±∞ for a non-zero difference with SE 0; 0 for none).
    #[serde(with = "crate::serde_nan")]
    pub z: f64,
    /// Two-sided normal p-value of z.
    #[serde(with = "crate::serde_nan")]
    pub p_value: f64,
    /// difference − z_{1−α/2}·SE.
    #[serde(with = "crate::serde_nan")]
    pub ci_low: f64,
    /// difference + z_{1−α/2}·SE.
    #[serde(with = "crate::serde_nan")]
    pub ci_high: f64,
}

impl Difference {
    /// The test and interval of `difference` with standard error `std_error` (NaN in: NaN out).
    pub fn of(difference: f64, std_error: f64, confidence_level: f64) -> Result<Self> {
        let q = z_two_sided(confidence_level)?;
        let (z, p_value) = if !(difference.is_finite() && std_error.is_finite()) {
            (f64::NAN, f64::NAN)
        } else if std_error > 0.0 {
            let z = difference / std_error;
            (z, normal_p_two_sided(z))
        } else if difference == 0.0 {
            (0.0, 1.0)
        } else {
            (difference.signum() * f64::INFINITY, 0.0)
        };
        Ok(Self {
            difference,
            std_error,
            z,
            p_value,
            ci_low: difference - q * std_error,
            ci_high: difference + q * std_error,
        })
    }

    /// `b − a` of two independent groups: SE = √(SE_a² + SE_b²).
    pub fn independent(
        a: &GroupEstimate,
        b: &GroupEstimate,
        confidence_level: f64,
    ) -> Result<Self> {
        let (d, se) = if a.defined() && b.defined() {
            (b.estimate - a.estimate, a.std_error.hypot(b.std_error))
        } else {
            (f64::NAN, f64::NAN)
        };
        Self::of(d, se, confidence_level)
    }
}

/// Which test a change used.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeTest {
    /// Independent samples.
    Independent,
    /// The respondents linked across the two waves.
    Paired,
}

impl ChangeTest {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Independent => "independent",
            Self::Paired => "paired",
        }
    }
}

impl fmt::Display for ChangeTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The change from wave `from` to wave `to = from + 1`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Index of the earlier wave.
    pub from: usize,
    /// Index of the later wave.
    pub to: usize,
    /// The test used.
    pub test: ChangeTest,
    /// later − earlier, its SE, z, p-value and interval.
    #[serde(flatten)]
    pub difference: Difference,
    /// The p-value adjusted for every change of the result (NaN where the p-value is).
    #[serde(with = "crate::serde_nan")]
    pub p_adjusted: f64,
    /// Respondents linked across the two waves (0 without respondent ids).
    pub n_paired: u64,
    /// Respondents of the earlier wave left out of a paired test (0 for an independent test).
    pub n_only_from: u64,
    /// Respondents of the later wave left out of a paired test (0 for an independent test).
    pub n_only_to: u64,
}

/// The trend test across waves: the WLS slope on the wave index with known variances.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendTest {
    /// `"wls_slope"`: the name of the test.
    pub method: String,
    /// The slope per wave.
    #[serde(with = "crate::serde_nan")]
    pub slope: f64,
    /// Its standard error, 1/√(Σw(x − x̄)²).
    #[serde(with = "crate::serde_nan")]
    pub std_error: f64,
    /// slope / std_error.
    #[serde(with = "crate::serde_nan")]
    pub z: f64,
    /// Two-sided normal p-value.
    #[serde(with = "crate::serde_nan")]
    pub p_value: f64,
    /// Adjusted across segments (NaN where the p-value is).
    #[serde(with = "crate::serde_nan")]
    pub p_adjusted: f64,
    /// Waves in the fit.
    pub n_waves: usize,
    /// Waves left out (undefined, or with SE 0).
    pub n_waves_left_out: usize,
}

impl TrendTest {
    /// The WLS slope of `y` on the index 0, 1, … with weights 1/se² (waves with a NaN figure or a
    /// zero SE left out). Undefined (NaN) with fewer than two waves.
    ///
    /// ```
    /// use cx_metrics::trend::TrendTest;
    /// let t = TrendTest::wls_slope(&[0.1, 0.2, 0.3], &[0.05, 0.05, 0.05]);
    /// assert!((t.slope - 0.1).abs() < 1e-12);
    /// assert!((t.std_error - 0.05 / 2f64.sqrt()).abs() < 1e-12);
    /// ```
    pub fn wls_slope(y: &[f64], se: &[f64]) -> Self {
        let used: Vec<(f64, f64, f64)> = y
            .iter()
            .zip(se)
            .enumerate()
            .filter(|(_, (y, s))| y.is_finite() && s.is_finite() && **s > 0.0)
            .map(|(i, (y, s))| (i as f64, *y, 1.0 / (s * s)))
            .collect();
        let nan = f64::NAN;
        let mut t = Self {
            method: "wls_slope".into(),
            slope: nan,
            std_error: nan,
            z: nan,
            p_value: nan,
            p_adjusted: nan,
            n_waves: used.len(),
            n_waves_left_out: y.len() - used.len(),
        };
        if used.len() < 2 {
            return t;
        }
        let sw: f64 = used.iter().map(|u| u.2).sum();
        let xbar = used.iter().map(|u| u.2 * u.0).sum::<f64>() / sw;
        let ybar = used.iter().map(|u| u.2 * u.1).sum::<f64>() / sw;
        let sxx: f64 = used.iter().map(|u| u.2 * (u.0 - xbar).powi(2)).sum();
        let sxy: f64 = used.iter().map(|u| u.2 * (u.0 - xbar) * (u.1 - ybar)).sum();
        t.slope = sxy / sxx;
        t.std_error = 1.0 / sxx.sqrt();
        t.z = t.slope / t.std_error;
        t.p_value = normal_p_two_sided(t.z);
        t
    }
}

/// The trend of one segment.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentTrend {
    /// One estimate per wave, in the waves' order.
    pub waves: Vec<GroupEstimate>,
    /// The change between each pair of consecutive waves.
    pub changes: Vec<Change>,
    /// The trend test across waves.
    pub test: TrendTest,
    /// The control chart.
    pub chart: ControlChart,
}

/// Options of [`trend`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrendOptions {
    /// Level of the intervals (0.95).
    pub confidence_level: f64,
    /// Adjustment of the change tests (and of the trend tests across segments): Holm by default.
    pub adjust: PValueAdjustment,
    /// The chart's limits: standard by default.
    pub limits: ChartLimits,
}

impl Default for TrendOptions {
    fn default() -> Self {
        Self {
            confidence_level: 0.95,
            adjust: PValueAdjustment::Holm,
            limits: ChartLimits::Standard,
        }
    }
}

impl TrendOptions {
    /// Options with these values.
    pub fn new(confidence_level: f64, adjust: PValueAdjustment, limits: ChartLimits) -> Self {
        Self {
            confidence_level,
            adjust,
            limits,
        }
    }
}

/// Trends of one segment or several, with the options they were computed with.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// The figure followed.
    pub measure: Measure,
    /// The options.
    pub options: TrendOptions,
    /// Whether respondents were linked across waves.
    pub linked: bool,
    /// Rows without a wave label: left out of every wave and counted.
    pub n_without_wave: u64,
    /// One trend per segment (one without segments), in the segments' order.
    pub segments: Vec<SegmentTrend>,
}

/// Rows for [`trend`]: ratings, optional weights, and group codes (from the grouping engine).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct TrendRows<'a> {
    /// Ratings (NaN is missing).
    pub values: &'a [f64],
    /// Survey weights, one per row.
    pub weights: Option<&'a [f64]>,
    /// Each row's wave, 0..n_waves in the waves' order; `u32::MAX` for a row without a wave.
    pub waves: &'a [u32],
    /// Number of waves.
    pub n_waves: usize,
    /// Each row's segment, 0..n_segments (None: one segment).
    pub segments: Option<&'a [u32]>,
    /// Number of segments (1 without segments).
    pub n_segments: usize,
    /// Each row's respondent, a code per respondent; `u32::MAX` for a row without an id.
    pub respondents: Option<&'a [u32]>,
    /// Missing ratings: omitted and counted, or an error.
    pub nan_policy: NanPolicy,
}

impl<'a> TrendRows<'a> {
    /// Rows of one segment without respondent ids.
    pub fn new(values: &'a [f64], waves: &'a [u32], n_waves: usize) -> Self {
        Self {
            values,
            weights: None,
            waves,
            n_waves,
            segments: None,
            n_segments: 1,
            respondents: None,
            nan_policy: NanPolicy::Omit,
        }
    }
    /// With survey weights.
    pub fn weights(mut self, weights: Option<&'a [f64]>) -> Self {
        self.weights = weights;
        self
    }
    /// With segments.
    pub fn segments(mut self, segments: &'a [u32], n_segments: usize) -> Self {
        self.segments = Some(segments);
        self.n_segments = n_segments;
        self
    }
    /// With respondent ids linking waves.
    pub fn respondents(mut self, respondents: Option<&'a [u32]>) -> Self {
        self.respondents = respondents;
        self
    }
    /// With a missing-value policy.
    pub fn nan_policy(mut self, nan_policy: NanPolicy) -> Self {
        self.nan_policy = nan_policy;
        self
    }

    fn check(&self) -> Result<()> {
        let n = self.values.len();
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
        check_len("ratings and waves", self.waves.len())?;
        if let Some(w) = self.weights {
            check_len("ratings and weights", w.len())?;
        }
        if let Some(s) = self.segments {
            check_len("ratings and segments", s.len())?;
        }
        if let Some(r) = self.respondents {
            check_len("ratings and respondent ids", r.len())?;
        }
        let check_codes =
            |name: &'static str, codes: &[u32], k: usize, missing_ok: bool| match codes
                .iter()
                .position(|&c| c as usize >= k && !(missing_ok && c == u32::MAX))
            {
                Some(i) => Err(Error::invalid(
                    name,
                    format!("code {} at row {i} is not below {k}", codes[i]),
                )),
                None => Ok(()),
            };
        check_codes("waves", self.waves, self.n_waves, true)?;
        if let Some(s) = self.segments {
            check_codes("segments", s, self.n_segments, false)?;
        }
        if self.n_waves == 0 {
            return Err(Error::invalid(
                "waves",
                "no wave has a label; give a wave column with labels",
            ));
        }
        Ok(())
    }

    fn segment(&self, i: usize) -> usize {
        self.segments.map_or(0, |s| s[i] as usize)
    }
}

/// Fold `values` into one tally per group code (`u32::MAX`, or a code ≥ `n_groups`: no group) in one
/// pass of the grouping engine; a bad value or weight is an error naming its row.
fn fold_groups(
    scale: Scale,
    values: &[f64],
    weights: Option<&[f64]>,
    codes: &[i64],
    n_groups: usize,
    nan_policy: NanPolicy,
) -> Result<Vec<ScaleTally>> {
    let levels = (0..n_groups as i64).map(Label::Int).collect();
    let column = KeyColumn::Categorical {
        codes: CodeSlice::I64(codes),
        levels,
        ordered: true,
    };
    let g = Grouping::new(vec![column], values.len())?;
    let mut tallies = g.fold_scale(scale, values, weights, nan_policy)?;
    tallies.truncate(n_groups);
    Ok(tallies)
}

/// The estimate of `measure` per group code `0..n_groups` of `groups` (`u32::MAX`: no group), in one
/// pass: what [`crate::multiple::all_pairs`] compares.
///
/// # Errors
/// As [`trend`].
#[allow(clippy::too_many_arguments)]
pub fn estimates_by_group(
    measure: Measure,
    scale: Scale,
    values: &[f64],
    weights: Option<&[f64]>,
    groups: &[u32],
    n_groups: usize,
    nan_policy: NanPolicy,
    confidence_level: f64,
) -> Result<Vec<GroupEstimate>> {
    check_level(confidence_level)?;
    measure.check(scale)?;
    let rows = TrendRows::new(values, groups, n_groups)
        .weights(weights)
        .nan_policy(nan_policy);
    rows.check()?;
    let codes: Vec<i64> = groups
        .iter()
        .map(|&c| if c == u32::MAX { -1 } else { i64::from(c) })
        .collect();
    fold_groups(scale, values, weights, &codes, n_groups, nan_policy)?
        .iter()
        .map(|t| GroupEstimate::of(measure, t, confidence_level))
        .collect()
}

/// Linked respondents of consecutive waves, per segment: `pairs[s][k]` holds (d, w) of each
/// respondent answering in waves k and k + 1 of segment s.
type Pairs = Vec<Vec<Vec<(f64, f64)>>>;

fn link(measure: Measure, scale: Scale, rows: &TrendRows<'_>, ids: &[u32]) -> Result<Pairs> {
    let (k, s) = (rows.n_waves, rows.n_segments);
    let mut seen: HashMap<(u32, u32), usize> = HashMap::new();
    for (i, (&w, &id)) in rows.waves.iter().zip(ids).enumerate() {
        if w == u32::MAX || id == u32::MAX || rows.values[i].is_nan() {
            continue;
        }
        if let Some(first) = seen.insert((w, id), i) {
            return Err(Error::invalid(
                "respondent_id",
                format!(
                    "rows {first} and {i} have the same respondent id in the same wave; a \
                     respondent answers at most once per wave (drop or merge the duplicates)"
                ),
            ));
        }
    }
    let mut pairs: Pairs = vec![vec![Vec::new(); k.saturating_sub(1)]; s];
    let weight = |i: usize| rows.weights.map_or(1.0, |w| w[i]);
    for (&(w, id), &i) in &seen {
        let Some(&j) = seen.get(&(w + 1, id)) else {
            continue;
        };
        if rows.segment(i) != rows.segment(j) {
            continue;
        }
        let a = measure.score(scale.point_of(rows.values[i], i)?);
        let b = measure.score(scale.point_of(rows.values[j], j)?);
        pairs[rows.segment(i)][w as usize].push((b - a, (weight(i) + weight(j)) / 2.0));
    }
    // A fixed order, so that sums do not depend on the hash map's.
    for seg in &mut pairs {
        for p in seg {
            p.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
        }
    }
    Ok(pairs)
}

/// Weighted mean of d and its SE √(Var(d)/n_eff) (Var with divisor Σw, n_eff = (Σw)²/Σw²).
fn paired_difference(pairs: &[(f64, f64)]) -> (f64, f64) {
    let sw: f64 = pairs.iter().map(|p| p.1).sum();
    let sw2: f64 = pairs.iter().map(|p| p.1 * p.1).sum();
    if sw.is_nan() || sw <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = pairs.iter().map(|p| p.1 * p.0).sum::<f64>() / sw;
    let var = pairs
        .iter()
        .map(|p| p.1 * (p.0 - mean).powi(2))
        .sum::<f64>()
        / sw;
    (mean, (var / (sw * sw / sw2)).sqrt())
}

/// The trend of `measure` over the waves of `rows` on `scale`, per segment, in one pass over the
/// rows (and one more to link respondents when ids are given).
///
/// # Errors
/// A bad rating or weight names its row (as every fold); mismatched lengths are
/// [`Error::LengthMismatch`]; a respondent id twice in one wave, a code out of range, a level outside
/// (0, 1) or a measure off the scale are [`Error::InvalidArgument`].
///
/// ```
/// use cx_metrics::trend::{trend, Measure, TrendOptions, TrendRows};
/// use cx_metrics::Scale;
/// let ratings = [10.0, 9.0, 3.0, 10.0, 10.0, 9.0, 7.0, 2.0, 10.0, 9.0, 10.0, 8.0];
/// let waves = [0u32, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
/// let t = trend(Measure::Nps, Scale::NPS, TrendRows::new(&ratings, &waves, 3),
///               TrendOptions::default()).unwrap();
/// let s = &t.segments[0];
/// assert!((s.waves[0].estimate - 0.5).abs() < 1e-15);
/// assert!((s.changes[1].difference.difference - 0.5).abs() < 1e-15);
/// assert_eq!(s.test.method, "wls_slope");
/// ```
pub fn trend(
    measure: Measure,
    scale: Scale,
    rows: TrendRows<'_>,
    options: TrendOptions,
) -> Result<Trend> {
    let level = check_level(options.confidence_level)?;
    measure.check(scale)?;
    rows.check()?;
    let (k, s) = (rows.n_waves, rows.n_segments);
    let n_groups = k
        .checked_mul(s)
        .filter(|&g| g < i64::MAX as usize)
        .ok_or_else(|| Error::invalid("segments", "too many segments times waves"))?;
    let codes: Vec<i64> = (0..rows.values.len())
        .map(|i| {
            let w = rows.waves[i];
            if w == u32::MAX {
                -1
            } else {
                (rows.segment(i) * k + w as usize) as i64
            }
        })
        .collect();
    let n_without_wave = rows.waves.iter().filter(|&&w| w == u32::MAX).count() as u64;
    let tallies = fold_groups(
        scale,
        rows.values,
        rows.weights,
        &codes,
        n_groups,
        rows.nan_policy,
    )?;
    let pairs = rows
        .respondents
        .map(|ids| link(measure, scale, &rows, ids))
        .transpose()?;
    let mut segments = Vec::with_capacity(s);
    for seg in 0..s {
        let waves = tallies[seg * k..(seg + 1) * k]
            .iter()
            .map(|t| GroupEstimate::of(measure, t, level))
            .collect::<Result<Vec<_>>>()?;
        let mut changes = Vec::with_capacity(k.saturating_sub(1));
        for from in 0..k.saturating_sub(1) {
            let linked = pairs.as_ref().map(|p| &p[seg][from]);
            let n_paired = linked.map_or(0, |p| p.len() as u64);
            let (test, difference) = match linked {
                Some(p) if p.len() >= 2 => {
                    let (d, se) = paired_difference(p);
                    (ChangeTest::Paired, Difference::of(d, se, level)?)
                }
                _ => (
                    ChangeTest::Independent,
                    Difference::independent(&waves[from], &waves[from + 1], level)?,
                ),
            };
            let paired = test == ChangeTest::Paired;
            let only = |n: u64| {
                if paired {
                    n.saturating_sub(n_paired)
                } else {
                    0
                }
            };
            changes.push(Change {
                from,
                to: from + 1,
                test,
                difference,
                p_adjusted: f64::NAN,
                n_paired,
                n_only_from: only(waves[from].n),
                n_only_to: only(waves[from + 1].n),
            });
        }
        let y: Vec<f64> = waves.iter().map(|w| w.estimate).collect();
        let se: Vec<f64> = waves.iter().map(|w| w.std_error).collect();
        let test = TrendTest::wls_slope(&y, &se);
        let n: Vec<f64> = waves
            .iter()
            .map(|w| if w.defined() { w.effective_n } else { f64::NAN })
            .collect();
        let column = |f: fn(&GroupEstimate) -> f64| waves.iter().map(f).collect::<Vec<_>>();
        let (promoters, detractors, sds) = (
            column(|w| w.promoters),
            column(|w| w.detractors),
            column(|w| w.sd),
        );
        let input = match measure {
            Measure::Nps => ChartInput::Nps {
                promoters: &promoters,
                detractors: &detractors,
                n: &n,
            },
            Measure::Share { .. } => ChartInput::Share { shares: &y, n: &n },
            Measure::Mean => ChartInput::Mean {
                means: &y,
                sds: &sds,
                n: &n,
                bounds: (f64::from(scale.min()), f64::from(scale.max())),
            },
        };
        let chart = control_chart(input, options.limits)?;
        segments.push(SegmentTrend {
            waves,
            changes,
            test,
            chart,
        });
    }
    // One family of change tests, one of trend tests.
    let p: Vec<f64> = segments
        .iter()
        .flat_map(|s| s.changes.iter().map(|c| c.difference.p_value))
        .collect();
    let mut adjusted = options.adjust.adjust_finite(&p)?.into_iter();
    for c in segments.iter_mut().flat_map(|s| s.changes.iter_mut()) {
        c.p_adjusted = adjusted.next().unwrap_or(f64::NAN);
    }
    let p: Vec<f64> = segments.iter().map(|s| s.test.p_value).collect();
    for (s, a) in segments.iter_mut().zip(options.adjust.adjust_finite(&p)?) {
        s.test.p_adjusted = a;
    }
    Ok(Trend {
        measure,
        options: TrendOptions {
            confidence_level: level,
            ..options
        },
        linked: rows.respondents.is_some(),
        n_without_wave,
        segments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nps::{compare, PairedTally};

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    /// The independent change of NPS is the Wald comparison of `nps::compare` (b − a).
    #[test]
    fn independent_nps_change_is_the_wald_comparison() {
        let values = [
            10.0, 9.0, 3.0, 7.0, 8.0, 10.0, 0.0, 9.0, 9.0, 10.0, 6.0, 10.0, 9.0,
        ];
        let waves = [0u32, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
        let t = trend(
            Measure::Nps,
            Scale::NPS,
            TrendRows::new(&values, &waves, 2),
            TrendOptions::default(),
        )
        .unwrap();
        let a = NpsTally::from_counts(1, 2, 3).result();
        let b = NpsTally::from_counts(2, 0, 5).result();
        let c = compare(&b, &a, NpsMethod::Wald).unwrap();
        let ch = &t.segments[0].changes[0];
        close(ch.difference.difference, c.difference, 1e-15);
        close(ch.difference.std_error, c.std_error, 1e-15);
        close(ch.difference.p_value, c.p_value, 1e-15);
        assert_eq!(ch.test, ChangeTest::Independent);
    }

    /// Linked respondents: the paired change equals `PairedTally` of (later, earlier) ratings.
    #[test]
    fn paired_nps_change_is_the_paired_comparison() {
        let values = [10.0, 9.0, 3.0, 7.0, 8.0, 9.0, 6.0, 10.0, 9.0, 10.0];
        let waves = [0u32, 0, 0, 0, 0, 1, 1, 1, 1, 1];
        let ids = [1u32, 2, 3, 4, 5, 2, 3, 4, 5, 6];
        let weights = [1.0, 2.0, 1.5, 0.5, 1.0, 1.0, 0.5, 1.5, 1.0, 2.0];
        let rows = TrendRows::new(&values, &waves, 2)
            .weights(Some(&weights))
            .respondents(Some(&ids));
        let t = trend(Measure::Nps, Scale::NPS, rows, TrendOptions::default()).unwrap();
        let mut p = PairedTally::new();
        // respondents 2..=5: (later, earlier), weight the mean of the two rows' weights.
        let later = [9.0, 6.0, 10.0, 9.0];
        let earlier = [9.0, 3.0, 7.0, 8.0];
        let w = [1.5, 1.0, 1.0, 1.0];
        p.fold(&later, &earlier, Some(&w), NanPolicy::Omit).unwrap();
        let r = p.result();
        let ch = &t.segments[0].changes[0];
        assert_eq!(ch.test, ChangeTest::Paired);
        close(ch.difference.difference, r.difference, 1e-15);
        close(ch.difference.std_error, r.std_error, 1e-15);
        close(ch.difference.p_value, r.p_value, 1e-14);
        assert_eq!((ch.n_paired, ch.n_only_from, ch.n_only_to), (4, 1, 1));
    }

    #[test]
    fn duplicate_respondent_in_a_wave_is_an_error() {
        let values = [10.0, 9.0, 3.0];
        let waves = [0u32, 0, 1];
        let ids = [1u32, 1, 1];
        let rows = TrendRows::new(&values, &waves, 2).respondents(Some(&ids));
        let e = trend(Measure::Nps, Scale::NPS, rows, TrendOptions::default()).unwrap_err();
        assert!(e.to_string().contains("rows 0 and 1"), "{e}");
    }

    #[test]
    fn bad_rating_names_its_row_and_codes_are_checked() {
        let values = [10.0, 11.0];
        let waves = [0u32, 1];
        let e = trend(
            Measure::Nps,
            Scale::NPS,
            TrendRows::new(&values, &waves, 2),
            TrendOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::OutOfRange { index: 1, .. }), "{e}");
        let e = trend(
            Measure::Nps,
            Scale::NPS,
            TrendRows::new(&[10.0], &[3], 2),
            TrendOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
        assert!(Measure::parse("median", None).is_err());
        assert!(Measure::parse("share", None).is_err());
    }

    /// Rows without a wave are counted, a wave without rows is undefined.
    #[test]
    fn missing_waves_and_empty_waves() {
        let values = [10.0, 9.0, 3.0, 7.0];
        let waves = [0u32, u32::MAX, 2, 2];
        let t = trend(
            Measure::Nps,
            Scale::NPS,
            TrendRows::new(&values, &waves, 3),
            TrendOptions::default(),
        )
        .unwrap();
        assert_eq!(t.n_without_wave, 1);
        let s = &t.segments[0];
        assert_eq!(s.waves[1].undefined, Some(UndefinedReason::NoRows));
        assert!(s.changes[0].difference.p_value.is_nan());
        assert!(s.changes[1].p_adjusted.is_nan());
    }
}
