//! The migration tools' history tables, read read-only on the target: which migrations are
//! applied, whether an applied migration's file changed since (checksums), whether a pending
//! one would run out of order, whether the tool left the database half-migrated.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{diesel, version::version_cmp, IgnoredFile, Layout, Migration, MigrationSet};
use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::findings::FindingId;
use crate::model::{Finding, SchemaSnapshot, Severity};

/// One applied (or attempted) migration as the history records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: Option<String>,
    /// Flyway: the script name (repeatables are matched by it).
    pub script: Option<String>,
    pub checksum: Option<String>,
    /// Applied and in effect (not failed, not rolled back).
    pub success: bool,
    /// Failed halfway: the tool refuses to go on until it is repaired (a goose or Prisma
    /// rollback is not a failure).
    pub failed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub layout: Layout,
    pub table: String,
    pub applied: Vec<Applied>,
    /// golang-migrate keeps only the latest version: every version up to it is applied.
    pub up_to: Option<String>,
    /// golang-migrate: the version a failed migration left the database at.
    pub dirty: Option<String>,
}

/// The history table of each tool.
pub fn table_of(layout: Layout) -> Option<&'static str> {
    match layout {
        Layout::Flyway => Some("flyway_schema_history"),
        Layout::Sqlx => Some("_sqlx_migrations"),
        Layout::Diesel => Some("__diesel_schema_migrations"),
        Layout::Prisma => Some("_prisma_migrations"),
        Layout::Goose => Some("goose_db_version"),
        Layout::GolangMigrate | Layout::Dbmate => Some("schema_migrations"),
        Layout::Plain => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
        Some(Value::String(s)) => matches!(s.as_str(), "t" | "true" | "1"),
        _ => false,
    }
}

/// The layout whose history table the target holds, refining what the files suggested:
/// sqlx's reversible files look like golang-migrate's and its simple ones like plain files.
pub fn refine(layout: Layout, schema: &SchemaSnapshot) -> Layout {
    let has = |t: &str| schema.table(t).is_some();
    match layout {
        Layout::Plain | Layout::GolangMigrate if has("_sqlx_migrations") => Layout::Sqlx,
        other => other,
    }
}

/// Read the layout's history table, if the target has it. Everything runs as one read-only
/// query through the driver's read path.
pub async fn read(driver: &dyn Driver, schema: &SchemaSnapshot, layout: Layout) -> Result<Option<History>> {
    let Some(table) = table_of(layout) else { return Ok(None) };
    let Some(found) = schema.table(table) else { return Ok(None) };
    // golang-migrate's and dbmate's tables share a name: golang-migrate's has `dirty`.
    let golang = found.column("dirty").is_some();
    let layout = match layout {
        Layout::GolangMigrate | Layout::Dbmate => {
            if golang {
                Layout::GolangMigrate
            } else {
                Layout::Dbmate
            }
        }
        other => other,
    };
    let d = driver.dialect();
    let q = |name: &str| d.quote_ident(name);
    let sql = match layout {
        Layout::Flyway => format!("SELECT {}, {}, {}, {} FROM {}", q("version"), q("script"), q("checksum"), q("success"), q(table)),
        Layout::Sqlx => format!("SELECT {}, {} AS checksum, {} FROM {}", q("version"), d.hex(&q("checksum")), q("success"), q(table)),
        Layout::Diesel | Layout::Dbmate => format!("SELECT {} FROM {}", q("version"), q(table)),
        Layout::Prisma => format!(
            "SELECT {name} AS version, {checksum}, CASE WHEN {finished} IS NOT NULL AND {rolled} IS NULL THEN 1 ELSE 0 END AS success, \
             CASE WHEN {finished} IS NULL AND {rolled} IS NULL THEN 1 ELSE 0 END AS failed FROM {table}",
            name = q("migration_name"),
            checksum = q("checksum"),
            finished = q("finished_at"),
            rolled = q("rolled_back_at"),
            table = q(table)
        ),
        Layout::Goose => {
            format!("SELECT {} AS version, {} AS success FROM {} ORDER BY {}", q("version_id"), q("is_applied"), q(table), q("id"))
        }
        Layout::GolangMigrate => format!("SELECT {}, {} FROM {}", q("version"), q("dirty"), q(table)),
        Layout::Plain => return Ok(None),
    };
    let rows = driver
        .query(&sql, 1_000_000)
        .await
        .map_err(|e| Error::invalid(format!("cannot read the {layout} history table {table}: {e}")))?
        .rows;
    let mut history = History { layout, table: table.to_string(), applied: Vec::new(), up_to: None, dirty: None };
    for row in rows {
        let version = text(row.get("version"));
        match layout {
            Layout::GolangMigrate => {
                if truthy(row.get("dirty")) {
                    history.dirty = version.clone();
                }
                history.up_to = version;
            }
            Layout::Goose => {
                // The latest row of a version decides (a down writes is_applied = false).
                history.applied.retain(|a| a.version != version);
                history.applied.push(Applied { version, script: None, checksum: None, success: truthy(row.get("success")), failed: false });
            }
            Layout::Diesel | Layout::Dbmate => {
                history.applied.push(Applied { version, script: None, checksum: None, success: true, failed: false })
            }
            _ => {
                let success = truthy(row.get("success"));
                history.applied.push(Applied {
                    version,
                    script: text(row.get("script")),
                    checksum: text(row.get("checksum")).map(|c| c.trim_start_matches("\\x").to_ascii_lowercase()),
                    success,
                    // Prisma says so itself; Flyway and sqlx write success = false only on failure.
                    failed: if layout == Layout::Prisma { truthy(row.get("failed")) } else { !success },
                })
            }
        }
    }
    Ok(Some(history))
}

