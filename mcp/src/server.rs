//! The MCP handler: lists the tools of the server's mode, and runs each call under the rate
//! limit and the call timeout, in its own task (a panic becomes a tool error, never a crashed
//! server), fitting the result to the response size limit and writing the audit event.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource, ResourceContents,
    ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value};

use crate::audit::{self, Outcome};
use crate::limits::{fit, RateLimiter};
use crate::tools::{self, Limits};
use crate::{McpOptions, Mode};

#[derive(Clone)]
pub struct McpServer {
    options: Arc<McpOptions>,
    rate: Arc<Mutex<RateLimiter>>,
    tools: Arc<Vec<Tool>>,
}

impl McpServer {
    pub fn new(options: Arc<McpOptions>) -> Self {
        let names: Vec<&str> = options.databases.iter().map(|d| d.name.as_str()).collect();
        let limits = Limits { max_rows: options.config.mcp.max_rows };
        let tools = tools::tools(dbconsultant::ops::registry())
            .into_iter()
            .filter(|t| t.available(options.mode))
            .map(|t| {
                // Tools that store a run are not idempotent; only the sandbox-mode ones write,
                // and never to the databases.
                let annotations = ToolAnnotations::with_title(t.title())
                    .read_only(t.read_only)
                    .destructive(false)
                    .idempotent(!t.op.spec.writes_store)
                    .open_world(false);
                Tool::new(t.name, t.description(), Arc::new(t.input_schema(&names, &limits)))
                    .with_title(t.title())
                    .with_annotations(annotations)
            })
            .collect();
        let rate = RateLimiter::new(options.config.mcp.calls_per_minute);
        McpServer { options, rate: Arc::new(Mutex::new(rate)), tools: Arc::new(tools) }
    }

    fn instructions(&self) -> String {
        let dbs: Vec<String> = self.options.databases.iter().map(|d| format!("{} ({})", d.name, d.dialect().as_str())).collect();
        let mode = match self.options.mode {
            Mode::ReadOnly => "read-only: nothing is written anywhere but the run store; validate_migration needs sandbox mode",
            Mode::Sandbox => "sandbox: migrations run in a sandbox copy, never on the databases themselves",
        };
        format!(
            "dbconsultant inspects and validates databases without changing them. Databases: {}. Mode: {mode}. \
             Queries are read-only (one SELECT / WITH / EXPLAIN / SHOW), capped at {} rows, with sensitive values masked. \
             Typical flow: list_tables, describe_table, then run_query or explain_query; validate_migration before a schema change. \
             Runs that need approval wait for a human: there is no approve tool.",
            dbs.join(", "),
            self.options.config.mcp.max_rows
        )
    }

    /// Run one call to completion: never panics, never fails the protocol.
    pub async fn run_call(&self, tool: &str, args: Map<String, Value>, actor: &str) -> CallToolResult {
        let started = Instant::now();
        let limits = self.options.config.mcp.clone();
        let acquired = self.rate.lock().map(|mut r| r.try_acquire(started)).unwrap_or(Ok(()));
        let (outcome, result) = match acquired {
            Err(wait) => (
                Outcome::RateLimited,
                Err(format!(
                    "rate limit: at most {} calls per minute (mcp.calls_per_minute); retry in {} s",
                    limits.calls_per_minute,
                    wait.as_secs() + 1
                )),
            ),
            Ok(()) => {
                let options = self.options.clone();
                let (name, call_args) = (tool.to_string(), args.clone());
                let task = tokio::spawn(async move { options.call(&name, &call_args).await });
                let abort = task.abort_handle();
                match tokio::time::timeout(std::time::Duration::from_millis(limits.timeout_ms), task).await {
                    Err(_) => {
                        abort.abort();
                        (Outcome::Timeout, Err(format!("{tool} did not finish within {} ms (mcp.timeout_ms)", limits.timeout_ms)))
                    }
                    Ok(Err(join)) => (Outcome::Error, Err(format!("internal error in {tool}: {}", panic_text(join)))),
                    Ok(Ok(Err(e))) => {
                        let outcome = if matches!(e, dbconsultant::Error::Refused(_)) { Outcome::Refused } else { Outcome::Error };
                        (outcome, Err(dbconsultant::url::redact_url(&e.to_string())))
                    }
                    // MCP structured content is an object.
                    Ok(Ok(Ok(value))) => {
                        match fit(if value.is_object() { value } else { serde_json::json!({ "result": value }) }, limits.max_response_bytes)
                        {
                            Ok((value, text)) => (Outcome::Ok, Ok((value, text))),
                            Err(why) => (Outcome::TooLarge, Err(why)),
                        }
                    }
                }
            }
        };
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        self.audit(tool, &args, elapsed, outcome, result.as_ref().err().map(String::as_str), actor).await;
        match result {
            Ok((value, text)) => {
                let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
                r.structured_content = Some(value);
                r
            }
            Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
        }
    }

