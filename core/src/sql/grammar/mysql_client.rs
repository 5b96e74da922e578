//! The mysql client's `DELIMITER` directive inside `.sql` files. Stored routines and triggers
//! have `;` inside their bodies, so MySQL migrations (Flyway, Liquibase, mysqldump output)
//! switch the statement terminator around them:
//!
//! ```sql
//! DELIMITER //
//! CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END //
//! DELIMITER ;
//! ```
//!
//! The directive is the client's, not SQL. The text is cut into regions: the parts under the
//! ordinary `;` (split by the SQL tokenizer as usual) and the parts under another terminator
//! (split at that terminator, outside quotes and comments).

/// A region of the text and the terminator in force there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub start: usize,
    pub end: usize,
    /// `None`: the ordinary `;`.
    pub delimiter: Option<String>,
}

/// The regions of `text`, in order; the `DELIMITER` lines themselves belong to none.
pub fn regions(text: &str) -> Vec<Region> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(next) = directive(line) {
            if offset > start {
                out.push(Region { start, end: offset, delimiter: current.clone() });
            }
            current = (next != ";").then_some(next);
            start = offset + line.len();
        }
        offset += line.len();
    }
    if text.len() > start {
        out.push(Region { start, end: text.len(), delimiter: current });
    }
    out
}

/// `DELIMITER //` → `//`. The directive must start its line (as the mysql client requires).
fn directive(line: &str) -> Option<String> {
    let trimmed = line.trim();
    let (word, rest) = trimmed.split_once(char::is_whitespace)?;
    if !word.eq_ignore_ascii_case("delimiter") {
        return None;
    }
    let delimiter = rest.trim();
    (!delimiter.is_empty()).then(|| delimiter.to_string())
}

/// Byte ranges of the statements in `text[region]` ended by `delimiter` (the delimiter not
/// included), skipping quoted strings, quoted names and comments.
pub fn split(text: &str, region: &Region, delimiter: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut piece_start = region.start;
    let mut i = region.start;
    while i < region.end {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < region.end && bytes[i] != quote {
                    i += if bytes[i] == b'\\' && quote != b'`' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = line_end(text, i, region.end),
            b'#' => i = line_end(text, i, region.end),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..region.end].find("*/").map(|n| i + 2 + n + 2).unwrap_or(region.end);
            }
            _ if text[i..region.end].starts_with(delimiter) => {
                out.push(piece_start..i);
                i += delimiter.len();
                piece_start = i;
            }
            _ => i += 1,
        }
    }
    out.push(piece_start..region.end.min(text.len()));
    out.into_iter().filter(|r| !text[r.clone()].trim().is_empty()).collect()
}

fn line_end(text: &str, from: usize, limit: usize) -> usize {
    text[from..limit].find('\n').map(|n| from + n + 1).unwrap_or(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_blocks_are_their_own_regions() {
        let text = "CREATE TABLE t (a int);\nDELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT ';'; SELECT 2; END //\nCREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END//\ndelimiter ;\nDROP TABLE t;\n";
        let r = regions(text);
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!(r[0].delimiter, None);
        assert_eq!(r[1].delimiter.as_deref(), Some("//"));
        assert_eq!(r[2].delimiter, None);
        assert_eq!(&text[r[2].start..r[2].end], "DROP TABLE t;\n");
        let pieces: Vec<&str> = split(text, &r[1], "//").into_iter().map(|p| text[p].trim()).collect();
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert!(pieces[0].starts_with("CREATE PROCEDURE") && pieces[0].ends_with("END"), "{pieces:?}");
        assert!(pieces[1].starts_with("CREATE TRIGGER"));
    }

    #[test]
    fn delimiters_inside_quotes_and_comments_do_not_split() {
        let text = "SELECT '$$' $$ -- $$ here\nSELECT `a$$b` /* $$ */ $$";
        let region = Region { start: 0, end: text.len(), delimiter: Some("$$".into()) };
        let pieces: Vec<&str> = split(text, &region, "$$").into_iter().map(|p| text[p].trim()).collect();
        assert_eq!(pieces, vec!["SELECT '$$'", "-- $$ here\nSELECT `a$$b` /* $$ */"]);
    }

    #[test]
    fn a_file_without_directives_is_one_region() {
        assert_eq!(regions("SELECT 1;\n"), vec![Region { start: 0, end: 10, delimiter: None }]);
    }
}
