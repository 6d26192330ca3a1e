//! Trends over waves and all-pairs comparisons: numpy arrays and option strings in, the core's
//! `Trend` / `AllPairs` out (as result classes read through serde). Group codes come from
//! `group_codes` (the grouping engine); the statistics are the core's (`cx_metrics::trend`,
//! `cx_metrics::control_chart`, `cx_metrics::multiple`).

use cx_metrics::multiple::{all_pairs, AllPairs};
use cx_metrics::trend::{
    estimates_by_group, trend as core_trend, Measure, TrendOptions, TrendRows,
};
use cx_metrics::{ChartLimits, NanPolicy, PValueAdjustment, Trend};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;

/// The trend of a figure over waves, per segment (the core's `Trend`).
#[pyclass(module = "cx_metrics._native", name = "Trend", frozen)]
pub struct PyTrend {
    inner: Trend,
}

serde_pymethods!(PyTrend, Trend, |inner| PyTrend { inner }, {
    /// Number of segments (1 without segments).
    #[getter]
    fn n_segments(&self) -> usize {
        self.inner.segments.len()
    }
    /// Rows without a wave label (left out and counted).
    #[getter]
    fn n_without_wave(&self) -> u64 {
        self.inner.n_without_wave
    }
});

/// All pairs of groups compared (the core's `AllPairs`).
#[pyclass(module = "cx_metrics._native", name = "AllPairs", frozen)]
pub struct PyAllPairs {
    inner: AllPairs,
}

serde_pymethods!(PyAllPairs, AllPairs, |inner| PyAllPairs { inner }, {
    /// Number of pairs.
    #[getter]
    fn n_pairs(&self) -> usize {
        self.inner.pairs.len()
    }
});

/// The core's measure and scale from their names.
fn measure_and_scale(
    measure: &str,
    points: Option<(i32, i32)>,
    scale_min: i32,
    scale_max: i32,
    higher_is_better: bool,
) -> PyResult<(Measure, cx_metrics::Scale)> {
    Ok((
        Measure::parse(measure, points).py()?,
        crate::scale_tally::scale(scale_min, scale_max, higher_is_better)?,
    ))
}

/// The trend of `measure` (`"nps"`, `"share"` with `points`, `"mean"`) of float64 `values` on the
/// scale `scale_min..=scale_max`, over the waves `waves` (uint32 codes 0..n_waves, 2^32 − 1 for no
/// wave), per segment (`segments`, codes 0..n_segments), linking respondents by `respondents`
/// (uint32 codes, 2^32 − 1 for none). The GIL is released.
#[pyfunction]
#[pyo3(signature = (values, waves, n_waves, *, measure, scale_min, scale_max, higher_is_better=true,
    points=None, segments=None, n_segments=1, respondents=None, weights=None, nan_policy="omit",
    confidence_level=0.95, adjust="holm", limits="standard"))]
#[allow(clippy::too_many_arguments)]
pub fn trend(
    py: Python<'_>,
    values: PyReadonlyArray1<'_, f64>,
    waves: PyReadonlyArray1<'_, u32>,
    n_waves: usize,
    measure: &str,
    scale_min: i32,
    scale_max: i32,
    higher_is_better: bool,
    points: Option<(i32, i32)>,
    segments: Option<PyReadonlyArray1<'_, u32>>,
    n_segments: usize,
    respondents: Option<PyReadonlyArray1<'_, u32>>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    nan_policy: &str,
    confidence_level: f64,
    adjust: &str,
    limits: &str,
) -> PyResult<PyTrend> {
    let (measure, scale) =
        measure_and_scale(measure, points, scale_min, scale_max, higher_is_better)?;
    let policy: NanPolicy = nan_policy.parse().py()?;
    let options = TrendOptions::new(
        confidence_level,
        adjust.parse::<PValueAdjustment>().py()?,
        limits.parse::<ChartLimits>().py()?,
    );
    let values = contiguous(&values);
    let waves = contiguous(&waves);
    let segments = segments.as_ref().map(contiguous);
    let respondents = respondents.as_ref().map(contiguous);
    let weights = weights.as_ref().map(contiguous);
    let inner = py
        .detach(|| {
            let mut rows = TrendRows::new(&values, &waves, n_waves)
                .weights(weights.as_deref())
                .respondents(respondents.as_deref())
                .nan_policy(policy);
            if let Some(s) = segments.as_deref() {
                rows = rows.segments(s, n_segments);
            }
            core_trend(measure, scale, rows, options)
        })
        .py()?;
    Ok(PyTrend { inner })
}

/// Every pair of the groups `groups` (uint32 codes 0..n_groups, 2^32 − 1 for none) compared on
/// `measure`, with the p-values adjusted by `adjust`. The GIL is released.
#[pyfunction]
#[pyo3(signature = (values, groups, n_groups, *, measure, scale_min, scale_max, higher_is_better=true,
    points=None, weights=None, nan_policy="omit", confidence_level=0.95, adjust="holm"))]
#[allow(clippy::too_many_arguments)]
pub fn compare_all(
    py: Python<'_>,
    values: PyReadonlyArray1<'_, f64>,
    groups: PyReadonlyArray1<'_, u32>,
    n_groups: usize,
    measure: &str,
    scale_min: i32,
    scale_max: i32,
    higher_is_better: bool,
    points: Option<(i32, i32)>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    nan_policy: &str,
    confidence_level: f64,
    adjust: &str,
) -> PyResult<PyAllPairs> {
    let (measure, scale) =
        measure_and_scale(measure, points, scale_min, scale_max, higher_is_better)?;
    let policy: NanPolicy = nan_policy.parse().py()?;
    let adjust: PValueAdjustment = adjust.parse().py()?;
    let values = contiguous(&values);
    let groups = contiguous(&groups);
    let weights = weights.as_ref().map(contiguous);
    let inner = py
        .detach(|| {
            let estimates = estimates_by_group(
                measure,
                scale,
                &values,
                weights.as_deref(),
                &groups,
                n_groups,
                policy,
                confidence_level,
            )?;
            all_pairs(measure, estimates, adjust, confidence_level)
        })
        .py()?;
    Ok(PyAllPairs { inner })
}
