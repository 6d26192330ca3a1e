//! Customer Effort Score (CES): mean effort, share agreeing ("easy"), share disagreeing, net, and their
//! intervals, for the two versions of the question, kept apart by the type system.
//!
//! - **CES 2.0** ([`Ces2`]): "The company made it easy for me to handle my issue", 1–7 agreement,
//!   higher is better. Agree = 5–7, neutral = 4, disagree = 1–3.
//! - **CES 1.0** ([`Ces1`]): "How much effort did you personally have to put forth to handle your
//!   request?", 1 (very low effort) to 5 (very high effort), *lower* is better. Low effort 1–2 counts on
//!   the agree ("easy") side, 3 is neutral, high effort 4–5 is the disagree (negative) side. The mean
//!   stays on the native 1–5 scale, so for CES 1.0 a lower mean is better.
//!
//! The two scales measure different things on different scales; a [`CesTally<Ces2>`] cannot be
//! merged with a [`CesTally<Ces1>`], nor a [`CesResult<Ces2>`] compared with a [`CesResult<Ces1>`]:
//! the compiler rejects it.
//!
//! Shares get the proportion intervals of [`crate::intervals`] (Wilson 1927; Agresti & Coull 1998;
//! Brown, Cai & DasGupta 2001), comparisons Newcombe's (1998b) hybrid score interval, the mean a t
//! interval; with survey weights all use the Kish (1965) effective sample size. CES 1.0 (1–5 effort)
//! is the question of Dixon, Freeman & Toman (2010), "Stop trying to delight your customers",
//! *Harvard Business Review*; CES 2.0 (1–7 agreement) that of Dixon, Toman & DeLisi (2013),
//! *The Effortless Experience*.
//!
//! ```compile_fail
//! use cx_metrics::{Ces1Tally, Ces2Tally, Merge};
//! let mut a = Ces2Tally::new();
//! let b = Ces1Tally::new();
//! a.merge(&b).unwrap(); // error: expected `CesTally<Ces2>`, found `CesTally<Ces1>`
//! ```
//!
//! ```
//! use cx_metrics::{ces2, NanPolicy, ProportionMethod};
//! let r = ces2(&[7, 6, 5, 5, 4, 2, 6, 7, 3, 5], None, NanPolicy::Omit).unwrap();
//! assert!((r.share_agree - 0.7).abs() < 1e-12); // 5, 6, 7
//! assert!((r.share_disagree - 0.2).abs() < 1e-12); // 1, 2, 3
//! assert!((r.net - 0.5).abs() < 1e-12);
//! assert!((r.mean - 5.0).abs() < 1e-12);
//! assert!(r.ci(0.95, ProportionMethod::Wilson).unwrap().contains(r.share_agree));
//! assert!(r.mean_ci(0.95).unwrap().contains(r.mean));
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result, UndefinedReason};
use crate::intervals::{compare_proportions, Interval, ProportionComparison, ProportionMethod};
use crate::scale::{Direction, NanPolicy, RawValue, Scale};
use crate::state::{Accumulator, Decoder, Encoder, Ratings, StateKind};
use crate::summary::{self, Summary};
use crate::tally::{Merge, ScaleTally};

mod sealed {
    pub trait Sealed {}
}

/// A version of the CES question: its scale and which points count as agree, neutral and disagree.
///
/// Sealed: implemented by [`Ces2`] and [`Ces1`] only.
pub trait CesVersion:
    sealed::Sealed
    + Copy
    + Default
    + fmt::Debug
    + PartialEq
    + Send
    + Sync
    + Serialize
    + DeserializeOwned
    + 'static
{
    /// The version's id, also its serialised form: `"ces2"` or `"ces1"`.
    const ID: &'static str;
    /// Highest scale point (the lowest is 1).
    const MAX: i32;
    /// Which end of the scale is good.
    const DIRECTION: Direction;
    /// Points on the agree ("easy", low-effort) side, inclusive.
    const AGREE: (i32, i32);
    /// The neutral points, inclusive.
    const NEUTRAL: (i32, i32);
    /// Points on the disagree (high-effort) side, inclusive.
    const DISAGREE: (i32, i32);
    /// The kind of this version's serialised tally.
    const KIND: StateKind;

    /// The answer scale 1..=MAX.
    fn scale() -> Scale {
        // 1 < MAX <= 7: Scale::new cannot fail; the fallback is never taken.
        Scale::new(1, Self::MAX, Self::DIRECTION).unwrap_or(Scale::NPS)
    }
}

