//! Named targets: the databases the service may reach, registered server-side with their
//! environment and password, so callers send a name and never a URL or a credential.
//!
//! ```toml
//! [targets.shop_qa]
//! url = "postgres://app@db-qa.internal/shop?sslmode=verify-full"
//! environment = "qa"
//! password_env = "SHOP_QA_PASSWORD"     # or password_file = "/run/secrets/shop_qa"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use dbconsultant::driver::credentials::Password;
use dbconsultant::model::Environment;
use dbconsultant::{Error, Result};
use serde::Deserialize;

/// One database callers may name.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub url: String,
    pub environment: Environment,
    pub password: Option<Password>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    #[serde(default)]
    targets: BTreeMap<String, TargetEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetEntry {
    url: String,
    environment: Environment,
    password_env: Option<String>,
    password_file: Option<String>,
}

/// The targets a `targets.toml` registers (`path` names the file in errors).
pub fn parse(text: &str, path: &str) -> Result<Vec<Target>> {
    let file: TargetsFile = toml::from_str(text).map_err(|e| Error::invalid(format!("{path}: {e}")))?;
    file.targets
        .into_iter()
        .map(|(name, entry)| {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
                return Err(Error::invalid(format!("{path}: target name '{name}' may hold only letters, digits, '_', '-' and '.'")));
            }
            let password = match (entry.password_env, entry.password_file) {
                (Some(_), Some(_)) => {
                    return Err(Error::invalid(format!("{path}: target '{name}' has password_env and password_file; keep one")));
                }
                (Some(var), None) => Some(Password::new(std::env::var(&var).map_err(|_| {
                    Error::invalid(format!("{path}: target '{name}': environment variable {var} (password_env) is not set"))
                })?)),
                (None, Some(file)) => {
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| Error::invalid(format!("{path}: target '{name}': cannot read password_file {file}: {e}")))?;
                    Some(Password::new(text.trim_end_matches(['\r', '\n'])))
                }
                (None, None) => None,
            };
            // A malformed URL is refused when the file is read, not at the first request.
            dbconsultant::url::DatabaseUrl::parse(&entry.url)
                .map_err(|e| Error::invalid(format!("{path}: target '{name}': {}", e.detail())))?;
            Ok(Target { name, url: entry.url, environment: entry.environment, password })
        })
        .collect()
}

/// [`parse`] of a file.
pub fn load(path: &Path) -> Result<Vec<Target>> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("cannot read targets file {label}: {e}")))?;
    parse(&text, &label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_needs_a_known_environment_and_a_valid_url() {
        let ok = parse("[targets.a]\nurl = 'sqlite:///tmp/a.db'\nenvironment = 'qa'\n", "t.toml").unwrap();
        assert_eq!((ok[0].name.as_str(), ok[0].environment), ("a", Environment::Qa));
        let e = parse("[targets.a]\nurl = 'sqlite:///tmp/a.db'\nenvironment = 'live'\n", "t.toml").unwrap_err().to_string();
        assert!(e.contains("t.toml") && e.contains("live"), "{e}");
        let e = parse("[targets.a]\nurl = 'oracle://x'\nenvironment = 'qa'\n", "t.toml").unwrap_err().to_string();
        assert!(e.contains("target 'a'"), "{e}");
        let e = parse("[targets.a]\nurl = 'sqlite:///a'\nenvironment = 'qa'\npassword_env = 'DBC_REST_TEST_UNSET_VAR'\n", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("DBC_REST_TEST_UNSET_VAR"), "{e}");
    }
}
