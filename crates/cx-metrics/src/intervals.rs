//! Confidence intervals shared by every metric: the [`Interval`] type, the normal and t quantiles,
//! intervals for one proportion ([`proportion_ci`]), for a difference of two independent proportions
//! ([`newcombe_difference`], [`compare_proportions`]) and for a mean ([`mean_t_ci`]).
//!
//! # References
//!
//! - Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
//!   *JASA* 22, 209–212.
//! - Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated in the
//!   case of the binomial. *Biometrika* 26, 404–413.
//! - Agresti, A. & Coull, B. A. (1998). Approximate is better than "exact" for interval estimation of
//!   binomial proportions. *The American Statistician* 52, 119–126.
//! - Newcombe, R. G. (1998a). Two-sided confidence intervals for the single proportion: comparison of
//!   seven methods. *Statistics in Medicine* 17, 857–872.
//! - Newcombe, R. G. (1998b). Interval estimation for the difference between independent proportions:
//!   comparison of eleven methods. *Statistics in Medicine* 17, 873–890.
//! - Brown, L. D., Cai, T. T. & DasGupta, A. (2001). Interval estimation for a binomial proportion.
//!   *Statistical Science* 16, 101–133.
//! - Kish, L. (1965). *Survey Sampling*. Wiley (effective sample size).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, Continuous, ContinuousCDF, Normal};

use crate::error::{Error, Result};

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// Nominal coverage, in (0, 1).
    pub confidence_level: f64,
    /// Whether a bound was clipped to the parameter's range (e.g. NPS to [−1, 1]).
    pub clipped: bool,
}

impl Interval {
    /// An interval, unclipped.
    pub fn new(low: f64, high: f64, confidence_level: f64) -> Self {
        Self {
            low,
            high,
            confidence_level,
            clipped: false,
        }
    }

    /// The interval clipped to `[lo, hi]`, flagging whether clipping changed it.
    pub fn clip(self, lo: f64, hi: f64) -> Self {
        let (low, high) = (self.low.max(lo), self.high.min(hi));
        Self {
            low,
            high,
            clipped: self.clipped || low != self.low || high != self.high,
            ..self
        }
    }

    /// Whether `x` lies inside the closed interval.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// Width `high − low`.
    pub fn width(&self) -> f64 {
        self.high - self.low
    }
}

/// Check a confidence level lies strictly between 0 and 1.
pub fn check_level(confidence_level: f64) -> Result<f64> {
    if confidence_level > 0.0 && confidence_level < 1.0 {
        Ok(confidence_level)
    } else {
        Err(Error::invalid(
            "confidence_level",
            format!("{confidence_level}; it must lie strictly between 0 and 1, e.g. 0.95"),
        ))
    }
}

/// The standard normal quantile Φ⁻¹(p).
pub fn normal_quantile(p: f64) -> f64 {
    // Normal::new(0, 1) cannot fail.
    Normal::standard().inverse_cdf(p)
}

/// The two-sided critical value z such that P(|Z| ≤ z) = `confidence_level`.
///
/// ```
/// let z = cx_metrics::intervals::z_two_sided(0.95).unwrap();
/// assert!((z - 1.959963984540054).abs() < 1e-12);
/// ```
pub fn z_two_sided(confidence_level: f64) -> Result<f64> {
    let c = check_level(confidence_level)?;
    Ok(normal_quantile(0.5 + c / 2.0))
}

/// Two-sided p-value of a standard normal statistic.
pub fn normal_p_two_sided(z: f64) -> f64 {
    2.0 * Normal::standard().sf(z.abs())
}

