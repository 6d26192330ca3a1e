//! Driver analysis: the core's `DriverAnalysis` as a Python class, with the options as typed classes.
//!
//! `driver_analysis` takes the converted columns (`outcome`, driver `names` and `columns`, optional
//! `weights`, all float64 with NaN for missing) and a [`PyDriverOptions`], runs the core with the GIL
//! released and returns a [`PyDriverAnalysis`]: the core's result, plus the columns it was computed
//! from, kept in memory (never serialised, never pickled) for the methods that need rows (bootstrap,
//! the performance axis of the matrix, what-if). A result restored from JSON or a pickle has no rows;
//! `with_rows` gives it them again.

use cx_metrics::drivers::bootstrap::BootstrapInterval;
use cx_metrics::drivers::matrix::importance_performance_with_bootstrap;
use cx_metrics::drivers::matrix::{
    AnalysedSample, CutLine, MatrixOptions, Performance, RatedDriver,
};
use cx_metrics::drivers::whatif::{Binning, Scenario, Shift};
use cx_metrics::drivers::{
    BootstrapOptions, ColumnScale, DriverAnalysis, DriverOptions, MissingCodes, MissingPolicy,
    OutcomeScale,
};
use cx_metrics::{Design, DriverGroup, ImportanceMeasure, Interval, PValueAdjustment, Pillar};
use std::borrow::Cow;

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::contiguous;
use crate::columns::{float_column, ColumnSlices, ColumnView, NumericColumn};
use crate::driver_results::{PyDriverBootstrap, PyImportancePerformance, PyWhatIf};
use crate::errors::{invalid_argument, to_py, IntoPyResult};
use crate::scale_tally::scale;
use crate::serde_result::serde_pymethods;

/// The options of a driver analysis, checked when built.
#[pyclass(module = "cx_metrics._native", name = "DriverOptions", frozen)]
#[derive(Clone)]
pub struct PyDriverOptions {
    pub(crate) inner: DriverOptions,
}

#[pymethods]
impl PyDriverOptions {
    #[new]
    #[pyo3(signature = (*, outcome, missing, indicator_for, always, groups, confidence_level, covariance = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        outcome: String,
        missing: &str,
        indicator_for: Vec<String>,
        always: Vec<String>,
        groups: Vec<PyRef<'_, PyDriverGroup>>,
        confidence_level: f64,
        covariance: Option<&str>,
    ) -> PyResult<Self> {
        let missing: MissingPolicy = missing.parse().py()?;
        let mut inner = DriverOptions::default()
            .with_outcome(outcome)
            .with_missing(missing)
            .with_always(&always)
            .with_confidence_level(confidence_level);
        inner.indicator_for = indicator_for;
        inner.covariance = covariance
            .map(str::parse::<cx_metrics::CovarianceType>)
            .transpose()
            .py()?;
        for g in groups {
            inner = inner.with_group(g.inner.clone());
        }
        Ok(Self { inner })
    }

    #[getter]
    fn outcome(&self) -> &str {
        &self.inner.outcome
    }

    /// The same options with the declared scales and missing codes: `outcome_scale` is `"auto"`
    /// (0–10 for `ltr`, unchecked otherwise), `None` (unchecked) or `(min, max)`; `scales` holds
    /// `(driver, min, max)`, `missing_codes` `(column, codes)`; `check_codes`: whether drivers
    /// without a declared scale are checked for "don't know" codes.
    #[pyo3(signature = (*, outcome_scale, scales, missing_codes, check_codes=true))]
    fn declare(
        &self,
        outcome_scale: Option<Bound<'_, PyAny>>,
        scales: Vec<(String, f64, f64)>,
        missing_codes: Vec<(String, Vec<f64>)>,
        check_codes: bool,
    ) -> PyResult<Self> {
        let outcome_scale = match outcome_scale {
            None => OutcomeScale::Unchecked,
            Some(s) => match s.extract::<String>() {
                Ok(word) if word == "auto" => OutcomeScale::Auto,
                Ok(word) => {
                    return Err(invalid_argument(
                        "outcome_scale",
                        format!("{word:?}; give (min, max), \"auto\" or None"),
                    ))
                }
                Err(_) => {
                    let (min, max): (f64, f64) = s.extract().map_err(|_| {
                        invalid_argument("outcome_scale", "give (min, max), \"auto\" or None")
                    })?;
                    OutcomeScale::Range { min, max }
                }
            },
        };
        let mut inner = self
            .inner
            .clone()
            .with_outcome_scale(outcome_scale)
            .with_code_check(check_codes);
        inner.scales = scales
            .into_iter()
            .map(|(c, min, max)| ColumnScale::new(c, min, max))
            .collect();
        inner.missing_codes = missing_codes
            .into_iter()
            .map(|(c, codes)| MissingCodes::new(c, &codes))
            .collect();
        Ok(Self { inner })
    }
}

