//! Period churn and retention: customers lost during a period over the customers at its start.
//!
//! A customer is active on `[start, end)` (no end: still active). For a period from the instant
//! `period_start` to the instant `period_end`:
//!
//! | count | customers |
//! | --- | --- |
//! | `customers_start` | active at `period_start` (start ≤ period_start < end) |
//! | `lost` | of those, the ones whose end ≤ `period_end` |
//! | `new` | started after `period_start`, at or before `period_end` |
//! | `new_lost` | of the new ones, those that also ended by `period_end` |
//! | `customers_end` | active at `period_end` = start − lost + new − new_lost |
//!
//! Churn = lost / customers at the start ([`ChurnDenominator::Start`], the default, a binomial
//! proportion with a Wilson interval) or lost / the average of the customers at the start and the
//! end ([`ChurnDenominator::Average`], no binomial interval); retention = 1 − churn. The common
//! shortcut (end − new) / start ([`retention_shortcut`]) equals the retention only when no new
//! customer was lost within the period, and is reported beside it under its own name.
//!
//! Rates of different period lengths convert with a constant hazard ([`convert_churn`]):
//! 1 − (1 − m)¹² for a monthly rate m over a year, never 12·m.
//!
//! ```
//! use cx_metrics::churn::{convert_churn, retention_shortcut, ChurnTally, ChurnOptions};
//! let t = ChurnTally::from_counts(200, 30, 50, 0).unwrap();
//! let r = t.result(&ChurnOptions::default()).unwrap();
//! assert!((r.churn - 0.15).abs() < 1e-15 && (r.retention - 0.85).abs() < 1e-15);
//! assert!((retention_shortcut(200, 220, 50).unwrap() - 0.85).abs() < 1e-15);
//! assert!((convert_churn(0.03, 1.0, 12.0).unwrap() - 0.3061576390045623).abs() < 1e-15);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::groups::TimeUnit;
use crate::intervals::{proportion_ci, Interval, ProportionMethod};
use crate::state::{add_count, Accumulator, Decoder, Encoder, StateKind};
use crate::tally::Merge;

/// What churn is divided by.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChurnDenominator {
    /// The customers at the start of the period (a binomial proportion).
    #[default]
    Start,
    /// The average of the customers at the start and at the end of the period.
    Average,
}

impl ChurnDenominator {
    /// The option string.
    pub fn id(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Average => "average",
        }
    }
}

impl fmt::Display for ChurnDenominator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for ChurnDenominator {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "start" => Ok(Self::Start),
            "average" => Ok(Self::Average),
            _ => Err(Error::invalid(
                "denominator",
                format!("{s:?}; use \"start\" (customers at the start) or \"average\""),
            )),
        }
    }
}

/// Options of a churn result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChurnOptions {
    /// What churn is divided by.
    pub denominator: ChurnDenominator,
    /// Coverage of the intervals.
    pub confidence_level: f64,
    /// The proportion interval (Wilson by default).
    pub method: ProportionMethod,
}

impl Default for ChurnOptions {
    fn default() -> Self {
        Self {
            denominator: ChurnDenominator::Start,
            confidence_level: 0.95,
            method: ProportionMethod::Wilson,
        }
    }
}

/// The mergeable counts of one period: customers at the start, lost, new, new and lost.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawChurnTally")]
pub struct ChurnTally {
    customers_start: u64,
    lost: u64,
    new: u64,
    new_lost: u64,
    /// Customer rows folded without a start (omitted and counted).
    n_omitted: u64,
    /// Customer rows folded that were not active at any time of the period.
    n_outside: u64,
}

#[derive(Deserialize)]
struct RawChurnTally {
    customers_start: u64,
    lost: u64,
    new: u64,
    new_lost: u64,
    #[serde(default)]
    n_omitted: u64,
    #[serde(default)]
    n_outside: u64,
}

impl TryFrom<RawChurnTally> for ChurnTally {
    type Error = Error;
    fn try_from(r: RawChurnTally) -> Result<Self> {
        let t = Self {
            customers_start: r.customers_start,
            lost: r.lost,
            new: r.new,
            new_lost: r.new_lost,
            n_omitted: r.n_omitted,
            n_outside: r.n_outside,
        };
        t.validate()?;
        Ok(t)
    }
}

