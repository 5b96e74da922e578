//! Checks run inside the sandbox: do the rows already in the database satisfy the constraints
//! the migration adds? And when a statement fails on existing data, which rows make it fail?
//! Every check is one SQL count plus one bounded sample query (pushed down, not pulled).

use sqlparser::ast::{
    visit_relations, AlterColumnOperation, AlterTableOperation, CheckConstraint, ColumnOption, ForeignKeyConstraint, PrimaryKeyConstraint,
    Statement, TableConstraint, TableObject, UniqueConstraint,
};

use crate::dialect::Dialect;
use crate::driver::{ConstraintViolation, Sandbox};
use crate::findings::FindingId;
use crate::masking::Masker;
use crate::model::{Finding, IntegrityResult, IntegrityType, SchemaSnapshot, Severity, Table};
use crate::rules::ast_names::base_name;

/// A single SQL check of existing rows against one constraint.
pub struct ConstraintCheck {
    pub table: String,
    pub integrity_type: IntegrityType,
    pub constraint: String,
    /// Counts offending rows (column `offending`). For key checks it also returns the first
    /// duplicated keys, so one grouping pass gives both the count and what to sample.
    pub count_sql: String,
    /// Returns up to N offending rows. For key checks: the ORDER BY of the sample, whose
    /// WHERE clause is built from the keys found.
    pub sample_sql: String,
    /// The referenced table of a foreign-key check.
    pub parent: Option<String>,
    /// Key columns of a uniqueness check.
    pub keys: Vec<String>,
    dialect: Dialect,
    limit: usize,
}

/// Where checks run: a sandbox, or the target's read-only inspection session with a timeout.
pub enum Querier<'a> {
    Sandbox(&'a mut dyn Sandbox),
    Target(&'a dyn crate::driver::Driver, std::time::Duration),
}

impl Querier<'_> {
    pub async fn query(&mut self, sql: &str, rows: usize) -> std::result::Result<crate::driver::QueryResult, String> {
        match self {
            Querier::Sandbox(s) => s.query(sql, rows).await.map_err(|e| e.to_string()),
            Querier::Target(d, timeout) => match tokio::time::timeout(*timeout, d.query(sql, rows)).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
            },
        }
    }
}

fn number(v: Option<&serde_json::Value>) -> u64 {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)).unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().map(|f| f as u64).unwrap_or(0),
        _ => 0,
    }
}

impl ConstraintCheck {
    /// Count the offending rows and fetch a bounded, masked sample.
    pub async fn run(&self, q: &mut Querier<'_>, masker: &Masker) -> std::result::Result<(u64, Rows), String> {
        if self.keys.is_empty() {
            let count = q.query(&self.count_sql, 1).await?.scalar_u64().unwrap_or(0);
            if count == 0 {
                return Ok((0, Vec::new()));
            }
            let rows = q.query(&self.sample_sql, self.limit).await?.rows;
            return Ok((count, rows.into_iter().map(|r| masker.mask_row(r)).collect()));
        }
        // Key checks: the grouping query returns the total and the first duplicated keys;
        // the sample is then the rows holding those keys, numbered by group.
        let groups = q.query(&self.count_sql, self.limit).await?.rows;
        let count = groups.first().map(|g| number(g.get("offending"))).unwrap_or(0);
        if count == 0 {
            return Ok((0, Vec::new()));
        }
        let key_of = |row: &Row| self.keys.iter().map(|k| row.get(k).cloned().unwrap_or_default()).collect::<Vec<_>>();
        let wanted: Vec<Vec<serde_json::Value>> = groups.iter().map(key_of).collect();
        let literal = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => self.dialect.string_literal(s),
            serde_json::Value::Bool(b) => {
                if *b {
                    "1".into()
                } else {
                    "0".into()
                }
            }
            other => other.to_string(),
        };
        let matches = wanted
            .iter()
            .map(|key| {
                let parts =
                    self.keys.iter().zip(key).map(|(k, v)| format!("{} = {}", self.dialect.quote_ident(k), literal(v))).collect::<Vec<_>>();
                format!("({})", parts.join(" AND "))
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        // For key checks `sample_sql` holds the ORDER BY of the sample.
        let sample = format!(
            "SELECT * FROM {} WHERE {matches} ORDER BY {} LIMIT {}",
            self.dialect.quote_ident(&self.table),
            self.sample_sql,
            self.limit
        );
        let rows = match q.query(&sample, self.limit).await {
            Ok(r) => r.rows,
            // Keys whose printed form does not compare equal (floats, exotic types): show the
            // duplicated keys themselves.
            Err(_) => groups
                .into_iter()
                .map(|mut g| {
                    g.remove("offending");
                    g
                })
                .collect(),
        };
        let numbered = rows
            .into_iter()
            .map(|row| {
                let group = wanted.iter().position(|k| *k == key_of(&row)).map(|i| i + 1);
                let mut out = Row::new();
                out.insert("duplicate_group".into(), group.map(serde_json::Value::from).unwrap_or_default());
                out.extend(row);
                masker.mask_row(out)
            })
            .collect();
        Ok((count, numbered))
    }
}

/// Builds constraint checks as SQL in one dialect.
pub struct CheckBuilder<'s> {
    dialect: Dialect,
    limit: usize,
    /// Column lists break ties when ordering samples, so the same data always gives the same
    /// sample rows (determinism) even when a key's rows exceed the limit.
    schema: &'s SchemaSnapshot,
}

