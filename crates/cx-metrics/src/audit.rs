//! Touchpoint audits (mystery shopping, test purchases): checklist results become compliance rates
//! with Wilson intervals.
//!
//! Each audit row is one checklist item checked at one visit: the touchpoint, the standard (the
//! checklist item, e.g. "greeted within 30 s"), the location (shop, branch, site) and the outcome
//! (1 passed, 0 failed, NaN not applicable). [`AuditTally`] is a mergeable state of counts per
//! (touchpoint, standard, location) cell: audits of several waves, agencies or partitions merge
//! exactly. Its result, [`AuditCompliance`], gives the compliance rate (passed / applicable checks)
//! per touchpoint, per touchpoint and standard, per touchpoint and location, and per cell, each with
//! its Wilson interval.
//!
//! The interval treats checks as independent; checks of one visit share the visit's staff and day,
//! so with many standards per visit the intervals are somewhat too narrow (a design effect above 1).
//!
//! ```
//! use cx_metrics::audit::{AuditOptions, AuditRows, AuditTally};
//! use cx_metrics::Accumulator;
//! let mut t = AuditTally::default();
//! let rows = AuditRows {
//!     touchpoint: &["shop", "shop", "shop", "web"],
//!     standard: &["greeting", "greeting", "price tags", "load time"],
//!     location: &["Leeds", "York", "Leeds", "online"],
//!     passed: &[1.0, 0.0, f64::NAN, 1.0],
//! };
//! t.fold_batch(rows, None).unwrap();
//! let c = t.finish(&AuditOptions::default()).unwrap();
//! let shop = &c.by_touchpoint[0];
//! assert_eq!((shop.checks, shop.passed, shop.not_applicable), (2, 1, 1));
//! assert_eq!(shop.rate, 0.5);
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::intervals::{check_level, proportion_ci, Interval, ProportionMethod};
use crate::state::{Accumulator, Decoder, Encoder, Example, StateKind};
use crate::tally::Merge;

/// One (touchpoint, standard, location) cell of an audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCell {
    /// The touchpoint audited.
    pub touchpoint: String,
    /// The standard (checklist item).
    pub standard: String,
    /// The location.
    pub location: String,
    /// Applicable checks.
    pub checks: u64,
    /// Checks passed.
    pub passed: u64,
    /// Checks marked not applicable.
    pub not_applicable: u64,
}

impl AuditCell {
    fn key(&self) -> (&str, &str, &str) {
        (&self.touchpoint, &self.standard, &self.location)
    }
}

#[derive(Deserialize)]
struct RawAuditTally {
    cells: Vec<AuditCell>,
}

impl TryFrom<RawAuditTally> for AuditTally {
    type Error = Error;
    fn try_from(r: RawAuditTally) -> Result<Self> {
        let t = Self { cells: r.cells };
        t.validate()?;
        Ok(t)
    }
}

/// Mergeable audit counts per (touchpoint, standard, location), sorted by that key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawAuditTally")]
pub struct AuditTally {
    cells: Vec<AuditCell>,
}

/// Audit rows: one checklist item at one visit per row.
#[derive(Debug, Clone, Copy)]
pub struct AuditRows<'a> {
    /// The touchpoint.
    pub touchpoint: &'a [&'a str],
    /// The standard (checklist item).
    pub standard: &'a [&'a str],
    /// The location.
    pub location: &'a [&'a str],
    /// 1 passed, 0 failed, NaN not applicable.
    pub passed: &'a [f64],
}

/// Options of the compliance result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AuditOptions {
    /// Level of the intervals.
    pub confidence_level: f64,
    /// The interval of the rates (Wilson by default).
    pub method: ProportionMethod,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            confidence_level: 0.95,
            method: ProportionMethod::Wilson,
        }
    }
}

/// A compliance rate of a set of checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceRow {
    /// The touchpoint.
    pub touchpoint: String,
    /// The standard (`None`: all standards).
    pub standard: Option<String>,
    /// The location (`None`: all locations).
    pub location: Option<String>,
    /// Applicable checks.
    pub checks: u64,
    /// Checks passed.
    pub passed: u64,
    /// Checks not applicable (not in the rate).
    pub not_applicable: u64,
    /// passed / checks (NaN without applicable checks).
    #[serde(with = "crate::serde_nan")]
    pub rate: f64,
    /// Its interval (`None` without applicable checks).
    pub ci: Option<Interval>,
}

