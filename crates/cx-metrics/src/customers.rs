//! Customers from order events: a mergeable per-customer summary (first and last order, orders,
//! total value: recency / frequency / monetary; and the orders at the first instant, for the mean
//! value of the repeat orders that the Gamma–Gamma model takes), new vs returning customers, and the
//! repeat-purchase rate of a window.
//!
//! **Repeat-purchase rate** of a window `[start, end)`: customers with two or more orders in the
//! window ÷ customers with at least one order in the window (both counted in the same window, with a
//! Wilson interval). **New** customers of the window placed their first order ever in it;
//! **returning** ones had ordered before it and order again in it. Orders outside the window count
//! only for a customer's first order.
//!
//! ```
//! use cx_metrics::customers::{repeat_rate, Window};
//! // Customers 0 and 1 order twice in the window, 2 once, 3 only before it.
//! let customers = [0u32, 0, 1, 1, 2, 3, 2];
//! let times = [10, 12, 11, 15, 13, 1, 2];
//! let r = repeat_rate(&customers, 4, None, &times, Window { start: 10, end: 20 }, 0.95).unwrap();
//! assert_eq!((r.customers, r.once, r.repeat), (3, 1, 2));
//! assert_eq!((r.new, r.returning), (2, 1));
//! assert!((r.rate - 2.0 / 3.0).abs() < 1e-15);
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::intervals::{proportion_ci, Interval, ProportionMethod};
use crate::state::{add_count, Accumulator, Decoder, Encoder, StateKind};
use crate::tally::Merge;

/// A window of time `[start, end)`, in the unit of the order times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First instant in the window.
    pub start: i64,
    /// First instant after the window.
    pub end: i64,
}

/// New vs returning customers and the repeat-purchase rate of a window.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatRate {
    /// The window.
    pub window: Window,
    /// Customers with at least one order in the window.
    pub customers: u64,
    /// Of them, customers with exactly one order in the window.
    pub once: u64,
    /// Of them, customers with two or more orders in the window.
    pub repeat: u64,
    /// repeat / customers.
    pub rate: f64,
    /// Wilson interval of the rate.
    pub rate_ci: Interval,
    /// Customers whose first order ever is in the window.
    pub new: u64,
    /// Customers who ordered before the window and again in it.
    pub returning: u64,
    /// Orders in the window.
    pub orders: u64,
    /// Order rows omitted for a missing customer or time.
    pub n_omitted: u64,
}

/// New vs returning customers and the repeat-purchase rate of `window`, from order events: the
/// customer of each order (dense codes below `n_customers`, `missing` for a row without one) and
/// its time (`i64::MIN` is missing); rows without a customer or time are omitted and counted.
///
/// # Errors
/// [`Error::LengthMismatch`]; [`Error::InvalidArgument`] for an empty or reversed window, a code
/// beyond `n_customers`, or a bad confidence level; [`Error::InvalidArgument`] naming the window
/// when no customer ordered in it.
pub fn repeat_rate(
    customers: &[u32],
    n_customers: usize,
    missing: Option<u32>,
    times: &[i64],
    window: Window,
    confidence_level: f64,
) -> Result<RepeatRate> {
    if customers.len() != times.len() {
        return Err(Error::LengthMismatch {
            what: "customers and times",
            left: customers.len(),
            right: times.len(),
        });
    }
    if window.end <= window.start {
        return Err(Error::invalid(
            "window",
            format!(
                "it ends ({}) at or before it starts ({}); give the start first",
                window.end, window.start
            ),
        ));
    }
    let mut in_window = vec![0u32; n_customers];
    let mut before = vec![false; n_customers];
    let (mut orders, mut n_omitted) = (0u64, 0u64);
    for (i, (&c, &t)) in customers.iter().zip(times).enumerate() {
        if t == i64::MIN || Some(c) == missing {
            n_omitted += 1;
            continue;
        }
        let c = c as usize;
        if c >= n_customers {
            return Err(Error::invalid(
                "customers",
                format!("code {c} at row {i} is not below the {n_customers} customers"),
            ));
        }
        if t < window.start {
            before[c] = true;
        } else if t < window.end {
            in_window[c] = in_window[c].saturating_add(1);
            orders += 1;
        }
    }
    let (mut once, mut repeat, mut new, mut returning) = (0u64, 0u64, 0u64, 0u64);
    for (k, b) in in_window.iter().zip(&before) {
        match k {
            0 => continue,
            1 => once += 1,
            _ => repeat += 1,
        }
        if *b {
            returning += 1;
        } else {
            new += 1;
        }
    }
    let buyers = once + repeat;
    if buyers == 0 {
        return Err(Error::invalid(
            "window",
            format!(
                "no customer ordered from {} to {}, so the repeat rate is undefined; check the \
                 window against the order times",
                window.start, window.end
            ),
        ));
    }
    let rate_ci = proportion_ci(
        repeat as f64,
        buyers as f64,
        confidence_level,
        ProportionMethod::Wilson,
    )?;
    Ok(RepeatRate {
        window,
        customers: buyers,
        once,
        repeat,
        rate: repeat as f64 / buyers as f64,
        rate_ci,
        new,
        returning,
        orders,
        n_omitted,
    })
}

/// Dense customer codes of a grouping of customer ids: the code of every row, the number of codes
/// and the code of the missing id (if any row has none).
pub fn customer_codes(ids: &crate::groups::Grouping<'_>) -> (Vec<u32>, usize, Option<u32>) {
    let n = ids.n_groups();
    let missing = ids
        .labels()
        .last()
        .filter(|l| l.iter().all(|x| *x == crate::groups::Label::Missing))
        .map(|_| (n - 1) as u32);
    (ids.codes(), n, missing)
}

