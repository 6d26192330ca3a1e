//! Golden files of every state kind and format version (tests/golden/, see its README): each is read
//! back and must give exactly the state and figures it was written from. Files are never rewritten
//! once released: every later version of the crate must still read them.

mod common;

use common::tol::{assert_close, Tol};

use std::fmt::Debug;
use std::path::PathBuf;

use common::states;
use cx_metrics::{Accumulator, Example, NanPolicy, NpsTally, Satisfied};

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
        .join(name)
}

/// The highest kind code of the releases before the state header (the kinds with `.v0.json` files).
const LAST_KIND_BEFORE_HEADER: u16 = 7;

/// Read the bytes, JSON and (bare, pre-envelope) legacy JSON of `state`'s kind, of every format
/// version, and check each restores `state` exactly; the writer of this release writes the files of
/// the kind's current version ([`Accumulator::VERSION`]) byte for byte.
fn check<S: Accumulator + Example + Debug>(state: &S) {
    let kind = S::KIND.name();
    // What the files of a version restore: the sample, less what that version did not keep.
    let as_of = |version: u16| {
        if version == S::VERSION {
            state.clone()
        } else {
            S::example_as_of(version)
        }
    };
    let v1 = as_of(1);
    let bytes = std::fs::read(golden(&format!("{kind}.v1.bin"))).unwrap();
    assert_eq!(S::from_bytes(&bytes).unwrap(), v1, "{kind}.v1.bin");
    let json = std::fs::read_to_string(golden(&format!("{kind}.v1.json"))).unwrap();
    assert_eq!(S::from_json(json.trim_end()).unwrap(), v1, "{kind}.v1.json");
    // Only the kinds that existed before the state header have bare (v0) files.
    if S::KIND.code() <= LAST_KIND_BEFORE_HEADER {
        let bare = std::fs::read_to_string(golden(&format!("{kind}.v0.json"))).unwrap();
        assert_eq!(
            &S::from_json(bare.trim_end()).unwrap(),
            state,
            "{kind}.v0.json"
        );
    }
    for version in 2..=S::VERSION {
        let name = format!("{kind}.v{version}.bin");
        let b = std::fs::read(golden(&name)).unwrap();
        assert_eq!(S::from_bytes(&b).unwrap(), as_of(version), "{name}");
        let name = format!("{kind}.v{version}.json");
        let j = std::fs::read_to_string(golden(&name)).unwrap();
        assert_eq!(
            S::from_json(j.trim_end()).unwrap(),
            as_of(version),
            "{name}"
        );
    }
    let current = S::VERSION;
    let b = std::fs::read(golden(&format!("{kind}.v{current}.bin"))).unwrap();
    assert_eq!(state.to_bytes(), b, "{kind}: the byte form changed");
    let j = std::fs::read_to_string(golden(&format!("{kind}.v{current}.json"))).unwrap();
    assert_eq!(
        state.to_json(),
        j.trim_end(),
        "{kind}: the JSON form changed"
    );
}

/// Every registered kind reads its golden files back exactly.
macro_rules! golden_kind {
    ($name:ident, $ty:ty, $sample:expr) => {
        #[test]
        fn $name() {
            check::<$ty>(&$sample);
        }
    };
}
mod every_kind {
    use super::*;
    common::states::for_each_state!(golden_kind);
}

#[test]
fn scale_tally_golden_files_restore_exactly() {
    let t = states::scale_tally();
    assert_eq!(t.rows(), &[1, 0, 1, 2, 1]);
    assert_eq!(t.weights().as_ref(), &[0.25, 0.0, 1.0, 2.5, 1.5]);
    assert_eq!(t.weights_sq().unwrap(), &[0.0625, 0.0, 1.0, 4.25, 2.25]);
    assert_eq!(t.weight_exponent(), 0);
    assert_eq!((t.n(), t.n_omitted()), (5, 1));
}

