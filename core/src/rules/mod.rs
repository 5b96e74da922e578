//! Static migration rules: one file per rule, a registry, and the linter that runs them.
//!
//! A rule sees one parsed statement at a time plus a [`RuleContext`] that knows the whole
//! script (what was created earlier, whether a transaction is open, whether `lock_timeout`
//! was set) and, when validating against a database, the schema before the migration.

use serde::{Deserialize, Serialize};
use sqlparser::ast::Statement;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::{Finding, SchemaSnapshot, Severity};
use crate::sql::grammar::postgres::Tree;
use crate::sql::{Grammar, ParsedStatement, Script};

mod ast;
pub(crate) mod ast_names {
    pub use super::ast::base_name;

    /// The table an ALTER TABLE statement changes.
    pub fn altered_table(stmt: &crate::sql::ParsedStatement) -> Option<String> {
        super::ast::alter_table(stmt.statement()?).map(|(name, _)| base_name(name))
    }
}
mod context;
mod pg;
pub mod table_size;

mod adding_foreign_key_constraint;
mod adding_not_null_column_without_default;
mod adding_serial_primary_key_field;
mod adding_volatile_default;
mod ban_alter_domain_with_add_constraint;
mod ban_char_field;
mod ban_create_domain_with_constraint;
mod ban_drop_column;
mod ban_drop_database;
mod ban_drop_not_null;
mod ban_drop_schema;
mod ban_drop_table;
mod ban_exclusive_maintenance;
mod ban_hard_delete;
mod ban_truncate;
mod ban_truncate_cascade;
mod ban_uncommitted_transaction;
mod changing_column_type;
mod concurrently_in_transaction;
mod constraint_missing_not_valid;
mod delete_without_where;
mod disallowed_unique_constraint;
mod identifier_too_long;
mod mysql_alter_copies_table;
mod mysql_charset_change;
mod mysql_column_position;
mod mysql_foreign_key_large_table;
mod mysql_implicit_commit;
mod mysql_modify_drops_attributes;
mod prefer_bigint_over_int;
mod prefer_bigint_over_smallint;
mod prefer_bigint_primary_key;
mod prefer_decimal_for_money;
mod prefer_identity;
mod prefer_robust_stmts;
mod prefer_text_field;
mod prefer_timestamptz;
mod psql_meta_command;
mod renaming_column;
mod renaming_table;
mod require_concurrent_index_creation;
mod require_concurrent_index_deletion;
mod require_concurrent_refresh;
mod require_concurrent_reindex;
mod require_enum_value_ordering;
mod require_lock_timeout;
mod require_primary_key;
mod require_soft_delete_columns;
mod require_statement_timeout;
mod require_table_schema;
mod setting_not_null;
mod sqlite_table_rebuild;
mod sqlite_unsupported_alter;
mod syntax_error;
mod transaction_nesting;
mod unanalyzed_statement;
mod update_without_where;

pub use context::RuleContext;

/// Dialect sets rules declare they apply to.
pub const ALL_DIALECTS: &[Dialect] = &[Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];
pub const POSTGRES_ONLY: &[Dialect] = &[Dialect::Postgres];
pub const SQLITE_ONLY: &[Dialect] = &[Dialect::Sqlite];

/// What a rule reports about one statement; the linter adds id, location and file.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub message: String,
    pub suggestion: String,
    /// Overrides the rule's default severity when the context makes it milder or worse.
    pub severity: Option<Severity>,
}

impl Violation {
    pub fn new(message: impl Into<String>, suggestion: impl Into<String>) -> Self {
        Violation { message: message.into(), suggestion: suggestion.into(), severity: None }
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}

pub trait Rule: Sync {
    /// Stable kebab-case id, used in findings, config and SARIF.
    fn id(&self) -> FindingId;
    /// What the rule catches and how to do it safely (the rule's page in the docs).
    fn doc(&self) -> &'static FindingDoc;
    fn severity(&self) -> Severity {
        self.doc().severity
    }
    /// One sentence on the problem the rule catches.
    fn description(&self) -> &'static str {
        self.doc().summary
    }
    fn dialects(&self) -> &'static [Dialect] {
        match self.doc().scope {
            Scope::Rule(dialects) => dialects,
            _ => ALL_DIALECTS,
        }
    }
    /// Governance rules that only run when their policy is enabled in the config.
    fn policy(&self) -> Option<Policy> {
        self.doc().policy
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation>;
    /// For statements the parser cannot read: rules that recognise valid SQL beyond the
    /// parser (MySQL `CONVERT TO CHARACTER SET`, ...) report from the text.
    fn check_unparsed(&self, _ctx: &RuleContext, _stmt: &ParsedStatement) -> Vec<Violation> {
        Vec::new()
    }
    /// Whether the rule's findings are about a lock on an existing table, so that, when the
    /// table's size is known, a tiny table makes them `low` and a huge one `high`.
    fn lock_scaled(&self) -> bool {
        false
    }
    /// PostgreSQL rules that read PostgreSQL's own parse tree: they see every statement
    /// PostgreSQL accepts, whether or not the rules' parser can read it.
    fn check_postgres(&self, _ctx: &RuleContext, _stmt: &ParsedStatement, _tree: &Tree) -> Vec<Violation> {
        Vec::new()
    }
}

