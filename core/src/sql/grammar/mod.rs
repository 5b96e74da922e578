//! Whether a statement is valid is decided by the database's own grammar, not by the coverage
//! of the parser the rules work on: PostgreSQL's parser itself (libpg_query, through the
//! `pg_query` crate — the parser squawk, pganalyze and Dexter use), SQLite itself (the
//! statement is prepared, never run, in an in-memory database). MySQL and MariaDB have no
//! embeddable grammar: their server decides in the sandbox.

pub mod mysql_client;
pub mod postgres;
pub mod psql;
pub mod sqlite;

use super::ParseFailure;

/// What the database's grammar says of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grammar {
    /// The database would parse it.
    Accepted,
    /// The database would refuse it: the message and position are the database's.
    Rejected(ParseFailure),
    /// No grammar of the database at hand (MySQL/MariaDB without a server).
    NotChecked,
    /// A psql meta-command (`\c`, `\set`, ...) or `COPY ... FROM stdin` data: psql's, not SQL.
    PsqlMetaCommand,
}

impl Grammar {
    pub fn rejected(&self) -> Option<&ParseFailure> {
        match self {
            Grammar::Rejected(f) => Some(f),
            _ => None,
        }
    }
}

/// 1-based (line, column in characters) of a byte offset in `text`.
pub(crate) fn position(text: &str, offset: usize) -> (u64, u64) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() as u64 + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..offset].chars().count() as u64 + 1;
    (line, column)
}

/// Positions of increasing offsets in one text, each found from the previous one: a script's
/// statements cost one pass over the text, not one pass each.
pub(crate) struct Positions<'a> {
    text: &'a str,
    offset: usize,
    line: u64,
    line_start: usize,
}

impl<'a> Positions<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Positions { text, offset: 0, line: 1, line_start: 0 }
    }

    /// 1-based (line, column in characters) of a byte offset; offsets may come in any order
    /// (going back restarts from the top).
    pub(crate) fn at(&mut self, offset: usize) -> (u64, u64) {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        if offset < self.offset {
            *self = Positions::new(self.text);
        }
        for (i, b) in self.text.as_bytes()[self.offset..offset].iter().enumerate() {
            if *b == b'\n' {
                self.line += 1;
                self.line_start = self.offset + i + 1;
            }
        }
        self.offset = offset;
        (self.line, self.text[self.line_start..offset].chars().count() as u64 + 1)
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The offset of the first character that is neither white space nor inside a comment.
pub(crate) fn significant_start(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = text[i..].find('\n').map(|n| i + n + 1).unwrap_or(bytes.len());
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest in PostgreSQL; counting them is harmless elsewhere.
                let mut depth = 0usize;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            _ => return i,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_lines() {
        let text = "ab\ncé\nx";
        assert_eq!(position(text, 0), (1, 1));
        assert_eq!(position(text, 3), (2, 1));
        assert_eq!(position(text, text.find('x').unwrap()), (3, 1));
        assert_eq!(position(text, 6), (2, 3), "after the two-byte é");
    }

    #[test]
    fn incremental_positions_match_the_direct_ones() {
        let text = "ab\ncé\nx\n\nyz";
        let mut p = Positions::new(text);
        for offset in [0, 3, 6, 7, 9, 11, 2, 12, 0] {
            assert_eq!(p.at(offset), position(text, offset), "offset {offset}");
        }
    }

    #[test]
    fn comments_and_blanks_are_skipped() {
        let text = "  -- a\n/* b /* nested */ c */\n  SELECT 1";
        assert_eq!(&text[significant_start(text)..], "SELECT 1");
        assert_eq!(significant_start("-- only a comment"), "-- only a comment".len());
    }
}
