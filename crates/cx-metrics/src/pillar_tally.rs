//! The mergeable state of pillar summaries: per measured pillar, the weighted moments of the scores,
//! the top-box weight and the respondents without a score.
//!
//! [`PillarTally`] folds pillar scores (one column per pillar, NaN where a respondent is unscored)
//! and finishes into the same [`PillarSummary`] figures that
//! [`PillarScores::summarize_groups`](crate::PillarScores::summarize_groups) reports: that function
//! folds each group into a `PillarTally` and finishes it, so the in-memory summaries and the
//! summaries of tallies folded apart and merged come from one code. Per pillar it keeps
//!
//! * the scores' [`Moments`] (rows of positive weight `n`, zero-weight rows, `Σw`, `Σw²`, the
//!   weighted mean and the sum of squared deviations, merged with Chan et al.'s pairwise formula),
//! * the weight of the scores in the top box (`Σw[top]`),
//! * the respondents without a score,
//!
//! and, for the whole state, the respondents folded. The per-respondent scores are not kept: a
//! tally gives summaries only.
//!
//! ```
//! use cx_metrics::pillar_tally::PillarTally;
//! use cx_metrics::{Accumulator, Direction, Merge, Pillar, Scale};
//! let scale = Scale::new(1, 5, Direction::HigherIsBetter)?;
//! let mut a = PillarTally::new(scale, &[Pillar::Empathy], 2)?;
//! a.fold_scores(&[(Pillar::Empathy, &[5.0, 4.0][..])], None)?;
//! let mut b = PillarTally::new(scale, &[Pillar::Empathy], 2)?;
//! b.fold_scores(&[(Pillar::Empathy, &[2.0, f64::NAN][..])], None)?;
//! a.merge(&PillarTally::from_bytes(&b.to_bytes())?)?;
//! let s = &a.summaries("all", 0.95)?[0];
//! assert_eq!((s.n, s.n_unscored), (3, 1));
//! assert!((s.mean.unwrap() - 11.0 / 3.0).abs() < 1e-15);
//! assert!((s.top_box_share.unwrap() - 2.0 / 3.0).abs() < 1e-15);
//! # Ok::<(), cx_metrics::Error>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::any_state::{Column, Columnar, Columns};
use crate::error::{Error, Result};
use crate::intervals::ProportionMethod;
use crate::moments::Moments;
use crate::pillars::{Pillar, PillarSummary};
use crate::scale::{Direction, Scale};
use crate::state::{add_count, Accumulator, Decoder, Encoder, Example, StateKind};
use crate::summary;
use crate::tally::Merge;
use crate::weights;

/// The top box: scores at or above `threshold` (at or below, when lower is better).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TopBox {
    pub(crate) threshold: f64,
    higher: bool,
}

impl TopBox {
    /// The `top_box` best points of `scale` (between 1 and the scale's points − 1).
    pub(crate) fn of(scale: Scale, top_box: u32) -> Result<Self> {
        let points = scale.points() as u32;
        if top_box == 0 || top_box >= points {
            return Err(Error::invalid(
                "top_box",
                format!(
                    "{top_box}; count between 1 and {} of the best points of {scale}",
                    points - 1
                ),
            ));
        }
        let span = f64::from(top_box - 1);
        Ok(match scale.direction() {
            Direction::HigherIsBetter => TopBox {
                threshold: f64::from(scale.max()) - span,
                higher: true,
            },
            Direction::LowerIsBetter => TopBox {
                threshold: f64::from(scale.min()) + span,
                higher: false,
            },
        })
    }

    fn contains(self, x: f64) -> bool {
        if self.higher {
            x >= self.threshold
        } else {
            x <= self.threshold
        }
    }
}

/// One pillar of a tally: the scores' moments, the top-box weight, the unscored respondents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PillarCell {
    /// Moments of the scores (one variable, `"score"`).
    pub moments: Moments,
    /// Σw of the scores in the top box.
    pub top: f64,
    /// Respondents without a score on this pillar (any weight).
    pub unscored: u64,
}

/// Pillar summaries' mergeable state (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPillarTally")]
pub struct PillarTally {
    scale: Scale,
    pillars: Vec<Pillar>,
    top_box: u32,
    respondents: u64,
    cells: Vec<PillarCell>,
}

#[derive(Deserialize)]
struct RawPillarTally {
    scale: Scale,
    pillars: Vec<Pillar>,
    top_box: u32,
    respondents: u64,
    cells: Vec<PillarCell>,
}

