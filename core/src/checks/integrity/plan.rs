//! What to check in one table, and how each check is answered: a counter in the table's
//! aggregate scan, or a query of its own.

use crate::checks::schema::constraint_check::{CheckBuilder, ConstraintCheck};
use crate::dialect::Dialect;
use crate::model::{IntegrityType, SchemaSnapshot, Severity, Table};

use super::user_rules::{parse_age, Bound, RuleCheck, UserRule};

/// How a check is answered.
pub(super) enum Probe {
    /// A counter in the table's aggregate scan.
    Scan(ScanKind),
    /// Its own grouping / anti-join query.
    Query(ConstraintCheck),
}

pub(super) enum ScanKind {
    /// Rows for which the condition holds are failures.
    Rows(String),
    /// NULLs are fine up to a fraction of the rows.
    NullFraction {
        column: String,
        max: f64,
    },
    RowCount {
        min: Option<u64>,
        max: Option<u64>,
    },
    Freshness {
        column: String,
        max_age: i64,
        max_age_text: String,
    },
}

pub(super) struct PlannedCheck {
    pub table: String,
    pub integrity_type: IntegrityType,
    pub constraint: String,
    pub severity: Severity,
    pub probe: Probe,
}

/// Every check of one table, in a fixed order: keys, NOT NULL, CHECK, unique, foreign keys,
/// then the user's rules in file order.
pub(super) fn plan_table(d: Dialect, b: &CheckBuilder<'_>, t: &Table, schema: &SchemaSnapshot, rules: &[UserRule]) -> Vec<PlannedCheck> {
    let q = |c: &str| d.quote_ident(c);
    let mut plan = Vec::new();
    let mut push = |integrity_type, constraint: String, severity, probe| {
        plan.push(PlannedCheck { table: t.name.clone(), integrity_type, constraint, severity, probe })
    };
    if !t.primary_key.is_empty() {
        let pk = format!("primary key ({})", t.primary_key.join(", "));
        let nulls = t.primary_key.iter().map(|c| format!("{} IS NULL", q(c))).collect::<Vec<_>>().join(" OR ");
        push(IntegrityType::Pk, format!("{pk} not null"), Severity::Critical, Probe::Scan(ScanKind::Rows(nulls)));
        push(
            IntegrityType::Pk,
            pk.clone(),
            Severity::Critical,
            Probe::Query(b.unique(&t.name, &t.primary_key, None, IntegrityType::Pk, pk)),
        );
    }
    for col in t.columns.iter().filter(|c| !c.nullable && !t.primary_key.contains(&c.name)) {
        push(
            IntegrityType::NotNull,
            format!("{} NOT NULL", col.name),
            Severity::High,
            Probe::Scan(ScanKind::Rows(format!("{} IS NULL", q(&col.name)))),
        );
    }
    for ck in &t.check_constraints {
        let name = ck.name.clone().unwrap_or_else(|| format!("check ({})", ck.expression));
        push(IntegrityType::Check, name, Severity::High, Probe::Scan(ScanKind::Rows(format!("NOT ({})", ck.expression))));
    }
    let mut unique_sets: Vec<&Vec<String>> = Vec::new();
    for (name, cols, predicate) in t
        .unique_constraints
        .iter()
        .map(|u| (u.name.clone().unwrap_or_else(|| format!("unique ({})", u.columns.join(", "))), &u.columns, None))
        .chain(t.indexes.iter().filter(|i| i.unique).map(|i| (i.name.clone(), &i.columns, i.predicate.clone())))
    {
        // A unique constraint and its backing index are one check; expression keys cannot
        // be grouped by name.
        if *cols == t.primary_key || unique_sets.contains(&cols) || cols.iter().any(|c| c.contains('(') || c == "<expression>") {
            continue;
        }
        unique_sets.push(cols);
        push(
            IntegrityType::Unique,
            name.clone(),
            Severity::High,
            Probe::Query(b.unique(&t.name, cols, predicate.as_deref(), IntegrityType::Unique, name)),
        );
    }
    for fk in &t.foreign_keys {
        let parent_cols: Vec<String> = if fk.referenced_columns.iter().all(|c| c.is_empty()) {
            schema.table(&fk.referenced_table).map(|p| p.primary_key.clone()).unwrap_or_default()
        } else if schema.table(&fk.referenced_table).is_some() {
            fk.referenced_columns.clone()
        } else {
            Vec::new()
        };
        let name = fk
            .name
            .clone()
            .unwrap_or_else(|| format!("({}) -> {}({})", fk.columns.join(", "), fk.referenced_table, parent_cols.join(", ")));
        let check = b.foreign_key(&t.name, &fk.columns, &fk.referenced_table, &parent_cols, name.clone());
        push(IntegrityType::Fk, name, Severity::High, Probe::Query(check));
    }
    for rule in rules.iter().filter(|r| r.table.eq_ignore_ascii_case(&t.name)) {
        let name = rule.display_name();
        let severity = rule.severity.unwrap_or(Severity::Medium);
        let column = rule.column.as_deref().map(&q).unwrap_or_default();
        let probe = match &rule.check {
            RuleCheck::AcceptedValues { values } => {
                let list = values
                    .iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => d.string_literal(s),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                Probe::Scan(ScanKind::Rows(format!("{column} IS NOT NULL AND {column} NOT IN ({list})")))
            }
            RuleCheck::Range { min, max } => {
                let bound = |b: &Bound| match b {
                    Bound::Number(n) => n.to_string(),
                    Bound::Text(s) => d.string_literal(s),
                };
                let mut outside = Vec::new();
                if let Some(m) = min {
                    outside.push(format!("{column} < {}", bound(m)));
                }
                if let Some(m) = max {
                    outside.push(format!("{column} > {}", bound(m)));
                }
                Probe::Scan(ScanKind::Rows(format!("{column} IS NOT NULL AND ({})", outside.join(" OR "))))
            }
            RuleCheck::Regex { pattern } => {
                Probe::Scan(ScanKind::Rows(format!("{column} IS NOT NULL AND NOT ({})", d.regex_match(&column, pattern))))
            }
            RuleCheck::MaxNullFraction { max } => Probe::Scan(ScanKind::NullFraction { column: column.clone(), max: *max }),
            RuleCheck::RowCount { min, max } => Probe::Scan(ScanKind::RowCount { min: *min, max: *max }),
            RuleCheck::Freshness { max_age } => Probe::Scan(ScanKind::Freshness {
                column: column.clone(),
                max_age: parse_age(max_age).unwrap_or(0),
                max_age_text: max_age.clone(),
            }),
            RuleCheck::Unique => Probe::Query(b.unique(&t.name, &rule.target_columns(), None, IntegrityType::Rule, name.clone())),
            RuleCheck::ImpliedFk { references, referenced_columns } => {
                Probe::Query(b.foreign_key(&t.name, &rule.target_columns(), references, referenced_columns, name.clone()))
            }
        };
        let integrity_type = match rule.check {
            RuleCheck::ImpliedFk { .. } => IntegrityType::Fk,
            _ => IntegrityType::Rule,
        };
        push(integrity_type, name, severity, probe);
    }
    plan
}
