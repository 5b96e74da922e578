//! PostgreSQL ETL SQL: type classes, canonical text, checksums (see `driver::etl_sql`).

use crate::dialect::Dialect;
use crate::driver::etl_sql::{numeric_scale, timestamp_len, type_args, CompareKind, EtlSql, TypeClass};

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
