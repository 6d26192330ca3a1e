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
//! timed out. Every count and the time-to-convert table follow. The rows are never copied or
//! sorted: the customers are split in ranges of codes, one per thread, each thread reading every
//! row and keeping the state of its own customers (`O(customers × steps)` in all).

use rayon::prelude::*;

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

/// A customer's attempt: its start (the first step-1 key), the last step reached and the first key
/// found for the next step.
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

/// Pass 1 over one chunk of rows: per customer the time of its first and last kept row in the
/// chunk (`i64::MIN`: none) and its first step-1 key; counts.
struct Seen {
    first_last: Vec<(i64, i64)>,
    first0: Vec<(i64, u32)>,
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

/// The earlier of two keys of the same role.
#[inline(always)]
fn min_key(a: (i64, u32), b: (i64, u32)) -> (i64, u32) {
    if b < a {
        b
    } else {
        a
    }
}

/// Row chunks, one per thread (or `n_chunks`; 0 to choose).
fn row_chunks(n: usize, n_chunks: usize) -> Vec<(usize, usize)> {
    let t = match n_chunks {
        0 if n < PARALLEL_ROWS => 1,
        0 => rayon::current_num_threads().max(1),
        t => t,
    };
    (0..t).map(|j| (j * n / t, (j + 1) * n / t)).collect()
}

/// Customers in blocks for the sequential steps over all customers (run in parallel).
const CUSTOMER_BLOCK: usize = 1 << 14;

/// The funnel of every row, by passes: the partial result (customers in code order) and the end of
/// the data (`None` without kept rows or `as_of`). `roles[e]`: the role of event index `e` (the
/// last index: a missing name). Codes must have been checked to be in range, the row count to be
/// below 2³² − 1. The rows are split in `n_chunks` chunks (0: one per thread), each with its own
/// per-customer minima, merged after each pass.
#[allow(clippy::too_many_arguments)]
pub(super) fn fold<C: Customers, E: Events>(
    spec: &FunnelSpec,
    customers: &C,
    events: &E,
    roles: &[u8],
    names: &[Option<String>],
    times: &[i64],
    unit: TimeUnit,
    n_chunks: usize,
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
    let chunks = row_chunks(n, n_chunks);
    // Pass 1, a chunk of rows per thread: every row checked (the first bad row of the first
    // chunk that has one is the first of all), dropped rows counted, each customer's first and
    // last kept time and first step-1 key.
    let seen: Vec<Result<Seen>> = chunks
        .par_iter()
        .map(|&(a, b)| first_pass(&rules, customers, events, names, times, unit, n_c, a, b))
        .collect();
    let seen = seen.into_iter().collect::<Result<Vec<Seen>>>()?;
    let max_t = seen.iter().filter_map(|s| s.max_t).max();
    let as_of = spec.as_of_ns.or(max_t);
    // Merged: rows earlier than the customer's previous kept row across chunks, each customer's
    // level (`UNSEEN`, 0 without a step-1 event, else 1) and chain.
    let mut level = vec![UNSEEN; n_c];
    let mut chain = vec![NO_CHAIN; n_c];
    let reordered: u64 = level
        .par_chunks_mut(CUSTOMER_BLOCK)
        .zip(chain.par_chunks_mut(CUSTOMER_BLOCK))
        .enumerate()
        .map(|(b, (level, chain))| {
            let mut reordered = 0u64;
            for (j, (l, ch)) in level.iter_mut().zip(chain.iter_mut()).enumerate() {
                let c = b * CUSTOMER_BLOCK + j;
                let mut last = i64::MIN;
                let mut first = LAST;
                for s in &seen {
                    let (f, l) = s.first_last[c];
                    if l != i64::MIN {
                        reordered += u64::from(last != i64::MIN && f < last);
                        last = l;
                    }
                    first = min_key(first, s.first0[c]);
                }
                if last == i64::MIN {
                    continue;
                }
                *l = u8::from(first.1 != NONE);
                ch.t0 = first.0;
                (ch.prev_t, ch.prev_row) = first;
            }
            reordered
        })
        .sum();
    let mut totals = Part::new(k);
    for s in &seen {
        for (d, x) in totals.dropped.iter_mut().zip(&s.dropped) {
            *d += x;
        }
        totals.reordered += s.reordered;
    }
    totals.reordered += reordered;
    drop(seen);
    let has_exclusions = roles.contains(&EXCLUSION);
    let mut excl = if has_exclusions || spec.order == OrderMode::AnyOrder {
        vec![LAST; n_c]
    } else {
        Vec::new()
    };
    match spec.order {
        OrderMode::AnyOrder => any_order(
            &rules,
            customers,
            events,
            times,
            chunks.len(),
            &mut level,
            &mut chain,
            &mut excl,
        ),
        _ => ordered(
            &rules,
            customers,
            events,
            times,
            chunks.len(),
            &mut level,
            &mut chain,
            &mut excl,
        ),
    }
    let as_of_v = as_of.unwrap_or(0);
    let parts: Vec<Part> = level
        .par_chunks(CUSTOMER_BLOCK)
        .enumerate()
        .map(|(b, lv)| {
            let lo = b * CUSTOMER_BLOCK;
            let ch = &chain[lo..lo + lv.len()];
            let ex = excl.get(lo..lo + lv.len()).unwrap_or(&[]);
            finish(&rules, customers, lo, lv, ch, ex, as_of_v)
        })
        .collect();
    for p in parts {
        totals.absorb(p)?;
    }
    totals.rows = n as u64;
    Ok((totals, as_of))
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
) -> Result<Seen> {
    let spec = rules.spec;
    let (per, roles) = (rules.per, rules.roles);
    let keep_other = spec.unknown_events == UnknownEvents::Keep;
    let lo_raw = (i64::MIN / per).max(MISSING_TIME + 1);
    let hi_raw = spec.as_of_ns.map_or(i64::MAX / per, |a| a.div_euclid(per));
    let mut s = Seen {
        first_last: vec![(i64::MIN, i64::MIN); n_c],
        first0: vec![LAST; n_c],
        dropped: [0; 4],
        reordered: 0,
        max_t: None,
    };
    let mut max_t = i64::MIN;
    let mut hits = vec![Hit::default(); BLOCK];
    let mut starts = vec![Hit::default(); BLOCK];
    let mut start = a;
    while start < b {
        let end = (start + BLOCK).min(b);
        let (mut m, mut m0) = (0, 0);
        for (j, &raw) in times[start..end].iter().enumerate() {
            let i = start + j;
            let c = customers.at(i);
            let e = events.at(i);
            let role = roles[e];
            let fast = c != NONE
                && role != MISSING
                && (role != OTHER || keep_other)
                && raw >= lo_raw
                && raw <= hi_raw;
            let (t, role) = if fast {
                (raw * per, role)
            } else {
                let row = RowValues {
                    no_customer: c == NONE,
                    time: raw,
                    role,
                };
                let name = || names.get(e).and_then(|x| x.clone()).unwrap_or_default();
                match classify(spec, i, row, unit, name)? {
                    Row::Keep(t, role) => (t, role),
                    Row::Drop(d) => {
                        s.dropped[d] += 1;
                        continue;
                    }
                }
            };
            max_t = max_t.max(t);
            let hit = Hit {
                t,
                c,
                row: i as u32,
                role,
            };
            hits[m] = hit;
            m += 1;
            starts[m0] = hit;
            m0 += usize::from(role == 0);
        }
        for h in &hits[..m] {
            let fl = &mut s.first_last[h.c as usize];
            s.reordered += u64::from(h.t < fl.1);
            fl.0 = if fl.1 == i64::MIN { h.t } else { fl.0 };
            fl.1 = h.t;
        }
        for h in &starts[..m0] {
            let f = &mut s.first0[h.c as usize];
            *f = min_key(*f, (h.t, h.row));
        }
        start = end;
    }
    s.max_t = (max_t > i64::MIN).then_some(max_t);
    Ok(s)
}

/// The rows whose role `select`s (indexed by event index) of the customers `lo..lo + level.len()`
/// at a level that `at_level` accepts (the missing time excluded), block by block, each block given
/// to `apply` (customers relative to `lo`).
#[allow(clippy::too_many_arguments)]
fn for_hits<C: Customers, E: Events>(
    rules: &Rules<'_>,
    customers: &C,
    events: &E,
    times: &[i64],
    select: &[bool],
    lo: usize,
    level: &[u8],
    at_level: impl Fn(u8) -> bool,
    mut apply: impl FnMut(&[Hit]),
) {
    let mut hits = vec![Hit::default(); BLOCK];
    let mut start = 0;
    while start < times.len() {
        let end = (start + BLOCK).min(times.len());
        let mut m = 0;
        for (j, &raw) in times[start..end].iter().enumerate() {
            let i = start + j;
            let e = events.at(i);
            if !select[e] {
                continue;
            }
            let c = (customers.at(i) as usize).wrapping_sub(lo);
            if raw == MISSING_TIME || !level.get(c).is_some_and(|l| at_level(*l)) {
                continue;
            }
            hits[m] = Hit {
                t: raw.wrapping_mul(rules.per),
                c: c as u32,
                row: i as u32,
                role: rules.roles[e],
            };
            m += 1;
        }
        apply(&hits[..m]);
        start = end;
    }
}

/// Ranges of customer codes, one per chunk of rows (each range's passes read every row).
fn customer_ranges(n_c: usize, n_ranges: usize) -> Vec<usize> {
    let r = n_ranges.clamp(1, n_c.max(1));
    (0..=r).map(|j| j * n_c / r).collect()
}

/// Ordered: one pass per step after the first (the first of them also finds the exclusions), the
/// customers split in ranges, each range's state updated by one thread.
#[allow(clippy::too_many_arguments)]
fn ordered<C: Customers, E: Events>(
    rules: &Rules<'_>,
    customers: &C,
    events: &E,
    times: &[i64],
    n_ranges: usize,
    level: &mut [u8],
    chain: &mut [Chain],
    excl: &mut [(i64, u32)],
) {
    let k = rules.spec.steps.len();
    let with_x = !excl.is_empty();
    let bounds = customer_ranges(level.len(), n_ranges);
    let mut slices = Vec::new();
    let (mut lv, mut ch, mut ex) = (level, chain, excl);
    for w in bounds.windows(2) {
        let len = w[1] - w[0];
        let (a, b) = lv.split_at_mut(len);
        let (c, d) = ch.split_at_mut(len);
        let (e, f) = ex.split_at_mut(if with_x { len } else { 0 });
        slices.push((w[0], a, c, e));
        (lv, ch, ex) = (b, d, f);
    }
    slices.into_par_iter().for_each(|(lo, level, chain, excl)| {
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
            let at = |l: u8| l == step_r;
            for_hits(
                rules,
                customers,
                events,
                times,
                &select,
                lo,
                level,
                at,
                |hits| {
                    for h in hits {
                        let c = h.c as usize;
                        let key = (h.t, h.row);
                        let s = &mut chain[c];
                        let prev = (s.prev_t, s.prev_row);
                        let ok = rules.in_window(h.t, s.t0);
                        if h.role == EXCLUSION {
                            // In this pass the last step reached is the start.
                            let x = &mut excl[c];
                            let better = ok
                                & rules.before(prev, 0, key, EXCLUSION)
                                & rules.before(key, EXCLUSION, *x, EXCLUSION);
                            *x = if better { key } else { *x };
                            continue;
                        }
                        let cand = (s.cand_t, s.cand_row);
                        let better = ok
                            & (!rules.increasing | (h.t > s.prev_t))
                            & rules.before(prev, step_r - 1, key, step_r)
                            & rules.before(key, step_r, cand, step_r);
                        (s.cand_t, s.cand_row) = if better { key } else { cand };
                    }
                },
            );
            // A step found before the first exclusion is reached.
            for (j, (l, s)) in level.iter_mut().zip(chain.iter_mut()).enumerate() {
                if *l != step_r {
                    continue;
                }
                let x = excl.get(j).copied().unwrap_or(LAST);
                let cand = (s.cand_t, s.cand_row);
                if cand.1 != NONE && rules.before(cand, step_r, x, EXCLUSION) {
                    (s.prev_t, s.prev_row) = cand;
                    *l += 1;
                }
                (s.cand_t, s.cand_row) = LAST;
            }
        }
    });
}

