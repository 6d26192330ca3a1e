//! Numeric columns of any width into the float64 the driver analysis folds: numpy arrays of every
//! integer, float and bool dtype, with an optional mask of missing values (nullable pandas, Arrow and
//! polars columns), are read in Rust. A contiguous float64 column without a mask is used as it is;
//! anything else is converted once, in parallel with the GIL released, into an array owned by the
//! native result (never a float64 copy made in Python).

use numpy::{Element, PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use rayon::prelude::*;

use crate::arrays::contiguous;
use crate::errors::invalid_argument;

/// Rows converted per task: large enough that a task outweighs its scheduling.
const CHUNK: usize = 1 << 16;

/// A value of a numeric dtype as f64 (exact for every integer up to 2^53, and for f32).
trait AsF64: Element + Copy + Send + Sync {
    fn as_f64(self) -> f64;
}

macro_rules! as_f64 {
    ($($t:ty),*) => {$(
        impl AsF64 for $t {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn as_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
as_f64!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl AsF64 for bool {
    fn as_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
}

/// Write `values` as f64 into `out` (NaN where `missing`), in parallel chunks.
fn convert<T: AsF64>(values: &[T], missing: Option<&[bool]>, out: &mut [f64]) {
    match missing {
        None => out
            .par_chunks_mut(CHUNK)
            .zip(values.par_chunks(CHUNK))
            .for_each(|(o, v)| o.iter_mut().zip(v).for_each(|(o, v)| *o = v.as_f64())),
        Some(m) => out
            .par_chunks_mut(CHUNK)
            .zip(values.par_chunks(CHUNK).zip(m.par_chunks(CHUNK)))
            .for_each(|(o, (v, m))| {
                for ((o, v), &gone) in o.iter_mut().zip(v).zip(m) {
                    *o = if gone { f64::NAN } else { v.as_f64() };
                }
            }),
    }
}

/// Column `name` as float64 with NaN for a missing value: `values` a 1-D numpy array of an integer,
/// float or bool dtype, or a `numpy.ma.MaskedArray` of one (masked = missing).
pub(crate) fn float_column<'py>(
    name: &str,
    values: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let py = values.py();
    // A masked array is an ndarray with a `mask`: its data are read as they are, its mask marks the
    // missing values (`nomask`, a scalar, means none).
    let mask = match values.getattr("mask") {
        Ok(m) => match m.cast::<PyArray1<bool>>() {
            Ok(m) => Some(
                m.try_readonly()
                    .map_err(|e| invalid_argument("missing", e))?,
            ),
            Err(_) => None,
        },
        Err(_) => None,
    };
    let values = match values.getattr("mask") {
        Ok(_) => values.getattr("data")?,
        Err(_) => values.clone(),
    };
    if let Some(m) = &mask {
        let n = values.len()?;
        if m.len() != n {
            return Err(invalid_argument(
                "missing",
                format!(
                    "column {name:?} has {n} values but its mask has {}; give one flag per value",
                    m.len()
                ),
            ));
        }
    }
    if let Ok(a) = values.cast::<PyArray1<f64>>() {
        if mask.is_none() && a.is_c_contiguous() {
            return Ok(a.clone());
        }
    }
    macro_rules! try_dtype {
        ($($t:ty),*) => {$(
            if let Ok(a) = values.cast::<PyArray1<$t>>() {
                let ro: PyReadonlyArray1<'_, $t> =
                    a.try_readonly().map_err(|e| invalid_argument("columns", e))?;
                let data = contiguous(&ro);
                let m = mask.as_ref().map(contiguous);
                // numpy.empty: numpy's allocator asks the kernel for huge pages for large arrays
                // (and does not zero them), so filling the new column costs far fewer page faults
                // than a Vec's first touch.
                let out = py
                    .import("numpy")?
                    .getattr("empty")?
                    .call1((data.len(),))?
                    .cast_into::<PyArray1<f64>>()
                    .map_err(|e| invalid_argument("columns", e))?;
                {
                    let mut rw = out.try_readwrite().map_err(|e| invalid_argument("columns", e))?;
                    let slice = rw.as_slice_mut().map_err(|e| invalid_argument("columns", e))?;
                    py.detach(|| convert(&data, m.as_deref(), slice));
                }
                return Ok(out);
            }
        )*};
    }
    try_dtype!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64, bool);
    Err(invalid_argument(
        "columns",
        format!(
            "column {name:?} must cross as a 1-D numpy array of a numeric or bool dtype; got {}",
            values.get_type().name()?
        ),
    ))
}

/// The columns `names` as float64 (see [`float_column`]).
pub(crate) fn float_columns<'py>(
    names: &[String],
    columns: &[Bound<'py, PyAny>],
) -> PyResult<Vec<Bound<'py, PyArray1<f64>>>> {
    if columns.len() != names.len() {
        return Err(invalid_argument(
            "drivers",
            format!("{} names for {} columns", names.len(), columns.len()),
        ));
    }
    names
        .iter()
        .zip(columns)
        .map(|(n, c)| float_column(n, c))
        .collect()
}
