//! SQL text handling: splitting and parsing migration scripts with positions.

pub mod script;

pub use script::{parse_script, MigrationSource, ParseFailure, ParsedStatement, Script};
