//! One grouping engine: rows split by one or several label columns (a wave, a segment, a brand), with one
//! set of rules, and every group's state folded in one parallel pass over the rows.
//!
//! # Labels become codes once
//!
//! A [`Grouping`] turns label columns ([`KeyColumn`]: integers, floats, booleans, dates and datetimes,
//! text in Arrow layout, typed labels, or categorical codes with their levels) into one group number per
//! row. Its rules are the same for every metric:
//!
//! - **Order.** A categorical column keeps its level order. Other columns are sorted: numbers
//!   numerically, `false` before `true`, dates and datetimes chronologically, text by Unicode code
//!   point (byte order of UTF-8: `"B"` before `"a"`, as Python's `sorted` and polars sort it). A
//!   column mixing kinds (only from typed labels) puts booleans, then numbers, then dates, then text.
//! - **The missing label** (null, NaN, NaT, a negative categorical code) is one group, placed last in
//!   its column and counted: rows are never dropped for a missing label.
//! - **Unused categorical levels** are reported, with no rows (n = 0).
//! - **Labels keep their type**: a [`Label`] is an integer, a float, a boolean, a date, a datetime or
//!   text, and serialises as such.
//! - **Several columns** group by the combination, ordered by the first column, then the second, and so
//!   on. The combinations reported are those that occur, and, when every column is categorical, every
//!   combination of their levels (as pandas' `groupby(..., observed=False)`), unused ones with no rows.
//!
//! Codes of a single categorical column (pandas categorical codes, polars categorical physical codes,
//! Arrow dictionary indices) are read in place, without a copy; other columns are factorised once,
//! in parallel (text is hashed per chunk, the chunks' dictionaries merged and sorted).
//!
//! # One pass per fold
//!
//! [`Grouping::fold_scale`] folds values (with optional weights) into one [`ScaleTally`] per group in a
//! single pass over the rows: the rows are cut into chunks, each chunk is counted by a worker into its
//! own per-group counts, and the chunks are merged in order at the end. Validation is that of
//! [`ScaleTally::fold`]: the first bad value or weight is named by its row number in the input, a
//! missing rating is omitted and counted in its group (or is an error under [`NanPolicy::Raise`]), and
//! nothing is returned on error. Each group's tally is built by the checked [`ScaleTally::from_parts`],
//! from which NPS, CSAT and CES tallies follow with `TryFrom`.
//!
//! Any other mergeable state is grouped the same way through [`Grouping::fold_rows`]: it takes an
//! empty state and a function that folds one row of a chunk into a state, keeps one state per group
//! per chunk, and merges the chunks' states with [`Merge`]. A state that implements the crate's
//! accumulator contract (fold a batch, merge) needs only that row function to be grouped;
//! [`Grouping::fold_scale`] is the specialised, vectorisable form of it for the scale tallies.
//!
//! ```
//! use cx_metrics::groups::{Grouping, KeyColumn, Label};
//! use cx_metrics::{NanPolicy, NpsTally, Scale};
//!
//! let wave = [2i64, 1, 1, 2, 1];
//! let ratings = [10u8, 9, 3, 7, 10];
//! let g = Grouping::new(vec![KeyColumn::from(&wave[..])], wave.len()).unwrap();
//! assert_eq!(g.labels(), [vec![Label::Int(1)], vec![Label::Int(2)]]);
//! let tallies = g.fold_scale(Scale::NPS, &ratings, None, NanPolicy::Omit).unwrap();
//! let q1 = NpsTally::try_from(tallies[0].clone()).unwrap().result();
//! assert_eq!((q1.n, q1.n_promoters, q1.n_detractors), (3, 2, 1));
//! ```

use std::cmp::Ordering;
use std::fmt;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::scale::{NanPolicy, RawValue, Scale};
use crate::simd::vectorized;
use crate::tally::{point_slot, value_error, Merge, ScaleTally};

/// Rows per chunk of the parallel passes.
const CHUNK: usize = 1 << 16;

/// The unit of a [`Label::Datetime`], as numpy and Arrow spell it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Seconds.
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds.
    Us,
    /// Nanoseconds.
    Ns,
}

impl TimeUnit {
    /// Units per second.
    fn per_second(self) -> i128 {
        match self {
            Self::S => 1,
            Self::Ms => 1_000,
            Self::Us => 1_000_000,
            Self::Ns => 1_000_000_000,
        }
    }
}

impl std::str::FromStr for TimeUnit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "s" => Ok(Self::S),
            "ms" => Ok(Self::Ms),
            "us" => Ok(Self::Us),
            "ns" => Ok(Self::Ns),
            _ => Err(Error::invalid(
                "time unit",
                format!("{s:?} is not one of \"s\", \"ms\", \"us\", \"ns\""),
            )),
        }
    }
}

/// A group's label in one column, with its type.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Label {
    /// The missing label (null, NaN, NaT): one group, placed last.
    Missing,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (never NaN; `-0.0` reads as `0.0`).
    Float(f64),
    /// A calendar date, as days since 1970-01-01.
    Date(i32),
    /// A moment, as units since 1970-01-01T00:00.
    Datetime {
        /// Units since the epoch.
        value: i64,
        /// The unit.
        unit: TimeUnit,
    },
    /// Text.
    Text(String),
}

impl Label {
    fn kind_rank(&self) -> u8 {
        match self {
            Self::Bool(_) => 0,
            Self::Int(_) | Self::Float(_) => 1,
            Self::Date(_) | Self::Datetime { .. } => 2,
            Self::Text(_) => 3,
            Self::Missing => 4,
        }
    }

    /// Nanoseconds since the epoch, for ordering dates and datetimes together.
    fn instant(&self) -> i128 {
        match self {
            Self::Date(d) => i128::from(*d) * 86_400 * 1_000_000_000,
            Self::Datetime { value, unit } => {
                i128::from(*value) * (1_000_000_000 / unit.per_second())
            }
            _ => 0,
        }
    }

    /// The engine's order: kinds apart (booleans, numbers, dates, text, missing last), then by value.
    pub fn rule_cmp(&self, other: &Self) -> Ordering {
        let by_kind = self.kind_rank().cmp(&other.kind_rank());
        if by_kind != Ordering::Equal {
            return by_kind;
        }
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => a.cmp(b),
            (Self::Int(a), Self::Int(b)) => a.cmp(b),
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            (Self::Float(a), Self::Float(b)) => a.total_cmp(b),
            (Self::Int(a), Self::Float(b)) => cmp_int_float(*a, *b),
            (Self::Float(a), Self::Int(b)) => cmp_int_float(*b, *a).reverse(),
            (a @ (Self::Date(_) | Self::Datetime { .. }), b) => a.instant().cmp(&b.instant()),
            _ => Ordering::Equal,
        }
    }
}

