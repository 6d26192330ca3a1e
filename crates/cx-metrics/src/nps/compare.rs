//! Comparing two NPS: independent groups ([`compare`]) and paired responses ([`PairedTally`]).

use serde::{Deserialize, Serialize};

use super::{Estimate, NpsMethod, NpsResult};
use crate::error::{Error, Result, UndefinedReason};
use crate::intervals::{check_level, normal_p_two_sided, z_two_sided, Interval};
use crate::scale::{NanPolicy, NpsCategory, RawValue, Scale};
use crate::state::{add_count, check_cell, Accumulator, Decoder, Encoder, StateKind};
use crate::tally::Merge;

/// z statistic and two-sided p-value of `difference / std_error`. With a zero standard error (every
/// respondent of both groups in one category under Wald) z is ±∞ with p = 0 for a non-zero
/// difference, and 0 with p = 1 for no difference.
fn z_and_p(difference: f64, std_error: f64) -> (f64, f64) {
    if std_error > 0.0 {
        let z = difference / std_error;
        (z, normal_p_two_sided(z))
    } else if difference == 0.0 {
        (0.0, 1.0)
    } else {
        (difference.signum() * f64::INFINITY, 0.0)
    }
}

/// Interval difference ± z·SE for a difference of two NPS, clipped to [−2, 2] and flagged.
fn difference_ci(difference: f64, std_error: f64, confidence_level: f64) -> Result<Interval> {
    let z = z_two_sided(confidence_level)?;
    Ok(Interval::new(
        difference - z * std_error,
        difference + z * std_error,
        confidence_level,
    )
    .clip(-2.0, 2.0))
}

/// The difference between the NPS of two independent groups, a − b.
///
/// `difference` is always the observed one, NPS_a − NPS_b; a method's adjustment only moves the
/// interval, whose centre is `interval_centre`.
///
/// # Formula
/// difference = NPS_a − NPS_b; with (c, SE) each group's [`NpsResult::normal_estimate`] (Wald: NPS
/// and √(V/n_eff); adjusted Wald: (P − D)/(n + 3) and √(Ṽ/(n + 3))): interval_centre = c_a − c_b,
/// SE = √(SE_a² + SE_b²), z = difference / SE, p = 2(1 − Φ(|z|)), interval
/// interval_centre ± z_{1−α/2}·SE. Under Wald interval_centre = difference.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NpsComparison {
    /// The method (Wald or adjusted Wald).
    pub method: NpsMethod,
    /// The observed difference NPS_a − NPS_b.
    pub difference: f64,
    /// The centre of the interval: the difference of the method's centres (for adjusted Wald,
    /// (P − D)/(n + 3) of each group, pulled towards 0 by the pseudo-counts; for Wald the observed
    /// difference).
    pub interval_centre: f64,
    /// Standard error of the difference.
    pub std_error: f64,
    /// difference / std_error.
    pub z: f64,
    /// Two-sided p-value of z.
    pub p_value: f64,
}

impl NpsComparison {
    /// Interval interval_centre ± z·SE at `confidence_level`, clipped to [−2, 2] (flagged if
    /// clipped).
    pub fn ci(&self, confidence_level: f64) -> Result<Interval> {
        difference_ci(self.interval_centre, self.std_error, confidence_level)
    }
}

/// Compare the NPS of two independent groups, a − b, by [`NpsMethod::Wald`] or
/// [`NpsMethod::AdjustedWald`] (other methods are an [`Error::InvalidArgument`]); an undefined
/// group is an [`Error::Undefined`]. With weights each group's Kish effective n is used.
///
/// The reported difference is the observed one whatever the method: two groups with the same NPS
/// differ by 0, even when their sizes differ.
///
/// ```
/// use cx_metrics::nps::{compare, NpsMethod, NpsTally};
/// let a = NpsTally::from_counts(20, 30, 50).result();
/// let b = NpsTally::from_counts(30, 40, 30).result();
/// let c = compare(&a, &b, NpsMethod::Wald).unwrap();
/// assert!((c.difference - 0.3).abs() < 1e-15);
/// assert!((c.std_error - 0.11).abs() < 1e-15);
/// // Both +90, n = 20 and n = 200: no difference, though the adjusted centres differ.
/// let a = NpsTally::from_counts(0, 2, 18).result();
/// let b = NpsTally::from_counts(0, 20, 180).result();
/// let c = compare(&a, &b, NpsMethod::AdjustedWald).unwrap();
/// assert_eq!((c.difference, c.z, c.p_value), (0.0, 0.0, 1.0));
/// assert!((c.interval_centre - (18.0 / 23.0 - 180.0 / 203.0)).abs() < 1e-15);
/// ```
pub fn compare(a: &NpsResult, b: &NpsResult, method: NpsMethod) -> Result<NpsComparison> {
    let (ea, eb): (Estimate, Estimate) = (a.normal_estimate(method)?, b.normal_estimate(method)?);
    let difference = a.score - b.score;
    let std_error = ea.std_error.hypot(eb.std_error);
    let (z, p_value) = z_and_p(difference, std_error);
    Ok(NpsComparison {
        method,
        difference,
        interval_centre: ea.centre - eb.centre,
        std_error,
        z,
        p_value,
    })
}

