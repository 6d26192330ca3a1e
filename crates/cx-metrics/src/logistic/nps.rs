//! Promoter and detractor models: logistic regressions of "is a promoter" (9–10) and "is a detractor"
//! (0–6) on the drivers, from a 0–10 likelihood-to-recommend column.
//!
//! Comparing the two shows when what creates promoters differs from what prevents detractors: a driver can
//! raise the odds of a 9–10 strongly while barely lowering the odds of a 0–6, or the reverse.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::bootstrap::{bootstrap_data, LogisticBootstrap};
use super::data;
use super::shapley::{check_method, decompose, PseudoR2Shapley, ShapleyOptions};
use super::{fit_data, LogisticOptions, LogisticRegression};
use crate::error::{Error, Result};
use crate::scale::{NpsCategory, RawValue, Scale};

/// Which NPS group is the outcome (y = 1) of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NpsOutcome {
    /// 9–10 versus 0–8.
    Promoter,
    /// 0–6 versus 7–10.
    Detractor,
}

impl NpsOutcome {
    /// snake_case id: "promoter" or "detractor".
    pub fn id(self) -> &'static str {
        match self {
            Self::Promoter => "promoter",
            Self::Detractor => "detractor",
        }
    }

    fn category(self) -> NpsCategory {
        match self {
            Self::Promoter => NpsCategory::Promoter,
            Self::Detractor => NpsCategory::Detractor,
        }
    }
}

impl fmt::Display for NpsOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for NpsOutcome {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "promoter" => Ok(Self::Promoter),
            "detractor" => Ok(Self::Detractor),
            other => Err(Error::invalid(
                "outcome",
                format!("{other:?}; use \"promoter\" or \"detractor\""),
            )),
        }
    }
}

/// Validate 0–10 ratings on [`Scale::NPS`] into "is in the group" (missing stays missing).
fn events<T: RawValue>(ratings: &[T], target: NpsOutcome) -> Result<Vec<Option<bool>>> {
    ratings
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            if r.is_missing() {
                return Ok(None);
            }
            let p = Scale::NPS.point_of(r, i)?;
            // A validated point is in 0..=10.
            Ok(Some(NpsCategory::of(p as u8) == target.category()))
        })
        .collect()
}

/// Logistic model of one NPS group on the drivers.
///
/// `ratings` are 0–10 answers (any integer or float type; NaN/`None` is missing); out-of-range or
/// fractional ratings are typed errors naming their position. Other inputs and errors as in
/// [`logistic_regression`](super::logistic_regression).
///
/// # Errors
/// See [`logistic_regression`](super::logistic_regression); [`Error::BadColumn`] naming the group when
/// every (or no) respondent is in it.
pub fn nps_model<T: RawValue>(
    target: NpsOutcome,
    ratings: &[T],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &LogisticOptions,
) -> Result<LogisticRegression> {
    let settings = options.settings()?;
    let y = events(ratings, target)?;
    let data = data::prepare(target.id(), &y, drivers, weights, options.nan_policy)?;
    fit_data(&data, options, &settings)
}

/// Percentile bootstrap of a promoter or detractor model (see [`LogisticBootstrap`]): `n_resamples`
/// resamples of the complete rows (each keeping its weight) drawn from `seed`.
///
/// ```
/// use cx_metrics::logistic::{nps_model_bootstrap, LogisticOptions, NpsOutcome};
/// let ltr = [10u8, 9, 3, 7, 8, 9, 6, 10, 2, 8, 9, 4, 10, 7, 5, 9, 8, 3, 10, 6];
/// let ease = [6.0, 7.0, 2.0, 5.0, 6.0, 4.0, 3.0, 5.0, 1.0, 7.0, 6.0, 3.0, 7.0, 4.0, 2.0, 5.0, 6.0, 4.0, 5.0, 5.0];
/// let o = LogisticOptions::default();
/// let b = nps_model_bootstrap(NpsOutcome::Promoter, &ltr, &[("ease", &ease)], None, &o, 200, 7).unwrap();
/// assert_eq!(b.terms, ["intercept", "ease"]);
/// assert!(b.intervals[1].low < b.estimates[1] && b.estimates[1] < b.intervals[1].high);
/// ```
///
/// # Errors
/// As [`nps_model`]; [`Error::InvalidArgument`] for fewer than
/// [`MIN_RESAMPLES`](super::MIN_RESAMPLES) resamples or when fewer than two resamples can be fitted.
pub fn nps_model_bootstrap<T: RawValue>(
    target: NpsOutcome,
    ratings: &[T],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &LogisticOptions,
    n_resamples: usize,
    seed: u64,
) -> Result<LogisticBootstrap> {
    let y = events(ratings, target)?;
    let data = data::prepare(target.id(), &y, drivers, weights, options.nan_policy)?;
    bootstrap_data(&data, options, n_resamples, seed)
}

/// Logistic model of being a promoter (9–10 versus 0–8): `nps_model(NpsOutcome::Promoter, ...)`.
///
/// ```
/// use cx_metrics::logistic::{promoter_model, LogisticOptions};
/// let ltr = [10u8, 9, 3, 7, 8, 9, 6, 10, 2, 8];
/// let ease = [6.0, 7.0, 2.0, 5.0, 6.0, 4.0, 3.0, 5.0, 1.0, 7.0];
/// let m = promoter_model(&ltr, &[("ease", &ease)], None, &LogisticOptions::default()).unwrap();
/// assert_eq!((m.n, m.n_events), (10, 4));
/// ```
///
/// # Errors
/// See [`nps_model`].
pub fn promoter_model<T: RawValue>(
    ratings: &[T],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &LogisticOptions,
) -> Result<LogisticRegression> {
    nps_model(NpsOutcome::Promoter, ratings, drivers, weights, options)
}

/// Logistic model of being a detractor (0–6 versus 7–10): `nps_model(NpsOutcome::Detractor, ...)`.
///
/// # Errors
/// See [`nps_model`].
pub fn detractor_model<T: RawValue>(
    ratings: &[T],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &LogisticOptions,
) -> Result<LogisticRegression> {
    nps_model(NpsOutcome::Detractor, ratings, drivers, weights, options)
}

/// Shapley decomposition of the pseudo-R² of a promoter or detractor model (see
/// [`pseudo_r2_shapley`](super::pseudo_r2_shapley)).
///
/// # Errors
/// As [`nps_model`] and [`pseudo_r2_shapley`](super::pseudo_r2_shapley).
pub fn nps_pseudo_r2_shapley<T: RawValue>(
    target: NpsOutcome,
    ratings: &[T],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &LogisticOptions,
    shapley: &ShapleyOptions,
) -> Result<PseudoR2Shapley> {
    let settings = options.settings()?;
    let exact = check_method(drivers.len(), shapley)?;
    let y = events(ratings, target)?;
    let data = data::prepare(target.id(), &y, drivers, weights, options.nan_policy)?;
    decompose(&data, options, &settings, exact, shapley)
}
