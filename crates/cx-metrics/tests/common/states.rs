//! One sample state of every kind, built from fixed data: the states of the golden files
//! (tests/golden/) and the seeds of the fuzz tests.

// Each test file uses part of this module.
#![allow(dead_code, unused_macros, unused_imports)]

use cx_metrics::csat::CsatScale;
use cx_metrics::nps::PairedTally;
use cx_metrics::{
    Ces1Tally, Ces2Tally, CsatTally, Direction, Moments, NanPolicy, NpsTally, Scale, ScaleTally,
};

const NAN: f64 = f64::NAN;

pub fn scale_tally() -> ScaleTally {
    let mut s = ScaleTally::new(Scale::new(1, 5, Direction::HigherIsBetter).unwrap());
    s.fold(
        &[5.0, 4.0, 4.0, 3.0, 1.0, NAN],
        Some(&[1.5, 0.5, 2.0, 1.0, 0.25, 1.0]),
        NanPolicy::Omit,
    )
    .unwrap();
    s
}

pub fn nps_tally() -> NpsTally {
    let mut t = NpsTally::new();
    t.fold(
        &[10.0, 9.0, 9.0, 8.0, 7.0, 6.0, 3.0, 0.0, NAN, 10.0],
        Some(&[1.25, 0.75, 1.0, 2.0, 0.5, 1.5, 1.0, 0.25, 1.0, 3.0]),
        NanPolicy::Omit,
    )
    .unwrap();
    t
}

pub fn csat_tally() -> CsatTally {
    let mut t = CsatTally::new(CsatScale::new(5).unwrap());
    t.fold(
        &[5.0, 4.0, 3.0, 2.0, 1.0, 5.0, NAN],
        Some(&[1.0, 2.0, 0.5, 0.5, 1.5, 0.75, 1.0]),
        NanPolicy::Omit,
    )
    .unwrap();
    t
}

pub fn ces2_tally() -> Ces2Tally {
    let mut t = Ces2Tally::new();
    t.fold(&[7u8, 6, 5, 4, 3, 1, 7, 5], None, NanPolicy::Omit)
        .unwrap();
    t
}

pub fn ces1_tally() -> Ces1Tally {
    let mut t = Ces1Tally::new();
    t.fold(
        &[1.0, 2.0, 3.0, 4.0, 5.0, 2.0, NAN],
        Some(&[0.5, 1.0, 1.0, 2.0, 0.25, 1.0, 1.0]),
        NanPolicy::Omit,
    )
    .unwrap();
    t
}

pub fn paired_tally() -> PairedTally {
    let mut t = PairedTally::new();
    t.fold(
        &[10.0, 9.0, 3.0, 7.0, NAN, 8.0],
        &[9.0, 6.0, 3.0, 10.0, 5.0, 2.0],
        Some(&[1.0, 0.5, 2.0, 1.5, 1.0, 0.75]),
        NanPolicy::Omit,
    )
    .unwrap();
    t
}

pub fn moments() -> Moments {
    let mut m = Moments::new(["x1", "x2", "y"]).unwrap();
    m.fold_columns(
        &[
            &[1.0, 2.0, 4.0, 3.0, 5.0],
            &[3.0, 1.0, 2.0, 2.0, 4.0],
            &[6.0, 5.0, 9.0, 7.0, 10.0],
        ],
        Some(&[1.0, 2.0, 1.0, 0.5, 0.0]),
    )
    .unwrap();
    m
}

/// The registry of state kinds for the shared state tests: `$m!(name, Type, sample)` for every kind.
/// A new kind adds its sample above and one line here; its golden files and fuzz targets follow.
macro_rules! for_each_state {
    ($m:ident) => {
        $m!(
            scale_tally,
            cx_metrics::ScaleTally,
            $crate::common::states::scale_tally()
        );
        $m!(
            nps_tally,
            cx_metrics::NpsTally,
            $crate::common::states::nps_tally()
        );
        $m!(
            csat_tally,
            cx_metrics::CsatTally,
            $crate::common::states::csat_tally()
        );
        $m!(
            ces2_tally,
            cx_metrics::Ces2Tally,
            $crate::common::states::ces2_tally()
        );
        $m!(
            ces1_tally,
            cx_metrics::Ces1Tally,
            $crate::common::states::ces1_tally()
        );
        $m!(
            paired_tally,
            cx_metrics::nps::PairedTally,
            $crate::common::states::paired_tally()
        );
        $m!(
            moments,
            cx_metrics::Moments,
            $crate::common::states::moments()
        );
    };
}
pub(crate) use for_each_state;
