//! TLS to the real test servers (scripts/servers.sh turns TLS on with a throwaway CA and a
//! server certificate for the name `localhost` only): the default connects encrypted, the
//! verifying modes accept the right CA and name and refuse the wrong ones with a message
//! naming the cause, TLS-only and client-certificate logins work — on PostgreSQL and MariaDB,
//! with libpq's parameter names on both and MySQL's own on MariaDB.

mod common;

use common::servers::{exported, Server};
use dbconsultant::driver::{connect_with, SessionOptions};
use dbconsultant::inspect::run_query;
use dbconsultant::masking::Masker;
use dbconsultant::url::DatabaseUrl;
use dbconsultant::{Error, ErrorKind};

fn cert(file: &str) -> String {
    format!("{}/{file}", exported("DBCONSULTANT_TEST_TLS_DIR").unwrap())
}

/// `url` on host `host` with the query parameters `params` added.
fn url_with(url: &str, host: &str, params: &[(&str, String)]) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_host(Some(host)).unwrap();
    u.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
    u.to_string()
}

/// Connect through dbconsultant's driver and ask the server how the session is encrypted:
/// the TLS version (PostgreSQL) or cipher (MariaDB), empty when it is not.
async fn session_tls(server: Server, url: &str) -> Result<(String, String), Error> {
    let driver = connect_with(&DatabaseUrl::parse(url)?, SessionOptions::default()).await?;
    let (sql, col) = match server {
        Server::Postgres => ("SELECT coalesce(s.version, '') AS tls, current_user AS who FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()", "tls"),
        Server::Mysql => ("SELECT VARIABLE_VALUE AS tls, SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AS who FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'", "tls"),
    };
    let out = run_query(driver.as_ref(), sql, 1, &Masker::default()).await?;
    let row = &out.rows[0];
    Ok((row[col].as_str().unwrap_or("").to_string(), row["who"].as_str().unwrap_or("").to_string()))
}

fn refused(result: Result<(String, String), Error>, expected: &str) -> String {
    let err = result.expect_err("the connection should have been refused");
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    let text = err.to_string();
    assert!(text.contains(expected), "expected '{expected}' in: {text}");
    text
}

async fn default_is_encrypted(server: Server) {
    let Some(admin) = server.admin_url() else { return };
    let (tls, _) = session_tls(server, &admin).await.unwrap();
    assert!(!tls.is_empty(), "the default (prefer) should have negotiated TLS with a server that offers it");
}

async fn require_is_encrypted(server: Server) {
    let Some(admin) = server.admin_url() else { return };
    let mode = if server == Server::Mysql { "REQUIRED" } else { "require" };
    let (tls, _) = session_tls(server, &url_with(&admin, "127.0.0.1", &[("sslmode", mode.into())])).await.unwrap();
    assert!(!tls.is_empty());
}

async fn verify_full_accepts_the_right_ca_and_name(server: Server) {
    let Some(admin) = server.admin_url() else { return };
    let url = url_with(&admin, "localhost", &[("sslmode", "verify-full".into()), ("sslrootcert", cert("ca.crt"))]);
    let (tls, _) = session_tls(server, &url).await.unwrap();
    assert!(!tls.is_empty());
}

async fn verify_full_refuses_a_wrong_ca(server: Server) {
    let Some(admin) = server.admin_url() else { return };
    let url = url_with(&admin, "localhost", &[("sslmode", "verify-full".into()), ("sslrootcert", cert("other-ca.crt"))]);
    let text = refused(session_tls(server, &url).await, "not signed by a trusted CA");
    assert!(!text.contains(&server.password()), "{text}");
}

async fn verify_full_refuses_a_wrong_host_name(server: Server) {
    let Some(admin) = server.admin_url() else { return };
    // The certificate names localhost only; 127.0.0.1 is the same server under another name.
    let url = url_with(&admin, "127.0.0.1", &[("sslmode", "verify-full".into()), ("sslrootcert", cert("ca.crt"))]);
    refused(session_tls(server, &url).await, "not valid for the host name");
    // verify-ca checks the CA only, so the same URL connects.
    let url = url_with(&admin, "127.0.0.1", &[("sslmode", "verify-ca".into()), ("sslrootcert", cert("ca.crt"))]);
    session_tls(server, &url).await.unwrap();
}

async fn a_tls_only_login_refuses_plain_connections(server: Server) {
    let var = if server == Server::Postgres { "DBCONSULTANT_TEST_POSTGRES_TLS_ONLY_URL" } else { "DBCONSULTANT_TEST_MYSQL_TLS_ONLY_URL" };
    let Some(url) = exported(var) else { return };
    refused(session_tls(server, &url_with(&url, "127.0.0.1", &[("sslmode", "disable".into())])).await, "TLS");
    let (tls, who) = session_tls(server, &url_with(&url, "127.0.0.1", &[("sslmode", "require".into())])).await.unwrap();
    assert!(!tls.is_empty());
    assert!(who.starts_with("dbc_tls_only"), "{who}");
}

async fn a_client_certificate_logs_in(server: Server) {
    let var = if server == Server::Postgres { "DBCONSULTANT_TEST_POSTGRES_CERT_URL" } else { "DBCONSULTANT_TEST_MYSQL_CERT_URL" };
    let Some(url) = exported(var) else { return };
    let verify = [("sslmode", "verify-full".to_string()), ("sslrootcert", cert("ca.crt"))];
    let with_cert = [&verify[..], &[("sslcert", cert("client.crt")), ("sslkey", cert("client.key"))]].concat();
    let (tls, who) = session_tls(server, &url_with(&url, "localhost", &with_cert)).await.unwrap();
    assert!(!tls.is_empty());
    assert!(who.starts_with("dbc_cert"), "{who}");
    let without = session_tls(server, &url_with(&url, "localhost", &verify)).await;
    assert!(without.is_err(), "a certificate login without a certificate must be refused");
}

macro_rules! on_both_servers {
    ($($name:ident),+ $(,)?) => {
        mod postgres {
            $(#[tokio::test]
            async fn $name() { super::$name(super::Server::Postgres).await })+
        }
        mod mariadb {
            $(#[tokio::test]
            async fn $name() { super::$name(super::Server::Mysql).await })+
        }
    };
}

on_both_servers!(
    default_is_encrypted,
    require_is_encrypted,
    verify_full_accepts_the_right_ca_and_name,
    verify_full_refuses_a_wrong_ca,
    verify_full_refuses_a_wrong_host_name,
    a_tls_only_login_refuses_plain_connections,
    a_client_certificate_logs_in,
);
