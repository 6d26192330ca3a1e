//! How sure is the driver ranking: the case-resampling bootstrap of a driver analysis.
//!
//! [`bootstrap`] resamples the analysed rows with replacement (case resampling, each row carrying its
//! survey weight) and recomputes every coefficient and every requested importance measure on each
//! replicate. From the `B` replicates it reports, per quantity, the bootstrap standard error and bias,
//! the percentile interval and the BCa interval; for every pair of ranked drivers the difference of
//! their importances with its intervals and a p-value adjusted for multiplicity
//! ([`PValueAdjustment`], Holm by default); and how stable the ranking is: each driver's rank interval,
//! its probability of being the top driver and the full matrix of rank probabilities.
//!
//! # Method
//!
//! Nothing is refitted from rows. The rows are standardized once (weighted mean and standard
//! deviation); a replicate draws `n` row indices uniformly, counts each row's multiplicity `mᵢ`, and
//! folds one pass of weighted sums `Σ mᵢwᵢ`, `Σ mᵢwᵢ zᵢ`, `Σ mᵢwᵢ zᵢzᵢᵀ` (the replicate's co-moments,
//! with replicate weight `mᵢwᵢ`). Its coefficients come from the normal equations in correlation form
//! and its importance measures from its correlation matrix by
//! [`relative_importance`], exactly as in [`driver_analysis`](super::driver_analysis).
//!
//! Replicate `b` draws from a ChaCha8 generator keyed by the seed, on stream `b`: results depend on
//! the seed only, never on the number of threads (replicates run in parallel with rayon and are
//! collected in replicate order). A replicate whose resample cannot be fitted (a driver without
//! variation, collinear drivers) is counted in [`DriverBootstrap::n_failed`] and left out.
//!
//! **Percentile interval** (Efron & Tibshirani 1993, §13.3): the `α/2` and `1 − α/2` quantiles of the
//! replicates (linear interpolation between order statistics, as numpy's default and
//! `scipy.stats.bootstrap`).
//!
//! **BCa interval** (Efron 1987; Efron & Tibshirani 1993, §14.3): the quantiles at
//! `α₁ = Φ(ẑ₀ + (ẑ₀ + z_{α/2}) / (1 − â(ẑ₀ + z_{α/2})))` and `α₂` likewise with `z_{1−α/2}`, where the
//! bias correction is `ẑ₀ = Φ⁻¹([#{θ*_b < θ̂} + #{θ*_b ≤ θ̂}] / 2B)` (ties count half) and the acceleration
//! `â = Σ(θ̄₍.₎ − θ̂₍ᵢ₎)³ / (6 [Σ(θ̄₍.₎ − θ̂₍ᵢ₎)²]^{3/2})` comes from the leave-one-out jackknife. The `n`
//! jackknife values are computed by subtracting each row's contribution from the full-sample sums,
//! not by `n` refits. The definitions are those of `scipy.stats.bootstrap(method="BCa")`.
//!
//! **Differences and p-values**: for drivers `j` and `l` the difference `θ_j − θ_l` is bootstrapped
//! replicate by replicate (the replicates are paired). Its two-sided p-value is the percentile-interval
//! inversion `min(1, 2(1 + min(#{d* ≤ 0}, #{d* ≥ 0}))/(B + 1))` (Davison & Hinkley 1997, §4.4).
//!
//! **Shares**: with every measure the bootstrap also summarises each unit's *share*, its score divided
//! by the sum of the measure's scores in the same replicate (`θ_j / Σ_l θ_l`, relaimpo's
//! `rela = TRUE` and [`MeasureScores::share`](crate::importance::MeasureScores::share), the importance
//! axis of the [matrix](super::matrix) by default). For the measures that decompose R² (LMG, Johnson,
//! Pratt, CAR) the sum is the replicate's R² (less the R² of the `always` covariates), so the share is
//! `LMG_j / R²` of that replicate; for `last`, `first` and `beta_squared` it is the measure's own
//! normalisation. Numerator and denominator move together across replicates, so the share interval is
//! not the R²-unit interval divided by the full-sample R² (that ratio ignores the denominator's
//! variation and its correlation with the numerator). The jackknife of the share (for BCa) divides the
//! leave-one-out scores by their own sum, from the same leave-one-out sums. A replicate whose scores
//! sum to 0 (or to a non-finite figure) has no shares: it is counted in
//! [`MeasureBootstrap::n_share_failed`] and left out of the share intervals only.
//!
//! **Ranks**: in every replicate the units are ranked by the first requested measure (rank 1 = most
//! important). Each row of [`RankProbabilities::probabilities`] (a driver) and each column (a rank)
//! sums to 1.
//!
//! With `missing = indicator` the filled values stay those of the full sample; because the indicator
//! is adjusted for in every model, the fill value does not change any ranked driver's coefficient or
//! importance. The `pairwise` policy has no rows to resample and is refused.
//!
//! # Speed
//!
//! One replicate costs one pass over the rows (`O(n p²)`) plus the importance measures on a
//! `(p+1)×(p+1)` matrix; the jackknife costs the measures `n` times. See `benches/benches/bootstrap.rs`.
//!
//! # References
//! - Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*. Cambridge.
//! - Efron, B. (1987). Better bootstrap confidence intervals. *JASA* 82(397), 171–185.
//! - Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.

use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::missing::{self, Columns, MissingPolicy};
use super::{data, DriverOptions};
use crate::error::{Error, Result};
use crate::importance::{relative_importance, ImportanceMeasure, ImportanceOptions};
use crate::intervals::{check_level, normal_quantile, Interval};
use crate::multiple::PValueAdjustment;
use crate::regression::INTERCEPT;
use crate::resample::quantile_sorted;
use crate::resample::{stream, Family, DRIVER_BOOTSTRAP};
use statrs::distribution::{ContinuousCDF, Normal};

/// The default number of bootstrap replicates.
pub const DEFAULT_RESAMPLES: usize = 1000;

/// Smallest admitted pivot of the drivers' correlation matrix in a replicate (as in the importance
/// measures): below it the replicate counts as collinear.
const PIVOT_TOLERANCE: f64 = 1e-10;

/// Smallest admitted variance of a standardized variable per unit weight in a replicate (1 in the
/// full sample): below it the variable is constant in the resample up to rounding.
const VARIANCE_TOLERANCE: f64 = 1e-10;

