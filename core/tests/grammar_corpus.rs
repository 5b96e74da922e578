//! The databases' own grammars decide what a syntax error is. The corpus under
//! `tests/fixtures/corpus/<dialect>/` (written for these tests from the forms public migration
//! repositories use: procedural blocks, functions and triggers, partitions, policies,
//! extensions, sequences, statistics, comments, COPY with data, psql meta-commands, MySQL
//! `DELIMITER` blocks, SQLite table rebuilds) holds at least 300 statements per dialect. Lint
//! reports no `syntax-error` on any of it; what the rules' parser cannot read is an `info`
//! `unanalyzed-statement`, never more; and the same grammars still refuse what their
//! databases refuse, at the right line.

mod common;

use common::repo_root;
use dbconsultant::checks::schema::{lint, LintRequest};
use dbconsultant::findings::FindingId;
use dbconsultant::model::{Finding, Severity};
use dbconsultant::sql::{parse_script, Grammar};
use dbconsultant::{Dialect, MigrationSource};

fn corpus(dialect: &str) -> Vec<MigrationSource> {
    let dir = repo_root().join("tests/fixtures/corpus").join(dialect);
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| MigrationSource::named(p.file_name().unwrap().to_string_lossy(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

fn lint_sources(sources: Vec<MigrationSource>, dialect: Dialect) -> Vec<Finding> {
    lint(&LintRequest { migrations: sources, dialect, ..Default::default() }).unwrap().findings
}

fn with_id(findings: &[Finding], id: FindingId) -> Vec<&Finding> {
    findings.iter().filter(|f| f.rule == id).collect()
}

/// Lint the dialect's corpus: no syntax errors, and one `info` per statement the rules'
/// parser could not read. Returns the findings.
fn corpus_lints_clean(name: &str, dialect: Dialect) -> Vec<Finding> {
    let sources = corpus(name);
    let script = parse_script(&sources, dialect);
    let sql: Vec<_> = script.statements.iter().filter(|s| s.grammar != Grammar::PsqlMetaCommand).collect();
    assert!(sql.len() >= 300, "{name}: the corpus holds only {} SQL statements", sql.len());
    let unread = sql.iter().filter(|s| s.ast.is_err()).count();

    let findings = lint_sources(sources, dialect);
    let syntax = with_id(&findings, FindingId::SyntaxError);
    assert!(syntax.is_empty(), "{name}: valid SQL reported as syntax errors:\n{syntax:#?}");
    let unanalyzed = with_id(&findings, FindingId::UnanalyzedStatement);
    assert_eq!(unanalyzed.len(), unread, "{name}: one unanalyzed-statement per statement the rules' parser cannot read");
    assert!(unanalyzed.iter().all(|f| f.severity == Severity::Info && f.line.is_some()), "{name}: {unanalyzed:#?}");
    eprintln!("{name}: {} SQL statements, {unread} read by the grammar only, {} findings", sql.len(), findings.len());
    findings
}

#[test]
fn postgres_corpus_has_no_false_syntax_errors() {
    let findings = corpus_lints_clean("postgres", Dialect::Postgres);
    // \set, \connect, \c and \i, and the two COPY ... FROM stdin data blocks: findings, not crashes.
    let psql = with_id(&findings, FindingId::PsqlMetaCommand);
    assert_eq!(psql.len(), 6, "{psql:#?}");
    assert!(psql.iter().any(|f| f.message.contains("\\connect postgres")), "{psql:#?}");
    assert_eq!(psql.iter().filter(|f| f.message.contains("COPY data")).count(), 2, "{psql:#?}");
}

#[test]
fn sqlite_corpus_has_no_false_syntax_errors() {
    corpus_lints_clean("sqlite", Dialect::Sqlite);
}

#[test]
fn mysql_corpus_has_no_false_syntax_errors() {
    let findings = corpus_lints_clean("mysql", Dialect::Mysql);
    assert!(with_id(&findings, FindingId::PsqlMetaCommand).is_empty());
}

#[test]
fn mysql_delimiter_blocks_become_whole_routines() {
    let script = parse_script(&corpus("mysql"), Dialect::Mysql);
    let routine = script
        .statements
        .iter()
        .find(|s| s.sql.starts_with("CREATE PROCEDURE archive_orders"))
        .expect("the procedure under DELIMITER // is one statement");
    assert!(routine.sql.trim_end().ends_with("END"), "{}", routine.sql);
    assert!(routine.sql.contains("RESIGNAL;"), "the body keeps its own semicolons");
    assert!(
        !script.statements.iter().any(|s| s.sql.to_ascii_uppercase().starts_with("DELIMITER")),
        "DELIMITER is the client's, not a statement"
    );
}

/// What each database refuses is still a `critical` syntax error, at the line of the mistake.
#[test]
fn the_grammars_still_refuse_invalid_sql() {
    let cases = [
        (Dialect::Postgres, "CREATE TABLE a (id int);\nCREATE TABEL b (id int);\n", 2),
        (Dialect::Postgres, "SELECT 1;\n\nALTER TABLE a ADD COLUMN;\n", 3),
        (Dialect::Postgres, "DO $$ BEGIN PERFORM 1; END $$;\nCREATE INDEX ON;\n", 2),
        (Dialect::Sqlite, "CREATE TABLE a (id int);\nCREATE TABLE b (id int,,);\n", 2),
        (Dialect::Sqlite, "SELECT 1;\nUPDATE a SET id = 1 ORDER BY id LIMIT 1;\n", 2),
    ];
    for (dialect, sql, line) in cases {
        let findings = lint_sources(vec![MigrationSource::named("m.sql", sql)], dialect);
        let syntax = with_id(&findings, FindingId::SyntaxError);
        assert_eq!(syntax.len(), 1, "{dialect} {sql:?}: {findings:#?}");
        assert_eq!(syntax[0].severity, Severity::Critical);
        assert_eq!(syntax[0].line, Some(line), "{dialect} {sql:?}: {:?}", syntax[0]);
        assert!(syntax[0].message.contains(&format!("{dialect} refuses")), "{}", syntax[0].message);
    }
}

/// MySQL has no embeddable grammar: a statement the rules' parser cannot read is `info`
/// (the server decides in the sandbox), never a `syntax-error` from lint alone.
#[test]
fn mysql_lint_leaves_syntax_to_the_server() {
    let findings =
        lint_sources(vec![MigrationSource::named("m.sql", "ALTER TABLE t ENGINE = InnoDB;\nCREATE TABEL x (id int);\n")], Dialect::Mysql);
    assert!(with_id(&findings, FindingId::SyntaxError).is_empty(), "{findings:#?}");
    assert_eq!(with_id(&findings, FindingId::UnanalyzedStatement).len(), 2, "{findings:#?}");
}
