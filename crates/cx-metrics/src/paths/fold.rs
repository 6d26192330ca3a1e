//! The fold of one batch of events into path counts, without a global sort.
//!
//! The rows are checked and counted in one pass, each kept row gets a customer code (`id − min`
//! when the ids are dense, otherwise the rank of the id among the distinct ids, so codes ascend
//! with the ids), and the code range is cut into slices, one task each (over every core with
//! rayon). A task puts its rows in buckets of 4096 consecutive codes, then groups each bucket's
//! rows (few enough to stay in cache) by customer with a counting sort (stable: a customer's rows
//! stay in input order). For each customer it counts the events earlier than the latest one so
//! far in input order, sorts the rows by (session, time) only when they are not already in that
//! order (a stable sort: ties keep row order) and walks them. Gaps are kept per edge unsorted and
//! sorted once when the tasks' counts are put together; variants are interned by a 64-bit hash of
//! their codes with the codes stored once in an arena (equal hashes are compared code by code).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHasher};

use super::{Omitted, PathEvents};
use crate::error::{Error, Result};

/// Rows a task reads before it is worth cutting the rows into more than one task.
const MIN_ROWS_PER_TASK: usize = 1 << 16;
/// Most event names for which the gaps of every edge are held in a table indexed by both codes.
const DENSE_EDGE_NAMES: usize = 256;
/// Customer codes per bucket of a task, as a power of two.
const BUCKET_BITS: usize = 12;
/// Customer codes per bucket of a task.
const BUCKET: usize = 1 << BUCKET_BITS;
/// No entry (end of a chain of variants with the same hash).
const NONE: u32 = u32::MAX;

/// The counts of one batch, before they become a [`PathTally`](super::PathTally).
#[derive(Debug, Default)]
pub(super) struct Folded {
    pub names: Vec<String>,
    pub starts: Vec<u64>,
    pub exits: Vec<u64>,
    pub customers: Vec<i64>,
    pub paths: u64,
    pub steps: u64,
    pub omitted: Omitted,
    pub n_reordered: u64,
    pub variants_dropped: u64,
    pub edges: BTreeMap<(u32, u32), Vec<u64>>,
    pub variants: BTreeMap<Vec<u32>, u64>,
}

/// A kept row, as a task holds it.
#[derive(Debug, Clone, Copy, Default)]
struct Rec {
    time: i64,
    session: i64,
    row: u32,
    /// The event's rank among the batch's names used.
    event: u32,
}

/// A kept row as it is put in a bucket (its customer code within the bucket is kept apart).
#[derive(Debug, Clone, Copy, Default)]
struct Row {
    time: i64,
    row: u32,
    event: u32,
}

/// What the check pass learns from a run of rows.
#[derive(Debug, Clone)]
struct Scan {
    omitted: Omitted,
    used: Vec<bool>,
    kept: usize,
    min: i64,
    max: i64,
    /// The first row with an event code beyond the names.
    bad: Option<usize>,
}

impl Scan {
    fn new(k: usize) -> Self {
        Self {
            omitted: Omitted::default(),
            used: vec![false; k],
            kept: 0,
            min: i64::MAX,
            max: i64::MIN,
            bad: None,
        }
    }

    fn join(mut self, o: Self) -> Self {
        self.omitted.customer += o.omitted.customer;
        self.omitted.event += o.omitted.event;
        self.omitted.time += o.omitted.time;
        self.omitted.session += o.omitted.session;
        for (u, v) in self.used.iter_mut().zip(&o.used) {
            *u |= *v;
        }
        self.kept += o.kept;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.bad = match (self.bad, o.bad) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self
    }
}

/// The first field row `i` misses (0 customer, 1 event, 2 time, 3 session; a row is counted once,
/// at its first missing field), or `None` when it has them all.
#[inline]
fn missing(b: &PathEvents<'_>, i: usize) -> Option<u8> {
    if b.customers[i] == i64::MIN {
        Some(0)
    } else if b.events[i] == u32::MAX {
        Some(1)
    } else if b.times[i] == i64::MIN {
        Some(2)
    } else if b.sessions.is_some_and(|s| s[i] == i64::MIN) {
        Some(3)
    } else {
        None
    }
}