impl TryFrom<RawPillarTally> for PillarTally {
    type Error = Error;
    fn try_from(r: RawPillarTally) -> Result<Self> {
        let t = Self {
            scale: r.scale,
            pillars: r.pillars,
            top_box: r.top_box,
            respondents: r.respondents,
            cells: r.cells,
        };
        t.validate()?;
        Ok(t)
    }
}

fn empty_cell() -> Result<PillarCell> {
    Ok(PillarCell {
        moments: Moments::new(["score"])?,
        top: 0.0,
        unscored: 0,
    })
}

impl PillarTally {
    /// An empty tally of `pillars` (at least one, each once; kept in model order) scored on
    /// `scale`, with the `top_box` best points as the top box.
    pub fn new(scale: Scale, pillars: &[Pillar], top_box: u32) -> Result<Self> {
        TopBox::of(scale, top_box)?;
        if pillars.is_empty() {
            return Err(Error::invalid("pillars", "name at least one pillar"));
        }
        for (i, p) in pillars.iter().enumerate() {
            if pillars[..i].contains(p) {
                return Err(Error::invalid("pillars", format!("{p} is named twice")));
            }
        }
        let ordered: Vec<Pillar> = Pillar::ALL
            .into_iter()
            .filter(|p| pillars.contains(p))
            .collect();
        let cells = (0..ordered.len())
            .map(|_| empty_cell())
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            scale,
            pillars: ordered,
            top_box,
            respondents: 0,
            cells,
        })
    }

    /// The scores' scale.
    pub fn scale(&self) -> Scale {
        self.scale
    }
    /// The pillars, in model order.
    pub fn pillars(&self) -> &[Pillar] {
        &self.pillars
    }
    /// How many of the best points make the top box.
    pub fn top_box(&self) -> u32 {
        self.top_box
    }
    /// Respondents folded (scored or not, any weight).
    pub fn respondents(&self) -> u64 {
        self.respondents
    }
    /// The pillars' cells, in the order of [`PillarTally::pillars`].
    pub fn cells(&self) -> &[PillarCell] {
        &self.cells
    }
    /// Respondents without a score, per pillar.
    pub fn n_unscored(&self) -> Vec<u64> {
        self.cells.iter().map(|c| c.unscored).collect()
    }

    fn top(&self) -> TopBox {
        TopBox::of(self.scale, self.top_box).expect("checked when made")
    }

    /// Fold one respondent: its score on each pillar (`score(k)` for the k-th pillar, `None` when
    /// unscored) with weight `w` (already checked: finite, ≥ 0). The one row update of every path.
    pub(crate) fn add_respondent(
        &mut self,
        score: impl Fn(usize) -> Option<f64>,
        w: f64,
    ) -> Result<()> {
        let top = self.top();
        for (k, cell) in self.cells.iter_mut().enumerate() {
            match score(k) {
                Some(x) => {
                    cell.moments.add_row(&[x], w)?;
                    if top.contains(x) {
                        cell.top += w;
                    }
                }
                None => {
                    cell.unscored = add_count(cell.unscored, 1, || "unscored respondents".into())?
                }
            }
        }
        self.respondents = add_count(self.respondents, 1, || "the respondent count".into())?;
        Ok(())
    }

    /// Fold score columns, one per pillar of the tally (any order; NaN where the respondent is
    /// unscored), optionally weighted. A score is a mean of answers, so it must lie within the
    /// scale; a score off it, a missing or foreign pillar, columns of different lengths and bad
    /// weights are errors naming the column (or weight) and the row. Weights are used as given:
    /// the largest positive one must lie within `2^±256` (divide every weight by the same constant
    /// otherwise; the in-memory summaries rescale them). On error nothing changes.
    pub fn fold_scores(
        &mut self,
        columns: &[(Pillar, &[f64])],
        weights: Option<&[f64]>,
    ) -> Result<()> {
        for (i, (p, _)) in columns.iter().enumerate() {
            if !self.pillars.contains(p) {
                return Err(Error::BadColumn {
                    column: p.id().to_string(),
                    message: format!(
                        "is not a pillar of this tally ({}); fold the scores of its pillars only",
                        self.pillar_list()
                    ),
                });
            }
            if columns[..i].iter().any(|(q, _)| q == p) {
                return Err(Error::invalid("columns", format!("{p} is given twice")));
            }
        }
        let mut ordered = Vec::with_capacity(self.pillars.len());
        for p in &self.pillars {
            match columns.iter().find(|(q, _)| q == p) {
                Some((_, c)) => ordered.push(*c),
                None => {
                    return Err(Error::BadColumn {
                        column: p.id().to_string(),
                        message: format!(
                            "is missing; give one score column per pillar ({})",
                            self.pillar_list()
                        ),
                    })
                }
            }
        }
        let n = ordered[0].len();
        for (p, c) in self.pillars.iter().zip(&ordered) {
            if c.len() != n {
                return Err(Error::BadColumn {
                    column: p.id().to_string(),
                    message: format!(
                        "has {} scores but {} has {n}; score columns must have the same length",
                        c.len(),
                        self.pillars[0]
                    ),
                });
            }
            let (lo, hi) = (f64::from(self.scale.min()), f64::from(self.scale.max()));
            if let Some(i) = c.iter().position(|x| !x.is_nan() && !(lo..=hi).contains(x)) {
                return Err(Error::BadColumn {
                    column: p.id().to_string(),
                    message: format!(
                        "row {i}: score {} is off the scale {}; a pillar score is a mean of \
                         answers on the scale (NaN: unscored)",
                        c[i], self.scale
                    ),
                });
            }
        }
        if let Some(w) = weights {
            if w.len() != n {
                return Err(Error::LengthMismatch {
                    what: "scores and weights",
                    left: n,
                    right: w.len(),
                });
            }
            weights::check(w)?;
            if weights::tally_exponent(weights::max_of(w)) != 0 {
                return Err(Error::invalid(
                    "weights",
                    "the largest weight is beyond 2^±256, where sums of squares lose precision; \
                     divide every weight by the same constant (estimates do not change)",
                ));
            }
        }
        let mut part = self.empty_like();
        for i in 0..n {
            let x = |k: usize| {
                let v: f64 = ordered[k][i];
                (!v.is_nan()).then_some(v)
            };
            part.add_respondent(x, weights.map_or(1.0, |w| w[i]))?;
        }
        self.merge(&part)
    }

    fn pillar_list(&self) -> String {
        self.pillars
            .iter()
            .map(|p| p.id())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The empty tally of the same scale, pillars and top box.
    pub fn empty_like(&self) -> Self {
        Self {
            scale: self.scale,
            pillars: self.pillars.clone(),
            top_box: self.top_box,
            respondents: 0,
            cells: self
                .cells
                .iter()
                .map(|c| PillarCell {
                    moments: c.moments.empty_like(),
                    top: 0.0,
                    unscored: 0,
                })
                .collect(),
        }
    }

    /// The summary of every pillar (in model order), labelled `group`: the figures of
    /// [`PillarSummary`] at `confidence_level`.
    pub fn summaries(&self, group: &str, confidence_level: f64) -> Result<Vec<PillarSummary>> {
        crate::intervals::check_level(confidence_level)?;
        let threshold = self.top().threshold;
        self.pillars
            .iter()
            .zip(&self.cells)
            .map(|(&p, c)| summary_of(group, p, self.scale, c, threshold, confidence_level))
            .collect()
    }
}