    async fn audit(&self, tool: &str, args: &Map<String, Value>, elapsed_ms: f64, outcome: Outcome, error: Option<&str>, actor: &str) {
        let dialect = args
            .get("database")
            .or_else(|| args.get("source"))
            .and_then(Value::as_str)
            .and_then(|n| self.options.databases.iter().find(|d| d.name == n))
            .or_else(|| self.options.databases.first())
            .map(|d| d.dialect())
            .unwrap_or(dbconsultant::Dialect::Postgres);
        let details = audit::details(tool, audit::redact_arguments(args, dialect), elapsed_ms, outcome, error);
        if let Err(e) = self.options.consultant.store().record_event(audit::EVENT, actor, &details).await {
            // The call already happened; losing its audit record is reported, not hidden.
            tracing::error!("cannot write the audit event of {tool}: {e}");
        }
    }
}

fn panic_text(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => dbconsultant::api::panic_message(payload.as_ref()),
        Err(e) => e.to_string(),
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("dbconsultant", env!("CARGO_PKG_VERSION")))
            .with_instructions(self.instructions())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    /// One resource per table of every database that answers: its schema, as describe_table.
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let mut resources = Vec::new();
        for db in &self.options.databases {
            let request = dbconsultant::ops::requests::ListTablesRequest {
                database_url: db.url().to_string(),
                database_password: None,
                schema: None,
                timeout_ms: self.options.config.mcp.timeout_ms,
            };
            let tables = self.options.consultant.list_tables(&request).await;
            match tables {
                Ok(tables) => resources.extend(tables.into_iter().filter(|t| t.kind == "table").map(|t| {
                    Resource::new(table_uri(&db.name, &t.name), format!("{}.{}", db.name, t.name))
                        .with_title(format!("{} ({})", t.name, db.name))
                        .with_description(format!("Schema of table {} in {}: columns, keys, constraints, indexes", t.name, db.name))
                        .with_mime_type("application/json")
                })),
                Err(e) => tracing::warn!("resources of {}: {e}", db.name),
            }
        }
        Ok(ListResourcesResult::with_all_items(resources))
    }

    /// A table's schema; audited and limited like the describe_table tool call it is.
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let Some((database, table)) = parse_table_uri(&request.uri) else {
            return Err(McpError::resource_not_found(
                format!("unknown resource {} (expected dbconsultant://DATABASE/tables/TABLE)", request.uri),
                None,
            ));
        };
        let mut args = Map::new();
        args.insert("database".into(), Value::String(database));
        args.insert("table".into(), Value::String(table));
        let actor = actor(&context);
        let result = self.run_call("describe_table", args, &actor).await;
        let text = result.content.first().and_then(|c| c.as_text()).map(|t| t.text.clone()).unwrap_or_default();
        if result.is_error == Some(true) {
            return Err(McpError::resource_not_found(text, None));
        }
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, request.uri).with_mime_type("application/json")]).into())
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        Ok(self.run_call(&request.name, request.arguments.unwrap_or_default(), &actor(&context)).await.into())
    }
}

/// The audit actor: `mcp:` and the client's name from its initialize request.
fn actor(context: &RequestContext<RoleServer>) -> String {
    let client = context.peer.peer_info().map(|p| p.client_info.name.clone()).unwrap_or_else(|| "unknown".into());
    format!("mcp:{client}")
}

const URI_PREFIX: &str = "dbconsultant://";

fn table_uri(database: &str, table: &str) -> String {
    format!("{URI_PREFIX}{database}/tables/{table}")
}

fn parse_table_uri(uri: &str) -> Option<(String, String)> {
    let (database, table) = uri.strip_prefix(URI_PREFIX)?.split_once("/tables/")?;
    (!database.is_empty() && !table.is_empty()).then(|| (database.to_string(), table.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_uris_round_trip() {
        let uri = super::table_uri("shop", "audit.events");
        assert_eq!(super::parse_table_uri(&uri), Some(("shop".into(), "audit.events".into())));
        assert_eq!(super::parse_table_uri("file:///etc/passwd"), None);
        assert_eq!(super::parse_table_uri("dbconsultant://shop/views/x"), None);
    }
}
