//! Service times with open tickets: a mergeable event table, Kaplan–Meier, Aalen–Johansen.
//!
//! A ticket waits from its creation until its first reply (the *event*), until it is closed
//! without a reply (a *competing* outcome: it will never be answered), or until now, still open
//! (*censored* at the "as of" time: it has waited at least that long). Dropping the open tickets,
//! as helpdesk averages do, drops the slowest cases; counting a closure as censored pretends the
//! ticket could still be answered. This module keeps all three.
//!
//! # The state
//!
//! [`EventTable`] holds, for every distinct time, the rows and the summed weights of events,
//! competing outcomes and censored tickets. Times are kept **exactly** as given (every distinct
//! duration is a row of the table), or rounded **up** to a multiple of a declared bin width
//! ([`EventTable::binned`]: a reply after 61 s with bins of 60 s counts at 120 s; the table then
//! has at most max/width rows, and everything below is exact for the binned times). Tables merge
//! (by time) when their bin widths are equal.
//!
//! # Delayed entry (left truncation)
//!
//! A row may enter observation after time 0 (a customer observed from the start of the data
//! window although their tenure began earlier; [`Tickets::with_entries`]). The table then also
//! holds, per time, the rows and weights **entering** then, and the risk set at `t` counts the rows
//! with `entry < t ≤ exit`: a row entering at `t` is not at risk for the exits at `t` (R
//! `survival`'s `Surv(start, stop, event)` intervals, "open on the left and closed on the right";
//! lifelines' estimate too, though the `at_risk` column of its event table includes the rows
//! entering at `t`, and the entrants at the first time of its timeline are counted before its
//! exits). An entry must be below its row's exit (R refuses `stop <= start` too): a row observed for
//! no time is never at risk. Rows without an entry time are at risk from the start, so tables with
//! and without entries merge. With bins, entries are rounded **down** and exits up. The risk set can
//! empty before the last exit (everyone left, later rows enter): the curve then goes on by the
//! product-limit rule (0 stays 0) and [`KaplanMeier::risk_set_gaps`] names the times.
//!
//! # The estimates
//!
//! With `n_j` the (weighted) tickets still waiting just before time `t_j` (with delayed entry,
//! those that entered before `t_j`), `d_j` the events and
//! `c_j` the competing outcomes at `t_j`:
//!
//! * **Kaplan–Meier**: `S(t) = Π_{t_j ≤ t} (n_j − d_j − c_j) / n_j`, the probability of still
//!   waiting (no reply, not closed) at `t`. Computed as a running product, never as
//!   `exp(Σ log)`: while the factors' numerators and denominators are integers below 2⁵³ (no
//!   weights) their products are kept apart and divided once, so `S` is the correctly rounded
//!   ratio (on durations 1–6 with the fourth ticket open, `S(3) = 60/120 = 0.5` exactly).
//! * **Greenwood**: `Var S(t) = S(t)² Σ_{t_j ≤ t} D_j / (n_j (n_j − D_j))`, `D_j = d_j + c_j`.
//!   With weights the same formula runs on the summed weights (as lifelines does); it is then
//!   an approximation that treats the weights as frequencies.
//! * **Aalen–Johansen** cumulative incidence of a reply and of a closure without reply:
//!   `F_k(t) = Σ_{t_j ≤ t} S(t_j−) d_kj / n_j`; `F_reply + F_closed = 1 − S`. Its variance is the
//!   delta-method (Greenwood-type) formula of Collett (2015, p. 411), as in lifelines'
//!   `AalenJohansenFitter`, with its log(−log F) interval.
//! * **Quantiles** `t_p` (the median is p = 0.5) under a named [`Convention`]: `smallest`, the
//!   textbook `inf{t: S(t) ≤ 1 − p}`; or `midpoint`, R `survival`'s rule (if `S` equals `1 − p`
//!   over an interval, the interval's midpoint). Equal means within [`FLAT_TOL`].
//! * **Quantiles of the time to the event** when some rows end in the competing outcome: `S` is
//!   then the probability that neither has happened, and its quantiles are those of the time to the
//!   first outcome of either kind. [`KaplanMeier::incidence_quantile`] reads `inf{t: F_event(t) ≥ p}`
//!   from the cumulative incidence instead: undefined when `F_event` (which tends to the share ever
//!   answered, not to 1) stays below `p`. Its interval inverts the pointwise band of `F_event`
//!   ([`KaplanMeier::incidence_band`]: the delta-method variance above, lifelines'
//!   `AalenJohansenFitter`, with the transform a [`ConfType`] names, applied to `F`): the times whose
//!   band covers `p`, from the first time the upper band reaches `p` to the first time the lower band
//!   does (`None` when it never does within the data) — the Brookmeyer–Crowley principle for `F`, and
//!   how R `survival`'s `quantile` reads the limits of a multi-state curve from its pointwise limits.
//! * **Brookmeyer–Crowley** interval of a quantile: the times at which the pointwise confidence
//!   band of `S` crosses `1 − p` (the quantile of the lower band is the lower limit, that of the
//!   upper band the upper limit), under the same convention. The band's transform is a
//!   [`ConfType`]: `log_log` (the default here and in lifelines), `log` (R `survfit`'s default),
//!   or `plain`.
//! * **Restricted mean** to a horizon τ: `∫₀^τ S(t) dt`, with the standard error
//!   `√ Σ_{t_j ≤ τ} A_j² D_j / (n_j (n_j − D_j))`, `A_j = ∫_{t_j}^τ S(t) dt` (Klein &
//!   Moeschberger 2003, §4.5; R `print.survfit`'s `rmean`).
//!
//! ```
//! use cx_metrics::survival::{Convention, ConfType, EventTable, Outcome, Tickets};
//! use cx_metrics::Accumulator;
//! // Durations 1..6, the fourth ticket still open.
//! let durations = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let outcomes = [1, 1, 1, 0, 1, 1].map(Outcome::from_code).map(Option::unwrap);
//! let mut table = EventTable::exact();
//! table.fold_batch(Tickets::new(&durations, &outcomes), None)?;
//! let km = table.finish(&())?;
//! assert_eq!(km.survival_at(3.0), 0.5);
//! let textbook = km.quantile(0.5, 0.95, ConfType::LogLog, Convention::Smallest)?;
//! let r = km.quantile(0.5, 0.95, ConfType::LogLog, Convention::Midpoint)?;
//! assert_eq!((textbook.estimate, r.estimate), (Some(3.0), Some(4.0)));
//! # Ok::<(), cx_metrics::Error>(())
//! ```

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, UndefinedReason};
use crate::intervals::{check_level, z_two_sided, Interval};
use crate::resample::quantile_sorted;
use crate::state::{add_count, Accumulator, Decoder, Encoder, Example, StateKind};
use crate::tally::Merge;
use crate::weights::Weights;

/// Two survival probabilities closer than this are equal (a flat stretch of the curve at exactly
/// `1 − p` for the quantile conventions). Far above rounding (≈ 1e-16 per factor) and far below
/// any real difference between two steps of a curve of fewer than 10¹² tickets.
pub const FLAT_TOL: f64 = 1e-12;

/// How a ticket's wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Still open at the "as of" time: censored (code 0).
    Open,
    /// The event happened (a first reply, a resolution; code 1).
    Event,
    /// Ended without the event (closed without a reply; code 2): a competing outcome.
    Competing,
}

impl Outcome {
    /// The outcome with this code (0 open, 1 event, 2 competing).
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Open),
            1 => Some(Self::Event),
            2 => Some(Self::Competing),
            _ => None,
        }
    }
    fn slot(self) -> usize {
        match self {
            Self::Event => 0,
            Self::Competing => 1,
            Self::Open => 2,
        }
    }
}

/// A batch of tickets: how long each waited (≥ 0, in any one unit) and how the wait ended,
/// optionally with the time each entered observation (delayed entry, see [`EventTable`]).
#[derive(Debug, Clone, Copy)]
pub struct Tickets<'a> {
    /// Durations (exit times), finite and ≥ 0.
    pub durations: &'a [f64],
    /// One outcome per duration.
    pub outcomes: &'a [Outcome],
    /// Entry times (finite, ≥ 0, below the row's duration), or `None`: at risk from the start.
    pub entries: Option<&'a [f64]>,
}

impl<'a> Tickets<'a> {
    /// Tickets from aligned columns (checked when folded), at risk from the start.
    pub fn new(durations: &'a [f64], outcomes: &'a [Outcome]) -> Self {
        Self {
            durations,
            outcomes,
            entries: None,
        }
    }

    /// The same tickets observed from the entry times `entries` (one per row, checked when folded).
    pub fn with_entries(self, entries: &'a [f64]) -> Self {
        Self {
            entries: Some(entries),
            ..self
        }
    }
}

/// A batch of tickets whose outcomes are still codes as they come from a column (0 open, 1 event,
/// 2 competing): each code is checked in the same pass that folds the row, and a bad one is named
/// by its position.
#[derive(Debug, Clone, Copy)]
pub struct TicketCodes<'a> {
    /// Durations (exit times), finite and ≥ 0.
    pub durations: &'a [f64],
    /// One outcome code per duration.
    pub codes: &'a [u8],
    /// Entry times (finite, ≥ 0, below the row's duration), or `None`: at risk from the start.
    pub entries: Option<&'a [f64]>,
}

impl<'a> TicketCodes<'a> {
    /// Tickets from aligned columns of durations and outcome codes (checked when folded), at risk
    /// from the start.
    pub fn new(durations: &'a [f64], codes: &'a [u8]) -> Self {
        Self {
            durations,
            codes,
            entries: None,
        }
    }

    /// The same tickets observed from the entry times `entries` (one per row, checked when folded).
    pub fn with_entries(self, entries: &'a [f64]) -> Self {
        Self {
            entries: Some(entries),
            ..self
        }
    }
}

/// Rows of tickets that an [`EventTable`] folds: [`Tickets`] or [`TicketCodes`].
pub trait TicketRows: Copy + Sync {
    /// The durations.
    fn durations(&self) -> &[f64];
    /// How many outcomes there are (checked against the durations).
    fn n_outcomes(&self) -> usize;
    /// The outcome of row `i` (below both lengths), or an error that names `i`.
    fn outcome(&self, i: usize) -> Result<Outcome>;
    /// The entry times, if the rows have them.
    fn entries(&self) -> Option<&[f64]>;
}

impl TicketRows for Tickets<'_> {
    fn durations(&self) -> &[f64] {
        self.durations
    }
    fn n_outcomes(&self) -> usize {
        self.outcomes.len()
    }
    #[inline]
    fn outcome(&self, i: usize) -> Result<Outcome> {
        Ok(self.outcomes[i])
    }
    fn entries(&self) -> Option<&[f64]> {
        self.entries
    }
}

impl TicketRows for TicketCodes<'_> {
    fn durations(&self) -> &[f64] {
        self.durations
    }
    fn n_outcomes(&self) -> usize {
        self.codes.len()
    }
    #[inline]
    fn outcome(&self, i: usize) -> Result<Outcome> {
        let c = self.codes[i];
        Outcome::from_code(c).ok_or_else(|| {
            Error::invalid(
                "outcomes",
                format!("code {c} at position {i}; use 0 (open), 1 (event) or 2 (competing)"),
            )
        })
    }
    fn entries(&self) -> Option<&[f64]> {
        self.entries
    }
}

/// Rows per chunk of the parallel fold: large enough that a chunk's table of distinct times pays
/// for itself, small enough that every core gets a few chunks (and below 2³², so that a chunk counts
/// its rows in `u32`).
const MIN_CHUNK: usize = 1 << 16;
const MAX_CHUNK: usize = 1 << 24;

/// The slot of an unused cell: a NaN bit pattern, never the bits of a time (finite, ≥ 0).
const EMPTY: u64 = u64::MAX;

/// One cell of a chunk's tally: the bit pattern of the (binned) time, the rows ending there
/// (event, competing, censored) and entering there, and (weighted folds) their summed weights.
trait Cell: Copy + Default {
    fn add(&mut self, slot: usize, w: f64);
    fn rows(&self) -> [u64; 4];
    fn weights(&self) -> [f64; 4];
}

/// Rows only (an unweighted fold: the weights are the counts, set when the table is made).
#[derive(Clone, Copy, Default)]
struct Counts([u32; 4]);

impl Cell for Counts {
    #[inline]
    fn add(&mut self, slot: usize, _: f64) {
        self.0[slot] += 1;
    }
    fn rows(&self) -> [u64; 4] {
        self.0.map(u64::from)
    }
    fn weights(&self) -> [f64; 4] {
        self.0.map(f64::from)
    }
}

