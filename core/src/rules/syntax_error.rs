//! `syntax-error`: the database's own grammar refuses the statement (PostgreSQL's parser,
//! SQLite's); the finding carries the database's message and position.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::{Finding, Severity};
use crate::sql::{ParseFailure, ParsedStatement};

pub struct SyntaxError;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Critical,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "The database's own grammar refuses the statement: it would fail when the migration runs.",
    details: "Syntax is decided by the database's own grammar: PostgreSQL's parser (libpg_query, the parser of the PostgreSQL server) and SQLite itself, which compiles the statement without running it. A statement they refuse fails in production; the finding carries their message and position. MySQL and MariaDB have no grammar that can be embedded: their statements are reported here only when validating, when the server's own parser refuses one in the sandbox (error 1064); without a server, a statement the rules' parser cannot read is `unanalyzed-statement`. A valid statement that the rules' own parser cannot read is `unanalyzed-statement` (info), never a syntax error.",
    bad: "CREATE TABEL customers (id bigint PRIMARY KEY);",
    good: "CREATE TABLE customers (id bigint PRIMARY KEY);",
};

impl Rule for SyntaxError {
    fn id(&self) -> FindingId {
        FindingId::SyntaxError
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reported by the linter from the parse failure itself
    }
}

pub fn finding(stmt: &ParsedStatement, failure: &ParseFailure, dialect: Dialect) -> Finding {
    Finding {
        rule: SyntaxError.id(),
        severity: SyntaxError.severity(),
        message: format!("{dialect} refuses statement {}: {}", stmt.index, failure.message),
        statement: Some(stmt.index),
        line: Some(failure.line),
        column: Some(failure.column),
        suggestion: Some(format!("Fix the syntax, or check that the dialect is right (--dialect; this was read as {dialect}).")),
        file: Some(stmt.file.clone()),
        sample_records: Vec::new(),
        suppressed: None,
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn reports_position_of_the_error() {
        let f = assert_flags(FindingId::SyntaxError, Dialect::Postgres, "SELECT 1;\nCREATE TABLE (id int);");
        assert_eq!((f[0].statement, f[0].line), (Some(2), Some(2)));
        assert!(f[0].column.unwrap() >= 14, "{:?}", f[0]);
        assert_ok(FindingId::SyntaxError, Dialect::Postgres, "CREATE TABLE t (id int);");
    }
}
