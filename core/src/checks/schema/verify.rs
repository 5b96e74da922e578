//! Checks run inside the sandbox: do the rows already in the database satisfy the constraints
//! the migration adds? And when a statement fails on existing data, which rows make it fail?
//! Every check is one SQL count plus one bounded sample query (pushed down, not pulled).

use sqlparser::ast::{
    visit_relations, AlterColumnOperation, AlterTableOperation, CheckConstraint, ColumnOption, ForeignKeyConstraint, PrimaryKeyConstraint,
    Statement, TableConstraint, TableObject, UniqueConstraint,
};

use crate::driver::{ConstraintViolation, Sandbox};
use crate::findings::FindingId;
use crate::masking::Masker;
use crate::model::{Finding, IntegrityResult, IntegrityType, SchemaSnapshot, Severity, Table};
use crate::rules::ast_names::base_name;

use super::constraint_check::{CheckBuilder, ConstraintCheck, Querier};
use super::full_data;

pub struct Verification {
    pub findings: Vec<Finding>,
    pub integrity_results: Vec<IntegrityResult>,
}

/// The target, for checks that need every row: its read-only session, its schema as it is
/// now, and the tables the migration changes rows of first (`None`: unknown, any).
pub struct TargetData<'a> {
    pub driver: &'a dyn crate::driver::Driver,
    pub schema: &'a SchemaSnapshot,
    pub changed: Option<std::collections::BTreeSet<String>>,
    pub timeout: std::time::Duration,
}

/// Where a constraint was checked.
enum Checked {
    /// Every row: in a sandbox holding all of them, or on the target.
    FullData,
    /// Only the sandbox's sample; why the full data could not be asked.
    Sample(String),
}

fn check_finding(rule: FindingId, severity: Severity, message: String, suggestion: &str, samples: Rows) -> Finding {
    Finding { sample_records: samples, ..Finding::with_suggestion(rule, severity, message, suggestion) }
}

fn is_timeout(error: &str) -> bool {
    error.contains("timed out") || error.contains("statement timeout")
}

