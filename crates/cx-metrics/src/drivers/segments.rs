//! Driver analysis by segment (region, channel, customer tier), and whether a driver matters more in one
//! segment than in another.
//!
//! [`segment_driver_analysis`] runs the full [`driver_analysis`] on the rows of every segment in one
//! call. Each segment reports its number of rows, and either its analysis (with its own `n`,
//! `n_omitted` and warnings) or the reason it was skipped — an empty segment, too few complete rows, a
//! driver without variation in that segment. No segment disappears silently.
//!
//! [`segment_importance_test`] asks, driver by driver, whether an importance measure differs between a
//! segment and another segment or the rest of the rows. The two groups are independent samples, so each
//! is resampled on its own (a stratified bootstrap; Efron & Tibshirani 1993, §8.3, §16.2): replicate
//! `b` of each group uses its own ChaCha8 stream, and the difference of the two replicates' importances
//! is its bootstrap distribution. Per driver it reports the difference, its bootstrap standard error,
//! percentile interval and two-sided p-value `min(1, 2(1 + min(#{d* ≤ 0}, #{d* ≥ 0}))/(B + 1))`; the
//! p-values are adjusted across the drivers ([`PValueAdjustment`], Holm by default; Holm 1979).
//!
//! # References
//! - Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.
//! - Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal of
//!   Statistics* 6(2), 65–70.

use serde::{Deserialize, Serialize};

use super::bootstrap::{column, p_value_zero, BootstrapOptions, Engine};
use super::{data, driver_analysis, missing, DriverAnalysis, DriverOptions, MissingPolicy};
use crate::error::{Error, Result};
use crate::groups::Label;
use crate::importance::ImportanceMeasure;
use crate::intervals::Interval;
use crate::multiple::PValueAdjustment;
use crate::resample::quantile_sorted;

/// The segment of every row, and the segments' names (and typed labels, when they come from a
/// [`Grouping`](crate::groups::Grouping)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segments {
    names: Vec<String>,
    codes: Vec<usize>,
    #[serde(default)]
    labels: Vec<Vec<Label>>,
}

impl Segments {
    /// Segments from one integer code per row and the name of each code (code `c` is `names[c]`);
    /// a named segment without rows is kept (and reported as skipped by the analysis).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a code without a name, or a name given twice.
    pub fn from_codes<S: AsRef<str>>(codes: &[usize], names: &[S]) -> Result<Self> {
        let names: Vec<String> = names.iter().map(|s| s.as_ref().to_owned()).collect();
        for (i, a) in names.iter().enumerate() {
            if names[..i].contains(a) {
                return Err(Error::invalid(
                    "segments",
                    format!("segment name {a:?} is given twice"),
                ));
            }
        }
        if let Some((i, c)) = codes.iter().enumerate().find(|(_, &c)| c >= names.len()) {
            return Err(Error::invalid(
                "segments",
                format!(
                    "code {c} at row {i} has no name ({} names given, codes 0..{})",
                    names.len(),
                    names.len()
                ),
            ));
        }
        Ok(Self {
            names,
            codes: codes.to_vec(),
            labels: Vec::new(),
        })
    }

    /// Segments from a [`Grouping`](crate::groups::Grouping): its groups in its order (missing label
    /// last, unused categorical levels kept), each named by its labels as text (`" / "` between
    /// columns, `"(missing)"` for the missing label).
    ///
    /// ```
    /// use cx_metrics::drivers::Segments;
    /// use cx_metrics::groups::{Grouping, KeyColumn};
    /// let tier = [2.0, f64::NAN, 1.0, 2.0];
    /// let g = Grouping::new(vec![KeyColumn::from(&tier[..])], 4).unwrap();
    /// let s = Segments::from_grouping(&g).unwrap();
    /// assert_eq!(s.names(), ["1.0", "2.0", "(missing)"]);
    /// assert_eq!(s.rows("2.0"), Some(vec![0, 3]));
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when two groups read the same as text.
    pub fn from_grouping(grouping: &crate::groups::Grouping<'_>) -> Result<Self> {
        let names: Vec<String> = grouping
            .labels()
            .iter()
            .map(|ls| {
                ls.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
            .collect();
        let codes: Vec<usize> = grouping.codes().into_iter().map(|c| c as usize).collect();
        let mut segments = Self::from_codes(&codes, &names)?;
        segments.labels = grouping.labels().to_vec();
        Ok(segments)
    }

    /// The segments' typed labels (one per label column), when they come from a grouping.
    pub fn labels(&self) -> &[Vec<Label>] {
        &self.labels
    }

    /// The segments' names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of rows labelled.
    pub fn n_rows(&self) -> usize {
        self.codes.len()
    }

    /// The rows of segment `name`, if it exists.
    pub fn rows(&self, name: &str) -> Option<Vec<usize>> {
        let s = self.names.iter().position(|n| n == name)?;
        Some(self.rows_of(s))
    }

    fn rows_of(&self, s: usize) -> Vec<usize> {
        (0..self.codes.len())
            .filter(|&i| self.codes[i] == s)
            .collect()
    }

    fn find(&self, name: &str) -> Result<usize> {
        self.names.iter().position(|n| n == name).ok_or_else(|| {
            Error::invalid(
                "segment",
                format!("{name:?} not found; segments: {}", self.names.join(", ")),
            )
        })
    }
}

/// What happened to one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum SegmentStatus {
    /// The segment was analysed.
    Analysed {
        /// Its driver analysis.
        analysis: Box<DriverAnalysis>,
    },
    /// The segment could not be analysed.
    Skipped {
        /// Why (the error the analysis of its rows gave).
        reason: String,
    },
}

/// The analysis of one segment.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentAnalysis {
    /// The segment's name.
    pub segment: String,
    /// Rows labelled with the segment (before missing values are handled).
    pub n_rows: usize,
    /// Its analysis, or why it was skipped.
    pub status: SegmentStatus,
}

