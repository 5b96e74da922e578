//! Reading PostgreSQL's own parse tree (`pg_query`'s protobuf nodes) for the PostgreSQL rules.

use pg_query::protobuf::{AlterTableCmd, AlterTableType, ColumnDef, ConstrType, Constraint, RangeVar, TransactionStmtKind, TypeName};
use pg_query::{Node, NodeEnum};

use crate::sql::grammar::postgres::{Kind, Tree};

/// `BEGIN`, `COMMIT` and the like, for questions about the whole script.
pub static TRANSACTION: std::sync::LazyLock<Kind> = std::sync::LazyLock::new(|| Kind::of(NodeEnum::TransactionStmt(Default::default())));

/// `schema.table` as written, or `table`.
pub fn relation(rv: Option<&RangeVar>) -> String {
    match rv {
        Some(r) if !r.schemaname.is_empty() => format!("{}.{}", r.schemaname, r.relname),
        Some(r) => r.relname.clone(),
        None => String::new(),
    }
}

/// The table name only, lower-case (what the rule context indexes by).
pub fn base(rv: Option<&RangeVar>) -> String {
    rv.map(|r| r.relname.to_lowercase()).unwrap_or_default()
}

pub fn string(node: &Node) -> Option<&str> {
    match node.node.as_ref()? {
        NodeEnum::String(s) => Some(&s.sval),
        _ => None,
    }
}

/// A type's own name, without `pg_catalog.`: `int4`, `varchar`, `bpchar`, `serial`, `timestamp`.
pub fn type_name(t: &TypeName) -> String {
    t.names.last().and_then(string).unwrap_or("").to_lowercase()
}

/// An ALTER TABLE's table and commands.
pub fn alter_table(tree: &Tree) -> Option<(&RangeVar, Vec<&AlterTableCmd>)> {
    let NodeEnum::AlterTableStmt(stmt) = tree else { return None };
    let cmds = stmt
        .cmds
        .iter()
        .filter_map(|n| match n.node.as_ref()? {
            NodeEnum::AlterTableCmd(c) => Some(c.as_ref()),
            _ => None,
        })
        .collect();
    Some((stmt.relation.as_ref()?, cmds))
}

pub fn is(cmd: &AlterTableCmd, kind: AlterTableType) -> bool {
    cmd.subtype == kind as i32
}

pub fn column_def(node: Option<&Node>) -> Option<&ColumnDef> {
    match node?.node.as_ref()? {
        NodeEnum::ColumnDef(c) => Some(c),
        _ => None,
    }
}

pub fn constraint(node: Option<&Node>) -> Option<&Constraint> {
    match node?.node.as_ref()? {
        NodeEnum::Constraint(c) => Some(c),
        _ => None,
    }
}

pub fn constraint_is(c: &Constraint, kind: ConstrType) -> bool {
    c.contype == kind as i32
}

/// Every column a statement defines: `(table, column, added to an existing table)`.
pub fn column_defs(tree: &Tree) -> Vec<(String, &ColumnDef, bool)> {
    match tree {
        NodeEnum::CreateStmt(create) => {
            let table = relation(create.relation.as_ref());
            create.table_elts.iter().filter_map(|n| column_def(Some(n))).map(|c| (table.clone(), c, false)).collect()
        }
        _ => match alter_table(tree) {
            Some((rel, cmds)) => cmds
                .into_iter()
                .filter(|c| is(c, AlterTableType::AtAddColumn))
                .filter_map(|c| column_def(c.def.as_deref()))
                .map(|c| (relation(Some(rel)), c, true))
                .collect(),
            None => Vec::new(),
        },
    }
}

/// The columns a statement defines with one of these types: `(table, column, type)`. With
/// `with_length`, only those written with a length or precision (`varchar(32)`, not `varchar`).
pub fn columns_of_type<'a>(tree: &'a Tree, types: &[&str], with_length: bool) -> Vec<(String, &'a ColumnDef, String)> {
    column_defs(tree)
        .into_iter()
        .filter_map(|(table, c, _)| {
            let t = c.type_name.as_ref()?;
            let name = type_name(t);
            (types.contains(&name.as_str()) && (!with_length || !t.typmods.is_empty())).then_some((table, c, name))
        })
        .collect()
}

/// The constraints written on a column (`PRIMARY KEY`, `REFERENCES`, ...).
pub fn column_constraints(c: &ColumnDef) -> impl Iterator<Item = &Constraint> {
    c.constraints.iter().filter_map(|n| constraint(Some(n)))
}

/// A `DefElem` list (VACUUM, REINDEX, CLUSTER options) names this option.
pub fn has_option(options: &[Node], name: &str) -> bool {
    options.iter().any(|n| matches!(n.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname.eq_ignore_ascii_case(name)))
}

/// `BEGIN` or `START TRANSACTION`.
pub fn is_begin(tree: &Tree) -> bool {
    matches!(tree, NodeEnum::TransactionStmt(t) if t.kind == TransactionStmtKind::TransStmtBegin as i32 || t.kind == TransactionStmtKind::TransStmtStart as i32)
}

/// `COMMIT`, `ROLLBACK` (`END`, `ABORT`) or `PREPARE TRANSACTION`.
pub fn ends_transaction(tree: &Tree) -> bool {
    let ends = [TransactionStmtKind::TransStmtCommit, TransactionStmtKind::TransStmtRollback, TransactionStmtKind::TransStmtPrepare];
    matches!(tree, NodeEnum::TransactionStmt(t) if ends.iter().any(|k| t.kind == *k as i32))
}