/// Dense codes of integer customer ids, numbered in order of first appearance (a hash map, one
/// pass): the fast way to the codes of events keyed by integer ids, where sorted labels are not
/// needed. Returns the codes and the number of distinct ids.
///
/// # Errors
/// [`Error::InvalidArgument`] for more than 2³² − 1 rows.
pub fn factorize_ids(ids: &[i64]) -> Result<(Vec<u32>, usize)> {
    if ids.len() >= u32::MAX as usize {
        return Err(Error::invalid(
            "customer_id",
            format!(
                "{} rows are more than one fold takes; fold them in parts",
                ids.len()
            ),
        ));
    }
    let mut map: rustc_hash::FxHashMap<i64, u32> = rustc_hash::FxHashMap::default();
    let codes = ids
        .iter()
        .map(|id| {
            let next = map.len() as u32;
            *map.entry(*id).or_insert(next)
        })
        .collect();
    Ok((codes, map.len()))
}

/// Check that customer ids are unique (a customer table has one row per customer): `codes` are
/// dense codes below `n_codes` of the ids; the code `missing` (rows without an id) may repeat.
///
/// # Errors
/// [`Error::InvalidArgument`] naming the first row that repeats an earlier row's id.
pub fn check_unique(codes: &[u32], n_codes: usize, missing: Option<u32>) -> Result<()> {
    let mut seen: Vec<Option<usize>> = vec![None; n_codes];
    for (i, &c) in codes.iter().enumerate() {
        if Some(c) == missing {
            continue;
        }
        let Some(slot) = seen.get_mut(c as usize) else {
            return Err(Error::invalid(
                "customer_id",
                format!("code {c} at row {i} is not below the {n_codes} customers"),
            ));
        };
        if let Some(j) = *slot {
            return Err(Error::invalid(
                "customer_id",
                format!(
                    "the id at row {i} repeats the id at row {j}; a customer table has one row \
                     per customer (deduplicate it, or use activity events instead)"
                ),
            ));
        }
        *slot = Some(i);
    }
    Ok(())
}

/// One customer's orders: first and last time, count and total value, and the orders at the first
/// instant (what the mean value of the repeat orders needs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CustomerOrders {
    /// Time of the first order.
    pub first: i64,
    /// Time of the last order.
    pub last: i64,
    /// Orders.
    pub orders: u64,
    /// Total value of the orders.
    pub total: f64,
    /// The orders at the first instant (`first`) and their total value; `None` in a summary stored
    /// in format version 1, which did not keep them (fold the orders again to have them).
    #[serde(default)]
    pub at_first: Option<FirstOrders>,
}

/// The orders of a customer at their first instant: how many, and their total value.
///
/// Frequency counts every order but one as a repeat (orders − 1), ties at the first instant
/// included: of several orders at the first instant, one is the first order and the others are
/// repeats, but the data do not say which, so the first order's value is taken as the mean of the
/// orders at the first instant ([`FirstOrders::value`]). With one order at the first instant (the
/// usual case) it is that order's value exactly. Counts and sums only: merging is exact and does
/// not depend on how the orders were split or in which order the parts are merged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FirstOrders {
    /// Orders at the first instant (≥ 1).
    pub orders: u64,
    /// Their total value.
    pub total: f64,
}

impl FirstOrders {
    /// The value counted as the first order's: the mean value of the orders at the first instant.
    pub fn value(&self) -> f64 {
        self.total / self.orders as f64
    }
}

impl CustomerOrders {
    fn merge(&mut self, o: &Self) -> Result<()> {
        let orders = add_count(self.orders, o.orders, || "a customer's order count".into())?;
        let total = self.total + o.total;
        if !total.is_finite() {
            return Err(Error::Overflow {
                what: "a customer's total value".into(),
            });
        }
        let at_first = match self.first.cmp(&o.first) {
            std::cmp::Ordering::Less => self.at_first,
            std::cmp::Ordering::Greater => o.at_first,
            std::cmp::Ordering::Equal => match (self.at_first, o.at_first) {
                (Some(a), Some(b)) => {
                    let orders = add_count(a.orders, b.orders, || {
                        "a customer's order count at the first instant".into()
                    })?;
                    let total = a.total + b.total;
                    if !total.is_finite() {
                        return Err(Error::Overflow {
                            what: "a customer's total value at the first instant".into(),
                        });
                    }
                    Some(FirstOrders { orders, total })
                }
                // A part stored before the first orders were kept: unknown, never guessed.
                _ => None,
            },
        };
        *self = Self {
            first: self.first.min(o.first),
            last: self.last.max(o.last),
            orders,
            total,
            at_first,
        };
        Ok(())
    }

    /// The mean value of the repeat orders (all but the first, see [`FirstOrders`]): (total − the
    /// first order's value) / (orders − 1); 0 for a customer with one order (lifetimes'
    /// `monetary_value`); `None` when the first orders are unknown (a summary stored in format
    /// version 1) and the customer has repeat orders.
    pub fn repeat_mean(&self) -> Option<f64> {
        if self.orders <= 1 {
            return Some(0.0);
        }
        let first = self.at_first?;
        Some((self.total - first.value()) / (self.orders - 1) as f64)
    }
}

/// A customer id: an integer or a text, as the data keep it (a JSON number or string). One summary
/// keeps ids of one kind; integers order before texts, texts by their UTF-8 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CustomerId {
    /// An integer id.
    Int(i64),
    /// A text id.
    Text(String),
}

impl CustomerId {
    fn is_text(&self) -> bool {
        matches!(self, Self::Text(_))
    }
}