fn index(c: NpsCategory) -> usize {
    match c {
        NpsCategory::Detractor => 0,
        NpsCategory::Passive => 1,
        NpsCategory::Promoter => 2,
    }
}

const SIGN: [f64; 3] = [-1.0, 0.0, 1.0];

/// A mergeable 3×3 weighted table of paired NPS categories: the same respondents rated twice
/// (two waves, or two brands). Rows index the first rating's category, columns the second's, in
/// the order detractor, passive, promoter.
///
/// Sums of weights are kept scaled by a power of two, as in a [`crate::ScaleTally`]
/// ([`PairedTally::weight_exponent`]), so that weights of any magnitude give the same result.
///
/// ```
/// use cx_metrics::nps::PairedTally;
/// use cx_metrics::NanPolicy;
/// let mut t = PairedTally::new();
/// t.fold(&[10u8, 9, 3, 7], &[9u8, 6, 3, 10], None, NanPolicy::Omit).unwrap();
/// let r = t.result();
/// assert!((r.difference - (r.score_a - r.score_b)).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawPairedTally")]
pub struct PairedTally {
    rows: [[u64; 3]; 3],
    /// Σw per cell, times `2^-exponent`.
    weight: [[f64; 3]; 3],
    /// Σw² per cell, times `2^-2·exponent`.
    weight_sq: [[f64; 3]; 3],
    omitted: u64,
    /// The binary scale exponent of the sums of weights (0 for ordinary weights).
    exponent: i32,
}

/// The serialised form, checked on the way in ([`Accumulator::validate`]); the exponent is absent
/// (0) in format version 1.
#[derive(Deserialize)]
struct RawPairedTally {
    rows: [[u64; 3]; 3],
    weight: [[f64; 3]; 3],
    weight_sq: [[f64; 3]; 3],
    omitted: u64,
    #[serde(default)]
    exponent: i32,
}

impl TryFrom<RawPairedTally> for PairedTally {
    type Error = Error;
    fn try_from(r: RawPairedTally) -> Result<Self> {
        let t = Self {
            rows: r.rows,
            weight: r.weight,
            weight_sq: r.weight_sq,
            omitted: r.omitted,
            exponent: r.exponent,
        };
        t.validate()?;
        Ok(t)
    }
}

/// Aligned first and second ratings of the same respondents: the batch a [`PairedTally`] folds.
#[derive(Debug, Clone, Copy)]
pub struct Pairs<'a> {
    /// First ratings (0–10; NaN is missing).
    pub first: &'a [f64],
    /// Second ratings, one per first rating.
    pub second: &'a [f64],
    /// A pair with either rating missing: omitted and counted, or an error.
    pub nan_policy: NanPolicy,
}

const CATEGORIES: [&str; 3] = ["detractor", "passive", "promoter"];

impl PairedTally {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A table of unit-weight pair counts, `table[a][b]` with categories ordered detractor, passive,
    /// promoter.
    pub fn from_counts(table: [[u64; 3]; 3]) -> Self {
        let as_f64 = table.map(|row| row.map(|c| c as f64));
        Self {
            rows: table,
            weight: as_f64,
            weight_sq: as_f64,
            omitted: 0,
            exponent: 0,
        }
    }

    /// Rows per cell.
    pub fn rows(&self) -> &[[u64; 3]; 3] {
        &self.rows
    }
    /// The binary scale exponent `e` of the sums of weights, as [`crate::ScaleTally::weight_exponent`]:
    /// [`PairedTally::scaled_weights`] are the true Σw per cell times `2^-e`.
    pub fn weight_exponent(&self) -> i32 {
        self.exponent
    }
    /// Σw per cell in the units of the weights (always representable: a fold or merge that would
    /// take the total beyond `f64::MAX` is refused).
    pub fn weights(&self) -> [[f64; 3]; 3] {
        self.weight
            .map(|row| row.map(|w| crate::weights::ldexp(w, self.exponent)))
    }
    /// Σw per cell times `2^-e` ([`PairedTally::weight_exponent`]).
    pub fn scaled_weights(&self) -> &[[f64; 3]; 3] {
        &self.weight
    }
    /// Σw² per cell times `2^-2e` ([`PairedTally::weight_exponent`]); in the units of the weights
    /// it may be beyond the range of `f64` (weights above about 1e154 or below about 1e-162).
    pub fn scaled_weights_sq(&self) -> &[[f64; 3]; 3] {
        &self.weight_sq
    }
    /// Pairs counted.
    pub fn n(&self) -> u64 {
        self.rows
            .iter()
            .flatten()
            .fold(0u64, |a, r| a.saturating_add(*r))
    }
    /// Pairs omitted because either value was missing.
    pub fn n_omitted(&self) -> u64 {
        self.omitted
    }

