//! The one-line summary of a schema run, e.g. "Index addition detected, no breaking change."

use crate::model::{ChangeType, Compatibility, Finding, ObjectType, SchemaChange, Severity};

pub fn summarize(changes: &[SchemaChange], findings: &[Finding], failure: Option<&Finding>) -> String {
    if let Some(f) = failure {
        // The finding reads "statement N fails ...: <database message>"; keep the database's words.
        let reason = f.message.split_once(": ").map(|(_, r)| r).unwrap_or(&f.message);
        return format!("Migration fails in the sandbox at statement {}: {}.", f.statement.unwrap_or(0), reason.trim_end_matches('.'));
    }
    let mut kinds: Vec<String> = Vec::new();
    for c in changes {
        let object = match c.object_type {
            ObjectType::Table => "table",
            ObjectType::Column => "column",
            ObjectType::Index => "index",
            ObjectType::Constraint => "constraint",
            ObjectType::View => "view",
            ObjectType::Type => "type",
        };
        let action = match (c.change_type, c.details.contains("renamed")) {
            (_, true) => "rename",
            (ChangeType::Added, _) => "addition",
            (ChangeType::Removed, _) => "removal",
            (ChangeType::Modified, _) => "change",
        };
        let phrase = format!("{object} {action}");
        if !kinds.contains(&phrase) {
            kinds.push(phrase);
        }
    }
    let what = match kinds.len() {
        0 => "No schema change detected".to_string(),
        1 => format!("{} detected", capitalize(&kinds[0])),
        2 => format!("{} and {} detected", capitalize(&kinds[0]), kinds[1]),
        n => format!("{}, {} and {} more change kind{} detected", capitalize(&kinds[0]), kinds[1], n - 2, if n == 3 { "" } else { "s" }),
    };
    let count = |class| changes.iter().filter(|c| c.compatibility_status == class).count();
    let plural = |n: usize, word: &str| format!("{n} {word} change{}", if n == 1 { "" } else { "s" });
    let (destructive, breaking) = (count(Compatibility::Destructive), count(Compatibility::Breaking));
    let compat = match (destructive, breaking) {
        (0, 0) => "no breaking change".to_string(),
        (0, b) => plural(b, "breaking"),
        (d, 0) => plural(d, "destructive"),
        (d, b) => format!("{} and {}", plural(d, "destructive"), plural(b, "breaking")),
    };
    let active: Vec<&Finding> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
    let worst = active.iter().filter(|f| f.severity > Severity::Info).max_by_key(|f| f.severity);
    match worst {
        Some(f) => {
            let n = active.iter().filter(|x| x.severity == f.severity).count();
            format!("{what}, {compat}; {n} {} finding{} ({}).", f.severity, if n == 1 { "" } else { "s" }, f.rule)
        }
        None => format!("{what}, {compat}."),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_addition_reads_like_the_seed() {
        let c = SchemaChange {
            object_type: ObjectType::Index,
            table_name: "users".into(),
            name: "ix".into(),
            change_type: ChangeType::Added,
            compatibility_status: Compatibility::Compatible,
            details: "index on (email)".into(),
        };
        assert_eq!(summarize(&[c], &[], None), "Index addition detected, no breaking change.");
        assert_eq!(summarize(&[], &[], None), "No schema change detected, no breaking change.");
    }
}
