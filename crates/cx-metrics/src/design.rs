//! The prepared design of a regression: named numeric columns of their own width, validated once,
//! read in blocks.
//!
//! A [`Design`] holds the outcome and the driver columns as the caller has them — slices of `f64`,
//! `f32`, `i8` … `u64` or `bool` ([`Numbers`]), each with an optional mask of missing values — and
//! the survey weights as a checked [`Weights`]. It is validated once, when built: at least one
//! driver, names unique and not the outcome's, every column (and mask) of the same length, weights
//! finite and `≥ 0`. Values are checked while the fit reads them: an infinity is an error naming its
//! column and row; a NaN (or a masked value) is a missing value, handled by the missing-data policy.
//!
//! The fit never copies the columns into `f64`. It reads them in blocks of at most 2,048 rows:
//! each block's rows are converted to `f64` in a small scratch buffer, by a loop compiled for each
//! width (and for the CPU's vector instructions), and folded while they are in cache; an `f64`
//! column is read in place. Rows left out — a missing value under listwise deletion, a weight of
//! zero — are skipped as the block is read, and counted; nothing else is stored about them.
//! Integers are converted exactly up to 2^53, `f32` exactly, `bool` as 0 and 1: the results are
//! those of the same data given as `f64`.
//!
//! ```
//! use cx_metrics::design::{Column, Design};
//! let ltr: [i16; 6] = [9, 7, 10, 4, 8, 6];
//! let ease: [u8; 6] = [6, 5, 7, 2, 5, 4];
//! let fast = [true, false, true, false, true, true];
//! let gone = [false, false, false, true, false, false];
//! let design = Design::new(
//!     Column::new("ltr", &ltr[..]),
//!     vec![Column::new("ease", &ease[..]), Column::new("fast", &fast[..]).with_missing(&gone)],
//!     None,
//! )
//! .unwrap();
//! assert_eq!((design.n_rows(), design.n_drivers()), (6, 2));
//! assert!(Design::new(Column::new("ltr", &ltr[..]), vec![Column::new("ltr", &ease[..])], None).is_err());
//! ```

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::moments::{non_finite, overflow};
use crate::weights::Weights;

/// Rows per block: small enough that a block of every column, converted, stays in cache.
pub(crate) const BLOCK: usize = 2048;

