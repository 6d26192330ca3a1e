//! What a promoter is worth: survey answers (0–10 likelihood to recommend) joined by customer to
//! what the same customers did afterwards — churn, revenue, lifetime value, time to churn — by NPS
//! category, with intervals and the differences between categories.
//!
//! **An association, not an experiment.** Promoters may spend more because they were richer or
//! longer-standing customers to begin with; "moving one detractor to promoter is worth X" is the
//! difference in mean value between the two groups as observed, not the effect of changing one
//! customer's mind. Every result says so.
//!
//! | figure | estimate | interval |
//! | --- | --- | --- |
//! | churn by category | churned / matched customers | Wilson |
//! | revenue, lifetime value by category | mean | Student's t |
//! | churn difference between categories | `p_a − p_b` | Newcombe (hybrid Wilson score) |
//! | value difference ("worth") | `mean_a − mean_b` | Welch's t (Welch–Satterthwaite df) |
//! | retention by category | Kaplan–Meier (churn the event, still active censored) | Greenwood, see [`survival`](crate::survival) |
//!
//! Ids come as integer codes shared by the two tables (the bindings code the labels once with the
//! grouping engine). A survey id answered twice and an outcome id listed twice are errors naming
//! both positions; survey answers without outcomes and outcomes without answers are counted and
//! reported; a missing score (NaN) is left out and counted.
//!
//! The joined rows are folded into the mergeable state
//! [`NpsValueTally`], which finishes into the figures: the
//! same state folds the joined rows of partitions apart and merges them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::intervals::Interval;
use crate::nps_value_tally::{JoinedRow, Measures, NpsValueTally, OutcomeRow};
use crate::scale::NpsCategory;
use crate::survival::KaplanMeier;

/// Survey answers: customer id codes and 0–10 scores (NaN: missing).
#[derive(Debug, Clone, Copy)]
pub struct SurveyRows<'a> {
    /// Customer id codes (below `n_ids`).
    pub ids: &'a [u32],
    /// Likelihood to recommend, integers 0–10 (NaN: missing, left out and counted).
    pub scores: &'a [f64],
}

/// What customers did afterwards, one row per customer; each column optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutcomeRows<'a> {
    /// Customer id codes (below `n_ids`).
    pub ids: &'a [u32],
    /// Churned by the end of the observation.
    pub churned: Option<&'a [bool]>,
    /// Revenue per customer over the observation.
    pub revenue: Option<&'a [f64]>,
    /// Lifetime value per customer.
    pub value: Option<&'a [f64]>,
    /// Time from the survey to churn (churned) or to the end of the observation (still active):
    /// the Kaplan–Meier curve per category (needs `churned`).
    pub durations: Option<&'a [f64]>,
}

/// A mean with its t interval.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeanFigure {
    /// Customers.
    pub n: u64,
    /// The mean.
    pub mean: f64,
    /// Standard deviation (NaN with one customer).
    #[serde(with = "crate::serde_nan")]
    pub sd: f64,
    /// Student's t interval (`None` with fewer than two customers).
    pub ci: Option<Interval>,
}

/// The figures of one NPS category.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryFigures {
    /// The category.
    pub category: NpsCategory,
    /// Matched customers in it.
    pub n: u64,
    /// Of them, churned.
    pub churned: Option<u64>,
    /// The share churned.
    pub churn: Option<f64>,
    /// Its Wilson interval.
    pub churn_ci: Option<Interval>,
    /// Revenue per customer.
    pub revenue: Option<MeanFigure>,
    /// Lifetime value per customer.
    pub value: Option<MeanFigure>,
}

/// A difference between two categories, `a − b`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// `"churn"`, `"revenue"` or `"value"`.
    pub measure: String,
    /// The category subtracted from.
    pub a: NpsCategory,
    /// The category subtracted.
    pub b: NpsCategory,
    /// `a − b`.
    pub difference: f64,
    /// Newcombe's interval (churn) or Welch's t interval (means); `None` when a group is too small.
    pub ci: Option<Interval>,
    /// `"newcombe"` or `"welch"`.
    pub method: String,
}

