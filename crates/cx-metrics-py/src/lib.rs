//! Python bindings of `cx-metrics`: conversion and error mapping only.
use pyo3::prelude::*;

/// The native module behind `cx_metrics`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
