//! Relative importance on R's `swiss` data against relaimpo 2.2.7 (R 4.2.2), from the shared fixture
//! `relimp_swiss.json`: lmg, last, first, betasq, pratt, genizi, car, shares, conditional dominance by
//! size and the all-subset R² table, to 1e-10 relative; and two published Shapley-combiner examples
//! to 1e-15 absolute.

// Scores of several measures are compared index by index.
#![allow(clippy::needless_range_loop)]

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::importance::{
    dominance_from_subsets, relative_importance, shapley_from_subsets, ImportanceMeasure,
    ImportanceOptions, ShapleyMethod,
};
use nalgebra::DMatrix;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/validation/relimp_swiss.json"
);
const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/validation/swiss.csv"
);

/// Tolerance against R (which printed 17 significant digits).
const REL_TOL: f64 = 1e-10;

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap()
}

/// The swiss columns, by name.
fn swiss() -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(DATA).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(1)
        .map(|s| s.trim_matches('"').to_owned())
        .collect();
    let mut cols = vec![Vec::new(); header.len()];
    for line in lines.filter(|l| !l.trim().is_empty()) {
        for (c, field) in line.split(',').skip(1).enumerate() {
            cols[c].push(field.parse::<f64>().unwrap());
        }
    }
    (header, cols)
}

/// Two-pass sample correlation matrix of the given columns.
fn correlation(cols: &[&Vec<f64>]) -> DMatrix<f64> {
    let k = cols.len();
    let n = cols[0].len() as f64;
    let centred: Vec<Vec<f64>> = cols
        .iter()
        .map(|c| {
            let m = c.iter().sum::<f64>() / n;
            c.iter().map(|x| x - m).collect()
        })
        .collect();
    let cross = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    DMatrix::from_fn(k, k, |i, j| {
        if i == j {
            1.0
        } else {
            cross(&centred[i], &centred[j])
                / (cross(&centred[i], &centred[i]) * cross(&centred[j], &centred[j])).sqrt()
        }
    })
}

/// Correlation of the drivers in fixture order, Fertility (the outcome) last.
fn swiss_correlation(drivers: &[String]) -> DMatrix<f64> {
    let (header, cols) = swiss();
    let col = |name: &str| &cols[header.iter().position(|h| h == name).unwrap()];
    let mut picked: Vec<&Vec<f64>> = drivers.iter().map(|d| col(d)).collect();
    picked.push(col("Fertility"));
    correlation(&picked)
}

