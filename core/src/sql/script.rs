//! Migration scripts: tokenized once, split into statements at top-level semicolons, each
//! statement parsed on its own so one bad statement is a finding, not a failed run.

use serde::{Deserialize, Serialize};
use sqlparser::ast::Statement;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use super::grammar::{self, Grammar};
use crate::dialect::Dialect;

/// One migration input: a file's name (or `<inline>`) and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationSource {
    /// How reports name the migration (its file name).
    pub name: String,
    /// Its SQL text.
    pub sql: String,
    /// Whether the migration tool runs it inside a transaction (`true`), is told not to
    /// (`false`), or leaves it to the script (absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactional: Option<bool>,
}

impl MigrationSource {
    pub fn inline(sql: impl Into<String>) -> Self {
        MigrationSource::named("<inline>", sql)
    }

    pub fn named(name: impl Into<String>, sql: impl Into<String>) -> Self {
        MigrationSource { name: name.into(), sql: sql.into(), transactional: None }
    }

    /// Read migration files in the given order; a directory contributes its `*.sql` files in
    /// name order. Missing, unreadable or non-UTF-8 files are invalid input.
    pub fn read_paths<P: AsRef<std::path::Path>>(paths: &[P]) -> crate::Result<Vec<MigrationSource>> {
        use crate::error::Error;
        let mut files = Vec::new();
        for path in paths {
            let path = path.as_ref();
            if path.is_dir() {
                let mut sql: Vec<std::path::PathBuf> = std::fs::read_dir(path)
                    .map_err(|e| Error::invalid(format!("cannot read directory {}: {e}", path.display())))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("sql")))
                    .collect();
                sql.sort();
                if sql.is_empty() {
                    return Err(Error::invalid(format!("directory {} holds no .sql file", path.display())));
                }
                files.extend(sql);
            } else {
                files.push(path.to_path_buf());
            }
        }
        files
            .iter()
            .map(|path| {
                let bytes = std::fs::read(path).map_err(|e| Error::invalid(format!("cannot read migration {}: {e}", path.display())))?;
                let sql = String::from_utf8(bytes).map_err(|e| {
                    Error::invalid(format!("migration {} is not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to()))
                })?;
                Ok(MigrationSource::named(path.display().to_string(), sql))
            })
            .collect()
    }
}

/// Why a statement could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    pub message: String,
    pub line: u64,
    pub column: u64,
}

#[derive(Debug, Clone)]
pub struct ParsedStatement {
    /// Whether the migration tool runs this statement's file inside a transaction.
    pub transactional: Option<bool>,
    /// 1-based position of the statement across all inputs.
    pub index: usize,
    /// Input name (`<inline>` when given as text).
    pub file: String,
    pub line: u64,
    pub column: u64,
    /// The statement's own text, without the terminating semicolon.
    pub sql: String,
    /// The rules' parse tree, or why the rules' parser could not read the statement. Boxed:
    /// a `Statement` is kilobytes wide, and statements are moved about while a script is
    /// split and put back in order.
    pub ast: Result<Box<Statement>, ParseFailure>,
    /// What the database's own grammar says of the statement.
    pub grammar: Grammar,
    /// PostgreSQL's own parse tree, encoded (PostgreSQL scripts, statements PostgreSQL
    /// accepts): decode it where it is read.
    pub pg_tree: Option<grammar::postgres::EncodedTree>,
}

