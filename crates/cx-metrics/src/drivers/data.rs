//! Checks of the inputs of a driver analysis, done once before any computation; every error names the
//! column it is about.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::DriverOptions;
use crate::design::Design;
use crate::error::{Error, Result};

/// The error for a column that is not numeric (text, dates, categories): the bindings detect the type,
/// the core says what to do.
///
/// ```
/// use cx_metrics::drivers::non_numeric_column;
/// let e = non_numeric_column("segment", "str");
/// assert!(e.to_string().contains("\"segment\""));
/// ```
pub fn non_numeric_column(column: &str, found: &str) -> Error {
    Error::BadColumn {
        column: column.to_owned(),
        message: format!(
            "holds {found} values, not numbers; ratings, drivers and outcomes must be \
             numeric (recode text answers as ratings, or categories as 0/1 dummies, first)"
        ),
    }
}

/// Check the columns: [`check_shape`], then [`check_values`]. Returns whether every value is finite (no
/// missing value at all).
pub(crate) fn check_columns(
    outcome: &str,
    y: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
) -> Result<bool> {
    check_shape(outcome, y, drivers, weights)?;
    check_values(outcome, y, drivers)
}

/// Check the columns' shape: at least one driver, names unique and not the outcome, lengths equal,
/// weights finite and ≥ 0 — the checks of a [`Design`], which is built and dropped.
pub(crate) fn check_shape(
    outcome: &str,
    y: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
) -> Result<()> {
    Design::from_f64(outcome, y, drivers, weights).map(|_| ())
}

/// Check the values: no infinite value (NaN is a missing value, handled by the policy). Returns whether
/// every value is finite.
pub(crate) fn check_values(outcome: &str, y: &[f64], drivers: &[(&str, &[f64])]) -> Result<bool> {
    let all = std::iter::once((outcome, y)).chain(drivers.iter().copied());
    let mut finite = true;
    for (name, col) in all {
        if col.iter().all(|v| v.is_finite()) {
            continue;
        }
        finite = false;
        if let Some(i) = col.iter().position(|v| v.is_infinite()) {
            return Err(Error::BadColumn {
                column: name.to_owned(),
                message: format!(
                    "value {} at row {i} is infinite; remove or replace it (NaN marks a missing value)",
                    col[i]
                ),
            });
        }
    }
    Ok(finite)
}

/// Check that every name in `always`, `groups` and `indicator_for` is a driver.
pub(crate) fn check_names(drivers: &[&str], options: &DriverOptions) -> Result<()> {
    let known: HashSet<&str> = drivers.iter().copied().collect();
    let wanted = options
        .always
        .iter()
        .chain(options.groups.iter().flat_map(|g| &g.members))
        .chain(&options.indicator_for);
    for name in wanted {
        if !known.contains(name.as_str()) {
            return Err(Error::UnknownColumn {
                column: name.clone(),
                available: drivers.join(", "),
            });
        }
    }
    Ok(())
}

/// The scale of the outcome of a driver analysis.
///
/// ```
/// use cx_metrics::drivers::{DriverOptions, OutcomeScale};
/// // The recommendation score `ltr` (the default outcome) is checked on 0–10 unless told otherwise.
/// assert_eq!(DriverOptions::default().outcome_range(), Some((0.0, 10.0)));
/// // Any other outcome is checked on the scale declared for it, and not at all without one.
/// assert_eq!(DriverOptions::default().with_outcome("spend").outcome_range(), None);
/// let csat = DriverOptions::default()
///     .with_outcome("csat")
///     .with_outcome_scale(OutcomeScale::Range { min: 1.0, max: 5.0 });
/// assert_eq!(csat.outcome_range(), Some((1.0, 5.0)));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeScale {
    /// 0–10 when the outcome is the recommendation score [`DEFAULT_OUTCOME`](super::DEFAULT_OUTCOME)
    /// (`ltr`); no check for any other outcome.
    #[default]
    Auto,
    /// No check (a continuous outcome, such as spend or a percentage).
    Unchecked,
    /// Every value lies in `min..=max`.
    Range {
        /// Lowest point of the scale.
        min: f64,
        /// Highest point of the scale.
        max: f64,
    },
}