/// CES 2.0: 1–7 agreement with "the company made it easy for me", higher is better; agree 5–7, neutral
/// 4, disagree 1–3. Serialised as `"ces2"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ces2;

/// CES 1.0: 1–5 effort, lower is better; low effort 1–2 is the agree ("easy") side, 3 neutral, high
/// effort 4–5 the disagree side. Serialised as `"ces1"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ces1;

impl sealed::Sealed for Ces2 {}
impl sealed::Sealed for Ces1 {}

impl CesVersion for Ces2 {
    const ID: &'static str = "ces2";
    const MAX: i32 = 7;
    const DIRECTION: Direction = Direction::HigherIsBetter;
    const AGREE: (i32, i32) = (5, 7);
    const NEUTRAL: (i32, i32) = (4, 4);
    const DISAGREE: (i32, i32) = (1, 3);
    const KIND: StateKind = StateKind::Ces2Tally;
}

impl CesVersion for Ces1 {
    const ID: &'static str = "ces1";
    const MAX: i32 = 5;
    const DIRECTION: Direction = Direction::LowerIsBetter;
    const AGREE: (i32, i32) = (1, 2);
    const NEUTRAL: (i32, i32) = (3, 3);
    const DISAGREE: (i32, i32) = (4, 5);
    const KIND: StateKind = StateKind::Ces1Tally;
}

macro_rules! version_serde {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(<$t as CesVersion>::ID)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let id = String::deserialize(d)?;
                if id == <$t as CesVersion>::ID {
                    Ok(Self)
                } else {
                    Err(serde::de::Error::custom(format!(
                        "expected CES version {:?}, found {id:?}",
                        <$t as CesVersion>::ID
                    )))
                }
            }
        }
    )*};
}
version_serde!(Ces2, Ces1);

fn range((lo, hi): (i32, i32)) -> std::ops::RangeInclusive<i32> {
    lo..=hi
}

/// A mergeable CES tally of one version `V`.
///
/// Serialises as the underlying [`ScaleTally`] (whose scale, 1..=7 higher-is-better or 1..=5
/// lower-is-better, identifies the version); deserialising checks it.
///
/// ```
/// use cx_metrics::{Ces1Tally, Merge, NanPolicy};
/// let mut a = Ces1Tally::new();
/// a.fold(&[1u8, 2, 5], None, NanPolicy::Omit).unwrap();
/// let mut b = Ces1Tally::new();
/// b.fold(&[3.0, f64::NAN], None, NanPolicy::Omit).unwrap();
/// a.merge(&b).unwrap();
/// let r = a.result();
/// assert_eq!((r.n, r.n_omitted), (4, 1));
/// assert!((r.share_agree - 0.5).abs() < 1e-12); // low effort: 1 and 2
/// assert!((r.share_disagree - 0.25).abs() < 1e-12); // high effort: 5
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScaleTally", into = "ScaleTally", bound = "")]
pub struct CesTally<V: CesVersion> {
    tally: ScaleTally,
    version: PhantomData<V>,
}

/// A CES 2.0 tally (1–7 agreement).
pub type Ces2Tally = CesTally<Ces2>;
/// A CES 1.0 tally (1–5 effort).
pub type Ces1Tally = CesTally<Ces1>;

impl<V: CesVersion> Default for CesTally<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: CesVersion> CesTally<V> {
    /// An empty tally.
    pub fn new() -> Self {
        Self {
            tally: ScaleTally::new(V::scale()),
            version: PhantomData,
        }
    }

    /// Wrap a [`ScaleTally`] on this version's scale.
    ///
    /// # Errors
    ///
    /// [`Error::Incompatible`] when the tally is on another scale, [`Error::InvalidState`] when its
    /// counts are inconsistent.
    pub fn from_tally(tally: ScaleTally) -> Result<Self> {
        if tally.scale() != V::scale() {
            return Err(Error::Incompatible(format!(
                "a tally on {} ({:?}) is not a {} tally ({} {:?})",
                tally.scale(),
                tally.scale().direction(),
                V::ID,
                V::scale(),
                V::DIRECTION
            )));
        }
        tally.check(V::KIND)?;
        Ok(Self {
            tally,
            version: PhantomData,
        })
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
        self.tally.fold_counts(values, rows, sums, omitted)
    }

    /// The underlying tally.
    pub fn tally(&self) -> &ScaleTally {
        &self.tally
    }

