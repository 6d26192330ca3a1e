//! Cohort retention tables: customers grouped by the calendar period they started in (their
//! cohort), and the share of each cohort active k periods later.
//!
//! Two definitions, named as Amplitude names them:
//!
//! * [`RetentionDefinition::ReturnOn`] ("N-day" retention): active **in** period k after the
//!   cohort's period;
//! * [`RetentionDefinition::ReturnOnOrAfter`] ("unbounded" retention): active in period k **or any
//!   later** period.
//!
//! Periods are calendar periods ([`PeriodUnit`]: day, ISO week from Monday, month, quarter, year)
//! of UTC instants. Denominators are censor-aware: a cohort that has not reached period k by the
//! last observed period (`as_of`) has no figure there (NaN, "not observed yet"), not zero; the
//! average of a period is over the cohorts that reached it (weighted by their sizes); the cells of
//! the `as_of` period itself are flagged incomplete.
//!
//! The state ([`CohortTally`]) holds, per cohort, its size, the customers active at every offset
//! and the customers whose last activity is at every offset: both definitions finish from it, and
//! tallies of different customers merge by adding. It folds either activity events (a customer id
//! code and a timestamp per event: **all of a customer's events must be in the same batch and
//! partition**, e.g. partition by customer id) or customer spans (a start and an optional end per
//! customer: active in every period from the start's to the end's; no end is active through
//! `as_of`).
//!
//! # `as_of` before the last activity
//!
//! A tally made with [`CohortTally::until`] leaves out, while folding, every event strictly after
//! the `as_of` **instant** (an event exactly at `as_of` is kept), and counts it (customers first
//! active after it, customers of the table active after it, and (customer, period) pairs of the
//! activity after it): its tables are exactly those of the activity up to `as_of`, for every
//! definition, even when `as_of` lies inside a period (that period is flagged incomplete). A span
//! ending after `as_of` had no end yet then (active through `as_of`); a span starting after it is
//! left out. A tally folded without `as_of` and finished with an earlier one
//! ([`CohortOptions::as_of`], a period) is cut at the end of that period and keeps only each
//! customer's last period, so `"return_on_or_after"` counts a customer active after it as retained
//! through it (counted in [`CohortTable::n_customers_active_after_as_of`], and flagged by
//! [`CohortTable::as_of_in_fold`] being false); `"return_on"` is exact to the end of the period.
//!
//! ```
//! use cx_metrics::cohorts::{CohortBatch, CohortOptions, CohortTally, PeriodUnit, RetentionDefinition};
//! use cx_metrics::groups::TimeUnit;
//! use cx_metrics::Accumulator;
//! const DAY: i64 = 86_400;
//! // Customer 0 buys in January and March, customer 1 in January, customer 2 in February.
//! let customers = [0u32, 0, 1, 2];
//! let times = [0, 60 * DAY, 3 * DAY, 40 * DAY];
//! let mut t = CohortTally::new(PeriodUnit::Month);
//! t.fold_batch(CohortBatch::events(&customers, 3, &times, TimeUnit::S), None).unwrap();
//! let table = t.finish(&CohortOptions::default()).unwrap();
//! assert_eq!(table.sizes, vec![2, 1]);
//! // January: 2 customers, 0 active in February, 1 in March; February: 1, then not observed.
//! assert_eq!(table.counts[..3], [2.0, 0.0, 1.0]);
//! assert!(table.counts[4] == 0.0 && table.counts[5].is_nan());
//! ```

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::groups::TimeUnit;
use crate::serde_nan;
use crate::state::{add_count, Accumulator, Decoder, Encoder, StateKind};
use crate::tally::Merge;

/// A calendar period of UTC time.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    /// A calendar day.
    Day,
    /// An ISO week, from Monday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
}

/// Days from 1970-01-01 to year `y`, month `m` (1–12), day `d` (Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year and month (1–12) of a day counted from 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m)
}

impl PeriodUnit {
    /// Every unit.
    pub const ALL: [PeriodUnit; 5] = [
        Self::Day,
        Self::Week,
        Self::Month,
        Self::Quarter,
        Self::Year,
    ];

    /// The option string.
    pub fn id(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }

    fn code(self) -> u8 {
        match self {
            Self::Day => 0,
            Self::Week => 1,
            Self::Month => 2,
            Self::Quarter => 3,
            Self::Year => 4,
        }
    }

    /// How many of `self` make one `other`, when the ratio is exact (days and weeks; months,
    /// quarters and years); `None` between the two families (a month is not a whole number of
    /// days).
    pub fn per(self, other: PeriodUnit) -> Option<f64> {
        let days = |u: PeriodUnit| match u {
            Self::Day => Some(1.0),
            Self::Week => Some(7.0),
            _ => None,
        };
        let months = |u: PeriodUnit| match u {
            Self::Month => Some(1.0),
            Self::Quarter => Some(3.0),
            Self::Year => Some(12.0),
            _ => None,
        };
        match (days(self), days(other)) {
            (Some(a), Some(b)) => Some(b / a),
            _ => match (months(self), months(other)) {
                (Some(a), Some(b)) => Some(b / a),
                _ => None,
            },
        }
    }

    /// The index of the period holding the day `days` after 1970-01-01 (periods counted from the
    /// one holding 1970-01-01).
    pub fn index_of_day(self, days: i64) -> i64 {
        match self {
            Self::Day => days,
            // 1970-01-01 was a Thursday; weeks start on Monday 1969-12-29.
            Self::Week => (days + 3).div_euclid(7),
            Self::Month | Self::Quarter | Self::Year => {
                let (y, m) = civil_from_days(days);
                let month = (y - 1970) * 12 + m - 1;
                match self {
                    Self::Month => month,
                    Self::Quarter => month.div_euclid(3),
                    _ => month.div_euclid(12),
                }
            }
        }
    }

    /// The index of the period holding the instant `value` (`unit`s after 1970-01-01T00:00 UTC).
    pub fn index_of(self, value: i64, unit: TimeUnit) -> i64 {
        let per_day = match unit {
            TimeUnit::S => 86_400,
            TimeUnit::Ms => 86_400_000,
            TimeUnit::Us => 86_400_000_000,
            _ => 86_400_000_000_000,
        };
        self.index_of_day(value.div_euclid(per_day))
    }

    /// The first day of period `index`, as days after 1970-01-01.
    pub fn start_day(self, index: i64) -> i64 {
        match self {
            Self::Day => index,
            Self::Week => index * 7 - 3,
            Self::Month | Self::Quarter | Self::Year => {
                let month = match self {
                    Self::Month => index,
                    Self::Quarter => index * 3,
                    _ => index * 12,
                };
                days_from_civil(1970 + month.div_euclid(12), month.rem_euclid(12) + 1, 1)
            }
        }
    }
}

/// Year, month (1–12) and day (1–31) of a day counted from 1970-01-01.
fn ymd_from_days(z: i64) -> (i64, i64, i64) {
    let (y, m) = civil_from_days(z);
    (y, m, z - days_from_civil(y, m, 1) + 1)
}

/// The ISO date (`2025-01-31`) of the day `days` after 1970-01-01.
pub fn iso_day(days: i64) -> String {
    let (y, m, d) = ymd_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Nanoseconds per `unit`.
fn ns_per(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::S => 1_000_000_000,
        TimeUnit::Ms => 1_000_000,
        TimeUnit::Us => 1_000,
        _ => 1,
    }
}

/// The instant `as_of` (`unit`s after 1970-01-01T00:00 UTC) in nanoseconds, as a cohort tally and
/// table keep it; an error outside 1677-09-21 to 2262-04-11.
pub fn as_of_ns(as_of: i64, unit: TimeUnit) -> Result<i64> {
    as_of.checked_mul(ns_per(unit)).ok_or_else(|| {
        Error::invalid(
            "as_of",
            format!(
                "{} is outside the instants of 1677-09-21 to 2262-04-11 that a cohort tally keeps \
                 (in nanoseconds); give an as_of in that range",
                iso_instant(as_of, unit)
            ),
        )
    })
}

/// An instant (`unit`s after 1970-01-01T00:00 UTC) as an ISO date, with the UTC time of day when it
/// is not midnight (`2025-01-31`, `2025-01-31T12:30:00Z`): for messages.
pub fn iso_instant(value: i64, unit: TimeUnit) -> String {
    let per_second: i64 = match unit {
        TimeUnit::S => 1,
        TimeUnit::Ms => 1_000,
        TimeUnit::Us => 1_000_000,
        _ => 1_000_000_000,
    };
    let seconds = value.div_euclid(per_second);
    let (days, in_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let fraction = value.rem_euclid(per_second);
    if in_day == 0 && fraction == 0 {
        return iso_day(days);
    }
    let (h, mi, s) = (in_day / 3600, in_day % 3600 / 60, in_day % 60);
    if fraction == 0 {
        format!("{}T{h:02}:{mi:02}:{s:02}Z", iso_day(days))
    } else {
        let digits = per_second.ilog10() as usize;
        format!(
            "{}T{h:02}:{mi:02}:{s:02}.{fraction:0digits$}Z",
            iso_day(days)
        )
    }
}

impl PeriodUnit {
    /// The label of period `index`: `2025-01-31` (day), `week of 2025-01-27` (ISO week, from
    /// Monday), `2025-01` (month), `2025-Q1` (quarter), `2025` (year).
    pub fn label(self, index: i64) -> String {
        let day = self.start_day(index);
        let (y, m, _) = ymd_from_days(day);
        match self {
            Self::Day => iso_day(day),
            Self::Week => format!("week of {}", iso_day(day)),
            Self::Month => format!("{y:04}-{m:02}"),
            Self::Quarter => format!("{y:04}-Q{}", (m - 1) / 3 + 1),
            Self::Year => format!("{y:04}"),
        }
    }
}

impl fmt::Display for PeriodUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for PeriodUnit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|u| u.id() == s).ok_or_else(|| {
            Error::invalid(
                "period",
                format!("{s:?}; use \"day\", \"week\", \"month\", \"quarter\" or \"year\""),
            )
        })
    }
}

