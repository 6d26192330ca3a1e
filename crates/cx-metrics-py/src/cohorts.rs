//! Cohort retention tables: the core's `CohortTally` (events or customer spans in) and its
//! `CohortTable`.

use cx_metrics::cohorts::{CohortBatch, CohortOptions, CohortTable, CohortTally, PeriodUnit};
use cx_metrics::groups::TimeUnit;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;
use crate::tally::state_pymethods;

/// Counts per cohort and period offset; mergeable and picklable.
#[pyclass(module = "cx_metrics._native", name = "CohortTally", eq)]
#[derive(Clone, PartialEq)]
pub struct PyCohortTally {
    pub(crate) inner: CohortTally,
}

state_pymethods!(PyCohortTally, CohortTally, {
    #[new]
    fn new(period: &str) -> PyResult<Self> {
        Ok(Self {
            inner: CohortTally::new(period.parse::<PeriodUnit>().py()?),
        })
    }

    /// The period unit.
    #[getter]
    fn period(&self) -> &'static str {
        self.inner.unit().id()
    }

    /// An empty tally that folds only the activity up to the period of `as_of` (an instant in
    /// `unit`s): what lies after it is left out and counted.
    #[staticmethod]
    #[pyo3(signature = (period, as_of, unit="ns"))]
    fn until(period: &str, as_of: i64, unit: &str) -> PyResult<Self> {
        let pu = period.parse::<PeriodUnit>().py()?;
        let unit: TimeUnit = unit.parse().py()?;
        Ok(Self {
            inner: CohortTally::until(pu, pu.index_of(as_of, unit)),
        })
    }

    /// The first day of the last period folded (days after 1970-01-01), or None: every period.
    #[getter]
    fn as_of_day(&self) -> Option<i64> {
        self.inner.as_of().map(|p| self.inner.unit().start_day(p))
    }

    /// Rows omitted for a missing customer or time.
    #[getter]
    fn n_omitted(&self) -> u64 {
        self.inner.n_omitted()
    }

    /// Fold activity events: customer ids (a label spec, or an int64 array of ids without
    /// missing values) and times (`unit`s since the epoch, `i64::MIN` missing). Every event of a
    /// customer must be in this call.
    fn fold_events(
        &mut self,
        py: Python<'_>,
        customers: Bound<'_, PyAny>,
        times: PyReadonlyArray1<'_, i64>,
        unit: &str,
    ) -> PyResult<()> {
        let unit: TimeUnit = unit.parse().py()?;
        let times = contiguous(&times);
        if let Ok(ids) = customers.extract::<PyReadonlyArray1<'_, i64>>() {
            let ids = contiguous(&ids);
            let inner = &mut self.inner;
            return py
                .detach(|| {
                    let (codes, n_customers) = cx_metrics::customers::factorize_ids(&ids)?;
                    cx_metrics::Accumulator::fold_batch(
                        inner,
                        CohortBatch::Events {
                            customers: &codes,
                            n_customers,
                            missing: None,
                            times: &times,
                            unit,
                        },
                        None,
                    )
                })
                .py();
        }
        let spec = crate::groups::parse(&customers)?;
        let inner = &mut self.inner;
        crate::groups::with_grouping(py, std::slice::from_ref(&spec), times.len(), |g| {
            let (codes, n_customers, missing) = cx_metrics::customers::customer_codes(g);
            cx_metrics::Accumulator::fold_batch(
                inner,
                CohortBatch::Events {
                    customers: &codes,
                    n_customers,
                    missing,
                    times: &times,
                    unit,
                },
                None,
            )
        })
    }

    /// Fold customer spans: starts and ends (`i64::MIN`: missing start / no end); with `ids`, the
    /// ids must be unique.
    #[pyo3(signature = (starts, ends, unit, ids=None))]
    fn fold_spans(
        &mut self,
        py: Python<'_>,
        starts: PyReadonlyArray1<'_, i64>,
        ends: PyReadonlyArray1<'_, i64>,
        unit: &str,
        ids: Option<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let unit: TimeUnit = unit.parse().py()?;
        let (starts, ends) = (contiguous(&starts), contiguous(&ends));
        if let Some(ids) = ids {
            let spec = crate::groups::parse(&ids)?;
            crate::groups::with_grouping(py, std::slice::from_ref(&spec), starts.len(), |g| {
                let (codes, n_codes, missing) = cx_metrics::customers::customer_codes(g);
                cx_metrics::customers::check_unique(&codes, n_codes, missing)
            })?;
        }
        let inner = &mut self.inner;
        py.detach(|| {
            cx_metrics::Accumulator::fold_batch(
                inner,
                CohortBatch::Spans {
                    starts: &starts,
                    ends: &ends,
                    unit,
                },
                None,
            )
        })
        .py()
    }

    /// The retention table; `as_of` is an instant in `unit`s (default: the latest period seen).
    #[pyo3(signature = (definition, as_of=None, unit="ns", max_periods=None))]
    fn table(
        &self,
        definition: &str,
        as_of: Option<i64>,
        unit: &str,
        max_periods: Option<u32>,
    ) -> PyResult<PyCohortTable> {
        let unit: TimeUnit = unit.parse().py()?;
        let options = CohortOptions {
            definition: definition.parse().py()?,
            as_of: as_of.map(|t| self.inner.unit().index_of(t, unit)),
            max_periods,
        };
        let inner = cx_metrics::Accumulator::finish(&self.inner, &options).py()?;
        Ok(PyCohortTable { inner })
    }
});

/// A cohort retention table.
#[pyclass(module = "cx_metrics._native", name = "CohortTable", frozen)]
pub struct PyCohortTable {
    pub(crate) inner: CohortTable,
}

serde_pymethods!(PyCohortTable, CohortTable, |inner| Self { inner }, {});
