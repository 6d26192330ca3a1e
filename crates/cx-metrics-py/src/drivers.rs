//! Driver analysis: the core's results cross to Python as JSON (serde), built into Python objects there.
//!
//! Every function takes the converted columns (`outcome`, driver `names` and `columns`, optional
//! `weights`, all float64 with NaN for missing) and the options as plain values, runs the core with the
//! GIL released, and returns the result serialised with `serde_json` (NaN and infinities become `null`).

use cx_metrics::drivers::matrix::{CutLine, MatrixOptions, Performance, RatedDriver};
use cx_metrics::drivers::whatif::{Binning, Scenario, Shift};
use cx_metrics::drivers::{BootstrapOptions, DriverOptions, MissingPolicy, Segments};
use cx_metrics::logistic::{LogisticOptions, NpsOutcome};
use cx_metrics::{DriverGroup, ImportanceMeasure, Interval, PValueAdjustment, Pillar};
use std::borrow::Cow;

use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use serde::Serialize;

use crate::arrays::contiguous;
use crate::errors::{invalid_argument, to_py, IntoPyResult};
use crate::scale_tally::scale;

/// The options of a driver analysis as Python passes them:
/// `(outcome, missing, indicator_for, always, groups, confidence_level)`, groups as `(name, members)`.
type Spec = (
    String,
    String,
    Vec<String>,
    Vec<String>,
    Vec<(String, Vec<String>)>,
    f64,
);

/// A driver's scale and top box as Python passes them: `(min, max, higher_is_better, top_box)`.
type ScaleSpec = (i32, i32, bool, u32);

/// The columns as slices, borrowed from the numpy arrays when contiguous (copied otherwise), so the
/// core runs without the GIL and without a copy of the data.
struct Data<'a> {
    y: Cow<'a, [f64]>,
    names: Vec<String>,
    columns: Vec<Cow<'a, [f64]>>,
    weights: Option<Cow<'a, [f64]>>,
}

/// Read-only views of the arrays Python passed, kept alive while [`Data`] borrows them.
struct Arrays<'py> {
    y: PyReadonlyArray1<'py, f64>,
    columns: Vec<PyReadonlyArray1<'py, f64>>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
}

impl<'py> Arrays<'py> {
    fn new(
        y: PyReadonlyArray1<'py, f64>,
        names: &[String],
        columns: Vec<PyReadonlyArray1<'py, f64>>,
        weights: Option<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<Self> {
        if names.len() != columns.len() {
            return Err(invalid_argument(
                "drivers",
                format!("{} names for {} columns", names.len(), columns.len()),
            ));
        }
        Ok(Self {
            y,
            columns,
            weights,
        })
    }

    fn data(&self, names: Vec<String>) -> Data<'_> {
        Data {
            y: contiguous(&self.y),
            names,
            columns: self.columns.iter().map(contiguous).collect(),
            weights: self.weights.as_ref().map(contiguous),
        }
    }
}

impl Data<'_> {
    fn drivers(&self) -> Vec<(&str, &[f64])> {
        self.names
            .iter()
            .zip(&self.columns)
            .map(|(n, c)| (n.as_str(), c.as_ref()))
            .collect()
    }

    fn rated(&self, scales: &[ScaleSpec]) -> PyResult<Vec<RatedDriver<'_>>> {
        if scales.len() != self.names.len() {
            return Err(invalid_argument(
                "scale",
                format!(
                    "{} scales for {} drivers; give one per driver",
                    scales.len(),
                    self.names.len()
                ),
            ));
        }
        self.names
            .iter()
            .zip(&self.columns)
            .zip(scales)
            .map(|((n, c), &(min, max, higher, top_box))| {
                RatedDriver::new(n, c, scale(min, max, higher)?, top_box).py()
            })
            .collect()
    }
}

