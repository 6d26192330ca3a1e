//! Helpers shared by the integration tests.

pub mod states;
pub mod tol;
