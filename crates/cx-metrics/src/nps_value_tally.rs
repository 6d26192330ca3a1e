//! The mergeable state of "what a promoter is worth" ([`promoter_value`](mod@crate::promoter_value)):
//! survey answers joined by customer to their outcomes, folded row by row of the joined table.
//!
//! A row of the joined table is a customer: their answer (a 0–10 score, or a missing score), their
//! outcome row (churned, revenue, lifetime value, duration), or both. [`NpsValueTally`] keeps, per
//! NPS category (detractor, passive, promoter),
//!
//! * the customers with a score and an outcome, and of them those who churned,
//! * the [`Moments`] of their revenue and of their lifetime value (Chan et al.'s pairwise merge),
//! * an [`EventTable`] of their durations (churn the event, still active censored),
//!
//! and, for the whole state, the answers without a score (and of them those with an outcome), the
//! scored answers without an outcome and the outcome rows without an answer. Finishing gives the
//! [`PromoterValue`] of the rows folded, exactly as [`promoter_value`](mod@crate::promoter_value) does
//! for two tables in memory: that function joins them and folds the joined rows into this state.
//!
//! **A customer must not be split across states.** A fold refuses a customer id that appears twice
//! in its batch, but two states that each hold the same customer merge without complaint (the state
//! keeps no ids): over partitions, join and partition by the customer id first, so that every row
//! of a customer is in one fold (the Dask and Spark routes of the Python package do this).
//!
//! ```
//! use cx_metrics::nps_value_tally::{JoinedRow, Measures, NpsValueTally, OutcomeRow};
//! use cx_metrics::{Accumulator, Merge};
//! let measures = Measures { revenue: true, ..Measures::default() };
//! let row = |score: f64, revenue: f64| JoinedRow {
//!     answer: Some(score),
//!     outcome: Some(OutcomeRow { revenue, ..OutcomeRow::default() }),
//! };
//! let mut a = NpsValueTally::new(measures)?;
//! a.fold_rows([row(10.0, 120.0), row(3.0, 20.0)].map(Ok))?;
//! let mut b = NpsValueTally::new(measures)?;
//! b.fold_rows([row(9.0, 100.0), row(5.0, 40.0)].map(Ok))?;
//! a.merge(&NpsValueTally::from_bytes(&b.to_bytes())?)?;
//! let r = a.promoter_value(0.95, None)?;
//! let worth = r.difference("revenue", cx_metrics::NpsCategory::Promoter, cx_metrics::NpsCategory::Detractor);
//! assert_eq!(worth.unwrap().difference, 80.0);
//! # Ok::<(), cx_metrics::Error>(())
//! ```

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::any_state::{Column, Columnar, Columns};
use crate::error::{Error, Result};
use crate::intervals::{
    check_level, mean_t_ci, newcombe_difference, proportion_ci, t_two_sided, Interval,
    ProportionMethod,
};
use crate::moments::Moments;
use crate::promoter_value::{CategoryFigures, Difference, MeanFigure, PromoterValue, NOTE};
use crate::scale::NpsCategory;
use crate::state::{add_count, Accumulator, Decoder, Encoder, Example, StateKind};
use crate::survival::{EventTable, Outcome, Tickets};
use crate::tally::Merge;

/// Which outcome columns the joined rows carry (the configuration of a [`NpsValueTally`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Measures {
    /// Churned by the end of the observation (a flag).
    pub churned: bool,
    /// Revenue per customer.
    pub revenue: bool,
    /// Lifetime value per customer.
    pub value: bool,
    /// Time from the survey to churn or to the end of the observation (needs `churned`).
    pub duration: bool,
}

impl Measures {
    /// At least one of churned, revenue, value; a duration only with churned.
    pub fn check(self) -> Result<()> {
        if self.duration && !self.churned {
            return Err(Error::invalid(
                "durations",
                "given without churned; the retention curve needs who churned (the event) and who is still active (censored)",
            ));
        }
        if !(self.churned || self.revenue || self.value) {
            return Err(Error::invalid(
                "outcomes",
                "no outcome column; give churned, revenue or value (or several)",
            ));
        }
        Ok(())
    }

    fn bits(self) -> u8 {
        u8::from(self.churned)
            | u8::from(self.revenue) << 1
            | u8::from(self.value) << 2
            | u8::from(self.duration) << 3
    }

    fn of_bits(bits: u8) -> Option<Self> {
        (bits < 16).then_some(Self {
            churned: bits & 1 != 0,
            revenue: bits & 2 != 0,
            value: bits & 4 != 0,
            duration: bits & 8 != 0,
        })
    }

    fn names(self) -> String {
        let names: Vec<&str> = [
            (self.churned, "churned"),
            (self.revenue, "revenue"),
            (self.value, "value"),
            (self.duration, "duration"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
        names.join(", ")
    }
}

/// An outcome row of a customer (the fields of measures not folded are ignored).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutcomeRow {
    /// Churned.
    pub churned: bool,
    /// Revenue (finite).
    pub revenue: f64,
    /// Lifetime value (finite).
    pub value: f64,
    /// Time to churn or to the end of the observation (finite, ≥ 0).
    pub duration: f64,
}

impl Default for OutcomeRow {
    fn default() -> Self {
        Self {
            churned: false,
            revenue: f64::NAN,
            value: f64::NAN,
            duration: f64::NAN,
        }
    }
}

/// A row of the joined table: a customer's answer, outcome, or both.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JoinedRow {
    /// The 0–10 score (NaN: answered without a score); `None`: the customer did not answer.
    pub answer: Option<f64>,
    /// The customer's outcome row; `None`: no outcome row.
    pub outcome: Option<OutcomeRow>,
}

/// The figures of one NPS category in a [`NpsValueTally`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NpsValueCell {
    /// Customers with a score in the category and an outcome row.
    pub n: u64,
    /// Of them, churned (0 when churn is not folded).
    pub churned: u64,
    /// Moments of their revenue (one variable, `"revenue"`), when revenue is folded.
    pub revenue: Option<Moments>,
    /// Moments of their lifetime value (`"value"`), when value is folded.
    pub value: Option<Moments>,
    /// Their durations (churn the event, still active censored), when durations are folded.
    pub retention: Option<EventTable>,
}

impl NpsValueCell {
    fn empty(measures: Measures) -> Result<Self> {
        Ok(Self {
            n: 0,
            churned: 0,
            revenue: measures
                .revenue
                .then(|| Moments::new(["revenue"]))
                .transpose()?,
            value: measures
                .value
                .then(|| Moments::new(["value"]))
                .transpose()?,
            retention: measures.duration.then(EventTable::exact),
        })
    }
}

/// The mergeable state of "what a promoter is worth" (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawNpsValueTally")]
pub struct NpsValueTally {
    measures: Measures,
    /// Detractors, passives, promoters.
    cells: [NpsValueCell; 3],
    n_missing_score: u64,
    n_missing_matched: u64,
    n_survey_unmatched: u64,
    n_outcomes_unmatched: u64,
}

