//! Fitted models that score new rows: the core's `scoring` models as Python classes. Conversion only:
//! the documents are read and written, and rows scored, by the core.

use cx_metrics::clv::{DiscountTiming, Horizon};
use cx_metrics::cohorts::PeriodUnit;
use cx_metrics::scoring::{ClvModel, DriverModel, LogisticModel, RetentionModel};
use cx_metrics::NanPolicy;
use numpy::PyArray1;
use pyo3::prelude::*;

use crate::columns::NumericColumn;
use crate::errors::{invalid_argument, IntoPyResult};

/// `(name, float64 column)` pairs of the caller's numeric arrays (NaN for a missing value), for
/// the core to score without the GIL.
fn float_columns(
    py: Python<'_>,
    names: &[String],
    columns: &[Bound<'_, PyAny>],
) -> PyResult<Vec<Vec<f64>>> {
    if names.len() != columns.len() {
        return Err(invalid_argument(
            "columns",
            format!("{} names for {} columns", names.len(), columns.len()),
        ));
    }
    names
        .iter()
        .zip(columns)
        .map(|(n, c)| {
            let column = NumericColumn::new(n, c)?;
            let view = column.view(py)?;
            Ok(view.to_f64().into_owned())
        })
        .collect()
}

fn named<'a>(names: &'a [String], columns: &'a [Vec<f64>]) -> Vec<(&'a str, &'a [f64])> {
    names
        .iter()
        .zip(columns)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect()
}

/// `to_json`, `from_json`, `to_dict`, pickling through the document, `==` and `repr`, then the
/// class's own `$extra` items.
macro_rules! document_pymethods {
    ($py_ty:ident, $core:ty, { $($extra:tt)* }) => {
        #[pymethods]
        impl $py_ty {
            /// The model's document: `{"model": ..., "version": 1, ...}`.
            fn to_json(&self) -> PyResult<String> {
                self.inner.to_json().py()
            }

            /// A model from its document, every field checked.
            #[staticmethod]
            fn from_json(text: &str) -> PyResult<Self> {
                Ok(Self {
                    inner: <$core>::from_json(text).py()?,
                })
            }

            /// The document as Python dicts, lists and numbers (no JSON text).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(pythonize::pythonize(py, &self.inner)?)
            }

            fn __reduce__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyAny>, (String,))> {
                let ctor = py.get_type::<Self>().getattr("from_json")?;
                Ok((ctor, (self.to_json()?,)))
            }

            fn __eq__(&self, other: &Self) -> bool {
                self.inner == other.inner
            }

            fn __repr__(&self) -> String {
                self.inner.describe()
            }

            $($extra)*
        }
    };
}

/// A fitted driver model (the core's `DriverModel`).
#[pyclass(module = "cx_metrics._native", name = "DriverModel", frozen)]
pub struct PyDriverModel {
    inner: DriverModel,
}

/// `(driver, indicator, coefficient, fill_value)` of each indicator.
type IndicatorTuple = (String, String, f64, f64);

document_pymethods!(PyDriverModel, DriverModel, {
    /// The model of a fitted driver analysis (its coefficients, not refitted).
    #[staticmethod]
    fn of_analysis(analysis: PyRef<'_, crate::drivers::PyDriverAnalysis>) -> PyResult<Self> {
        Ok(Self {
            inner: DriverModel::from_analysis(&analysis.inner).py()?,
        })
    }
    #[getter]
    fn outcome(&self) -> &str {
        &self.inner.outcome
    }
    #[getter]
    fn outcome_scale(&self) -> Option<(f64, f64)> {
        self.inner.outcome_scale
    }
    #[getter]
    fn intercept(&self) -> f64 {
        self.inner.intercept
    }
    #[getter]
    fn drivers(&self) -> Vec<String> {
        self.inner.drivers.iter().map(|d| d.name.clone()).collect()
    }
    #[getter]
    fn coefficients(&self) -> Vec<f64> {
        self.inner.coefficients()
    }
    #[getter]
    fn scales(&self) -> Vec<Option<(f64, f64)>> {
        self.inner.drivers.iter().map(|d| d.scale).collect()
    }
    #[getter]
    fn missing_codes(&self) -> Vec<Vec<f64>> {
        self.inner
            .drivers
            .iter()
            .map(|d| d.missing_codes.clone())
            .collect()
    }
    #[getter]
    fn indicators(&self) -> Vec<IndicatorTuple> {
        self.inner
            .indicators
            .iter()
            .map(|i| {
                (
                    i.driver.clone(),
                    i.name.clone(),
                    i.coefficient,
                    i.fill_value,
                )
            })
            .collect()
    }
    #[getter]
    fn missing(&self) -> &'static str {
        self.inner.missing.as_str()
    }
    #[getter]
    fn n(&self) -> u64 {
        self.inner.n
    }
    #[getter]
    fn r_squared(&self) -> f64 {
        self.inner.r_squared
    }
    #[getter]
    fn sigma(&self) -> f64 {
        self.inner.sigma
    }

    /// Score the rows of the named columns: `(predicted, unclipped, n_clipped, n_filled,
    /// n_omitted)`.
    #[pyo3(signature = (names, columns, *, nan_policy))]
    #[allow(clippy::type_complexity)]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
        columns: Vec<Bound<'py, PyAny>>,
        nan_policy: &str,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        usize,
        usize,
        usize,
    )> {
        let policy: NanPolicy = nan_policy.parse().py()?;
        let cols = float_columns(py, &names, &columns)?;
        let p = py
            .detach(|| self.inner.predict(&named(&names, &cols), policy))
            .py()?;
        Ok((
            PyArray1::from_vec(py, p.predicted),
            PyArray1::from_vec(py, p.unclipped),
            p.n_clipped,
            p.n_filled,
            p.n_omitted,
        ))
    }
});

