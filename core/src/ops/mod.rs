//! The operation registry: every operation the product offers, declared once, with its
//! request and response types (serde, with JSON Schemas derived from them) and how each
//! surface presents it. The CLI, the MCP server, the REST service and the Python, Node and
//! Java SDKs are generated from this registry or tested against it (`cargo xtask codegen`
//! writes the generated parts; `xtask` and each language's tests fail when a surface drifts).
//!
//! Adding an operation: implement [`Op`] for a unit type in `ops/catalogue.rs` (its request
//! and response types derive `Serialize`/`Deserialize`/`JsonSchema`), list it in
//! [`registry`], run `cargo xtask codegen`, and give it a CLI subcommand (or say in its
//! [`Spec::cli`] why it has none).

mod catalogue;
pub mod requests;

use std::future::Future;
use std::pin::Pin;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::engine::Consultant;
use crate::error::{Error, Result};

pub use catalogue::*;

/// One operation, as its implementation declares it.
pub trait Op: Send + Sync + 'static {
    /// How the operation is presented on every surface.
    const SPEC: Spec;
    type Request: DeserializeOwned + JsonSchema + Send + 'static;
    type Response: Serialize + JsonSchema;
    fn run(consultant: &Consultant, request: Self::Request) -> impl Future<Output = Result<Self::Response>> + Send;
    /// [`Op::run`], reporting its progress as it goes (the REST service's job events); an
    /// operation with nothing to report runs as it would.
    fn run_with_progress<'a>(
        consultant: &'a Consultant,
        request: Self::Request,
        progress: Progress<'a>,
    ) -> impl Future<Output = Result<Self::Response>> + Send + 'a {
        let _ = progress;
        Self::run(consultant, request)
    }
}

/// Progress of a running operation: (done, total, what is being done).
pub type Progress<'a> = crate::checks::integrity::Progress<'a>;

/// How an operation is presented on every surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// snake_case; Python and REST use it as it is, Node and Java in camelCase.
    pub name: &'static str,
    /// One line: what it does (docstrings, `--help`, the OpenAPI summary).
    pub summary: &'static str,
    /// More, for readers who decide whether to call it (MCP tool descriptions, docs).
    pub description: &'static str,
    pub group: Group,
    /// Whether it stores something (a run, a decision).
    pub writes_store: bool,
    /// How AI assistants (MCP) may use it.
    pub assistant: Assistant,
    /// Its CLI subcommand.
    pub cli: Cli,
    /// Its REST endpoint.
    pub rest: Rest,
    /// Fields Python and Java take as leading positional parameters, in order.
    pub positional: &'static [&'static str],
    /// Fields Node takes as leading positional parameters (the rest is an options object).
    pub node_positional: &'static [&'static str],
    /// Further names a language gives the operation (the names users of earlier versions and
    /// the product's documentation know).
    pub aliases: &'static [Alias],
}

/// What an operation is about (documentation sections, REST tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Schema,
    Integrity,
    Etl,
    Performance,
    Runs,
    Audit,
    Inspection,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Schema => "schema",
            Group::Integrity => "integrity",
            Group::Etl => "etl",
            Group::Performance => "performance",
            Group::Runs => "runs",
            Group::Audit => "audit",
            Group::Inspection => "inspection",
        }
    }
}

/// An MCP tool, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assistant {
    Tool {
        /// The tool's name (usually the operation's).
        name: &'static str,
        /// Read-only tools are offered in every mode; the others only with `--mode sandbox`.
        read_only: bool,
        /// Request fields the tool exposes (database URLs become database names).
        fields: &'static [&'static str],
    },
    /// Deliberately not a tool, and why.
    Never(&'static str),
}

/// The CLI subcommand, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cli {
    Command(&'static [&'static str]),
    Absent(&'static str),
}

/// The REST endpoint (`dbconsultant serve`), or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rest {
    Endpoint {
        method: HttpMethod,
        /// Under `/api/v1/db/`; `{field}` segments are request fields taken from the path.
        /// A GET takes its other fields from the query string, a POST from a JSON body.
        path: &'static str,
        /// Who may call it.
        role: Role,
    },
    Absent(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "get",
            HttpMethod::Post => "post",
        }
    }
}

/// What a caller of the REST service must be allowed to do. Runner and approver rights are
/// granted per environment (a runner for `qa` cannot run against a `prod` target); an approver
/// never decides a run they requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read stored runs.
    Viewer,
    /// Start runs and read databases, in the environments granted.
    Runner,
    /// Decide runs waiting for approval, in the environments granted.
    Approver,
    /// Everything, and the audit log.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Runner => "runner",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Python,
    Node,
    Java,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alias {
    pub lang: Lang,
    pub name: &'static str,
}

type Runner = for<'a> fn(&'a Consultant, Value, Option<Progress<'a>>) -> Pin<Box<dyn Future<Output = Result<Value>> + Send + 'a>>;

/// A registered operation: its spec, its schemas and how to run it from JSON.
#[derive(Clone, Copy)]
pub struct Operation {
    pub spec: Spec,
    /// The request's schema (a `$ref` into the generator's definitions).
    pub request: fn(&mut SchemaGenerator) -> Schema,
    pub response: fn(&mut SchemaGenerator) -> Schema,
    run: Runner,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation").field("spec", &self.spec).finish_non_exhaustive()
    }
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

