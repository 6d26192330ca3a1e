//! Funnels from event logs, with every rule explicit.
//!
//! Analytics tools each define a funnel their own way and few print their rules. Here a
//! [`FunnelSpec`] names every rule, and [`FunnelSpec::describe`] prints them with each result:
//!
//! * **steps**: each a set of event names; **exclusions**: event names that stop an attempt;
//! * **order** ([`OrderMode`]): `ordered` (other events may occur between steps), `strict` (the
//!   next event of the customer must be the next step, else the attempt stops), `any_order`;
//! * **window**: none, or a length measured from the event that starts the attempt (never reset by
//!   a later step-1 event), with an inclusive or exclusive end ([`WindowEnd`]);
//! * **entry** ([`Entry`]): `closed` (an attempt starts at step 1) or `open` (at any step);
//! * **counting** ([`Counting`]): `uniques` (customers) or `totals` (attempts);
//! * **re-entry** ([`Reentry`]): `first` (the first start only), `best` (every start tried; the
//!   attempts whose steps no other attempt covers are kept: under closed entry the one that goes
//!   furthest, as ClickHouse `windowFunnel` does), `after_end` (a new attempt at
//!   the first start after the previous one completed, timed out, was excluded or stopped);
//! * **repeats** ([`Repeats`]): whether a repeat of a step already reached stops the attempt;
//! * **step times** ([`StepTimes`]): whether successive steps may share a timestamp;
//! * **ties** ([`Ties`]): events of one customer with equal timestamps in input order or step order;
//! * **unknown events** ([`UnknownEvents`]), **missing values** ([`MissingRows`]): dropped and
//!   counted, kept, or an error naming the row;
//! * **as of**: the end of the data, where attempts still inside their window are censored.
//!
//! The denominator of every "from step 1" rate is the count (customers or attempts) that entered
//! step 1; step-to-step rates divide by the count at the previous step. Intervals are Wilson's.
//!
//! # The state
//!
//! [`FunnelTally`] holds per-step counts of attempts and customers, the time-to-convert
//! [`EventTable`] (Kaplan–Meier: converted attempts are events, attempts stopped by an exclusion,
//! a strict-order break or a repeat are a competing outcome, attempts still inside their window at
//! `as_of` are censored at `as_of − start`, attempts that timed out are censored at the window's
//! length) and a sorted set of 64-bit customer keys. A funnel needs all of a customer's events at
//! once: **states merge only when each customer's events are in one of them** (partition by
//! customer). A merge of two states that saw the same customer key is refused; that is what is
//! detectable (two different ids sharing a 64-bit key would pass unnoticed: probability about
//! n²/2⁶⁵ for n customers).
//!
//! ```
//! use cx_metrics::events::{key_of_int, EventLog};
//! use cx_metrics::funnel::{FunnelOptions, FunnelSpec, FunnelTally};
//! use cx_metrics::groups::TimeUnit;
//! use cx_metrics::Accumulator;
//! let spec = FunnelSpec::ordered(&["visit", "cart", "buy"], Some(3600)).unwrap();
//! let names = [Some("visit".to_string()), Some("cart".into()), Some("buy".into())];
//! // Customer 0: visit, cart, buy; customer 1: visit, cart two hours later.
//! let log = EventLog {
//!     customers: &[0, 0, 0, 1, 1],
//!     n_customers: 2,
//!     missing_customer: None,
//!     customer_keys: &[key_of_int(10), key_of_int(11)],
//!     events: &[0, 1, 2, 0, 1],
//!     event_names: &names,
//!     times: &[0, 60, 120, 0, 7200],
//!     unit: TimeUnit::S,
//! };
//! let mut t = FunnelTally::new(spec).unwrap();
//! t.fold_batch(log, None).unwrap();
//! let r = t.finish(&FunnelOptions::default()).unwrap();
//! assert_eq!(r.steps.iter().map(|s| s.count).collect::<Vec<_>>(), [2, 1, 1]);
//! assert_eq!(r.conversion, Some(0.5));
//! ```

use std::fmt::Write as _;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cohorts::iso_instant;
use crate::error::{Error, Result};
use crate::events::{dense_span, int_customers, CustomerColumn, EventCodes, EventColumns};
use crate::events::{to_ns, EventLog, MISSING_TIME};
use crate::groups::TimeUnit;
use crate::intervals::{check_level, compare_proportions, proportion_ci, Interval};
use crate::intervals::{ProportionComparison, ProportionMethod};
use crate::state::{add_count, Accumulator, Decoder, Encoder, Example, StateKind};
use crate::survival::{EventTable, KaplanMeier, TicketCodes};
use crate::tally::Merge;

mod passes;

/// At most this many steps (any-order funnels keep the steps reached in a 64-bit mask).
pub const MAX_STEPS: usize = 64;

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $id:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $var),+ }

        impl $name {
            const ALL: &'static [Self] = &[$(Self::$var),+];
            /// The option's name: its snake_case form, as in `FromStr`, Python and the docs.
            pub fn id(self) -> &'static str {
                match self { $(Self::$var => $id),+ }
            }
            fn code(self) -> u8 {
                Self::ALL.iter().position(|v| *v == self).unwrap_or(0) as u8
            }
            fn from_code(code: u8) -> Option<Self> {
                Self::ALL.get(code as usize).copied()
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::ALL.iter().copied().find(|v| v.id() == s).ok_or_else(|| {
                    let ids: Vec<String> = Self::ALL.iter().map(|v| format!("{:?}", v.id())).collect();
                    Error::invalid(stringify!($name), format!("{s:?} is not one of {}", ids.join(", ")))
                })
            }
        }
    };
}

named_enum!(
    /// How the steps must follow each other.
    OrderMode {
        /// In step order; other events may occur between steps.
        Ordered = "ordered",
        /// In step order and consecutive: any other event (or a step out of turn) stops the attempt.
        Strict = "strict",
        /// In any order; the count at step k is of attempts that did k of the steps.
        AnyOrder = "any_order",
    }
);

named_enum!(
    /// Whether an event exactly one window after the start is inside it.
    WindowEnd {
        /// `t − start ≤ window`.
        Inclusive = "inclusive",
        /// `t − start < window`.
        Exclusive = "exclusive",
    }
);

named_enum!(
    /// Where an attempt may start.
    Entry {
        /// At step 1 only.
        Closed = "closed",
        /// At any step (counted from that step on).
        Open = "open",
    }
);

named_enum!(
    /// What is counted.
    Counting {
        /// Customers: a customer counts at a step if any of their attempts reached it.
        Uniques = "uniques",
        /// Attempts.
        Totals = "totals",
    }
);

named_enum!(
    /// Which starts of a customer make attempts.
    Reentry {
        /// Only the first start; later step-1 events neither restart nor reset the window.
        First = "first",
        /// Every start is tried; an attempt covers the steps from its entry to the furthest step
        /// it reached, and the attempts kept are those whose steps no other attempt covers (of
        /// equal ones, the earliest). Closed entry: the one furthest attempt. Open entry: a
        /// customer counts at every step that any attempt reached.
        Best = "best",
        /// A new attempt at the first start after the previous attempt ended (completed, timed
        /// out, excluded, or stopped).
        AfterEnd = "after_end",
    }
);

named_enum!(
    /// Events of one customer with equal timestamps.
    Ties {
        /// In input order.
        InputOrder = "input_order",
        /// In step order (then exclusions, then other events; input order among equals).
        StepOrder = "step_order",
    }
);

named_enum!(
    /// A repeat of a step the attempt already reached.
    Repeats {
        /// Is ignored.
        Ignore = "ignore",
        /// Stops the attempt (ClickHouse `strict_deduplication`).
        Stop = "stop",
    }
);

named_enum!(
    /// Whether successive steps may share a timestamp.
    StepTimes {
        /// A step may have the time of the step before it.
        NonDecreasing = "non_decreasing",
        /// A step must be strictly later (an event at the same time is skipped; ClickHouse
        /// `strict_increase`).
        Increasing = "increasing",
    }
);

named_enum!(
    /// Events whose name is no step and no exclusion.
    UnknownEvents {
        /// Dropped and counted (`n_unknown`).
        Drop = "drop",
        /// Kept as other events (they stop a strict-order attempt).
        Keep = "keep",
        /// An error naming the row.
        Raise = "raise",
    }
);

named_enum!(
    /// Rows without a customer id, time or event name.
    MissingRows {
        /// Dropped and counted.
        Omit = "omit",
        /// An error naming the row.
        Raise = "raise",
    }
);

/// One step of a funnel: a name and the event names that match it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The step's name, as printed.
    pub name: String,
    /// The event names that match it (at least one).
    pub events: Vec<String>,
}

impl Step {
    /// A step matched by one event name, named after it.
    pub fn named(event: &str) -> Self {
        Self {
            name: event.to_string(),
            events: vec![event.to_string()],
        }
    }
}

/// Every rule of a funnel. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelSpec {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Event names that stop an attempt once it has started.
    pub exclusions: Vec<String>,
    /// How the steps must follow each other.
    pub order: OrderMode,
    /// The conversion window in nanoseconds from the attempt's start (`None`: no window).
    pub window_ns: Option<i64>,
    /// Whether the window's end is inside it.
    pub window_end: WindowEnd,
    /// Where an attempt may start.
    pub entry: Entry,
    /// What is counted.
    pub counting: Counting,
    /// Which starts make attempts.
    pub reentry: Reentry,
    /// A repeat of a step already reached.
    pub repeats: Repeats,
    /// Whether successive steps may share a timestamp.
    pub step_times: StepTimes,
    /// Order of events with equal timestamps.
    pub ties: Ties,
    /// Events of no step.
    pub unknown_events: UnknownEvents,
    /// Rows without a customer, time or event.
    pub missing: MissingRows,
    /// The end of the data in nanoseconds since the epoch (`None`: the latest event time of the
    /// fold, printed with the result).
    pub as_of_ns: Option<i64>,
}

/// How a fold of a [`FunnelSpec`] runs (see [`FunnelSpec::fold_path`]); the result is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldPath {
    /// Passes over the rows as they are, one per step, or a single pass when the times never
    /// decrease down the rows (event logs are usually written in time order): extra memory
    /// `O(customers × steps)` whatever the number of rows.
    Passes,
    /// The rows grouped by customer and sorted by time: extra memory grows with the rows (13 bytes
    /// per kept row, and 1 per row).
    Sorted,
}

/// A row dropped (the role of no event), and an event code whose rows need every check.
const DROPPED: u8 = 251;
const SLOW: u8 = 252;
const OTHER: u8 = 253;
const EXCLUSION: u8 = 254;
const MISSING: u8 = 255;

fn ns_text(ns: i64) -> String {
    const UNITS: [(i64, &str); 6] = [
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "min"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ];
    for (per, unit) in UNITS {
        if ns % per == 0 {
            return format!("{} {unit}", ns / per);
        }
    }
    format!("{ns} ns")
}

/// The matching characters of two texts by Ratcliff and Obershelp (Python's `difflib`): the
/// longest common block (the earliest in `a`, then in `b`), then the same on each side of it.
fn matching_chars(a: &[char], b: &[char]) -> usize {
    let (mut best, mut at_a, mut at_b) = (0usize, 0usize, 0usize);
    let mut run = vec![0usize; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        let mut next = vec![0usize; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            if ca == cb {
                next[j + 1] = run[j] + 1;
                if next[j + 1] > best {
                    (best, at_a, at_b) = (next[j + 1], i + 1 - next[j + 1], j + 1 - next[j + 1]);
                }
            }
        }
        run = next;
    }
    if best == 0 {
        return 0;
    }
    best + matching_chars(&a[..at_a], &b[..at_b])
        + matching_chars(&a[at_a + best..], &b[at_b + best..])
}

/// `difflib.SequenceMatcher(None, a, b).ratio()`: 2·matches / (len a + len b), in 0..=1.
fn similarity(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    2.0 * matching_chars(&a, &b) as f64 / (a.len() + b.len()) as f64
}

/// At most this many close event names are kept for a step that matches no event name.
const CLOSE_NAMES: usize = 3;
/// The least similarity of a close name (`difflib.get_close_matches`' default cutoff).
const CLOSE_CUTOFF: f64 = 0.6;

/// The close names of a step among `names`, as `difflib.get_close_matches` orders them: the most
/// similar first (equal ones by name, descending), at most [`CLOSE_NAMES`], each at least
/// [`CLOSE_CUTOFF`] similar to one of the step's event names.
fn close_names<'a>(step: &Step, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = names
        .map(|n| {
            let score = step
                .events
                .iter()
                .map(|e| similarity(e, n))
                .fold(0.0, f64::max);
            (score, n)
        })
        .filter(|(score, _)| *score >= CLOSE_CUTOFF)
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(y.1.cmp(x.1)));
    scored.dedup_by(|x, y| x.1 == y.1);
    scored
        .into_iter()
        .take(CLOSE_NAMES)
        .map(|(_, n)| n.to_string())
        .collect()
}

