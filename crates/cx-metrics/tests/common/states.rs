//! One sample state of every kind (its [`Example`]): the states of the golden files
//! (tests/golden/) and the seeds of the fuzz tests. The list of kinds is the crate's registry
//! (`cx_metrics::for_each_state!`); a new kind needs nothing here.

// Each test file uses part of this module.
#![allow(dead_code, unused_macros, unused_imports)]

use cx_metrics::nps::PairedTally;
use cx_metrics::{Ces1Tally, Ces2Tally, CsatTally, Example, Moments, NpsTally, ScaleTally};

pub fn scale_tally() -> ScaleTally {
    ScaleTally::example()
}

pub fn nps_tally() -> NpsTally {
    NpsTally::example()
}

pub fn csat_tally() -> CsatTally {
    CsatTally::example()
}

pub fn ces2_tally() -> Ces2Tally {
    Ces2Tally::example()
}

pub fn ces1_tally() -> Ces1Tally {
    Ces1Tally::example()
}

pub fn paired_tally() -> PairedTally {
    PairedTally::example()
}

pub fn moments() -> Moments {
    Moments::example()
}

/// `$m!(name, Type, sample)` for every registered kind (the crate's registry).
pub(crate) use cx_metrics::for_each_state;
