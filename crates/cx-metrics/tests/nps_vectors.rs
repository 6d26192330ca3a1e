//! Every figure of `shared/validation/nps_vectors.json` (published formulas: Rocks 2016; Sauro &
//! Lewis; Tango 1998; Kish 1965; computed with scipy and cross-checked by two implementations).
//!
//! Tolerances (the fixture's README): closed forms 1e-12 relative, Tango bounds 1e-9 relative,
//! Dirichlet bounds 1e-6 relative; where the reference value is near zero (|x| < 1e-6) an absolute
//! 1e-12 instead. Counts and sample sizes exactly.

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::nps::{
    compare, sample_size, sample_size_two_groups, AnticipatedVariance, NpsMethod, NpsTally,
    DEFAULT_PRIOR,
};
use cx_metrics::{Interval, NanPolicy};
use serde_json::Value;

const CLOSED: f64 = 1e-12;
const TANGO: f64 = 1e-9;
const DIRICHLET: f64 = 1e-6;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/validation/nps_vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("nps_vectors.json is readable");
    serde_json::from_str(&text).expect("nps_vectors.json is valid JSON")
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

/// Relative `rel`; absolute 1e-12 for a reference below 1e-6 in magnitude.
fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert_close(what, got, want, Tol::rel(rel).near_zero(1e-12, 1e-6));
}

fn pair(what: &str, got: Interval, want: &Value, rel: f64) {
    close(&format!("{what} low"), got.low, num(&want[0]), rel);
    close(&format!("{what} high"), got.high, num(&want[1]), rel);
}

fn counts(v: &Value) -> [u64; 3] {
    let c: Vec<u64> = v
        .as_array()
        .expect("counts")
        .iter()
        .map(|x| x.as_u64().expect("a count"))
        .collect();
    [c[0], c[1], c[2]]
}

#[test]
fn single_sample_cases() {
    let all = vectors();
    let mut seen = 0;
    for name in ["N1", "N2", "N3", "E1", "E2", "E3", "E4", "E5"] {
        let case = &all[name];
        let [d, o, p] = counts(&case["counts_detractor_passive_promoter"]);
        let r = NpsTally::from_counts(d, o, p).result();
        assert_eq!(r.n, case["n"].as_u64().unwrap(), "{name} n");
        close(&format!("{name} nps"), r.score, num(&case["nps"]), CLOSED);
        close(
            &format!("{name} V"),
            r.variance,
            num(&case["variance"]),
            CLOSED,
        );
        close(&format!("{name} se"), r.std_error, num(&case["se"]), CLOSED);

        let wald = r.ci_unclipped(0.95, NpsMethod::Wald).unwrap();
        pair(&format!("{name} wald"), wald, &case["wald"], CLOSED);
        assert_eq!(r.ci(0.95, NpsMethod::Wald).unwrap(), wald.clip(-1.0, 1.0));

        let adj = &case["adjusted_wald"];
        let e = r.normal_estimate(NpsMethod::AdjustedWald).unwrap();
        close(
            &format!("{name} adj centre"),
            e.centre,
            num(&adj["centre"]),
            CLOSED,
        );
        close(
            &format!("{name} adj se"),
            e.std_error,
            num(&adj["se"]),
            CLOSED,
        );
        let raw = r.ci_unclipped(0.95, NpsMethod::AdjustedWald).unwrap();
        pair(&format!("{name} adj"), raw, &adj["ci_unclipped"], CLOSED);
        let clipped = r.ci(0.95, NpsMethod::AdjustedWald).unwrap();
        assert_eq!(clipped.low, raw.low.max(-1.0));
        assert_eq!(clipped.high, raw.high.min(1.0));
        assert_eq!(clipped.clipped, raw.low < -1.0 || raw.high > 1.0, "{name}");

        let tango = r.ci(0.95, NpsMethod::Tango).unwrap();
        pair(&format!("{name} tango"), tango, &case["tango"], TANGO);

        if let Some(dir) = case.get("dirichlet_1_1_1") {
            let post = r.dirichlet_posterior(DEFAULT_PRIOR).unwrap();
            close(
                &format!("{name} dir mean"),
                post.centre,
                num(&dir["mean"]),
                CLOSED,
            );
            close(
                &format!("{name} dir sd"),
                post.std_error,
                num(&dir["sd"]),
                CLOSED,
            );
            let ci = r
                .ci(
                    0.95,
                    NpsMethod::Dirichlet {
                        prior: DEFAULT_PRIOR,
                    },
                )
                .unwrap();
            pair(&format!("{name} dir"), ci, &dir["equal_tailed"], DIRICHLET);
        }
        seen += 1;
    }
    assert_eq!(seen, 8);
}

