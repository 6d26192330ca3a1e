//! The funnel by passes over the rows in place, for the specs whose attempt is decided by minima
//! ([`FoldPath::Passes`](super::FoldPath::Passes)): ordered or any-order, closed entry, the first
//! attempt, repeats ignored (any order: step times non-decreasing).
//!
//! Each customer's events in sorted order are ranked by the key `(time, rank, row)` (`rank` 0 for
//! ties in input order; the role's place for ties in step order: steps, then exclusions, then
//! other events). The sorted fold's attempt of such a spec is then fixed by minima of that key:
//!
//! * pass 1 (every row, checked and counted): the first step-1 key `P₀` per customer, whether the
//!   customer has a kept row, rows earlier than the customer's previous kept row, the latest time;
//! * pass 2: the first exclusion `X` after `P₀` inside the window, and (ordered) the first step-2
//!   key after `P₀` inside the window (later than `P₀`'s time when step times are increasing), kept
//!   if before `X`; (any order) the first key of every other step after `P₀` inside the window;
//! * pass k + 1 (ordered): the first step-(k + 1) key after step k's, inside the window, before `X`.
//!
//! A customer's attempt reaches the steps found; it is complete when it reached the last, stopped
//! (competing outcome, at `X`) when not complete and `X` exists, else in its window at `as_of` or
//! timed out. Every count and the time-to-convert table follow.
//!
//! When the times never decrease down the rows (event logs are usually written so), the same
//! attempts come from a single pass instead ([`stream`]), each customer's attempt a small state
//! machine fed its rows in order, the customers split in one range per thread.
//!
//! The rows are never copied or sorted. Every pass splits the rows in contiguous chunks (one per
//! thread when each chunk holds at least [`ROWS_PER_CUSTOMER`] rows per customer, else one); each
//! chunk keeps its own copy of every customer's attempt with the first key it found, merged by the
//! minimum of `(time, row)` after the pass — the same whatever the split. Pass 1 touches, per row,
//! the time of the customer's last kept row, and the attempt only for the customer's first row of
//! the chunk and step-1 rows; a later pass reads the event column first and touches the attempt
//! only for rows of the events it looks for whose customer is at the level it extends. The hits
//! are applied by ranges of customers ([`Buckets`]). Extra memory, per customer: 1 byte (level)
//! and 32 per chunk (attempt), plus 8 per chunk in pass 1, 16 with exclusions (plus 16 per chunk
//! in pass 2), and for `any_order` 16 per step and chunk; the buffers of the ranges take 12 KiB per
//! 256 KiB of state (under 5 %) — `O(customers × steps × chunks)`, whatever the number of rows.

use rayon::prelude::*;

mod stream;

use super::{
    classify, FunnelSpec, OrderMode, Part, Row, RowValues, StepTimes, Ties, UnknownEvents,
    WindowEnd, EXCLUSION, MISSING, OTHER, PARALLEL_ROWS,
};
use crate::error::Result;
use crate::events::{key_of_int, to_ns, MISSING_TIME};
use crate::groups::TimeUnit;

/// No customer id, or no row.
const NONE: u32 = u32::MAX;
/// No key: after every row's.
const LAST: (i64, u32) = (i64::MAX, NONE);

/// The customer codes of the rows.
pub(super) trait Customers: Sync {
    /// The number of customer codes.
    fn n(&self) -> usize;
    /// The code of row `i` (`NONE`: no customer id).
    fn at(&self, i: usize) -> u32;
    /// The key of code `c`.
    fn key(&self, c: usize) -> u64;
}

/// Codes with their keys.
pub(super) struct Coded<'a> {
    pub codes: &'a [u32],
    pub n: usize,
    pub missing: Option<u32>,
    pub keys: &'a [u64],
}

impl Customers for Coded<'_> {
    fn n(&self) -> usize {
        self.n
    }
    #[inline]
    fn at(&self, i: usize) -> u32 {
        let c = self.codes[i];
        if Some(c) == self.missing {
            NONE
        } else {
            c
        }
    }
    fn key(&self, c: usize) -> u64 {
        self.keys[c]
    }
}

/// Dense integer ids, coded `id − min` as they are read.
pub(super) struct Dense<'a> {
    pub ids: &'a [i64],
    pub min: i64,
    pub span: usize,
}

impl Customers for Dense<'_> {
    fn n(&self) -> usize {
        self.span
    }
    #[inline]
    fn at(&self, i: usize) -> u32 {
        self.ids[i].wrapping_sub(self.min) as u32
    }
    fn key(&self, c: usize) -> u64 {
        key_of_int(self.min.wrapping_add(c as i64))
    }
}

/// The event-name codes of the rows as indices into the roles (the last index: a missing name).
pub(super) trait Events: Sync {
    fn at(&self, i: usize) -> usize;
}

/// `u32` codes (checked to be below the number of names).
pub(super) struct Unsigned<'a>(pub &'a [u32]);

impl Events for Unsigned<'_> {
    #[inline]
    fn at(&self, i: usize) -> usize {
        self.0[i] as usize
    }
}

/// Categorical codes (checked to be below the number of names; negative: missing).
pub(super) struct Signed<'a, T> {
    pub codes: &'a [T],
    pub missing: usize,
}

impl<T: Copy + Into<i64> + Sync> Events for Signed<'_, T> {
    #[inline]
    fn at(&self, i: usize) -> usize {
        let c: i64 = self.codes[i].into();
        if c < 0 {
            self.missing
        } else {
            c as usize
        }
    }
}

/// A customer's attempt, as one chunk of rows sees it: its start (the first step-1 key), the last
/// step reached and the chunk's first key of the step the pass looks for (one cache line holds
/// two). In pass 1, `cand` is the chunk's first step-1 key and `prev_t` the time of the customer's
/// first kept row in the chunk.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Chain {
    t0: i64,
    /// The key of the last step reached (any order, after the pass: the time the attempt ends).
    prev_t: i64,
    cand_t: i64,
    /// The first step-1 row until the attempt goes further.
    prev_row: u32,
    cand_row: u32,
}

/// A customer's attempt once folded: its start and the time of the last step reached.
trait Attempted: Sync {
    fn t0(&self) -> i64;
    fn end(&self) -> i64;
}

impl Attempted for Chain {
    fn t0(&self) -> i64 {
        self.t0
    }
    fn end(&self) -> i64 {
        self.prev_t
    }
}

const NO_CHAIN: Chain = Chain {
    t0: i64::MAX,
    prev_t: i64::MAX,
    cand_t: i64::MAX,
    prev_row: NONE,
    cand_row: NONE,
};

/// `level` of a customer without kept rows.
const UNSEEN: u8 = u8::MAX;

