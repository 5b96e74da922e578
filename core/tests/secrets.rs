//! No credential leaves through the read-only query path with a privileged login, on real
//! PostgreSQL and MariaDB servers: the credentials catalogs are refused however they are named,
//! also through views (and views of views), whose definitions are read from the database; a
//! password hash that reaches a result anyway (copied into an ordinary table, renamed,
//! concatenated, aggregated) is masked by its value. The planted secrets are then searched for
//! in every output. Tables the user declares secret are refused the same way, on SQLite too.

mod common;

use common::servers::{Server, TestDb};
use dbconsultant::driver::{connect_with, SessionOptions};
use dbconsultant::inspect::run_query;
use dbconsultant::masking::Masker;
use dbconsultant::url::DatabaseUrl;
use dbconsultant::{Error, ErrorKind};

async fn driver(db: &TestDb) -> Box<dyn dbconsultant::driver::Driver> {
    connect_with(&DatabaseUrl::parse(&db.url).unwrap(), SessionOptions::default()).await.unwrap()
}

/// Every query of `refused` is refused as a credentials catalog; every query of `masked`
/// runs and its output holds none of the `secrets`.
async fn check(db: &TestDb, refused: &[&str], masked: &[&str], secrets: &[String]) {
    let driver = driver(db).await;
    let masker = Masker::default();
    for sql in refused {
        let err = run_query(driver.as_ref(), sql, 50, &masker).await.unwrap_err();
        assert!(matches!(err, Error::Refused(_)) && err.kind() == ErrorKind::InvalidInput, "{sql}: {err}");
        assert!(err.to_string().contains("holds credentials"), "{sql}: {err}");
    }
    for sql in masked {
        let out = run_query(driver.as_ref(), sql, 50, &masker).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert!(out.row_count > 0, "{sql} returned nothing");
        let text = serde_json::to_string(&out).unwrap();
        for secret in secrets {
            assert!(!text.contains(secret.as_str()), "{sql} leaked {secret}: {text}");
        }
        assert!(text.contains("<masked:password_hash>"), "{sql}: {text}");
    }
}

#[tokio::test]
async fn postgres_password_verifiers_never_come_back() {
    let Some(db) = TestDb::new(
        Server::Postgres,
        "CREATE TABLE accounts AS SELECT rolname AS who, rolpassword AS x FROM pg_authid; \
         CREATE VIEW account_view AS SELECT rolname AS who, rolpassword AS x FROM pg_authid; \
         CREATE VIEW nested_view AS SELECT who FROM account_view;",
    )
    .await
    else {
        return;
    };
    let verifier = db.text("SELECT rolpassword FROM pg_authid WHERE rolname = current_user").await;
    assert!(verifier.starts_with("SCRAM-SHA-256$"), "the test login has a SCRAM password");
    // The parts of the verifier, as a query could cut them out.
    let secrets: Vec<String> = std::iter::once(verifier.clone()).chain(verifier.split(['$', ':']).skip(2).map(String::from)).collect();
    check(
        &db,
        &[
            "SELECT rolname, rolpassword FROM pg_authid",
            "SELECT rolpassword AS x FROM pg_catalog.pg_authid",
            "SELECT usename, passwd FROM pg_shadow",
            "SELECT string_agg(rolname || ':' || rolpassword, ',') FROM pg_authid",
            "WITH a AS (SELECT rolpassword FROM pg_authid) SELECT upper(rolpassword) FROM a",
            "SELECT (SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres')",
            "SELECT to_json(a) FROM pg_authid a",
            "SELECT * FROM pg_user_mappings",
            "SELECT subconninfo FROM pg_subscription",
            // Views are looked into, however deep.
            "SELECT who, x FROM account_view",
            "SELECT count(*) FROM public.nested_view",
        ],
        &[
            // A copy in an ordinary table hides its source from the guard: the value gives it away.
            "SELECT who, x FROM accounts",
            "SELECT x AS harmless FROM accounts WHERE x IS NOT NULL",
            "SELECT who || ':' || x AS line FROM accounts WHERE x IS NOT NULL",
            "SELECT string_agg(who || ':' || x, ',') AS all_of_them FROM accounts WHERE x IS NOT NULL",
            "SELECT 'stored as ' || x AS note FROM accounts WHERE x IS NOT NULL",
        ],
        &secrets,
    )
    .await;
}