fn cmp_int_float(a: i64, b: f64) -> Ordering {
    // Exact for |a| < 2^53; beyond, the float order is what a user expects anyway.
    (a as f64).total_cmp(&b).then(Ordering::Less)
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("(missing)"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x:?}"),
            Self::Date(d) => write_date(f, i64::from(*d)),
            Self::Datetime { value, unit } => {
                let per = i64::try_from(unit.per_second()).unwrap_or(1);
                let secs = value.div_euclid(per);
                let (day, sec) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
                write_date(f, day)?;
                write!(f, "T{:02}:{:02}:{:02}", sec / 3600, sec / 60 % 60, sec % 60)?;
                let frac = value.rem_euclid(per);
                if frac != 0 {
                    let width = per.ilog10() as usize;
                    write!(f, ".{frac:0width$}")?;
                }
                Ok(())
            }
            Self::Text(s) => write!(f, "{s}"),
        }
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01, as `YYYY-MM-DD` (Hinnant's `civil_from_days`).
fn write_date(f: &mut fmt::Formatter<'_>, days: i64) -> fmt::Result {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    write!(f, "{y:04}-{m:02}-{d:02}")
}

/// Integer codes of a categorical column, read in place: code `c >= 0` is level `c`, a negative code
/// is the missing label (pandas' `-1`).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum CodeSlice<'a> {
    /// int8 codes (pandas, up to 127 levels).
    I8(&'a [i8]),
    /// int16 codes.
    I16(&'a [i16]),
    /// int32 codes.
    I32(&'a [i32]),
    /// int64 codes.
    I64(&'a [i64]),
}

impl CodeSlice<'_> {
    fn len(&self) -> usize {
        match self {
            Self::I8(c) => c.len(),
            Self::I16(c) => c.len(),
            Self::I32(c) => c.len(),
            Self::I64(c) => c.len(),
        }
    }
}

/// A column of integers of any width, read in place.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum IntSlice<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

/// The buffers of an Arrow text column (from the array's offset on).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum TextLayout<'a> {
    /// `string` / `utf8`: `len + 1` offsets into one data buffer.
    Offsets32 {
        /// The offsets.
        offsets: &'a [i32],
        /// The UTF-8 bytes.
        data: &'a [u8],
    },
    /// `large_string` / `large_utf8`: `len + 1` offsets into one data buffer.
    Offsets64 {
        /// The offsets.
        offsets: &'a [i64],
        /// The UTF-8 bytes.
        data: &'a [u8],
    },
    /// `string_view` (polars' strings): 16 bytes per row, a little-endian length, then the text
    /// itself when at most 12 bytes long, else a prefix, a buffer index and an offset into it.
    Views {
        /// `16 * len` bytes of views.
        views: &'a [u8],
        /// The data buffers the long views point into.
        buffers: &'a [&'a [u8]],
    },
}

/// A text column in Arrow's layout with an optional validity bitmap, read in place.
#[derive(Debug, Clone, Copy)]
pub struct TextSlice<'a> {
    /// The offsets or views and the bytes.
    pub layout: TextLayout<'a>,
    /// Validity bitmap (bit `i + bit_offset` set when row `i` is present), LSB first, as Arrow.
    pub validity: Option<&'a [u8]>,
    /// The first row's bit in `validity`.
    pub bit_offset: usize,
}

impl<'a> TextSlice<'a> {
    fn len(&self) -> usize {
        match self.layout {
            TextLayout::Offsets32 { offsets, .. } => offsets.len().saturating_sub(1),
            TextLayout::Offsets64 { offsets, .. } => offsets.len().saturating_sub(1),
            TextLayout::Views { views, .. } => views.len() / 16,
        }
    }

    /// Row `i` (None when null). Errors name the row when offsets or bytes are not valid.
    fn get(&self, i: usize) -> Result<Option<&'a str>> {
        match self.bytes(i)? {
            None => Ok(None),
            Some(b) => utf8(b, i).map(Some),
        }
    }

    /// The bytes of row `i` (None when null), not yet checked to be UTF-8.
    #[inline]
    fn bytes(&self, i: usize) -> Result<Option<&'a [u8]>> {
        if let Some(v) = self.validity {
            let bit = i + self.bit_offset;
            let byte = v.get(bit / 8).copied().unwrap_or(0);
            if byte & (1 << (bit % 8)) == 0 {
                return Ok(None);
            }
        }
        let span = |data: &'a [u8], a: Option<usize>, b: Option<usize>| match (a, b) {
            (Some(a), Some(b)) if a <= b => data.get(a..b),
            _ => None,
        };
        let bytes = match self.layout {
            TextLayout::Offsets32 { offsets, data } => span(
                data,
                usize::try_from(offsets[i]).ok(),
                usize::try_from(offsets[i + 1]).ok(),
            ),
            TextLayout::Offsets64 { offsets, data } => span(
                data,
                usize::try_from(offsets[i]).ok(),
                usize::try_from(offsets[i + 1]).ok(),
            ),
            TextLayout::Views { views, buffers } => {
                let v = &views[16 * i..16 * i + 16];
                let word = |j: usize| u32::from_le_bytes([v[j], v[j + 1], v[j + 2], v[j + 3]]);
                let len = word(0) as usize;
                if len <= 12 {
                    Some(&v[4..4 + len])
                } else {
                    let start = word(12) as usize;
                    buffers
                        .get(word(8) as usize)
                        .and_then(|b| span(b, Some(start), start.checked_add(len)))
                }
            }
        };
        bytes.map(Some).ok_or_else(|| {
            Error::invalid(
                "labels",
                format!("text column: the offsets of row {i} point outside its data"),
            )
        })
    }
}

/// `bytes` (of row `row`) as text, or an error naming the row.
fn utf8(bytes: &[u8], row: usize) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| {
        Error::invalid(
            "labels",
            format!("text at row {row} is not valid UTF-8; decode the column first"),
        )
    })
}

/// One label column, as [`Grouping::new`] reads it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KeyColumn<'a> {
    /// Integers; `missing[i]` marks a null (nullable integer columns).
    Int(IntSlice<'a>, Option<&'a [bool]>),
    /// float64 values; NaN (or `missing[i]`) is the missing label.
    F64(&'a [f64], Option<&'a [bool]>),
    /// float32 values; NaN (or `missing[i]`) is the missing label.
    F32(&'a [f32], Option<&'a [bool]>),
    /// Booleans; `missing[i]` marks a null.
    Bool(&'a [bool], Option<&'a [bool]>),
    /// Datetimes as units since the epoch (`i64::MIN` is NaT); unit `None` means days (dates).
    Datetime(&'a [i64], Option<TimeUnit>),
    /// Text in Arrow's layout.
    Text(TextSlice<'a>),
    /// One typed label per row (a fallback for Python objects); [`Label::Missing`] is missing.
    Labels(Vec<Label>),
    /// A categorical column: codes per row, and the levels.
    Categorical {
        /// Code per row (negative: missing).
        codes: CodeSlice<'a>,
        /// The label of each code.
        levels: Vec<Label>,
        /// `true`: the levels are in their order and every level is reported (pandas categorical,
        /// polars enum / categorical, Arrow dictionary). `false`: the levels are only a dictionary
        /// (first appearance, say), sorted by the rules and reported only when used.
        ordered: bool,
    },
}

impl<'a> From<&'a [i64]> for KeyColumn<'a> {
    fn from(v: &'a [i64]) -> Self {
        Self::Int(IntSlice::I64(v), None)
    }
}

impl<'a> From<&'a [f64]> for KeyColumn<'a> {
    fn from(v: &'a [f64]) -> Self {
        Self::F64(v, None)
    }
}

impl KeyColumn<'_> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Self::Int(s, _) => int_len(s),
            Self::F64(v, _) => v.len(),
            Self::F32(v, _) => v.len(),
            Self::Bool(v, _) => v.len(),
            Self::Datetime(v, _) => v.len(),
            Self::Text(t) => t.len(),
            Self::Labels(l) => l.len(),
            Self::Categorical { codes, .. } => codes.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The label of every row, in row order (used for the levels of a categorical column).
    pub fn labels(&self) -> Result<Vec<Label>> {
        let n = self.len();
        (0..n).map(|i| self.label_at(i)).collect()
    }

    fn label_at(&self, i: usize) -> Result<Label> {
        let masked = |m: &Option<&[bool]>| m.is_some_and(|m| m[i]);
        Ok(match self {
            Self::Int(s, m) => {
                if masked(m) {
                    Label::Missing
                } else {
                    int_label(s, i)?
                }
            }
            Self::F64(v, m) => float_label(v[i], masked(m)),
            Self::F32(v, m) => float_label(f64::from(v[i]), masked(m)),
            Self::Bool(v, m) => {
                if masked(m) {
                    Label::Missing
                } else {
                    Label::Bool(v[i])
                }
            }
            Self::Datetime(v, unit) => time_label(v[i], *unit),
            Self::Text(t) => t
                .get(i)?
                .map_or(Label::Missing, |s| Label::Text(s.to_owned())),
            Self::Labels(l) => l[i].clone(),
            Self::Categorical { codes, levels, .. } => {
                let c = code_at(codes, i);
                if c < 0 {
                    Label::Missing
                } else {
                    levels
                        .get(c as usize)
                        .cloned()
                        .ok_or_else(|| bad_code(c, i, levels.len()))?
                }
            }
        })
    }

    fn is_categorical(&self) -> bool {
        matches!(self, Self::Categorical { ordered: true, .. })
    }
}

