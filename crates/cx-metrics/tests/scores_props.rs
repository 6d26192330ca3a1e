//! Invariants of the CSAT and CES tallies, results and intervals, checked on random data.
//!
//! Figures that are sums in a different order are compared to 1e-12 (relative, with an absolute floor
//! of 1e-12); figures built from identical per-point sums are compared exactly.

mod common;

use common::tol::{all_close, close, Tol};
use cx_metrics::csat::{CsatResult, CsatScale, CsatTally, Satisfied};
use cx_metrics::intervals::{newcombe_difference, proportion_ci};
use cx_metrics::{Ces1Tally, Ces2Tally, CesResult, CesVersion, Merge, NanPolicy, ProportionMethod};
use proptest::prelude::*;

/// |a − b| ≤ 1e-12 · max(1, |a|, |b|), NaN equal to NaN.
const APPROX: Tol = Tol::rel(1e-12).of_larger_or_one().nan_equal();

fn approx(a: f64, b: f64) -> bool {
    close(a, b, APPROX)
}

/// The figures of a CSAT result that must not depend on how the tally was built.
fn csat_figures(r: &CsatResult) -> Vec<f64> {
    let mut v = vec![
        r.n as f64,
        r.n_omitted as f64,
        r.sum_weights,
        r.effective_n,
        r.share_satisfied,
        r.share_bottom,
        r.net,
        r.mean,
        r.sd,
        r.mean_0_100,
    ];
    v.extend(&r.distribution);
    v
}

fn ces_figures<V: CesVersion>(r: &CesResult<V>) -> Vec<f64> {
    let mut v = vec![
        r.n as f64,
        r.n_omitted as f64,
        r.sum_weights,
        r.effective_n,
        r.share_agree,
        r.share_neutral,
        r.share_disagree,
        r.net,
        r.mean,
        r.sd,
    ];
    v.extend(&r.distribution);
    v
}

fn all_approx(a: &[f64], b: &[f64]) -> bool {
    all_close(a, b, APPROX)
}

/// A CSAT scale, a satisfied set valid on it, answers (some missing) and weights (some zero).
fn csat_case() -> impl Strategy<Value = (CsatScale, Satisfied, Vec<Option<u8>>, Vec<f64>)> {
    prop::sample::select(CsatScale::SUPPORTED.to_vec()).prop_flat_map(|k| {
        let satisfied = prop_oneof![
            Just(Satisfied::TopBox),
            Just(if k > 2 {
                Satisfied::TopTwoBox
            } else {
                Satisfied::TopBox
            }),
            (2..=i32::from(k)).prop_map(Satisfied::AtLeast),
        ];
        let answer = prop_oneof![9 => (1..=k).prop_map(Some), 1 => Just(None)];
        (0usize..120).prop_flat_map(move |len| {
            (
                Just(CsatScale::new(k).expect("supported")),
                satisfied.clone(),
                prop::collection::vec(answer.clone(), len),
                prop::collection::vec(
                    prop_oneof![1 => Just(0.0), 6 => 0.01f64..10.0, 3 => (1u8..5).prop_map(f64::from)],
                    len,
                ),
            )
        })
    })
}

fn tally(scale: CsatScale, values: &[Option<u8>], weights: Option<&[f64]>) -> CsatTally {
    let mut t = CsatTally::new(scale);
    t.fold(values, weights, NanPolicy::Omit)
        .expect("valid answers");
    t
}

