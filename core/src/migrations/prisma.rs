//! Prisma Migrate: a directory per migration, `<timestamp>_<name>/migration.sql`, in name
//! order. History: `_prisma_migrations` (migration_name, checksum: SHA-256 of the file,
//! finished_at, rolled_back_at).

use std::path::Path;

use sha2::{Digest, Sha256};

use super::{entries, read_text, IgnoredFile, Migration};
use crate::error::Result;

/// Prisma's checksum: SHA-256 of `migration.sql`, as lowercase hex.
pub fn checksum(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn read(dir: &Path) -> Result<(Vec<Migration>, Vec<IgnoredFile>)> {
    let mut out = Vec::new();
    for e in entries(dir)? {
        let file = e.path.join("migration.sql");
        if !e.is_dir || !file.is_file() {
            continue;
        }
        let sql = read_text(&file)?;
        // The directory name is what the history table records.
        out.push(Migration {
            version: Some(e.name.clone()),
            name: file.display().to_string(),
            checksum: Some(checksum(&sql)),
            sql,
            transactional: None,
            repeatable: false,
        });
    }
    Ok((out, Vec::new()))
}
