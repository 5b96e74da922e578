//! Copies what the sandbox needs from the target to a shadow database, reading the target
//! only: its schema with `pg_dump --schema-only` (the server's own description of every
//! object: types, functions, triggers, policies, partitions), restored with `pg_restore`; a
//! bounded sample of each table's rows (`COPY (SELECT ... LIMIT n) TO STDOUT` in one
//! read-only snapshot); and the sequences' positions, so rows the migration inserts do not
//! collide with the sample.

use std::path::Path;
use std::process::{Command, Stdio};

use futures_util::TryStreamExt;
use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::ephemeral::Binaries;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::url::redact_url;

/// A libpq connection for the PostgreSQL tools: the URL without its password (which goes
/// in `PGPASSWORD`, never on a command line other users can read) and without parameters
/// only sqlx knows.
#[derive(Clone)]
pub(super) struct Libpq {
    pub conninfo: String,
    pub password: Option<String>,
}

impl Libpq {
    pub fn from_url(raw: &str) -> Result<Libpq> {
        let mut url = url::Url::parse(raw).map_err(|e| Error::invalid(format!("malformed database URL '{}': {e}", redact_url(raw))))?;
        let password = url.password().map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().to_string());
        let _ = url.set_password(None);
        const KNOWN: &[&str] =
            &["host", "hostaddr", "port", "dbname", "user", "options", "sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout"];
        let kept: Vec<(String, String)> =
            url.query_pairs().filter(|(k, _)| KNOWN.contains(&k.as_ref())).map(|(k, v)| (k.into(), v.into())).collect();
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
        Ok(Libpq { conninfo: url.to_string(), password })
    }

    /// The throwaway server: its Unix socket, trusted.
    pub fn socket(dir: &Path, port: u16, user: &str, database: &str) -> Libpq {
        let quote = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"));
        Libpq {
            conninfo: format!("host={} port={port} user={} dbname={}", quote(&dir.to_string_lossy()), quote(user), quote(database)),
            password: None,
        }
    }

    fn apply(&self, cmd: &mut Command) {
        cmd.env_remove("PGPASSWORD").env("PGAPPNAME", "dbconsultant");
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
    }
}

/// Dump the target's schema (read-only; ACCESS SHARE locks, never waited for more than
/// `lock_wait_ms`) into `file`.
/// `selection` narrows the dump (`-t` / `--exclude-table` arguments).
pub(super) fn dump_schema(bins: &Binaries, target: &Libpq, file: &Path, lock_wait_ms: u64, selection: &[String]) -> Result<()> {
    let mut cmd = Command::new(bins.tool("pg_dump"));
    cmd.args(["--schema-only", "--format=custom", "--no-subscriptions", "--no-publications", "--no-tablespaces", "--no-security-labels"])
        .arg(format!("--lock-wait-timeout={lock_wait_ms}"))
        .args(selection)
        .arg("--file")
        .arg(file)
        .arg("--dbname")
        .arg(&target.conninfo)
        .stdin(Stdio::null());
    target.apply(&mut cmd);
    let out = cmd.output().map_err(|e| Error::Sandbox(format!("cannot run pg_dump: {e}")))?;
    if !out.status.success() {
        return Err(Error::Sandbox(format!(
            "pg_dump --schema-only of the target failed: {}",
            redact_url(String::from_utf8_lossy(&out.stderr).trim())
        )));
    }
    Ok(())
}

/// Restore the dumped schema. Objects the shadow cannot create (an extension not installed
/// there) are reported, not fatal: the statements that need them fail in the sandbox and
/// say so.
pub(super) fn restore_schema(bins: &Binaries, shadow: &Libpq, file: &Path, keep_owners: bool) -> Result<Vec<String>> {
    let mut cmd = Command::new(bins.tool("pg_restore"));
    if !keep_owners {
        cmd.args(["--no-owner", "--no-privileges"]);
    }
    cmd.arg("--dbname").arg(&shadow.conninfo).arg(file).stdin(Stdio::null());
    shadow.apply(&mut cmd);
    let out = cmd.output().map_err(|e| Error::Sandbox(format!("cannot run pg_restore: {e}")))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains("error:") && !l.contains("errors ignored on restore"))
        .map(|l| l.trim_start_matches("pg_restore: ").trim_start_matches("error: ").to_string())
        .collect();
    if !out.status.success() && errors.is_empty() {
        return Err(Error::Sandbox(format!("pg_restore into the sandbox failed: {}", stderr.trim())));
    }
    Ok(errors)
}