#[derive(Deserialize)]
struct RawNpsValueTally {
    measures: Measures,
    cells: [NpsValueCell; 3],
    n_missing_score: u64,
    n_missing_matched: u64,
    n_survey_unmatched: u64,
    n_outcomes_unmatched: u64,
}

impl TryFrom<RawNpsValueTally> for NpsValueTally {
    type Error = Error;
    fn try_from(r: RawNpsValueTally) -> Result<Self> {
        let t = Self {
            measures: r.measures,
            cells: r.cells,
            n_missing_score: r.n_missing_score,
            n_missing_matched: r.n_missing_matched,
            n_survey_unmatched: r.n_survey_unmatched,
            n_outcomes_unmatched: r.n_outcomes_unmatched,
        };
        t.validate()?;
        Ok(t)
    }
}

const CATEGORIES: [NpsCategory; 3] = [
    NpsCategory::Detractor,
    NpsCategory::Passive,
    NpsCategory::Promoter,
];

fn bad(column: &str, message: String) -> Error {
    Error::BadColumn {
        column: column.to_string(),
        message,
    }
}

impl NpsValueTally {
    /// An empty state folding the outcome columns `measures`.
    pub fn new(measures: Measures) -> Result<Self> {
        measures.check()?;
        Ok(Self {
            measures,
            cells: [
                NpsValueCell::empty(measures)?,
                NpsValueCell::empty(measures)?,
                NpsValueCell::empty(measures)?,
            ],
            n_missing_score: 0,
            n_missing_matched: 0,
            n_survey_unmatched: 0,
            n_outcomes_unmatched: 0,
        })
    }

    /// The outcome columns folded.
    pub fn measures(&self) -> Measures {
        self.measures
    }
    /// Detractors, passives, promoters.
    pub fn cells(&self) -> &[NpsValueCell; 3] {
        &self.cells
    }
    /// Customers with a score and an outcome row.
    pub fn n_matched(&self) -> u64 {
        self.cells.iter().map(|c| c.n).sum()
    }
    /// Answers without a score.
    pub fn n_missing_score(&self) -> u64 {
        self.n_missing_score
    }
    /// Answers without a score whose customer has an outcome row.
    pub fn n_missing_matched(&self) -> u64 {
        self.n_missing_matched
    }
    /// Scored answers without an outcome row.
    pub fn n_survey_unmatched(&self) -> u64 {
        self.n_survey_unmatched
    }
    /// Outcome rows without an answer.
    pub fn n_outcomes_unmatched(&self) -> u64 {
        self.n_outcomes_unmatched
    }
    /// Outcome rows folded (with an answer or not).
    pub fn n_outcome_rows(&self) -> u64 {
        self.n_matched() + self.n_missing_matched + self.n_outcomes_unmatched
    }
    /// Answers folded (scored or not).
    pub fn n_answers(&self) -> u64 {
        self.n_matched() + self.n_missing_score + self.n_survey_unmatched
    }

    /// Fold joined rows (each a customer: an answer, an outcome row, or both). A score that is not
    /// an integer 0–10 (or NaN), an outcome value that is not finite (a duration below 0) and a row
    /// with neither answer nor outcome are errors naming the row's position among `rows`. On error
    /// nothing changes. Rows do not carry ids: a customer given twice is not detected here (see
    /// [`NpsValueTally::fold_batch`](Accumulator::fold_batch), which checks the ids of a batch).
    pub fn fold_rows(&mut self, rows: impl IntoIterator<Item = Result<JoinedRow>>) -> Result<()> {
        let m = self.measures;
        let mut part = self.empty_like();
        let mut km: [(Vec<f64>, Vec<Outcome>); 3] = Default::default();
        for (i, row) in rows.into_iter().enumerate() {
            let row = row?;
            if let Some(o) = row.outcome {
                for (on, name, v, nonneg) in [
                    (m.revenue, "revenue", o.revenue, false),
                    (m.value, "value", o.value, false),
                    (m.duration, "duration", o.duration, true),
                ] {
                    if on && !(v.is_finite() && (!nonneg || v >= 0.0)) {
                        return Err(bad(
                            name,
                            format!(
                                "row {i}: {v} is not a finite number{}; give a value for every \
                                 customer with an outcome (drop the row if it is unknown)",
                                if nonneg { " >= 0" } else { "" }
                            ),
                        ));
                    }
                }
            }
            match (row.answer, row.outcome) {
                (None, None) => {
                    return Err(Error::invalid(
                        "rows",
                        format!("row {i} has neither an answer nor an outcome; a joined row is a customer with one or both"),
                    ))
                }
                (None, Some(_)) => part.n_outcomes_unmatched += 1,
                (Some(s), o) if s.is_nan() => {
                    part.n_missing_score += 1;
                    part.n_missing_matched += u64::from(o.is_some());
                }
                (Some(s), _) if !(s.fract() == 0.0 && (0.0..=10.0).contains(&s)) => {
                    return Err(bad(
                        "score",
                        format!(
                            "row {i}: {s}; likelihood to recommend is an integer 0-10 (NaN: missing)"
                        ),
                    ))
                }
                (Some(_), None) => part.n_survey_unmatched += 1,
                (Some(s), Some(o)) => {
                    let k = NpsCategory::of(s as u8) as usize;
                    let cell = &mut part.cells[k];
                    cell.n += 1;
                    if m.churned {
                        cell.churned += u64::from(o.churned);
                    }
                    if let Some(r) = cell.revenue.as_mut() {
                        r.add_row(&[o.revenue], 1.0)?;
                    }
                    if let Some(v) = cell.value.as_mut() {
                        v.add_row(&[o.value], 1.0)?;
                    }
                    if m.duration {
                        km[k].0.push(o.duration);
                        km[k].1.push(if o.churned {
                            Outcome::Event
                        } else {
                            Outcome::Open
                        });
                    }
                }
            }
        }
        for (cell, (d, o)) in part.cells.iter_mut().zip(&km) {
            if let (Some(t), false) = (cell.retention.as_mut(), d.is_empty()) {
                t.fold_batch(Tickets::new(d, o), None)?;
            }
        }
        self.merge(&part)
    }

    /// The empty state of the same measures.
    pub fn empty_like(&self) -> Self {
        Self::new(self.measures).expect("the measures were checked when the state was made")
    }

