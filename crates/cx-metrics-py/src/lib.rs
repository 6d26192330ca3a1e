//! Python bindings of `cx-metrics`: conversion and error mapping only.
//!
//! The statistics live in the core crate; this crate turns numpy arrays into slices, option strings into
//! the core's enums (through their `FromStr`), core errors into `cx_metrics.exceptions` classes, and core
//! states and results into Python classes.
use pyo3::prelude::*;

mod arrays;
mod errors;
mod scale_tally;
mod tally;

/// The native module behind `cx_metrics`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<scale_tally::PyScaleTally>()?;
    Ok(())
}
