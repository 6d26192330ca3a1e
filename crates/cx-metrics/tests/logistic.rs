//! Logistic regression, promoter/detractor models and the pseudo-R² Shapley decomposition, checked against
//! statsmodels 0.15.0 on R's `swiss` data (outcome: Fertility > 70; drivers Agriculture, Education,
//! Catholic).
//!
//! The reference values were computed with this Python (numpy, pandas, statsmodels 0.15.0):
//!
//! ```python
//! import numpy as np, pandas as pd, statsmodels.api as sm
//! d = pd.read_csv("swiss.csv", index_col=0)
//! y = (d["Fertility"] > 70).astype(float)
//! X = sm.add_constant(d[["Agriculture", "Education", "Catholic"]])
//! r = sm.Logit(y, X).fit(method="newton", tol=1e-14, maxiter=100, disp=0)
//! r.params, r.bse, r.tvalues, r.pvalues, r.conf_int(0.05), r.llf, r.llnull, r.aic, r.prsquared
//! # all-subset log-likelihoods, bit j = (Agriculture, Education, Catholic)[j]
//! for mask in range(8):
//!     cols = [names[j] for j in range(3) if mask >> j & 1]
//!     Xs = sm.add_constant(d[cols]) if cols else np.ones((len(y), 1))
//!     sm.Logit(y, Xs).fit(method="newton", tol=1e-14, maxiter=100, disp=0).llf
//! # weighted
//! w = np.array([0.5 + 0.25 * (i % 5) for i in range(len(y))])
//! g = sm.GLM(y, X, family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-14, maxiter=100)
//! g.params, g.bse, g.llf   # var_weights=w gives the same three to every printed digit
//! ```
//!
//! Tolerances: coefficients, standard errors, z, p and interval bounds 1e-8 relative; log-likelihoods,
//! AIC and pseudo-R² 1e-10 relative; Shapley sums 1e-12 absolute; counts exact.

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::logistic::{
    detractor_model, logistic_regression, nps_pseudo_r2_shapley, promoter_model, pseudo_r2_shapley,
    LogisticOptions, LogisticRegression, LogisticStdError, NpsOutcome, SeparationKind,
    SeparationPolicy, ShapleyMethod, ShapleyOptions, WeightKind,
};
use cx_metrics::Error;

const SWISS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/validation/swiss.csv"
);

/// Columns of swiss.csv: Fertility, Agriculture, Examination, Education, Catholic, Infant.Mortality.
fn swiss() -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(SWISS).expect("swiss.csv is readable");
    let mut cols = vec![Vec::new(); 6];
    for line in text.lines().skip(1) {
        for (c, field) in line.split(',').skip(1).enumerate() {
            cols[c].push(field.parse::<f64>().expect("a number"));
        }
    }
    cols
}

struct Swiss {
    y: Vec<f64>,
    agriculture: Vec<f64>,
    education: Vec<f64>,
    catholic: Vec<f64>,
}

fn swiss_binary() -> Swiss {
    let c = swiss();
    Swiss {
        y: c[0]
            .iter()
            .map(|&f| if f > 70.0 { 1.0 } else { 0.0 })
            .collect(),
        agriculture: c[1].clone(),
        education: c[3].clone(),
        catholic: c[4].clone(),
    }
}

fn exact() -> ShapleyOptions {
    ShapleyOptions {
        method: ShapleyMethod::Exact,
        ..ShapleyOptions::default()
    }
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert_close(what, got, want, Tol::rel(tol));
}

fn all_terms(fit: &LogisticRegression) -> Vec<&cx_metrics::LogisticTerm> {
    std::iter::once(&fit.intercept)
        .chain(&fit.drivers)
        .collect()
}

/// The swiss model; weights as frequency weights (the references below are `freq_weights=w`).
fn fit_swiss(weights: Option<&[f64]>) -> LogisticRegression {
    fit_swiss_as(weights, WeightKind::Frequency)
}

fn fit_swiss_as(weights: Option<&[f64]>, weight_kind: WeightKind) -> LogisticRegression {
    let s = swiss_binary();
    logistic_regression(
        &s.y,
        &[
            ("Agriculture", &s.agriculture),
            ("Education", &s.education),
            ("Catholic", &s.catholic),
        ],
        weights,
        &LogisticOptions {
            weight_kind,
            ..LogisticOptions::default()
        },
    )
    .unwrap()
}