    /// The figures of the rows folded, at `confidence_level`. `outcome_rows`: when this state holds
    /// one segment's answers joined to all the outcome rows, the number of outcome rows of the whole
    /// table; `n_outcomes_unmatched` is then the outcome rows not matched to an answer of the
    /// segment (as `promoter_value` reports per segment), otherwise those folded without an answer.
    pub fn promoter_value(
        &self,
        confidence_level: f64,
        outcome_rows: Option<u64>,
    ) -> Result<PromoterValue> {
        let level = check_level(confidence_level)?;
        let m = self.measures;
        let n_outcomes_unmatched = match outcome_rows {
            None => self.n_outcomes_unmatched,
            Some(total) => {
                let matched = self.n_matched() + self.n_missing_matched;
                total.checked_sub(matched).ok_or_else(|| {
                    Error::invalid(
                        "outcome_rows",
                        format!(
                            "{total}, fewer than the {matched} outcome rows matched to the answers of this state"
                        ),
                    )
                })?
            }
        };
        let mut categories = Vec::with_capacity(3);
        for (cell, &category) in self.cells.iter().zip(&CATEGORIES) {
            let has_churn = m.churned && cell.n > 0;
            categories.push(CategoryFigures {
                category,
                n: cell.n,
                churned: m.churned.then_some(cell.churned),
                churn: has_churn.then(|| cell.churned as f64 / cell.n as f64),
                churn_ci: if has_churn {
                    Some(proportion_ci(
                        cell.churned as f64,
                        cell.n as f64,
                        level,
                        ProportionMethod::Wilson,
                    )?)
                } else {
                    None
                },
                revenue: mean_figure(cell.revenue.as_ref(), level)?,
                value: mean_figure(cell.value.as_ref(), level)?,
            });
        }
        // Promoter − detractor, passive − detractor, promoter − passive.
        let mut differences = Vec::new();
        for (a, b) in [(2usize, 0usize), (1, 0), (2, 1)] {
            let (ca, cb) = (&self.cells[a], &self.cells[b]);
            if m.churned && ca.n > 0 && cb.n > 0 {
                let (pa, pb) = (
                    ca.churned as f64 / ca.n as f64,
                    cb.churned as f64 / cb.n as f64,
                );
                differences.push(Difference {
                    measure: "churn".into(),
                    a: CATEGORIES[a],
                    b: CATEGORIES[b],
                    difference: pa - pb,
                    ci: Some(newcombe_difference(
                        ca.churned as f64,
                        ca.n as f64,
                        cb.churned as f64,
                        cb.n as f64,
                        level,
                    )?),
                    method: "newcombe".into(),
                });
            }
            for (measure, ma, mb) in [
                ("revenue", &ca.revenue, &cb.revenue),
                ("value", &ca.value, &cb.value),
            ] {
                if let (Some(ma), Some(mb)) = (ma, mb) {
                    if ma.n() > 0 && mb.n() > 0 {
                        differences.push(Difference {
                            measure: measure.into(),
                            a: CATEGORIES[a],
                            b: CATEGORIES[b],
                            difference: ma.means()[0] - mb.means()[0],
                            ci: welch(ma, mb, level)?,
                            method: "welch".into(),
                        });
                    }
                }
            }
        }
        let retention = if m.duration {
            let mut curves = Vec::with_capacity(3);
            for cell in &self.cells {
                curves.push(match &cell.retention {
                    Some(t) if cell.n > 0 => Some(t.kaplan_meier()?),
                    _ => None,
                });
            }
            Some(curves)
        } else {
            None
        };
        Ok(PromoterValue {
            categories,
            differences,
            retention,
            n_survey: self.n_matched() + self.n_survey_unmatched,
            n_missing_score: self.n_missing_score,
            n_survey_unmatched: self.n_survey_unmatched,
            n_outcomes_unmatched,
            confidence_level,
            note: NOTE.into(),
        })
    }

    fn check_columns(&self, batch: &JoinedColumns<'_>) -> Result<()> {
        let given = Measures {
            churned: batch.churned.is_some(),
            revenue: batch.revenue.is_some(),
            value: batch.value.is_some(),
            duration: batch.durations.is_some(),
        };
        if given != self.measures {
            return Err(Error::invalid(
                "columns",
                format!(
                    "the batch has the outcome columns [{}] but the state folds [{}]; give exactly \
                     the state's outcome columns",
                    given.names(),
                    self.measures.names()
                ),
            ));
        }
        let n = batch.answered.len();
        let lengths = [
            ("answered and score", batch.scores.len()),
            ("answered and has_outcome", batch.has_outcome.len()),
            ("answered and churned", batch.churned.map_or(n, |c| c.len())),
            (
                "answered and revenue",
                batch.revenue.map_or(n, <[f64]>::len),
            ),
            ("answered and value", batch.value.map_or(n, <[f64]>::len)),
            (
                "answered and duration",
                batch.durations.map_or(n, <[f64]>::len),
            ),
            ("answered and id", batch.ids.map_or(n, |i| i.len())),
        ];
        for (what, len) in lengths {
            if len != n {
                return Err(Error::LengthMismatch {
                    what,
                    left: n,
                    right: len,
                });
            }
        }
        Ok(())
    }
}

/// The mean figure of the moments of one measure (`None`: not folded, or no customer).
fn mean_figure(m: Option<&Moments>, level: f64) -> Result<Option<MeanFigure>> {
    let Some(m) = m.filter(|m| m.n() > 0) else {
        return Ok(None);
    };
    let (mean, var) = (m.means()[0], variance(m));
    let sd = var.sqrt();
    let ci = if m.n() > 1 {
        Some(mean_t_ci(mean, sd, m.n() as f64, level)?)
    } else {
        None
    };
    Ok(Some(MeanFigure {
        n: m.n(),
        mean,
        sd,
        ci,
    }))
}

/// The sample variance (n − 1) of unweighted moments of one variable (NaN below two rows).
fn variance(m: &Moments) -> f64 {
    if m.n() > 1 {
        m.comoments()[0].max(0.0) / (m.n() - 1) as f64
    } else {
        f64::NAN
    }
}

/// Welch's interval of `mean_a − mean_b`.
fn welch(a: &Moments, b: &Moments, level: f64) -> Result<Option<Interval>> {
    if a.n() < 2 || b.n() < 2 {
        return Ok(None);
    }
    let d = a.means()[0] - b.means()[0];
    let (va, vb) = (variance(a) / a.n() as f64, variance(b) / b.n() as f64);
    let se2 = va + vb;
    if se2 == 0.0 {
        return Ok(Some(Interval::new(d, d, level)));
    }
    let df = se2 * se2 / (va * va / (a.n() - 1) as f64 + vb * vb / (b.n() - 1) as f64);
    let half = t_two_sided(level, df)? * se2.sqrt();
    Ok(Some(Interval::new(d - half, d + half, level)))
}