impl FunnelSpec {
    /// An ordered, closed funnel of one event name per step, with a window in seconds, its end
    /// inclusive, counting unique customers on their first attempt; ties in input order, repeats
    /// ignored, unknown events dropped, missing values omitted (every rule is printed).
    ///
    /// # Errors
    /// As [`FunnelSpec::validate`].
    pub fn ordered(steps: &[&str], window_seconds: Option<i64>) -> Result<Self> {
        let window_ns = match window_seconds {
            None => None,
            Some(s) => Some(s.checked_mul(1_000_000_000).ok_or_else(|| {
                Error::invalid(
                    "window",
                    format!("{s} s does not fit in 64-bit nanoseconds"),
                )
            })?),
        };
        let spec = Self {
            steps: steps.iter().map(|s| Step::named(s)).collect(),
            exclusions: Vec::new(),
            order: OrderMode::Ordered,
            window_ns,
            window_end: WindowEnd::Inclusive,
            entry: Entry::Closed,
            counting: Counting::Uniques,
            reentry: Reentry::First,
            repeats: Repeats::Ignore,
            step_times: StepTimes::NonDecreasing,
            ties: Ties::InputOrder,
            unknown_events: UnknownEvents::Drop,
            missing: MissingRows::Omit,
            as_of_ns: None,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Check the spec: 1 to 64 steps, each with at least one event name; no event name in two
    /// steps or in a step and the exclusions; a window > 0.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the step and the fix.
    pub fn validate(&self) -> Result<()> {
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return Err(Error::invalid(
                "steps",
                format!(
                    "{} steps; a funnel has 1 to {MAX_STEPS} steps",
                    self.steps.len()
                ),
            ));
        }
        let mut seen: rustc_hash::FxHashMap<&str, String> = Default::default();
        for (k, step) in self.steps.iter().enumerate() {
            if step.events.is_empty() {
                return Err(Error::invalid(
                    "steps",
                    format!(
                        "step {} ({:?}) matches no event name; give it at least one (a predicate \
                         that matches none of the log's event names leaves it empty)",
                        k + 1,
                        step.name
                    ),
                ));
            }
            for e in &step.events {
                let here = format!("step {} ({:?})", k + 1, step.name);
                if let Some(before) = seen.insert(e, here.clone()) {
                    if before != here {
                        return Err(Error::invalid(
                            "steps",
                            format!("event {e:?} is in {before} and in {here}; an event name belongs to one step"),
                        ));
                    }
                }
            }
        }
        for e in &self.exclusions {
            if let Some(step) = seen.get(e.as_str()) {
                return Err(Error::invalid(
                    "exclusions",
                    format!("event {e:?} is an exclusion and in {step}; remove it from one"),
                ));
            }
        }
        if let Some(w) = self.window_ns {
            if w <= 0 {
                return Err(Error::invalid(
                    "window",
                    format!("{w} ns; a window is > 0 (or none)"),
                ));
            }
        }
        Ok(())
    }

    /// How a fold of this spec runs. [`FoldPath::Passes`] for the specs whose attempt follows from
    /// the first events of each step (ordered or any-order, closed entry, re-entry `first`, repeats
    /// ignored; any-order with non-decreasing step times), whatever the window, exclusions,
    /// counting, ties, unknown events and missing values; [`FoldPath::Sorted`] for the rules that
    /// need each customer's sequence (strict order, open entry, re-entry `best` or `after_end`,
    /// repeats `stop`, any-order with increasing step times). A fold by group is always sorted.
    pub fn fold_path(&self) -> FoldPath {
        let family = self.entry == Entry::Closed
            && self.reentry == Reentry::First
            && self.repeats == Repeats::Ignore
            && match self.order {
                OrderMode::Ordered => true,
                OrderMode::AnyOrder => self.step_times == StepTimes::NonDecreasing,
                OrderMode::Strict => false,
            };
        if family {
            FoldPath::Passes
        } else {
            FoldPath::Sorted
        }
    }

    /// The number of steps.
    pub fn n_steps(&self) -> usize {
        self.steps.len()
    }

    fn role_of(&self, name: &str) -> u8 {
        if let Some(k) = self
            .steps
            .iter()
            .position(|s| s.events.iter().any(|e| e == name))
        {
            return k as u8;
        }
        if self.exclusions.iter().any(|e| e == name) {
            EXCLUSION
        } else {
            OTHER
        }
    }

    /// Every rule in words, one per line (printed with each result).
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|st| {
                if st.events.len() == 1 && st.events[0] == st.name {
                    st.name.clone()
                } else {
                    format!("{} = any of {:?}", st.name, st.events)
                }
            })
            .collect();
        let _ = writeln!(s, "steps: {}", steps.join(" -> "));
        let _ = writeln!(
            s,
            "exclusions: {}",
            if self.exclusions.is_empty() {
                "none".to_string()
            } else {
                format!("{:?} stop an attempt after its start", self.exclusions)
            }
        );
        let order = match self.order {
            OrderMode::Ordered => "ordered (other events may occur between steps)",
            OrderMode::Strict => "strict (the next event must be the next step)",
            OrderMode::AnyOrder => "any_order (step k = k of the steps done, in any order)",
        };
        let _ = writeln!(s, "order: {order}");
        let _ = match self.window_ns {
            None => writeln!(
                s,
                "window: none (an attempt stays open to the end of the data)"
            ),
            Some(w) => writeln!(
                s,
                "window: {} from the attempt's first step-{} event, end {}",
                ns_text(w),
                if self.entry == Entry::Closed {
                    "1"
                } else {
                    "k"
                },
                self.window_end.id()
            ),
        };
        let entry = match self.entry {
            Entry::Closed => "closed (attempts start at step 1)",
            Entry::Open => "open (attempts may start at any step)",
        };
        let _ = writeln!(s, "entry: {entry}");
        let counting = match self.counting {
            Counting::Uniques => "uniques (customers)",
            Counting::Totals => "totals (attempts)",
        };
        let _ = writeln!(s, "counting: {counting}");
        let reentry = match self.reentry {
            Reentry::First => {
                "first (one attempt per customer; later starts do not reset the window)"
            }
            Reentry::Best if self.entry == Entry::Open => {
                "best (every start tried; kept: the attempts whose steps no other attempt covers)"
            }
            Reentry::Best => "best (every start tried; the furthest attempt kept)",
            Reentry::AfterEnd => "after_end (a new attempt after the previous one ended)",
        };
        let _ = writeln!(s, "re-entry: {reentry}");
        let _ = writeln!(s, "repeats of a reached step: {}", self.repeats.id());
        let _ = writeln!(s, "step times: {}", self.step_times.id());
        let _ = match self.ties {
            Ties::InputOrder => writeln!(s, "equal timestamps: input_order"),
            Ties::StepOrder => writeln!(
                s,
                "equal timestamps: step_order (steps in step order, then exclusions, then other \
                 events; input order among equals)"
            ),
        };
        let _ = writeln!(s, "unknown events: {}", self.unknown_events.id());
        let _ = writeln!(s, "missing values: {}", self.missing.id());
        let _ = writeln!(
            s,
            "denominator: {} entering step 1; step-to-step rates divide by the previous step",
            if self.counting == Counting::Uniques {
                "customers"
            } else {
                "attempts"
            }
        );
        s
    }

    fn in_window(&self, d: i64) -> bool {
        match self.window_ns {
            None => true,
            Some(w) => match self.window_end {
                WindowEnd::Inclusive => d <= w,
                WindowEnd::Exclusive => d < w,
            },
        }
    }

    fn encode(&self, out: &mut Encoder) {
        out.u64(self.steps.len() as u64);
        for st in &self.steps {
            out.str(&st.name);
            out.u64(st.events.len() as u64);
            for e in &st.events {
                out.str(e);
            }
        }
        out.u64(self.exclusions.len() as u64);
        for e in &self.exclusions {
            out.str(e);
        }
        for c in [
            self.order.code(),
            self.window_end.code(),
            self.entry.code(),
            self.counting.code(),
            self.reentry.code(),
            self.repeats.code(),
            self.step_times.code(),
            self.ties.code(),
            self.unknown_events.code(),
            self.missing.code(),
        ] {
            out.u8(c);
        }
        for v in [self.window_ns, self.as_of_ns] {
            out.u8(u8::from(v.is_some()));
            out.u64(v.unwrap_or(0) as u64);
        }
    }

    fn decode(input: &mut Decoder<'_>) -> Result<Self> {
        let strings = |input: &mut Decoder<'_>, what: &str| -> Result<Vec<String>> {
            let n = input.u64(what)?;
            let n = usize::try_from(n).map_err(|_| input.invalid(format!("too many {what}")))?;
            input.check_fits(n, 8, what)?;
            (0..n).map(|_| input.str(what)).collect()
        };
        let n = input.u64("the number of steps")?;
        if n == 0 || n > MAX_STEPS as u64 {
            return Err(input.invalid(format!("{n} steps")));
        }
        let mut steps = Vec::new();
        for _ in 0..n {
            let name = input.str("a step name")?;
            steps.push(Step {
                name,
                events: strings(input, "event names")?,
            });
        }
        let exclusions = strings(input, "exclusions")?;
        let mut codes = [0u8; 10];
        for c in &mut codes {
            *c = input.u8("an option")?;
        }
        let bad = |what: &str| StateKind::FunnelTally.invalid(format!("unknown {what} code"));
        let mut opt = || -> Result<Option<i64>> {
            let some = input.u8("an option flag")?;
            let v = input.u64("an option")? as i64;
            match some {
                0 if v == 0 => Ok(None),
                0 => Err(StateKind::FunnelTally.invalid("an absent option has a value")),
                1 => Ok(Some(v)),
                _ => Err(StateKind::FunnelTally.invalid("an option flag is not 0 or 1")),
            }
        };
        let (window_ns, as_of_ns) = (opt()?, opt()?);
        let spec = Self {
            steps,
            exclusions,
            order: OrderMode::from_code(codes[0]).ok_or_else(|| bad("order"))?,
            window_end: WindowEnd::from_code(codes[1]).ok_or_else(|| bad("window end"))?,
            entry: Entry::from_code(codes[2]).ok_or_else(|| bad("entry"))?,
            counting: Counting::from_code(codes[3]).ok_or_else(|| bad("counting"))?,
            reentry: Reentry::from_code(codes[4]).ok_or_else(|| bad("re-entry"))?,
            repeats: Repeats::from_code(codes[5]).ok_or_else(|| bad("repeats"))?,
            step_times: StepTimes::from_code(codes[6]).ok_or_else(|| bad("step times"))?,
            ties: Ties::from_code(codes[7]).ok_or_else(|| bad("ties"))?,
            unknown_events: UnknownEvents::from_code(codes[8]).ok_or_else(|| bad("unknown"))?,
            missing: MissingRows::from_code(codes[9]).ok_or_else(|| bad("missing"))?,
            window_ns,
            as_of_ns,
        };
        Ok(spec)
    }
}

/// Counts per step: reached, reached from the previous step, reached from step 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepCounts {
    /// At step k (entered at or before k, got to k).
    pub reached: Vec<u64>,
    /// At step k − 1 and at step k (for k = 0: at step 0).
    pub from_previous: Vec<u64>,
    /// Entered at step 1 and got to step k.
    pub from_first: Vec<u64>,
}

impl StepCounts {
    fn zeros(k: usize) -> Self {
        Self {
            reached: vec![0; k],
            from_previous: vec![0; k],
            from_first: vec![0; k],
        }
    }

    fn add(&mut self, other: &Self) -> Result<()> {
        for (a, b) in [
            (&mut self.reached, &other.reached),
            (&mut self.from_previous, &other.from_previous),
            (&mut self.from_first, &other.from_first),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x = add_count(*x, *y, || "a funnel step count".into())?;
            }
        }
        Ok(())
    }

    fn check(&self, k: usize, what: &str) -> std::result::Result<(), String> {
        if self.reached.len() != k || self.from_previous.len() != k || self.from_first.len() != k {
            return Err(format!(
                "{what}: counts of another length than the {k} steps"
            ));
        }
        if self.from_first[0] != self.reached[0] || self.from_previous[0] != self.reached[0] {
            return Err(format!("{what}: step 1 counts differ"));
        }
        for j in 1..k {
            let ok = self.from_first[j] <= self.from_first[j - 1]
                && self.from_first[j] <= self.from_previous[j]
                && self.from_previous[j] <= self.reached[j]
                && self.from_previous[j] <= self.reached[j - 1];
            if !ok {
                return Err(format!("{what}: inconsistent counts at step {}", j + 1));
            }
        }
        Ok(())
    }
}

/// One attempt of one customer.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    /// The step it started at (0 for any-order funnels).
    entry: u8,
    /// One past the last step reached (any order: the number of steps done).
    level: u8,
    start: i64,
    /// Time of the last step reached, or of the event that stopped it.
    end: i64,
    complete: bool,
    stopped: bool,
    open: bool,
    resume: usize,
}

/// One event of a customer: time (ns), role (step index, `EXCLUSION` or `OTHER`).
type Ev = (i64, u8);

fn run_attempt(ev: &[Ev], s: usize, spec: &FunnelSpec, as_of: i64) -> Attempt {
    let n_steps = spec.steps.len() as u8;
    let (t0, r0) = ev[s];
    let any = spec.order == OrderMode::AnyOrder;
    let mut a = Attempt {
        entry: if any { 0 } else { r0 },
        level: if any { 1 } else { r0 + 1 },
        start: t0,
        end: t0,
        complete: false,
        stopped: false,
        open: false,
        resume: ev.len(),
    };
    let mut done: u64 = 1 << r0;
    let increasing = spec.step_times == StepTimes::Increasing;
    a.complete = a.level == n_steps;
    if a.complete {
        a.resume = s + 1;
        return a;
    }
    let mut timed_out = false;
    for (j, &(t, r)) in ev.iter().enumerate().skip(s + 1) {
        if !spec.in_window(t - t0) {
            timed_out = true;
            a.resume = j;
            break;
        }
        if r == EXCLUSION {
            a.stopped = true;
            a.end = t;
            a.resume = j + 1;
            break;
        }
        let same_time = increasing && t == a.end;
        let stop = |a: &mut Attempt| {
            a.stopped = true;
            a.end = t;
            a.resume = j;
        };
        match spec.order {
            OrderMode::Ordered | OrderMode::Strict => {
                if r == a.level && !same_time {
                    a.level += 1;
                    a.end = t;
                } else if spec.order == OrderMode::Strict
                    || (r < a.level && r >= a.entry && spec.repeats == Repeats::Stop)
                {
                    stop(&mut a);
                    break;
                }
            }
            OrderMode::AnyOrder => {
                if r < n_steps {
                    if done & (1 << r) != 0 {
                        if spec.repeats == Repeats::Stop {
                            stop(&mut a);
                            break;
                        }
                    } else if !same_time {
                        done |= 1 << r;
                        a.level += 1;
                        a.end = t;
                    }
                }
            }
        }
        if a.level == n_steps {
            a.complete = true;
            a.resume = j + 1;
            break;
        }
    }
    if !a.complete && !a.stopped && !timed_out {
        a.open = spec.in_window(as_of - t0);
    }
    a
}

fn attempts_of(ev: &[Ev], spec: &FunnelSpec, as_of: i64, out: &mut Vec<Attempt>) {
    out.clear();
    let n_steps = spec.steps.len() as u8;
    let starts = |r: u8| r < n_steps && (spec.entry == Entry::Open || r == 0);
    let first_from = |i: usize| (i..ev.len()).find(|&j| starts(ev[j].1));
    let Some(s) = first_from(0) else { return };
    match spec.reentry {
        Reentry::First => out.push(run_attempt(ev, s, spec, as_of)),
        Reentry::Best => {
            // Every start is tried. An attempt covers the steps from its entry to the furthest
            // step it reached; the attempts kept are those whose steps no other attempt covers
            // (of two covering the same steps, the earlier). Under closed entry every attempt
            // enters at step 1, so this is the one furthest attempt (ClickHouse `windowFunnel`);
            // under open entry a customer can keep several (say A -> C, then D alone outside
            // the window), and the steps counted are those that any attempt reached.
            let mut tried: Vec<Attempt> = Vec::new();
            for j in s..ev.len() {
                if !starts(ev[j].1) {
                    continue;
                }
                let a = run_attempt(ev, j, spec, as_of);
                if a.complete && a.entry == 0 {
                    // It covers every step: no other attempt is kept.
                    out.push(a);
                    return;
                }
                tried.push(a);
            }
            // By entry, then furthest first, then earliest: an attempt is covered by one before
            // it in this order exactly when one of those reaches at least as far.
            let mut order: Vec<usize> = (0..tried.len()).collect();
            order.sort_by_key(|&i| (tried[i].entry, std::cmp::Reverse(tried[i].level), i));
            let mut furthest = 0u8;
            let mut keep = vec![false; tried.len()];
            for i in order {
                if tried[i].level > furthest {
                    furthest = tried[i].level;
                    keep[i] = true;
                }
            }
            out.extend(tried.iter().zip(keep).filter(|(_, k)| *k).map(|(a, _)| *a));
        }
        Reentry::AfterEnd => {
            let mut s = Some(s);
            while let Some(i) = s {
                let a = run_attempt(ev, i, spec, as_of);
                out.push(a);
                if a.open {
                    break;
                }
                s = first_from(a.resume.max(i + 1));
            }
        }
    }
}

