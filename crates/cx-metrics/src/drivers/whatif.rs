//! What-if simulation: the NPS expected if driver ratings improved.
//!
//! # Method
//!
//! 1. **Rows.** Respondents with a 0–10 recommendation answer (`ltr`), a rating on every driver and a
//!    positive weight; rows with a missing value are dropped (counted in `n_omitted`), rows of weight
//!    zero are counted in `n_zero_weight`.
//! 2. **Model.** `ltr` is regressed on every driver given (weighted least squares, [`ols`]), so each
//!    driver's slope `βⱼ` is its effect holding the others fixed.
//! 3. **Change in the drivers.** Each [`Shift`] gives every respondent a new rating `x'`, capped at the
//!    scale's ends (`n_capped` counts respondents whose change was cut by a cap); `Δx = x' − x`.
//! 4. **Simulated answer** (smearing: the respondent's own residual is kept):
//!    `ltr' = ltr + Σⱼ βⱼ Δxⱼ`, that is the model's prediction after the change plus the respondent's
//!    residual. With no change, `ltr' = ltr` exactly.
//! 5. **Binning** ([`Binning`]). The observed answer `y` is a whole point: it stands for any latent
//!    answer in `[y − ½, y + ½)` (that is what answering on a 0–10 scale does). With
//!    [`Binning::Latent`] (the default) the simulated latent answer is spread uniformly over
//!    `[ltr' − ½, ltr' + ½)` and the respondent counts as a promoter, passive or detractor in proportion
//!    to the part of that interval above 8.5, between 6.5 and 8.5, and below 6.5: a fractional
//!    respondent, so the NPS moves smoothly with the change. With [`Binning::Round`], `ltr'` is rounded
//!    to the nearest point (halves away from zero: 6.5 → 7) and binned whole. Rounding makes every
//!    change of less than half an `ltr` point invisible (with a slope of 0.3 per rating point, raising a
//!    driver by one point changes no answer at all), which is why it is not the default; it is offered
//!    for comparison with spreadsheet practice. Either way, 0–6 is a detractor, 7–8 a passive, 9–10 a
//!    promoter ([`NpsCategory::of`]); simulated answers that round below 0 or above 10 are clipped
//!    to the scale (they stay detractors or promoters) and counted (`n_clipped_low`, `n_clipped_high`).
//! 6. **NPS** = weighted share of promoters − weighted share of detractors, on −1..1, for the observed
//!    answers (`baseline`) and the simulated ones (`simulated`), on the same rows with the same weights.
//!    With [`Binning::Latent`], `simulated = baseline + Σ w (s' − s) / Σ w`, where `s` is a respondent's
//!    observed score (−1, 0, +1) and `s'` the fractional simulated one; with [`Binning::Round`] the NPS
//!    of the rounded answers is recomputed from a tally. A scenario that changes nothing reproduces the
//!    baseline bit for bit either way.
//!
//! # Shifts
//!
//! Ratings move toward the scale's best end (up on a higher-is-better scale, down on a lower-is-better
//! one); a negative `delta` moves them toward the worst end.
//!
//! - [`Shift::All`]`(δ)`: every respondent's rating moves by `δ` points, capped at the scale's end.
//! - [`Shift::Below`]`{ threshold, delta }`: only ratings worse than `threshold` (strictly) move.
//! - [`Shift::TopBoxTarget`]`{ share }`: if the weighted top-box share (see
//!   [`RatedDriver::top_box`]) is below `share`, the respondents outside the top box are taken from the
//!   **lowest-rated** up (ties in row order) and each is lifted to the worst point of the top box, until
//!   the weighted share reaches `share` (with weights the last one lifted may overshoot it). A share
//!   already reached changes nothing. This is the rule of "bring the unhappiest into the top box first":
//!   it makes the largest changes per respondent, so its gain is an upper figure for the target.
//!
//! # Bootstrap
//!
//! [`what_if_bootstrap`] resamples respondents with replacement (case resampling; each keeps its
//! survey weight), refits the model of every replicate from its weighted co-moments ([`Moments`],
//! [`ols_from_moments`]), re-applies the scenario (a top-box target is re-solved on the replicate) and
//! returns the percentile interval of the NPS change (linear interpolation between order statistics,
//! numpy's default). Replicate `b` draws from ChaCha8 seeded with `seed` on stream `b`, so the interval
//! depends only on the seed, not on the number of threads. Replicates whose model cannot be fitted
//! (collinear resample) are counted in `n_failed_resamples` and left out.
//!
//! ```
//! use cx_metrics::drivers::matrix::RatedDriver;
//! use cx_metrics::drivers::whatif::{what_if, Scenario, Shift};
//! use cx_metrics::{Direction, Scale};
//! let s = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
//! let ltr = [6.0, 4.0, 6.0, 8.0, 10.0, 8.0];
//! let ease = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
//! let drivers = [RatedDriver::new("ease", &ease, s, 1).unwrap()];
//! let r = what_if(&ltr, &drivers, None, &Scenario::new(&[("ease", Shift::All(0.0))])).unwrap();
//! assert_eq!(r.simulated, r.baseline);
//! let r = what_if(&ltr, &drivers, None, &Scenario::new(&[("ease", Shift::All(1.0))])).unwrap();
//! assert!((r.change - 2.0 / 3.0).abs() < 1e-12);
//! ```