/// Rows and summed weights.
#[derive(Clone, Copy, Default)]
struct Weighted([u32; 4], [f64; 4]);

impl Cell for Weighted {
    #[inline]
    fn add(&mut self, slot: usize, w: f64) {
        self.0[slot] += 1;
        self.1[slot] += w;
    }
    fn rows(&self) -> [u64; 4] {
        self.0.map(u64::from)
    }
    fn weights(&self) -> [f64; 4] {
        self.1
    }
}

/// One chunk's tally by exact time: an open-addressing table (linear probing, at most half full)
/// keyed by the bit pattern of the time, with the counts inline so that a row costs one probe of
/// one cache line. The slot is the top bits of the bit pattern times 2⁶⁴/φ (Fibonacci hashing),
/// which spreads times that differ only in the exponent or only in the low mantissa bits alike;
/// FxHash, whose low bits only depend on the low bits of the key, clusters times like 1.0, 2.0,
/// 3.0 (no low mantissa bits) and was measured 5–10× slower here, a general hasher (aHash) 2×.
struct Cells<C: Cell> {
    keys: Vec<u64>,
    cells: Vec<C>,
    shift: u32,
    len: usize,
}

impl<C: Cell> Cells<C> {
    /// An empty tally (allocated at its first row: a fold by group makes one per group).
    fn new() -> Self {
        Self {
            keys: Vec::new(),
            cells: Vec::new(),
            shift: 64,
            len: 0,
        }
    }

    #[inline]
    fn home(&self, bits: u64) -> usize {
        (bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Count a row of weight `w` in `slot` (0 event, 1 competing, 2 censored, 3 entry) at the
    /// time with bit pattern `bits`.
    #[inline]
    fn add(&mut self, bits: u64, slot: usize, w: f64) {
        if self.keys.is_empty() {
            self.grow();
        }
        let mask = self.keys.len() - 1;
        let mut j = self.home(bits);
        loop {
            let k = self.keys[j];
            if k == bits {
                self.cells[j].add(slot, w);
                return;
            }
            if k == EMPTY {
                break;
            }
            j = (j + 1) & mask;
        }
        self.keys[j] = bits;
        self.cells[j].add(slot, w);
        self.len += 1;
        if 2 * self.len > self.keys.len() {
            self.grow();
        }
    }

    fn grow(&mut self) {
        let keys = std::mem::take(&mut self.keys);
        let cells = std::mem::take(&mut self.cells);
        let size = (2 * keys.len()).max(16);
        self.keys = vec![EMPTY; size];
        self.cells = vec![C::default(); size];
        self.shift = 64 - size.trailing_zeros();
        for (k, c) in keys.into_iter().zip(cells) {
            if k != EMPTY {
                let mut j = self.home(k);
                while self.keys[j] != EMPTY {
                    j = (j + 1) & (size - 1);
                }
                self.keys[j] = k;
                self.cells[j] = c;
            }
        }
    }

    /// The used cells, sorted by time (only the distinct times are sorted; bit patterns of times
    /// ≥ 0 order as the times do).
    fn sorted(&self) -> Vec<(u64, C)> {
        let mut used: Vec<(u64, C)> = self
            .keys
            .iter()
            .zip(&self.cells)
            .filter(|(k, _)| **k != EMPTY)
            .map(|(k, c)| (*k, *c))
            .collect();
        used.sort_unstable_by_key(|u| u.0);
        used
    }

    /// The cells as a table (`entries`: whether the rows had entry times).
    fn into_table(self, bin_width: Option<f64>, entries: bool) -> EventTable {
        let used = self.sorted();
        let (rows, weights): (Vec<[u64; 4]>, Vec<[f64; 4]>) =
            used.iter().map(|u| (u.1.rows(), u.1.weights())).unzip();
        EventTable {
            bin_width,
            times: used.iter().map(|u| f64::from_bits(u.0)).collect(),
            rows: rows.iter().map(|r| [r[0], r[1], r[2]]).collect(),
            weights: weights.iter().map(|w| [w[0], w[1], w[2]]).collect(),
            entries: if entries {
                rows.iter().map(|r| r[3]).collect()
            } else {
                Vec::new()
            },
            entry_weights: if entries {
                weights.iter().map(|w| w[3]).collect()
            } else {
                Vec::new()
            },
        }
    }
}

fn bad_duration(i: usize, d: f64) -> Error {
    Error::invalid(
        "durations",
        if d.is_nan() {
            format!("the duration at position {i} is missing; give an open ticket the time it has waited so far (its \"as of\" time minus its creation) and the outcome open")
        } else if d < 0.0 {
            format!("the duration {d} at position {i} is negative (an end before its start?); check the timestamps of that row")
        } else {
            format!("the duration {d} at position {i} is not finite; remove or correct that row")
        },
    )
}

fn bad_entry(i: usize, e: f64, d: f64) -> Error {
    Error::invalid(
        "entry",
        if e.is_nan() {
            format!("the entry time at position {i} is missing; give every row the time it entered observation (0 for a row observed from its start)")
        } else if e < 0.0 {
            format!("the entry time {e} at position {i} is negative; entry times are on the durations' clock (time since the start, ≥ 0)")
        } else if !e.is_finite() {
            format!("the entry time {e} at position {i} is not finite; remove or correct that row")
        } else if e == d {
            format!("the entry time {e} at position {i} equals its duration: a row observed for no time is never at risk (R survival refuses it too); drop that row")
        } else {
            format!("the entry time {e} at position {i} is after its duration {d} (the exit); check that row")
        },
    )
}

/// The mergeable event table of waiting times: per distinct time, the rows and summed weights of
/// events, competing outcomes and censored tickets, and (with delayed entry) of the tickets that
/// enter observation then. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawEventTable")]
pub struct EventTable {
    /// Width of the time bins (`None`: exact times).
    bin_width: Option<f64>,
    /// Distinct times, strictly increasing.
    times: Vec<f64>,
    /// Rows at each time: events, competing, censored.
    rows: Vec<[u64; 3]>,
    /// Summed weights at each time: events, competing, censored.
    weights: Vec<[f64; 3]>,
    /// Rows entering observation at each time; empty when no row had an entry time (every row at
    /// risk from the start).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    entries: Vec<u64>,
    /// Their summed weights (empty or one per time, as `entries`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    entry_weights: Vec<f64>,
}

#[derive(Deserialize)]
struct RawEventTable {
    bin_width: Option<f64>,
    times: Vec<f64>,
    rows: Vec<[u64; 3]>,
    weights: Vec<[f64; 3]>,
    #[serde(default)]
    entries: Vec<u64>,
    #[serde(default)]
    entry_weights: Vec<f64>,
}

impl TryFrom<RawEventTable> for EventTable {
    type Error = Error;
    fn try_from(r: RawEventTable) -> Result<Self> {
        let t = Self {
            bin_width: r.bin_width,
            times: r.times,
            rows: r.rows,
            weights: r.weights,
            entries: r.entries,
            entry_weights: r.entry_weights,
        };
        t.validate()?;
        Ok(t)
    }
}

impl Default for EventTable {
    fn default() -> Self {
        Self::exact()
    }
}

impl EventTable {
    /// An empty table keeping times exactly.
    pub fn exact() -> Self {
        Self {
            bin_width: None,
            times: Vec::new(),
            rows: Vec::new(),
            weights: Vec::new(),
            entries: Vec::new(),
            entry_weights: Vec::new(),
        }
    }

    /// An empty table whose times are rounded up to multiples of `width` (finite, > 0).
    pub fn binned(width: f64) -> Result<Self> {
        if !(width.is_finite() && width > 0.0) {
            return Err(Error::invalid(
                "bin_width",
                format!("{width}; it must be a finite number > 0 (or no bins, for exact times)"),
            ));
        }
        Ok(Self {
            bin_width: Some(width),
            ..Self::exact()
        })
    }

    /// The bin width (`None`: exact times).
    pub fn bin_width(&self) -> Option<f64> {
        self.bin_width
    }

    /// The distinct times of the table.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// Rows per time: events, competing outcomes, censored.
    pub fn rows(&self) -> &[[u64; 3]] {
        &self.rows
    }

    /// Summed weights per time: events, competing outcomes, censored.
    pub fn weights(&self) -> &[[f64; 3]] {
        &self.weights
    }

    /// Rows entering observation at each time (empty: no row had an entry time).
    pub fn entries(&self) -> &[u64] {
        &self.entries
    }

    /// Summed weights of the rows entering at each time (empty as [`EventTable::entries`]).
    pub fn entry_weights(&self) -> &[f64] {
        &self.entry_weights
    }

    /// Rows with an entry time (delayed entry) in the whole table.
    pub fn n_entered(&self) -> u64 {
        self.entries.iter().fold(0u64, |a, r| a.saturating_add(*r))
    }

    /// Rows of each outcome in the whole table: events, competing outcomes, censored.
    pub fn totals(&self) -> [u64; 3] {
        self.rows.iter().fold([0u64; 3], |a, r| {
            [
                a[0].saturating_add(r[0]),
                a[1].saturating_add(r[1]),
                a[2].saturating_add(r[2]),
            ]
        })
    }

    fn bin(&self, t: f64) -> f64 {
        match self.bin_width {
            Some(w) => (t / w).ceil() * w,
            None => t,
        }
    }

    /// The binned entry time: rounded **down** (exits are rounded up), so that a row stays at risk
    /// over every bin its observation overlaps and its binned entry stays below its binned exit.
    fn bin_entry(&self, t: f64) -> f64 {
        match self.bin_width {
            Some(w) => (t / w).floor() * w,
            None => t,
        }
    }

    /// Check what can be checked before the pass: aligned lengths and the weights.
    fn check<B: TicketRows>(batch: B, weights: Option<&[f64]>) -> Result<Option<&[f64]>> {
        let n = batch.durations().len();
        if batch.n_outcomes() != n {
            return Err(Error::LengthMismatch {
                what: "durations and outcomes",
                left: n,
                right: batch.n_outcomes(),
            });
        }
        if let Some(e) = batch.entries() {
            if e.len() != n {
                return Err(Error::LengthMismatch {
                    what: "durations and entry times",
                    left: n,
                    right: e.len(),
                });
            }
        }
        match weights {
            Some(w) => Ok(Some(
                Weights::for_rows(w, n, |len| Error::LengthMismatch {
                    what: "durations and weights",
                    left: n,
                    right: len,
                })?
                .values(),
            )),
            None => Ok(None),
        }
    }

    /// The tables of one batch, one per group (`groups`: the code of each row and the number of
    /// groups; `None`: one table), in one pass that also checks every duration and outcome (the
    /// first bad row is named). Rows are tallied per distinct time in a hash map, in parallel
    /// chunks whose tables are merged; only the distinct times are sorted.
    fn tables_of<B: TicketRows>(
        &self,
        batch: B,
        groups: Option<(&[u32], usize)>,
        weights: Option<&[f64]>,
    ) -> Result<Vec<Self>> {
        let w = Self::check(batch, weights)?;
        let d = batch.durations();
        let n = d.len();
        if let Some((codes, _)) = groups {
            if codes.len() != n {
                return Err(Error::LengthMismatch {
                    what: "durations and group labels",
                    left: n,
                    right: codes.len(),
                });
            }
        }
        let chunk = n
            .div_ceil(4 * rayon::current_num_threads())
            .clamp(MIN_CHUNK, MAX_CHUNK);
        let fold = |c: usize| match w {
            None => self.fold_chunk::<Counts, B>(
                batch,
                groups,
                None,
                c * chunk..((c + 1) * chunk).min(n),
            ),
            Some(w) => self.fold_chunk::<Weighted, B>(
                batch,
                groups,
                Some(w),
                c * chunk..((c + 1) * chunk).min(n),
            ),
        };
        let n_chunks = n.div_ceil(chunk).max(1);
        let tables = if n_chunks == 1 {
            fold(0)
        } else {
            (0..n_chunks)
                .into_par_iter()
                .map(fold)
                .reduce_with(|a, b| match (a, b) {
                    // The first bad row of the batch, whichever chunk finds it.
                    (Err(x), Err(y)) => Err(if x.0 <= y.0 { x } else { y }),
                    (Err(x), Ok(_)) | (Ok(_), Err(x)) => Err(x),
                    (Ok(mut a), Ok(b)) => {
                        for (t, u) in a.iter_mut().zip(&b) {
                            t.merge(u).map_err(|e| (usize::MAX, e))?;
                        }
                        Ok(a)
                    }
                })
                .expect("at least one chunk")
        };
        tables.map_err(|(_, e)| e)
    }

    /// The tables of the rows `range` of a batch (one per group), each row checked; a bad row is
    /// returned with its position.
    fn fold_chunk<C: Cell, B: TicketRows>(
        &self,
        batch: B,
        groups: Option<(&[u32], usize)>,
        weights: Option<&[f64]>,
        range: std::ops::Range<usize>,
    ) -> std::result::Result<Vec<Self>, (usize, Error)> {
        let n_groups = groups.map_or(1, |g| g.1);
        let mut cells: Vec<Cells<C>> = (0..n_groups).map(|_| Cells::new()).collect();
        let d = batch.durations();
        let entries = batch.entries();
        for i in range {
            let di = d[i];
            if !(di.is_finite() && di >= 0.0) {
                return Err((i, bad_duration(i, di)));
            }
            let slot = batch.outcome(i).map_err(|e| (i, e))?.slot();
            let g = match groups {
                None => 0,
                Some((codes, k)) => {
                    let g = codes[i] as usize;
                    if g >= k {
                        let msg = format!("group {g} at position {i} is not below {k}");
                        return Err((i, Error::invalid("codes", msg)));
                    }
                    g
                }
            };
            let wi = weights.map_or(1.0, |w| w[i]);
            // -0.0 and 0.0 are one time.
            let t = if di == 0.0 { 0.0 } else { self.bin(di) };
            if let Some(e) = entries {
                let ei = e[i];
                if !(ei.is_finite() && ei >= 0.0 && ei < di) {
                    return Err((i, bad_entry(i, ei, di)));
                }
                let te = if ei == 0.0 { 0.0 } else { self.bin_entry(ei) };
                cells[g].add(te.to_bits(), 3, wi);
            }
            cells[g].add(t.to_bits(), slot, wi);
        }
        let with_entries = entries.is_some();
        Ok(cells
            .into_iter()
            .map(|c| c.into_table(self.bin_width, with_entries))
            .collect())
    }

    /// The table of one batch (checked and aggregated by time).
    fn table_of<B: TicketRows>(&self, batch: B, weights: Option<&[f64]>) -> Result<Self> {
        let mut tables = self.tables_of(batch, None, weights)?;
        Ok(tables.pop().expect("one table"))
    }

    /// Fold tickets whose outcomes are codes (0 open, 1 event, 2 competing), each checked in the
    /// same pass (a bad code is named by its position); changes nothing on error.
    pub fn fold_codes(&mut self, batch: TicketCodes<'_>, weights: Option<&[f64]>) -> Result<()> {
        let part = self.table_of(batch, weights)?;
        self.merge(&part)
    }

    /// One table per group, in one pass: `codes[i]` is the group of row `i` (below `n_groups`,
    /// from the grouping engine), every table has this table's bin width. A bad row is named by
    /// its position in the batch.
    pub fn by_group<B: TicketRows>(
        &self,
        codes: &[u32],
        n_groups: usize,
        batch: B,
        weights: Option<&[f64]>,
    ) -> Result<Vec<Self>> {
        self.tables_of(batch, Some((codes, n_groups)), weights)
    }

    /// The Kaplan–Meier curve, cumulative incidences and their variances: what
    /// [`Accumulator::finish`] returns.
    pub fn kaplan_meier(&self) -> Result<KaplanMeier> {
        let total_rows: u64 = self.totals().iter().sum();
        if total_rows == 0 {
            return Err(Error::Undefined(UndefinedReason::NoRows));
        }
        let total: f64 = self.weights.iter().map(|w| w[0] + w[1] + w[2]).sum();
        if total <= 0.0 {
            return Err(Error::Undefined(UndefinedReason::ZeroTotalWeight));
        }
        let weighted = self
            .rows
            .iter()
            .zip(&self.weights)
            .any(|(r, w)| (0..3).any(|k| r[k] as f64 != w[k]));
        let k = self.times.len();
        let mut km = KaplanMeier {
            times: self.times.clone(),
            at_risk: Vec::with_capacity(k),
            events: Vec::with_capacity(k),
            competing: Vec::with_capacity(k),
            censored: Vec::with_capacity(k),
            survival: Vec::with_capacity(k),
            greenwood: Vec::with_capacity(k),
            cif_event: Vec::with_capacity(k),
            cif_competing: Vec::with_capacity(k),
            n: total_rows,
            n_events: self.totals()[0],
            n_competing: self.totals()[1],
            n_censored: self.totals()[2],
            weighted,
            bin_width: self.bin_width,
            entered: Vec::new(),
            n_entered: self.n_entered(),
            risk_set_gaps: Vec::new(),
        };
        // S as num/den while both are exact integers, then as a running product.
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        let (mut num, mut den, mut exact) = (1.0f64, 1.0f64, !weighted);
        // At risk at t: the rows with entry < t ≤ exit. Rows without an entry time are at risk
        // from the start; rows entering at t_j join after t_j.
        let with_entries = !self.entries.is_empty();
        let entry_total: f64 = self.entry_weights.iter().sum();
        let mut rows_at_risk = total_rows - km.n_entered;
        let mut at_risk = if km.n_entered == 0 {
            total
        } else if rows_at_risk == 0 {
            0.0
        } else {
            (total - entry_total).max(0.0)
        };
        let last_exit = self.rows.iter().rposition(|r| r.iter().any(|v| *v > 0));
        let (mut gw, mut f_event, mut f_competing) = (0.0f64, 0.0f64, 0.0f64);
        for (j, (w, r)) in self.weights.iter().zip(&self.rows).enumerate() {
            let (d, c, cens) = (w[0], w[1], w[2]);
            let leaving = d + c;
            let rows_leaving = r[0] + r[1];
            let s_before = num / den;
            if leaving > 0.0 && at_risk > 0.0 {
                f_event += s_before * d / at_risk;
                f_competing += s_before * c / at_risk;
                // Every row at risk leaves: S is 0 (not a rounding residue of the running sums).
                let stay = if rows_leaving >= rows_at_risk {
                    0.0
                } else {
                    (at_risk - leaving).max(0.0)
                };
                if exact && num * stay < EXACT && den * at_risk < EXACT {
                    num *= stay;
                    den *= at_risk;
                } else {
                    exact = false;
                    num = num / den * (stay / at_risk);
                    den = 1.0;
                }
                gw += if stay > 0.0 {
                    leaving / (at_risk * stay)
                } else {
                    f64::INFINITY
                };
            }
            km.at_risk.push(at_risk);
            km.events.push(d);
            km.competing.push(c);
            km.censored.push(cens);
            km.survival.push(num / den);
            km.greenwood.push(gw);
            km.cif_event.push(f_event);
            km.cif_competing.push(f_competing);
            let rows_ending = rows_leaving + r[2];
            rows_at_risk = rows_at_risk.saturating_sub(rows_ending);
            at_risk = if rows_at_risk == 0 {
                0.0
            } else {
                (at_risk - leaving - cens).max(0.0)
            };
            if with_entries {
                let (er, ew) = (self.entries[j], self.entry_weights[j]);
                km.entered.push(ew);
                rows_at_risk += er;
                at_risk += ew;
                if rows_at_risk == 0 && last_exit.is_some_and(|last| j < last) && rows_ending > 0 {
                    km.risk_set_gaps.push(self.times[j]);
                }
            }
        }
        Ok(km)
    }
}

impl Merge for EventTable {
    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.bin_width != other.bin_width {
            let show =
                |w: Option<f64>| w.map_or("exact times".to_string(), |w| format!("bins of {w}"));
            return Err(Error::Incompatible(format!(
                "event tables with {} and with {}; fold both with the same bin width",
                show(self.bin_width),
                show(other.bin_width)
            )));
        }
        let (a, b) = (self, other);
        let with_entries = !a.entries.is_empty() || !b.entries.is_empty();
        let entry = |t: &EventTable, j: usize| {
            if t.entries.is_empty() {
                (0, 0.0)
            } else {
                (t.entries[j], t.entry_weights[j])
            }
        };
        let mut out = EventTable {
            bin_width: a.bin_width,
            times: Vec::with_capacity(a.times.len() + b.times.len()),
            rows: Vec::with_capacity(a.times.len() + b.times.len()),
            weights: Vec::with_capacity(a.times.len() + b.times.len()),
            entries: Vec::new(),
            entry_weights: Vec::new(),
        };
        let (mut i, mut j) = (0, 0);
        while i < a.times.len() || j < b.times.len() {
            let take_a = j >= b.times.len() || (i < a.times.len() && a.times[i] <= b.times[j]);
            let take_b = i >= a.times.len() || (j < b.times.len() && b.times[j] <= a.times[i]);
            let (t, mut r, mut w, mut e) = if take_a {
                (a.times[i], a.rows[i], a.weights[i], entry(a, i))
            } else {
                (b.times[j], b.rows[j], b.weights[j], entry(b, j))
            };
            if take_a && take_b {
                for k in 0..3 {
                    r[k] = add_count(r[k], b.rows[j][k], || format!("the rows at time {t}"))?;
                    w[k] += b.weights[j][k];
                }
                let (er, ew) = entry(b, j);
                e.0 = add_count(e.0, er, || format!("the entries at time {t}"))?;
                e.1 += ew;
            }
            out.times.push(t);
            out.rows.push(r);
            out.weights.push(w);
            if with_entries {
                out.entries.push(e.0);
                out.entry_weights.push(e.1);
            }
            i += usize::from(take_a);
            j += usize::from(take_b);
        }
        let mut total = 0u64;
        for r in &out.rows {
            for v in r {
                total = add_count(total, *v, || "the ticket count".into())?;
            }
        }
        *a = out;
        Ok(())
    }
}

/// Bit 63 of the number of times in the byte form (format version 2): an entry column follows the
/// rows (a table without entries writes the version-1 layout, which an event table nested in
/// another state's payload keeps).
const ENTRIES_FLAG: u64 = 1 << 63;

impl Accumulator for EventTable {
    const KIND: StateKind = StateKind::EventTable;
    /// Version 2 adds the entry column (delayed entry); version-1 payloads are tables without it.
    const VERSION: u16 = 2;
    type Batch<'a> = Tickets<'a>;
    type Options = ();
    type Output = KaplanMeier;

