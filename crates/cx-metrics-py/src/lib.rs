//! Python bindings of `cx-metrics`: conversion and error mapping only.
//!
//! The statistics live in the core crate; this crate turns numpy arrays into slices, option strings into
//! the core's enums (through their `FromStr`), core errors into `cx_metrics.exceptions` classes, and core
//! states and results into Python classes.
use pyo3::prelude::*;

mod any_state;
mod arrays;
mod arrow_input;
mod buy_till_you_die;
mod ces;
mod churn;
mod clv;
mod cohorts;
mod columns;
mod comparison;
mod csat;
mod customers;
mod driver_results;
mod driver_segments;
mod drivers;
mod errors;
mod funnel;
mod groups;
mod handling;
mod journey;
mod moments;
mod nps;
mod nps_models;
mod paths;
mod pillar_scores;
mod promoter_value;
mod proportion;
mod sbg;
mod scale_tally;
mod scoring;
mod serde_result;
mod service_level;
mod survival;
mod tally;
mod trend;

/// An interval as the tuple `(low, high, confidence_level, clipped)` that Python wraps.
pub(crate) type IntervalTuple = (f64, f64, f64, bool);

/// The [`IntervalTuple`] of an interval.
pub(crate) fn interval_tuple(i: cx_metrics::Interval) -> IntervalTuple {
    (i.low, i.high, i.confidence_level, i.clipped)
}

