//! Missing answers in driver analysis: the policy, and the rows (or pairwise correlations) it leaves.
//!
//! A missing value is a NaN in the outcome or a driver column. The policy says what happens to it:
//!
//! | policy | what happens |
//! | --- | --- |
//! | [`listwise`](MissingPolicy::Listwise) (default) | rows with any missing value are dropped and counted in `n_omitted` |
//! | [`raise`](MissingPolicy::Raise) | the first missing value is an error naming its column and row |
//! | [`pairwise`](MissingPolicy::Pairwise) | each correlation uses the rows where both variables are present; the matrix must be positive definite |
//! | [`indicator`](MissingPolicy::Indicator) | dummy-variable adjustment: missing driver values are filled with the observed mean and a 0/1 indicator is adjusted for |
//!
//! # The indicator method and its bias
//!
//! Dummy-variable adjustment (Cohen & Cohen 1983) fills a missing driver value with the weighted mean of
//! the observed values and adds a covariate `<driver>_missing` that is 1 where the value was filled. The
//! indicators enter every model as `always` covariates: they are adjusted for but not ranked. The slope
//! of the driver is then estimated from the rows where it was observed.
//!
//! The method is **biased** when the value exists but was not reported and the drivers are correlated
//! (Jones 1996, JASA 91(433), 222–230; Allison 2001, *Missing Data*, §2.6): the other drivers' slopes
//! absorb part of the missing driver's effect in the filled rows. It is defensible for answers that are
//! *structurally* missing, because no value exists — Resolution for customers who never had a problem —
//! and that is the use it is offered for here. Each filled driver is reported as a
//! [`DriverWarning::MissingIndicator`](super::DriverWarning::MissingIndicator).

use std::borrow::Cow;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::moments::{Covariance, Moments};

/// What to do with missing (NaN) values in the outcome and the drivers.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// Drop every row with a missing value; the count is reported as `n_omitted`.
    #[default]
    Listwise,
    /// Fail on the first missing value, naming its column and row.
    Raise,
    /// Pairwise-complete weighted correlations, checked for positive definiteness; reported with a
    /// [`DriverWarning::PairwiseDeletion`](super::DriverWarning::PairwiseDeletion).
    Pairwise,
    /// Dummy-variable adjustment for structurally missing driver answers (see the module docs for its
    /// bias); rows with a missing outcome (or a missing value in a driver not adjusted) are dropped.
    Indicator,
}

impl MissingPolicy {
    /// Every policy.
    pub const ALL: [Self; 4] = [Self::Listwise, Self::Raise, Self::Pairwise, Self::Indicator];

    /// The snake_case name, as parsed by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listwise => "listwise",
            Self::Raise => "raise",
            Self::Pairwise => "pairwise",
            Self::Indicator => "indicator",
        }
    }
}

impl fmt::Display for MissingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MissingPolicy {
    type Err = Error;

    /// Parse `"listwise"`, `"raise"`, `"pairwise"` or `"indicator"`.
    ///
    /// ```
    /// use cx_metrics::drivers::MissingPolicy;
    /// assert_eq!("indicator".parse::<MissingPolicy>().unwrap(), MissingPolicy::Indicator);
    /// assert!("drop".parse::<MissingPolicy>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "missing",
                    format!(
                        "{s:?}; use one of \"listwise\", \"raise\", \"pairwise\", \"indicator\""
                    ),
                )
            })
    }
}

/// The suffix of the name of a missing-value indicator: `resolution` gets `resolution_missing`.
pub const INDICATOR_SUFFIX: &str = "_missing";

/// A driver filled by the indicator method.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilledDriver {
    /// The driver.
    pub driver: String,
    /// The name of its 0/1 indicator covariate.
    pub indicator: String,
    /// Analysed rows where the value was missing (and filled).
    pub n_missing: usize,
    /// The value filled in: the weighted mean of the observed values of the analysed rows.
    pub fill_value: f64,
}

/// Complete columns for the model, after the policy.
#[derive(Debug, Clone)]
pub(crate) struct PreparedRows<'a> {
    /// The model's terms: the drivers, then the indicators.
    pub names: Vec<String>,
    /// One column per term (borrowed from the input when no row was dropped and nothing filled).
    pub columns: Vec<Cow<'a, [f64]>>,
    /// The outcome.
    pub y: Cow<'a, [f64]>,
    /// Weights of the kept rows, if weighted.
    pub weights: Option<Cow<'a, [f64]>>,
    /// Rows dropped for a missing value.
    pub n_dropped: usize,
    /// The drivers filled by the indicator method.
    pub filled: Vec<FilledDriver>,
}

/// The outcome and driver columns as the entry point received them (lengths and weights checked).
pub(crate) struct Columns<'a> {
    pub outcome: &'a str,
    pub y: &'a [f64],
    pub drivers: &'a [(&'a str, &'a [f64])],
    pub weights: Option<&'a [f64]>,
    /// Every outcome and driver value is finite: no row has a missing value. Either known from the
    /// checks, or assumed by a first attempt whose fit then finds out (and is redone if wrong).
    pub finite: bool,
}