/// Which customers of a cohort count as retained in period k.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionDefinition {
    /// "N-day": active in period k itself.
    #[default]
    ReturnOn,
    /// "Unbounded": active in period k or any later period.
    ReturnOnOrAfter,
}

impl RetentionDefinition {
    /// The option string.
    pub fn id(self) -> &'static str {
        match self {
            Self::ReturnOn => "return_on",
            Self::ReturnOnOrAfter => "return_on_or_after",
        }
    }
}

impl FromStr for RetentionDefinition {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "return_on" => Ok(Self::ReturnOn),
            "return_on_or_after" => Ok(Self::ReturnOnOrAfter),
            _ => Err(Error::invalid(
                "definition",
                format!(
                    "{s:?}; use \"return_on\" (N-day: active in period k) or \
                     \"return_on_or_after\" (unbounded: active in period k or later)"
                ),
            )),
        }
    }
}

/// One cohort's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortRow {
    /// The cohort's period index.
    pub cohort: i64,
    /// Customers in the cohort.
    pub size: u64,
    /// Customers still active with no end (spans without an end): active through `as_of`.
    pub open: u64,
    /// Customers (other than the open ones) active at each offset 0, 1, ….
    pub active: Vec<u64>,
    /// Customers (other than the open ones) whose last activity is at each offset.
    pub last: Vec<u64>,
}

impl CohortRow {
    fn empty(cohort: i64) -> Self {
        Self {
            cohort,
            size: 0,
            open: 0,
            active: Vec::new(),
            last: Vec::new(),
        }
    }

    fn grow(&mut self, len: usize) {
        if self.active.len() < len {
            self.active.resize(len, 0);
            self.last.resize(len, 0);
        }
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        let cohort = self.cohort;
        let what = || format!("the counts of cohort {cohort}");
        self.grow(other.active.len());
        let size = add_count(self.size, other.size, what)?;
        let open = add_count(self.open, other.open, what)?;
        let mut active = self.active.clone();
        let mut last = self.last.clone();
        for (k, (a, l)) in other.active.iter().zip(&other.last).enumerate() {
            active[k] = add_count(active[k], *a, what)?;
            last[k] = add_count(last[k], *l, what)?;
        }
        (self.size, self.open, self.active, self.last) = (size, open, active, last);
        Ok(())
    }

    fn check(&self) -> std::result::Result<(), String> {
        let c = self.cohort;
        if self.active.len() != self.last.len() {
            return Err(format!(
                "cohort {c}: active and last counts differ in length"
            ));
        }
        let mut closed: u64 = 0;
        for l in &self.last {
            closed = closed
                .checked_add(*l)
                .ok_or_else(|| format!("cohort {c}: counts overflow"))?;
        }
        if closed.checked_add(self.open) != Some(self.size) {
            return Err(format!(
                "cohort {c}: {closed} customers with a last period and {} open do not make its \
                 size {}",
                self.open, self.size
            ));
        }
        if closed > 0 && self.active.first() != Some(&closed) {
            return Err(format!(
                "cohort {c}: {} customers active in the first period of {closed}",
                self.active.first().copied().unwrap_or(0)
            ));
        }
        // Active at offset k at most the customers whose last activity is at k or later.
        let mut later = 0u64;
        for k in (0..self.active.len()).rev() {
            later += self.last[k];
            if self.active[k] > later {
                return Err(format!(
                    "cohort {c}: {} customers active at offset {k} but only {later} active there \
                     or later",
                    self.active[k]
                ));
            }
        }
        Ok(())
    }
}

/// What a [`CohortTally`] folds.
#[derive(Debug, Clone, Copy)]
pub enum CohortBatch<'a> {
    /// Activity events: the customer (a dense code below `n_customers`; `missing` marks a row
    /// without a customer, omitted and counted) and the instant of each event (`i64::MIN`, numpy's
    /// NaT, is missing: omitted and counted). Every event of a customer must be in this batch.
    Events {
        /// Customer code per event.
        customers: &'a [u32],
        /// Number of customer codes.
        n_customers: usize,
        /// The code of the missing customer id, if any.
        missing: Option<u32>,
        /// Instant per event.
        times: &'a [i64],
        /// Unit of the instants.
        unit: TimeUnit,
    },
    /// Customer spans: a start (missing: omitted and counted) and an end (`i64::MIN`: still
    /// active) per customer; active in every period from the start's to the end's.
    Spans {
        /// Start per customer.
        starts: &'a [i64],
        /// End per customer.
        ends: &'a [i64],
        /// Unit of the instants.
        unit: TimeUnit,
    },
}

impl<'a> CohortBatch<'a> {
    /// Events with no missing customer.
    pub fn events(
        customers: &'a [u32],
        n_customers: usize,
        times: &'a [i64],
        unit: TimeUnit,
    ) -> Self {
        Self::Events {
            customers,
            n_customers,
            missing: None,
            times,
            unit,
        }
    }
}

/// Options of a cohort table.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CohortOptions {
    /// Which customers count as retained.
    pub definition: RetentionDefinition,
    /// The last period observed (a period index); default: the tally's `as_of` period, else the
    /// latest period in the data.
    pub as_of: Option<i64>,
    /// The `as_of` instant (nanoseconds after 1970-01-01T00:00 UTC) the caller gave, recorded in the
    /// table ([`CohortTable::as_of_ns`]); it must be in the period [`CohortOptions::as_of`]. A
    /// tally made with [`CohortTally::until`] takes only its own instant here.
    pub as_of_ns: Option<i64>,
    /// At most this many periods after the cohort's own (default: every observed one).
    pub max_periods: Option<u32>,
}

/// Most periods a table may span (cohorts × offsets stay small).
const MAX_SPAN: i64 = 100_000;

/// Counts per cohort × period offset: the mergeable state of cohort retention tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawCohortTally")]
pub struct CohortTally {
    unit: PeriodUnit,
    rows: Vec<CohortRow>,
    observed_through: Option<i64>,
    n_omitted: u64,
    /// The instant folded up to, in nanoseconds after 1970-01-01T00:00 UTC
    /// ([`CohortTally::until`]); `None`: everything.
    as_of_ns: Option<i64>,
    /// What the fold left out for lying after `as_of`.
    left_out: LeftOut,
}

/// Activity a [`CohortTally`] made with [`CohortTally::until`] left out for lying strictly after its
/// `as_of` instant (the counters of [`CohortTable`] of the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LeftOut {
    /// Customers whose first activity (their cohort) is after `as_of`.
    pub customers_after: u64,
    /// Customers active by `as_of` and after it.
    pub customers_active_after: u64,
    /// (customer, period) pairs with activity after `as_of` (a span ending after it: from the
    /// `as_of` period to the end's; spans starting after it without an end: none).
    pub active_periods_after: u64,
}

impl LeftOut {
    fn add(&self, other: &Self) -> Result<Self> {
        let what = || "the activity left out after as_of".to_string();
        Ok(Self {
            customers_after: add_count(self.customers_after, other.customers_after, what)?,
            customers_active_after: add_count(
                self.customers_active_after,
                other.customers_active_after,
                what,
            )?,
            active_periods_after: add_count(
                self.active_periods_after,
                other.active_periods_after,
                what,
            )?,
        })
    }
}

#[derive(Deserialize)]
struct RawCohortTally {
    unit: PeriodUnit,
    rows: Vec<CohortRow>,
    observed_through: Option<i64>,
    n_omitted: u64,
    #[serde(default)]
    as_of_ns: Option<i64>,
    #[serde(default)]
    left_out: LeftOut,
}

impl TryFrom<RawCohortTally> for CohortTally {
    type Error = Error;
    fn try_from(r: RawCohortTally) -> Result<Self> {
        let t = Self {
            unit: r.unit,
            rows: r.rows,
            observed_through: r.observed_through,
            n_omitted: r.n_omitted,
            as_of_ns: r.as_of_ns,
            left_out: r.left_out,
        };
        t.validate()?;
        Ok(t)
    }
}

impl CohortTally {
    /// An empty tally of cohorts by `unit`.
    pub fn new(unit: PeriodUnit) -> Self {
        Self {
            unit,
            rows: Vec::new(),
            observed_through: None,
            n_omitted: 0,
            as_of_ns: None,
            left_out: LeftOut::default(),
        }
    }

