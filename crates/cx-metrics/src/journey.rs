//! Customer journey maps: stages and touchpoints, scores per touchpoint and stage, pain points, gaps
//! to targets and comparisons between brands.
//!
//! A [`Journey`] is an ordered list of stages, each with its touchpoints (a channel, and whether the
//! company owns it or a third party does). It is validated when built: a stage or touchpoint named
//! twice, a touchpoint in two stages and a stage without touchpoints are [`Error::Journey`] errors.
//!
//! Survey rows ([`SurveyRows`]) name a touchpoint and a customer and carry ratings (likelihood to
//! recommend 0–10, CSAT on its scale, CES 2.0 on 1–7). [`touchpoint_scores`] folds them per
//! touchpoint and per stage with the grouping engine ([`crate::groups::Grouping::fold_scale`]) into
//! the crate's NPS, CSAT and CES tallies, and reports their estimates with intervals, the volumes and
//! the share of customers who used each touchpoint (customers are the unit: a customer with three
//! rows at a touchpoint counts once in the share, three times in the ratings).
//!
//! [`pain_points`] ranks touchpoints by a weighted sum of effort, dissatisfaction, volume and the
//! drop-off after them, with the probability that each is among the worst few by a seeded bootstrap
//! over customers. [`journey_gaps`] compares scores with targets; [`compare_brands`] compares brands
//! with a reference brand, touchpoint by touchpoint, with multiplicity-adjusted p-values.
//!
//! ```
//! use cx_metrics::journey::{Journey, Ownership, ScoreOptions, Stage, SurveyRows, Touchpoint};
//! let tp = |n: &str, c: &str| Touchpoint::new(n, c, Ownership::Own);
//! let journey = Journey::new(
//!     "retail",
//!     None,
//!     vec![
//!         Stage::new("buy", vec![tp("web", "website"), tp("shop", "store")]),
//!         Stage::new("support", vec![tp("call", "call centre")]),
//!     ],
//! )
//! .unwrap();
//! let touchpoint = ["web", "shop", "call", "web"];
//! let customer = [1, 2, 1, 3];
//! let ltr = [10.0, 6.0, 3.0, 9.0];
//! let rows = SurveyRows { touchpoint: &touchpoint, customer: &customer, ltr: Some(&ltr), csat: None, ces: None };
//! let s = cx_metrics::journey::touchpoint_scores(&journey, &rows, &ScoreOptions::default()).unwrap();
//! let web = &s.touchpoints[0];
//! assert_eq!((web.n_rows, web.n_customers), (2, 2));
//! assert!((web.customer_share - 2.0 / 3.0).abs() < 1e-15);
//! assert_eq!(web.nps.as_ref().unwrap().score, 1.0);
//! ```

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::ces::{compare_ces, Ces2, CesResult, CesTally};
use crate::csat::{compare_csat, CsatResult, CsatScale, CsatTally, Satisfied};
use crate::error::{Error, Result};
use crate::groups::{CodeSlice, Grouping, KeyColumn, Label};
use crate::intervals::{check_level, proportion_ci, Interval, ProportionMethod};
use crate::multiple::PValueAdjustment;
use crate::nps::{compare as compare_nps, NpsMethod, NpsResult, NpsTally};
use crate::resample::{check_resamples, quantile_sorted, stream, Family};
use crate::scale::{NanPolicy, Scale};
use crate::tally::ScaleTally;

/// The random-stream tag of the pain-point bootstrap (see `resample`).
const PAIN_POINT_BOOTSTRAP: u64 = 16;

fn journey_error(problem: &'static str, message: impl Into<String>) -> Error {
    Error::Journey {
        problem,
        message: message.into(),
    }
}

/// Who runs a touchpoint.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    /// The company's own channel (website, app, shop, call centre).
    Own,
    /// A third party's (marketplace, carrier, social media, review site).
    ThirdParty,
}

impl Ownership {
    /// The snake_case name, as parsed by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Own => "own",
            Self::ThirdParty => "third_party",
        }
    }
}

impl fmt::Display for Ownership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ownership {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "own" => Ok(Self::Own),
            "third_party" => Ok(Self::ThirdParty),
            _ => Err(Error::invalid(
                "ownership",
                format!("{s:?}; use \"own\" or \"third_party\""),
            )),
        }
    }
}

/// A touchpoint: where the customer meets the brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touchpoint {
    /// Its name, unique in the journey.
    pub name: String,
    /// The channel (website, app, call centre, shop, marketplace, social media...).
    pub channel: String,
    /// Own or third-party.
    pub ownership: Ownership,
}

impl Touchpoint {
    /// A touchpoint.
    pub fn new(name: impl Into<String>, channel: impl Into<String>, ownership: Ownership) -> Self {
        Self {
            name: name.into(),
            channel: channel.into(),
            ownership,
        }
    }
}

/// A stage of the journey and its touchpoints, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// Its name, unique in the journey.
    pub name: String,
    /// Its touchpoints (at least one).
    pub touchpoints: Vec<Touchpoint>,
}

impl Stage {
    /// A stage.
    pub fn new(name: impl Into<String>, touchpoints: Vec<Touchpoint>) -> Self {
        Self {
            name: name.into(),
            touchpoints,
        }
    }
}

#[derive(Deserialize)]
struct RawJourney {
    name: String,
    segment: Option<String>,
    stages: Vec<Stage>,
}

impl TryFrom<RawJourney> for Journey {
    type Error = Error;
    fn try_from(r: RawJourney) -> Result<Self> {
        Journey::new(r.name, r.segment, r.stages)
    }
}

/// A journey map: ordered stages with their touchpoints, optionally for one customer segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawJourney")]
pub struct Journey {
    name: String,
    segment: Option<String>,
    stages: Vec<Stage>,
}

impl Journey {
    /// A journey from its stages, in order.
    ///
    /// # Errors
    /// [`Error::Journey`]: no stage (`no_stages`), a blank name (`blank_name`), a stage named twice
    /// (`duplicate_stage`), a stage without touchpoints (`empty_stage`), a touchpoint named twice in
    /// a stage (`duplicate_touchpoint`) or in two stages (`touchpoint_in_two_stages`).
    pub fn new(
        name: impl Into<String>,
        segment: Option<String>,
        stages: Vec<Stage>,
    ) -> Result<Self> {
        if stages.is_empty() {
            return Err(journey_error(
                "no_stages",
                "a journey needs at least one stage; add the stages in the order customers go through them",
            ));
        }
        for (i, s) in stages.iter().enumerate() {
            if s.name.trim().is_empty() {
                return Err(journey_error(
                    "blank_name",
                    format!("stage {i} has a blank name; name every stage"),
                ));
            }
            if let Some(j) = stages[..i].iter().position(|t| t.name == s.name) {
                return Err(journey_error(
                    "duplicate_stage",
                    format!(
                        "stage {:?} is named twice (stages {j} and {i}); give each stage one entry \
                         and list all its touchpoints there",
                        s.name
                    ),
                ));
            }
            if s.touchpoints.is_empty() {
                return Err(journey_error(
                    "empty_stage",
                    format!(
                        "stage {:?} has no touchpoint; add its touchpoints or remove the stage",
                        s.name
                    ),
                ));
            }
            for (k, t) in s.touchpoints.iter().enumerate() {
                if t.name.trim().is_empty() {
                    return Err(journey_error(
                        "blank_name",
                        format!(
                            "touchpoint {k} of stage {:?} has a blank name; name every touchpoint",
                            s.name
                        ),
                    ));
                }
                if s.touchpoints[..k].iter().any(|u| u.name == t.name) {
                    return Err(journey_error(
                        "duplicate_touchpoint",
                        format!(
                            "touchpoint {:?} is listed twice in stage {:?}; list it once",
                            t.name, s.name
                        ),
                    ));
                }
                if let Some(other) = stages[..i]
                    .iter()
                    .find(|o| o.touchpoints.iter().any(|u| u.name == t.name))
                {
                    return Err(journey_error(
                        "touchpoint_in_two_stages",
                        format!(
                            "touchpoint {:?} is in stages {:?} and {:?}; a touchpoint belongs to one \
                             stage (name them apart, e.g. \"{} ({})\")",
                            t.name, other.name, s.name, t.name, s.name
                        ),
                    ));
                }
            }
        }
        Ok(Self {
            name: name.into(),
            segment,
            stages,
        })
    }

