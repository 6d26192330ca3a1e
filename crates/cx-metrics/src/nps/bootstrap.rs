//! Seeded percentile bootstrap of the NPS: from counts (unweighted) or from rows (weighted).
//!
//! Each resample b draws from its own ChaCha8 stream (`seed`, stream b), so results depend only on
//! the seed, never on the number of threads.

use rand::{Rng, RngExt};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::NpsTally;
use crate::error::{Error, Result, UndefinedReason};
use crate::intervals::{check_level, Interval};
use crate::resample::{quantile_sorted, stream, Family};
use crate::scale::{NanPolicy, NpsCategory, RawValue};

/// A percentile-bootstrap interval computed from rows, with its bookkeeping.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapCi {
    /// The percentile interval (linear interpolation between order statistics, numpy's default).
    pub interval: Interval,
    /// NPS of the rows as given.
    pub score: f64,
    /// Standard deviation of the resampled scores (the bootstrap standard error).
    pub std_error: f64,
    /// Resamples drawn.
    pub n_resamples: usize,
    /// Resamples whose weights summed to zero (no NPS; left out of the percentiles and counted here).
    pub n_undefined: usize,
    /// How the resamples were drawn (row by row, or by category sums at large n).
    pub method: BootstrapMethod,
}

/// How [`bootstrap_ci`] draws a resample of weighted rows.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootstrapMethod {
    /// n rows drawn with replacement, one by one: cost O(n) per resample.
    Resampled,
    /// The large-sample method: the numbers of detractor, passive and promoter rows drawn follow
    /// their exact multinomial law, and the sum of the weights drawn in each category is normal
    /// with its exact mean and variance (k·μ, k·σ² for k rows of a category whose weights have mean
    /// μ and variance σ²): cost O(1) per resample. Used when every category has at least
    /// [`CATEGORY_SUMS_MIN_ROWS`] rows and the Berry–Esseen bound on the normal approximation of
    /// each category's sum is at most [`CATEGORY_SUMS_MAX_BOUND`].
    CategorySums,
}

impl BootstrapMethod {
    /// The method's name, as printed.
    pub fn name(self) -> &'static str {
        match self {
            Self::Resampled => "bootstrap",
            Self::CategorySums => "bootstrap_category_sums",
        }
    }
}

/// Rows every NPS category needs for the large-sample method of the weighted bootstrap
/// ([`BootstrapMethod::CategorySums`]).
pub const CATEGORY_SUMS_MIN_ROWS: u64 = 10_000;

/// Largest Berry–Esseen bound, C·ρ/(σ³√k) with C = 0.4748 (Shevtsova 2011), on the distance
/// between the law of a category's sum of k resampled weights and its normal approximation, for
/// which the large-sample method is used.
pub const CATEGORY_SUMS_MAX_BOUND: f64 = 0.01;

const BERRY_ESSEEN_C: f64 = 0.4748;

/// Mean, variance and third absolute central moment of the weights of one category (population
/// moments: those of one draw from the category's rows).
#[derive(Debug, Clone, Copy)]
struct CategoryWeights {
    rows: u64,
    mean: f64,
    variance: f64,
    third: f64,
}

impl CategoryWeights {
    fn of(weights: impl Iterator<Item = f64> + Clone) -> Self {
        let (rows, sum) = weights
            .clone()
            .fold((0u64, 0.0), |(k, s), w| (k + 1, s + w));
        if rows == 0 {
            return Self {
                rows,
                mean: 0.0,
                variance: 0.0,
                third: 0.0,
            };
        }
        let mean = sum / rows as f64;
        let (m2, m3) = weights.fold((0.0, 0.0), |(a, b), w| {
            let d = w - mean;
            (a + d * d, b + d * d * d.abs())
        });
        Self {
            rows,
            mean,
            variance: m2 / rows as f64,
            third: m3 / rows as f64,
        }
    }

    /// Whether the normal law of this category's sum is close enough (an empty category, or equal
    /// weights, whose sums are exact, always is).
    fn normal_enough(&self) -> bool {
        if self.rows == 0 || self.variance == 0.0 {
            return true;
        }
        let bound = BERRY_ESSEEN_C * self.third
            / (self.variance * self.variance.sqrt() * (self.rows as f64).sqrt());
        self.rows >= CATEGORY_SUMS_MIN_ROWS && bound <= CATEGORY_SUMS_MAX_BOUND
    }

    /// A draw of the sum of `k` weights drawn from the category (`z` standard normal).
    fn sum(&self, k: u64, z: f64) -> f64 {
        let k = k as f64;
        k * self.mean + (k * self.variance).sqrt() * z
    }
}