    /// An empty tally that folds only the activity up to the instant `as_of` (`time_unit`s after
    /// 1970-01-01T00:00 UTC), inclusive: every event strictly after it is left out and counted
    /// ([`CohortTally::left_out`]), so its tables are those of the activity up to `as_of` for every
    /// definition, `as_of` being inside a period or not. Tallies merge only with tallies of the
    /// same instant. The instant is kept in nanoseconds: one outside 1677-09-21 to 2262-04-11 is
    /// an error.
    pub fn until(unit: PeriodUnit, as_of: i64, time_unit: TimeUnit) -> Result<Self> {
        let ns = as_of_ns(as_of, time_unit)?;
        Ok(Self {
            as_of_ns: Some(ns),
            ..Self::new(unit)
        })
    }

    /// The instant folded up to, in nanoseconds after 1970-01-01T00:00 UTC (`None`: everything).
    pub fn as_of_ns(&self) -> Option<i64> {
        self.as_of_ns
    }

    /// The period of the instant folded up to (`None`: every period).
    pub fn as_of_period(&self) -> Option<i64> {
        self.as_of_ns.map(|ns| self.unit.index_of(ns, TimeUnit::Ns))
    }

    /// The activity left out for lying after [`CohortTally::as_of_ns`].
    pub fn left_out(&self) -> LeftOut {
        self.left_out
    }

    /// Drops the events whose instant is after `cut` (in the events' unit; counted by their
    /// periods), checking every customer code first so that an error names the row of the
    /// caller's batch.
    fn cut_events(
        customers: &[u32],
        n_customers: usize,
        missing: Option<u32>,
        (times, periods): (&[i64], &[i64]),
        cut: i64,
    ) -> Result<(Vec<u32>, Vec<i64>, LeftOut)> {
        let (mut kept_c, mut kept_p) = (Vec::with_capacity(customers.len()), Vec::new());
        kept_p.reserve(customers.len());
        let mut after: Vec<(u32, i64)> = Vec::new();
        let mut kept_any = vec![false; n_customers];
        for (i, ((&c, &p), &t)) in customers.iter().zip(periods).zip(times).enumerate() {
            let present = p != i64::MIN && Some(c) != missing;
            if present && c as usize >= n_customers {
                return Err(Error::invalid(
                    "customers",
                    format!("code {c} at row {i} is not below the {n_customers} customers"),
                ));
            }
            if present && t > cut {
                after.push((c, p));
            } else {
                if present {
                    kept_any[c as usize] = true;
                }
                kept_c.push(c);
                kept_p.push(p);
            }
        }
        after.par_sort_unstable();
        after.dedup();
        let mut left = LeftOut {
            active_periods_after: after.len() as u64,
            ..LeftOut::default()
        };
        let mut previous = None;
        for &(c, _) in &after {
            if previous != Some(c) {
                if kept_any[c as usize] {
                    left.customers_active_after += 1;
                } else {
                    left.customers_after += 1;
                }
                previous = Some(c);
            }
        }
        Ok((kept_c, kept_p, left))
    }

    /// The period unit.
    pub fn unit(&self) -> PeriodUnit {
        self.unit
    }

    /// The cohorts' counts, by cohort.
    pub fn rows(&self) -> &[CohortRow] {
        &self.rows
    }

    /// The latest period seen in the data.
    pub fn observed_through(&self) -> Option<i64> {
        self.observed_through
    }

    /// Rows omitted for a missing customer or time.
    pub fn n_omitted(&self) -> u64 {
        self.n_omitted
    }

    fn fold_events(
        &self,
        customers: &[u32],
        n_customers: usize,
        missing: Option<u32>,
        times: &[i64],
        unit: TimeUnit,
    ) -> Result<Self> {
        if customers.len() != times.len() {
            return Err(Error::LengthMismatch {
                what: "customers and times",
                left: customers.len(),
                right: times.len(),
            });
        }
        let pu = self.unit;
        let periods: Vec<i64> = times
            .par_iter()
            .with_min_len(1 << 14)
            .map(|&t| {
                if t == i64::MIN {
                    i64::MIN
                } else {
                    pu.index_of(t, unit)
                }
            })
            .collect();
        let Some(cut) = self.as_of_ns else {
            return self.fold_periods(customers, n_customers, missing, &periods);
        };
        // The instant in the events' unit, rounded down: an event at t is after it iff t > cut.
        let cut = cut.div_euclid(ns_per(unit));
        let (kept_c, kept_p, left) =
            Self::cut_events(customers, n_customers, missing, (times, &periods), cut)?;
        let mut out = self.fold_periods(&kept_c, n_customers, missing, &kept_p)?;
        out.left_out = left;
        Ok(out)
    }

    /// Folds events whose periods are known (`i64::MIN`: a missing time).
    fn fold_periods(
        &self,
        customers: &[u32],
        n_customers: usize,
        missing: Option<u32>,
        periods: &[i64],
    ) -> Result<Self> {
        let pu = self.unit;
        let mut first = vec![i64::MAX; n_customers];
        let mut last = vec![i64::MIN; n_customers];
        let mut omitted = 0u64;
        for (i, (&c, &p)) in customers.iter().zip(periods).enumerate() {
            if p == i64::MIN || Some(c) == missing {
                omitted += 1;
                continue;
            }
            let c = c as usize;
            if c >= n_customers {
                return Err(Error::invalid(
                    "customers",
                    format!("code {c} at row {i} is not below the {n_customers} customers"),
                ));
            }
            first[c] = first[c].min(p);
            last[c] = last[c].max(p);
        }
        let mut width: i64 = 0;
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (f, l) in first.iter().zip(&last) {
            if *f != i64::MAX {
                width = width.max(l - f + 1);
                lo = lo.min(*f);
                hi = hi.max(*l);
            }
        }
        let mut out = Self::new(pu);
        out.as_of_ns = self.as_of_ns;
        out.n_omitted = omitted;
        if width == 0 {
            return Ok(out);
        }
        if hi - lo >= MAX_SPAN {
            return Err(Error::invalid(
                "times",
                format!(
                    "the events span {} {}s, more than {MAX_SPAN}; choose a longer period or \
                     check the times' unit",
                    hi - lo + 1,
                    pu
                ),
            ));
        }
        out.observed_through = Some(hi);
        let n_rows = (hi - lo + 1) as usize;
        let mut rows: Vec<CohortRow> = (0..n_rows)
            .map(|k| CohortRow::empty(lo + k as i64))
            .collect();
        let width = width as usize;
        let words = width.div_ceil(64);
        let mark =
            |count_row: &mut [CohortRow], c: usize, offsets: &mut dyn Iterator<Item = usize>| {
                let row = &mut count_row[(first[c] - lo) as usize];
                let span = (last[c] - first[c]) as usize;
                row.grow(span + 1);
                row.size += 1;
                row.last[span] += 1;
                for k in offsets {
                    row.active[k] += 1;
                }
            };
        if n_customers.saturating_mul(words) <= 1 << 25 {
            // One bit per customer and offset.
            let mut bits = vec![0u64; n_customers * words];
            for (&c, &p) in customers.iter().zip(periods) {
                if p == i64::MIN || Some(c) == missing {
                    continue;
                }
                let c = c as usize;
                let k = (p - first[c]) as usize;
                bits[c * words + k / 64] |= 1 << (k % 64);
            }
            for c in 0..n_customers {
                if first[c] == i64::MAX {
                    continue;
                }
                let b = &bits[c * words..(c + 1) * words];
                let mut it = b.iter().enumerate().flat_map(|(w, &word)| {
                    let mut word = word;
                    std::iter::from_fn(move || {
                        if word == 0 {
                            return None;
                        }
                        let t = word.trailing_zeros() as usize;
                        word &= word - 1;
                        Some(w * 64 + t)
                    })
                });
                mark(&mut rows, c, &mut it);
            }
        } else {
            // Distinct (customer, offset) pairs by sorting.
            let mut keys: Vec<u64> = customers
                .iter()
                .zip(periods)
                .filter(|(c, p)| **p != i64::MIN && Some(**c) != missing)
                .map(|(&c, &p)| c as u64 * width as u64 + (p - first[c as usize]) as u64)
                .collect();
            keys.par_sort_unstable();
            keys.dedup();
            let mut i = 0;
            while i < keys.len() {
                let c = (keys[i] / width as u64) as usize;
                let mut j = i;
                while j < keys.len() && (keys[j] / width as u64) as usize == c {
                    j += 1;
                }
                let mut it = keys[i..j].iter().map(|k| (k % width as u64) as usize);
                mark(&mut rows, c, &mut it);
                i = j;
            }
        }
        rows.retain(|r| r.size > 0);
        out.rows = rows;
        Ok(out)
    }

