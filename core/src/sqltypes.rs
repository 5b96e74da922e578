//! Dialect-neutral reasoning about declared column types: families and narrowing.

/// Broad family of a declared type, used to decide whether a change can lose data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeFamily {
    Integer(u8), // width in bytes
    Exact { precision: Option<u32>, scale: Option<u32> },
    Float(u8),
    Text(Option<u32>), // max length, None = unbounded
    Boolean,
    Temporal,
    Binary,
    Other,
}

pub fn family(declared: &str) -> TypeFamily {
    let upper = declared.trim().to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or("").trim().to_string();
    let args: Vec<u32> = upper
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner.split(',').filter_map(|a| a.trim().parse().ok()).collect())
        .unwrap_or_default();
    let first = args.first().copied();
    match base.as_str() {
        "TINYINT" | "INT1" => TypeFamily::Integer(1),
        "SMALLINT" | "INT2" | "SMALLSERIAL" => TypeFamily::Integer(2),
        "MEDIUMINT" => TypeFamily::Integer(3),
        "INT" | "INTEGER" | "INT4" | "SERIAL" | "SERIAL4" => TypeFamily::Integer(4),
        "BIGINT" | "INT8" | "BIGSERIAL" | "SERIAL8" => TypeFamily::Integer(8),
        "NUMERIC" | "DECIMAL" | "DEC" => TypeFamily::Exact { precision: first, scale: args.get(1).copied() },
        "REAL" | "FLOAT4" => TypeFamily::Float(4),
        "FLOAT" | "DOUBLE" | "DOUBLE PRECISION" | "FLOAT8" => TypeFamily::Float(8),
        "CHAR" | "CHARACTER" | "VARCHAR" | "CHARACTER VARYING" | "NVARCHAR" | "NCHAR" | "VARCHAR2" => TypeFamily::Text(first),
        "TEXT" | "CLOB" | "STRING" | "MEDIUMTEXT" | "LONGTEXT" | "CITEXT" => TypeFamily::Text(None),
        "TINYTEXT" => TypeFamily::Text(Some(255)),
        "BOOLEAN" | "BOOL" => TypeFamily::Boolean,
        "BLOB" | "BYTEA" | "VARBINARY" | "BINARY" | "LONGBLOB" => TypeFamily::Binary,
        b if b.starts_with("TIMESTAMP") || b.starts_with("DATE") || b.starts_with("TIME") => TypeFamily::Temporal,
        _ => TypeFamily::Other,
    }
}

/// Whether changing `old` to `new` can reject or truncate existing values.
/// `None` when the types are unrelated and nothing useful can be said beyond "changed".
pub fn is_narrowing(old: &str, new: &str) -> Option<bool> {
    use TypeFamily::*;
    let bounded_lt = |a: Option<u32>, b: Option<u32>| match (a, b) {
        (Some(a), Some(b)) => b < a,
        (None, Some(_)) => true,
        _ => false,
    };
    Some(match (family(old), family(new)) {
        (Integer(a), Integer(b)) => b < a,
        (Integer(a), Exact { precision, .. }) => precision.is_some_and(|p| p < if a >= 8 { 19 } else { 10 }),
        (Exact { precision: p1, scale: s1 }, Exact { precision: p2, scale: s2 }) => bounded_lt(p1, p2) || bounded_lt(s1, s2),
        (Float(a), Float(b)) => b < a,
        (Exact { .. } | Integer(_), Float(_)) => true, // exact values become approximate
        (Float(_), Integer(_) | Exact { .. }) => true,
        (Exact { .. }, Integer(_)) => true,
        (Text(a), Text(b)) => bounded_lt(a, b),
        (Text(_), Other | Integer(_) | Exact { .. } | Float(_) | Boolean | Temporal | Binary) => true,
        (_, Text(None)) => false,
        (a, b) if a == b => false,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowing_cases() {
        assert_eq!(is_narrowing("VARCHAR(255)", "VARCHAR(50)"), Some(true));
        assert_eq!(is_narrowing("VARCHAR(50)", "VARCHAR(255)"), Some(false));
        assert_eq!(is_narrowing("TEXT", "VARCHAR(10)"), Some(true));
        assert_eq!(is_narrowing("VARCHAR(10)", "TEXT"), Some(false));
        assert_eq!(is_narrowing("BIGINT", "INT"), Some(true));
        assert_eq!(is_narrowing("INT", "BIGINT"), Some(false));
        assert_eq!(is_narrowing("NUMERIC(10,2)", "NUMERIC(8,2)"), Some(true));
        assert_eq!(is_narrowing("NUMERIC(10,2)", "REAL"), Some(true));
        assert_eq!(is_narrowing("TEXT", "INTEGER"), Some(true));
        assert_eq!(is_narrowing("INTEGER", "TEXT"), Some(false));
    }
}