/// One customer row: its start and end (`None`: still active), in any one time unit.
#[derive(Debug, Clone, Copy)]
pub struct CustomerRows<'a> {
    /// Start of each customer (`None`: missing, omitted and counted).
    pub starts: &'a [Option<i64>],
    /// End of each customer (`None`: still active).
    pub ends: &'a [Option<i64>],
    /// The instant the period starts.
    pub period_start: i64,
    /// The instant the period ends (> `period_start`).
    pub period_end: i64,
    /// The unit of the instants (after 1970-01-01T00:00 UTC), for dates in messages; `None`:
    /// plain numbers in any one unit.
    pub unit: Option<TimeUnit>,
}

/// An instant as a date when its unit is known (`2025-01-31`), else the number.
fn show(value: i64, unit: Option<TimeUnit>) -> String {
    unit.map_or_else(
        || value.to_string(),
        |u| crate::cohorts::iso_instant(value, u),
    )
}

impl ChurnTally {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tally from counts: `customers_start` at the start, `lost` of them during the period,
    /// `new` customers who joined, `new_lost` of whom also left within the period.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when more are lost than there were (`lost > customers_start`,
    /// `new_lost > new`).
    pub fn from_counts(customers_start: u64, lost: u64, new: u64, new_lost: u64) -> Result<Self> {
        if lost > customers_start {
            return Err(Error::invalid(
                "lost",
                format!(
                    "{lost} customers lost but only {customers_start} at the start of the \
                     period; lost counts only customers present at the start"
                ),
            ));
        }
        if new_lost > new {
            return Err(Error::invalid(
                "new_lost",
                format!("{new_lost} new customers lost but only {new} new customers"),
            ));
        }
        Ok(Self {
            customers_start,
            lost,
            new,
            new_lost,
            n_omitted: 0,
            n_outside: 0,
        })
    }

    /// Customers at the start of the period.
    pub fn customers_start(&self) -> u64 {
        self.customers_start
    }
    /// Customers at the start who left during the period.
    pub fn lost(&self) -> u64 {
        self.lost
    }
    /// Customers who joined during the period.
    pub fn new_customers(&self) -> u64 {
        self.new
    }
    /// New customers who also left during the period.
    pub fn new_lost(&self) -> u64 {
        self.new_lost
    }
    /// Customers at the end of the period.
    pub fn customers_end(&self) -> u64 {
        self.customers_start - self.lost + self.new - self.new_lost
    }
    /// Rows omitted for a missing start.
    pub fn n_omitted(&self) -> u64 {
        self.n_omitted
    }

    /// Fold one customer row (`i` names it in errors).
    pub fn push(
        &mut self,
        i: usize,
        start: Option<i64>,
        end: Option<i64>,
        period_start: i64,
        period_end: i64,
        unit: Option<TimeUnit>,
    ) -> Result<()> {
        let Some(s) = start else {
            self.n_omitted += 1;
            return Ok(());
        };
        if let Some(e) = end {
            if e < s {
                return Err(Error::invalid(
                    "end",
                    format!(
                        "the customer at row {i} ends ({}) before it starts ({}); fix or drop \
                         the row",
                        show(e, unit),
                        show(s, unit)
                    ),
                ));
            }
        }
        let ended_by = |t: i64| end.is_some_and(|e| e <= t);
        if s <= period_start {
            if ended_by(period_start) {
                self.n_outside += 1;
            } else {
                self.customers_start += 1;
                self.lost += u64::from(ended_by(period_end));
            }
        } else if s <= period_end {
            self.new += 1;
            self.new_lost += u64::from(ended_by(period_end));
        } else {
            self.n_outside += 1;
        }
        Ok(())
    }

    /// The churn of the counts.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the period when no customer was there at its start (or,
    /// for the average denominator, at its start or end); and for a bad confidence level.
    pub fn result(&self, options: &ChurnOptions) -> Result<ChurnResult> {
        let start = self.customers_start as f64;
        let end = self.customers_end() as f64;
        let denominator_customers = match options.denominator {
            ChurnDenominator::Start => start,
            ChurnDenominator::Average => (start + end) / 2.0,
        };
        if denominator_customers == 0.0 {
            return Err(Error::invalid(
                "period",
                format!(
                    "no customers at the {} of the period, so churn is undefined; check the \
                     period's dates against the customers' start and end dates",
                    match options.denominator {
                        ChurnDenominator::Start => "start",
                        ChurnDenominator::Average => "start or end",
                    }
                ),
            ));
        }
        let lost = self.lost as f64;
        let churn = lost / denominator_customers;
        let (churn_ci, retention_ci) = match options.denominator {
            ChurnDenominator::Start => {
                let c = proportion_ci(lost, start, options.confidence_level, options.method)?;
                let r = Interval {
                    low: 1.0 - c.high,
                    high: 1.0 - c.low,
                    ..c
                };
                (Some(c), Some(r))
            }
            ChurnDenominator::Average => {
                crate::intervals::check_level(options.confidence_level)?;
                (None, None)
            }
        };
        Ok(ChurnResult {
            customers_start: self.customers_start,
            lost: self.lost,
            new: self.new,
            new_lost: self.new_lost,
            customers_end: self.customers_end(),
            denominator: options.denominator,
            denominator_customers,
            churn,
            retention: 1.0 - churn,
            churn_ci,
            retention_ci,
            retention_shortcut: if self.customers_start == 0 {
                f64::NAN
            } else {
                (end - self.new as f64) / start
            },
            method: options.method,
            confidence_level: options.confidence_level,
            n_omitted: self.n_omitted,
            n_outside: self.n_outside,
        })
    }
}