fn summary_of(
    label: &str,
    pillar: Pillar,
    scale: Scale,
    cell: &PillarCell,
    top_box_threshold: f64,
    level: f64,
) -> Result<PillarSummary> {
    let m = &cell.moments;
    let n_eff = m.effective_n();
    let scored = m.n() > 0;
    let mean = scored.then(|| m.means()[0]);
    let sd = if n_eff > 1.0 {
        Some(m.covariance()?.get(0, 0).max(0.0).sqrt())
    } else {
        None
    };
    let mean_ci = match (mean, sd) {
        (Some(x), Some(s)) => Some(summary::mean_ci(
            None,
            x,
            s,
            n_eff,
            level,
            (scale.min(), scale.max()),
        )?),
        _ => None,
    };
    let share = scored.then(|| cell.top / m.sum_weights());
    let top_box_ci = match share {
        Some(p) => Some(summary::share_ci(
            None,
            p,
            n_eff,
            level,
            ProportionMethod::Wilson,
        )?),
        None => None,
    };
    Ok(PillarSummary {
        group: label.to_string(),
        pillar,
        n: m.n(),
        n_unscored: cell.unscored,
        n_zero_weight: m.n_zero_weight(),
        effective_n: n_eff,
        mean,
        sd,
        mean_ci,
        top_box_threshold,
        top_box_share: share,
        top_box_ci,
    })
}