/// The target's roles (names only, from `pg_roles`), recreated without login on a
/// throwaway server so owners, grants and policies restore as they are.
pub(super) async fn copy_roles(target: &mut PgConnection, shadow: &mut PgConnection, shadow_superuser: &str) -> Result<()> {
    let roles: Vec<String> = sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1")
        .fetch_all(&mut *target)
        .await
        .map_err(|e| Error::Sandbox(format!("cannot list the target's roles: {e}")))?;
    for role in roles.iter().filter(|r| *r != shadow_superuser) {
        let create = format!("CREATE ROLE {} NOLOGIN", Dialect::Postgres.quote_ident(role));
        let _ = sqlx::query(sqlx::AssertSqlSafe(create)).execute(&mut *shadow).await;
    }
    Ok(())
}

/// What copying the sample did.
#[derive(Debug, Default)]
pub(super) struct Sample {
    pub tables: usize,
    pub rows: u64,
    /// Tables that hold more rows than were copied ("schema.table", or "table" in public).
    pub partial: Vec<String>,
}

/// Tables whose rows are copied under one transaction's locks. Every table a transaction reads
/// stays locked (ACCESS SHARE, with its indexes) until it ends, in the server's shared lock
/// table: one transaction over 10,000 tables took 30,000 slots and ran the target out of
/// shared memory, which fails other sessions' queries too.
const TABLES_PER_TRANSACTION: usize = 50;

/// Copy up to `limit` rows of every table, as of one read-only snapshot of the target, with
/// triggers and foreign keys off on the shadow (a sample of a child table may point at
/// parent rows left out). Turning them off needs a superuser on the shadow; without one no
/// rows are copied (every table then counts as partial) and the note says why. The snapshot
/// is exported by `holder`'s transaction (which locks nothing) and imported by short
/// transactions of [`TABLES_PER_TRANSACTION`] tables each on `target`.
pub(super) async fn copy_sample(
    target: &mut PgConnection,
    holder: &mut PgConnection,
    shadow: &mut PgConnection,
    limit: u64,
    only: Option<&std::collections::BTreeSet<(String, String)>>,
) -> Result<(Sample, Option<String>)> {
    let read = |e: sqlx::Error| Error::Sandbox(format!("cannot read the target's rows for the sandbox: {}", super::super::db_message(&e)));
    let write = |e: sqlx::Error| Error::Sandbox(format!("cannot load the sample into the sandbox: {}", super::super::db_message(&e)));
    let (limit, note) = match sqlx::query("SET session_replication_role = replica").execute(&mut *shadow).await {
        Ok(_) => (limit, None),
        Err(e) => (
            0,
            Some(format!(
                "no rows were copied to the sandbox: loading a sample with foreign keys off needs a superuser there ({})",
                super::super::db_message(&e)
            )),
        ),
    };
    // A NOT VALID check admits the target's old rows that break it; the sample carries them,
    // so such checks are set aside while it loads and put back NOT VALID, as they were.
    let unvalidated: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT format('%I.%I', n.nspname, c.relname), quote_ident(con.conname), pg_get_constraintdef(con.oid)
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE con.contype = 'c' AND NOT con.convalidated",
    )
    .fetch_all(&mut *shadow)
    .await
    .map_err(&write)?;
    if limit > 0 {
        for (table, name, _) in &unvalidated {
            sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE {table} DROP CONSTRAINT {name}")))
                .execute(&mut *shadow)
                .await
                .map_err(&write)?;
        }
    }
    sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *holder).await.map_err(read)?;
    let snapshot: std::result::Result<String, sqlx::Error> =
        sqlx::query_scalar("SELECT pg_export_snapshot()").fetch_one(&mut *holder).await;
    let result = copy_tables(target, snapshot.ok().as_deref(), shadow, limit, only, read, &write).await;
    let _ = sqlx::query("ROLLBACK").execute(&mut *holder).await;
    if limit > 0 {
        for (table, name, definition) in &unvalidated {
            // The definition reads "CHECK (...) NOT VALID".
            sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")))
                .execute(&mut *shadow)
                .await
                .map_err(&write)?;
        }
    }
    if note.is_none() {
        sqlx::query("SET session_replication_role = DEFAULT").execute(&mut *shadow).await.map_err(write)?;
    }
    Ok((result?, note))
}

