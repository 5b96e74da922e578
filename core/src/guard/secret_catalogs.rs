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

/// Refuse a statement that reads a credentials catalog, or a table the user declared secret
/// (`[masking] secret_tables`), anywhere: FROM, joins, CTEs, subqueries (in expressions and
/// function arguments alike).
pub(super) fn refuse_secret_catalogs(statement: &Statement, dialect: Dialect, declared: &[String]) -> Result<(), Refusal> {
    let declared: Vec<Vec<String>> = declared.iter().map(|d| d.split('.').map(bare).collect()).collect();
    let mut finder = SecretCatalog { dialect, declared: &declared, found: None };
    let _ = statement.visit(&mut finder);
    match finder.found {
        Some((name, false)) => Err(Refusal(format!(
            "{name} holds credentials (password hashes, connection strings, keys): it cannot be read through dbconsultant"
        ))),
        Some((name, true)) => {
            Err(Refusal(format!("{name} is declared secret ([masking] secret_tables): it cannot be read through dbconsultant")))
        }
        None => Ok(()),
    }
}

/// Names of a SQL text that a view definition could hide a secret behind, when the text does
/// not parse: the built-in catalogs and the declared tables, by their last part.
pub(super) fn mentions_secret(text: &str, dialect: Dialect, declared: &[String]) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let builtin: &[&str] = match dialect {
        Dialect::Postgres => POSTGRES,
        Dialect::Mysql => MYSQL,
        Dialect::Sqlite => &[],
    };
    let names = builtin.iter().map(|n| n.to_string()).chain(declared.iter().map(|d| d.to_ascii_lowercase()));
    names.into_iter().find(|n| {
        let last = n.rsplit('.').next().unwrap_or(n);
        lower.match_indices(last).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + last.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

/// The relations a statement reads (as written, dotted), for looking into views.
pub(super) fn relations(statement: &Statement) -> Vec<String> {
    struct Relations(Vec<String>);
    impl Visitor for Relations {
        type Break = ();
        fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
            let name = relation.0.iter().map(|p| bare(&p.to_string())).collect::<Vec<_>>().join(".");
            if !self.0.contains(&name) {
                self.0.push(name);
            }
            ControlFlow::Continue(())
        }
    }
    let mut found = Relations(Vec::new());
    let _ = statement.visit(&mut found);
    found.0
}

struct SecretCatalog<'a> {
    dialect: Dialect,
    /// Declared secret tables, each split into its lowercase parts.
    declared: &'a [Vec<String>],
    /// The name, and whether the user declared it (else a built-in catalog).
    found: Option<(String, bool)>,
}

fn bare(part: &str) -> String {
    part.trim_matches(['"', '`', '[', ']']).to_ascii_lowercase()
}

impl Visitor for SecretCatalog<'_> {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        let parts: Vec<String> = relation.0.iter().map(|p| bare(&p.to_string())).collect();
        let Some(table) = parts.last() else { return ControlFlow::Continue(()) };
        // A declared name matches the relation's last parts: `tokens` any schema's, `auth.tokens` that one.
        if self.declared.iter().any(|d| !d.is_empty() && parts.ends_with(d)) {
            self.found = Some((parts.join("."), true));
            return ControlFlow::Break(());
        }
        let secret = match self.dialect {
            Dialect::Postgres => POSTGRES.contains(&table.as_str()),
            Dialect::Mysql => {
                let qualified = parts.len() >= 2 && MYSQL.contains(&format!("{}.{table}", parts[parts.len() - 2]).as_str());
                qualified || (parts.len() == 1 && MYSQL_UNQUALIFIED.contains(&table.as_str()))
            }
            Dialect::Sqlite => false,
        };
        if secret {
            self.found = Some((parts.join("."), false));
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

    #[test]
    fn declared_tables_match_by_their_last_parts() {
        use crate::guard::check_read_only_declaring;
        let declared = vec!["api_tokens".to_string(), "auth.sessions".to_string()];
        for sql in ["SELECT * FROM api_tokens", "SELECT * FROM app.\"API_TOKENS\"", "SELECT s.id FROM auth.sessions s"] {
            let refusal = check_read_only_declaring(sql, Dialect::Sqlite, &declared).unwrap_err();
            assert!(refusal.0.contains("declared secret"), "{sql}: {refusal}");
        }
        // `auth.sessions` names that schema's table only; other tables pass and are listed.
        let relations =
            check_read_only_declaring("SELECT * FROM web.sessions JOIN tokens USING (id)", Dialect::Postgres, &declared).unwrap();
        assert_eq!(relations, ["web.sessions", "tokens"]);
    }

    #[test]
    fn view_definitions_are_checked_and_unparsable_ones_by_name() {
        use crate::guard::check_view;
        let r = check_view("v", "SELECT rolname, rolpassword FROM pg_authid;", Dialect::Postgres, &[]).unwrap_err();
        assert!(r.0.contains("view v") && r.0.contains("holds credentials"), "{r}");
        assert_eq!(check_view("v", " SELECT a.id FROM accounts a;", Dialect::Postgres, &[]).unwrap(), ["accounts"]);
        // Not parsable: refused when it names a secret table, as a whole word only.
        let odd = "SELECT rolpassword FROM pg_authid WHERE (";
        assert!(check_view("v", odd, Dialect::Postgres, &[]).is_err());
        assert_eq!(check_view("v", "SELECT my_pg_authid_notes FROM t WHERE (", Dialect::Postgres, &[]).unwrap(), Vec::<String>::new());
        let sqlite_view = "CREATE VIEW t AS SELECT token FROM api_tokens";
        assert!(check_view("t", sqlite_view, Dialect::Sqlite, &["api_tokens".into()]).is_err());
    }
}