/// The value of promoters, passives and detractors.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromoterValue {
    /// Detractors, passives, promoters (in that order).
    pub categories: Vec<CategoryFigures>,
    /// Promoter − detractor, passive − detractor, promoter − passive, for each measure given.
    pub differences: Vec<Difference>,
    /// Kaplan–Meier curves (detractor, passive, promoter), when durations were given; `None` for a
    /// category without customers.
    pub retention: Option<Vec<Option<KaplanMeier>>>,
    /// Survey answers counted (with a score).
    pub n_survey: u64,
    /// Survey answers with a missing score, left out.
    pub n_missing_score: u64,
    /// Survey answers whose customer has no outcome row (left out).
    pub n_survey_unmatched: u64,
    /// Outcome rows whose customer did not answer (left out).
    pub n_outcomes_unmatched: u64,
    /// Confidence level of every interval.
    pub confidence_level: f64,
    /// What the figures are.
    pub note: String,
}

pub(crate) const NOTE: &str =
    "an association between the answers and what the customers did afterwards, not an \
                    experiment: the differences are between groups as observed, not the effect of \
                    changing a customer's answer";

fn check_column<T>(col: Option<&[T]>, n: usize, what: &'static str) -> Result<()> {
    match col {
        Some(c) if c.len() != n => Err(Error::LengthMismatch {
            what,
            left: n,
            right: c.len(),
        }),
        _ => Ok(()),
    }
}

fn check_values(col: Option<&[f64]>, name: &'static str, nonneg: bool) -> Result<()> {
    if let Some(c) = col {
        if let Some(i) = c
            .iter()
            .position(|v| !(v.is_finite() && (!nonneg || *v >= 0.0)))
        {
            return Err(Error::invalid(
                name,
                format!(
                    "{} at position {i} of the outcomes; give a finite value{} for every customer \
                     (drop the row if it is unknown)",
                    c[i],
                    if nonneg { " >= 0" } else { "" }
                ),
            ));
        }
    }
    Ok(())
}

fn check_ids(ids: &[u32], n_ids: usize, table: &'static str) -> Result<Vec<Option<usize>>> {
    let mut at = vec![None; n_ids];
    for (i, id) in ids.iter().enumerate() {
        let slot = at.get_mut(*id as usize).ok_or_else(|| {
            Error::invalid(
                "ids",
                format!("code {id} at position {i} of the {table}; codes lie below {n_ids}"),
            )
        })?;
        if let Some(first) = *slot {
            return Err(Error::invalid(
                "id",
                format!(
                    "the customer at position {i} of the {table} repeats position {first}; keep one \
                     row per customer (for the survey, e.g. the latest answer)"
                ),
            ));
        }
        *slot = Some(i);
    }
    Ok(at)
}

/// Join `survey` to `outcomes` by id code (`n_ids` distinct codes) and compute the figures.
pub fn promoter_value(
    survey: SurveyRows<'_>,
    outcomes: OutcomeRows<'_>,
    n_ids: usize,
    confidence_level: f64,
) -> Result<PromoterValue> {
    if survey.ids.len() != survey.scores.len() {
        return Err(Error::LengthMismatch {
            what: "survey ids and scores",
            left: survey.ids.len(),
            right: survey.scores.len(),
        });
    }
    let n_out = outcomes.ids.len();
    check_column(outcomes.churned, n_out, "outcome ids and churned")?;
    check_column(outcomes.revenue, n_out, "outcome ids and revenue")?;
    check_column(outcomes.value, n_out, "outcome ids and value")?;
    check_column(outcomes.durations, n_out, "outcome ids and durations")?;
    check_values(outcomes.revenue, "revenue", false)?;
    check_values(outcomes.value, "value", false)?;
    check_values(outcomes.durations, "durations", true)?;
    let measures = Measures {
        churned: outcomes.churned.is_some(),
        revenue: outcomes.revenue.is_some(),
        value: outcomes.value.is_some(),
        duration: outcomes.durations.is_some(),
    };
    measures.check()?;
    if let Some(i) = survey
        .scores
        .iter()
        .position(|s| !(s.is_nan() || (s.fract() == 0.0 && (0.0..=10.0).contains(s))))
    {
        return Err(Error::invalid(
            "scores",
            format!(
                "{} at position {i} of the survey; likelihood to recommend is an integer 0-10 (NaN: missing)",
                survey.scores[i]
            ),
        ));
    }
    let survey_at = check_ids(survey.ids, n_ids, "survey")?;
    let outcome_at = check_ids(outcomes.ids, n_ids, "outcomes")?;

    // The joined rows: every answer (with its customer's outcome row, if any), then the outcome
    // rows of customers who did not answer; folded and finished by the mergeable state.
    let outcome = |j: usize| OutcomeRow {
        churned: outcomes.churned.is_some_and(|c| c[j]),
        revenue: outcomes.revenue.map_or(f64::NAN, |c| c[j]),
        value: outcomes.value.map_or(f64::NAN, |c| c[j]),
        duration: outcomes.durations.map_or(f64::NAN, |c| c[j]),
    };
    let answers = survey.ids.iter().zip(survey.scores).map(|(&id, &score)| {
        Ok(JoinedRow {
            answer: Some(score),
            outcome: outcome_at[id as usize].map(outcome),
        })
    });
    let unanswered = outcome_at
        .iter()
        .zip(&survey_at)
        .filter_map(|(o, s)| match (o, s) {
            (Some(j), None) => Some(Ok(JoinedRow {
                answer: None,
                outcome: Some(outcome(*j)),
            })),
            _ => None,
        });
    let mut tally = NpsValueTally::new(measures)?;
    tally.fold_rows(answers.chain(unanswered))?;
    tally.promoter_value(confidence_level, None)
}

