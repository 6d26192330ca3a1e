//! NPS: `NpsTally`, `NpsResult`, comparisons (independent and paired), bootstrap from rows, planning.

use cx_metrics::nps::{AnticipatedVariance, NpsMethod, PairedTally, Pairs};
use cx_metrics::{NanPolicy, RawValue};
use numpy::{Element, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::arrays::{apply, contiguous, impl_fold, SliceOp};
use crate::errors::{invalid_argument, IntoPyResult};
use crate::tally::{result_pymethods, state_pymethods, tally_pymethods};
use crate::{interval_tuple, IntervalTuple};

impl_fold!(cx_metrics::NpsTally);

fn method(name: &str) -> PyResult<NpsMethod> {
    name.parse().py()
}

/// Mergeable counts of detractors, passives and promoters on the 0–10 scale. `fold` is safe from several
/// threads at once (each batch is counted with the GIL released, then merged); sums of weights are
/// kept scaled by a power of two, so results do not depend on the unit of the weights.
#[pyclass(module = "cx_metrics._native", name = "NpsTally", eq)]
#[derive(Clone, PartialEq)]
pub struct PyNpsTally {
    pub(crate) inner: cx_metrics::NpsTally,
}

tally_pymethods!(PyNpsTally, cx_metrics::NpsTally, {
    #[new]
    fn new() -> Self {
        Self {
            inner: cx_metrics::NpsTally::new(),
        }
    }

    /// The NPS of everything folded so far.
    fn result(&self) -> PyNpsResult {
        PyNpsResult {
            inner: self.inner.result(),
        }
    }

    fn __repr__(&self) -> String {
        let r = self.inner.result();
        format!(
            "NpsTally(n={}, n_omitted={}, detractors={}, passives={}, promoters={})",
            r.n, r.n_omitted, r.n_detractors, r.n_passives, r.n_promoters
        )
    }
});

/// The NPS of one sample.
#[pyclass(module = "cx_metrics._native", name = "NpsResult", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyNpsResult {
    pub(crate) inner: cx_metrics::NpsResult,
}

result_pymethods!(PyNpsResult, cx_metrics::NpsResult, {
    #[getter]
    fn n(&self) -> u64 {
        self.inner.n
    }
    #[getter]
    fn n_omitted(&self) -> u64 {
        self.inner.n_omitted
    }
    #[getter]
    fn n_promoters(&self) -> u64 {
        self.inner.n_promoters
    }
    #[getter]
    fn n_passives(&self) -> u64 {
        self.inner.n_passives
    }
    #[getter]
    fn n_detractors(&self) -> u64 {
        self.inner.n_detractors
    }
    #[getter]
    fn sum_weights(&self) -> f64 {
        self.inner.sum_weights
    }
    #[getter]
    fn effective_n(&self) -> f64 {
        self.inner.effective_n
    }
    #[getter]
    fn weighted(&self) -> bool {
        self.inner.weighted
    }
    #[getter]
    fn promoters(&self) -> f64 {
        self.inner.promoters
    }
    #[getter]
    fn passives(&self) -> f64 {
        self.inner.passives
    }
    #[getter]
    fn detractors(&self) -> f64 {
        self.inner.detractors
    }
    #[getter]
    fn score(&self) -> f64 {
        self.inner.score
    }
    #[getter]
    fn variance(&self) -> f64 {
        self.inner.variance
    }
    #[getter]
    fn std_error(&self) -> f64 {
        self.inner.std_error
    }
    #[getter]
    fn se_linearised(&self) -> f64 {
        self.inner.se_linearised
    }
    #[getter]
    fn se_linearised_small_sample(&self) -> Option<f64> {
        self.inner.se_linearised_small_sample
    }
    #[getter]
    fn se_kish(&self) -> f64 {
        self.inner.se_kish()
    }
    #[getter]
    fn deff(&self) -> f64 {
        self.inner.deff
    }
    #[getter]
    fn distribution(&self) -> Vec<f64> {
        self.inner.distribution.clone()
    }
    #[getter]
    fn undefined(&self) -> Option<String> {
        self.inner.undefined.map(|u| u.to_string())
    }
    /// Interval by `method`, clipped to [−1, 1]: `(low, high, confidence_level, clipped)`. The
    /// GIL is released while it is computed (the Dirichlet and bootstrap methods take a while).
    fn ci(
        &self,
        py: Python<'_>,
        confidence_level: f64,
        method: &str,
    ) -> PyResult<(f64, f64, f64, bool)> {
        let m = self::method(method)?;
        let inner = &self.inner;
        Ok(interval_tuple(
            py.detach(|| inner.ci(confidence_level, m)).py()?,
        ))
    }
    /// Interval before clipping to [−1, 1] (the GIL released, as in `ci`).
    fn ci_unclipped(
        &self,
        py: Python<'_>,
        confidence_level: f64,
        method: &str,
    ) -> PyResult<(f64, f64, f64, bool)> {
        let m = self::method(method)?;
        let inner = &self.inner;
        Ok(interval_tuple(
            py.detach(|| inner.ci_unclipped(confidence_level, m)).py()?,
        ))
    }
    /// The normal-approximation centre and standard error of `method` (Wald or adjusted Wald).
    fn normal_estimate(&self, method: &str) -> PyResult<(f64, f64)> {
        let e = self.inner.normal_estimate(self::method(method)?).py()?;
        Ok((e.centre, e.std_error))
    }
    /// Posterior mean and standard deviation under a Dirichlet(prior) prior.
    fn dirichlet_posterior(&self, prior: [f64; 3]) -> PyResult<(f64, f64)> {
        let e = self.inner.dirichlet_posterior(prior).py()?;
        Ok((e.centre, e.std_error))
    }
});