impl Merge for PillarTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        if (self.scale, &self.pillars, self.top_box) != (other.scale, &other.pillars, other.top_box)
        {
            return Err(Error::Incompatible(format!(
                "pillar tallies of different designs ({} on {}, top {} box; {} on {}, top {} \
                 box); fold every part with the same pillars, scale and top box",
                self.pillar_list(),
                self.scale,
                self.top_box,
                other.pillar_list(),
                other.scale,
                other.top_box
            )));
        }
        let mut sum = self.clone();
        sum.respondents = add_count(self.respondents, other.respondents, || {
            "the respondent count".into()
        })?;
        for (a, b) in sum.cells.iter_mut().zip(&other.cells) {
            a.moments.merge(&b.moments)?;
            a.unscored = add_count(a.unscored, b.unscored, || "unscored respondents".into())?;
            a.top += b.top;
            if !a.top.is_finite() {
                return Err(Error::Overflow {
                    what: "the top-box weight".into(),
                });
            }
        }
        *self = sum;
        Ok(())
    }
}

/// Options of [`PillarTally`]'s `finish`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PillarTallyOptions {
    /// The confidence level of the intervals.
    pub confidence_level: f64,
}

/// The summaries of a [`PillarTally`]: plain data.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PillarTallyResult {
    /// Respondents folded (scored or not, any weight).
    pub n_respondents: u64,
    /// One summary per pillar, in model order (group `"all"`).
    pub summaries: Vec<PillarSummary>,
    /// The confidence level of the intervals.
    pub confidence_level: f64,
}

impl fmt::Display for PillarTallyResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Pillar summaries of {} respondents ({:.0}% intervals)",
            self.n_respondents,
            self.confidence_level * 100.0
        )?;
        for s in &self.summaries {
            write!(
                f,
                "\n{}: n = {}, unscored {}",
                s.pillar.name(),
                s.n,
                s.n_unscored
            )?;
            if let Some(m) = s.mean {
                write!(f, ", mean {m:.3}")?;
            }
            if let Some(ci) = s.mean_ci {
                write!(f, " ({:.3} to {:.3})", ci.low, ci.high)?;
            }
            if let Some(p) = s.top_box_share {
                write!(f, ", top box {:.1}%", p * 100.0)?;
            }
        }
        Ok(())
    }
}

/// Tolerance of the check that the top-box weight does not exceed Σw (both are sums of the same
/// weights in different orders).
const TOP_RTOL: f64 = 1e-9;

impl Accumulator for PillarTally {
    const KIND: StateKind = StateKind::PillarTally;
    type Batch<'a> = PillarColumns<'a>;
    type Options = PillarTallyOptions;
    type Output = PillarTallyResult;

    fn fold_batch(&mut self, batch: PillarColumns<'_>, weights: Option<&[f64]>) -> Result<()> {
        self.fold_scores(&batch.columns, weights)
    }

    fn n(&self) -> u64 {
        self.respondents
    }

    fn finish(&self, options: &PillarTallyOptions) -> Result<PillarTallyResult> {
        Ok(PillarTallyResult {
            n_respondents: self.respondents,
            summaries: self.summaries("all", options.confidence_level)?,
            confidence_level: options.confidence_level,
        })
    }

    /// The scale valid and the top box within it; pillars distinct, in model order, one cell each;
    /// every cell's moments valid, of the one variable `"score"`, their mean within the scale; the
    /// top-box weight finite, ≥ 0 and at most Σw; scored, zero-weight and unscored respondents
    /// adding up to the respondents in every cell.
    fn validate(&self) -> Result<()> {
        let kind = Self::KIND;
        let scale = Scale::new(self.scale.min(), self.scale.max(), self.scale.direction())
            .map_err(|e| kind.invalid(format!("scale: {e}")))?;
        TopBox::of(scale, self.top_box).map_err(|e| kind.invalid(e.to_string()))?;
        if self.pillars.is_empty() {
            return Err(kind.invalid("no pillar"));
        }
        let ordered: Vec<Pillar> = Pillar::ALL
            .into_iter()
            .filter(|p| self.pillars.contains(p))
            .collect();
        if ordered != self.pillars {
            return Err(kind.invalid("pillars repeated or not in model order"));
        }
        if self.cells.len() != self.pillars.len() {
            return Err(kind.invalid(format!(
                "{} pillars but {} cells",
                self.pillars.len(),
                self.cells.len()
            )));
        }
        let (lo, hi) = (f64::from(scale.min()), f64::from(scale.max()));
        for (p, c) in self.pillars.iter().zip(&self.cells) {
            let m = &c.moments;
            m.validate()
                .map_err(|e| kind.invalid(format!("{p}: {e}")))?;
            if m.names() != ["score"] {
                return Err(
                    kind.invalid(format!("{p}: moments of {:?}, not of the score", m.names()))
                );
            }
            if m.n() > 0 && !(lo..=hi).contains(&m.means()[0]) {
                return Err(kind.invalid(format!(
                    "{p}: mean score {} off the scale {scale}",
                    m.means()[0]
                )));
            }
            if !(c.top.is_finite() && c.top >= 0.0 && c.top <= m.sum_weights() * (1.0 + TOP_RTOL)) {
                return Err(kind.invalid(format!(
                    "{p}: top-box weight {} is not within 0 and Σw = {}",
                    c.top,
                    m.sum_weights()
                )));
            }
            let counted = m
                .n()
                .checked_add(m.n_zero_weight())
                .and_then(|s| s.checked_add(c.unscored));
            if counted != Some(self.respondents) {
                return Err(kind.invalid(format!(
                    "{p}: {} scored, {} zero-weight and {} unscored respondents do not add up to \
                     the {} respondents",
                    m.n(),
                    m.n_zero_weight(),
                    c.unscored,
                    self.respondents
                )));
            }
        }
        Ok(())
    }