#[test]
fn e1_adjusted_wald_is_clipped_and_flagged() {
    let r = NpsTally::from_counts(0, 0, 10).result();
    let ci = r.ci(0.95, NpsMethod::AdjustedWald).unwrap();
    assert_eq!(ci.high, 1.0);
    assert!(ci.clipped);
    assert!(!r.ci(0.95, NpsMethod::Tango).unwrap().clipped);
}

#[test]
fn two_independent_groups() {
    let all = vectors();
    let t1 = &all["T1"];
    let [d, o, p] = counts(&t1["a"]);
    let a = NpsTally::from_counts(d, o, p).result();
    let [d, o, p] = counts(&t1["b"]);
    let b = NpsTally::from_counts(d, o, p).result();
    for (key, method) in [
        ("wald", NpsMethod::Wald),
        ("adjusted_wald", NpsMethod::AdjustedWald),
    ] {
        let want = &t1[key];
        let c = compare(&a, &b, method).unwrap();
        // The fixture's "delta" is the centre of the method's interval (the adjusted centres'
        // difference under adjusted Wald); the reported difference is the observed one, 0.5 − 0.2
        // − (0.3 − 0.3) = 0.3, under every method, and z tests it.
        close(&format!("T1 {key} difference"), c.difference, 0.3, CLOSED);
        close(
            &format!("T1 {key} centre"),
            c.interval_centre,
            num(&want["delta"]),
            CLOSED,
        );
        close(
            &format!("T1 {key} se"),
            c.std_error,
            num(&want["se"]),
            CLOSED,
        );
        // z = 0.3 / se by hand; p = 2(1 − Φ(|z|)) from Python's math.erfc(|z|/√2) (scipy's
        // 2·norm.sf(z) agrees to 1e-15). Under Wald these are the fixture's z and p.
        let (z, p) = match method {
            NpsMethod::Wald => (num(&want["z"]), num(&want["p"])),
            _ => (2.771_973_488_061_722, 0.005_571_757_431_681_807),
        };
        close(&format!("T1 {key} z"), c.z, z, CLOSED);
        // The normal tail comes from statrs' erfc, whose relative error near z = 2.7 is about
        // 4e-11 (Python's math.erfc gives the fixture's value to 1e-15): 1e-10 here.
        close(&format!("T1 {key} p"), c.p_value, p, 1e-10);
        pair(
            &format!("T1 {key} ci"),
            c.ci(0.95).unwrap(),
            &want["ci"],
            CLOSED,
        );
    }
}

/// Two groups that both score +90 (n = 20 and n = 200) do not differ: the adjusted-Wald
/// comparison once reported the difference of its shrunken centres, −10.4 points.
#[test]
fn equal_scores_of_different_sizes_do_not_differ() {
    let a = NpsTally::from_counts(0, 2, 18).result();
    let b = NpsTally::from_counts(0, 20, 180).result();
    for method in [NpsMethod::AdjustedWald, NpsMethod::Wald] {
        let c = compare(&a, &b, method).unwrap();
        assert_eq!((c.difference, c.z, c.p_value), (0.0, 0.0, 1.0), "{method}");
    }
    let c = compare(&a, &b, NpsMethod::AdjustedWald).unwrap();
    // By hand: centres 18/23 and 180/203; adjusted shares (18.75/23, 0.75/23) and
    // (180.75/203, 0.75/203), Ṽ = p̃_P + p̃_D − (p̃_P − p̃_D)², SE² = Ṽ_a/23 + Ṽ_b/203.
    let centre = 18.0 / 23.0 - 180.0 / 203.0;
    let v = |p: f64, d: f64| p + d - (p - d) * (p - d);
    let va = v(18.75 / 23.0, 0.75 / 23.0);
    let vb = v(180.75 / 203.0, 0.75 / 203.0);
    let se = (va / 23.0 + vb / 203.0).sqrt();
    close("centre", c.interval_centre, centre, CLOSED);
    close("se", c.std_error, se, CLOSED);
    let ci = c.ci(0.95).unwrap();
    let z = 1.959_963_984_540_054;
    close("low", ci.low, centre - z * se, CLOSED);
    close("high", ci.high, centre + z * se, CLOSED);
}

