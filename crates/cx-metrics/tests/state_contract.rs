//! The accumulator contract: checked merges, and states that check themselves on the way in. One test
//! per fixed bug, named after it, then the checks of every decoded state.

mod common;

use common::states;
use cx_metrics::nps::PairedTally;
use cx_metrics::state::{Decoder, Encoder};
use cx_metrics::{
    Accumulator, CsatTally, Error, Merge, Moments, NanPolicy, NpsTally, Ratings, Scale, ScaleTally,
    StateKind,
};

/// Merge `s` with itself until the row count would pass 2^64 − 1: the 64th doubling is an
/// [`Error::Overflow`] and leaves the state as it was (n = 2^63), never a count that wrapped to 0.
fn doubling_overflows<S: Accumulator + std::fmt::Debug>(mut s: S) {
    assert_eq!(s.n(), 1);
    for _ in 0..63 {
        let copy = s.clone();
        s.merge(&copy).unwrap();
    }
    assert_eq!(s.n(), 1 << 63);
    let before = s.clone();
    let copy = s.clone();
    let e = s.merge(&copy).unwrap_err();
    assert!(matches!(e, Error::Overflow { .. }), "{e:?}");
    assert!(e.to_string().contains("would overflow"), "{e}");
    assert_eq!(s, before);
    s.validate().unwrap();
}

#[test]
fn tally_merged_with_itself_64_times_is_an_overflow_not_n_zero() {
    let mut t = NpsTally::new();
    t.fold(&[9u8], None, NanPolicy::Omit).unwrap();
    doubling_overflows(t.clone());
    doubling_overflows(t.tally().clone());
    let mut p = PairedTally::new();
    p.fold(&[9.0], &[3.0], None, NanPolicy::Omit).unwrap();
    doubling_overflows(p);
    let mut m = Moments::new(["x", "y"]).unwrap();
    m.add_row(&[1.0, 2.0], 1.0).unwrap();
    doubling_overflows(m.clone());
    // A row whose co-moments would overflow is refused before anything changes.
    let before = m.clone();
    assert!(m.add_row(&[1e300, 2.0], 1.0).is_err());
    assert_eq!(m, before);
    m.validate().unwrap();
    // Folding into a full tally is refused the same way, and changes nothing.
    for _ in 0..63 {
        let copy = t.clone();
        t.merge(&copy).unwrap();
    }
    let mut full = t.clone();
    for _ in 0..62 {
        full.merge(&t).unwrap_err();
    }
    let big = ScaleTally::from_parts(
        Scale::NPS,
        [vec![0; 10], vec![u64::MAX - 1]].concat(),
        [vec![0.0; 10], vec![1e19]].concat(),
        [vec![0.0; 10], vec![1e19]].concat(),
        0,
    )
    .unwrap();
    let mut big = NpsTally::try_from(big).unwrap();
    let before = big.clone();
    assert!(matches!(
        big.fold(&[10u8, 10], None, NanPolicy::Omit),
        Err(Error::Overflow { .. })
    ));
    assert!(matches!(
        big.push(f64::NAN, 1.0, NanPolicy::Omit)
            .and(big.push(f64::NAN, 1.0, NanPolicy::Omit)),
        Err(Error::Overflow { .. })
    ));
    assert_eq!(big.n(), before.n());
}

/// An NPS tally's parts from per-point rows, Σw and Σw² (points 0..=10).
fn nps_parts(rows: [u64; 11], w: [f64; 11], w2: [f64; 11]) -> cx_metrics::Result<ScaleTally> {
    ScaleTally::from_parts(Scale::NPS, rows.to_vec(), w.to_vec(), w2.to_vec(), 0)
}

