//! Event logs: one row per event, with a customer, an event name and a time.
//!
//! The columns arrive as integer codes (the grouping engine, or
//! [`customers::factorize_ids`](crate::customers::factorize_ids) for integer ids, numbers them once):
//! [`EventLog`] holds the code of each row's customer and event name, the distinct event names,
//! each row's time in a declared [`TimeUnit`] (`i64::MIN` for a missing time) and one 64-bit key
//! per customer (a hash of the customer's id, [`key_of_int`] or [`key_of_text`]) with which states
//! built from different partitions can tell that they saw the same customer.
//!
//! [`by_customer`] puts the rows of each customer together (a counting sort on the customer code,
//! stable: a customer's rows keep their input order), in one pass and without sorting the customers.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::groups::{Grouping, Label, TimeUnit};

/// A missing time.
pub const MISSING_TIME: i64 = i64::MIN;

/// An event log as codes. Every slice of rows has the same length.
#[derive(Debug, Clone, Copy)]
pub struct EventLog<'a> {
    /// The customer code of each row, below `n_customers`.
    pub customers: &'a [u32],
    /// The number of customer codes.
    pub n_customers: usize,
    /// The code of rows without a customer id, if any.
    pub missing_customer: Option<u32>,
    /// One key per customer code (a hash of its id, see [`key_of_int`], [`key_of_text`]).
    pub customer_keys: &'a [u64],
    /// The event-name code of each row, below `event_names.len()`.
    pub events: &'a [u32],
    /// The event name of each code (`None`: a missing name).
    pub event_names: &'a [Option<String>],
    /// The time of each row in `unit`s since the epoch ([`MISSING_TIME`]: missing).
    pub times: &'a [i64],
    /// The unit of `times`.
    pub unit: TimeUnit,
}

impl EventLog<'_> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.customers.len()
    }

    /// Whether the log has no row.
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }

    /// Check that the columns line up and every code is in range (the first bad row is named).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] or [`Error::InvalidArgument`].
    pub fn check(&self) -> Result<()> {
        let n = self.customers.len();
        for (what, len) in [
            ("customers and events", self.events.len()),
            ("customers and times", self.times.len()),
        ] {
            if len != n {
                return Err(Error::LengthMismatch {
                    what,
                    left: n,
                    right: len,
                });
            }
        }
        self.check_customers()?;
        let k = self.event_names.len();
        if let Some(i) = self.events.iter().position(|e| *e as usize >= k) {
            return Err(Error::invalid(
                "event",
                format!(
                    "code {} at row {i} is not below the {k} event names",
                    self.events[i]
                ),
            ));
        }
        Ok(())
    }

    /// Check that there is one key per customer code and every row's customer code is in range.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] or [`Error::InvalidArgument`].
    pub fn check_customers(&self) -> Result<()> {
        if self.customer_keys.len() != self.n_customers {
            return Err(Error::LengthMismatch {
                what: "customer codes and customer keys",
                left: self.n_customers,
                right: self.customer_keys.len(),
            });
        }
        if let Some(i) = self
            .customers
            .iter()
            .position(|c| *c as usize >= self.n_customers)
        {
            return Err(Error::invalid(
                "customer",
                format!(
                    "code {} at row {i} is not below the {} customers",
                    self.customers[i], self.n_customers
                ),
            ));
        }
        Ok(())
    }
}

/// The time `t` in `unit`s as nanoseconds (`None` if it does not fit in an `i64`).
pub fn to_ns(t: i64, unit: TimeUnit) -> Option<i64> {
    let per: i64 = match unit {
        TimeUnit::S => 1_000_000_000,
        TimeUnit::Ms => 1_000_000,
        TimeUnit::Us => 1_000,
        _ => 1,
    };
    t.checked_mul(per)
}

/// SplitMix64's finaliser: a fixed bijection of 64-bit values that spreads every input bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The key of an integer customer id (a fixed 64-bit mix: distinct ids have distinct keys).
pub fn key_of_int(id: i64) -> u64 {
    mix(id as u64 ^ 0x9e37_79b9_7f4a_7c15)
}