fn options(spec: Spec) -> PyResult<DriverOptions> {
    let (outcome, missing, indicator_for, always, groups, confidence_level) = spec;
    let missing: MissingPolicy = missing.parse().py()?;
    let mut o = DriverOptions::default()
        .with_outcome(outcome)
        .with_missing(missing)
        .with_always(&always)
        .with_confidence_level(confidence_level);
    o.indicator_for = indicator_for;
    for (name, members) in groups {
        o = o.with_group(DriverGroup::new(name, &members));
    }
    Ok(o)
}

fn json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| invalid_argument("result", e))
}

fn measures(names: &[String]) -> PyResult<Vec<ImportanceMeasure>> {
    names.iter().map(|m| m.parse().py()).collect()
}

/// Driver analysis of the columns: the core's `DriverAnalysis` as JSON.
#[pyfunction]
#[pyo3(signature = (y, names, columns, weights, spec))]
pub fn driver_analysis_json(
    py: Python<'_>,
    y: PyReadonlyArray1<'_, f64>,
    names: Vec<String>,
    columns: Vec<PyReadonlyArray1<'_, f64>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    spec: Spec,
) -> PyResult<String> {
    let arrays = Arrays::new(y, &names, columns, weights)?;
    let data = arrays.data(names);
    let o = options(spec)?;
    let r = py
        .detach(|| {
            cx_metrics::driver_analysis(&data.y, &data.drivers(), data.weights.as_deref(), &o)
        })
        .py()?;
    json(&r)
}

/// Bootstrap of a driver analysis: the core's `DriverBootstrap` as JSON.
#[pyfunction]
#[pyo3(signature = (y, names, columns, weights, spec, n_resamples, seed, confidence_level, measures, adjustment))]
#[allow(clippy::too_many_arguments)]
pub fn driver_bootstrap_json(
    py: Python<'_>,
    y: PyReadonlyArray1<'_, f64>,
    names: Vec<String>,
    columns: Vec<PyReadonlyArray1<'_, f64>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    spec: Spec,
    n_resamples: usize,
    seed: u64,
    confidence_level: f64,
    measures: Vec<String>,
    adjustment: &str,
) -> PyResult<String> {
    let arrays = Arrays::new(y, &names, columns, weights)?;
    let data = arrays.data(names);
    let o = options(spec)?;
    let adjustment: PValueAdjustment = adjustment.parse().py()?;
    let boot = BootstrapOptions::default()
        .with_resamples(n_resamples)
        .with_seed(seed)
        .with_confidence_level(confidence_level)
        .with_measures(&self::measures(&measures)?)
        .with_adjustment(adjustment);
    let r = py
        .detach(|| {
            cx_metrics::drivers::bootstrap(
                &data.y,
                &data.drivers(),
                data.weights.as_deref(),
                &o,
                &boot,
            )
        })
        .py()?;
    json(&r)
}

/// The importance–performance matrix of a driver analysis of the columns, as JSON.
///
/// `view` is `(measure, share, performance, importance_cut, performance_cut)`; `intervals` optional
/// importance intervals `(low, high, confidence_level)`, one per ranked driver.
#[pyfunction]
#[pyo3(signature = (y, names, columns, weights, spec, scales, view, intervals))]
#[allow(clippy::too_many_arguments)]
pub fn driver_matrix_json(
    py: Python<'_>,
    y: PyReadonlyArray1<'_, f64>,
    names: Vec<String>,
    columns: Vec<PyReadonlyArray1<'_, f64>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    spec: Spec,
    scales: Vec<ScaleSpec>,
    view: (String, bool, String, String, String),
    intervals: Option<Vec<(f64, f64, f64)>>,
) -> PyResult<String> {
    let arrays = Arrays::new(y, &names, columns, weights)?;
    let data = arrays.data(names);
    let o = options(spec)?;
    let (measure, share, performance, importance_cut, performance_cut) = view;
    let measure: ImportanceMeasure = measure.parse().py()?;
    let performance: Performance = performance.parse().py()?;
    let cuts: (CutLine, CutLine) = (importance_cut.parse().py()?, performance_cut.parse().py()?);
    let intervals = intervals.map(|v| {
        v.into_iter()
            .map(|(low, high, level)| Interval::new(low, high, level))
            .collect()
    });
    let m = MatrixOptions::default()
        .with_measure(measure, share)
        .with_performance(performance)
        .with_cuts(cuts.0, cuts.1)
        .with_intervals(intervals, None);
    let rated = data.rated(&scales)?;
    let r = py
        .detach(|| {
            let w = data.weights.as_deref();
            let a = cx_metrics::driver_analysis(&data.y, &data.drivers(), w, &o)?;
            cx_metrics::drivers::importance_performance(&a, &rated, w, &m)
        })
        .py()?;
    json(&r)
}

