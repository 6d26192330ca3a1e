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

pub fn churn_tally() -> cx_metrics::ChurnTally {
    use cx_metrics::churn::CustomerRows;
    use cx_metrics::Accumulator;
    let mut t = cx_metrics::ChurnTally::new();
    t.fold_batch(
        CustomerRows {
            starts: &[
                Some(0),
                Some(5),
                Some(12),
                Some(15),
                Some(25),
                Some(1),
                None,
                Some(0),
            ],
            ends: &[
                None,
                Some(15),
                Some(18),
                None,
                None,
                Some(8),
                None,
                Some(20),
            ],
            period_start: 10,
            period_end: 20,
        },
        None,
    )
    .unwrap();
    t
}

pub fn cohort_tally() -> cx_metrics::CohortTally {
    use cx_metrics::cohorts::{CohortBatch, PeriodUnit};
    use cx_metrics::groups::TimeUnit;
    use cx_metrics::Accumulator;
    const DAY: i64 = 86_400;
    let mut t = cx_metrics::CohortTally::new(PeriodUnit::Month);
    let customers = [0u32, 0, 1, 2, 2, 3, 1, 4];
    let times = [
        0,
        60 * DAY,
        3 * DAY,
        40 * DAY,
        100 * DAY,
        95 * DAY,
        i64::MIN,
        31 * DAY,
    ];
    t.fold_batch(
        CohortBatch::Events {
            customers: &customers,
            n_customers: 5,
            missing: Some(4),
            times: &times,
            unit: TimeUnit::S,
        },
        None,
    )
    .unwrap();
    t.fold_batch(
        CohortBatch::Spans {
            starts: &[10 * DAY, 50 * DAY, i64::MIN],
            ends: &[70 * DAY, i64::MIN, 5 * DAY],
            unit: TimeUnit::S,
        },
        None,
    )
    .unwrap();
    t
}

pub fn customer_summary() -> cx_metrics::CustomerSummary {
    use cx_metrics::customers::Orders;
    use cx_metrics::Accumulator;
    let mut s = cx_metrics::CustomerSummary::new();
    s.fold_batch(
        Orders {
            customers: &[5, 3, 5, 9, 3, 5, -2],
            times: &[10, 4, 2, 7, i64::MIN, 30, 1],
            values: Some(&[1.5, 2.0, 3.25, 4.0, 5.0, 6.0, f64::NAN]),
        },
        None,
    )
    .unwrap();
    s
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
        $m!(
            churn_tally,
            cx_metrics::ChurnTally,
            $crate::common::states::churn_tally()
        );
        $m!(
            cohort_tally,
            cx_metrics::CohortTally,
            $crate::common::states::cohort_tally()
        );
        $m!(
            customer_summary,
            cx_metrics::CustomerSummary,
            $crate::common::states::customer_summary()
        );
    };
}
pub(crate) use for_each_state;
