//! Invariants of the NPS tally, result and intervals (proptest), and a coverage simulation.

mod common;

use common::tol::{close, Tol};
use cx_metrics::nps::{NpsMethod, NpsResult, NpsTally, DEFAULT_PRIOR};
use cx_metrics::{Merge, NanPolicy};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// |a − b| ≤ 1e-12 · max(1, |a|, |b|): sums of the same weights in another order.
const NEAR: Tol = Tol::rel(1e-12).of_larger_or_one();

fn near(a: f64, b: f64) -> bool {
    close(a, b, NEAR)
}

fn same_estimates(a: &NpsResult, b: &NpsResult) -> bool {
    near(a.score, b.score)
        && near(a.promoters, b.promoters)
        && near(a.passives, b.passives)
        && near(a.detractors, b.detractors)
        && near(a.variance, b.variance)
}

fn rows() -> impl Strategy<Value = Vec<(u8, f64)>> {
    prop::collection::vec((0u8..=10, 0.0f64..5.0), 1..60)
}

fn fold(rows: &[(u8, f64)]) -> NpsTally {
    let v: Vec<u8> = rows.iter().map(|r| r.0).collect();
    let w: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let mut t = NpsTally::new();
    t.fold(&v, Some(&w), NanPolicy::Raise).unwrap();
    t
}