/// A fitted logistic (promoter or detractor) model (the core's `LogisticModel`).
#[pyclass(module = "cx_metrics._native", name = "LogisticModel", frozen)]
pub struct PyLogisticModel {
    inner: LogisticModel,
}

document_pymethods!(PyLogisticModel, LogisticModel, {
    /// The model of a fitted promoter or detractor model (its coefficients, not refitted).
    #[staticmethod]
    fn of_nps_model(model: PyRef<'_, crate::nps_models::PyNpsDriverModel>) -> PyResult<Self> {
        Ok(Self {
            inner: LogisticModel::from_regression(&model.inner).py()?,
        })
    }
    #[getter]
    fn outcome(&self) -> &str {
        &self.inner.outcome
    }
    #[getter]
    fn intercept(&self) -> f64 {
        self.inner.intercept
    }
    #[getter]
    fn drivers(&self) -> Vec<String> {
        self.inner.drivers.clone()
    }
    #[getter]
    fn coefficients(&self) -> Vec<f64> {
        self.inner.coefficients.clone()
    }
    #[getter]
    fn n(&self) -> u64 {
        self.inner.n
    }
    #[getter]
    fn n_events(&self) -> u64 {
        self.inner.n_events
    }

    /// The probability of the category for the rows of the named columns: `(probability,
    /// n_omitted)`.
    #[pyo3(signature = (names, columns, *, nan_policy))]
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
        columns: Vec<Bound<'py, PyAny>>,
        nan_policy: &str,
    ) -> PyResult<(Bound<'py, PyArray1<f64>>, usize)> {
        let policy: NanPolicy = nan_policy.parse().py()?;
        let cols = float_columns(py, &names, &columns)?;
        let p = py
            .detach(|| self.inner.predict_proba(&named(&names, &cols), policy))
            .py()?;
        Ok((PyArray1::from_vec(py, p.probability), p.n_omitted))
    }
});

/// A fitted sBG retention model (the core's `RetentionModel`).
#[pyclass(module = "cx_metrics._native", name = "RetentionModel", frozen)]
pub struct PyRetentionModel {
    inner: RetentionModel,
}

fn horizon(periods: Option<u32>, unit: PeriodUnit) -> Horizon {
    match periods {
        None => Horizon::Infinite,
        Some(count) => Horizon::Finite { count, unit },
    }
}

fn unit(name: &str) -> PyResult<PeriodUnit> {
    name.parse().py()
}

document_pymethods!(PyRetentionModel, RetentionModel, {
    /// The model of a fitted sBG.
    #[staticmethod]
    fn of_fit(fit: PyRef<'_, crate::sbg::PySbgFit>) -> PyResult<Self> {
        Ok(Self {
            inner: RetentionModel::from_fit(&fit.inner).py()?,
        })
    }
    #[getter]
    fn alpha(&self) -> f64 {
        self.inner.alpha
    }
    #[getter]
    fn beta(&self) -> f64 {
        self.inner.beta
    }
    #[getter]
    fn n_customers(&self) -> f64 {
        self.inner.n_customers
    }
    /// S(0), ..., S(horizon).
    fn survival_curve<'py>(
        &self,
        py: Python<'py>,
        horizon: u32,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(PyArray1::from_vec(
            py,
            self.inner.survival_curve(horizon).py()?,
        ))
    }
    /// r_1, ..., r_horizon.
    fn retention_curve<'py>(
        &self,
        py: Python<'py>,
        horizon: u32,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(PyArray1::from_vec(
            py,
            self.inner.retention_curve(horizon).py()?,
        ))
    }
    /// The sBG lifetime value: `(value, multiple)` of a customer who has renewed `renewals` times.
    #[pyo3(signature = (margin, discount_rate, *, renewals, horizon, timing, time_unit))]
    fn clv(
        &self,
        margin: f64,
        discount_rate: f64,
        renewals: u32,
        horizon: Option<u32>,
        timing: &str,
        time_unit: &str,
    ) -> PyResult<(f64, f64)> {
        let timing: DiscountTiming = timing.parse().py()?;
        let u = unit(time_unit)?;
        let r = self
            .inner
            .clv(
                margin,
                discount_rate,
                renewals,
                self::horizon(horizon, u),
                timing,
                u,
            )
            .py()?;
        Ok((r.value, r.multiple))
    }
});