/// Any order: one pass for the first key of every step and exclusion after the start, the
/// customers split in ranges as for [`ordered`].
#[allow(clippy::too_many_arguments)]
fn any_order<C: Customers, E: Events>(
    rules: &Rules<'_>,
    customers: &C,
    events: &E,
    times: &[i64],
    n_ranges: usize,
    level: &mut [u8],
    chain: &mut [Chain],
    excl: &mut [(i64, u32)],
) {
    let k = rules.spec.steps.len();
    if k < 2 {
        return;
    }
    let w = k - 1;
    let select: Vec<bool> = rules
        .roles
        .iter()
        .map(|&role| (role != 0 && (role as usize) < k) || role == EXCLUSION)
        .collect();
    let bounds = customer_ranges(level.len(), n_ranges);
    let mut slices = Vec::new();
    let (mut lv, mut ch, mut ex) = (level, chain, excl);
    for b in bounds.windows(2) {
        let len = b[1] - b[0];
        let (a, rest_l) = lv.split_at_mut(len);
        let (c, rest_c) = ch.split_at_mut(len);
        let (e, rest_e) = ex.split_at_mut(len);
        slices.push((b[0], a, c, e));
        (lv, ch, ex) = (rest_l, rest_c, rest_e);
    }
    slices.into_par_iter().for_each(|(lo, level, chain, excl)| {
        // Each step's first key after the start (`w` per customer).
        let mut firsts = vec![LAST; level.len() * w];
        let entered = |l: u8| l >= 1 && l != UNSEEN;
        for_hits(
            rules,
            customers,
            events,
            times,
            &select,
            lo,
            level,
            entered,
            |hits| {
                for h in hits {
                    let key = (h.t, h.row);
                    let c = h.c as usize;
                    let s = &chain[c];
                    let ok = rules.in_window(h.t, s.t0)
                        & rules.before((s.t0, s.prev_row), 0, key, h.role);
                    let x = if h.role == EXCLUSION {
                        &mut excl[c]
                    } else {
                        &mut firsts[c * w + h.role as usize - 1]
                    };
                    let better = ok & rules.before(key, h.role, *x, h.role);
                    *x = if better { key } else { *x };
                }
            },
        );
        for (j, ((l, s), x)) in level
            .iter_mut()
            .zip(chain.iter_mut())
            .zip(excl.iter())
            .enumerate()
        {
            if !entered(*l) {
                continue;
            }
            // The attempt ends at the latest of the steps' first keys (when it completes).
            for (step, f) in firsts[j * w..(j + 1) * w].iter().enumerate() {
                if f.1 != NONE && rules.before(*f, step as u8 + 1, *x, EXCLUSION) {
                    *l += 1;
                    s.prev_t = s.prev_t.max(f.0);
                }
            }
        }
    });
}

