//! The shifted-beta-geometric model: survivors in, the core's `SbgFit` out.

use cx_metrics::sbg::{sbg_fit, SbgFit, SbgOptions};
use pyo3::prelude::*;

use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;

/// A fitted sBG model.
#[pyclass(module = "cx_metrics._native", name = "SbgFit", frozen)]
pub struct PySbgFit {
    pub(crate) inner: SbgFit,
}

serde_pymethods!(PySbgFit, SbgFit, |inner| Self { inner }, {
    /// S(0), ..., S(horizon).
    fn survival_curve(&self, horizon: u32) -> Vec<f64> {
        self.inner.survival_curve(horizon)
    }

    /// r_1, ..., r_horizon.
    fn retention_curve(&self, horizon: u32) -> Vec<f64> {
        self.inner.retention_curve(horizon)
    }
});

/// Fit the sBG model to cohorts of survivors (n0, n1, ..., nT each).
#[pyfunction]
#[pyo3(signature = (cohorts, *, confidence_level, max_iterations))]
pub fn sbg(
    cohorts: Vec<Vec<f64>>,
    confidence_level: f64,
    max_iterations: u32,
) -> PyResult<PySbgFit> {
    let slices: Vec<&[f64]> = cohorts.iter().map(Vec::as_slice).collect();
    let options = SbgOptions {
        confidence_level,
        max_iterations,
        ..SbgOptions::default()
    };
    Ok(PySbgFit {
        inner: sbg_fit(&slices, &options).py()?,
    })
}
