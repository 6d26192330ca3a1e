//! Invariants of relative importance on random positive-definite correlation matrices, checked against
//! an independent brute force written here: every subset R² by a fresh Cholesky solve, and the Shapley
//! value by its factorial-weight formula.

// Scores of several measures are compared index by index.
#![allow(clippy::needless_range_loop)]

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::importance::{
    relative_importance, shapley_from_subsets, DriverGroup, ImportanceMeasure, ImportanceOptions,
    ImportanceWarning, ShapleyMethod,
};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;

/// Absolute tolerance of identities (sums, permutations) that hold exactly in real arithmetic.
const TOL: f64 = 1e-11;

/// A random correlation matrix of `k` variables: `cov2cor(A Aᵀ + 0.05 I)`, A uniform on [-1, 1].
fn correlation_matrix(k: usize) -> impl Strategy<Value = DMatrix<f64>> {
    prop::collection::vec(-1.0f64..1.0, k * (k + 2)).prop_map(move |a| {
        let a = DMatrix::from_vec(k, k + 2, a);
        let s = &a * a.transpose() + DMatrix::identity(k, k) * 0.05;
        DMatrix::from_fn(k, k, |i, j| s[(i, j)] / (s[(i, i)] * s[(j, j)]).sqrt())
    })
}

fn names(p: usize) -> Vec<String> {
    (0..p).map(|i| format!("x{i}")).collect()
}

/// R² of the outcome (last row) on the variables `rows`, by a fresh solve.
fn brute_r2(r: &DMatrix<f64>, rows: &[usize]) -> f64 {
    if rows.is_empty() {
        return 0.0;
    }
    let y = r.nrows() - 1;
    let k = rows.len();
    let a = DMatrix::from_fn(k, k, |i, j| r[(rows[i], rows[j])]);
    let b = DVector::from_fn(k, |i, _| r[(rows[i], y)]);
    b.dot(&a.cholesky().unwrap().solve(&b))
}

/// Shapley values by the factorial-weight formula over a table by bitmask.
fn brute_shapley(table: &[f64]) -> Vec<f64> {
    let p = table.len().trailing_zeros() as usize;
    let fact = |n: usize| (1..=n).map(|x| x as f64).product::<f64>();
    (0..p)
        .map(|j| {
            (0..table.len())
                .filter(|m| m & (1 << j) == 0)
                .map(|m| {
                    let s = m.count_ones() as usize;
                    fact(s) * fact(p - s - 1) / fact(p) * (table[m | 1 << j] - table[m])
                })
                .sum()
        })
        .collect()
}

