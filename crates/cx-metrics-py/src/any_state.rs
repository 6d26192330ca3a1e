//! `State` and `StateResult`: every state of the core that is made by kind name
//! (`cx_metrics::any_state::AnyState`) crosses through these two classes, so a new kind needs no
//! binding code, no line here and no stub of its own.

use std::borrow::Cow;

use cx_metrics::any_state::{AnyState, Column, Columns, Finished};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::arrays::contiguous;
use crate::errors::{invalid_argument, IntoPyResult};

/// A column as it crossed: numpy arrays are borrowed (copied only when not contiguous), text is
/// read into strings.
enum Owned<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    I64(PyReadonlyArray1<'py, i64>),
    U8(PyReadonlyArray1<'py, u8>),
    Bool(PyReadonlyArray1<'py, bool>),
    Text(Vec<String>),
}

fn owned<'py>(name: &str, value: &Bound<'py, PyAny>) -> PyResult<Owned<'py>> {
    if let Ok(a) = value.extract::<PyReadonlyArray1<'py, f64>>() {
        return Ok(Owned::F64(a));
    }
    if let Ok(a) = value.extract::<PyReadonlyArray1<'py, i64>>() {
        return Ok(Owned::I64(a));
    }
    if let Ok(a) = value.extract::<PyReadonlyArray1<'py, u8>>() {
        return Ok(Owned::U8(a));
    }
    if let Ok(a) = value.extract::<PyReadonlyArray1<'py, bool>>() {
        return Ok(Owned::Bool(a));
    }
    if let Ok(v) = value.extract::<Vec<String>>() {
        return Ok(Owned::Text(v));
    }
    Err(invalid_argument(
        "columns",
        format!(
            "column {name:?} is a {}; give a 1-D numpy array of float64, int64, uint8 or bool, or a \
             list of str",
            value.get_type().name()?
        ),
    ))
}

