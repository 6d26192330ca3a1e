//! Promoter and detractor models: the core's logistic `LogisticRegression` as a Python class.

use cx_metrics::logistic::{
    LogisticBootstrap, LogisticOptions, LogisticRegression, LogisticTerm, NpsOutcome, WeightKind,
};
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::drivers::Rows;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;

/// Logistic model of promoters or detractors (`target`) on the drivers.
#[pyfunction]
#[pyo3(signature = (y, names, columns, weights, *, target, confidence_level, options=None, weight_kind = "sampling"))]
#[allow(clippy::too_many_arguments)]
pub fn nps_model(
    py: Python<'_>,
    y: Bound<'_, PyAny>,
    names: Vec<String>,
    columns: Vec<Bound<'_, PyAny>>,
    weights: Option<Bound<'_, PyAny>>,
    target: &str,
    confidence_level: f64,
    options: Option<PyRef<'_, crate::drivers::PyDriverOptions>>,
    weight_kind: &str,
) -> PyResult<PyNpsDriverModel> {
    let target: NpsOutcome = target.parse().py()?;
    let weight_kind: WeightKind = weight_kind.parse().py()?;
    let rows = Rows::new(target.id(), &y, names, &columns, weights.as_ref())?;
    let views = rows.views(py)?;
    let data = views.data();
    let o = LogisticOptions {
        confidence_level,
        weight_kind,
        ..LogisticOptions::default()
    };
    if let Some(sample) = options {
        // The sample of a driver analysis with these options: declared codes, scales, `missing=`.
        let sample = &sample.inner;
        let (inner, _) = py
            .detach(|| {
                cx_metrics::drivers::nps_model_of_sample(
                    target,
                    &data.y,
                    &data.drivers(),
                    data.weights.as_deref(),
                    sample,
                    &o,
                )
            })
            .py()?;
        return Ok(PyNpsDriverModel { inner });
    }
    let inner = py
        .detach(|| {
            cx_metrics::nps_model(
                target,
                &data.y,
                &data.drivers(),
                data.weights.as_deref(),
                &o,
            )
        })
        .py()?;
    Ok(PyNpsDriverModel { inner })
}

/// Percentile bootstrap of the promoter or detractor model (`target`) on the drivers.
#[pyfunction]
#[pyo3(signature = (y, names, columns, weights, *, target, confidence_level, weight_kind, n_resamples, seed))]
#[allow(clippy::too_many_arguments)]
pub fn nps_model_bootstrap(
    py: Python<'_>,
    y: Bound<'_, PyAny>,
    names: Vec<String>,
    columns: Vec<Bound<'_, PyAny>>,
    weights: Option<Bound<'_, PyAny>>,
    target: &str,
    confidence_level: f64,
    weight_kind: &str,
    n_resamples: usize,
    seed: u64,
) -> PyResult<PyNpsModelBootstrap> {
    let target: NpsOutcome = target.parse().py()?;
    let weight_kind: WeightKind = weight_kind.parse().py()?;
    let rows = Rows::new(target.id(), &y, names, &columns, weights.as_ref())?;
    let views = rows.views(py)?;
    let data = views.data();
    let o = LogisticOptions {
        confidence_level,
        weight_kind,
        ..LogisticOptions::default()
    };
    let inner = py
        .detach(|| {
            cx_metrics::logistic::nps_model_bootstrap(
                target,
                &data.y,
                &data.drivers(),
                data.weights.as_deref(),
                &o,
                n_resamples,
                seed,
            )
        })
        .py()?;
    Ok(PyNpsModelBootstrap { inner })
}

/// A percentile bootstrap of a promoter or detractor model (the core's `LogisticBootstrap`).
#[pyclass(module = "cx_metrics._native", name = "NpsModelBootstrap", frozen)]
pub struct PyNpsModelBootstrap {
    inner: LogisticBootstrap,
}