impl Merge for ChurnTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        let add = |a, b, what: &'static str| add_count(a, b, || what.to_string());
        let merged = Self {
            customers_start: add(
                self.customers_start,
                other.customers_start,
                "customers at the start",
            )?,
            lost: add(self.lost, other.lost, "lost customers")?,
            new: add(self.new, other.new, "new customers")?,
            new_lost: add(self.new_lost, other.new_lost, "new customers lost")?,
            n_omitted: add(self.n_omitted, other.n_omitted, "omitted rows")?,
            n_outside: add(self.n_outside, other.n_outside, "rows outside the period")?,
        };
        *self = merged;
        Ok(())
    }
}

impl Accumulator for ChurnTally {
    const KIND: StateKind = StateKind::ChurnTally;
    type Batch<'a> = CustomerRows<'a>;
    type Options = ChurnOptions;
    type Output = ChurnResult;

    /// Customer rows (weights are not supported: churn counts customers).
    fn fold_batch(&mut self, batch: CustomerRows<'_>, weights: Option<&[f64]>) -> Result<()> {
        if weights.is_some() {
            return Err(Error::invalid(
                "weights",
                "churn counts customers; weights are not supported",
            ));
        }
        if batch.starts.len() != batch.ends.len() {
            return Err(Error::LengthMismatch {
                what: "starts and ends",
                left: batch.starts.len(),
                right: batch.ends.len(),
            });
        }
        check_period(batch.period_start, batch.period_end, batch.unit)?;
        let mut part = Self::new();
        for (i, (s, e)) in batch.starts.iter().zip(batch.ends).enumerate() {
            part.push(i, *s, *e, batch.period_start, batch.period_end, batch.unit)?;
        }
        self.merge(&part)
    }

    fn n(&self) -> u64 {
        self.customers_start.saturating_add(self.new)
    }

    fn finish(&self, options: &ChurnOptions) -> Result<ChurnResult> {
        self.result(options)
    }

    fn validate(&self) -> Result<()> {
        if self.lost > self.customers_start {
            return Err(Self::KIND.invalid(format!(
                "{} lost of {} customers at the start",
                self.lost, self.customers_start
            )));
        }
        if self.new_lost > self.new {
            return Err(Self::KIND.invalid(format!(
                "{} new customers lost of {} new",
                self.new_lost, self.new
            )));
        }
        if self.customers_start.checked_add(self.new).is_none() {
            return Err(Self::KIND.invalid("the customer counts overflow"));
        }
        Ok(())
    }

    fn encode_payload(&self, out: &mut Encoder) {
        out.u64s(&[
            self.customers_start,
            self.lost,
            self.new,
            self.new_lost,
            self.n_omitted,
            self.n_outside,
        ]);
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        Ok(Self {
            customers_start: input.u64("customers_start")?,
            lost: input.u64("lost")?,
            new: input.u64("new")?,
            new_lost: input.u64("new_lost")?,
            n_omitted: input.u64("n_omitted")?,
            n_outside: input.u64("n_outside")?,
        })
    }
}

/// Check a period's instants: `period_end` after `period_start`.
/// `unit`: the instants' unit, to name them as dates (`None`: plain numbers).
pub fn check_period(period_start: i64, period_end: i64, unit: Option<TimeUnit>) -> Result<()> {
    if period_end <= period_start {
        return Err(Error::invalid(
            "period",
            format!(
                "the period ends ({}) at or before it starts ({}); give the start first",
                show(period_end, unit),
                show(period_start, unit)
            ),
        ));
    }
    Ok(())
}

