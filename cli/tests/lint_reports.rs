//! Inline ignores and the CI report formats, end to end through the binary: a suppressed
//! finding stays in JSON (and as a SARIF suppression) but no longer counts; `--format github`
//! prints workflow commands; `--format gitlab` is a code quality report of GitLab's
//! documented shape.

mod common;

use common::*;

const MIGRATION: &str = "\
CREATE TABLE archive (id bigint PRIMARY KEY);
-- dbconsultant-ignore: ban-drop-table -- archived to cold storage in ticket OPS-12
DROP TABLE legacy_orders;
-- dbconsultant-ignore: ban-drop-tabel
DROP TABLE legacy_customers;
";

fn write(env: &Env, name: &str, sql: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, sql).unwrap();
    path.display().to_string()
}

fn lint(env: &Env, file: &str, format: &str) -> std::process::Output {
    env.cmd(&["schema", "lint", "--dialect", "postgres", "--format", format, file])
}

#[test]
fn ignored_findings_stay_visible_and_count_nothing() {
    let env = Env::new();
    let with = write(&env, "with.sql", MIGRATION);
    let without = write(&env, "without.sql", &MIGRATION.lines().filter(|l| !l.starts_with("--")).collect::<Vec<_>>().join("\n"));
    let ignored = json(&lint(&env, &with, "json"));
    let plain = json(&lint(&env, &without, "json"));

    let drops = |doc: &serde_json::Value| -> Vec<serde_json::Value> {
        doc["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "ban-drop-table").cloned().collect()
    };
    let (d, p) = (drops(&ignored), drops(&plain));
    assert_eq!((d.len(), p.len()), (2, 2), "both drops are still reported");
    assert_eq!(d[0]["suppressed"]["scope"], "statement");
    assert_eq!(d[0]["suppressed"]["line"], 2);
    assert_eq!(d[0]["suppressed"]["reason"], "archived to cold storage in ticket OPS-12");
    assert!(d[1].get("suppressed").is_none(), "the second ignore names a typo: nothing suppressed");

    let unused: Vec<_> = ignored["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "unused-ignore").collect();
    assert_eq!(unused.len(), 1, "{ignored:#}");
    assert_eq!((unused[0]["severity"].as_str(), unused[0]["line"].as_u64()), (Some("low"), Some(4)));
    assert!(unused[0]["message"].as_str().unwrap().contains("ban-drop-tabel"));

    let points = |doc: &serde_json::Value, rule: &str| -> u64 {
        doc["risk_breakdown"].as_array().unwrap().iter().filter(|c| c["rule"] == rule).map(|c| c["points"].as_u64().unwrap()).sum()
    };
    assert!(points(&ignored, "ban-drop-table") < points(&plain, "ban-drop-table"), "one drop fewer counts: {ignored:#} vs {plain:#}");
    assert!(ignored["risk_breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["reason"].as_str().unwrap().starts_with("1 ") || c["rule"] != "ban-drop-table"));
}

#[test]
fn a_file_ignore_can_turn_a_failing_lint_green() {
    let env = Env::new();
    let sql = "DROP TABLE legacy_orders;\n";
    let failing = write(&env, "fail.sql", sql);
    assert_eq!(code(&env.cmd(&["schema", "lint", "--dialect", "postgres", "--fail-above", "0", &failing])), 1);
    let ignored = write(&env, "ok.sql", &format!("-- dbconsultant-ignore-file: ban-drop-table -- decommissioned service\n{sql}"));
    let out = env.cmd(&["schema", "lint", "--dialect", "postgres", "--fail-above", "0", "--format", "json", &ignored]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(json(&out)["risk_score"], 0);
}

#[test]
fn sarif_marks_suppressions_in_source() {
    let Some(validator) = sarif_validator() else { return };
    let env = Env::new();
    let file = write(&env, "m.sql", MIGRATION);
    let doc = json(&lint(&env, &file, "sarif"));
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<_> = results.iter().filter(|r| r.get("suppressions").is_some()).collect();
    assert_eq!(suppressed.len(), 1);
    let s = &suppressed[0]["suppressions"][0];
    assert_eq!(s["kind"], "inSource");
    assert_eq!(s["justification"], "archived to cold storage in ticket OPS-12");
    assert_eq!(s["location"]["physicalLocation"]["region"]["startLine"], 2);
}

#[test]
fn github_format_prints_workflow_commands() {
    let env = Env::new();
    let file = write(&env, "m.sql", MIGRATION);
    let out = lint(&env, &file, "github");
    let text = stdout(&out);
    let shape = regex::Regex::new(r"^::(error|warning|notice)( [a-z]+=[^,:\n]*(,[a-z]+=[^,:\n]*)*)?::[^\n\r]+$").unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 3, "{text}");
    for line in &lines {
        assert!(shape.is_match(line), "not a workflow command: {line}");
    }
    // The drop on line 5 is annotated at its file and line; the ignored one on line 3 is not.
    let escaped_path = file.replace(':', "%3A").replace(',', "%2C");
    assert!(lines.iter().any(|l| l.starts_with("::error ") && l.contains(&format!("file={escaped_path},line=5,"))), "{text}");
    assert!(!lines.iter().any(|l| l.contains(",line=3,")), "suppressed findings are not annotated: {text}");
    assert!(lines.last().unwrap().starts_with("::notice title=dbconsultant::"), "a closing summary: {text}");
}

#[test]
fn gitlab_format_is_a_code_quality_report() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/fixtures/schemas/gitlab-code-quality.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let env = Env::new();
    let file = write(&env, "m.sql", MIGRATION);
    let doc = json(&lint(&env, &file, "gitlab"));
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    let issues = doc.as_array().unwrap();
    assert!(issues.iter().any(|i| i["check_name"] == "dbconsultant/ban-drop-table" && i["location"]["lines"]["begin"] == 5), "{doc:#}");
    assert!(!issues.iter().any(|i| i["location"]["lines"]["begin"] == 3), "suppressed findings are left out");
    let fingerprints: std::collections::HashSet<&str> = issues.iter().map(|i| i["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");
    // The schema is not a formality: a wrong severity fails it.
    let mut broken = doc.clone();
    broken[0]["severity"] = serde_json::json!("error");
    assert!(!validator.is_valid(&broken));
}
