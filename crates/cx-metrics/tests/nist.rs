//! NIST StRD linear least squares: log relative error (LRE) of the in-memory OLS path against the
//! certified values, compared with the LRE that R `lm`, statsmodels and numpy reach (all recorded in
//! `nist_strd.json`, see the README beside it).

use cx_metrics::linalg::Dd;
use cx_metrics::{ols, Error};
use serde_json::Value;

const NIST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/validation/nist_strd.json"
);

/// LRE = −log10(|est − cert|/|cert|), or −log10(|est − cert|) when cert = 0; capped at 15 (the
/// definition in nist_strd.json).
fn lre(est: f64, cert: f64) -> f64 {
    if !est.is_finite() {
        return 0.0;
    }
    let err = (est - cert).abs();
    let rel = if cert == 0.0 { err } else { err / cert.abs() };
    if rel == 0.0 {
        15.0
    } else {
        (-rel.log10()).clamp(0.0, 15.0)
    }
}

fn parse(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().parse::<f64>().unwrap())
        .collect()
}

/// The driver columns of a dataset: [x, x², …, x^degree] for the polynomial ones, with each power the
/// correctly rounded value of the power of the parsed x (computed in double-double).
fn drivers(ds: &Value) -> Vec<(String, Vec<f64>)> {
    if let Some(rows) = ds.get("X") {
        let rows: Vec<Vec<f64>> = rows.as_array().unwrap().iter().map(parse).collect();
        let names = ds["columns"].as_array().unwrap();
        (0..names.len())
            .map(|j| {
                (
                    names[j].as_str().unwrap().to_string(),
                    rows.iter().map(|r| r[j]).collect(),
                )
            })
            .collect()
    } else {
        let x = parse(&ds["x"]);
        let degree = ds["degree"].as_u64().unwrap() as usize;
        (1..=degree)
            .map(|k| {
                let col = x
                    .iter()
                    .map(|&v| {
                        let mut p = Dd::from_f64(1.0);
                        for _ in 0..k {
                            p = p.mul_f64(v);
                        }
                        p.value()
                    })
                    .collect();
                (format!("x^{k}"), col)
            })
            .collect()
    }
}

struct Row {
    name: String,
    coef: f64,
    sd: f64,
    rsd: f64,
    peer_coef: f64,
    peer_sd: f64,
}

fn best_peer(lre_table: &Value, name: &str, key: &str) -> f64 {
    lre_table
        .as_object()
        .unwrap()
        .values()
        .filter_map(|tool| {
            tool.get(name)
                .and_then(|d| d.get(key))
                .and_then(Value::as_f64)
        })
        .fold(0.0, f64::max)
}

fn run() -> Vec<Row> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(NIST).unwrap()).unwrap();
    let mut out = Vec::new();
    for (name, ds) in doc["datasets"].as_object().unwrap() {
        let y = parse(&ds["y"]);
        let cols = drivers(ds);
        let refs: Vec<(&str, &[f64])> = cols
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        let cert = &ds["certified"];
        let (ccoef, csd) = (parse(&cert["coef_str"]), parse(&cert["sd_str"]));
        let crsd: f64 = cert["residual_sd_str"].as_str().unwrap().parse().unwrap();
        let (coef, sd, rsd) = match ols("y", &y, &refs, None, 0.95) {
            Ok(fit) => {
                let c = fit
                    .coefficients
                    .iter()
                    .zip(&ccoef)
                    .map(|(a, b)| lre(a.estimate, *b));
                let s = fit
                    .coefficients
                    .iter()
                    .zip(&csd)
                    .map(|(a, b)| lre(a.std_error, *b));
                (
                    c.fold(15.0, f64::min),
                    s.fold(15.0, f64::min),
                    lre(fit.sigma, crsd),
                )
            }
            Err(Error::IllConditioned { condition }) => {
                println!("{name}: refused as ill-conditioned (condition {condition:.3e})");
                (f64::NAN, f64::NAN, f64::NAN)
            }
            Err(e) => panic!("{name}: {e}"),
        };
        out.push(Row {
            name: name.clone(),
            coef,
            sd,
            rsd,
            peer_coef: best_peer(&doc["lre"], name, "min_lre_coef"),
            peer_sd: best_peer(&doc["lre"], name, "min_lre_sd"),
        });
    }
    println!("dataset    coef  (best peer)   sd  (best peer)   resid sd");
    for r in &out {
        println!(
            "{:<9} {:5.2}  ({:5.2})      {:5.2}  ({:5.2})      {:5.2}",
            r.name, r.coef, r.peer_coef, r.sd, r.peer_sd, r.rsd
        );
    }
    out
}

/// The LRE (coefficients, SDs) of the EXACT least-squares solution of the data as this test builds it
/// (strings parsed to the nearest f64, powers correctly rounded): solved in exact rational arithmetic with
/// Python's `fractions.Fraction` (normal equations, Gauss–Jordan), SDs from the exact RSS and inverse.
/// No computation on these f64 inputs can be closer to the certified values than this except by luck.
/// On two cells a peer was lucky: Norris SDs (R 14.07 > 13.92) and Wampler2 coefficients
/// (statsmodels QR 13.70 > 13.20); there the target is this ceiling instead.
const EXACT_CEILING: [(&str, f64, f64); 9] = [
    ("Norris", 14.06, 13.92),
    ("Pontius", 13.51, 13.76),
    ("Filip", 7.61, 7.63),
    ("Wampler1", 15.0, 15.0),
    ("Wampler2", 13.20, 15.0),
    ("Wampler3", 15.0, 14.46),
    ("Wampler4", 15.0, 14.47),
    ("Wampler5", 15.0, 14.46),
    ("Longley", 14.62, 14.89),
];

#[test]
fn nist_lre_meets_the_best_peer_and_the_exact_solution() {
    let rows = run();
    assert_eq!(rows.len(), 9);
    for r in &rows {
        let &(_, ceil_coef, ceil_sd) = EXACT_CEILING.iter().find(|c| c.0 == r.name).unwrap();
        // Within 0.15 digits of the exact solution of the same f64 data, everywhere.
        assert!(
            r.coef >= ceil_coef - 0.15,
            "{}: coef LRE {:.2}",
            r.name,
            r.coef
        );
        assert!(r.sd >= ceil_sd - 0.15, "{}: sd LRE {:.2}", r.name, r.sd);
        if r.name == "Filip" {
            assert!(
                r.coef >= 7.0 && r.sd >= 7.0,
                "Filip: {:.2} / {:.2}",
                r.coef,
                r.sd
            );
            continue;
        }
        // At least the best of R lm, statsmodels and numpy, unless that beats the exact solution.
        // (The ceilings are rounded to two decimals, hence the 0.01.)
        let target_coef = r.peer_coef.min(ceil_coef - 0.01);
        let target_sd = r.peer_sd.min(ceil_sd - 0.01);
        assert!(
            r.coef >= target_coef,
            "{}: coef {:.2} < {target_coef}",
            r.name,
            r.coef
        );
        assert!(
            r.sd >= target_sd,
            "{}: sd {:.2} < {target_sd}",
            r.name,
            r.sd
        );
    }
    for name in ["Wampler4", "Wampler5"] {
        let r = rows.iter().find(|r| r.name == name).unwrap();
        assert!(r.coef >= 9.0, "{name}: coef LRE {:.2}", r.coef);
    }
}
