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
    /// One column's part of the row encoding: `N` for NULL, else the text in double quotes
    /// with double quotes doubled (CSV-style: unambiguous, and the value is named once, so a
    /// database that inlines derived columns computes it once). `escape` is false for
    /// canonical forms that cannot contain a quote (numbers, timestamps, UUIDs, hex).
    fn encode_field(&self, normalized: &str, escape: bool) -> String {
        let text = if escape { format!("replace({normalized}, '\"', '\"\"')") } else { normalized.to_string() };
        format!("coalesce('\"' || {text} || '\"', 'N')")
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

/// The ETL SQL of a dialect.
pub fn etl_sql(dialect: Dialect) -> &'static dyn EtlSql {
    match dialect {
        Dialect::Postgres => &PostgresEtl,
        Dialect::Mysql => &MysqlEtl,
        Dialect::Sqlite => &SqliteEtl,
    }
}

/// Digits in parentheses after a type name: `numeric(12,2)` → [12, 2].
fn type_args(data_type: &str) -> Vec<u32> {
    data_type
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(args, _)| args.split(',').filter_map(|a| a.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Length of `YYYY-MM-DD HH:MM:SS` plus `.` and `precision` digits.
fn timestamp_len(precision: u32) -> u32 {
    if precision == 0 {
        19
    } else {
        20 + precision.min(6)
    }
}

/// Rounding of the numeric kinds: decimals kept, `None` = as stored.
fn numeric_scale(kind: &CompareKind) -> Option<u32> {
    match kind {
        CompareKind::Decimal { scale } => *scale,
        CompareKind::Float { decimals } => Some(*decimals),
        _ => None,
    }
}

pub struct PostgresEtl;

impl EtlSql for PostgresEtl {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn classify(&self, data_type: &str) -> TypeClass {
        let t = data_type.to_ascii_lowercase();
        let base = t.split('(').next().unwrap_or("").trim();
        match base {
            "smallint" | "integer" | "bigint" | "int" | "int2" | "int4" | "int8" | "smallserial" | "serial" | "bigserial" | "oid" => {
                TypeClass::Int
            }
            "boolean" | "bool" => TypeClass::Bool,
            "numeric" | "decimal" | "money" => {
                TypeClass::Decimal { scale: type_args(&t).get(1).copied().or(if t.contains('(') { Some(0) } else { None }) }
            }
            "real" | "double precision" | "float4" | "float8" => TypeClass::Float,
            "text" | "character varying" | "varchar" | "name" | "citext" => TypeClass::Text,
            "character" | "char" | "bpchar" => TypeClass::Char,
            "uuid" => TypeClass::Uuid,
            "json" | "jsonb" => TypeClass::Json,
            "date" => TypeClass::Date,
            "bytea" => TypeClass::Binary,
            _ if t.starts_with("timestamp") => {
                TypeClass::Timestamp { precision: type_args(&t).first().copied().unwrap_or(6), tz: t.contains("with time zone") }
            }
            _ if t.starts_with("time") => TypeClass::Time,
            _ => TypeClass::Other(t),
        }
    }

    fn normalize(&self, e: &str, class: &TypeClass, kind: &CompareKind) -> String {
        match kind {
            CompareKind::Native | CompareKind::Int | CompareKind::Text | CompareKind::FixedDecimal { .. } => format!("({e})::text"),
            CompareKind::Bool => match class {
                TypeClass::Bool => format!("CASE WHEN ({e}) THEN '1' WHEN NOT ({e}) THEN '0' END"),
                TypeClass::Int => format!("CASE WHEN ({e}) IS NULL THEN NULL WHEN ({e}) <> 0 THEN '1' ELSE '0' END"),
                _ => format!("CASE WHEN ({e})::boolean THEN '1' WHEN NOT ({e})::boolean THEN '0' END"),
            },
            CompareKind::Decimal { .. } | CompareKind::Float { .. } => match numeric_scale(kind) {
                Some(s) => format!("trim_scale(round(({e})::numeric, {s}))::text"),
                None => format!("trim_scale(({e})::numeric)::text"),
            },
            CompareKind::Char => format!("rtrim(({e})::text)"),
            CompareKind::Uuid => format!("lower(({e})::text)"),
            CompareKind::Json => format!("({e})::jsonb::text"),
            CompareKind::Timestamp { precision } => {
                let utc = match class {
                    TypeClass::Timestamp { tz: true, .. } => format!("(({e}) AT TIME ZONE 'UTC')"),
                    _ => format!("({e})::timestamp"),
                };
                let p = (*precision).min(6);
                format!("left(to_char(({utc})::timestamp({p}), 'YYYY-MM-DD HH24:MI:SS.US'), {})", timestamp_len(p))
            }
            CompareKind::Date => format!("to_char(({e})::date, 'YYYY-MM-DD')"),
            CompareKind::Time => format!("left((({e})::time)::text, 8)"),
            CompareKind::Binary => format!("encode({e}, 'hex')"),
        }
    }

    fn md5(&self, e: &str) -> String {
        format!("md5({e})")
    }

    fn checksum_aggregates(&self, m: &str) -> Vec<(String, u32)> {
        // Bits 0-30 and 31-59 of h, each an int4: sum(int4) is a fast bigint sum.
        vec![
            (format!("sum(('x' || substr({m}, 1, 8))::bit(31)::int)::text"), 29),
            (format!("sum((('x' || substr({m}, 8, 8))::bit(32)::bigint % 536870912)::int)::text"), 0),
        ]
    }

    fn to_text(&self, e: &str) -> String {
        format!("({e})::text")
    }

    fn key_order(&self, column: &str, class: &TypeClass, kind: &CompareKind) -> String {
        match class {
            // UUIDs held as text may be uppercase; native ones sort as lowercase hex.
            TypeClass::Text | TypeClass::Char if *kind == CompareKind::Uuid => format!("lower({column}) COLLATE \"C\""),
            TypeClass::Text | TypeClass::Char => format!("{column} COLLATE \"C\""),
            _ => column.to_string(),
        }
    }

    fn fence(&self) -> &'static str {
        // A subquery with OFFSET 0 is not pulled up, so md5 runs once per row.
        " OFFSET 0"
    }

    fn bucket_function(&self, key: &str, class: &TypeClass, boundaries: &[String]) -> Option<String> {
        // width_bucket(x, sorted array) is a binary search in C: 0 below the first bound,
        // i from the i-th on — the CASE tree's numbering, at a fraction of its cost.
        (*class == TypeClass::Int && !boundaries.is_empty())
            .then(|| format!("width_bucket({key}, ARRAY[{}]::bigint[])", boundaries.join(", ")))
    }

    fn full_join(&self) -> bool {
        true
    }

    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "true"
        } else {
            "false"
        }
    }
}

