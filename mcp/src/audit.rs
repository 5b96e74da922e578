//! What the audit log keeps of a tool call: the tool, its arguments with secrets and sample
//! values redacted, the duration and the outcome. Results are never logged.

use dbconsultant::checks::perf::fingerprint::fingerprint;
use dbconsultant::Dialect;
use serde_json::{json, Map, Value};

/// The audit event name of a tool call.
pub const EVENT: &str = "tool_call";

/// Argument names holding SQL text: kept as fingerprints (literals replaced by placeholders).
const SQL_KEYS: &[&str] = &["sql", "queries", "where", "source_where", "target_where"];
/// Argument names holding sample values: replaced by their count.
const VALUE_KEYS: &[&str] = &["values"];
/// Fragments of argument names holding secrets.
const SECRET_PARTS: &[&str] = &["password", "passwd", "secret", "token", "key_material", "url", "dsn", "credential"];

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The read-only guard refused the SQL.
    Refused,
    /// The arguments or the core call failed.
    Error,
    Timeout,
    RateLimited,
    TooLarge,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::RateLimited => "rate_limited",
            Outcome::TooLarge => "too_large",
        }
    }
}

/// Arguments as logged. `dialect` parses SQL for fingerprints (PostgreSQL when unknown).
pub fn redact_arguments(args: &Map<String, Value>, dialect: Dialect) -> Value {
    Value::Object(args.iter().map(|(k, v)| (k.clone(), redact(k, v, dialect))).collect())
}

fn redact(key: &str, value: &Value, dialect: Dialect) -> Value {
    let lower = key.to_ascii_lowercase();
    if SECRET_PARTS.iter().any(|p| lower.contains(p)) {
        return json!("[redacted]");
    }
    if VALUE_KEYS.contains(&lower.as_str()) {
        let n = value.as_array().map(Vec::len).unwrap_or(1);
        return json!(format!("[{n} values redacted]"));
    }
    match value {
        Value::String(s) if SQL_KEYS.contains(&lower.as_str()) => Value::String(sql_fingerprint(s, dialect)),
        Value::Array(items) if SQL_KEYS.contains(&lower.as_str()) => Value::Array(
            items.iter().map(|i| i.as_str().map(|s| Value::String(sql_fingerprint(s, dialect))).unwrap_or(Value::Null)).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|i| redact(key, i, dialect)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), redact(k, v, dialect))).collect()),
        other => other.clone(),
    }
}

/// SQL with literals as placeholders (`?`, `$1` on PostgreSQL), bounded in length.
fn sql_fingerprint(sql: &str, dialect: Dialect) -> String {
    // Text the guard refuses unparsed is logged unparsed too (and without its contents).
    if sql.len() > dbconsultant::guard::MAX_QUERY_BYTES {
        return format!("<{} bytes: longer than the query limit>", sql.len());
    }
    if let Err(why) = dbconsultant::guard::check_operator_count(sql, dialect, dbconsultant::guard::MAX_OPERATORS) {
        return format!("<{} bytes, not parsed: {why}>", sql.len());
    }
    let mut text = fingerprint(sql, dialect).normalized;
    if text.len() > 2000 {
        let mut cut = 2000;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

/// The `details` of the audit event.
pub fn details(tool: &str, arguments: Value, duration_ms: f64, outcome: Outcome, error: Option<&str>) -> String {
    let mut d = json!({
        "tool": tool,
        "arguments": arguments,
        "duration_ms": (duration_ms * 1000.0).round() / 1000.0,
        "outcome": outcome.as_str(),
    });
    if let Some(e) = error {
        d["error"] = json!(dbconsultant::url::redact_url(e));
    }
    d.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_secrets_and_values_are_redacted() {
        let args = json!({
            "sql": "SELECT * FROM customers WHERE email = 'ada@example.com' AND id = 42",
            "rules": [{"table": "orders", "type": "accepted_values", "values": ["paid", "secret-status"]}],
            "database": "shop",
            "api_token": "abc",
        });
        let out = redact_arguments(args.as_object().unwrap(), Dialect::Postgres).to_string();
        assert!(!out.contains("ada@example.com") && !out.contains("42") && !out.contains("secret-status") && !out.contains("abc"), "{out}");
        assert!(out.contains("customers") && out.contains("shop") && out.contains("[2 values redacted]"), "{out}");
    }
}
