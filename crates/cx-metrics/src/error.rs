//! The crate's one error type.
//!
//! Every fallible function returns [`Result<T>`](Result). Messages say what was wrong, where (position or
//! column) and what to do about it; payloads stay small so errors are cheap to build and to match on.

use std::fmt;

/// Why an estimate cannot be computed from the data it was given.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UndefinedReason {
    /// No row was counted (empty input, or every value omitted as missing).
    NoRows,
    /// Rows were counted but their weights sum to zero.
    ZeroTotalWeight,
    /// Only one row carries weight (effective sample size ≤ 1), so a spread (standard deviation, t
    /// interval) cannot be estimated.
    SingleObservation,
}

impl fmt::Display for UndefinedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoRows => "no rows were counted (empty input, or every value was missing)",
            Self::ZeroTotalWeight => "the weights of the counted rows sum to zero",
            Self::SingleObservation => {
                "only one row carries weight (effective sample size <= 1), so no spread can be \
                 estimated; collect more responses"
            }
        })
    }
}

/// Everything that can go wrong in `cx-metrics`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A rating lies outside its scale.
    #[error(
        "value {value} at position {index} is outside the scale {min}..={max}; \
         check the column is on this scale, or recode it first"
    )]
    OutOfRange {
        /// Position of the value in its input.
        index: usize,
        /// The offending value.
        value: f64,
        /// Lowest valid scale point.
        min: i32,
        /// Highest valid scale point.
        max: i32,
    },
    /// A rating is a fraction where a whole scale point is required.
    #[error(
        "value {value} at position {index} is not a whole scale point; \
         ratings must be integers (round or recode the column first)"
    )]
    NotIntegral {
        /// Position of the value in its input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A value is infinite.
    #[error("value {value} at position {index} is not finite; remove or replace it")]
    NonFinite {
        /// Position of the value in its input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A value is missing and the missing-value policy is `raise`.
    #[error(
        "value at position {index} is missing (NaN/None) and nan_policy is \"raise\"; \
         drop missing values first or use nan_policy=\"omit\""
    )]
    Missing {
        /// Position of the missing value.
        index: usize,
    },
    /// A survey weight is negative, NaN or infinite.
    #[error("{}", weight_message(*index, *weight))]
    InvalidWeight {
        /// Position of the weight.
        index: usize,
        /// The offending weight.
        weight: f64,
    },
    /// Two inputs that must be aligned have different lengths.
    #[error("{what}: lengths differ ({left} vs {right}); pass inputs of the same length")]
    LengthMismatch {
        /// Which inputs disagree, e.g. "values and weights".
        what: &'static str,
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },
    /// An argument is outside its domain (confidence level, margin, power, scale bounds, ...).
    #[error("invalid {name}: {message}")]
    InvalidArgument {
        /// The argument's name as the caller spells it.
        name: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// Two states that cannot be combined (different scales, different drivers, ...).
    #[error("cannot combine: {0}")]
    Incompatible(String),
    /// The estimate is undefined for this data.
    #[error("the estimate is undefined: {0}")]
    Undefined(UndefinedReason),
    /// An iterative method did not converge.
    #[error("{method} did not converge: {message}")]
    NoConvergence {
        /// The method that failed.
        method: &'static str,
        /// What happened.
        message: String,
    },
    /// A named column is not in the data.
    #[error(
        "column {column:?} not found{}; available columns: {available}",
        suggestion(column, available)
    )]
    UnknownColumn {
        /// The name that was asked for.
        column: String,
        /// The names that exist, comma separated.
        available: String,
    },
    /// A column cannot be used as a driver or outcome.
    #[error("column {column:?}: {message}")]
    BadColumn {
        /// The column's name.
        column: String,
        /// What is wrong with it and what to do.
        message: String,
    },
    /// Drivers are perfectly (or numerically) collinear.
    #[error(
        "drivers are collinear: {columns} are (near-)linear combinations of the others; \
         drop or combine one of them (or treat them as a group)"
    )]
    Collinear {
        /// The columns involved, comma separated.
        columns: String,
    },
    /// Too few complete rows for the model.
    #[error("{}", too_few_rows_message(*rows, *needed))]
    TooFewRows {
        /// Complete rows available.
        rows: usize,
        /// Rows needed.
        needed: usize,
    },
    /// The problem is too ill-conditioned to solve to a trustworthy accuracy.
    #[error(
        "the design is too ill-conditioned to solve reliably (condition number {condition:.3e}); \
         rescale or centre the drivers, or drop near-duplicate ones"
    )]
    IllConditioned {
        /// The estimated condition number.
        condition: f64,
    },
    /// The outcome is perfectly predicted by a linear combination of the drivers (complete or
    /// quasi-complete separation, Albert & Anderson 1984): maximum-likelihood estimates do not exist.
    #[error(
        "{kind} separation: the outcome of {rows} rows is perfectly predicted by {drivers}, so the \
         maximum-likelihood coefficients do not exist (they diverge); drop, merge or coarsen these \
         drivers, or collect more responses where they overlap"
    )]
    Separation {
        /// "complete" or "quasi-complete".
        kind: &'static str,
        /// The drivers involved, comma separated.
        drivers: String,
        /// Rows whose fitted probability reached 0 or 1.
        rows: usize,
    },
    /// Merging or folding would overflow a count of rows or a sum of weights.
    #[error(
        "cannot combine: {what} would overflow; the combined state cannot be represented (was the \
         same partition merged more than once?)"
    )]
    Overflow {
        /// What would overflow, e.g. "the row count at point 9 (18446744073709551615 + 1)".
        what: String,
    },
    /// A serialised state (bytes or JSON) is truncated, corrupted, of another kind or version, or
    /// internally inconsistent.
    #[error(
        "invalid {kind} state: {message}; the state was not restored (re-create it from the data, or \
         check that it was stored whole and by a release that writes this format)"
    )]
    InvalidState {
        /// The kind of state that was being read, e.g. "nps_tally".
        kind: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A journey map is inconsistent (a stage or touchpoint named twice, a touchpoint in two
    /// stages, a stage without touchpoints), or a row names a stage or touchpoint the map does not
    /// have, or has no customer id.
    #[error("journey: {message}")]
    Journey {
        /// What is wrong, as a snake_case tag: `no_stages`, `blank_name`, `duplicate_stage`,
        /// `duplicate_touchpoint`, `touchpoint_in_two_stages`, `empty_stage`, `unknown_touchpoint`,
        /// `unknown_stage`, `missing_touchpoint`, `missing_id`.
        problem: &'static str,
        /// What was found, where (row, name), and what to do.
        message: String,
    },
    /// A value of a named column lies outside the scale declared for that column.
    #[error("{}", out_of_scale_message(column, *index, *value, *min, *max))]
    OutOfScale {
        /// The column's name.
        column: String,
        /// The row of the value (0-based position in the column).
        index: usize,
        /// The offending value.
        value: f64,
        /// Lowest point of the declared scale.
        min: f64,
        /// Highest point of the declared scale.
        max: f64,
    },
    /// A fitted-model document (JSON) is malformed, of another model or format version, too large,
    /// or internally inconsistent (lengths that disagree, a coefficient that is not finite).
    #[error(
        "invalid {model} model document: {message}; the model was not loaded (export it again with \
         to_json from a fitted result of a release that writes this format)"
    )]
    InvalidModel {
        /// The model that was being read: "driver", "logistic", "retention" or "clv".
        model: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Build an [`Error::InvalidArgument`].
    pub fn invalid(name: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            name,
            message: message.into(),
        }
    }
}