fn int_len(s: &IntSlice<'_>) -> usize {
    match s {
        IntSlice::I8(v) => v.len(),
        IntSlice::I16(v) => v.len(),
        IntSlice::I32(v) => v.len(),
        IntSlice::I64(v) => v.len(),
        IntSlice::U8(v) => v.len(),
        IntSlice::U16(v) => v.len(),
        IntSlice::U32(v) => v.len(),
        IntSlice::U64(v) => v.len(),
    }
}

fn int_label(s: &IntSlice<'_>, i: usize) -> Result<Label> {
    Ok(Label::Int(match s {
        IntSlice::I8(v) => i64::from(v[i]),
        IntSlice::I16(v) => i64::from(v[i]),
        IntSlice::I32(v) => i64::from(v[i]),
        IntSlice::I64(v) => v[i],
        IntSlice::U8(v) => i64::from(v[i]),
        IntSlice::U16(v) => i64::from(v[i]),
        IntSlice::U32(v) => i64::from(v[i]),
        IntSlice::U64(v) => i64::try_from(v[i]).map_err(|_| {
            Error::invalid(
                "labels",
                format!(
                    "label {} at row {i} is above the largest integer label (2^63 - 1); \
                     cast the column to text",
                    v[i]
                ),
            )
        })?,
    }))
}

fn float_label(x: f64, masked: bool) -> Label {
    if masked || x.is_nan() {
        Label::Missing
    } else if x == 0.0 {
        Label::Float(0.0)
    } else {
        Label::Float(x)
    }
}

fn time_label(v: i64, unit: Option<TimeUnit>) -> Label {
    match unit {
        _ if v == i64::MIN => Label::Missing,
        None => i32::try_from(v).map_or(
            Label::Datetime {
                value: v.saturating_mul(86_400),
                unit: TimeUnit::S,
            },
            Label::Date,
        ),
        Some(unit) => Label::Datetime { value: v, unit },
    }
}

#[inline]
fn code_at(codes: &CodeSlice<'_>, i: usize) -> i64 {
    match codes {
        CodeSlice::I8(c) => i64::from(c[i]),
        CodeSlice::I16(c) => i64::from(c[i]),
        CodeSlice::I32(c) => i64::from(c[i]),
        CodeSlice::I64(c) => c[i],
    }
}

fn bad_code(code: i64, row: usize, levels: usize) -> Error {
    Error::invalid(
        "labels",
        format!(
            "categorical code {code} at row {row} has no level ({levels} levels, codes 0..{levels}, \
             negative for missing); rebuild the categorical column"
        ),
    )
}

/// Group numbers per row: read in place from one categorical column, or computed.
#[derive(Debug, Clone)]
enum Codes<'a> {
    /// Group per row; the missing group is `levels.len()` of the only column.
    Dense(Vec<u32>),
    /// Categorical codes: `c >= 0` is group `c`, `c < 0` the missing group `missing`.
    Categorical { codes: CodeSlice<'a>, missing: u32 },
}

/// Rows split into groups by one or several label columns (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Grouping<'a> {
    codes: Codes<'a>,
    labels: Vec<Vec<Label>>,
    n_rows: usize,
    categorical: Vec<bool>,
}

/// One column's codes: group per row (missing: `levels.len()`), its levels in order, and whether
/// a row is missing.
struct ColumnCodes {
    codes: Vec<u32>,
    levels: Vec<Label>,
    missing: bool,
}

impl<'a> Grouping<'a> {
    /// Group `n_rows` rows by `columns` (one label per row each, the first column outermost).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when a column does not have `n_rows` labels;
    /// [`Error::InvalidArgument`] for no column, a categorical code without a level, a level given
    /// twice, text that is not UTF-8, or an unsigned integer label above `i64::MAX`.
    pub fn new(columns: Vec<KeyColumn<'a>>, n_rows: usize) -> Result<Self> {
        if columns.is_empty() {
            return Err(Error::invalid(
                "by",
                "no label column given; pass at least one",
            ));
        }
        for c in &columns {
            if c.len() != n_rows {
                return Err(Error::LengthMismatch {
                    what: "values and labels",
                    left: n_rows,
                    right: c.len(),
                });
            }
        }
        let categorical: Vec<bool> = columns.iter().map(KeyColumn::is_categorical).collect();
        if columns.len() == 1 {
            if let KeyColumn::Categorical {
                codes,
                levels,
                ordered: true,
            } = &columns[0]
            {
                check_levels(levels)?;
                let missing = check_codes(codes, levels.len())?;
                let mut labels: Vec<Vec<Label>> = levels.iter().map(|l| vec![l.clone()]).collect();
                if missing {
                    labels.push(vec![Label::Missing]);
                }
                return Ok(Self {
                    codes: Codes::Categorical {
                        codes: *codes,
                        missing: levels.len() as u32,
                    },
                    labels,
                    n_rows,
                    categorical,
                });
            }
        }
        let mut parts = Vec::with_capacity(columns.len());
        for c in columns {
            parts.push(column_codes(c)?);
        }
        if parts.len() == 1 {
            let p = parts.pop().expect("one column");
            let mut labels: Vec<Vec<Label>> = p.levels.into_iter().map(|l| vec![l]).collect();
            if p.missing {
                labels.push(vec![Label::Missing]);
            }
            return Ok(Self {
                codes: Codes::Dense(p.codes),
                labels,
                n_rows,
                categorical,
            });
        }
        combine(parts, n_rows, categorical)
    }

    /// The groups' labels in group order, one label per column each.
    pub fn labels(&self) -> &[Vec<Label>] {
        &self.labels
    }

    /// Number of groups (including the missing-label group and unused levels, when reported).
    pub fn n_groups(&self) -> usize {
        self.labels.len()
    }

    /// Number of rows grouped.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Which columns are categorical (their unused levels are reported).
    pub fn categorical(&self) -> &[bool] {
        &self.categorical
    }

    /// The group of every row.
    pub fn codes(&self) -> Vec<u32> {
        match &self.codes {
            Codes::Dense(c) => c.clone(),
            Codes::Categorical { codes, missing } => (0..self.n_rows)
                .map(|i| {
                    let c = code_at(codes, i);
                    if c < 0 {
                        *missing
                    } else {
                        c as u32
                    }
                })
                .collect(),
        }
    }

    /// Rows per group (every row, whatever its values).
    pub fn sizes(&self) -> Vec<u64> {
        let mut out = vec![0u64; self.n_groups()];
        for c in self.codes() {
            out[c as usize] += 1;
        }
        out
    }

    /// Fold `values` (optionally weighted) into one tally on `scale` per group, in one parallel pass.
    ///
    /// Validation is that of [`ScaleTally::fold`]: the first bad value or weight is an error naming
    /// its row in `values`; a missing value is omitted and counted in its group's `n_omitted` under
    /// [`NanPolicy::Omit`], an error under [`NanPolicy::Raise`].
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `values`, `weights` and the labels differ in length; the errors
    /// of [`ScaleTally::fold`] otherwise.
    pub fn fold_scale<T: RawValue>(
        &self,
        scale: Scale,
        values: &[T],
        weights: Option<&[f64]>,
        policy: NanPolicy,
    ) -> Result<Vec<ScaleTally>> {
        if values.len() != self.n_rows {
            return Err(Error::LengthMismatch {
                what: "values and labels",
                left: values.len(),
                right: self.n_rows,
            });
        }
        if let Some(w) = weights {
            if w.len() != values.len() {
                return Err(Error::LengthMismatch {
                    what: "values and weights",
                    left: values.len(),
                    right: w.len(),
                });
            }
        }
        let total = self.count_scale(scale, values, weights, policy)?;
        // Weights whose sums are out of range are counted again scaled by a power of two, as
        // `ScaleTally::fold` does (see `crate::tally`): free for ordinary weights.
        if let (Some(w), Some((s1, s2))) = (weights, &total.weight) {
            if !crate::weights::sums_in_range(s1, s2) {
                let e = crate::weights::tally_exponent(crate::weights::max_of(w));
                if e != 0 {
                    let scaled = crate::weights::scaled_by(w, e);
                    let total = self.count_scale(scale, values, Some(&scaled), policy)?;
                    return total.into_tallies(scale, self.n_groups(), e);
                }
            }
        }
        total.into_tallies(scale, self.n_groups(), 0)
    }