fn raw(res: &cx_metrics::RelativeImportance, m: ImportanceMeasure) -> Vec<f64> {
    res.scores(m).unwrap().raw.clone()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn decompositions_sum_to_r_squared(r in (2usize..9).prop_flat_map(correlation_matrix)) {
        let p = r.nrows() - 1;
        let res = relative_importance(&r, &names(p), &ImportanceOptions::default()).unwrap();
        let full = brute_r2(&r, &(0..p).collect::<Vec<_>>());
        prop_assert!((res.r_squared - full).abs() < TOL);
        for m in [ImportanceMeasure::Lmg, ImportanceMeasure::Johnson, ImportanceMeasure::Car, ImportanceMeasure::Pratt] {
            let total: f64 = raw(&res, m).iter().sum();
            prop_assert!((total - full).abs() < TOL, "{} sums to {} not {}", m, total, full);
        }
        for s in &res.scores {
            if let Some(share) = &s.share {
                prop_assert!((share.iter().sum::<f64>() - 1.0).abs() < 1e-10);
            }
        }
        // Non-negative measures.
        for m in [ImportanceMeasure::Lmg, ImportanceMeasure::Last, ImportanceMeasure::First,
                  ImportanceMeasure::BetaSquared, ImportanceMeasure::Johnson, ImportanceMeasure::Car] {
            prop_assert!(raw(&res, m).iter().all(|&x| x >= -1e-14));
        }
    }

    #[test]
    fn enumeration_matches_brute_force(r in (2usize..13).prop_flat_map(correlation_matrix)) {
        // Up to 11 drivers: exercises the split of the enumeration into blocks (above 8 units).
        let p = r.nrows() - 1;
        let opts = ImportanceOptions::default().with_all_subsets(true).with_dominance(true);
        let res = relative_importance(&r, &names(p), &opts).unwrap();
        let table = &res.subsets.as_ref().unwrap().r_squared;
        for (mask, &v) in table.iter().enumerate() {
            let rows: Vec<usize> = (0..p).filter(|i| mask >> i & 1 == 1).collect();
            prop_assert!((v - brute_r2(&r, &rows)).abs() < TOL, "mask {}", mask);
        }
        let want = brute_shapley(table);
        let lmg = raw(&res, ImportanceMeasure::Lmg);
        let general = &res.dominance.as_ref().unwrap().general;
        let combined = shapley_from_subsets(table).unwrap();
        for j in 0..p {
            prop_assert!((lmg[j] - want[j]).abs() < TOL);
            prop_assert!((general[j] - want[j]).abs() < TOL);
            prop_assert!((combined[j] - want[j]).abs() < TOL);
        }
        // First and last from the table.
        let first = raw(&res, ImportanceMeasure::First);
        let last = raw(&res, ImportanceMeasure::Last);
        let all = table.len() - 1;
        for j in 0..p {
            prop_assert!((first[j] - table[1 << j]).abs() < TOL);
            prop_assert!((last[j] - (table[all] - table[all ^ (1 << j)])).abs() < 1e-10);
        }
    }

    #[test]
    fn permuting_drivers_permutes_importances(
        (r, perm) in (3usize..9).prop_flat_map(|k| {
            (correlation_matrix(k), Just((0..k - 1).collect::<Vec<usize>>()).prop_shuffle())
        })
    ) {
        let p = r.nrows() - 1;
        let nm = names(p);
        // Driver perm[i] of the original goes to position i; the outcome stays last.
        let idx = |i: usize| if i < p { perm[i] } else { p };
        let rp = DMatrix::from_fn(p + 1, p + 1, |i, j| r[(idx(i), idx(j))]);
        let np: Vec<String> = perm.iter().map(|&i| nm[i].clone()).collect();
        let opts = ImportanceOptions::default().with_signed(true);
        let a = relative_importance(&r, &nm, &opts).unwrap();
        let b = relative_importance(&rp, &np, &opts).unwrap();
        for m in ImportanceMeasure::ALL {
            let (ra, rb) = (a.scores(m).unwrap(), b.scores(m).unwrap());
            for i in 0..p {
                prop_assert!((rb.raw[i] - ra.raw[perm[i]]).abs() < TOL, "{}", m);
                let (sa, sb) = (ra.signed.as_ref().unwrap(), rb.signed.as_ref().unwrap());
                prop_assert!((sb[i] - sa[perm[i]]).abs() < TOL);
            }
        }
        prop_assert_eq!(a.warnings.len(), b.warnings.len());
    }

    #[test]
    fn an_uncorrelated_driver_gets_nothing(
        (r, k) in (3usize..9).prop_flat_map(|n| (correlation_matrix(n), 0..n - 1))
    ) {
        let p = r.nrows() - 1;
        let mut r = r;
        for i in 0..=p {
            if i != k {
                r[(i, k)] = 0.0;
                r[(k, i)] = 0.0;
            }
        }
        let res = relative_importance(&r, &names(p), &ImportanceOptions::default()).unwrap();
        for m in ImportanceMeasure::ALL {
            prop_assert!(raw(&res, m)[k].abs() < 1e-13, "{} gives {}", m, raw(&res, m)[k]);
        }
    }

    #[test]
    fn always_and_groups_match_brute_force(
        (r, split) in (5usize..10).prop_flat_map(|n| (correlation_matrix(n), 0usize..3))
    ) {
        // x0 is always in; x1 and x2 form the group G (listed as x2, x1); the rest are single units.
        let p = r.nrows() - 1;
        let nm = names(p);
        let mut opts = ImportanceOptions::default()
            .with_always(&["x0"])
            .with_all_subsets(true)
            .with_dominance(split == 0);
        opts = opts.with_group(DriverGroup::new("G", &["x2", "x1"]));
        let res = relative_importance(&r, &nm, &opts).unwrap();
        let mut units: Vec<Vec<usize>> = vec![vec![2, 1]];
        units.extend((3..p).map(|i| vec![i]));
        prop_assert_eq!(&res.names[0], "G");
        prop_assert_eq!(res.names.len(), units.len());
        let r2_always = brute_r2(&r, &[0]);
        prop_assert!((res.r_squared_always - r2_always).abs() < TOL);
        let table = &res.subsets.as_ref().unwrap().r_squared;
        for (mask, &v) in table.iter().enumerate() {
            let mut rows = vec![0];
            for (u, members) in units.iter().enumerate() {
                if mask >> u & 1 == 1 {
                    rows.extend(members);
                }
            }
            prop_assert!((v - brute_r2(&r, &rows)).abs() < TOL);
        }
        let want = brute_shapley(table);
        let lmg = raw(&res, ImportanceMeasure::Lmg);
        for u in 0..units.len() {
            prop_assert!((lmg[u] - want[u]).abs() < TOL);
        }
        prop_assert!((lmg.iter().sum::<f64>() - (res.r_squared - r2_always)).abs() < TOL);
        // Per-driver measures are refused with groups.
        let bad = opts.clone().with_measures(&[ImportanceMeasure::Johnson]);
        prop_assert!(relative_importance(&r, &nm, &bad).is_err());
    }

    #[test]
    fn always_without_groups_keeps_decompositions_summing(r in (4usize..9).prop_flat_map(correlation_matrix)) {
        let p = r.nrows() - 1;
        let opts = ImportanceOptions::default().with_always(&["x0"]);
        let res = relative_importance(&r, &names(p), &opts).unwrap();
        let dec = brute_r2(&r, &(0..p).collect::<Vec<_>>()) - brute_r2(&r, &[0]);
        prop_assert!((res.r_squared_decomposed - dec).abs() < TOL);
        for m in [ImportanceMeasure::Lmg, ImportanceMeasure::Johnson, ImportanceMeasure::Car, ImportanceMeasure::Pratt] {
            prop_assert!((raw(&res, m).iter().sum::<f64>() - dec).abs() < TOL, "{}", m);
        }
        // first_j = R²(x0, xj) − R²(x0).
        let first = raw(&res, ImportanceMeasure::First);
        for j in 1..p {
            prop_assert!((first[j - 1] - (brute_r2(&r, &[0, j]) - brute_r2(&r, &[0]))).abs() < TOL);
        }
    }

    #[test]
    fn sampled_lmg_is_within_its_standard_error(r in correlation_matrix(9), seed in any::<u64>()) {
        let opts = ImportanceOptions::default().with_measures(&[ImportanceMeasure::Lmg]);
        let exact = relative_importance(&r, &names(8), &opts).unwrap();
        let sampled = relative_importance(
            &r, &names(8), &opts.with_lmg_method(ShapleyMethod::Sampled, 3000, seed)).unwrap();
        let e = exact.scores(ImportanceMeasure::Lmg).unwrap();
        let s = sampled.scores(ImportanceMeasure::Lmg).unwrap();
        let se = s.std_error.as_ref().unwrap();
        prop_assert_eq!(sampled.lmg_method, Some(ShapleyMethod::Sampled));
        prop_assert!((s.raw.iter().sum::<f64>() - exact.r_squared).abs() < TOL);
        for j in 0..8 {
            // 5 standard errors: a false alarm has probability ~6e-7 per driver.
            prop_assert!((s.raw[j] - e.raw[j]).abs() <= 5.0 * se[j] + 1e-12,
                "driver {}: sampled {} ± {}, exact {}", j, s.raw[j], se[j], e.raw[j]);
        }
    }
}

