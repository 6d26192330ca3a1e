//! Arrow in, without copies: any object that exposes the Arrow PyCapsule interface
//! (`__arrow_c_stream__` or `__arrow_c_array__`: pyarrow, polars, DuckDB, nanoarrow, ...) folded into a
//! rating tally chunk by chunk, never concatenated.
//!
//! The capsules are read with arrow-array's C Data Interface import (`ffi`, `ffi_stream`), which is all
//! this needs: a stream is walked through its C callbacks, each chunk imported (its buffers borrowed, not
//! copied) and its values handed as a typed slice to the core's `fold`. A few chunks are counted at a
//! time, one per thread (at most four), and released before the next ones are asked for, so memory holds
//! a handful of chunks whatever the length of the stream. Missing values are Arrow nulls (and NaN): a chunk with nulls is read as `f64` with NaN
//! in their place, which the core counts in `n_omitted` (or names under `nan_policy="raise"`).
//! Positions in errors are positions in the whole input, across chunks.
//!
//! Everything is counted into an empty tally with the GIL released (the producer's callbacks included,
//! as the C stream interface requires them to be callable from any thread), then merged into the tally
//! under the GIL: a fold that fails changes nothing.

use std::ffi::{c_void, CStr};

use arrow_array::cast::AsArray;
use arrow_array::ffi::{from_ffi, from_ffi_and_data_type, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::types::{
    Decimal128Type, Decimal32Type, Decimal64Type, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{make_array, Array, ArrayRef, ArrowPrimitiveType, Float64Array, PrimitiveArray};
use arrow_schema::DataType;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyCapsuleMethods, PyTuple};

use crate::arrays::{contiguous, Fold};
use crate::errors::{invalid_argument, to_py};
use crate::tally::{fold_shared, EmptyLike};

/// Why an Arrow fold failed, built without the GIL and turned into a Python exception after.
enum Failure {
    /// A core error (positions already shifted to the whole input).
    Core(cx_metrics::Error),
    /// An input the bindings reject: `(argument, message)`, raised as `InvalidArgumentError`.
    Argument(&'static str, String),
}

impl From<cx_metrics::Error> for Failure {
    fn from(e: cx_metrics::Error) -> Self {
        Self::Core(e)
    }
}

impl Failure {
    fn into_py(self) -> PyErr {
        match self {
            Self::Core(e) => to_py(e),
            Self::Argument(name, message) => invalid_argument(name, message),
        }
    }
}

type Folded<T> = Result<T, Failure>;

/// `err` with the position it names moved by `offset` (the rows of the chunks before).
fn shifted(err: cx_metrics::Error, offset: usize) -> cx_metrics::Error {
    use cx_metrics::Error as E;
    match err {
        E::OutOfRange {
            index,
            value,
            min,
            max,
        } => E::OutOfRange {
            index: index + offset,
            value,
            min,
            max,
        },
        E::NotIntegral { index, value } => E::NotIntegral {
            index: index + offset,
            value,
        },
        E::NonFinite { index, value } => E::NonFinite {
            index: index + offset,
            value,
        },
        E::Missing { index } => E::Missing {
            index: index + offset,
        },
        E::InvalidWeight { index, weight } => E::InvalidWeight {
            index: index + offset,
            weight,
        },
        other => other,
    }
}

/// A stream of Arrow arrays: the chunks of a `__arrow_c_stream__` capsule, or the one array of an
/// `__arrow_c_array__` capsule.
enum Chunks {
    Stream {
        stream: FFI_ArrowArrayStream,
        data_type: DataType,
        chunk: usize,
        rows: usize,
    },
    Single(Option<ArrayRef>),
}

impl Chunks {
    /// Read the capsule(s) of `obj`; `name` is the argument, for messages.
    fn from_py(obj: &Bound<'_, PyAny>, name: &'static str) -> PyResult<Self> {
        if obj.hasattr("__arrow_c_stream__")? {
            let capsule = obj.call_method0("__arrow_c_stream__")?;
            let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
                invalid_argument(name, "__arrow_c_stream__ did not return a PyCapsule")
            })?;
            let ptr = capsule_pointer(capsule, c"arrow_array_stream", name)?;
            // SAFETY: a capsule named "arrow_array_stream" holds an `ArrowArrayStream` (the Arrow
            // PyCapsule interface); `from_raw` moves it out and leaves a released struct behind, so
            // the capsule's destructor does not release it a second time.
            let mut stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.cast()) };
            let data_type = stream_type(&mut stream, name)?;
            return Ok(Self::Stream {
                stream,
                data_type,
                chunk: 0,
                rows: 0,
            });
        }
        if obj.hasattr("__arrow_c_array__")? {
            let pair = obj.call_method0("__arrow_c_array__")?;
            let pair = pair.cast::<PyTuple>().map_err(|_| {
                invalid_argument(
                    name,
                    "__arrow_c_array__ did not return a (schema, array) tuple",
                )
            })?;
            let schema = pair.get_item(0)?;
            let array = pair.get_item(1)?;
            let schema = schema.cast::<PyCapsule>().map_err(|_| {
                invalid_argument(name, "__arrow_c_array__ did not return a schema PyCapsule")
            })?;
            let array = array.cast::<PyCapsule>().map_err(|_| {
                invalid_argument(name, "__arrow_c_array__ did not return an array PyCapsule")
            })?;
            let schema_ptr = capsule_pointer(schema, c"arrow_schema", name)?;
            let array_ptr = capsule_pointer(array, c"arrow_array", name)?;
            // SAFETY: the capsules hold an `ArrowSchema` and an `ArrowArray`. The schema is only
            // borrowed (its capsule releases it); the array is moved out of its capsule, which is
            // left released.
            let data = unsafe {
                let schema = &*(schema_ptr.cast::<FFI_ArrowSchema>());
                let array = FFI_ArrowArray::from_raw(array_ptr.cast());
                from_ffi(array, schema)
            }
            .map_err(|e| invalid_argument(name, format!("cannot import the Arrow array: {e}")))?;
            return Ok(Self::Single(Some(make_array(data))));
        }
        Err(invalid_argument(
            name,
            "expected an object with __arrow_c_stream__ or __arrow_c_array__ (the Arrow PyCapsule interface)",
        ))
    }

    fn data_type(&self) -> Option<&DataType> {
        match self {
            Self::Stream { data_type, .. } => Some(data_type),
            Self::Single(a) => a.as_ref().map(|a| a.data_type()),
        }
    }

    /// The next chunk, or `None` at the end; an error of the producer becomes an argument error.
    fn next(&mut self, name: &'static str) -> Folded<Option<ArrayRef>> {
        match self {
            Self::Single(a) => Ok(a.take()),
            Self::Stream {
                stream,
                data_type,
                chunk,
                rows,
            } => {
                let get_next = stream.get_next.ok_or_else(|| {
                    Failure::Argument(name, "the Arrow stream has no get_next callback".into())
                })?;
                let mut out = FFI_ArrowArray::empty();
                // SAFETY: the stream is live (not released) and `out` is an empty struct for it to fill.
                let code = unsafe { get_next(stream, &mut out) };
                if code != 0 {
                    return Err(Failure::Argument(
                        name,
                        format!(
                            "the Arrow stream failed after {chunk} chunk(s) ({rows} rows): {}; nothing was counted",
                            last_error(stream, code)
                        ),
                    ));
                }
                if out.is_released() {
                    return Ok(None);
                }
                // SAFETY: `out` was filled by the producer for the type the stream announced.
                let data =
                    unsafe { from_ffi_and_data_type(out, data_type.clone()) }.map_err(|e| {
                        Failure::Argument(
                            name,
                            format!("cannot import chunk {chunk} of the Arrow stream: {e}"),
                        )
                    })?;
                *chunk += 1;
                *rows += data.len();
                Ok(Some(make_array(data)))
            }
        }
    }
}