#[test]
fn nps_tally_golden_files_restore_exactly() {
    let t = states::nps_tally();
    let r = t.finish(&()).unwrap();
    assert_eq!((r.n, r.n_omitted), (9, 1));
    assert_eq!((r.n_promoters, r.n_passives, r.n_detractors), (4, 2, 3));
    assert_eq!(r.sum_weights, 11.25);
    // Promoters weigh 1.75 + 4.25, detractors 0.25 + 1.0 + 1.5, of 11.25.
    assert_close("r.score", r.score, 3.25 / 11.25, Tol::abs(1e-15));
}

#[test]
fn csat_tally_golden_files_restore_exactly() {
    let t = states::csat_tally();
    let r = t.finish(&Satisfied::TopBox).unwrap();
    assert_eq!((r.n, r.n_omitted, r.sum_weights), (6, 1, 6.25));
    assert_close(
        "r.share_satisfied",
        r.share_satisfied,
        1.75 / 6.25,
        Tol::abs(1e-15),
    );
}

#[test]
fn ces_tally_golden_files_restore_exactly() {
    let t2 = states::ces2_tally();
    assert_eq!(t2.tally().rows(), &[1, 0, 1, 1, 2, 1, 2]);
    assert_close(
        "t2.result().share_agree",
        t2.result().share_agree,
        5.0 / 8.0,
        Tol::abs(1e-15),
    );
    let t1 = states::ces1_tally();
    assert_eq!(t1.tally().weights().as_ref(), &[0.5, 2.0, 1.0, 2.0, 0.25]);
    assert_eq!(t1.tally().n_omitted(), 1);
}

#[test]
fn paired_tally_golden_files_restore_exactly() {
    let t = states::paired_tally();
    assert_eq!(t.rows(), &[[1, 0, 0], [1, 0, 1], [1, 0, 1]]);
    assert_eq!(
        t.weights(),
        [[2.0, 0.0, 0.0], [0.75, 0.0, 1.5], [0.5, 0.0, 1.0]]
    );
    assert_eq!((t.n(), t.n_omitted()), (5, 1));
}

#[test]
fn moments_golden_files_restore_exactly() {
    let m = states::moments();
    assert_eq!((m.n(), m.n_zero_weight()), (4, 1));
    assert_eq!((m.sum_weights(), m.sum_weights_sq()), (4.5, 6.25));
    // x̄₁ = (1 + 2·2 + 4 + 0.5·3) / 4.5; C₁₁ = Σw(x₁ − x̄₁)² = 5 (by hand, in thirds).
    assert_close("m.means()[0]", m.means()[0], 10.5 / 4.5, Tol::abs(1e-15));
    assert_close("m.comoments()[0]", m.comoments()[0], 5.0, Tol::abs(1e-14));
    assert_close("m.comoments()[8]", m.comoments()[8], 11.0, Tol::abs(1e-14));
}

/// An NPS tally of weights near 10^300 (a non-zero weight exponent): the sample's ratings with
/// its weights times 2^1000.
fn nps_tally_of_huge_weights() -> NpsTally {
    let mut t = NpsTally::new();
    let w = [1.25, 0.75, 1.0, 2.0, 0.5, 1.5, 1.0, 0.25, 1.0, 3.0].map(|w: f64| w * 2f64.powi(1000));
    t.fold(
        &[10.0, 9.0, 9.0, 8.0, 7.0, 6.0, 3.0, 0.0, f64::NAN, 10.0],
        Some(&w),
        NanPolicy::Omit,
    )
    .unwrap();
    t
}

/// Version 2 stores the weight exponent: a tally of weights near 10^300 restores exactly, with
/// the figures of the same weights near 1 (bit for bit: they differ by a power of two).
#[test]
fn a_tally_with_a_weight_exponent_restores_exactly() {
    let t = nps_tally_of_huge_weights();
    assert_eq!(t.tally().weight_exponent(), 1001);
    let b = std::fs::read(golden("nps_tally.huge_weights.v2.bin")).unwrap();
    assert_eq!(NpsTally::from_bytes(&b).unwrap(), t);
    assert_eq!(t.to_bytes(), b);
    let j = std::fs::read_to_string(golden("nps_tally.huge_weights.v2.json")).unwrap();
    assert_eq!(NpsTally::from_json(j.trim_end()).unwrap(), t);
    let (r, base) = (t.result(), states::nps_tally().result());
    assert_eq!(
        (r.score, r.std_error, r.effective_n),
        (base.score, base.std_error, base.effective_n)
    );
    assert_eq!(r.sum_weights, 11.25 * 2f64.powi(1000));
}

