//! Service level of a queue of calls (or chats): the share of contacts answered within a threshold
//! `T`, under a formula that is always named, never a default, with the average speed of answer
//! (ASA) and the abandonment rate.
//!
//! The state ([`ServiceLevelTally`]) keeps the counts every formula needs, so any formula can be
//! computed after merging (store the counts, never a percentage):
//!
//! | count | contacts |
//! | --- | --- |
//! | `answered_within` | answered after a wait ≤ `T` |
//! | `answered_after` | answered after a wait > `T` |
//! | `abandoned_short` | abandoned after a wait ≤ the short-abandon threshold `N` (`N ≤ T`) |
//! | `abandoned_within` | abandoned after a wait ≤ `T` (and > `N` when `N` is set) |
//! | `abandoned_after` | abandoned after a wait > `T` |
//!
//! With `A` answered, `Aw` answered within `T`, `B` abandoned and `Bw` abandoned within `T`, the
//! five formulas in ICMI's list (numbered as there) and Cisco Unified ICM/CCE's three service level
//! types are:
//!
//! | formula | service level |
//! | --- | --- |
//! | `icmi1` | `(Aw + Bw) / (A + B)`: abandons within `T` count as met |
//! | `icmi2` | `Aw / A`: abandons ignored |
//! | `icmi3` | `Aw / (A + B)`: every abandon counts as missed |
//! | `icmi4` | `Aw / (A + B − Bw)`: abandons within `T` removed, later ones missed |
//! | `icmi5` | `(Aw + S) / (A + B)`, `S` the abandons within the short threshold `N` (met) |
//! | `cisco_ignored` (type 1) | `SLCalls / (SLOffered − SLAband)` = `Aw / (A + B − Bw)` |
//! | `cisco_negative` (type 2) | `SLCalls / SLOffered` = `Aw / (A + B)` |
//! | `cisco_positive` (type 3) | `(SLCalls + SLAband) / SLOffered` = `(Aw + Bw) / (A + B)` |
//!
//! Every contact of the input is answered or abandoned, so each has a Cisco "service level event"
//! and `SLOffered = A + B`, `SLCalls = Aw`, `SLAband = Bw`.
//!
//! **Short abandons.** With a short-abandon threshold `N`, contacts abandoned within `N` seconds
//! are left out of every count of every formula (Cisco's short-call timer) and reported as
//! `short_abandons_excluded`; the exception is `icmi5`, whose numerator counts them as met and
//! whose denominator keeps every abandon (ICMI's definition). `icmi5` needs `N`. Waits exactly at
//! a threshold count as within it (`wait ≤ T`).
//!
//! ASA = mean wait of the answered contacts (with a t interval when the waits were folded row by
//! row); abandonment rate = `B / (A + B)` (short abandons left out when `N` is set), with a Wilson
//! interval, as is the service level (`numerator` of `denominator` contacts).
//!
//! ```
//! use cx_metrics::service_level::{ServiceLevelTally, SlCounts, SlFormula};
//! // ICMI's example: 1000 answered (860 within 20 s), 60 abandoned (20 within 20 s, 10 within 5 s).
//! let counts = SlCounts { answered_within: 860, answered_after: 140, abandoned_short: 10,
//!     abandoned_within: 10, abandoned_after: 40 };
//! let t = ServiceLevelTally::from_counts(20.0, Some(5.0), counts, None).unwrap();
//! let r = t.result(SlFormula::Icmi5, 0.95).unwrap();
//! assert!((r.service_level - 870.0 / 1060.0).abs() < 1e-15);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, UndefinedReason};
use crate::intervals::{mean_t_ci, proportion_ci, Interval, ProportionMethod};
use crate::state::{add_count, Accumulator, Decoder, Encoder, Example, StateKind};
use crate::tally::Merge;

/// A service level formula (see the [module documentation](self)).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlFormula {
    /// ICMI #1: `(Aw + Bw) / (A + B)`.
    Icmi1,
    /// ICMI #2: `Aw / A`.
    Icmi2,
    /// ICMI #3: `Aw / (A + B)`.
    Icmi3,
    /// ICMI #4: `Aw / (A + B − Bw)`.
    Icmi4,
    /// ICMI #5: `(Aw + S) / (A + B)` with `S` the short abandons.
    Icmi5,
    /// Cisco type 1, abandoned calls ignored: `Aw / (A + B − Bw)`.
    CiscoIgnored,
    /// Cisco type 2, abandoned calls count against: `Aw / (A + B)`.
    CiscoNegative,
    /// Cisco type 3, abandoned calls count for: `(Aw + Bw) / (A + B)`.
    CiscoPositive,
}

