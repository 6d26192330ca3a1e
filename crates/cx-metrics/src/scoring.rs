//! Fitted models that score new rows: a small, versioned JSON document with the parameters of a
//! fit (no training data), read back with every field checked, and closed-form scoring in Rust.
//!
//! | model | built from | scores |
//! | --- | --- | --- |
//! | [`DriverModel`] | a fitted [`DriverAnalysis`] (OLS) | the predicted outcome (e.g. 0–10), clipped to the outcome's scale, and unclipped |
//! | [`LogisticModel`] | a fitted [`LogisticRegression`] (promoter / detractor model) | the probability of the category |
//! | [`RetentionModel`] | a fitted [`SbgFit`] (shifted beta-geometric) | survival and retention curves, the sBG lifetime value |
//! | [`ClvModel`] | a [`BgNbdFit`] and optionally a [`GammaGammaFit`] | expected purchases, P(alive), expected spend, lifetime value per customer |
//!
//! The coefficients are taken from the fitted result, never refitted; the forecasts of the retention
//! and lifetime-value models call the core's own functions of those fits ([`SbgFit::survival_curve`],
//! [`sbg_clv`], [`BgNbdFit::p_alive_of`], [`bgnbd_clv`], …).
//!
//! # The document
//!
//! `to_json` writes `{"model": "<kind>", "version": 1, ...}` with the parameters, the scales and the
//! missing-value policy the fit used and its `n`; `from_json` reads it back and checks everything:
//! the kind and [`MODEL_FORMAT_VERSION`], the size (at most [`MAX_DOCUMENT_BYTES`] of text and
//! [`MAX_MODEL_TERMS`] terms), unknown fields, names (non-empty, unique), finite coefficients, valid
//! scales, and lengths that agree. A bad document is an [`Error::InvalidModel`], never a panic. Numbers
//! are written so that they read back bit for bit: a model read from its own document is equal to it.
//!
//! # Scoring a driver model
//!
//! A row gives a value per driver (NaN for a missing answer). Each value is checked as the analysis
//! checked it: a declared missing code (e.g. 99 for "don't know") is a missing value; a value off the
//! driver's declared scale is an [`Error::OutOfScale`] naming the driver and the row; an infinite value
//! is an [`Error::BadColumn`]. A missing value of a driver the analysis filled by the indicator method
//! ([`MissingPolicy::Indicator`]) is filled with the same value (the observed mean of the analysed
//! rows) and its indicator set to 1, exactly as the fit did; any other missing value cannot be scored:
//! an error naming the driver and the row under [`NanPolicy::Raise`], or a NaN prediction counted in
//! `n_omitted` under [`NanPolicy::Omit`]. The prediction `β₀ + Σ βⱼ xⱼ` is returned as is
//! (`unclipped`) and clipped to the outcome's scale (`predicted`; a linear model can leave 0–10).
//!
//! ```
//! use cx_metrics::drivers::{driver_analysis, DriverOptions};
//! use cx_metrics::scoring::DriverModel;
//! let ltr = [9.0, 7.0, 10.0, 4.0, 8.0, 6.0, 9.0, 3.0, 7.0, 10.0];
//! let ease = [6.0, 5.0, 7.0, 2.0, 5.0, 4.0, 7.0, 1.0, 4.0, 6.0];
//! let speed = [5.0, 6.0, 6.0, 3.0, 4.0, 5.0, 5.0, 2.0, 6.0, 7.0];
//! let options = DriverOptions::default().with_scales(&["ease", "speed"], 1.0, 7.0);
//! let analysis = driver_analysis(&ltr, &[("ease", &ease), ("speed", &speed)], None, &options)?;
//! let model = DriverModel::from_analysis(&analysis)?;
//! let text = model.to_json()?;
//! let back = DriverModel::from_json(&text)?;
//! assert_eq!(back, model);
//! let p = back.predict_row(0, &[6.0, 5.0])?;
//! assert!((0.0..=10.0).contains(&p.predicted));
//! // 9 is off the declared 1–7 scale of `ease`: a typed error naming the driver and the row.
//! assert!(back.predict_row(3, &[9.0, 5.0]).unwrap_err().to_string().contains("\"ease\""));
//! # Ok::<(), cx_metrics::Error>(())
//! ```

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::buy_till_you_die::{BgNbdFit, FitDiagnostics, GammaGammaFit, Rfm};
use crate::clv::{bgnbd_clv, sbg_clv, ClvResult, CustomerClv, DiscountTiming, Horizon};
use crate::cohorts::PeriodUnit;
use crate::drivers::{DriverAnalysis, MissingPolicy};
use crate::error::{Error, Result};
use crate::intervals::Interval;
use crate::logistic::LogisticRegression;
use crate::sbg::SbgFit;
use crate::scale::NanPolicy;

/// The format version of the model documents this release writes and reads.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// The largest document `from_json` reads, in bytes (a model of a thousand drivers takes about
/// 150 KB).
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// The most terms (drivers and indicators) a model document may hold.
pub const MAX_MODEL_TERMS: usize = 4096;

/// The longest name (of the outcome, a driver or an indicator) a model document may hold, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

/// The most declared missing codes per driver.
pub const MAX_MISSING_CODES: usize = 64;

/// The longest curve a retention model draws, in periods.
pub const MAX_HORIZON: u32 = 100_000;

fn invalid(model: &'static str, message: impl Into<String>) -> Error {
    Error::InvalidModel {
        model,
        message: message.into(),
    }
}

/// Read a model document of `kind`: the size first, then the JSON (unknown fields refused), then the
/// checks of the form (`try_from`).
fn read_document<D, T>(model: &'static str, text: &str) -> Result<T>
where
    D: serde::de::DeserializeOwned,
    T: TryFrom<D, Error = Error>,
{
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(invalid(
            model,
            format!(
                "{} bytes, more than the {MAX_DOCUMENT_BYTES} a model document may have",
                text.len()
            ),
        ));
    }
    // The kind and version first, so that a document of another model or version says so.
    let head: Head = serde_json::from_str(text).map_err(|e| invalid(model, e.to_string()))?;
    check_head(model, &head.model, head.version)?;
    let doc: D = serde_json::from_str(text).map_err(|e| invalid(model, e.to_string()))?;
    T::try_from(doc)
}

fn write_document<T: Serialize>(model: &'static str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| invalid(model, e.to_string()))
}

/// The two fields every document starts with.
#[derive(Deserialize)]
struct Head {
    model: String,
    version: u32,
}

fn check_head(model: &'static str, kind: &str, version: u32) -> Result<()> {
    if kind != model {
        return Err(invalid(
            model,
            format!("it holds a {kind:?} model, not a {model:?} model"),
        ));
    }
    if version != MODEL_FORMAT_VERSION {
        return Err(invalid(
            model,
            format!(
                "format version {version}; this release reads version {MODEL_FORMAT_VERSION} \
                 (a newer release wrote it)"
            ),
        ));
    }
    Ok(())
}

fn check_name(model: &'static str, what: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(invalid(
            model,
            format!(
                "{what} name {:?} must have 1 to {MAX_NAME_BYTES} bytes",
                name.chars().take(40).collect::<String>()
            ),
        ));
    }
    Ok(())
}

fn check_finite(model: &'static str, what: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(
            model,
            format!("{what} is {v}, not a finite number"),
        ))
    }
}

fn check_scale(model: &'static str, what: &str, scale: Option<(f64, f64)>) -> Result<()> {
    match scale {
        Some((min, max)) if !(min.is_finite() && max.is_finite() && min < max) => Err(invalid(
            model,
            format!("the scale of {what} is {min}..={max}; a scale has finite min < max"),
        )),
        _ => Ok(()),
    }
}

fn check_terms(model: &'static str, n: usize) -> Result<()> {
    if n == 0 || n > MAX_MODEL_TERMS {
        return Err(invalid(
            model,
            format!("{n} drivers; a model has 1 to {MAX_MODEL_TERMS}"),
        ));
    }
    Ok(())
}

