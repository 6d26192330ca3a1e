//! Customer satisfaction (CSAT): share satisfied, bottom-box share, net, mean and their intervals.
//!
//! A CSAT question is answered on a 2-, 3-, 5-, 7- or 10-point scale, points 1..=k, higher is better
//! ([`CsatScale`]). Which answers count as *satisfied* is a reporting decision that differs between
//! companies (top box, top-two box, "4 or more"), so it is always stated explicitly with [`Satisfied`] and
//! never guessed.
//!
//! Answers are folded into a mergeable [`CsatTally`]; [`CsatTally::result`] computes a [`CsatResult`],
//! whose methods give intervals; [`compare_csat`] compares two independent samples.
//!
//! Shares get the proportion intervals of [`crate::intervals`] (Wilson 1927; Agresti & Coull 1998;
//! Jeffreys and Clopper–Pearson as in Brown, Cai & DasGupta 2001), differences Newcombe's (1998b)
//! hybrid score interval, and the mean a t interval; with survey weights all of them use the Kish (1965)
//! effective sample size.
//!
//! ```
//! use cx_metrics::csat::{csat, CsatScale, Satisfied};
//! use cx_metrics::{NanPolicy, ProportionMethod};
//! let scale = CsatScale::new(5).unwrap();
//! let answers = [5, 4, 4, 3, 5, 2, 4, 5, 1, 4];
//! let r = csat(&answers, None, scale, Satisfied::TopTwoBox, NanPolicy::Omit).unwrap();
//! assert_eq!(r.n, 10);
//! assert!((r.share_satisfied - 0.7).abs() < 1e-12); // 4s and 5s
//! assert!((r.share_bottom - 0.2).abs() < 1e-12); // 1s and 2s
//! assert!((r.mean - 3.7).abs() < 1e-12);
//! let ci = r.ci(0.95, ProportionMethod::Wilson).unwrap();
//! assert!(ci.contains(r.share_satisfied));
//! ```

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, UndefinedReason};
use crate::intervals::{compare_proportions, Interval, ProportionComparison, ProportionMethod};
use crate::scale::{Direction, NanPolicy, RawValue, Scale};
use crate::state::{Accumulator, Decoder, Encoder, Ratings, StateKind};
use crate::summary::{self, Summary};
use crate::tally::{Merge, ScaleTally};

/// A CSAT answer scale: points 1..=k with k in {2, 3, 5, 7, 10}, higher is better.
///
/// ```
/// use cx_metrics::csat::CsatScale;
/// assert_eq!(CsatScale::new(7).unwrap().points(), 7);
/// assert!(CsatScale::new(4).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct CsatScale(u8);

impl CsatScale {
    /// The supported numbers of points.
    pub const SUPPORTED: [u8; 5] = [2, 3, 5, 7, 10];

    /// The scale 1..=`points`; `points` must be one of [`CsatScale::SUPPORTED`].
    pub fn new(points: u8) -> Result<Self> {
        if Self::SUPPORTED.contains(&points) {
            Ok(Self(points))
        } else {
            Err(Error::invalid(
                "points",
                format!("{points}; CSAT scales have 2, 3, 5, 7 or 10 points (1..=k)"),
            ))
        }
    }

    /// Number of points k.
    pub fn points(self) -> u8 {
        self.0
    }

    /// The rating scale 1..=k, higher is better.
    pub fn scale(self) -> Scale {
        // 1 < k <= 10 always satisfies Scale::new; the fallback is never taken.
        Scale::new(1, i32::from(self.0), Direction::HigherIsBetter).unwrap_or(Scale::NPS)
    }

    /// The points counted as satisfied under `satisfied`, `t..=k`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for [`Satisfied::TopTwoBox`] on a 2-point scale (it would be every
    /// answer) and for [`Satisfied::AtLeast`] with a point off the scale or equal to 1 (every answer).
    pub fn satisfied_points(self, satisfied: Satisfied) -> Result<RangeInclusive<i32>> {
        let k = i32::from(self.0);
        let t = match satisfied {
            Satisfied::TopBox => k,
            Satisfied::TopTwoBox if k == 2 => {
                return Err(Error::invalid(
                    "satisfied",
                    "top_two_box on a 2-point scale would count every answer; use top_box",
                ))
            }
            Satisfied::TopTwoBox => k - 1,
            Satisfied::AtLeast(p) if p <= 1 || p > k => {
                return Err(Error::invalid(
                    "satisfied",
                    format!(
                        "at_least({p}) on the 1..={k} scale; the threshold must be a point from 2 to {k}"
                    ),
                ))
            }
            Satisfied::AtLeast(p) => p,
        };
        Ok(t..=k)
    }