    fn fold_spans(&self, starts: &[i64], ends: &[i64], unit: TimeUnit) -> Result<Self> {
        if starts.len() != ends.len() {
            return Err(Error::LengthMismatch {
                what: "starts and ends",
                left: starts.len(),
                right: ends.len(),
            });
        }
        let pu = self.unit;
        let mut out = Self::new(pu);
        out.as_of_ns = self.as_of_ns;
        // The instant in the spans' unit (rounded down) and its period.
        let cut = self
            .as_of_ns
            .map(|ns| (ns.div_euclid(ns_per(unit)), pu.index_of(ns, TimeUnit::Ns)));
        let mut spans = Vec::with_capacity(starts.len());
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (i, (&s, &e)) in starts.iter().zip(ends).enumerate() {
            if s == i64::MIN {
                out.n_omitted += 1;
                continue;
            }
            if e != i64::MIN && e < s {
                return Err(Error::invalid(
                    "end",
                    format!(
                        "the customer at row {i} ends ({}) before it starts ({}); fix or drop \
                         the row",
                        iso_instant(e, unit),
                        iso_instant(s, unit)
                    ),
                ));
            }
            let c = pu.index_of(s, unit);
            let mut l = (e != i64::MIN).then(|| pu.index_of(e, unit));
            if let Some((cut, cut_period)) = cut {
                let left = &mut out.left_out;
                if s > cut {
                    // First active after as_of: left out, with its periods (none without an end).
                    left.customers_after += 1;
                    left.active_periods_after += l.map_or(0, |l| (l - c + 1) as u64);
                    continue;
                }
                if let Some(end) = l.filter(|_| e > cut) {
                    // Active after as_of (from the rest of the as_of period to the end's): as of
                    // as_of the span had no end yet.
                    left.customers_active_after += 1;
                    left.active_periods_after += (end - cut_period + 1) as u64;
                    l = None;
                }
            }
            lo = lo.min(c);
            hi = hi.max(l.unwrap_or(c));
            spans.push((c, l));
        }
        if spans.is_empty() {
            return Ok(out);
        }
        if hi - lo >= MAX_SPAN {
            return Err(Error::invalid(
                "starts",
                format!(
                    "the customers span {} {}s, more than {MAX_SPAN}; choose a longer period or \
                     check the times' unit",
                    hi - lo + 1,
                    pu
                ),
            ));
        }
        out.observed_through = Some(hi);
        let mut rows: Vec<CohortRow> = (lo..=hi).map(CohortRow::empty).collect();
        for (c, l) in spans {
            let row = &mut rows[(c - lo) as usize];
            row.size += 1;
            match l {
                None => row.open += 1,
                Some(l) => {
                    let span = (l - c) as usize;
                    row.grow(span + 1);
                    row.last[span] += 1;
                    row.active[..=span].iter_mut().for_each(|a| *a += 1);
                }
            }
        }
        rows.retain(|r| r.size > 0);
        out.rows = rows;
        Ok(out)
    }
}

impl Merge for CohortTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.unit != other.unit {
            return Err(Error::Incompatible(format!(
                "cohorts by {} and by {}",
                self.unit, other.unit
            )));
        }
        if self.as_of_ns != other.as_of_ns {
            let name = |a: Option<i64>| {
                a.map_or("without as_of".to_string(), |ns| {
                    format!("up to as_of {}", iso_instant(ns, TimeUnit::Ns))
                })
            };
            return Err(Error::Incompatible(format!(
                "cohort tallies folded {} and {}; fold every partition with the same as_of \
                 instant",
                name(self.as_of_ns),
                name(other.as_of_ns)
            )));
        }
        let left_out = self.left_out.add(&other.left_out)?;
        let mut rows: Vec<CohortRow> = Vec::with_capacity(self.rows.len() + other.rows.len());
        let (a, b) = (&self.rows, &other.rows);
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i].cohort < b[j].cohort) {
                rows.push(a[i].clone());
                i += 1;
            } else if i == a.len() || b[j].cohort < a[i].cohort {
                rows.push(b[j].clone());
                j += 1;
            } else {
                let mut r = a[i].clone();
                r.merge(&b[j])?;
                rows.push(r);
                i += 1;
                j += 1;
            }
        }
        let n_omitted = add_count(self.n_omitted, other.n_omitted, || "omitted rows".into())?;
        self.rows = rows;
        self.n_omitted = n_omitted;
        self.left_out = left_out;
        self.observed_through = match (self.observed_through, other.observed_through) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        Ok(())
    }
}

impl Accumulator for CohortTally {
    const KIND: StateKind = StateKind::CohortTally;
    /// Version 2 appends the `as_of` instant the tally was folded to (nanoseconds) and the
    /// activity left out after it.
    const VERSION: u16 = 2;
    type Batch<'a> = CohortBatch<'a>;
    type Options = CohortOptions;
    type Output = CohortTable;

    /// Events or spans (weights are not supported: cohorts count customers).
    fn fold_batch(&mut self, batch: CohortBatch<'_>, weights: Option<&[f64]>) -> Result<()> {
        if weights.is_some() {
            return Err(Error::invalid(
                "weights",
                "cohort tables count customers; weights are not supported",
            ));
        }
        let part = match batch {
            CohortBatch::Events {
                customers,
                n_customers,
                missing,
                times,
                unit,
            } => self.fold_events(customers, n_customers, missing, times, unit)?,
            CohortBatch::Spans { starts, ends, unit } => self.fold_spans(starts, ends, unit)?,
        };
        self.merge(&part)
    }

    fn n(&self) -> u64 {
        self.rows.iter().map(|r| r.size).sum()
    }

    fn finish(&self, options: &CohortOptions) -> Result<CohortTable> {
        CohortTable::from_tally(self, options)
    }

    fn validate(&self) -> Result<()> {
        let mut previous = i64::MIN;
        for (i, r) in self.rows.iter().enumerate() {
            if i > 0 && r.cohort <= previous {
                return Err(Self::KIND.invalid("cohorts out of order or repeated"));
            }
            previous = r.cohort;
            r.check().map_err(|m| Self::KIND.invalid(m))?;
            if r.active.len() as i64 > MAX_SPAN {
                return Err(
                    Self::KIND.invalid(format!("cohort {} spans too many periods", r.cohort))
                );
            }
        }
        if !self.rows.is_empty() && self.observed_through.is_none() {
            return Err(Self::KIND.invalid("cohorts without an observed period"));
        }
        if let Some(t) = self.observed_through {
            for r in &self.rows {
                if r.cohort > t
                    || r.cohort.saturating_add(r.active.len() as i64) > t.saturating_add(1)
                {
                    return Err(Self::KIND.invalid(format!(
                        "cohort {} is active after the last observed period {t}",
                        r.cohort
                    )));
                }
            }
        }
        let mut total = 0u64;
        for r in &self.rows {
            total = total
                .checked_add(r.size)
                .ok_or_else(|| Self::KIND.invalid("the customer count overflows"))?;
        }
        match (self.as_of_period(), self.observed_through) {
            (None, _) if self.left_out != LeftOut::default() => {
                return Err(Self::KIND.invalid("activity left out after as_of without an as_of"));
            }
            (Some(a), Some(t)) if t > a => {
                return Err(Self::KIND.invalid(format!(
                    "activity in period {t}, after the period {a} of the as_of the tally was \
                     folded to"
                )));
            }
            _ => {}
        }
        self.left_out.add(&LeftOut::default())?;
        Ok(())
    }

    fn encode_payload(&self, out: &mut Encoder) {
        out.u8(self.unit.code());
        match self.observed_through {
            Some(t) => {
                out.u8(1);
                out.u64(t as u64);
            }
            None => {
                out.u8(0);
                out.u64(0);
            }
        }
        out.u64(self.n_omitted);
        out.u64(self.rows.len() as u64);
        for r in &self.rows {
            out.u64(r.cohort as u64);
            out.u64(r.size);
            out.u64(r.open);
            out.u64(r.active.len() as u64);
            out.u64s(&r.active);
            out.u64s(&r.last);
        }
        out.u8(u8::from(self.as_of_ns.is_some()));
        out.u64(self.as_of_ns.unwrap_or(0) as u64);
        out.u64(self.left_out.customers_after);
        out.u64(self.left_out.customers_active_after);
        out.u64(self.left_out.active_periods_after);
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let code = input.u8("unit")?;
        let unit = PeriodUnit::ALL
            .into_iter()
            .find(|u| u.code() == code)
            .ok_or_else(|| input.invalid(format!("unknown period unit {code}")))?;
        let has = input.u8("observed flag")?;
        let t = input.u64("observed_through")? as i64;
        let observed_through = match has {
            0 => None,
            1 => Some(t),
            _ => return Err(input.invalid(format!("observed flag {has}"))),
        };
        let n_omitted = input.u64("n_omitted")?;
        let n = input.u64("cohort count")?;
        let n = usize::try_from(n).map_err(|_| input.invalid("cohort count"))?;
        input.check_fits(n, 32, "cohorts")?;
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            let cohort = input.u64("cohort")? as i64;
            let size = input.u64("size")?;
            let open = input.u64("open")?;
            let len = input.u64("offsets")?;
            let len = usize::try_from(len).map_err(|_| input.invalid("offsets"))?;
            input.check_fits(len, 16, "offsets")?;
            let active = input.u64s(len, "active")?;
            let last = input.u64s(len, "last")?;
            rows.push(CohortRow {
                cohort,
                size,
                open,
                active,
                last,
            });
        }
        let (mut as_of_ns, mut left_out) = (None, LeftOut::default());
        if input.version() >= 2 {
            let has = input.u8("as_of flag")?;
            let at = input.u64("as_of")? as i64;
            as_of_ns = match has {
                0 if at == 0 => None,
                1 => Some(at),
                _ => return Err(input.invalid(format!("as_of flag {has} with as_of {at}"))),
            };
            left_out = LeftOut {
                customers_after: input.u64("customers after as_of")?,
                customers_active_after: input.u64("customers active after as_of")?,
                active_periods_after: input.u64("active periods after as_of")?,
            };
        }
        Ok(Self {
            unit,
            rows,
            observed_through,
            n_omitted,
            as_of_ns,
            left_out,
        })
    }
}

