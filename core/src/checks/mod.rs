//! The capabilities: each check turns a request into a run document.

pub mod etl;
pub mod integrity;
pub mod perf;
pub mod schema;

use crate::findings::{FindingDoc, FindingId};

/// The documentation of every finding a check raises from what it observed (static rules
/// document themselves in `rules/`).
pub(crate) fn finding_docs() -> impl Iterator<Item = &'static (FindingId, FindingDoc)> {
    schema::findings::DOCS.iter().chain(integrity::findings::DOCS).chain(etl::findings::DOCS).chain(perf::findings::DOCS)
}