/// The two-sided critical value of Student's t with `df` degrees of freedom:
/// t such that P(|T| ≤ t) = `confidence_level`.
///
/// `df` may be fractional (an effective sample size minus one) and must be positive and finite.
///
/// # Method
///
/// For `df < 1000` the tail identity P(|T| > t) = I_y(df/2, 1/2) with y = df/(df + t²) is solved for y
/// with a safeguarded Newton–bisection on the regularized incomplete beta function of `statrs`, and
/// t = √(df (1 − y)/y). For `df ≥ 1000` the Cornish–Fisher expansion of Abramowitz & Stegun (26.7.5),
/// carried to the ν⁻⁴ term, is exact to double precision. The bound may be `+∞` when `df` is tiny.
///
/// ```
/// let t = cx_metrics::intervals::t_two_sided(0.95, 99.0).unwrap();
/// // scipy.stats.t.ppf(0.975, 99)
/// assert!((t - 1.9842169515864174).abs() < 1e-12);
/// ```
pub fn t_two_sided(confidence_level: f64, df: f64) -> Result<f64> {
    let c = check_level(confidence_level)?;
    if !(df.is_finite() && df > 0.0) {
        return Err(Error::invalid(
            "df",
            format!("{df}; degrees of freedom must be positive and finite"),
        ));
    }
    if df >= 1000.0 {
        let x = normal_quantile(0.5 + c / 2.0);
        let x2 = x * x;
        let g1 = (x2 + 1.0) * x / 4.0;
        let g2 = ((5.0 * x2 + 16.0) * x2 + 3.0) * x / 96.0;
        let g3 = (((3.0 * x2 + 19.0) * x2 + 17.0) * x2 - 15.0) * x / 384.0;
        let g4 = ((((79.0 * x2 + 776.0) * x2 + 1482.0) * x2 - 1920.0) * x2 - 945.0) * x / 92160.0;
        return Ok(x + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df);
    }
    let y = beta_quantile(df / 2.0, 0.5, 1.0 - c, false);
    Ok((df * (1.0 - y) / y).sqrt())
}

/// Shapes from which the Beta quantile comes from the Cornish–Fisher expansion: statrs' incomplete beta
/// function (a 140-term continued fraction) loses accuracy when both shapes are this large (at
/// a, b ≈ 3·10⁷, 7·10⁷ it is wrong in the third digit), while the expansion's error, O(min(a, b)^(−3/2))
/// standard deviations, is below 10⁻⁷ σ here.
const LARGE_SHAPE: f64 = 1.0e5;

/// The Beta(a, b) quantile from the Cornish–Fisher expansion to order 1/n (Cornish & Fisher 1937;
/// Abramowitz & Stegun 26.2.49) with the Beta skewness γ₁ = 2(b − a)√(s + 1)/((s + 2)√(ab)) and excess
/// kurtosis γ₂ = 6((a − b)²(s + 1) − ab(s + 2))/(ab(s + 2)(s + 3)), s = a + b:
/// `w = z + γ₁(z² − 1)/6 + γ₂(z³ − 3z)/24 − γ₁²(2z³ − 5z)/36`, quantile = μ + σw.
fn beta_quantile_cornish_fisher(a: f64, b: f64, prob: f64, upper: bool) -> f64 {
    let s = a + b;
    let mean = a / s;
    let sd = (a / s) * (b / s) / (s + 1.0);
    let sd = sd.sqrt();
    let g1 = 2.0 * (b - a) * (s + 1.0).sqrt() / ((s + 2.0) * a.sqrt() * b.sqrt());
    let g2 =
        6.0 * ((a - b) * (a - b) * (s + 1.0) - a * b * (s + 2.0)) / (a * b * (s + 2.0) * (s + 3.0));
    let z = if upper {
        -normal_quantile(prob)
    } else {
        normal_quantile(prob)
    };
    let z2 = z * z;
    let w = z + g1 * (z2 - 1.0) / 6.0 + g2 * (z2 - 3.0) * z / 24.0
        - g1 * g1 * (2.0 * z2 - 5.0) * z / 36.0;
    (mean + sd * w).clamp(0.0, 1.0)
}

