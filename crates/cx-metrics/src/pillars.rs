//! The six pillars of customer experience and pillar scores per respondent.
//!
//! KPMG's Customer Experience Excellence model groups what customers judge into six pillars. Two are
//! the *foundation* (Integrity, Resolution), two are *intermediate* (Expectations, Time and Effort) and
//! two *distinguish* the best experiences (Personalisation, Empathy). A survey rates each pillar
//! through one or more items on a common [`Scale`]; [`PillarItems`] maps items to pillars and turns
//! answers into one score per respondent and pillar: the mean of the answered items, provided at least
//! `min_answered` of the pillar's items were answered (otherwise the respondent is counted as unscored
//! for that pillar, never silently dropped).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::groups::{Grouping, Label};
use crate::intervals::{self, Interval};
use crate::pillar_tally::PillarTally;
use crate::scale::Scale;
use crate::weights::Weights;

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

/// Options of [`PillarScores::summarize`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SummaryOptions {
    /// How many of the best scale points count as "top box" (1 = the best point only, 2 = top-2 box).
    pub top_box: u32,
    /// Confidence level of the intervals, e.g. 0.95.
    pub confidence_level: f64,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        Self {
            top_box: 2,
            confidence_level: 0.95,
        }
    }
}

/// One pillar's scores summarised over one group of respondents: plain data.
///
/// With weights `w` over the `n` scored respondents of positive weight, `W = Σw` and Kish's
/// `n_eff = W²/Σw²`: the mean is `x̄ = Σw x / W`; the standard deviation uses the denominator
/// `W(1 − 1/n_eff)` (`n − 1` without weights); the mean's interval is Student's t with `n_eff − 1`
/// degrees of freedom and standard error `sd/√n_eff` ([`intervals::mean_t_ci`]), clipped to the scale
/// (and flagged `clipped`), as for CSAT and CES means; the top-box share is `Σw[top]/W` with a Wilson
/// interval at `n_eff` ([`intervals::proportion_ci`]). Intervals are `None` when the group has too few
/// respondents for them (a t interval needs `n_eff > 1`).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PillarSummary {
    /// The group's label (`"all"` from [`PillarScores::summarize`]).
    pub group: String,
    /// The pillar.
    pub pillar: Pillar,
    /// Scored respondents with positive weight.
    pub n: u64,
    /// Respondents of the group without a score on this pillar.
    pub n_unscored: u64,
    /// Respondents of the group with weight zero (scored or not).
    pub n_zero_weight: u64,
    /// Kish's effective sample size of the scored respondents.
    #[serde(with = "crate::serde_nan")]
    pub effective_n: f64,
    /// Weighted mean score (`None` when no respondent is scored).
    pub mean: Option<f64>,
    /// Weighted standard deviation of the scores (`None` when `n_eff ≤ 1`).
    pub sd: Option<f64>,
    /// t interval for the mean.
    pub mean_ci: Option<Interval>,
    /// The lowest score counted as top box (the highest, for a lower-is-better scale).
    pub top_box_threshold: f64,
    /// Weighted share of scored respondents in the top box.
    pub top_box_share: Option<f64>,
    /// Wilson interval for the top-box share.
    pub top_box_ci: Option<Interval>,
}

/// Pillar scores per respondent with their summaries per group and pillar: plain data, what
/// `pillar_summary` reports.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PillarReport {
    /// The scores per respondent.
    pub scores: PillarScores,
    /// The summaries, groups in the order of the grouping, pillars in model order within a group.
    pub summaries: Vec<PillarSummary>,
    /// The labels of each group, typed, in the order of the summaries (one label per `by` column;
    /// empty without groups, where the one group is `"all"`).
    #[serde(default)]
    pub labels: Vec<Vec<Label>>,
}

impl PillarReport {
    /// The report of `scores` with their `summaries` and the typed `labels` of each group (empty
    /// without groups).
    pub fn new(
        scores: PillarScores,
        summaries: Vec<PillarSummary>,
        labels: Vec<Vec<Label>>,
    ) -> Self {
        Self {
            scores,
            summaries,
            labels,
        }
    }
}

