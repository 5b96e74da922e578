//! Each operation of the registry as an endpoint: its path, its role, and which request fields
//! a caller sends. Databases are named (targets registered on the server), never given as URLs
//! or passwords; what the server governs (its config, the run's environment, who requests or
//! decides) is set from the server's side; nothing reads or writes files on the server's disk.

use dbconsultant::model::Environment;
use dbconsultant::ops::{self, HttpMethod, Operation, Rest, Role};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use schemars::SchemaGenerator;
use serde_json::{json, Map, Value};

use crate::problem::Problem;
use crate::targets::Target;

/// Request fields naming a database by URL, the argument naming it instead, and its password field.
pub const DATABASE_FIELDS: &[(&str, &str, &str)] = &[
    ("database_url", "database", "database_password"),
    ("source_url", "source", "source_password"),
    ("target_url", "target", "target_password"),
];

/// Request fields the server sets, and why a caller may not.
const GOVERNED: &[(&str, &str)] = &[
    ("database_password", "passwords are registered with the target on the server"),
    ("source_password", "passwords are registered with the target on the server"),
    ("target_password", "passwords are registered with the target on the server"),
    ("config", "the server's configuration applies"),
    ("environment", "a run's environment is its target's"),
    ("approver", "the approver is the authenticated caller"),
    ("requested_by", "the requester is the authenticated caller"),
    ("sandbox_url", "the sandbox is the server's configuration ([sandbox] sandbox_url)"),
];

/// One operation as an endpoint.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub op: Operation,
    pub method: HttpMethod,
    /// Under `/api/v1/db/`.
    pub path: &'static str,
    pub role: Role,
}

/// Every operation the registry gives an endpoint.
pub fn endpoints(registry: &[Operation]) -> Vec<Endpoint> {
    registry
        .iter()
        .filter_map(|op| match op.spec.rest {
            Rest::Endpoint { method, path, role } => Some(Endpoint { op: *op, method, path, role }),
            Rest::Absent(_) => None,
        })
        .collect()
}

/// The core request's schema with its `$ref` followed (definitions stay in `generator`).
fn core_request(op: &Operation, generator: &mut SchemaGenerator) -> Value {
    let reference = (op.request)(generator);
    let definitions = generator.definitions().clone();
    ops::resolve(reference.as_value(), &definitions).clone()
}

/// A `$ref` followed through the generator's definitions.
fn follow(schema: &Value, generator: &SchemaGenerator) -> Value {
    follow_in(schema, generator.definitions())
}

fn follow_in(schema: &Value, definitions: &Map<String, Value>) -> Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) {
        Some(name) => definitions.get(name).cloned().unwrap_or_else(|| schema.clone()),
        None => schema.clone(),
    }
}

/// What handling a request needs of an operation's schemas, worked out once per operation
/// (generating JSON Schemas costs more than the rest of a small request).
pub struct Shape {
    /// What a caller sends, and which of it is required.
    pub fields: Map<String, Value>,
    pub required: Vec<String>,
    /// The core request's fields.
    pub core_properties: Map<String, Value>,
    /// What the schemas' `$ref`s point at.
    pub definitions: Map<String, Value>,
}

/// What a field that reads the server's disk keeps: its variants that are not paths (a list of
/// rule objects, not the path of a rules file), or nothing.
fn without_paths(schema: &Value, generator: &SchemaGenerator) -> Option<Value> {
    let is_path = |v: &Value| {
        v.get("type") == Some(&json!("string"))
            || (v.get("type") == Some(&json!("array")) && v.get("items").and_then(|i| i.get("type")) == Some(&json!("string")))
    };
    let resolved = follow(schema, generator);
    let variants = resolved.get("anyOf").or_else(|| resolved.get("oneOf")).and_then(Value::as_array)?;
    let mut kept: Vec<Value> = variants.iter().filter(|v| !is_path(v)).cloned().collect();
    let mut one = (kept.len() == 1).then(|| kept.remove(0))?;
    if let (Value::Object(o), Some(d)) = (&mut one, schema.get("description")) {
        o.insert("description".into(), d.clone());
    }
    Some(one)
}

