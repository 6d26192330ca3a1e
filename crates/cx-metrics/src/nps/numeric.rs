//! Numerical building blocks for the NPS intervals: a bracketed root finder (Brent) and adaptive
//! Gauss–Kronrod quadrature.

use crate::error::{Error, Result};

/// Absolute tolerance on roots: well below every accuracy the intervals promise.
pub(crate) const ROOT_XTOL: f64 = 1e-15;
/// Relative tolerance on roots (scipy's `brentq` default, 4 ε).
pub(crate) const ROOT_RTOL: f64 = 4.0 * f64::EPSILON;

/// A root of `f` in `[a, b]`, where `f(a)` and `f(b)` differ in sign (or one is zero), by Brent's method
/// (Brent 1973, ch. 4; the variant of scipy's `brentq`): inverse quadratic interpolation and secant
/// steps safeguarded by bisection, so it converges whenever the bracket is valid.
///
/// Stops when the bracket is narrower than `xtol + rtol·|x|`.
pub(crate) fn brent(
    mut f: impl FnMut(f64) -> f64,
    a: f64,
    b: f64,
    xtol: f64,
    rtol: f64,
) -> Result<f64> {
    const MAX_ITER: usize = 200;
    let (mut xpre, mut xcur) = (a, b);
    let (mut fpre, mut fcur) = (f(xpre), f(xcur));
    if fpre.is_nan() || fcur.is_nan() || fpre * fcur > 0.0 {
        return Err(Error::NoConvergence {
            method: "brent",
            message: format!("the root is not bracketed by [{a}, {b}] (f = {fpre}, {fcur})"),
        });
    }
    if fpre == 0.0 {
        return Ok(xpre);
    }
    if fcur == 0.0 {
        return Ok(xcur);
    }
    let (mut xblk, mut fblk) = (0.0, 0.0);
    let (mut spre, mut scur) = (0.0f64, 0.0f64);
    for _ in 0..MAX_ITER {
        if fpre != 0.0 && fcur != 0.0 && (fpre < 0.0) != (fcur < 0.0) {
            xblk = xpre;
            fblk = fpre;
            spre = xcur - xpre;
            scur = spre;
        }
        if fblk.abs() < fcur.abs() {
            xpre = xcur;
            xcur = xblk;
            xblk = xpre;
            fpre = fcur;
            fcur = fblk;
            fblk = fpre;
        }
        let delta = (xtol + rtol * xcur.abs()) / 2.0;
        let sbis = (xblk - xcur) / 2.0;
        if fcur == 0.0 || sbis.abs() < delta {
            return Ok(xcur);
        }
        if spre.abs() > delta && fcur.abs() < fpre.abs() {
            let stry = if xpre == xblk {
                // secant
                -fcur * (xcur - xpre) / (fcur - fpre)
            } else {
                // inverse quadratic interpolation
                let dpre = (fpre - fcur) / (xpre - xcur);
                let dblk = (fblk - fcur) / (xblk - xcur);
                -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            };
            if 2.0 * stry.abs() < spre.abs().min(3.0 * sbis.abs() - delta) {
                spre = scur;
                scur = stry;
            } else {
                spre = sbis;
                scur = sbis;
            }
        } else {
            spre = sbis;
            scur = sbis;
        }
        xpre = xcur;
        fpre = fcur;
        if scur.abs() > delta {
            xcur += scur;
        } else {
            xcur += if sbis > 0.0 { delta } else { -delta };
        }
        fcur = f(xcur);
        if fcur.is_nan() {
            return Err(Error::NoConvergence {
                method: "brent",
                message: format!("the function is NaN at {xcur}"),
            });
        }
    }
    Err(Error::NoConvergence {
        method: "brent",
        message: format!("no root within {MAX_ITER} iterations in [{a}, {b}]"),
    })
}