/// The native module behind `cx_metrics`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<scale_tally::PyScaleTally>()?;
    m.add_class::<comparison::PyProportionComparison>()?;
    m.add_class::<csat::PyCsatTally>()?;
    m.add_class::<csat::PyCsatResult>()?;
    m.add_function(wrap_pyfunction!(csat::compare_csat, m)?)?;
    m.add_class::<ces::PyCes2Tally>()?;
    m.add_class::<ces::PyCes2Result>()?;
    m.add_class::<ces::PyCes1Tally>()?;
    m.add_class::<ces::PyCes1Result>()?;
    m.add_function(wrap_pyfunction!(ces::compare_ces2, m)?)?;
    m.add_function(wrap_pyfunction!(ces::compare_ces1, m)?)?;
    m.add_class::<nps::PyNpsTally>()?;
    m.add_class::<nps::PyNpsResult>()?;
    m.add_class::<nps::PyNpsComparison>()?;
    m.add_function(wrap_pyfunction!(nps::compare_nps, m)?)?;
    m.add_function(wrap_pyfunction!(nps::nps_bootstrap_ci, m)?)?;
    m.add_function(wrap_pyfunction!(nps::nps_sample_size, m)?)?;
    m.add_function(wrap_pyfunction!(nps::nps_sample_size_two_groups, m)?)?;
    m.add_function(wrap_pyfunction!(proportion::proportion_ci, m)?)?;
    m.add_function(wrap_pyfunction!(proportion::compare_proportions, m)?)?;
    m.add_class::<drivers::PyDriverOptions>()?;
    m.add_class::<drivers::PyDriverGroup>()?;
    m.add_class::<drivers::PyDriverScale>()?;
    m.add_class::<drivers::PyShift>()?;
    m.add_class::<drivers::PyDriverAnalysis>()?;
    m.add_class::<driver_results::PyDriverBootstrap>()?;
    m.add_class::<driver_results::PyImportancePerformance>()?;
    m.add_class::<driver_results::PyWhatIf>()?;
    m.add_class::<driver_segments::PySegmentAnalyses>()?;
    m.add_class::<driver_segments::PySegmentImportanceTest>()?;
    m.add_class::<nps_models::PyNpsDriverModel>()?;
    m.add_class::<nps_models::PyNpsModelBootstrap>()?;
    m.add_class::<pillar_scores::PyPillarScores>()?;
    m.add_function(wrap_pyfunction!(drivers::driver_analysis, m)?)?;
    m.add_function(wrap_pyfunction!(
        driver_segments::segment_driver_analysis,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(nps_models::nps_model, m)?)?;
    m.add_function(wrap_pyfunction!(nps_models::nps_model_bootstrap, m)?)?;
    m.add_function(wrap_pyfunction!(drivers::pillars, m)?)?;
    m.add_function(wrap_pyfunction!(pillar_scores::pillar_scores, m)?)?;
    m.add_function(wrap_pyfunction!(drivers::raise_non_numeric_column, m)?)?;
    m.add_function(wrap_pyfunction!(drivers::raise_unknown_column, m)?)?;
    m.add_class::<moments::PyRegressionMoments>()?;
    m.add_class::<nps::PyPairedNpsTally>()?;
    m.add_function(wrap_pyfunction!(nps::compare_nps_paired_tally, m)?)?;
    m.add_function(wrap_pyfunction!(groups::group_codes, m)?)?;
    m.add_function(wrap_pyfunction!(groups::group_fold, m)?)?;
    m.add_class::<churn::PyChurnResult>()?;
    m.add_function(wrap_pyfunction!(churn::churn_counts, m)?)?;
    m.add_function(wrap_pyfunction!(churn::churn_customers, m)?)?;
    m.add_function(wrap_pyfunction!(churn::convert_churn, m)?)?;
    m.add_function(wrap_pyfunction!(churn::retention_shortcut, m)?)?;
    m.add_class::<cohorts::PyCohortTally>()?;
    m.add_class::<cohorts::PyCohortTable>()?;
    m.add_class::<customers::PyRepeatRate>()?;
    m.add_class::<customers::PyCustomerSummary>()?;
    m.add_function(wrap_pyfunction!(customers::repeat_rate, m)?)?;
    m.add_class::<sbg::PySbgFit>()?;
    m.add_function(wrap_pyfunction!(sbg::sbg, m)?)?;
    m.add_class::<clv::PyClvResult>()?;
    m.add_function(wrap_pyfunction!(clv::clv_simple, m)?)?;
    m.add_function(wrap_pyfunction!(clv::clv_gupta_lehmann, m)?)?;
    m.add_function(wrap_pyfunction!(clv::clv_sbg, m)?)?;
    m.add_class::<trend::PyTrend>()?;
    m.add_class::<trend::PyAllPairs>()?;
    m.add_function(wrap_pyfunction!(trend::trend, m)?)?;
    m.add_function(wrap_pyfunction!(trend::compare_all, m)?)?;
    m.add_class::<survival::PyEventTable>()?;
    m.add_class::<survival::PyKaplanMeier>()?;
    m.add_function(wrap_pyfunction!(survival::answered_summary, m)?)?;
    m.add_class::<buy_till_you_die::PyBgNbdFit>()?;
    m.add_class::<buy_till_you_die::PyGammaGammaFit>()?;
    m.add_class::<buy_till_you_die::PyCustomerClv>()?;
    m.add_function(wrap_pyfunction!(buy_till_you_die::bgnbd, m)?)?;
    m.add_function(wrap_pyfunction!(buy_till_you_die::gamma_gamma, m)?)?;
    m.add_function(wrap_pyfunction!(buy_till_you_die::summary_rfm, m)?)?;
    m.add_function(wrap_pyfunction!(buy_till_you_die::clv_bgnbd, m)?)?;
    m.add_class::<journey::PyJourney>()?;
    m.add_class::<journey::PyTouchpointScores>()?;
    m.add_class::<journey::PyPainPoints>()?;
    m.add_class::<journey::PyJourneyGaps>()?;
    m.add_class::<journey::PyBrandComparison>()?;
    m.add_class::<journey::PyAuditCompliance>()?;
    m.add_class::<journey::PyAuditTally>()?;
    m.add_function(wrap_pyfunction!(journey::touchpoint_scores, m)?)?;
    m.add_function(wrap_pyfunction!(journey::pain_points, m)?)?;
    m.add_function(wrap_pyfunction!(journey::journey_gaps, m)?)?;
    m.add_function(wrap_pyfunction!(journey::compare_brands, m)?)?;
    m.add_class::<paths::PyPathTally>()?;
    m.add_class::<paths::PyPathResult>()?;
    m.add_class::<paths::PyNewVsReturning>()?;
    m.add_class::<paths::PyAbandonment>()?;
    m.add_function(wrap_pyfunction!(paths::paths, m)?)?;
    m.add_function(wrap_pyfunction!(paths::new_vs_returning, m)?)?;
    m.add_function(wrap_pyfunction!(paths::abandonment, m)?)?;
    m.add_class::<funnel::PyFunnelSpec>()?;
    m.add_class::<funnel::PyFunnelTally>()?;
    m.add_class::<funnel::PyFunnelResult>()?;
    m.add_class::<funnel::PyFunnelComparison>()?;
    m.add_function(wrap_pyfunction!(funnel::compare_funnels, m)?)?;
    m.add_class::<any_state::PyState>()?;
    m.add_class::<any_state::PyStateResult>()?;
    m.add_class::<handling::PyHandlingResult>()?;
    m.add_function(wrap_pyfunction!(handling::handling_time, m)?)?;
    m.add_class::<service_level::PyServiceLevelTally>()?;
    m.add_class::<service_level::PyServiceLevelResult>()?;
    m.add_function(wrap_pyfunction!(handling::handling_time_by_group, m)?)?;
    m.add_function(wrap_pyfunction!(service_level::service_level_by_group, m)?)?;
    m.add_class::<promoter_value::PyPromoterValue>()?;
    m.add_function(wrap_pyfunction!(promoter_value::promoter_value, m)?)?;
    m.add_class::<scoring::PyDriverModel>()?;
    m.add_class::<scoring::PyLogisticModel>()?;
    m.add_class::<scoring::PyRetentionModel>()?;
    m.add_class::<scoring::PyClvModel>()?;
    m.add_function(wrap_pyfunction!(arrow_input::fold_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(arrow_input::fold_arrow_table, m)?)?;
    Ok(())
}
