//! The one generic binding of every mergeable state (any `cx_metrics::Accumulator`): merge, `+`,
//! `sum(...)`, equality, pickle, bytes and JSON, from one place; tallies add `fold` of ratings.

/// Generate the `#[pymethods]` block of a state pyclass wrapping the `cx_metrics::Accumulator`
/// `$core` in field `inner` (the pyclass derives `Clone` and `PartialEq` and is declared with `eq`):
/// `merge`, `+` (and `0 + state`, so that Python's `sum` works), `n`, `to_bytes` / `from_bytes`
/// (the self-describing binary format, which pickle uses), `to_json` / `from_json` (the enveloped
/// JSON; the bare JSON of earlier releases is read too), followed by the class's own `$extra` items.
macro_rules! state_pymethods {
    ($py_ty:ident, $core:ty, { $($extra:tt)* }) => {
        #[pymethods]
        impl $py_ty {
            /// Fold `other` into this state, in place (checked: an overflow changes nothing).
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

            /// `0 + state` is the state, so that `sum(states)` works; anything else is not added.
            fn __radd__(
                &self,
                py: Python<'_>,
                other: &Bound<'_, PyAny>,
            ) -> PyResult<Py<PyAny>> {
                if other.extract::<i64>().is_ok_and(|v| v == 0) {
                    return Ok(Py::new(py, Self { inner: self.inner.clone() })?.into_any());
                }
                Ok(py.NotImplemented())
            }

            /// Rows counted.
            #[getter]
            fn n(&self) -> u64 {
                cx_metrics::Accumulator::n(&self.inner)
            }

            /// The state as JSON text: `{"kind": ..., "version": ..., "state": {...}}`.
            fn to_json(&self) -> String {
                cx_metrics::Accumulator::to_json(&self.inner)
            }

            /// A state from the JSON written by `to_json` (or the bare JSON of earlier releases),
            /// checked in full.
            #[staticmethod]
            fn from_json(text: &str) -> PyResult<Self> {
                use $crate::errors::IntoPyResult;
                <$core as cx_metrics::Accumulator>::from_json(text)
                    .map(|inner| Self { inner })
                    .py()
            }

            /// The state as bytes: a header (magic, kind, format version, flags, length), then
            /// the counts, little-endian. What pickle stores.
            fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
                let v = cx_metrics::Accumulator::to_bytes(&self.inner);
                pyo3::types::PyBytes::new(py, &v)
            }

            /// A state from the bytes written by `to_bytes` (or the JSON bytes that earlier
            /// releases wrote, in pickles), checked in full.
            #[staticmethod]
            fn from_bytes(data: &[u8]) -> PyResult<Self> {
                use $crate::errors::IntoPyResult;
                <$core as cx_metrics::Accumulator>::from_stored(data)
                    .map(|inner| Self { inner })
                    .py()
            }

            fn __reduce__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, pyo3::types::PyBytes>,))> {
                let ctor = py.get_type::<Self>().getattr("from_bytes")?;
                Ok((ctor, (self.to_bytes(py),)))
            }

            $($extra)*
        }
    };
}

pub(crate) use state_pymethods;

/// An empty state of the same kind and shape (scale) as a given one: what a fold counts a batch
/// into before merging it.
pub(crate) trait EmptyLike {
    /// The empty state.
    fn empty_like(&self) -> Self;
}

impl EmptyLike for cx_metrics::ScaleTally {
    fn empty_like(&self) -> Self {
        Self::new(self.scale())
    }
}
impl EmptyLike for cx_metrics::NpsTally {
    fn empty_like(&self) -> Self {
        Self::new()
    }
}
impl EmptyLike for cx_metrics::CsatTally {
    fn empty_like(&self) -> Self {
        Self::new(self.scale())
    }
}
impl<V: cx_metrics::CesVersion> EmptyLike for cx_metrics::CesTally<V> {
    fn empty_like(&self) -> Self {
        Self::new()
    }
}
impl EmptyLike for cx_metrics::Moments {
    fn empty_like(&self) -> Self {
        cx_metrics::Moments::empty_like(self)
    }
}
impl EmptyLike for cx_metrics::nps::PairedTally {
    fn empty_like(&self) -> Self {
        Self::new()
    }
}

