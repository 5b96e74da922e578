//! Terminal rendering: aligned, with colour when writing to a terminal.

use std::fmt::Write;

/// Keys of each kind a terminal report shows.
const TEXT_KEYS: usize = 10;

use super::fit::{changes_to_list, tally, LISTED, LIST_EVERY};
use super::location;
use crate::model::{Compatibility, RunStatus, Severity, TestRun};

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.wrap("2", t)
    }
    fn severity(&self, s: Severity) -> String {
        let label = format!("{:<8}", s.as_str().to_uppercase());
        match s {
            Severity::Critical => self.wrap("1;31", &label),
            Severity::High => self.wrap("31", &label),
            Severity::Medium => self.wrap("33", &label),
            Severity::Low => self.wrap("36", &label),
            Severity::Info => self.wrap("2", &label),
        }
    }
    fn status(&self, s: RunStatus) -> String {
        let label = s.as_str().to_uppercase().replace('_', " ");
        match s {
            RunStatus::Passed | RunStatus::Approved => self.wrap("1;32", &label),
            RunStatus::PendingApproval | RunStatus::Escalated => self.wrap("1;33", &label),
            _ => self.wrap("1;31", &label),
        }
    }
}

pub fn render(run: &TestRun, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    let threshold = run.fail_above.map(|t| format!(" (fail above {t})")).unwrap_or_default();
    let _ = writeln!(out, "{} {} — {}   risk {}/100{threshold}", p.bold("dbconsultant"), run.kind, p.status(run.status), run.risk_score);
    let _ = writeln!(out, "{}", p.bold(&run.summary));
    let target = run.target.as_deref().unwrap_or("(no database: static lint)");
    let _ = writeln!(
        out,
        "{}",
        p.dim(&format!("run {} · {} · {} · {} · {}", run.test_run_id, target, run.environment, run.trigger_type, run.created_at))
    );
    if let Some(line) = super::migration_line(run) {
        let _ = writeln!(out, "{}", p.dim(&line));
    }
    if let Some(by) = &run.decided_by {
        let comment = run.decision_comment.as_deref().map(|c| format!(": {c}")).unwrap_or_default();
        let to = run.escalated_to.as_deref().filter(|_| run.status == crate::model::RunStatus::Escalated);
        let to = to.map(|t| format!(" to {t}")).unwrap_or_default();
        let _ = writeln!(out, "{}{to} by {by} at {}{comment}", run.status, run.decided_at.as_deref().unwrap_or("?"));
    }

    let mut doc = super::fit::Doc::new(out);
    {
        let mut out = String::new();
        if !run.findings.is_empty() {
            let _ = writeln!(out, "\n{}", p.bold(&format!("Findings ({})", run.findings.len())));
            for f in run.findings.iter().take(LISTED) {
                let _ = writeln!(out, "  {} {}  {}", p.severity(f.severity), f.rule, p.dim(&location(f)));
                let _ = writeln!(out, "           {}", f.message);
                if let Some(s) = &f.suppressed {
                    let reason = s.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
                    let _ = writeln!(out, "           {} {}:{}{reason}", p.dim("ignored by the comment at"), s.file, s.line);
                }
                if let Some(s) = &f.suggestion {
                    let _ = writeln!(out, "           {} {s}", p.dim("fix:"));
                }
                for r in &f.sample_records {
                    let _ = writeln!(out, "           {} {}", p.dim("row:"), serde_json::Value::Object(r.clone()));
                }
            }
            if run.findings.len() > LISTED {
                let rest = &run.findings[LISTED..];
                let _ = writeln!(out, "  … and {} more ({})", rest.len(), tally(rest.iter().map(|f| f.rule.as_str())));
            }
        }
        doc.section("findings", out);
    }
    {
        let mut out = String::new();
        if !run.schema_changes.is_empty() {
            let _ = writeln!(out, "\n{}", p.bold(&format!("Schema changes ({})", run.schema_changes.len())));
            // At scale the breaking and destructive changes lead; the compatible ones are counted.
            let (changes, more) = changes_to_list(run);
            for c in &changes {
                let status = match c.compatibility_status {
                    Compatibility::Compatible => p.wrap("32", "compatible "),
                    Compatibility::Breaking => p.wrap("33", "breaking   "),
                    Compatibility::Destructive => p.wrap("31", "destructive"),
                };
                let object = if c.name == c.table_name { c.name.clone() } else { format!("{}.{}", c.table_name, c.name) };
                let _ = writeln!(
                    out,
                    "  {status} {:<8} {:<10} {object}  {}",
                    c.change_type.as_str(),
                    c.object_type.as_str(),
                    p.dim(&c.details)
                );
            }
            if let Some(more) = more {
                let _ = writeln!(out, "  … and {more}");
            }
        }
        doc.section("schema changes", out);
    }
    {
        let mut out = String::new();
        if !run.integrity_results.is_empty() {
            let title = if run.kind == crate::model::RunKind::Schema { "Constraint checks on existing rows" } else { "Integrity checks" };
            let _ = writeln!(out, "\n{}", p.bold(title));
            // A large run lists what failed or could not run, and counts the passes by kind.
            let every = run.integrity_results.len() <= LIST_EVERY;
            let listed: Vec<&crate::model::IntegrityResult> =
                run.integrity_results.iter().filter(|r| every || r.error.is_some() || r.failure_count > 0).collect();
            for r in listed.iter().take(LISTED) {
                match &r.error {
                    Some(error) => {
                        let _ = writeln!(out, "  {} {} {} {}: {error}", p.wrap("33", "ERR "), r.table_name, r.integrity_type, r.constraint);
                    }
                    None => {
                        let mark = if r.failure_count == 0 { p.wrap("32", "ok  ") } else { p.wrap("31", "FAIL") };
                        let _ = writeln!(
                            out,
                            "  {mark} {} {} {}: {} failing row(s)",
                            r.table_name, r.integrity_type, r.constraint, r.failure_count
                        );
                    }
                }
            }
            if listed.len() > LISTED {
                let _ = writeln!(out, "  … and {} more failing or not run", listed.len() - LISTED);
            }
            if !every {
                let passed: Vec<&crate::model::IntegrityResult> =
                    run.integrity_results.iter().filter(|r| r.error.is_none() && r.failure_count == 0).collect();
                let tables = passed.iter().map(|r| r.table_name.as_str()).collect::<std::collections::BTreeSet<_>>().len();
                let kinds = tally(passed.iter().map(|r| r.integrity_type.as_str()));
                let _ = writeln!(out, "  {} {} checks passed on {tables} tables ({kinds})", p.wrap("32", "ok  "), passed.len());
            }
        }
        doc.section("integrity checks", out);
    }
    {
        let mut out = String::new();
        for r in &run.etl_results {
            let _ = writeln!(
                out,
                "\n{}",
                p.bold(&format!("ETL {} → {} ({}, key {})", r.source_table, r.target_table, r.strategy, r.key.join(", ")))
            );
            let mark = if r.checksum_match { p.wrap("32", "match") } else { p.wrap("31", "DIFFERENT") };
            let _ = writeln!(
                out,
                "  {mark}  rows: source {}, target {}; {} column(s) compared",
                r.source_count,
                r.target_count,
                r.columns.len()
            );
            // A terminal shows the first few; the document lists more, keys_out has them all.
            let more = |listed: usize, count: u64| {
                let rest = count.saturating_sub(listed.min(TEXT_KEYS) as u64);
                if rest > 0 {
                    format!(" … {rest} more")
                } else {
                    String::new()
                }
            };
            let keys = |values: &[serde_json::Value], count: u64| {
                let shown: Vec<String> = values.iter().take(TEXT_KEYS).map(|v| v.to_string()).collect();
                format!("{}{}", shown.join(" "), more(values.len(), count))
            };
            if r.missing_count > 0 {
                let _ = writeln!(out, "  missing in target: {}  {}", r.missing_count, p.dim(&keys(&r.missing_in_target, r.missing_count)));
            }
            if r.extra_count > 0 {
                let _ = writeln!(out, "  extra in target:   {}  {}", r.extra_count, p.dim(&keys(&r.extra_in_target, r.extra_count)));
            }
            if r.changed_count > 0 {
                let per_column: Vec<String> = r.changed_columns.iter().map(|(c, n)| format!("{c} {n}")).collect();
                let _ = writeln!(out, "  changed:           {}  ({})", r.changed_count, per_column.join(", "));
                for c in r.changed.iter().take(TEXT_KEYS) {
                    let _ = writeln!(out, "    {}  {}", c["key"], p.dim(&c["columns"].to_string()));
                }
                let rest = more(r.changed.len(), r.changed_count);
                if !rest.is_empty() {
                    let _ = writeln!(out, "   {}", p.dim(&rest));
                }
            }
            if let Some(file) = &r.keys_out {
                let _ = writeln!(out, "  every differing key: {} ({} lines)", file.path, file.lines);
            }
            if let Some(error) = &r.error {
                let _ = writeln!(out, "  {} {error}", p.wrap("33", "note"));
            }
            for a in &r.aggregates {
                let mark = if a.matches { p.wrap("32", "ok  ") } else { p.wrap("31", "FAIL") };
                let group = a.group.as_ref().map(|g| format!(" [{g}]")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {mark} {}({}){group}: source {}, target {}",
                    a.function,
                    a.column,
                    a.source.as_deref().unwrap_or("none"),
                    a.target.as_deref().unwrap_or("none")
                );
            }
            let _ = writeln!(
                out,
                "  {}",
                p.dim(&format!("{} segments compared, {} rows fetched, {} queries", r.segments_compared, r.rows_fetched, r.queries))
            );
        }
        doc.section("ETL results", out);
    }
    {
        let mut out = String::new();
        if !run.performance_metrics.is_empty() {
            let _ = writeln!(out, "\n{}", p.bold(&format!("Queries ({})", run.performance_metrics.len())));
            for m in &run.performance_metrics {
                let time = m
                    .timing
                    .as_ref()
                    .map(|t| format!("median {:.2} ms, p95 {:.2} ms ({} runs)", t.median_ms, t.p95_ms, t.runs))
                    .unwrap_or_else(|| "not timed".into());
                let index = if m.index_used { p.wrap("32", "index") } else { p.wrap("33", "no index") };
                let _ = writeln!(out, "  {}  {index}  {time}  ×{}  {}", m.query_hash, m.occurrences, m.fingerprint);
                for node in plan_lines(&m.plan, 0) {
                    let _ = writeln!(out, "      {}", p.dim(&node));
                }
                for r in &m.recommendations {
                    let v = &r["verification"];
                    let verdict = match v["used"].as_bool() {
                        Some(true) => {
                            format!("verified by {}: cost {} → {}", v["method"].as_str().unwrap_or(""), v["cost_before"], v["cost_after"])
                        }
                        Some(false) => "rejected: the planner would not use it".into(),
                        None => format!("not verified: {}", r["error"].as_str().unwrap_or("")),
                    };
                    let _ = writeln!(out, "    recommend {}  ({verdict})", r["create_index"].as_str().unwrap_or(""));
                }
                if let Some(e) = &m.error {
                    let _ = writeln!(out, "    {} {e}", p.wrap("33", "note"));
                }
            }
        }
        doc.section("queries", out);
    }
    {
        let mut out = String::new();
        if !run.risk_breakdown.is_empty() {
            let _ = writeln!(out, "\n{}", p.bold("Risk breakdown"));
            for c in &run.risk_breakdown {
                let _ = writeln!(out, "  {:>3}  {:<40} {}", c.points, c.rule, p.dim(&c.reason));
            }
        }
        doc.section("risk breakdown", out);
    }
    doc.finish(&run.test_run_id, false)
}

