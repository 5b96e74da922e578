//! How a run's checks reach the database at scale. The cost of a check of a small table is
//! almost all round trips (an empty table answers in microseconds), so the checks of small
//! tables, by the catalog's row estimate, are answered together: one query counts the
//! failures of a few hundred checks at once, and only the checks that fail are run again
//! alone for their samples. A large table's aggregate scan and each of its key checks are
//! units of their own. Units run concurrently over the driver's pool, `jobs` at a time;
//! each query keeps the per-check timeout, and a combined query that fails or times out is
//! answered table by table instead, so one slow or broken check never costs the others
//! their answers.

use futures_util::StreamExt;

use crate::model::Table;

use super::plan::{PlannedCheck, Probe, ScanKind};
use super::run::{as_u64, run_scans, run_table, scan_outcome, Context};
use super::{Outcome, Progress, Row};

/// A table whose catalog estimate is at most this many rows is checked together with others.
const SMALL_ROWS: u64 = 5_000;
/// Without a row estimate (a never-analyzed PostgreSQL table), its size on disk decides.
const SMALL_BYTES: u64 = 1 << 20;
/// Checks counted by one combined query: large enough that round trips stop mattering, small
/// enough that a timeout or an error costs little to redo table by table.
const CHECKS_PER_QUERY: usize = 300;

/// One piece of work for one connection.
enum Unit {
    /// Every check of several small tables, counted by one query.
    Together(Vec<usize>),
    /// The aggregate scan of one table (all its scan checks).
    Scan(usize),
    /// One query check (key, foreign key, user uniqueness) of one table.
    Query(usize, usize),
}

impl Unit {
    fn tables(&self) -> Vec<usize> {
        match self {
            Unit::Together(ts) => ts.clone(),
            Unit::Scan(t) | Unit::Query(t, _) => vec![*t],
        }
    }
}

fn is_small(t: &Table) -> bool {
    match (t.row_estimate, t.size_bytes) {
        (Some(rows), _) => rows <= SMALL_ROWS,
        (None, Some(bytes)) => bytes <= SMALL_BYTES,
        (None, None) => false,
    }
}

/// Freshness compares a timestamp, not a count: it keeps its table's own scan.
fn countable(plan: &[PlannedCheck]) -> bool {
    plan.iter().all(|c| !matches!(c.probe, Probe::Scan(ScanKind::Freshness { .. })))
}

fn units(tables: &[&Table], plans: &[Vec<PlannedCheck>]) -> Vec<Unit> {
    let mut large: Vec<usize> = Vec::new();
    let mut together = Vec::new();
    let mut group = Vec::new();
    let mut checks = 0;
    for (i, (t, plan)) in tables.iter().zip(plans).enumerate() {
        if plan.is_empty() {
            continue;
        }
        if !(is_small(t) && countable(plan)) {
            large.push(i);
            continue;
        }
        if checks + plan.len() > CHECKS_PER_QUERY && !group.is_empty() {
            together.push(Unit::Together(std::mem::take(&mut group)));
            checks = 0;
        }
        group.push(i);
        checks += plan.len();
    }
    if !group.is_empty() {
        together.push(Unit::Together(group));
    }
    // The largest tables start first, so no connection is left with one long scan at the end.
    large.sort_by_key(|&i| std::cmp::Reverse(tables[i].row_estimate.or(tables[i].size_bytes).unwrap_or(u64::MAX)));
    let mut out = Vec::new();
    for i in large {
        if plans[i].iter().any(|c| matches!(c.probe, Probe::Scan(_))) {
            out.push(Unit::Scan(i));
        }
        out.extend(plans[i].iter().enumerate().filter(|(_, c)| matches!(c.probe, Probe::Query(_))).map(|(j, _)| Unit::Query(i, j)));
    }
    out.extend(together);
    out
}

/// Run every check of every table, `jobs` queries at a time; the outcomes come back per
/// table, in plan order.
pub(super) async fn run_all(
    cx: &Context<'_>,
    tables: &[&Table],
    plans: &[Vec<PlannedCheck>],
    jobs: usize,
    progress: Option<Progress<'_>>,
) -> Vec<Vec<Outcome>> {
    let units = units(tables, plans);
    let started = std::time::Instant::now();
    let combined = units.iter().filter(|u| matches!(u, Unit::Together(_))).count();
    tracing::info!(
        tables = tables.len(),
        checks = plans.iter().map(Vec::len).sum::<usize>(),
        combined_queries = combined,
        single_units = units.len() - combined,
        jobs,
        "integrity checks planned"
    );
    let mut pending: Vec<usize> = vec![0; tables.len()];
    for unit in &units {
        for t in unit.tables() {
            pending[t] += 1;
        }
    }
    let mut outcomes: Vec<Vec<Option<Outcome>>> = plans.iter().map(|p| p.iter().map(|_| None).collect()).collect();
    let mut done = pending.iter().filter(|n| **n == 0).count();
    if let Some(p) = progress {
        p(done, tables.len(), tables.first().map(|t| t.name.as_str()).unwrap_or(""));
    }
    let mut finished = futures_util::stream::iter(units)
        .map(|unit| async move {
            let answers = run_unit(cx, tables, plans, &unit).await;
            (unit, answers)
        })
        .buffer_unordered(jobs.max(1));
    while let Some((unit, answers)) = finished.next().await {
        for (t, j, outcome) in answers {
            outcomes[t][j] = Some(outcome);
        }
        for t in unit.tables() {
            pending[t] -= 1;
            if pending[t] == 0 {
                done += 1;
                if let Some(p) = progress {
                    p(done, tables.len(), &tables[t].name);
                }
            }
        }
    }
    tracing::info!(ms = started.elapsed().as_millis() as u64, "integrity checks run");
    outcomes.into_iter().map(|checks| checks.into_iter().map(|o| o.unwrap_or_else(|| Err("not run".into()))).collect()).collect()
}