/// Compliance rates of an audit (see [`AuditTally`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditCompliance {
    /// The options.
    pub options: AuditOptions,
    /// Applicable checks in all.
    pub checks: u64,
    /// Checks not applicable in all.
    pub not_applicable: u64,
    /// Per touchpoint (sorted).
    pub by_touchpoint: Vec<ComplianceRow>,
    /// Per touchpoint and standard.
    pub by_standard: Vec<ComplianceRow>,
    /// Per touchpoint and location.
    pub by_location: Vec<ComplianceRow>,
    /// Per touchpoint, standard and location.
    pub cells: Vec<ComplianceRow>,
}

impl AuditTally {
    /// The cells, sorted by (touchpoint, standard, location).
    pub fn cells(&self) -> &[AuditCell] {
        &self.cells
    }
}

fn add(a: u64, b: u64, what: &str) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| Error::Overflow {
        what: format!("the {what} count ({a} + {b})"),
    })
}

impl Merge for AuditTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        let mut out: Vec<AuditCell> = Vec::with_capacity(self.cells.len() + other.cells.len());
        let (mut i, mut j) = (0, 0);
        while i < self.cells.len() || j < other.cells.len() {
            let take_a = j == other.cells.len()
                || (i < self.cells.len() && self.cells[i].key() < other.cells[j].key());
            let take_b = i == self.cells.len()
                || (j < other.cells.len() && other.cells[j].key() < self.cells[i].key());
            if take_a {
                out.push(self.cells[i].clone());
                i += 1;
            } else if take_b {
                out.push(other.cells[j].clone());
                j += 1;
            } else {
                let (a, b) = (&self.cells[i], &other.cells[j]);
                out.push(AuditCell {
                    checks: add(a.checks, b.checks, "check")?,
                    passed: add(a.passed, b.passed, "passed")?,
                    not_applicable: add(a.not_applicable, b.not_applicable, "not-applicable")?,
                    ..a.clone()
                });
                i += 1;
                j += 1;
            }
        }
        self.cells = out;
        Ok(())
    }
}

fn rollup<'a>(
    cells: impl Iterator<Item = (String, Option<String>, Option<String>, &'a AuditCell)>,
    options: &AuditOptions,
) -> Result<Vec<ComplianceRow>> {
    let mut rows: Vec<ComplianceRow> = Vec::new();
    for (tp, st, loc, c) in cells {
        let pos = rows
            .iter()
            .position(|r| r.touchpoint == tp && r.standard == st && r.location == loc);
        let r = match pos {
            Some(p) => &mut rows[p],
            None => {
                rows.push(ComplianceRow {
                    touchpoint: tp,
                    standard: st,
                    location: loc,
                    checks: 0,
                    passed: 0,
                    not_applicable: 0,
                    rate: f64::NAN,
                    ci: None,
                });
                rows.last_mut().expect("just pushed")
            }
        };
        r.checks = add(r.checks, c.checks, "check")?;
        r.passed = add(r.passed, c.passed, "passed")?;
        r.not_applicable = add(r.not_applicable, c.not_applicable, "not-applicable")?;
    }
    rows.sort_by(|a, b| {
        (&a.touchpoint, &a.standard, &a.location).cmp(&(&b.touchpoint, &b.standard, &b.location))
    });
    for r in &mut rows {
        if r.checks > 0 {
            r.rate = r.passed as f64 / r.checks as f64;
            r.ci = Some(proportion_ci(
                r.passed as f64,
                r.checks as f64,
                options.confidence_level,
                options.method,
            )?);
        }
    }
    Ok(rows)
}

impl Accumulator for AuditTally {
    const KIND: StateKind = StateKind::AuditTally;
    type Batch<'a> = AuditRows<'a>;
    type Options = AuditOptions;
    type Output = AuditCompliance;