fn capsule_pointer(
    capsule: &Bound<'_, PyCapsule>,
    expected: &CStr,
    name: &'static str,
) -> PyResult<*mut c_void> {
    capsule
        .pointer_checked(Some(expected))
        .map(|p| p.as_ptr())
        .map_err(|_| {
            invalid_argument(
                name,
                format!(
                    "expected a PyCapsule named {:?} from the Arrow PyCapsule interface",
                    expected
                ),
            )
        })
}

fn stream_type(stream: &mut FFI_ArrowArrayStream, name: &'static str) -> PyResult<DataType> {
    let get_schema = stream.get_schema.ok_or_else(|| {
        invalid_argument(
            name,
            "the Arrow stream is released or has no get_schema callback",
        )
    })?;
    let mut schema = FFI_ArrowSchema::empty();
    // SAFETY: the stream is live and `schema` is an empty struct for it to fill.
    let code = unsafe { get_schema(stream, &mut schema) };
    if code != 0 {
        return Err(invalid_argument(
            name,
            format!(
                "the Arrow stream gave no schema: {}",
                last_error(stream, code)
            ),
        ));
    }
    DataType::try_from(&schema)
        .map_err(|e| invalid_argument(name, format!("cannot read the Arrow stream's type: {e}")))
}

fn last_error(stream: &mut FFI_ArrowArrayStream, code: i32) -> String {
    let message = stream.get_last_error.and_then(|f| {
        // SAFETY: the stream is live; the message it returns is valid until its next call.
        let p = unsafe { f(stream) };
        // SAFETY: a non-null message is a NUL-terminated string owned by the stream.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    });
    message.unwrap_or_else(|| format!("error code {code}"))
}

/// How a message names an Arrow type that is not a rating.
fn type_problem(what: &str, data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => format!(
            "got an Arrow column of booleans as {what}; {what} must be integer or float numbers, not booleans \
             (cast the column to an integer type if the booleans really are 0/1)"
        ),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => format!(
            "the Arrow type {data_type} (text) is not numeric; pass the column that holds the {what} \
             (a column of labels can only split the rows into groups), or cast text numbers first"
        ),
        _ => format!(
            "the Arrow type {data_type} is not numeric; pass integer or float {what} (cast the column first)"
        ),
    }
}

/// A chunk as a slice the core folds: borrowed when it has no nulls, else `f64` with NaN for nulls.
fn fold_chunk<S: Fold>(
    part: &mut S,
    chunk: &dyn Array,
    weights: Option<&[f64]>,
    policy: cx_metrics::NanPolicy,
    offset: usize,
) -> Folded<()> {
    fn typed<S: Fold, P: ArrowPrimitiveType>(
        part: &mut S,
        chunk: &dyn Array,
        weights: Option<&[f64]>,
        policy: cx_metrics::NanPolicy,
        widen: impl Fn(P::Native) -> f64,
    ) -> cx_metrics::Result<()>
    where
        P::Native: cx_metrics::RawValue,
    {
        let a: &PrimitiveArray<P> = chunk.as_primitive::<P>();
        if a.null_count() == 0 {
            return part.fold(a.values(), weights, policy);
        }
        let filled: Vec<f64> = a.iter().map(|v| v.map_or(f64::NAN, &widen)).collect();
        part.fold(&filled, weights, policy)
    }
    let result = match chunk.data_type() {
        DataType::Int8 => typed::<S, Int8Type>(part, chunk, weights, policy, f64::from),
        DataType::Int16 => typed::<S, Int16Type>(part, chunk, weights, policy, f64::from),
        DataType::Int32 => typed::<S, Int32Type>(part, chunk, weights, policy, f64::from),
        DataType::Int64 => typed::<S, Int64Type>(part, chunk, weights, policy, |v| v as f64),
        DataType::UInt8 => typed::<S, UInt8Type>(part, chunk, weights, policy, f64::from),
        DataType::UInt16 => typed::<S, UInt16Type>(part, chunk, weights, policy, f64::from),
        DataType::UInt32 => typed::<S, UInt32Type>(part, chunk, weights, policy, f64::from),
        DataType::UInt64 => typed::<S, UInt64Type>(part, chunk, weights, policy, |v| v as f64),
        DataType::Float32 => typed::<S, Float32Type>(part, chunk, weights, policy, f64::from),
        DataType::Float64 => typed::<S, Float64Type>(part, chunk, weights, policy, |v| v),
        DataType::Float16 => {
            // Half floats are not a core value type: widened (exactly) to f32, nulls as NaN.
            let a = chunk.as_primitive::<Float16Type>();
            let wide: Vec<f32> = a
                .iter()
                .map(|v| v.map_or(f32::NAN, |h| h.to_f32()))
                .collect();
            part.fold(&wide, weights, policy)
        }
        other => match decimals(chunk) {
            Some(wide) => part.fold(&wide, weights, policy),
            None => return Err(Failure::Argument("values", type_problem("ratings", other))),
        },
    };
    result.map_err(|e| Failure::Core(shifted(e, offset)))
}

/// A decimal chunk (DuckDB writes `1.5` as a decimal) as `f64`, the unscaled integer divided by
/// 10^scale (nulls as NaN); `None` for any other type.
fn decimals(chunk: &dyn Array) -> Option<Vec<f64>> {
    fn scaled<P: ArrowPrimitiveType>(
        chunk: &dyn Array,
        scale: i8,
        f: impl Fn(P::Native) -> f64,
    ) -> Vec<f64> {
        let unit = 10f64.powi(i32::from(scale));
        let a = chunk.as_primitive::<P>();
        a.iter()
            .map(|v| v.map_or(f64::NAN, |v| f(v) / unit))
            .collect()
    }
    Some(match chunk.data_type() {
        DataType::Decimal32(_, s) => scaled::<Decimal32Type>(chunk, *s, f64::from),
        DataType::Decimal64(_, s) => scaled::<Decimal64Type>(chunk, *s, |v| v as f64),
        DataType::Decimal128(_, s) => scaled::<Decimal128Type>(chunk, *s, |v| v as f64),
        _ => return None,
    })
}

/// A chunk of weights as `f64`, appended to `out`; a null weight, booleans or text are refused.
fn push_weights(chunk: &dyn Array, offset: usize, out: &mut Vec<f64>) -> Folded<()> {
    if let Some(nulls) = chunk.nulls().filter(|n| n.null_count() > 0) {
        let at = (0..chunk.len()).find(|&i| nulls.is_null(i)).unwrap_or(0) + offset;
        return Err(Failure::Argument(
            "weights",
            format!(
                "the weight at position {at} is null; a row needs its weight: fill the null weights \
                 (e.g. with 0 to leave those rows out) or drop the rows"
            ),
        ));
    }
    fn extend<P: ArrowPrimitiveType>(
        chunk: &dyn Array,
        out: &mut Vec<f64>,
        f: impl Fn(P::Native) -> f64,
    ) {
        out.extend(chunk.as_primitive::<P>().values().iter().map(|&v| f(v)));
    }
    match chunk.data_type() {
        DataType::Float64 => out.extend_from_slice(chunk.as_primitive::<Float64Type>().values()),
        DataType::Float32 => extend::<Float32Type>(chunk, out, f64::from),
        DataType::Float16 => extend::<Float16Type>(chunk, out, |h| h.to_f64()),
        DataType::Int8 => extend::<Int8Type>(chunk, out, f64::from),
        DataType::Int16 => extend::<Int16Type>(chunk, out, f64::from),
        DataType::Int32 => extend::<Int32Type>(chunk, out, f64::from),
        DataType::Int64 => extend::<Int64Type>(chunk, out, |v| v as f64),
        DataType::UInt8 => extend::<UInt8Type>(chunk, out, f64::from),
        DataType::UInt16 => extend::<UInt16Type>(chunk, out, f64::from),
        DataType::UInt32 => extend::<UInt32Type>(chunk, out, f64::from),
        DataType::UInt64 => extend::<UInt64Type>(chunk, out, |v| v as f64),
        other => match decimals(chunk) {
            Some(wide) => out.extend_from_slice(&wide),
            None => return Err(Failure::Argument("weights", type_problem("weights", other))),
        },
    }
    Ok(())
}

/// Where the weights come from: nowhere, a numpy array, or Arrow chunks split anywhere.
enum Weights<'a> {
    None,
    Slice(&'a [f64]),
    Arrow(ArrowWeights),
}

/// Weights read from Arrow chunks cut anywhere: a `float64` chunk without nulls is borrowed as it is
/// when it covers the values' chunk; otherwise the weights are gathered into a scratch buffer.
struct ArrowWeights {
    chunks: Chunks,
    /// The current weight chunk as `float64` and the position of its first unused weight.
    current: Float64Array,
    pos: usize,
    scratch: Vec<f64>,
    /// Weights read so far (for positions in messages and lengths).
    seen: usize,
}

impl ArrowWeights {
    fn new(chunks: Chunks) -> Self {
        Self {
            chunks,
            current: Float64Array::from(Vec::<f64>::new()),
            pos: 0,
            scratch: Vec::new(),
            seen: 0,
        }
    }

    /// The next weight chunk as `float64` (checked: no nulls, a numeric type), or `None` at the end.
    fn pull(&mut self) -> Folded<Option<Float64Array>> {
        let Some(c) = self.chunks.next("weights")? else {
            return Ok(None);
        };
        let c = match c.data_type() {
            DataType::Struct(_) => c.as_struct().column(0).clone(),
            _ => c,
        };
        let offset = self.seen;
        self.seen += c.len();
        if c.data_type() == &DataType::Float64 && c.null_count() == 0 {
            return Ok(Some(c.as_primitive::<Float64Type>().clone()));
        }
        let mut out = Vec::with_capacity(c.len());
        push_weights(&*c, offset, &mut out)?;
        Ok(Some(Float64Array::from(out)))
    }

    fn take(&mut self, n: usize) -> Folded<Option<&[f64]>> {
        let left = self.current.len() - self.pos;
        if left >= n {
            let s = &self.current.values()[self.pos..self.pos + n];
            self.pos += n;
            return Ok(Some(s));
        }
        self.scratch.clear();
        self.scratch
            .extend_from_slice(&self.current.values()[self.pos..]);
        while self.scratch.len() < n {
            let Some(next) = self.pull()? else {
                self.pos = self.current.len();
                return Ok(None);
            };
            let want = (n - self.scratch.len()).min(next.len());
            self.scratch.extend_from_slice(&next.values()[..want]);
            self.current = next;
            self.pos = want;
        }
        Ok(Some(&self.scratch))
    }
}

impl Weights<'_> {
    /// The `n` weights of the rows `offset..offset + n`, or `Ok(None)` if there are fewer than that
    /// left (a length mismatch, reported by the caller with the totals). Arrow chunks are pulled as
    /// needed, whatever their boundaries.
    fn take(&mut self, offset: usize, n: usize) -> Folded<Option<Option<&[f64]>>> {
        match self {
            Self::None => Ok(Some(None)),
            Self::Slice(s) => Ok(s.get(offset..offset + n).map(Some)),
            Self::Arrow(a) => Ok(a.take(n)?.map(Some)),
        }
    }

    /// The total number of weights (draining what is left of a stream), for a length mismatch.
    fn total(&mut self) -> Folded<usize> {
        match self {
            Self::None => Ok(0),
            Self::Slice(s) => Ok(s.len()),
            Self::Arrow(a) => {
                while let Some(c) = a.chunks.next("weights")? {
                    a.seen += c.len();
                }
                Ok(a.seen)
            }
        }
    }

    /// Whether weights are left once every value is used (then the lengths differ).
    fn left_over(&mut self, used: usize) -> Folded<bool> {
        Ok(match self {
            Self::None => false,
            Self::Slice(s) => s.len() != used,
            Self::Arrow(_) => self.total()? != used,
        })
    }
}

