//! Churn and retention: counts or customer rows in, the core's `ChurnResult` out.

use cx_metrics::churn::{churn_by_group, ChurnOptions, ChurnResult, ChurnTally, CustomerRows};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;

/// The churn of one period.
#[pyclass(module = "cx_metrics._native", name = "ChurnResult", frozen)]
pub struct PyChurnResult {
    pub(crate) inner: ChurnResult,
}

serde_pymethods!(PyChurnResult, ChurnResult, |inner| Self { inner }, {
    /// The churn over a period `ratio` times as long, with a constant hazard.
    fn churn_over(&self, ratio: f64) -> PyResult<f64> {
        self.inner.churn_over(ratio).py()
    }
});

fn options(denominator: &str, confidence_level: f64) -> PyResult<ChurnOptions> {
    Ok(ChurnOptions {
        denominator: denominator.parse().py()?,
        confidence_level,
        ..ChurnOptions::default()
    })
}

/// Churn from counts: customers at the start, lost, new, new and lost.
#[pyfunction]
#[pyo3(signature = (customers_start, lost, new, new_lost, *, denominator, confidence_level))]
pub fn churn_counts(
    customers_start: u64,
    lost: u64,
    new: u64,
    new_lost: u64,
    denominator: &str,
    confidence_level: f64,
) -> PyResult<PyChurnResult> {
    let t = ChurnTally::from_counts(customers_start, lost, new, new_lost).py()?;
    let inner = t.result(&options(denominator, confidence_level)?).py()?;
    Ok(PyChurnResult { inner })
}

/// Churn from customer rows (start and end instants in ns, `i64::MIN` for missing / no end) over the
/// period `[period_start, period_end]`; with `ids` (a label spec) the ids must be unique; with
/// `groups` (label specs) one result per group (None for a group without customers) and the
/// groups' labels.
#[pyfunction]
#[pyo3(signature = (starts, ends, period_start, period_end, *, denominator, confidence_level, ids=None, groups=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn churn_customers<'py>(
    py: Python<'py>,
    starts: PyReadonlyArray1<'_, i64>,
    ends: PyReadonlyArray1<'_, i64>,
    period_start: i64,
    period_end: i64,
    denominator: &str,
    confidence_level: f64,
    ids: Option<Bound<'py, PyAny>>,
    groups: Option<Vec<Bound<'py, PyAny>>>,
) -> PyResult<(Vec<Option<PyChurnResult>>, Option<Vec<Bound<'py, PyTuple>>>)> {
    let options = options(denominator, confidence_level)?;
    let optional = |v: &[i64]| -> Vec<Option<i64>> {
        v.iter().map(|x| (*x != i64::MIN).then_some(*x)).collect()
    };
    let starts = optional(&contiguous(&starts));
    let ends = optional(&contiguous(&ends));
    let n = starts.len();
    if let Some(ids) = ids {
        let spec = crate::groups::parse(&ids)?;
        crate::groups::with_grouping(py, std::slice::from_ref(&spec), n, |g| {
            let (codes, n_codes, missing) = cx_metrics::customers::customer_codes(g);
            cx_metrics::customers::check_unique(&codes, n_codes, missing)
        })?;
    }
    let rows = CustomerRows {
        starts: &starts,
        ends: &ends,
        period_start,
        period_end,
        unit: Some(cx_metrics::groups::TimeUnit::Ns),
    };
    match groups {
        None => {
            let mut t = ChurnTally::new();
            py.detach(|| cx_metrics::Accumulator::fold_batch(&mut t, rows, None))
                .py()?;
            let inner = t.result(&options).py()?;
            Ok((vec![Some(PyChurnResult { inner })], None))
        }
        Some(groups) => {
            let specs = groups
                .iter()
                .map(crate::groups::parse)
                .collect::<PyResult<Vec<_>>>()?;
            let (results, labels) = crate::groups::with_grouping(py, &specs, n, |g| {
                Ok((churn_by_group(g, rows, &options)?, g.labels().to_vec()))
            })?;
            let results = results
                .into_iter()
                .map(|r| r.map(|inner| PyChurnResult { inner }))
                .collect();
            Ok((results, Some(crate::groups::labels_py(py, &labels)?)))
        }
    }
}

/// A churn rate over a period of length `from_periods` converted to length `to_periods`
/// (constant hazard).
#[pyfunction]
pub fn convert_churn(rate: f64, from_periods: f64, to_periods: f64) -> PyResult<f64> {
    cx_metrics::churn::convert_churn(rate, from_periods, to_periods).py()
}

/// The retention shortcut (end − new) / start.
#[pyfunction]
pub fn retention_shortcut(customers_start: u64, customers_end: u64, new: u64) -> PyResult<f64> {
    cx_metrics::churn::retention_shortcut(customers_start, customers_end, new).py()
}