impl SlFormula {
    /// Every formula, in the order of the module documentation.
    pub const ALL: [Self; 8] = [
        Self::Icmi1,
        Self::Icmi2,
        Self::Icmi3,
        Self::Icmi4,
        Self::Icmi5,
        Self::CiscoIgnored,
        Self::CiscoNegative,
        Self::CiscoPositive,
    ];

    /// The option string.
    pub fn id(self) -> &'static str {
        match self {
            Self::Icmi1 => "icmi1",
            Self::Icmi2 => "icmi2",
            Self::Icmi3 => "icmi3",
            Self::Icmi4 => "icmi4",
            Self::Icmi5 => "icmi5",
            Self::CiscoIgnored => "cisco_ignored",
            Self::CiscoNegative => "cisco_negative",
            Self::CiscoPositive => "cisco_positive",
        }
    }

    /// The formula in words.
    pub fn text(self) -> &'static str {
        match self {
            Self::Icmi1 | Self::CiscoPositive => {
                "(answered within T + abandoned within T) / (answered + abandoned)"
            }
            Self::Icmi2 => "answered within T / answered",
            Self::Icmi3 | Self::CiscoNegative => "answered within T / (answered + abandoned)",
            Self::Icmi4 | Self::CiscoIgnored => {
                "answered within T / (answered + abandoned - abandoned within T)"
            }
            Self::Icmi5 => "(answered within T + abandoned within N) / (answered + abandoned)",
        }
    }
}

impl fmt::Display for SlFormula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for SlFormula {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|f| f.id() == s).ok_or_else(|| {
            Error::invalid(
                "formula",
                format!(
                    "{s:?}; name one of \"icmi1\" ... \"icmi5\", \"cisco_ignored\", \
                     \"cisco_negative\", \"cisco_positive\" (there is no default)"
                ),
            )
        })
    }
}

/// Pre-aggregated counts of an interval (see the [module documentation](self) for each count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SlCounts {
    /// Answered after a wait ≤ `T`.
    pub answered_within: u64,
    /// Answered after a wait > `T`.
    pub answered_after: u64,
    /// Abandoned within the short-abandon threshold `N` (0 without `N`).
    pub abandoned_short: u64,
    /// Abandoned within `T` (and after `N`).
    pub abandoned_within: u64,
    /// Abandoned after `T`.
    pub abandoned_after: u64,
}

impl SlCounts {
    fn add(&self, o: &Self) -> Result<Self> {
        let f = |a, b, what: &str| add_count(a, b, || format!("the {what} count"));
        Ok(Self {
            answered_within: f(self.answered_within, o.answered_within, "answered within")?,
            answered_after: f(self.answered_after, o.answered_after, "answered after")?,
            abandoned_short: f(self.abandoned_short, o.abandoned_short, "short abandon")?,
            abandoned_within: f(
                self.abandoned_within,
                o.abandoned_within,
                "abandoned within",
            )?,
            abandoned_after: f(self.abandoned_after, o.abandoned_after, "abandoned after")?,
        })
    }

    /// Every contact counted (checked).
    fn total(&self) -> Option<u64> {
        self.answered_within
            .checked_add(self.answered_after)?
            .checked_add(self.abandoned_short)?
            .checked_add(self.abandoned_within)?
            .checked_add(self.abandoned_after)
    }

    fn answered(&self) -> u64 {
        self.answered_within + self.answered_after
    }
}

/// The waits of the answered contacts: their mean and sum of squared deviations (Chan et al.'s
/// pairwise update on merge). `None` in the tally when the counts came pre-aggregated without them.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct WaitMoments {
    /// Mean wait to answer.
    pub mean: f64,
    /// Sum of squared deviations from the mean (`None`: only the total wait was given).
    pub m2: Option<f64>,
}

/// The mergeable service level state: a threshold `T`, an optional short-abandon threshold `N`,
/// the counts of the [module documentation](self) and the answered waits' moments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawServiceLevelTally")]
pub struct ServiceLevelTally {
    threshold: f64,
    short_abandon: Option<f64>,
    counts: SlCounts,
    /// `None`: counts given without the answered waits (no ASA).
    waits: Option<WaitMoments>,
}

#[derive(Deserialize)]
struct RawServiceLevelTally {
    threshold: f64,
    short_abandon: Option<f64>,
    counts: SlCounts,
    waits: Option<WaitMoments>,
}

impl TryFrom<RawServiceLevelTally> for ServiceLevelTally {
    type Error = Error;
    fn try_from(r: RawServiceLevelTally) -> Result<Self> {
        let t = Self {
            threshold: r.threshold,
            short_abandon: r.short_abandon,
            counts: r.counts,
            waits: r.waits,
        };
        t.validate()?;
        Ok(t)
    }
}

