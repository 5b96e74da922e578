//! Passwords that are not written into URLs: given separately (the SDKs' `*_password` fields,
//! the CLI's `--password-file`), or found where the database's own clients look when the URL
//! has none. PostgreSQL's `PGPASSWORD` and `~/.pgpass` (`PGPASSFILE`) are read by sqlx as
//! libpq reads them; MySQL's option files and `MYSQL_PWD` are read here.

use std::path::{Path, PathBuf};

use sqlx::mysql::MySqlConnectOptions;

use crate::error::{Error, Result};
use crate::url::redact_url;

/// A password given apart from its URL. Never serialized (requests that hold one skip it) and
/// never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    /// The password itself, for the one place that connects.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The URL a request's `*_url` and `*_password` fields name together.
pub fn request_url(url: &str, password: &Option<Password>) -> Result<String> {
    url_with_password(url, password.as_ref().map(Password::expose))
}

/// `url` with `password` set (percent-encoded as URLs need). A URL that already holds a
/// different password is refused rather than silently overridden; SQLite files have none.
pub fn url_with_password(url: &str, password: Option<&str>) -> Result<String> {
    let Some(password) = password else { return Ok(url.to_string()) };
    let lower = url.trim_start().to_ascii_lowercase();
    if lower.starts_with("sqlite") {
        return Err(Error::invalid(format!("a password was given for {}, but SQLite databases have none", redact_url(url))));
    }
    let mut parsed =
        url::Url::parse(url.trim()).map_err(|e| Error::invalid(format!("malformed database URL '{}': {e}", redact_url(url))))?;
    if let Some(existing) = parsed.password() {
        let decoded = percent_encoding::percent_decode_str(existing).decode_utf8_lossy();
        if decoded != password {
            return Err(Error::invalid(format!(
                "two passwords for {}: one in the URL and one given separately; keep one",
                redact_url(url)
            )));
        }
        return Ok(url.to_string());
    }
    if parsed.username().is_empty() {
        return Err(Error::invalid(format!(
            "a password was given for {}, but the URL names no user (scheme://USER@host/database)",
            redact_url(url)
        )));
    }
    parsed.set_password(Some(password)).map_err(|_| Error::invalid(format!("cannot set a password on {}", redact_url(url))))?;
    Ok(parsed.to_string())
}

/// The password in a file (its first line, without the line ending), for `--password-file`
/// and Docker/Kubernetes secrets mounted as files.
pub fn read_password_file(path: &Path) -> Result<String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("cannot read the password file {}: {e}", path.display())))?;
    let password = text.lines().next().unwrap_or("");
    if password.is_empty() {
        return Err(Error::invalid(format!("the password file {} is empty", path.display())));
    }
    warn_if_readable_by_others(path);
    Ok(password.to_string())
}

fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(file = %path.display(), "the password file can be read by other users; chmod 600 it");
        }
    }
}

/// MySQL connect options with the password (and user) MySQL's own clients would use when the
/// URL gives none: the `[client]` groups of the option files, then `MYSQL_PWD`.
pub(crate) fn mysql_defaults(options: MySqlConnectOptions, url: &str) -> MySqlConnectOptions {
    let Ok(parsed) = url::Url::parse(url) else { return options };
    if parsed.password().is_some() {
        return options;
    }
    let file = option_files()
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .fold(ClientOptions::default(), |acc, text| acc.overridden_by(client_options(&text)));
    let mut options = options;
    if parsed.username().is_empty() {
        if let Some(user) = &file.user {
            options = options.username(user);
        }
    }
    let password = file.password.or_else(|| std::env::var("MYSQL_PWD").ok().filter(|p| !p.is_empty()));
    match password {
        Some(p) => options.password(&p),
        None => options,
    }
}