/// A shift as Python passes it: `(driver, kind, a, b)` with kind `"all"` (a = delta), `"below"`
/// (a = threshold, b = delta) or `"top_box_target"` (a = share).
type ShiftSpec = (String, String, f64, f64);

fn shift((name, kind, a, b): &ShiftSpec) -> PyResult<(String, Shift)> {
    let s = match kind.as_str() {
        "all" => Shift::All(*a),
        "below" => Shift::Below {
            threshold: *a,
            delta: *b,
        },
        "top_box_target" => Shift::TopBoxTarget { share: *a },
        other => {
            return Err(invalid_argument(
                "shift",
                format!("{other:?}; use \"all\", \"below\" or \"top_box_target\""),
            ))
        }
    };
    Ok((name.clone(), s))
}

/// What-if simulation of the NPS (with a bootstrap interval when `n_resamples` is given), as JSON.
#[pyfunction]
#[pyo3(signature = (y, names, columns, weights, scales, shifts, binning, n_resamples, seed, confidence_level))]
#[allow(clippy::too_many_arguments)]
pub fn driver_what_if_json(
    py: Python<'_>,
    y: PyReadonlyArray1<'_, f64>,
    names: Vec<String>,
    columns: Vec<PyReadonlyArray1<'_, f64>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    scales: Vec<ScaleSpec>,
    shifts: Vec<ShiftSpec>,
    binning: &str,
    n_resamples: Option<usize>,
    seed: u64,
    confidence_level: f64,
) -> PyResult<String> {
    let arrays = Arrays::new(y, &names, columns, weights)?;
    let data = arrays.data(names);
    let rated = data.rated(&scales)?;
    let shifts = shifts.iter().map(shift).collect::<PyResult<Vec<_>>>()?;
    let binning: Binning = binning.parse().py()?;
    let scenario = Scenario::new(&shifts).with_binning(binning);
    let r = py
        .detach(|| {
            let w = data.weights.as_deref();
            match n_resamples {
                None => cx_metrics::drivers::what_if(&data.y, &rated, w, &scenario),
                Some(b) => cx_metrics::drivers::what_if_bootstrap(
                    &data.y,
                    &rated,
                    w,
                    &scenario,
                    b,
                    seed,
                    confidence_level,
                ),
            }
        })
        .py()?;
    json(&r)
}

/// Driver analysis per segment (`labels`, one per row), as JSON.
#[pyfunction]
#[pyo3(signature = (y, names, columns, weights, spec, labels))]
pub fn segment_driver_analysis_json(
    py: Python<'_>,
    y: PyReadonlyArray1<'_, f64>,
    names: Vec<String>,
    columns: Vec<PyReadonlyArray1<'_, f64>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    spec: Spec,
    labels: Vec<String>,
) -> PyResult<String> {
    let arrays = Arrays::new(y, &names, columns, weights)?;
    let data = arrays.data(names);
    let o = options(spec)?;
    let segments = Segments::from_labels(&labels);
    let r = py
        .detach(|| {
            cx_metrics::drivers::segment_driver_analysis(
                &data.y,
                &data.drivers(),
                data.weights.as_deref(),
                &segments,
                &o,
            )
        })
        .py()?;
    json(&r)
}