fn standard_normal<R: Rng>(rng: &mut R) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    // Inversion of a uniform in (0, 1): one uniform per draw, exact to the inverse CDF's accuracy.
    let u: f64 = rng.random();
    let u = u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
    Normal::standard().inverse_cdf(u)
}

fn rng_for(seed: u64, resample: usize) -> ChaCha8Rng {
    stream(seed, Family::Expanded, resample as u64)
}

fn check_resamples(n_resamples: usize) -> Result<()> {
    crate::resample::check_resamples(
        "n_resamples",
        n_resamples,
        1,
        "draw at least 1 resample (thousands for a stable interval)",
    )
}

/// Binomial(n, p) sampler: rand_distr's BTPE (Kachitvichyanukul & Schmeiser 1988, the algorithm
/// numpy uses), O(1) expected time per draw whatever n. It draws the rarer side (p ≤ ½) and
/// orients the draw, so swapping successes and failures mirrors every draw exactly (k ↔ n − k).
struct Binomial {
    n: u64,
    flip: bool,
    law: rand_distr::Binomial,
}

impl Binomial {
    /// Bin(n, s / (s + f)), from the integer counts of successes `s` and failures `f` that define
    /// the probability (no successes and no failures: every draw is 0).
    fn new(n: u64, s: u64, f: u64) -> Self {
        let flip = s > f;
        let total = s.saturating_add(f);
        let p = if total > 0 {
            s.min(f) as f64 / total as f64
        } else {
            0.0
        };
        Self {
            n,
            flip,
            law: rand_distr::Binomial::new(n, p).expect("0 <= p <= 1/2"),
        }
    }

    fn sample<R: Rng>(&self, rng: &mut R) -> u64 {
        self.orient(rand_distr::Distribution::sample(&self.law, rng))
    }

    fn orient(&self, k: u64) -> u64 {
        if self.flip {
            self.n - k
        } else {
            k
        }
    }
}

fn percentiles(mut reps: Vec<f64>, level: f64) -> (f64, f64) {
    reps.sort_by(f64::total_cmp);
    let a = (1.0 - level) / 2.0;
    (quantile_sorted(&reps, a), quantile_sorted(&reps, 1.0 - a))
}

/// Percentile interval from category counts (detractors, passives, promoters): each resample draws
/// a multinomial(n; shares) sample as two binomials (passives, then promoters among the rest), the
/// same law as resampling the n rows. Swapping promoters and detractors negates every replicate.
pub(crate) fn from_counts(
    counts: [u64; 3],
    level: f64,
    n_resamples: usize,
    seed: u64,
) -> Result<(f64, f64)> {
    check_level(level)?;
    check_resamples(n_resamples)?;
    let [d, o, p] = counts;
    let n = d + o + p;
    if n == 0 {
        return Err(Error::Undefined(UndefinedReason::NoRows));
    }
    let passives = Binomial::new(n, o, p + d);
    let reps: Vec<f64> = (0..n_resamples)
        .into_par_iter()
        .map(|b| {
            let mut rng = rng_for(seed, b);
            let rest = n - passives.sample(&mut rng);
            let xp = Binomial::new(rest, p, d).sample(&mut rng);
            (xp as f64 - (rest - xp) as f64) / n as f64
        })
        .collect();
    Ok(percentiles(reps, level))
}

/// Seeded percentile-bootstrap interval of the NPS from rows, for weighted (or unweighted) data.
///
/// Values are validated as in [`NpsTally::fold`] (same errors, same `nan_policy`); missing rows are
/// left out. Each resample draws n of the counted rows with replacement and computes the weighted
/// NPS Σw·s / Σw; a resample whose weights sum to zero has no NPS and is counted in `n_undefined`.
/// Cost O(n_resamples × n); reproducible for a seed whatever the number of threads.
///
/// At large n ([`BootstrapMethod::CategorySums`]: every category with at least
/// [`CATEGORY_SUMS_MIN_ROWS`] rows and weights whose sums are close to normal) a resample costs
/// O(1): the numbers of rows drawn per category are exact multinomial draws and each category's sum
/// of weights is drawn from its normal law. The result says which method was used.
///
/// ```
/// use cx_metrics::nps::bootstrap_ci;
/// use cx_metrics::NanPolicy;
/// let v = [10u8, 9, 3, 7, 10, 0, 8, 9];
/// let w = [1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 3.0, 1.0];
/// let b = bootstrap_ci(&v, Some(&w), 0.9, 2000, 7, NanPolicy::Omit).unwrap();
/// assert!(b.interval.low <= b.score && b.score <= b.interval.high);
/// ```
pub fn bootstrap_ci<T: RawValue>(
    values: &[T],
    weights: Option<&[f64]>,
    confidence_level: f64,
    n_resamples: usize,
    seed: u64,
    nan_policy: NanPolicy,
) -> Result<BootstrapCi> {
    bootstrap_rows(
        values,
        weights,
        confidence_level,
        n_resamples,
        seed,
        nan_policy,
        None,
    )
}