/// The `prob` quantile of Beta(a, b) (lower tail), or with `upper` the point whose upper-tail
/// probability is `prob`.
///
/// A safeguarded Newton–bisection on `statrs`' Beta CDF: the root stays bracketed, every step either
/// is a Newton step inside the bracket or shrinks it, and the loop is bounded, so it always returns.
/// Callers guarantee a, b > 0 and 0 < prob < 1.
fn beta_quantile(a: f64, b: f64, prob: f64, upper: bool) -> f64 {
    if a.min(b) >= LARGE_SHAPE {
        return beta_quantile_cornish_fisher(a, b, prob, upper);
    }
    let Ok(dist) = Beta::new(a, b) else {
        return f64::NAN;
    };
    // g is increasing in x and vanishes at the quantile.
    let g = |x: f64| {
        if upper {
            prob - dist.sf(x)
        } else {
            dist.cdf(x) - prob
        }
    };
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    let mut x = a / (a + b);
    for _ in 0..2000 {
        let gx = g(x);
        if gx == 0.0 {
            return x;
        }
        if gx < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let d = dist.pdf(x);
        let newton = x - gx / d;
        let next = if d > 0.0 && newton.is_finite() && newton > lo && newton < hi {
            newton
        } else if lo == 0.0 {
            hi / 16.0
        } else if hi > 4.0 * lo {
            (lo * hi).sqrt()
        } else {
            0.5 * (lo + hi)
        };
        if (next - x).abs() <= 2.0 * f64::EPSILON * next.abs()
            || hi - lo <= 2.0 * f64::EPSILON * hi
            || next == 0.0
        {
            return next;
        }
        x = next;
    }
    x
}

/// How to compute a confidence interval for a proportion (see [`proportion_ci`]).
///
/// Option strings: `"wilson"` (the default), `"agresti_coull"`, `"jeffreys"`, `"clopper_pearson"`.
/// Brown, Cai & DasGupta (2001) recommend Wilson or Jeffreys for small n and Agresti–Coull for n ≥ 40;
/// Clopper–Pearson guarantees at least nominal coverage and is conservative.
///
/// ```
/// use cx_metrics::intervals::ProportionMethod;
/// assert_eq!("jeffreys".parse::<ProportionMethod>().unwrap(), ProportionMethod::Jeffreys);
/// assert_eq!(ProportionMethod::default(), ProportionMethod::Wilson);
/// assert_eq!(ProportionMethod::ClopperPearson.to_string(), "clopper_pearson");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProportionMethod {
    /// Wilson (1927) score interval: the set of p not rejected by the score test,
    /// `(p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)`. Never leaves [0, 1].
    #[default]
    Wilson,
    /// Agresti & Coull (1998) "add z²/2 successes and failures": ñ = n + z², p̃ = (x + z²/2)/ñ,
    /// `p̃ ± z √(p̃(1−p̃)/ñ)`, clipped to [0, 1] (with [`Interval::clipped`] set when it was).
    AgrestiCoull,
    /// Jeffreys equal-tailed interval: the α/2 and 1 − α/2 quantiles of Beta(x + ½, n − x + ½), with the
    /// boundary convention of Brown, Cai & DasGupta (2001): lower = 0 when x = 0, upper = 1 when x = n.
    /// With a fractional count close to 0 or n (weighted data) the equal-tailed interval can miss
    /// p̂ = x/n itself, e.g. x = 0.01 of n = 100 at 50 %; prefer Wilson there.
    Jeffreys,
    /// Clopper & Pearson (1934) "exact" interval: lower = Beta(x, n − x + 1) quantile at α/2 (0 when
    /// x = 0), upper = Beta(x + 1, n − x) quantile at 1 − α/2 (1 when x = n).
    ClopperPearson,
}

impl ProportionMethod {
    /// Every method, in declaration order.
    pub const ALL: [ProportionMethod; 4] = [
        Self::Wilson,
        Self::AgrestiCoull,
        Self::Jeffreys,
        Self::ClopperPearson,
    ];

    /// The option string (snake_case of the variant).
    pub fn id(self) -> &'static str {
        match self {
            Self::Wilson => "wilson",
            Self::AgrestiCoull => "agresti_coull",
            Self::Jeffreys => "jeffreys",
            Self::ClopperPearson => "clopper_pearson",
        }
    }
}

impl fmt::Display for ProportionMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for ProportionMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|m| m.id() == s).ok_or_else(|| {
            Error::invalid(
                "method",
                format!(
                    "{s:?}; use \"wilson\", \"agresti_coull\", \"jeffreys\" or \"clopper_pearson\""
                ),
            )
        })
    }
}