/// The columns of `names`, looked up in `columns` by name, all of one length.
fn columns_of<'a>(
    names: &[&str],
    columns: &[(&str, &'a [f64])],
) -> Result<(Vec<&'a [f64]>, usize)> {
    let mut seen = HashSet::new();
    for (name, _) in columns {
        if !seen.insert(*name) {
            return Err(Error::BadColumn {
                column: (*name).to_owned(),
                message: "is given twice; give each driver once".into(),
            });
        }
    }
    let available = || {
        columns
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = names
        .iter()
        .map(|name| {
            columns
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, c)| *c)
                .ok_or_else(|| Error::UnknownColumn {
                    column: (*name).to_owned(),
                    available: available(),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let n = found.first().map_or(0, |c| c.len());
    for c in &found {
        if c.len() != n {
            return Err(Error::LengthMismatch {
                what: "the driver columns",
                left: n,
                right: c.len(),
            });
        }
    }
    Ok((found, n))
}

fn missing_value(column: &str, row: usize, fitted_with: &str) -> Error {
    Error::BadColumn {
        column: column.to_owned(),
        message: format!(
            "the value at row {row} is missing and the model (fitted with missing={fitted_with:?}) \
             has no value to fill it with; give a value, or score with nan_policy=\"omit\" (the \
             row's prediction is then NaN, and counted)"
        ),
    }
}

fn infinite_value(column: &str, row: usize, v: f64) -> Error {
    Error::BadColumn {
        column: column.to_owned(),
        message: format!(
            "value {v} at row {row} is infinite; remove or replace it (NaN marks a missing value)"
        ),
    }
}

/// `1/(1 + e^{−x})`, without overflow in either tail.
fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

// ----- driver model -----------------------------------------------------------------------------

/// One driver of a [`DriverModel`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDriver {
    /// The driver's name (the column a row must give).
    pub name: String,
    /// Its coefficient: the change in the outcome per point of the driver, the others held fixed.
    pub coefficient: f64,
    /// The scale the analysis checked the driver on, `(min, max)` (`None`: not checked).
    pub scale: Option<(f64, f64)>,
    /// Values the analysis treated as missing ("don't know" codes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_codes: Vec<f64>,
}

/// A missing-value indicator of a [`DriverModel`] fitted with [`MissingPolicy::Indicator`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelIndicator {
    /// The driver it fills.
    pub driver: String,
    /// The indicator's name (`<driver>_missing`).
    pub name: String,
    /// Its coefficient: the shift of the outcome of a respondent without that answer.
    pub coefficient: f64,
    /// The value a missing answer is filled with (the weighted mean of the observed answers of the
    /// analysed rows).
    pub fill_value: f64,
}

/// A fitted driver model (OLS of the outcome on the drivers) that scores new rows: the parameters of
/// a [`DriverAnalysis`], with the scales and the missing-value policy it ran with. Plain data; see
/// the [module docs](self) for the document and the scoring rules.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DriverModelDoc", into = "DriverModelDoc")]
pub struct DriverModel {
    /// The outcome's name (e.g. `ltr`).
    pub outcome: String,
    /// The outcome's scale `(min, max)` that predictions are clipped to (`None`: not clipped).
    pub outcome_scale: Option<(f64, f64)>,
    /// The intercept β₀.
    pub intercept: f64,
    /// The drivers in the analysis's order, with their coefficients and scales.
    pub drivers: Vec<ModelDriver>,
    /// The missing-value indicators (only with [`MissingPolicy::Indicator`]).
    pub indicators: Vec<ModelIndicator>,
    /// The missing-value policy of the analysis.
    pub missing: MissingPolicy,
    /// Rows the model was fitted on.
    pub n: u64,
    /// R² of the fit.
    pub r_squared: f64,
    /// The residual standard error σ̂ of the fit (in the outcome's units).
    pub sigma: f64,
}

/// The document form of a [`DriverModel`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DriverModelDoc {
    model: String,
    version: u32,
    outcome: String,
    outcome_scale: Option<(f64, f64)>,
    intercept: f64,
    drivers: Vec<ModelDriver>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    indicators: Vec<ModelIndicator>,
    missing: MissingPolicy,
    n: u64,
    #[serde(with = "crate::serde_nan")]
    r_squared: f64,
    #[serde(with = "crate::serde_nan")]
    sigma: f64,
}

const DRIVER: &str = "driver";

impl From<DriverModel> for DriverModelDoc {
    fn from(m: DriverModel) -> Self {
        Self {
            model: DRIVER.to_owned(),
            version: MODEL_FORMAT_VERSION,
            outcome: m.outcome,
            outcome_scale: m.outcome_scale,
            intercept: m.intercept,
            drivers: m.drivers,
            indicators: m.indicators,
            missing: m.missing,
            n: m.n,
            r_squared: m.r_squared,
            sigma: m.sigma,
        }
    }
}

impl TryFrom<DriverModelDoc> for DriverModel {
    type Error = Error;
    fn try_from(d: DriverModelDoc) -> Result<Self> {
        check_head(DRIVER, &d.model, d.version)?;
        let m = Self {
            outcome: d.outcome,
            outcome_scale: d.outcome_scale,
            intercept: d.intercept,
            drivers: d.drivers,
            indicators: d.indicators,
            missing: d.missing,
            n: d.n,
            r_squared: d.r_squared,
            sigma: d.sigma,
        };
        m.validate()?;
        Ok(m)
    }
}

/// A prediction of one row by a [`DriverModel`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The prediction clipped to the outcome's scale.
    pub predicted: f64,
    /// `β₀ + Σ βⱼ xⱼ`, not clipped.
    pub unclipped: f64,
    /// Drivers whose missing value was filled (indicator method).
    pub filled: usize,
}

/// Predictions of many rows by a [`DriverModel`], with the counts of what happened to them.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverPredictions {
    /// The outcome predicted.
    pub outcome: String,
    /// The scale predictions were clipped to (`None`: not clipped).
    pub outcome_scale: Option<(f64, f64)>,
    /// Per row: the prediction clipped to the outcome's scale (NaN: a row omitted for a missing
    /// value).
    #[serde(with = "crate::serde_nan::vec")]
    pub predicted: Vec<f64>,
    /// Per row: `β₀ + Σ βⱼ xⱼ`, not clipped (NaN: omitted).
    #[serde(with = "crate::serde_nan::vec")]
    pub unclipped: Vec<f64>,
    /// Rows whose prediction was clipped to the scale.
    pub n_clipped: usize,
    /// Rows with at least one missing value filled by the indicator method.
    pub n_filled: usize,
    /// Rows with a missing value that the model cannot fill: NaN predictions (under
    /// [`NanPolicy::Omit`]).
    pub n_omitted: usize,
}

