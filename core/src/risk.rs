//! The deterministic risk score (0–100) and its explanation.
//!
//! The worst finding sets the band, so a score reads the same everywhere: critical 70–100,
//! high 50–69, medium 25–49, low 10–24, info alone 0–9. Schema changes count like findings:
//! a destructive change as high, a breaking one as medium. Within its band the score rises
//! with everything else found:
//! * each rule contributes its severity weight — critical 40, high 20, medium 8, low 3,
//!   info 1 — for its first finding, plus a quarter of that weight for every further
//!   finding, capped at twice the weight;
//! * schema changes contribute per class: destructive 15 for the first plus 5 per further
//!   change (cap 30), breaking 8 plus 2 per further change (cap 16);
//! * score = band floor + (sum of contributions − the worst one's weight), capped at the
//!   band's ceiling.
//!
//! Adding a finding never lowers the score (tested), so a run that fails in the sandbox never
//! scores below a passing run with the same findings. Contributions are listed largest
//! first, ties by name, so the breakdown is stable.

use std::collections::BTreeMap;

use crate::model::{Compatibility, Finding, RiskContribution, SchemaChange, Severity};

pub fn severity_weight(severity: Severity) -> u32 {
    match severity {
        Severity::Critical => 40,
        Severity::High => 20,
        Severity::Medium => 8,
        Severity::Low => 3,
        Severity::Info => 1,
    }
}

/// The score range of a worst severity.
pub fn band(severity: Severity) -> (u32, u32) {
    match severity {
        Severity::Critical => (70, 100),
        Severity::High => (50, 69),
        Severity::Medium => (25, 49),
        Severity::Low => (10, 24),
        Severity::Info => (0, 9),
    }
}

fn repeated(first: u32, each_more: u32, cap: u32, count: u32) -> u32 {
    (first + each_more * count.saturating_sub(1)).min(cap)
}

