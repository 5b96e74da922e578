//! Writing one run: its document row, then its result rows a few hundred per `INSERT`, so a
//! run with tens of thousands of checks is stored in a few dozen statements, not one round
//! trip per row (which on a PostgreSQL store costs seconds).

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};

use crate::model::TestRun;

type AnyQuery<'q> = Query<'q, Any, AnyArguments>;

/// Rows per statement: well under SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 400;

/// `INSERT INTO {into} VALUES (...), (...)` for every item, `ROWS_PER_INSERT` at a time; `bind`
/// binds one item's `columns` values in order.
async fn insert_all<T>(
    conn: &mut AnyConnection,
    into: &str,
    columns: usize,
    items: &[T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &T) -> AnyQuery<'q>,
) -> sqlx::Result<()> {
    for chunk in items.chunks(ROWS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|r| format!("({})", (1..=columns).map(|c| format!("${}", r * columns + c)).collect::<Vec<_>>().join(",")))
            .collect();
        let sql = format!("INSERT INTO {into} VALUES {}", rows.join(","));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for item in chunk {
            query = bind(query, item);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The run's row and every result row it has (not the audit event).
pub(super) async fn insert_run(conn: &mut AnyConnection, run: &TestRun, document: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO database_test_runs (id, kind, environment, trigger_type, status, risk_score, summary, target, created_at, approved_by, decided_at, document, requested_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)")
        .bind(&run.test_run_id)
        .bind(run.kind.as_str())
        .bind(run.environment.as_str())
        .bind(run.trigger_type.as_str())
        .bind(run.status.as_str())
        .bind(run.risk_score as i64)
        .bind(&run.summary)
        .bind(&run.target)
        .bind(&run.created_at)
        .bind(&run.approved_by)
        .bind(&run.decided_at)
        .bind(document)
        .bind(&run.requested_by)
        .execute(&mut *conn)
        .await?;
    let id = run.test_run_id.clone();
    insert_all(
        conn,
        "findings (test_run_id, rule, severity, message, statement, line, col, file, suggestion)",
        9,
        &run.findings,
        |q, f| {
            q.bind(id.clone())
                .bind(f.rule.as_str())
                .bind(f.severity.as_str())
                .bind(f.message.clone())
                .bind(f.statement.map(|s| s as i64))
                .bind(f.line.map(|s| s as i64))
                .bind(f.column.map(|s| s as i64))
                .bind(f.file.clone())
                .bind(f.suggestion.clone())
        },
    )
    .await?;
    insert_all(
        conn,
        "schema_validation_results (test_run_id, object_type, table_name, name, change_type, compatibility_status, details)",
        7,
        &run.schema_changes,
        |q, c| {
            q.bind(id.clone())
                .bind(c.object_type.as_str())
                .bind(c.table_name.clone())
                .bind(c.name.clone())
                .bind(c.change_type.as_str())
                .bind(c.compatibility_status.as_str())
                .bind(c.details.clone())
        },
    )
    .await?;
    insert_all(
        conn,
        "data_integrity_results (test_run_id, table_name, integrity_type, constraint_name, failure_count, sample_records)",
        6,
        &run.integrity_results,
        |q, r| {
            q.bind(id.clone())
                .bind(r.table_name.clone())
                .bind(r.integrity_type.as_str())
                .bind(r.constraint.clone())
                .bind(r.failure_count as i64)
                .bind(serde_json::to_string(&r.sample_records).unwrap_or_default())
        },
    )
    .await?;
    insert_all(
        conn,
        "performance_metrics (test_run_id, query_hash, query, execution_time_ms, index_used, plan, recommendation)",
        7,
        &run.performance_metrics,
        |q, m| {
            q.bind(id.clone())
                .bind(m.query_hash.clone())
                .bind(m.query.clone())
                .bind(m.execution_time_ms)
                .bind(m.index_used)
                .bind(m.plan.to_string())
                .bind(m.recommendation.clone())
        },
    )
    .await?;
    insert_all(
        conn,
        "etl_validation_results (test_run_id, source_table, target_table, source_count, target_count, checksum_match, details)",
        7,
        &run.etl_results,
        |q, e| {
            q.bind(id.clone())
                .bind(e.source_table.clone())
                .bind(e.target_table.clone())
                .bind(e.source_count as i64)
                .bind(e.target_count as i64)
                .bind(e.checksum_match)
                .bind(serde_json::to_string(e).unwrap_or_default())
        },
    )
    .await
}