/// Fold a batch into the state of `slf` safely from any number of threads: the batch is counted
/// into an empty state of the same kind with the GIL released and without borrowing `slf` (so
/// other threads fold at the same time), then merged into `slf` under the GIL, which no other
/// thread can interleave with (the merge never releases it). `count` folds the batch into the
/// empty state it is given. Nothing changes on error.
pub(crate) fn fold_shared<P, S>(
    slf: &pyo3::Bound<'_, P>,
    state: impl Fn(&P) -> &S,
    state_mut: impl Fn(&mut P) -> &mut S,
    count: impl FnOnce(&mut S) -> pyo3::PyResult<()>,
) -> pyo3::PyResult<()>
where
    P: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::False>,
    S: EmptyLike + cx_metrics::Merge,
{
    use crate::errors::IntoPyResult;
    let mut part = state(&slf.borrow()).empty_like();
    count(&mut part)?;
    let mut me = slf.borrow_mut();
    cx_metrics::Merge::merge(state_mut(&mut me), &part).py()
}

/// [`state_pymethods`] for a rating tally (a core state that folds raw values, see
/// [`crate::arrays::Fold`]): adds `fold` of a 1-D numpy array and `n_omitted`.
///
/// `fold` is safe from several threads at once ([`fold_shared`]): the batches are counted in
/// parallel, with the GIL released, and merged one at a time.
macro_rules! tally_pymethods {
    ($py_ty:ident, $core:ty, { $($extra:tt)* }) => {
        $crate::tally::state_pymethods!($py_ty, $core, {
            /// Validate and count `values` (a 1-D numpy array), optionally weighted; changes nothing
            /// on error. Safe to call from several threads on the same tally: each batch is counted
            /// with the GIL released, then merged.
            #[pyo3(signature = (values, weights=None, nan_policy="omit"))]
            fn fold(
                slf: &Bound<'_, Self>,
                values: &Bound<'_, PyAny>,
                weights: Option<numpy::PyReadonlyArray1<'_, f64>>,
                nan_policy: &str,
            ) -> PyResult<()> {
                $crate::tally::fold_shared(
                    slf,
                    |s: &Self| &s.inner,
                    |s: &mut Self| &mut s.inner,
                    |part| $crate::arrays::fold_into(part, values, weights, nan_policy),
                )
            }

            /// Count pre-aggregated answers: `rows[i]` answers of value `values[i]` (with the sums
            /// of their weights and of their squared weights, or unweighted), and `omitted` missing
            /// answers; changes nothing on error.
            #[pyo3(signature = (values, rows, weights=None, weights_sq=None, omitted=0))]
            fn fold_counts(
                &mut self,
                values: numpy::PyReadonlyArray1<'_, f64>,
                rows: numpy::PyReadonlyArray1<'_, u64>,
                weights: Option<numpy::PyReadonlyArray1<'_, f64>>,
                weights_sq: Option<numpy::PyReadonlyArray1<'_, f64>>,
                omitted: u64,
            ) -> PyResult<()> {
                use $crate::errors::IntoPyResult;
                let v = $crate::arrays::contiguous(&values);
                let r = $crate::arrays::contiguous(&rows);
                let w = weights.as_ref().map($crate::arrays::contiguous);
                let w2 = weights_sq.as_ref().map($crate::arrays::contiguous);
                let sums = match (w.as_deref(), w2.as_deref()) {
                    (Some(a), Some(b)) => Some((a, b)),
                    (None, None) => None,
                    _ => {
                        return Err($crate::errors::invalid_argument(
                            "weights",
                            "give the sums of weights and of squared weights together, or neither",
                        ))
                    }
                };
                self.inner.fold_counts(&v, &r, sums, omitted).py()
            }

            /// Rows omitted as missing.
            #[getter]
            fn n_omitted(&self) -> u64 {
                $crate::arrays::Fold::counts(&self.inner).n_omitted()
            }

            $($extra)*
        });
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