/// Below this many rows a fold runs on one thread.
const PARALLEL_ROWS: usize = 1 << 16;

/// Customers are grouped in buckets of `2^BUCKET_BITS` consecutive codes (their counters fit in a
/// core's cache).
const BUCKET_BITS: u32 = 12;
const BUCKET_MASK: u32 = (1 << BUCKET_BITS) - 1;

/// What becomes of a row: kept (time in ns, role) or dropped (the index of its counter).
enum Row {
    Keep(i64, u8),
    Drop(usize),
}

/// A row's values that decide what becomes of it.
#[derive(Clone, Copy)]
struct RowValues {
    no_customer: bool,
    /// In the log's unit ([`MISSING_TIME`]: missing).
    time: i64,
    role: u8,
}

/// What becomes of row `i`: kept (time in ns, role), dropped (the counter), or an error naming the
/// row (`name`: its event name, for the message).
fn classify(
    spec: &FunnelSpec,
    i: usize,
    row: RowValues,
    unit: TimeUnit,
    name: impl FnOnce() -> String,
) -> Result<Row> {
    let RowValues { time: t, role, .. } = row;
    let missing = if row.no_customer {
        Some((0, "customer", "no customer id"))
    } else if t == MISSING_TIME {
        Some((1, "time", "no time"))
    } else if role == MISSING {
        Some((2, "event", "no event name"))
    } else {
        None
    };
    if let Some((slot, name, what)) = missing {
        if spec.missing == MissingRows::Raise {
            return Err(Error::invalid(
                name,
                format!("row {i} has {what}; drop such rows, or pass missing=\"omit\" to drop and count them"),
            ));
        }
        return Ok(Row::Drop(slot));
    }
    if role == OTHER {
        match spec.unknown_events {
            UnknownEvents::Raise => {
                let name = name();
                return Err(Error::invalid(
                    "event",
                    format!("row {i} holds event {name:?}, which is no step and no exclusion; add it to a step, or pass unknown_events=\"drop\" (counted) or \"keep\""),
                ));
            }
            UnknownEvents::Drop => return Ok(Row::Drop(3)),
            UnknownEvents::Keep => {}
        }
    }
    let t = to_ns(t, unit).ok_or_else(|| {
        Error::invalid(
            "time",
            format!("row {i}: {t} does not fit in 64-bit nanoseconds"),
        )
    })?;
    if let Some(a) = spec.as_of_ns {
        if t > a {
            return Err(Error::invalid(
                "time",
                format!(
                    "row {i} is at {}, after as_of ({}); move as_of to the end of the data or drop later rows",
                    iso_instant(t, TimeUnit::Ns),
                    iso_instant(a, TimeUnit::Ns)
                ),
            ));
        }
    }
    Ok(Row::Keep(t, role))
}

/// The first pass over a chunk of rows: kept rows per customer code, dropped rows per group (by
/// counter), the latest kept time.
struct RowScan {
    counts: Vec<u32>,
    dropped: Vec<[u64; 4]>,
    max_t: Option<i64>,
}

/// Per-group partial results of one pass.
#[derive(Debug, Clone)]
struct Part {
    rows: u64,
    dropped: [u64; 4],
    reordered: u64,
    customers: u64,
    attempts_n: u64,
    attempts: StepCounts,
    uniques: StepCounts,
    outcomes: [u64; 4],
    /// Per step, attempts and customers lost between the step before and it whose window is
    /// still open at `as_of`.
    pending: [Vec<u64>; 2],
    durations: Vec<f64>,
    codes: Vec<u8>,
    keys: Vec<u64>,
}

impl Part {
    fn new(k: usize) -> Self {
        Self {
            rows: 0,
            dropped: [0; 4],
            reordered: 0,
            customers: 0,
            attempts_n: 0,
            attempts: StepCounts::zeros(k),
            uniques: StepCounts::zeros(k),
            outcomes: [0; 4],
            pending: [vec![0; k], vec![0; k]],
            durations: Vec::new(),
            codes: Vec::new(),
            keys: Vec::new(),
        }
    }

    fn absorb(&mut self, o: Part) -> Result<()> {
        self.rows += o.rows;
        for k in 0..4 {
            self.dropped[k] += o.dropped[k];
            self.outcomes[k] += o.outcomes[k];
        }
        self.reordered += o.reordered;
        self.customers += o.customers;
        self.attempts_n += o.attempts_n;
        self.attempts.add(&o.attempts)?;
        self.uniques.add(&o.uniques)?;
        for (a, b) in self.pending.iter_mut().zip(&o.pending) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.durations.extend(o.durations);
        self.codes.extend(o.codes);
        self.keys.extend(o.keys);
        Ok(())
    }

    /// Count one customer's attempts.
    // The step index addresses several per-step arrays (counts and flags) alike.
    #[allow(clippy::needless_range_loop)]
    fn customer(&mut self, atts: &[Attempt], spec: &FunnelSpec, as_of: i64, key: u64, rows: u64) {
        let k = spec.steps.len();
        self.rows += rows;
        self.customers += 1;
        self.keys.push(key);
        let mut any = [[false; MAX_STEPS]; 3];
        for a in atts {
            self.attempts_n += 1;
            let (e, l) = (a.entry as usize, a.level as usize);
            for j in e..l.min(k) {
                self.attempts.reached[j] += 1;
                any[0][j] = true;
                if j == 0 || j > e {
                    self.attempts.from_previous[j] += 1;
                    any[1][j] = true;
                }
                if e == 0 {
                    self.attempts.from_first[j] += 1;
                    any[2][j] = true;
                }
            }
        }
        for j in 0..k {
            self.uniques.reached[j] += u64::from(any[0][j]);
            self.uniques.from_previous[j] += u64::from(any[1][j]);
            self.uniques.from_first[j] += u64::from(any[2][j]);
        }
        // An attempt still inside its window at `as_of` whose furthest step is `level - 1` is in
        // the drop-off before step `level`, but may still get there.
        let mut pending = [false; MAX_STEPS];
        for a in atts.iter().filter(|a| a.open && (a.level as usize) < k) {
            self.pending[0][a.level as usize] += 1;
            pending[a.level as usize] = true;
        }
        for j in 1..k {
            self.pending[1][j] += u64::from(pending[j] && !any[1][j]);
        }
        // The attempts of the time-to-convert table: those entering at step 1.
        let entered = atts.iter().filter(|a| a.entry == 0);
        let mut record = |a: &Attempt| {
            let (code, d, slot) = if a.complete {
                (1u8, a.end - a.start, 0)
            } else if a.stopped {
                (2, a.end - a.start, 1)
            } else if a.open {
                (0, as_of - a.start, 2)
            } else {
                (0, spec.window_ns.unwrap_or(as_of - a.start), 3)
            };
            self.outcomes[slot] += 1;
            self.durations.push(d as f64 / 1e9);
            self.codes.push(code);
        };
        match spec.counting {
            Counting::Totals => entered.for_each(record),
            Counting::Uniques => {
                let chosen = match spec.reentry {
                    Reentry::AfterEnd => {
                        let mut e = atts.iter().filter(|a| a.entry == 0);
                        e.clone().find(|a| a.complete).or_else(|| e.next_back())
                    }
                    _ => entered.into_iter().next(),
                };
                if let Some(a) = chosen {
                    record(a);
                }
            }
        }
    }
}

/// The kind of a customer id label: 0 missing, 1 integer, 2 text (and any other label read as
/// its text, as a boolean or a date), [`FLOAT_ID`] a float.
pub const FLOAT_ID: u8 = 4;

/// The kinds of customer ids of one fold (bits: 1 integers, 2 texts), from each row's customer
/// code and each code's kind (0 missing, 1 integer, 2 text, [`FLOAT_ID`] float): one kind per fold.
///
/// # Errors
/// [`Error::InvalidArgument`] naming the first row of the other kind when integers and texts mix
/// (the integer 1 and the text "1" would be two customers), or the first row of a float id
/// (integer or text ids only).
pub fn id_kinds_of_rows(codes: &[u32], kinds: &[u8]) -> Result<u8> {
    let kind_of = |c: u32| kinds.get(c as usize).copied().unwrap_or(0);
    if kinds.contains(&FLOAT_ID) {
        if let Some(i) = codes.iter().position(|c| kind_of(*c) == FLOAT_ID) {
            return Err(Error::invalid(
                "customer",
                format!("row {i} holds a float customer id; ids are integers or texts: convert the column (to integers: pandas' .astype(\"Int64\") keeps missing ids missing; or to texts)"),
            ));
        }
    }
    let all = kinds.iter().fold(0u8, |a, k| a | k);
    if all & 3 != 3 {
        return Ok(all & 3);
    }
    let Some(first) = codes.iter().position(|c| kind_of(*c) != 0) else {
        return Ok(0);
    };
    let k0 = kind_of(codes[first]);
    match codes[first..]
        .iter()
        .position(|c| kind_of(*c) != 0 && kind_of(*c) != k0)
    {
        None => Ok(k0),
        Some(j) => {
            let name = |k: u8| if k == 1 { "an integer" } else { "a text" };
            Err(Error::invalid(
                "customer",
                format!(
                    "row {} holds {} customer id and row {first} {}: the integer 1 and the text \"1\" would be two customers; give one kind of id (convert the column, e.g. to texts)",
                    first + j,
                    name(kind_of(codes[first + j])),
                    name(k0)
                ),
            ))
        }
    }
}

/// Every event code below `k` names (a negative categorical code is a missing name); else the
/// first bad row is named.
fn check_event_codes(events: EventCodes<'_>, k: usize) -> Result<()> {
    fn first<T: Copy + Into<i64>>(c: &[T], k: usize) -> Option<(usize, i64)> {
        c.iter()
            .position(|x| (*x).into() >= k as i64)
            .map(|i| (i, c[i].into()))
    }
    let bad = match events {
        EventCodes::U32(c) => first(c, k),
        EventCodes::I8(c) => first(c, k),
        EventCodes::I16(c) => first(c, k),
        EventCodes::I32(c) => first(c, k),
        EventCodes::I64(c) => first(c, k),
    };
    match bad {
        None => Ok(()),
        Some((i, code)) => Err(Error::invalid(
            "event",
            format!("code {code} at row {i} is not below the {k} event names"),
        )),
    }
}

/// Options of [`FunnelTally::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FunnelOptions {
    /// The level of the Wilson intervals (default 0.95).
    pub confidence_level: f64,
}

impl Default for FunnelOptions {
    fn default() -> Self {
        Self {
            confidence_level: 0.95,
        }
    }
}

/// The mergeable state of a funnel. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawFunnelTally")]
pub struct FunnelTally {
    spec: FunnelSpec,
    as_of_ns: Option<i64>,
    n_rows: u64,
    /// Rows dropped: missing customer, missing time, missing event, unknown event.
    dropped: [u64; 4],
    n_reordered: u64,
    n_customers: u64,
    n_attempts: u64,
    attempts: StepCounts,
    customers: StepCounts,
    /// Time-to-convert units: converted, stopped, in window at `as_of`, timed out.
    outcomes: [u64; 4],
    time_to_convert: EventTable,
    customer_keys: Vec<u64>,
    /// Per step, the attempts and the customers lost between the step before and it whose window
    /// is still open at `as_of` (`None` for a state stored without them).
    pending: Option<[Vec<u64>; 2]>,
    /// The kinds of customer ids folded: 1 integers, 2 texts (bits; 0 before any fold).
    id_kinds: u8,
    /// Per step, whether a folded log held one of its event names; for a step that none did, the
    /// closest event names seen (see [`close_names`]).
    step_names: Vec<StepNames>,
}

/// Whether the logs folded held an event name of a step, and if not the closest names they held.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StepNames {
    /// A log held one of the step's event names.
    pub seen: bool,
    /// When not: the most similar event names of the logs (at most 3, similarity ≥ 0.6).
    pub close: Vec<String>,
}

#[derive(Deserialize)]
struct RawFunnelTally {
    spec: FunnelSpec,
    as_of_ns: Option<i64>,
    n_rows: u64,
    dropped: [u64; 4],
    n_reordered: u64,
    n_customers: u64,
    n_attempts: u64,
    attempts: StepCounts,
    customers: StepCounts,
    outcomes: [u64; 4],
    time_to_convert: EventTable,
    customer_keys: Vec<u64>,
    #[serde(default)]
    pending: Option<[Vec<u64>; 2]>,
    #[serde(default)]
    id_kinds: u8,
    #[serde(default)]
    step_names: Vec<StepNames>,
}

impl TryFrom<RawFunnelTally> for FunnelTally {
    type Error = Error;
    fn try_from(r: RawFunnelTally) -> Result<Self> {
        // A state stored without the steps' names seen warns of none.
        let seen = StepNames {
            seen: true,
            close: Vec::new(),
        };
        let step_names = if r.step_names.is_empty() {
            vec![seen; r.spec.steps.len()]
        } else {
            r.step_names
        };
        let t = Self {
            spec: r.spec,
            as_of_ns: r.as_of_ns,
            n_rows: r.n_rows,
            dropped: r.dropped,
            n_reordered: r.n_reordered,
            n_customers: r.n_customers,
            n_attempts: r.n_attempts,
            attempts: r.attempts,
            customers: r.customers,
            outcomes: r.outcomes,
            time_to_convert: r.time_to_convert,
            customer_keys: r.customer_keys,
            pending: r.pending,
            id_kinds: r.id_kinds,
            step_names,
        };
        t.validate()?;
        Ok(t)
    }
}

impl FunnelTally {
    /// An empty state of the funnel `spec` (checked).
    ///
    /// # Errors
    /// As [`FunnelSpec::validate`].
    pub fn new(spec: FunnelSpec) -> Result<Self> {
        spec.validate()?;
        let k = spec.steps.len();
        Ok(Self {
            spec,
            as_of_ns: None,
            n_rows: 0,
            dropped: [0; 4],
            n_reordered: 0,
            n_customers: 0,
            n_attempts: 0,
            attempts: StepCounts::zeros(k),
            customers: StepCounts::zeros(k),
            outcomes: [0; 4],
            time_to_convert: EventTable::exact(),
            customer_keys: Vec::new(),
            pending: Some([vec![0; k], vec![0; k]]),
            id_kinds: 0,
            step_names: vec![StepNames::default(); k],
        })
    }