/// Drivers ranked as one unit: `DriverGroup(name, members)`.
#[pyclass(module = "cx_metrics._native", name = "DriverGroup", frozen)]
pub struct PyDriverGroup {
    inner: DriverGroup,
}

#[pymethods]
impl PyDriverGroup {
    #[new]
    fn new(name: String, members: Vec<String>) -> Self {
        Self {
            inner: DriverGroup::new(name, &members),
        }
    }
}

/// A driver's rating scale and top box, for the matrix and the what-if simulation.
#[pyclass(module = "cx_metrics._native", name = "DriverScale", frozen)]
pub struct PyDriverScale {
    min: i32,
    max: i32,
    higher_is_better: bool,
    top_box: u32,
}

#[pymethods]
impl PyDriverScale {
    #[new]
    #[pyo3(signature = (*, min, max, higher_is_better, top_box))]
    fn new(min: i32, max: i32, higher_is_better: bool, top_box: u32) -> Self {
        Self {
            min,
            max,
            higher_is_better,
            top_box,
        }
    }
}

/// How a driver's ratings change in a what-if scenario.
#[pyclass(module = "cx_metrics._native", name = "Shift", frozen)]
pub struct PyShift {
    inner: Shift,
}

#[pymethods]
impl PyShift {
    /// Every rating moves `delta` points toward the best end.
    #[staticmethod]
    fn all(delta: f64) -> Self {
        Self {
            inner: Shift::All(delta),
        }
    }
    /// Ratings worse than `threshold` move `delta` points toward the best end.
    #[staticmethod]
    fn below(threshold: f64, delta: f64) -> Self {
        Self {
            inner: Shift::Below { threshold, delta },
        }
    }
    /// Lift the lowest-rated respondents into the top box until its share reaches `share`.
    #[staticmethod]
    fn top_box_target(share: f64) -> Self {
        Self {
            inner: Shift::TopBoxTarget { share },
        }
    }
}

/// A cut line of the matrix: `"mean"`, `"median"` or a number.
#[derive(FromPyObject)]
pub enum Cut {
    Value(f64),
    Word(String),
}

impl Cut {
    fn line(self) -> PyResult<CutLine> {
        match self {
            Self::Value(v) => Ok(CutLine::Value(v)),
            Self::Word(w) => w.parse().py(),
        }
    }
}

/// The columns a result was computed from, kept in memory only: references to the caller's arrays
/// of any numeric width (with their masks), never copies and never serialised.
pub(crate) struct Rows {
    y: NumericColumn,
    names: Vec<String>,
    columns: Vec<NumericColumn>,
    weights: Option<Py<PyArray1<f64>>>,
}

