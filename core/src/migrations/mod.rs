//! Migration tools: how Flyway, golang-migrate, sqlx, diesel, Prisma, dbmate and goose lay out
//! their migrations, in which order they apply them, which parts are never applied (down and
//! undo migrations), which run outside a transaction, and which are already applied on a
//! database (their history tables, read read-only).
//!
//! A directory is read as one layout: detected from its files, or forced. Each layout is one
//! file here (`flyway.rs`, `golang_migrate.rs` ...) with its file naming, its ordering and its
//! history table.

mod dbmate;
mod diesel;
mod flyway;
mod golang_migrate;
mod goose;
pub mod history;
mod plain;
mod prisma;
mod sqlx;
pub mod version;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::sql::MigrationSource;

string_enum!(
    /// A migration tool's layout of migration files.
    Layout as ("layout") {
        Flyway => "flyway",
        GolangMigrate => "golang-migrate",
        Sqlx => "sqlx",
        Diesel => "diesel",
        Prisma => "prisma",
        Dbmate => "dbmate",
        Goose => "goose",
        Plain => "plain",
    }
);

/// One migration as its tool would apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The version as the tool writes it (`1.1`, `20240101120000`, `2019-02-26-002946`);
    /// `None` for Flyway repeatable migrations and plain files.
    pub version: Option<String>,
    /// How reports name it (the file path as given).
    pub name: String,
    /// The up part only: what the tool runs.
    pub sql: String,
    /// Whether the tool runs it inside a transaction: `Some(true)` it wraps it, `Some(false)`
    /// it is marked not to, `None` the tool leaves it to the script.
    pub transactional: Option<bool>,
    /// Flyway `R__` migrations: applied after the versioned ones whenever they change.
    pub repeatable: bool,
    /// The checksum the tool's history records for it (Flyway CRC32, sqlx SHA-384, Prisma
    /// SHA-256), to compare with an applied migration's.
    pub checksum: Option<String>,
}

impl Migration {
    pub fn source(&self) -> MigrationSource {
        MigrationSource { name: self.name.clone(), sql: self.sql.clone(), transactional: self.transactional }
    }
}

/// A file of the directory that is not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IgnoredFile {
    pub file: String,
    pub reason: String,
}

/// The migrations of one input, in the order the tool applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSet {
    pub layout: Layout,
    /// True when the layout was detected rather than given.
    pub detected: bool,
    pub migrations: Vec<Migration>,
    pub ignored: Vec<IgnoredFile>,
}

/// A file or directory entry, for layout readers.
pub(crate) struct Entry {
    pub path: PathBuf,
    pub name: String,
    pub is_dir: bool,
}

pub(crate) fn entries(dir: &Path) -> Result<Vec<Entry>> {
    let mut out: Vec<Entry> = std::fs::read_dir(dir)
        .map_err(|e| Error::invalid(format!("cannot read directory {}: {e}", dir.display())))?
        .filter_map(|e| e.ok())
        .map(|e| {
            let path = e.path();
            Entry { name: e.file_name().to_string_lossy().into_owned(), is_dir: path.is_dir(), path }
        })
        .collect();
    out.sort_by(|a, b| version::natural_cmp(&a.name, &b.name));
    Ok(out)
}

pub(crate) fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::invalid(format!("cannot read migration {}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map_err(|e| Error::invalid(format!("migration {} is not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to())))
}

pub(crate) fn is_sql(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".sql")
}

/// The layout a directory is in, from its files.
pub fn detect(dir: &Path) -> Result<Layout> {
    let entries = entries(dir)?;
    let has_file_in = |e: &Entry, file: &str| e.is_dir && e.path.join(file).is_file();
    if entries.iter().any(|e| has_file_in(e, "migration.sql")) {
        return Ok(Layout::Prisma);
    }
    if entries.iter().any(|e| has_file_in(e, "up.sql")) {
        return Ok(Layout::Diesel);
    }
    if entries.iter().any(|e| !e.is_dir && flyway::is_flyway_name(&e.name)) || flyway::nested(dir) {
        return Ok(Layout::Flyway);
    }
    if entries.iter().any(|e| !e.is_dir && e.name.to_ascii_lowercase().ends_with(".up.sql")) {
        return Ok(Layout::GolangMigrate);
    }
    let texts: Vec<String> = entries.iter().filter(|e| !e.is_dir && is_sql(&e.name)).filter_map(|e| read_text(&e.path).ok()).collect();
    if texts.iter().any(|t| dbmate::has_sections(t)) {
        return Ok(Layout::Dbmate);
    }
    if texts.iter().any(|t| goose::has_sections(t)) {
        return Ok(Layout::Goose);
    }
    if texts.iter().any(|t| sqlx::marked_no_transaction(t)) {
        return Ok(Layout::Sqlx);
    }
    Ok(Layout::Plain)
}

