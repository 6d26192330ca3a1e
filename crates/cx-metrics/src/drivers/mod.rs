//! Driver analysis: which drivers move the outcome, and by how much.
//!
//! One call regresses the outcome (by default the 0–10 recommendation score, `ltr`) on named drivers
//! and decomposes the explained variance among them: the regression table with inference
//! ([`regression`](crate::regression)), every relative-importance measure and dominance analysis
//! ([`importance`](crate::importance)), variance inflation factors, R², adjusted R², `n`, Kish's
//! effective `n`, the rows dropped for missing values, and structured warnings ([`DriverWarning`]).
//!
//! Three entry points give the same answer:
//!
//! - [`driver_analysis`]: columns in memory, with survey weights and a [`MissingPolicy`];
//! - [`driver_analysis_from_covariance`]: a weighted [`Covariance`] summary (or a correlation matrix
//!   with standard deviations, via [`Covariance::from_correlation`]) with its `n`;
//! - [`driver_analysis_from_moments`]: the mergeable [`Moments`] accumulator, for data folded in
//!   partitions.
//!
//! [`pillar_driver_analysis`] runs the analysis with the six pillars of experience as drivers.
//!
//! The importance measures are computed from the (weighted) correlation matrix of the model's terms and
//! the outcome; `always` covariates (and the missing-value indicators of [`MissingPolicy::Indicator`])
//! are adjusted for in every model and not ranked.
//!
//! ```
//! use cx_metrics::drivers::{driver_analysis, DriverOptions};
//! let ltr = [9.0, 7.0, 10.0, 4.0, 8.0, 6.0, 9.0, 3.0, 7.0, 10.0];
//! let ease = [6.0, 5.0, 7.0, 2.0, 5.0, 4.0, 7.0, 1.0, 4.0, 6.0];
//! let speed = [5.0, 6.0, 6.0, 3.0, 4.0, 5.0, 5.0, 2.0, 6.0, 7.0];
//! let res = driver_analysis(&ltr, &[("ease", &ease), ("speed", &speed)], None, &DriverOptions::default())
//!     .unwrap();
//! assert_eq!(res.n, 10);
//! let lmg = res.scores(cx_metrics::ImportanceMeasure::Lmg).unwrap();
//! assert!((lmg.raw.iter().sum::<f64>() - res.r_squared).abs() < 1e-12);
//! ```

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::design::Design;
use crate::error::{Error, Result};
use crate::importance::{
    relative_importance, Dominance, DriverGroup, ImportanceMeasure, ImportanceOptions,
    MeasureScores, RelativeImportance, MAX_EXACT_UNITS,
};
use crate::moments::{overflow, Covariance, Moments};
use crate::pillars::{Pillar, PillarScores};
use crate::regression::{ols_and_moments_with, CovarianceType, SUMMARY_COVARIANCE_NOTE};
use crate::regression::{ols_from_covariance, Coefficient, OlsFit};
use crate::weights::Weights;

pub mod bootstrap;
mod data;
pub mod diagnostics;
pub mod matrix;
pub mod missing;
pub mod relative_weight_se;
pub mod segments;
pub mod whatif;

pub use bootstrap::{
    bootstrap, BootstrapEstimate, BootstrapOptions, DriverBootstrap, ImportanceDifference,
    MeasureBootstrap, RankInterval, RankProbabilities,
};
pub use data::{
    declared_values, non_numeric_column, ColumnScale, Declared, DeclaredMissing, MissingCodes,
    OutcomeScale,
};
pub use diagnostics::DriverWarning;
pub use matrix::{
    importance_performance, importance_performance_from_scores, AnalysedSample, CutLine,
    DriverPoint, ImportancePerformance, MatrixDriver, MatrixOptions, Performance, Quadrant,
    RatedDriver,
};
pub use missing::{FilledDriver, MissingPolicy, INDICATOR_SUFFIX};
pub use relative_weight_se::{
    relative_weight_gradient, relative_weight_standard_errors, RelativeWeightErrors,
};
pub use segments::segment_driver_analysis_with_overall;
pub use segments::{
    segment_driver_analysis, segment_importance_test, SegmentAnalyses, SegmentAnalysis,
    SegmentDifference, SegmentImportanceTest, SegmentMeasureTest, SegmentStatus, Segments,
};
pub use whatif::{what_if, what_if_bootstrap, what_if_of, DriverShift, Shift, WhatIf};

use missing::Columns;

/// The default outcome: the 0–10 likelihood-to-recommend score.
pub const DEFAULT_OUTCOME: &str = "ltr";