fn mismatch(values: usize, weights: usize) -> Failure {
    Failure::Core(cx_metrics::Error::LengthMismatch {
        what: "values and weights",
        left: values,
        right: weights,
    })
}

/// Which columns of each chunk to fold: the chunk itself (an array stream) or a child of a struct
/// (a record-batch stream: a table), and the weights from a child of the same batch, if any.
#[derive(Clone, Copy)]
struct Pick {
    values: Option<usize>,
    weights: Option<usize>,
}

/// Chunks folded at once, one per thread (at most this many): a stream is counted a few chunks at a
/// time, in parallel, and never held whole.
const MAX_CHUNKS_IN_FLIGHT: usize = 4;

/// A chunk ready to count: its ratings column, its weights (owned) and its first row's position.
struct Ready {
    column: ArrayRef,
    weights: Option<Vec<f64>>,
    offset: usize,
}

/// Fold every chunk of `values` (weights aligned by position, split anywhere) into `part`: up to one
/// chunk per thread ([`MAX_CHUNKS_IN_FLIGHT`] at most) is pulled, the chunks are counted in parallel
/// into empty states and merged in stream order, then the next ones are pulled. The first error in
/// stream order is returned, and no chunk after its group is asked for.
fn fold_stream<S>(
    part: &mut S,
    values: &mut Chunks,
    weights: &mut Weights<'_>,
    pick: Pick,
    policy: cx_metrics::NanPolicy,
) -> Folded<()>
where
    S: Fold + EmptyLike + cx_metrics::Merge + Sync,
{
    use rayon::prelude::*;
    let in_flight = rayon::current_num_threads().clamp(1, MAX_CHUNKS_IN_FLIGHT);
    let mut offset = 0usize;
    let mut group: Vec<Ready> = Vec::with_capacity(in_flight);
    loop {
        group.clear();
        while group.len() < in_flight {
            let Some(chunk) = values.next("values")? else {
                break;
            };
            let n = chunk.len();
            let column = match pick.values {
                None => chunk.clone(),
                Some(i) => chunk.as_struct().column(i).clone(),
            };
            let w = if let Some(i) = pick.weights {
                let mut buf = Vec::with_capacity(n);
                push_weights(&**chunk.as_struct().column(i), offset, &mut buf)?;
                Some(buf)
            } else {
                match weights.take(offset, n)? {
                    Some(w) => w.map(<[f64]>::to_vec),
                    None => {
                        let mut total = offset + n;
                        while let Some(c) = values.next("values")? {
                            total += c.len();
                        }
                        return Err(mismatch(total, weights.total()?));
                    }
                }
            };
            group.push(Ready {
                column,
                weights: w,
                offset,
            });
            offset += n;
        }
        if group.is_empty() {
            break;
        }
        let template: &S = part;
        let counted: Vec<Folded<S>> = group
            .par_iter()
            .map(|r| {
                let mut p = template.empty_like();
                fold_chunk(&mut p, &*r.column, r.weights.as_deref(), policy, r.offset)?;
                Ok(p)
            })
            .collect();
        for c in counted {
            part.merge(&c?)?;
        }
    }
    if weights.left_over(offset)? {
        return Err(mismatch(offset, weights.total()?));
    }
    Ok(())
}

