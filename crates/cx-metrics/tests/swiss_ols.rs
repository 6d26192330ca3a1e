//! R `lm(Fertility ~ ., data = swiss)` reproduced through the three entry points of the regression
//! engine: rows in memory, a covariance summary (built from a correlation matrix) and the moments
//! accumulator. Reference: `relimp_swiss.json` (R 4.2.2, printed to 17 significant digits); tolerance
//! 1e-10 relative, as the validation README sets for regression against R.

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::importance::{relative_importance, ImportanceMeasure, ImportanceOptions};
use cx_metrics::{ols, ols_from_covariance, ols_from_moments, Covariance, Moments, OlsFit};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/validation/");
const TOL: f64 = 1e-10;

fn swiss() -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(format!("{DIR}swiss.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(1)
        .map(|s| s.trim_matches('"').to_string())
        .collect();
    let mut cols = vec![Vec::new(); header.len()];
    for line in lines.filter(|l| !l.is_empty()) {
        for (j, v) in line.split(',').skip(1).enumerate() {
            cols[j].push(v.parse::<f64>().unwrap());
        }
    }
    (header, cols)
}

fn close(what: &str, got: f64, want: f64) {
    assert_close(what, got, want, Tol::rel(TOL));
}

fn check(path: &str, fit: &OlsFit, r: &Value) {
    assert_eq!(fit.n, 47);
    assert_eq!(fit.df_residual, 41);
    close(
        &format!("{path} R²"),
        fit.r_squared,
        r["r_squared"].as_f64().unwrap(),
    );
    close(
        &format!("{path} adj R²"),
        fit.adj_r_squared,
        r["adj_r_squared"].as_f64().unwrap(),
    );
    close(
        &format!("{path} F"),
        fit.f_statistic,
        r["f_statistic"].as_f64().unwrap(),
    );
    close(
        &format!("{path} sigma"),
        fit.sigma,
        r["sigma"].as_f64().unwrap(),
    );
    let coefs = r["coefficients"].as_array().unwrap();
    let cis = r["ci95"].as_array().unwrap();
    assert_eq!(fit.coefficients.len(), coefs.len());
    for ((c, want), ci) in fit.coefficients.iter().zip(coefs).zip(cis) {
        let term = want["term"].as_str().unwrap();
        assert_eq!(c.term, term);
        let at = |k: &str| format!("{path} {term} {k}");
        close(
            &at("estimate"),
            c.estimate,
            want["estimate"].as_f64().unwrap(),
        );
        close(&at("se"), c.std_error, want["std_error"].as_f64().unwrap());
        close(&at("t"), c.t, want["t"].as_f64().unwrap());
        close(&at("p"), c.p_value, want["p_value"].as_f64().unwrap());
        close(&at("ci low"), c.ci.low, ci["low"].as_f64().unwrap());
        close(&at("ci high"), c.ci.high, ci["high"].as_f64().unwrap());
        if let Some(v) = c.vif {
            close(&at("vif"), v, r["vif"][term].as_f64().unwrap());
        }
    }
    // F(5, 41) p-value of R's summary.lm: pf(19.76106, 5, 41, lower.tail = FALSE) = 5.593799e-10,
    // printed by R as "p-value: 5.594e-10"; checked to the printed digits.
    assert!(
        (fit.f_p_value - 5.594e-10).abs() < 5e-14,
        "F p {}",
        fit.f_p_value
    );
}

#[test]
fn swiss_matches_r_lm_through_all_three_entry_points() {
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}relimp_swiss.json")).unwrap())
            .unwrap();
    let (names, cols) = swiss();
    let drivers: Vec<(&str, &[f64])> = names[1..]
        .iter()
        .zip(&cols[1..])
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let mem = ols("Fertility", &cols[0], &drivers, None, 0.95).unwrap();
    check("in-memory", &mem, &r);

    let mut m = Moments::new(names.iter().cloned()).unwrap();
    let slices: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
    m.fold_columns(&slices, None).unwrap();
    let mom = ols_from_moments(&m, "Fertility", 0.95).unwrap();
    check("moments", &mom, &r);

    // A correlation matrix with sds and means, as a published summary would give them.
    let cov = m.covariance().unwrap();
    let from_corr = Covariance::from_correlation(
        cov.names.clone(),
        &cov.correlation(),
        &cov.sds(),
        cov.means.clone(),
        47,
        47.0,
        47.0,
    )
    .unwrap();
    let summary = ols_from_covariance(&from_corr, "Fertility", 0.95).unwrap();
    check("correlation", &summary, &r);

    // The paths agree with each other far more tightly than with R's printed digits.
    for (a, b) in mem.coefficients.iter().zip(&summary.coefficients) {
        assert!((a.estimate - b.estimate).abs() <= 1e-12 * a.estimate.abs());
        assert!((a.std_error - b.std_error).abs() <= 1e-12 * a.std_error);
        let (sa, sb) = (a.standardized.unwrap_or(0.0), b.standardized.unwrap_or(0.0));
        assert_close("sa", sa, sb, Tol::abs(1e-12));
    }
    assert!(
        (mem.condition_number - summary.condition_number).abs() <= 1e-10 * mem.condition_number
    );
    // Standardized slopes squared are relaimpo's "betasq".
    for c in &mem.coefficients[1..] {
        let betasq = r["importance"]["betasq"][c.term.as_str()].as_f64().unwrap();
        close(
            &format!("betasq {}", c.term),
            c.standardized.unwrap().powi(2),
            betasq,
        );
    }
    // The moments' correlation matrix feeds relative importance: its full-model R² and betasq agree
    // with this regression (drivers first, outcome last).
    let corr = cov.correlation();
    let order = [1, 2, 3, 4, 5, 0];
    let r_matrix = nalgebra::DMatrix::from_fn(6, 6, |a, b| corr[order[a] * 6 + order[b]]);
    let importance =
        relative_importance(&r_matrix, &names[1..], &ImportanceOptions::default()).unwrap();
    assert_close(
        "importance.r_squared",
        importance.r_squared,
        mem.r_squared,
        Tol::abs(1e-12),
    );
    let betasq = &importance
        .scores(ImportanceMeasure::BetaSquared)
        .unwrap()
        .raw;
    for (c, b) in mem.coefficients[1..].iter().zip(betasq) {
        assert!((c.standardized.unwrap().powi(2) - b).abs() <= 1e-12 * b);
    }
    let json = serde_json::to_string(&mem).unwrap();
    assert_eq!(serde_json::from_str::<OlsFit>(&json).unwrap(), mem);
}