use std::fmt;
use std::str::FromStr;

use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::matrix::RatedDriver;
use super::missing::{self, Columns, MissingPolicy, INDICATOR_SUFFIX};
use super::{declared_values, DriverAnalysis};
use crate::error::{Error, Result, UndefinedReason};
use crate::intervals::{check_level, Interval};
use crate::moments::Moments;
use crate::nps::NpsTally;
use crate::pillars::Pillar;
use crate::regression::{ols, ols_from_moments};
use crate::resample::{quantile_sorted, stream, Family};
use crate::scale::{Direction, NanPolicy, NpsCategory, Scale};
use crate::weights::Weights;

/// The name of the outcome in the model.
const OUTCOME: &str = "ltr";

/// How a driver's ratings change in a scenario.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shift {
    /// Every rating moves `δ` points toward the best end, capped at the scale's end.
    All(f64),
    /// Ratings strictly worse than `threshold` move `delta` points toward the best end, capped.
    Below {
        /// Ratings worse than this move.
        threshold: f64,
        /// By how many points.
        delta: f64,
    },
    /// The lowest-rated respondents are lifted into the top box until its weighted share reaches
    /// `share`, in (0, 1] (see the module docs for the rule).
    TopBoxTarget {
        /// The target top-box share.
        share: f64,
    },
}

impl Shift {
    fn check(self, driver: &str) -> Result<()> {
        let bad = |name: &'static str, what: String| Err(Error::invalid(name, what));
        match self {
            Self::All(d) | Self::Below { delta: d, .. } if !d.is_finite() => bad(
                "delta",
                format!(
                    "{d} for {driver:?}; a change in the rating must be a finite number of points"
                ),
            ),
            Self::Below { threshold: t, .. } if !t.is_finite() => bad(
                "threshold",
                format!("{t} for {driver:?}; the threshold must be a finite rating"),
            ),
            Self::TopBoxTarget { share } if !(share > 0.0 && share <= 1.0) => bad(
                "share",
                format!("{share} for {driver:?}; a target top-box share lies in (0, 1]"),
            ),
            _ => Ok(()),
        }
    }
}

/// How simulated (non-integer) answers are turned into NPS categories; see the module docs.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binning {
    /// The answer is spread uniformly over the point's rounding interval and counted fractionally.
    #[default]
    Latent,
    /// The answer is rounded to the nearest point (halves away from zero) and counted whole.
    Round,
}

impl Binning {
    /// The snake_case name, as parsed by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Latent => "latent",
            Self::Round => "round",
        }
    }

    /// The NPS score (−1..1) of a simulated answer `m` with this binning.
    ///
    /// ```
    /// use cx_metrics::drivers::whatif::Binning;
    /// assert_eq!(Binning::Latent.score(6.5), -0.5); // half below 6.5, half passive
    /// assert_eq!(Binning::Latent.score(9.0), 1.0);
    /// assert_eq!(Binning::Round.score(6.5), 0.0); // rounds to 7
    /// ```
    pub fn score(self, m: f64) -> f64 {
        match self {
            Self::Latent => {
                let detractor = (6.5 - (m - 0.5)).clamp(0.0, 1.0);
                let promoter = ((m + 0.5) - 8.5).clamp(0.0, 1.0);
                promoter - detractor
            }
            Self::Round => NpsCategory::of(m.round().clamp(0.0, 10.0) as u8).sign(),
        }
    }
}

impl fmt::Display for Binning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Binning {
    type Err = Error;
    /// Parse `"latent"` or `"round"`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "latent" => Ok(Self::Latent),
            "round" => Ok(Self::Round),
            other => Err(Error::invalid(
                "binning",
                format!("{other:?}; use \"latent\" or \"round\""),
            )),
        }
    }
}

/// A what-if scenario: which drivers change and how, and how simulated answers are binned.
///
/// ```
/// use cx_metrics::drivers::whatif::{Binning, Scenario, Shift};
/// let s = Scenario::new(&[("time_and_effort", Shift::All(1.0)), ("resolution", Shift::All(1.0))])
///     .with_binning(Binning::Round);
/// assert_eq!(s.shifts.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// The drivers that change, each with its shift; the other drivers stay as they are.
    pub shifts: Vec<(String, Shift)>,
    /// How simulated answers are binned (default [`Binning::Latent`]).
    pub binning: Binning,
}

impl Scenario {
    /// A scenario of these shifts, with the default binning.
    pub fn new<S: AsRef<str>>(shifts: &[(S, Shift)]) -> Self {
        Self {
            shifts: shifts
                .iter()
                .map(|(n, s)| (n.as_ref().to_owned(), *s))
                .collect(),
            binning: Binning::default(),
        }
    }