fn drivers(fx: &Value) -> Vec<String> {
    fx["subset_bit_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Relative `REL_TOL`; absolute 1e-15 for a zero reference.
fn assert_rel(got: f64, want: f64, what: &str) {
    assert_close(
        what,
        got,
        want,
        Tol::rel(REL_TOL).near_zero(1e-15, f64::MIN_POSITIVE),
    );
}

#[test]
fn every_measure_matches_relaimpo() {
    let fx = fixture();
    let names = drivers(&fx);
    let r = swiss_correlation(&names);
    let opts = ImportanceOptions::default()
        .with_dominance(true)
        .with_all_subsets(true);
    let res = relative_importance(&r, &names, &opts).unwrap();
    assert_eq!(res.names, names);
    assert_eq!(res.lmg_method, Some(ShapleyMethod::Exact));
    assert_rel(res.r_squared, fx["r_squared"].as_f64().unwrap(), "R²");
    assert_rel(
        res.r_squared_decomposed,
        fx["r_squared"].as_f64().unwrap(),
        "decomposed R²",
    );
    for m in ImportanceMeasure::ALL {
        let scores = res.scores(m).unwrap();
        for (i, name) in names.iter().enumerate() {
            let want = fx["importance"][m.relaimpo_name()][name].as_f64().unwrap();
            assert_rel(scores.raw[i], want, &format!("{m} {name}"));
            if let Some(share) = fx["importance_share"][m.relaimpo_name()].get(name) {
                assert_rel(
                    scores.share.as_ref().unwrap()[i],
                    share.as_f64().unwrap(),
                    &format!("{m} share {name}"),
                );
            }
        }
    }
    // Standardized coefficients: b_j · sd(x_j) / sd(y), from R's lm estimates and the data.
    let (header, cols) = swiss();
    let sd = |name: &str| {
        let c = &cols[header.iter().position(|h| h == name).unwrap()];
        let m = c.iter().sum::<f64>() / c.len() as f64;
        (c.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (c.len() - 1) as f64).sqrt()
    };
    for (i, name) in names.iter().enumerate() {
        let b = fx["coefficients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["term"] == name.as_str())
            .unwrap()["estimate"]
            .as_f64()
            .unwrap();
        assert_rel(res.coefficients[i], b * sd(name) / sd("Fertility"), "beta");
    }

    let table = res.subsets.as_ref().unwrap();
    let want_table = fx["subset_r_squared_bitmask"].as_object().unwrap();
    assert_eq!(table.r_squared.len(), want_table.len());
    for (mask, v) in want_table {
        let mask: usize = mask.parse().unwrap();
        assert_rel(
            table.r_squared[mask],
            v.as_f64().unwrap(),
            &format!("R² of subset {mask}"),
        );
    }

    let dom = res.dominance.as_ref().unwrap();
    for (i, name) in names.iter().enumerate() {
        let want = fx["conditional_dominance_by_size"][name]
            .as_array()
            .unwrap();
        assert_eq!(dom.conditional_by_size[i].len(), want.len());
        for (s, w) in want.iter().enumerate() {
            assert_rel(
                dom.conditional_by_size[i][s],
                w.as_f64().unwrap(),
                &format!("conditional dominance {name} size {s}"),
            );
        }
        // General dominance = LMG.
        assert_rel(
            dom.general[i],
            fx["importance"]["lmg"][name].as_f64().unwrap(),
            "general dominance",
        );
    }
}

#[test]
fn dominance_matrices_follow_the_by_size_table() {
    // The fixture's conditional dominance table (by size):
    //   Education > Examination > Infant.Mortality > Catholic > Agriculture at size 0, but
    //   Examination falls below Agriculture, Catholic and Infant.Mortality at size 4, so only
    //   Education conditionally dominates everyone.
    let fx = fixture();
    let names = drivers(&fx);
    let r = swiss_correlation(&names);
    let res = relative_importance(
        &r,
        &names,
        &ImportanceOptions::default().with_dominance(true),
    )
    .unwrap();
    let d = res.dominance.unwrap();
    let edu = names.iter().position(|n| n == "Education").unwrap();
    let exam = names.iter().position(|n| n == "Examination").unwrap();
    let agri = names.iter().position(|n| n == "Agriculture").unwrap();
    for j in 0..names.len() {
        if j != edu {
            assert_eq!(d.conditional[edu][j], 1.0, "Education over {}", names[j]);
            assert_eq!(d.conditional[j][edu], 0.0);
        }
    }
    assert_eq!(d.conditional[exam][agri], 0.5);
    assert_eq!(d.general_pairwise[exam][agri], 1.0);
    // Complete implies conditional implies general.
    for i in 0..names.len() {
        for j in 0..names.len() {
            if d.complete[i][j] == 1.0 {
                assert_eq!(d.conditional[i][j], 1.0);
            }
            if d.conditional[i][j] == 1.0 {
                assert_eq!(d.general_pairwise[i][j], 1.0);
            }
        }
    }
}

#[test]
fn shapley_combiner_reproduces_published_examples() {
    let fx = fixture();
    for ex in fx["shapley_combiner_examples"].as_array().unwrap() {
        let map = ex["subset_r_squared_bitmask"].as_object().unwrap();
        let mut table = vec![f64::NAN; map.len()];
        for (k, v) in map {
            table[k.parse::<usize>().unwrap()] = v.as_f64().unwrap();
        }
        let got = shapley_from_subsets(&table).unwrap();
        let want: Vec<f64> = ex["shapley"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() <= 1e-15,
                "{}: got {g}, want {w}",
                ex["source"]
            );
        }
        let d = dominance_from_subsets(&table, &["a", "b", "c"]).unwrap();
        for (g, w) in d.general.iter().zip(&want) {
            assert_close("g", *g, *w, Tol::abs(1e-15));
        }
    }
}

#[test]
fn sampled_lmg_agrees_with_exact_on_swiss() {
    let fx = fixture();
    let names = drivers(&fx);
    let r = swiss_correlation(&names);
    let opts = ImportanceOptions::default()
        .with_measures(&[ImportanceMeasure::Lmg])
        .with_lmg_method(ShapleyMethod::Sampled, 20_000, 7);
    let res = relative_importance(&r, &names, &opts).unwrap();
    let lmg = res.scores(ImportanceMeasure::Lmg).unwrap();
    let se = lmg.std_error.as_ref().unwrap();
    let total: f64 = lmg.raw.iter().sum();
    assert_close(
        "total",
        total,
        fx["r_squared"].as_f64().unwrap(),
        Tol::abs(1e-12),
    );
    for (i, name) in names.iter().enumerate() {
        let want = fx["importance"]["lmg"][name].as_f64().unwrap();
        assert!(se[i] > 0.0);
        assert!((lmg.raw[i] - want).abs() <= 5.0 * se[i], "{name}");
    }
    // Same seed, same estimate.
    let again = relative_importance(&r, &names, &opts).unwrap();
    assert_eq!(again.scores(ImportanceMeasure::Lmg).unwrap().raw, lmg.raw);
}
