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
//!
//! On top of them, [`RefinedLeastSquares`] solves weighted least squares to the exact solution of the
//! `f64` data.

use nalgebra::linalg::QR;
use nalgebra::{DMatrix, DVector, Dyn, SVD};

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

/// Why [`RefinedLeastSquares::solve`] gave no solution.
#[derive(Debug, Clone, PartialEq)]
pub enum RefineError {
    /// The equilibrated design is numerically rank deficient (a zero column, or a smallest singular
    /// value below 10⁻¹³ of the largest); `null_vector` is the right singular vector of the smallest
    /// singular value (one weight per column), naming the dependency.
    RankDeficient {
        /// Near-null vector of the equilibrated design, one component per column.
        null_vector: Vec<f64>,
    },
    /// The refinement did not reach working accuracy (the design is too ill-conditioned, or the data
    /// overflow).
    NotConverged {
        /// 2-norm condition number of the equilibrated design.
        condition: f64,
    },
}

/// A weighted least-squares solution refined to the exact solution of the `f64` data.
///
/// Minimises `Σ wᵢ (yᵢ − aᵢᵀx)²` for a full-rank design `A` (n×m, given as columns), then refines:
///
/// 1. columns are scaled by powers of two (exact) to about unit weighted length, and `diag(√w)·A` is
///    factorised by Householder QR (`nalgebra`);
/// 2. Björck's iterative refinement of the augmented system `r + Ax = y`, `AᵀW r = 0`: both residuals
///    are computed in double-double, the corrections solve the same system through the QR factors
///    (Å. Björck 1967, "Iterative refinement of linear least squares solutions I", BIT 7, 257–278;
///    N. J. Higham 2002, *Accuracy and Stability of Numerical Algorithms*, §20.5). Each step contracts
///    the error by about `κ·u` (κ the equilibrated condition number, u = 2⁻⁵³), so the iteration
///    reaches the exact solution of the data, rounded, whenever κ·u is well below 1;
/// 3. the columns of `(AᵀWA)⁻¹` are refined the same way against the Gram matrix formed once in
///    double-double.
///
/// The iteration stops when a step is below 4u relative; if it stalls above 10⁻¹² it reports
/// [`RefineError::NotConverged`] rather than return inaccurate digits.
///
/// ```
/// use cx_metrics::linalg::RefinedLeastSquares;
/// let ones = [1.0; 4];
/// let x = [0.0, 1.0, 2.0, 3.0];
/// let y = [1.0, 3.0, 5.0, 7.0];
/// let s = RefinedLeastSquares::solve(&[&ones, &x], &y, &[1.0; 4]).unwrap();
/// assert_eq!(s.coefficients, vec![1.0, 2.0]);
/// assert!(s.residuals.iter().all(|r| *r == 0.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RefinedLeastSquares {
    /// The solution x.
    pub coefficients: Vec<f64>,
    /// Residuals `y − Ax` of the returned x, computed in double-double and rounded.
    pub residuals: Vec<f64>,
    /// `(AᵀWA)⁻¹`, row-major m×m.
    pub unscaled_covariance: Vec<f64>,
    /// 2-norm condition number of the equilibrated design `diag(√w)·A·D`.
    pub condition: f64,
}

impl RefinedLeastSquares {
    /// Solve for `columns` (m columns of equal length n ≥ m), `y` and weights `w` (finite, > 0; the
    /// caller validates them).
    pub fn solve(columns: &[&[f64]], y: &[f64], w: &[f64]) -> Result<Self, RefineError> {
        let n = y.len();
        let m = columns.len();
        let scale: Vec<f64> = columns
            .iter()
            .map(|c| {
                let mut s = Dd::ZERO;
                for (v, wi) in c.iter().zip(w) {
                    s.add_prod(v * wi, *v);
                }
                inverse_power_of_two(s.value().sqrt())
            })
            .collect();
        let a = DMatrix::from_fn(n, m, |i, j| columns[j][i] * scale[j]);
        let sqrt_w: Vec<f64> = w.iter().map(|v| v.sqrt()).collect();
        let qr = DMatrix::from_fn(n, m, |i, j| a[(i, j)] * sqrt_w[i]).qr();
        let r = qr.r();
        let condition = check_rank(&r)?;
        let solver = Refiner {
            a: &a,
            y,
            w,
            sqrt_w: &sqrt_w,
            qr: &qr,
            r: &r,
        };
        let (x, residuals) = solver.least_squares(condition)?;
        let s = solver.inverse(condition)?;
        Ok(Self {
            coefficients: (0..m).map(|j| x[j] * scale[j]).collect(),
            residuals,
            unscaled_covariance: (0..m * m)
                .map(|k| s[k] * scale[k / m] * scale[k % m])
                .collect(),
            condition,
        })
    }
}