    /// The bottom box mirroring `satisfied`: `1..=b` with `b = min(k + 1 − t, t − 1)`, where `t..=k` are
    /// the satisfied points.
    ///
    /// The bottom box has as many points as the satisfied set, counted from the bottom of the scale
    /// (top box ↔ bottom box, top-two ↔ bottom-two, "t or more" ↔ "k + 1 − t or less"), but never
    /// overlaps it: on a 3-point scale top-two (2–3) mirrors to 1 only, and "3 or more" on a 5-point
    /// scale mirrors to 1–2. It is never empty.
    ///
    /// # Errors
    ///
    /// As [`CsatScale::satisfied_points`].
    pub fn bottom_points(self, satisfied: Satisfied) -> Result<RangeInclusive<i32>> {
        let t = *self.satisfied_points(satisfied)?.start();
        let k = i32::from(self.0);
        Ok(1..=(k + 1 - t).min(t - 1))
    }
}

impl TryFrom<u8> for CsatScale {
    type Error = Error;
    fn try_from(points: u8) -> Result<Self> {
        Self::new(points)
    }
}

impl From<CsatScale> for u8 {
    fn from(s: CsatScale) -> u8 {
        s.0
    }
}

impl fmt::Display for CsatScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1..={}", self.0)
    }
}

/// Which answers count as satisfied. There is no default: the choice is always the caller's.
///
/// Option strings: `"top_box"`, `"top_two_box"`; [`Satisfied::AtLeast`] takes the threshold point
/// (serialised as `{"at_least": 4}`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfied {
    /// Only the highest point k.
    TopBox,
    /// The two highest points, k − 1 and k (not allowed on a 2-point scale).
    TopTwoBox,
    /// Every point at or above the given one (2..=k).
    AtLeast(i32),
}

impl FromStr for Satisfied {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "top_box" => Ok(Self::TopBox),
            "top_two_box" => Ok(Self::TopTwoBox),
            other => Err(Error::invalid(
                "satisfied",
                format!(
                    "{other:?}; use \"top_box\", \"top_two_box\" or a threshold point (at_least)"
                ),
            )),
        }
    }
}

impl fmt::Display for Satisfied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TopBox => f.write_str("top_box"),
            Self::TopTwoBox => f.write_str("top_two_box"),
            Self::AtLeast(p) => write!(f, "at_least({p})"),
        }
    }
}

/// A mergeable CSAT tally: a [`ScaleTally`] on a [`CsatScale`].
///
/// Serialises as the underlying [`ScaleTally`]; deserialising checks that it is on a CSAT scale and
/// internally consistent.
///
/// ```
/// use cx_metrics::csat::{CsatScale, CsatTally, Satisfied};
/// use cx_metrics::{Merge, NanPolicy};
/// let five = CsatScale::new(5).unwrap();
/// let mut a = CsatTally::new(five);
/// a.fold(&[5u8, 4, 3], None, NanPolicy::Omit).unwrap();
/// let mut b = CsatTally::new(five);
/// b.fold(&[1.0, f64::NAN], Some(&[2.0, 1.0]), NanPolicy::Omit).unwrap();
/// a.merge(&b).unwrap();
/// let r = a.result(Satisfied::TopBox).unwrap();
/// assert_eq!((r.n, r.n_omitted), (4, 1));
/// assert!((r.share_satisfied - 0.2).abs() < 1e-12); // weight 1 of 5 on point 5
/// assert!((r.share_bottom - 0.4).abs() < 1e-12); // weight 2 of 5 on point 1
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScaleTally", into = "ScaleTally")]
pub struct CsatTally(ScaleTally);

impl CsatTally {
    /// An empty tally on `scale`.
    pub fn new(scale: CsatScale) -> Self {
        Self(ScaleTally::new(scale.scale()))
    }

