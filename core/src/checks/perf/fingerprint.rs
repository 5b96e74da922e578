//! Query fingerprints: one `query_hash` for queries that differ only in literals, whitespace,
//! comments, keyword case or the length of IN lists / VALUES lists.
//!
//! PostgreSQL queries use pg_query's fingerprint (PostgreSQL's own parse tree, the one
//! pganalyze uses), which groups queries as pg_stat_statements does where the text alone can
//! tell (core/tests/pg_fingerprint.rs checks it against a real server) and reads all of
//! PostgreSQL's syntax. Other databases use the sqlparser AST (its printer fixes keyword case
//! and spacing; comments never reach the AST).

use std::ops::ControlFlow;

use sqlparser::ast::{visit_expressions_mut, visit_statements_mut, Expr, InTarget, SetExpr, Statement, Value, ValueWithSpan};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Span;

use crate::dialect::Dialect;

/// A query's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// 16 hex digits of the MD5 of `normalized`.
    pub query_hash: String,
    /// The query with literals as placeholders: PostgreSQL's `$1, $2, ...` as
    /// pg_stat_statements shows it; elsewhere `?`, one-element IN/VALUES lists, canonical
    /// spacing and case.
    pub normalized: String,
    /// False when the text did not parse and a token-level normalization was used instead.
    pub parsed: bool,
}

fn placeholder() -> Expr {
    Expr::Value(ValueWithSpan { value: Value::Placeholder("?".into()), span: Span::empty() })
}

