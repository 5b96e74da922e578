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
            trimmed(sql, start..start + piece.len())
        })
        .collect()
}

/// A piece of the script without its leading comments and trailing semicolon; none when
/// nothing is left. (The scanner's pieces keep their semicolon; the parser's do not.)
fn trimmed(sql: &str, span: Span) -> Option<Span> {
    let start = span.start + significant_start(&sql[span.clone()]);
    let text = sql[start..span.end].trim_end();
    let text = text.strip_suffix(';').unwrap_or(text).trim_end();
    (!text.is_empty()).then_some(start..start + text.len())
}

/// PostgreSQL's parse tree of one statement, the raw tree before analysis: `serial` is still
/// `serial`, names are as written. The PostgreSQL-only rules read it.
pub type Tree = pg_query::NodeEnum;

/// A statement's tree as libpg_query encodes it (protobuf), decoded when a rule reads it and
/// dropped after. Decoded, a tree is several times its encoding, and a script's trees all
/// held at once (50 MB for a 400-file directory) cost more in fresh memory than the parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedTree(Box<[u8]>);

impl EncodedTree {
    /// The whole tree.
    pub fn decode(&self) -> Option<Tree> {
        use prost::Message;
        pg_query::protobuf::Node::decode(&*self.0).ok()?.node
    }

    /// The tree when the statement is of one of `kinds`, told from its first bytes without
    /// decoding the rest.
    pub fn decode_if(&self, kinds: &[Kind]) -> Option<Tree> {
        let kind = self.kind()?;
        kinds.contains(&kind).then(|| self.decode()).flatten()
    }

    /// The kind of node: the number of the `Node` field that is set, its first key's.
    fn kind(&self) -> Option<Kind> {
        let key = prost::encoding::decode_varint(&mut &self.0[..]).ok()?;
        u32::try_from(key >> 3).ok().map(Kind)
    }
}

/// A kind of statement (`TransactionStmt`, `IndexStmt`, ...), to decode only the trees a
/// whole-script question is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(u32);

impl Kind {
    /// The kind of `node` (an empty one will do): the numbers come from pg_query's own
    /// schema, never written down here.
    pub fn of(node: Tree) -> Kind {
        use prost::Message;
        let encoded = EncodedTree(pg_query::protobuf::Node { node: Some(node) }.encode_to_vec().into_boxed_slice());
        // An empty node still encodes its field's key (a zero-length message).
        encoded.kind().unwrap_or(Kind(0))
    }
}

/// One statement of a script as PostgreSQL reads it.
pub struct Statement {
    pub span: Span,
    pub grammar: Grammar,
    pub tree: Option<EncodedTree>,
}

