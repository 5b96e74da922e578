//! Catalogs that hold credentials are off limits to queries from outside, whatever the login
//! may read: PostgreSQL's password verifiers (`pg_authid`, `pg_shadow`), user-mapping options,
//! subscription connection strings and large objects; MySQL/MariaDB's account table with its
//! password hashes, federated server definitions and replication credentials. A least-privilege
//! login cannot read them anyway; this holds when the login is privileged.

use std::ops::ControlFlow;

use sqlparser::ast::{ObjectName, Statement, Visit, Visitor};

use super::Refusal;
use crate::dialect::Dialect;

/// PostgreSQL catalogs (matched by name, schema-qualified or not: `pg_` names are reserved).
const POSTGRES: &[&str] = &["pg_authid", "pg_shadow", "pg_user_mapping", "pg_user_mappings", "pg_subscription", "pg_largeobject"];

/// MySQL/MariaDB system tables, as `schema.table`.
const MYSQL: &[&str] = &[
    "mysql.user",
    "mysql.global_priv",
    "mysql.servers",
    "mysql.slave_master_info",
    "mysql.slave_relay_log_info",
    "mysql.replica_source_info",
];

/// MySQL/MariaDB system table names that no application table plausibly shares, refused
/// unqualified too (a session whose current database is `mysql`).
const MYSQL_UNQUALIFIED: &[&str] = &["global_priv", "slave_master_info", "replica_source_info"];

/// Refuse a statement that reads a credentials catalog anywhere: FROM, joins, CTEs, subqueries
/// (in expressions and function arguments alike).
pub(super) fn refuse_secret_catalogs(statement: &Statement, dialect: Dialect) -> Result<(), Refusal> {
    let mut finder = SecretCatalog { dialect, found: None };
    let _ = statement.visit(&mut finder);
    match finder.found {
        Some(name) => Err(Refusal(format!(
            "{name} holds credentials (password hashes, connection strings, keys): it cannot be read through dbconsultant"
        ))),
        None => Ok(()),
    }
}

struct SecretCatalog {
    dialect: Dialect,
    found: Option<String>,
}

fn bare(part: &str) -> String {
    part.trim_matches(['"', '`', '[', ']']).to_ascii_lowercase()
}

impl Visitor for SecretCatalog {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        let parts: Vec<String> = relation.0.iter().map(|p| bare(&p.to_string())).collect();
        let Some(table) = parts.last() else { return ControlFlow::Continue(()) };
        let secret = match self.dialect {
            Dialect::Postgres => POSTGRES.contains(&table.as_str()),
            Dialect::Mysql => {
                let qualified = parts.len() >= 2 && MYSQL.contains(&format!("{}.{table}", parts[parts.len() - 2]).as_str());
                qualified || (parts.len() == 1 && MYSQL_UNQUALIFIED.contains(&table.as_str()))
            }
            Dialect::Sqlite => false,
        };
        if secret {
            self.found = Some(parts.join("."));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::guard::check_read_only;

    #[test]
    fn credential_catalogs_are_refused_however_they_are_reached() {
        for sql in [
            "SELECT rolname, rolpassword FROM pg_authid",
            "SELECT rolpassword AS x FROM pg_catalog.pg_authid",
            "SELECT usename, passwd FROM \"pg_shadow\"",
            "WITH a AS (SELECT * FROM pg_authid) SELECT string_agg(rolpassword, ',') FROM a",
            "SELECT (SELECT rolpassword FROM pg_authid LIMIT 1)",
            "SELECT upper(x) FROM (SELECT rolpassword AS x FROM pg_authid) s",
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM pg_authid WHERE rolpassword LIKE 'SCRAM%')",
            "SELECT umoptions FROM pg_user_mapping",
            "SELECT * FROM pg_user_mappings",
            "SELECT subconninfo FROM pg_subscription",
            "SELECT data FROM pg_largeobject",
            "SELECT r.rolname FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid",
            "SELECT to_json(a) FROM pg_authid a",
        ] {
            let refusal = check_read_only(sql, Dialect::Postgres).unwrap_err();
            assert!(refusal.0.contains("holds credentials"), "{sql}: {refusal}");
        }
        for sql in [
            "SELECT User, authentication_string FROM mysql.user",
            "SELECT CONCAT(User, ':', authentication_string) FROM `mysql`.`user`",
            "SELECT Priv FROM mysql.global_priv",
            "SELECT Priv FROM global_priv",
            "SELECT Password FROM mysql.servers",
            "SELECT * FROM (SELECT authentication_string AS a FROM mysql.user) t",
        ] {
            let refusal = check_read_only(sql, Dialect::Mysql).unwrap_err();
            assert!(refusal.0.contains("holds credentials"), "{sql}: {refusal}");
        }
        // What is not a credentials catalog still passes.
        for (sql, dialect) in [
            ("SELECT rolname FROM pg_roles", Dialect::Postgres),
            ("SELECT * FROM users", Dialect::Postgres),
            ("SELECT * FROM user", Dialect::Mysql),
            ("SELECT * FROM app.user", Dialect::Mysql),
            ("SELECT * FROM pg_authid", Dialect::Sqlite),
        ] {
            assert_eq!(check_read_only(sql, dialect), Ok(()), "{sql}");
        }
    }
}