/// Check every constraint that exists after the migration but not before against the
/// existing rows: in the sandbox when it holds every row of the tables involved, otherwise
/// on the target (read-only, time-bounded) when the migration leaves those rows as they are,
/// otherwise on the sandbox's sample, and the report says so.
pub async fn verify_new_constraints(
    sandbox: &mut dyn Sandbox,
    target: Option<&TargetData<'_>>,
    before: &SchemaSnapshot,
    after: &SchemaSnapshot,
    masker: &Masker,
    sample_limit: usize,
) -> Verification {
    let builder = CheckBuilder::new(sandbox.dialect(), sample_limit, after);
    let target_builder = target.map(|t| CheckBuilder::new(sandbox.dialect(), sample_limit, t.schema));
    let sampled = sandbox.sampled_tables();
    let partial = |t: &str| sampled.iter().any(|s| s.eq_ignore_ascii_case(t));
    let mut out = Verification { findings: Vec::new(), integrity_results: Vec::new() };
    for (name, table) in &after.tables {
        let old = before.tables.get(name);
        let on_target_checks = target_builder.as_ref().map(|b| new_constraint_checks(b, table, old, after)).unwrap_or_default();
        for (i, check) in new_constraint_checks(&builder, table, old, after).into_iter().enumerate() {
            let parent_partial = check.parent.as_deref().is_some_and(partial);
            let needs_target = partial(&check.table) || parent_partial;
            let target_here = target.filter(|t| {
                needs_target
                    && full_data::on_target(
                        t.schema,
                        t.changed.as_ref(),
                        &check.table,
                        &check.columns,
                        check.parent.as_deref().map(|p| (p, check.parent_columns.as_slice())),
                    )
            });
            let mut checked = Checked::FullData;
            let mut outcome = None;
            if let (Some(t), Some(target_check)) = (target_here, on_target_checks.get(i)) {
                match target_check.run(&mut Querier::Target(t.driver, t.timeout), masker).await {
                    Ok(r) => outcome = Some(Ok(r)),
                    Err(e) if is_timeout(&e) => outcome = Some(Err(format!("not checked (timeout) on the target's full data: {e}"))),
                    // An expression the target's columns cannot evaluate: the sample answers.
                    Err(e) => checked = Checked::Sample(format!("the target could not evaluate it ({e})")),
                }
            } else if needs_target {
                let table = if partial(&check.table) { &check.table } else { check.parent.as_ref().unwrap_or(&check.table) };
                let why = if target.is_none() {
                    format!("the sandbox holds only a sample of {table}")
                } else {
                    format!("the sandbox holds only a sample of {table} and the migration changes its rows or columns before, so the target's rows cannot answer")
                };
                if parent_partial {
                    // A missing parent row may just be one the sample left out.
                    out.findings.push(check_finding(
                        FindingId::ConstraintCheckError,
                        Severity::Low,
                        format!("foreign key {} on {} not checked: {why}", check.constraint, check.table),
                        "Raise [sandbox] sample_rows, or check it with `integrity check` on the target after the migration.",
                        Vec::new(),
                    ));
                    continue;
                }
                checked = Checked::Sample(why);
            }
            let outcome = match outcome {
                Some(o) => o,
                None => check.run(&mut Querier::Sandbox(&mut *sandbox), masker).await,
            };
            let (count, samples) = match outcome {
                Ok(r) => r,
                Err(e) => {
                    let message = if is_timeout(&e) && e.starts_with("not checked") {
                        format!("{} {} on {}: {e}", check.integrity_type, check.constraint, check.table)
                    } else {
                        format!(
                            "could not check {} {} on {} against existing rows: {e}",
                            check.integrity_type, check.constraint, check.table
                        )
                    };
                    out.findings.push(check_finding(
                        FindingId::ConstraintCheckError,
                        Severity::Low,
                        message.clone(),
                        "Verify this constraint against production data by hand.",
                        Vec::new(),
                    ));
                    out.integrity_results.push(IntegrityResult {
                        table_name: check.table,
                        integrity_type: check.integrity_type,
                        constraint: check.constraint,
                        failure_count: 0,
                        sample_records: Vec::new(),
                        error: Some(message),
                    });
                    continue;
                }
            };
            if count > 0 {
                out.findings.push(check_finding(
                    FindingId::NewConstraintViolated,
                    Severity::Critical,
                    format!(
                        "existing data violates the new {} {} on {}: {count} offending row(s){}",
                        label(check.integrity_type),
                        check.constraint,
                        check.table,
                        if matches!(checked, Checked::Sample(_)) { " in the sandbox's sample" } else { "" }
                    ),
                    "Clean up or backfill the offending rows in a migration that runs before this one.",
                    samples.clone(),
                ));
            } else if let Checked::Sample(why) = &checked {
                out.findings.push(check_finding(
                    FindingId::ConstraintCheckError,
                    Severity::Low,
                    format!(
                        "{} {} on {} holds on the sandbox's sample only: {why}",
                        label(check.integrity_type),
                        check.constraint,
                        check.table
                    ),
                    "Check it against every row with `integrity check` on the target after the backfill, before adding the constraint.",
                    Vec::new(),
                ));
            }
            out.integrity_results.push(IntegrityResult {
                table_name: check.table,
                integrity_type: check.integrity_type,
                constraint: check.constraint,
                failure_count: count,
                sample_records: samples,
                error: None,
            });
        }
    }
    out
}

type Row = serde_json::Map<String, serde_json::Value>;
type Rows = Vec<Row>;

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

/// The key a foreign key references: its declared columns, or the parent's primary key.
fn referenced_columns(fk: &crate::model::ForeignKey, schema: &SchemaSnapshot) -> Vec<String> {
    if fk.referenced_columns.iter().all(|c| c.is_empty()) {
        schema.table(&fk.referenced_table).map(|p| p.primary_key.clone()).unwrap_or_default()
    } else if schema.table(&fk.referenced_table).is_none() {
        Vec::new()
    } else {
        fk.referenced_columns.clone()
    }
}

