//! One contract for every mergeable state: [`Accumulator`].
//!
//! Every aggregate of the crate is computed from a state that folds batches of rows (optionally
//! weighted), merges with another state of the same kind (associative, commutative, the empty state
//! is the identity; counts use checked arithmetic), finishes into a result, validates itself, and
//! serialises two ways:
//!
//! * **bytes**: a 20-byte header, then the kind's payload, all little-endian:
//!
//!   | offset | size | field |
//!   | --- | --- | --- |
//!   | 0 | 4 | magic `CXST` |
//!   | 4 | 2 | kind ([`StateKind::code`]) |
//!   | 6 | 2 | format version of the kind ([`Accumulator::VERSION`]) |
//!   | 8 | 4 | flags (none defined: must be 0) |
//!   | 12 | 8 | payload length in bytes (must equal what follows) |
//!
//! * **JSON**: an envelope `{"kind": "nps_tally", "version": 1, "state": {...}}` around the serde
//!   form of the state; the bare serde form that earlier releases wrote is still read.
//!
//! Decoding checks every length against the remaining input before it allocates, rejects unknown
//! kinds, versions and flags, trailing bytes and truncation, and validates the restored state
//! ([`Accumulator::validate`]) before returning it: hostile or contradictory input is an
//! [`Error::InvalidState`], never a panic, a large allocation or a state that gives wrong results.
//!
//! ```
//! use cx_metrics::{Accumulator, NanPolicy, NpsTally, Ratings};
//! let mut a = NpsTally::new();
//! a.fold_batch(Ratings::new(&[10u8, 9, 3][..], NanPolicy::Omit), None).unwrap();
//! let bytes = a.to_bytes();
//! assert_eq!(&bytes[..4], b"CXST");
//! assert_eq!(NpsTally::from_bytes(&bytes).unwrap(), a);
//! let json = a.to_json();
//! assert!(json.starts_with(r#"{"kind":"nps_tally","version":2,"state":"#));
//! assert_eq!(NpsTally::from_json(&json).unwrap(), a);
//! assert!(NpsTally::from_bytes(&bytes[..bytes.len() - 1]).is_err());
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::scale::{NanPolicy, RawValue};
use crate::tally::Merge;

/// The four bytes every serialised state starts with.
pub const MAGIC: [u8; 4] = *b"CXST";
/// The format version of a kind whose payload never changed: the default of
/// [`Accumulator::VERSION`]. Each kind writes its own version and reads every earlier one.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes of the header before the payload.
pub const HEADER_LEN: usize = 20;

/// Defines [`StateKind`] from the registry list (`state_registry!` in `lib.rs`).
#[doc(hidden)]
#[macro_export]
macro_rules! __define_state_kinds {
    (() $($variant:ident = $code:literal, $name:ident, $($seg:ident)::+;)*) => {
        /// The kinds of serialised state: the registry of every [`Accumulator`].
        ///
        /// Generated from the one registry list in `lib.rs` (`state_registry!`): a new state kind
        /// adds one line there (a new code and name, never reusing one) and nothing here.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum StateKind {
            $(
                #[doc = concat!("[`crate", $("::", stringify!($seg)),+, "`].")]
                $variant,
            )*
        }

        impl StateKind {
            /// Every kind, in code order.
            pub const ALL: [StateKind; [$(stringify!($variant)),*].len()] = [$(Self::$variant),*];

            /// The kind's code in the byte header.
            pub fn code(self) -> u16 {
                match self {
                    $(Self::$variant => $code,)*
                }
            }

            /// The kind's name in the JSON envelope and in error messages.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($name),)*
                }
            }
        }

        // Each registered type declares its own kind and has a sample state (for golden files and
        // fuzzing): checked when the crate compiles.
        const _: () = {
            $(
                assert!(
                    matches!(<$crate::$($seg)::+ as Accumulator>::KIND, StateKind::$variant),
                    concat!("the registry line of ", stringify!($variant), " names a type of another kind"),
                );
                let _ = <$crate::$($seg)::+ as Example>::example;
            )*
        };
    };
}
crate::state_registry!(__define_state_kinds);