/// Count `values` into `part` with the GIL released (the producer's callbacks included).
fn count<S>(
    py: Python<'_>,
    part: &mut S,
    mut values: Chunks,
    mut weights: Weights<'_>,
    pick: Pick,
    policy: cx_metrics::NanPolicy,
) -> PyResult<()>
where
    S: Fold + EmptyLike + cx_metrics::Merge + Sync,
{
    py.detach(move || fold_stream(part, &mut values, &mut weights, pick, policy))
        .map_err(Failure::into_py)
}

/// Run `$count` (a generic closure body over the core state `part`) on whichever rating tally
/// `$tally` is, counting into an empty tally and merging at the end ([`fold_shared`]).
macro_rules! on_tally {
    ($tally:expr, |$part:ident| $count:expr) => {{
        let tally = $tally;
        on_tally!(@kinds tally, $part, $count,
            crate::nps::PyNpsTally,
            crate::csat::PyCsatTally,
            crate::ces::PyCes2Tally,
            crate::ces::PyCes1Tally,
            crate::scale_tally::PyScaleTally);
        Err(invalid_argument(
            "tally",
            format!(
                "expected a rating tally (NpsTally, CsatTally, Ces2Tally, Ces1Tally or ScaleTally), got {}",
                tally.get_type().name().map_or_else(|_| "an object".to_owned(), |n| n.to_string())
            ),
        ))
    }};
    (@kinds $tally:ident, $part:ident, $count:expr, $($ty:ty),*) => {$(
        if let Ok(t) = $tally.cast::<$ty>() {
            return fold_shared(t, |s: &$ty| &s.inner, |s: &mut $ty| &mut s.inner, |$part| $count);
        }
    )*};
}

