//! Reports that stay readable, and postable, at scale. A run can hold tens of thousands of
//! checks or schema changes; the text and Markdown renderings lead with the verdict and the
//! failures, summarize what passed by kind, and never exceed what a pull-request comment
//! accepts (GitHub: 65,536 characters). Sections that would not fit are left out by name, with
//! a pointer to the complete JSON document (JSON, JUnit and SARIF are never shortened).

use std::collections::BTreeMap;

/// GitHub's limit on one comment, in characters (we count bytes, which is never fewer).
pub const COMMENT_LIMIT: usize = 65_536;
/// Items a section lists one by one before it summarizes the rest.
pub(crate) const LISTED: usize = 100;
/// Up to this many results, every one is listed (passes included), as on a small run.
pub(crate) const LIST_EVERY: usize = 50;
/// Room kept for the closing note.
const NOTE_ROOM: usize = 600;

/// A report being assembled section by section under [`COMMENT_LIMIT`].
pub(crate) struct Doc {
    out: String,
    left_out: Vec<String>,
}

impl Doc {
    /// Start with the head (verdict, summary, target), which always fits: it is cut at a
    /// line if it alone would not.
    pub fn new(head: String) -> Doc {
        let mut out = head;
        if out.len() > COMMENT_LIMIT - NOTE_ROOM {
            let cut = floor_line(&out, COMMENT_LIMIT - NOTE_ROOM);
            out.truncate(cut);
        }
        Doc { out, left_out: Vec::new() }
    }

    /// Append a section if it fits whole; else name it in the closing note.
    pub fn section(&mut self, name: impl Into<String>, text: String) {
        if text.is_empty() {
            return;
        }
        if self.out.len() + text.len() + NOTE_ROOM <= COMMENT_LIMIT {
            self.out.push_str(&text);
        } else {
            self.left_out.push(name.into());
        }
    }

    /// The report, with a note naming what was left out and where the rest is.
    pub fn finish(mut self, run_id: &str, markdown: bool) -> String {
        if !self.left_out.is_empty() {
            let command = format!("dbconsultant runs show {run_id} --format json");
            let command = if markdown { format!("`{command}`") } else { command };
            let names = self.left_out.join(", ");
            let names: String = names.chars().take(NOTE_ROOM / 2).collect();
            self.out.push_str(&format!(
                "\nLeft out to stay under {COMMENT_LIMIT} characters: {names}. The complete run (every check, change and finding): {command}\n"
            ));
        }
        self.out
    }
}

/// The last line boundary at or before `at` bytes.
fn floor_line(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text[..at].rfind('\n').map(|i| i + 1).unwrap_or(at)
}

/// A run's schema changes in the order a report lists them: as they are, or, past
/// [`LISTED`], the breaking and destructive ones first; and what the listing leaves out, as
/// "N more (by compatibility; by change)".
pub(crate) fn changes_to_list(run: &crate::model::TestRun) -> (Vec<&crate::model::SchemaChange>, Option<String>) {
    let mut changes: Vec<&crate::model::SchemaChange> = run.schema_changes.iter().collect();
    if changes.len() <= LISTED {
        return (changes, None);
    }
    changes.sort_by_key(|c| c.compatibility_status == crate::model::Compatibility::Compatible);
    let rest = changes.split_off(LISTED);
    let kinds = tally(rest.iter().map(|c| c.compatibility_status.as_str()));
    let more = format!("{} more ({kinds}; by change: {})", rest.len(), tally(rest.iter().map(|c| c.change_type.as_str())));
    (changes, Some(more))
}

/// "12 pk, 3 not_null": how many of each kind, most frequent first.
pub(crate) fn tally<'a>(kinds: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for k in kinds {
        *counts.entry(k).or_default() += 1;
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_that_does_not_fit_is_named_and_the_rest_still_comes() {
        let mut doc = Doc::new("head\n".into());
        doc.section("huge", "x\n".repeat(COMMENT_LIMIT));
        doc.section("small", "small section\n".into());
        let out = doc.finish("run-1", true);
        assert!(out.len() <= COMMENT_LIMIT);
        assert!(out.contains("small section"));
        assert!(out.contains("Left out to stay under 65536 characters: huge."), "{out}");
        assert!(out.contains("`dbconsultant runs show run-1 --format json`"));
    }

    #[test]
    fn a_head_too_long_is_cut_at_a_line() {
        let head = "é line\n".repeat(20_000);
        let out = Doc::new(head).finish("r", false);
        assert!(out.len() <= COMMENT_LIMIT && out.ends_with('\n'));
    }

    /// A run of 20,000 checks (3 failing, 1 not run) and 3,000 schema changes (2 breaking, at
    /// the end) renders under the limit in text and Markdown, failures and breaking changes
    /// shown, passes counted.
    #[test]
    fn a_huge_run_leads_with_what_failed_and_fits_a_comment() {
        use crate::model::*;
        let mut run = crate::report::fixtures::sample_run();
        run.integrity_results = (0..20_000)
            .map(|i| IntegrityResult {
                table_name: format!("t{:05}", i / 4),
                integrity_type: if i % 2 == 0 { IntegrityType::Pk } else { IntegrityType::Fk },
                constraint: format!("c{i}"),
                failure_count: if [7, 9_001, 19_999].contains(&i) { 5 } else { 0 },
                sample_records: vec![],
                error: (i == 12_345).then(|| "timed out after 30000 ms".to_string()),
            })
            .collect();
        let change = |i: usize, compatibility| SchemaChange {
            object_type: ObjectType::Column,
            table_name: format!("t{i:05}"),
            name: "note".into(),
            change_type: ChangeType::Added,
            compatibility_status: compatibility,
            details: "new text column (nullable)".into(),
        };
        run.schema_changes = (0..3_000).map(|i| change(i, Compatibility::Compatible)).collect();
        run.schema_changes.push(change(3_000, Compatibility::Breaking));
        run.schema_changes.push(change(3_001, Compatibility::Destructive));
        for (format, out) in [("text", crate::report::text::render(&run, false)), ("markdown", crate::report::markdown::render(&run))] {
            assert!(out.len() <= COMMENT_LIMIT, "{format}: {} bytes", out.len());
            assert!(out.contains("t03000") && out.contains("t03001"), "{format}: the breaking changes are listed");
            assert!(out.contains("2902 more (2902 compatible; by change: 2902 added)"), "{format}");
            if format == "text" {
                for failing in ["c7:", "c9001:", "c19999:", "c12345: timed out"] {
                    assert!(out.contains(failing), "{failing}");
                }
                assert!(out.contains("19996 checks passed on 5000 tables (10000 pk, 9996 fk)"), "{out}");
                assert!(!out.contains(" c8:"), "passes are counted, not listed");
            }
        }
    }

    #[test]
    fn tally_counts_most_frequent_first() {
        assert_eq!(tally(["fk", "pk", "fk", "check"].into_iter()), "2 fk, 1 check, 1 pk");
    }
}
