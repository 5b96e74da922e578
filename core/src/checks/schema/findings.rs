//! What the sandbox can show about a migration, as findings (see [`crate::findings`]).

use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;

const fn sandbox(severity: Severity, summary: &'static str, details: &'static str, bad: &'static str, good: &'static str) -> FindingDoc {
    FindingDoc { severity, scope: Scope::Sandbox, policy: None, summary, details, bad, good }
}

pub(crate) const DOCS: &[(FindingId, FindingDoc)] = &[
    (
        FindingId::MigrationFails,
        sandbox(
            Severity::Critical,
            "A statement fails when applied to a copy of the target: the real migration would abort there.",
            "The migration ran statement by statement in the sandbox, as production would run it, and the database rejected this statement (a constraint the existing rows break, a missing object, a type error). Statements after it were not run. When the failure is caused by existing rows, the rows are fetched and shown, masked.",
            "ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);\n-- two customers share an email: the statement fails on production data",
            "-- Fix the data first, in a migration that runs before:\nUPDATE customers SET email = email || '+' || id WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY email ORDER BY id) AS n FROM customers) d WHERE n > 1);",
        ),
    ),
    (
        FindingId::NewConstraintViolated,
        sandbox(
            Severity::Critical,
            "Rows already in the database violate a constraint the migration adds.",
            "After the migration ran in the sandbox, every new NOT NULL, primary key, unique, foreign key and CHECK constraint was checked against the rows that existed before, with pushed-down queries. Some databases accept such a constraint anyway (SQLite does not enforce foreign keys by default; PostgreSQL accepts NOT VALID constraints; a table rebuild copies orphans): the bad rows then stay, and later writes or reads fail.",
            "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\n-- 3 orders point at deleted customers",
            "-- Re-parent or remove the orphans first, then validate:\nDELETE FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id);\nALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;",
        ),
    ),
    (
        FindingId::ConstraintCheckError,
        sandbox(
            Severity::Low,
            "A new constraint could not be checked against the existing rows.",
            "Checking a new constraint against the existing data failed (a timeout, an expression the checker cannot evaluate, or a foreign key whose parent table holds only a sample of rows in the sandbox). The constraint is not known to hold; it is not known to be violated either.",
            "ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (my_function(total) > 0);",
            "-- Check it by hand against production data, or with `dbconsultant integrity check` after the migration.",
        ),
    ),
    (
        FindingId::LockObserved,
        sandbox(
            Severity::Medium,
            "A table lock the statement took in the sandbox (PostgreSQL pg_locks), and whether it rewrote the table.",
            "The sandbox reads pg_locks and the tables' storage files around every statement, so the report says exactly which lock each statement takes on which existing table and whether it rewrote the table. ACCESS EXCLUSIVE blocks reads and writes, SHARE and stronger block writes; a rewrite holds the lock for as long as copying every row takes.",
            "ALTER TABLE order_items ALTER COLUMN quantity TYPE bigint;\n-- takes AccessExclusiveLock on order_items and rewrites it",
            "-- Add a new column, backfill in batches, switch the code, drop the old column;\n-- or run the rewrite in a maintenance window with a short lock_timeout.",
        ),
    ),
    (
        FindingId::AlterAlgorithm,
        sandbox(
            Severity::High,
            "The ALTER algorithm MySQL/MariaDB can use (INSTANT, INPLACE or COPY), probed in the scratch database.",
            "For each ALTER TABLE without an explicit ALGORITHM, the scratch database is asked to run it with ALGORITHM=INSTANT, then INPLACE, then COPY; the first one the server accepts is what production would do. COPY rebuilds the table with writes blocked; INPLACE rebuilds it with writes allowed; INSTANT changes metadata only.",
            "ALTER TABLE orders MODIFY total DECIMAL(14,2);\n-- only ALGORITHM=COPY works: writes blocked while every row is copied",
            "ALTER TABLE orders ADD COLUMN total_v2 DECIMAL(14,2), ALGORITHM=INSTANT;\n-- backfill, switch the code, drop the old column",
        ),
    ),
    (
        FindingId::SandboxNote,
        sandbox(
            Severity::Info,
            "A statement was validated through its in-sandbox equivalent (e.g. without CONCURRENTLY).",
            "Some statements cannot run as written inside the sandbox (CREATE INDEX CONCURRENTLY inside the sandbox's transaction); their equivalent was run instead, which has the same effect on the schema and the data.",
            "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);",
            "-- Nothing to change: noted so the report is complete.",
        ),
    ),
    (
        FindingId::SandboxSkipped,
        sandbox(
            Severity::Info,
            "A statement was not run in the sandbox (transaction control inside the sandbox's own transaction).",
            "Statements that control the sandbox's own transaction (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) or settings of the session are not run there; the statements between them are.",
            "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;",
            "-- Nothing to change: noted so the report is complete.",
        ),
    ),
    (
        FindingId::SandboxOnTarget,
        sandbox(
            Severity::Medium,
            "The migration was validated on the target itself, in a transaction that was rolled back.",
            "PostgreSQL validation runs the migration on a copy: a shadow database on the sandbox server, or on a throwaway local server of the target's version. When neither was available and running on the target was explicitly allowed (--sandbox-on-target), the migration ran on the target in one transaction that was rolled back: nothing it did remains, but its locks were taken there for as long as each statement ran (each lock wait bounded by a short lock_timeout), and a rewrite held its lock for the whole copy.",
            "dbconsultant schema validate --db postgres://prod/app --sandbox-on-target migrations/\n-- no PostgreSQL server binaries on the CI machine",
            "dbconsultant schema validate --db postgres://prod/app --sandbox-url postgres://ci@shadow/postgres migrations/\n-- or install postgresql-NN so a throwaway server is started",
        ),
    ),
    (
        FindingId::SandboxTimeout,
        sandbox(
            Severity::High,
            "A statement did not finish within the sandbox's statement timeout, so it was not validated.",
            "Each statement may run in the sandbox for [sandbox] statement_timeout_ms (60 s by default). One that runs longer is rolled back and reported here instead of as a failure: a slow statement is not a broken one. It was not validated, and since the sandbox holds at most a sample of each table, it will run at least as long in production, holding its locks.",
            "UPDATE events SET payload = expensive_function(payload);",
            "-- Backfill in batches that each finish quickly:\nUPDATE events SET payload = expensive_function(payload) WHERE id BETWEEN 1 AND 10000;",
        ),
    ),
    (
        FindingId::EmptyMigration,
        sandbox(
            Severity::Info,
            "A migration holds no SQL statement (empty, or comments only).",
            "Empty migrations are common (a no-op for one database, a placeholder that keeps version numbers in step) and harmless; they are reported so the run lists every input it was given.",
            "-- this change only applies to MySQL\n",
            "-- Nothing to change.",
        ),
    ),
    (
        FindingId::UnusedIgnore,
        sandbox(
            Severity::Low,
            "A `dbconsultant-ignore` comment names an unknown finding id, or suppresses nothing.",
            "`-- dbconsultant-ignore: rule-a, rule-b -- reason` on the lines above a statement suppresses those findings for that statement; `-- dbconsultant-ignore-file: rule-a` for the whole file. A suppressed finding stays in the report (JSON `suppressed`, SARIF `suppressions`) but counts nothing toward the risk score or the status. An id that does not exist (a typo) or an ignore that matches no finding hides nothing today and may hide something tomorrow; `syntax-error` and `migration-fails` cannot be ignored, because the statement would fail in production too.",
            "-- dbconsultant-ignore: require-concurent-index-creation\nCREATE INDEX orders_status ON orders (status);",
            "-- dbconsultant-ignore: require-concurrent-index-creation -- the table is created in this same migration\nCREATE INDEX orders_status ON orders (status);",
        ),
    ),
    (
        FindingId::MigrationChecksumMismatch,
        sandbox(
            Severity::High,
            "An applied migration's file was changed after it was applied.",
            "The migration tool's history records a checksum of each applied migration (Flyway CRC32, sqlx SHA-384, Prisma SHA-256). A file that no longer matches means the databases migrated before and after the edit differ, and the tool refuses to continue (Flyway validate, sqlx migrate) until someone repairs the history.",
            "-- V3__add_status.sql was edited after it ran in production",
            "-- Restore the applied file; put the change in a new migration (V12__fix_status.sql).",
        ),
    ),
    (
        FindingId::MigrationOutOfOrder,
        sandbox(
            Severity::Medium,
            "A pending migration has a lower version than one already applied.",
            "A migration merged late (from a long-lived branch) can sort before migrations already applied. Tools refuse it (Flyway without outOfOrder) or apply it after newer ones, so its statements run against a schema its author never saw.",
            "-- applied: V1..V10; pending: V7__add_index.sql",
            "-- Renumber it after the newest applied migration: V11__add_index.sql",
        ),
    ),
    (
        FindingId::MigrationHistoryDirty,
        sandbox(
            Severity::High,
            "The migration tool's history says a migration failed halfway (golang-migrate `dirty`).",
            "golang-migrate marks the version dirty when a migration fails partway through and refuses to run until a human repairs the schema and forces a version. Validating further migrations on top of a half-applied one gives misleading results.",
            "-- schema_migrations: version 7, dirty = true",
            "-- Repair the schema to a known version, then: migrate force 7",
        ),
    ),
];