/// Sampling weights (the default): design-based sandwich standard errors against statsmodels 0.14
/// `GLM(y, X, family=Binomial(), var_weights=w).fit(tol=1e-14, maxiter=100, cov_type="HC0")` (which
/// equals the sandwich computed by hand in numpy, `A⁻¹BA⁻¹`, to 14 digits), w as above. Tolerance
/// 1e-8 relative (the convergence tolerance of both fits). Multiplying every weight by 2000 changes
/// nothing (it turned p = 0.88 into p = 4e-12 when the weights were taken as frequencies).
#[test]
fn swiss_sampling_weights_get_sandwich_standard_errors() {
    let params = [
        2.2629298134703704,
        -0.03285998580670567,
        -0.18292120078000526,
        0.03528533324967854,
    ];
    let bse = [
        1.971849345969042,
        0.027388237997464815,
        0.08216709956590462,
        0.00986226845725357,
    ];
    let p = [
        0.25112629344219883,
        0.23022301176773696,
        0.026000133078521566,
        0.00034648374734007613,
    ];
    let w: Vec<f64> = (0..47).map(|i| 0.5 + 0.25 * (i % 5) as f64).collect();
    let fit = fit_swiss_as(Some(&w), WeightKind::Sampling);
    assert_eq!(fit.std_error_type, LogisticStdError::SandwichHc0);
    assert_eq!(fit.weight_kind, Some(WeightKind::Sampling));
    for (j, t) in all_terms(&fit).into_iter().enumerate() {
        close("coef", t.estimate, params[j], 1e-8);
        close("sandwich se", t.std_error, bse[j], 1e-8);
        close("sandwich p", t.p_value, p[j], 1e-7);
        close("covariance", fit.covariance[j][j].sqrt(), bse[j], 1e-8);
    }
    let big: Vec<f64> = w.iter().map(|v| v * 2000.0).collect();
    let scaled = fit_swiss_as(Some(&big), WeightKind::Sampling);
    for (a, b) in all_terms(&fit).into_iter().zip(all_terms(&scaled)) {
        close("scaled coef", b.estimate, a.estimate, 1e-9);
        close("scaled se", b.std_error, a.std_error, 1e-9);
        close("scaled p", b.p_value, a.p_value, 1e-8);
    }
    // As frequencies the same weights × 2000 shrink the SEs by √2000.
    let freq = fit_swiss_as(Some(&big), WeightKind::Frequency);
    assert_eq!(freq.std_error_type, LogisticStdError::ModelBased);
    let small = fit_swiss(Some(&w));
    close(
        "frequency se",
        freq.drivers[0].std_error * 2000f64.sqrt(),
        small.drivers[0].std_error,
        1e-8,
    );
    // Without weights: model-based, no weight kind.
    let plain = fit_swiss_as(None, WeightKind::Sampling);
    assert_eq!(
        (plain.std_error_type, plain.weight_kind),
        (LogisticStdError::ModelBased, None)
    );
}

#[test]
fn swiss_matches_statsmodels_logit() {
    let params = [
        3.9382319120110356,
        -0.05669414164818806,
        -0.22865718742829635,
        0.03410476815032821,
    ];
    let bse = [
        1.8758825345923467,
        0.026368282554569994,
        0.09067410532862709,
        0.011270656591426537,
    ];
    let z = [
        2.0994021957067073,
        -2.150088521345967,
        -2.5217473786984925,
        3.025978821524145,
    ];
    let p = [
        0.035781461310012995,
        0.031548213402636596,
        0.011677353580323334,
        0.0024782966090781972,
    ];
    let lo = [
        0.26156970498232424,
        -0.10837502578932107,
        -0.40637516820279684,
        0.012014687149013228,
    ];
    let hi = [
        7.614894119039747,
        -0.005013257507055065,
        -0.050939206653795865,
        0.05619484915164319,
    ];
    let fit = fit_swiss(None);
    assert!(fit.converged && fit.separation.is_none());
    assert_eq!((fit.n, fit.n_events, fit.n_omitted), (47, 24, 0));
    let names = ["intercept", "Agriculture", "Education", "Catholic"];
    for (j, t) in all_terms(&fit).into_iter().enumerate() {
        assert_eq!(t.name, names[j]);
        close("coef", t.estimate, params[j], 1e-8);
        close("se", t.std_error, bse[j], 1e-8);
        close("z", t.z, z[j], 1e-8);
        close("p", t.p_value, p[j], 1e-8);
        close("ci low", t.interval.low, lo[j], 1e-8);
        close("ci high", t.interval.high, hi[j], 1e-8);
        close("odds ratio", t.odds_ratio, params[j].exp(), 1e-8);
        close("or low", t.odds_ratio_interval.low, lo[j].exp(), 1e-8);
        close("or high", t.odds_ratio_interval.high, hi[j].exp(), 1e-8);
        close(
            "se from covariance",
            fit.covariance[j][j].sqrt(),
            bse[j],
            1e-8,
        );
    }
    close("llf", fit.log_likelihood, -21.276517668602665, 1e-10);
    close(
        "llnull",
        fit.null_log_likelihood,
        -32.567278385700504,
        1e-10,
    );
    close("deviance", fit.deviance, 2.0 * 21.276517668602665, 1e-10);
    close("aic", fit.aic, 50.55303533720533, 1e-10);
    close("prsquared", fit.pseudo_r2, 0.3466903369504569, 1e-10);
    // Another level: the 90 % interval is β ± 1.6448536269514722·SE.
    let i90 = fit.drivers[0].interval_at(0.90).unwrap();
    close(
        "90% low",
        i90.low,
        params[1] - 1.6448536269514722 * bse[1],
        1e-8,
    );
    assert!(fit.drivers[0].interval_at(1.0).is_err());
}

