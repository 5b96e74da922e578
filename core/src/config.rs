//! `dbconsultant.toml`: rule selection, policies, risk threshold, masking and sampling.
//!
//! ```toml
//! fail_above = 60            # risk score above which a run fails
//! sample_limit = 5           # sample rows per failed check
//!
//! [rules]
//! disable = ["prefer-timestamptz"]
//!
//! [policy]
//! zero_delete = true                       # rows are never removed, only marked
//! soft_delete_columns = ["deleted_at"]
//!
//! [masking]
//! columns = ["full_name"]                  # masked in addition to the built-in patterns
//! secret_tables = ["api_tokens"]   # refused by run_query, also through views
//!
//! [sandbox]
//! sandbox_url = "postgres://ci@shadow/postgres"  # scratch database there (default PostgreSQL:
//!                                                # a throwaway local server of the target's version)
//! allow_scratch_on_target = false      # MySQL: scratch database on the target's server;
//!                                      # PostgreSQL without server binaries: the target itself
//! sample_rows = 1000                   # rows copied per table into the sandbox
//! lock_timeout_ms = 2000               # PostgreSQL, in the sandbox
//! on_target_lock_timeout_ms = 100      # PostgreSQL on the target itself
//! statement_timeout_ms = 60000         # one sandbox statement
//! full_data_timeout_ms = 30000         # one check of a new constraint on the target's rows
//! strict_version = false               # refuse a sandbox server of another major version
//! server_bindir = "/usr/lib/postgresql/16/bin"  # throwaway server's binaries (PostgreSQL or
//!                                                 # MariaDB); or $DBCONSULTANT_SERVER_BINDIR
//!
//! [mcp]                                     # limits of `dbconsultant mcp`
//! max_rows = 500                            # rows per run_query
//! timeout_ms = 30000                        # per tool call (and statement timeout)
//! max_response_bytes = 1048576
//! calls_per_minute = 120                    # 0: unlimited
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::masking::Masker;
use crate::rules::RuleConfig;

pub const DEFAULT_SAMPLE_LIMIT: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub fail_above: Option<u32>,
    pub sample_limit: usize,
    pub rules: RulesSection,
    pub policy: PolicySection,
    pub masking: MaskingSection,
    pub sandbox: crate::driver::SandboxOptions,
    pub mcp: McpSection,
}

/// Limits of the MCP server, per tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct McpSection {
    /// Most rows `run_query` returns (a request may ask for fewer).
    pub max_rows: usize,
    /// Wall-clock limit of one tool call; also the statement timeout of its sessions.
    pub timeout_ms: u64,
    /// Largest tool result, in bytes of JSON.
    pub max_response_bytes: usize,
    /// Tool calls allowed per minute (0: unlimited).
    pub calls_per_minute: u32,
}

impl Default for McpSection {
    fn default() -> Self {
        McpSection { max_rows: 500, timeout_ms: 30_000, max_response_bytes: 1024 * 1024, calls_per_minute: 120 }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fail_above: None,
            sample_limit: DEFAULT_SAMPLE_LIMIT,
            rules: RulesSection::default(),
            policy: PolicySection::default(),
            masking: MaskingSection::default(),
            sandbox: crate::driver::SandboxOptions::default(),
            mcp: McpSection::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RulesSection {
    pub disable: Vec<String>,
    /// Opt-in rules to run (`prefer-robust-stmts`, `require-table-schema`).
    pub enable: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PolicySection {
    pub zero_delete: bool,
    pub soft_delete_columns: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MaskingSection {
    /// More column names whose values are masked (besides the built-in PII names).
    pub columns: Vec<String>,
    /// Tables whose rows never leave through `run_query` (MCP, inspect, SDKs): refused like
    /// the databases' own credentials catalogs, also through views. `tokens` names that
    /// table in any schema, `auth.tokens` the one in `auth`.
    pub secret_tables: Vec<String>,
}

/// A TOML error as `origin:line:column: message`.
pub(crate) fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> Error {
    let position = e
        .span()
        .map(|span| {
            let line = text[..span.start].matches('\n').count() + 1;
            let column = span.start - text[..span.start].rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
            format!(":{line}:{column}")
        })
        .unwrap_or_default();
    Error::invalid(format!("{origin}{position}: {}", e.message()))
}

impl Config {
    pub fn from_toml(text: &str, origin: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| toml_error(text, origin, &e))?;
        config.validate()?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("cannot read config {}: {e}", path.display())))?;
        Config::from_toml(&text, &path.display().to_string())
    }

    pub fn validate(&self) -> Result<()> {
        self.rule_config().validate()?;
        if let Some(t) = self.fail_above {
            if t > 100 {
                return Err(Error::invalid(format!("fail_above must be between 0 and 100, got {t}")));
            }
        }
        if self.sample_limit > 1000 {
            return Err(Error::invalid(format!("sample_limit must be at most 1000, got {}", self.sample_limit)));
        }
        if self.mcp.max_rows == 0 || self.mcp.max_rows > 100_000 {
            return Err(Error::invalid(format!("mcp.max_rows must be between 1 and 100000, got {}", self.mcp.max_rows)));
        }
        if self.mcp.timeout_ms < 100 {
            return Err(Error::invalid(format!("mcp.timeout_ms must be at least 100, got {}", self.mcp.timeout_ms)));
        }
        if self.mcp.max_response_bytes < 1024 {
            return Err(Error::invalid(format!("mcp.max_response_bytes must be at least 1024, got {}", self.mcp.max_response_bytes)));
        }
        Ok(())
    }

    pub fn rule_config(&self) -> RuleConfig {
        RuleConfig {
            disable: self.rules.disable.clone(),
            enable: self.rules.enable.clone(),
            zero_delete: self.policy.zero_delete,
            soft_delete_columns: self.policy.soft_delete_columns.clone(),
        }
    }

    pub fn masker(&self) -> Masker {
        Masker { extra_columns: self.masking.columns.clone(), secret_tables: self.masking.secret_tables.clone(), disabled: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_sections() {
        let c =
            Config::from_toml("fail_above = 50\n[rules]\ndisable = [\"ban-truncate\"]\n[policy]\nzero_delete = true\n", "x.toml").unwrap();
        assert_eq!(c.fail_above, Some(50));
        assert!(c.rule_config().zero_delete);
        assert_eq!(c.sample_limit, DEFAULT_SAMPLE_LIMIT);
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let err = Config::from_toml("[rules]\ndisabel = []\n", "dbconsultant.toml").unwrap_err().to_string();
        assert!(err.contains("dbconsultant.toml:2:1"), "{err}");
        assert!(err.contains("disabel"), "{err}");
        let err = Config::from_toml("[rules]\ndisable = [\"nope\"]\n", "c.toml").unwrap_err().to_string();
        assert!(err.contains("unknown rule 'nope'"), "{err}");
        assert!(Config::from_toml("fail_above = 101", "c.toml").is_err());
    }
}
