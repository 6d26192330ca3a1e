//! Driver analysis end to end.
//!
//! - R's `swiss` data against R 4.2.2 `lm` and relaimpo 2.2.7 (shared fixture `relimp_swiss.json`):
//!   coefficients, standard errors, t, p, 95 % intervals, R², adjusted R², F, σ, VIF, the seven
//!   importance measures, shares and conditional dominance by size, to 1e-10 relative, through all three
//!   entry points (rows, covariance summary, moments accumulator).
//! - Missing-data policies: listwise counts, raise names column and row, indicator adjusts for its
//!   covariates without ranking them, pairwise equals listwise on complete data and refuses a
//!   non-positive-definite matrix.
//! - Every warning and every error on a constructed case; integer weights equal duplicated rows; the
//!   bundled sample survey with the indicator method for `resolution`.

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::drivers::{
    driver_analysis, driver_analysis_from_covariance, driver_analysis_from_moments,
    non_numeric_column, pillar_driver_analysis, pillar_driver_analysis_from_scores, pillar_names,
    DriverAnalysis, DriverOptions, DriverWarning, MissingPolicy,
};
use cx_metrics::{
    Direction, DriverGroup, Error, ImportanceMeasure, Moments, Pillar, PillarItems, Scale,
};
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/validation/relimp_swiss.json"
);
const SWISS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/validation/swiss.csv"
);
const SAMPLE_SURVEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../python/cx_metrics/data/sample_survey.csv"
);

/// Tolerance against R, which printed 17 significant digits (shared/validation/README.md).
const REL_TOL: f64 = 1e-10;

fn close(actual: f64, expected: f64, tol: f64, what: &str) {
    assert_close(what, actual, expected, Tol::rel(tol));
}

/// A CSV with a header; the first column is skipped when `skip_first` (swiss' row names); blank = NaN.
fn read_csv(path: &str, skip_first: bool) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let skip = usize::from(skip_first);
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(skip)
        .map(|s| s.trim_matches('"').to_owned())
        .collect();
    let mut cols = vec![Vec::new(); header.len()];
    for line in lines.filter(|l| !l.trim().is_empty()) {
        for (c, field) in line.split(',').skip(skip).enumerate() {
            cols[c].push(if field.is_empty() {
                f64::NAN
            } else {
                field.parse::<f64>().unwrap_or(f64::NAN)
            });
        }
    }
    (header, cols)
}

struct Swiss {
    names: Vec<String>,
    fertility: Vec<f64>,
    drivers: Vec<Vec<f64>>,
}

impl Swiss {
    fn load() -> Self {
        let (header, cols) = read_csv(SWISS, true);
        let fx = fixture();
        let names: Vec<String> = fx["subset_bit_order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        let col = |n: &str| cols[header.iter().position(|h| h == n).unwrap()].clone();
        Self {
            drivers: names.iter().map(|n| col(n)).collect(),
            fertility: col("Fertility"),
            names,
        }
    }

    fn columns(&self) -> Vec<(&str, &[f64])> {
        self.names
            .iter()
            .zip(&self.drivers)
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect()
    }

    fn moments(&self) -> Moments {
        let mut m =
            Moments::new(self.names.iter().map(String::as_str).chain(["Fertility"])).unwrap();
        let mut slices: Vec<&[f64]> = self.drivers.iter().map(Vec::as_slice).collect();
        slices.push(&self.fertility);
        m.fold_columns(&slices, None).unwrap();
        m
    }
}

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap()
}

fn fertility() -> DriverOptions {
    DriverOptions::default().with_outcome("Fertility")
}

