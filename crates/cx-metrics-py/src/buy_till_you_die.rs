//! BG/NBD and Gamma–Gamma: arrays in, the core's fits, predictions and lifetime values out.

use cx_metrics::buy_till_you_die::{
    bgnbd_fit_in, gamma_gamma_fit, BgNbdFit, BtydOptions, GammaGammaFit, Rfm,
};
use cx_metrics::clv::{bgnbd_clv, CustomerClv, DiscountTiming, Horizon};
use cx_metrics::cohorts::PeriodUnit;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::customers::PyCustomerSummary;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;

type Array<'py> = Bound<'py, PyArray1<f64>>;

/// A fitted BG/NBD model.
#[pyclass(module = "cx_metrics._native", name = "BgNbdFit", frozen)]
pub struct PyBgNbdFit {
    pub(crate) inner: BgNbdFit,
}

serde_pymethods!(PyBgNbdFit, BgNbdFit, |inner| Self { inner }, {
    /// One line with the parameters and the convergence.
    fn describe(&self) -> String {
        self.inner.describe()
    }

    /// E[X(t)] of a customer just acquired, for every t.
    fn expected_purchases<'py>(
        &self,
        py: Python<'py>,
        t: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<Array<'py>> {
        let t = contiguous(&t);
        let out: Vec<f64> = t
            .iter()
            .map(|&t| self.inner.expected_purchases(t))
            .collect::<cx_metrics::Result<_>>()
            .py()?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// P(alive) of every customer.
    fn p_alive<'py>(
        &self,
        py: Python<'py>,
        frequency: PyReadonlyArray1<'_, f64>,
        recency: PyReadonlyArray1<'_, f64>,
        t: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<Array<'py>> {
        let (x, tx, t) = (contiguous(&frequency), contiguous(&recency), contiguous(&t));
        let rfm = Rfm {
            frequency: &x,
            recency: &tx,
            t: &t,
        };
        Ok(PyArray1::from_vec(py, self.inner.p_alive_of(&rfm).py()?))
    }

    /// E[Y(t) | x, t_x, T] of every customer.
    fn conditional_expected_purchases<'py>(
        &self,
        py: Python<'py>,
        horizon: f64,
        frequency: PyReadonlyArray1<'_, f64>,
        recency: PyReadonlyArray1<'_, f64>,
        t: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<Array<'py>> {
        let (x, tx, t) = (contiguous(&frequency), contiguous(&recency), contiguous(&t));
        let rfm = Rfm {
            frequency: &x,
            recency: &tx,
            t: &t,
        };
        let out = self
            .inner
            .conditional_expected_purchases_of(horizon, &rfm)
            .py()?;
        Ok(PyArray1::from_vec(py, out))
    }
});

/// A fitted Gamma–Gamma spend model.
#[pyclass(module = "cx_metrics._native", name = "GammaGammaFit", frozen)]
pub struct PyGammaGammaFit {
    pub(crate) inner: GammaGammaFit,
}

serde_pymethods!(PyGammaGammaFit, GammaGammaFit, |inner| Self { inner }, {
    /// One line with the parameters, the independence check and the convergence.
    fn describe(&self) -> String {
        self.inner.describe()
    }

    /// E[spend per purchase | x, mean spend] of every customer.
    fn expected_spend<'py>(
        &self,
        py: Python<'py>,
        frequency: PyReadonlyArray1<'_, f64>,
        monetary: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<Array<'py>> {
        let (x, m) = (contiguous(&frequency), contiguous(&monetary));
        Ok(PyArray1::from_vec(
            py,
            self.inner.expected_spend_of(&x, &m).py()?,
        ))
    }
});

/// Lifetime values of customers (BG/NBD x Gamma–Gamma).
#[pyclass(module = "cx_metrics._native", name = "CustomerClv", frozen)]
pub struct PyCustomerClv {
    pub(crate) inner: CustomerClv,
}

serde_pymethods!(PyCustomerClv, CustomerClv, |inner| Self { inner }, {
    /// One line with the total, the units and the timing.
    fn describe(&self) -> String {
        self.inner.describe()
    }
});

fn options(max_iterations: u32, tolerance: f64) -> BtydOptions {
    BtydOptions {
        max_iterations,
        tolerance,
    }
}

