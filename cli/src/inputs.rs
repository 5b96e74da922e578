//! Reading migration files and the config file.

use std::path::Path;

use dbconsultant::driver::credentials::{read_password_file, Password};
use dbconsultant::Config;

use dbconsultant_cli::args::RuleArgs;

/// `--config`, else `./dbconsultant.toml` when present, else defaults.
pub fn config_file(path: Option<&Path>) -> anyhow::Result<Config> {
    Ok(match path {
        Some(path) => Config::load(path)?,
        None if Path::new("dbconsultant.toml").exists() => Config::load(Path::new("dbconsultant.toml"))?,
        None => Config::default(),
    })
}

/// [`config_file`], then the rule flags override.
pub fn load_config(args: &RuleArgs) -> anyhow::Result<Config> {
    let mut config = config_file(args.config.as_deref())?;
    config.rules.disable.extend(args.disable.iter().cloned());
    config.rules.enable.extend(args.enable.iter().cloned());
    config.policy.zero_delete |= args.zero_delete;
    config.validate()?;
    Ok(config)
}

/// The MCP server's databases, mode and limits: the config file's `[mcp]` section, then flags.
pub fn mcp_options(
    a: &dbconsultant_cli::args::McpArgs,
    consultant: dbconsultant::Consultant,
) -> anyhow::Result<dbconsultant_mcp::McpOptions> {
    let mut config = config_file(a.config.as_deref())?;
    config.mcp.max_rows = a.max_rows.unwrap_or(config.mcp.max_rows);
    config.mcp.timeout_ms = a.timeout_ms.unwrap_or(config.mcp.timeout_ms);
    config.mcp.max_response_bytes = a.max_response_bytes.unwrap_or(config.mcp.max_response_bytes);
    config.mcp.calls_per_minute = a.calls_per_minute.unwrap_or(config.mcp.calls_per_minute);
    config.sandbox.sandbox_url = a.sandbox_url.clone().or(config.sandbox.sandbox_url);
    config.sandbox.allow_scratch_on_target |= a.sandbox_on_target;
    config.validate()?;
    let databases = a.databases.iter().map(|d| dbconsultant_mcp::Database::parse(d)).collect::<dbconsultant::Result<Vec<_>>>()?;
    Ok(dbconsultant_mcp::McpOptions::new(databases, a.mode.parse()?, config, consultant)?)
}

/// `NAME=VALUE` pairs of a repeatable flag.
fn pairs<'a>(flag: &str, values: &'a [String]) -> anyhow::Result<Vec<(&'a str, &'a str)>> {
    values
        .iter()
        .map(|v| v.split_once('=').map(|(a, b)| (a.trim(), b.trim())).ok_or_else(|| anyhow::anyhow!("--{flag} {v}: write NAME=VALUE")))
        .collect()
}

/// The ETL request from `etl validate` flags.
pub fn etl_request(a: &dbconsultant_cli::args::EtlArgs, config: Config) -> anyhow::Result<dbconsultant::EtlRequest> {
    let mut request = dbconsultant::EtlRequest {
        source_url: a.source.clone(),
        source_password: password(&a.source_password_file)?,
        source_table: a.source_table.clone(),
        target_url: a.target.clone(),
        target_password: password(&a.target_password_file)?,
        target_table: a.target_table.clone(),
        key: a.key.clone(),
        columns: a.columns.clone(),
        exclude_columns: a.exclude.clone(),
        where_clause: a.where_clause.clone(),
        source_where: a.source_where.clone(),
        target_where: a.target_where.clone(),
        float_decimals: a.float_decimals,
        group_by: a.group_by.clone(),
        strategy: a.strategy.parse()?,
        segments: a.segments,
        jobs: a.jobs,
        bisection_threshold: a.threshold,
        statement_timeout_ms: a.timeout_ms,
        sample_limit: a.sample_limit,
        keys_out: a.keys_out.as_ref().map(|p| p.display().to_string()),
        require_human_approval: a.require_approval,
        environment: a.env.parse()?,
        trigger_type: a.trigger.parse()?,
        requested_by: a.identity.requested_by.clone(),
        run_id: a.identity.run_id.clone(),
        config,
        ..Default::default()
    };
    for (source, target) in pairs("map", &a.map)? {
        request.column_map.insert(source.to_string(), target.to_string());
    }
    for t in &a.tolerance {
        match t.split_once('=') {
            Some((column, value)) => {
                let value: f64 = value.trim().parse().map_err(|_| anyhow::anyhow!("--tolerance {t}: not a number"))?;
                request.column_tolerance.insert(column.trim().to_string(), value);
            }
            None => request.tolerance = Some(t.trim().parse().map_err(|_| anyhow::anyhow!("--tolerance {t}: not a number"))?),
        }
    }
    for (column, decimals) in pairs("round", &a.round)? {
        request.round.insert(
            column.to_string(),
            decimals.parse().map_err(|_| anyhow::anyhow!("--round {column}={decimals}: decimals must be a whole number"))?,
        );
    }
    request.aggregates = a.aggregates.iter().map(|s| s.parse()).collect::<dbconsultant::Result<_>>()?;
    Ok(request)
}

/// The password in a `--*password-file`, if one was given.
pub fn password(file: &Option<std::path::PathBuf>) -> anyhow::Result<Option<Password>> {
    Ok(file.as_deref().map(read_password_file).transpose()?.map(Password::new))
}