fn check_thresholds(threshold: f64, short_abandon: Option<f64>) -> Result<()> {
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(Error::invalid(
            "threshold",
            format!(
                "{threshold}; the service level threshold is a finite wait >= 0, e.g. 20 (seconds)"
            ),
        ));
    }
    if let Some(n) = short_abandon {
        if !(n.is_finite() && (0.0..=threshold).contains(&n)) {
            return Err(Error::invalid(
                "short_abandon",
                format!(
                    "{n}; the short-abandon threshold is a finite wait >= 0 and <= the threshold \
                     {threshold}, e.g. 5 (seconds)"
                ),
            ));
        }
    }
    Ok(())
}

/// Per-contact rows: the wait (to answer or to abandon) and whether the contact was answered
/// (`false`: abandoned).
#[derive(Debug, Clone, Copy)]
pub struct ContactRows<'a> {
    /// Waits, finite and ≥ 0, in the unit of the thresholds.
    pub waits: &'a [f64],
    /// Answered (`true`) or abandoned (`false`).
    pub answered: &'a [bool],
}

impl ServiceLevelTally {
    /// An empty tally with threshold `T` and optional short-abandon threshold `N ≤ T`.
    pub fn new(threshold: f64, short_abandon: Option<f64>) -> Result<Self> {
        check_thresholds(threshold, short_abandon)?;
        Ok(Self {
            threshold,
            short_abandon,
            counts: SlCounts::default(),
            waits: Some(WaitMoments {
                mean: 0.0,
                m2: Some(0.0),
            }),
        })
    }

    /// A tally from pre-aggregated counts, with the total wait of the answered contacts if known
    /// (ASA without an interval: the spread of the waits is not in the counts).
    pub fn from_counts(
        threshold: f64,
        short_abandon: Option<f64>,
        counts: SlCounts,
        answered_wait_total: Option<f64>,
    ) -> Result<Self> {
        check_thresholds(threshold, short_abandon)?;
        if short_abandon.is_none() && counts.abandoned_short > 0 {
            return Err(Error::invalid(
                "abandoned_short",
                "short abandons counted without a short_abandon threshold; give short_abandon= \
                 (the N they were counted with) or add them to abandoned_within",
            ));
        }
        let answered =
            counts
                .total()
                .map(|_| counts.answered())
                .ok_or_else(|| Error::Overflow {
                    what: "the contact count".into(),
                })?;
        let waits = match answered_wait_total {
            None if answered > 0 => None,
            None => Some(WaitMoments {
                mean: 0.0,
                m2: Some(0.0),
            }),
            Some(w) if !(w.is_finite() && w >= 0.0) => {
                return Err(Error::invalid(
                    "answered_wait_total",
                    format!("{w}; the total wait of the answered contacts is finite and >= 0"),
                ))
            }
            Some(w) => Some(WaitMoments {
                mean: if answered > 0 {
                    w / answered as f64
                } else {
                    0.0
                },
                m2: if answered > 0 { None } else { Some(0.0) },
            }),
        };
        let t = Self {
            threshold,
            short_abandon,
            counts,
            waits,
        };
        t.validate()?;
        Ok(t)
    }

    /// The threshold `T`.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The short-abandon threshold `N`.
    pub fn short_abandon(&self) -> Option<f64> {
        self.short_abandon
    }

    /// The counts.
    pub fn counts(&self) -> SlCounts {
        self.counts
    }