impl PromoterValue {
    /// The difference of `measure` between categories `a` and `b`, if computed.
    pub fn difference(&self, measure: &str, a: NpsCategory, b: NpsCategory) -> Option<&Difference> {
        self.differences
            .iter()
            .find(|d| d.measure == measure && d.a == a && d.b == b)
    }
}

fn name(c: NpsCategory) -> &'static str {
    match c {
        NpsCategory::Detractor => "detractor",
        NpsCategory::Passive => "passive",
        NpsCategory::Promoter => "promoter",
    }
}

impl fmt::Display for PromoterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = format!("{}%", 100.0 * self.confidence_level);
        let iv = |i: &Option<Interval>, scale: f64| match i {
            Some(i) => format!(
                " ({level} CI {:.2} to {:.2})",
                scale * i.low,
                scale * i.high
            ),
            None => String::new(),
        };
        // Customers with the measure in a category (a mean's own n, else the category's).
        let measured = |cat: NpsCategory, measure: &str| {
            self.categories
                .iter()
                .find(|c| c.category == cat)
                .map_or(0, |c| match measure {
                    "revenue" => c.revenue.as_ref().map_or(0, |m| m.n),
                    "value" => c.value.as_ref().map_or(0, |m| m.n),
                    _ => c.n,
                })
        };
        // Why an interval is missing: the categories with fewer than 2 customers (a mean's
        // interval needs a standard deviation).
        let why = |cats: &[NpsCategory], measure: &str| {
            let few: Vec<String> = cats
                .iter()
                .filter_map(|c| {
                    let n = measured(*c, measure);
                    (n < 2).then(|| format!("{n} in {}", name(*c)))
                })
                .collect();
            if few.is_empty() {
                String::from(" (no interval)")
            } else {
                format!(
                    " (no interval: fewer than 2 customers with {measure}: {})",
                    few.join(", ")
                )
            }
        };
        writeln!(
            f,
            "What a promoter is worth: {} matched answers ({} without an outcome, {} missing scores; {} outcomes without an answer left out)",
            self.categories.iter().map(|c| c.n).sum::<u64>(),
            self.n_survey_unmatched,
            self.n_missing_score,
            self.n_outcomes_unmatched
        )?;
        for c in &self.categories {
            let mut parts = vec![format!("{} n={}", name(c.category), c.n)];
            let or_why = |ci: &Option<Interval>, scale: f64, measure: &str| match ci {
                Some(_) => iv(ci, scale),
                None => why(&[c.category], measure),
            };
            if let Some(p) = c.churn {
                parts.push(format!(
                    "churn {:.1}%{}",
                    100.0 * p,
                    or_why(&c.churn_ci, 100.0, "churn")
                ));
            }
            if let Some(r) = &c.revenue {
                parts.push(format!(
                    "revenue {:.2}{}",
                    r.mean,
                    or_why(&r.ci, 1.0, "revenue")
                ));
            }
            if let Some(v) = &c.value {
                parts.push(format!(
                    "value {:.2}{}",
                    v.mean,
                    or_why(&v.ci, 1.0, "value")
                ));
            }
            writeln!(f, "  {}", parts.join(", "))?;
        }
        for d in &self.differences {
            let (scale, unit) = if d.measure == "churn" {
                (100.0, " points")
            } else {
                (1.0, "")
            };
            let lead = if d.measure == "churn" {
                format!("churn {} - {}", name(d.a), name(d.b))
            } else {
                format!(
                    "moving one {} to {} goes with {} of",
                    name(d.b),
                    name(d.a),
                    d.measure
                )
            };
            writeln!(
                f,
                "  {lead} {:+.2}{unit}{} [{}]",
                scale * d.difference,
                match d.ci {
                    Some(_) => iv(&d.ci, scale),
                    None => why(&[d.a, d.b], &d.measure),
                },
                d.method
            )?;
        }
        write!(f, "  Note: {}.", self.note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_against_hand_computation() {
        // Six customers answered; one answered twice is an error (below); customer 6 has no outcome,
        // customer 7 no answer.
        let ids = [0u32, 1, 2, 3, 4, 5, 6];
        let scores = [10.0, 9.0, 8.0, 3.0, 5.0, 0.0, 9.0];
        let out_ids = [0u32, 1, 2, 3, 4, 5, 7];
        let churned = [false, false, true, true, false, true, true];
        let revenue = [120.0, 100.0, 80.0, 20.0, 40.0, 30.0, 5.0];
        let r = promoter_value(
            SurveyRows {
                ids: &ids,
                scores: &scores,
            },
            OutcomeRows {
                ids: &out_ids,
                churned: Some(&churned),
                revenue: Some(&revenue),
                ..Default::default()
            },
            8,
            0.95,
        )
        .unwrap();
        assert_eq!((r.n_survey_unmatched, r.n_outcomes_unmatched), (1, 1));
        let [det, pas, pro] = [&r.categories[0], &r.categories[1], &r.categories[2]];
        assert_eq!((det.n, pas.n, pro.n), (3, 1, 2));
        assert_eq!(det.churn, Some(2.0 / 3.0));
        assert!((pro.revenue.as_ref().unwrap().mean - 110.0).abs() < 1e-12);
        assert!((det.revenue.as_ref().unwrap().mean - 30.0).abs() < 1e-12);
        let worth = r
            .difference("revenue", NpsCategory::Promoter, NpsCategory::Detractor)
            .unwrap();
        assert!((worth.difference - 80.0).abs() < 1e-12);
        // scipy.stats.ttest_ind([120, 100], [20, 40, 30], equal_var=False).confidence_interval(0.95)
        let ci = worth.ci.unwrap();
        assert!((ci.low - 20.23002551741628).abs() < 1e-9, "{ci:?}");
        assert!((ci.high - 139.76997448258373).abs() < 1e-9, "{ci:?}");
        assert!(r.to_string().contains("not an experiment"));
        // The one passive has no interval of its own nor in a difference, and the printout says why.
        let text = r.to_string();
        let passive = r
            .difference("revenue", NpsCategory::Promoter, NpsCategory::Passive)
            .unwrap();
        assert!(passive.ci.is_none() && pas.revenue.as_ref().unwrap().ci.is_none());
        assert!(
            text.contains("passive n=1")
                && text.contains("revenue 80.00 (no interval: fewer than 2 customers with revenue: 1 in passive)"),
            "{text}"
        );
        assert!(
            text.contains(
                "+30.00 (no interval: fewer than 2 customers with revenue: 1 in passive)"
            ),
            "{text}"
        );
        let dup = promoter_value(
            SurveyRows {
                ids: &[0, 1, 0],
                scores: &[1.0, 2.0, 3.0],
            },
            OutcomeRows {
                ids: &[0, 1],
                revenue: Some(&[1.0, 2.0]),
                ..Default::default()
            },
            2,
            0.95,
        )
        .unwrap_err();
        assert!(
            dup.to_string()
                .contains("position 2 of the survey repeats position 0"),
            "{dup}"
        );
        let bad = promoter_value(
            SurveyRows {
                ids: &[0],
                scores: &[11.0],
            },
            OutcomeRows {
                ids: &[0],
                revenue: Some(&[1.0]),
                ..Default::default()
            },
            1,
            0.95,
        )
        .unwrap_err();
        assert!(bad.to_string().contains("11 at position 0"), "{bad}");
    }
}
