//! The final word on a row pair whose hashes differ: canonical texts are compared in Rust,
//! numbers within their tolerance and JSON by value, so a formatting difference between two
//! databases (a key order, `1.50` against `1.5`) never counts as a changed row.

use crate::driver::etl_sql::CompareKind;

use super::plan::ColumnPair;

/// Are two canonical values of a column equal?
pub fn values_equal(pair: &ColumnPair, source: Option<&str>, target: Option<&str>) -> bool {
    let (a, b) = match (source, target) {
        (None, None) => return true,
        (Some(a), Some(b)) => (a, b),
        _ => return false,
    };
    if a == b {
        return true;
    }
    match &pair.kind {
        CompareKind::Decimal { .. } | CompareKind::FixedDecimal { .. } | CompareKind::Float { .. } => numbers_equal(pair, a, b),
        CompareKind::Json => json_equal(a, b),
        _ => false,
    }
}

fn numbers_equal(pair: &ColumnPair, a: &str, b: &str) -> bool {
    if canonical_decimal(a) == canonical_decimal(b) {
        return true;
    }
    let (Ok(x), Ok(y)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) else { return false };
    // Floats were rounded to `decimals` on each side; two databases may round a value that
    // sits on the boundary differently, so one unit in the last place is forgiven.
    let slack = match pair.kind {
        CompareKind::Float { decimals } => 10f64.powi(-(decimals as i32)) * 1.000_001,
        _ => 0.0,
    };
    (x - y).abs() <= pair.tolerance.unwrap_or(0.0).max(slack)
}

/// `+1.50` → `1.5`, `-0.0` → `0`, `007` → `7`.
fn canonical_decimal(text: &str) -> Option<String> {
    let t = text.trim().trim_start_matches('+');
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') || digits.matches('.').count() > 1 {
        return None;
    }
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let body = match (int.is_empty(), frac.is_empty()) {
        (true, true) => return Some("0".into()),
        (_, true) => int.to_string(),
        (true, false) => format!("0.{frac}"),
        (false, false) => format!("{int}.{frac}"),
    };
    Some(if negative { format!("-{body}") } else { body })
}

fn json_equal(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)) {
        (Ok(x), Ok(y)) => json_value_equal(&x, &y),
        _ => false,
    }
}

/// Structural equality, numbers by value (`1.0` equals `1`).
fn json_value_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_value_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_value_equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::etl::plan::SideColumn;
    use crate::driver::etl_sql::TypeClass;

    fn pair(kind: CompareKind, tolerance: Option<f64>) -> ColumnPair {
        let side = SideColumn { name: "c".into(), data_type: "x".into(), class: TypeClass::Text, nullable: true };
        ColumnPair { source: side.clone(), target: side, kind, tolerance }
    }

    #[test]
    fn decimals_compare_by_value_and_tolerance() {
        let exact = pair(CompareKind::Decimal { scale: Some(2) }, None);
        assert!(values_equal(&exact, Some("1.50"), Some("1.5")));
        assert!(values_equal(&exact, Some("-0.00"), Some("0")));
        assert!(!values_equal(&exact, Some("1.51"), Some("1.5")));
        let tolerant = pair(CompareKind::Decimal { scale: Some(2) }, Some(0.02));
        assert!(values_equal(&tolerant, Some("1.51"), Some("1.5")));
        assert!(!values_equal(&tolerant, Some("1.53"), Some("1.5")));
    }

    #[test]
    fn null_differs_from_every_text() {
        let text = pair(CompareKind::Text, None);
        assert!(!values_equal(&text, None, Some("")));
        assert!(!values_equal(&text, None, Some("<null>")));
        assert!(values_equal(&text, None, None));
    }

    #[test]
    fn json_compares_by_value() {
        let json = pair(CompareKind::Json, None);
        assert!(values_equal(&json, Some(r#"{"b": [1, 2], "a": 1}"#), Some(r#"{"a":1.0,"b":[1,2]}"#)));
        assert!(!values_equal(&json, Some(r#"{"a": 1}"#), Some(r#"{"a": 2}"#)));
    }
}
