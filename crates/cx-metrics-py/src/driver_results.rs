//! What is derived from a driver analysis: its bootstrap, the importance–performance matrix and the
//! what-if simulation, each the core's result as a Python class (scalars as getters, the rest through
//! `to_dict`).

use cx_metrics::drivers::{BootstrapEstimate, DriverBootstrap, ImportancePerformance, WhatIf};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;

use crate::serde_result::serde_pymethods;
use crate::{interval_tuple, IntervalTuple};

/// The serde name of a unit enum variant (`"top_box"`, `"higher_is_better"`, ...).
pub(crate) fn serde_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => e.to_string(),
    }
}

fn floats<'py, T>(py: Python<'py>, rows: &[T], f: impl Fn(&T) -> f64) -> Bound<'py, PyArray1<f64>> {
    PyArray1::from_iter(py, rows.iter().map(f))
}

fn counts<'py, T>(py: Python<'py>, rows: &[T], f: impl Fn(&T) -> u64) -> Bound<'py, PyArray1<u64>> {
    PyArray1::from_iter(py, rows.iter().map(f))
}

/// Bootstrap of a driver analysis (the core's `DriverBootstrap`).
#[pyclass(module = "cx_metrics._native", name = "DriverBootstrap", frozen)]
pub struct PyDriverBootstrap {
    pub(crate) inner: DriverBootstrap,
}

serde_pymethods!(
    PyDriverBootstrap,
    DriverBootstrap,
    |inner| PyDriverBootstrap { inner },
    {
        #[getter]
        fn outcome(&self) -> &str {
            &self.inner.outcome
        }
        #[getter]
        fn units(&self) -> Vec<String> {
            self.inner.units.clone()
        }
        /// The measures bootstrapped, the ranking one first.
        #[getter]
        fn measures(&self) -> Vec<String> {
            self.inner
                .importance
                .iter()
                .map(|m| m.measure.to_string())
                .collect()
        }
        #[getter]
        fn n(&self) -> usize {
            self.inner.n
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
        #[getter]
        fn adjustment(&self) -> String {
            serde_name(&self.inner.adjustment)
        }
        /// The bootstrapped shares (each unit's score over the measure's sum, replicate by
        /// replicate), measure by measure (a measure without shares has no rows): `measure` and
        /// `term` (lists), then one array per figure as in `estimates`.
        #[getter]
        fn share_estimates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
            let mut keys: Vec<(String, &str)> = Vec::new();
            let mut rows: Vec<&BootstrapEstimate> = Vec::new();
            for m in &self.inner.importance {
                for e in m.shares.iter().flatten() {
                    keys.push((m.measure.to_string(), &e.name));
                    rows.push(e);
                }
            }
            estimate_table(py, &keys, &rows)
        }
        /// Fitted replicates without shares (their scores summed to 0), per measure.
        #[getter]
        fn n_share_failed(&self) -> Vec<(String, usize)> {
            self.inner
                .importance
                .iter()
                .map(|m| (m.measure.to_string(), m.n_share_failed))
                .collect()
        }
        /// How many times each resampled row was drawn, one row per replicate: an
        /// `(n_resamples, n)` array (the core's `DriverBootstrap::resample_counts`).
        fn resample_counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<u32>>> {
            let b = &self.inner;
            let rows: Vec<Vec<u32>> =
                py.detach(|| (0..b.n_resamples).map(|r| b.resample_counts(r)).collect());
            PyArray2::from_vec2(py, &rows).map_err(|e| crate::errors::invalid_argument("counts", e))
        }
        /// Every bootstrapped figure, importance (measure by measure) first, then the coefficients
        /// (measure `"coefficient"`): `measure` and `term` (lists), then one array per figure (BCa
        /// bounds NaN where BCa is undefined).
        #[getter]
        fn estimates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
            let mut keys: Vec<(String, &str)> = Vec::new();
            let mut rows: Vec<&BootstrapEstimate> = Vec::new();
            for m in &self.inner.importance {
                for e in &m.scores {
                    keys.push((m.measure.to_string(), &e.name));
                    rows.push(e);
                }
            }
            for e in &self.inner.coefficients {
                keys.push(("coefficient".to_owned(), &e.name));
                rows.push(e);
            }
            estimate_table(py, &keys, &rows)
        }
    }
);

/// `measure` and `term` (lists), then one array per figure of the estimates (BCa bounds NaN where
/// BCa is undefined).
fn estimate_table<'py>(
    py: Python<'py>,
    keys: &[(String, &str)],
    rows: &[&BootstrapEstimate],
) -> PyResult<Bound<'py, PyDict>> {
    let nan = f64::NAN;
    let d = PyDict::new(py);
    d.set_item(
        "measure",
        keys.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
    )?;
    d.set_item("term", keys.iter().map(|k| k.1).collect::<Vec<_>>())?;
    d.set_item("estimate", floats(py, rows, |e| e.estimate))?;
    d.set_item("std_error", floats(py, rows, |e| e.std_error))?;
    d.set_item("bias", floats(py, rows, |e| e.bias))?;
    d.set_item("ci_low", floats(py, rows, |e| e.percentile.low))?;
    d.set_item("ci_high", floats(py, rows, |e| e.percentile.high))?;
    d.set_item(
        "bca_low",
        floats(py, rows, |e| e.bca.map_or(nan, |i| i.low)),
    )?;
    d.set_item(
        "bca_high",
        floats(py, rows, |e| e.bca.map_or(nan, |i| i.high)),
    )?;
    Ok(d)
}

