//! Conveniences of requests, in one place for every surface: a value that may be one path or
//! several, a config given inline or as a file, rules given inline or as a file, migrations
//! given as files, directories or text. Each deserializes from the loose form callers write
//! and carries a JSON Schema saying which forms are accepted.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::config::Config;
use crate::error::Error;

/// Schema-only: one string or a list of strings.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// `"a"` or `["a", "b"]` into a list.
pub fn one_or_many<'de, D: Deserializer<'de>, T: From<String>>(d: D) -> std::result::Result<Vec<T>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![T::from(s)]),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(T::from(s)),
                other => Err(serde::de::Error::custom(format!("expected a string, got {other}"))),
            })
            .collect(),
        other => Err(serde::de::Error::custom(format!("expected a string or a list of strings, got {other}"))),
    }
}

/// Schema-only: the `config` of a request.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)] // never built: it only describes the schema
pub enum ConfigInput {
    /// Path of a `dbconsultant.toml`, read where the library runs.
    Path(String),
    /// The TOML file's structure, inline.
    Inline(Config),
}

/// `config` as a path to a TOML file or as its structure inline; validated either way.
pub fn config<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Config, D::Error> {
    let loaded = match Value::deserialize(d)? {
        Value::Null => Ok(Config::default()),
        Value::String(path) => Config::load(std::path::Path::new(&path)),
        other => serde_json::from_value::<Config>(other).map_err(|e| Error::invalid(format!("config: {e}"))).and_then(|c| {
            c.validate()?;
            Ok(c)
        }),
    };
    loaded.map_err(|e| serde::de::Error::custom(e.detail()))
}
