//! psql's own syntax inside `.sql` files: meta-commands (`\c db`, `\set ON_ERROR_STOP on`,
//! `\i other.sql`) end at the end of their line, not at a semicolon, and `COPY ... FROM stdin;`
//! is followed by data lines up to `\.`. Neither is SQL: they are cut out (replaced by blanks,
//! so every offset stays where it was) before the SQL is split, and reported on their own.

/// A piece of psql syntax: where it starts (byte offset) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsqlPiece {
    pub offset: usize,
    pub text: String,
    pub copy_data: bool,
}

/// The text with psql's pieces blanked out, and the pieces.
pub fn cut(text: &str) -> (String, Vec<PsqlPiece>) {
    let mut out = String::with_capacity(text.len());
    let mut pieces = Vec::new();
    let mut copy_data: Option<PsqlPiece> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        if let Some(data) = copy_data.as_mut() {
            blank(line, &mut out);
            if trimmed == "\\." {
                pieces.push(copy_data.take().unwrap());
            } else {
                data.text.push_str(line);
            }
        } else if trimmed.starts_with('\\') && !inside_open_quote(&out) {
            blank(line, &mut out);
            pieces.push(PsqlPiece { offset: offset + (body.len() - trimmed.len()), text: trimmed.to_string(), copy_data: false });
        } else {
            out.push_str(line);
            if copy_from_stdin(trimmed) {
                copy_data = Some(PsqlPiece { offset: offset + line.len(), text: String::new(), copy_data: true });
            }
        }
        offset += line.len();
    }
    if let Some(unterminated) = copy_data {
        pieces.push(unterminated);
    }
    (out, pieces)
}

fn blank(line: &str, out: &mut String) {
    out.extend(line.chars().map(|c| if c == '\n' || c == '\r' { c } else { ' ' }));
}

/// `COPY t (a, b) FROM stdin;` on one line, as pg_dump writes it, with or without options
/// (`FROM stdin WITH (FORMAT csv, HEADER true);`, `FROM STDIN CSV HEADER;`).
fn copy_from_stdin(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| c.is_whitespace() || c == ';' || c == '(').filter(|w| !w.is_empty()).collect();
    lower.starts_with("copy ") && lower.trim_end().ends_with(';') && words.windows(2).any(|w| w == ["from", "stdin"])
}

/// Is the text so far inside a single-quoted string or a dollar-quoted body? A backslash line
/// there is data, not a meta-command. (Counts quotes; good enough for the line starts it is
/// asked about.)
fn inside_open_quote(text: &str) -> bool {
    let mut in_single = false;
    let mut dollar: Option<String> = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match (&dollar, bytes[i]) {
            (Some(tag), b'$') if text[i..].starts_with(tag.as_str()) => {
                i += tag.len();
                dollar = None;
                continue;
            }
            (Some(_), _) => {}
            (None, b'\'') => in_single = !in_single,
            (None, b'$') if !in_single => {
                if let Some(end) = text[i + 1..].find('$') {
                    let tag = &text[i..i + end + 2];
                    if tag[1..tag.len() - 1].chars().all(|c| c.is_alphanumeric() || c == '_') {
                        dollar = Some(tag.to_string());
                        i += tag.len();
                        continue;
                    }
                }
            }
            (None, b'-') if !in_single && bytes.get(i + 1) == Some(&b'-') => {
                i = text[i..].find('\n').map(|n| i + n).unwrap_or(bytes.len());
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    in_single || dollar.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_commands_and_copy_data_are_cut_out_in_place() {
        let text = "\\connect app\nCREATE TABLE t (a int);\nCOPY t (a) FROM stdin;\n1\n2\n\\.\n\\set x 1\nSELECT 1;\n";
        let (sql, pieces) = cut(text);
        assert_eq!(sql.len(), text.len());
        assert_eq!(sql.find("CREATE"), text.find("CREATE"));
        assert!(!sql.contains('\\') && !sql.contains("\n1\n"), "{sql}");
        let texts: Vec<&str> = pieces.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["\\connect app", "1\n2\n", "\\set x 1"]);
        assert!(pieces[1].copy_data && !pieces[0].copy_data);
        assert_eq!(pieces[2].offset, text.find("\\set").unwrap());
    }

    #[test]
    fn copy_from_stdin_with_options_has_data() {
        for copy in
            ["COPY t (a) FROM stdin WITH (FORMAT csv, HEADER true);", "copy t from STDIN csv header;", "COPY t FROM stdin(FORMAT csv);"]
        {
            let text = format!("{copy}\na\n1\n\\.\nSELECT 1;\n");
            let (sql, pieces) = cut(&text);
            assert_eq!(pieces.len(), 1, "{copy}: {pieces:?}");
            assert!(pieces[0].copy_data);
            assert!(!sql.contains("\n1\n"), "{copy}: data left in {sql:?}");
        }
        let (_, pieces) = cut("COPY t TO stdout;\nSELECT 1;\n");
        assert!(pieces.is_empty(), "COPY ... TO has no data lines");
    }

    #[test]
    fn backslashes_inside_strings_and_bodies_stay() {
        let text = "SELECT 'a\n\\b';\nCREATE FUNCTION f() RETURNS text AS $$\n\\x\n$$ LANGUAGE sql;\n";
        let (sql, pieces) = cut(text);
        assert_eq!(sql, text);
        assert!(pieces.is_empty());
    }
}
