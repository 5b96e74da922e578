//! Flyway: `V<version>__<description>.sql` applied in version order (numbers, `1.10` after
//! `1.9`, `_` as `.`), then `R__<description>.sql` repeatables (whenever their checksum
//! changed); `U<version>__` undo and `B<version>__` baseline migrations are never applied.
//! Flyway runs a migration in a transaction unless it holds a statement that cannot run in
//! one (`CREATE INDEX CONCURRENTLY`) or its `.conf` says `executeInTransaction=false`.
//! History: `flyway_schema_history` (version, script, checksum CRC32, success).

use std::path::Path;

use super::{entries, is_sql, read_text, version::version_cmp, IgnoredFile, Migration};
use crate::error::Result;

/// `V1__x.sql`, `V1.2__x.sql`, `R__x.sql`, `U3__x.sql`, `B5__x.sql`.
pub fn is_flyway_name(name: &str) -> bool {
    parse_name(name).is_some()
}

/// (prefix letter, version) of a Flyway file name.
fn parse_name(name: &str) -> Option<(char, Option<String>)> {
    if !is_sql(name) {
        return None;
    }
    let (head, _) = name.split_once("__")?;
    let prefix = head.chars().next()?;
    let version = &head[1..];
    match prefix {
        'R' if version.is_empty() => Some(('R', None)),
        'V' | 'U' | 'B' if !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '_') => {
            Some((prefix, Some(version.replace('_', "."))))
        }
        _ => None,
    }
}

/// Flyway finds migrations in subdirectories too.
pub fn nested(dir: &Path) -> bool {
    entries(dir).map(|es| es.iter().any(|e| e.is_dir && (is_flyway_name_in(&e.path) || nested(&e.path)))).unwrap_or(false)
}

fn is_flyway_name_in(dir: &Path) -> bool {
    entries(dir).map(|es| es.iter().any(|e| !e.is_dir && is_flyway_name(&e.name))).unwrap_or(false)
}

/// Flyway's checksum: CRC32 of each line's UTF-8 bytes without line endings (so CRLF and LF
/// files agree), without a byte-order mark, as a signed 32-bit integer.
pub fn checksum(text: &str) -> i32 {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut hasher = crc32fast::Hasher::new();
    for line in text.split('\n') {
        hasher.update(line.strip_suffix('\r').unwrap_or(line).as_bytes());
    }
    hasher.finalize() as i32
}

fn collect(dir: &Path, out: &mut Vec<(char, Option<String>, std::path::PathBuf)>, ignored: &mut Vec<IgnoredFile>) -> Result<()> {
    for e in entries(dir)? {
        if e.is_dir {
            collect(&e.path, out, ignored)?;
        } else if let Some((prefix, version)) = parse_name(&e.name) {
            out.push((prefix, version, e.path));
        } else if is_sql(&e.name) {
            ignored.push(IgnoredFile {
                file: e.path.display().to_string(),
                reason: "not a Flyway migration name (V<version>__<description>.sql or R__<description>.sql)".into(),
            });
        }
    }
    Ok(())
}

pub fn read(dir: &Path) -> Result<(Vec<Migration>, Vec<IgnoredFile>)> {
    let mut found = Vec::new();
    let mut ignored = Vec::new();
    collect(dir, &mut found, &mut ignored)?;
    let mut to_read = Vec::new();
    for (prefix, version, path) in found {
        let name = path.display().to_string();
        match prefix {
            'U' => ignored.push(IgnoredFile { file: name, reason: "undo migration (never applied by a migrate)".into() }),
            'B' => ignored.push(IgnoredFile { file: name, reason: "baseline migration (only for new databases)".into() }),
            _ => to_read.push((prefix, version, path, name)),
        }
    }
    // Reading, checksumming and scanning hundreds of files is independent work: every core
    // takes some (it was an eighth of linting a 400-file directory on one thread).
    let read: Vec<Result<Migration>> = crate::parallel::install(|| {
        use rayon::prelude::*;
        to_read.into_par_iter().map(|(prefix, version, path, name)| migration(prefix, version, &path, name)).collect()
    });
    // The first unreadable file in order is the one reported, as on one thread.
    let read: Vec<Migration> = read.into_iter().collect::<Result<_>>()?;
    let (mut repeatable, mut versioned): (Vec<Migration>, Vec<Migration>) = read.into_iter().partition(|m| m.repeatable);
    versioned.sort_by(|a, b| version_cmp(a.version.as_deref().unwrap_or(""), b.version.as_deref().unwrap_or("")));
    // Repeatables run after every versioned migration, in description order.
    repeatable.sort_by(|a, b| a.name.cmp(&b.name));
    versioned.extend(repeatable);
    Ok((versioned, ignored))
}

/// One versioned or repeatable migration file, read with its settings file (`.conf`).
fn migration(prefix: char, version: Option<String>, path: &Path, name: String) -> Result<Migration> {
    let sql = read_text(path)?;
    let conf = std::fs::read_to_string(format!("{}.conf", path.display())).unwrap_or_default();
    let marked_off = conf.lines().any(|l| l.replace(' ', "").eq_ignore_ascii_case("executeInTransaction=false"));
    let concurrently = sql.to_ascii_uppercase().contains("CONCURRENTLY");
    Ok(Migration {
        checksum: Some(checksum(&sql).to_string()),
        transactional: Some(!(marked_off || concurrently)),
        repeatable: prefix == 'R',
        version,
        name,
        sql,
    })
}
