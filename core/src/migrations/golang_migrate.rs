//! golang-migrate: `<version>_<title>.up.sql` applied in version order; `.down.sql` never.
//! It sends a file as one multi-statement query, which PostgreSQL runs as one implicit
//! transaction, so a file of several statements is transactional (and `CREATE INDEX
//! CONCURRENTLY` must be alone in its file). History: `schema_migrations` (the latest
//! version, and `dirty` when a migration failed halfway).

use std::path::Path;

use super::{entries, read_text, version::version_cmp, IgnoredFile, Migration};
use crate::error::Result;

/// (version, is up) of `<version>_<title>.up.sql` / `.down.sql`.
pub fn parse_name(name: &str) -> Option<(String, bool)> {
    let lower = name.to_ascii_lowercase();
    let (stem, up) = if let Some(s) = lower.strip_suffix(".up.sql") { (s, true) } else { (lower.strip_suffix(".down.sql")?, false) };
    let version: String = stem.chars().take_while(|c| c.is_ascii_digit()).collect();
    (!version.is_empty()).then_some((version, up))
}

/// Statements in a text, roughly (for the transaction rule: one statement or several).
fn several_statements(sql: &str) -> bool {
    sql.split(';').filter(|s| s.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))).count() > 1
}

pub fn read(dir: &Path) -> Result<(Vec<Migration>, Vec<IgnoredFile>)> {
    let mut out = Vec::new();
    let mut ignored = Vec::new();
    for e in entries(dir)? {
        if e.is_dir {
            continue;
        }
        match parse_name(&e.name) {
            Some((version, true)) => {
                let sql = read_text(&e.path)?;
                let transactional = Some(several_statements(&sql));
                out.push(Migration {
                    version: Some(version),
                    name: e.path.display().to_string(),
                    sql,
                    transactional,
                    repeatable: false,
                    checksum: None,
                });
            }
            Some((_, false)) => {
                ignored.push(IgnoredFile { file: e.path.display().to_string(), reason: "down migration (never applied by an up)".into() })
            }
            None if super::is_sql(&e.name) => {
                ignored.push(IgnoredFile { file: e.path.display().to_string(), reason: "not named <version>_<title>.up.sql".into() })
            }
            None => {}
        }
    }
    out.sort_by(|a, b| version_cmp(a.version.as_deref().unwrap_or(""), b.version.as_deref().unwrap_or("")));
    Ok((out, ignored))
}