impl ParsedStatement {
    pub fn statement(&self) -> Option<&Statement> {
        self.ast.as_deref().ok()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Script {
    pub statements: Vec<ParsedStatement>,
}

/// A long script's trees are freed on every core: they are many small allocations, and
/// freeing them one by one took a tenth of linting a 5,000-statement directory.
impl Drop for Script {
    fn drop(&mut self) {
        use rayon::prelude::*;
        if self.statements.len() > 512 {
            let statements = std::mem::take(&mut self.statements);
            crate::parallel::install(|| statements.into_par_iter().for_each(drop));
        }
    }
}

impl Script {
    pub fn parsed(&self) -> impl Iterator<Item = (&ParsedStatement, &Statement)> {
        self.statements.iter().filter_map(|s| s.statement().map(|ast| (s, ast)))
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }
}

/// Parse every input in order; statement indexes run on across inputs. PostgreSQL scripts are
/// split by PostgreSQL's own parser; every statement is checked against the database's own
/// grammar where one is at hand (PostgreSQL, SQLite).
pub fn parse_script(sources: &[MigrationSource], dialect: Dialect) -> Script {
    use rayon::prelude::*;
    // Files are independent to split and parse: every core takes some.
    let per_source: Vec<Vec<ParsedStatement>> = crate::parallel::install(|| {
        sources
            .par_iter()
            .map(|source| {
                let parser_dialect = dialect.parser_dialect();
                let mut out = Vec::new();
                match dialect {
                    Dialect::Postgres => split_postgres(source, dialect, &mut out),
                    Dialect::Mysql => split_mysql(source, &*parser_dialect, &mut out),
                    _ => split_and_parse(source, &*parser_dialect, &mut out),
                }
                out
            })
            .collect()
    });
    let mut statements: Vec<ParsedStatement> = per_source.into_iter().flatten().collect();
    for (i, stmt) in statements.iter_mut().enumerate() {
        stmt.index = i + 1;
    }
    // SQLite's verdict depends on the schema the statements before built: in order.
    if dialect == Dialect::Sqlite {
        if let Some(sqlite) = grammar::sqlite::SqliteGrammar::open() {
            for stmt in &mut statements {
                stmt.grammar = relative_to_script(sqlite.check(&stmt.sql), stmt.line, stmt.column);
            }
        }
    }
    Script { statements }
}

/// A PostgreSQL script: psql's meta-commands and COPY data cut out, the SQL split by
/// PostgreSQL's parser, each statement read by the rules' parser and by PostgreSQL's.
fn split_postgres(source: &MigrationSource, dialect: Dialect, out: &mut Vec<ParsedStatement>) {
    use rayon::prelude::*;
    let (sql, psql) = grammar::psql::cut(&source.sql);
    let mut pieces: Vec<(usize, ParsedStatement)> = Vec::new();
    let mut positions = grammar::Positions::new(&sql);
    let found: Vec<(grammar::postgres::Statement, (u64, u64))> = grammar::postgres::statements(&sql)
        .into_iter()
        .map(|s| {
            let at = positions.at(s.span.start);
            (s, at)
        })
        .collect();
    // The rules' parser reads each statement on its own: a long file uses every core too.
    let read: Vec<(usize, ParsedStatement)> = found
        .into_par_iter()
        .map(|(found, (line, column))| {
            let text = &sql[found.span.clone()];
            let ast = parse_text(&*dialect.parser_dialect(), text).map_err(|f| shift(f, line, column));
            let grammar = relative_to_script(found.grammar, line, column);
            let mut parsed = statement(source, line, column, text.to_string(), ast, grammar);
            parsed.pg_tree = found.tree;
            (found.span.start, parsed)
        })
        .collect();
    pieces.extend(read);
    let mut positions = grammar::Positions::new(&source.sql);
    for piece in psql {
        let (line, column) = positions.at(piece.offset);
        let what = if piece.copy_data { "COPY data (psql)".to_string() } else { format!("psql meta-command {}", piece.text) };
        let failure = ParseFailure { message: format!("{what} is not SQL"), line, column };
        pieces.push((piece.offset, statement(source, line, column, piece.text, Err(failure), Grammar::PsqlMetaCommand)));
    }
    pieces.sort_by_key(|(offset, _)| *offset);
    out.extend(pieces.into_iter().map(|(_, stmt)| stmt));
}

/// A MySQL script: the parts under the ordinary `;` split by the tokenizer, the parts under a
/// `DELIMITER` directive split at their terminator.
fn split_mysql(source: &MigrationSource, dialect: &dyn sqlparser::dialect::Dialect, out: &mut Vec<ParsedStatement>) {
    let regions = grammar::mysql_client::regions(&source.sql);
    if regions.iter().all(|r| r.delimiter.is_none()) && regions.len() <= 1 {
        return split_and_parse(source, dialect, out);
    }
    // The ordinary parts keep their offsets: every other byte is blanked (a whole UTF-8
    // sequence becomes as many spaces, so the text stays valid). Regions start at line starts,
    // so columns inside them are unchanged too.
    let mut ordinary = source.sql.as_bytes().to_vec();
    let mut keep = vec![false; ordinary.len()];
    let mut pieces = Vec::new();
    let mut positions = grammar::Positions::new(&source.sql);
    for region in &regions {
        match &region.delimiter {
            None => keep[region.start..region.end].iter_mut().for_each(|k| *k = true),
            Some(delimiter) => {
                for span in grammar::mysql_client::split(&source.sql, region, delimiter) {
                    let start = span.start + grammar::significant_start(&source.sql[span.clone()]);
                    let text = source.sql[start..span.end].trim_end();
                    if text.is_empty() {
                        continue;
                    }
                    let (line, column) = positions.at(start);
                    let ast = parse_text(dialect, text).map_err(|f| shift(f, line, column));
                    pieces.push(statement(source, line, column, text.to_string(), ast, Grammar::NotChecked));
                }
            }
        }
    }
    for (byte, keep) in ordinary.iter_mut().zip(&keep) {
        if !keep && *byte != b'\n' {
            *byte = b' ';
        }
    }
    let ordinary = String::from_utf8(ordinary).expect("whole UTF-8 sequences are blanked");
    split_and_parse(&MigrationSource { sql: ordinary, ..source.clone() }, dialect, &mut pieces);
    pieces.sort_by_key(|s| (s.line, s.column));
    for mut stmt in pieces {
        stmt.index = out.len() + 1;
        out.push(stmt);
    }
}

fn statement(
    source: &MigrationSource,
    line: u64,
    column: u64,
    sql: String,
    ast: Result<Box<Statement>, ParseFailure>,
    grammar: Grammar,
) -> ParsedStatement {
    ParsedStatement {
        transactional: source.transactional,
        index: 0,
        file: source.name.clone(),
        line,
        column,
        sql,
        ast,
        grammar,
        pg_tree: None,
    }
}

/// A grammar's verdict with the refusal's position (inside the statement) made relative to the
/// script.
fn relative_to_script(verdict: Grammar, line: u64, column: u64) -> Grammar {
    match verdict {
        Grammar::Rejected(f) => Grammar::Rejected(shift(f, line, column)),
        other => other,
    }
}

/// A position inside a statement, made relative to its script.
fn shift(f: ParseFailure, line: u64, column: u64) -> ParseFailure {
    let (l, c) = if f.line <= 1 { (line, column + f.column.saturating_sub(1)) } else { (line + f.line - 1, f.column) };
    ParseFailure { line: l, column: c, ..f }
}

/// One statement's text through the rules' parser.
fn parse_text(dialect: &dyn sqlparser::dialect::Dialect, text: &str) -> Result<Box<Statement>, ParseFailure> {
    let tokens = Tokenizer::new(dialect, text).tokenize_with_location().map_err(|e| ParseFailure {
        message: e.message,
        line: e.location.line,
        column: e.location.column,
    })?;
    let significant: Vec<&TokenWithSpan> = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF)).collect();
    let (start, end) = match (significant.first(), significant.last()) {
        (Some(a), Some(b)) => (a.span.start, b.span.end),
        _ => (Location { line: 1, column: 1 }, Location { line: 1, column: 1 }),
    };
    parse_chunk(dialect, tokens, start, end)
}