    /// Fold audit rows; a failure changes nothing.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for columns of different lengths; [`Error::InvalidArgument`] for
    /// weights (audits are counted, not weighted), an outcome other than 0, 1 or NaN, or a blank
    /// touchpoint, standard or location, naming the row.
    fn fold_batch(&mut self, batch: AuditRows<'_>, weights: Option<&[f64]>) -> Result<()> {
        if weights.is_some() {
            return Err(Error::invalid(
                "weights",
                "audit checks are counted, not weighted; pass no weights",
            ));
        }
        let n = batch.passed.len();
        for (what, len) in [
            ("passed and touchpoint columns", batch.touchpoint.len()),
            ("passed and standard columns", batch.standard.len()),
            ("passed and location columns", batch.location.len()),
        ] {
            if len != n {
                return Err(Error::LengthMismatch {
                    what,
                    left: n,
                    right: len,
                });
            }
        }
        let mut keyed: Vec<(&str, &str, &str, u8)> = Vec::with_capacity(n);
        for i in 0..n {
            let (t, s, l) = (batch.touchpoint[i], batch.standard[i], batch.location[i]);
            if t.trim().is_empty() || s.trim().is_empty() || l.trim().is_empty() {
                return Err(Error::invalid(
                    "audit",
                    format!(
                        "row {i} has a blank touchpoint, standard or location; fill them in or drop \
                         the row"
                    ),
                ));
            }
            let p = batch.passed[i];
            let outcome = if p.is_nan() {
                2
            } else if p == 1.0 {
                1
            } else if p == 0.0 {
                0
            } else {
                return Err(Error::invalid(
                    "passed",
                    format!(
                        "value {p} at row {i}; an audit outcome is 1 (passed), 0 (failed) or \
                         missing (not applicable)"
                    ),
                ));
            };
            keyed.push((t, s, l, outcome));
        }
        keyed.sort_unstable();
        let mut part = Self::default();
        for (t, s, l, o) in keyed {
            let same = part.cells.last().is_some_and(|c| c.key() == (t, s, l));
            if !same {
                part.cells.push(AuditCell {
                    touchpoint: t.to_string(),
                    standard: s.to_string(),
                    location: l.to_string(),
                    checks: 0,
                    passed: 0,
                    not_applicable: 0,
                });
            }
            let c = part.cells.last_mut().expect("pushed");
            match o {
                2 => c.not_applicable += 1,
                1 => {
                    c.checks += 1;
                    c.passed += 1;
                }
                _ => c.checks += 1,
            }
        }
        let mut merged = self.clone();
        merged.merge(&part)?;
        *self = merged;
        Ok(())
    }

    fn n(&self) -> u64 {
        self.cells.iter().fold(0u64, |a, c| {
            a.saturating_add(c.checks).saturating_add(c.not_applicable)
        })
    }

    fn finish(&self, options: &AuditOptions) -> Result<AuditCompliance> {
        check_level(options.confidence_level)?;
        let by_touchpoint = rollup(
            self.cells
                .iter()
                .map(|c| (c.touchpoint.clone(), None, None, c)),
            options,
        )?;
        let by_standard = rollup(
            self.cells
                .iter()
                .map(|c| (c.touchpoint.clone(), Some(c.standard.clone()), None, c)),
            options,
        )?;
        let by_location = rollup(
            self.cells
                .iter()
                .map(|c| (c.touchpoint.clone(), None, Some(c.location.clone()), c)),
            options,
        )?;
        let cells = rollup(
            self.cells.iter().map(|c| {
                (
                    c.touchpoint.clone(),
                    Some(c.standard.clone()),
                    Some(c.location.clone()),
                    c,
                )
            }),
            options,
        )?;
        let checks = by_touchpoint
            .iter()
            .try_fold(0u64, |a, r| add(a, r.checks, "check"))?;
        let not_applicable = by_touchpoint
            .iter()
            .try_fold(0u64, |a, r| add(a, r.not_applicable, "not-applicable"))?;
        Ok(AuditCompliance {
            options: *options,
            checks,
            not_applicable,
            by_touchpoint,
            by_standard,
            by_location,
            cells,
        })
    }

    fn validate(&self) -> Result<()> {
        let (mut checks, mut na) = (0u64, 0u64);
        for (k, c) in self.cells.iter().enumerate() {
            if k > 0 && self.cells[k - 1].key() >= c.key() {
                return Err(Self::KIND.invalid("cells out of order or repeated"));
            }
            if c.touchpoint.trim().is_empty()
                || c.standard.trim().is_empty()
                || c.location.trim().is_empty()
            {
                return Err(Self::KIND.invalid(format!("cell {k} has a blank name")));
            }
            if c.passed > c.checks {
                return Err(Self::KIND.invalid(format!(
                    "cell {k}: {} checks passed of {}",
                    c.passed, c.checks
                )));
            }
            if c.checks == 0 && c.not_applicable == 0 {
                return Err(Self::KIND.invalid(format!("cell {k} has no check")));
            }
            checks = checks
                .checked_add(c.checks)
                .ok_or_else(|| Self::KIND.invalid("the check count overflows"))?;
            na = na
                .checked_add(c.not_applicable)
                .ok_or_else(|| Self::KIND.invalid("the not-applicable count overflows"))?;
        }
        checks
            .checked_add(na)
            .ok_or_else(|| Self::KIND.invalid("the row count overflows"))?;
        Ok(())
    }

    fn encode_payload(&self, out: &mut Encoder) {
        out.u64(self.cells.len() as u64);
        for c in &self.cells {
            out.str(&c.touchpoint);
            out.str(&c.standard);
            out.str(&c.location);
            out.u64(c.checks);
            out.u64(c.passed);
            out.u64(c.not_applicable);
        }
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let n = input.u64("cell count")?;
        let n = usize::try_from(n).map_err(|_| input.invalid("cell count"))?;
        input.check_fits(n, 36, "cells")?;
        let mut cells = Vec::with_capacity(n);
        for _ in 0..n {
            cells.push(AuditCell {
                touchpoint: input.str("touchpoint")?,
                standard: input.str("standard")?,
                location: input.str("location")?,
                checks: input.u64("checks")?,
                passed: input.u64("passed")?,
                not_applicable: input.u64("not_applicable")?,
            });
        }
        Ok(Self { cells })
    }
}