    fn fold_batch(&mut self, batch: Tickets<'_>, weights: Option<&[f64]>) -> Result<()> {
        let part = self.table_of(batch, weights)?;
        self.merge(&part)
    }

    fn n(&self) -> u64 {
        self.rows
            .iter()
            .flatten()
            .fold(0u64, |a, v| a.saturating_add(*v))
    }

    fn finish(&self, _: &()) -> Result<KaplanMeier> {
        self.kaplan_meier()
    }

    fn validate(&self) -> Result<()> {
        let kind = Self::KIND;
        if let Some(w) = self.bin_width {
            if !(w.is_finite() && w > 0.0) {
                return Err(kind.invalid(format!("bin width {w} is not a finite number > 0")));
            }
        }
        let k = self.times.len();
        if self.rows.len() != k || self.weights.len() != k {
            return Err(kind.invalid(format!(
                "{k} times but {} rows and {} weights",
                self.rows.len(),
                self.weights.len()
            )));
        }
        let mut total = 0u64;
        for (j, ((t, r), w)) in self
            .times
            .iter()
            .zip(&self.rows)
            .zip(&self.weights)
            .enumerate()
        {
            if !(t.is_finite() && *t >= 0.0) || (j > 0 && self.times[j - 1] >= *t) {
                return Err(kind.invalid(format!(
                    "time {t} at row {j} is not finite, ≥ 0 and above the time before it"
                )));
            }
            if let Some(width) = self.bin_width {
                if (t / width).ceil() * width != *t {
                    return Err(kind.invalid(format!("time {t} is not a bin of width {width}")));
                }
            }
            let entered = self.entries.get(j).copied().unwrap_or(0);
            if r.iter().all(|v| *v == 0) && entered == 0 {
                return Err(kind.invalid(format!("time {t} has no rows")));
            }
            for c in 0..3 {
                if !(w[c].is_finite() && w[c] >= 0.0) || (r[c] == 0 && w[c] != 0.0) {
                    return Err(kind.invalid(format!(
                        "time {t}: weight {} for {} rows (weights must be finite, >= 0, and 0 without rows)",
                        w[c], r[c]
                    )));
                }
                total = total
                    .checked_add(r[c])
                    .ok_or_else(|| kind.invalid("the row counts overflow"))?;
            }
        }
        if self.entries.is_empty() && self.entry_weights.is_empty() {
            return Ok(());
        }
        if self.entries.len() != k || self.entry_weights.len() != k {
            return Err(kind.invalid(format!(
                "{k} times but {} entry counts and {} entry weights",
                self.entries.len(),
                self.entry_weights.len()
            )));
        }
        let mut entered = 0u64;
        for (j, (r, w)) in self.entries.iter().zip(&self.entry_weights).enumerate() {
            if !(w.is_finite() && *w >= 0.0) || (*r == 0 && *w != 0.0) {
                return Err(kind.invalid(format!(
                    "time {}: entry weight {w} for {r} rows (weights must be finite, >= 0, and 0 without rows)",
                    self.times[j]
                )));
            }
            entered = entered
                .checked_add(*r)
                .ok_or_else(|| kind.invalid("the entry counts overflow"))?;
        }
        if entered > total {
            return Err(kind.invalid(format!("{entered} rows entered but {total} rows ended")));
        }
        // Every row ending at t was at risk at t (entry < t ≤ exit).
        let mut at_risk = total - entered;
        for (j, r) in self.rows.iter().enumerate() {
            let ending = r[0] + r[1] + r[2];
            if ending > at_risk {
                return Err(kind.invalid(format!(
                    "time {}: {ending} rows end but only {at_risk} were at risk (entered before it)",
                    self.times[j]
                )));
            }
            at_risk = at_risk - ending + self.entries[j];
        }
        Ok(())
    }