fn split_and_parse(source: &MigrationSource, dialect: &dyn sqlparser::dialect::Dialect, out: &mut Vec<ParsedStatement>) {
    let lines = LineIndex::new(&source.sql);
    let (tokens, tokenizer_error) = match Tokenizer::new(dialect, &source.sql).tokenize_with_location() {
        Ok(tokens) => (tokens, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    if let Some(err) = tokenizer_error {
        // Nothing after an unterminated quote can be trusted: report the whole input from the
        // first statement we cannot tokenize. Statements before it are still split by a
        // tokenizer pass over the prefix.
        let prefix_end = lines.offset(err.location).unwrap_or(source.sql.len());
        let prefix = MigrationSource { sql: source.sql[..prefix_end].to_string(), ..source.clone() };
        let before = out.len();
        split_and_parse_tokens(&prefix, dialect, tokenize_prefix(dialect, &prefix.sql), &lines, out);
        // The last piece of the prefix is the start of the broken statement: replace it.
        let (start_line, start_col, start_off) = match out.len() > before {
            true => {
                let last = out.pop().unwrap();
                let off = lines.offset(Location { line: last.line, column: last.column }).unwrap_or(0);
                (last.line, last.column, off)
            }
            false => (err.location.line, err.location.column, prefix_end),
        };
        out.push(ParsedStatement {
            transactional: source.transactional,
            index: out.len() + 1,
            file: source.name.clone(),
            line: start_line,
            column: start_col,
            sql: source.sql[start_off..].trim().to_string(),
            ast: Err(ParseFailure { message: err.message, line: err.location.line, column: err.location.column }),
            grammar: Grammar::NotChecked,
            pg_tree: None,
        });
        return;
    }
    split_and_parse_tokens(source, dialect, tokens, &lines, out);
}

fn tokenize_prefix(dialect: &dyn sqlparser::dialect::Dialect, sql: &str) -> Vec<TokenWithSpan> {
    Tokenizer::new(dialect, sql).tokenize_with_location().unwrap_or_default()
}

fn split_and_parse_tokens(
    source: &MigrationSource,
    dialect: &dyn sqlparser::dialect::Dialect,
    tokens: Vec<TokenWithSpan>,
    lines: &LineIndex,
    out: &mut Vec<ParsedStatement>,
) {
    let mut chunk: Vec<TokenWithSpan> = Vec::new();
    let mut block = BlockTracker::default();
    for token in tokens {
        if matches!(token.token, Token::SemiColon) && block.depth == 0 {
            flush(source, dialect, std::mem::take(&mut chunk), lines, out);
            block = BlockTracker::default();
            continue;
        }
        block.observe(&token.token);
        chunk.push(token);
    }
    flush(source, dialect, chunk, lines, out);
}

/// Tracks `BEGIN ... END` bodies of triggers and SQL-standard routines, whose inner
/// semicolons do not end the statement. `END IF`, `END LOOP`, `END WHILE` and `END REPEAT`
/// (MySQL's procedural blocks) close no `BEGIN`.
#[derive(Default)]
struct BlockTracker {
    first_keyword: Option<Keyword>,
    routine: bool,
    depth: usize,
    after_end: bool,
}

impl BlockTracker {
    fn observe(&mut self, token: &Token) {
        let Token::Word(word) = token else { return };
        if word.quote_style.is_some() {
            return;
        }
        if self.first_keyword.is_none() {
            self.first_keyword = Some(word.keyword);
            return;
        }
        let closes_no_begin =
            matches!(word.keyword, Keyword::IF | Keyword::WHILE) || ["LOOP", "REPEAT"].iter().any(|w| word.value.eq_ignore_ascii_case(w));
        if std::mem::take(&mut self.after_end) && closes_no_begin {
            self.depth += 1;
            return;
        }
        match word.keyword {
            Keyword::TRIGGER | Keyword::FUNCTION | Keyword::PROCEDURE if self.first_keyword == Some(Keyword::CREATE) => self.routine = true,
            Keyword::BEGIN if self.routine => self.depth += 1,
            Keyword::CASE if self.depth > 0 => self.depth += 1,
            Keyword::END if self.depth > 0 => {
                self.depth -= 1;
                self.after_end = true;
            }
            _ => {}
        }
    }
}

fn flush(
    source: &MigrationSource,
    dialect: &dyn sqlparser::dialect::Dialect,
    chunk: Vec<TokenWithSpan>,
    lines: &LineIndex,
    out: &mut Vec<ParsedStatement>,
) {
    let significant: Vec<&TokenWithSpan> = chunk.iter().filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF)).collect();
    let (Some(first), Some(last)) = (significant.first(), significant.last()) else {
        return;
    };
    let start = first.span.start;
    let text = match (lines.offset(start), lines.offset(last.span.end)) {
        (Some(a), Some(b)) if a <= b => source.sql[a..b].to_string(),
        _ => String::new(),
    };
    let end = last.span.end;
    let ast = parse_chunk(dialect, chunk, start, end);
    out.push(ParsedStatement {
        transactional: source.transactional,
        index: out.len() + 1,
        file: source.name.clone(),
        line: start.line,
        column: start.column,
        sql: text,
        ast,
        grammar: Grammar::NotChecked,
        pg_tree: None,
    });
}

