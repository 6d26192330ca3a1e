//! Funnels: the core's `FunnelSpec`, `FunnelTally`, `FunnelResult` and `compare_funnels`.

use cx_metrics::events::{self, CustomerColumn, EventCodes, EventColumns, EventLog};
use cx_metrics::funnel::{
    compare_funnels as core_compare, id_kinds_of_rows, FunnelComparison, FunnelOptions,
    FunnelResult, FunnelSpec, FunnelTally, Step, FLOAT_ID,
};
use cx_metrics::groups::{Grouping, Label, TimeUnit};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::errors::{invalid_argument, IntoPyResult};
use crate::groups::{Held, Spec};
use crate::serde_result::serde_pymethods;
use crate::survival::PyKaplanMeier;
use crate::tally::state_pymethods;

/// Every rule of a funnel.
#[pyclass(module = "cx_metrics._native", name = "FunnelSpec", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyFunnelSpec {
    pub(crate) inner: FunnelSpec,
}

serde_pymethods!(PyFunnelSpec, FunnelSpec, |inner| Self { inner }, {
    #[new]
    #[pyo3(signature = (steps, exclusions, order, window_ns, window_end, entry, counting, reentry,
                        repeats, step_times, ties, unknown_events, missing, as_of_ns=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        steps: Vec<(String, Vec<String>)>,
        exclusions: Vec<String>,
        order: &str,
        window_ns: Option<i64>,
        window_end: &str,
        entry: &str,
        counting: &str,
        reentry: &str,
        repeats: &str,
        step_times: &str,
        ties: &str,
        unknown_events: &str,
        missing: &str,
        as_of_ns: Option<i64>,
    ) -> PyResult<Self> {
        let inner = FunnelSpec {
            steps: steps
                .into_iter()
                .map(|(name, events)| Step { name, events })
                .collect(),
            exclusions,
            order: order.parse().py()?,
            window_ns,
            window_end: window_end.parse().py()?,
            entry: entry.parse().py()?,
            counting: counting.parse().py()?,
            reentry: reentry.parse().py()?,
            repeats: repeats.parse().py()?,
            step_times: step_times.parse().py()?,
            ties: ties.parse().py()?,
            unknown_events: unknown_events.parse().py()?,
            missing: missing.parse().py()?,
            as_of_ns,
        };
        inner.validate().py()?;
        Ok(Self { inner })
    }

    /// Every rule in words, one per line.
    fn describe(&self) -> String {
        self.inner.describe()
    }
});

/// The customer and event columns as codes: customer codes, their count, the missing code,
/// customer keys, event codes, event names, the kinds of customer ids (bits: 1 integers, 2 texts).
type Codes = (
    Vec<u32>,
    usize,
    Option<u32>,
    Vec<u64>,
    Vec<u32>,
    Vec<Option<String>>,
    u8,
);

fn codes(
    py: Python<'_>,
    customers: &Bound<'_, PyAny>,
    event_labels: &Bound<'_, PyAny>,
    n: usize,
) -> PyResult<Codes> {
    let mut id_kinds = 0u8;
    let (cust, n_c, missing, keys) =
        if let Ok(ids) = customers.extract::<PyReadonlyArray1<'_, i64>>() {
            let ids = contiguous(&ids);
            let ids: &[i64] = &ids;
            let (codes, keys) = py.detach(|| events::int_customers(ids)).py()?;
            let n_c = keys.len();
            id_kinds = u8::from(!ids.is_empty());
            (codes, n_c, None, keys)
        } else {
            let spec = crate::groups::parse(customers)?;
            crate::groups::with_grouping(py, std::slice::from_ref(&spec), n, |g| {
                let (out, kinds) = label_customers(g)?;
                id_kinds = kinds;
                Ok(out)
            })?
        };
    let spec = crate::groups::parse(event_labels)?;
    let (ev, names) = crate::groups::with_grouping(py, std::slice::from_ref(&spec), n, |g| {
        Ok(events::event_names(g))
    })?;
    Ok((cust, n_c, missing, keys, ev, names, id_kinds))
}

/// Customer codes, their count, the missing code, customer keys.
type CustomerCodes = (Vec<u32>, usize, Option<u32>, Vec<u64>);

