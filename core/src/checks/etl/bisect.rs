//! Checksum bisection. A range of keys is cut into segments of about equal row counts (the
//! boundaries are every n-th key of the side with more rows, so gaps in the keys do not
//! matter); both databases compute count and checksum per segment in one query each, run
//! concurrently; segments that differ are cut again until they hold at most `threshold`
//! rows, and those are compared row by row: keys and row hashes first, then the column
//! values of the rows whose hashes differ. Only segment sums, hashes of few rows and the
//! differing rows cross the wire, and memory is bounded by the batch size whatever the table.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::cut;
use super::judge::values_equal;
use super::keys_out::KeySink;
use super::plan::{KeyRange, KeyValues, Side};
use crate::driver::QueryResult;
use crate::error::{Error, Result};

/// Rows fetched per side in one row-by-row batch (bounds memory).
const BATCH_ROWS: u64 = 50_000;
/// Fewest rows worth a checksum query of their own when a range is shared among queries.
const MIN_ROWS_PER_JOB: u64 = 100_000;
/// Ranges OR-ed into one row-by-row query.
const BATCH_RANGES: usize = 256;
/// Keys per `IN (...)` list when fetching column values.
const KEYS_PER_FETCH: usize = 500;

/// A row present on both sides whose values differ.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedRow {
    pub key: KeyValues,
    /// (column label, source value, target value), canonical texts.
    pub columns: Vec<(String, Option<String>, Option<String>)>,
}

/// Everything the comparison found; counts exact, lists capped at the sample limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Differences {
    pub source_count: u64,
    pub target_count: u64,
    pub missing_count: u64,
    pub extra_count: u64,
    pub changed_count: u64,
    /// Rows whose canonical texts differ only within a tolerance (or by JSON formatting).
    pub within_tolerance: u64,
    pub missing: Vec<KeyValues>,
    pub extra: Vec<KeyValues>,
    pub changed: Vec<ChangedRow>,
    /// Changed rows per column label.
    pub changed_columns: std::collections::BTreeMap<String, u64>,
    /// Did every segment checksum agree (before any row was judged)?
    pub checksums_equal: bool,
    pub segments_compared: u64,
    pub rows_fetched: u64,
    pub queries: u64,
}

impl Differences {
    pub fn any(&self) -> bool {
        self.missing_count + self.extra_count + self.changed_count > 0 || self.source_count != self.target_count
    }
}

/// Runs queries with a deadline and counts them.
pub struct Runner {
    pub timeout: Duration,
    pub queries: std::sync::atomic::AtomicU64,
}

impl Runner {
    pub fn new(timeout: Duration) -> Self {
        Runner { timeout, queries: Default::default() }
    }

    pub async fn run(&self, side: &Side<'_>, sql: String, max_rows: usize) -> Result<QueryResult> {
        self.queries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(side = side.label(), bytes = sql.len(), "etl query");
        tracing::trace!(side = side.label(), %sql, "etl query text");
        // The server enforces the timeout too; this bounds SQLite and a hung connection.
        match tokio::time::timeout(self.timeout + Duration::from_secs(2), side.driver.query(&sql, max_rows)).await {
            Err(_) => Err(Error::invalid(format!("{} query timed out after {} ms", side.label(), self.timeout.as_millis()))),
            Ok(Err(Error::InvalidInput(m))) => Err(Error::InvalidInput(format!("{} {}: {m}", side.label(), side.table.name))),
            Ok(other) => other,
        }
    }

    pub async fn count(&self, side: &Side<'_>) -> Result<u64> {
        let result = self.run(side, side.count_sql(), 1).await?;
        result.scalar_u64().ok_or_else(|| Error::Internal(format!("{} count returned no number", side.label())))
    }
}

/// Tuning of the bisection, and where every differing key goes besides the samples.
#[derive(Clone, Copy)]
pub struct Tuning<'a> {
    pub segments: usize,
    /// Checksum queries run at once on each database over a large range.
    pub jobs: usize,
    pub threshold: u64,
    pub sample_limit: usize,
    pub keys_out: Option<&'a KeySink<'a>>,
}

/// A range still to compare, with the rows each side holds in it.
#[derive(Debug, Clone)]
struct Segment {
    range: KeyRange,
    source_rows: u64,
    target_rows: u64,
}