/// Options of a driver analysis. Start from `default()` and set what you need.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverOptions {
    /// The outcome's name (default [`DEFAULT_OUTCOME`], `"ltr"`); in the summary entry points, the
    /// variable used as the outcome.
    pub outcome: String,
    /// What to do with missing (NaN) values (rows entry point only).
    pub missing: MissingPolicy,
    /// With [`MissingPolicy::Indicator`]: the drivers to fill; empty = every driver with a missing value.
    /// Missing values in other drivers drop the row.
    pub indicator_for: Vec<String>,
    /// Drivers adjusted for in every model and not ranked.
    pub always: Vec<String>,
    /// Groups of drivers ranked as one unit.
    pub groups: Vec<DriverGroup>,
    /// Confidence level of the coefficient intervals (default 0.95).
    pub confidence_level: f64,
    /// The outcome's scale (default [`OutcomeScale::Auto`]: 0–10 for `ltr`, unchecked otherwise); a
    /// value off it is an [`Error::OutOfScale`].
    #[serde(default)]
    pub outcome_scale: OutcomeScale,
    /// The drivers' declared scales (default none: a driver without one is not checked); a value off
    /// its scale is an [`Error::OutOfScale`].
    #[serde(default)]
    pub scales: Vec<ColumnScale>,
    /// Whether a driver without a declared scale is checked for "don't know" codes (default
    /// `true`): an integer column that is a 0–10 rating apart from at most three values far off it
    /// (negative, or at least twice its highest value on the scale, such as 99) is refused with an
    /// [`Error::OutOfScale`] naming the first such value, so that a code is not fitted as a rating.
    /// Declare the code missing (`missing_codes`), the driver's scale (`scales`), or set `false`.
    #[serde(default = "yes")]
    pub check_codes: bool,
    /// Codes that mean "no answer" per column (the outcome or a driver): they become missing values,
    /// handled by `missing` and counted in [`DriverAnalysis::declared_missing`].
    #[serde(default)]
    pub missing_codes: Vec<MissingCodes>,
    /// The standard errors of the regression table (see [`CovarianceType`]); `None` (the default):
    /// HC1 (design-based) with weights, model-based without. Summary entry points (a covariance or
    /// moments summary) can only give model-based ones.
    #[serde(default)]
    pub covariance: Option<CovarianceType>,
}

fn yes() -> bool {
    true
}

impl Default for DriverOptions {
    fn default() -> Self {
        Self {
            outcome: DEFAULT_OUTCOME.to_owned(),
            missing: MissingPolicy::default(),
            indicator_for: Vec::new(),
            always: Vec::new(),
            groups: Vec::new(),
            confidence_level: 0.95,
            outcome_scale: OutcomeScale::Auto,
            scales: Vec::new(),
            check_codes: true,
            missing_codes: Vec::new(),
            covariance: None,
        }
    }
}

impl DriverOptions {
    /// Set the outcome's name.
    pub fn with_outcome(mut self, outcome: impl Into<String>) -> Self {
        self.outcome = outcome.into();
        self
    }

    /// Set the missing-data policy.
    pub fn with_missing(mut self, missing: MissingPolicy) -> Self {
        self.missing = missing;
        self
    }

