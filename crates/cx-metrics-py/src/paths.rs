//! Paths from event logs (the core's `PathTally` and `PathResult`), new vs returning customers per
//! period and abandonment per stage (`activity`): conversion only.

use cx_metrics::activity::{
    abandonment as core_abandonment, new_vs_returning as core_new_vs_returning, Abandonment,
    Lookback, NewVsReturning,
};
use cx_metrics::cohorts::PeriodUnit;
use cx_metrics::groups::TimeUnit;
use cx_metrics::paths::{
    label_codes, label_keys, paths_by_group, PathEvents, PathResult, PathTally,
};
use cx_metrics::Accumulator;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::groups::{labels_py, parse, with_grouping, Held, Spec};
use crate::serde_result::serde_pymethods;
use crate::tally::state_pymethods;

/// Codes and names of a label spec (`u32::MAX`: missing).
fn codes_of(
    py: Python<'_>,
    spec: &Bound<'_, PyAny>,
    n: usize,
) -> PyResult<(Vec<u32>, Vec<String>)> {
    let spec = parse(spec)?;
    with_grouping(py, std::slice::from_ref(&spec), n, |g| Ok(label_codes(g)))
}

/// `i64` keys of a label spec (`i64::MIN`: missing).
fn keys_of(py: Python<'_>, spec: &Bound<'_, PyAny>, n: usize) -> PyResult<Vec<i64>> {
    let spec = parse(spec)?;
    with_grouping(py, std::slice::from_ref(&spec), n, |g| Ok(label_keys(g)))
}

/// Keys of a label spec: an int64 column without nulls read in place (its values are the keys, as
/// long as none is `i64::MIN`, the missing key), any other column numbered by the grouping engine.
enum Keys<'py> {
    Ints(PyReadonlyArray1<'py, i64>),
    Codes(Vec<i64>),
}

impl Keys<'_> {
    fn as_slice(&self) -> &[i64] {
        match self {
            Self::Ints(a) => a.as_slice().unwrap_or(&[]),
            Self::Codes(v) => v,
        }
    }
}

fn keys<'py>(py: Python<'py>, spec: &Bound<'py, PyAny>, n: usize) -> PyResult<Keys<'py>> {
    if let Spec::Int(Held::I64(a), None) = parse(spec)? {
        if a.as_slice()
            .is_ok_and(|s| s.len() == n && !s.contains(&i64::MIN))
        {
            return Ok(Keys::Ints(a));
        }
    }
    keys_of(py, spec, n).map(Keys::Codes)
}

/// Mergeable path counts (customers' events must each be in one partition).
#[pyclass(module = "cx_metrics._native", name = "PathTally", eq)]
#[derive(Clone, PartialEq)]
pub struct PyPathTally {
    pub(crate) inner: PathTally,
}

state_pymethods!(PyPathTally, PathTally, {
    #[new]
    #[pyo3(signature = (session_gap=None, max_steps=100))]
    fn new(session_gap: Option<i64>, max_steps: u32) -> PyResult<Self> {
        Ok(Self {
            inner: PathTally::new(session_gap, max_steps).py()?,
        })
    }

    /// The session gap, in nanoseconds (None: no split by gap).
    #[getter]
    fn session_gap(&self) -> Option<i64> {
        self.inner.session_gap()
    }

    /// The longest path counted as a variant.
    #[getter]
    fn max_steps(&self) -> u32 {
        self.inner.max_steps()
    }

    /// Fold events: integer customer ids (`i64::MIN` missing), events (a label spec), times (ns,
    /// `i64::MIN` missing) and optional sessions (a label spec).
    #[pyo3(signature = (customers, events, times, sessions=None))]
    fn fold(
        &mut self,
        py: Python<'_>,
        customers: PyReadonlyArray1<'_, i64>,
        events: Bound<'_, PyAny>,
        times: PyReadonlyArray1<'_, i64>,
        sessions: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let (c, t) = (contiguous(&customers), contiguous(&times));
        let (codes, names) = codes_of(py, &events, c.len())?;
        let sessions = sessions.map(|s| keys_of(py, &s, c.len())).transpose()?;
        let inner = &mut self.inner;
        py.detach(|| {
            inner.fold_batch(
                PathEvents {
                    customers: &c,
                    events: &codes,
                    names: &names,
                    times: &t,
                    sessions: sessions.as_deref(),
                },
                None,
            )
        })
        .py()
    }

    /// The paths of the events folded.
    fn result(&self) -> PyResult<PyPathResult> {
        Ok(PyPathResult {
            inner: self.inner.finish(&()).py()?,
        })
    }
});

