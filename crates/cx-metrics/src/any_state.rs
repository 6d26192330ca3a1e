//! A state chosen at run time by its kind: made from a configuration, folded from named columns,
//! finished into a serialisable result.
//!
//! Every state is an [`Accumulator`] with its own Rust type. A program that learns the kind only at
//! run time (the Python bindings, a service reading a request) uses [`AnyState`] instead: it is made
//! by kind name from a serde configuration (`AnyState::new("handling_tally", config)`), folds a batch
//! of [`Columns`] (named, typed slices), merges with a state of the same kind, stores as the same
//! bytes and JSON as the typed state, and finishes with serde options into a [`Finished`] result (its
//! serde value and its text). A kind takes part by implementing [`Columnar`] (how its configuration
//! and its columns read) and by one name in the `columnar_states!` list of the crate root, next to its
//! `state_registry!` line; nothing else is written for it, in Rust or in the bindings.
//!
//! ```
//! use cx_metrics::any_state::{AnyState, Column, Columns};
//! use serde_json::json;
//!
//! let mut a = AnyState::new("handling_tally", json!({"components": ["talk", "acw"]}))?;
//! let talk = [300.0, 200.0, 400.0];
//! let acw = [30.0, 40.0, 50.0];
//! a.fold(&Columns::new(vec![("talk", Column::F64(&talk)), ("acw", Column::F64(&acw))]), None)?;
//! let b = AnyState::from_stored(&a.to_bytes())?;
//! a.merge(&b)?;
//! assert_eq!(a.n(), 6);
//! let r = a.finish(json!({"confidence_level": 0.95}))?;
//! assert_eq!(r.value["aht"], json!(340.0));
//! # Ok::<(), cx_metrics::Error>(())
//! ```

use std::any::Any;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::state::{Accumulator, StateKind, HEADER_LEN, MAGIC};
use crate::{Error, Result};

/// One named input column of a batch.
#[derive(Debug, Clone, Copy)]
pub enum Column<'a> {
    /// Numbers (NaN: missing, where the state allows it).
    F64(&'a [f64]),
    /// Whole numbers (ids, codes).
    I64(&'a [i64]),
    /// Small codes (e.g. outcome codes).
    U8(&'a [u8]),
    /// Flags.
    Bool(&'a [bool]),
    /// Labels.
    Text(&'a [&'a str]),
}

impl Column<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            Self::F64(_) => "float64",
            Self::I64(_) => "int64",
            Self::U8(_) => "uint8",
            Self::Bool(_) => "bool",
            Self::Text(_) => "text",
        }
    }
}

/// The named columns of one batch.
#[derive(Debug, Clone, Default)]
pub struct Columns<'a> {
    named: Vec<(&'a str, Column<'a>)>,
}

impl<'a> Columns<'a> {
    /// Columns by name (a name given twice keeps its first column).
    pub fn new(named: Vec<(&'a str, Column<'a>)>) -> Self {
        Self { named }
    }

    /// The column `name`, if given.
    pub fn get(&self, name: &str) -> Option<Column<'a>> {
        self.named.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
    }

    /// The float64 column `name`, if given; a column of another type is an error naming it.
    pub fn f64(&self, name: &str) -> Result<Option<&'a [f64]>> {
        match self.get(name) {
            None => Ok(None),
            Some(Column::F64(v)) => Ok(Some(v)),
            Some(other) => Err(wrong_type(name, "float64", other)),
        }
    }

    /// The flag column `name`, if given.
    pub fn bool(&self, name: &str) -> Result<Option<&'a [bool]>> {
        match self.get(name) {
            None => Ok(None),
            Some(Column::Bool(v)) => Ok(Some(v)),
            Some(other) => Err(wrong_type(name, "bool", other)),
        }
    }

    /// The text column `name`, if given.
    pub fn text(&self, name: &str) -> Result<Option<&'a [&'a str]>> {
        match self.get(name) {
            None => Ok(None),
            Some(Column::Text(v)) => Ok(Some(v)),
            Some(other) => Err(wrong_type(name, "text", other)),
        }
    }

    /// The float64 column `name`, which the state needs.
    pub fn required_f64(&self, name: &str) -> Result<&'a [f64]> {
        self.f64(name)?.ok_or_else(|| missing_column(name))
    }

    /// The flag column `name`, which the state needs.
    pub fn required_bool(&self, name: &str) -> Result<&'a [bool]> {
        self.bool(name)?.ok_or_else(|| missing_column(name))
    }

    /// An error naming every column that is not one of `known` (a misspelt column is never
    /// ignored).
    pub fn only(&self, known: &[&str]) -> Result<()> {
        match self.named.iter().find(|(n, _)| !known.contains(n)) {
            None => Ok(()),
            Some((name, _)) => Err(Error::invalid(
                "columns",
                format!(
                    "unknown column {name:?}; this state reads {}",
                    known.join(", ")
                ),
            )),
        }
    }
}