pub struct MysqlEtl;

impl EtlSql for MysqlEtl {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn classify(&self, data_type: &str) -> TypeClass {
        let t = data_type.to_ascii_lowercase();
        let base = t.split(['(', ' ']).next().unwrap_or("").trim();
        match base {
            "tinyint" if type_args(&t).first() == Some(&1) => TypeClass::Bool,
            "bool" | "boolean" => TypeClass::Bool,
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => TypeClass::Int,
            "decimal" | "numeric" | "dec" | "fixed" => TypeClass::Decimal { scale: Some(type_args(&t).get(1).copied().unwrap_or(0)) },
            "float" | "double" | "real" => TypeClass::Float,
            "varchar" | "text" | "tinytext" | "mediumtext" | "longtext" | "enum" | "set" => TypeClass::Text,
            "char" => TypeClass::Char,
            "uuid" => TypeClass::Uuid,
            "json" => TypeClass::Json,
            "datetime" => TypeClass::Timestamp { precision: type_args(&t).first().copied().unwrap_or(0), tz: false },
            "timestamp" => TypeClass::Timestamp { precision: type_args(&t).first().copied().unwrap_or(0), tz: true },
            "date" => TypeClass::Date,
            "time" => TypeClass::Time,
            "binary" | "varbinary" | "blob" | "tinyblob" | "mediumblob" | "longblob" => TypeClass::Binary,
            _ => TypeClass::Other(t),
        }
    }

