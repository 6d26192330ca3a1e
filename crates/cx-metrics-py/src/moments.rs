//! `RegressionMoments`: the mergeable weighted means and co-moments of driver analysis.

use numpy::{PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::tally::state_pymethods;

/// Weighted means and co-moments of named variables; mergeable and picklable.
#[pyclass(module = "cx_metrics._native", name = "RegressionMoments", eq)]
#[derive(Clone, PartialEq)]
pub struct PyRegressionMoments {
    pub(crate) inner: cx_metrics::Moments,
}

state_pymethods!(PyRegressionMoments, cx_metrics::Moments, {
    #[new]
    fn new(names: Vec<String>) -> PyResult<Self> {
        Ok(Self {
            inner: cx_metrics::Moments::new(names).py()?,
        })
    }

    /// Fold one float64 column per variable (same length, in the state's order), optionally
    /// weighted; every value must be finite. Changes nothing on error. Safe to call from several
    /// threads on the same state: each batch is folded with the GIL released, then merged.
    #[pyo3(signature = (columns, weights=None))]
    fn fold(
        slf: &Bound<'_, Self>,
        columns: Vec<PyReadonlyArray1<'_, f64>>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let data: Vec<_> = columns.iter().map(contiguous).collect();
        let w = weights.as_ref().map(contiguous);
        let slices: Vec<&[f64]> = data.iter().map(|c| &**c).collect();
        crate::tally::fold_shared(
            slf,
            |s: &Self| &s.inner,
            |s: &mut Self| &mut s.inner,
            |part| {
                slf.py()
                    .detach(|| cx_metrics::Accumulator::fold_batch(part, &slices, w.as_deref()))
                    .py()
            },
        )
    }

    /// Driver analysis of the outcome `options.outcome` on `drivers`, from the moments alone (no
    /// rows are kept: bootstrap, matrix and what-if need the result's `with_data`).
    fn driver_analysis(
        &self,
        py: Python<'_>,
        drivers: Vec<String>,
        options: PyRef<'_, crate::drivers::PyDriverOptions>,
    ) -> PyResult<crate::drivers::PyDriverAnalysis> {
        let o = &options.inner;
        let inner = &self.inner;
        let analysis = py
            .detach(|| cx_metrics::driver_analysis_from_moments(inner, &drivers, o))
            .py()?;
        Ok(crate::drivers::PyDriverAnalysis {
            inner: analysis,
            rows: None,
        })
    }

    /// The variables' names.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.inner.names().to_vec()
    }

    /// Rows with weight zero (counted apart).
    #[getter]
    fn n_zero_weight(&self) -> u64 {
        self.inner.n_zero_weight()
    }

    /// Σw.
    #[getter]
    fn sum_weights(&self) -> f64 {
        self.inner.sum_weights()
    }

    /// Kish effective sample size (Σw)²/Σw².
    #[getter]
    fn effective_n(&self) -> f64 {
        self.inner.effective_n()
    }

    /// Weighted means, in the state's order.
    fn means<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.inner.means())
    }

    /// The weighted covariance matrix (k × k; the unbiased reliability-weights divisor).
    fn covariance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let c = cx_metrics::Accumulator::finish(&self.inner, &()).py()?;
        let k = c.k();
        let rows: Vec<Vec<f64>> = c.matrix.chunks(k).map(<[f64]>::to_vec).collect();
        PyArray2::from_vec2(py, &rows).map_err(|e| crate::errors::invalid_argument("covariance", e))
    }

    fn __repr__(&self) -> String {
        format!(
            "RegressionMoments(names={:?}, n={}, n_zero_weight={})",
            self.inner.names(),
            self.inner.n(),
            self.inner.n_zero_weight()
        )
    }
});
