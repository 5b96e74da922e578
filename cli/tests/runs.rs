//! `dbconsultant runs`, `inspect` and `mcp`: approvals and escalation, read-only inspection,
//! the MCP server over stdio.

mod common;

use common::*;

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
        // The database from the environment, as an MCP client's configuration can give it.
        .args(["mcp"])
        .env("DBCONSULTANT_MCP_DB", format!("shop={}", env.db_url()))
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
