//! The importance–performance matrix: where to act, from a driver table.
//!
//! Each driver is a point with its **importance** (by default its LMG share of R², or any measure of
//! [`importance`](crate::importance), raw or as a share) on one axis and its **performance** on the
//! other: the (weighted) mean rating, or the (weighted) share of respondents in the top box of the
//! driver's declared [`Scale`]. Two cut lines ([`CutLine`]: the mean or the median of the drivers'
//! values, or a given value) split the plane into four quadrants with stable snake_case names
//! ([`Quadrant`]):
//!
//! | | under-performing | performing |
//! | --- | --- | --- |
//! | **important** | `fix_first` | `keep_it_up` |
//! | **unimportant** | `low_priority` | `possible_overkill` |
//!
//! A driver is *important* when its importance is at or above the importance line, and *performing*
//! when its performance is on the line or on the better side of it (above it, or below it for a mean on a
//! [`Direction::LowerIsBetter`] scale). Points on a line therefore count as important / performing.
//!
//! # Priority
//!
//! Drivers are ranked by their **expected gain** = importance × headroom, where the headroom is the
//! fraction of the scale still to win: `|best − mean| / (max − min)` for a mean, `1 − share` for a
//! top-box share (so it lies in `[0, 1]` on either axis). It reads as "the importance the driver carries,
//! weighted by how far it is from perfect": a very important driver already near the best point ranks
//! below a slightly less important one with room to grow. Ties are broken by importance, then by input
//! order. Rank 1 is the first thing to work on. The what-if simulation
//! ([`what_if`](super::whatif::what_if)) gives the gain in NPS points for a concrete change.
//!
//! # Uncertainty
//!
//! When intervals of importance and/or performance are supplied (for instance percentile intervals
//! from a bootstrap of the driver analysis), a driver whose interval contains the cut line (closed
//! interval: an end on the line counts) is marked uncertain on that axis: its quadrant could be the
//! neighbouring one. The cut lines themselves are taken as fixed.
//!
//! The importance intervals can come from the [bootstrap](mod@super::bootstrap) of the same analysis
//! ([`importance_performance_with_bootstrap`]): the intervals of the units' shares when the axis is
//! in shares, of their scores in R² units otherwise, percentile or BCa
//! ([`BootstrapInterval`]). The share interval is bootstrapped replicate by replicate (each
//! replicate's scores over their own sum), never the R²-unit interval divided by the full-sample R².
//! The result then says where its importance intervals came from ([`ImportanceIntervalSource`]).
//!
//! From rows ([`importance_performance`]), the performance intervals are computed unless given, at
//! [`MatrixOptions::confidence_level`]:
//!
//! - a **mean**: the t interval `m ± t(n_eff − 1) · s / √n_eff`, with the weighted mean `m`, Kish's
//!   effective sample size `n_eff = (Σw)² / Σw²` (the row count when unweighted) and
//!   `s² = Σw(x − m)² / Σw · n_eff / (n_eff − 1)` (the sample variance when unweighted); undefined
//!   (no interval) when `n_eff ≤ 1`;
//! - a **top-box share** `p`: the Wilson interval of `p · n_eff` successes out of `n_eff`.
//!
//! The same rows give a **test that the drivers perform alike** ([`SpreadTest`]): the chi-square
//! statistic `Q = Σ (pᵢ − p̄)² / seᵢ²` on `k − 1` degrees of freedom, where for means `seᵢ = sᵢ / √n_effᵢ`
//! and `p̄` is the inverse-variance weighted mean, and for top-box shares `seᵢ² = p̄(1 − p̄) / n_effᵢ`
//! with the pooled share `p̄` (Pearson's chi-square of the k × 2 table). The drivers are rated by the
//! same respondents, so their performances are positively correlated in most surveys; the test treats
//! them as independent, which overstates the variance of their differences: it is conservative (it
//! says "alike" more often than the nominal level). When the test is not significant at
//! `1 − confidence_level`, or when every pair of performance intervals overlaps, the spread of
//! performance is **within noise**: the performance cut then separates drivers that the data cannot
//! tell apart, and the result says so ([`ImportancePerformance::performance_spread`]).
//!
//! ```
//! use cx_metrics::drivers::matrix::{importance_performance_from_scores, DriverPoint, MatrixOptions, Quadrant};
//! use cx_metrics::{Direction, Scale};
//! let s = Scale::new(1, 10, Direction::HigherIsBetter).unwrap();
//! let points = [
//!     DriverPoint::new("time_and_effort", 0.30, 6.0, s),
//!     DriverPoint::new("integrity", 0.10, 8.0, s),
//! ];
//! let m = importance_performance_from_scores(&points, &MatrixOptions::default()).unwrap();
//! assert_eq!(m.drivers[0].quadrant, Quadrant::FixFirst);
//! assert_eq!(m.drivers[1].quadrant, Quadrant::PossibleOverkill);
//! assert_eq!(m.drivers[0].priority, 1);
//! ```

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bootstrap::{BootstrapInterval, DriverBootstrap};
use super::DriverAnalysis;
use crate::error::{Error, Result, UndefinedReason};
use crate::importance::ImportanceMeasure;
use crate::intervals::Interval;
use crate::scale::{Direction, Scale};
use crate::weights::Weights;

/// A driver's ratings with their declared scale and top box.
///
/// `values` are the ratings, one per respondent; NaN marks a missing answer. Values need not be whole
/// numbers (pillar scores averaged over items are fine) but must lie on the scale. The top box is the
/// `top_box` best points of the scale (1 = top box, 2 = top-2 box, ...): on a 1–10 scale where higher is
/// better, `top_box = 2` means ratings of 9 or more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatedDriver<'a> {
    /// The driver's name.
    pub name: &'a str,
    /// Ratings, NaN = missing.
    pub values: &'a [f64],
    /// The scale the ratings are on.
    pub scale: Scale,
    /// How many of the scale's best points make the top box (at least 1, fewer than the scale's points).
    pub top_box: u32,
}

impl<'a> RatedDriver<'a> {
    /// A rated driver; fails when `top_box` is 0 or covers the whole scale.
    ///
    /// ```
    /// use cx_metrics::drivers::matrix::RatedDriver;
    /// use cx_metrics::{Direction, Scale};
    /// let s = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
    /// let d = RatedDriver::new("ease", &[5.0, 4.0, 2.0], s, 2).unwrap();
    /// assert_eq!(d.top_box_point(), 4.0);
    /// assert!(d.in_top_box(4.0) && !d.in_top_box(3.5));
    /// assert!(RatedDriver::new("ease", &[5.0], s, 5).is_err());
    /// ```
    pub fn new(name: &'a str, values: &'a [f64], scale: Scale, top_box: u32) -> Result<Self> {
        let d = Self {
            name,
            values,
            scale,
            top_box,
        };
        d.check_top_box()?;
        Ok(d)
    }

    fn check_top_box(&self) -> Result<()> {
        if self.top_box == 0 || self.top_box as usize >= self.scale.points() {
            return Err(Error::invalid(
                "top_box",
                format!(
                    "{} for {:?} on the scale {}; the top box is at least 1 and fewer than the \
                     scale's {} points",
                    self.top_box,
                    self.name,
                    self.scale,
                    self.scale.points()
                ),
            ));
        }
        Ok(())
    }

    /// Check the top box and every value (NaN, or finite on the scale); errors name the column.
    pub(crate) fn check(&self) -> Result<()> {
        self.check_top_box()?;
        let (lo, hi) = (self.lowest(), self.highest());
        if let Some(i) = self
            .values
            .iter()
            .position(|v| !(v.is_nan() || (lo..=hi).contains(v)))
        {
            return Err(Error::BadColumn {
                column: self.name.to_owned(),
                message: format!(
                    "value {} at row {i} is not on the scale {}; recode the column or declare its scale",
                    self.values[i], self.scale
                ),
            });
        }
        Ok(())
    }