fn new_constraint_checks(b: &CheckBuilder, t: &Table, old: Option<&Table>, after: &SchemaSnapshot) -> Vec<ConstraintCheck> {
    let mut checks = Vec::new();
    // NOT NULL: columns of an existing table that are NOT NULL now but were nullable or absent.
    if let Some(old) = old {
        for col in t.columns.iter().filter(|c| !c.nullable) {
            if old.column(&col.name).is_none_or(|c| c.nullable) {
                checks.push(b.not_null(&t.name, &col.name));
            }
        }
    }
    if !t.primary_key.is_empty() && old.is_none_or(|o| o.primary_key != t.primary_key) {
        checks.push(b.unique(&t.name, &t.primary_key, None, IntegrityType::Pk, format!("primary key ({})", t.primary_key.join(", "))));
    }
    for u in &t.unique_constraints {
        if old.is_none_or(|o| !o.unique_constraints.iter().any(|x| x.columns == u.columns)) {
            let name = u.name.clone().unwrap_or_else(|| format!("unique ({})", u.columns.join(", ")));
            checks.push(b.unique(&t.name, &u.columns, None, IntegrityType::Unique, name));
        }
    }
    for ix in t.indexes.iter().filter(|i| i.unique && !i.implicit) {
        let existed = old.is_some_and(|o| o.indexes.iter().any(|x| x.unique && x.columns == ix.columns && x.predicate == ix.predicate));
        if !existed && !ix.columns.iter().any(|c| c.contains('(') || c == "<expression>") {
            checks.push(b.unique(&t.name, &ix.columns, ix.predicate.as_deref(), IntegrityType::Unique, ix.name.clone()));
        }
    }
    for fk in &t.foreign_keys {
        let same = |x: &crate::model::ForeignKey| {
            x.columns == fk.columns && x.referenced_table == fk.referenced_table && x.enforced == fk.enforced
        };
        if old.is_some_and(|o| o.foreign_keys.iter().any(same)) {
            continue;
        }
        let parent_cols = referenced_columns(fk, after);
        let name = fk
            .name
            .clone()
            .unwrap_or_else(|| format!("({}) -> {}({})", fk.columns.join(", "), fk.referenced_table, parent_cols.join(", ")));
        checks.push(b.foreign_key(&t.name, &fk.columns, &fk.referenced_table, &parent_cols, name));
    }
    for ck in &t.check_constraints {
        if old.is_some_and(|o| o.check_constraints.iter().any(|x| x.expression == ck.expression && x.enforced == ck.enforced)) {
            continue;
        }
        let name = ck.name.clone().unwrap_or_else(|| format!("check ({})", ck.expression));
        checks.push(b.check(&t.name, &ck.expression, name));
    }
    checks
}

/// Rows that make a failed statement fail. The constraint comes from the statement itself
/// (CREATE UNIQUE INDEX, ADD CONSTRAINT, SET NOT NULL, MODIFY ... NOT NULL), or from the
/// database's message; for `INSERT INTO new SELECT ... FROM old` (a table rebuild) the rows
/// are read from `old`.
pub async fn sample_statement_failure(
    sandbox: &mut dyn Sandbox,
    violation: Option<&ConstraintViolation>,
    statement: Option<&Statement>,
    schema: &SchemaSnapshot,
    masker: &Masker,
    limit: usize,
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let b = CheckBuilder::new(sandbox.dialect(), limit, schema);
    let mut checks = statement.map(|s| checks_from_statement(&b, s, schema)).unwrap_or_default();
    if checks.is_empty() {
        let source = statement.and_then(source_table);
        match violation {
            Some(ConstraintViolation::Unique { table, columns }) if !columns.is_empty() => {
                checks.push(b.unique(&source.unwrap_or_else(|| table.clone()), columns, None, IntegrityType::Unique, String::new()))
            }
            Some(ConstraintViolation::NotNull { table, column }) => {
                checks.push(b.not_null(&source.unwrap_or_else(|| table.clone()), column))
            }
            _ => {}
        }
    }
    let mut rows = Vec::new();
    for check in checks {
        // A check may not apply (the source lacks a column of that name): nothing to show.
        if let Ok((_, sample)) = check.run(&mut Querier::Sandbox(&mut *sandbox), masker).await {
            rows.extend(sample);
        }
        if rows.len() >= limit {
            break;
        }
    }
    rows.truncate(limit);
    rows
}