/// Difference of two NPS (independent groups or paired responses) with its z test.
#[pyclass(module = "cx_metrics._native", name = "NpsComparison", frozen)]
pub struct PyNpsComparison {
    difference: f64,
    std_error: f64,
    z: f64,
    p_value: f64,
    interval: cx_metrics::Interval,
}

#[pymethods]
impl PyNpsComparison {
    #[getter]
    fn difference(&self) -> f64 {
        self.difference
    }
    #[getter]
    fn std_error(&self) -> f64 {
        self.std_error
    }
    #[getter]
    fn z(&self) -> f64 {
        self.z
    }
    #[getter]
    fn p_value(&self) -> f64 {
        self.p_value
    }
    /// The interval as `(low, high, confidence_level, clipped)`.
    #[getter]
    fn interval(&self) -> (f64, f64, f64, bool) {
        interval_tuple(self.interval)
    }
}

/// Compare the NPS of two independent groups, `a − b`, by `method` (`"wald"` or `"adjusted_wald"`).
#[pyfunction]
pub fn compare_nps(
    a: &PyNpsResult,
    b: &PyNpsResult,
    method: &str,
    confidence_level: f64,
) -> PyResult<PyNpsComparison> {
    let c = cx_metrics::nps::compare(&a.inner, &b.inner, self::method(method)?).py()?;
    Ok(PyNpsComparison {
        difference: c.difference,
        std_error: c.std_error,
        z: c.z,
        p_value: c.p_value,
        interval: c.ci(confidence_level).py()?,
    })
}

/// Mergeable 3×3 table of paired NPS categories (the same respondents rated twice). `fold` is safe from several
/// threads at once (each batch is counted with the GIL released, then merged); sums of weights are
/// kept scaled by a power of two, so results do not depend on the unit of the weights.
#[pyclass(module = "cx_metrics._native", name = "PairedNpsTally", eq)]
#[derive(Clone, PartialEq)]
pub struct PyPairedNpsTally {
    pub(crate) inner: PairedTally,
}

state_pymethods!(PyPairedNpsTally, PairedTally, {
    #[new]
    fn new() -> Self {
        Self {
            inner: PairedTally::new(),
        }
    }

    /// Validate and count aligned first and second ratings (float64 arrays), optionally weighted;
    /// changes nothing on error. Safe to call from several threads on the same tally (each batch is
    /// counted with the GIL released, then merged).
    #[pyo3(signature = (a, b, weights=None, nan_policy="omit"))]
    fn fold(
        slf: &Bound<'_, Self>,
        py: Python<'_>,
        a: PyReadonlyArray1<'_, f64>,
        b: PyReadonlyArray1<'_, f64>,
        weights: Option<PyReadonlyArray1<'_, f64>>,
        nan_policy: &str,
    ) -> PyResult<()> {
        let nan_policy: NanPolicy = nan_policy.parse().py()?;
        let (a, b) = (contiguous(&a), contiguous(&b));
        let w = weights.as_ref().map(contiguous);
        let pairs = Pairs {
            first: &a,
            second: &b,
            nan_policy,
        };
        crate::tally::fold_shared(
            slf,
            |s: &Self| &s.inner,
            |s: &mut Self| &mut s.inner,
            |part| {
                py.detach(|| cx_metrics::Accumulator::fold_batch(part, pairs, w.as_deref()))
                    .py()
            },
        )
    }

    /// Pairs omitted because either rating was missing.
    #[getter]
    fn n_omitted(&self) -> u64 {
        self.inner.n_omitted()
    }

    /// Pairs per cell, rows the first rating's category (detractor, passive, promoter).
    fn rows(&self) -> Vec<Vec<u64>> {
        self.inner.rows().iter().map(|r| r.to_vec()).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "PairedNpsTally(n={}, n_omitted={})",
            self.inner.n(),
            self.inner.n_omitted()
        )
    }
});

