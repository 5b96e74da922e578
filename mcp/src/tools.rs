//! The tools, as a model sees them, derived from the operation registry: every operation
//! declared as an assistant tool becomes one, with the fields the registry lets it expose,
//! their JSON Schemas and descriptions taken from the core's request types. Approving or
//! rejecting a run is deliberately not a tool (the registry says why): approval stays with
//! humans (`dbconsultant runs approve`).

use dbconsultant::ops::{self, Assistant, Operation};
use serde_json::{json, Map, Value};

use crate::Mode;

/// Request fields naming a database by URL, and the tool argument that names it instead: a
/// model chooses among the server's databases by name and never sees or gives a URL.
pub const DATABASE_FIELDS: &[(&str, &str)] = &[("database_url", "database"), ("source_url", "source"), ("target_url", "target")];

/// One tool: the operation it runs and how it is offered.
#[derive(Clone, Copy)]
pub struct ToolSpec {
    pub name: &'static str,
    pub op: &'static Operation,
    /// Read-only tools are offered in every mode; the others only with `--mode sandbox`.
    pub read_only: bool,
    /// Request fields exposed (wire names).
    pub fields: &'static [&'static str],
}

/// Every tool the registry declares.
pub fn tools(registry: &'static [Operation]) -> Vec<ToolSpec> {
    registry
        .iter()
        .filter_map(|op| match op.spec.assistant {
            Assistant::Tool { name, read_only, fields } => Some(ToolSpec { name, op, read_only, fields }),
            Assistant::Never(_) => None,
        })
        .collect()
}

/// The tool argument a request field is given as.
pub fn argument_name(field: &str) -> &str {
    DATABASE_FIELDS.iter().find(|(f, _)| *f == field).map(|(_, a)| *a).unwrap_or(field)
}

/// A title from the name: `list_tables` → `List tables`.
fn title(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

/// `$ref`s replaced by what they point at, so the tool schema stands alone.
fn inline(schema: &Value, definitions: &Map<String, Value>, depth: usize) -> Value {
    if depth > 8 {
        return json!({});
    }
    match schema {
        Value::Object(o) => {
            if let Some(target) = o.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()).and_then(|n| definitions.get(n))
            {
                let mut resolved = inline(target, definitions, depth + 1);
                if let (Value::Object(r), Some(description)) = (&mut resolved, o.get("description")) {
                    r.insert("description".into(), description.clone());
                }
                return resolved;
            }
            Value::Object(o.iter().map(|(k, v)| (k.clone(), inline(v, definitions, depth + 1))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| inline(v, definitions, depth + 1)).collect()),
        other => other.clone(),
    }
}

/// One paragraph of a doc comment.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Limits the server enforces on top of the core's, per argument.
pub struct Limits {
    pub max_rows: usize,
}

/// Most timed runs a profile may ask for, and most runs a listing returns.
pub const MAX_RUNS: u64 = 20;
pub const MAX_LISTED: u64 = 200;

impl ToolSpec {
    /// Offered in this mode?
    pub fn available(&self, mode: Mode) -> bool {
        self.read_only || mode == Mode::Sandbox
    }

    pub fn title(&self) -> String {
        title(self.name)
    }

    pub fn description(&self) -> &'static str {
        self.op.spec.description
    }

    /// The arguments' JSON Schema: the exposed request fields, database URLs as an enum of
    /// the configured names (required when there is more than one), server limits as maxima.
    pub fn input_schema(&self, database_names: &[&str], limits: &Limits) -> Map<String, Value> {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        let reference = (self.op.request)(&mut generator);
        let definitions = generator.take_definitions(true);
        let request = ops::resolve(reference.as_value(), &definitions).clone();
        let required: Vec<&str> =
            request.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let mut properties = Map::new();
        let mut required_args: Vec<Value> = Vec::new();
        for field in self.fields {
            let Some(schema) = request.get("properties").and_then(|p| p.get(*field)) else { continue };
            let argument = argument_name(field);
            let mut schema = inline(schema, &definitions, 0);
            if let Value::Object(s) = &mut schema {
                s.remove("default").filter(|d| d.is_string() || d.is_number() || d.is_boolean()).map(|d| s.insert("default".into(), d));
                if let Some(Value::String(d)) = s.get("description").cloned() {
                    s.insert("description".into(), Value::String(one_line(&d)));
                }
                if argument != *field {
                    *s = Map::new();
                    s.insert("type".into(), json!("string"));
                    s.insert("enum".into(), json!(database_names));
                    let what = match argument {
                        "source" => "The source database",
                        "target" => "The target database",
                        _ => "Which database",
                    };
                    let default = if argument == "database" { " (default: the only one)" } else { "" };
                    s.insert("description".into(), json!(format!("{what}, by name{default}.")));
                }
                match *field {
                    "max_rows" => {
                        s.insert("type".into(), json!("integer"));
                        s.insert("maximum".into(), json!(limits.max_rows));
                        s.insert("description".into(), json!(format!("Most rows to return (default and ceiling: {}).", limits.max_rows)));
                    }
                    "runs" => {
                        s.insert("maximum".into(), json!(MAX_RUNS));
                    }
                    "limit" => {
                        s.insert("maximum".into(), json!(MAX_LISTED));
                    }
                    _ => {}
                }
            }
            let needed = required.contains(field) && !(argument == "database" && database_names.len() == 1);
            if needed {
                required_args.push(json!(argument));
            }
            properties.insert(argument.to_string(), schema);
        }
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(properties));
        if !required_args.is_empty() {
            schema.insert("required".into(), Value::Array(required_args));
        }
        schema.insert("additionalProperties".into(), json!(false));
        schema
    }
}