    /// Set the binning.
    pub fn with_binning(mut self, binning: Binning) -> Self {
        self.binning = binning;
        self
    }
}

/// What one driver's shift did.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverShift {
    /// The driver.
    pub driver: String,
    /// The shift applied.
    pub shift: Shift,
    /// Its slope in the model (points of `ltr` per rating point).
    pub coefficient: f64,
    /// The direction of its scale.
    pub direction: Direction,
    /// Respondents whose rating changed.
    pub n_changed: u64,
    /// Respondents whose change was cut by the scale's end.
    pub n_capped: u64,
    /// Weighted mean change of the rating, `Σ w Δx / Σ w`.
    pub mean_change: f64,
    /// Weighted top-box share before the change.
    pub top_box_before: f64,
    /// Weighted top-box share after the change.
    pub top_box_after: f64,
}

/// The result of a what-if simulation: plain data. NPS figures are on −1..1 (×100 for points).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    /// One entry per driver of the scenario, in the scenario's order.
    pub scenario: Vec<DriverShift>,
    /// How simulated answers were binned.
    pub binning: Binning,
    /// NPS of the observed answers on the rows used.
    pub baseline: f64,
    /// NPS of the simulated answers.
    pub simulated: f64,
    /// `simulated − baseline`.
    pub change: f64,
    /// Rows used (complete, positive weight).
    pub n: u64,
    /// Rows left out for a missing answer or rating.
    #[serde(alias = "n_dropped")]
    pub n_omitted: usize,
    /// Complete rows with weight zero, not used.
    pub n_zero_weight: u64,
    /// Respondents with at least one driver change cut by a scale's end.
    pub n_capped: u64,
    /// Simulated answers below 0 set to 0.
    pub n_clipped_low: u64,
    /// Simulated answers above 10 set to 10.
    pub n_clipped_high: u64,
    /// Bootstrap percentile interval of `change` ([`what_if_bootstrap`] only).
    pub interval: Option<Interval>,
    /// Bootstrap replicates drawn (0 without bootstrap).
    pub n_resamples: usize,
    /// Replicates whose model could not be fitted, left out of the interval.
    pub n_failed_resamples: usize,
    /// The bootstrap seed.
    pub seed: Option<u64>,
    /// The missing-value policy of the rows (that of the analysis, for [`what_if_of`]); `listwise`
    /// for [`what_if`].
    #[serde(default, skip_serializing_if = "is_listwise")]
    pub missing: MissingPolicy,
    /// Respondents kept with a driver value filled by the indicator method: they stay in the
    /// baseline and the simulation, and a shift of that driver does not move them (their rating is
    /// unknown).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub n_filled: u64,
}