    /// Wrap a [`ScaleTally`] that is on a CSAT scale (1..=k, k in {2, 3, 5, 7, 10}, higher is better).
    ///
    /// # Errors
    ///
    /// [`Error::Incompatible`] when the tally is on another scale, [`Error::InvalidState`] when its
    /// counts are inconsistent (see [`ScaleTally::from_parts`]), as a hand-edited serialised tally
    /// can be.
    pub fn from_tally(tally: ScaleTally) -> Result<Self> {
        let s = tally.scale();
        if !on_csat_scale(s) {
            return Err(Error::Incompatible(format!(
                "a tally on {s} ({:?}) is not on a CSAT scale (1..=k, k in 2, 3, 5, 7, 10, \
                 higher is better)",
                s.direction()
            )));
        }
        tally.check(StateKind::CsatTally)?;
        Ok(Self(tally))
    }

    /// Count pre-aggregated answers (see [`ScaleTally::fold_counts`]); on error nothing changes.
    ///
    /// # Errors
    ///
    /// As [`ScaleTally::fold_counts`].
    pub fn fold_counts(
        &mut self,
        values: &[f64],
        rows: &[u64],
        sums: Option<(&[f64], &[f64])>,
        omitted: u64,
    ) -> Result<()> {
        self.0.fold_counts(values, rows, sums, omitted)
    }

    /// The underlying tally.
    pub fn tally(&self) -> &ScaleTally {
        &self.0
    }

    /// The CSAT scale.
    pub fn scale(&self) -> CsatScale {
        // The scale was checked on construction; max is 2..=10.
        CsatScale(self.0.scale().max() as u8)
    }

    /// Fold a slice of raw answers, optionally weighted (see [`ScaleTally::fold`]); on error nothing
    /// changes.
    pub fn fold<T: RawValue>(
        &mut self,
        values: &[T],
        weights: Option<&[f64]>,
        nan_policy: NanPolicy,
    ) -> Result<()> {
        self.0.fold(values, weights, nan_policy)
    }

    /// Count one raw answer with a weight (see [`ScaleTally::push`]).
    pub fn push<T: RawValue>(
        &mut self,
        value: T,
        weight: f64,
        nan_policy: NanPolicy,
    ) -> Result<()> {
        self.0.push(value, weight, nan_policy)
    }

    /// The CSAT figures, counting `satisfied` as satisfied.
    ///
    /// With weights wᵢ on answers xᵢ:
    ///
    /// - `share_satisfied` = Σ{wᵢ : xᵢ satisfied} / Σwᵢ, `share_bottom` likewise on the bottom box
    ///   ([`CsatScale::bottom_points`]), `net` = share_satisfied − share_bottom;
    /// - `mean` = Σwᵢxᵢ / Σwᵢ, `sd`² = Σwᵢ(xᵢ − mean)² / (Σw − Σw²/Σw) (the n − 1 divisor without
    ///   weights), `mean_0_100` = (mean − 1)/(k − 1) · 100;
    /// - `effective_n` = (Σw)²/Σw² (Kish 1965), used by every interval.
    ///
    /// Empty data (no rows, or Σw = 0) gives a result with `undefined` set and NaN figures.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when `satisfied` does not fit the scale.
    pub fn result(&self, satisfied: Satisfied) -> Result<CsatResult> {
        let scale = self.scale();
        let sat = scale.satisfied_points(satisfied)?;
        let bottom = scale.bottom_points(satisfied)?;
        let s = Summary::of(&self.0);
        let share_satisfied = Summary::share(&self.0, sat.clone());
        let share_bottom = Summary::share(&self.0, bottom.clone());
        let k = f64::from(scale.points());
        Ok(CsatResult {
            points: scale.points(),
            satisfied,
            satisfied_points: (*sat.start(), *sat.end()),
            bottom_points: (*bottom.start(), *bottom.end()),
            n: s.n,
            n_omitted: s.n_omitted,
            sum_weights: s.sum_weights,
            effective_n: s.effective_n,
            share_satisfied,
            share_bottom,
            net: share_satisfied - share_bottom,
            mean: s.mean,
            sd: s.sd,
            mean_0_100: (s.mean - 1.0) / (k - 1.0) * 100.0,
            distribution: s.distribution,
            undefined: s.undefined,
        })
    }
}

impl Accumulator for CsatTally {
    const KIND: StateKind = StateKind::CsatTally;
    const VERSION: u16 = crate::tally::TALLY_VERSION;
    type Batch<'a> = Ratings<'a>;
    /// Which answers count as satisfied.
    type Options = Satisfied;
    type Output = CsatResult;