const LEVELS: [f64; 3] = [0.8, 0.95, 0.999];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn csat_merge_equals_fold_of_concatenation(
        (scale, sat, values, weights) in csat_case(),
        cut in 0.0f64..=1.0,
        weighted in any::<bool>(),
    ) {
        let w = weighted.then_some(weights.as_slice());
        let at = (cut * values.len() as f64) as usize;
        let whole = tally(scale, &values, w);
        let mut left = tally(scale, &values[..at], w.map(|w| &w[..at]));
        let right = tally(scale, &values[at..], w.map(|w| &w[at..]));
        left.merge(&right).unwrap();
        prop_assert_eq!(left.tally().rows(), whole.tally().rows());
        prop_assert_eq!(left.tally().n_omitted(), whole.tally().n_omitted());
        let (a, b) = (left.result(sat).unwrap(), whole.result(sat).unwrap());
        prop_assert!(all_approx(&csat_figures(&a), &csat_figures(&b)), "{:?} vs {:?}", a, b);
        // The empty tally is the identity.
        let mut e = CsatTally::new(scale);
        e.merge(&whole).unwrap();
        prop_assert_eq!(e, whole);
    }

    #[test]
    fn csat_is_order_invariant(
        ((scale, sat, values, weights), seed) in (csat_case(), any::<u64>()),
    ) {
        let mut pairs: Vec<_> = values.iter().copied().zip(weights.iter().copied()).collect();
        // A deterministic shuffle from the seed (Fisher–Yates with a splitmix step).
        let mut s = seed;
        for i in (1..pairs.len()).rev() {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let j = ((s ^ (s >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9) % (i as u64 + 1)) as usize;
            pairs.swap(i, j);
        }
        let (v2, w2): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
        let a = tally(scale, &values, Some(&weights)).result(sat).unwrap();
        let b = tally(scale, &v2, Some(&w2)).result(sat).unwrap();
        prop_assert!(all_approx(&csat_figures(&a), &csat_figures(&b)), "{:?} vs {:?}", a, b);
    }

    #[test]
    fn csat_shares_and_intervals_are_in_range(
        (scale, sat, values, weights) in csat_case(),
        weighted in any::<bool>(),
    ) {
        let w = weighted.then_some(weights.as_slice());
        let r = tally(scale, &values, w).result(sat).unwrap();
        if r.undefined.is_some() {
            prop_assert!(r.share_satisfied.is_nan() && r.mean.is_nan());
            prop_assert!(r.ci(0.95, ProportionMethod::Wilson).is_err());
            return Ok(());
        }
        let k = f64::from(scale.points());
        for share in [r.share_satisfied, r.share_bottom] {
            prop_assert!((0.0..=1.0).contains(&share));
        }
        prop_assert!(r.share_satisfied + r.share_bottom <= 1.0 + 1e-12);
        prop_assert!((-1.0..=1.0).contains(&r.net));
        prop_assert!((1.0..=k).contains(&r.mean) && (0.0..=100.0).contains(&r.mean_0_100));
        for level in LEVELS {
            for m in ProportionMethod::ALL {
                for (share, ci) in [
                    (r.share_satisfied, r.ci(level, m).unwrap()),
                    (r.share_bottom, r.bottom_ci(level, m).unwrap()),
                ] {
                    prop_assert!(0.0 <= ci.low && ci.low <= ci.high && ci.high <= 1.0, "{m} {ci:?}");
                    // Jeffreys with a fractional count near 0 or n (weighted data) need not cover p̂.
                    if m != ProportionMethod::Jeffreys || !weighted {
                        prop_assert!(ci.contains(share), "{m} {share} {ci:?}");
                    }
                }
            }
            if r.effective_n > 1.0 {
                let ci = r.mean_ci(level).unwrap();
                prop_assert!(ci.contains(r.mean) && 1.0 <= ci.low && ci.high <= k, "{ci:?}");
            }
        }
    }

    #[test]
    fn integer_weights_equal_duplicated_rows(
        (scale, sat, values, weights) in csat_case(),
    ) {
        let w: Vec<f64> = weights.iter().map(|w| w.round()).collect();
        let mut dup = Vec::new();
        for (v, n) in values.iter().zip(&w) {
            if v.is_some() {
                dup.extend(std::iter::repeat_n(*v, *n as usize));
            }
        }
        let a = tally(scale, &values, Some(&w)).result(sat).unwrap();
        let b = tally(scale, &dup, None).result(sat).unwrap();
        if b.undefined.is_some() {
            prop_assert!(a.undefined.is_some());
            return Ok(());
        }
        prop_assert_eq!(a.sum_weights, b.sum_weights);
        prop_assert_eq!(a.share_satisfied, b.share_satisfied);
        prop_assert_eq!(a.share_bottom, b.share_bottom);
        prop_assert_eq!(a.net, b.net);
        prop_assert_eq!(a.mean, b.mean);
        prop_assert_eq!(a.mean_0_100, b.mean_0_100);
        prop_assert_eq!(&a.distribution, &b.distribution);
        // The spread differs only by the documented divisor: Σw − 1 for duplicated rows,
        // Σw − Σw²/Σw for weights (which are not frequency weights).
        if a.sd.is_finite() && b.sd.is_finite() {
            let sw = a.sum_weights;
            let sw2: f64 = w.iter().zip(&values).filter(|(_, v)| v.is_some()).map(|(w, _)| w * w).sum();
            let lhs = b.sd * b.sd * (sw - 1.0);
            let rhs = a.sd * a.sd * (sw - sw2 / sw);
            prop_assert!((lhs - rhs).abs() <= 1e-9 * lhs.abs().max(1e-300), "{lhs} vs {rhs}");
        }
    }

    #[test]
    fn ces_merge_order_and_ranges(
        values in prop::collection::vec(prop_oneof![9 => (1u8..=7).prop_map(Some), 1 => Just(None)], 0..150),
        weights in prop::collection::vec(0.0f64..5.0, 150),
        cut in 0.0f64..=1.0,
    ) {
        let w = &weights[..values.len()];
        let at = (cut * values.len() as f64) as usize;
        let mut whole = Ces2Tally::new();
        whole.fold(&values, Some(w), NanPolicy::Omit).unwrap();
        let mut left = Ces2Tally::new();
        left.fold(&values[..at], Some(&w[..at]), NanPolicy::Omit).unwrap();
        let mut right = Ces2Tally::new();
        right.fold(&values[at..], Some(&w[at..]), NanPolicy::Omit).unwrap();
        right.merge(&left).unwrap();
        let (a, b) = (whole.result(), right.result());
        prop_assert!(all_approx(&ces_figures(&a), &ces_figures(&b)), "{:?} vs {:?}", a, b);
        if a.undefined.is_none() {
            let total = a.share_agree + a.share_neutral + a.share_disagree;
            prop_assert!((total - 1.0).abs() <= 1e-12);
            prop_assert!((1.0..=7.0).contains(&a.mean) && (-1.0..=1.0).contains(&a.net));
            for m in ProportionMethod::ALL {
                let ci = a.ci(0.95, m).unwrap();
                prop_assert!(0.0 <= ci.low && ci.high <= 1.0);
                if m != ProportionMethod::Jeffreys {
                    prop_assert!(ci.contains(a.share_agree) && a.disagree_ci(0.95, m).unwrap().contains(a.share_disagree));
                }
            }
        }
        // CES 1.0 on the 1–5 part of the same answers: agree is low effort.
        let low: Vec<Option<u8>> = values.iter().map(|v| v.filter(|x| *x <= 5)).collect();
        let mut c1 = Ces1Tally::new();
        c1.fold(&low, None, NanPolicy::Omit).unwrap();
        let r1 = c1.result();
        if r1.undefined.is_none() {
            let n = r1.n as f64;
            let easy = low.iter().filter(|v| matches!(v, Some(1 | 2))).count() as f64;
            prop_assert!(approx(r1.share_agree, easy / n));
            prop_assert!(r1.ci(0.95, ProportionMethod::Jeffreys).unwrap().contains(r1.share_agree));
        }
    }

    #[test]
    fn proportion_intervals_contain_the_estimate(
        n in prop_oneof![0.5f64..5000.0, 1.0e5f64..1.0e10],
        frac in 0.0f64..=1.0,
        whole in any::<bool>(),
        level in 0.5f64..0.9999,
    ) {
        let (x, n) = if whole {
            let n = n.ceil();
            ((frac * n).round(), n)
        } else {
            (frac * n, n)
        };
        for m in ProportionMethod::ALL {
            let ci = proportion_ci(x, n, level, m).unwrap();
            prop_assert!(0.0 <= ci.low && ci.low <= ci.high && ci.high <= 1.0, "{m} {x}/{n} {ci:?}");
            if m != ProportionMethod::Jeffreys || whole {
                prop_assert!(ci.contains(x / n), "{m} {x}/{n} at {level}: {ci:?}");
            }
        }
        let d = newcombe_difference(x, n, n - x, n, level).unwrap();
        prop_assert!(d.contains(x / n - (n - x) / n) && -1.0 <= d.low && d.high <= 1.0, "{d:?}");
    }
}