/// A cohort retention table.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortTable {
    /// The period unit.
    pub unit: PeriodUnit,
    /// The retention definition.
    pub definition: RetentionDefinition,
    /// Cohort period indices, consecutive from the first cohort to the last (cohorts without
    /// customers included, with size 0).
    pub cohorts: Vec<i64>,
    /// First day of each cohort's period, as days after 1970-01-01.
    pub cohort_start_days: Vec<i64>,
    /// Customers per cohort.
    pub sizes: Vec<u64>,
    /// Offsets 0, 1, … (columns).
    pub n_periods: usize,
    /// Customers retained, cohorts × offsets, row-major; NaN where not observed yet.
    #[serde(with = "serde_nan::vec")]
    pub counts: Vec<f64>,
    /// Retained / size; NaN where not observed yet or the cohort is empty.
    #[serde(with = "serde_nan::vec")]
    pub rates: Vec<f64>,
    /// Whether each cell lies in the last observed period (`as_of`), which may be partial.
    pub incomplete: Vec<bool>,
    /// Per offset: retained / size over the cohorts that reached it (NaN when none did).
    #[serde(with = "serde_nan::vec")]
    pub average: Vec<f64>,
    /// Per offset: customers of the cohorts that reached it (the average's denominator).
    pub average_customers: Vec<u64>,
    /// The last period observed (the period of [`as_of_ns`](Self::as_of_ns) when one was given).
    pub as_of: i64,
    /// The `as_of` instant given (nanoseconds after 1970-01-01T00:00 UTC), inclusive; `None`: the
    /// table is observed to the latest period in the data.
    #[serde(default)]
    pub as_of_ns: Option<i64>,
    /// Customers in the table (the sum of [`sizes`](Self::sizes)).
    pub n_customers: u64,
    /// Rows omitted for a missing customer or time.
    pub n_omitted: u64,
    /// Customers left out because their first activity (their cohort) is after `as_of`.
    #[serde(default)]
    pub n_customers_after_as_of: u64,
    /// Customers in the table with activity after `as_of`. That activity is left out of the
    /// table. When it was left out while folding ([`CohortTable::as_of_in_fold`]) the table is
    /// exact; when a tally folded without `as_of` is finished with an earlier one,
    /// `"return_on_or_after"` (active in period k or any later one) counts these customers as
    /// retained in every period through `as_of`, as the tally keeps only each customer's last
    /// period (`"return_on"` is exact either way).
    #[serde(default)]
    pub n_customers_active_after_as_of: u64,
    /// Activity left out for lying after `as_of`, as (customer, period) pairs: a customer active
    /// in two periods after `as_of` counts twice, several events of one customer in one period
    /// once (customers after `as_of` included; spans without an end are active through `as_of`
    /// only).
    #[serde(default)]
    pub n_active_periods_after_as_of: u64,
    /// Whether the activity after `as_of` was left out while folding ([`CohortTally::until`]):
    /// the table is then exactly that of the activity up to the `as_of` instant, for every
    /// definition. When false and an `as_of` was given, the table is cut at the end of its period
    /// (see [`n_customers_active_after_as_of`](Self::n_customers_active_after_as_of)).
    #[serde(default)]
    pub as_of_in_fold: bool,
}

impl CohortTable {
    fn from_tally(t: &CohortTally, options: &CohortOptions) -> Result<Self> {
        let (Some(first), Some(observed)) = (t.rows.first(), t.observed_through) else {
            if let (Some(cut), true) = (t.as_of_ns, t.left_out.customers_after > 0) {
                return Err(Error::invalid(
                    "as_of",
                    format!(
                        "as_of ({}) is before every customer's first activity ({} customers, all \
                         first active later); give a later as_of",
                        iso_instant(cut, TimeUnit::Ns),
                        t.left_out.customers_after,
                    ),
                ));
            }
            return Err(Error::Undefined(crate::error::UndefinedReason::NoRows));
        };
        if let Some(cut) = t.as_of_ns {
            let asked = match (options.as_of_ns, options.as_of) {
                (Some(ns), _) if ns != cut => Some(iso_instant(ns, TimeUnit::Ns)),
                (_, Some(p)) if Some(p) != t.as_of_period() => {
                    Some(format!("the {unit} {}", t.unit.label(p), unit = t.unit))
                }
                _ => None,
            };
            if let Some(asked) = asked {
                return Err(Error::invalid(
                    "as_of",
                    format!(
                        "{asked}: this tally was folded up to as_of {} and holds nothing after \
                         it; finish it with that as_of (or none), or fold the data again with the \
                         as_of you want",
                        iso_instant(cut, TimeUnit::Ns),
                    ),
                ));
            }
        }
        if let (Some(ns), Some(p)) = (options.as_of_ns, options.as_of) {
            if t.unit.index_of(ns, TimeUnit::Ns) != p {
                return Err(Error::invalid(
                    "as_of",
                    format!(
                        "the instant {} is not in the {unit} {} given as the last observed; give \
                         one or the other",
                        iso_instant(ns, TimeUnit::Ns),
                        t.unit.label(p),
                        unit = t.unit
                    ),
                ));
            }
        }
        let as_of_ns = t.as_of_ns.or(options.as_of_ns);
        let as_of = options
            .as_of
            .or(t.as_of_period())
            .or(as_of_ns.map(|ns| t.unit.index_of(ns, TimeUnit::Ns)))
            .unwrap_or(observed);
        // The last cohort with customers by `as_of` (later ones are left out and counted).
        let last_cohort = t
            .rows
            .iter()
            .rev()
            .map(|r| r.cohort)
            .find(|c| *c <= as_of)
            .unwrap_or(first.cohort);
        if as_of < first.cohort {
            return Err(Error::invalid(
                "as_of",
                format!(
                    "the last observed {unit} is before the first cohort ({} before {}); give a \
                     later as_of",
                    t.unit.label(as_of),
                    t.unit.label(first.cohort),
                    unit = t.unit
                ),
            ));
        }
        // What lies after `as_of` is left out of the table, and counted.
        let (mut customers_after, mut active_after, mut periods_after) = (0u64, 0u64, 0u64);
        for r in &t.rows {
            let inside = (as_of - r.cohort + 1).max(0) as usize;
            if inside == 0 {
                customers_after += r.size;
            } else {
                active_after += r.last.iter().skip(inside).sum::<u64>();
            }
            periods_after += r.active.iter().skip(inside).sum::<u64>();
        }
        let mut n_periods = (as_of - first.cohort + 1) as usize;
        if let Some(m) = options.max_periods {
            n_periods = n_periods.min(m as usize + 1);
        }
        let cohorts: Vec<i64> = (first.cohort..=last_cohort).collect();
        let n = cohorts.len();
        let mut sizes = vec![0u64; n];
        let mut counts = vec![f64::NAN; n * n_periods];
        let mut rates = vec![f64::NAN; n * n_periods];
        let mut incomplete = vec![false; n * n_periods];
        let mut num = vec![0u64; n_periods];
        let mut den = vec![0u64; n_periods];
        let mut rows = t.rows.iter().peekable();
        for (i, &c) in cohorts.iter().enumerate() {
            let row = match rows.peek() {
                Some(r) if r.cohort == c => rows.next(),
                _ => None,
            };
            let size = row.map_or(0, |r| r.size);
            sizes[i] = size;
            let reached = (as_of - c + 1).max(0) as usize;
            let mut later: u64 = row.map_or(0, |r| r.last.iter().sum());
            for k in 0..n_periods.min(reached) {
                let (active, last_k) = row.map_or((0, 0), |r| {
                    (
                        r.active.get(k).copied().unwrap_or(0),
                        r.last.get(k).copied().unwrap_or(0),
                    )
                });
                let open = row.map_or(0, |r| r.open);
                let retained = match options.definition {
                    RetentionDefinition::ReturnOn => active + open,
                    RetentionDefinition::ReturnOnOrAfter => later + open,
                };
                later -= last_k;
                let cell = i * n_periods + k;
                counts[cell] = retained as f64;
                incomplete[cell] = c + k as i64 == as_of;
                if size > 0 {
                    rates[cell] = retained as f64 / size as f64;
                }
                num[k] += retained;
                den[k] += size;
            }
        }
        let average = num
            .iter()
            .zip(&den)
            .map(|(a, b)| {
                if *b == 0 {
                    f64::NAN
                } else {
                    *a as f64 / *b as f64
                }
            })
            .collect();
        Ok(Self {
            unit: t.unit,
            definition: options.definition,
            cohort_start_days: cohorts.iter().map(|c| t.unit.start_day(*c)).collect(),
            cohorts,
            sizes: sizes.clone(),
            n_periods,
            counts,
            rates,
            incomplete,
            average,
            average_customers: den,
            as_of,
            as_of_ns,
            n_customers: sizes.iter().sum(),
            n_omitted: t.n_omitted,
            n_customers_after_as_of: customers_after + t.left_out.customers_after,
            n_customers_active_after_as_of: active_after + t.left_out.customers_active_after,
            n_active_periods_after_as_of: periods_after + t.left_out.active_periods_after,
            as_of_in_fold: t.as_of_ns.is_some(),
        })
    }
}

