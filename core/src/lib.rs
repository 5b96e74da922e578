//! dbconsultant: checks database changes before they reach production.
//!
//! The entry point is [`Consultant`]; every check returns a [`model::TestRun`], the run
//! document (docs/run-document.md), and stores it in the artifact store.

#[macro_use]
mod macros;

pub mod dialect;
pub mod driver;
pub mod error;
pub mod findings;
pub mod model;
mod parallel;
pub mod rules;
pub mod sql;
pub mod sqltypes;
pub mod url;

/// This library's version; every SDK and the CLI report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use dialect::Dialect;
pub use error::{Error, ErrorKind, Result};
pub mod api;
pub mod checks;
pub mod config;
pub mod engine;
pub mod guard;
pub mod inputs;
pub mod inspect;
pub mod masking;
pub mod migrations;
pub mod ops;
pub mod risk;
pub mod store;

pub use checks::etl::{AggregateSpec, EtlRequest, Strategy as EtlStrategy};
pub use checks::integrity::user_rules::{RulesFile, UserRule};
pub use checks::integrity::IntegrityRequest;
pub use checks::perf::PerfRequest;
pub use checks::schema::{LintRequest, SchemaValidationRequest};
pub use config::Config;
pub use engine::{Consultant, ConsultantOptions};
pub use sql::MigrationSource;
pub mod report;

/// The Rust examples of the documentation (`docs/rust.md`), compiled by `cargo test` as
/// doctests so the book cannot show an API that does not exist. Outside doctest builds the
/// item (and the file outside the crate) is gone, so the published crate does not need it.
#[cfg(doctest)]
#[doc = include_str!("../../docs/rust.md")]
pub struct RustGuideExamples;
