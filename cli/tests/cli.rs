//! The `dbconsultant` command: exit codes, formats (validated against their schemas), bad
//! input and secrets.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("shop.db");
        let status = Command::new("python3")
            .arg(repo().join("examples/make_shop_db.py"))
            .arg(&db)
            .status()
            .expect("python3 builds the example database");
        assert!(status.success());
        Env { dir, db }
    }

    fn cmd(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_dbconsultant"))
            .args(args)
            .current_dir(self.dir.path())
            .env("DBCONSULTANT_STORE", self.dir.path().join("store.db"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    fn db_url(&self) -> String {
        format!("sqlite://{}", self.db.display())
    }

    fn validate(&self, migration: &str, extra: &[&str]) -> Output {
        let m = repo().join("examples/migrations").join(migration);
        let url = self.db_url();
        let mut args = vec!["schema", "validate", "--db", url.as_str()];
        args.extend_from_slice(extra);
        let m = m.display().to_string();
        args.push(&m);
        self.cmd(&args)
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// A schema file the test command fetches from a package registry; missing means the test
/// command was not used. Only an explicit opt-out skips.
fn schema_file(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("DBCONSULTANT_SKIP_SCHEMA_VALIDATION").is_some() => {
            eprintln!("skipping: {var} not set and DBCONSULTANT_SKIP_SCHEMA_VALIDATION is");
            None
        }
        None => panic!("{var} is not set: run the tests through scripts/test.sh (or set DBCONSULTANT_SKIP_SCHEMA_VALIDATION=1 locally)"),
    }
}

#[test]
fn exit_codes_follow_the_spec() {
    let env = Env::new();
    let safe = env.validate("001_index_order_status.sql", &[]);
    assert_eq!(code(&safe), 0, "{}{}", stdout(&safe), stderr(&safe));
    assert!(stdout(&safe).contains("Index addition detected, no breaking change."));
    assert_eq!(code(&env.validate("002_unique_customer_email.sql", &[])), 1);
    assert_eq!(code(&env.validate("001_index_order_status.sql", &["--require-approval"])), 2);
    // Over the threshold: a high finding alone is not critical, but 20 > 10.
    let renamed = env.dir.path().join("rename.sql");
    std::fs::write(&renamed, "ALTER TABLE customers RENAME COLUMN phone TO phone_number;").unwrap();
    let url = env.db_url();
    let r = renamed.display().to_string();
    assert_eq!(code(&env.cmd(&["schema", "validate", "--db", &url, &r])), 0);
    assert_eq!(code(&env.cmd(&["schema", "validate", "--db", &url, "--fail-above", "10", &r])), 1);
}

#[test]
fn approval_flow_through_runs_commands() {
    let env = Env::new();
    let out = env.validate("001_index_order_status.sql", &["--require-approval", "--format", "json"]);
    assert_eq!(code(&out), 2);
    let id = json(&out)["test_run_id"].as_str().unwrap().to_string();
    let listed = env.cmd(&["runs", "list", "--status", "pending_approval", "--format", "json"]);
    assert_eq!(json(&listed)[0]["test_run_id"], id.as_str());
    let approve = env.cmd(&["runs", "approve", &id, "--by", "alice", "--comment", "index is fine"]);
    assert_eq!(code(&approve), 0, "{}", stderr(&approve));
    let shown = env.cmd(&["runs", "show", &id, "--format", "json"]);
    let doc = json(&shown);
    assert_eq!(doc["status"], "approved");
    assert_eq!(doc["approved_by"], "alice");
    let text = stdout(&env.cmd(&["runs", "show", &id]));
    assert!(text.contains("approved") && text.contains("alice") && text.contains("Audit trail"), "{text}");
    // Deciding twice is an approval-state error: one line, exit 3.
    let twice = env.cmd(&["runs", "reject", &id, "--by", "bob"]);
    assert_eq!(code(&twice), 3);
    let err = stderr(&twice);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("is approved by alice"), "{err}");
}

#[test]
fn bad_input_is_one_line_and_exit_3() {
    let env = Env::new();
    let url = env.db_url();
    let empty = env.dir.path().join("empty.sql");
    std::fs::write(&empty, "-- nothing here\n").unwrap();
    let text_file = env.dir.path().join("notes.txt");
    std::fs::write(&text_file, "just text, not a database file at all, long enough").unwrap();
    let m = repo().join("examples/migrations/001_index_order_status.sql").display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["schema".into(), "validate".into(), "--db".into(), url.clone(), "missing.sql".into()], "cannot read migration missing.sql"),
        (vec!["schema".into(), "validate".into(), "--db".into(), url.clone(), empty.display().to_string()], "is empty"),
        (vec!["schema".into(), "lint".into(), "--dialect".into(), "oracle".into(), m.clone()], "unknown dialect 'oracle'"),
        (vec!["schema".into(), "validate".into(), "--db".into(), "shop.db".into(), m.clone()], "malformed database URL"),
        (
            vec!["schema".into(), "validate".into(), "--db".into(), format!("sqlite://{}", text_file.display()), m.clone()],
            "not a readable SQLite database",
        ),
        (
            vec!["schema".into(), "validate".into(), "--db".into(), "sqlite://nowhere/none.db".into(), m.clone()],
            "cannot open database file",
        ),
        (vec!["runs".into(), "show".into(), "4b1e0e7e-0000-4000-8000-000000000000".into()], "no test run with id"),
        (
            vec!["schema".into(), "validate".into(), "--db".into(), url.clone(), "--format".into(), "yaml".into(), m.clone()],
            "unknown format 'yaml'",
        ),
        (
            vec!["schema".into(), "validate".into(), "--db".into(), url.clone(), "--disable".into(), "ban-everything".into(), m.clone()],
            "unknown rule 'ban-everything'",
        ),
        (
            vec!["schema".into(), "validate".into(), "--db".into(), url.clone(), "--env".into(), "production".into(), m.clone()],
            "unknown environment 'production'",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env.cmd(&args);
        let err = stderr(&out);
        assert_eq!(code(&out), 3, "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line expected, got {err}");
        assert!(err.starts_with("error: ") && err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // Nothing was stored by any of them.
    let listed = env.cmd(&["runs", "list", "--format", "json"]);
    assert_eq!(json(&listed), serde_json::json!([]));
}

#[test]
fn unparsable_sql_is_a_positioned_finding() {
    let env = Env::new();
    let bad = env.dir.path().join("bad.sql");
    std::fs::write(&bad, "CREATE INDEX ix ON orders (status);\n\nALTER TABLE orders ADD COLUMN;\n").unwrap();
    let b = bad.display().to_string();
    let out = env.cmd(&["schema", "lint", "--dialect", "sqlite", "--format", "json", &b]);
    assert_eq!(code(&out), 1);
    let doc = json(&out);
    let f = &doc["findings"][0];
    assert_eq!(f["rule"], "syntax-error");
    assert_eq!(f["line"], 3);
    assert_eq!(f["statement"], 2);
}

/// Guarantee 3 (docs/guarantees.md): a password in a URL never reaches output.
#[test]
fn passwords_are_redacted_from_errors() {
    let env = Env::new();
    let m = repo().join("examples/migrations/001_index_order_status.sql").display().to_string();
    for url in ["postgres://admin:hunter2@127.0.0.1:1/shop", "mysql://root:hunter2@127.0.0.1:1/shop", "oracle://u:hunter2@h/db"] {
        let out = env.cmd(&["schema", "validate", "--db", url, &m]);
        assert_eq!(code(&out), 3);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains("hunter2"), "{all}");
        assert!(all.contains("***") || all.contains("unknown scheme"), "{all}");
    }
}

#[test]
fn lint_postgres_reports_lock_hazards() {
    let env = Env::new();
    let f = repo().join("tests/fixtures/postgres_lock_hazards.sql").display().to_string();
    let out = env.cmd(&["schema", "lint", "--dialect", "postgres", "--format", "json", &f]);
    let doc = json(&out);
    let rules: Vec<&str> = doc["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    for expected in [
        "require-concurrent-index-creation",
        "concurrently-in-transaction",
        "constraint-missing-not-valid",
        "disallowed-unique-constraint",
        "adding-volatile-default",
        "setting-not-null",
        "changing-column-type",
        "require-lock-timeout",
        "require-concurrent-index-deletion",
        "prefer-bigint-primary-key",
        "prefer-timestamptz",
        "prefer-decimal-for-money",
    ] {
        assert!(rules.contains(&expected), "{expected} missing: {rules:?}");
    }
    assert_eq!(code(&out), 0, "no critical finding and no threshold: passes");
}

#[test]
fn config_file_and_flags_disable_rules() {
    let env = Env::new();
    let f = repo().join("tests/fixtures/postgres_lock_hazards.sql").display().to_string();
    let count = |out: &Output, rule: &str| json(out)["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == rule).count();
    let base = env.cmd(&["schema", "lint", "--format", "json", &f]);
    assert!(count(&base, "prefer-timestamptz") > 0);
    let flag = env.cmd(&["schema", "lint", "--format", "json", "--disable", "prefer-timestamptz", &f]);
    assert_eq!(count(&flag, "prefer-timestamptz"), 0);
    std::fs::write(
        env.dir.path().join("dbconsultant.toml"),
        "[rules]\ndisable = [\"require-lock-timeout\"]\n[policy]\nzero_delete = true\n",
    )
    .unwrap();
    let cfg = env.cmd(&["schema", "lint", "--format", "json", &f]);
    assert_eq!(count(&cfg, "require-lock-timeout"), 0);
    assert!(count(&cfg, "require-soft-delete-columns") > 0, "policy from the config file applies");
    std::fs::write(env.dir.path().join("dbconsultant.toml"), "[rules]\ndisabel = []\n").unwrap();
    let broken = env.cmd(&["schema", "lint", &f]);
    assert_eq!(code(&broken), 3);
    assert!(stderr(&broken).contains("dbconsultant.toml:2:1"), "{}", stderr(&broken));
}

#[test]
fn directory_inputs_are_read_in_name_order() {
    let env = Env::new();
    let dir = repo().join("examples/migrations").display().to_string();
    let out = env.cmd(&["schema", "lint", "--dialect", "sqlite", "--format", "json", &dir]);
    let doc = json(&out);
    let inputs: Vec<&str> = doc["inputs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(inputs.len(), 4);
    assert!(inputs.windows(2).all(|w| w[0] < w[1]), "{inputs:?}");
}

#[test]
fn junit_output_validates_against_the_junit_xsd() {
    let Some(xsd) = schema_file("DBCONSULTANT_JUNIT_XSD") else { return };
    let env = Env::new();
    for migration in ["001_index_order_status.sql", "002_unique_customer_email.sql", "003_cleanup_legacy.sql"] {
        let report = env.dir.path().join(format!("{migration}.xml"));
        let r = report.display().to_string();
        env.validate(migration, &["--format", "junit", "--output", &r]);
        let lint = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&xsd)
            .arg(&report)
            .output()
            .expect("xmllint is installed by scripts/test.sh");
        assert!(lint.status.success(), "{migration}: {}", String::from_utf8_lossy(&lint.stderr));
        let xml = std::fs::read_to_string(&report).unwrap();
        if migration.starts_with("003") {
            assert!(xml.contains("<failure"), "destructive changes fail test cases");
        }
    }
    // The validation itself can fail: a test case without its required name is rejected.
    let broken = env.dir.path().join("broken.xml");
    std::fs::write(
        &broken,
        "<testsuites><testsuite name=\"x\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase classname=\"c\"/></testsuite></testsuites>",
    )
    .unwrap();
    let lint = Command::new("xmllint").arg("--noout").arg("--schema").arg(&xsd).arg(&broken).output().unwrap();
    assert!(!lint.status.success(), "the XSD must reject a nameless test case");
}

#[test]
fn sarif_output_validates_against_the_sarif_schema() {
    let Some(schema_path) = schema_file("DBCONSULTANT_SARIF_SCHEMA") else { return };
    let mut schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    // The published 2.1.0 schema's `language` patterns end in an unescaped `]`, which
    // ECMA-262 regex checkers (jsonschema >= 0.30 validates patterns) reject; escape it.
    fn escape_bracket(v: &mut serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(o) => o
                .iter_mut()
                .map(|(k, v)| match v {
                    serde_json::Value::String(p) if k == "pattern" && p.ends_with("]?$") && !p.ends_with("\\]?$") => {
                        *p = format!("{}\\]?$", &p[..p.len() - 3]);
                        1
                    }
                    _ => escape_bracket(v),
                })
                .sum(),
            serde_json::Value::Array(a) => a.iter_mut().map(escape_bracket).sum(),
            _ => 0,
        }
    }
    assert_eq!(escape_bracket(&mut schema), 2, "the SARIF schema changed: revisit this fix-up");
    let validator = jsonschema::validator_for(&schema).expect("SARIF schema compiles");
    let env = Env::new();
    for migration in ["002_unique_customer_email.sql", "003_cleanup_legacy.sql", "004_orders_foreign_key.sql"] {
        let out = env.validate(migration, &["--format", "sarif"]);
        let doc = json(&out);
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{migration}: {errors:#?}");
        assert!(!doc["runs"][0]["results"].as_array().unwrap().is_empty());
        // The validation itself can fail: an unknown level is rejected.
        let mut broken = doc.clone();
        broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
        assert!(!validator.is_valid(&broken), "the schema must reject level=fatal");
    }
}

#[test]
fn json_and_markdown_formats() {
    let env = Env::new();
    let out = env.validate("003_cleanup_legacy.sql", &["--format", "json"]);
    let doc = json(&out);
    for field in [
        "test_run_id",
        "kind",
        "environment",
        "trigger_type",
        "status",
        "risk_score",
        "risk_breakdown",
        "summary",
        "created_at",
        "approved_by",
        "findings",
        "schema_changes",
        "integrity_results",
        "etl_results",
        "performance_metrics",
    ] {
        assert!(doc.get(field).is_some(), "run document lacks {field}");
    }
    let shown = env.cmd(&["runs", "show", doc["test_run_id"].as_str().unwrap(), "--format", "json"]);
    assert_eq!(json(&shown), doc, "the stored document is the one printed");
    let md = stdout(&env.validate("003_cleanup_legacy.sql", &["--format", "markdown"]));
    assert!(md.starts_with("### ❌ dbconsultant schema: failed"), "{md}");
    assert!(md.contains("| **critical** | `ban-drop-table` |"), "{md}");
}

#[test]
fn rules_command_lists_every_rule() {
    let env = Env::new();
    let out = stdout(&env.cmd(&["schema", "rules"]));
    for id in ["ban-drop-table", "require-concurrent-index-creation", "sqlite-unsupported-alter", "ban-hard-delete", "migration-fails"] {
        assert!(out.contains(id), "{id}");
    }
}

/// The servers scripts/test.sh starts; missing means the test command was not used.
fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("DBCONSULTANT_SKIP_SERVER_TESTS").is_some() => None,
        Err(_) => panic!("{var} is not set: run the tests through scripts/test.sh (or set DBCONSULTANT_SKIP_SERVER_TESTS=1 locally)"),
    }
}

#[test]
fn server_targets_through_the_cli_without_leaking_passwords() {
    let env = Env::new();
    let m = repo().join("examples/migrations/001_index_order_status.sql").display().to_string();
    let table = env.dir.path().join("table.sql");
    std::fs::write(&table, "CREATE TABLE dbc_cli_probe (id bigint PRIMARY KEY);").unwrap();
    let t = table.display().to_string();
    for var in ["DBCONSULTANT_TEST_POSTGRES_URL", "DBCONSULTANT_TEST_MYSQL_URL"] {
        let Some(admin) = server_url(var) else { continue };
        let mut url = url_with_password(&admin, "wrong-password");
        let out = env.cmd(&["schema", "validate", "--db", &url, &m]);
        assert_eq!(code(&out), 3, "{}", stderr(&out));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains("wrong-password") && all.contains(":***@"), "{all}");
        // The right password: a run in the sandbox (rolled back / scratch database).
        url = admin.clone();
        let out = env.cmd(&["schema", "validate", "--db", &url, "--sandbox-on-target", "--format", "json", &t]);
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
        let doc = json(&out);
        let password = admin.split(':').nth(2).unwrap().split('@').next().unwrap().to_string();
        assert!(!doc.to_string().contains(&password), "password in the run document");
        assert_eq!(doc["schema_changes"][0]["name"], "dbc_cli_probe");
    }
}

