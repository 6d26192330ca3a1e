//! Driver analysis per segment: the core's `SegmentAnalyses` as a Python class whose segments give
//! their `DriverAnalysis` (with the segment's rows when the whole result keeps its rows).

use cx_metrics::drivers::{BootstrapOptions, SegmentAnalyses, SegmentImportanceTest, Segments};
use cx_metrics::{ImportanceMeasure, PValueAdjustment};
use pyo3::prelude::*;

use crate::drivers::{PyDriverAnalysis, PyDriverOptions, Rows};
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;

/// Driver analysis per segment: the groups of the label columns `keys` (as `group_codes` takes them),
/// by the core's grouping engine.
#[pyfunction]
#[pyo3(signature = (y, names, columns, weights, options, keys, by, overall = false))]
#[allow(clippy::too_many_arguments)]
pub fn segment_driver_analysis(
    py: Python<'_>,
    y: Bound<'_, PyAny>,
    names: Vec<String>,
    columns: Vec<Bound<'_, PyAny>>,
    weights: Option<Bound<'_, PyAny>>,
    options: PyRef<'_, PyDriverOptions>,
    keys: Vec<Bound<'_, PyAny>>,
    by: Vec<String>,
    overall: bool,
) -> PyResult<PySegmentAnalyses> {
    let specs = keys
        .iter()
        .map(crate::groups::parse)
        .collect::<PyResult<Vec<_>>>()?;
    let rows = Rows::new(
        &options.inner.outcome,
        &y,
        names,
        &columns,
        weights.as_ref(),
    )?;
    let (inner, segments) = {
        let views = rows.views(py)?;
        let data = views.data();
        let segments =
            crate::groups::with_grouping(py, &specs, data.y.len(), Segments::from_grouping)?;
        let o = &options.inner;
        // Scales are checked on the whole input first, so that an error names the row there.
        cx_metrics::drivers::declared_values(&data.y, &data.drivers(), o).py()?;
        let mut inner = py
            .detach(|| {
                cx_metrics::drivers::segment_driver_analysis_with_overall(
                    &data.y,
                    &data.drivers(),
                    data.weights.as_deref(),
                    &segments,
                    o,
                    overall,
                )
            })
            .py()?;
        inner.by = by;
        (inner, segments)
    };
    Ok(PySegmentAnalyses {
        inner,
        kept: Some((rows, segments)),
    })
}

/// One segment made elsewhere: its name, rows, analysis (None when skipped) and why it was skipped.
type Part<'py> = (
    String,
    usize,
    Option<PyRef<'py, PyDriverAnalysis>>,
    Option<String>,
);

/// A driver analysis per segment (the core's `SegmentAnalyses`), with the rows kept in memory.
#[pyclass(module = "cx_metrics._native", name = "SegmentAnalyses", frozen)]
pub struct PySegmentAnalyses {
    inner: SegmentAnalyses,
    kept: Option<(Rows, Segments)>,
}