/// Kronrod nodes of the 15-point rule on [−1, 1] (QUADPACK `qk15`), positive half, centre last.
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
/// Kronrod weights matching [`XGK`].
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
/// Weights of the embedded 7-point Gauss rule (at `XGK[1]`, `XGK[3]`, `XGK[5]`, `XGK[7]`).
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// One Gauss–Kronrod (7, 15) step on `[a, b]`: the Kronrod estimate and |Kronrod − Gauss|.
fn gk15(f: &mut impl FnMut(f64) -> f64, a: f64, b: f64) -> (f64, f64) {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let fc = f(c);
    let mut k = WGK[7] * fc;
    let mut g = WG[3] * fc;
    for j in 0..7 {
        let dx = h * XGK[j];
        let s = f(c - dx) + f(c + dx);
        k += WGK[j] * s;
        if j % 2 == 1 {
            g += WG[j / 2] * s;
        }
    }
    (k * h, ((k - g) * h).abs())
}

/// ∫ f over `[a, b]` by globally adaptive Gauss–Kronrod (7, 15) quadrature (Piessens et al. 1983,
/// QUADPACK `qag`): the sub-interval with the largest error estimate is halved until the summed
/// estimate is below `max(abs_tol, rel_tol·|I|)` or `max_intervals` is reached (the best estimate is
/// returned then; the callers' tolerances sit far below what they need).
pub(crate) fn integrate(
    mut f: impl FnMut(f64) -> f64,
    a: f64,
    b: f64,
    abs_tol: f64,
    rel_tol: f64,
) -> f64 {
    const MAX_INTERVALS: usize = 500;
    if b <= a {
        return 0.0;
    }
    let (v, e) = gk15(&mut f, a, b);
    let mut parts = vec![(a, b, v, e)];
    loop {
        let total: f64 = parts.iter().map(|p| p.2).sum();
        let err: f64 = parts.iter().map(|p| p.3).sum();
        if err <= abs_tol.max(rel_tol * total.abs()) || parts.len() >= MAX_INTERVALS {
            return total;
        }
        let worst = parts
            .iter()
            .enumerate()
            .max_by(|x, y| x.1 .3.total_cmp(&y.1 .3))
            .map_or(0, |(i, _)| i);
        let (lo, hi, _, _) = parts.swap_remove(worst);
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            // The interval cannot be split further in floating point.
            return total;
        }
        let (v1, e1) = gk15(&mut f, lo, mid);
        let (v2, e2) = gk15(&mut f, mid, hi);
        parts.push((lo, mid, v1, e1));
        parts.push((mid, hi, v2, e2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brent_finds_roots_to_machine_precision() {
        let r = brent(|x| x * x - 2.0, 0.0, 2.0, ROOT_XTOL, ROOT_RTOL).unwrap();
        assert!((r - std::f64::consts::SQRT_2).abs() < 4e-16);
        let r = brent(|x| x.cos() - x, 0.0, 1.0, ROOT_XTOL, ROOT_RTOL).unwrap();
        // Dottie number, OEIS A003957.
        assert!((r - 0.739_085_133_215_160_6).abs() < 4e-16);
        // A step function: bisection fallback still brackets the jump.
        let r = brent(|x| if x < 0.3 { -1.0 } else { 1.0 }, 0.0, 1.0, 1e-15, 0.0).unwrap();
        assert!((r - 0.3).abs() < 1e-15);
        assert!(matches!(
            brent(|x| x * x + 1.0, -1.0, 1.0, ROOT_XTOL, ROOT_RTOL),
            Err(Error::NoConvergence { .. })
        ));
    }

    #[test]
    fn gauss_kronrod_integrates_smooth_and_singular_functions() {
        let v = integrate(|x| x.exp(), 0.0, 1.0, 1e-14, 1e-14);
        assert!((v - (std::f64::consts::E - 1.0)).abs() < 1e-14);
        // Integrable endpoint singularity: ∫₀¹ x^(−1/2) dx = 2.
        let v = integrate(|x| 1.0 / x.sqrt(), 0.0, 1.0, 1e-12, 1e-12);
        assert!((v - 2.0).abs() < 1e-9, "{v}");
        // A narrow peak: ∫ of a normal density with sd 1e-3 over [0, 1] centred at 0.5 is 1.
        let s = 1e-3;
        let pdf = |x: f64| {
            (-(x - 0.5) * (x - 0.5) / (2.0 * s * s)).exp()
                / (s * (2.0 * std::f64::consts::PI).sqrt())
        };
        let v = integrate(pdf, 0.0, 1.0, 1e-13, 1e-13);
        assert!((v - 1.0).abs() < 1e-12, "{v}");
    }
}