impl Columns<'_> {
    fn n(&self) -> usize {
        self.y.len()
    }

    /// `(name, column)` of the outcome, then the drivers.
    fn all(&self) -> impl Iterator<Item = (&str, &[f64])> + '_ {
        std::iter::once((self.outcome, self.y)).chain(self.drivers.iter().copied())
    }

    fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }
}

/// Apply `listwise`, `raise` or `indicator` (with `indicator_for` the drivers to fill; empty = every
/// driver with a missing value).
pub(crate) fn prepare<'a>(
    cols: &Columns<'a>,
    policy: MissingPolicy,
    indicator_for: &[String],
) -> Result<PreparedRows<'a>> {
    let n = cols.n();
    if policy == MissingPolicy::Raise && !cols.finite {
        for i in 0..n {
            if let Some((name, _)) = cols.all().find(|(_, c)| c[i].is_nan()) {
                return Err(Error::BadColumn {
                    column: name.to_owned(),
                    message: format!(
                        "value at row {i} is missing (NaN) and missing is \"raise\"; \
                         drop or impute missing values first, or use missing=\"listwise\""
                    ),
                });
            }
        }
    }
    // Drivers to fill: those named (or all), restricted to the ones with a missing value.
    let fill: Vec<bool> = cols
        .drivers
        .iter()
        .map(|(name, _)| {
            policy == MissingPolicy::Indicator
                && (indicator_for.is_empty() || indicator_for.iter().any(|d| d == name))
        })
        .collect();
    // `finite` comes from the checks (or is assumed and then verified by the fit): without a missing
    // value nothing is dropped or filled, and `keep` is only read when something is.
    let keep: Vec<usize> = if cols.finite {
        Vec::new()
    } else {
        (0..n)
            .filter(|&i| {
                !cols.y[i].is_nan()
                    && cols
                        .drivers
                        .iter()
                        .zip(&fill)
                        .all(|((_, c), &f)| f || !c[i].is_nan())
            })
            .collect()
    };
    let n_dropped = if cols.finite { 0 } else { n - keep.len() };
    let pick = |c: &'a [f64]| -> Cow<'a, [f64]> {
        if n_dropped == 0 {
            Cow::Borrowed(c)
        } else {
            Cow::Owned(keep.iter().map(|&i| c[i]).collect())
        }
    };
    let mut names: Vec<String> = cols.drivers.iter().map(|(n, _)| (*n).to_owned()).collect();
    let mut columns: Vec<Cow<'a, [f64]>> = cols.drivers.iter().map(|(_, c)| pick(c)).collect();
    let mut filled = Vec::new();
    let mut indicator_columns = Vec::new();
    for (j, (name, raw)) in cols.drivers.iter().enumerate() {
        if !fill[j] {
            continue;
        }
        let missing: Vec<bool> = keep.iter().map(|&i| raw[i].is_nan()).collect();
        let n_missing = missing.iter().filter(|&&m| m).count();
        if n_missing == 0 {
            continue;
        }
        let observed = || keep.iter().filter(|&&i| !raw[i].is_nan());
        let (sw, swx) = observed().fold((0.0, 0.0), |(a, b), &i| {
            let w = cols.weight(i);
            (a + w, b + w * raw[i])
        });
        let count = observed().count();
        let fill_value = if sw > 0.0 {
            swx / sw
        } else if count > 0 {
            observed().map(|&i| raw[i]).sum::<f64>() / count as f64
        } else {
            return Err(Error::BadColumn {
                column: (*name).to_owned(),
                message: "every analysed value is missing; it cannot be a driver".into(),
            });
        };
        for (v, &m) in columns[j].to_mut().iter_mut().zip(&missing) {
            if m {
                *v = fill_value;
            }
        }
        let indicator = format!("{name}{INDICATOR_SUFFIX}");
        if cols.all().any(|(n, _)| n == indicator) {
            return Err(Error::BadColumn {
                column: indicator,
                message: format!(
                    "this name is needed for the missing-value indicator of {name:?}; rename the column"
                ),
            });
        }
        indicator_columns.push((
            indicator.clone(),
            missing.iter().map(|&m| f64::from(u8::from(m))).collect(),
        ));
        filled.push(FilledDriver {
            driver: (*name).to_owned(),
            indicator,
            n_missing,
            fill_value,
        });
    }
    for (name, column) in indicator_columns {
        names.push(name);
        columns.push(Cow::Owned(column));
    }
    Ok(PreparedRows {
        names,
        columns,
        y: pick(cols.y),
        weights: cols.weights.map(pick),
        n_dropped,
        filled,
    })
}

/// Pairwise-complete weighted covariance summary of the drivers and the outcome (outcome last).
pub(crate) struct PairwiseSummary {
    /// The summary the regression is fitted from: pairwise correlations, per-variable means and
    /// standard deviations, and the sizes of the smallest pair.
    pub covariance: Covariance,
    /// The correlation matrix, row-major, outcome last.
    pub correlation: Vec<f64>,
    /// Positive-weight rows of the smallest and of the largest pair.
    pub min_pair_n: u64,
    /// See `min_pair_n`.
    pub max_pair_n: u64,
    /// Rows with at least one missing value (used only in the pairs where both values are present).
    pub incomplete_rows: usize,
}