    fn fold_batch(&mut self, batch: Ratings<'_>, weights: Option<&[f64]>) -> Result<()> {
        self.0.fold_batch(batch, weights)
    }
    fn n(&self) -> u64 {
        self.0.n()
    }
    fn finish(&self, satisfied: &Satisfied) -> Result<CsatResult> {
        self.result(*satisfied)
    }
    fn validate(&self) -> Result<()> {
        if !on_csat_scale(self.0.scale()) {
            return Err(Self::KIND.invalid(format!(
                "{} ({:?}) is not a CSAT scale (1..=k, k in 2, 3, 5, 7, 10, higher is better)",
                self.0.scale(),
                self.0.scale().direction()
            )));
        }
        self.0.check(Self::KIND)
    }
    fn encode_payload(&self, out: &mut Encoder) {
        self.0.encode(out);
    }
    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        ScaleTally::decode(input).map(Self)
    }
}

/// Whether `s` is a CSAT scale: 1..=k, k in {2, 3, 5, 7, 10}, higher is better.
fn on_csat_scale(s: Scale) -> bool {
    u8::try_from(s.max())
        .ok()
        .and_then(|k| CsatScale::new(k).ok())
        .is_some_and(|c| c.scale() == s)
}

impl TryFrom<ScaleTally> for CsatTally {
    type Error = Error;
    fn try_from(t: ScaleTally) -> Result<Self> {
        Self::from_tally(t)
    }
}

impl From<CsatTally> for ScaleTally {
    fn from(t: CsatTally) -> ScaleTally {
        t.0
    }
}

impl Merge for CsatTally {
    /// Merge two CSAT tallies; tallies on different scales are [`Error::Incompatible`].
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.0.merge(&other.0)
    }
}

/// CSAT figures of one sample. Plain data; intervals are methods.
///
/// Fields are NaN when `undefined` is set; `sd` is also NaN when only one row carries weight.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsatResult {
    /// Number of scale points k.
    pub points: u8,
    /// The satisfied set asked for.
    pub satisfied: Satisfied,
    /// The satisfied points, `(t, k)` inclusive.
    pub satisfied_points: (i32, i32),
    /// The bottom-box points, `(1, b)` inclusive (see [`CsatScale::bottom_points`]).
    pub bottom_points: (i32, i32),
    /// Rows counted.
    pub n: u64,
    /// Rows omitted as missing.
    pub n_omitted: u64,
    /// Σw over counted rows (= n without weights).
    #[serde(with = "crate::serde_nan")]
    pub sum_weights: f64,
    /// Kish effective sample size (Σw)²/Σw² (= n without weights).
    #[serde(with = "crate::serde_nan")]
    pub effective_n: f64,
    /// Weighted share of satisfied answers, in [0, 1].
    #[serde(with = "crate::serde_nan")]
    pub share_satisfied: f64,
    /// Weighted share of bottom-box answers, in [0, 1].
    #[serde(with = "crate::serde_nan")]
    pub share_bottom: f64,
    /// `share_satisfied − share_bottom`, in [−1, 1].
    #[serde(with = "crate::serde_nan")]
    pub net: f64,
    /// Weighted mean answer, in [1, k].
    #[serde(with = "crate::serde_nan")]
    pub mean: f64,
    /// Weighted standard deviation (n − 1 divisor without weights, reliability-weights correction with).
    #[serde(with = "crate::serde_nan")]
    pub sd: f64,
    /// The mean rescaled to 0–100: (mean − 1)/(k − 1) · 100.
    #[serde(with = "crate::serde_nan")]
    pub mean_0_100: f64,
    /// Weighted share of each point, point 1 first.
    #[serde(with = "crate::serde_nan::vec")]
    pub distribution: Vec<f64>,
    /// Why the figures are undefined, if they are.
    pub undefined: Option<UndefinedReason>,
}

impl CsatResult {
    /// Confidence interval for `share_satisfied` by `method` (see [`crate::intervals::proportion_ci`]).
    ///
    /// With weights the interval is computed on the effective sample: n = `effective_n`,
    /// x = `share_satisfied` · n (the design-effect approach; exact for unit weights).
    ///
    /// # Errors
    ///
    /// [`Error::Undefined`] for undefined data, [`Error::InvalidArgument`] for a bad level.
    pub fn ci(&self, confidence_level: f64, method: ProportionMethod) -> Result<Interval> {
        summary::share_ci(
            self.undefined,
            self.share_satisfied,
            self.effective_n,
            confidence_level,
            method,
        )
    }