    /// The service level under `formula`, with ASA and the abandonment rate.
    pub fn result(&self, formula: SlFormula, confidence_level: f64) -> Result<ServiceLevelResult> {
        let c = self.counts;
        let all = c.total().ok_or_else(|| Error::Overflow {
            what: "the contact count".into(),
        })?;
        if all == 0 {
            return Err(Error::Undefined(UndefinedReason::NoRows));
        }
        let rates = |f: SlFormula| -> Result<(u64, u64)> {
            let (a, aw) = (c.answered(), c.answered_within);
            if f == SlFormula::Icmi5 {
                if self.short_abandon.is_none() {
                    return Err(Error::invalid(
                        "short_abandon",
                        "None with formula \"icmi5\"; ICMI #5 counts the abandons within a short \
                         threshold as met: give short_abandon= (e.g. 5 seconds)",
                    ));
                }
                let b = c.abandoned_short + c.abandoned_within + c.abandoned_after;
                return Ok((aw + c.abandoned_short, a + b));
            }
            // Short abandons (if N is set) are left out of every other formula.
            let (b, bw) = (c.abandoned_within + c.abandoned_after, c.abandoned_within);
            Ok(match f {
                SlFormula::Icmi1 | SlFormula::CiscoPositive => (aw + bw, a + b),
                SlFormula::Icmi2 => (aw, a),
                SlFormula::Icmi3 | SlFormula::CiscoNegative => (aw, a + b),
                SlFormula::Icmi4 | SlFormula::CiscoIgnored => (aw, a + b - bw),
                SlFormula::Icmi5 => unreachable!("handled above"),
            })
        };
        let (numerator, denominator) = rates(formula)?;
        let ratio = |(x, n): (u64, u64)| {
            if n == 0 {
                f64::NAN
            } else {
                x as f64 / n as f64
            }
        };
        let wilson = |x: u64, n: u64| -> Result<Option<Interval>> {
            if n == 0 {
                return Ok(None);
            }
            proportion_ci(
                x as f64,
                n as f64,
                confidence_level,
                ProportionMethod::Wilson,
            )
            .map(Some)
        };
        let service_level_ci = wilson(numerator, denominator)?;
        let every_formula = SlFormula::ALL
            .into_iter()
            .filter_map(|f| rates(f).ok().map(|r| (f, ratio(r))))
            .collect();
        let answered = c.answered();
        let abandoned = c.abandoned_within + c.abandoned_after;
        let offered = answered + abandoned;
        let (asa, asa_ci) = match self.waits {
            Some(w) if answered > 0 => {
                let ci = match w.m2 {
                    Some(m2) if answered > 1 => {
                        let sd = (m2 / (answered - 1) as f64).sqrt();
                        Some(mean_t_ci(w.mean, sd, answered as f64, confidence_level)?)
                    }
                    _ => None,
                };
                (Some(w.mean), ci)
            }
            _ => (None, None),
        };
        Ok(ServiceLevelResult {
            formula,
            formula_text: formula.text().to_string(),
            threshold: self.threshold,
            short_abandon: self.short_abandon,
            service_level: ratio((numerator, denominator)),
            numerator,
            denominator,
            service_level_ci,
            every_formula,
            contacts: all,
            answered,
            answered_within: c.answered_within,
            abandoned,
            abandoned_within: c.abandoned_within,
            short_abandons_excluded: if self.short_abandon.is_some() {
                c.abandoned_short
            } else {
                0
            },
            abandonment_rate: ratio((abandoned, offered)),
            abandonment_ci: wilson(abandoned, offered)?,
            asa,
            asa_ci,
            confidence_level,
        })
    }

    fn push(&mut self, i: usize, wait: f64, answered: bool) -> Result<()> {
        if !(wait.is_finite() && wait >= 0.0) {
            return Err(Error::invalid(
                "waits",
                format!(
                    "{wait} at position {i}; a wait is finite and >= 0 (seconds from offer to \
                     answer or abandon): fix or drop that row"
                ),
            ));
        }
        let within = wait <= self.threshold;
        let c = &mut self.counts;
        if answered {
            if within {
                c.answered_within += 1;
            } else {
                c.answered_after += 1;
            }
            if let Some(w) = self.waits.as_mut() {
                // Welford's update; exact counts keep n ≤ 2^53 in practice.
                let n = c.answered_within + c.answered_after;
                let delta = wait - w.mean;
                w.mean += delta / n as f64;
                if let Some(m2) = w.m2.as_mut() {
                    *m2 += delta * (wait - w.mean);
                }
            }
        } else if self.short_abandon.is_some_and(|n| wait <= n) {
            c.abandoned_short += 1;
        } else if within {
            c.abandoned_within += 1;
        } else {
            c.abandoned_after += 1;
        }
        Ok(())
    }
}

impl Merge for ServiceLevelTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.threshold.to_bits() != other.threshold.to_bits()
            || self.short_abandon.map(f64::to_bits) != other.short_abandon.map(f64::to_bits)
        {
            return Err(Error::invalid(
                "other",
                format!(
                    "a tally with threshold {} and short_abandon {:?} cannot merge one with {} and \
                     {:?}; fold every part with the same thresholds",
                    self.threshold, self.short_abandon, other.threshold, other.short_abandon
                ),
            ));
        }
        let counts = self.counts.add(&other.counts)?;
        counts.total().ok_or_else(|| Error::Overflow {
            what: "the contact count".into(),
        })?;
        let (na, nb) = (self.counts.answered(), other.counts.answered());
        let waits = match (self.waits, other.waits) {
            _ if nb == 0 => self.waits,
            _ if na == 0 => other.waits,
            (Some(a), Some(b)) => {
                let n = (na + nb) as f64;
                let delta = b.mean - a.mean;
                Some(WaitMoments {
                    mean: a.mean + delta * nb as f64 / n,
                    m2: match (a.m2, b.m2) {
                        (Some(x), Some(y)) => {
                            Some(x + y + delta * delta * na as f64 * nb as f64 / n)
                        }
                        _ => None,
                    },
                })
            }
            _ => None,
        };
        self.counts = counts;
        self.waits = waits;
        Ok(())
    }
}