/// Options of [`bootstrap`]. Start from `default()` and set what you need.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapOptions {
    /// Number of replicates `B` (default [`DEFAULT_RESAMPLES`], 1000; at least 2; BCa intervals
    /// want 1000 or more).
    pub n_resamples: usize,
    /// Seed of the resampling; the result depends on it only, not on the thread count.
    pub seed: u64,
    /// Confidence level of every interval (default 0.95).
    pub confidence_level: f64,
    /// Importance measures to bootstrap (default `[lmg, johnson]`); the first ranks the drivers. Empty:
    /// coefficients only.
    pub measures: Vec<ImportanceMeasure>,
    /// Adjustment of p-values reported together (default Holm).
    pub adjustment: PValueAdjustment,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            n_resamples: DEFAULT_RESAMPLES,
            seed: 0,
            confidence_level: 0.95,
            measures: vec![ImportanceMeasure::Lmg, ImportanceMeasure::Johnson],
            adjustment: PValueAdjustment::Holm,
        }
    }
}

impl BootstrapOptions {
    /// Set the number of replicates.
    pub fn with_resamples(mut self, n_resamples: usize) -> Self {
        self.n_resamples = n_resamples;
        self
    }
    /// Set the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Set the confidence level of the intervals.
    pub fn with_confidence_level(mut self, confidence_level: f64) -> Self {
        self.confidence_level = confidence_level;
        self
    }
    /// Set the measures (the first ranks the drivers; empty = coefficients only).
    pub fn with_measures(mut self, measures: &[ImportanceMeasure]) -> Self {
        self.measures = measures.to_vec();
        self
    }
    /// Set the multiplicity adjustment.
    pub fn with_adjustment(mut self, adjustment: PValueAdjustment) -> Self {
        self.adjustment = adjustment;
        self
    }

    pub(crate) fn check(&self) -> Result<()> {
        check_level(self.confidence_level)?;
        crate::resample::check_resamples(
            "n_resamples",
            self.n_resamples,
            2,
            "at least 2 replicates are needed (1000 or more for BCa)",
        )
    }
}

/// The bootstrap distribution of one quantity, summarised.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapEstimate {
    /// What is estimated (a term, a driver, or `"a − b"` for a difference).
    pub name: String,
    /// The full-sample estimate θ̂.
    #[serde(with = "crate::serde_nan")]
    pub estimate: f64,
    /// Bootstrap standard error: the standard deviation of the replicates (divisor `B − 1`).
    #[serde(with = "crate::serde_nan")]
    pub std_error: f64,
    /// Bootstrap bias: mean of the replicates minus θ̂.
    #[serde(with = "crate::serde_nan")]
    pub bias: f64,
    /// Percentile interval.
    pub percentile: Interval,
    /// BCa interval; `None` when the bias correction is infinite (every replicate on one side of θ̂,
    /// or all replicates equal).
    pub bca: Option<Interval>,
    /// The BCa bias correction ẑ₀ (infinite when every replicate lies on one side of θ̂; serde writes
    /// a non-finite figure as `null`, read back as NaN).
    #[serde(with = "crate::serde_nan")]
    pub bias_correction: f64,
    /// The BCa acceleration â (jackknife).
    #[serde(with = "crate::serde_nan")]
    pub acceleration: f64,
}

/// The bootstrapped difference of two drivers' importances.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportanceDifference {
    /// The first driver (or group).
    pub first: String,
    /// The second driver (or group).
    pub second: String,
    /// The difference `first − second` and its intervals.
    pub difference: BootstrapEstimate,
    /// Whether the percentile interval excludes 0.
    pub excludes_zero: bool,
    /// Two-sided bootstrap p-value of "no difference" (see the module docs).
    #[serde(with = "crate::serde_nan")]
    pub p_value: f64,
    /// `p_value` adjusted across all pairs of this measure.
    #[serde(with = "crate::serde_nan")]
    pub p_adjusted: f64,
    /// Whether `p_adjusted ≤ 1 − confidence_level`.
    pub significant: bool,
}

/// The bootstrap of one importance measure.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureBootstrap {
    /// The measure.
    pub measure: ImportanceMeasure,
    /// One per ranked unit, in the order of [`DriverBootstrap::units`].
    pub scores: Vec<BootstrapEstimate>,
    /// Every pair `(j, l)` with `j < l` in unit order.
    pub differences: Vec<ImportanceDifference>,
    /// The units' shares `θ_j / Σ_l θ_l` per replicate (see the module docs), one per unit in the
    /// order of [`DriverBootstrap::units`]; `None` when the full-sample scores sum to 0, when fewer
    /// than 2 replicates have shares, or in a result written before shares were bootstrapped.
    #[serde(default)]
    pub shares: Option<Vec<BootstrapEstimate>>,
    /// Fitted replicates whose scores of this measure sum to 0 (or to a non-finite figure): they
    /// have no shares and are left out of the share intervals (counted, never hidden).
    #[serde(default)]
    pub n_share_failed: usize,
}

/// Which bootstrap interval to read: the percentile interval or the BCa interval.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootstrapInterval {
    /// The percentile interval (the default).
    #[default]
    Percentile,
    /// The bias-corrected and accelerated interval.
    Bca,
}

impl BootstrapInterval {
    /// The snake_case name, as parsed by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Percentile => "percentile",
            Self::Bca => "bca",
        }
    }

    /// This interval of `estimate` (`None` for a BCa interval that is undefined).
    pub fn of(self, estimate: &BootstrapEstimate) -> Option<Interval> {
        match self {
            Self::Percentile => Some(estimate.percentile),
            Self::Bca => estimate.bca,
        }
    }
}

impl std::fmt::Display for BootstrapInterval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BootstrapInterval {
    type Err = Error;
    /// Parse `"percentile"` or `"bca"`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "percentile" => Ok(Self::Percentile),
            "bca" => Ok(Self::Bca),
            other => Err(Error::invalid(
                "interval",
                format!("{other:?}; use \"percentile\" or \"bca\""),
            )),
        }
    }
}

/// A rank interval: rank 1 is the most important.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankInterval {
    /// Best rank (the `α/2` quantile of the replicate ranks).
    pub low: usize,
    /// Worst rank (the `1 − α/2` quantile).
    pub high: usize,
}

