//! Bootstrap of driver analysis, multiple-comparison adjustment, segments, and the delta-method standard
//! errors of relative weights.

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::drivers::bootstrap::summarise_replicates;
use cx_metrics::drivers::{
    bootstrap, driver_analysis, relative_weight_standard_errors, segment_driver_analysis,
    segment_importance_test, BootstrapOptions, DriverBootstrap, DriverOptions, MissingPolicy,
    SegmentStatus, Segments,
};
use cx_metrics::{Error, ImportanceMeasure, PValueAdjustment};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `n` rows of `slopes.len()` correlated drivers (common factor 0.6) and
/// `y = Σ slopes_j x_j + noise`; the noise is a centred exponential when `skewed`.
fn simulate(
    rng: &mut ChaCha8Rng,
    n: usize,
    slopes: &[f64],
    skewed: bool,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut xs = vec![Vec::with_capacity(n); slopes.len()];
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let common = normal(rng);
        let mut lin = 0.0;
        for (col, b) in xs.iter_mut().zip(slopes) {
            let x = 0.6 * common + normal(rng);
            lin += b * x;
            col.push(x);
        }
        let e = if skewed {
            -(rng.random::<f64>().max(f64::MIN_POSITIVE)).ln() - 1.0
        } else {
            normal(rng)
        };
        y.push(lin + e);
    }
    (y, xs)
}

fn named(xs: &[Vec<f64>]) -> Vec<(String, Vec<f64>)> {
    xs.iter()
        .enumerate()
        .map(|(j, c)| (format!("x{j}"), c.clone()))
        .collect()
}

fn view(cols: &[(String, Vec<f64>)]) -> Vec<(&str, &[f64])> {
    cols.iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect()
}

fn opts() -> DriverOptions {
    DriverOptions::default().with_outcome("y")
}

// ---------------------------------------------------------------------------------------------
// Multiple comparisons