/// The customer codes of a grouping of ids, with the kinds of the ids (bits: 1 integers, 2 texts;
/// one kind per fold, floats refused: see [`id_kinds_of_rows`]).
fn label_customers(g: &Grouping<'_>) -> cx_metrics::Result<(CustomerCodes, u8)> {
    let kinds: Vec<u8> = g
        .labels()
        .iter()
        .map(|l| match l.first() {
            Some(Label::Int(_)) => 1,
            Some(Label::Missing) | None => 0,
            Some(Label::Float(_)) => FLOAT_ID,
            Some(_) => 2,
        })
        .collect();
    let out = events::label_customers(g);
    let id_kinds = id_kinds_of_rows(&out.0, &kinds)?;
    Ok((out, id_kinds))
}

/// Categorical event codes borrowed from the held array.
enum EventCodesHeld<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

/// Per-step counts of a funnel, its time-to-convert table and its customers' keys; mergeable
/// only across partitions that each hold all of their customers' events.
#[pyclass(module = "cx_metrics._native", name = "FunnelTally", eq)]
#[derive(Clone, PartialEq)]
pub struct PyFunnelTally {
    pub(crate) inner: FunnelTally,
}

state_pymethods!(PyFunnelTally, FunnelTally, {
    #[new]
    fn new(spec: &PyFunnelSpec) -> PyResult<Self> {
        Ok(Self {
            inner: FunnelTally::new(spec.inner.clone()).py()?,
        })
    }

    /// The funnel's rules.
    #[getter]
    fn spec(&self) -> PyFunnelSpec {
        PyFunnelSpec {
            inner: self.inner.spec().clone(),
        }
    }

    /// Fold an event log: customer ids (an int64 array, or a label spec), event names (a label
    /// spec) and times (`unit`s since the epoch, `i64::MIN` missing). Every event of a customer
    /// must be in this call. Integer ids and categorical event codes are read in place.
    fn fold(
        &mut self,
        py: Python<'_>,
        customers: Bound<'_, PyAny>,
        event_labels: Bound<'_, PyAny>,
        times: PyReadonlyArray1<'_, i64>,
        unit: &str,
    ) -> PyResult<()> {
        let unit: TimeUnit = unit.parse().py()?;
        let times = contiguous(&times);
        let times: &[i64] = &times;
        let n = times.len();
        let ids = customers.extract::<PyReadonlyArray1<'_, i64>>().ok();
        let ids = ids.as_ref().map(contiguous);
        let mut id_kinds = ids.as_ref().map_or(0, |ids| u8::from(!ids.is_empty()));
        let coded = match ids {
            Some(_) => None,
            None => {
                let spec = crate::groups::parse(&customers)?;
                Some(crate::groups::with_grouping(
                    py,
                    std::slice::from_ref(&spec),
                    n,
                    |g| {
                        let (out, kinds) = label_customers(g)?;
                        id_kinds = kinds;
                        Ok(out)
                    },
                )?)
            }
        };
        self.inner.check_id_kinds(id_kinds).py()?;
        let customers = match (&ids, &coded) {
            (Some(ids), _) => CustomerColumn::Ints(ids),
            (None, Some((codes, n_customers, missing, keys))) => CustomerColumn::Codes {
                codes,
                n_customers: *n_customers,
                missing: *missing,
                keys,
            },
            (None, None) => unreachable!("customers are ids or coded"),
        };
        let spec = crate::groups::parse(&event_labels)?;
        let in_place = match &spec {
            Spec::Categorical { codes, levels, .. } => {
                let names: Vec<Option<String>> = levels.iter().map(events::label_name).collect();
                match codes {
                    Held::I8(c) => Some((
                        EventCodesHeld::I8(c.as_slice().map_err(|e| invalid_argument("event", e))?),
                        names,
                    )),
                    Held::I16(c) => Some((
                        EventCodesHeld::I16(
                            c.as_slice().map_err(|e| invalid_argument("event", e))?,
                        ),
                        names,
                    )),
                    Held::I32(c) => Some((
                        EventCodesHeld::I32(
                            c.as_slice().map_err(|e| invalid_argument("event", e))?,
                        ),
                        names,
                    )),
                    Held::I64(c) => Some((
                        EventCodesHeld::I64(
                            c.as_slice().map_err(|e| invalid_argument("event", e))?,
                        ),
                        names,
                    )),
                    _ => None,
                }
            }
            _ => None,
        };
        let inner = &mut self.inner;
        if let Some((codes, names)) = in_place {
            let events = match codes {
                EventCodesHeld::I8(c) => EventCodes::I8(c),
                EventCodesHeld::I16(c) => EventCodes::I16(c),
                EventCodesHeld::I32(c) => EventCodes::I32(c),
                EventCodesHeld::I64(c) => EventCodes::I64(c),
            };
            py.detach(|| {
                inner.fold_columns(EventColumns {
                    customers,
                    events,
                    event_names: &names,
                    times,
                    unit,
                })
            })
            .py()?;
            self.inner.add_id_kinds(id_kinds);
            return Ok(());
        }
        let (ev, names) = crate::groups::with_grouping(py, std::slice::from_ref(&spec), n, |g| {
            Ok(events::event_names(g))
        })?;
        py.detach(|| {
            inner.fold_columns(EventColumns {
                customers,
                events: EventCodes::U32(&ev),
                event_names: &names,
                times,
                unit,
            })
        })
        .py()?;
        self.inner.add_id_kinds(id_kinds);
        Ok(())
    }

    /// One new state per group (`codes`: each row's group, below `n_groups`); a customer belongs
    /// to the group of their first event.
    #[allow(clippy::too_many_arguments)]
    fn by_group(
        &self,
        py: Python<'_>,
        customers: Bound<'_, PyAny>,
        event_labels: Bound<'_, PyAny>,
        times: PyReadonlyArray1<'_, i64>,
        unit: &str,
        codes_by: PyReadonlyArray1<'_, u32>,
        n_groups: usize,
    ) -> PyResult<Vec<PyFunnelTally>> {
        let unit: TimeUnit = unit.parse().py()?;
        let times = contiguous(&times);
        let times: &[i64] = &times;
        let by = contiguous(&codes_by);
        let by: &[u32] = &by;
        let (cust, n_c, missing, keys, ev, names, id_kinds) =
            codes(py, &customers, &event_labels, times.len())?;
        let inner = &self.inner;
        let states = py
            .detach(|| {
                let log = EventLog {
                    customers: &cust,
                    n_customers: n_c,
                    missing_customer: missing,
                    customer_keys: &keys,
                    events: &ev,
                    event_names: &names,
                    times,
                    unit,
                };
                inner.by_group(by, n_groups, log)
            })
            .py()?;
        Ok(states
            .into_iter()
            .map(|mut inner| {
                inner.add_id_kinds(id_kinds);
                Self { inner }
            })
            .collect())
    }

    /// The funnel result with Wilson intervals at `confidence_level`.
    #[pyo3(signature = (confidence_level=0.95))]
    fn result(&self, confidence_level: f64) -> PyResult<PyFunnelResult> {
        let options = FunnelOptions { confidence_level };
        Ok(PyFunnelResult {
            inner: cx_metrics::Accumulator::finish(&self.inner, &options).py()?,
        })
    }
});

