//! Rating scales and typed ratings: validation happens here, once, at the edge.
//!
//! Raw numbers (integers, or floats that hold whole numbers) become scale points through
//! [`Scale::point`]; anything else is a typed [`Error`] naming the position and the value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which end of a scale is the good one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher points are better (NPS, CSAT, CES 2.0).
    HigherIsBetter,
    /// Lower points are better (CES 1.0: 1 = very low effort).
    LowerIsBetter,
}

/// An inclusive integer rating scale with a direction.
///
/// ```
/// use cx_metrics::{Direction, Scale};
/// let s = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
/// assert_eq!(s.points(), 5);
/// assert_eq!(s.point(4.0, 0).unwrap(), 4);
/// assert!(s.point(6.0, 3).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scale {
    min: i32,
    max: i32,
    direction: Direction,
}

/// The largest number of points a scale may have (keeps tallies small and dense).
pub const MAX_SCALE_POINTS: usize = 1001;

impl Scale {
    /// A scale from `min` to `max` inclusive; needs `min < max` and at most [`MAX_SCALE_POINTS`] points.
    pub fn new(min: i32, max: i32, direction: Direction) -> Result<Self> {
        if min >= max {
            return Err(Error::invalid(
                "scale",
                format!("min ({min}) must be below max ({max})"),
            ));
        }
        if (i64::from(max) - i64::from(min) + 1) as usize > MAX_SCALE_POINTS {
            return Err(Error::invalid(
                "scale",
                format!("{min}..={max} has more than {MAX_SCALE_POINTS} points"),
            ));
        }
        Ok(Self {
            min,
            max,
            direction,
        })
    }

    /// The 0–10 likelihood-to-recommend scale.
    pub const NPS: Scale = Scale {
        min: 0,
        max: 10,
        direction: Direction::HigherIsBetter,
    };

    /// Lowest point.
    pub fn min(&self) -> i32 {
        self.min
    }
    /// Highest point.
    pub fn max(&self) -> i32 {
        self.max
    }
    /// Which end is better.
    pub fn direction(&self) -> Direction {
        self.direction
    }
    /// Number of points on the scale.
    pub fn points(&self) -> usize {
        (self.max - self.min + 1) as usize
    }
    /// Zero-based slot of a valid point (`point - min`).
    pub fn slot(&self, point: i32) -> usize {
        (point - self.min) as usize
    }
    /// Whether `point` lies on the scale.
    pub fn contains(&self, point: i32) -> bool {
        (self.min..=self.max).contains(&point)
    }

    /// Validate one raw value at position `index`: a whole number on the scale, or a typed error.
    ///
    /// NaN is reported as [`Error::Missing`]; callers that omit missing values check
    /// [`RawValue::is_missing`] first.
    pub fn point(&self, value: f64, index: usize) -> Result<i32> {
        if value.is_nan() {
            return Err(Error::Missing { index });
        }
        if value.is_infinite() {
            return Err(Error::NonFinite { index, value });
        }
        if value.fract() != 0.0 {
            return Err(Error::NotIntegral { index, value });
        }
        if value < f64::from(self.min) || value > f64::from(self.max) {
            return Err(self.out_of_range(index, value));
        }
        Ok(value as i32)
    }

    /// The out-of-range error for this scale.
    pub fn out_of_range(&self, index: usize, value: f64) -> Error {
        Error::OutOfRange {
            index,
            value,
            min: self.min,
            max: self.max,
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.min, self.max)
    }
}

/// What to do with missing values (NaN / None), with scipy's spelling.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NanPolicy {
    /// Skip them, and count them in `n_omitted` (the default).
    #[default]
    Omit,
    /// Fail with [`Error::Missing`] naming the first one.
    Raise,
}

impl FromStr for NanPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "omit" => Ok(Self::Omit),
            "raise" => Ok(Self::Raise),
            other => Err(Error::invalid(
                "nan_policy",
                format!("{other:?}; use \"omit\" or \"raise\""),
            )),
        }
    }
}

