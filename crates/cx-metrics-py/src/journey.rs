//! Journey maps: the map, touchpoint and stage scores, pain points, gaps to targets, brand
//! comparisons and the mergeable audit tally. Conversion only.

use cx_metrics::audit::{AuditCompliance, AuditOptions, AuditRows, AuditTally};
use cx_metrics::journey::{
    compare_brands as core_compare_brands, journey_gaps as core_journey_gaps,
    pain_points as core_pain_points, touchpoint_scores as core_touchpoint_scores, BrandComparison,
    DropOff, Journey, JourneyGaps, Ownership, PainOptions, PainPoints, PainWeights, ScoreOptions,
    Stage, SurveyRows, Target, Touchpoint, TouchpointScores,
};
use cx_metrics::{Accumulator, CsatScale};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::arrays::contiguous;
use crate::errors::IntoPyResult;
use crate::serde_result::serde_pymethods;
use crate::tally::state_pymethods;

/// A touchpoint as `(name, channel, ownership)`.
type TouchpointTuple = (String, String, String);

/// A journey map: ordered stages, each with its touchpoints.
#[pyclass(module = "cx_metrics._native", name = "Journey", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyJourney {
    pub(crate) inner: Journey,
}

serde_pymethods!(PyJourney, Journey, |inner| PyJourney { inner }, {
    /// A journey from `[(stage, [(touchpoint, channel, ownership), ...]), ...]`.
    #[new]
    #[pyo3(signature = (name, stages, segment=None))]
    fn new(
        name: String,
        stages: Vec<(String, Vec<TouchpointTuple>)>,
        segment: Option<String>,
    ) -> PyResult<Self> {
        let mut out = Vec::with_capacity(stages.len());
        for (stage, tps) in stages {
            let mut t = Vec::with_capacity(tps.len());
            for (n, c, o) in tps {
                t.push(Touchpoint::new(n, c, o.parse::<Ownership>().py()?));
            }
            out.push(Stage::new(stage, t));
        }
        Ok(Self {
            inner: Journey::new(name, segment, out).py()?,
        })
    }

    /// A journey from a table with one row per touchpoint.
    #[staticmethod]
    #[pyo3(signature = (name, stage, touchpoint, channel, ownership, segment=None))]
    fn from_table(
        name: String,
        stage: Vec<String>,
        touchpoint: Vec<String>,
        channel: Vec<String>,
        ownership: Vec<String>,
        segment: Option<String>,
    ) -> PyResult<Self> {
        let own = ownership
            .iter()
            .map(|o| o.parse::<Ownership>())
            .collect::<cx_metrics::Result<Vec<_>>>()
            .py()?;
        let s: Vec<&str> = stage.iter().map(String::as_str).collect();
        let t: Vec<&str> = touchpoint.iter().map(String::as_str).collect();
        let c: Vec<&str> = channel.iter().map(String::as_str).collect();
        Ok(Self {
            inner: Journey::from_table(name, segment, &s, &t, &c, &own).py()?,
        })
    }

    /// The journey's name.
    #[getter]
    fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// The segment, if any.
    #[getter]
    fn segment(&self) -> Option<String> {
        self.inner.segment().map(str::to_string)
    }

    /// `[(stage, [(touchpoint, channel, ownership), ...]), ...]`.
    fn stages(&self) -> Vec<(String, Vec<TouchpointTuple>)> {
        self.inner
            .stages()
            .iter()
            .map(|s| {
                let t = s
                    .touchpoints
                    .iter()
                    .map(|t| {
                        (
                            t.name.clone(),
                            t.channel.clone(),
                            t.ownership.as_str().to_string(),
                        )
                    })
                    .collect();
                (s.name.clone(), t)
            })
            .collect()
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }
});

macro_rules! result_class {
    ($py_ty:ident, $name:literal, $core:ty) => {
        /// A journey result (see the core type); `to_dict` gives its tables.
        #[pyclass(module = "cx_metrics._native", name = $name, frozen)]
        pub struct $py_ty {
            pub(crate) inner: $core,
        }

        serde_pymethods!($py_ty, $core, |inner| $py_ty { inner }, {});
    };
}

result_class!(PyTouchpointScores, "TouchpointScores", TouchpointScores);
result_class!(PyPainPoints, "PainPoints", PainPoints);
result_class!(PyJourneyGaps, "JourneyGaps", JourneyGaps);
result_class!(PyBrandComparison, "BrandComparison", BrandComparison);
result_class!(PyAuditCompliance, "AuditCompliance", AuditCompliance);

