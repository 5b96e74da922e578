//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding, so
//! the findings appear as annotations on the pull request's diff without any upload step.
//! Format: `::error file=F,line=L,col=C,title=T::MESSAGE`, with `%`, CR and LF escaped in the
//! message and also `:` and `,` in property values (GitHub's documented escaping).

use crate::model::{Severity, TestRun};

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(run: &TestRun) -> String {
    let mut out = String::new();
    // Suppressed findings are not annotated: the ignore comment says someone looked.
    for f in run.findings.iter().filter(|f| f.suppressed.is_none()) {
        let mut props = Vec::new();
        if let Some(file) = f.file.as_deref().filter(|f| !f.starts_with('<')) {
            props.push(format!("file={}", escape_property(file)));
            if let Some(line) = f.line.filter(|l| *l > 0) {
                props.push(format!("line={line}"));
                if let Some(col) = f.column.filter(|c| *c > 0) {
                    props.push(format!("col={col}"));
                }
            }
        }
        props.push(format!("title={}", escape_property(&format!("dbconsultant {} ({})", f.rule, f.severity))));
        let message = match &f.suggestion {
            Some(s) => format!("{}\nSafer: {s}", f.message),
            None => f.message.clone(),
        };
        out.push_str(&format!("::{} {}::{}\n", command(f.severity), props.join(","), escape_data(&message)));
    }
    let status = format!("dbconsultant {}: {} (risk {}/100)", run.status, run.summary, run.risk_score);
    out.push_str(&format!("::notice title=dbconsultant::{}\n", escape_data(&status)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::sample_run;

    /// Every line is a workflow command GitHub parses: `::name key=value,...::message`, with
    /// no raw newline inside, and the documented escapes.
    #[test]
    fn lines_are_workflow_commands() {
        let mut run = sample_run();
        run.findings[0].message = "100% sure: a, b\nnext line".into();
        let text = render(&run);
        let shape = regex::Regex::new(r"^::(error|warning|notice)( [a-z]+=[^,:\n]*(,[a-z]+=[^,:\n]*)*)?::[^\n\r]*$").unwrap();
        for line in text.lines() {
            assert!(shape.is_match(line), "not a workflow command: {line}");
        }
        assert_eq!(text.lines().count(), run.findings.len() + 1);
        assert!(text.contains("100%25 sure: a, b%0Anext line"), "{text}");
        assert!(text.contains("title=dbconsultant "), "{text}");
    }

    #[test]
    fn suppressed_findings_are_not_annotated() {
        let mut run = sample_run();
        let n = run.findings.len();
        run.findings[0].suppressed =
            Some(crate::model::Suppression { scope: "statement".into(), file: "m.sql".into(), line: 1, reason: None });
        assert_eq!(render(&run).lines().count(), n);
    }
}
