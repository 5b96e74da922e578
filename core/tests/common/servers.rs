//! Real PostgreSQL and MariaDB servers for tests. scripts/test.sh starts throwaway servers and
//! exports their admin URLs; each test gets a fresh database on them. Without the URL a test
//! fails, unless DBCONSULTANT_SKIP_SERVER_TESTS is set (developers only).

use sqlx::{Connection, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Postgres,
    Mysql,
}

impl Server {
    pub const ALL: [Server; 2] = [Server::Postgres, Server::Mysql];

    fn env(self) -> &'static str {
        match self {
            Server::Postgres => "DBCONSULTANT_TEST_POSTGRES_URL",
            Server::Mysql => "DBCONSULTANT_TEST_MYSQL_URL",
        }
    }

    pub fn admin_url(self) -> Option<String> {
        exported(self.env())
    }

    pub fn shop_sql(self) -> String {
        let dir = match self {
            Server::Postgres => "postgres",
            Server::Mysql => "mysql",
        };
        std::fs::read_to_string(super::repo_root().join("examples").join(dir).join("shop.sql")).unwrap()
    }

    pub fn password(self) -> String {
        url::Url::parse(&self.admin_url().unwrap()).unwrap().password().unwrap().to_string()
    }
}

/// A variable scripts/servers.sh exports (server URLs, the TLS test files). Without it a test
/// fails, unless DBCONSULTANT_SKIP_SERVER_TESTS is set (developers only).
pub fn exported(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var_os("DBCONSULTANT_SKIP_SERVER_TESTS").is_some() => {
            eprintln!("skipping: {name} unset and DBCONSULTANT_SKIP_SERVER_TESTS set");
            None
        }
        _ => panic!("{name} is not set: run the tests through scripts/test.sh, which starts the servers (or set DBCONSULTANT_SKIP_SERVER_TESTS=1 locally)"),
    }
}

/// A fresh database on a test server, filled by `sql`.
pub struct TestDb {
    pub server: Server,
    pub url: String,
    pub name: String,
}

impl TestDb {
    pub async fn new(server: Server, sql: &str) -> Option<TestDb> {
        let admin = server.admin_url()?;
        let name = format!("dbc_test_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        match server {
            Server::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
                conn.close().await.ok();
                let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
                conn.close().await.ok();
            }
            Server::Mysql => {
                let mut conn = sqlx::MySqlConnection::connect(&admin).await.unwrap();
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
                conn.close().await.ok();
                let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
                conn.close().await.ok();
            }
        }
        Some(TestDb { server, url, name })
    }

    pub async fn shop(server: Server) -> Option<TestDb> {
        TestDb::new(server, &server.shop_sql()).await
    }

    /// Run SQL on the test database with full rights (setup only).
    pub async fn exec(&self, sql: &str) {
        match self.server {
            Server::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
                conn.close().await.ok();
            }
            Server::Mysql => {
                let mut conn = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
                conn.close().await.ok();
            }
        }
    }

    /// A text scalar from the test database (full rights).
    #[allow(dead_code)] // not every test binary reads text
    pub async fn text(&self, sql: &str) -> String {
        self.fetch_one(sql).await
    }

    /// A scalar from the test database (full rights).
    pub async fn scalar(&self, sql: &str) -> i64 {
        self.fetch_one(sql).await
    }

    /// One value of the type asked, from the test database (full rights).
    async fn fetch_one<T>(&self, sql: &str) -> T
    where
        T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
        T: for<'r> sqlx::Decode<'r, sqlx::MySql> + sqlx::Type<sqlx::MySql>,
    {
        match self.server {
            Server::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar::<_, T>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut conn).await.unwrap()
            }
            Server::Mysql => {
                let mut conn = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar::<_, T>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut conn).await.unwrap()
            }
        }
    }
}