/// The survey columns as the core reads them.
struct Columns {
    touchpoint: Vec<String>,
    customer: Vec<i64>,
    ltr: Option<Vec<f64>>,
    csat: Option<Vec<f64>>,
    ces: Option<Vec<f64>>,
}

impl Columns {
    fn new(
        touchpoint: Vec<String>,
        customer: PyReadonlyArray1<'_, i64>,
        ltr: Option<PyReadonlyArray1<'_, f64>>,
        csat: Option<PyReadonlyArray1<'_, f64>>,
        ces: Option<PyReadonlyArray1<'_, f64>>,
    ) -> Self {
        let own = |a: Option<PyReadonlyArray1<'_, f64>>| a.as_ref().map(|a| contiguous(a).to_vec());
        Self {
            touchpoint,
            customer: contiguous(&customer).to_vec(),
            ltr: own(ltr),
            csat: own(csat),
            ces: own(ces),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&SurveyRows<'_>) -> R) -> R {
        let t: Vec<&str> = self.touchpoint.iter().map(String::as_str).collect();
        f(&SurveyRows {
            touchpoint: &t,
            customer: &self.customer,
            ltr: self.ltr.as_deref(),
            csat: self.csat.as_deref(),
            ces: self.ces.as_deref(),
        })
    }
}

/// The conventions: level, NPS method, proportion method, CSAT points, satisfied set, unknown rows.
type OptionTuple<'a> = (f64, &'a str, &'a str, u8, &'a str, &'a str);

fn options(o: OptionTuple<'_>) -> PyResult<ScoreOptions> {
    Ok(ScoreOptions {
        confidence_level: o.0,
        nps_method: o.1.parse().py()?,
        proportion_method: o.2.parse().py()?,
        csat_scale: CsatScale::new(o.3).py()?,
        satisfied: o.4.parse().py()?,
        unknown: o.5.parse().py()?,
    })
}

/// Scores per touchpoint and stage (see `cx_metrics::journey::touchpoint_scores`).
#[pyfunction]
#[pyo3(signature = (journey, touchpoint, customer, ltr, csat, ces, options))]
#[allow(clippy::too_many_arguments)]
pub fn touchpoint_scores(
    py: Python<'_>,
    journey: &PyJourney,
    touchpoint: Vec<String>,
    customer: PyReadonlyArray1<'_, i64>,
    ltr: Option<PyReadonlyArray1<'_, f64>>,
    csat: Option<PyReadonlyArray1<'_, f64>>,
    ces: Option<PyReadonlyArray1<'_, f64>>,
    options: OptionTuple<'_>,
) -> PyResult<PyTouchpointScores> {
    let o = self::options(options)?;
    let cols = Columns::new(touchpoint, customer, ltr, csat, ces);
    let j = &journey.inner;
    let inner = py
        .detach(|| cols.with(|rows| core_touchpoint_scores(j, rows, &o)))
        .py()?;
    Ok(PyTouchpointScores { inner })
}

/// Pain points (see `cx_metrics::journey::pain_points`). `weights` is (effort, dissatisfaction,
/// volume, drop-off); at most one of `drop_off` (per touchpoint) and `stage_reach` is given.
#[pyfunction]
#[pyo3(signature = (
    journey, touchpoint, customer, ltr, csat, ces, options, weights, dissatisfaction, drop_off,
    stage_reach, top, n_resamples, seed
))]
#[allow(clippy::too_many_arguments)]
pub fn pain_points(
    py: Python<'_>,
    journey: &PyJourney,
    touchpoint: Vec<String>,
    customer: PyReadonlyArray1<'_, i64>,
    ltr: Option<PyReadonlyArray1<'_, f64>>,
    csat: Option<PyReadonlyArray1<'_, f64>>,
    ces: Option<PyReadonlyArray1<'_, f64>>,
    options: OptionTuple<'_>,
    weights: (f64, f64, f64, f64),
    dissatisfaction: &str,
    drop_off: Option<Vec<(String, f64)>>,
    stage_reach: Option<Vec<(String, u64)>>,
    top: usize,
    n_resamples: usize,
    seed: u64,
) -> PyResult<PyPainPoints> {
    let o = self::options(options)?;
    let table = match (drop_off, stage_reach) {
        (Some(_), Some(_)) => {
            return Err(crate::errors::invalid_argument(
                "drop_off",
                "give either per-touchpoint drop-off or stage reach counts, not both",
            ))
        }
        (Some(d), None) => Some(DropOff::PerTouchpoint(d)),
        (None, Some(r)) => Some(DropOff::StageReach(r)),
        (None, None) => None,
    };
    let pain = PainOptions {
        weights: PainWeights {
            effort: weights.0,
            dissatisfaction: weights.1,
            volume: weights.2,
            drop_off: weights.3,
        },
        dissatisfaction: dissatisfaction.parse().py()?,
        drop_off: table,
        top,
        n_resamples,
        seed,
    };
    let cols = Columns::new(touchpoint, customer, ltr, csat, ces);
    let j = &journey.inner;
    let inner = py
        .detach(|| cols.with(|rows| core_pain_points(j, rows, &o, &pain)))
        .py()?;
    Ok(PyPainPoints { inner })
}

