//! What query profiling can find, as findings (see [`crate::findings`]).

use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;

const fn perf(severity: Severity, summary: &'static str, details: &'static str, bad: &'static str, good: &'static str) -> FindingDoc {
    FindingDoc { severity, scope: Scope::Performance, policy: None, summary, details, bad, good }
}

pub(crate) const DOCS: &[(FindingId, FindingDoc)] = &[
    (
        FindingId::FullScanOnLargeTable,
        perf(
            Severity::High,
            "The query reads a large table in full where an index on the filtered or joined columns would let it read a few rows.",
            "A sequential scan of a table above the size threshold for a selective filter or a join key costs time proportional to the table. The recommendation names the exact CREATE INDEX, verified (hypothetically with hypopg, or in a sandbox) to change the plan before it is suggested.",
            "SELECT * FROM orders WHERE customer_id = 42;\n-- Seq Scan on orders (1,000,000 rows)",
            "CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);",
        ),
    ),
    (
        FindingId::EstimateOff10x,
        perf(
            Severity::Medium,
            "The planner's row estimate is off by 10x or more from the rows the query really produced.",
            "Plans are chosen from estimates; an estimate off by an order of magnitude means stale or missing statistics (or correlated columns), and a plan that may be far from the best one.",
            "-- estimated 10 rows, actual 48,000",
            "ANALYZE orders;\n-- or extended statistics for correlated columns:\nCREATE STATISTICS orders_status_region (dependencies) ON status, region FROM orders;",
        ),
    ),
    (
        FindingId::SpillToDisk,
        perf(
            Severity::Medium,
            "A sort or hash spilled to disk for lack of working memory.",
            "An external sort or a multi-batch hash join writes temporary files and is much slower than one in memory.",
            "SELECT * FROM orders ORDER BY created_at;\n-- Sort Method: external merge  Disk: 80MB",
            "-- An index matching the ORDER BY, a smaller result (LIMIT, fewer columns), or more work_mem for this query.",
        ),
    ),
    (
        FindingId::FunctionOnIndexedColumn,
        perf(
            Severity::Medium,
            "A function or cast applied to an indexed column keeps the index from being used.",
            "An index on a column serves conditions on the column itself; wrapping it in a function (lower(email), date(created_at), a cast) makes the condition opaque to the index.",
            "SELECT * FROM customers WHERE lower(email) = 'ada@example.com';",
            "CREATE INDEX CONCURRENTLY customers_lower_email_idx ON customers (lower(email));\n-- or compare the column directly with a normalized value",
        ),
    ),
    (
        FindingId::SelectStarWideTable,
        perf(
            Severity::Low,
            "SELECT * on a wide table reads and sends every column, most of them unused.",
            "Selecting every column of a wide table costs I/O and network, prevents index-only scans and breaks callers when columns are added.",
            "SELECT * FROM customers WHERE id = 42;",
            "SELECT id, email, full_name FROM customers WHERE id = 42;",
        ),
    ),
    (
        FindingId::NPlusOne,
        perf(
            Severity::Medium,
            "The same query shape runs many times in one workload (an N+1 pattern).",
            "A fingerprint repeated more than the threshold in one workload usually means a query per item of a list, where one query for the whole list would do.",
            "SELECT * FROM order_items WHERE order_id = 1;\nSELECT * FROM order_items WHERE order_id = 2;\n-- ... 200 times",
            "SELECT * FROM order_items WHERE order_id = ANY($1);",
        ),
    ),
];
