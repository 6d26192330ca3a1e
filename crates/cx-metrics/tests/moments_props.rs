//! Properties of the moments accumulator and of the regression paths built on it:
//! merging partitions equals one pass, the state does not depend on row order, the moments path agrees
//! with the in-memory path on survey-like data, and OLS is affine-invariant in the drivers.

mod common;

use common::tol::{assert_close, close, Tol};
use cx_metrics::{ols, ols_from_moments, Merge, Moments, OlsFit};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Survey-like data: 6 pillar ratings on 1–10, a 0–10 recommendation driven by them, weights in
/// [0.2, 3]. Columns: the six drivers, then the outcome.
fn survey(seed: u64, n: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cols: Vec<Vec<f64>> = (0..7).map(|_| Vec::with_capacity(n)).collect();
    let mut w = Vec::with_capacity(n);
    let effect = [0.30, 0.25, 0.15, 0.10, 0.05, 0.12];
    for _ in 0..n {
        let halo: f64 = rng.random_range(-2.0..2.0);
        let mut y = -1.5;
        for (j, e) in effect.iter().enumerate() {
            let v = (5.5 + halo + rng.random_range(-4.5..4.5f64))
                .round()
                .clamp(1.0, 10.0);
            cols[j].push(v);
            y += e * v;
        }
        cols[6].push(
            (y + rng.random_range(-2.0..2.0f64))
                .round()
                .clamp(0.0, 10.0),
        );
        w.push(rng.random_range(0.2..3.0));
    }
    (cols, w)
}

const NAMES: [&str; 7] = [
    "integrity",
    "resolution",
    "expectations",
    "time_and_effort",
    "personalisation",
    "empathy",
    "recommend",
];

/// Relative `tol` of the larger of two computations of the same figure.
fn sym(tol: f64) -> Tol {
    Tol::rel(tol).of_larger()
}

fn assert_fits_agree(a: &OlsFit, b: &OlsFit, tol: f64) {
    for (x, y) in a.coefficients.iter().zip(&b.coefficients) {
        for (what, u, v) in [
            ("estimate", x.estimate, y.estimate),
            ("se", x.std_error, y.std_error),
            ("t", x.t, y.t),
            ("ci low", x.ci.low, y.ci.low),
            ("ci high", x.ci.high, y.ci.high),
            (
                "standardized",
                x.standardized.unwrap_or(0.0),
                y.standardized.unwrap_or(0.0),
            ),
            ("vif", x.vif.unwrap_or(1.0), y.vif.unwrap_or(1.0)),
        ] {
            assert_close(&format!("{} {what}", x.term), u, v, sym(tol));
        }
        // p-values are compared through log p: their relative error is |t|·|Δt| and t can be large.
        assert!(
            x.p_value == y.p_value
                || (x.p_value.ln() - y.p_value.ln()).abs() <= tol * (1.0 + x.t * x.t),
            "{} p: {} vs {}",
            x.term,
            x.p_value,
            y.p_value
        );
    }
    for (what, u, v) in [
        ("R²", a.r_squared, b.r_squared),
        ("adj R²", a.adj_r_squared, b.adj_r_squared),
        ("F", a.f_statistic, b.f_statistic),
        ("sigma", a.sigma, b.sigma),
        ("n_eff", a.effective_n, b.effective_n),
        ("condition", a.condition_number, b.condition_number),
    ] {
        assert_close(what, u, v, sym(tol));
    }
    assert_eq!((a.n, a.df_residual), (b.n, b.df_residual));
}

#[test]
fn moments_path_matches_in_memory_on_survey_data() {
    for seed in [1, 2, 3] {
        let (cols, w) = survey(seed, 10_000);
        let drivers: Vec<(&str, &[f64])> = NAMES[..6]
            .iter()
            .copied()
            .zip(cols[..6].iter().map(Vec::as_slice))
            .collect();
        let mem = ols("recommend", &cols[6], &drivers, Some(&w), 0.95).unwrap();
        let mut m = Moments::new(NAMES).unwrap();
        let slices: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        m.fold_columns(&slices, Some(&w)).unwrap();
        let mom = ols_from_moments(&m, "recommend", 0.95).unwrap();
        assert_fits_agree(&mem, &mom, 1e-10);
        // Merged partitions give the same fit.
        let mut parts = Moments::new(NAMES).unwrap();
        for (start, end) in [(0, 1234), (1234, 7000), (7000, 10_000)] {
            let mut p = Moments::new(NAMES).unwrap();
            let s: Vec<&[f64]> = cols.iter().map(|c| &c[start..end]).collect();
            p.fold_columns(&s, Some(&w[start..end])).unwrap();
            parts.merge(&p).unwrap();
        }
        assert_fits_agree(
            &mom,
            &ols_from_moments(&parts, "recommend", 0.95).unwrap(),
            1e-10,
        );
        // Unweighted as well.
        let mem = ols("recommend", &cols[6], &drivers, None, 0.95).unwrap();
        let mut m = Moments::new(NAMES).unwrap();
        m.fold_columns(&slices, None).unwrap();
        assert_fits_agree(
            &mem,
            &ols_from_moments(&m, "recommend", 0.95).unwrap(),
            1e-10,
        );
    }
}

