//! Customers from order events: the repeat-purchase rate of a window and the mergeable
//! per-customer summary.

use cx_metrics::customers::{
    repeat_rate as core_repeat_rate, CustomerId, CustomerIds, CustomerSummary, Orders, RepeatRate,
    Window,
};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyList;

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

/// Per-customer order summaries (first, last, orders, total) by integer or text id; mergeable.
#[pyclass(module = "cx_metrics._native", name = "CustomerSummary", eq)]
#[derive(Clone, PartialEq)]
pub struct PyCustomerSummary {
    pub(crate) inner: CustomerSummary,
}

/// The summary's columns: ids (int64 array or list of str), first, last, orders, total, orders at
/// the first instant (0: unknown) and their total (NaN: unknown).
type Columns<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<f64>>,
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

    /// Fold orders: customer ids (an int64 array, or a list of str with None for a missing id),
    /// times (`i64::MIN` missing) and optional values (NaN missing).
    #[pyo3(signature = (customers, times, values=None))]
    fn fold(
        &mut self,
        py: Python<'_>,
        customers: &Bound<'_, PyAny>,
        times: PyReadonlyArray1<'_, i64>,
        values: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let ints = customers.extract::<PyReadonlyArray1<'_, i64>>().ok();
        let ints = ints.as_ref().map(contiguous);
        let texts: Vec<Option<String>> = match ints {
            Some(_) => Vec::new(),
            None => customers.extract().map_err(|_| {
                crate::errors::invalid_argument(
                    "customers",
                    "give an int64 array or a list of str (None for a missing id)",
                )
            })?,
        };
        let ids = match &ints {
            Some(i) => CustomerIds::Int(i),
            None => CustomerIds::Text(&texts),
        };
        let t = contiguous(&times);
        let v = values.as_ref().map(contiguous);
        let inner = &mut self.inner;
        py.detach(|| {
            cx_metrics::Accumulator::fold_batch(
                inner,
                Orders {
                    customers: ids,
                    times: &t,
                    values: v.as_deref(),
                },
                None,
            )
        })
        .py()
    }

    /// The summaries as columns: ids, first, last, orders, total, orders at the first instant (0:
    /// unknown, a summary stored in format version 1) and their total (NaN: unknown).
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Columns<'py>> {
        let rows = self.inner.customers();
        let at_first = |r: &(CustomerId, cx_metrics::customers::CustomerOrders)| r.1.at_first;
        Ok((
            ids(py, rows.iter().map(|r| &r.0))?,
            PyArray1::from_iter(py, rows.iter().map(|r| r.1.first)),
            PyArray1::from_iter(py, rows.iter().map(|r| r.1.last)),
            PyArray1::from_iter(py, rows.iter().map(|r| r.1.orders)),
            PyArray1::from_iter(py, rows.iter().map(|r| r.1.total)),
            PyArray1::from_iter(py, rows.iter().map(|r| at_first(r).map_or(0, |f| f.orders))),
            PyArray1::from_iter(
                py,
                rows.iter()
                    .map(|r| at_first(r).map_or(f64::NAN, |f| f.total)),
            ),
        ))
    }
});

/// Customer ids as Python sees them: an int64 array for integer ids, a list of str for text ids
/// (a summary keeps one kind).
pub(crate) fn ids<'py, 'a>(
    py: Python<'py>,
    ids: impl Iterator<Item = &'a CustomerId> + Clone,
) -> PyResult<Bound<'py, PyAny>> {
    let ints: Option<Vec<i64>> = ids
        .clone()
        .map(|id| match id {
            CustomerId::Int(i) => Some(*i),
            CustomerId::Text(_) => None,
        })
        .collect();
    if let Some(ints) = ints {
        return Ok(PyArray1::from_vec(py, ints).into_any());
    }
    let texts = ids.map(|id| match id {
        CustomerId::Text(t) => t.clone(),
        CustomerId::Int(i) => i.to_string(),
    });
    Ok(PyList::new(py, texts)?.into_any())
}
