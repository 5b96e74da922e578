//! Checks run inside the sandbox after the migration: do the rows already in the database
//! satisfy the constraints the migration adds? And when a statement fails on existing data,
//! which rows make it fail?

use sqlparser::ast::{visit_relations, Statement, TableObject};

use crate::dialect::Dialect;
use crate::driver::{ConstraintViolation, Sandbox};
use crate::masking::Masker;
use crate::model::{Finding, IntegrityResult, IntegrityType, SchemaSnapshot, Severity, Table};
use crate::rules::ast_names::base_name;

/// A single SQL check of existing rows against one constraint.
struct ConstraintCheck {
    table: String,
    integrity_type: IntegrityType,
    constraint: String,
    /// Counts offending rows.
    count_sql: String,
    /// Returns up to N offending rows (or duplicate groups).
    sample_sql: String,
}

pub struct Verification {
    pub findings: Vec<Finding>,
    pub integrity_results: Vec<IntegrityResult>,
}

/// Check every constraint that exists after the migration but not before against the rows in
/// the sandbox.
pub async fn verify_new_constraints(
    sandbox: &mut dyn Sandbox,
    before: &SchemaSnapshot,
    after: &SchemaSnapshot,
    masker: &Masker,
    sample_limit: usize,
) -> Verification {
    let dialect = sandbox.dialect();
    let mut out = Verification { findings: Vec::new(), integrity_results: Vec::new() };
    for (name, table) in &after.tables {
        let old = before.tables.get(name);
        for check in new_constraint_checks(dialect, table, old, after, sample_limit) {
            run_check(sandbox, check, masker, sample_limit, &mut out).await;
        }
    }
    out
}

async fn run_check(sandbox: &mut dyn Sandbox, check: ConstraintCheck, masker: &Masker, limit: usize, out: &mut Verification) {
    let count = match sandbox.query(&check.count_sql, 1).await {
        Ok(r) => r.scalar_u64().unwrap_or(0),
        Err(e) => {
            out.findings.push(Finding {
                rule: "constraint-check-error".into(),
                severity: Severity::Low,
                message: format!("could not check {} {} on {} against existing rows: {e}", check.integrity_type, check.constraint, check.table),
                statement: None, line: None, column: None,
                suggestion: Some("Verify this constraint against production data by hand.".into()),
                file: None, sample_records: Vec::new(),
            });
            return;
        }
    };
    let samples = if count > 0 {
        sandbox.query(&check.sample_sql, limit).await.map(|r| r.rows).unwrap_or_default()
    } else {
        Vec::new()
    };
    let samples: Vec<_> = samples.into_iter().map(|r| masker.mask_row(r)).collect();
    if count > 0 {
        out.findings.push(Finding {
            rule: "new-constraint-violated".into(),
            severity: Severity::Critical,
            message: format!(
                "existing data violates the new {} {} on {}: {count} offending row(s)",
                label(check.integrity_type), check.constraint, check.table
            ),
            statement: None, line: None, column: None,
            suggestion: Some("Clean up or backfill the offending rows in a migration that runs before this one.".into()),
            file: None,
            sample_records: samples.clone(),
        });
    }
    out.integrity_results.push(IntegrityResult {
        table_name: check.table,
        integrity_type: check.integrity_type,
        constraint: check.constraint,
        failure_count: count,
        sample_records: samples,
    });
}

fn label(t: IntegrityType) -> &'static str {
    match t {
        IntegrityType::Pk => "primary key",
        IntegrityType::Fk => "foreign key",
        IntegrityType::Unique => "unique constraint",
        IntegrityType::NotNull => "NOT NULL constraint",
        IntegrityType::Check => "check constraint",
        IntegrityType::Rule => "rule",
    }
}

