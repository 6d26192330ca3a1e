//! Throughput of the NPS fold (ratings per second), validating every value.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cx_metrics::nps::NpsTally;
use cx_metrics::NanPolicy;
use cx_metrics_benches::{nps_ratings, weights};
use std::hint::black_box;

fn fold_u8(c: &mut Criterion) {
    let n = 100_000_000;
    let v = nps_ratings(n, 1);
    let mut g = c.benchmark_group("nps_fold");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.bench_function("u8_unweighted_1e8", |b| {
        b.iter(|| {
            let mut t = NpsTally::new();
            t.fold(black_box(&v), None, NanPolicy::Omit).unwrap();
            black_box(t.result().score)
        })
    });
    g.finish();
}

fn fold_f64_weighted(c: &mut Criterion) {
    let n = 10_000_000;
    let v: Vec<f64> = nps_ratings(n, 2).into_iter().map(f64::from).collect();
    let w = weights(n, 3);
    let mut g = c.benchmark_group("nps_fold");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.bench_function("f64_weighted_1e7", |b| {
        b.iter(|| {
            let mut t = NpsTally::new();
            t.fold(black_box(&v), Some(black_box(&w)), NanPolicy::Omit)
                .unwrap();
            black_box(t.result().score)
        })
    });
    g.finish();
}

criterion_group!(benches, fold_u8, fold_f64_weighted);
criterion_main!(benches);