/// The key of a customer id given as text (FNV-1a of its UTF-8 bytes, then mixed). An id that
/// is an integer in one partition and text in another gets two keys.
pub fn key_of_text(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// The rows grouped by customer: `order[offsets[c]..offsets[c + 1]]` are the rows of customer
/// `c` whose `keep[row]` is true, in input order. A counting sort: two passes over the rows.
pub fn by_customer(customers: &[u32], n_customers: usize, keep: &[bool]) -> (Vec<usize>, Vec<u32>) {
    let mut offsets = vec![0usize; n_customers + 1];
    for (c, k) in customers.iter().zip(keep) {
        if *k {
            offsets[*c as usize + 1] += 1;
        }
    }
    for c in 0..n_customers {
        offsets[c + 1] += offsets[c];
    }
    let mut next = offsets.clone();
    let mut order = vec![0u32; offsets[n_customers]];
    for (i, (c, k)) in customers.iter().zip(keep).enumerate() {
        if *k {
            let slot = &mut next[*c as usize];
            order[*slot] = i as u32;
            *slot += 1;
        }
    }
    (offsets, order)
}

/// Customer codes and keys of integer ids: the codes of each row, and one key per code
/// ([`key_of_int`] of its id). When the ids span a range of at most about twice the number of rows
/// (the usual case of numbered customers) the code is `id − min` (no hashing; codes of ids absent
/// from the range have no rows); otherwise the ids are numbered in order of first appearance, in
/// one hash pass. Either way equal ids share a code and distinct ids have distinct codes.
///
/// # Errors
/// As [`customers::factorize_ids`](crate::customers::factorize_ids).
pub fn int_customers(ids: &[i64]) -> Result<(Vec<u32>, Vec<u64>)> {
    if let Some((min, span)) = dense_span(ids) {
        let codes = ids
            .par_iter()
            .with_min_len(1 << 16)
            .map(|id| id.wrapping_sub(min) as u32)
            .collect();
        let keys = (0..span)
            .map(|c| key_of_int(min.wrapping_add(c as i64)))
            .collect();
        return Ok((codes, keys));
    }
    let (codes, n) = crate::customers::factorize_ids(ids)?;
    let mut keys = vec![0u64; n];
    let mut seen = vec![false; n];
    for (id, c) in ids.iter().zip(&codes) {
        let c = *c as usize;
        if !seen[c] {
            seen[c] = true;
            keys[c] = key_of_int(*id);
        }
    }
    Ok((codes, keys))
}

/// The smallest id and the span `max − min + 1` of ids that may be coded as `id − min`: a span of
/// at most `2 · len + 1024` codes, below 2³².
pub fn dense_span(ids: &[i64]) -> Option<(i64, usize)> {
    if ids.is_empty() || ids.len() >= u32::MAX as usize {
        return None;
    }
    let (min, max) = ids
        .par_chunks(1 << 16)
        .map(|c| {
            c.iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
        })
        .reduce(|| (i64::MAX, i64::MIN), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    let span = u64::try_from(i128::from(max) - i128::from(min) + 1).ok()?;
    let limit = (2 * ids.len() as u64 + 1024).min(u64::from(u32::MAX));
    (span <= limit).then_some((min, span as usize))
}

/// The customer column of an event log as it arrives, read in place.
#[derive(Debug, Clone, Copy)]
pub enum CustomerColumn<'a> {
    /// Codes below `n_customers`, one key per code (as in [`EventLog`]).
    Codes {
        /// The customer code of each row.
        codes: &'a [u32],
        /// The number of customer codes.
        n_customers: usize,
        /// The code of rows without a customer id, if any.
        missing: Option<u32>,
        /// One key per code.
        keys: &'a [u64],
    },
    /// Integer ids without missing values (coded as by [`int_customers`]).
    Ints(&'a [i64]),
}

/// The event-name codes of each row, read in place: `u32` codes (as in [`EventLog`]) or the codes
/// of a categorical column (a negative code is a missing name).
#[derive(Debug, Clone, Copy)]
pub enum EventCodes<'a> {
    /// Codes below the number of event names.
    U32(&'a [u32]),
    /// Categorical codes, 8-bit.
    I8(&'a [i8]),
    /// Categorical codes, 16-bit.
    I16(&'a [i16]),
    /// Categorical codes, 32-bit.
    I32(&'a [i32]),
    /// Categorical codes, 64-bit.
    I64(&'a [i64]),
}

impl EventCodes<'_> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Self::U32(c) => c.len(),
            Self::I8(c) => c.len(),
            Self::I16(c) => c.len(),
            Self::I32(c) => c.len(),
            Self::I64(c) => c.len(),
        }
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An event log as its columns arrive (nothing copied or coded per row): customers, event-name
/// codes with their names, times in `unit`s ([`MISSING_TIME`]: missing).
#[derive(Debug, Clone, Copy)]
pub struct EventColumns<'a> {
    /// The customers.
    pub customers: CustomerColumn<'a>,
    /// The event-name code of each row.
    pub events: EventCodes<'a>,
    /// The event name of each code (`None`: a missing name).
    pub event_names: &'a [Option<String>],
    /// The time of each row in `unit`s since the epoch.
    pub times: &'a [i64],
    /// The unit of `times`.
    pub unit: TimeUnit,
}

/// Customer codes, the missing code and keys from the grouping of a customer-id column: integer
/// labels get [`key_of_int`], every other label [`key_of_text`] of its text.
pub fn label_customers(g: &Grouping<'_>) -> (Vec<u32>, usize, Option<u32>, Vec<u64>) {
    let (codes, n, missing) = crate::customers::customer_codes(g);
    let keys = g
        .labels()
        .iter()
        .map(|l| match l.first() {
            Some(Label::Int(i)) => key_of_int(*i),
            Some(l) => key_of_text(&l.to_string()),
            None => 0,
        })
        .collect();
    (codes, n, missing, keys)
}

/// The event name of a label (`None` for the missing label; non-text labels by their text).
pub fn label_name(l: &Label) -> Option<String> {
    match l {
        Label::Missing => None,
        Label::Text(s) => Some(s.clone()),
        l => Some(l.to_string()),
    }
}

/// Event-name codes of each row and the name of each code (`None` for the missing label) from
/// the grouping of an event column; non-text labels are named by their text.
pub fn event_names(g: &Grouping<'_>) -> (Vec<u32>, Vec<Option<String>>) {
    let names = g
        .labels()
        .iter()
        .map(|l| match l.first() {
            Some(Label::Missing) | None => None,
            Some(Label::Text(s)) => Some(s.clone()),
            Some(l) => Some(l.to_string()),
        })
        .collect();
    (g.codes(), names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_grouped_by_customer_in_input_order() {
        let customers = [2u32, 0, 2, 1, 0];
        let keep = [true, true, true, false, true];
        let (offsets, order) = by_customer(&customers, 3, &keep);
        assert_eq!(offsets, vec![0, 2, 2, 4]);
        assert_eq!(order, vec![1, 4, 0, 2]);
    }

    #[test]
    fn dense_and_hashed_ids_code_alike() {
        // A dense range: codes are id - min, keys those of the ids.
        let (codes, keys) = int_customers(&[12, 10, 12, 13]).unwrap();
        assert_eq!(codes, vec![2, 0, 2, 3]);
        assert_eq!(keys.len(), 4);
        assert_eq!(keys[2], key_of_int(12));
        assert_eq!(keys[1], key_of_int(11));
        // A sparse range: numbered in order of first appearance.
        let ids = [5_000_000_000i64, -7, 5_000_000_000, 3];
        let (codes, keys) = int_customers(&ids).unwrap();
        assert_eq!(codes, vec![0, 1, 0, 2]);
        assert_eq!(
            keys,
            vec![key_of_int(ids[0]), key_of_int(-7), key_of_int(3)]
        );
        // The extremes of i64 do not overflow the span.
        let (codes, _) = int_customers(&[i64::MIN, i64::MAX]).unwrap();
        assert_eq!(codes, vec![0, 1]);
        assert_eq!(int_customers(&[]).unwrap(), (vec![], vec![]));
    }

    #[test]
    fn keys_differ_and_units_convert() {
        assert_ne!(key_of_int(1), key_of_int(2));
        assert_ne!(key_of_text("a"), key_of_text("b"));
        assert_eq!(to_ns(2, TimeUnit::S), Some(2_000_000_000));
        assert_eq!(to_ns(i64::MAX, TimeUnit::Ms), None);
    }
}