    fn encode_payload(&self, out: &mut Encoder) {
        out.f64(self.bin_width.unwrap_or(0.0));
        let flag = if self.entries.is_empty() {
            0
        } else {
            ENTRIES_FLAG
        };
        out.u64(self.times.len() as u64 | flag);
        for j in 0..self.times.len() {
            out.f64(self.times[j]);
            out.u64s(&self.rows[j]);
            out.f64s(&self.weights[j]);
        }
        for (r, w) in self.entries.iter().zip(&self.entry_weights) {
            out.u64(*r);
            out.f64(*w);
        }
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let width = input.f64("the bin width")?;
        let bin_width = if width == 0.0 { None } else { Some(width) };
        let k = input.u64("the number of times")?;
        let with_entries = k & ENTRIES_FLAG != 0;
        if with_entries && input.version() < 2 {
            return Err(input.invalid(format!(
                "an entry column in a format version {} payload (entries came with version 2)",
                input.version()
            )));
        }
        let k = usize::try_from(k & !ENTRIES_FLAG)
            .map_err(|_| input.invalid("the number of times is too large"))?;
        input.check_fits(k, if with_entries { 72 } else { 56 }, "times")?;
        let mut t = Self {
            bin_width,
            times: Vec::with_capacity(k),
            rows: Vec::with_capacity(k),
            weights: Vec::with_capacity(k),
            entries: Vec::new(),
            entry_weights: Vec::new(),
        };
        for _ in 0..k {
            t.times.push(input.f64("a time")?);
            t.rows
                .push([input.u64("rows")?, input.u64("rows")?, input.u64("rows")?]);
            t.weights.push([
                input.f64("weights")?,
                input.f64("weights")?,
                input.f64("weights")?,
            ]);
        }
        if with_entries {
            t.entries.reserve(k);
            t.entry_weights.reserve(k);
            for _ in 0..k {
                t.entries.push(input.u64("entries")?);
                t.entry_weights.push(input.f64("entry weights")?);
            }
        }
        Ok(t)
    }
}

impl Example for EventTable {
    fn example() -> Self {
        let mut t = EventTable::exact();
        let outcomes =
            [1u8, 1, 2, 0, 1, 1, 0, 2].map(|c| Outcome::from_code(c).unwrap_or(Outcome::Open));
        let durations = [1.0, 2.0, 2.0, 3.5, 5.0, 5.0, 8.0, 9.0];
        let weights = [1.0, 0.5, 2.0, 1.0, 1.5, 0.25, 1.0, 0.75];
        t.fold_batch(Tickets::new(&durations, &outcomes), Some(&weights))
            .expect("the fixed sample rows are valid");
        t
    }
}

/// The transform of the pointwise confidence band of `S(t)`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfType {
    /// `log(−log S)`: lifelines' band, R `conf.type = "log-log"`; stays inside [0, 1].
    #[default]
    LogLog,
    /// `log S`: R `survfit`'s default band (`conf.type = "log"`); the upper limit is cut at 1.
    Log,
    /// `S ± z·se`: R `conf.type = "plain"`; cut to [0, 1].
    Plain,
}

impl std::str::FromStr for ConfType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "log_log" => Ok(Self::LogLog),
            "log" => Ok(Self::Log),
            "plain" => Ok(Self::Plain),
            _ => Err(Error::invalid(
                "conf_type",
                format!("{s:?}; use \"log_log\" (lifelines' band), \"log\" (R survfit's default) or \"plain\""),
            )),
        }
    }
}

impl ConfType {
    /// The option string.
    pub fn name(self) -> &'static str {
        match self {
            Self::LogLog => "log_log",
            Self::Log => "log",
            Self::Plain => "plain",
        }
    }
}

/// Which time a quantile of a step curve is when the curve is flat at exactly `1 − p`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Convention {
    /// The textbook `inf{t: S(t) ≤ 1 − p}` (lifelines' rule, when its curve has no rounding noise).
    #[default]
    Smallest,
    /// R `survival`'s rule: where `S` equals `1 − p` over an interval, the interval's midpoint.
    Midpoint,
}

impl std::str::FromStr for Convention {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "smallest" => Ok(Self::Smallest),
            "midpoint" => Ok(Self::Midpoint),
            _ => Err(Error::invalid(
                "convention",
                format!("{s:?}; use \"smallest\" (inf{{t: S(t) <= 1 - p}}) or \"midpoint\" (R survival's)"),
            )),
        }
    }
}

impl Convention {
    /// The option string.
    pub fn name(self) -> &'static str {
        match self {
            Self::Smallest => "smallest",
            Self::Midpoint => "midpoint",
        }
    }
}

/// Serde for sums that are finite and ≥ 0 or `+∞`: `+∞` is written as `null` and read back.
mod infinite_as_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let items: Vec<Option<f64>> = v.iter().map(|x| x.is_finite().then_some(*x)).collect();
        items.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let items = Vec::<Option<f64>>::deserialize(d)?;
        Ok(items
            .into_iter()
            .map(|x| x.unwrap_or(f64::INFINITY))
            .collect())
    }
}

/// The Kaplan–Meier curve of an [`EventTable`] with its Greenwood sums and the Aalen–Johansen
/// cumulative incidences, one entry per distinct time (weighted counts).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct KaplanMeier {
    /// Distinct times, increasing.
    pub times: Vec<f64>,
    /// Tickets still waiting just before each time.
    pub at_risk: Vec<f64>,
    /// Events at each time.
    pub events: Vec<f64>,
    /// Competing outcomes at each time.
    pub competing: Vec<f64>,
    /// Tickets censored (still open) at each time.
    pub censored: Vec<f64>,
    /// `S(t)`: the probability of still waiting after each time.
    pub survival: Vec<f64>,
    /// Greenwood's sum `Σ D_j / (n_j (n_j − D_j))` up to each time (infinite once `S` is 0;
    /// serialised as `null`, which JSON has for no infinity).
    #[serde(with = "infinite_as_null")]
    pub greenwood: Vec<f64>,
    /// Aalen–Johansen cumulative incidence of the event.
    pub cif_event: Vec<f64>,
    /// Aalen–Johansen cumulative incidence of the competing outcome.
    pub cif_competing: Vec<f64>,
    /// Rows in the table.
    pub n: u64,
    /// Rows with the event.
    pub n_events: u64,
    /// Rows with the competing outcome.
    pub n_competing: u64,
    /// Rows censored (still open).
    pub n_censored: u64,
    /// Whether the counts are weighted (some weight other than 1).
    pub weighted: bool,
    /// The table's bin width (`None`: exact times).
    pub bin_width: Option<f64>,
    /// Weight entering observation at each time (delayed entry; empty when no row had an entry
    /// time). A row entering at `t` is at risk at times after `t`: entry < t ≤ exit.
    #[serde(default)]
    pub entered: Vec<f64>,
    /// Rows with an entry time (0: every row at risk from the start).
    #[serde(default)]
    pub n_entered: u64,
    /// With delayed entry, the times after which nobody was at risk although later rows entered
    /// and exited: the curve after such a time multiplies the earlier `S` by the later factors as
    /// if nothing happened in the gap (the product-limit rule, as R `survfit`); if `S` reached 0
    /// there it stays 0. Empty when the risk set never emptied before the last exit.
    #[serde(default)]
    pub risk_set_gaps: Vec<f64>,
}

impl Serialize for KaplanMeier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Self::serialize(self, s)
    }
}

/// A stored curve is checked as it is read: one entry per time in every column, times finite and
/// increasing, counts finite and not negative, probabilities within [0, 1].
impl<'de> Deserialize<'de> for KaplanMeier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let km = Self::deserialize(d)?;
        km.check_stored().map_err(serde::de::Error::custom)?;
        Ok(km)
    }
}

impl KaplanMeier {
    /// What is wrong with a curve read back from storage, if anything.
    fn check_stored(&self) -> std::result::Result<(), String> {
        let n = self.times.len();
        let columns: [(&str, &[f64]); 8] = [
            ("at_risk", &self.at_risk),
            ("events", &self.events),
            ("competing", &self.competing),
            ("censored", &self.censored),
            ("survival", &self.survival),
            ("greenwood", &self.greenwood),
            ("cif_event", &self.cif_event),
            ("cif_competing", &self.cif_competing),
        ];
        for (name, v) in columns {
            if v.len() != n {
                return Err(format!("{name} has {} entries for {n} times", v.len()));
            }
        }
        if !self.entered.is_empty() && self.entered.len() != n {
            return Err(format!(
                "entered has {} entries for {n} times",
                self.entered.len()
            ));
        }
        if let Some(i) = (0..n)
            .find(|&i| !self.times[i].is_finite() || (i > 0 && self.times[i] <= self.times[i - 1]))
        {
            return Err(format!(
                "time {} at position {i} is not finite and above the one before",
                self.times[i]
            ));
        }
        let counts: [(&str, &[f64]); 5] = [
            ("at_risk", &self.at_risk),
            ("events", &self.events),
            ("competing", &self.competing),
            ("censored", &self.censored),
            ("entered", &self.entered),
        ];
        for (name, v) in counts {
            if let Some((i, x)) = v
                .iter()
                .enumerate()
                .find(|(_, x)| !(x.is_finite() && **x >= 0.0))
            {
                return Err(format!(
                    "{name} {x} at position {i} is not a finite count >= 0"
                ));
            }
        }
        let tol = 1e-9;
        for (name, v) in [
            ("survival", &self.survival),
            ("cif_event", &self.cif_event),
            ("cif_competing", &self.cif_competing),
        ] {
            if let Some((i, x)) = v
                .iter()
                .enumerate()
                .find(|(_, x)| !(**x >= -tol && **x <= 1.0 + tol))
            {
                return Err(format!("{name} {x} at position {i} is not a probability"));
            }
        }
        if let Some((i, x)) = self
            .greenwood
            .iter()
            .enumerate()
            .find(|(_, x)| x.is_nan() || **x < 0.0)
        {
            return Err(format!("greenwood {x} at position {i} is not a sum >= 0"));
        }
        Ok(())
    }
}

/// A quantile of the waiting time with its Brookmeyer–Crowley interval; `None` where the curve
/// (or its band) never falls to `1 − p` within the data.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurvivalQuantile {
    /// The probability p (0.5 for the median).
    pub p: f64,
    /// The quantile `t_p`.
    pub estimate: Option<f64>,
    /// Lower limit (the quantile of the band's lower curve).
    pub low: Option<f64>,
    /// Upper limit (the quantile of the band's upper curve; `None`: beyond the data).
    pub high: Option<f64>,
    /// Nominal coverage.
    pub confidence_level: f64,
    /// The band's transform.
    pub conf_type: ConfType,
    /// The convention on flat stretches.
    pub convention: Convention,
}

