//! Handling time: the `HandlingResult` of the core and the in-memory function (the mergeable
//! `HandlingTally` crosses as a `State`, see `any_state`).

use cx_metrics::handling::{
    handling_time as core_handling_time, handling_time_by_group as core_by_group, Component,
    HandlingResult, HandlingRows,
};
use cx_metrics::survival::QuantileMethod;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;

/// An optional float64 column.
type Column<'py> = Option<PyReadonlyArray1<'py, f64>>;

fn components(names: &[String]) -> PyResult<Vec<Component>> {
    names.iter().map(|s| s.parse().py()).collect()
}

/// `f` of the component columns (talk, hold, after-call work, dialling; contiguous, copied only when
/// strided) as the core's rows, and the length of the first column given (0 without any).
fn with_rows<R>(columns: [&Column<'_>; 4], f: impl FnOnce(HandlingRows<'_>, usize) -> R) -> R {
    let [t, h, a, d] = columns.map(|c| c.as_ref().map(contiguous));
    let n = [&t, &h, &a, &d]
        .iter()
        .find_map(|c| c.as_ref().map(|c| c.len()))
        .unwrap_or(0);
    let rows = HandlingRows {
        talk: t.as_deref(),
        hold: h.as_deref(),
        acw: a.as_deref(),
        dial: d.as_deref(),
    };
    f(rows, n)
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
    let inner = with_rows([&talk, &hold, &acw, &dial], |rows, _| {
        py.detach(|| core_handling_time(rows, &chosen, &quantiles, method, confidence_level))
    })
    .py()?;
    Ok(PyHandlingResult { inner })
}

/// Handling time per group of the label columns `keys` (as `group_codes` takes them), in one call:
/// the groups' labels and a result per group (`None` for a group without contacts).
#[pyfunction]
#[pyo3(signature = (talk=None, hold=None, acw=None, dial=None, *, keys, components, quantiles, quantile_method, confidence_level))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn handling_time_by_group<'py>(
    py: Python<'py>,
    talk: Column<'_>,
    hold: Column<'_>,
    acw: Column<'_>,
    dial: Column<'_>,
    keys: Vec<Bound<'py, PyAny>>,
    components: Vec<String>,
    quantiles: Vec<f64>,
    quantile_method: &str,
    confidence_level: f64,
) -> PyResult<(Vec<Bound<'py, PyTuple>>, Vec<Option<PyHandlingResult>>)> {
    let chosen = self::components(&components)?;
    let method: QuantileMethod = quantile_method.parse().py()?;
    with_rows([&talk, &hold, &acw, &dial], |rows, n| {
        crate::groups::results_by_group(
            py,
            &keys,
            n,
            |g| core_by_group(g, rows, &chosen, &quantiles, method, confidence_level),
            |inner| PyHandlingResult { inner },
        )
    })
}
