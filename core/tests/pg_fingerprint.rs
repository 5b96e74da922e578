//! PostgreSQL `query_hash` groups queries the way pg_stat_statements does: each pair of
//! queries runs on a real PostgreSQL with pg_stat_statements, which either counts them as one
//! statement or as two; the fingerprint must say the same. Where PostgreSQL decides on facts only
//! its analysis knows (what `*` expands to) or where its versions differ
//! (PostgreSQL 18 merges IN lists of constants, 15 does not), the pair is listed apart and the
//! fingerprint's answer is pinned. (sqlparser's fingerprint, used before, told column aliases
//! apart and grouped `> 10` with `> 99.5`; pg_query's own groups `= 42` with `IN (1, 2, 3)`.)

mod common;

use common::servers::{Server, TestDb};
use dbconsultant::checks::perf::fingerprint::fingerprint;
use dbconsultant::Dialect;
use sqlx::Connection;

const SETUP: &str = "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
    CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, total numeric(10,2),
                         status text, created_at timestamptz DEFAULT now());";

/// Pairs on which pg_stat_statements' grouping is a matter of the text alone.
const PAIRS: &[(&str, &str)] = &[
    ("SELECT * FROM orders WHERE id = 1", "SELECT * FROM orders WHERE id = 42"),
    ("SELECT id FROM orders WHERE status = 'paid'", "SELECT id FROM orders WHERE status = 'new'"),
    ("SELECT id FROM orders WHERE total > 10", "select  id\n  from orders -- the big one\n where total > 99"),
    ("SELECT id FROM orders WHERE total > 10", "/* report */ SeLeCt id FROM orders WHERE total > 5"),
    ("SELECT * FROM orders WHERE id = 1", "SELECT * FROM orders WHERE customer_id = 1"),
    ("SELECT count(*) FROM orders", "SELECT count(*) FROM customers"),
    ("SELECT id FROM orders ORDER BY id LIMIT 10", "SELECT id FROM orders ORDER BY id LIMIT 20"),
    ("SELECT id FROM orders ORDER BY id", "SELECT id FROM orders ORDER BY id DESC"),
    ("SELECT id FROM orders WHERE total > 10", "SELECT id FROM orders WHERE total < 10"),
    ("SELECT id FROM orders WHERE created_at > '2024-01-01'", "SELECT id FROM orders WHERE created_at > '2025-06-30'"),
    ("SELECT DISTINCT status FROM orders", "SELECT status FROM orders"),
    ("SELECT 1", "SELECT 2"),
    ("SELECT id AS a FROM orders", "SELECT id AS b FROM orders"),
    ("UPDATE orders SET status = 'paid' WHERE id = 1", "UPDATE orders SET status = 'sent' WHERE id = 7"),
    ("DELETE FROM orders WHERE id = 1", "DELETE FROM orders WHERE id = 2 AND status = 'x'"),
    (
        "SELECT c.email, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.status = 'paid' GROUP BY c.email",
        "SELECT c.email, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.status = 'new' GROUP BY c.email",
    ),
    (
        "SELECT id FROM orders WHERE status = 'paid' FOR UPDATE SKIP LOCKED",
        "SELECT id FROM orders WHERE status = 'new' FOR UPDATE SKIP LOCKED",
    ),
    ("SELECT id FROM orders FOR UPDATE", "SELECT id FROM orders FOR SHARE"),
    ("SELECT id FROM public.orders", "SELECT id FROM orders"),
    ("SELECT * FROM orders WHERE customer_id = 42", "SELECT * FROM orders WHERE customer_id IN (1, 2, 3)"),
    ("SELECT * FROM orders WHERE customer_id = 42", "SELECT * FROM orders WHERE customer_id = ANY (ARRAY[1, 2])"),
    ("SELECT id FROM orders WHERE total > 10", "SELECT id FROM orders WHERE total > 99.5"),
    ("SELECT id FROM orders WHERE id = 10", "SELECT id FROM orders WHERE id = 3000000000"),
    ("SELECT id FROM orders WHERE status IS NULL AND id = 1", "SELECT id FROM orders WHERE status IS NULL AND id = 2"),
];

/// Pairs on which PostgreSQL decides by what only analysis knows, or by its version: (a, b,
/// pg_stat_statements groups them on this server, the fingerprint groups them).
const DIFFERENCES: &[(&str, &str, bool, bool)] = &[
    // `*` expands to the same columns after analysis.
    ("SELECT * FROM customers", "SELECT id, email FROM customers", true, false),
];

/// Does pg_stat_statements count the two queries as one statement?
async fn grouped_by_postgres(conn: &mut sqlx::PgConnection, a: &str, b: &str) -> bool {
    sqlx::raw_sql("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        .execute(&mut *conn)
        .await
        .unwrap();
    for sql in [a, b] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await.unwrap();
    }
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND query NOT ILIKE '%pg_stat_statements%'",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(n == 1 || n == 2, "pg_stat_statements counted {n} statements for {a:?} / {b:?}");
    n == 1
}

fn same_hash(a: &str, b: &str) -> bool {
    fingerprint(a, Dialect::Postgres).query_hash == fingerprint(b, Dialect::Postgres).query_hash
}

#[tokio::test]
async fn query_hash_groups_queries_as_pg_stat_statements_does() {
    let Some(db) = TestDb::new(Server::Postgres, SETUP).await else { return };
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut disagreements = Vec::new();
    for (a, b) in PAIRS {
        let server = grouped_by_postgres(&mut conn, a, b).await;
        if server != same_hash(a, b) {
            disagreements.push(format!("{a:?} / {b:?}: PostgreSQL {}", if server { "groups them" } else { "keeps them apart" }));
        }
    }
    assert!(disagreements.is_empty(), "query_hash disagrees with pg_stat_statements on:\n{}", disagreements.join("\n"));
    for (a, b, server, hash) in DIFFERENCES {
        assert_eq!(grouped_by_postgres(&mut conn, a, b).await, *server, "pg_stat_statements on {a:?} / {b:?}");
        assert_eq!(same_hash(a, b), *hash, "query_hash on {a:?} / {b:?}");
    }
    // IN lists of constants: PostgreSQL 18 counts lists of any length as one statement, earlier
    // versions one per length; the fingerprint follows 18.
    let (a, b) = ("SELECT * FROM orders WHERE id IN (1, 2, 3)", "SELECT * FROM orders WHERE id IN (7)");
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int").fetch_one(&mut conn).await.unwrap();
    assert_eq!(grouped_by_postgres(&mut conn, a, b).await, version >= 180000, "pg_stat_statements on IN lists, server {version}");
    assert!(same_hash(a, b), "query_hash on IN lists of different lengths");
}