/// The churn of one period.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnResult {
    /// Customers at the start of the period.
    pub customers_start: u64,
    /// Customers at the start who left during it.
    pub lost: u64,
    /// Customers who joined during it.
    pub new: u64,
    /// New customers who also left during it (not in `lost`).
    pub new_lost: u64,
    /// Customers at the end.
    pub customers_end: u64,
    /// What churn is divided by.
    pub denominator: ChurnDenominator,
    /// The customers churn is divided by (start, or the average of start and end).
    pub denominator_customers: f64,
    /// lost / denominator.
    pub churn: f64,
    /// 1 − churn.
    pub retention: f64,
    /// Interval of the churn (start denominator only).
    pub churn_ci: Option<Interval>,
    /// Interval of the retention (start denominator only).
    pub retention_ci: Option<Interval>,
    /// The shortcut (end − new) / start ([`retention_shortcut`]): the retention when no new
    /// customer left within the period, above it otherwise.
    #[serde(with = "crate::serde_nan")]
    pub retention_shortcut: f64,
    /// The interval method.
    pub method: ProportionMethod,
    /// Coverage of the intervals.
    pub confidence_level: f64,
    /// Customer rows omitted for a missing start.
    pub n_omitted: u64,
    /// Customer rows not active at any time of the period.
    pub n_outside: u64,
}

impl ChurnResult {
    /// The churn converted to a period `ratio` times as long, with a constant hazard
    /// ([`convert_churn`]); e.g. 12 from a month to a year, 1/12 from a year to a month.
    pub fn churn_over(&self, ratio: f64) -> Result<f64> {
        convert_churn(self.churn, 1.0, ratio)
    }
}

/// The retention shortcut (end − new) / start, from the customers at the start and end of a
/// period and the new customers in it.
///
/// It counts a new customer who left within the period as a customer retained from the start
/// only when it is still there; it equals the retention 1 − lost / start exactly when no new
/// customer left within the period.
///
/// # Errors
/// [`Error::InvalidArgument`] for no customers at the start, or `new > end`.
pub fn retention_shortcut(customers_start: u64, customers_end: u64, new: u64) -> Result<f64> {
    if customers_start == 0 {
        return Err(Error::invalid(
            "customers_start",
            "no customers at the start of the period, so retention is undefined",
        ));
    }
    if new > customers_end {
        return Err(Error::invalid(
            "new",
            format!("{new} new customers but only {customers_end} at the end of the period"),
        ));
    }
    Ok((customers_end - new) as f64 / customers_start as f64)
}

/// A churn rate over a period of length `from` converted to a period of length `to` (any unit),
/// with a constant hazard: 1 − (1 − rate)^(to / from).
///
/// # Errors
/// [`Error::InvalidArgument`] when the rate is outside [0, 1] or a length is not positive and
/// finite.
///
/// ```
/// use cx_metrics::churn::convert_churn;
/// // 2 % a month is 21.5 % a year, not 24 %; 24 % a year is 2.26 % a month.
/// assert!((convert_churn(0.02, 1.0, 12.0).unwrap() - 0.21528327626520016).abs() < 1e-15);
/// assert!((convert_churn(0.24, 12.0, 1.0).unwrap() - 0.02261020693073168).abs() < 1e-15);
/// ```
pub fn convert_churn(rate: f64, from: f64, to: f64) -> Result<f64> {
    if !(rate.is_finite() && (0.0..=1.0).contains(&rate)) {
        return Err(Error::invalid(
            "churn",
            format!("{rate}; a churn rate lies between 0 and 1"),
        ));
    }
    for (name, v) in [("from", from), ("to", to)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::invalid(
                name,
                format!("{v}; a period length must be positive and finite"),
            ));
        }
    }
    // 1 − exp(k·ln(1 − r)) without cancellation for small rates.
    Ok(-((to / from) * (-rate).ln_1p()).exp_m1())
}

/// The churn of customer rows per group of `grouping` (one row per customer), with `None` for a
/// group without customers at the start of the period (for the average denominator: at its start
/// and end).
///
/// # Errors
/// The errors of [`ChurnTally::push`] (naming the row) and a bad confidence level.
pub fn churn_by_group(
    grouping: &crate::groups::Grouping<'_>,
    rows: CustomerRows<'_>,
    options: &ChurnOptions,
) -> Result<Vec<Option<ChurnResult>>> {
    crate::intervals::check_level(options.confidence_level)?;
    check_period(rows.period_start, rows.period_end, rows.unit)?;
    if rows.starts.len() != rows.ends.len() {
        return Err(Error::LengthMismatch {
            what: "starts and ends",
            left: rows.starts.len(),
            right: rows.ends.len(),
        });
    }
    let states = grouping.fold_rows(&ChurnTally::new(), |s, i| {
        s.push(
            i,
            rows.starts[i],
            rows.ends[i],
            rows.period_start,
            rows.period_end,
            rows.unit,
        )
    })?;
    Ok(states.iter().map(|s| s.result(options).ok()).collect())
}