#[test]
fn suppressor_triggers_a_sign_warning() {
    // r12 = 0.7, r1y = 0.5, r2y = 0.1: β2 = (0.1 − 0.7·0.5)/(1 − 0.49) < 0 although r2y > 0.
    let r = DMatrix::from_row_slice(3, 3, &[1.0, 0.7, 0.5, 0.7, 1.0, 0.1, 0.5, 0.1, 1.0]);
    let res = relative_importance(
        &r,
        &["a", "b"],
        &ImportanceOptions::default().with_signed(true),
    )
    .unwrap();
    let beta2 = (0.1 - 0.7 * 0.5) / (1.0 - 0.49);
    assert_close(
        "res.coefficients[1]",
        res.coefficients[1],
        beta2,
        Tol::abs(1e-15),
    );
    assert_eq!(
        res.warnings,
        vec![ImportanceWarning::SignDisagreement {
            driver: "b".into(),
            correlation: 0.1,
            coefficient: res.coefficients[1],
        }]
    );
    let lmg = res.scores(ImportanceMeasure::Lmg).unwrap();
    assert!(lmg.signed.as_ref().unwrap().iter().all(|&x| x >= 0.0));
    let pratt = res.scores(ImportanceMeasure::Pratt).unwrap();
    assert!(pratt.signed.as_ref().unwrap()[1] < 0.0);
    // Not requested: no signed scores, no warning.
    let plain = relative_importance(&r, &["a", "b"], &ImportanceOptions::default()).unwrap();
    assert!(plain.warnings.is_empty() && plain.scores[0].signed.is_none());
}

#[test]
fn above_the_exact_limit_lmg_is_sampled() {
    // 27 drivers, equicorrelated at 0.2, each with r = 0.3 to the outcome: by symmetry every driver's
    // LMG is R²/27 exactly, and the sampled estimate must sum to R² for every order.
    let p = 27;
    let r = DMatrix::from_fn(p + 1, p + 1, |i, j| match (i == j, i == p || j == p) {
        (true, _) => 1.0,
        (false, true) => 0.3,
        (false, false) => 0.2,
    });
    let opts = ImportanceOptions::default()
        .with_measures(&[ImportanceMeasure::Lmg])
        .with_lmg_method(ShapleyMethod::Auto, 2000, 1);
    let res = relative_importance(&r, &names(p), &opts).unwrap();
    assert_eq!(res.lmg_method, Some(ShapleyMethod::Sampled));
    let lmg = res.scores(ImportanceMeasure::Lmg).unwrap();
    let se = lmg.std_error.as_ref().unwrap();
    assert!((lmg.raw.iter().sum::<f64>() - res.r_squared).abs() < TOL);
    for j in 0..p {
        assert!((lmg.raw[j] - res.r_squared / p as f64).abs() <= 5.0 * se[j] + 1e-12);
    }
    // Exact enumeration and the stored table are refused above the limit.
    let exact = opts.clone().with_lmg_method(ShapleyMethod::Exact, 2000, 1);
    assert!(relative_importance(&r, &names(p), &exact).is_err());
    assert!(relative_importance(&r, &names(p), &opts.with_dominance(true)).is_err());
}
