//! Net Promoter Score: a mergeable tally on the 0–10 scale, the score with its variance and standard
//! errors, confidence intervals, comparisons and sample-size planning.
//!
//! Respondents answering 9–10 are promoters, 7–8 passives, 0–6 detractors. The score is
//! NPS = p_P − p_D on −1..1 (multiply by 100 for the usual −100..100 reading, see
//! [`NpsResult::score_100`]).
//!
//! ```
//! use cx_metrics::nps::{NpsMethod, NpsTally};
//! use cx_metrics::NanPolicy;
//! let mut t = NpsTally::new();
//! t.fold(&[10u8, 9, 9, 8, 7, 3, 10, 6, 9, 10], None, NanPolicy::Omit).unwrap();
//! let r = t.result();
//! assert!((r.score - 0.4).abs() < 1e-15);
//! let ci = r.ci(0.95, NpsMethod::AdjustedWald).unwrap();
//! assert!(ci.low < r.score && r.score < ci.high);
//! ```
//!
//! # References
//! - Rocks, B. (2016). Interval estimation for the "net promoter score". *The American Statistician*
//!   70(4), 365–372.
//! - Tango, T. (1998). Equivalence test and confidence interval for the difference in proportions for
//!   the paired-sample design. *Statistics in Medicine* 17, 891–908.
//! - Kish, L. (1965). *Survey Sampling*. Wiley.

mod bootstrap;
mod compare;
mod dirichlet;
mod interval;
mod numeric;
mod plan;
mod tango;

pub use bootstrap::{
    bootstrap_ci, BootstrapCi, BootstrapMethod, CATEGORY_SUMS_MAX_BOUND, CATEGORY_SUMS_MIN_ROWS,
};
pub use compare::{compare, NpsComparison, PairedNpsResult, PairedTally, Pairs};
pub use interval::{Estimate, NpsMethod, DEFAULT_N_RESAMPLES, DEFAULT_PRIOR};
pub use plan::{sample_size, sample_size_two_groups, AnticipatedVariance};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, UndefinedReason};
use crate::scale::{NanPolicy, NpsCategory, NpsRating, RawValue, Scale};
use crate::state::{Accumulator, Decoder, Encoder, Ratings, StateKind};
use crate::tally::{Merge, ScaleTally};

/// Weighted counts of 0–10 ratings: the mergeable state an NPS is computed from.
///
/// A newtype over [`ScaleTally`] fixed on [`Scale::NPS`], so an NPS tally can never be merged with a
/// tally of another scale. Deserialising checks the scale and the shape of the counts.
///
/// ```
/// use cx_metrics::nps::NpsTally;
/// use cx_metrics::{Merge, NanPolicy, NpsRating};
/// let mut a = NpsTally::new();
/// a.fold(&[10.0, 9.0, f64::NAN, 2.0], None, NanPolicy::Omit).unwrap();
/// let b: NpsTally = [9u8, 7].iter().map(|&v| NpsRating::try_from(v).unwrap()).collect();
/// a.merge(&b).unwrap();
/// assert_eq!(a.rows_at(9), 2);
/// assert_eq!(a.result().n, 5);
/// assert_eq!(a.result().n_omitted, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScaleTally", into = "ScaleTally")]
pub struct NpsTally(ScaleTally);

impl Default for NpsTally {
    fn default() -> Self {
        Self::new()
    }
}

impl NpsTally {
    /// An empty tally.
    pub fn new() -> Self {
        Self(ScaleTally::new(Scale::NPS))
    }

    /// A tally from category counts only (unit weights), for users who have counts rather than
    /// ratings. The counts are placed on the points 0 (detractors), 7 (passives) and 10 (promoters);
    /// everything an NPS needs depends only on the categories, so results are exact.
    ///
    /// ```
    /// use cx_metrics::nps::NpsTally;
    /// let r = NpsTally::from_counts(20, 30, 50).result();
    /// assert_eq!(r.n, 100);
    /// assert!((r.score - 0.3).abs() < 1e-15);
    /// ```
    pub fn from_counts(detractors: u64, passives: u64, promoters: u64) -> Self {
        let mut t = Self::new();
        for (point, count) in [(0, detractors), (7, passives), (10, promoters)] {
            t.add_rows(point, count);
        }
        t
    }

