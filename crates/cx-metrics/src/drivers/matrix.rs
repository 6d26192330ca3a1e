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
    pub performance_intervals: Option<Vec<Interval>>,
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
    for ((name, &imp), (col, perf)) in analysis
        .importance
        .names
        .iter()
        .zip(importance)
        .zip(cols.iter().zip(performances))
    {
        let (performance, n, n_missing) = perf?;
        points.push(DriverPoint {
            name: name.clone(),
            importance: imp,
            performance,
            scale: col.scale,
            n,
            n_missing,
        });
    }
    let mut m = importance_performance_from_scores(&points, options)?;
    m.measure = options.measure;
    m.share = options.share;
    Ok(m)
}

/// (performance, rows with a positive-weight rating, rows missing) of one column; `weights` already
/// checked.
fn performance_of(
    col: &RatedDriver<'_>,
    weights: Option<&[f64]>,
    kind: Performance,
) -> Result<(f64, u64, u64)> {
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
    let (mut sw, mut sx, mut n, mut missing) = (0.0, 0.0, 0u64, 0u64);
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
        sx += w * match kind {
            Performance::Mean => x,
            Performance::TopBox => f64::from(u8::from(col.in_top_box(x))),
        };
    }
    if n == 0 {
        return Err(Error::Undefined(UndefinedReason::NoRows));
    }
    Ok((sx / sw, n, missing))
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
    })
}
