//! Reading migration files and the config file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use dbconsultant::{Config, Error, MigrationSource};

use crate::args::RuleArgs;

/// Files in the given order; a directory contributes its `*.sql` files in name order.
pub fn read_migrations(paths: &[PathBuf]) -> anyhow::Result<Vec<MigrationSource>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut sql: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read directory {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("sql")))
                .collect();
            sql.sort();
            if sql.is_empty() {
                return Err(Error::invalid(format!("directory {} holds no .sql file", path.display())).into());
            }
            files.extend(sql);
        } else {
            files.push(path.clone());
        }
    }
    files.iter().map(|p| read_one(p)).collect()
}

fn read_one(path: &Path) -> anyhow::Result<MigrationSource> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::invalid(format!("cannot read migration {}: {e}", path.display())))?;
    let sql = String::from_utf8(bytes)
        .map_err(|e| Error::invalid(format!("migration {} is not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to())))?;
    Ok(MigrationSource { name: path.display().to_string(), sql })
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