    /// A journey from a table with one row per touchpoint: its stage, name, channel and ownership.
    /// Stages come in the order of their first row, touchpoints in row order.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for columns of different lengths; [`Error::Journey`] as
    /// [`Journey::new`], naming the row (a touchpoint on two rows is `duplicate_touchpoint` or
    /// `touchpoint_in_two_stages`; a blank stage or touchpoint is `blank_name`).
    pub fn from_table(
        name: impl Into<String>,
        segment: Option<String>,
        stage: &[&str],
        touchpoint: &[&str],
        channel: &[&str],
        ownership: &[Ownership],
    ) -> Result<Self> {
        let n = stage.len();
        for (what, len) in [
            ("stage and touchpoint columns", touchpoint.len()),
            ("stage and channel columns", channel.len()),
            ("stage and ownership columns", ownership.len()),
        ] {
            if len != n {
                return Err(Error::LengthMismatch {
                    what,
                    left: n,
                    right: len,
                });
            }
        }
        let mut stages: Vec<Stage> = Vec::new();
        let mut seen: Vec<(&str, usize, &str)> = Vec::new();
        for i in 0..n {
            if stage[i].trim().is_empty() || touchpoint[i].trim().is_empty() {
                return Err(journey_error(
                    "blank_name",
                    format!("row {i} has a blank stage or touchpoint; name both"),
                ));
            }
            if let Some((_, j, s)) = seen.iter().find(|(t, _, _)| *t == touchpoint[i]) {
                let (problem, how) = if *s == stage[i] {
                    ("duplicate_touchpoint", "keep one row per touchpoint")
                } else {
                    (
                        "touchpoint_in_two_stages",
                        "a touchpoint belongs to one stage; name them apart",
                    )
                };
                return Err(journey_error(
                    problem,
                    format!(
                        "touchpoint {:?} is on rows {j} (stage {s:?}) and {i} (stage {:?}); {how}",
                        touchpoint[i], stage[i]
                    ),
                ));
            }
            seen.push((touchpoint[i], i, stage[i]));
            let t = Touchpoint::new(touchpoint[i], channel[i], ownership[i]);
            match stages.iter_mut().find(|s| s.name == stage[i]) {
                Some(s) => s.touchpoints.push(t),
                None => stages.push(Stage::new(stage[i], vec![t])),
            }
        }
        Self::new(name, segment, stages)
    }

    /// The journey's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The customer segment it is drawn for, if any.
    pub fn segment(&self) -> Option<&str> {
        self.segment.as_deref()
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// Every touchpoint with the index of its stage, in map order (stage by stage).
    pub fn touchpoints(&self) -> impl Iterator<Item = (usize, &Touchpoint)> {
        self.stages
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.touchpoints.iter().map(move |t| (i, t)))
    }

    /// Number of touchpoints.
    pub fn n_touchpoints(&self) -> usize {
        self.stages.iter().map(|s| s.touchpoints.len()).sum()
    }

    /// The position of touchpoint `name` in map order.
    pub fn touchpoint_index(&self, name: &str) -> Option<usize> {
        self.touchpoints().position(|(_, t)| t.name == name)
    }

    /// The position of stage `name`.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }

    fn touchpoint_names(&self) -> String {
        let names: Vec<String> = self
            .touchpoints()
            .map(|(_, t)| format!("{:?}", t.name))
            .collect();
        names.join(", ")
    }
}

impl fmt::Display for Journey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "journey {:?}", self.name)?;
        if let Some(s) = &self.segment {
            write!(f, " (segment {s:?})")?;
        }
        writeln!(f, ": {} stages", self.stages.len())?;
        for (i, s) in self.stages.iter().enumerate() {
            let tps: Vec<String> = s
                .touchpoints
                .iter()
                .map(|t| {
                    let own = match t.ownership {
                        Ownership::Own => "",
                        Ownership::ThirdParty => ", third party",
                    };
                    format!("{} [{}{own}]", t.name, t.channel)
                })
                .collect();
            writeln!(f, "  {}. {}: {}", i + 1, s.name, tps.join("; "))?;
        }
        Ok(())
    }
}

/// What to do with a row whose touchpoint (or stage) is not on the map, or is missing.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownPolicy {
    /// An [`Error::Journey`] naming the first such row. The default.
    #[default]
    Raise,
    /// Leave the row out and count it (`n_excluded_unknown`, `n_excluded_missing`).
    Exclude,
}

impl FromStr for UnknownPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "raise" => Ok(Self::Raise),
            "exclude" => Ok(Self::Exclude),
            _ => Err(Error::invalid(
                "unknown",
                format!("{s:?}; use \"raise\" or \"exclude\""),
            )),
        }
    }
}

/// Survey rows: one answer per row, at a touchpoint, by a customer.
#[derive(Debug, Clone, Copy)]
pub struct SurveyRows<'a> {
    /// The touchpoint of each row (`None`: missing).
    pub touchpoint: &'a [&'a str],
    /// The customer of each row (any integer id; a negative id is missing, an error).
    pub customer: &'a [i64],
    /// Likelihood to recommend, 0–10 (NaN: not answered).
    pub ltr: Option<&'a [f64]>,
    /// CSAT on the scale of [`ScoreOptions::csat_scale`] (NaN: not answered).
    pub csat: Option<&'a [f64]>,
    /// CES 2.0, 1–7, higher is easier (NaN: not answered).
    pub ces: Option<&'a [f64]>,
}

/// The conventions of the scores; every one is printed with the result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreOptions {
    /// Level of every interval.
    pub confidence_level: f64,
    /// The NPS interval (and, in [`compare_brands`], the NPS difference: Wald or adjusted Wald).
    pub nps_method: NpsMethod,
    /// The interval of shares (CSAT satisfied and bottom box, CES agree, customer share).
    pub proportion_method: ProportionMethod,
    /// Points of the CSAT scale.
    pub csat_scale: CsatScale,
    /// Which CSAT answers count as satisfied.
    pub satisfied: Satisfied,
    /// Rows whose touchpoint is unknown or missing.
    pub unknown: UnknownPolicy,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        Self {
            confidence_level: 0.95,
            nps_method: NpsMethod::AdjustedWald,
            proportion_method: ProportionMethod::Wilson,
            csat_scale: CsatScale::new(5).expect("5 is a CSAT scale"),
            satisfied: Satisfied::TopTwoBox,
            unknown: UnknownPolicy::Raise,
        }
    }
}

/// The NPS of a touchpoint or stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NpsCell {
    /// Ratings counted.
    pub n: u64,
    /// Rows without a rating.
    pub n_omitted: u64,
    /// NPS as a fraction (−1..1); NaN without ratings.
    #[serde(with = "crate::serde_nan")]
    pub score: f64,
    /// Interval of the NPS (`None` without ratings).
    pub ci: Option<Interval>,
    /// Share of promoters (9–10).
    #[serde(with = "crate::serde_nan")]
    pub promoters: f64,
    /// Share of detractors (0–6).
    #[serde(with = "crate::serde_nan")]
    pub detractors: f64,
}

/// The CSAT of a touchpoint or stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsatCell {
    /// Ratings counted.
    pub n: u64,
    /// Rows without a rating.
    pub n_omitted: u64,
    /// Share satisfied.
    #[serde(with = "crate::serde_nan")]
    pub share_satisfied: f64,
    /// Its interval.
    pub ci: Option<Interval>,
    /// Share in the bottom box (the mirror of the satisfied set).
    #[serde(with = "crate::serde_nan")]
    pub share_bottom: f64,
    /// Its interval.
    pub bottom_ci: Option<Interval>,
    /// Mean rating.
    #[serde(with = "crate::serde_nan")]
    pub mean: f64,
}