/// A row of one pass: its customer, role, time (ns) and row.
#[derive(Clone, Copy, Default)]
struct Hit {
    t: i64,
    c: u32,
    row: u32,
    role: u8,
}

/// Rows are read in blocks: the rows of a pass are first gathered (a sequential read), then
/// applied to the customers' states without branches (the states' cache misses overlap).
const BLOCK: usize = 4096;

/// The hits of a chunk of rows gathered by ranges of customers before they are applied: each range's
/// state (at most [`RANGE_BYTES`]) stays within a few pages while its hits are applied, so that
/// the random updates of the states are cache misses that overlap, not page-table walks. Each range
/// keeps its hits in row order; the buffers take a fixed memory whatever the number of rows.
struct Buckets {
    shift: u32,
    bufs: Vec<Vec<Hit>>,
}

/// The bytes of customer state one range of [`Buckets`] covers, and the hits it holds.
const RANGE_BYTES: usize = 1 << 18;
const BUCKET_HITS: usize = 512;

impl Buckets {
    /// Ranges of the `n_c` customers whose states take `bytes` each.
    fn new(n_c: usize, bytes: usize) -> Self {
        let per = (RANGE_BYTES / bytes.max(1)).max(1);
        let shift = usize::BITS - 1 - per.leading_zeros();
        let n_b = (n_c >> shift) + 1;
        Self {
            shift,
            bufs: (0..n_b).map(|_| Vec::with_capacity(BUCKET_HITS)).collect(),
        }
    }

    /// Add `hits` (customers below `n_c`), each full range given to `apply`.
    #[inline]
    fn add(&mut self, hits: &[Hit], apply: &mut impl FnMut(&[Hit])) {
        for h in hits {
            let buf = &mut self.bufs[(h.c >> self.shift) as usize];
            buf.push(*h);
            if buf.len() == BUCKET_HITS {
                apply(buf);
                buf.clear();
            }
        }
    }

    /// Give every range's remaining hits to `apply`.
    fn flush(&mut self, apply: &mut impl FnMut(&[Hit])) {
        for buf in &mut self.bufs {
            if !buf.is_empty() {
                apply(buf);
                buf.clear();
            }
        }
    }
}

/// Pass 1 over one chunk of rows: each customer's time of its last kept row in the chunk
/// (`i64::MIN`: none), its [`Chain`] (the chunk's first step-1 key and first kept time), the counts.
struct Scan {
    last: Vec<i64>,
    chain: Vec<Chain>,
    dropped: [u64; 4],
    reordered: u64,
    max_t: Option<i64>,
}

/// The rules the passes need, resolved once.
struct Rules<'s> {
    spec: &'s FunnelSpec,
    roles: &'s [u8],
    step_order: bool,
    increasing: bool,
    per: i64,
    /// The window's length (`i64::MAX`: none) and whether its end is in it.
    window: i64,
    inclusive: bool,
}

impl Rules<'_> {
    #[inline(always)]
    fn rank(&self, role: u8) -> u8 {
        if !self.step_order {
            0
        } else {
            match role {
                EXCLUSION => 200,
                OTHER => 201,
                step => step,
            }
        }
    }

    /// Whether `a` (of role `ra`) comes before `b` (of role `rb`) in the customer's sorted events.
    #[inline(always)]
    fn before(&self, a: (i64, u32), ra: u8, b: (i64, u32), rb: u8) -> bool {
        let (ra, rb) = (self.rank(ra), self.rank(rb));
        (a.0 < b.0) | ((a.0 == b.0) & ((ra < rb) | ((ra == rb) & (a.1 < b.1))))
    }

    #[inline(always)]
    fn in_window(&self, t: i64, t0: i64) -> bool {
        let d = t.saturating_sub(t0);
        if self.inclusive {
            d <= self.window
        } else {
            d < self.window
        }
    }
}

/// The checks of a row, resolved once: rows that need none (a customer, a step or kept event, a
/// time in range) are kept as they are; the rest go through [`classify`] (dropped and counted, or an
/// error naming the row).
struct RowCheck<'a> {
    spec: &'a FunnelSpec,
    roles: &'a [u8],
    names: &'a [Option<String>],
    unit: TimeUnit,
    per: i64,
    keep_other: bool,
    lo_raw: i64,
    hi_raw: i64,
}

impl<'a> RowCheck<'a> {
    fn new(rules: &Rules<'a>, names: &'a [Option<String>], unit: TimeUnit) -> Self {
        let (spec, per) = (rules.spec, rules.per);
        Self {
            spec,
            roles: rules.roles,
            names,
            unit,
            per,
            keep_other: spec.unknown_events == UnknownEvents::Keep,
            lo_raw: (i64::MIN / per).max(MISSING_TIME + 1),
            hi_raw: spec.as_of_ns.map_or(i64::MAX / per, |a| a.div_euclid(per)),
        }
    }

    /// What becomes of row `i` of customer code `c`, event index `e` and raw time `raw`.
    #[inline(always)]
    fn check(&self, i: usize, c: u32, e: usize, raw: i64) -> Result<Row> {
        let role = self.roles[e];
        let fast = c != NONE
            && role != MISSING
            && (role != OTHER || self.keep_other)
            && raw >= self.lo_raw
            && raw <= self.hi_raw;
        if fast {
            return Ok(Row::Keep(raw * self.per, role));
        }
        let row = RowValues {
            no_customer: c == NONE,
            time: raw,
            role,
        };
        let names = self.names;
        let name = || names.get(e).and_then(|x| x.clone()).unwrap_or_default();
        classify(self.spec, i, row, self.unit, name)
    }
}

/// The earlier of two keys of the same role.
#[inline(always)]
fn min_key(a: (i64, u32), b: (i64, u32)) -> (i64, u32) {
    if b < a {
        b
    } else {
        a
    }
}

/// A chunk of rows of its own (with its copy of every customer's state, merged after each pass)
/// only for at least this many rows per customer: below, the merges cost more than the thread
/// saves.
const ROWS_PER_CUSTOMER: usize = 8;

/// Contiguous row chunks of `n` rows of `n_c` customers: `n_chunks`, or (0) one per thread as long
/// as each holds [`ROWS_PER_CUSTOMER`] rows per customer, else one.
fn row_chunks(n: usize, n_c: usize, n_chunks: usize) -> Vec<(usize, usize)> {
    let t = match n_chunks {
        0 if n < PARALLEL_ROWS => 1,
        0 => rayon::current_num_threads()
            .min(n / (ROWS_PER_CUSTOMER * n_c.max(1)))
            .max(1),
        t => t,
    };
    (0..t).map(|j| (j * n / t, (j + 1) * n / t)).collect()
}