#[tokio::test]
async fn mariadb_password_hashes_never_come_back() {
    let Some(db) = TestDb::new(
        Server::Mysql,
        "CREATE TABLE accounts AS SELECT User AS who, authentication_string AS x FROM mysql.user WHERE authentication_string <> ''; \
         CREATE VIEW account_view AS SELECT User AS who, authentication_string AS x FROM mysql.user; \
         CREATE VIEW nested_view AS SELECT who FROM account_view;",
    )
    .await
    else {
        return;
    };
    let hash = db.text("SELECT authentication_string FROM mysql.user WHERE User = SUBSTRING_INDEX(CURRENT_USER(), '@', 1) LIMIT 1").await;
    assert!(hash.starts_with('*') && hash.len() == 41, "the test login has a native password: {hash}");
    let secrets = vec![hash.clone(), hash[1..].to_string()];
    check(
        &db,
        &[
            "SELECT User, authentication_string FROM mysql.user",
            "SELECT CONCAT(User, ':', authentication_string) FROM `mysql`.`user`",
            "SELECT Priv FROM mysql.global_priv",
            "SELECT * FROM (SELECT authentication_string AS a FROM mysql.user) t",
            "SELECT GROUP_CONCAT(authentication_string) FROM mysql.user",
            "SELECT who, x FROM account_view",
            "SELECT COUNT(*) FROM nested_view",
        ],
        &[
            "SELECT who, x FROM accounts",
            "SELECT CONCAT(who, ':', x) AS line FROM accounts",
            "SELECT GROUP_CONCAT(CONCAT(who, ':', x)) AS all_of_them FROM accounts",
            "SELECT LOWER(x) AS quiet FROM accounts",
        ],
        &secrets,
    )
    .await;
}

/// `[masking] secret_tables`: declared tables are refused like credentials catalogs, also
/// through views and views of views; other tables and views still answer.
#[tokio::test]
async fn declared_secret_tables_are_refused_directly_and_through_views() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let conn = sqlite_app(&path).await;
    drop(conn);
    let driver =
        connect_with(&DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap(), SessionOptions::default()).await.unwrap();
    let masker = Masker { secret_tables: vec!["api_tokens".into()], ..Default::default() };
    for sql in [
        "SELECT token FROM api_tokens",
        "SELECT t.token FROM main.api_tokens t",
        "SELECT (SELECT count(*) FROM API_TOKENS) AS n",
        "SELECT * FROM token_view",
        "SELECT * FROM view_of_view",
    ] {
        let err = run_query(driver.as_ref(), sql, 50, &masker).await.unwrap_err();
        assert!(err.to_string().contains("declared secret"), "{sql}: {err}");
    }
    let out = run_query(driver.as_ref(), "SELECT name FROM open_view", 50, &masker).await.unwrap();
    assert_eq!(out.row_count, 1);
    // Without the declaration the same queries run (the refusal is the declaration's doing).
    let out = run_query(driver.as_ref(), "SELECT * FROM view_of_view", 50, &Masker::default()).await.unwrap();
    assert_eq!(out.row_count, 1);
}

async fn sqlite_app(path: &std::path::Path) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE api_tokens (id INTEGER PRIMARY KEY, token TEXT); INSERT INTO api_tokens VALUES (1, 'tok_live_1234567890abcdef'); \
         CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'Ada'); \
         CREATE VIEW token_view AS SELECT u.name, t.token FROM users u JOIN api_tokens t ON t.id = u.id; \
         CREATE VIEW view_of_view AS SELECT name FROM token_view; \
         CREATE VIEW open_view AS SELECT name FROM users;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn
}
