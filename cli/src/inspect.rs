//! `dbconsultant inspect ...`: the read tools of the MCP server from a shell.

use std::io::Write;
use std::path::Path;

use dbconsultant::driver::credentials::url_with_password;
use dbconsultant::driver::{connect_with, SessionOptions};
use dbconsultant::url::DatabaseUrl;
use dbconsultant::{inspect, Config};
use serde_json::Value;

use dbconsultant_cli::args::InspectCommand;

pub async fn run(command: InspectCommand) -> anyhow::Result<u8> {
    let target = match &command {
        InspectCommand::Schemas { target } | InspectCommand::Tables { target, .. } | InspectCommand::Describe { target, .. } => target,
        InspectCommand::Query { target, .. } | InspectCommand::Explain { target, .. } => target,
    };
    if !matches!(target.format.as_str(), "text" | "json") {
        anyhow::bail!("unknown format '{}' for inspect (expected text or json)", target.format);
    }
    let session = SessionOptions { statement_timeout_ms: target.timeout_ms, ..SessionOptions::default() };
    let driver = connect_with(
        &DatabaseUrl::parse(&url_with_password(
            &target.database.db,
            crate::inputs::password(&target.database.password_file)?.as_ref().map(|p| p.expose()),
        )?)?,
        session,
    )
    .await?;
    let driver = driver.as_ref();
    let (value, text) = match &command {
        InspectCommand::Schemas { .. } => {
            let schemas = inspect::list_schemas(driver).await?;
            let text = schemas
                .iter()
                .map(|s| format!("{:<30} {:>4} tables {:>4} views", s.name, s.tables, s.views))
                .collect::<Vec<_>>()
                .join("\n");
            (serde_json::to_value(&schemas)?, text)
        }
        InspectCommand::Tables { schema, .. } => {
            let tables = inspect::list_tables(driver, schema.as_deref()).await?;
            let text = tables
                .iter()
                .map(|t| {
                    let rows = t.row_estimate.map(|r| format!("~{r} rows")).unwrap_or_default();
                    let columns = t.columns.map(|c| format!("{c} columns")).unwrap_or_default();
                    format!("{:<40} {:<5} {:>11} {}", t.name, t.kind, columns, rows)
                })
                .collect::<Vec<_>>()
                .join("\n");
            (serde_json::to_value(&tables)?, text)
        }
        InspectCommand::Describe { table, .. } => {
            let d = inspect::describe_table(driver, table).await?;
            let mut lines = vec![format!("{}{}", d.name, d.row_estimate.map(|r| format!("  (~{r} rows)")).unwrap_or_default())];
            for c in &d.columns {
                let default = c.default.as_deref().map(|v| format!(" DEFAULT {v}")).unwrap_or_default();
                lines.push(format!("  {:<30} {}{}{}", c.name, c.data_type, if c.nullable { "" } else { " NOT NULL" }, default));
            }
            if !d.primary_key.is_empty() {
                lines.push(format!("primary key ({})", d.primary_key.join(", ")));
            }
            for fk in &d.foreign_keys {
                lines.push(format!(
                    "foreign key ({}) -> {}({})",
                    fk.columns.join(", "),
                    fk.referenced_table,
                    fk.referenced_columns.join(", ")
                ));
            }
            for r in &d.referenced_by {
                lines.push(format!("referenced by {r}"));
            }
            for u in &d.unique_constraints {
                lines.push(format!("unique ({})", u.columns.join(", ")));
            }
            for c in &d.check_constraints {
                lines.push(format!("check ({})", c.expression));
            }
            for i in &d.indexes {
                lines.push(format!("index {} ({}){}", i.name, i.columns.join(", "), if i.unique { " unique" } else { "" }));
            }
            (serde_json::to_value(&d)?, lines.join("\n"))
        }
        InspectCommand::Query { sql, max_rows, config: path, .. } => {
            let config = match path {
                Some(path) => Config::load(path)?,
                None => config()?,
            };
            let max_rows = max_rows.unwrap_or(config.mcp.max_rows);
            let q = inspect::run_query(driver, sql, max_rows, &config.masker()).await?;
            let mut lines = vec![q.columns.join("\t")];
            for row in &q.rows {
                lines.push(q.columns.iter().map(|c| cell(row.get(c))).collect::<Vec<_>>().join("\t"));
            }
            let more = if q.truncated { format!(", truncated at --max-rows {max_rows}") } else { String::new() };
            let masked = if q.masked_columns.is_empty() { String::new() } else { format!(", masked: {}", q.masked_columns.join(", ")) };
            lines.push(format!("({} rows{more}{masked})", q.row_count));
            (serde_json::to_value(&q)?, lines.join("\n"))
        }
        InspectCommand::Explain { sql, analyze, .. } => {
            let plan = inspect::explain_query(driver, sql, *analyze).await?;
            let value = serde_json::to_value(&plan)?;
            let text = dbconsultant::report::plan_text(&value["root"]);
            (value, text)
        }
    };
    let mut out = std::io::stdout().lock();
    if target.format == "json" {
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        writeln!(out, "{text}")?;
    }
    Ok(0)
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "NULL".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `./dbconsultant.toml` when present (its masking section), else defaults.
fn config() -> anyhow::Result<Config> {
    let path = Path::new("dbconsultant.toml");
    Ok(if path.exists() { Config::load(path)? } else { Config::default() })
}