impl Example for AuditTally {
    fn example() -> Self {
        let mut t = Self::default();
        t.fold_batch(
            AuditRows {
                touchpoint: &["shop", "shop", "shop", "web", "web"],
                standard: &[
                    "greeting",
                    "greeting",
                    "price tags",
                    "load time",
                    "load time",
                ],
                location: &["Leeds", "York", "Leeds", "online", "online"],
                passed: &[1.0, 0.0, f64::NAN, 1.0, 1.0],
            },
            None,
        )
        .expect("valid rows");
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_of_parts_equals_one_pass_and_rejects_bad_rows() {
        let rows = AuditRows {
            touchpoint: &["a", "a", "b", "a", "b", "a"],
            standard: &["s", "t", "s", "s", "s", "t"],
            location: &["x", "x", "y", "y", "y", "x"],
            passed: &[1.0, 0.0, 1.0, f64::NAN, 0.0, 1.0],
        };
        let mut whole = AuditTally::default();
        whole.fold_batch(rows, None).unwrap();
        let (mut a, mut b) = (AuditTally::default(), AuditTally::default());
        let cut = |r: std::ops::Range<usize>| AuditRows {
            touchpoint: &rows.touchpoint[r.clone()],
            standard: &rows.standard[r.clone()],
            location: &rows.location[r.clone()],
            passed: &rows.passed[r],
        };
        a.fold_batch(cut(0..3), None).unwrap();
        b.fold_batch(cut(3..6), None).unwrap();
        let mut ba = b.clone();
        ba.merge(&a).unwrap();
        a.merge(&b).unwrap();
        assert_eq!(a, whole);
        assert_eq!(ba, whole);
        assert_eq!(whole.n(), 6);
        let before = whole.clone();
        let bad = AuditRows {
            passed: &[1.0, 0.5, 1.0, 1.0, 1.0, 1.0],
            ..rows
        };
        assert!(matches!(
            whole.fold_batch(bad, None),
            Err(Error::InvalidArgument { .. })
        ));
        assert_eq!(whole, before);
        let c = whole.finish(&AuditOptions::default()).unwrap();
        // a: rows 0, 1, 5 applicable (2 passed), row 3 not applicable; b: rows 2, 4 (1 passed).
        assert_eq!(
            (c.by_touchpoint[0].checks, c.by_touchpoint[0].passed),
            (3, 2)
        );
        assert_eq!(c.by_touchpoint[0].not_applicable, 1);
        assert_eq!(
            (c.by_touchpoint[1].checks, c.by_touchpoint[1].passed),
            (2, 1)
        );
        assert_eq!((c.checks, c.not_applicable), (5, 1));
        // Wilson 2 of 3 at 95 % (statsmodels proportion_confint(2, 3, method="wilson")).
        let ci = c.by_touchpoint[0].ci.unwrap();
        assert!(
            (ci.low - 0.207_659_600_802_047_7).abs() < 1e-9,
            "{}",
            ci.low
        );
        assert!(
            (ci.high - 0.938_508_055_279_603_7).abs() < 1e-9,
            "{}",
            ci.high
        );
    }

    #[test]
    fn round_trips_and_rejects_bad_states() {
        let t = AuditTally::example();
        assert_eq!(AuditTally::from_bytes(&t.to_bytes()).unwrap(), t);
        assert_eq!(AuditTally::from_json(&t.to_json()).unwrap(), t);
        let bad = r#"{"cells": [{"touchpoint": "a", "standard": "s", "location": "x",
            "checks": 1, "passed": 2, "not_applicable": 0}]}"#;
        assert!(AuditTally::from_json(bad).is_err());
        let unsorted = r#"{"cells": [
            {"touchpoint": "b", "standard": "s", "location": "x", "checks": 1, "passed": 1, "not_applicable": 0},
            {"touchpoint": "a", "standard": "s", "location": "x", "checks": 1, "passed": 1, "not_applicable": 0}]}"#;
        assert!(AuditTally::from_json(unsorted).is_err());
        let mut big = AuditTally::example();
        big.cells[0].checks = u64::MAX;
        big.cells[0].passed = 0;
        let before = t.clone();
        let mut a = t.clone();
        assert!(matches!(a.merge(&big), Err(Error::Overflow { .. })));
        assert_eq!(a, before);
    }
}
