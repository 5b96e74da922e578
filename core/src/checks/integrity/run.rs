//! Running one table's checks: one aggregate scan for every scan check (each retried alone if
//! the combined scan fails), then each query check, with bounded, masked samples of failures.

use std::time::Duration;

use crate::checks::schema::constraint_check::Querier;
use crate::dialect::Dialect;
use crate::driver::Driver;
use crate::masking::Masker;
use crate::model::Table;

use super::plan::{PlannedCheck, Probe, ScanKind};
use super::{Outcome, Row};

/// The aggregate expression a scan check contributes, if any.
fn scan_expression(kind: &ScanKind, alias: &str) -> Option<String> {
    match kind {
        ScanKind::Rows(cond) => Some(format!("COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS {alias}")),
        ScanKind::NullFraction { column, .. } => Some(format!("COALESCE(SUM(CASE WHEN {column} IS NULL THEN 1 ELSE 0 END), 0) AS {alias}")),
        ScanKind::Freshness { column, .. } => Some(format!("MAX({column}) AS {alias}")),
        ScanKind::RowCount { .. } => None,
    }
}

pub(super) fn as_u64(v: Option<&serde_json::Value>) -> u64 {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)).unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().map(|f| f as u64).unwrap_or(0),
        _ => 0,
    }
}

/// What every check of one run shares: where it runs and how its failures are sampled.
pub(super) struct Context<'a> {
    pub target: &'a dyn Driver,
    pub dialect: Dialect,
    pub masker: &'a Masker,
    pub limit: usize,
    /// How long one query may run before its checks are reported as not run.
    pub timeout: Duration,
}

impl Context<'_> {
    pub fn querier(&self) -> Querier<'_> {
        Querier::Target(self.target, self.timeout)
    }
}

/// Every check of one table, one after another: the scan checks, then each query check.
pub(super) async fn run_table(cx: &Context<'_>, t: &Table, plan: &[PlannedCheck]) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = plan.iter().map(|_| None).collect();
    for (i, outcome) in run_scans(cx, t, plan).await {
        outcomes[i] = Some(outcome);
    }
    for (i, check) in plan.iter().enumerate() {
        if let Probe::Query(query) = &check.probe {
            outcomes[i] = Some(query.run(&mut cx.querier(), cx.masker).await);
        }
    }
    outcomes.into_iter().map(|o| o.unwrap_or_else(|| Err("not run".into()))).collect()
}

/// The scan checks of one table (by their index in `plan`), answered by one aggregate scan;
/// if it fails (a timeout, one bad expression), each check is retried alone so the others
/// still get an answer.
pub(super) async fn run_scans(cx: &Context<'_>, t: &Table, plan: &[PlannedCheck]) -> Vec<(usize, Outcome)> {
    let table = cx.dialect.quote_ident(&t.name);
    let mut q = cx.querier();
    let scans: Vec<(usize, &ScanKind)> = plan
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match &c.probe {
            Probe::Scan(k) => Some((i, k)),
            Probe::Query(_) => None,
        })
        .collect();
    if scans.is_empty() {
        return Vec::new();
    }
    let exprs: Vec<String> = scans.iter().filter_map(|(i, k)| scan_expression(k, &format!("c{i}"))).collect();
    let all = format!("SELECT COUNT(*) AS total{} FROM {table}", exprs.iter().map(|e| format!(", {e}")).collect::<String>());
    let aggregates: Vec<(usize, std::result::Result<Row, String>)> = match q.query(&all, 1).await {
        Ok(r) => {
            let row = r.rows.into_iter().next().unwrap_or_default();
            scans.iter().map(|(i, _)| (*i, Ok(row.clone()))).collect()
        }
        Err(_) => {
            let mut each = Vec::new();
            for (i, k) in &scans {
                let expr = scan_expression(k, &format!("c{i}")).map(|e| format!(", {e}")).unwrap_or_default();
                let one = format!("SELECT COUNT(*) AS total{expr} FROM {table}");
                each.push((*i, q.query(&one, 1).await.map(|r| r.rows.into_iter().next().unwrap_or_default())));
            }
            each
        }
    };
    let mut outcomes = Vec::new();
    for (i, aggregate) in aggregates {
        let Probe::Scan(kind) = &plan[i].probe else { continue };
        let outcome = match aggregate {
            Err(e) => Err(e),
            Ok(row) => scan_outcome(cx, t, kind, &row, &format!("c{i}")).await,
        };
        outcomes.push((i, outcome));
    }
    outcomes
}

