//! The passes' funnel in one pass when the rows are in time order, as event logs are usually
//! written: each customer's attempt is a small state machine fed the customer's rows as they come.
//!
//! The rows qualify when their times (the missing ones aside) never decrease down the column,
//! which one sequential read of the time column checks ([`time_ordered`]). Then every customer's
//! rows arrive in the order of the key `(time, rank, row)` of the passes, except for ties in step
//! order: the kept rows of one time are held back and fed in `(rank, row)` order.
//!
//! The machine, per kept row of a customer at level `l` (`UNSEEN` before its first kept row): a
//! step-1 row at level 0 starts the attempt (`t0`); once started, neither complete nor stopped, a
//! row inside the window (from `t0`) is, by its role, an exclusion (the attempt stops there), the
//! next step in order (ordered; with increasing step times, only later than the last step
//! reached) or a step not yet found (any order; the attempt ends at the latest). This is the
//! passes' attempt: the first step-1 key, then the first key of each step after the one before
//! (or after the start), inside the window and before the first exclusion.
//!
//! The customers are split in contiguous ranges of codes, one per thread; every thread reads the
//! customer column and takes the rows of its range (the rows without a customer: the first
//! range's), so that each customer's rows stay in order on one thread and each thread's states are
//! its range's only. A customer's state: its level (1 byte, with a flag once an exclusion stopped
//! the attempt), its start and the time of the last step reached (16 bytes), its first exclusion
//! when the spec has exclusions (16), and for any order the steps found (8): `O(customers)`,
//! whatever the number of rows.

use rayon::prelude::*;

use super::{Attempted, Customers, Events, Hit, Row, RowCheck, Rules, NONE, PARALLEL_ROWS, UNSEEN};
use crate::error::{Error, Result};
use crate::events::MISSING_TIME;
use crate::funnel::{OrderMode, EXCLUSION};
use crate::groups::TimeUnit;

/// Whether the times that are not missing never decrease down the column.
pub(super) fn time_ordered(times: &[i64]) -> bool {
    const CHUNK: usize = 1 << 16;
    // Each chunk: the plain check (vectorised), or (when it fails) the check that skips missing
    // times; then the chunks' boundaries.
    let ends: Option<Vec<(i64, i64)>> = times
        .par_chunks(CHUNK)
        .map(|c| {
            let plain = c.windows(2).fold(true, |ok, w| ok & (w[0] <= w[1]));
            let mut present = c.iter().copied().filter(|&t| t != MISSING_TIME);
            let first = present.clone().next().unwrap_or(i64::MAX);
            if plain && c.first() != Some(&MISSING_TIME) {
                return Some((first, *c.last().unwrap_or(&i64::MIN)));
            }
            let mut last = i64::MIN;
            for t in present.by_ref() {
                if t < last {
                    return None;
                }
                last = t;
            }
            Some((first, last))
        })
        .collect();
    let Some(ends) = ends else {
        return false;
    };
    let mut last = i64::MIN;
    for (first, end) in ends {
        if first == i64::MAX {
            continue; // every time of the chunk missing
        }
        if first < last {
            return false;
        }
        last = end;
    }
    true
}

/// Rows are read in blocks of this many: picked, checked, their states read, then fed (the
/// block's buffers stay in the core's first-level cache).
const BLOCK: usize = 1024;

/// The attempt stopped at an exclusion (a flag on the level, above every level).
const STOPPED: u8 = 0x80;

/// A customer's start and the time of the last step reached (any order: the latest step found).
#[derive(Clone, Copy)]
pub(super) struct Span {
    t0: i64,
    end: i64,
}

impl Attempted for Span {
    fn t0(&self) -> i64 {
        self.t0
    }
    fn end(&self) -> i64 {
        self.end
    }
}

/// The customers' attempts after the pass, in code order: levels (flags cleared), spans, first
/// exclusions (empty without exclusions), dropped rows by counter, the latest kept time.
pub(super) struct Streamed {
    pub level: Vec<u8>,
    pub span: Vec<Span>,
    pub excl: Vec<(i64, u32)>,
    pub dropped: [u64; 4],
    pub max_t: Option<i64>,
}

/// The machines of one range of customers (codes from `lo`).
struct Machines<'a, 'r, 's> {
    rules: &'r Rules<'s>,
    k: u8,
    any: bool,
    lo: usize,
    level: &'a mut [u8],
    span: &'a mut [Span],
    excl: &'a mut [(i64, u32)],
    /// Any order: the steps after the first found, bit `r − 1` for step index `r`.
    found: Vec<u64>,
}

