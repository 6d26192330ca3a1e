//! Handling time: the `HandlingTally` state and the `HandlingResult` of the core.

use cx_metrics::handling::{
    handling_time as core_handling_time, Component, HandlingResult, HandlingRows, HandlingTally,
};
use cx_metrics::survival::QuantileMethod;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;
use crate::tally::state_pymethods;

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

/// The mergeable handling-time state.
#[pyclass(module = "cx_metrics._native", name = "HandlingTally", eq)]
#[derive(Clone, PartialEq)]
pub struct PyHandlingTally {
    pub(crate) inner: HandlingTally,
}

state_pymethods!(PyHandlingTally, HandlingTally, {
    #[new]
    fn new(components: Vec<String>) -> PyResult<Self> {
        Ok(Self {
            inner: HandlingTally::new(&self::components(&components)?).py()?,
        })
    }

    /// The components counted in the AHT.
    #[getter]
    fn components(&self) -> Vec<String> {
        self.inner
            .components()
            .iter()
            .map(|c| c.id().to_string())
            .collect()
    }

    /// Fold per-contact component columns (float64; `None`: not recorded); changes nothing on
    /// error.
    #[pyo3(signature = (talk=None, hold=None, acw=None, dial=None))]
    fn fold(
        &mut self,
        py: Python<'_>,
        talk: Column<'_>,
        hold: Column<'_>,
        acw: Column<'_>,
        dial: Column<'_>,
    ) -> PyResult<()> {
        let [t, h, a, d] = [&talk, &hold, &acw, &dial].map(|c| c.as_ref().map(contiguous));
        let rows = HandlingRows {
            talk: t.as_deref(),
            hold: h.as_deref(),
            acw: a.as_deref(),
            dial: d.as_deref(),
        };
        let inner = &mut self.inner;
        py.detach(|| cx_metrics::Accumulator::fold_batch(inner, rows, None))
            .py()
    }

    /// The result (no quantiles: the state keeps no values).
    #[pyo3(signature = (*, confidence_level))]
    fn result(&self, confidence_level: f64) -> PyResult<PyHandlingResult> {
        Ok(PyHandlingResult {
            inner: self.inner.result(confidence_level).py()?,
        })
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