/// Whether two versions are the same, as the tool compares them.
fn same_version(layout: Layout, a: &str, b: &str) -> bool {
    match layout {
        Layout::Diesel => diesel::normalize(a) == diesel::normalize(b),
        Layout::Prisma | Layout::Dbmate => a == b,
        _ => version_cmp(a, b) == Ordering::Equal,
    }
}

fn older(layout: Layout, a: &str, b: &str) -> bool {
    match layout {
        Layout::Diesel => super::version::natural_cmp(&diesel::normalize(a), &diesel::normalize(b)) == Ordering::Less,
        Layout::Prisma | Layout::Dbmate => super::version::natural_cmp(a, b) == Ordering::Less,
        _ => version_cmp(a, b) == Ordering::Less,
    }
}

/// What a validation of pending migrations works from.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub pending: Vec<Migration>,
    pub applied: Vec<String>,
    pub findings: Vec<Finding>,
}

fn finding(rule: FindingId, severity: Severity, file: &str, message: String, suggestion: &str) -> Finding {
    let mut f = Finding::with_suggestion(rule, severity, message, suggestion);
    f.file = Some(file.to_string());
    f
}

/// Split a set into applied and pending by the history, with what the history shows wrong.
pub fn pending(set: &MigrationSet, history: &History) -> Pending {
    let layout = history.layout;
    let mut out = Pending { pending: Vec::new(), applied: Vec::new(), findings: Vec::new() };
    if let Some(dirty) = &history.dirty {
        out.findings.push(finding(
            FindingId::MigrationHistoryDirty,
            Severity::High,
            &history.table,
            format!(
                "{} records version {dirty} as dirty: a migration failed halfway and the tool will not run until it is fixed",
                history.table
            ),
            "Repair the schema by hand to the state of a version, then `migrate force VERSION`.",
        ));
    }
    // A failed entry (Flyway, sqlx, Prisma, goose keep one) blocks the tool like a dirty flag.
    let failed: Vec<&Applied> = history.applied.iter().filter(|a| a.failed).collect();
    if let Some(first) = failed.first() {
        let which = first.version.as_deref().or(first.script.as_deref()).unwrap_or("?");
        out.findings.push(finding(
            FindingId::MigrationHistoryDirty,
            Severity::High,
            &history.table,
            format!(
                "{} records {} failed migration(s), the first {which}: the tool will not migrate until it is repaired",
                history.table,
                failed.len()
            ),
            "Fix the schema by hand, then remove or repair the failed entry (flyway repair; delete the row for sqlx or Prisma).",
        ));
    }
    let succeeded: Vec<&Applied> = history.applied.iter().filter(|a| a.success).collect();
    let newest = succeeded
        .iter()
        .filter_map(|a| a.version.as_deref())
        .max_by(|a, b| if older(layout, a, b) { Ordering::Less } else { Ordering::Greater })
        .map(String::from);
    for m in &set.migrations {
        let applied: Option<Applied> = if m.repeatable {
            // A repeatable is applied while its latest run has the file's checksum.
            succeeded
                .iter()
                .rev()
                .find(|a| a.version.is_none() && a.script.as_deref().is_some_and(|s| m.name.ends_with(s)))
                .map(|a| (*a).clone())
        } else {
            match (&m.version, &history.up_to) {
                (Some(v), Some(up_to)) => (!older(layout, up_to, v)).then(|| Applied {
                    version: Some(v.clone()),
                    script: None,
                    checksum: None,
                    success: true,
                    failed: false,
                }),
                (Some(v), None) => {
                    succeeded.iter().find(|a| a.version.as_deref().is_some_and(|x| same_version(layout, x, v))).map(|a| (*a).clone())
                }
                (None, _) => None,
            }
        };
        match applied {
            Some(a) if m.repeatable && a.checksum != m.checksum => out.pending.push(m.clone()),
            Some(a) => {
                if let (Some(theirs), Some(ours)) = (&a.checksum, &m.checksum) {
                    if theirs != ours {
                        out.findings.push(finding(
                            FindingId::MigrationChecksumMismatch,
                            Severity::High,
                            &m.name,
                            format!("{} was changed after it was applied (checksum {ours}, applied {theirs})", m.name),
                            "Restore the applied version of the file and put the change in a new migration.",
                        ));
                    }
                }
                out.applied.push(m.name.clone());
            }
            None => {
                if let (Some(v), Some(newest)) = (&m.version, &newest) {
                    if !m.repeatable && older(layout, v, newest) {
                        out.findings.push(finding(
                            FindingId::MigrationOutOfOrder,
                            Severity::Medium,
                            &m.name,
                            format!("{} (version {v}) is not applied, but version {newest} is: it would run out of order", m.name),
                            "Renumber the migration after the newest applied one, or allow out-of-order runs deliberately (Flyway outOfOrder).",
                        ));
                    }
                }
                out.pending.push(m.clone());
            }
        }
    }
    out
}

/// What a run records about the migrations it was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MigrationPlan {
    /// The layout of the migration files (`flyway`, `golang-migrate`, `sqlx`, `diesel`,
    /// `prisma`, `dbmate`, `goose`, `plain`).
    pub layout: String,
    /// True when the layout was detected, false when it was given.
    pub detected: bool,
    /// The history table read on the target, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_table: Option<String>,
    /// Migrations already applied on the target, skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<String>,
    /// Migrations validated, in the order the tool would apply them.
    pub pending: Vec<String>,
    /// Files that are never applied (down and undo migrations, other files), and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<IgnoredFile>,
}