/// The constraint checks a constraint-adding statement implies.
fn checks_from_statement(b: &CheckBuilder, statement: &Statement, schema: &SchemaSnapshot) -> Vec<ConstraintCheck> {
    let mut checks = Vec::new();
    let plain_columns = |cols: Vec<String>| (!cols.iter().any(|c| c.contains('('))).then_some(cols);
    match statement {
        Statement::CreateIndex(ci) if ci.unique => {
            let cols: Vec<String> = ci.columns.iter().map(|c| c.column.expr.to_string().trim_matches(['"', '`']).to_string()).collect();
            if let Some(cols) = plain_columns(cols) {
                let predicate = ci.predicate.as_ref().map(|p| p.to_string());
                checks.push(b.unique(&base_name(&ci.table_name), &cols, predicate.as_deref(), IntegrityType::Unique, String::new()));
            }
        }
        Statement::AlterTable(alter) => {
            let table = base_name(&alter.name);
            for op in &alter.operations {
                match op {
                    AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
                        TableConstraint::Unique(UniqueConstraint { columns, .. })
                        | TableConstraint::PrimaryKey(PrimaryKeyConstraint { columns, .. }) => {
                            let cols: Vec<String> =
                                columns.iter().map(|c| c.column.expr.to_string().trim_matches(['"', '`']).to_string()).collect();
                            if let Some(cols) = plain_columns(cols) {
                                if matches!(constraint, TableConstraint::PrimaryKey(_)) {
                                    checks.extend(cols.iter().map(|c| b.not_null(&table, c)));
                                }
                                checks.push(b.unique(&table, &cols, None, IntegrityType::Unique, String::new()));
                            }
                        }
                        TableConstraint::ForeignKey(ForeignKeyConstraint { columns, foreign_table, referred_columns, .. }) => {
                            let parent = base_name(foreign_table);
                            let mut parent_cols: Vec<String> = referred_columns.iter().map(|c| c.value.clone()).collect();
                            if parent_cols.is_empty() {
                                parent_cols = schema.table(&parent).map(|p| p.primary_key.clone()).unwrap_or_default();
                            }
                            let cols: Vec<String> = columns.iter().map(|c| c.value.clone()).collect();
                            checks.push(b.foreign_key(&table, &cols, &parent, &parent_cols, String::new()));
                        }
                        TableConstraint::Check(CheckConstraint { expr, .. }) => {
                            checks.push(b.check(&table, &expr.to_string(), String::new()))
                        }
                        _ => {}
                    },
                    AlterTableOperation::AlterColumn { column_name, op: AlterColumnOperation::SetNotNull } => {
                        checks.push(b.not_null(&table, &column_name.value))
                    }
                    AlterTableOperation::ModifyColumn { col_name, options, .. }
                        if options.iter().any(|o| matches!(o, ColumnOption::NotNull)) =>
                    {
                        checks.push(b.not_null(&table, &col_name.value))
                    }
                    AlterTableOperation::ChangeColumn { old_name, options, .. }
                        if options.iter().any(|o| matches!(o, ColumnOption::NotNull)) =>
                    {
                        checks.push(b.not_null(&table, &old_name.value))
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    checks
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
        _ => None,
    }
}