    /// The per-group counts of [`Grouping::fold_scale`], in one parallel pass.
    fn count_scale<T: RawValue>(
        &self,
        scale: Scale,
        values: &[T],
        weights: Option<&[f64]>,
        policy: NanPolicy,
    ) -> Result<Counts> {
        let g = self.n_groups().max(1);
        let k = scale.points();
        let chunk = |c: usize| -> Result<Counts> {
            let start = c * CHUNK;
            let end = (start + CHUNK).min(values.len());
            let v = &values[start..end];
            let w = weights.map(|w| &w[start..end]);
            vectorized(
                #[inline(always)]
                || match &self.codes {
                    Codes::Dense(codes) => {
                        count(v, w, &codes[start..end], start, &scale, g, policy)
                    }
                    // Negative codes land in the last group, which is the missing group whenever one
                    // exists (the codes were checked when the grouping was built).
                    Codes::Categorical { codes, .. } => match codes {
                        CodeSlice::I8(c) => count(v, w, &c[start..end], start, &scale, g, policy),
                        CodeSlice::I16(c) => count(v, w, &c[start..end], start, &scale, g, policy),
                        CodeSlice::I32(c) => count(v, w, &c[start..end], start, &scale, g, policy),
                        CodeSlice::I64(c) => count(v, w, &c[start..end], start, &scale, g, policy),
                    },
                },
            )
        };
        let n_chunks = values.len().div_ceil(CHUNK);
        let parts: Vec<Result<Counts>> = if n_chunks <= 1 {
            vec![chunk(0)]
        } else {
            (0..n_chunks).into_par_iter().map(chunk).collect()
        };
        let mut total = Counts::new(g, k, weights.is_some());
        // Chunks are in row order: the first error is the one at the lowest row.
        for p in parts {
            total.add(&p?);
        }
        Ok(total)
    }

    /// Fold any mergeable state per group in one parallel pass: `fold_row(state, row)` folds row `row`
    /// into its group's state, chunk by chunk; the chunks' states are merged in row order.
    ///
    /// ```
    /// use cx_metrics::groups::{Grouping, KeyColumn};
    /// use cx_metrics::{NanPolicy, Scale, ScaleTally};
    /// let labels = [1.5, f64::NAN, 1.5];
    /// let g = Grouping::new(vec![KeyColumn::from(&labels[..])], 3).unwrap();
    /// let values = [3u8, 4, 5];
    /// let by_row = g
    ///     .fold_rows(&ScaleTally::new(Scale::NPS), |t, i| t.push(values[i], 1.0, NanPolicy::Omit))
    ///     .unwrap();
    /// assert_eq!(by_row, g.fold_scale(Scale::NPS, &values, None, NanPolicy::Omit).unwrap());
    /// ```
    ///
    /// # Errors
    /// The first error `fold_row` or a merge returns, in row order.
    pub fn fold_rows<S, F>(&self, empty: &S, fold_row: F) -> Result<Vec<S>>
    where
        S: Merge + Clone + Send + Sync,
        F: Fn(&mut S, usize) -> Result<()> + Sync,
    {
        let g = self.n_groups();
        let chunk = |c: usize| -> Result<Vec<S>> {
            let mut states = vec![empty.clone(); g];
            for i in c * CHUNK..((c + 1) * CHUNK).min(self.n_rows) {
                fold_row(&mut states[self.group_of(i)], i)?;
            }
            Ok(states)
        };
        let parts: Vec<Result<Vec<S>>> = (0..self.n_rows.div_ceil(CHUNK))
            .into_par_iter()
            .map(chunk)
            .collect();
        let mut total = vec![empty.clone(); g];
        for p in parts {
            for (t, s) in total.iter_mut().zip(p?) {
                t.merge(&s)?;
            }
        }
        Ok(total)
    }

    fn group_of(&self, i: usize) -> usize {
        match &self.codes {
            Codes::Dense(c) => c[i] as usize,
            Codes::Categorical { codes, missing } => {
                let c = code_at(codes, i);
                if c < 0 {
                    *missing as usize
                } else {
                    c as usize
                }
            }
        }
    }
}

fn check_levels(levels: &[Label]) -> Result<()> {
    let mut seen: FxHashMap<Key<'_>, ()> = FxHashMap::default();
    for (i, l) in levels.iter().enumerate() {
        if matches!(l, Label::Missing) {
            return Err(Error::invalid(
                "labels",
                format!("categorical level {i} is missing; levels must be labels"),
            ));
        }
        if seen.insert(key_of(l), ()).is_some() {
            return Err(Error::invalid(
                "labels",
                format!("categorical level {l} is given twice; levels must be distinct"),
            ));
        }
    }
    Ok(())
}

/// Check every code names a level (naming the first row that does not); whether any is missing.
/// One vectorised pass: the smallest and largest code of each chunk.
fn check_codes(codes: &CodeSlice<'_>, levels: usize) -> Result<bool> {
    fn scan<C: Copy + Ord + Into<i64> + Send + Sync>(c: &[C], levels: usize) -> Result<bool> {
        let Some(&first) = c.first() else {
            return Ok(false);
        };
        let (lo, hi) = c
            .par_chunks(CHUNK)
            .map(|ch| {
                vectorized(
                    #[inline(always)]
                    || {
                        ch.iter()
                            .fold((first, first), |(lo, hi), &x| (lo.min(x), hi.max(x)))
                    },
                )
            })
            .reduce(|| (first, first), |a, b| (a.0.min(b.0), a.1.max(b.1)));
        let top = levels as i64;
        if hi.into() >= top {
            let row = c.iter().position(|&x| x.into() >= top).unwrap_or(0);
            return Err(bad_code(c[row].into(), row, levels));
        }
        Ok(lo.into() < 0)
    }
    match codes {
        CodeSlice::I8(c) => scan(c, levels),
        CodeSlice::I16(c) => scan(c, levels),
        CodeSlice::I32(c) => scan(c, levels),
        CodeSlice::I64(c) => scan(c, levels),
    }
}