/// Options of [`ServiceLevelTally`]'s `finish`: the formula (required) and the confidence level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlOptions {
    /// The formula.
    pub formula: SlFormula,
    /// The confidence level of the intervals.
    pub confidence_level: f64,
}

/// The [`ServiceLevelResult`] under `formula` of every group of `grouping`, in one call: the contacts
/// are checked once (a bad wait is named by its row in the input), gathered group by group (in input
/// order), and each group folded into its own tally of threshold `T` and short-abandon threshold
/// `N`, as one tally per group folded from its rows gives; `None` for a group without contacts (an
/// unused categorical level).
pub fn service_level_by_group(
    grouping: &crate::groups::Grouping<'_>,
    rows: ContactRows<'_>,
    threshold: f64,
    short_abandon: Option<f64>,
    formula: SlFormula,
    confidence_level: f64,
) -> Result<Vec<Option<ServiceLevelResult>>> {
    use rayon::prelude::*;

    let mut all = ServiceLevelTally::new(threshold, short_abandon)?;
    all.fold_batch(rows, None)?;
    if rows.waits.len() != grouping.n_rows() {
        return Err(Error::LengthMismatch {
            what: "waits and group labels",
            left: rows.waits.len(),
            right: grouping.n_rows(),
        });
    }
    crate::intervals::check_level(confidence_level)?;
    let (order, bounds) = crate::handling::rows_by_group(&grouping.codes(), grouping.n_groups());
    let waits: Vec<f64> = order.iter().map(|&i| rows.waits[i]).collect();
    let answered: Vec<bool> = order.iter().map(|&i| rows.answered[i]).collect();
    (0..grouping.n_groups())
        .into_par_iter()
        .map(|g| {
            let at = bounds[g]..bounds[g + 1];
            if at.is_empty() {
                return Ok(None);
            }
            let mut t = ServiceLevelTally::new(threshold, short_abandon)?;
            t.fold_batch(
                ContactRows {
                    waits: &waits[at.clone()],
                    answered: &answered[at],
                },
                None,
            )?;
            t.result(formula, confidence_level).map(Some)
        })
        .collect()
}

impl Accumulator for ServiceLevelTally {
    const KIND: StateKind = StateKind::ServiceLevelTally;
    type Batch<'a> = ContactRows<'a>;
    type Options = SlOptions;
    type Output = ServiceLevelResult;

    /// Per-contact rows (weights are not supported: the service level counts contacts).
    fn fold_batch(&mut self, batch: ContactRows<'_>, weights: Option<&[f64]>) -> Result<()> {
        if weights.is_some() {
            return Err(Error::invalid(
                "weights",
                "the service level counts contacts; weights are not supported",
            ));
        }
        if batch.waits.len() != batch.answered.len() {
            return Err(Error::LengthMismatch {
                what: "waits and answered",
                left: batch.waits.len(),
                right: batch.answered.len(),
            });
        }
        let mut part = Self::new(self.threshold, self.short_abandon)?;
        for (i, (w, a)) in batch.waits.iter().zip(batch.answered).enumerate() {
            part.push(i, *w, *a)?;
        }
        self.merge(&part)
    }

    fn n(&self) -> u64 {
        self.counts.total().unwrap_or(u64::MAX)
    }

    fn finish(&self, options: &SlOptions) -> Result<ServiceLevelResult> {
        self.result(options.formula, options.confidence_level)
    }

    fn validate(&self) -> Result<()> {
        check_thresholds(self.threshold, self.short_abandon)
            .map_err(|e| Self::KIND.invalid(e.to_string()))?;
        let c = self.counts;
        if c.total().is_none() {
            return Err(Self::KIND.invalid("the contact counts overflow"));
        }
        if self.short_abandon.is_none() && c.abandoned_short > 0 {
            return Err(Self::KIND.invalid("short abandons without a short-abandon threshold"));
        }
        match self.waits {
            None if c.answered() == 0 => {
                return Err(Self::KIND.invalid("no answered waits recorded, yet none answered"))
            }
            Some(w) => {
                let bad_mean = !(w.mean.is_finite() && w.mean >= 0.0);
                let bad_m2 = w.m2.is_some_and(|m| !(m.is_finite() && m >= 0.0));
                if bad_mean || bad_m2 {
                    return Err(Self::KIND.invalid(
                        "the answered waits' mean and squared deviations are finite and >= 0",
                    ));
                }
                if c.answered() == 0 && (w.mean != 0.0 || w.m2 != Some(0.0)) {
                    return Err(Self::KIND.invalid("answered waits without answered contacts"));
                }
            }
            None => {}
        }
        Ok(())
    }