pub fn score(findings: &[Finding], changes: &[SchemaChange]) -> (u32, Vec<RiskContribution>) {
    // rule -> (highest severity, count)
    let mut by_rule: BTreeMap<&str, (Severity, u32)> = BTreeMap::new();
    // A finding an inline ignore suppressed stays in the report and counts nothing.
    for f in findings.iter().filter(|f| f.suppressed.is_none()) {
        let entry = by_rule.entry(f.rule.as_str()).or_insert((f.severity, 0));
        entry.0 = entry.0.max(f.severity);
        entry.1 += 1;
    }
    // (severity, contribution)
    let mut parts: Vec<(Severity, RiskContribution)> = by_rule
        .into_iter()
        .map(|(rule, (severity, count))| {
            let w = severity_weight(severity);
            let reason = format!("{count} {severity} finding{}", if count == 1 { "" } else { "s" });
            (severity, RiskContribution { rule: rule.to_string(), points: repeated(w, w / 4, w * 2, count), reason })
        })
        .collect();
    for (class, as_severity, first, more, cap) in
        [(Compatibility::Destructive, Severity::High, 15, 5, 30), (Compatibility::Breaking, Severity::Medium, 8, 2, 16)]
    {
        let count = changes.iter().filter(|c| c.compatibility_status == class).count() as u32;
        if count > 0 {
            let reason = format!("{count} {class} schema change{}", if count == 1 { "" } else { "s" });
            parts.push((
                as_severity,
                RiskContribution { rule: format!("schema-change:{class}"), points: repeated(first, more, cap, count), reason },
            ));
        }
    }
    let Some(worst) = parts.iter().map(|(s, _)| *s).max() else { return (0, Vec::new()) };
    parts.sort_by(|a, b| b.1.points.cmp(&a.1.points).then_with(|| a.1.rule.cmp(&b.1.rule)));
    let (floor, ceiling) = band(worst);
    // The worst contribution's own weight is the band's floor; what lies beyond it, and every
    // other contribution, lifts the score within the band, up to its ceiling.
    if let Some((_, c)) = parts.iter_mut().find(|(s, _)| *s == worst) {
        c.points -= severity_weight(worst).min(c.points);
    }
    let mut room = ceiling - floor;
    let mut breakdown = vec![RiskContribution {
        rule: format!("band:{worst}"),
        points: floor,
        reason: format!("the worst finding is {worst}: scores {floor}–{ceiling}"),
    }];
    for (_, mut c) in parts {
        if c.points > room {
            c.reason = format!("{} (capped: the band is full)", c.reason);
            c.points = room;
        }
        room -= c.points;
        breakdown.push(c);
    }
    let total = breakdown.iter().map(|c| c.points).sum();
    (total, breakdown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::FindingId;
    use crate::model::{ChangeType, ObjectType};
    use proptest::prelude::*;

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
            suppressed: None,
        }
    }

    fn change(class: Compatibility) -> SchemaChange {
        SchemaChange {
            object_type: ObjectType::Table,
            table_name: "t".into(),
            name: "t".into(),
            change_type: ChangeType::Removed,
            compatibility_status: class,
            details: String::new(),
        }
    }

    #[test]
    fn the_worst_finding_sets_the_band() {
        let s = |f: &[Finding]| score(f, &[]).0;
        assert_eq!(s(&[finding(FindingId::DeleteWithoutWhere, Severity::Critical)]), 70);
        assert_eq!(s(&[finding(FindingId::UpdateWithoutWhere, Severity::High)]), 50);
        assert_eq!(s(&[finding(FindingId::BanDropColumn, Severity::High)]), 50);
        assert_eq!(s(&[finding(FindingId::SettingNotNull, Severity::Medium)]), 25);
        assert_eq!(s(&[finding(FindingId::RequireLockTimeout, Severity::Low)]), 10);
        assert_eq!(s(&[finding(FindingId::SandboxNote, Severity::Info)]), 0);
        assert_eq!(s(&[]), 0);
    }

    #[test]
    fn further_findings_raise_the_score_within_the_band() {
        let (a, b) = (FindingId::BanDropColumn, FindingId::RequireLockTimeout);
        let f = vec![finding(a, Severity::High), finding(a, Severity::High), finding(b, Severity::Low)];
        let (total, breakdown) = score(&f, &[]);
        assert_eq!(total, 50 + 5 + 3);
        assert_eq!(breakdown[0].rule, "band:high");
        assert_eq!(breakdown.iter().map(|c| c.points).sum::<u32>(), total, "the breakdown adds up to the score");
        let many: Vec<_> = FindingId::ALL[..20].iter().map(|id| finding(*id, Severity::Medium)).collect();
        assert_eq!(score(&many, &[]).0, 49, "capped at the band's ceiling");
        let critical: Vec<_> = FindingId::ALL[..10].iter().map(|id| finding(*id, Severity::Critical)).collect();
        assert_eq!(score(&critical, &[]).0, 100);
    }

    #[test]
    fn schema_changes_count_as_findings() {
        assert_eq!(score(&[], &[change(Compatibility::Destructive), change(Compatibility::Destructive)]).0, 50 + 20 - 20);
        assert_eq!(score(&[], &[change(Compatibility::Breaking)]).0, 25);
        assert_eq!(score(&[], &[change(Compatibility::Compatible)]).0, 0);
    }

    fn severity() -> impl Strategy<Value = Severity> {
        prop::sample::select(Severity::ALL.to_vec())
    }

    proptest! {
        /// Adding a finding never lowers the score: a run that fails in the sandbox (one more,
        /// critical, finding) never scores below the passing run with the same findings.
        #[test]
        fn adding_a_finding_never_lowers_the_score(
            existing in prop::collection::vec((0usize..30, severity()), 0..12),
            added in (0usize..30, severity()),
        ) {
            let make = |(i, s): (usize, Severity)| finding(FindingId::ALL[i], s);
            let before: Vec<Finding> = existing.iter().copied().map(make).collect();
            let mut after = before.clone();
            after.push(make(added));
            prop_assert!(score(&after, &[]).0 >= score(&before, &[]).0);
            let (total, breakdown) = score(&after, &[]);
            prop_assert!(total <= 100);
            let worst = after.iter().map(|f| f.severity).max().unwrap();
            let (lo, hi) = band(worst);
            prop_assert!(total >= lo && total <= hi);
            prop_assert_eq!(breakdown[0].points, lo);
            prop_assert_eq!(breakdown.iter().map(|c| c.points).sum::<u32>(), total);
        }
    }
}
