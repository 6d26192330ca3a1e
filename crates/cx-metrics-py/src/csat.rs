//! CSAT: `CsatTally`, `CsatResult`, `compare_csat`.

use cx_metrics::{CsatScale, ProportionMethod, Satisfied};
use pyo3::prelude::*;

use crate::arrays::impl_fold;
use crate::comparison::PyProportionComparison;
use crate::errors::{invalid_argument, IntoPyResult};
use crate::interval_tuple;
use crate::tally::{result_pymethods, tally_pymethods};

/// The satisfied set from `"top_box"`, `"top_two_box"` or an integer threshold point.
fn satisfied(obj: &Bound<'_, PyAny>) -> PyResult<Satisfied> {
    if let Ok(s) = obj.extract::<&str>() {
        return s.parse().py();
    }
    if !obj.is_instance_of::<pyo3::types::PyBool>() {
        if let Ok(p) = obj.extract::<i32>() {
            return Ok(Satisfied::AtLeast(p));
        }
    }
    Err(invalid_argument(
        "satisfied",
        "use \"top_box\", \"top_two_box\" or an integer threshold point",
    ))
}

impl_fold!(cx_metrics::CsatTally);

/// Mergeable counts of CSAT answers on a 2, 3, 5, 7 or 10-point scale. `fold` is safe from several
/// threads at once (each batch is counted with the GIL released, then merged); sums of weights are
/// kept scaled by a power of two, so results do not depend on the unit of the weights.
#[pyclass(module = "cx_metrics._native", name = "CsatTally", eq)]
#[derive(Clone, PartialEq)]
pub struct PyCsatTally {
    pub(crate) inner: cx_metrics::CsatTally,
}

tally_pymethods!(PyCsatTally, cx_metrics::CsatTally, {
    #[new]
    fn new(points: u8) -> PyResult<Self> {
        Ok(Self {
            inner: cx_metrics::CsatTally::new(CsatScale::new(points).py()?),
        })
    }

    /// Number of scale points.
    #[getter]
    fn points(&self) -> u8 {
        self.inner.scale().points()
    }

    /// CSAT figures with the given satisfied set.
    fn result(&self, satisfied: &Bound<'_, PyAny>) -> PyResult<PyCsatResult> {
        let s = self::satisfied(satisfied)?;
        Ok(PyCsatResult {
            inner: self.inner.result(s).py()?,
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "CsatTally(points={}, n={}, n_omitted={})",
            self.inner.scale().points(),
            self.inner.tally().n(),
            self.inner.tally().n_omitted(),
        )
    }
});

/// CSAT figures of one sample.
#[pyclass(module = "cx_metrics._native", name = "CsatResult", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyCsatResult {
    pub(crate) inner: cx_metrics::CsatResult,
}

result_pymethods!(PyCsatResult, cx_metrics::CsatResult, {
    #[getter]
    fn points(&self) -> u8 {
        self.inner.points
    }
    #[getter]
    fn satisfied(&self) -> String {
        self.inner.satisfied.to_string()
    }
    #[getter]
    fn satisfied_points(&self) -> (i32, i32) {
        self.inner.satisfied_points
    }
    #[getter]
    fn bottom_points(&self) -> (i32, i32) {
        self.inner.bottom_points
    }
    #[getter]
    fn n(&self) -> u64 {
        self.inner.n
    }
    #[getter]
    fn n_omitted(&self) -> u64 {
        self.inner.n_omitted
    }
    #[getter]
    fn sum_weights(&self) -> f64 {
        self.inner.sum_weights
    }
    #[getter]
    fn effective_n(&self) -> f64 {
        self.inner.effective_n
    }
    #[getter]
    fn share_satisfied(&self) -> f64 {
        self.inner.share_satisfied
    }
    #[getter]
    fn share_bottom(&self) -> f64 {
        self.inner.share_bottom
    }
    #[getter]
    fn net(&self) -> f64 {
        self.inner.net
    }
    #[getter]
    fn mean(&self) -> f64 {
        self.inner.mean
    }
    #[getter]
    fn sd(&self) -> f64 {
        self.inner.sd
    }
    #[getter]
    fn mean_0_100(&self) -> f64 {
        self.inner.mean_0_100
    }
    #[getter]
    fn distribution(&self) -> Vec<f64> {
        self.inner.distribution.clone()
    }
    #[getter]
    fn undefined(&self) -> Option<String> {
        self.inner.undefined.map(|u| u.to_string())
    }
    /// Interval of the satisfied share: `(low, high, confidence_level, clipped)`.
    fn ci(&self, confidence_level: f64, method: &str) -> PyResult<(f64, f64, f64, bool)> {
        let m: ProportionMethod = method.parse().py()?;
        Ok(interval_tuple(self.inner.ci(confidence_level, m).py()?))
    }
    /// Interval of the bottom-box share.
    fn bottom_ci(&self, confidence_level: f64, method: &str) -> PyResult<(f64, f64, f64, bool)> {
        let m: ProportionMethod = method.parse().py()?;
        Ok(interval_tuple(
            self.inner.bottom_ci(confidence_level, m).py()?,
        ))
    }
    /// t interval of the mean rating.
    fn mean_ci(&self, confidence_level: f64) -> PyResult<(f64, f64, f64, bool)> {
        Ok(interval_tuple(self.inner.mean_ci(confidence_level).py()?))
    }
    /// t interval of the mean rescaled to 0..100.
    fn mean_0_100_ci(&self, confidence_level: f64) -> PyResult<(f64, f64, f64, bool)> {
        Ok(interval_tuple(
            self.inner.mean_0_100_ci(confidence_level).py()?,
        ))
    }
});

/// Compare the satisfied shares of two CSAT results, `a − b`.
#[pyfunction]
pub fn compare_csat(
    a: &PyCsatResult,
    b: &PyCsatResult,
    confidence_level: f64,
) -> PyResult<PyProportionComparison> {
    Ok(PyProportionComparison {
        inner: cx_metrics::compare_csat(&a.inner, &b.inner, confidence_level).py()?,
    })
}