/// [`bootstrap_ci`], with the method chosen by its rule (`None`) or forced (the tests compare the two
/// methods where both apply).
fn bootstrap_rows<T: RawValue>(
    values: &[T],
    weights: Option<&[f64]>,
    confidence_level: f64,
    n_resamples: usize,
    seed: u64,
    nan_policy: NanPolicy,
    force: Option<BootstrapMethod>,
) -> Result<BootstrapCi> {
    check_level(confidence_level)?;
    check_resamples(n_resamples)?;
    let mut tally = NpsTally::new();
    tally.fold(values, weights, nan_policy)?;
    let result = tally.result();
    result.check_defined()?;
    // Weights beyond 2^±256 are scaled by a power of two (exact), as in the tally, so that the
    // resampled sums can neither overflow nor underflow: the same interval for weights of any unit.
    let e = weights.map_or(0, |w| {
        crate::weights::tally_exponent(crate::weights::max_of(w))
    });
    // Every non-missing value is valid now: keep (score, weight) of the counted rows.
    let rows: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_missing())
        .filter_map(|(i, v)| {
            let point = v.as_i64()?;
            let s = NpsCategory::of(point as u8).sign();
            let w = weights.and_then(|w| w.get(i).copied()).unwrap_or(1.0);
            Some((s, crate::weights::ldexp(w, -e)))
        })
        .collect();
    let n = rows.len();
    let category =
        |sign: f64| CategoryWeights::of(rows.iter().filter(move |r| r.0 == sign).map(|r| r.1));
    let [d, o, p] = [category(-1.0), category(0.0), category(1.0)];
    let method = force.unwrap_or(
        if d.normal_enough() && o.normal_enough() && p.normal_enough() {
            BootstrapMethod::CategorySums
        } else {
            BootstrapMethod::Resampled
        },
    );
    let reps: Vec<Option<f64>> = match method {
        BootstrapMethod::CategorySums => {
            let passives = Binomial::new(n as u64, o.rows, p.rows + d.rows);
            (0..n_resamples)
                .into_par_iter()
                .map(|b| {
                    let mut rng = rng_for(seed, b);
                    let rest = n as u64 - passives.sample(&mut rng);
                    let kp = Binomial::new(rest, p.rows, d.rows).sample(&mut rng);
                    let kd = rest - kp;
                    let ko = n as u64 - rest;
                    let sd = d.sum(kd, standard_normal(&mut rng));
                    let so = o.sum(ko, standard_normal(&mut rng));
                    let sp = p.sum(kp, standard_normal(&mut rng));
                    let sw = sd + so + sp;
                    (sw > 0.0).then(|| (sp - sd) / sw)
                })
                .collect()
        }
        BootstrapMethod::Resampled => (0..n_resamples)
            .into_par_iter()
            .map(|b| {
                let mut rng = rng_for(seed, b);
                let (mut sw, mut sws) = (0.0, 0.0);
                for _ in 0..n {
                    let (s, w) = rows[rng.random_range(0..n)];
                    sw += w;
                    sws += w * s;
                }
                (sw > 0.0).then(|| sws / sw)
            })
            .collect(),
    };
    let defined: Vec<f64> = reps.iter().flatten().copied().collect();
    let n_undefined = n_resamples - defined.len();
    if defined.is_empty() {
        return Err(Error::Undefined(UndefinedReason::ZeroTotalWeight));
    }
    let m = defined.iter().sum::<f64>() / defined.len() as f64;
    let var = if defined.len() > 1 {
        defined.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (defined.len() - 1) as f64
    } else {
        0.0
    };
    let (lo, hi) = percentiles(defined, confidence_level);
    Ok(BootstrapCi {
        interval: Interval::new(lo, hi, confidence_level),
        score: result.score,
        std_error: var.sqrt(),
        n_resamples,
        n_undefined,
        method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of the three categories in given numbers, with weights uniform on [0.5, 2) (or
    /// log-normal with σ `spread` when it is given), in a fixed order.
    fn weighted_rows(counts: [usize; 3], spread: Option<f64>) -> (Vec<u8>, Vec<f64>) {
        use rand::SeedableRng;
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut values = Vec::new();
        for (point, &k) in [3u8, 7, 10].iter().zip(&counts) {
            values.extend(std::iter::repeat_n(*point, k));
        }
        let weights = values
            .iter()
            .map(|_| match spread {
                None => 0.5 + 1.5 * rng.random::<f64>(),
                Some(s) => (s * standard_normal(&mut rng)).exp(),
            })
            .collect();
        (values, weights)
    }

    #[test]
    fn category_sums_agree_with_resampling_rows_where_both_apply() {
        // 3e4 rows, every category at least 1e4: the rule picks the category sums. The resampled
        // rows give the same law (up to the normal approximation of each category's sum, within
        // Berry-Esseen 0.01): the intervals agree to well within the Monte Carlo error of 4000
        // resamples (about 0.05 of the standard error at the tails), and so do the standard errors.
        let (v, w) = weighted_rows([10_000, 10_000, 12_000], None);
        let auto = bootstrap_ci(&v, Some(&w), 0.95, 4000, 3, NanPolicy::Omit).unwrap();
        assert_eq!(auto.method, BootstrapMethod::CategorySums);
        let rows = bootstrap_rows(
            &v,
            Some(&w),
            0.95,
            4000,
            3,
            NanPolicy::Omit,
            Some(BootstrapMethod::Resampled),
        )
        .unwrap();
        let se = rows.std_error;
        assert!(
            (auto.std_error / se - 1.0).abs() < 0.05,
            "{} vs {se}",
            auto.std_error
        );
        assert!((auto.interval.low - rows.interval.low).abs() < 0.15 * se);
        assert!((auto.interval.high - rows.interval.high).abs() < 0.15 * se);
        // The linearised (Taylor) standard error of the weighted NPS is what both estimate.
        let mut t = NpsTally::new();
        t.fold(&v, Some(&w), NanPolicy::Omit).unwrap();
        let lin = t.result().se_linearised;
        assert!(
            (auto.std_error / lin - 1.0).abs() < 0.05,
            "{} vs {lin}",
            auto.std_error
        );
    }

    #[test]
    fn rows_are_resampled_when_a_category_is_small_or_its_weights_far_from_normal() {
        let (v, w) = weighted_rows([9_999, 20_000, 20_000], None);
        let b = bootstrap_ci(&v, Some(&w), 0.9, 50, 1, NanPolicy::Omit).unwrap();
        assert_eq!(b.method, BootstrapMethod::Resampled);
        // Log-normal weights with σ = 3 are so skewed that 2e4 of them do not sum to a normal law
        // within the bound: rows are resampled.
        let heavy = CategoryWeights::of(weighted_rows([0, 0, 20_000], Some(3.0)).1.into_iter());
        assert!(!heavy.normal_enough());
        let light = CategoryWeights::of(weighted_rows([0, 0, 20_000], Some(0.3)).1.into_iter());
        assert!(light.normal_enough());
        // Equal weights: a category's sum is exact whatever its size.
        let equal = CategoryWeights::of(std::iter::repeat_n(2.0, 5));
        assert!(equal.normal_enough() && equal.sum(3, 1.7) == 6.0);
    }
    use statrs::function::factorial::binomial;

    #[test]
    fn binomial_sampler_follows_the_binomial_law() {
        // 40 000 draws of Bin(20, 0.3) and Bin(20, 0.8): each frequency within 5 standard errors of
        // the exact pmf.
        for (succ, fail) in [(3, 7), (4, 1)] {
            let p = succ as f64 / (succ + fail) as f64;
            let s = Binomial::new(20, succ, fail);
            let mut rng = rng_for(11, 0);
            let draws = 40_000;
            let mut freq = [0u32; 21];
            for _ in 0..draws {
                freq[s.sample(&mut rng) as usize] += 1;
            }
            for (k, &c) in freq.iter().enumerate() {
                let pk = binomial(20, k as u64) * p.powi(k as i32) * (1.0 - p).powi(20 - k as i32);
                let se = (pk * (1.0 - pk) / draws as f64).sqrt();
                let got = f64::from(c) / draws as f64;
                assert!(
                    (got - pk).abs() <= 5.0 * se + 1e-9,
                    "p={p} k={k}: {got} vs {pk}"
                );
            }
        }
        // Large n: mean and variance of Bin(10^8, 0.45).
        let s = Binomial::new(100_000_000, 45, 55);
        let mut rng = rng_for(5, 1);
        let xs: Vec<f64> = (0..4000).map(|_| s.sample(&mut rng) as f64).collect();
        let m = xs.iter().sum::<f64>() / 4000.0;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 3999.0;
        let (em, ev): (f64, f64) = (4.5e7, 1e8 * 0.45 * 0.55);
        assert!((m - em).abs() < 5.0 * (ev / 4000.0).sqrt());
        assert!((v / ev - 1.0).abs() < 0.1);
    }
}