    /// Fold a slice of raw answers, optionally weighted (see [`ScaleTally::fold`]); on error nothing
    /// changes.
    pub fn fold<T: RawValue>(
        &mut self,
        values: &[T],
        weights: Option<&[f64]>,
        nan_policy: NanPolicy,
    ) -> Result<()> {
        self.tally.fold(values, weights, nan_policy)
    }

    /// Count one raw answer with a weight (see [`ScaleTally::push`]).
    pub fn push<T: RawValue>(
        &mut self,
        value: T,
        weight: f64,
        nan_policy: NanPolicy,
    ) -> Result<()> {
        self.tally.push(value, weight, nan_policy)
    }

    /// The CES figures.
    ///
    /// With weights wᵢ on answers xᵢ: `share_agree` = Σ{wᵢ : xᵢ in AGREE}/Σwᵢ (likewise neutral and
    /// disagree), `net` = share_agree − share_disagree, `mean` = Σwᵢxᵢ/Σwᵢ, `sd`² =
    /// Σwᵢ(xᵢ − mean)²/(Σw − Σw²/Σw) (the n − 1 divisor without weights), `effective_n` = (Σw)²/Σw².
    /// Empty data (no rows, or Σw = 0) gives `undefined` set and NaN figures.
    pub fn result(&self) -> CesResult<V> {
        let s = Summary::of(&self.tally);
        let share_agree = Summary::share(&self.tally, range(V::AGREE));
        let share_disagree = Summary::share(&self.tally, range(V::DISAGREE));
        CesResult {
            version: V::default(),
            n: s.n,
            n_omitted: s.n_omitted,
            sum_weights: s.sum_weights,
            effective_n: s.effective_n,
            mean: s.mean,
            sd: s.sd,
            share_agree,
            share_neutral: Summary::share(&self.tally, range(V::NEUTRAL)),
            share_disagree,
            net: share_agree - share_disagree,
            distribution: s.distribution,
            undefined: s.undefined,
        }
    }
}

impl<V: CesVersion> Accumulator for CesTally<V> {
    const KIND: StateKind = V::KIND;
    const VERSION: u16 = crate::tally::TALLY_VERSION;
    type Batch<'a> = Ratings<'a>;
    type Options = ();
    type Output = CesResult<V>;

    fn fold_batch(&mut self, batch: Ratings<'_>, weights: Option<&[f64]>) -> Result<()> {
        self.tally.fold_batch(batch, weights)
    }
    fn n(&self) -> u64 {
        self.tally.n()
    }
    fn finish(&self, _: &()) -> Result<CesResult<V>> {
        Ok(self.result())
    }
    fn validate(&self) -> Result<()> {
        if self.tally.scale() != V::scale() {
            return Err(Self::KIND.invalid(format!(
                "a {} tally is on {} ({:?}), not {} ({:?})",
                V::ID,
                V::scale(),
                V::DIRECTION,
                self.tally.scale(),
                self.tally.scale().direction()
            )));
        }
        self.tally.check(Self::KIND)
    }
    fn encode_payload(&self, out: &mut Encoder) {
        self.tally.encode(out);
    }
    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        Ok(Self {
            tally: ScaleTally::decode(input)?,
            version: PhantomData,
        })
    }
}

impl<V: CesVersion> TryFrom<ScaleTally> for CesTally<V> {
    type Error = Error;
    fn try_from(t: ScaleTally) -> Result<Self> {
        Self::from_tally(t)
    }
}

impl<V: CesVersion> From<CesTally<V>> for ScaleTally {
    fn from(t: CesTally<V>) -> ScaleTally {
        t.tally
    }
}

impl<V: CesVersion> Merge for CesTally<V> {
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.tally.merge(&other.tally)
    }
}

/// CES figures of one sample of version `V`. Plain data; intervals are methods.
///
/// Fields are NaN when `undefined` is set; `sd` is also NaN when only one row carries weight.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct CesResult<V: CesVersion> {
    /// The version (serialised as `"ces2"` or `"ces1"`; deserialising checks it).
    pub version: V,
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
    /// Weighted mean answer on the native scale (CES 1.0: lower is better).
    #[serde(with = "crate::serde_nan")]
    pub mean: f64,
    /// Weighted standard deviation (n − 1 divisor without weights, reliability-weights correction with).
    #[serde(with = "crate::serde_nan")]
    pub sd: f64,
    /// Weighted share on the agree / low-effort side.
    #[serde(with = "crate::serde_nan")]
    pub share_agree: f64,
    /// Weighted share of neutral answers.
    #[serde(with = "crate::serde_nan")]
    pub share_neutral: f64,
    /// Weighted share on the disagree / high-effort side.
    #[serde(with = "crate::serde_nan")]
    pub share_disagree: f64,
    /// `share_agree − share_disagree`, in [−1, 1].
    #[serde(with = "crate::serde_nan")]
    pub net: f64,
    /// Weighted share of each point, point 1 first.
    #[serde(with = "crate::serde_nan::vec")]
    pub distribution: Vec<f64>,
    /// Why the figures are undefined, if they are.
    pub undefined: Option<UndefinedReason>,
}