    /// Validate one pair at position `index`: `Ok(None)` when it is omitted as missing.
    fn cell<A: RawValue, B: RawValue>(
        a: A,
        b: B,
        weight: f64,
        index: usize,
        policy: NanPolicy,
    ) -> Result<Option<(usize, usize)>> {
        crate::weights::check_one(weight, index)?;
        if a.is_missing() || b.is_missing() {
            return match policy {
                NanPolicy::Raise => Err(Error::Missing { index }),
                _ => Ok(None),
            };
        }
        let pa = Scale::NPS.point_of(a, index)?;
        let pb = Scale::NPS.point_of(b, index)?;
        Ok(Some((index_of_point(pa), index_of_point(pb))))
    }

    /// Count one pair with survey weight `weight`; its position in the stream names it in errors.
    pub fn push<A: RawValue, B: RawValue>(
        &mut self,
        a: A,
        b: B,
        weight: f64,
        nan_policy: NanPolicy,
    ) -> Result<()> {
        let index = usize::try_from(self.total_rows()).unwrap_or(usize::MAX);
        let mut part = Self::new();
        match Self::cell(a, b, weight, index, nan_policy)? {
            Some((i, j)) => {
                let e = crate::weights::tally_exponent(weight);
                let w = crate::weights::ldexp(weight, -e);
                part.rows[i][j] = 1;
                part.weight[i][j] = w;
                part.weight_sq[i][j] = w * w;
                part.exponent = if w > 0.0 { e } else { 0 };
            }
            None => part.omitted = 1,
        }
        self.add(&part, crate::weights::unrepresentable)
    }

    /// Fold aligned slices of first and second ratings, optionally weighted. A pair with either value
    /// missing is omitted (and counted) or raises, per `nan_policy`. On error nothing is changed.
    pub fn fold<A: RawValue, B: RawValue>(
        &mut self,
        a: &[A],
        b: &[B],
        weights: Option<&[f64]>,
        nan_policy: NanPolicy,
    ) -> Result<()> {
        if a.len() != b.len() {
            return Err(Error::LengthMismatch {
                what: "first and second ratings",
                left: a.len(),
                right: b.len(),
            });
        }
        if let Some(w) = weights {
            if w.len() != a.len() {
                return Err(Error::LengthMismatch {
                    what: "ratings and weights",
                    left: a.len(),
                    right: w.len(),
                });
            }
        }
        let count = |weights: Option<&[f64]>| -> Result<Self> {
            let mut part = Self::new();
            for (k, (&x, &y)) in a.iter().zip(b).enumerate() {
                let w = weights.and_then(|w| w.get(k).copied()).unwrap_or(1.0);
                match Self::cell(x, y, w, k, nan_policy)? {
                    Some((i, j)) => {
                        part.rows[i][j] += 1;
                        part.weight[i][j] += w;
                        part.weight_sq[i][j] += w * w;
                    }
                    None => part.omitted += 1,
                }
            }
            Ok(part)
        };
        let mut part = count(weights)?;
        // Sums out of range: counted again with the weights scaled by a power of two (see
        // `crate::tally`), free for ordinary weights.
        if let Some(w) = weights {
            let in_range = crate::weights::sums_in_range(
                part.weight.as_flattened(),
                part.weight_sq.as_flattened(),
            );
            let e = crate::weights::tally_exponent(crate::weights::max_of(w));
            if !in_range && e != 0 {
                part = count(Some(&crate::weights::scaled_by(w, e)))?;
                part.exponent = e;
            }
        }
        self.add(&part, crate::weights::unrepresentable)
    }