    /// Note the event names of a folded log: which steps they match, and for a step they do not,
    /// the closest of them.
    fn note_names(&mut self, names: &[Option<String>]) {
        let names: Vec<&str> = names.iter().flatten().map(String::as_str).collect();
        if names.is_empty() {
            return;
        }
        for (st, seen) in self.spec.steps.iter().zip(self.step_names.iter_mut()) {
            if seen.seen {
                continue;
            }
            if st.events.iter().any(|e| names.contains(&e.as_str())) {
                *seen = StepNames {
                    seen: true,
                    close: Vec::new(),
                };
            } else {
                let close = close_names(
                    st,
                    names
                        .iter()
                        .copied()
                        .chain(seen.close.iter().map(String::as_str)),
                );
                seen.close = close;
            }
        }
    }

    /// Note the kinds of customer ids of a fold (bits: 1 integers, 2 texts), checked first with
    /// [`FunnelTally::check_id_kinds`]. An integer id and the same digits as text are two
    /// customers, so states of different kinds do not merge.
    pub fn add_id_kinds(&mut self, kinds: u8) {
        self.id_kinds |= kinds & 3;
    }

    /// Whether ids of `kinds` (bits: 1 integers, 2 texts) may join this state.
    ///
    /// # Errors
    /// [`Error::Incompatible`] when the state holds ids of another kind, naming both.
    pub fn check_id_kinds(&self, kinds: u8) -> Result<()> {
        let (a, b) = (self.id_kinds & 3, kinds & 3);
        if a == 0 || b == 0 || a == b {
            return Ok(());
        }
        let kind = |k: u8| match k {
            1 => "integers",
            2 => "texts",
            _ => "integers and texts",
        };
        Err(Error::Incompatible(format!(
            "funnel states keyed by {} and by {}: the integer 1 and the text \"1\" would be two \
             customers; give every partition the same kind of customer id (convert one column)",
            kind(a),
            kind(b)
        )))
    }

    /// The funnel's rules.
    pub fn spec(&self) -> &FunnelSpec {
        &self.spec
    }

    /// The end of the data (nanoseconds since the epoch), once a row was folded.
    pub fn as_of_ns(&self) -> Option<i64> {
        self.as_of_ns
    }

    fn state_of_part(&self, p: Part, as_of: Option<i64>) -> Result<Self> {
        let mut t = Self::new(self.spec.clone())?;
        t.as_of_ns = as_of;
        t.n_rows = p.rows;
        t.dropped = p.dropped;
        t.n_reordered = p.reordered;
        t.n_customers = p.customers;
        t.n_attempts = p.attempts_n;
        t.attempts = p.attempts;
        t.customers = p.uniques;
        t.outcomes = p.outcomes;
        t.pending = Some(p.pending);
        t.time_to_convert
            .fold_codes(TicketCodes::new(&p.durations, &p.codes), None)?;
        let mut keys = p.keys;
        keys.par_sort_unstable();
        keys.dedup();
        t.customer_keys = keys;
        Ok(t)
    }

    /// The states of one event log, one per group (`groups`: each row's group code and the number
    /// of groups; a customer belongs to the group of their first event, after sorting by time).
    fn tallies_of(&self, log: EventLog<'_>, groups: Option<(&[u32], usize)>) -> Result<Vec<Self>> {
        log.check()?;
        let n = log.len();
        if n >= u32::MAX as usize {
            return Err(Error::invalid(
                "events",
                format!("{n} rows are more than one fold takes; fold them in parts (whole customers in each)"),
            ));
        }
        let n_groups = groups.map_or(1, |g| g.1);
        if let Some((codes, k)) = groups {
            if codes.len() != n {
                return Err(Error::LengthMismatch {
                    what: "events and group labels",
                    left: n,
                    right: codes.len(),
                });
            }
            if let Some(i) = codes.iter().position(|c| *c as usize >= k) {
                return Err(Error::invalid(
                    "by",
                    format!("group {} at row {i} is not below {k}", codes[i]),
                ));
            }
        }
        let spec = &self.spec;
        let group_of = |i: usize| groups.map_or(0, |g| g.0[i] as usize);
        let roles: Vec<u8> = log
            .event_names
            .iter()
            .map(|e| e.as_deref().map_or(MISSING, |e| spec.role_of(e)))
            .collect();
        let mut parts: Vec<Part> = (0..n_groups).map(|_| Part::new(spec.steps.len())).collect();
        // What becomes of row `i`: kept (time in ns, role), dropped (the counter), or an error.
        let classify = |i: usize| -> Result<Row> {
            let code = log.events[i] as usize;
            let row = RowValues {
                no_customer: Some(log.customers[i]) == log.missing_customer,
                time: log.times[i],
                role: roles[code],
            };
            classify(spec, i, row, log.unit, || {
                log.event_names[code].as_deref().unwrap_or("").to_string()
            })
        };
        let n_c = log.n_customers;
        let threads = rayon::current_num_threads().max(1);
        // The fast test of a row: its event code's role when rows of that code are kept whatever
        // else (`SLOW` otherwise), and the raw times that convert to ns without overflow and are
        // not after `as_of`. Rows failing it go through `classify`.
        let fast_role: Vec<u8> = roles
            .iter()
            .map(|&r| match r {
                MISSING => SLOW,
                OTHER if spec.unknown_events != UnknownEvents::Keep => SLOW,
                r => r,
            })
            .collect();
        let per = to_ns(1, log.unit).unwrap_or(1);
        let lo_raw = (i64::MIN / per).max(MISSING_TIME + 1);
        let hi_raw = spec.as_of_ns.map_or(i64::MAX / per, |a| a.div_euclid(per));
        let no_customer = log.missing_customer.map_or(u64::MAX, u64::from);
        // Customers are taken in buckets of 2^BUCKET_BITS consecutive codes: the rows are first
        // grouped by bucket (a counting sort whose counters stay in cache), then by customer
        // inside each bucket.
        let n_b = n_c.div_ceil(1 << BUCKET_BITS);
        // Pass 1, over row chunks in parallel: check every row (the first bad row is named: the
        // chunks are in row order), note each row's role (`DROPPED`), count dropped rows by group
        // and kept rows by customer.
        let n_row_chunks = if n < PARALLEL_ROWS { 1 } else { threads };
        let row_chunk = n.div_ceil(n_row_chunks).max(1);
        let mut row_role: Vec<u8> = vec![DROPPED; n];
        let scans: Vec<Result<RowScan>> = row_role
            .par_chunks_mut(row_chunk)
            .enumerate()
            .map(|(ch, out)| {
                let mut s = RowScan {
                    counts: vec![0u32; n_b],
                    dropped: vec![[0u64; 4]; n_groups],
                    max_t: None,
                };
                let lo = ch * row_chunk;
                let mut max_raw = i64::MIN;
                for (k, slot) in out.iter_mut().enumerate() {
                    let i = lo + k;
                    let c = log.customers[i];
                    let t = log.times[i];
                    let fast = fast_role[log.events[i] as usize];
                    if fast != SLOW && t >= lo_raw && t <= hi_raw && u64::from(c) != no_customer {
                        *slot = fast;
                        s.counts[(c >> BUCKET_BITS) as usize] += 1;
                        max_raw = max_raw.max(t);
                        continue;
                    }
                    match classify(i)? {
                        Row::Keep(t, r) => {
                            *slot = r;
                            s.counts[(c >> BUCKET_BITS) as usize] += 1;
                            s.max_t = Some(s.max_t.map_or(t, |m: i64| m.max(t)));
                        }
                        Row::Drop(d) => s.dropped[group_of(i)][d] += 1,
                    }
                }
                if max_raw > i64::MIN {
                    let t = max_raw * per; // checked above: it fits
                    s.max_t = Some(s.max_t.map_or(t, |m: i64| m.max(t)));
                }
                Ok(s)
            })
            .collect();
        let scans = scans.into_iter().collect::<Result<Vec<RowScan>>>()?;
        // Where each bucket's kept rows go: `offsets[b]..offsets[b + 1]` (n < 2³² rows).
        let mut offsets = vec![0u32; n_b + 1];
        let mut max_t: Option<i64> = None;
        for s in &scans {
            for (o, k) in offsets[1..].iter_mut().zip(&s.counts) {
                *o += k;
            }
            max_t = match (max_t, s.max_t) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            for (p, d) in parts.iter_mut().zip(&s.dropped) {
                for (x, y) in p.dropped.iter_mut().zip(d) {
                    *x += y;
                    p.rows += y;
                }
            }
        }
        drop(scans);
        for b in 0..n_b {
            offsets[b + 1] += offsets[b];
        }
        let as_of = spec.as_of_ns.or(max_t);
        let as_of_v = as_of.unwrap_or(0);
        let kept = offsets[n_b] as usize;
        // Pass 2, over bucket ranges in parallel (each about the same number of kept rows): the
        // kept rows of the range's buckets, in input order, into the range's own slice, with
        // their customer's place in the bucket.
        let n_ranges = if n < PARALLEL_ROWS { 1 } else { threads };
        let mut bounds = vec![0usize];
        for r in 1..n_ranges {
            let target = (kept as u64 * r as u64 / n_ranges as u64) as u32;
            let b = offsets.partition_point(|o| *o < target).min(n_b);
            bounds.push(b.max(*bounds.last().unwrap_or(&0)));
        }
        bounds.push(n_b);
        let grouped = groups.is_some();
        let mut times: Vec<i64> = vec![0; kept];
        // (place of the customer in its bucket) << 8 | role.
        let mut place_role: Vec<u32> = vec![0; kept];
        let mut group_codes: Vec<u32> = vec![0; if grouped { kept } else { 0 }];
        {
            let mut slices = Vec::with_capacity(n_ranges);
            let (mut t_rest, mut r_rest, mut g_rest) = (
                times.as_mut_slice(),
                place_role.as_mut_slice(),
                group_codes.as_mut_slice(),
            );
            for w in bounds.windows(2) {
                let len = (offsets[w[1]] - offsets[w[0]]) as usize;
                let (t, t2) = t_rest.split_at_mut(len);
                let (r, r2) = r_rest.split_at_mut(len);
                let (g, g2) = g_rest.split_at_mut(if grouped { len } else { 0 });
                (t_rest, r_rest, g_rest) = (t2, r2, g2);
                slices.push((w[0], w[1], t, r, g));
            }
            slices.into_par_iter().for_each(|(lo, hi, ts, rs, gs)| {
                if lo == hi {
                    return;
                }
                let base = offsets[lo];
                let mut next: Vec<u32> = offsets[lo..hi].iter().map(|o| o - base).collect();
                let rows = log.customers.iter().zip(&row_role).enumerate();
                for (i, (&c, &r)) in rows {
                    let b = (c >> BUCKET_BITS) as usize;
                    if b < lo || b >= hi || r == DROPPED {
                        continue;
                    }
                    let slot = &mut next[b - lo];
                    let j = *slot as usize;
                    ts[j] = log.times[i] * per; // checked in pass 1: it fits
                    rs[j] = (c & BUCKET_MASK) << 8 | u32::from(r);
                    if let Some(g) = gs.get_mut(j) {
                        *g = group_of(i) as u32;
                    }
                    *slot += 1;
                }
            });
        }
        drop(row_role);
        // Equal times in step order: steps, then exclusions, then other events.
        let step_rank = |r: u8| match r {
            EXCLUSION => 200,
            OTHER => 201,
            step => step,
        };
        // Pass 3, over buckets in parallel: each bucket's rows by customer (a counting sort in
        // input order), then each customer's events scanned in time order.
        let bucket_chunk = n_b.div_ceil(8 * threads).max(1);
        let folded: Vec<Vec<Part>> = (0..n_b.div_ceil(bucket_chunk))
            .into_par_iter()
            .map(|chunk| {
                let mut out: Vec<Part> =
                    (0..n_groups).map(|_| Part::new(spec.steps.len())).collect();
                let mut starts = vec![0u32; (1 << BUCKET_BITS) + 1];
                let mut local: Vec<(i64, u8, u32)> = Vec::new();
                let mut buf: Vec<(i64, u8, u32)> = Vec::new();
                let mut ev: Vec<Ev> = Vec::new();
                let mut atts: Vec<Attempt> = Vec::new();
                for b in chunk * bucket_chunk..((chunk + 1) * bucket_chunk).min(n_b) {
                    let (lo, hi) = (offsets[b] as usize, offsets[b + 1] as usize);
                    if lo == hi {
                        continue;
                    }
                    let (ts, rs) = (&times[lo..hi], &place_role[lo..hi]);
                    starts.fill(0);
                    for pr in rs {
                        starts[(pr >> 8) as usize + 1] += 1;
                    }
                    for k in 0..1 << BUCKET_BITS {
                        starts[k + 1] += starts[k];
                    }
                    local.clear();
                    local.resize(hi - lo, (0, 0, 0));
                    for (j, (t, pr)) in ts.iter().zip(rs).enumerate() {
                        let slot = &mut starts[(pr >> 8) as usize];
                        let g = if grouped { group_codes[lo + j] } else { 0 };
                        local[*slot as usize] = (*t, (pr & 0xff) as u8, g);
                        *slot += 1;
                    }
                    // `starts[k]` is now the end of customer k's rows.
                    let mut a = 0usize;
                    for (k, &end) in starts[..1 << BUCKET_BITS].iter().enumerate() {
                        let e = end as usize;
                        if e == a {
                            continue;
                        }
                        let rows = &local[a..e];
                        let c = (b << BUCKET_BITS) + k;
                        let reordered = rows.windows(2).filter(|w| w[1].0 < w[0].0).count() as u64;
                        let sorted = spec.ties == Ties::InputOrder && reordered == 0;
                        let g = if sorted {
                            ev.clear();
                            ev.extend(rows.iter().map(|e| (e.0, e.1)));
                            rows[0].2 as usize
                        } else {
                            buf.clear();
                            buf.extend_from_slice(rows);
                            match spec.ties {
                                Ties::InputOrder => buf.sort_by_key(|e| e.0),
                                Ties::StepOrder => buf.sort_by_key(|e| (e.0, step_rank(e.1))),
                            }
                            ev.clear();
                            ev.extend(buf.iter().map(|e| (e.0, e.1)));
                            buf[0].2 as usize
                        };
                        attempts_of(&ev, spec, as_of_v, &mut atts);
                        let p = &mut out[g];
                        p.reordered += reordered;
                        p.customer(&atts, spec, as_of_v, log.customer_keys[c], (e - a) as u64);
                        a = e;
                    }
                }
                out
            })
            .collect();
        for chunk_parts in folded {
            for (p, q) in parts.iter_mut().zip(chunk_parts) {
                p.absorb(q)?;
            }
        }
        parts
            .into_iter()
            .map(|p| {
                let as_of = if p.rows > 0 { as_of } else { None };
                self.state_of_part(p, as_of)
            })
            .collect()
    }

    /// One state per group, in one pass: `codes[i]` is the group of row `i` (below `n_groups`,
    /// from the grouping engine). A customer belongs to the group of their first event (after
    /// sorting by time); their later events count in that group whatever their own label.
    ///
    /// # Errors
    /// As [`Accumulator::fold_batch`].
    pub fn by_group(&self, codes: &[u32], n_groups: usize, log: EventLog<'_>) -> Result<Vec<Self>> {
        let mut states = self.tallies_of(log, Some((codes, n_groups)))?;
        for s in &mut states {
            s.note_names(log.event_names);
        }
        Ok(states)
    }