impl Merge for NpsValueTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.measures != other.measures {
            return Err(Error::Incompatible(format!(
                "promoter-value states of different outcome columns ([{}] and [{}]); fold every \
                 part with the same columns",
                self.measures.names(),
                other.measures.names()
            )));
        }
        let mut sum = self.clone();
        for (a, b) in sum.cells.iter_mut().zip(&other.cells) {
            a.n = add_count(a.n, b.n, || "the matched customers".into())?;
            a.churned = add_count(a.churned, b.churned, || "the churned customers".into())?;
            if let (Some(x), Some(y)) = (a.revenue.as_mut(), b.revenue.as_ref()) {
                x.merge(y)?;
            }
            if let (Some(x), Some(y)) = (a.value.as_mut(), b.value.as_ref()) {
                x.merge(y)?;
            }
            if let (Some(x), Some(y)) = (a.retention.as_mut(), b.retention.as_ref()) {
                x.merge(y)?;
            }
        }
        sum.n_missing_score = add_count(self.n_missing_score, other.n_missing_score, || {
            "the answers without a score".into()
        })?;
        sum.n_missing_matched = add_count(self.n_missing_matched, other.n_missing_matched, || {
            "the answers without a score".into()
        })?;
        sum.n_survey_unmatched =
            add_count(self.n_survey_unmatched, other.n_survey_unmatched, || {
                "the answers without an outcome".into()
            })?;
        sum.n_outcomes_unmatched = add_count(
            self.n_outcomes_unmatched,
            other.n_outcomes_unmatched,
            || "the outcome rows without an answer".into(),
        )?;
        sum.check_totals()?;
        *self = sum;
        Ok(())
    }
}

impl NpsValueTally {
    /// The answers and the outcome rows counted without overflow.
    fn check_totals(&self) -> Result<()> {
        let overflow = || Error::Overflow {
            what: "the rows of a promoter-value state".into(),
        };
        let mut total = 0u64;
        for c in &self.cells {
            total = total.checked_add(c.n).ok_or_else(overflow)?;
        }
        for v in [
            self.n_missing_score,
            self.n_survey_unmatched,
            self.n_outcomes_unmatched,
        ] {
            total = total.checked_add(v).ok_or_else(overflow)?;
        }
        Ok(())
    }
}

/// Customer ids of a batch: integers or labels.
#[derive(Debug, Clone, Copy)]
pub enum Ids<'a> {
    /// Integer ids.
    Int(&'a [i64]),
    /// Text ids.
    Text(&'a [&'a str]),
}

impl Ids<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Int(v) => v.len(),
            Self::Text(v) => v.len(),
        }
    }

    /// The first id repeated: its text and both positions.
    fn repeated(&self) -> Option<(String, usize, usize)> {
        fn first<T: Hash + Eq + ToString>(v: &[T]) -> Option<(String, usize, usize)> {
            let mut seen: HashMap<&T, usize> = HashMap::with_capacity(v.len());
            for (i, id) in v.iter().enumerate() {
                if let Some(j) = seen.insert(id, i) {
                    return Some((id.to_string(), j, i));
                }
            }
            None
        }
        match self {
            Self::Int(v) => first(v),
            Self::Text(v) => first(v),
        }
    }
}

/// Churn flags of a batch: booleans, or numbers 0 / 1 (NaN where the row has no outcome).
#[derive(Debug, Clone, Copy)]
pub enum Flags<'a> {
    /// True: churned.
    Bool(&'a [bool]),
    /// 1: churned, 0: still active.
    Numbers(&'a [f64]),
}

impl Flags<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Bool(v) => v.len(),
            Self::Numbers(v) => v.len(),
        }
    }

    fn at(&self, i: usize) -> Result<bool> {
        match self {
            Self::Bool(v) => Ok(v[i]),
            Self::Numbers(v) if v[i] == 1.0 => Ok(true),
            Self::Numbers(v) if v[i] == 0.0 => Ok(false),
            Self::Numbers(v) => Err(bad(
                "churned",
                format!(
                    "row {i}: {}; give True (churned) or False (still a customer) for every customer with an outcome",
                    v[i]
                ),
            )),
        }
    }
}

/// Columns of the joined table: the batch of a [`NpsValueTally`]. Every column has one entry per
/// joined row; the outcome columns are those of the state's [`Measures`], and their entries in rows
/// without an outcome are ignored, as is the score of a row without an answer.
#[derive(Debug, Clone, Copy)]
pub struct JoinedColumns<'a> {
    /// Customer ids (`None`: not checked): a repeated id is an error naming both rows.
    pub ids: Option<Ids<'a>>,
    /// The customer answered the survey.
    pub answered: &'a [bool],
    /// The 0–10 score (NaN: missing).
    pub scores: &'a [f64],
    /// The customer has an outcome row.
    pub has_outcome: &'a [bool],
    /// Churned.
    pub churned: Option<Flags<'a>>,
    /// Revenue.
    pub revenue: Option<&'a [f64]>,
    /// Lifetime value.
    pub value: Option<&'a [f64]>,
    /// Durations.
    pub durations: Option<&'a [f64]>,
}

/// Options of [`NpsValueTally`]'s `finish`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NpsValueOptions {
    /// The confidence level of every interval.
    pub confidence_level: f64,
    /// The outcome rows of the whole table, when the state holds one segment's answers (see
    /// [`NpsValueTally::promoter_value`]).
    #[serde(default)]
    pub outcome_rows: Option<u64>,
}

impl Accumulator for NpsValueTally {
    const KIND: StateKind = StateKind::NpsValueTally;
    type Batch<'a> = JoinedColumns<'a>;
    type Options = NpsValueOptions;
    type Output = PromoterValue;

    /// Fold the rows of a joined table; unweighted (weights are an error). A repeated id, a row
    /// with neither answer nor outcome, a bad score or outcome value are errors naming the row.
    fn fold_batch(&mut self, batch: JoinedColumns<'_>, weights: Option<&[f64]>) -> Result<()> {
        if weights.is_some() {
            return Err(Error::invalid(
                "weights",
                "what a promoter is worth is computed over customers, unweighted; fold without weights",
            ));
        }
        self.check_columns(&batch)?;
        if let Some((id, first, again)) = batch.ids.and_then(|ids| ids.repeated()) {
            return Err(Error::invalid(
                "id",
                format!(
                    "customer {id} is in rows {first} and {again} of the joined answers and \
                     outcomes: a customer answered twice or is listed twice in the outcomes; keep \
                     one answer (e.g. the latest) and one outcome row per customer"
                ),
            ));
        }
        let rows = (0..batch.answered.len()).map(|i| {
            let outcome = if batch.has_outcome[i] {
                Some(OutcomeRow {
                    churned: match batch.churned {
                        Some(c) => c.at(i)?,
                        None => false,
                    },
                    revenue: batch.revenue.map_or(f64::NAN, |c| c[i]),
                    value: batch.value.map_or(f64::NAN, |c| c[i]),
                    duration: batch.durations.map_or(f64::NAN, |c| c[i]),
                })
            } else {
                None
            };
            Ok(JoinedRow {
                answer: batch.answered[i].then_some(batch.scores[i]),
                outcome,
            })
        });
        self.fold_rows(rows)
    }

    /// Answers and outcome rows folded (a customer with both counts once).
    fn n(&self) -> u64 {
        self.n_answers().saturating_add(self.n_outcomes_unmatched)
    }

    fn finish(&self, options: &NpsValueOptions) -> Result<PromoterValue> {
        self.promoter_value(options.confidence_level, options.outcome_rows)
    }