    /// Add `count` unit-weight rows at `point` (a valid 0–10 point) in O(log count) merges of
    /// doubling tallies (counts stay exact integers in f64 up to 2^53).
    fn add_rows(&mut self, point: i32, count: u64) {
        let mut pow = ScaleTally::new(Scale::NPS);
        if pow.push_point(point, 1.0).is_err() {
            return;
        }
        let mut k = count;
        while k > 0 {
            if k & 1 == 1 {
                // Same scale on both sides: merge cannot fail.
                let _ = self.0.merge(&pow);
            }
            k >>= 1;
            if k > 0 {
                let p = pow.clone();
                let _ = pow.merge(&p);
            }
        }
    }

    /// Count one raw value with survey weight `weight` (finite, ≥ 0), validating it.
    pub fn push<T: RawValue>(
        &mut self,
        value: T,
        weight: f64,
        nan_policy: NanPolicy,
    ) -> Result<()> {
        self.0.push(value, weight, nan_policy)
    }

    /// Count one validated rating with survey weight `weight` (finite, ≥ 0).
    pub fn push_rating(&mut self, rating: NpsRating, weight: f64) -> Result<()> {
        self.0.push_point(i32::from(rating.value()), weight)
    }

    /// Fold a slice of raw 0–10 values, optionally weighted, validating every value and weight.
    ///
    /// Missing values (NaN, `None`) are omitted and counted, or raise, per `nan_policy`. On error the
    /// tally is unchanged; positions in errors are positions in `values`. Long slices are folded in
    /// parallel; the result does not depend on the number of threads.
    pub fn fold<T: RawValue>(
        &mut self,
        values: &[T],
        weights: Option<&[f64]>,
        nan_policy: NanPolicy,
    ) -> Result<()> {
        self.0.fold(values, weights, nan_policy)
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

    /// The underlying per-point tally (rows, Σw and Σw² for each point 0–10).
    pub fn tally(&self) -> &ScaleTally {
        &self.0
    }

    /// Rows counted at `point` (0 off the scale).
    pub fn rows_at(&self, point: i32) -> u64 {
        self.0.rows_at(point)
    }

    /// Σw at `point` in the units of the weights (0 off the scale).
    pub fn weight_at(&self, point: i32) -> f64 {
        self.0.weight_at(point)
    }

    /// (rows, Σw, Σw²) of one category, the sums scaled by `2^-e` and `2^-2e` with `e` the tally's
    /// [`ScaleTally::weight_exponent`] (0 for ordinary weights), so that they are representable for
    /// weights of any magnitude; ratios of them are the ratios of the true sums.
    pub fn category(&self, category: NpsCategory) -> (u64, f64, f64) {
        let (w, w2, r) = self.0.sum_where(|p| NpsCategory::of(p as u8) == category);
        (r, w, w2)
    }

    /// Whether any row carries a weight other than 1 (then intervals use the Kish effective n).
    pub fn is_weighted(&self) -> bool {
        let t = &self.0;
        // A non-zero exponent comes only from a weight beyond 2^±256.
        t.weight_exponent() != 0
            || t.rows()
                .iter()
                .zip(t.scaled_weights().iter().zip(t.scaled_weights_sq()))
                .any(|(&r, (&w, &w2))| w != r as f64 || w2 != r as f64)
    }

    /// The NPS with its shares, variance and standard errors. Never fails: data without rows or with
    /// zero total weight give an undefined result (see [`NpsResult::undefined`]).
    pub fn result(&self) -> NpsResult {
        NpsResult::from_tally(self)
    }
}

impl Merge for NpsTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.0.merge(&other.0)
    }
}

