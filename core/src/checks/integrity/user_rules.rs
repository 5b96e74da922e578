//! User-defined integrity rules from a TOML file:
//!
//! ```toml
//! [[rule]]
//! table = "orders"
//! column = "status"
//! type = "accepted_values"
//! values = ["new", "paid", "shipped", "cancelled"]
//!
//! [[rule]]
//! name = "orders-belong-to-customers"     # optional; generated from the rule otherwise
//! table = "orders"
//! type = "implied_fk"
//! columns = ["customer_id"]
//! references = "customers"
//! referenced_columns = ["id"]
//! severity = "critical"                   # optional; default medium
//! ```
//!
//! Types: `accepted_values` (values), `range` (min and/or max: numbers or date strings),
//! `regex` (pattern), `max_null_fraction` (max, 0..1), `row_count` (min and/or max),
//! `freshness` (max_age such as "36h", "7d", "90m"), `unique` (columns), `implied_fk`
//! (columns, references, referenced_columns).

use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::{SchemaSnapshot, Severity};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UserRule {
    pub name: Option<String>,
    pub table: String,
    pub column: Option<String>,
    #[serde(default)]
    pub columns: Vec<String>,
    pub check: RuleCheck,
    pub severity: Option<Severity>,
}

/// A rule as written in a rules file or a request: every parameter optional, unknown keys
/// rejected (serde cannot reject unknown keys through a flattened enum, so the typed rule is
/// built from this).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Name in reports (generated from the rule when absent).
    name: Option<String>,
    table: String,
    column: Option<String>,
    /// Columns of a `unique` or `implied_fk` rule.
    #[serde(default)]
    columns: Vec<String>,
    /// accepted_values (values), range (min, max), regex (pattern), max_null_fraction (max),
    /// row_count (min, max), freshness (max_age such as "36h"), unique (columns), implied_fk
    /// (columns, references, referenced_columns).
    #[serde(rename = "type")]
    kind: String,
    /// Default medium.
    severity: Option<Severity>,
    values: Option<Vec<serde_json::Value>>,
    min: Option<Bound>,
    max: Option<Bound>,
    pattern: Option<String>,
    max_age: Option<String>,
    references: Option<String>,
    referenced_columns: Option<Vec<String>>,
}

/// Schema-only: the `rules` of an integrity request.
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum RulesInput {
    /// Path of a rules TOML file, read where the library runs.
    Path(String),
    /// The rules, inline.
    Inline(Vec<RuleSpec>),
}

/// `rules` as a path to a rules file or a list of rule objects.
pub(crate) fn deserialize_rules<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<UserRule>, D::Error> {
    let rules = match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::String(path) => RulesFile::load(std::path::Path::new(&path)).map(|f| f.rules),
        other => RulesFile::from_json(other).map(|f| f.rules),
    };
    rules.map_err(|e| serde::de::Error::custom(e.detail()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "rule")]
    rules: Vec<RuleSpec>,
}

const RULE_TYPES: &str = "accepted_values, range, regex, max_null_fraction, row_count, freshness, unique, implied_fk";