/// A raw input element that can be turned into a scale point.
///
/// Implemented for every primitive integer and float type, and for `Option<T>` (where `None` is missing).
pub trait RawValue: Copy + Send + Sync + PartialEq {
    /// Slices of this type are counted by comparing every value with each scale point (a vectorised
    /// kernel): integers of at most 16 bits and floats. Wider integers go through a histogram, which
    /// is faster for them.
    const COMPARE: bool = false;
    /// Integers of any width: [`RawValue::as_i64`] is exact and cheap for them.
    const INTEGER: bool = false;
    /// Whether the value is missing (NaN for floats, `None` for options; never for integers).
    fn is_missing(self) -> bool;
    /// The value as `f64` (for messages and generic validation).
    fn as_f64(self) -> f64;
    /// The value as an integer when it is exactly one, without going through `f64`.
    fn as_i64(self) -> Option<i64>;
    /// The scale point `p` as a value of this type, where the type can hold it (used by the
    /// comparison kernel of [`RawValue::COMPARE`] types; `None` otherwise).
    fn from_point(p: i32) -> Option<Self> {
        let _ = p;
        None
    }
}

macro_rules! raw_int {
    ($($t:ty),*) => {$(
        impl RawValue for $t {
            const INTEGER: bool = true;
            #[inline]
            fn is_missing(self) -> bool { false }
            #[inline]
            fn as_f64(self) -> f64 { self as f64 }
            #[inline]
            fn as_i64(self) -> Option<i64> { i64::try_from(self).ok() }
        }
    )*};
}
raw_int!(i32, i64, u32, u64);

macro_rules! raw_narrow_int {
    ($($t:ty),*) => {$(
        impl RawValue for $t {
            const COMPARE: bool = true;
            const INTEGER: bool = true;
            #[inline]
            fn is_missing(self) -> bool { false }
            #[inline]
            fn as_f64(self) -> f64 { f64::from(self) }
            #[inline]
            fn as_i64(self) -> Option<i64> { Some(i64::from(self)) }
            #[inline]
            fn from_point(p: i32) -> Option<Self> { Self::try_from(p).ok() }
        }
    )*};
}
raw_narrow_int!(i8, i16, u8, u16);

macro_rules! raw_float {
    ($($t:ty),*) => {$(
        impl RawValue for $t {
            const COMPARE: bool = true;
            #[inline]
            fn from_point(p: i32) -> Option<Self> { Some(p as $t) }
            #[inline]
            fn is_missing(self) -> bool { self.is_nan() }
            #[inline]
            fn as_f64(self) -> f64 { f64::from(self) }
            #[inline]
            fn as_i64(self) -> Option<i64> {
                let v = f64::from(self);
                (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
            }
        }
    )*};
}
raw_float!(f32, f64);

impl<T: RawValue> RawValue for Option<T> {
    #[inline]
    fn is_missing(self) -> bool {
        self.is_none_or(|v| v.is_missing())
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self.map_or(f64::NAN, RawValue::as_f64)
    }
    #[inline]
    fn as_i64(self) -> Option<i64> {
        self.and_then(RawValue::as_i64)
    }
}

impl Scale {
    /// Validate a raw value of any [`RawValue`] type (not missing) at position `index`.
    #[inline]
    pub fn point_of<T: RawValue>(&self, value: T, index: usize) -> Result<i32> {
        match value.as_i64() {
            Some(v) if v >= i64::from(self.min) && v <= i64::from(self.max) => Ok(v as i32),
            _ => self.point(value.as_f64(), index),
        }
    }
}

/// The three NPS categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NpsCategory {
    /// 0–6.
    Detractor,
    /// 7–8.
    Passive,
    /// 9–10.
    Promoter,
}