/// Check `successes` and `n` describe a proportion: n finite and > 0, successes finite in [0, n].
fn check_counts(successes: f64, n: f64) -> Result<()> {
    if !(n.is_finite() && n > 0.0) {
        return Err(Error::invalid(
            "n",
            format!("{n}; the sample size must be positive and finite"),
        ));
    }
    if !(successes.is_finite() && (0.0..=n).contains(&successes)) {
        return Err(Error::invalid(
            "successes",
            format!("{successes}; it must lie between 0 and n = {n}"),
        ));
    }
    Ok(())
}

/// Wilson bounds for `x` of `n` with critical value `z` (the caller has checked the counts).
fn wilson(x: f64, n: f64, z: f64) -> (f64, f64) {
    let p = x / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // The bounds lie in [0, 1] exactly; pin the ends that rounding can miss.
    let low = if x == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if x == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (low, high)
}

/// A confidence interval for a proportion from `successes` out of `n`.
///
/// `n` may be a Kish effective sample size and `successes = p̂ · n` for weighted data: non-integer
/// values work for every method (the Beta-based methods use the continuous Beta quantile). The
/// formulas are those of [`ProportionMethod`]; Newcombe (1998a) and Brown, Cai & DasGupta (2001)
/// compare their coverage.
///
/// Accuracy of the Beta-based bounds (Jeffreys, Clopper–Pearson): agreement with scipy/Boost to about
/// 1e-11 relative for n up to 10⁷; beyond, within 10⁻⁷ standard deviations of the bound for n up to
/// 10⁹. When both Beta shapes exceed 10⁵, where statrs' incomplete beta function loses accuracy, the
/// quantile comes from the Cornish–Fisher expansion to order 1/n instead.
///
/// # Errors
///
/// [`Error::InvalidArgument`] when `n` is not positive and finite, when `successes` is outside
/// `[0, n]`, or when `confidence_level` is not strictly between 0 and 1.
///
/// ```
/// use cx_metrics::intervals::{proportion_ci, ProportionMethod};
/// // 81 of 263 (Newcombe 1998a, example (a)): Wilson 0.2553 to 0.3662.
/// let ci = proportion_ci(81.0, 263.0, 0.95, ProportionMethod::Wilson).unwrap();
/// assert!((ci.low - 0.2552885198782742).abs() < 1e-12);
/// assert!((ci.high - 0.36620957698280004).abs() < 1e-12);
/// assert!(proportion_ci(3.0, 2.0, 0.95, ProportionMethod::Wilson).is_err());
/// ```
pub fn proportion_ci(
    successes: f64,
    n: f64,
    confidence_level: f64,
    method: ProportionMethod,
) -> Result<Interval> {
    check_counts(successes, n)?;
    let z = z_two_sided(confidence_level)?;
    let alpha = 1.0 - confidence_level;
    let (x, level) = (successes, confidence_level);
    Ok(match method {
        ProportionMethod::Wilson => {
            let (low, high) = wilson(x, n, z);
            Interval::new(low, high, level)
        }
        ProportionMethod::AgrestiCoull => {
            let n_t = n + z * z;
            let p_t = (x + z * z / 2.0) / n_t;
            let half = z * (p_t * (1.0 - p_t) / n_t).sqrt();
            Interval::new(p_t - half, p_t + half, level).clip(0.0, 1.0)
        }
        ProportionMethod::Jeffreys => {
            let (a, b) = (x + 0.5, n - x + 0.5);
            let low = if x == 0.0 {
                0.0
            } else {
                beta_quantile(a, b, alpha / 2.0, false)
            };
            let high = if x == n {
                1.0
            } else {
                beta_quantile(a, b, alpha / 2.0, true)
            };
            Interval::new(low, high, level)
        }
        ProportionMethod::ClopperPearson => {
            let low = if x == 0.0 {
                0.0
            } else {
                beta_quantile(x, n - x + 1.0, alpha / 2.0, false)
            };
            let high = if x == n {
                1.0
            } else {
                beta_quantile(x + 1.0, n - x, alpha / 2.0, true)
            };
            Interval::new(low, high, level)
        }
    })
}