fn is_listwise(m: &MissingPolicy) -> bool {
    *m == MissingPolicy::Listwise
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Expected NPS if driver ratings changed as the scenario says: see the module docs for the method.
///
/// `ltr` holds the 0–10 answers (NaN = missing), `drivers` every driver of the model with its scale
/// and top box, `weights` survey weights (finite, ≥ 0). `scenario` names one or several drivers with
/// their [`Shift`] (the other drivers stay as they are) and the [`Binning`].
///
/// # Errors
/// [`Error::UnknownColumn`] for a scenario driver not among `drivers`; [`Error::InvalidArgument`] for an
/// empty scenario, a driver named twice, a non-finite `delta` or `threshold`, a target share outside
/// (0, 1]; [`Error::BadColumn`] for an `ltr` value that is not a whole point of 0..=10, a rating off its
/// scale, columns of different lengths or duplicate names; [`Error::InvalidWeight`]; the errors of
/// [`ols`] (too few rows, collinear drivers).
pub fn what_if(
    ltr: &[f64],
    drivers: &[RatedDriver<'_>],
    weights: Option<&[f64]>,
    scenario: &Scenario,
) -> Result<WhatIf> {
    let rows = Rows::prepare(ltr, drivers, weights, MissingPolicy::Listwise, &[])?;
    let plan = plan(&rows, scenario)?;
    let beta = rows.fit()?;
    rows.simulate(&beta, &plan, scenario.binning, None)
}

/// What-if of a fitted driver analysis, on the sample the analysis used: the rows are prepared with
/// the analysis's options — its declared missing codes become missing values, its scales are
/// checked, and its missing-value policy applies (`listwise` and `raise` as in [`what_if`];
/// `indicator` keeps the filled respondents, adjusts the model for the indicators, and moves no
/// filled rating). The baseline is then the NPS of the analysed sample, and `n`, `n_omitted` are
/// the analysis's (for an unweighted analysis with no zero weight, `n` equals the analysis's `n`).
/// `drivers` are the analysis's drivers in its order, each with its scale; `bootstrap` asks for a
/// percentile interval `(n_resamples, seed, confidence_level)` as [`what_if_bootstrap`].
///
/// # Errors
/// [`Error::InvalidArgument`] when the analysis's outcome is not on the 0–10 recommendation scale
/// (the NPS of any other outcome is undefined: declare `outcome_scale` (0, 10) if the outcome is a
/// recommendation score under another name) or its policy is `pairwise` (no single sample of rows);
/// [`Error::BadColumn`] when the drivers are not the analysis's; those of [`what_if`] and
/// [`what_if_bootstrap`].
pub fn what_if_of(
    analysis: &DriverAnalysis,
    ltr: &[f64],
    drivers: &[RatedDriver<'_>],
    weights: Option<&[f64]>,
    scenario: &Scenario,
    bootstrap: Option<(usize, u64, f64)>,
) -> Result<WhatIf> {
    let o = &analysis.options;
    if !o.outcome_is_recommendation() {
        let declared = match o.outcome_range() {
            Some((min, max)) => format!("is declared on {min}..={max}"),
            None => "has no declared scale".to_owned(),
        };
        return Err(Error::invalid(
            "outcome",
            format!(
                "what_if simulates the NPS, defined only for the 0–10 recommendation score, and the \
                 outcome {:?} {declared}; analyse the recommendation score (outcome \"ltr\", or \
                 outcome_scale=(0, 10) for a recommendation score under another name)",
                o.outcome
            ),
        ));
    }
    if o.missing == MissingPolicy::Pairwise {
        return Err(Error::invalid(
            "missing",
            "the analysis used \"pairwise\" deletion, which has no single sample of rows to refit \
             the model on and simulate; analyse with missing=\"listwise\" or \"indicator\"",
        ));
    }
    let names: Vec<&str> = drivers.iter().map(|d| d.name).collect();
    if names != analysis.drivers {
        return Err(Error::BadColumn {
            column: names.join(", "),
            message: format!(
                "are not the analysis's drivers ({}); give every driver of the analysis, in its order",
                analysis.drivers.join(", ")
            ),
        });
    }
    let columns: Vec<(&str, &[f64])> = drivers.iter().map(|d| (d.name, d.values)).collect();
    let declared = declared_values(ltr, &columns, o)?;
    let ltr: &[f64] = declared.y.as_deref().unwrap_or(ltr);
    let rated: Vec<RatedDriver<'_>> = drivers
        .iter()
        .zip(&declared.drivers)
        .map(|(d, r)| RatedDriver {
            values: r.as_deref().unwrap_or(d.values),
            ..*d
        })
        .collect();
    let policy = match o.missing {
        MissingPolicy::Indicator => MissingPolicy::Indicator,
        _ => MissingPolicy::Listwise,
    };
    match bootstrap {
        None => {
            let rows = Rows::prepare(ltr, &rated, weights, policy, &o.indicator_for)?;
            let plan = plan(&rows, scenario)?;
            let beta = rows.fit()?;
            rows.simulate(&beta, &plan, scenario.binning, None)
        }
        Some((n_resamples, seed, level)) => bootstrap_rows(
            Rows::prepare(ltr, &rated, weights, policy, &o.indicator_for)?,
            scenario,
            n_resamples,
            seed,
            level,
        ),
    }
}

/// [`what_if`] with a bootstrap percentile interval of the NPS change at `confidence_level`, from
/// `n_resamples` case resamples drawn with `seed` (see the module docs).
///
/// ```
/// use cx_metrics::drivers::matrix::RatedDriver;
/// use cx_metrics::drivers::whatif::{what_if_bootstrap, Scenario, Shift};
/// use cx_metrics::{Direction, Scale};
/// let s = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
/// let ltr = [6.0, 4.0, 6.0, 8.0, 10.0, 8.0, 7.0, 9.0, 5.0, 3.0, 9.0, 10.0];
/// let ease = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 2.0, 4.0, 2.0, 1.0, 4.0, 5.0];
/// let drivers = [RatedDriver::new("ease", &ease, s, 1).unwrap()];
/// let scenario = Scenario::new(&[("ease", Shift::All(1.0))]);
/// let r = what_if_bootstrap(&ltr, &drivers, None, &scenario, 200, 7, 0.95).unwrap();
/// let ci = r.interval.unwrap();
/// assert!(ci.low <= ci.high);
/// ```
///
/// # Errors
/// Those of [`what_if`]; [`Error::InvalidArgument`] for a confidence level outside (0, 1), fewer than
/// 2 resamples, or fewer than 2 replicates that could be fitted.
pub fn what_if_bootstrap(
    ltr: &[f64],
    drivers: &[RatedDriver<'_>],
    weights: Option<&[f64]>,
    scenario: &Scenario,
    n_resamples: usize,
    seed: u64,
    confidence_level: f64,
) -> Result<WhatIf> {
    bootstrap_rows(
        Rows::prepare(ltr, drivers, weights, MissingPolicy::Listwise, &[])?,
        scenario,
        n_resamples,
        seed,
        confidence_level,
    )
}

/// The what-if of prepared rows with its bootstrap interval.
fn bootstrap_rows(
    rows: Rows<'_>,
    scenario: &Scenario,
    n_resamples: usize,
    seed: u64,
    confidence_level: f64,
) -> Result<WhatIf> {
    check_level(confidence_level)?;
    crate::resample::check_resamples(
        "n_resamples",
        n_resamples,
        2,
        "at least 2 are needed (1000 or more for a 95 % interval)",
    )?;
    let plan = plan(&rows, scenario)?;
    let beta = rows.fit()?;
    let mut result = rows.simulate(&beta, &plan, scenario.binning, None)?;
    let replicates: Vec<Option<f64>> = (0..n_resamples)
        .into_par_iter()
        .map(|b| rows.replicate(&plan, scenario.binning, seed, b as u64))
        .collect();
    let mut changes: Vec<f64> = replicates.into_iter().flatten().collect();
    let n_failed = n_resamples - changes.len();
    if changes.len() < 2 {
        return Err(Error::invalid(
            "n_resamples",
            format!(
                "only {} of {n_resamples} bootstrap replicates could be fitted; \
                 the data are too few or too collinear for a bootstrap",
                changes.len()
            ),
        ));
    }
    changes.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence_level) / 2.0;
    result.interval = Some(Interval::new(
        quantile_sorted(&changes, alpha),
        quantile_sorted(&changes, 1.0 - alpha),
        confidence_level,
    ));
    result.n_resamples = n_resamples;
    result.n_failed_resamples = n_failed;
    result.seed = Some(seed);
    Ok(result)
}

/// NPS on −1..1 of validated 0–10 points: the score of their [`NpsTally`].
fn nps<T: crate::scale::RawValue>(points: &[T], weights: Option<&[f64]>) -> Result<f64> {
    let mut t = NpsTally::new();
    t.fold(points, weights, NanPolicy::Raise)?;
    let r = t.result();
    r.check_defined()?;
    Ok(r.score)
}

/// The complete, positive-weight rows of the model.
struct Rows<'a> {
    specs: Vec<RatedDriver<'a>>,
    /// One column per driver.
    x: Vec<Vec<f64>>,
    /// Terms of the model that no scenario moves: the missing-value indicators, `(name, column)`.
    extra: Vec<(String, Vec<f64>)>,
    /// Per driver, the rows whose value was filled by the indicator method (never moved).
    fixed: Vec<Option<Vec<bool>>>,
    y: Vec<f64>,
    w: Option<Vec<f64>>,
    n_dropped: usize,
    n_zero_weight: u64,
    missing: MissingPolicy,
}

/// A scenario entry: the driver's index and its shift.
type Plan = Vec<(usize, Shift)>;

fn plan(rows: &Rows<'_>, scenario: &Scenario) -> Result<Plan> {
    let scenario = &scenario.shifts;
    if scenario.is_empty() {
        return Err(Error::invalid(
            "scenario",
            "name at least one driver and its shift",
        ));
    }
    let mut plan = Vec::with_capacity(scenario.len());
    for (i, (name, shift)) in scenario.iter().enumerate() {
        let j = rows
            .specs
            .iter()
            .position(|d| d.name == name)
            .ok_or_else(|| Error::UnknownColumn {
                column: name.clone(),
                available: rows
                    .specs
                    .iter()
                    .map(|d| d.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if scenario[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::invalid(
                "scenario",
                format!("{name:?} is named twice; give each driver one shift"),
            ));
        }
        shift.check(name)?;
        plan.push((j, *shift));
    }
    Ok(plan)
}

/// Per-row changes of one driver and what they did.
struct Moved {
    dx: Vec<f64>,
    capped: Vec<bool>,
    summary: DriverShift,
}

impl<'a> Rows<'a> {
    /// The rows of the model under `policy` (`listwise`, or `indicator` with the drivers
    /// `indicator_for` to fill, empty = every driver with a missing value).
    fn prepare(
        ltr: &[f64],
        drivers: &[RatedDriver<'a>],
        weights: Option<&[f64]>,
        policy: MissingPolicy,
        indicator_for: &[String],
    ) -> Result<Self> {
        let n = ltr.len();
        if drivers.is_empty() {
            return Err(Error::invalid("drivers", "at least one driver is needed"));
        }
        for (i, d) in drivers.iter().enumerate() {
            if d.name == OUTCOME || drivers[..i].iter().any(|e| e.name == d.name) {
                return Err(Error::BadColumn {
                    column: d.name.to_owned(),
                    message: format!(
                        "is given twice (or is named {OUTCOME:?}, the outcome); names must be unique"
                    ),
                });
            }
            if d.values.len() != n {
                return Err(Error::BadColumn {
                    column: d.name.to_owned(),
                    message: format!(
                        "has {} values but ltr has {n}; columns must have the same length",
                        d.values.len()
                    ),
                });
            }
            d.check()?;
        }
        let checked = weights
            .map(|w| {
                Weights::for_rows(w, n, |len| Error::LengthMismatch {
                    what: "ltr and weights",
                    left: n,
                    right: len,
                })
            })
            .transpose()?;
        for (i, &v) in ltr.iter().enumerate() {
            if !v.is_nan() {
                Scale::NPS.point(v, i).map_err(|e| Error::BadColumn {
                    column: OUTCOME.to_owned(),
                    message: e.to_string(),
                })?;
            }
        }
        if policy == MissingPolicy::Indicator {
            return Self::prepare_indicator(ltr, drivers, weights, indicator_for);
        }
        let complete: Vec<usize> = (0..n)
            .filter(|&i| !ltr[i].is_nan() && drivers.iter().all(|d| !d.values[i].is_nan()))
            .collect();
        let keep: Vec<usize> = complete
            .iter()
            .copied()
            .filter(|&i| weights.is_none_or(|w| w[i] > 0.0))
            .collect();
        let pick = |c: &[f64]| keep.iter().map(|&i| c[i]).collect::<Vec<f64>>();
        Ok(Self {
            specs: drivers.to_vec(),
            x: drivers.iter().map(|d| pick(d.values)).collect(),
            y: pick(ltr),
            // Every figure is a ratio of weighted sums: extreme weights are rescaled by a power of
            // two (see `weights`) so that their squares are representable.
            w: checked.map(|c| {
                let (w, scale) = (c.values(), c.scale());
                keep.iter().map(|&i| w[i] * scale).collect()
            }),
            n_dropped: n - complete.len(),
            n_zero_weight: (complete.len() - keep.len()) as u64,
            extra: Vec::new(),
            fixed: vec![None; drivers.len()],
            missing: MissingPolicy::Listwise,
        })
    }

    /// The rows of the indicator method, prepared exactly as the analysis prepares them (checked
    /// inputs: ltr on 0–10, ratings on their scales, weights).
    fn prepare_indicator(
        ltr: &[f64],
        drivers: &[RatedDriver<'a>],
        weights: Option<&[f64]>,
        indicator_for: &[String],
    ) -> Result<Self> {
        let columns: Vec<(&str, &[f64])> = drivers.iter().map(|d| (d.name, d.values)).collect();
        let finite = !ltr.iter().any(|v| v.is_nan())
            && columns.iter().all(|(_, c)| !c.iter().any(|v| v.is_nan()));
        let cols = Columns {
            outcome: OUTCOME,
            y: ltr,
            drivers: &columns,
            weights,
            finite,
        };
        let rows = missing::prepare(&cols, MissingPolicy::Indicator, indicator_for)?;
        let m = rows.y.len();
        let keep: Vec<usize> = (0..m)
            .filter(|&i| rows.weights.as_ref().is_none_or(|w| w[i] > 0.0))
            .collect();
        let pick = |c: &[f64]| keep.iter().map(|&i| c[i]).collect::<Vec<f64>>();
        let k = drivers.len();
        let extra: Vec<(String, Vec<f64>)> = rows.names[k..]
            .iter()
            .zip(&rows.columns[k..])
            .map(|(n, c)| (n.clone(), pick(c)))
            .collect();
        let fixed = drivers
            .iter()
            .map(|d| {
                let indicator = format!("{}{INDICATOR_SUFFIX}", d.name);
                extra
                    .iter()
                    .find(|(n, _)| *n == indicator)
                    .map(|(_, c)| c.iter().map(|&v| v == 1.0).collect())
            })
            .collect();
        let w = rows.weights.as_ref().map(|w| {
            let checked = Weights::new(w)?;
            let scale = checked.scale();
            Ok::<Vec<f64>, Error>(keep.iter().map(|&i| w[i] * scale).collect())
        });
        Ok(Self {
            specs: drivers.to_vec(),
            x: rows.columns[..k].iter().map(|c| pick(c)).collect(),
            extra,
            fixed,
            y: pick(&rows.y),
            w: w.transpose()?,
            n_dropped: rows.n_dropped,
            n_zero_weight: (m - keep.len()) as u64,
            missing: MissingPolicy::Indicator,
        })
    }

    /// Rows kept with a filled value of some driver.
    fn n_filled(&self) -> u64 {
        (0..self.y.len())
            .filter(|&i| self.fixed.iter().flatten().any(|f| f[i]))
            .count() as u64
    }

    /// The slopes of `ltr` on the drivers, from the rows.
    fn fit(&self) -> Result<Vec<f64>> {
        let cols: Vec<(&str, &[f64])> = self
            .specs
            .iter()
            .zip(&self.x)
            .map(|(d, c)| (d.name, c.as_slice()))
            .chain(self.extra.iter().map(|(n, c)| (n.as_str(), c.as_slice())))
            .collect();
        let fit = ols(OUTCOME, &self.y, &cols, self.w.as_deref(), 0.95)?;
        Ok(fit
            .coefficients
            .iter()
            .skip(1)
            .take(self.specs.len())
            .map(|c| c.estimate)
            .collect())
    }

    /// One bootstrap replicate's NPS change (`None` if its model cannot be fitted).
    fn replicate(&self, plan: &Plan, binning: Binning, seed: u64, index: u64) -> Option<f64> {
        let mut rng = stream(seed, Family::Expanded, index);
        let n = self.y.len();
        let mut count = vec![0u32; n];
        for _ in 0..n {
            count[rng.random_range(0..n)] += 1;
        }
        let weight: Vec<f64> = count
            .iter()
            .enumerate()
            .map(|(i, &c)| f64::from(c) * self.w.as_ref().map_or(1.0, |w| w[i]))
            .collect();
        let names = self
            .specs
            .iter()
            .map(|d| d.name)
            .chain(self.extra.iter().map(|(n, _)| n.as_str()))
            .chain([OUTCOME]);
        let mut m = Moments::new(names).ok()?;
        let terms: Vec<&[f64]> = self
            .x
            .iter()
            .map(Vec::as_slice)
            .chain(self.extra.iter().map(|(_, c)| c.as_slice()))
            .collect();
        let mut row = vec![0.0; terms.len() + 1];
        for i in (0..n).filter(|&i| weight[i] > 0.0) {
            for (r, c) in row.iter_mut().zip(&terms) {
                *r = c[i];
            }
            row[terms.len()] = self.y[i];
            m.add_row(&row, weight[i]).ok()?;
        }
        let fit = ols_from_moments(&m, OUTCOME, 0.95).ok()?;
        let beta: Vec<f64> = fit
            .coefficients
            .iter()
            .skip(1)
            .take(self.specs.len())
            .map(|c| c.estimate)
            .collect();
        self.simulate(&beta, plan, binning, Some(&weight))
            .ok()
            .map(|r| r.change)
    }

    /// The changes of one driver under `shift`, with weights `w` (rows of weight 0 do not move).
    fn shift(&self, j: usize, shift: Shift, beta: f64, w: &[f64]) -> Moved {
        // Rows whose value of this driver was filled have no rating to move: weight 0 here, so they
        // neither move nor count in its top-box shares.
        let masked: Vec<f64>;
        let w: &[f64] = match &self.fixed[j] {
            Some(f) => {
                masked = w
                    .iter()
                    .zip(f)
                    .map(|(&wi, &filled)| if filled { 0.0 } else { wi })
                    .collect();
                &masked
            }
            None => w,
        };
        let d = &self.specs[j];
        let x = &self.x[j];
        let n = x.len();
        let mut dx = vec![0.0; n];
        let mut capped = vec![false; n];
        let sw: f64 = w.iter().sum();
        let top_weight = |dx: Option<&[f64]>| {
            (0..n)
                .filter(|&i| d.in_top_box(x[i] + dx.map_or(0.0, |v| v[i])))
                .map(|i| w[i])
                .sum::<f64>()
        };
        let top_w_before = top_weight(None);
        let top_before = top_w_before / sw;
        let mut move_by = |i: usize, delta: f64| {
            let target = d.toward_best(x[i], delta);
            let new = d.clamp(target);
            capped[i] = new != target;
            dx[i] = new - x[i];
        };
        match shift {
            Shift::All(delta) => (0..n)
                .filter(|&i| w[i] > 0.0)
                .for_each(|i| move_by(i, delta)),
            Shift::Below { threshold, delta } => (0..n)
                .filter(|&i| w[i] > 0.0 && d.is_worse(x[i], threshold))
                .for_each(|i| move_by(i, delta)),
            Shift::TopBoxTarget { share } => {
                let mut in_top = top_w_before;
                let goal = share * sw;
                let mut order: Vec<usize> = (0..n)
                    .filter(|&i| w[i] > 0.0 && !d.in_top_box(x[i]))
                    .collect();
                // Worst first; the sort is stable, so ties keep row order.
                order.sort_by(|&a, &b| match d.scale.direction() {
                    Direction::HigherIsBetter => x[a].total_cmp(&x[b]),
                    Direction::LowerIsBetter => x[b].total_cmp(&x[a]),
                });
                let top = d.top_box_point();
                for i in order {
                    if in_top >= goal {
                        break;
                    }
                    dx[i] = top - x[i];
                    in_top += w[i];
                }
            }
        }
        let after = top_weight(Some(&dx)) / sw;
        let moved = |i: &usize| w[*i] > 0.0;
        let summary = DriverShift {
            driver: d.name.to_owned(),
            shift,
            coefficient: beta,
            direction: d.scale.direction(),
            n_changed: (0..n).filter(moved).filter(|&i| dx[i] != 0.0).count() as u64,
            n_capped: (0..n).filter(moved).filter(|&i| capped[i]).count() as u64,
            mean_change: dx.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw,
            top_box_before: top_before,
            top_box_after: after,
        };
        Moved {
            dx,
            capped,
            summary,
        }
    }

    /// Apply the scenario with slopes `beta`; `weight` replaces the survey weights (bootstrap).
    fn simulate(
        &self,
        beta: &[f64],
        plan: &Plan,
        binning: Binning,
        weight: Option<&[f64]>,
    ) -> Result<WhatIf> {
        let n = self.y.len();
        let weights: Option<&[f64]> = weight.or(self.w.as_deref());
        let ones;
        let w: &[f64] = match weights {
            Some(w) => w,
            None => {
                ones = vec![1.0; n];
                &ones
            }
        };
        if n == 0 || w.iter().sum::<f64>() <= 0.0 {
            return Err(Error::Undefined(UndefinedReason::NoRows));
        }
        let mut dy = vec![0.0; n];
        let mut capped = vec![false; n];
        let mut scenario = Vec::with_capacity(plan.len());
        for &(j, shift) in plan {
            let moved = self.shift(j, shift, beta[j], w);
            for i in 0..n {
                dy[i] += beta[j] * moved.dx[i];
                capped[i] |= moved.capped[i];
            }
            scenario.push(moved.summary);
        }
        let (mut low, mut high) = (0u64, 0u64);
        for ((&y, &d), &wi) in self.y.iter().zip(&dy).zip(w) {
            let r = (y + d).round();
            if wi > 0.0 && r < 0.0 {
                low += 1;
            } else if wi > 0.0 && r > 10.0 {
                high += 1;
            }
        }
        let baseline = nps(&self.y, weights)?;
        let simulated = match binning {
            Binning::Round => {
                let points: Vec<u8> = self
                    .y
                    .iter()
                    .zip(&dy)
                    .map(|(&y, &d)| (y + d).round().clamp(0.0, 10.0) as u8)
                    .collect();
                nps(&points, weights)?
            }
            Binning::Latent => {
                let sw: f64 = w.iter().sum();
                let net: f64 = self
                    .y
                    .iter()
                    .zip(&dy)
                    .zip(w)
                    .filter(|((_, &d), &wi)| d != 0.0 && wi > 0.0)
                    .map(|((&y, &d), &wi)| wi * (binning.score(y + d) - binning.score(y)))
                    .sum();
                baseline + net / sw
            }
        };
        Ok(WhatIf {
            scenario,
            binning,
            baseline,
            simulated,
            change: simulated - baseline,
            n: n as u64,
            n_omitted: self.n_dropped,
            n_zero_weight: self.n_zero_weight,
            n_capped: (0..n).filter(|&i| capped[i] && w[i] > 0.0).count() as u64,
            n_clipped_low: low,
            n_clipped_high: high,
            interval: None,
            n_resamples: 0,
            n_failed_resamples: 0,
            seed: None,
            missing: self.missing,
            n_filled: self.n_filled(),
        })
    }
}

/// A driver's name for people: the pillar's display name for a pillar id, else the name as given.
fn display_name(name: &str) -> String {
    name.parse::<Pillar>()
        .map_or_else(|_| name.to_owned(), |p| p.name().to_owned())
}

/// A number for text: rounded to 9 decimals, without trailing zeros.
fn num(x: f64) -> String {
    let r = (x * 1e9).round() / 1e9;
    if r.fract() == 0.0 && r.abs() < 1e15 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}

/// The phrase of one shift applied to `names`.
fn phrase(names: &str, shift: Shift, direction: Direction) -> String {
    let verb = |delta: f64| match (direction, delta >= 0.0) {
        (Direction::HigherIsBetter, true) => "raise",
        (Direction::HigherIsBetter, false) => "lower",
        (Direction::LowerIsBetter, true) => "improve",
        (Direction::LowerIsBetter, false) => "worsen",
    };
    let points = |delta: f64| {
        let unit = if delta.abs() == 1.0 {
            "point"
        } else {
            "points"
        };
        format!("{} {unit}", num(delta.abs()))
    };
    match shift {
        Shift::All(d) => format!("{} {names} by {}", verb(d), points(d)),
        Shift::Below { threshold, delta } => format!(
            "{} {names} by {} where worse than {}",
            verb(delta),
            points(delta),
            num(threshold)
        ),
        Shift::TopBoxTarget { share } => {
            format!(
                "lift {names} to a top-box share of {} %",
                num(share * 100.0)
            )
        }
    }
}

impl fmt::Display for WhatIf {
    /// One line, e.g. `raise Time and Effort by 1 point → NPS +6.1 (95 % CI 4.0 to 8.3)`; consecutive
    /// drivers with the same shift share a phrase.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut phrases: Vec<String> = Vec::new();
        let mut i = 0;
        while i < self.scenario.len() {
            let s = &self.scenario[i];
            let mut names = vec![display_name(&s.driver)];
            let mut k = i + 1;
            while let Some(t) = self.scenario.get(k) {
                if t.shift != s.shift || t.direction != s.direction {
                    break;
                }
                names.push(display_name(&t.driver));
                k += 1;
            }
            phrases.push(phrase(&names.join(" and "), s.shift, s.direction));
            i = k;
        }
        write!(
            f,
            "{} → NPS {:+.1}",
            phrases.join(", "),
            // A change that rounds to zero prints +0.0, never -0.0.
            (self.change * 1000.0).round() / 10.0 + 0.0
        )?;
        if let Some(ci) = &self.interval {
            write!(
                f,
                " ({} % CI {:.1} to {:.1})",
                num(ci.confidence_level * 100.0),
                ci.low * 100.0,
                ci.high * 100.0
            )?;
        }
        Ok(())
    }
}