fn run_json<'a, O: Op>(
    consultant: &'a Consultant,
    request: Value,
    progress: Option<Progress<'a>>,
) -> Pin<Box<dyn Future<Output = Result<Value>> + Send + 'a>> {
    Box::pin(async move {
        let request: O::Request = serde_json::from_value(request).map_err(|e| Error::invalid(format!("{}: {e}", O::SPEC.name)))?;
        let response = match progress {
            Some(progress) => O::run_with_progress(consultant, request, progress).await?,
            None => O::run(consultant, request).await?,
        };
        serde_json::to_value(&response).map_err(|e| Error::Internal(format!("{}: response not serializable: {e}", O::SPEC.name)))
    })
}

impl Operation {
    pub const fn of<O: Op>() -> Operation {
        Operation { spec: O::SPEC, request: schema_of::<O::Request>, response: schema_of::<O::Response>, run: run_json::<O> }
    }

    /// Run it with a JSON request (an object; `null` counts as `{}`). Fields the request's
    /// schema requires must be there, whatever defaults the Rust type has.
    pub async fn call(&self, consultant: &Consultant, request: Value) -> Result<Value> {
        self.call_with_progress(consultant, request, None).await
    }

    /// [`Operation::call`], reporting progress where the operation has some (integrity checks:
    /// tables; ETL: rows).
    pub async fn call_with_progress(&self, consultant: &Consultant, request: Value, progress: Option<Progress<'_>>) -> Result<Value> {
        let request = match request {
            Value::Null => Value::Object(Default::default()),
            Value::Object(o) => Value::Object(o),
            _ => return Err(Error::invalid(format!("{}: the request must be an object", self.spec.name))),
        };
        if let Some(missing) = self.required_fields().into_iter().find(|f| request.get(f).is_none_or(Value::is_null)) {
            return Err(Error::invalid(format!("{}: missing field `{missing}`", self.spec.name)));
        }
        (self.run)(consultant, request, progress).await
    }

    /// The request fields its schema requires.
    pub fn required_fields(&self) -> Vec<String> {
        static CACHE: std::sync::Mutex<Vec<(&'static str, Vec<String>)>> = std::sync::Mutex::new(Vec::new());
        let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, fields)) = cache.iter().find(|(name, _)| *name == self.spec.name) {
            return fields.clone();
        }
        let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        let reference = (self.request)(&mut generator);
        let definitions = generator.take_definitions(true);
        let schema = resolve(reference.as_value(), &definitions);
        let fields: Vec<String> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(|f| f.as_str().map(String::from)).collect())
            .unwrap_or_default();
        cache.push((self.spec.name, fields.clone()));
        fields
    }
}

/// A schema with its `$ref` (into `definitions`) followed.
pub fn resolve<'a>(schema: &'a Value, definitions: &'a serde_json::Map<String, Value>) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) {
        Some(name) => definitions.get(name).unwrap_or(schema),
        None => schema,
    }
}

/// The operation named `name`.
pub fn find(name: &str) -> Option<&'static Operation> {
    registry().iter().find(|op| op.spec.name == name)
}

/// Run an operation by name with a JSON request: what the bindings, MCP and REST call.
pub async fn call(consultant: &Consultant, name: &str, request: Value) -> Result<Value> {
    let Some(op) = find(name) else {
        let known: Vec<&str> = registry().iter().map(|op| op.spec.name).collect();
        return Err(Error::invalid(format!("unknown operation '{name}' (expected one of: {})", known.join(", "))));
    };
    op.call(consultant, request).await
}

/// Every operation's description and JSON Schemas in one document (draft 2020-12): what the
/// generators read and what `dbconsultant` prints with `registry --json`.
pub fn describe(operations: &[Operation]) -> Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let ops: Vec<Value> = operations
        .iter()
        .map(|op| {
            let s = &op.spec;
            let request = (op.request)(&mut generator);
            let response = (op.response)(&mut generator);
            serde_json::json!({
                "name": s.name,
                "summary": s.summary,
                "description": s.description,
                "group": s.group.as_str(),
                "writes_store": s.writes_store,
                "assistant": match s.assistant {
                    Assistant::Tool { name, read_only, fields } => serde_json::json!({"tool": name, "read_only": read_only, "fields": fields}),
                    Assistant::Never(reason) => serde_json::json!({"absent": reason}),
                },
                "cli": match s.cli {
                    Cli::Command(path) => serde_json::json!({"command": path}),
                    Cli::Absent(reason) => serde_json::json!({"absent": reason}),
                },
                "rest": match s.rest {
                    Rest::Endpoint { method, path, role } => serde_json::json!({"method": method.as_str(), "path": path, "role": role.as_str()}),
                    Rest::Absent(reason) => serde_json::json!({"absent": reason}),
                },
                "positional": s.positional,
                "node_positional": s.node_positional,
                "aliases": s.aliases.iter().map(|a| serde_json::json!({"lang": format!("{:?}", a.lang).to_lowercase(), "name": a.name})).collect::<Vec<_>>(),
                "request": request,
                "response": response,
            })
        })
        .collect();
    let definitions = generator.take_definitions(true);
    let error_kinds: Vec<&str> = crate::api::ERROR_KINDS.iter().map(|k| k.name()).collect();
    let exit_codes: serde_json::Map<String, Value> =
        crate::model::RunStatus::ALL.iter().map(|s| (s.as_str().to_string(), Value::from(s.exit_code()))).collect();
    serde_json::json!({ "operations": ops, "error_kinds": error_kinds, "exit_codes": exit_codes, "$defs": definitions })
}