/// statsmodels 0.14 (Python 3.11):
/// ```python
/// from statsmodels.stats.multitest import multipletests
/// p = [0.01, 0.04, 0.03, 0.005, 0.20, 0.04, 0.5, 0.001]
/// multipletests(p, method="holm")[1]; multipletests(p, method="fdr_bh")[1]
/// ```
#[test]
fn holm_and_bh_match_statsmodels() {
    let p = [0.01, 0.04, 0.03, 0.005, 0.20, 0.04, 0.5, 0.001];
    let holm = [0.06, 0.16, 0.15, 0.035, 0.4, 0.16, 0.5, 0.008];
    let bh = [
        0.02666666666666667,
        0.05333333333333334,
        0.05333333333333334,
        0.02,
        0.2285714285714286,
        0.05333333333333334,
        0.5,
        0.008,
    ];
    let got = PValueAdjustment::Holm.adjust(&p).unwrap();
    for (a, b) in got.iter().zip(holm) {
        assert!((a - b).abs() < 1e-15, "holm {a} vs {b}");
    }
    let got = "bh"
        .parse::<PValueAdjustment>()
        .unwrap()
        .adjust(&p)
        .unwrap();
    for (a, b) in got.iter().zip(bh) {
        assert!((a - b).abs() < 1e-15, "bh {a} vs {b}");
    }
    assert_eq!(PValueAdjustment::None.adjust(&p).unwrap(), p);
    for m in PValueAdjustment::ALL {
        assert_eq!(m.as_str().parse::<PValueAdjustment>().unwrap(), m);
    }
    assert_eq!(
        "benjamini_hochberg".parse::<PValueAdjustment>().unwrap(),
        PValueAdjustment::BenjaminiHochberg
    );
    assert!("fdr".parse::<PValueAdjustment>().is_err());
    assert!(PValueAdjustment::Holm.adjust(&[0.1, f64::NAN]).is_err());
    assert!(PValueAdjustment::Holm.adjust(&[1.5]).is_err());
    assert!(PValueAdjustment::Holm.adjust(&[]).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Interval formulas

/// BCa against scipy 1.17.1 on the same 40 resamples (the mean of 10 values):
/// ```python
/// import numpy as np
/// from scipy.stats._resampling import _bca_interval
/// x = np.array([2.1, 3.4, 1.9, 5.6, 4.4, 2.8, 7.9, 3.3, 2.2, 4.1])
/// idx = np.random.default_rng(12345).integers(0, 10, size=(40, 10))
/// theta_b = x[idx].mean(axis=1)
/// # alpha is the one-sided level: (1 - 0.95) / 2
/// a1, a2, a_hat = _bca_interval((x,), lambda x, axis: np.mean(x, axis=axis), -1, 0.025, theta_b,
///                               None, np)
/// np.percentile(theta_b, [a1 * 100, a2 * 100]); np.percentile(theta_b, [2.5, 97.5])
/// ```
#[test]
fn bca_matches_scipy_on_the_same_resamples() {
    let x = [2.1, 3.4, 1.9, 5.6, 4.4, 2.8, 7.9, 3.3, 2.2, 4.1];
    let theta_b = [
        4.94,
        4.05,
        3.6399999999999997,
        3.6,
        3.84,
        2.87,
        4.66,
        3.3699999999999997,
        4.909999999999999,
        3.9300000000000006,
        4.49,
        4.04,
        3.2399999999999998,
        4.01,
        3.3299999999999996,
        3.9099999999999993,
        3.7800000000000002,
        5.13,
        3.0799999999999996,
        4.220000000000001,
        3.2699999999999996,
        3.2699999999999996,
        3.38,
        3.5799999999999996,
        4.2299999999999995,
        3.59,
        3.53,
        4.07,
        3.62,
        3.6700000000000004,
        3.4799999999999995,
        4.0,
        3.3199999999999994,
        3.9500000000000006,
        3.84,
        3.6999999999999993,
        3.38,
        5.279999999999999,
        4.93,
        3.22,
    ];
    let n = x.len() as f64;
    let total: f64 = x.iter().sum();
    let jack: Vec<f64> = x.iter().map(|v| (total - v) / (n - 1.0)).collect();
    let s = summarise_replicates("mean", total / n, &theta_b, &jack, 0.95).unwrap();
    // Tolerance: the quantile levels go through Φ and Φ⁻¹ (statrs vs scipy's ndtr/ndtri), ~1e-12.
    assert_close(
        "s.acceleration",
        s.acceleration,
        0.05874883235922653,
        Tol::abs(1e-12),
    );
    let bca = s.bca.unwrap();
    assert!((bca.low - 3.155173203624484).abs() < 1e-9, "{}", bca.low);
    assert!((bca.high - 5.20172941567195).abs() < 1e-9, "{}", bca.high);
    assert_close(
        "s.percentile.low",
        s.percentile.low,
        3.07475,
        Tol::abs(1e-12),
    );
    assert_close(
        "s.percentile.high",
        s.percentile.high,
        5.13375,
        Tol::abs(1e-12),
    );
}

/// When the bootstrap distribution is symmetric about the estimate (ẑ₀ = 0) and the jackknife values
/// are symmetric (â = 0), BCa is the percentile interval (Efron & Tibshirani 1993, §14.3).
#[test]
fn bca_equals_percentile_when_symmetric_and_unbiased() {
    let theta: Vec<f64> = (0..999)
        .map(|i| ((i as f64 - 499.0) / 100.0).powi(3))
        .collect();
    let jack: Vec<f64> = (-50..=50).map(|i| i as f64 * 0.01).collect();
    let s = summarise_replicates("t", 0.0, &theta, &jack, 0.9).unwrap();
    assert_eq!(s.bias_correction, 0.0);
    assert!(s.acceleration.abs() < 1e-15);
    let bca = s.bca.unwrap();
    // statrs' Φ(Φ⁻¹(α/2)) round-trips to ~1e-12 and the quantile function is steep here (about
    // 600 per unit of level in the tails), so the bounds agree to ~1e-9.
    assert!(
        (bca.low - s.percentile.low).abs() < 1e-8,
        "{} vs {}",
        bca.low,
        s.percentile.low
    );
    assert!(
        (bca.high - s.percentile.high).abs() < 1e-8,
        "{} vs {}",
        bca.high,
        s.percentile.high
    );
    // Every replicate above the estimate: the bias correction is infinite and BCa is not reported.
    let s = summarise_replicates("t", -1.0, &[0.0, 1.0, 2.0], &[], 0.9).unwrap();
    assert!(s.bca.is_none());
}

// ---------------------------------------------------------------------------------------------
// The bootstrap of a driver analysis

/// Named columns.
type Columns = Vec<(String, Vec<f64>)>;

fn sample(seed: u64, n: usize) -> (Vec<f64>, Columns, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (y, xs) = simulate(&mut rng, n, &[0.5, 0.3, 0.3, 0.0], false);
    let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 3) as f64 * 0.75).collect();
    (y, named(&xs), w)
}