/// Regression: CSAT and CES results whose figures are NaN (an empty tally; a CES of one answer, which
/// has no standard deviation) were written to JSON as `null` but could not be read back.
#[test]
fn results_with_nan_figures_round_trip_through_serde() {
    let empty = CsatTally::new(CsatScale::new(5).unwrap())
        .result(Satisfied::TopTwoBox)
        .unwrap();
    assert!(empty.undefined.is_some() && empty.mean.is_nan());
    let back: CsatResult = serde_json::from_str(&serde_json::to_string(&empty).unwrap()).unwrap();
    assert!(back.mean.is_nan() && back.distribution.iter().all(|x| x.is_nan()));
    assert_eq!(back.undefined, empty.undefined);

    let mut one = Ces2Tally::new();
    one.fold(&[6u8], None, NanPolicy::Omit).unwrap();
    let r = one.result();
    assert!(r.sd.is_nan() && r.mean == 6.0);
    let json = serde_json::to_string(&r).unwrap();
    let back: CesResult<cx_metrics::Ces2> = serde_json::from_str(&json).unwrap();
    assert!(back.sd.is_nan());
    assert_eq!(
        (back.mean, back.n, back.distribution.clone()),
        (r.mean, r.n, r.distribution.clone())
    );
    let empty = Ces1Tally::new().result();
    let json = serde_json::to_string(&empty).unwrap();
    let back: CesResult<cx_metrics::Ces1> = serde_json::from_str(&json).unwrap();
    assert!(back.mean.is_nan() && back.undefined.is_some());
}