/// How stable the ranking is across replicates.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankProbabilities {
    /// The measure that ranks.
    pub measure: ImportanceMeasure,
    /// `probabilities[j][r]`: share of replicates in which unit `j` has rank `r + 1`. Rows and columns
    /// sum to 1.
    pub probabilities: Vec<Vec<f64>>,
    /// Probability of being the top driver: `probabilities[j][0]`.
    pub top: Vec<f64>,
    /// Each unit's rank in the full sample.
    pub rank: Vec<usize>,
    /// Each unit's rank interval at the confidence level.
    pub intervals: Vec<RankInterval>,
}

/// The result of [`bootstrap`]: plain data.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverBootstrap {
    /// The outcome.
    pub outcome: String,
    /// The ranked units (drivers or groups), in the order of every score vector.
    pub units: Vec<String>,
    /// Rows resampled (complete rows with positive weight).
    pub n: usize,
    /// Replicates drawn.
    pub n_resamples: usize,
    /// Replicates that could not be fitted and were left out (counted, never hidden).
    pub n_failed: usize,
    /// Jackknife values that could not be computed (left out of the acceleration).
    pub n_jackknife_failed: usize,
    /// The seed.
    pub seed: u64,
    /// Confidence level of every interval.
    pub confidence_level: f64,
    /// The multiplicity adjustment of the pairwise differences.
    pub adjustment: PValueAdjustment,
    /// Intercept first, then the model's terms.
    pub coefficients: Vec<BootstrapEstimate>,
    /// One per requested measure.
    pub importance: Vec<MeasureBootstrap>,
    /// The ranking by the first measure (`None` without measures).
    pub ranks: Option<RankProbabilities>,
}

impl DriverBootstrap {
    /// The bootstrap of `measure`, if requested.
    pub fn measure(&self, measure: ImportanceMeasure) -> Option<&MeasureBootstrap> {
        self.importance.iter().find(|m| m.measure == measure)
    }

    /// The bootstrap of the coefficient of `term` (a term or `"(Intercept)"`).
    pub fn coefficient(&self, term: &str) -> Option<&BootstrapEstimate> {
        self.coefficients.iter().find(|c| c.name == term)
    }

    /// How many times each resampled row was drawn in replicate `replicate` (`0..n_resamples`):
    /// [`resample_counts`] with this result's `n` and seed. The rows are those the bootstrap
    /// resampled (complete rows with positive weight, in input order), so a replicate can be refitted
    /// elsewhere with the weights `count × weight`.
    pub fn resample_counts(&self, replicate: usize) -> Vec<u32> {
        resample_counts(self.n, self.seed, replicate)
    }
}

/// How many times each of `n` rows is drawn in replicate `replicate` of a [`bootstrap`] with `seed`
/// (the multiplicities `mᵢ` of the module docs; they sum to `n`). The draws depend on the seed and the
/// replicate only.
///
/// ```
/// use cx_metrics::drivers::bootstrap::resample_counts;
/// let m = resample_counts(50, 7, 3);
/// assert_eq!(m.iter().map(|&c| c as usize).sum::<usize>(), 50);
/// assert_eq!(m, resample_counts(50, 7, 3));
/// ```
pub fn resample_counts(n: usize, seed: u64, replicate: usize) -> Vec<u32> {
    let mut counts = vec![0; n];
    draw_counts(&mut counts, seed, 0, replicate);
    counts
}

/// Fill `counts` (one per row) with the multiplicities of replicate `replicate` of stratum `stratum`.
fn draw_counts(counts: &mut [u32], seed: u64, stratum: u64, replicate: usize) {
    let n = counts.len();
    let mut rng = replicate_rng(seed, stratum, replicate);
    counts.fill(0);
    for _ in 0..n {
        if let Some(c) = counts.get_mut(rng.random_range(0..n)) {
            *c += 1;
        }
    }
}

/// Bootstrap a driver analysis: intervals for every coefficient and importance, pairwise differences,
/// rank probabilities.
///
/// The inputs are those of [`driver_analysis`](super::driver_analysis) (`missing` may be `listwise`,
/// `raise` or `indicator`). See the module docs for the method.
///
/// # Errors
/// Those of [`driver_analysis`](super::driver_analysis) for the inputs; [`Error::InvalidArgument`] for
/// the `pairwise` policy, fewer than 2 replicates, an invalid confidence level, or when every replicate
/// fails.
///
/// ```
/// use cx_metrics::drivers::{bootstrap, BootstrapOptions, DriverOptions};
/// let ltr = [9.0, 7.0, 10.0, 4.0, 8.0, 6.0, 9.0, 3.0, 7.0, 10.0, 5.0, 8.0];
/// let ease = [6.0, 5.0, 7.0, 2.0, 5.0, 4.0, 7.0, 1.0, 4.0, 6.0, 3.0, 6.0];
/// let speed = [5.0, 6.0, 6.0, 3.0, 4.0, 5.0, 5.0, 2.0, 6.0, 7.0, 4.0, 4.0];
/// let boot = bootstrap(&ltr, &[("ease", &ease), ("speed", &speed)], None,
///     &DriverOptions::default(), &BootstrapOptions::default().with_resamples(200).with_seed(7)).unwrap();
/// let ranks = boot.ranks.unwrap();
/// assert!((ranks.top.iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// ```
pub fn bootstrap(
    outcome: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    options: &DriverOptions,
    boot: &BootstrapOptions,
) -> Result<DriverBootstrap> {
    boot.check()?;
    let engine = Engine::from_columns(outcome, drivers, weights, options, &boot.measures)?;
    let estimate = engine.estimate()?;
    let replicates = engine.replicates(boot.n_resamples, boot.seed, 0);
    let jackknife = engine.jackknife();
    summarise(&engine, &estimate, &replicates, &jackknife, options, boot)
}

/// The standardized rows of an analysis and how to turn weighted sums into its statistics.
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    /// Variables per row: the model's terms, then the outcome.
    k: usize,
    /// Row-major `n×k`, standardized: `(x − center) / scale`.
    z: Vec<f64>,
    /// Weights of the rows (all positive).
    w: Vec<f64>,
    /// The packed products of every row (row-major, `packed_len(k)` each), when small enough to store.
    products: Option<Vec<f64>>,
    center: Vec<f64>,
    scale: Vec<f64>,
    /// The model's terms.
    pub terms: Vec<String>,
    /// The ranked units, if any measure is requested.
    pub units: Vec<String>,
    pub measures: Vec<ImportanceMeasure>,
    importance: ImportanceOptions,
    /// Rows with positive weight.
    pub n: usize,
}