/// A column of numbers in its own width, borrowed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Numbers<'a> {
    /// `f64` values (NaN is a missing value).
    F64(&'a [f64]),
    /// `f32` values (NaN is a missing value).
    F32(&'a [f32]),
    /// `i8` values.
    I8(&'a [i8]),
    /// `i16` values.
    I16(&'a [i16]),
    /// `i32` values.
    I32(&'a [i32]),
    /// `i64` values (exact up to 2^53 in magnitude, rounded to the nearest `f64` above).
    I64(&'a [i64]),
    /// `u8` values.
    U8(&'a [u8]),
    /// `u16` values.
    U16(&'a [u16]),
    /// `u32` values.
    U32(&'a [u32]),
    /// `u64` values (exact up to 2^53, rounded to the nearest `f64` above).
    U64(&'a [u64]),
    /// `bool` values, read as 0 and 1.
    Bool(&'a [bool]),
}

/// A number of one width as `f64`.
trait ToF64: Copy {
    fn to_f64(self) -> f64;
}

macro_rules! to_f64 {
    ($($t:ty => $v:ident),*) => {$(
        impl ToF64 for $t {
            #[inline(always)]
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
        impl<'a> From<&'a [$t]> for Numbers<'a> {
            fn from(s: &'a [$t]) -> Self {
                Numbers::$v(s)
            }
        }
    )*};
}
to_f64!(f64 => F64, f32 => F32, i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8,
    u16 => U16, u32 => U32, u64 => U64);

impl ToF64 for bool {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
}

impl<'a> From<&'a [bool]> for Numbers<'a> {
    fn from(s: &'a [bool]) -> Self {
        Numbers::Bool(s)
    }
}

/// Run `$body` with `$s` bound to the typed slice of `$numbers`.
macro_rules! with_slice {
    ($numbers:expr, $s:ident => $body:expr) => {
        match $numbers {
            Numbers::F64($s) => $body,
            Numbers::F32($s) => $body,
            Numbers::I8($s) => $body,
            Numbers::I16($s) => $body,
            Numbers::I32($s) => $body,
            Numbers::I64($s) => $body,
            Numbers::U8($s) => $body,
            Numbers::U16($s) => $body,
            Numbers::U32($s) => $body,
            Numbers::U64($s) => $body,
            Numbers::Bool($s) => $body,
        }
    };
}

/// `out[t] = values[t]` as f64: one loop per width, which the compiler vectorises.
#[inline(always)]
fn convert<T: ToF64>(values: &[T], out: &mut [f64]) {
    for (o, v) in out.iter_mut().zip(values) {
        *o = v.to_f64();
    }
}

/// `out[t] = values[rows[t]]` as f64.
#[inline(always)]
fn gather<T: ToF64>(values: &[T], rows: &[u16], out: &mut [f64]) {
    for (o, &i) in out.iter_mut().zip(rows) {
        *o = values[usize::from(i)].to_f64();
    }
}

impl<'a> Numbers<'a> {
    /// Number of values.
    pub fn len(&self) -> usize {
        with_slice!(*self, s => s.len())
    }
    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The numpy name of the width (`"int16"`, `"float64"`, `"bool"`, …).
    pub fn dtype(&self) -> &'static str {
        match self {
            Self::F64(_) => "float64",
            Self::F32(_) => "float32",
            Self::I8(_) => "int8",
            Self::I16(_) => "int16",
            Self::I32(_) => "int32",
            Self::I64(_) => "int64",
            Self::U8(_) => "uint8",
            Self::U16(_) => "uint16",
            Self::U32(_) => "uint32",
            Self::U64(_) => "uint64",
            Self::Bool(_) => "bool",
        }
    }
    /// Whether the values are floats (which can be NaN or infinite).
    pub fn is_float(&self) -> bool {
        matches!(self, Self::F64(_) | Self::F32(_))
    }
    /// Value `i` as `f64`.
    pub fn get(&self, i: usize) -> f64 {
        with_slice!(*self, s => s[i].to_f64())
    }
    /// The values as `f64` (a copy).
    pub fn to_vec(&self) -> Vec<f64> {
        with_slice!(*self, s => s.iter().map(|v| v.to_f64()).collect())
    }
    /// Whether value `i` is not finite (only floats can be).
    #[inline]
    fn non_finite_at(&self, i: usize) -> bool {
        match self {
            Self::F64(s) => !s[i].is_finite(),
            Self::F32(s) => !s[i].is_finite(),
            _ => false,
        }
    }
    /// The `f64` values of rows `start..end`, borrowed when they are `f64` and `rows` is `None`
    /// (every row of the range), else written to `out`.
    #[inline(always)]
    fn read<'s>(
        &self,
        start: usize,
        end: usize,
        rows: Option<&[u16]>,
        out: &'s mut [f64],
    ) -> &'s [f64]
    where
        'a: 's,
    {
        match (rows, *self) {
            (None, Self::F64(s)) => &s[start..end],
            (None, numbers) => {
                let out = &mut out[..end - start];
                with_slice!(numbers, s => convert(&s[start..end], out));
                out
            }
            (Some(rows), numbers) => {
                let out = &mut out[..rows.len()];
                with_slice!(numbers, s => gather(&s[start..end], rows, out));
                out
            }
        }
    }
}

/// One named column of a [`Design`]: its numbers and, optionally, a mask of missing values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column<'a> {
    name: &'a str,
    values: Numbers<'a>,
    missing: Option<&'a [bool]>,
}

impl<'a> Column<'a> {
    /// Column `name` of `values` (any [`Numbers`] width).
    pub fn new(name: &'a str, values: impl Into<Numbers<'a>>) -> Self {
        Self {
            name,
            values: values.into(),
            missing: None,
        }
    }
    /// The same column with `missing[i]` marking value `i` as missing (one flag per value).
    pub fn with_missing(mut self, missing: &'a [bool]) -> Self {
        self.missing = Some(missing);
        self
    }
    /// The column's name.
    pub fn name(&self) -> &'a str {
        self.name
    }
    /// The column's numbers.
    pub fn values(&self) -> Numbers<'a> {
        self.values
    }
    /// The mask of missing values, if any.
    pub fn missing(&self) -> Option<&'a [bool]> {
        self.missing
    }
    /// Whether value `i` is missing: masked, or NaN.
    pub fn is_missing(&self, i: usize) -> bool {
        self.missing.is_some_and(|m| m[i]) || self.values.get(i).is_nan()
    }
    /// The column as `f64`, NaN for a missing value (a copy, for the computations that need one).
    pub fn to_f64(&self) -> Vec<f64> {
        let mut v = self.values.to_vec();
        if let Some(m) = self.missing {
            for (v, &gone) in v.iter_mut().zip(m) {
                if gone {
                    *v = f64::NAN;
                }
            }
        }
        v
    }
}

/// The outcome, the drivers and the weights of a regression, validated once (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Design<'a> {
    outcome: Column<'a>,
    drivers: Vec<Column<'a>>,
    weights: Option<Weights<'a>>,
    n: usize,
    /// Whether a mask marks a value as missing.
    masked: bool,
}

impl<'a> Design<'a> {
    /// Check and keep the columns: at least one driver; names unique and not the outcome's; every
    /// column and mask of the outcome's length; weights (one per row) finite and `≥ 0`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] without drivers; [`Error::BadColumn`] naming a duplicate name or a
    /// column (or mask) of another length; [`Error::LengthMismatch`] for weights of another length;
    /// [`Error::InvalidWeight`] naming the first bad weight.
    pub fn new(
        outcome: Column<'a>,
        drivers: Vec<Column<'a>>,
        weights: Option<&'a [f64]>,
    ) -> Result<Self> {
        if drivers.is_empty() {
            return Err(Error::invalid("drivers", "at least one driver is needed"));
        }
        let n = outcome.values.len();
        for (i, c) in drivers.iter().enumerate() {
            if c.name == outcome.name || drivers[..i].iter().any(|a| a.name == c.name) {
                return Err(Error::BadColumn {
                    column: c.name.to_owned(),
                    message: "is given twice (as a driver or as the outcome); names must be unique"
                        .into(),
                });
            }
            if c.values.len() != n {
                return Err(Error::BadColumn {
                    column: c.name.to_owned(),
                    message: format!(
                        "has {} values but the outcome {:?} has {n}; columns must have the same \
                         length",
                        c.values.len(),
                        outcome.name
                    ),
                });
            }
        }
        for c in std::iter::once(&outcome).chain(&drivers) {
            if let Some(m) = c.missing.filter(|m| m.len() != n) {
                return Err(Error::BadColumn {
                    column: c.name.to_owned(),
                    message: format!(
                        "has {n} values but a mask of {} flags; give one flag per value",
                        m.len()
                    ),
                });
            }
        }
        let weights = weights
            .map(|w| {
                Weights::for_rows(w, n, |len| Error::LengthMismatch {
                    what: "outcome and weights",
                    left: n,
                    right: len,
                })
            })
            .transpose()?;
        let masked = std::iter::once(&outcome)
            .chain(&drivers)
            .any(|c| c.missing.is_some_and(|m| m.contains(&true)));
        Ok(Self {
            outcome,
            drivers,
            weights,
            n,
            masked,
        })
    }

    /// A design of `f64` columns (NaN a missing value), as the `&[f64]` entry points take them.
    ///
    /// # Errors
    /// As [`Design::new`].
    pub fn from_f64(
        outcome: &'a str,
        y: &'a [f64],
        drivers: &[(&'a str, &'a [f64])],
        weights: Option<&'a [f64]>,
    ) -> Result<Self> {
        Self::new(
            Column::new(outcome, y),
            drivers.iter().map(|&(n, c)| Column::new(n, c)).collect(),
            weights,
        )
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n
    }
    /// Number of drivers.
    pub fn n_drivers(&self) -> usize {
        self.drivers.len()
    }
    /// The outcome column.
    pub fn outcome(&self) -> &Column<'a> {
        &self.outcome
    }
    /// The driver columns.
    pub fn drivers(&self) -> &[Column<'a>] {
        &self.drivers
    }
    /// The checked weights, if weighted.
    pub fn weights(&self) -> Option<&Weights<'a>> {
        self.weights.as_ref()
    }
    /// The drivers' names.
    pub fn driver_names(&self) -> Vec<&'a str> {
        self.drivers.iter().map(|c| c.name).collect()
    }
    /// Whether a mask marks some value as missing.
    pub fn has_masked_values(&self) -> bool {
        self.masked
    }

    /// The outcome, then the drivers.
    fn all(&self) -> impl Iterator<Item = &Column<'a>> {
        std::iter::once(&self.outcome).chain(&self.drivers)
    }

    /// The outcome and the drivers as `f64` columns, NaN for a missing value: the copy that the
    /// pairwise and indicator policies, and the methods derived from a fit, work from (made only
    /// when they run).
    pub fn to_f64(&self) -> (Vec<f64>, Vec<Vec<f64>>) {
        (
            self.outcome.to_f64(),
            self.drivers.iter().map(Column::to_f64).collect(),
        )
    }

    /// Check the values: no infinity (a NaN or a masked value is missing, for the policy to handle).
    /// Returns whether no value is missing.
    ///
    /// # Errors
    /// [`Error::BadColumn`] naming the column and the row of the first infinite value.
    pub(crate) fn check_values(&self) -> Result<bool> {
        let mut complete = !self.masked;
        for c in self.all() {
            let infinite = match c.values {
                Numbers::F64(s) => scan(s, |v| v.is_finite(), |v| v.is_infinite()),
                Numbers::F32(s) => scan(s, |v| v.is_finite(), |v| v.is_infinite()),
                _ => Scan::Clean,
            };
            match infinite {
                Scan::Clean => {}
                Scan::Other => complete = false,
                Scan::Found(i) => {
                    return Err(Error::BadColumn {
                        column: c.name.to_owned(),
                        message: format!(
                            "value {} at row {i} is infinite; remove or replace it (NaN marks a \
                             missing value)",
                            c.values.get(i)
                        ),
                    })
                }
            }
        }
        Ok(complete)
    }

    /// The error for the first missing value (masked or NaN), by row, then outcome before drivers:
    /// the error of `missing="raise"`. `None` when no value is missing.
    pub(crate) fn first_missing(&self) -> Option<Error> {
        (0..self.n).find_map(|i| {
            self.all()
                .find(|c| c.is_missing(i))
                .map(|c| Error::BadColumn {
                    column: c.name.to_owned(),
                    message: format!(
                    "value at row {i} is missing (NaN) and missing is \"raise\"; drop or impute \
                     missing values first, or use missing=\"listwise\""
                ),
                })
        })
    }

    /// The error for the first value that is not finite, outcome first, then the drivers; when every
    /// value is finite, the error for sums that overflowed. For a fit that found a non-finite sum
    /// where no value may be missing.
    #[cold]
    pub(crate) fn non_finite_error(&self) -> Error {
        for c in self.all() {
            if let Some(i) = (0..self.n).find(|&i| c.values.non_finite_at(i)) {
                return non_finite(c.name, i, c.values.get(i));
            }
            if let Some(i) = c.missing.and_then(|m| m.iter().position(|&g| g)) {
                return non_finite(c.name, i, f64::NAN);
            }
        }
        overflow(&self.all().map(|c| c.name).collect::<Vec<_>>())
    }

    /// The rows a fit reads: the drivers then the outcome, `weights` (the design's, possibly
    /// rescaled), without the rows that have a missing value when `skip_missing` (else the values
    /// are all assumed present and finite, and a fold finds out), and without the rows of weight
    /// zero.
    pub(crate) fn rows<'d>(
        &'d self,
        weights: Option<&'d [f64]>,
        skip_missing: bool,
    ) -> DesignRows<'d> {
        let columns: Vec<Column<'d>> = self
            .drivers
            .iter()
            .chain([&self.outcome])
            .copied()
            .collect();
        let zero_weight = self.weights.is_some_and(|w| w.n_positive() < w.len());
        DesignRows {
            columns,
            weights,
            skip_missing: skip_missing && self.has_missing_candidates(),
            masked: skip_missing && self.masked,
            skip_zero_weight: zero_weight,
            n: self.n,
        }
    }

    /// Whether some value may be missing (a mask, or a float column).
    fn has_missing_candidates(&self) -> bool {
        self.all()
            .any(|c| c.missing.is_some() || c.values.is_float())
    }
}