/// The CES 2.0 of a touchpoint or stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CesCell {
    /// Ratings counted.
    pub n: u64,
    /// Rows without a rating.
    pub n_omitted: u64,
    /// Mean on 1–7 (higher is easier).
    #[serde(with = "crate::serde_nan")]
    pub mean: f64,
    /// Its t interval (`None` with fewer than two ratings).
    pub mean_ci: Option<Interval>,
    /// Share agreeing (5–7).
    #[serde(with = "crate::serde_nan")]
    pub share_agree: f64,
    /// Its interval.
    pub ci: Option<Interval>,
}

/// The scores of one touchpoint (or stage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    /// The stage.
    pub stage: String,
    /// The touchpoint (`None` in the stage table).
    pub touchpoint: Option<String>,
    /// Its channel (`None` in the stage table).
    pub channel: Option<String>,
    /// Own or third-party (`None` in the stage table).
    pub ownership: Option<Ownership>,
    /// Rows at it.
    pub n_rows: u64,
    /// Distinct customers at it.
    pub n_customers: u64,
    /// n_customers / customers in all included rows.
    #[serde(with = "crate::serde_nan")]
    pub customer_share: f64,
    /// Interval of the customer share (customers as the unit).
    pub customer_share_ci: Option<Interval>,
    /// NPS, when a likelihood-to-recommend column was given.
    pub nps: Option<NpsCell>,
    /// CSAT, when a CSAT column was given.
    pub csat: Option<CsatCell>,
    /// CES, when a CES column was given.
    pub ces: Option<CesCell>,
}

/// Scores per touchpoint and per stage (see [`touchpoint_scores`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TouchpointScores {
    /// The map.
    pub journey: Journey,
    /// The conventions.
    pub options: ScoreOptions,
    /// Rows given.
    pub n_rows: u64,
    /// Rows left out because their touchpoint is not on the map (under `exclude`).
    pub n_excluded_unknown: u64,
    /// Rows left out because their touchpoint is missing (under `exclude`).
    pub n_excluded_missing: u64,
    /// Distinct customers in the included rows.
    pub n_customers: u64,
    /// One row per touchpoint, in map order.
    pub touchpoints: Vec<ScoreRow>,
    /// One row per stage, in order.
    pub stages: Vec<ScoreRow>,
}

impl TouchpointScores {
    /// The row of touchpoint `name`.
    pub fn touchpoint(&self, name: &str) -> Option<&ScoreRow> {
        self.touchpoints
            .iter()
            .find(|r| r.touchpoint.as_deref() == Some(name))
    }

    /// The row of stage `name`.
    pub fn stage(&self, name: &str) -> Option<&ScoreRow> {
        self.stages.iter().find(|r| r.stage == name)
    }
}

/// Rows mapped to touchpoints: the touchpoint code per row (−1: left out) and the counts.
struct Mapped {
    codes: Vec<i32>,
    n_unknown: u64,
    n_missing: u64,
}

fn map_rows(journey: &Journey, rows: &SurveyRows<'_>, policy: UnknownPolicy) -> Result<Mapped> {
    let n = rows.touchpoint.len();
    let check = |what: &'static str, len: usize| -> Result<()> {
        if len != n {
            return Err(Error::LengthMismatch {
                what,
                left: n,
                right: len,
            });
        }
        Ok(())
    };
    check("touchpoint and customer columns", rows.customer.len())?;
    for (what, col) in [
        ("touchpoint and ltr columns", rows.ltr),
        ("touchpoint and csat columns", rows.csat),
        ("touchpoint and ces columns", rows.ces),
    ] {
        if let Some(c) = col {
            check(what, c.len())?;
        }
    }
    let index: std::collections::HashMap<&str, i32> = journey
        .touchpoints()
        .enumerate()
        .map(|(k, (_, t))| (t.name.as_str(), k as i32))
        .collect();
    let mut out = Mapped {
        codes: Vec::with_capacity(n),
        n_unknown: 0,
        n_missing: 0,
    };
    for (i, (&t, &c)) in rows.touchpoint.iter().zip(rows.customer).enumerate() {
        if c < 0 {
            return Err(journey_error(
                "missing_id",
                format!(
                    "row {i} has no customer id; every row needs one (drop the rows without an id, \
                     or give each anonymous answer an id of its own)"
                ),
            ));
        }
        let code = if t.is_empty() {
            if policy == UnknownPolicy::Raise {
                return Err(journey_error(
                    "missing_touchpoint",
                    format!(
                        "row {i} has no touchpoint; fill it in, or pass unknown=\"exclude\" to leave \
                         such rows out (they are counted)"
                    ),
                ));
            }
            out.n_missing += 1;
            -1
        } else if let Some(&k) = index.get(t) {
            k
        } else {
            if policy == UnknownPolicy::Raise {
                return Err(journey_error(
                    "unknown_touchpoint",
                    format!(
                        "row {i}: touchpoint {t:?} is not on the journey map (its touchpoints: {}); \
                         add it to the map, correct the label, or pass unknown=\"exclude\" to leave \
                         such rows out (they are counted)",
                        journey.touchpoint_names()
                    ),
                ));
            }
            out.n_unknown += 1;
            -1
        };
        out.codes.push(code);
    }
    Ok(out)
}

/// Fold `values` into one tally on `scale` per code in `0..n_groups` with the grouping engine (rows
/// with code −1 are left out).
fn grouped(
    codes: &[i32],
    n_groups: usize,
    scale: Scale,
    values: &[f64],
) -> Result<Vec<ScaleTally>> {
    let levels: Vec<Label> = (0..n_groups as i64).map(Label::Int).collect();
    let g = Grouping::new(
        vec![KeyColumn::Categorical {
            codes: CodeSlice::I32(codes),
            levels,
            ordered: true,
        }],
        codes.len(),
    )?;
    let mut t = g.fold_scale(scale, values, None, NanPolicy::Omit)?;
    t.truncate(n_groups);
    Ok(t)
}

/// The core results of a set of groups: what the tables and the comparisons are built from.
struct GroupResults {
    nps: Vec<Option<NpsResult>>,
    csat: Vec<Option<CsatResult>>,
    ces: Vec<Option<CesResult<Ces2>>>,
}

fn group_results(
    codes: &[i32],
    n_groups: usize,
    rows: &SurveyRows<'_>,
    options: &ScoreOptions,
) -> Result<GroupResults> {
    let nps = match rows.ltr {
        Some(v) => grouped(codes, n_groups, Scale::NPS, v)?
            .into_iter()
            .map(|t| NpsTally::try_from(t).map(|t| Some(t.result())))
            .collect::<Result<Vec<_>>>()?,
        None => vec![None; n_groups],
    };
    let csat = match rows.csat {
        Some(v) => grouped(codes, n_groups, options.csat_scale.scale(), v)?
            .into_iter()
            .map(|t| {
                CsatTally::from_tally(t)?
                    .result(options.satisfied)
                    .map(Some)
            })
            .collect::<Result<Vec<_>>>()?,
        None => vec![None; n_groups],
    };
    let ces_scale = CesTally::<Ces2>::new().tally().scale();
    let ces = match rows.ces {
        Some(v) => grouped(codes, n_groups, ces_scale, v)?
            .into_iter()
            .map(|t| CesTally::<Ces2>::from_tally(t).map(|t| Some(t.result())))
            .collect::<Result<Vec<_>>>()?,
        None => vec![None; n_groups],
    };
    Ok(GroupResults { nps, csat, ces })
}

fn nps_cell(r: &NpsResult, o: &ScoreOptions) -> NpsCell {
    NpsCell {
        n: r.n,
        n_omitted: r.n_omitted,
        score: r.score,
        ci: r.ci(o.confidence_level, o.nps_method).ok(),
        promoters: r.promoters,
        detractors: r.detractors,
    }
}

fn csat_cell(r: &CsatResult, o: &ScoreOptions) -> CsatCell {
    CsatCell {
        n: r.n,
        n_omitted: r.n_omitted,
        share_satisfied: r.share_satisfied,
        ci: r.ci(o.confidence_level, o.proportion_method).ok(),
        share_bottom: r.share_bottom,
        bottom_ci: r.bottom_ci(o.confidence_level, o.proportion_method).ok(),
        mean: r.mean,
    }
}