    /// The paired difference of NPS (first − second) with its standard error, z and p-value.
    ///
    /// # Formula
    /// Each respondent contributes d = s_a − s_b ∈ {−2, …, 2}. With p_ij the weighted cell shares:
    /// difference = Σ p_ij d_ij = NPS_a − NPS_b, Var(d) = Σ p_ij (d_ij − difference)²,
    /// SE = √(Var(d) / n_eff) with n_eff = (Σw)²/Σw² (Kish 1965; n without weights).
    pub fn result(&self) -> PairedNpsResult {
        let n = self.n();
        // Every figure from the scaled sums; only the reported Σw is scaled back.
        let sw: f64 = self.weight.iter().flatten().sum();
        let sw2: f64 = self.weight_sq.iter().flatten().sum();
        let weighted = self.exponent != 0
            || (0..9).any(|c| {
                let (i, j) = (c / 3, c % 3);
                let r = self.rows[i][j] as f64;
                self.weight[i][j] != r || self.weight_sq[i][j] != r
            });
        let effective_n = if weighted {
            if sw2 > 0.0 {
                sw * sw / sw2
            } else {
                0.0
            }
        } else {
            n as f64
        };
        let undefined = if n == 0 {
            Some(UndefinedReason::NoRows)
        } else if sw <= 0.0 {
            Some(UndefinedReason::ZeroTotalWeight)
        } else {
            None
        };
        let nan = f64::NAN;
        let mut r = PairedNpsResult {
            n,
            n_omitted: self.omitted,
            sum_weights: crate::weights::ldexp(sw, self.exponent),
            effective_n,
            score_a: nan,
            score_b: nan,
            difference: nan,
            std_error: nan,
            z: nan,
            p_value: nan,
            undefined,
        };
        if undefined.is_some() {
            return r;
        }
        // (share, first score, second score) of each cell.
        let cells = || {
            (0..9).map(|c| {
                let (i, j) = (c / 3, c % 3);
                (self.weight[i][j] / sw, SIGN[i], SIGN[j])
            })
        };
        let sa: f64 = cells().map(|(p, a, _)| p * a).sum();
        let sb: f64 = cells().map(|(p, _, b)| p * b).sum();
        let diff = sa - sb;
        let var: f64 = cells()
            .map(|(p, a, b)| {
                let e = a - b - diff;
                p * e * e
            })
            .sum();
        let se = (var / effective_n).sqrt();
        let (z, p) = z_and_p(diff, se);
        r.score_a = sa;
        r.score_b = sb;
        r.difference = diff;
        r.std_error = se;
        r.z = z;
        r.p_value = p;
        r
    }
}

fn index_of_point(p: i32) -> usize {
    index(NpsCategory::of(p as u8))
}

impl PairedTally {
    /// Pairs counted and omitted (fits in `u64`: every constructor and merge checks it).
    fn total_rows(&self) -> u64 {
        self.rows
            .iter()
            .flatten()
            .fold(self.omitted, |a, r| a.saturating_add(*r))
    }
}

impl Merge for PairedTally {
    /// Add the counts of `other`, with checked arithmetic, aligning the scale exponents of the sums
    /// of weights (see `crate::tally`); nothing changes on error.
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.add(other, || crate::tally::sum_overflow(""))
    }
}

impl PairedTally {
    /// [`Merge::merge`], with the error `too_big()` for a Σw beyond `f64::MAX` in the units of the
    /// weights.
    fn add(&mut self, other: &Self, too_big: impl FnOnce() -> Error) -> Result<()> {
        let has_weight = |t: &Self| t.weight.iter().flatten().any(|w| *w > 0.0);
        let e = crate::tally::aligned_exponent(
            (self.exponent, has_weight(self)),
            (other.exponent, has_weight(other)),
        );
        let (mine, theirs) = (self.exponent - e, other.exponent - e);
        let down = |x: f64, k: i32| {
            if k == 0 {
                x
            } else {
                crate::weights::ldexp(x, k)
            }
        };
        let mut sum = self.clone();
        let mut total = add_count(self.total_rows(), other.omitted, || "the pair count".into())?;
        sum.omitted += other.omitted;
        for c in 0..9 {
            let (i, j) = (c / 3, c % 3);
            let cell = || format!("{} x {}", CATEGORIES[i], CATEGORIES[j]);
            total = add_count(total, other.rows[i][j], || "the pair count".into())?;
            sum.rows[i][j] = add_count(sum.rows[i][j], other.rows[i][j], || {
                format!("the pair count of cell {}", cell())
            })?;
            sum.weight[i][j] = down(sum.weight[i][j], mine) + down(other.weight[i][j], theirs);
            sum.weight_sq[i][j] =
                down(sum.weight_sq[i][j], 2 * mine) + down(other.weight_sq[i][j], 2 * theirs);
            if !(sum.weight[i][j].is_finite() && sum.weight_sq[i][j].is_finite()) {
                return Err(Error::Overflow {
                    what: format!("the sum of weights of cell {}", cell()),
                });
            }
        }
        let total: f64 = sum.weight.iter().flatten().sum();
        if !crate::weights::ldexp(total, e).is_finite() {
            return Err(too_big());
        }
        sum.exponent = if total > 0.0 { e } else { 0 };
        *self = sum;
        Ok(())
    }
}

