//! The OpenAPI 3.1 document, generated from the registry (the same endpoints the router
//! serves, the same schemas the SDKs are generated from), served at `/api/v1/openapi.json`.

use dbconsultant::ops::{HttpMethod, Role};
use serde_json::{json, Map, Value};

use crate::endpoints::{typed_schema_note, Endpoint};
use crate::problem::{ProblemDetails, SERVICE_KINDS};
use crate::routes::{API, DB, HUMAN_APPROVAL, OPENAPI};

/// `validate_schema` → `ValidateSchemaBody`.
fn body_name(op: &str) -> String {
    op.split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect::<String>() + "Body"
}

/// `#/$defs/X` → `#/components/schemas/X`, everywhere in `value`.
fn rehome_refs(value: &mut Value) {
    match value {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref") {
                if let Some(name) = r.strip_prefix("#/$defs/") {
                    *r = format!("#/components/schemas/{name}");
                }
            }
            o.values_mut().for_each(rehome_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(rehome_refs),
        _ => {}
    }
}

fn who(role: Role) -> &'static str {
    match role {
        Role::Viewer => "Any key.",
        Role::Runner => "A key granted `runner` in the environment of every target named.",
        Role::Approver => "A key granted `approver` in the run's environment, other than the one that requested the run.",
        Role::Admin => "An `admin` key.",
    }
}

fn problem_responses() -> Value {
    let problem = json!({"$ref": "#/components/responses/Problem"});
    json!({
        "400": problem, "401": problem, "403": problem, "404": problem, "409": problem, "413": problem,
        "429": problem, "500": problem, "502": problem, "503": problem, "504": problem,
    })
}

/// The whole document.
pub fn document(endpoints: &[Endpoint]) -> Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let mut paths = Map::new();
    let mut bodies = Map::new();
    for e in endpoints {
        let (fields, required) = e.fields(&mut generator);
        let path_fields = e.path_fields();
        let mut parameters = Vec::new();
        for f in &path_fields {
            let schema = fields.get(*f).cloned().unwrap_or(json!({"type": "string"}));
            parameters.push(json!({"name": f, "in": "path", "required": true, "schema": schema}));
        }
        let rest: Map<String, Value> =
            fields.iter().filter(|(k, _)| !path_fields.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        let rest_required: Vec<&String> = required.iter().filter(|r| !path_fields.contains(&r.as_str())).collect();
        let response = (e.op.response)(&mut generator);
        let mut operation = json!({
            "operationId": e.name(),
            "summary": e.op.spec.summary,
            "description": format!("{}\n\n{}", e.op.spec.description, who(e.role)),
            "tags": [e.op.spec.group.as_str()],
            "responses": problem_responses(),
        });
        operation["responses"]["200"] =
            json!({"description": "The operation's result.", "content": {"application/json": {"schema": response}}});
        match e.method {
            HttpMethod::Get => {
                for (name, schema) in &rest {
                    let mut schema = schema.clone();
                    if let Value::Object(s) = &mut schema {
                        s.remove("default");
                    }
                    let description = schema.get("description").cloned().unwrap_or(json!(""));
                    parameters.push(json!({"name": name, "in": "query", "required": rest_required.contains(&name), "description": description, "schema": schema}));
                }
            }
            HttpMethod::Post => {
                if e.role == Role::Runner && e.op.spec.writes_store {
                    parameters.push(json!({"name": "Prefer", "in": "header", "required": false,
                        "description": "`respond-async` (RFC 7240): queue the run as a job and answer 202 with its Location at once.",
                        "schema": {"type": "string"}}));
                    operation["responses"]["202"] = json!({"description": "Queued as a job (with `Prefer: respond-async`); follow Location.",
                        "headers": {"Location": {"schema": {"type": "string"}, "description": "The job."}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}});
                }
                let name = body_name(e.name());
                let mut body = json!({"type": "object", "properties": rest, "additionalProperties": false});
                if !rest_required.is_empty() {
                    body["required"] = json!(rest_required);
                }
                bodies.insert(name.clone(), body);
                operation["requestBody"] = json!({"required": !rest_required.is_empty(), "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}});
            }
        }
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        let path = format!("{API}{DB}/{}", e.path);
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[e.method.as_str()] = operation;
    }
    let run = (endpoints.iter().find(|e| e.role == Role::Approver).expect("an approval endpoint").op.response)(&mut generator);
    paths.insert(format!("{API}{DB}/{HUMAN_APPROVAL}"), json!({"post": {
        "operationId": "human_approval",
        "summary": "Approve, reject or escalate a run waiting for approval, as the authenticated caller.",
        "description": format!("The seed's decision endpoint: one body naming the decision; the same as POST test-runs/{{test_run_id}}/approve, /reject or /escalate.\n\n{}", who(Role::Approver)),
        "tags": ["runs"],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HumanApprovalBody"}}}},
        "responses": problem_responses(),
    }}));
    paths[&format!("{API}{DB}/{HUMAN_APPROVAL}")]["post"]["responses"]["200"] =
        json!({"description": "The decided run.", "content": {"application/json": {"schema": run}}});
    bodies.insert(
        "HumanApprovalBody".into(),
        json!({
            "type": "object",
            "properties": {
                "test_run_id": {"type": "string"},
                "decision": {"type": "string", "enum": ["approve", "reject", "escalate"]},
                "comment": {"type": ["string", "null"], "description": "Why, for the audit trail."},
                "to": {"type": ["string", "null"], "description": "For escalate: the person or group who must decide now."},
            },
            "required": ["test_run_id", "decision"],
            "additionalProperties": false,
        }),
    );
    job_paths(&mut paths, &mut generator);
    key_paths(&mut paths, &mut bodies, &mut generator);
    paths.insert(
        format!("{API}{OPENAPI}"),
        json!({"get": {
            "operationId": "openapi",
            "summary": "This document.",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }}),
    );
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    if let Some(Value::Object(props)) = schemas.get_mut("Job").and_then(|j| j.get_mut("properties")) {
        props.insert("location".into(), json!({"type": "string", "description": "This job's URL path."}));
        props.insert("run_location".into(), json!({"type": "string", "description": "The stored run's URL path, once there is one."}));
    }
    schemas.extend(bodies);
    let mut problem = serde_json::to_value(schemars::schema_for!(ProblemDetails)).unwrap_or_default();
    if let Value::Object(p) = &mut problem {
        p.remove("$schema");
        p.remove("title");
    }
    let kinds: Vec<&str> = dbconsultant::api::ERROR_KINDS.iter().map(|k| k.name()).chain(SERVICE_KINDS.iter().copied()).collect();
    problem["properties"]["kind"]["enum"] = json!(kinds);
    schemas.insert("Problem".into(), problem);
    let mut document = json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "dbconsultant",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!("Checks database changes before they reach production. Every operation of the registry, as JSON over HTTP. Authenticate with `Authorization: Bearer <API key>`; databases are named targets registered on the server. Errors are RFC 9457 problem details. {}", typed_schema_note()),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "An API key (`dbc_…`), from `dbconsultant keys create`."}},
            "responses": {"Problem": {"description": "An error, as problem details.", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
        },
    });
    rehome_refs(&mut document);
    document
}