fn ces_cell(r: &CesResult<Ces2>, o: &ScoreOptions) -> CesCell {
    CesCell {
        n: r.n,
        n_omitted: r.n_omitted,
        mean: r.mean,
        mean_ci: r.mean_ci(o.confidence_level).ok(),
        share_agree: r.share_agree,
        ci: r.ci(o.confidence_level, o.proportion_method).ok(),
    }
}

/// Distinct customers per group (codes −1 left out) and in all.
fn customers_per_group(codes: &[i32], customer: &[i64], n_groups: usize) -> (Vec<u64>, u64) {
    let mut sets: Vec<HashSet<i64>> = vec![HashSet::new(); n_groups];
    let mut all = HashSet::new();
    for (&c, &id) in codes.iter().zip(customer) {
        if c >= 0 {
            sets[c as usize].insert(id);
            all.insert(id);
        }
    }
    (
        sets.iter().map(|s| s.len() as u64).collect(),
        all.len() as u64,
    )
}

#[allow(clippy::too_many_arguments)]
fn score_rows(
    labels: Vec<(String, Option<&Touchpoint>)>,
    codes: &[i32],
    rows: &SurveyRows<'_>,
    results: &GroupResults,
    options: &ScoreOptions,
) -> Result<(Vec<ScoreRow>, u64)> {
    let n_groups = labels.len();
    let (n_cust, total) = customers_per_group(codes, rows.customer, n_groups);
    let mut n_rows = vec![0u64; n_groups];
    for &c in codes {
        if c >= 0 {
            n_rows[c as usize] += 1;
        }
    }
    let mut out = Vec::with_capacity(n_groups);
    for (k, (stage, tp)) in labels.into_iter().enumerate() {
        let share = if total > 0 {
            n_cust[k] as f64 / total as f64
        } else {
            f64::NAN
        };
        let share_ci = if total > 0 {
            proportion_ci(
                n_cust[k] as f64,
                total as f64,
                options.confidence_level,
                options.proportion_method,
            )
            .ok()
        } else {
            None
        };
        out.push(ScoreRow {
            stage,
            touchpoint: tp.map(|t| t.name.clone()),
            channel: tp.map(|t| t.channel.clone()),
            ownership: tp.map(|t| t.ownership),
            n_rows: n_rows[k],
            n_customers: n_cust[k],
            customer_share: share,
            customer_share_ci: share_ci,
            nps: results.nps[k].as_ref().map(|r| nps_cell(r, options)),
            csat: results.csat[k].as_ref().map(|r| csat_cell(r, options)),
            ces: results.ces[k].as_ref().map(|r| ces_cell(r, options)),
        });
    }
    Ok((out, total))
}

fn stage_codes(journey: &Journey, codes: &[i32]) -> Vec<i32> {
    let stage_of: Vec<i32> = journey.touchpoints().map(|(s, _)| s as i32).collect();
    codes
        .iter()
        .map(|&c| if c < 0 { -1 } else { stage_of[c as usize] })
        .collect()
}

/// Scores per touchpoint and per stage: NPS, CSAT and CES with intervals (from the crate's tallies,
/// grouped by the grouping engine), rows, distinct customers and the share of customers who used
/// each touchpoint (with its interval, customers as the unit).
///
/// Ratings are unweighted; a missing rating (NaN) is omitted and counted per touchpoint.
///
/// # Errors
/// [`Error::LengthMismatch`] for columns of different lengths; [`Error::Journey`] for a row without
/// customer id, or (under [`UnknownPolicy::Raise`]) with an unknown or missing touchpoint, naming the
/// row; the rating errors of [`ScaleTally::fold`] (naming the row); [`Error::InvalidArgument`] for a
/// bad level.
pub fn touchpoint_scores(
    journey: &Journey,
    rows: &SurveyRows<'_>,
    options: &ScoreOptions,
) -> Result<TouchpointScores> {
    check_level(options.confidence_level)?;
    let mapped = map_rows(journey, rows, options.unknown)?;
    let n_tp = journey.n_touchpoints();
    let tp_results = group_results(&mapped.codes, n_tp, rows, options)?;
    let labels = journey
        .touchpoints()
        .map(|(s, t)| (journey.stages[s].name.clone(), Some(t)))
        .collect();
    let (touchpoints, n_customers) = score_rows(labels, &mapped.codes, rows, &tp_results, options)?;
    let scodes = stage_codes(journey, &mapped.codes);
    let n_st = journey.stages.len();
    let st_results = group_results(&scodes, n_st, rows, options)?;
    let labels = journey
        .stages
        .iter()
        .map(|s| (s.name.clone(), None))
        .collect();
    let (stages, _) = score_rows(labels, &scodes, rows, &st_results, options)?;
    Ok(TouchpointScores {
        journey: journey.clone(),
        options: *options,
        n_rows: rows.touchpoint.len() as u64,
        n_excluded_unknown: mapped.n_unknown,
        n_excluded_missing: mapped.n_missing,
        n_customers,
        touchpoints,
        stages,
    })
}

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

/// A score a target is set on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// NPS as a fraction (−1..1).
    Nps,
    /// CSAT share satisfied (0..1).
    Csat,
    /// CSAT bottom-box share (0..1; lower is better).
    CsatBottom,
    /// Mean CSAT rating.
    CsatMean,
    /// Mean CES 2.0 (1–7, higher is easier).
    CesMean,
    /// CES share agreeing (5–7).
    CesAgree,
    /// Share of customers who use the touchpoint.
    CustomerShare,
}

impl Metric {
    /// The snake_case name, as parsed by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nps => "nps",
            Self::Csat => "csat",
            Self::CsatBottom => "csat_bottom",
            Self::CsatMean => "csat_mean",
            Self::CesMean => "ces_mean",
            Self::CesAgree => "ces_agree",
            Self::CustomerShare => "customer_share",
        }
    }

    const ALL: [Self; 7] = [
        Self::Nps,
        Self::Csat,
        Self::CsatBottom,
        Self::CsatMean,
        Self::CesMean,
        Self::CesAgree,
        Self::CustomerShare,
    ];

    /// The range a threshold of this metric can take, and the unit it is in (for the error).
    fn range(self, csat_points: u8) -> (f64, f64, &'static str) {
        match self {
            Self::Nps => (-1.0, 1.0, "NPS is a fraction from -1 to 1 (0.3 is +30)"),
            Self::Csat | Self::CsatBottom | Self::CesAgree | Self::CustomerShare => {
                (0.0, 1.0, "shares are fractions (0.85 is 85 %)")
            }
            Self::CsatMean => (
                1.0,
                f64::from(csat_points),
                "a mean rating of the CSAT scale",
            ),
            Self::CesMean => (1.0, 7.0, "a mean rating of the 1-7 CES scale"),
        }
    }

    /// The estimate and its interval in a score row (`None`: the column was not given).
    fn of(self, r: &ScoreRow) -> Option<(f64, Option<Interval>)> {
        match self {
            Self::Nps => r.nps.as_ref().map(|c| (c.score, c.ci)),
            Self::Csat => r.csat.as_ref().map(|c| (c.share_satisfied, c.ci)),
            Self::CsatBottom => r.csat.as_ref().map(|c| (c.share_bottom, c.bottom_ci)),
            Self::CsatMean => r.csat.as_ref().map(|c| (c.mean, None)),
            Self::CesMean => r.ces.as_ref().map(|c| (c.mean, c.mean_ci)),
            Self::CesAgree => r.ces.as_ref().map(|c| (c.share_agree, c.ci)),
            Self::CustomerShare => Some((r.customer_share, r.customer_share_ci)),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Metric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|m| m.as_str()).collect();
                Error::invalid("metric", format!("{s:?}; use one of {}", names.join(", ")))
            })
    }
}

/// Whether a target is a floor or a ceiling.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The score should be at least the threshold (CSAT ≥ 85 %). The default.
    #[default]
    AtLeast,
    /// The score should be at most the threshold (bottom box ≤ 5 %).
    AtMost,
}