impl Accumulator for NpsTally {
    const KIND: StateKind = StateKind::NpsTally;
    const VERSION: u16 = crate::tally::TALLY_VERSION;
    type Batch<'a> = Ratings<'a>;
    type Options = ();
    type Output = NpsResult;

    fn fold_batch(&mut self, batch: Ratings<'_>, weights: Option<&[f64]>) -> Result<()> {
        self.0.fold_batch(batch, weights)
    }
    fn n(&self) -> u64 {
        self.0.n()
    }
    fn finish(&self, _: &()) -> Result<NpsResult> {
        Ok(self.result())
    }
    fn validate(&self) -> Result<()> {
        if self.0.scale() != Scale::NPS {
            return Err(Self::KIND.invalid(format!(
                "an NPS tally is on the 0..=10 scale, not {}",
                self.0.scale()
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

impl TryFrom<ScaleTally> for NpsTally {
    type Error = Error;
    /// Accept a tally on [`Scale::NPS`] with eleven points of counts.
    fn try_from(t: ScaleTally) -> Result<Self> {
        let k = Scale::NPS.points();
        if t.scale() != Scale::NPS {
            return Err(Error::Incompatible(format!(
                "an NPS tally needs the 0..=10 scale, got {}",
                t.scale()
            )));
        }
        if t.rows().len() != k || t.scaled_weights().len() != k || t.scaled_weights_sq().len() != k
        {
            return Err(Error::Incompatible(format!(
                "an NPS tally needs {k} counts per field"
            )));
        }
        Ok(Self(t))
    }
}

impl From<NpsTally> for ScaleTally {
    fn from(t: NpsTally) -> ScaleTally {
        t.0
    }
}

impl FromIterator<NpsRating> for NpsTally {
    fn from_iter<I: IntoIterator<Item = NpsRating>>(iter: I) -> Self {
        let mut t = Self::new();
        for r in iter {
            // A validated rating with weight 1 cannot fail.
            let _ = t.push_rating(r, 1.0);
        }
        t
    }
}

/// The Net Promoter Score of a tally: plain data with public fields.
///
/// Shares are weighted shares (Σw in the category / Σw). With survey weights, every interval and test
/// uses the Kish effective sample size `effective_n` in place of `n` (Kish 1965).
///
/// When the estimate is undefined (no rows, or Σw = 0) `undefined` says why and every estimate field
/// is NaN (`null` in JSON); [`NpsResult::ci`] then returns [`Error::Undefined`].
///
/// # Formula
/// p_P, p_0, p_D = weighted shares of promoters, passives, detractors;
/// NPS = p_P − p_D; V = p_P + p_D − (p_P − p_D)² (the variance of the per-respondent score
/// +1/0/−1); SE = √(V / n_eff) with n_eff = (Σw)²/Σw² (Kish 1965; n_eff = n without weights).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NpsResult {
    /// Rows counted (missing values excluded).
    pub n: u64,
    /// Rows omitted as missing.
    pub n_omitted: u64,
    /// Rows that are promoters (9–10).
    pub n_promoters: u64,
    /// Rows that are passives (7–8).
    pub n_passives: u64,
    /// Rows that are detractors (0–6).
    pub n_detractors: u64,
    /// Σw over counted rows, in the units of the weights (every other figure is invariant to them).
    pub sum_weights: f64,
    /// Kish effective sample size (Σw)²/Σw²; equals `n` without weights, 0 when Σw = 0.
    pub effective_n: f64,
    /// Whether any row carries a weight other than 1.
    pub weighted: bool,
    /// Weighted share of promoters, p_P.
    #[serde(with = "crate::serde_nan")]
    pub promoters: f64,
    /// Weighted share of passives, p_0.
    #[serde(with = "crate::serde_nan")]
    pub passives: f64,
    /// Weighted share of detractors, p_D.
    #[serde(with = "crate::serde_nan")]
    pub detractors: f64,
    /// NPS = p_P − p_D on −1..1.
    #[serde(with = "crate::serde_nan")]
    pub score: f64,
    /// V = p_P + p_D − (p_P − p_D)², the per-respondent variance of the +1/0/−1 score (in [0, 1]).
    #[serde(with = "crate::serde_nan")]
    pub variance: f64,
    /// √(V / n_eff): the standard error the intervals use (the Kish SE under weights).
    #[serde(with = "crate::serde_nan")]
    pub std_error: f64,
    /// Linearised (Taylor) SE of the weighted ratio Σw·s / Σw: √(Σ w_i² (s_i − NPS)²) / Σw.
    /// Equals `std_error` without weights.
    #[serde(with = "crate::serde_nan")]
    pub se_linearised: f64,
    /// `se_linearised` × √(n / (n − 1)), the usual small-sample correction; `None` when n < 2.
    pub se_linearised_small_sample: Option<f64>,
    /// Kish design effect n / n_eff = n Σw² / (Σw)² (1 without weights).
    #[serde(with = "crate::serde_nan")]
    pub deff: f64,
    /// Share of the weight on each point 0, 1, …, 10 (eleven values summing to 1; NaN when undefined):
    /// the answer distribution that the shares of the three categories summarise.
    #[serde(with = "crate::serde_nan::vec")]
    pub distribution: Vec<f64>,
    /// Why the estimate is undefined, if it is.
    pub undefined: Option<UndefinedReason>,
}

impl NpsResult {
    fn from_tally(t: &NpsTally) -> Self {
        let (rd, wd, w2d) = t.category(NpsCategory::Detractor);
        let (r0, w0, w20) = t.category(NpsCategory::Passive);
        let (rp, wp, w2p) = t.category(NpsCategory::Promoter);
        let n = rd + r0 + rp;
        // Every figure is computed from the scaled sums (the same for weights of any magnitude);
        // only the reported Σw is scaled back.
        let sum_weights = wd + w0 + wp;
        let weighted = t.is_weighted();
        let effective_n = if weighted {
            t.tally().effective_n()
        } else {
            n as f64
        };
        let undefined = if n == 0 {
            Some(UndefinedReason::NoRows)
        } else if sum_weights <= 0.0 {
            Some(UndefinedReason::ZeroTotalWeight)
        } else {
            None
        };
        let nan = f64::NAN;
        let mut r = Self {
            n,
            n_omitted: t.tally().n_omitted(),
            n_promoters: rp,
            n_passives: r0,
            n_detractors: rd,
            sum_weights: t.tally().sum_weights(),
            effective_n,
            weighted,
            promoters: nan,
            passives: nan,
            detractors: nan,
            score: nan,
            variance: nan,
            std_error: nan,
            se_linearised: nan,
            se_linearised_small_sample: None,
            deff: nan,
            distribution: t.tally().shares(),
            undefined,
        };
        if undefined.is_some() {
            return r;
        }
        let (pp, p0, pd) = (wp / sum_weights, w0 / sum_weights, wd / sum_weights);
        let score = pp - pd;
        // Mathematically ≥ 0; max() only absorbs a rounding error of an ulp when one share is 1.
        let variance = (pp + pd - score * score).max(0.0);
        let m = score;
        let lin = (w2p * (1.0 - m) * (1.0 - m) + w20 * m * m + w2d * (1.0 + m) * (1.0 + m)).sqrt()
            / sum_weights;
        r.promoters = pp;
        r.passives = p0;
        r.detractors = pd;
        r.score = score;
        r.variance = variance;
        r.std_error = (variance / effective_n).sqrt();
        r.se_linearised = lin;
        r.se_linearised_small_sample = (n >= 2).then(|| lin * (n as f64 / (n as f64 - 1.0)).sqrt());
        r.deff = n as f64 / effective_n;
        r
    }

    /// The score on the −100..100 scale.
    pub fn score_100(&self) -> f64 {
        100.0 * self.score
    }

    /// The Kish standard error √(V / n_eff) (the same as `std_error`).
    pub fn se_kish(&self) -> f64 {
        self.std_error
    }

    /// `Ok(())` when the estimate is defined, else [`Error::Undefined`] with its reason.
    pub fn check_defined(&self) -> Result<()> {
        match self.undefined {
            Some(reason) => Err(Error::Undefined(reason)),
            None => Ok(()),
        }
    }

    /// The counts the intervals work with: (n, promoters, passives, detractors). Without weights the
    /// row counts; with weights the Kish effective n and the weighted shares times it.
    pub(crate) fn effective_counts(&self) -> (f64, f64, f64, f64) {
        if self.weighted {
            let n = self.effective_n;
            (
                n,
                self.promoters * n,
                self.passives * n,
                self.detractors * n,
            )
        } else {
            (
                self.n as f64,
                self.n_promoters as f64,
                self.n_passives as f64,
                self.n_detractors as f64,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_results_are_nan_and_round_trip() {
        let mut t = NpsTally::new();
        t.fold(&[f64::NAN], None, NanPolicy::Omit).unwrap();
        let r = t.result();
        assert_eq!(r.undefined, Some(UndefinedReason::NoRows));
        assert!(r.score.is_nan() && r.std_error.is_nan());
        assert_eq!(r.n_omitted, 1);
        assert_eq!(
            r.ci(0.95, NpsMethod::Wald),
            Err(Error::Undefined(UndefinedReason::NoRows))
        );
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"score\":null"), "{json}");
        let back: NpsResult = serde_json::from_str(&json).unwrap();
        assert!(back.score.is_nan());
        assert_eq!(back.undefined, r.undefined);
        assert_eq!(back.n_omitted, 1);

        let mut z = NpsTally::new();
        z.fold(&[9u8, 3], Some(&[0.0, 0.0]), NanPolicy::Omit)
            .unwrap();
        let r = z.result();
        assert_eq!(r.undefined, Some(UndefinedReason::ZeroTotalWeight));
        assert_eq!(
            r.ci(0.9, NpsMethod::Tango),
            Err(Error::Undefined(UndefinedReason::ZeroTotalWeight))
        );
    }

    #[test]
    fn tally_serde_checks_the_scale() {
        let t = NpsTally::from_counts(3, 2, 5);
        let json = serde_json::to_string(&t).unwrap();
        let back: NpsTally = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let five = crate::scale::Scale::new(1, 5, crate::scale::Direction::HigherIsBetter).unwrap();
        let other = serde_json::to_string(&ScaleTally::new(five)).unwrap();
        assert!(serde_json::from_str::<NpsTally>(&other).is_err());
        assert!(NpsTally::try_from(ScaleTally::new(five)).is_err());
    }

    #[test]
    fn from_counts_matches_pushed_rows() {
        let t = NpsTally::from_counts(3, 2, 5);
        let mut u = NpsTally::new();
        // `from_counts` puts every detractor on 0, passive on 7 and promoter on 10.
        u.fold(
            &[0u8, 0, 0, 7, 7, 10, 10, 10, 10, 10],
            None,
            NanPolicy::Raise,
        )
        .unwrap();
        let (a, b) = (t.result(), u.result());
        assert_eq!(a, b);
        let mut v = NpsTally::new();
        v.fold(&[0u8, 1, 6, 7, 8, 9, 10, 10, 9, 9], None, NanPolicy::Raise)
            .unwrap();
        let c = v.result();
        assert_eq!(
            (c.score, c.variance, c.std_error),
            (a.score, a.variance, a.std_error)
        );
        assert!(!t.is_weighted());
    }

    #[test]
    fn every_error_is_typed() {
        let r = NpsTally::from_counts(20, 30, 50).result();
        for level in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
            for m in [
                NpsMethod::Wald,
                NpsMethod::AdjustedWald,
                NpsMethod::Tango,
                NpsMethod::Dirichlet {
                    prior: DEFAULT_PRIOR,
                },
                NpsMethod::Bootstrap {
                    n_resamples: 10,
                    seed: 1,
                },
            ] {
                assert!(
                    matches!(
                        r.ci(level, m),
                        Err(Error::InvalidArgument {
                            name: "confidence_level",
                            ..
                        })
                    ),
                    "{level} {m}"
                );
            }
        }
        for prior in [[0.0, 1.0, 1.0], [1.0, f64::INFINITY, 1.0], [1.0, 1.0, -2.0]] {
            assert!(matches!(
                r.ci(0.95, NpsMethod::Dirichlet { prior }),
                Err(Error::InvalidArgument { name: "prior", .. })
            ));
        }
        assert!(matches!(
            r.ci(
                0.95,
                NpsMethod::Bootstrap {
                    n_resamples: 0,
                    seed: 1
                }
            ),
            Err(Error::InvalidArgument {
                name: "n_resamples",
                ..
            })
        ));
        assert!(matches!(
            r.normal_estimate(NpsMethod::Tango),
            Err(Error::InvalidArgument { name: "method", .. })
        ));
        assert!(matches!(
            compare(&r, &r, NpsMethod::Tango),
            Err(Error::InvalidArgument { name: "method", .. })
        ));
        let empty = NpsTally::new().result();
        assert_eq!(
            compare(&r, &empty, NpsMethod::Wald),
            Err(Error::Undefined(UndefinedReason::NoRows))
        );
        assert_eq!(
            empty.dirichlet_posterior(DEFAULT_PRIOR),
            Err(Error::Undefined(UndefinedReason::NoRows))
        );
        assert!("wilson".parse::<NpsMethod>().is_err());
        for m in ["adjusted_wald", "wald", "tango", "dirichlet", "bootstrap"] {
            assert_eq!(m.parse::<NpsMethod>().unwrap().id(), m);
        }

        // Weighted data: the tally-based bootstrap refuses and names the rows-based function.
        let mut w = NpsTally::new();
        w.fold(&[10u8, 3, 8], Some(&[1.0, 2.0, 0.5]), NanPolicy::Omit)
            .unwrap();
        let rw = w.result();
        match rw.ci(
            0.95,
            NpsMethod::Bootstrap {
                n_resamples: 100,
                seed: 1,
            },
        ) {
            Err(Error::InvalidArgument { name, message }) => {
                assert_eq!(name, "method");
                assert!(message.contains("bootstrap_ci"), "{message}");
            }
            other => panic!("expected an error naming bootstrap_ci, got {other:?}"),
        }
        assert!(bootstrap_ci(
            &[10u8, 3, 8],
            Some(&[1.0, 2.0, 0.5]),
            0.95,
            100,
            1,
            NanPolicy::Omit
        )
        .is_ok());
        assert!(matches!(
            bootstrap_ci(&[10u8, 3], Some(&[1.0]), 0.95, 100, 1, NanPolicy::Omit),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(matches!(
            bootstrap_ci(&[10u8, 11], None, 0.95, 100, 1, NanPolicy::Omit),
            Err(Error::OutOfRange { index: 1, .. })
        ));
        assert_eq!(
            bootstrap_ci(&[10u8, 3], Some(&[0.0, 0.0]), 0.95, 100, 1, NanPolicy::Omit),
            Err(Error::Undefined(UndefinedReason::ZeroTotalWeight))
        );

        // Planning.
        let wc = AnticipatedVariance::WorstCase;
        assert!(sample_size(0.0, 0.95, NpsMethod::Wald, wc).is_err());
        assert!(sample_size(0.05, 1.0, NpsMethod::Wald, wc).is_err());
        assert!(sample_size(0.05, 0.95, NpsMethod::Tango, wc).is_err());
        let bad = AnticipatedVariance::Shares {
            promoters: 0.7,
            detractors: 0.4,
        };
        assert!(sample_size(0.05, 0.95, NpsMethod::Wald, bad).is_err());
        assert!(sample_size(
            0.05,
            0.95,
            NpsMethod::Wald,
            AnticipatedVariance::Variance(1.5)
        )
        .is_err());
        assert!(sample_size_two_groups(0.0, 0.05, 0.8, wc).is_err());
        assert!(sample_size(1e-200, 0.95, NpsMethod::Wald, wc).is_err());
        assert!(sample_size_two_groups(1e-200, 0.05, 0.8, wc).is_err());
        assert!(sample_size_two_groups(0.1, 0.0, 0.8, wc).is_err());
        assert!(sample_size_two_groups(0.1, 0.05, 1.0, wc).is_err());

        // Paired tallies.
        let mut p = PairedTally::new();
        assert!(matches!(
            p.fold(&[1u8, 2], &[3u8], None, NanPolicy::Omit),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(matches!(
            p.fold(&[1.0, f64::NAN], &[3.0, 4.0], None, NanPolicy::Raise),
            Err(Error::Missing { index: 1 })
        ));
        assert!(matches!(
            p.fold(&[1u8, 2], &[3u8, 4], Some(&[1.0, -1.0]), NanPolicy::Raise),
            Err(Error::InvalidWeight { index: 1, .. })
        ));
        assert_eq!(p, PairedTally::new());
        assert_eq!(
            p.result().ci(0.95),
            Err(Error::Undefined(UndefinedReason::NoRows))
        );
    }

    #[test]
    fn shares_planning_uses_their_variance() {
        // V = 0.5 + 0.2 − 0.3² = 0.61; n = ⌈1.959964² · 0.61 / 0.05²⌉ = ⌈937.29⌉ = 938.
        let s = AnticipatedVariance::Shares {
            promoters: 0.5,
            detractors: 0.2,
        };
        assert!((s.variance().unwrap() - 0.61).abs() < 1e-15);
        assert_eq!(sample_size(0.05, 0.95, NpsMethod::Wald, s).unwrap(), 938);
        assert_eq!(
            sample_size(0.05, 0.95, NpsMethod::AdjustedWald, s).unwrap(),
            935
        );
        assert_eq!(
            sample_size(1.9, 0.95, NpsMethod::AdjustedWald, s).unwrap(),
            1
        );
    }

    #[test]
    fn paired_difference_matches_the_per_respondent_differences() {
        // s_a = [1,1,−1,0,1,−1,0,1], s_b = [1,−1,−1,1,0,−1,0,1], d = [0,2,0,−1,1,0,0,0]:
        // mean 0.25, population variance 6/8 − 0.0625 = 0.6875, SE √(0.6875/8).
        let a = [10u8, 9, 3, 7, 10, 0, 8, 9];
        let b = [9u8, 6, 3, 10, 8, 0, 8, 10];
        let mut t = PairedTally::new();
        t.fold(&a, &b, None, NanPolicy::Raise).unwrap();
        let r = t.result();
        let se = (0.6875f64 / 8.0).sqrt();
        assert!((r.difference - 0.25).abs() < 1e-15);
        assert!((r.score_a - 0.25).abs() < 1e-15 && r.score_b.abs() < 1e-15);
        assert!((r.std_error - se).abs() < 1e-15);
        assert!((r.z - 0.25 / se).abs() < 1e-13);
        let ci = r.ci(0.95).unwrap();
        let z = crate::intervals::z_two_sided(0.95).unwrap();
        assert!((ci.low - (0.25 - z * se)).abs() < 1e-15);
        // Merging two halves equals folding the whole; a missing pair is omitted and counted.
        let mut h = PairedTally::new();
        h.fold(&a[..3], &b[..3], None, NanPolicy::Raise).unwrap();
        let mut g = PairedTally::new();
        g.fold(&a[3..], &b[3..], None, NanPolicy::Raise).unwrap();
        h.merge(&g).unwrap();
        assert_eq!(h, t);
        h.push(f64::NAN, 3.0, 1.0, NanPolicy::Omit).unwrap();
        assert_eq!(h.n_omitted(), 1);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<PairedTally>(&json).unwrap(), h);
    }
}
