//! What is derived from a driver analysis: its bootstrap, the importance–performance matrix and the
//! what-if simulation, each the core's result as a Python class (scalars as getters, the rest through
//! `to_dict`).

use cx_metrics::drivers::{DriverBootstrap, ImportancePerformance, WhatIf};
use pyo3::prelude::*;
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
    }
);

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
    fn n_dropped(&self) -> usize {
        self.inner.n_dropped
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
});