impl SegmentAnalysis {
    /// The analysis, if the segment was analysed.
    pub fn analysis(&self) -> Option<&DriverAnalysis> {
        match &self.status {
            SegmentStatus::Analysed { analysis } => Some(analysis),
            SegmentStatus::Skipped { .. } => None,
        }
    }
}

/// Driver analyses of every segment: plain data.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentAnalyses {
    /// One per segment, in the order of [`Segments::names`].
    pub segments: Vec<SegmentAnalysis>,
    /// Segments skipped.
    pub n_skipped: usize,
    /// The segments' typed labels, in order (one per label column), when the segments come from a
    /// [`Grouping`](crate::groups::Grouping); empty otherwise.
    #[serde(default)]
    pub labels: Vec<Vec<Label>>,
    /// The names of the label columns, as the caller gives them (empty when not given).
    #[serde(default)]
    pub by: Vec<String>,
    /// The analysis of all rows together (the same as [`driver_analysis`] of every row), when asked
    /// for ([`segment_driver_analysis_with_overall`]); `None` otherwise and in results stored without it
    /// (and then left out of the JSON, which stays that of a result without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall: Option<Box<DriverAnalysis>>,
}

impl SegmentAnalyses {
    /// Analyses made elsewhere, assembled as one result (the merged regression moments of each
    /// segment over partitions): per segment its name, rows, and its analysis or why it was skipped,
    /// in order; the segments' typed labels, the label columns' names and the analysis of all rows.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `labels` is not empty and not one per segment.
    pub fn from_parts(
        parts: Vec<(String, usize, std::result::Result<DriverAnalysis, String>)>,
        labels: Vec<Vec<Label>>,
        by: Vec<String>,
        overall: Option<DriverAnalysis>,
    ) -> Result<Self> {
        if !labels.is_empty() && labels.len() != parts.len() {
            return Err(Error::invalid(
                "labels",
                format!(
                    "{} labels for {} segments; give one per segment",
                    labels.len(),
                    parts.len()
                ),
            ));
        }
        let segments: Vec<SegmentAnalysis> = parts
            .into_iter()
            .map(|(segment, n_rows, analysis)| SegmentAnalysis {
                segment,
                n_rows,
                status: match analysis {
                    Ok(a) => SegmentStatus::Analysed {
                        analysis: Box::new(a),
                    },
                    Err(reason) => SegmentStatus::Skipped { reason },
                },
            })
            .collect();
        let n_skipped = segments.iter().filter(|s| s.analysis().is_none()).count();
        Ok(Self {
            segments,
            n_skipped,
            labels,
            by,
            overall: overall.map(Box::new),
        })
    }

    /// The analysis of segment `name`.
    pub fn get(&self, name: &str) -> Option<&SegmentAnalysis> {
        self.segments.iter().find(|s| s.segment == name)
    }
}

/// The columns restricted to some rows.
struct Subset {
    y: Vec<f64>,
    columns: Vec<Vec<f64>>,
    weights: Option<Vec<f64>>,
}

impl Subset {
    fn new(
        outcome: &[f64],
        drivers: &[(&str, &[f64])],
        weights: Option<&[f64]>,
        rows: &[usize],
    ) -> Self {
        let take = |c: &[f64]| rows.iter().map(|&i| c[i]).collect::<Vec<f64>>();
        Self {
            y: take(outcome),
            columns: drivers.iter().map(|(_, c)| take(c)).collect(),
            weights: weights.map(take),
        }
    }