impl PillarScores {
    /// Summaries of every measured pillar over all respondents (group `"all"`).
    ///
    /// ```
    /// use cx_metrics::pillars::SummaryOptions;
    /// use cx_metrics::{Direction, Pillar, PillarItems, Scale};
    /// let scale = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
    /// let items = PillarItems::new(scale, vec![("e".into(), Pillar::Empathy)], 1).unwrap();
    /// let scores = items.score(&[&[5.0, 4.0, 2.0, 5.0]]).unwrap();
    /// let s = scores.summarize(None, SummaryOptions::default()).unwrap();
    /// assert_eq!(s[0].mean, Some(4.0));
    /// assert_eq!(s[0].top_box_share, Some(0.75));
    /// ```
    pub fn summarize(
        &self,
        weights: Option<&[f64]>,
        options: SummaryOptions,
    ) -> Result<Vec<PillarSummary>> {
        self.summarize_all(weights, options)
    }

    /// Summaries per group of a [`Grouping`] of the respondents and pillar: groups in the grouping's
    /// order (its rules: categorical order, else numbers numerically, dates chronologically, text by
    /// code point; the missing label last; unused categorical levels kept, with `n = 0` and no
    /// estimate), pillars in model order within a group. Every group is folded in one pass over the
    /// respondents. A group's name ([`PillarSummary::group`]) is its labels as text (`" / "` between
    /// columns, `"(missing)"` for the missing label).
    ///
    /// ```
    /// use cx_metrics::groups::{Grouping, KeyColumn};
    /// use cx_metrics::pillars::SummaryOptions;
    /// use cx_metrics::{Direction, Pillar, PillarItems, Scale};
    /// let scale = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
    /// let items = PillarItems::new(scale, vec![("e".into(), Pillar::Empathy)], 1).unwrap();
    /// let scores = items.score(&[&[5.0, 4.0, 2.0, 5.0]]).unwrap();
    /// let wave = [2_i64, 1, 1, 2];
    /// let g = Grouping::new(vec![KeyColumn::from(&wave[..])], 4).unwrap();
    /// let s = scores.summarize_groups(&g, None, SummaryOptions::default()).unwrap();
    /// assert_eq!((s[0].group.as_str(), s[0].mean), ("1", Some(3.0)));
    /// assert_eq!((s[1].group.as_str(), s[1].top_box_share), ("2", Some(1.0)));
    /// ```
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the grouping or the weights do not have one entry per
    /// respondent; [`Error::InvalidWeight`] naming the first bad weight's row; an invalid
    /// confidence level or top box.
    pub fn summarize_groups(
        &self,
        grouping: &Grouping<'_>,
        weights: Option<&[f64]>,
        options: SummaryOptions,
    ) -> Result<Vec<PillarSummary>> {
        if grouping.n_rows() != self.n_respondents as usize {
            return Err(Error::LengthMismatch {
                what: "groups and respondents",
                left: grouping.n_rows(),
                right: self.n_respondents as usize,
            });
        }
        let (empty, scaled) = self.check_summary(weights, options)?;
        let weights = scaled.as_deref();
        let folds = grouping.fold_rows(&empty, |acc, i| self.fold_row(acc, i, weights))?;
        let names = grouping.labels().iter().map(|ls| {
            ls.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" / ")
        });
        let mut out = Vec::with_capacity(grouping.n_groups() * self.pillars.len());
        for (name, acc) in names.zip(&folds) {
            out.extend(acc.summaries(&name, options.confidence_level)?);
        }
        Ok(out)
    }

    fn summarize_all(
        &self,
        weights: Option<&[f64]>,
        options: SummaryOptions,
    ) -> Result<Vec<PillarSummary>> {
        let (mut acc, scaled) = self.check_summary(weights, options)?;
        let weights = scaled.as_deref();
        if self.n_respondents == 0 {
            return Ok(Vec::new());
        }
        for i in 0..self.n_respondents as usize {
            self.fold_row(&mut acc, i, weights)?;
        }
        acc.summaries("all", options.confidence_level)
    }

    /// Checks the scores, weights and options: the empty tally of the pillars (which checks the top
    /// box), and the weights to fold (rescaled by a power of two when extreme).
    fn check_summary<'w>(
        &self,
        weights: Option<&'w [f64]>,
        options: SummaryOptions,
    ) -> Result<(PillarTally, Option<Cow<'w, [f64]>>)> {
        let n = self.n_respondents as usize;
        let consistent = self.scores.len() == self.pillars.len()
            && self.n_unscored.len() == self.pillars.len()
            && self.scores.iter().all(|s| s.len() == n);
        if !consistent {
            return Err(Error::Incompatible(format!(
                "pillar scores are inconsistent: {} pillars, {} score columns, {} respondents",
                self.pillars.len(),
                self.scores.len(),
                n
            )));
        }
        let checked = weights
            .map(|w| {
                Weights::for_rows(w, n, |len| Error::LengthMismatch {
                    what: "weights and respondents",
                    left: len,
                    right: n,
                })
            })
            .transpose()?;
        // Every figure of a summary is a ratio of weighted sums: extreme weights are rescaled by a
        // power of two (see `weights`) so that their squares are representable.
        let scaled = checked.as_ref().map(Weights::scaled);
        intervals::check_level(options.confidence_level)?;
        let empty = PillarTally::new(self.scale, &self.pillars, options.top_box)?;
        Ok((empty, scaled))
    }

    /// Fold respondent `i` into `acc` (the tally's own row update).
    fn fold_row(&self, acc: &mut PillarTally, i: usize, weights: Option<&[f64]>) -> Result<()> {
        let w = weights.map_or(1.0, |w| w[i]);
        acc.add_respondent(|k| self.scores[k][i], w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::KeyColumn;
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

    #[test]
    fn summaries_match_independent_formulas() {
        // Reference: mpmath at 40 digits — weighted mean, sd with denominator W − Σw²/W, Student t
        // quantile with n_eff − 1 (fractional) degrees of freedom from the regularized incomplete beta,
        // Wilson interval at n_eff with z = √2·erfinv(0.95). Order: mean, sd, n_eff, t low, t high,
        // top-2-box share, Wilson low, Wilson high.
        let scale = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
        let items = PillarItems::new(
            scale,
            vec![
                ("e1".into(), Pillar::Empathy),
                ("e2".into(), Pillar::Empathy),
                ("r1".into(), Pillar::Resolution),
            ],
            1,
        )
        .unwrap();
        let nan = f64::NAN;
        let scores = items
            .score(&[
                &[5.0, 4.0, 3.0, 5.0, 2.0, 4.0, nan, 1.0],
                &[4.0, 4.0, nan, 5.0, 3.0, 5.0, nan, 2.0],
                &[5.0, 3.0, 4.0, 2.0, nan, 5.0, 4.0, 1.0],
            ])
            .unwrap();
        let labels: Vec<Label> = "aababbab"
            .chars()
            .map(|c| Label::Text(c.to_string()))
            .collect();
        let groups = Grouping::new(vec![KeyColumn::Labels(labels)], 8).unwrap();
        let w = [1.0, 2.0, 1.0, 0.5, 1.5, 1.0, 2.0, 1.0];
        type Expected = (&'static str, Pillar, [f64; 8]);
        let unweighted: [Expected; 4] = [
            (
                "a",
                Pillar::Resolution,
                [
                    3.5,
                    1.2909944487358056,
                    4.0,
                    1.445739743239478,
                    5.554260256760522,
                    0.5,
                    0.1500389891521495,
                    0.8499610108478505,
                ],
            ),
            (
                "a",
                Pillar::Empathy,
                [
                    4.5,
                    0.5,
                    3.0,
                    3.2579311441248344,
                    5.742068855875165,
                    1.0,
                    0.4385029682449545,
                    1.0,
                ],
            ),
            (
                "b",
                Pillar::Resolution,
                [
                    3.3333333333333335,
                    2.0816659994661326,
                    3.0,
                    -1.8378116792089316,
                    8.504478345875599,
                    0.6666666666666666,
                    0.20765960080204773,
                    0.9385080552796038,
                ],
            ),
            (
                "b",
                Pillar::Empathy,
                [
                    2.875,
                    1.25,
                    4.0,
                    0.8859710591976815,
                    4.864028940802318,
                    0.25,
                    0.04558726080970056,
                    0.6993581574175981,
                ],
            ),
        ];
        let weighted: [Expected; 4] = [
            (
                "a",
                Pillar::Resolution,
                [
                    3.6363636363636362,
                    1.0578504710249077,
                    3.27027027027027,
                    1.3858622964627851,
                    5.886864976264488,
                    0.5454545454545454,
                    0.15412355481539447,
                    0.88768024472402,
                ],
            ),
            (
                "a",
                Pillar::Empathy,
                [
                    4.285714285714286,
                    0.48181205582971576,
                    2.3333333333333335,
                    2.017344319104253,
                    6.554084252324318,
                    1.0,
                    0.37788046546820775,
                    1.0,
                ],
            ),
            (
                "b",
                Pillar::Resolution,
                [
                    3.3333333333333335,
                    2.0816659994661326,
                    3.0,
                    -1.8378116792089316,
                    8.504478345875599,
                    0.6666666666666666,
                    0.20765960080204773,
                    0.9385080552796038,
                ],
            ),
            (
                "b",
                Pillar::Empathy,
                [
                    2.8333333333333335,
                    1.1937336386313322,
                    3.857142857142857,
                    0.8430975441381603,
                    4.8235691225285064,
                    0.2222222222222222,
                    0.036089341464657955,
                    0.6855669758083763,
                ],
            ),
        ];
        let options = SummaryOptions::default();
        for (weights, expected) in [(None, &unweighted), (Some(&w[..]), &weighted)] {
            let got = scores.summarize_groups(&groups, weights, options).unwrap();
            assert_eq!(got.len(), 4);
            for (s, (group, pillar, e)) in got.iter().zip(expected.iter()) {
                assert_eq!((s.group.as_str(), s.pillar), (*group, *pillar));
                let mean_ci = s.mean_ci.unwrap();
                let top_ci = s.top_box_ci.unwrap();
                let values = [
                    s.mean.unwrap(),
                    s.sd.unwrap(),
                    s.effective_n,
                    mean_ci.low,
                    mean_ci.high,
                    s.top_box_share.unwrap(),
                    top_ci.low,
                    top_ci.high,
                ];
                // The mean's interval is clipped to the scale 1..=5, as for CSAT and CES.
                let mut e = *e;
                let clipped = e[3] < 1.0 || e[4] > 5.0;
                e[3] = e[3].max(1.0);
                e[4] = e[4].min(5.0);
                assert_eq!(mean_ci.clipped, clipped);
                for (k, (v, x)) in values.iter().zip(&e).enumerate() {
                    assert!(
                        (v - x).abs() <= 1e-12 * x.abs().max(1.0),
                        "{group} {pillar} [{k}]: {v} vs {x}"
                    );
                }
            }
        }
        // Unscored respondents are counted per group: respondent 6 (group a) has no empathy answer,
        // respondent 4 (group b) no resolution answer.
        let all = scores.summarize_groups(&groups, None, options).unwrap();
        assert_eq!(all[1].n_unscored, 1);
        assert_eq!(all[2].n_unscored, 1);
        assert_eq!(all[1].n, 3);
        let short = Grouping::new(vec![KeyColumn::from(&[1_i64, 2, 1][..])], 3).unwrap();
        assert!(scores.summarize_groups(&short, None, options).is_err());
        let bad = SummaryOptions {
            top_box: 5,
            ..options
        };
        assert!(scores.summarize(None, bad).is_err());
        // A single scored respondent: a mean, but no interval.
        let one = items.score(&[&[5.0], &[nan], &[nan]]).unwrap();
        let s = one.summarize(None, options).unwrap();
        assert_eq!(s[0].n, 0);
        assert_eq!(s[0].mean, None);
        assert_eq!((s[1].mean, s[1].mean_ci), (Some(5.0), None));
    }
}