fn new_constraint_checks(d: Dialect, t: &Table, old: Option<&Table>, after: &SchemaSnapshot, limit: usize) -> Vec<ConstraintCheck> {
    let q = |s: &str| d.quote_ident(s);
    let table = q(&t.name);
    let mut checks = Vec::new();
    let unique_check = |cols: &[String], predicate: Option<&str>, integrity_type, constraint: String| {
        let (count_sql, sample_sql) = duplicate_sql(d, &t.name, cols, predicate, limit);
        ConstraintCheck { table: t.name.clone(), integrity_type, constraint, count_sql, sample_sql }
    };

    // NOT NULL: columns that are NOT NULL now but were nullable (or absent) before.
    for col in t.columns.iter().filter(|c| !c.nullable) {
        let was_not_null = old.and_then(|o| o.column(&col.name)).is_some_and(|c| !c.nullable);
        if !was_not_null && old.is_some() {
            let c = q(&col.name);
            checks.push(ConstraintCheck {
                table: t.name.clone(),
                integrity_type: IntegrityType::NotNull,
                constraint: format!("{}.{} NOT NULL", t.name, col.name),
                count_sql: format!("SELECT COUNT(*) FROM {table} WHERE {c} IS NULL"),
                sample_sql: format!("SELECT * FROM {table} WHERE {c} IS NULL LIMIT {limit}"),
            });
        }
    }
    if !t.primary_key.is_empty() && old.is_none_or(|o| o.primary_key != t.primary_key) {
        checks.push(unique_check(&t.primary_key, None, IntegrityType::Pk, format!("primary key ({})", t.primary_key.join(", "))));
    }
    for u in &t.unique_constraints {
        if old.is_none_or(|o| !o.unique_constraints.iter().any(|x| x.columns == u.columns)) {
            let name = u.name.clone().unwrap_or_else(|| format!("unique ({})", u.columns.join(", ")));
            checks.push(unique_check(&u.columns, None, IntegrityType::Unique, name));
        }
    }
    for ix in t.indexes.iter().filter(|i| i.unique && !i.implicit) {
        let existed = old.is_some_and(|o| o.indexes.iter().any(|x| x.unique && x.columns == ix.columns && x.predicate == ix.predicate));
        if !existed && !ix.columns.iter().any(|c| c == "<expression>") {
            checks.push(unique_check(&ix.columns, ix.predicate.as_deref(), IntegrityType::Unique, ix.name.clone()));
        }
    }
    for fk in &t.foreign_keys {
        let same = |x: &crate::model::ForeignKey| x.columns == fk.columns && x.referenced_table == fk.referenced_table;
        if old.is_some_and(|o| o.foreign_keys.iter().any(same)) {
            continue;
        }
        let parent = after.table(&fk.referenced_table);
        let ref_cols: Vec<String> = if fk.referenced_columns.iter().all(|c| c.is_empty()) {
            parent.map(|p| p.primary_key.clone()).unwrap_or_default()
        } else {
            fk.referenced_columns.clone()
        };
        let name = fk.name.clone().unwrap_or_else(|| format!("({}) -> {}({})", fk.columns.join(", "), fk.referenced_table, ref_cols.join(", ")));
        let present = fk.columns.iter().map(|c| format!("c.{} IS NOT NULL", q(c))).collect::<Vec<_>>().join(" AND ");
        let orphan = if parent.is_some() && ref_cols.len() == fk.columns.len() {
            let join = fk.columns.iter().zip(&ref_cols).map(|(c, r)| format!("p.{} = c.{}", q(r), q(c))).collect::<Vec<_>>().join(" AND ");
            format!("{present} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {join})", q(&fk.referenced_table))
        } else {
            // The parent table does not exist (or its key is unknown): every reference dangles.
            present
        };
        checks.push(ConstraintCheck {
            table: t.name.clone(),
            integrity_type: IntegrityType::Fk,
            constraint: name,
            count_sql: format!("SELECT COUNT(*) FROM {table} c WHERE {orphan}"),
            sample_sql: format!("SELECT c.* FROM {table} c WHERE {orphan} LIMIT {limit}"),
        });
    }
    for ck in &t.check_constraints {
        if old.is_some_and(|o| o.check_constraints.iter().any(|x| x.expression == ck.expression)) {
            continue;
        }
        checks.push(ConstraintCheck {
            table: t.name.clone(),
            integrity_type: IntegrityType::Check,
            constraint: ck.name.clone().unwrap_or_else(|| format!("check ({})", ck.expression)),
            count_sql: format!("SELECT COUNT(*) FROM {table} WHERE NOT ({})", ck.expression),
            sample_sql: format!("SELECT * FROM {table} WHERE NOT ({}) LIMIT {limit}", ck.expression),
        });
    }
    checks
}