impl Rows {
    /// The rows of `y` (named `outcome`), the driver `columns` and `weights`, each a numpy array of
    /// any numeric width or a masked array (see [`NumericColumn::new`]); weights as float64.
    pub(crate) fn new(
        outcome: &str,
        y: &Bound<'_, PyAny>,
        names: Vec<String>,
        columns: &[Bound<'_, PyAny>],
        weights: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        if columns.len() != names.len() {
            return Err(invalid_argument(
                "drivers",
                format!("{} names for {} columns", names.len(), columns.len()),
            ));
        }
        let columns = names
            .iter()
            .zip(columns)
            .map(|(n, c)| NumericColumn::new(n, c))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Self {
            y: NumericColumn::new(outcome, y)?,
            names,
            columns,
            weights: weights
                .map(|w| float_column("weights", w))
                .transpose()?
                .map(Bound::unbind),
        })
    }

    /// Read-only views of the arrays, valid while the GIL is held by `py`.
    pub(crate) fn views<'py>(&self, py: Python<'py>) -> PyResult<Views<'py>> {
        Ok(Views {
            y: self.y.view(py)?,
            names: self.names.clone(),
            columns: self
                .columns
                .iter()
                .map(|c| c.view(py))
                .collect::<PyResult<_>>()?,
            weights: self
                .weights
                .as_ref()
                .map(|a| {
                    a.bind(py)
                        .try_readonly()
                        .map_err(|e| invalid_argument("weights", e))
                })
                .transpose()?,
        })
    }

    /// The rows with the declared missing codes of `options` turned into missing values (the core's
    /// [`declared_values`](cx_metrics::drivers::declared_values)), so that every method derived from
    /// the analysis reads the analysed values; the same rows when no code is declared.
    pub(crate) fn declared(self, py: Python<'_>, options: &DriverOptions) -> PyResult<Self> {
        if options.missing_codes.is_empty() {
            return Ok(self);
        }
        let (y, columns) = {
            let views = self.views(py)?;
            let data = views.data();
            let d = cx_metrics::drivers::declared_values(&data.y, &data.drivers(), options).py()?;
            let y = d.y.map(|v| NumericColumn::from_f64(py, v));
            let columns: Vec<Option<NumericColumn>> = d
                .drivers
                .into_iter()
                .map(|c| c.map(|v| NumericColumn::from_f64(py, v)))
                .collect();
            (y, columns)
        };
        Ok(Self {
            y: y.unwrap_or(self.y),
            names: self.names,
            columns: columns
                .into_iter()
                .zip(self.columns)
                .map(|(r, c)| r.unwrap_or(c))
                .collect(),
            weights: self.weights,
        })
    }

    /// The rows listed in `index` as new float64 arrays (a segment's rows).
    pub(crate) fn subset(&self, py: Python<'_>, index: &[usize]) -> PyResult<Self> {
        let views = self.views(py)?;
        let data = views.data();
        let take = |c: &[f64]| NumericColumn::from_f64(py, index.iter().map(|&i| c[i]).collect());
        Ok(Self {
            y: take(&data.y),
            names: self.names.clone(),
            columns: data.columns.iter().map(|c| take(c)).collect(),
            weights: data
                .weights
                .as_ref()
                .map(|w| PyArray1::from_vec(py, index.iter().map(|&i| w[i]).collect()).unbind()),
        })
    }
}

/// Read-only views of the kept arrays.
pub(crate) struct Views<'py> {
    y: ColumnView<'py>,
    names: Vec<String>,
    columns: Vec<ColumnView<'py>>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
}

impl Views<'_> {
    /// The columns as float64 with NaN for a missing value, converted now (borrowed when they are
    /// contiguous float64 already): for the computations that need float64 columns, when they run.
    pub(crate) fn data(&self) -> Data<'_> {
        Data {
            y: self.y.to_f64(),
            names: &self.names,
            columns: self.columns.iter().map(ColumnView::to_f64).collect(),
            weights: self.weights.as_ref().map(contiguous),
        }
    }

    /// The columns as slices of their own width (borrowed from the arrays when contiguous).
    pub(crate) fn slices(&self) -> Slices<'_> {
        Slices {
            y: self.y.slices(),
            names: &self.names,
            columns: self.columns.iter().map(ColumnView::slices).collect(),
            weights: self.weights.as_ref().map(contiguous),
        }
    }
}

