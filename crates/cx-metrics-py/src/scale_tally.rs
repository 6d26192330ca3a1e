//! `ScaleTally`: weighted counts per point of any rating scale.

use cx_metrics::{Direction, Scale};
use pyo3::prelude::*;

use crate::errors::IntoPyResult;
use crate::tally::tally_pymethods;

/// The scale `min..=max` as Python describes it, with its direction as a flag.
pub(crate) fn scale(min: i32, max: i32, higher_is_better: bool) -> PyResult<Scale> {
    let direction = if higher_is_better {
        Direction::HigherIsBetter
    } else {
        Direction::LowerIsBetter
    };
    Scale::new(min, max, direction).py()
}

/// Weighted counts per point of an integer rating scale; mergeable and picklable. `fold` is safe from several
/// threads at once (each batch is counted with the GIL released, then merged); sums of weights are
/// kept scaled by a power of two, so results do not depend on the unit of the weights.
#[pyclass(module = "cx_metrics._native", name = "ScaleTally", eq)]
#[derive(Clone, PartialEq)]
pub struct PyScaleTally {
    pub(crate) inner: cx_metrics::ScaleTally,
}

tally_pymethods!(PyScaleTally, cx_metrics::ScaleTally, {
    #[new]
    #[pyo3(signature = (min, max, lower_is_better=false))]
    fn new(min: i32, max: i32, lower_is_better: bool) -> PyResult<Self> {
        let scale = scale(min, max, !lower_is_better)?;
        Ok(Self {
            inner: cx_metrics::ScaleTally::new(scale),
        })
    }

    /// Lowest scale point.
    #[getter]
    fn min(&self) -> i32 {
        self.inner.scale().min()
    }

    /// Highest scale point.
    #[getter]
    fn max(&self) -> i32 {
        self.inner.scale().max()
    }

    /// Whether lower points are the better ones.
    #[getter]
    fn lower_is_better(&self) -> bool {
        self.inner.scale().direction() == Direction::LowerIsBetter
    }

    /// Σw over counted rows.
    #[getter]
    fn sum_weights(&self) -> f64 {
        self.inner.sum_weights()
    }

    /// Kish effective sample size (Σw)²/Σw².
    #[getter]
    fn effective_n(&self) -> f64 {
        self.inner.effective_n()
    }

    /// Rows per point, lowest point first.
    fn rows(&self) -> Vec<u64> {
        self.inner.rows().to_vec()
    }

    /// Σw per point, lowest point first.
    fn weights(&self) -> Vec<f64> {
        self.inner.weights().to_vec()
    }

    fn __repr__(&self) -> String {
        let s = self.inner.scale();
        format!(
            "ScaleTally(min={}, max={}, lower_is_better={}, n={}, n_omitted={})",
            s.min(),
            s.max(),
            if s.direction() == Direction::LowerIsBetter {
                "True"
            } else {
                "False"
            },
            self.inner.n(),
            self.inner.n_omitted()
        )
    }
});
