//! Facts about the whole script that rules need beyond their own statement.

use std::collections::{HashMap, HashSet};

use sqlparser::ast::{visit_relations, AlterTableOperation, ObjectName, RenameTableNameKind, Set, Statement, TableObject};

use super::ast::{alter_table, base_name};
use super::pg;
use super::RuleConfig;
use crate::dialect::Dialect;
use crate::model::SchemaSnapshot;
use crate::sql::{ParsedStatement, Script};

/// A SQLite-style table rebuild: `CREATE TABLE new`, `INSERT INTO new SELECT ... FROM old`,
/// `DROP TABLE old`, `ALTER TABLE new RENAME TO old`.
#[derive(Debug, Clone)]
pub struct Rebuild {
    pub table: String,
    pub drop_index: usize,
    pub rename_index: usize,
}

pub struct RuleContext<'a> {
    pub dialect: Dialect,
    pub script: &'a Script,
    pub config: &'a RuleConfig,
    /// The schema before the migration, when validating against a database.
    pub schema: Option<&'a SchemaSnapshot>,
    /// Lower-case table name → index of the statement that created it in this script.
    created: HashMap<String, usize>,
    /// Statement indexes that run inside an explicit transaction block (a BEGIN counts
    /// itself, a COMMIT does not).
    in_transaction: HashSet<usize>,
    /// Statement indexes before which a transaction their file opened is still open.
    open_before: HashSet<usize>,
    /// BEGINs whose transaction is still open at the end of their file.
    unclosed: HashSet<usize>,
    /// Index of the first `SET lock_timeout`, if any.
    lock_timeout_at: Option<usize>,
    rebuilds: Vec<Rebuild>,
}

impl<'a> RuleContext<'a> {
    pub fn new(script: &'a Script, dialect: Dialect, config: &'a RuleConfig, schema: Option<&'a SchemaSnapshot>) -> Self {
        let mut created = HashMap::new();
        let Transactions { after: in_transaction, before: open_before, unclosed } = transactions(script);
        let mut lock_timeout_at = None;
        // old table -> statement index of an INSERT INTO x SELECT ... FROM old
        let mut copied_from: HashMap<String, (String, usize)> = HashMap::new();
        let mut dropped: HashMap<String, usize> = HashMap::new();
        let mut rebuilds = Vec::new();
        for (stmt, ast) in script.parsed() {
            match ast {
                Statement::CreateTable(ct) => {
                    created.entry(base_name(&ct.name).to_lowercase()).or_insert(stmt.index);
                }
                Statement::Set(set) if sets_lock_timeout(set) => {
                    lock_timeout_at.get_or_insert(stmt.index);
                }
                Statement::Insert(insert) => {
                    if let (TableObject::TableName(target), Some(source)) = (&insert.table, &insert.source) {
                        let target = base_name(target).to_lowercase();
                        let _ = visit_relations(source.as_ref(), |rel| {
                            copied_from.insert(base_name(rel).to_lowercase(), (target.clone(), stmt.index));
                            std::ops::ControlFlow::<()>::Continue(())
                        });
                    }
                }
                Statement::Drop { names, .. } => {
                    for n in names {
                        dropped.insert(base_name(n).to_lowercase(), stmt.index);
                    }
                }
                _ => {}
            }
            if let Some((name, ops)) = alter_table(ast) {
                for op in ops {
                    if let AlterTableOperation::RenameTable { table_name } = op {
                        let new_name = match table_name {
                            RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => base_name(n).to_lowercase(),
                        };
                        let from = base_name(name).to_lowercase();
                        if let (Some(drop_index), Some((copy_target, _))) = (dropped.get(&new_name), copied_from.get(&new_name)) {
                            if *copy_target == from {
                                rebuilds.push(Rebuild { table: new_name.clone(), drop_index: *drop_index, rename_index: stmt.index });
                            }
                        }
                    }
                }
            }
        }
        RuleContext { dialect, script, config, schema, created, in_transaction, open_before, unclosed, lock_timeout_at, rebuilds }
    }

    /// True when the table was created earlier in this script (so locking it is harmless).
    pub fn created_in_script_before(&self, table: &str, index: usize) -> bool {
        self.created.get(&table.to_lowercase()).is_some_and(|&at| at < index)
    }

