//! Checks of the inputs of a driver analysis, done once before any computation; every error names the
//! column it is about.

use std::collections::HashSet;

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
            "holds {found} values, not numbers; a driver or outcome must be numeric \
             (recode categories as ratings or 0/1 dummies first)"
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
