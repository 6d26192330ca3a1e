//! What a promoter is worth: id codes and columns in, the core's `PromoterValue` out.

use cx_metrics::promoter_value::{
    promoter_value as core_promoter_value, OutcomeRows, PromoterValue, SurveyRows,
};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::errors::{invalid_argument, IntoPyResult};
use crate::serde_result::serde_pymethods;
use crate::survival::PyKaplanMeier;

/// Churn, revenue and lifetime value by NPS category, with the differences between categories.
#[pyclass(module = "cx_metrics._native", name = "PromoterValue", frozen)]
pub struct PyPromoterValue {
    pub(crate) inner: PromoterValue,
}

serde_pymethods!(PyPromoterValue, PromoterValue, |inner| Self { inner }, {
    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    /// A result from its dict (`to_dict`, or the `to_dict()` of a finished `nps_value_tally`
    /// state's result), read by serde as the core reads it (no JSON text).
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        pythonize::depythonize::<PromoterValue>(data)
            .map(|inner| Self { inner })
            .map_err(|e| invalid_argument("result", e))
    }

    /// The Kaplan–Meier curves (detractor, passive, promoter; `None` for an empty category), or
    /// `None` without durations.
    #[getter]
    fn retention(&self) -> Option<Vec<Option<PyKaplanMeier>>> {
        self.inner.retention.as_ref().map(|curves| {
            curves
                .iter()
                .map(|c| c.clone().map(|inner| PyKaplanMeier { inner }))
                .collect()
        })
    }
});

/// Join survey answers (id codes, 0–10 scores, NaN missing) to outcome rows (id codes and optional
/// churned, revenue, value, durations) over `n_ids` codes.
#[pyfunction]
#[pyo3(signature = (survey_ids, scores, outcome_ids, n_ids, *, churned=None, revenue=None, value=None, durations=None, confidence_level))]
#[allow(clippy::too_many_arguments)]
pub fn promoter_value(
    py: Python<'_>,
    survey_ids: PyReadonlyArray1<'_, u32>,
    scores: PyReadonlyArray1<'_, f64>,
    outcome_ids: PyReadonlyArray1<'_, u32>,
    n_ids: usize,
    churned: Option<PyReadonlyArray1<'_, bool>>,
    revenue: Option<PyReadonlyArray1<'_, f64>>,
    value: Option<PyReadonlyArray1<'_, f64>>,
    durations: Option<PyReadonlyArray1<'_, f64>>,
    confidence_level: f64,
) -> PyResult<PyPromoterValue> {
    let (si, sc, oi) = (
        contiguous(&survey_ids),
        contiguous(&scores),
        contiguous(&outcome_ids),
    );
    let ch = churned.as_ref().map(contiguous);
    let [rv, vl, du] = [&revenue, &value, &durations].map(|c| c.as_ref().map(contiguous));
    let inner = py
        .detach(|| {
            core_promoter_value(
                SurveyRows {
                    ids: &si,
                    scores: &sc,
                },
                OutcomeRows {
                    ids: &oi,
                    churned: ch.as_deref(),
                    revenue: rv.as_deref(),
                    value: vl.as_deref(),
                    durations: du.as_deref(),
                },
                n_ids,
                confidence_level,
            )
        })
        .py()?;
    Ok(PyPromoterValue { inner })
}