/// Weighted sums of one replicate, packed: `[Σ w, Σ w zₐ (a < k), Σ w zₐ z_b (a ≤ b, row by row)]`.
#[derive(Debug, Clone)]
struct Sums {
    v: Vec<f64>,
}

/// Length of the packed sums of `k` variables.
fn packed_len(k: usize) -> usize {
    1 + k + k * (k + 1) / 2
}

impl Sums {
    fn zeros(k: usize) -> Self {
        Self {
            v: vec![0.0; packed_len(k)],
        }
    }

    fn s0(&self) -> f64 {
        self.v[0]
    }

    /// `self += m · row` (a packed row of products).
    #[inline]
    fn add_scaled(&mut self, row: &[f64], m: f64) {
        for (s, &x) in self.v.iter_mut().zip(row) {
            *s += m * x;
        }
    }
}

/// The packed products `[w, w zₐ, w zₐ z_b]` of one standardized row `z` with weight `w`.
fn pack_row(z: &[f64], w: f64, out: &mut [f64]) {
    let k = z.len();
    out[0] = w;
    let mut t = 1 + k;
    for (a, &za) in z.iter().enumerate() {
        let wa = w * za;
        out[1 + a] = wa;
        for &zb in &z[a..] {
            out[t] = wa * zb;
            t += 1;
        }
    }
}

/// Rows × packed length above which the packed products are formed on the fly instead of stored.
const MAX_STORED_PRODUCTS: usize = 1 << 23;

/// The generator of replicate `replicate` of stratum `stratum` (0 for an unstratified bootstrap).
pub(crate) fn replicate_rng(seed: u64, stratum: u64, replicate: usize) -> ChaCha8Rng {
    let family = Family::Keyed {
        tag: DRIVER_BOOTSTRAP,
        stratum,
    };
    stream(seed, family, replicate as u64)
}

impl Engine {
    /// Validate and prepare the rows as [`driver_analysis`](super::driver_analysis) does.
    pub(crate) fn from_columns(
        outcome: &[f64],
        drivers: &[(&str, &[f64])],
        weights: Option<&[f64]>,
        options: &DriverOptions,
        measures: &[ImportanceMeasure],
    ) -> Result<Self> {
        if options.missing == MissingPolicy::Pairwise {
            return Err(Error::invalid(
                "missing",
                "\"pairwise\" leaves no complete rows to resample; use \"listwise\" or \"indicator\"",
            ));
        }
        let name = options.outcome.as_str();
        data::check_shape(name, outcome, drivers, weights)?;
        // The declared scales are checked and the declared missing codes become missing values, as
        // in the analysis: the bootstrap resamples the analysed sample.
        let declared = data::declared_values(outcome, drivers, options)?;
        let outcome: &[f64] = declared.y.as_deref().unwrap_or(outcome);
        let recoded: Vec<(&str, &[f64])> = drivers
            .iter()
            .zip(&declared.drivers)
            .map(|((n, c), r)| (*n, r.as_deref().unwrap_or(c)))
            .collect();
        let drivers = recoded.as_slice();
        let finite = data::check_values(name, outcome, drivers)?;
        let names: Vec<&str> = drivers.iter().map(|(n, _)| *n).collect();
        data::check_names(&names, options)?;
        let cols = Columns {
            outcome: name,
            y: outcome,
            drivers,
            weights,
            finite,
        };
        let rows = missing::prepare(&cols, options.missing, &options.indicator_for)?;
        let k = rows.names.len() + 1;
        let keep: Vec<usize> = (0..rows.y.len())
            .filter(|&i| rows.weights.as_ref().is_none_or(|w| w[i] > 0.0))
            .collect();
        let n = keep.len();
        if n < k + 1 {
            return Err(Error::TooFewRows {
                rows: n,
                needed: k + 1,
            });
        }
        let column = |j: usize| -> &[f64] { rows.columns.get(j).unwrap_or(&rows.y) };
        let w: Vec<f64> = keep
            .iter()
            .map(|&i| rows.weights.as_ref().map_or(1.0, |w| w[i]))
            .collect();
        let total: f64 = w.iter().sum();
        let mut center = vec![0.0; k];
        let mut scale = vec![0.0; k];
        for j in 0..k {
            let c = column(j);
            let mean = keep.iter().zip(&w).map(|(&i, wi)| wi * c[i]).sum::<f64>() / total;
            let ss = keep
                .iter()
                .zip(&w)
                .map(|(&i, wi)| wi * (c[i] - mean).powi(2))
                .sum::<f64>()
                / total;
            let label = rows.names.get(j).map_or(name, String::as_str);
            if !(ss > 0.0 && ss.is_finite()) {
                return Err(Error::BadColumn {
                    column: label.to_owned(),
                    message: format!("has no variation (every value is {mean}); drop it"),
                });
            }
            center[j] = mean;
            scale[j] = ss.sqrt();
        }
        let mut z = Vec::with_capacity(n * k);
        for &i in &keep {
            z.extend((0..k).map(|j| (column(j)[i] - center[j]) / scale[j]));
        }
        let always: Vec<String> = options
            .always
            .iter()
            .cloned()
            .chain(rows.filled.iter().map(|f| f.indicator.clone()))
            .collect();
        let mut importance = ImportanceOptions::default()
            .with_always(&always)
            .with_measures(measures);
        importance.groups = options.groups.clone();
        let len = packed_len(k);
        let products = (n * len <= MAX_STORED_PRODUCTS).then(|| {
            let mut p = vec![0.0; n * len];
            for ((zi, &wi), out) in z.chunks_exact(k).zip(&w).zip(p.chunks_exact_mut(len)) {
                pack_row(zi, wi, out);
            }
            p
        });
        let mut engine = Self {
            k,
            z,
            w,
            products,
            center,
            scale,
            terms: rows.names,
            units: Vec::new(),
            measures: dedup(measures),
            importance,
            n,
        };
        if !engine.measures.is_empty() {
            let corr = engine.correlation(&engine.full_sums()).ok_or_else(|| {
                Error::invalid("drivers", "the correlation matrix is not defined")
            })?;
            engine.units = relative_importance(&corr, &engine.terms, &engine.importance)?.names;
        }
        Ok(engine)
    }