impl std::fmt::Display for CustomerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// The customer ids of a batch of orders: integers or texts (a missing text id is `None` and the
/// row is omitted and counted).
#[derive(Debug, Clone, Copy)]
pub enum CustomerIds<'a> {
    /// Integer ids.
    Int(&'a [i64]),
    /// Text ids (`None`: missing).
    Text(&'a [Option<String>]),
}

impl CustomerIds<'_> {
    /// How many ids.
    pub fn len(&self) -> usize {
        match self {
            Self::Int(v) => v.len(),
            Self::Text(v) => v.len(),
        }
    }

    /// Whether there are no ids.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Per-customer summaries of order events (recency / frequency / monetary), keyed by customer ids
/// (integers or texts, one kind per summary): mergeable, so partitions of the orders in any split
/// summarise apart and merge. Each customer keeps the orders at their first instant
/// ([`FirstOrders`], format version 2), from which [`CustomerSummary::rfm`] takes the mean value of
/// the repeat orders; a summary stored in version 1 is read with them unknown.
///
/// ```
/// use cx_metrics::customers::{CustomerIds, Orders};
/// use cx_metrics::{Accumulator, CustomerSummary, Merge};
/// // Customer 7: 10 at t = 0, 20 at t = 7, 30 at t = 14, in two parts.
/// let mut a = CustomerSummary::new();
/// a.fold_batch(Orders { customers: CustomerIds::Int(&[7, 7]), times: &[14, 0], values: Some(&[30.0, 10.0]) }, None)?;
/// let mut b = CustomerSummary::new();
/// b.fold_batch(Orders { customers: CustomerIds::Int(&[7]), times: &[7], values: Some(&[20.0]) }, None)?;
/// a.merge(&b)?;
/// let r = a.rfm(21, 7)?;
/// assert_eq!((r.frequency[0], r.recency[0], r.t[0]), (2.0, 2.0, 3.0));
/// assert_eq!(r.repeat_monetary()?, &[25.0]); // (20 + 30) / 2: the first order left out
/// assert_eq!(r.monetary_all, vec![20.0]);
/// # Ok::<(), cx_metrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawCustomerSummary")]
pub struct CustomerSummary {
    /// Customer ids, ascending, and their orders.
    customers: Vec<(CustomerId, CustomerOrders)>,
    /// Order rows omitted for a missing customer id, time or value.
    n_omitted: u64,
}

#[derive(Deserialize)]
struct RawCustomerSummary {
    customers: Vec<(CustomerId, CustomerOrders)>,
    n_omitted: u64,
}

impl TryFrom<RawCustomerSummary> for CustomerSummary {
    type Error = Error;
    fn try_from(r: RawCustomerSummary) -> Result<Self> {
        let s = Self {
            customers: r.customers,
            n_omitted: r.n_omitted,
        };
        s.validate()?;
        Ok(s)
    }
}

/// Order events: customer id, time (`i64::MIN`: missing) and value (NaN: missing) per order.
#[derive(Debug, Clone, Copy)]
pub struct Orders<'a> {
    /// Customer id per order.
    pub customers: CustomerIds<'a>,
    /// Time per order.
    pub times: &'a [i64],
    /// Value per order (`None`: every order counts 0).
    pub values: Option<&'a [f64]>,
}

impl CustomerSummary {
    /// An empty summary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Customers and their orders, by ascending id.
    pub fn customers(&self) -> &[(CustomerId, CustomerOrders)] {
        &self.customers
    }

    /// Whether the ids are texts (`None` while the summary is empty: either kind may come).
    pub fn text_ids(&self) -> Option<bool> {
        self.customers.first().map(|c| c.0.is_text())
    }

    /// Order rows omitted for a missing customer id, time or value.
    pub fn n_omitted(&self) -> u64 {
        self.n_omitted
    }
}

impl Merge for CustomerSummary {
    fn merge(&mut self, other: &Self) -> Result<()> {
        if let (Some(a), Some(b)) = (self.text_ids(), other.text_ids()) {
            if a != b {
                let kind = |t: bool| if t { "texts" } else { "integers" };
                return Err(Error::Incompatible(format!(
                    "customer summaries keyed by {} and by {}: the same customer would be two; \
                     give every partition the same kind of customer id",
                    kind(a),
                    kind(b)
                )));
            }
        }
        let mut out = Vec::with_capacity(self.customers.len() + other.customers.len());
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.customers, &other.customers);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i].0 < b[j].0) {
                out.push(a[i].clone());
                i += 1;
            } else if i == a.len() || b[j].0 < a[i].0 {
                out.push(b[j].clone());
                j += 1;
            } else {
                let mut m = a[i].1;
                m.merge(&b[j].1)?;
                out.push((a[i].0.clone(), m));
                i += 1;
                j += 1;
            }
        }
        let n_omitted = add_count(self.n_omitted, other.n_omitted, || "omitted rows".into())?;
        self.customers = out;
        self.n_omitted = n_omitted;
        Ok(())
    }
}

impl Accumulator for CustomerSummary {
    const KIND: StateKind = StateKind::CustomerSummary;
    /// Version 2 keeps each customer's orders at the first instant ([`FirstOrders`]); version 1
    /// payloads are read with them unknown.
    const VERSION: u16 = 2;
    type Batch<'a> = Orders<'a>;
    type Options = ();
    type Output = Vec<(CustomerId, CustomerOrders)>;

