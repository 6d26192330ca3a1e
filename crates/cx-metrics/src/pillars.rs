//! The six pillars of customer experience and pillar scores per respondent.
//!
//! KPMG's Customer Experience Excellence model groups what customers judge into six pillars. Two are
//! the *foundation* (Integrity, Resolution), two are *intermediate* (Expectations, Time and Effort) and
//! two *distinguish* the best experiences (Personalisation, Empathy). A survey rates each pillar
//! through one or more items on a common [`Scale`]; [`PillarItems`] maps items to pillars and turns
//! answers into one score per respondent and pillar: the mean of the answered items, provided at least
//! `min_answered` of the pillar's items were answered (otherwise the respondent is counted as unscored
//! for that pillar, never silently dropped).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::scale::Scale;

/// The three tiers of the pillar model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PillarGroup {
    /// Integrity and Resolution: what every relationship needs before anything else counts.
    Foundation,
    /// Expectations and Time and Effort: getting the basics of the service right.
    Intermediate,
    /// Personalisation and Empathy: what sets the best experiences apart.
    Distinguishing,
}

impl PillarGroup {
    /// All groups, foundation first.
    pub const ALL: [PillarGroup; 3] = [
        PillarGroup::Foundation,
        PillarGroup::Intermediate,
        PillarGroup::Distinguishing,
    ];

    /// Stable snake_case id (`"foundation"`, `"intermediate"`, `"distinguishing"`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Foundation => "foundation",
            Self::Intermediate => "intermediate",
            Self::Distinguishing => "distinguishing",
        }
    }

    /// The pillars of this group, in model order.
    pub fn pillars(self) -> [Pillar; 2] {
        match self {
            Self::Foundation => [Pillar::Integrity, Pillar::Resolution],
            Self::Intermediate => [Pillar::Expectations, Pillar::TimeAndEffort],
            Self::Distinguishing => [Pillar::Personalisation, Pillar::Empathy],
        }
    }
}

impl fmt::Display for PillarGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for PillarGroup {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|g| g.id() == s).ok_or_else(|| {
            Error::invalid(
                "pillar_group",
                format!("{s:?}; use \"foundation\", \"intermediate\" or \"distinguishing\""),
            )
        })
    }
}

/// One of the six pillars of customer experience.
///
/// ```
/// use cx_metrics::{Pillar, PillarGroup};
/// let p: Pillar = "time_and_effort".parse().unwrap();
/// assert_eq!(p, Pillar::TimeAndEffort);
/// assert_eq!(p.to_string(), "time_and_effort");
/// assert_eq!(p.name(), "Time and Effort");
/// assert_eq!(p.group(), PillarGroup::Intermediate);
/// assert_eq!(Pillar::ALL.len(), 6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pillar {
    /// Trust: the organisation is honest and acts in the customer's interest.
    Integrity,
    /// Recovery: problems are owned and put right.
    Resolution,
    /// Promises: expectations are set clearly and met.
    Expectations,
    /// Ease: little time and effort for the customer.
    TimeAndEffort,
    /// Recognition: the customer is treated as an individual.
    Personalisation,
    /// Understanding: the customer's situation is grasped and acknowledged.
    Empathy,
}

impl Pillar {
    /// The six pillars in model order (foundation, intermediate, distinguishing).
    pub const ALL: [Pillar; 6] = [
        Pillar::Integrity,
        Pillar::Resolution,
        Pillar::Expectations,
        Pillar::TimeAndEffort,
        Pillar::Personalisation,
        Pillar::Empathy,
    ];

    /// Stable snake_case id, used in `FromStr`, `Display`, serde and the Python API.
    pub fn id(self) -> &'static str {
        match self {
            Self::Integrity => "integrity",
            Self::Resolution => "resolution",
            Self::Expectations => "expectations",
            Self::TimeAndEffort => "time_and_effort",
            Self::Personalisation => "personalisation",
            Self::Empathy => "empathy",
        }
    }

    /// Display name for tables and charts.
    pub fn name(self) -> &'static str {
        match self {
            Self::Integrity => "Integrity",
            Self::Resolution => "Resolution",
            Self::Expectations => "Expectations",
            Self::TimeAndEffort => "Time and Effort",
            Self::Personalisation => "Personalisation",
            Self::Empathy => "Empathy",
        }
    }

    /// What the customer judges under this pillar, in one paragraph.
    pub fn description(self) -> &'static str {
        match self {
            Self::Integrity => {
                "Whether customers believe the organisation is straight with them and on their side: it \
                 keeps its word, is open about prices and conditions, and behaves the same whether or not \
                 anyone is checking. Trust is the ground the other five pillars stand on."
            }
            Self::Resolution => {
                "How the organisation recovers when something goes wrong: it owns the mistake, puts it \
                 right quickly and without making the customer chase, and leaves them feeling better \
                 looked after than before the problem happened."
            }
            Self::Expectations => {
                "Whether the organisation says clearly and realistically what will happen, when and at \
                 what cost, and then does it; and, when it cannot, tells the customer early instead of \
                 letting them find out."
            }
            Self::TimeAndEffort => {
                "How little time and effort the customer spends to get what they came for: no needless \
                 steps, forms or hand-offs, no repeating themselves, and help available in the channel \
                 and at the moment that suits them."
            }
            Self::Personalisation => {
                "Whether the customer is recognised as a person rather than a case number: the \
                 organisation remembers their history and context and shapes its offer, tone and \
                 attention to the individual."
            }
            Self::Empathy => {
                "Whether the customer feels understood: the people serving them see the situation from \
                 the customer's side, acknowledge how it affects them and are willing to step off the \
                 script to help."
            }
        }
    }

    /// The tier this pillar belongs to.
    pub fn group(self) -> PillarGroup {
        match self {
            Self::Integrity | Self::Resolution => PillarGroup::Foundation,
            Self::Expectations | Self::TimeAndEffort => PillarGroup::Intermediate,
            Self::Personalisation | Self::Empathy => PillarGroup::Distinguishing,
        }
    }
}

