//! `syntax-error`: a statement the parser cannot read is a finding with its position.

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
    summary: "The statement cannot be parsed in the target dialect, so no other rule could check it.",
    details: "The statement cannot be read in the target dialect, so no rule could check it and the database will most likely reject it. Validation against a database downgrades the finding to `info` when the database itself accepts the statement (syntax the linter does not know).",
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
        message: format!("cannot parse statement {} as {dialect} SQL: {}", stmt.index, failure.message),
        statement: Some(stmt.index),
        line: Some(failure.line),
        column: Some(failure.column),
        suggestion: Some(format!("Fix the syntax, or check that the dialect is right (--dialect; this was read as {dialect}).")),
        file: Some(stmt.file.clone()),
        sample_records: Vec::new(),
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
