//! Numpy arrays in, Rust slices out: dispatch on the dtype, borrow contiguous data without copying,
//! and run the core's fold with the GIL released.

use std::borrow::Cow;

use cx_metrics::RawValue;
use numpy::{Element, PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::{invalid_argument, to_py};

/// An operation over a slice of raw values of any supported dtype (integers and floats).
pub trait SliceOp: Send {
    /// What the operation returns.
    type Output: Send;
    /// Run on `values` (the GIL is released while this runs).
    fn apply<T: RawValue + Element>(self, values: &[T]) -> cx_metrics::Result<Self::Output>;
}

/// The array's data as a slice: borrowed when contiguous, copied otherwise.
pub(crate) fn contiguous<'a, T: Element + Copy>(a: &'a PyReadonlyArray1<'_, T>) -> Cow<'a, [T]> {
    match a.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(a.as_array().iter().copied().collect()),
    }
}

/// Run `op` on a 1-D numpy array of any integer or float dtype, with the GIL released.
pub fn apply<'py, Op: SliceOp>(values: &Bound<'py, PyAny>, op: Op) -> PyResult<Op::Output> {
    let py = values.py();
    macro_rules! try_dtype {
        ($($t:ty),*) => {$(
            if let Ok(a) = values.cast::<PyArray1<$t>>() {
                let ro = a.try_readonly().map_err(|e| invalid_argument("values", e))?;
                let data = contiguous(&ro);
                let slice: &[$t] = &data;
                return py.detach(|| op.apply(slice)).map_err(to_py);
            }
        )*};
    }
    try_dtype!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
    Err(invalid_argument(
        "values",
        format!(
            "expected a 1-D numpy array of an integer or float dtype, got {}; \
             convert with numpy.asarray(values, dtype=float)",
            describe(values)
        ),
    ))
}

fn describe(obj: &Bound<'_, PyAny>) -> String {
    if let Ok(a) = obj.cast::<numpy::PyUntypedArray>() {
        let dtype = a
            .dtype()
            .str()
            .map_or_else(|_| "?".to_owned(), |s| s.to_string());
        return format!("a {}-D array of dtype {dtype}", a.ndim());
    }
    obj.get_type()
        .name()
        .map_or_else(|_| "an object".to_owned(), |n| format!("a {n}"))
}

/// Core states that fold slices of raw values (every tally).
pub trait Fold: Send {
    /// The counts per scale point underneath.
    fn counts(&self) -> &cx_metrics::ScaleTally;
    /// The core's `fold`: validate and count `values` (optionally weighted).
    fn fold<T: RawValue>(
        &mut self,
        values: &[T],
        weights: Option<&[f64]>,
        policy: cx_metrics::NanPolicy,
    ) -> cx_metrics::Result<()>;
}

impl Fold for cx_metrics::ScaleTally {
    fn counts(&self) -> &cx_metrics::ScaleTally {
        self
    }
    fn fold<T: RawValue>(
        &mut self,
        values: &[T],
        weights: Option<&[f64]>,
        policy: cx_metrics::NanPolicy,
    ) -> cx_metrics::Result<()> {
        cx_metrics::ScaleTally::fold(self, values, weights, policy)
    }
}

/// Fold a numpy array (and optional f64 weights) into `state`, with the GIL released.
pub fn fold_into<S: Fold>(
    state: &mut S,
    values: &Bound<'_, PyAny>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    nan_policy: &str,
) -> PyResult<()> {
    let policy: cx_metrics::NanPolicy = nan_policy.parse().map_err(to_py)?;
    let w = weights.as_ref().map(contiguous);
    apply(
        values,
        FoldInto {
            state,
            weights: w.as_deref(),
            policy,
        },
    )
}

struct FoldInto<'a, S> {
    state: &'a mut S,
    weights: Option<&'a [f64]>,
    policy: cx_metrics::NanPolicy,
}

impl<S: Fold> SliceOp for FoldInto<'_, S> {
    type Output = ();
    fn apply<T: RawValue + Element>(self, values: &[T]) -> cx_metrics::Result<()> {
        self.state.fold(values, self.weights, self.policy)
    }
}

/// Implement [`Fold`] for a core tally that wraps a `ScaleTally` (has `tally()` and `fold`).
macro_rules! impl_fold {
    ($($t:ty),*) => {$(
        impl $crate::arrays::Fold for $t {
            fn counts(&self) -> &cx_metrics::ScaleTally {
                self.tally()
            }
            fn fold<T: cx_metrics::RawValue>(
                &mut self,
                values: &[T],
                weights: Option<&[f64]>,
                policy: cx_metrics::NanPolicy,
            ) -> cx_metrics::Result<()> {
                <$t>::fold(self, values, weights, policy)
            }
        }
    )*};
}

pub(crate) use impl_fold;