/// Customers in blocks for the steps over all customers (run in parallel).
const CUSTOMER_BLOCK: usize = 1 << 14;

/// Each of `arrays` (one per chunk of rows) cut in blocks of `CUSTOMER_BLOCK` customers: for every
/// block, its slice of every array (so that the blocks can be merged in parallel).
fn by_block<T>(arrays: &mut [Vec<T>], n_c: usize) -> Vec<Vec<&mut [T]>> {
    let mut blocks: Vec<Vec<&mut [T]>> = (0..n_c.div_ceil(CUSTOMER_BLOCK))
        .map(|_| Vec::with_capacity(arrays.len()))
        .collect();
    for a in arrays.iter_mut() {
        for (b, s) in a.chunks_mut(CUSTOMER_BLOCK).enumerate() {
            blocks[b].push(s);
        }
    }
    blocks
}

/// How the rows are shared among threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Split {
    /// One pass when the rows are in time order (the customers in one range per thread), else
    /// passes (one chunk of rows per thread, see [`row_chunks`]).
    Auto,
    /// Passes over this many contiguous chunks of rows, each with its own per-customer minima,
    /// merged after each pass.
    #[cfg_attr(not(test), allow(dead_code))]
    Chunks(usize),
    /// One pass with the customers in this many ranges: the rows must be in time order
    /// ([`stream::time_ordered`]).
    #[cfg_attr(not(test), allow(dead_code))]
    Ranges(usize),
}

/// The funnel of every row, by passes or (rows in time order) one pass: the partial result
/// (customers in code order) and the end of the data (`None` without kept rows or `as_of`).
/// `roles[e]`: the role of event index `e` (the last index: a missing name). Codes must have been
/// checked to be in range, the row count to be below 2³² − 1.
#[allow(clippy::too_many_arguments)]
pub(super) fn fold<C: Customers, E: Events>(
    spec: &FunnelSpec,
    customers: &C,
    events: &E,
    roles: &[u8],
    names: &[Option<String>],
    times: &[i64],
    unit: TimeUnit,
    split: Split,
) -> Result<(Part, Option<i64>)> {
    let n = times.len();
    let n_c = customers.n();
    let k = spec.steps.len();
    let per = to_ns(1, unit).unwrap_or(1);
    let rules = Rules {
        spec,
        roles,
        step_order: spec.ties == Ties::StepOrder,
        increasing: spec.step_times == StepTimes::Increasing,
        per,
        window: spec.window_ns.unwrap_or(i64::MAX),
        inclusive: spec.window_ns.is_none() || spec.window_end == WindowEnd::Inclusive,
    };
    let ranges = match split {
        Split::Ranges(r) => Some(r),
        Split::Auto if stream::time_ordered(times) => Some(0),
        _ => None,
    };
    if let Some(ranges) = ranges {
        let s = stream::stream(&rules, customers, events, names, times, unit, ranges)?;
        let mut totals = Part::new(k);
        totals.dropped = s.dropped;
        let as_of = spec.as_of_ns.or(s.max_t);
        let part = finish_all(
            &rules, customers, &s.level, &s.span, &s.excl, as_of, totals, n,
        )?;
        return Ok((part, as_of));
    }
    let n_chunks = match split {
        Split::Chunks(c) => c,
        _ => 0,
    };
    let chunks = row_chunks(n, n_c, n_chunks);
    // Pass 1, the chunks in parallel: every row checked (the first bad row of the first
    // chunk that has one is the first of all), dropped rows counted, each customer's first and
    // last kept time and first step-1 key.
    let scans: Vec<Result<Scan>> = chunks
        .par_iter()
        .map(|&(a, b)| first_pass(&rules, customers, events, names, times, unit, n_c, a, b))
        .collect();
    let scans = scans.into_iter().collect::<Result<Vec<Scan>>>()?;
    let max_t = scans.iter().filter_map(|s| s.max_t).max();
    let as_of = spec.as_of_ns.or(max_t);
    let mut totals = Part::new(k);
    let (mut lasts, mut chains): (Vec<Vec<i64>>, Vec<Vec<Chain>>) = scans
        .into_iter()
        .map(|s| {
            for (d, x) in totals.dropped.iter_mut().zip(&s.dropped) {
                *d += x;
            }
            totals.reordered += s.reordered;
            (s.last, s.chain)
        })
        .unzip();
    // Merged: rows earlier than the customer's previous kept row across chunks, each customer's
    // level (`UNSEEN`, 0 without a step-1 event, else 1) and attempt (in every chunk's copy).
    let mut level = vec![UNSEEN; n_c];
    let blocks: Vec<_> = by_block(&mut lasts, n_c)
        .into_iter()
        .zip(by_block(&mut chains, n_c))
        .zip(level.chunks_mut(CUSTOMER_BLOCK))
        .collect();
    let reordered: u64 = blocks
        .into_par_iter()
        .map(|((lasts, mut chains), level)| {
            let mut reordered = 0u64;
            for (j, l) in level.iter_mut().enumerate() {
                let mut last = i64::MIN;
                let mut first = LAST;
                for (ls, ch) in lasts.iter().zip(chains.iter()) {
                    let x = &ch[j];
                    if ls[j] != i64::MIN {
                        reordered += u64::from(last != i64::MIN && x.prev_t < last);
                        last = ls[j];
                    }
                    first = min_key(first, (x.cand_t, x.cand_row));
                }
                if last != i64::MIN {
                    *l = u8::from(first.1 != NONE);
                }
                for ch in chains.iter_mut() {
                    ch[j] = Chain {
                        t0: first.0,
                        prev_t: first.0,
                        prev_row: first.1,
                        ..NO_CHAIN
                    };
                }
            }
            reordered
        })
        .sum();
    totals.reordered += reordered;
    drop(lasts);
    let has_exclusions = roles.contains(&EXCLUSION);
    let mut excl = if has_exclusions || spec.order == OrderMode::AnyOrder {
        vec![LAST; n_c]
    } else {
        Vec::new()
    };
    let passes = Passes {
        rules: &rules,
        customers,
        events,
        times,
        chunks: &chunks,
    };
    match spec.order {
        OrderMode::AnyOrder => passes.any_order(&mut level, &mut chains, &mut excl),
        _ => passes.ordered(&mut level, &mut chains, &mut excl),
    }
    let chain = chains.swap_remove(0);
    drop(chains);
    let part = finish_all(&rules, customers, &level, &chain, &excl, as_of, totals, n)?;
    Ok((part, as_of))
}