/// Progress: rows settled so far, rows in total.
pub type RowProgress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// Compare two sides by checksum bisection. `source_rows`/`target_rows` are exact counts
/// (with the filters) or estimates when `exact` is false (the segment sums then give them).
pub async fn compare(
    runner: &Runner,
    source: &Side<'_>,
    target: &Side<'_>,
    counts: (u64, u64),
    tuning: Tuning<'_>,
    progress: Option<RowProgress<'_>>,
) -> Result<Differences> {
    let mut out = Differences { source_count: counts.0, target_count: counts.1, checksums_equal: true, ..Default::default() };
    let total = counts.0.max(counts.1).max(1);
    let mut settled = 0u64;
    // A stack popped in key order: children are pushed last-first.
    let mut stack = vec![Segment { range: KeyRange::default(), source_rows: counts.0, target_rows: counts.1 }];
    let mut batch: Vec<Segment> = Vec::new();
    let mut batch_rows = 0u64;
    while let Some(segment) = stack.pop() {
        let larger = segment.source_rows.max(segment.target_rows);
        if larger == 0 {
            continue;
        }
        if larger <= tuning.threshold {
            batch_rows += segment.source_rows + segment.target_rows;
            batch.push(segment);
            if batch_rows >= BATCH_ROWS || batch.len() >= BATCH_RANGES {
                settled += batch_rows / 2;
                compare_rows(runner, source, target, &std::mem::take(&mut batch), tuning, &mut out).await?;
                batch_rows = 0;
            }
            continue;
        }
        let (children, totals) = split(runner, source, target, &segment, tuning, &mut out).await?;
        if segment.range == KeyRange::default() {
            // The whole table was just counted, segment by segment: exact, whatever the
            // estimate the split started from.
            (out.source_count, out.target_count) = totals;
        }
        let mismatched: u64 = children.iter().map(|c| c.source_rows.max(c.target_rows)).sum();
        settled += larger.saturating_sub(mismatched);
        stack.extend(children.into_iter().rev());
        if let Some(p) = progress {
            p(settled.min(total), total);
        }
    }
    if !batch.is_empty() {
        compare_rows(runner, source, target, &batch, tuning, &mut out).await?;
    }
    if let Some(p) = progress {
        p(total, total);
    }
    out.queries = runner.queries.load(std::sync::atomic::Ordering::Relaxed);
    Ok(out)
}

/// Cut a segment at every n-th key of its larger side, checksum the pieces on both sides
/// concurrently, and return the pieces that differ.
async fn split(
    runner: &Runner,
    source: &Side<'_>,
    target: &Side<'_>,
    segment: &Segment,
    tuning: Tuning<'_>,
    out: &mut Differences,
) -> Result<(Vec<Segment>, (u64, u64))> {
    let (cutter, rows) =
        if segment.target_rows > segment.source_rows { (target, segment.target_rows) } else { (source, segment.source_rows) };
    // Pieces a quarter below the threshold, so a few extra rows on the other side do not
    // push a piece over it (and into another split).
    let pieces = (rows * 4).div_ceil(tuning.threshold * 3).clamp(2, tuning.segments.max(2) as u64);
    let cut::Cut { boundaries, step } = cut::boundaries(runner, cutter, &segment.range, rows, pieces).await?;
    // A range big enough to share is checksummed by several queries at once on each side; a
    // small one (the deeper rounds) by one.
    let jobs = if rows >= MIN_ROWS_PER_JOB * 2 { tuning.jobs.min((rows / MIN_ROWS_PER_JOB) as usize) } else { 1 };
    let shares = cut::shares(&segment.range, &boundaries, step, jobs);
    let (s, t) = tokio::join!(checksums(runner, source, &shares), checksums(runner, target, &shares));
    let (s, t) = (s?, t?);
    let totals = (s.values().map(|v| v.0).sum(), t.values().map(|v| v.0).sum());
    let mut children = Vec::new();
    for i in 0..=boundaries.len() {
        out.segments_compared += 1;
        let a = s.get(&i).copied().unwrap_or_default();
        let b = t.get(&i).copied().unwrap_or_default();
        if a == b {
            continue;
        }
        out.checksums_equal = false;
        let range = KeyRange {
            lo: if i == 0 { segment.range.lo.clone() } else { Some(boundaries[i - 1].clone()) },
            hi: if i == boundaries.len() { segment.range.hi.clone() } else { Some(boundaries[i].clone()) },
        };
        children.push(Segment { range, source_rows: a.0, target_rows: b.0 });
    }
    // With no boundary found (a side shrank meanwhile), fall back to rows: never loop.
    if boundaries.is_empty() {
        let capped = children.into_iter().map(|c| Segment {
            source_rows: c.source_rows.min(tuning.threshold),
            target_rows: c.target_rows.min(tuning.threshold),
            ..c
        });
        return Ok((capped.collect(), totals));
    }
    Ok((children, totals))
}