/// Newcombe's hybrid score interval for p₁ − p₂, two independent proportions (Newcombe 1998b,
/// method 10).
///
/// With Wilson bounds (l₁, u₁) for p̂₁ = x₁/n₁ and (l₂, u₂) for p̂₂ = x₂/n₂ and d = p̂₁ − p̂₂:
///
/// ```text
/// L = d − √((p̂₁ − l₁)² + (u₂ − p̂₂)²)
/// U = d + √((u₁ − p̂₁)² + (p̂₂ − l₂)²)
/// ```
///
/// The interval lies in [−1, 1]. Counts may be effective (non-integer), as in [`proportion_ci`].
///
/// # Errors
///
/// As [`proportion_ci`], for either sample.
///
/// ```
/// use cx_metrics::intervals::newcombe_difference;
/// // Newcombe (1998b), example (a): 56/70 − 48/80, method 10 gives 0.0524 to 0.3339.
/// let ci = newcombe_difference(56.0, 70.0, 48.0, 80.0, 0.95).unwrap();
/// assert!((ci.low - 0.05243147240236498).abs() < 1e-12);
/// assert!((ci.high - 0.333872654036906).abs() < 1e-12);
/// ```
pub fn newcombe_difference(
    x1: f64,
    n1: f64,
    x2: f64,
    n2: f64,
    confidence_level: f64,
) -> Result<Interval> {
    check_counts(x1, n1)?;
    check_counts(x2, n2)?;
    let z = z_two_sided(confidence_level)?;
    let (p1, p2) = (x1 / n1, x2 / n2);
    let (l1, u1) = wilson(x1, n1, z);
    let (l2, u2) = wilson(x2, n2, z);
    let d = p1 - p2;
    let low = d - (p1 - l1).hypot(u2 - p2);
    let high = d + (u1 - p1).hypot(p2 - l2);
    // Both bounds lie in [−1, 1] exactly; only rounding can step outside.
    Ok(Interval::new(
        low.max(-1.0),
        high.min(1.0),
        confidence_level,
    ))
}

/// The comparison of two independent proportions: difference, standard errors, z test and
/// Newcombe's hybrid score interval.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProportionComparison {
    /// p̂₁ − p̂₂.
    pub difference: f64,
    /// Unpooled standard error of the difference, √(p̂₁(1−p̂₁)/n₁ + p̂₂(1−p̂₂)/n₂).
    #[serde(alias = "se")]
    pub std_error: f64,
    /// Pooled standard error under H₀: p₁ = p₂, √(p̄(1−p̄)(1/n₁ + 1/n₂)) with p̄ = (x₁+x₂)/(n₁+n₂).
    #[serde(alias = "se_pooled")]
    pub std_error_pooled: f64,
    /// The two-proportion z statistic `difference / se_pooled` (0 when both samples are all
    /// successes or all failures, where the difference is 0 and the pooled SE vanishes).
    pub z: f64,
    /// Two-sided p-value of `z` under the standard normal.
    pub p_value: f64,
    /// Newcombe's hybrid score interval for the difference ([`newcombe_difference`]).
    pub interval: Interval,
}

/// Compare two independent proportions `x1/n1` and `x2/n2`: difference, unpooled and pooled standard
/// errors, the classical pooled two-proportion z test (equal to the square root of Pearson's χ² for the
/// 2×2 table) and Newcombe's hybrid score interval (Newcombe 1998b, method 10).
///
/// # Errors
///
/// As [`proportion_ci`], for either sample.
///
/// ```
/// use cx_metrics::intervals::compare_proportions;
/// let c = compare_proportions(56.0, 70.0, 48.0, 80.0, 0.95).unwrap();
/// assert!((c.difference - 0.2).abs() < 1e-15);
/// assert!(c.interval.contains(c.difference));
/// assert!(c.p_value < 0.01);
/// ```
pub fn compare_proportions(
    x1: f64,
    n1: f64,
    x2: f64,
    n2: f64,
    confidence_level: f64,
) -> Result<ProportionComparison> {
    let interval = newcombe_difference(x1, n1, x2, n2, confidence_level)?;
    let (p1, p2) = (x1 / n1, x2 / n2);
    let difference = p1 - p2;
    let se = (p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2).sqrt();
    let pooled = ((x1 + x2) / (n1 + n2)).clamp(0.0, 1.0);
    let se_pooled = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let z = if se_pooled > 0.0 {
        difference / se_pooled
    } else {
        0.0
    };
    Ok(ProportionComparison {
        difference,
        std_error: se,
        std_error_pooled: se_pooled,
        z,
        p_value: normal_p_two_sided(z),
        interval,
    })
}