fn parse_chunk(
    dialect: &dyn sqlparser::dialect::Dialect,
    chunk: Vec<TokenWithSpan>,
    start: Location,
    end: Location,
) -> Result<Box<Statement>, ParseFailure> {
    let mut parser = Parser::new(dialect).with_tokens_with_locations(chunk);
    let failure = |e: ParserError| {
        let message = match e {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => m,
            ParserError::RecursionLimitExceeded => "statement nests too deeply".into(),
        };
        // Errors at the end of input carry no position: point just past the last token.
        let fallback = if message.contains("found: EOF") { (end.line, end.column) } else { (start.line, start.column) };
        let (line, column) = location_in_message(&message).unwrap_or(fallback);
        ParseFailure { message: strip_location(&message), line, column }
    };
    let statement = parser.parse_statement().map_err(failure)?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(ParseFailure {
            message: format!("unexpected '{}' after the end of the statement", next.token),
            line: next.span.start.line,
            column: next.span.start.column,
        });
    }
    Ok(Box::new(statement))
}

/// sqlparser reports positions inside the message (`... at Line: 3, Column: 7`).
fn location_in_message(message: &str) -> Option<(u64, u64)> {
    let at = message.rfind("Line: ")?;
    let rest = &message[at + "Line: ".len()..];
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}

