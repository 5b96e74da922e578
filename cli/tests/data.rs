//! `dbconsultant integrity`, `etl` and `perf`: exit codes, formats, keys files, interrupts.

mod common;

use common::*;

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
    let held = env.cmd(&["integrity", "check", "--db", &url, "--table", "products", "--require-approval"]);
    assert_eq!(code(&held), 2, "{}{}", stdout(&held), stderr(&held));
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

    // Every differing key to a file; the run held for approval, escalated, then decided.
    let keys = env.dir.path().join("keys.jsonl");
    let mut with_keys = args(&target, "json");
    with_keys.extend(["--keys-out".to_string(), keys.display().to_string(), "--require-approval".to_string()]);
    let out = env.cmd(&with_keys.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code(&out), 1, "a failing run is failed, not held: {}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["etl_results"][0]["keys_out"]["lines"], 1);
    let line: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&keys).unwrap().trim()).unwrap();
    assert_eq!((line["kind"].as_str(), line["key"]["id"].as_i64()), (Some("changed"), Some(2)));
    assert!(line["columns"]["total"]["source"].is_string(), "{line}");
    let held = env.cmd(&[
        "etl",
        "validate",
        "--source",
        &source,
        "--source-table",
        "orders",
        "--target",
        &source,
        "--require-approval",
        "--format",
        "json",
    ]);
    assert_eq!(code(&held), 2, "{}", stderr(&held));
    let id = json(&held)["test_run_id"].as_str().unwrap().to_string();
    let escalated = env.cmd(&["runs", "escalate", &id, "--by", "alice", "--to", "data-governance", "--comment", "PII"]);
    assert_eq!(code(&escalated), 2, "{}", stderr(&escalated));
    let shown = stdout(&env.cmd(&["runs", "show", &id]));
    assert!(shown.contains("escalated to data-governance by alice"), "{shown}");
    assert_eq!(code(&env.cmd(&["runs", "approve", &id, "--by", "bob"])), 0);
    let missing_to = env.cmd(&["runs", "escalate", &id, "--by", "alice"]);
    assert_eq!(code(&missing_to), 3, "{}", stderr(&missing_to));
    assert!(stderr(&missing_to).contains("--to"), "{}", stderr(&missing_to));
}

/// Ctrl-C during a long ETL query: exit 130, and the server stops the query (nothing keeps
/// running on the database after the process is gone).
#[test]
fn etl_interrupt_stops_the_server_query() {
    let Some(admin) = server_url("DBCONSULTANT_TEST_POSTGRES_URL") else { return };
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