enum Scan {
    Clean,
    /// Some value failed `ok`, none was `found`.
    Other,
    Found(usize),
}

/// One branch-free pass for `ok`; only when it fails, the search for `found`.
fn scan<T: Copy>(s: &[T], ok: impl Fn(T) -> bool, found: impl Fn(T) -> bool) -> Scan {
    if s.iter().fold(true, |a, &v| a & ok(v)) {
        return Scan::Clean;
    }
    s.iter()
        .position(|&v| found(v))
        .map_or(Scan::Other, Scan::Found)
}

/// Scratch space of one reader of blocks: the converted columns, the kept rows' weights, and which
/// rows are kept.
pub(crate) struct BlockBuffer {
    x: Vec<f64>,
    w: Vec<f64>,
    keep: Vec<bool>,
    rows: Vec<u16>,
}

impl BlockBuffer {
    /// Space for `columns` columns of at most [`BLOCK`] rows.
    pub(crate) fn new(columns: usize) -> Self {
        Self {
            x: vec![0.0; columns * BLOCK],
            w: vec![0.0; BLOCK],
            keep: vec![true; BLOCK],
            rows: Vec::with_capacity(BLOCK),
        }
    }
}

/// One block of rows as the fit reads it: every column of the kept rows as `f64`, their weights,
/// and the rows skipped for a weight of zero.
pub(crate) struct Block<'s> {
    pub columns: Vec<&'s [f64]>,
    pub weights: Option<&'s [f64]>,
    pub zero_weight: u64,
}