#[test]
fn estimates_equal_the_driver_analysis_and_ranks_are_probabilities() {
    let (y, cols, w) = sample(11, 300);
    let drivers = view(&cols);
    let boot_opts = BootstrapOptions::default().with_resamples(400).with_seed(5);
    let b = bootstrap(&y, &drivers, Some(&w), &opts(), &boot_opts).unwrap();
    let a = driver_analysis(&y, &drivers, Some(&w), &opts()).unwrap();
    // Same weighted fit by another path (QR with refinement vs correlation-form normal equations).
    for (c, r) in b.coefficients.iter().zip(&a.regression.coefficients) {
        assert_eq!(c.name, r.term);
        assert!((c.estimate - r.estimate).abs() < 1e-10 * (1.0 + r.estimate.abs()));
        // Bootstrap and model-based standard errors agree roughly (homoscedastic data).
        assert!((c.std_error / r.std_error - 1.0).abs() < 0.25, "{}", c.name);
    }
    for m in [ImportanceMeasure::Lmg, ImportanceMeasure::Johnson] {
        let mb = b.measure(m).unwrap();
        for (e, x) in mb.scores.iter().zip(&a.scores(m).unwrap().raw) {
            assert_close("e.estimate", e.estimate, *x, Tol::abs(1e-12));
            assert!(e.percentile.low <= e.percentile.high);
        }
        assert_eq!(mb.differences.len(), 6);
        for d in &mb.differences {
            assert!(d.p_adjusted >= d.p_value && d.p_adjusted <= 1.0);
        }
    }
    assert_eq!(b.n, 300);
    assert_eq!(b.n_failed, 0);
    let ranks = b.ranks.as_ref().unwrap();
    let g = b.units.len();
    for j in 0..g {
        let row: f64 = ranks.probabilities[j].iter().sum();
        let col: f64 = (0..g).map(|u| ranks.probabilities[u][j]).sum();
        assert!((row - 1.0).abs() < 1e-12 && (col - 1.0).abs() < 1e-12);
        let iv = ranks.intervals[j];
        assert!(1 <= iv.low && iv.low <= iv.high && iv.high <= g);
    }
    // x0 (slope 0.5) leads clearly; the null driver x3 is last.
    assert_eq!(ranks.rank[0], 1);
    assert!(ranks.top[0] > 0.9, "{:?}", ranks.top);
    assert_eq!(ranks.rank[3], 4);
    let lmg = b.measure(ImportanceMeasure::Lmg).unwrap();
    let d03 = &lmg.differences[2];
    assert_eq!((d03.first.as_str(), d03.second.as_str()), ("x0", "x3"));
    assert!(d03.excludes_zero && d03.significant);
    // Plain data: exact JSON round trip.
    let json = serde_json::to_string(&b).unwrap();
    assert_eq!(serde_json::from_str::<DriverBootstrap>(&json).unwrap(), b);
}

