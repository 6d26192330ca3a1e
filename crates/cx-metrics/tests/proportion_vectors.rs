//! Reproduces every figure of `proportion_vectors.json` (Newcombe 1998a/b tables, recomputed with
//! scipy): single-proportion intervals by four methods, Newcombe hybrid differences, and a CSAT 5-point
//! and a CES 7-point example.
//!
//! Tolerance: relative 1e-12 (all agree to better than 1e-13), or absolute 1e-12 where the reference value is 0.

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::csat::{CsatScale, CsatTally, Satisfied};
use cx_metrics::intervals::{newcombe_difference, proportion_ci, ProportionMethod};
use cx_metrics::{Ces2Tally, NanPolicy, ProportionMethod as Method};
use serde_json::Value;

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/validation/proportion_vectors.json"
);

fn vectors() -> Value {
    let text = std::fs::read_to_string(FILE).expect("proportion_vectors.json is readable");
    serde_json::from_str(&text).expect("proportion_vectors.json is valid JSON")
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn pair(v: &Value) -> (f64, f64) {
    (num(&v[0]), num(&v[1]))
}

/// Relative 1e-12; absolute 1e-12 for a zero reference.
fn close(got: f64, want: f64, what: &str) {
    assert_close(
        what,
        got,
        want,
        Tol::rel(1e-12).near_zero(1e-12, f64::MIN_POSITIVE),
    );
}

/// Parse "x/n" into counts.
fn counts(key: &str) -> (f64, f64) {
    let (x, n) = key.split_once('/').expect("x/n");
    (x.parse().expect("x"), n.parse().expect("n"))
}

/// Expand counts per point (point 1 first) into one row per answer.
fn rows(counts: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, c) in counts.as_array().expect("counts").iter().enumerate() {
        let c = c.as_u64().expect("a count");
        out.extend(std::iter::repeat_n(i as u8 + 1, c as usize));
    }
    out
}

#[test]
fn single_proportion_intervals() {
    let v = vectors();
    let single = v["single"].as_object().expect("single");
    assert_eq!(single.len(), 4);
    for (key, methods) in single {
        let (x, n) = counts(key);
        for (name, method) in [
            ("wilson", Method::Wilson),
            ("agresti_coull_clipped", Method::AgrestiCoull),
            ("jeffreys", Method::Jeffreys),
            ("clopper_pearson", Method::ClopperPearson),
        ] {
            let (lo, hi) = pair(&methods[name]);
            let ci = proportion_ci(x, n, 0.95, method).unwrap();
            close(ci.low, lo, &format!("{key} {name} low"));
            close(ci.high, hi, &format!("{key} {name} high"));
            assert_eq!(ci.confidence_level, 0.95);
            // Only Agresti–Coull is ever clipped, and it is flagged exactly when a bound moved.
            let ac_clips = method == Method::AgrestiCoull && (key == "0/20" || key == "1/29");
            assert_eq!(ci.clipped, ac_clips, "{key} {name} clipped flag");
        }
    }
}

#[test]
fn newcombe_hybrid_differences() {
    let v = vectors();
    let diffs = v["difference_newcombe"].as_object().expect("differences");
    assert_eq!(diffs.len(), 2);
    for (key, bounds) in diffs {
        let (a, b) = key.split_once('-').expect("a-b");
        let ((x1, n1), (x2, n2)) = (counts(a), counts(b));
        let (lo, hi) = pair(bounds);
        let ci = newcombe_difference(x1, n1, x2, n2, 0.95).unwrap();
        close(ci.low, lo, &format!("{key} low"));
        close(ci.high, hi, &format!("{key} high"));
    }
}

#[test]
fn csat_five_point_example() {
    let v = vectors();
    let c = &v["csat_5pt"];
    let answers = rows(&c["counts_1_to_5"]);
    let mut t = CsatTally::new(CsatScale::new(5).unwrap());
    t.fold(&answers, None, NanPolicy::Omit).unwrap();
    let r = t.result(Satisfied::TopTwoBox).unwrap();
    assert_eq!(r.n, 100);
    assert_eq!(r.effective_n, 100.0);
    assert_eq!(r.bottom_points, (1, 2));
    close(r.share_satisfied, num(&c["top2"]), "top2");
    let (lo, hi) = pair(&c["top2_wilson"]);
    let ci = r.ci(0.95, ProportionMethod::Wilson).unwrap();
    close(ci.low, lo, "top2 Wilson low");
    close(ci.high, hi, "top2 Wilson high");
    close(r.mean, num(&c["mean"]), "mean");
    close(r.sd, num(&c["sd"]), "sd");
    let (lo, hi) = pair(&c["mean_t_ci"]);
    let ci = r.mean_ci(0.95).unwrap();
    close(ci.low, lo, "mean t low");
    close(ci.high, hi, "mean t high");
    assert!(!ci.clipped);
    close(r.share_bottom, num(&c["bottom2"]), "bottom2");
    close(r.net, num(&c["net"]), "net");
    close(r.mean_0_100, num(&c["rescaled_0_100"]), "rescaled 0-100");
    let ci100 = r.mean_0_100_ci(0.95).unwrap();
    close(ci100.low, (lo - 1.0) / 4.0 * 100.0, "mean 0-100 t low");
    close(ci100.high, (hi - 1.0) / 4.0 * 100.0, "mean 0-100 t high");
    // The same answers as AtLeast(4) give the same figures.
    let r4 = t.result(Satisfied::AtLeast(4)).unwrap();
    assert_eq!(
        (r4.share_satisfied, r4.share_bottom),
        (r.share_satisfied, r.share_bottom)
    );
}

#[test]
fn ces2_seven_point_example() {
    let v = vectors();
    let c = &v["ces2_7pt"];
    let answers = rows(&c["counts_1_to_7"]);
    let mut t = Ces2Tally::new();
    t.fold(&answers, None, NanPolicy::Omit).unwrap();
    let r = t.result();
    assert_eq!(r.n, 100);
    close(r.mean, num(&c["mean"]), "mean");
    close(r.share_agree, num(&c["agree_5_7"]), "agree 5-7");
    close(r.share_disagree, num(&c["disagree_1_3"]), "disagree 1-3");
    close(r.net, num(&c["net"]), "net");
    // Neutral is the rest: 10 of 100 answered 4.
    close(r.share_neutral, 0.1, "neutral 4");
}