    /// Use [`MissingPolicy::Indicator`] for these drivers (missing values elsewhere drop the row).
    pub fn with_indicator_for<S: AsRef<str>>(mut self, drivers: &[S]) -> Self {
        self.missing = MissingPolicy::Indicator;
        self.indicator_for = drivers.iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Set the drivers adjusted for and not ranked.
    pub fn with_always<S: AsRef<str>>(mut self, drivers: &[S]) -> Self {
        self.always = drivers.iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Add a group of drivers ranked as one unit.
    pub fn with_group(mut self, group: DriverGroup) -> Self {
        self.groups.push(group);
        self
    }

    /// Set the confidence level of the coefficient intervals.
    pub fn with_confidence_level(mut self, confidence_level: f64) -> Self {
        self.confidence_level = confidence_level;
        self
    }

    /// Set the outcome's scale.
    pub fn with_outcome_scale(mut self, scale: OutcomeScale) -> Self {
        self.outcome_scale = scale;
        self
    }

    /// Declare the scale `min..=max` of each of these drivers.
    pub fn with_scales<S: AsRef<str>>(mut self, drivers: &[S], min: f64, max: f64) -> Self {
        self.scales.extend(
            drivers
                .iter()
                .map(|d| ColumnScale::new(d.as_ref(), min, max)),
        );
        self
    }

    /// Check (`true`, the default) or not the drivers without a declared scale for "don't know"
    /// codes (see [`DriverOptions::check_codes`]).
    pub fn with_code_check(mut self, check: bool) -> Self {
        self.check_codes = check;
        self
    }

    /// Declare `codes` missing in each of these columns (the outcome or drivers).
    pub fn with_missing_codes<S: AsRef<str>>(mut self, columns: &[S], codes: &[f64]) -> Self {
        self.missing_codes
            .extend(columns.iter().map(|c| MissingCodes::new(c.as_ref(), codes)));
        self
    }

    /// The range the outcome's values are checked against: the declared one, 0–10 for the
    /// recommendation score `ltr` under [`OutcomeScale::Auto`], else none.
    pub fn outcome_range(&self) -> Option<(f64, f64)> {
        match self.outcome_scale {
            OutcomeScale::Range { min, max } => Some((min, max)),
            OutcomeScale::Auto if self.outcome == DEFAULT_OUTCOME => Some((0.0, 10.0)),
            _ => None,
        }
    }

    /// Whether the outcome is on the 0–10 recommendation scale, so that an NPS of it is defined.
    pub fn outcome_is_recommendation(&self) -> bool {
        self.outcome_range() == Some((0.0, 10.0))
    }

    /// Set the standard errors of the regression table.
    pub fn with_covariance(mut self, covariance: CovarianceType) -> Self {
        self.covariance = Some(covariance);
        self
    }

    /// The standard errors used for rows with (`weighted`) or without weights.
    pub fn covariance_for(&self, weighted: bool) -> CovarianceType {
        self.covariance
            .unwrap_or_else(|| CovarianceType::default_for(weighted))
    }
}

/// The result of a driver analysis: plain data.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverAnalysis {
    /// The outcome.
    pub outcome: String,
    /// The named drivers, in input order (ranked, grouped and `always` alike).
    pub drivers: Vec<String>,
    /// The model's terms in regression order: the drivers, then the missing-value indicators.
    pub terms: Vec<String>,
    /// Terms adjusted for in every model and not ranked: the `always` drivers, then the indicators.
    pub always: Vec<String>,
    /// The drivers filled by [`MissingPolicy::Indicator`].
    pub filled: Vec<FilledDriver>,
    /// The missing-data policy applied.
    pub missing: MissingPolicy,
    /// The regression table and fit statistics (intercept first, then `terms`).
    pub regression: OlsFit,
    /// The relative-importance measures of the ranked units (`dominance` is moved to the field below).
    pub importance: RelativeImportance,
    /// Dominance analysis of the ranked units (`None` above
    /// [`MAX_EXACT_UNITS`] units).
    pub dominance: Option<Dominance>,
    /// Zero-order (weighted) correlation of each term with the outcome, in `terms` order.
    #[serde(with = "crate::serde_nan::vec")]
    pub correlations: Vec<f64>,
    /// Variance inflation factor of each term, in `terms` order.
    #[serde(with = "crate::serde_nan::vec")]
    pub vif: Vec<f64>,
    /// R² of the full model.
    #[serde(with = "crate::serde_nan")]
    pub r_squared: f64,
    /// Adjusted R².
    #[serde(with = "crate::serde_nan")]
    pub adj_r_squared: f64,
    /// Rows used with positive weight (pairwise: the rows of the smallest pair).
    pub n: u64,
    /// Kish's effective sample size (Σw)²/Σw².
    #[serde(with = "crate::serde_nan")]
    pub effective_n: f64,
    /// Rows dropped for a missing value (pairwise: rows with any missing value, used only in the pairs
    /// where both values are present; summary entry points: 0). The same count as `n_omitted` of
    /// the scores and the logistic models: rows left out for a missing value.
    #[serde(alias = "n_dropped")]
    pub n_omitted: usize,
    /// Rows with weight zero, counted and excluded from `n`.
    pub n_zero_weight: u64,
    /// Confidence level of the coefficient intervals.
    pub confidence_level: f64,
    /// Things to know about the result.
    pub warnings: Vec<DriverWarning>,
    /// Values recoded to missing per column with declared missing codes (then handled by `missing`:
    /// under `listwise` their rows are among `n_omitted`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declared_missing: Vec<DeclaredMissing>,
    /// The options the analysis ran with, so that what is derived from it (a bootstrap of the same
    /// model) needs only the rows again. Results serialised before this field read back with the
    /// default options.
    #[serde(default)]
    pub options: DriverOptions,
}

impl DriverAnalysis {
    /// The regression coefficient of `term` (a driver, an indicator or `"(Intercept)"`).
    pub fn coefficient(&self, term: &str) -> Option<&Coefficient> {
        self.regression.coefficient(term)
    }

    /// The scores of an importance measure, if computed (per-driver measures are not with groups).
    pub fn scores(&self, measure: ImportanceMeasure) -> Option<&MeasureScores> {
        self.importance.scores(measure)
    }