    fn lowest(&self) -> f64 {
        f64::from(self.scale.min())
    }

    fn highest(&self) -> f64 {
        f64::from(self.scale.max())
    }

    /// The best point of the scale (its max, or its min when lower is better).
    pub fn best(&self) -> f64 {
        match self.scale.direction() {
            Direction::HigherIsBetter => self.highest(),
            Direction::LowerIsBetter => self.lowest(),
        }
    }

    /// The worst point that is still in the top box.
    pub fn top_box_point(&self) -> f64 {
        let k = f64::from(self.top_box.saturating_sub(1));
        match self.scale.direction() {
            Direction::HigherIsBetter => self.highest() - k,
            Direction::LowerIsBetter => self.lowest() + k,
        }
    }

    /// Whether a rating is in the top box (at or beyond [`top_box_point`](Self::top_box_point)).
    pub fn in_top_box(&self, x: f64) -> bool {
        !self.is_worse(x, self.top_box_point())
    }

    /// Whether rating `a` is strictly worse than `b` on this scale.
    pub fn is_worse(&self, a: f64, b: f64) -> bool {
        match self.scale.direction() {
            Direction::HigherIsBetter => a < b,
            Direction::LowerIsBetter => a > b,
        }
    }

    /// `x` moved `delta` points toward the best end (away from it when `delta < 0`), not capped.
    pub fn toward_best(&self, x: f64, delta: f64) -> f64 {
        match self.scale.direction() {
            Direction::HigherIsBetter => x + delta,
            Direction::LowerIsBetter => x - delta,
        }
    }

    /// `x` clamped to the scale's ends.
    pub fn clamp(&self, x: f64) -> f64 {
        x.clamp(self.lowest(), self.highest())
    }
}

/// What the performance axis shows.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Performance {
    /// The weighted mean rating, on the driver's scale (all drivers must share one scale).
    #[default]
    Mean,
    /// The weighted share of ratings in the driver's top box, in `[0, 1]`.
    TopBox,
}

impl Performance {
    /// The snake_case name, as parsed by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::TopBox => "top_box",
        }
    }
}

impl fmt::Display for Performance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Performance {
    type Err = Error;
    /// Parse `"mean"` or `"top_box"`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mean" => Ok(Self::Mean),
            "top_box" => Ok(Self::TopBox),
            other => Err(Error::invalid(
                "performance",
                format!("{other:?}; use \"mean\" or \"top_box\""),
            )),
        }
    }
}

/// Where a cut line of the matrix lies.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CutLine {
    /// The mean of the drivers' values on that axis (unweighted across drivers).
    #[default]
    Mean,
    /// The median of the drivers' values on that axis (mean of the two middle values for an even count).
    Median,
    /// A given value, in the axis' units.
    Value(f64),
}

impl CutLine {
    /// The line's position for these values (finite, at least one).
    ///
    /// ```
    /// use cx_metrics::drivers::matrix::CutLine;
    /// assert_eq!(CutLine::Median.resolve(&[3.0, 1.0, 10.0, 2.0]).unwrap(), 2.5);
    /// assert_eq!(CutLine::Mean.resolve(&[3.0, 1.0, 8.0]).unwrap(), 4.0);
    /// assert!(CutLine::Value(f64::NAN).resolve(&[1.0]).is_err());
    /// ```
    pub fn resolve(self, values: &[f64]) -> Result<f64> {
        if values.is_empty() {
            return Err(Error::invalid("drivers", "at least one driver is needed"));
        }
        match self {
            Self::Mean => Ok(values.iter().sum::<f64>() / values.len() as f64),
            Self::Median => {
                let mut v = values.to_vec();
                v.sort_by(f64::total_cmp);
                let m = v.len() / 2;
                Ok(if v.len() % 2 == 1 {
                    v[m]
                } else {
                    (v[m - 1] + v[m]) / 2.0
                })
            }
            Self::Value(x) if x.is_finite() => Ok(x),
            Self::Value(x) => Err(Error::invalid(
                "cut",
                format!("{x}; a cut line must be a finite number"),
            )),
        }
    }
}

impl fmt::Display for CutLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mean => f.write_str("mean"),
            Self::Median => f.write_str("median"),
            Self::Value(x) => write!(f, "{x}"),
        }
    }
}

impl FromStr for CutLine {
    type Err = Error;
    /// Parse `"mean"`, `"median"` or a finite number (a [`CutLine::Value`]).
    ///
    /// ```
    /// use cx_metrics::drivers::matrix::CutLine;
    /// assert_eq!("median".parse::<CutLine>().unwrap(), CutLine::Median);
    /// assert_eq!("7.5".parse::<CutLine>().unwrap(), CutLine::Value(7.5));
    /// assert!("middle".parse::<CutLine>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mean" => Ok(Self::Mean),
            "median" => Ok(Self::Median),
            other => match other.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Self::Value(x)),
                _ => Err(Error::invalid(
                    "cut",
                    format!("{other:?}; use \"mean\", \"median\" or a finite number"),
                )),
            },
        }
    }
}

/// A quadrant of the importance–performance matrix; the ids are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// Important and under-performing: act here first.
    FixFirst,
    /// Important and performing: protect it.
    KeepItUp,
    /// Unimportant and under-performing: little to gain.
    LowPriority,
    /// Unimportant and performing: effort may be better spent elsewhere.
    PossibleOverkill,
}

impl Quadrant {
    /// Every quadrant.
    pub const ALL: [Self; 4] = [
        Self::FixFirst,
        Self::KeepItUp,
        Self::LowPriority,
        Self::PossibleOverkill,
    ];

    /// The quadrant of a driver that is (or not) important and (or not) performing.
    pub fn of(important: bool, performing: bool) -> Self {
        match (important, performing) {
            (true, false) => Self::FixFirst,
            (true, true) => Self::KeepItUp,
            (false, false) => Self::LowPriority,
            (false, true) => Self::PossibleOverkill,
        }
    }

    /// The snake_case id, as parsed by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FixFirst => "fix_first",
            Self::KeepItUp => "keep_it_up",
            Self::LowPriority => "low_priority",
            Self::PossibleOverkill => "possible_overkill",
        }
    }
}

impl fmt::Display for Quadrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Quadrant {
    type Err = Error;
    /// Parse `"fix_first"`, `"keep_it_up"`, `"low_priority"` or `"possible_overkill"`.
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|q| q.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "quadrant",
                    format!(
                        "{s:?}; use \"fix_first\", \"keep_it_up\", \"low_priority\" or \"possible_overkill\""
                    ),
                )
            })
    }
}

/// Options of the matrix. Start from `default()` (LMG shares against mean ratings, both cut at the
/// mean, no intervals) and set what you need.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixOptions {
    /// The importance measure (default LMG); used by [`importance_performance`].
    pub measure: ImportanceMeasure,
    /// Importance as shares of 1 (default) or raw R² units; used by [`importance_performance`].
    pub share: bool,
    /// What the performance axis shows (default the mean rating).
    pub performance: Performance,
    /// Where the importance axis is cut (default the mean).
    pub importance_cut: CutLine,
    /// Where the performance axis is cut (default the mean).
    pub performance_cut: CutLine,
    /// Intervals of importance, one per driver in the drivers' order, in the units of the importance.
    pub importance_intervals: Option<Vec<Interval>>,
    /// Intervals of performance, one per driver in the drivers' order, in the units of the performance.
    /// From rows they are computed when not given (see the module docs).
    pub performance_intervals: Option<Vec<Interval>>,
    /// The confidence level of the computed performance intervals and of the spread test (default
    /// 0.95; the test is significant below `1 − confidence_level`).
    #[serde(default = "default_level")]
    pub confidence_level: f64,
}

