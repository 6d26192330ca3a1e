//! Validation of a binary outcome, named drivers and survey weights into complete rows.
//!
//! Rows with a missing outcome or a missing (NaN) driver value are dropped listwise and counted (or, with
//! `nan_policy = "raise"`, reported as [`Error::Missing`]). Infinite driver values, invalid weights,
//! mismatched lengths, a constant outcome and zero-variance drivers are typed errors.

use nalgebra::DMatrix;

use crate::error::{Error, Result, UndefinedReason};
use crate::scale::{Direction, NanPolicy, Scale};
use crate::weights::Weights;

/// Complete rows of a logistic model: a 0/1 outcome, driver columns and weights.
#[derive(Debug, Clone)]
pub(crate) struct Data {
    /// What the outcome is called in messages and results.
    pub outcome: String,
    /// Driver names, in input order.
    pub names: Vec<String>,
    /// Driver columns over the complete rows.
    pub columns: Vec<Vec<f64>>,
    /// Outcome, 0.0 or 1.0, over the complete rows.
    pub y: Vec<f64>,
    /// Weights over the complete rows (1.0 when unweighted).
    pub w: Vec<f64>,
    /// Rows dropped because a value was missing.
    pub n_omitted: usize,
    /// The power of two the caller's weights were multiplied by in `w` (see
    /// [`Weights::scale`]): extreme weights are rescaled so that the fit does not depend on their
    /// unit; what scales with the weights is reported in the caller's units.
    pub weight_scale: f64,
    /// Whether weights were given.
    pub weighted: bool,
}

impl Data {
    /// Complete rows used.
    pub fn n(&self) -> usize {
        self.y.len()
    }
    /// Rows with the event (y = 1).
    pub fn n_events(&self) -> usize {
        self.y.iter().filter(|&&v| v > 0.5).count()
    }
    /// (Σw over events, Σw over non-events).
    pub fn weight_split(&self) -> (f64, f64) {
        self.y.iter().zip(&self.w).fold(
            (0.0, 0.0),
            |(a, b), (&y, &w)| {
                if y > 0.5 {
                    (a + w, b)
                } else {
                    (a, b + w)
                }
            },
        )
    }
    /// The weighted event rate p̄ = Σw·y / Σw (in (0, 1) once validated).
    pub fn event_rate(&self) -> f64 {
        let (w1, w0) = self.weight_split();
        w1 / (w1 + w0)
    }
    /// Design matrix: a column of ones, then the drivers whose indices are in `drivers` (in that order).
    pub fn design(&self, drivers: &[usize]) -> DMatrix<f64> {
        let n = self.n();
        let mut x = DMatrix::from_element(n, drivers.len() + 1, 1.0);
        for (c, &j) in drivers.iter().enumerate() {
            if let Some(col) = self.columns.get(j) {
                x.column_mut(c + 1).copy_from_slice(col);
            }
        }
        x
    }
}

/// Validate a 0/1 outcome: NaN is missing, anything else must be exactly 0 or 1.
pub(crate) fn binary_outcome(outcome: &[f64]) -> Result<Vec<Option<bool>>> {
    // Scale::new cannot fail for 0 < 1.
    let scale = Scale::new(0, 1, Direction::HigherIsBetter)?;
    outcome
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.is_nan() {
                Ok(None)
            } else {
                scale.point(v, i).map(|p| Some(p == 1))
            }
        })
        .collect()
}

