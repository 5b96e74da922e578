//! SQLite ETL SQL: type classes, canonical text, checksums (see `driver::etl_sql`).

use crate::dialect::Dialect;
use crate::driver::etl_sql::{numeric_scale, timestamp_len, type_args, CompareKind, EtlSql, TypeClass};

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