    /// Confidence interval for `share_bottom`, as [`CsatResult::ci`].
    ///
    /// # Errors
    ///
    /// As [`CsatResult::ci`].
    pub fn bottom_ci(&self, confidence_level: f64, method: ProportionMethod) -> Result<Interval> {
        summary::share_ci(
            self.undefined,
            self.share_bottom,
            self.effective_n,
            confidence_level,
            method,
        )
    }

    /// t interval for the mean: `mean ± t(1 − α/2; n_eff − 1) · sd/√n_eff` with n_eff = `effective_n`
    /// (= n without weights), clipped to the scale [1, k] with [`Interval::clipped`] set when it was.
    ///
    /// # Errors
    ///
    /// [`Error::Undefined`] for undefined data or when only one row carries weight
    /// ([`UndefinedReason::SingleObservation`]); [`Error::InvalidArgument`] for a bad level.
    pub fn mean_ci(&self, confidence_level: f64) -> Result<Interval> {
        summary::mean_ci(
            self.undefined,
            self.mean,
            self.sd,
            self.effective_n,
            confidence_level,
            (1, i32::from(self.points)),
        )
    }

    /// [`CsatResult::mean_ci`] mapped to the 0–100 rescale: each bound b becomes (b − 1)/(k − 1) · 100.
    ///
    /// # Errors
    ///
    /// As [`CsatResult::mean_ci`].
    pub fn mean_0_100_ci(&self, confidence_level: f64) -> Result<Interval> {
        let ci = self.mean_ci(confidence_level)?;
        let k = f64::from(self.points);
        let to_100 = |b: f64| (b - 1.0) / (k - 1.0) * 100.0;
        Ok(Interval {
            low: to_100(ci.low),
            high: to_100(ci.high),
            ..ci
        })
    }
}

/// The CSAT of one sample from raw answers: fold them into a [`CsatTally`] on `scale` and compute
/// [`CsatTally::result`] with `satisfied`.
///
/// # Errors
///
/// A bad `satisfied` for the scale, invalid answers or weights (see [`ScaleTally::fold`]).
pub fn csat<T: RawValue>(
    values: &[T],
    weights: Option<&[f64]>,
    scale: CsatScale,
    satisfied: Satisfied,
    nan_policy: NanPolicy,
) -> Result<CsatResult> {
    scale.satisfied_points(satisfied)?;
    let mut t = CsatTally::new(scale);
    t.fold(values, weights, nan_policy)?;
    t.result(satisfied)
}