/// Kept rows as `f64` columns (in the order of [`DesignRows`]) and their weights.
pub(crate) type Materialised<'a> = (Vec<Cow<'a, [f64]>>, Option<Cow<'a, [f64]>>);

/// Rows of a design as a fit reads them, block by block (see [`Design::rows`]); also plain `f64`
/// columns ([`DesignRows::from_slices`]).
#[derive(Debug, Clone)]
pub(crate) struct DesignRows<'a> {
    columns: Vec<Column<'a>>,
    weights: Option<&'a [f64]>,
    /// Skip rows with a NaN (or masked) value.
    skip_missing: bool,
    /// Some mask marks a value (only with `skip_missing`).
    masked: bool,
    /// Skip rows of weight zero (counted in each block's `zero_weight`).
    skip_zero_weight: bool,
    n: usize,
}

impl<'a> DesignRows<'a> {
    /// `f64` columns of the same length read as they are (every row, zero weights included).
    pub(crate) fn from_slices(columns: &[&'a [f64]], weights: Option<&'a [f64]>) -> Self {
        Self {
            n: columns.first().map_or(0, |c| c.len()),
            columns: columns.iter().map(|&c| Column::new("", c)).collect(),
            weights,
            skip_missing: false,
            masked: false,
            skip_zero_weight: false,
        }
    }

    /// Number of rows (kept or not).
    pub(crate) fn len(&self) -> usize {
        self.n
    }
    /// Number of columns.
    pub(crate) fn width(&self) -> usize {
        self.columns.len()
    }
    /// The weights (of every row).
    pub(crate) fn weights(&self) -> Option<&'a [f64]> {
        self.weights
    }
    /// Whether every value read is finite (always, once the values are checked and missing ones
    /// skipped). A scan of the float columns, for error paths.
    pub(crate) fn all_finite(&self) -> bool {
        self.skip_missing
            || self.columns.iter().all(|c| match c.values {
                Numbers::F64(s) => s.iter().all(|v| v.is_finite()),
                Numbers::F32(s) => s.iter().all(|v| v.is_finite()),
                _ => true,
            })
    }