/// libpg_query's parse result with each statement's tree left encoded (a `Node` and `bytes`
/// share protobuf's wire type): field numbers as in its `pg_query.proto`.
#[derive(Clone, PartialEq, prost::Message)]
struct EncodedParseResult {
    #[prost(message, repeated, tag = "2")]
    stmts: Vec<EncodedRawStmt>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct EncodedRawStmt {
    #[prost(bytes = "vec", tag = "1")]
    stmt: Vec<u8>,
    #[prost(int32, tag = "2")]
    stmt_location: i32,
    #[prost(int32, tag = "3")]
    stmt_len: i32,
}

/// Every statement of a script with PostgreSQL's verdict and tree. A valid script (the usual
/// case) costs one parse; one with an error is split by the scanner and each statement parsed
/// on its own, so the bad one is found and the others are still read.
pub fn statements(sql: &str) -> Vec<Statement> {
    if let Ok(parsed) = parse_tree(sql) {
        return parsed
            .stmts
            .into_iter()
            .filter_map(|raw| {
                let start = usize::try_from(raw.stmt_location).ok()?;
                // A length of 0 means "to the end of the input".
                let end = if raw.stmt_len == 0 { sql.len() } else { start + usize::try_from(raw.stmt_len).ok()? };
                let span = trimmed(sql, start..end.min(sql.len()))?;
                let tree = (!raw.stmt.is_empty()).then(|| EncodedTree(raw.stmt.into_boxed_slice()));
                Some(Statement { span, grammar: Grammar::Accepted, tree })
            })
            .collect();
    }
    split(sql)
        .into_iter()
        .map(|span| {
            let (grammar, tree) = parse(&sql[span.clone()]);
            Statement { span, grammar, tree }
        })
        .collect()
}

/// Parse one statement with PostgreSQL's parser.
pub fn check(statement: &str) -> Grammar {
    parse(statement).0
}

/// Parse one statement: the grammar's verdict and, when it parses, its tree.
pub fn parse(statement: &str) -> (Grammar, Option<EncodedTree>) {
    match parse_tree(statement) {
        Ok(parsed) => {
            let tree = parsed.stmts.into_iter().next().map(|s| s.stmt).filter(|s| !s.is_empty());
            (Grammar::Accepted, tree.map(|t| EncodedTree(t.into_boxed_slice())))
        }
        Err(Refusal { message, cursor }) => {
            let (line, column) = position(statement, cursor.unwrap_or(0));
            (Grammar::Rejected(ParseFailure { message, line, column }), None)
        }
    }
}

/// PostgreSQL's refusal: its message and the byte offset it points at.
struct Refusal {
    message: String,
    cursor: Option<usize>,
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
struct PgQueryProtobuf {
    len: usize,
    data: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobufParseResult {
    parse_tree: PgQueryProtobuf,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

// libpg_query's C API, linked by the pg_query crate. Its Rust `parse` drops the error's
// position and walks every tree to list tables and functions, which linting does not need.
unsafe extern "C" {
    fn pg_query_parse_protobuf(input: *const c_char) -> PgQueryProtobufParseResult;
    fn pg_query_free_protobuf_parse_result(result: PgQueryProtobufParseResult);
}

/// PostgreSQL's raw parse tree of a script, each statement's left encoded.
fn parse_tree(sql: &str) -> Result<EncodedParseResult, Refusal> {
    use prost::Message;
    let Ok(input) = CString::new(sql) else {
        // NUL bytes: not SQL PostgreSQL would take either.
        return Err(Refusal { message: "the text holds a NUL byte".into(), cursor: sql.find('\0') });
    };
    // SAFETY: a NUL-terminated input; the result is read before it is freed, once.
    unsafe {
        let result = pg_query_parse_protobuf(input.as_ptr());
        let outcome = if result.error.is_null() {
            let data = std::slice::from_raw_parts(result.parse_tree.data as *const u8, result.parse_tree.len);
            EncodedParseResult::decode(data)
                .map_err(|e| Refusal { message: format!("cannot read PostgreSQL's parse tree: {e}"), cursor: None })
        } else {
            let error = &*result.error;
            let message = CStr::from_ptr(error.message).to_string_lossy().into_owned();
            // `cursorpos` counts characters from 1.
            let cursor = usize::try_from(error.cursorpos)
                .ok()
                .filter(|p| *p > 0)
                .map(|chars| sql.char_indices().nth(chars - 1).map(|(i, _)| i).unwrap_or(sql.len()));
            Err(Refusal { message, cursor })
        };
        pg_query_free_protobuf_parse_result(result);
        outcome
    }
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
    fn an_encoded_tree_decodes_to_pg_query_own_tree_and_tells_its_kind_unread() {
        let sql = "BEGIN; CREATE INDEX i ON t (a); ALTER TABLE t ADD COLUMN b int; COMMIT";
        let found = statements(sql);
        let expected = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).unwrap().protobuf.stmts;
        assert_eq!(found.len(), 4);
        for (stmt, raw) in found.iter().zip(expected) {
            assert_eq!(stmt.tree.as_ref().unwrap().decode(), raw.stmt.and_then(|n| n.node), "{}", &sql[stmt.span.clone()]);
        }
        let transaction = [Kind::of(Tree::TransactionStmt(Default::default()))];
        let picked: Vec<bool> = found.iter().map(|s| s.tree.as_ref().unwrap().decode_if(&transaction).is_some()).collect();
        assert_eq!(picked, [true, false, false, true]);
        let index = Kind::of(Tree::IndexStmt(Default::default()));
        assert_ne!(index, transaction[0]);
        assert!(matches!(found[1].tree.as_ref().unwrap().decode_if(&[index]), Some(Tree::IndexStmt(_))));
        // One statement parsed on its own (a script with an error elsewhere) is encoded alike.
        let broken = statements("SELECT 1;\nCREATE TABEL t (a int);\nCREATE INDEX i ON t (a);");
        assert!(matches!(broken[2].tree.as_ref().unwrap().decode_if(&[index]), Some(Tree::IndexStmt(_))));
        assert!(broken[1].tree.is_none());
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
}