fn wrong_type(name: &str, wanted: &str, got: Column<'_>) -> Error {
    Error::invalid(
        "columns",
        format!(
            "column {name:?} is {}; give {wanted} values",
            got.type_name()
        ),
    )
}

fn missing_column(name: &str) -> Error {
    Error::invalid("columns", format!("column {name:?} is needed"))
}

/// A state that can be made from a configuration and folded from named columns: what a kind
/// implements to be an [`AnyState`].
pub trait Columnar: Accumulator + Send + Sync + 'static
where
    Self::Options: DeserializeOwned,
    Self::Output: ResultData,
{
    /// What [`AnyState::new`] reads (serde).
    type Config: DeserializeOwned;

    /// An empty state of `config`.
    fn from_config(config: Self::Config) -> Result<Self>;

    /// The batch of `columns` (check the names with [`Columns::only`]).
    fn batch<'a>(columns: &Columns<'a>) -> Result<Self::Batch<'a>>;
}

/// What a [`Columnar`] state's result is: serde both ways, and text.
pub trait ResultData: Serialize + DeserializeOwned + fmt::Display {}

impl<T: Serialize + DeserializeOwned + fmt::Display> ResultData for T {}

/// A finished result: its serde value, its JSON and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// The result's kind of state.
    pub kind: StateKind,
    /// The result as serde data.
    pub value: serde_json::Value,
    /// The result as JSON text (its fields in the result's order), for storage.
    pub json: String,
    /// The result as text (its `Display`).
    pub text: String,
}

impl Finished {
    /// The result of a state of kind `kind` from the JSON of [`Finished::json`], checked as the
    /// result type reads it.
    pub fn from_json(kind: &str, json: &str) -> Result<Self> {
        let found = StateKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == kind)
            .ok_or_else(|| unknown_kind(kind))?;
        crate::read_finished(found, json).unwrap_or_else(|| Err(unknown_kind(kind)))
    }
}

fn finished<O: ResultData>(kind: StateKind, output: &O) -> Result<Finished> {
    let broken = |e: serde_json::Error| Error::InvalidState {
        kind: kind.name(),
        message: format!("the result does not serialise: {e}"),
    };
    Ok(Finished {
        kind,
        value: serde_json::to_value(output).map_err(broken)?,
        json: serde_json::to_string(output).map_err(broken)?,
        text: output.to_string(),
    })
}

/// Read a stored result (for `columnar_states!`).
#[doc(hidden)]
pub fn read_result<T>(json: &str) -> Result<Finished>
where
    T: Columnar,
    T::Options: DeserializeOwned,
    T::Output: ResultData,
{
    let output: T::Output = serde_json::from_str(json).map_err(|e| {
        Error::invalid(
            "result",
            format!("not the JSON of a {} result: {e}", T::KIND.name()),
        )
    })?;
    finished(T::KIND, &output)
}

/// A state of any [`Columnar`] kind.
pub struct AnyState(Box<dyn Erased>);

