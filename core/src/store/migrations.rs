//! The artifact store's own schema, as ordered, versioned migrations. A store is upgraded by
//! applying every migration newer than its recorded version, each in its own transaction.

pub struct StoreMigration {
    pub version: i64,
    pub description: &'static str,
    /// Written for SQLite; [`for_postgres`] maps its few type names.
    pub sql: &'static str,
    /// PostgreSQL's own text, where it differs by more than type names (`ALTER ... CONSTRAINT`
    /// where SQLite must rebuild the table).
    pub postgres: Option<&'static str>,
}

/// The same schema in PostgreSQL's types: 64-bit keys and counters, doubles.
pub fn for_postgres(sqlite_sql: &str) -> String {
    sqlite_sql.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY").replace("INTEGER", "BIGINT").replace("REAL", "DOUBLE PRECISION")
}

pub const MIGRATIONS: &[StoreMigration] = &[V1, V2, V3, V4];

const V1: StoreMigration = StoreMigration {
    version: 1,
    description: "runs, results, findings, approvals and audit events",
    sql: r#"
CREATE TABLE database_test_runs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    environment   TEXT NOT NULL CHECK (environment IN ('dev','qa','stage','prod')),
    trigger_type  TEXT NOT NULL CHECK (trigger_type IN ('pr','migration','etl','manual')),
    status        TEXT NOT NULL CHECK (status IN ('passed','failed','pending_approval','approved','rejected','error')),
    risk_score    INTEGER NOT NULL CHECK (risk_score BETWEEN 0 AND 100),
    summary       TEXT NOT NULL,
    target        TEXT,
    created_at    TEXT NOT NULL,
    approved_by   TEXT,
    decided_at    TEXT,
    document      TEXT NOT NULL
);
CREATE INDEX database_test_runs_created_at ON database_test_runs (created_at);
CREATE INDEX database_test_runs_status ON database_test_runs (status);

CREATE TABLE findings (
    id           INTEGER PRIMARY KEY,
    test_run_id  TEXT NOT NULL REFERENCES database_test_runs (id),
    rule         TEXT NOT NULL,
    severity     TEXT NOT NULL,
    message      TEXT NOT NULL,
    statement    INTEGER,
    line         INTEGER,
    col          INTEGER,
    file         TEXT,
    suggestion   TEXT
);
CREATE INDEX findings_run ON findings (test_run_id);

CREATE TABLE schema_validation_results (
    id                    INTEGER PRIMARY KEY,
    test_run_id           TEXT NOT NULL REFERENCES database_test_runs (id),
    object_type           TEXT NOT NULL,
    table_name            TEXT NOT NULL,
    name                  TEXT NOT NULL,
    change_type           TEXT NOT NULL CHECK (change_type IN ('added','removed','modified')),
    compatibility_status  TEXT NOT NULL CHECK (compatibility_status IN ('compatible','breaking','destructive')),
    details               TEXT NOT NULL
);
CREATE INDEX schema_validation_results_run ON schema_validation_results (test_run_id);

CREATE TABLE data_integrity_results (
    id              INTEGER PRIMARY KEY,
    test_run_id     TEXT NOT NULL REFERENCES database_test_runs (id),
    table_name      TEXT NOT NULL,
    integrity_type  TEXT NOT NULL,
    constraint_name TEXT NOT NULL,
    failure_count   INTEGER NOT NULL,
    sample_records  TEXT NOT NULL
);
CREATE INDEX data_integrity_results_run ON data_integrity_results (test_run_id);

CREATE TABLE performance_metrics (
    id                 INTEGER PRIMARY KEY,
    test_run_id        TEXT NOT NULL REFERENCES database_test_runs (id),
    query_hash         TEXT NOT NULL,
    query              TEXT NOT NULL,
    execution_time_ms  REAL,
    index_used         BOOLEAN NOT NULL,
    plan               TEXT NOT NULL,
    recommendation     TEXT
);
CREATE INDEX performance_metrics_run ON performance_metrics (test_run_id);

CREATE TABLE etl_validation_results (
    id              INTEGER PRIMARY KEY,
    test_run_id     TEXT NOT NULL REFERENCES database_test_runs (id),
    source_table    TEXT NOT NULL,
    target_table    TEXT NOT NULL,
    source_count    INTEGER NOT NULL,
    target_count    INTEGER NOT NULL,
    checksum_match  BOOLEAN NOT NULL,
    details         TEXT NOT NULL
);
CREATE INDEX etl_validation_results_run ON etl_validation_results (test_run_id);

