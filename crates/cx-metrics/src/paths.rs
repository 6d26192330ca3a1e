//! Paths from event logs: the most frequent variants (full sequences of events per customer or per
//! session), the transition matrix with start and end pseudo-states, the directly-follows graph
//! with the exact median gap of every edge, the last event before leaving, and the links of a
//! Sankey diagram.
//!
//! A **path** is the time-ordered sequence of one customer's events, or of one session of theirs:
//! a new session starts where the session column changes, or after a gap strictly longer than the
//! session gap (a gap equal to it stays in the session). Events at the same time keep the order of
//! the rows. Rows without a customer, event, time (or session, when sessions come from a column)
//! are left out and counted; events that arrive earlier than the latest event of their customer
//! read so far are sorted into place and counted (`n_reordered`).
//!
//! Conventions, printed with every result:
//!
//! * **transition probability** from `a` to `b` = transitions `a → b` ÷ occurrences of `a` (every
//!   occurrence is followed by a next event or by the end of its path); from `(start)` it is the
//!   share of paths starting with `b`;
//! * **median gap** of an edge: the exact median of every gap between consecutive events `a`, `b` of
//!   a path (the state keeps every gap), the mean of the two middle gaps for an even count (numpy's
//!   and pandas' convention), in the unit of the times;
//! * **variants** are counted exactly, for paths of at most `max_steps` events; longer paths are
//!   counted in `variants_dropped` (they still count in transitions, exits and the graph); the share
//!   of a variant is over all paths; ties in count are ordered by the steps' names.
//!
//! The state [`PathTally`] is mergeable **when each customer's events are in one partition**: it
//! keeps the ids of its customers and refuses a batch or a state holding a customer it already has.
//!
//! ```
//! use cx_metrics::paths::{PathEvents, PathTally};
//! use cx_metrics::Accumulator;
//! let names = ["home".to_string(), "cart".to_string(), "buy".to_string()];
//! // Customer 1: home, cart, buy; customer 2: home, cart; customer 3: home.
//! let batch = PathEvents {
//!     customers: &[1, 1, 1, 2, 2, 3],
//!     events: &[0, 1, 2, 0, 1, 0],
//!     names: &names,
//!     times: &[0, 10, 30, 5, 25, 7],
//!     sessions: None,
//! };
//! let mut t = PathTally::new(None, 50)?;
//! t.fold_batch(batch, None)?;
//! let r = t.finish(&())?;
//! assert_eq!(r.n_paths, 3);
//! assert_eq!(r.variants[0].steps, ["home"]);
//! let cart = r.edges.iter().find(|e| e.from == "home" && e.to == "cart").unwrap();
//! assert_eq!((cart.count, cart.median_gap), (2, 15.0));
//! # Ok::<(), cx_metrics::Error>(())
//! ```

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::{add_count, Accumulator, Decoder, Encoder, Example, StateKind};
use crate::tally::Merge;

mod fold;

/// The name of the start pseudo-state in transition tables.
pub const START: &str = "(start)";
/// The name of the end pseudo-state in transition tables.
pub const END: &str = "(end)";
/// Most events a variant may hold (`max_steps`).
pub const MAX_STEPS_LIMIT: u32 = 10_000;

/// Event rows of one batch.
#[derive(Debug, Clone, Copy)]
pub struct PathEvents<'a> {
    /// Customer id per row (`i64::MIN`: missing).
    pub customers: &'a [i64],
    /// Event per row, a code into `names` (`u32::MAX`: missing).
    pub events: &'a [u32],
    /// The event names the codes point to.
    pub names: &'a [String],
    /// Time per row, in any unit (`i64::MIN`: missing); gaps are in the same unit.
    pub times: &'a [i64],
    /// Session id per row (`i64::MIN`: missing), or `None` for no session column.
    pub sessions: Option<&'a [i64]>,
}

/// Rows left out of a fold, by what they missed (a row is counted once, at its first missing
/// field in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Omitted {
    /// Rows without a customer id.
    pub customer: u64,
    /// Rows without an event.
    pub event: u64,
    /// Rows without a time.
    pub time: u64,
    /// Rows without a session id (only with a session column).
    pub session: u64,
}

impl Omitted {
    fn add(&self, o: &Self) -> Result<Self> {
        let what = || "omitted rows".to_string();
        Ok(Self {
            customer: add_count(self.customer, o.customer, what)?,
            event: add_count(self.event, o.event, what)?,
            time: add_count(self.time, o.time, what)?,
            session: add_count(self.session, o.session, what)?,
        })
    }

    /// All rows left out.
    pub fn total(&self) -> u64 {
        self.customer
            .saturating_add(self.event)
            .saturating_add(self.time)
            .saturating_add(self.session)
    }
}

/// Mergeable path counts: transitions with every gap, starts and exits per event, exact variant
/// counts, and the ids of the customers folded (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPathTally", into = "RawPathTally")]
pub struct PathTally {
    session_gap: Option<i64>,
    max_steps: u32,
    events: Vec<String>,
    starts: Vec<u64>,
    exits: Vec<u64>,
    customers: Vec<i64>,
    paths: u64,
    steps: u64,
    omitted: Omitted,
    n_reordered: u64,
    variants_dropped: u64,
    /// Gaps of every transition `from → to`, ascending (their number is the transition count).
    edges: BTreeMap<(u32, u32), Vec<u64>>,
    variants: BTreeMap<Vec<u32>, u64>,
}

/// The serde form of a [`PathTally`], checked on the way in.
#[derive(Clone, Serialize, Deserialize)]
struct RawPathTally {
    session_gap: Option<i64>,
    max_steps: u32,
    events: Vec<String>,
    starts: Vec<u64>,
    exits: Vec<u64>,
    customers: Vec<i64>,
    paths: u64,
    steps: u64,
    omitted: Omitted,
    n_reordered: u64,
    variants_dropped: u64,
    edges: Vec<(u32, u32, Vec<u64>)>,
    variants: Vec<(Vec<u32>, u64)>,
}

impl From<PathTally> for RawPathTally {
    fn from(t: PathTally) -> Self {
        Self {
            session_gap: t.session_gap,
            max_steps: t.max_steps,
            events: t.events,
            starts: t.starts,
            exits: t.exits,
            customers: t.customers,
            paths: t.paths,
            steps: t.steps,
            omitted: t.omitted,
            n_reordered: t.n_reordered,
            variants_dropped: t.variants_dropped,
            edges: t.edges.into_iter().map(|((a, b), g)| (a, b, g)).collect(),
            variants: t.variants.into_iter().collect(),
        }
    }
}