#[test]
fn saved_tally_whose_counts_contradict_its_sums_is_rejected() {
    // A 75% promoter share with no promoter rows: weight 3 on point 10, which has 0 rows.
    let mut rows = [0u64; 11];
    rows[0] = 1;
    let mut w = [0.0; 11];
    w[0] = 1.0;
    w[10] = 3.0;
    let e = nps_parts(rows, w, w).unwrap_err();
    assert!(matches!(e, Error::InvalidState { .. }), "{e:?}");
    assert!(e.to_string().contains("point 10"), "{e}");
    // An effective n of 10^302 from one row.
    let mut rows = [0u64; 11];
    rows[9] = 1;
    let mut w = [0.0; 11];
    w[9] = 1e151;
    let mut w2 = [0.0; 11];
    w2[9] = 1.0;
    let e = nps_parts(rows, w, w2).unwrap_err();
    assert!(e.to_string().contains("effective n above n"), "{e}");
    // The same states through JSON (bare, as earlier releases wrote it, and enveloped) and bytes.
    let good = states::nps_tally();
    let bare = serde_json::to_string(&good).unwrap();
    let no_rows = bare.replacen(
        "\"rows\":[1,0,0,1,0,0,1,1,1,2,2]",
        "\"rows\":[1,0,0,1,0,0,1,1,1,2,0]",
        1,
    );
    assert_ne!(no_rows, bare);
    assert!(serde_json::from_str::<NpsTally>(&no_rows).is_err());
    assert!(matches!(
        NpsTally::from_json(&no_rows),
        Err(Error::InvalidState { .. })
    ));
    // What earlier releases stored as bytes (the bare JSON) is read by from_stored.
    assert_eq!(NpsTally::from_stored(bare.as_bytes()).unwrap(), good);
    assert_eq!(NpsTally::from_stored(&good.to_bytes()).unwrap(), good);
    assert!(NpsTally::from_stored(no_rows.as_bytes()).is_err());
    let e = NpsTally::from_json(&no_rows).unwrap_err().to_string();
    assert_eq!(e.matches("the state was not restored").count(), 1, "{e}");
    let enveloped = good.to_json().replace(&bare, &no_rows);
    assert!(matches!(
        NpsTally::from_json(&enveloped),
        Err(Error::InvalidState { .. })
    ));
    // Bytes: the rows of point 10 sit after the 20-byte header, min, max, direction and omitted.
    let mut bytes = good.to_bytes();
    let at = 20 + 4 + 4 + 1 + 8 + 10 * 8;
    bytes[at..at + 8].copy_from_slice(&0u64.to_le_bytes());
    let e = NpsTally::from_bytes(&bytes).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid nps_tally state: point 10"),
        "{e}"
    );
    // CSAT and CES read through the same checks.
    let csat = states::csat_tally();
    let text = csat
        .to_json()
        .replacen("\"weight_sq\":[2.25", "\"weight_sq\":[9.0", 1);
    assert!(matches!(
        CsatTally::from_json(&text),
        Err(Error::InvalidState { .. })
    ));
}

