//! Same-database fast path: when source and target live in one database, one query joins
//! them on the key and returns, per kind of difference, its exact count and the first keys.

use super::bisect::{canonical_key, judge_rows, key_values, Candidate, Differences, Runner, Tuning};
use super::plan::{KeyValues, Side};
use crate::error::Result;

fn derived(side: &Side<'_>) -> String {
    let keys: Vec<String> = side.key_columns().iter().enumerate().map(|(i, k)| format!("{k} AS dbc_k{i}, dbc_n{i} AS dbc_nk{i}")).collect();
    format!("SELECT {}, {} AS dbc_e FROM {}", keys.join(", "), side.encoding(), side.normalized_rows(&[]))
}

fn join_sql(source: &Side<'_>, target: &Side<'_>, limit: usize) -> String {
    let n = source.plan.keys.len();
    let on = (0..n).map(|i| format!("s.dbc_k{i} = t.dbc_k{i}")).collect::<Vec<_>>().join(" AND ");
    let cols = |alias: &str| {
        (0..n).map(|i| format!("{alias}.dbc_k{i} AS dbc_k{i}, {alias}.dbc_nk{i} AS dbc_nk{i}")).collect::<Vec<_>>().join(", ")
    };
    let (s, t) = (derived(source), derived(target));
    let differs = source.sql.differs("s.dbc_e", "t.dbc_e");
    let differences = if source.sql.full_join() {
        let both = (0..n)
            .map(|i| format!("coalesce(s.dbc_k{i}, t.dbc_k{i}) AS dbc_k{i}, coalesce(s.dbc_nk{i}, t.dbc_nk{i}) AS dbc_nk{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT CASE WHEN t.dbc_k0 IS NULL THEN 'missing' WHEN s.dbc_k0 IS NULL THEN 'extra' ELSE 'changed' END AS dbc_kind, {both} \
             FROM ({s}) s FULL JOIN ({t}) t ON {on} WHERE s.dbc_k0 IS NULL OR t.dbc_k0 IS NULL OR {differs}"
        )
    } else {
        format!(
            "SELECT CASE WHEN t.dbc_k0 IS NULL THEN 'missing' ELSE 'changed' END AS dbc_kind, {} FROM ({s}) s LEFT JOIN ({t}) t ON {on} \
             WHERE t.dbc_k0 IS NULL OR {differs} \
             UNION ALL SELECT 'extra' AS dbc_kind, {} FROM ({t}) t LEFT JOIN ({s}) s ON {on} WHERE s.dbc_k0 IS NULL",
            cols("s"),
            cols("t")
        )
    };
    let order = (0..n).map(|i| format!("dbc_k{i}")).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT * FROM (SELECT d.*, count(*) OVER (PARTITION BY dbc_kind) AS dbc_cnt, \
         row_number() OVER (PARTITION BY dbc_kind ORDER BY {order}) AS dbc_rn FROM ({differences}) d) w \
         WHERE dbc_rn <= {limit} ORDER BY dbc_kind, dbc_rn"
    )
}

/// Compare with one join; counts exact, keys sampled.
pub async fn compare(runner: &Runner, source: &Side<'_>, target: &Side<'_>, tuning: Tuning<'_>) -> Result<Differences> {
    let limit = tuning.sample_limit.max(1);
    let sql = join_sql(source, target, limit);
    let (found, counts) = tokio::join!(runner.run(source, sql, limit * 3 + 3), async {
        let s = runner.count(source).await?;
        let t = runner.count(target).await?;
        Result::Ok((s, t))
    });
    let (found, (source_count, target_count)) = (found?, counts?);
    let mut out = Differences { source_count, target_count, ..Default::default() };
    let n = source.plan.keys.len();
    let mut changed: Vec<Candidate> = Vec::new();
    for row in &found.rows {
        let kind = row.get("dbc_kind").and_then(|v| v.as_str()).unwrap_or_default();
        let count = row.get("dbc_cnt").and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))).unwrap_or(0);
        let key: KeyValues = key_values(row, n);
        match kind {
            "missing" => {
                out.missing_count = count;
                out.missing.push(key);
            }
            "extra" => {
                out.extra_count = count;
                out.extra.push(key);
            }
            _ => {
                out.changed_count = count;
                changed.push((canonical_key(row, n), key.clone(), key));
            }
        }
    }
    if !changed.is_empty() {
        // Column-level detail for the sampled rows; the count stays the join's.
        let mut detail = Differences::default();
        judge_rows(runner, source, target, &changed, tuning, &mut detail).await?;
        out.changed = detail.changed;
        out.changed_columns = detail.changed_columns;
    }
    out.checksums_equal = !out.any();
    out.rows_fetched = found.rows.len() as u64;
    out.queries = runner.queries.load(std::sync::atomic::Ordering::Relaxed);
    Ok(out)
}
