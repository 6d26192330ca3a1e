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

/// The array's data as a slice: borrowed when contiguous and aligned, copied otherwise.
///
/// Numpy arrays need not be aligned (a view of a byte buffer at an odd offset, as unpickling or a
/// `numpy.frombuffer(..., offset=1)` makes): such data are read element by element with unaligned
/// loads, never through a slice or an `ndarray` view, which require aligned pointers.
pub(crate) fn contiguous<'a, T: Element + Copy>(a: &'a PyReadonlyArray1<'_, T>) -> Cow<'a, [T]> {
    if let Ok(s) = a.as_slice() {
        return Cow::Borrowed(s);
    }
    if a.is_aligned() {
        return Cow::Owned(a.as_array().iter().copied().collect());
    }
    let base = a.data().cast_const().cast::<u8>();
    let stride = a.strides()[0];
    Cow::Owned(
        (0..a.len())
            .map(|i| {
                // SAFETY: numpy guarantees `len` elements of `T` at `stride`-byte steps from `data`,
                // and the read-only borrow that no one writes them meanwhile; the load is unaligned.
                unsafe {
                    base.offset(i as isize * stride)
                        .cast::<T>()
                        .read_unaligned()
                }
            })
            .collect(),
    )
}

/// `a` itself when its data can be borrowed as a slice (contiguous and aligned), else a read-only
/// view of a new contiguous, aligned copy: for holders that keep the array and slice it later.
pub(crate) fn sliceable<'py, T: Element + Copy>(
    a: PyReadonlyArray1<'py, T>,
) -> PyReadonlyArray1<'py, T> {
    if a.as_slice().is_ok() {
        return a;
    }
    let copy = contiguous(&a).into_owned();
    PyArray1::from_vec(a.py(), copy).readonly()
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
