//! Markdown for a pull-request comment: verdict first, details folded.

use std::fmt::Write;

/// Keys of each kind a PR comment shows.
const COMMENT_KEYS: usize = 20;

use super::fit::{changes_to_list, LISTED};
use super::location;
use crate::model::{Compatibility, RunStatus, Severity, TestRun};

/// Findings listed in the table (GitHub rejects comments over 65,536 characters).
const MAX_FINDINGS: usize = 100;
/// Findings whose sample rows are shown.
const MAX_SAMPLE_BLOCKS: usize = 20;

fn cell(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('|', "\\|").replace('\n', " ")
}

pub fn render(run: &TestRun) -> String {
    let mut out = String::new();
    let icon = match run.status {
        RunStatus::Passed | RunStatus::Approved => "✅",
        RunStatus::PendingApproval | RunStatus::Escalated => "⏳",
        _ => "❌",
    };
    let _ = writeln!(out, "### {icon} dbconsultant {}: {} — risk {}/100", run.kind, run.status.as_str().replace('_', " "), run.risk_score);
    let _ = writeln!(out, "\n{}\n", run.summary);
    let target = run.target.as_deref().unwrap_or("static lint");
    let inputs = if run.inputs.is_empty() { String::new() } else { format!(" · `{}`", run.inputs.join("`, `")) };
    let _ = writeln!(out, "<sub>`{target}` · {} · {} · run `{}`{inputs}</sub>", run.environment, run.trigger_type, run.test_run_id);
    if let Some(line) = super::migration_line(run) {
        let _ = writeln!(out, "\n{line}");
    }

    let counted: Vec<(Severity, usize)> = Severity::ALL
        .iter()
        .rev()
        .map(|s| (*s, run.findings.iter().filter(|f| f.severity == *s && f.suppressed.is_none()).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    let mut doc = super::fit::Doc::new(out);
    {
        let mut out = String::new();
        if !run.findings.is_empty() {
            let mut tally: Vec<String> = counted.iter().map(|(s, n)| format!("{n} {s}")).collect();
            let ignored = run.findings.iter().filter(|f| f.suppressed.is_some()).count();
            if ignored > 0 {
                tally.push(format!("{ignored} ignored"));
            }
            let _ = writeln!(out, "\n#### Findings ({})\n", tally.join(", "));
            let _ = writeln!(out, "| Severity | Rule | Where | Problem | Safer alternative |\n|---|---|---|---|---|");
            for f in run.findings.iter().take(MAX_FINDINGS) {
                let severity = if f.suppressed.is_some() { format!("~~{}~~ ignored", f.severity) } else { format!("**{}**", f.severity) };
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | {} | {} |",
                    severity,
                    f.rule,
                    cell(&location(f)),
                    cell(&f.message),
                    cell(f.suggestion.as_deref().unwrap_or(""))
                );
            }
            if run.findings.len() > MAX_FINDINGS {
                let _ = writeln!(out, "\n…and {} more findings (see the JSON report).", run.findings.len() - MAX_FINDINGS);
            }
            let with_samples: Vec<_> = run.findings.iter().filter(|f| !f.sample_records.is_empty()).collect();
            for f in with_samples.iter().take(MAX_SAMPLE_BLOCKS) {
                let _ = writeln!(out, "\n<details><summary>Sample rows for <code>{}</code> (masked)</summary>\n\n```json", f.rule);
                for r in &f.sample_records {
                    let _ = writeln!(out, "{}", serde_json::Value::Object(r.clone()));
                }
                let _ = writeln!(out, "```\n</details>");
            }
            if with_samples.len() > MAX_SAMPLE_BLOCKS {
                let _ = writeln!(out, "\nSample rows of {} more findings are in the JSON report.", with_samples.len() - MAX_SAMPLE_BLOCKS);
            }
        }
        doc.section("findings", out);
    }
    {
        let mut out = String::new();
        if !run.schema_changes.is_empty() {
            let _ = writeln!(out, "\n<details><summary>Schema changes ({})</summary>\n", run.schema_changes.len());
            let _ = writeln!(out, "| Change | Object | Name | Compatibility | Details |\n|---|---|---|---|---|");
            // At scale the breaking and destructive changes lead; the compatible ones are counted.
            let (changes, more) = changes_to_list(run);
            for c in &changes {
                let compat = match c.compatibility_status {
                    Compatibility::Compatible => "compatible".to_string(),
                    other => format!("**{other}**"),
                };
                let name = if c.name == c.table_name { c.name.clone() } else { format!("{}.{}", c.table_name, c.name) };
                let _ = writeln!(out, "| {} | {} | `{}` | {compat} | {} |", c.change_type, c.object_type, cell(&name), cell(&c.details));
            }
            if let Some(more) = more {
                let _ = writeln!(out, "\n…and {more}.");
            }
            let _ = writeln!(out, "\n</details>");
        }
        doc.section("schema changes", out);
    }
    {
        let mut out = String::new();
        for r in &run.etl_results {
            let verdict = if r.checksum_match { "✅ all rows match" } else { "❌ rows differ" };
            let _ = writeln!(out, "\n#### ETL `{}` → `{}`: {verdict}\n", cell(&r.source_table), cell(&r.target_table));
            let _ = writeln!(
                out,
                "| Source rows | Target rows | Missing in target | Extra in target | Changed | Strategy |\n|---:|---:|---:|---:|---:|---|"
            );
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                r.source_count, r.target_count, r.missing_count, r.extra_count, r.changed_count, r.strategy
            );
            // A comment shows the first few of each kind; the document lists more.
            let keys = |values: &[serde_json::Value]| {
                values.iter().take(COMMENT_KEYS).map(|v| format!("`{}`", cell(&v.to_string()))).collect::<Vec<_>>().join(", ")
            };
            if !r.missing_in_target.is_empty() {
                let n = r.missing_in_target.len().min(COMMENT_KEYS);
                let _ = writeln!(out, "\nMissing in target (first {n} of {}): {}", r.missing_count, keys(&r.missing_in_target));
            }
            if !r.extra_in_target.is_empty() {
                let n = r.extra_in_target.len().min(COMMENT_KEYS);
                let _ = writeln!(out, "\nExtra in target (first {n} of {}): {}", r.extra_count, keys(&r.extra_in_target));
            }
            if let Some(file) = &r.keys_out {
                let _ = writeln!(out, "\nEvery differing key: `{}` ({} lines).", cell(&file.path), file.lines);
            }
            if !r.changed.is_empty() {
                let _ = writeln!(out, "\n| Changed key | Column | Source | Target |\n|---|---|---|---|");
                for c in r.changed.iter().take(COMMENT_KEYS) {
                    if let Some(columns) = c["columns"].as_object() {
                        for (name, v) in columns {
                            let _ = writeln!(
                                out,
                                "| `{}` | {} | {} | {} |",
                                cell(&c["key"].to_string()),
                                cell(name),
                                cell(&v["source"].to_string()),
                                cell(&v["target"].to_string())
                            );
                        }
                    }
                }
            }
            if let Some(error) = &r.error {
                let _ = writeln!(out, "\n> {}", cell(error));
            }
            if !r.aggregates.is_empty() {
                let _ = writeln!(out, "\n| Aggregate | Group | Source | Target | |\n|---|---|---:|---:|---|");
                for a in &r.aggregates {
                    let _ = writeln!(
                        out,
                        "| {}({}) | {} | {} | {} | {} |",
                        a.function,
                        cell(&a.column),
                        cell(a.group.as_deref().unwrap_or("")),
                        cell(a.source.as_deref().unwrap_or("none")),
                        cell(a.target.as_deref().unwrap_or("none")),
                        if a.matches { "✅" } else { "❌" }
                    );
                }
            }
        }
        doc.section("ETL results", out);
    }
    {
        let mut out = String::new();
        if !run.performance_metrics.is_empty() {
            let _ = writeln!(
                out,
                "\n#### Queries\n\n| Query | Fingerprint | Median ms | p95 ms | Index used | Recommendation |\n|---|---|---:|---:|---|---|"
            );
            for m in &run.performance_metrics {
                let (median, p95) =
                    m.timing.as_ref().map(|t| (format!("{:.2}", t.median_ms), format!("{:.2}", t.p95_ms))).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "| `{}` | `{}` | {median} | {p95} | {} | {} |",
                    m.query_hash,
                    cell(&m.fingerprint),
                    if m.index_used { "yes" } else { "**no**" },
                    m.recommendation.as_deref().map(|r| format!("`{}`", cell(r))).unwrap_or_default()
                );
            }
            for m in run.performance_metrics.iter().filter(|m| !m.plan.is_null()) {
                let _ = writeln!(out, "\n<details><summary>Plan of <code>{}</code></summary>\n\n```", m.query_hash);
                for line in super::text::plan_lines(&m.plan, 0) {
                    let _ = writeln!(out, "{line}");
                }
                let _ = writeln!(out, "```\n</details>");
            }
        }
        doc.section("queries", out);
    }
    {
        let mut out = String::new();
        if !run.risk_breakdown.is_empty() {
            let _ = writeln!(out, "\n<details><summary>Risk breakdown</summary>\n\n| Points | Source | Reason |\n|---:|---|---|");
            for c in run.risk_breakdown.iter().take(LISTED) {
                let _ = writeln!(out, "| {} | `{}` | {} |", c.points, c.rule, cell(&c.reason));
            }
            let _ = writeln!(out, "\n</details>");
        }
        doc.section("risk breakdown", out);
    }
    doc.finish(&run.test_run_id, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::fixtures::sample_run()));
    }

    #[test]
    fn perf_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::fixtures::sample_perf_run()));
    }

    #[test]
    fn etl_markdown_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::fixtures::sample_etl_run()));
    }
}