impl<V: CesVersion> CesResult<V> {
    /// Confidence interval for `share_agree` by `method`, on the effective sample
    /// (n = `effective_n`, x = `share_agree` · n; exact for unit weights).
    ///
    /// # Errors
    ///
    /// [`Error::Undefined`] for undefined data, [`Error::InvalidArgument`] for a bad level.
    pub fn ci(&self, confidence_level: f64, method: ProportionMethod) -> Result<Interval> {
        summary::share_ci(
            self.undefined,
            self.share_agree,
            self.effective_n,
            confidence_level,
            method,
        )
    }

    /// Confidence interval for `share_disagree`, as [`CesResult::ci`].
    ///
    /// # Errors
    ///
    /// As [`CesResult::ci`].
    pub fn disagree_ci(&self, confidence_level: f64, method: ProportionMethod) -> Result<Interval> {
        summary::share_ci(
            self.undefined,
            self.share_disagree,
            self.effective_n,
            confidence_level,
            method,
        )
    }

    /// t interval for the mean, `mean ± t(1 − α/2; n_eff − 1) · sd/√n_eff` on the effective sample,
    /// clipped to the scale [1, MAX] with [`Interval::clipped`] set when it was.
    ///
    /// # Errors
    ///
    /// [`Error::Undefined`] for undefined data or when only one row carries weight;
    /// [`Error::InvalidArgument`] for a bad level.
    pub fn mean_ci(&self, confidence_level: f64) -> Result<Interval> {
        summary::mean_ci(
            self.undefined,
            self.mean,
            self.sd,
            self.effective_n,
            confidence_level,
            (1, V::MAX),
        )
    }
}

fn ces<V: CesVersion>(
    values: &[impl RawValue],
    weights: Option<&[f64]>,
    nan_policy: NanPolicy,
) -> Result<CesResult<V>> {
    let mut t = CesTally::<V>::new();
    t.fold(values, weights, nan_policy)?;
    Ok(t.result())
}

/// CES 2.0 figures from raw 1–7 answers (see [`CesTally::result`]).
///
/// # Errors
///
/// Invalid answers or weights (see [`ScaleTally::fold`]).
pub fn ces2<T: RawValue>(
    values: &[T],
    weights: Option<&[f64]>,
    nan_policy: NanPolicy,
) -> Result<CesResult<Ces2>> {
    ces::<Ces2>(values, weights, nan_policy)
}

/// CES 1.0 figures from raw 1–5 effort answers (see [`CesTally::result`]).
///
/// # Errors
///
/// Invalid answers or weights (see [`ScaleTally::fold`]).
pub fn ces1<T: RawValue>(
    values: &[T],
    weights: Option<&[f64]>,
    nan_policy: NanPolicy,
) -> Result<CesResult<Ces1>> {
    ces::<Ces1>(values, weights, nan_policy)
}

