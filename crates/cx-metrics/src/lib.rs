//! # cx-metrics
//!
//! Customer-experience analytics with typed inputs and honest uncertainty: Net Promoter Score, CSAT and
//! CES with confidence intervals, comparisons and sample-size planning; driver analysis of the six KPMG
//! pillars of experience; operational metrics.
//!
//! Raw values are validated once, at the edge, into typed ratings; they are folded into mergeable tallies
//! (see [`Merge`]); results are computed from tallies and are plain data.
//!
//! ```
//! use cx_metrics::{NanPolicy, Merge, ScaleTally, Scale};
//! let mut t = ScaleTally::new(Scale::NPS);
//! t.fold(&[10u8, 9, 7, 3], None, NanPolicy::Omit).unwrap();
//! assert_eq!(t.n(), 4);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod activity;
pub mod any_state;
pub mod audit;
pub mod buy_till_you_die;
pub mod ces;
pub mod churn;
pub mod clv;
pub mod cohorts;
pub mod control_chart;
pub mod csat;
pub mod customers;
pub mod design;
pub mod drivers;
pub mod error;
pub mod events;
pub mod funnel;
pub mod groups;
pub mod handling;
pub mod importance;
pub mod intervals;
pub mod journey;
pub mod linalg;
pub mod logistic;
pub mod moments;
pub mod multiple;
pub mod nps;
pub mod nps_value_tally;
pub mod paths;
pub mod pillar_tally;
pub mod pillars;
pub mod promoter_value;
pub mod regression;
mod resample;
pub mod sbg;
pub mod scale;
pub mod scoring;
mod serde_nan;
pub mod service_level;
mod simd;
pub mod state;
mod summary;
pub mod survival;
pub mod tally;
pub mod trend;
pub mod weights;

pub use audit::{AuditCompliance, AuditTally};
pub use buy_till_you_die::{bgnbd_fit, gamma_gamma_fit, BgNbdFit, GammaGammaFit};
pub use ces::{
    ces1, ces2, compare_ces, Ces1, Ces1Tally, Ces2, Ces2Tally, CesResult, CesTally, CesVersion,
};
pub use churn::{convert_churn, retention_shortcut, ChurnResult, ChurnTally};
pub use clv::ClvResult;
pub use cohorts::{CohortTable, CohortTally};
pub use control_chart::{ChartLimits, ControlChart};
pub use csat::{compare_csat, csat, CsatResult, CsatScale, CsatTally, Satisfied};
pub use customers::{repeat_rate, CustomerSummary, RepeatRate};
pub use design::Design;
pub use drivers::driver_analysis_design;
pub use drivers::{
    driver_analysis, driver_analysis_from_covariance, driver_analysis_from_moments,
    pillar_driver_analysis, pillar_driver_analysis_from_scores, DriverAnalysis, DriverOptions,
    DriverWarning, MissingPolicy,
};
pub use error::{Error, Result, UndefinedReason};
pub use funnel::{compare_funnels, FunnelResult, FunnelSpec, FunnelTally};
pub use handling::{HandlingResult, HandlingTally};
pub use importance::{
    dominance_from_subsets, relative_importance, shapley_from_subsets, Dominance, DriverGroup,
    ImportanceMeasure, ImportanceOptions, ImportanceWarning, LmgMethod, MeasureScores,
    RelativeImportance, SubsetRSquared,
};
pub use intervals::{
    compare_proportions, mean_t_ci, newcombe_difference, proportion_ci, Interval,
    ProportionComparison, ProportionMethod,
};
pub use journey::{Journey, Ownership, Stage, Touchpoint, TouchpointScores};
pub use logistic::{
    detractor_model, logistic_regression, nps_model, nps_pseudo_r2_shapley, promoter_model,
    pseudo_r2_shapley, LogisticOptions, LogisticRegression, LogisticTerm, NpsOutcome,
    PseudoR2Shapley, Separation, SeparationKind, SeparationPolicy, ShapleyMethod, ShapleyOptions,
};
pub use moments::{Covariance, Moments};
pub use multiple::PValueAdjustment;
pub use multiple::{all_pairs, AllPairs, PairComparison};
pub use nps::{NpsMethod, NpsResult, NpsTally};
pub use nps_value_tally::NpsValueTally;
pub use paths::{PathResult, PathTally};
pub use pillar_tally::{PillarTally, PillarTallyResult};
pub use pillars::{Pillar, PillarGroup, PillarItems, PillarScores, PillarSummary, SummaryOptions};
pub use promoter_value::{promoter_value, PromoterValue};
pub use regression::ols_design;
pub use regression::{ols, ols_from_covariance, ols_from_moments, Coefficient, OlsFit};
pub use regression::{ols_with, CovarianceType};
pub use sbg::{sbg_fit, SbgFit};
pub use scale::{Direction, NanPolicy, NpsCategory, NpsRating, RawValue, Scale};
pub use scoring::{ClvModel, DriverModel, LogisticModel, RetentionModel};
pub use service_level::{ServiceLevelResult, ServiceLevelTally, SlFormula};
pub use state::Example;
pub use state::{Accumulator, Ratings, StateKind, Values};
pub use survival::{EventTable, KaplanMeier};
pub use tally::{Merge, ScaleTally};
pub use trend::{trend, Measure, Trend, TrendOptions, TrendRows};
pub use weights::Weights;

