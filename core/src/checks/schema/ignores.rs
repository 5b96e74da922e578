//! Inline ignores. `-- dbconsultant-ignore: rule-a, rule-b -- reason` on a comment line above
//! a statement suppresses those findings for the next statement of the file;
//! `-- dbconsultant-ignore-file: rule-a -- reason` anywhere in a file suppresses them for every
//! statement of the file (`#` starts the comment too, for MySQL). Suppressed findings stay in
//! the report, marked; an ignore that names an unknown id or suppresses nothing is itself an
//! `unused-ignore` finding.

use crate::findings::FindingId;
use crate::model::{Finding, Severity, Suppression};
use crate::sql::{MigrationSource, Script};

const STATEMENT: &str = "dbconsultant-ignore:";
const FILE: &str = "dbconsultant-ignore-file:";

/// One ignore comment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Directive {
    file: String,
    line: u64,
    file_wide: bool,
    ids: Vec<String>,
    reason: Option<String>,
    /// The statement it covers (statement-level ignores).
    statement: Option<usize>,
}

impl Directive {
    fn covers(&self, f: &Finding) -> bool {
        let here = if self.file_wide {
            f.file.as_deref() == Some(self.file.as_str())
        } else {
            f.statement.is_some() && f.statement == self.statement
        };
        here && self.ids.iter().any(|id| id == f.rule.as_str())
    }

    fn suppression(&self) -> Suppression {
        let scope = if self.file_wide { "file" } else { "statement" };
        Suppression { scope: scope.into(), file: self.file.clone(), line: self.line, reason: self.reason.clone() }
    }

    fn finding(&self, message: String) -> Finding {
        Finding {
            rule: FindingId::UnusedIgnore,
            severity: Severity::Low,
            message,
            statement: self.statement,
            line: Some(self.line),
            column: Some(1),
            suggestion: Some("Fix the id (`dbconsultant schema rules` lists them) or remove the comment.".into()),
            file: Some(self.file.clone()),
            sample_records: Vec::new(),
            suppressed: None,
        }
    }
}

/// Ids that can never be ignored: the statement fails in production whatever the comment says.
const UNIGNORABLE: [FindingId; 2] = [FindingId::SyntaxError, FindingId::MigrationFails];

/// Mark the findings the sources' ignore comments cover, and add an `unused-ignore` finding
/// for each id that is unknown, unignorable or matched nothing.
pub fn apply(sources: &[MigrationSource], script: &Script, findings: &mut Vec<Finding>) {
    let directives: Vec<Directive> = sources.iter().flat_map(|s| directives(s, script)).collect();
    let mut unused = Vec::new();
    for d in &directives {
        for id in &d.ids {
            let problem = match id.parse::<FindingId>() {
                Err(_) => Some(format!("`{id}` is not a finding id")),
                Ok(known) if UNIGNORABLE.contains(&known) => {
                    Some(format!("`{id}` cannot be ignored: the statement would fail in production too"))
                }
                Ok(_) => None,
            };
            if let Some(problem) = problem {
                unused.push(d.finding(problem));
                continue;
            }
            let mut matched = false;
            for f in findings.iter_mut().filter(|f| f.suppressed.is_none() && f.rule.as_str() == id && !UNIGNORABLE.contains(&f.rule)) {
                if d.covers(f) {
                    f.suppressed = Some(d.suppression());
                    matched = true;
                }
            }
            if !matched {
                let target = if d.file_wide {
                    "in this file".to_string()
                } else {
                    d.statement.map(|i| format!("on statement {i}")).unwrap_or_else(|| "(no statement follows it)".into())
                };
                unused.push(d.finding(format!("the ignore of `{id}` suppresses nothing: no `{id}` finding {target}")));
            }
        }
    }
    findings.extend(unused);
}

