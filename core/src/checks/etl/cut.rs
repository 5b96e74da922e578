//! Where a range of keys is cut into segments, and how the segments are shared among the
//! checksum queries that run at once on each database.
//!
//! Cutting at every n-th key (`row_number()`) gives segments of equal row counts, but costs a
//! scan of the keys before the checksums start: on identical tables, a sixth of the whole
//! comparison. A whole table keyed by one integer column is cut by key value instead, between
//! its smallest and largest key (two index lookups); the segments that differ are cut again
//! by row number, so gaps and skew in the keys cost at most one more round.

use serde_json::Value;

use super::bisect::{key_values, Runner};
use super::plan::{KeyRange, KeyValues, Side};
use crate::driver::etl_sql::TypeClass;
use crate::error::Result;

/// Most segments of a cut whose boundaries the checksum query must list; an even cut by key
/// value computes each row's segment by arithmetic and takes up to the request's `segments`.
pub const MAX_LISTED_BOUNDARIES: u64 = 2048;

/// Where a range is cut.
pub struct Cut {
    /// The lower bounds of segments 1..., in key order.
    pub boundaries: Vec<KeyValues>,
    /// When the boundaries are integers evenly spaced: the space between them.
    pub step: Option<i128>,
}

/// Where to cut `range` (holding `rows` rows on the cutter) into about `pieces` segments.
pub async fn boundaries(runner: &Runner, cutter: &Side<'_>, range: &KeyRange, rows: u64, pieces: u64) -> Result<Cut> {
    let whole_table = *range == KeyRange::default();
    let integer_key = |c: &TypeClass| *c == TypeClass::Int;
    if whole_table && matches!(cutter.plan.keys.as_slice(), [only] if integer_key(&only.source.class) && integer_key(&only.target.class)) {
        let found = runner.run(cutter, cutter.key_bounds_sql(), 1).await?;
        let bound = |name: &str| found.rows.first().and_then(|r| integer(r.get(name)?));
        if let (Some(lo), Some(hi)) = (bound("dbc_lo"), bound("dbc_hi")) {
            let (boundaries, step) = uniform(lo, hi, pieces);
            return Ok(Cut { boundaries, step: Some(step) });
        }
    }
    // Every n-th key. These boundaries are listed in the checksum query as literals (a CASE
    // over them per row): past a few thousand the query text and its planning cost more than
    // one more round on the segments that differ.
    let pieces = pieces.min(MAX_LISTED_BOUNDARIES);
    let every = rows.div_ceil(pieces).max(1);
    let found = runner.run(cutter, cutter.boundaries_sql(range, every), pieces as usize + 1).await?;
    Ok(Cut { boundaries: found.rows.iter().map(|r| key_values(r, cutter.plan.keys.len())).collect(), step: None })
}

fn integer(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Boundaries spaced evenly from `lo` to `hi` (both held by some row), and the space between
/// them: `pieces` segments, or fewer when there are fewer distinct keys.
fn uniform(lo: i128, hi: i128, pieces: u64) -> (Vec<KeyValues>, i128) {
    let span = hi - lo + 1;
    let step = (span + i128::from(pieces) - 1).div_euclid(i128::from(pieces.max(1))).max(1);
    let boundaries =
        (1..i128::from(pieces)).map(|k| lo + k * step).take_while(|b| *b <= hi).filter_map(|b| Some(vec![number(b)?])).collect();
    (boundaries, step)
}

fn number(n: i128) -> Option<Value> {
    i64::try_from(n).ok().map(Value::from).or_else(|| u64::try_from(n).ok().map(Value::from))
}

/// One checksum query's share of a cut range: its own range and the boundaries inside it;
/// its segments are numbered from `first` in the whole range.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub first: usize,
    pub range: KeyRange,
    pub boundaries: Vec<KeyValues>,
    /// The cut's even spacing, if it has one.
    pub step: Option<i128>,
}

/// The segments of `range` cut at `boundaries`, dealt in key order to at most `jobs` queries
/// of about equal numbers of segments.
pub fn shares(range: &KeyRange, boundaries: &[KeyValues], step: Option<i128>, jobs: usize) -> Vec<Share> {
    let segments = boundaries.len() + 1;
    let jobs = jobs.clamp(1, segments);
    let mut out = Vec::with_capacity(jobs);
    let mut first = 0;
    for j in 0..jobs {
        // Segments first..=last, the remainder spread over the first shares.
        let last = first + segments / jobs + usize::from(j < segments % jobs) - 1;
        out.push(Share {
            first,
            range: KeyRange {
                lo: if first == 0 { range.lo.clone() } else { Some(boundaries[first - 1].clone()) },
                hi: if last == segments - 1 { range.hi.clone() } else { Some(boundaries[last].clone()) },
            },
            boundaries: boundaries[first..last].to_vec(),
            step,
        });
        first = last + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys((b, _): &(Vec<KeyValues>, i128)) -> Vec<i64> {
        b.iter().map(|k| k[0].as_i64().unwrap()).collect()
    }

    #[test]
    fn integer_keys_are_cut_evenly_between_the_smallest_and_largest() {
        assert_eq!(keys(&uniform(1, 100, 4)), [26, 51, 76]);
        assert_eq!(keys(&uniform(2, 2_000_000, 2)), [1_000_002]);
        // Fewer distinct keys than pieces: one segment per key at most.
        assert_eq!(keys(&uniform(5, 7, 10)), [6, 7]);
        assert!(uniform(9, 9, 10).0.is_empty());
        assert_eq!(uniform(1, 100, 4).1, 25);
        assert_eq!(keys(&uniform(-10, 9, 2)), [0]);
    }

    #[test]
    fn every_segment_goes_to_exactly_one_share_in_key_order() {
        let boundaries: Vec<KeyValues> = (1..=9).map(|k| vec![Value::from(k * 10)]).collect();
        let range = KeyRange { lo: None, hi: Some(vec![Value::from(1000)]) };
        for jobs in 1..=12 {
            let dealt = shares(&range, &boundaries, None, jobs);
            assert_eq!(dealt.len(), jobs.min(10));
            assert_eq!(dealt[0].range.lo, None);
            assert_eq!(dealt.last().unwrap().range.hi, range.hi);
            let mut next = 0;
            for (i, share) in dealt.iter().enumerate() {
                assert_eq!(share.first, next, "jobs {jobs}: share {i} starts where the last ended");
                next += share.boundaries.len() + 1;
                if i > 0 {
                    // Adjacent shares meet at a boundary: no key in two, none in neither.
                    assert_eq!(share.range.lo, dealt[i - 1].range.hi);
                }
            }
            assert_eq!(next, 10, "jobs {jobs}: every segment dealt once");
        }
    }
}