/// Calls the macro `$m!(name, Type, sample)` once for every registered state kind, in code order:
/// `name` is the kind's JSON name as an identifier, `Type` its state type and `sample` an
/// expression giving its [`Example`] state. The golden-file and fuzz tests of every kind are
/// written once with it.
///
/// ```
/// let mut names = Vec::new();
/// macro_rules! push {
///     ($name:ident, $ty:ty, $sample:expr) => {
///         names.push(stringify!($name));
///     };
/// }
/// cx_metrics::for_each_state!(push);
/// assert_eq!(names.len(), cx_metrics::StateKind::ALL.len());
/// assert_eq!(names[0], "scale_tally");
/// ```
#[macro_export]
macro_rules! for_each_state {
    ($m:ident) => {
        $crate::state_registry!(__for_each_state_kind $m);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __for_each_state_kind {
    (($m:ident) $($variant:ident = $code:literal, $name:ident, $($seg:ident)::+;)*) => {
        $(
            $m!(
                $name,
                $crate::$($seg)::+,
                <$crate::$($seg)::+ as $crate::state::Example>::example()
            );
        )*
    };
}

/// A small, fixed sample state of a kind, built from a few hand-checkable rows: the state its
/// golden files were written from, the seed of its fuzz tests, and a quick example.
///
/// Every registered kind implements it (checked when the crate compiles).
pub trait Example: Accumulator {
    /// The sample state.
    fn example() -> Self;

    /// The sample state as its golden files of the earlier format `version` restore it: the
    /// sample itself, unless that version did not keep everything the current one does.
    fn example_as_of(version: u16) -> Self {
        let _ = version;
        Self::example()
    }
}

impl StateKind {
    /// The kind with this header code.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The kind with this JSON name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// An [`Error::InvalidState`] about a state of this kind.
    pub fn invalid(self, message: impl Into<String>) -> Error {
        Error::InvalidState {
            kind: self.name(),
            message: message.into(),
        }
    }
}

/// A mergeable state: the one contract of every aggregate in the crate.
///
/// Implementations keep [`Merge::merge`] associative and commutative with the empty state as the
/// identity, and use checked arithmetic for counts ([`Error::Overflow`]); [`Accumulator::validate`]
/// holds for every state that folding and merging can produce, and constructors of a state from
/// its parts (deserialisation included) apply it.
pub trait Accumulator: Merge + Clone + PartialEq + Serialize + DeserializeOwned {
    /// The kind, in the byte header and the JSON envelope.
    const KIND: StateKind;
    /// The format version of this kind's payload that this release writes (and the newest it
    /// reads; every earlier one is read too, see [`Decoder::version`]).
    const VERSION: u16 = FORMAT_VERSION;
    /// What [`Accumulator::fold_batch`] folds (ratings, pairs of ratings, columns, ...).
    type Batch<'a>;
    /// What [`Accumulator::finish`] needs besides the state (`()` when nothing).
    type Options;
    /// The result a state finishes into.
    type Output;

    /// Validate and fold one batch of rows, optionally weighted (one finite weight ≥ 0 per row);
    /// on error nothing changes.
    fn fold_batch(&mut self, batch: Self::Batch<'_>, weights: Option<&[f64]>) -> Result<()>;

    /// Rows counted (with a positive weight, for states that count zero-weight rows apart).
    fn n(&self) -> u64;

    /// The result of everything folded so far.
    fn finish(&self, options: &Self::Options) -> Result<Self::Output>;

    /// Check the state is internally consistent (shapes, counts, sums); every decoded state is
    /// checked with this before it is returned.
    fn validate(&self) -> Result<()>;

    /// Write the payload (everything after the header).
    fn encode_payload(&self, out: &mut Encoder);

    /// Read a payload written by [`Accumulator::encode_payload`], checking lengths before
    /// allocating; the result is validated by the caller.
    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self>;

    /// The state as bytes: header, then payload.
    fn to_bytes(&self) -> Vec<u8> {
        let mut payload = Encoder::new();
        self.encode_payload(&mut payload);
        let payload = payload.into_bytes();
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&Self::KIND.code().to_le_bytes());
        out.extend_from_slice(&Self::VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// A state from the bytes written by [`Accumulator::to_bytes`] (this or an earlier format
    /// version), checked in full.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let kind = Self::KIND;
        let (payload, version) = read_header(bytes, kind, Self::VERSION)?;
        let mut input = Decoder::new(payload, kind);
        input.version = version;
        let state = Self::decode_payload(&mut input)?;
        input.finish()?;
        state.validate()?;
        Ok(state)
    }

    /// A state from bytes in any form the crate has written: the binary format of
    /// [`Accumulator::to_bytes`], or JSON text (enveloped, or the bare serde form that earlier
    /// releases stored as bytes, in pickles for instance). Checked in full either way.
    fn from_stored(bytes: &[u8]) -> Result<Self> {
        if bytes.first() == Some(&b'{') {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| Self::KIND.invalid("the JSON bytes are not UTF-8"))?;
            return Self::from_json(text);
        }
        Self::from_bytes(bytes)
    }

    /// The state as JSON: `{"kind": ..., "version": ..., "state": {...}}`.
    fn to_json(&self) -> String {
        let envelope = Envelope {
            kind: Self::KIND.name(),
            version: Self::VERSION,
            state: self,
        };
        // Serialising plain data (numbers, strings, vectors) to a string cannot fail; NaN never
        // occurs in a valid state.
        serde_json::to_string(&envelope).unwrap_or_default()
    }

    /// A state from JSON: the envelope written by [`Accumulator::to_json`], or the bare serde form
    /// that earlier releases wrote; checked in full.
    fn from_json(text: &str) -> Result<Self> {
        let kind = Self::KIND;
        // A state's own checks fail inside serde with their full message: keep its reason, not
        // its advice, which the error built here repeats.
        let json_error = |e: serde_json::Error| {
            kind.invalid(format!("JSON: {}", e.to_string().replace(ADVICE, "")))
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
        let state = match value {
            serde_json::Value::Object(mut map) if map.contains_key("kind") => {
                let found = map.get("kind").and_then(|k| k.as_str()).unwrap_or("");
                if found != kind.name() {
                    return Err(kind.invalid(match StateKind::from_name(found) {
                        Some(_) => format!("the JSON holds a {found} state"),
                        None => format!("unknown state kind {found:?} in the JSON envelope"),
                    }));
                }
                let version = map.get("version").and_then(|v| v.as_u64());
                match version {
                    Some(v) if v >= 1 && v <= u64::from(Self::VERSION) => {}
                    _ => {
                        return Err(kind.invalid(format!(
                            "format version {} is not supported (this release reads 1 to {})",
                            map.get("version")
                                .map_or("(none)".into(), |v| v.to_string()),
                            Self::VERSION
                        )))
                    }
                }
                let Some(state) = map.remove("state") else {
                    return Err(kind.invalid("the JSON envelope has no \"state\""));
                };
                serde_json::from_value::<Self>(state).map_err(json_error)?
            }
            bare => serde_json::from_value::<Self>(bare).map_err(json_error)?,
        };
        state.validate()?;
        Ok(state)
    }
}

/// The advice that ends the message of [`Error::InvalidState`].
const ADVICE: &str = "; the state was not restored (re-create it from the data, or check that it \
                      was stored whole and by a release that writes this format)";

#[derive(Serialize)]
struct Envelope<'a, S> {
    kind: &'static str,
    version: u16,
    state: &'a S,
}

/// Check the header of `bytes` for a state of `kind` whose newest format version is `newest`;
/// returns the payload and its format version.
fn read_header(bytes: &[u8], kind: StateKind, newest: u16) -> Result<(&[u8], u16)> {
    if bytes.len() < HEADER_LEN {
        return Err(kind.invalid(format!(
            "{} bytes are too few for the {HEADER_LEN}-byte header (truncated?)",
            bytes.len()
        )));
    }
    if bytes[..4] != MAGIC {
        return Err(kind.invalid(
            "the bytes do not start with \"CXST\": they are not a serialised cx-metrics state",
        ));
    }
    let code = u16::from_le_bytes([bytes[4], bytes[5]]);
    let version = u16::from_le_bytes([bytes[6], bytes[7]]);
    let flags = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[12..20]);
    let len = u64::from_le_bytes(len);
    match StateKind::from_code(code) {
        Some(k) if k == kind => {}
        Some(k) => return Err(kind.invalid(format!("the bytes hold a {} state", k.name()))),
        None => {
            return Err(kind.invalid(format!(
                "unknown state kind {code} (written by a newer release?)"
            )))
        }
    }
    if !(1..=newest).contains(&version) {
        return Err(kind.invalid(format!(
            "format version {version} is not supported (this release reads 1 to {newest})"
        )));
    }
    if flags != 0 {
        return Err(kind.invalid(format!("unknown flags {flags:#x}")));
    }
    let payload = &bytes[HEADER_LEN..];
    if len != payload.len() as u64 {
        return Err(kind.invalid(format!(
            "the header announces {len} payload bytes but {} follow (truncated, or trailing bytes)",
            payload.len()
        )));
    }
    Ok((payload, version))
}

/// Little-endian writer of a payload.
#[derive(Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// An empty payload.
    pub fn new() -> Self {
        Self::default()
    }
    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    /// A `u32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// An `i32`.
    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// A `u64`.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// An `f64` (its IEEE 754 bits, so it reads back bit for bit).
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// `u64`s without a length (the reader knows how many).
    pub fn u64s(&mut self, v: &[u64]) {
        v.iter().for_each(|x| self.u64(*x));
    }
    /// `f64`s without a length (the reader knows how many).
    pub fn f64s(&mut self, v: &[f64]) {
        v.iter().for_each(|x| self.f64(*x));
    }
    /// A string: its byte length as `u32`, then its UTF-8 bytes.
    pub fn str(&mut self, s: &str) {
        self.u32(u32::try_from(s.len()).unwrap_or(u32::MAX));
        self.buf.extend_from_slice(s.as_bytes());
    }
}

