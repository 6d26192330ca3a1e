//! The exact distribution of θ_P − θ_D under a Dirichlet posterior, and its equal-tailed interval.

use statrs::distribution::{Beta, Continuous};
use statrs::function::beta::ln_beta;

use super::numeric::{brent, integrate, ROOT_RTOL};
use crate::error::{Error, Result};

/// Multiples of a standard deviation at which the integration range is split, so that quadrature
/// sees the peak of a concentrated posterior (large n) and the step of the conditional Beta CDF.
const SPLITS: [f64; 19] = [
    -20.0, -14.0, -9.0, -6.0, -4.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 9.0,
    14.0, 20.0,
];

/// The regularised incomplete beta function I_x(a, b) by Lentz's continued fraction (Press et al.,
/// *Numerical Recipes*, 3rd ed., §6.4), iterated to convergence.
///
/// statrs' `beta_reg` stops after 140 terms and returns the unconverged value, which is wrong once
/// a and b reach the tens of thousands (the continued fraction needs O(√max(a, b)) terms); posterior
/// parameters grow with n, so the Dirichlet interval needs the converged value. Tests check this
/// against statrs where statrs converges and against I_½(a, a) = ½ where it does not.
pub(crate) fn beta_cdf(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (a * x.ln() + b * (-x).ln_1p() - ln_beta(a, b)).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        (front * continued_fraction(a, b, x) / a).clamp(0.0, 1.0)
    } else {
        (1.0 - front * continued_fraction(b, a, 1.0 - x) / b).clamp(0.0, 1.0)
    }
}

fn continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const MAX_TERMS: usize = 1_000_000;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=MAX_TERMS {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() <= f64::EPSILON {
            break;
        }
    }
    h
}

/// The CDF of θ_P − θ_D for (θ_D, θ_0, θ_P) ~ Dir(a_D, a_0, a_P).
pub(crate) struct DifferenceCdf {
    /// Marginal of θ_D: Beta(a_D, a_P + a_0).
    marginal: Beta,
    /// (a_D, a_P + a_0).
    marginal_ab: (f64, f64),
    /// θ_P / (1 − θ_D) given θ_D: Beta(a_P, a_0).
    conditional_ab: (f64, f64),
    mean_d: f64,
    sd_d: f64,
    mean_x: f64,
    sd_x: f64,
}

fn beta(a: f64, b: f64) -> Result<Beta> {
    Beta::new(a, b).map_err(|e| Error::invalid("prior", format!("Beta({a}, {b}): {e}")))
}

fn moments(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (a / s, (a * b / (s * s * (s + 1.0))).sqrt())
}

impl DifferenceCdf {
    pub(crate) fn new([ad, a0, ap]: [f64; 3]) -> Result<Self> {
        let (mean_d, sd_d) = moments(ad, ap + a0);
        let (mean_x, sd_x) = moments(ap, a0);
        Ok(Self {
            marginal: beta(ad, ap + a0)?,
            marginal_ab: (ad, ap + a0),
            conditional_ab: (ap, a0),
            mean_d,
            sd_d,
            mean_x,
            sd_x,
        })
    }

    /// F(t) = P(θ_P − θ_D ≤ t) = ∫_{max(0,−t)}^{(1−t)/2} f_D(d) I_{(t+d)/(1−d)}(a_P, a_0) dd
    /// + P(θ_D > (1 − t)/2): below d = −t the conditional CDF is 0, above d = (1 − t)/2 it is 1.
    pub(crate) fn cdf(&self, t: f64) -> f64 {
        if t <= -1.0 {
            return 0.0;
        }
        if t >= 1.0 {
            return 1.0;
        }
        let lo = (-t).max(0.0);
        let hi = (1.0 - t) / 2.0;
        let (ma, mb) = self.marginal_ab;
        let (ca, cb) = self.conditional_ab;
        let tail = beta_cdf(mb, ma, 1.0 - hi);
        let mut cuts: Vec<f64> = Vec::with_capacity(2 * SPLITS.len() + 2);
        cuts.push(lo);
        cuts.push(hi);
        for k in SPLITS {
            cuts.push(self.mean_d + k * self.sd_d);
            // θ_D at which (t + d)/(1 − d) = x, for x a few sd around the conditional mean.
            let x = self.mean_x + k * self.sd_x;
            cuts.push((x - t) / (1.0 + x));
        }
        cuts.retain(|c| *c >= lo && *c <= hi);
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let integrand = |d: f64| {
            let x = ((t + d) / (1.0 - d)).clamp(0.0, 1.0);
            self.marginal.pdf(d) * beta_cdf(ca, cb, x)
        };
        let body: f64 = cuts
            .windows(2)
            .map(|w| integrate(integrand, w[0], w[1], 1e-13, 1e-12))
            .sum();
        (body + tail).clamp(0.0, 1.0)
    }