/// A scan check's outcome from its counter in `row` (under `alias`, with the table's `total`),
/// with a sample of the failing rows when there are any.
pub(super) async fn scan_outcome(cx: &Context<'_>, t: &Table, kind: &ScanKind, row: &Row, alias: &str) -> Outcome {
    let (d, masker, limit) = (cx.dialect, cx.masker, cx.limit);
    let table = d.quote_ident(&t.name);
    let total = as_u64(row.get("total"));
    let summary =
        |pairs: Vec<(&str, serde_json::Value)>| -> Vec<Row> { vec![pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()] };
    match kind {
        ScanKind::Rows(cond) => {
            let count = as_u64(row.get(alias));
            if count == 0 {
                return Ok((0, Vec::new()));
            }
            let order = t.columns.iter().map(|c| d.quote_ident(&c.name)).collect::<Vec<_>>().join(", ");
            let sample = format!("SELECT * FROM {table} WHERE {cond} ORDER BY {order} LIMIT {limit}");
            let rows = cx.querier().query(&sample, limit).await.map(|r| r.rows).unwrap_or_default();
            Ok((count, rows.into_iter().map(|r| masker.mask_row(r)).collect()))
        }
        ScanKind::NullFraction { max, .. } => {
            let nulls = as_u64(row.get(alias));
            let fraction = if total == 0 { 0.0 } else { nulls as f64 / total as f64 };
            if fraction > *max {
                Ok((
                    nulls,
                    summary(vec![
                        ("null_rows", nulls.into()),
                        ("total_rows", total.into()),
                        ("null_fraction", fraction.into()),
                        ("max_null_fraction", (*max).into()),
                    ]),
                ))
            } else {
                Ok((0, Vec::new()))
            }
        }
        ScanKind::RowCount { min, max } => {
            let outside = min.is_some_and(|m| total < m) || max.is_some_and(|m| total > m);
            if outside {
                Ok((1, summary(vec![("row_count", total.into()), ("min", (*min).into()), ("max", (*max).into())])))
            } else {
                Ok((0, Vec::new()))
            }
        }
        ScanKind::Freshness { max_age, max_age_text, .. } => {
            let newest = row.get(alias).cloned().unwrap_or(serde_json::Value::Null);
            let parsed = newest.as_str().and_then(parse_timestamp);
            match (&newest, parsed) {
                (serde_json::Value::Null, _) => Ok((
                    1,
                    summary(vec![
                        ("newest", newest.clone()),
                        ("max_age", max_age_text.clone().into()),
                        ("reason", "no rows with a timestamp".into()),
                    ]),
                )),
                (_, None) => Err(format!("cannot read the newest value {newest} as a timestamp")),
                (_, Some(ts)) => {
                    let age = (chrono::Utc::now() - ts).num_seconds();
                    if age > *max_age {
                        Ok((
                            1,
                            summary(vec![
                                ("newest", newest.clone()),
                                ("age_seconds", age.into()),
                                ("max_age", max_age_text.clone().into()),
                            ]),
                        ))
                    } else {
                        Ok((0, Vec::new()))
                    }
                }
            }
        }
    }
}

/// Timestamps as the three databases print them: RFC 3339, or naive (taken as UTC).
fn parse_timestamp(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let t = text.trim();
    if let Ok(ts) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(ts.with_timezone(&chrono::Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%#z"] {
        if let Ok(ts) = chrono::DateTime::parse_from_str(t, format) {
            return Some(ts.with_timezone(&chrono::Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(ts) = chrono::NaiveDateTime::parse_from_str(t, format) {
            return Some(ts.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|ts| ts.and_utc())
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    #[test]
    fn reads_every_dialects_timestamps() {
        for text in [
            "2025-05-01T10:00:00+00:00",
            "2025-05-01 10:00:00",
            "2025-05-01 10:00:00.123",
            "2025-05-01T10:00:00.5+00:00",
            "2025-05-01 10:00:00+00",
            "2025-05-01",
        ] {
            assert!(parse_timestamp(text).is_some(), "{text}");
        }
        assert!(parse_timestamp("yesterday").is_none());
    }
}