#[test]
fn reproducible_with_a_seed_regardless_of_thread_count() {
    let (y, cols, w) = sample(3, 200);
    let drivers = view(&cols);
    let boot_opts = BootstrapOptions::default()
        .with_resamples(300)
        .with_seed(99);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| bootstrap(&y, &drivers, Some(&w), &opts(), &boot_opts).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(1));
    let other = bootstrap(
        &y,
        &drivers,
        Some(&w),
        &opts(),
        &boot_opts.clone().with_seed(100),
    )
    .unwrap();
    assert_ne!(
        one.coefficients[1].std_error,
        other.coefficients[1].std_error
    );
}

/// Coverage of the 95 % intervals of a coefficient whose true value is 0: 200 simulated data sets,
/// B = 200 each. The observed rate must lie in [0.90, 0.99] (±3.3 binomial SDs around 0.95).
#[test]
fn null_coefficient_interval_covers_zero_at_the_nominal_rate() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let boot_opts = BootstrapOptions::default()
        .with_resamples(200)
        .with_measures(&[]);
    let (mut pct, mut bca, datasets) = (0, 0, 200);
    for d in 0..datasets {
        let (y, xs) = simulate(&mut rng, 100, &[0.5, 0.0, 0.3], true);
        let cols = named(&xs);
        let b = bootstrap(
            &y,
            &view(&cols),
            None,
            &opts(),
            &boot_opts.clone().with_seed(d),
        )
        .unwrap();
        let c = b.coefficient("x1").unwrap();
        pct += usize::from(c.percentile.contains(0.0));
        bca += usize::from(c.bca.is_some_and(|i| i.contains(0.0)));
    }
    let (pct, bca) = (pct as f64 / datasets as f64, bca as f64 / datasets as f64);
    assert!((0.90..=0.99).contains(&pct), "percentile coverage {pct}");
    assert!((0.90..=0.99).contains(&bca), "BCa coverage {bca}");
}

#[test]
fn bootstrap_errors_and_failed_replicates() {
    let (y, cols, _) = sample(1, 50);
    let drivers = view(&cols);
    let o = BootstrapOptions::default().with_resamples(1);
    assert!(matches!(
        bootstrap(&y, &drivers, None, &opts(), &o),
        Err(Error::InvalidArgument { .. })
    ));
    let pairwise = opts().with_missing(MissingPolicy::Pairwise);
    assert!(bootstrap(&y, &drivers, None, &pairwise, &BootstrapOptions::default()).is_err());
    // A rare binary driver: some resamples miss every 1 and cannot be fitted; they are counted.
    let mut rare = vec![0.0; 50];
    rare[7] = 1.0;
    rare[30] = 1.0;
    let d2 = [drivers[0], ("rare", rare.as_slice())];
    let b = bootstrap(
        &y,
        &d2,
        None,
        &opts(),
        &BootstrapOptions::default().with_resamples(200),
    )
    .unwrap();
    // P(no 1 in a resample) = (48/50)^50 ≈ 0.13.
    assert!(b.n_failed > 5 && b.n_failed < 60, "{}", b.n_failed);
}

// ---------------------------------------------------------------------------------------------
// Delta-method standard errors of relative weights

