//! Activity from event logs: new vs returning customers per calendar period, and abandonment at
//! each stage of an ordered list of stages.
//!
//! **New vs returning**, per calendar period ([`PeriodUnit`] of UTC instants): the customers active
//! in the period (at least one event) split into **new** (their first period in the data),
//! **returning** (seen in an earlier period within the look-back) and **reactivated** (seen before,
//! but not within the look-back; always 0 with an unbounded look-back). With
//! [`Lookback::Periods`]`(n)` a customer returns when their previous active period is at most `n`
//! periods earlier. "New" means new *within the data*: a customer whose history starts before the
//! data counts as new in their first period in it. Every period from the first to the last one
//! with events is listed, empty ones included.
//!
//! **Abandonment**: given the stages in order, each customer's **furthest stage** is the last stage
//! of the list among their events (in list order, whatever the order of the events); the result
//! gives, per stage, the customers whose furthest stage it is (for every stage but the last, the
//! customers who abandoned there), their share of the customers with at least one stage event
//! (Wilson interval), and the customers who reached it (furthest stage at or after it). Events not
//! in the list are ignored; customers without any stage event are counted apart.
//!
//! ```
//! use cx_metrics::activity::{abandonment, new_vs_returning, Lookback};
//! use cx_metrics::cohorts::PeriodUnit;
//! use cx_metrics::groups::TimeUnit;
//! // Customer 0 active on days 0 and 1, customer 1 on day 1.
//! let r = new_vs_returning(&[0, 0, 1], 2, None, &[0, 86_400, 86_400], TimeUnit::S,
//!                          PeriodUnit::Day, Lookback::Unbounded).unwrap();
//! assert_eq!((r.periods[1].new, r.periods[1].returning), (1, 1));
//! let stages = ["visit".to_string(), "cart".to_string(), "pay".to_string()];
//! let a = abandonment(&[0, 0, 1], 2, None, &[0, 1, 0], &stages, &stages, 0.95).unwrap();
//! assert_eq!((a.stages[0].last, a.stages[1].last, a.stages[2].last), (1, 1, 0));
//! ```

use serde::{Deserialize, Serialize};

use crate::cohorts::PeriodUnit;
use crate::error::{Error, Result};
use crate::groups::TimeUnit;
use crate::intervals::{proportion_ci, Interval, ProportionMethod};

/// Most periods a new-vs-returning table may span.
pub const MAX_PERIODS: i64 = 100_000;

/// How far back a customer's earlier activity makes them returning.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lookback {
    /// Any earlier period within the data.
    Unbounded,
    /// At most this many periods before (1: the previous period).
    Periods(u32),
}

/// One calendar period of a [`NewVsReturning`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodActivity {
    /// The period's first day, as days after 1970-01-01.
    pub start_day: i64,
    /// Customers with at least one event in the period.
    pub active: u64,
    /// Of them, customers whose first period in the data it is.
    pub new: u64,
    /// Of them, customers active in an earlier period within the look-back.
    pub returning: u64,
    /// Of them, customers seen before, but not within the look-back.
    pub reactivated: u64,
}

/// New vs returning customers per calendar period.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewVsReturning {
    /// The calendar period.
    pub period: PeriodUnit,
    /// The look-back that makes a customer returning.
    pub lookback: Lookback,
    /// Every period from the first to the last with events.
    pub periods: Vec<PeriodActivity>,
    /// Customers with at least one event.
    pub customers: u64,
    /// Rows left out for a missing customer or time.
    pub n_omitted: u64,
}

fn check_codes(customers: &[u32], n_customers: usize) -> Result<()> {
    if let Some(i) = customers.iter().position(|c| *c as usize >= n_customers) {
        return Err(Error::invalid(
            "customer_id",
            format!(
                "code {} at row {i} is not below the {n_customers} customers",
                customers[i]
            ),
        ));
    }
    Ok(())
}

