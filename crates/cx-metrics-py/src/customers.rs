//! Customers from order events: the repeat-purchase rate of a window and the mergeable
//! per-customer summary.

use cx_metrics::customers::{
    repeat_rate as core_repeat_rate, CustomerSummary, Orders, RepeatRate, Window,
};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;
use crate::tally::state_pymethods;

/// New vs returning customers and the repeat-purchase rate of a window.
#[pyclass(module = "cx_metrics._native", name = "RepeatRate", frozen)]
pub struct PyRepeatRate {
    pub(crate) inner: RepeatRate,
}

serde_pymethods!(PyRepeatRate, RepeatRate, |inner| Self { inner }, {});

/// The repeat-purchase rate of `[start, end)` from order events: customer ids (a label spec) and
/// times (`i64::MIN` missing), in the unit of `start` and `end`.
#[pyfunction]
#[pyo3(signature = (customers, times, start, end, *, confidence_level))]
pub fn repeat_rate(
    py: Python<'_>,
    customers: Bound<'_, PyAny>,
    times: PyReadonlyArray1<'_, i64>,
    start: i64,
    end: i64,
    confidence_level: f64,
) -> PyResult<PyRepeatRate> {
    let times = contiguous(&times);
    let spec = crate::groups::parse(&customers)?;
    let inner = crate::groups::with_grouping(py, std::slice::from_ref(&spec), times.len(), |g| {
        let (codes, n, missing) = cx_metrics::customers::customer_codes(g);
        core_repeat_rate(
            &codes,
            n,
            missing,
            &times,
            Window { start, end },
            confidence_level,
        )
    })?;
    Ok(PyRepeatRate { inner })
}

/// Per-customer order summaries (first, last, orders, total) by integer id; mergeable.
#[pyclass(module = "cx_metrics._native", name = "CustomerSummary", eq)]
#[derive(Clone, PartialEq)]
pub struct PyCustomerSummary {
    pub(crate) inner: CustomerSummary,
}

/// The summary's columns: ids, first, last, orders, total.
type Columns<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<f64>>,
);

state_pymethods!(PyCustomerSummary, CustomerSummary, {
    #[new]
    fn new() -> Self {
        Self {
            inner: CustomerSummary::new(),
        }
    }

    /// Rows omitted for a missing time or value.
    #[getter]
    fn n_omitted(&self) -> u64 {
        self.inner.n_omitted()
    }

    /// Fold orders: integer customer ids, times (`i64::MIN` missing) and optional values (NaN
    /// missing).
    #[pyo3(signature = (customers, times, values=None))]
    fn fold(
        &mut self,
        py: Python<'_>,
        customers: PyReadonlyArray1<'_, i64>,
        times: PyReadonlyArray1<'_, i64>,
        values: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let (c, t) = (contiguous(&customers), contiguous(&times));
        let v = values.as_ref().map(contiguous);
        let inner = &mut self.inner;
        py.detach(|| {
            cx_metrics::Accumulator::fold_batch(
                inner,
                Orders {
                    customers: &c,
                    times: &t,
                    values: v.as_deref(),
                },
                None,
            )
        })
        .py()
    }

    /// The summaries as columns: ids, first, last, orders, total.
    fn columns<'py>(&self, py: Python<'py>) -> Columns<'py> {
        let rows = self.inner.customers();
        (
            PyArray1::from_iter(py, rows.iter().map(|r| r.0)),
            PyArray1::from_iter(py, rows.iter().map(|r| r.1.first)),
            PyArray1::from_iter(py, rows.iter().map(|r| r.1.last)),
            PyArray1::from_iter(py, rows.iter().map(|r| r.1.orders)),
            PyArray1::from_iter(py, rows.iter().map(|r| r.1.total)),
        )
    }
});
