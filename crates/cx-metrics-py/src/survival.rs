//! Service times: the `EventTable` state, its Kaplan–Meier result and the answered-only figures.

use cx_metrics::survival::{
    answered_summary as core_answered_summary, ConfType, Convention, EventTable, KaplanMeier,
    QuantileMethod, TicketCodes,
};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::interval_tuple;
use crate::tally::{result_pymethods, state_pymethods};

/// A band as numpy arrays (lower, upper).
type Band<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// A quantile as `(p, estimate, low, high)`; `None` where the curve does not reach it.
type QuantileTuple = (f64, Option<f64>, Option<f64>, Option<f64>);
/// (estimate, low, high, highest incidence, complete) of a quantile of a cumulative incidence.
type IncidenceQuantileTuple = (Option<f64>, Option<f64>, Option<f64>, f64, bool);
/// (standard error, lower, upper) at every time.
type IncidenceBand<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

/// The mergeable event table of waiting times (events, competing outcomes, censored per time).
#[pyclass(module = "cx_metrics._native", name = "EventTable", eq)]
#[derive(Clone, PartialEq)]
pub struct PyEventTable {
    pub(crate) inner: EventTable,
}

state_pymethods!(PyEventTable, EventTable, {
    #[new]
    #[pyo3(signature = (bin_width=None))]
    fn new(bin_width: Option<f64>) -> PyResult<Self> {
        let inner = match bin_width {
            Some(w) => EventTable::binned(w).py()?,
            None => EventTable::exact(),
        };
        Ok(Self { inner })
    }

    /// Fold float64 durations with their outcome codes (uint8: 0 open, 1 event, 2 competing),
    /// optionally weighted and with entry times (delayed entry); changes nothing on error.
    #[pyo3(signature = (durations, outcomes, weights=None, entries=None))]
    fn fold(
        &mut self,
        py: Python<'_>,
        durations: PyReadonlyArray1<'_, f64>,
        outcomes: PyReadonlyArray1<'_, u8>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
        entries: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let d = contiguous(&durations);
        let o = contiguous(&outcomes);
        let w = weights.as_ref().map(contiguous);
        let e = entries.as_ref().map(contiguous);
        let inner = &mut self.inner;
        py.detach(|| {
            let rows = TicketCodes::new(&d, &o);
            let rows = match e.as_deref() {
                Some(e) => rows.with_entries(e),
                None => rows,
            };
            inner.fold_codes(rows, w.as_deref())
        })
        .py()
    }

    /// One table per group (`codes` from the grouping engine, below `n_groups`), in one pass.
    #[pyo3(signature = (codes, n_groups, durations, outcomes, weights=None, entries=None))]
    #[allow(clippy::too_many_arguments)]
    fn by_group(
        &self,
        py: Python<'_>,
        codes: PyReadonlyArray1<'_, u32>,
        n_groups: usize,
        durations: PyReadonlyArray1<'_, f64>,
        outcomes: PyReadonlyArray1<'_, u8>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
        entries: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<Vec<Self>> {
        let c = contiguous(&codes);
        let d = contiguous(&durations);
        let o = contiguous(&outcomes);
        let w = weights.as_ref().map(contiguous);
        let e = entries.as_ref().map(contiguous);
        let inner = &self.inner;
        let tables = py
            .detach(|| {
                let rows = TicketCodes::new(&d, &o);
                let rows = match e.as_deref() {
                    Some(e) => rows.with_entries(e),
                    None => rows,
                };
                inner.by_group(&c, n_groups, rows, w.as_deref())
            })
            .py()?;
        Ok(tables.into_iter().map(|inner| Self { inner }).collect())
    }

    /// The bin width (`None`: exact times).
    #[getter]
    fn bin_width(&self) -> Option<f64> {
        self.inner.bin_width()
    }

    /// Rows of each outcome: (events, competing, censored).
    #[getter]
    fn totals(&self) -> (u64, u64, u64) {
        let t = self.inner.totals();
        (t[0], t[1], t[2])
    }

    /// Rows folded with an entry time (delayed entry).
    #[getter]
    fn n_entered(&self) -> u64 {
        self.inner.n_entered()
    }

    /// The Kaplan–Meier curve and cumulative incidences.
    fn result(&self, py: Python<'_>) -> PyResult<PyKaplanMeier> {
        let inner = &self.inner;
        let km = py.detach(|| inner.kaplan_meier()).py()?;
        Ok(PyKaplanMeier { inner: km })
    }

    fn __repr__(&self) -> String {
        let t = self.inner.totals();
        format!(
            "EventTable(n={}, events={}, competing={}, censored={}, times={})",
            t[0] + t[1] + t[2],
            t[0],
            t[1],
            t[2],
            self.inner.times().len()
        )
    }
});

/// The Kaplan–Meier curve of an event table, with Greenwood sums and Aalen–Johansen incidences.
#[pyclass(module = "cx_metrics._native", name = "KaplanMeier", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyKaplanMeier {
    pub(crate) inner: KaplanMeier,
}

