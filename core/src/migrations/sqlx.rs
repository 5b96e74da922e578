//! sqlx: `<version>_<description>.sql`, or reversible `<version>_<description>.up.sql` /
//! `.down.sql`, applied in version order, each in a transaction unless its first line is
//! `-- no-transaction`. History: `_sqlx_migrations` (version, success, checksum: SHA-384 of
//! the file).

use std::path::Path;

use sha2::{Digest, Sha384};

use super::{entries, golang_migrate, read_text, version::version_cmp, IgnoredFile, Migration};
use crate::error::Result;

/// `-- no-transaction` on the first line.
pub fn marked_no_transaction(text: &str) -> bool {
    text.lines().next().is_some_and(|l| l.trim().eq_ignore_ascii_case("-- no-transaction"))
}

/// sqlx's checksum: SHA-384 of the file, as lowercase hex.
pub fn checksum(text: &str) -> String {
    Sha384::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn read(dir: &Path) -> Result<(Vec<Migration>, Vec<IgnoredFile>)> {
    let mut out = Vec::new();
    let mut ignored = Vec::new();
    for e in entries(dir)? {
        if e.is_dir || !super::is_sql(&e.name) {
            continue;
        }
        let version = match golang_migrate::parse_name(&e.name) {
            Some((_, false)) => {
                ignored.push(IgnoredFile { file: e.path.display().to_string(), reason: "down migration (never applied by a run)".into() });
                continue;
            }
            Some((version, true)) => version,
            None => e.name.chars().take_while(|c| c.is_ascii_digit()).collect(),
        };
        if version.is_empty() {
            ignored.push(IgnoredFile { file: e.path.display().to_string(), reason: "not named <version>_<description>.sql".into() });
            continue;
        }
        let sql = read_text(&e.path)?;
        out.push(Migration {
            version: Some(version),
            name: e.path.display().to_string(),
            transactional: Some(!marked_no_transaction(&sql)),
            repeatable: false,
            checksum: Some(checksum(&sql)),
            sql,
        });
    }
    out.sort_by(|a, b| version_cmp(a.version.as_deref().unwrap_or(""), b.version.as_deref().unwrap_or("")));
    Ok((out, ignored))
}