/// Writes the files of each kind's current format version that do not exist yet. Run once when a
/// version is introduced (`cargo test -p cx-metrics --test state_golden -- --ignored`); a file that
/// exists is never rewritten.
#[test]
#[ignore]
fn write_golden_files() {
    fn write_new(name: &str, contents: &[u8]) {
        let path = golden(name);
        if !path.exists() {
            std::fs::write(path, contents).unwrap();
        }
    }
    fn write<S: Accumulator>(state: &S, kind: &str) {
        let v = S::VERSION;
        write_new(&format!("{kind}.v{v}.bin"), &state.to_bytes());
        write_new(
            &format!("{kind}.v{v}.json"),
            (state.to_json() + "\n").as_bytes(),
        );
    }
    macro_rules! write_kind {
        ($name:ident, $ty:ty, $sample:expr) => {
            write(&$sample, <$ty as Accumulator>::KIND.name());
        };
    }
    common::states::for_each_state!(write_kind);
    write(&nps_tally_of_huge_weights(), "nps_tally.huge_weights");
    write(&customer_summary_with_ties(), "customer_summary.ties");
}

/// A customer summary of text ids with ties at the first instant (customer "a": 10 and 30 at t =
/// 5, 50 at t = 12), a customer with one order ("b") and one whose orders are all at one instant
/// ("c": 2 and 4 at t = 1).
fn customer_summary_with_ties() -> cx_metrics::CustomerSummary {
    use cx_metrics::customers::{CustomerIds, Orders};
    let ids: Vec<Option<String>> = ["a", "c", "a", "b", "a", "c"]
        .iter()
        .map(|s| Some((*s).to_owned()))
        .collect();
    let mut s = cx_metrics::CustomerSummary::new();
    s.fold_batch(
        Orders {
            customers: CustomerIds::Text(&ids),
            times: &[5, 1, 12, 9, 5, 1],
            values: Some(&[10.0, 2.0, 50.0, 7.5, 30.0, 4.0]),
        },
        None,
    )
    .unwrap();
    s
}

/// Version 2 of the customer summary stores the orders at the first instant: a summary with ties
/// there restores exactly, and its repeat means are those of the convention (the tied orders'
/// mean counts as the first order's value).
#[test]
fn a_customer_summary_with_ties_at_the_first_instant_restores_exactly() {
    let s = customer_summary_with_ties();
    let b = std::fs::read(golden("customer_summary.ties.v2.bin")).unwrap();
    assert_eq!(cx_metrics::CustomerSummary::from_bytes(&b).unwrap(), s);
    assert_eq!(s.to_bytes(), b);
    let j = std::fs::read_to_string(golden("customer_summary.ties.v2.json")).unwrap();
    assert_eq!(
        cx_metrics::CustomerSummary::from_json(j.trim_end()).unwrap(),
        s
    );
    let firsts: Vec<_> = s
        .customers()
        .iter()
        .map(|c| c.1.at_first.map(|f| (f.orders, f.total)))
        .collect();
    assert_eq!(
        firsts,
        vec![Some((2, 40.0)), Some((1, 7.5)), Some((2, 6.0))]
    );
    let r = s.rfm(20, 1).unwrap();
    // "a": (90 − 20) / 2; "b": no repeats; "c": (6 − 3) / 1.
    assert_eq!(r.repeat_monetary().unwrap(), &[35.0, 0.0, 3.0]);
    assert_eq!(r.frequency, vec![2.0, 0.0, 1.0]);
}