/// SQL counting the rows that share a key with another row (NULLs never clash), and SQL
/// returning those rows, numbered by `duplicate_group` so clashing rows stay recognisable
/// even when masking hides the key itself.
fn duplicate_sql(d: Dialect, table: &str, cols: &[String], predicate: Option<&str>, limit: usize) -> (String, String) {
    let q = |s: &str| d.quote_ident(s);
    let table = q(table);
    let list = cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
    let mut filter = cols.iter().map(|c| format!("{} IS NOT NULL", q(c))).collect::<Vec<_>>().join(" AND ");
    if let Some(p) = predicate {
        filter = format!("{filter} AND ({p})");
    }
    let groups = format!("SELECT {list} FROM {table} WHERE {filter} GROUP BY {list} HAVING COUNT(*) > 1");
    let join = cols.iter().map(|c| format!("t.{0} = d.{0}", q(c))).collect::<Vec<_>>().join(" AND ");
    let order = cols.iter().map(|c| format!("t.{}", q(c))).collect::<Vec<_>>().join(", ");
    (
        format!("SELECT COALESCE(SUM(n), 0) AS offending FROM (SELECT COUNT(*) AS n FROM {table} WHERE {filter} GROUP BY {list} HAVING COUNT(*) > 1) dups"),
        format!("SELECT DENSE_RANK() OVER (ORDER BY {order}) AS duplicate_group, t.* FROM {table} t JOIN ({groups}) d ON {join} ORDER BY {order} LIMIT {limit}"),
    )
}

/// Rows that make a failed statement fail, when the database named the constraint.
/// For `INSERT INTO new SELECT ... FROM old` (a table rebuild) the rows are read from `old`.
pub async fn sample_statement_failure(
    sandbox: &mut dyn Sandbox,
    violation: &ConstraintViolation,
    statement: Option<&Statement>,
    masker: &Masker,
    limit: usize,
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let d = sandbox.dialect();
    let q = |s: &str| d.quote_ident(s);
    let source = statement.and_then(source_table);
    let sql = match violation {
        ConstraintViolation::Unique { table, columns } if !columns.is_empty() => {
            duplicate_sql(d, &source.unwrap_or_else(|| table.clone()), columns, None, limit).1
        }
        ConstraintViolation::NotNull { table, column } => {
            let from = source.unwrap_or_else(|| table.clone());
            format!("SELECT * FROM {} WHERE {} IS NULL LIMIT {limit}", q(&from), q(column))
        }
        _ => return Vec::new(),
    };
    match sandbox.query(&sql, limit).await {
        Ok(r) => r.rows.into_iter().map(|row| masker.mask_row(row)).collect(),
        // The source may not have a column of that name; then there is nothing to show.
        Err(_) => Vec::new(),
    }
}

/// The table a failing statement reads its rows from.
fn source_table(statement: &Statement) -> Option<String> {
    match statement {
        Statement::Insert(insert) => {
            let mut found = None;
            if let Some(source) = &insert.source {
                let _ = visit_relations(source.as_ref(), |rel| {
                    found.get_or_insert_with(|| base_name(rel));
                    std::ops::ControlFlow::<()>::Continue(())
                });
            }
            found.or_else(|| match &insert.table {
                TableObject::TableName(n) => Some(base_name(n)),
                _ => None,
            })
        }
        Statement::CreateIndex(ci) => Some(base_name(&ci.table_name)),
        _ => None,
    }
}
