//! Extended-precision kernels for least squares: error-free transformations and double-double sums.
//!
//! Iterative refinement only improves a solution if its residuals are computed more accurately than the
//! solution itself. The kernels here compute sums and dot products of `f64` data in double-double
//! arithmetic (about 106 significant bits): a value is carried as an unevaluated sum `hi + lo` with
//! `|lo| ≤ ulp(hi)/2`, built from the error-free transformations
//!
//! * TwoSum (Knuth 1969): `s = fl(a + b)`, `e = (a + b) − s` exactly;
//! * TwoProd: `p = fl(a·b)`, `e = a·b − p` exactly, with one fused multiply-add `e = fma(a, b, −p)`.
//!
//! A dot product accumulated this way is as accurate as if it were computed in twice the working
//! precision and then rounded (Ogita, Rump & Oishi 2005, "Accurate sum and dot product", SIAM J. Sci.
//! Comput. 26(6), algorithm Dot2): |result − exact| ≤ u·|exact| + γ²ₙ·Σ|aᵢbᵢ|, with u = 2⁻⁵³ and
//! γₙ = nu/(1 − nu).

/// Knuth's TwoSum: `(s, e)` with `s = fl(a + b)` and `s + e = a + b` exactly.
///
/// ```
/// let (s, e) = cx_metrics::linalg::two_sum(1.0, 1e-20);
/// assert_eq!((s, e), (1.0, 1e-20));
/// ```
#[inline]
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// TwoProd with a fused multiply-add: `(p, e)` with `p = fl(a·b)` and `p + e = a·b` exactly
/// (barring underflow).
///
/// ```
/// let x = 1.0 + f64::EPSILON;
/// let (p, e) = cx_metrics::linalg::two_prod(x, x);
/// assert_eq!(p, 1.0 + 2.0 * f64::EPSILON);
/// assert_eq!(e, f64::EPSILON * f64::EPSILON);
/// ```
#[inline]
pub fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let e = a.mul_add(b, -p);
    (p, e)
}

/// A double-double accumulator: the unevaluated sum `hi + lo`.
///
/// ```
/// use cx_metrics::linalg::Dd;
/// let mut s = Dd::ZERO;
/// s.add(1e16);
/// s.add(1.0);
/// s.add(-1e16);
/// assert_eq!(s.value(), 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Dd {
    /// Leading part.
    pub hi: f64,
    /// Trailing part.
    pub lo: f64,
}

impl Dd {
    /// Zero.
    pub const ZERO: Dd = Dd { hi: 0.0, lo: 0.0 };

    /// The value `x` exactly.
    #[inline]
    pub fn from_f64(x: f64) -> Self {
        Dd { hi: x, lo: 0.0 }
    }

    /// Add `x` to the accumulator.
    #[inline]
    pub fn add(&mut self, x: f64) {
        let (s, e) = two_sum(self.hi, x);
        self.hi = s;
        self.lo += e;
    }

    /// Add the exact product `a·b` to the accumulator.
    #[inline]
    pub fn add_prod(&mut self, a: f64, b: f64) {
        let (p, e) = two_prod(a, b);
        let (s, t) = two_sum(self.hi, p);
        self.hi = s;
        self.lo += t + e;
    }

    /// Add `a·b` where `b` is itself a double-double: `a·b.hi` exactly, `a·b.lo` to working precision.
    #[inline]
    pub fn add_prod_dd(&mut self, a: f64, b: Dd) {
        self.add_prod(a, b.hi);
        self.lo += a * b.lo;
    }

    /// The product of `self` and `x` (to about double-double precision).
    #[inline]
    pub fn mul_f64(self, x: f64) -> Dd {
        let (p, e) = two_prod(self.hi, x);
        let (hi, lo) = two_sum(p, e + self.lo * x);
        Dd { hi, lo }
    }

    /// The accumulated value as a normalised double-double (`|lo| ≤ ulp(hi)/2`).
    #[inline]
    pub fn normalized(self) -> Dd {
        let (hi, lo) = two_sum(self.hi, self.lo);
        Dd { hi, lo }
    }

    /// The accumulated value rounded to `f64`.
    #[inline]
    pub fn value(self) -> f64 {
        self.hi + self.lo
    }
}

/// The dot product `Σ aᵢbᵢ` in double-double precision (Ogita–Rump–Oishi Dot2), over the common length.
///
/// ```
/// let d = cx_metrics::linalg::dot2(&[1e16, 1.0, -1e16], &[1.0, 1.0, 1.0]);
/// assert_eq!(d.value(), 1.0);
/// ```
pub fn dot2(a: &[f64], b: &[f64]) -> Dd {
    let mut s = Dd::ZERO;
    for (x, y) in a.iter().zip(b) {
        s.add_prod(*x, *y);
    }
    s
}

/// The sum `Σ xᵢ` in double-double precision.
pub fn sum2(x: &[f64]) -> Dd {
    let mut s = Dd::ZERO;
    for v in x {
        s.add(*v);
    }
    s
}

/// The power of two nearest `1/x` for a positive finite `x` (1 otherwise): scaling by it is exact in
/// binary floating point, so it equilibrates columns without perturbing the data.
pub fn inverse_power_of_two(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let e = x.log2().round().clamp(-1000.0, 1000.0);
    (-e).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_free_transformations_are_exact() {
        // 0.1 + 0.2 and 0.1·0.1: the rounding errors, computed exactly with Python's fractions.Fraction,
        // are recovered exactly.
        let (s, e) = two_sum(0.1, 0.2);
        assert_eq!(s, 0.30000000000000004);
        assert_eq!(e, -2.7755575615628914e-17);
        let (p, e) = two_prod(0.1, 0.1);
        assert_eq!(p, 0.010000000000000002);
        assert_eq!(e, -8.326672684688674e-19);
    }

    #[test]
    fn dot2_survives_catastrophic_cancellation() {
        // Σ = 1e-20 exactly; a plain f64 dot product returns 0.
        let a = [1e10, 1e-20, -1e10];
        let b = [1e10, 1.0, 1e10];
        assert_eq!(dot2(&a, &b).value(), 1e-20);
        assert_eq!(sum2(&[1.0, 1e100, 1.0, -1e100]).value(), 2.0);
        assert_eq!(inverse_power_of_two(1000.0), 1.0 / 1024.0);
        assert_eq!(inverse_power_of_two(0.0), 1.0);
        let x = Dd::from_f64(3.0).mul_f64(1.0 / 3.0);
        assert!((x.value() - 1.0).abs() < 1e-16);
    }
}