    /// Number of statistics: the coefficients (intercept first), then each measure's unit scores.
    pub(crate) fn n_stats(&self) -> usize {
        self.k + self.measures.len() * self.units.len()
    }

    /// Offset of measure `m`'s scores in the statistics vector.
    pub(crate) fn measure_offset(&self, m: usize) -> usize {
        self.k + m * self.units.len()
    }

    /// Sums over the rows with multiplicities `m` (all ones for `None`).
    fn sums(&self, m: Option<&[u32]>, out: &mut Sums, scratch: &mut [f64]) {
        out.v.fill(0.0);
        let mult = |i: usize| m.map_or(1.0, |m| f64::from(m[i]));
        match &self.products {
            Some(p) => {
                for (i, row) in p.chunks_exact(out.v.len()).enumerate() {
                    out.add_scaled(row, mult(i));
                }
            }
            None => {
                for (i, (z, &w)) in self.z.chunks_exact(self.k).zip(&self.w).enumerate() {
                    let c = mult(i);
                    if c > 0.0 {
                        pack_row(z, w, scratch);
                        out.add_scaled(scratch, c);
                    }
                }
            }
        }
    }

    fn full_sums(&self) -> Sums {
        let mut s = Sums::zeros(self.k);
        let mut scratch = vec![0.0; s.v.len()];
        self.sums(None, &mut s, &mut scratch);
        s
    }

    /// The centred co-moments (full symmetric `k×k`) and the means in standardized units.
    fn comoments(&self, s: &Sums) -> Option<(Vec<f64>, Vec<f64>)> {
        let k = self.k;
        let s0 = s.s0();
        if s0.is_nan() || s0 <= 0.0 {
            return None;
        }
        let s1 = s.v.get(1..1 + k)?;
        let mean: Vec<f64> = s1.iter().map(|x| x / s0).collect();
        let mut c = vec![0.0; k * k];
        let mut t = 1 + k;
        for a in 0..k {
            for b in a..k {
                let v = s.v.get(t)? - s1[a] * mean[b];
                c[a * k + b] = v;
                c[b * k + a] = v;
                t += 1;
            }
        }
        Some((c, mean))
    }

    fn correlation(&self, s: &Sums) -> Option<DMatrix<f64>> {
        let (c, _) = self.comoments(s)?;
        self.correlation_of(s, &c)
    }

    /// The correlation matrix of the co-moments `c`; `None` when a variable has no variation in the
    /// resample (its standardized variance per unit weight is at the rounding level).
    fn correlation_of(&self, s: &Sums, c: &[f64]) -> Option<DMatrix<f64>> {
        let k = self.k;
        let sd: Vec<f64> = (0..k).map(|a| c[a * k + a].sqrt()).collect();
        let floor = VARIANCE_TOLERANCE * s.s0();
        if sd.iter().any(|x| x.is_nan() || x * x <= floor) {
            return None;
        }
        Some(DMatrix::from_fn(k, k, |a, b| {
            if a == b {
                1.0
            } else {
                c[a * k + b] / (sd[a] * sd[b])
            }
        }))
    }

    /// The statistics of the sums; `None` when they cannot be fitted.
    fn statistics(&self, s: &Sums) -> Option<Vec<f64>> {
        let k = self.k;
        let p = k - 1;
        let (c, mean) = self.comoments(s)?;
        let corr = self.correlation_of(s, &c)?;
        let sd: Vec<f64> = (0..k).map(|a| c[a * k + a].sqrt()).collect();
        let rxx = corr.view((0, 0), (p, p)).into_owned();
        let rxy = DVector::from_fn(p, |a, _| corr[(a, p)]);
        let chol = rxx.cholesky()?;
        if chol
            .l_dirty()
            .diagonal()
            .iter()
            .any(|d| d.is_nan() || d * d <= PIVOT_TOLERANCE)
        {
            return None;
        }
        let beta_std = chol.solve(&rxy);
        let mut out = Vec::with_capacity(self.n_stats());
        let y_scale = self.scale[p] * sd[p];
        let slopes: Vec<f64> = (0..p)
            .map(|j| beta_std[j] * y_scale / (self.scale[j] * sd[j]))
            .collect();
        let level = |j: usize| self.center[j] + self.scale[j] * mean[j];
        let intercept = level(p)
            - slopes
                .iter()
                .enumerate()
                .map(|(j, b)| b * level(j))
                .sum::<f64>();
        out.push(intercept);
        out.extend(&slopes);
        if !self.measures.is_empty() {
            let res = relative_importance(&corr, &self.terms, &self.importance).ok()?;
            for m in &self.measures {
                out.extend(&res.scores(*m)?.raw);
            }
        }
        out.iter().all(|x| x.is_finite()).then_some(out)
    }

    /// The standardized rows (`(x − weighted mean) / weighted population sd`, terms then outcome)
    /// with their weights.
    pub(crate) fn standardized_rows(&self) -> impl Iterator<Item = (&[f64], f64)> + '_ {
        self.z.chunks_exact(self.k).zip(self.w.iter().copied())
    }

    /// The full-sample weighted correlation matrix of the terms and the outcome (last).
    pub(crate) fn full_correlation(&self) -> Option<DMatrix<f64>> {
        self.correlation(&self.full_sums())
    }

    /// The full-sample statistics.
    pub(crate) fn estimate(&self) -> Result<Vec<f64>> {
        self.statistics(&self.full_sums())
            .ok_or_else(|| Error::Collinear {
                columns: self.terms.join(", "),
            })
    }

    /// `b` replicates of stratum `stratum`, in replicate order; `None` for a replicate that failed.
    pub(crate) fn replicates(&self, b: usize, seed: u64, stratum: u64) -> Vec<Option<Vec<f64>>> {
        let n = self.n;
        let len = packed_len(self.k);
        (0..b)
            .into_par_iter()
            .map_init(
                || (vec![0u32; n], Sums::zeros(self.k), vec![0.0; len]),
                |(counts, sums, scratch), r| {
                    draw_counts(counts, seed, stratum, r);
                    self.sums(Some(counts), sums, scratch);
                    self.statistics(sums)
                },
            )
            .collect()
    }

    /// The leave-one-out statistics, by subtracting each row's products from the full-sample sums.
    pub(crate) fn jackknife(&self) -> Vec<Option<Vec<f64>>> {
        let full = self.full_sums();
        let len = full.v.len();
        (0..self.n)
            .into_par_iter()
            .map_init(
                || (full.clone(), vec![0.0; len]),
                |(sums, row), i| {
                    sums.clone_from(&full);
                    match &self.products {
                        Some(p) => row.copy_from_slice(p.get(i * len..(i + 1) * len)?),
                        None => pack_row(self.z.get(i * self.k..(i + 1) * self.k)?, self.w[i], row),
                    }
                    sums.add_scaled(row, -1.0);
                    self.statistics(sums)
                },
            )
            .collect()
    }
}

