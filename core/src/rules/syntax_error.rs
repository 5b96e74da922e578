//! `syntax-error`: a statement the parser cannot read is a finding with its position.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation};
use crate::dialect::Dialect;
use crate::model::{Finding, Severity};
use crate::sql::{ParseFailure, ParsedStatement};

pub struct SyntaxError;

impl Rule for SyntaxError {
    fn id(&self) -> &'static str {
        "syntax-error"
    }
    fn severity(&self) -> Severity {
        // Critical: a script that does not parse cannot be shipped, and nothing else in it
        // was checked. Validation against a database downgrades it when the database accepts
        // the statement (syntax this parser does not know).
        Severity::Critical
    }
    fn description(&self) -> &'static str {
        "The statement cannot be parsed in the target dialect, so no other rule could check it."
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reported by the linter from the parse failure itself
    }
}

pub fn finding(stmt: &ParsedStatement, failure: &ParseFailure, dialect: Dialect) -> Finding {
    Finding {
        rule: SyntaxError.id().into(),
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
        let f = assert_flags("syntax-error", Dialect::Postgres, "SELECT 1;\nCREATE TABLE (id int);");
        assert_eq!((f[0].statement, f[0].line), (Some(2), Some(2)));
        assert!(f[0].column.unwrap() >= 14, "{:?}", f[0]);
        assert_ok("syntax-error", Dialect::Postgres, "CREATE TABLE t (id int);");
    }
}