    /// `ALTER TABLE` name and operations, when the table existed before this migration
    /// (locking a table the same migration created is harmless).
    pub fn alter_of_existing_table<'s>(
        &self,
        stmt: &ParsedStatement,
        ast: &'s Statement,
    ) -> Option<(&'s ObjectName, &'s [AlterTableOperation])> {
        let (name, ops) = alter_table(ast)?;
        (!self.created_in_script_before(&base_name(name), stmt.index)).then_some((name, ops))
    }

    /// Inside an explicit BEGIN ... COMMIT of the script.
    pub fn in_explicit_transaction(&self, index: usize) -> bool {
        self.in_transaction.contains(&index)
    }

    /// Inside an explicit transaction block, or in a migration its tool runs in a transaction.
    pub fn in_transaction(&self, index: usize) -> bool {
        // Statement `index` is at `index - 1`: indexes number the script's statements from 1.
        self.in_transaction.contains(&index)
            || self.script.statements.get(index.wrapping_sub(1)).is_some_and(|s| s.transactional == Some(true))
    }

    /// Is a transaction that the statement's file opened (BEGIN without COMMIT/ROLLBACK yet)
    /// still open when the statement runs?
    pub fn transaction_open_before(&self, index: usize) -> bool {
        self.open_before.contains(&index)
    }

    /// A BEGIN (START TRANSACTION) whose transaction its file never commits or rolls back.
    pub fn uncommitted_begin(&self, index: usize) -> bool {
        self.unclosed.contains(&index)
    }

    pub fn lock_timeout_set_before(&self, index: usize) -> bool {
        self.lock_timeout_at.is_some_and(|at| at < index)
    }

    /// The rebuild whose `DROP TABLE` is at this statement, if any.
    pub fn rebuild_dropping_at(&self, index: usize) -> Option<&Rebuild> {
        self.rebuilds.iter().find(|r| r.drop_index == index)
    }

    pub fn rebuild_renaming_at(&self, index: usize) -> Option<&Rebuild> {
        self.rebuilds.iter().find(|r| r.rename_index == index)
    }

    /// Declared type of a column in the pre-migration schema, when known.
    pub fn existing_column_type(&self, table: &str, column: &str) -> Option<String> {
        self.schema?.table(table)?.column(column).map(|c| c.data_type.clone())
    }
}

/// Where each file's explicit transactions are open.
struct Transactions {
    /// After each statement (a BEGIN counts itself, a COMMIT does not).
    after: HashSet<usize>,
    /// Before each statement.
    before: HashSet<usize>,
    /// BEGINs still open at the end of their file.
    unclosed: HashSet<usize>,
}

/// What a statement does to the transaction: PostgreSQL's own tree decides when there is one
/// (it reads statements the rules' parser cannot), the rules' AST otherwise.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TransactionControl {
    Begin,
    End,
}

pub fn transaction_control(stmt: &ParsedStatement) -> Option<TransactionControl> {
    match (stmt.pg_tree.as_ref(), stmt.statement()) {
        (Some(tree), _) => match tree.decode_if(&[*pg::TRANSACTION]) {
            Some(tree) if pg::is_begin(&tree) => Some(TransactionControl::Begin),
            Some(tree) if pg::ends_transaction(&tree) => Some(TransactionControl::End),
            _ => None,
        },
        (None, Some(Statement::StartTransaction { .. })) => Some(TransactionControl::Begin),
        (None, Some(Statement::Commit { .. } | Statement::Rollback { savepoint: None, .. })) => Some(TransactionControl::End),
        _ => None,
    }
}

/// A file starts outside any transaction.
fn transactions(script: &Script) -> Transactions {
    let mut t = Transactions { after: HashSet::new(), before: HashSet::new(), unclosed: HashSet::new() };
    let mut opened_at: Option<usize> = None;
    let mut file: Option<&str> = None;
    for stmt in &script.statements {
        if file != Some(stmt.file.as_str()) {
            t.unclosed.extend(opened_at.take());
            file = Some(&stmt.file);
        }
        if opened_at.is_some() {
            t.before.insert(stmt.index);
        }
        match transaction_control(stmt) {
            Some(TransactionControl::Begin) => opened_at = Some(stmt.index),
            Some(TransactionControl::End) => opened_at = None,
            None => {}
        }
        if opened_at.is_some() {
            t.after.insert(stmt.index);
        }
    }
    t.unclosed.extend(opened_at);
    t
}

fn sets_lock_timeout(set: &Set) -> bool {
    match set {
        Set::SingleAssignment { variable, .. } => variable.to_string().to_ascii_lowercase().ends_with("lock_timeout"),
        other => other.to_string().to_ascii_lowercase().contains("lock_timeout"),
    }
}