enum Slice<'a> {
    F64(Cow<'a, [f64]>),
    I64(Cow<'a, [i64]>),
    U8(Cow<'a, [u8]>),
    Bool(Cow<'a, [bool]>),
    Text(Vec<&'a str>),
}

impl<'a> Slice<'a> {
    fn of(o: &'a Owned<'_>) -> Self {
        match o {
            Owned::F64(a) => Self::F64(contiguous(a)),
            Owned::I64(a) => Self::I64(contiguous(a)),
            Owned::U8(a) => Self::U8(contiguous(a)),
            Owned::Bool(a) => Self::Bool(contiguous(a)),
            Owned::Text(v) => Self::Text(v.iter().map(String::as_str).collect()),
        }
    }

    fn column(&self) -> Column<'_> {
        match self {
            Self::F64(v) => Column::F64(v),
            Self::I64(v) => Column::I64(v),
            Self::U8(v) => Column::U8(v),
            Self::Bool(v) => Column::Bool(v),
            Self::Text(v) => Column::Text(v),
        }
    }
}

fn serde_value(obj: Option<&Bound<'_, PyAny>>) -> PyResult<serde_json::Value> {
    match obj {
        None => Ok(serde_json::Value::Object(serde_json::Map::new())),
        Some(o) => pythonize::depythonize(o).map_err(|e| invalid_argument("config", e)),
    }
}

/// A mergeable state of any kind made by name (`State("handling_tally", {...})`).
#[pyclass(module = "cx_metrics._native", name = "State", eq)]
#[derive(Clone, PartialEq)]
pub struct PyState {
    inner: AnyState,
}

#[pymethods]
impl PyState {
    #[new]
    #[pyo3(signature = (kind, config=None))]
    fn new(kind: &str, config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(Self {
            inner: AnyState::new(kind, serde_value(config)?).py()?,
        })
    }

    /// The kind's name (`"handling_tally"`).
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind().name()
    }

    /// Rows (or units) counted.
    #[getter]
    fn n(&self) -> u64 {
        self.inner.n()
    }

    /// The state's fields as Python objects (what its JSON's `"state"` holds), straight from serde.
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.data())?)
    }

    /// Fold a batch of named columns (numpy arrays or lists of str) and optional weights, with the
    /// GIL released; on error nothing changes.
    #[pyo3(signature = (columns, weights=None))]
    fn fold(
        &mut self,
        py: Python<'_>,
        columns: &Bound<'_, PyDict>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let mut names = Vec::with_capacity(columns.len());
        let mut owned_columns = Vec::with_capacity(columns.len());
        for (k, v) in columns.iter() {
            let name: String = k.extract()?;
            owned_columns.push(owned(&name, &v)?);
            names.push(name);
        }
        let slices: Vec<Slice<'_>> = owned_columns.iter().map(Slice::of).collect();
        let w = weights.as_ref().map(contiguous);
        let inner = &mut self.inner;
        py.detach(|| {
            let named = names
                .iter()
                .zip(&slices)
                .map(|(n, s)| (n.as_str(), s.column()))
                .collect();
            inner.fold(&Columns::new(named), w.as_deref())
        })
        .py()
    }

    /// Fold `other` (a state of the same kind) into this one, in place.
    fn merge(&mut self, other: &Self) -> PyResult<()> {
        self.inner.merge(&other.inner).py()
    }

    fn __add__(&self, other: &Self) -> PyResult<Self> {
        let mut inner = self.inner.clone();
        inner.merge(&other.inner).py()?;
        Ok(Self { inner })
    }

    /// `0 + state` is the state, so that `sum(states)` works.
    fn __radd__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if other.extract::<i64>().is_ok_and(|v| v == 0) {
            return Ok(Py::new(py, self.clone())?.into_any());
        }
        Ok(py.NotImplemented())
    }

    /// The result, with the kind's options (`confidence_level=...`).
    #[pyo3(signature = (**options))]
    fn result(&self, options: Option<&Bound<'_, PyDict>>) -> PyResult<PyStateResult> {
        let options = serde_value(options.map(|d| d.as_any()))?;
        Ok(PyStateResult {
            inner: self.inner.finish(options).py()?,
        })
    }

    /// The state as JSON text: `{"kind": ..., "version": ..., "state": {...}}`.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// A state from the JSON of `to_json`, of the kind it names; checked in full.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        Ok(Self {
            inner: AnyState::from_json(text).py()?,
        })
    }

    /// The state as bytes (header, then the payload; the typed state's format).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// A state from the bytes of `to_bytes`, of the kind its header names; checked in full.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        Ok(Self {
            inner: AnyState::from_stored(data).py()?,
        })
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let ctor = py.get_type::<Self>().getattr("from_bytes")?;
        Ok((ctor, (self.to_bytes(py),)))
    }

    fn __repr__(&self) -> String {
        format!(
            "State({:?}, n={})",
            self.inner.kind().name(),
            self.inner.n()
        )
    }
}

/// The result of a `State`: its data (`to_dict`, `to_json`) and its text.
#[pyclass(module = "cx_metrics._native", name = "StateResult", frozen)]
pub struct PyStateResult {
    inner: Finished,
}

#[pymethods]
impl PyStateResult {
    /// The kind of the state the result was finished from.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.name()
    }

    /// The result as Python dicts, lists and numbers, straight from serde (no JSON text).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.inner.value)?)
    }

    /// The result as JSON text, for storage.
    fn to_json(&self) -> String {
        self.inner.json.clone()
    }

    /// A result of a state of `kind` from the JSON of `to_json`.
    #[staticmethod]
    fn from_json(kind: &str, text: &str) -> PyResult<Self> {
        Ok(Self {
            inner: Finished::from_json(kind, text).py()?,
        })
    }

    fn __str__(&self) -> String {
        self.inner.text.clone()
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String, String))> {
        let ctor = py.get_type::<Self>().getattr("from_json")?;
        Ok((ctor, (self.kind().to_string(), self.to_json())))
    }
}
