//! `ProportionComparison`: the two-sample comparison of shares (CSAT satisfied, CES agree).

use pyo3::prelude::*;

/// Difference of two shares with its z test and Newcombe's hybrid interval.
#[pyclass(module = "cx_metrics._native", name = "ProportionComparison", frozen)]
pub struct PyProportionComparison {
    pub(crate) inner: cx_metrics::ProportionComparison,
}

#[pymethods]
impl PyProportionComparison {
    #[getter]
    fn difference(&self) -> f64 {
        self.inner.difference
    }
    #[getter]
    fn std_error(&self) -> f64 {
        self.inner.std_error
    }
    #[getter]
    fn std_error_pooled(&self) -> f64 {
        self.inner.std_error_pooled
    }
    #[getter]
    fn z(&self) -> f64 {
        self.inner.z
    }
    #[getter]
    fn p_value(&self) -> f64 {
        self.inner.p_value
    }
    /// The interval as `(low, high, confidence_level, clipped)`.
    #[getter]
    fn interval(&self) -> (f64, f64, f64, bool) {
        crate::interval_tuple(self.inner.interval)
    }
}