    /// The measures valid; per category churned ≤ customers (0 without churn), the moments of
    /// exactly the folded measures, of the customers, unweighted, and an exact-time event table
    /// without entries whose events are the churned and censored rows the others; answers without
    /// a score with an outcome at most those without a score; totals without overflow.
    fn validate(&self) -> Result<()> {
        let kind = Self::KIND;
        let m = self.measures;
        m.check().map_err(|e| kind.invalid(e.to_string()))?;
        for (cell, cat) in self.cells.iter().zip(CATEGORIES) {
            let cat = format!("{cat:?}").to_lowercase();
            if cell.churned > cell.n || (!m.churned && cell.churned != 0) {
                return Err(kind.invalid(format!(
                    "{cat}s: {} churned of {} customers",
                    cell.churned, cell.n
                )));
            }
            for (on, name, mom) in [
                (m.revenue, "revenue", &cell.revenue),
                (m.value, "value", &cell.value),
            ] {
                match (on, mom) {
                    (false, None) => {}
                    (true, Some(mom)) => {
                        mom.validate()
                            .map_err(|e| kind.invalid(format!("{cat}s' {name}: {e}")))?;
                        let n = cell.n as f64;
                        if mom.names() != [name]
                            || mom.n() != cell.n
                            || mom.n_zero_weight() != 0
                            || mom.sum_weights() != n
                            || mom.sum_weights_sq() != n
                        {
                            return Err(kind.invalid(format!(
                                "{cat}s' {name}: moments of {:?} over {} rows (weight {}) for {} \
                                 customers, unweighted",
                                mom.names(),
                                mom.n(),
                                mom.sum_weights(),
                                cell.n
                            )));
                        }
                    }
                    _ => {
                        return Err(kind.invalid(format!(
                            "{cat}s: {name} moments {} but the state folds [{}]",
                            if on { "missing" } else { "present" },
                            m.names()
                        )))
                    }
                }
            }
            match (m.duration, &cell.retention) {
                (false, None) => {}
                (true, Some(t)) => {
                    t.validate()
                        .map_err(|e| kind.invalid(format!("{cat}s' durations: {e}")))?;
                    let unweighted = t
                        .rows()
                        .iter()
                        .zip(t.weights())
                        .all(|(r, w)| (0..3).all(|c| w[c] == r[c] as f64));
                    let [events, competing, censored] = t.totals();
                    if t.bin_width().is_some()
                        || !t.entries().is_empty()
                        || !unweighted
                        || competing != 0
                        || events != cell.churned
                        || Some(cell.n) != events.checked_add(censored)
                    {
                        return Err(kind.invalid(format!(
                            "{cat}s' durations: {events} events and {censored} censored rows (exact \
                             times, unweighted, nothing else) for {} churned of {} customers",
                            cell.churned, cell.n
                        )));
                    }
                }
                _ => {
                    return Err(kind.invalid(format!(
                        "{cat}s: durations {} but the state folds [{}]",
                        if m.duration { "missing" } else { "present" },
                        m.names()
                    )))
                }
            }
        }
        if self.n_missing_matched > self.n_missing_score {
            return Err(kind.invalid(format!(
                "{} answers without a score have an outcome, of {} without a score",
                self.n_missing_matched, self.n_missing_score
            )));
        }
        self.check_totals()
            .map_err(|_| kind.invalid("the rows add up to more than 2^64 - 1"))
    }

    /// The measures (a byte of flags: churned 1, revenue 2, value 4, duration 8), then per category
    /// (detractor, passive, promoter) the customers, the churned, the revenue moments' payload, the
    /// value moments' payload, the event table's payload (each only when folded), then the answers
    /// without a score, those of them with an outcome, the scored answers without an outcome and
    /// the outcome rows without an answer.
    fn encode_payload(&self, out: &mut Encoder) {
        out.u8(self.measures.bits());
        for c in &self.cells {
            out.u64(c.n);
            out.u64(c.churned);
            if let Some(m) = &c.revenue {
                m.encode_payload(out);
            }
            if let Some(m) = &c.value {
                m.encode_payload(out);
            }
            if let Some(t) = &c.retention {
                t.encode_payload(out);
            }
        }
        out.u64(self.n_missing_score);
        out.u64(self.n_missing_matched);
        out.u64(self.n_survey_unmatched);
        out.u64(self.n_outcomes_unmatched);
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let bits = input.u8("the measures")?;
        let measures = Measures::of_bits(bits)
            .ok_or_else(|| input.invalid(format!("measure flags {bits:#x} (below 0x10)")))?;
        let cell = |input: &mut Decoder<'_>| -> Result<NpsValueCell> {
            let n = input.u64("the matched customers")?;
            let churned = input.u64("the churned customers")?;
            let revenue = if measures.revenue {
                Some(Moments::decode_payload(input)?)
            } else {
                None
            };
            let value = if measures.value {
                Some(Moments::decode_payload(input)?)
            } else {
                None
            };
            let retention = if measures.duration {
                Some(EventTable::decode_payload(input)?)
            } else {
                None
            };
            Ok(NpsValueCell {
                n,
                churned,
                revenue,
                value,
                retention,
            })
        };
        let cells = [cell(input)?, cell(input)?, cell(input)?];
        Ok(Self {
            measures,
            cells,
            n_missing_score: input.u64("the answers without a score")?,
            n_missing_matched: input.u64("the answers without a score with an outcome")?,
            n_survey_unmatched: input.u64("the answers without an outcome")?,
            n_outcomes_unmatched: input.u64("the outcome rows without an answer")?,
        })
    }
}

impl Columnar for NpsValueTally {
    type Config = Measures;

    fn from_config(config: Measures) -> Result<Self> {
        Self::new(config)
    }

    /// `id` (int64 or text), `answered`, `has_outcome` (bool), `score` (float64, NaN: missing),
    /// and the state's outcome columns: `churned` (bool, or float64 0/1), `revenue`, `value`,
    /// `duration` (float64).
    fn batch<'a>(columns: &Columns<'a>) -> Result<JoinedColumns<'a>> {
        columns.only(&[
            "id",
            "answered",
            "score",
            "has_outcome",
            "churned",
            "revenue",
            "value",
            "duration",
        ])?;
        let ids = match columns.get("id") {
            Some(Column::I64(v)) => Ids::Int(v),
            Some(Column::Text(v)) => Ids::Text(v),
            Some(_) => {
                return Err(Error::invalid(
                    "columns",
                    "column \"id\" must hold int64 or text customer ids",
                ))
            }
            None => {
                return Err(Error::invalid(
                    "columns",
                    "column \"id\" is needed: the customer ids, so that a customer given twice is refused",
                ))
            }
        };
        let churned = match columns.get("churned") {
            None => None,
            Some(Column::Bool(v)) => Some(Flags::Bool(v)),
            Some(Column::F64(v)) => Some(Flags::Numbers(v)),
            Some(_) => {
                return Err(Error::invalid(
                    "columns",
                    "column \"churned\" must hold bool or float64 (0/1) flags",
                ))
            }
        };
        Ok(JoinedColumns {
            ids: Some(ids),
            answered: columns.required_bool("answered")?,
            scores: columns.required_f64("score")?,
            has_outcome: columns.required_bool("has_outcome")?,
            churned,
            revenue: columns.f64("revenue")?,
            value: columns.f64("value")?,
            durations: columns.f64("duration")?,
        })
    }
}

