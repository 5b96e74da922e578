//! SARIF 2.1.0, for GitHub code scanning and other static-analysis dashboards.

use serde_json::{json, Value};

use crate::findings::FindingId;
use crate::model::{Severity, TestRun};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

pub fn render(run: &TestRun) -> String {
    // Every finding the product knows, so results can point at them by index.
    let rule_objects: Vec<Value> = FindingId::ALL
        .iter()
        .map(|id| {
            let doc = id.doc();
            json!({
                "id": id.as_str(),
                "name": id.as_str(),
                "shortDescription": {"text": doc.summary},
                "fullDescription": {"text": doc.details},
                "help": {
                    "text": format!("Instead of:\n{}\n\nSafer:\n{}", doc.bad, doc.good),
                    "markdown": format!("Instead of:\n```sql\n{}\n```\nSafer:\n```sql\n{}\n```", doc.bad, doc.good),
                },
                "defaultConfiguration": {"level": level(doc.severity)},
                "properties": {"severity": doc.severity.as_str(), "scope": doc.scope.label()},
            })
        })
        .collect();
    let results: Vec<Value> = run
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": match &f.suggestion {
                    Some(s) => format!("{} Safer: {s}", f.message),
                    None => f.message.clone(),
                }},
                "properties": {"severity": f.severity.as_str()},
            });
            if let Some(index) = FindingId::ALL.iter().position(|id| *id == f.rule) {
                result["ruleIndex"] = json!(index);
            }
            if let Some(statement) = f.statement {
                result["properties"]["statement"] = json!(statement);
            }
            if let Some(file) = f.file.as_ref().filter(|f| !f.starts_with('<')) {
                let mut region = json!({});
                if let Some(l) = f.line.filter(|l| *l > 0) {
                    region["startLine"] = json!(l);
                }
                if let Some(c) = f.column.filter(|c| *c > 0) {
                    region["startColumn"] = json!(c);
                }
                let mut physical = json!({"artifactLocation": {"uri": file}});
                if region.as_object().is_some_and(|r| !r.is_empty()) {
                    physical["region"] = region;
                }
                result["locations"] = json!([{"physicalLocation": physical}]);
            }
            if !f.sample_records.is_empty() {
                result["properties"]["sampleRecords"] = json!(f.sample_records);
            }
            if let Some(s) = &f.suppressed {
                // An in-source suppression, pointing at the ignore comment.
                let mut suppression = json!({
                    "kind": "inSource",
                    "status": "accepted",
                    "location": {"physicalLocation": {"artifactLocation": {"uri": s.file}, "region": {"startLine": s.line}}},
                });
                if let Some(reason) = &s.reason {
                    suppression["justification"] = json!(reason);
                }
                result["suppressions"] = json!([suppression]);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "dbconsultant",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/dbconsultant/dbconsultant",
                "rules": rule_objects,
            }},
            "automationDetails": {"id": format!("dbconsultant/{}/{}", run.kind, run.test_run_id)},
            "results": results,
            "properties": {
                "testRunId": run.test_run_id,
                "status": run.status.as_str(),
                "riskScore": run.risk_score,
                "summary": run.summary,
            },
        }],
    });
    serde_json::to_string_pretty(&doc).expect("SARIF always serializes") + "\n"
}

#[cfg(test)]
mod tests {
    #[test]
    fn sarif_points_results_at_rules_and_lines() {
        let out: serde_json::Value = serde_json::from_str(&super::render(&crate::report::fixtures::sample_run())).unwrap();
        let run = &out["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        let idx = results[0]["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(run["tool"]["driver"]["rules"][idx]["id"], results[0]["ruleId"]);
        assert_eq!(results[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 4);
        assert_eq!(results[1]["level"], "error");
        assert!(results[1].get("locations").is_none());
    }
}