serde_pymethods!(
    PyNpsModelBootstrap,
    LogisticBootstrap,
    |inner| PyNpsModelBootstrap { inner },
    {
        #[getter]
        fn target(&self) -> &str {
            &self.inner.outcome
        }
        #[getter]
        fn n_resamples(&self) -> usize {
            self.inner.n_resamples
        }
        #[getter]
        fn n_failed(&self) -> usize {
            self.inner.n_failed
        }
        #[getter]
        fn seed(&self) -> u64 {
            self.inner.seed
        }
        #[getter]
        fn confidence_level(&self) -> f64 {
            self.inner.confidence_level
        }
        /// The warnings' sentences.
        #[getter]
        fn warning_messages(&self) -> Vec<String> {
            self.inner.warnings.iter().map(|w| w.message()).collect()
        }
        /// The table, intercept first: `term` (list) and one array per figure.
        #[getter]
        fn coefficients<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
            let b = &self.inner;
            let k = b.terms.len();
            let col = |f: &dyn Fn(usize) -> f64| PyArray1::from_iter(py, (0..k).map(f));
            let d = PyDict::new(py);
            d.set_item("term", b.terms.clone())?;
            d.set_item("estimate", col(&|j| b.estimates[j]))?;
            d.set_item("std_error", col(&|j| b.std_errors[j]))?;
            d.set_item("ci_low", col(&|j| b.intervals[j].low))?;
            d.set_item("ci_high", col(&|j| b.intervals[j].high))?;
            d.set_item("odds_ratio", col(&|j| b.estimates[j].exp()))?;
            d.set_item("or_ci_low", col(&|j| b.odds_ratio_intervals[j].low))?;
            d.set_item("or_ci_high", col(&|j| b.odds_ratio_intervals[j].high))?;
            Ok(d)
        }
    }
);

/// A logistic model of being a promoter or a detractor (the core's `LogisticRegression`).
#[pyclass(module = "cx_metrics._native", name = "NpsDriverModel", frozen)]
pub struct PyNpsDriverModel {
    pub(crate) inner: LogisticRegression,
}

fn column<'py>(
    py: Python<'py>,
    terms: &[&LogisticTerm],
    f: impl Fn(&LogisticTerm) -> f64,
) -> Bound<'py, PyArray1<f64>> {
    PyArray1::from_iter(py, terms.iter().map(|t| f(t)))
}

serde_pymethods!(
    PyNpsDriverModel,
    LogisticRegression,
    |inner| PyNpsDriverModel { inner },
    {
        /// `"promoter"` or `"detractor"`.
        #[getter]
        fn target(&self) -> &str {
            &self.inner.outcome
        }
        #[getter]
        fn drivers(&self) -> Vec<String> {
            self.inner.drivers.iter().map(|t| t.name.clone()).collect()
        }
        #[getter]
        fn pseudo_r2(&self) -> f64 {
            self.inner.pseudo_r2
        }
        #[getter]
        fn n(&self) -> usize {
            self.inner.n
        }
        #[getter]
        fn n_events(&self) -> usize {
            self.inner.n_events
        }
        #[getter]
        fn n_omitted(&self) -> usize {
            self.inner.n_omitted
        }
        #[getter]
        fn log_likelihood(&self) -> f64 {
            self.inner.log_likelihood
        }
        #[getter]
        fn null_log_likelihood(&self) -> f64 {
            self.inner.null_log_likelihood
        }
        #[getter]
        fn aic(&self) -> f64 {
            self.inner.aic
        }
        #[getter]
        fn converged(&self) -> bool {
            self.inner.converged
        }
        #[getter]
        fn confidence_level(&self) -> f64 {
            self.inner.confidence_level
        }
        /// `"model-based"` or `"sandwich (HC0)"`: which standard errors the table carries.
        #[getter]
        fn std_error_type(&self) -> &'static str {
            self.inner.std_error_type.label()
        }
        /// The warnings' sentences (rounded figures and what to do).
        #[getter]
        fn warning_messages(&self) -> Vec<String> {
            self.inner.warnings.iter().map(|w| w.message()).collect()
        }
        /// `"sampling"`, `"frequency"`, or `None` without weights.
        #[getter]
        fn weight_kind(&self) -> Option<&'static str> {
            self.inner.weight_kind.map(|k| k.as_str())
        }
        /// The table, intercept first: `term` (list) and one array per figure.
        #[getter]
        fn coefficients<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
            let terms: Vec<&LogisticTerm> = std::iter::once(&self.inner.intercept)
                .chain(&self.inner.drivers)
                .collect();
            let d = PyDict::new(py);
            d.set_item(
                "term",
                terms.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            )?;
            d.set_item("estimate", column(py, &terms, |t| t.estimate))?;
            d.set_item("std_error", column(py, &terms, |t| t.std_error))?;
            d.set_item("z", column(py, &terms, |t| t.z))?;
            d.set_item("p_value", column(py, &terms, |t| t.p_value))?;
            d.set_item("ci_low", column(py, &terms, |t| t.interval.low))?;
            d.set_item("ci_high", column(py, &terms, |t| t.interval.high))?;
            d.set_item("odds_ratio", column(py, &terms, |t| t.odds_ratio))?;
            d.set_item(
                "or_ci_low",
                column(py, &terms, |t| t.odds_ratio_interval.low),
            )?;
            d.set_item(
                "or_ci_high",
                column(py, &terms, |t| t.odds_ratio_interval.high),
            )?;
            Ok(d)
        }
    }
);