    fn fold_batch(&mut self, batch: Orders<'_>, weights: Option<&[f64]>) -> Result<()> {
        if weights.is_some() {
            return Err(Error::invalid(
                "weights",
                "customer summaries count orders; weights are not supported",
            ));
        }
        let n = batch.customers.len();
        if batch.times.len() != n {
            return Err(Error::LengthMismatch {
                what: "customers and times",
                left: n,
                right: batch.times.len(),
            });
        }
        if let Some(v) = batch.values {
            if v.len() != n {
                return Err(Error::LengthMismatch {
                    what: "customers and values",
                    left: n,
                    right: v.len(),
                });
            }
            if let Some(i) = v.iter().position(|x| x.is_infinite()) {
                return Err(Error::NonFinite {
                    index: i,
                    value: v[i],
                });
            }
        }
        let mut n_omitted = 0u64;
        let mut kept: Vec<usize> = Vec::with_capacity(n);
        for i in 0..n {
            let t = batch.times[i];
            let value = batch.values.map_or(0.0, |v| v[i]);
            let no_id = matches!(batch.customers, CustomerIds::Text(ids) if ids[i].is_none());
            if t == i64::MIN || value.is_nan() || no_id {
                n_omitted += 1;
            } else {
                kept.push(i);
            }
        }
        let order = |i: usize| {
            let value = batch.values.map_or(0.0, |v| v[i]);
            CustomerOrders {
                first: batch.times[i],
                last: batch.times[i],
                orders: 1,
                total: value,
                at_first: Some(FirstOrders {
                    orders: 1,
                    total: value,
                }),
            }
        };
        let mut part: Vec<(CustomerId, CustomerOrders)> = Vec::new();
        match batch.customers {
            CustomerIds::Int(ids) => {
                kept.sort_unstable_by_key(|&i| ids[i]);
                for i in kept {
                    match part.last_mut() {
                        Some((CustomerId::Int(last), acc)) if *last == ids[i] => {
                            acc.merge(&order(i))?;
                        }
                        _ => part.push((CustomerId::Int(ids[i]), order(i))),
                    }
                }
            }
            CustomerIds::Text(ids) => {
                let id = |i: usize| ids[i].as_deref().unwrap_or_default();
                kept.sort_unstable_by(|&i, &j| id(i).cmp(id(j)));
                for i in kept {
                    match part.last_mut() {
                        Some((CustomerId::Text(last), acc)) if last == id(i) => {
                            acc.merge(&order(i))?;
                        }
                        _ => part.push((CustomerId::Text(id(i).to_owned()), order(i))),
                    }
                }
            }
        }
        self.merge(&Self {
            customers: part,
            n_omitted,
        })
    }

    fn n(&self) -> u64 {
        self.customers.len() as u64
    }

    fn finish(&self, _: &()) -> Result<Vec<(CustomerId, CustomerOrders)>> {
        Ok(self.customers.clone())
    }

    fn validate(&self) -> Result<()> {
        let text = self.text_ids();
        for (k, (id, o)) in self.customers.iter().enumerate() {
            if Some(id.is_text()) != text {
                return Err(Self::KIND.invalid("customer ids of both kinds, integers and texts"));
            }
            if k > 0 && self.customers[k - 1].0 >= *id {
                return Err(Self::KIND.invalid("customer ids out of order or repeated"));
            }
            if o.orders == 0 || o.first > o.last || !o.total.is_finite() {
                return Err(Self::KIND.invalid(format!(
                    "customer {id}: {} orders from {} to {}, total {}",
                    o.orders, o.first, o.last, o.total
                )));
            }
            if let Some(f) = o.at_first {
                // All the orders are at the first instant exactly when the first is the last; then
                // the two totals are sums of the same values, added in the same order. Values may
                // be negative (refunds), so nothing orders the two totals otherwise.
                let all = f.orders == o.orders;
                let consistent = f.orders >= 1
                    && f.orders <= o.orders
                    && f.total.is_finite()
                    && all == (o.first == o.last)
                    && (!all || f.total == o.total);
                if !consistent {
                    return Err(Self::KIND.invalid(format!(
                        "customer {id}: {} of {} orders (total {}) at the first instant {} (last \
                         {}), total {}",
                        f.orders, o.orders, o.total, o.first, o.last, f.total
                    )));
                }
            }
        }
        Ok(())
    }

    fn encode_payload(&self, out: &mut Encoder) {
        // Integer ids as they were always written; text ids after a count of u64::MAX (which no
        // summary of integer ids can have), then the count and each id as a string.
        out.u64(self.n_omitted);
        if self.text_ids() == Some(true) {
            out.u64(u64::MAX);
        }
        out.u64(self.customers.len() as u64);
        for (id, o) in &self.customers {
            match id {
                CustomerId::Int(i) => out.u64(*i as u64),
                CustomerId::Text(t) => out.str(t),
            }
            out.u64(o.first as u64);
            out.u64(o.last as u64);
            out.u64(o.orders);
            out.f64(o.total);
            // Format version 2: the orders at the first instant and their total (0 orders: unknown,
            // a state first stored in version 1).
            let f = o.at_first.unwrap_or(FirstOrders {
                orders: 0,
                total: 0.0,
            });
            out.u64(f.orders);
            out.f64(f.total);
        }
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let n_omitted = input.u64("n_omitted")?;
        let mut n = input.u64("customer count")?;
        let text = n == u64::MAX;
        if text {
            n = input.u64("customer count")?;
        }
        let n = usize::try_from(n).map_err(|_| input.invalid("customer count"))?;
        let v2 = input.version() >= 2;
        let size = if text { 36 } else { 40 } + if v2 { 16 } else { 0 };
        input.check_fits(n, size, "customers")?;
        let mut customers = Vec::with_capacity(n);
        for _ in 0..n {
            let id = if text {
                CustomerId::Text(input.str("id")?)
            } else {
                CustomerId::Int(input.u64("id")? as i64)
            };
            let first = input.u64("first")? as i64;
            let last = input.u64("last")? as i64;
            let orders = input.u64("orders")?;
            let total = input.f64("total")?;
            let at_first = if v2 {
                let orders = input.u64("orders at the first instant")?;
                let total = input.f64("total at the first instant")?;
                match orders {
                    // Unknown is written as 0 orders of total +0.0, nothing else.
                    0 if total.to_bits() == 0 => None,
                    0 => return Err(input.invalid("total at the first instant")),
                    _ => Some(FirstOrders { orders, total }),
                }
            } else {
                None
            };
            customers.push((
                id,
                CustomerOrders {
                    first,
                    last,
                    orders,
                    total,
                    at_first,
                },
            ));
        }
        Ok(Self {
            customers,
            n_omitted,
        })
    }
}