    /// A line per step that no folded log held an event name of (none before a row is folded).
    fn step_warnings(&self) -> Vec<String> {
        if self.n_rows == 0 {
            return Vec::new();
        }
        let steps = self.spec.steps.iter().zip(&self.step_names).enumerate();
        steps
            .filter(|(_, (_, n))| !n.seen)
            .map(|(j, (st, n))| {
                let close = if n.close.is_empty() {
                    "no event name of the data is close".to_string()
                } else {
                    let names: Vec<String> = n.close.iter().map(|c| format!("{c:?}")).collect();
                    format!("closest event names: {}", names.join(", "))
                };
                format!(
                    "step {} ({:?}) matches no event name of the data, so it counts 0 ({close}); \
                     check the spelling",
                    j + 1,
                    st.name
                )
            })
            .collect()
    }

    /// Fold the rows by passes, or one pass when they are in time order ([`FoldPath::Passes`]; the
    /// spec must allow it), the rows shared among threads by `split`.
    fn fold_passes<C: passes::Customers, E: passes::Events>(
        &mut self,
        customers: &C,
        events: &E,
        names: &[Option<String>],
        times: &[i64],
        unit: TimeUnit,
        split: passes::Split,
    ) -> Result<()> {
        let n = times.len();
        if n >= u32::MAX as usize {
            return Err(Error::invalid(
                "events",
                format!("{n} rows are more than one fold takes; fold them in parts (whole customers in each)"),
            ));
        }
        let spec = &self.spec;
        let mut roles: Vec<u8> = names
            .iter()
            .map(|e| e.as_deref().map_or(MISSING, |e| spec.role_of(e)))
            .collect();
        roles.push(MISSING);
        let (part, as_of) =
            passes::fold(spec, customers, events, &roles, names, times, unit, split)?;
        let as_of = if part.rows > 0 { as_of } else { None };
        let mut t = self.state_of_part(part, as_of)?;
        t.note_names(names);
        self.merge(&t)
    }

    /// Fold an event log by the rows grouped by customer and sorted ([`FoldPath::Sorted`]), whatever
    /// the spec (tests compare both ways).
    fn fold_sorted(&mut self, log: EventLog<'_>) -> Result<()> {
        let mut parts = self.tallies_of(log, None)?;
        let mut part = parts.pop().expect("one state");
        part.note_names(log.event_names);
        self.merge(&part)
    }

    /// Fold an event log by passes (or one pass) whatever the spec (tests compare both ways).
    fn fold_log_passes(&mut self, log: EventLog<'_>, split: passes::Split) -> Result<()> {
        log.check()?;
        let customers = passes::Coded {
            codes: log.customers,
            n: log.n_customers,
            missing: log.missing_customer,
            keys: log.customer_keys,
        };
        let events = passes::Unsigned(log.events);
        self.fold_passes(
            &customers,
            &events,
            log.event_names,
            log.times,
            log.unit,
            split,
        )
    }

    /// Fold an event log given as its columns, read in place. On [`FoldPath::Passes`], nothing is
    /// made per row when the customer ids are integers spanning at most about twice the number of
    /// rows (coded `id − min` as they are read) or codes, and the event names are `u32` or
    /// categorical codes; other integer ids are numbered first (4 bytes per row). On
    /// [`FoldPath::Sorted`], as [`Accumulator::fold_batch`] of the coded log.
    ///
    /// # Errors
    /// As [`Accumulator::fold_batch`].
    pub fn fold_columns(&mut self, cols: EventColumns<'_>) -> Result<()> {
        let n_rows = match cols.customers {
            CustomerColumn::Codes { codes, .. } => codes.len(),
            CustomerColumn::Ints(ids) => ids.len(),
        };
        for (what, len) in [
            ("customers and events", cols.events.len()),
            ("customers and times", cols.times.len()),
        ] {
            if len != n_rows {
                return Err(Error::LengthMismatch {
                    what,
                    left: n_rows,
                    right: len,
                });
            }
        }
        let n_names = cols.event_names.len();
        let numbered;
        let (codes, n_c, missing, keys): (&[u32], usize, Option<u32>, &[u64]) = match cols.customers
        {
            CustomerColumn::Codes {
                codes,
                n_customers,
                missing,
                keys,
            } => (codes, n_customers, missing, keys),
            CustomerColumn::Ints(ids) => {
                if self.spec.fold_path() == FoldPath::Passes {
                    if let Some((min, span)) = dense_span(ids) {
                        let customers = passes::Dense { ids, min, span };
                        return self.fold_event_codes(&customers, &cols);
                    }
                }
                numbered = int_customers(ids)?;
                (&numbered.0, numbered.1.len(), None, &numbered.1)
            }
        };
        if self.spec.fold_path() == FoldPath::Passes {
            // The checks of `EventLog::check` on the customers (the events are checked next).
            let log = EventLog {
                customers: codes,
                n_customers: n_c,
                missing_customer: missing,
                customer_keys: keys,
                events: &[],
                event_names: &[],
                times: &[],
                unit: cols.unit,
            };
            log.check_customers()?;
            let customers = passes::Coded {
                codes,
                n: n_c,
                missing,
                keys,
            };
            return self.fold_event_codes(&customers, &cols);
        }
        // The sorted fold takes `u32` event codes; a missing categorical code becomes one more
        // (missing) name.
        let mut names = cols.event_names.to_vec();
        let coded: Vec<u32>;
        let events: &[u32] = match cols.events {
            EventCodes::U32(c) => c,
            other => {
                names.push(None);
                let as_u32 = |c: i64| {
                    if c < 0 || c as usize >= n_names {
                        n_names as u32
                    } else {
                        c as u32
                    }
                };
                check_event_codes(other, n_names)?;
                coded = match other {
                    EventCodes::I8(c) => c.iter().map(|c| as_u32((*c).into())).collect(),
                    EventCodes::I16(c) => c.iter().map(|c| as_u32((*c).into())).collect(),
                    EventCodes::I32(c) => c.iter().map(|c| as_u32((*c).into())).collect(),
                    EventCodes::I64(c) => c.iter().map(|c| as_u32(*c)).collect(),
                    EventCodes::U32(c) => c.to_vec(),
                };
                &coded
            }
        };
        let log = EventLog {
            customers: codes,
            n_customers: n_c,
            missing_customer: missing,
            customer_keys: keys,
            events,
            event_names: &names,
            times: cols.times,
            unit: cols.unit,
        };
        self.fold_batch(log, None)
    }

    fn fold_event_codes<C: passes::Customers>(
        &mut self,
        customers: &C,
        cols: &EventColumns<'_>,
    ) -> Result<()> {
        let names = cols.event_names;
        let n_names = names.len();
        check_event_codes(cols.events, n_names)?;
        let (times, unit) = (cols.times, cols.unit);
        let split = passes::Split::Auto;
        // Categorical codes of any width: a negative code is a missing name.
        macro_rules! signed {
            ($codes:expr) => {{
                let events = passes::Signed {
                    codes: $codes,
                    missing: n_names,
                };
                self.fold_passes(customers, &events, names, times, unit, split)
            }};
        }
        match cols.events {
            EventCodes::U32(c) => {
                self.fold_passes(customers, &passes::Unsigned(c), names, times, unit, split)
            }
            EventCodes::I8(codes) => signed!(codes),
            EventCodes::I16(codes) => signed!(codes),
            EventCodes::I32(codes) => signed!(codes),
            EventCodes::I64(codes) => signed!(codes),
        }
    }

    fn unit_counts(&self) -> &StepCounts {
        match self.spec.counting {
            Counting::Uniques => &self.customers,
            Counting::Totals => &self.attempts,
        }
    }
}

impl Merge for FunnelTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.spec != other.spec {
            return Err(Error::Incompatible(
                "funnel states of two different specs; fold both with the same FunnelSpec".into(),
            ));
        }
        let as_of = match (self.as_of_ns, other.as_of_ns) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::Incompatible(format!(
                    "funnel states with different ends of data (as_of {} and {}); give the spec one as_of for every partition",
                    iso_instant(a, TimeUnit::Ns),
                    iso_instant(b, TimeUnit::Ns)
                )))
            }
            (a, b) => a.or(b),
        };
        self.check_id_kinds(other.id_kinds)?;
        let (a, b) = (&self.customer_keys, &other.customer_keys);
        let mut keys = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                return Err(Error::Incompatible(
                    "the two funnel states saw the same customer; a funnel needs all of a customer's events in one state (partition the events by customer)".into(),
                ));
            }
            if j >= b.len() || (i < a.len() && a[i] < b[j]) {
                keys.push(a[i]);
                i += 1;
            } else {
                keys.push(b[j]);
                j += 1;
            }
        }
        let mut out = self.clone();
        out.as_of_ns = as_of;
        let add = |x: u64, y: u64| add_count(x, y, || "a funnel count".into());
        out.n_rows = add(out.n_rows, other.n_rows)?;
        for k in 0..4 {
            out.dropped[k] = add(out.dropped[k], other.dropped[k])?;
            out.outcomes[k] = add(out.outcomes[k], other.outcomes[k])?;
        }
        out.n_reordered = add(out.n_reordered, other.n_reordered)?;
        out.n_customers = add(out.n_customers, other.n_customers)?;
        out.n_attempts = add(out.n_attempts, other.n_attempts)?;
        out.attempts.add(&other.attempts)?;
        out.customers.add(&other.customers)?;
        out.time_to_convert.merge(&other.time_to_convert)?;
        out.customer_keys = keys;
        out.pending = match (&self.pending, &other.pending) {
            (Some(a), Some(b)) => {
                let mut sum = a.clone();
                for (x, y) in sum.iter_mut().zip(b) {
                    for (u, v) in x.iter_mut().zip(y) {
                        *u = add(*u, *v)?;
                    }
                }
                Some(sum)
            }
            _ => None,
        };
        out.id_kinds = self.id_kinds | other.id_kinds;
        for ((n, a), b) in out
            .step_names
            .iter_mut()
            .zip(&self.spec.steps)
            .zip(&other.step_names)
        {
            if n.seen || b.seen {
                (n.seen, n.close) = (true, Vec::new());
            } else {
                n.close = close_names(a, n.close.iter().chain(&b.close).map(String::as_str));
            }
        }
        *self = out;
        Ok(())
    }
}

/// One step of a [`FunnelResult`], in the counting unit of the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelStepRow {
    /// The step's name.
    pub step: String,
    /// Customers or attempts at the step.
    pub count: u64,
    /// Of those at the previous step, those that reached this one (step 1: its count).
    pub from_previous: u64,
    /// The count at the previous step (`None` for step 1).
    pub previous: Option<u64>,
    /// `from_previous / previous` (`None` for step 1 or an empty previous step).
    pub conversion: Option<f64>,
    /// Wilson interval of `conversion`.
    pub conversion_ci: Option<Interval>,
    /// `previous − from_previous`: lost between the previous step and this one.
    pub drop_off: u64,
    /// Entered at step 1 and reached this step.
    pub from_first: u64,
    /// `from_first / entered`.
    pub overall: Option<f64>,
    /// Wilson interval of `overall`.
    pub overall_ci: Option<Interval>,
    /// Attempts at the step (whatever the counting).
    pub attempts: u64,
    /// Customers at the step (whatever the counting).
    pub customers: u64,
    /// Of `drop_off`, those whose window is still open at `as_of` (they may still reach the
    /// step; `None` for a state stored without these counts).
    #[serde(default)]
    pub in_window: Option<u64>,
    /// `drop_off − in_window`: lost with their window closed (`None` as `in_window`).
    #[serde(default)]
    pub drop_off_closed: Option<u64>,
}

/// A funnel: its rules, per-step counts and conversions with Wilson intervals, time to convert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelResult {
    /// The rules, in words (as [`FunnelSpec::describe`]).
    pub rules: String,
    /// The rules.
    pub spec: FunnelSpec,
    /// The end of the data (ns since the epoch), where open attempts are censored.
    pub as_of_ns: Option<i64>,
    /// Whether `as_of` was given (else: the latest event time).
    pub as_of_given: bool,
    /// The steps.
    pub steps: Vec<FunnelStepRow>,
    /// The denominator: customers or attempts that entered step 1.
    pub entered: u64,
    /// Of them, those that reached the last step.
    pub converted: u64,
    /// `converted / entered`.
    pub conversion: Option<f64>,
    /// Wilson interval of `conversion`.
    pub conversion_ci: Option<Interval>,
    /// The level of the intervals.
    pub confidence_level: f64,
    /// Time to convert (seconds from the start of the attempt): Kaplan–Meier, `None` without
    /// entrants. Events: conversions; competing: attempts stopped (exclusion, strict break,
    /// repeat); censored: still in the window at `as_of`, or timed out (at the window's length).
    pub time_to_convert: Option<KaplanMeier>,
    /// Time-to-convert units by outcome: converted, stopped, still in the window, timed out.
    pub outcomes: [u64; 4],
    /// Of `entered`, those still inside their window at `as_of` (`outcomes[2]`): in the
    /// denominator of `conversion`, not (yet) converted.
    #[serde(default)]
    pub in_window: u64,
    /// `converted / (entered − in_window)`: the conversion of the entrants whose window has
    /// closed (converted, stopped or timed out).
    #[serde(default)]
    pub conversion_closed: Option<f64>,
    /// The cumulative incidence of conversion at the window's length (Aalen–Johansen from
    /// `time_to_convert`: the entrants still inside their window censored at `as_of`, stopped
    /// attempts competing); `None` without a window or without entrants.
    #[serde(default)]
    pub conversion_by_window_end: Option<f64>,
    /// Rows seen (kept and dropped).
    pub n_rows: u64,
    /// Rows dropped without a customer id.
    pub n_missing_customer: u64,
    /// Rows dropped without a time.
    pub n_missing_time: u64,
    /// Rows dropped without an event name.
    pub n_missing_event: u64,
    /// Rows dropped for an event of no step and no exclusion.
    pub n_unknown: u64,
    /// Rows earlier than the row before them of the same customer (sorted by time).
    pub n_reordered: u64,
    /// Customers with at least one kept event.
    pub n_customers: u64,
    /// Attempts (starts that made an attempt under the re-entry rule).
    pub n_attempts: u64,
    /// The customers' 64-bit keys, ascending, for [`compare_funnels`] to refuse two funnels that
    /// share customers. Not stored: a result read back from JSON has none.
    #[serde(skip)]
    pub customer_keys: Vec<u64>,
    /// One line per step whose event names none of the folded logs held (a misspelt name gives
    /// zeros, which are also a possible count: said here, with the closest names seen).
    #[serde(default)]
    pub warnings: Vec<String>,
}

fn wilson(x: u64, n: u64, level: f64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    proportion_ci(x as f64, n as f64, level, ProportionMethod::Wilson).ok()
}

fn ratio(x: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| x as f64 / n as f64)
}

