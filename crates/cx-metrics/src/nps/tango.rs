//! Tango's (1998) score interval for the NPS, a difference of two proportions from one multinomial
//! sample (promoters and detractors play the two discordant cells of a paired 2×2 table).

use super::numeric::{brent, ROOT_RTOL, ROOT_XTOL};
use crate::error::Result;

/// The score statistic Z(Δ) for n respondents, `p` promoters and `d` detractors (possibly
/// non-integer effective counts). ±∞ where the constrained variance vanishes but the numerator does
/// not; 0 where both vanish.
fn score(n: f64, p: f64, d: f64, delta: f64) -> f64 {
    let num = (p - d) - n * delta;
    let dd = delta * (1.0 - delta);
    let w = -p - d + (2.0 * n - p + d) * delta;
    let a = (w * w + 8.0 * n * d * dd).max(0.0);
    // Restricted MLE of the detractor share; the two algebraically equal forms avoid cancellation.
    let q = if w > 0.0 {
        2.0 * d * dd / (a.sqrt() + w)
    } else {
        (a.sqrt() - w) / (4.0 * n)
    };
    let var = (n * (2.0 * q + dd)).max(0.0);
    if var > 0.0 {
        num / var.sqrt()
    } else if num > 0.0 {
        f64::INFINITY
    } else if num < 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    }
}

/// Tango's interval {Δ : |Z(Δ)| ≤ z} for critical value `z`.
///
/// Z decreases in Δ from Z(−1) ≥ 0 through Z(Δ̂) = 0 to Z(1) ≤ 0, so each bound is the root of
/// atan Z(Δ) ∓ atan z on its side of Δ̂ (atan keeps the bracket finite where Z is infinite), or ±1
/// when |Z(±1)| ≤ z.
pub(crate) fn interval(n: f64, p: f64, d: f64, z: f64) -> Result<(f64, f64)> {
    let hat = ((p - d) / n).clamp(-1.0, 1.0);
    let az = z.atan();
    let lower = if score(n, p, d, -1.0) <= z {
        -1.0
    } else {
        let f = |x: f64| {
            if x >= hat {
                -az
            } else {
                score(n, p, d, x).atan() - az
            }
        };
        brent(f, -1.0, hat, ROOT_XTOL, ROOT_RTOL)?
    };
    let upper = if score(n, p, d, 1.0) >= -z {
        1.0
    } else {
        let f = |x: f64| {
            if x <= hat {
                az
            } else {
                score(n, p, d, x).atan() + az
            }
        };
        brent(f, hat, 1.0, ROOT_XTOL, ROOT_RTOL)?
    };
    Ok((lower, upper))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms_of_degenerate_samples() {
        // All promoters: Z(Δ)² = n(1 − Δ)/(1 + Δ), so the lower bound is (n − z²)/(n + z²).
        let z = 1.959_963_984_540_054;
        let (lo, hi) = interval(10.0, 10.0, 0.0, z).unwrap();
        let want = (10.0 - z * z) / (10.0 + z * z);
        assert!((lo - want).abs() < 1e-15 && hi == 1.0, "{lo} {want}");
        // All passives: Z(Δ)² = nΔ/(1 − Δ) for Δ > 0, so the bound is z²/(n + z²).
        let (lo, hi) = interval(10.0, 0.0, 0.0, z).unwrap();
        let want = z * z / (10.0 + z * z);
        assert!((hi - want).abs() < 1e-15 && (lo + want).abs() < 1e-15);
    }
}