fn strip_location(message: &str) -> String {
    match message.rfind(" at Line: ") {
        Some(pos) => message[..pos].to_string(),
        None => message.to_string(),
    }
}

/// Maps sqlparser's (line, column-in-characters) locations to byte offsets.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    fn offset(&self, loc: Location) -> Option<usize> {
        let line_start = *self.starts.get(loc.line.checked_sub(1)? as usize)?;
        let line = &self.text[line_start..];
        let col = loc.column.saturating_sub(1) as usize;
        let within = line.char_indices().nth(col).map(|(i, _)| i).unwrap_or_else(|| line.find('\n').unwrap_or(line.len()).min(line.len()));
        Some(line_start + within)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str, dialect: Dialect) -> Script {
        parse_script(&[MigrationSource::inline(sql)], dialect)
    }

    #[test]
    fn splits_statements_with_positions() {
        let script = parse("CREATE TABLE a (id int);\n\n  DROP TABLE b;\nSELECT 1", Dialect::Postgres);
        let s = &script.statements;
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].line, s[0].column, s[0].sql.as_str()), (1, 1, "CREATE TABLE a (id int)"));
        assert_eq!((s[1].index, s[1].line, s[1].column, s[1].sql.as_str()), (2, 3, 3, "DROP TABLE b"));
        assert_eq!((s[2].line, s[2].sql.as_str()), (4, "SELECT 1"));
        assert!(s.iter().all(|s| s.ast.is_ok()));
    }

    #[test]
    fn bad_statement_is_isolated_with_its_position() {
        let script = parse("CREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN;\nDROP TABLE a;", Dialect::Postgres);
        let s = &script.statements;
        assert_eq!(s.len(), 3);
        assert!(s[0].ast.is_ok() && s[2].ast.is_ok());
        let failure = s[1].ast.as_ref().unwrap_err();
        assert_eq!(failure.line, 2);
        assert!(failure.column > 1, "column points into the statement: {failure:?}");
    }

    #[test]
    fn trigger_bodies_keep_their_semicolons() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = CASE WHEN 1 THEN 2 END; DELETE FROM b; END;\nSELECT 1;";
        let script = parse(sql, Dialect::Sqlite);
        assert_eq!(script.statements.len(), 2, "{:?}", script.statements);
        assert!(script.statements[0].sql.ends_with("END"));
    }

    #[test]
    fn mysql_routines_split_at_their_delimiter_or_at_their_end() {
        let sql = "CREATE TABLE t (a int);\nDELIMITER $$\nCREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; SELECT 2; END$$\nDELIMITER ;\nCREATE TRIGGER g BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a < 0 THEN SET NEW.a = 0; END IF; END;\nDROP TABLE t;";
        let script = parse(sql, Dialect::Mysql);
        let heads: Vec<(u64, &str)> = script.statements.iter().map(|s| (s.line, s.sql.split_whitespace().nth(1).unwrap_or(""))).collect();
        assert_eq!(heads, vec![(1, "TABLE"), (3, "PROCEDURE"), (5, "TRIGGER"), (6, "TABLE")], "{:#?}", script.statements);
        assert!(script.statements[1].sql.ends_with("END"), "the delimiter is not part of the statement");
        assert_eq!(script.statements.iter().map(|s| s.index).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    }

    #[test]
    fn unterminated_string_reports_where_it_starts() {
        let script = parse("SELECT 1;\nSELECT 'oops;\nSELECT 2;", Dialect::Sqlite);
        let s = &script.statements;
        assert_eq!(s.len(), 2);
        assert!(s[0].ast.is_ok());
        let failure = s[1].ast.as_ref().unwrap_err();
        assert_eq!(failure.line, 2);
        assert!(failure.message.to_lowercase().contains("unterminated"), "{failure:?}");
    }

    #[test]
    fn dollar_quoted_bodies_are_one_statement() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT 2;";
        assert_eq!(parse(sql, Dialect::Postgres).statements.len(), 2);
    }

    #[test]
    fn indexes_run_on_across_files() {
        let script = parse_script(
            &[MigrationSource::named("a.sql", "SELECT 1; SELECT 2;"), MigrationSource::named("b.sql", "SELECT 3;")],
            Dialect::Sqlite,
        );
        let idx: Vec<_> = script.statements.iter().map(|s| (s.index, s.file.as_str())).collect();
        assert_eq!(idx, vec![(1, "a.sql"), (2, "a.sql"), (3, "b.sql")]);
    }
}
