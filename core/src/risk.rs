//! The deterministic risk score (0–100) and its explanation.
//!
//! Formula (documented in the README):
//! * each rule contributes its severity weight (critical 40, high 20, medium 8, low 3,
//!   info 0) for its first finding, plus a quarter of that weight for every further finding,
//!   capped at twice the weight;
//! * schema changes contribute per compatibility class: destructive 15 for the first plus 5
//!   per further change (cap 30), breaking 8 plus 2 per further change (cap 16);
//! * the score is the sum, capped at 100.
//!
//! Contributions are listed largest first, ties by name, so the breakdown is stable.

use std::collections::BTreeMap;

use crate::model::{Compatibility, Finding, RiskContribution, SchemaChange, Severity};

pub fn severity_weight(severity: Severity) -> u32 {
    match severity {
        Severity::Critical => 40,
        Severity::High => 20,
        Severity::Medium => 8,
        Severity::Low => 3,
        Severity::Info => 0,
    }
}

fn repeated(first: u32, each_more: u32, cap: u32, count: u32) -> u32 {
    (first + each_more * count.saturating_sub(1)).min(cap)
}

pub fn score(findings: &[Finding], changes: &[SchemaChange]) -> (u32, Vec<RiskContribution>) {
    // rule -> (highest severity, count)
    let mut by_rule: BTreeMap<&str, (Severity, u32)> = BTreeMap::new();
    for f in findings {
        let entry = by_rule.entry(f.rule.as_str()).or_insert((f.severity, 0));
        entry.0 = entry.0.max(f.severity);
        entry.1 += 1;
    }
    let mut breakdown: Vec<RiskContribution> = by_rule
        .into_iter()
        .filter_map(|(rule, (severity, count))| {
            let w = severity_weight(severity);
            let points = repeated(w, w / 4, w * 2, count);
            (points > 0).then(|| RiskContribution {
                rule: rule.to_string(),
                points,
                reason: format!("{count} {severity} finding{}", if count == 1 { "" } else { "s" }),
            })
        })
        .collect();
    for (class, first, more, cap) in [(Compatibility::Destructive, 15, 5, 30), (Compatibility::Breaking, 8, 2, 16)] {
        let count = changes.iter().filter(|c| c.compatibility_status == class).count() as u32;
        if count > 0 {
            breakdown.push(RiskContribution {
                rule: format!("schema-change:{class}"),
                points: repeated(first, more, cap, count),
                reason: format!("{count} {class} schema change{}", if count == 1 { "" } else { "s" }),
            });
        }
    }
    breakdown.sort_by(|a, b| b.points.cmp(&a.points).then_with(|| a.rule.cmp(&b.rule)));
    let total = breakdown.iter().map(|c| c.points).sum::<u32>().min(100);
    (total, breakdown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::FindingId;
    use crate::model::{ChangeType, ObjectType};

    fn finding(rule: FindingId, severity: Severity) -> Finding {
        Finding {
            rule,
            severity,
            message: String::new(),
            statement: None,
            line: None,
            column: None,
            suggestion: None,
            file: None,
            sample_records: vec![],
        }
    }

    #[test]
    fn repeats_add_less_and_total_is_capped() {
        let (a, b) = (FindingId::BanDropColumn, FindingId::RequireLockTimeout);
        let f = vec![finding(a, Severity::High), finding(a, Severity::High), finding(b, Severity::Low)];
        let (score, breakdown) = score(&f, &[]);
        assert_eq!(score, 20 + 5 + 3);
        assert_eq!(breakdown[0].rule, "ban-drop-column");
        let many: Vec<_> = FindingId::ALL[..10].iter().map(|id| finding(*id, Severity::Critical)).collect();
        assert_eq!(super::score(&many, &[]).0, 100);
    }

    #[test]
    fn destructive_changes_count() {
        let c = SchemaChange {
            object_type: ObjectType::Table,
            table_name: "t".into(),
            name: "t".into(),
            change_type: ChangeType::Removed,
            compatibility_status: Compatibility::Destructive,
            details: String::new(),
        };
        assert_eq!(score(&[], &[c.clone(), c]).0, 20);
        assert_eq!(score(&[], &[]).0, 0);
    }
}