impl Example for NpsValueTally {
    fn example() -> Self {
        let measures = Measures {
            churned: true,
            revenue: true,
            value: true,
            duration: true,
        };
        let mut t = Self::new(measures).expect("valid measures");
        let nan = f64::NAN;
        let answered = [true, true, true, true, true, true, true, false, true];
        let scores = [10.0, 9.0, 8.0, 3.0, 5.0, 0.0, nan, nan, 7.0];
        let has_outcome = [true, true, true, true, true, true, true, true, false];
        let churned = [false, false, true, true, false, true, false, true, false];
        let revenue = [120.0, 100.5, 80.0, 20.0, 40.25, 30.0, 1.0, 5.0, nan];
        let value = [900.0, 800.0, 650.0, 90.0, 200.0, 150.0, 2.0, 10.0, nan];
        let durations = [24.0, 18.0, 6.0, 3.0, 24.0, 7.5, 1.0, 2.0, nan];
        let ids = [1i64, 2, 3, 4, 5, 6, 7, 8, 9];
        t.fold_batch(
            JoinedColumns {
                ids: Some(Ids::Int(&ids)),
                answered: &answered,
                scores: &scores,
                has_outcome: &has_outcome,
                churned: Some(Flags::Bool(&churned)),
                revenue: Some(&revenue),
                value: Some(&value),
                durations: Some(&durations),
            },
            None,
        )
        .expect("the fixed sample rows are valid");
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promoter_value::{promoter_value, OutcomeRows, SurveyRows};

    /// Absolute tolerance for figures that are zero one way and a rounding residue the other (a mean
    /// of values of both signs that cancel; the test values are below 10^3 in magnitude there).
    const ABS: f64 = 1e-12;

    fn close(a: f64, b: f64, rtol: f64) -> bool {
        a == b || (a - b).abs() <= rtol * b.abs().max(1e-300) || (a - b).abs() <= ABS
    }

    /// Two results equal: counts exactly, every figure to `rtol` relative (or [`ABS`]).
    fn same(a: &PromoterValue, b: &PromoterValue, rtol: f64) {
        assert_eq!(
            (
                a.n_survey,
                a.n_missing_score,
                a.n_survey_unmatched,
                a.n_outcomes_unmatched
            ),
            (
                b.n_survey,
                b.n_missing_score,
                b.n_survey_unmatched,
                b.n_outcomes_unmatched
            )
        );
        let iv = |x: &Option<Interval>, y: &Option<Interval>| match (x, y) {
            (Some(x), Some(y)) => {
                assert!(close(x.low, y.low, rtol), "{x:?} vs {y:?}");
                assert!(close(x.high, y.high, rtol), "{x:?} vs {y:?}");
            }
            (x, y) => assert_eq!(x, y),
        };
        let mean = |x: &Option<MeanFigure>, y: &Option<MeanFigure>| match (x, y) {
            (Some(x), Some(y)) => {
                assert_eq!(x.n, y.n);
                assert!(close(x.mean, y.mean, rtol), "{} vs {}", x.mean, y.mean);
                assert!(
                    close(x.sd, y.sd, rtol) || (x.sd.is_nan() && y.sd.is_nan()),
                    "{} vs {}",
                    x.sd,
                    y.sd
                );
                iv(&x.ci, &y.ci);
            }
            (x, y) => assert_eq!(x, y),
        };
        for (x, y) in a.categories.iter().zip(&b.categories) {
            assert_eq!((x.category, x.n, x.churned), (y.category, y.n, y.churned));
            assert_eq!(x.churn, y.churn);
            iv(&x.churn_ci, &y.churn_ci);
            mean(&x.revenue, &y.revenue);
            mean(&x.value, &y.value);
        }
        assert_eq!(a.differences.len(), b.differences.len());
        for (x, y) in a.differences.iter().zip(&b.differences) {
            assert_eq!((&x.measure, x.a, x.b), (&y.measure, y.a, y.b));
            assert!(
                close(x.difference, y.difference, rtol),
                "{} vs {}",
                x.difference,
                y.difference
            );
            iv(&x.ci, &y.ci);
        }
        assert_eq!(a.retention, b.retention);
    }

    /// 600 answers (one per customer, about 1 in 23 without a score) and 550 outcome rows over 700
    /// customers: 150 answers without an outcome, 100 outcomes without an answer.
    struct Data {
        survey_ids: Vec<u32>,
        scores: Vec<f64>,
        outcome_ids: Vec<u32>,
        churned: Vec<bool>,
        revenue: Vec<f64>,
        value: Vec<f64>,
        durations: Vec<f64>,
    }

    fn data() -> Data {
        let mut state = 2024u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let survey_ids: Vec<u32> = (0..600).map(|i| (i * 3) % 700).collect();
        let scores = (0..600)
            .map(|_| {
                let r = next();
                if r % 23 == 0 {
                    f64::NAN
                } else {
                    f64::from(r % 11)
                }
            })
            .collect();
        let outcome_ids: Vec<u32> = (150..700).map(|i| (i * 3) % 700).rev().collect();
        let n = outcome_ids.len();
        let churned = (0..n).map(|_| next() % 4 == 0).collect();
        let revenue = (0..n)
            .map(|_| f64::from(next() % 20_000) / 100.0 + 1e6)
            .collect();
        let value = (0..n).map(|_| f64::from(next() % 5000) * 0.37).collect();
        let durations = (0..n).map(|_| f64::from(1 + next() % 24)).collect();
        Data {
            survey_ids,
            scores,
            outcome_ids,
            churned,
            revenue,
            value,
            durations,
        }
    }

    fn in_memory(d: &Data) -> PromoterValue {
        promoter_value(
            SurveyRows {
                ids: &d.survey_ids,
                scores: &d.scores,
            },
            OutcomeRows {
                ids: &d.outcome_ids,
                churned: Some(&d.churned),
                revenue: Some(&d.revenue),
                value: Some(&d.value),
                durations: Some(&d.durations),
            },
            700,
            0.95,
        )
        .unwrap()
    }

    /// The joined table of `d` as columns (an outer join by id, in id order).
    struct Joined {
        ids: Vec<i64>,
        answered: Vec<bool>,
        scores: Vec<f64>,
        has_outcome: Vec<bool>,
        churned: Vec<f64>,
        revenue: Vec<f64>,
        value: Vec<f64>,
        durations: Vec<f64>,
    }

    fn joined(d: &Data) -> Joined {
        let mut j = Joined {
            ids: vec![],
            answered: vec![],
            scores: vec![],
            has_outcome: vec![],
            churned: vec![],
            revenue: vec![],
            value: vec![],
            durations: vec![],
        };
        for id in 0..700u32 {
            let s = d.survey_ids.iter().position(|x| *x == id);
            let o = d.outcome_ids.iter().position(|x| *x == id);
            if s.is_none() && o.is_none() {
                continue;
            }
            j.ids.push(i64::from(id));
            j.answered.push(s.is_some());
            j.scores.push(s.map_or(f64::NAN, |i| d.scores[i]));
            j.has_outcome.push(o.is_some());
            j.churned
                .push(o.map_or(f64::NAN, |i| f64::from(u8::from(d.churned[i]))));
            j.revenue.push(o.map_or(f64::NAN, |i| d.revenue[i]));
            j.value.push(o.map_or(f64::NAN, |i| d.value[i]));
            j.durations.push(o.map_or(f64::NAN, |i| d.durations[i]));
        }
        j
    }

    fn all() -> Measures {
        Measures {
            churned: true,
            revenue: true,
            value: true,
            duration: true,
        }
    }

    fn fold(j: &Joined, rows: std::ops::Range<usize>) -> NpsValueTally {
        let mut t = NpsValueTally::new(all()).unwrap();
        t.fold_batch(
            JoinedColumns {
                ids: Some(Ids::Int(&j.ids[rows.clone()])),
                answered: &j.answered[rows.clone()],
                scores: &j.scores[rows.clone()],
                has_outcome: &j.has_outcome[rows.clone()],
                churned: Some(Flags::Numbers(&j.churned[rows.clone()])),
                revenue: Some(&j.revenue[rows.clone()]),
                value: Some(&j.value[rows.clone()]),
                durations: Some(&j.durations[rows]),
            },
            None,
        )
        .unwrap();
        t
    }

    #[test]
    fn merged_parts_equal_the_in_memory_result_and_a_direct_computation() {
        let d = data();
        let memory = in_memory(&d);
        let j = joined(&d);
        let n = j.ids.len();
        let parts: Vec<NpsValueTally> = [0..5, 5..300, 300..n]
            .into_iter()
            .map(|r| NpsValueTally::from_bytes(&fold(&j, r).to_bytes()).unwrap())
            .collect();
        let mut merged = parts[2].clone();
        merged.merge(&parts[0]).unwrap();
        merged.merge(&parts[1]).unwrap();
        assert_eq!(merged.n(), n as u64);
        let got = merged.promoter_value(0.95, None).unwrap();
        same(&got, &memory, 1e-12);
        // Counts by hand from the two tables.
        let missing = d.scores.iter().filter(|s| s.is_nan()).count() as u64;
        assert_eq!(got.n_missing_score, missing);
        assert_eq!(got.n_survey, 600 - missing);
        // Answer i is of customer 3i mod 700, which has an outcome row when i >= 150.
        let unmatched = d.scores[..150].iter().filter(|s| !s.is_nan()).count() as u64;
        assert_eq!(got.n_survey_unmatched, unmatched);
        assert_eq!(got.n_outcomes_unmatched, 100);
        // Means and standard deviations by two passes over each category's matched customers
        // (revenue around 1e6: the one-pass moments must not lose the spread).
        for (k, cat) in CATEGORIES.iter().enumerate() {
            let rows: Vec<usize> = (0..n)
                .filter(|&i| {
                    j.answered[i]
                        && j.has_outcome[i]
                        && !j.scores[i].is_nan()
                        && NpsCategory::of(j.scores[i] as u8) == *cat
                })
                .collect();
            let c = &got.categories[k];
            assert_eq!(c.n, rows.len() as u64);
            let churned = rows.iter().filter(|&&i| j.churned[i] == 1.0).count();
            assert_eq!(c.churned, Some(churned as u64));
            for (col, fig) in [(&j.revenue, &c.revenue), (&j.value, &c.value)] {
                let x: Vec<f64> = rows.iter().map(|&i| col[i]).collect();
                let mean = x.iter().sum::<f64>() / x.len() as f64;
                let ss: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
                let sd = (ss / (x.len() - 1) as f64).sqrt();
                let f = fig.as_ref().unwrap();
                assert!(close(f.mean, mean, 1e-13), "{} vs {mean}", f.mean);
                assert!(close(f.sd, sd, 1e-9), "{} vs {sd}", f.sd);
            }
        }
    }

    #[test]
    fn segments_count_the_outcomes_not_matched_to_their_answers() {
        // The answers of one segment joined to every outcome row: `outcome_rows` gives the
        // in-memory per-segment count of outcomes without an answer of the segment.
        let d = data();
        let keep: Vec<usize> = (0..600).filter(|i| i % 3 == 0).collect();
        let ids: Vec<u32> = keep.iter().map(|&i| d.survey_ids[i]).collect();
        let scores: Vec<f64> = keep.iter().map(|&i| d.scores[i]).collect();
        let memory = promoter_value(
            SurveyRows {
                ids: &ids,
                scores: &scores,
            },
            OutcomeRows {
                ids: &d.outcome_ids,
                revenue: Some(&d.revenue),
                ..Default::default()
            },
            700,
            0.9,
        )
        .unwrap();
        let j = joined(&Data {
            survey_ids: ids.clone(),
            scores: scores.clone(),
            outcome_ids: d.outcome_ids.clone(),
            churned: d.churned.clone(),
            revenue: d.revenue.clone(),
            value: d.value.clone(),
            durations: d.durations.clone(),
        });
        let answered: Vec<usize> = (0..j.ids.len()).filter(|&i| j.answered[i]).collect();
        let pick = |c: &[f64]| answered.iter().map(|&i| c[i]).collect::<Vec<f64>>();
        let seg_ids: Vec<i64> = answered.iter().map(|&i| j.ids[i]).collect();
        let flags: Vec<bool> = answered.iter().map(|&i| j.has_outcome[i]).collect();
        let mut t = NpsValueTally::new(Measures {
            revenue: true,
            ..Measures::default()
        })
        .unwrap();
        t.fold_batch(
            JoinedColumns {
                ids: Some(Ids::Int(&seg_ids)),
                answered: &vec![true; answered.len()],
                scores: &pick(&j.scores),
                has_outcome: &flags,
                churned: None,
                revenue: Some(&pick(&j.revenue)),
                value: None,
                durations: None,
            },
            None,
        )
        .unwrap();
        let got = t.promoter_value(0.9, Some(550)).unwrap();
        same(&got, &memory, 1e-12);
        assert!(t.promoter_value(0.9, Some(3)).is_err());
    }

    #[test]
    fn bad_rows_are_named_and_change_nothing() {
        let mut t = NpsValueTally::example();
        let before = t.clone();
        let cols =
            |ids: &'static [i64], scores: &'static [f64], churned: &'static [f64]| JoinedColumns {
                ids: Some(Ids::Int(ids)),
                answered: &[true, true, false],
                scores,
                has_outcome: &[true, false, true],
                churned: Some(Flags::Numbers(churned)),
                revenue: Some(&[1.0, f64::NAN, 2.0]),
                value: Some(&[1.0, f64::NAN, 2.0]),
                durations: Some(&[1.0, f64::NAN, 2.0]),
            };
        let e = t
            .fold_batch(
                cols(&[4, 9, 4], &[3.0, 1.0, f64::NAN], &[0.0, f64::NAN, 1.0]),
                None,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("customer 4 is in rows 0 and 2"), "{e}");
        let e = t
            .fold_batch(
                cols(&[1, 2, 3], &[3.5, 1.0, f64::NAN], &[0.0, f64::NAN, 1.0]),
                None,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("score") && e.contains("row 0: 3.5"), "{e}");
        let e = t
            .fold_batch(
                cols(&[1, 2, 3], &[3.0, 1.0, f64::NAN], &[0.0, f64::NAN, 2.0]),
                None,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("churned") && e.contains("row 2: 2"), "{e}");
        let mut c = cols(&[1, 2, 3], &[3.0, 1.0, f64::NAN], &[0.0, f64::NAN, 1.0]);
        c.durations = Some(&[1.0, f64::NAN, -2.0]);
        let e = t.fold_batch(c, None).unwrap_err().to_string();
        assert!(e.contains("duration") && e.contains("row 2: -2"), "{e}");
        c.revenue = None;
        let e = t.fold_batch(c, None).unwrap_err().to_string();
        assert!(e.contains("outcome columns"), "{e}");
        let c = cols(&[1, 2, 3], &[3.0, 1.0, f64::NAN], &[0.0, f64::NAN, 1.0]);
        assert!(t.fold_batch(c, Some(&[1.0, 1.0, 1.0])).is_err());
        let mut c = cols(&[1, 2, 3], &[3.0, 1.0, f64::NAN], &[0.0, f64::NAN, 1.0]);
        c.has_outcome = &[true, false, false];
        c.answered = &[true, true, false];
        let e = t.fold_batch(c, None).unwrap_err().to_string();
        assert!(e.contains("row 2 has neither"), "{e}");
        assert_eq!(t, before);
        // The valid batch folds.
        let c = cols(&[1, 2, 3], &[3.0, 1.0, f64::NAN], &[0.0, f64::NAN, 1.0]);
        t.fold_batch(c, None).unwrap();
        assert_eq!(t.n(), before.n() + 3);
        let other = NpsValueTally::new(Measures {
            churned: true,
            ..Measures::default()
        })
        .unwrap();
        assert!(matches!(t.merge(&other), Err(Error::Incompatible(_))));
        assert!(NpsValueTally::new(Measures::default()).is_err());
        assert!(NpsValueTally::new(Measures {
            duration: true,
            revenue: true,
            ..Measures::default()
        })
        .is_err());
    }