/// `totals` with the counts, time-to-convert units and keys of every customer (in code order)
/// added, and the `n` rows.
#[allow(clippy::too_many_arguments)]
fn finish_all<C: Customers, A: Attempted>(
    rules: &Rules<'_>,
    customers: &C,
    level: &[u8],
    chain: &[A],
    excl: &[(i64, u32)],
    as_of: Option<i64>,
    mut totals: Part,
    n: usize,
) -> Result<Part> {
    let as_of_v = as_of.unwrap_or(0);
    let parts: Vec<Part> = level
        .par_chunks(CUSTOMER_BLOCK)
        .enumerate()
        .map(|(b, lv)| {
            let lo = b * CUSTOMER_BLOCK;
            let ch = &chain[lo..lo + lv.len()];
            let ex = excl.get(lo..lo + lv.len()).unwrap_or(&[]);
            finish(rules, customers, lo, lv, ch, ex, as_of_v)
        })
        .collect();
    // One allocation for every customer's entries (growing by doubling costs more than the
    // counting).
    let customers: usize = parts.iter().map(|p| p.keys.len()).sum();
    totals.keys.reserve(customers);
    let units: usize = parts.iter().map(|p| p.codes.len()).sum();
    totals.codes.reserve(units);
    totals.durations.reserve(units);
    for p in parts {
        totals.absorb(p)?;
    }
    totals.rows = n as u64;
    Ok(totals)
}

/// Pass 1 over the rows `a..b`: every row checked, dropped rows counted, each customer's first and
/// last kept time, first step-1 key, the rows earlier than the customer's previous kept row.
#[allow(clippy::too_many_arguments)]
fn first_pass<C: Customers, E: Events>(
    rules: &Rules<'_>,
    customers: &C,
    events: &E,
    names: &[Option<String>],
    times: &[i64],
    unit: TimeUnit,
    n_c: usize,
    a: usize,
    b: usize,
) -> Result<Scan> {
    let check = RowCheck::new(rules, names, unit);
    let mut last = vec![i64::MIN; n_c];
    let mut chain = vec![NO_CHAIN; n_c];
    let (mut dropped, mut reordered) = ([0u64; 4], 0u64);
    let mut max_t = i64::MIN;
    let mut hits = vec![Hit::default(); BLOCK];
    let mut buckets = Buckets::new(n_c, 8 + std::mem::size_of::<Chain>() / 2);
    let mut apply = |hits: &[Hit]| {
        for h in hits {
            let c = h.c as usize;
            let l = &mut last[c];
            reordered += u64::from(h.t < *l);
            let new = *l == i64::MIN;
            *l = h.t;
            if new | (h.role == 0) {
                let s = &mut chain[c];
                s.prev_t = if new { h.t } else { s.prev_t };
                let better = (h.role == 0) & ((h.t, h.row) < (s.cand_t, s.cand_row));
                (s.cand_t, s.cand_row) = if better {
                    (h.t, h.row)
                } else {
                    (s.cand_t, s.cand_row)
                };
            }
        }
    };
    let mut start = a;
    while start < b {
        let end = (start + BLOCK).min(b);
        let mut m = 0;
        for (j, &raw) in times[start..end].iter().enumerate() {
            let i = start + j;
            let c = customers.at(i);
            let (t, role) = match check.check(i, c, events.at(i), raw)? {
                Row::Keep(t, role) => (t, role),
                Row::Drop(d) => {
                    dropped[d] += 1;
                    continue;
                }
            };
            max_t = max_t.max(t);
            hits[m] = Hit {
                t,
                c,
                row: i as u32,
                role,
            };
            m += 1;
        }
        buckets.add(&hits[..m], &mut apply);
        start = end;
    }
    buckets.flush(&mut apply);
    Ok(Scan {
        last,
        chain,
        dropped,
        reordered,
        max_t: (max_t > i64::MIN).then_some(max_t),
    })
}

/// The later passes' view of the rows.
struct Passes<'r, 's, C, E> {
    rules: &'r Rules<'s>,
    customers: &'r C,
    events: &'r E,
    times: &'r [i64],
    chunks: &'r [(usize, usize)],
}

impl<C: Customers, E: Events> Passes<'_, '_, C, E> {
    /// The rows `a..b` whose event index `select`s, with a customer at a level that `at_level`
    /// accepts (the missing time excluded), given to `apply` by ranges of customers whose states
    /// take `bytes` each ([`Buckets`]). The event column is read first; the customer, time and
    /// level only of the rows it selects.
    fn for_hits(
        &self,
        (a, b): (usize, usize),
        select: &[bool],
        level: &[u8],
        at_level: impl Fn(u8) -> bool,
        bytes: usize,
        mut apply: impl FnMut(&[Hit]),
    ) {
        let mut buckets = Buckets::new(level.len(), bytes);
        let mut picked = vec![0u32; BLOCK];
        let mut hits = vec![Hit::default(); BLOCK];
        let mut start = a;
        while start < b {
            let end = (start + BLOCK).min(b);
            let mut m = 0;
            for i in start..end {
                picked[m] = i as u32;
                m += usize::from(select[self.events.at(i)]);
            }
            let mut h = 0;
            for &i in &picked[..m] {
                let i = i as usize;
                let raw = self.times[i];
                let c = self.customers.at(i);
                let ok = raw != MISSING_TIME && level.get(c as usize).is_some_and(|l| at_level(*l));
                hits[h] = Hit {
                    t: raw.wrapping_mul(self.rules.per),
                    c,
                    row: i as u32,
                    role: self.rules.roles[self.events.at(i)],
                };
                h += usize::from(ok);
            }
            buckets.add(&hits[..h], &mut apply);
            start = end;
        }
        buckets.flush(&mut apply);
    }