#[test]
fn sample_sizes() {
    let all = vectors();
    let s1 = all["S1_sample_size_worst_case_95"].as_object().unwrap();
    assert_eq!(s1.len(), 3);
    for (margin, want) in s1 {
        let m: f64 = margin.parse().unwrap();
        for (key, method) in [
            ("wald", NpsMethod::Wald),
            ("adjusted_wald", NpsMethod::AdjustedWald),
        ] {
            let n = sample_size(m, 0.95, method, AnticipatedVariance::WorstCase).unwrap();
            assert_eq!(n, want[key].as_u64().unwrap(), "S1 m={m} {key}");
        }
    }
    let s2 = all["S2_two_group_n_alpha05_power80"].as_object().unwrap();
    assert_eq!(s2.len(), 3);
    for (key, want) in s2 {
        // Keys look like "V=0.6,delta=0.05".
        let mut parts = key.split(',').map(|kv| kv.split('=').nth(1).unwrap());
        let v: f64 = parts.next().unwrap().parse().unwrap();
        let delta: f64 = parts.next().unwrap().parse().unwrap();
        let n = sample_size_two_groups(delta, 0.05, 0.8, AnticipatedVariance::Variance(v)).unwrap();
        assert_eq!(n, want.as_u64().unwrap(), "S2 {key}");
    }
}

#[test]
fn weighted_example() {
    let all = vectors();
    let w1 = &all["W1_weighted"];
    // The fixture gives per-respondent scores +1/0/−1: recode to ratings 10/8/0.
    let ratings: Vec<u8> = w1["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| match num(s) as i64 {
            1 => 10,
            0 => 8,
            _ => 0,
        })
        .collect();
    let weights: Vec<f64> = w1["weights"].as_array().unwrap().iter().map(num).collect();
    let mut t = NpsTally::new();
    t.fold(&ratings, Some(&weights), NanPolicy::Raise).unwrap();
    let r = t.result();
    assert!(r.weighted);
    close("W1 nps", r.score, num(&w1["nps"]), CLOSED);
    close("W1 promoters", r.promoters, num(&w1["promoters"]), CLOSED);
    close(
        "W1 detractors",
        r.detractors,
        num(&w1["detractors"]),
        CLOSED,
    );
    close("W1 n_eff", r.effective_n, num(&w1["n_eff"]), CLOSED);
    close("W1 deff", r.deff, num(&w1["deff"]), CLOSED);
    close(
        "W1 se_lin",
        r.se_linearised,
        num(&w1["se_linearised"]),
        CLOSED,
    );
    close(
        "W1 se_lin_ss",
        r.se_linearised_small_sample.unwrap(),
        num(&w1["se_linearised_small_sample"]),
        CLOSED,
    );
    close("W1 se_kish", r.se_kish(), num(&w1["se_kish"]), CLOSED);
    // Intervals use n_eff: Wald is score ± z·se_kish.
    let ci = r.ci_unclipped(0.95, NpsMethod::Wald).unwrap();
    let z = 1.959_963_984_540_054;
    close(
        "W1 wald low",
        ci.low,
        r.score - z * num(&w1["se_kish"]),
        CLOSED,
    );
    assert!(r.ci(0.95, NpsMethod::Tango).is_ok());
}
