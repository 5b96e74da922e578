//! dbmate: `<version>_<name>.sql` files holding `-- migrate:up` and `-- migrate:down`
//! sections; only the up section is applied, in a transaction unless its marker says
//! `transaction:false`. History: `schema_migrations` (one row per applied version).

use std::path::Path;

use super::{read_sectioned, section, IgnoredFile, Migration};
use crate::error::Result;

fn is_up(line: &str) -> bool {
    line.to_ascii_lowercase().starts_with("-- migrate:up")
}

fn is_down(line: &str) -> bool {
    line.to_ascii_lowercase().starts_with("-- migrate:down")
}

pub fn has_sections(text: &str) -> bool {
    text.lines().any(|l| is_up(l.trim()))
}

pub fn migration(name: String, text: &str, version: Option<String>) -> Migration {
    let off = text
        .lines()
        .map(str::trim)
        .find(|l| is_up(l))
        .is_some_and(|l| l.replace(' ', "").to_ascii_lowercase().contains("transaction:false"));
    Migration { version, name, sql: section(text, is_up, is_down), transactional: Some(!off), repeatable: false, checksum: None }
}

pub fn read(dir: &Path) -> Result<(Vec<Migration>, Vec<IgnoredFile>)> {
    read_sectioned(dir, "dbmate", "-- migrate:up", has_sections, migration, |_| None)
}