/// Little-endian reader of a payload: every read checks the remaining length first, so a hostile
/// length can neither read past the end nor allocate more than the input holds.
#[derive(Debug)]
pub struct Decoder<'a> {
    input: &'a [u8],
    kind: StateKind,
    version: u16,
}

impl<'a> Decoder<'a> {
    /// A reader of `input`, a payload of a state of `kind` (named in errors) in the current
    /// format version.
    pub fn new(input: &'a [u8], kind: StateKind) -> Self {
        Self {
            input,
            kind,
            version: FORMAT_VERSION,
        }
    }
    /// The format version of the payload (from the header): a decoder of a later release reads
    /// the payloads of every earlier version by branching on it.
    pub fn version(&self) -> u16 {
        self.version
    }
    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.input.len()
    }
    /// An [`Error::InvalidState`] for this state's kind.
    pub fn invalid(&self, message: impl Into<String>) -> Error {
        self.kind.invalid(message)
    }
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.input.len() {
            return Err(self.invalid(format!(
                "the payload ends before {what} ({n} bytes needed, {} left)",
                self.input.len()
            )));
        }
        let (head, tail) = self.input.split_at(n);
        self.input = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
    /// One byte.
    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }
    /// A `u32`.
    pub fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    /// An `i32`.
    pub fn i32(&mut self, what: &str) -> Result<i32> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }
    /// A `u64`.
    pub fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    /// An `f64`.
    pub fn f64(&mut self, what: &str) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }
    /// Check that `count` items of `size` bytes fit in what is left, before anything is allocated.
    pub fn check_fits(&self, count: usize, size: usize, what: &str) -> Result<()> {
        match count.checked_mul(size) {
            Some(bytes) if bytes <= self.input.len() => Ok(()),
            _ => Err(self.invalid(format!(
                "{count} {what} cannot fit in the {} bytes left (corrupted length?)",
                self.input.len()
            ))),
        }
    }
    /// `count` `u64`s (checked to fit before allocating).
    pub fn u64s(&mut self, count: usize, what: &str) -> Result<Vec<u64>> {
        self.check_fits(count, 8, what)?;
        (0..count).map(|_| self.u64(what)).collect()
    }
    /// `count` `f64`s (checked to fit before allocating).
    pub fn f64s(&mut self, count: usize, what: &str) -> Result<Vec<f64>> {
        self.check_fits(count, 8, what)?;
        (0..count).map(|_| self.f64(what)).collect()
    }
    /// A string written by [`Encoder::str`] (length checked first; UTF-8 checked).
    pub fn str(&mut self, what: &str) -> Result<String> {
        let len = self.u32(what)? as usize;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.invalid(format!("{what} is not UTF-8")))
    }
    /// Check the whole payload was read (no trailing bytes inside it).
    pub fn finish(&self) -> Result<()> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(self.invalid(format!(
                "{} bytes are left over after the state",
                self.input.len()
            )))
        }
    }
}