serde_pymethods!(
    PySegmentAnalyses,
    SegmentAnalyses,
    |inner| PySegmentAnalyses { inner, kept: None },
    {
        /// The segments' labels, in `segments` order, as tuples (one label per `by` column; empty for a
        /// result stored before segments had typed labels).
        #[getter]
        fn labels<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, pyo3::types::PyTuple>>> {
            crate::groups::labels_py(py, &self.inner.labels)
        }
        /// Analyses made elsewhere (the merged moments of each segment over partitions) as one
        /// result: per segment `(name, rows, analysis or None, why skipped or None)`, the segments'
        /// labels (tuples, one label per `by` column), the label columns' names, the analysis of all
        /// rows.
        #[staticmethod]
        #[pyo3(signature = (segments, labels, by, overall=None))]
        fn of_parts(
            segments: Vec<Part<'_>>,
            labels: Vec<Vec<Bound<'_, PyAny>>>,
            by: Vec<String>,
            overall: Option<PyRef<'_, PyDriverAnalysis>>,
        ) -> PyResult<Self> {
            let parts = segments
                .into_iter()
                .map(|(name, n_rows, analysis, reason)| {
                    let status = match analysis {
                        Some(a) => Ok(a.inner.clone()),
                        None => Err(reason.unwrap_or_default()),
                    };
                    (name, n_rows, status)
                })
                .collect();
            let labels = labels
                .iter()
                .map(|row| {
                    row.iter()
                        .map(crate::groups::to_label)
                        .collect::<PyResult<Vec<_>>>()
                })
                .collect::<PyResult<Vec<_>>>()?;
            let overall = overall.map(|a| a.inner.clone());
            let inner = SegmentAnalyses::from_parts(parts, labels, by, overall).py()?;
            Ok(Self { inner, kept: None })
        }
        /// The names of the label columns (empty when not stored).
        #[getter]
        fn by(&self) -> Vec<String> {
            self.inner.by.clone()
        }
        /// Every segment, in the order of the grouping rules, named by its labels as text.
        #[getter]
        fn segments(&self) -> Vec<String> {
            self.inner
                .segments
                .iter()
                .map(|s| s.segment.clone())
                .collect()
        }
        /// Rows labelled with each segment, in `segments` order.
        #[getter]
        fn n_rows(&self) -> Vec<usize> {
            self.inner.segments.iter().map(|s| s.n_rows).collect()
        }
        /// Why a segment was skipped (None when it was analysed), in `segments` order.
        #[getter]
        fn skipped(&self) -> Vec<Option<String>> {
            self.inner
                .segments
                .iter()
                .map(|s| match &s.status {
                    cx_metrics::drivers::SegmentStatus::Skipped { reason } => Some(reason.clone()),
                    _ => None,
                })
                .collect()
        }
        /// The analysis of all rows together (None when not asked for), holding every row when these
        /// are kept.
        #[getter]
        fn overall(&self, py: Python<'_>) -> PyResult<Option<PyDriverAnalysis>> {
            let Some(a) = &self.inner.overall else {
                return Ok(None);
            };
            let rows = match &self.kept {
                Some((rows, segments)) => {
                    let index: Vec<usize> = (0..segments.n_rows()).collect();
                    Some(rows.subset(py, &index)?)
                }
                None => None,
            };
            Ok(Some(PyDriverAnalysis {
                inner: (**a).clone(),
                rows,
            }))
        }
        /// The analysis of `segment` (None when skipped), holding the segment's rows when these are kept.
        fn analysis(&self, py: Python<'_>, segment: &str) -> PyResult<Option<PyDriverAnalysis>> {
            let Some(a) = self.inner.get(segment).and_then(|s| s.analysis()) else {
                return Ok(None);
            };
            let rows = match &self.kept {
                Some((rows, segments)) => {
                    let index = segments.rows(segment).unwrap_or_default();
                    Some(rows.subset(py, &index)?)
                }
                None => None,
            };
            Ok(Some(PyDriverAnalysis {
                inner: a.clone(),
                rows,
            }))
        }
        /// Driver by driver, whether importance differs between `segment` and `against` (another
        /// segment, or None for the rest of the rows): the core's bootstrap test, with the options the
        /// segments were analysed with.
        #[pyo3(signature = (segment, against, *, n_resamples, seed, confidence_level, measures, adjustment))]
        #[allow(clippy::too_many_arguments)]
        fn compare(
            &self,
            py: Python<'_>,
            segment: &str,
            against: Option<&str>,
            n_resamples: usize,
            seed: u64,
            confidence_level: f64,
            measures: Vec<String>,
            adjustment: &str,
        ) -> PyResult<PySegmentImportanceTest> {
            let (rows, segments) = self.kept.as_ref().ok_or_else(|| {
                crate::errors::invalid_argument(
                    "rows",
                    "this result was restored without its rows; run the segment analysis again to compare segments",
                )
            })?;
            let options = self
                .inner
                .segments
                .iter()
                .find_map(|s| s.analysis())
                .map(|a| a.options.clone())
                .ok_or_else(|| {
                    crate::errors::invalid_argument(
                        "segments",
                        "no segment was analysed, so there is nothing to compare",
                    )
                })?;
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
            let inner = py
                .detach(|| {
                    cx_metrics::drivers::segment_importance_test(
                        &data.y,
                        &data.drivers(),
                        data.weights.as_deref(),
                        segments,
                        segment,
                        against,
                        &options,
                        &boot,
                    )
                })
                .py()?;
            Ok(PySegmentImportanceTest { inner })
        }
    }
);

/// Whether importance differs between two groups of rows (the core's `SegmentImportanceTest`);
/// everything through `to_dict`.
#[pyclass(module = "cx_metrics._native", name = "SegmentImportanceTest", frozen)]
pub struct PySegmentImportanceTest {
    inner: SegmentImportanceTest,
}

serde_pymethods!(
    PySegmentImportanceTest,
    SegmentImportanceTest,
    |inner| PySegmentImportanceTest { inner },
    {
        #[getter]
        fn segment(&self) -> &str {
            &self.inner.segment
        }
        #[getter]
        fn against(&self) -> Option<&str> {
            self.inner.against.as_deref()
        }
    }
);