#[test]
fn swiss_weighted_matches_statsmodels_glm_weights() {
    // Survey weights: the point estimates solve Σ wᵢ xᵢ (yᵢ − μᵢ) = 0, as GLM(freq_weights=w) and
    // GLM(var_weights=w) both do; for the binomial family (scale 1) their SEs and llf coincide too.
    let params = [
        2.2629298134703704,
        -0.03285998580670567,
        -0.18292120078000526,
        0.03528533324967854,
    ];
    let bse = [
        1.670660330011334,
        0.023302464325281557,
        0.08424039327757789,
        0.01159647342136529,
    ];
    let w: Vec<f64> = (0..47).map(|i| 0.5 + 0.25 * (i % 5) as f64).collect();
    let fit = fit_swiss(Some(&w));
    assert!(fit.converged);
    assert_eq!((fit.n, fit.n_events), (47, 24));
    close("sum of weights", fit.sum_weights, w.iter().sum(), 1e-15);
    for (j, t) in all_terms(&fit).into_iter().enumerate() {
        close("weighted coef", t.estimate, params[j], 1e-8);
        close("weighted se", t.std_error, bse[j], 1e-8);
    }
    close(
        "weighted llf",
        fit.log_likelihood,
        -21.047139556642087,
        1e-10,
    );
}

#[test]
fn integer_weights_equal_replicated_rows() {
    let s = swiss_binary();
    let w: Vec<f64> = (0..47).map(|i| (1 + i % 3) as f64).collect();
    let weighted = fit_swiss(Some(&w));
    let rep = |c: &[f64]| -> Vec<f64> {
        c.iter()
            .zip(&w)
            .flat_map(|(&v, &k)| std::iter::repeat_n(v, k as usize))
            .collect()
    };
    let (a, e, c) = (rep(&s.agriculture), rep(&s.education), rep(&s.catholic));
    let replicated = logistic_regression(
        &rep(&s.y),
        &[("Agriculture", &a), ("Education", &e), ("Catholic", &c)],
        None,
        &LogisticOptions::default(),
    )
    .unwrap();
    for (x, y) in all_terms(&weighted).into_iter().zip(all_terms(&replicated)) {
        close("coef", x.estimate, y.estimate, 1e-10);
        close("se", x.std_error, y.std_error, 1e-10);
    }
    close(
        "llf",
        weighted.log_likelihood,
        replicated.log_likelihood,
        1e-12,
    );
}

#[test]
fn shapley_pseudo_r2_sums_and_matches_factorial_formula() {
    let s = swiss_binary();
    let drivers: [(&str, &[f64]); 3] = [
        ("Agriculture", &s.agriculture),
        ("Education", &s.education),
        ("Catholic", &s.catholic),
    ];
    let sh =
        pseudo_r2_shapley(&s.y, &drivers, None, &LogisticOptions::default(), &exact()).unwrap();
    // Subset pseudo-R² against statsmodels' subset log-likelihoods (llnull as above).
    let llf = [
        -32.56727838565162,
        -31.905352747657428,
        -27.960322054136217,
        -27.384809044752945,
        -27.52533522109692,
        -27.523138873536446,
        -24.130802434358777,
        -21.276517668602665,
    ];
    let ll0 = -32.567278385700504;
    for (mask, &l) in llf.iter().enumerate().skip(1) {
        close("subset pseudo-R²", sh.subsets[mask], 1.0 - l / ll0, 1e-9);
    }
    assert_eq!(sh.subsets[0], 0.0);
    let total: f64 = sh.drivers.iter().map(|d| d.value).sum();
    assert_close("total", total, sh.pseudo_r2, Tol::abs(1e-12));
    close("full pseudo-R²", sh.pseudo_r2, 0.3466903369504569, 1e-10);
    let shares: f64 = sh.drivers.iter().map(|d| d.share).sum();
    assert_close("shares", shares, 1.0, Tol::abs(1e-12));

    // Brute force: the factorial formula over subset fits made one by one with logistic_regression.
    let v = |mask: usize| -> f64 {
        let ds: Vec<(&str, &[f64])> = (0..3)
            .filter(|j| mask >> j & 1 == 1)
            .map(|j| drivers[j])
            .collect();
        if ds.is_empty() {
            return 0.0;
        }
        logistic_regression(&s.y, &ds, None, &LogisticOptions::default())
            .unwrap()
            .pseudo_r2
    };
    let table: Vec<f64> = (0..8).map(v).collect();
    let fact = |k: usize| -> f64 { (1..=k).product::<usize>() as f64 };
    for j in 0..3 {
        let mut phi = 0.0;
        for mask in 0..8usize {
            if mask >> j & 1 == 0 {
                let size = mask.count_ones() as usize;
                phi += fact(size) * fact(3 - size - 1) / fact(3)
                    * (table[mask | 1 << j] - table[mask]);
            }
        }
        assert!(
            (phi - sh.drivers[j].value).abs() <= 1e-12,
            "driver {j}: brute force {phi}, decomposition {}",
            sh.drivers[j].value
        );
    }
}