impl AnyState {
    /// An empty state of the kind named `kind` (`"handling_tally"`) from its configuration.
    pub fn new(kind: &str, config: serde_json::Value) -> Result<Self> {
        let found = StateKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == kind)
            .ok_or_else(|| unknown_kind(kind))?;
        crate::make_columnar(found, config)
            .unwrap_or_else(|| Err(unknown_kind(kind)))
            .map(Self)
    }

    /// A state from the bytes of [`AnyState::to_bytes`] (or of the typed state's `to_bytes`, or
    /// the JSON bytes of earlier releases), of whichever kind they hold; checked in full.
    pub fn from_stored(bytes: &[u8]) -> Result<Self> {
        let kind = stored_kind(bytes)?;
        crate::read_columnar(kind, bytes)
            .unwrap_or_else(|| {
                Err(Error::InvalidState {
                    kind: kind.name(),
                    message: format!(
                        "it holds a {}, which is not a state made by kind; read it with its own type",
                        kind.name()
                    ),
                })
            })
            .map(Self)
    }

    /// A state from the JSON of [`AnyState::to_json`], of whichever kind it names.
    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_stored(text.as_bytes())
    }

    /// The kind of the state.
    pub fn kind(&self) -> StateKind {
        self.0.kind()
    }

    /// Rows (or units) counted.
    pub fn n(&self) -> u64 {
        self.0.n()
    }

    /// Fold a batch of columns (and optional weights); on error nothing changes.
    pub fn fold(&mut self, columns: &Columns<'_>, weights: Option<&[f64]>) -> Result<()> {
        self.0.fold(columns, weights)
    }

    /// Merge a state of the same kind into this one; on error nothing changes.
    pub fn merge(&mut self, other: &AnyState) -> Result<()> {
        if other.kind() != self.kind() {
            return Err(Error::Incompatible(format!(
                "cannot merge a {} with a {}",
                self.kind().name(),
                other.kind().name()
            )));
        }
        self.0.merge(other.0.as_ref())
    }

    /// The result, with the kind's finishing options (serde).
    pub fn finish(&self, options: serde_json::Value) -> Result<Finished> {
        self.0.finish(options)
    }

    /// The state's bytes (the typed state's format).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes()
    }

    /// The state's JSON (the typed state's format).
    pub fn to_json(&self) -> String {
        self.0.to_json()
    }

    /// The state's fields as serde data (what its JSON's `"state"` holds).
    pub fn data(&self) -> serde_json::Value {
        self.0.data()
    }

    /// The typed state, if it is of type `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref::<T>()
    }
}

impl Clone for AnyState {
    fn clone(&self) -> Self {
        Self(self.0.clone_box())
    }
}

impl PartialEq for AnyState {
    fn eq(&self, other: &Self) -> bool {
        self.0.same(other.0.as_ref())
    }
}

impl fmt::Debug for AnyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnyState({}, n = {})", self.kind().name(), self.n())
    }
}

fn unknown_kind(kind: &str) -> Error {
    let known: Vec<&str> = StateKind::ALL
        .iter()
        .copied()
        .filter(|k| crate::make_columnar(*k, serde_json::Value::Null).is_some())
        .map(StateKind::name)
        .collect();
    Error::invalid(
        "kind",
        format!(
            "{kind:?} is not a state made by kind; known: {}",
            known.join(", ")
        ),
    )
}

/// The kind named by a stored state's header (binary) or its `"kind"` field (JSON).
fn stored_kind(bytes: &[u8]) -> Result<StateKind> {
    if bytes.len() >= HEADER_LEN && bytes[..4] == MAGIC {
        let code = u16::from_le_bytes([bytes[4], bytes[5]]);
        return StateKind::from_code(code).ok_or_else(|| Error::InvalidState {
            kind: "state",
            message: format!("the header names kind {code}, which is not a state"),
        });
    }
    #[derive(serde::Deserialize)]
    struct Named {
        kind: String,
    }
    let named: Named = serde_json::from_slice(bytes).map_err(|_| Error::InvalidState {
        kind: "state",
        message: "neither state bytes (no CXST header) nor state JSON with a \"kind\"".into(),
    })?;
    StateKind::ALL
        .iter()
        .copied()
        .find(|k| k.name() == named.kind)
        .ok_or_else(|| Error::InvalidState {
            kind: "state",
            message: format!("unknown kind {:?}", named.kind),
        })
}

