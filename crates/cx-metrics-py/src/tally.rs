//! What every tally pyclass shares: fold, merge, `+`, equality, JSON and pickle (serde JSON bytes).

/// Generate the `#[pymethods]` block of a tally pyclass wrapping `$core` in field `inner`,
/// with the shared methods followed by the class's own `$extra` items.
macro_rules! tally_pymethods {
    ($py_ty:ident, $core:ty, { $($extra:tt)* }) => {
        #[pymethods]
        impl $py_ty {
            /// Validate and count `values` (a 1-D numpy array), optionally weighted; changes nothing on error.
            #[pyo3(signature = (values, weights=None, nan_policy="omit"))]
            fn fold(
                &mut self,
                values: &Bound<'_, PyAny>,
                weights: Option<numpy::PyReadonlyArray1<'_, f64>>,
                nan_policy: &str,
            ) -> PyResult<()> {
                $crate::arrays::fold_into(&mut self.inner, values, weights, nan_policy)
            }

            /// Fold `other` into this tally, in place.
            fn merge(&mut self, other: &Self) -> PyResult<()> {
                use $crate::errors::IntoPyResult;
                cx_metrics::Merge::merge(&mut self.inner, &other.inner).py()
            }

            fn __add__(&self, other: &Self) -> PyResult<Self> {
                use $crate::errors::IntoPyResult;
                let mut inner = self.inner.clone();
                cx_metrics::Merge::merge(&mut inner, &other.inner).py()?;
                Ok(Self { inner })
            }

            /// Rows counted (missing values excluded).
            #[getter]
            fn n(&self) -> u64 {
                $crate::arrays::Fold::counts(&self.inner).n()
            }

            /// Rows omitted as missing.
            #[getter]
            fn n_omitted(&self) -> u64 {
                $crate::arrays::Fold::counts(&self.inner).n_omitted()
            }

            /// The state as JSON text.
            fn to_json(&self) -> PyResult<String> {
                serde_json::to_string(&self.inner)
                    .map_err(|e| $crate::errors::invalid_argument("state", e))
            }

            /// A tally from the JSON text written by `to_json`.
            #[staticmethod]
            fn from_json(text: &str) -> PyResult<Self> {
                serde_json::from_str::<$core>(text)
                    .map(|inner| Self { inner })
                    .map_err(|e| $crate::errors::invalid_argument("state", e))
            }

            /// The state as JSON bytes (what pickle stores).
            fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
                let v = serde_json::to_vec(&self.inner)
                    .map_err(|e| $crate::errors::invalid_argument("state", e))?;
                Ok(pyo3::types::PyBytes::new(py, &v))
            }

            /// A tally from the bytes written by `to_bytes`.
            #[staticmethod]
            fn from_bytes(data: &[u8]) -> PyResult<Self> {
                serde_json::from_slice::<$core>(data)
                    .map(|inner| Self { inner })
                    .map_err(|e| $crate::errors::invalid_argument("state", e))
            }

            fn __reduce__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, pyo3::types::PyBytes>,))> {
                let ctor = py.get_type::<Self>().getattr("from_bytes")?;
                Ok((ctor, (self.to_bytes(py)?,)))
            }

            $($extra)*
        }
    };
}

pub(crate) use tally_pymethods;

/// Generate the `#[pymethods]` block of a frozen result pyclass wrapping serde-able `$core` in `inner`:
/// JSON, pickle, then the class's own `$extra` items.
macro_rules! result_pymethods {
    ($py_ty:ident, $core:ty, { $($extra:tt)* }) => {
        #[pymethods]
        impl $py_ty {
            /// The result as JSON text.
            fn to_json(&self) -> PyResult<String> {
                serde_json::to_string(&self.inner)
                    .map_err(|e| $crate::errors::invalid_argument("result", e))
            }

            /// A result from the JSON text written by `to_json`.
            #[staticmethod]
            fn from_json(text: &str) -> PyResult<Self> {
                serde_json::from_str::<$core>(text)
                    .map(|inner| Self { inner })
                    .map_err(|e| $crate::errors::invalid_argument("result", e))
            }

            fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
                let ctor = py.get_type::<Self>().getattr("from_json")?;
                Ok((ctor, (self.to_json()?,)))
            }

            $($extra)*
        }
    };
}

pub(crate) use result_pymethods;