#[test]
fn complete_separation_is_reported() {
    let y = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let noise = [0.3, -0.1, 0.4, 0.2, -0.3, 0.1, 0.0, -0.2];
    let drivers: [(&str, &[f64]); 2] = [("effort", &x), ("noise", &noise)];
    let err = logistic_regression(&y, &drivers, None, &LogisticOptions::default()).unwrap_err();
    match err {
        Error::Separation {
            kind,
            ref drivers,
            rows,
        } => {
            assert_eq!(kind, "complete");
            assert!(drivers.contains("effort"), "{drivers}");
            assert_eq!(rows, 8);
        }
        other => panic!("expected separation, got {other:?}"),
    }
    let warn = LogisticOptions {
        separation: SeparationPolicy::Warn,
        ..LogisticOptions::default()
    };
    let fit = logistic_regression(&y, &drivers, None, &warn).unwrap();
    let sep = fit.separation.expect("separation reported");
    assert_eq!(sep.kind, SeparationKind::Complete);
    assert!(!fit.converged);
    assert!(fit.drivers[0].std_error.is_infinite() && fit.covariance.is_empty());
    assert!(fit.drivers.iter().all(|t| t.p_value == 1.0));
}

#[test]
fn quasi_complete_separation_names_the_driver() {
    // Every customer with an unresolved complaint (flag = 1) is a detractor; among the others both occur.
    let flag = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
    let tenure = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 2.0, 5.0, 7.0, 3.5];
    let y = [0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0];
    let drivers: [(&str, &[f64]); 2] = [("tenure", &tenure), ("unresolved", &flag)];
    let warn = LogisticOptions {
        separation: SeparationPolicy::Warn,
        ..LogisticOptions::default()
    };
    let fit = logistic_regression(&y, &drivers, None, &warn).unwrap();
    let sep = fit.separation.expect("separation reported");
    assert_eq!(sep.kind, SeparationKind::QuasiComplete);
    assert_eq!(sep.drivers, vec!["unresolved".to_string()]);
    assert_eq!(sep.rows, 3);
    let err = logistic_regression(&y, &drivers, None, &LogisticOptions::default()).unwrap_err();
    assert!(matches!(
        err,
        Error::Separation {
            kind: "quasi-complete",
            ..
        }
    ));
    assert!(pseudo_r2_shapley(&y, &drivers, None, &warn, &ShapleyOptions::default()).is_err());
}

/// A small NPS survey: 0–10 ratings and two drivers, with one missing rating and one missing driver value.
fn survey() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let ltr = vec![
        10.0,
        9.0,
        3.0,
        7.0,
        8.0,
        9.0,
        6.0,
        10.0,
        2.0,
        8.0,
        5.0,
        9.0,
        7.0,
        0.0,
        10.0,
        f64::NAN,
        4.0,
        8.0,
        9.0,
        6.0,
        7.0,
        10.0,
        1.0,
        9.0,
    ];
    let ease = vec![
        6.0,
        7.0,
        2.0,
        5.0,
        6.0,
        4.0,
        3.0,
        5.0,
        1.0,
        7.0,
        3.0,
        6.0,
        4.0,
        2.0,
        7.0,
        5.0,
        4.0,
        5.0,
        3.0,
        5.0,
        6.0,
        6.0,
        2.0,
        f64::NAN,
    ];
    let trust = vec![
        5.0, 4.0, 3.0, 6.0, 3.0, 6.0, 2.0, 6.0, 3.0, 4.0, 4.0, 5.0, 3.0, 1.0, 5.0, 6.0, 2.0, 6.0,
        5.0, 4.0, 5.0, 4.0, 3.0, 5.0,
    ];
    (ltr, ease, trust)
}

