//! The capabilities: each check turns a request into a run document.

pub mod etl;
pub mod integrity;
pub mod perf;
pub mod schema;