/// The gaps of every edge of a task, unsorted.
enum EdgeGaps {
    Dense { k: usize, gaps: Vec<Vec<u64>> },
    Sparse(FxHashMap<(u32, u32), Vec<u64>>),
}

impl EdgeGaps {
    fn new(k: usize) -> Self {
        if k <= DENSE_EDGE_NAMES {
            Self::Dense {
                k,
                gaps: vec![Vec::new(); k * k],
            }
        } else {
            Self::Sparse(FxHashMap::default())
        }
    }

    #[inline]
    fn push(&mut self, a: u32, b: u32, gap: u64) {
        match self {
            Self::Dense { k, gaps } => gaps[a as usize * *k + b as usize].push(gap),
            Self::Sparse(m) => m.entry((a, b)).or_default().push(gap),
        }
    }

    fn into_edges(self) -> Vec<((u32, u32), Vec<u64>)> {
        match self {
            Self::Dense { k, gaps } => gaps
                .into_iter()
                .enumerate()
                .filter(|(_, g)| !g.is_empty())
                .map(|(i, g)| (((i / k) as u32, (i % k) as u32), g))
                .collect(),
            Self::Sparse(m) => m.into_iter().collect(),
        }
    }
}

/// A variant interned in an arena.
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: usize,
    len: u32,
    count: u64,
    /// The next entry with the same hash.
    next: u32,
}

/// Variant counts: each distinct code sequence stored once, found by its 64-bit hash.
#[derive(Default)]
struct Variants {
    arena: Vec<u32>,
    entries: Vec<Entry>,
    index: FxHashMap<u64, u32>,
}

fn hash_codes(codes: &[u32]) -> u64 {
    let mut h = FxHasher::default();
    codes.hash(&mut h);
    h.finish()
}

impl Variants {
    /// Count `count` paths of the variant whose codes `it` yields.
    fn add(&mut self, it: impl IntoIterator<Item = u32>, count: u64) {
        // The codes are staged at the end of the arena: kept for a new variant, dropped otherwise.
        let start = self.arena.len();
        self.arena.extend(it);
        let h = hash_codes(&self.arena[start..]);
        let new = self.entries.len() as u32;
        let mut at = *self.index.entry(h).or_insert(new);
        while at != new {
            let e = self.entries[at as usize];
            if self.arena[e.start..e.start + e.len as usize] == self.arena[start..] {
                self.entries[at as usize].count += count;
                self.arena.truncate(start);
                return;
            }
            if e.next == NONE {
                self.entries[at as usize].next = new;
                break;
            }
            at = e.next;
        }
        let len = (self.arena.len() - start) as u32;
        self.entries.push(Entry {
            start,
            len,
            count,
            next: NONE,
        });
    }

    fn iter(&self) -> impl Iterator<Item = (&[u32], u64)> + '_ {
        self.entries
            .iter()
            .map(|e| (&self.arena[e.start..e.start + e.len as usize], e.count))
    }

    fn codes(&self, i: u32) -> &[u32] {
        let e = &self.entries[i as usize];
        &self.arena[e.start..e.start + e.len as usize]
    }

    /// The variants in the order of their codes (with `k` names): sorted by the first codes packed
    /// in a 64-bit key (code + 1, 0 past the end), the rest compared only when the keys are equal.
    fn sorted(self, k: usize) -> impl Iterator<Item = (Vec<u32>, u64)> {
        let bits = 64 - (k as u64).leading_zeros();
        let per = (64 / bits.max(1)) as usize;
        let key = |codes: &[u32]| {
            (0..per).fold(0u64, |p, j| {
                let x = codes.get(j).map_or(0, |c| u64::from(*c) + 1);
                (p << bits) | x
            })
        };
        let mut order: Vec<(u64, u32)> = (0..self.entries.len() as u32)
            .into_par_iter()
            .with_min_len(1 << 12)
            .map(|i| (key(self.codes(i)), i))
            .collect();
        order.par_sort_unstable_by(|x, y| {
            x.0.cmp(&y.0)
                .then_with(|| self.codes(x.1).cmp(self.codes(y.1)))
        });
        order
            .into_iter()
            .map(move |(_, i)| (self.codes(i).to_vec(), self.entries[i as usize].count))
    }
}

