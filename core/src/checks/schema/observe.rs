//! Turns what the sandbox saw while running each statement (locks, rewrites, MySQL ALTER
//! algorithms, statements run differently or not at all) into findings.

use crate::driver::{AlterAlgorithm, Execution, LockMode};
use crate::findings::FindingId;
use crate::model::{Finding, SchemaSnapshot, Severity};
use crate::sql::ParsedStatement;

use super::estimate;

fn finding(rule: FindingId, severity: Severity, stmt: &ParsedStatement, message: String, suggestion: &str) -> Finding {
    Finding {
        rule,
        severity,
        message,
        statement: Some(stmt.index),
        line: Some(stmt.line),
        column: Some(stmt.column),
        suggestion: Some(suggestion.into()),
        file: Some(stmt.file.clone()),
        sample_records: Vec::new(),
        suppressed: None,
    }
}

/// The statement's opening, for messages ("ALTER TABLE users ADD COLUMN ...").
fn head(sql: &str) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 60 {
        format!("{} ...", flat.chars().take(57).collect::<String>())
    } else {
        flat
    }
}

pub fn findings_for(stmt: &ParsedStatement, exec: &Execution, before: &SchemaSnapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(reason) = &exec.skipped {
        out.push(finding(
            FindingId::SandboxSkipped,
            Severity::Info,
            stmt,
            format!("statement {} was not run in the sandbox: {reason}", stmt.index),
            "Nothing to do; noted so the report is complete.",
        ));
    }
    if exec.timed_out {
        out.push(finding(
            FindingId::SandboxTimeout,
            Severity::High,
            stmt,
            format!(
                "statement {} did not finish within the sandbox's statement timeout ({}): not validated, and it runs at least that long in production",
                stmt.index,
                super::estimate::human_duration(exec.elapsed_ms)
            ),
            "Split it into batches that each finish quickly, or raise [sandbox] statement_timeout_ms to validate it.",
        ));
    }
    if let Some(note) = &exec.note {
        out.push(finding(
            FindingId::SandboxNote,
            Severity::Info,
            stmt,
            format!("statement {}: {note}", stmt.index),
            "Nothing to do; the in-sandbox equivalent was validated.",
        ));
    }
    let rows_of = |table: &str| before.table(table).and_then(|t| t.row_estimate);
    for lock in &exec.locks {
        // Locks on tables this migration created are harmless.
        let Some(existing) = before.table(&lock.table) else { continue };
        let mode = lock.mode;
        if mode < LockMode::ShareUpdateExclusive {
            continue;
        }
        let rewrite = exec.rewrites.iter().find(|r| r.table.eq_ignore_ascii_case(&lock.table));
        let work = match rewrite {
            Some(_) => Some("rewrite"),
            None => estimate::work_of(stmt, &lock.table),
        };
        // A lock an earlier statement took matters here only while this one works under it.
        if lock.held_before && work.is_none() {
            continue;
        }
        let target_rows = existing.row_estimate.or(rewrite.map(|r| r.rows));
        let estimate = work.and_then(|_| estimate::duration(exec.elapsed_ms, lock.sandbox_rows, target_rows));
        let size = estimate::size_text(target_rows, existing.size_bytes);
        let timing = estimate.as_ref().map(|e| format!("; {}", e.text())).unwrap_or_default();
        let detail = match (work, rewrite) {
            (_, Some(_)) => format!(" and rewrites it ({size}{timing})"),
            (Some(kind), None) => format!(" for {kind} ({size}{timing})"),
            (None, None) => String::new(),
        };
        let mut severity = match rewrite {
            Some(_) if target_rows.unwrap_or(0) > 0 => Severity::High,
            _ if mode.blocks_reads() => Severity::Low,
            _ if mode.blocks_writes() => Severity::Medium,
            _ => Severity::Info,
        };
        if let Some(e) = &estimate {
            severity = severity.max(e.severity(mode));
        }
        let (verb, earlier) =
            if lock.held_before { ("holds", " (taken by an earlier statement of the transaction)") } else { ("takes", "") };
        let blocks = if mode.blocks_reads() {
            "blocks all reads and writes on it while held"
        } else if mode.blocks_writes() {
            "blocks writes to it while held"
        } else {
            "blocks other schema changes and VACUUM while held"
        };
        out.push(finding(
            FindingId::LockObserved,
            severity,
            stmt,
            format!("{} {verb} {} on {}{earlier}{detail}: {blocks}", head(&stmt.sql), lock.mode, existing.name),
            if rewrite.is_some() {
                "Avoid the rewrite (add a new column and backfill in batches), or run it in a maintenance window."
            } else {
                "Set a short lock_timeout and retry, and keep the transaction holding this lock short."
            },
        ));
    }
    if let Some(algorithm) = exec.algorithm {
        let table = crate::rules::ast_names::altered_table(stmt).unwrap_or_default();
        let rows = rows_of(&table).unwrap_or(0);
        let (severity, text, fix) = match algorithm {
            AlterAlgorithm::Instant => (Severity::Info, "runs ALGORITHM=INSTANT (metadata only)".to_string(), "Nothing to do."),
            AlterAlgorithm::Inplace => (
                Severity::Low,
                format!("runs ALGORITHM=INPLACE: rebuilds {table} ({} rows) in place, reads and writes continue", group_digits(rows)),
                "Run it off-peak; add ALGORITHM=INPLACE, LOCK=NONE so a change of plan fails instead of blocking.",
            ),
            AlterAlgorithm::Copy => (
                if rows > 0 { Severity::High } else { Severity::Low },
                format!("needs ALGORITHM=COPY: copies {table} ({} rows) and blocks writes until done", group_digits(rows)),
                "Use an online schema change tool (gh-ost, pt-online-schema-change) or restructure the change so INSTANT/INPLACE applies.",
            ),
        };
        out.push(finding(FindingId::AlterAlgorithm, severity, stmt, format!("{} {text}", head(&stmt.sql)), fix));
    }
    out
}

pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_are_grouped() {
        assert_eq!(super::group_digits(12345), "12,345");
        assert_eq!(super::group_digits(999), "999");
        assert_eq!(super::group_digits(1000000), "1,000,000");
    }
}
