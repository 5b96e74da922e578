//! What an integrity check can find, as findings (see [`crate::findings`]).

use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;

const fn integrity(severity: Severity, summary: &'static str, details: &'static str, bad: &'static str, good: &'static str) -> FindingDoc {
    FindingDoc { severity, scope: Scope::Integrity, policy: None, summary, details, bad, good }
}

pub(crate) const DOCS: &[(FindingId, FindingDoc)] = &[
    (
        FindingId::IntegrityPk,
        integrity(
            Severity::Critical,
            "Rows with a NULL or duplicated primary key.",
            "A primary key identifies each row. Duplicates or NULLs get in where the key is not enforced (SQLite's non-INTEGER keys accept NULL, a key added after loading data, a bulk load with checks off) and break updates, joins and replication by key.",
            "-- two rows with id 7 in a table whose key SQLite does not enforce",
            "-- Keep one row per key (samples carry duplicate_group), then enforce the key.",
        ),
    ),
    (
        FindingId::IntegrityFk,
        integrity(
            Severity::High,
            "Rows whose foreign key (declared or implied by a rule) has no parent.",
            "Orphans appear where the key is not enforced: SQLite with foreign_keys off (the default), PostgreSQL constraints added NOT VALID, MySQL with foreign_key_checks=0 during a load, or keys only implied by naming (an `implied_fk` rule). Joins then silently drop the orphaned rows.",
            "-- order_items.order_id = 42, but no order 42 exists",
            "-- Re-parent or delete the orphans, then enforce the key:\nALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_fk;",
        ),
    ),
    (
        FindingId::IntegrityUnique,
        integrity(
            Severity::High,
            "Rows that duplicate the key of a unique constraint or index.",
            "A unique constraint or index that exists but is not enforced (invalid index after a failed CREATE INDEX CONCURRENTLY, a `unique` rule on a key the schema does not declare) leaves duplicates that make lookups by that key ambiguous.",
            "-- two customers with the email ada@example.com",
            "-- Merge the duplicates (samples carry duplicate_group), then create the unique index.",
        ),
    ),
    (
        FindingId::IntegrityNotNull,
        integrity(
            Severity::High,
            "NULLs in a NOT NULL column (possible where the constraint was added without validation).",
            "A NOT NULL column can still hold NULLs where the constraint is declared but not validated (a PostgreSQL CHECK (col IS NOT NULL) NOT VALID, SQLite tables changed with writable_schema, loads with checks off). Code that trusts the declaration then fails on them.",
            "-- orders.customer_id is declared NOT NULL, 12 rows hold NULL",
            "-- Backfill the NULLs, then validate the constraint.",
        ),
    ),
    (
        FindingId::IntegrityCheck,
        integrity(
            Severity::High,
            "Rows for which a CHECK constraint is false.",
            "CHECK constraints added NOT VALID (PostgreSQL), ignored during a load (SQLite `PRAGMA ignore_check_constraints`) or not enforced by older MySQL versions can be violated by existing rows.",
            "-- CHECK (quantity > 0) but 3 order items have quantity 0",
            "-- Correct or remove the rows, then validate the constraint.",
        ),
    ),
    (
        FindingId::IntegrityRule,
        integrity(
            Severity::Medium,
            "Rows or tables failing a user rule (accepted values, range, regex, null fraction, row count, freshness, uniqueness).",
            "User rules (from a rules file or the request) express what the schema cannot: the values a status may take, plausible ranges, formats, how many NULLs are acceptable, how many rows a table should hold and how recent its newest row must be. Each failing rule is one finding with masked sample rows.",
            "[[rules]]\ntable = \"orders\"\ncolumn = \"status\"\ntype = \"accepted_values\"\nvalues = [\"new\", \"paid\"]\n# 5 orders have status 'shipped'",
            "# Fix the data, or widen the rule if the new value is legitimate:\nvalues = [\"new\", \"paid\", \"shipped\"]",
        ),
    ),
    (
        FindingId::IntegrityCheckError,
        integrity(
            Severity::Low,
            "An integrity check could not run (timeout or database error); the others still ran.",
            "A check that times out or fails is reported as not run, never as passed. Raise the per-check timeout or check the table outside busy hours.",
            "-- the foreign key check of a 2-billion-row table exceeded its 30 s timeout",
            "dbconsultant integrity check --db ... --table events --timeout-ms 600000",
        ),
    ),
    (
        FindingId::TableWithoutPrimaryKey,
        integrity(
            Severity::Low,
            "A table has no primary key, so duplicates cannot be found by key.",
            "Without a key, duplicate rows cannot be detected or reconciled by key; add a primary key (see require-primary-key).",
            "CREATE TABLE audit_log (event text, created_at timestamptz);",
            "ALTER TABLE audit_log ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;",
        ),
    ),
];