fn local_files(schema: &Value) -> bool {
    schema.get("x-local-files") == Some(&json!(true))
}

impl Endpoint {
    pub fn name(&self) -> &'static str {
        self.op.spec.name
    }

    /// Why the server sets this field, when it does. A run's requester and environment are
    /// the caller's and the target's when the operation starts a run; listing runs takes them
    /// as filters.
    fn governed(&self, field: &str) -> Option<&'static str> {
        let (_, why) = GOVERNED.iter().find(|(g, _)| *g == field)?;
        (!matches!(field, "requested_by" | "environment") || self.role == Role::Runner).then_some(*why)
    }

    /// The fields taken from the path (`{test_run_id}`).
    pub fn path_fields(&self) -> Vec<&'static str> {
        self.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
    }

    /// The fields a caller sends (path fields included) and their schemas (`$ref`s into the
    /// generator's definitions), and which are required.
    pub fn fields(&self, generator: &mut SchemaGenerator) -> (Map<String, Value>, Vec<String>) {
        let request = core_request(&self.op, generator);
        let required: Vec<&str> =
            request.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let mut fields = Map::new();
        let mut needed = Vec::new();
        let Some(properties) = request.get("properties").and_then(Value::as_object) else { return (fields, needed) };
        for (name, schema) in properties {
            if self.governed(name).is_some() {
                continue;
            }
            let (argument, schema) = if let Some((_, argument, _)) = DATABASE_FIELDS.iter().find(|(f, _, _)| f == name) {
                let what = match *argument {
                    "source" => "The source table's database",
                    "target" => "The target table's database",
                    _ => "The database",
                };
                (
                    argument.to_string(),
                    json!({"type": "string", "description": format!("{what}: the name of a target registered on the server (targets.toml).")}),
                )
            } else if local_files(schema) {
                match without_paths(schema, generator) {
                    Some(s) => (name.clone(), s),
                    None => continue,
                }
            } else {
                (name.clone(), schema.clone())
            };
            if required.contains(&name.as_str()) {
                needed.push(argument.clone());
            }
            fields.insert(argument, schema);
        }
        (fields, needed)
    }

    /// This endpoint's [`Shape`], from a cache filled on first use.
    pub fn shape(&self) -> Arc<Shape> {
        static SHAPES: OnceLock<Mutex<HashMap<&'static str, Arc<Shape>>>> = OnceLock::new();
        let mut shapes = SHAPES.get_or_init(Mutex::default).lock().unwrap_or_else(|p| p.into_inner());
        shapes
            .entry(self.name())
            .or_insert_with(|| {
                let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
                let (fields, required) = self.fields(&mut generator);
                let core_properties =
                    core_request(&self.op, &mut generator).get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
                Arc::new(Shape { fields, required, core_properties, definitions: generator.definitions().clone() })
            })
            .clone()
    }

    /// The core request for what a caller sent (`input`: body or query, with path fields),
    /// and the targets it names. The server's own fields are filled in by [`Governed`].
    pub fn request<'t>(
        &self,
        input: Map<String, Value>,
        targets: &'t [Target],
        governed: &Governed,
    ) -> Result<(Value, Vec<&'t Target>), Problem> {
        let shape = self.shape();
        let (fields, required, core_properties) = (&shape.fields, &shape.required, &shape.core_properties);
        let name = self.name();
        let mut request = Map::new();
        let mut named = Vec::new();
        for (key, value) in input {
            if value.is_null() {
                continue;
            }
            if let Some(why) = self.governed(&key) {
                return Err(Problem::invalid(format!("{name}: '{key}' is not sent: {why}")));
            }
            if let Some((_, argument, _)) = DATABASE_FIELDS.iter().find(|(f, _, _)| *f == key) {
                return Err(Problem::invalid(format!(
                    "{name}: send '{argument}', the name of a target registered on the server, not a URL in '{key}'"
                )));
            }
            if !fields.contains_key(&key) {
                if core_properties.contains_key(&key) {
                    return Err(Problem::invalid(format!(
                        "{name}: '{key}' names files on the server, which the service does not read or write"
                    )));
                }
                let known: Vec<&str> = fields.keys().map(String::as_str).collect();
                return Err(Problem::invalid(format!("{name}: unknown field '{key}' (expected one of: {})", known.join(", "))));
            }
            if let Some((field, argument, password)) = DATABASE_FIELDS.iter().find(|(_, a, _)| *a == key) {
                let target_name =
                    value.as_str().ok_or_else(|| Problem::invalid(format!("{name}: '{argument}' must be a target name, got {value}")))?;
                let target = targets.iter().find(|t| t.name == target_name).ok_or_else(|| {
                    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
                    Problem::new(
                        axum::http::StatusCode::NOT_FOUND,
                        "not_found",
                        format!("no target named '{target_name}' (targets: {})", names.join(", ")),
                    )
                })?;
                request.insert(field.to_string(), json!(target.url));
                if let Some(p) = &target.password {
                    request.insert(password.to_string(), json!(p.expose()));
                }
                named.push((key.clone(), target));
                continue;
            }
            let names_files = value.is_string() || value.as_array().is_some_and(|a| a.iter().any(Value::is_string));
            if names_files && core_properties.get(&key).is_some_and(local_files) {
                return Err(Problem::invalid(format!("{name}: '{key}' is given inline here, not as a path; the service reads no files")));
            }
            request.insert(key, value);
        }
        if let Some(missing) = required.iter().find(|f| !request.contains_key(*f) && !named.iter().any(|(a, _)| a == *f)) {
            return Err(Problem::invalid(format!("{name}: missing field '{missing}'")));
        }
        // The run's environment: the target table's database for ETL, else the one database.
        let environment = named.iter().find(|(a, _)| a == "target").or(named.first()).map(|(_, t)| t.environment);
        governed.apply(core_properties, &mut request, environment, self.role == Role::Runner);
        Ok((Value::Object(request), named.into_iter().map(|(_, t)| t).collect()))
    }
}