impl<'s> CheckBuilder<'s> {
    pub fn new(dialect: Dialect, limit: usize, schema: &'s SchemaSnapshot) -> Self {
        CheckBuilder { dialect, limit, schema }
    }

    /// `ORDER BY` for sample rows: the given columns first, then every column of the table.
    fn sample_order(&self, table: &str, first: &[String]) -> String {
        let mut cols: Vec<String> = first.to_vec();
        if let Some(t) = self.schema.table(table) {
            cols.extend(t.columns.iter().map(|c| c.name.clone()).filter(|c| !first.contains(c)));
        }
        cols.iter().map(|c| self.q(c)).collect::<Vec<_>>().join(", ")
    }

    fn q(&self, ident: &str) -> String {
        self.dialect.quote_ident(ident)
    }

    fn list(&self, cols: &[String], prefix: &str) -> String {
        cols.iter().map(|c| format!("{prefix}{}", self.q(c))).collect::<Vec<_>>().join(", ")
    }

    /// Rows that share a key with another row (NULLs never clash), numbered by group so
    /// clashing rows stay recognisable even when masking hides the key itself.
    pub fn unique(
        &self,
        table: &str,
        cols: &[String],
        predicate: Option<&str>,
        integrity_type: IntegrityType,
        constraint: String,
    ) -> ConstraintCheck {
        let t = self.q(table);
        let list = self.list(cols, "");
        let mut filter = cols.iter().map(|c| format!("{} IS NOT NULL", self.q(c))).collect::<Vec<_>>().join(" AND ");
        if let Some(p) = predicate {
            filter = format!("{filter} AND ({p})");
        }
        ConstraintCheck {
            table: table.to_string(),
            integrity_type,
            constraint,
            // One grouping pass: every duplicated key with its row count and, in each row, the
            // total over all keys (a window over the grouped rows, not over the table).
            count_sql: format!(
                "SELECT {list}, n AS duplicate_rows, SUM(n) OVER () AS offending FROM (SELECT {list}, COUNT(*) AS n FROM {t} WHERE {filter} GROUP BY {list} HAVING COUNT(*) > 1) dups ORDER BY {list} LIMIT {}",
                self.limit
            ),
            sample_sql: self.sample_order(table, cols),
            parent: None,
            keys: cols.to_vec(),
            dialect: self.dialect,
            limit: self.limit,
        }
    }

    pub fn not_null(&self, table: &str, column: &str) -> ConstraintCheck {
        let (t, c) = (self.q(table), self.q(column));
        ConstraintCheck {
            table: table.to_string(),
            integrity_type: IntegrityType::NotNull,
            constraint: format!("{table}.{column} NOT NULL"),
            count_sql: format!("SELECT COUNT(*) AS offending FROM {t} WHERE {c} IS NULL"),
            sample_sql: format!("SELECT * FROM {t} WHERE {c} IS NULL ORDER BY {} LIMIT {}", self.sample_order(table, &[]), self.limit),
            parent: None,
            keys: Vec::new(),
            dialect: self.dialect,
            limit: self.limit,
        }
    }

