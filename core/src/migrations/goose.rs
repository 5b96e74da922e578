//! goose: `<version>_<name>.sql` files holding `-- +goose Up` and `-- +goose Down` sections
//! (statements spanning semicolons between `-- +goose StatementBegin` and `StatementEnd`);
//! only the up section is applied, in a transaction unless the file says `-- +goose NO
//! TRANSACTION`; `.go` migrations are not SQL. History: `goose_db_version` (version_id,
//! is_applied; the latest row per version decides).

use std::path::Path;

use super::{read_sectioned, section, IgnoredFile, Migration};
use crate::error::Result;

fn annotation(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("+goose")?;
    Some(rest.trim().to_ascii_lowercase())
}

fn is_up(line: &str) -> bool {
    annotation(line).is_some_and(|a| a == "up")
}

fn is_down(line: &str) -> bool {
    annotation(line).is_some_and(|a| a == "down")
}

pub fn has_sections(text: &str) -> bool {
    text.lines().any(is_up)
}

pub fn migration(name: String, text: &str, version: Option<String>) -> Migration {
    let off = text.lines().any(|l| annotation(l).is_some_and(|a| a.replace(' ', "") == "notransaction"));
    Migration { version, name, sql: section(text, is_up, is_down), transactional: Some(!off), repeatable: false, checksum: None }
}

pub fn read(dir: &Path) -> Result<(Vec<Migration>, Vec<IgnoredFile>)> {
    let go = |name: &str| name.ends_with(".go").then_some("Go migration (not SQL: not validated)");
    read_sectioned(dir, "goose", "-- +goose Up", has_sections, migration, go)
}