fn url_with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth, host) = rest.split_once('@').unwrap();
    let user = auth.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}

#[test]
fn integrity_check_exit_codes_formats_and_bad_rules() {
    let env = Env::new();
    let url = env.db_url();
    let rules = repo().join("tests/fixtures/shop_rules.toml").display().to_string();
    let out = env.cmd(&["integrity", "check", "--db", &url, "--rules", &rules, "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["kind"], "integrity");
    let failing: Vec<&str> = doc["integrity_results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["failure_count"].as_u64().unwrap() > 0)
        .map(|r| r["constraint"].as_str().unwrap())
        .collect();
    assert_eq!(failing.len(), 6, "{failing:?}");
    assert!(!doc.to_string().contains("@example.com"), "samples are masked");
    let clean = env.cmd(&["integrity", "check", "--db", &url, "--table", "products"]);
    assert_eq!(code(&clean), 0, "{}{}", stdout(&clean), stderr(&clean));
    assert!(stdout(&clean).contains("Integrity check of 1 table: all"), "{}", stdout(&clean));
    let bad = env.dir.path().join("bad_rules.toml");
    std::fs::write(&bad, "[[rule]]\ntable = \"orders\"\ncolumn = \"status\"\ntype = \"regex\"\npattern = \"(\"\n").unwrap();
    let b = bad.display().to_string();
    let out = env.cmd(&["integrity", "check", "--db", &url, "--rules", &b]);
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("invalid regex") && stderr(&out).trim().lines().count() == 1, "{}", stderr(&out));
    let out = env.cmd(&["integrity", "check", "--db", &url, "--table", "nope"]);
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("unknown table 'nope'"));
    if let Some(xsd) = schema_file("DBCONSULTANT_JUNIT_XSD") {
        let report = env.dir.path().join("integrity.xml");
        let r = report.display().to_string();
        env.cmd(&["integrity", "check", "--db", &url, "--rules", &rules, "--format", "junit", "--output", &r]);
        let lint = Command::new("xmllint").arg("--noout").arg("--schema").arg(&xsd).arg(&report).output().unwrap();
        assert!(lint.status.success(), "{}", String::from_utf8_lossy(&lint.stderr));
    }
}

#[test]
fn etl_validate_exit_codes_and_formats() {
    let env = Env::new();
    let copy = env.dir.path().join("copy.db");
    std::fs::copy(&env.db, &copy).unwrap();
    let source = env.db_url();
    let target = format!("sqlite://{}", copy.display());
    let args = |target: &str, format: &str| -> Vec<String> {
        ["etl", "validate", "--source", &source, "--source-table", "orders", "--target", target, "--key", "id", "--format", format]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let same = env.cmd(&args(&target, "json").iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code(&same), 0, "{}", stderr(&same));
    assert_eq!(json(&same)["etl_results"][0]["checksum_match"], true);
    let status = Command::new("python3")
        .args(["-c", "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute('UPDATE orders SET total = total + 1 WHERE id = 2'); db.commit()"])
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let differs = env.cmd(&args(&target, "markdown").iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code(&differs), 1, "{}", stderr(&differs));
    assert!(stdout(&differs).contains("| `{\"id\":2}` | total | \""), "{}", stdout(&differs));
    let text = env.cmd(&args(&target, "text").iter().map(String::as_str).collect::<Vec<_>>());
    assert!(stdout(&text).contains("changed:           1  (total 1)"), "{}", stdout(&text));
    let bad = env.cmd(&["etl", "validate", "--source", &source, "--source-table", "orders", "--target", &target, "--key", "nope"]);
    assert_eq!(code(&bad), 3);
    assert!(stderr(&bad).contains("key column 'nope' not found in source table orders"), "{}", stderr(&bad));
    let tolerance = env.cmd(&[
        "etl",
        "validate",
        "--source",
        &source,
        "--source-table",
        "orders",
        "--target",
        &target,
        "--key",
        "id",
        "--tolerance",
        "total=x",
    ]);
    assert_eq!(code(&tolerance), 3);
    assert!(stderr(&tolerance).contains("--tolerance total=x: not a number"), "{}", stderr(&tolerance));
}

/// Ctrl-C during a long ETL query: exit 130, and the server stops the query (nothing keeps
/// running on the database after the process is gone).
#[test]
fn etl_interrupt_stops_the_server_query() {
    let admin = match std::env::var("DBCONSULTANT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("DBCONSULTANT_SKIP_SERVER_TESTS").is_some() => return,
        _ => panic!("DBCONSULTANT_TEST_POSTGRES_URL is not set: run through scripts/test.sh"),
    };
    let psql = |url: &str, sql: &str| -> String {
        let out = Command::new("psql").args([url, "-qtAc", sql]).output().expect("psql is installed by scripts/test.sh");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let name = format!("dbc_cli_{}", std::process::id());
    psql(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
    psql(&admin, &format!("CREATE DATABASE {name}"));
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    psql(&url, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');");
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbconsultant"))
        .args([
            "etl",
            "validate",
            "--source",
            &url,
            "--source-table",
            "t",
            "--target",
            &url,
            "--key",
            "id",
            "--where",
            "pg_sleep(60) IS NOT NULL",
        ])
        .env("DBCONSULTANT_STORE", dir.path().join("store.db"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let sleeping = format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND query LIKE '%pg_sleep(60)%' AND state = 'active' AND pid <> pg_backend_pid()");
    let started = std::time::Instant::now();
    while psql(&admin, &sleeping) == "0" {
        assert!(started.elapsed().as_secs() < 20, "the ETL query never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let stopped = std::time::Instant::now();
    while psql(&admin, &sleeping) != "0" {
        assert!(stopped.elapsed().as_secs() < 10, "the query kept running on the server after Ctrl-C");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    psql(&admin, &format!("DROP DATABASE {name} WITH (FORCE)"));
}

#[test]
fn perf_profile_recommends_and_reports() {
    let env = Env::new();
    let db = env.dir.path().join("events.db");
    let status = Command::new("python3")
        .args(["-c", "import sqlite3,sys\ndb=sqlite3.connect(sys.argv[1])\ndb.execute('CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER)')\ndb.executemany('INSERT INTO events VALUES (?,?)', ((i, i % 999) for i in range(1, 20001)))\ndb.commit()"])
        .arg(&db)
        .status()
        .unwrap();
    assert!(status.success());
    let workload = env.dir.path().join("workload.sql");
    std::fs::write(&workload, "SELECT * FROM events WHERE user_id = 5;\n-- by key\nSELECT * FROM events WHERE id = 1;").unwrap();
    let url = format!("sqlite://{}", db.display());
    let out = env.cmd(&["perf", "profile", "--db", &url, "--file", &workload.display().to_string(), "--runs", "1", "--format", "json"]);
    assert_eq!(code(&out), 1, "a full scan of a large table fails the run: {}", stderr(&out));
    let run = json(&out);
    assert_eq!(run["kind"], "performance");
    assert_eq!(run["performance_metrics"][0]["recommendation"], r#"CREATE INDEX "idx_events_user_id" ON "events" ("user_id")"#);
    assert_eq!(run["performance_metrics"][1]["index_used"], true);
    let md = env.cmd(&["perf", "profile", "--db", &url, "--query", "SELECT * FROM events WHERE id = 2", "--format", "markdown"]);
    assert_eq!(code(&md), 0, "{}", stderr(&md));
    assert!(stdout(&md).contains("| `") && stdout(&md).contains("SELECT * FROM events WHERE id = ?"), "{}", stdout(&md));
    let none = env.cmd(&["perf", "profile", "--db", &url]);
    assert_eq!(code(&none), 3);
    assert!(stderr(&none).contains("give queries to profile"), "{}", stderr(&none));
}

#[test]
fn inspect_commands_read_without_writing() {
    let env = Env::new();
    let url = env.db_url();
    let before = std::fs::read(&env.db).unwrap();
    let tables = json(&env.cmd(&["inspect", "tables", "--db", &url, "--format", "json"]));
    let names: Vec<&str> = tables.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"orders") && names.contains(&"paid_orders"), "{names:?}");
    let described = stdout(&env.cmd(&["inspect", "describe", "--db", &url, "orders"]));
    assert!(described.contains("primary key (id)") && described.contains("referenced by order_items(order_id)"), "{described}");
    let query = env.cmd(&["inspect", "query", "--db", &url, "SELECT id, email FROM customers ORDER BY id", "--max-rows", "2"]);
    let text = stdout(&query);
    assert!(text.contains("(2 rows, truncated at --max-rows 2, masked: email)") && !text.contains("@example.com"), "{text}");
    let refused = env.cmd(&["inspect", "query", "--db", &url, "COMMIT; DROP TABLE customers"]);
    assert_eq!(code(&refused), 3);
    assert!(stderr(&refused).contains("refused: only one statement at a time"), "{}", stderr(&refused));
    let plan = json(&env.cmd(&["inspect", "explain", "--db", &url, "SELECT * FROM orders WHERE customer_id = 1", "--format", "json"]));
    assert!(plan["root"]["node_type"].is_string(), "{plan}");
    assert_eq!(std::fs::read(&env.db).unwrap(), before, "the database file is unchanged");
}

#[test]
fn mcp_serves_over_stdio_and_audits_every_call() {
    use std::io::{BufRead, BufReader, Write};
    let env = Env::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbconsultant"))
        .args(["mcp", "--db", &format!("shop={}", env.db_url())])
        .env("DBCONSULTANT_STORE", env.dir.path().join("store.db"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut request = |id: u64, method: &str, params: serde_json::Value| -> serde_json::Value {
        let msg = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(stdin, "{msg}").unwrap();
        if method == "initialize" {
            writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#).unwrap();
        }
        loop {
            let reply: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
            if reply["id"] == id {
                return reply;
            }
        }
    };
    request(
        1,
        "initialize",
        serde_json::json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "cli-test", "version": "0"}}),
    );
    let tools = request(2, "tools/list", serde_json::json!({}));
    let names: Vec<&str> = tools["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    let read_only: Vec<&str> = dbconsultant::ops::registry()
        .iter()
        .filter_map(|op| match op.spec.assistant {
            dbconsultant::ops::Assistant::Tool { name, read_only: true, .. } => Some(name),
            _ => None,
        })
        .collect();
    assert_eq!(names, read_only, "the read-only tools of the registry, in its order");
    let rows = request(
        3,
        "tools/call",
        serde_json::json!({"name": "run_query", "arguments": {"sql": "SELECT count(*) AS n FROM orders WHERE status = 'paid'"}}),
    );
    assert_eq!(rows["result"]["structuredContent"]["rows"], serde_json::json!([{"n": 2}]));
    let refused = request(4, "tools/call", serde_json::json!({"name": "run_query", "arguments": {"sql": "DELETE FROM orders"}}));
    assert_eq!(refused["result"]["isError"], true);
    drop(stdin);
    assert!(child.wait().unwrap().success(), "the server exits cleanly when the client closes stdin");
    let events = json(&env.cmd(&["audit", "list", "--event", "tool_call", "--format", "json"]));
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2);
    let details: serde_json::Value = serde_json::from_str(events[1]["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["tool"], "run_query");
    assert_eq!(details["arguments"]["sql"], "SELECT count(*) AS n FROM orders WHERE status = ?", "literals are not logged");
    assert_eq!(events[1]["actor"], "mcp:cli-test");
    let second: serde_json::Value = serde_json::from_str(events[0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(second["outcome"], "refused");
    let bad = env.cmd(&["mcp", "--db", "nope://x"]);
    assert_eq!(code(&bad), 3);
}
