//! Pillar scores per respondent from survey items and their summaries per group: the core's
//! `PillarReport` as a Python class (scores as a 2-D numpy array, summaries through serde).

use cx_metrics::pillars::{PillarReport, SummaryOptions};
use cx_metrics::{Pillar, PillarItems};
use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;
use std::borrow::Cow;

use crate::arrays::contiguous;
use crate::errors::{invalid_argument, IntoPyResult};
use crate::serde_result::serde_pymethods;

/// Pillar scores from survey items (`names`, `columns`, and the pillar id each item measures), and
/// their summaries per group of the label columns `groups` (as `group_codes` takes them; all
/// respondents as `"all"` without), folded by the core's grouping engine; with `overall`, the
/// summaries of all respondents follow those of the groups.
#[pyfunction]
#[pyo3(signature = (names, columns, *, item_pillars, min, max, higher_is_better, min_answered, groups, weights, top_box, confidence_level, overall=false))]
#[allow(clippy::too_many_arguments)]
pub fn pillar_scores(
    py: Python<'_>,
    names: Vec<String>,
    columns: Vec<numpy::PyReadonlyArray1<'_, f64>>,
    item_pillars: Vec<String>,
    min: i32,
    max: i32,
    higher_is_better: bool,
    min_answered: usize,
    groups: Option<Vec<Bound<'_, PyAny>>>,
    weights: Option<numpy::PyReadonlyArray1<'_, f64>>,
    top_box: u32,
    confidence_level: f64,
    overall: bool,
) -> PyResult<PyPillarScores> {
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
    let scale = crate::scale_tally::scale(min, max, higher_is_better)?;
    let items = names
        .into_iter()
        .zip(&item_pillars)
        .map(|(n, p)| Ok((n, p.parse::<Pillar>().py()?)))
        .collect::<PyResult<Vec<_>>>()?;
    let items = PillarItems::new(scale, items, min_answered).py()?;
    let columns: Vec<Cow<'_, [f64]>> = columns.iter().map(contiguous).collect();
    let weights = weights.as_ref().map(contiguous);
    let options = SummaryOptions {
        top_box,
        confidence_level,
    };
    let specs = groups
        .map(|g| {
            g.iter()
                .map(crate::groups::parse)
                .collect::<PyResult<Vec<_>>>()
        })
        .transpose()?;
    let scores = py
        .detach(|| {
            let slices: Vec<&[f64]> = columns.iter().map(AsRef::as_ref).collect();
            items.score(&slices)
        })
        .py()?;
    let w = weights.as_deref();
    let (summaries, labels) = match &specs {
        Some(specs) => {
            let n = scores.n_respondents as usize;
            crate::groups::with_grouping(py, specs, n, |g| {
                let mut summaries = scores.summarize_groups(g, w, options)?;
                if overall {
                    summaries.extend(scores.summarize(w, options)?);
                }
                Ok((summaries, g.labels().to_vec()))
            })?
        }
        None => (py.detach(|| scores.summarize(w, options)).py()?, Vec::new()),
    };
    let inner = PillarReport::new(scores, summaries, labels);
    Ok(PyPillarScores { inner })
}

/// Pillar scores per respondent and their summaries (the core's `PillarReport`).
#[pyclass(module = "cx_metrics._native", name = "PillarScores", frozen)]
pub struct PyPillarScores {
    inner: PillarReport,
}

serde_pymethods!(
    PyPillarScores,
    PillarReport,
    |inner| PyPillarScores { inner },
    {
        /// The measured pillars' ids, in model order.
        #[getter]
        fn pillars(&self) -> Vec<&'static str> {
            self.inner.scores.pillars.iter().map(|p| p.id()).collect()
        }
        #[getter]
        fn n_respondents(&self) -> u64 {
            self.inner.scores.n_respondents
        }
        /// Respondents without a score, per pillar (in `pillars` order).
        #[getter]
        fn n_unscored(&self) -> Vec<u64> {
            self.inner.scores.n_unscored.clone()
        }
        /// The scores, one row per pillar (in `pillars` order), one column per respondent; NaN where
        /// the respondent is unscored.
        #[getter]
        fn scores<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
            let s = &self.inner.scores;
            let n = s.n_respondents as usize;
            let flat: Vec<f64> = s
                .scores
                .iter()
                .flat_map(|col| col.iter().map(|v| v.unwrap_or(f64::NAN)))
                .collect();
            let rows = s.scores.len();
            PyArray1::from_vec(py, flat).reshape([rows, n])
        }
        /// The labels of each group, in order, as tuples (one label per `by` column; empty without
        /// groups).
        #[getter]
        fn labels<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, pyo3::types::PyTuple>>> {
            crate::groups::labels_py(py, &self.inner.labels)
        }
        /// The summaries per group and pillar, as dicts (the core's field names).
        #[getter]
        fn summaries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            Ok(pythonize::pythonize(py, &self.inner.summaries)?)
        }
    }
);