/// New vs returning customers per `period` from events: the customer of each event (dense codes
/// below `n_customers`; `missing` is the code of rows without one) and its time in `unit` since
/// 1970-01-01T00:00 UTC (`i64::MIN`: missing). Rows without a customer or time are left out and
/// counted.
///
/// # Errors
/// [`Error::LengthMismatch`]; [`Error::InvalidArgument`] for a code beyond `n_customers`, a
/// look-back of 0 periods, no event with a customer and a time, or more than [`MAX_PERIODS`]
/// periods between the first and the last event.
pub fn new_vs_returning(
    customers: &[u32],
    n_customers: usize,
    missing: Option<u32>,
    times: &[i64],
    unit: TimeUnit,
    period: PeriodUnit,
    lookback: Lookback,
) -> Result<NewVsReturning> {
    if customers.len() != times.len() {
        return Err(Error::LengthMismatch {
            what: "customers and times",
            left: customers.len(),
            right: times.len(),
        });
    }
    check_codes(customers, n_customers)?;
    if lookback == Lookback::Periods(0) {
        return Err(Error::invalid(
            "lookback",
            "0 periods; give at least 1 (the previous period), or an unbounded look-back",
        ));
    }
    let mut pairs: Vec<(u32, i64)> = Vec::with_capacity(customers.len());
    let mut n_omitted = 0u64;
    for (c, t) in customers.iter().zip(times) {
        if Some(*c) == missing || *t == i64::MIN {
            n_omitted += 1;
        } else {
            pairs.push((*c, period.index_of(*t, unit)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let (Some(lo), Some(hi)) = (
        pairs.iter().map(|p| p.1).min(),
        pairs.iter().map(|p| p.1).max(),
    ) else {
        return Err(Error::invalid(
            "events",
            "no event has both a customer and a time",
        ));
    };
    if hi - lo >= MAX_PERIODS {
        return Err(Error::invalid(
            "period",
            format!(
                "the events span {} {}s, more than {MAX_PERIODS}; use a longer period or filter \
                 the dates",
                hi - lo + 1,
                period
            ),
        ));
    }
    let mut periods: Vec<PeriodActivity> = (lo..=hi)
        .map(|p| PeriodActivity {
            start_day: period.start_day(p),
            active: 0,
            new: 0,
            returning: 0,
            reactivated: 0,
        })
        .collect();
    let mut n_customers_seen = 0u64;
    for (k, &(c, p)) in pairs.iter().enumerate() {
        let row = &mut periods[(p - lo) as usize];
        row.active += 1;
        match k.checked_sub(1).map(|j| pairs[j]) {
            Some((prev_c, prev_p)) if prev_c == c => {
                let within = match lookback {
                    Lookback::Unbounded => true,
                    Lookback::Periods(n) => p - prev_p <= i64::from(n),
                };
                if within {
                    row.returning += 1;
                } else {
                    row.reactivated += 1;
                }
            }
            _ => {
                row.new += 1;
                n_customers_seen += 1;
            }
        }
    }
    Ok(NewVsReturning {
        period,
        lookback,
        periods,
        customers: n_customers_seen,
        n_omitted,
    })
}

/// One stage of an [`Abandonment`] table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageAbandonment {
    /// The stage.
    pub stage: String,
    /// Customers whose furthest stage is at or after this one.
    pub reached: u64,
    /// Customers whose furthest stage is this one (abandoned here, or completed for the last).
    pub last: u64,
    /// last ÷ customers with a stage event.
    #[serde(with = "crate::serde_nan")]
    pub share: f64,
    /// Wilson interval of the share.
    pub share_ci: Interval,
}

/// Abandonment at each stage of an ordered list of stages.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Abandonment {
    /// The stages, in order.
    pub stages: Vec<StageAbandonment>,
    /// Customers with at least one stage event (the denominator of the shares).
    pub customers: u64,
    /// Customers with events, but none of the stages.
    pub customers_without_stage: u64,
    /// Rows left out for a missing customer or event.
    pub n_omitted: u64,
}

/// Abandonment at each of `stages` (in order) from events: the customer of each event (dense codes
/// below `n_customers`, `missing` for rows without one) and the event (codes into `names`;
/// `u32::MAX`: missing). Rows without a customer or event are left out and counted.
///
/// # Errors
/// [`Error::LengthMismatch`]; [`Error::InvalidArgument`] for no stage, a stage given twice, a
/// stage that is not among the events' names (naming it), a code without a name, no customer with
/// a stage event, or a bad confidence level.
#[allow(clippy::too_many_arguments)]
pub fn abandonment(
    customers: &[u32],
    n_customers: usize,
    missing: Option<u32>,
    events: &[u32],
    names: &[String],
    stages: &[String],
    confidence_level: f64,
) -> Result<Abandonment> {
    if customers.len() != events.len() {
        return Err(Error::LengthMismatch {
            what: "customers and events",
            left: customers.len(),
            right: events.len(),
        });
    }
    check_codes(customers, n_customers)?;
    if stages.is_empty() {
        return Err(Error::invalid(
            "stages",
            "no stage given; list them in order",
        ));
    }
    // The stage of every event name (u32::MAX: not a stage).
    let mut stage_of = vec![u32::MAX; names.len()];
    for (k, s) in stages.iter().enumerate() {
        if stages[..k].contains(s) {
            return Err(Error::invalid(
                "stages",
                format!("{s:?} is listed twice; give each stage once"),
            ));
        }
        let mut found = false;
        for (e, n) in names.iter().enumerate() {
            if n == s {
                stage_of[e] = k as u32;
                found = true;
            }
        }
        if !found {
            let mut known: Vec<&str> = names.iter().map(String::as_str).collect();
            known.sort_unstable();
            known.truncate(20);
            return Err(Error::invalid(
                "stages",
                format!(
                    "{s:?} is not an event in the data (events: {}); check its spelling",
                    known.join(", ")
                ),
            ));
        }
    }
    // Furthest stage per customer: -2 no event, -1 events but no stage, else the stage index.
    let mut furthest = vec![-2i64; n_customers];
    let mut n_omitted = 0u64;
    for (i, (&c, &e)) in customers.iter().zip(events).enumerate() {
        if Some(c) == missing || e == u32::MAX {
            n_omitted += 1;
            continue;
        }
        let Some(&s) = stage_of.get(e as usize) else {
            return Err(Error::invalid(
                "events",
                format!(
                    "the event code {e} at row {i} has no name ({} names)",
                    names.len()
                ),
            ));
        };
        let s = if s == u32::MAX { -1 } else { i64::from(s) };
        let f = &mut furthest[c as usize];
        *f = (*f).max(s);
    }
    let mut last = vec![0u64; stages.len()];
    let mut without = 0u64;
    for f in &furthest {
        match *f {
            -1 => without += 1,
            f if f >= 0 => last[f as usize] += 1,
            _ => {}
        }
    }
    let total: u64 = last.iter().sum();
    if total == 0 {
        return Err(Error::invalid(
            "stages",
            "no customer has an event among the stages",
        ));
    }
    let mut reached = total;
    let mut out = Vec::with_capacity(stages.len());
    for (s, l) in stages.iter().zip(&last) {
        out.push(StageAbandonment {
            stage: s.clone(),
            reached,
            last: *l,
            share: *l as f64 / total as f64,
            share_ci: proportion_ci(
                *l as f64,
                total as f64,
                confidence_level,
                ProportionMethod::Wilson,
            )?,
        });
        reached -= l;
    }
    Ok(Abandonment {
        stages: out,
        customers: total,
        customers_without_stage: without,
        n_omitted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::{repeat_rate, Window};

    #[test]
    fn new_returning_and_reactivated_by_hand() {
        // Customer 0: days 0, 1, 5; customer 1: days 1, 3; customer 2: day 5 (and a row without a
        // time).
        let c = [0, 0, 0, 1, 1, 2, 2];
        let t = [0, 1, 5, 1, 3, 5, i64::MIN];
        let r = new_vs_returning(
            &c,
            3,
            None,
            &t,
            TimeUnit::S,
            PeriodUnit::Day,
            Lookback::Unbounded,
        );
        // Seconds: every event is on day 0; use days in seconds instead.
        assert_eq!(r.unwrap().periods.len(), 1);
        let t: Vec<i64> = t
            .iter()
            .map(|x| if *x == i64::MIN { *x } else { x * 86_400 })
            .collect();
        let r = new_vs_returning(
            &c,
            3,
            None,
            &t,
            TimeUnit::S,
            PeriodUnit::Day,
            Lookback::Unbounded,
        )
        .unwrap();
        let got: Vec<(u64, u64, u64, u64)> = r
            .periods
            .iter()
            .map(|p| (p.active, p.new, p.returning, p.reactivated))
            .collect();
        assert_eq!(
            got,
            [
                (1, 1, 0, 0),
                (2, 1, 1, 0),
                (0, 0, 0, 0),
                (1, 0, 1, 0),
                (0, 0, 0, 0),
                (2, 1, 1, 0)
            ]
        );
        assert_eq!((r.customers, r.n_omitted), (3, 1));
        let r = new_vs_returning(
            &c,
            3,
            None,
            &t,
            TimeUnit::S,
            PeriodUnit::Day,
            Lookback::Periods(2),
        )
        .unwrap();
        // Day 5: customer 0 last seen on day 1 (4 days before): reactivated.
        assert_eq!((r.periods[5].returning, r.periods[5].reactivated), (0, 1));
        assert_eq!(r.periods[3].returning, 1);
    }

    #[test]
    fn agrees_with_repeat_rate_windows() {
        // Pseudo-random events over 120 days; each month's new and returning equal those of
        // `customers::repeat_rate` over the month's window.
        let mut state = 12_345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 33
        };
        let n = 2_000;
        let c: Vec<u32> = (0..n).map(|_| (next() % 300) as u32).collect();
        let t: Vec<i64> = (0..n).map(|_| (next() % (120 * 86_400)) as i64).collect();
        let r = new_vs_returning(
            &c,
            300,
            None,
            &t,
            TimeUnit::S,
            PeriodUnit::Month,
            Lookback::Unbounded,
        )
        .unwrap();
        for (k, p) in r.periods.iter().enumerate() {
            let start = p.start_day * 86_400;
            let end = r
                .periods
                .get(k + 1)
                .map_or(i64::MAX, |q| q.start_day * 86_400);
            let w = repeat_rate(&c, 300, None, &t, Window { start, end }, 0.95).unwrap();
            assert_eq!(
                (p.new, p.returning, p.active),
                (w.new, w.returning, w.customers)
            );
        }
    }

    #[test]
    fn abandonment_by_hand_and_errors() {
        let names: Vec<String> = ["visit", "cart", "pay", "help"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        let stages = names[..3].to_vec();
        // c0: visit cart pay; c1: visit cart; c2: cart (no visit); c3: help only; c4: visit.
        let c = [0, 0, 0, 1, 1, 2, 3, 4, 4];
        let e = [0, 1, 2, 0, 1, 1, 3, 0, u32::MAX];
        let a = abandonment(&c, 5, None, &e, &names, &stages, 0.95).unwrap();
        let got: Vec<(u64, u64)> = a.stages.iter().map(|s| (s.reached, s.last)).collect();
        assert_eq!(got, [(4, 1), (3, 2), (1, 1)]);
        assert_eq!(
            (a.customers, a.customers_without_stage, a.n_omitted),
            (4, 1, 1)
        );
        let ci = proportion_ci(2.0, 4.0, 0.95, ProportionMethod::Wilson).unwrap();
        assert_eq!(a.stages[1].share_ci, ci);
        assert_eq!(a.stages[1].share, 0.5);
        let bad = |s: &[&str]| {
            let s: Vec<String> = s.iter().map(|x| (*x).to_string()).collect();
            abandonment(&c, 5, None, &e, &names, &s, 0.95)
                .unwrap_err()
                .to_string()
        };
        assert!(bad(&["visit", "chekout"]).contains("\"chekout\" is not an event"));
        assert!(bad(&["visit", "visit"]).contains("listed twice"));
        assert!(bad(&[]).contains("no stage"));
    }
}