impl crate::Example for CustomerSummary {
    fn example() -> Self {
        use crate::customers::Orders;
        use crate::Accumulator;
        let mut s = crate::CustomerSummary::new();
        s.fold_batch(
            Orders {
                customers: crate::customers::CustomerIds::Int(&[5, 3, 5, 9, 3, 5, -2]),
                times: &[10, 4, 2, 7, i64::MIN, 30, 1],
                values: Some(&[1.5, 2.0, 3.25, 4.0, 5.0, 6.0, f64::NAN]),
            },
            None,
        )
        .expect("the fixed sample rows are valid");
        s
    }

    /// Version 1 did not keep the orders at the first instant: its files restore them unknown.
    fn example_as_of(version: u16) -> Self {
        let mut s = Self::example();
        if version < 2 {
            for (_, o) in &mut s.customers {
                o.at_first = None;
            }
        }
        s
    }
}

/// Per-customer recency / frequency / age and mean order values at the end of a calibration
/// period, in a time unit: the input of the BG/NBD and Gamma–Gamma models
/// ([`crate::buy_till_you_die`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmSummary {
    /// Customer ids, ascending.
    pub ids: Vec<CustomerId>,
    /// Repeat orders: orders − 1.
    pub frequency: Vec<f64>,
    /// Time from the first to the last order, in units.
    pub recency: Vec<f64>,
    /// Time from the first order to the calibration end, in units.
    pub t: Vec<f64>,
    /// Mean value of the repeat orders, the first left out ([`CustomerOrders::repeat_mean`]; 0
    /// with frequency 0): the Gamma–Gamma model's input, lifetimes' `monetary_value`. `None` when
    /// the summary was stored in format version 1 (no first orders) and a customer has repeats.
    pub monetary: Option<Vec<f64>>,
    /// Mean value of all the customer's orders, the first included.
    pub monetary_all: Vec<f64>,
    /// Customers left out for a first order at the calibration end itself (no time observed).
    pub n_excluded: u64,
}

impl RfmSummary {
    /// The mean value of the repeat orders of every customer ([`RfmSummary::monetary`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the summary does not keep the first orders (stored in format
    /// version 1): the fix is to fold the orders again.
    pub fn repeat_monetary(&self) -> Result<&[f64]> {
        self.monetary.as_deref().ok_or_else(|| {
            Error::invalid(
                "summary",
                "it was stored in customer_summary format version 1, which did not keep the value \
                 of each customer's first order, so the mean value of the repeat orders (the \
                 Gamma–Gamma model's monetary) cannot be taken from it; fold the orders into a new \
                 summary",
            )
        })
    }
}