CREATE TABLE approvals (
    id           INTEGER PRIMARY KEY,
    test_run_id  TEXT NOT NULL UNIQUE REFERENCES database_test_runs (id),
    decision     TEXT NOT NULL CHECK (decision IN ('approved','rejected')),
    approver     TEXT NOT NULL,
    comment      TEXT,
    decided_at   TEXT NOT NULL
);

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY,
    test_run_id  TEXT REFERENCES database_test_runs (id),
    event        TEXT NOT NULL,
    actor        TEXT NOT NULL,
    details      TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX audit_events_run ON audit_events (test_run_id);
"#,
    postgres: None,
};

/// Escalation: a run may be `escalated`, and a run has one approvals row per decision.
const V2: StoreMigration = StoreMigration {
    version: 2,
    description: "escalated runs; one approvals row per decision",
    sql: r#"
CREATE TABLE database_test_runs_v2 (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    environment   TEXT NOT NULL CHECK (environment IN ('dev','qa','stage','prod')),
    trigger_type  TEXT NOT NULL CHECK (trigger_type IN ('pr','migration','etl','manual')),
    status        TEXT NOT NULL CHECK (status IN ('passed','failed','pending_approval','escalated','approved','rejected','error')),
    risk_score    INTEGER NOT NULL CHECK (risk_score BETWEEN 0 AND 100),
    summary       TEXT NOT NULL,
    target        TEXT,
    created_at    TEXT NOT NULL,
    approved_by   TEXT,
    decided_at    TEXT,
    document      TEXT NOT NULL
);
INSERT INTO database_test_runs_v2 SELECT * FROM database_test_runs;
DROP TABLE database_test_runs;
ALTER TABLE database_test_runs_v2 RENAME TO database_test_runs;
CREATE INDEX database_test_runs_created_at ON database_test_runs (created_at);
CREATE INDEX database_test_runs_status ON database_test_runs (status);

CREATE TABLE approvals_v2 (
    id           INTEGER PRIMARY KEY,
    test_run_id  TEXT NOT NULL REFERENCES database_test_runs (id),
    decision     TEXT NOT NULL CHECK (decision IN ('approved','rejected','escalated')),
    approver     TEXT NOT NULL,
    comment      TEXT,
    decided_at   TEXT NOT NULL
);
INSERT INTO approvals_v2 SELECT * FROM approvals;
DROP TABLE approvals;
ALTER TABLE approvals_v2 RENAME TO approvals;
CREATE INDEX approvals_run ON approvals (test_run_id);
"#,
    postgres: Some(
        r#"
ALTER TABLE database_test_runs DROP CONSTRAINT database_test_runs_status_check;
ALTER TABLE database_test_runs ADD CONSTRAINT database_test_runs_status_check
    CHECK (status IN ('passed','failed','pending_approval','escalated','approved','rejected','error'));
ALTER TABLE approvals DROP CONSTRAINT approvals_test_run_id_key;
ALTER TABLE approvals DROP CONSTRAINT approvals_decision_check;
ALTER TABLE approvals ADD CONSTRAINT approvals_decision_check CHECK (decision IN ('approved','rejected','escalated'));
CREATE INDEX approvals_run ON approvals (test_run_id);
"#,
    ),
};

/// API keys of the REST service: the secret only as a password hash, grants as JSON text.
const V3: StoreMigration = StoreMigration {
    version: 3,
    description: "API keys of the REST service",
    sql: r#"
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    grants       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
"#,
    postgres: None,
};

/// Runs as jobs: the REST service queues them, workers lease them (timestamps are RFC 3339 UTC
/// text with milliseconds, so text order is time order on both databases).
const V4: StoreMigration = StoreMigration {
    version: 4,
    description: "jobs: queued runs leased by workers; who requested each run",
    sql: r#"
CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    operation         TEXT NOT NULL,
    input             TEXT NOT NULL,
    requested_by      TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled')),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    started_at        TEXT,
    finished_at       TEXT,
    lease_owner       TEXT,
    lease_until       TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    test_run_id       TEXT,
    problem           TEXT,
    progress          TEXT
);
CREATE INDEX jobs_claim ON jobs (state, created_at);
ALTER TABLE database_test_runs ADD COLUMN requested_by TEXT;
"#,
    postgres: None,
};