    fn drivers<'a>(&'a self, drivers: &[(&'a str, &[f64])]) -> Vec<(&'a str, &'a [f64])> {
        drivers
            .iter()
            .zip(&self.columns)
            .map(|((n, _), c)| (*n, c.as_slice()))
            .collect()
    }
}

fn check_inputs(
    outcome: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    segments: &Segments,
    options: &DriverOptions,
) -> Result<()> {
    let finite = data::check_columns(&options.outcome, outcome, drivers, weights)?;
    let names: Vec<&str> = drivers.iter().map(|(n, _)| *n).collect();
    data::check_names(&names, options)?;
    if options.missing == MissingPolicy::Raise && !finite {
        // A missing value under "raise" is an error of the whole input, naming its row there (not a
        // segment skipped with the row's number within the segment).
        let cols = missing::Columns {
            outcome: &options.outcome,
            y: outcome,
            drivers,
            weights,
            finite,
        };
        missing::prepare(&cols, options.missing, &options.indicator_for)?;
    }
    if segments.n_rows() != outcome.len() {
        return Err(Error::LengthMismatch {
            what: "outcome and segment labels",
            left: outcome.len(),
            right: segments.n_rows(),
        });
    }
    Ok(())
}

/// The full driver analysis of every segment, in one call.
///
/// The inputs are those of [`driver_analysis`] plus the segment of every row. Every segment is
/// analysed exactly as [`driver_analysis`] would analyse its rows alone; a segment whose analysis fails
/// (no rows, too few complete rows, a driver constant within it, collinear drivers) is reported as
/// [`SegmentStatus::Skipped`] with the reason.
///
/// # Errors
/// Input errors that concern every segment (as [`driver_analysis`]: lengths, weights, names) and
/// [`Error::LengthMismatch`] when the segments do not label every row.
///
/// ```
/// use cx_metrics::drivers::{segment_driver_analysis, DriverOptions, Segments};
/// let ltr = [9.0, 7.0, 10.0, 4.0, 8.0, 6.0, 9.0, 3.0, 7.0, 10.0];
/// let ease = [6.0, 5.0, 7.0, 2.0, 5.0, 4.0, 7.0, 1.0, 4.0, 6.0];
/// let channel = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
/// let res = segment_driver_analysis(&ltr, &[("ease", &ease)], None,
///     &Segments::from_codes(&channel, &["web", "store"]).unwrap(), &DriverOptions::default()).unwrap();
/// assert_eq!(res.get("web").unwrap().analysis().unwrap().n, 6);
/// assert_eq!(res.n_skipped, 0);
/// ```
pub fn segment_driver_analysis(
    outcome: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    segments: &Segments,
    options: &DriverOptions,
) -> Result<SegmentAnalyses> {
    segment_driver_analysis_with_overall(outcome, drivers, weights, segments, options, false)
}

/// [`segment_driver_analysis`], and with `overall` also the analysis of all rows together
/// ([`SegmentAnalyses::overall`], the same as [`driver_analysis`] of every row), from the same
/// checked columns in the same call.
///
/// # Errors
/// Those of [`segment_driver_analysis`]; with `overall`, any error of the analysis of all rows (as
/// [`driver_analysis`] would give it: too few complete rows, a constant driver, ...).
///
/// ```
/// use cx_metrics::drivers::{driver_analysis, segment_driver_analysis_with_overall, DriverOptions, Segments};
/// let ltr = [9.0, 7.0, 10.0, 4.0, 8.0, 6.0, 9.0, 3.0, 7.0, 10.0];
/// let ease = [6.0, 5.0, 7.0, 2.0, 5.0, 4.0, 7.0, 1.0, 4.0, 6.0];
/// let channel = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
/// let seg = Segments::from_codes(&channel, &["web", "store"]).unwrap();
/// let o = DriverOptions::default();
/// let res = segment_driver_analysis_with_overall(&ltr, &[("ease", &ease)], None, &seg, &o, true).unwrap();
/// let all = driver_analysis(&ltr, &[("ease", &ease)], None, &o).unwrap();
/// assert_eq!(res.overall.as_deref(), Some(&all));
/// ```
pub fn segment_driver_analysis_with_overall(
    outcome: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    segments: &Segments,
    options: &DriverOptions,
    overall: bool,
) -> Result<SegmentAnalyses> {
    check_inputs(outcome, drivers, weights, segments, options)?;
    let overall = if overall {
        Some(Box::new(driver_analysis(
            outcome, drivers, weights, options,
        )?))
    } else {
        None
    };
    let results: Vec<SegmentAnalysis> = (0..segments.names.len())
        .map(|s| {
            let rows = segments.rows_of(s);
            let status = if rows.is_empty() {
                SegmentStatus::Skipped {
                    reason: "the segment has no rows".to_owned(),
                }
            } else {
                let sub = Subset::new(outcome, drivers, weights, &rows);
                match driver_analysis(
                    &sub.y,
                    &sub.drivers(drivers),
                    sub.weights.as_deref(),
                    options,
                ) {
                    Ok(a) => SegmentStatus::Analysed {
                        analysis: Box::new(a),
                    },
                    Err(e) => SegmentStatus::Skipped {
                        reason: e.to_string(),
                    },
                }
            };
            SegmentAnalysis {
                segment: segments.names[s].clone(),
                n_rows: rows.len(),
                status,
            }
        })
        .collect();
    Ok(SegmentAnalyses {
        n_skipped: results.iter().filter(|r| r.analysis().is_none()).count(),
        segments: results,
        labels: segments.labels.clone(),
        by: Vec::new(),
        overall,
    })
}

/// The difference of one driver's importance between two groups of rows.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentDifference {
    /// The driver (or group of drivers).
    pub driver: String,
    /// Its importance in the segment.
    pub segment_score: f64,
    /// Its importance in the comparison group.
    pub against_score: f64,
    /// `segment_score − against_score`.
    pub difference: f64,
    /// Bootstrap standard error of the difference.
    pub std_error: f64,
    /// Percentile interval of the difference.
    pub percentile: Interval,
    /// Two-sided bootstrap p-value of "no difference".
    pub p_value: f64,
    /// `p_value` adjusted across the drivers.
    pub p_adjusted: f64,
    /// Whether `p_adjusted ≤ 1 − confidence_level`.
    pub significant: bool,
}