impl FromStr for Direction {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "at_least" | ">=" => Ok(Self::AtLeast),
            "at_most" | "<=" => Ok(Self::AtMost),
            _ => Err(Error::invalid(
                "direction",
                format!("{s:?}; use \"at_least\" (>=) or \"at_most\" (<=)"),
            )),
        }
    }
}

/// Whether a touchpoint or a stage is meant.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// A touchpoint.
    Touchpoint,
    /// A stage.
    Stage,
}

impl FromStr for Level {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "touchpoint" => Ok(Self::Touchpoint),
            "stage" => Ok(Self::Stage),
            _ => Err(Error::invalid(
                "level",
                format!("{s:?}; use \"touchpoint\" or \"stage\""),
            )),
        }
    }
}

/// The desired experience at one touchpoint or stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Touchpoint or stage.
    pub level: Level,
    /// Its name.
    pub name: String,
    /// The score.
    pub metric: Metric,
    /// The threshold, in the score's unit (fractions for shares and NPS: 0.85 is 85 %).
    pub threshold: f64,
    /// Floor or ceiling.
    pub direction: Direction,
}

/// Whether a target is met, judged by the interval of the score.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The whole interval is on the wrong side of the threshold.
    MissedBeyondDoubt,
    /// The whole interval is on the right side of the threshold (or on it).
    MetBeyondDoubt,
    /// The interval contains the threshold.
    Undecided,
    /// No estimate or no interval (no ratings, or one).
    Undefined,
}

/// One target's gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// The target.
    pub target: Target,
    /// The score.
    #[serde(with = "crate::serde_nan")]
    pub estimate: f64,
    /// Its interval.
    pub ci: Option<Interval>,
    /// estimate − threshold (positive: above the threshold).
    #[serde(with = "crate::serde_nan")]
    pub gap: f64,
    /// The interval of the gap: the score's interval minus the threshold.
    pub gap_ci: Option<Interval>,
    /// The verdict.
    pub verdict: Verdict,
}

/// Gaps between the scores and the targets (see [`journey_gaps`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JourneyGaps {
    /// The level of the intervals.
    pub confidence_level: f64,
    /// One row per target, in the order given.
    pub gaps: Vec<Gap>,
}

/// The gap of every target to its score, with the interval of the gap and a verdict: missed beyond
/// doubt when the whole interval of the score lies on the wrong side of the threshold, met beyond
/// doubt when it lies on the right side, undecided otherwise. A mean CSAT has no interval here and
/// is always undecided (or undefined).
///
/// # Errors
/// [`Error::Journey`] for a target on a touchpoint or stage not on the map;
/// [`Error::InvalidArgument`] for a non-finite threshold, a threshold outside its metric's range
/// (a share above 1, as a percentage given for a fraction would be), or a score whose column was not
/// given.
pub fn journey_gaps(scores: &TouchpointScores, targets: &[Target]) -> Result<JourneyGaps> {
    let mut gaps = Vec::with_capacity(targets.len());
    for (i, t) in targets.iter().enumerate() {
        if !t.threshold.is_finite() {
            return Err(Error::invalid(
                "targets",
                format!(
                    "target {i} has threshold {}; it must be finite",
                    t.threshold
                ),
            ));
        }
        let (low, high, unit) = t.metric.range(scores.options.csat_scale.points());
        if !(low..=high).contains(&t.threshold) {
            let hint = if t.threshold > 1.0 && high == 1.0 && t.threshold <= 100.0 {
                format!("; for {} %, give {}", t.threshold, t.threshold / 100.0)
            } else {
                String::new()
            };
            return Err(Error::invalid(
                "targets",
                format!(
                    "target {i} ({} {}) has threshold {}, outside {low}..{high}: {unit}{hint}",
                    t.name, t.metric, t.threshold
                ),
            ));
        }
        let row = match t.level {
            Level::Touchpoint => scores.touchpoint(&t.name).ok_or_else(|| {
                journey_error(
                    "unknown_touchpoint",
                    format!(
                        "target {i}: touchpoint {:?} is not on the journey map (its touchpoints: {})",
                        t.name,
                        scores.journey.touchpoint_names()
                    ),
                )
            })?,
            Level::Stage => scores.stage(&t.name).ok_or_else(|| {
                journey_error(
                    "unknown_stage",
                    format!("target {i}: stage {:?} is not on the journey map", t.name),
                )
            })?,
        };
        let (estimate, ci) = t.metric.of(row).ok_or_else(|| {
            Error::invalid(
                "targets",
                format!(
                    "target {i} is on {} but the scores have no such column; pass it to \
                     touchpoint_scores",
                    t.metric
                ),
            )
        })?;
        let verdict = match ci {
            _ if estimate.is_nan() => Verdict::Undefined,
            None => Verdict::Undecided,
            Some(ci) => {
                let (good, bad) = match t.direction {
                    Direction::AtLeast => (ci.low >= t.threshold, ci.high < t.threshold),
                    Direction::AtMost => (ci.high <= t.threshold, ci.low > t.threshold),
                };
                if bad {
                    Verdict::MissedBeyondDoubt
                } else if good {
                    Verdict::MetBeyondDoubt
                } else {
                    Verdict::Undecided
                }
            }
        };
        gaps.push(Gap {
            target: t.clone(),
            estimate,
            ci,
            gap: estimate - t.threshold,
            gap_ci: ci.map(|c| Interval {
                low: c.low - t.threshold,
                high: c.high - t.threshold,
                ..c
            }),
            verdict,
        });
    }
    Ok(JourneyGaps {
        confidence_level: scores.options.confidence_level,
        gaps,
    })
}

// ---------------------------------------------------------------------------------------------
// Pain points
// ---------------------------------------------------------------------------------------------

/// What counts as dissatisfaction in the pain-point score.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dissatisfaction {
    /// The CSAT bottom-box share. The default.
    #[default]
    CsatBottom,
    /// The share of detractors (0–6 on likelihood to recommend).
    Detractors,
}

impl FromStr for Dissatisfaction {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "csat_bottom" => Ok(Self::CsatBottom),
            "detractors" => Ok(Self::Detractors),
            _ => Err(Error::invalid(
                "dissatisfaction",
                format!("{s:?}; use \"csat_bottom\" or \"detractors\""),
            )),
        }
    }
}

/// The drop-off that follows each touchpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropOff {
    /// A share in [0, 1] per touchpoint (touchpoints not listed: 0).
    PerTouchpoint(Vec<(String, f64)>),
    /// Customers reaching each stage, every stage listed: the drop-off after stage s,
    /// 1 − reach(s + 1) / reach(s), is given to each of its touchpoints (0 after the last stage).
    StageReach(Vec<(String, u64)>),
}

/// The weights of the pain-point score (each ≥ 0, not all 0; printed with the result).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PainWeights {
    /// Effort: (7 − mean CES) / 6.
    pub effort: f64,
    /// Dissatisfaction: bottom-box or detractor share.
    pub dissatisfaction: f64,
    /// Volume: the share of customers who use the touchpoint.
    pub volume: f64,
    /// Drop-off after the touchpoint.
    pub drop_off: f64,
}

impl Default for PainWeights {
    fn default() -> Self {
        Self {
            effort: 1.0,
            dissatisfaction: 1.0,
            volume: 1.0,
            drop_off: 1.0,
        }
    }
}

/// Options of [`pain_points`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PainOptions {
    /// The weights.
    pub weights: PainWeights,
    /// Which share measures dissatisfaction.
    pub dissatisfaction: Dissatisfaction,
    /// The drop-off table (required when its weight is above 0).
    pub drop_off: Option<DropOff>,
    /// How many of the worst are "the worst" (the probability reported is of being among them).
    pub top: usize,
    /// Bootstrap resamples of customers (≥ 100).
    pub n_resamples: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for PainOptions {
    fn default() -> Self {
        Self {
            weights: PainWeights::default(),
            dissatisfaction: Dissatisfaction::CsatBottom,
            drop_off: None,
            top: 3,
            n_resamples: 2000,
            seed: 0,
        }
    }
}