/// Literals become `?`; lists of them collapse to one element.
fn normalize_statement(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        match expr {
            Expr::Value(_) => *expr = placeholder(),
            Expr::In { target: InTarget::List(list), .. } if !list.is_empty() => *list = vec![placeholder()],
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    let _ = visit_statements_mut(statement, |s| {
        if let Statement::Insert(insert) = s {
            if let Some(source) = insert.source.as_mut() {
                if let SetExpr::Values(values) = source.body.as_mut() {
                    values.rows.truncate(1);
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Fingerprint of one statement (the first, if the text holds several).
pub fn fingerprint(sql: &str, dialect: Dialect) -> Fingerprint {
    if dialect == Dialect::Postgres {
        if let Some(fingerprint) = postgres_fingerprint(sql) {
            return fingerprint;
        }
    }
    let parsed = Parser::parse_sql(&*dialect.parser_dialect(), sql);
    let (normalized, parsed) = match parsed {
        Ok(mut statements) if !statements.is_empty() => {
            for s in statements.iter_mut() {
                normalize_statement(s);
            }
            (statements.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("; "), true)
        }
        _ => (token_normalize(sql), false),
    };
    let query_hash = crate::driver::md5_hex(normalized.as_bytes())[..16].to_string();
    Fingerprint { query_hash, normalized, parsed }
}

/// pg_query's fingerprint, refined where it groups what pg_stat_statements keeps apart, and
/// PostgreSQL's normalized text; none when PostgreSQL would not parse the text.
fn postgres_fingerprint(sql: &str) -> Option<Fingerprint> {
    let hash = pg_query::fingerprint(sql, pg_query::ParserOptions::default(), pg_query::FingerprintOptions::default()).ok()?;
    let normalized = pg_query::normalize(sql).ok()?;
    let tree = pg_query::parse(sql, pg_query::ParserOptions::default()).ok()?;
    let refinement = postgres_refinement(&tree.protobuf);
    let query_hash = if refinement.is_empty() {
        hash.hex
    } else {
        crate::driver::md5_hex(format!("{}:{refinement}", hash.hex).as_bytes())[..16].to_string()
    };
    Some(Fingerprint { query_hash, normalized: normalized.trim().to_string(), parsed: true })
}

/// What pg_query's fingerprint leaves out that pg_stat_statements counts: `IN (...)` and
/// `= ANY (...)` are not `=` (pg_query folds them together), and a constant's type matters
/// (`> 10` and `> 99.5` compare with different operators). The constants of an IN list count
/// once, whatever its length, as PostgreSQL 18 does. Order-free: a sorted multiset.
fn postgres_refinement(tree: &pg_query::protobuf::ParseResult) -> String {
    use pg_query::protobuf::{a_const::Val, AExprKind};
    use pg_query::{NodeEnum, NodeRef};
    fn kind(c: &pg_query::protobuf::AConst) -> &'static str {
        match &c.val {
            _ if c.isnull => "null",
            Some(Val::Ival(_)) => "int",
            Some(Val::Fval(_)) => "numeric",
            Some(Val::Boolval(_)) => "bool",
            Some(Val::Sval(_)) => "text",
            Some(Val::Bsval(_)) => "bits",
            None => "none",
        }
    }
    let mut tokens: Vec<String> = Vec::new();
    let mut listed: Vec<&'static str> = Vec::new();
    for (node, ..) in tree.nodes() {
        match node {
            NodeRef::AConst(c) => tokens.push(kind(c).to_string()),
            NodeRef::AExpr(e) if e.kind == AExprKind::AexprIn as i32 || e.kind == AExprKind::AexprOpAny as i32 => {
                let items: Vec<&'static str> = match e.rexpr.as_deref().and_then(|n| n.node.as_ref()) {
                    Some(NodeEnum::List(list)) => list
                        .items
                        .iter()
                        .filter_map(|i| match i.node.as_ref() {
                            Some(NodeEnum::AConst(c)) => Some(kind(c)),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let what = if e.kind == AExprKind::AexprIn as i32 { "in" } else { "any" };
                tokens.push(format!("{what}:{}", items.first().copied().unwrap_or("expr")));
                listed.extend(items);
            }
            _ => {}
        }
    }
    for item in listed {
        if let Some(at) = tokens.iter().position(|t| t == item) {
            tokens.remove(at);
        }
    }
    tokens.sort();
    tokens.join(",")
}

/// For text sqlparser cannot read: drop comments, collapse whitespace, upper-case words,
/// replace numbers and quoted strings with `?`.
fn token_normalize(sql: &str) -> String {
    let without_comments =
        regex::Regex::new(r"(?s)/\*.*?\*/|--[^\n]*").map(|r| r.replace_all(sql, " ").into_owned()).unwrap_or_else(|_| sql.to_string());
    let literals = regex::Regex::new(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
        .map(|r| r.replace_all(&without_comments, "?").into_owned())
        .unwrap_or(without_comments);
    let lists = regex::Regex::new(r"\(\s*\?(?:\s*,\s*\?)*\s*\)").map(|r| r.replace_all(&literals, "(?)").into_owned()).unwrap_or(literals);
    lists.split_whitespace().map(|w| w.to_ascii_uppercase()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(sql: &str) -> String {
        fingerprint(sql, Dialect::Postgres).query_hash
    }

    #[test]
    fn literals_do_not_matter() {
        assert_eq!(
            hash("SELECT * FROM orders WHERE id = 1 AND status = 'paid'"),
            hash("SELECT * FROM orders WHERE id = 42 AND status = 'new'")
        );
        assert_ne!(hash("SELECT * FROM orders WHERE id = 1"), hash("SELECT * FROM orders WHERE customer_id = 1"));
    }

    #[test]
    fn whitespace_comments_and_keyword_case_do_not_matter() {
        let a = hash("SELECT id FROM orders WHERE total > 10");
        assert_eq!(a, hash("select  id\n  from orders -- the big one\n where total > 99"));
        assert_eq!(a, hash("/* report */ SeLeCt id FROM orders WHERE total > 5"));
    }

    #[test]
    fn in_and_values_list_lengths_do_not_matter() {
        assert_eq!(hash("SELECT * FROM t WHERE id IN (1, 2, 3)"), hash("SELECT * FROM t WHERE id IN (7)"));
        assert_eq!(hash("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')"), hash("INSERT INTO t (a, b) VALUES (3, 'z')"));
        assert_eq!(fingerprint("SELECT * FROM t WHERE id IN (1, 2)", Dialect::Mysql).normalized, "SELECT * FROM t WHERE id IN (?)");
        assert_eq!(fingerprint("SELECT * FROM t WHERE id IN (1, 2)", Dialect::Postgres).normalized, "SELECT * FROM t WHERE id IN ($1, $2)");
    }

    #[test]
    fn unparsable_text_still_gets_a_stable_hash() {
        let a = fingerprint("SELEC weird 'x' 12 -- c", Dialect::Postgres);
        let b = fingerprint("selec   WEIRD 'y' 13", Dialect::Postgres);
        assert!(!a.parsed);
        assert_eq!(a.query_hash, b.query_hash);
    }
}