    #[test]
    fn hostile_states_are_refused() {
        let t = NpsValueTally::example();
        let bytes = t.to_bytes();
        assert_eq!(NpsValueTally::from_bytes(&bytes).unwrap(), t);
        for cut in 0..bytes.len() {
            assert!(
                NpsValueTally::from_bytes(&bytes[..cut]).is_err(),
                "cut {cut}"
            );
        }
        // Every count word of the payload flipped to another count: refused (typed) or, where
        // the counts still add up, a valid state that round-trips.
        let header = crate::state::HEADER_LEN;
        let first_cell = header + 1;
        for (at, v) in [
            (first_cell, 4u64),          // detractors: 4 customers but moments of 3
            (first_cell + 8, 9),         // churned above the customers
            (bytes.len() - 32, 0),       // missing scores below those with an outcome
            (bytes.len() - 8, u64::MAX), // the rows overflow
            (first_cell, u64::MAX),
        ] {
            let mut b = bytes.clone();
            b[at..at + 8].copy_from_slice(&v.to_le_bytes());
            let e = NpsValueTally::from_bytes(&b).unwrap_err();
            assert!(matches!(e, Error::InvalidState { .. }), "{e:?}");
        }
        let mut b = bytes.clone();
        b[header] = 0x1f;
        assert!(NpsValueTally::from_bytes(&b).is_err());
        b[header] = 0x09; // churned and duration, without the moments that follow: misread
        assert!(NpsValueTally::from_bytes(&b).is_err());
        let json = serde_json::to_value(&t).unwrap();
        for (path, v) in [
            ("/cells/0/churned", serde_json::json!(7)),
            ("/cells/1/n", serde_json::json!(2)),
            ("/n_missing_matched", serde_json::json!(5)),
            ("/measures/value", serde_json::json!(false)),
            ("/cells/2/retention/rows/0", serde_json::json!([1, 0, 0])),
            ("/cells/0/revenue/sum_w", serde_json::json!(2.5)),
        ] {
            let mut bad = json.clone();
            *bad.pointer_mut(path).unwrap() = v;
            assert!(
                serde_json::from_value::<NpsValueTally>(bad).is_err(),
                "{path}"
            );
        }
        // Merging counts that overflow is an error and changes nothing.
        let mut big = t.clone();
        big.n_outcomes_unmatched = u64::MAX - 1;
        let before = big.clone();
        assert!(matches!(big.merge(&t), Err(Error::Overflow { .. })));
        assert_eq!(big, before);
    }