    /// Whether some row may be skipped.
    fn filters(&self) -> bool {
        self.skip_missing || self.skip_zero_weight
    }

    /// Mark in `keep` the rows of `start..end` that are read; returns how many. Without
    /// `skip_missing`, a skipped (zero-weight) row must still hold finite values: `None` when not.
    #[inline(always)]
    fn mark(&self, start: usize, end: usize, keep: &mut [bool]) -> Option<usize> {
        let keep = &mut keep[..end - start];
        keep.fill(true);
        if let Some(w) = self.weights.filter(|_| self.skip_zero_weight) {
            for (k, w) in keep.iter_mut().zip(&w[start..end]) {
                *k &= *w > 0.0;
            }
        }
        if self.skip_missing {
            for c in &self.columns {
                if let Some(m) = c.missing.filter(|_| self.masked) {
                    for (k, g) in keep.iter_mut().zip(&m[start..end]) {
                        *k &= !*g;
                    }
                }
                match c.values {
                    Numbers::F64(s) => {
                        for (k, v) in keep.iter_mut().zip(&s[start..end]) {
                            *k &= !v.is_nan();
                        }
                    }
                    Numbers::F32(s) => {
                        for (k, v) in keep.iter_mut().zip(&s[start..end]) {
                            *k &= !v.is_nan();
                        }
                    }
                    _ => {}
                }
            }
        }
        let kept = keep.iter().filter(|k| **k).count();
        if !self.skip_missing && kept < keep.len() {
            let finite = keep.iter().enumerate().filter(|(_, k)| !**k).all(|(t, _)| {
                self.columns
                    .iter()
                    .all(|c| !c.values.non_finite_at(start + t))
            });
            if !finite {
                return None;
            }
        }
        Some(kept)
    }