impl Accumulator for PairedTally {
    const KIND: StateKind = StateKind::PairedNpsTally;
    const VERSION: u16 = crate::tally::TALLY_VERSION;
    type Batch<'a> = Pairs<'a>;
    type Options = ();
    type Output = PairedNpsResult;

    fn fold_batch(&mut self, batch: Pairs<'_>, weights: Option<&[f64]>) -> Result<()> {
        self.fold(batch.first, batch.second, weights, batch.nan_policy)
    }
    fn n(&self) -> u64 {
        PairedTally::n(self)
    }
    fn finish(&self, _: &()) -> Result<PairedNpsResult> {
        Ok(self.result())
    }
    /// Per cell, the checks of a tally's point; the pairs add up without overflow.
    fn validate(&self) -> Result<()> {
        let kind = Self::KIND;
        let mut total = self.omitted;
        for c in 0..9 {
            let (i, j) = (c / 3, c % 3);
            total = total
                .checked_add(self.rows[i][j])
                .ok_or_else(|| kind.invalid("the pair counts add up to more than 2^64 - 1"))?;
            check_cell(self.rows[i][j], self.weight[i][j], self.weight_sq[i][j]).map_err(|m| {
                kind.invalid(format!("cell {} x {}: {m}", CATEGORIES[i], CATEGORIES[j]))
            })?;
        }
        let total: f64 = self.weight.iter().flatten().sum();
        crate::tally::check_exponent(kind, self.exponent, total)
    }
    /// Omitted pairs, then rows, Σw and Σw² (scaled) of the nine cells, row-major, then (from
    /// format version 2) the weight exponent as an `i32`.
    fn encode_payload(&self, out: &mut Encoder) {
        out.u64(self.omitted);
        out.u64s(self.rows.as_flattened());
        out.f64s(self.weight.as_flattened());
        out.f64s(self.weight_sq.as_flattened());
        out.i32(self.exponent);
    }
    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let mut t = Self::new();
        t.omitted = input.u64("the omitted pairs")?;
        for r in t.rows.as_flattened_mut() {
            *r = input.u64("the pairs per cell")?;
        }
        for w in t.weight.as_flattened_mut() {
            *w = input.f64("the weights per cell")?;
        }
        for w in t.weight_sq.as_flattened_mut() {
            *w = input.f64("the squared weights per cell")?;
        }
        // Version 1 had no exponent: its sums are in the units of the weights.
        if input.version() >= 2 {
            t.exponent = input.i32("the weight exponent")?;
        }
        Ok(t)
    }
}

/// The paired difference of two NPS measured on the same respondents (first − second).
/// Estimate fields are NaN (`null` in JSON) when `undefined` is set.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedNpsResult {
    /// Pairs counted.
    pub n: u64,
    /// Pairs omitted as missing.
    pub n_omitted: u64,
    /// Σw over counted pairs, in the units of the weights.
    pub sum_weights: f64,
    /// Kish effective n (n without weights).
    pub effective_n: f64,
    /// NPS of the first ratings.
    #[serde(with = "crate::serde_nan")]
    pub score_a: f64,
    /// NPS of the second ratings.
    #[serde(with = "crate::serde_nan")]
    pub score_b: f64,
    /// score_a − score_b.
    #[serde(with = "crate::serde_nan")]
    pub difference: f64,
    /// Standard error of the difference, √(Var(d)/n_eff).
    #[serde(with = "crate::serde_nan")]
    pub std_error: f64,
    /// difference / std_error (±∞ or 0 when the SE is 0, see [`compare`]).
    #[serde(with = "crate::serde_nan")]
    pub z: f64,
    /// Two-sided p-value of z.
    #[serde(with = "crate::serde_nan")]
    pub p_value: f64,
    /// Why the estimate is undefined, if it is.
    pub undefined: Option<UndefinedReason>,
}

impl PairedNpsResult {
    /// Wald interval difference ± z·SE at `confidence_level`, clipped to [−2, 2] (flagged).
    pub fn ci(&self, confidence_level: f64) -> Result<Interval> {
        check_level(confidence_level)?;
        if let Some(reason) = self.undefined {
            return Err(Error::Undefined(reason));
        }
        difference_ci(self.difference, self.std_error, confidence_level)
    }
}
