//! `psql-meta-command`: `\c`, `\set`, `\i` and `COPY ... FROM stdin` data are psql's syntax,
//! not SQL: only psql runs them.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::{Finding, Severity};
use crate::sql::ParsedStatement;

pub struct PsqlMetaCommand;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "A psql meta-command or COPY data block is not SQL: only psql can run this file.",
    details: "Lines starting with a backslash (`\\connect`, `\\set ON_ERROR_STOP on`, `\\i other.sql`) and the data lines after `COPY ... FROM stdin;` up to `\\.` are interpreted by psql, not by the server. Migration tools that send the file to the server (Flyway, golang-migrate, sqlx, ...) fail on them, and the sandbox skips them. They are cut out before the SQL is split, so the statements around them are still checked.",
    bad: "\\connect app\nCREATE TABLE t (id bigint PRIMARY KEY);",
    good: "-- Connect with the migration tool's URL instead; keep the file pure SQL.\nCREATE TABLE t (id bigint PRIMARY KEY);",
};

impl Rule for PsqlMetaCommand {
    fn id(&self) -> FindingId {
        FindingId::PsqlMetaCommand
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reported by the linter from the statement's grammar verdict
    }
}

pub fn finding(stmt: &ParsedStatement) -> Finding {
    let what = stmt.ast.as_ref().err().map(|f| f.message.clone()).unwrap_or_else(|| "psql syntax".into());
    Finding {
        rule: PsqlMetaCommand.id(),
        severity: PsqlMetaCommand.severity(),
        message: format!("{what}: only psql runs it; other migration tools and the sandbox do not"),
        statement: Some(stmt.index),
        line: Some(stmt.line),
        column: Some(stmt.column),
        suggestion: Some("Remove it, or run this file with psql only.".into()),
        file: Some(stmt.file.clone()),
        sample_records: Vec::new(),
        suppressed: None,
    }
}
