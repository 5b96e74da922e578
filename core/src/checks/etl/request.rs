//! The request behind `validate_etl` on every surface.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::model::{Environment, TriggerType};

/// How rows are located when the checksums differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// A single join when both tables live in one database and every column compares
    /// exactly; checksum bisection otherwise.
    #[default]
    Auto,
    /// Segment checksums in each database, split until the differing rows are few.
    Bisect,
    /// One join query (both tables in the same database only).
    Join,
}

impl<'de> Deserialize<'de> for Strategy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(|e: crate::Error| serde::de::Error::custom(e.detail()))
    }
}

impl std::str::FromStr for Strategy {
    type Err = crate::Error;
    fn from_str(text: &str) -> crate::Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Strategy::Auto),
            "bisect" | "bisection" => Ok(Strategy::Bisect),
            "join" => Ok(Strategy::Join),
            other => Err(crate::Error::invalid(format!("unknown strategy '{other}' (auto, bisect, join)"))),
        }
    }
}

/// One aggregate to reconcile: `function` over `column` (`count` accepts `*`). Reads as
/// `{"function": "sum", "column": "amount"}` or as the text `"sum:amount"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AggregateSpec {
    pub function: AggregateFunction,
    pub column: String,
}

impl schemars::JsonSchema for AggregateSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AggregateSpec".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let function = generator.subschema_for::<AggregateFunction>();
        schemars::json_schema!({
            "description": "An aggregate to reconcile: `FUNCTION:COLUMN` (`sum:amount`, `count:*`) or an object.",
            "anyOf": [
                // Case-insensitive by character classes: JSON Schema patterns are ECMA-262, which has no inline (?i).
                {"type": "string", "pattern": "^([Cc][Oo][Uu][Nn][Tt]|[Ss][Uu][Mm]|[Mm][Ii][Nn]|[Mm][Aa][Xx]):.+$"},
                {"type": "object", "properties": {"function": function, "column": {"type": "string"}}, "required": ["function", "column"], "additionalProperties": false}
            ]
        })
    }
}

impl<'de> Deserialize<'de> for AggregateSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Input {
            Text(String),
            Spec { function: AggregateFunction, column: String },
        }
        match Input::deserialize(d)? {
            Input::Text(text) => text.parse().map_err(|e: crate::Error| serde::de::Error::custom(e.detail())),
            Input::Spec { function, column } => Ok(AggregateSpec { function, column }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AggregateFunction {
    Count,
    Sum,
    Min,
    Max,
}

impl AggregateFunction {
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateFunction::Count => "count",
            AggregateFunction::Sum => "sum",
            AggregateFunction::Min => "min",
            AggregateFunction::Max => "max",
        }
    }
}

impl std::str::FromStr for AggregateSpec {
    type Err = crate::Error;
    /// `sum:amount`, `count:*`, `max:created_at`.
    fn from_str(text: &str) -> crate::Result<Self> {
        let (function, column) = text
            .split_once(':')
            .ok_or_else(|| crate::Error::invalid(format!("aggregate '{text}': write FUNCTION:COLUMN, e.g. sum:amount")))?;
        let function = match function.trim().to_ascii_lowercase().as_str() {
            "count" => AggregateFunction::Count,
            "sum" => AggregateFunction::Sum,
            "min" => AggregateFunction::Min,
            "max" => AggregateFunction::Max,
            other => return Err(crate::Error::invalid(format!("aggregate '{text}': unknown function '{other}' (count, sum, min, max)"))),
        };
        Ok(AggregateSpec { function, column: column.trim().to_string() })
    }
}