fn dedup(measures: &[ImportanceMeasure]) -> Vec<ImportanceMeasure> {
    let mut out: Vec<ImportanceMeasure> = Vec::new();
    for &m in measures {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// Summarise the replicates `theta` of a statistic with full-sample value `estimate` and jackknife
/// values `jack`: standard error, bias, percentile and BCa intervals.
///
/// The BCa definitions follow Efron (1987) and `scipy.stats.bootstrap(method="BCa")`.
///
/// # Errors
/// [`Error::InvalidArgument`] for fewer than 2 replicates, a non-finite value or an invalid level.
///
/// ```
/// use cx_metrics::drivers::bootstrap::summarise_replicates;
/// let theta = [1.0, 2.0, 3.0, 4.0, 5.0];
/// let s = summarise_replicates("x", 3.0, &theta, &[2.0, 3.0, 4.0], 0.5).unwrap();
/// assert_eq!((s.percentile.low, s.percentile.high), (2.0, 4.0));
/// assert_eq!(s.bca.unwrap().low, 2.0);
/// ```
pub fn summarise_replicates(
    name: &str,
    estimate: f64,
    theta: &[f64],
    jack: &[f64],
    confidence_level: f64,
) -> Result<BootstrapEstimate> {
    check_level(confidence_level)?;
    let b = theta.len();
    if b < 2 {
        return Err(Error::invalid(
            "replicates",
            format!("{b}; at least 2 replicates are needed"),
        ));
    }
    if let Some(x) = theta
        .iter()
        .chain(jack)
        .chain([&estimate])
        .find(|x| !x.is_finite())
    {
        return Err(Error::invalid("replicates", format!("{x} is not finite")));
    }
    let mut sorted = theta.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mean = theta.iter().sum::<f64>() / b as f64;
    let var = theta.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (b - 1) as f64;
    let alpha = 1.0 - confidence_level;
    let percentile = Interval::new(
        quantile_sorted(&sorted, alpha / 2.0),
        quantile_sorted(&sorted, 1.0 - alpha / 2.0),
        confidence_level,
    );
    let below = theta.iter().filter(|&&t| t < estimate).count();
    let at_or_below = theta.iter().filter(|&&t| t <= estimate).count();
    let z0 = normal_quantile((below + at_or_below) as f64 / (2 * b) as f64);
    let acceleration = if jack.is_empty() {
        0.0
    } else {
        let jm = jack.iter().sum::<f64>() / jack.len() as f64;
        let num: f64 = jack.iter().map(|j| (jm - j).powi(3)).sum();
        let den: f64 = jack.iter().map(|j| (jm - j).powi(2)).sum();
        if den > 0.0 {
            num / (6.0 * den.powf(1.5))
        } else {
            0.0
        }
    };
    let bca = z0.is_finite().then(|| {
        let std = Normal::standard();
        let level = |z: f64| {
            let zz = z0 + z;
            std.cdf(z0 + zz / (1.0 - acceleration * zz))
        };
        let za = normal_quantile(alpha / 2.0);
        let (a1, a2) = (level(za), level(-za));
        Interval::new(
            quantile_sorted(&sorted, a1),
            quantile_sorted(&sorted, a2),
            confidence_level,
        )
    });
    Ok(BootstrapEstimate {
        name: name.to_owned(),
        estimate,
        std_error: var.sqrt(),
        bias: mean - estimate,
        percentile,
        bca: bca.filter(|i| i.low.is_finite() && i.high.is_finite()),
        bias_correction: z0,
        acceleration,
    })
}

/// Two-sided bootstrap p-value of "the quantity is 0" from its replicates.
pub(crate) fn p_value_zero(theta: &[f64]) -> f64 {
    let le = theta.iter().filter(|&&t| t <= 0.0).count();
    let ge = theta.iter().filter(|&&t| t >= 0.0).count();
    (2.0 * (1 + le.min(ge)) as f64 / (theta.len() + 1) as f64).min(1.0)
}

/// Column `j` of the successful rows.
pub(crate) fn column(rows: &[&Vec<f64>], j: usize) -> Vec<f64> {
    rows.iter()
        .map(|r| r.get(j).copied().unwrap_or(f64::NAN))
        .collect()
}

fn summarise(
    engine: &Engine,
    estimate: &[f64],
    replicates: &[Option<Vec<f64>>],
    jackknife: &[Option<Vec<f64>>],
    options: &DriverOptions,
    boot: &BootstrapOptions,
) -> Result<DriverBootstrap> {
    let level = boot.confidence_level;
    let ok: Vec<&Vec<f64>> = replicates.iter().flatten().collect();
    let jack: Vec<&Vec<f64>> = jackknife.iter().flatten().collect();
    if ok.len() < 2 {
        return Err(Error::invalid(
            "n_resamples",
            format!(
                "only {} of {} replicates could be fitted (drivers without variation or collinear \
                 in the resamples); collect more rows or use fewer drivers",
                ok.len(),
                replicates.len()
            ),
        ));
    }
    let stat = |name: &str, j: usize| {
        summarise_replicates(name, estimate[j], &column(&ok, j), &column(&jack, j), level)
    };
    let mut coefficients = vec![stat(INTERCEPT, 0)?];
    for (j, t) in engine.terms.iter().enumerate() {
        coefficients.push(stat(t, j + 1)?);
    }
    let g = engine.units.len();
    let mut importance = Vec::with_capacity(engine.measures.len());
    for (m, &measure) in engine.measures.iter().enumerate() {
        let off = engine.measure_offset(m);
        let scores = (0..g)
            .map(|u| stat(&engine.units[u], off + u))
            .collect::<Result<Vec<_>>>()?;
        let mut differences = Vec::with_capacity(g * g.saturating_sub(1) / 2);
        for a in 0..g {
            for c in a + 1..g {
                let diff = |rows: &[&Vec<f64>]| -> Vec<f64> {
                    column(rows, off + a)
                        .iter()
                        .zip(column(rows, off + c))
                        .map(|(x, y)| x - y)
                        .collect()
                };
                let theta = diff(&ok);
                let name = format!("{} − {}", engine.units[a], engine.units[c]);
                let d = summarise_replicates(
                    &name,
                    estimate[off + a] - estimate[off + c],
                    &theta,
                    &diff(&jack),
                    level,
                )?;
                differences.push(ImportanceDifference {
                    first: engine.units[a].clone(),
                    second: engine.units[c].clone(),
                    excludes_zero: !d.percentile.contains(0.0),
                    difference: d,
                    p_value: p_value_zero(&theta),
                    p_adjusted: f64::NAN,
                    significant: false,
                });
            }
        }
        let raw: Vec<f64> = differences.iter().map(|d| d.p_value).collect();
        for (d, p) in differences.iter_mut().zip(boot.adjustment.adjust(&raw)?) {
            d.p_adjusted = p;
            d.significant = p <= 1.0 - level;
        }
        let (shares, n_share_failed) = share_estimates(engine, estimate, &ok, &jack, off, level)?;
        importance.push(MeasureBootstrap {
            measure,
            scores,
            differences,
            shares,
            n_share_failed,
        });
    }
    let ranks = engine
        .measures
        .first()
        .map(|&m| rank_probabilities(m, estimate, &ok, engine.measure_offset(0), g, level));
    Ok(DriverBootstrap {
        outcome: options.outcome.clone(),
        units: engine.units.clone(),
        n: engine.n,
        n_resamples: replicates.len(),
        n_failed: replicates.len() - ok.len(),
        n_jackknife_failed: jackknife.len() - jack.len(),
        seed: boot.seed,
        confidence_level: level,
        adjustment: boot.adjustment,
        coefficients,
        importance,
        ranks,
    })
}

/// The shares `θ_j / Σ_l θ_l` of the `g` scores starting at `off` of one statistics vector; `None`
/// when the sum is 0 or a share is not finite.
fn shares_of(stats: &[f64], off: usize, g: usize) -> Option<Vec<f64>> {
    let scores = stats.get(off..off + g)?;
    let total: f64 = scores.iter().sum();
    if total == 0.0 || !total.is_finite() {
        return None;
    }
    let out: Vec<f64> = scores.iter().map(|x| x / total).collect();
    out.iter().all(|x| x.is_finite()).then_some(out)
}

/// The share estimates of the measure whose scores start at `off` (see the module docs), and the
/// number of fitted replicates without shares.
fn share_estimates(
    engine: &Engine,
    estimate: &[f64],
    ok: &[&Vec<f64>],
    jack: &[&Vec<f64>],
    off: usize,
    level: f64,
) -> Result<(Option<Vec<BootstrapEstimate>>, usize)> {
    let g = engine.units.len();
    let replicates: Vec<Vec<f64>> = ok.iter().filter_map(|r| shares_of(r, off, g)).collect();
    let n_failed = ok.len() - replicates.len();
    let Some(full) = shares_of(estimate, off, g) else {
        return Ok((None, n_failed));
    };
    if replicates.len() < 2 {
        return Ok((None, n_failed));
    }
    let jackknife: Vec<Vec<f64>> = jack.iter().filter_map(|r| shares_of(r, off, g)).collect();
    let rows: Vec<&Vec<f64>> = replicates.iter().collect();
    let jack_rows: Vec<&Vec<f64>> = jackknife.iter().collect();
    let shares = (0..g)
        .map(|u| {
            summarise_replicates(
                &engine.units[u],
                full[u],
                &column(&rows, u),
                &column(&jack_rows, u),
                level,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((Some(shares), n_failed))
}

/// Ranks (1 = largest) of `scores`; ties go to the earlier unit.
fn ranks_of(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut rank = vec![0; scores.len()];
    for (r, &u) in order.iter().enumerate() {
        rank[u] = r + 1;
    }
    rank
}

fn rank_probabilities(
    measure: ImportanceMeasure,
    estimate: &[f64],
    ok: &[&Vec<f64>],
    off: usize,
    g: usize,
    level: f64,
) -> RankProbabilities {
    let mut counts = vec![vec![0usize; g]; g];
    for r in ok {
        let scores = r.get(off..off + g).unwrap_or(&[]);
        for (u, rank) in ranks_of(scores).into_iter().enumerate() {
            counts[u][rank - 1] += 1;
        }
    }
    let b = ok.len() as f64;
    let probabilities: Vec<Vec<f64>> = counts
        .iter()
        .map(|row| row.iter().map(|&c| c as f64 / b).collect())
        .collect();
    let alpha = 1.0 - level;
    // The smallest rank whose cumulative share reaches q.
    let rank_quantile = |row: &[usize], q: f64| {
        let target = q * b;
        let mut cum = 0.0;
        for (r, &c) in row.iter().enumerate() {
            cum += c as f64;
            if cum >= target - 1e-9 && cum > 0.0 {
                return r + 1;
            }
        }
        g
    };
    let intervals = counts
        .iter()
        .map(|row| RankInterval {
            low: rank_quantile(row, alpha / 2.0),
            high: rank_quantile(row, 1.0 - alpha / 2.0),
        })
        .collect();
    RankProbabilities {
        measure,
        top: probabilities
            .iter()
            .map(|r| r.first().copied().unwrap_or(0.0))
            .collect(),
        probabilities,
        rank: ranks_of(estimate.get(off..off + g).unwrap_or(&[])),
        intervals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::{driver_analysis, DriverAnalysis};

    /// `n` rows of two or three correlated drivers and an outcome (a linear congruential generator).
    fn rows(n: usize, p: usize, seed: u64) -> (Vec<f64>, Vec<Vec<f64>>, Vec<f64>) {
        let mut s = seed;
        let mut unif = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut xs = vec![Vec::with_capacity(n); p];
        let (mut y, mut w) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let common = unif();
            let mut lin = 0.0;
            for (j, col) in xs.iter_mut().enumerate() {
                let x = common + unif();
                lin += (j + 1) as f64 * x;
                col.push(x);
            }
            y.push(lin + 2.0 * unif());
            w.push(0.5 + unif());
        }
        (y, xs, w)
    }

    fn run(
        p: usize,
        b: usize,
        measures: &[ImportanceMeasure],
    ) -> (DriverBootstrap, DriverAnalysis) {
        let (y, xs, w) = rows(120, p, 42);
        let names = ["a", "b", "c"];
        let drivers: Vec<(&str, &[f64])> = names
            .iter()
            .zip(&xs)
            .map(|(n, c)| (*n, c.as_slice()))
            .collect();
        let options = DriverOptions::default()
            .with_outcome("y")
            .with_outcome_scale(crate::drivers::OutcomeScale::Unchecked);
        let boot = BootstrapOptions::default()
            .with_resamples(b)
            .with_seed(3)
            .with_measures(measures);
        let out = bootstrap(&y, &drivers, Some(&w), &options, &boot).unwrap();
        let analysis = driver_analysis(&y, &drivers, Some(&w), &options).unwrap();
        (out, analysis)
    }

    #[test]
    fn lmg_shares_of_two_drivers_mirror_each_other() {
        // share₁ + share₂ = 1 in every replicate and every jackknife sample, so the interval of share₁
        // is 1 minus that of share₂ with the ends swapped (percentile and BCa alike), to rounding.
        let (b, a) = run(
            2,
            999,
            &[ImportanceMeasure::Lmg, ImportanceMeasure::Johnson],
        );
        for m in [ImportanceMeasure::Lmg, ImportanceMeasure::Johnson] {
            let mb = b.measure(m).unwrap();
            let sh = mb.shares.as_ref().unwrap();
            assert_eq!(mb.n_share_failed, 0);
            let (s1, s2) = (&sh[0], &sh[1]);
            assert!((s1.estimate + s2.estimate - 1.0).abs() < 1e-12);
            assert!(
                (s1.percentile.low - (1.0 - s2.percentile.high)).abs() < 1e-12,
                "{m}"
            );
            assert!(
                (s1.percentile.high - (1.0 - s2.percentile.low)).abs() < 1e-12,
                "{m}"
            );
            let (b1, b2) = (s1.bca.unwrap(), s2.bca.unwrap());
            assert!((b1.low - (1.0 - b2.high)).abs() < 1e-12, "{m}");
            assert!((b1.high - (1.0 - b2.low)).abs() < 1e-12, "{m}");
            assert!((s1.std_error - s2.std_error).abs() < 1e-12);
            // The full-sample shares are the analysis's.
            for (e, x) in sh.iter().zip(a.scores(m).unwrap().share.as_ref().unwrap()) {
                assert!((e.estimate - x).abs() < 1e-12, "{} {x}", e.estimate);
                assert!(e.percentile.low <= e.estimate && e.estimate <= e.percentile.high);
            }
        }
    }

    #[test]
    fn share_intervals_are_quantiles_of_the_replicate_shares() {
        // The replicates again from their counts: weighted sums with weight count × w, the scores
        // over their sum, the quantiles by hand (linear interpolation, numpy's default).
        let (b, _) = run(3, 200, &[ImportanceMeasure::Lmg]);
        let (y, xs, w) = rows(120, 3, 42);
        let engine = {
            let names = ["a", "b", "c"];
            let drivers: Vec<(&str, &[f64])> = names
                .iter()
                .zip(&xs)
                .map(|(n, c)| (*n, c.as_slice()))
                .collect();
            let options = DriverOptions::default()
                .with_outcome("y")
                .with_outcome_scale(crate::drivers::OutcomeScale::Unchecked);
            Engine::from_columns(&y, &drivers, Some(&w), &options, &[ImportanceMeasure::Lmg])
                .unwrap()
        };
        let mut shares: Vec<Vec<f64>> = vec![Vec::new(); 3];
        for r in 0..200 {
            let counts = b.resample_counts(r);
            assert_eq!(counts.len(), 120);
            let mut sums = Sums::zeros(engine.k);
            let mut scratch = vec![0.0; sums.v.len()];
            engine.sums(Some(&counts), &mut sums, &mut scratch);
            let stats = engine.statistics(&sums).unwrap();
            let lmg = &stats[4..7];
            let total: f64 = lmg.iter().sum();
            for u in 0..3 {
                shares[u].push(lmg[u] / total);
            }
        }
        let quantile = |v: &[f64], q: f64| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            let h = (v.len() - 1) as f64 * q;
            let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
            v[lo] + (h - lo as f64) * (v[hi] - v[lo])
        };
        let sh = b
            .measure(ImportanceMeasure::Lmg)
            .unwrap()
            .shares
            .clone()
            .unwrap();
        for u in 0..3 {
            assert!((sh[u].percentile.low - quantile(&shares[u], 0.025)).abs() < 1e-12);
            assert!((sh[u].percentile.high - quantile(&shares[u], 0.975)).abs() < 1e-12);
        }
    }

    #[test]
    fn a_zero_sum_has_no_shares_and_old_results_still_read() {
        assert_eq!(shares_of(&[1.0, 0.0, 0.0], 1, 2), None);
        assert_eq!(shares_of(&[1.0, 1.0, 3.0], 1, 2), Some(vec![0.25, 0.75]));
        assert_eq!(shares_of(&[1.0, f64::INFINITY, 3.0], 1, 2), None);
        let (b, _) = run(2, 50, &[ImportanceMeasure::Lmg]);
        let mut old = serde_json::to_value(&b).unwrap();
        for m in old["importance"].as_array_mut().unwrap() {
            let m = m.as_object_mut().unwrap();
            assert!(m.remove("shares").is_some() && m.remove("n_share_failed").is_some());
        }
        let back: DriverBootstrap = serde_json::from_value(old).unwrap();
        assert!(back.importance[0].shares.is_none());
        assert_eq!(back.importance[0].scores, b.importance[0].scores);
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<DriverBootstrap>(&json).unwrap(), b);
    }

    #[test]
    fn interval_names_parse() {
        for i in [BootstrapInterval::Percentile, BootstrapInterval::Bca] {
            assert_eq!(i.as_str().parse::<BootstrapInterval>().unwrap(), i);
            assert_eq!(serde_json::to_string(&i).unwrap(), format!("\"{i}\""));
        }
        assert!("BCa".parse::<BootstrapInterval>().is_err());
    }
}
