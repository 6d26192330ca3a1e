//! LMG alone (exact, all 2^p subsets) on a given correlation matrix, for p = 6, 12, 18, 24 drivers.
//!
//! Run single-threaded with `RAYON_NUM_THREADS=1` to time one core.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use cx_metrics::importance::{relative_importance, ImportanceMeasure, ImportanceOptions};
use nalgebra::DMatrix;
use std::hint::black_box;

/// A deterministic positive-definite correlation matrix of `p` drivers and the outcome:
/// `cov2cor(A Aᵀ + 0.1 I)` with A of pseudo-random entries in [-1, 1).
fn correlation(p: usize, seed: u64) -> DMatrix<f64> {
    let k = p + 1;
    let mut s = seed;
    let a = DMatrix::from_fn(k, k + 2, |_, _| {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    });
    let c = &a * a.transpose() + DMatrix::identity(k, k) * 0.1;
    DMatrix::from_fn(k, k, |i, j| c[(i, j)] / (c[(i, i)] * c[(j, j)]).sqrt())
}

fn lmg(c: &mut Criterion) {
    let mut group = c.benchmark_group("lmg_exact");
    let opts = ImportanceOptions::default().with_measures(&[ImportanceMeasure::Lmg]);
    for p in [6usize, 12, 18, 24] {
        let r = correlation(p, 42);
        let names: Vec<String> = (0..p).map(|i| format!("x{i}")).collect();
        group.throughput(Throughput::Elements(1u64 << p));
        if p >= 18 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(p), &p, |b, _| {
            b.iter(|| relative_importance(black_box(&r), &names, &opts).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, lmg);
criterion_main!(benches);
