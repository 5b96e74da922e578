//! SQL text handling: splitting and parsing migration scripts with positions.

pub mod grammar;
pub mod mentions;
pub mod script;

pub use grammar::Grammar;
pub use script::{parse_script, MigrationSource, ParseFailure, ParsedStatement, Script};