/// Relative singular-value threshold below which the equilibrated design is taken as rank deficient.
const RANK_TOLERANCE: f64 = 1e-13;

/// The 2-norm condition number of the column-normalised R factor, or the near-null vector when it is
/// numerically singular.
fn check_rank(r: &DMatrix<f64>) -> Result<f64, RefineError> {
    let m = r.ncols();
    let norms: Vec<f64> = (0..m).map(|j| r.column(j).norm()).collect();
    if let Some(j) = norms.iter().position(|v| v.is_nan() || *v <= 0.0) {
        return Err(RefineError::RankDeficient {
            null_vector: (0..m).map(|k| if k == j { 1.0 } else { 0.0 }).collect(),
        });
    }
    let rs = DMatrix::from_fn(m, m, |i, j| r[(i, j)] / norms[j]);
    let svd = SVD::new(rs, false, true);
    let sv = &svd.singular_values;
    let (max, min) = (sv[0], sv[m - 1]);
    if min > max * RANK_TOLERANCE {
        return Ok(max / min);
    }
    let null_vector = svd.v_t.as_ref().map_or_else(
        || vec![1.0; m],
        |vt| vt.row(m - 1).iter().copied().collect(),
    );
    Err(RefineError::RankDeficient { null_vector })
}

/// Iterative refinement on the QR factorisation of the equilibrated design.
struct Refiner<'a> {
    /// Equilibrated design (n×m), exact multiples of the data by powers of two.
    a: &'a DMatrix<f64>,
    y: &'a [f64],
    w: &'a [f64],
    sqrt_w: &'a [f64],
    qr: &'a QR<f64, Dyn, Dyn>,
    r: &'a DMatrix<f64>,
}

/// At most this many refinement steps.
const MAX_STEPS: usize = 60;
/// A step whose relative size is at most this has reached working precision.
const CONVERGED: f64 = 4.0 * f64::EPSILON;
/// The largest relative step accepted when the iteration stops contracting.
const ACCEPTABLE: f64 = 1e-12;