/// The counts of the customers of one task.
struct Part {
    starts: Vec<u64>,
    exits: Vec<u64>,
    customers: Vec<i64>,
    paths: u64,
    steps: u64,
    n_reordered: u64,
    dropped: u64,
    edges: EdgeGaps,
    variants: Variants,
}

/// The options and tables every task reads.
struct Ctx<'a> {
    batch: PathEvents<'a>,
    /// The customer code of each row (`u32::MAX`: left out).
    codes: &'a [u32],
    /// The rank of each batch event code among the names used.
    rank: &'a [u32],
    /// The id of each customer code (`None`: `min + code`).
    ids: Option<&'a [i64]>,
    min: i64,
    k: usize,
    session_gap: Option<i64>,
    max_steps: usize,
}

impl Ctx<'_> {
    /// The counts of customer codes `lo..hi`: the rows are first put in buckets of
    /// [`BUCKET`] consecutive codes (few write streams), then each bucket's rows, few enough to
    /// stay in cache, are grouped by customer and walked.
    fn task(&self, lo: u32, hi: u32) -> Result<Part> {
        let width = (hi - lo) as usize;
        let n_buckets = width.div_ceil(BUCKET);
        let mut offsets = vec![0usize; n_buckets + 1];
        for c in self.codes {
            if (lo..hi).contains(c) {
                offsets[((c - lo) as usize >> BUCKET_BITS) + 1] += 1;
            }
        }
        for j in 0..n_buckets {
            offsets[j + 1] += offsets[j];
        }
        let total = offsets[n_buckets];
        let mut next = offsets.clone();
        let mut rows = vec![Row::default(); total];
        let mut locals = vec![0u16; total];
        let mut sessions = vec![
            0i64;
            if self.batch.sessions.is_some() {
                total
            } else {
                0
            }
        ];
        let b = &self.batch;
        for (i, c) in self.codes.iter().enumerate() {
            if (lo..hi).contains(c) {
                let local = (c - lo) as usize;
                let slot = &mut next[local >> BUCKET_BITS];
                rows[*slot] = Row {
                    time: b.times[i],
                    row: i as u32,
                    event: self.rank[b.events[i] as usize],
                };
                locals[*slot] = (local & (BUCKET - 1)) as u16;
                if let Some(s) = b.sessions {
                    sessions[*slot] = s[i];
                }
                *slot += 1;
            }
        }
        drop(next);
        let mut part = Part {
            starts: vec![0; self.k],
            exits: vec![0; self.k],
            customers: Vec::new(),
            paths: 0,
            steps: 0,
            n_reordered: 0,
            dropped: 0,
            edges: EdgeGaps::new(self.k),
            variants: Variants::default(),
        };
        let mut starts = vec![0usize; BUCKET + 1];
        let mut recs: Vec<Rec> = Vec::new();
        for bucket in 0..n_buckets {
            let (a, z) = (offsets[bucket], offsets[bucket + 1]);
            let (rows, locals) = (&rows[a..z], &locals[a..z]);
            // A counting sort by customer within the bucket (stable: input order kept).
            starts.fill(0);
            for l in locals {
                starts[*l as usize + 1] += 1;
            }
            for j in 0..BUCKET {
                starts[j + 1] += starts[j];
            }
            recs.clear();
            recs.resize(rows.len(), Rec::default());
            let mut next = starts.clone();
            for (j, (r, l)) in rows.iter().zip(locals).enumerate() {
                let slot = &mut next[*l as usize];
                recs[*slot] = Rec {
                    time: r.time,
                    session: if sessions.is_empty() {
                        0
                    } else {
                        sessions[a + j]
                    },
                    row: r.row,
                    event: r.event,
                };
                *slot += 1;
            }
            for j in 0..BUCKET {
                let (x, y) = (starts[j], starts[j + 1]);
                if x == y {
                    continue;
                }
                let code = lo + (bucket * BUCKET + j) as u32;
                let id = match self.ids {
                    Some(ids) => ids[code as usize],
                    None => self.min.wrapping_add(i64::from(code)),
                };
                part.customers.push(id);
                self.walk(&mut recs[x..y], &mut part)?;
            }
        }
        Ok(part)
    }

    /// One customer's rows, in input order.
    fn walk(&self, recs: &mut [Rec], part: &mut Part) -> Result<()> {
        let mut latest = recs[0].time;
        for r in &recs[1..] {
            if r.time < latest {
                part.n_reordered += 1;
            } else {
                latest = r.time;
            }
        }
        if recs
            .windows(2)
            .any(|w| (w[0].session, w[0].time) > (w[1].session, w[1].time))
        {
            recs.sort_by_key(|r| (r.session, r.time));
        }
        let close = |part: &mut Part, path: &[Rec]| {
            part.paths += 1;
            part.exits[path[path.len() - 1].event as usize] += 1;
            if path.len() <= self.max_steps {
                part.variants.add(path.iter().map(|r| r.event), 1);
            } else {
                part.dropped += 1;
            }
        };
        let mut start = 0usize;
        part.starts[recs[0].event as usize] += 1;
        for j in 1..recs.len() {
            let (p, r) = (recs[j - 1], recs[j]);
            let continues = p.session == r.session && {
                let gap = r.time.checked_sub(p.time).ok_or_else(|| {
                    Error::invalid(
                        "time",
                        format!("the gap before row {} does not fit 64 bits", r.row),
                    )
                })?;
                self.session_gap.is_none_or(|g| gap <= g)
            };
            if continues {
                part.edges.push(p.event, r.event, (r.time - p.time) as u64);
            } else {
                close(part, &recs[start..j]);
                part.starts[r.event as usize] += 1;
                start = j;
            }
        }
        close(part, &recs[start..]);
        part.steps += recs.len() as u64;
        Ok(())
    }
}

