//! What ETL reconciliation can find, as findings (see [`crate::findings`]).

use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;

const fn etl(severity: Severity, summary: &'static str, details: &'static str, bad: &'static str, good: &'static str) -> FindingDoc {
    FindingDoc { severity, scope: Scope::Etl, policy: None, summary, details, bad, good }
}

pub(crate) const DOCS: &[(FindingId, FindingDoc)] = &[
    (
        FindingId::EtlCountMismatch,
        etl(
            Severity::High,
            "Source and target hold different numbers of rows.",
            "The row counts (after the filters) differ. The missing, extra and changed findings say which keys are responsible.",
            "-- source orders: 1,000,000 rows; target orders: 999,874 rows",
            "-- Re-load the missing keys (--keys-out lists them), then validate again.",
        ),
    ),
    (
        FindingId::EtlMissingRows,
        etl(
            Severity::High,
            "Source rows are absent from the target.",
            "Keys present in the source but not in the target: a load that stopped early, a filter that dropped rows, a failed batch. The count is exact; the listed keys are a sample unless all keys are requested.",
            "-- keys 1001..1126 of the source are not in the target",
            "-- Re-load exactly those keys, or rerun the failed batch.",
        ),
    ),
    (
        FindingId::EtlExtraRows,
        etl(
            Severity::Medium,
            "Target rows have no source row.",
            "Keys present in the target but not in the source: deletes that were not propagated, duplicated loads under new keys, or test data.",
            "-- the target still holds orders deleted from the source last week",
            "-- Propagate the deletes (or soft-delete them), then validate again.",
        ),
    ),
    (
        FindingId::EtlChangedRows,
        etl(
            Severity::High,
            "Rows with the same key differ in some compared column.",
            "Both sides hold the key but at least one compared column differs after normalization (types made comparable across dialects, tolerances and rounding applied). The report names the columns and shows both values, masked where sensitive.",
            "-- order 42: total 19.99 in the source, 19.00 in the target",
            "-- Fix the transformation (a cast, a rounding, a time zone), reload the changed keys.",
        ),
    ),
    (
        FindingId::EtlWithinTolerance,
        etl(
            Severity::Info,
            "Rows differ only within the allowed tolerance (or only in JSON formatting).",
            "Values differ, but by no more than the configured numeric tolerance, or only in the formatting of equal JSON. They count as equal; the finding says how many there were.",
            "-- total 19.990001 vs 19.99 with tolerance 0.001",
            "-- Nothing to do; tighten the tolerance if such differences matter.",
        ),
    ),
    (
        FindingId::EtlNullKey,
        etl(
            Severity::High,
            "Rows whose key is NULL cannot be matched between source and target.",
            "A row without a key value cannot be located on the other side, so it is not compared. Counts still include it.",
            "-- 14 source rows have order_id NULL",
            "-- Choose a key that is never NULL (--key), or fix the rows.",
        ),
    ),
    (
        FindingId::EtlDuplicateKey,
        etl(
            Severity::High,
            "The key does not identify one row: some key value occurs more than once on a side.",
            "Rows are compared by key; a key that repeats makes the comparison ambiguous, so rows are not compared one by one (counts and checksums still are).",
            "-- --key customer_id on orders: a customer has many orders",
            "dbconsultant etl validate ... --key order_id",
        ),
    ),
    (
        FindingId::EtlColumnNotCompared,
        etl(
            Severity::Low,
            "A column exists on one side only (or has no comparable type) and was not compared.",
            "Only columns present on both sides (after --column-map) with comparable types are compared. A column the target lacks may be a load that forgot it.",
            "-- source orders.note has no counterpart in the target",
            "dbconsultant etl validate ... --column-map note=comment",
        ),
    ),
    (
        FindingId::EtlAggregateMismatch,
        etl(
            Severity::High,
            "An aggregate (count, sum, min, max), overall or per group, differs between source and target.",
            "Aggregates reconcile what row-level comparison cannot see cheaply (a total per day or region), and are exact: sums of decimals are compared as decimals.",
            "-- sum:amount per day differs on 2026-11-03",
            "-- Find the day's missing or changed rows (the row findings list them), fix and reload.",
        ),
    ),
];
