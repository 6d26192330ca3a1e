//! Customers from order events: a mergeable per-customer summary (first and last order, orders,
//! total value: recency / frequency / monetary), new vs returning customers, and the repeat-purchase
//! rate of a window.
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

/// One customer's orders: first and last time, count and total value.
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
        *self = Self {
            first: self.first.min(o.first),
            last: self.last.max(o.last),
            orders,
            total,
        };
        Ok(())
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
/// summarise apart and merge.
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
        let order = |i: usize| CustomerOrders {
            first: batch.times[i],
            last: batch.times[i],
            orders: 1,
            total: batch.values.map_or(0.0, |v| v[i]),
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
        input.check_fits(n, if text { 36 } else { 40 }, "customers")?;
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
            customers.push((
                id,
                CustomerOrders {
                    first,
                    last,
                    orders,
                    total,
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
}

/// Per-customer recency / frequency / age and mean order value at the end of a calibration
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
    /// Mean value of all the customer's orders (the first included: the summary keeps only totals).
    pub monetary: Vec<f64>,
    /// Customers left out for a first order at the calibration end itself (no time observed).
    pub n_excluded: u64,
}

impl CustomerSummary {
    /// Recency, frequency, age `T` and mean order value of every customer at `calibration_end`,
    /// in units of `unit_length` (both in the unit of the order times: nanoseconds from Python).
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
            monetary: Vec::with_capacity(self.customers.len()),
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
            out.monetary.push(o.total / o.orders as f64);
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
        let ids = [5i64, 3, 5, 9, 3, 5];
        let times = [10i64, 4, 2, 7, i64::MIN, 30];
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut all = CustomerSummary::new();
        all.fold_batch(
            Orders {
                customers: CustomerIds::Int(&ids),
                times: &times,
                values: Some(&values),
            },
            None,
        )
        .unwrap();
        let mut a = CustomerSummary::new();
        let mut b = CustomerSummary::new();
        a.fold_batch(
            Orders {
                customers: CustomerIds::Int(&ids[..3]),
                times: &times[..3],
                values: Some(&values[..3]),
            },
            None,
        )
        .unwrap();
        b.fold_batch(
            Orders {
                customers: CustomerIds::Int(&ids[3..]),
                times: &times[3..],
                values: Some(&values[3..]),
            },
            None,
        )
        .unwrap();
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
        assert_eq!(r.monetary, vec![5.0, 20.0]);
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
}
