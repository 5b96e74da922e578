//! Query performance profiling (SPEC §4). Work in progress (issue 6): the fingerprint is
//! here; plans, timing, recommendations and their verification are not yet.

pub mod analyze;
pub mod fingerprint;
pub mod verify;