/// Make the state of `config` (for `columnar_states!`).
#[doc(hidden)]
pub fn make<T>(config: serde_json::Value) -> Result<Box<dyn ErasedState>>
where
    T: Columnar,
    T::Options: DeserializeOwned,
    T::Output: ResultData,
{
    let config: T::Config = serde_json::from_value(config).map_err(|e| {
        Error::invalid(
            "config",
            format!("invalid configuration of a {}: {e}", T::KIND.name()),
        )
    })?;
    Ok(Box::new(T::from_config(config)?))
}

/// Read the state in `bytes` (for `columnar_states!`).
#[doc(hidden)]
pub fn read<T>(bytes: &[u8]) -> Result<Box<dyn ErasedState>>
where
    T: Columnar,
    T::Options: DeserializeOwned,
    T::Output: ResultData,
{
    Ok(Box::new(T::from_stored(bytes)?))
}

#[doc(hidden)]
pub use Erased as ErasedState;

/// What [`AnyState`] does with a state whose type it does not know.
#[doc(hidden)]
pub trait Erased: Send + Sync {
    fn kind(&self) -> StateKind;
    fn n(&self) -> u64;
    fn fold(&mut self, columns: &Columns<'_>, weights: Option<&[f64]>) -> Result<()>;
    fn merge(&mut self, other: &dyn Erased) -> Result<()>;
    fn finish(&self, options: serde_json::Value) -> Result<Finished>;
    fn to_bytes(&self) -> Vec<u8>;
    fn to_json(&self) -> String;
    fn data(&self) -> serde_json::Value;
    fn clone_box(&self) -> Box<dyn Erased>;
    fn same(&self, other: &dyn Erased) -> bool;
    fn as_any(&self) -> &dyn Any;
}

impl<T> Erased for T
where
    T: Columnar,
    T::Options: DeserializeOwned,
    T::Output: ResultData,
{
    fn kind(&self) -> StateKind {
        T::KIND
    }

    fn n(&self) -> u64 {
        Accumulator::n(self)
    }

    fn fold(&mut self, columns: &Columns<'_>, weights: Option<&[f64]>) -> Result<()> {
        let batch = T::batch(columns)?;
        self.fold_batch(batch, weights)
    }

    fn merge(&mut self, other: &dyn Erased) -> Result<()> {
        let other = other.as_any().downcast_ref::<T>().ok_or_else(|| {
            Error::Incompatible(format!("cannot merge into a {}", T::KIND.name()))
        })?;
        crate::Merge::merge(self, other)
    }

    fn finish(&self, options: serde_json::Value) -> Result<Finished> {
        let options: T::Options = serde_json::from_value(options).map_err(|e| {
            Error::invalid(
                "options",
                format!("invalid options of a {} result: {e}", T::KIND.name()),
            )
        })?;
        finished(T::KIND, &Accumulator::finish(self, &options)?)
    }

    fn to_bytes(&self) -> Vec<u8> {
        Accumulator::to_bytes(self)
    }

    fn to_json(&self) -> String {
        Accumulator::to_json(self)
    }

    fn data(&self) -> serde_json::Value {
        // A state's fields are plain numbers and names: serialising them cannot fail.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    fn clone_box(&self) -> Box<dyn Erased> {
        Box::new(self.clone())
    }

    fn same(&self, other: &dyn Erased) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The list of kinds an [`AnyState`] can be: one name per line, in the crate root.
#[macro_export]
#[doc(hidden)]
macro_rules! columnar_states {
    ($($ty:ty),* $(,)?) => {
        /// Make an empty state of `kind` (None: not a columnar kind).
        pub(crate) fn make_columnar(
            kind: $crate::StateKind,
            config: serde_json::Value,
        ) -> Option<$crate::Result<Box<dyn $crate::any_state::ErasedState>>> {
            $(
                if kind == <$ty as $crate::Accumulator>::KIND {
                    return Some($crate::any_state::make::<$ty>(config));
                }
            )*
            None
        }

        /// Read a stored result of a state of `kind` (None: not a columnar kind).
        pub(crate) fn read_finished(
            kind: $crate::StateKind,
            json: &str,
        ) -> Option<$crate::Result<$crate::any_state::Finished>> {
            $(
                if kind == <$ty as $crate::Accumulator>::KIND {
                    return Some($crate::any_state::read_result::<$ty>(json));
                }
            )*
            None
        }

        /// Read a stored state of `kind` (None: not a columnar kind).
        pub(crate) fn read_columnar(
            kind: $crate::StateKind,
            bytes: &[u8],
        ) -> Option<$crate::Result<Box<dyn $crate::any_state::ErasedState>>> {
            $(
                if kind == <$ty as $crate::Accumulator>::KIND {
                    return Some($crate::any_state::read::<$ty>(bytes));
                }
            )*
            None
        }
    };
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::HandlingTally;

    fn talk_acw() -> AnyState {
        AnyState::new("handling_tally", json!({"components": ["talk", "acw"]})).unwrap()
    }

    #[test]
    fn folds_merges_and_stores_like_the_typed_state() {
        let talk = [300.0, 200.0, 400.0];
        let acw = [30.0, 40.0, 50.0];
        let columns = Columns::new(vec![
            ("talk", Column::F64(&talk)),
            ("acw", Column::F64(&acw)),
        ]);
        let mut any = talk_acw();
        any.fold(&columns, None).unwrap();
        let typed = any.downcast_ref::<HandlingTally>().unwrap().clone();
        assert_eq!(any.to_bytes(), Accumulator::to_bytes(&typed));
        assert_eq!(AnyState::from_json(&any.to_json()).unwrap(), any);
        let again = AnyState::from_stored(&Accumulator::to_bytes(&typed)).unwrap();
        any.merge(&again).unwrap();
        assert_eq!(any.n(), 6);
        assert_eq!(any.data()["components"], json!(["talk", "acw"]));
        let r = any.finish(json!({"confidence_level": 0.9})).unwrap();
        assert_eq!(r.value["aht"], json!(340.0));
        let merged = any.downcast_ref::<HandlingTally>().unwrap();
        assert_eq!(r.text, merged.result(0.9).unwrap().to_string());
        assert_eq!(
            r.value,
            serde_json::to_value(merged.result(0.9).unwrap()).unwrap()
        );
    }

    #[test]
    fn bad_kinds_configs_columns_and_options_are_errors() {
        let e = AnyState::new("no_such_state", json!({})).unwrap_err();
        assert!(e.to_string().contains("handling_tally"), "{e}");
        assert!(AnyState::new("nps_tally", json!({})).is_err()); // not made by kind (yet)
        assert!(AnyState::new("handling_tally", json!({"components": ["lunch"]})).is_err());
        assert!(AnyState::new("handling_tally", json!({"parts": ["talk"]})).is_err());
        let mut a = talk_acw();
        let x = [1.0];
        let e = a
            .fold(&Columns::new(vec![("tlak", Column::F64(&x))]), None)
            .unwrap_err();
        assert!(e.to_string().contains("tlak"), "{e}");
        let flags = [true];
        let e = a
            .fold(&Columns::new(vec![("talk", Column::Bool(&flags))]), None)
            .unwrap_err();
        assert!(e.to_string().contains("bool"), "{e}");
        assert_eq!(a.n(), 0);
        assert!(a.finish(json!({"level": 0.9})).is_err());
        assert!(AnyState::from_stored(b"not a state").is_err());
        let nps = Accumulator::to_bytes(&crate::NpsTally::new());
        let e = AnyState::from_stored(&nps).unwrap_err();
        assert!(matches!(e, Error::InvalidState { .. }), "{e}");
        assert!(AnyState::from_stored(&[0u8; 3]).is_err());
    }
}