fn methods() -> [NpsMethod; 5] {
    [
        NpsMethod::Wald,
        NpsMethod::AdjustedWald,
        NpsMethod::Tango,
        NpsMethod::Dirichlet {
            prior: DEFAULT_PRIOR,
        },
        NpsMethod::Bootstrap {
            n_resamples: 300,
            seed: 9,
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn merge_equals_folding_the_concatenation(a in rows(), b in rows()) {
        let mut m = fold(&a);
        m.merge(&fold(&b)).unwrap();
        let whole: Vec<(u8, f64)> = a.iter().chain(&b).copied().collect();
        let f = fold(&whole);
        prop_assert_eq!(m.tally().rows(), f.tally().rows());
        let (rm, rf) = (m.result(), f.result());
        prop_assert_eq!(rm.undefined, rf.undefined);
        if rm.undefined.is_none() {
            prop_assert!(same_estimates(&rm, &rf));
            prop_assert!(near(rm.effective_n, rf.effective_n));
        }
    }

    #[test]
    fn order_does_not_matter(a in rows(), k in 0usize..60) {
        let mut b = a.clone();
        b.reverse();
        let k = k % b.len();
        b.rotate_left(k);
        let (ra, rb) = (fold(&a).result(), fold(&b).result());
        prop_assert_eq!(ra.undefined, rb.undefined);
        if ra.undefined.is_none() {
            prop_assert!(same_estimates(&ra, &rb));
        }
    }

    #[test]
    fn integer_weights_equal_duplicated_rows(a in prop::collection::vec((0u8..=10, 1u32..4), 1..40)) {
        let weighted: Vec<(u8, f64)> = a.iter().map(|&(v, w)| (v, f64::from(w))).collect();
        let duplicated: Vec<(u8, f64)> = a
            .iter()
            .flat_map(|&(v, w)| std::iter::repeat_n((v, 1.0), w as usize))
            .collect();
        let (rw, rd) = (fold(&weighted).result(), fold(&duplicated).result());
        // Point estimates and shares agree. The Kish effective n does not, by design: duplicated
        // rows are distinct respondents (n_eff = n), while weights only re-balance the rows that
        // were observed ((Σw)²/Σw² ≤ number of rows).
        prop_assert!(same_estimates(&rw, &rd));
        prop_assert!(rw.effective_n <= rd.effective_n + 1e-9);
    }

    #[test]
    fn ranges_hold(a in rows()) {
        let r = fold(&a).result();
        if r.undefined.is_none() {
            prop_assert!((0.0..=1.0).contains(&r.variance));
            prop_assert!((-1.0..=1.0).contains(&r.score));
            prop_assert!(near(r.promoters + r.passives + r.detractors, 1.0));
            // The per-point distribution sums to the category shares.
            let d = &r.distribution;
            prop_assert_eq!(d.len(), 11);
            prop_assert!(near(d.iter().sum::<f64>(), 1.0));
            prop_assert!(near(d[..7].iter().sum::<f64>(), r.detractors));
            prop_assert!(near(d[7] + d[8], r.passives));
            prop_assert!(near(d[9] + d[10], r.promoters));
        } else {
            prop_assert!(r.distribution.iter().all(|x| x.is_nan()));
        }
    }

    #[test]
    fn swapping_promoters_and_detractors_mirrors_everything(
        d in 0u64..40, o in 0u64..40, p in 0u64..40, level in 0.5f64..0.995,
    ) {
        prop_assume!(d + o + p > 0);
        let r = NpsTally::from_counts(d, o, p).result();
        let s = NpsTally::from_counts(p, o, d).result();
        prop_assert!(near(r.score, -s.score));
        for m in methods() {
            // A finite bootstrap is not symmetric about 0 when p = d (the two tallies are then the
            // same); otherwise its draws mirror exactly.
            if matches!(m, NpsMethod::Bootstrap { .. }) && p == d {
                continue;
            }
            let (a, b) = (r.ci(level, m).unwrap(), s.ci(level, m).unwrap());
            // Dirichlet bounds are roots of a quadrature: mirrored to their 1e-9 accuracy.
            let tol = if matches!(m, NpsMethod::Dirichlet { .. }) { 1e-9 } else { 1e-12 };
            prop_assert!((a.low + b.high).abs() <= tol, "{} {:?} {:?}", m, a, b);
            prop_assert!((a.high + b.low).abs() <= tol, "{} {:?} {:?}", m, a, b);
            prop_assert_eq!(a.clipped, b.clipped);
        }
    }

    #[test]
    fn every_interval_contains_its_centre(d in 0u64..40, o in 0u64..40, p in 0u64..40) {
        prop_assume!(d + o + p > 0);
        let r = NpsTally::from_counts(d, o, p).result();
        for m in methods() {
            let ci = r.ci(0.95, m).unwrap();
            let centre = match m {
                NpsMethod::AdjustedWald => r.normal_estimate(m).unwrap().centre,
                NpsMethod::Dirichlet { prior } => r.dirichlet_posterior(prior).unwrap().centre,
                _ => r.score,
            };
            prop_assert!(ci.low <= centre + 1e-12 && centre <= ci.high + 1e-12,
                "{} {:?} centre {}", m, ci, centre);
            prop_assert!(-1.0 <= ci.low && ci.high <= 1.0);
        }
    }

    #[test]
    fn serde_round_trips(a in rows()) {
        let t = fold(&a);
        let back: NpsTally = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        // serde_json (without its float_roundtrip feature) may parse a float one ulp off, so
        // counts are compared exactly and weight sums to 1e-12.
        prop_assert_eq!(back.tally().rows(), t.tally().rows());
        for (x, y) in back.tally().weights().iter().zip(t.tally().weights().iter()) {
            prop_assert!(near(*x, *y));
        }
        let r = t.result();
        let rb: NpsResult = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        prop_assert_eq!(rb.undefined, r.undefined);
        prop_assert_eq!((rb.n, rb.n_promoters, rb.n_detractors, rb.weighted), (r.n, r.n_promoters, r.n_detractors, r.weighted));
        if r.undefined.is_none() {
            prop_assert!(same_estimates(&rb, &r));
            prop_assert!(near(rb.std_error, r.std_error) && near(rb.effective_n, r.effective_n));
        }
    }
}

#[test]
fn bootstrap_is_reproducible_and_thread_count_free() {
    let r = NpsTally::from_counts(30, 25, 45).result();
    let m = NpsMethod::Bootstrap {
        n_resamples: 2000,
        seed: 42,
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| r.ci(0.95, m).unwrap());
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(|| r.ci(0.95, m).unwrap());
    assert_eq!(one, two);
    // The bootstrap interval is close to the Wald one for n = 100 (Monte Carlo error ~0.01).
    let w = r.ci(0.95, NpsMethod::Wald).unwrap();
    assert!(
        (one.low - w.low).abs() < 0.03 && (one.high - w.high).abs() < 0.03,
        "{one:?} {w:?}"
    );
}

/// 2000 simulated surveys of n = 150 with shares (0.25, 0.30, 0.45) (true NPS 0.2): the 95 %
/// adjusted-Wald and Tango intervals cover the truth between 93 % and 97 % of the time (the
/// binomial Monte Carlo SE of a coverage near 95 % is 0.5 %).
#[test]
fn coverage_of_adjusted_wald_and_tango() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let (reps, n, truth) = (2000, 150, 0.2);
    let mut hits = [0u32; 2];
    for _ in 0..reps {
        let (mut d, mut o, mut p) = (0, 0, 0);
        for _ in 0..n {
            let u: f64 = rng.random();
            if u < 0.25 {
                d += 1;
            } else if u < 0.55 {
                o += 1;
            } else {
                p += 1;
            }
        }
        let r = NpsTally::from_counts(d, o, p).result();
        for (h, m) in hits
            .iter_mut()
            .zip([NpsMethod::AdjustedWald, NpsMethod::Tango])
        {
            if r.ci(0.95, m).unwrap().contains(truth) {
                *h += 1;
            }
        }
    }
    for (h, name) in hits.iter().zip(["adjusted_wald", "tango"]) {
        let c = f64::from(*h) / f64::from(reps);
        assert!((0.93..=0.97).contains(&c), "{name}: coverage {c}");
    }
}