/// Rows of k = 3 variables with weights (some zero).
fn rows() -> impl Strategy<Value = Vec<([f64; 3], f64)>> {
    prop::collection::vec(
        (
            [-1e3..1e3f64, 1e6..1e6 + 10.0, -1.0..1.0f64],
            prop_oneof![Just(0.0), 0.0..5.0f64, Just(1.0)],
        ),
        1..80,
    )
}

fn fold(rows: &[([f64; 3], f64)]) -> Moments {
    let mut m = Moments::new(["a", "b", "c"]).unwrap();
    for (r, w) in rows {
        m.add_row(r, *w).unwrap();
    }
    m
}

/// States agree to `tol` relative: means against their own size, co-moments against √(CⱼⱼCₗₗ).
fn assert_states_agree(a: &Moments, b: &Moments, tol: f64) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.n(), b.n());
    prop_assert_eq!(a.n_zero_weight(), b.n_zero_weight());
    prop_assert!(close(a.sum_weights(), b.sum_weights(), sym(tol)));
    prop_assert!(close(a.sum_weights_sq(), b.sum_weights_sq(), sym(tol)));
    // A mean is judged against its own size or its variable's spread, whichever is larger: a mean near
    // zero of values spread over ±1 (it cancels) can only be as accurate as the spread allows.
    let k = a.k();
    let spread: Vec<f64> = (0..k)
        .map(|j| (a.comoments()[j * k + j] / a.sum_weights()).sqrt())
        .collect();
    for ((x, y), s) in a.means().iter().zip(b.means()).zip(&spread) {
        prop_assert!(
            (x - y).abs() <= tol * x.abs().max(y.abs()).max(*s).max(1e-300),
            "{} {}",
            x,
            y
        );
    }
    let (ca, cb) = (a.comoments(), b.comoments());
    for j in 0..k {
        for l in 0..k {
            let scale = (ca[j * k + j] * ca[l * k + l]).sqrt();
            let d = (ca[j * k + l] - cb[j * k + l]).abs();
            prop_assert!(
                d <= tol * scale + 1e-300,
                "C[{}][{}]: {} {}",
                j,
                l,
                ca[j * k + l],
                cb[j * k + l]
            );
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn merging_partitions_equals_one_pass(data in rows(), cut1 in 0usize..80, cut2 in 0usize..80) {
        let n = data.len();
        let (c1, c2) = (cut1.min(cut2).min(n), cut1.max(cut2).min(n));
        let whole = fold(&data);
        let mut merged = fold(&data[..c1]);
        merged.merge(&fold(&data[c1..c2])).unwrap();
        merged.merge(&fold(&data[c2..])).unwrap();
        assert_states_agree(&whole, &merged, 1e-12)?;
        // The empty state is the identity, on either side.
        let mut left = Moments::new(["a", "b", "c"]).unwrap();
        left.merge(&whole).unwrap();
        prop_assert_eq!(&left, &whole);
    }

    #[test]
    fn state_is_order_invariant(data in rows().prop_shuffle().prop_flat_map(|v| {
        let n = v.len();
        (Just(v.clone()), Just(v).prop_shuffle(), Just(n))
    })) {
        let (a, b, _) = data;
        assert_states_agree(&fold(&a), &fold(&b), 1e-12)?;
    }

    #[test]
    fn ols_is_affine_invariant(seed in 0u64..1000, scale in 0.01..100.0f64, shift in -50.0..50.0f64) {
        let (cols, w) = survey(seed, 60);
        let drivers: Vec<(&str, &[f64])> =
            NAMES[..6].iter().copied().zip(cols[..6].iter().map(Vec::as_slice)).collect();
        let base = ols("recommend", &cols[6], &drivers, Some(&w), 0.95).unwrap();
        let moved: Vec<f64> = cols[2].iter().map(|v| v * scale + shift).collect();
        let mut drivers2 = drivers.clone();
        drivers2[2].1 = &moved;
        let fit = ols("recommend", &cols[6], &drivers2, Some(&w), 0.95).unwrap();
        for (j, (a, b)) in base.coefficients.iter().zip(&fit.coefficients).enumerate().skip(1) {
            let expect = if j == 3 { a.estimate / scale } else { a.estimate };
            prop_assert!((b.estimate - expect).abs() <= 1e-9 * expect.abs().max(1e-12));
            prop_assert!((a.t - b.t).abs() <= 1e-9 * a.t.abs().max(1.0));
            prop_assert!((a.p_value - b.p_value).abs() <= 1e-9 * a.p_value.max(1e-300) + 1e-15);
            prop_assert!(close(a.standardized.unwrap(), b.standardized.unwrap(), sym(1e-9)));
            prop_assert!(close(a.vif.unwrap(), b.vif.unwrap(), sym(1e-9)));
        }
        prop_assert!(close(base.r_squared, fit.r_squared, sym(1e-12)));
        prop_assert!(close(base.sigma, fit.sigma, sym(1e-12)));
    }
}