/// The comparison of one measure between the groups.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentMeasureTest {
    /// The measure.
    pub measure: ImportanceMeasure,
    /// One per ranked driver (or group).
    pub drivers: Vec<SegmentDifference>,
}

/// The result of [`segment_importance_test`]: plain data.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentImportanceTest {
    /// The segment tested.
    pub segment: String,
    /// What it is compared with: another segment's name, or `None` for the rest of the rows.
    pub against: Option<String>,
    /// Rows resampled in the segment (complete, positive weight).
    pub n_segment: usize,
    /// Rows resampled in the comparison group.
    pub n_against: usize,
    /// Replicates drawn.
    pub n_resamples: usize,
    /// Replicates left out because either group could not be fitted.
    pub n_failed: usize,
    /// The seed.
    pub seed: u64,
    /// Confidence level of the intervals.
    pub confidence_level: f64,
    /// The multiplicity adjustment across drivers.
    pub adjustment: PValueAdjustment,
    /// One per measure of the bootstrap options.
    pub measures: Vec<SegmentMeasureTest>,
}

/// Test, driver by driver, whether importance differs between `segment` and `against` (another
/// segment) or, with `against = None`, the rest of the rows. See the module docs for the method.
///
/// # Errors
/// Those of [`segment_driver_analysis`]; [`Error::InvalidArgument`] for an unknown segment, a segment
/// compared with itself, no measure, or fewer than 2 replicates fitted; any error of the analysis of
/// either group (too few rows, a constant driver, ...).
///
/// ```
/// use cx_metrics::drivers::{segment_importance_test, BootstrapOptions, DriverOptions, Segments};
/// let ltr = [9.0, 7.0, 10.0, 4.0, 8.0, 6.0, 9.0, 3.0, 7.0, 10.0, 5.0, 8.0, 6.0, 9.0];
/// let ease = [6.0, 5.0, 7.0, 2.0, 5.0, 4.0, 7.0, 1.0, 4.0, 6.0, 3.0, 6.0, 2.0, 5.0];
/// let speed = [5.0, 6.0, 6.0, 3.0, 4.0, 5.0, 5.0, 2.0, 6.0, 7.0, 4.0, 4.0, 6.0, 6.0];
/// let tier: Vec<usize> = (0..14).map(|i| i % 2).collect();
/// let seg = Segments::from_codes(&tier, &["gold", "silver"]).unwrap();
/// let test = segment_importance_test(&ltr, &[("ease", &ease), ("speed", &speed)], None, &seg,
///     "gold", None, &DriverOptions::default(),
///     &BootstrapOptions::default().with_resamples(100)).unwrap();
/// assert_eq!(test.measures[0].drivers.len(), 2);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn segment_importance_test(
    outcome: &[f64],
    drivers: &[(&str, &[f64])],
    weights: Option<&[f64]>,
    segments: &Segments,
    segment: &str,
    against: Option<&str>,
    options: &DriverOptions,
    boot: &BootstrapOptions,
) -> Result<SegmentImportanceTest> {
    boot.check()?;
    check_inputs(outcome, drivers, weights, segments, options)?;
    if boot.measures.is_empty() {
        return Err(Error::invalid(
            "measures",
            "no importance measure to compare; request at least one (e.g. lmg)",
        ));
    }
    let s = segments.find(segment)?;
    let rows_a = segments.rows_of(s);
    let rows_b = match against {
        Some(name) => {
            let t = segments.find(name)?;
            if t == s {
                return Err(Error::invalid(
                    "against",
                    format!(
                        "{name:?} is the segment itself; compare with another segment or the rest"
                    ),
                ));
            }
            segments.rows_of(t)
        }
        None => (0..segments.n_rows())
            .filter(|&i| segments.codes[i] != s)
            .collect(),
    };
    let engine = |rows: &[usize]| {
        let sub = Subset::new(outcome, drivers, weights, rows);
        Engine::from_columns(
            &sub.y,
            &sub.drivers(drivers),
            sub.weights.as_deref(),
            options,
            &boot.measures,
        )
    };
    let (ea, eb) = (engine(&rows_a)?, engine(&rows_b)?);
    if ea.units != eb.units {
        return Err(Error::Incompatible(format!(
            "the segments rank different units ({} vs {})",
            ea.units.join(", "),
            eb.units.join(", ")
        )));
    }
    let (ta, tb) = (ea.estimate()?, eb.estimate()?);
    let ra = ea.replicates(boot.n_resamples, boot.seed, 1);
    let rb = eb.replicates(boot.n_resamples, boot.seed, 2);
    let pairs: Vec<(&Vec<f64>, &Vec<f64>)> = ra
        .iter()
        .zip(&rb)
        .filter_map(|(a, b)| Some((a.as_ref()?, b.as_ref()?)))
        .collect();
    if pairs.len() < 2 {
        return Err(Error::invalid(
            "n_resamples",
            format!(
                "only {} of {} paired replicates could be fitted; collect more rows per segment",
                pairs.len(),
                boot.n_resamples
            ),
        ));
    }
    let (pa, pb): (Vec<&Vec<f64>>, Vec<&Vec<f64>>) = pairs.iter().copied().unzip();
    let level = boot.confidence_level;
    let alpha = 1.0 - level;
    let mut measures = Vec::with_capacity(ea.measures.len());
    for (m, &measure) in ea.measures.iter().enumerate() {
        let off = ea.measure_offset(m);
        let mut out: Vec<SegmentDifference> = ea
            .units
            .iter()
            .enumerate()
            .map(|(u, name)| {
                let theta: Vec<f64> = column(&pa, off + u)
                    .iter()
                    .zip(column(&pb, off + u))
                    .map(|(x, y)| x - y)
                    .collect();
                let mean = theta.iter().sum::<f64>() / theta.len() as f64;
                let var = theta.iter().map(|t| (t - mean).powi(2)).sum::<f64>()
                    / (theta.len() - 1) as f64;
                let mut sorted = theta.clone();
                sorted.sort_by(f64::total_cmp);
                SegmentDifference {
                    driver: name.clone(),
                    segment_score: ta[off + u],
                    against_score: tb[off + u],
                    difference: ta[off + u] - tb[off + u],
                    std_error: var.sqrt(),
                    percentile: Interval::new(
                        quantile_sorted(&sorted, alpha / 2.0),
                        quantile_sorted(&sorted, 1.0 - alpha / 2.0),
                        level,
                    ),
                    p_value: p_value_zero(&theta),
                    p_adjusted: f64::NAN,
                    significant: false,
                }
            })
            .collect();
        let raw: Vec<f64> = out.iter().map(|d| d.p_value).collect();
        for (d, p) in out.iter_mut().zip(boot.adjustment.adjust(&raw)?) {
            d.p_adjusted = p;
            d.significant = p <= alpha;
        }
        measures.push(SegmentMeasureTest {
            measure,
            drivers: out,
        });
    }
    Ok(SegmentImportanceTest {
        segment: segment.to_owned(),
        against: against.map(str::to_owned),
        n_segment: ea.n,
        n_against: eb.n,
        n_resamples: boot.n_resamples,
        n_failed: boot.n_resamples - pairs.len(),
        seed: boot.seed,
        confidence_level: level,
        adjustment: boot.adjustment,
        measures,
    })
}