#[test]
fn promoter_and_detractor_models_count_events() {
    let (ltr, ease, trust) = survey();
    let drivers: [(&str, &[f64]); 2] = [("ease", &ease), ("trust", &trust)];
    let o = LogisticOptions::default();
    let pro = promoter_model(&ltr, &drivers, None, &o).unwrap();
    let det = detractor_model(&ltr, &drivers, None, &o).unwrap();
    // Complete rows: 22 (row 15 has no rating, row 23 no ease). Among them, ratings 9–10 at rows
    // 0, 1, 5, 7, 11, 14, 18, 21 (8) and 0–6 at rows 2, 6, 8, 10, 13, 16, 19, 22 (8).
    assert_eq!((pro.n, pro.n_omitted, pro.n_events), (22, 2, 8));
    assert_eq!((det.n, det.n_omitted, det.n_events), (22, 2, 8));
    assert_eq!(
        (pro.outcome.as_str(), det.outcome.as_str()),
        ("promoter", "detractor")
    );
    // The same models from explicit 0/1 outcomes.
    for (model, lo, hi) in [(&pro, 9.0, 10.0), (&det, 0.0, 6.0)] {
        let y: Vec<f64> = ltr
            .iter()
            .map(|&r| {
                if r.is_nan() {
                    r
                } else if (lo..=hi).contains(&r) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let direct = logistic_regression(&y, &drivers, None, &o).unwrap();
        for (a, b) in all_terms(model).into_iter().zip(all_terms(&direct)) {
            assert_eq!(a.estimate, b.estimate);
        }
    }
    let sh =
        nps_pseudo_r2_shapley(NpsOutcome::Detractor, &ltr, &drivers, None, &o, &exact()).unwrap();
    close("detractor pseudo-R²", sh.pseudo_r2, det.pseudo_r2, 1e-15);
    assert_eq!(sh.n_events, 8);
    assert_eq!("promoter".parse::<NpsOutcome>(), Ok(NpsOutcome::Promoter));
    assert!("passive".parse::<NpsOutcome>().is_err());
}

#[test]
fn ratings_off_the_scale_are_typed_errors() {
    let (mut ltr, ease, trust) = survey();
    ltr[4] = 11.0;
    let drivers: [(&str, &[f64]); 2] = [("ease", &ease), ("trust", &trust)];
    let err = promoter_model(&ltr, &drivers, None, &LogisticOptions::default()).unwrap_err();
    assert_eq!(
        err,
        Error::OutOfRange {
            index: 4,
            value: 11.0,
            min: 0,
            max: 10
        }
    );
    ltr[4] = 7.5;
    let err = detractor_model(&ltr, &drivers, None, &LogisticOptions::default()).unwrap_err();
    assert_eq!(
        err,
        Error::NotIntegral {
            index: 4,
            value: 7.5
        }
    );
    let raise = LogisticOptions {
        nan_policy: cx_metrics::NanPolicy::Raise,
        ..LogisticOptions::default()
    };
    let (ltr, ..) = survey();
    assert_eq!(
        promoter_model(&ltr, &drivers, None, &raise).unwrap_err(),
        Error::Missing { index: 15 }
    );
}

#[test]
fn bad_inputs_are_typed_errors() {
    let o = LogisticOptions::default();
    let (ltr, ease, trust) = survey();
    let drivers: [(&str, &[f64]); 2] = [("ease", &ease), ("trust", &trust)];
    // Constant outcome: everyone a promoter.
    let all_promoters = vec![9u8; ltr.len()];
    match promoter_model(&all_promoters, &drivers, None, &o).unwrap_err() {
        Error::BadColumn { column, .. } => assert_eq!(column, "promoter"),
        other => panic!("{other:?}"),
    }
    // Mismatched lengths.
    let short = &ease[..10];
    assert!(matches!(
        promoter_model(&ltr, &[("ease", short)], None, &o).unwrap_err(),
        Error::LengthMismatch {
            left: 24,
            right: 10,
            ..
        }
    ));
    assert!(matches!(
        promoter_model(&ltr, &drivers, Some(&[1.0; 3]), &o).unwrap_err(),
        Error::LengthMismatch { .. }
    ));
    // Non-finite driver value.
    let mut bad = trust.clone();
    bad[2] = f64::INFINITY;
    match promoter_model(&ltr, &[("ease", &ease), ("trust", &bad)], None, &o).unwrap_err() {
        Error::BadColumn { column, message } => {
            assert_eq!(column, "trust");
            assert!(message.contains("position 2"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Zero-variance driver.
    let flat = vec![3.0; ltr.len()];
    match promoter_model(&ltr, &[("ease", &ease), ("flat", &flat)], None, &o).unwrap_err() {
        Error::BadColumn { column, .. } => assert_eq!(column, "flat"),
        other => panic!("{other:?}"),
    }
    // Invalid weight.
    let mut w = vec![1.0; ltr.len()];
    w[5] = -1.0;
    assert_eq!(
        promoter_model(&ltr, &drivers, Some(&w), &o).unwrap_err(),
        Error::InvalidWeight {
            index: 5,
            weight: -1.0
        }
    );
    // Collinear drivers.
    let twice: Vec<f64> = ease.iter().map(|e| 2.0 * e + 1.0).collect();
    match promoter_model(&ltr, &[("ease", &ease), ("twice", &twice)], None, &o).unwrap_err() {
        Error::Collinear { columns } => {
            assert!(columns.contains("ease") && columns.contains("twice"))
        }
        other => panic!("{other:?}"),
    }
    // An outcome other than 0/1.
    assert!(matches!(
        logistic_regression(&[0.0, 1.0, 2.0], &[], None, &o).unwrap_err(),
        Error::OutOfRange { index: 2, .. }
    ));
    // Bad options.
    let bad_level = LogisticOptions {
        confidence_level: 1.5,
        ..o
    };
    assert!(promoter_model(&ltr, &drivers, None, &bad_level).is_err());
}

#[test]
fn results_round_trip_through_serde() {
    let fit = fit_swiss(None);
    let json = serde_json::to_string(&fit).unwrap();
    let back: LogisticRegression = serde_json::from_str(&json).unwrap();
    assert_eq!(back.n_events, fit.n_events);
    close("llf", back.log_likelihood, fit.log_likelihood, 1e-15);
}

/// The bundled sample survey (2000 rows; blank = missing): weight, ltr and the six pillar ratings.
const SAMPLE_SURVEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../python/cx_metrics/data/sample_survey.csv"
);

const PILLARS: [&str; 6] = [
    "integrity",
    "resolution",
    "expectations",
    "time_and_effort",
    "personalisation",
    "empathy",
];

/// (weight, ltr, pillar columns), blanks as NaN.
fn sample_survey() -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(SAMPLE_SURVEY).expect("sample survey is readable");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (iw, il) = (at("weight"), at("ltr"));
    let ip: Vec<usize> = PILLARS.iter().map(|p| at(p)).collect();
    let (mut w, mut ltr, mut pillars) = (Vec::new(), Vec::new(), vec![Vec::new(); 6]);
    let num = |s: &str| {
        if s.is_empty() {
            f64::NAN
        } else {
            s.parse().unwrap()
        }
    };
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        w.push(num(f[iw]));
        ltr.push(num(f[il]));
        for (col, &i) in pillars.iter_mut().zip(&ip) {
            col.push(num(f[i]));
        }
    }
    (w, ltr, pillars)
}

/// Weighted promoter and detractor models of the six pillars against statsmodels, and their pseudo-R²
/// Shapley decompositions against a brute-force factorial formula over statsmodels subset fits:
///
/// ```python
/// d = pd.read_csv("sample_survey.csv"); c = d.dropna(subset=["ltr"] + pillars)
/// y = (c["ltr"] >= 9).astype(float)        # detractor: (c["ltr"] <= 6)
/// w = c["weight"].to_numpy()
/// g = sm.GLM(y, sm.add_constant(c[pillars]), family=sm.families.Binomial(), freq_weights=w)
/// g = g.fit(tol=1e-14, maxiter=100); g.params, g.bse, g.llf
/// p1 = np.sum(w * y) / np.sum(w); ll0 = np.sum(w * (y * np.log(p1) + (1 - y) * np.log(1 - p1)))
/// r2[mask] = 1 - (same GLM on the pillars in mask).llf / ll0            # r2[0] = 0
/// phi[j] = sum(k!(6-k-1)!/6! * (r2[mask | 1<<j] - r2[mask]) for masks without j, k = |mask|)
/// ```
#[test]
fn sample_survey_promoter_and_detractor_models_match_statsmodels() {
    struct Reference {
        target: NpsOutcome,
        events: usize,
        params: [f64; 7],
        bse: [f64; 7],
        llf: f64,
        pseudo_r2: f64,
        shapley: [f64; 6],
    }
    let refs = [
        Reference {
            target: NpsOutcome::Promoter,
            events: 393,
            params: [
                -11.186847953850851,
                0.2856073923050766,
                0.37526017007886214,
                0.30645749996618743,
                0.5534732023118994,
                -6.98036890416677e-05,
                0.10729511690211609,
            ],
            bse: [
                0.7273559816245461,
                0.07075571886062852,
                0.07684519937535733,
                0.07540161990590669,
                0.07673858214706161,
                0.07107543188445013,
                0.07615727391954044,
            ],
            llf: -354.6058724450387,
            pseudo_r2: 0.4413692474412346,
            shapley: [
                0.06612035143289478,
                0.08259704758808549,
                0.07973909702688435,
                0.11903420395849522,
                0.03856770758216475,
                0.05531083985271005,
            ],
        },
        Reference {
            target: NpsOutcome::Detractor,
            events: 245,
            params: [
                8.0227015481545,
                -0.18655335778668136,
                -0.40478206977232173,
                -0.21038116433279838,
                -0.534321549211123,
                -0.020648422851423327,
                -0.1662350068439055,
            ],
            bse: [
                0.6342718263297347,
                0.07209912811137481,
                0.07993776798135373,
                0.0794855043980951,
                0.08113945383067292,
                0.07348921738289887,
                0.07979352336714753,
            ],
            llf: -315.65843727442666,
            pseudo_r2: 0.4197874753699746,
            shapley: [
                0.05347587701877657,
                0.08763214042575224,
                0.06708751838717583,
                0.11902889932513058,
                0.036824313456201636,
                0.05573872675693772,
            ],
        },
    ];
    let (w, ltr, pillars) = sample_survey();
    let drivers: Vec<(&str, &[f64])> = PILLARS
        .iter()
        .copied()
        .zip(pillars.iter().map(Vec::as_slice))
        .collect();
    // The references are freq_weights fits.
    let o = LogisticOptions {
        weight_kind: WeightKind::Frequency,
        ..LogisticOptions::default()
    };
    for r in &refs {
        let fit = cx_metrics::logistic::nps_model(r.target, &ltr, &drivers, Some(&w), &o).unwrap();
        assert_eq!((fit.n, fit.n_omitted, fit.n_events), (919, 1081, r.events));
        for (j, t) in all_terms(&fit).into_iter().enumerate() {
            close("coef", t.estimate, r.params[j], 1e-8);
            close("se", t.std_error, r.bse[j], 1e-8);
        }
        close("llf", fit.log_likelihood, r.llf, 1e-10);
        let sh = nps_pseudo_r2_shapley(r.target, &ltr, &drivers, Some(&w), &o, &exact()).unwrap();
        close("pseudo-R²", sh.pseudo_r2, r.pseudo_r2, 1e-10);
        for (d, &want) in sh.drivers.iter().zip(&r.shapley) {
            close(&format!("Shapley {}", d.name), d.value, want, 1e-9);
        }
        let total: f64 = sh.drivers.iter().map(|d| d.value).sum();
        assert_close("total", total, sh.pseudo_r2, Tol::abs(1e-12));
    }
}

/// Uniform (0, 1) numbers from SplitMix64 (Steele, Lea & Flood 2014), deterministic.
fn uniforms(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        })
        .collect()
}

#[test]
fn a_strong_but_overlapping_driver_is_not_called_separation() {
    // True model logit P(y = 1) = 25·x on x ∈ (−1, 1): many fitted probabilities are within 1e-10 of 0
    // or 1, but outcomes overlap near x = 0, so the maximum-likelihood estimate exists.
    let n = 3000;
    let x: Vec<f64> = uniforms(1, n).iter().map(|u| 2.0 * u - 1.0).collect();
    let y: Vec<f64> = x
        .iter()
        .zip(uniforms(2, n))
        .map(|(&x, u)| {
            if u < 1.0 / (1.0 + (-25.0 * x).exp()) {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let fit = logistic_regression(&y, &[("x", &x)], None, &LogisticOptions::default()).unwrap();
    assert!(fit.converged && fit.separation.is_none());
    let (b0, b1) = (fit.intercept.estimate, fit.drivers[0].estimate);
    // The score equations hold at the estimate: Σ (y − μ) = 0 and Σ x (y − μ) = 0.
    let (mut s0, mut s1) = (0.0, 0.0);
    for (&x, &y) in x.iter().zip(&y) {
        let r = y - 1.0 / (1.0 + (-(b0 + b1 * x)).exp());
        s0 += r;
        s1 += r * x;
    }
    assert!(s0.abs() < 1e-8 && s1.abs() < 1e-8, "score ({s0:e}, {s1:e})");
    // The estimate is within 4 standard errors of the truth.
    assert!((b1 - 25.0).abs() < 4.0 * fit.drivers[0].std_error, "{b1}");
}

#[test]
fn iteration_limit_is_reported_not_hidden() {
    let s = swiss_binary();
    let o = LogisticOptions {
        max_iter: 1,
        ..LogisticOptions::default()
    };
    let fit = logistic_regression(&s.y, &[("Education", &s.education)], None, &o).unwrap();
    assert!(!fit.converged);
    assert_eq!(fit.iterations, 1);
    let err =
        pseudo_r2_shapley(&s.y, &[("Education", &s.education)], None, &o, &exact()).unwrap_err();
    assert!(matches!(err, Error::NoConvergence { .. }));
}

#[test]
fn sampled_shapley_agrees_with_exact_within_its_standard_error() {
    let s = swiss_binary();
    let drivers: [(&str, &[f64]); 3] = [
        ("Agriculture", &s.agriculture),
        ("Education", &s.education),
        ("Catholic", &s.catholic),
    ];
    let o = LogisticOptions::default();
    let ex = pseudo_r2_shapley(&s.y, &drivers, None, &o, &exact()).unwrap();
    let so = ShapleyOptions {
        method: ShapleyMethod::Sampled,
        permutations: 600,
        seed: 7,
    };
    let sa = pseudo_r2_shapley(&s.y, &drivers, None, &o, &so).unwrap();
    assert_eq!((sa.method, sa.permutations), (ShapleyMethod::Sampled, 600));
    assert!(sa.subsets.is_empty());
    let total: f64 = sa.drivers.iter().map(|d| d.value).sum();
    assert_close("total", total, sa.pseudo_r2, Tol::abs(1e-12));
    for (a, e) in sa.drivers.iter().zip(&ex.drivers) {
        assert!(a.std_error > 0.0);
        assert!(
            (a.value - e.value).abs() <= 4.0 * a.std_error,
            "{} vs {} (se {})",
            a.value,
            e.value,
            a.std_error
        );
    }
    // Same seed, same estimate.
    let again = pseudo_r2_shapley(&s.y, &drivers, None, &o, &so).unwrap();
    assert_eq!(again, sa);
}

#[test]
fn more_than_twelve_drivers_are_sampled_or_refused() {
    let (w, ltr, pillars) = sample_survey();
    let mut cols = pillars.clone();
    for k in 0..7 {
        cols.push(uniforms(100 + k, ltr.len()));
    }
    let names: Vec<String> = (0..13).map(|k| format!("d{k}")).collect();
    let drivers: Vec<(&str, &[f64])> = names
        .iter()
        .map(String::as_str)
        .zip(cols.iter().map(Vec::as_slice))
        .collect();
    let o = LogisticOptions::default();
    let err = nps_pseudo_r2_shapley(NpsOutcome::Promoter, &ltr, &drivers, Some(&w), &o, &exact())
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { name: "drivers", ref message } if message.contains("12"))
    );
    let auto = ShapleyOptions {
        permutations: 24,
        ..ShapleyOptions::default()
    };
    let sh =
        nps_pseudo_r2_shapley(NpsOutcome::Promoter, &ltr, &drivers, Some(&w), &o, &auto).unwrap();
    assert_eq!(sh.method, ShapleyMethod::Sampled);
    let total: f64 = sh.drivers.iter().map(|d| d.value).sum();
    assert_close("total", total, sh.pseudo_r2, Tol::abs(1e-12));
    let few = ShapleyOptions {
        permutations: 1,
        ..auto
    };
    assert!(
        nps_pseudo_r2_shapley(NpsOutcome::Promoter, &ltr, &drivers, Some(&w), &o, &few).is_err()
    );
}

#[test]
fn zero_weight_rows_do_not_change_the_fit() {
    // Rows 0–9 get weight 0; the fit equals the unweighted fit of rows 10–46.
    let s = swiss_binary();
    let w: Vec<f64> = (0..47).map(|i| if i < 10 { 0.0 } else { 1.0 }).collect();
    let weighted = fit_swiss(Some(&w));
    let tail = |c: &[f64]| c[10..].to_vec();
    let (a, e, c) = (tail(&s.agriculture), tail(&s.education), tail(&s.catholic));
    let direct = logistic_regression(
        &tail(&s.y),
        &[("Agriculture", &a), ("Education", &e), ("Catholic", &c)],
        None,
        &LogisticOptions::default(),
    )
    .unwrap();
    assert_eq!((weighted.n, direct.n), (47, 37));
    for (x, y) in all_terms(&weighted).into_iter().zip(all_terms(&direct)) {
        close("coef", x.estimate, y.estimate, 1e-10);
        close("se", x.std_error, y.std_error, 1e-10);
    }
    close("llf", weighted.log_likelihood, direct.log_likelihood, 1e-12);
    close(
        "llnull",
        weighted.null_log_likelihood,
        direct.null_log_likelihood,
        1e-12,
    );
}
