//! SQL dialects the product understands, and what differs between them for text generation.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
        }
    }

    /// The sqlparser dialect used to parse scripts for this database.
    pub fn parser_dialect(self) -> Box<dyn sqlparser::dialect::Dialect> {
        match self {
            Dialect::Sqlite => Box::new(sqlparser::dialect::SQLiteDialect {}),
            Dialect::Postgres => Box::new(sqlparser::dialect::PostgreSqlDialect {}),
            Dialect::Mysql => Box::new(sqlparser::dialect::MySqlDialect {}),
        }
    }

    /// A string literal. MySQL treats backslashes in literals as escapes, so they are doubled.
    pub fn string_literal(self, value: &str) -> String {
        let escaped = value.replace('\'', "''");
        match self {
            Dialect::Mysql => format!("'{}'", escaped.replace('\\', "\\\\")),
            Dialect::Sqlite | Dialect::Postgres => format!("'{escaped}'"),
        }
    }

    /// A boolean SQL expression: does `expr` (of any type, as text) match the regular expression?
    pub fn regex_match(self, expr: &str, pattern: &str) -> String {
        let literal = self.string_literal(pattern);
        match self {
            Dialect::Postgres => format!("CAST({expr} AS TEXT) ~ {literal}"),
            // SQLite gets a REGEXP function registered on every connection (Rust regex).
            Dialect::Mysql | Dialect::Sqlite => format!("{expr} REGEXP {literal}"),
        }
    }

    /// A binary expression as lowercase hex text.
    pub fn hex(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("encode({expr}, 'hex')"),
            Dialect::Mysql => format!("LOWER(HEX({expr}))"),
            Dialect::Sqlite => format!("lower(hex({expr}))"),
        }
    }

    /// Quote an identifier for this dialect.
    pub fn quote_ident(self, ident: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{}`", ident.replace('`', "``")),
            Dialect::Sqlite | Dialect::Postgres => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }
}

impl<'de> Deserialize<'de> for Dialect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(|e: Error| serde::de::Error::custom(e.detail()))
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dialect {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sqlite" | "sqlite3" => Ok(Dialect::Sqlite),
            "postgres" | "postgresql" | "pg" => Ok(Dialect::Postgres),
            "mysql" | "mariadb" => Ok(Dialect::Mysql),
            other => Err(Error::invalid(format!("unknown dialect '{other}' (expected one of: sqlite, postgres, mysql)"))),
        }
    }
}

impl schemars::JsonSchema for Dialect {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Dialect".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "enum": ["sqlite", "postgres", "mysql"],
            "description": "SQL dialect of a database (mysql covers MariaDB too)."
        })
    }
}