/// Opt-in policies from `dbconsultant.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The zero-delete policy: no hard deletes, soft-delete columns everywhere.
    ZeroDelete,
    /// Off unless named in `[rules] enable` / `--enable`: style rules some teams want.
    OptIn,
}

/// Every rule, in a fixed order (determinism: findings come out in this order per statement).
pub fn all_rules() -> &'static [&'static dyn Rule] {
    &[
        &syntax_error::SyntaxError,
        &unanalyzed_statement::UnanalyzedStatement,
        &psql_meta_command::PsqlMetaCommand,
        &ban_drop_table::BanDropTable,
        &ban_drop_column::BanDropColumn,
        &ban_drop_schema::BanDropSchema,
        &ban_truncate::BanTruncate,
        &delete_without_where::DeleteWithoutWhere,
        &update_without_where::UpdateWithoutWhere,
        &renaming_table::RenamingTable,
        &renaming_column::RenamingColumn,
        &changing_column_type::ChangingColumnType,
        &adding_not_null_column_without_default::AddingNotNullColumnWithoutDefault,
        &setting_not_null::SettingNotNull,
        &require_concurrent_index_creation::RequireConcurrentIndexCreation,
        &require_concurrent_index_deletion::RequireConcurrentIndexDeletion,
        &constraint_missing_not_valid::ConstraintMissingNotValid,
        &disallowed_unique_constraint::DisallowedUniqueConstraint,
        &adding_volatile_default::AddingVolatileDefault,
        &concurrently_in_transaction::ConcurrentlyInTransaction,
        &require_lock_timeout::RequireLockTimeout,
        &mysql_alter_copies_table::MysqlAlterCopiesTable,
        &mysql_foreign_key_large_table::MysqlForeignKeyLargeTable,
        &mysql_modify_drops_attributes::MysqlModifyDropsAttributes,
        &mysql_column_position::MysqlColumnPosition,
        &mysql_charset_change::MysqlCharsetChange,
        &sqlite_unsupported_alter::SqliteUnsupportedAlter,
        &sqlite_table_rebuild::SqliteTableRebuild,
        &require_primary_key::RequirePrimaryKey,
        &prefer_bigint_primary_key::PreferBigintPrimaryKey,
        &prefer_timestamptz::PreferTimestamptz,
        &prefer_decimal_for_money::PreferDecimalForMoney,
        &ban_hard_delete::BanHardDelete,
        &require_soft_delete_columns::RequireSoftDeleteColumns,
        &ban_drop_database::BanDropDatabase,
        &ban_truncate_cascade::BanTruncateCascade,
        &ban_drop_not_null::BanDropNotNull,
        &ban_char_field::BanCharField,
        &prefer_text_field::PreferTextField,
        &prefer_bigint_over_int::PreferBigintOverInt,
        &prefer_bigint_over_smallint::PreferBigintOverSmallint,
        &prefer_identity::PreferIdentity,
        &adding_serial_primary_key_field::AddingSerialPrimaryKeyField,
        &adding_foreign_key_constraint::AddingForeignKeyConstraint,
        &ban_create_domain_with_constraint::BanCreateDomainWithConstraint,
        &ban_alter_domain_with_add_constraint::BanAlterDomainWithAddConstraint,
        &transaction_nesting::TransactionNesting,
        &ban_uncommitted_transaction::BanUncommittedTransaction,
        &require_enum_value_ordering::RequireEnumValueOrdering,
        &require_statement_timeout::RequireStatementTimeout,
        &identifier_too_long::IdentifierTooLong,
        &require_concurrent_reindex::RequireConcurrentReindex,
        &require_concurrent_refresh::RequireConcurrentRefresh,
        &ban_exclusive_maintenance::BanExclusiveMaintenance,
        &prefer_robust_stmts::PreferRobustStmts,
        &require_table_schema::RequireTableSchema,
        &mysql_implicit_commit::MysqlImplicitCommit,
    ]
}