/// Check lengths, weights and driver values, drop incomplete rows, and check the outcome varies and
/// every driver varies over the rows that carry weight.
pub(crate) fn prepare(
    outcome_name: &str,
    outcome: &[Option<bool>],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    policy: NanPolicy,
) -> Result<Data> {
    let n_in = outcome.len();
    for (i, (name, _)) in drivers.iter().enumerate() {
        if drivers[..i].iter().any(|(other, _)| other == name) {
            return Err(Error::invalid(
                "drivers",
                format!("the driver name {name:?} is used twice; names must be unique"),
            ));
        }
    }
    for (_, col) in drivers {
        if col.len() != n_in {
            return Err(Error::LengthMismatch {
                what: "outcome and driver",
                left: n_in,
                right: col.len(),
            });
        }
    }
    if let Some(w) = weights {
        if w.len() != n_in {
            return Err(Error::LengthMismatch {
                what: "outcome and weights",
                left: n_in,
                right: w.len(),
            });
        }
    }
    let checked = weights.map(Weights::new).transpose()?;
    let weight_scale = checked.map_or(1.0, |c| c.scale());
    for (name, col) in drivers {
        if let Some((i, v)) = col.iter().enumerate().find(|(_, v)| v.is_infinite()) {
            return Err(Error::BadColumn {
                column: (*name).to_string(),
                message: format!(
                    "value {v} at position {i} is not finite; remove or replace it (NaN counts as missing)"
                ),
            });
        }
    }
    let mut data = Data {
        outcome: outcome_name.to_string(),
        names: drivers.iter().map(|(n, _)| (*n).to_string()).collect(),
        columns: vec![Vec::with_capacity(n_in); drivers.len()],
        y: Vec::with_capacity(n_in),
        w: Vec::with_capacity(n_in),
        n_omitted: 0,
        weight_scale,
        weighted: weights.is_some(),
    };
    for (i, y) in outcome.iter().enumerate() {
        let complete = y.is_some()
            && drivers
                .iter()
                .all(|(_, c)| c.get(i).is_some_and(|v| !v.is_nan()));
        let (Some(y), true) = (y, complete) else {
            if policy == NanPolicy::Raise {
                return Err(Error::Missing { index: i });
            }
            data.n_omitted += 1;
            continue;
        };
        data.y.push(if *y { 1.0 } else { 0.0 });
        data.w.push(
            weights
                .and_then(|w| w.get(i).copied())
                .map_or(1.0, |w| w * weight_scale),
        );
        for (dst, (_, src)) in data.columns.iter_mut().zip(drivers) {
            dst.push(src.get(i).copied().unwrap_or(f64::NAN));
        }
    }
    check_rows(&data)?;
    Ok(data)
}

impl Data {
    /// The rows `index` (with repeats), checked as the original rows were.
    pub(crate) fn resample(&self, index: &[usize]) -> Result<Data> {
        let pick = |col: &[f64]| index.iter().map(|&i| col[i]).collect::<Vec<f64>>();
        let data = Data {
            outcome: self.outcome.clone(),
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| pick(c)).collect(),
            y: pick(&self.y),
            w: pick(&self.w),
            n_omitted: self.n_omitted,
            weight_scale: self.weight_scale,
            weighted: self.weighted,
        };
        check_rows(&data)?;
        Ok(data)
    }
}

/// Enough weighted rows, both outcomes present, every driver varies.
fn check_rows(data: &Data) -> Result<()> {
    if data.n() == 0 {
        return Err(Error::Undefined(UndefinedReason::NoRows));
    }
    let (w1, w0) = data.weight_split();
    if w1 + w0 <= 0.0 {
        return Err(Error::Undefined(UndefinedReason::ZeroTotalWeight));
    }
    let weighted_rows = data.w.iter().filter(|&&w| w > 0.0).count();
    let needed = data.names.len() + 2;
    if weighted_rows < needed {
        return Err(Error::TooFewRows {
            rows: weighted_rows,
            needed,
        });
    }
    if w1 <= 0.0 || w0 <= 0.0 {
        let (all, none) = if w1 <= 0.0 {
            ("non-event (0)", "event (1)")
        } else {
            ("event (1)", "non-event (0)")
        };
        return Err(Error::BadColumn {
            column: data.outcome.clone(),
            message: format!(
                "every counted row is a {all} and none is a {none}; a logistic model needs both \
                 outcomes (with positive weight)"
            ),
        });
    }
    for (name, col) in data.names.iter().zip(&data.columns) {
        let mut values = col
            .iter()
            .zip(&data.w)
            .filter(|(_, &w)| w > 0.0)
            .map(|(v, _)| *v);
        let first = values.next();
        if first.is_some_and(|f| values.all(|v| v == f)) {
            return Err(Error::BadColumn {
                column: name.clone(),
                message: format!(
                    "has zero variance over the {weighted_rows} complete rows with positive weight, so \
                     its effect cannot be told apart from the intercept; drop it"
                ),
            });
        }
    }
    Ok(())
}
