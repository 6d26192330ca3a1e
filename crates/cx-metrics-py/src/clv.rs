//! Lifetime value: the core's simple, Gupta–Lehmann and sBG formulas.

use cx_metrics::clv::{gupta_lehmann, sbg_clv, simple_clv, ClvResult, DiscountTiming, Horizon};
use cx_metrics::cohorts::PeriodUnit;
use pyo3::prelude::*;

use crate::errors::IntoPyResult;
use crate::sbg::PySbgFit;
use crate::serde_result::serde_pymethods;

/// A lifetime value with its units and timing.
#[pyclass(module = "cx_metrics._native", name = "ClvResult", frozen)]
pub struct PyClvResult {
    pub(crate) inner: ClvResult,
}

serde_pymethods!(PyClvResult, ClvResult, |inner| Self { inner }, {
    /// One line with the value, method, units, horizon and timing.
    fn describe(&self) -> String {
        self.inner.describe()
    }
});

fn horizon(count: Option<u32>, unit: Option<&str>, time_unit: PeriodUnit) -> PyResult<Horizon> {
    Ok(match count {
        None => Horizon::Infinite,
        Some(count) => Horizon::Finite {
            count,
            unit: match unit {
                Some(u) => u.parse().py()?,
                None => time_unit,
            },
        },
    })
}

/// Simple CLV = ARPU x margin / churn.
#[pyfunction]
#[pyo3(signature = (*, arpu, margin, churn, time_unit))]
pub fn clv_simple(arpu: f64, margin: f64, churn: f64, time_unit: &str) -> PyResult<PyClvResult> {
    let inner = simple_clv(arpu, margin, churn, time_unit.parse().py()?).py()?;
    Ok(PyClvResult { inner })
}

/// Gupta–Lehmann CLV.
#[pyfunction]
#[pyo3(signature = (*, margin, retention, discount_rate, horizon_count, horizon_unit, timing, time_unit, acquisition_cost))]
#[allow(clippy::too_many_arguments)]
pub fn clv_gupta_lehmann(
    margin: f64,
    retention: f64,
    discount_rate: f64,
    horizon_count: Option<u32>,
    horizon_unit: Option<&str>,
    timing: &str,
    time_unit: &str,
    acquisition_cost: f64,
) -> PyResult<PyClvResult> {
    let unit: PeriodUnit = time_unit.parse().py()?;
    let timing: DiscountTiming = timing.parse().py()?;
    let h = horizon(horizon_count, horizon_unit, unit)?;
    let inner = gupta_lehmann(
        margin,
        retention,
        discount_rate,
        h,
        timing,
        unit,
        acquisition_cost,
    )
    .py()?;
    Ok(PyClvResult { inner })
}

/// CLV from an sBG fit: margin x discounted expected residual lifetime.
#[pyfunction]
#[pyo3(signature = (fit, *, margin, discount_rate, renewals, horizon_count, horizon_unit, timing, time_unit))]
#[allow(clippy::too_many_arguments)]
pub fn clv_sbg(
    fit: &PySbgFit,
    margin: f64,
    discount_rate: f64,
    renewals: u32,
    horizon_count: Option<u32>,
    horizon_unit: Option<&str>,
    timing: &str,
    time_unit: &str,
) -> PyResult<PyClvResult> {
    let unit: PeriodUnit = time_unit.parse().py()?;
    let timing: DiscountTiming = timing.parse().py()?;
    let h = horizon(horizon_count, horizon_unit, unit)?;
    let inner = sbg_clv(&fit.inner, margin, discount_rate, renewals, h, timing, unit).py()?;
    Ok(PyClvResult { inner })
}