pub fn find_rule(id: FindingId) -> Option<&'static dyn Rule> {
    all_rules().iter().copied().find(|r| r.id() == id)
}

/// Rule selection and policies, from `dbconsultant.toml` `[rules]` / `[policy]` or flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleConfig {
    /// Rule ids that never run.
    pub disable: Vec<String>,
    /// Opt-in rule ids that run.
    pub enable: Vec<String>,
    /// Enables the zero-delete policy (`ban-hard-delete`, `require-soft-delete-columns`).
    pub zero_delete: bool,
    /// Columns that count as soft-delete markers for `require-soft-delete-columns`.
    pub soft_delete_columns: Vec<String>,
}

impl RuleConfig {
    /// Rejects unknown rule ids, so a typo does not silently keep a rule on.
    pub fn validate(&self) -> Result<()> {
        for (list, ids) in [("disabled", &self.disable), ("enabled", &self.enable)] {
            for id in ids {
                if id.parse::<FindingId>().ok().and_then(find_rule).is_none() {
                    let known: Vec<&str> = all_rules().iter().map(|r| r.id().as_str()).collect();
                    return Err(Error::invalid(format!("unknown rule '{id}' in {list} rules (known rules: {})", known.join(", "))));
                }
            }
        }
        Ok(())
    }

    pub fn enabled(&self, rule: &dyn Rule, dialect: Dialect) -> bool {
        if self.disable.iter().any(|d| d == rule.id().as_str()) || !rule.dialects().contains(&dialect) {
            return false;
        }
        match rule.policy() {
            None => true,
            Some(Policy::ZeroDelete) => self.zero_delete,
            Some(Policy::OptIn) => self.enable.iter().any(|e| e == rule.id().as_str()),
        }
    }

    pub fn soft_delete_markers(&self) -> Vec<String> {
        if self.soft_delete_columns.is_empty() {
            vec!["deleted_at".into(), "is_active".into(), "is_deleted".into()]
        } else {
            self.soft_delete_columns.clone()
        }
    }
}

/// Run every enabled rule over the script. Findings come out in statement order, then
/// registry order, so the output is deterministic.
pub fn lint(script: &Script, dialect: Dialect, config: &RuleConfig, schema: Option<&SchemaSnapshot>) -> Vec<Finding> {
    use rayon::prelude::*;
    let ctx = RuleContext::new(script, dialect, config, schema);
    let rules: Vec<&dyn Rule> = all_rules().iter().copied().filter(|r| config.enabled(*r, dialect)).collect();
    // Statements are checked independently (the context holds what the whole script says):
    // on every core, collected back in statement order.
    let per_statement: Vec<Vec<Finding>> =
        crate::parallel::install(|| script.statements.par_iter().map(|stmt| statement_findings(&ctx, &rules, stmt)).collect());
    per_statement.into_iter().flatten().collect()
}