impl fmt::Display for Pillar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Pillar {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|p| p.id() == s).ok_or_else(|| {
            let ids: Vec<&str> = Self::ALL.iter().map(|p| p.id()).collect();
            Error::invalid("pillar", format!("{s:?}; use one of {}", ids.join(", ")))
        })
    }
}

/// Survey items measuring the pillars, all on one declared scale, with the minimum-answered rule.
///
/// ```
/// use cx_metrics::{Direction, Pillar, PillarItems, Scale};
/// let scale = Scale::new(1, 7, Direction::HigherIsBetter).unwrap();
/// let items = PillarItems::new(
///     scale,
///     vec![
///         ("trust_1".into(), Pillar::Integrity),
///         ("trust_2".into(), Pillar::Integrity),
///         ("easy".into(), Pillar::TimeAndEffort),
///     ],
///     1,
/// )
/// .unwrap();
/// let scores = items
///     .score(&[&[7.0, f64::NAN, f64::NAN], &[5.0, 6.0, f64::NAN], &[2.0, 3.0, 4.0]])
///     .unwrap();
/// assert_eq!(scores.scores(Pillar::Integrity).unwrap(), &[Some(6.0), Some(6.0), None]);
/// assert_eq!(scores.n_unscored(Pillar::Integrity), Some(1));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PillarItems {
    scale: Scale,
    items: Vec<(String, Pillar)>,
    min_answered: usize,
}

impl PillarItems {
    /// Items `(name, pillar)` on `scale`; a respondent gets a pillar score when at least
    /// `min(min_answered, items of that pillar)` of its items are answered (`min_answered ≥ 1`).
    pub fn new(scale: Scale, items: Vec<(String, Pillar)>, min_answered: usize) -> Result<Self> {
        if items.is_empty() {
            return Err(Error::invalid(
                "items",
                "map at least one survey item to a pillar",
            ));
        }
        if min_answered == 0 {
            return Err(Error::invalid(
                "min_answered",
                "0; a pillar score needs at least one answered item",
            ));
        }
        for (i, (name, _)) in items.iter().enumerate() {
            if items[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::invalid("items", format!("{name:?} is mapped twice")));
            }
        }
        Ok(Self {
            scale,
            items,
            min_answered,
        })
    }

    /// The items' scale.
    pub fn scale(&self) -> Scale {
        self.scale
    }
    /// The `(item, pillar)` mapping, in input order.
    pub fn items(&self) -> &[(String, Pillar)] {
        &self.items
    }
    /// The minimum-answered rule.
    pub fn min_answered(&self) -> usize {
        self.min_answered
    }
    /// The pillars that have at least one item, in model order.
    pub fn pillars(&self) -> Vec<Pillar> {
        Pillar::ALL
            .into_iter()
            .filter(|p| self.items.iter().any(|(_, q)| q == p))
            .collect()
    }

    /// Score every respondent on every measured pillar from one answer column per item (in the order of
    /// [`items`](Self::items)); NaN means "not answered".
    ///
    /// Answers are validated on the scale; an invalid one is an [`Error::BadColumn`] naming the item and
    /// the row. Columns must have the same length.
    pub fn score(&self, columns: &[&[f64]]) -> Result<PillarScores> {
        if columns.len() != self.items.len() {
            return Err(Error::LengthMismatch {
                what: "item columns and mapped items",
                left: columns.len(),
                right: self.items.len(),
            });
        }
        let n = columns.first().map_or(0, |c| c.len());
        for ((name, _), col) in self.items.iter().zip(columns) {
            if col.len() != n {
                return Err(Error::BadColumn {
                    column: name.clone(),
                    message: format!(
                        "has {} answers but {:?} has {n}; item columns must have the same length",
                        col.len(),
                        self.items[0].0
                    ),
                });
            }
            if let Some((i, e)) = col
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.is_nan())
                .find_map(|(i, v)| self.scale.point(*v, i).err().map(|e| (i, e)))
            {
                return Err(Error::BadColumn {
                    column: name.clone(),
                    message: format!("row {i}: {e}"),
                });
            }
        }
        let pillars = self.pillars();
        let mut scores = Vec::with_capacity(pillars.len());
        let mut n_unscored = Vec::with_capacity(pillars.len());
        for &p in &pillars {
            let cols: Vec<&[f64]> = self
                .items
                .iter()
                .zip(columns)
                .filter(|((_, q), _)| *q == p)
                .map(|(_, c)| *c)
                .collect();
            let needed = self.min_answered.min(cols.len());
            let mut unscored = 0u64;
            let s: Vec<Option<f64>> = (0..n)
                .map(|i| {
                    let (mut sum, mut k) = (0.0, 0usize);
                    for c in &cols {
                        if !c[i].is_nan() {
                            sum += c[i];
                            k += 1;
                        }
                    }
                    if k >= needed {
                        Some(sum / k as f64)
                    } else {
                        unscored += 1;
                        None
                    }
                })
                .collect();
            scores.push(s);
            n_unscored.push(unscored);
        }
        Ok(PillarScores {
            scale: self.scale,
            pillars,
            scores,
            n_unscored,
            n_respondents: n as u64,
        })
    }
}