/// Reconcile a target table with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["source_url", "source_table", "target_url"]))]
#[serde(default, deny_unknown_fields)]
pub struct EtlRequest {
    /// The source database (read-only): `sqlite://PATH`, `postgres://...`, `mysql://...`.
    pub source_url: String,
    /// The password of the URL's user, when the URL holds none (else PostgreSQL's
    /// `PGPASSWORD` / `~/.pgpass`, MySQL's option files / `MYSQL_PWD` are used). Never stored
    /// or echoed.
    #[serde(skip_serializing)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "format" = "password"))]
    pub source_password: Option<crate::driver::credentials::Password>,
    pub source_table: String,
    /// The target database (read-only); may be another server and dialect.
    pub target_url: String,
    /// The password of the URL's user, when the URL holds none (else PostgreSQL's
    /// `PGPASSWORD` / `~/.pgpass`, MySQL's option files / `MYSQL_PWD` are used). Never stored
    /// or echoed.
    #[serde(skip_serializing)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "format" = "password"))]
    pub target_password: Option<crate::driver::credentials::Password>,
    /// Defaults to `source_table`.
    pub target_table: Option<String>,
    /// Key column(s) (source names) identifying a row on both sides; default: the source
    /// table's primary key.
    #[serde(deserialize_with = "crate::inputs::one_or_many")]
    #[schemars(with = "crate::inputs::OneOrMany")]
    pub key: Vec<String>,
    /// Columns to compare (source names); empty means every column both tables have.
    pub columns: Vec<String>,
    /// Columns left out when comparing every column.
    pub exclude_columns: Vec<String>,
    /// Source column → target column, where the names differ.
    pub column_map: BTreeMap<String, String>,
    /// A filter applied on both sides (e.g. an incremental load's window), as a SQL
    /// expression.
    #[serde(rename = "where")]
    pub where_clause: Option<String>,
    /// A source-only filter (overrides `where_clause` on the source).
    pub source_where: Option<String>,
    /// A target-only filter (overrides `where_clause` on the target).
    pub target_where: Option<String>,
    /// Absolute tolerance for every numeric column.
    pub tolerance: Option<f64>,
    /// Absolute tolerance per numeric column (source name).
    pub column_tolerance: BTreeMap<String, f64>,
    /// Round a numeric column to this many decimals on both sides before comparing.
    pub round: BTreeMap<String, u32>,
    /// Decimals floating-point columns are compared at (default 6).
    pub float_decimals: u32,
    /// Aggregates to reconcile besides the rows.
    pub aggregates: Vec<AggregateSpec>,
    /// Reconcile the aggregates per value of this column (source name).
    pub group_by: Option<String>,
    pub strategy: Strategy,
    /// Most segments one checksum query splits a range into.
    pub segments: usize,
    /// Ranges with at most this many rows are compared row by row.
    pub bisection_threshold: u64,
    /// Checksum queries run at once on each database over the key ranges of a large table
    /// (1 to 16; default 1). More helps when the databases have cores to spare; each one is
    /// a connection and a share of the table's scan.
    pub jobs: Option<usize>,
    /// How long one query may run, in ms.
    #[serde(rename = "timeout_ms")]
    pub statement_timeout_ms: u64,
    /// Keys listed in the run document per kind of difference (default 100; the counts stay
    /// exact). `keys_out` has them all.
    pub sample_limit: Option<usize>,
    /// Write every differing key, whatever the count, to this JSON Lines file (kind, key,
    /// changed columns with masked source and target values), streamed with flat memory.
    #[schemars(extend("x-local-files" = true))]
    pub keys_out: Option<String>,
    /// Hold a passing run for a human decision (approve, reject or escalate) instead of
    /// passing it.
    pub require_human_approval: bool,
    pub environment: Environment,
    pub trigger_type: TriggerType,
    /// Who asks for the run (recorded on it and as the actor of its `created` audit event;
    /// the REST service sets the authenticated caller). Whoever requested a run cannot decide it.
    pub requested_by: Option<String>,
    /// Store the run under this id (default: a new UUID; letters, digits, `-` and `_`, at most
    /// 64). A second run with an id already stored is refused, so a retried request stores
    /// its run once.
    pub run_id: Option<String>,
    /// `dbconsultant.toml` inline, or its path.
    #[serde(deserialize_with = "crate::inputs::config")]
    #[schemars(with = "crate::inputs::ConfigInput", extend("x-local-files" = true))]
    pub config: Config,
}

impl Default for EtlRequest {
    fn default() -> Self {
        EtlRequest {
            source_url: String::new(),
            source_password: None,
            source_table: String::new(),
            target_url: String::new(),
            target_password: None,
            target_table: None,
            key: Vec::new(),
            columns: Vec::new(),
            exclude_columns: Vec::new(),
            column_map: BTreeMap::new(),
            where_clause: None,
            source_where: None,
            target_where: None,
            tolerance: None,
            column_tolerance: BTreeMap::new(),
            round: BTreeMap::new(),
            float_decimals: 6,
            aggregates: Vec::new(),
            group_by: None,
            strategy: Strategy::Auto,
            segments: 32768,
            bisection_threshold: 512,
            jobs: None,
            statement_timeout_ms: 300_000,
            sample_limit: None,
            keys_out: None,
            require_human_approval: false,
            environment: Environment::Qa,
            trigger_type: TriggerType::Etl,
            requested_by: None,
            run_id: None,
            config: Config::default(),
        }
    }
}