impl crate::Example for CohortTally {
    fn example() -> Self {
        use crate::cohorts::{CohortBatch, PeriodUnit};
        use crate::groups::TimeUnit;
        use crate::Accumulator;
        const DAY: i64 = 86_400;
        let mut t = crate::CohortTally::new(PeriodUnit::Month);
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
        .expect("the fixed sample rows are valid");
        t.fold_batch(
            CohortBatch::Spans {
                starts: &[10 * DAY, 50 * DAY, i64::MIN],
                ends: &[70 * DAY, i64::MIN, 5 * DAY],
                unit: TimeUnit::S,
            },
            None,
        )
        .expect("the fixed sample rows are valid");
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn calendar_periods_from_days() {
        // 2026-03-15 is day 20527; a Sunday, in the ISO week from Monday 2026-03-09.
        let d = days_from_civil(2026, 3, 15);
        assert_eq!(d, 20527);
        assert_eq!(civil_from_days(d), (2026, 3));
        assert_eq!(PeriodUnit::Month.index_of_day(d), 56 * 12 + 2);
        assert_eq!(
            PeriodUnit::Month.start_day(56 * 12 + 2),
            days_from_civil(2026, 3, 1)
        );
        let w = PeriodUnit::Week.index_of_day(d);
        assert_eq!(PeriodUnit::Week.start_day(w), days_from_civil(2026, 3, 9));
        assert_eq!(
            PeriodUnit::Week.index_of_day(days_from_civil(2026, 3, 16)),
            w + 1
        );
        assert_eq!(
            PeriodUnit::Quarter.start_day(PeriodUnit::Quarter.index_of_day(d)),
            days_from_civil(2026, 1, 1)
        );
        assert_eq!(PeriodUnit::Month.index_of(-1, TimeUnit::S), -1);
        for day in [-800_000i64, -1, 0, 59, 60, 365, 11_016, 2_932_896] {
            for u in PeriodUnit::ALL {
                let i = u.index_of_day(day);
                assert!(
                    u.start_day(i) <= day && day < u.start_day(i + 1),
                    "{u} {day}"
                );
            }
        }
    }

    fn brute_force(customers: &[u32], days: &[i64], as_of: i64, unbounded: bool) -> Vec<Vec<f64>> {
        // Month cohorts by hand: first month per customer, then distinct active months.
        let month = |d: i64| PeriodUnit::Month.index_of_day(d);
        let n = *customers.iter().max().unwrap() as usize + 1;
        let mut first = vec![i64::MAX; n];
        let mut last = vec![i64::MIN; n];
        for (c, d) in customers.iter().zip(days) {
            first[*c as usize] = first[*c as usize].min(month(*d));
            last[*c as usize] = last[*c as usize].max(month(*d));
        }
        let lo = *first.iter().min().unwrap();
        let mut out = vec![vec![f64::NAN; (as_of - lo + 1) as usize]; (as_of - lo + 1) as usize];
        for c in lo..=as_of {
            for k in 0..=(as_of - c) {
                let members: Vec<usize> = (0..n).filter(|&x| first[x] == c).collect();
                let v = members
                    .iter()
                    .filter(|&&x| {
                        if unbounded {
                            last[x] >= c + k
                        } else {
                            customers
                                .iter()
                                .zip(days)
                                .any(|(cc, d)| *cc as usize == x && month(*d) == c + k)
                        }
                    })
                    .count();
                out[(c - lo) as usize][k as usize] = v as f64;
            }
        }
        out
    }

    #[test]
    fn events_match_a_brute_force_count_and_merge_by_customer() {
        let customers: Vec<u32> = (0..400u32).map(|i| (i * 7919) % 37).collect();
        let days: Vec<i64> = (0..400i64).map(|i| 20_000 + (i * 104_729) % 200).collect();
        let times: Vec<i64> = days.iter().map(|d| d * DAY).collect();
        let mut all = CohortTally::new(PeriodUnit::Month);
        all.fold_batch(
            CohortBatch::events(&customers, 37, &times, TimeUnit::S),
            None,
        )
        .unwrap();
        // The same customers split in two partitions by customer.
        let (mut a, mut b) = (
            CohortTally::new(PeriodUnit::Month),
            CohortTally::new(PeriodUnit::Month),
        );
        let pick = |odd: bool| -> (Vec<u32>, Vec<i64>) {
            customers
                .iter()
                .zip(&times)
                .filter(|(c, _)| (**c % 2 == 1) == odd)
                .map(|(c, t)| (*c, *t))
                .unzip()
        };
        let (ca, ta) = pick(false);
        let (cb, tb) = pick(true);
        a.fold_batch(CohortBatch::events(&ca, 37, &ta, TimeUnit::S), None)
            .unwrap();
        b.fold_batch(CohortBatch::events(&cb, 37, &tb, TimeUnit::S), None)
            .unwrap();
        b.merge(&a).unwrap();
        assert_eq!(b, all);
        for (def, unbounded) in [
            (RetentionDefinition::ReturnOn, false),
            (RetentionDefinition::ReturnOnOrAfter, true),
        ] {
            let table = all
                .finish(&CohortOptions {
                    definition: def,
                    ..Default::default()
                })
                .unwrap();
            let expected = brute_force(&customers, &days, table.as_of, unbounded);
            // Cohorts after the last with customers are not rows of the table.
            for (i, row) in expected.iter().take(table.cohorts.len()).enumerate() {
                for (k, v) in row.iter().enumerate() {
                    let got = table.counts[i * table.n_periods + k];
                    assert!(got == *v || (got.is_nan() && v.is_nan()), "{def:?} {i} {k}");
                }
            }
        }
        all.validate().unwrap();
        assert_eq!(CohortTally::from_bytes(&all.to_bytes()).unwrap(), all);
    }

    #[test]
    fn spans_censor_young_cohorts() {
        // Starts in Jan, Jan, Feb 2026; ends in Feb, none, Feb; as of March.
        let jan = days_from_civil(2026, 1, 10) * DAY;
        let feb = days_from_civil(2026, 2, 10) * DAY;
        let mut t = CohortTally::new(PeriodUnit::Month);
        t.fold_batch(
            CohortBatch::Spans {
                starts: &[jan, jan, feb, i64::MIN],
                ends: &[feb, i64::MIN, feb, i64::MIN],
                unit: TimeUnit::S,
            },
            None,
        )
        .unwrap();
        assert_eq!(t.n_omitted(), 1);
        let march = PeriodUnit::Month.index_of_day(days_from_civil(2026, 3, 1));
        let table = t
            .finish(&CohortOptions {
                as_of: Some(march),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(table.sizes, vec![2, 1]);
        assert_eq!(table.n_periods, 3);
        assert_eq!(&table.counts[..3], &[2.0, 2.0, 1.0]);
        assert_eq!(&table.counts[3..5], &[1.0, 0.0]);
        assert!(table.counts[5].is_nan() && table.rates[5].is_nan());
        assert!(table.incomplete[2] && table.incomplete[4] && !table.incomplete[0]);
        // Average of offset 1 over both cohorts: (2 + 0) / 3.
        assert!((table.average[1] - 2.0 / 3.0).abs() < 1e-15);
        let e = t
            .clone()
            .fold_batch(
                CohortBatch::Spans {
                    starts: &[feb],
                    ends: &[jan],
                    unit: TimeUnit::S,
                },
                None,
            )
            .unwrap_err();
        assert!(e.to_string().contains("row 0 ends"));
    }

    fn month_of(y: i64, m: i64, d: i64) -> (i64, i64) {
        let day = days_from_civil(y, m, d);
        (day * DAY, PeriodUnit::Month.index_of_day(day))
    }

    #[test]
    fn as_of_before_the_last_activity_counts_what_it_leaves_out() {
        // The trial's case: customers 1, 2, 2, 3 on Jan 1, Feb 1, Mar 5, Apr 1 2025, as of Feb 15.
        let times = [
            month_of(2025, 1, 1).0,
            month_of(2025, 2, 1).0,
            month_of(2025, 3, 5).0,
            month_of(2025, 4, 1).0,
        ];
        let mut t = CohortTally::new(PeriodUnit::Month);
        t.fold_batch(
            CohortBatch::events(&[0, 1, 1, 2], 3, &times, TimeUnit::S),
            None,
        )
        .unwrap();
        let as_of = month_of(2025, 2, 15).1;
        for definition in [
            RetentionDefinition::ReturnOn,
            RetentionDefinition::ReturnOnOrAfter,
        ] {
            let table = t
                .finish(&CohortOptions {
                    as_of: Some(as_of),
                    definition,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(table.sizes, vec![1, 1]);
            assert_eq!(table.n_customers, 2, "the customers the table holds");
            assert_eq!(
                table.n_customers_after_as_of, 1,
                "customer 3, first active in April"
            );
            // Customer 2 in March, customer 3 in April.
            assert_eq!(table.n_active_periods_after_as_of, 2);
            assert_eq!(table.n_customers_active_after_as_of, 1);
        }
        // Messages name periods, not indices.
        let e = t
            .finish(&CohortOptions {
                as_of: Some(month_of(2024, 1, 1).1),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.to_string().contains("(2024-01 before 2025-01)"), "{e}");
    }

    #[test]
    fn as_of_equals_folding_only_the_activity_up_to_it() {
        // Reference: the table of the events up to the as_of instant only (folded without as_of,
        // finished at the as_of period), and brute-force counts of the events after it. The
        // instants are at any second of a day, and as_of inside a month.
        let mut seed: u64 = 0x5eed;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % m
        };
        let month = |t: i64| PeriodUnit::Month.index_of(t, TimeUnit::S);
        for round in 0..60 {
            let n = 1 + next(60) as usize;
            let customers: Vec<u32> = (0..n).map(|_| next(12) as u32).collect();
            let times: Vec<i64> = (0..n)
                .map(|_| (20_000 + next(240) as i64) * DAY + next(DAY as u64) as i64)
                .collect();
            let mut all = CohortTally::new(PeriodUnit::Month);
            all.fold_batch(
                CohortBatch::events(&customers, 12, &times, TimeUnit::S),
                None,
            )
            .unwrap();
            // as_of: an event's own instant (kept: inclusive) every fourth round, else any second.
            let lo = *times.iter().min().unwrap();
            let as_of = if round % 4 == 0 {
                times[next(n as u64) as usize]
            } else {
                lo + next(270 * DAY as u64) as i64
            };
            let as_of_period = month(as_of);
            let fold_kept = |keep: &dyn Fn(usize) -> bool| {
                let rows: Vec<usize> = (0..n).filter(|&i| keep(i)).collect();
                let kc: Vec<u32> = rows.iter().map(|&i| customers[i]).collect();
                let kt: Vec<i64> = rows.iter().map(|&i| times[i]).collect();
                let mut t = CohortTally::new(PeriodUnit::Month);
                t.fold_batch(CohortBatch::events(&kc, 12, &kt, TimeUnit::S), None)
                    .unwrap();
                t
            };
            let cut = fold_kept(&|i| times[i] <= as_of);
            let cut_by_period = fold_kept(&|i| month(times[i]) <= as_of_period);
            // Brute-force counts of what lies after a cut (`after(i)`: event i is after it).
            let counters = |after: &dyn Fn(usize) -> bool| {
                let mut pairs = std::collections::BTreeSet::new();
                let mut kept = std::collections::BTreeSet::new();
                let mut seen = std::collections::BTreeSet::new();
                for i in 0..n {
                    seen.insert(customers[i]);
                    if after(i) {
                        pairs.insert((customers[i], month(times[i])));
                    } else {
                        kept.insert(customers[i]);
                    }
                }
                let late = seen.iter().filter(|c| !kept.contains(*c)).count() as u64;
                let active_after = pairs
                    .iter()
                    .map(|(c, _)| *c)
                    .filter(|c| kept.contains(c))
                    .collect::<std::collections::BTreeSet<_>>()
                    .len() as u64;
                (late, active_after, pairs.len() as u64, seen.len() as u64)
            };
            let exact_counters = counters(&|i| times[i] > as_of);
            let period_counters = counters(&|i| month(times[i]) > as_of_period);
            for definition in [
                RetentionDefinition::ReturnOn,
                RetentionDefinition::ReturnOnOrAfter,
            ] {
                let options = CohortOptions {
                    as_of: Some(as_of_period),
                    definition,
                    ..Default::default()
                };
                let same = |a: &CohortTable, b: &CohortTable| {
                    a.sizes == b.sizes
                        && a.as_of == b.as_of
                        && a.average_customers == b.average_customers
                        && a.incomplete == b.incomplete
                        && a.counts
                            .iter()
                            .zip(&b.counts)
                            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
                };
                let with = |t: &CohortTally| {
                    if t.n() == 0 {
                        return None;
                    }
                    Some(t.finish(&options).unwrap())
                };
                // Folded with the as_of instant (two partitions by customer, merged): exactly the
                // table of the events up to as_of, with the counters of what was left out.
                let mut folded = CohortTally::until(PeriodUnit::Month, as_of, TimeUnit::S).unwrap();
                for parity in [0, 1] {
                    let rows: Vec<usize> = (0..n).filter(|i| customers[*i] % 2 == parity).collect();
                    let pc: Vec<u32> = rows.iter().map(|&i| customers[i]).collect();
                    let pt: Vec<i64> = rows.iter().map(|&i| times[i]).collect();
                    let mut part =
                        CohortTally::until(PeriodUnit::Month, as_of, TimeUnit::S).unwrap();
                    part.fold_batch(CohortBatch::events(&pc, 12, &pt, TimeUnit::S), None)
                        .unwrap();
                    folded.merge(&part).unwrap();
                }
                let (late, active_after, pairs_after, n_all) = exact_counters;
                let Some(want) = with(&cut) else {
                    // Nothing up to as_of: an error saying so.
                    let e = folded.finish(&options).unwrap_err().to_string();
                    assert!(e.contains("give a later as_of"), "{e}");
                    continue;
                };
                let exact = folded
                    .finish(&CohortOptions {
                        definition,
                        ..Default::default()
                    })
                    .unwrap();
                assert!(exact.as_of_in_fold);
                assert_eq!(exact.as_of_ns, Some(as_of * 1_000_000_000));
                assert!(same(&exact, &want), "round {round} {definition:?}");
                // The as_of period stays flagged incomplete.
                let last = exact.cohorts.len() - 1;
                let k = (as_of_period - exact.cohorts[last]) as usize;
                assert!(k >= exact.n_periods || exact.incomplete[last * exact.n_periods + k]);
                assert_eq!(
                    (
                        exact.n_customers_after_as_of,
                        exact.n_customers_active_after_as_of,
                        exact.n_active_periods_after_as_of
                    ),
                    (late, active_after, pairs_after),
                    "round {round}"
                );
                assert_eq!(exact.n_customers + late, n_all);
                let back = CohortTally::from_bytes(&folded.to_bytes()).unwrap();
                assert_eq!(back, folded);
                assert_eq!(CohortTally::from_json(&folded.to_json()).unwrap(), folded);
                // Folded without as_of and finished at the as_of period: cut at the end of the
                // period; "return_on" is that table exactly, "return_on_or_after" counts the
                // customers active after the period as retained through it (at least as many).
                let got = all.finish(&options).unwrap();
                let by_period = with(&cut_by_period).unwrap();
                assert!(!got.as_of_in_fold && got.as_of_ns.is_none());
                assert_eq!(got.sizes, by_period.sizes, "round {round}");
                let at_least = got
                    .counts
                    .iter()
                    .zip(&by_period.counts)
                    .all(|(a, b)| a >= b || (a.is_nan() && b.is_nan()));
                let (late, active_after, pairs_after, _) = period_counters;
                match definition {
                    RetentionDefinition::ReturnOn => assert!(same(&got, &by_period)),
                    _ => assert!(
                        at_least && (same(&got, &by_period) || active_after > 0),
                        "round {round}"
                    ),
                }
                assert_eq!(got.n_customers_after_as_of, late);
                assert_eq!(got.n_active_periods_after_as_of, pairs_after);
                assert_eq!(got.n_customers_active_after_as_of, active_after);
                assert_eq!(got.n_customers + late, n_all);
            }
        }
    }

    #[test]
    fn the_reported_case_cuts_inside_the_month() {
        // Customer 1 on 2026-01-05 and 2026-02-20, customer 2 on 2026-02-25, as of 2026-02-10:
        // customer 1 was not active in February up to the 10th, customer 2 not yet a customer.
        let at = |y, m, d| days_from_civil(y, m, d) * DAY;
        let times = [at(2026, 1, 5), at(2026, 2, 20), at(2026, 2, 25)];
        let as_of = at(2026, 2, 10);
        for definition in [
            RetentionDefinition::ReturnOn,
            RetentionDefinition::ReturnOnOrAfter,
        ] {
            let mut t = CohortTally::until(PeriodUnit::Month, as_of, TimeUnit::S).unwrap();
            t.fold_batch(
                CohortBatch::events(&[0, 0, 1], 2, &times, TimeUnit::S),
                None,
            )
            .unwrap();
            let table = t
                .finish(&CohortOptions {
                    definition,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(table.sizes, vec![1]);
            assert_eq!(table.counts, vec![1.0, 0.0]);
            assert_eq!(table.incomplete, vec![false, true]);
            assert_eq!(table.n_customers_after_as_of, 1);
            assert_eq!(table.n_customers_active_after_as_of, 1);
            assert_eq!(table.n_active_periods_after_as_of, 2);
            // An event exactly at as_of is kept.
            let mut at_edge = CohortTally::until(PeriodUnit::Month, as_of, TimeUnit::S).unwrap();
            at_edge
                .fold_batch(
                    CohortBatch::events(&[0, 0], 1, &[times[0], as_of], TimeUnit::S),
                    None,
                )
                .unwrap();
            let table = at_edge
                .finish(&CohortOptions {
                    definition,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(table.counts, vec![1.0, 1.0]);
            assert_eq!(table.n_active_periods_after_as_of, 0);
            // The same instant in milliseconds, one millisecond later: after it.
            let mut ms = CohortTally::until(PeriodUnit::Month, as_of, TimeUnit::S).unwrap();
            ms.fold_batch(
                CohortBatch::events(
                    &[0, 0],
                    1,
                    &[times[0] * 1000, as_of * 1000 + 1],
                    TimeUnit::Ms,
                ),
                None,
            )
            .unwrap();
            assert_eq!(ms.left_out().active_periods_after, 1);
        }
    }

    #[test]
    fn spans_folded_with_as_of_are_the_spans_known_then() {
        // Starts and ends in months 0..8, as_of on the 10th of month 3 (an end after as_of is no
        // end yet as of as_of; a start after it is left out, in month 3 too).
        let month = |m: i64| PeriodUnit::Month.start_day(660 + m) * DAY + 3_600;
        let in3 = |days: i64| month(3) + days * DAY;
        let starts: Vec<i64> = [
            month(0),
            month(0),
            month(1),
            month(2),
            month(5),
            month(6),
            month(1),
            month(0),
            in3(15),
            in3(15),
        ]
        .to_vec();
        let ends: Vec<i64> = [
            month(1),
            i64::MIN,
            month(7),
            month(3),
            month(6),
            i64::MIN,
            month(4),
            in3(20),
            i64::MIN,
            in3(16),
        ]
        .to_vec();
        let as_of = 660 + 3;
        let mut folded = CohortTally::until(PeriodUnit::Month, in3(9), TimeUnit::S).unwrap();
        folded
            .fold_batch(
                CohortBatch::Spans {
                    starts: &starts,
                    ends: &ends,
                    unit: TimeUnit::S,
                },
                None,
            )
            .unwrap();
        // By hand, what is known at as_of: customers 0-3, 6 and 7; 2, 6 and 7 have no end yet.
        let known_ends = [month(1), i64::MIN, i64::MIN, month(3), i64::MIN, i64::MIN];
        let known_starts = [month(0), month(0), month(1), month(2), month(1), month(0)];
        let mut then = CohortTally::new(PeriodUnit::Month);
        then.fold_batch(
            CohortBatch::Spans {
                starts: &known_starts,
                ends: &known_ends,
                unit: TimeUnit::S,
            },
            None,
        )
        .unwrap();
        for definition in [
            RetentionDefinition::ReturnOn,
            RetentionDefinition::ReturnOnOrAfter,
        ] {
            let options = CohortOptions {
                as_of: Some(as_of),
                definition,
                ..Default::default()
            };
            let got = folded.finish(&options).unwrap();
            let want = then.finish(&options).unwrap();
            let text = |v: &[f64]| format!("{v:?}"); // NaN (not observed yet) alike
            assert_eq!(text(&got.counts), text(&want.counts), "{definition:?}");
            assert_eq!(got.sizes, want.sizes);
            // Left out: customers 4, 5, 8 and 9 (first active after as_of; 4 in months 5 and 6,
            // 9 in month 3, 5 and 8 with no end: none), and customers 2 (months 3-7), 6 (months
            // 3-4) and 7 (month 3) active after it.
            assert_eq!(got.n_customers_after_as_of, 4);
            assert_eq!(got.n_customers_active_after_as_of, 3);
            assert_eq!(got.n_active_periods_after_as_of, 2 + 1 + 5 + 2 + 1);
            assert_eq!(got.n_customers, 6);
        }
    }

    #[test]
    fn a_tally_folded_to_an_as_of_is_finished_with_it_and_merges_only_alike() {
        let customers = [0u32, 0, 1];
        let times = [0, 70 * DAY, 40 * DAY];
        // As of 1970-02-20T12:00Z.
        let as_of = 50 * DAY + DAY / 2;
        let mut t = CohortTally::until(PeriodUnit::Month, as_of, TimeUnit::S).unwrap();
        t.fold_batch(
            CohortBatch::events(&customers, 2, &times, TimeUnit::S),
            None,
        )
        .unwrap();
        assert_eq!(t.as_of_ns(), Some(as_of * 1_000_000_000));
        assert_eq!(t.as_of_period(), Some(1));
        assert_eq!(t.left_out().active_periods_after, 1);
        // Another instant of the same month: refused, naming both.
        let other = CohortTally::until(PeriodUnit::Month, 40 * DAY, TimeUnit::S).unwrap();
        let e = t.clone().merge(&other).unwrap_err().to_string();
        assert!(
            e.contains("up to as_of 1970-02-20T12:00:00Z") && e.contains("up to as_of 1970-02-10"),
            "{e}"
        );
        // The same instant in another unit is the same instant.
        let same = CohortTally::until(PeriodUnit::Month, as_of * 1000, TimeUnit::Ms).unwrap();
        t.clone().merge(&same).unwrap();
        assert!(t
            .clone()
            .merge(&CohortTally::new(PeriodUnit::Month))
            .is_err());
        for options in [
            CohortOptions {
                as_of: Some(2),
                ..Default::default()
            },
            CohortOptions {
                as_of_ns: Some(40 * DAY * 1_000_000_000),
                ..Default::default()
            },
        ] {
            let e = t.finish(&options).unwrap_err().to_string();
            assert!(e.contains("folded up to as_of 1970-02-20T12:00:00Z"), "{e}");
        }
        let table = t
            .finish(&CohortOptions {
                as_of: Some(1),
                as_of_ns: Some(as_of * 1_000_000_000),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(table.as_of_ns, Some(as_of * 1_000_000_000));
        assert_eq!(table.as_of, 1);
        // Everything after as_of: an error saying so, not an empty table.
        let mut late = CohortTally::until(PeriodUnit::Month, -DAY, TimeUnit::S).unwrap();
        late.fold_batch(
            CohortBatch::events(&customers, 2, &times, TimeUnit::S),
            None,
        )
        .unwrap();
        let e = late
            .finish(&CohortOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("as_of (1969-12-31) is before") && e.contains("give a later as_of"),
            "{e}"
        );
        // A bad customer code is named by its row, dropped or not.
        let e = CohortTally::until(PeriodUnit::Month, 0, TimeUnit::S)
            .unwrap()
            .fold_batch(
                CohortBatch::events(&[0, 5], 2, &[0, 90 * DAY], TimeUnit::S),
                None,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("code 5 at row 1"), "{e}");
        // An instant that nanoseconds cannot hold is an error, not a wrapped number.
        let e = CohortTally::until(PeriodUnit::Month, i64::MAX / 1000, TimeUnit::S)
            .unwrap_err()
            .to_string();
        assert!(e.contains("give an as_of in that range"), "{e}");
        // Version 1 payloads (before as_of) still read, without an as_of.
        let v1 = CohortTally::new(PeriodUnit::Month);
        assert_eq!(v1.as_of_ns(), None);
        // A hand-edited state with activity after its as_of is refused.
        let json = t.to_json().replace(
            &format!("\"as_of_ns\":{}", as_of * 1_000_000_000),
            &format!("\"as_of_ns\":{}", 20 * DAY * 1_000_000_000),
        );
        assert_ne!(json, t.to_json());
        assert!(CohortTally::from_json(&json).is_err());
    }

    #[test]
    fn period_labels_and_iso_instants() {
        assert_eq!(PeriodUnit::Month.label(660), "2025-01");
        assert_eq!(PeriodUnit::Month.label(648), "2024-01");
        assert_eq!(PeriodUnit::Quarter.label(220), "2025-Q1");
        assert_eq!(PeriodUnit::Year.label(55), "2025");
        let day = days_from_civil(2025, 3, 31);
        assert_eq!(PeriodUnit::Day.label(day), "2025-03-31");
        // 2025-03-31 is a Monday.
        assert_eq!(
            PeriodUnit::Week.label(PeriodUnit::Week.index_of_day(day + 3)),
            "week of 2025-03-31"
        );
        assert_eq!(
            iso_instant(1_733_011_200_000_000_000, TimeUnit::Ns),
            "2024-12-01"
        );
        assert_eq!(iso_instant(-1, TimeUnit::S), "1969-12-31T23:59:59Z");
        assert_eq!(iso_instant(1_500, TimeUnit::Ms), "1970-01-01T00:00:01.500Z");
    }
}
