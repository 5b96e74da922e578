//! Database URLs: parsing (dialect inferred from the scheme) and redaction of secrets.

use std::path::PathBuf;

use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// A parsed target database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path`, `sqlite:path` or `sqlite:///abs/path`.
    Sqlite { path: PathBuf },
    /// `postgres://` / `postgresql://`
    Postgres { url: String },
    /// `mysql://` / `mariadb://`
    Mysql { url: String },
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        let Some((scheme, rest)) = raw.split_once(':') else {
            return Err(Error::invalid(format!(
                "malformed database URL '{}': expected sqlite://PATH, postgres://... or mysql://...",
                redact_url(raw)
            )));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" | "sqlite3" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                let path = path.split('?').next().unwrap_or("");
                if path.is_empty() {
                    return Err(Error::invalid(format!("malformed database URL '{raw}': no file path after sqlite://")));
                }
                if path == ":memory:" {
                    return Err(Error::invalid("sqlite::memory: has no data to validate against; give a database file"));
                }
                Ok(DatabaseUrl::Sqlite { path: PathBuf::from(path) })
            }
            "postgres" | "postgresql" => Ok(DatabaseUrl::Postgres { url: check_server_url(raw)? }),
            "mysql" | "mariadb" => Ok(DatabaseUrl::Mysql { url: check_server_url(raw)? }),
            other => Err(Error::invalid(format!(
                "malformed database URL '{}': unknown scheme '{other}' (expected sqlite, postgres or mysql)",
                redact_url(raw)
            ))),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            DatabaseUrl::Sqlite { .. } => Dialect::Sqlite,
            DatabaseUrl::Postgres { .. } => Dialect::Postgres,
            DatabaseUrl::Mysql { .. } => Dialect::Mysql,
        }
    }

    /// True when the database runs on this machine (a SQLite file, a server on a loopback
    /// address or a Unix socket): its cores are then this machine's.
    pub fn on_this_machine(&self) -> bool {
        match self {
            DatabaseUrl::Sqlite { .. } => true,
            DatabaseUrl::Postgres { url } | DatabaseUrl::Mysql { url } => url::Url::parse(url).is_ok_and(|u| {
                let socket = u.query_pairs().any(|(k, v)| (k == "host" || k == "socket") && v.starts_with('/'));
                socket
                    || match u.host() {
                        // Hosts of non-special schemes (postgres://) stay text, addresses too.
                        Some(url::Host::Domain(d)) => {
                            d.eq_ignore_ascii_case("localhost")
                                || d.trim_matches(|c| c == '[' || c == ']').parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
                        }
                        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                        None => false,
                    }
            }),
        }
    }

    /// The URL with any password replaced, safe for logs, errors, reports and the store.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } | DatabaseUrl::Mysql { url } => redact_url(url),
        }
    }
}

fn check_server_url(raw: &str) -> Result<String> {
    let parsed = url::Url::parse(raw).map_err(|e| Error::invalid(format!("malformed database URL '{}': {e}", redact_url(raw))))?;
    if parsed.host_str().unwrap_or("").is_empty() {
        return Err(Error::invalid(format!("malformed database URL '{}': no host", redact_url(raw))));
    }
    Ok(raw.to_string())
}

/// Replace the password of `scheme://user:password@host` (and `password=` query parameters)
/// with `***`. Works on strings that are not valid URLs too, so it is safe on any text.
pub fn redact_url(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace()).unwrap_or(tail.len());
        let authority = &tail[..end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..colon]);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    redact_password_params(&out)
}

fn redact_password_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        let Some(pos) = lower.find("password=") else {
            out.push_str(rest);
            return out;
        };
        let value_start = pos + "password=".len();
        out.push_str(&rest[..value_start]);
        out.push_str("***");
        let tail = &rest[value_start..];
        let end = tail.find(|c: char| c == '&' || c == '#' || c.is_whitespace()).unwrap_or(tail.len());
        rest = &tail[end..];
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn knows_a_database_on_this_machine() {
        for local in [
            "sqlite://a.db",
            "postgres://u:p@127.0.0.1:5432/db",
            "mysql://u@localhost/db",
            "postgres://u@[::1]:5432/db",
            "postgres://u@%2Ftmp/db?host=/tmp",
        ] {
            assert!(DatabaseUrl::parse(local).unwrap().on_this_machine(), "{local}");
        }
        for remote in ["postgres://u:p@db.internal:5432/db", "mysql://u@10.0.0.5/db"] {
            assert!(!DatabaseUrl::parse(remote).unwrap().on_this_machine(), "{remote}");
        }
    }
    use super::*;

    #[test]
    fn redacts_password_in_authority_and_query() {
        assert_eq!(redact_url("postgres://app:s3cr3t@db:5432/x?sslmode=require"), "postgres://app:***@db:5432/x?sslmode=require");
        assert_eq!(redact_url("mysql://root@h/db?password=hunter2&x=1"), "mysql://root@h/db?password=***&x=1");
        assert_eq!(redact_url("error talking to postgres://u:p%40ss@h/d: refused"), "error talking to postgres://u:***@h/d: refused");
    }

    #[test]
    fn parses_sqlite_forms() {
        assert_eq!(DatabaseUrl::parse("sqlite://data/app.db").unwrap(), DatabaseUrl::Sqlite { path: "data/app.db".into() });
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/a.db").unwrap(), DatabaseUrl::Sqlite { path: "/tmp/a.db".into() });
        assert_eq!(DatabaseUrl::parse("sqlite:rel.db").unwrap(), DatabaseUrl::Sqlite { path: "rel.db".into() });
    }

    #[test]
    fn rejects_malformed_urls_without_leaking_password() {
        let err = DatabaseUrl::parse("oracle://u:topsecret@h/db").unwrap_err();
        assert!(err.to_string().contains("unknown scheme 'oracle'"));
        assert!(!err.to_string().contains("topsecret"));
        assert!(DatabaseUrl::parse("no-scheme-here").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("postgres://u:pw@/db").is_err());
    }
}