impl Machines<'_, '_, '_> {
    /// Read the spans of the block's rows that may move an attempt (by the levels before the
    /// block) before the rows are fed one by one: the reads are independent, so their cache
    /// misses overlap instead of stalling each row in turn.
    fn touch(&self, hits: &[Hit], picked: &mut [u32]) {
        let mut n = 0;
        for h in hits {
            let c = h.c as usize - self.lo;
            let l = self.level[c];
            let step = if self.any {
                (h.role != 0) & (h.role < self.k)
            } else {
                h.role == l
            };
            let starts = ((l == UNSEEN) | (l == 0)) & (h.role == 0);
            let moves = (l >= 1) & (l < self.k) & (step | (h.role == EXCLUSION));
            picked[n] = c as u32;
            n += usize::from(starts | moves);
        }
        let mut acc = 0i64;
        for &c in &picked[..n] {
            acc = acc.wrapping_add(self.span[c as usize].t0);
        }
        std::hint::black_box(acc);
    }

    /// Feed one kept row to its customer's machine.
    #[inline(always)]
    fn feed(&mut self, h: Hit) {
        let c = h.c as usize - self.lo;
        let l = self.level[c];
        if l == UNSEEN || l == 0 {
            // Seen (its first kept row), or started by a step-1 row.
            let starts = h.role == 0;
            self.level[c] = u8::from(starts);
            if starts {
                self.span[c] = Span { t0: h.t, end: h.t };
            }
            return;
        }
        // Complete or stopped (flagged: above every level), or moved only by the next step
        // (ordered), a step not yet found (any order) or an exclusion.
        if l >= self.k {
            return;
        }
        let moves = if self.any {
            h.role == EXCLUSION || (h.role != 0 && h.role < self.k)
        } else {
            h.role == EXCLUSION || h.role == l
        };
        if !moves {
            return;
        }
        let s = &mut self.span[c];
        if !self.rules.in_window(h.t, s.t0) {
            return;
        }
        if h.role == EXCLUSION {
            self.excl[c] = (h.t, h.row);
            self.level[c] = l | STOPPED;
        } else if self.any {
            let bit = 1u64 << (h.role - 1);
            let f = &mut self.found[c];
            if *f & bit == 0 {
                *f |= bit;
                s.end = s.end.max(h.t);
                self.level[c] = l + 1;
            }
        } else if !self.rules.increasing || h.t > s.end {
            s.end = h.t;
            self.level[c] = l + 1;
        }
    }
}

/// The counts of one range's rows: dropped by counter, the latest kept time, or the first bad row
/// (its index and error).
struct RangeScan {
    dropped: [u64; 4],
    max_t: i64,
    error: Option<(usize, Error)>,
}

/// The attempts of every customer from the rows in time order ([`time_ordered`]): every row
/// checked (the first bad row named), dropped rows counted. The customers are split in `ranges`
/// ranges (0: one per thread, one below [`PARALLEL_ROWS`] rows).
pub(super) fn stream<C: Customers, E: Events>(
    rules: &Rules<'_>,
    customers: &C,
    events: &E,
    names: &[Option<String>],
    times: &[i64],
    unit: TimeUnit,
    ranges: usize,
) -> Result<Streamed> {
    let n_c = customers.n();
    let any = rules.spec.order == OrderMode::AnyOrder;
    let with_x = rules.roles.contains(&EXCLUSION);
    let threads = match ranges {
        0 if times.len() < PARALLEL_ROWS => 1,
        0 => rayon::current_num_threads(),
        r => r,
    }
    .clamp(1, n_c.max(1));
    let per = n_c.div_ceil(threads).max(1);
    let mut level = vec![UNSEEN; n_c];
    let mut span = vec![Span { t0: 0, end: 0 }; n_c];
    let mut excl = if with_x {
        vec![(i64::MAX, NONE); n_c]
    } else {
        Vec::new()
    };
    let mut excl_parts: Vec<&mut [(i64, u32)]> = if with_x {
        excl.chunks_mut(per).collect()
    } else {
        (0..threads).map(|_| &mut [][..]).collect()
    };
    excl_parts.resize_with(threads, || &mut [][..]);
    // No customer code (every row without one): one range of no customers checks the rows.
    let mut none: [u8; 0] = [];
    let mut no_span: [Span; 0] = [];
    let level_parts: Vec<&mut [u8]> = if n_c == 0 {
        vec![&mut none[..]]
    } else {
        level.chunks_mut(per).collect()
    };
    let span_parts: Vec<&mut [Span]> = if n_c == 0 {
        vec![&mut no_span[..]]
    } else {
        span.chunks_mut(per).collect()
    };
    let ranges: Vec<_> = level_parts
        .into_iter()
        .zip(span_parts)
        .zip(excl_parts)
        .enumerate()
        .map(|(j, ((level, span), excl))| Machines {
            rules,
            k: rules.spec.steps.len() as u8,
            any,
            lo: j * per,
            found: if any {
                vec![0; level.len()]
            } else {
                Vec::new()
            },
            level,
            span,
            excl,
        })
        .collect();
    let scans: Vec<RangeScan> = ranges
        .into_par_iter()
        .map(|m| scan_range(m, per, customers, events, names, times, unit))
        .collect();
    let mut dropped = [0u64; 4];
    let mut max_t = i64::MIN;
    let mut first_error: Option<(usize, Error)> = None;
    for s in scans {
        for (d, x) in dropped.iter_mut().zip(s.dropped) {
            *d += x;
        }
        max_t = max_t.max(s.max_t);
        if let Some((i, e)) = s.error {
            if first_error.as_ref().is_none_or(|(j, _)| i < *j) {
                first_error = Some((i, e));
            }
        }
    }
    if let Some((_, e)) = first_error {
        return Err(e);
    }
    for l in &mut level {
        if *l != UNSEEN {
            *l &= !STOPPED;
        }
    }
    Ok(Streamed {
        level,
        span,
        excl,
        dropped,
        max_t: (max_t > i64::MIN).then_some(max_t),
    })
}