/// Fold the rows of `batch` (checked for length by the caller) into counts.
pub(super) fn fold(
    batch: PathEvents<'_>,
    session_gap: Option<i64>,
    max_steps: u32,
    check_name: impl Fn(&str) -> Result<()>,
) -> Result<Folded> {
    let n = batch.customers.len();
    let k_all = batch.names.len();
    let scan = (0..n)
        .into_par_iter()
        .with_min_len(MIN_ROWS_PER_TASK)
        .fold(
            || Scan::new(k_all),
            |mut s, i| {
                match missing(&batch, i) {
                    Some(0) => s.omitted.customer += 1,
                    Some(1) => s.omitted.event += 1,
                    Some(2) => s.omitted.time += 1,
                    Some(_) => s.omitted.session += 1,
                    None => match s.used.get_mut(batch.events[i] as usize) {
                        Some(u) => {
                            *u = true;
                            s.kept += 1;
                            let c = batch.customers[i];
                            s.min = s.min.min(c);
                            s.max = s.max.max(c);
                        }
                        None => {
                            if s.bad.is_none_or(|b| i < b) {
                                s.bad = Some(i);
                            }
                        }
                    },
                }
                s
            },
        )
        .reduce(|| Scan::new(k_all), Scan::join);
    if let Some(i) = scan.bad {
        return Err(Error::invalid(
            "events",
            format!(
                "the event code {} at row {i} has no name (there are {k_all} names)",
                batch.events[i]
            ),
        ));
    }
    // Event names: each batch code mapped to its rank among the names used.
    let mut names: Vec<&String> = batch
        .names
        .iter()
        .zip(&scan.used)
        .filter_map(|(s, u)| u.then_some(s))
        .collect();
    for s in &names {
        check_name(s)?;
    }
    names.sort_unstable();
    names.dedup();
    let rank: Vec<u32> = batch
        .names
        .iter()
        .map(|s| names.binary_search(&s).map_or(u32::MAX, |k| k as u32))
        .collect();
    let mut out = Folded {
        names: names.iter().map(|s| (*s).clone()).collect(),
        omitted: scan.omitted,
        ..Folded::default()
    };
    let k = out.names.len();
    out.starts = vec![0; k];
    out.exits = vec![0; k];
    if scan.kept == 0 {
        return Ok(out);
    }
    // Customer codes, ascending with the ids.
    let kept = |i: usize| missing(&batch, i).is_none();
    let span = i128::from(scan.max) - i128::from(scan.min) + 1;
    let dense = span <= (2 * scan.kept as i128 + 1024).min(i128::from(u32::MAX - 1));
    let (codes, ids, n_codes): (Vec<u32>, Option<Vec<i64>>, usize) = if dense {
        let min = scan.min;
        let codes = (0..n)
            .into_par_iter()
            .with_min_len(MIN_ROWS_PER_TASK)
            .map(|i| {
                if kept(i) {
                    batch.customers[i].wrapping_sub(min) as u32
                } else {
                    u32::MAX
                }
            })
            .collect();
        (codes, None, span as usize)
    } else {
        let mut first: FxHashMap<i64, u32> = FxHashMap::default();
        let mut codes: Vec<u32> = (0..n)
            .map(|i| {
                if kept(i) {
                    let next = first.len() as u32;
                    *first.entry(batch.customers[i]).or_insert(next)
                } else {
                    u32::MAX
                }
            })
            .collect();
        let mut distinct: Vec<(i64, u32)> = first.into_iter().collect();
        distinct.sort_unstable();
        let mut to_rank = vec![0u32; distinct.len()];
        for (r, (_, c)) in distinct.iter().enumerate() {
            to_rank[*c as usize] = r as u32;
        }
        codes.par_iter_mut().for_each(|c| {
            if *c != u32::MAX {
                *c = to_rank[*c as usize];
            }
        });
        let ids: Vec<i64> = distinct.into_iter().map(|(id, _)| id).collect();
        let n_codes = ids.len();
        (codes, Some(ids), n_codes)
    };
    let ctx = Ctx {
        batch,
        codes: &codes,
        rank: &rank,
        ids: ids.as_deref(),
        min: scan.min,
        k,
        session_gap,
        max_steps: max_steps as usize,
    };
    let tasks = if scan.kept < 2 * MIN_ROWS_PER_TASK {
        1
    } else {
        (2 * rayon::current_num_threads()).clamp(1, n_codes)
    };
    let bounds: Vec<(u32, u32)> = (0..tasks)
        .map(|t| {
            let at = |t: usize| (n_codes as u128 * t as u128 / tasks as u128) as u32;
            (at(t), at(t + 1))
        })
        .collect();
    let parts: Vec<Result<Part>> = bounds
        .into_par_iter()
        .with_max_len(1)
        .map(|(lo, hi)| ctx.task(lo, hi))
        .collect();
    // The counts put together in code order (the first error in that order is the one reported).
    let mut edges: FxHashMap<(u32, u32), Vec<u64>> = FxHashMap::default();
    let mut variants = Variants::default();
    let mut first = true;
    for part in parts {
        let part = part?;
        for e in 0..k {
            out.starts[e] += part.starts[e];
            out.exits[e] += part.exits[e];
        }
        out.customers.extend_from_slice(&part.customers);
        out.paths += part.paths;
        out.steps += part.steps;
        out.n_reordered += part.n_reordered;
        out.variants_dropped += part.dropped;
        for (key, g) in part.edges.into_edges() {
            match edges.get_mut(&key) {
                Some(have) => have.extend_from_slice(&g),
                None => {
                    edges.insert(key, g);
                }
            }
        }
        if first {
            variants = part.variants;
            first = false;
        } else {
            for (codes, c) in part.variants.iter() {
                variants.add(codes.iter().copied(), c);
            }
        }
    }
    let mut edges: Vec<((u32, u32), Vec<u64>)> = edges.into_iter().collect();
    edges.sort_unstable_by_key(|(key, _)| *key);
    edges
        .par_iter_mut()
        .with_max_len(1)
        .for_each(|(_, g)| g.sort_unstable());
    out.edges = edges.into_iter().collect();
    out.variants = variants.sorted(k).collect();
    Ok(out)
}
