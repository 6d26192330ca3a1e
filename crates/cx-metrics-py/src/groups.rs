//! Label columns in, groups out: numpy arrays and Arrow buffers become the core's [`KeyColumn`]s
//! without per-row Python work, and a tally of any kind is folded per group by the core's
//! [`Grouping`], with the GIL released.
//!
//! A label column crosses as a tuple built by `cx_metrics._groups`:
//!
//! - `("int", array, mask)`, `("float", array, mask)`, `("bool", array, mask)`: a 1-D numpy array of any
//!   integer / float32 / float64 / bool dtype, and a bool array marking nulls (or None);
//! - `("datetime", int64 array, unit)`: datetime64 values viewed as int64 (NaT is the smallest int64),
//!   unit `"s"`, `"ms"`, `"us"`, `"ns"`, or None for days (dates);
//! - `("text", layout, main, buffers, validity, bit_offset)`: an Arrow text column's buffers as numpy
//!   arrays (`layout` `"offsets32"` / `"offsets64"` with the offsets as `main` and one data buffer, or
//!   `"views"` with the 16-byte views as `main` and the data buffers);
//! - `("labels", list)`: one Python label per row (None, bool, int, float, str, or the tuples
//!   `("date", days)` / `("datetime", value, unit)`);
//! - `("categorical", codes, levels, ordered)`: integer codes (negative for missing) and the levels as
//!   another column tuple.
//!
//! Labels go back as Python values: None for the missing label, bool, int, float, str,
//! `datetime.date`, or `numpy.datetime64`.

