//! Working-precision kernels over blocks that fit in cache, and the runtime dispatch that compiles
//! them for the widest vector instructions the CPU offers.
//!
//! Every sum here runs over [`LANES`] logical accumulators that are added in a fixed tree at the end:
//! element `i` of a block goes to accumulator `i mod LANES`, whatever the width of the vector registers
//! that hold the accumulators (1, 2, 4 or 8 `f64`), and no fused multiply-add is used. The arithmetic
//! is therefore the same on every instruction set, and so are the results, bit for bit; wider vectors
//! only make it faster. The `pulp` crate (a safe wrapper around `is_x86_feature_detected!` and
//! `#[target_feature]`) picks the instruction set at run time: [`vectorized`] runs a closure compiled
//! for it, and the kernels below are written with its explicit vector operations.

use pulp::{bytemuck, Simd, WithSimd};

/// Logical accumulators per sum: four AVX2 registers of four `f64`, enough to hide the latency of the
/// additions.
pub(crate) const LANES: usize = 16;

/// Run `f` compiled for the best vector instruction set of this CPU (detected once per call).
///
/// `f` should be a closure marked `#[inline(always)]` whose work is in `#[inline(always)]` functions,
/// so that it is compiled inside the dispatched function.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    struct Op<F>(F);
    impl<R, F: FnOnce() -> R> WithSimd for Op<F> {
        type Output = R;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _: S) -> R {
            (self.0)()
        }
    }
    pulp::Arch::new().dispatch(Op(f))
}

/// The fixed reduction tree of the logical accumulators.
#[inline(always)]
fn reduce(acc: &[f64]) -> f64 {
    debug_assert_eq!(acc.len(), LANES);
    let mut half = [0.0f64; LANES / 2];
    for (l, h) in half.iter_mut().enumerate() {
        *h = acc[l] + acc[l + LANES / 2];
    }
    let q = [
        half[0] + half[4],
        half[1] + half[5],
        half[2] + half[6],
        half[3] + half[7],
    ];
    (q[0] + q[2]) + (q[1] + q[3])
}

/// `f64`s per vector register of `S`.
#[inline(always)]
fn width<S: Simd>() -> usize {
    std::mem::size_of::<S::f64s>() / std::mem::size_of::<f64>()
}

/// The logical accumulators of `acc` (`LANES / width` vectors) in logical order.
#[inline(always)]
fn flat<S: Simd>(acc: &[S::f64s; LANES]) -> f64 {
    let vectors = LANES / width::<S>();
    reduce(bytemuck::cast_slice(&acc[..vectors]))
}

/// The first `m` elements of `a` (`m` the largest multiple of [`LANES`] ≤ `a.len()`) as vectors of `S`.
#[inline(always)]
fn head<S: Simd>(a: &[f64]) -> &[S::f64s] {
    S::as_simd_f64s(&a[..a.len() - a.len() % LANES]).0
}

/// Vectors per [`LANES`] elements.
#[inline(always)]
fn per_chunk<S: Simd>() -> usize {
    LANES / width::<S>()
}

struct Sum<'a>(&'a [f64]);

impl WithSimd for Sum<'_> {
    type Output = f64;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let a = self.0;
        let mut acc = [simd.splat_f64s(0.0); LANES];
        for x in head::<S>(a).chunks_exact(per_chunk::<S>()) {
            for (s, x) in acc.iter_mut().zip(x) {
                *s = simd.add_f64s(*s, *x);
            }
        }
        let m = a.len() - a.len() % LANES;
        a[m..].iter().fold(flat::<S>(&acc), |t, x| t + x)
    }
}

struct Dot<'a>(&'a [f64], &'a [f64]);

impl WithSimd for Dot<'_> {
    type Output = f64;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let (a, b) = (self.0, &self.1[..self.0.len()]);
        let mut acc = [simd.splat_f64s(0.0); LANES];
        let k = per_chunk::<S>();
        for (x, y) in head::<S>(a)
            .chunks_exact(k)
            .zip(head::<S>(b).chunks_exact(k))
        {
            for ((s, x), y) in acc.iter_mut().zip(x).zip(y) {
                *s = simd.add_f64s(*s, simd.mul_f64s(*x, *y));
            }
        }
        let m = a.len() - a.len() % LANES;
        (m..a.len()).fold(flat::<S>(&acc), |t, i| t + a[i] * b[i])
    }
}

