//! Markdown for a pull-request comment: verdict first, details folded.

use std::fmt::Write;

use super::location;
use crate::model::{Compatibility, RunStatus, Severity, TestRun};

/// GitHub rejects comments over 65,536 characters; stay well below.
const MAX_FINDINGS: usize = 100;

fn cell(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('|', "\\|").replace('\n', " ")
}

pub fn render(run: &TestRun) -> String {
    let mut out = String::new();
    let icon = match run.status {
        RunStatus::Passed | RunStatus::Approved => "✅",
        RunStatus::PendingApproval => "⏳",
        _ => "❌",
    };
    let _ = writeln!(out, "### {icon} dbconsultant {}: {} — risk {}/100", run.kind, run.status.as_str().replace('_', " "), run.risk_score);
    let _ = writeln!(out, "\n{}\n", run.summary);
    let target = run.target.as_deref().unwrap_or("static lint");
    let inputs = if run.inputs.is_empty() { String::new() } else { format!(" · `{}`", run.inputs.join("`, `")) };
    let _ = writeln!(out, "<sub>`{target}` · {} · {} · run `{}`{inputs}</sub>", run.environment, run.trigger_type, run.test_run_id);

    let counted: Vec<(Severity, usize)> = Severity::ALL.iter().rev()
        .map(|s| (*s, run.findings.iter().filter(|f| f.severity == *s).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    if !run.findings.is_empty() {
        let tally: Vec<String> = counted.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let _ = writeln!(out, "\n#### Findings ({})\n", tally.join(", "));
        let _ = writeln!(out, "| Severity | Rule | Where | Problem | Safer alternative |\n|---|---|---|---|---|");
        for f in run.findings.iter().take(MAX_FINDINGS) {
            let _ = writeln!(out, "| **{}** | `{}` | {} | {} | {} |", f.severity, f.rule, cell(&location(f)), cell(&f.message), cell(f.suggestion.as_deref().unwrap_or("")));
        }
        if run.findings.len() > MAX_FINDINGS {
            let _ = writeln!(out, "\n…and {} more findings (see the JSON report).", run.findings.len() - MAX_FINDINGS);
        }
        let with_samples: Vec<_> = run.findings.iter().filter(|f| !f.sample_records.is_empty()).collect();
        for f in with_samples {
            let _ = writeln!(out, "\n<details><summary>Sample rows for <code>{}</code> (masked)</summary>\n\n```json", f.rule);
            for r in &f.sample_records {
                let _ = writeln!(out, "{}", serde_json::Value::Object(r.clone()));
            }
            let _ = writeln!(out, "```\n</details>");
        }
    }
    if !run.schema_changes.is_empty() {
        let _ = writeln!(out, "\n<details><summary>Schema changes ({})</summary>\n", run.schema_changes.len());
        let _ = writeln!(out, "| Change | Object | Name | Compatibility | Details |\n|---|---|---|---|---|");
        for c in &run.schema_changes {
            let compat = match c.compatibility_status {
                Compatibility::Compatible => "compatible".to_string(),
                other => format!("**{other}**"),
            };
            let name = if c.name == c.table_name { c.name.clone() } else { format!("{}.{}", c.table_name, c.name) };
            let _ = writeln!(out, "| {} | {} | `{}` | {compat} | {} |", c.change_type, c.object_type, cell(&name), cell(&c.details));
        }
        let _ = writeln!(out, "\n</details>");
    }
    if !run.risk_breakdown.is_empty() {
        let _ = writeln!(out, "\n<details><summary>Risk breakdown</summary>\n\n| Points | Source | Reason |\n|---:|---|---|");
        for c in &run.risk_breakdown {
            let _ = writeln!(out, "| {} | `{}` | {} |", c.points, c.rule, cell(&c.reason));
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::fixtures::sample_run()));
    }
}