/// Pillar scores per respondent: plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PillarScores {
    /// The items' scale (scores lie within it).
    pub scale: Scale,
    /// The measured pillars, in model order.
    pub pillars: Vec<Pillar>,
    /// Per pillar (same order), one score per respondent; `None` when too few items were answered.
    pub scores: Vec<Vec<Option<f64>>>,
    /// Per pillar, respondents without a score.
    pub n_unscored: Vec<u64>,
    /// Respondents.
    pub n_respondents: u64,
}

impl PillarScores {
    fn position(&self, pillar: Pillar) -> Option<usize> {
        self.pillars.iter().position(|p| *p == pillar)
    }
    /// The scores of `pillar` (`None` if no item measures it).
    pub fn scores(&self, pillar: Pillar) -> Option<&[Option<f64>]> {
        self.position(pillar).map(|i| self.scores[i].as_slice())
    }
    /// Respondents without a score on `pillar` (`None` if no item measures it).
    pub fn n_unscored(&self, pillar: Pillar) -> Option<u64> {
        self.position(pillar).map(|i| self.n_unscored[i])
    }
    /// The scores of `pillar` as a column with NaN for unscored respondents, ready for a driver
    /// analysis with an explicit missing-value policy.
    pub fn column(&self, pillar: Pillar) -> Option<Vec<f64>> {
        self.scores(pillar)
            .map(|s| s.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scale::Direction;

    #[test]
    fn ids_round_trip_and_groups_are_the_model() {
        for p in Pillar::ALL {
            assert_eq!(p.id().parse::<Pillar>(), Ok(p));
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.id())
            );
            assert!(p.group().pillars().contains(&p));
            assert!(p.description().len() > 80);
        }
        assert!("time and effort".parse::<Pillar>().is_err());
        for g in PillarGroup::ALL {
            assert_eq!(g.id().parse::<PillarGroup>(), Ok(g));
        }
        assert_eq!(Pillar::Empathy.group(), PillarGroup::Distinguishing);
        assert_eq!(Pillar::Resolution.group(), PillarGroup::Foundation);
    }

    #[test]
    fn scoring_follows_the_minimum_answered_rule_and_names_bad_items() {
        let scale = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
        let items = PillarItems::new(
            scale,
            vec![
                ("e1".into(), Pillar::Empathy),
                ("e2".into(), Pillar::Empathy),
                ("e3".into(), Pillar::Empathy),
                ("r1".into(), Pillar::Resolution),
            ],
            2,
        )
        .unwrap();
        assert_eq!(items.pillars(), vec![Pillar::Resolution, Pillar::Empathy]);
        let nan = f64::NAN;
        let s = items
            .score(&[
                &[5.0, 4.0, nan],
                &[4.0, nan, nan],
                &[3.0, nan, 2.0],
                &[nan, 1.0, 2.0],
            ])
            .unwrap();
        // Row 0: (5 + 4 + 3)/3 = 4; rows 1 and 2 answer one empathy item only → unscored.
        assert_eq!(s.scores(Pillar::Empathy).unwrap(), &[Some(4.0), None, None]);
        // Resolution has one item, so the rule is capped at 1.
        assert_eq!(
            s.scores(Pillar::Resolution).unwrap(),
            &[None, Some(1.0), Some(2.0)]
        );
        assert_eq!(s.n_unscored(Pillar::Empathy), Some(2));
        assert_eq!(s.n_unscored(Pillar::Integrity), None);
        let err = items
            .score(&[&[5.0], &[4.0], &[6.0], &[1.0]])
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"e3\"") && err.contains("row 0"), "{err}");
        assert!(items.score(&[&[5.0], &[4.0], &[3.0], &[1.5]]).is_err());
        assert!(PillarItems::new(scale, vec![], 1).is_err());
        assert!(PillarItems::new(scale, vec![("a".into(), Pillar::Empathy)], 0).is_err());
    }
}