/// Factorise one column: codes in sorted level order (or categorical order), missing last.
fn column_codes(column: KeyColumn<'_>) -> Result<ColumnCodes> {
    let n = column.len();
    match column {
        KeyColumn::Categorical {
            codes,
            levels,
            ordered,
        } => {
            check_levels(&levels)?;
            let missing = check_codes(&codes, levels.len())?;
            let raw: Vec<u32> = (0..n)
                .into_par_iter()
                .map(|i| {
                    let c = code_at(&codes, i);
                    if c < 0 {
                        u32::MAX
                    } else {
                        c as u32
                    }
                })
                .collect();
            if ordered {
                let m = levels.len() as u32;
                let codes = raw.into_par_iter().map(|c| c.min(m)).collect();
                return Ok(ColumnCodes {
                    codes,
                    levels,
                    missing,
                });
            }
            let mut used = vec![false; levels.len()];
            for &c in &raw {
                if c != u32::MAX {
                    used[c as usize] = true;
                }
            }
            let dict: Vec<Label> = levels.into_iter().collect();
            Ok(sort_dictionary(raw, dict, Some(&used), missing))
        }
        KeyColumn::Text(t) => text_codes(&t, n),
        KeyColumn::Labels(labels) => Ok(factorise_labels(labels)),
        other => {
            // Numbers, booleans and datetimes: factorised on a 64-bit key per row (the value's bits;
            // every label of one column has the same kind), the distinct keys then read as labels.
            let (raw, dict, missing) = factorise(n, |i| {
                Ok(match other.label_at(i)? {
                    Label::Missing => None,
                    Label::Int(x) => Some(x as u64),
                    Label::Float(x) => Some(x.to_bits()),
                    Label::Bool(b) => Some(u64::from(b)),
                    Label::Date(d) => Some(i64::from(d) as u64),
                    Label::Datetime { value, .. } => Some(value as u64),
                    Label::Text(_) => None,
                })
            })?;
            let mut levels = Vec::with_capacity(dict.len());
            for &(_, row) in &dict {
                levels.push(other.label_at(row)?);
            }
            Ok(sort_dictionary(raw, levels, None, missing))
        }
    }
}

/// Codes of `n` rows by the key of each row (None: missing), hashed per chunk in parallel: the code
/// of every row (`u32::MAX` for missing) into the distinct keys in order of first appearance, each
/// with the first row that holds it, and whether any row is missing.
#[allow(clippy::type_complexity)]
fn factorise<K, F>(n: usize, key_at: F) -> Result<(Vec<u32>, Vec<(K, usize)>, bool)>
where
    K: Copy + Eq + std::hash::Hash + Send + Sync,
    F: Fn(usize) -> Result<Option<K>> + Sync,
{
    struct Part<K> {
        dict: Vec<(K, usize)>,
        missing: bool,
    }
    let mut codes = vec![0u32; n];
    let parts: Vec<Result<Part<K>>> = codes
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, out)| {
            let mut index: FxHashMap<K, u32> = FxHashMap::default();
            let mut dict = Vec::new();
            let mut missing = false;
            for (j, o) in out.iter_mut().enumerate() {
                let i = c * CHUNK + j;
                *o = match key_at(i)? {
                    None => {
                        missing = true;
                        u32::MAX
                    }
                    Some(key) => *index.entry(key).or_insert_with(|| {
                        dict.push((key, i));
                        (dict.len() - 1) as u32
                    }),
                };
            }
            Ok(Part { dict, missing })
        })
        .collect();
    let mut global: FxHashMap<K, u32> = FxHashMap::default();
    let mut dict: Vec<(K, usize)> = Vec::new();
    let mut remaps = Vec::with_capacity(parts.len());
    let mut missing = false;
    // Chunks in row order: the first error is the one at the lowest row.
    for p in parts {
        let p = p?;
        missing |= p.missing;
        remaps.push(
            p.dict
                .iter()
                .map(|&(key, row)| {
                    *global.entry(key).or_insert_with(|| {
                        dict.push((key, row));
                        (dict.len() - 1) as u32
                    })
                })
                .collect::<Vec<u32>>(),
        );
    }
    codes
        .par_chunks_mut(CHUNK)
        .zip(remaps.par_iter())
        .for_each(|(out, remap)| {
            for o in out.iter_mut() {
                if *o != u32::MAX {
                    *o = remap[*o as usize];
                }
            }
        });
    Ok((codes, dict, missing))
}

/// A hashable key for a label (floats by their bits, `-0.0` already read as `0.0`).
#[derive(Hash, PartialEq, Eq)]
enum Key<'s> {
    Missing,
    Bool(bool),
    Int(i64),
    Float(u64),
    Date(i32),
    Datetime(i64, TimeUnit),
    Text(&'s str),
}

fn key_of(l: &Label) -> Key<'_> {
    match l {
        Label::Missing => Key::Missing,
        Label::Bool(b) => Key::Bool(*b),
        Label::Int(i) => Key::Int(*i),
        Label::Float(x) => Key::Float(x.to_bits()),
        Label::Date(d) => Key::Date(*d),
        Label::Datetime { value, unit } => Key::Datetime(*value, *unit),
        Label::Text(s) => Key::Text(s),
    }
}

fn factorise_labels(labels: Vec<Label>) -> ColumnCodes {
    let mut index: FxHashMap<Key<'_>, u32> = FxHashMap::default();
    let mut dict: Vec<&Label> = Vec::new();
    let mut missing = false;
    let raw: Vec<u32> = labels
        .iter()
        .map(|l| {
            if matches!(l, Label::Missing) {
                missing = true;
                return u32::MAX;
            }
            *index.entry(key_of(l)).or_insert_with(|| {
                dict.push(l);
                (dict.len() - 1) as u32
            })
        })
        .collect();
    let dict: Vec<Label> = dict.into_iter().cloned().collect();
    sort_dictionary(raw, dict, None, missing)
}

/// Sort a dictionary by the rules (keeping only used entries when `used` is given) and remap codes
/// (`u32::MAX` is missing, mapped to the number of levels).
fn sort_dictionary(
    raw: Vec<u32>,
    dict: Vec<Label>,
    used: Option<&[bool]>,
    missing: bool,
) -> ColumnCodes {
    let mut order: Vec<usize> = (0..dict.len())
        .filter(|&i| used.is_none_or(|u| u[i]))
        .collect();
    order.sort_by(|&a, &b| dict[a].rule_cmp(&dict[b]));
    let m = order.len() as u32;
    let mut remap = vec![m; dict.len()];
    for (pos, &i) in order.iter().enumerate() {
        remap[i] = pos as u32;
    }
    let codes = raw
        .into_par_iter()
        .map(|c| if c == u32::MAX { m } else { remap[c as usize] })
        .collect();
    let mut dict: Vec<Option<Label>> = dict.into_iter().map(Some).collect();
    let levels = order
        .iter()
        .map(|&i| dict[i].take().expect("each level once"))
        .collect();
    ColumnCodes {
        codes,
        levels,
        missing,
    }
}

/// Text hashed as bytes per chunk (in parallel); each distinct text is checked for UTF-8 once, then
/// the dictionary is sorted (byte order of UTF-8 is code-point order).
fn text_codes(t: &TextSlice<'_>, n: usize) -> Result<ColumnCodes> {
    let (raw, dict, missing) = factorise(n, |i| t.bytes(i))?;
    let mut levels = Vec::with_capacity(dict.len());
    for &(b, row) in &dict {
        levels.push(Label::Text(utf8(b, row)?.to_owned()));
    }
    Ok(sort_dictionary(raw, levels, None, missing))
}

/// Groups of several columns: combinations in lexicographic order of the columns' codes.
fn combine(
    parts: Vec<ColumnCodes>,
    n_rows: usize,
    categorical: Vec<bool>,
) -> Result<Grouping<'static>> {
    // Mixed radix: column c's code (missing = its number of levels) has radix levels + 1.
    let radix: Vec<u64> = parts.iter().map(|p| p.levels.len() as u64 + 1).collect();
    let too_many = || {
        Error::invalid(
            "by",
            "too many combinations of labels to group by; group by fewer columns",
        )
    };
    let mut stride = vec![1u64; parts.len()];
    for c in (0..parts.len().saturating_sub(1)).rev() {
        stride[c] = stride[c + 1]
            .checked_mul(radix[c + 1])
            .ok_or_else(too_many)?;
    }
    stride[0].checked_mul(radix[0]).ok_or_else(too_many)?;
    let combined: Vec<u64> = (0..n_rows)
        .into_par_iter()
        .map(|i| {
            parts
                .iter()
                .zip(&stride)
                .map(|(p, s)| u64::from(p.codes[i]) * s)
                .sum()
        })
        .collect();
    let mut keys: Vec<u64> = combined.clone();
    keys.par_sort_unstable();
    keys.dedup();
    if categorical.iter().all(|&c| c) {
        // Every combination of the levels (without missing), used or not.
        let mut all = vec![0u64];
        for (p, &s) in parts.iter().zip(&stride) {
            let n = p.levels.len() as u64;
            all = all
                .iter()
                .flat_map(|&a| (0..n).map(move |l| a + l * s))
                .collect();
            if all.len() > 1 << 24 {
                return Err(too_many());
            }
        }
        keys.extend(all);
        keys.par_sort_unstable();
        keys.dedup();
    }
    let index: FxHashMap<u64, u32> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, i as u32))
        .collect();
    let codes: Vec<u32> = combined.par_iter().map(|k| index[k]).collect();
    let labels = keys
        .iter()
        .map(|&k| {
            parts
                .iter()
                .zip(&stride)
                .zip(&radix)
                .map(|((p, s), r)| {
                    let c = ((k / s) % r) as usize;
                    p.levels.get(c).cloned().unwrap_or(Label::Missing)
                })
                .collect()
        })
        .collect();
    Ok(Grouping {
        codes: Codes::Dense(codes),
        labels,
        n_rows,
        categorical,
    })
}

