//! GitLab code quality report (`artifacts: reports: codequality:`): a JSON array of issues
//! with `description`, `check_name`, `fingerprint`, `severity` (info, minor, major, critical,
//! blocker) and `location.path` + `location.lines.begin`, as GitLab's code quality
//! documentation describes the format. The merge request widget shows new and fixed issues
//! by fingerprint, so the fingerprint leaves out the line number: moving a statement does not
//! make its finding "new".

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::model::{Severity, TestRun};

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "blocker",
        Severity::High => "critical",
        Severity::Medium => "major",
        Severity::Low => "minor",
        Severity::Info => "info",
    }
}

pub fn render(run: &TestRun) -> String {
    let issues: Vec<Value> = run
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| {
            let path = f.file.clone().unwrap_or_else(|| format!("<{}>", run.kind));
            let fingerprint = Sha256::digest(format!("{}\0{}\0{}", f.rule, path, f.message).as_bytes());
            let description = match &f.suggestion {
                Some(s) => format!("{} Safer: {s}", f.message),
                None => f.message.clone(),
            };
            json!({
                "type": "issue",
                "description": description,
                "check_name": format!("dbconsultant/{}", f.rule),
                "fingerprint": fingerprint.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                "severity": severity(f.severity),
                "categories": ["Bug Risk"],
                "location": {"path": path, "lines": {"begin": f.line.filter(|l| *l > 0).unwrap_or(1)}},
            })
        })
        .collect();
    serde_json::to_string_pretty(&issues).expect("issues always serialize") + "\n"
}