/// A quantile of the time to the event from its Aalen–Johansen cumulative incidence, with the
/// interval that inverts the pointwise band of the incidence (see
/// [`KaplanMeier::incidence_quantile`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidenceQuantile {
    /// The probability p (0.5 for the median).
    pub p: f64,
    /// The quantile `inf{t: F_event(t) ≥ p}`; `None` when `F_event` stays below `p`.
    pub estimate: Option<f64>,
    /// Lower limit: the first time the band's upper curve reaches `p` (`None`: it never does).
    pub low: Option<f64>,
    /// Upper limit: the first time the band's lower curve reaches `p` (`None`: unbounded, it never
    /// does within the data).
    pub high: Option<f64>,
    /// Nominal coverage.
    pub confidence_level: f64,
    /// The band's transform, applied to `F_event` (`log_log`: `log(−log F)`, lifelines').
    pub conf_type: ConfType,
    /// `F_event` at the last time: the share of tickets answered, as estimated so far.
    pub max_incidence: f64,
    /// Whether every ticket had an outcome by the last time (`S` fell to 0): then `F_event` can
    /// rise no further, and a quantile above `max_incidence` never exists.
    pub complete: bool,
    /// The convention on flat stretches.
    pub convention: Convention,
}

/// A probability with its confidence interval.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probability {
    /// The estimate.
    pub estimate: f64,
    /// Its standard error (Greenwood, or delta-method for a cumulative incidence).
    pub std_error: f64,
    /// The interval.
    pub interval: Interval,
}

/// The restricted mean waiting time up to a horizon.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestrictedMean {
    /// The horizon τ.
    pub horizon: f64,
    /// `∫₀^τ S(t) dt`.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
}

impl KaplanMeier {
    /// Whether some rows entered observation late (left truncation; see [`KaplanMeier::entered`]).
    pub fn left_truncated(&self) -> bool {
        self.n_entered > 0
    }

    /// Index of the last time ≤ `t` (`None` before the first time).
    fn index_at(&self, t: f64) -> Option<usize> {
        self.times.partition_point(|x| *x <= t).checked_sub(1)
    }

    /// `S(t)` (1 before the first time).
    pub fn survival_at(&self, t: f64) -> f64 {
        self.index_at(t).map_or(1.0, |j| self.survival[j])
    }

    /// Greenwood standard errors of `S` at every time.
    pub fn std_error(&self) -> Vec<f64> {
        self.survival
            .iter()
            .zip(&self.greenwood)
            .map(|(s, g)| if *s == 0.0 { 0.0 } else { s * g.sqrt() })
            .collect()
    }

    /// The pointwise band of `S` at every time: (lower, upper). Where `S` is 1 the band is
    /// [1, 1]; where `S` is 0 it is [0, 0] for `plain` and [0, NaN] (undefined) otherwise.
    pub fn band(&self, confidence_level: f64, conf_type: ConfType) -> Result<(Vec<f64>, Vec<f64>)> {
        let z = z_two_sided(confidence_level)?;
        let (mut lo, mut hi) = (
            Vec::with_capacity(self.times.len()),
            Vec::with_capacity(self.times.len()),
        );
        for (&s, &g) in self.survival.iter().zip(&self.greenwood) {
            let sigma = g.sqrt();
            let (l, h) = if s >= 1.0 || g == 0.0 {
                (s, s)
            } else if s <= 0.0 {
                match conf_type {
                    ConfType::Plain => (0.0, 0.0),
                    _ => (0.0, f64::NAN),
                }
            } else {
                match conf_type {
                    ConfType::Plain => ((s - z * s * sigma).max(0.0), (s + z * s * sigma).min(1.0)),
                    ConfType::Log => (s * (-z * sigma).exp(), (s * (z * sigma).exp()).min(1.0)),
                    ConfType::LogLog => {
                        let ls = s.ln();
                        let theta = (-ls).ln();
                        let half = z * sigma / ls; // negative
                        ((-(theta - half).exp()).exp(), (-(theta + half).exp()).exp())
                    }
                }
            };
            lo.push(l);
            hi.push(h);
        }
        Ok((lo, hi))
    }

    /// The quantile of a non-increasing step curve `f` (1 before the first time): see
    /// [`Convention`]; NaN values of the curve never count as reached.
    fn step_quantile(&self, f: &[f64], q: f64, convention: Convention) -> Option<f64> {
        let j = f.iter().position(|v| *v <= q + FLAT_TOL)?;
        if convention == Convention::Smallest || (f[j] - q).abs() > FLAT_TOL {
            return Some(self.times[j]);
        }
        // Flat at q from times[j]: to the next time the curve drops below it (or the last time).
        let end = f[j..]
            .iter()
            .position(|v| *v < q - FLAT_TOL)
            .map_or(self.times[self.times.len() - 1], |k| self.times[j + k]);
        Some((self.times[j] + end) / 2.0)
    }

    /// The `p` quantile of the waiting time (the median for 0.5) with its Brookmeyer–Crowley
    /// interval.
    pub fn quantile(
        &self,
        p: f64,
        confidence_level: f64,
        conf_type: ConfType,
        convention: Convention,
    ) -> Result<SurvivalQuantile> {
        if !(p > 0.0 && p < 1.0) {
            return Err(Error::invalid(
                "quantiles",
                format!("{p}; a quantile's probability lies strictly between 0 and 1, e.g. 0.5 for the median"),
            ));
        }
        check_level(confidence_level)?;
        let (lo, hi) = self.band(confidence_level, conf_type)?;
        let q = 1.0 - p;
        Ok(SurvivalQuantile {
            p,
            estimate: self.step_quantile(&self.survival, q, convention),
            low: self.step_quantile(&lo, q, convention),
            high: self.step_quantile(&hi, q, convention),
            confidence_level,
            conf_type,
            convention,
        })
    }

    /// The probability that the event happened within `target` — the Aalen–Johansen cumulative
    /// incidence `F_event(target)`, which is `1 − S(target)` when nothing ends in the competing
    /// outcome — with its interval. Without competing outcomes the interval is `1 −` the band of
    /// `S` (transform `conf_type`); with them, the band of `F_event` at `target`
    /// ([`KaplanMeier::incidence_band`]: lifelines' `AalenJohansenFitter` variance, the transform
    /// `conf_type` applied to `F`, `log_log` being lifelines' interval).
    pub fn within(
        &self,
        target: f64,
        confidence_level: f64,
        conf_type: ConfType,
    ) -> Result<Probability> {
        let z = z_two_sided(confidence_level)?;
        let Some(j) = self.index_at(target) else {
            return Ok(Probability {
                estimate: 0.0,
                std_error: 0.0,
                interval: Interval::new(0.0, 0.0, confidence_level),
            });
        };
        if self.n_competing == 0 {
            let (lo, hi) = self.band(confidence_level, conf_type)?;
            let s = self.survival[j];
            let se = if s == 0.0 {
                0.0
            } else {
                s * self.greenwood[j].sqrt()
            };
            let high = if hi[j].is_nan() { 1.0 } else { 1.0 - hi[j] };
            return Ok(Probability {
                estimate: 1.0 - s,
                std_error: se,
                interval: Interval::new(high.max(0.0), 1.0 - lo[j], confidence_level),
            });
        }
        let f = self.cif_event[j];
        let se = self.cif_variances(true)[j].sqrt();
        let (low, high) = incidence_limits(f, se, z, conf_type);
        Ok(Probability {
            estimate: f,
            std_error: se,
            interval: Interval::new(low, high, confidence_level),
        })
    }

    /// The pointwise band of the event's cumulative incidence `F_event` at every time:
    /// (standard error, lower, upper). The variance is the delta-method formula of
    /// [`KaplanMeier::incidence_quantile`]'s docs (lifelines' `AalenJohansenFitter`); the transform
    /// is applied to `F`: `log_log` is `θ = log(−log F)` with `se(θ) = se / (F |log F|)` (lifelines'
    /// `confidence_interval_`), `log` is `log F` with `se / F` (the upper limit cut at 1; the
    /// transform R `survfit` applies to a multi-state curve by default), `plain` is `F ± z·se` cut
    /// to [0, 1]. Where `F` is 0 (nothing yet) the band is [0, 0]; where it is 1, [1, 1].
    /// With weights the counts are summed weights (treated as frequencies, as lifelines' `weights=`).
    pub fn incidence_band(
        &self,
        confidence_level: f64,
        conf_type: ConfType,
    ) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
        let z = z_two_sided(confidence_level)?;
        let se: Vec<f64> = self
            .cif_variances(true)
            .into_iter()
            .map(f64::sqrt)
            .collect();
        let (lo, hi) = self
            .cif_event
            .iter()
            .zip(&se)
            .map(|(f, s)| incidence_limits(*f, *s, z, conf_type))
            .unzip();
        Ok((se, lo, hi))
    }

    /// The `p` quantile of the time to the **event** when some tickets end in the competing
    /// outcome: the first time at which the Aalen–Johansen cumulative incidence `F_event` reaches
    /// `p` (`inf{t: F_event(t) ≥ p}`; `convention` as for [`KaplanMeier::quantile`], on
    /// `1 − F_event`). `F_event` tends to the share of tickets that are ever answered, not to 1:
    /// when it stays below `p` the quantile is undefined (`estimate: None`, with the highest
    /// incidence reached in `max_incidence` and whether the curve ended — every ticket answered
    /// or closed — in `complete`). Without competing outcomes `F_event = 1 − S` and this is the
    /// Kaplan–Meier quantile.
    ///
    /// The interval inverts the pointwise band of `F_event` ([`KaplanMeier::incidence_band`], level
    /// `confidence_level`, transform `conf_type` applied to `F`), by the principle of
    /// Brookmeyer–Crowley: the set of times whose band covers `p`. Its lower limit is the first
    /// time the upper band reaches `p`, its upper limit the first time the lower band does; a limit
    /// the band never reaches within the data is `None` (unbounded above, or — for the lower limit —
    /// not even the upper band reaches `p`). The same `convention` applies to flat stretches of
    /// the band. R `survival`'s `quantile` of a multi-state `survfit` reads its limits from the
    /// pointwise limits of the curve in the same way (with its own variance, the infinitesimal
    /// jackknife, and `log` transform by default).
    pub fn incidence_quantile(
        &self,
        p: f64,
        confidence_level: f64,
        conf_type: ConfType,
        convention: Convention,
    ) -> Result<IncidenceQuantile> {
        if !(p > 0.0 && p < 1.0) {
            return Err(Error::invalid(
                "quantiles",
                format!("{p}; a quantile's probability lies strictly between 0 and 1, e.g. 0.5 for the median"),
            ));
        }
        check_level(confidence_level)?;
        let (_, lo, hi) = self.incidence_band(confidence_level, conf_type)?;
        let f = self.cif_event.last().copied().unwrap_or(0.0);
        let q = 1.0 - p;
        let complement = |v: &[f64]| v.iter().map(|x| 1.0 - x).collect::<Vec<f64>>();
        Ok(IncidenceQuantile {
            p,
            estimate: self.step_quantile(&complement(&self.cif_event), q, convention),
            low: self.step_quantile(&complement(&hi), q, convention),
            high: self.step_quantile(&complement(&lo), q, convention),
            confidence_level,
            conf_type,
            max_incidence: f,
            complete: self.survival.last().is_some_and(|s| *s <= 0.0),
            convention,
        })
    }

    /// Delta-method variance of the cumulative incidence at every time (Collett, *Modelling
    /// Survival Data in Medical Research*, 3rd ed., p. 411, as lifelines' `AalenJohansenFitter`):
    /// at `t = t_j`, `Σ_{i≤j} (F(t) − F(t_i))² D_i/(n_i(n_i − D_i)) + Σ S(t_{i−1})² d_ki (n_i −
    /// d_ki)/n_i³ − 2 Σ (F(t) − F(t_i)) S(t_{i−1}) d_ki / n_i²` (a first term with `n_i = D_i` is 0).
    ///
    /// In one pass, without expanding the squares (which cancels badly where `F` is large): with
    /// `δ = F(t_j) − F(t_{j−1})`, `A = Σ a_i`, `L = Σ a_i (F(t) − F(t_i))`, `Q = Σ a_i (F(t) −
    /// F(t_i))²` and `C`, `T` alike for the third term, `Q ← Q + 2δL + δ²A`, `L ← L + δA`, `T ← T +
    /// δC` before adding the terms of `t_j` (whose own differences are 0). Every update adds terms
    /// ≥ 0.
    fn cif_variances(&self, event: bool) -> Vec<f64> {
        let cif = if event {
            &self.cif_event
        } else {
            &self.cif_competing
        };
        let (mut a, mut l, mut q) = (0.0f64, 0.0f64, 0.0f64);
        let (mut c, mut t) = (0.0f64, 0.0f64);
        let mut second = 0.0f64;
        let mut s_before = 1.0;
        let mut f_prev = 0.0;
        let mut out = Vec::with_capacity(self.times.len());
        #[allow(clippy::needless_range_loop)] // six columns indexed alike
        for i in 0..self.times.len() {
            let delta = cif[i] - f_prev;
            q += 2.0 * delta * l + delta * delta * a;
            l += delta * a;
            t += delta * c;
            f_prev = cif[i];
            let n = self.at_risk[i];
            let dk = if event {
                self.events[i]
            } else {
                self.competing[i]
            };
            let d = self.events[i] + self.competing[i];
            if d > 0.0 && n > 0.0 {
                if n > d {
                    a += d / (n * (n - d));
                }
                second += s_before * s_before * dk * (n - dk) / (n * n * n);
                c += s_before * dk / (n * n);
            }
            s_before = self.survival[i];
            out.push((q + second - 2.0 * t).max(0.0));
        }
        out
    }

    /// The restricted mean waiting time `∫₀^τ S(t) dt` to the horizon `τ` (> 0), with its
    /// standard error.
    pub fn restricted_mean(&self, horizon: f64) -> Result<RestrictedMean> {
        if !(horizon.is_finite() && horizon > 0.0) {
            return Err(Error::invalid(
                "horizon",
                format!("{horizon}; the horizon of a restricted mean is a finite time > 0"),
            ));
        }
        // Steps of S up to the horizon: S = s_prev on [t_prev, t_j).
        let mut area = 0.0;
        let (mut t_prev, mut s_prev) = (0.0f64, 1.0f64);
        // Area from each event time to the horizon: accumulate backwards after a forward pass.
        let mut pieces: Vec<(f64, f64, f64)> = Vec::new(); // (area of the piece, D, n) per event time
        for j in 0..self.times.len() {
            let t = self.times[j];
            if t > horizon {
                break;
            }
            let piece = s_prev * (t - t_prev);
            area += piece;
            let d = self.events[j] + self.competing[j];
            pieces.push((piece, d, self.at_risk[j]));
            t_prev = t;
            s_prev = self.survival[j];
        }
        let tail = s_prev * (horizon - t_prev);
        area += tail;
        // A_j = ∫_{t_j}^τ S: the pieces after index j plus the tail.
        let mut var = 0.0;
        let mut after = tail;
        for &(piece, d, n) in pieces.iter().rev() {
            if d > 0.0 && after > 0.0 && n > d {
                var += after * after * d / (n * (n - d));
            }
            after += piece;
        }
        Ok(RestrictedMean {
            horizon,
            estimate: area,
            std_error: var.sqrt(),
        })
    }
}