impl crate::Example for ChurnTally {
    fn example() -> Self {
        use crate::churn::CustomerRows;
        use crate::Accumulator;
        let mut t = crate::ChurnTally::new();
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
                unit: None,
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

    #[test]
    fn customer_rows_are_counted_by_their_dates() {
        // Period from 10 to 20.
        let starts = [
            Some(0),
            Some(5),
            Some(12),
            Some(15),
            Some(25),
            Some(1),
            None,
            Some(0),
        ];
        let ends = [
            None,
            Some(15),
            Some(18),
            None,
            None,
            Some(8),
            None,
            Some(20),
        ];
        let mut t = ChurnTally::new();
        t.fold_batch(
            CustomerRows {
                starts: &starts,
                ends: &ends,
                period_start: 10,
                period_end: 20,
                unit: None,
            },
            None,
        )
        .unwrap();
        assert_eq!(
            (
                t.customers_start(),
                t.lost(),
                t.new_customers(),
                t.new_lost()
            ),
            (3, 2, 2, 1)
        );
        assert_eq!((t.n_omitted, t.n_outside, t.customers_end()), (1, 2, 2));
        let r = t.result(&ChurnOptions::default()).unwrap();
        assert!((r.churn - 2.0 / 3.0).abs() < 1e-15);
        // The shortcut (2 − 2) / 3 misses the new customer lost within the period.
        assert_eq!(r.retention_shortcut, 0.0);
        let avg = t
            .result(&ChurnOptions {
                denominator: ChurnDenominator::Average,
                ..Default::default()
            })
            .unwrap();
        assert!((avg.churn - 2.0 / 2.5).abs() < 1e-15 && avg.churn_ci.is_none());
    }

    #[test]
    fn bad_rows_and_periods_are_named() {
        let mut t = ChurnTally::new();
        let e = t
            .fold_batch(
                CustomerRows {
                    starts: &[Some(0), Some(5)],
                    ends: &[None, Some(4)],
                    period_start: 0,
                    period_end: 10,
                    unit: None,
                },
                None,
            )
            .unwrap_err();
        assert!(e
            .to_string()
            .contains("row 1 ends (4) before it starts (5)"));
        assert_eq!(t, ChurnTally::new());
        let e = ChurnTally::new()
            .result(&ChurnOptions::default())
            .unwrap_err();
        assert!(e.to_string().contains("no customers at the start"));
        assert!(ChurnTally::from_counts(2, 3, 0, 0).is_err());
        assert!(check_period(5, 5, None).is_err());
        // With the unit known, instants are named as dates (2024-12-01, 2025-01-20 in ns).
        let e = ChurnTally::new()
            .fold_batch(
                CustomerRows {
                    starts: &[Some(1_737_331_200_000_000_000)],
                    ends: &[Some(1_733_011_200_000_000_000)],
                    period_start: 0,
                    period_end: 10,
                    unit: Some(TimeUnit::Ns),
                },
                None,
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("row 0 ends (2024-12-01) before it starts (2025-01-20)"),
            "{e}"
        );
        let e = check_period(86_400 * 31, 43_200, Some(TimeUnit::S)).unwrap_err();
        assert!(
            e.to_string()
                .contains("ends (1970-01-01T12:00:00Z) at or before it starts (1970-02-01)"),
            "{e}"
        );
        assert!(convert_churn(1.5, 1.0, 12.0).is_err());
    }

    #[test]
    fn wilson_interval_of_churn_mirrors_retention() {
        // 81 of 263 (Newcombe 1998a): Wilson 0.2553 to 0.3662.
        let r = ChurnTally::from_counts(263, 81, 0, 0)
            .unwrap()
            .result(&ChurnOptions::default())
            .unwrap();
        let c = r.churn_ci.unwrap();
        assert!((c.low - 0.2552885198782742).abs() < 1e-12);
        assert!((c.high - 0.36620957698280004).abs() < 1e-12);
        let k = r.retention_ci.unwrap();
        assert!((k.low - (1.0 - c.high)).abs() < 1e-15 && (k.high - (1.0 - c.low)).abs() < 1e-15);
    }
}