/// The job endpoints: a queued run's state, its events, its cancellation.
fn job_paths(paths: &mut Map<String, Value>, generator: &mut schemars::SchemaGenerator) {
    generator.subschema_for::<dbconsultant::store::Job>();
    let job = json!({"$ref": "#/components/schemas/Job"});
    let id = json!([{"name": "job_id", "in": "path", "required": true, "schema": {"type": "string"}}]);
    let mut item = json!({
        "get": {"operationId": "get_job", "summary": "A queued run: its state, attempts, and its run once it succeeded.",
                "tags": ["jobs"], "description": who(Role::Viewer), "parameters": id, "responses": problem_responses()},
        "delete": {"operationId": "cancel_job", "summary": "Cancel a job: a queued one at once, a running one at its worker's next heartbeat.",
                   "tags": ["jobs"], "description": "The key that queued the job, or an admin.", "parameters": id, "responses": problem_responses()},
    });
    item["get"]["responses"]["200"] = json!({"description": "The job.", "content": {"application/json": {"schema": job}}});
    item["delete"]["responses"]["200"] =
        json!({"description": "The job, cancelled or being cancelled.", "content": {"application/json": {"schema": job}}});
    paths.insert(format!("{API}{DB}/jobs/{{job_id}}"), item);
    let mut events = json!({"get": {"operationId": "job_events", "tags": ["jobs"],
        "summary": "A job's progress as Server-Sent Events: a `state` event with the job document at every change; the stream ends after the final state.",
        "description": who(Role::Viewer), "parameters": id, "responses": problem_responses()}});
    events["get"]["responses"]["200"] =
        json!({"description": "The event stream.", "content": {"text/event-stream": {"schema": {"type": "string"}}}});
    paths.insert(format!("{API}{DB}/jobs/{{job_id}}/events"), events);
}

/// Key administration (admins).
fn key_paths(paths: &mut Map<String, Value>, bodies: &mut Map<String, Value>, generator: &mut schemars::SchemaGenerator) {
    generator.subschema_for::<dbconsultant::store::StoredKey>();
    let key = json!({"$ref": "#/components/schemas/StoredKey"});
    bodies.insert(
        "CreateKeyBody".into(),
        json!({"type": "object", "additionalProperties": false, "required": ["name", "grants"], "properties": {
            "name": {"type": "string", "description": "Who or what the key is for (unique among active keys)."},
            "grants": {"type": "array", "items": {"type": "string"}, "description": "viewer, admin, runner:ENV[,ENV], approver:ENV[,ENV] (ENV: dev, qa, stage, prod or *)."},
        }}),
    );
    bodies.insert(
        "CreatedKey".into(),
        json!({"allOf": [key, {"type": "object", "required": ["key"], "properties": {"key": {"type": "string", "description": "The key's text: shown this once, never stored."}}}]}),
    );
    let admin = "An `admin` key.";
    let mut keys = json!({
        "get": {"operationId": "list_keys", "summary": "Every API key with its grants (never the secrets).", "tags": ["admin"], "description": admin, "responses": problem_responses()},
        "post": {"operationId": "create_key", "summary": "Create an API key; its text is in this answer only.", "tags": ["admin"], "description": admin,
                 "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateKeyBody"}}}},
                 "responses": problem_responses()},
    });
    keys["get"]["responses"]["200"] =
        json!({"description": "The keys.", "content": {"application/json": {"schema": {"type": "array", "items": key}}}});
    keys["post"]["responses"]["201"] = json!({"description": "The key, with its text.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreatedKey"}}}});
    paths.insert(format!("{API}/admin/keys"), keys);
    let mut one = json!({"delete": {"operationId": "revoke_key", "summary": "Revoke an API key: at once on this server, within a minute on the others.",
        "tags": ["admin"], "description": admin, "parameters": [{"name": "key_id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": problem_responses()}});
    one["delete"]["responses"]["200"] = json!({"description": "The revoked key.", "content": {"application/json": {"schema": key}}});
    paths.insert(format!("{API}/admin/keys/{{key_id}}"), one);
}
