//! Plain `*.sql` files, applied in natural order (`2_x.sql` before `10_x.sql`); files named
//! like down migrations (`*.down.sql`) are never applied.

use std::path::Path;

use super::{entries, read_text, sqlx, IgnoredFile, Migration};
use crate::error::Result;

pub fn read(dir: &Path) -> Result<(Vec<Migration>, Vec<IgnoredFile>)> {
    let mut out = Vec::new();
    let mut ignored = Vec::new();
    for e in entries(dir)? {
        if e.is_dir || !super::is_sql(&e.name) {
            continue;
        }
        if e.name.to_ascii_lowercase().ends_with(".down.sql") {
            ignored.push(IgnoredFile { file: e.path.display().to_string(), reason: "down migration (never applied)".into() });
            continue;
        }
        let sql = read_text(&e.path)?;
        let transactional = sqlx::marked_no_transaction(&sql).then_some(false);
        out.push(Migration { version: None, name: e.path.display().to_string(), sql, transactional, repeatable: false, checksum: None });
    }
    Ok((out, ignored))
}
