//! Service level: the `ServiceLevelTally` state and the `ServiceLevelResult` of the core.

use cx_metrics::service_level::{
    service_level_by_group as core_by_group, ContactRows, ServiceLevelResult, ServiceLevelTally,
    SlCounts, SlFormula,
};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;
use crate::tally::state_pymethods;

/// The service level under one formula, with ASA and the abandonment rate.
#[pyclass(module = "cx_metrics._native", name = "ServiceLevelResult", frozen)]
pub struct PyServiceLevelResult {
    pub(crate) inner: ServiceLevelResult,
}

serde_pymethods!(
    PyServiceLevelResult,
    ServiceLevelResult,
    |inner| Self { inner },
    {
        fn __str__(&self) -> String {
            self.inner.to_string()
        }
    }
);

/// The mergeable service level state (counts under a threshold and a short-abandon threshold).
#[pyclass(module = "cx_metrics._native", name = "ServiceLevelTally", eq)]
#[derive(Clone, PartialEq)]
pub struct PyServiceLevelTally {
    pub(crate) inner: ServiceLevelTally,
}

state_pymethods!(PyServiceLevelTally, ServiceLevelTally, {
    #[new]
    #[pyo3(signature = (threshold, short_abandon=None))]
    fn new(threshold: f64, short_abandon: Option<f64>) -> PyResult<Self> {
        Ok(Self {
            inner: ServiceLevelTally::new(threshold, short_abandon).py()?,
        })
    }

    /// A tally from pre-aggregated counts (answered within / after the threshold, abandoned within
    /// the short threshold / within the threshold / after it) and the answered contacts' total wait.
    #[staticmethod]
    #[pyo3(signature = (threshold, short_abandon, answered_within, answered_after, abandoned_short, abandoned_within, abandoned_after, answered_wait_total=None))]
    #[allow(clippy::too_many_arguments)]
    fn from_counts(
        threshold: f64,
        short_abandon: Option<f64>,
        answered_within: u64,
        answered_after: u64,
        abandoned_short: u64,
        abandoned_within: u64,
        abandoned_after: u64,
        answered_wait_total: Option<f64>,
    ) -> PyResult<Self> {
        let counts = SlCounts {
            answered_within,
            answered_after,
            abandoned_short,
            abandoned_within,
            abandoned_after,
        };
        Ok(Self {
            inner: ServiceLevelTally::from_counts(
                threshold,
                short_abandon,
                counts,
                answered_wait_total,
            )
            .py()?,
        })
    }

    /// The threshold `T`.
    #[getter]
    fn threshold(&self) -> f64 {
        self.inner.threshold()
    }

    /// The short-abandon threshold `N`.
    #[getter]
    fn short_abandon(&self) -> Option<f64> {
        self.inner.short_abandon()
    }

    /// The counts: answered within, answered after, abandoned short, abandoned within, abandoned
    /// after.
    #[getter]
    fn counts(&self) -> (u64, u64, u64, u64, u64) {
        let c = self.inner.counts();
        (
            c.answered_within,
            c.answered_after,
            c.abandoned_short,
            c.abandoned_within,
            c.abandoned_after,
        )
    }

    /// Fold per-contact waits (float64) with answered flags (bool; `False`: abandoned); changes
    /// nothing on error.
    fn fold(
        &mut self,
        py: Python<'_>,
        waits: PyReadonlyArray1<'_, f64>,
        answered: PyReadonlyArray1<'_, bool>,
    ) -> PyResult<()> {
        let (w, a) = (contiguous(&waits), contiguous(&answered));
        let inner = &mut self.inner;
        py.detach(|| {
            cx_metrics::Accumulator::fold_batch(
                inner,
                ContactRows {
                    waits: &w,
                    answered: &a,
                },
                None,
            )
        })
        .py()
    }

    /// The service level under `formula` (required: there is no default formula).
    #[pyo3(signature = (formula, *, confidence_level))]
    fn result(&self, formula: &str, confidence_level: f64) -> PyResult<PyServiceLevelResult> {
        let f: SlFormula = formula.parse().py()?;
        Ok(PyServiceLevelResult {
            inner: self.inner.result(f, confidence_level).py()?,
        })
    }
});

/// The service level under `formula` per group of the label columns `keys` (as `group_codes` takes
/// them), in one call: the groups' labels and a result per group (`None` for a group without
/// contacts).
#[pyfunction]
#[pyo3(signature = (waits, answered, *, keys, threshold, short_abandon, formula, confidence_level))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn service_level_by_group<'py>(
    py: Python<'py>,
    waits: PyReadonlyArray1<'_, f64>,
    answered: PyReadonlyArray1<'_, bool>,
    keys: Vec<Bound<'py, PyAny>>,
    threshold: f64,
    short_abandon: Option<f64>,
    formula: &str,
    confidence_level: f64,
) -> PyResult<(Vec<Bound<'py, PyTuple>>, Vec<Option<PyServiceLevelResult>>)> {
    let f: SlFormula = formula.parse().py()?;
    let (w, a) = (contiguous(&waits), contiguous(&answered));
    let rows = ContactRows {
        waits: &w,
        answered: &a,
    };
    crate::groups::results_by_group(
        py,
        &keys,
        w.len(),
        |g| core_by_group(g, rows, threshold, short_abandon, f, confidence_level),
        |inner| PyServiceLevelResult { inner },
    )
}
