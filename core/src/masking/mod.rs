//! Masking of sample rows and query results (invariant 3): sensitive columns are recognised by
//! name and by value pattern, credentials by value wherever they stand (secrets.rs), and
//! replaced before any row leaves the library.

pub mod lineage;
mod secrets;

use serde_json::{Map, Value};

/// Column-name fragments that mark a column as sensitive.
const SENSITIVE_NAME_PARTS: &[&str] = &[
    "email",
    "e_mail",
    "mail",
    "phone",
    "mobile",
    "msisdn",
    "fax",
    "ssn",
    "social_security",
    "national_id",
    "nin",
    "passport",
    "tax_id",
    "taxid",
    "tin",
    "vat_id",
    "card",
    "cc_number",
    "pan",
    "iban",
    "account_number",
    "bank_account",
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "dob",
    "birth",
    "birthdate",
    "license_number",
    "driver_license",
];

#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Extra column names declared sensitive (e.g. `full_name`), matched case-insensitively.
    pub extra_columns: Vec<String>,
    /// Tables refused outright by the query guard (`[masking] secret_tables`).
    pub secret_tables: Vec<String>,
    /// Turn masking off entirely (for local debugging only).
    pub disabled: bool,
}

impl Masker {
    pub fn mask_row(&self, row: Map<String, Value>) -> Map<String, Value> {
        if self.disabled {
            return row;
        }
        row.into_iter()
            .map(|(col, value)| {
                let masked = if self.sensitive_name(&col) { mask_value(&value, None) } else { self.mask_by_value(value) };
                (col, masked)
            })
            .collect()
    }

    /// A value masked for what it is, whatever its column; JSON arrays and objects (`json_agg`,
    /// `to_json(row)`) are masked inside, objects by their keys' names too.
    fn mask_by_value(&self, value: Value) -> Value {
        match value {
            Value::String(s) => match sensitive_value(&s) {
                Some(kind) => mask_value(&Value::String(s), Some(kind)),
                None => scrub_embedded(&s).map(Value::String).unwrap_or(Value::String(s)),
            },
            Value::Number(n) if n.is_u64() && luhn_card(&n.to_string()) => mask_value(&Value::Number(n), Some("card")),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.mask_by_value(v)).collect()),
            Value::Object(map) => Value::Object(self.mask_row(map)),
            other => other,
        }
    }

    /// Whether a column of this name holds sensitive values (built-in PII names, or declared).
    pub fn sensitive_name(&self, column: &str) -> bool {
        let lower = column.to_ascii_lowercase();
        if self.extra_columns.iter().any(|c| c.eq_ignore_ascii_case(column)) {
            return true;
        }
        let parts: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        SENSITIVE_NAME_PARTS.iter().any(
            |p| {
                if p.contains('_') {
                    lower.contains(p)
                } else {
                    parts.iter().any(|part| part == p) || lower == *p
                }
            },
        )
    }
}

fn mask_value(value: &Value, kind: Option<&str>) -> Value {
    match value {
        Value::Null => Value::Null,
        Value::String(s) if kind == Some("card") || luhn_card(s) => {
            let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
            Value::String(format!("************{}", &digits[digits.len().saturating_sub(4)..]))
        }
        Value::Number(n) if kind == Some("card") => {
            let digits = n.to_string();
            Value::String(format!("************{}", &digits[digits.len().saturating_sub(4)..]))
        }
        _ => Value::String(match kind {
            Some(k) => format!("<masked:{k}>"),
            None => "<masked>".into(),
        }),
    }
}

/// Free text keeps its words but loses the credentials and addresses inside it.
fn scrub_embedded(s: &str) -> Option<String> {
    match secrets::scrub(s) {
        Some(scrubbed) => Some(scrub_embedded_emails(&scrubbed).unwrap_or(scrubbed)),
        None => scrub_embedded_emails(s),
    }
}

/// Free text that contains an address keeps its words but loses the address.
fn scrub_embedded_emails(s: &str) -> Option<String> {
    if !s.contains('@') {
        return None;
    }
    let scrubbed: Vec<String> = s
        .split(' ')
        .map(|word| {
            let core = word.trim_matches(|c: char| !c.is_alphanumeric());
            if looks_like_email(core) {
                word.replace(core, "<masked:email>")
            } else {
                word.to_string()
            }
        })
        .collect();
    Some(scrubbed.join(" "))
}

/// Recognise sensitive values whatever their column is called.
fn sensitive_value(s: &str) -> Option<&'static str> {
    let t = s.trim();
    if let Some(kind) = secrets::secret_kind(t) {
        Some(kind)
    } else if looks_like_email(t) {
        Some("email")
    } else if luhn_card(t) {
        Some("card")
    } else if looks_like_us_ssn(t) {
        Some("national_id")
    } else if looks_like_phone(t) {
        Some("phone")
    } else {
        None
    }
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty() && !s.contains(char::is_whitespace) && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
}

/// 13–19 digits (spaces and dashes allowed) passing the Luhn checksum.
fn luhn_card(s: &str) -> bool {
    if !s.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-') {
        return false;
    }
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn looks_like_phone(s: &str) -> bool {
    let allowed = s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    allowed && (s.starts_with('+') || s.contains(['-', ' ', '('])) && (8..=15).contains(&digits)
}

fn looks_like_us_ssn(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11 && b[3] == b'-' && b[6] == b'-' && b.iter().enumerate().all(|(i, c)| i == 3 || i == 6 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn masks_by_name_and_by_value() {
        let masker = Masker { extra_columns: vec!["full_name".into()], ..Default::default() };
        let out = masker.mask_row(row(json!({
            "id": 7, "email": "ann@example.com", "full_name": "Ann Lee", "note": "reach me at bob@corp.io",
            "contact": "bob@corp.io", "cc": "4111 1111 1111 1111", "mobile": "+44 20 7946 0958",
            "ref": "123-45-6789", "city": "Paris", "user_token": "abc"
        })));
        assert_eq!(out["id"], json!(7));
        assert_eq!(out["email"], json!("<masked>"));
        assert_eq!(out["full_name"], json!("<masked>"));
        assert_eq!(out["contact"], json!("<masked:email>"));
        assert_eq!(out["cc"], json!("************1111"));
        assert_eq!(out["mobile"], json!("<masked>"));
        assert_eq!(out["ref"], json!("<masked:national_id>"));
        assert_eq!(out["city"], json!("Paris"));
        assert_eq!(out["user_token"], json!("<masked>"));
        // Free text keeps its words but loses the embedded address.
        assert_eq!(out["note"], json!("reach me at <masked:email>"));
    }

    #[test]
    fn json_values_are_masked_inside() {
        let out = Masker::default().mask_row(row(json!({
            "arr": ["SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy", "Paris"],
            "obj": {"password": "hunter2", "city": "Lyon", "nested": ["ann@example.com"]}
        })));
        assert_eq!(out["arr"], json!(["<masked:password_hash>", "Paris"]));
        assert_eq!(out["obj"], json!({"password": "<masked>", "city": "Lyon", "nested": ["<masked:email>"]}));
    }

    #[test]
    fn luhn_rejects_random_digit_runs() {
        assert!(luhn_card("4111111111111111"));
        assert!(!luhn_card("4111111111111112"));
        assert!(!luhn_card("12345"));
    }
}