/// On a large simulated sample with skewed errors the delta-method (distribution-free) standard errors
/// agree with the bootstrap standard errors within 10 %.
#[test]
fn relative_weight_se_agrees_with_the_bootstrap() {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let (y, xs) = simulate(&mut rng, 4000, &[0.5, 0.25, 0.1], true);
    let cols = named(&xs);
    let drivers = view(&cols);
    let w: Vec<f64> = (0..4000).map(|i| 1.0 + (i % 5) as f64 * 0.25).collect();
    let analytic = relative_weight_standard_errors(&y, &drivers, Some(&w), &opts()).unwrap();
    let boot = bootstrap(
        &y,
        &drivers,
        Some(&w),
        &opts(),
        &BootstrapOptions::default()
            .with_resamples(1000)
            .with_seed(8)
            .with_measures(&[ImportanceMeasure::Johnson]),
    )
    .unwrap();
    let bs = &boot.measure(ImportanceMeasure::Johnson).unwrap().scores;
    for ((se, b), rw) in analytic.std_error.iter().zip(bs).zip(&analytic.weights) {
        assert_close("b.estimate", b.estimate, *rw, Tol::abs(1e-12));
        assert!(
            (se / b.std_error - 1.0).abs() < 0.10,
            "{se} vs {}",
            b.std_error
        );
    }
    let with_always = opts().with_always(&["x2"]);
    assert!(relative_weight_standard_errors(&y, &drivers, None, &with_always).is_err());
}

// ---------------------------------------------------------------------------------------------
// Segments

#[test]
fn segment_analysis_equals_each_segment_alone() {
    let (y, cols, w) = sample(21, 240);
    let drivers = view(&cols);
    let labels: Vec<&str> = (0..240)
        .map(|i| match i % 10 {
            0..=5 => "web",
            6..=8 => "store",
            _ => "phone",
        })
        .collect();
    // "phone" has 24 rows; "fax" is named but has none.
    let codes: Vec<usize> = labels
        .iter()
        .map(|l| {
            ["web", "store", "phone"]
                .iter()
                .position(|x| x == l)
                .unwrap()
        })
        .collect();
    let segs = Segments::from_codes(&codes, &["web", "store", "phone", "fax"]).unwrap();
    let res = segment_driver_analysis(&y, &drivers, Some(&w), &segs, &opts()).unwrap();
    assert_eq!(res.segments.len(), 4);
    for name in ["web", "store", "phone"] {
        let rows = segs.rows(name).unwrap();
        let sub_y: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
        let sub_w: Vec<f64> = rows.iter().map(|&i| w[i]).collect();
        let sub_cols: Vec<(String, Vec<f64>)> = cols
            .iter()
            .map(|(n, c)| (n.clone(), rows.iter().map(|&i| c[i]).collect()))
            .collect();
        let alone = driver_analysis(&sub_y, &view(&sub_cols), Some(&sub_w), &opts()).unwrap();
        let seg = res.get(name).unwrap();
        assert_eq!(seg.n_rows, rows.len());
        assert_eq!(seg.analysis().unwrap(), &alone);
    }
    let fax = res.get("fax").unwrap();
    assert!(matches!(&fax.status, SegmentStatus::Skipped { reason } if reason.contains("no rows")));
    assert_eq!(res.n_skipped, 1);
    // Too small: a segment of 3 rows for 4 drivers is skipped with the row count in the reason.
    let mut labels = labels.clone();
    for l in labels.iter_mut().take(3) {
        *l = "kiosk";
    }
    let res =
        segment_driver_analysis(&y, &drivers, Some(&w), &text_segments(&labels), &opts()).unwrap();
    let kiosk = res.get("kiosk").unwrap();
    assert!(
        matches!(&kiosk.status, SegmentStatus::Skipped { reason } if reason.contains("only 3"))
    );
    assert!(segment_driver_analysis(&y, &drivers, None, &text_segments(&["a"]), &opts()).is_err());
    assert!(Segments::from_codes(&[0, 2], &["a", "b"]).is_err());
}