/// Where MySQL and MariaDB clients read options, in order (later ones win).
fn option_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("/etc/my.cnf"), PathBuf::from("/etc/mysql/my.cnf")];
    if let Some(home) = std::env::var_os("MYSQL_HOME") {
        files.push(PathBuf::from(home).join("my.cnf"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        files.push(PathBuf::from(home).join(".my.cnf"));
    }
    files
}

#[derive(Debug, Default, PartialEq, Eq)]
struct ClientOptions {
    user: Option<String>,
    password: Option<String>,
}

impl ClientOptions {
    fn overridden_by(self, later: ClientOptions) -> ClientOptions {
        ClientOptions { user: later.user.or(self.user), password: later.password.or(self.password) }
    }
}

/// `user` and `password` of the groups every client reads (`[client]`, and MariaDB's
/// `[client-server]` and `[client-mariadb]`), in MySQL's option-file syntax: `key = value`,
/// values optionally quoted with backslash escapes, `#` and `;` comments.
fn client_options(text: &str) -> ClientOptions {
    let mut found = ClientOptions::default();
    let mut in_client = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(group) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_client = matches!(group.trim().to_ascii_lowercase().as_str(), "client" | "client-server" | "client-mariadb");
            continue;
        }
        if !in_client {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let value = option_value(value.trim());
        match key.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "user" => found.user = Some(value),
            "password" => found.password = Some(value),
            _ => {}
        }
    }
    found
}

fn option_value(raw: &str) -> String {
    let quote = raw.chars().next().filter(|c| *c == '"' || *c == '\'');
    let Some(quote) = quote else {
        // Unquoted: a comment may follow after whitespace.
        return raw.split(" #").next().unwrap_or(raw).trim_end().to_string();
    };
    let mut out = String::new();
    let mut chars = raw[1..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('s') => out.push(' '),
                Some(other) => out.push(other),
                None => {}
            },
            c if c == quote => break,
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_separate_password_goes_into_the_url_encoded() {
        assert_eq!(url_with_password("postgres://app@db:5432/x", Some("p@ss/w:rd")).unwrap(), "postgres://app:p%40ss%2Fw%3Ard@db:5432/x");
        assert_eq!(url_with_password("mysql://app@db/x?sslmode=require", Some("s")).unwrap(), "mysql://app:s@db/x?sslmode=require");
        assert_eq!(url_with_password("postgres://app@db/x", None).unwrap(), "postgres://app@db/x");
        assert_eq!(url_with_password("postgres://app:same@db/x", Some("same")).unwrap(), "postgres://app:same@db/x");
    }

    #[test]
    fn conflicting_or_pointless_passwords_are_refused_without_showing_them() {
        let two = url_with_password("postgres://app:pw-in-url@db/x", Some("pw-apart")).unwrap_err().to_string();
        assert!(two.contains("two passwords") && !two.contains("pw-in-url") && !two.contains("pw-apart"), "{two}");
        assert!(url_with_password("sqlite://a.db", Some("x")).unwrap_err().to_string().contains("SQLite"));
        assert!(url_with_password("postgres://db/x", Some("x")).unwrap_err().to_string().contains("no user"));
    }

    #[test]
    fn option_files_are_read_like_mysql_clients_read_them() {
        let text = "[mysqld]\npassword = server_side\n\n[client]\nuser=app # the app login\npassword = \"p\\\"w #1\"\n[mysqldump]\npassword=other\n";
        assert_eq!(client_options(text), ClientOptions { user: Some("app".into()), password: Some("p\"w #1".into()) });
        let later = client_options("[client-mariadb]\npassword='second'\n");
        assert_eq!(client_options(text).overridden_by(later).password.as_deref(), Some("second"));
        assert_eq!(client_options("[mysqld]\npassword=x\n"), ClientOptions::default());
    }

    #[test]
    fn password_files_give_their_first_line_and_name_themselves_when_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(read_password_file(&path).unwrap(), "s3cret");
        std::fs::write(&path, "\n").unwrap();
        assert!(read_password_file(&path).unwrap_err().to_string().contains("is empty"));
        let missing = read_password_file(&dir.path().join("nope")).unwrap_err().to_string();
        assert!(missing.contains("nope"), "{missing}");
    }
}