/// A directory's migrations in the given layout, in apply order.
/// The files of a tool whose migrations hold up and down sections (dbmate, goose):
/// `<version>_<name>.sql` with the tool's up `marker`, in version order; other SQL files, and
/// files `foreign` names a reason for, are listed as ignored.
fn read_sectioned(
    dir: &Path,
    tool: &str,
    marker: &str,
    has_sections: fn(&str) -> bool,
    migration: fn(String, &str, Option<String>) -> Migration,
    foreign: impl Fn(&str) -> Option<&'static str>,
) -> Result<(Vec<Migration>, Vec<IgnoredFile>)> {
    let mut out = Vec::new();
    let mut ignored = Vec::new();
    for e in entries(dir)? {
        if e.is_dir {
            continue;
        }
        if let Some(reason) = foreign(&e.name) {
            ignored.push(IgnoredFile { file: e.path.display().to_string(), reason: reason.into() });
            continue;
        }
        if !is_sql(&e.name) {
            continue;
        }
        let text = read_text(&e.path)?;
        let version: String = e.name.chars().take_while(|c| c.is_ascii_digit()).collect();
        if version.is_empty() || !has_sections(&text) {
            let reason = format!("not a {tool} migration (<version>_<name>.sql with {marker})");
            ignored.push(IgnoredFile { file: e.path.display().to_string(), reason });
            continue;
        }
        out.push(migration(e.path.display().to_string(), &text, Some(version)));
    }
    out.sort_by(|a, b| version::natural_cmp(a.version.as_deref().unwrap_or(""), b.version.as_deref().unwrap_or("")));
    Ok((out, ignored))
}

pub fn read_dir(dir: &Path, layout: Layout) -> Result<Vec<Migration>> {
    let (migrations, _) = read_dir_with_ignored(dir, layout)?;
    Ok(migrations)
}

fn read_dir_with_ignored(dir: &Path, layout: Layout) -> Result<(Vec<Migration>, Vec<IgnoredFile>)> {
    match layout {
        Layout::Flyway => flyway::read(dir),
        Layout::GolangMigrate => golang_migrate::read(dir),
        Layout::Sqlx => sqlx::read(dir),
        Layout::Diesel => diesel::read(dir),
        Layout::Prisma => prisma::read(dir),
        Layout::Dbmate => dbmate::read(dir),
        Layout::Goose => goose::read(dir),
        Layout::Plain => plain::read(dir),
    }
}

/// One migration file given directly: its up part when it holds up and down sections (dbmate,
/// goose), the whole file otherwise.
pub fn read_file(path: &Path) -> Result<(Migration, Layout)> {
    let text = read_text(path)?;
    let name = path.display().to_string();
    if dbmate::has_sections(&text) {
        return Ok((dbmate::migration(name, &text, None), Layout::Dbmate));
    }
    if goose::has_sections(&text) {
        return Ok((goose::migration(name, &text, None), Layout::Goose));
    }
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    if file.to_ascii_lowercase().ends_with(".down.sql") || file.starts_with('U') && flyway::is_flyway_name(&file) {
        return Err(Error::invalid(format!("{name} is a down/undo migration: it is never applied, so it is not validated")));
    }
    let transactional = sqlx::marked_no_transaction(&text).then_some(false);
    Ok((Migration { version: None, name, sql: text, transactional, repeatable: false, checksum: None }, Layout::Plain))
}

/// Every input: directories in their (detected or given) layout, files as they are.
pub fn read(paths: &[PathBuf], layout: Option<Layout>) -> Result<MigrationSet> {
    let mut set =
        MigrationSet { layout: layout.unwrap_or(Layout::Plain), detected: layout.is_none(), migrations: Vec::new(), ignored: Vec::new() };
    let mut seen_dir = false;
    for path in paths {
        if path.is_dir() {
            let dir_layout = match layout {
                Some(l) => l,
                None => detect(path)?,
            };
            if seen_dir && dir_layout != set.layout {
                return Err(Error::invalid(format!(
                    "{} is laid out for {dir_layout}, an earlier directory for {}: give one tool's migrations at a time (or --layout)",
                    path.display(),
                    set.layout
                )));
            }
            seen_dir = true;
            set.layout = dir_layout;
            let (migrations, ignored) = read_dir_with_ignored(path, dir_layout)?;
            if migrations.is_empty() && ignored.is_empty() {
                return Err(Error::invalid(format!("directory {} holds no .sql migration", path.display())));
            }
            set.migrations.extend(migrations);
            set.ignored.extend(ignored);
        } else if path.exists() {
            let (migration, file_layout) = read_file(path)?;
            if !seen_dir && layout.is_none() && file_layout != Layout::Plain {
                set.layout = file_layout;
            }
            set.migrations.push(migration);
        } else {
            return Err(Error::invalid(format!("cannot read migration {}: no such file or directory", path.display())));
        }
    }
    Ok(set)
}

/// The up part of a text split by section markers: the lines after `up` up to `down`.
pub(crate) fn section(text: &str, is_up: impl Fn(&str) -> bool, is_down: impl Fn(&str) -> bool) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if is_up(trimmed) {
            inside = true;
            // Keep the line (as a blank one) so positions in the file stay right.
            out.push('\n');
            continue;
        }
        if is_down(trimmed) {
            inside = false;
        }
        if inside {
            out.push_str(line);
        } else {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests;
