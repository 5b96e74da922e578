//! Parity with squawk, the reference PostgreSQL migration linter: for every squawk 2.70 rule,
//! `tests/fixtures/squawk-parity/<squawk-rule>.sql` holds a statement squawk flags with that
//! rule, and its first line names the dbconsultant finding ids that cover it. The test runs
//! the real squawk (scripts/test.sh installs `squawk-cli` from PyPI; DBCONSULTANT_SQUAWK) and
//! our CLI on each file: squawk must report its rule (the fixture is right) and we must report
//! every mapped id. docs/squawk-parity.md lists the same mapping; the test keeps them equal.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;

fn squawk() -> Option<String> {
    match std::env::var("DBCONSULTANT_SQUAWK") {
        Ok(path) => Some(path),
        Err(_) if std::env::var_os("DBCONSULTANT_SKIP_SQUAWK").is_some() => None,
        Err(_) => {
            panic!("DBCONSULTANT_SQUAWK is not set: run the tests through scripts/test.sh (or set DBCONSULTANT_SKIP_SQUAWK=1 locally)")
        }
    }
}

/// squawk rule -> (fixture path, our ids)
fn fixtures() -> BTreeMap<String, (std::path::PathBuf, Vec<String>)> {
    let dir = repo().join("tests/fixtures/squawk-parity");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let ours = text.lines().next().and_then(|l| l.strip_prefix("-- dbconsultant:")).expect("first line: -- dbconsultant: ids");
        let ids = ours.split(',').map(|s| s.trim().to_string()).collect();
        out.insert(path.file_stem().unwrap().to_string_lossy().into_owned(), (path, ids));
    }
    out
}

#[test]
fn every_squawk_rule_has_a_dbconsultant_finding() {
    let Some(squawk) = squawk() else { return };
    let env = Env::new();
    let mut missing = Vec::new();
    for (rule, (path, ours)) in fixtures() {
        let file = path.display().to_string();
        let out = Command::new(&squawk).args(["--reporter", "json", "--include", "require-table-schema", &file]).output().unwrap();
        let reported: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("squawk on {rule}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        let squawk_rules: Vec<&str> = reported.as_array().unwrap().iter().filter_map(|v| v["rule_name"].as_str()).collect();
        assert!(squawk_rules.contains(&rule.as_str()), "the fixture for {rule} must make squawk report it; squawk said {squawk_rules:?}");

        let ours_out = env.cmd(&[
            "schema",
            "lint",
            "--dialect",
            "postgres",
            "--format",
            "json",
            "--enable",
            "prefer-robust-stmts",
            "--enable",
            "require-table-schema",
            &file,
        ]);
        let doc = json(&ours_out);
        let found: Vec<&str> = doc["findings"].as_array().unwrap().iter().filter_map(|f| f["rule"].as_str()).collect();
        for id in &ours {
            if !found.contains(&id.as_str()) {
                missing.push(format!("{rule} -> {id} (we reported {found:?})"));
            }
        }
    }
    assert!(missing.is_empty(), "squawk rules we do not cover:\n{}", missing.join("\n"));
}

#[test]
fn the_parity_document_lists_every_fixture() {
    let doc = std::fs::read_to_string(repo().join("docs/squawk-parity.md")).unwrap();
    let rows: BTreeMap<String, Vec<String>> = doc
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let squawk = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let ours = cells.get(2)?.split(',').map(|s| s.trim().trim_matches('`').to_string()).collect();
            Some((squawk.to_string(), ours))
        })
        .collect();
    let fixtures: BTreeMap<String, Vec<String>> = fixtures().into_iter().map(|(k, (_, ids))| (k, ids)).collect();
    assert_eq!(rows, fixtures, "docs/squawk-parity.md and tests/fixtures/squawk-parity disagree");
}