/// A fitted BG/NBD (and Gamma-Gamma) lifetime-value model (the core's `ClvModel`).
#[pyclass(module = "cx_metrics._native", name = "ClvModel", frozen)]
pub struct PyClvModel {
    inner: ClvModel,
}

fn rfm<'a>(
    frequency: &'a [f64],
    recency: &'a [f64],
    t: &'a [f64],
) -> cx_metrics::buy_till_you_die::Rfm<'a> {
    cx_metrics::buy_till_you_die::Rfm {
        frequency,
        recency,
        t,
    }
}

document_pymethods!(PyClvModel, ClvModel, {
    /// The model of a fitted BG/NBD and, optionally, Gamma-Gamma model.
    #[staticmethod]
    #[pyo3(signature = (purchases, spend=None))]
    fn of_fits(
        purchases: PyRef<'_, crate::buy_till_you_die::PyBgNbdFit>,
        spend: Option<PyRef<'_, crate::buy_till_you_die::PyGammaGammaFit>>,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: ClvModel::from_fits(&purchases.inner, spend.as_deref().map(|s| &s.inner))
                .py()?,
        })
    }
    /// (r, alpha, a, b).
    #[getter]
    fn bgnbd(&self) -> (f64, f64, f64, f64) {
        let [r, alpha, a, b] = self.inner.bgnbd;
        (r, alpha, a, b)
    }
    /// (p, q, gamma), or None.
    #[getter]
    fn gamma_gamma(&self) -> Option<(f64, f64, f64)> {
        self.inner.gamma_gamma.map(|[p, q, g]| (p, q, g))
    }
    #[getter]
    fn time_unit(&self) -> String {
        self.inner.time_unit.to_string()
    }
    #[getter]
    fn n_customers(&self) -> u64 {
        self.inner.n_customers
    }
    fn p_alive<'py>(
        &self,
        py: Python<'py>,
        frequency: Vec<f64>,
        recency: Vec<f64>,
        t: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let v = self.inner.p_alive(&rfm(&frequency, &recency, &t)).py()?;
        Ok(PyArray1::from_vec(py, v))
    }
    fn conditional_expected_purchases<'py>(
        &self,
        py: Python<'py>,
        horizon: f64,
        frequency: Vec<f64>,
        recency: Vec<f64>,
        t: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let v = self
            .inner
            .conditional_expected_purchases(horizon, &rfm(&frequency, &recency, &t))
            .py()?;
        Ok(PyArray1::from_vec(py, v))
    }
    fn expected_spend<'py>(
        &self,
        py: Python<'py>,
        frequency: Vec<f64>,
        mean_spend: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let v = self.inner.expected_spend(&frequency, &mean_spend).py()?;
        Ok(PyArray1::from_vec(py, v))
    }
    /// The discounted lifetime value of each customer.
    #[pyo3(signature = (frequency, recency, t, mean_spend, *, margin, discount_rate, horizon, timing, time_unit))]
    #[allow(clippy::too_many_arguments)]
    fn clv<'py>(
        &self,
        py: Python<'py>,
        frequency: Vec<f64>,
        recency: Vec<f64>,
        t: Vec<f64>,
        mean_spend: Vec<f64>,
        margin: f64,
        discount_rate: f64,
        horizon: u32,
        timing: &str,
        time_unit: &str,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let timing: DiscountTiming = timing.parse().py()?;
        let u = unit(time_unit)?;
        let r = self
            .inner
            .clv(
                &rfm(&frequency, &recency, &t),
                &mean_spend,
                margin,
                discount_rate,
                Horizon::Finite {
                    count: horizon,
                    unit: u,
                },
                timing,
                u,
            )
            .py()?;
        Ok(PyArray1::from_vec(py, r.values))
    }
});