/// The t interval for a mean: `mean ± t(1 − α/2; n − 1) · sd / √n`.
///
/// `sd` is the sample standard deviation (divisor n − 1). For weighted data pass the Kish effective
/// sample size n_eff = (Σw)²/Σw² as `n` (so df = n_eff − 1) and the weighted standard deviation with
/// the matching reliability-weights correction; this is the usual design-effect approximation, not a
/// full design-based variance. `n` may be fractional; the t quantile is [`t_two_sided`]. When n is only
/// slightly above 1 the bounds can be infinite.
///
/// # Errors
///
/// [`Error::InvalidArgument`] when `mean` is not finite, `sd` is negative or not finite, `n` is not
/// finite and > 1, or the level is not strictly between 0 and 1.
///
/// ```
/// use cx_metrics::intervals::mean_t_ci;
/// let ci = mean_t_ci(3.7, 1.1055415967851332, 100.0, 0.95).unwrap();
/// assert!((ci.low - 3.4806365622975024).abs() < 1e-12);
/// assert!((ci.high - 3.919363437702498).abs() < 1e-12);
/// ```
pub fn mean_t_ci(mean: f64, sd: f64, n: f64, confidence_level: f64) -> Result<Interval> {
    if !mean.is_finite() {
        return Err(Error::invalid("mean", format!("{mean}; it must be finite")));
    }
    if !(sd.is_finite() && sd >= 0.0) {
        return Err(Error::invalid(
            "sd",
            format!("{sd}; a standard deviation must be finite and >= 0"),
        ));
    }
    if !(n.is_finite() && n > 1.0) {
        return Err(Error::invalid(
            "n",
            format!("{n}; a t interval needs more than one observation (df = n - 1 > 0)"),
        ));
    }
    let t = t_two_sided(confidence_level, n - 1.0)?;
    let half = if sd == 0.0 { 0.0 } else { t * sd / n.sqrt() };
    Ok(Interval::new(mean - half, mean + half, confidence_level))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn t_quantiles_match_scipy() {
        // scipy.stats.t.isf((1 - c)/2, df), scipy 1.17.1 (isf: ppf(0.5 + c/2) loses ~1e-10 in the
        // far tail to the rounding of 0.5 + c/2).
        let cases = [
            (0.5, 0.95, 164.55767348048818),
            (1.0, 0.95, 12.706204736174694),
            (1.0, 0.999999, 636619.7723487513),
            (2.5, 0.9, 2.558218614135937),
            (9.0, 0.95, 2.262157162798205),
            (99.0, 0.95, 1.9842169515864174),
            (99.0, 0.999999, 5.217164206642669),
            (999.0, 0.95, 1.9623414611334493),
            (1000.0, 0.95, 1.9623390808264083),
            (1000.0, 0.999999, 4.922289523423825),
            (5000.0, 0.9, 1.6451584375969712),
            (1.0e6, 0.95, 1.959966356814107),
        ];
        for (df, c, want) in cases {
            let got = t_two_sided(c, df).unwrap();
            assert!(rel(got, want) < 1e-10, "df {df} level {c}: {got} vs {want}");
        }
        assert!(t_two_sided(0.95, 0.0).is_err());
        assert!(t_two_sided(0.95, f64::NAN).is_err());
        assert!(t_two_sided(1.0, 5.0).is_err());
    }

    #[test]
    fn beta_quantiles_match_scipy_for_large_and_fractional_shapes() {
        // scipy.stats.beta.ppf, scipy 1.17.1: Clopper–Pearson bounds of 2e5/1e6 and of 0.3/10.
        let ci = proportion_ci(2.0e5, 1.0e6, 0.95, ProportionMethod::ClopperPearson).unwrap();
        assert!(rel(ci.low, 0.19921638409571749) < 1e-9, "{}", ci.low);
        assert!(rel(ci.high, 0.2007853539549399) < 1e-9, "{}", ci.high);
        // Both shapes large (Cornish–Fisher branch): statsmodels 0.15.0 proportion_confint(3e7, 1e8,
        // method="beta" / "jeffreys"); statrs' own Beta CDF put the upper bound below p̂ here.
        let ci = proportion_ci(3.0e7, 1.0e8, 0.95, ProportionMethod::ClopperPearson).unwrap();
        assert!(rel(ci.low, 0.2999101839568302) < 1e-12, "{}", ci.low);
        assert!(rel(ci.high, 0.3000898276212486) < 1e-12, "{}", ci.high);
        let ci = proportion_ci(3.0e9, 1.0e10, 0.95, ProportionMethod::Jeffreys).unwrap();
        assert!(rel(ci.low, 0.29999101837456854) < 1e-12, "{}", ci.low);
        assert!(rel(ci.high, 0.3000089817412037) < 1e-12, "{}", ci.high);
        let ci = proportion_ci(0.3, 10.0, 0.95, ProportionMethod::ClopperPearson).unwrap();
        assert!(rel(ci.low, 3.07686271481345e-07) < 1e-9, "{}", ci.low);
        assert!(rel(ci.high, 0.3535673254369866) < 1e-9, "{}", ci.high);
    }

    #[test]
    fn proportion_errors() {
        let w = ProportionMethod::Wilson;
        for (x, n) in [
            (0.0, 0.0),
            (1.0, -1.0),
            (-0.5, 10.0),
            (11.0, 10.0),
            (f64::NAN, 10.0),
            (1.0, f64::INFINITY),
        ] {
            assert!(
                matches!(
                    proportion_ci(x, n, 0.95, w),
                    Err(Error::InvalidArgument { .. })
                ),
                "{x}/{n}"
            );
        }
        for level in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(proportion_ci(1.0, 10.0, level, w).is_err());
            assert!(newcombe_difference(1.0, 10.0, 2.0, 10.0, level).is_err());
            assert!(mean_t_ci(1.0, 1.0, 10.0, level).is_err());
        }
        assert!(newcombe_difference(1.0, 0.0, 2.0, 10.0, 0.95).is_err());
        assert!(compare_proportions(1.0, 10.0, 12.0, 10.0, 0.95).is_err());
        assert!(mean_t_ci(1.0, 1.0, 1.0, 0.95).is_err());
        assert!(mean_t_ci(1.0, -1.0, 10.0, 0.95).is_err());
        assert!(mean_t_ci(f64::NAN, 1.0, 10.0, 0.95).is_err());
        assert!("wald".parse::<ProportionMethod>().is_err());
        for m in ProportionMethod::ALL {
            assert_eq!(m.id().parse::<ProportionMethod>(), Ok(m));
        }
    }

    #[test]
    fn compare_proportions_z_test() {
        // Pooled z for 56/70 vs 48/80: p̄ = 104/150; statsmodels proportions_ztest gives z = 2.6526, by hand:
        let pbar: f64 = 104.0 / 150.0;
        let se0 = (pbar * (1.0 - pbar) * (1.0 / 70.0 + 1.0 / 80.0)).sqrt();
        let c = compare_proportions(56.0, 70.0, 48.0, 80.0, 0.95).unwrap();
        assert!(rel(c.z, 0.2 / se0) < 1e-12);
        assert!(
            rel(
                c.std_error,
                (0.8 * 0.2 / 70.0 + 0.6 * 0.4 / 80.0_f64).sqrt()
            ) < 1e-12
        );
        let c = compare_proportions(10.0, 10.0, 20.0, 20.0, 0.95).unwrap();
        assert_eq!((c.z, c.p_value, c.difference), (0.0, 1.0, 0.0));
        let iv = mean_t_ci(2.0, 0.0, 5.0, 0.9).unwrap();
        assert_eq!((iv.low, iv.high), (2.0, 2.0));
    }
}