/// What the server sets on every request whose operation has the field.
pub struct Governed<'a> {
    pub config: &'a Value,
    pub caller: &'a str,
}

impl Governed<'_> {
    fn apply(
        &self,
        core_properties: &Map<String, Value>,
        request: &mut Map<String, Value>,
        environment: Option<Environment>,
        starts_runs: bool,
    ) {
        let has = |f: &str| core_properties.contains_key(f);
        if has("config") {
            request.insert("config".into(), self.config.clone());
        }
        if has("approver") {
            request.insert("approver".into(), json!(self.caller));
        }
        if has("requested_by") && starts_runs {
            request.insert("requested_by".into(), json!(self.caller));
        }
        if has("environment") && starts_runs {
            if let Some(env) = environment {
                request.insert("environment".into(), json!(env.as_str()));
            }
        }
    }
}

/// A query-string value as the field's schema types it (`limit=5` is a number), or what it
/// should have been.
pub fn typed(value: &str, schema: &Value, definitions: &Map<String, Value>) -> Result<Value, &'static str> {
    let schema = follow_in(schema, definitions);
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.contains(&"integer") {
        return value.parse::<i64>().map(Value::from).map_err(|_| "an integer");
    }
    if types.contains(&"number") {
        return value.parse::<serde_json::Number>().map(Value::Number).map_err(|_| "a number");
    }
    if types.contains(&"boolean") {
        return match value {
            "true" => Ok(json!(true)),
            "false" => Ok(json!(false)),
            _ => Err("true or false"),
        };
    }
    Ok(json!(value))
}

