//! Reading migration files and the config file.

use std::path::{Path, PathBuf};

use dbconsultant::{Config, MigrationSource};

use crate::args::RuleArgs;

/// Files in the given order; a directory contributes its `*.sql` files in name order.
pub fn read_migrations(paths: &[PathBuf]) -> anyhow::Result<Vec<MigrationSource>> {
    Ok(MigrationSource::read_paths(paths)?)
}

/// `--config`, else `./dbconsultant.toml` when present, else defaults; flags override.
pub fn load_config(args: &RuleArgs) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None if Path::new("dbconsultant.toml").exists() => Config::load(Path::new("dbconsultant.toml"))?,
        None => Config::default(),
    };
    config.rules.disable.extend(args.disable.iter().cloned());
    config.policy.zero_delete |= args.zero_delete;
    config.validate()?;
    Ok(config)
}