impl Accumulator for FunnelTally {
    const KIND: StateKind = StateKind::FunnelTally;
    type Batch<'a> = EventLog<'a>;
    type Options = FunnelOptions;
    type Output = FunnelResult;

    fn fold_batch(&mut self, batch: EventLog<'_>, weights: Option<&[f64]>) -> Result<()> {
        if weights.is_some() {
            return Err(Error::invalid(
                "weights",
                "a funnel counts customers or attempts; it takes no weights",
            ));
        }
        if self.spec.fold_path() == FoldPath::Passes {
            return self.fold_log_passes(batch, passes::Split::Auto);
        }
        self.fold_sorted(batch)
    }

    fn n(&self) -> u64 {
        self.n_rows
    }

    fn finish(&self, options: &FunnelOptions) -> Result<FunnelResult> {
        let level = check_level(options.confidence_level)?;
        let c = self.unit_counts();
        let entered = c.reached[0];
        let k = self.spec.steps.len();
        let unit = usize::from(self.spec.counting == Counting::Uniques);
        let pending = self.pending.as_ref().map(|p| &p[unit]);
        let steps = (0..k)
            .map(|j| {
                let previous = (j > 0).then(|| c.reached[j - 1]);
                let from_previous = c.from_previous[j];
                FunnelStepRow {
                    step: self.spec.steps[j].name.clone(),
                    count: c.reached[j],
                    from_previous,
                    previous,
                    conversion: previous.and_then(|p| ratio(from_previous, p)),
                    conversion_ci: previous.and_then(|p| wilson(from_previous, p, level)),
                    drop_off: previous.map_or(0, |p| p.saturating_sub(from_previous)),
                    from_first: c.from_first[j],
                    overall: ratio(c.from_first[j], entered),
                    overall_ci: wilson(c.from_first[j], entered, level),
                    attempts: self.attempts.reached[j],
                    customers: self.customers.reached[j],
                    in_window: pending.map(|p| p[j]),
                    drop_off_closed: pending.map(|p| {
                        previous.map_or(0, |q| q.saturating_sub(from_previous).saturating_sub(p[j]))
                    }),
                }
            })
            .collect();
        let converted = c.from_first[k - 1];
        let time_to_convert = if self.time_to_convert.n() > 0 {
            Some(self.time_to_convert.kaplan_meier()?)
        } else {
            None
        };
        let in_window = self.outcomes[2];
        let conversion_by_window_end = match (&time_to_convert, self.spec.window_ns) {
            (Some(km), Some(w)) => {
                let w = w as f64 / 1e9;
                let i = km.times.partition_point(|t| *t <= w);
                Some(if i == 0 { 0.0 } else { km.cif_event[i - 1] })
            }
            _ => None,
        };
        Ok(FunnelResult {
            rules: self.spec.describe(),
            spec: self.spec.clone(),
            as_of_ns: self.as_of_ns,
            as_of_given: self.spec.as_of_ns.is_some(),
            steps,
            entered,
            converted,
            conversion: ratio(converted, entered),
            conversion_ci: wilson(converted, entered, level),
            confidence_level: level,
            time_to_convert,
            outcomes: self.outcomes,
            in_window,
            conversion_closed: ratio(converted, entered.saturating_sub(in_window)),
            conversion_by_window_end,
            n_rows: self.n_rows,
            n_missing_customer: self.dropped[0],
            n_missing_time: self.dropped[1],
            n_missing_event: self.dropped[2],
            n_unknown: self.dropped[3],
            n_reordered: self.n_reordered,
            n_customers: self.n_customers,
            n_attempts: self.n_attempts,
            customer_keys: self.customer_keys.clone(),
            warnings: self.step_warnings(),
        })
    }

    fn validate(&self) -> Result<()> {
        let kind = Self::KIND;
        self.spec
            .validate()
            .map_err(|e| kind.invalid(e.to_string()))?;
        let k = self.spec.steps.len();
        self.attempts
            .check(k, "attempts")
            .map_err(|m| kind.invalid(m))?;
        self.customers
            .check(k, "customers")
            .map_err(|m| kind.invalid(m))?;
        self.time_to_convert.validate()?;
        if self.time_to_convert.bin_width().is_some() {
            return Err(kind.invalid("the time-to-convert table is binned"));
        }
        let total = self
            .outcomes
            .iter()
            .try_fold(0u64, |a, v| a.checked_add(*v));
        if total != Some(self.time_to_convert.n()) {
            return Err(kind.invalid("the outcomes do not add up to the time-to-convert table"));
        }
        if let Some(p) = &self.pending {
            for (pend, c) in p.iter().zip([&self.attempts, &self.customers]) {
                let bad = pend.len() != k
                    || pend[0] != 0
                    || (1..k).any(|j| pend[j] > c.reached[j - 1] - c.from_previous[j]);
                if bad {
                    return Err(kind.invalid("more in the window than in the drop-off of a step"));
                }
            }
        }
        let names_ok = self.step_names.len() == k
            && self
                .step_names
                .iter()
                .all(|n| n.close.len() <= CLOSE_NAMES && (!n.seen || n.close.is_empty()));
        if !names_ok {
            return Err(kind.invalid("the steps' event names seen are not one per step"));
        }
        if self.id_kinds > 3 {
            return Err(kind.invalid("unknown customer id kinds"));
        }
        if self.customer_keys.windows(2).any(|w| w[0] >= w[1]) {
            return Err(kind.invalid("the customer keys are not strictly increasing"));
        }
        if self.customer_keys.len() as u64 != self.n_customers {
            return Err(kind.invalid("the customer keys are not one per customer"));
        }
        if self.customers.reached.iter().any(|v| *v > self.n_customers)
            || self.attempts.reached[0] < self.customers.reached[0]
            || self.n_attempts < self.attempts.reached[0]
        {
            return Err(kind.invalid("more customers or attempts at a step than in the state"));
        }
        let dropped = self.dropped.iter().try_fold(0u64, |a, v| a.checked_add(*v));
        if dropped.is_none_or(|d| d > self.n_rows) || self.n_customers > self.n_rows {
            return Err(kind.invalid("more customers or dropped rows than rows"));
        }
        if self.as_of_ns.is_none() && self.n_customers > 0 {
            return Err(kind.invalid("customers but no end of data"));
        }
        Ok(())
    }

    fn encode_payload(&self, out: &mut Encoder) {
        self.spec.encode(out);
        out.u8(u8::from(self.as_of_ns.is_some()));
        out.u64(self.as_of_ns.unwrap_or(0) as u64);
        out.u64(self.n_rows);
        out.u64s(&self.dropped);
        out.u64(self.n_reordered);
        out.u64(self.n_customers);
        out.u64(self.n_attempts);
        for c in [&self.attempts, &self.customers] {
            out.u64s(&c.reached);
            out.u64s(&c.from_previous);
            out.u64s(&c.from_first);
        }
        out.u64s(&self.outcomes);
        self.time_to_convert.encode_payload(out);
        out.u64(self.customer_keys.len() as u64);
        out.u64s(&self.customer_keys);
        out.u8(u8::from(self.pending.is_some()));
        if let Some(p) = &self.pending {
            out.u64s(&p[0]);
            out.u64s(&p[1]);
        }
        out.u8(self.id_kinds);
        for n in &self.step_names {
            out.u8(u8::from(n.seen));
            out.u64(n.close.len() as u64);
            for c in &n.close {
                out.str(c);
            }
        }
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let spec = FunnelSpec::decode(input)?;
        spec.validate().map_err(|e| input.invalid(e.to_string()))?;
        let k = spec.steps.len();
        let mut t = Self::new(spec)?;
        let some = input.u8("the as_of flag")?;
        let v = input.u64("as_of")? as i64;
        t.as_of_ns = match some {
            0 if v == 0 => None,
            0 => return Err(input.invalid("an absent as_of has a value")),
            1 => Some(v),
            _ => return Err(input.invalid("the as_of flag is not 0 or 1")),
        };
        t.n_rows = input.u64("rows")?;
        for d in &mut t.dropped {
            *d = input.u64("dropped rows")?;
        }
        t.n_reordered = input.u64("reordered rows")?;
        t.n_customers = input.u64("customers")?;
        t.n_attempts = input.u64("attempts")?;
        for c in [&mut t.attempts, &mut t.customers] {
            c.reached = input.u64s(k, "step counts")?;
            c.from_previous = input.u64s(k, "step counts")?;
            c.from_first = input.u64s(k, "step counts")?;
        }
        for o in &mut t.outcomes {
            *o = input.u64("outcomes")?;
        }
        t.time_to_convert = EventTable::decode_payload(input)?;
        let n = input.u64("the number of customer keys")?;
        let n = usize::try_from(n).map_err(|_| input.invalid("too many customer keys"))?;
        input.check_fits(n, 8, "customer keys")?;
        t.customer_keys = input.u64s(n, "customer keys")?;
        t.pending = match input.u8("the in-window flag")? {
            0 => None,
            1 => Some([
                input.u64s(k, "in-window counts")?,
                input.u64s(k, "in-window counts")?,
            ]),
            _ => return Err(input.invalid("the in-window flag is not 0 or 1")),
        };
        t.id_kinds = input.u8("the customer id kinds")?;
        for n in &mut t.step_names {
            n.seen = match input.u8("a step-seen flag")? {
                0 => false,
                1 => true,
                _ => return Err(input.invalid("a step-seen flag is not 0 or 1")),
            };
            let m = input.u64("the number of close names")?;
            if m > CLOSE_NAMES as u64 {
                return Err(input.invalid(format!("{m} close names; at most {CLOSE_NAMES}")));
            }
            n.close = (0..m)
                .map(|_| input.str("a close name"))
                .collect::<Result<_>>()?;
        }
        Ok(t)
    }
}

impl Example for FunnelTally {
    fn example() -> Self {
        let mut spec =
            FunnelSpec::ordered(&["visit", "cart", "buy"], Some(3600)).expect("a valid spec");
        spec.exclusions = vec!["refund".into()];
        let names = ["visit", "cart", "buy", "refund", "other"].map(|s| Some(s.to_string()));
        let keys: Vec<u64> = (0..4).map(crate::events::key_of_int).collect();
        let log = EventLog {
            customers: &[0, 0, 0, 1, 1, 2, 2, 3],
            n_customers: 4,
            missing_customer: None,
            customer_keys: &keys,
            events: &[0, 1, 2, 0, 3, 0, 1, 4],
            event_names: &names,
            times: &[0, 60, 600, 10, 20, 30, 5000, 40],
            unit: crate::groups::TimeUnit::S,
        };
        let mut t = Self::new(spec).expect("a valid spec");
        t.fold_batch(log, None)
            .expect("the fixed sample rows are valid");
        t
    }
}

/// Two funnels compared step by step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelStepComparison {
    /// The step's name.
    pub step: String,
    /// Step-to-step conversion, first minus second: difference, two-proportion z test and
    /// Newcombe's interval (`None` for step 1 or an empty previous step).
    pub conversion: Option<ProportionComparison>,
    /// Conversion from step 1 to this step, compared the same way.
    pub overall: Option<ProportionComparison>,
}

/// The comparison of two funnels of the same steps (two periods, two segments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelComparison {
    /// Per step.
    pub steps: Vec<FunnelStepComparison>,
    /// The level of the intervals.
    pub confidence_level: f64,
}

/// The rules two specs count under differently (the steps' predicates and `as_of` aside: funnels
/// of two periods compare).
fn rule_differences(a: &FunnelSpec, b: &FunnelSpec) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |name: &'static str, same: bool| {
        if !same {
            out.push(name);
        }
    };
    check("exclusions", a.exclusions == b.exclusions);
    check("order", a.order == b.order);
    check("window", a.window_ns == b.window_ns);
    check("window_end", a.window_end == b.window_end);
    check("entry", a.entry == b.entry);
    check("counting", a.counting == b.counting);
    check("reentry", a.reentry == b.reentry);
    check("repeats", a.repeats == b.repeats);
    check("step_times", a.step_times == b.step_times);
    check("ties", a.ties == b.ties);
    check("unknown_events", a.unknown_events == b.unknown_events);
    check("missing", a.missing == b.missing);
    out
}

