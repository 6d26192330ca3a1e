//! Throughput of the grouping engine (rows per second): NPS by 20 segments, from categorical codes read
//! in place (unweighted and weighted) and from text labels hashed into codes.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cx_metrics::groups::{CodeSlice, Grouping, KeyColumn, Label, TextLayout, TextSlice};
use cx_metrics::{NanPolicy, NpsTally, Scale};
use cx_metrics_benches::{nps_ratings, weights};
use std::hint::black_box;

const SEGMENTS: usize = 20;
const N: usize = 10_000_000;

fn codes(n: usize) -> Vec<i8> {
    nps_ratings(n, 7)
        .iter()
        .zip(nps_ratings(n, 11))
        .map(|(a, b)| ((usize::from(*a) * 11 + usize::from(b)) % SEGMENTS) as i8)
        .collect()
}

fn levels() -> Vec<Label> {
    (0..SEGMENTS)
        .map(|i| Label::Text(format!("segment {i:02}")))
        .collect()
}

fn nps_scores(g: &Grouping<'_>, v: &[u8], w: Option<&[f64]>) -> f64 {
    g.fold_scale(Scale::NPS, v, w, NanPolicy::Omit)
        .unwrap()
        .into_iter()
        .map(|t| NpsTally::try_from(t).unwrap().result().score)
        .sum()
}

fn categorical(c: &mut Criterion) {
    let v = nps_ratings(N, 1);
    let w = weights(N, 3);
    let codes = codes(N);
    let mut g = c.benchmark_group("groups_nps_20_segments");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    for weighted in [false, true] {
        let name = if weighted {
            "categorical_weighted_1e7"
        } else {
            "categorical_1e7"
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let col = KeyColumn::Categorical {
                    codes: CodeSlice::I8(black_box(&codes)),
                    levels: levels(),
                    ordered: true,
                };
                let grouping = Grouping::new(vec![col], N).unwrap();
                black_box(nps_scores(&grouping, &v, weighted.then_some(&w[..])))
            })
        });
    }
    g.finish();
}

fn text(c: &mut Criterion) {
    let v = nps_ratings(N, 1);
    let names: Vec<String> = (0..SEGMENTS).map(|i| format!("segment {i:02}")).collect();
    let mut data = Vec::new();
    let mut offsets = vec![0i64];
    for code in codes(N) {
        data.extend_from_slice(names[code as usize].as_bytes());
        offsets.push(data.len() as i64);
    }
    let mut g = c.benchmark_group("groups_nps_20_segments");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    g.bench_function("text_hashed_1e7", |b| {
        b.iter(|| {
            let col = KeyColumn::Text(TextSlice {
                layout: TextLayout::Offsets64 {
                    offsets: black_box(&offsets),
                    data: &data,
                },
                validity: None,
                bit_offset: 0,
            });
            let grouping = Grouping::new(vec![col], N).unwrap();
            black_box(nps_scores(&grouping, &v, None))
        })
    });
    g.finish();
}

criterion_group!(benches, categorical, text);
criterion_main!(benches);