/// The limits of a cumulative incidence `f` with standard error `se` at the normal quantile `z`,
/// under the transform `conf_type` applied to `f` (see [`KaplanMeier::incidence_band`]).
fn incidence_limits(f: f64, se: f64, z: f64, conf_type: ConfType) -> (f64, f64) {
    if f <= 0.0 || f >= 1.0 || se == 0.0 || !se.is_finite() {
        return (f, f);
    }
    match conf_type {
        ConfType::Plain => ((f - z * se).max(0.0), (f + z * se).min(1.0)),
        ConfType::Log => {
            let half = z * se / f;
            (f * (-half).exp(), (f * half.exp()).min(1.0))
        }
        ConfType::LogLog => {
            // θ = log(−log F), se(θ) = se / (F |log F|), F = exp(−exp(θ)): a larger θ is a smaller F.
            let theta = (-f.ln()).ln();
            let half = z * se / (f * f.ln().abs());
            ((-(theta + half).exp()).exp(), (-(theta - half).exp()).exp())
        }
    }
}

/// How the answered-only quantiles are computed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantileMethod {
    /// Hyndman–Fan type 7: linear interpolation between order statistics (numpy's and R's default).
    #[default]
    Type7,
    /// The smallest value with at least a share p of the values at or below it (weighted: of the
    /// weight).
    NearestRank,
}

impl std::str::FromStr for QuantileMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "type7" => Ok(Self::Type7),
            "nearest_rank" => Ok(Self::NearestRank),
            _ => Err(Error::invalid(
                "quantile_method",
                format!("{s:?}; use \"type7\" (numpy's default) or \"nearest_rank\""),
            )),
        }
    }
}

/// The figures of the answered tickets alone (what helpdesk reports show): how many, the mean,
/// the quantiles, and the share answered within a target.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnsweredSummary {
    /// Answered tickets.
    pub n: u64,
    /// Their (weighted) mean duration.
    pub mean: f64,
    /// `(p, quantile)` pairs.
    pub quantiles: Vec<(f64, f64)>,
    /// How the quantiles were computed.
    pub method: QuantileMethod,
    /// `(target, share)`: the (weighted) share of answered tickets answered within the target.
    pub within: Option<(f64, f64)>,
}