    /// The ranked unit (driver or group) with the largest LMG share of R².
    pub fn top_driver(&self) -> Option<&str> {
        let lmg = self.scores(ImportanceMeasure::Lmg)?;
        let best = lmg
            .raw
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?
            .0;
        self.importance.names.get(best).map(String::as_str)
    }
}

/// Driver analysis from columns in memory (entry point 1).
///
/// `outcome` holds the outcome (named `options.outcome`), `drivers` the named driver columns, all of
/// the same length; NaN marks a missing value, handled by `options.missing`. `weights` are survey
/// weights (finite, ≥ 0). The regression is fitted from the rows (QR with iterative refinement, see
/// [`ols`]); the importance measures from the weighted correlation matrix of the same rows. The same
/// as [`driver_analysis_design`] of [`Design::from_f64`].
///
/// [`ols`]: crate::regression::ols
///
/// # Errors
/// Each names the column it is about: [`Error::BadColumn`] for a duplicate name, a length mismatch,
/// an infinite value, a zero-variance column, a missing value under `raise`, or an indicator name that
/// is taken; [`Error::InvalidWeight`]; [`Error::UnknownColumn`] for a name in `always`, `groups` or
/// `indicator_for` that is not a driver; [`Error::TooFewRows`] when fewer than `p + 2` complete rows
/// remain; [`Error::Collinear`] for perfectly collinear drivers; [`Error::InvalidArgument`] when the
/// pairwise correlation matrix is not positive definite, or for invalid options.
pub fn driver_analysis(
    outcome: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &DriverOptions,
) -> Result<DriverAnalysis> {
    let design = Design::from_f64(&options.outcome, outcome, drivers, weights)?;
    driver_analysis_design(&design, options)
}

/// Driver analysis of a prepared [`Design`]: columns of any numeric width (`i16` ratings, `bool`
/// flags, `f32` scores …) with optional masks of missing values, validated once.
///
/// Under `listwise` and `raise` the fit reads the columns in blocks, converting each block to `f64`
/// as it goes: no `f64` copy of the data is made, and rows with a missing value are skipped as they
/// are read (see [`crate::design`]). The `pairwise` and `indicator` policies work on an `f64` copy of
/// the columns, made when they run. The results are those of the same data as `f64` columns.
///
/// ```
/// use cx_metrics::design::{Column, Design};
/// use cx_metrics::drivers::{driver_analysis, driver_analysis_design, DriverOptions};
/// let ltr: [i8; 10] = [9, 7, 10, 4, 8, 6, 9, 3, 7, 10];
/// let ease: [u8; 10] = [6, 5, 7, 2, 5, 4, 7, 1, 4, 6];
/// let design = Design::new(Column::new("ltr", &ltr[..]), vec![Column::new("ease", &ease[..])], None)?;
/// let a = driver_analysis_design(&design, &DriverOptions::default())?;
/// let y: Vec<f64> = ltr.iter().map(|&v| f64::from(v)).collect();
/// let x: Vec<f64> = ease.iter().map(|&v| f64::from(v)).collect();
/// let b = driver_analysis(&y, &[("ease", &x)], None, &DriverOptions::default())?;
/// assert_eq!(a, b);
/// # Ok::<(), cx_metrics::Error>(())
/// ```
///
/// # Errors
/// As [`driver_analysis`]; [`Error::InvalidArgument`] when the design's outcome is not
/// `options.outcome`.
pub fn driver_analysis_design(
    design: &Design<'_>,
    options: &DriverOptions,
) -> Result<DriverAnalysis> {
    let name = options.outcome.as_str();
    if design.outcome().name() != name {
        return Err(Error::invalid(
            "outcome",
            format!(
                "the design's outcome is {:?} but the options name {name:?}; build the design with the outcome of the options",
                design.outcome().name()
            ),
        ));
    }
    let names = design.driver_names();
    data::check_names(&names, options)?;
    data::check_declarations(name, &names, options)?;
    if !options.missing_codes.is_empty() {
        // Declared codes become missing values: from an `f64` copy, recoded, as a design again.
        let (y, columns) = design.to_f64();
        let drivers: Vec<(&str, &[f64])> = names
            .iter()
            .zip(&columns)
            .map(|(n, c)| (*n, c.as_slice()))
            .collect();
        let declared = declared_values(&y, &drivers, options)?;
        let y = declared.y.unwrap_or(y);
        let recoded: Vec<Vec<f64>> = declared
            .drivers
            .into_iter()
            .zip(columns)
            .map(|(r, c)| r.unwrap_or(c))
            .collect();
        let drivers: Vec<(&str, &[f64])> = names
            .iter()
            .zip(&recoded)
            .map(|(n, c)| (*n, c.as_slice()))
            .collect();
        let weights = design.weights().map(Weights::values);
        let design = Design::from_f64(name, &y, &drivers, weights)?;
        let mut recoded_options = options.clone();
        recoded_options.missing_codes.clear();
        let mut result = driver_analysis_design(&design, &recoded_options)?;
        // The result states the options as given (the codes too): what is derived from it (a
        // bootstrap, a what-if) applies them to the rows again.
        result.options = options.clone();
        result.declared_missing = declared.counts;
        return Ok(result);
    }
    data::check_design_scales(design, options)?;
    let mut warnings = Vec::new();
    let fitted = match options.missing {
        MissingPolicy::Pairwise | MissingPolicy::Indicator => {
            fit_converted(design, options, &mut warnings)?
        }
        _ => fit_design(design, options, &mut warnings)?,
    };
    finish(&names, fitted, warnings, options)
}

/// Listwise or raise, from the design read in blocks: first as if no value were missing (the fold
/// finds out); when one is, the values are checked and rows with a missing value skipped (raise:
/// the first is an error).
fn fit_design(
    design: &Design<'_>,
    options: &DriverOptions,
    warnings: &mut Vec<DriverWarning>,
) -> Result<Fitted> {
    let name = options.outcome.as_str();
    let mut skip_missing = design.has_masked_values();
    loop {
        if skip_missing {
            let complete = design.check_values()?;
            if options.missing == MissingPolicy::Raise && !complete {
                if let Some(e) = design.first_missing() {
                    return Err(e);
                }
            }
        }
        let covariance = options.covariance_for(design.weights().is_some());
        if let Some((fit, moments)) =
            ols_and_moments_with(design, skip_missing, options.confidence_level, covariance)?
        {
            let complete = (fit.n + fit.n_zero_weight) as usize;
            // The outcome's values in the rows used (up to three distinct ones are enough to tell).
            let scaled = design.weights().map(Weights::scaled);
            let rows = design.rows(scaled.as_deref(), skip_missing);
            let distinct = rows.distinct(design.n_drivers(), 3);
            warnings.extend(diagnostics::binary_outcome(name, &distinct));
            return Ok(Fitted {
                correlation: moments.covariance()?.correlation(),
                terms: design
                    .driver_names()
                    .iter()
                    .map(|n| n.to_string())
                    .collect(),
                fit,
                n_dropped: design.n_rows() - complete,
                filled: Vec::new(),
            });
        }
        if skip_missing {
            // No infinity (checked) and every missing value skipped: a fold can only fail by
            // overflow.
            return Err(overflow(
                &std::iter::once(name)
                    .chain(design.driver_names())
                    .collect::<Vec<_>>(),
            ));
        }
        skip_missing = true;
    }
}

/// Pairwise or indicator: from an `f64` copy of the columns, made now.
fn fit_converted(
    design: &Design<'_>,
    options: &DriverOptions,
    warnings: &mut Vec<DriverWarning>,
) -> Result<Fitted> {
    let name = options.outcome.as_str();
    let (y, columns) = design.to_f64();
    let names = design.driver_names();
    let drivers: Vec<(&str, &[f64])> = names
        .iter()
        .zip(&columns)
        .map(|(n, c)| (*n, c.as_slice()))
        .collect();
    // Extreme weights are rescaled by a power of two (see `weights`) and the fit scaled back below.
    let scaled = design.weights().map(Weights::scaled);
    let scale = design.weights().map_or(1.0, Weights::scale);
    let mut cols = Columns {
        outcome: name,
        y: &y,
        drivers: &drivers,
        weights: scaled.as_deref(),
        // First assume that no value is missing: the fit then reads the columns in place and finds
        // a NaN or an infinity as it folds them, without a pass of its own.
        finite: true,
    };
    let mut fitted = if options.missing == MissingPolicy::Pairwise {
        cols.finite = data::check_values(name, &y, &drivers)?;
        fit_pairwise(&cols, options, warnings)?
    } else {
        match fit_rows(&cols, options, warnings)? {
            Some(fitted) => fitted,
            None => {
                cols.finite = data::check_values(name, &y, &drivers)?;
                // No infinity (checked) and every NaN handled by the policy: a fold of the prepared
                // rows can only fail by overflow.
                fit_rows(&cols, options, warnings)?.ok_or_else(|| {
                    overflow(
                        &std::iter::once(name)
                            .chain(names.iter().copied())
                            .collect::<Vec<_>>(),
                    )
                })?
            }
        }
    };
    fitted.fit.unscale_weights(scale)?;
    Ok(fitted)
}

/// Driver analysis from a weighted covariance summary (entry point 2).
///
/// `cov` holds (at least) the outcome `options.outcome` and the `drivers`; other variables are
/// ignored. Build it with [`Moments::covariance`], [`Covariance::new`] or, from a published
/// correlation matrix with standard deviations and `n`, [`Covariance::from_correlation`]. The summary
/// has no missing values: `options.missing` must be `listwise` or `raise` (which then change nothing),
/// and `n_omitted` is 0.
///
/// # Errors
/// As [`driver_analysis`]; also [`Error::UnknownColumn`] for a driver or outcome not in `cov`, and
/// [`Error::InvalidArgument`] for the `pairwise` or `indicator` policy.
pub fn driver_analysis_from_covariance<S: AsRef<str>>(
    cov: &Covariance,
    drivers: &[S],
    options: &DriverOptions,
) -> Result<DriverAnalysis> {
    from_summary(cov, drivers, 0, options)
}

/// Driver analysis from a mergeable moments accumulator (entry point 3).
///
/// The accumulator must hold the outcome `options.outcome` and the `drivers` (others are ignored);
/// its zero-weight rows are reported in `n_zero_weight`. See [`driver_analysis_from_covariance`].
///
/// # Errors
/// As [`driver_analysis_from_covariance`], and those of [`Moments::covariance`].
pub fn driver_analysis_from_moments<S: AsRef<str>>(
    moments: &Moments,
    drivers: &[S],
    options: &DriverOptions,
) -> Result<DriverAnalysis> {
    from_summary(
        &moments.covariance()?,
        drivers,
        moments.n_zero_weight(),
        options,
    )
}

/// The six pillars' ids in [`Pillar::ALL`] order (`integrity`, `resolution`, `expectations`,
/// `time_and_effort`, `personalisation`, `empathy`): the driver names of the pillar preset.
pub fn pillar_names() -> [&'static str; 6] {
    Pillar::ALL.map(Pillar::id)
}

/// Driver analysis of the six pillars of experience: the outcome (`options.outcome`, by default `ltr`)
/// on one rating column per pillar, in [`Pillar::ALL`] order, named by [`Pillar::id`].
///
/// For a summary, call [`driver_analysis_from_moments`] or [`driver_analysis_from_covariance`] with
/// [`pillar_names`] as the drivers; for pillar scores computed from survey items, see
/// [`pillar_driver_analysis_from_scores`].
///
/// # Errors
/// As [`driver_analysis`].
pub fn pillar_driver_analysis(
    outcome: &[f64],
    pillars: [&[f64]; 6],
    weights: Option<&[f64]>,
    options: &DriverOptions,
) -> Result<DriverAnalysis> {
    let drivers: Vec<(&str, &[f64])> = pillar_names().into_iter().zip(pillars).collect();
    driver_analysis(outcome, &drivers, weights, options)
}

/// Driver analysis of the pillars measured in `scores` (see [`PillarItems::score`]); respondents
/// without a score on a pillar are missing values, handled by `options.missing`.
///
/// [`PillarItems::score`]: crate::pillars::PillarItems::score
///
/// # Errors
/// As [`driver_analysis`]; [`Error::BadColumn`] when `outcome` and the scores differ in length.
pub fn pillar_driver_analysis_from_scores(
    outcome: &[f64],
    scores: &PillarScores,
    weights: Option<&[f64]>,
    options: &DriverOptions,
) -> Result<DriverAnalysis> {
    let columns: Vec<(&str, Vec<f64>)> = scores
        .pillars
        .iter()
        .filter_map(|&p| scores.column(p).map(|c| (p.id(), c)))
        .collect();
    let drivers: Vec<(&str, &[f64])> = columns.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    driver_analysis(outcome, &drivers, weights, options)
}

/// A fitted model and the correlation matrix of its terms, before the importance step.
struct Fitted {
    /// The model's terms (drivers, then indicators).
    terms: Vec<String>,
    fit: OlsFit,
    /// Row-major correlation matrix of `terms` and the outcome (last).
    correlation: Vec<f64>,
    n_dropped: usize,
    filled: Vec<FilledDriver>,
}

/// Listwise, raise or indicator: the regression from the prepared rows, the correlations of the
/// same rows. `None` when a value of the prepared rows is not finite (only possible when `cols.finite`
/// was assumed rather than checked).
fn fit_rows(
    cols: &Columns<'_>,
    options: &DriverOptions,
    warnings: &mut Vec<DriverWarning>,
) -> Result<Option<Fitted>> {
    let name = cols.outcome;
    let rows = missing::prepare(cols, options.missing, &options.indicator_for)?;
    let terms: Vec<(&str, &[f64])> = rows
        .names
        .iter()
        .zip(&rows.columns)
        .map(|(n, c)| (n.as_str(), c.as_ref()))
        .collect();
    let weights = rows.weights.as_deref();
    let design = Design::from_f64(name, &rows.y, &terms, weights)?;
    let covariance = options.covariance_for(weights.is_some());
    let Some((fit, moments)) =
        ols_and_moments_with(&design, false, options.confidence_level, covariance)?
    else {
        return Ok(None);
    };
    let positive = rows
        .y
        .iter()
        .enumerate()
        .filter(|(i, _)| weights.is_none_or(|w| w[*i] > 0.0))
        .map(|(_, y)| y);
    warnings.extend(diagnostics::binary_outcome(name, positive));
    warnings.extend(rows.filled.iter().map(|f| DriverWarning::MissingIndicator {
        driver: f.driver.clone(),
        indicator: f.indicator.clone(),
        n_missing: f.n_missing,
        fill_value: f.fill_value,
    }));
    Ok(Some(Fitted {
        correlation: moments.covariance()?.correlation(),
        terms: rows.names,
        fit,
        n_dropped: rows.n_dropped,
        filled: rows.filled,
    }))
}

/// Pairwise: the regression and the importance from the pairwise-complete summary.
fn fit_pairwise(
    cols: &Columns<'_>,
    options: &DriverOptions,
    warnings: &mut Vec<DriverWarning>,
) -> Result<Fitted> {
    let summary = missing::pairwise(cols)?;
    let mut fit = ols_from_covariance(&summary.covariance, cols.outcome, options.confidence_level)?;
    summary_covariance(
        &mut fit,
        options,
        cols.weights.is_some(),
        PAIRWISE_COVARIANCE_NOTE,
    )?;
    fit.n_zero_weight = cols
        .weights
        .map_or(0, |w| w.iter().filter(|&&x| x == 0.0).count() as u64);
    warnings.extend(diagnostics::binary_outcome(cols.outcome, cols.y));
    warnings.push(DriverWarning::PairwiseDeletion {
        min_pair_n: summary.min_pair_n,
        max_pair_n: summary.max_pair_n,
        incomplete_rows: summary.incomplete_rows,
    });
    Ok(Fitted {
        terms: cols.drivers.iter().map(|(n, _)| (*n).to_owned()).collect(),
        fit,
        correlation: summary.correlation,
        n_dropped: summary.incomplete_rows,
        filled: Vec::new(),
    })
}

fn from_summary<S: AsRef<str>>(
    cov: &Covariance,
    drivers: &[S],
    n_zero_weight: u64,
    options: &DriverOptions,
) -> Result<DriverAnalysis> {
    if matches!(
        options.missing,
        MissingPolicy::Pairwise | MissingPolicy::Indicator
    ) {
        return Err(Error::invalid(
            "missing",
            format!(
                "{:?} applies to rows; a covariance or moments summary has no missing values \
                 (use \"listwise\")",
                options.missing.as_str()
            ),
        ));
    }
    let names: Vec<&str> = drivers.iter().map(AsRef::as_ref).collect();
    if names.is_empty() {
        return Err(Error::invalid("drivers", "at least one driver is needed"));
    }
    for (i, d) in names.iter().enumerate() {
        if *d == options.outcome || names[..i].contains(d) {
            return Err(Error::BadColumn {
                column: (*d).to_owned(),
                message: "is given twice (as a driver or as the outcome); names must be unique"
                    .into(),
            });
        }
    }
    data::check_names(&names, options)?;
    let mut idx = names
        .iter()
        .map(|d| cov.index_of(d))
        .collect::<Result<Vec<usize>>>()?;
    idx.push(cov.index_of(&options.outcome)?);
    let k = idx.len();
    let sub = Covariance::new(
        idx.iter().map(|&i| cov.names[i].clone()).collect(),
        (0..k * k)
            .map(|c| cov.get(idx[c / k], idx[c % k]))
            .collect(),
        idx.iter().map(|&i| cov.means[i]).collect(),
        cov.n,
        cov.sum_weights,
        cov.effective_n,
    )?;
    let mut fit = ols_from_covariance(&sub, &options.outcome, options.confidence_level)?;
    summary_covariance(
        &mut fit,
        options,
        sub.effective_n < sub.n as f64,
        SUMMARY_COVARIANCE_NOTE,
    )?;
    fit.n_zero_weight = n_zero_weight;
    let fitted = Fitted {
        terms: names.iter().map(|s| (*s).to_owned()).collect(),
        fit,
        correlation: sub.correlation(),
        n_dropped: 0,
        filled: Vec::new(),
    };
    finish(&names, fitted, Vec::new(), options)
}

/// Why a pairwise-deletion fit reports model-based standard errors.
const PAIRWISE_COVARIANCE_NOTE: &str =
    "model-based: pairwise deletion fits from pairwise-complete \
     correlations, with no single set of rows whose residuals a sandwich (design-based) covariance \
     needs; analyse with listwise deletion or the indicator method for HC0-HC3";

/// A fit from a summary (pairwise correlations, a covariance or moments summary) has no per-row
/// residuals: model-based standard errors, with the reason (`note`) when a sandwich was the
/// default, and an error when one was asked for.
fn summary_covariance(
    fit: &mut OlsFit,
    options: &DriverOptions,
    weighted: bool,
    note: &str,
) -> Result<()> {
    match options.covariance {
        Some(c) if c.is_sandwich() => Err(Error::invalid(
            "covariance",
            format!(
                "{:?} needs the rows (the per-row residuals); {note}. Use covariance=\"classical\" \
                 here",
                c.as_str()
            ),
        )),
        None if weighted => {
            fit.covariance_note = Some(note.to_owned());
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The importance step, the diagnostics and the result.
fn finish(
    drivers: &[&str],
    fitted: Fitted,
    mut warnings: Vec<DriverWarning>,
    options: &DriverOptions,
) -> Result<DriverAnalysis> {
    let Fitted {
        terms,
        fit,
        correlation,
        n_dropped,
        filled,
    } = fitted;
    let k = terms.len() + 1;
    if correlation.len() != k * k {
        return Err(Error::invalid(
            "correlation",
            format!("expected a {k}×{k} matrix"),
        ));
    }
    let corr = DMatrix::from_row_slice(k, k, &correlation);
    let always: Vec<String> = options
        .always
        .iter()
        .cloned()
        .chain(filled.iter().map(|f| f.indicator.clone()))
        .collect();
    let ranked = drivers
        .iter()
        .filter(|d| !options.always.iter().any(|a| a == *d))
        .count();
    let grouped: usize = options.groups.iter().map(|g| g.members.len()).sum();
    let units = ranked.saturating_sub(grouped) + options.groups.len();
    let mut imp_options = ImportanceOptions::default()
        .with_always(&always)
        .with_signed(options.groups.is_empty())
        .with_dominance(units <= MAX_EXACT_UNITS);
    imp_options.groups = options.groups.clone();
    let mut importance = relative_importance(&corr, &terms, &imp_options)?;
    let dominance = importance.dominance.take();

    let correlations: Vec<f64> = (0..k - 1).map(|j| corr[(j, k - 1)]).collect();
    let vif: Vec<f64> = fit
        .coefficients
        .iter()
        .skip(1)
        .map(|c| c.vif.unwrap_or(f64::NAN))
        .collect();
    warnings.extend(diagnostics::exact_fit(fit.r_squared));
    warnings.extend(diagnostics::sample_size(fit.n, terms.len()));
    for (t, &v) in terms.iter().zip(&vif) {
        warnings.extend(diagnostics::vif(t, v));
    }
    for (d, &r) in drivers.iter().zip(&correlations) {
        warnings.extend(diagnostics::negative_correlation(d, r));
    }
    warnings.extend(diagnostics::sampled_importance(
        &importance,
        imp_options.permutations,
    ));
    warnings.extend(
        importance
            .warnings
            .iter()
            .cloned()
            .map(|detail| DriverWarning::Importance { detail }),
    );
    Ok(DriverAnalysis {
        outcome: options.outcome.clone(),
        drivers: drivers.iter().map(|s| (*s).to_owned()).collect(),
        always,
        filled,
        missing: options.missing,
        correlations,
        vif,
        r_squared: fit.r_squared,
        adj_r_squared: fit.adj_r_squared,
        n: fit.n,
        effective_n: fit.effective_n,
        n_omitted: n_dropped,
        n_zero_weight: fit.n_zero_weight,
        confidence_level: options.confidence_level,
        terms,
        regression: fit,
        importance,
        dominance,
        warnings,
        declared_missing: Vec::new(),
        options: options.clone(),
    })
}

/// The promoter or detractor model of the drivers on the same sample as a driver analysis with
/// `options`: the declared scales are checked and the declared missing codes become missing values,
/// then the missing-value policy applies — `listwise` drops incomplete rows (counted in
/// `n_omitted`), `raise` fails on the first missing value, `indicator` fills the drivers as the
/// analysis does and adds each `<driver>_missing` indicator to the model as a term. `pairwise` is
/// refused: a logistic model is fitted on rows, and pairwise deletion has no single set of them.
/// Returns the model and the values declared missing per column.
///
/// ```
/// use cx_metrics::drivers::{nps_model_of_sample, DriverOptions, MissingPolicy};
/// use cx_metrics::logistic::{LogisticOptions, NpsOutcome};
/// let ltr = [10.0, 9.0, 3.0, 7.0, 8.0, 9.0, 6.0, 10.0, 2.0, 8.0, 9.0, 5.0];
/// // Two "don't know" answers (99), one promoter and one not: their indicator is estimable.
/// let ease = [6.0, 99.0, 99.0, 5.0, 6.0, 4.0, 3.0, 5.0, 1.0, 7.0, 6.0, 3.0];
/// let o = DriverOptions::default()
///     .with_missing(MissingPolicy::Indicator)
///     .with_missing_codes(&["ease"], &[99.0]);
/// let (m, declared) = nps_model_of_sample(
///     NpsOutcome::Promoter, &ltr, &[("ease", &ease)], None, &o, &LogisticOptions::default(),
/// )?;
/// assert_eq!((m.n, m.n_omitted, declared[0].n), (12, 0, 2));
/// # Ok::<(), cx_metrics::Error>(())
/// ```
///
/// # Errors
/// Those of [`declared_values`] and of [`nps_model`](crate::logistic::nps_model);
/// [`Error::InvalidArgument`] for `pairwise`; [`Error::BadColumn`] for a missing value under `raise`.
pub fn nps_model_of_sample(
    target: crate::logistic::NpsOutcome,
    ltr: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &DriverOptions,
    logistic: &crate::logistic::LogisticOptions,
) -> Result<(crate::logistic::LogisticRegression, Vec<DeclaredMissing>)> {
    if options.missing == MissingPolicy::Pairwise {
        return Err(Error::invalid(
            "missing",
            "a promoter or detractor model is fitted on rows, and \"pairwise\" deletion has no \
             single set of them; use \"listwise\" or \"indicator\"",
        ));
    }
    let name = options.outcome.as_str();
    data::check_shape(name, ltr, drivers, weights)?;
    let names: Vec<&str> = drivers.iter().map(|(n, _)| *n).collect();
    data::check_names(&names, options)?;
    let declared = declared_values(ltr, drivers, options)?;
    let y: &[f64] = declared.y.as_deref().unwrap_or(ltr);
    let recoded: Vec<(&str, &[f64])> = drivers
        .iter()
        .zip(&declared.drivers)
        .map(|((n, c), r)| (*n, r.as_deref().unwrap_or(c)))
        .collect();
    let finite = data::check_values(name, y, &recoded)?;
    let cols = Columns {
        outcome: name,
        y,
        drivers: &recoded,
        weights,
        finite,
    };
    let policy = match options.missing {
        MissingPolicy::Raise => MissingPolicy::Raise,
        MissingPolicy::Indicator => MissingPolicy::Indicator,
        _ => MissingPolicy::Listwise,
    };
    let rows = missing::prepare(&cols, policy, &options.indicator_for)?;
    let terms: Vec<(&str, &[f64])> = rows
        .names
        .iter()
        .zip(&rows.columns)
        .map(|(n, c)| (n.as_str(), c.as_ref()))
        .collect();
    let mut model = crate::logistic::nps_model(
        target,
        rows.y.as_ref(),
        &terms,
        rows.weights.as_deref(),
        logistic,
    )?;
    model.n_omitted += rows.n_dropped;
    Ok((model, declared.counts))
}