    /// Ordered: one pass per step after the first (the first of them also finds the exclusions),
    /// each chunk of rows with its own copy of the attempts holding its first keys, merged after the
    /// pass.
    fn ordered(&self, level: &mut [u8], chains: &mut [Vec<Chain>], excl: &mut [(i64, u32)]) {
        let rules = self.rules;
        let k = rules.spec.steps.len();
        let n_c = level.len();
        let with_x = !excl.is_empty();
        let n_chunks = self.chunks.len();
        for step in 1..k {
            let step_r = step as u8;
            let x_pass = step == 1 && with_x;
            if !level.contains(&step_r) {
                break;
            }
            let select: Vec<bool> = rules
                .roles
                .iter()
                .map(|&role| role == step_r || (x_pass && role == EXCLUSION))
                .collect();
            let mut xs: Vec<Vec<(i64, u32)>> = (0..n_chunks)
                .map(|_| if x_pass { vec![LAST; n_c] } else { Vec::new() })
                .collect();
            let lv = &*level;
            let bytes = std::mem::size_of::<Chain>() + if x_pass { 16 } else { 0 };
            self.chunks
                .par_iter()
                .zip(chains.par_iter_mut())
                .zip(xs.par_iter_mut())
                .for_each(|((&rows, ch), x)| {
                    self.for_hits(
                        rows,
                        &select,
                        lv,
                        |l| l == step_r,
                        bytes,
                        |hits| {
                            for h in hits {
                                let c = h.c as usize;
                                let key = (h.t, h.row);
                                let s = &mut ch[c];
                                let prev = (s.prev_t, s.prev_row);
                                let ok = rules.in_window(h.t, s.t0);
                                if h.role == EXCLUSION {
                                    // In this pass the last step reached is the start.
                                    let x = &mut x[c];
                                    let better =
                                        ok & rules.before(prev, 0, key, EXCLUSION) & (key < *x);
                                    *x = if better { key } else { *x };
                                    continue;
                                }
                                let cand = (s.cand_t, s.cand_row);
                                let better = ok
                                    & (!rules.increasing | (h.t > s.prev_t))
                                    & rules.before(prev, step_r - 1, key, step_r)
                                    & (key < cand);
                                (s.cand_t, s.cand_row) = if better { key } else { cand };
                            }
                        },
                    );
                });
            // Merged: a step found before the first exclusion is reached; every copy of the
            // attempt updated, its candidate reset for the next pass.
            let mut x_blocks = if x_pass {
                by_block(&mut xs, n_c)
            } else {
                Vec::new()
            }
            .into_iter();
            let mut ex_blocks = excl.chunks_mut(CUSTOMER_BLOCK);
            let blocks: Vec<_> = by_block(chains, n_c)
                .into_iter()
                .zip(level.chunks_mut(CUSTOMER_BLOCK))
                .map(|(ch, lv)| (ch, x_blocks.next(), ex_blocks.next(), lv))
                .collect();
            blocks
                .into_par_iter()
                .for_each(|(mut ch, x_parts, mut ex, lv)| {
                    for (j, l) in lv.iter_mut().enumerate() {
                        if *l != step_r {
                            continue;
                        }
                        let mut x = ex.as_ref().map_or(LAST, |e| e[j]);
                        if let (Some(parts), Some(e)) = (&x_parts, &mut ex) {
                            for p in parts {
                                x = min_key(x, p[j]);
                            }
                            e[j] = x;
                        }
                        let mut best = LAST;
                        for p in ch.iter() {
                            best = min_key(best, (p[j].cand_t, p[j].cand_row));
                        }
                        let reached = best.1 != NONE && rules.before(best, step_r, x, EXCLUSION);
                        *l += u8::from(reached);
                        for p in ch.iter_mut() {
                            let s = &mut p[j];
                            if reached {
                                (s.prev_t, s.prev_row) = best;
                            }
                            (s.cand_t, s.cand_row) = LAST;
                        }
                    }
                });
        }
    }

    /// Any order: one pass for the first key of every step and exclusion after the start, each
    /// chunk of rows with its own first keys, merged after the pass into the first copy of the
    /// attempts.
    fn any_order(&self, level: &mut [u8], chains: &mut [Vec<Chain>], excl: &mut [(i64, u32)]) {
        let rules = self.rules;
        let k = rules.spec.steps.len();
        if k < 2 {
            return;
        }
        let w = k - 1;
        let n_c = level.len();
        let select: Vec<bool> = rules
            .roles
            .iter()
            .map(|&role| (role != 0 && (role as usize) < k) || role == EXCLUSION)
            .collect();
        let entered = |l: u8| l >= 1 && l != UNSEEN;
        let chain = &mut chains[0];
        // Per chunk: each customer's first exclusion and first key of every step after the start.
        type Keys = Vec<(i64, u32)>;
        let found: Vec<(Keys, Keys)> = self
            .chunks
            .par_iter()
            .map(|&rows| {
                let mut x = vec![LAST; n_c];
                let mut firsts = vec![LAST; n_c * w];
                let (lv, ch) = (&*level, &*chain);
                let bytes = std::mem::size_of::<Chain>() + (w + 1) * 16;
                self.for_hits(rows, &select, lv, entered, bytes, |hits| {
                    for h in hits {
                        let key = (h.t, h.row);
                        let c = h.c as usize;
                        let s = &ch[c];
                        let ok = rules.in_window(h.t, s.t0)
                            & rules.before((s.t0, s.prev_row), 0, key, h.role);
                        let f = if h.role == EXCLUSION {
                            &mut x[c]
                        } else {
                            &mut firsts[c * w + h.role as usize - 1]
                        };
                        let better = ok & (key < *f);
                        *f = if better { key } else { *f };
                    }
                });
                (x, firsts)
            })
            .collect();
        let (mut xs, mut fs): (Vec<_>, Vec<_>) = found.into_iter().unzip();
        let x_blocks = by_block(&mut xs, n_c);
        let f_blocks = by_block_of(&mut fs, n_c, w);
        x_blocks
            .into_par_iter()
            .zip(f_blocks)
            .zip(level.par_chunks_mut(CUSTOMER_BLOCK))
            .zip(chain.par_chunks_mut(CUSTOMER_BLOCK))
            .zip(excl.par_chunks_mut(CUSTOMER_BLOCK))
            .for_each(|((((xp, fp), lv), ch), ex)| {
                for (j, ((l, s), x)) in lv.iter_mut().zip(ch.iter_mut()).zip(ex).enumerate() {
                    if !entered(*l) {
                        continue;
                    }
                    for p in &xp {
                        *x = min_key(*x, p[j]);
                    }
                    // The attempt ends at the latest of the steps' first keys (when it
                    // completes).
                    for step in 0..w {
                        let mut f = LAST;
                        for p in &fp {
                            f = min_key(f, p[j * w + step]);
                        }
                        if f.1 != NONE && rules.before(f, step as u8 + 1, *x, EXCLUSION) {
                            *l += 1;
                            s.prev_t = s.prev_t.max(f.0);
                        }
                    }
                }
            });
    }
}

/// As [`by_block`], for arrays of `w` entries per customer.
fn by_block_of<T>(arrays: &mut [Vec<T>], n_c: usize, w: usize) -> Vec<Vec<&mut [T]>> {
    let mut blocks: Vec<Vec<&mut [T]>> = (0..n_c.div_ceil(CUSTOMER_BLOCK))
        .map(|_| Vec::with_capacity(arrays.len()))
        .collect();
    for a in arrays.iter_mut() {
        for (b, s) in a.chunks_mut(CUSTOMER_BLOCK * w).enumerate() {
            blocks[b].push(s);
        }
    }
    blocks
}