/// The answered-only figures of `durations` (checked: finite, ≥ 0), optionally weighted.
/// Type 7 quantiles need unweighted durations (a weighted type 7 has no standard definition);
/// nearest rank takes weights.
pub fn answered_summary(
    durations: &[f64],
    weights: Option<&[f64]>,
    quantiles: &[f64],
    method: QuantileMethod,
    target: Option<f64>,
) -> Result<AnsweredSummary> {
    let outcomes = vec![Outcome::Event; durations.len()];
    // The same checks as the event table's.
    EventTable::exact().table_of(Tickets::new(durations, &outcomes), weights)?;
    if let Some(p) = quantiles.iter().find(|p| !(**p >= 0.0 && **p <= 1.0)) {
        return Err(Error::invalid(
            "quantiles",
            format!("{p}; probabilities lie in [0, 1]"),
        ));
    }
    if weights.is_some() && method == QuantileMethod::Type7 {
        return Err(Error::invalid(
            "quantile_method",
            "\"type7\" (the default) with weights; type 7 interpolates between order statistics and has no weighted definition: pass quantile_method=\"nearest_rank\" (the smallest duration with at least a share p of the weight at or below it)",
        ));
    }
    let mut pairs: Vec<(f64, f64)> = durations
        .iter()
        .enumerate()
        .map(|(i, d)| (*d, weights.map_or(1.0, |w| w[i])))
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    if pairs.is_empty() {
        return Err(Error::Undefined(UndefinedReason::NoRows));
    }
    if total <= 0.0 {
        return Err(Error::Undefined(UndefinedReason::ZeroTotalWeight));
    }
    let mean = pairs.iter().map(|(d, w)| d * w).sum::<f64>() / total;
    let sorted: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let q = quantiles
        .iter()
        .map(|&p| {
            let v = match method {
                QuantileMethod::Type7 => quantile_sorted(&sorted, p),
                QuantileMethod::NearestRank => {
                    // Smallest x with cumulative weight ≥ p·total (rounding-safe for counts).
                    let need = p * total;
                    let mut cum = 0.0;
                    let mut v = sorted[sorted.len() - 1];
                    for (d, w) in &pairs {
                        cum += w;
                        if cum >= need * (1.0 - 1e-12) && *w > 0.0 {
                            v = *d;
                            break;
                        }
                    }
                    v
                }
            };
            (p, v)
        })
        .collect();
    let within = target.map(|t| {
        let w: f64 = pairs.iter().filter(|(d, _)| *d <= t).map(|p| p.1).sum();
        (t, w / total)
    });
    Ok(AnsweredSummary {
        n: durations.len() as u64,
        mean,
        quantiles: q,
        method,
        within,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(codes: &[u8]) -> Vec<Outcome> {
        codes
            .iter()
            .map(|c| Outcome::from_code(*c).unwrap())
            .collect()
    }

    fn km(durations: &[f64], codes: &[u8], weights: Option<&[f64]>) -> KaplanMeier {
        let mut t = EventTable::exact();
        t.fold_batch(Tickets::new(durations, &outcomes(codes)), weights)
            .unwrap();
        t.finish(&()).unwrap()
    }

    #[test]
    fn stored_curves_are_checked_as_they_are_read() {
        let k = km(&[1.0, 2.0, 2.5, 4.0, 5.0], &[1, 2, 0, 1, 0], None);
        let text = serde_json::to_string(&k).unwrap();
        let back: KaplanMeier = serde_json::from_str(&text).unwrap();
        assert_eq!(back, k);
        let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
        let tampered = |key: &str, value: serde_json::Value| {
            let mut v = stored.clone();
            v[key] = value;
            serde_json::from_value::<KaplanMeier>(v)
                .unwrap_err()
                .to_string()
        };
        let short = tampered("times", serde_json::json!([1.0, 2.0]));
        assert!(short.contains("has 5 entries for 2 times"), "{short}");
        let reversed = tampered("times", serde_json::json!([5.0, 4.0, 2.5, 2.0, 1.0]));
        assert!(
            reversed.contains("not finite and above the one before"),
            "{reversed}"
        );
        let negative = tampered("events", serde_json::json!([1.0, 0.0, -1.0, 1.0, 0.0]));
        assert!(negative.contains("events -1 at position 2"), "{negative}");
        let over = tampered("cif_event", serde_json::json!([0.2, 0.2, 0.2, 1.5, 1.5]));
        assert!(
            over.contains("cif_event 1.5 at position 3 is not a probability"),
            "{over}"
        );
    }

    #[test]
    fn textbook_example_is_exact_and_both_medians_are_named() {
        let k = km(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 1, 1, 0, 1, 1], None);
        assert_eq!(k.survival_at(3.0), 0.5);
        assert_eq!(k.survival_at(5.0), 0.25);
        let m = |c| k.quantile(0.5, 0.95, ConfType::LogLog, c).unwrap().estimate;
        assert_eq!(m(Convention::Smallest), Some(3.0));
        assert_eq!(m(Convention::Midpoint), Some(4.0));
        // S reaches 0 at 6: Greenwood's sum is infinite there, and survives a JSON round trip.
        assert_eq!(k.greenwood.last(), Some(&f64::INFINITY));
        let back: KaplanMeier = serde_json::from_str(&serde_json::to_string(&k).unwrap()).unwrap();
        assert_eq!(back, k);
        // Four uncensored times: S = .75, .5, .25, 0; medians 2 (textbook) and 2.5 (R).
        let k = km(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 1, 1], None);
        let m = |c| k.quantile(0.5, 0.95, ConfType::Log, c).unwrap().estimate;
        assert_eq!(
            (m(Convention::Smallest), m(Convention::Midpoint)),
            (Some(2.0), Some(2.5))
        );
    }

    #[test]
    fn greenwood_matches_a_hand_computation() {
        // 1..6, fourth open: Σ d/(n(n−d)) at t = 3 is 1/30 + 1/20 + 1/12 = 1/6.
        let k = km(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 1, 1, 0, 1, 1], None);
        assert!((k.greenwood[2] - 1.0 / 6.0).abs() < 1e-15);
        let se = k.std_error();
        assert!((se[2] - 0.5 * (1.0f64 / 6.0).sqrt()).abs() < 1e-15);
        // Plain band at 95 %: 0.5 ± 1.959964·0.204124.
        let (lo, hi) = k.band(0.95, ConfType::Plain).unwrap();
        assert!((lo[2] - (0.5 - 1.959963984540054 * se[2])).abs() < 1e-12);
        assert!((hi[2] - (0.5 + 1.959963984540054 * se[2])).abs() < 1e-12);
    }

    #[test]
    fn restricted_mean_matches_a_hand_computation() {
        // 1..6, fourth open, to τ = 6: 1 + 5/6 + 4/6 + 0.5·2 + 0.25 = 3.75.
        let k = km(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 1, 1, 0, 1, 1], None);
        let r = k.restricted_mean(6.0).unwrap();
        assert!((r.estimate - 3.75).abs() < 1e-14);
        // A at t=1: 3.75 − 1 = 2.75; t=2: 2.75 − 5/6; t=3: 2.75 − 5/6 − 4/6 = 1.25; t=5: 0.25.
        let a = [2.75, 2.75 - 5.0 / 6.0, 1.25, 0.25];
        let nd = [(6.0, 1.0), (5.0, 1.0), (4.0, 1.0), (2.0, 1.0)];
        let var: f64 = a
            .iter()
            .zip(nd)
            .map(|(a, (n, d))| a * a * d / (n * (n - d)))
            .sum();
        assert!((r.std_error - var.sqrt()).abs() < 1e-14);
    }

    #[test]
    fn competing_outcomes_split_one_minus_s() {
        let k = km(&[1.0, 2.0, 2.0, 3.0, 4.0, 5.0], &[1, 2, 1, 0, 2, 1], None);
        for j in 0..k.times.len() {
            assert!((k.cif_event[j] + k.cif_competing[j] - (1.0 - k.survival[j])).abs() < 1e-15);
        }
        // By hand: F_event(1) = 1/6; at 2, S(2−) = 5/6, n = 5: + 5/6·1/5 → 1/3.
        assert!((k.cif_event[1] - 1.0 / 3.0).abs() < 1e-15);
        let p = k.within(2.0, 0.95, ConfType::LogLog).unwrap();
        assert!((p.estimate - 1.0 / 3.0).abs() < 1e-15);
        assert!(p.interval.low < p.estimate && p.estimate < p.interval.high);
    }

    #[test]
    fn reply_quantiles_come_from_the_incidence_not_from_the_first_outcome() {
        let k = km(&[1.0, 2.0, 2.0, 3.0, 4.0, 5.0], &[1, 2, 1, 0, 2, 1], None);
        // By hand: F_event = 1/6, 1/3, 1/3, 1/3, then + S(4−)·1/1 = (1/4)·1 at 5 → 7/12; S(5) = 0.
        let first = k
            .quantile(0.5, 0.95, ConfType::LogLog, Convention::Smallest)
            .unwrap();
        assert_eq!(first.estimate, Some(2.0)); // S(2) = 1/2: the first outcome, reply or closure
        let reply = k
            .incidence_quantile(0.5, 0.95, ConfType::LogLog, Convention::Smallest)
            .unwrap();
        assert_eq!(reply.estimate, Some(5.0));
        assert!((reply.max_incidence - 7.0 / 12.0).abs() < 1e-15 && reply.complete);
        let never = k
            .incidence_quantile(0.6, 0.95, ConfType::LogLog, Convention::Smallest)
            .unwrap();
        assert_eq!(never.estimate, None); // 7/12 of the tickets are ever answered
        assert!(k
            .incidence_quantile(1.0, 0.95, ConfType::LogLog, Convention::Smallest)
            .is_err());
        // One ticket, closed unanswered: no reply quantile at all (not 30, the closure time).
        let closed = km(&[30.0], &[2], None);
        let q = closed
            .incidence_quantile(0.5, 0.95, ConfType::LogLog, Convention::Smallest)
            .unwrap();
        assert_eq!((q.estimate, q.max_incidence, q.complete), (None, 0.0, true));
        // Without competing outcomes F_event = 1 − S: the Kaplan–Meier quantiles, both conventions.
        let d = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.0, 8.0, 9.0, 12.0];
        let k = km(&d, &[1, 1, 1, 0, 1, 1, 0, 1, 1, 0], None);
        for p in [0.1, 0.25, 0.5, 0.6, 0.75, 0.9] {
            for c in [Convention::Smallest, Convention::Midpoint] {
                let a = k
                    .incidence_quantile(p, 0.95, ConfType::LogLog, c)
                    .unwrap()
                    .estimate;
                let b = k.quantile(p, 0.95, ConfType::LogLog, c).unwrap().estimate;
                assert_eq!(a, b, "p = {p}, {c:?}");
            }
        }
    }

    /// The delta-method variance of `F_event` at index `j`, term by term as written (Collett
    /// p. 411): the brute-force reference of the one-pass recurrence.
    fn cif_variance_direct(k: &KaplanMeier, j: usize) -> f64 {
        let ft = k.cif_event[j];
        let mut var = 0.0;
        let mut s_before = 1.0;
        for i in 0..=j {
            let (n, dk) = (k.at_risk[i], k.events[i]);
            let d = dk + k.competing[i];
            if d > 0.0 && n > 0.0 {
                let diff = ft - k.cif_event[i];
                if n > d {
                    var += diff * diff * d / (n * (n - d));
                }
                var += s_before * s_before * dk * (n - dk) / (n * n * n);
                var -= 2.0 * diff * s_before * dk / (n * n);
            }
            s_before = k.survival[i];
        }
        var.max(0.0)
    }

    #[test]
    fn the_one_pass_incidence_variance_equals_the_formula_term_by_term() {
        // 400 tickets, exact times with ties, a third closed unanswered, some open; and weighted.
        let n = 400;
        let d: Vec<f64> = (0..n)
            .map(|i| ((i * 37 % 101) as f64) / 4.0 + 0.5)
            .collect();
        let c: Vec<u8> = (0..n).map(|i| [1, 2, 1, 0, 1, 2][i % 6]).collect();
        let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 5) as f64).collect();
        for weights in [None, Some(&w[..])] {
            let k = km(&d, &c, weights);
            let v = k.cif_variances(true);
            for (j, got) in v.iter().enumerate() {
                let direct = cif_variance_direct(&k, j);
                // Relative 1e-10: the two orders of summation differ by rounding only.
                assert!(
                    (got - direct).abs() <= 1e-10 * direct.max(1e-12),
                    "j = {j}: {got} vs {direct}"
                );
            }
        }
    }

    #[test]
    fn the_reply_quantile_interval_inverts_the_band_of_the_incidence() {
        // F_event = 1/6, 1/3 (2), 1/3 (3), 1/3 (4), 7/12 (5): as in the test above.
        let k = km(&[1.0, 2.0, 2.0, 3.0, 4.0, 5.0], &[1, 2, 1, 0, 2, 1], None);
        let (se, lo, hi) = k.incidence_band(0.95, ConfType::LogLog).unwrap();
        // By hand at t = 1: F = 1/6, only the first row: term2 = 1·1·5/6³ = 5/216, term1 = term3 = 0.
        assert!((se[0] - (5.0f64 / 216.0).sqrt()).abs() < 1e-15);
        // The log(−log F) limits by hand at t = 1.
        let (f, z) = (1.0f64 / 6.0, 1.959_963_984_540_054);
        let theta = (-f.ln()).ln();
        let half = z * se[0] / (f * f.ln().abs());
        assert!((lo[0] - (-(theta + half).exp()).exp()).abs() < 1e-15);
        assert!((hi[0] - (-(theta - half).exp()).exp()).abs() < 1e-15);
        for conf_type in [ConfType::LogLog, ConfType::Log, ConfType::Plain] {
            let (_, lo, hi) = k.incidence_band(0.95, conf_type).unwrap();
            for p in [0.1, 0.2, 0.3, 0.5, 0.55, 0.9] {
                let q = k
                    .incidence_quantile(p, 0.95, conf_type, Convention::Smallest)
                    .unwrap();
                // The limits are the first times each band reaches p, read here by a plain scan.
                let first = |curve: &[f64]| {
                    (0..k.times.len())
                        .find(|j| curve[*j] >= p - FLAT_TOL)
                        .map(|j| k.times[j])
                };
                assert_eq!(q.low, first(&hi), "{conf_type:?} p = {p}");
                assert_eq!(q.high, first(&lo), "{conf_type:?} p = {p}");
                assert_eq!(q.estimate, first(&k.cif_event), "{conf_type:?} p = {p}");
                if let (Some(l), Some(e)) = (q.low, q.estimate) {
                    assert!(l <= e);
                }
                if let (Some(e), Some(h)) = (q.estimate, q.high) {
                    assert!(e <= h);
                }
            }
        }
        // P(reply within 2) is F(2) with the band at 2, under each transform.
        for conf_type in [ConfType::LogLog, ConfType::Log, ConfType::Plain] {
            let (se, lo, hi) = k.incidence_band(0.9, conf_type).unwrap();
            let w = k.within(2.5, 0.9, conf_type).unwrap();
            assert_eq!((w.estimate, w.std_error), (k.cif_event[1], se[1]));
            assert_eq!((w.interval.low, w.interval.high), (lo[1], hi[1]));
        }
        // Before the first reply F = 0 and its band is [0, 0]: no limit comes from there.
        let late = km(&[3.0, 5.0, 8.0, 9.0], &[2, 1, 0, 1], None);
        let (_, lo, hi) = late.incidence_band(0.95, ConfType::LogLog).unwrap();
        assert_eq!((lo[0], hi[0]), (0.0, 0.0));
        let q = late
            .incidence_quantile(0.2, 0.95, ConfType::Log, Convention::Smallest)
            .unwrap();
        assert_eq!(q.estimate, Some(5.0));
        assert!(q.low.unwrap() >= 5.0);
        assert!(late
            .incidence_quantile(0.5, 1.5, ConfType::Log, Convention::Smallest)
            .is_err());
    }

    #[test]
    fn merging_partitions_equals_one_pass_and_bad_rows_are_named() {
        let d = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let c = outcomes(&[1, 0, 2, 1, 1, 0, 1, 1]);
        let w = [1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 0.0, 3.0];
        let mut all = EventTable::exact();
        all.fold_batch(Tickets::new(&d, &c), Some(&w)).unwrap();
        let mut a = EventTable::exact();
        a.fold_batch(Tickets::new(&d[..3], &c[..3]), Some(&w[..3]))
            .unwrap();
        let mut b = EventTable::exact();
        b.fold_batch(Tickets::new(&d[3..], &c[3..]), Some(&w[3..]))
            .unwrap();
        b.merge(&a).unwrap();
        assert_eq!(b, all);
        assert_eq!(EventTable::from_bytes(&all.to_bytes()).unwrap(), all);
        assert_eq!(EventTable::from_json(&all.to_json()).unwrap(), all);
        let err = EventTable::exact()
            .fold_batch(Tickets::new(&[1.0, -2.0], &c[..2]), None)
            .unwrap_err();
        assert!(err.to_string().contains("position 1"), "{err}");
        let mut binned = EventTable::binned(60.0).unwrap();
        assert!(binned.merge(&all).is_err());
        binned
            .fold_batch(Tickets::new(&[0.0, 61.0, 120.0], &c[..3]), None)
            .unwrap();
        assert_eq!(binned.times(), &[0.0, 120.0]);
    }

    #[test]
    fn the_parallel_fold_equals_small_batches_and_names_the_first_bad_row() {
        // 300,000 rows: several chunks of the parallel fold, ties at every time, weights that sum
        // exactly; the same rows folded in batches of 1,000 (one chunk each) and merged.
        let n = 300_000;
        let d: Vec<f64> = (0..n).map(|i| ((i * 7919) % 997) as f64 / 10.0).collect();
        let c: Vec<u8> = (0..n).map(|i| ((i * 31) % 3) as u8).collect();
        let w: Vec<f64> = (0..n).map(|i| (i % 4) as f64 * 0.5).collect();
        let mut one = EventTable::exact();
        one.fold_codes(TicketCodes::new(&d, &c), Some(&w)).unwrap();
        let mut batches = EventTable::exact();
        for k in (0..n).step_by(1000) {
            let o = outcomes(&c[k..k + 1000]);
            batches
                .fold_batch(Tickets::new(&d[k..k + 1000], &o), Some(&w[k..k + 1000]))
                .unwrap();
        }
        assert_eq!(one, batches);
        assert_eq!(one.times().len(), 997);
        // The first bad row of the batch is named, whichever chunk meets it.
        let (mut bad_d, mut bad_c) = (d.clone(), c.clone());
        bad_d[250_000] = -1.0;
        bad_c[200_000] = 7;
        let err = EventTable::exact()
            .fold_codes(TicketCodes::new(&bad_d, &bad_c), None)
            .unwrap_err();
        assert!(
            err.to_string().contains("code 7 at position 200000"),
            "{err}"
        );
        bad_d[100_001] = f64::NAN;
        let err = EventTable::exact()
            .fold_codes(TicketCodes::new(&bad_d, &bad_c), None)
            .unwrap_err();
        assert!(err.to_string().contains("position 100001"), "{err}");
    }

    /// The product-limit curve by brute force, independent of the table: at each distinct exit
    /// time t, n = Σ w [entry < t ≤ exit] over the rows themselves (R survival's `(start, stop]`).
    fn brute_force(
        d: &[f64],
        c: &[u8],
        e: &[f64],
        w: &[f64],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut times: Vec<f64> = d.to_vec();
        times.sort_by(f64::total_cmp);
        times.dedup();
        let (mut at_risk, mut surv, mut gw) = (vec![], vec![], vec![]);
        let (mut s, mut g) = (1.0, 0.0);
        for &t in &times {
            let n: f64 = (0..d.len())
                .filter(|&i| e[i] < t && t <= d[i])
                .map(|i| w[i])
                .sum();
            let dd: f64 = (0..d.len())
                .filter(|&i| d[i] == t && c[i] != 0)
                .map(|i| w[i])
                .sum();
            if dd > 0.0 {
                s *= 1.0 - dd / n;
                g += if n > dd {
                    dd / (n * (n - dd))
                } else {
                    f64::INFINITY
                };
            }
            at_risk.push(n);
            surv.push(s);
            gw.push(g);
        }
        (times, at_risk, surv, gw)
    }

    fn km_entered(d: &[f64], c: &[u8], e: &[f64], w: Option<&[f64]>) -> KaplanMeier {
        let mut t = EventTable::exact();
        t.fold_codes(TicketCodes::new(d, c).with_entries(e), w)
            .unwrap();
        t.finish(&()).unwrap()
    }

    #[test]
    fn delayed_entry_matches_a_brute_force_risk_set() {
        // Ties among exits, among entries, and between entries and exits (an entry at 2 is not at
        // risk at the exits at 2: entry < t ≤ exit); weights and none. Tolerance 1e-14 relative.
        let d = [2.0, 2.0, 3.0, 5.0, 5.0, 6.0, 7.0, 9.0, 4.0, 8.0];
        let c = [1u8, 0, 1, 1, 2, 0, 1, 1, 1, 0];
        let e = [0.0, 1.0, 2.0, 2.0, 0.0, 4.0, 5.0, 2.0, 3.5, 7.0];
        let w = [1.0, 2.0, 0.5, 1.5, 1.0, 0.25, 3.0, 1.0, 2.0, 0.75];
        for weights in [None, Some(&w[..])] {
            let k = km_entered(&d, &c, &e, weights);
            let ones = [1.0; 10];
            let (times, n, s, g) = brute_force(&d, &c, &e, weights.unwrap_or(&ones));
            assert!(k.left_truncated() && k.n_entered == 10);
            // The curve has the exit times and the entry-only times (1, 3.5): compare at exits.
            for (j, t) in times.iter().enumerate() {
                let i = k.times.iter().position(|x| x == t).unwrap();
                let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-14 * b.abs().max(1.0);
                assert!(
                    close(k.at_risk[i], n[j]),
                    "n at {t}: {} vs {}",
                    k.at_risk[i],
                    n[j]
                );
                assert!(
                    close(k.survival[i], s[j]),
                    "S at {t}: {} vs {}",
                    k.survival[i],
                    s[j]
                );
                assert!(close(k.greenwood[i], g[j]), "Greenwood at {t}");
            }
            assert!(k.risk_set_gaps.is_empty());
        }
        // Entries at 0 (or no entries) give the curve without delayed entry.
        let plain = km(&d, &c.map(|x| if x == 2 { 1 } else { x }), None);
        let zero = km_entered(&d, &c.map(|x| if x == 2 { 1 } else { x }), &[0.0; 10], None);
        assert_eq!(plain.survival, zero.survival[1..]);
    }

    #[test]
    fn delayed_entry_merges_round_trips_and_names_bad_rows() {
        let d = [3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0, 6.0];
        let c = [1u8, 0, 2, 1, 1, 0, 1, 1];
        let e = [1.0, 0.0, 0.5, 1.0, 4.0, 2.0, 0.0, 3.0];
        let w = [1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 0.0, 3.0];
        let mut all = EventTable::exact();
        all.fold_codes(TicketCodes::new(&d, &c).with_entries(&e), Some(&w))
            .unwrap();
        let mut a = EventTable::exact();
        a.fold_codes(
            TicketCodes::new(&d[..3], &c[..3]).with_entries(&e[..3]),
            Some(&w[..3]),
        )
        .unwrap();
        let mut b = EventTable::exact();
        b.fold_codes(
            TicketCodes::new(&d[3..], &c[3..]).with_entries(&e[3..]),
            Some(&w[3..]),
        )
        .unwrap();
        // A table without entries merges with one that has them (its rows at risk from 0).
        let mut none = EventTable::exact();
        none.fold_codes(TicketCodes::new(&[7.0], &[1]), None)
            .unwrap();
        b.merge(&a).unwrap();
        assert_eq!(b, all);
        assert_eq!(all.n_entered(), 8);
        let bytes = all.to_bytes();
        assert_eq!(&bytes[6..8], &2u16.to_le_bytes());
        assert_eq!(EventTable::from_bytes(&bytes).unwrap(), all);
        assert_eq!(EventTable::from_json(&all.to_json()).unwrap(), all);
        let mut mixed = all.clone();
        mixed.merge(&none).unwrap();
        assert_eq!(mixed.n(), 9);
        assert_eq!(mixed.n_entered(), 8);
        let k = mixed.finish(&()).unwrap();
        // The row without an entry time is at risk from the start: alone at 0 (the entries at 0
        // join after it), with the rows entering at 0 and 0.5 at time 1.
        assert_eq!(k.times[..3], [0.0, 0.5, 1.0]);
        assert_eq!(k.at_risk[..3], [1.0, 1.0 + 2.0, 1.0 + 2.0 + 0.5]);
        // An entry column in a version-1 payload is refused, not misread.
        let mut v1 = bytes.clone();
        v1[6..8].copy_from_slice(&1u16.to_le_bytes());
        let err = EventTable::from_bytes(&v1).unwrap_err();
        assert!(err.to_string().contains("entry column"), "{err}");
        // A state whose rows end without having been at risk is refused.
        let bad = r#"{"bin_width":null,"times":[1.0,2.0],"rows":[[1,0,0],[1,0,0]],"weights":[[1.0,0.0,0.0],[1.0,0.0,0.0]],"entries":[0,2],"entry_weights":[0.0,2.0]}"#;
        let err = EventTable::from_json(bad).unwrap_err();
        assert!(err.to_string().contains("were at risk"), "{err}");
        for (entry, msg) in [
            (f64::NAN, "missing"),
            (-1.0, "negative"),
            (3.0, "equals its duration"),
            (3.5, "after its duration"),
            (f64::INFINITY, "not finite"),
        ] {
            let mut e2 = e;
            e2[0] = entry;
            let err = EventTable::exact()
                .fold_codes(TicketCodes::new(&d, &c).with_entries(&e2), None)
                .unwrap_err();
            let text = err.to_string();
            assert!(text.contains("position 0") && text.contains(msg), "{text}");
        }
        let err = EventTable::exact()
            .fold_codes(TicketCodes::new(&d, &c).with_entries(&e[..3]), None)
            .unwrap_err();
        assert!(err.to_string().contains("entry times"), "{err}");
        // Bins: entries are rounded down, exits up.
        let mut binned = EventTable::binned(10.0).unwrap();
        binned
            .fold_codes(
                TicketCodes::new(&[15.0, 25.0], &[1, 1]).with_entries(&[12.0, 14.0]),
                None,
            )
            .unwrap();
        assert_eq!(binned.times(), &[10.0, 20.0, 30.0]);
        assert_eq!(binned.entries(), &[2, 0, 0]);
    }

    #[test]
    fn an_emptied_risk_set_is_reported_and_the_curve_stays_at_zero() {
        // Rows (0, 1] and (0, 2] both end with the event: S(2) = 0, nobody at risk after 2; rows
        // entering at 3 and 4 exit later. The product-limit curve stays 0 (R survfit's), and the
        // gap is reported.
        let k = km_entered(
            &[1.0, 2.0, 5.0, 6.0],
            &[1, 1, 1, 0],
            &[0.0, 0.0, 3.0, 4.0],
            None,
        );
        assert_eq!(k.risk_set_gaps, vec![2.0]);
        let s_at = |t| k.survival_at(t);
        assert_eq!(
            (s_at(1.0), s_at(2.0), s_at(5.0), s_at(6.0)),
            (0.5, 0.0, 0.0, 0.0)
        );
        let j = k.times.iter().position(|t| *t == 5.0).unwrap();
        assert_eq!(k.at_risk[j], 2.0);
        // A gap after a censored row keeps S and multiplies on.
        let k = km_entered(
            &[1.0, 2.0, 5.0, 6.0],
            &[1, 0, 1, 1],
            &[0.0, 0.0, 3.0, 4.0],
            None,
        );
        assert_eq!(k.risk_set_gaps, vec![2.0]);
        assert_eq!((k.survival_at(2.0), k.survival_at(5.0)), (0.5, 0.25));
        assert!(k
            .quantile(0.5, 0.95, ConfType::LogLog, Convention::Smallest)
            .is_ok());
    }

    use proptest::prelude::*;

    proptest! {
        /// With entries, any split of the rows folded apart and merged (either order) equals one
        /// pass, bytes and JSON restore it, and the risk set at each exit time is the brute
        /// force's.
        #[test]
        fn entries_merge_like_one_pass(
            rows in proptest::collection::vec((0u8..12, 1u8..12, 0u8..3, 0u8..8, any::<bool>()), 1..300),
            split in 0usize..300,
        ) {
            // Exit = entry + gap (half units: ties among exits, entries, and between the two);
            // some rows without an entry time (a table of their own, merged in).
            let e: Vec<f64> = rows.iter().map(|r| f64::from(r.0) * 0.5).collect();
            let d: Vec<f64> = rows.iter().map(|r| f64::from(r.0 + r.1) * 0.5).collect();
            let c: Vec<u8> = rows.iter().map(|r| r.2).collect();
            // Dyadic weights: sums are exact whatever the order.
            let w: Vec<f64> = rows.iter().map(|r| f64::from(r.3) * 0.25).collect();
            let late: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].4).collect();
            let early: Vec<usize> = (0..rows.len()).filter(|&i| !rows[i].4).collect();
            let pick = |ix: &[usize], v: &[f64]| ix.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            let (ld, le, lw) = (pick(&late, &d), pick(&late, &e), pick(&late, &w));
            let lc: Vec<u8> = late.iter().map(|&i| c[i]).collect();
            let (ed, ew) = (pick(&early, &d), pick(&early, &w));
            let ec: Vec<u8> = early.iter().map(|&i| c[i]).collect();
            let mut whole = EventTable::exact();
            whole.fold_codes(TicketCodes::new(&ld, &lc).with_entries(&le), Some(&lw)).unwrap();
            whole.fold_codes(TicketCodes::new(&ed, &ec), Some(&ew)).unwrap();
            let s = split.min(ld.len());
            let mut a = EventTable::exact();
            a.fold_codes(TicketCodes::new(&ld[..s], &lc[..s]).with_entries(&le[..s]), Some(&lw[..s])).unwrap();
            let mut b = EventTable::exact();
            b.fold_codes(TicketCodes::new(&ld[s..], &lc[s..]).with_entries(&le[s..]), Some(&lw[s..])).unwrap();
            let mut c0 = EventTable::exact();
            c0.fold_codes(TicketCodes::new(&ed, &ec), Some(&ew)).unwrap();
            let mut ab = a.clone();
            ab.merge(&b).unwrap();
            ab.merge(&c0).unwrap();
            let mut ba = c0.clone();
            ba.merge(&b).unwrap();
            ba.merge(&a).unwrap();
            if whole.n_entered() == 0 {
                // No late row: entries merge in as an empty column or none at all.
                prop_assert_eq!(ab.times(), whole.times());
            } else {
                prop_assert_eq!(&ab, &whole);
                prop_assert_eq!(&ba, &whole);
            }
            prop_assert_eq!(&EventTable::from_bytes(&whole.to_bytes()).unwrap(), &whole);
            prop_assert_eq!(&EventTable::from_json(&whole.to_json()).unwrap(), &whole);
            if let Ok(k) = whole.finish(&()) {
                for (j, t) in k.times.iter().enumerate() {
                    let n: f64 = (0..rows.len())
                        .filter(|&i| (!rows[i].4 || e[i] < *t) && *t <= d[i])
                        .map(|i| w[i])
                        .sum();
                    if k.events[j] + k.competing[j] + k.censored[j] > 0.0 {
                        prop_assert_eq!(k.at_risk[j], n);
                    }
                }
            }
        }
    }

    #[test]
    fn answered_only_figures_match_the_fixture() {
        // ../shared/validation/operations_vectors.json, frt_minutes.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/validation/operations_vectors.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let f = &v["frt_minutes"];
        let x: Vec<f64> = f["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let s = answered_summary(&x, None, &[0.5, 0.9], QuantileMethod::Type7, Some(10.0)).unwrap();
        let tol = 1e-12;
        assert!((s.mean - f["mean"].as_f64().unwrap()).abs() < tol);
        assert!((s.quantiles[0].1 - f["median"].as_f64().unwrap()).abs() < tol);
        assert!((s.quantiles[1].1 - f["p90_type7"].as_f64().unwrap()).abs() < tol);
        assert!((s.within.unwrap().1 - f["sla_within_10"].as_f64().unwrap()).abs() < tol);
        let s = answered_summary(&x, None, &[0.9], QuantileMethod::NearestRank, None).unwrap();
        assert_eq!(s.quantiles[0].1, f["p90_nearest_rank"].as_f64().unwrap());
    }
}