/// The paired difference (first − second) of a paired tally, with its z test and interval.
#[pyfunction]
pub fn compare_nps_paired_tally(
    tally: &PyPairedNpsTally,
    confidence_level: f64,
) -> PyResult<PyNpsComparison> {
    let r = tally.inner.result();
    Ok(PyNpsComparison {
        difference: r.difference,
        std_error: r.std_error,
        z: r.z,
        p_value: r.p_value,
        interval: r.ci(confidence_level).py()?,
    })
}

struct Bootstrap<'a> {
    weights: Option<&'a [f64]>,
    confidence_level: f64,
    n_resamples: usize,
    seed: u64,
    policy: NanPolicy,
}

impl SliceOp for Bootstrap<'_> {
    type Output = cx_metrics::nps::BootstrapCi;
    fn apply<T: RawValue + Element>(self, values: &[T]) -> cx_metrics::Result<Self::Output> {
        cx_metrics::nps::bootstrap_ci(
            values,
            self.weights,
            self.confidence_level,
            self.n_resamples,
            self.seed,
            self.policy,
        )
    }
}

/// Seeded percentile-bootstrap interval from rows (weighted or not):
/// `((low, high, confidence_level, clipped), score, std_error, n_undefined, method)`.
#[pyfunction]
#[pyo3(signature = (values, weights, confidence_level, n_resamples, seed, nan_policy))]
pub fn nps_bootstrap_ci(
    values: &Bound<'_, PyAny>,
    weights: Option<PyReadonlyArray1<'_, f64>>,
    confidence_level: f64,
    n_resamples: usize,
    seed: u64,
    nan_policy: &str,
) -> PyResult<(IntervalTuple, f64, f64, usize, &'static str)> {
    let policy: NanPolicy = nan_policy.parse().py()?;
    let w = weights.as_ref().map(|w| contiguous(w).into_owned());
    let b = apply(
        values,
        Bootstrap {
            weights: w.as_deref(),
            confidence_level,
            n_resamples,
            seed,
            policy,
        },
    )?;
    Ok((
        interval_tuple(b.interval),
        b.score,
        b.std_error,
        b.n_undefined,
        b.method.name(),
    ))
}

fn anticipated(shares: Option<(f64, f64)>, variance: Option<f64>) -> PyResult<AnticipatedVariance> {
    match (shares, variance) {
        (Some(_), Some(_)) => Err(invalid_argument(
            "shares",
            "give the anticipated shares or the variance, not both",
        )),
        (Some((promoters, detractors)), None) => Ok(AnticipatedVariance::Shares {
            promoters,
            detractors,
        }),
        (None, Some(v)) => Ok(AnticipatedVariance::Variance(v)),
        (None, None) => Ok(AnticipatedVariance::WorstCase),
    }
}

/// Respondents needed for an interval of half-width `margin`.
#[pyfunction]
#[pyo3(signature = (margin, confidence_level, method, shares=None, variance=None))]
pub fn nps_sample_size(
    margin: f64,
    confidence_level: f64,
    method: &str,
    shares: Option<(f64, f64)>,
    variance: Option<f64>,
) -> PyResult<u64> {
    cx_metrics::nps::sample_size(
        margin,
        confidence_level,
        self::method(method)?,
        anticipated(shares, variance)?,
    )
    .py()
}

/// Respondents per group to detect a difference `delta` with a two-sided z test.
#[pyfunction]
#[pyo3(signature = (delta, alpha, power, shares=None, variance=None))]
pub fn nps_sample_size_two_groups(
    delta: f64,
    alpha: f64,
    power: f64,
    shares: Option<(f64, f64)>,
    variance: Option<f64>,
) -> PyResult<u64> {
    cx_metrics::nps::sample_size_two_groups(delta, alpha, power, anticipated(shares, variance)?)
        .py()
}