fn default_level() -> f64 {
    0.95
}

impl Default for MatrixOptions {
    fn default() -> Self {
        Self {
            measure: ImportanceMeasure::Lmg,
            share: true,
            performance: Performance::Mean,
            importance_cut: CutLine::Mean,
            performance_cut: CutLine::Mean,
            importance_intervals: None,
            performance_intervals: None,
            confidence_level: default_level(),
        }
    }
}

impl MatrixOptions {
    /// Use this importance measure, as shares (`share = true`) or raw.
    pub fn with_measure(mut self, measure: ImportanceMeasure, share: bool) -> Self {
        self.measure = measure;
        self.share = share;
        self
    }

    /// Show this performance.
    pub fn with_performance(mut self, performance: Performance) -> Self {
        self.performance = performance;
        self
    }

    /// Cut the axes here.
    pub fn with_cuts(mut self, importance: CutLine, performance: CutLine) -> Self {
        self.importance_cut = importance;
        self.performance_cut = performance;
        self
    }

    /// Mark drivers whose intervals contain a cut line as uncertain.
    pub fn with_intervals(
        mut self,
        importance: Option<Vec<Interval>>,
        performance: Option<Vec<Interval>>,
    ) -> Self {
        self.importance_intervals = importance;
        self.performance_intervals = performance;
        self
    }

    /// The confidence level of the computed performance intervals and of the spread test.
    pub fn with_confidence_level(mut self, confidence_level: f64) -> Self {
        self.confidence_level = confidence_level;
        self
    }
}

/// One driver's importance and performance, the input of [`importance_performance_from_scores`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverPoint {
    /// The driver's name.
    pub name: String,
    /// Its importance.
    pub importance: f64,
    /// Its performance (mean rating, or top-box share in `[0, 1]`).
    pub performance: f64,
    /// The scale of its ratings (for the headroom and the direction).
    pub scale: Scale,
    /// Respondents whose rating the performance is computed from.
    pub n: u64,
    /// Respondents without a rating (missing), not in the performance.
    pub n_missing: u64,
}

impl DriverPoint {
    /// A point with `n` and `n_missing` unknown (0).
    pub fn new(name: impl Into<String>, importance: f64, performance: f64, scale: Scale) -> Self {
        Self {
            name: name.into(),
            importance,
            performance,
            scale,
            n: 0,
            n_missing: 0,
        }
    }
}

/// One driver in the matrix: plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixDriver {
    /// The driver's name.
    pub name: String,
    /// Its importance.
    pub importance: f64,
    /// Its performance.
    pub performance: f64,
    /// Fraction of the scale still to win, in `[0, 1]` (see the module docs).
    pub headroom: f64,
    /// `importance × headroom`, the key of the priority order.
    pub expected_gain: f64,
    /// Its quadrant.
    pub quadrant: Quadrant,
    /// Its importance interval, when one was given.
    #[serde(default)]
    pub importance_interval: Option<Interval>,
    /// Its performance interval: given, or computed from the rows (none when undefined, e.g. a mean
    /// with an effective sample size of 1 or less).
    #[serde(default)]
    pub performance_interval: Option<Interval>,
    /// Its importance interval contains the importance cut line.
    pub uncertain_importance: bool,
    /// Its performance interval contains the performance cut line.
    pub uncertain_performance: bool,
    /// Rank by expected gain, 1 = first.
    pub priority: usize,
    /// Respondents whose rating the performance is computed from.
    pub n: u64,
    /// Respondents without a rating.
    pub n_missing: u64,
}

impl MatrixDriver {
    /// Whether the quadrant is uncertain on either axis.
    pub fn uncertain(&self) -> bool {
        self.uncertain_importance || self.uncertain_performance
    }
}

/// The importance–performance matrix: plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportancePerformance {
    /// The importance measure (as the caller stated it; informative for the scores entry point).
    pub measure: ImportanceMeasure,
    /// Whether importance is a share of 1.
    pub share: bool,
    /// What the performance axis shows.
    pub performance: Performance,
    /// The importance cut rule.
    pub importance_cut: CutLine,
    /// The performance cut rule.
    pub performance_cut: CutLine,
    /// Where the importance line lies.
    pub importance_line: f64,
    /// Where the performance line lies.
    pub performance_line: f64,
    /// Which side of the performance line is better.
    pub direction: Direction,
    /// The drivers, in input order.
    pub drivers: Vec<MatrixDriver>,
    /// Whether the drivers' performances differ beyond noise (from rows with two drivers or more;
    /// none otherwise).
    #[serde(default)]
    pub performance_spread: Option<SpreadTest>,
    /// The drivers' common scale, for a mean performance (none for top-box shares, which lie in
    /// `[0, 1]`); the full extent of the performance axis.
    #[serde(default)]
    pub scale: Option<Scale>,
    /// Where the importance intervals came from, when they were read from a bootstrap of the
    /// analysis (none when given as numbers, or when there are none).
    #[serde(default)]
    pub importance_source: Option<ImportanceIntervalSource>,
    /// The rows of the analysed sample the performance was computed on (see [`AnalysedSample`]);
    /// none when each driver's available ratings were used (pairwise deletion, or a matrix built
    /// from columns alone).
    #[serde(default)]
    pub performance_rows: Option<usize>,
}

impl ImportancePerformance {
    /// The same matrix, recorded as computed on `sample` (or on each driver's available ratings).
    pub fn on_sample(mut self, sample: Option<&AnalysedSample>) -> Self {
        self.performance_rows = sample.map(|s| s.rows.len());
        self
    }
}

/// The bootstrap the importance intervals of a matrix were read from.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportanceIntervalSource {
    /// Replicates drawn.
    pub n_resamples: usize,
    /// Replicates left out of these intervals: those that could not be fitted, and for shares those
    /// whose scores summed to 0.
    pub n_failed: usize,
    /// The bootstrap's seed.
    pub seed: u64,
    /// Percentile or BCa.
    pub interval: BootstrapInterval,
    /// The level of the intervals.
    pub confidence_level: f64,
    /// Intervals of the shares (`true`) or of the scores in R² units.
    pub share: bool,
}

impl fmt::Display for ImportanceIntervalSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = self.confidence_level * 100.0;
        write!(
            f,
            "{level}% {} intervals of the {} from {} bootstrap resamples ({} failed), seed {}",
            self.interval,
            if self.share { "shares" } else { "R² scores" },
            self.n_resamples,
            self.n_failed,
            self.seed
        )
    }
}