/// The kept columns as slices of their own width, for the core to read without the GIL.
pub(crate) struct Slices<'a> {
    y: ColumnSlices<'a>,
    names: &'a [String],
    columns: Vec<ColumnSlices<'a>>,
    weights: Option<Cow<'a, [f64]>>,
}

impl Slices<'_> {
    /// The core's design of these columns (the outcome named `outcome`): no copy of the data.
    pub(crate) fn design<'s>(&'s self, outcome: &'s str) -> PyResult<Design<'s>> {
        Design::new(
            self.y.column(outcome),
            self.names
                .iter()
                .zip(&self.columns)
                .map(|(n, c)| c.column(n))
                .collect(),
            self.weights.as_deref(),
        )
        .py()
    }
}

/// The columns as float64 slices (NaN = missing), converted on demand from the kept arrays.
pub(crate) struct Data<'a> {
    pub(crate) y: Cow<'a, [f64]>,
    names: &'a [String],
    columns: Vec<Cow<'a, [f64]>>,
    pub(crate) weights: Option<Cow<'a, [f64]>>,
}

impl Data<'_> {
    pub(crate) fn drivers(&self) -> Vec<(&str, &[f64])> {
        self.names
            .iter()
            .zip(&self.columns)
            .map(|(n, c)| (n.as_str(), c.as_ref()))
            .collect()
    }

    fn rated(&self, scales: &[PyRef<'_, PyDriverScale>]) -> PyResult<Vec<RatedDriver<'_>>> {
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
            .map(|((n, c), s)| {
                RatedDriver::new(n, c, scale(s.min, s.max, s.higher_is_better)?, s.top_box).py()
            })
            .collect()
    }
}

/// The error of a method that needs the rows of a result that has none (restored from storage).
fn no_rows(what: &str) -> PyErr {
    invalid_argument(
        "rows",
        format!(
            "{what} needs the rows the analysis was computed from, and this result keeps none (rows \
             are never serialised: it was restored from JSON or a pickle); call \
             .with_data(data, weights=...) with the same data first"
        ),
    )
}

/// Driver analysis of the columns.
#[pyfunction]
#[pyo3(signature = (y, names, columns, weights, options))]
pub fn driver_analysis(
    py: Python<'_>,
    y: Bound<'_, PyAny>,
    names: Vec<String>,
    columns: Vec<Bound<'_, PyAny>>,
    weights: Option<Bound<'_, PyAny>>,
    options: PyRef<'_, PyDriverOptions>,
) -> PyResult<PyDriverAnalysis> {
    let rows = Rows::new(
        &options.inner.outcome,
        &y,
        names,
        &columns,
        weights.as_ref(),
    )?;
    let inner = {
        let views = rows.views(py)?;
        let slices = views.slices();
        let o = &options.inner;
        let design = slices.design(&o.outcome)?;
        py.detach(|| cx_metrics::driver_analysis_design(&design, o))
            .py()?
    };
    let rows = rows.declared(py, &inner.options)?;
    Ok(PyDriverAnalysis {
        inner,
        rows: Some(rows),
    })
}

/// The result of a driver analysis (the core's `DriverAnalysis`), with its rows kept in memory.
#[pyclass(module = "cx_metrics._native", name = "DriverAnalysis", frozen)]
pub struct PyDriverAnalysis {
    pub(crate) inner: DriverAnalysis,
    pub(crate) rows: Option<Rows>,
}

fn array<'py>(py: Python<'py>, v: impl IntoIterator<Item = f64>) -> Bound<'py, PyArray1<f64>> {
    PyArray1::from_iter(py, v)
}