    /// The `q`-quantile (0 < q < 1), by Brent's method on F(t) − q over [−1, 1].
    pub(crate) fn quantile(&self, q: f64) -> Result<f64> {
        brent(|t| self.cdf(t) - q, -1.0, 1.0, 1e-13, ROOT_RTOL)
    }
}

/// Equal-tailed interval of θ_P − θ_D at `level` for posterior parameters (a_D, a_0, a_P).
pub(crate) fn equal_tailed(post: [f64; 3], level: f64) -> Result<(f64, f64)> {
    let cdf = DifferenceCdf::new(post)?;
    let a = (1.0 - level) / 2.0;
    Ok((cdf.quantile(a)?, cdf.quantile(1.0 - a)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_beta_converges_where_statrs_stops() {
        use statrs::function::beta::beta_reg;
        for (a, b, x) in [
            (2.0, 3.0, 0.4),
            (0.5, 0.5, 0.1),
            (30.0, 70.5, 0.31),
            (460.0, 540.0, 0.47),
        ] {
            let (got, want) = (beta_cdf(a, b, x), beta_reg(a, b, x));
            // Both evaluate exp(ln-prefactor); at a, b in the hundreds its rounding is ~1e-13.
            assert!(
                (got - want).abs() < 1e-12,
                "I_{x}({a}, {b}): {got} vs {want}"
            );
        }
        // I_½(a, a) = ½ by symmetry; I_x(a, 1) = x^a.
        // What remains is the rounding of ln B(a, a) (about a·ε); statrs' truncated fraction is off
        // by 9e-3 at a = 10^6.
        for a in [1e4, 1e6, 1e8] {
            let err = (beta_cdf(a, a, 0.5) - 0.5).abs();
            assert!(err < 1e-14 * a, "I_0.5({a}, {a}) is off by {err:e}");
        }
        assert!((beta_cdf(3.5, 1.0, 0.3) - 0.3f64.powf(3.5)).abs() < 1e-15);
    }

    #[test]
    fn cdf_matches_closed_forms() {
        // Dir(1, 1, 1): uniform on the simplex; P(θ_P − θ_D ≤ t) = 1 − (1 − t)²/2 for t ≥ 0
        // (the region θ_P − θ_D > t is a triangle of area (1 − t)²/4 out of 1/2).
        let f = DifferenceCdf::new([1.0, 1.0, 1.0]).unwrap();
        for t in [0.0, 0.1, 0.5, 0.9] {
            let want = 1.0 - (1.0 - t) * (1.0 - t) / 2.0;
            assert!((f.cdf(t) - want).abs() < 1e-13, "{t}");
            assert!((f.cdf(-t) - (1.0 - want)).abs() < 1e-13, "{t}");
        }
        // A concentrated posterior is still found by the quadrature: the median of a symmetric
        // posterior is 0.
        let f = DifferenceCdf::new([3.0e4, 4.0e4, 3.0e4]).unwrap();
        assert!((f.cdf(0.0) - 0.5).abs() < 1e-10, "{}", f.cdf(0.0));
        assert!(f.quantile(0.5).unwrap().abs() < 1e-9);
    }
}