impl RuleSpec {
    fn into_rule(self) -> std::result::Result<UserRule, String> {
        let number = |b: &Option<Bound>, what: &str| -> std::result::Result<Option<f64>, String> {
            match b {
                None => Ok(None),
                Some(Bound::Number(n)) => Ok(Some(*n)),
                Some(Bound::Text(t)) => Err(format!("{what} must be a number, got \"{t}\"")),
            }
        };
        let given: Vec<&str> = [
            ("values", self.values.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("pattern", self.pattern.is_some()),
            ("max_age", self.max_age.is_some()),
            ("references", self.references.is_some()),
            ("referenced_columns", self.referenced_columns.is_some()),
        ]
        .iter()
        .filter(|(_, g)| *g)
        .map(|(k, _)| *k)
        .collect();
        let allowed: &[&str] = match self.kind.as_str() {
            "accepted_values" => &["values"],
            "range" | "row_count" => &["min", "max"],
            "regex" => &["pattern"],
            "max_null_fraction" => &["max"],
            "freshness" => &["max_age"],
            "unique" => &[],
            "implied_fk" => &["references", "referenced_columns"],
            other => return Err(format!("unknown rule type '{other}' (expected one of: {RULE_TYPES})")),
        };
        if let Some(extra) = given.iter().find(|k| !allowed.contains(k)) {
            return Err(format!("'{extra}' does not apply to a {} rule", self.kind));
        }
        let missing = |k: &str| format!("a {} rule needs '{k}'", self.kind);
        let check = match self.kind.as_str() {
            "accepted_values" => RuleCheck::AcceptedValues { values: self.values.ok_or_else(|| missing("values"))? },
            "range" => RuleCheck::Range { min: self.min, max: self.max },
            "regex" => RuleCheck::Regex { pattern: self.pattern.ok_or_else(|| missing("pattern"))? },
            "max_null_fraction" => RuleCheck::MaxNullFraction { max: number(&self.max, "max")?.ok_or_else(|| missing("max"))? },
            "row_count" => RuleCheck::RowCount {
                min: number(&self.min, "min")?.map(|n| n.max(0.0) as u64),
                max: number(&self.max, "max")?.map(|n| n.max(0.0) as u64),
            },
            "freshness" => RuleCheck::Freshness { max_age: self.max_age.ok_or_else(|| missing("max_age"))? },
            "unique" => RuleCheck::Unique,
            _ => RuleCheck::ImpliedFk {
                references: self.references.ok_or_else(|| missing("references"))?,
                referenced_columns: self.referenced_columns.ok_or_else(|| missing("referenced_columns"))?,
            },
        };
        Ok(UserRule { name: self.name, table: self.table, column: self.column, columns: self.columns, check, severity: self.severity })
    }
}

/// A bound in a range rule: a number, or a string compared as the column's type (dates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Bound {
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RuleCheck {
    AcceptedValues { values: Vec<serde_json::Value> },
    Range { min: Option<Bound>, max: Option<Bound> },
    Regex { pattern: String },
    MaxNullFraction { max: f64 },
    RowCount { min: Option<u64>, max: Option<u64> },
    Freshness { max_age: String },
    Unique,
    ImpliedFk { references: String, referenced_columns: Vec<String> },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RulesFile {
    pub rules: Vec<UserRule>,
}

impl RulesFile {
    pub fn from_toml(text: &str, origin: &str) -> Result<RulesFile> {
        let raw: RawFile = toml::from_str(text).map_err(|e| crate::config::toml_error(text, origin, &e))?;
        let rules = raw
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let label = format!("{origin}: rule #{} (table {})", i + 1, r.table);
                r.into_rule().map_err(|e| Error::invalid(format!("{label}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RulesFile { rules })
    }

    /// Rules given as data (bindings): a list of rule objects with the file's keys.
    pub fn from_json(value: serde_json::Value) -> Result<RulesFile> {
        let list = match value {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Object(mut o) if o.contains_key("rule") => match o.remove("rule") {
                Some(serde_json::Value::Array(items)) => items,
                _ => return Err(Error::invalid("rules: 'rule' must be a list")),
            },
            _ => return Err(Error::invalid("rules must be a list of rule objects or a path to a rules file")),
        };
        let rules = list
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let raw: RuleSpec = serde_json::from_value(item).map_err(|e| Error::invalid(format!("rule #{}: {e}", i + 1)))?;
                let label = format!("rule #{} (table {})", i + 1, raw.table);
                raw.into_rule().map_err(|e| Error::invalid(format!("{label}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RulesFile { rules })
    }

    pub fn load(path: &std::path::Path) -> Result<RulesFile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("cannot read rules {}: {e}", path.display())))?;
        RulesFile::from_toml(&text, &path.display().to_string())
    }
}

impl UserRule {
    pub fn display_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let target = match (&self.column, self.columns.is_empty()) {
            (Some(c), _) => format!("{}.{c}", self.table),
            (None, false) => format!("{}({})", self.table, self.columns.join(", ")),
            (None, true) => self.table.clone(),
        };
        let kind = match &self.check {
            RuleCheck::AcceptedValues { .. } => "accepted_values",
            RuleCheck::Range { .. } => "range",
            RuleCheck::Regex { .. } => "regex",
            RuleCheck::MaxNullFraction { .. } => "max_null_fraction",
            RuleCheck::RowCount { .. } => "row_count",
            RuleCheck::Freshness { .. } => "freshness",
            RuleCheck::Unique => "unique",
            RuleCheck::ImpliedFk { .. } => "implied_fk",
        };
        format!("{kind} {target}")
    }

    /// The columns this rule reads: `column` or `columns`.
    pub fn target_columns(&self) -> Vec<String> {
        match &self.column {
            Some(c) => vec![c.clone()],
            None => self.columns.clone(),
        }
    }

    /// Reject rules that cannot run: unknown tables or columns, missing parameters, invalid
    /// patterns, nonsense bounds. Every message names the rule.
    pub fn validate(&self, schema: &SchemaSnapshot, _dialect: Dialect) -> Result<()> {
        let name = self.display_name();
        let fail = |msg: String| Err(Error::invalid(format!("integrity rule '{name}': {msg}")));
        let Some(table) = schema.table(&self.table) else {
            return fail(format!("unknown table '{}'", self.table));
        };
        if self.column.is_some() && !self.columns.is_empty() {
            return fail("give either column or columns, not both".into());
        }
        for c in self.target_columns() {
            if table.column(&c).is_none() {
                return fail(format!("unknown column '{c}' in table {}", table.name));
            }
        }
        let needs_column = !matches!(self.check, RuleCheck::RowCount { .. } | RuleCheck::Unique | RuleCheck::ImpliedFk { .. });
        if needs_column && self.column.is_none() {
            return fail("this rule type needs a column".into());
        }
        match &self.check {
            RuleCheck::AcceptedValues { values } if values.is_empty() => fail("values is empty".into()),
            RuleCheck::Range { min: None, max: None } => fail("a range needs min, max or both".into()),
            RuleCheck::Regex { pattern } => match regex::Regex::new(pattern) {
                Ok(_) => Ok(()),
                Err(e) => fail(format!("invalid regex: {}", e.to_string().lines().last().unwrap_or("invalid"))),
            },
            RuleCheck::MaxNullFraction { max } if !(0.0..=1.0).contains(max) => fail(format!("max must be between 0 and 1, got {max}")),
            RuleCheck::RowCount { min: None, max: None } => fail("row_count needs min, max or both".into()),
            RuleCheck::RowCount { min: Some(a), max: Some(b) } if a > b => fail(format!("min {a} is above max {b}")),
            RuleCheck::Freshness { max_age } => {
                parse_age(max_age).map(|_| ()).map_err(|e| Error::invalid(format!("integrity rule '{name}': {e}")))
            }
            RuleCheck::Unique if self.columns.is_empty() && self.column.is_none() => fail("unique needs columns".into()),
            RuleCheck::ImpliedFk { references, referenced_columns } => {
                let cols = self.target_columns();
                let Some(parent) = schema.table(references) else {
                    return fail(format!("unknown referenced table '{references}'"));
                };
                if cols.is_empty() || cols.len() != referenced_columns.len() {
                    return fail("columns and referenced_columns must be non-empty and of equal length".into());
                }
                match referenced_columns.iter().find(|c| parent.column(c).is_none()) {
                    Some(c) => fail(format!("unknown column '{c}' in referenced table {}", parent.name)),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

/// "90s", "45m", "36h", "7d", "2w" → seconds.
pub fn parse_age(text: &str) -> std::result::Result<i64, String> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = number.parse().map_err(|_| format!("invalid max_age '{text}' (expected e.g. 90m, 36h, 7d)"))?;
    let factor = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("invalid max_age '{text}' (units: s, m, h, d, w)")),
    };
    Ok(n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_rule_type() {
        let text = r#"
[[rule]]
table = "orders"
column = "status"
type = "accepted_values"
values = ["new", "paid"]

[[rule]]
table = "orders"
column = "total"
type = "range"
min = 0
max = 100000

[[rule]]
table = "orders"
column = "placed_at"
type = "freshness"
max_age = "7d"

[[rule]]
table = "orders"
type = "implied_fk"
columns = ["customer_id"]
references = "customers"
referenced_columns = ["id"]
severity = "critical"
"#;
        let file = RulesFile::from_toml(text, "rules.toml").unwrap();
        assert_eq!(file.rules.len(), 4);
        assert_eq!(file.rules[3].severity, Some(Severity::Critical));
        assert_eq!(file.rules[1].display_name(), "range orders.total");
    }

    #[test]
    fn bad_files_name_the_position() {
        let err = RulesFile::from_toml("[[rule]]\ntable = \"t\"\ntype = \"sparkle\"\n", "rules.toml").unwrap_err().to_string();
        assert!(err.contains("rule #1") && err.contains("unknown rule type 'sparkle'"), "{err}");
        let err =
            RulesFile::from_toml("[[rule]]\ntable = \"t\"\ntype = \"unique\"\ncolums = [\"a\"]\n", "rules.toml").unwrap_err().to_string();
        assert!(err.contains("rules.toml:") && err.contains("colums"), "{err}");
        let err = RulesFile::from_toml("[[rule]]\ntable = \"t\"\ncolumn = \"c\"\ntype = \"range\"\npattern = \"x\"\n", "rules.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'pattern' does not apply to a range rule"), "{err}");
        assert_eq!(parse_age("36h"), Ok(129_600));
        assert!(parse_age("soon").is_err());
    }
}
