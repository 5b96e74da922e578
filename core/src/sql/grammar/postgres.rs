//! PostgreSQL's own grammar (libpg_query): splitting a script into statements exactly where
//! PostgreSQL would (dollar quotes, `BEGIN ATOMIC ... END` bodies, nested comments,
//! `E'...'` escapes), and telling a valid statement from an invalid one, with the server's
//! message and position.

use std::ffi::{c_char, c_int, CStr, CString};

use super::{position, significant_start, Grammar};
use crate::sql::ParseFailure;

/// A statement's byte range in the script.
pub type Span = std::ops::Range<usize>;

/// The statements of a script, as PostgreSQL's parser splits it; its scanner when the script
/// does not parse as a whole (a statement with a syntax error), so every other statement is
/// still found.
pub fn split(sql: &str) -> Vec<Span> {
    let pieces = pg_query::split_with_parser(sql).or_else(|_| pg_query::split_with_scanner(sql)).unwrap_or_default();
    let base = sql.as_ptr() as usize;
    pieces
        .into_iter()
        .filter_map(|piece| {
            let start = piece.as_ptr() as usize - base;
            let end = start + piece.len();
            let lead = significant_start(piece);
            (lead < piece.len()).then_some(start + lead..end)
        })
        .map(|span| {
            // The scanner's pieces keep their semicolon; the parser's do not.
            let text = sql[span.clone()].trim_end();
            let text = text.strip_suffix(';').unwrap_or(text).trim_end();
            span.start..span.start + text.len()
        })
        .collect()
}

/// Parse one statement with PostgreSQL's parser.
pub fn check(statement: &str) -> Grammar {
    parse(statement).0
}

/// PostgreSQL's parse tree of one statement, the raw tree before analysis: `serial` is still
/// `serial`, names are as written. The PostgreSQL-only rules read it.
pub type Tree = pg_query::NodeEnum;

/// Parse one statement: the grammar's verdict and, when it parses, its tree.
pub fn parse(statement: &str) -> (Grammar, Option<Box<Tree>>) {
    match pg_query::parse(statement, pg_query::ParserOptions::default()) {
        Ok(result) => {
            let tree = result.protobuf.stmts.into_iter().next().and_then(|s| s.stmt).and_then(|n| n.node).map(Box::new);
            (Grammar::Accepted, tree)
        }
        Err(e) => (parse_failure(statement, e), None),
    }
}

fn parse_failure(statement: &str, error: pg_query::Error) -> Grammar {
    match error {
        pg_query::Error::Parse(message) => {
            let offset = cursor(statement).unwrap_or(0);
            let (line, column) = position(statement, offset);
            Grammar::Rejected(ParseFailure { message, line, column })
        }
        // NUL bytes and the like: not SQL PostgreSQL would take either.
        other => Grammar::Rejected(ParseFailure { message: other.to_string(), line: 1, column: 1 }),
    }
}

#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQueryParseResult {
    parse_tree: *mut c_char,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

// libpg_query's C API, linked by the pg_query crate, whose Rust API drops the error position.
unsafe extern "C" {
    fn pg_query_parse(input: *const c_char) -> PgQueryParseResult;
    fn pg_query_free_parse_result(result: PgQueryParseResult);
}

/// The byte offset PostgreSQL points at in a statement it refuses.
fn cursor(statement: &str) -> Option<usize> {
    let input = CString::new(statement).ok()?;
    // SAFETY: a NUL-terminated input; the result is freed once, after its fields were read.
    let chars = unsafe {
        let result = pg_query_parse(input.as_ptr());
        let pos = if result.error.is_null() {
            None
        } else {
            let error = &*result.error;
            let _ = CStr::from_ptr(error.message);
            usize::try_from(error.cursorpos).ok().filter(|p| *p > 0)
        };
        pg_query_free_parse_result(result);
        pos
    }?;
    // `cursorpos` counts characters from 1.
    Some(statement.char_indices().nth(chars - 1).map(|(i, _)| i).unwrap_or(statement.len()))
}

/// pg_query's fingerprint of a query: the same for queries that differ only in constants.
pub fn fingerprint(sql: &str) -> Option<String> {
    pg_query::fingerprint(sql, pg_query::ParserOptions::default(), pg_query::FingerprintOptions::default()).ok().map(|f| f.hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).into_iter().map(|s| &sql[s]).collect()
    }

    #[test]
    fn splits_where_postgres_does() {
        let sql = "-- header\nCREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n\
                   DO $body$ BEGIN PERFORM 1; END $body$;\nSELECT E'a\\';b';\n/* a /* nested */ comment */ SELECT 3";
        assert_eq!(
            texts(sql),
            [
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
                "DO $body$ BEGIN PERFORM 1; END $body$",
                "SELECT E'a\\';b'",
                "SELECT 3"
            ]
        );
    }

    #[test]
    fn a_broken_statement_does_not_hide_the_others() {
        let sql = "SELECT 1;\nCREATE TABEL t (a int);\nSELECT 2;";
        assert_eq!(texts(sql), ["SELECT 1", "CREATE TABEL t (a int)", "SELECT 2"]);
    }

    #[test]
    fn the_server_decides_and_points_at_the_error() {
        for valid in [
            "REINDEX INDEX CONCURRENTLY ix",
            "CREATE STATISTICS s (dependencies) ON a, b FROM t",
            "ALTER TABLE t ALTER COLUMN a SET STATISTICS 500",
            "ALTER SEQUENCE s INCREMENT BY 10 RESTART",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql IMMUTABLE COST 5 AS $$ SELECT 1 $$",
        ] {
            assert_eq!(check(valid), Grammar::Accepted, "{valid}");
        }
        let Grammar::Rejected(f) = check("CREATE TABLE t (\n  a int,\n  b int,,\n)") else { panic!("accepted") };
        assert!(f.message.contains("syntax error at or near \",\""), "{f:?}");
        assert_eq!((f.line, f.column), (3, 9));
    }

    #[test]
    fn fingerprints_ignore_constants() {
        assert_eq!(fingerprint("SELECT * FROM t WHERE a = 1"), fingerprint("select * from t where a = 42"));
        assert_ne!(fingerprint("SELECT * FROM t WHERE a = 1"), fingerprint("SELECT * FROM t WHERE b = 1"));
    }
}