    proptest::proptest! {
        /// Any split of the joined rows folded apart and merged, in either order, gives the
        /// result of one pass: counts and curves equal, every figure to 1e-12 relative.
        #[test]
        fn any_split_merged_in_any_order_equals_one_pass(
            rows in proptest::collection::vec(
                (proptest::option::of(proptest::option::of(0u8..=10)),
                 proptest::option::of((proptest::bool::ANY, 0u16..500, 1u8..30))),
                0..200),
            split in 0usize..200,
        ) {
            let rows: Vec<JoinedRow> = rows
                .into_iter()
                .map(|(a, o)| JoinedRow {
                    answer: a.map(|s| s.map_or(f64::NAN, f64::from)),
                    outcome: Some(o.map_or(
                        OutcomeRow { churned: true, revenue: 3.5, value: -1.0, duration: 2.0 },
                        |(c, r, d)| OutcomeRow {
                            churned: c,
                            revenue: f64::from(r) * 0.25,
                            value: f64::from(r) - 250.0,
                            duration: f64::from(d),
                        },
                    ))
                    .filter(|_| a.is_none() || o.is_some()),
                })
                .collect();
            let fold = |r: &[JoinedRow]| {
                let mut t = NpsValueTally::new(all()).unwrap();
                t.fold_rows(r.iter().copied().map(Ok)).unwrap();
                t
            };
            let cut = split.min(rows.len());
            let whole = fold(&rows);
            let (head, tail) = (fold(&rows[..cut]), fold(&rows[cut..]));
            let mut ab = head.clone();
            ab.merge(&tail).unwrap();
            let mut ba = tail;
            ba.merge(&head).unwrap();
            let want = whole.promoter_value(0.9, None).unwrap();
            for merged in [ab, ba] {
                proptest::prop_assert_eq!(merged.n(), rows.len() as u64);
                proptest::prop_assert_eq!(NpsValueTally::from_bytes(&merged.to_bytes()).unwrap(), merged.clone());
                same(&merged.promoter_value(0.9, None).unwrap(), &want, 1e-12);
            }
        }
    }
}