/// Fit the BG/NBD model to frequency, recency and T (in `time_unit`s).
#[pyfunction]
#[pyo3(signature = (frequency, recency, t, *, time_unit, max_iterations, tolerance))]
pub fn bgnbd(
    py: Python<'_>,
    frequency: PyReadonlyArray1<'_, f64>,
    recency: PyReadonlyArray1<'_, f64>,
    t: PyReadonlyArray1<'_, f64>,
    time_unit: &str,
    max_iterations: u32,
    tolerance: f64,
) -> PyResult<PyBgNbdFit> {
    let unit: PeriodUnit = time_unit.parse().py()?;
    let (x, tx, t) = (contiguous(&frequency), contiguous(&recency), contiguous(&t));
    let o = options(max_iterations, tolerance);
    let inner = py
        .detach(|| {
            bgnbd_fit_in(
                &Rfm {
                    frequency: &x,
                    recency: &tx,
                    t: &t,
                },
                unit,
                &o,
            )
        })
        .py()?;
    Ok(PyBgNbdFit { inner })
}

/// Fit the Gamma–Gamma model to frequency and mean repeat spend.
#[pyfunction]
#[pyo3(signature = (frequency, monetary, *, max_iterations, tolerance))]
pub fn gamma_gamma(
    py: Python<'_>,
    frequency: PyReadonlyArray1<'_, f64>,
    monetary: PyReadonlyArray1<'_, f64>,
    max_iterations: u32,
    tolerance: f64,
) -> PyResult<PyGammaGammaFit> {
    let (x, m) = (contiguous(&frequency), contiguous(&monetary));
    let o = options(max_iterations, tolerance);
    let inner = py.detach(|| gamma_gamma_fit(&x, &m, &o)).py()?;
    Ok(PyGammaGammaFit { inner })
}

/// Recency / frequency / T / mean order values (of the repeat orders: `None` when a summary stored
/// in format version 1 cannot give it, an error with `require_monetary`; of all orders) of a
/// customer summary at a calibration end.
#[pyfunction]
#[pyo3(signature = (summary, calibration_end, unit_length, *, require_monetary=false))]
#[allow(clippy::type_complexity)]
pub fn summary_rfm<'py>(
    py: Python<'py>,
    summary: &PyCustomerSummary,
    calibration_end: i64,
    unit_length: i64,
    require_monetary: bool,
) -> PyResult<(
    Bound<'py, PyAny>,
    Array<'py>,
    Array<'py>,
    Array<'py>,
    Option<Array<'py>>,
    Array<'py>,
    u64,
)> {
    let r = summary.inner.rfm(calibration_end, unit_length).py()?;
    if require_monetary {
        r.repeat_monetary().py()?;
    }
    Ok((
        crate::customers::ids(py, r.ids.iter())?,
        PyArray1::from_vec(py, r.frequency),
        PyArray1::from_vec(py, r.recency),
        PyArray1::from_vec(py, r.t),
        r.monetary.map(|m| PyArray1::from_vec(py, m)),
        PyArray1::from_vec(py, r.monetary_all),
        r.n_excluded,
    ))
}

/// Lifetime value of each customer from a BG/NBD fit and a Gamma–Gamma fit.
#[pyfunction]
#[pyo3(signature = (fit, spend, frequency, recency, t, monetary, *, margin, discount_rate, horizon_count, horizon_unit, timing, time_unit))]
#[allow(clippy::too_many_arguments)]
pub fn clv_bgnbd(
    py: Python<'_>,
    fit: &PyBgNbdFit,
    spend: &PyGammaGammaFit,
    frequency: PyReadonlyArray1<'_, f64>,
    recency: PyReadonlyArray1<'_, f64>,
    t: PyReadonlyArray1<'_, f64>,
    monetary: PyReadonlyArray1<'_, f64>,
    margin: f64,
    discount_rate: f64,
    horizon_count: Option<u32>,
    horizon_unit: Option<&str>,
    timing: &str,
    time_unit: &str,
) -> PyResult<PyCustomerClv> {
    let unit: PeriodUnit = time_unit.parse().py()?;
    let timing: DiscountTiming = timing.parse().py()?;
    let horizon = match horizon_count {
        None => Horizon::Infinite,
        Some(count) => Horizon::Finite {
            count,
            unit: match horizon_unit {
                Some(u) => u.parse().py()?,
                None => unit,
            },
        },
    };
    let (x, tx, tt, m) = (
        contiguous(&frequency),
        contiguous(&recency),
        contiguous(&t),
        contiguous(&monetary),
    );
    let (f, s) = (&fit.inner, &spend.inner);
    let inner = py
        .detach(|| {
            let rfm = Rfm {
                frequency: &x,
                recency: &tx,
                t: &tt,
            };
            bgnbd_clv(f, s, &rfm, &m, margin, discount_rate, horizon, timing, unit)
        })
        .py()?;
    Ok(PyCustomerClv { inner })
}