impl Refiner<'_> {
    fn solve_r(&self, v: &DVector<f64>) -> Option<DVector<f64>> {
        self.r.solve_upper_triangular(v)
    }
    fn solve_rt(&self, v: &DVector<f64>) -> Option<DVector<f64>> {
        self.r.tr_solve_upper_triangular(v)
    }

    /// Björck's refinement of `r + Aβ = y`, `AᵀW r = 0`: returns (β, residuals).
    fn least_squares(&self, condition: f64) -> Result<(Vec<f64>, Vec<f64>), RefineError> {
        let (n, m) = self.a.shape();
        let ill = || RefineError::NotConverged { condition };
        let y = DVector::from_column_slice(self.y);
        // Initial QR solution.
        let mut qty = DVector::from_fn(n, |i, _| self.y[i] * self.sqrt_w[i]);
        self.qr.q_tr_mul(&mut qty);
        let mut x = self.solve_r(&qty.rows(0, m).into_owned()).ok_or_else(ill)?;
        let mut r = self.residual(&x, None);
        let mut progress = Progress::new(condition);
        let y_scale = y.amax();
        loop {
            // f = y − r − Ax and g = −AᵀW r, both in double-double.
            let f = self.residual(&x, Some(&r));
            let wr: Vec<Dd> = (0..n)
                .map(|i| {
                    let (hi, lo) = two_prod(self.w[i], r[i]);
                    Dd { hi, lo }
                })
                .collect();
            let g = DVector::from_fn(m, |j, _| {
                let mut acc = Dd::ZERO;
                for (i, wri) in wr.iter().enumerate() {
                    acc.add_prod_dd(-self.a[(i, j)], *wri);
                }
                acc.value()
            });
            let mut d = DVector::from_fn(n, |i, _| f[i] * self.sqrt_w[i]);
            self.qr.q_tr_mul(&mut d);
            let h = self.solve_rt(&g).ok_or_else(ill)?;
            let dx = self
                .solve_r(&(d.rows(0, m).into_owned() - h))
                .ok_or_else(ill)?;
            let dr = &f - self.a * &dx;
            x += &dx;
            r += &dr;
            let size = (dx.amax() / x.amax().max(f64::MIN_POSITIVE))
                .max(dr.amax() / r.amax().max(y_scale * 1e-16).max(f64::MIN_POSITIVE));
            if progress.done(size)? {
                break;
            }
        }
        // Residuals of the final β, in double-double, rounded.
        let resid = self.residual(&x, None);
        Ok((x.iter().copied().collect(), resid.iter().copied().collect()))
    }

    /// `y − r − Aβ` (or `y − Aβ` without `r`) in double-double, rounded to `f64`.
    fn residual(&self, x: &DVector<f64>, r: Option<&DVector<f64>>) -> DVector<f64> {
        let (n, m) = self.a.shape();
        DVector::from_fn(n, |i, _| {
            let mut acc = Dd::from_f64(self.y[i]);
            if let Some(r) = r {
                acc.add(-r[i]);
            }
            for j in 0..m {
                acc.add_prod(-self.a[(i, j)], x[j]);
            }
            acc.value()
        })
    }

    /// `(AᵀWA)⁻¹`, row-major, column by column with refinement of `AᵀWA z = eₖ`: the Gram matrix
    /// `G = AᵀWA` is formed once in double-double, residuals `eₖ − Gz` are computed from it in
    /// double-double, corrections go through `R⁻¹R⁻ᵀ`.
    fn inverse(&self, condition: f64) -> Result<Vec<f64>, RefineError> {
        let (n, m) = self.a.shape();
        let ill = || RefineError::NotConverged { condition };
        let mut gram = vec![Dd::ZERO; m * m];
        for i in 0..n {
            for j in 0..m {
                let (h, l) = two_prod(self.w[i], self.a[(i, j)]);
                for k in j..m {
                    let g = &mut gram[j * m + k];
                    g.add_prod(h, self.a[(i, k)]);
                    g.lo += l * self.a[(i, k)];
                }
            }
        }
        let gram: Vec<Dd> = (0..m * m)
            .map(|jk| {
                let (j, k) = (jk / m, jk % m);
                gram[j.min(k) * m + j.max(k)].normalized()
            })
            .collect();
        let solve = |v: &DVector<f64>| -> Result<DVector<f64>, RefineError> {
            let h = self.solve_rt(v).ok_or_else(ill)?;
            self.solve_r(&h).ok_or_else(ill)
        };
        let mut s = vec![0.0; m * m];
        for k in 0..m {
            let e = DVector::from_fn(m, |j, _| if j == k { 1.0 } else { 0.0 });
            let mut z = solve(&e)?;
            let mut progress = Progress::new(condition);
            loop {
                let rho = DVector::from_fn(m, |l, _| {
                    let mut acc = Dd::from_f64(e[l]);
                    for j in 0..m {
                        let g = gram[l * m + j];
                        acc.add_prod(-g.hi, z[j]);
                        acc.lo -= g.lo * z[j];
                    }
                    acc.value()
                });
                let dz = solve(&rho)?;
                z += &dz;
                if progress.done(dz.amax() / z.amax().max(f64::MIN_POSITIVE))? {
                    break;
                }
            }
            for j in 0..m {
                s[j * m + k] = z[j];
            }
        }
        // Symmetrise (the columns were refined independently).
        for j in 0..m {
            for k in 0..j {
                let v = 0.5 * (s[j * m + k] + s[k * m + j]);
                s[j * m + k] = v;
                s[k * m + j] = v;
            }
        }
        Ok(s)
    }
}

/// Convergence control of an iterative refinement: stop at working precision, accept a stall only
/// once the steps are negligible, refuse otherwise.
struct Progress {
    step: usize,
    previous: f64,
    condition: f64,
}

impl Progress {
    fn new(condition: f64) -> Self {
        Self {
            step: 0,
            previous: f64::INFINITY,
            condition,
        }
    }

    /// Record a step of relative size `size`: `Ok(true)` when finished, `Ok(false)` to go on.
    fn done(&mut self, size: f64) -> Result<bool, RefineError> {
        let ill = RefineError::NotConverged {
            condition: self.condition,
        };
        self.step += 1;
        if !size.is_finite() {
            return Err(ill);
        }
        if size <= CONVERGED {
            return Ok(true);
        }
        let stalled = self.step > 2 && size > 0.5 * self.previous;
        if stalled || self.step >= MAX_STEPS {
            return if size <= ACCEPTABLE {
                Ok(true)
            } else {
                Err(ill)
            };
        }
        self.previous = size;
        Ok(false)
    }
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