#[test]
fn segment_test_finds_a_driver_that_differs() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    // In "a" x0 drives the outcome, in "b" x1 does; x2 matters equally in both.
    let (ya, xa) = simulate(&mut rng, 400, &[0.8, 0.0, 0.3], false);
    let (yb, xb) = simulate(&mut rng, 400, &[0.0, 0.8, 0.3], false);
    let y: Vec<f64> = ya.iter().chain(&yb).copied().collect();
    let xs: Vec<Vec<f64>> = xa
        .iter()
        .zip(&xb)
        .map(|(a, b)| a.iter().chain(b).copied().collect())
        .collect();
    let cols = named(&xs);
    let labels: Vec<&str> = (0..800).map(|i| if i < 400 { "a" } else { "b" }).collect();
    let segs = text_segments(&labels);
    let boot_opts = BootstrapOptions::default()
        .with_resamples(300)
        .with_seed(4)
        .with_measures(&[ImportanceMeasure::Lmg]);
    let t = segment_importance_test(
        &y,
        &view(&cols),
        None,
        &segs,
        "a",
        Some("b"),
        &opts(),
        &boot_opts,
    )
    .unwrap();
    let lmg = &t.measures[0].drivers;
    assert!(lmg[0].difference > 0.0 && lmg[0].significant);
    assert!(lmg[1].difference < 0.0 && lmg[1].significant);
    assert!(!lmg[2].significant);
    // Holm across the three drivers: adjusted ≥ raw, and equal to the Holm adjustment of the raw.
    let raw: Vec<f64> = lmg.iter().map(|d| d.p_value).collect();
    let holm = PValueAdjustment::Holm.adjust(&raw).unwrap();
    for (d, h) in lmg.iter().zip(holm) {
        assert_eq!(d.p_adjusted, h);
    }
    // Against the rest: with two segments the rest is the other segment, so the result is the same.
    let rest = segment_importance_test(
        &y,
        &view(&cols),
        None,
        &segs,
        "a",
        None,
        &opts(),
        &boot_opts,
    )
    .unwrap();
    assert_eq!(rest.measures, t.measures);
    assert!(segment_importance_test(
        &y,
        &view(&cols),
        None,
        &segs,
        "a",
        Some("a"),
        &opts(),
        &boot_opts
    )
    .is_err());
    assert!(segment_importance_test(
        &y,
        &view(&cols),
        None,
        &segs,
        "z",
        None,
        &opts(),
        &boot_opts
    )
    .is_err());
}

/// With `always` covariates and the indicator policy the full-sample estimates are those of the
/// driver analysis (coefficients of every term, importance of the ranked drivers only).
#[test]
fn always_and_indicator_estimates_equal_the_driver_analysis() {
    let (y, mut cols, _) = sample(8, 200);
    for i in (0..200).step_by(9) {
        cols[1].1[i] = f64::NAN;
    }
    let drivers = view(&cols);
    let o = opts().with_indicator_for(&["x1"]).with_always(&["x3"]);
    let boot_opts = BootstrapOptions::default().with_resamples(100).with_seed(2);
    let b = bootstrap(&y, &drivers, None, &o, &boot_opts).unwrap();
    let a = driver_analysis(&y, &drivers, None, &o).unwrap();
    assert_eq!(b.units, a.importance.names);
    assert_eq!(b.coefficients.len(), a.regression.coefficients.len());
    for (c, r) in b.coefficients.iter().zip(&a.regression.coefficients) {
        assert_eq!(c.name, r.term);
        assert!((c.estimate - r.estimate).abs() < 1e-10 * (1.0 + r.estimate.abs()));
    }
    let lmg = b.measure(ImportanceMeasure::Lmg).unwrap();
    for (e, x) in lmg
        .scores
        .iter()
        .zip(&a.scores(ImportanceMeasure::Lmg).unwrap().raw)
    {
        assert_close("e.estimate", e.estimate, *x, Tol::abs(1e-12));
    }
    assert_eq!(b.n, a.n as usize);
}

/// Segments named by text labels, through the grouping engine (sorted by code point).
fn text_segments(labels: &[&str]) -> Segments {
    use cx_metrics::groups::{Grouping, KeyColumn, Label};
    let labels: Vec<Label> = labels
        .iter()
        .map(|l| Label::Text((*l).to_owned()))
        .collect();
    let n = labels.len();
    Segments::from_grouping(&Grouping::new(vec![KeyColumn::Labels(labels)], n).unwrap()).unwrap()
}