/// The counts, time-to-convert units and keys of the customers `lo..`, in code order.
fn finish<C: Customers>(
    rules: &Rules<'_>,
    customers: &C,
    lo: usize,
    level: &[u8],
    chain: &[Chain],
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
        let start = s.t0;
        let x = excl.get(j).copied().unwrap_or(LAST);
        let (code, d, slot) = if level as usize == k {
            (1u8, s.prev_t - start, 0)
        } else if x.1 != NONE {
            (2, x.0 - start, 1)
        } else if spec.in_window(as_of - start) {
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
        let mut parts = t.tallies_of(log, None)?;
        t.merge(&parts.pop().expect("one state"))?;
        Ok(t)
    }

    fn by_passes(spec: &FunnelSpec, log: EventLog<'_>, ranges: usize) -> Result<FunnelTally> {
        let mut t = FunnelTally::new(spec.clone())?;
        t.fold_log_passes(log, ranges)?;
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
            s.as_of_ns = Some(40 * 1_000_000_000);
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
        /// dropped and reordered rows), on logs with ties, exclusions, missing values and unknown
        /// events, for every rule combination of the family and any number of customer ranges.
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
            ranges in 1usize..4,
        ) {
            let spec = spec_of(n_steps, any, increasing, step_ties, window, exclusions, totals, keep, as_of);
            let log = Log::new(&rows, n_c);
            let a = sorted(&spec, log.log()).unwrap();
            let b = by_passes(&spec, log.log(), ranges).unwrap();
            prop_assert_eq!(a.to_bytes(), b.to_bytes(), "{}", spec.describe());
            let f = |t: &FunnelTally| t.finish(&FunnelOptions::default()).unwrap();
            prop_assert_eq!(f(&a), f(&b));
            // Errors name the same (first) row.
            let mut raise = spec.clone();
            raise.missing = MissingRows::Raise;
            raise.unknown_events = UnknownEvents::Raise;
            let ea = sorted(&raise, log.log()).map(|_| ()).map_err(|e| e.to_string());
            let eb = by_passes(&raise, log.log(), ranges).map(|_| ()).map_err(|e| e.to_string());
            prop_assert_eq!(ea, eb);
        }
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
