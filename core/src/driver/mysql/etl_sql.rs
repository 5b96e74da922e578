//! MySQL/MariaDB ETL SQL: type classes, canonical text, checksums (see `driver::etl_sql`).

use crate::dialect::Dialect;
use crate::driver::etl_sql::{numeric_scale, timestamp_len, type_args, CompareKind, EtlSql, TypeClass};

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

    fn normalize_for_hash(&self, e: &str, class: &TypeClass, kind: &CompareKind) -> String {
        // CONCAT prints integers, DECIMALs (at their declared scale), dates and DATETIMEs as
        // CAST(... AS CHAR) does; skipping the cast saves a function call per value.
        let prints_canonically = match kind {
            CompareKind::Int | CompareKind::FixedDecimal { .. } => matches!(class, TypeClass::Int | TypeClass::Decimal { .. }),
            CompareKind::Native => {
                matches!(class, TypeClass::Int | TypeClass::Decimal { .. } | TypeClass::Date | TypeClass::Timestamp { .. })
            }
            CompareKind::Timestamp { precision } => matches!(class, TypeClass::Timestamp { precision: q, .. } if q == precision),
            _ => false,
        };
        if prints_canonically {
            e.to_string()
        } else {
            self.normalize(e, class, kind)
        }
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

    fn int_div(&self, a: &str, b: &str) -> String {
        format!("({a}) DIV {b}")
    }
}