async fn copy_tables(
    target: &mut PgConnection,
    snapshot: Option<&str>,
    shadow: &mut PgConnection,
    limit: u64,
    only: Option<&std::collections::BTreeSet<(String, String)>>,
    read: impl Fn(sqlx::Error) -> Error,
    write: &impl Fn(sqlx::Error) -> Error,
) -> Result<Sample> {
    // Ordinary tables and partitions (partitioned parents hold no rows of their own),
    // outside the system schemas and not owned by an extension (its script fills them).
    let tables = sqlx::query(
        "SELECT n.nspname::text, c.relname::text,
                string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
         GROUP BY n.nspname, c.relname ORDER BY 1, 2",
    )
    .fetch_all(&mut *target)
    .await
    .map_err(&read)?;
    let tables: Vec<_> =
        tables.into_iter().filter(|r| only.is_none_or(|o| o.contains(&(r.get::<String, _>(0), r.get::<String, _>(1))))).collect();
    let mut sample = Sample::default();
    let q = |s: &str| Dialect::Postgres.quote_ident(s);
    for chunk in tables.chunks(TABLES_PER_TRANSACTION) {
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *target).await.map_err(&read)?;
        let copied = async {
            if let Some(id) = snapshot {
                sqlx::query(sqlx::AssertSqlSafe(format!("SET TRANSACTION SNAPSHOT {}", Dialect::Postgres.string_literal(id))))
                    .execute(&mut *target)
                    .await
                    .map_err(&read)?;
            }
            for row in chunk {
                let (schema, table, columns): (String, String, String) = (row.get(0), row.get(1), row.get(2));
                let name = format!("{}.{}", q(&schema), q(&table));
                let out = format!("COPY (SELECT {columns} FROM ONLY {name} LIMIT {limit}) TO STDOUT");
                let chunks: Vec<_> = target.copy_out_raw(&out).await.map_err(&read)?.try_collect().await.map_err(&read)?;
                let mut copy = shadow.copy_in_raw(&format!("COPY {name} ({columns}) FROM STDIN")).await.map_err(write)?;
                for chunk in chunks {
                    copy.send(chunk).await.map_err(write)?;
                }
                let rows = copy.finish().await.map_err(write)?;
                sample.tables += 1;
                sample.rows += rows;
                if rows >= limit {
                    sample.partial.push(if schema == "public" { table } else { format!("{schema}.{table}") });
                }
            }
            Ok::<(), Error>(())
        }
        .await;
        let _ = sqlx::query("ROLLBACK").execute(&mut *target).await;
        copied?;
    }
    Ok(sample)
}

/// Sequences continue from where the target's are.
pub(super) async fn copy_sequences(target: &mut PgConnection, shadow: &mut PgConnection) -> Result<()> {
    let rows = sqlx::query("SELECT schemaname::text, sequencename::text, last_value FROM pg_sequences WHERE last_value IS NOT NULL")
        .fetch_all(&mut *target)
        .await
        // Sequences the login may not read: the shadow's start where they were created.
        .unwrap_or_default();
    // Only the shadow's own (a subset has fewer), each a round trip.
    let present: std::collections::HashSet<(String, String)> =
        sqlx::query_as("SELECT schemaname::text, sequencename::text FROM pg_sequences")
            .fetch_all(&mut *shadow)
            .await
            .unwrap_or_default()
            .into_iter()
            .collect();
    for row in rows {
        let (schema, name, value): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
        if !present.contains(&(schema.clone(), name.clone())) {
            continue;
        }
        let _ = sqlx::query("SELECT setval(format('%I.%I', $1::text, $2::text)::regclass, $3)")
            .bind(schema)
            .bind(name)
            .bind(value)
            .execute(&mut *shadow)
            .await;
    }
    Ok(())
}