/// A normalized plan as indented lines: node, relation, index, rows.
pub(crate) fn plan_lines(node: &serde_json::Value, depth: usize) -> Vec<String> {
    if node.is_null() {
        return Vec::new();
    }
    let mut line = format!("{}{}", "  ".repeat(depth), node["node_type"].as_str().unwrap_or("?"));
    if let Some(r) = node["relation"].as_str() {
        line.push_str(&format!(" on {r}"));
    }
    if let Some(i) = node["index"].as_str() {
        line.push_str(&format!(" using {i}"));
    }
    match (node["estimated_rows"].as_f64(), node["actual_rows"].as_f64()) {
        (Some(e), Some(a)) => line.push_str(&format!(" (rows est. {e}, actual {a})")),
        (Some(e), None) => line.push_str(&format!(" (rows est. {e})")),
        _ => {}
    }
    let mut out = vec![line];
    for child in node["children"].as_array().into_iter().flatten() {
        out.extend(plan_lines(child, depth + 1));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::fixtures::sample_run(), false));
    }

    #[test]
    fn perf_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::fixtures::sample_perf_run(), false));
    }

    #[test]
    fn etl_text_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::fixtures::sample_etl_run(), false));
    }

    #[test]
    fn colour_only_when_asked() {
        let run = crate::report::fixtures::sample_run();
        assert!(!super::render(&run, false).contains('\x1b'));
        assert!(super::render(&run, true).contains("\x1b[1;31m"));
    }
}