/// The scale declared for a driver column: every value (other than a missing one or a declared
/// missing code) must lie in `min..=max`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnScale {
    /// The driver.
    pub column: String,
    /// Lowest point of the scale.
    pub min: f64,
    /// Highest point of the scale.
    pub max: f64,
}

impl ColumnScale {
    /// The scale `min..=max` of `column`.
    pub fn new(column: impl Into<String>, min: f64, max: f64) -> Self {
        Self {
            column: column.into(),
            min,
            max,
        }
    }
}

/// Values of a column (the outcome or a driver) that mean "no answer" (a "don't know" code such as 99):
/// they become missing values, handled by the analysis's missing-value policy and counted.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingCodes {
    /// The column.
    pub column: String,
    /// The codes.
    pub codes: Vec<f64>,
}

impl MissingCodes {
    /// The `codes` of `column`.
    pub fn new(column: impl Into<String>, codes: &[f64]) -> Self {
        Self {
            column: column.into(),
            codes: codes.to_vec(),
        }
    }
}

/// How many values of a column were declared missing (a code of [`MissingCodes`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredMissing {
    /// The column.
    pub column: String,
    /// Values recoded to missing.
    pub n: usize,
}

/// The columns after the declared missing codes became missing values (NaN), and the counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    /// The outcome, recoded (`None`: no code was declared for it).
    pub y: Option<Vec<f64>>,
    /// Each driver, recoded (`None`: no code was declared for it).
    pub drivers: Vec<Option<Vec<f64>>>,
    /// Values recoded per column with declared codes, outcome first, then the drivers in order.
    pub counts: Vec<DeclaredMissing>,
}

/// Check the declared scales and missing codes of `options` against the names: each names the
/// outcome or a driver, scales are finite with `min < max`, codes are finite.
pub(crate) fn check_declarations(
    outcome: &str,
    drivers: &[&str],
    options: &DriverOptions,
) -> Result<()> {
    let unknown = |column: &str, also_outcome: bool| Error::UnknownColumn {
        column: column.to_owned(),
        available: also_outcome
            .then_some(outcome)
            .into_iter()
            .chain(drivers.iter().copied())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let check_range = |column: &str, min: f64, max: f64| {
        if min.is_finite() && max.is_finite() && min < max {
            Ok(())
        } else {
            Err(Error::invalid(
                "scales",
                format!(
                    "{min}..={max} for {column:?}; a scale is (min, max) with finite min < max, \
                     e.g. (1, 10)"
                ),
            ))
        }
    };
    if let OutcomeScale::Range { min, max } = options.outcome_scale {
        check_range(outcome, min, max)?;
    }
    for (i, s) in options.scales.iter().enumerate() {
        if !drivers.contains(&s.column.as_str()) {
            return Err(unknown(&s.column, false));
        }
        if options.scales[..i].iter().any(|t| t.column == s.column) {
            return Err(Error::invalid(
                "scales",
                format!("{:?} is given two scales; give each driver one", s.column),
            ));
        }
        check_range(&s.column, s.min, s.max)?;
    }
    for m in &options.missing_codes {
        if m.column != outcome && !drivers.contains(&m.column.as_str()) {
            return Err(unknown(&m.column, true));
        }
        if let Some(c) = m.codes.iter().find(|c| !c.is_finite()) {
            return Err(Error::invalid(
                "missing_codes",
                format!(
                    "{c} for {:?}; a code is a finite number (NaN is missing already)",
                    m.column
                ),
            ));
        }
    }
    Ok(())
}

/// The declared range of `column` (the outcome or a driver).
fn range_of(column: &str, outcome: &str, options: &DriverOptions) -> Option<(f64, f64)> {
    if column == outcome {
        options.outcome_range()
    } else {
        options
            .scales
            .iter()
            .find(|s| s.column == column)
            .map(|s| (s.min, s.max))
    }
}

/// The codes declared missing for `column`.
fn codes_of<'o>(column: &str, options: &'o DriverOptions) -> Vec<&'o f64> {
    options
        .missing_codes
        .iter()
        .filter(|m| m.column == column)
        .flat_map(|m| &m.codes)
        .collect()
}