serde_pymethods!(
    PyDriverAnalysis,
    DriverAnalysis,
    |inner| PyDriverAnalysis { inner, rows: None },
    {
        #[getter]
        fn outcome(&self) -> &str {
            &self.inner.outcome
        }
        #[getter]
        fn drivers(&self) -> Vec<String> {
            self.inner.drivers.clone()
        }
        #[getter]
        fn terms(&self) -> Vec<String> {
            self.inner.terms.clone()
        }
        #[getter]
        fn always(&self) -> Vec<String> {
            self.inner.always.clone()
        }
        /// The ranked units (drivers or groups).
        #[getter]
        fn units(&self) -> Vec<String> {
            self.inner.importance.names.clone()
        }
        #[getter]
        fn missing(&self) -> String {
            self.inner.missing.to_string()
        }
        #[getter]
        fn r_squared(&self) -> f64 {
            self.inner.r_squared
        }
        #[getter]
        fn adj_r_squared(&self) -> f64 {
            self.inner.adj_r_squared
        }
        #[getter]
        fn n(&self) -> u64 {
            self.inner.n
        }
        #[getter]
        fn effective_n(&self) -> f64 {
            self.inner.effective_n
        }
        #[getter]
        fn n_omitted(&self) -> usize {
            self.inner.n_omitted
        }

        /// Values recoded to missing per column with declared missing codes: `{column: n}`.
        #[getter]
        fn declared_missing(&self) -> Vec<(String, usize)> {
            self.inner
                .declared_missing
                .iter()
                .map(|d| (d.column.clone(), d.n))
                .collect()
        }

        /// R² of the `always` covariates alone, reported apart from the decomposed R².
        #[getter]
        fn r_squared_always(&self) -> f64 {
            self.inner.importance.r_squared_always
        }

        /// The outcome's checked range, `(min, max)`, or None when it was not checked.
        #[getter]
        fn outcome_scale(&self) -> Option<(f64, f64)> {
            self.inner.options.outcome_range()
        }
        #[getter]
        fn n_zero_weight(&self) -> u64 {
            self.inner.n_zero_weight
        }
        #[getter]
        fn confidence_level(&self) -> f64 {
            self.inner.confidence_level
        }
        #[getter]
        fn f_statistic(&self) -> f64 {
            self.inner.regression.f_statistic
        }
        #[getter]
        fn f_p_value(&self) -> f64 {
            self.inner.regression.f_p_value
        }
        #[getter]
        fn sigma(&self) -> f64 {
            self.inner.regression.sigma
        }
        /// `"classical"`, `"HC0"`, `"HC1"`, `"HC2"` or `"HC3"`: the regression table's standard errors.
        #[getter]
        fn covariance_type(&self) -> &'static str {
            self.inner.regression.covariance_type.as_str()
        }
        /// Why the standard errors are model-based where a sandwich was the default, or `None`.
        #[getter]
        fn covariance_note(&self) -> Option<String> {
            self.inner.regression.covariance_note.clone()
        }
        #[getter]
        fn top_driver(&self) -> Option<&str> {
            self.inner.top_driver()
        }
        /// Whether the rows are kept (false after a restore from JSON or a pickle).
        #[getter]
        fn has_rows(&self) -> bool {
            self.rows.is_some()
        }
        /// The warnings as dicts `{"kind": ..., **details}`.
        #[getter]
        fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            Ok(pythonize::pythonize(py, &self.inner.warnings)?)
        }
        /// VIF of each term, in `terms` order.
        #[getter]
        fn vif<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
            array(py, self.inner.vif.iter().copied())
        }
        /// Zero-order correlation of each term with the outcome, in `terms` order.
        #[getter]
        fn correlations<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
            array(py, self.inner.correlations.iter().copied())
        }
        /// The regression table, intercept first: `term` (list) and one array per figure.
        #[getter]
        fn coefficients<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
            let c = &self.inner.regression.coefficients;
            let d = PyDict::new(py);
            d.set_item(
                "term",
                c.iter().map(|c| c.term.as_str()).collect::<Vec<_>>(),
            )?;
            d.set_item("estimate", array(py, c.iter().map(|c| c.estimate)))?;
            d.set_item("std_error", array(py, c.iter().map(|c| c.std_error)))?;
            d.set_item("t", array(py, c.iter().map(|c| c.t)))?;
            d.set_item("p_value", array(py, c.iter().map(|c| c.p_value)))?;
            d.set_item("ci_low", array(py, c.iter().map(|c| c.ci.low)))?;
            d.set_item("ci_high", array(py, c.iter().map(|c| c.ci.high)))?;
            Ok(d)
        }
        /// The importance scores in R² units, one array per measure (in the core's order), then
        /// `lmg_share` (NaN when the shares are undefined) when LMG was computed.
        #[getter]
        fn importance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
            let d = PyDict::new(py);
            let units = self.inner.importance.names.len();
            for s in &self.inner.importance.scores {
                d.set_item(s.measure.to_string(), array(py, s.raw.iter().copied()))?;
            }
            if let Some(lmg) = self.inner.scores(ImportanceMeasure::Lmg) {
                let share = match &lmg.share {
                    Some(s) => array(py, s.iter().copied()),
                    None => array(py, std::iter::repeat_n(f64::NAN, units)),
                };
                d.set_item("lmg_share", share)?;
            }
            Ok(d)
        }

        /// The same result holding the rows again (`y`, the driver columns in `drivers` order, weights).
        #[pyo3(signature = (y, columns, weights))]
        fn with_rows(
            &self,
            py: Python<'_>,
            y: Bound<'_, PyAny>,
            columns: Vec<Bound<'_, PyAny>>,
            weights: Option<Bound<'_, PyAny>>,
        ) -> PyResult<Self> {
            let rows = Rows::new(
                &self.inner.outcome,
                &y,
                self.inner.drivers.clone(),
                &columns,
                weights.as_ref(),
            )?
            .declared(py, &self.inner.options)?;
            Ok(Self {
                inner: self.inner.clone(),
                rows: Some(rows),
            })
        }

        /// Bootstrap of the analysis on its rows, with the options it ran with.
        #[pyo3(signature = (*, n_resamples, seed, confidence_level, measures, adjustment))]
        fn bootstrap(
            &self,
            py: Python<'_>,
            n_resamples: usize,
            seed: u64,
            confidence_level: f64,
            measures: Vec<String>,
            adjustment: &str,
        ) -> PyResult<PyDriverBootstrap> {
            let rows = self.rows.as_ref().ok_or_else(|| no_rows("bootstrap()"))?;
            let adjustment: PValueAdjustment = adjustment.parse().py()?;
            let measures = measures
                .iter()
                .map(|m| m.parse().py())
                .collect::<PyResult<Vec<ImportanceMeasure>>>()?;
            let boot = BootstrapOptions::default()
                .with_resamples(n_resamples)
                .with_seed(seed)
                .with_confidence_level(confidence_level)
                .with_measures(&measures)
                .with_adjustment(adjustment);
            let views = rows.views(py)?;
            let data = views.data();
            let o = &self.inner.options;
            let inner = py
                .detach(|| {
                    cx_metrics::drivers::bootstrap(
                        &data.y,
                        &data.drivers(),
                        data.weights.as_deref(),
                        o,
                        &boot,
                    )
                })
                .py()?;
            Ok(PyDriverBootstrap { inner })
        }

        /// The importance–performance matrix: importance from this fitted analysis (no refit),
        /// performance from the kept driver columns. `intervals` are importance intervals
        /// `(low, high)` at `interval_level`, one per ranked driver; the performance intervals and
        /// the spread test are computed at that level too. With `bootstrap` (a bootstrap of this
        /// analysis) the importance intervals are read from it instead (`interval`: "percentile" or
        /// "bca").
        #[pyo3(signature = (scales, *, measure, share, performance, importance_cut, performance_cut, intervals, interval_level, bootstrap = None, interval = "percentile"))]
        #[allow(clippy::too_many_arguments)]
        fn matrix(
            &self,
            py: Python<'_>,
            scales: Vec<PyRef<'_, PyDriverScale>>,
            measure: &str,
            share: bool,
            performance: &str,
            importance_cut: Cut,
            performance_cut: Cut,
            intervals: Option<Vec<(f64, f64)>>,
            interval_level: f64,
            bootstrap: Option<PyRef<'_, PyDriverBootstrap>>,
            interval: &str,
        ) -> PyResult<PyImportancePerformance> {
            let rows = self.rows.as_ref().ok_or_else(|| no_rows("matrix()"))?;
            let measure: ImportanceMeasure = measure.parse().py()?;
            let performance: Performance = performance.parse().py()?;
            let intervals = intervals.map(|v| {
                v.into_iter()
                    .map(|(low, high)| Interval::new(low, high, interval_level))
                    .collect()
            });
            let m = MatrixOptions::default()
                .with_measure(measure, share)
                .with_performance(performance)
                .with_cuts(importance_cut.line()?, performance_cut.line()?)
                .with_intervals(intervals, None)
                .with_confidence_level(interval_level);
            let views = rows.views(py)?;
            let data = views.data();
            let rated = data.rated(&scales)?;
            let a = &self.inner;
            let interval: BootstrapInterval = interval.parse().py()?;
            let boot = bootstrap.as_ref().map(|b| &b.inner);
            let inner = py
                .detach(|| {
                    let sample = AnalysedSample::of(a, &data.y, &rated, data.weights.as_deref())?;
                    let (rated, weights) = match &sample {
                        Some(s) => (s.rated(&rated), s.weights.as_deref()),
                        None => (rated.clone(), data.weights.as_deref()),
                    };
                    match boot {
                        Some(b) => importance_performance_with_bootstrap(
                            a, &rated, weights, &m, b, interval,
                        ),
                        None => cx_metrics::drivers::importance_performance(a, &rated, weights, &m),
                    }
                    .map(|r| r.on_sample(sample.as_ref()))
                })
                .py()?;
            Ok(PyImportancePerformance { inner })
        }

        /// What-if simulation of the NPS on the kept rows (with a bootstrap interval when `n_resamples`
        /// is given).
        #[pyo3(signature = (scales, shifts, *, binning, n_resamples, seed, confidence_level))]
        #[allow(clippy::too_many_arguments)]
        fn what_if(
            &self,
            py: Python<'_>,
            scales: Vec<PyRef<'_, PyDriverScale>>,
            shifts: Vec<(String, PyRef<'_, PyShift>)>,
            binning: &str,
            n_resamples: Option<usize>,
            seed: u64,
            confidence_level: f64,
        ) -> PyResult<PyWhatIf> {
            let rows = self.rows.as_ref().ok_or_else(|| no_rows("what_if()"))?;
            let shifts: Vec<(String, Shift)> =
                shifts.iter().map(|(n, s)| (n.clone(), s.inner)).collect();
            let binning: Binning = binning.parse().py()?;
            let scenario = Scenario::new(&shifts).with_binning(binning);
            let views = rows.views(py)?;
            let data = views.data();
            let rated = data.rated(&scales)?;
            let a = &self.inner;
            let inner = py
                .detach(|| {
                    cx_metrics::drivers::what_if_of(
                        a,
                        &data.y,
                        &rated,
                        data.weights.as_deref(),
                        &scenario,
                        n_resamples.map(|b| (b, seed, confidence_level)),
                    )
                })
                .py()?;
            Ok(PyWhatIf { inner })
        }
    }
);

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