    fn normalize(&self, e: &str, class: &TypeClass, kind: &CompareKind) -> String {
        match kind {
            CompareKind::Native | CompareKind::Int | CompareKind::FixedDecimal { .. } => format!("cast({e} as char)"),
            CompareKind::Text => format!("convert({e} using utf8mb4)"),
            CompareKind::Bool => match class {
                TypeClass::Text | TypeClass::Char => format!(
                    "CASE WHEN {e} IS NULL THEN NULL WHEN lower({e}) IN ('0', 'f', 'false', 'n', 'no', 'off') THEN '0' ELSE '1' END"
                ),
                _ => format!("CASE WHEN {e} IS NULL THEN NULL WHEN {e} <> 0 THEN '1' ELSE '0' END"),
            },
            CompareKind::Decimal { .. } | CompareKind::Float { .. } => {
                let s = numeric_scale(kind).unwrap_or(30);
                if s == 0 {
                    format!("cast(cast({e} as decimal(65, 0)) as char)")
                } else {
                    // A DECIMAL(65, s) always prints its point: trailing zeros, then the point, go.
                    format!("trim(trailing '.' from trim(trailing '0' from cast(cast({e} as decimal(65, {s})) as char)))")
                }
            }
            CompareKind::Char => format!("rtrim(convert({e} using utf8mb4))"),
            CompareKind::Uuid => format!("lower(cast({e} as char))"),
            CompareKind::Json => format!("cast({e} as char)"),
            // A DATETIME/TIMESTAMP of exactly that precision prints in the canonical form.
            CompareKind::Timestamp { precision } if matches!(class, TypeClass::Timestamp { precision: q, .. } if q == precision) => {
                format!("cast({e} as char)")
            }
            CompareKind::Timestamp { precision } => {
                let p = (*precision).min(6);
                format!(
                    "coalesce(left(date_format(cast({e} as datetime({p})), '%Y-%m-%d %H:%i:%s.%f'), {}), concat('invalid:', {e}))",
                    timestamp_len(p)
                )
            }
            CompareKind::Date => format!("coalesce(date_format({e}, '%Y-%m-%d'), concat('invalid:', {e}))"),
            CompareKind::Time => format!("left(cast({e} as char), 8)"),
            CompareKind::Binary => format!("lower(hex({e}))"),
        }
    }

    fn encode_field(&self, n: &str, escape: bool) -> String {
        let text = if escape { format!("replace({n}, '\"', '\"\"')") } else { n.to_string() };
        format!("coalesce(concat('\"', {text}, '\"'), 'N')")
    }

    fn concat(&self, parts: &[String]) -> String {
        if parts.is_empty() {
            "''".into()
        } else {
            format!("concat({})", parts.join(", "))
        }
    }

    fn md5(&self, e: &str) -> String {
        format!("md5({e})")
    }

    fn checksum_aggregates(&self, m: &str) -> Vec<(String, u32)> {
        // One reference to the MD5 (MySQL inlines derived columns, so two would hash twice);
        // SUM of BIGINT UNSIGNED is an exact DECIMAL.
        vec![(format!("cast(sum(cast(conv(substr({m}, 1, 15), 16, 10) as unsigned)) as char)"), 0)]
    }

    fn to_text(&self, e: &str) -> String {
        format!("cast({e} as char)")
    }

    fn differs(&self, a: &str, b: &str) -> String {
        // Encodings of two tables may carry different collations: compare the bytes.
        format!("cast({a} as binary) <> cast({b} as binary)")
    }

    fn key_order(&self, column: &str, class: &TypeClass, kind: &CompareKind) -> String {
        match class {
            TypeClass::Text | TypeClass::Char if *kind == CompareKind::Uuid => {
                format!("convert(lower({column}) using utf8mb4) COLLATE utf8mb4_bin")
            }
            // Converted first: a latin1 column cannot take a utf8mb4 collation, and code
            // point order is the same in both.
            TypeClass::Text | TypeClass::Char => format!("convert({column} using utf8mb4) COLLATE utf8mb4_bin"),
            _ => column.to_string(),
        }
    }

    fn full_join(&self) -> bool {
        false
    }
}

pub struct SqliteEtl;