/// Logistic model of promoters or detractors (`target`) on the drivers, as JSON.
#[pyfunction]
#[pyo3(signature = (target, y, names, columns, weights, confidence_level))]
pub fn nps_model_json(
    py: Python<'_>,
    target: &str,
    y: PyReadonlyArray1<'_, f64>,
    names: Vec<String>,
    columns: Vec<PyReadonlyArray1<'_, f64>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    confidence_level: f64,
) -> PyResult<String> {
    let target: NpsOutcome = target.parse().py()?;
    let arrays = Arrays::new(y, &names, columns, weights)?;
    let data = arrays.data(names);
    let o = LogisticOptions {
        confidence_level,
        ..LogisticOptions::default()
    };
    let r = py
        .detach(|| {
            cx_metrics::nps_model(
                target,
                &data.y,
                &data.drivers(),
                data.weights.as_deref(),
                &o,
            )
        })
        .py()?;
    json(&r)
}

/// Pillar scores per respondent from survey items (`names`, `columns`, and the pillar id each item
/// measures), and their summaries per group (`groups`, one label per respondent; all respondents as
/// `"all"` without), as JSON: `{"scores": PillarScores, "summaries": [PillarSummary, ...]}`.
#[pyfunction]
#[pyo3(signature = (names, columns, item_pillars, scale, min_answered, groups, weights, top_box, confidence_level))]
#[allow(clippy::too_many_arguments)]
pub fn pillar_scores_json(
    py: Python<'_>,
    names: Vec<String>,
    columns: Vec<PyReadonlyArray1<'_, f64>>,
    item_pillars: Vec<String>,
    scale: (i32, i32, bool),
    min_answered: usize,
    groups: Option<Vec<String>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    top_box: u32,
    confidence_level: f64,
) -> PyResult<String> {
    if names.len() != columns.len() || names.len() != item_pillars.len() {
        return Err(invalid_argument(
            "items",
            format!(
                "{} names, {} columns and {} pillars; give one column and one pillar per item",
                names.len(),
                columns.len(),
                item_pillars.len()
            ),
        ));
    }
    let (min, max, higher) = scale;
    let scale = crate::scale_tally::scale(min, max, higher)?;
    let items = names
        .into_iter()
        .zip(&item_pillars)
        .map(|(n, p)| Ok((n, p.parse::<Pillar>().py()?)))
        .collect::<PyResult<Vec<_>>>()?;
    let items = cx_metrics::PillarItems::new(scale, items, min_answered).py()?;
    let columns: Vec<Cow<'_, [f64]>> = columns.iter().map(contiguous).collect();
    let weights = weights.as_ref().map(contiguous);
    let options = cx_metrics::pillars::SummaryOptions {
        top_box,
        confidence_level,
    };
    let out = py
        .detach(|| -> cx_metrics::Result<_> {
            let slices: Vec<&[f64]> = columns.iter().map(AsRef::as_ref).collect();
            let scores = items.score(&slices)?;
            let w = weights.as_deref();
            let summaries = match &groups {
                Some(g) => scores.summarize_by(g, w, options)?,
                None => scores.summarize(w, options)?,
            };
            Ok(serde_json::json!({ "scores": scores, "summaries": summaries }))
        })
        .py()?;
    json(&out)
}

/// The six pillars in model order: `(id, name, description, group)`.
#[pyfunction]
pub fn pillars() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    Pillar::ALL
        .iter()
        .map(|p| (p.id(), p.name(), p.description(), p.group().id()))
        .collect()
}

/// Raise the core's error for a column that is not numeric (`found` says what it holds).
#[pyfunction]
pub fn raise_non_numeric_column(column: &str, found: &str) -> PyResult<()> {
    Err(to_py(cx_metrics::drivers::non_numeric_column(
        column, found,
    )))
}

/// Raise the core's error for a column name that is not in the data.
#[pyfunction]
pub fn raise_unknown_column(column: &str, available: Vec<String>) -> PyResult<()> {
    Err(to_py(cx_metrics::Error::UnknownColumn {
        column: column.to_owned(),
        available: available.join(", "),
    }))
}