fn is_arrow(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(obj.hasattr("__arrow_c_stream__")? || obj.hasattr("__arrow_c_array__")?)
}

fn table_columns(fields: &arrow_schema::Fields) -> String {
    fields
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The column of each chunk that holds the ratings (`None`: the chunk itself; `Some(0)`: the one
/// column of a one-column table); a type that cannot hold them is refused before any chunk is read.
fn values_column(
    data_type: &DataType,
    what: &'static str,
    message: &str,
) -> PyResult<Option<usize>> {
    match data_type {
        DataType::Struct(fields) if fields.len() == 1 && is_numeric(fields[0].data_type()) => Ok(Some(0)),
        DataType::Struct(fields) if fields.len() == 1 => Err(to_py(cx_metrics::Error::BadColumn {
            column: fields[0].name().clone(),
            message: type_problem(message, fields[0].data_type()),
        })),
        DataType::Struct(fields) => Err(invalid_argument(
            what,
            format!(
                "got an Arrow table (columns {}); pass one column, or pass the table as data= with the \
                 name of the {message} column",
                table_columns(fields)
            ),
        )),
        t if is_numeric(t) => Ok(None),
        t => Err(invalid_argument(what, type_problem(message, t))),
    }
}

fn is_numeric(t: &DataType) -> bool {
    t.is_integer()
        || t.is_floating()
        || matches!(
            t,
            DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..)
        )
}

/// Fold an object exposing the Arrow PyCapsule interface (an array, a chunked array, an array
/// stream) into a rating tally, chunk by chunk; `weights` is another such object (chunks split
/// anywhere) or a float64 numpy array. Nothing changes on error.
#[pyfunction]
#[pyo3(signature = (tally, values, weights=None, nan_policy="omit"))]
pub fn fold_arrow(
    tally: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
    weights: Option<&Bound<'_, PyAny>>,
    nan_policy: &str,
) -> PyResult<()> {
    let py = tally.py();
    let policy: cx_metrics::NanPolicy = nan_policy.parse().map_err(to_py)?;
    let mut chunks = Some(Chunks::from_py(values, "values")?);
    let column = match chunks.as_ref().and_then(Chunks::data_type) {
        Some(t) => values_column(t, "values", "ratings")?,
        None => None,
    };
    let numpy_weights: Option<PyReadonlyArray1<'_, f64>> = match weights {
        Some(w) if !is_arrow(w)? => Some(w.extract().map_err(|_| {
            invalid_argument(
                "weights",
                "expected an Arrow array or stream, or a float64 numpy array",
            )
        })?),
        _ => None,
    };
    let numpy_slice = numpy_weights.as_ref().map(contiguous);
    let mut arrow_weights = match weights {
        Some(w) if numpy_slice.is_none() => {
            let c = Chunks::from_py(w, "weights")?;
            if let Some(t) = c.data_type() {
                values_column(t, "weights", "weights")?;
            }
            Some(c)
        }
        _ => None,
    };
    on_tally!(tally, |part| {
        let w = match (numpy_slice.as_deref(), arrow_weights.take()) {
            (Some(s), _) => Weights::Slice(s),
            (None, Some(chunks)) => Weights::Arrow(ArrowWeights::new(chunks)),
            (None, None) => Weights::None,
        };
        let values = chunks.take().expect("one tally kind matches");
        let pick = Pick {
            values: column,
            weights: None,
        };
        count(py, part, values, w, pick, policy)
    })
}

