//! diesel: a directory per migration, `<version>_<name>/up.sql` (and `down.sql`, never
//! applied), in version order; each in a transaction unless its `metadata.toml` says
//! `run_in_transaction = false`. History: `__diesel_schema_migrations` (versions without
//! dashes).

use std::path::Path;

use super::{entries, read_text, version::natural_cmp, IgnoredFile, Migration};
use crate::error::Result;

/// A diesel version as its history table holds it: the digits of the directory's prefix.
pub fn normalize(version: &str) -> String {
    version.chars().filter(|c| c.is_ascii_digit()).collect()
}

pub fn read(dir: &Path) -> Result<(Vec<Migration>, Vec<IgnoredFile>)> {
    let mut out = Vec::new();
    let mut ignored = Vec::new();
    for e in entries(dir)? {
        if !e.is_dir {
            continue;
        }
        let up = e.path.join("up.sql");
        if !up.is_file() {
            continue;
        }
        let version = e.name.split('_').next().unwrap_or(&e.name).to_string();
        let metadata = std::fs::read_to_string(e.path.join("metadata.toml")).unwrap_or_default();
        let off = metadata.lines().any(|l| l.replace(' ', "").eq_ignore_ascii_case("run_in_transaction=false"));
        let sql = read_text(&up)?;
        out.push(Migration {
            version: Some(version),
            name: up.display().to_string(),
            sql,
            transactional: Some(!off),
            repeatable: false,
            checksum: None,
        });
        let down = e.path.join("down.sql");
        if down.is_file() {
            ignored.push(IgnoredFile { file: down.display().to_string(), reason: "down migration (never applied by a run)".into() });
        }
    }
    out.sort_by(|a, b| natural_cmp(&normalize(a.version.as_deref().unwrap_or("")), &normalize(b.version.as_deref().unwrap_or(""))));
    Ok((out, ignored))
}