impl TryFrom<RawPathTally> for PathTally {
    type Error = Error;
    fn try_from(r: RawPathTally) -> Result<Self> {
        let n_edges = r.edges.len();
        let n_variants = r.variants.len();
        let edges: BTreeMap<(u32, u32), Vec<u64>> =
            r.edges.into_iter().map(|(a, b, g)| ((a, b), g)).collect();
        let variants: BTreeMap<Vec<u32>, u64> = r.variants.into_iter().collect();
        if edges.len() != n_edges || variants.len() != n_variants {
            return Err(Self::KIND.invalid("an edge or a variant is given twice"));
        }
        let t = Self {
            session_gap: r.session_gap,
            max_steps: r.max_steps,
            events: r.events,
            starts: r.starts,
            exits: r.exits,
            customers: r.customers,
            paths: r.paths,
            steps: r.steps,
            omitted: r.omitted,
            n_reordered: r.n_reordered,
            variants_dropped: r.variants_dropped,
            edges,
            variants,
        };
        t.validate()?;
        Ok(t)
    }
}

fn check_options(session_gap: Option<i64>, max_steps: u32) -> Result<()> {
    if let Some(g) = session_gap {
        if g <= 0 {
            return Err(Error::invalid(
                "session_gap",
                format!("{g} is not a gap; give a positive inactivity gap (or none for no split)"),
            ));
        }
    }
    if max_steps == 0 || max_steps > MAX_STEPS_LIMIT {
        return Err(Error::invalid(
            "max_steps",
            format!(
                "{max_steps}: the longest path counted as a variant must be 1 to {MAX_STEPS_LIMIT} \
                 events"
            ),
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<()> {
    if name == START || name == END {
        return Err(Error::invalid(
            "event",
            format!(
                "{name:?} is the name of a pseudo-state of the transition table; rename that event"
            ),
        ));
    }
    Ok(())
}

/// Merge two ascending vectors into one ascending vector.
fn merge_sorted(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The median of ascending values: the middle one, or the mean of the two middle ones (NaN when
/// there are none).
fn median_sorted(v: &[u64]) -> f64 {
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2] as f64,
        _ => (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0,
    }
}

impl PathTally {
    /// An empty tally: paths split after gaps longer than `session_gap` (in the unit of the times;
    /// `None`: no split by gap), variants counted for paths of at most `max_steps` events.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a gap ≤ 0 or `max_steps` outside 1 to [`MAX_STEPS_LIMIT`].
    pub fn new(session_gap: Option<i64>, max_steps: u32) -> Result<Self> {
        check_options(session_gap, max_steps)?;
        Ok(Self {
            session_gap,
            max_steps,
            events: Vec::new(),
            starts: Vec::new(),
            exits: Vec::new(),
            customers: Vec::new(),
            paths: 0,
            steps: 0,
            omitted: Omitted::default(),
            n_reordered: 0,
            variants_dropped: 0,
            edges: BTreeMap::new(),
            variants: BTreeMap::new(),
        })
    }

    /// The session gap (`None`: paths are not split by gap).
    pub fn session_gap(&self) -> Option<i64> {
        self.session_gap
    }

    /// The longest path counted as a variant.
    pub fn max_steps(&self) -> u32 {
        self.max_steps
    }

    /// Event names, ascending.
    pub fn events(&self) -> &[String] {
        &self.events
    }

    /// Ids of the customers folded, ascending.
    pub fn customers(&self) -> &[i64] {
        &self.customers
    }

    /// Rows left out, by what they missed.
    pub fn omitted(&self) -> Omitted {
        self.omitted
    }

    /// Events that arrived earlier than their customer's latest event so far (sorted into place).
    pub fn n_reordered(&self) -> u64 {
        self.n_reordered
    }

    /// Take `other` in (both checked compatible, customers disjoint).
    fn absorb(&mut self, other: Self) -> Result<()> {
        if (self.session_gap, self.max_steps) != (other.session_gap, other.max_steps) {
            return Err(Error::Incompatible(format!(
                "path tallies with session gap {:?} and max_steps {} vs {:?} and {}; merge tallies \
                 made with the same options",
                self.session_gap, self.max_steps, other.session_gap, other.max_steps
            )));
        }
        if self.events.is_empty() && self.customers.is_empty() && self.paths == 0 {
            // Nothing to merge into (at most rows left out): take the other's counts as they are.
            let what = |w: &'static str| move || w.to_string();
            let omitted = self.omitted.add(&other.omitted)?;
            let n_reordered = add_count(self.n_reordered, other.n_reordered, what("reordered"))?;
            let dropped = add_count(
                self.variants_dropped,
                other.variants_dropped,
                what("dropped variants"),
            )?;
            *self = Self {
                omitted,
                n_reordered,
                variants_dropped: dropped,
                ..other
            };
            return Ok(());
        }
        // Customers: both ascending; a shared id means a customer split across partitions.
        let mut customers = Vec::with_capacity(self.customers.len() + other.customers.len());
        let (a, b) = (&self.customers, &other.customers);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => {
                    customers.push(a[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    customers.push(b[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    return Err(Error::Incompatible(format!(
                        "customer {} has events in both path tallies; paths need each customer's \
                         events in one partition (partition the events by customer, e.g. \
                         shuffle by customer id, before folding)",
                        a[i]
                    )))
                }
            }
        }
        customers.extend_from_slice(&a[i..]);
        customers.extend_from_slice(&b[j..]);
        let what = |w: &'static str| move || w.to_string();
        let paths = add_count(self.paths, other.paths, what("the path count"))?;
        let steps = add_count(self.steps, other.steps, what("the event count"))?;
        let omitted = self.omitted.add(&other.omitted)?;
        let n_reordered = add_count(self.n_reordered, other.n_reordered, what("reordered"))?;
        let dropped = add_count(
            self.variants_dropped,
            other.variants_dropped,
            what("dropped variants"),
        )?;
        // Events: the sorted union, and each side's codes mapped into it.
        let mut events: Vec<String> = self.events.iter().chain(&other.events).cloned().collect();
        events.sort_unstable();
        events.dedup();
        let index = |names: &[String]| -> Vec<u32> {
            names
                .iter()
                .map(|n| events.binary_search(n).map_or(0, |k| k as u32))
                .collect()
        };
        let (ma, mb) = (index(&self.events), index(&other.events));
        let mut starts = vec![0u64; events.len()];
        let mut exits = vec![0u64; events.len()];
        for (side, map) in [(&*self, &ma), (&other, &mb)] {
            for (k, &to) in map.iter().enumerate() {
                let t = to as usize;
                starts[t] = add_count(starts[t], side.starts[k], what("a start count"))?;
                exits[t] = add_count(exits[t], side.exits[k], what("an exit count"))?;
            }
        }
        let mut edges: BTreeMap<(u32, u32), Vec<u64>> = BTreeMap::new();
        for (side, map) in [(&*self, &ma), (&other, &mb)] {
            for ((x, y), g) in &side.edges {
                let key = (map[*x as usize], map[*y as usize]);
                match edges.get_mut(&key) {
                    Some(have) => *have = merge_sorted(have, g),
                    None => {
                        edges.insert(key, g.clone());
                    }
                }
            }
        }
        let mut variants: BTreeMap<Vec<u32>, u64> = BTreeMap::new();
        for (side, map) in [(&*self, &ma), (&other, &mb)] {
            for (v, c) in &side.variants {
                let key: Vec<u32> = v.iter().map(|x| map[*x as usize]).collect();
                let slot = variants.entry(key).or_insert(0);
                *slot = add_count(*slot, *c, what("a variant count"))?;
            }
        }
        *self = Self {
            session_gap: self.session_gap,
            max_steps: self.max_steps,
            events,
            starts,
            exits,
            customers,
            paths,
            steps,
            omitted,
            n_reordered,
            variants_dropped: dropped,
            edges,
            variants,
        };
        Ok(())
    }
}

impl Merge for PathTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.absorb(other.clone())
    }
}

impl Accumulator for PathTally {
    const KIND: StateKind = StateKind::PathTally;
    type Batch<'a> = PathEvents<'a>;
    type Options = ();
    type Output = PathResult;

    fn fold_batch(&mut self, batch: PathEvents<'_>, weights: Option<&[f64]>) -> Result<()> {
        if weights.is_some() {
            return Err(Error::invalid(
                "weights",
                "paths count events; weights are not supported",
            ));
        }
        let n = batch.customers.len();
        for (what, len) in [
            ("customers and events", batch.events.len()),
            ("customers and times", batch.times.len()),
            (
                "customers and sessions",
                batch.sessions.map_or(n, <[i64]>::len),
            ),
        ] {
            if len != n {
                return Err(Error::LengthMismatch {
                    what,
                    left: n,
                    right: len,
                });
            }
        }
        if n >= u32::MAX as usize {
            return Err(Error::invalid(
                "events",
                format!("{n} rows are more than one fold takes; fold them in parts"),
            ));
        }
        let f = fold::fold(batch, self.session_gap, self.max_steps, check_name)?;
        let mut part = Self::new(self.session_gap, self.max_steps)?;
        part.events = f.names;
        part.starts = f.starts;
        part.exits = f.exits;
        part.customers = f.customers;
        part.paths = f.paths;
        part.steps = f.steps;
        part.omitted = f.omitted;
        part.n_reordered = f.n_reordered;
        part.variants_dropped = f.variants_dropped;
        part.edges = f.edges;
        part.variants = f.variants;
        if let Some(c) = first_shared(&self.customers, &part.customers) {
            return Err(Error::invalid(
                "customer_id",
                format!(
                    "customer {c} already has events in this tally from an earlier batch; paths \
                     need each customer's events in one batch (partition the events by customer)"
                ),
            ));
        }
        self.absorb(part)
    }

    fn n(&self) -> u64 {
        self.paths
    }

    fn finish(&self, _: &()) -> Result<PathResult> {
        Ok(self.result())
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Self::KIND.invalid(m));
        if let Err(e) = check_options(self.session_gap, self.max_steps) {
            return bad(e.to_string());
        }
        let k = self.events.len();
        if self.starts.len() != k || self.exits.len() != k {
            return bad(format!(
                "{k} events but {} start and {} exit counts",
                self.starts.len(),
                self.exits.len()
            ));
        }
        if self.events.windows(2).any(|w| w[0] >= w[1]) {
            return bad("event names out of order or repeated".into());
        }
        if self.events.iter().any(|e| check_name(e).is_err()) {
            return bad("an event bears a pseudo-state's name".into());
        }
        if self.customers.windows(2).any(|w| w[0] >= w[1]) {
            return bad("customer ids out of order or repeated".into());
        }
        let sum = |v: &[u64]| v.iter().try_fold(0u64, |a, b| a.checked_add(*b));
        if sum(&self.starts) != Some(self.paths) || sum(&self.exits) != Some(self.paths) {
            return bad(format!(
                "{} paths but the starts or the exits do not add up to it",
                self.paths
            ));
        }
        if (self.customers.len() as u64) > self.paths
            || (self.paths > 0 && self.customers.is_empty())
        {
            return bad(format!(
                "{} customers for {} paths",
                self.customers.len(),
                self.paths
            ));
        }
        let mut transitions = 0u64;
        for ((a, b), g) in &self.edges {
            if *a as usize >= k || *b as usize >= k || g.is_empty() {
                return bad(format!("edge {a} -> {b} with {} gaps", g.len()));
            }
            if g.windows(2).any(|w| w[0] > w[1]) || g.last().is_some_and(|x| *x > i64::MAX as u64) {
                return bad(format!("the gaps of edge {a} -> {b} are not ascending"));
            }
            transitions = transitions.saturating_add(g.len() as u64);
        }
        if self.paths.checked_add(transitions) != Some(self.steps) {
            return bad(format!(
                "{} events are not {} paths plus {transitions} transitions",
                self.steps, self.paths
            ));
        }
        let mut counted = self.variants_dropped;
        for (v, c) in &self.variants {
            if v.is_empty() || v.len() > self.max_steps as usize || *c == 0 {
                return bad(format!("a variant of {} steps counted {c} times", v.len()));
            }
            if v.iter().any(|x| *x as usize >= k) {
                return bad("a variant names an unknown event".into());
            }
            counted = counted.saturating_add(*c);
        }
        if counted != self.paths {
            return bad(format!(
                "variants and dropped paths add up to {counted}, not {} paths",
                self.paths
            ));
        }
        Ok(())
    }

    fn encode_payload(&self, out: &mut Encoder) {
        out.u8(u8::from(self.session_gap.is_some()));
        out.u64(self.session_gap.unwrap_or(0) as u64);
        out.u32(self.max_steps);
        out.u64(self.events.len() as u64);
        for e in &self.events {
            out.str(e);
        }
        out.u64s(&self.starts);
        out.u64s(&self.exits);
        out.u64(self.customers.len() as u64);
        for c in &self.customers {
            out.u64(*c as u64);
        }
        for x in [
            self.paths,
            self.steps,
            self.omitted.customer,
            self.omitted.event,
            self.omitted.time,
            self.omitted.session,
            self.n_reordered,
            self.variants_dropped,
        ] {
            out.u64(x);
        }
        out.u64(self.edges.len() as u64);
        for ((a, b), g) in &self.edges {
            out.u32(*a);
            out.u32(*b);
            out.u64(g.len() as u64);
            out.u64s(g);
        }
        out.u64(self.variants.len() as u64);
        for (v, c) in &self.variants {
            out.u32(v.len() as u32);
            for x in v {
                out.u32(*x);
            }
            out.u64(*c);
        }
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let len = |input: &mut Decoder<'_>, size: usize, what: &str| -> Result<usize> {
            let n = input.u64(what)?;
            let n = usize::try_from(n).map_err(|_| input.invalid(what.to_string()))?;
            input.check_fits(n, size, what)?;
            Ok(n)
        };
        let has_gap = input.u8("session gap flag")?;
        let gap = input.u64("session gap")? as i64;
        let session_gap = match has_gap {
            0 if gap == 0 => None,
            0 => return Err(input.invalid("an absent session gap has a value")),
            1 => Some(gap),
            _ => return Err(input.invalid("session gap flag")),
        };
        let max_steps = input.u32("max_steps")?;
        let k = len(input, 8, "event count")?;
        let mut events = Vec::with_capacity(k);
        for _ in 0..k {
            events.push(input.str("event name")?);
        }
        let starts = input.u64s(k, "starts")?;
        let exits = input.u64s(k, "exits")?;
        let nc = len(input, 8, "customer count")?;
        let customers = input
            .u64s(nc, "customers")?
            .into_iter()
            .map(|c| c as i64)
            .collect();
        let mut counts = [0u64; 8];
        for c in &mut counts {
            *c = input.u64("counts")?;
        }
        let [paths, steps, oc, oe, ot, os, n_reordered, variants_dropped] = counts;
        let ne = len(input, 16, "edge count")?;
        let mut edges = BTreeMap::new();
        for _ in 0..ne {
            let a = input.u32("edge source")?;
            let b = input.u32("edge target")?;
            let ng = len(input, 8, "gap count")?;
            // Edges are written in order: one out of order (or twice) is not a written state.
            if edges
                .last_key_value()
                .is_some_and(|(last, _)| *last >= (a, b))
            {
                return Err(input.invalid("edges out of order or given twice"));
            }
            edges.insert((a, b), input.u64s(ng, "gaps")?);
        }
        let nv = len(input, 12, "variant count")?;
        let mut variants = BTreeMap::new();
        for _ in 0..nv {
            let steps = input.u32("variant length")? as usize;
            input.check_fits(steps, 4, "variant steps")?;
            let mut v = Vec::with_capacity(steps);
            for _ in 0..steps {
                v.push(input.u32("variant step")?);
            }
            if variants
                .last_key_value()
                .is_some_and(|(last, _)| *last >= v)
            {
                return Err(input.invalid("variants out of order or given twice"));
            }
            variants.insert(v, input.u64("variant count")?);
        }
        Ok(Self {
            session_gap,
            max_steps,
            events,
            starts,
            exits,
            customers,
            paths,
            steps,
            omitted: Omitted {
                customer: oc,
                event: oe,
                time: ot,
                session: os,
            },
            n_reordered,
            variants_dropped,
            edges,
            variants,
        })
    }
}

/// The codes of a label column for [`PathEvents`]: each row's group (`u32::MAX` for the missing
/// label) and the groups' labels as text (the event names).
pub fn label_codes(g: &crate::groups::Grouping<'_>) -> (Vec<u32>, Vec<String>) {
    let labels = g.labels();
    let missing: Vec<bool> = labels
        .iter()
        .map(|l| l.iter().all(|x| *x == crate::groups::Label::Missing))
        .collect();
    let names = labels
        .iter()
        .map(|l| {
            l.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect();
    let codes = g
        .codes()
        .into_iter()
        .map(|c| if missing[c as usize] { u32::MAX } else { c })
        .collect();
    (codes, names)
}

/// The group of each row as an `i64` key for [`PathEvents`] (`i64::MIN` for the missing label).
pub fn label_keys(g: &crate::groups::Grouping<'_>) -> Vec<i64> {
    let (codes, _) = label_codes(g);
    codes
        .into_iter()
        .map(|c| {
            if c == u32::MAX {
                i64::MIN
            } else {
                i64::from(c)
            }
        })
        .collect()
}

/// One [`PathTally`] (made with `session_gap` and `max_steps`) per group: `groups` gives each
/// row's group, below `n_groups`.
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::InvalidArgument`] for a group code beyond `n_groups`, and
/// the errors of [`PathTally::new`] and of the fold.
pub fn paths_by_group(
    batch: PathEvents<'_>,
    groups: &[u32],
    n_groups: usize,
    session_gap: Option<i64>,
    max_steps: u32,
) -> Result<Vec<PathTally>> {
    let n = batch.customers.len();
    for (what, len) in [
        ("customers and groups", groups.len()),
        ("customers and events", batch.events.len()),
        ("customers and times", batch.times.len()),
        (
            "customers and sessions",
            batch.sessions.map_or(n, <[i64]>::len),
        ),
    ] {
        if len != n {
            return Err(Error::LengthMismatch {
                what,
                left: n,
                right: len,
            });
        }
    }
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); n_groups];
    for (i, g) in groups.iter().enumerate() {
        rows.get_mut(*g as usize)
            .ok_or_else(|| {
                Error::invalid(
                    "by",
                    format!("group {g} at row {i} is not below {n_groups}"),
                )
            })?
            .push(i);
    }
    rows.iter()
        .map(|r| {
            let pick = |v: &[i64]| r.iter().map(|i| v[*i]).collect::<Vec<i64>>();
            let customers = pick(batch.customers);
            let times = pick(batch.times);
            let sessions = batch.sessions.map(pick);
            let events: Vec<u32> = r.iter().map(|i| batch.events[*i]).collect();
            let mut t = PathTally::new(session_gap, max_steps)?;
            t.fold_batch(
                PathEvents {
                    customers: &customers,
                    events: &events,
                    names: batch.names,
                    times: &times,
                    sessions: sessions.as_deref(),
                },
                None,
            )?;
            Ok(t)
        })
        .collect()
}

/// The first id in both ascending lists.
fn first_shared(a: &[i64], b: &[i64]) -> Option<i64> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return Some(a[i]),
        }
    }
    None
}

impl Example for PathTally {
    fn example() -> Self {
        let names = ["browse".to_string(), "cart".to_string(), "pay".to_string()];
        let mut t = Self::new(Some(1_800), 3).expect("valid options");
        t.fold_batch(
            PathEvents {
                customers: &[1, 1, 1, 2, 2, 3, 3, 3, 3, i64::MIN],
                events: &[0, 1, 2, 0, 0, 0, 1, 0, 1, 2],
                names: &names,
                times: &[0, 60, 90, 10, 5_000, 0, 30, 40, 45, 7],
                sessions: None,
            },
            None,
        )
        .expect("the fixed sample rows are valid");
        t
    }
}

/// A path variant: its steps, how many paths followed it and their share of all paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// The events, in order.
    pub steps: Vec<String>,
    /// Paths with exactly these steps.
    pub count: u64,
    /// count ÷ all paths.
    #[serde(with = "crate::serde_nan")]
    pub share: f64,
}

/// A transition of the matrix (with the `(start)` and `(end)` pseudo-states).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// The event left (or `(start)`).
    pub from: String,
    /// The event reached (or `(end)`).
    pub to: String,
    /// Transitions.
    pub count: u64,
    /// count ÷ occurrences of `from` (paths, for `(start)`).
    #[serde(with = "crate::serde_nan")]
    pub probability: f64,
}

/// An edge of the directly-follows graph, with its gaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// The earlier event.
    pub from: String,
    /// The event directly after it.
    pub to: String,
    /// Times `to` directly followed `from`.
    pub count: u64,
    /// Exact median gap (mean of the two middle gaps for an even count), in the unit of the times.
    pub median_gap: f64,
    /// Shortest gap.
    pub min_gap: u64,
    /// Longest gap.
    pub max_gap: u64,
}

/// The last event of paths: how many paths ended with it and their share of all paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exit {
    /// The event.
    pub event: String,
    /// Paths whose last event it is.
    pub count: u64,
    /// count ÷ all paths.
    #[serde(with = "crate::serde_nan")]
    pub share: f64,
}

/// A link of a Sankey diagram: paths going from `source` at step `source_step` (1-based) to
/// `target` at the next step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SankeyLink {
    /// Position of the source event in the path (1 = first).
    pub source_step: u32,
    /// The source event.
    pub source: String,
    /// The target event (at `source_step + 1`).
    pub target: String,
    /// Paths with this step.
    pub value: u64,
}

/// Paths of an event log (see the [module docs](self) for the conventions).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathResult {
    /// Split after gaps longer than this (unit of the times; `None`: no split by gap).
    pub session_gap: Option<i64>,
    /// Longest path counted as a variant.
    pub max_steps: u32,
    /// Paths.
    pub n_paths: u64,
    /// Events in the paths.
    pub n_events: u64,
    /// Customers.
    pub n_customers: u64,
    /// Rows left out, by what they missed.
    pub omitted: Omitted,
    /// Events that arrived earlier than their customer's latest event so far (sorted into place).
    pub n_reordered: u64,
    /// Paths longer than `max_steps` (not among the variants nor in the Sankey links).
    pub variants_dropped: u64,
    /// Every variant, most frequent first (ties by steps).
    pub variants: Vec<Variant>,
    /// The transition matrix, by `from` then `to` (`(start)` first, `(end)` last).
    pub transitions: Vec<Transition>,
    /// The directly-follows graph (transitions between events), by `from` then `to`.
    pub edges: Vec<Edge>,
    /// The last event of paths, most frequent first (ties by name).
    pub exits: Vec<Exit>,
}

fn share(count: u64, of: u64) -> f64 {
    if of == 0 {
        f64::NAN
    } else {
        count as f64 / of as f64
    }
}

impl PathTally {
    fn result(&self) -> PathResult {
        let name = |c: u32| self.events[c as usize].clone();
        // Most frequent first; ties keep the order of the codes, which is the order of the steps'
        // names (the codes are the ranks of the sorted names), so no text is compared.
        let mut order: Vec<(&Vec<u32>, u64)> = self.variants.iter().map(|(v, c)| (v, *c)).collect();
        order.sort_by_key(|v| std::cmp::Reverse(v.1));
        let variants: Vec<Variant> = order
            .par_iter()
            .with_min_len(1 << 12)
            .map(|(v, c)| Variant {
                steps: v.iter().map(|x| name(*x)).collect(),
                count: *c,
                share: share(*c, self.paths),
            })
            .collect();
        // Occurrences of each event: its transitions out plus its exits.
        let mut out = self.exits.clone();
        for ((a, _), g) in &self.edges {
            out[*a as usize] += g.len() as u64;
        }
        let mut transitions = Vec::new();
        for (e, c) in self.starts.iter().enumerate() {
            if *c > 0 {
                transitions.push(Transition {
                    from: START.into(),
                    to: name(e as u32),
                    count: *c,
                    probability: share(*c, self.paths),
                });
            }
        }
        let mut edges = Vec::with_capacity(self.edges.len());
        for (e, total) in out.iter().enumerate() {
            for ((_, b), g) in self.edges.range((e as u32, 0)..=(e as u32, u32::MAX)) {
                let count = g.len() as u64;
                transitions.push(Transition {
                    from: name(e as u32),
                    to: name(*b),
                    count,
                    probability: share(count, *total),
                });
                edges.push(Edge {
                    from: name(e as u32),
                    to: name(*b),
                    count,
                    median_gap: median_sorted(g),
                    min_gap: g[0],
                    max_gap: g[g.len() - 1],
                });
            }
            if self.exits[e] > 0 {
                transitions.push(Transition {
                    from: name(e as u32),
                    to: END.into(),
                    count: self.exits[e],
                    probability: share(self.exits[e], *total),
                });
            }
        }
        let mut exits: Vec<Exit> = self
            .exits
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(e, c)| Exit {
                event: name(e as u32),
                count: *c,
                share: share(*c, self.paths),
            })
            .collect();
        exits.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.event.cmp(&b.event)));
        PathResult {
            session_gap: self.session_gap,
            max_steps: self.max_steps,
            n_paths: self.paths,
            n_events: self.steps,
            n_customers: self.customers.len() as u64,
            omitted: self.omitted,
            n_reordered: self.n_reordered,
            variants_dropped: self.variants_dropped,
            variants,
            transitions,
            edges,
            exits,
        }
    }
}

impl PathResult {
    /// The `k` most frequent variants (ties by steps).
    pub fn top_variants(&self, k: usize) -> &[Variant] {
        &self.variants[..k.min(self.variants.len())]
    }

    /// The links of a Sankey diagram over the first `depth` steps of the paths (those of at most
    /// `max_steps` events: longer paths are counted in `variants_dropped`), by step, source, target.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a depth below 2.
    pub fn sankey(&self, depth: u32) -> Result<Vec<SankeyLink>> {
        if depth < 2 {
            return Err(Error::invalid(
                "depth",
                format!("{depth}: a Sankey diagram needs at least 2 steps"),
            ));
        }
        let mut links: BTreeMap<(u32, &str, &str), u64> = BTreeMap::new();
        for v in &self.variants {
            let upto = v.steps.len().min(depth as usize);
            for (i, w) in v.steps[..upto].windows(2).enumerate() {
                *links.entry((i as u32 + 1, &w[0], &w[1])).or_insert(0) += v.count;
            }
        }
        Ok(links
            .into_iter()
            .map(|((s, a, b), value)| SankeyLink {
                source_step: s,
                source: a.into(),
                target: b.into(),
                value,
            })
            .collect())
    }

    /// The conventions of the figures, as one line.
    pub fn conventions(&self) -> String {
        let split = match self.session_gap {
            Some(g) => format!("paths split after gaps > {g} time units"),
            None => "one path per customer (or per session column value)".into(),
        };
        format!(
            "{split}; probability = transitions / occurrences of the source; median gap exact \
             (mean of the two middle gaps when even); variants exact for paths of <= {} events \
             ({} longer paths not counted as variants)",
            self.max_steps, self.variants_dropped
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    /// A small log folded in one batch.
    fn tally(
        customers: &[i64],
        events: &[u32],
        n: &[String],
        times: &[i64],
        gap: Option<i64>,
    ) -> PathTally {
        let mut t = PathTally::new(gap, 10).unwrap();
        t.fold_batch(
            PathEvents {
                customers,
                events,
                names: n,
                times,
                sessions: None,
            },
            None,
        )
        .unwrap();
        t
    }

    #[test]
    fn hand_computed_paths() {
        // c1: a b c (gaps 2, 4); c2: a b (gap 6); c3: b a b (gaps 1, 3), given out of order.
        let n = names(&["a", "b", "c"]);
        let t = tally(
            &[1, 1, 1, 2, 2, 3, 3, 3],
            &[0, 1, 2, 0, 1, 1, 1, 0],
            &n,
            &[0, 2, 6, 0, 6, 4, 0, 1],
            None,
        );
        let r = t.finish(&()).unwrap();
        assert_eq!((r.n_paths, r.n_events, r.n_customers), (3, 8, 3));
        // Rows 6 and 7 (c3 at 0 and 1) arrive after c3's event at 4.
        assert_eq!(r.n_reordered, 2);
        let ab = r
            .edges
            .iter()
            .find(|e| e.from == "a" && e.to == "b")
            .unwrap();
        // a->b gaps: 2 (c1), 6 (c2), 3 (c3): median 3.
        assert_eq!(
            (ab.count, ab.median_gap, ab.min_gap, ab.max_gap),
            (3, 3.0, 2, 6)
        );
        let ba = r
            .edges
            .iter()
            .find(|e| e.from == "b" && e.to == "a")
            .unwrap();
        assert_eq!((ba.count, ba.median_gap), (1, 1.0));
        // b occurs 4 times: -> c once, -> a once, -> end twice.
        let p = |f: &str, to: &str| {
            r.transitions
                .iter()
                .find(|x| x.from == f && x.to == to)
                .map(|x| x.probability)
        };
        assert_eq!(p("b", "c"), Some(0.25));
        assert_eq!(p("b", END), Some(0.5));
        assert_eq!(p(START, "a"), Some(2.0 / 3.0));
        assert_eq!(r.exits[0].event, "b");
        assert_eq!(r.exits[0].count, 2);
        let v: Vec<(Vec<String>, u64)> = r
            .variants
            .iter()
            .map(|v| (v.steps.clone(), v.count))
            .collect();
        assert_eq!(
            v,
            [
                (names(&["a", "b"]), 1),
                (names(&["a", "b", "c"]), 1),
                (names(&["b", "a", "b"]), 1)
            ]
        );
        let s = r.sankey(3).unwrap();
        assert_eq!(
            s.iter()
                .map(|l| (l.source_step, l.value))
                .collect::<Vec<_>>(),
            [(1, 2), (1, 1), (2, 1), (2, 1)]
        );
    }

    #[test]
    fn even_count_median_and_session_gap() {
        // One customer: a(0) b(10) a(100) b(130): with gap 50, two sessions a b / a b.
        let n = names(&["a", "b"]);
        let t = tally(
            &[7, 7, 7, 7],
            &[0, 1, 0, 1],
            &n,
            &[0, 10, 100, 130],
            Some(50),
        );
        let r = t.finish(&()).unwrap();
        assert_eq!((r.n_paths, r.n_customers), (2, 1));
        let ab = &r.edges[0];
        assert_eq!((ab.count, ab.median_gap), (2, 20.0));
        // A gap equal to the session gap stays in the session.
        let t = tally(&[7, 7], &[0, 1], &n, &[0, 50], Some(50));
        assert_eq!(t.finish(&()).unwrap().n_paths, 1);
    }

    #[test]
    fn sessions_column_and_missing_rows() {
        let n = names(&["a", "b"]);
        let mut t = PathTally::new(None, 10).unwrap();
        t.fold_batch(
            PathEvents {
                customers: &[1, 1, 1, i64::MIN, 1, 1],
                events: &[0, 1, 0, 0, u32::MAX, 1],
                names: &n,
                times: &[0, 1, 2, 3, 4, i64::MIN],
                sessions: Some(&[10, 10, 11, 10, 10, 10]),
            },
            None,
        )
        .unwrap();
        let r = t.finish(&()).unwrap();
        assert_eq!(r.n_paths, 2);
        assert_eq!(
            r.omitted,
            Omitted {
                customer: 1,
                event: 1,
                time: 1,
                session: 0
            }
        );
    }

    #[test]
    fn long_paths_are_counted_not_kept() {
        let n = names(&["a"]);
        let mut t = PathTally::new(None, 2).unwrap();
        t.fold_batch(
            PathEvents {
                customers: &[1, 1, 1, 2],
                events: &[0, 0, 0, 0],
                names: &n,
                times: &[0, 1, 2, 0],
                sessions: None,
            },
            None,
        )
        .unwrap();
        let r = t.finish(&()).unwrap();
        assert_eq!((r.n_paths, r.variants_dropped, r.variants.len()), (2, 1, 1));
        assert_eq!(r.edges[0].count, 2);
    }

    #[test]
    fn merge_equals_one_pass_and_refuses_split_customers() {
        let n = names(&["x", "y", "z"]);
        let c = [1, 1, 2, 2, 2, 3, 4, 4];
        let e = [0, 1, 2, 0, 1, 1, 0, 2];
        let tm = [0, 5, 0, 3, 9, 1, 4, 8];
        let whole = tally(&c, &e, &n, &tm, None);
        // Partition by customer, with the names listed in another order.
        let n2 = names(&["z", "y", "x"]);
        let e2: Vec<u32> = e.iter().map(|x| 2 - x).collect();
        let mut a = tally(&c[..2], &e2[..2], &n2, &tm[..2], None);
        let b = tally(&c[2..], &e[2..], &n, &tm[2..], None);
        a.merge(&b).unwrap();
        assert_eq!(a, whole);
        let mut b2 = b.clone();
        b2.merge(&tally(&c[..2], &e[..2], &n, &tm[..2], None))
            .unwrap();
        assert_eq!(b2, whole);
        // A customer in two states, or in two batches, is refused.
        let mut split = tally(&c[..3], &e[..3], &n, &tm[..3], None);
        let err = split.merge(&tally(&c[3..], &e[3..], &n, &tm[3..], None));
        assert!(matches!(err, Err(Error::Incompatible(m)) if m.contains("customer 2")));
        let before = split.clone();
        let err = split.fold_batch(
            PathEvents {
                customers: &c[3..],
                events: &e[3..],
                names: &n,
                times: &tm[3..],
                sessions: None,
            },
            None,
        );
        assert!(err.unwrap_err().to_string().contains("customer 2"));
        assert_eq!(split, before);
    }

    #[test]
    fn round_trips_and_rejects_inconsistent_states() {
        let t = PathTally::example();
        assert_eq!(PathTally::from_bytes(&t.to_bytes()).unwrap(), t);
        assert_eq!(PathTally::from_json(&t.to_json()).unwrap(), t);
        let json = t.to_json().replace("\"paths\":", "\"paths\":1");
        assert!(PathTally::from_json(&json).is_err());
        assert!(PathTally::new(Some(0), 5).is_err());
        assert!(PathTally::new(None, 0).is_err());
        let n = names(&["(start)"]);
        let mut t = PathTally::new(None, 5).unwrap();
        let err = t.fold_batch(
            PathEvents {
                customers: &[1],
                events: &[0],
                names: &n,
                times: &[0],
                sessions: None,
            },
            None,
        );
        assert!(err.is_err());
    }

    /// The straightforward fold the fast one must equal: rows checked, sorted by (customer,
    /// session, time, row) with one global sort, and walked.
    fn reference(b: PathEvents<'_>, gap: Option<i64>, max_steps: u32) -> PathTally {
        let mut t = PathTally::new(gap, max_steps).unwrap();
        let mut keep: Vec<usize> = Vec::new();
        for i in 0..b.customers.len() {
            if b.customers[i] == i64::MIN {
                t.omitted.customer += 1;
            } else if b.events[i] == u32::MAX {
                t.omitted.event += 1;
            } else if b.times[i] == i64::MIN {
                t.omitted.time += 1;
            } else if b.sessions.is_some_and(|s| s[i] == i64::MIN) {
                t.omitted.session += 1;
            } else {
                keep.push(i);
            }
        }
        let mut names: Vec<String> = keep
            .iter()
            .map(|&i| b.names[b.events[i] as usize].clone())
            .collect();
        names.sort();
        names.dedup();
        let code = |i: usize| names.binary_search(&b.names[b.events[i] as usize]).unwrap() as u32;
        // Reordered: earlier than the customer's latest event so far, in input order.
        let mut latest: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
        for &i in &keep {
            let l = latest.entry(b.customers[i]).or_insert(b.times[i]);
            if b.times[i] < *l {
                t.n_reordered += 1;
            } else {
                *l = b.times[i];
            }
        }
        let session = |i: usize| b.sessions.map_or(0, |s| s[i]);
        keep.sort_by_key(|&i| (b.customers[i], session(i), b.times[i], i));
        t.starts = vec![0; names.len()];
        t.exits = vec![0; names.len()];
        let mut customers: Vec<i64> = keep.iter().map(|&i| b.customers[i]).collect();
        customers.dedup();
        t.customers = customers;
        // Paths: runs of rows of one customer and session without a gap beyond the session gap.
        let mut paths: Vec<Vec<usize>> = Vec::new();
        for (j, &i) in keep.iter().enumerate() {
            let joins = j > 0 && {
                let p = keep[j - 1];
                b.customers[p] == b.customers[i]
                    && session(p) == session(i)
                    && gap.is_none_or(|g| b.times[i] - b.times[p] <= g)
            };
            match paths.last_mut() {
                Some(path) if joins => path.push(i),
                _ => paths.push(vec![i]),
            }
        }
        for path in &paths {
            t.paths += 1;
            t.steps += path.len() as u64;
            t.starts[code(path[0]) as usize] += 1;
            t.exits[code(path[path.len() - 1]) as usize] += 1;
            for w in path.windows(2) {
                t.edges
                    .entry((code(w[0]), code(w[1])))
                    .or_default()
                    .push((b.times[w[1]] - b.times[w[0]]) as u64);
            }
            if path.len() <= max_steps as usize {
                *t.variants
                    .entry(path.iter().map(|&i| code(i)).collect())
                    .or_insert(0) += 1;
            } else {
                t.variants_dropped += 1;
            }
        }
        for g in t.edges.values_mut() {
            g.sort_unstable();
        }
        t.events = names;
        t
    }

    /// SplitMix64: the random numbers of the generated logs.
    struct Mix(u64);
    impl Mix {
        fn next(&mut self, below: u64) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % below
        }
    }

    /// A random log: `n` rows of `n_customers` customers (ids spread by `spread`, negative ones
    /// too), `k` names of which some are never used, ties in time, rows missing each field,
    /// sessions (with missing ones) when asked.
    #[allow(clippy::type_complexity)]
    fn random_log(
        seed: u64,
        n: usize,
        n_customers: u64,
        spread: i64,
        k: u32,
        with_sessions: bool,
    ) -> (Vec<i64>, Vec<u32>, Vec<String>, Vec<i64>, Option<Vec<i64>>) {
        let mut r = Mix(seed);
        let names: Vec<String> = (0..k).map(|j| format!("e{}", (j * 7) % k)).collect();
        let mut c = Vec::with_capacity(n);
        let mut e = Vec::with_capacity(n);
        let mut t = Vec::with_capacity(n);
        let mut s = Vec::with_capacity(n);
        for _ in 0..n {
            let miss = r.next(40);
            let id = (r.next(n_customers) as i64 - (n_customers / 3) as i64) * spread;
            c.push(if miss == 0 { i64::MIN } else { id });
            // The last name is never used.
            let ev = r.next(u64::from(k.max(2) - 1)) as u32;
            e.push(if miss == 1 { u32::MAX } else { ev.min(k - 1) });
            t.push(if miss == 2 {
                i64::MIN
            } else {
                r.next(30) as i64 - 5
            });
            s.push(if miss == 3 {
                i64::MIN
            } else {
                r.next(3) as i64 * 1_000 - 1_000
            });
        }
        (c, e, names, t, with_sessions.then_some(s))
    }

    fn check_against_reference(
        seed: u64,
        n: usize,
        n_customers: u64,
        spread: i64,
        with_sessions: bool,
        gap: Option<i64>,
        max_steps: u32,
    ) {
        let (c, e, names, t, s) = random_log(seed, n, n_customers, spread, 5, with_sessions);
        let batch = PathEvents {
            customers: &c,
            events: &e,
            names: &names,
            times: &t,
            sessions: s.as_deref(),
        };
        let want = reference(batch, gap, max_steps);
        let mut got = PathTally::new(gap, max_steps).unwrap();
        got.fold_batch(batch, None).unwrap();
        assert_eq!(got, want, "seed {seed}");
        assert_eq!(got.finish(&()).unwrap(), want.finish(&()).unwrap());
        got.validate().unwrap();
        // Two batches split by customer: the same state.
        let odd: Vec<usize> = (0..n).filter(|&i| c[i].rem_euclid(2) == 1).collect();
        let even: Vec<usize> = (0..n).filter(|&i| c[i].rem_euclid(2) != 1).collect();
        let mut two = PathTally::new(gap, max_steps).unwrap();
        for rows in [odd, even] {
            let pick = |v: &[i64]| rows.iter().map(|&i| v[i]).collect::<Vec<_>>();
            let (pc, pt) = (pick(&c), pick(&t));
            let ps = s.as_deref().map(pick);
            let pe: Vec<u32> = rows.iter().map(|&i| e[i]).collect();
            two.fold_batch(
                PathEvents {
                    customers: &pc,
                    events: &pe,
                    names: &names,
                    times: &pt,
                    sessions: ps.as_deref(),
                },
                None,
            )
            .unwrap();
        }
        assert_eq!(two, want, "seed {seed}, two batches");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn fold_equals_the_reference_fold(
            seed in proptest::prelude::any::<u64>(),
            n in 0usize..400,
            n_customers in 1u64..60,
            sparse in proptest::prelude::any::<bool>(),
            with_sessions in proptest::prelude::any::<bool>(),
            gap in proptest::option::of(1i64..8),
            max_steps in 1u32..8,
        ) {
            let spread = if sparse { 1_000_000_007 } else { 1 };
            check_against_reference(seed, n, n_customers, spread, with_sessions, gap, max_steps);
        }
    }

    #[test]
    fn large_folds_over_several_tasks_equal_the_reference_fold() {
        // Enough rows for the fold to cut the customers into several tasks, dense and sparse ids.
        for (seed, spread, sessions, gap) in [
            (1, 1, false, None),
            (2, 1_000_003, true, Some(6)),
            (3, 1, true, None),
        ] {
            check_against_reference(seed, 300_000, 20_000, spread, sessions, gap, 6);
        }
    }

    #[test]
    fn a_gap_beyond_64_bits_is_refused_with_its_row() {
        let n = names(&["a"]);
        let mut t = PathTally::new(None, 5).unwrap();
        let err = t
            .fold_batch(
                PathEvents {
                    customers: &[4, 4],
                    events: &[0, 0],
                    names: &n,
                    times: &[i64::MIN + 1, i64::MAX],
                    sessions: None,
                },
                None,
            )
            .unwrap_err();
        assert!(err.to_string().contains("row 1"), "{err}");
        let err = t.fold_batch(
            PathEvents {
                customers: &[4],
                events: &[3],
                names: &n,
                times: &[0],
                sessions: None,
            },
            None,
        );
        assert!(err.unwrap_err().to_string().contains("code 3 at row 0"));
        assert_eq!(t, PathTally::new(None, 5).unwrap());
    }
}
