//! CES: `Ces2Tally`/`Ces1Tally`, `Ces2Result`/`Ces1Result`, `compare_ces2`/`compare_ces1`.
//!
//! The core keeps CES 2.0 (1–7, higher is better) and CES 1.0 (1–5 effort, lower is better) as distinct
//! types that cannot be merged or compared; the bindings keep them apart the same way.

use cx_metrics::{CesVersion, ProportionMethod};
use pyo3::prelude::*;

use crate::arrays::impl_fold;
use crate::comparison::PyProportionComparison;
use crate::errors::IntoPyResult;
use crate::interval_tuple;
use crate::tally::{result_pymethods, tally_pymethods};

macro_rules! ces_version {
    ($version:ty, $tally:ident, $tally_name:literal, $result:ident, $result_name:literal, $compare:ident) => {
        impl_fold!(cx_metrics::CesTally<$version>);

        /// Mergeable counts of CES answers of one version. `fold` is safe from several threads at
        /// once (each batch is counted with the GIL released, then merged); results do not depend
        /// on the unit of the weights.
        #[pyclass(module = "cx_metrics._native", name = $tally_name, eq)]
        #[derive(Clone, PartialEq)]
        pub struct $tally {
            pub(crate) inner: cx_metrics::CesTally<$version>,
        }

        tally_pymethods!($tally, cx_metrics::CesTally<$version>, {
            #[new]
            fn new() -> Self {
                Self {
                    inner: cx_metrics::CesTally::new(),
                }
            }

            /// CES figures of everything folded so far.
            fn result(&self) -> $result {
                $result {
                    inner: self.inner.result(),
                }
            }

            fn __repr__(&self) -> String {
                format!(
                    "{}(n={}, n_omitted={})",
                    $tally_name,
                    self.inner.tally().n(),
                    self.inner.tally().n_omitted(),
                )
            }
        });

        /// CES figures of one sample.
        #[pyclass(module = "cx_metrics._native", name = $result_name, frozen, eq)]
        #[derive(Clone, PartialEq)]
        pub struct $result {
            pub(crate) inner: cx_metrics::CesResult<$version>,
        }

        result_pymethods!($result, cx_metrics::CesResult<$version>, {
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
            fn mean(&self) -> f64 {
                self.inner.mean
            }
            #[getter]
            fn sd(&self) -> f64 {
                self.inner.sd
            }
            #[getter]
            fn share_agree(&self) -> f64 {
                self.inner.share_agree
            }
            #[getter]
            fn share_neutral(&self) -> f64 {
                self.inner.share_neutral
            }
            #[getter]
            fn share_disagree(&self) -> f64 {
                self.inner.share_disagree
            }
            #[getter]
            fn net(&self) -> f64 {
                self.inner.net
            }
            #[getter]
            fn distribution(&self) -> Vec<f64> {
                self.inner.distribution.clone()
            }
            /// The lowest and highest point counted in `share_agree` (the easy side).
            #[getter]
            fn agree_points(&self) -> (i32, i32) {
                <$version as CesVersion>::AGREE
            }
            /// The lowest and highest point counted in `share_disagree` (the hard side).
            #[getter]
            fn disagree_points(&self) -> (i32, i32) {
                <$version as CesVersion>::DISAGREE
            }
            #[getter]
            fn undefined(&self) -> Option<String> {
                self.inner.undefined.map(|u| u.to_string())
            }
            /// Interval of the agree share: `(low, high, confidence_level, clipped)`.
            fn ci(&self, confidence_level: f64, method: &str) -> PyResult<(f64, f64, f64, bool)> {
                let m: ProportionMethod = method.parse().py()?;
                Ok(interval_tuple(self.inner.ci(confidence_level, m).py()?))
            }
            /// Interval of the disagree share.
            fn disagree_ci(
                &self,
                confidence_level: f64,
                method: &str,
            ) -> PyResult<(f64, f64, f64, bool)> {
                let m: ProportionMethod = method.parse().py()?;
                Ok(interval_tuple(
                    self.inner.disagree_ci(confidence_level, m).py()?,
                ))
            }
            /// t interval of the mean rating.
            fn mean_ci(&self, confidence_level: f64) -> PyResult<(f64, f64, f64, bool)> {
                Ok(interval_tuple(self.inner.mean_ci(confidence_level).py()?))
            }
        });

        /// Compare the agree shares of two results of this version, `a − b`.
        #[pyfunction]
        pub fn $compare(
            a: &$result,
            b: &$result,
            confidence_level: f64,
        ) -> PyResult<PyProportionComparison> {
            Ok(PyProportionComparison {
                inner: cx_metrics::compare_ces(&a.inner, &b.inner, confidence_level).py()?,
            })
        }
    };
}

ces_version!(
    cx_metrics::Ces2,
    PyCes2Tally,
    "Ces2Tally",
    PyCes2Result,
    "Ces2Result",
    compare_ces2
);
ces_version!(
    cx_metrics::Ces1,
    PyCes1Tally,
    "Ces1Tally",
    PyCes1Result,
    "Ces1Result",
    compare_ces1
);
