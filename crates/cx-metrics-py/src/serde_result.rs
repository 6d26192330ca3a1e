//! What every result pyclass of the analyses shares: `to_json` / `from_json` (serde JSON, for storage),
//! `to_dict` (serde straight to Python objects, no text) and pickling through JSON.
//!
//! Results hold only the core's result in what they serialise; rows kept in memory for methods that
//! need them are never part of it.

/// Generate the `#[pymethods]` block of a frozen result pyclass wrapping serde-able `$core` in field
/// `inner`: `$make` builds the class from a restored `inner` (with nothing else kept). Then the class's
/// own `$extra` items.
macro_rules! serde_pymethods {
    ($py_ty:ident, $core:ty, |$inner:ident| $make:expr, { $($extra:tt)* }) => {
        #[pymethods]
        impl $py_ty {
            /// The result as JSON text (NaN and infinities as `null`).
            fn to_json(&self) -> PyResult<String> {
                serde_json::to_string(&self.inner)
                    .map_err(|e| $crate::errors::invalid_argument("result", e))
            }

            /// A result from the JSON text written by `to_json`.
            #[staticmethod]
            fn from_json(text: &str) -> PyResult<Self> {
                serde_json::from_str::<$core>(text)
                    .map(|$inner| $make)
                    .map_err(|e| $crate::errors::invalid_argument("result", e))
            }

            /// The result as Python dicts, lists and numbers, straight from serde (no JSON text).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(pythonize::pythonize(py, &self.inner)?)
            }

            fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
                let ctor = py.get_type::<Self>().getattr("from_json")?;
                Ok((ctor, (self.to_json()?,)))
            }

            $($extra)*
        }
    };
}

pub(crate) use serde_pymethods;