/// Fold the column `values` (and the optional weight column `weights`) of a table that exposes the
/// Arrow PyCapsule interface (a record-batch stream: a DuckDB result, a polars DataFrame, a pyarrow
/// Table or RecordBatchReader, a nanoarrow stream) into a rating tally, batch by batch; the other
/// columns are not read. Nothing changes on error.
#[pyfunction]
#[pyo3(signature = (tally, data, values, weights=None, nan_policy="omit"))]
pub fn fold_arrow_table(
    tally: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
    values: &str,
    weights: Option<&str>,
    nan_policy: &str,
) -> PyResult<()> {
    let py = tally.py();
    let policy: cx_metrics::NanPolicy = nan_policy.parse().map_err(to_py)?;
    let chunks = Chunks::from_py(data, "data")?;
    let fields = match chunks.data_type() {
        Some(DataType::Struct(fields)) => fields.clone(),
        Some(other) => {
            return Err(invalid_argument(
                "data",
                format!(
                    "got a single Arrow array of type {other}, not a table; pass it as the values \
                     (without data=)"
                ),
            ))
        }
        None => {
            return Err(invalid_argument(
                "data",
                "the Arrow array was already consumed",
            ))
        }
    };
    let column = |name: &str, what: &str| -> PyResult<usize> {
        let i = fields
            .iter()
            .position(|f| f.name() == name)
            .ok_or_else(|| {
                to_py(cx_metrics::Error::UnknownColumn {
                    column: name.to_owned(),
                    available: table_columns(&fields),
                })
            })?;
        let t = fields[i].data_type();
        if !is_numeric(t) {
            return Err(to_py(cx_metrics::Error::BadColumn {
                column: name.to_owned(),
                message: type_problem(what, t),
            }));
        }
        Ok(i)
    };
    let pick = Pick {
        values: Some(column(values, "ratings")?),
        weights: weights.map(|w| column(w, "weights")).transpose()?,
    };
    let mut chunks = Some(chunks);
    on_tally!(tally, |part| {
        let values = chunks.take().expect("one tally kind matches");
        count(py, part, values, Weights::None, pick, policy)
    })
}