/// Columns of text, counts and figures.
type Texts = Vec<String>;

/// Paths of an event log.
#[pyclass(module = "cx_metrics._native", name = "PathResult", frozen)]
pub struct PyPathResult {
    pub(crate) inner: PathResult,
}

serde_pymethods!(PyPathResult, PathResult, |inner| Self { inner }, {
    /// The `k` most frequent variants (all when None): steps, counts, shares.
    #[pyo3(signature = (k=None))]
    fn variants<'py>(
        &self,
        py: Python<'py>,
        k: Option<usize>,
    ) -> (
        Vec<Texts>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<f64>>,
    ) {
        let v = self.inner.top_variants(k.unwrap_or(usize::MAX));
        (
            v.iter().map(|x| x.steps.clone()).collect(),
            PyArray1::from_iter(py, v.iter().map(|x| x.count)),
            PyArray1::from_iter(py, v.iter().map(|x| x.share)),
        )
    }

    /// The transition matrix as columns: from, to, counts, probabilities.
    fn transitions<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Texts,
        Texts,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<f64>>,
    ) {
        let t = &self.inner.transitions;
        (
            t.iter().map(|x| x.from.clone()).collect(),
            t.iter().map(|x| x.to.clone()).collect(),
            PyArray1::from_iter(py, t.iter().map(|x| x.count)),
            PyArray1::from_iter(py, t.iter().map(|x| x.probability)),
        )
    }

    /// The directly-follows graph as columns: from, to, counts, median, min and max gaps.
    #[allow(clippy::type_complexity)]
    fn edges<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Texts,
        Texts,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u64>>,
    ) {
        let e = &self.inner.edges;
        (
            e.iter().map(|x| x.from.clone()).collect(),
            e.iter().map(|x| x.to.clone()).collect(),
            PyArray1::from_iter(py, e.iter().map(|x| x.count)),
            PyArray1::from_iter(py, e.iter().map(|x| x.median_gap)),
            PyArray1::from_iter(py, e.iter().map(|x| x.min_gap)),
            PyArray1::from_iter(py, e.iter().map(|x| x.max_gap)),
        )
    }

    /// The last events as columns: event, counts, shares.
    fn exits<'py>(
        &self,
        py: Python<'py>,
    ) -> (Texts, Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<f64>>) {
        let e = &self.inner.exits;
        (
            e.iter().map(|x| x.event.clone()).collect(),
            PyArray1::from_iter(py, e.iter().map(|x| x.count)),
            PyArray1::from_iter(py, e.iter().map(|x| x.share)),
        )
    }

    /// Sankey links over the first `depth` steps: source step, source, target, value.
    #[allow(clippy::type_complexity)]
    fn sankey<'py>(
        &self,
        py: Python<'py>,
        depth: u32,
    ) -> PyResult<(
        Bound<'py, PyArray1<u32>>,
        Texts,
        Texts,
        Bound<'py, PyArray1<u64>>,
    )> {
        let s = self.inner.sankey(depth).py()?;
        Ok((
            PyArray1::from_iter(py, s.iter().map(|x| x.source_step)),
            s.iter().map(|x| x.source.clone()).collect(),
            s.iter().map(|x| x.target.clone()).collect(),
            PyArray1::from_iter(py, s.iter().map(|x| x.value)),
        ))
    }

    /// The conventions of the figures, as one line.
    fn conventions(&self) -> String {
        self.inner.conventions()
    }
});