fn weight_message(index: usize, weight: f64) -> String {
    if weight.is_nan() {
        format!(
            "weight at position {index} is missing (NaN); give every row a weight or drop the rows \
             without one (a weight of 0 keeps a row out of the estimates)"
        )
    } else {
        format!(
            "weight {weight} at position {index} is invalid; survey weights must be finite and >= 0"
        )
    }
}

fn too_few_rows_message(rows: usize, needed: usize) -> String {
    if rows == 0 {
        format!(
            "no complete rows, but the model needs at least {needed}: the data are empty, or every \
             row misses the outcome or a driver; check the filter that selected the rows"
        )
    } else {
        format!(
            "only {rows} complete rows, but the model needs at least {needed}; \
             collect more responses or use fewer drivers"
        )
    }
}

/// `" (did you mean \"x\"?)"` when one available name (a comma-separated list) is close to `column`:
/// the same up to case, or within a third of its length in edit distance.
fn suggestion(column: &str, available: &str) -> String {
    let lower = column.to_lowercase();
    let best = available
        .split(", ")
        .filter(|a| !a.is_empty() && *a != column)
        .map(|a| {
            let d = if a.to_lowercase() == lower {
                0
            } else {
                edit_distance(&lower, &a.to_lowercase())
            };
            (d, a)
        })
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, a)) if d <= (column.chars().count() / 3).max(1) => {
            format!(" (did you mean {a:?}? names are case-sensitive)")
        }
        _ => String::new(),
    }
}

/// Levenshtein distance between two strings, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn out_of_scale_message(column: &str, index: usize, value: f64, min: f64, max: f64) -> String {
    format!(
        "column {column:?}: value {value} at row {index} is outside its scale {min}..={max}; if {value} \
         is a \"don't know\" or no-answer code, declare it missing (missing_codes={{{column:?}: \
         [{value}]}}) and the missing= policy handles those rows; otherwise declare the column's \
         real scale, or recode the column first"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let unknown = |c: &str| {
            Error::UnknownColumn {
                column: c.into(),
                available: "ltr, time_and_effort, Empathy, weight".into(),
            }
            .to_string()
        };
        assert!(unknown("time_and_efort").contains("(did you mean \"time_and_effort\"?"));
        assert!(unknown("empathy").contains("(did you mean \"Empathy\"?"));
        assert!(!unknown("brand").contains("did you mean"));
        let nan = Error::InvalidWeight {
            index: 5,
            weight: f64::NAN,
        };
        assert!(nan.to_string().contains("position 5 is missing (NaN)"));
        let negative = Error::InvalidWeight {
            index: 2,
            weight: -1.0,
        };
        assert!(negative.to_string().contains("finite and >= 0"));
        let none = Error::TooFewRows { rows: 0, needed: 8 }.to_string();
        assert!(none.starts_with("no complete rows") && none.contains("check the filter"));
        let few = Error::TooFewRows { rows: 3, needed: 8 }.to_string();
        assert!(few.starts_with("only 3 complete rows"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