struct Dot2<'a>(&'a [f64], &'a [f64], &'a [f64]);

impl WithSimd for Dot2<'_> {
    type Output = (f64, f64);
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> (f64, f64) {
        let n = self.0.len();
        let (a, b, c) = (self.0, &self.1[..n], &self.2[..n]);
        let zero = simd.splat_f64s(0.0);
        let (mut sb, mut sc) = ([zero; LANES], [zero; LANES]);
        let k = per_chunk::<S>();
        let chunks = head::<S>(a)
            .chunks_exact(k)
            .zip(head::<S>(b).chunks_exact(k))
            .zip(head::<S>(c).chunks_exact(k));
        for ((x, y), z) in chunks {
            for l in 0..k {
                sb[l] = simd.add_f64s(sb[l], simd.mul_f64s(x[l], y[l]));
                sc[l] = simd.add_f64s(sc[l], simd.mul_f64s(x[l], z[l]));
            }
        }
        let m = n - n % LANES;
        (m..n).fold((flat::<S>(&sb), flat::<S>(&sc)), |(tb, tc), i| {
            (tb + a[i] * b[i], tc + a[i] * c[i])
        })
    }
}

struct DotCentred<'a>(&'a [f64], &'a [f64], f64);

impl WithSimd for DotCentred<'_> {
    type Output = f64;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let (a, x, centre) = (self.0, &self.1[..self.0.len()], self.2);
        let c = simd.splat_f64s(centre);
        let mut acc = [simd.splat_f64s(0.0); LANES];
        let k = per_chunk::<S>();
        for (p, q) in head::<S>(a)
            .chunks_exact(k)
            .zip(head::<S>(x).chunks_exact(k))
        {
            for ((s, p), q) in acc.iter_mut().zip(p).zip(q) {
                *s = simd.add_f64s(*s, simd.mul_f64s(*p, simd.sub_f64s(*q, c)));
            }
        }
        let m = a.len() - a.len() % LANES;
        (m..a.len()).fold(flat::<S>(&acc), |t, i| t + a[i] * (x[i] - centre))
    }
}

/// `Σ aᵢ`.
#[inline]
pub(crate) fn sum(a: &[f64]) -> f64 {
    pulp::Arch::new().dispatch(Sum(a))
}

/// `Σ aᵢbᵢ` (`b` at least as long as `a`).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    pulp::Arch::new().dispatch(Dot(a, b))
}

/// `(Σ aᵢbᵢ, Σ aᵢcᵢ)` in one sweep: one load of `a` serves two products.
#[inline]
pub(crate) fn dot2(a: &[f64], b: &[f64], c: &[f64]) -> (f64, f64) {
    pulp::Arch::new().dispatch(Dot2(a, b, c))
}

/// `Σ aᵢ(xᵢ − m)`: a dot product against a centred column without storing it.
#[inline]
pub(crate) fn dot_centred(a: &[f64], x: &[f64], m: f64) -> f64 {
    pulp::Arch::new().dispatch(DotCentred(a, x, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_match_plain_loops_at_every_length() {
        for n in [0usize, 1, 7, 15, 16, 17, 33, 256, 300] {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
            let c: Vec<f64> = (0..n).map(|i| i as f64 - 3.5).collect();
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * (1.0 + y.abs());
            let plain = |f: &dyn Fn(usize) -> f64| (0..n).map(f).sum::<f64>();
            assert!(close(sum(&a), plain(&|i| a[i])));
            assert!(close(dot(&a, &b), plain(&|i| a[i] * b[i])));
            let (ab, ac) = dot2(&a, &b, &c);
            assert!(close(ab, plain(&|i| a[i] * b[i])) && close(ac, plain(&|i| a[i] * c[i])));
            assert!(close(
                dot_centred(&a, &c, 2.0),
                plain(&|i| a[i] * (c[i] - 2.0))
            ));
            // The dispatched build computes the same bits as the portable one.
            let v = vectorized(
                #[inline(always)]
                || {
                    (
                        sum(&a),
                        dot(&a, &b),
                        dot2(&a, &b, &c),
                        dot_centred(&a, &c, 2.0),
                    )
                },
            );
            assert_eq!(
                v,
                (
                    sum(&a),
                    dot(&a, &b),
                    dot2(&a, &b, &c),
                    dot_centred(&a, &c, 2.0)
                )
            );
        }
    }
}