/// Relative tolerance of the consistency checks on sums of weights.
///
/// The checks compare sums that are equal in exact arithmetic in the extreme case (Σw² = (Σw)² for a
/// point with one row; (Σw)² = rows·Σw² when every row of a point has the same weight), so they must
/// allow for rounding. Recursive summation of n terms has a relative error of at most (n − 1)·u
/// (u = 2⁻⁵³ ≈ 1.1e-16; Higham, *Accuracy and Stability of Numerical Algorithms*, §4.2), and the
/// checked ratios combine three such sums, so 1e-6 covers the worst case of ~3·10⁹ rows on one point
/// pushed one at a time (the blocked fold kernels do far better) while still rejecting every
/// contradiction that matters: at most it lets the effective n exceed n by one part in a million.
pub const SUM_RTOL: f64 = 1e-6;

/// Below this a square underflows out of the normal range and loses relative precision; sums of
/// weights this small are not compared (√ of `f64::MIN_POSITIVE`).
const SQRT_MIN_POSITIVE: f64 = 1.4916681462400413e-154;

/// Check the sums of one cell of a tally (a scale point, or a cell of a paired table): `rows` rows
/// with Σw = `w` and Σw² = `w2`. Returns what is wrong.
///
/// Weights finite and ≥ 0; no weight without rows; Σw² ≤ (Σw)² (weights are ≥ 0, so the cross
/// terms are) and (Σw)² ≤ rows·Σw² (Cauchy–Schwarz), so the Kish effective n of the cell, and of
/// the whole state, never exceeds its rows. Compared through square roots, which cannot overflow.
pub(crate) fn check_cell(rows: u64, w: f64, w2: f64) -> std::result::Result<(), String> {
    if !(w.is_finite() && w >= 0.0 && w2.is_finite() && w2 >= 0.0) {
        return Err(format!("Σw = {w} and Σw² = {w2} must be finite and >= 0"));
    }
    if rows == 0 {
        if w != 0.0 || w2 != 0.0 {
            return Err(format!("Σw = {w} and Σw² = {w2} without any row"));
        }
        return Ok(());
    }
    let (s, s2) = (w, w2.sqrt());
    let r = (rows as f64).sqrt();
    if s2 > s * (1.0 + SUM_RTOL) + SQRT_MIN_POSITIVE {
        return Err(format!("Σw² = {w2} exceeds (Σw)² = {}", w * w));
    }
    if s > r * s2 * (1.0 + SUM_RTOL) + r * SQRT_MIN_POSITIVE {
        let ratio = w * w / w2;
        return Err(format!(
            "(Σw)² / Σw² = {} exceeds its {rows} rows (an effective n above n)",
            if ratio.is_finite() {
                ratio
            } else {
                (w / s2) * (w / s2)
            }
        ));
    }
    Ok(())
}