/// Check one analysis of swiss against every figure of the fixture.
fn check_against_r(res: &DriverAnalysis, fx: &Value, path: &str) {
    let f = |v: &Value| v.as_f64().unwrap();
    assert_eq!(res.n, fx["n"].as_u64().unwrap(), "{path}: n");
    close(res.effective_n, 47.0, 1e-15, path);
    assert_eq!(res.n_omitted, 0);
    close(res.r_squared, f(&fx["r_squared"]), REL_TOL, "r_squared");
    close(
        res.adj_r_squared,
        f(&fx["adj_r_squared"]),
        REL_TOL,
        "adj_r_squared",
    );
    close(
        res.regression.f_statistic,
        f(&fx["f_statistic"]),
        REL_TOL,
        "F",
    );
    close(res.regression.sigma, f(&fx["sigma"]), REL_TOL, "sigma");
    for (want, ci) in fx["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .zip(fx["ci95"].as_array().unwrap())
    {
        let term = want["term"].as_str().unwrap();
        let got = res.coefficient(term).unwrap();
        let what = |s: &str| format!("{path}: {term} {s}");
        close(
            got.estimate,
            f(&want["estimate"]),
            REL_TOL,
            &what("estimate"),
        );
        close(got.std_error, f(&want["std_error"]), REL_TOL, &what("se"));
        close(got.t, f(&want["t"]), REL_TOL, &what("t"));
        close(got.p_value, f(&want["p_value"]), REL_TOL, &what("p"));
        close(got.ci.low, f(&ci["low"]), REL_TOL, &what("ci low"));
        close(got.ci.high, f(&ci["high"]), REL_TOL, &what("ci high"));
    }
    for (j, name) in res.terms.iter().enumerate() {
        close(
            res.vif[j],
            f(&fx["vif"][name]),
            REL_TOL,
            &format!("{path}: vif {name}"),
        );
    }
    for m in ImportanceMeasure::ALL {
        let scores = res.scores(m).unwrap();
        for (j, name) in res.importance.names.iter().enumerate() {
            let what = format!("{path}: {m} {name}");
            close(
                scores.raw[j],
                f(&fx["importance"][m.relaimpo_name()][name]),
                REL_TOL,
                &what,
            );
            if let Some(share) = fx["importance_share"].get(m.as_str()) {
                close(
                    scores.share.as_ref().unwrap()[j],
                    f(&share[name]),
                    REL_TOL,
                    &what,
                );
            }
        }
    }
    let dom = res.dominance.as_ref().unwrap();
    for (j, name) in dom.names.iter().enumerate() {
        let want = fx["conditional_dominance_by_size"][name]
            .as_array()
            .unwrap();
        for (s, w) in want.iter().enumerate() {
            close(
                dom.conditional_by_size[j][s],
                f(w),
                REL_TOL,
                &format!("{path}: dominance {name} size {s}"),
            );
        }
    }
    // Examination (r = −0.646) and Education (r = −0.664) correlate negatively with Fertility
    // (cor(swiss) in R) and are flagged; the other three correlate positively.
    let negative: Vec<&str> = res
        .warnings
        .iter()
        .filter_map(|w| match w {
            DriverWarning::NegativeCorrelation { driver, .. } => Some(driver.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(negative, ["Examination", "Education"], "{path}");
}

#[test]
fn swiss_reproduces_r_through_all_three_entry_points() {
    let fx = fixture();
    let sw = Swiss::load();
    let rows = driver_analysis(&sw.fertility, &sw.columns(), None, &fertility()).unwrap();
    check_against_r(&rows, &fx, "rows");
    let moments = sw.moments();
    let from_moments = driver_analysis_from_moments(&moments, &sw.names, &fertility()).unwrap();
    check_against_r(&from_moments, &fx, "moments");
    let cov = moments.covariance().unwrap();
    let from_cov = driver_analysis_from_covariance(&cov, &sw.names, &fertility()).unwrap();
    check_against_r(&from_cov, &fx, "covariance");
    // A published correlation matrix with standard deviations and n is the same summary.
    let published = cx_metrics::Covariance::from_correlation(
        cov.names.clone(),
        &cov.correlation(),
        &cov.sds(),
        cov.means.clone(),
        47,
        47.0,
        47.0,
    )
    .unwrap();
    let from_corr = driver_analysis_from_covariance(&published, &sw.names, &fertility()).unwrap();
    check_against_r(&from_corr, &fx, "correlation");
    // Plain data: a JSON round trip gives the same result, bit for bit.
    let json = serde_json::to_string(&rows).unwrap();
    assert_eq!(serde_json::from_str::<DriverAnalysis>(&json).unwrap(), rows);
}

#[test]
fn listwise_drops_are_counted_exactly() {
    let sw = Swiss::load();
    let mut fert = sw.fertility.clone();
    let mut drivers = sw.drivers.clone();
    // Rows 3 (two missing values), 10, 20 and 46 lose a value: four rows dropped.
    drivers[0][3] = f64::NAN;
    drivers[4][3] = f64::NAN;
    drivers[2][10] = f64::NAN;
    fert[20] = f64::NAN;
    drivers[1][46] = f64::NAN;
    let cols: Vec<(&str, &[f64])> = sw
        .names
        .iter()
        .zip(&drivers)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let res = driver_analysis(&fert, &cols, None, &fertility()).unwrap();
    assert_eq!((res.n, res.n_omitted), (43, 4));
    // The same as analysing the 43 complete rows.
    let keep: Vec<usize> = (0..47).filter(|i| ![3, 10, 20, 46].contains(i)).collect();
    let pick = |c: &[f64]| keep.iter().map(|&i| c[i]).collect::<Vec<f64>>();
    let kept: Vec<Vec<f64>> = sw.drivers.iter().map(|c| pick(c)).collect();
    let kept_cols: Vec<(&str, &[f64])> = sw
        .names
        .iter()
        .zip(&kept)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let complete = driver_analysis(&pick(&sw.fertility), &kept_cols, None, &fertility()).unwrap();
    assert_eq!(complete.n_omitted, 0);
    assert_eq!(res.regression, complete.regression);
    assert_eq!(res.importance, complete.importance);
}

#[test]
fn raise_names_the_first_missing_column_and_row() {
    let sw = Swiss::load();
    let mut drivers = sw.drivers.clone();
    drivers[3][12] = f64::NAN; // Catholic, row 12
    drivers[1][30] = f64::NAN;
    let cols: Vec<(&str, &[f64])> = sw
        .names
        .iter()
        .zip(&drivers)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let opts = fertility().with_missing("raise".parse().unwrap());
    let err = driver_analysis(&sw.fertility, &cols, None, &opts).unwrap_err();
    match &err {
        Error::BadColumn { column, message } => {
            assert_eq!(column, "Catholic");
            assert!(message.contains("row 12"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn policies_parse_from_their_snake_case_names() {
    for p in MissingPolicy::ALL {
        assert_eq!(p.as_str().parse::<MissingPolicy>().unwrap(), p);
        assert_eq!(p.to_string(), p.as_str());
    }
    assert_eq!(MissingPolicy::default(), MissingPolicy::Listwise);
    assert!(matches!(
        "omit".parse::<MissingPolicy>(),
        Err(Error::InvalidArgument {
            name: "missing",
            ..
        })
    ));
}

/// Two-pass weighted correlation of two complete columns.
fn correlation(a: &[f64], b: &[f64], w: &[f64]) -> f64 {
    let sw: f64 = w.iter().sum();
    let ma = a.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / sw;
    let mb = b.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / sw;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for i in 0..a.len() {
        sab += w[i] * (a[i] - ma) * (b[i] - mb);
        saa += w[i] * (a[i] - ma) * (a[i] - ma);
        sbb += w[i] * (b[i] - mb) * (b[i] - mb);
    }
    sab / (saa * sbb).sqrt()
}

#[test]
fn indicator_method_adjusts_for_indicators_without_ranking_them() {
    let sw = Swiss::load();
    let mut drivers = sw.drivers.clone();
    // Catholic "not applicable" in 9 rows; Fertility missing in row 5 (dropped).
    let missing_rows = [0, 4, 7, 11, 15, 22, 29, 33, 40];
    for &i in &missing_rows {
        drivers[3][i] = f64::NAN;
    }
    let mut fert = sw.fertility.clone();
    fert[5] = f64::NAN;
    let weights: Vec<f64> = (0..47).map(|i| 0.5 + (i % 4) as f64 * 0.25).collect();
    let cols: Vec<(&str, &[f64])> = sw
        .names
        .iter()
        .zip(&drivers)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let opts = fertility().with_indicator_for(&["Catholic"]);
    let res = driver_analysis(&fert, &cols, Some(&weights), &opts).unwrap();
    assert_eq!((res.n, res.n_omitted), (46, 1));
    assert_eq!(res.terms.last().unwrap(), "Catholic_missing");
    assert_eq!(res.always, ["Catholic_missing"]);
    assert_eq!(res.importance.names, sw.names, "indicators are not ranked");
    assert!(res.coefficient("Catholic_missing").is_some());
    let filled = &res.filled[0];
    assert_eq!((filled.driver.as_str(), filled.n_missing), ("Catholic", 9));
    // Fill value: weighted mean of the observed Catholic values of the analysed rows, by hand.
    let observed: Vec<usize> = (0..47)
        .filter(|&i| i != 5 && !missing_rows.contains(&i))
        .collect();
    let sw_obs: f64 = observed.iter().map(|&i| weights[i]).sum();
    let mean = observed
        .iter()
        .map(|&i| weights[i] * sw.drivers[3][i])
        .sum::<f64>()
        / sw_obs;
    close(filled.fill_value, mean, 1e-14, "fill value");
    assert!(res.warnings.iter().any(|w| matches!(
        w,
        DriverWarning::MissingIndicator { driver, n_missing: 9, .. } if driver == "Catholic"
    )));
    // The R² the indicator explains alone, split off before ranking: its squared (point-biserial)
    // weighted correlation with the outcome, by the two-pass formula.
    let rows: Vec<usize> = (0..47).filter(|&i| i != 5).collect();
    let ind: Vec<f64> = rows
        .iter()
        .map(|i| f64::from(u8::from(missing_rows.contains(i))))
        .collect();
    let y: Vec<f64> = rows.iter().map(|&i| sw.fertility[i]).collect();
    let w: Vec<f64> = rows.iter().map(|&i| weights[i]).collect();
    close(
        res.importance.r_squared_always,
        correlation(&ind, &y, &w).powi(2),
        1e-12,
        "R² of the indicator",
    );
    // The fill constant is a reparametrisation: filling with 0 instead (same indicator) changes only
    // the indicator's coefficient, never the drivers' slopes or R².
    let mut zero_filled = drivers.clone();
    for &i in &missing_rows {
        zero_filled[3][i] = 0.0;
    }
    let mut manual: Vec<(&str, Vec<f64>)> = sw
        .names
        .iter()
        .zip(&zero_filled)
        .map(|(n, c)| (n.as_str(), rows.iter().map(|&i| c[i]).collect()))
        .collect();
    manual.push(("Catholic_missing", ind.clone()));
    let manual_cols: Vec<(&str, &[f64])> = manual.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    let fit = cx_metrics::ols("Fertility", &y, &manual_cols, Some(&w), 0.95).unwrap();
    for name in &sw.names {
        close(
            res.coefficient(name).unwrap().estimate,
            fit.coefficient(name).unwrap().estimate,
            1e-10,
            name,
        );
    }
    close(res.r_squared, fit.r_squared, 1e-12, "R²");
}

#[test]
fn pairwise_on_complete_data_equals_listwise() {
    let sw = Swiss::load();
    let weights: Vec<f64> = (0..47).map(|i| 1.0 + (i % 5) as f64 * 0.3).collect();
    // Pairwise has no rows to form a sandwich from: compare with model-based standard errors.
    let classical = fertility().with_covariance(cx_metrics::CovarianceType::Classical);
    let listwise =
        driver_analysis(&sw.fertility, &sw.columns(), Some(&weights), &classical).unwrap();
    let opts = fertility().with_missing(MissingPolicy::Pairwise);
    let pairwise = driver_analysis(&sw.fertility, &sw.columns(), Some(&weights), &opts).unwrap();
    assert_eq!((pairwise.n, pairwise.n_omitted), (47, 0));
    close(pairwise.effective_n, listwise.effective_n, 1e-14, "n_eff");
    close(pairwise.r_squared, listwise.r_squared, 1e-12, "R²");
    for (a, b) in pairwise
        .regression
        .coefficients
        .iter()
        .zip(&listwise.regression.coefficients)
    {
        close(a.estimate, b.estimate, 1e-10, &a.term);
        close(a.std_error, b.std_error, 1e-10, &a.term);
    }
    for m in ImportanceMeasure::ALL {
        for (a, b) in pairwise
            .scores(m)
            .unwrap()
            .raw
            .iter()
            .zip(&listwise.scores(m).unwrap().raw)
        {
            close(*a, *b, 1e-10, m.as_str());
        }
    }
    assert!(pairwise.warnings.iter().any(|w| matches!(
        w,
        DriverWarning::PairwiseDeletion {
            min_pair_n: 47,
            max_pair_n: 47,
            incomplete_rows: 0
        }
    )));
}

#[test]
fn pairwise_uses_each_pair_and_refuses_an_indefinite_matrix() {
    let sw = Swiss::load();
    let mut drivers = sw.drivers.clone();
    drivers[0][2] = f64::NAN;
    drivers[2][8] = f64::NAN;
    drivers[2][9] = f64::NAN;
    let cols: Vec<(&str, &[f64])> = sw
        .names
        .iter()
        .zip(&drivers)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let opts = fertility().with_missing(MissingPolicy::Pairwise);
    let res = driver_analysis(&sw.fertility, &cols, None, &opts).unwrap();
    assert_eq!((res.n, res.n_omitted), (44, 3));
    // The zero-order correlation of Education with Fertility uses the 45 rows where both are present.
    let keep: Vec<usize> = (0..47).filter(|i| ![8, 9].contains(i)).collect();
    let ed: Vec<f64> = keep.iter().map(|&i| sw.drivers[2][i]).collect();
    let fe: Vec<f64> = keep.iter().map(|&i| sw.fertility[i]).collect();
    close(
        res.correlations[2],
        correlation(&ed, &fe, &vec![1.0; 45]),
        1e-13,
        "r(Education)",
    );
    assert!(res.warnings.iter().any(|w| matches!(
        w,
        DriverWarning::PairwiseDeletion {
            min_pair_n: 44,
            max_pair_n: 47,
            incomplete_rows: 3
        }
    )));

    // a and b agree on block A, b and c on block B, a and c are opposite on block C: r_ab = r_bc = 1,
    // r_ac = −1, a matrix with a negative eigenvalue.
    let nan = f64::NAN;
    let t: Vec<f64> = (0..10)
        .map(|i| f64::from(i) * 0.7 + f64::from(i % 3))
        .collect();
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for block in 0..3 {
        for &v in &t {
            let (x, y, z) = match block {
                0 => (v, v, nan),
                1 => (nan, v, v),
                _ => (v, nan, -v),
            };
            a.push(x);
            b.push(y);
            c.push(z);
        }
    }
    let y: Vec<f64> = (0..30).map(|i| f64::from((i * 7) % 11)).collect();
    let err = driver_analysis(
        &y,
        &[("a", &a), ("b", &b), ("c", &c)],
        None,
        &DriverOptions::default().with_missing(MissingPolicy::Pairwise),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not positive definite"), "{err}");
}

/// 40 rows of a deterministic pseudo-random design (a small LCG), for the constructed cases.
fn design(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 33) as f64) / f64::from(1u32 << 31)
    };
    (0..4).map(|_| (0..n).map(|_| next()).collect()).collect()
}

fn has<F: Fn(&DriverWarning) -> bool>(res: &DriverAnalysis, f: F) -> bool {
    res.warnings.iter().any(f)
}

#[test]
fn each_warning_fires_on_a_constructed_case() {
    let d = design(40, 7);
    let (x1, x2, e) = (&d[0], &d[1], &d[2]);
    // x3 = x1 + small noise: r(x1, x3) high. VIF with two drivers is 1/(1 − r²) (closed form).
    let x3: Vec<f64> = x1.iter().zip(&d[3]).map(|(a, b)| a + 0.15 * b).collect();
    let y: Vec<f64> = (0..40).map(|i| 2.0 * x1[i] - 1.5 * x2[i] + e[i]).collect();
    let opts = DriverOptions::default().with_outcome("y");
    let res = driver_analysis(&y, &[("x1", x1), ("x3", &x3)], None, &opts).unwrap();
    let r = correlation(x1, &x3, &[1.0; 40]);
    let vif = 1.0 / (1.0 - r * r);
    assert!(vif >= 10.0, "{vif}");
    close(res.vif[0], vif, 1e-12, "VIF");
    assert!(has(
        &res,
        |w| matches!(w, DriverWarning::SevereVif { driver, .. } if driver == "x1")
    ));
    // Moderate: x4 = x1 + more noise.
    let x4: Vec<f64> = x1.iter().zip(&d[3]).map(|(a, b)| a + 0.5 * b).collect();
    let r = correlation(x1, &x4, &[1.0; 40]);
    let vif = 1.0 / (1.0 - r * r);
    assert!((4.0..10.0).contains(&vif), "{vif}");
    let res = driver_analysis(&y, &[("x1", x1), ("x4", &x4)], None, &opts).unwrap();
    assert!(has(
        &res,
        |w| matches!(w, DriverWarning::ModerateVif { driver, vif: v } if driver == "x4" && (v - vif).abs() < 1e-12 * vif)
    ));
    // Negative correlation: x2 enters with −1.5.
    let res = driver_analysis(&y, &[("x1", x1), ("x2", x2)], None, &opts).unwrap();
    let r2y = correlation(x2, &y, &[1.0; 40]);
    assert!(has(
        &res,
        |w| matches!(w, DriverWarning::NegativeCorrelation { driver, correlation } if driver == "x2" && (correlation - r2y).abs() < 1e-13)
    ));
    assert!(
        !has(&res, |w| matches!(w, DriverWarning::SmallSample { .. })),
        "40 ≥ max(30, 20)"
    );
    // Small sample: 40 rows but 5 terms need 50; and 20 rows need 30.
    let product: Vec<f64> = d[0].iter().zip(&d[3]).map(|(a, b)| a * b).collect();
    let square: Vec<f64> = d[1].iter().map(|b| (b - 0.3) * (b - 0.3)).collect();
    // Not `c` (= the noise e): y would be an exact linear combination of the drivers.
    let many: Vec<(&str, &[f64])> = vec![
        ("a", &d[0]),
        ("b", &d[1]),
        ("d", &d[3]),
        ("e", &product),
        ("f", &square),
    ];
    let res = driver_analysis(&y, &many, None, &opts).unwrap();
    assert!(has(&res, |w| *w
        == DriverWarning::SmallSample {
            n: 40,
            terms: 5,
            recommended: 50
        }));
    let res = driver_analysis(&y[..20], &[("x1", &x1[..20])], None, &opts).unwrap();
    assert!(has(&res, |w| *w
        == DriverWarning::SmallSample {
            n: 20,
            terms: 1,
            recommended: 30
        }));
    // Binary outcome: promoter (1) or not (0).
    let promoter: Vec<f64> = y.iter().map(|v| f64::from(u8::from(*v > 0.6))).collect();
    let res = driver_analysis(&promoter, &[("x1", x1), ("x2", x2)], None, &opts).unwrap();
    assert!(has(
        &res,
        |w| matches!(w, DriverWarning::BinaryOutcome { values, .. } if *values == [0.0, 1.0])
    ));
    // Pairwise deletion is reported (checked with counts in the pairwise tests).
    let res = driver_analysis(
        &y,
        &[("x1", x1), ("x2", x2)],
        None,
        &opts.clone().with_missing(MissingPolicy::Pairwise),
    )
    .unwrap();
    assert!(has(&res, |w| matches!(
        w,
        DriverWarning::PairwiseDeletion { .. }
    )));
}

#[test]
fn each_error_names_its_columns() {
    let d = design(40, 11);
    let y: Vec<f64> = (0..40).map(|i| d[0][i] + d[1][i] + d[2][i]).collect();
    let opts = DriverOptions::default().with_outcome("y");
    let constant = vec![3.0; 40];
    let err = driver_analysis(&y, &[("x1", &d[0]), ("flat", &constant)], None, &opts).unwrap_err();
    assert!(
        matches!(&err, Error::BadColumn { column, .. } if column == "flat"),
        "{err:?}"
    );
    assert!(err.to_string().contains("zero variance"), "{err}");

    let sum: Vec<f64> = (0..40).map(|i| d[0][i] + d[1][i]).collect();
    let err = driver_analysis(
        &y,
        &[("x1", &d[0]), ("x2", &d[1]), ("x1+x2", &sum)],
        None,
        &opts,
    )
    .unwrap_err();
    match &err {
        Error::Collinear { columns } => assert!(columns.contains("x1+x2"), "{columns}"),
        other => panic!("{other:?}"),
    }

    // Three drivers need five complete rows; six rows, two with a missing value, leave four.
    let mut x1 = d[0][..6].to_vec();
    x1[0] = f64::NAN;
    x1[1] = f64::NAN;
    let err = driver_analysis(
        &y[..6],
        &[("x1", &x1), ("x2", &d[1][..6]), ("x3", &d[2][..6])],
        None,
        &opts,
    )
    .unwrap_err();
    assert_eq!(err, Error::TooFewRows { rows: 4, needed: 5 });

    let err = non_numeric_column("segment", "str");
    assert!(matches!(&err, Error::BadColumn { column, .. } if column == "segment"));

    let cols: Vec<(&str, &[f64])> = vec![("x1", &d[0]), ("x2", &d[1])];
    let err = driver_analysis(&y, &cols, None, &opts.clone().with_always(&["x9"])).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownColumn { column, available } if column == "x9" && available == "x1, x2")
    );
    let group = DriverGroup::new("pair", &["x1", "zz"]);
    let err = driver_analysis(&y, &cols, None, &opts.clone().with_group(group)).unwrap_err();
    assert!(matches!(&err, Error::UnknownColumn { column, .. } if column == "zz"));
    let mut m = Moments::new(["x1", "x2", "y"]).unwrap();
    m.fold_columns(&[&d[0], &d[1], &y], None).unwrap();
    let err = driver_analysis_from_moments(&m, &["x1", "x3"], &opts).unwrap_err();
    assert!(matches!(&err, Error::UnknownColumn { column, .. } if column == "x3"));
    let err =
        driver_analysis_from_moments(&m, &["x1"], &opts.clone().with_always(&["x2"])).unwrap_err();
    assert!(matches!(&err, Error::UnknownColumn { column, .. } if column == "x2"));
}

#[test]
fn integer_weights_equal_duplicated_rows() {
    let sw = Swiss::load();
    let weights: Vec<f64> = (0..47).map(|i| f64::from(1 + (i % 3) as u8)).collect();
    let weighted =
        driver_analysis(&sw.fertility, &sw.columns(), Some(&weights), &fertility()).unwrap();
    let mut idx = Vec::new();
    for (i, w) in weights.iter().enumerate() {
        for _ in 0..(*w as usize) {
            idx.push(i);
        }
    }
    let dup = |c: &[f64]| idx.iter().map(|&i| c[i]).collect::<Vec<f64>>();
    let drivers: Vec<Vec<f64>> = sw.drivers.iter().map(|c| dup(c)).collect();
    let cols: Vec<(&str, &[f64])> = sw
        .names
        .iter()
        .zip(&drivers)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let duplicated = driver_analysis(&dup(&sw.fertility), &cols, None, &fertility()).unwrap();
    for (a, b) in weighted
        .regression
        .coefficients
        .iter()
        .zip(&duplicated.regression.coefficients)
    {
        close(a.estimate, b.estimate, 1e-10, &a.term);
    }
    close(weighted.r_squared, duplicated.r_squared, 1e-12, "R²");
    for m in ImportanceMeasure::ALL {
        let (a, b) = (weighted.scores(m).unwrap(), duplicated.scores(m).unwrap());
        for (x, y) in a.raw.iter().zip(&b.raw) {
            close(*x, *y, 1e-10, m.as_str());
        }
    }
}

#[test]
fn sample_survey_with_indicator_for_resolution() {
    let (header, cols) = read_csv(SAMPLE_SURVEY, false);
    let col = |n: &str| cols[header.iter().position(|h| h == n).unwrap()].as_slice();
    let pillars = pillar_names();
    assert_eq!(
        pillars,
        [
            "integrity",
            "resolution",
            "expectations",
            "time_and_effort",
            "personalisation",
            "empathy"
        ]
    );
    let ltr = col("ltr");
    let weights = col("weight");
    let opts = DriverOptions::default().with_indicator_for(&["resolution"]);
    let res = pillar_driver_analysis(ltr, pillars.map(col), Some(weights), &opts).unwrap();
    // Rows dropped: a missing ltr or a missing pillar other than resolution, counted from the file.
    let dropped = (0..ltr.len())
        .filter(|&i| {
            ltr[i].is_nan()
                || pillars
                    .iter()
                    .filter(|p| **p != "resolution")
                    .any(|p| col(p)[i].is_nan())
        })
        .count();
    assert_eq!(res.n_omitted, dropped);
    assert_eq!(
        res.n as usize + res.n_zero_weight as usize,
        ltr.len() - dropped
    );
    assert_eq!(res.always, ["resolution_missing"]);
    assert_eq!(res.importance.names, pillars);
    let top = res.top_driver().unwrap();
    assert!(
        top == "time_and_effort" || top == "resolution",
        "top driver {top}"
    );
    let lmg = res.scores(ImportanceMeasure::Lmg).unwrap();
    close(
        lmg.raw.iter().sum::<f64>() + res.importance.r_squared_always,
        res.r_squared,
        1e-12,
        "LMG + always = R²",
    );
    // The same analysis from pillar scores of one item per pillar (scores = the ratings).
    let scale = Scale::new(1, 10, Direction::HigherIsBetter).unwrap();
    let items = PillarItems::new(
        scale,
        Pillar::ALL
            .iter()
            .map(|p| (p.id().to_owned(), *p))
            .collect(),
        1,
    )
    .unwrap();
    let scores = items.score(&pillars.map(col)).unwrap();
    let from_scores =
        pillar_driver_analysis_from_scores(ltr, &scores, Some(weights), &opts).unwrap();
    assert_eq!(from_scores, res);
}

#[test]
fn sample_survey_listwise_matches_the_documented_fit() {
    // python/cx_metrics/data/README.md, "OLS of `ltr` on the six pillars, 919 complete rows"
    // (unweighted, printed to 3 decimals): time and effort 0.335, resolution 0.292, integrity 0.215,
    // expectations 0.182, empathy 0.060, personalisation −0.006; R² 0.635.
    let (header, cols) = read_csv(SAMPLE_SURVEY, false);
    let col = |n: &str| cols[header.iter().position(|h| h == n).unwrap()].as_slice();
    let documented = [
        ("integrity", 0.215),
        ("resolution", 0.292),
        ("expectations", 0.182),
        ("time_and_effort", 0.335),
        ("personalisation", -0.006),
        ("empathy", 0.060),
    ];
    let drivers: Vec<(&str, &[f64])> = documented.iter().map(|(p, _)| (*p, col(p))).collect();
    let res = driver_analysis(col("ltr"), &drivers, None, &DriverOptions::default()).unwrap();
    assert_eq!((res.n, res.n_omitted), (919, 2000 - 919));
    for (p, b) in documented {
        close(res.coefficient(p).unwrap().estimate, b, 0.0005 / b.abs(), p);
    }
    close(res.r_squared, 0.635, 0.0005 / 0.635, "R²");
}

#[test]
fn sample_survey_partitions_merged_equal_the_rows_in_memory() {
    let (header, cols) = read_csv(SAMPLE_SURVEY, false);
    let col = |n: &str| cols[header.iter().position(|h| h == n).unwrap()].as_slice();
    let (ltr, weights) = (col("ltr"), col("weight"));
    let pillars = pillar_names();
    // Model-based standard errors: the moments hold no per-row residuals for a sandwich (the rows'
    // default with weights is HC1).
    let rows = pillar_driver_analysis(
        ltr,
        pillars.map(col),
        Some(weights),
        &DriverOptions::default().with_covariance(cx_metrics::CovarianceType::Classical),
    )
    .unwrap();
    // Complete rows, folded in two partitions (odd and even rows) and merged.
    let complete: Vec<usize> = (0..ltr.len())
        .filter(|&i| !ltr[i].is_nan() && pillars.iter().all(|p| !col(p)[i].is_nan()))
        .collect();
    let names = pillars.iter().copied().chain(["ltr"]);
    let mut parts = [
        Moments::new(names.clone()).unwrap(),
        Moments::new(names).unwrap(),
    ];
    for (k, part) in parts.iter_mut().enumerate() {
        let idx: Vec<usize> = complete.iter().copied().filter(|i| i % 2 == k).collect();
        let pick = |c: &[f64]| idx.iter().map(|&i| c[i]).collect::<Vec<f64>>();
        let mut data: Vec<Vec<f64>> = pillars.iter().map(|p| pick(col(p))).collect();
        data.push(pick(ltr));
        let slices: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
        part.fold_columns(&slices, Some(&pick(weights))).unwrap();
    }
    let [mut merged, other] = parts;
    cx_metrics::Merge::merge(&mut merged, &other).unwrap();
    let summary =
        driver_analysis_from_moments(&merged, &pillars, &DriverOptions::default()).unwrap();
    assert_eq!(summary.n, rows.n);
    close(summary.effective_n, rows.effective_n, 1e-12, "n_eff");
    for (a, b) in summary
        .regression
        .coefficients
        .iter()
        .zip(&rows.regression.coefficients)
    {
        close(a.estimate, b.estimate, 1e-10, &a.term);
        close(a.std_error, b.std_error, 1e-10, &a.term);
    }
    for m in ImportanceMeasure::ALL {
        for (a, b) in summary
            .scores(m)
            .unwrap()
            .raw
            .iter()
            .zip(&rows.scores(m).unwrap().raw)
        {
            close(*a, *b, 1e-10, m.as_str());
        }
    }
}

#[test]
fn always_and_groups_on_swiss_match_the_r_subset_table() {
    // Subset R² from relaimpo's table in the fixture (bits: Agriculture 1, Examination 2,
    // Education 4, Catholic 8, Infant.Mortality 16).
    let fx = fixture();
    let v = |mask: u32| {
        fx["subset_r_squared_bitmask"][mask.to_string()]
            .as_f64()
            .unwrap()
    };
    let sw = Swiss::load();

    let opts = fertility().with_always(&["Catholic"]);
    let res = driver_analysis(&sw.fertility, &sw.columns(), None, &opts).unwrap();
    assert_eq!(res.always, ["Catholic"]);
    assert_eq!(
        res.importance.names,
        [
            "Agriculture",
            "Examination",
            "Education",
            "Infant.Mortality"
        ]
    );
    close(
        res.importance.r_squared_always,
        v(8),
        REL_TOL,
        "R²(Catholic)",
    );
    let first = &res.scores(ImportanceMeasure::First).unwrap().raw;
    let last = &res.scores(ImportanceMeasure::Last).unwrap().raw;
    for (j, bit) in [1u32, 2, 4, 16].into_iter().enumerate() {
        close(first[j], v(bit | 8) - v(8), REL_TOL, "first given Catholic");
        close(last[j], v(31) - v(31 & !bit), REL_TOL, "last");
    }
    let lmg: f64 = res.scores(ImportanceMeasure::Lmg).unwrap().raw.iter().sum();
    close(lmg, v(31) - v(8), REL_TOL, "LMG sums to R² beyond always");

    let group = DriverGroup::new("schooling", &["Examination", "Education"]);
    let res = driver_analysis(
        &sw.fertility,
        &sw.columns(),
        None,
        &fertility().with_group(group),
    )
    .unwrap();
    assert_eq!(
        res.importance.names,
        ["Agriculture", "schooling", "Catholic", "Infant.Mortality"]
    );
    assert!(
        res.scores(ImportanceMeasure::Johnson).is_none(),
        "per-driver measures need no groups"
    );
    let first = &res.scores(ImportanceMeasure::First).unwrap().raw;
    let last = &res.scores(ImportanceMeasure::Last).unwrap().raw;
    close(first[1], v(6), REL_TOL, "first of the group");
    close(last[1], v(31) - v(25), REL_TOL, "last of the group");
    assert_eq!(res.top_driver(), Some("schooling"));
    // The regression table still has every driver.
    assert_eq!(res.regression.coefficients.len(), 6);
}