impl DriverModel {
    /// The model of a fitted driver analysis: its coefficients (not refitted), the outcome's scale
    /// and the drivers' declared scales and missing codes it checked, the missing-value policy and
    /// the fill values and coefficients of its indicators, `n`, R² and σ̂.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a coefficient is not finite (an exact fit), or the analysis is
    /// not of one term per driver (then indicators) as fitted.
    pub fn from_analysis(analysis: &DriverAnalysis) -> Result<Self> {
        let reg = &analysis.regression;
        let k = analysis.drivers.len();
        let n_terms = analysis.terms.len();
        if reg.coefficients.len() != n_terms + 1
            || n_terms != k + analysis.filled.len()
            || analysis.terms[..k] != analysis.drivers[..]
        {
            return Err(Error::invalid(
                "analysis",
                "its regression table does not hold the intercept, one term per driver, then the \
                 indicators",
            ));
        }
        let coefficient = |j: usize| -> Result<f64> {
            let c = &reg.coefficients[j];
            if c.estimate.is_finite() {
                Ok(c.estimate)
            } else {
                Err(Error::invalid(
                    "analysis",
                    format!(
                        "the coefficient of {:?} is {}, not finite",
                        c.term, c.estimate
                    ),
                ))
            }
        };
        let options = &analysis.options;
        let drivers = analysis
            .drivers
            .iter()
            .enumerate()
            .map(|(j, name)| {
                Ok(ModelDriver {
                    name: name.clone(),
                    coefficient: coefficient(j + 1)?,
                    scale: options
                        .scales
                        .iter()
                        .find(|s| &s.column == name)
                        .map(|s| (s.min, s.max)),
                    missing_codes: options
                        .missing_codes
                        .iter()
                        .filter(|m| &m.column == name)
                        .flat_map(|m| m.codes.iter().copied())
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let indicators = analysis
            .filled
            .iter()
            .enumerate()
            .map(|(i, f)| {
                Ok(ModelIndicator {
                    driver: f.driver.clone(),
                    name: f.indicator.clone(),
                    coefficient: coefficient(k + 1 + i)?,
                    fill_value: f.fill_value,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let model = Self {
            outcome: analysis.outcome.clone(),
            outcome_scale: options.outcome_range(),
            intercept: coefficient(0)?,
            drivers,
            indicators,
            missing: analysis.missing,
            n: analysis.n,
            r_squared: analysis.r_squared,
            sigma: reg.sigma,
        };
        model.validate().map_err(|e| match e {
            Error::InvalidModel { message, .. } => Error::invalid("analysis", message),
            other => other,
        })?;
        Ok(model)
    }

    /// Check the form: names, finite numbers, scales, lengths, the policy's indicators.
    fn validate(&self) -> Result<()> {
        let m = DRIVER;
        check_name(m, "the outcome", &self.outcome)?;
        check_scale(m, "the outcome", self.outcome_scale)?;
        check_finite(m, "the intercept", self.intercept)?;
        check_terms(m, self.drivers.len() + self.indicators.len())?;
        if self.drivers.is_empty() {
            return Err(invalid(m, "no drivers; a model has at least one"));
        }
        let mut names: HashSet<&str> = HashSet::from([self.outcome.as_str()]);
        for d in &self.drivers {
            check_name(m, "a driver", &d.name)?;
            if !names.insert(&d.name) {
                return Err(invalid(
                    m,
                    format!("{:?} is named twice (as a driver or the outcome)", d.name),
                ));
            }
            check_finite(
                m,
                &format!("the coefficient of {:?}", d.name),
                d.coefficient,
            )?;
            check_scale(m, &format!("{:?}", d.name), d.scale)?;
            if d.missing_codes.len() > MAX_MISSING_CODES {
                return Err(invalid(
                    m,
                    format!(
                        "{} missing codes for {:?}; at most {MAX_MISSING_CODES}",
                        d.missing_codes.len(),
                        d.name
                    ),
                ));
            }
            if let Some(c) = d.missing_codes.iter().find(|c| !c.is_finite()) {
                return Err(invalid(
                    m,
                    format!("missing code {c} of {:?} is not finite", d.name),
                ));
            }
        }
        if !self.indicators.is_empty() && self.missing != MissingPolicy::Indicator {
            return Err(invalid(
                m,
                format!(
                    "it has indicators but its missing policy is {:?}, not \"indicator\"",
                    self.missing.as_str()
                ),
            ));
        }
        let mut filled: HashSet<&str> = HashSet::new();
        for ind in &self.indicators {
            check_name(m, "an indicator", &ind.name)?;
            let Some(d) = self.drivers.iter().find(|d| d.name == ind.driver) else {
                return Err(invalid(
                    m,
                    format!(
                        "indicator {:?} fills {:?}, which is not a driver",
                        ind.name, ind.driver
                    ),
                ));
            };
            if !filled.insert(&ind.driver) || !names.insert(&ind.name) {
                return Err(invalid(
                    m,
                    format!(
                        "indicator {:?} (of {:?}) is given twice or takes a driver's name",
                        ind.name, ind.driver
                    ),
                ));
            }
            check_finite(
                m,
                &format!("the coefficient of {:?}", ind.name),
                ind.coefficient,
            )?;
            check_finite(
                m,
                &format!("the fill value of {:?}", ind.driver),
                ind.fill_value,
            )?;
            if let Some((lo, hi)) = d.scale {
                if !(lo..=hi).contains(&ind.fill_value) {
                    return Err(invalid(
                        m,
                        format!(
                            "the fill value {} of {:?} is outside its scale {lo}..={hi}",
                            ind.fill_value, ind.driver
                        ),
                    ));
                }
            }
        }
        if self.n == 0 {
            return Err(invalid(m, "n is 0; a model is fitted on rows"));
        }
        if !(self.r_squared.is_nan() || (0.0..=1.0).contains(&self.r_squared)) {
            return Err(invalid(
                m,
                format!("R² {} is outside [0, 1]", self.r_squared),
            ));
        }
        if !(self.sigma.is_nan() || (self.sigma >= 0.0 && self.sigma.is_finite())) {
            return Err(invalid(
                m,
                format!("sigma {} is not a finite number >= 0", self.sigma),
            ));
        }
        Ok(())
    }

    /// The drivers' names, in the order [`predict_row`](Self::predict_row) takes their values.
    pub fn driver_names(&self) -> Vec<&str> {
        self.drivers.iter().map(|d| d.name.as_str()).collect()
    }

    /// The coefficients of the drivers, in [`driver_names`](Self::driver_names) order.
    pub fn coefficients(&self) -> Vec<f64> {
        self.drivers.iter().map(|d| d.coefficient).collect()
    }

    /// The document: `{"model": "driver", "version": 1, ...}`.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] if serialisation fails (it does not for a model that validates).
    pub fn to_json(&self) -> Result<String> {
        write_document(DRIVER, self)
    }

    /// Read a document written by [`to_json`](Self::to_json), checking everything.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] saying what is wrong.
    pub fn from_json(text: &str) -> Result<Self> {
        read_document::<DriverModelDoc, _>(DRIVER, text)
    }

    /// Score one row: `values` holds one value per driver in [`driver_names`](Self::driver_names)
    /// order (NaN: missing); `row` is the row's position, used in error messages.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a wrong number of values; [`Error::OutOfScale`] naming the driver
    /// and the row for a value off the driver's scale; [`Error::BadColumn`] for an infinite value or a
    /// missing value the model cannot fill (see the [module docs](self)).
    pub fn predict_row(&self, row: usize, values: &[f64]) -> Result<Prediction> {
        if values.len() != self.drivers.len() {
            return Err(Error::LengthMismatch {
                what: "the model's drivers and the row's values",
                left: self.drivers.len(),
                right: values.len(),
            });
        }
        self.score(row, |j| values[j])?
            .map_err(|j| missing_value(&self.drivers[j].name, row, self.missing.as_str()))
    }

    /// Score one row; `Ok(Err(j))` when driver `j` is missing and cannot be filled.
    fn score(
        &self,
        row: usize,
        value: impl Fn(usize) -> f64,
    ) -> Result<std::result::Result<Prediction, usize>> {
        let mut sum = self.intercept;
        let mut filled = 0;
        for (j, d) in self.drivers.iter().enumerate() {
            let v = value(j);
            if v.is_infinite() {
                return Err(infinite_value(&d.name, row, v));
            }
            let missing = v.is_nan() || d.missing_codes.contains(&v);
            if missing {
                let Some(ind) = self.indicators.iter().find(|i| i.driver == d.name) else {
                    return Ok(Err(j));
                };
                sum += d.coefficient * ind.fill_value + ind.coefficient;
                filled += 1;
                continue;
            }
            if let Some((min, max)) = d.scale {
                if !(min..=max).contains(&v) {
                    return Err(Error::OutOfScale {
                        column: d.name.clone(),
                        index: row,
                        value: v,
                        min,
                        max,
                    });
                }
            }
            sum += d.coefficient * v;
        }
        let predicted = match self.outcome_scale {
            Some((min, max)) => sum.clamp(min, max),
            None => sum,
        };
        Ok(Ok(Prediction {
            predicted,
            unclipped: sum,
            filled,
        }))
    }

    /// Score rows given as named columns (each driver of the model must be there; other columns
    /// are not read). Under [`NanPolicy::Raise`] a missing value the model cannot fill is an error;
    /// under [`NanPolicy::Omit`] its row's prediction is NaN and counted in `n_omitted`.
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] for a driver without a column; [`Error::LengthMismatch`];
    /// [`Error::BadColumn`] for a column given twice; those of [`predict_row`](Self::predict_row),
    /// naming the row.
    // Row `i` reads element `i` of every column.
    #[allow(clippy::needless_range_loop)]
    pub fn predict(
        &self,
        columns: &[(&str, &[f64])],
        nan_policy: NanPolicy,
    ) -> Result<DriverPredictions> {
        let (cols, n) = columns_of(&self.driver_names(), columns)?;
        let mut out = DriverPredictions {
            outcome: self.outcome.clone(),
            outcome_scale: self.outcome_scale,
            predicted: Vec::with_capacity(n),
            unclipped: Vec::with_capacity(n),
            n_clipped: 0,
            n_filled: 0,
            n_omitted: 0,
        };
        for i in 0..n {
            match self.score(i, |j| cols[j][i])? {
                Ok(p) => {
                    out.n_clipped += usize::from(p.predicted != p.unclipped);
                    out.n_filled += usize::from(p.filled > 0);
                    out.predicted.push(p.predicted);
                    out.unclipped.push(p.unclipped);
                }
                Err(_) if nan_policy == NanPolicy::Omit => {
                    out.n_omitted += 1;
                    out.predicted.push(f64::NAN);
                    out.unclipped.push(f64::NAN);
                }
                Err(j) => {
                    return Err(missing_value(
                        &self.drivers[j].name,
                        i,
                        self.missing.as_str(),
                    ))
                }
            }
        }
        Ok(out)
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        let scale = self.outcome_scale.map_or_else(
            || "not clipped".to_owned(),
            |(a, b)| format!("clipped to {a}..={b}"),
        );
        format!(
            "driver model of {} on {} drivers ({} indicators; missing={:?}); n {}, R² {:.4}, sigma \
             {:.4}; predictions {scale}",
            self.outcome,
            self.drivers.len(),
            self.indicators.len(),
            self.missing.as_str(),
            self.n,
            self.r_squared,
            self.sigma
        )
    }
}

// ----- logistic model ---------------------------------------------------------------------------

/// A fitted logistic model (the promoter or detractor model) that scores new rows with the
/// probability of its category, `1/(1 + e^{−η})`, `η = β₀ + Σ βⱼ xⱼ`, computed without overflow in
/// either tail. Its inputs are the regression's terms: a model fitted with the indicator method takes
/// each `<driver>_missing` indicator as a column too (fill the driver and set it to 1). A logistic fit
/// keeps no declared scales, so values are only checked to be finite; a missing value is an error
/// naming the driver and the row, or a NaN probability counted in `n_omitted`.
///
/// ```
/// use cx_metrics::logistic::{promoter_model, LogisticOptions};
/// use cx_metrics::scoring::LogisticModel;
/// let ltr = [10u8, 9, 3, 7, 8, 9, 6, 10, 2, 8];
/// let ease = [6.0, 7.0, 2.0, 5.0, 6.0, 4.0, 3.0, 5.0, 1.0, 7.0];
/// let fit = promoter_model(&ltr, &[("ease", &ease)], None, &LogisticOptions::default())?;
/// let model = LogisticModel::from_regression(&fit)?;
/// let back = LogisticModel::from_json(&model.to_json()?)?;
/// let p = back.predict_proba_row(0, &[7.0])?;
/// let eta = fit.intercept.estimate + 7.0 * fit.drivers[0].estimate;
/// assert!((p - 1.0 / (1.0 + (-eta).exp())).abs() < 1e-15);
/// # Ok::<(), cx_metrics::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LogisticModelDoc", into = "LogisticModelDoc")]
pub struct LogisticModel {
    /// The category whose probability is scored: `promoter`, `detractor` (or `outcome` for a plain
    /// logistic regression).
    pub outcome: String,
    /// The intercept β₀ (log-odds when every driver is 0).
    pub intercept: f64,
    /// The drivers (terms), in the fit's order.
    pub drivers: Vec<String>,
    /// Their coefficients (log-odds per unit), in `drivers` order.
    pub coefficients: Vec<f64>,
    /// Complete rows the model was fitted on.
    pub n: u64,
    /// Of them, rows in the category.
    pub n_events: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogisticModelDoc {
    model: String,
    version: u32,
    outcome: String,
    intercept: f64,
    drivers: Vec<String>,
    coefficients: Vec<f64>,
    n: u64,
    n_events: u64,
}

const LOGISTIC: &str = "logistic";

impl From<LogisticModel> for LogisticModelDoc {
    fn from(m: LogisticModel) -> Self {
        Self {
            model: LOGISTIC.to_owned(),
            version: MODEL_FORMAT_VERSION,
            outcome: m.outcome,
            intercept: m.intercept,
            drivers: m.drivers,
            coefficients: m.coefficients,
            n: m.n,
            n_events: m.n_events,
        }
    }
}

impl TryFrom<LogisticModelDoc> for LogisticModel {
    type Error = Error;
    fn try_from(d: LogisticModelDoc) -> Result<Self> {
        check_head(LOGISTIC, &d.model, d.version)?;
        let m = Self {
            outcome: d.outcome,
            intercept: d.intercept,
            drivers: d.drivers,
            coefficients: d.coefficients,
            n: d.n,
            n_events: d.n_events,
        };
        m.validate()?;
        Ok(m)
    }
}

/// Probabilities of many rows by a [`LogisticModel`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticPredictions {
    /// The category scored.
    pub outcome: String,
    /// Per row: the probability of the category (NaN: a row omitted for a missing value).
    #[serde(with = "crate::serde_nan::vec")]
    pub probability: Vec<f64>,
    /// Rows with a missing value: NaN probabilities (under [`NanPolicy::Omit`]).
    pub n_omitted: usize,
}

impl LogisticModel {
    /// The model of a fitted logistic regression: its coefficients, not refitted.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the fit found separation or did not converge (its estimates
    /// are the last iterate of a diverging fit, not estimates), or a coefficient is not finite.
    pub fn from_regression(fit: &LogisticRegression) -> Result<Self> {
        if let Some(sep) = &fit.separation {
            return Err(Error::invalid(
                "model",
                format!(
                    "the fit found {} separation along {}: its coefficients do not exist and \
                     cannot score; drop or merge those drivers and fit again",
                    sep.kind.label(),
                    sep.drivers.join(", ")
                ),
            ));
        }
        if !fit.converged {
            return Err(Error::invalid(
                "model",
                "the fit did not converge: its coefficients are not estimates; fit again with more \
                 iterations or fewer drivers",
            ));
        }
        let model = Self {
            outcome: fit.outcome.clone(),
            intercept: fit.intercept.estimate,
            drivers: fit.drivers.iter().map(|t| t.name.clone()).collect(),
            coefficients: fit.drivers.iter().map(|t| t.estimate).collect(),
            n: fit.n as u64,
            n_events: fit.n_events as u64,
        };
        model.validate().map_err(|e| match e {
            Error::InvalidModel { message, .. } => Error::invalid("model", message),
            other => other,
        })?;
        Ok(model)
    }

    fn validate(&self) -> Result<()> {
        let m = LOGISTIC;
        check_name(m, "the outcome", &self.outcome)?;
        check_finite(m, "the intercept", self.intercept)?;
        check_terms(m, self.drivers.len())?;
        if self.coefficients.len() != self.drivers.len() {
            return Err(invalid(
                m,
                format!(
                    "{} drivers but {} coefficients; give one coefficient per driver",
                    self.drivers.len(),
                    self.coefficients.len()
                ),
            ));
        }
        let mut names = HashSet::new();
        for (d, &c) in self.drivers.iter().zip(&self.coefficients) {
            check_name(m, "a driver", d)?;
            if !names.insert(d.as_str()) {
                return Err(invalid(m, format!("driver {d:?} is named twice")));
            }
            check_finite(m, &format!("the coefficient of {d:?}"), c)?;
        }
        if self.n == 0 || self.n_events > self.n {
            return Err(invalid(
                m,
                format!(
                    "n {} and n_events {}: a model is fitted on rows, and its events are some of them",
                    self.n, self.n_events
                ),
            ));
        }
        Ok(())
    }

    /// The document: `{"model": "logistic", "version": 1, ...}`.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] if serialisation fails (it does not for a model that validates).
    pub fn to_json(&self) -> Result<String> {
        write_document(LOGISTIC, self)
    }

    /// Read a document written by [`to_json`](Self::to_json), checking everything.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] saying what is wrong.
    pub fn from_json(text: &str) -> Result<Self> {
        read_document::<LogisticModelDoc, _>(LOGISTIC, text)
    }

    fn eta(&self, row: usize, value: impl Fn(usize) -> f64) -> Result<Option<f64>> {
        let mut eta = self.intercept;
        for (j, (d, &b)) in self.drivers.iter().zip(&self.coefficients).enumerate() {
            let v = value(j);
            if v.is_nan() {
                return Ok(None);
            }
            if v.is_infinite() {
                return Err(infinite_value(d, row, v));
            }
            eta += b * v;
        }
        Ok(Some(eta))
    }

    /// The probability of the category for one row: `values` per driver in `drivers` order.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`]; [`Error::BadColumn`] naming the driver and the row for a missing
    /// or infinite value.
    pub fn predict_proba_row(&self, row: usize, values: &[f64]) -> Result<f64> {
        if values.len() != self.drivers.len() {
            return Err(Error::LengthMismatch {
                what: "the model's drivers and the row's values",
                left: self.drivers.len(),
                right: values.len(),
            });
        }
        match self.eta(row, |j| values[j])? {
            Some(eta) => Ok(logistic(eta)),
            None => {
                let j = values.iter().position(|v| v.is_nan()).unwrap_or(0);
                Err(missing_value(&self.drivers[j], row, "listwise"))
            }
        }
    }

    /// The probability of the category for rows given as named columns (other columns are not
    /// read). A missing value: an error under [`NanPolicy::Raise`], a NaN probability counted in
    /// `n_omitted` under [`NanPolicy::Omit`].
    ///
    /// # Errors
    /// As [`DriverModel::predict`].
    pub fn predict_proba(
        &self,
        columns: &[(&str, &[f64])],
        nan_policy: NanPolicy,
    ) -> Result<LogisticPredictions> {
        let names: Vec<&str> = self.drivers.iter().map(String::as_str).collect();
        let (cols, n) = columns_of(&names, columns)?;
        let mut out = LogisticPredictions {
            outcome: self.outcome.clone(),
            probability: Vec::with_capacity(n),
            n_omitted: 0,
        };
        for i in 0..n {
            match self.eta(i, |j| cols[j][i])? {
                Some(eta) => out.probability.push(logistic(eta)),
                None if nan_policy == NanPolicy::Omit => {
                    out.n_omitted += 1;
                    out.probability.push(f64::NAN);
                }
                None => {
                    let j = cols.iter().position(|c| c[i].is_nan()).unwrap_or(0);
                    return Err(missing_value(&self.drivers[j], i, "listwise"));
                }
            }
        }
        Ok(out)
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        format!(
            "logistic model of P({}) on {} drivers; n {} ({} in the category)",
            self.outcome,
            self.drivers.len(),
            self.n,
            self.n_events
        )
    }
}

// ----- retention model (sBG) --------------------------------------------------------------------

/// A fitted shifted beta-geometric retention model: α and β of the Beta distribution of churn
/// probabilities. Its forecasts are those of the fit ([`SbgFit::survival_curve`],
/// [`SbgFit::retention_curve`], [`sbg_clv`]).
///
/// ```
/// use cx_metrics::sbg::{sbg_fit, SbgOptions};
/// use cx_metrics::scoring::RetentionModel;
/// let regular = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
/// let fit = sbg_fit(&[&regular], &SbgOptions::default())?;
/// let model = RetentionModel::from_json(&RetentionModel::from_fit(&fit)?.to_json()?)?;
/// assert_eq!(model.survival_curve(12)?, fit.survival_curve(12));
/// # Ok::<(), cx_metrics::Error>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RetentionModelDoc", into = "RetentionModelDoc")]
pub struct RetentionModel {
    /// α of the Beta distribution of churn probabilities.
    pub alpha: f64,
    /// β of the Beta distribution of churn probabilities.
    pub beta: f64,
    /// Customers at the start of every cohort fitted.
    pub n_customers: f64,
    /// The maximised log-likelihood of the fit.
    pub log_likelihood: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionModelDoc {
    model: String,
    version: u32,
    alpha: f64,
    beta: f64,
    n_customers: f64,
    log_likelihood: f64,
}

const RETENTION: &str = "retention";

impl From<RetentionModel> for RetentionModelDoc {
    fn from(m: RetentionModel) -> Self {
        Self {
            model: RETENTION.to_owned(),
            version: MODEL_FORMAT_VERSION,
            alpha: m.alpha,
            beta: m.beta,
            n_customers: m.n_customers,
            log_likelihood: m.log_likelihood,
        }
    }
}

impl TryFrom<RetentionModelDoc> for RetentionModel {
    type Error = Error;
    fn try_from(d: RetentionModelDoc) -> Result<Self> {
        check_head(RETENTION, &d.model, d.version)?;
        let m = Self {
            alpha: d.alpha,
            beta: d.beta,
            n_customers: d.n_customers,
            log_likelihood: d.log_likelihood,
        };
        m.validate()?;
        Ok(m)
    }
}

fn check_positive(model: &'static str, what: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(
            model,
            format!("{what} is {v}; it must be finite and > 0"),
        ))
    }
}

impl RetentionModel {
    /// The model of a fitted sBG: its parameters, their intervals, the customers and the
    /// log-likelihood (not the cohorts' data, nor the intervals).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the fit did not converge or a parameter is not finite and > 0.
    pub fn from_fit(fit: &SbgFit) -> Result<Self> {
        if !fit.converged {
            return Err(Error::invalid(
                "fit",
                format!(
                    "the sBG fit did not converge ({}); it cannot forecast",
                    fit.message
                ),
            ));
        }
        let m = Self {
            alpha: fit.alpha,
            beta: fit.beta,
            n_customers: fit.n_customers,
            log_likelihood: fit.log_likelihood,
        };
        m.validate().map_err(|e| match e {
            Error::InvalidModel { message, .. } => Error::invalid("fit", message),
            other => other,
        })?;
        Ok(m)
    }

    fn validate(&self) -> Result<()> {
        let m = RETENTION;
        check_positive(m, "alpha", self.alpha)?;
        check_positive(m, "beta", self.beta)?;
        check_positive(m, "n_customers", self.n_customers)?;
        check_finite(m, "the log-likelihood", self.log_likelihood)?;
        Ok(())
    }

    /// The parameters as a fit, for the core's forecast functions (no cohorts, no diagnostics).
    fn fit(&self) -> SbgFit {
        SbgFit {
            alpha: self.alpha,
            beta: self.beta,
            alpha_ci: Interval::new(f64::NAN, f64::NAN, f64::NAN),
            beta_ci: Interval::new(f64::NAN, f64::NAN, f64::NAN),
            alpha_std_error: f64::NAN,
            beta_std_error: f64::NAN,
            covariance: [f64::NAN; 4],
            log_likelihood: self.log_likelihood,
            converged: true,
            boundary: false,
            iterations: 0,
            gradient_norm: f64::NAN,
            condition_number: f64::NAN,
            message: "restored from a model document".to_owned(),
            cohorts: Vec::new(),
            n_customers: self.n_customers,
        }
    }

    fn check_horizon(horizon: u32) -> Result<()> {
        if horizon > MAX_HORIZON {
            return Err(Error::invalid(
                "horizon",
                format!("{horizon} periods; at most {MAX_HORIZON}"),
            ));
        }
        Ok(())
    }

    /// S(0), …, S(`horizon`): the share of a cohort still there after each period.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a horizon above [`MAX_HORIZON`].
    pub fn survival_curve(&self, horizon: u32) -> Result<Vec<f64>> {
        Self::check_horizon(horizon)?;
        Ok(self.fit().survival_curve(horizon))
    }

    /// r₁, …, r_`horizon`: the retention rate of each period among those still there.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a horizon above [`MAX_HORIZON`].
    pub fn retention_curve(&self, horizon: u32) -> Result<Vec<f64>> {
        Self::check_horizon(horizon)?;
        Ok(self.fit().retention_curve(horizon))
    }

    /// The lifetime value of a customer who has renewed `renewals` times ([`sbg_clv`]).
    ///
    /// # Errors
    /// Those of [`sbg_clv`].
    pub fn clv(
        &self,
        margin: f64,
        discount_rate: f64,
        renewals: u32,
        horizon: Horizon,
        timing: DiscountTiming,
        time_unit: PeriodUnit,
    ) -> Result<ClvResult> {
        sbg_clv(
            &self.fit(),
            margin,
            discount_rate,
            renewals,
            horizon,
            timing,
            time_unit,
        )
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        format!(
            "sBG retention model alpha {:.4}, beta {:.4}; {} customers, log-likelihood {:.4}",
            self.alpha, self.beta, self.n_customers, self.log_likelihood
        )
    }

    /// The document: `{"model": "retention", "version": 1, ...}`.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] if serialisation fails.
    pub fn to_json(&self) -> Result<String> {
        write_document(RETENTION, self)
    }

    /// Read a document written by [`to_json`](Self::to_json), checking everything.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] saying what is wrong.
    pub fn from_json(text: &str) -> Result<Self> {
        read_document::<RetentionModelDoc, _>(RETENTION, text)
    }
}

// ----- lifetime-value model (BG/NBD × Gamma–Gamma) ----------------------------------------------

/// A fitted BG/NBD purchase model and, optionally, a Gamma–Gamma spend model: the parameters only.
/// Its forecasts are those of the fits ([`BgNbdFit::expected_purchases`], [`BgNbdFit::p_alive_of`],
/// [`BgNbdFit::conditional_expected_purchases_of`], [`GammaGammaFit::expected_spend_of`],
/// [`bgnbd_clv`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ClvModelDoc", into = "ClvModelDoc")]
pub struct ClvModel {
    /// BG/NBD r, α, a, b.
    pub bgnbd: [f64; 4],
    /// The time unit of recency, T and every time argument of the BG/NBD model.
    pub time_unit: PeriodUnit,
    /// Gamma–Gamma p, q, γ (`None`: no spend model; the lifetime value needs one).
    pub gamma_gamma: Option<[f64; 3]>,
    /// Customers the BG/NBD model was fitted on.
    pub n_customers: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClvModelDoc {
    model: String,
    version: u32,
    bgnbd: [f64; 4],
    time_unit: PeriodUnit,
    gamma_gamma: Option<[f64; 3]>,
    n_customers: u64,
}

const CLV: &str = "clv";

impl From<ClvModel> for ClvModelDoc {
    fn from(m: ClvModel) -> Self {
        Self {
            model: CLV.to_owned(),
            version: MODEL_FORMAT_VERSION,
            bgnbd: m.bgnbd,
            time_unit: m.time_unit,
            gamma_gamma: m.gamma_gamma,
            n_customers: m.n_customers,
        }
    }
}

impl TryFrom<ClvModelDoc> for ClvModel {
    type Error = Error;
    fn try_from(d: ClvModelDoc) -> Result<Self> {
        check_head(CLV, &d.model, d.version)?;
        let m = Self {
            bgnbd: d.bgnbd,
            time_unit: d.time_unit,
            gamma_gamma: d.gamma_gamma,
            n_customers: d.n_customers,
        };
        m.validate()?;
        Ok(m)
    }
}

fn no_diagnostics() -> FitDiagnostics {
    FitDiagnostics {
        log_likelihood: f64::NAN,
        converged: true,
        iterations: 0,
        gradient_norm: f64::NAN,
        condition_number: f64::NAN,
        covariance: Vec::new(),
        message: "restored from a model document".to_owned(),
    }
}

impl ClvModel {
    /// The model of a fitted BG/NBD and, optionally, Gamma–Gamma model.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a fit did not converge or a parameter is not finite and > 0.
    pub fn from_fits(purchases: &BgNbdFit, spend: Option<&GammaGammaFit>) -> Result<Self> {
        let converged =
            purchases.diagnostics.converged && spend.is_none_or(|s| s.diagnostics.converged);
        if !converged {
            return Err(Error::invalid(
                "fit",
                "a fit did not converge; it cannot forecast",
            ));
        }
        let m = Self {
            bgnbd: purchases.params(),
            time_unit: purchases.time_unit,
            gamma_gamma: spend.map(|s| [s.p, s.q, s.gamma]),
            n_customers: purchases.n_customers,
        };
        m.validate().map_err(|e| match e {
            Error::InvalidModel { message, .. } => Error::invalid("fit", message),
            other => other,
        })?;
        Ok(m)
    }

    fn validate(&self) -> Result<()> {
        for (name, v) in ["r", "alpha", "a", "b"].iter().zip(self.bgnbd) {
            check_positive(CLV, name, v)?;
        }
        if let Some(gg) = self.gamma_gamma {
            for (name, v) in ["p", "q", "gamma"].iter().zip(gg) {
                check_positive(CLV, name, v)?;
            }
        }
        if self.n_customers == 0 {
            return Err(invalid(
                CLV,
                "n_customers is 0; a model is fitted on customers",
            ));
        }
        Ok(())
    }

    /// The BG/NBD parameters as a fit, for the core's forecast functions.
    fn purchases(&self) -> BgNbdFit {
        let [r, alpha, a, b] = self.bgnbd;
        BgNbdFit {
            r,
            alpha,
            a,
            b,
            std_errors: vec![f64::NAN; 4],
            time_unit: self.time_unit,
            n_customers: self.n_customers,
            n_repeat: 0,
            diagnostics: no_diagnostics(),
        }
    }

    fn spend(&self) -> Result<GammaGammaFit> {
        let Some([p, q, gamma]) = self.gamma_gamma else {
            return Err(Error::invalid(
                "model",
                "it has no Gamma-Gamma spend model; build it with one to forecast spend and \
                 lifetime value",
            ));
        };
        Ok(GammaGammaFit {
            p,
            q,
            gamma,
            std_errors: vec![f64::NAN; 3],
            n_customers: 0,
            n_excluded: 0,
            frequency_spend_correlation: f64::NAN,
            diagnostics: no_diagnostics(),
        })
    }

    /// E[X(t)]: expected purchases in `t` time units of a customer just acquired.
    ///
    /// # Errors
    /// Those of [`BgNbdFit::expected_purchases`].
    pub fn expected_purchases(&self, t: f64) -> Result<f64> {
        self.purchases().expected_purchases(t)
    }

    /// P(alive) of every customer of `rfm`.
    ///
    /// # Errors
    /// Those of [`BgNbdFit::p_alive_of`], naming the row.
    pub fn p_alive(&self, rfm: &Rfm<'_>) -> Result<Vec<f64>> {
        self.purchases().p_alive_of(rfm)
    }

    /// E[Y(t) | history]: expected purchases of every customer of `rfm` in the next `t` time units.
    ///
    /// # Errors
    /// Those of [`BgNbdFit::conditional_expected_purchases_of`].
    pub fn conditional_expected_purchases(&self, t: f64, rfm: &Rfm<'_>) -> Result<Vec<f64>> {
        self.purchases().conditional_expected_purchases_of(t, rfm)
    }

    /// E[spend per purchase | x, m̄] of every customer.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] without a spend model; those of
    /// [`GammaGammaFit::expected_spend_of`].
    pub fn expected_spend(&self, frequency: &[f64], mean_spend: &[f64]) -> Result<Vec<f64>> {
        self.spend()?.expected_spend_of(frequency, mean_spend)
    }

    /// The lifetime value of every customer of `rfm` ([`bgnbd_clv`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] without a spend model; those of [`bgnbd_clv`].
    #[allow(clippy::too_many_arguments)]
    pub fn clv(
        &self,
        rfm: &Rfm<'_>,
        mean_spend: &[f64],
        margin: f64,
        discount_rate: f64,
        horizon: Horizon,
        timing: DiscountTiming,
        time_unit: PeriodUnit,
    ) -> Result<CustomerClv> {
        bgnbd_clv(
            &self.purchases(),
            &self.spend()?,
            rfm,
            mean_spend,
            margin,
            discount_rate,
            horizon,
            timing,
            time_unit,
        )
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        let [r, alpha, a, b] = self.bgnbd;
        let spend = self.gamma_gamma.map_or_else(
            || "no spend model".to_owned(),
            |[p, q, g]| format!("Gamma-Gamma p {p:.4}, q {q:.4}, gamma {g:.4}"),
        );
        format!(
            "BG/NBD r {r:.4}, alpha {alpha:.4} ({}s), a {a:.4}, b {b:.4}; {spend}; {} customers",
            self.time_unit, self.n_customers
        )
    }

    /// The document: `{"model": "clv", "version": 1, ...}`.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] if serialisation fails.
    pub fn to_json(&self) -> Result<String> {
        write_document(CLV, self)
    }

    /// Read a document written by [`to_json`](Self::to_json), checking everything.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] saying what is wrong.
    pub fn from_json(text: &str) -> Result<Self> {
        read_document::<ClvModelDoc, _>(CLV, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buy_till_you_die::{bgnbd_fit, gamma_gamma_fit, BtydOptions};
    use crate::drivers::{driver_analysis, DriverOptions};
    use crate::logistic::{detractor_model, promoter_model, LogisticOptions};
    use crate::sbg::{sbg_fit, SbgOptions};
    use nalgebra::{DMatrix, DVector};

    const PILLARS: [&str; 6] = [
        "integrity",
        "resolution",
        "expectations",
        "time_and_effort",
        "personalisation",
        "empathy",
    ];

    /// The sample survey bundled with the Python package: `ltr`, `weight` and the six pillars
    /// (blank: NaN).
    struct Survey {
        ltr: Vec<f64>,
        weight: Vec<f64>,
        pillars: Vec<Vec<f64>>,
    }

    fn survey() -> Survey {
        let text = include_str!("../../../python/cx_metrics/data/sample_survey.csv");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (ltr_at, w_at) = (at("ltr"), at("weight"));
        let p_at: Vec<usize> = PILLARS.iter().map(|p| at(p)).collect();
        let mut s = Survey {
            ltr: Vec::new(),
            weight: Vec::new(),
            pillars: vec![Vec::new(); 6],
        };
        let num = |v: &str| {
            if v.is_empty() {
                f64::NAN
            } else {
                v.parse().unwrap()
            }
        };
        for line in lines {
            let f: Vec<&str> = line.split(',').collect();
            s.ltr.push(num(f[ltr_at]));
            s.weight.push(num(f[w_at]));
            for (k, &j) in p_at.iter().enumerate() {
                s.pillars[k].push(num(f[j]));
            }
        }
        s
    }

    impl Survey {
        fn drivers(&self) -> Vec<(&str, &[f64])> {
            PILLARS
                .iter()
                .zip(&self.pillars)
                .map(|(n, c)| (*n, c.as_slice()))
                .collect()
        }
    }

    /// Weighted least squares by nalgebra's Householder QR of `√w·X` with two steps of iterative
    /// refinement (independent of the core's solver): the fitted values `Xβ` of the rows of `x`.
    fn reference_fitted(x: &DMatrix<f64>, y: &DVector<f64>, w: &[f64]) -> DVector<f64> {
        let mut xs = x.clone();
        let mut ys = y.clone();
        for i in 0..x.nrows() {
            let s = w[i].sqrt();
            xs.row_mut(i).scale_mut(s);
            ys[i] *= s;
        }
        let qr = xs.clone().qr();
        let (q, r) = (qr.q(), qr.r());
        let solve = |rhs: &DVector<f64>| r.solve_upper_triangular(&(q.transpose() * rhs)).unwrap();
        let mut beta = solve(&ys);
        for _ in 0..2 {
            let residual = &ys - &xs * &beta;
            beta += solve(&residual);
        }
        x * beta
    }

    /// The complete rows (outcome and every pillar present) as a design with an intercept.
    fn complete_rows(s: &Survey) -> (Vec<usize>, DMatrix<f64>, DVector<f64>) {
        let rows: Vec<usize> = (0..s.ltr.len())
            .filter(|&i| !s.ltr[i].is_nan() && s.pillars.iter().all(|c| !c[i].is_nan()))
            .collect();
        let x = DMatrix::from_fn(rows.len(), 7, |r, c| {
            if c == 0 {
                1.0
            } else {
                s.pillars[c - 1][rows[r]]
            }
        });
        let y = DVector::from_iterator(rows.len(), rows.iter().map(|&i| s.ltr[i]));
        (rows, x, y)
    }

    fn listwise_model(s: &Survey, weighted: bool) -> (DriverAnalysis, DriverModel) {
        let options = DriverOptions::default().with_scales(&PILLARS, 1.0, 10.0);
        let w = weighted.then_some(s.weight.as_slice());
        let a = driver_analysis(&s.ltr, &s.drivers(), w, &options).unwrap();
        let m = DriverModel::from_analysis(&a).unwrap();
        (a, m)
    }

    #[test]
    fn predictions_are_the_fitted_values_of_the_analysis() {
        let s = survey();
        for weighted in [false, true] {
            let (a, m) = listwise_model(&s, weighted);
            assert_eq!(m.coefficients().len(), 6);
            assert_eq!(m.intercept, a.regression.coefficients[0].estimate);
            let p = m.predict(&s.drivers(), NanPolicy::Omit).unwrap();
            let (rows, x, y) = complete_rows(&s);
            // Rows with a missing pillar cannot be scored by a listwise model: NaN, counted.
            let incomplete = (0..s.ltr.len())
                .filter(|&i| s.pillars.iter().any(|c| c[i].is_nan()))
                .count();
            assert_eq!(p.n_omitted, incomplete);
            let w: Vec<f64> = rows
                .iter()
                .map(|&i| if weighted { s.weight[i] } else { 1.0 })
                .collect();
            let want = reference_fitted(&x, &y, &w);
            let mut rss = 0.0;
            for (r, &i) in rows.iter().enumerate() {
                // Tolerance: 1e-12 on a 0–10 scale (the two least-squares solutions agree to
                // about 1e-14 relative).
                assert!(
                    (p.unclipped[i] - want[r]).abs() < 1e-12,
                    "row {i}: {} vs {}",
                    p.unclipped[i],
                    want[r]
                );
                assert_eq!(p.predicted[i], p.unclipped[i].clamp(0.0, 10.0));
                rss += w[r] * (y[r] - p.unclipped[i]).powi(2);
            }
            // The residual sum of squares of the predictions is the analysis's (relative 1e-12).
            assert!(((rss - a.regression.rss) / a.regression.rss).abs() < 1e-12);
            assert_eq!(m.n, a.n);
        }
    }

    #[test]
    fn indicator_models_fill_as_the_analysis_did() {
        let s = survey();
        let options = DriverOptions::default()
            .with_scales(&PILLARS, 1.0, 10.0)
            .with_indicator_for(&["resolution"]);
        let a = driver_analysis(&s.ltr, &s.drivers(), None, &options).unwrap();
        let m = DriverModel::from_analysis(&a).unwrap();
        assert_eq!(m.indicators.len(), 1);
        assert_eq!(m.indicators[0].name, "resolution_missing");
        // The analysed rows: outcome and every pillar but resolution present.
        let rows: Vec<usize> = (0..s.ltr.len())
            .filter(|&i| {
                !s.ltr[i].is_nan()
                    && s.pillars
                        .iter()
                        .enumerate()
                        .all(|(k, c)| k == 1 || !c[i].is_nan())
            })
            .collect();
        let observed: Vec<f64> = rows
            .iter()
            .map(|&i| s.pillars[1][i])
            .filter(|v| !v.is_nan())
            .collect();
        let mean = observed.iter().sum::<f64>() / observed.len() as f64;
        assert!((m.indicators[0].fill_value - mean).abs() < 1e-12);
        let x = DMatrix::from_fn(rows.len(), 8, |r, c| {
            let i = rows[r];
            match c {
                0 => 1.0,
                2 if s.pillars[1][i].is_nan() => mean,
                7 => f64::from(u8::from(s.pillars[1][i].is_nan())),
                _ => s.pillars[c - 1][i],
            }
        });
        let y = DVector::from_iterator(rows.len(), rows.iter().map(|&i| s.ltr[i]));
        let want = reference_fitted(&x, &y, &vec![1.0; rows.len()]);
        let p = m.predict(&s.drivers(), NanPolicy::Raise);
        // Rows missing another pillar cannot be scored: raise names the driver and the row.
        let e = p.unwrap_err().to_string();
        assert!(
            e.contains("row ") && e.contains("missing=\"indicator\""),
            "{e}"
        );
        let p = m.predict(&s.drivers(), NanPolicy::Omit).unwrap();
        // Scoring reads only the drivers: rows missing a pillar other than resolution are omitted.
        let unscorable = (0..s.ltr.len())
            .filter(|&i| (0..6).any(|k| k != 1 && s.pillars[k][i].is_nan()))
            .count();
        assert_eq!(p.n_omitted, unscorable);
        for (r, &i) in rows.iter().enumerate() {
            assert!((p.unclipped[i] - want[r]).abs() < 1e-12, "row {i}");
        }
        let filled = rows.iter().filter(|&&i| s.pillars[1][i].is_nan()).count();
        assert!(p.n_filled >= filled && filled > 0);
    }

    #[test]
    fn documents_round_trip_exactly() {
        let s = survey();
        let (_, m) = listwise_model(&s, true);
        let text = m.to_json().unwrap();
        assert!(
            text.starts_with(r#"{"model":"driver","version":1,"#),
            "{text}"
        );
        let back = DriverModel::from_json(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.to_json().unwrap(), text);
        // Small: parameters only, whatever n (2000 rows here).
        assert!(text.len() < 4096, "{}", text.len());
        let p = promoter_model(&s.ltr, &s.drivers(), None, &LogisticOptions::default()).unwrap();
        let lm = LogisticModel::from_regression(&p).unwrap();
        let lt = lm.to_json().unwrap();
        assert_eq!(LogisticModel::from_json(&lt).unwrap(), lm);
        assert!(lt.starts_with(r#"{"model":"logistic","version":1,"#));
        // serde goes through the same checks.
        let via_serde: DriverModel = serde_json::from_str(&text).unwrap();
        assert_eq!(via_serde, m);
        assert!(serde_json::from_str::<DriverModel>(&lt).is_err());
    }

    fn hostile(text: &str) -> String {
        match DriverModel::from_json(text) {
            Err(e @ Error::InvalidModel { .. }) => e.to_string(),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn hostile_documents_are_typed_errors() {
        let s = survey();
        let options = DriverOptions::default()
            .with_scales(&PILLARS, 1.0, 10.0)
            .with_indicator_for(&["resolution"]);
        let a = driver_analysis(&s.ltr, &s.drivers(), None, &options).unwrap();
        let text = DriverModel::from_analysis(&a).unwrap().to_json().unwrap();
        let edit = |from: &str, to: &str| {
            assert!(text.contains(from), "{from}");
            text.replacen(from, to, 1)
        };
        assert!(hostile(&edit(r#""version":1"#, r#""version":2"#)).contains("format version 2"));
        assert!(
            hostile(&edit(r#""model":"driver""#, r#""model":"logistic""#))
                .contains("\"logistic\" model")
        );
        assert!(hostile(&edit(r#""intercept":"#, r#""intercept":NaN,"x":"#)).contains("line 1"));
        assert!(hostile(&edit(r#""intercept":"#, r#""intercept":null,"x":"#)).contains("invalid"));
        assert!(hostile(&edit(r#""intercept":"#, r#""intercept":1e999,"x":"#)).contains("invalid"));
        assert!(hostile(&edit(r#""n":"#, r#""rows":[1,2,3],"n":"#)).contains("unknown field"));
        assert!(
            hostile(&edit(r#""name":"empathy""#, r#""name":"integrity""#)).contains("named twice")
        );
        assert!(
            hostile(&edit(r#""driver":"resolution""#, r#""driver":"brand""#))
                .contains("not a driver")
        );
        assert!(
            hostile(&edit(r#""missing":"indicator""#, r#""missing":"listwise""#))
                .contains("has indicators")
        );
        assert!(
            hostile(&edit(r#""scale":[1.0,10.0]"#, r#""scale":[10.0,1.0]"#))
                .contains("finite min < max")
        );
        assert!(hostile(&edit(r#""n":"#, r#""n":0,"r":"#)).contains("invalid"));
        // Absurd sizes: too many bytes, too many drivers, an absurd name.
        let big = format!("{} {}", text, " ".repeat(MAX_DOCUMENT_BYTES));
        assert!(hostile(&big).contains("bytes"));
        let many: Vec<String> = (0..MAX_MODEL_TERMS + 1)
            .map(|k| format!(r#"{{"name":"d{k}","coefficient":0.5,"scale":null}}"#))
            .collect();
        let doc = format!(
            r#"{{"model":"driver","version":1,"outcome":"ltr","outcome_scale":[0.0,10.0],"intercept":1.0,"drivers":[{}],"missing":"listwise","n":10,"r_squared":0.5,"sigma":1.0}}"#,
            many.join(",")
        );
        assert!(hostile(&doc).contains("drivers; a model has 1 to"));
        let long = format!(
            r#"{{"model":"driver","version":1,"outcome":"ltr","outcome_scale":null,"intercept":1.0,"drivers":[{{"name":"{}","coefficient":0.5,"scale":null}}],"missing":"listwise","n":10,"r_squared":0.5,"sigma":1.0}}"#,
            "x".repeat(MAX_NAME_BYTES + 1)
        );
        assert!(hostile(&long).contains("bytes"));
        // Every truncation is an error; every one-byte change is an error or a valid model; no panic.
        for cut in 0..text.len() {
            hostile(&text[..cut]);
        }
        for (k, _) in text.char_indices().step_by(3) {
            for b in ['0', '"', '}', '-', 'e', '9'] {
                let mut t = text.clone();
                t.replace_range(k..k + 1, &b.to_string());
                if let Ok(m) = DriverModel::from_json(&t) {
                    m.validate().unwrap();
                }
            }
        }
        // Logistic documents: lengths must agree, coefficients be finite.
        let p =
            promoter_model(&s.ltr, &s.drivers()[..2], None, &LogisticOptions::default()).unwrap();
        let lt = LogisticModel::from_regression(&p)
            .unwrap()
            .to_json()
            .unwrap();
        let lhostile = |t: String| match LogisticModel::from_json(&t) {
            Err(e @ Error::InvalidModel { .. }) => e.to_string(),
            other => panic!("{t}: {other:?}"),
        };
        let short = lt.replacen(r#""coefficients":["#, r#""coefficients":[0.1,"#, 1);
        assert!(lhostile(short).contains("coefficients; give one coefficient per driver"));
        let events = lt.replacen(r#""n_events":"#, r#""n_events":99999,"x":"#, 1);
        assert!(lhostile(events).contains("invalid"));
    }

    #[test]
    fn bad_rows_are_typed_errors_naming_driver_and_row() {
        let s = survey();
        let (_, m) = listwise_model(&s, false);
        let good = [7.0, 8.0, 7.0, 6.0, 7.0, 8.0];
        let p = m.predict_row(0, &good).unwrap();
        assert_eq!(p.filled, 0);
        let mut off = good;
        off[3] = 11.0;
        match m.predict_row(41, &off).unwrap_err() {
            Error::OutOfScale {
                column,
                index,
                value,
                ..
            } => assert_eq!(
                (column.as_str(), index, value),
                ("time_and_effort", 41, 11.0)
            ),
            e => panic!("{e:?}"),
        }
        let mut gap = good;
        gap[5] = f64::NAN;
        let e = m.predict_row(7, &gap).unwrap_err().to_string();
        assert!(e.contains("\"empathy\"") && e.contains("row 7"), "{e}");
        gap[5] = f64::INFINITY;
        assert!(m
            .predict_row(7, &gap)
            .unwrap_err()
            .to_string()
            .contains("infinite"));
        assert!(matches!(
            m.predict_row(0, &good[..5]),
            Err(Error::LengthMismatch { .. })
        ));
        let cols = s.drivers();
        assert!(matches!(
            m.predict(&cols[..5], NanPolicy::Omit),
            Err(Error::UnknownColumn { .. })
        ));
        let short = [1.0];
        let mut bad = cols.clone();
        bad[0] = ("integrity", &short);
        assert!(matches!(
            m.predict(&bad, NanPolicy::Omit),
            Err(Error::LengthMismatch { .. })
        ));
        // Predictions are clipped to 0–10; the unclipped value is kept.
        let low = m.predict_row(0, &[1.0; 6]).unwrap();
        let high = m.predict_row(0, &[10.0; 6]).unwrap();
        assert_eq!(low.predicted, low.unclipped.clamp(0.0, 10.0));
        assert!(high.unclipped > 10.0 && high.predicted == 10.0, "{high:?}");
    }

    #[test]
    fn declared_missing_codes_are_missing_values_when_scoring() {
        let ltr = [9.0, 7.0, 10.0, 4.0, 8.0, 6.0, 9.0, 3.0, 7.0, 10.0, 8.0, 5.0];
        let ease = [6.0, 99.0, 7.0, 2.0, 5.0, 4.0, 7.0, 1.0, 99.0, 6.0, 5.0, 3.0];
        let speed = [5.0, 6.0, 6.0, 3.0, 4.0, 5.0, 5.0, 2.0, 6.0, 7.0, 6.0, 4.0];
        let options = DriverOptions::default()
            .with_scales(&["ease", "speed"], 1.0, 7.0)
            .with_missing_codes(&["ease"], &[99.0])
            .with_indicator_for(&["ease"]);
        let a =
            driver_analysis(&ltr, &[("ease", &ease), ("speed", &speed)], None, &options).unwrap();
        let m = DriverModel::from_analysis(&a).unwrap();
        assert_eq!(m.drivers[0].missing_codes, [99.0]);
        let p = m
            .predict(&[("ease", &ease), ("speed", &speed)], NanPolicy::Raise)
            .unwrap();
        assert_eq!(p.n_filled, 2);
        // The analysis's residuals are y − ŷ of the same rows: RSS agrees.
        let rss: f64 = ltr
            .iter()
            .zip(&p.unclipped)
            .map(|(y, f)| (y - f).powi(2))
            .sum();
        assert!(((rss - a.regression.rss) / a.regression.rss).abs() < 1e-12);
    }

    #[test]
    fn logistic_probabilities_are_those_of_the_fit() {
        let s = survey();
        let o = LogisticOptions::default();
        for fit in [
            promoter_model(&s.ltr, &s.drivers(), None, &o).unwrap(),
            detractor_model(&s.ltr, &s.drivers(), None, &o).unwrap(),
        ] {
            let m = LogisticModel::from_regression(&fit).unwrap();
            let p = m.predict_proba(&s.drivers(), NanPolicy::Omit).unwrap();
            let incomplete = (0..s.ltr.len())
                .filter(|&i| s.pillars.iter().any(|c| c[i].is_nan()))
                .count();
            assert_eq!(p.n_omitted, incomplete);
            // The log-likelihood of the probabilities on the fitted rows is the fit's (relative
            // 1e-12): the probabilities are the fitted ones.
            let target = |y: f64| match fit.outcome.as_str() {
                "promoter" => y >= 9.0,
                _ => y <= 6.0,
            };
            let ll: f64 = (0..s.ltr.len())
                .filter(|&i| !s.ltr[i].is_nan() && !p.probability[i].is_nan())
                .map(|i| {
                    let q = p.probability[i];
                    if target(s.ltr[i]) {
                        q.ln()
                    } else {
                        (1.0 - q).ln()
                    }
                })
                .sum();
            assert!(
                ((ll - fit.log_likelihood) / fit.log_likelihood).abs() < 1e-12,
                "{ll}"
            );
        }
        // Stable in both tails.
        let m = LogisticModel {
            outcome: "promoter".into(),
            intercept: 0.0,
            drivers: vec!["x".into()],
            coefficients: vec![1.0],
            n: 10,
            n_events: 5,
        };
        assert_eq!(m.predict_proba_row(0, &[800.0]).unwrap(), 1.0);
        assert_eq!(m.predict_proba_row(0, &[-800.0]).unwrap(), 0.0);
        let tiny = m.predict_proba_row(0, &[-700.0]).unwrap();
        assert!(tiny > 0.0 && ((tiny - (-700.0f64).exp()) / tiny).abs() < 1e-12);
        assert!(m
            .predict_proba_row(3, &[f64::NAN])
            .unwrap_err()
            .to_string()
            .contains("row 3"));
    }

    #[test]
    fn retention_forecasts_are_the_fits() {
        // Fader & Hardie (2007), "regular" customers.
        let regular = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
        let fit = sbg_fit(&[&regular], &SbgOptions::default()).unwrap();
        let m =
            RetentionModel::from_json(&RetentionModel::from_fit(&fit).unwrap().to_json().unwrap())
                .unwrap();
        assert_eq!(m.survival_curve(24).unwrap(), fit.survival_curve(24));
        assert_eq!(m.retention_curve(24).unwrap(), fit.retention_curve(24));
        // Independent: S(t) = B(α, β + t)/B(α, β) (relative 1e-12).
        for (t, s) in m.survival_curve(24).unwrap().iter().enumerate() {
            let want = (statrs::function::beta::ln_beta(m.alpha, m.beta + t as f64)
                - statrs::function::beta::ln_beta(m.alpha, m.beta))
            .exp();
            assert!(((s - want) / want).abs() < 1e-12, "t {t}: {s} vs {want}");
        }
        let args = (
            100.0,
            0.1,
            0,
            Horizon::Infinite,
            DiscountTiming::Start,
            PeriodUnit::Year,
        );
        let got = m
            .clv(args.0, args.1, args.2, args.3, args.4, args.5)
            .unwrap();
        let want = sbg_clv(&fit, args.0, args.1, args.2, args.3, args.4, args.5).unwrap();
        assert_eq!(got, want);
        assert!(m.survival_curve(MAX_HORIZON + 1).is_err());
        let bad = m
            .to_json()
            .unwrap()
            .replacen(r#""alpha":"#, r#""alpha":-1,"x":"#, 1);
        assert!(matches!(
            RetentionModel::from_json(&bad),
            Err(Error::InvalidModel { .. })
        ));
    }

    #[test]
    fn clv_forecasts_are_the_fits() {
        let text = include_str!("../../../python/cx_metrics/data/cdnow_summary.csv");
        let mut cols: [Vec<f64>; 4] = Default::default();
        for line in text.lines().skip(1) {
            for (k, v) in line.split(',').skip(1).take(4).enumerate() {
                cols[k].push(v.parse().unwrap());
            }
        }
        let [x, tx, t, spend] = cols;
        let rfm = Rfm {
            frequency: &x,
            recency: &tx,
            t: &t,
        };
        let fit = bgnbd_fit(&rfm, &BtydOptions::default()).unwrap();
        let gg = gamma_gamma_fit(&x, &spend, &BtydOptions::default()).unwrap();
        let m = ClvModel::from_json(
            &ClvModel::from_fits(&fit, Some(&gg))
                .unwrap()
                .to_json()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(m.p_alive(&rfm).unwrap(), fit.p_alive_of(&rfm).unwrap());
        assert_eq!(
            m.conditional_expected_purchases(39.0, &rfm).unwrap(),
            fit.conditional_expected_purchases_of(39.0, &rfm).unwrap()
        );
        assert_eq!(
            m.expected_purchases(39.0).unwrap(),
            fit.expected_purchases(39.0).unwrap()
        );
        assert_eq!(
            m.expected_spend(&x, &spend).unwrap(),
            gg.expected_spend_of(&x, &spend).unwrap()
        );
        // Hardie's spreadsheet: E[Y(39) | x = 2, t_x = 30.43, T = 38.86] = 1.226 at the published
        // parameters; the fitted ones agree to 3 decimals, the value to 1e-3.
        let one = Rfm {
            frequency: &[2.0],
            recency: &[30.43],
            t: &[38.86],
        };
        let y = m.conditional_expected_purchases(39.0, &one).unwrap()[0];
        assert!((y - 1.226).abs() < 1e-3, "{y}");
        let h = Horizon::Finite {
            count: 12,
            unit: PeriodUnit::Week,
        };
        let got = m
            .clv(
                &rfm,
                &spend,
                0.3,
                0.01,
                h,
                DiscountTiming::End,
                PeriodUnit::Week,
            )
            .unwrap();
        let want = bgnbd_clv(
            &fit,
            &gg,
            &rfm,
            &spend,
            0.3,
            0.01,
            h,
            DiscountTiming::End,
            PeriodUnit::Week,
        )
        .unwrap();
        assert_eq!(got, want);
        let no_spend = ClvModel::from_fits(&fit, None).unwrap();
        assert!(no_spend.expected_spend(&x, &spend).is_err());
        let bad = m
            .to_json()
            .unwrap()
            .replacen(r#""bgnbd":["#, r#""bgnbd":[1,"#, 1);
        assert!(matches!(
            ClvModel::from_json(&bad),
            Err(Error::InvalidModel { .. })
        ));
    }

    /// The model bundled with the `live_scores` example: `ltr` on the six pillars of the sample
    /// survey (unweighted), scales 1–10, `resolution` filled by the indicator method.
    fn example_model() -> DriverModel {
        let s = survey();
        let options = DriverOptions::default()
            .with_scales(&PILLARS, 1.0, 10.0)
            .with_indicator_for(&["resolution"]);
        let a = driver_analysis(&s.ltr, &s.drivers(), None, &options).unwrap();
        DriverModel::from_analysis(&a).unwrap()
    }

    const EXAMPLE_MODEL: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/driver_model.json"
    );

    #[test]
    fn the_bundled_example_model_is_the_sample_surveys() {
        let text = std::fs::read_to_string(EXAMPLE_MODEL).unwrap();
        let bundled = DriverModel::from_json(&text).unwrap();
        let fresh = example_model();
        assert_eq!(bundled.driver_names(), fresh.driver_names());
        assert_eq!((bundled.n, bundled.missing), (fresh.n, fresh.missing));
        // Written by `write_example_model`; the same fit to 1e-12 on any platform.
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(bundled.intercept, fresh.intercept));
        for (a, b) in bundled.drivers.iter().zip(&fresh.drivers) {
            assert!(close(a.coefficient, b.coefficient) && a.scale == b.scale);
        }
        for (a, b) in bundled.indicators.iter().zip(&fresh.indicators) {
            assert!(close(a.coefficient, b.coefficient) && close(a.fill_value, b.fill_value));
        }
    }

    /// Write the bundled example model: `cargo test -p cx-metrics --lib scoring -- --ignored
    /// write_example_model`.
    #[test]
    #[ignore = "writes examples/data/driver_model.json"]
    fn write_example_model() {
        let text = example_model().to_json().unwrap();
        std::fs::write(EXAMPLE_MODEL, text + "\n").unwrap();
    }
}