/// Add two counts, or say what would overflow.
pub(crate) fn add_count(a: u64, b: u64, what: impl FnOnce() -> String) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| Error::Overflow {
        what: format!("{} ({a} + {b})", what()),
    })
}

/// Ratings of one batch: a slice of raw values of any supported type and what to do with missing
/// ones. The batch the rating tallies fold.
#[derive(Debug, Clone, Copy)]
pub struct Ratings<'a> {
    /// The values.
    pub values: Values<'a>,
    /// Missing values (NaN, `None`): omitted and counted, or an error.
    pub nan_policy: NanPolicy,
}

impl<'a> Ratings<'a> {
    /// A batch of `values` (any slice of a supported type).
    pub fn new(values: impl Into<Values<'a>>, nan_policy: NanPolicy) -> Self {
        Self {
            values: values.into(),
            nan_policy,
        }
    }
}

/// A slice of raw values of one of the supported types.
#[non_exhaustive]
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    /// `u8` values.
    U8(&'a [u8]),
    /// `i8` values.
    I8(&'a [i8]),
    /// `u16` values.
    U16(&'a [u16]),
    /// `i16` values.
    I16(&'a [i16]),
    /// `u32` values.
    U32(&'a [u32]),
    /// `i32` values.
    I32(&'a [i32]),
    /// `u64` values.
    U64(&'a [u64]),
    /// `i64` values.
    I64(&'a [i64]),
    /// `f32` values (NaN is missing).
    F32(&'a [f32]),
    /// `f64` values (NaN is missing).
    F64(&'a [f64]),
    /// Optional integers (`None` is missing).
    OptionI64(&'a [Option<i64>]),
    /// Optional floats (`None` and NaN are missing).
    OptionF64(&'a [Option<f64>]),
}

macro_rules! values_from {
    ($($t:ty => $v:ident),*) => {$(
        impl<'a> From<&'a [$t]> for Values<'a> {
            fn from(s: &'a [$t]) -> Self {
                Values::$v(s)
            }
        }
    )*};
}
values_from!(u8 => U8, i8 => I8, u16 => U16, i16 => I16, u32 => U32, i32 => I32, u64 => U64,
    i64 => I64, f32 => F32, f64 => F64, Option<i64> => OptionI64, Option<f64> => OptionF64);

/// Something that folds a typed slice: what [`Values::apply`] calls with the slice inside.
pub trait ValuesOp {
    /// What the operation returns.
    type Output;
    /// Run on the slice.
    fn run<T: RawValue>(self, values: &[T]) -> Self::Output;
}

impl Values<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.apply(Len)
    }
    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Run `op` on the typed slice.
    pub fn apply<O: ValuesOp>(&self, op: O) -> O::Output {
        match *self {
            Self::U8(v) => op.run(v),
            Self::I8(v) => op.run(v),
            Self::U16(v) => op.run(v),
            Self::I16(v) => op.run(v),
            Self::U32(v) => op.run(v),
            Self::I32(v) => op.run(v),
            Self::U64(v) => op.run(v),
            Self::I64(v) => op.run(v),
            Self::F32(v) => op.run(v),
            Self::F64(v) => op.run(v),
            Self::OptionI64(v) => op.run(v),
            Self::OptionF64(v) => op.run(v),
        }
    }
}

struct Len;
impl ValuesOp for Len {
    type Output = usize;
    fn run<T: RawValue>(self, values: &[T]) -> usize {
        values.len()
    }
}

/// The sample states of the kinds defined before the registry (each later kind implements
/// [`Example`] in its own module). The data are fixed: golden files were written from them.
mod examples {
    use super::Example;
    use crate::csat::CsatScale;
    use crate::nps::PairedTally;
    use crate::{
        Ces1Tally, Ces2Tally, CsatTally, Direction, Moments, NanPolicy, NpsTally, Scale, ScaleTally,
    };

    const NAN: f64 = f64::NAN;
    const FIXED: &str = "the fixed sample rows are valid";

    impl Example for ScaleTally {
        fn example() -> Self {
            let mut s = ScaleTally::new(Scale::new(1, 5, Direction::HigherIsBetter).expect(FIXED));
            s.fold(
                &[5.0, 4.0, 4.0, 3.0, 1.0, NAN],
                Some(&[1.5, 0.5, 2.0, 1.0, 0.25, 1.0]),
                NanPolicy::Omit,
            )
            .expect(FIXED);
            s
        }
    }

    impl Example for NpsTally {
        fn example() -> Self {
            let mut t = NpsTally::new();
            t.fold(
                &[10.0, 9.0, 9.0, 8.0, 7.0, 6.0, 3.0, 0.0, NAN, 10.0],
                Some(&[1.25, 0.75, 1.0, 2.0, 0.5, 1.5, 1.0, 0.25, 1.0, 3.0]),
                NanPolicy::Omit,
            )
            .expect(FIXED);
            t
        }
    }

    impl Example for CsatTally {
        fn example() -> Self {
            let mut t = CsatTally::new(CsatScale::new(5).expect(FIXED));
            t.fold(
                &[5.0, 4.0, 3.0, 2.0, 1.0, 5.0, NAN],
                Some(&[1.0, 2.0, 0.5, 0.5, 1.5, 0.75, 1.0]),
                NanPolicy::Omit,
            )
            .expect(FIXED);
            t
        }
    }

    impl Example for Ces2Tally {
        fn example() -> Self {
            let mut t = Ces2Tally::new();
            t.fold(&[7u8, 6, 5, 4, 3, 1, 7, 5], None, NanPolicy::Omit)
                .expect(FIXED);
            t
        }
    }

    impl Example for Ces1Tally {
        fn example() -> Self {
            let mut t = Ces1Tally::new();
            t.fold(
                &[1.0, 2.0, 3.0, 4.0, 5.0, 2.0, NAN],
                Some(&[0.5, 1.0, 1.0, 2.0, 0.25, 1.0, 1.0]),
                NanPolicy::Omit,
            )
            .expect(FIXED);
            t
        }
    }

    impl Example for PairedTally {
        fn example() -> Self {
            let mut t = PairedTally::new();
            t.fold(
                &[10.0, 9.0, 3.0, 7.0, NAN, 8.0],
                &[9.0, 6.0, 3.0, 10.0, 5.0, 2.0],
                Some(&[1.0, 0.5, 2.0, 1.5, 1.0, 0.75]),
                NanPolicy::Omit,
            )
            .expect(FIXED);
            t
        }
    }

    impl Example for Moments {
        fn example() -> Self {
            let mut m = Moments::new(["x1", "x2", "y"]).expect(FIXED);
            m.fold_columns(
                &[
                    &[1.0, 2.0, 4.0, 3.0, 5.0],
                    &[3.0, 1.0, 2.0, 2.0, 4.0],
                    &[6.0, 5.0, 9.0, 7.0, 10.0],
                ],
                Some(&[1.0, 2.0, 1.0, 0.5, 0.0]),
            )
            .expect(FIXED);
            m
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_distinct_codes_and_names() {
        for (i, a) in StateKind::ALL.iter().enumerate() {
            assert_eq!(StateKind::from_code(a.code()), Some(*a));
            assert_eq!(StateKind::from_name(a.name()), Some(*a));
            for b in &StateKind::ALL[..i] {
                assert!(a.code() != b.code() && a.name() != b.name());
            }
        }
        assert_eq!(StateKind::from_code(0), None);
    }

    #[test]
    fn cells_are_checked_with_a_tight_tolerance() {
        assert!(check_cell(0, 0.0, 0.0).is_ok());
        assert!(check_cell(3, 3.0, 3.0).is_ok());
        assert!(check_cell(3, 0.0, 0.0).is_ok());
        assert!(check_cell(1, 0.1, 0.1 * 0.1).is_ok());
        // 10^7 rows of weight 0.1 pushed one by one: the drift of the sums stays inside.
        let (mut w, mut w2) = (0.0f64, 0.0f64);
        for _ in 0..10_000_000 {
            w += 0.1;
            w2 += 0.1 * 0.1;
        }
        assert!(check_cell(10_000_000, w, w2).is_ok());
        // Tiny weights whose squares underflow are not compared.
        assert!(check_cell(2, 2e-160, 0.0).is_ok());
        assert!(check_cell(0, 1.0, 1.0).is_err());
        assert!(check_cell(1, 1e151, 1e-151).is_err());
        assert!(check_cell(1, 1.0, 2.0).is_err());
        assert!(check_cell(2, 2.0, 2.0 * (1.0 - 1e-5)).is_err());
        assert!(check_cell(2, f64::NAN, 1.0).is_err());
        assert!(check_cell(2, 1.0, f64::INFINITY).is_err());
    }
}
