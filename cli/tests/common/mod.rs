//! What every CLI test shares: a scratch directory with the example shop database and a
//! private store, the binary run in it, and readers for its output.
#![allow(dead_code)]

pub use std::path::{Path, PathBuf};
pub use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("shop.db");
        let status = Command::new("python3")
            .arg(repo().join("examples/make_shop_db.py"))
            .arg(&db)
            .status()
            .expect("python3 builds the example database");
        assert!(status.success());
        Env { dir, db }
    }

    pub fn cmd(&self, args: &[&str]) -> Output {
        self.cmd_with_env(args, &[])
    }

    /// The binary in the scratch directory, with its own store and no database URL from the
    /// developer's environment, plus `vars`.
    pub fn cmd_with_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbconsultant"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("DBCONSULTANT_DB_URL")
            .env_remove("DBCONSULTANT_SOURCE_URL")
            .env_remove("DBCONSULTANT_TARGET_URL")
            .env("DBCONSULTANT_STORE", self.dir.path().join("store.db"))
            .env("NO_COLOR", "1");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.db.display())
    }

    pub fn validate(&self, migration: &str, extra: &[&str]) -> Output {
        let m = repo().join("examples/migrations").join(migration);
        let url = self.db_url();
        let mut args = vec!["schema", "validate", "--db", url.as_str()];
        args.extend_from_slice(extra);
        let m = m.display().to_string();
        args.push(&m);
        self.cmd(&args)
    }
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// A schema file the test command fetches from a package registry; missing means the test
/// command was not used. Only an explicit opt-out skips.
pub fn schema_file(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("DBCONSULTANT_SKIP_SCHEMA_VALIDATION").is_some() => {
            eprintln!("skipping: {var} not set and DBCONSULTANT_SKIP_SCHEMA_VALIDATION is");
            None
        }
        None => panic!("{var} is not set: run the tests through scripts/test.sh (or set DBCONSULTANT_SKIP_SCHEMA_VALIDATION=1 locally)"),
    }
}

/// The SARIF 2.1.0 schema (scripts/test.sh fetches it), compiled.
pub fn sarif_validator() -> Option<jsonschema::Validator> {
    let schema_path = schema_file("DBCONSULTANT_SARIF_SCHEMA")?;
    let mut schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    // The published 2.1.0 schema's `language` patterns end in an unescaped `]`, which
    // ECMA-262 regex checkers (jsonschema >= 0.30 validates patterns) reject; escape it.
    fn escape_bracket(v: &mut serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(o) => o
                .iter_mut()
                .map(|(k, v)| match v {
                    serde_json::Value::String(p) if k == "pattern" && p.ends_with("]?$") && !p.ends_with("\\]?$") => {
                        *p = format!("{}\\]?$", &p[..p.len() - 3]);
                        1
                    }
                    _ => escape_bracket(v),
                })
                .sum(),
            serde_json::Value::Array(a) => a.iter_mut().map(escape_bracket).sum(),
            _ => 0,
        }
    }
    assert_eq!(escape_bracket(&mut schema), 2, "the SARIF schema changed: revisit this fix-up");
    Some(jsonschema::validator_for(&schema).expect("SARIF schema compiles"))
}

/// The servers scripts/test.sh starts; missing means the test command was not used.
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("DBCONSULTANT_SKIP_SERVER_TESTS").is_some() => None,
        Err(_) => panic!("{var} is not set: run the tests through scripts/test.sh (or set DBCONSULTANT_SKIP_SERVER_TESTS=1 locally)"),
    }
}

pub fn url_with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth, host) = rest.split_once('@').unwrap();
    let user = auth.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}