/// One touchpoint's pain-point score and its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PainRow {
    /// The touchpoint.
    pub touchpoint: String,
    /// Its stage.
    pub stage: String,
    /// Effort component in [0, 1] (NaN without CES ratings).
    #[serde(with = "crate::serde_nan")]
    pub effort: f64,
    /// Dissatisfaction component in [0, 1].
    #[serde(with = "crate::serde_nan")]
    pub dissatisfaction: f64,
    /// Volume component in [0, 1].
    #[serde(with = "crate::serde_nan")]
    pub volume: f64,
    /// Drop-off component in [0, 1].
    #[serde(with = "crate::serde_nan")]
    pub drop_off: f64,
    /// Each component times its normalised weight, in the order effort, dissatisfaction, volume,
    /// drop-off; they add up to the score.
    pub contributions: [f64; 4],
    /// The score: Σ normalised weight × component (0 best, 1 worst; NaN when a weighted component
    /// is undefined).
    #[serde(with = "crate::serde_nan")]
    pub score: f64,
    /// Percentile bootstrap interval of the score.
    pub score_ci: Option<Interval>,
    /// Rank, 1 the worst.
    pub rank: usize,
    /// Share of bootstrap resamples in which the touchpoint is among the `top` worst.
    pub p_top: f64,
}

/// Touchpoints ranked by pain (see [`pain_points`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PainPoints {
    /// The weights as given.
    pub weights: PainWeights,
    /// The weights divided by their sum (what multiplies the components).
    pub normalised_weights: PainWeights,
    /// The dissatisfaction measure.
    pub dissatisfaction: Dissatisfaction,
    /// Where the drop-off came from: "per_touchpoint", "stage_reach" or "none".
    pub drop_off_source: String,
    /// `top` of the options.
    pub top: usize,
    /// Resamples.
    pub n_resamples: usize,
    /// Seed.
    pub seed: u64,
    /// Level of the score intervals.
    pub confidence_level: f64,
    /// Customers resampled.
    pub n_customers: u64,
    /// Touchpoints from the worst to the best (undefined scores last, in map order).
    pub rows: Vec<PainRow>,
}

/// Per customer and touchpoint, what the components are sums of.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    ces_sum: f64,
    ces_n: f64,
    bad: f64,
    bad_n: f64,
}

fn drop_off_per_touchpoint(journey: &Journey, d: &DropOff) -> Result<Vec<f64>> {
    let n = journey.n_touchpoints();
    let mut out = vec![0.0; n];
    match d {
        DropOff::PerTouchpoint(list) => {
            let mut seen = vec![false; n];
            for (name, share) in list {
                let k = journey.touchpoint_index(name).ok_or_else(|| {
                    journey_error(
                        "unknown_touchpoint",
                        format!(
                            "drop-off table: touchpoint {name:?} is not on the journey map (its \
                             touchpoints: {})",
                            journey.touchpoint_names()
                        ),
                    )
                })?;
                if !(0.0..=1.0).contains(share) {
                    return Err(Error::invalid(
                        "drop_off",
                        format!("touchpoint {name:?} has drop-off {share}; give a share in [0, 1]"),
                    ));
                }
                if std::mem::replace(&mut seen[k], true) {
                    return Err(journey_error(
                        "duplicate_touchpoint",
                        format!("drop-off table: touchpoint {name:?} is listed twice"),
                    ));
                }
                out[k] = *share;
            }
        }
        DropOff::StageReach(list) => {
            let ns = journey.stages.len();
            let mut reach: Vec<Option<u64>> = vec![None; ns];
            for (name, r) in list {
                let s = journey.stage_index(name).ok_or_else(|| {
                    journey_error(
                        "unknown_stage",
                        format!("stage reach: stage {name:?} is not on the journey map"),
                    )
                })?;
                if reach[s].replace(*r).is_some() {
                    return Err(journey_error(
                        "duplicate_stage",
                        format!("stage reach: stage {name:?} is listed twice"),
                    ));
                }
            }
            let mut shares = vec![0.0; ns];
            for s in 0..ns {
                let here = reach[s].ok_or_else(|| {
                    journey_error(
                        "unknown_stage",
                        format!(
                            "stage reach: stage {:?} has no count; give the customers reaching every stage",
                            journey.stages[s].name
                        ),
                    )
                })?;
                if s + 1 < ns {
                    if let Some(next) = reach[s + 1] {
                        if next > here {
                            return Err(Error::invalid(
                                "drop_off",
                                format!(
                                    "stage {:?} is reached by {next} customers, more than the {here} \
                                     of stage {:?} before it; reach counts must not grow along the \
                                     journey",
                                    journey.stages[s + 1].name,
                                    journey.stages[s].name
                                ),
                            ));
                        }
                        shares[s] = if here > 0 {
                            1.0 - next as f64 / here as f64
                        } else {
                            0.0
                        };
                    }
                }
            }
            for (k, (s, _)) in journey.touchpoints().enumerate() {
                out[k] = shares[s];
            }
        }
    }
    Ok(out)
}