    /// Whether row `i` has a missing value (only with `skip_missing`).
    #[inline]
    fn missing_at(&self, i: usize) -> bool {
        self.skip_missing
            && self.columns.iter().any(|c| {
                (self.masked && c.missing.is_some_and(|m| m[i])) || c.values.get(i).is_nan()
            })
    }

    /// Rows of `start..end` skipped for a weight of zero (not for a missing value).
    fn zero_weight_rows(&self, start: usize, end: usize, keep: &[bool]) -> u64 {
        match self.weights.filter(|_| self.skip_zero_weight) {
            Some(w) => (start..end)
                .filter(|&i| !keep[i - start] && w[i] == 0.0 && !self.missing_at(i))
                .count() as u64,
            None => 0,
        }
    }

    /// Rows `start..end` (at most [`BLOCK`]) as `f64`: the kept rows of every column, borrowed
    /// where a column is `f64` and no row is skipped, else converted into `buf`. `None` when a
    /// skipped row holds a value that is not finite (see [`Design::rows`]).
    #[inline(always)]
    pub(crate) fn read<'s>(
        &'s self,
        start: usize,
        end: usize,
        buf: &'s mut BlockBuffer,
    ) -> Option<Block<'s>> {
        debug_assert!(end - start <= BLOCK);
        let BlockBuffer { x, w, keep, rows } = buf;
        let len = end - start;
        let mut zero_weight = 0;
        let mut picked: Option<&[u16]> = None;
        if self.filters() {
            let kept = self.mark(start, end, keep)?;
            if kept < len {
                zero_weight = self.zero_weight_rows(start, end, keep);
                rows.clear();
                rows.extend((0..len as u16).filter(|&t| keep[usize::from(t)]));
                picked = Some(rows);
            }
        }
        let kept = picked.map_or(len, <[u16]>::len);
        let weights = match (self.weights, picked) {
            (None, _) => None,
            (Some(all), None) => Some(&all[start..end]),
            (Some(all), Some(picked)) => {
                let out = &mut w[..kept];
                gather(&all[start..end], picked, out);
                Some(&*out)
            }
        };
        let mut columns = Vec::with_capacity(self.columns.len());
        let mut rest: &mut [f64] = x;
        for c in &self.columns {
            let (out, tail) = rest.split_at_mut(BLOCK);
            rest = tail;
            columns.push(c.values.read(start, end, picked, out));
        }
        Some(Block {
            columns,
            weights,
            zero_weight,
        })
    }

    /// The kept rows and the zero-weight rows among the rows with no missing value:
    /// `(kept, zero_weight)`. `None` as in [`DesignRows::read`].
    pub(crate) fn count(&self) -> Option<(usize, usize)> {
        if !self.filters() {
            return Some((self.n, 0));
        }
        let mut buf = BlockBuffer::new(0);
        let (mut kept, mut zero) = (0, 0);
        let mut s = 0;
        while s < self.n {
            let e = (s + BLOCK).min(self.n);
            kept += self.mark(s, e, &mut buf.keep)?;
            zero += self.zero_weight_rows(s, e, &buf.keep) as usize;
            s = e;
        }
        Some((kept, zero))
    }

    /// The kept rows as `f64` columns and weights, for the exact solver of small or ill-conditioned
    /// designs: borrowed when every column is `f64` and no row is skipped, else a copy.
    pub(crate) fn materialise(&self) -> Option<Materialised<'a>> {
        if !self.filters() {
            let cols = self.columns.iter().map(|c| match c.values {
                Numbers::F64(s) => Cow::Borrowed(s),
                other => Cow::Owned(other.to_vec()),
            });
            return Some((cols.collect(), self.weights.map(Cow::Borrowed)));
        }
        let mut buf = BlockBuffer::new(self.width());
        let mut cols: Vec<Vec<f64>> = vec![Vec::new(); self.width()];
        let mut w: Option<Vec<f64>> = self.weights.map(|_| Vec::new());
        let mut s = 0;
        while s < self.n {
            let e = (s + BLOCK).min(self.n);
            let block = self.read(s, e, &mut buf)?;
            for (c, b) in cols.iter_mut().zip(&block.columns) {
                c.extend_from_slice(b);
            }
            if let (Some(w), Some(b)) = (w.as_mut(), block.weights) {
                w.extend_from_slice(b);
            }
            s = e;
        }
        Some((
            cols.into_iter().map(Cow::Owned).collect(),
            w.map(Cow::Owned),
        ))
    }

    /// The first value of column `j` in the kept rows if every kept value equals it (a constant
    /// column), else `None`.
    pub(crate) fn constant(&self, j: usize) -> Option<f64> {
        let mut buf = BlockBuffer::new(self.width());
        let mut first = None;
        let mut s = 0;
        while s < self.n {
            let e = (s + BLOCK).min(self.n);
            let block = self.read(s, e, &mut buf)?;
            let col = block.columns[j];
            if let Some(&v0) = col.first() {
                let v = *first.get_or_insert(v0);
                if col.iter().any(|x| *x != v) {
                    return None;
                }
            }
            s = e;
        }
        first
    }

    /// Up to `limit` distinct values of column `j` in the kept rows, in order of appearance.
    pub(crate) fn distinct(&self, j: usize, limit: usize) -> Vec<f64> {
        let mut buf = BlockBuffer::new(self.width());
        let mut found: Vec<f64> = Vec::with_capacity(limit);
        let mut s = 0;
        while s < self.n && found.len() < limit {
            let e = (s + BLOCK).min(self.n);
            if let Some(block) = self.read(s, e, &mut buf) {
                for &v in block.columns[j] {
                    if !v.is_nan() && !found.contains(&v) {
                        found.push(v);
                        if found.len() == limit {
                            break;
                        }
                    }
                }
            }
            s = e;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_convert_every_width_and_skip_rows() {
        let n = 5000;
        let a: Vec<i16> = (0..n).map(|i| (i % 11) as i16 - 5).collect();
        let b: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
        let mut c: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
        c[3] = f64::NAN;
        let gone: Vec<bool> = (0..n).map(|i| i % 1000 == 10).collect();
        let w: Vec<f64> = (0..n).map(|i| if i == 20 { 0.0 } else { 1.0 }).collect();
        let design = Design::new(
            Column::new("y", &c[..]),
            vec![
                Column::new("a", &a[..]).with_missing(&gone),
                Column::new("b", &b[..]),
            ],
            Some(&w),
        )
        .unwrap();
        assert!(design.has_masked_values());
        let rows = design.rows(Some(&w), true);
        // Rows 3 (NaN), 10, 1010, … (masked: 5 rows) are missing; row 20 has weight zero.
        assert_eq!(rows.count(), Some((n - 7, 1)));
        let (cols, ws) = rows.materialise().unwrap();
        assert_eq!(cols[0].len(), n - 7);
        let kept: Vec<usize> = (0..n)
            .filter(|&i| i != 3 && i != 20 && i % 1000 != 10)
            .collect();
        for (t, &i) in kept.iter().enumerate() {
            assert_eq!(cols[0][t], f64::from(a[i]));
            assert_eq!(cols[1][t], f64::from(b[i]));
            assert_eq!(cols[2][t], c[i]);
        }
        assert_eq!(ws.unwrap().len(), n - 7);
        assert_eq!(rows.distinct(2, 3), vec![0.0, 1.0, 2.0]);
        assert_eq!(rows.constant(0), None);
        // Assumed complete: the NaN of a kept row is read (and found by the fold).
        let raw = design.rows(Some(&w), false);
        assert_eq!(raw.count(), Some((n - 1, 1)));
    }

    #[test]
    fn checks_name_the_column() {
        let y = [1.0, 2.0, f64::INFINITY];
        let x = [1u8, 2, 3];
        let d = Design::new(
            Column::new("y", &y[..]),
            vec![Column::new("x", &x[..])],
            None,
        )
        .unwrap();
        let e = d.check_values().unwrap_err();
        assert!(e.to_string().contains("\"y\"") && e.to_string().contains("row 2"));
        let m = [false, true];
        let e = Design::new(
            Column::new("y", &y[..]),
            vec![Column::new("x", &x[..]).with_missing(&m)],
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("\"x\"") && e.to_string().contains("mask"));
        assert!(Design::new(Column::new("y", &y[..]), vec![], None).is_err());
    }
}