#[test]
fn headers_are_checked_before_the_payload() {
    let good = states::nps_tally().to_bytes();
    let patch = |at: usize, v: &[u8]| {
        let mut b = good.clone();
        b[at..at + v.len()].copy_from_slice(v);
        NpsTally::from_bytes(&b).unwrap_err().to_string()
    };
    assert!(patch(0, b"CXSX").contains("not a serialised cx-metrics state"));
    assert!(patch(4, &99u16.to_le_bytes()).contains("unknown state kind 99"));
    assert!(patch(4, &3u16.to_le_bytes()).contains("hold a csat_tally state"));
    // NPS tallies write format version 2 (the weight exponent) and read 1 and 2.
    assert!(patch(6, &3u16.to_le_bytes()).contains("format version 3 is not supported"));
    assert!(patch(6, &0u16.to_le_bytes()).contains("format version 0"));
    assert!(patch(8, &1u32.to_le_bytes()).contains("unknown flags"));
    assert!(patch(12, &u64::MAX.to_le_bytes()).contains("announces"));
    let mut trailing = good.clone();
    trailing.push(0);
    let e = NpsTally::from_bytes(&trailing).unwrap_err().to_string();
    assert!(e.contains("trailing bytes"), "{e}");
    assert!(NpsTally::from_bytes(&[])
        .unwrap_err()
        .to_string()
        .contains("0 bytes are too few"));
    // JSON envelopes are checked the same way.
    let json = states::nps_tally().to_json();
    for (from, to, says) in [
        (
            "\"kind\":\"nps_tally\"",
            "\"kind\":\"csat_tally\"",
            "holds a csat_tally",
        ),
        (
            "\"kind\":\"nps_tally\"",
            "\"kind\":\"what\"",
            "unknown state kind",
        ),
        ("\"version\":2", "\"version\":7", "format version 7"),
        ("\"state\":", "\"stat\":", "no \"state\""),
    ] {
        let e = NpsTally::from_json(&json.replacen(from, to, 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{e}");
    }
}

#[test]
fn moments_that_contradict_themselves_are_rejected() {
    let good = states::moments();
    let json = serde_json::to_string(&good).unwrap();
    let bad = |from: &str, to: &str| {
        let text = json.replacen(from, to, 1);
        assert_ne!(text, json, "{from}");
        Moments::from_json(&text).unwrap_err().to_string()
    };
    assert!(bad("\"comoment\":[5.0", "\"comoment\":[-5.0").contains("negative"));
    assert!(bad(",-0.6666666666666666,6.0", ",-0.6,6.0").contains("not symmetric"));
    assert!(bad("\"sum_w2\":6.25", "\"sum_w2\":0.001").contains("effective n above n"));
    assert!(bad("\"n\":4", "\"n\":0").contains("without any weighted row"));
    assert!(bad(
        "\"names\":[\"x1\",\"x2\",\"y\"]",
        "\"names\":[\"x1\",\"x2\"]"
    )
    .contains("co-moments"));
    assert!(
        bad("\"names\":[\"x1\",\"x2\",", "\"names\":[\"x1\",\"x1\",").contains("appears twice")
    );
    assert!(
        bad("\"mean_lo\":[-1.4802973661668753e-16", "\"mean_lo\":[1.0").contains("compensation")
    );
    // A payload announcing 2^32 − 1 variables is refused before anything is allocated.
    let mut payload = Encoder::new();
    payload.u32(u32::MAX);
    let payload = payload.into_bytes();
    let mut input = Decoder::new(&payload, StateKind::Moments);
    let e = <Moments as Accumulator>::decode_payload(&mut input).unwrap_err();
    assert!(matches!(e, Error::InvalidState { .. }), "{e}");
    let mut payload = Encoder::new();
    payload.u32(1 << 20);
    let payload = payload.into_bytes();
    let mut input = Decoder::new(&payload, StateKind::Moments);
    let e = <Moments as Accumulator>::decode_payload(&mut input).unwrap_err();
    assert!(e.to_string().contains("cannot fit"), "{e}");
    // Constant columns give a co-moment diagonal of (nearly) zero that still validates.
    let mut m = Moments::new(["a", "b"]).unwrap();
    let a = vec![0.1; 10_000];
    let b: Vec<f64> = (0..10_000).map(|i| 1e6 + f64::from(i % 7)).collect();
    let w: Vec<f64> = (0..10_000).map(|i| 0.3 + f64::from(i % 5) * 0.7).collect();
    m.fold_columns(&[&a, &b], Some(&w)).unwrap();
    m.validate().unwrap();
    assert_eq!(Moments::from_bytes(&m.to_bytes()).unwrap(), m);
}

#[test]
fn fold_batch_folds_what_fold_does() {
    let values = [10.0, 9.0, 3.0, f64::NAN, 7.0];
    let w = [1.0, 2.0, 0.5, 1.0, 1.5];
    let mut a = NpsTally::new();
    a.fold(&values, Some(&w), NanPolicy::Omit).unwrap();
    let mut b = NpsTally::new();
    b.fold_batch(Ratings::new(&values[..], NanPolicy::Omit), Some(&w))
        .unwrap();
    assert_eq!(a, b);
    let ints = [10i16, 9, 3];
    let mut c = NpsTally::new();
    c.fold_batch(Ratings::new(&ints[..], NanPolicy::Raise), None)
        .unwrap();
    assert_eq!(c.n(), 3);
    assert!(c
        .fold_batch(Ratings::new(&values[..], NanPolicy::Raise), None)
        .is_err());
    assert_eq!(c.n(), 3);
    let r = b.finish(&()).unwrap();
    assert_eq!(r, b.result());
}