/// Touchpoints ranked by a pain score that combines effort, dissatisfaction, volume and drop-off,
/// with the uncertainty of the ranking.
///
/// # Formula
/// Per touchpoint, each component in [0, 1]: effort = (7 − mean CES 2.0) / 6; dissatisfaction = the
/// CSAT bottom-box share or the detractor share; volume = the share of customers who used it;
/// drop-off from the table given. With normalised weights wₖ = weightₖ / Σ weights, the score is
/// Σ wₖ · componentₖ, and each wₖ · componentₖ is reported as its contribution. The point estimates
/// come from [`touchpoint_scores`].
///
/// The uncertainty: `n_resamples` resamples of the customers with replacement (each customer with
/// all their rows; seeded, the same for any number of threads); in each, the components and scores
/// are recomputed (the drop-off table is taken as fixed), and `p_top` is the share of resamples in
/// which the touchpoint is among the `top` highest scores. The score interval is the percentile
/// interval of the resampled scores.
///
/// # Errors
/// As [`touchpoint_scores`]; [`Error::InvalidArgument`] for a negative or non-finite weight, all
/// weights 0, a weighted component without its column (CES for effort, CSAT or likelihood to
/// recommend for dissatisfaction, a drop-off table for drop-off), `top` 0, fewer than 100
/// resamples; [`Error::Journey`] for a drop-off table naming a touchpoint or stage not on the map.
pub fn pain_points(
    journey: &Journey,
    rows: &SurveyRows<'_>,
    options: &ScoreOptions,
    pain: &PainOptions,
) -> Result<PainPoints> {
    let w = pain.weights;
    let ws = [w.effort, w.dissatisfaction, w.volume, w.drop_off];
    if ws.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
        return Err(Error::invalid(
            "weights",
            format!("{ws:?}; every weight must be finite and >= 0"),
        ));
    }
    let total: f64 = ws.iter().sum();
    if total <= 0.0 {
        return Err(Error::invalid(
            "weights",
            "all four weights are 0; give at least one a positive weight",
        ));
    }
    if pain.top == 0 {
        return Err(Error::invalid("top", "0; ask for at least the worst one"));
    }
    check_resamples(
        "n_resamples",
        pain.n_resamples,
        100,
        "at least 100 resamples are needed for a probability of rank",
    )?;
    let bad_col = match pain.dissatisfaction {
        Dissatisfaction::CsatBottom => rows.csat,
        Dissatisfaction::Detractors => rows.ltr,
    };
    if w.effort > 0.0 && rows.ces.is_none() {
        return Err(Error::invalid(
            "weights",
            "effort has a positive weight but no CES column was given; pass ces= or set its weight to 0",
        ));
    }
    if w.dissatisfaction > 0.0 && bad_col.is_none() {
        return Err(Error::invalid(
            "weights",
            "dissatisfaction has a positive weight but its column (CSAT for csat_bottom, likelihood \
             to recommend for detractors) was not given; pass it or set the weight to 0",
        ));
    }
    if w.drop_off > 0.0 && pain.drop_off.is_none() {
        return Err(Error::invalid(
            "weights",
            "drop-off has a positive weight but no drop-off table was given; pass per-touchpoint \
             drop-off or stage reach counts, or set its weight to 0",
        ));
    }
    let norm = PainWeights {
        effort: w.effort / total,
        dissatisfaction: w.dissatisfaction / total,
        volume: w.volume / total,
        drop_off: w.drop_off / total,
    };
    let nw = [
        norm.effort,
        norm.dissatisfaction,
        norm.volume,
        norm.drop_off,
    ];
    let scores = touchpoint_scores(journey, rows, options)?;
    let n_tp = journey.n_touchpoints();
    let drop = match &pain.drop_off {
        Some(d) => drop_off_per_touchpoint(journey, d)?,
        None => vec![0.0; n_tp],
    };
    let components = |effort: f64, bad: f64, volume: f64, d: f64| -> ([f64; 4], f64) {
        let comp = [effort, bad, volume, d];
        let mut contrib = [0.0; 4];
        let mut score = 0.0;
        for k in 0..4 {
            if nw[k] > 0.0 {
                contrib[k] = nw[k] * comp[k];
                score += contrib[k];
            }
        }
        (contrib, score)
    };
    // Point estimates, from the tallies of `touchpoint_scores`.
    let mut out: Vec<PainRow> = Vec::with_capacity(n_tp);
    for (k, r) in scores.touchpoints.iter().enumerate() {
        let effort = r.ces.as_ref().map_or(f64::NAN, |c| (7.0 - c.mean) / 6.0);
        let bad = match pain.dissatisfaction {
            Dissatisfaction::CsatBottom => r.csat.as_ref().map_or(f64::NAN, |c| c.share_bottom),
            Dissatisfaction::Detractors => r.nps.as_ref().map_or(f64::NAN, |c| c.detractors),
        };
        let (contributions, score) = components(effort, bad, r.customer_share, drop[k]);
        out.push(PainRow {
            touchpoint: r.touchpoint.clone().unwrap_or_default(),
            stage: r.stage.clone(),
            effort,
            dissatisfaction: bad,
            volume: r.customer_share,
            drop_off: drop[k],
            contributions,
            score,
            score_ci: None,
            rank: 0,
            p_top: 0.0,
        });
    }
    // Per customer, their touchpoints' sums.
    let mapped = map_rows(journey, rows, options.unknown)?;
    let mut ids: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    let mut per_customer: Vec<Vec<(usize, Cell)>> = Vec::new();
    let ces_bad = |i: usize| -> (Option<f64>, Option<f64>) {
        let ces = rows.ces.map(|v| v[i]).filter(|x| !x.is_nan());
        let bad = match pain.dissatisfaction {
            Dissatisfaction::CsatBottom => {
                rows.csat.map(|v| v[i]).filter(|x| !x.is_nan()).map(|x| {
                    let bottom = options
                        .csat_scale
                        .bottom_points(options.satisfied)
                        .expect("checked by touchpoint_scores");
                    f64::from(bottom.contains(&(x as i32)))
                })
            }
            Dissatisfaction::Detractors => rows
                .ltr
                .map(|v| v[i])
                .filter(|x| !x.is_nan())
                .map(|x| f64::from(x <= 6.0)),
        };
        (ces, bad)
    };
    for (i, &code) in mapped.codes.iter().enumerate() {
        if code < 0 {
            continue;
        }
        let next = ids.len();
        let c = *ids.entry(rows.customer[i]).or_insert(next);
        if c == per_customer.len() {
            per_customer.push(Vec::new());
        }
        let list = &mut per_customer[c];
        let k = code as usize;
        let pos = match list.iter().position(|(t, _)| *t == k) {
            Some(p) => p,
            None => {
                list.push((k, Cell::default()));
                list.len() - 1
            }
        };
        let (ces, bad) = ces_bad(i);
        let cell = &mut list[pos].1;
        if let Some(x) = ces {
            cell.ces_sum += x;
            cell.ces_n += 1.0;
        }
        if let Some(b) = bad {
            cell.bad += b;
            cell.bad_n += 1.0;
        }
    }
    let n_cust = per_customer.len();
    let b = pain.n_resamples;
    let top = pain.top.min(n_tp);
    use rayon::prelude::*;
    let replicate = |r: usize| -> Vec<f64> {
        let mut rng = stream(
            pain.seed,
            Family::Keyed {
                tag: PAIN_POINT_BOOTSTRAP,
                stratum: 0,
            },
            r as u64,
        );
        let mut mult = vec![0u32; n_cust];
        for _ in 0..n_cust {
            mult[rng.random_range(0..n_cust)] += 1;
        }
        let mut sums = vec![Cell::default(); n_tp];
        let mut users = vec![0.0; n_tp];
        for (c, list) in per_customer.iter().enumerate() {
            let m = f64::from(mult[c]);
            if m == 0.0 {
                continue;
            }
            for (k, cell) in list {
                let s = &mut sums[*k];
                s.ces_sum += m * cell.ces_sum;
                s.ces_n += m * cell.ces_n;
                s.bad += m * cell.bad;
                s.bad_n += m * cell.bad_n;
                users[*k] += m;
            }
        }
        (0..n_tp)
            .map(|k| {
                let s = &sums[k];
                let effort = if s.ces_n > 0.0 {
                    (7.0 - s.ces_sum / s.ces_n) / 6.0
                } else {
                    f64::NAN
                };
                let bad = if s.bad_n > 0.0 {
                    s.bad / s.bad_n
                } else {
                    f64::NAN
                };
                components(effort, bad, users[k] / n_cust as f64, drop[k]).1
            })
            .collect()
    };
    let reps: Vec<Vec<f64>> = if n_cust == 0 {
        Vec::new()
    } else {
        (0..b).into_par_iter().map(replicate).collect()
    };
    let mut in_top = vec![0usize; n_tp];
    for rep in &reps {
        for k in worst(rep, top) {
            in_top[k] += 1;
        }
    }
    let level = options.confidence_level;
    for (k, row) in out.iter_mut().enumerate() {
        if !reps.is_empty() {
            row.p_top = in_top[k] as f64 / reps.len() as f64;
            let mut v: Vec<f64> = reps.iter().map(|r| r[k]).filter(|x| !x.is_nan()).collect();
            if v.len() == reps.len() && !row.score.is_nan() {
                v.sort_by(f64::total_cmp);
                let a = (1.0 - level) / 2.0;
                row.score_ci = Some(Interval::new(
                    quantile_sorted(&v, a),
                    quantile_sorted(&v, 1.0 - a),
                    level,
                ));
            }
        }
    }
    let order = ranking(&out.iter().map(|r| r.score).collect::<Vec<_>>());
    let mut ranked = Vec::with_capacity(n_tp);
    for (rank, k) in order.into_iter().enumerate() {
        let mut r = out[k].clone();
        r.rank = rank + 1;
        ranked.push(r);
    }
    Ok(PainPoints {
        weights: w,
        normalised_weights: norm,
        dissatisfaction: pain.dissatisfaction,
        drop_off_source: match &pain.drop_off {
            None => "none",
            Some(DropOff::PerTouchpoint(_)) => "per_touchpoint",
            Some(DropOff::StageReach(_)) => "stage_reach",
        }
        .to_string(),
        top: pain.top,
        n_resamples: b,
        seed: pain.seed,
        confidence_level: level,
        n_customers: n_cust as u64,
        rows: ranked,
    })
}

/// Indices from the highest score to the lowest; NaN last; ties by index.
fn ranking(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| match (scores[a].is_nan(), scores[b].is_nan()) {
        (false, false) => scores[b].total_cmp(&scores[a]).then(a.cmp(&b)),
        (x, y) => x.cmp(&y).then(a.cmp(&b)),
    });
    order
}