/// One statement's findings, in registry order.
fn statement_findings(ctx: &RuleContext, rules: &[&dyn Rule], stmt: &ParsedStatement) -> Vec<Finding> {
    let (dialect, config, schema) = (ctx.dialect, ctx.config, ctx.schema);
    let mut findings = Vec::new();
    let mut violations: Vec<(&dyn Rule, Violation)> = match (&stmt.grammar, &stmt.ast) {
        (Grammar::PsqlMetaCommand, _) => {
            if config.enabled(&psql_meta_command::PsqlMetaCommand, dialect) {
                findings.push(psql_meta_command::finding(stmt));
            }
            Vec::new()
        }
        // The database itself refuses it. Rules that can read it may say why (SQLite has no
        // ALTER COLUMN: `sqlite-unsupported-alter` explains the rebuild it needs).
        (Grammar::Rejected(failure), ast) => {
            if config.enabled(&syntax_error::SyntaxError, dialect) {
                findings.push(syntax_error::finding(stmt, failure, dialect));
            }
            match ast {
                Ok(ast) => rules.iter().flat_map(|r| r.check(ctx, stmt, ast).into_iter().map(move |v| (*r, v))).collect(),
                Err(_) => Vec::new(),
            }
        }
        (_, Ok(ast)) => rules.iter().flat_map(|r| r.check(ctx, stmt, ast).into_iter().map(move |v| (*r, v))).collect(),
        (_, Err(failure)) => {
            if config.enabled(&unanalyzed_statement::UnanalyzedStatement, dialect) {
                findings.push(unanalyzed_statement::finding(stmt, failure, dialect));
            }
            rules.iter().flat_map(|r| r.check_unparsed(ctx, stmt).into_iter().map(move |v| (*r, v))).collect()
        }
    };
    // Decoded for this statement's rules only, and dropped with its findings.
    let tree = stmt.pg_tree.as_ref().and_then(|t| t.decode());
    if let Some(tree) = &tree {
        violations.extend(rules.iter().flat_map(|r| r.check_postgres(ctx, stmt, tree).into_iter().map(move |v| (*r, v))));
    }
    // Only statements with a lock finding need the locked table's size.
    let size = schema.filter(|_| violations.iter().any(|(r, _)| r.lock_scaled())).and_then(|s| {
        let table = table_size::locked_table(stmt, tree.as_ref(), s)?;
        Some((s.table(&table)?.row_estimate?, table))
    });
    for (rule, v) in violations {
        let (severity, message) = match &size {
            Some((rows, table)) if rule.lock_scaled() => table_size::scale(v.severity.unwrap_or(rule.severity()), v.message, table, *rows),
            _ => (v.severity.unwrap_or(rule.severity()), v.message),
        };
        findings.push(Finding {
            rule: rule.id(),
            severity,
            message,
            statement: Some(stmt.index),
            line: Some(stmt.line),
            column: Some(stmt.column),
            suggestion: Some(v.suggestion),
            file: Some(stmt.file.clone()),
            sample_records: Vec::new(),
            suppressed: None,
        });
    }
    findings
}

#[cfg(test)]
pub(crate) mod testing {
    //! Three-line rule tests: `lint_ok(sql)` / `violations(rule, sql)`.
    use super::*;
    pub use crate::findings::FindingId;
    use crate::sql::{parse_script, MigrationSource};

    pub fn findings(dialect: Dialect, config: &RuleConfig, sql: &str) -> Vec<Finding> {
        let script = parse_script(&[MigrationSource::inline(sql)], dialect);
        lint(&script, dialect, config, None)
    }

    /// Findings of one rule on a script, with everything enabled.
    pub fn violations(rule: FindingId, dialect: Dialect, sql: &str) -> Vec<Finding> {
        let config = RuleConfig { zero_delete: true, ..Default::default() };
        findings(dialect, &config, sql).into_iter().filter(|f| f.rule == rule).collect()
    }

    pub fn assert_flags(rule: FindingId, dialect: Dialect, sql: &str) -> Vec<Finding> {
        let found = violations(rule, dialect, sql);
        assert!(!found.is_empty(), "{rule} should flag:\n{sql}");
        found
    }

    pub fn assert_ok(rule: FindingId, dialect: Dialect, sql: &str) {
        let found = violations(rule, dialect, sql);
        assert!(found.is_empty(), "{rule} should not flag:\n{sql}\n{found:#?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn rule_ids_are_unique_kebab_case_and_described() {
        let mut seen = HashSet::new();
        for rule in all_rules() {
            assert!(seen.insert(rule.id()), "duplicate id {}", rule.id());
            assert!(rule.id().as_str().chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", rule.id());
            assert!(!rule.description().is_empty());
        }
    }

    #[test]
    fn unknown_disabled_rule_is_rejected() {
        let cfg = RuleConfig { disable: vec!["ban-drop-tabel".into()], ..Default::default() };
        let err = cfg.validate().unwrap_err();
        assert!(err.to_string().contains("unknown rule 'ban-drop-tabel'"));
    }

    #[test]
    fn disabled_rule_does_not_run() {
        let sql = "DROP TABLE users;";
        assert!(!testing::findings(Dialect::Sqlite, &RuleConfig::default(), sql).is_empty());
        let cfg = RuleConfig { disable: vec!["ban-drop-table".into()], ..Default::default() };
        assert!(testing::findings(Dialect::Sqlite, &cfg, sql).is_empty());
    }
}