    /// Child rows whose non-NULL key has no parent. `parent_cols` empty means the parent
    /// table (or its key) does not exist: every reference dangles.
    pub fn foreign_key(&self, table: &str, cols: &[String], parent: &str, parent_cols: &[String], constraint: String) -> ConstraintCheck {
        let t = self.q(table);
        let present = cols.iter().map(|c| format!("c.{} IS NOT NULL", self.q(c))).collect::<Vec<_>>().join(" AND ");
        let orphan = if parent_cols.len() == cols.len() {
            let join =
                cols.iter().zip(parent_cols).map(|(c, p)| format!("p.{} = c.{}", self.q(p), self.q(c))).collect::<Vec<_>>().join(" AND ");
            format!("{present} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {join})", self.q(parent))
        } else {
            present
        };
        ConstraintCheck {
            table: table.to_string(),
            integrity_type: IntegrityType::Fk,
            constraint,
            count_sql: format!("SELECT COUNT(*) AS offending FROM {t} c WHERE {orphan}"),
            sample_sql: format!(
                "SELECT c.* FROM {t} c WHERE {orphan} ORDER BY {} LIMIT {}",
                self.sample_order(table, cols).split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", "),
                self.limit
            ),
            parent: Some(parent.to_string()),
            keys: Vec::new(),
            dialect: self.dialect,
            limit: self.limit,
        }
    }

    /// Rows for which the expression is false (NULL passes, as in SQL).
    pub fn check(&self, table: &str, expression: &str, constraint: String) -> ConstraintCheck {
        let t = self.q(table);
        ConstraintCheck {
            table: table.to_string(),
            integrity_type: IntegrityType::Check,
            constraint,
            count_sql: format!("SELECT COUNT(*) AS offending FROM {t} WHERE NOT ({expression})"),
            sample_sql: format!(
                "SELECT * FROM {t} WHERE NOT ({expression}) ORDER BY {} LIMIT {}",
                self.sample_order(table, &[]),
                self.limit
            ),
            parent: None,
            keys: Vec::new(),
            dialect: self.dialect,
            limit: self.limit,
        }
    }
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
    let builder = CheckBuilder::new(sandbox.dialect(), sample_limit, after);
    let sampled = sandbox.sampled_tables();
    let mut out = Verification { findings: Vec::new(), integrity_results: Vec::new() };
    for (name, table) in &after.tables {
        let old = before.tables.get(name);
        for check in new_constraint_checks(&builder, table, old, after) {
            if let Some(parent) = check.parent.as_ref().filter(|p| sampled.iter().any(|s| s.eq_ignore_ascii_case(p))) {
                out.findings.push(Finding {
                    rule: FindingId::ConstraintCheckError,
                    severity: Severity::Low,
                    message: format!(
                        "foreign key {} on {} not checked: the sandbox holds only a sample of {parent}",
                        check.constraint, check.table
                    ),
                    statement: None,
                    line: None,
                    column: None,
                    suggestion: Some("Raise [sandbox] sample_rows, or check it with `integrity check` on the target.".into()),
                    file: None,
                    sample_records: Vec::new(),
                    suppressed: None,
                });
                continue;
            }
            let (count, samples) = match check.run(&mut Querier::Sandbox(&mut *sandbox), masker).await {
                Ok(r) => r,
                Err(e) => {
                    out.findings.push(Finding {
                        rule: FindingId::ConstraintCheckError,
                        severity: Severity::Low,
                        message: format!(
                            "could not check {} {} on {} against existing rows: {e}",
                            check.integrity_type, check.constraint, check.table
                        ),
                        statement: None,
                        line: None,
                        column: None,
                        suggestion: Some("Verify this constraint against production data by hand.".into()),
                        file: None,
                        sample_records: Vec::new(),
                        suppressed: None,
                    });
                    continue;
                }
            };
            if count > 0 {
                out.findings.push(Finding {
                    rule: FindingId::NewConstraintViolated,
                    severity: Severity::Critical,
                    message: format!(
                        "existing data violates the new {} {} on {}: {count} offending row(s)",
                        label(check.integrity_type),
                        check.constraint,
                        check.table
                    ),
                    statement: None,
                    line: None,
                    column: None,
                    suggestion: Some("Clean up or backfill the offending rows in a migration that runs before this one.".into()),
                    file: None,
                    sample_records: samples.clone(),
                    suppressed: None,
                });
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