/// Compare the satisfied shares of two independent samples `a − b`: difference, standard errors,
/// pooled z test and Newcombe's hybrid score interval (Newcombe 1998b, method 10), computed on the
/// effective sample sizes (see [`compare_proportions`]).
///
/// # Errors
///
/// [`Error::Incompatible`] when the two results use different scales or satisfied sets,
/// [`Error::Undefined`] when either is undefined, [`Error::InvalidArgument`] for a bad level.
///
/// ```
/// use cx_metrics::csat::{compare_csat, csat, CsatScale, Satisfied};
/// use cx_metrics::NanPolicy;
/// let five = CsatScale::new(5).unwrap();
/// let a = csat(&[5, 5, 4, 4, 4, 3, 5, 4, 2, 5], None, five, Satisfied::TopTwoBox, NanPolicy::Omit).unwrap();
/// let b = csat(&[3, 2, 4, 1, 3, 5, 2, 3, 4, 3], None, five, Satisfied::TopTwoBox, NanPolicy::Omit).unwrap();
/// let c = compare_csat(&a, &b, 0.95).unwrap();
/// assert!((c.difference - 0.5).abs() < 1e-12); // 0.8 − 0.3
/// assert!(c.interval.contains(c.difference));
/// ```
pub fn compare_csat(
    a: &CsatResult,
    b: &CsatResult,
    confidence_level: f64,
) -> Result<ProportionComparison> {
    if a.points != b.points || a.satisfied_points != b.satisfied_points {
        return Err(Error::Incompatible(format!(
            "CSAT results on different definitions: {} points satisfied {:?} vs {} points satisfied {:?}",
            a.points, a.satisfied_points, b.points, b.satisfied_points
        )));
    }
    summary::defined(a.undefined)?;
    summary::defined(b.undefined)?;
    compare_proportions(
        summary::successes(a.share_satisfied, a.effective_n),
        a.effective_n,
        summary::successes(b.share_satisfied, b.effective_n),
        b.effective_n,
        confidence_level,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn five() -> CsatScale {
        CsatScale::new(5).unwrap()
    }

    fn close(got: f64, want: f64) {
        assert!(((got - want) / want).abs() < 1e-12, "{got} vs {want}");
    }

    #[test]
    fn scales_and_satisfied_sets() {
        for k in [0, 1, 4, 6, 8, 11] {
            assert!(matches!(
                CsatScale::new(k),
                Err(Error::InvalidArgument { .. })
            ));
        }
        let s = |k: u8, sat| {
            let c = CsatScale::new(k).unwrap();
            (
                c.satisfied_points(sat).unwrap(),
                c.bottom_points(sat).unwrap(),
            )
        };
        assert_eq!(s(2, Satisfied::TopBox), (2..=2, 1..=1));
        assert_eq!(s(3, Satisfied::TopBox), (3..=3, 1..=1));
        assert_eq!(s(3, Satisfied::TopTwoBox), (2..=3, 1..=1));
        assert_eq!(s(5, Satisfied::TopTwoBox), (4..=5, 1..=2));
        assert_eq!(s(5, Satisfied::AtLeast(3)), (3..=5, 1..=2));
        assert_eq!(s(7, Satisfied::AtLeast(5)), (5..=7, 1..=3));
        assert_eq!(s(10, Satisfied::TopTwoBox), (9..=10, 1..=2));
        assert_eq!(s(10, Satisfied::AtLeast(2)), (2..=10, 1..=1));
        let two = CsatScale::new(2).unwrap();
        assert!(two.satisfied_points(Satisfied::TopTwoBox).is_err());
        for p in [-1, 0, 1, 6] {
            assert!(five().satisfied_points(Satisfied::AtLeast(p)).is_err());
            assert!(five().bottom_points(Satisfied::AtLeast(p)).is_err());
        }
        let t = CsatTally::new(two);
        assert!(matches!(
            t.result(Satisfied::TopTwoBox),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(csat(&[1u8, 2], None, two, Satisfied::TopTwoBox, NanPolicy::Omit).is_err());
        assert_eq!("top_two_box".parse::<Satisfied>(), Ok(Satisfied::TopTwoBox));
        assert_eq!("top_box".parse::<Satisfied>(), Ok(Satisfied::TopBox));
        assert!("top2".parse::<Satisfied>().is_err());
    }

    #[test]
    fn undefined_data_gives_nan_figures_and_interval_errors() {
        let empty = CsatTally::new(five());
        let r = empty.result(Satisfied::TopBox).unwrap();
        assert_eq!(r.undefined, Some(UndefinedReason::NoRows));
        assert!(r.share_satisfied.is_nan() && r.mean.is_nan() && r.net.is_nan());
        assert!(r.mean_0_100.is_nan() && r.sd.is_nan());
        let undefined = Err(Error::Undefined(UndefinedReason::NoRows));
        assert_eq!(r.ci(0.95, ProportionMethod::Wilson), undefined);
        assert_eq!(r.bottom_ci(0.95, ProportionMethod::Jeffreys), undefined);
        assert_eq!(r.mean_ci(0.95), undefined);
        let mut zero = CsatTally::new(five());
        zero.fold(&[3u8, 4], Some(&[0.0, 0.0]), NanPolicy::Omit)
            .unwrap();
        let z = zero.result(Satisfied::TopBox).unwrap();
        assert_eq!(z.undefined, Some(UndefinedReason::ZeroTotalWeight));
        assert_eq!(
            z.ci(0.95, ProportionMethod::Wilson),
            Err(Error::Undefined(UndefinedReason::ZeroTotalWeight))
        );
        let mut one = CsatTally::new(five());
        one.fold(&[4u8, 2], Some(&[0.7, 0.0]), NanPolicy::Omit)
            .unwrap();
        let o = one.result(Satisfied::TopTwoBox).unwrap();
        assert_eq!(o.undefined, None);
        assert_eq!((o.share_satisfied, o.mean, o.effective_n), (1.0, 4.0, 1.0));
        assert!(o.sd.is_nan());
        assert_eq!(
            o.mean_ci(0.95),
            Err(Error::Undefined(UndefinedReason::SingleObservation))
        );
        assert!(o.ci(0.95, ProportionMethod::ClopperPearson).is_ok());
        assert!(matches!(
            compare_csat(&r, &o, 0.95),
            Err(Error::Incompatible(_))
        ));
        let r2 = empty.result(Satisfied::TopTwoBox).unwrap();
        assert_eq!(
            compare_csat(&r2, &o, 0.95).err(),
            Some(Error::Undefined(UndefinedReason::NoRows))
        );
        assert!(matches!(
            o.ci(1.5, ProportionMethod::Wilson),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(matches!(o.mean_ci(0.0), Err(Error::InvalidArgument { .. })));
    }

    #[test]
    fn weighted_figures_match_numpy_and_statsmodels() {
        // numpy 2.4.6: np.average(x, weights=w), sqrt(np.cov(x, aweights=w, ddof=1)), Kish n_eff;
        // scipy 1.17.1 t.isf(0.025, n_eff - 1); statsmodels 0.15.0
        // proportion_confint(p * n_eff, n_eff, 0.05, method=...).
        let x = [5u8, 4, 4, 3, 5, 2, 1, 4, 5, 3];
        let w = [1.5, 0.5, 2.0, 1.0, 1.0, 0.25, 3.0, 1.0, 2.0, 0.75];
        let r = csat(&x, Some(&w), five(), Satisfied::TopTwoBox, NanPolicy::Omit).unwrap();
        close(r.mean, 3.480769230769231);
        close(r.sd, 1.6552738287539221);
        close(r.effective_n, 7.308108108108108);
        close(r.share_satisfied, 0.6153846153846154);
        close(r.share_bottom, 0.25);
        close(r.sum_weights, 13.0);
        let ci = r.mean_ci(0.95).unwrap();
        close(ci.low, 2.000075778146085);
        close(ci.high, 4.9614626833923765);
        let ci = r.mean_0_100_ci(0.95).unwrap();
        close(ci.low, (2.000075778146085 - 1.0) / 4.0 * 100.0);
        close(ci.high, (4.9614626833923765 - 1.0) / 4.0 * 100.0);
        for (m, lo, hi) in [
            (
                ProportionMethod::Wilson,
                0.287310741076983,
                0.863949527349215,
            ),
            (
                ProportionMethod::AgrestiCoull,
                0.28551985244807354,
                0.8657404159781246,
            ),
            (
                ProportionMethod::Jeffreys,
                0.2742925629099757,
                0.8828081293059967,
            ),
            (
                ProportionMethod::ClopperPearson,
                0.22195665346169957,
                0.9186617091466369,
            ),
        ] {
            let ci = r.ci(0.95, m).unwrap();
            close(ci.low, lo);
            close(ci.high, hi);
        }
    }

    #[test]
    fn mean_interval_is_clipped_to_the_scale() {
        let r = csat(&[1u8, 5], None, five(), Satisfied::TopBox, NanPolicy::Omit).unwrap();
        let ci = r.mean_ci(0.95).unwrap();
        assert_eq!((ci.low, ci.high, ci.clipped), (1.0, 5.0, true));
    }

    #[test]
    fn merge_and_serde_check_scales() {
        let mut a = CsatTally::new(five());
        a.fold(&[5u8, 1, 3], None, NanPolicy::Omit).unwrap();
        let b = CsatTally::new(CsatScale::new(7).unwrap());
        assert!(matches!(a.merge(&b), Err(Error::Incompatible(_))));
        let json = serde_json::to_string(&a).unwrap();
        let back: CsatTally = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        let r = a.result(Satisfied::AtLeast(3)).unwrap();
        let back: CsatResult = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        // A tally on a non-CSAT scale, or with counts that do not fit its scale, is refused.
        let lower = ScaleTally::new(Scale::new(1, 5, Direction::LowerIsBetter).unwrap());
        assert!(CsatTally::from_tally(lower).is_err());
        let four = ScaleTally::new(Scale::new(1, 4, Direction::HigherIsBetter).unwrap());
        assert!(CsatTally::from_tally(four).is_err());
        assert!(json.contains("\"rows\":[1,0,1,0,1]") && json.contains("\"weight\":[1.0,"));
        let short = json.replacen("[1,0,1,0,1]", "[1,0,1]", 1);
        assert!(serde_json::from_str::<CsatTally>(&short).is_err());
        let negative = json.replacen("\"weight\":[1.0,", "\"weight\":[-1.0,", 1);
        assert!(serde_json::from_str::<CsatTally>(&negative).is_err());
        assert!(serde_json::from_str::<CsatScale>("4").is_err());
    }
}
