//! Handling time: the `HandlingResult` of the core and the in-memory function (the mergeable
//! `HandlingTally` crosses as a `State`, see `any_state`).

use cx_metrics::handling::{
    handling_time as core_handling_time, Component, HandlingResult, HandlingRows,
};
use cx_metrics::survival::QuantileMethod;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;

/// An optional float64 column.
type Column<'py> = Option<PyReadonlyArray1<'py, f64>>;

fn components(names: &[String]) -> PyResult<Vec<Component>> {
    names.iter().map(|s| s.parse().py()).collect()
}

/// Handling time of a set of contacts (AHT with its t interval, component means, quantiles).
#[pyclass(module = "cx_metrics._native", name = "HandlingResult", frozen)]
pub struct PyHandlingResult {
    pub(crate) inner: HandlingResult,
}

serde_pymethods!(PyHandlingResult, HandlingResult, |inner| Self { inner }, {
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
});

/// Handling time of per-contact rows in memory, with the quantiles of the per-contact totals.
#[pyfunction]
#[pyo3(signature = (talk=None, hold=None, acw=None, dial=None, *, components, quantiles, quantile_method, confidence_level))]
#[allow(clippy::too_many_arguments)]
pub fn handling_time(
    py: Python<'_>,
    talk: Column<'_>,
    hold: Column<'_>,
    acw: Column<'_>,
    dial: Column<'_>,
    components: Vec<String>,
    quantiles: Vec<f64>,
    quantile_method: &str,
    confidence_level: f64,
) -> PyResult<PyHandlingResult> {
    let chosen = self::components(&components)?;
    let method: QuantileMethod = quantile_method.parse().py()?;
    let [t, h, a, d] = [&talk, &hold, &acw, &dial].map(|c| c.as_ref().map(contiguous));
    let rows = HandlingRows {
        talk: t.as_deref(),
        hold: h.as_deref(),
        acw: a.as_deref(),
        dial: d.as_deref(),
    };
    let inner = py
        .detach(|| core_handling_time(rows, &chosen, &quantiles, method, confidence_level))
        .py()?;
    Ok(PyHandlingResult { inner })
}