/// The outcomes of one unit, as (table, check, outcome).
async fn run_unit(cx: &Context<'_>, tables: &[&Table], plans: &[Vec<PlannedCheck>], unit: &Unit) -> Vec<(usize, usize, Outcome)> {
    match *unit {
        Unit::Scan(t) => run_scans(cx, tables[t], &plans[t]).await.into_iter().map(|(j, o)| (t, j, o)).collect(),
        Unit::Query(t, j) => {
            let Probe::Query(check) = &plans[t][j].probe else { return Vec::new() };
            vec![(t, j, check.run(&mut cx.querier(), cx.masker).await)]
        }
        Unit::Together(ref group) => match run_together(cx, tables, plans, group).await {
            Some(answers) => answers,
            None => {
                let mut answers = Vec::new();
                for &t in group {
                    let each = run_table(cx, tables[t], &plans[t]).await;
                    answers.extend(each.into_iter().enumerate().map(|(j, o)| (t, j, o)));
                }
                answers
            }
        },
    }
}

/// Every check of a group of small tables counted by one query: a `UNION ALL` of one row
/// per check, (check number, failing rows, the table's rows where the check needs them).
/// `None` when that query fails; then the group is checked table by table.
async fn run_together(
    cx: &Context<'_>,
    tables: &[&Table],
    plans: &[Vec<PlannedCheck>],
    group: &[usize],
) -> Option<Vec<(usize, usize, Outcome)>> {
    let d = cx.dialect;
    let mut checks = Vec::new();
    let mut selects = Vec::new();
    for &t in group {
        let table = d.quote_ident(&tables[t].name);
        let total = format!("SELECT COUNT(*) FROM {table}");
        for (j, check) in plans[t].iter().enumerate() {
            let (failing, with_total) = match &check.probe {
                Probe::Scan(ScanKind::Rows(cond)) => (format!("SELECT COUNT(*) FROM {table} WHERE {cond}"), false),
                Probe::Scan(ScanKind::NullFraction { column, .. }) => {
                    (format!("SELECT COUNT(*) FROM {table} WHERE {column} IS NULL"), true)
                }
                Probe::Scan(ScanKind::RowCount { .. }) => (total.clone(), true),
                Probe::Scan(ScanKind::Freshness { .. }) => return None,
                Probe::Query(q) => (q.tally_sql.clone(), false),
            };
            let total = if with_total { format!("({total})") } else { "0".into() };
            selects.push(format!("SELECT {} AS k, ({failing}) AS failing, {total} AS total", checks.len()));
            checks.push((t, j));
        }
    }
    if checks.is_empty() {
        return Some(Vec::new());
    }
    let counted = cx.querier().query(&selects.join(" UNION ALL "), checks.len()).await.ok()?;
    let mut counts: Vec<Option<(u64, u64)>> = vec![None; checks.len()];
    for row in &counted.rows {
        let k = as_u64(row.get("k")) as usize;
        if let Some(slot) = counts.get_mut(k) {
            *slot = Some((as_u64(row.get("failing")), as_u64(row.get("total"))));
        }
    }
    let mut answers = Vec::new();
    for ((t, j), count) in checks.into_iter().zip(counts) {
        let (failing, total) = count?;
        let outcome = match &plans[t][j].probe {
            Probe::Query(_) if failing == 0 => Ok((0, Vec::new())),
            // A failing key check runs alone again: its own query gives the duplicated keys or
            // orphans to sample.
            Probe::Query(check) => check.run(&mut cx.querier(), cx.masker).await,
            Probe::Scan(kind) => {
                let alias = format!("c{j}");
                let row: Row = [("total".to_string(), total.into()), (alias.clone(), failing.into())].into_iter().collect();
                scan_outcome(cx, tables[t], kind, &row, &alias).await
            }
        };
        answers.push((t, j, outcome));
    }
    Some(answers)
}