/// The counts, time-to-convert units and keys of the customers `lo..`, in code order.
fn finish<C: Customers, A: Attempted>(
    rules: &Rules<'_>,
    customers: &C,
    lo: usize,
    level: &[u8],
    chain: &[A],
    excl: &[(i64, u32)],
    as_of: i64,
) -> Part {
    let spec = rules.spec;
    let k = spec.steps.len();
    let mut p = Part::new(k);
    for (j, (s, &level)) in chain.iter().zip(level).enumerate() {
        if level == UNSEEN {
            continue;
        }
        p.customers += 1;
        p.keys.push(customers.key(lo + j));
        if level == 0 {
            continue;
        }
        p.attempts_n += 1;
        for c in [&mut p.attempts, &mut p.uniques] {
            for j in 0..level as usize {
                c.reached[j] += 1;
                c.from_previous[j] += 1;
                c.from_first[j] += 1;
            }
        }
        let start = s.t0();
        let x = excl.get(j).copied().unwrap_or(LAST);
        let (code, d, slot) = if level as usize == k {
            (1u8, s.end() - start, 0)
        } else if x.1 != NONE {
            (2, x.0 - start, 1)
        } else if spec.in_window(as_of - start) {
            // Still inside its window: in the drop-off before the step after its last, which it
            // may yet reach (one attempt per customer: the customer's too).
            p.pending[0][level as usize] += 1;
            p.pending[1][level as usize] += 1;
            (0, as_of - start, 2)
        } else {
            (0, spec.window_ns.unwrap_or(as_of - start), 3)
        };
        p.outcomes[slot] += 1;
        p.durations.push(d as f64 / 1e9);
        p.codes.push(code);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::{stream, Split};
    use crate::events::key_of_int;
    use proptest::prelude::*;

    const NAMES: [&str; 7] = ["A", "B", "C", "D", "X", "Y", "other"];

    /// A random log: (customer or missing, event name index or missing, time in s or missing).
    type RawRow = (Option<u32>, Option<usize>, Option<i64>);

    struct Log {
        customers: Vec<u32>,
        missing: Option<u32>,
        keys: Vec<u64>,
        events: Vec<u32>,
        names: Vec<Option<String>>,
        times: Vec<i64>,
    }

    impl Log {
        fn new(rows: &[RawRow], n_c: u32) -> Self {
            // Code `n_c` is the missing customer; the last name code is the missing name.
            let mut names: Vec<Option<String>> =
                NAMES.iter().map(|s| Some(s.to_string())).collect();
            names.push(None);
            Self {
                customers: rows.iter().map(|r| r.0.unwrap_or(n_c)).collect(),
                missing: Some(n_c),
                keys: (0..=n_c).map(|c| key_of_int(i64::from(c))).collect(),
                events: rows
                    .iter()
                    .map(|r| r.1.unwrap_or(NAMES.len()) as u32)
                    .collect(),
                names,
                times: rows.iter().map(|r| r.2.unwrap_or(MISSING_TIME)).collect(),
            }
        }

        fn log(&self) -> EventLog<'_> {
            EventLog {
                customers: &self.customers,
                n_customers: self.keys.len(),
                missing_customer: self.missing,
                customer_keys: &self.keys,
                events: &self.events,
                event_names: &self.names,
                times: &self.times,
                unit: TimeUnit::S,
            }
        }
    }

    /// The sorted (general) fold, whatever the spec.
    fn sorted(spec: &FunnelSpec, log: EventLog<'_>) -> Result<FunnelTally> {
        let mut t = FunnelTally::new(spec.clone())?;
        t.fold_sorted(log)?;
        Ok(t)
    }

    fn by_passes(spec: &FunnelSpec, log: EventLog<'_>, chunks: usize) -> Result<FunnelTally> {
        by_split(spec, log, Split::Chunks(chunks))
    }

    fn by_split(spec: &FunnelSpec, log: EventLog<'_>, split: Split) -> Result<FunnelTally> {
        let mut t = FunnelTally::new(spec.clone())?;
        t.fold_log_passes(log, split)?;
        Ok(t)
    }

    /// Every spec of the passes' family from a few drawn choices.
    #[allow(clippy::too_many_arguments)]
    fn spec_of(
        n_steps: usize,
        any: bool,
        increasing: bool,
        step_ties: bool,
        window: Option<(i64, bool)>,
        exclusions: usize,
        totals: bool,
        keep: bool,
        as_of: bool,
    ) -> FunnelSpec {
        let mut s = FunnelSpec::ordered(&NAMES[..n_steps], None).unwrap();
        s.order = if any {
            OrderMode::AnyOrder
        } else {
            OrderMode::Ordered
        };
        s.step_times = if increasing && !any {
            StepTimes::Increasing
        } else {
            StepTimes::NonDecreasing
        };
        s.ties = if step_ties {
            Ties::StepOrder
        } else {
            Ties::InputOrder
        };
        if let Some((w, exclusive)) = window {
            s.window_ns = Some(w * 1_000_000_000);
            if exclusive {
                s.window_end = WindowEnd::Exclusive;
            }
        }
        s.exclusions = NAMES[4..4 + exclusions]
            .iter()
            .map(|e| e.to_string())
            .collect();
        if totals {
            s.counting = Counting::Totals;
        }
        if keep {
            s.unknown_events = UnknownEvents::Keep;
        }
        if as_of {
            // Times are below 25 s: with a window, the latest entrants are still inside it.
            s.as_of_ns = Some(30 * 1_000_000_000);
        }
        assert_eq!(s.fold_path(), FoldPath::Passes);
        s
    }

    fn raw_row(n_c: u32) -> impl Strategy<Value = RawRow> {
        (
            prop::option::weighted(0.95, 0..n_c),
            prop::option::weighted(0.95, 0..NAMES.len()),
            prop::option::weighted(0.95, 0i64..25),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]

        /// The passes give the sorted fold's state, bit for bit (counts, time to convert, keys,
        /// dropped and reordered rows, the drop-off still inside its window at `as_of`, the steps'
        /// event names seen), and the same result (warnings included), on logs with ties,
        /// exclusions, missing values and unknown events, for every rule combination of the family
        /// and any split of the rows in 1-7 contiguous chunks (with up to 50 rows, chunk boundaries
        /// fall between a customer's rows; the chunks run on the thread pool's threads). With
        /// `renamed`, the log names step 2 "Bx": that step matches no name and warns.
        #[test]
        fn passes_equal_the_sorted_fold(
            (n_c, rows) in (1u32..7).prop_flat_map(|n_c| (Just(n_c), prop::collection::vec(raw_row(n_c), 0..50))),
            n_steps in 1usize..=4,
            any in any::<bool>(),
            increasing in any::<bool>(),
            step_ties in any::<bool>(),
            window in prop::option::of((1i64..12, any::<bool>())),
            exclusions in 0usize..=2,
            totals in any::<bool>(),
            keep in any::<bool>(),
            as_of in any::<bool>(),
            chunks in 1usize..8,
            renamed in any::<bool>(),
            in_time_order in any::<bool>(),
        ) {
            let spec = spec_of(n_steps, any, increasing, step_ties, window, exclusions, totals, keep, as_of);
            let mut rows = rows;
            if in_time_order {
                // As logs are usually written (the missing times anywhere: first here).
                rows.sort_by_key(|r| r.2.unwrap_or(i64::MIN));
            }
            let mut log = Log::new(&rows, n_c);
            if renamed {
                log.names[1] = Some("Bx".into());
            }
            // Passes in `chunks` chunks; in time order also one pass, the customers in `chunks`
            // ranges, and the automatic choice (one pass).
            let mut splits = vec![Split::Chunks(chunks)];
            if in_time_order {
                prop_assert!(stream::time_ordered(&log.times));
                splits.extend([Split::Ranges(chunks), Split::Auto]);
            }
            let a = sorted(&spec, log.log()).unwrap();
            let f = |t: &FunnelTally| t.finish(&FunnelOptions::default()).unwrap();
            let mut raise = spec.clone();
            raise.missing = MissingRows::Raise;
            raise.unknown_events = UnknownEvents::Raise;
            let ea = sorted(&raise, log.log()).map(|_| ()).map_err(|e| e.to_string());
            for split in splits {
                let b = by_split(&spec, log.log(), split).unwrap();
                prop_assert_eq!(a.to_bytes(), b.to_bytes(), "{:?}: {}", split, spec.describe());
                prop_assert_eq!(f(&a), f(&b));
                // Errors name the same (first) row.
                let eb = by_split(&raise, log.log(), split).map(|_| ()).map_err(|e| e.to_string());
                prop_assert_eq!(&ea, &eb);
            }
        }
    }

    #[test]
    fn many_rows_in_many_chunks_equal_the_sorted_fold() {
        // Enough rows that the buffers of customer ranges fill and are applied mid-chunk (a few
        // customers: one range; many: several ranges), ties and exclusions included, rows split
        // in 1 to 9 chunks: the sorted fold's state, bit for bit.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n_c in [40u32, 150_000] {
            let rows: Vec<RawRow> = (0..30_000)
                .map(|_| {
                    let r = next();
                    let customer = (r % 997 != 0).then_some((r >> 8) as u32 % n_c);
                    let event = ((r >> 40) % 200 != 0).then_some((r >> 44) as usize % NAMES.len());
                    (customer, event, Some((r >> 52) as i64 % 300))
                })
                .collect();
            let log = Log::new(&rows, n_c);
            for (any, increasing, window, exclusions) in [
                (false, false, Some((60, false)), 1),
                (false, true, None, 0),
                (false, false, Some((30, true)), 2),
                (true, false, Some((90, false)), 1),
                (true, false, None, 0),
            ] {
                let spec = spec_of(
                    4, any, increasing, true, window, exclusions, false, false, false,
                );
                let mut spec = spec;
                if window.is_some() {
                    // The data end at 299 s: the latest entrants are still inside their window.
                    spec.as_of_ns = Some(300 * 1_000_000_000);
                }
                let a = sorted(&spec, log.log()).unwrap();
                assert!(a.n_reordered > 0 && a.customers.reached[1] > 0);
                let r = a.finish(&FunnelOptions::default()).unwrap();
                let in_window: u64 = r.steps.iter().filter_map(|s| s.in_window).sum();
                // Many customers of a few rows each: some entered late and are still inside their
                // window (without a window, every attempt not converted or stopped is).
                if n_c > 40 {
                    assert!(in_window > 0 && r.in_window > 0, "{:?}", r.steps);
                }
                for chunks in [1, 2, 3, 9] {
                    let b = by_passes(&spec, log.log(), chunks).unwrap();
                    assert_eq!(
                        a.to_bytes(),
                        b.to_bytes(),
                        "{chunks} chunks: {}",
                        spec.describe()
                    );
                }
            }
        }
    }

    #[test]
    fn many_rows_in_time_order_equal_the_sorted_fold() {
        // Rows in time order, more than one thread's share (the automatic choice splits the
        // customers in one range per thread), about 230 rows per second (ties everywhere, in
        // input order and in step order), exclusions, missing values, unknown events kept or
        // dropped: the one pass gives the sorted fold's state, bit for bit, the customers split
        // automatically and in 1, 2, 3 and 9 ranges.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n_c in [40u32, 150_000] {
            let mut rows: Vec<RawRow> = (0..70_000)
                .map(|_| {
                    let r = next();
                    let customer = (r % 997 != 0).then_some((r >> 8) as u32 % n_c);
                    let event = ((r >> 40) % 200 != 0).then_some((r >> 44) as usize % NAMES.len());
                    let time = ((r >> 30) % 500 != 0).then_some((r >> 52) as i64 % 300);
                    (customer, event, time)
                })
                .collect();
            rows.sort_by_key(|r| r.2.unwrap_or(i64::MIN));
            // A missing time among the last rows (the check skips it).
            assert_eq!(rows[0].2, None);
            let missing = rows.remove(0);
            rows.insert(69_990, missing);
            let log = Log::new(&rows, n_c);
            assert!(super::PARALLEL_ROWS < rows.len());
            assert!(stream::time_ordered(&log.times));
            for (any, increasing, step_ties, window, exclusions, keep) in [
                (false, false, true, Some((60, false)), 1, false),
                (false, true, false, None, 0, true),
                (false, false, false, Some((30, true)), 2, false),
                (true, false, true, Some((90, false)), 1, true),
                (true, false, false, None, 0, false),
            ] {
                let mut spec = spec_of(
                    4, any, increasing, step_ties, window, exclusions, false, keep, false,
                );
                if window.is_some() {
                    spec.as_of_ns = Some(300 * 1_000_000_000);
                }
                let a = sorted(&spec, log.log()).unwrap();
                assert!(a.n_reordered == 0 && a.customers.reached[1] > 0);
                assert!(a.dropped.iter().all(|&d| d > 0) || keep);
                for split in [
                    Split::Auto,
                    Split::Ranges(1),
                    Split::Ranges(2),
                    Split::Ranges(3),
                    Split::Ranges(9),
                ] {
                    let b = by_split(&spec, log.log(), split).unwrap();
                    assert_eq!(a.to_bytes(), b.to_bytes(), "{split:?}: {}", spec.describe());
                }
            }
        }
    }

    #[test]
    fn time_order_is_checked_across_chunks_and_missing_times() {
        let ordered = |t: &[i64]| stream::time_ordered(t);
        assert!(ordered(&[]));
        assert!(ordered(&[MISSING_TIME, MISSING_TIME]));
        assert!(ordered(&[1, MISSING_TIME, 1, 2, MISSING_TIME, 5]));
        assert!(!ordered(&[1, MISSING_TIME, 0]));
        // Chunks of 2^16 times are checked apart, then their ends: a decrease at a boundary, one
        // behind a chunk of missing times, and one inside a chunk that starts with a missing
        // time are all seen.
        let n = 3 << 16;
        let base: Vec<i64> = (0..n as i64).collect();
        assert!(ordered(&base));
        let mut at_boundary = base.clone();
        at_boundary[1 << 16] = 0;
        assert!(!ordered(&at_boundary));
        let mut behind_missing = base.clone();
        behind_missing[1 << 16..2 << 16].fill(MISSING_TIME);
        assert!(ordered(&behind_missing));
        behind_missing[2 << 16] = 5;
        assert!(!ordered(&behind_missing));
        let mut inside = base.clone();
        inside[1 << 16] = MISSING_TIME;
        assert!(ordered(&inside));
        inside[(1 << 16) + 7] = 3;
        assert!(!ordered(&inside));
    }

    #[test]
    fn specs_outside_the_family_are_folded_sorted() {
        // Strict order: the unknown event kept between A and B stops the attempt. The passes
        // (which would ignore it) are not taken.
        let rows: Vec<RawRow> = vec![
            (Some(0), Some(0), Some(0)),
            (Some(0), Some(6), Some(1)),
            (Some(0), Some(1), Some(2)),
        ];
        let log = Log::new(&rows, 1);
        let mut strict = FunnelSpec::ordered(&["A", "B"], None).unwrap();
        strict.order = OrderMode::Strict;
        strict.unknown_events = UnknownEvents::Keep;
        assert_eq!(strict.fold_path(), FoldPath::Sorted);
        let mut t = FunnelTally::new(strict.clone()).unwrap();
        t.fold_batch(log.log(), None).unwrap();
        let r = t.finish(&FunnelOptions::default()).unwrap();
        assert_eq!(r.steps.iter().map(|s| s.count).collect::<Vec<_>>(), [1, 0]);
        assert_eq!(t, sorted(&strict, log.log()).unwrap());
        assert_ne!(t, by_passes(&strict, log.log(), 1).unwrap());
        // The same through the columns.
        let mut c = FunnelTally::new(strict.clone()).unwrap();
        c.fold_columns(EventColumns {
            customers: CustomerColumn::Ints(&[0, 0, 0]),
            events: EventCodes::I8(&[0, 6, 1]),
            event_names: &log.names[..NAMES.len()],
            times: &log.times,
            unit: TimeUnit::S,
        })
        .unwrap();
        assert_eq!(c, t);
        type Change = (fn(&mut FunnelSpec), FoldPath);
        let changes: [Change; 7] = [
            (|s: &mut FunnelSpec| s.entry = Entry::Open, FoldPath::Sorted),
            (
                |s: &mut FunnelSpec| s.reentry = Reentry::Best,
                FoldPath::Sorted,
            ),
            (
                |s: &mut FunnelSpec| s.reentry = Reentry::AfterEnd,
                FoldPath::Sorted,
            ),
            (
                |s: &mut FunnelSpec| s.repeats = Repeats::Stop,
                FoldPath::Sorted,
            ),
            (
                |s: &mut FunnelSpec| {
                    s.order = OrderMode::AnyOrder;
                    s.step_times = StepTimes::Increasing;
                },
                FoldPath::Sorted,
            ),
            (
                |s: &mut FunnelSpec| s.step_times = StepTimes::Increasing,
                FoldPath::Passes,
            ),
            (
                |s: &mut FunnelSpec| s.order = OrderMode::AnyOrder,
                FoldPath::Passes,
            ),
        ];
        for (change, path) in changes {
            let mut s = FunnelSpec::ordered(&["A", "B"], None).unwrap();
            change(&mut s);
            assert_eq!(s.fold_path(), path, "{}", s.describe());
        }
    }

    #[test]
    fn columns_read_in_place_equal_the_coded_log() {
        // Dense integer ids (coded id − min as read), sparse ids (numbered), categorical codes with
        // missing names (negative), times in ms: the same state as the coded log.
        let rows: Vec<(i64, i8, i64)> = (0..3000)
            .map(|i: i64| {
                (
                    1000 + (i * 7919) % 500,
                    ((i * 31) % 9) as i8 - 1,
                    (i * 104_729) % 5000,
                )
            })
            .collect();
        let names: Vec<Option<String>> = NAMES.iter().map(|s| Some(s.to_string())).collect();
        let mut spec = FunnelSpec::ordered(&["A", "B", "C"], Some(2)).unwrap();
        spec.exclusions = vec!["X".into()];
        for ids in [
            rows.iter().map(|r| r.0).collect::<Vec<i64>>(),
            rows.iter().map(|r| r.0 * 1_000_003).collect(),
        ] {
            let codes: Vec<i8> = rows
                .iter()
                .map(|r| if r.1 >= 7 { -1 } else { r.1 })
                .collect();
            let times: Vec<i64> = rows.iter().map(|r| r.2).collect();
            let mut a = FunnelTally::new(spec.clone()).unwrap();
            a.fold_columns(EventColumns {
                customers: CustomerColumn::Ints(&ids),
                events: EventCodes::I8(&codes),
                event_names: &names,
                times: &times,
                unit: TimeUnit::Ms,
            })
            .unwrap();
            let (cust, keys) = crate::events::int_customers(&ids).unwrap();
            let mut coded_names = names.clone();
            coded_names.push(None);
            let ev: Vec<u32> = codes
                .iter()
                .map(|c| if *c < 0 { 7 } else { *c as u32 })
                .collect();
            let log = EventLog {
                customers: &cust,
                n_customers: keys.len(),
                missing_customer: None,
                customer_keys: &keys,
                events: &ev,
                event_names: &coded_names,
                times: &times,
                unit: TimeUnit::Ms,
            };
            let b = sorted(&spec, log).unwrap();
            assert_eq!(a, b);
            assert!(a.finish(&FunnelOptions::default()).unwrap().n_missing_event > 0);
        }
        // A code beyond the names is named by its row.
        let mut t = FunnelTally::new(spec).unwrap();
        let e = t
            .fold_columns(EventColumns {
                customers: CustomerColumn::Ints(&[1, 2]),
                events: EventCodes::I16(&[0, 9]),
                event_names: &names,
                times: &[0, 1],
                unit: TimeUnit::S,
            })
            .unwrap_err();
        assert!(e.to_string().contains("code 9 at row 1"), "{e}");
    }
}