/// Compare two funnel results step by step: for each step the two-proportion z test (pooled)
/// and Newcombe's hybrid score interval of the difference (first − second) of the step-to-step
/// conversion and of the conversion from step 1. The two samples must be independent (different
/// customers: two segments, or two periods whose customers differ).
///
/// # Errors
/// [`Error::Incompatible`] when the step names differ, the funnels were counted under different
/// rules (naming them; `as_of` may differ) or share customers (counted from their keys, when both
/// results hold them); [`Error::InvalidArgument`] for a bad level.
pub fn compare_funnels(
    a: &FunnelResult,
    b: &FunnelResult,
    confidence_level: f64,
) -> Result<FunnelComparison> {
    let level = check_level(confidence_level)?;
    let names = |r: &FunnelResult| r.steps.iter().map(|s| s.step.clone()).collect::<Vec<_>>();
    if names(a) != names(b) {
        return Err(Error::Incompatible(format!(
            "funnels of different steps ({:?} and {:?})",
            names(a),
            names(b)
        )));
    }
    let differ = rule_differences(&a.spec, &b.spec);
    if !differ.is_empty() {
        return Err(Error::Incompatible(format!(
            "funnels counted under different rules ({}); a difference of their conversions would \
             mix the rules with the customers: count both under one spec",
            differ.join(", ")
        )));
    }
    let (ka, kb) = (&a.customer_keys, &b.customer_keys);
    let (mut i, mut j, mut shared) = (0, 0, 0u64);
    while i < ka.len() && j < kb.len() {
        match ka[i].cmp(&kb[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => (shared, i, j) = (shared + 1, i + 1, j + 1),
        }
    }
    if shared > 0 {
        return Err(Error::Incompatible(format!(
            "the two funnels share {shared} customers (of {} and {}); the z test and Newcombe's \
             interval assume independent samples, so a customer in both would make the p-value and \
             interval wrong: compare funnels of different customers (two segments, or two periods \
             whose customers differ)",
            ka.len(),
            kb.len()
        )));
    }
    let cmp = |x1: u64, n1: u64, x2: u64, n2: u64| {
        if n1 == 0 || n2 == 0 {
            None
        } else {
            compare_proportions(x1 as f64, n1 as f64, x2 as f64, n2 as f64, level).ok()
        }
    };
    let steps = a
        .steps
        .iter()
        .zip(&b.steps)
        .map(|(s, t)| FunnelStepComparison {
            step: s.step.clone(),
            conversion: match (s.previous, t.previous) {
                (Some(p), Some(q)) => cmp(s.from_previous, p, t.from_previous, q),
                _ => None,
            },
            overall: cmp(s.from_first, a.entered, t.from_first, b.entered),
        })
        .collect();
    Ok(FunnelComparison {
        steps,
        confidence_level: level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::key_of_int;
    use crate::groups::TimeUnit;

    /// A log of (customer, event, time in seconds) rows; event names as given.
    struct Log {
        customers: Vec<u32>,
        keys: Vec<u64>,
        events: Vec<u32>,
        names: Vec<Option<String>>,
        times: Vec<i64>,
    }

    impl Log {
        fn new(rows: &[(u32, &str, i64)]) -> Self {
            let mut names: Vec<Option<String>> = Vec::new();
            let mut events = Vec::new();
            for (_, e, _) in rows {
                let code = match names.iter().position(|n| n.as_deref() == Some(*e)) {
                    Some(p) => p,
                    None => {
                        names.push(Some(e.to_string()));
                        names.len() - 1
                    }
                };
                events.push(code as u32);
            }
            let n_c = rows.iter().map(|r| r.0).max().map_or(0, |m| m + 1);
            Self {
                customers: rows.iter().map(|r| r.0).collect(),
                keys: (0..n_c).map(|c| key_of_int(i64::from(c))).collect(),
                events,
                names,
                times: rows.iter().map(|r| r.2).collect(),
            }
        }

        fn log(&self) -> EventLog<'_> {
            EventLog {
                customers: &self.customers,
                n_customers: self.keys.len(),
                missing_customer: None,
                customer_keys: &self.keys,
                events: &self.events,
                event_names: &self.names,
                times: &self.times,
                unit: TimeUnit::S,
            }
        }
    }

    fn run(spec: &FunnelSpec, rows: &[(u32, &str, i64)]) -> FunnelResult {
        let log = Log::new(rows);
        let mut t = FunnelTally::new(spec.clone()).unwrap();
        t.fold_batch(log.log(), None).unwrap();
        t.finish(&FunnelOptions::default()).unwrap()
    }

    fn counts(r: &FunnelResult) -> Vec<u64> {
        r.steps.iter().map(|s| s.count).collect()
    }

    /// The level ClickHouse `windowFunnel` returns for one customer = the number of steps the
    /// customer's (single, best) attempt reached.
    fn level(r: &FunnelResult) -> usize {
        r.steps.iter().filter(|s| s.count > 0).count()
    }

    /// ClickHouse `windowFunnel` as documented: ordered, every step-1 event tried and the longest
    /// chain kept, the window from the first step, inclusive
    /// (`timestamp of cond1 <= ... <= timestamp of condN <= timestamp of cond1 + window`), events of no
    /// condition ignored.
    fn clickhouse(steps: &[&str], window_s: i64) -> FunnelSpec {
        let mut s = FunnelSpec::ordered(steps, Some(window_s)).unwrap();
        s.reentry = Reentry::Best;
        s.window_end = WindowEnd::Inclusive;
        s.unknown_events = UnknownEvents::Drop;
        s
    }

    #[test]
    fn clickhouse_docs_example_reaches_level_4() {
        // The docs' table: user 1, events 1003 (2019-01-29 10:00), 1007 (2019-01-31 09:00),
        // 1009 (2019-01-30 08:00), 1010 (2019-02-01 08:00), in that (non-chronological) input
        // order; the query's chain 1003, 1009, 1007, 1010 within 6048000000000000 s gives level 4.
        const DAY: i64 = 86_400;
        let t0 = 17_925 * DAY; // 2019-01-29
        let rows = [
            (0, "1003", t0 + 10 * 3600),
            (0, "1007", t0 + 2 * DAY + 9 * 3600),
            (0, "1009", t0 + DAY + 8 * 3600),
            (0, "1010", t0 + 3 * DAY + 8 * 3600),
        ];
        let spec = clickhouse(&["1003", "1009", "1007", "1010"], 6_048_000_000);
        let r = run(&spec, &rows);
        assert_eq!(level(&r), 4);
        assert_eq!(r.converted, 1);
        // The input was not in time order: one row (1009 after 1007) is counted as reordered.
        assert_eq!(r.n_reordered, 1);
        // With a window of one day the chain stops after 1003 -> 1009 (22 h later).
        let short = run(&clickhouse(&["1003", "1009", "1007", "1010"], DAY), &rows);
        assert_eq!(level(&short), 2);
    }

    #[test]
    fn clickhouse_modes_as_documented() {
        let abcd = ["A", "B", "C", "D"];
        let seq = |s: &str| -> Vec<(u32, &'static str, i64)> {
            s.split('-')
                .enumerate()
                .map(|(i, e)| {
                    let e: &'static str = match e {
                        "A" => "A",
                        "B" => "B",
                        "C" => "C",
                        _ => "D",
                    };
                    (0u32, e, i as i64)
                })
                .collect()
        };
        // strict_deduplication: chain A,B,C,D on A-B-C-B-D: the repeated B stops it at 3.
        let mut dedup = clickhouse(&abcd, 100);
        dedup.repeats = Repeats::Stop;
        assert_eq!(level(&run(&dedup, &seq("A-B-C-B-D"))), 3);
        assert_eq!(level(&run(&clickhouse(&abcd, 100), &seq("A-B-C-B-D"))), 4);
        // strict_order, as documented: chain A->B->C on A-B-D-C stops at the D, level 2. D is no
        // condition of the chain: ClickHouse records such rows as event 0, which breaks the strict
        // order, so the mapping is `strict` with `unknown_events = keep` (with `drop` the D is
        // not seen and the chain reaches C).
        let abc = ["A", "B", "C"];
        let mut strict = clickhouse(&abc, 100);
        strict.order = OrderMode::Strict;
        strict.unknown_events = UnknownEvents::Keep;
        let r = run(&strict, &seq("A-B-D-C"));
        assert_eq!((level(&r), r.n_unknown), (2, 0));
        strict.unknown_events = UnknownEvents::Drop;
        let r = run(&strict, &seq("A-B-D-C"));
        assert_eq!((level(&r), r.n_unknown), (3, 1));
        assert_eq!(level(&run(&clickhouse(&abc, 100), &seq("A-B-D-C"))), 3);
        // strict_increase: conditions apply only to events with strictly increasing timestamps.
        let same = [(0, "A", 0), (0, "B", 0), (0, "C", 1)];
        let mut inc = clickhouse(&["A", "B", "C"], 100);
        inc.step_times = StepTimes::Increasing;
        assert_eq!(level(&run(&inc, &same)), 1);
        assert_eq!(level(&run(&clickhouse(&["A", "B", "C"], 100), &same)), 3);
        // The reading of c1..c4 against chains (window long enough): 3, 1, 0.
        let c = ["c1", "c2", "c3"];
        let rows = |evs: &[&'static str]| -> Vec<(u32, &'static str, i64)> {
            evs.iter()
                .enumerate()
                .map(|(i, e)| (0, *e, i as i64))
                .collect()
        };
        assert_eq!(
            level(&run(&clickhouse(&c, 100), &rows(&["c1", "c2", "c3", "c4"]))),
            3
        );
        assert_eq!(
            level(&run(&clickhouse(&c, 100), &rows(&["c4", "c3", "c2", "c1"]))),
            1
        );
        assert_eq!(level(&run(&clickhouse(&c, 100), &rows(&["c4", "c3"]))), 0);
    }

    #[test]
    fn mixpanel_window_from_first_step_not_reset() {
        // Mixpanel's documented example: A at 1:00 pm, A at 1:30, B at 1:45, C at 2:15 with a
        // one-hour window: the window starts at the first A and is not reset by the second, so
        // the customer converts to B but not to C.
        let h = 3600;
        let rows = [
            (0, "A", 13 * h),
            (0, "A", 13 * h + 1800),
            (0, "B", 13 * h + 2700),
            (0, "C", 14 * h + 900),
        ];
        let spec = FunnelSpec::ordered(&["A", "B", "C"], Some(h)).unwrap();
        let r = run(&spec, &rows);
        assert_eq!(counts(&r), [1, 1, 0]);
        // Best re-entry (ClickHouse) would start over at the second A and reach C.
        let mut best = spec.clone();
        best.reentry = Reentry::Best;
        assert_eq!(counts(&run(&best, &rows)), [1, 1, 1]);
    }

    #[test]
    fn mixpanel_uniques_and_totals() {
        // A customer who goes A-B-C twice and starts a third time: uniques count the customer
        // once; totals (re-entry after the previous attempt completed) count three attempts at
        // A, two conversions.
        let rows = [
            (0, "A", 0),
            (0, "B", 10),
            (0, "C", 20),
            (0, "A", 100),
            (0, "B", 110),
            (0, "C", 120),
            (0, "A", 200),
            (1, "A", 0),
            (1, "B", 5),
        ];
        let mut spec = FunnelSpec::ordered(&["A", "B", "C"], Some(60)).unwrap();
        spec.reentry = Reentry::AfterEnd;
        spec.as_of_ns = Some(1_000 * 1_000_000_000);
        let u = run(&spec, &rows);
        assert_eq!(counts(&u), [2, 2, 1]);
        spec.counting = Counting::Totals;
        let t = run(&spec, &rows);
        assert_eq!(counts(&t), [4, 3, 2]);
        assert_eq!(t.conversion, Some(0.5));
    }

    #[test]
    fn exclusions_windows_and_open_entry() {
        let mut spec = FunnelSpec::ordered(&["A", "B", "C"], Some(10)).unwrap();
        spec.exclusions = vec!["X".into()];
        let rows = [
            (0, "A", 0),
            (0, "X", 1),
            (0, "B", 2),
            (1, "A", 0),
            (1, "B", 10),
            (1, "C", 11),
        ];
        let r = run(&spec, &rows);
        assert_eq!(counts(&r), [2, 1, 0]);
        // Exclusive end: B at exactly 10 s is outside.
        spec.window_end = WindowEnd::Exclusive;
        assert_eq!(counts(&run(&spec, &rows)), [2, 0, 0]);
        // Open entry: a customer starting at B counts at B and C but not at A, and not in the
        // conversion from step 1.
        let mut open = FunnelSpec::ordered(&["A", "B", "C"], None).unwrap();
        open.entry = Entry::Open;
        let r = run(&open, &[(0, "B", 0), (0, "C", 1), (1, "A", 0)]);
        assert_eq!(counts(&r), [1, 1, 1]);
        assert_eq!(r.steps[1].from_previous, 0);
        assert_eq!(r.converted, 0);
    }

    #[test]
    fn open_entry_best_counts_every_step_an_attempt_reached() {
        // A 10:00, B 10:01, C 10:02, D 12:00 with a one-hour window: the attempt from A reaches
        // C; D, two hours later, starts an attempt of its own. A customer counts at a step if
        // any attempt reached it: every re-entry rule that tries the D counts it.
        let m = 60;
        let rows = [(0, "A", 0), (0, "B", m), (0, "C", 2 * m), (0, "D", 120 * m)];
        let mut spec = FunnelSpec::ordered(&["A", "B", "C", "D"], Some(3600)).unwrap();
        spec.entry = Entry::Open;
        let with = |reentry, counting| {
            let mut s = spec.clone();
            (s.reentry, s.counting) = (reentry, counting);
            run(&s, &rows)
        };
        assert_eq!(
            counts(&with(Reentry::First, Counting::Uniques)),
            [1, 1, 1, 0]
        );
        for counting in [Counting::Uniques, Counting::Totals] {
            let r = with(Reentry::Best, counting);
            assert_eq!(counts(&r), [1, 1, 1, 1]);
            // Kept: A -> C and D alone; the attempt from A is the time-to-convert unit (timed
            // out: the data end at D, two hours after it).
            assert_eq!((r.n_attempts, r.outcomes), (2, [0, 0, 0, 1]));
            assert_eq!(counts(&with(Reentry::AfterEnd, counting)), [1, 1, 1, 1]);
        }
        // Attempts from B and C are covered by the one from A and not kept.
        let r = with(Reentry::Best, Counting::Totals);
        assert_eq!(r.steps[3].from_previous, 0);
        assert_eq!(r.converted, 0);
    }

    #[test]
    fn drop_off_still_in_the_window_is_counted_apart() {
        // Window 100 s, as_of 1000 s. Customer 0 converts; 1 timed out at A; 2 and 3 are at A and
        // at B inside their window; 4 reached B and timed out.
        let mut spec = FunnelSpec::ordered(&["A", "B", "C"], Some(100)).unwrap();
        spec.as_of_ns = Some(1_000 * 1_000_000_000);
        let rows = [
            (0, "A", 0),
            (0, "B", 5),
            (0, "C", 9),
            (1, "A", 0),
            (2, "A", 950),
            (3, "A", 960),
            (3, "B", 970),
            (4, "A", 0),
            (4, "B", 50),
        ];
        let r = run(&spec, &rows);
        assert_eq!(counts(&r), [5, 3, 1]);
        let drops: Vec<_> = r
            .steps
            .iter()
            .map(|s| (s.drop_off, s.in_window, s.drop_off_closed))
            .collect();
        assert_eq!(
            drops,
            [
                (0, Some(0), Some(0)),
                (2, Some(1), Some(1)),
                (2, Some(1), Some(1))
            ]
        );
        assert_eq!((r.in_window, r.conversion_closed), (2, Some(1.0 / 3.0)));
        // Kaplan-Meier by hand: censored at 40 and 50 s (in window), conversion at 9 s of 5 at
        // risk, then the timed-out censored at 100 s: the incidence at the window is 1/5.
        assert_eq!(r.conversion_by_window_end, Some(0.2));
    }

    #[test]
    fn a_step_matching_no_event_name_warns_with_the_closest_names() {
        // Python's difflib.SequenceMatcher(None, a, b).ratio() of each pair (exact fractions).
        for (a, b, ratio) in [
            ("purchse", "purchase", 14.0 / 15.0),
            ("ZZZ", "A", 0.0),
            ("checkout", "check_out", 16.0 / 17.0),
            ("add_to_cart", "add_cart", 16.0 / 19.0),
            ("qabxcd", "abycdf", 8.0 / 12.0),
        ] {
            assert!((similarity(a, b) - ratio).abs() < 1e-15, "{a} {b}");
        }
        let mut spec = FunnelSpec::ordered(&["visit", "purchse", "ZZZ"], None).unwrap();
        spec.as_of_ns = Some(100 * 1_000_000_000);
        let rows = [
            (0, "visit", 0),
            (0, "purchase", 1),
            (1, "purchased", 2),
            (1, "purse", 3),
            (2, "chase", 4),
        ];
        let r = run(&spec, &rows);
        assert_eq!(counts(&r), [1, 0, 0]);
        assert_eq!(r.warnings.len(), 2);
        // difflib.get_close_matches("purchse", names, n=3, cutoff=0.6).
        assert!(
            r.warnings[0].contains(r#"step 2 ("purchse") matches no event name of the data"#)
                && r.warnings[0]
                    .contains(r#"closest event names: "purchase", "purchased", "purse""#),
            "{}",
            r.warnings[0]
        );
        assert!(r.warnings[1].contains("no event name of the data is close"));
        // Seen in another partition: no warning once merged; never seen: the closest of both.
        let mut a = FunnelTally::new(spec.clone()).unwrap();
        a.fold_batch(Log::new(&rows).log(), None).unwrap();
        let mut b = FunnelTally::new(spec).unwrap();
        b.fold_batch(Log::new(&[(7, "purchse", 0), (7, "ZZ", 1)]).log(), None)
            .unwrap();
        a.merge(&b).unwrap();
        let w = a.finish(&FunnelOptions::default()).unwrap().warnings;
        assert_eq!(w.len(), 1);
        assert!(w[0].contains(r#"closest event names: "ZZ""#), "{w:?}");
        let back = FunnelTally::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn one_kind_of_customer_id_per_fold() {
        // Codes 0 and 2 integers, 1 text, 3 missing; 4 a float.
        let kinds = [1, 2, 1, 0];
        assert_eq!(id_kinds_of_rows(&[0, 2, 3, 0], &kinds).unwrap(), 1);
        assert_eq!(id_kinds_of_rows(&[1, 3], &kinds).unwrap(), 2);
        assert_eq!(id_kinds_of_rows(&[3], &kinds).unwrap(), 0);
        assert_eq!(id_kinds_of_rows(&[], &[]).unwrap(), 0);
        let e = id_kinds_of_rows(&[3, 1, 1, 0, 2], &kinds)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 3 holds an integer customer id and row 1 a text"),
            "{e}"
        );
        let e = id_kinds_of_rows(&[0, 0, 1], &[1, 2, FLOAT_ID])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 2 holds a text customer id and row 0 an integer"),
            "{e}"
        );
        let e = id_kinds_of_rows(&[0, 1, 1], &[1, FLOAT_ID])
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 1 holds a float customer id"), "{e}");
    }

    #[test]
    fn integer_and_text_ids_do_not_merge() {
        let spec = FunnelSpec::ordered(&["A"], None).unwrap();
        let (mut a, mut b) = (
            FunnelTally::new(spec.clone()).unwrap(),
            FunnelTally::new(spec).unwrap(),
        );
        a.add_id_kinds(1);
        b.add_id_kinds(2);
        let err = a.clone().merge(&b).unwrap_err().to_string();
        assert!(err.contains("keyed by integers and by texts"), "{err}");
        assert!(a.check_id_kinds(1).is_ok() && a.check_id_kinds(0).is_ok());
        let back = FunnelTally::from_bytes(&b.to_bytes()).unwrap();
        assert!(a.merge(&back).is_err());
    }

    #[test]
    fn ties_and_any_order() {
        // B and A at the same time, B first in the input.
        let rows = [(0, "B", 5), (0, "A", 5), (0, "C", 6)];
        let spec = FunnelSpec::ordered(&["A", "B", "C"], None).unwrap();
        assert_eq!(counts(&run(&spec, &rows)), [1, 0, 0]);
        let mut steps = spec.clone();
        steps.ties = Ties::StepOrder;
        assert_eq!(counts(&run(&steps, &rows)), [1, 1, 1]);
        let mut any = spec.clone();
        any.order = OrderMode::AnyOrder;
        any.entry = Entry::Open;
        assert_eq!(counts(&run(&any, &[(0, "C", 1), (0, "A", 2)])), [1, 1, 0]);
    }

    #[test]
    fn time_to_convert_censors_open_attempts() {
        // Two conversions (after 10 s and 30 s), one attempt still inside its window at as_of
        // (started 20 s before it), one timed out (censored at the 100 s window).
        let mut spec = FunnelSpec::ordered(&["A", "B"], Some(100)).unwrap();
        spec.as_of_ns = Some(1_000 * 1_000_000_000);
        let rows = [
            (0, "A", 0),
            (0, "B", 10),
            (1, "A", 100),
            (1, "B", 130),
            (2, "A", 980),
            (3, "A", 0),
        ];
        let r = run(&spec, &rows);
        assert_eq!(r.outcomes, [2, 0, 1, 1]);
        let km = r.time_to_convert.unwrap();
        // Hand computation: at 10 s 4 at risk, 1 event: S = 3/4; 20 s: censored; 30 s: 2 at
        // risk, 1 event: S = 3/8; 100 s: censored.
        assert_eq!(km.times, vec![10.0, 20.0, 30.0, 100.0]);
        assert!((km.survival_at(30.0) - 0.375).abs() < 1e-15);
    }

    #[test]
    fn bad_input_is_named_or_counted() {
        let spec = FunnelSpec::ordered(&["A", "B"], None).unwrap();
        let mut log = Log::new(&[(0, "A", 0), (0, "Z", 1), (1, "A", 2)]);
        log.times[2] = MISSING_TIME;
        let r = {
            let mut t = FunnelTally::new(spec.clone()).unwrap();
            t.fold_batch(log.log(), None).unwrap();
            t.finish(&FunnelOptions::default()).unwrap()
        };
        assert_eq!((r.n_unknown, r.n_missing_time, r.n_rows), (1, 1, 3));
        let mut raise = spec.clone();
        raise.unknown_events = UnknownEvents::Raise;
        let e = FunnelTally::new(raise)
            .unwrap()
            .fold_batch(log.log(), None)
            .unwrap_err();
        assert!(e.to_string().contains("row 1"), "{e}");
        let mut raise = spec.clone();
        raise.missing = MissingRows::Raise;
        let e = FunnelTally::new(raise)
            .unwrap()
            .fold_batch(log.log(), None)
            .unwrap_err();
        assert!(e.to_string().contains("row 2"), "{e}");
        let mut empty = spec.clone();
        empty.steps[1].events.clear();
        assert!(FunnelTally::new(empty).is_err());
        assert!(FunnelSpec::ordered(&["A", "A"], None).is_err());
    }

    /// A pseudo-random log of `n` rows over `n_c` customers, in no time order, with ties and rows
    /// of no step (an LCG, so the test needs no seed file).
    fn random_rows(n: usize, n_c: u32) -> Vec<(u32, &'static str, i64)> {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            x >> 33
        };
        let names = ["A", "B", "C", "D", "X", "other"];
        (0..n)
            .map(|_| {
                let c = (next() % u64::from(n_c)) as u32;
                let e = names[(next() % 6) as usize];
                let t = (next() % 400) as i64;
                (c, e, t)
            })
            .collect()
    }

    /// The ordered, closed, first-attempt funnel counted by hand: per customer, events sorted by
    /// time (input order among ties), the first A starts, each next step is the first later-or-equal
    /// event of that step inside the window.
    fn brute_ordered_first(rows: &[(u32, &str, i64)], steps: &[&str], window: i64) -> Vec<u64> {
        let mut by: std::collections::BTreeMap<u32, Vec<(i64, &str)>> = Default::default();
        for (c, e, t) in rows {
            by.entry(*c).or_default().push((*t, e));
        }
        let mut counts = vec![0u64; steps.len()];
        for ev in by.values_mut() {
            ev.sort_by_key(|e| e.0); // stable: input order among ties
            let Some(s) = ev.iter().position(|e| e.1 == steps[0]) else {
                continue;
            };
            let t0 = ev[s].0;
            let mut level = 1;
            for &(t, e) in &ev[s + 1..] {
                if t - t0 > window || level == steps.len() {
                    break;
                }
                if e == steps[level] {
                    level += 1;
                }
            }
            for c in &mut counts[..level] {
                *c += 1;
            }
        }
        counts
    }

    #[test]
    fn a_large_fold_equals_small_folds_and_a_hand_count() {
        // 200 000 rows: the fold runs its parallel passes; small folds of whole customers (below
        // the parallel threshold) run on one thread. Both must give the same state.
        let rows = random_rows(200_000, 30_000);
        let mut spec = FunnelSpec::ordered(&["A", "B", "C", "D"], Some(60)).unwrap();
        spec.as_of_ns = Some(1_000 * 1_000_000_000);
        let whole = |spec: &FunnelSpec| {
            let mut t = FunnelTally::new(spec.clone()).unwrap();
            t.fold_batch(Log::new(&rows).log(), None).unwrap();
            t
        };
        let parts = |spec: &FunnelSpec| {
            let mut merged = FunnelTally::new(spec.clone()).unwrap();
            for k in 0..8u32 {
                let part: Vec<_> = rows.iter().copied().filter(|r| r.0 % 8 == k).collect();
                assert!(part.len() < PARALLEL_ROWS);
                let mut t = FunnelTally::new(spec.clone()).unwrap();
                t.fold_batch(Log::new(&part).log(), None).unwrap();
                merged.merge(&t).unwrap();
            }
            merged
        };
        let r = whole(&spec).finish(&FunnelOptions::default()).unwrap();
        assert_eq!(
            counts(&r),
            brute_ordered_first(&rows, &["A", "B", "C", "D"], 60)
        );
        assert!(r.n_reordered > 0 && r.n_unknown > 0);
        let mut variants = vec![spec.clone()];
        let mut v = spec.clone();
        v.ties = Ties::StepOrder;
        v.exclusions = vec!["X".into()];
        variants.push(v);
        let mut v = spec.clone();
        v.reentry = Reentry::AfterEnd;
        v.counting = Counting::Totals;
        v.unknown_events = UnknownEvents::Keep;
        v.order = OrderMode::Strict;
        variants.push(v);
        let mut v = spec.clone();
        v.order = OrderMode::AnyOrder;
        v.reentry = Reentry::Best;
        v.entry = Entry::Open;
        variants.push(v);
        for spec in &variants {
            let (w, p) = (whole(spec), parts(spec));
            let f = |t: &FunnelTally| t.finish(&FunnelOptions::default()).unwrap();
            assert_eq!(f(&w), f(&p), "{}", spec.describe());
        }
        // By group: the group of a customer's first kept event (after sorting; "X" and "other"
        // are dropped as unknown), against a hand count of each group's customers.
        let log = Log::new(&rows);
        let first_group = |c: u32| {
            let mut ev: Vec<(i64, usize)> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.0 == c && !matches!(r.1, "other" | "X"))
                .map(|(i, r)| (r.2, i))
                .collect();
            ev.sort_by_key(|e| e.0);
            ev.first().map(|e| (e.1 % 3) as u32)
        };
        let codes: Vec<u32> = (0..rows.len() as u32).map(|i| i % 3).collect();
        let by = FunnelTally::new(spec.clone())
            .unwrap()
            .by_group(&codes, 3, log.log())
            .unwrap();
        let groups: Vec<Option<u32>> = (0..30_000).map(first_group).collect();
        for (g, state) in by.iter().enumerate() {
            let sub: Vec<_> = rows
                .iter()
                .copied()
                .filter(|r| groups[r.0 as usize] == Some(g as u32))
                .collect();
            let r = state.finish(&FunnelOptions::default()).unwrap();
            assert_eq!(
                counts(&r),
                brute_ordered_first(&sub, &["A", "B", "C", "D"], 60)
            );
        }
        // The first bad row is named whichever chunk holds it.
        let mut bad: Vec<_> = rows
            .iter()
            .map(|&(c, e, t)| (c, if matches!(e, "other" | "X") { "B" } else { e }, t))
            .collect();
        bad[150_000].1 = "other";
        bad[190_000].1 = "other";
        let mut raise = spec.clone();
        raise.unknown_events = UnknownEvents::Raise;
        let e = FunnelTally::new(raise)
            .unwrap()
            .fold_batch(Log::new(&bad).log(), None)
            .unwrap_err();
        assert!(e.to_string().contains("row 150000 "), "{e}");
    }

    #[test]
    fn partitions_by_customer_merge_and_splits_are_refused() {
        let spec = FunnelSpec::ordered(&["A", "B", "C"], Some(50)).unwrap();
        let mut spec = spec;
        spec.as_of_ns = Some(10_000 * 1_000_000_000);
        let rows: Vec<(u32, &str, i64)> = (0..200u32)
            .flat_map(|c| {
                let t = i64::from(c) * 7 % 40;
                let mut v = vec![(c, "A", t)];
                if c % 2 == 0 {
                    v.push((c, "B", t + i64::from(c % 60)));
                }
                if c % 3 == 0 {
                    v.push((c, "C", t + 45));
                }
                v
            })
            .collect();
        let log = Log::new(&rows);
        let mut whole = FunnelTally::new(spec.clone()).unwrap();
        whole.fold_batch(log.log(), None).unwrap();
        // Customer codes are the ids in both halves, so the keys follow the real ids.
        let (first, second): (Vec<_>, Vec<_>) = rows.iter().copied().partition(|r| r.0 < 100);
        let mut a = FunnelTally::new(spec.clone()).unwrap();
        let mut b = FunnelTally::new(spec.clone()).unwrap();
        a.fold_batch(Log::new(&first).log(), None).unwrap();
        b.fold_batch(Log::new(&second).log(), None).unwrap();
        let mut merged = a.clone();
        merged.merge(&b).unwrap();
        let f = |t: &FunnelTally| t.finish(&FunnelOptions::default()).unwrap();
        assert_eq!(f(&merged).steps, f(&whole).steps);
        assert_eq!(merged.to_bytes(), whole.to_bytes());
        // The same customers twice: refused.
        let e = merged.clone().merge(&b).unwrap_err();
        assert!(e.to_string().contains("same customer"), "{e}");
        assert_eq!(FunnelTally::from_bytes(&merged.to_bytes()).unwrap(), merged);
        assert_eq!(FunnelTally::from_json(&merged.to_json()).unwrap(), merged);
    }

    #[test]
    fn comparison_uses_newcombe_and_the_z_test() {
        let spec = FunnelSpec::ordered(&["A", "B"], None).unwrap();
        let mk = |conv: u32, n: u32, first: u32| {
            let rows: Vec<(u32, &str, i64)> = (first..first + n)
                .flat_map(|c| {
                    let mut v = vec![(c, "A", 0)];
                    if c < first + conv {
                        v.push((c, "B", 1));
                    }
                    v
                })
                .collect();
            run(&spec, &rows)
        };
        let (a, b) = (mk(56, 70, 0), mk(48, 80, 100));
        let c = compare_funnels(&a, &b, 0.95).unwrap();
        // The same customers in both: refused (the test assumes independent samples).
        let e = compare_funnels(&a, &a, 0.95).unwrap_err().to_string();
        assert!(e.contains("share 70 customers (of 70 and 70)"), "{e}");
        let e = compare_funnels(&a, &mk(1, 10, 65), 0.95)
            .unwrap_err()
            .to_string();
        assert!(e.contains("share 5 customers"), "{e}");
        let s = c.steps[1].conversion.unwrap();
        // Newcombe (1998b), example (a): 0.0524 to 0.3339.
        assert!((s.interval.low - 0.05243147240236498).abs() < 1e-12);
        assert!((s.interval.high - 0.333872654036906).abs() < 1e-12);
        // Funnels counted under other rules do not compare; another as_of does.
        let mut totals = spec.clone();
        totals.counting = Counting::Totals;
        totals.window_ns = Some(3_600_000_000_000);
        let other = run(&totals, &[(500, "A", 0), (500, "B", 1)]);
        let e = compare_funnels(&a, &other, 0.95).unwrap_err();
        assert!(e.to_string().contains("window, counting"), "{e}");
        let mut later = spec.clone();
        later.as_of_ns = Some(10);
        assert!(compare_funnels(&a, &run(&later, &[(500, "A", 0)]), 0.95).is_ok());
    }
}