/// Smallest eigenvalue of the pairwise correlation matrix (relative to the largest) that counts as
/// positive definite.
const PD_TOLERANCE: f64 = 1e-12;

/// Pairwise-complete correlations, as R's `cor(use = "pairwise.complete.obs")` (each pair's
/// correlation uses its own means and variances), weighted; means and standard deviations from each
/// variable's available rows; `n`, `Σw` and Kish's `n_eff` from the pair with the fewest rows.
pub(crate) fn pairwise(cols: &Columns<'_>) -> Result<PairwiseSummary> {
    let vars: Vec<(&str, &[f64])> = cols
        .drivers
        .iter()
        .copied()
        .chain(std::iter::once((cols.outcome, cols.y)))
        .collect();
    let k = vars.len();
    let n = cols.n();
    let incomplete_rows = (0..n)
        .filter(|&i| vars.iter().any(|(_, c)| c[i].is_nan()))
        .count();
    // Moments of the variables `idx` over the rows where all of them are present.
    let moments_of = |idx: &[usize]| -> Result<Moments> {
        let rows: Vec<usize> = (0..n)
            .filter(|&i| idx.iter().all(|&v| !vars[v].1[i].is_nan()))
            .collect();
        let picked: Vec<Vec<f64>> = idx
            .iter()
            .map(|&v| rows.iter().map(|&i| vars[v].1[i]).collect())
            .collect();
        let slices: Vec<&[f64]> = picked.iter().map(Vec::as_slice).collect();
        let w: Option<Vec<f64>> = cols.weights.map(|w| rows.iter().map(|&i| w[i]).collect());
        let mut m = Moments::new(idx.iter().map(|&v| vars[v].0))?;
        m.fold_columns(&slices, w.as_deref())?;
        Ok(m)
    };
    let zero_variance = |v: usize, detail: &str| Error::BadColumn {
        column: vars[v].0.to_owned(),
        message: format!("has zero variance{detail}; it cannot be a driver or the outcome"),
    };
    let mut means = vec![0.0; k];
    let mut sds = vec![0.0; k];
    for v in 0..k {
        let m = moments_of(&[v])?;
        let c = m.covariance()?;
        let var = c.get(0, 0);
        if var.is_nan() || var <= 0.0 {
            return Err(zero_variance(v, ""));
        }
        means[v] = c.means[0];
        sds[v] = var.sqrt();
    }
    let mut corr = vec![0.0; k * k];
    let mut smallest: Option<(u64, f64, f64)> = None;
    let (mut min_pair_n, mut max_pair_n) = (u64::MAX, 0);
    for a in 0..k {
        corr[a * k + a] = 1.0;
        for b in 0..a {
            let m = moments_of(&[a, b])?;
            let c = m.covariance()?;
            let r = c.correlation_at(0, 1);
            if !r.is_finite() {
                let v = if c.get(0, 0) > 0.0 { b } else { a };
                let other = vars[if v == a { b } else { a }].0;
                return Err(zero_variance(
                    v,
                    &format!(" on the rows where {other:?} is also present"),
                ));
            }
            corr[a * k + b] = r;
            corr[b * k + a] = r;
            min_pair_n = min_pair_n.min(c.n);
            max_pair_n = max_pair_n.max(c.n);
            if smallest.is_none_or(|(_, _, e)| c.effective_n < e) {
                smallest = Some((c.n, c.sum_weights, c.effective_n));
            }
        }
    }
    let (n_min, sum_w, n_eff) =
        smallest.ok_or_else(|| Error::invalid("drivers", "at least one driver is needed"))?;
    check_positive_definite(&corr, k)?;
    let names: Vec<String> = vars.iter().map(|(n, _)| (*n).to_owned()).collect();
    let covariance = Covariance::from_correlation(names, &corr, &sds, means, n_min, sum_w, n_eff)?;
    Ok(PairwiseSummary {
        covariance,
        correlation: corr,
        min_pair_n,
        max_pair_n,
        incomplete_rows,
    })
}

/// A pairwise correlation matrix need not be positive definite; say so if it is not.
fn check_positive_definite(corr: &[f64], k: usize) -> Result<()> {
    let m = nalgebra::DMatrix::from_row_slice(k, k, corr);
    let eig = m.symmetric_eigenvalues();
    let (min, max) = (eig.min(), eig.max());
    if min > max * PD_TOLERANCE {
        return Ok(());
    }
    Err(Error::invalid(
        "missing",
        format!(
            "the pairwise-complete correlation matrix is not positive definite (smallest eigenvalue \
             {min:.3e}): the pairs were computed on incompatible subsets of rows, or drivers are \
             collinear; use missing=\"listwise\" or \"indicator\""
        ),
    ))
}
