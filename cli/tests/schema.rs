//! `dbconsultant schema ...`: exit codes, formats (validated against their schemas), migration
//! layouts, bad input and secrets.

mod common;

use common::*;

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
fn bad_input_is_one_line_and_exit_3() {
    let env = Env::new();
    let url = env.db_url();
    let text_file = env.dir.path().join("notes.txt");
    std::fs::write(&text_file, "just text, not a database file at all, long enough").unwrap();
    let m = repo().join("examples/migrations/001_index_order_status.sql").display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["schema".into(), "validate".into(), "--db".into(), url.clone(), "missing.sql".into()], "cannot read migration missing.sql"),
        (
            vec!["schema".into(), "validate".into(), "--db".into(), url.clone(), "--layout".into(), "liquibase".into(), m.clone()],
            "unknown layout 'liquibase'",
        ),
        (vec!["schema".into(), "validate".into(), "--db".into(), url.clone(), "--pending".into(), m.clone()], "no plain history table"),
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
fn database_urls_come_from_the_environment() {
    let env = Env::new();
    let m = repo().join("examples/migrations/001_index_order_status.sql").display().to_string();
    let url = env.db_url();
    let out = env.cmd_with_env(&["schema", "validate", "--format", "json", &m], &[("DBCONSULTANT_DB_URL", &url)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json(&out)["status"], "passed");
    let etl = env.cmd_with_env(
        &["etl", "validate", "--source-table", "customers", "--format", "json"],
        &[("DBCONSULTANT_SOURCE_URL", &url), ("DBCONSULTANT_TARGET_URL", &url)],
    );
    assert_eq!(code(&etl), 0, "{}", stderr(&etl));
    // Without the flag or the variable, the error names both.
    let missing = env.cmd(&["schema", "validate", &m]);
    assert_eq!(code(&missing), 3, "{}", stderr(&missing));
    assert_eq!(stderr(&missing).trim().lines().count(), 1, "{}", stderr(&missing));
    assert!(stderr(&missing).contains("--db") && stderr(&missing).contains("DBCONSULTANT_DB_URL"), "{}", stderr(&missing));
    // Any usage error is exit 3, never 2 (which means "pending approval").
    let unknown = env.cmd(&["schema", "validate", "--no-such-flag", &m]);
    assert_eq!(code(&unknown), 3, "{}", stderr(&unknown));
    assert_eq!(code(&env.cmd(&["--help"])), 0);
}

#[test]
fn empty_migrations_are_a_note_not_an_error() {
    let env = Env::new();
    let empty = env.dir.path().join("empty.sql");
    std::fs::write(&empty, "-- a no-op on this dialect\n").unwrap();
    let out = env.cmd(&["schema", "validate", "--db", &env.db_url(), "--format", "json", &empty.display().to_string()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["status"], "passed");
    let notes: Vec<_> = doc["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "empty-migration").collect();
    assert_eq!(notes.len(), 1, "{doc:#}");
    assert_eq!(notes[0]["severity"], "info");
}

#[test]
fn flyway_layout_is_detected_and_ordered_by_version() {
    let env = Env::new();
    let dir = repo().join("tests/fixtures/layouts/flyway").display().to_string();
    let out = env.cmd(&["schema", "lint", "--dialect", "postgres", "--format", "json", &dir]);
    let doc = json(&out);
    let inputs: Vec<String> =
        doc["inputs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().rsplit('/').next().unwrap().to_string()).collect();
    let v2 = inputs.iter().position(|n| n.starts_with("V2__")).expect("V2 read");
    let v10 = inputs.iter().position(|n| n.starts_with("V10__")).expect("V10 read");
    assert!(v2 < v10, "{inputs:?}");
    assert!(inputs.iter().all(|n| !n.starts_with('U')), "undo files are never applied: {inputs:?}");
    let text = env.cmd(&["schema", "lint", "--dialect", "postgres", &dir]);
    assert!(stdout(&text).contains("flyway"), "the detected layout is printed: {}", stdout(&text));
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
    let Some(validator) = sarif_validator() else { return };
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
