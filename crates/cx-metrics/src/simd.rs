//! Working-precision kernels over blocks that fit in cache, and the runtime dispatch that compiles
//! them for the widest vector instructions the CPU offers.
//!
//! Every sum here runs over [`LANES`] interleaved accumulators that are added in a fixed tree at the
//! end. The compiler may not reorder floating-point additions, so this order is the order of the
//! arithmetic whatever the instruction set: the kernels give bit-identical results with SSE2, AVX2 or
//! AVX-512, only faster with wider vectors. [`vectorized`] runs a closure compiled for the CPU's
//! feature level, chosen at run time by the `pulp` crate (a safe wrapper around
//! `is_x86_feature_detected!` and `#[target_feature]`); on other CPUs it runs the portable build.
//! No fused multiply-add is used, for the same reason.

/// Accumulators per sum: four AVX2 registers of four `f64`, enough to hide the latency of the
/// additions (and eight SSE2 registers of two).
pub(crate) const LANES: usize = 16;

/// Run `f` compiled for the best vector instruction set of this CPU (detected once per call).
///
/// `f` should be a closure marked `#[inline(always)]` whose work is in `#[inline(always)]` kernels, so
/// that it is compiled inside the dispatched function.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    struct Op<F>(F);
    impl<R, F: FnOnce() -> R> pulp::WithSimd for Op<F> {
        type Output = R;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) -> R {
            (self.0)()
        }
    }
    pulp::Arch::new().dispatch(Op(f))
}

/// The fixed reduction tree of the accumulators.
#[inline(always)]
fn reduce(acc: &[f64; LANES]) -> f64 {
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

/// `Σ aᵢ`.
#[inline(always)]
pub(crate) fn sum(a: &[f64]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let m = a.len() - a.len() % LANES;
    for c in a[..m].chunks_exact(LANES) {
        for l in 0..LANES {
            acc[l] += c[l];
        }
    }
    a[m..].iter().fold(reduce(&acc), |s, x| s + x)
}

/// `Σ aᵢbᵢ` (`b` at least as long as `a`).
#[inline(always)]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len();
    let b = &b[..n];
    let mut acc = [0.0f64; LANES];
    let m = n - n % LANES;
    for (x, y) in a[..m].chunks_exact(LANES).zip(b[..m].chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    (m..n).fold(reduce(&acc), |s, i| s + a[i] * b[i])
}

/// `(Σ aᵢbᵢ, Σ aᵢcᵢ)` in one sweep: one load of `a` serves two products.
#[inline(always)]
pub(crate) fn dot2(a: &[f64], b: &[f64], c: &[f64]) -> (f64, f64) {
    let n = a.len();
    let (b, c) = (&b[..n], &c[..n]);
    let mut sb = [0.0f64; LANES];
    let mut sc = [0.0f64; LANES];
    let m = n - n % LANES;
    let chunks = a[..m]
        .chunks_exact(LANES)
        .zip(b[..m].chunks_exact(LANES))
        .zip(c[..m].chunks_exact(LANES));
    for ((x, y), z) in chunks {
        for l in 0..LANES {
            sb[l] += x[l] * y[l];
            sc[l] += x[l] * z[l];
        }
    }
    (m..n).fold((reduce(&sb), reduce(&sc)), |(tb, tc), i| {
        (tb + a[i] * b[i], tc + a[i] * c[i])
    })
}

/// `Σ aᵢ(xᵢ − m)`: a dot product against a centred column without storing it.
#[inline(always)]
pub(crate) fn dot_centred(a: &[f64], x: &[f64], m: f64) -> f64 {
    let n = a.len();
    let x = &x[..n];
    let mut acc = [0.0f64; LANES];
    let e = n - n % LANES;
    for (p, q) in a[..e].chunks_exact(LANES).zip(x[..e].chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += p[l] * (q[l] - m);
        }
    }
    (e..n).fold(reduce(&acc), |s, i| s + a[i] * (x[i] - m))
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