/// A funnel's rules, steps, conversions with Wilson intervals and time to convert.
#[pyclass(module = "cx_metrics._native", name = "FunnelResult", frozen)]
pub struct PyFunnelResult {
    pub(crate) inner: FunnelResult,
}

serde_pymethods!(PyFunnelResult, FunnelResult, |inner| Self { inner }, {
    /// The rules in words.
    #[getter]
    fn rules(&self) -> String {
        self.inner.rules.clone()
    }

    /// Time to convert as a Kaplan–Meier curve (None without entrants).
    #[getter]
    fn time_to_convert(&self) -> Option<PyKaplanMeier> {
        self.inner
            .time_to_convert
            .clone()
            .map(|inner| PyKaplanMeier { inner })
    }
});

/// Two funnels compared step by step.
#[pyclass(module = "cx_metrics._native", name = "FunnelComparison", frozen)]
pub struct PyFunnelComparison {
    pub(crate) inner: FunnelComparison,
}

serde_pymethods!(
    PyFunnelComparison,
    FunnelComparison,
    |inner| Self { inner },
    {}
);

/// Compare two funnel results of the same steps (first − second).
#[pyfunction]
#[pyo3(signature = (a, b, confidence_level=0.95))]
pub fn compare_funnels(
    a: &PyFunnelResult,
    b: &PyFunnelResult,
    confidence_level: f64,
) -> PyResult<PyFunnelComparison> {
    Ok(PyFunnelComparison {
        inner: core_compare(&a.inner, &b.inner, confidence_level).py()?,
    })
}