/// Check the values of one column, read with `get` (NaN = missing), against its declared range
/// (codes declared missing are skipped).
fn check_range(
    column: &str,
    n: usize,
    get: impl Fn(usize) -> f64,
    range: Option<(f64, f64)>,
    codes: &[&f64],
) -> Result<()> {
    let Some((min, max)) = range else {
        return Ok(());
    };
    for i in 0..n {
        let v = get(i);
        if v.is_nan() || codes.iter().any(|c| **c == v) {
            continue;
        }
        if !(min..=max).contains(&v) {
            return Err(Error::OutOfScale {
                column: column.to_owned(),
                index: i,
                value: v,
                min,
                max,
            });
        }
    }
    Ok(())
}

/// Most distinct values off the 0–10 rating scale that a driver without a declared scale may hold and
/// still be read as a rating with "don't know" codes.
const MAX_CODES: usize = 3;

/// A driver without a declared scale, read with `get` (NaN = missing; declared codes skipped): when
/// its values are integers, at least half of them on 0–10, and every other value is one of at most
/// [`MAX_CODES`] values that are negative or at least twice the highest value on 0–10 (the shape
/// of a rating with a "don't know" code such as 99), the first such value is an
/// [`Error::OutOfScale`] against the range the rating uses. Any other column (a continuous
/// measure, a count that runs past 10) is not checked.
fn check_undeclared_codes(
    column: &str,
    n: usize,
    get: impl Fn(usize) -> f64,
    codes: &[&f64],
) -> Result<()> {
    let on_scale = |v: f64| (0.0..=10.0).contains(&v);
    let (mut inside, mut total) = (0usize, 0usize);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..n {
        let v = get(i);
        if v.is_nan() || codes.iter().any(|c| **c == v) {
            continue;
        }
        if !v.is_finite() || v.fract() != 0.0 {
            return Ok(());
        }
        total += 1;
        if on_scale(v) {
            inside += 1;
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if inside == 0 || inside == total || 2 * inside < total {
        return Ok(());
    }
    let mut off: Vec<f64> = Vec::new();
    let mut first = None;
    for i in 0..n {
        let v = get(i);
        if v.is_nan() || on_scale(v) || codes.iter().any(|c| **c == v) {
            continue;
        }
        if v > 0.0 && v < 2.0 * hi.max(1.0) {
            return Ok(());
        }
        if !off.contains(&v) {
            if off.len() == MAX_CODES {
                return Ok(());
            }
            off.push(v);
        }
        first.get_or_insert((i, v));
    }
    match first {
        Some((index, value)) => Err(Error::OutOfScale {
            column: column.to_owned(),
            index,
            value,
            min: lo,
            max: hi,
        }),
        None => Ok(()),
    }
}

/// Check one column against its declared range, or (a driver without one, when
/// [`DriverOptions::check_codes`]) for "don't know" codes.
fn check_column(
    column: &str,
    outcome: &str,
    n: usize,
    get: impl Fn(usize) -> f64,
    options: &DriverOptions,
) -> Result<()> {
    let codes = codes_of(column, options);
    match range_of(column, outcome, options) {
        Some(range) => check_range(column, n, get, Some(range), &codes),
        None if column != outcome && options.check_codes => {
            check_undeclared_codes(column, n, get, &codes)
        }
        None => Ok(()),
    }
}

/// Check every value of `design` against the declared scales, and the drivers without one for
/// "don't know" codes (without a copy of the data).
pub(crate) fn check_design_scales(design: &Design<'_>, options: &DriverOptions) -> Result<()> {
    let outcome = design.outcome().name();
    let n = design.n_rows();
    for c in std::iter::once(design.outcome()).chain(design.drivers()) {
        let get = |i: usize| {
            if c.is_missing(i) {
                f64::NAN
            } else {
                c.values().get(i)
            }
        };
        check_column(c.name(), outcome, n, get, options)?;
    }
    Ok(())
}

/// Apply the declarations of `options` to float columns (NaN = missing): check every value against
/// the declared scales (a declared code is not checked), then turn every declared code into NaN.
///
/// ```
/// use cx_metrics::drivers::{declared_values, DriverOptions, MissingCodes};
/// let mut o = DriverOptions::default();
/// o.missing_codes = vec![MissingCodes::new("ease", &[99.0])];
/// let d = declared_values(&[9.0, 7.0], &[("ease", &[99.0, 4.0][..])], &o)?;
/// assert!(d.drivers[0].as_ref().unwrap()[0].is_nan());
/// assert_eq!(d.counts[0].n, 1);
/// // An outcome of 11 is off the 0–10 scale of `ltr`: an error naming the column, row and value.
/// assert!(declared_values(&[11.0, 7.0], &[("ease", &[1.0, 4.0][..])], &o).is_err());
/// # Ok::<(), cx_metrics::Error>(())
/// ```
///
/// # Errors
/// [`Error::OutOfScale`] naming the column, row and value of the first value off its scale;
/// [`Error::UnknownColumn`] / [`Error::InvalidArgument`] for a declaration that names no column or
/// is invalid.
pub fn declared_values(
    y: &[f64],
    drivers: &[(&str, &[f64])],
    options: &DriverOptions,
) -> Result<Declared> {
    let outcome = options.outcome.as_str();
    let names: Vec<&str> = drivers.iter().map(|(n, _)| *n).collect();
    check_declarations(outcome, &names, options)?;
    let mut counts = Vec::new();
    let mut recode = |name: &str, col: &[f64]| -> Result<Option<Vec<f64>>> {
        check_column(name, outcome, col.len(), |i| col[i], options)?;
        let codes = codes_of(name, options);
        if codes.is_empty() {
            return Ok(None);
        }
        let mut n = 0;
        let out = col
            .iter()
            .map(|&v| {
                if codes.iter().any(|c| **c == v) {
                    n += 1;
                    f64::NAN
                } else {
                    v
                }
            })
            .collect();
        counts.push(DeclaredMissing {
            column: name.to_owned(),
            n,
        });
        Ok(Some(out))
    };
    let y = recode(outcome, y)?;
    let drivers = drivers
        .iter()
        .map(|(n, c)| recode(n, c))
        .collect::<Result<Vec<_>>>()?;
    Ok(Declared { y, drivers, counts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::{driver_analysis, MissingPolicy};

    const LTR: [f64; 12] = [9.0, 7.0, 10.0, 4.0, 8.0, 6.0, 9.0, 3.0, 7.0, 10.0, 5.0, 8.0];
    const EASE: [f64; 12] = [6.0, 5.0, 7.0, 2.0, 99.0, 4.0, 7.0, 1.0, 4.0, 6.0, 3.0, 99.0];
    const SPEED: [f64; 12] = [5.0, 6.0, 6.0, 3.0, 4.0, 5.0, 5.0, 2.0, 6.0, 7.0, 3.0, 5.0];

    #[test]
    fn a_code_off_the_scale_names_column_row_and_value() {
        let o = DriverOptions::default().with_scales(&["ease", "speed"], 1.0, 10.0);
        let err =
            driver_analysis(&LTR, &[("ease", &EASE), ("speed", &SPEED)], None, &o).unwrap_err();
        assert_eq!(
            err,
            Error::OutOfScale {
                column: "ease".into(),
                index: 4,
                value: 99.0,
                min: 1.0,
                max: 10.0
            }
        );
        assert!(err.to_string().contains("don't know"));
    }

    #[test]
    fn an_undeclared_dont_know_code_is_refused() {
        // A 1–10 driver with 99 = "don't know" and no scale declared.
        let o = DriverOptions::default();
        let fit = |ease: &[f64], o: &DriverOptions| {
            driver_analysis(&LTR, &[("ease", ease), ("speed", &SPEED)], None, o)
        };
        let err = fit(&EASE, &o).unwrap_err();
        assert_eq!(
            err,
            Error::OutOfScale {
                column: "ease".into(),
                index: 4,
                value: 99.0,
                min: 1.0,
                max: 7.0
            }
        );
        assert!(err.to_string().contains("missing_codes"));
        // Negative codes too; the first one is named.
        let mut neg = EASE;
        neg[4] = -1.0;
        neg[11] = -9.0;
        assert!(matches!(
            fit(&neg, &o),
            Err(Error::OutOfScale { index: 4, .. })
        ));
        // Declared missing, declared scale of its own, or the check turned off: fitted.
        assert!(fit(&EASE, &o.clone().with_missing_codes(&["ease"], &[99.0])).is_ok());
        assert!(fit(&EASE, &o.clone().with_scales(&["ease"], 0.0, 100.0)).is_ok());
        assert!(fit(&EASE, &o.clone().with_code_check(false)).is_ok());
        // Not the shape of a rating with codes: a count running past 10, a continuous measure,
        // more than three distinct values far off, a column mostly off 0–10.
        let count = [6.0, 5.0, 7.0, 2.0, 13.0, 4.0, 7.0, 1.0, 4.0, 6.0, 3.0, 99.0];
        let spend = [6.5, 5.0, 7.0, 2.0, 99.0, 4.0, 7.0, 1.0, 4.0, 6.0, 3.0, 99.0];
        let many = [
            6.0, 5.0, 7.0, 2.0, 97.0, 4.0, 98.0, 1.0, 99.0, 6.0, 3.0, 96.0,
        ];
        let mostly = [
            60.0, 50.0, 70.0, 20.0, 99.0, 40.0, 70.0, 1.0, 4.0, 6.0, 3.0, 99.0,
        ];
        for col in [count, spend, many, mostly] {
            assert!(fit(&col, &o).is_ok(), "{col:?}");
        }
    }

    #[test]
    fn declared_codes_are_the_rows_without_them() {
        let o = DriverOptions::default()
            .with_scales(&["ease", "speed"], 1.0, 10.0)
            .with_missing_codes(&["ease"], &[99.0]);
        let a = driver_analysis(&LTR, &[("ease", &EASE), ("speed", &SPEED)], None, &o).unwrap();
        // Reference: the same analysis of the ten rows without a code.
        let keep: Vec<usize> = (0..12).filter(|&i| EASE[i] != 99.0).collect();
        let pick = |c: &[f64]| keep.iter().map(|&i| c[i]).collect::<Vec<f64>>();
        let (y, e, s) = (pick(&LTR), pick(&EASE), pick(&SPEED));
        let b = driver_analysis(
            &y,
            &[("ease", &e), ("speed", &s)],
            None,
            &DriverOptions::default(),
        )
        .unwrap();
        assert_eq!((a.n, a.n_omitted), (10, 2));
        assert_eq!(
            a.declared_missing,
            vec![DeclaredMissing {
                column: "ease".into(),
                n: 2
            }]
        );
        assert_eq!(a.regression.coefficients, b.regression.coefficients);
        assert_eq!(a.options.missing_codes, o.missing_codes);
        // Under raise, a declared code is a missing value like any other.
        let raise = o.clone().with_missing(MissingPolicy::Raise);
        let err = driver_analysis(&LTR, &[("ease", &EASE), ("speed", &SPEED)], None, &raise);
        assert!(matches!(err, Err(Error::BadColumn { ref column, .. }) if column == "ease"));
    }

    #[test]
    fn the_outcome_scale_defaults_to_0_10_for_ltr_only() {
        let mut y = LTR;
        y[3] = 11.0;
        let drivers = [("speed", &SPEED[..])];
        let err = driver_analysis(&y, &drivers, None, &DriverOptions::default()).unwrap_err();
        assert!(matches!(err, Error::OutOfScale { index: 3, .. }));
        let other = DriverOptions::default().with_outcome("spend");
        assert!(driver_analysis(&y, &drivers, None, &other).is_ok());
        let unchecked = DriverOptions::default().with_outcome_scale(OutcomeScale::Unchecked);
        assert!(driver_analysis(&y, &drivers, None, &unchecked).is_ok());
        let bad = DriverOptions::default().with_scales(&["nope"], 1.0, 10.0);
        assert!(matches!(
            driver_analysis(&LTR, &drivers, None, &bad),
            Err(Error::UnknownColumn { .. })
        ));
    }
}