/// Feed the rows of the customers of `m`'s range (`per` codes from `m.lo`; the rows without a
/// customer go to the first range) to their machines, in row order.
fn scan_range<C: Customers, E: Events>(
    mut m: Machines<'_, '_, '_>,
    per: usize,
    customers: &C,
    events: &E,
    names: &[Option<String>],
    times: &[i64],
    unit: TimeUnit,
) -> RangeScan {
    let rules = m.rules;
    let check = RowCheck::new(rules, names, unit);
    let (lo, hi) = (m.lo as u32, (m.lo + m.level.len()) as u32);
    let first_range = lo == 0;
    let whole = m.level.len() == customers.n();
    let mut out = RangeScan {
        dropped: [0; 4],
        max_t: i64::MIN,
        error: None,
    };
    debug_assert!(m.level.len() <= per);
    // Ties in step order: the kept rows of one time, fed in (rank, row) order once a later time
    // comes.
    let mut run: Vec<Hit> = Vec::new();
    let flush = |m: &mut Machines<'_, '_, '_>, run: &mut Vec<Hit>| {
        if run.len() > 1 {
            run.sort_by_key(|h| rules.rank(h.role));
        }
        for h in run.drain(..) {
            m.feed(h);
        }
    };
    let mut rows = vec![0u32; BLOCK];
    let mut cs = vec![0u32; BLOCK];
    let mut hits = vec![Hit::default(); BLOCK];
    let mut picked = vec![0u32; BLOCK];
    let mut start = 0;
    while start < times.len() {
        let end = (start + BLOCK).min(times.len());
        // The block's rows of this range (every row when one range holds every customer).
        let mut n_rows = 0;
        for (i, (r, rc)) in (start..end).zip(rows.iter_mut().zip(cs.iter_mut())) {
            let c = customers.at(i);
            *r = i as u32;
            *rc = c;
        }
        if !whole {
            for j in 0..end - start {
                let c = cs[j];
                rows[n_rows] = rows[j];
                cs[n_rows] = c;
                let mine = ((c >= lo) & (c < hi)) | (first_range & (c == NONE));
                n_rows += usize::from(mine);
            }
        } else {
            n_rows = end - start;
        }
        let mut n_hits = 0;
        for (&i, &c) in rows[..n_rows].iter().zip(&cs[..n_rows]) {
            let i = i as usize;
            let (t, role) = match check.check(i, c, events.at(i), times[i]) {
                Ok(Row::Keep(t, role)) => (t, role),
                Ok(Row::Drop(d)) => {
                    out.dropped[d] += 1;
                    continue;
                }
                Err(e) => {
                    out.error = Some((i, e));
                    return out;
                }
            };
            out.max_t = out.max_t.max(t);
            hits[n_hits] = Hit {
                t,
                c,
                row: i as u32,
                role,
            };
            n_hits += 1;
        }
        let hits = &hits[..n_hits];
        m.touch(hits, &mut picked);
        for &h in hits {
            if rules.step_order {
                if run.first().is_some_and(|r| r.t != h.t) {
                    flush(&mut m, &mut run);
                }
                run.push(h);
            } else {
                m.feed(h);
            }
        }
        start = end;
    }
    flush(&mut m, &mut run);
    out
}
