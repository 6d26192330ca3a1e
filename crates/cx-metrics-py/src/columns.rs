//! Numeric columns of any width for driver analysis: numpy arrays of every integer, float and bool
//! dtype, with an optional mask of missing values (nullable pandas, Arrow and polars columns, or a
//! `numpy.ma.MaskedArray`), are kept as the caller's arrays — no copy — and lent to the core's
//! [`Design`] as slices of their own width. The computations that need `f64` columns (pairwise and
//! indicator policies, bootstrap, matrix, what-if, segments) get them converted when they run, in
//! parallel with the GIL released.

use std::borrow::Cow;

use cx_metrics::design::{Column, Numbers};
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

/// Run `$body` once per supported dtype, with `$t` the element type and `$v` the variant's name.
macro_rules! each_dtype {
    ($mac:ident) => {
        $mac!(F64 f64, F32 f32, I8 i8, I16 i16, I32 i32, I64 i64, U8 u8, U16 u16, U32 u32, U64 u64,
            Bool bool);
    };
}

macro_rules! declare {
    ($($v:ident $t:ty),*) => {
        /// A read-only view of a numeric array of one dtype.
        enum View<'py> {
            $($v(PyReadonlyArray1<'py, $t>),)*
        }

        /// The data of a [`View`], borrowed when contiguous (copied in its own width otherwise).
        enum Data<'a> {
            $($v(Cow<'a, [$t]>),)*
        }

        impl<'py> View<'py> {
            /// The view of `values` if it is a 1-D array of a supported dtype.
            fn of(values: &Bound<'py, PyAny>) -> PyResult<Option<Self>> {
                $(
                    if let Ok(a) = values.cast::<PyArray1<$t>>() {
                        let ro = a.try_readonly().map_err(|e| invalid_argument("columns", e))?;
                        return Ok(Some(View::$v(ro)));
                    }
                )*
                Ok(None)
            }

            fn data(&self) -> Data<'_> {
                match self {
                    $(View::$v(a) => Data::$v(contiguous(a)),)*
                }
            }
        }

        impl Data<'_> {
            fn numbers(&self) -> Numbers<'_> {
                match self {
                    $(Data::$v(s) => Numbers::from(&s[..]),)*
                }
            }

            /// As f64, NaN where `missing`: borrowed when float64 without a mask, else converted.
            fn to_f64(&self, missing: Option<&[bool]>) -> Cow<'_, [f64]> {
                match (self, missing) {
                    (Data::F64(s), None) => Cow::Borrowed(&s[..]),
                    $((Data::$v(s), m) => {
                        let mut out = vec![0.0; s.len()];
                        convert(s, m, &mut out);
                        Cow::Owned(out)
                    })*
                }
            }
        }
    };
}
each_dtype!(declare);

/// One numeric column of the caller: its array (any supported width) and its mask of missing
/// values, kept as they are (references, not copies).
pub(crate) struct NumericColumn {
    values: Py<PyAny>,
    mask: Option<Py<PyArray1<bool>>>,
}

impl NumericColumn {
    /// Column `name`: `values` a 1-D numpy array of an integer, float or bool dtype, or a
    /// `numpy.ma.MaskedArray` of one (masked = missing).
    pub(crate) fn new(name: &str, values: &Bound<'_, PyAny>) -> PyResult<Self> {
        // A masked array is an ndarray with a `mask`: its data are read as they are, its mask marks
        // the missing values (`nomask`, a scalar, means none).
        let (data, mask) = match values.getattr("mask") {
            Ok(m) => (
                values.getattr("data")?,
                m.cast::<PyArray1<bool>>().ok().map(|m| m.clone().unbind()),
            ),
            Err(_) => (values.clone(), None),
        };
        if View::of(&data)?.is_none() {
            return Err(invalid_argument(
                "columns",
                format!(
                    "column {name:?} must cross as a 1-D numpy array of a numeric or bool dtype; \
                     got {}",
                    data.get_type().name()?
                ),
            ));
        }
        if let Some(m) = &mask {
            let (n, flags) = (data.len()?, m.bind(values.py()).len());
            if flags != n {
                return Err(invalid_argument(
                    "missing",
                    format!(
                        "column {name:?} has {n} values but its mask has {flags}; give one flag \
                         per value"
                    ),
                ));
            }
        }
        Ok(Self {
            values: data.unbind(),
            mask,
        })
    }

    /// A float64 column (a segment's rows).
    pub(crate) fn from_f64(py: Python<'_>, values: Vec<f64>) -> Self {
        Self {
            values: PyArray1::from_vec(py, values).into_any().unbind(),
            mask: None,
        }
    }

    /// Read-only views of the arrays, valid while the GIL is held by `py`.
    pub(crate) fn view<'py>(&self, py: Python<'py>) -> PyResult<ColumnView<'py>> {
        let values = View::of(self.values.bind(py))?
            .ok_or_else(|| invalid_argument("columns", "a kept column changed its type"))?;
        let mask = self
            .mask
            .as_ref()
            .map(|m| {
                m.bind(py)
                    .try_readonly()
                    .map_err(|e| invalid_argument("missing", e))
            })
            .transpose()?;
        Ok(ColumnView { values, mask })
    }
}

/// Read-only views of a [`NumericColumn`].
pub(crate) struct ColumnView<'py> {
    values: View<'py>,
    mask: Option<PyReadonlyArray1<'py, bool>>,
}

impl ColumnView<'_> {
    /// The values as float64 with NaN for a missing value: borrowed when they are contiguous float64
    /// without a mask, else converted now (in parallel).
    pub(crate) fn to_f64(&self) -> Cow<'_, [f64]> {
        if let (View::F64(a), None) = (&self.values, &self.mask) {
            if let Ok(s) = a.as_slice() {
                return Cow::Borrowed(s);
            }
        }
        Cow::Owned(self.slices().to_f64().into_owned())
    }

    /// The data as slices of their own width (copied only when the array is not contiguous).
    pub(crate) fn slices(&self) -> ColumnSlices<'_> {
        ColumnSlices {
            values: self.values.data(),
            mask: self.mask.as_ref().map(contiguous),
        }
    }
}

/// The data of a column as slices, for the core to read without the GIL.
pub(crate) struct ColumnSlices<'a> {
    values: Data<'a>,
    mask: Option<Cow<'a, [bool]>>,
}

impl ColumnSlices<'_> {
    /// The column of a core `Design`, named `name`: the caller's data as they are.
    pub(crate) fn column<'s>(&'s self, name: &'s str) -> Column<'s> {
        let c = Column::new(name, self.values.numbers());
        match &self.mask {
            Some(m) => c.with_missing(m),
            None => c,
        }
    }

    /// The values as float64 with NaN for a missing value: borrowed when they are float64 without a
    /// mask, else converted now (in parallel), for the computations that need float64 columns.
    pub(crate) fn to_f64(&self) -> Cow<'_, [f64]> {
        self.values.to_f64(self.mask.as_deref())
    }
}

/// Weights as float64 (a column of any numeric width, converted once if it is not float64; a masked
/// weight becomes NaN, which the core refuses by position).
pub(crate) fn float_column<'py>(
    name: &str,
    values: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let py = values.py();
    let column = NumericColumn::new(name, values)?;
    if column.mask.is_none() {
        if let Ok(a) = column.values.bind(py).cast::<PyArray1<f64>>() {
            if a.is_c_contiguous() {
                return Ok(a.clone());
            }
        }
    }
    let view = column.view(py)?;
    let slices = view.slices();
    let converted = py.detach(|| slices.to_f64().into_owned());
    Ok(PyArray1::from_vec(py, converted))
}