/// A group code as the fold kernels read it: categorical codes (negative for missing) or group numbers.
trait GroupCode: Copy + Send + Sync {
    /// The group, with negative codes sent to `g - 1` and codes at or above `g` clamped to `g - 1`
    /// (checked before folding: only the missing slot can be reached that way).
    fn group(self, g: usize) -> usize;
    /// [`GroupCode::group`] in 32-bit lanes (`g` is below 2^32: it counts groups of rows).
    fn group32(self, g: u32) -> u32;
}

macro_rules! signed_code {
    ($($t:ty),*) => {$(
        impl GroupCode for $t {
            #[inline(always)]
            fn group(self, g: usize) -> usize {
                if self < 0 { g - 1 } else { (self as usize).min(g - 1) }
            }
            #[inline(always)]
            fn group32(self, g: u32) -> u32 {
                if self < 0 { g - 1 } else { (self as u64).min(u64::from(g - 1)) as u32 }
            }
        }
    )*};
}
signed_code!(i8, i16, i32, i64);

impl GroupCode for u32 {
    #[inline(always)]
    fn group(self, g: usize) -> usize {
        (self as usize).min(g - 1)
    }
    #[inline(always)]
    fn group32(self, g: u32) -> u32 {
        self.min(g - 1)
    }
}

/// Per-group counts of one chunk (or of all rows): `g * k` slots, then omitted rows per group.
struct Counts {
    k: usize,
    rows: Vec<u64>,
    weight: Option<(Vec<f64>, Vec<f64>)>,
    omitted: Vec<u64>,
}

impl Counts {
    fn new(g: usize, k: usize, weighted: bool) -> Self {
        Self {
            k,
            rows: vec![0; g * k],
            weight: weighted.then(|| (vec![0.0; g * k], vec![0.0; g * k])),
            omitted: vec![0; g],
        }
    }

    fn add(&mut self, other: &Self) {
        self.rows
            .iter_mut()
            .zip(&other.rows)
            .for_each(|(a, b)| *a += b);
        self.omitted
            .iter_mut()
            .zip(&other.omitted)
            .for_each(|(a, b)| *a += b);
        if let (Some((w, w2)), Some((ow, ow2))) = (&mut self.weight, &other.weight) {
            w.iter_mut().zip(ow).for_each(|(a, b)| *a += b);
            w2.iter_mut().zip(ow2).for_each(|(a, b)| *a += b);
        }
    }

    /// One tally per group; the sums of weights are the true sums times `2^-exponent`.
    fn into_tallies(self, scale: Scale, groups: usize, exponent: i32) -> Result<Vec<ScaleTally>> {
        let k = self.k;
        (0..groups)
            .map(|g| {
                let rows = self.rows[g * k..(g + 1) * k].to_vec();
                let (w, w2) = match &self.weight {
                    Some((w, w2)) => (
                        w[g * k..(g + 1) * k].to_vec(),
                        w2[g * k..(g + 1) * k].to_vec(),
                    ),
                    None => {
                        let w: Vec<f64> = rows.iter().map(|&r| r as f64).collect();
                        (w.clone(), w)
                    }
                };
                ScaleTally::from_scaled_parts(scale, rows, w, w2, self.omitted[g], exponent)
            })
            .collect()
    }
}

/// Rows per block of the fold kernel: a block's values, codes, weights and slot indices stay in the L1
/// cache.
const BLOCK: usize = 1024;

/// The slot of a row in the per-group counts (`group * k + point`), or `g * k` when its value is not a
/// scale point (missing, off the scale, a fraction): branch-free, so that a block of them vectorises.
///
/// Integers of at most 16 bits are mapped in 32-bit lanes (their values cannot wrap there).
#[inline(always)]
fn slot_of<T: RawValue, C: GroupCode>(v: T, c: C, min: i64, k: usize, g: usize) -> u32 {
    if T::INTEGER && std::mem::size_of::<T>() <= 2 {
        let x = (v.as_i64().unwrap_or(i64::MAX) as i32).wrapping_sub(min as i32) as u32;
        let grp = c.group32(g as u32);
        return if x < k as u32 {
            grp * k as u32 + x
        } else {
            (g * k) as u32
        };
    }
    match point_slot(v, min, k) {
        Some(s) => (c.group(g) * k + s) as u32,
        None => (g * k) as u32,
    }
}