    /// The scale (min, max, direction), the top box, the pillars (count, then one code each in
    /// model order), the respondents, then per pillar its moments' payload, the top-box weight and
    /// the unscored respondents.
    fn encode_payload(&self, out: &mut Encoder) {
        out.i32(self.scale.min());
        out.i32(self.scale.max());
        out.u8(match self.scale.direction() {
            Direction::HigherIsBetter => 0,
            Direction::LowerIsBetter => 1,
        });
        out.u32(self.top_box);
        out.u32(self.pillars.len() as u32);
        for p in &self.pillars {
            out.u8(pillar_code(*p));
        }
        out.u64(self.respondents);
        for c in &self.cells {
            c.moments.encode_payload(out);
            out.f64(c.top);
            out.u64(c.unscored);
        }
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let (min, max) = (
            input.i32("the scale's minimum")?,
            input.i32("the scale's maximum")?,
        );
        let direction = match input.u8("the scale's direction")? {
            0 => Direction::HigherIsBetter,
            1 => Direction::LowerIsBetter,
            d => return Err(input.invalid(format!("direction code {d} (0 or 1)"))),
        };
        let scale =
            Scale::new(min, max, direction).map_err(|e| input.invalid(format!("scale: {e}")))?;
        let top_box = input.u32("the top box")?;
        let k = input.u32("the number of pillars")? as usize;
        if k > Pillar::ALL.len() {
            return Err(input.invalid(format!("{k} pillars (at most {})", Pillar::ALL.len())));
        }
        let pillars = (0..k)
            .map(|_| {
                let code = input.u8("a pillar")?;
                Pillar::ALL
                    .get(code as usize)
                    .copied()
                    .ok_or_else(|| input.invalid(format!("pillar code {code} (0 to 5)")))
            })
            .collect::<Result<Vec<_>>>()?;
        let respondents = input.u64("the respondents")?;
        let mut cells = Vec::with_capacity(k);
        for _ in 0..k {
            let moments = Moments::decode_payload(input)?;
            cells.push(PillarCell {
                moments,
                top: input.f64("the top-box weight")?,
                unscored: input.u64("the unscored respondents")?,
            });
        }
        Ok(Self {
            scale,
            pillars,
            top_box,
            respondents,
            cells,
        })
    }
}

fn pillar_code(p: Pillar) -> u8 {
    Pillar::ALL.iter().position(|q| *q == p).expect("a pillar") as u8
}

/// Score columns by pillar: the batch of a [`PillarTally`].
#[derive(Debug, Clone, Default)]
pub struct PillarColumns<'a> {
    /// Each pillar's scores (NaN: unscored).
    pub columns: Vec<(Pillar, &'a [f64])>,
}

/// The configuration of a [`PillarTally`] made by kind ([`crate::any_state::AnyState`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PillarTallyConfig {
    /// The scale's lowest point.
    pub min: i32,
    /// The scale's highest point.
    pub max: i32,
    /// Which end of the scale is best.
    pub direction: Direction,
    /// The measured pillars (ids).
    pub pillars: Vec<Pillar>,
    /// How many of the best points make the top box.
    pub top_box: u32,
}

impl Columnar for PillarTally {
    type Config = PillarTallyConfig;

    fn from_config(config: PillarTallyConfig) -> Result<Self> {
        let scale = Scale::new(config.min, config.max, config.direction)?;
        Self::new(scale, &config.pillars, config.top_box)
    }

