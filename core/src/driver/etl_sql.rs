//! SQL that ETL reconciliation pushes down, per dialect: how a declared type is classified,
//! how a value is normalized to one canonical text shared by every dialect, and how rows are
//! hashed and summed. Every dialect difference of the ETL check lives here.
//!
//! Canonical forms (the same string on PostgreSQL, MySQL/MariaDB and SQLite):
//! integers in decimal; decimals without trailing zeros (rounded when asked); floats rounded
//! to a number of decimals; booleans `1`/`0`; UUIDs lowercase; timestamps
//! `YYYY-MM-DD HH:MM:SS[.fff…]` in UTC at a shared precision (rounded); dates `YYYY-MM-DD`;
//! binary as lowercase hex; CHAR without trailing spaces. A row is encoded as, per column,
//! `N` for NULL or the text in double quotes with quotes doubled — unambiguous, and NULL
//! differs from every string.

use crate::dialect::Dialect;

/// What a column's declared type holds, as far as comparison is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeClass {
    Int,
    Bool,
    /// Exact numeric; the declared scale when there is one.
    Decimal {
        scale: Option<u32>,
    },
    Float,
    Text,
    /// Blank-padded text (`CHAR(n)`): trailing spaces are not significant.
    Char,
    Uuid,
    Json,
    /// Date and time; `precision` is the digits of fractional seconds the type keeps.
    Timestamp {
        precision: u32,
        tz: bool,
    },
    Date,
    Time,
    Binary,
    /// A type the check has no canonical form for (arrays, intervals, geometry ...).
    Other(String),
}

/// How a pair of columns is compared (decided from both sides' classes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CompareKind {
    /// Both columns have the same declared type in the same dialect: the database's own text
    /// form is canonical already (and much cheaper than reformatting).
    Native,
    Int,
    Bool,
    Decimal {
        scale: Option<u32>,
    },
    /// Both sides declare this same scale: every value prints exactly `scale` decimals on
    /// either side, so the plain text form is canonical (no trimming or rounding).
    FixedDecimal {
        scale: u32,
    },
    Float {
        decimals: u32,
    },
    Text,
    Char,
    Uuid,
    Json,
    Timestamp {
        precision: u32,
    },
    Date,
    Time,
    Binary,
}

impl CompareKind {
    /// Can the canonical text of a value of this kind contain a double quote?
    pub fn may_contain_quote(&self, class: &TypeClass) -> bool {
        match self {
            CompareKind::Text | CompareKind::Char | CompareKind::Json => true,
            // Text-typed columns compared as numbers or dates keep unparsable text as is.
            CompareKind::Native => !matches!(
                class,
                TypeClass::Int
                    | TypeClass::Bool
                    | TypeClass::Decimal { .. }
                    | TypeClass::Float
                    | TypeClass::Uuid
                    | TypeClass::Date
                    | TypeClass::Timestamp { .. }
                    | TypeClass::Time
            ),
            _ => matches!(class, TypeClass::Text | TypeClass::Char | TypeClass::Other(_)),
        }
    }
}