/// Gaps to targets, each `(level, name, metric, threshold, direction)`.
#[pyfunction]
pub fn journey_gaps(
    scores: &PyTouchpointScores,
    targets: Vec<(String, String, String, f64, String)>,
) -> PyResult<PyJourneyGaps> {
    let mut t = Vec::with_capacity(targets.len());
    for (level, name, metric, threshold, direction) in targets {
        t.push(Target {
            level: level.parse().py()?,
            name,
            metric: metric.parse().py()?,
            threshold,
            direction: direction.parse().py()?,
        });
    }
    let inner = core_journey_gaps(&scores.inner, &t).py()?;
    Ok(PyJourneyGaps { inner })
}

/// Brands compared with a reference brand (see `cx_metrics::journey::compare_brands`).
#[pyfunction]
#[pyo3(signature = (journey, brand, touchpoint, customer, ltr, csat, ces, reference, options, adjustment))]
#[allow(clippy::too_many_arguments)]
pub fn compare_brands(
    py: Python<'_>,
    journey: &PyJourney,
    brand: Vec<String>,
    touchpoint: Vec<String>,
    customer: PyReadonlyArray1<'_, i64>,
    ltr: Option<PyReadonlyArray1<'_, f64>>,
    csat: Option<PyReadonlyArray1<'_, f64>>,
    ces: Option<PyReadonlyArray1<'_, f64>>,
    reference: &str,
    options: OptionTuple<'_>,
    adjustment: &str,
) -> PyResult<PyBrandComparison> {
    let o = self::options(options)?;
    let adj = adjustment.parse().py()?;
    let cols = Columns::new(touchpoint, customer, ltr, csat, ces);
    let b: Vec<&str> = brand.iter().map(String::as_str).collect();
    let j = &journey.inner;
    let inner = py
        .detach(|| cols.with(|rows| core_compare_brands(j, &b, rows, reference, &o, adj)))
        .py()?;
    Ok(PyBrandComparison { inner })
}

/// Mergeable audit counts per (touchpoint, standard, location).
#[pyclass(module = "cx_metrics._native", name = "AuditTally", eq)]
#[derive(Clone, PartialEq)]
pub struct PyAuditTally {
    pub(crate) inner: AuditTally,
}

state_pymethods!(PyAuditTally, AuditTally, {
    #[new]
    fn new() -> Self {
        Self {
            inner: AuditTally::default(),
        }
    }

    /// Fold audit rows: touchpoint, standard, location (text) and outcome (1, 0, NaN not
    /// applicable); changes nothing on error.
    fn fold(
        &mut self,
        touchpoint: Vec<String>,
        standard: Vec<String>,
        location: Vec<String>,
        passed: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<()> {
        let p = contiguous(&passed);
        let t: Vec<&str> = touchpoint.iter().map(String::as_str).collect();
        let s: Vec<&str> = standard.iter().map(String::as_str).collect();
        let l: Vec<&str> = location.iter().map(String::as_str).collect();
        self.inner
            .fold_batch(
                AuditRows {
                    touchpoint: &t,
                    standard: &s,
                    location: &l,
                    passed: &p,
                },
                None,
            )
            .py()
    }

    /// Compliance rates with intervals (`method`: "wilson" by default).
    #[pyo3(signature = (confidence_level=0.95, method="wilson"))]
    fn result(&self, confidence_level: f64, method: &str) -> PyResult<PyAuditCompliance> {
        let options = AuditOptions {
            confidence_level,
            method: method.parse().py()?,
        };
        Ok(PyAuditCompliance {
            inner: self.inner.finish(&options).py()?,
        })
    }
});