impl NpsCategory {
    /// The category of a 0–10 point (points above 10 count as promoters; validate first).
    #[inline]
    pub fn of(point: u8) -> Self {
        match point {
            0..=6 => Self::Detractor,
            7 | 8 => Self::Passive,
            _ => Self::Promoter,
        }
    }
    /// Score contribution: −1, 0 or +1.
    pub fn sign(self) -> f64 {
        match self {
            Self::Detractor => -1.0,
            Self::Passive => 0.0,
            Self::Promoter => 1.0,
        }
    }
    /// snake_case id.
    pub fn id(self) -> &'static str {
        match self {
            Self::Detractor => "detractor",
            Self::Passive => "passive",
            Self::Promoter => "promoter",
        }
    }
}

impl fmt::Display for NpsCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A validated answer to the 0–10 "how likely are you to recommend" question.
///
/// ```
/// use cx_metrics::{NpsCategory, NpsRating};
/// let r = NpsRating::new(9).unwrap();
/// assert_eq!(r.category(), NpsCategory::Promoter);
/// assert!(NpsRating::new(11).is_err());
/// assert!(NpsRating::try_from(6.5).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct NpsRating(u8);

impl NpsRating {
    /// A rating from an integer in 0..=10.
    pub fn new(value: i64) -> Result<Self> {
        if (0..=10).contains(&value) {
            Ok(Self(value as u8))
        } else {
            Err(Scale::NPS.out_of_range(0, value as f64))
        }
    }
    /// The point, 0..=10.
    pub fn value(self) -> u8 {
        self.0
    }
    /// Detractor, passive or promoter.
    pub fn category(self) -> NpsCategory {
        NpsCategory::of(self.0)
    }
}

impl TryFrom<u8> for NpsRating {
    type Error = Error;
    fn try_from(v: u8) -> Result<Self> {
        Self::new(i64::from(v))
    }
}

impl TryFrom<f64> for NpsRating {
    type Error = Error;
    fn try_from(v: f64) -> Result<Self> {
        Scale::NPS.point(v, 0).map(|p| Self(p as u8))
    }
}

impl From<NpsRating> for u8 {
    fn from(r: NpsRating) -> u8 {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_rejects_bad_values_with_position() {
        let s = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
        assert_eq!(
            s.point(6.0, 7),
            Err(Error::OutOfRange {
                index: 7,
                value: 6.0,
                min: 1,
                max: 5
            })
        );
        assert_eq!(
            s.point(2.5, 1),
            Err(Error::NotIntegral {
                index: 1,
                value: 2.5
            })
        );
        assert!(matches!(
            s.point(f64::INFINITY, 2),
            Err(Error::NonFinite { index: 2, .. })
        ));
        assert_eq!(s.point(f64::NAN, 3), Err(Error::Missing { index: 3 }));
        assert_eq!(s.point_of(-1i64, 4), Err(s.out_of_range(4, -1.0)));
        assert_eq!(
            s.point_of(u64::MAX, 5),
            Err(s.out_of_range(5, u64::MAX as f64))
        );
        assert_eq!(s.point_of(Some(3u8), 0), Ok(3));
        assert!(Scale::new(3, 3, Direction::HigherIsBetter).is_err());
    }

    #[test]
    fn nps_categories() {
        let cats: Vec<_> = (0..=10).map(NpsCategory::of).collect();
        assert_eq!(cats[6], NpsCategory::Detractor);
        assert_eq!(cats[7], NpsCategory::Passive);
        assert_eq!(cats[8], NpsCategory::Passive);
        assert_eq!(cats[9], NpsCategory::Promoter);
        assert!(NpsRating::try_from(-1.0).is_err());
        assert!(NpsRating::try_from(f64::NEG_INFINITY).is_err());
        assert_eq!("omit".parse::<NanPolicy>(), Ok(NanPolicy::Omit));
        assert!("drop".parse::<NanPolicy>().is_err());
    }
}