    /// One float64 column per pillar, named by the pillar's id (NaN: unscored).
    fn batch<'a>(columns: &Columns<'a>) -> Result<PillarColumns<'a>> {
        let ids: Vec<&str> = Pillar::ALL.iter().map(|p| p.id()).collect();
        columns.only(&ids)?;
        let mut out = Vec::new();
        for p in Pillar::ALL {
            if let Some(c) = columns.get(p.id()) {
                match c {
                    Column::F64(v) => out.push((p, v)),
                    _ => {
                        return Err(Error::invalid(
                            "columns",
                            format!("column {:?} must hold float64 scores", p.id()),
                        ))
                    }
                }
            }
        }
        Ok(PillarColumns { columns: out })
    }
}

impl Example for PillarTally {
    fn example() -> Self {
        let scale = Scale::new(1, 5, Direction::HigherIsBetter).expect("valid");
        let mut t =
            Self::new(scale, &[Pillar::Integrity, Pillar::Empathy], 2).expect("valid design");
        let nan = f64::NAN;
        t.fold_scores(
            &[
                (Pillar::Integrity, &[5.0, 4.5, 2.0, nan, 3.0][..]),
                (Pillar::Empathy, &[4.0, nan, 1.5, 5.0, 3.5][..]),
            ],
            Some(&[1.0, 2.0, 0.5, 1.5, 0.0]),
        )
        .expect("valid scores");
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::{Grouping, KeyColumn};
    use crate::PillarItems;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300) || a == b
    }

    fn same(a: &PillarSummary, b: &PillarSummary) {
        assert_eq!(
            (a.pillar, a.n, a.n_unscored, a.n_zero_weight),
            (b.pillar, b.n, b.n_unscored, b.n_zero_weight)
        );
        assert!(close(a.effective_n, b.effective_n));
        let opt = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => assert!(close(x, y), "{x} vs {y}"),
            (x, y) => assert_eq!(x, y),
        };
        opt(a.mean, b.mean);
        opt(a.sd, b.sd);
        opt(a.top_box_share, b.top_box_share);
        opt(a.mean_ci.map(|c| c.low), b.mean_ci.map(|c| c.low));
        opt(a.mean_ci.map(|c| c.high), b.mean_ci.map(|c| c.high));
        opt(a.top_box_ci.map(|c| c.low), b.top_box_ci.map(|c| c.low));
        opt(a.top_box_ci.map(|c| c.high), b.top_box_ci.map(|c| c.high));
    }

    /// Scores of 400 respondents on three pillars of a 1–7 scale (some unscored), weights with
    /// zeros, and a group label of three levels.
    fn data() -> (PillarItems, Vec<Vec<f64>>, Vec<f64>, Vec<i64>) {
        let scale = Scale::new(1, 7, Direction::HigherIsBetter).unwrap();
        let items = PillarItems::new(
            scale,
            vec![
                ("t1".into(), Pillar::Integrity),
                ("t2".into(), Pillar::Integrity),
                ("e1".into(), Pillar::TimeAndEffort),
                ("p1".into(), Pillar::Empathy),
            ],
            1,
        )
        .unwrap();
        let n = 400;
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let mut cols: Vec<Vec<f64>> = (0..4).map(|_| Vec::with_capacity(n)).collect();
        for _ in 0..n {
            for c in cols.iter_mut() {
                let r = next();
                c.push(if r % 9 == 0 {
                    f64::NAN
                } else {
                    f64::from(1 + r % 7)
                });
            }
        }
        let w = (0..n)
            .map(|_| f64::from(next() % 5) * 0.75)
            .collect::<Vec<_>>();
        let g = (0..n).map(|_| i64::from(next() % 3)).collect();
        (items, cols, w, g)
    }

    #[test]
    fn merged_parts_equal_the_in_memory_summaries() {
        let (items, cols, w, g) = data();
        let slices: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let scores = items.score(&slices).unwrap();
        let grouping = Grouping::new(vec![KeyColumn::from(&g[..])], g.len()).unwrap();
        let options = crate::SummaryOptions::default();
        for weights in [None, Some(&w[..])] {
            let memory = scores
                .summarize_groups(&grouping, weights, options)
                .unwrap();
            // Each group folded in three uneven parts through the columns, merged out of order.
            for (gi, label) in [0_i64, 1, 2].iter().enumerate() {
                let rows: Vec<usize> = (0..g.len()).filter(|i| g[*i] == *label).collect();
                let mut parts = Vec::new();
                for chunk in [&rows[..7], &rows[7..60], &rows[60..]] {
                    let mut t = PillarTally::new(items.scale(), &items.pillars(), 2).unwrap();
                    let cols: Vec<Vec<f64>> = (0..scores.pillars.len())
                        .map(|k| {
                            chunk
                                .iter()
                                .map(|i| scores.column(scores.pillars[k]).unwrap()[*i])
                                .collect()
                        })
                        .collect();
                    let named: Vec<(Pillar, &[f64])> = scores
                        .pillars
                        .iter()
                        .copied()
                        .zip(cols.iter().map(Vec::as_slice))
                        .collect();
                    let ws: Option<Vec<f64>> =
                        weights.map(|w| chunk.iter().map(|i| w[*i]).collect());
                    t.fold_scores(&named, ws.as_deref()).unwrap();
                    parts.push(PillarTally::from_bytes(&t.to_bytes()).unwrap());
                }
                let mut merged = parts[2].clone();
                merged.merge(&parts[0]).unwrap();
                merged.merge(&parts[1]).unwrap();
                assert_eq!(merged.respondents(), rows.len() as u64);
                let got = merged.summaries(&label.to_string(), 0.95).unwrap();
                for (k, s) in got.iter().enumerate() {
                    let m = &memory[gi * 3 + k];
                    assert_eq!(s.group, m.group);
                    same(s, m);
                }
            }
        }
    }

    #[test]
    fn summaries_match_a_direct_computation() {
        // Reference: the weighted mean, sd with denominator W − Σw²/W, n_eff = W²/Σw² and the
        // top-2-box share computed directly from the rows (no moments, no merges).
        let (items, cols, w, _) = data();
        let slices: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let scores = items.score(&slices).unwrap();
        let mut t = PillarTally::new(items.scale(), &items.pillars(), 2).unwrap();
        let named: Vec<(Pillar, Vec<f64>)> = scores
            .pillars
            .iter()
            .map(|p| (*p, scores.column(*p).unwrap()))
            .collect();
        let view: Vec<(Pillar, &[f64])> = named.iter().map(|(p, c)| (*p, c.as_slice())).collect();
        t.fold_scores(&view, Some(&w)).unwrap();
        for ((_, col), s) in named.iter().zip(
            t.finish(&PillarTallyOptions {
                confidence_level: 0.95,
            })
            .unwrap()
            .summaries,
        ) {
            let rows: Vec<(f64, f64)> = col
                .iter()
                .zip(&w)
                .filter(|(x, _)| !x.is_nan())
                .map(|(x, w)| (*x, *w))
                .collect();
            let sw: f64 = rows.iter().map(|r| r.1).sum();
            let sw2: f64 = rows.iter().map(|r| r.1 * r.1).sum();
            let mean = rows.iter().map(|r| r.0 * r.1).sum::<f64>() / sw;
            let ss: f64 = rows.iter().map(|r| r.1 * (r.0 - mean).powi(2)).sum();
            let sd = (ss / (sw - sw2 / sw)).sqrt();
            let top = rows.iter().filter(|r| r.0 >= 6.0).map(|r| r.1).sum::<f64>() / sw;
            assert!((s.mean.unwrap() - mean).abs() <= 1e-13 * mean);
            assert!((s.sd.unwrap() - sd).abs() <= 1e-12 * sd);
            assert!((s.effective_n - sw * sw / sw2).abs() <= 1e-12 * s.effective_n);
            assert!((s.top_box_share.unwrap() - top).abs() <= 1e-13);
            assert_eq!(s.n, rows.iter().filter(|r| r.1 > 0.0).count() as u64);
            assert_eq!(
                s.n_zero_weight,
                rows.iter().filter(|r| r.1 == 0.0).count() as u64
            );
            assert_eq!(
                s.n_unscored,
                col.iter().filter(|x| x.is_nan()).count() as u64
            );
        }
    }

    #[test]
    fn bad_input_is_named_and_changes_nothing() {
        let scale = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
        let mut t = PillarTally::example();
        let before = t.clone();
        let e = t
            .fold_scores(
                &[
                    (Pillar::Integrity, &[3.0, 6.0][..]),
                    (Pillar::Empathy, &[1.0, 2.0][..]),
                ],
                None,
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("integrity") && e.contains("row 1") && e.contains("off the scale"),
            "{e}"
        );
        let e = t
            .fold_scores(&[(Pillar::Integrity, &[3.0][..])], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("empathy") && e.contains("missing"), "{e}");
        let e = t
            .fold_scores(
                &[
                    (Pillar::Integrity, &[3.0][..]),
                    (Pillar::Empathy, &[1.0][..]),
                    (Pillar::Resolution, &[1.0][..]),
                ],
                None,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("resolution"), "{e}");
        let e = t
            .fold_scores(
                &[
                    (Pillar::Integrity, &[3.0, 2.0][..]),
                    (Pillar::Empathy, &[1.0, 2.0][..]),
                ],
                Some(&[1.0, -1.0]),
            )
            .unwrap_err();
        assert!(matches!(e, Error::InvalidWeight { index: 1, .. }), "{e}");
        let e = t
            .fold_scores(
                &[
                    (Pillar::Integrity, &[3.0][..]),
                    (Pillar::Empathy, &[1.0][..]),
                ],
                Some(&[1e300]),
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("divide every weight"), "{e}");
        assert_eq!(t, before);
        let other = PillarTally::new(scale, &[Pillar::Integrity, Pillar::Empathy], 1).unwrap();
        assert!(matches!(t.merge(&other), Err(Error::Incompatible(_))));
        assert!(PillarTally::new(scale, &[Pillar::Empathy], 5).is_err());
        assert!(PillarTally::new(scale, &[Pillar::Empathy, Pillar::Empathy], 2).is_err());
        assert!(PillarTally::new(scale, &[], 2).is_err());
    }

    proptest::proptest! {
        /// Any split of the respondents folded apart and merged, in either order, gives the
        /// summaries of one pass: counts equal, every figure to 1e-12 relative.
        #[test]
        fn any_split_merged_in_any_order_equals_one_pass(
            rows in proptest::collection::vec(
                (proptest::option::of(1u8..=7), proptest::option::of(1u8..=7), 0u8..6), 0..300),
            split in 0usize..300,
        ) {
            let scale = Scale::new(1, 7, Direction::HigherIsBetter).unwrap();
            let pillars = [Pillar::Integrity, Pillar::Empathy];
            let col = |k: usize, r: &[(Option<u8>, Option<u8>, u8)]| -> Vec<f64> {
                r.iter()
                    .map(|x| [x.0, x.1][k].map_or(f64::NAN, f64::from))
                    .collect()
            };
            let fold = |r: &[(Option<u8>, Option<u8>, u8)]| {
                let mut t = PillarTally::new(scale, &pillars, 2).unwrap();
                let (a, b) = (col(0, r), col(1, r));
                let w: Vec<f64> = r.iter().map(|x| f64::from(x.2) * 0.7).collect();
                t.fold_scores(&[(pillars[0], &a[..]), (pillars[1], &b[..])], Some(&w)).unwrap();
                t
            };
            let cut = split.min(rows.len());
            let whole = fold(&rows);
            let (head, tail) = (fold(&rows[..cut]), fold(&rows[cut..]));
            let mut ab = head.clone();
            ab.merge(&tail).unwrap();
            let mut ba = tail;
            ba.merge(&head).unwrap();
            let want = whole.summaries("g", 0.9).unwrap();
            for merged in [ab, ba] {
                proptest::prop_assert_eq!(merged.respondents(), rows.len() as u64);
                for (s, w) in merged.summaries("g", 0.9).unwrap().iter().zip(&want) {
                    same(s, w);
                }
            }
        }
    }

    #[test]
    fn hostile_states_are_refused() {
        let t = PillarTally::example();
        let json = serde_json::to_value(&t).unwrap();
        let mut bad = json.clone();
        bad["respondents"] = serde_json::json!(6);
        assert!(serde_json::from_value::<PillarTally>(bad).is_err());
        let mut bad = json.clone();
        bad["cells"][0]["top"] = serde_json::json!(1e9);
        assert!(serde_json::from_value::<PillarTally>(bad).is_err());
        let mut bad = json.clone();
        bad["cells"][1]["unscored"] = serde_json::json!(0);
        assert!(serde_json::from_value::<PillarTally>(bad).is_err());
        let mut bad = json.clone();
        bad["pillars"] = serde_json::json!(["empathy", "integrity"]);
        assert!(serde_json::from_value::<PillarTally>(bad).is_err());
        let mut bad = json;
        bad["cells"][0]["moments"]["mean"] = serde_json::json!([9.0]);
        assert!(serde_json::from_value::<PillarTally>(bad).is_err());
        let bytes = t.to_bytes();
        assert_eq!(PillarTally::from_bytes(&bytes).unwrap(), t);
        for cut in 0..bytes.len() {
            assert!(PillarTally::from_bytes(&bytes[..cut]).is_err());
        }
    }
}