/// (rows, checksum) per segment number of one side, its shares' queries run at once.
async fn checksums(runner: &Runner, side: &Side<'_>, shares: &[cut::Share]) -> Result<HashMap<usize, (u64, u128)>> {
    let queries = shares.iter().map(|share| async move {
        let found = runner.run(side, side.checksum_sql(&share.range, &share.boundaries, share.step), share.boundaries.len() + 2).await?;
        Ok::<_, Error>(sums(&found, side)?.into_iter().map(|(segment, sum)| (share.first + segment, sum)).collect::<Vec<_>>())
    });
    Ok(futures_util::future::try_join_all(queries).await?.into_iter().flatten().collect())
}

/// (rows, checksum) per segment number; the checksum recombined from the side's parts.
pub fn sums(result: &QueryResult, side: &Side<'_>) -> Result<HashMap<usize, (u64, u128)>> {
    let shifts: Vec<u32> = side.sql.checksum_aggregates("m").into_iter().map(|p| p.1).collect();
    let mut out = HashMap::new();
    for row in &result.rows {
        let int = |name: &str| -> Result<u128> {
            match row.get(name) {
                Some(Value::Number(n)) => {
                    n.as_u64().map(u128::from).ok_or_else(|| Error::Internal(format!("segment {name} is not an unsigned integer: {n}")))
                }
                Some(Value::String(s)) => s.trim().parse().map_err(|_| Error::Internal(format!("segment {name} is not an integer: {s}"))),
                // SUM over no rows.
                Some(Value::Null) => Ok(0),
                other => Err(Error::Internal(format!("segment {name} missing: {other:?}"))),
            }
        };
        let mut checksum = 0u128;
        for (i, shift) in shifts.iter().enumerate() {
            checksum += int(&format!("dbc_s{i}"))? << shift;
        }
        let segment = match row.get("dbc_seg") {
            Some(Value::Null) | None => 0,
            _ => int("dbc_seg")? as usize,
        };
        out.insert(segment, (int("dbc_n")? as u64, checksum));
    }
    Ok(out)
}

/// The raw key values of a row selected with `dbc_k0`... aliases.
pub fn key_values(row: &serde_json::Map<String, Value>, n: usize) -> KeyValues {
    (0..n).map(|i| row.get(&format!("dbc_k{i}")).cloned().unwrap_or(Value::Null)).collect()
}

/// Canonical key texts (`dbc_nk0`...): how rows are matched across databases.
pub fn canonical_key(row: &serde_json::Map<String, Value>, n: usize) -> Vec<Option<String>> {
    (0..n).map(|i| text(row.get(&format!("dbc_nk{i}")))).collect()
}

pub fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Key order for samples: numbers by value, text byte-wise (as the databases were told to).
pub fn compare_keys(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Value::Number(p), Value::Number(q)) => p.as_f64().partial_cmp(&q.as_f64()).unwrap_or(Ordering::Equal),
            (Value::String(p), Value::String(q)) => p.as_bytes().cmp(q.as_bytes()),
            _ => x.to_string().cmp(&y.to_string()),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

struct HashedRow {
    raw: KeyValues,
    hash: Option<String>,
}