/// The registry of mergeable state kinds, one line each: the kind's variant of [`StateKind`], its
/// code in the byte header, its name in JSON (code and name are never reused), and its state type
/// (a path from the crate root; it implements [`Accumulator`] with that kind, and
/// [`state::Example`]). [`StateKind`] with its codes and names, and [`for_each_state!`] (golden
/// files and fuzz tests of every kind) are generated from it.
#[doc(hidden)]
#[macro_export]
macro_rules! state_registry {
    ($then:ident $($args:tt)*) => {
        $crate::$then! { ($($args)*)
            ScaleTally = 1, scale_tally, ScaleTally;
            NpsTally = 2, nps_tally, NpsTally;
            CsatTally = 3, csat_tally, CsatTally;
            Ces2Tally = 4, ces2_tally, Ces2Tally;
            Ces1Tally = 5, ces1_tally, Ces1Tally;
            PairedNpsTally = 6, paired_nps_tally, nps::PairedTally;
            Moments = 7, moments, Moments;
            EventTable = 8, event_table, survival::EventTable;
            ChurnTally = 9, churn_tally, ChurnTally;
            CohortTally = 10, cohort_tally, CohortTally;
            CustomerSummary = 11, customer_summary, CustomerSummary;
            HandlingTally = 12, handling_tally, HandlingTally;
            ServiceLevelTally = 13, service_level_tally, ServiceLevelTally;
            FunnelTally = 14, funnel_tally, funnel::FunnelTally;
            PathTally = 15, path_tally, paths::PathTally;
            AuditTally = 16, audit_tally, audit::AuditTally;
            PillarTally = 17, pillar_tally, pillar_tally::PillarTally;
            NpsValueTally = 18, nps_value_tally, nps_value_tally::NpsValueTally;
        }
    };
}

// The kinds a program can make by name and fold from named columns (`any_state::AnyState`): one
// line per kind that implements `any_state::Columnar`.
columnar_states! {
    HandlingTally,
    PillarTally,
    NpsValueTally,
}

/// The README's Rust example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// The Rust examples of the guide (docs/*.md), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/getting-started-rust.md")]
pub struct GettingStartedRustDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/nps.md")]
pub struct NpsDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/csat.md")]
pub struct CsatDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/ces.md")]
pub struct CesDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/intervals.md")]
pub struct IntervalsDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/driver-analysis.md")]
pub struct DriverAnalysisDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/scaling-out.md")]
pub struct ScalingOutDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/service.md")]
pub struct ServiceDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/contributing.md")]
pub struct ContributingDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/trends.md")]
pub struct TrendsDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/funnels.md")]
pub struct FunnelsDoctests;