fn directives(source: &MigrationSource, script: &Script) -> Vec<Directive> {
    let mut out = Vec::new();
    for (n, line) in source.sql.lines().enumerate() {
        let line_no = n as u64 + 1;
        let trimmed = line.trim_start();
        let Some(comment) = trimmed.strip_prefix("--").or_else(|| trimmed.strip_prefix('#')) else { continue };
        let comment = comment.trim_start();
        let (file_wide, rest) = match (comment.strip_prefix(FILE), comment.strip_prefix(STATEMENT)) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            _ => continue,
        };
        let (list, reason) = match rest.split_once("--") {
            Some((list, reason)) => (list, Some(reason.trim().to_string()).filter(|r| !r.is_empty())),
            None => (rest, None),
        };
        let ids: Vec<String> = list.split(',').map(|id| id.trim().to_string()).filter(|id| !id.is_empty()).collect();
        let statement =
            (!file_wide).then(|| script.statements.iter().find(|s| s.file == source.name && s.line > line_no).map(|s| s.index)).flatten();
        out.push(Directive { file: source.name.clone(), line: line_no, file_wide, ids, reason, statement });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;
    use crate::sql::parse_script;

    fn finding(rule: FindingId, statement: usize, file: &str) -> Finding {
        Finding {
            rule,
            severity: Severity::High,
            message: String::new(),
            statement: Some(statement),
            line: None,
            column: None,
            suggestion: None,
            file: Some(file.into()),
            sample_records: Vec::new(),
            suppressed: None,
        }
    }

    fn run(sql: &str, mut findings: Vec<Finding>) -> Vec<Finding> {
        let sources = vec![MigrationSource::named("m.sql", sql)];
        let script = parse_script(&sources, Dialect::Postgres);
        apply(&sources, &script, &mut findings);
        findings
    }

    #[test]
    fn a_statement_ignore_covers_the_next_statement_only() {
        let sql = "-- dbconsultant-ignore: ban-drop-table, ban-drop-column -- archived in 2024\nDROP TABLE a;\nDROP TABLE b;\n";
        let out = run(sql, vec![finding(FindingId::BanDropTable, 1, "m.sql"), finding(FindingId::BanDropTable, 2, "m.sql")]);
        let s = out[0].suppressed.as_ref().expect("statement 1 is covered");
        assert_eq!((s.scope.as_str(), s.line, s.reason.as_deref()), ("statement", 1, Some("archived in 2024")));
        assert!(out[1].suppressed.is_none(), "statement 2 is not");
        let unused: Vec<_> = out.iter().filter(|f| f.rule == FindingId::UnusedIgnore).collect();
        assert_eq!(unused.len(), 1, "ban-drop-column matched nothing: {out:#?}");
        assert!(unused[0].message.contains("ban-drop-column") && unused[0].severity == Severity::Low);
    }

    #[test]
    fn a_file_ignore_covers_every_statement_of_its_file() {
        let sql = "-- dbconsultant-ignore-file: ban-drop-table\nDROP TABLE a;\nDROP TABLE b;\n";
        let out = run(
            sql,
            vec![
                finding(FindingId::BanDropTable, 1, "m.sql"),
                finding(FindingId::BanDropTable, 2, "m.sql"),
                finding(FindingId::BanDropTable, 3, "other.sql"),
            ],
        );
        assert!(out[0].suppressed.is_some() && out[1].suppressed.is_some());
        assert!(out[2].suppressed.is_none(), "another file's finding stays");
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn unknown_and_unignorable_ids_are_reported() {
        let sql = "-- dbconsultant-ignore: ban-drop-tabel, syntax-error\nDROP TABLE a;\n";
        let out = run(sql, vec![finding(FindingId::SyntaxError, 1, "m.sql")]);
        assert!(out[0].suppressed.is_none(), "a syntax error is never suppressed");
        let messages: Vec<&str> = out.iter().filter(|f| f.rule == FindingId::UnusedIgnore).map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("`ban-drop-tabel` is not a finding id"), "{messages:?}");
        assert!(messages[1].contains("cannot be ignored"), "{messages:?}");
    }

    #[test]
    fn ordinary_comments_and_strings_are_not_directives() {
        let sql = "-- drop the old table\nSELECT '-- dbconsultant-ignore: ban-drop-table';\nDROP TABLE a;\n";
        let out = run(sql, vec![finding(FindingId::BanDropTable, 2, "m.sql")]);
        assert!(out[0].suppressed.is_none());
        assert_eq!(out.len(), 1);
    }
}