use cx_metrics::groups::{
    CodeSlice, Grouping, IntSlice, KeyColumn, Label, TextLayout, TextSlice, TimeUnit,
};
use cx_metrics::{NanPolicy, Scale, ScaleTally};
use numpy::{Element, PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::arrays::{contiguous, sliceable};
use crate::errors::{invalid_argument, to_py, IntoPyResult};

/// A numpy array held (borrowed read-only) while the core reads it.
pub(crate) enum Held<'py> {
    I8(PyReadonlyArray1<'py, i8>),
    I16(PyReadonlyArray1<'py, i16>),
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
    U8(PyReadonlyArray1<'py, u8>),
    U16(PyReadonlyArray1<'py, u16>),
    U32(PyReadonlyArray1<'py, u32>),
    U64(PyReadonlyArray1<'py, u64>),
    F32(PyReadonlyArray1<'py, f32>),
    F64(PyReadonlyArray1<'py, f64>),
    Bool(PyReadonlyArray1<'py, bool>),
}

fn hold<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Held<'py>> {
    macro_rules! try_dtype {
        ($($t:ty => $v:ident),*) => {$(
            if let Ok(a) = obj.cast::<PyArray1<$t>>() {
                let ro = a.try_readonly().map_err(|e| invalid_argument("by", e))?;
                return Ok(Held::$v(sliceable(ro)));
            }
        )*};
    }
    try_dtype!(i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16, u32 => U32,
        u64 => U64, f32 => F32, f64 => F64, bool => Bool);
    Err(invalid_argument(
        "by",
        "a label column must cross as a 1-D numpy array of an integer, float or bool dtype",
    ))
}

fn slice<'a, T: Element>(a: &'a PyReadonlyArray1<'_, T>) -> &'a [T] {
    a.as_slice().unwrap_or(&[])
}

/// A column tuple with its arrays held, ready to be read as a [`KeyColumn`].
pub(crate) enum Spec<'py> {
    Int(Held<'py>, Option<Held<'py>>),
    Float(Held<'py>, Option<Held<'py>>),
    Bool(Held<'py>, Option<Held<'py>>),
    Datetime(Held<'py>, Option<TimeUnit>),
    Text {
        layout: String,
        main: Held<'py>,
        buffers: Vec<Held<'py>>,
        validity: Option<Held<'py>>,
        bit_offset: usize,
    },
    Labels(Vec<Label>),
    Categorical {
        codes: Held<'py>,
        levels: Vec<Label>,
        ordered: bool,
    },
}

pub(crate) fn parse<'py>(spec: &Bound<'py, PyAny>) -> PyResult<Spec<'py>> {
    let t = spec.cast::<PyTuple>()?;
    let kind: String = t.get_item(0)?.extract()?;
    let opt = |i: usize| -> PyResult<Option<Held<'py>>> {
        let x = t.get_item(i)?;
        if x.is_none() {
            Ok(None)
        } else {
            hold(&x).map(Some)
        }
    };
    Ok(match kind.as_str() {
        "int" => Spec::Int(hold(&t.get_item(1)?)?, opt(2)?),
        "float" => Spec::Float(hold(&t.get_item(1)?)?, opt(2)?),
        "bool" => Spec::Bool(hold(&t.get_item(1)?)?, opt(2)?),
        "datetime" => {
            let unit: Option<String> = t.get_item(2)?.extract()?;
            let unit = unit.map(|u| u.parse::<TimeUnit>()).transpose().py()?;
            Spec::Datetime(hold(&t.get_item(1)?)?, unit)
        }
        "text" => {
            let buffers = t
                .get_item(3)?
                .cast::<PyList>()?
                .iter()
                .map(|b| hold(&b))
                .collect::<PyResult<_>>()?;
            Spec::Text {
                layout: t.get_item(1)?.extract()?,
                main: hold(&t.get_item(2)?)?,
                buffers,
                validity: opt(4)?,
                bit_offset: t.get_item(5)?.extract()?,
            }
        }
        "labels" => Spec::Labels(
            t.get_item(1)?
                .cast::<PyList>()?
                .iter()
                .map(|v| to_label(&v))
                .collect::<PyResult<_>>()?,
        ),
        "categorical" => {
            let levels = parse(&t.get_item(2)?)?;
            let held = [levels];
            let levels = columns(&held)?
                .pop()
                .map(|c| c.labels())
                .transpose()
                .py()?
                .unwrap_or_default();
            Spec::Categorical {
                codes: hold(&t.get_item(1)?)?,
                levels,
                ordered: t.get_item(3)?.extract()?,
            }
        }
        other => {
            return Err(invalid_argument(
                "by",
                format!("unknown label column kind {other:?}"),
            ))
        }
    })
}

pub(crate) fn to_label(v: &Bound<'_, PyAny>) -> PyResult<Label> {
    if v.is_none() {
        return Ok(Label::Missing);
    }
    if let Ok(b) = v.cast::<pyo3::types::PyBool>() {
        return Ok(Label::Bool(b.is_true()));
    }
    if let Ok(s) = v.cast::<pyo3::types::PyString>() {
        return Ok(Label::Text(s.to_str()?.to_owned()));
    }
    if v.cast::<pyo3::types::PyInt>().is_ok() {
        return v.extract::<i64>().map(Label::Int).map_err(|_| {
            invalid_argument("by", format!("label {v} is too large for an integer label"))
        });
    }
    if let Ok(x) = v.cast::<pyo3::types::PyFloat>() {
        let x = x.value();
        return Ok(if x.is_nan() {
            Label::Missing
        } else if x == 0.0 {
            Label::Float(0.0)
        } else {
            Label::Float(x)
        });
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        let kind: String = t.get_item(0)?.extract()?;
        match kind.as_str() {
            "date" => return Ok(Label::Date(t.get_item(1)?.extract()?)),
            "datetime" => {
                let unit: String = t.get_item(2)?.extract()?;
                return Ok(Label::Datetime {
                    value: t.get_item(1)?.extract()?,
                    unit: unit.parse().py()?,
                });
            }
            _ => {}
        }
    }
    Err(invalid_argument(
        "by",
        format!(
            "label {} of type {} is not a supported label (text, number, boolean, date); \
             convert the column first",
            v.repr()?,
            v.get_type().name()?
        ),
    ))
}

fn int_slice<'a>(h: &'a Held<'_>) -> PyResult<IntSlice<'a>> {
    Ok(match h {
        Held::I8(a) => IntSlice::I8(slice(a)),
        Held::I16(a) => IntSlice::I16(slice(a)),
        Held::I32(a) => IntSlice::I32(slice(a)),
        Held::I64(a) => IntSlice::I64(slice(a)),
        Held::U8(a) => IntSlice::U8(slice(a)),
        Held::U16(a) => IntSlice::U16(slice(a)),
        Held::U32(a) => IntSlice::U32(slice(a)),
        Held::U64(a) => IntSlice::U64(slice(a)),
        _ => return Err(invalid_argument("by", "expected integer labels")),
    })
}

fn mask<'a>(h: &'a Option<Held<'_>>) -> PyResult<Option<&'a [bool]>> {
    match h {
        None => Ok(None),
        Some(Held::Bool(a)) => Ok(Some(slice(a))),
        Some(_) => Err(invalid_argument("by", "a null mask must be a bool array")),
    }
}

fn bytes<'a>(h: &'a Held<'_>) -> PyResult<&'a [u8]> {
    match h {
        Held::U8(a) => Ok(slice(a)),
        _ => Err(invalid_argument(
            "by",
            "Arrow buffers must cross as uint8 arrays",
        )),
    }
}

/// The core's columns, borrowing the held arrays (`buffers` keeps the text data buffers' slices).
fn columns<'a>(specs: &'a [Spec<'_>]) -> PyResult<Vec<KeyColumn<'a>>> {
    let mut out = Vec::with_capacity(specs.len());
    for s in specs {
        out.push(match s {
            Spec::Int(v, m) => KeyColumn::Int(int_slice(v)?, mask(m)?),
            Spec::Float(Held::F64(v), m) => KeyColumn::F64(slice(v), mask(m)?),
            Spec::Float(Held::F32(v), m) => KeyColumn::F32(slice(v), mask(m)?),
            Spec::Bool(Held::Bool(v), m) => KeyColumn::Bool(slice(v), mask(m)?),
            Spec::Datetime(Held::I64(v), unit) => KeyColumn::Datetime(slice(v), *unit),
            Spec::Labels(l) => KeyColumn::Labels(l.clone()),
            Spec::Categorical {
                codes,
                levels,
                ordered,
            } => KeyColumn::Categorical {
                codes: match int_slice(codes)? {
                    IntSlice::I8(c) => CodeSlice::I8(c),
                    IntSlice::I16(c) => CodeSlice::I16(c),
                    IntSlice::I32(c) => CodeSlice::I32(c),
                    IntSlice::I64(c) => CodeSlice::I64(c),
                    _ => return Err(invalid_argument("by", "categorical codes must be signed")),
                },
                levels: levels.clone(),
                ordered: *ordered,
            },
            Spec::Text { .. } => {
                return Err(invalid_argument("by", "text columns are read separately"));
            }
            _ => return Err(invalid_argument("by", "label array of an unexpected dtype")),
        });
    }
    Ok(out)
}

/// Build the grouping of `specs` over `n_rows` rows and run `f` on it, with the GIL released.
pub(crate) fn with_grouping<R: Send>(
    py: Python<'_>,
    specs: &[Spec<'_>],
    n_rows: usize,
    f: impl FnOnce(&Grouping<'_>) -> cx_metrics::Result<R> + Send,
) -> PyResult<R> {
    // Text columns borrow their data buffers from a list of slices that must outlive the grouping.
    let buffer_lists: Vec<Vec<&[u8]>> = specs
        .iter()
        .map(|s| match s {
            Spec::Text { buffers, .. } => buffers.iter().map(bytes).collect(),
            _ => Ok(Vec::new()),
        })
        .collect::<PyResult<_>>()?;
    let mut cols = Vec::with_capacity(specs.len());
    for (s, bufs) in specs.iter().zip(&buffer_lists) {
        match s {
            Spec::Text {
                layout,
                main,
                validity,
                bit_offset,
                ..
            } => {
                let data = bufs.first().copied().unwrap_or(&[]);
                let layout = match (layout.as_str(), main) {
                    ("offsets32", Held::I32(o)) => TextLayout::Offsets32 {
                        offsets: slice(o),
                        data,
                    },
                    ("offsets64", Held::I64(o)) => TextLayout::Offsets64 {
                        offsets: slice(o),
                        data,
                    },
                    ("views", Held::U8(v)) => TextLayout::Views {
                        views: slice(v),
                        buffers: bufs,
                    },
                    _ => return Err(invalid_argument("by", "unknown Arrow text layout")),
                };
                cols.push(KeyColumn::Text(TextSlice {
                    layout,
                    validity: validity.as_ref().map(bytes).transpose()?,
                    bit_offset: *bit_offset,
                }));
            }
            other => cols.extend(columns(std::slice::from_ref(other))?),
        }
    }
    py.detach(move || f(&Grouping::new(cols, n_rows)?))
        .map_err(to_py)
}

/// A label as a Python value.
fn label_py<'py>(py: Python<'py>, l: &Label) -> PyResult<Bound<'py, PyAny>> {
    Ok(match l {
        Label::Bool(b) => pyo3::types::PyBool::new(py, *b).to_owned().into_any(),
        Label::Int(i) => i.into_pyobject(py)?.into_any(),
        Label::Float(x) => x.into_pyobject(py)?.into_any(),
        Label::Text(s) => s.into_pyobject(py)?.into_any(),
        Label::Date(d) => py
            .import("datetime")?
            .getattr("date")?
            .call_method1("fromordinal", (i64::from(*d) + 719_163,))?,
        Label::Datetime { value, unit } => {
            let unit = match unit {
                TimeUnit::S => "s",
                TimeUnit::Ms => "ms",
                TimeUnit::Us => "us",
                _ => "ns",
            };
            py.import("numpy")?
                .getattr("datetime64")?
                .call1((*value, unit))?
        }
        _ => py.None().into_bound(py),
    })
}

/// Results per group of the label columns `keys` (as `group_codes` takes them) over `n_rows` rows,
/// in one call: the groups' labels, and `f`'s result per group (`None` for a group without rows)
/// wrapped by `wrap`.
#[allow(clippy::type_complexity)]
pub(crate) fn results_by_group<'py, T: Send, P>(
    py: Python<'py>,
    keys: &[Bound<'py, PyAny>],
    n_rows: usize,
    f: impl FnOnce(&Grouping<'_>) -> cx_metrics::Result<Vec<Option<T>>> + Send,
    wrap: impl Fn(T) -> P,
) -> PyResult<(Vec<Bound<'py, PyTuple>>, Vec<Option<P>>)> {
    let specs = keys.iter().map(parse).collect::<PyResult<Vec<_>>>()?;
    let (labels, results) =
        with_grouping(py, &specs, n_rows, |g| Ok((g.labels().to_vec(), f(g)?)))?;
    let results = results.into_iter().map(|r| r.map(&wrap)).collect();
    Ok((labels_py(py, &labels)?, results))
}

pub(crate) fn labels_py<'py>(
    py: Python<'py>,
    g: &[Vec<Label>],
) -> PyResult<Vec<Bound<'py, PyTuple>>> {
    g.iter()
        .map(|ls| {
            let items = ls
                .iter()
                .map(|l| label_py(py, l))
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)
        })
        .collect()
}

/// Each group's labels, one tuple per group.
type GroupLabels<'py> = Vec<Bound<'py, PyTuple>>;

/// The groups of the label columns `keys` over `n_rows` rows: each group's labels (a tuple, one per
/// column), and the group number of every row (uint32).
#[pyfunction]
pub fn group_codes<'py>(
    py: Python<'py>,
    keys: Vec<Bound<'py, PyAny>>,
    n_rows: usize,
) -> PyResult<(GroupLabels<'py>, Bound<'py, PyArray1<u32>>)> {
    let specs = keys.iter().map(parse).collect::<PyResult<Vec<_>>>()?;
    let (labels, codes) =
        with_grouping(py, &specs, n_rows, |g| Ok((g.labels().to_vec(), g.codes())))?;
    Ok((labels_py(py, &labels)?, PyArray1::from_vec(py, codes)))
}

/// The tally kinds that can be folded per group: the scale of an empty one, and a tally of the same
/// kind from a group's counts.
enum Kind {
    Nps,
    Csat,
    Ces2,
    Ces1,
    Scale,
}

fn kind_of(template: &Bound<'_, PyAny>) -> PyResult<(Kind, Scale)> {
    if template.cast::<crate::nps::PyNpsTally>().is_ok() {
        return Ok((Kind::Nps, Scale::NPS));
    }
    if let Ok(t) = template.cast::<crate::csat::PyCsatTally>() {
        return Ok((Kind::Csat, t.borrow().inner.tally().scale()));
    }
    if let Ok(t) = template.cast::<crate::ces::PyCes2Tally>() {
        return Ok((Kind::Ces2, t.borrow().inner.tally().scale()));
    }
    if let Ok(t) = template.cast::<crate::ces::PyCes1Tally>() {
        return Ok((Kind::Ces1, t.borrow().inner.tally().scale()));
    }
    if let Ok(t) = template.cast::<crate::scale_tally::PyScaleTally>() {
        return Ok((Kind::Scale, t.borrow().inner.scale()));
    }
    Err(invalid_argument(
        "tally",
        "expected an NpsTally, CsatTally, Ces2Tally, Ces1Tally or ScaleTally",
    ))
}

fn wrap<'py>(py: Python<'py>, kind: &Kind, t: ScaleTally) -> PyResult<Bound<'py, PyAny>> {
    Ok(match kind {
        Kind::Nps => Bound::new(
            py,
            crate::nps::PyNpsTally {
                inner: t.try_into().py()?,
            },
        )?
        .into_any(),
        Kind::Csat => Bound::new(
            py,
            crate::csat::PyCsatTally {
                inner: t.try_into().py()?,
            },
        )?
        .into_any(),
        Kind::Ces2 => Bound::new(
            py,
            crate::ces::PyCes2Tally {
                inner: t.try_into().py()?,
            },
        )?
        .into_any(),
        Kind::Ces1 => Bound::new(
            py,
            crate::ces::PyCes1Tally {
                inner: t.try_into().py()?,
            },
        )?
        .into_any(),
        Kind::Scale => Bound::new(py, crate::scale_tally::PyScaleTally { inner: t })?.into_any(),
    })
}

/// Fold `values` (a 1-D numpy array of any integer or float dtype, with optional float64 weights)
/// per group of the label columns `keys`, in one pass: each group's labels, and a tally of the kind
/// of `template` per group (its scale; the template itself is not changed).
#[pyfunction]
#[pyo3(signature = (template, values, keys, weights=None, nan_policy="omit"))]
pub fn group_fold<'py>(
    py: Python<'py>,
    template: &Bound<'py, PyAny>,
    values: &Bound<'py, PyAny>,
    keys: Vec<Bound<'py, PyAny>>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    nan_policy: &str,
) -> PyResult<(GroupLabels<'py>, Vec<Bound<'py, PyAny>>)> {
    let policy: NanPolicy = nan_policy.parse().py()?;
    let (kind, scale) = kind_of(template)?;
    let specs = keys.iter().map(parse).collect::<PyResult<Vec<_>>>()?;
    let w = weights.as_ref().map(contiguous);
    let w = w.as_deref();
    let n = values
        .cast::<numpy::PyUntypedArray>()
        .map_err(|_| invalid_argument("values", "expected a 1-D numpy array of ratings"))?
        .len();
    macro_rules! run {
        ($($t:ty),*) => {$(
            if let Ok(a) = values.cast::<PyArray1<$t>>() {
                let ro = a.try_readonly().map_err(|e| invalid_argument("values", e))?;
                let data = contiguous(&ro);
                let v: &[$t] = &data;
                return finish(py, &kind, with_grouping(py, &specs, n, |g| {
                    Ok((g.labels().to_vec(), g.fold_scale(scale, v, w, policy)?))
                })?);
            }
        )*};
    }
    run!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
    Err(invalid_argument(
        "values",
        "expected a 1-D numpy array of an integer or float dtype",
    ))
}

fn finish<'py>(
    py: Python<'py>,
    kind: &Kind,
    (labels, tallies): (Vec<Vec<Label>>, Vec<ScaleTally>),
) -> PyResult<(GroupLabels<'py>, Vec<Bound<'py, PyAny>>)> {
    let tallies = tallies
        .into_iter()
        .map(|t| wrap(py, kind, t))
        .collect::<PyResult<_>>()?;
    Ok((labels_py(py, &labels)?, tallies))
}