impl CustomerSummary {
    /// Recency, frequency, age `T` and mean order values (of the repeat orders, and of all) of every
    /// customer at `calibration_end`, in units of `unit_length` (both in the unit of the order
    /// times: nanoseconds from Python).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a `unit_length` ≤ 0, or naming the first customer with an
    /// order after `calibration_end` (fold only the calibration period's orders).
    pub fn rfm(&self, calibration_end: i64, unit_length: i64) -> Result<RfmSummary> {
        if unit_length <= 0 {
            return Err(Error::invalid(
                "unit_length",
                format!("{unit_length}; give a length > 0"),
            ));
        }
        let unit = unit_length as f64;
        let mut out = RfmSummary {
            ids: Vec::with_capacity(self.customers.len()),
            frequency: Vec::with_capacity(self.customers.len()),
            recency: Vec::with_capacity(self.customers.len()),
            t: Vec::with_capacity(self.customers.len()),
            monetary: Some(Vec::with_capacity(self.customers.len())),
            monetary_all: Vec::with_capacity(self.customers.len()),
            n_excluded: 0,
        };
        for (id, o) in &self.customers {
            if o.last > calibration_end {
                return Err(Error::invalid(
                    "calibration_end",
                    format!(
                        "customer {id} has an order after the calibration end; fold only the \
                         orders up to the calibration end into the summary"
                    ),
                ));
            }
            if o.first == calibration_end {
                out.n_excluded += 1;
                continue;
            }
            out.ids.push(id.clone());
            out.frequency.push((o.orders - 1) as f64);
            out.recency.push((o.last - o.first) as f64 / unit);
            out.t.push((calibration_end - o.first) as f64 / unit);
            out.monetary_all.push(o.total / o.orders as f64);
            match (o.repeat_mean(), &mut out.monetary) {
                (Some(m), Some(column)) => column.push(m),
                _ => out.monetary = None,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_rate_of_the_reference_vector() {
        // operations_vectors.json "repeat_rate": 250 accounts, 25 never ordered, 150 once and 75
        // twice or more in the window: 75 / 225.
        let mut customers = Vec::new();
        let mut times = Vec::new();
        for c in 0..225u32 {
            let k = if c < 150 { 1 } else { 2 + c % 3 };
            for j in 0..k {
                customers.push(c);
                times.push(100 + i64::from(j));
            }
        }
        let r = repeat_rate(
            &customers,
            250,
            None,
            &times,
            Window {
                start: 100,
                end: 200,
            },
            0.95,
        )
        .unwrap();
        assert_eq!((r.customers, r.once, r.repeat), (225, 150, 75));
        assert!((r.rate - 0.3333333333333333).abs() < 1e-15);
        assert!(repeat_rate(
            &customers,
            250,
            None,
            &times,
            Window {
                start: 300,
                end: 400
            },
            0.95
        )
        .is_err());
    }

    #[test]
    fn integer_ids_are_numbered_by_first_appearance() {
        let (codes, n) = factorize_ids(&[40, -3, 40, 7, -3]).unwrap();
        assert_eq!((codes, n), (vec![0, 1, 0, 2, 1], 3));
    }

    #[test]
    fn duplicate_ids_are_named() {
        assert!(check_unique(&[0, 1, 2], 3, None).is_ok());
        assert!(check_unique(&[0, 2, 1, 2, 2], 3, Some(2)).is_ok());
        let e = check_unique(&[0, 1, 0], 2, None).unwrap_err().to_string();
        assert!(e.contains("row 2 repeats the id at row 0"), "{e}");
    }

    #[test]
    fn summaries_merge_as_one_pass() {
        let rows = [
            (5i64, 10i64, 1.0),
            (3, 4, 2.0),
            (5, 2, 3.0),
            (9, 7, 4.0),
            (3, i64::MIN, 5.0),
            (5, 30, 6.0),
        ];
        let all = fold_int_orders(&rows);
        let mut a = fold_int_orders(&rows[..3]);
        let b = fold_int_orders(&rows[3..]);
        a.merge(&b).unwrap();
        assert_eq!(a, all);
        assert_eq!(all.n_omitted(), 1);
        let five = all
            .customers()
            .iter()
            .find(|c| c.0 == CustomerId::Int(5))
            .unwrap()
            .1;
        assert_eq!(
            (five.first, five.last, five.orders, five.total),
            (2, 30, 3, 10.0)
        );
        assert_eq!(CustomerSummary::from_bytes(&all.to_bytes()).unwrap(), all);
    }

    #[test]
    fn rfm_of_a_summary() {
        let mut s = CustomerSummary::new();
        let orders = Orders {
            customers: CustomerIds::Int(&[7, 7, 7, 3, 9]),
            times: &[0, 14, 21, 7, 28],
            values: Some(&[10.0, 20.0, 30.0, 5.0, 1.0]),
        };
        s.fold_batch(orders, None).unwrap();
        let r = s.rfm(28, 7).unwrap();
        assert_eq!(r.ids, vec![CustomerId::Int(3), CustomerId::Int(7)]);
        assert_eq!(r.frequency, vec![0.0, 2.0]);
        assert_eq!(r.recency, vec![0.0, 3.0]);
        assert_eq!(r.t, vec![3.0, 4.0]);
        assert_eq!(r.monetary_all, vec![5.0, 20.0]);
        // Customer 7's repeat orders are 20 and 30; customer 3 has none.
        assert_eq!(r.repeat_monetary().unwrap(), &[0.0, 25.0]);
        assert_eq!(r.n_excluded, 1);
        assert!(s.rfm(20, 7).unwrap_err().to_string().contains("customer 7"));
        assert!(s.rfm(28, 0).is_err());
    }

    fn text_orders<'a>(
        ids: &'a [Option<String>],
        times: &'a [i64],
        values: &'a [f64],
    ) -> Orders<'a> {
        Orders {
            customers: CustomerIds::Text(ids),
            times,
            values: Some(values),
        }
    }

    #[test]
    fn text_ids_summarise_merge_and_store() {
        let ids: Vec<Option<String>> = ["b-2", "a-1", "b-2", "c", "", "a-1"]
            .iter()
            .map(|s| (!s.is_empty()).then(|| (*s).to_owned()))
            .collect();
        let times = [10i64, 4, 2, 7, 5, 30];
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut all = CustomerSummary::new();
        all.fold_batch(text_orders(&ids, &times, &values), None)
            .unwrap();
        assert_eq!(
            all.n_omitted(),
            1,
            "the row without an id is omitted and counted"
        );
        let keys: Vec<_> = all.customers().iter().map(|c| c.0.clone()).collect();
        let text = |s: &str| CustomerId::Text(s.to_owned());
        assert_eq!(keys, vec![text("a-1"), text("b-2"), text("c")]);
        let a1 = all.customers()[0].1;
        assert_eq!((a1.first, a1.last, a1.orders, a1.total), (4, 30, 2, 8.0));
        let (mut a, mut b) = (CustomerSummary::new(), CustomerSummary::new());
        a.fold_batch(text_orders(&ids[..2], &times[..2], &values[..2]), None)
            .unwrap();
        b.fold_batch(text_orders(&ids[2..], &times[2..], &values[2..]), None)
            .unwrap();
        a.merge(&b).unwrap();
        assert_eq!(a, all);
        assert_eq!(CustomerSummary::from_bytes(&all.to_bytes()).unwrap(), all);
        let json = serde_json::to_string(&all).unwrap();
        assert!(json.contains("\"a-1\""), "{json}");
        assert_eq!(serde_json::from_str::<CustomerSummary>(&json).unwrap(), all);
        let r = all.rfm(40, 1).unwrap();
        assert_eq!(r.ids, keys);
        // Integer and text ids do not mix: the same customer would be two.
        let mut ints = CustomerSummary::new();
        ints.fold_batch(
            Orders {
                customers: CustomerIds::Int(&[1]),
                times: &[3],
                values: None,
            },
            None,
        )
        .unwrap();
        let e = ints.clone().merge(&all).unwrap_err();
        assert!(matches!(e, Error::Incompatible(_)), "{e}");
        assert!(e.to_string().contains("integers and by texts"), "{e}");
        let mut empty = CustomerSummary::new();
        empty.merge(&all).unwrap();
        assert_eq!(empty, all, "an empty summary takes either kind");
    }

    #[test]
    fn hostile_text_summaries_are_refused() {
        let ids = vec![Some("x".to_owned()), Some("y".to_owned())];
        let mut s = CustomerSummary::new();
        s.fold_batch(text_orders(&ids, &[1, 2], &[1.0, 2.0]), None)
            .unwrap();
        let bytes = s.to_bytes();
        for cut in 0..bytes.len() {
            assert!(
                CustomerSummary::from_bytes(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        // Mixed kinds or unordered ids in JSON are refused.
        let mixed = r#"{"customers":[[1,{"first":1,"last":1,"orders":1,"total":0.0}],["a",{"first":1,"last":1,"orders":1,"total":0.0}]],"n_omitted":0}"#;
        assert!(serde_json::from_str::<CustomerSummary>(mixed).is_err());
        let unordered = r#"{"customers":[["b",{"first":1,"last":1,"orders":1,"total":0.0}],["a",{"first":1,"last":1,"orders":1,"total":0.0}]],"n_omitted":0}"#;
        assert!(serde_json::from_str::<CustomerSummary>(unordered).is_err());
    }

    /// One batch of orders `(customer, time, value)` folded into a new summary (with integer values
    /// the sums are exact, so summaries compare bit for bit).
    fn fold_int_orders(rows: &[(i64, i64, f64)]) -> CustomerSummary {
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let times: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let values: Vec<f64> = rows.iter().map(|r| r.2).collect();
        let mut s = CustomerSummary::new();
        s.fold_batch(
            Orders {
                customers: CustomerIds::Int(&ids),
                times: &times,
                values: Some(&values),
            },
            None,
        )
        .unwrap();
        s
    }

    proptest::proptest! {
        /// Any split of an order log (ties at the first instant included), merged in any order or
        /// grouping, gives the one-pass summary exactly; and each customer's first orders and
        /// repeat mean are those of a direct computation from the rows.
        #[test]
        fn any_split_and_merge_order_gives_the_same_summary(
            rows in proptest::collection::vec((0i64..5, 0i64..4, -20i32..50), 1..60),
            parts in proptest::collection::vec(0usize..4, 60),
            order in proptest::strategy::Strategy::prop_shuffle(proptest::strategy::Just(
                (0..4usize).collect::<Vec<_>>()
            )),
        ) {
            use proptest::prelude::*;
            let rows: Vec<(i64, i64, f64)> =
                rows.into_iter().map(|(c, t, v)| (c, t, f64::from(v))).collect();
            let all = fold_int_orders(&rows);
            let split: Vec<CustomerSummary> = (0..4)
                .map(|p| {
                    let mine: Vec<_> = rows
                        .iter()
                        .zip(&parts)
                        .filter(|(_, q)| **q == p)
                        .map(|(r, _)| *r)
                        .collect();
                    fold_int_orders(&mine)
                })
                .collect();
            // Left to right in a random order.
            let mut seq = CustomerSummary::new();
            for &k in &order {
                seq.merge(&split[k]).unwrap();
            }
            prop_assert_eq!(&seq, &all);
            // As a tree, in the reverse order.
            let mut left = split[order[3]].clone();
            left.merge(&split[order[2]]).unwrap();
            let mut right = split[order[1]].clone();
            right.merge(&split[order[0]]).unwrap();
            right.merge(&left).unwrap();
            prop_assert_eq!(&right, &all);
            // The direct computation: the orders at each customer's earliest time, and the repeat
            // mean (total − their mean) / (orders − 1).
            for (id, o) in all.customers() {
                let CustomerId::Int(c) = id else { unreachable!() };
                let mine: Vec<_> = rows.iter().filter(|r| r.0 == *c).collect();
                let t0 = mine.iter().map(|r| r.1).min().unwrap();
                let at: Vec<f64> = mine.iter().filter(|r| r.1 == t0).map(|r| r.2).collect();
                let f = o.at_first.unwrap();
                prop_assert_eq!(f.orders, at.len() as u64);
                prop_assert_eq!(f.total, at.iter().sum::<f64>());
                let n = mine.len() as f64;
                let total: f64 = mine.iter().map(|r| r.2).sum();
                let want = if mine.len() == 1 {
                    0.0
                } else {
                    (total - f.total / at.len() as f64) / (n - 1.0)
                };
                // Integer sums are exact; one division each side: 1e-12 relative.
                let got = o.repeat_mean().unwrap();
                prop_assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{} {}", got, want);
            }
            prop_assert_eq!(CustomerSummary::from_bytes(&all.to_bytes()).unwrap(), all.clone());
            prop_assert_eq!(CustomerSummary::from_json(&all.to_json()).unwrap(), all);
        }
    }

    #[test]
    fn ties_at_the_first_instant_count_as_one_first_order_of_their_mean_value() {
        // Customer 1: 10 and 30 at t = 0 (one of them is the first order, the other a repeat),
        // then 50 at t = 7. Frequency 2; first order's value (10 + 30) / 2 = 20; repeat mean
        // (90 − 20) / 2 = 35, the mean of the two possible choices ((30 + 50) / 2, (10 + 50) / 2).
        let s = fold_int_orders(&[(1, 0, 10.0), (1, 7, 50.0), (1, 0, 30.0)]);
        let o = s.customers()[0].1;
        assert_eq!(
            o.at_first,
            Some(FirstOrders {
                orders: 2,
                total: 40.0
            })
        );
        assert_eq!(o.repeat_mean(), Some(35.0));
        let r = s.rfm(14, 7).unwrap();
        assert_eq!(
            (r.frequency[0], r.repeat_monetary().unwrap()[0]),
            (2.0, 35.0)
        );
        assert_eq!(r.monetary_all[0], 30.0);
    }

    /// A version-1 payload of `s` (the layout before the first orders were kept).
    fn v1_bytes(s: &CustomerSummary) -> Vec<u8> {
        let mut out = Encoder::new();
        out.u64(s.n_omitted);
        out.u64(s.customers.len() as u64);
        for (id, o) in &s.customers {
            let CustomerId::Int(i) = id else {
                unreachable!()
            };
            out.u64(*i as u64);
            out.u64(o.first as u64);
            out.u64(o.last as u64);
            out.u64(o.orders);
            out.f64(o.total);
        }
        let payload = out.into_bytes();
        let mut b = b"CXST".to_vec();
        b.extend_from_slice(&StateKind::CustomerSummary.code().to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        b.extend_from_slice(&payload);
        b
    }

    #[test]
    fn a_version_1_summary_has_no_repeat_monetary_and_says_why() {
        let s = fold_int_orders(&[(1, 0, 10.0), (1, 7, 50.0), (2, 3, 4.0)]);
        let old = CustomerSummary::from_bytes(&v1_bytes(&s)).unwrap();
        assert!(old.customers().iter().all(|c| c.1.at_first.is_none()));
        assert_eq!(
            CustomerSummary::from_bytes(&old.to_bytes()).unwrap(),
            old,
            "unknown first orders round-trip in version 2"
        );
        let r = old.rfm(14, 7).unwrap();
        assert_eq!(r.monetary, None);
        assert_eq!(r.monetary_all, vec![30.0, 4.0]);
        let e = r.repeat_monetary().unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
        assert!(e.to_string().contains("format version 1"), "{e}");
        assert!(
            e.to_string().contains("fold the orders into a new summary"),
            "{e}"
        );
        // Merged with new orders: a customer whose first instant comes from the new part is known,
        // one whose first instant is in the old part stays unknown, never guessed.
        let new = fold_int_orders(&[(1, 9, 1.0), (2, 1, 2.0), (3, 5, 6.0)]);
        let mut m = old.clone();
        m.merge(&new).unwrap();
        let first = |k: usize| m.customers()[k].1.at_first;
        assert_eq!(first(0), None);
        assert_eq!(
            first(1),
            Some(FirstOrders {
                orders: 1,
                total: 2.0
            })
        );
        assert_eq!(
            first(2),
            Some(FirstOrders {
                orders: 1,
                total: 6.0
            })
        );
        // A customer with one order has repeat mean 0 whether or not the first is known.
        let one = fold_int_orders(&[(4, 2, 9.0)]);
        let old_one = CustomerSummary::from_bytes(&v1_bytes(&one)).unwrap();
        assert_eq!(
            old_one.rfm(14, 7).unwrap().repeat_monetary().unwrap(),
            &[0.0]
        );
        // The version-1 JSON (no "at_first") reads the same way.
        let json = r#"{"kind":"customer_summary","version":1,"state":{"customers":[[1,{"first":0,"last":7,"orders":2,"total":60.0}]],"n_omitted":0}}"#;
        let j = CustomerSummary::from_json(json).unwrap();
        assert_eq!(j.customers()[0].1.at_first, None);
    }

    #[test]
    fn inconsistent_first_orders_are_refused() {
        let s = fold_int_orders(&[(1, 0, 10.0), (1, 7, 50.0), (2, 3, 4.0)]);
        let bytes = s.to_bytes();
        // Customer 1's record starts after the header and two counts: id, first, last, orders,
        // total, then the first orders and their total.
        let at = 20 + 16 + 5 * 8;
        let patch = |offset: usize, word: [u8; 8]| {
            let mut b = bytes.clone();
            b[offset..offset + 8].copy_from_slice(&word);
            CustomerSummary::from_bytes(&b)
        };
        assert!(patch(at, 1u64.to_le_bytes()).is_ok());
        for (orders, total) in [
            (3u64, 10.0f64),    // more orders at the first instant than orders
            (2, 60.0),          // all at the first instant, but the last is later
            (1, f64::NAN),      // not finite
            (1, f64::INFINITY), //
            (0, 10.0),          // unknown is 0 orders of total +0.0 only
            (0, -0.0),          //
        ] {
            let mut b = bytes.clone();
            b[at..at + 8].copy_from_slice(&orders.to_le_bytes());
            b[at + 8..at + 16].copy_from_slice(&total.to_le_bytes());
            let e = CustomerSummary::from_bytes(&b).unwrap_err();
            assert!(
                matches!(e, Error::InvalidState { .. }),
                "{orders} {total}: {e}"
            );
        }
        // Customer 2 has one order: its first total must be its total.
        let at2 = at + 16 + 5 * 8;
        let mut b = bytes.clone();
        b[at2 + 8..at2 + 16].copy_from_slice(&5.0f64.to_le_bytes());
        assert!(CustomerSummary::from_bytes(&b).is_err());
        let json = r#"{"customers":[[1,{"first":0,"last":0,"orders":2,"total":6.0,"at_first":{"orders":1,"total":3.0}}]],"n_omitted":0}"#;
        assert!(CustomerSummary::from_json(json).is_err());
    }
}