    fn encode_payload(&self, out: &mut Encoder) {
        out.f64(self.threshold);
        out.f64(self.short_abandon.unwrap_or(f64::NAN));
        let c = self.counts;
        out.u64s(&[
            c.answered_within,
            c.answered_after,
            c.abandoned_short,
            c.abandoned_within,
            c.abandoned_after,
        ]);
        // Flags: bit 0 waits known, bit 1 their squared deviations known.
        let w = self.waits.unwrap_or_default();
        out.u8(u8::from(self.waits.is_some()) | (u8::from(w.m2.is_some()) << 1));
        out.f64(w.mean);
        out.f64(w.m2.unwrap_or(0.0));
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let threshold = input.f64("threshold")?;
        let short = input.f64("short_abandon")?;
        let counts = SlCounts {
            answered_within: input.u64("answered_within")?,
            answered_after: input.u64("answered_after")?,
            abandoned_short: input.u64("abandoned_short")?,
            abandoned_within: input.u64("abandoned_within")?,
            abandoned_after: input.u64("abandoned_after")?,
        };
        let flags = input.u8("flags")?;
        if flags > 3 || flags == 2 {
            return Err(input.invalid(format!("flags {flags}")));
        }
        let (mean, m2) = (input.f64("wait_mean")?, input.f64("wait_m2")?);
        // One encoding per state: unused fields are zero, a missing N is the canonical NaN.
        let unused_nonzero = (flags & 1 == 0 && mean.to_bits() != 0)
            || (flags & 2 == 0 && m2.to_bits() != 0)
            || (short.is_nan() && short.to_bits() != f64::NAN.to_bits());
        if unused_nonzero {
            return Err(input.invalid("a field that is not in use is not zero"));
        }
        let waits = (flags & 1 == 1).then_some(WaitMoments {
            mean,
            m2: (flags & 2 == 2).then_some(m2),
        });
        Ok(Self {
            threshold,
            short_abandon: (!short.is_nan()).then_some(short),
            counts,
            waits,
        })
    }
}

impl Example for ServiceLevelTally {
    fn example() -> Self {
        let mut t = Self::new(20.0, Some(5.0)).expect("valid thresholds");
        let waits = [3.0, 12.0, 25.0, 4.0, 18.0, 40.0, 8.0];
        let answered = [true, true, true, false, false, false, true];
        t.fold_batch(
            ContactRows {
                waits: &waits,
                answered: &answered,
            },
            None,
        )
        .expect("valid rows");
        t
    }
}

/// The service level under one formula, with every formula's value beside it, ASA and the
/// abandonment rate.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceLevelResult {
    /// The formula asked for.
    pub formula: SlFormula,
    /// It, in words.
    pub formula_text: String,
    /// The threshold `T`.
    pub threshold: f64,
    /// The short-abandon threshold `N`.
    pub short_abandon: Option<f64>,
    /// `numerator / denominator` (NaN when the denominator is 0).
    #[serde(with = "crate::serde_nan")]
    pub service_level: f64,
    /// Contacts counted as met.
    pub numerator: u64,
    /// Contacts the formula divides by.
    pub denominator: u64,
    /// Wilson interval of the service level.
    pub service_level_ci: Option<Interval>,
    /// Every formula's value on the same counts (for comparison; `icmi5` only with `N`).
    pub every_formula: Vec<(SlFormula, f64)>,
    /// Every contact folded (short abandons included).
    pub contacts: u64,
    /// Answered.
    pub answered: u64,
    /// Answered within `T`.
    pub answered_within: u64,
    /// Abandoned (short abandons left out when `N` is set).
    pub abandoned: u64,
    /// Abandoned within `T` (short abandons left out).
    pub abandoned_within: u64,
    /// Abandoned within `N`, left out of every formula but `icmi5` and of the abandonment rate.
    pub short_abandons_excluded: u64,
    /// `abandoned / (answered + abandoned)`.
    #[serde(with = "crate::serde_nan")]
    pub abandonment_rate: f64,
    /// Its Wilson interval.
    pub abandonment_ci: Option<Interval>,
    /// Average speed of answer: mean wait of the answered contacts (`None`: not known).
    pub asa: Option<f64>,
    /// Its t interval (`None` from pre-aggregated counts, or fewer than 2 answered).
    pub asa_ci: Option<Interval>,
    /// Confidence level of the intervals.
    pub confidence_level: f64,
}