/// The importance–performance matrix (the core's `ImportancePerformance`).
#[pyclass(module = "cx_metrics._native", name = "ImportancePerformance", frozen)]
pub struct PyImportancePerformance {
    pub(crate) inner: ImportancePerformance,
}

serde_pymethods!(
    PyImportancePerformance,
    ImportancePerformance,
    |inner| PyImportancePerformance { inner },
    {
        #[getter]
        fn measure(&self) -> String {
            self.inner.measure.to_string()
        }
        #[getter]
        fn share(&self) -> bool {
            self.inner.share
        }
        #[getter]
        fn performance(&self) -> String {
            serde_name(&self.inner.performance)
        }
        #[getter]
        fn importance_line(&self) -> f64 {
            self.inner.importance_line
        }
        #[getter]
        fn performance_line(&self) -> f64 {
            self.inner.performance_line
        }
        #[getter]
        fn direction(&self) -> String {
            serde_name(&self.inner.direction)
        }
        /// Where the importance intervals came from (a dict of the core's `ImportanceIntervalSource`),
        /// when read from a bootstrap; None otherwise.
        #[getter]
        fn importance_source<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
            self.inner
                .importance_source
                .as_ref()
                .map(|s| Ok(pythonize::pythonize(py, s)?))
                .transpose()
        }
        /// One row per driver (input order): `driver` and `quadrant` (lists), then one array per
        /// figure.
        #[getter]
        fn drivers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
            let r = &self.inner.drivers;
            let d = PyDict::new(py);
            d.set_item(
                "driver",
                r.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
            )?;
            d.set_item("importance", floats(py, r, |x| x.importance))?;
            d.set_item("performance", floats(py, r, |x| x.performance))?;
            d.set_item("headroom", floats(py, r, |x| x.headroom))?;
            d.set_item("expected_gain", floats(py, r, |x| x.expected_gain))?;
            let quadrants: Vec<String> = r.iter().map(|x| serde_name(&x.quadrant)).collect();
            d.set_item("quadrant", quadrants)?;
            let flags = |f: fn(&cx_metrics::drivers::MatrixDriver) -> bool| {
                PyArray1::from_iter(py, r.iter().map(f))
            };
            d.set_item("uncertain_importance", flags(|x| x.uncertain_importance))?;
            d.set_item("uncertain_performance", flags(|x| x.uncertain_performance))?;
            d.set_item("priority", counts(py, r, |x| x.priority as u64))?;
            d.set_item("n", counts(py, r, |x| x.n))?;
            d.set_item("n_missing", counts(py, r, |x| x.n_missing))?;
            Ok(d)
        }
    }
);

/// Expected NPS under changed driver ratings (the core's `WhatIf`).
#[pyclass(module = "cx_metrics._native", name = "WhatIf", frozen)]
pub struct PyWhatIf {
    pub(crate) inner: WhatIf,
}

serde_pymethods!(PyWhatIf, WhatIf, |inner| PyWhatIf { inner }, {
    #[getter]
    fn baseline(&self) -> f64 {
        self.inner.baseline
    }
    #[getter]
    fn simulated(&self) -> f64 {
        self.inner.simulated
    }
    #[getter]
    fn change(&self) -> f64 {
        self.inner.change
    }
    /// The bootstrap interval of the change, `(low, high, confidence_level, clipped)`.
    #[getter]
    fn interval(&self) -> Option<IntervalTuple> {
        self.inner.interval.map(interval_tuple)
    }
    #[getter]
    fn n(&self) -> u64 {
        self.inner.n
    }
    #[getter]
    fn n_omitted(&self) -> usize {
        self.inner.n_omitted
    }
    #[getter]
    fn n_zero_weight(&self) -> u64 {
        self.inner.n_zero_weight
    }
    #[getter]
    fn n_capped(&self) -> u64 {
        self.inner.n_capped
    }
    #[getter]
    fn n_clipped_low(&self) -> u64 {
        self.inner.n_clipped_low
    }
    #[getter]
    fn n_clipped_high(&self) -> u64 {
        self.inner.n_clipped_high
    }
    #[getter]
    fn binning(&self) -> String {
        serde_name(&self.inner.binning)
    }
    #[getter]
    fn n_resamples(&self) -> usize {
        self.inner.n_resamples
    }
    #[getter]
    fn n_failed_resamples(&self) -> usize {
        self.inner.n_failed_resamples
    }
    #[getter]
    fn seed(&self) -> Option<u64> {
        self.inner.seed
    }
    /// What each shifted driver's change did: `driver` (list), then one array per figure; the shifts
    /// themselves are in `to_dict()["scenario"]`.
    #[getter]
    fn scenario<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.inner.scenario;
        let d = PyDict::new(py);
        d.set_item(
            "driver",
            r.iter().map(|x| x.driver.as_str()).collect::<Vec<_>>(),
        )?;
        d.set_item("coefficient", floats(py, r, |x| x.coefficient))?;
        d.set_item("n_changed", counts(py, r, |x| x.n_changed))?;
        d.set_item("n_capped", counts(py, r, |x| x.n_capped))?;
        d.set_item("mean_change", floats(py, r, |x| x.mean_change))?;
        d.set_item("top_box_before", floats(py, r, |x| x.top_box_before))?;
        d.set_item("top_box_after", floats(py, r, |x| x.top_box_after))?;
        Ok(d)
    }
});