/// The pushed-down SQL of one dialect.
pub trait EtlSql: Send + Sync {
    fn dialect(&self) -> Dialect;
    /// Class of a declared type (as introspection reports it).
    fn classify(&self, data_type: &str) -> TypeClass;
    /// Canonical text (or NULL) of `expr`, a value of class `class`, compared as `kind`.
    fn normalize(&self, expr: &str, class: &TypeClass, kind: &CompareKind) -> String;
    /// Canonical text of `expr` where it is only concatenated into a row's encoding and
    /// hashed, never read back: the same bytes as [`EtlSql::normalize`], and a dialect whose
    /// concatenation converts values to text itself may skip the explicit conversion.
    fn normalize_for_hash(&self, expr: &str, class: &TypeClass, kind: &CompareKind) -> String {
        self.normalize(expr, class, kind)
    }
    /// One column's parts of the row encoding, to be concatenated with the others: `N` for
    /// NULL, else the text in double quotes with double quotes doubled (CSV-style:
    /// unambiguous, and the value is named once, so a database that inlines derived columns
    /// computes it once). `escape` is false for canonical forms that cannot contain a quote
    /// (numbers, timestamps, UUIDs, hex); a column that is not `nullable` needs no NULL
    /// marker, so its quotes and text join the row's one concatenation directly.
    fn encode_field(&self, normalized: &str, escape: bool, nullable: bool) -> Vec<String> {
        let text = if escape { format!("replace({normalized}, '\"', '\"\"')") } else { normalized.to_string() };
        let quoted = vec!["'\"'".to_string(), text, "'\"'".to_string()];
        if nullable {
            vec![format!("coalesce({}, 'N')", self.concat(&quoted))]
        } else {
            quoted
        }
    }
    /// Concatenation of text expressions (SQL's `||`; MySQL has CONCAT()).
    fn concat(&self, parts: &[String]) -> String {
        if parts.is_empty() {
            "''".into()
        } else {
            parts.join(" || ")
        }
    }
    /// Lowercase hex MD5 of a text expression.
    fn md5(&self, expr: &str) -> String;
    /// A segment's checksum is `Σ h` over its rows, `h` being the first 15 hex digits (60
    /// bits) of the row's MD5 `m`: exact, order-independent. Each dialect returns aggregates
    /// `(expression as text, shift)` with `Σ h = Σ value << shift`, sums it cannot overflow;
    /// the caller recombines them.
    fn checksum_aggregates(&self, m: &str) -> Vec<(String, u32)>;
    /// A value as text (for aggregates: counts, sums).
    fn to_text(&self, expr: &str) -> String;
    /// The column as used in key order comparisons: text compares byte-wise on every side, so
    /// segment boundaries mean the same on both databases.
    fn key_order(&self, column: &str, class: &TypeClass, kind: &CompareKind) -> String;
    /// The segment number of `key` among sorted `boundaries` (literals) computed by the
    /// database in one call, when it has such a function for this key class; `None` means
    /// the caller builds a binary-search CASE.
    fn bucket_function(&self, _key: &str, _class: &TypeClass, _boundaries: &[String]) -> Option<String> {
        None
    }
    /// Integer division of two integer expressions, truncating.
    fn int_div(&self, a: &str, b: &str) -> String {
        format!("({a}) / {b}")
    }
    /// Most fractional-second digits this dialect's timestamp normalization keeps.
    fn max_timestamp_precision(&self) -> u32 {
        6
    }
    /// Appended to a derived table so the planner computes its columns once.
    fn fence(&self) -> &'static str {
        ""
    }
    /// `a` and `b` (two row encodings) differ.
    fn differs(&self, a: &str, b: &str) -> String {
        format!("{a} <> {b}")
    }
    /// Does this dialect have FULL OUTER JOIN (for the same-database fast path)?
    fn full_join(&self) -> bool;
    fn quote(&self, ident: &str) -> String {
        self.dialect().quote_ident(ident)
    }
    /// A key value from the other side as a literal of this dialect.
    fn literal(&self, value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::Null => "NULL".into(),
            serde_json::Value::Bool(b) => self.bool_literal(*b).into(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => self.dialect().string_literal(s),
            other => self.dialect().string_literal(&other.to_string()),
        }
    }
    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "1"
        } else {
            "0"
        }
    }
}

/// Digits in parentheses after a type name: `numeric(12,2)` → [12, 2].
pub(crate) fn type_args(data_type: &str) -> Vec<u32> {
    data_type
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(args, _)| args.split(',').filter_map(|a| a.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Length of `YYYY-MM-DD HH:MM:SS` plus `.` and `precision` digits.
pub(crate) fn timestamp_len(precision: u32) -> u32 {
    if precision == 0 {
        19
    } else {
        20 + precision.min(6)
    }
}

/// Rounding of the numeric kinds: decimals kept, `None` = as stored.
pub(crate) fn numeric_scale(kind: &CompareKind) -> Option<u32> {
    match kind {
        CompareKind::Decimal { scale } => *scale,
        CompareKind::Float { decimals } => Some(*decimals),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::mysql::etl_sql::MysqlEtl;
    use crate::driver::postgres::etl_sql::PostgresEtl;
    use crate::driver::sqlite::etl_sql::SqliteEtl;

    #[test]
    fn classifies_declared_types() {
        assert_eq!(PostgresEtl.classify("numeric(12,2)"), TypeClass::Decimal { scale: Some(2) });
        assert_eq!(PostgresEtl.classify("timestamp(3) with time zone"), TypeClass::Timestamp { precision: 3, tz: true });
        assert_eq!(PostgresEtl.classify("timestamp without time zone"), TypeClass::Timestamp { precision: 6, tz: false });
        assert_eq!(MysqlEtl.classify("tinyint(1)"), TypeClass::Bool);
        assert_eq!(MysqlEtl.classify("bigint(20) unsigned"), TypeClass::Int);
        assert_eq!(MysqlEtl.classify("datetime(6)"), TypeClass::Timestamp { precision: 6, tz: false });
        assert_eq!(SqliteEtl.classify("BIGINT"), TypeClass::Int);
        assert_eq!(SqliteEtl.classify("VARCHAR(20)"), TypeClass::Text);
    }
}