/// Compare the agree shares of two independent samples of the same CES version, `a − b`:
/// difference, standard errors, pooled z test and Newcombe's hybrid score interval (Newcombe 1998b,
/// method 10), on the effective sample sizes (see [`compare_proportions`]).
///
/// # Errors
///
/// [`Error::Undefined`] when either result is undefined, [`Error::InvalidArgument`] for a bad level.
///
/// ```
/// use cx_metrics::{ces2, compare_ces, NanPolicy};
/// let a = ces2(&[7, 6, 6, 5, 7, 4, 6, 5], None, NanPolicy::Omit).unwrap();
/// let b = ces2(&[2, 4, 5, 3, 6, 1, 4, 3], None, NanPolicy::Omit).unwrap();
/// let c = compare_ces(&a, &b, 0.95).unwrap();
/// assert!((c.difference - (7.0 / 8.0 - 2.0 / 8.0)).abs() < 1e-12);
/// assert!(c.interval.low > 0.0);
/// ```
pub fn compare_ces<V: CesVersion>(
    a: &CesResult<V>,
    b: &CesResult<V>,
    confidence_level: f64,
) -> Result<ProportionComparison> {
    summary::defined(a.undefined)?;
    summary::defined(b.undefined)?;
    compare_proportions(
        summary::successes(a.share_agree, a.effective_n),
        a.effective_n,
        summary::successes(b.share_agree, b.effective_n),
        b.effective_n,
        confidence_level,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64) {
        assert!(((got - want) / want).abs() < 1e-12, "{got} vs {want}");
    }

    #[test]
    fn ces1_is_lower_is_better_with_low_effort_as_agree() {
        // numpy 2.4.6 mean / std(ddof=1), scipy 1.17.1 t.isf(0.05, 9), statsmodels 0.15.0
        // proportion_confint(6, 10, 0.1, "wilson") and proportion_confint(2, 10, 0.1, "beta").
        let r = ces1(&[1u8, 2, 2, 3, 4, 5, 1, 1, 2, 3], None, NanPolicy::Raise).unwrap();
        assert_eq!(Ces1::scale().direction(), Direction::LowerIsBetter);
        close(r.share_agree, 0.6);
        close(r.share_neutral, 0.2);
        close(r.share_disagree, 0.2);
        close(r.net, 0.4);
        close(r.mean, 2.4);
        close(r.sd, 1.3498971154211057);
        let ci = r.mean_ci(0.9).unwrap();
        close(ci.low, 1.6174900100638157);
        close(ci.high, 3.182509989936184);
        let ci = r.ci(0.9, ProportionMethod::Wilson).unwrap();
        close(ci.low, 0.3516385978601217);
        close(ci.high, 0.8057730081231966);
        let ci = r
            .disagree_ci(0.9, ProportionMethod::ClopperPearson)
            .unwrap();
        close(ci.low, 0.03677143788746509);
        close(ci.high, 0.5069013010632024);
        assert!(matches!(
            ces1(&[6u8], None, NanPolicy::Omit),
            Err(Error::OutOfRange { index: 0, .. })
        ));
    }

    #[test]
    fn undefined_and_errors() {
        let r = Ces2Tally::new().result();
        assert_eq!(r.undefined, Some(UndefinedReason::NoRows));
        assert!(r.mean.is_nan() && r.share_agree.is_nan() && r.net.is_nan());
        let no_rows = Some(Error::Undefined(UndefinedReason::NoRows));
        assert_eq!(r.ci(0.95, ProportionMethod::Wilson).err(), no_rows);
        assert_eq!(r.disagree_ci(0.95, ProportionMethod::Wilson).err(), no_rows);
        assert_eq!(r.mean_ci(0.95).err(), no_rows);
        let z = ces2(&[7u8, 1], Some(&[0.0, 0.0]), NanPolicy::Omit).unwrap();
        assert_eq!(z.undefined, Some(UndefinedReason::ZeroTotalWeight));
        assert_eq!(
            compare_ces(&z, &r, 0.95).err(),
            Some(Error::Undefined(UndefinedReason::ZeroTotalWeight))
        );
        let one = ces2(&[f64::NAN, 6.0], None, NanPolicy::Omit).unwrap();
        assert_eq!((one.n, one.n_omitted), (1, 1));
        assert_eq!(
            one.mean_ci(0.95).err(),
            Some(Error::Undefined(UndefinedReason::SingleObservation))
        );
        assert!(matches!(
            ces2(&[f64::NAN], None, NanPolicy::Raise),
            Err(Error::Missing { index: 0 })
        ));
        assert!(matches!(
            ces2(&[4.5], None, NanPolicy::Omit),
            Err(Error::NotIntegral { .. })
        ));
        assert!(matches!(
            ces2(&[4u8, 5], Some(&[1.0]), NanPolicy::Omit),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(matches!(
            one.ci(-0.1, ProportionMethod::Wilson),
            Err(Error::InvalidArgument { .. })
        ));
    }

    #[test]
    fn versions_do_not_cross_through_serde() {
        let mut t = Ces2Tally::new();
        t.fold(&[7u8, 5, 4, 2], None, NanPolicy::Omit).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Ces2Tally>(&json).unwrap(), t);
        assert!(serde_json::from_str::<Ces1Tally>(&json).is_err());
        let r = t.result();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"version\":\"ces2\""));
        assert_eq!(serde_json::from_str::<CesResult<Ces2>>(&json).unwrap(), r);
        assert!(serde_json::from_str::<CesResult<Ces1>>(&json).is_err());
        let five = ScaleTally::new(Ces1::scale());
        assert!(Ces2Tally::from_tally(five.clone()).is_err());
        assert!(Ces1Tally::from_tally(five).is_ok());
    }
}