impl EtlSql for SqliteEtl {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn classify(&self, data_type: &str) -> TypeClass {
        let t = data_type.to_ascii_lowercase();
        let base = t.split('(').next().unwrap_or("").trim();
        match base {
            "bool" | "boolean" => TypeClass::Bool,
            "decimal" | "numeric" | "money" => TypeClass::Decimal { scale: type_args(&t).get(1).copied() },
            "real" | "double" | "double precision" | "float" => TypeClass::Float,
            "char" | "character" | "nchar" => TypeClass::Char,
            "uuid" => TypeClass::Uuid,
            "json" | "jsonb" => TypeClass::Json,
            "date" => TypeClass::Date,
            "time" => TypeClass::Time,
            // SQLite keeps timestamps as text; strftime reads them to the millisecond.
            "datetime" | "timestamp" | "timestamptz" => TypeClass::Timestamp { precision: 3, tz: true },
            "blob" | "bytea" | "binary" | "varbinary" => TypeClass::Binary,
            // SQLite's affinity rules: INT anywhere in the name means an integer column.
            _ if base.contains("int") => TypeClass::Int,
            _ => TypeClass::Text,
        }
    }

    fn normalize(&self, e: &str, class: &TypeClass, kind: &CompareKind) -> String {
        match kind {
            CompareKind::Native | CompareKind::Int | CompareKind::Text => format!("cast({e} as text)"),
            CompareKind::Bool => format!(
                "CASE WHEN {e} IS NULL THEN NULL WHEN lower({e}) IN ('0', 'f', 'false', 'n', 'no', 'off') OR {e} = 0 THEN '0' ELSE '1' END"
            ),
            CompareKind::FixedDecimal { scale } => {
                format!("CASE WHEN typeof({e}) IN ('integer', 'real') THEN printf('%.{scale}f', {e}) ELSE cast({e} as text) END")
            }
            CompareKind::Decimal { .. } | CompareKind::Float { .. } => {
                let s = numeric_scale(kind).unwrap_or(10);
                let printed =
                    if s == 0 { format!("printf('%.0f', {e})") } else { format!("rtrim(rtrim(printf('%.{s}f', {e}), '0'), '.')") };
                // Text in a numeric column stays text: never mistaken for 0.
                format!("CASE WHEN typeof({e}) IN ('integer', 'real') THEN {printed} ELSE cast({e} as text) END")
            }
            CompareKind::Char => format!("rtrim(cast({e} as text), ' ')"),
            CompareKind::Uuid => format!("lower({e})"),
            // Registered in Rust: the jsonb text form PostgreSQL and MySQL print.
            CompareKind::Json => format!("dbc_json({e})"),
            CompareKind::Timestamp { precision } => {
                let p = (*precision).min(3);
                // strftime keeps milliseconds; below that, round by adding half a unit.
                let round = match p {
                    0 => ", '+0.5 seconds'",
                    1 => ", '+0.05 seconds'",
                    2 => ", '+0.005 seconds'",
                    _ => "",
                };
                let len = timestamp_len(p);
                let _ = class;
                format!(
                    "CASE WHEN typeof({e}) IN ('integer', 'real') THEN substr(strftime('%Y-%m-%d %H:%M:%f', {e}, 'unixepoch'{round}), 1, {len}) \
                     ELSE coalesce(substr(strftime('%Y-%m-%d %H:%M:%f', {e}{round}), 1, {len}), 'invalid:' || {e}) END"
                )
            }
            CompareKind::Date => format!("coalesce(date({e}), 'invalid:' || {e})"),
            CompareKind::Time => format!("coalesce(time({e}), 'invalid:' || {e})"),
            CompareKind::Binary => format!("lower(hex({e}))"),
        }
    }

    fn max_timestamp_precision(&self) -> u32 {
        3
    }

    fn md5(&self, e: &str) -> String {
        format!("dbc_md5({e})")
    }

    fn checksum_aggregates(&self, m: &str) -> Vec<(String, u32)> {
        // A registered aggregate: one MD5 per row (SQLite would inline two references) and
        // a 128-bit sum (its own SUM overflows past 8 rows of 60-bit values).
        vec![(format!("dbc_sum60({m})"), 0)]
    }

    fn to_text(&self, e: &str) -> String {
        format!("cast({e} as text)")
    }

    fn key_order(&self, column: &str, class: &TypeClass, kind: &CompareKind) -> String {
        match class {
            TypeClass::Text | TypeClass::Char | TypeClass::Uuid if *kind == CompareKind::Uuid => format!("lower({column})"),
            TypeClass::Text | TypeClass::Char | TypeClass::Uuid => format!("{column} COLLATE BINARY"),
            _ => column.to_string(),
        }
    }

    fn full_join(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