/// Count one chunk of rows (starting at row `offset`) into per-group counts, block by block.
///
/// Each block is first mapped to slots (and its weights checked), loops that vectorise; a block whose
/// rows are all valid is then counted in one tight loop (unweighted: `u32` counts in four interleaved
/// histograms, so that neighbouring rows on the same slot do not wait on each other; weighted: in row
/// order, as [`ScaleTally::fold`] adds a group's rows). Any other block is taken row by row, with the
/// checks of [`ScaleTally::push`] (the weight first, then the value).
#[inline(always)]
fn count<T: RawValue, C: GroupCode>(
    values: &[T],
    weights: Option<&[f64]>,
    codes: &[C],
    offset: usize,
    scale: &Scale,
    g: usize,
    policy: NanPolicy,
) -> Result<Counts> {
    let k = scale.points();
    let gk = g * k;
    let min = i64::from(scale.min());
    let mut out = Counts::new(g, k, weights.is_some());
    let omit = policy == NanPolicy::Omit;
    let good = |w: f64| (0.0..=f64::MAX).contains(&w);
    let mut slots = vec![0u32; BLOCK];
    let mut h = vec![0u32; 4 * gk];
    for (b, (vb, cb)) in values.chunks(BLOCK).zip(codes.chunks(BLOCK)).enumerate() {
        let base = offset + b * BLOCK;
        let slots = &mut slots[..vb.len()];
        for ((s, &v), &c) in slots.iter_mut().zip(vb).zip(cb) {
            *s = slot_of(v, c, min, k, g);
        }
        let wb = weights.map(|w| &w[b * BLOCK..b * BLOCK + vb.len()]);
        let valid = slots.iter().fold(true, |a, &s| a & ((s as usize) < gk))
            & wb.is_none_or(|w| w.iter().fold(true, |a, &x| a & good(x)));
        if valid {
            match (wb, &mut out.weight) {
                (Some(w), Some((w1, w2))) => {
                    for (&s, &x) in slots.iter().zip(w) {
                        let i = s as usize;
                        out.rows[i] += 1;
                        w1[i] += x;
                        w2[i] += x * x;
                    }
                }
                _ => {
                    let (h01, h23) = h.split_at_mut(2 * gk);
                    let (h0, h1) = h01.split_at_mut(gk);
                    let (h2, h3) = h23.split_at_mut(gk);
                    let quads = slots.chunks_exact(4);
                    let tail = quads.remainder();
                    for q in quads {
                        h0[q[0] as usize] += 1;
                        h1[q[1] as usize] += 1;
                        h2[q[2] as usize] += 1;
                        h3[q[3] as usize] += 1;
                    }
                    for &s in tail {
                        h0[s as usize] += 1;
                    }
                }
            }
            continue;
        }
        for (j, (&v, &c)) in vb.iter().zip(cb).enumerate() {
            let x = wb.map_or(1.0, |w| w[j]);
            if !good(x) {
                return Err(Error::InvalidWeight {
                    index: base + j,
                    weight: x,
                });
            }
            let grp = c.group(g);
            match point_slot(v, min, k) {
                Some(s) => {
                    let i = grp * k + s;
                    out.rows[i] += 1;
                    if let Some((w1, w2)) = &mut out.weight {
                        w1[i] += x;
                        w2[i] += x * x;
                    }
                }
                None if omit && v.is_missing() => out.omitted[grp] += 1,
                None => return Err(value_error(v, base + j, scale, policy)),
            }
        }
    }
    if weights.is_none() {
        for (i, r) in out.rows.iter_mut().enumerate() {
            *r += u64::from(h[i])
                + u64::from(h[gk + i])
                + u64::from(h[2 * gk + i])
                + u64::from(h[3 * gk + i]);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scale::Direction;
    use proptest::prelude::*;

    fn labels_of(g: &Grouping<'_>) -> Vec<Label> {
        g.labels().iter().map(|l| l[0].clone()).collect()
    }

    /// Each group's tally, folded from its rows alone by `ScaleTally::fold`.
    fn separately<T: RawValue>(
        g: &Grouping<'_>,
        scale: Scale,
        values: &[T],
        weights: Option<&[f64]>,
    ) -> Vec<ScaleTally> {
        let codes = g.codes();
        (0..g.n_groups())
            .map(|grp| {
                let rows: Vec<usize> = (0..values.len())
                    .filter(|&i| codes[i] as usize == grp)
                    .collect();
                let v: Vec<T> = rows.iter().map(|&i| values[i]).collect();
                let w: Option<Vec<f64>> = weights.map(|w| rows.iter().map(|&i| w[i]).collect());
                let mut t = ScaleTally::new(scale);
                t.fold(&v, w.as_deref(), NanPolicy::Omit).unwrap();
                t
            })
            .collect()
    }

    #[test]
    fn numbers_sort_numerically_and_missing_is_last() {
        let ints = [10i64, 2, -1, 2, 10];
        let g = Grouping::new(vec![KeyColumn::from(&ints[..])], 5).unwrap();
        assert_eq!(
            labels_of(&g),
            [Label::Int(-1), Label::Int(2), Label::Int(10)]
        );
        assert_eq!(g.codes(), [2, 1, 0, 1, 2]);
        let floats = [f64::NAN, 2.5, -0.0, 0.0, 10.0, f64::NAN];
        let g = Grouping::new(vec![KeyColumn::from(&floats[..])], 6).unwrap();
        assert_eq!(
            labels_of(&g),
            [
                Label::Float(0.0),
                Label::Float(2.5),
                Label::Float(10.0),
                Label::Missing
            ]
        );
        assert_eq!(g.sizes(), [2, 1, 1, 2]);
        let masked = [3u16, 1, 3];
        let g = Grouping::new(
            vec![KeyColumn::Int(
                IntSlice::U16(&masked),
                Some(&[false, false, true]),
            )],
            3,
        )
        .unwrap();
        assert_eq!(
            labels_of(&g),
            [Label::Int(1), Label::Int(3), Label::Missing]
        );
    }

    #[test]
    fn booleans_dates_and_text_follow_the_rules() {
        let b = [true, false, true];
        let g = Grouping::new(vec![KeyColumn::Bool(&b, None)], 3).unwrap();
        assert_eq!(labels_of(&g), [Label::Bool(false), Label::Bool(true)]);
        let days = [20_000i64, i64::MIN, 19_000];
        let g = Grouping::new(vec![KeyColumn::Datetime(&days, None)], 3).unwrap();
        assert_eq!(
            labels_of(&g),
            [Label::Date(19_000), Label::Date(20_000), Label::Missing]
        );
        assert_eq!(Label::Date(20_454).to_string(), "2026-01-01");
        let ns = Label::Datetime {
            value: 1_767_225_600_500_000_000,
            unit: TimeUnit::Ns,
        };
        assert_eq!(ns.to_string(), "2026-01-01T00:00:00.500000000");
        // "web", null, "B", "app", "web" in Arrow layout: code-point order puts "B" first.
        let data = b"webBappweb";
        let offsets = [0i32, 3, 3, 4, 7, 10];
        let validity = [0b1_1101u8];
        let t = TextSlice {
            layout: TextLayout::Offsets32 {
                offsets: &offsets,
                data,
            },
            validity: Some(&validity),
            bit_offset: 0,
        };
        let g = Grouping::new(vec![KeyColumn::Text(t)], 5).unwrap();
        let text = |s: &str| Label::Text(s.to_owned());
        assert_eq!(
            labels_of(&g),
            [text("B"), text("app"), text("web"), Label::Missing]
        );
        assert_eq!(g.codes(), [2, 3, 0, 1, 2]);
        // The same as string views: short texts inline, a long one in a data buffer.
        let long = "a segment named at length";
        let view = |text: &str, buffer: u32, offset: u32| -> [u8; 16] {
            let mut v = [0u8; 16];
            v[..4].copy_from_slice(&(text.len() as u32).to_le_bytes());
            if text.len() <= 12 {
                v[4..4 + text.len()].copy_from_slice(text.as_bytes());
            } else {
                v[4..8].copy_from_slice(&text.as_bytes()[..4]);
                v[8..12].copy_from_slice(&buffer.to_le_bytes());
                v[12..].copy_from_slice(&offset.to_le_bytes());
            }
            v
        };
        let data = format!("xx{long}");
        let views: Vec<u8> = [view("web", 0, 0), view(long, 1, 2), view("B", 0, 0)].concat();
        let buffers: [&[u8]; 2] = [b"", data.as_bytes()];
        let t = TextSlice {
            layout: TextLayout::Views {
                views: &views,
                buffers: &buffers,
            },
            validity: None,
            bit_offset: 0,
        };
        let g = Grouping::new(vec![KeyColumn::Text(t)], 3).unwrap();
        assert_eq!(labels_of(&g), [text("B"), text(long), text("web")]);
        // Mixed typed labels: booleans, numbers, text, missing.
        let mixed = vec![
            text("x"),
            Label::Float(1.5),
            Label::Int(1),
            Label::Missing,
            Label::Bool(true),
            Label::Int(2),
        ];
        let g = Grouping::new(vec![KeyColumn::Labels(mixed)], 6).unwrap();
        assert_eq!(
            labels_of(&g),
            [
                Label::Bool(true),
                Label::Int(1),
                Label::Float(1.5),
                Label::Int(2),
                text("x"),
                Label::Missing
            ]
        );
    }

    #[test]
    fn categorical_order_unused_levels_and_missing_code() {
        let levels = vec![
            Label::Text("low".into()),
            Label::Text("mid".into()),
            Label::Text("high".into()),
        ];
        let codes = [2i8, -1, 0, 2];
        let col = KeyColumn::Categorical {
            codes: CodeSlice::I8(&codes),
            levels: levels.clone(),
            ordered: true,
        };
        let g = Grouping::new(vec![col], 4).unwrap();
        assert_eq!(
            labels_of(&g),
            [
                levels[0].clone(),
                levels[1].clone(),
                levels[2].clone(),
                Label::Missing
            ]
        );
        let t = g
            .fold_scale(Scale::NPS, &[10u8, 9, 0, 7], None, NanPolicy::Omit)
            .unwrap();
        assert_eq!(
            t.iter().map(ScaleTally::n).collect::<Vec<_>>(),
            [1, 0, 2, 1]
        );
        // A dictionary (not ordered) is sorted, and only used entries are kept.
        let col = KeyColumn::Categorical {
            codes: CodeSlice::I32(&[2, 0, 2]),
            levels: levels.clone(),
            ordered: false,
        };
        let g = Grouping::new(vec![col], 3).unwrap();
        assert_eq!(labels_of(&g), [levels[2].clone(), levels[0].clone()]);
        // A code without a level names its row.
        let col = KeyColumn::Categorical {
            codes: CodeSlice::I16(&[0, 1, 3, 7]),
            levels,
            ordered: true,
        };
        let e = Grouping::new(vec![col], 4).unwrap_err();
        assert!(e.to_string().contains("code 3 at row 2"), "{e}");
    }

    #[test]
    fn several_columns_combine_in_order() {
        let wave = [2i64, 1, 1, 2, 1];
        let seg = vec![
            Label::Text("web".into()),
            Label::Text("app".into()),
            Label::Missing,
            Label::Text("app".into()),
            Label::Text("app".into()),
        ];
        let g = Grouping::new(vec![KeyColumn::from(&wave[..]), KeyColumn::Labels(seg)], 5).unwrap();
        let app = Label::Text("app".into());
        let web = Label::Text("web".into());
        assert_eq!(
            g.labels(),
            [
                vec![Label::Int(1), app.clone()],
                vec![Label::Int(1), Label::Missing],
                vec![Label::Int(2), app],
                vec![Label::Int(2), web],
            ]
        );
        assert_eq!(g.codes(), [3, 0, 1, 2, 0]);
        // Two categoricals: every combination of their levels, used or not.
        let a = KeyColumn::Categorical {
            codes: CodeSlice::I8(&[0, 1]),
            levels: vec![Label::Int(1), Label::Int(2)],
            ordered: true,
        };
        let b = KeyColumn::Categorical {
            codes: CodeSlice::I8(&[1, -1]),
            levels: vec![Label::Bool(false), Label::Bool(true)],
            ordered: true,
        };
        let g = Grouping::new(vec![a, b], 2).unwrap();
        assert_eq!(g.n_groups(), 5);
        assert_eq!(g.sizes(), [0, 1, 0, 0, 1]);
        assert_eq!(g.labels()[4], [Label::Int(2), Label::Missing]);
    }

    #[test]
    fn empty_input_and_length_errors() {
        let g = Grouping::new(vec![KeyColumn::from(&[][..] as &[i64])], 0).unwrap();
        assert_eq!(g.n_groups(), 0);
        assert!(g
            .fold_scale::<u8>(Scale::NPS, &[], None, NanPolicy::Omit)
            .unwrap()
            .is_empty());
        assert!(matches!(
            Grouping::new(vec![KeyColumn::from(&[1i64][..])], 2),
            Err(Error::LengthMismatch { .. })
        ));
        let g = Grouping::new(vec![KeyColumn::from(&[1i64, 2][..])], 2).unwrap();
        assert!(matches!(
            g.fold_scale(Scale::NPS, &[1u8], None, NanPolicy::Omit),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(matches!(
            g.fold_scale(Scale::NPS, &[1u8, 2], Some(&[1.0]), NanPolicy::Omit),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(Grouping::new(vec![], 0).is_err());
    }

    #[test]
    fn errors_name_the_row_in_the_input_as_fold_does() {
        let n = 200_003;
        let labels: Vec<i64> = (0..n as i64).map(|i| i % 7).collect();
        let g = Grouping::new(vec![KeyColumn::from(&labels[..])], n).unwrap();
        let mut v: Vec<f64> = (0..n).map(|i| (i % 11) as f64).collect();
        v[150_001] = 11.0;
        v[170_000] = 2.5;
        let whole = ScaleTally::new(Scale::NPS).fold(&v, None, NanPolicy::Omit);
        assert_eq!(
            g.fold_scale(Scale::NPS, &v, None, NanPolicy::Omit),
            Err(whole.unwrap_err())
        );
        v[150_001] = 1.0;
        v[170_000] = 1.0;
        v[123_457] = f64::NAN;
        assert_eq!(
            g.fold_scale(Scale::NPS, &v, None, NanPolicy::Raise),
            Err(Error::Missing { index: 123_457 })
        );
        let mut w = vec![1.0; n];
        w[99_999] = -2.0;
        assert!(matches!(
            g.fold_scale(Scale::NPS, &v, Some(&w), NanPolicy::Omit),
            Err(Error::InvalidWeight { index: 99_999, .. })
        ));
        w[99_999] = 1.0;
        v[5] = 12.0;
        assert_eq!(
            g.fold_scale(Scale::NPS, &v, Some(&w), NanPolicy::Omit),
            Err(Scale::NPS.out_of_range(5, 12.0))
        );
    }

    #[test]
    fn large_categorical_fold_equals_each_group_alone() {
        let n = 300_001;
        let codes: Vec<i8> = (0..n).map(|i| ((i * 7 + i / 5) % 21) as i8 - 1).collect();
        let levels: Vec<Label> = (0..20).map(|i| Label::Text(format!("s{i:02}"))).collect();
        let g = Grouping::new(
            vec![KeyColumn::Categorical {
                codes: CodeSlice::I8(&codes),
                levels,
                ordered: true,
            }],
            n,
        )
        .unwrap();
        assert_eq!(g.n_groups(), 21);
        let v: Vec<i16> = (0..n).map(|i| ((i * 13 + i / 3) % 11) as i16).collect();
        let w: Vec<f64> = (0..n).map(|i| 0.25 * (i % 5) as f64).collect();
        for weights in [None, Some(&w[..])] {
            let grouped = g
                .fold_scale(Scale::NPS, &v, weights, NanPolicy::Omit)
                .unwrap();
            assert_eq!(grouped, separately(&g, Scale::NPS, &v, weights));
        }
    }

    proptest! {
        /// Grouped folding equals folding each group's rows alone, and equals any split of the rows
        /// folded apart and merged.
        #[test]
        fn grouped_fold_equals_each_group_and_any_split(
            rows in proptest::collection::vec((0i64..6, proptest::option::of(1i32..=7), 0u8..8), 0..400),
            split in 0usize..400,
        ) {
            let scale = Scale::new(1, 7, Direction::HigherIsBetter).unwrap();
            let labels: Vec<f64> = rows.iter().map(|r| if r.0 == 5 { f64::NAN } else { r.0 as f64 }).collect();
            let values: Vec<Option<i32>> = rows.iter().map(|r| r.1).collect();
            // Dyadic weights: sums are exact whatever the order.
            let w: Vec<f64> = rows.iter().map(|r| f64::from(r.2) * 0.5).collect();
            let g = Grouping::new(vec![KeyColumn::from(&labels[..])], labels.len()).unwrap();
            for weights in [None, Some(&w[..])] {
                let grouped = g.fold_scale(scale, &values, weights, NanPolicy::Omit).unwrap();
                prop_assert_eq!(&grouped, &separately(&g, scale, &values, weights));
                let by_row = g
                    .fold_rows(&ScaleTally::new(scale), |t, i| {
                        t.push(values[i], weights.map_or(1.0, |w| w[i]), NanPolicy::Omit)
                    })
                    .unwrap();
                prop_assert_eq!(&grouped, &by_row);
                let s = split.min(values.len());
                let codes = g.codes();
                for (grp, t) in grouped.iter().enumerate() {
                    let mut merged = ScaleTally::new(scale);
                    for part in [0..s, s..values.len()] {
                        let rows: Vec<usize> = part.filter(|&i| codes[i] as usize == grp).collect();
                        let v: Vec<Option<i32>> = rows.iter().map(|&i| values[i]).collect();
                        let pw: Option<Vec<f64>> = weights.map(|w| rows.iter().map(|&i| w[i]).collect());
                        let mut p = ScaleTally::new(scale);
                        p.fold(&v, pw.as_deref(), NanPolicy::Omit).unwrap();
                        merged.merge(&p).unwrap();
                    }
                    prop_assert_eq!(t, &merged);
                }
            }
        }
    }
}
