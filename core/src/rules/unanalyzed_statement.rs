//! `unanalyzed-statement`: the database's grammar accepts the statement (or, for MySQL and
//! MariaDB, the server will decide in the sandbox), but the parser the AST rules work on cannot
//! read it; only the rules that read text or PostgreSQL's own parse tree checked it.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::{Finding, Severity};
use crate::sql::{Grammar, ParseFailure, ParsedStatement};

pub struct UnanalyzedStatement;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Info,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "The statement is valid for the database, but only some rules could read it.",
    details: "Whether a statement is valid is decided by the database's own grammar: PostgreSQL's parser (libpg_query) and SQLite itself, and for MySQL and MariaDB the server, in the sandbox. The rules work on a general-purpose SQL parse tree; when that parser does not know a construct the database accepts (a `DO` block, `CREATE STATISTICS`, an unusual `ALTER SEQUENCE`), the statement is not an error: it is reported here, and the rules that read the text or PostgreSQL's own parse tree still check it.",
    bad: "CREATE STATISTICS orders_stats (dependencies) ON customer_id, status FROM orders;",
    good: "-- Nothing to change: the note says which rules could not look at the statement.",
};

impl Rule for UnanalyzedStatement {
    fn id(&self) -> FindingId {
        FindingId::UnanalyzedStatement
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reported by the linter from the statement's grammar verdict
    }
}

pub fn finding(stmt: &ParsedStatement, failure: &ParseFailure, dialect: Dialect) -> Finding {
    let verdict = match stmt.grammar {
        Grammar::Accepted => format!("valid {dialect} (the database's own grammar accepts it)"),
        _ => format!("not checked by {dialect}'s grammar here (the server decides when it runs in the sandbox)"),
    };
    Finding {
        rule: UnanalyzedStatement.id(),
        severity: UnanalyzedStatement.severity(),
        message: format!(
            "statement {} is {verdict}; the AST rules' parser cannot read it ({}), so only text-level rules checked it",
            stmt.index, failure.message
        ),
        statement: Some(stmt.index),
        line: Some(stmt.line),
        column: Some(stmt.column),
        suggestion: Some("Nothing to fix; review the statement by hand for hazards the rules could not see.".into()),
        file: Some(stmt.file.clone()),
        sample_records: Vec::new(),
        suppressed: None,
    }
}