/// Paths of events: customers, events and optional sessions and groups (label specs), times (ns,
/// `i64::MIN` missing). Without `by`, one result; with it, (labels, result) per group.
#[pyfunction]
#[pyo3(signature = (customers, events, times, *, sessions=None, session_gap=None, max_steps=100, by=None))]
#[allow(clippy::too_many_arguments)]
pub fn paths<'py>(
    py: Python<'py>,
    customers: Bound<'py, PyAny>,
    events: Bound<'py, PyAny>,
    times: PyReadonlyArray1<'py, i64>,
    sessions: Option<Bound<'py, PyAny>>,
    session_gap: Option<i64>,
    max_steps: u32,
    by: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let t = contiguous(&times);
    let n = t.len();
    let c = keys(py, &customers, n)?;
    let (codes, names) = codes_of(py, &events, n)?;
    let sessions = sessions.map(|s| keys(py, &s, n)).transpose()?;
    let batch = PathEvents {
        customers: c.as_slice(),
        events: &codes,
        names: &names,
        times: &t,
        sessions: sessions.as_ref().map(Keys::as_slice),
    };
    match by {
        None => {
            let inner = py
                .detach(|| {
                    let mut s = PathTally::new(session_gap, max_steps)?;
                    s.fold_batch(batch, None)?;
                    s.finish(&())
                })
                .py()?;
            Ok(Bound::new(py, PyPathResult { inner })?.into_any())
        }
        Some(by) => {
            let spec = parse(&by)?;
            let (groups, labels) = with_grouping(py, std::slice::from_ref(&spec), n, |g| {
                Ok((g.codes(), g.labels().to_vec()))
            })?;
            let results = py
                .detach(|| {
                    paths_by_group(batch, &groups, labels.len(), session_gap, max_steps)?
                        .iter()
                        .map(|s| s.finish(&()))
                        .collect::<cx_metrics::Result<Vec<_>>>()
                })
                .py()?;
            let labels = labels_py(py, &labels)?;
            let items = labels
                .into_iter()
                .zip(results)
                .map(|(l, inner)| -> PyResult<Bound<'py, PyTuple>> {
                    PyTuple::new(
                        py,
                        [
                            l.into_any(),
                            Bound::new(py, PyPathResult { inner })?.into_any(),
                        ],
                    )
                })
                .collect::<PyResult<Vec<_>>>()?;
            Ok(pyo3::types::PyList::new(py, items)?.into_any())
        }
    }
}

/// New vs returning customers per calendar period.
#[pyclass(module = "cx_metrics._native", name = "NewVsReturning", frozen)]
pub struct PyNewVsReturning {
    pub(crate) inner: NewVsReturning,
}

serde_pymethods!(PyNewVsReturning, NewVsReturning, |inner| Self { inner }, {});

/// New vs returning customers per `period` from events: customer ids (a label spec) and times (ns,
/// `i64::MIN` missing); `lookback` periods (None: unbounded).
#[pyfunction]
#[pyo3(signature = (customers, times, *, period, lookback=None))]
pub fn new_vs_returning(
    py: Python<'_>,
    customers: Bound<'_, PyAny>,
    times: PyReadonlyArray1<'_, i64>,
    period: &str,
    lookback: Option<u32>,
) -> PyResult<PyNewVsReturning> {
    let period: PeriodUnit = period.parse().py()?;
    let lookback = lookback.map_or(Lookback::Unbounded, Lookback::Periods);
    let t = contiguous(&times);
    let spec = parse(&customers)?;
    let inner = with_grouping(py, std::slice::from_ref(&spec), t.len(), |g| {
        let (codes, n, missing) = cx_metrics::customers::customer_codes(g);
        core_new_vs_returning(&codes, n, missing, &t, TimeUnit::Ns, period, lookback)
    })?;
    Ok(PyNewVsReturning { inner })
}

/// Abandonment at each stage.
#[pyclass(module = "cx_metrics._native", name = "Abandonment", frozen)]
pub struct PyAbandonment {
    pub(crate) inner: Abandonment,
}

serde_pymethods!(PyAbandonment, Abandonment, |inner| Self { inner }, {});

/// Abandonment at each of `stages` (in order) from events: customer ids and events (label specs).
#[pyfunction]
#[pyo3(signature = (customers, events, n_rows, stages, *, confidence_level, stages_known=false))]
pub fn abandonment(
    py: Python<'_>,
    customers: Bound<'_, PyAny>,
    events: Bound<'_, PyAny>,
    n_rows: usize,
    stages: Vec<String>,
    confidence_level: f64,
    stages_known: bool,
) -> PyResult<PyAbandonment> {
    let spec = parse(&customers)?;
    let (codes, mut names) = codes_of(py, &events, n_rows)?;
    if stages_known {
        // The stages were checked against the whole log (this is a part of it): a stage without an
        // event here is a name no row uses, reached by no one.
        let absent: Vec<String> = stages
            .iter()
            .filter(|s| !names.contains(s))
            .cloned()
            .collect();
        names.extend(absent);
    }
    let inner = with_grouping(py, std::slice::from_ref(&spec), n_rows, |g| {
        let (c, n, missing) = cx_metrics::customers::customer_codes(g);
        core_abandonment(&c, n, missing, &codes, &names, &stages, confidence_level)
    })?;
    Ok(PyAbandonment { inner })
}