/// Row-by-row comparison of a batch of small ranges.
async fn compare_rows(
    runner: &Runner,
    source: &Side<'_>,
    target: &Side<'_>,
    batch: &[Segment],
    tuning: Tuning<'_>,
    out: &mut Differences,
) -> Result<()> {
    let ranges: Vec<KeyRange> = batch.iter().map(|s| s.range.clone()).collect();
    let cap = batch.iter().map(|s| s.source_rows.max(s.target_rows)).sum::<u64>() as usize * 2 + 16;
    let (s, t) = tokio::join!(
        runner.run(source, source.row_hashes_sql(&ranges), cap + 1),
        runner.run(target, target.row_hashes_sql(&ranges), cap + 1),
    );
    let (s, t) = (s?, t?);
    if s.rows.len() > cap || t.rows.len() > cap {
        return Err(Error::invalid("the tables changed while they were compared (a segment grew); run the check again"));
    }
    out.rows_fetched += (s.rows.len() + t.rows.len()) as u64;
    let n = source.plan.keys.len();
    let mut by_key: HashMap<Vec<Option<String>>, HashedRow> = HashMap::with_capacity(s.rows.len());
    for row in &s.rows {
        by_key.insert(canonical_key(row, n), HashedRow { raw: key_values(row, n), hash: text(row.get("dbc_h")) });
    }
    let mut extra = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    for row in &t.rows {
        let key = canonical_key(row, n);
        match by_key.remove(&key) {
            None => extra.push(key_values(row, n)),
            Some(src) => {
                if src.hash != text(row.get("dbc_h")) {
                    candidates.push((key, src.raw, key_values(row, n)));
                }
            }
        }
    }
    let mut missing: Vec<KeyValues> = by_key.into_values().map(|r| r.raw).collect();
    missing.sort_by(|a, b| compare_keys(a, b));
    extra.sort_by(|a, b| compare_keys(a, b));
    candidates.sort_by(|a, b| compare_keys(&a.1, &b.1));
    out.missing_count += missing.len() as u64;
    out.extra_count += extra.len() as u64;
    if let Some(sink) = tuning.keys_out {
        sink.missing(&missing)?;
        sink.extra(&extra)?;
    }
    fill(&mut out.missing, missing, tuning.sample_limit);
    fill(&mut out.extra, extra, tuning.sample_limit);
    for chunk in candidates.chunks(KEYS_PER_FETCH) {
        judge_rows(runner, source, target, chunk, tuning, out).await?;
    }
    Ok(())
}

fn fill<T>(samples: &mut Vec<T>, found: Vec<T>, limit: usize) {
    let room = limit.saturating_sub(samples.len());
    samples.extend(found.into_iter().take(room));
}

/// A row whose hashes differ: canonical key, raw key on the source, raw key on the target.
pub type Candidate = (Vec<Option<String>>, KeyValues, KeyValues);

/// Fetch the column values of rows whose hashes differ and judge them column by column.
pub async fn judge_rows(
    runner: &Runner,
    source: &Side<'_>,
    target: &Side<'_>,
    pairs: &[Candidate],
    tuning: Tuning<'_>,
    out: &mut Differences,
) -> Result<()> {
    let source_keys: Vec<KeyValues> = pairs.iter().map(|p| p.1.clone()).collect();
    let target_keys: Vec<KeyValues> = pairs.iter().map(|p| p.2.clone()).collect();
    let (s, t) = tokio::join!(
        runner.run(source, source.rows_by_key_sql(&source_keys), pairs.len() * 4 + 4),
        runner.run(target, target.rows_by_key_sql(&target_keys), pairs.len() * 4 + 4),
    );
    let (s, t) = (s?, t?);
    out.rows_fetched += (s.rows.len() + t.rows.len()) as u64;
    let n = source.plan.keys.len();
    let index = |result: &QueryResult| -> HashMap<Vec<Option<String>>, serde_json::Map<String, Value>> {
        result.rows.iter().map(|r| (canonical_key(r, n), r.clone())).collect()
    };
    let (s, t) = (index(&s), index(&t));
    for (key, raw, _) in pairs {
        // A row deleted between the two queries is not judged.
        let (Some(srow), Some(trow)) = (s.get(key), t.get(key)) else { continue };
        let mut columns = Vec::new();
        for (i, pair) in source.plan.columns.iter().enumerate() {
            let name = format!("dbc_c{i}");
            let (a, b) = (text(srow.get(&name)), text(trow.get(&name)));
            if !values_equal(pair, a.as_deref(), b.as_deref()) {
                columns.push((pair.label(), a, b));
            }
        }
        if columns.is_empty() {
            out.within_tolerance += 1;
        } else {
            out.changed_count += 1;
            for (label, _, _) in &columns {
                *out.changed_columns.entry(label.clone()).or_default() += 1;
            }
            let row = ChangedRow { key: raw.clone(), columns };
            if let Some(sink) = tuning.keys_out {
                sink.changed(&row)?;
            }
            if out.changed.len() < tuning.sample_limit {
                out.changed.push(row);
            }
        }
    }
    Ok(())
}
