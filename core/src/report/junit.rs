//! JUnit XML (Jenkins xunit junit-10.xsd shape): one test case per finding, per schema change
//! and for the risk threshold, so CI systems show each problem as a failed test.

use std::fmt::Write;

use super::location;
use crate::model::{Compatibility, Severity, TestRun};

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

struct Case {
    classname: String,
    name: String,
    failure: Option<(String, String, String)>, // message, type, body
    output: Option<String>,
}

pub fn render(run: &TestRun) -> String {
    let mut cases: Vec<Case> = Vec::new();
    for f in &run.findings {
        let body = format!("{}\n{}\nfix: {}", location(f), f.message, f.suggestion.as_deref().unwrap_or("-"));
        // A finding an inline ignore suppressed is reported, but fails nothing.
        let fails = f.severity >= Severity::Medium && f.suppressed.is_none();
        cases.push(Case {
            classname: format!("dbconsultant.{}.findings", run.kind),
            name: format!("{} at {}", f.rule, location(f)),
            failure: fails.then(|| (f.message.clone(), f.severity.to_string(), body.clone())),
            output: (!fails).then_some(body),
        });
    }
    for c in &run.schema_changes {
        let name = format!("{} {} {}.{}", c.change_type, c.object_type, c.table_name, c.name);
        cases.push(Case {
            classname: format!("dbconsultant.{}.changes", run.kind),
            name,
            failure: (c.compatibility_status == Compatibility::Destructive)
                .then(|| (c.details.clone(), c.compatibility_status.to_string(), c.details.clone())),
            output: Some(format!("{}: {}", c.compatibility_status, c.details)),
        });
    }
    let over = run.fail_above.filter(|t| run.risk_score > *t);
    cases.push(Case {
        classname: format!("dbconsultant.{}", run.kind),
        name: "risk score".into(),
        failure: over.map(|t| (format!("risk score {} is above {t}", run.risk_score), "risk".into(), run.summary.clone())),
        output: Some(format!("risk {}/100: {}", run.risk_score, run.summary)),
    });
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let timestamp = run.created_at.trim_end_matches('Z').split('+').next().unwrap_or("").to_string();
    let _ = writeln!(out, "<testsuites name=\"dbconsultant\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"0\">", cases.len());
    let _ = writeln!(
        out,
        "  <testsuite name=\"{} validation {}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"0\" timestamp=\"{}\" hostname=\"dbconsultant\" id=\"0\" package=\"dbconsultant\">",
        run.kind, esc(&run.test_run_id), cases.len(), esc(&timestamp)
    );
    let _ = writeln!(out, "    <properties>");
    for (k, v) in [
        ("test_run_id", run.test_run_id.clone()),
        ("status", run.status.to_string()),
        ("risk_score", run.risk_score.to_string()),
        ("environment", run.environment.to_string()),
        ("target", run.target.clone().unwrap_or_default()),
        ("summary", run.summary.clone()),
    ] {
        let _ = writeln!(out, "      <property name=\"{k}\" value=\"{}\"/>", esc(&v));
    }
    let _ = writeln!(out, "    </properties>");
    for c in &cases {
        let _ = write!(out, "    <testcase name=\"{}\" classname=\"{}\" time=\"0\">", esc(&c.name), esc(&c.classname));
        if let Some((message, kind, body)) = &c.failure {
            let _ = write!(out, "\n      <failure message=\"{}\" type=\"{}\">{}</failure>", esc(message), esc(kind), esc(body));
        }
        if let Some(o) = &c.output {
            let _ = write!(out, "\n      <system-out>{}</system-out>", esc(o));
        }
        let _ = writeln!(out, "\n    </testcase>");
    }
    let _ = writeln!(out, "    <system-out>{}</system-out>", esc(&run.summary));
    let _ = writeln!(out, "    <system-err></system-err>");
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn junit_snapshot() {
        insta::assert_snapshot!(super::render(&crate::report::fixtures::sample_run()));
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(super::esc("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos; ");
    }
}
