//! The registry's JSON Schemas read into a small model every generator shares: operations
//! with their fields, and the named types (objects, enums, unions) they use.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

/// A type as the generators see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    String,
    Integer {
        wide: bool,
    },
    Number,
    Bool,
    /// Any JSON value (rows, plans, raw documents).
    Any,
    Array(Box<Ty>),
    /// An object with arbitrary keys (column names, settings).
    Map(Box<Ty>),
    Optional(Box<Ty>),
    Named(String),
}

impl Ty {
    pub fn is_optional(&self) -> bool {
        matches!(self, Ty::Optional(_))
    }

    /// Without the `Optional` layer.
    pub fn inner(&self) -> &Ty {
        match self {
            Ty::Optional(t) => t,
            t => t,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub doc: String,
    pub ty: Ty,
    pub required: bool,
    /// A default worth showing (a scalar); objects and lists are left to the core.
    pub default: Option<Value>,
    /// Names files where the library runs (paths it reads or writes): only for local surfaces.
    pub local_files: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeDef {
    Object {
        doc: String,
        fields: Vec<Field>,
    },
    /// A string enum; `open` when new values may appear (finding ids).
    Enum {
        doc: String,
        values: Vec<String>,
        open: bool,
    },
    /// One of several shapes (a path or an object, a string or a list ...).
    Union {
        doc: String,
        variants: Vec<Ty>,
    },
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub name: String,
    pub summary: String,
    pub description: String,
    pub group: String,
    pub writes_store: bool,
    pub request_type: String,
    pub fields: Vec<Field>,
    pub response: Ty,
    pub positional: Vec<String>,
    pub node_positional: Vec<String>,
    /// (language, name)
    pub aliases: Vec<(String, String)>,
    pub tool: Option<Tool>,
    pub cli: Result<Vec<String>, String>,
}

#[derive(Debug, Clone)]
pub struct Tool {
    pub name: String,
    pub read_only: bool,
    pub fields: Vec<String>,
}

impl Operation {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn alias(&self, lang: &str) -> Option<&str> {
        self.aliases.iter().find(|(l, _)| l == lang).map(|(_, n)| n.as_str())
    }
}

pub struct Api {
    pub operations: Vec<Operation>,
    pub types: BTreeMap<String, TypeDef>,
    /// The registry document itself (written to docs/reference/registry.json).
    pub document: Value,
    /// The REST service's OpenAPI document (docs/reference/openapi.json).
    pub openapi: Value,
}

/// Finding ids may grow between versions: generated code types them as plain strings.
const OPEN_ENUMS: &[&str] = &["FindingId"];

/// Doc comments arrive with their line breaks; paragraphs stay, lines join.
pub fn doc_text(raw: &str) -> String {
    raw.split("\n\n").map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n\n")
}

impl Api {
    pub fn from_registry(operations: &[dbconsultant::ops::Operation]) -> Result<Api> {
        let document = dbconsultant::ops::describe(operations);
        let defs = document["$defs"].as_object().cloned().unwrap_or_default();
        let mut types = BTreeMap::new();
        for (name, schema) in &defs {
            types.insert(name.clone(), type_def(name, schema)?);
        }
        let mut ops = Vec::new();
        for op in document["operations"].as_array().ok_or_else(|| anyhow!("no operations"))? {
            let text = |k: &str| op[k].as_str().unwrap_or_default().to_string();
            let list = |k: &str| -> Vec<String> {
                op[k].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default()
            };
            let request_type = reference(&op["request"]).ok_or_else(|| anyhow!("{}: request is not a named type", text("name")))?;
            let fields = match types.get(&request_type) {
                Some(TypeDef::Object { fields, .. }) => fields.clone(),
                _ => bail!("{}: request type {request_type} is not an object", text("name")),
            };
            let tool = op["assistant"]["tool"].as_str().map(|name| Tool {
                name: name.to_string(),
                read_only: op["assistant"]["read_only"].as_bool().unwrap_or(true),
                fields: op["assistant"]["fields"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
                    .unwrap_or_default(),
            });
            let cli = match op["cli"]["command"].as_array() {
                Some(path) => Ok(path.iter().filter_map(|v| v.as_str().map(String::from)).collect()),
                None => Err(op["cli"]["absent"].as_str().unwrap_or_default().to_string()),
            };
            ops.push(Operation {
                name: text("name"),
                summary: doc_text(&text("summary")),
                description: doc_text(&text("description")),
                group: text("group"),
                writes_store: op["writes_store"].as_bool().unwrap_or(false),
                request_type,
                fields,
                response: ty(&op["response"])?,
                positional: list("positional"),
                node_positional: list("node_positional"),
                aliases: op["aliases"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| (x["lang"].as_str().unwrap_or("").to_string(), x["name"].as_str().unwrap_or("").to_string()))
                            .collect()
                    })
                    .unwrap_or_default(),
                tool,
                cli,
            });
        }
        let openapi = dbconsultant_rest::openapi::document(&dbconsultant_rest::endpoints::endpoints(operations));
        Ok(Api { operations: ops, types, document, openapi })
    }

    /// The stable error kinds (`invalid_input` ...), each an exception class in every SDK.
    pub fn error_kinds(&self) -> Vec<String> {
        self.document["error_kinds"].as_array().map(|a| a.iter().filter_map(|k| k.as_str().map(String::from)).collect()).unwrap_or_default()
    }

    /// The CLI's exit code per run status, in the core's order.
    pub fn exit_codes(&self) -> Vec<(String, i64)> {
        let Some(codes) = self.document["exit_codes"].as_object() else { return Vec::new() };
        codes.iter().filter_map(|(k, v)| Some((k.clone(), v.as_i64()?))).collect()
    }

    pub fn object_fields(&self, name: &str) -> Option<&[Field]> {
        match self.types.get(name) {
            Some(TypeDef::Object { fields, .. }) => Some(fields),
            _ => None,
        }
    }

    /// Every named type reachable from the operations' responses, in a stable order (the
    /// models the SDKs define).
    pub fn response_types(&self) -> Vec<String> {
        let mut out = Vec::new();
        for op in &self.operations {
            self.collect(&op.response, &mut out);
        }
        out
    }

    /// Named types reachable from the requests (enums and objects callers build).
    pub fn request_types(&self) -> Vec<String> {
        let mut out = Vec::new();
        for op in &self.operations {
            for f in &op.fields {
                self.collect(&f.ty, &mut out);
            }
        }
        out
    }

    fn collect(&self, ty: &Ty, out: &mut Vec<String>) {
        match ty {
            Ty::Array(t) | Ty::Map(t) | Ty::Optional(t) => self.collect(t, out),
            Ty::Named(name) => {
                if out.contains(name) {
                    return;
                }
                out.push(name.clone());
                match self.types.get(name) {
                    Some(TypeDef::Object { fields, .. }) => fields.iter().for_each(|f| self.collect(&f.ty, out)),
                    Some(TypeDef::Union { variants, .. }) => variants.iter().for_each(|v| self.collect(v, out)),
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

fn reference(schema: &Value) -> Option<String> {
    schema.get("$ref")?.as_str()?.rsplit('/').next().map(String::from)
}

fn type_def(name: &str, schema: &Value) -> Result<TypeDef> {
    let doc = doc_text(schema.get("description").and_then(Value::as_str).unwrap_or(""));
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Ok(TypeDef::Enum {
            doc,
            values: values.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            open: OPEN_ENUMS.contains(&name),
        });
    }
    // Enums whose variants carry documentation: oneOf of constants.
    if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
        let constants: Option<Vec<String>> = variants.iter().map(|v| v.get("const").and_then(Value::as_str).map(String::from)).collect();
        if let Some(values) = constants {
            return Ok(TypeDef::Enum { doc, values, open: OPEN_ENUMS.contains(&name) });
        }
    }
    if let Some(variants) = schema.get("anyOf").and_then(Value::as_array) {
        return Ok(TypeDef::Union { doc, variants: variants.iter().map(ty).collect::<Result<_>>()? });
    }
    if schema.get("properties").is_some() || schema.get("type").and_then(Value::as_str) == Some("object") {
        let required: Vec<&str> =
            schema.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let empty = Map::new();
        let properties = schema.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let fields = properties
            .iter()
            .map(|(field, s)| {
                let ty = ty(s)?;
                let default = s.get("default").filter(|d| matches!(d, Value::Bool(_) | Value::Number(_) | Value::String(_))).cloned();
                Ok(Field {
                    name: field.clone(),
                    doc: doc_text(s.get("description").and_then(Value::as_str).unwrap_or("")),
                    required: required.contains(&field.as_str()),
                    default,
                    local_files: s.get("x-local-files").and_then(Value::as_bool).unwrap_or(false),
                    ty,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok(TypeDef::Object { doc, fields });
    }
    bail!("{name}: unsupported schema {schema}")
}

/// A field's or a response's type.
pub fn ty(schema: &Value) -> Result<Ty> {
    if schema == &Value::Bool(true) || schema.as_object().is_some_and(|o| o.is_empty() || o.keys().all(|k| k == "description")) {
        return Ok(Ty::Any);
    }
    if let Some(name) = reference(schema) {
        return Ok(Ty::Named(name));
    }
    if let Some(variants) = schema.get("anyOf").and_then(Value::as_array) {
        let (null, rest): (Vec<&Value>, Vec<&Value>) = variants.iter().partition(|v| v.get("type").and_then(Value::as_str) == Some("null"));
        if !null.is_empty() && rest.len() == 1 {
            return Ok(Ty::Optional(Box::new(ty(rest[0])?)));
        }
        bail!("inline unions are not supported (name the type): {schema}");
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => bail!("schema without a type: {schema}"),
    };
    let nullable = types.contains(&"null");
    let base = types.iter().find(|t| **t != "null").copied().unwrap_or("null");
    let wide = schema.get("format").and_then(Value::as_str).is_some_and(|f| matches!(f, "uint64" | "int64" | "uint" | "int"));
    let t = match base {
        "string" => Ty::String,
        "integer" => Ty::Integer { wide },
        "number" => Ty::Number,
        "boolean" => Ty::Bool,
        "array" => Ty::Array(Box::new(schema.get("items").map(ty).transpose()?.unwrap_or(Ty::Any))),
        // An inline object with properties (one variant of a union) is taken as a mapping.
        "object" => match schema.get("additionalProperties") {
            Some(v) if v.is_object() => Ty::Map(Box::new(ty(v)?)),
            _ => Ty::Map(Box::new(Ty::Any)),
        },
        other => bail!("unsupported type {other}: {schema}"),
    };
    Ok(if nullable { Ty::Optional(Box::new(t)) } else { t })
}

/// `snake_case` to `camelCase`.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `snake_case` to `PascalCase`.
pub fn pascal(name: &str) -> String {
    let c = camel(name);
    let mut chars = c.chars();
    chars.next().map(|f| f.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}