/// The `top` highest defined scores' indices.
fn worst(scores: &[f64], top: usize) -> Vec<usize> {
    ranking(scores)
        .into_iter()
        .take(top)
        .filter(|&k| !scores[k].is_nan())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Brands
// ---------------------------------------------------------------------------------------------

/// One brand's difference to the reference brand on one score, at one touchpoint or stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrandDifference {
    /// Touchpoint or stage.
    pub level: Level,
    /// Its name.
    pub name: String,
    /// The brand.
    pub brand: String,
    /// The score (nps, csat or ces_agree).
    pub metric: Metric,
    /// The brand's estimate.
    #[serde(with = "crate::serde_nan")]
    pub estimate: f64,
    /// The reference brand's estimate.
    #[serde(with = "crate::serde_nan")]
    pub reference_estimate: f64,
    /// Ratings of the brand.
    pub n: u64,
    /// Ratings of the reference.
    pub reference_n: u64,
    /// estimate − reference_estimate.
    #[serde(with = "crate::serde_nan")]
    pub difference: f64,
    /// Its interval (NPS: Wald or adjusted Wald; shares: Newcombe).
    pub ci: Option<Interval>,
    /// Two-sided p-value (NaN when either side has no ratings).
    #[serde(with = "crate::serde_nan")]
    pub p_value: f64,
    /// The p-value adjusted over every comparison of the result.
    #[serde(with = "crate::serde_nan")]
    pub p_adjusted: f64,
}

/// Brands compared with a reference brand (see [`compare_brands`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrandComparison {
    /// The reference brand.
    pub reference: String,
    /// The multiplicity adjustment over all comparisons.
    pub adjustment: PValueAdjustment,
    /// Brands in their sorted order, the reference among them.
    pub brands: Vec<String>,
    /// Each brand's scores, in the order of `brands`.
    pub scores: Vec<TouchpointScores>,
    /// Differences: every brand but the reference, every touchpoint then every stage, every score
    /// given.
    pub differences: Vec<BrandDifference>,
}

/// The same touchpoint and stage scores for several brands (a benchmark survey), and each brand's
/// difference to `reference` on NPS (the existing two-sample comparison, Wald or adjusted Wald as
/// `options.nps_method`), CSAT satisfied share and CES agree share (Newcombe intervals of the
/// existing `compare_csat` / `compare_ces`), with p-values adjusted over the whole family by
/// `adjustment` (Holm or Benjamini–Hochberg). Comparisons with no ratings on a side are reported
/// with NaN and left out of the family.
///
/// # Errors
/// As [`touchpoint_scores`]; [`Error::LengthMismatch`] for a brand column of another length;
/// [`Error::InvalidArgument`] for a missing brand (empty text, naming the row), a reference brand
/// not in the data, or an NPS method other than Wald or adjusted Wald.
pub fn compare_brands(
    journey: &Journey,
    brand: &[&str],
    rows: &SurveyRows<'_>,
    reference: &str,
    options: &ScoreOptions,
    adjustment: PValueAdjustment,
) -> Result<BrandComparison> {
    if brand.len() != rows.touchpoint.len() {
        return Err(Error::LengthMismatch {
            what: "brand and touchpoint columns",
            left: brand.len(),
            right: rows.touchpoint.len(),
        });
    }
    if let Some(i) = brand.iter().position(|b| b.is_empty()) {
        return Err(Error::invalid(
            "brand",
            format!("row {i} has no brand; fill it in or drop the row"),
        ));
    }
    if !matches!(
        options.nps_method,
        NpsMethod::Wald | NpsMethod::AdjustedWald
    ) {
        return Err(Error::invalid(
            "nps_method",
            format!(
                "{}; brand differences use \"wald\" or \"adjusted_wald\"",
                options.nps_method.id()
            ),
        ));
    }
    let mut brands: Vec<String> = brand.iter().map(|b| b.to_string()).collect();
    brands.sort();
    brands.dedup();
    let r_idx = brands.iter().position(|b| b == reference).ok_or_else(|| {
        Error::invalid(
            "reference",
            format!("brand {reference:?} is not in the data (its brands: {brands:?})"),
        )
    })?;
    let ns = journey.stages.len();
    let ntp = journey.n_touchpoints();
    let mut per_brand: Vec<(TouchpointScores, GroupResults, GroupResults)> = Vec::new();
    for b in &brands {
        let idx: Vec<usize> = (0..brand.len()).filter(|&i| brand[i] == b).collect();
        let tp: Vec<&str> = idx.iter().map(|&i| rows.touchpoint[i]).collect();
        let cu: Vec<i64> = idx.iter().map(|&i| rows.customer[i]).collect();
        let pick = |v: Option<&[f64]>| v.map(|v| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>());
        let (l, c, e) = (pick(rows.ltr), pick(rows.csat), pick(rows.ces));
        let sub = SurveyRows {
            touchpoint: &tp,
            customer: &cu,
            ltr: l.as_deref(),
            csat: c.as_deref(),
            ces: e.as_deref(),
        };
        let scores = touchpoint_scores(journey, &sub, options)?;
        let mapped = map_rows(journey, &sub, options.unknown)?;
        let tr = group_results(&mapped.codes, ntp, &sub, options)?;
        let sr = group_results(&stage_codes(journey, &mapped.codes), ns, &sub, options)?;
        per_brand.push((scores, tr, sr));
    }
    let mut diffs = Vec::new();
    let level = options.confidence_level;
    for (bi, b) in brands.iter().enumerate() {
        if bi == r_idx {
            continue;
        }
        for (lvl, count) in [(Level::Touchpoint, ntp), (Level::Stage, ns)] {
            for k in 0..count {
                let (mine, name) = brand_level(&per_brand[bi], lvl, k);
                let (theirs, _) = brand_level(&per_brand[r_idx], lvl, k);
                let mut push =
                    |metric: Metric,
                     est: (f64, u64),
                     reference_est: (f64, u64),
                     cmp: Option<(f64, Option<Interval>, f64)>| {
                        let (difference, ci, p_value) = cmp.unwrap_or((f64::NAN, None, f64::NAN));
                        diffs.push(BrandDifference {
                            level: lvl,
                            name: name.clone(),
                            brand: b.clone(),
                            metric,
                            estimate: est.0,
                            reference_estimate: reference_est.0,
                            n: est.1,
                            reference_n: reference_est.1,
                            difference,
                            ci,
                            p_value,
                            p_adjusted: f64::NAN,
                        });
                    };
                if let (Some(a), Some(r)) = (&mine.nps[k], &theirs.nps[k]) {
                    let c = (a.undefined.is_none() && r.undefined.is_none())
                        .then(|| compare_nps(a, r, options.nps_method))
                        .transpose()?
                        .map(|c| (c.difference, c.ci(level).ok(), c.p_value));
                    push(Metric::Nps, (a.score, a.n), (r.score, r.n), c);
                }
                if let (Some(a), Some(r)) = (&mine.csat[k], &theirs.csat[k]) {
                    let c = (a.undefined.is_none() && r.undefined.is_none())
                        .then(|| compare_csat(a, r, level))
                        .transpose()?
                        .map(|c| (c.difference, Some(c.interval), c.p_value));
                    push(
                        Metric::Csat,
                        (a.share_satisfied, a.n),
                        (r.share_satisfied, r.n),
                        c,
                    );
                }
                if let (Some(a), Some(r)) = (&mine.ces[k], &theirs.ces[k]) {
                    let c = (a.undefined.is_none() && r.undefined.is_none())
                        .then(|| compare_ces(a, r, level))
                        .transpose()?
                        .map(|c| (c.difference, Some(c.interval), c.p_value));
                    push(
                        Metric::CesAgree,
                        (a.share_agree, a.n),
                        (r.share_agree, r.n),
                        c,
                    );
                }
            }
        }
    }
    let p: Vec<f64> = diffs.iter().map(|d| d.p_value).collect();
    let adj = adjustment.adjust_finite(&p)?;
    for (d, a) in diffs.iter_mut().zip(adj) {
        d.p_adjusted = a;
    }
    Ok(BrandComparison {
        reference: reference.to_string(),
        adjustment,
        brands,
        scores: per_brand.into_iter().map(|p| p.0).collect(),
        differences: diffs,
    })
}

/// A brand's group results and the name of group `k` at `level`.
fn brand_level(
    p: &(TouchpointScores, GroupResults, GroupResults),
    level: Level,
    k: usize,
) -> (&GroupResults, String) {
    match level {
        Level::Touchpoint => (
            &p.1,
            p.0.touchpoints[k].touchpoint.clone().unwrap_or_default(),
        ),
        Level::Stage => (&p.2, p.0.stages[k].stage.clone()),
    }
}

#[cfg(test)]
mod tests;