fn array<'py>(py: Python<'py>, v: &[f64]) -> Bound<'py, PyArray1<f64>> {
    PyArray1::from_slice(py, v)
}

result_pymethods!(PyKaplanMeier, KaplanMeier, {
    /// Distinct times.
    #[getter]
    fn times<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array(py, &self.inner.times)
    }
    /// Tickets waiting just before each time.
    #[getter]
    fn at_risk<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array(py, &self.inner.at_risk)
    }
    /// Events at each time.
    #[getter]
    fn events<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array(py, &self.inner.events)
    }
    /// Competing outcomes at each time.
    #[getter]
    fn competing<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array(py, &self.inner.competing)
    }
    /// Censored tickets at each time.
    #[getter]
    fn censored<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array(py, &self.inner.censored)
    }
    /// S(t) after each time.
    #[getter]
    fn survival<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array(py, &self.inner.survival)
    }
    /// Greenwood standard errors of S.
    #[getter]
    fn std_error<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array(py, &self.inner.std_error())
    }
    /// Cumulative incidence of the event.
    #[getter]
    fn cif_event<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array(py, &self.inner.cif_event)
    }
    /// Cumulative incidence of the competing outcome.
    #[getter]
    fn cif_competing<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array(py, &self.inner.cif_competing)
    }
    /// Rows: (all, events, competing, censored).
    #[getter]
    fn counts(&self) -> (u64, u64, u64, u64) {
        let k = &self.inner;
        (k.n, k.n_events, k.n_competing, k.n_censored)
    }
    /// Whether the counts are weighted.
    #[getter]
    fn weighted(&self) -> bool {
        self.inner.weighted
    }
    /// Weight entering observation at each time (empty without delayed entry).
    #[getter]
    fn entered<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        array(py, &self.inner.entered)
    }
    /// Rows with an entry time (delayed entry; 0: all at risk from the start).
    #[getter]
    fn n_entered(&self) -> u64 {
        self.inner.n_entered
    }
    /// Whether rows entered late (left truncation: at risk when entry < t <= exit).
    #[getter]
    fn left_truncated(&self) -> bool {
        self.inner.left_truncated()
    }
    /// Times after which nobody was at risk although later rows entered and exited.
    #[getter]
    fn risk_set_gaps(&self) -> Vec<f64> {
        self.inner.risk_set_gaps.clone()
    }
    /// The pointwise band of S: (lower, upper).
    fn band<'py>(
        &self,
        py: Python<'py>,
        confidence_level: f64,
        conf_type: &str,
    ) -> PyResult<Band<'py>> {
        let ct: ConfType = conf_type.parse().py()?;
        let (lo, hi) = self.inner.band(confidence_level, ct).py()?;
        Ok((array(py, &lo), array(py, &hi)))
    }
    /// S at time t.
    fn survival_at(&self, t: f64) -> f64 {
        self.inner.survival_at(t)
    }
    /// The p quantile with its Brookmeyer–Crowley interval: (p, estimate, low, high).
    fn quantile(
        &self,
        p: f64,
        confidence_level: f64,
        conf_type: &str,
        convention: &str,
    ) -> PyResult<QuantileTuple> {
        let q = self
            .inner
            .quantile(
                p,
                confidence_level,
                conf_type.parse().py()?,
                convention.parse::<Convention>().py()?,
            )
            .py()?;
        Ok((q.p, q.estimate, q.low, q.high))
    }
    /// P(event within target) with its standard error and interval.
    fn within(
        &self,
        target: f64,
        confidence_level: f64,
        conf_type: &str,
    ) -> PyResult<(f64, f64, crate::IntervalTuple)> {
        let p = self
            .inner
            .within(target, confidence_level, conf_type.parse().py()?)
            .py()?;
        Ok((p.estimate, p.std_error, interval_tuple(p.interval)))
    }
    /// The `p` quantile of the time to the event from its Aalen–Johansen cumulative incidence:
    /// (estimate or None when the incidence stays below p, the highest incidence reached, whether
    /// every ticket had an outcome by the last time). `incidence_quantile_interval` gives its
    /// interval too.
    fn incidence_quantile(&self, p: f64, convention: &str) -> PyResult<(Option<f64>, f64, bool)> {
        let (estimate, _, _, reached, complete) =
            self.incidence_quantile_interval(p, 0.95, "log_log", convention)?;
        Ok((estimate, reached, complete))
    }
    /// The `p` quantile of the time to the event from its Aalen–Johansen cumulative incidence,
    /// with the interval that inverts the incidence's pointwise band: (estimate or None when the
    /// incidence stays below p, low, high (None: never reached within the data), the highest
    /// incidence reached, whether every ticket had an outcome by the last time).
    fn incidence_quantile_interval(
        &self,
        p: f64,
        confidence_level: f64,
        conf_type: &str,
        convention: &str,
    ) -> PyResult<IncidenceQuantileTuple> {
        let q = self
            .inner
            .incidence_quantile(
                p,
                confidence_level,
                conf_type.parse().py()?,
                convention.parse().py()?,
            )
            .py()?;
        Ok((q.estimate, q.low, q.high, q.max_incidence, q.complete))
    }
    /// The pointwise band of the event's cumulative incidence: (standard error, lower, upper).
    fn incidence_band<'py>(
        &self,
        py: Python<'py>,
        confidence_level: f64,
        conf_type: &str,
    ) -> PyResult<IncidenceBand<'py>> {
        let (se, lo, hi) = self
            .inner
            .incidence_band(confidence_level, conf_type.parse().py()?)
            .py()?;
        Ok((array(py, &se), array(py, &lo), array(py, &hi)))
    }
    /// The restricted mean to `horizon`: (estimate, standard error).
    fn restricted_mean(&self, horizon: f64) -> PyResult<(f64, f64)> {
        let r = self.inner.restricted_mean(horizon).py()?;
        Ok((r.estimate, r.std_error))
    }

    fn __repr__(&self) -> String {
        let k = &self.inner;
        let entered = if k.left_truncated() {
            format!(", entered={} (at risk when entry < t <= exit)", k.n_entered)
        } else {
            String::new()
        };
        format!(
            "KaplanMeier(n={}, events={}, competing={}, censored={}, times={}, weighted={}{entered})",
            k.n,
            k.n_events,
            k.n_competing,
            k.n_censored,
            k.times.len(),
            if k.weighted { "True" } else { "False" }
        )
    }
});

/// The answered-only figures: (n, mean, [(p, quantile)], (target, share) or None).
#[pyfunction]
#[pyo3(signature = (durations, quantiles, method, target=None, weights=None))]
#[allow(clippy::type_complexity)]
pub fn answered_summary(
    durations: PyReadonlyArray1<'_, f64>,
    quantiles: Vec<f64>,
    method: &str,
    target: Option<f64>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
) -> PyResult<(u64, f64, Vec<(f64, f64)>, Option<(f64, f64)>)> {
    let m: QuantileMethod = method.parse().py()?;
    let d = contiguous(&durations);
    let w = weights.as_ref().map(contiguous);
    let s = core_answered_summary(&d, w.as_deref(), &quantiles, m, target).py()?;
    Ok((s.n, s.mean, s.quantiles, s.within))
}