impl fmt::Display for ServiceLevelResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |x: f64| format!("{:.1}%", 100.0 * x);
        let ci = |i: &Option<Interval>, p: bool| match i {
            Some(i) if p => format!(" ({} to {})", pct(i.low), pct(i.high)),
            Some(i) => format!(" ({:.2} to {:.2})", i.low, i.high),
            None => String::new(),
        };
        let level = format!("{}%", 100.0 * self.confidence_level);
        writeln!(
            f,
            "Service level {}{} [{} CI, Wilson]: {} of {} contacts, formula {} = {}, threshold T = {}",
            pct(self.service_level),
            ci(&self.service_level_ci, true),
            level,
            self.numerator,
            self.denominator,
            self.formula,
            self.formula_text,
            self.threshold
        )?;
        let short = match self.short_abandon {
            Some(n) => format!(
                "; {} abandoned within N = {} left out{}",
                self.short_abandons_excluded,
                n,
                if self.formula == SlFormula::Icmi5 {
                    " of the abandonment rate (icmi5 counts them as met)"
                } else {
                    ""
                }
            ),
            None => "; no short-abandon threshold".into(),
        };
        writeln!(
            f,
            "  {} contacts: {} answered ({} within T), {} abandoned ({} within T){}",
            self.contacts,
            self.answered,
            self.answered_within,
            self.abandoned,
            self.abandoned_within,
            short
        )?;
        writeln!(
            f,
            "  abandonment rate {}{}",
            pct(self.abandonment_rate),
            ci(&self.abandonment_ci, true)
        )?;
        match self.asa {
            Some(a) => writeln!(f, "  ASA {a:.2}{}", ci(&self.asa_ci, false))?,
            None => writeln!(f, "  ASA not known (counts without the answered waits)")?,
        }
        let every: Vec<String> = self
            .every_formula
            .iter()
            .map(|(k, v)| format!("{k} {}", pct(*v)))
            .collect();
        write!(f, "  every formula: {}", every.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn icmi() -> SlCounts {
        SlCounts {
            answered_within: 860,
            answered_after: 140,
            abandoned_short: 10,
            abandoned_within: 10,
            abandoned_after: 40,
        }
    }

    /// ICMI's published example (threshold 20 s; 1000 answered, 860 within; 60 abandoned, 20
    /// within 20 s of which 10 within 5 s, 40 after): 83.0 %, 86.0 %, 81.1 %, 82.7 %, 82.1 %
    /// (rounded to 0.1 % there; the exact fractions here).
    #[test]
    fn icmi_example_every_formula() {
        // Without N, nothing is excluded; the short abandons are part of "abandoned within T".
        let plain = SlCounts {
            abandoned_short: 0,
            abandoned_within: 20,
            ..icmi()
        };
        let t = ServiceLevelTally::from_counts(20.0, None, plain, None).unwrap();
        let want = [
            (SlFormula::Icmi1, 880.0 / 1060.0, 0.830),
            (SlFormula::Icmi2, 860.0 / 1000.0, 0.860),
            (SlFormula::Icmi3, 860.0 / 1060.0, 0.811),
            (SlFormula::Icmi4, 860.0 / 1040.0, 0.827),
            (SlFormula::CiscoPositive, 880.0 / 1060.0, 0.830),
            (SlFormula::CiscoNegative, 860.0 / 1060.0, 0.811),
            (SlFormula::CiscoIgnored, 860.0 / 1040.0, 0.827),
        ];
        for (f, exact, published) in want {
            let r = t.result(f, 0.95).unwrap();
            assert!((r.service_level - exact).abs() < 1e-15, "{f}");
            assert!((r.service_level - published).abs() < 0.0005, "{f}");
        }
        let t5 = ServiceLevelTally::from_counts(20.0, Some(5.0), icmi(), None).unwrap();
        let r = t5.result(SlFormula::Icmi5, 0.95).unwrap();
        assert!((r.service_level - 870.0 / 1060.0).abs() < 1e-15);
        assert!((r.service_level - 0.821).abs() < 0.0005);
        assert!(t.result(SlFormula::Icmi5, 0.95).is_err());
    }

    /// Short abandons are left out of the other formulas (Cisco's short-call timer).
    #[test]
    fn short_abandons_excluded() {
        let t = ServiceLevelTally::from_counts(20.0, Some(5.0), icmi(), None).unwrap();
        let r = t.result(SlFormula::CiscoPositive, 0.95).unwrap();
        assert_eq!((r.numerator, r.denominator), (870, 1050));
        assert_eq!(r.short_abandons_excluded, 10);
        assert!((r.abandonment_rate - 50.0 / 1050.0).abs() < 1e-15);
        // Wilson interval: scipy.stats.binomtest(870, 1050).proportion_ci(0.95, "wilson").
        let ci = r.service_level_ci.unwrap();
        assert!((ci.low - 0.8045877356937373).abs() < 1e-9, "{}", ci.low);
        assert!((ci.high - 0.8501597068410701).abs() < 1e-9, "{}", ci.high);
    }

    /// Rows against a hand count, merging partitions equals one pass, ASA against a direct mean.
    #[test]
    fn rows_merge_and_asa() {
        let waits = [
            2.0, 3.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 240.0, 1.0, 30.0,
        ];
        let answered = [
            true, true, true, true, true, true, true, true, true, true, false, false,
        ];
        let mut one = ServiceLevelTally::new(10.0, None).unwrap();
        one.fold_batch(
            ContactRows {
                waits: &waits,
                answered: &answered,
            },
            None,
        )
        .unwrap();
        let mut a = ServiceLevelTally::new(10.0, None).unwrap();
        let mut b = a.clone();
        a.fold_batch(
            ContactRows {
                waits: &waits[..5],
                answered: &answered[..5],
            },
            None,
        )
        .unwrap();
        b.fold_batch(
            ContactRows {
                waits: &waits[5..],
                answered: &answered[5..],
            },
            None,
        )
        .unwrap();
        a.merge(&b).unwrap();
        let (r1, r2) = (
            one.result(SlFormula::Icmi2, 0.95).unwrap(),
            a.result(SlFormula::Icmi2, 0.95).unwrap(),
        );
        assert_eq!((r1.numerator, r1.denominator), (8, 10));
        assert_eq!(r1.service_level, 0.8);
        assert!((r1.asa.unwrap() - 29.6).abs() < 1e-12);
        assert!((r2.asa.unwrap() - 29.6).abs() < 1e-12);
        let (c1, c2) = (r1.asa_ci.unwrap(), r2.asa_ci.unwrap());
        assert!((c1.low - c2.low).abs() < 1e-9 && (c1.high - c2.high).abs() < 1e-9);
        assert_eq!(r1.abandoned, 2);
        let mut other = ServiceLevelTally::new(30.0, None).unwrap();
        assert!(other.merge(&one).is_err());
    }

    #[test]
    fn bad_rows_and_round_trip() {
        let mut t = ServiceLevelTally::new(20.0, Some(5.0)).unwrap();
        let e = t
            .fold_batch(
                ContactRows {
                    waits: &[1.0, f64::NAN],
                    answered: &[true, true],
                },
                None,
            )
            .unwrap_err();
        assert!(e.to_string().contains("position 1"), "{e}");
        assert_eq!(t.n(), 0);
        assert!(ServiceLevelTally::new(5.0, Some(10.0)).is_err());
        assert!("icmi6".parse::<SlFormula>().is_err());
        let ex = ServiceLevelTally::example();
        assert_eq!(ServiceLevelTally::from_bytes(&ex.to_bytes()).unwrap(), ex);
        assert_eq!(ServiceLevelTally::from_json(&ex.to_json()).unwrap(), ex);
        let c = ServiceLevelTally::from_counts(20.0, None, icmi(), None);
        assert!(c.is_err());
    }

    #[test]
    fn by_group_equals_each_group_alone() {
        use crate::groups::{Grouping, KeyColumn};
        let queue: Vec<i64> = (0..400).map(|i| (i * 13) % 9).collect();
        let waits: Vec<f64> = (0..400).map(|i| f64::from((i * 29) % 90) * 0.7).collect();
        let answered: Vec<bool> = (0..400).map(|i| i % 7 != 0).collect();
        let g = Grouping::new(vec![KeyColumn::from(&queue[..])], 400).unwrap();
        let rows = ContactRows {
            waits: &waits,
            answered: &answered,
        };
        let by = service_level_by_group(&g, rows, 20.0, Some(3.0), SlFormula::Icmi5, 0.95).unwrap();
        assert_eq!(by.len(), 9);
        for (q, got) in by.iter().enumerate() {
            let at: Vec<usize> = (0..400).filter(|&i| queue[i] == q as i64).collect();
            let w: Vec<f64> = at.iter().map(|&i| waits[i]).collect();
            let a: Vec<bool> = at.iter().map(|&i| answered[i]).collect();
            let mut t = ServiceLevelTally::new(20.0, Some(3.0)).unwrap();
            t.fold_batch(
                ContactRows {
                    waits: &w,
                    answered: &a,
                },
                None,
            )
            .unwrap();
            let alone = t.result(SlFormula::Icmi5, 0.95).unwrap();
            assert_eq!(got.as_ref(), Some(&alone), "queue {q}");
        }
        let mut bad = waits.clone();
        bad[321] = f64::NAN;
        let e = service_level_by_group(
            &g,
            ContactRows {
                waits: &bad,
                answered: &answered,
            },
            20.0,
            None,
            SlFormula::Icmi2,
            0.95,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("321"), "{e}");
    }
}