/// How GET endpoints take their fields, for the document's description.
pub fn typed_schema_note() -> &'static str {
    "GET endpoints take their fields as query parameters, POST endpoints as a JSON object."
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbconsultant::driver::credentials::Password;

    fn endpoint(name: &str) -> Endpoint {
        endpoints(ops::registry()).into_iter().find(|e| e.name() == name).expect("an endpoint")
    }

    fn targets() -> Vec<Target> {
        vec![
            Target {
                name: "src".into(),
                url: "postgres://u@h/db".into(),
                environment: Environment::Prod,
                password: Some(Password::new("pw")),
            },
            Target { name: "dst".into(), url: "sqlite:///tmp/x.db".into(), environment: Environment::Qa, password: None },
        ]
    }

    fn governed() -> Governed<'static> {
        static CONFIG: OnceLock<Value> = OnceLock::new();
        Governed { config: CONFIG.get_or_init(|| json!({"cfg": 1})), caller: "alice" }
    }

    /// What callers may send, per endpoint: a new request field shows up here, and whoever adds
    /// it decides whether a caller may set it.
    #[test]
    fn fields_callers_send() {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        let listing: Vec<String> = endpoints(ops::registry())
            .iter()
            .map(|e| {
                let (fields, required) = e.fields(&mut generator);
                let names: Vec<String> = fields.keys().map(|k| if required.contains(k) { format!("{k}*") } else { k.clone() }).collect();
                format!("{} {} {}: {}", e.method.as_str(), e.path, e.role.as_str(), names.join(" "))
            })
            .collect();
        insta::assert_snapshot!(listing.join("\n"));
    }

    #[test]
    fn names_become_urls_and_passwords_and_the_server_sets_what_it_governs() {
        let input = json!({"source": "src", "source_table": "t", "target": "dst", "target_table": "t"});
        let targets = targets();
        let (request, named) = endpoint("validate_etl").request(input.as_object().unwrap().clone(), &targets, &governed()).unwrap();
        assert_eq!(request["source_url"], "postgres://u@h/db");
        assert_eq!(request["source_password"], "pw");
        assert_eq!(request["target_url"], "sqlite:///tmp/x.db");
        assert!(request.get("target_password").is_none());
        assert_eq!(request["environment"], "qa", "an ETL run's environment is its target table's");
        assert_eq!((request["requested_by"].as_str(), &request["config"]), (Some("alice"), &json!({"cfg": 1})));
        assert_eq!(named.len(), 2);
    }

    #[test]
    fn urls_paths_and_governed_fields_are_refused_with_the_reason() {
        let targets = targets();
        for (name, input, needle) in [
            ("validate_schema", json!({"database_url": "sqlite:///etc/x"}), "not a URL"),
            ("validate_schema", json!({"database": "src", "migration_script": "/etc/passwd"}), "files on the server"),
            ("check_integrity", json!({"database": "src", "rules": "/etc/rules.toml"}), "not as a path"),
            ("check_integrity", json!({"database": "src", "database_password": "x"}), "registered with the target"),
            ("approve_test_run", json!({"test_run_id": "r", "approver": "bob"}), "authenticated caller"),
            ("validate_schema", json!({"database": "nope"}), "no target named 'nope'"),
            ("validate_schema", json!({"migration_sql": "SELECT 1"}), "missing field 'database'"),
        ] {
            let e = endpoint(name).request(input.as_object().unwrap().clone(), &targets, &governed()).unwrap_err();
            assert!(e.details().detail.contains(needle), "{name} {input}: {}", e.details().detail);
        }
        let rules = json!({"database": "dst", "rules": [{"table": "t", "column": "c", "type": "not_null"}]});
        let (request, _) = endpoint("check_integrity").request(rules.as_object().unwrap().clone(), &targets, &governed()).unwrap();
        assert_eq!(request["rules"][0]["type"], "not_null", "inline rules pass");
    }
}
