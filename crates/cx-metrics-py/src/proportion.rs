//! Proportion intervals on raw counts: `proportion_ci`, `compare_proportions`.

use cx_metrics::ProportionMethod;
use pyo3::prelude::*;

use crate::comparison::PyProportionComparison;
use crate::errors::IntoPyResult;
use crate::interval_tuple;

/// Interval of `successes / n`: `(low, high, confidence_level, clipped)`.
#[pyfunction]
pub fn proportion_ci(
    successes: f64,
    n: f64,
    confidence_level: f64,
    method: &str,
) -> PyResult<(f64, f64, f64, bool)> {
    let m: ProportionMethod = method.parse().py()?;
    Ok(interval_tuple(
        cx_metrics::proportion_ci(successes, n, confidence_level, m).py()?,
    ))
}

/// Compare `x1/n1` with `x2/n2`: difference, z test and Newcombe's hybrid interval.
#[pyfunction]
pub fn compare_proportions(
    x1: f64,
    n1: f64,
    x2: f64,
    n2: f64,
    confidence_level: f64,
) -> PyResult<PyProportionComparison> {
    Ok(PyProportionComparison {
        inner: cx_metrics::compare_proportions(x1, n1, x2, n2, confidence_level).py()?,
    })
}
