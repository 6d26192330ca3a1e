//! Bootstrap of a driver analysis: n = 10 000 respondents, 6 drivers, B = 1000 replicates, LMG and
//! Johnson's relative weights, with the BCa jackknife; and the analytic standard errors of
//! the relative weights on the same data.
//!
//! Time one core with `RAYON_NUM_THREADS=1`, two with `RAYON_NUM_THREADS=2`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cx_metrics::drivers::{
    bootstrap, relative_weight_standard_errors, BootstrapOptions, DriverOptions,
};
use cx_metrics::ImportanceMeasure;
use std::hint::black_box;

/// Deterministic survey-like data: six correlated pillar ratings and an outcome driven by them.
fn data(n: usize, p: usize) -> (Vec<f64>, Vec<Vec<f64>>, Vec<f64>) {
    let mut s: u64 = 42;
    let mut uniform = move || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut normal = move || {
        // Sum of 12 uniforms minus 6: mean 0, variance 1.
        (0..12).map(|_| uniform()).sum::<f64>() - 6.0
    };
    let mut drivers = vec![Vec::with_capacity(n); p];
    let mut y = Vec::with_capacity(n);
    let mut w = Vec::with_capacity(n);
    for i in 0..n {
        let common = normal();
        let mut lin = 0.0;
        for (j, col) in drivers.iter_mut().enumerate() {
            let x = 0.6 * common + normal();
            lin += (j + 1) as f64 * 0.1 * x;
            col.push(x);
        }
        y.push(lin + normal());
        w.push(0.5 + (i % 4) as f64 * 0.5);
    }
    (y, drivers, w)
}

fn bench(c: &mut Criterion) {
    let (n, p) = (10_000, 6);
    let (y, cols, w) = data(n, p);
    let names: Vec<String> = (0..p).map(|j| format!("x{j}")).collect();
    let drivers: Vec<(&str, &[f64])> = names
        .iter()
        .zip(&cols)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let options = DriverOptions::default().with_outcome("y");
    let boot = BootstrapOptions::default()
        .with_resamples(1000)
        .with_seed(1)
        .with_measures(&[ImportanceMeasure::Lmg, ImportanceMeasure::Johnson]);
    let mut group = c.benchmark_group("driver_bootstrap");
    group.sample_size(10);
    group.throughput(Throughput::Elements((n * 1000) as u64));
    group.bench_function("n10000_p6_b1000_lmg_johnson", |b| {
        b.iter(|| bootstrap(black_box(&y), &drivers, Some(&w), &options, &boot).unwrap())
    });
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("relative_weight_se_n10000_p6", |b| {
        b.iter(|| {
            relative_weight_standard_errors(black_box(&y), &drivers, Some(&w), &options).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