/// The importance intervals of `measure` (of its shares when `share`, else in R² units) that
/// `boot`, a [`bootstrap`](super::bootstrap()) of `analysis`, gives; `interval` picks percentile or
/// BCa.
///
/// # Errors
/// [`Error::Incompatible`] when `boot` is not a bootstrap of `analysis` (another outcome, other ranked
/// units, another sample size, or full-sample scores that differ from the analysis's);
/// [`Error::InvalidArgument`] when `measure` was not bootstrapped, when its shares were not (a result
/// written before they were, or scores that sum to 0), or when a BCa interval is undefined.
pub fn bootstrap_importance_intervals(
    analysis: &DriverAnalysis,
    boot: &DriverBootstrap,
    measure: ImportanceMeasure,
    share: bool,
    interval: BootstrapInterval,
) -> Result<(Vec<Interval>, ImportanceIntervalSource)> {
    let other = |what: String| {
        Error::Incompatible(format!(
            "the importance intervals come from a bootstrap of another analysis ({what}); \
             bootstrap this analysis (analysis.bootstrap(...)) and pass that"
        ))
    };
    if boot.outcome != analysis.outcome {
        return Err(other(format!(
            "outcome {:?}, this analysis's is {:?}",
            boot.outcome, analysis.outcome
        )));
    }
    if boot.units != analysis.importance.names {
        return Err(other(format!(
            "units {:?}, this analysis ranks {:?}",
            boot.units, analysis.importance.names
        )));
    }
    if boot.n as u64 != analysis.n {
        return Err(other(format!(
            "{} rows resampled, this analysis used {}",
            boot.n, analysis.n
        )));
    }
    let measured: Vec<&str> = boot.importance.iter().map(|m| m.measure.as_str()).collect();
    let mb = boot.measure(measure).ok_or_else(|| {
        Error::invalid(
            "importance_intervals",
            format!(
                "the bootstrap has no {measure} (it bootstrapped [{}]); bootstrap with measures \
                 that include {measure:?}",
                measured.join(", ")
            ),
        )
    })?;
    let scores = analysis.scores(measure).ok_or_else(|| {
        Error::invalid(
            "measure",
            format!("{measure} was not computed in this analysis"),
        )
    })?;
    for (e, x) in mb.scores.iter().zip(&scores.raw) {
        // The same scores by two paths (moments of the analysis, standardized sums of the bootstrap)
        // agree to about 1e-13; a bootstrap of other rows or weights differs far beyond this.
        if (e.estimate - x).abs() > 1e-9 * (1.0 + x.abs()) {
            return Err(other(format!(
                "its {measure} score of {:?} is {}, this analysis's is {x}",
                e.name, e.estimate
            )));
        }
    }
    let estimates = if share {
        mb.shares.as_deref().ok_or_else(|| {
            Error::invalid(
                "importance_intervals",
                format!(
                    "the bootstrap has no share intervals of {measure} (its scores sum to 0, or it \
                     was made before shares were bootstrapped); bootstrap again or use share = false"
                ),
            )
        })?
    } else {
        mb.scores.as_slice()
    };
    let intervals = estimates
        .iter()
        .map(|e| {
            interval.of(e).ok_or_else(|| {
                Error::invalid(
                    "interval",
                    format!(
                        "the BCa interval of {:?} is undefined (every replicate lies on one side \
                         of the estimate); use the percentile interval",
                        e.name
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let source = ImportanceIntervalSource {
        n_resamples: boot.n_resamples,
        n_failed: boot.n_failed + if share { mb.n_share_failed } else { 0 },
        seed: boot.seed,
        interval,
        confidence_level: boot.confidence_level,
        share,
    };
    Ok((intervals, source))
}

/// [`importance_performance`] with the importance intervals read from `boot`, a bootstrap of
/// `analysis` (see [`bootstrap_importance_intervals`]; any intervals in `options` are replaced). The
/// result records the source in [`ImportancePerformance::importance_source`]. The bootstrap's
/// confidence level must be the matrix's (`options.confidence_level`), so that both axes are read at
/// one level.
///
/// # Errors
/// Those of [`bootstrap_importance_intervals`] and [`importance_performance`];
/// [`Error::InvalidArgument`] when the levels differ.
pub fn importance_performance_with_bootstrap(
    analysis: &DriverAnalysis,
    columns: &[RatedDriver<'_>],
    weights: Option<&[f64]>,
    options: &MatrixOptions,
    boot: &DriverBootstrap,
    interval: BootstrapInterval,
) -> Result<ImportancePerformance> {
    if (boot.confidence_level - options.confidence_level).abs() > 1e-12 {
        return Err(Error::invalid(
            "confidence_level",
            format!(
                "the bootstrap's intervals are at the level {}, the matrix's performance intervals at \
                 {}; bootstrap at the matrix's level or make the matrix at the bootstrap's",
                boot.confidence_level, options.confidence_level
            ),
        ));
    }
    let (intervals, source) =
        bootstrap_importance_intervals(analysis, boot, options.measure, options.share, interval)?;
    let mut opts = options.clone();
    opts.importance_intervals = Some(intervals);
    let mut m = importance_performance(analysis, columns, weights, &opts)?;
    m.importance_source = Some(source);
    Ok(m)
}

/// Whether the drivers' performances differ beyond sampling noise (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpreadTest {
    /// The chi-square statistic `Q` (NaN when a driver has no standard error: a single rating, or
    /// ratings that are all equal, for a mean).
    #[serde(with = "crate::serde_nan")]
    pub statistic: f64,
    /// Degrees of freedom, `k − 1`.
    pub df: usize,
    /// `P(χ²(df) ≥ Q)` (NaN when the statistic is).
    #[serde(with = "crate::serde_nan")]
    pub p_value: f64,
    /// Every pair of performance intervals overlaps (false when a driver has no interval).
    pub intervals_overlap: bool,
    /// The level the test and the intervals are read at.
    pub confidence_level: f64,
    /// The test is not significant at `1 − confidence_level`, or every pair of intervals overlaps:
    /// the performance cut separates drivers the data cannot tell apart.
    pub within_noise: bool,
}

impl ImportancePerformance {
    /// The drivers by priority, first = rank 1.
    pub fn priorities(&self) -> Vec<&MatrixDriver> {
        let mut v: Vec<&MatrixDriver> = self.drivers.iter().collect();
        v.sort_by_key(|d| d.priority);
        v
    }

    /// The driver called `name`.
    pub fn driver(&self, name: &str) -> Option<&MatrixDriver> {
        self.drivers.iter().find(|d| d.name == name)
    }

    /// The drivers in quadrant `q`, by priority.
    pub fn in_quadrant(&self, q: Quadrant) -> Vec<&MatrixDriver> {
        self.priorities()
            .into_iter()
            .filter(|d| d.quadrant == q)
            .collect()
    }
}

/// The rows a driver analysis used, for its matrix: the ratings of `drivers` (every driver of the
/// analysis, in its order) and the `weights` on the analysed sample only, so that the performance
/// axis describes the respondents the importance was estimated on.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysedSample {
    /// Per driver, its ratings on the analysed rows (declared "don't know" codes and, under the
    /// indicator method, the filled answers are NaN: missing).
    pub columns: Vec<Vec<f64>>,
    /// The weights of the analysed rows.
    pub weights: Option<Vec<f64>>,
    /// The analysed rows (positions in the input).
    pub rows: Vec<usize>,
}

impl AnalysedSample {
    /// The rows of `analysis` among `y`, `drivers` and `weights` (the columns it was fitted on):
    /// declared codes become missing; the outcome must be present and the weight positive; under
    /// listwise deletion every driver must be rated, under the indicator method every driver that
    /// is not filled. `None` under pairwise deletion, which has no single sample (the matrix then
    /// uses each driver's available ratings, and says so).
    ///
    /// # Errors
    /// Those of [`declared_values`](super::declared_values); [`Error::BadColumn`] when `drivers`
    /// are not the analysis's drivers in its order, or a column's length differs from `y`'s.
    pub fn of(
        analysis: &DriverAnalysis,
        y: &[f64],
        drivers: &[RatedDriver<'_>],
        weights: Option<&[f64]>,
    ) -> Result<Option<Self>> {
        let o = &analysis.options;
        if o.missing == super::MissingPolicy::Pairwise {
            return Ok(None);
        }
        let names: Vec<&str> = drivers.iter().map(|d| d.name).collect();
        if names != analysis.drivers {
            return Err(Error::BadColumn {
                column: names.join(", "),
                message: format!(
                    "are not the analysis's drivers ({}); give every driver of the analysis, in its \
                     order",
                    analysis.drivers.join(", ")
                ),
            });
        }
        let n = y.len();
        for d in drivers {
            if d.values.len() != n {
                return Err(Error::BadColumn {
                    column: d.name.to_owned(),
                    message: format!(
                        "has {} values but the outcome has {n}; columns must have the same length",
                        d.values.len()
                    ),
                });
            }
        }
        let columns: Vec<(&str, &[f64])> = drivers.iter().map(|d| (d.name, d.values)).collect();
        let declared = super::declared_values(y, &columns, o)?;
        let y = declared.y.as_deref().unwrap_or(y);
        let values: Vec<&[f64]> = drivers
            .iter()
            .zip(&declared.drivers)
            .map(|(d, r)| r.as_deref().unwrap_or(d.values))
            .collect();
        let filled = |name: &str| {
            o.missing == super::MissingPolicy::Indicator
                && (o.indicator_for.is_empty() || o.indicator_for.iter().any(|f| f == name))
        };
        let rows: Vec<usize> = (0..n)
            .filter(|&i| {
                !y[i].is_nan()
                    && weights.is_none_or(|w| w[i] > 0.0)
                    && drivers
                        .iter()
                        .zip(&values)
                        .all(|(d, v)| !v[i].is_nan() || filled(d.name))
            })
            .collect();
        Ok(Some(Self {
            columns: values
                .iter()
                .map(|v| rows.iter().map(|&i| v[i]).collect())
                .collect(),
            weights: weights.map(|w| rows.iter().map(|&i| w[i]).collect()),
            rows,
        }))
    }

    /// `drivers` with their ratings on this sample.
    pub fn rated<'a>(&'a self, drivers: &[RatedDriver<'a>]) -> Vec<RatedDriver<'a>> {
        drivers
            .iter()
            .zip(&self.columns)
            .map(|(d, c)| RatedDriver { values: c, ..*d })
            .collect()
    }
}

/// The matrix of a driver analysis: importance from `analysis` (measure and share in `options`),
/// performance from the rating columns of its ranked drivers, weighted by `weights`.
///
/// `columns` must include every ranked driver of the analysis (by name; extra columns are ignored);
/// performance uses each driver's non-missing ratings (available cases, the respondents who rated it),
/// counted in `n`, with the missing ones counted in `n_missing`.
///
/// # Errors
/// [`Error::UnknownColumn`] for a ranked driver (or group) without a column; [`Error::InvalidArgument`]
/// when the measure was not computed or its shares are undefined; [`Error::BadColumn`] for a value
/// off its scale or a column of the wrong length; [`Error::InvalidWeight`]; [`Error::Undefined`] when a
/// driver has no rating with positive weight; those of [`importance_performance_from_scores`].
pub fn importance_performance(
    analysis: &DriverAnalysis,
    columns: &[RatedDriver<'_>],
    weights: Option<&[f64]>,
    options: &MatrixOptions,
) -> Result<ImportancePerformance> {
    let scores = analysis.scores(options.measure).ok_or_else(|| {
        Error::invalid(
            "measure",
            format!("{} was not computed in this analysis", options.measure),
        )
    })?;
    let importance = if options.share {
        scores.share.as_ref().ok_or_else(|| {
            Error::invalid(
                "share",
                format!(
                    "the {} scores sum to zero, so shares are undefined; use share = false",
                    options.measure
                ),
            )
        })?
    } else {
        &scores.raw
    };
    let available = || {
        columns
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let cols = analysis
        .importance
        .names
        .iter()
        .map(|name| {
            columns
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| Error::UnknownColumn {
                    column: name.clone(),
                    available: available(),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    // The weights are checked once for every driver; extreme ones are rescaled by a power of two
    // (see `weights`), which changes no weighted mean.
    let checked = weights.map(Weights::new).transpose()?;
    let scaled = checked.as_ref().map(Weights::scaled);
    let weights = scaled.as_deref();
    // One pass over each driver's ratings, the drivers in parallel (each sum is still taken in row
    // order, so the figures do not depend on the thread count).
    let performances = cols
        .par_iter()
        .map(|col| performance_of(col, weights, options.performance))
        .collect::<Vec<_>>();
    let mut points = Vec::with_capacity(importance.len());
    let mut stats = Vec::with_capacity(importance.len());
    for ((name, &imp), (col, perf)) in analysis
        .importance
        .names
        .iter()
        .zip(importance)
        .zip(cols.iter().zip(performances))
    {
        let st = perf?;
        points.push(DriverPoint {
            name: name.clone(),
            importance: imp,
            performance: st.value,
            scale: col.scale,
            n: st.n,
            n_missing: st.missing,
        });
        stats.push(st);
    }
    let level = crate::intervals::check_level(options.confidence_level)?;
    let computed: Vec<Option<Interval>> = stats
        .iter()
        .map(|st| st.interval(options.performance, level))
        .collect();
    let mut opts = options.clone();
    if opts.performance_intervals.is_none() && computed.iter().all(Option::is_some) {
        opts.performance_intervals = Some(computed.iter().flatten().copied().collect());
    }
    let mut m = importance_performance_from_scores(&points, &opts)?;
    if options.performance_intervals.is_none() {
        // A driver without an interval (a mean from one effective rating) is left unmarked.
        for ((d, iv), p) in m.drivers.iter_mut().zip(&computed).zip(&points) {
            d.performance_interval = *iv;
            d.uncertain_performance = iv.is_some_and(|iv| iv.contains(m.performance_line));
            debug_assert_eq!(d.name, p.name);
        }
    }
    m.performance_spread = spread_test(&stats, &m.drivers, options.performance, level);
    m.measure = options.measure;
    m.share = options.share;
    Ok(m)
}

/// The sums of one driver's ratings that its performance, interval and test come from.
#[derive(Debug, Clone, Copy)]
struct PerformanceStats {
    /// The weighted mean (of the rating, or of the top-box indicator).
    value: f64,
    /// Rows with a positive-weight rating.
    n: u64,
    /// Rows missing.
    missing: u64,
    /// Kish's effective sample size `(Σw)² / Σw²`.
    n_eff: f64,
    /// `Σw(x − value)² / Σw`, the weighted (population) variance.
    variance: f64,
}

impl PerformanceStats {
    /// The sample standard deviation `√(variance · n_eff / (n_eff − 1))`; NaN when `n_eff ≤ 1`.
    fn sd(&self) -> f64 {
        if self.n_eff > 1.0 {
            (self.variance * self.n_eff / (self.n_eff - 1.0)).sqrt()
        } else {
            f64::NAN
        }
    }

    /// The t interval of a mean or the Wilson interval of a share (see the module docs).
    fn interval(&self, kind: Performance, level: f64) -> Option<Interval> {
        match kind {
            Performance::Mean => {
                crate::intervals::mean_t_ci(self.value, self.sd(), self.n_eff, level).ok()
            }
            Performance::TopBox => crate::intervals::proportion_ci(
                (self.value * self.n_eff).clamp(0.0, self.n_eff),
                self.n_eff,
                level,
                crate::intervals::ProportionMethod::Wilson,
            )
            .ok(),
        }
    }
}

/// The chi-square test that the drivers perform alike, and whether their intervals all overlap.
fn spread_test(
    stats: &[PerformanceStats],
    drivers: &[MatrixDriver],
    kind: Performance,
    level: f64,
) -> Option<SpreadTest> {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    if stats.len() < 2 {
        return None;
    }
    let df = stats.len() - 1;
    let statistic = match kind {
        Performance::Mean => {
            let var: Vec<f64> = stats.iter().map(|s| s.sd().powi(2) / s.n_eff).collect();
            if var.iter().all(|v| v.is_finite() && *v > 0.0) {
                let sw: f64 = var.iter().map(|v| 1.0 / v).sum();
                let centre = stats
                    .iter()
                    .zip(&var)
                    .map(|(s, v)| s.value / v)
                    .sum::<f64>()
                    / sw;
                stats
                    .iter()
                    .zip(&var)
                    .map(|(s, v)| (s.value - centre).powi(2) / v)
                    .sum()
            } else {
                f64::NAN
            }
        }
        Performance::TopBox => {
            let total: f64 = stats.iter().map(|s| s.n_eff).sum();
            let pooled = stats.iter().map(|s| s.value * s.n_eff).sum::<f64>() / total;
            if pooled > 0.0 && pooled < 1.0 {
                stats
                    .iter()
                    .map(|s| s.n_eff * (s.value - pooled).powi(2))
                    .sum::<f64>()
                    / (pooled * (1.0 - pooled))
            } else {
                // Every driver's share is 0 (or every one is 1): no spread at all.
                0.0
            }
        }
    };
    let p_value = if statistic.is_nan() {
        f64::NAN
    } else {
        ChiSquared::new(df as f64).map_or(f64::NAN, |d| d.sf(statistic))
    };
    let intervals: Option<Vec<Interval>> = drivers.iter().map(|d| d.performance_interval).collect();
    let intervals_overlap = intervals.is_some_and(|v| {
        let low = v.iter().map(|i| i.low).fold(f64::NEG_INFINITY, f64::max);
        let high = v.iter().map(|i| i.high).fold(f64::INFINITY, f64::min);
        low <= high
    });
    let within_noise = intervals_overlap || p_value >= 1.0 - level;
    Some(SpreadTest {
        statistic,
        df,
        p_value,
        intervals_overlap,
        confidence_level: level,
        within_noise,
    })
}

/// The performance sums of one column; `weights` already checked.
fn performance_of(
    col: &RatedDriver<'_>,
    weights: Option<&[f64]>,
    kind: Performance,
) -> Result<PerformanceStats> {
    col.check()?;
    if let Some(w) = weights {
        if w.len() != col.values.len() {
            return Err(Error::BadColumn {
                column: col.name.to_owned(),
                message: format!(
                    "has {} values but there are {} weights; columns must have the same length",
                    col.values.len(),
                    w.len()
                ),
            });
        }
    }
    let value_of = |x: f64| match kind {
        Performance::Mean => x,
        Performance::TopBox => f64::from(u8::from(col.in_top_box(x))),
    };
    let (mut sw, mut sw2, mut sx, mut n, mut missing) = (0.0, 0.0, 0.0, 0u64, 0u64);
    for (i, &x) in col.values.iter().enumerate() {
        if x.is_nan() {
            missing += 1;
            continue;
        }
        let w = weights.map_or(1.0, |w| w[i]);
        if w == 0.0 {
            continue;
        }
        n += 1;
        sw += w;
        sw2 += w * w;
        sx += w * value_of(x);
    }
    if n == 0 {
        return Err(Error::Undefined(UndefinedReason::NoRows));
    }
    let value = sx / sw;
    // A second pass for the spread about the mean (no cancellation between two large sums).
    let mut ss = 0.0;
    for (i, &x) in col.values.iter().enumerate() {
        if !x.is_nan() {
            let w = weights.map_or(1.0, |w| w[i]);
            ss += w * (value_of(x) - value).powi(2);
        }
    }
    Ok(PerformanceStats {
        value,
        n,
        missing,
        n_eff: sw * sw / sw2,
        variance: ss / sw,
    })
}

/// Every interval has finite bounds with low ≤ high; the error names the driver and the argument.
fn check_intervals(
    points: &[DriverPoint],
    intervals: &Option<Vec<Interval>>,
    name: &'static str,
) -> Result<()> {
    let Some(intervals) = intervals else {
        return Ok(());
    };
    for (p, iv) in points.iter().zip(intervals) {
        if !(iv.low.is_finite() && iv.high.is_finite()) {
            return Err(Error::invalid(
                name,
                format!(
                    "the interval of {:?} is ({}, {}); both bounds must be finite numbers",
                    p.name, iv.low, iv.high
                ),
            ));
        }
        if iv.low > iv.high {
            return Err(Error::invalid(
                name,
                format!(
                    "the interval of {:?} is reversed ({}, {}); give (low, high) with low <= high",
                    p.name, iv.low, iv.high
                ),
            ));
        }
    }
    Ok(())
}

/// The matrix from importance and performance values already at hand (`options.measure` and
/// `options.share` only label the result).
///
/// # Errors
/// [`Error::InvalidArgument`] for no driver, a duplicate name, a non-finite value, a top-box share
/// outside `[0, 1]`, a mean off its scale, or an invalid cut value; [`Error::Incompatible`] for means on
/// different scales; [`Error::LengthMismatch`] when an interval list does not have one interval per
/// driver.
pub fn importance_performance_from_scores(
    points: &[DriverPoint],
    options: &MatrixOptions,
) -> Result<ImportancePerformance> {
    let first = points
        .first()
        .ok_or_else(|| Error::invalid("drivers", "at least one driver is needed"))?;
    let direction = match options.performance {
        Performance::Mean => first.scale.direction(),
        Performance::TopBox => Direction::HigherIsBetter,
    };
    for (i, p) in points.iter().enumerate() {
        if points[..i].iter().any(|q| q.name == p.name) {
            return Err(Error::invalid(
                "drivers",
                format!("{:?} is given twice", p.name),
            ));
        }
        if !(p.importance.is_finite() && p.performance.is_finite()) {
            return Err(Error::invalid(
                "drivers",
                format!(
                    "{:?} has importance {} and performance {}; both must be finite",
                    p.name, p.importance, p.performance
                ),
            ));
        }
        match options.performance {
            Performance::TopBox if !(0.0..=1.0).contains(&p.performance) => {
                return Err(Error::invalid(
                    "performance",
                    format!(
                        "{:?} has a top-box share of {}; shares lie in [0, 1]",
                        p.name, p.performance
                    ),
                ))
            }
            Performance::Mean if p.scale != first.scale => {
                return Err(Error::Incompatible(format!(
                    "mean ratings on different scales ({:?} on {}, {:?} on {}) cannot share a cut \
                     line; use performance = \"top_box\"",
                    first.name, first.scale, p.name, p.scale
                )))
            }
            Performance::Mean
                if p.performance < f64::from(p.scale.min())
                    || p.performance > f64::from(p.scale.max()) =>
            {
                return Err(Error::invalid(
                    "performance",
                    format!(
                        "{:?} has a mean of {}, off its scale {}",
                        p.name, p.performance, p.scale
                    ),
                ))
            }
            _ => {}
        }
    }
    let check_len = |iv: &Option<Vec<Interval>>, what: &'static str| match iv {
        Some(v) if v.len() != points.len() => Err(Error::LengthMismatch {
            what,
            left: points.len(),
            right: v.len(),
        }),
        _ => Ok(()),
    };
    check_len(
        &options.importance_intervals,
        "drivers and importance intervals",
    )?;
    check_len(
        &options.performance_intervals,
        "drivers and performance intervals",
    )?;
    check_intervals(
        points,
        &options.importance_intervals,
        "importance_intervals",
    )?;
    check_intervals(
        points,
        &options.performance_intervals,
        "performance_intervals",
    )?;
    let imp: Vec<f64> = points.iter().map(|p| p.importance).collect();
    let perf: Vec<f64> = points.iter().map(|p| p.performance).collect();
    let importance_line = options.importance_cut.resolve(&imp)?;
    let performance_line = options.performance_cut.resolve(&perf)?;
    let crosses = |iv: &Option<Vec<Interval>>, i: usize, line: f64| {
        iv.as_ref()
            .and_then(|v| v.get(i))
            .is_some_and(|x| x.contains(line))
    };
    let mut drivers: Vec<MatrixDriver> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let performing = match direction {
                Direction::HigherIsBetter => p.performance >= performance_line,
                Direction::LowerIsBetter => p.performance <= performance_line,
            };
            let headroom = match options.performance {
                Performance::Mean => {
                    let best = match p.scale.direction() {
                        Direction::HigherIsBetter => p.scale.max(),
                        Direction::LowerIsBetter => p.scale.min(),
                    };
                    (f64::from(best) - p.performance).abs()
                        / f64::from(p.scale.max() - p.scale.min())
                }
                Performance::TopBox => 1.0 - p.performance,
            };
            MatrixDriver {
                name: p.name.clone(),
                importance: p.importance,
                performance: p.performance,
                headroom,
                expected_gain: p.importance * headroom,
                quadrant: Quadrant::of(p.importance >= importance_line, performing),
                importance_interval: options.importance_intervals.as_ref().map(|v| v[i]),
                performance_interval: options.performance_intervals.as_ref().map(|v| v[i]),
                uncertain_importance: crosses(&options.importance_intervals, i, importance_line),
                uncertain_performance: crosses(&options.performance_intervals, i, performance_line),
                priority: 0,
                n: p.n,
                n_missing: p.n_missing,
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..drivers.len()).collect();
    order.sort_by(|&a, &b| {
        let (da, db) = (&drivers[a], &drivers[b]);
        db.expected_gain
            .total_cmp(&da.expected_gain)
            .then(db.importance.total_cmp(&da.importance))
            .then(a.cmp(&b))
    });
    for (rank, &i) in order.iter().enumerate() {
        drivers[i].priority = rank + 1;
    }
    Ok(ImportancePerformance {
        measure: options.measure,
        share: options.share,
        performance: options.performance,
        importance_cut: options.importance_cut,
        performance_cut: options.performance_cut,
        importance_line,
        performance_line,
        direction,
        drivers,
        performance_spread: None,
        scale: (options.performance == Performance::Mean).then_some(first.scale),
        importance_source: None,
        performance_rows: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::{driver_analysis, DriverOptions};

    fn ten() -> Scale {
        Scale::new(1, 10, Direction::HigherIsBetter).unwrap()
    }

    const X: [f64; 10] = [7.0, 8.0, 9.0, 6.0, 8.0, 10.0, 7.0, 9.0, 8.0, 5.0];
    const W: [f64; 10] = [1.0, 2.0, 1.0, 0.5, 1.0, 3.0, 1.0, 1.0, 2.0, 1.0];

    fn stats(values: &[f64], weights: Option<&[f64]>, kind: Performance) -> PerformanceStats {
        let col = RatedDriver::new("d", values, ten(), 2).unwrap();
        performance_of(&col, weights, kind).unwrap()
    }

    #[test]
    fn mean_intervals_match_scipy_t() {
        // scipy.stats.t.interval(0.95, 9, loc=x.mean(), scale=scipy.stats.sem(x))
        let iv = stats(&X, None, Performance::Mean)
            .interval(Performance::Mean, 0.95)
            .unwrap();
        assert!((iv.low - 6.630946233100898).abs() < 1e-12, "{iv:?}");
        assert!((iv.high - 8.769053766899102).abs() < 1e-12, "{iv:?}");
        // Weighted: n_eff = (Σw)²/Σw² = 7.838709677419355, s² = Σw(x−m)²/Σw · n_eff/(n_eff − 1),
        // scipy.stats.t.interval(0.95, n_eff - 1, loc=m, scale=sqrt(s²/n_eff)).
        let st = stats(&X, Some(&W), Performance::Mean);
        assert!((st.n_eff - 7.838709677419355).abs() < 1e-12);
        assert!((st.value - 8.148148148148149).abs() < 1e-12);
        let iv = st.interval(Performance::Mean, 0.95).unwrap();
        assert!((iv.low - 6.870315488617386).abs() < 1e-12, "{iv:?}");
        assert!((iv.high - 9.425980807678911).abs() < 1e-12, "{iv:?}");
        // One rating: no t interval.
        let one = stats(&[7.0, f64::NAN], None, Performance::Mean);
        assert!(one.interval(Performance::Mean, 0.95).is_none());
    }

    #[test]
    fn top_box_intervals_match_statsmodels_wilson() {
        // statsmodels proportion_confint(p * n_eff, n_eff, alpha=0.05, method="wilson"), top-2 box
        // (9 or 10) of X with the weights W.
        let st = stats(&X, Some(&W), Performance::TopBox);
        assert!((st.value - 0.37037037037037035).abs() < 1e-12);
        let iv = st.interval(Performance::TopBox, 0.95).unwrap();
        assert!((iv.low - 0.1328024282506035).abs() < 1e-12, "{iv:?}");
        assert!((iv.high - 0.6932053844924773).abs() < 1e-12, "{iv:?}");
        // Unweighted: 3 of 10, proportion_confint(3, 10, method="wilson").
        let iv = stats(&X, None, Performance::TopBox)
            .interval(Performance::TopBox, 0.95)
            .unwrap();
        assert!((iv.low - 0.10779126740630104).abs() < 1e-12, "{iv:?}");
        assert!((iv.high - 0.6032218525388546).abs() < 1e-12, "{iv:?}");
    }

    /// A reproducible rating on 1..=10 (a linear congruential generator).
    fn ratings(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (1 + (s >> 33) % 10) as f64
            })
            .collect()
    }

    /// Six drivers of `n` rows from `make(j)`, an outcome that depends on all of them, and the matrix.
    fn matrix_of(columns: &[Vec<f64>], kind: Performance) -> ImportancePerformance {
        let n = columns[0].len();
        let noise = ratings(n, 99);
        let y: Vec<f64> = (0..n)
            .map(|i| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(j, c)| (j + 1) as f64 * c[i])
                    .sum::<f64>()
                    + 3.0 * noise[i]
            })
            .collect();
        let names = ["a", "b", "c", "d", "e", "f"];
        let drivers: Vec<(&str, &[f64])> = names
            .iter()
            .zip(columns)
            .map(|(n, c)| (*n, c.as_slice()))
            .collect();
        // A synthetic continuous outcome: unchecked (the default checks `ltr` on 0-10).
        let options =
            DriverOptions::default().with_outcome_scale(crate::drivers::OutcomeScale::Unchecked);
        let analysis = driver_analysis(&y, &drivers, None, &options).unwrap();
        let rated: Vec<RatedDriver<'_>> = names
            .iter()
            .zip(columns)
            .map(|(n, c)| RatedDriver::new(n, c, ten(), 2).unwrap())
            .collect();
        let options = MatrixOptions::default().with_performance(kind);
        importance_performance(&analysis, &rated, None, &options).unwrap()
    }

    #[test]
    fn close_means_are_uncertain_and_within_noise() {
        // The same ratings rotated (equal means), then driver j gets j ratings one point higher:
        // means within 6/300 = 0.02 points of each other.
        let base = ratings(300, 7);
        let columns: Vec<Vec<f64>> = (0..6)
            .map(|j| {
                let mut c: Vec<f64> = (0..300).map(|i| base[(i + 37 * j) % 300]).collect();
                for x in c.iter_mut().filter(|x| **x < 10.0).take(j) {
                    *x += 1.0;
                }
                c
            })
            .collect();
        let m = matrix_of(&columns, Performance::Mean);
        let perf: Vec<f64> = m.drivers.iter().map(|d| d.performance).collect();
        let spread = perf.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b))
            - perf.iter().fold(f64::INFINITY, |a, &b| a.min(b));
        assert!(spread < 0.05, "{perf:?}");
        assert!(m.drivers.iter().all(|d| d.uncertain_performance), "{m:?}");
        let t = m.performance_spread.as_ref().unwrap();
        assert!(t.within_noise && t.intervals_overlap, "{t:?}");
        assert_eq!(t.df, 5);
        // Q by hand: inverse-variance weighted centre, then Σ (m − centre)² / se².
        let se2: Vec<f64> = columns
            .iter()
            .map(|c| {
                let mean = c.iter().sum::<f64>() / 300.0;
                c.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 299.0 / 300.0
            })
            .collect();
        let centre = perf.iter().zip(&se2).map(|(m, v)| m / v).sum::<f64>()
            / se2.iter().map(|v| 1.0 / v).sum::<f64>();
        let q: f64 = perf
            .iter()
            .zip(&se2)
            .map(|(m, v)| (m - centre).powi(2) / v)
            .sum();
        assert!(
            (t.statistic - q).abs() < 1e-9 * q.max(1.0),
            "{} {q}",
            t.statistic
        );
        assert!(t.p_value > 0.99, "{t:?}");
    }

    #[test]
    fn separated_means_are_firm() {
        // Driver j rated around 2 + 1.2 j (ratings 1..3 plus the shift): means 3.0 to 9.0 apart.
        let columns: Vec<Vec<f64>> = (0..6)
            .map(|j| {
                ratings(300, 11 + j as u64)
                    .iter()
                    .map(|x| (x % 3.0 + 1.0 + 1.2 * j as f64).round().min(10.0))
                    .collect()
            })
            .collect();
        for kind in [Performance::Mean, Performance::TopBox] {
            let m = matrix_of(&columns, kind);
            let t = m.performance_spread.as_ref().unwrap();
            assert!(!t.within_noise && !t.intervals_overlap, "{kind}: {t:?}");
            assert!(t.p_value < 1e-12, "{t:?}");
            // Top box (9–10): only the two best drivers have any; the middle ones are firmly below.
            if kind == Performance::Mean {
                assert!(m.drivers.iter().all(|d| !d.uncertain()), "{m:?}");
            }
            for d in &m.drivers {
                let iv = d.performance_interval.unwrap();
                assert!(iv.low <= d.performance && d.performance <= iv.high);
            }
        }
    }

    #[test]
    fn given_performance_intervals_win_and_json_round_trips() {
        let columns: Vec<Vec<f64>> = (0..6).map(|j| ratings(50, 3 + j)).collect();
        let m = matrix_of(&columns, Performance::TopBox);
        let json = serde_json::to_string(&m).unwrap();
        let back: ImportancePerformance = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        // A result written before the intervals existed still reads (no spread, no intervals).
        let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
        old.as_object_mut().unwrap().remove("performance_spread");
        for d in old["drivers"].as_array_mut().unwrap() {
            d.as_object_mut().unwrap().remove("performance_interval");
        }
        let back: ImportancePerformance = serde_json::from_value(old).unwrap();
        assert!(back.performance_spread.is_none());
        assert!(back.drivers[0].performance_interval.is_none());
    }

    #[test]
    fn bootstrap_intervals_of_the_same_analysis_only() {
        use crate::drivers::bootstrap::{bootstrap, BootstrapOptions};
        let columns: Vec<Vec<f64>> = (0..3).map(|j| ratings(200, 21 + j)).collect();
        let noise = ratings(200, 5);
        let y: Vec<f64> = (0..200)
            .map(|i| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(j, c)| (j + 1) as f64 * c[i])
                    .sum::<f64>()
                    + 3.0 * noise[i]
            })
            .collect();
        let names = ["a", "b", "c"];
        let drivers: Vec<(&str, &[f64])> = names
            .iter()
            .zip(&columns)
            .map(|(n, c)| (*n, c.as_slice()))
            .collect();
        let options = DriverOptions::default()
            .with_outcome("y")
            .with_outcome_scale(crate::drivers::OutcomeScale::Unchecked);
        let analysis = driver_analysis(&y, &drivers, None, &options).unwrap();
        let boot_opts = BootstrapOptions::default()
            .with_resamples(300)
            .with_seed(1)
            .with_measures(&[ImportanceMeasure::Lmg]);
        let boot = bootstrap(&y, &drivers, None, &options, &boot_opts).unwrap();
        let rated: Vec<RatedDriver<'_>> = names
            .iter()
            .zip(&columns)
            .map(|(n, c)| RatedDriver::new(n, c, ten(), 2).unwrap())
            .collect();
        for (share, kind) in [
            (true, BootstrapInterval::Percentile),
            (false, BootstrapInterval::Bca),
        ] {
            let opts = MatrixOptions::default().with_measure(ImportanceMeasure::Lmg, share);
            let m =
                importance_performance_with_bootstrap(&analysis, &rated, None, &opts, &boot, kind)
                    .unwrap();
            let mb = boot.measure(ImportanceMeasure::Lmg).unwrap();
            let est = if share {
                mb.shares.as_ref().unwrap()
            } else {
                &mb.scores
            };
            for (d, e) in m.drivers.iter().zip(est) {
                let iv = kind.of(e).unwrap();
                assert_eq!(d.importance_interval, Some(iv));
                assert_eq!(d.uncertain_importance, iv.contains(m.importance_line));
                assert!((d.importance - e.estimate).abs() < 1e-12);
            }
            let src = m.importance_source.as_ref().unwrap();
            assert_eq!(
                (src.n_resamples, src.seed, src.interval, src.share),
                (300, 1, kind, share)
            );
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(
                serde_json::from_str::<ImportancePerformance>(&json).unwrap(),
                m
            );
        }
        // Another measure, another outcome, other rows: refused.
        let opts = MatrixOptions::default().with_measure(ImportanceMeasure::Last, true);
        let e = bootstrap_importance_intervals(
            &analysis,
            &boot,
            ImportanceMeasure::Johnson,
            true,
            BootstrapInterval::Percentile,
        );
        assert!(matches!(e, Err(Error::InvalidArgument { .. })), "{e:?}");
        let e = importance_performance_with_bootstrap(
            &analysis,
            &rated,
            None,
            &opts,
            &boot,
            BootstrapInterval::Percentile,
        );
        assert!(matches!(e, Err(Error::InvalidArgument { .. })), "{e:?}");
        let y2: Vec<f64> = y.iter().map(|v| v * 2.0).collect();
        let other = bootstrap(
            &y2,
            &drivers,
            None,
            &options.clone().with_outcome("y2"),
            &boot_opts,
        )
        .unwrap();
        let e = bootstrap_importance_intervals(
            &analysis,
            &other,
            ImportanceMeasure::Lmg,
            true,
            BootstrapInterval::Percentile,
        );
        assert!(matches!(e, Err(Error::Incompatible(_))), "{e:?}");
        let w: Vec<f64> = (0..200).map(|i| 1.0 + (i % 3) as f64).collect();
        let weighted = bootstrap(&y, &drivers, Some(&w), &options, &boot_opts).unwrap();
        let e = bootstrap_importance_intervals(
            &analysis,
            &weighted,
            ImportanceMeasure::Lmg,
            true,
            BootstrapInterval::Percentile,
        );
        let msg = e.unwrap_err().to_string();
        assert!(
            msg.contains("another analysis") && msg.contains("score"),
            "{msg}"
        );
        // Both axes at one level.
        let opts = MatrixOptions::default().with_confidence_level(0.9);
        let e = importance_performance_with_bootstrap(
            &analysis,
            &rated,
            None,
            &opts,
            &boot,
            BootstrapInterval::Percentile,
        );
        assert!(e.unwrap_err().to_string().contains("level"));
    }
}
