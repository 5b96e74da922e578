//! The PostgreSQL sandbox is never the target: the migration runs in a shadow database that
//! holds the target's schema (`pg_dump --schema-only`) and a bounded sample of its rows, on
//! a throwaway local server of the target's major version, or in a scratch database on a
//! server the user names (`--sandbox-url`). The target sees only read-only queries: the
//! schema dump, the sample (`COPY (SELECT ...) TO STDOUT` in a read-only snapshot), role
//! names and sequence positions.

mod clone;
pub(crate) mod ephemeral;
mod subset;

use std::str::FromStr;
use std::sync::Mutex;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use super::{db_message, PostgresDriver};
use crate::dialect::Dialect;
use crate::driver::SandboxOptions;
use crate::error::{Error, Result};
use crate::url::redact_url;
use clone::Libpq;
use ephemeral::{Binaries, EphemeralServer};

/// Prefix of scratch databases on a user's sandbox server, so stale ones can be dropped.
const SCRATCH_PREFIX: &str = "dbconsultant_sandbox_";

/// Where the shadow database lives; dropped with it.
pub(super) enum ShadowHost {
    /// A throwaway server started for this sandbox (stopped and deleted on drop).
    Ephemeral(EphemeralServer),
    /// A scratch database on the user's sandbox server, dropped through `admin`; `lease`
    /// holds its advisory lock while this run lives.
    Scratch { admin: Box<PgConnectOptions>, database: String, lease: PgConnection },
}

impl ShadowHost {
    /// Why a throwaway server failed, from its log.
    pub fn last_words(&self) -> Option<String> {
        match self {
            ShadowHost::Ephemeral(server) => server.last_words(),
            ShadowHost::Scratch { .. } => None,
        }
    }

    /// Drop what was created (the server stops on drop; the scratch database is dropped).
    pub async fn discard(self) -> Result<()> {
        match self {
            ShadowHost::Ephemeral(server) => {
                drop(server);
                Ok(())
            }
            ShadowHost::Scratch { admin, database, lease } => {
                // Forgotten only once dropped: an interrupt during the drop (this future
                // dropped half-way) leaves it to the interrupt's cleanup.
                let dropped = drop_database(&admin, &database, true).await;
                if dropped.is_ok() {
                    forget_scratch(&database);
                }
                lease.close().await.ok();
                dropped
            }
        }
    }
}

/// A shadow database ready for the sandbox transaction.
pub(super) struct Shadow {
    pub host: ShadowHost,
    pub connect: PgConnectOptions,
    pub description: String,
    /// Tables copied only in part.
    pub partial: Vec<String>,
    /// What could not be recreated, and other things the report should say.
    pub notes: Vec<String>,
}

/// Scratch databases that exist right now, so an interrupted run can drop them.
static OPEN_SCRATCH: Mutex<Vec<(PgConnectOptions, String)>> = Mutex::new(Vec::new());

fn forget_scratch(name: &str) {
    if let Ok(mut open) = OPEN_SCRATCH.lock() {
        open.retain(|(_, n)| n != name);
    }
}

/// Drop a scratch database; `force` ends its sessions first (our own, at the end of a run).
async fn drop_database(admin: &PgConnectOptions, database: &str, force: bool) -> Result<()> {
    let mut conn = admin
        .connect()
        .await
        .map_err(|e| Error::Sandbox(format!("cannot drop the scratch database {database}: {}", redact_url(&e.to_string()))))?;
    let drop = format!("DROP DATABASE IF EXISTS {}{}", Dialect::Postgres.quote_ident(database), if force { " WITH (FORCE)" } else { "" });
    let dropped = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await;
    conn.close().await.ok();
    dropped.map(|_| ()).map_err(|e| Error::Sandbox(format!("cannot drop the scratch database {database}: {}", db_message(&e))))
}

fn create_statement(database: &str) -> String {
    format!("CREATE DATABASE {}", Dialect::Postgres.quote_ident(database))
}

/// Drop the scratch databases this process still holds (on interrupt).
pub(crate) async fn discard_all() {
    let open: Vec<(PgConnectOptions, String)> = OPEN_SCRATCH.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default();
    for (admin, name) in open {
        tracing::debug!(database = %name, "dropping the scratch database of an interrupted run");
        let Ok(mut conn) = admin.connect().await else { continue };
        // An interrupt can land while CREATE DATABASE is on its way: the server may still
        // read it after our client is gone and commit it after any drop we send now. The
        // session that sends it holds the lease, so the lease comes free only once that
        // session has ended, and with it the creation (committed or not): wait for it.
        let _ = sqlx::query("SET statement_timeout = '10s'").execute(&mut conn).await;
        let _ = sqlx::query(LEASE_WAIT).bind(&name).execute(&mut conn).await;
        if let Err(e) = drop_database(&admin, &name, true).await {
            tracing::warn!(database = %name, error = %e, "cannot drop the scratch database of an interrupted run");
        }
        conn.close().await.ok();
    }
}

/// The advisory lock that leases a scratch database to the run using it, taken on a session
/// of the sandbox server's admin database. The server frees it when that session ends, so a
/// run that was killed (even `kill -9`, even on another machine) leaves a free lease behind.
const LEASE_LOCK: &str = "SELECT pg_try_advisory_lock(1684235008, hashtext($1))";
const LEASE_WAIT: &str = "SELECT pg_advisory_lock(1684235008, hashtext($1))";
const LEASE_UNLOCK: &str = "SELECT pg_advisory_unlock(1684235008, hashtext($1))";

async fn take_lease(conn: &mut PgConnection, database: &str) -> std::result::Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, bool>(LEASE_LOCK).bind(database).fetch_one(&mut *conn).await
}

/// Scratch databases whose lease is free belong to runs that died: drop them. Without
/// `FORCE`, so a database someone is still connected to (a run of a version without leases)
/// stays.
async fn drop_stale_scratch(admin_options: &PgConnectOptions, admin: &mut PgConnection) {
    let Ok(names) = sqlx::query_scalar::<_, String>("SELECT datname::text FROM pg_database WHERE datname LIKE $1")
        .bind(format!("{SCRATCH_PREFIX}%"))
        .fetch_all(&mut *admin)
        .await
    else {
        return;
    };
    for name in names {
        // Holding the lease while dropping keeps a second cleaner (and a rerun) out.
        if !take_lease(admin, &name).await.unwrap_or(false) {
            continue;
        }
        tracing::info!(database = %name, "dropping the scratch database of a run that died");
        let _ = drop_database(admin_options, &name, false).await;
        let _ = sqlx::query(LEASE_UNLOCK).bind(&name).execute(&mut *admin).await;
    }
}

async fn server_major(conn: &mut PgConnection, what: &str) -> Result<u32> {
    let num: String = sqlx::query_scalar("SHOW server_version_num")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| Error::Sandbox(format!("cannot read the {what}'s version: {}", db_message(&e))))?;
    num.parse::<u32>().map(|n| n / 10_000).map_err(|_| Error::Sandbox(format!("unexpected server_version_num '{num}' from the {what}")))
}

/// Neither a sandbox server, nor server binaries, nor leave to use the target.
fn no_sandbox(major: u32, why: &str) -> Error {
    Error::Sandbox(format!(
        "no sandbox for this PostgreSQL {major} target: {why}. Choose one: give a shadow server (--sandbox-url postgres://..., \
         [sandbox] sandbox_url), install the PostgreSQL {major} server binaries (Debian: postgresql-{major}; or set \
         DBCONSULTANT_SERVER_BINDIR) so a throwaway local server is started, or explicitly allow running the migration on the target in a \
         rolled-back transaction (--sandbox-on-target), which takes its locks there"
    ))
}

/// What goes into a shadow: owners and grants kept (a throwaway server has the target's
/// roles), rows per table, and the subset of a large schema.
struct What<'a> {
    throwaway: bool,
    sample_rows: u64,
    selection: Option<&'a subset::Selection>,
}

impl PostgresDriver {
    /// Build the shadow database: on `options.sandbox_url`'s server, else on a throwaway
    /// local server.
    pub(super) async fn open_shadow(&self, options: &SandboxOptions) -> Result<Shadow> {
        let read_only =
            self.options.clone().options([("default_transaction_read_only", "on"), ("statement_timeout", "60s"), ("lock_timeout", "2s")]);
        let mut target = read_only.connect().await.map_err(|e| crate::driver::connection_error(&self.redacted, e))?;
        let built = self.build_shadow(&mut target, options).await;
        target.close().await.ok();
        built
    }

    async fn build_shadow(&self, target: &mut PgConnection, options: &SandboxOptions) -> Result<Shadow> {
        let major = server_major(target, "target").await?;
        let bins =
            ephemeral::find_binaries(major, options.sandbox_url.is_none(), options.server_bindir.as_deref()).map_err(
                |why| match &options.sandbox_url {
                    None => no_sandbox(major, &why),
                    Some(_) => Error::Sandbox(format!(
                        "cannot copy the target's schema to the sandbox server: {why} (pg_dump and pg_restore are needed)"
                    )),
                },
            )?;
        let selection = match &options.focus {
            Some(names) => subset::select(target, names).await?,
            None => None,
        };
        let mut notes: Vec<String> = selection.iter().map(subset::Selection::note).collect();
        let (host, connect, libpq, label, throwaway) = match &options.sandbox_url {
            None => {
                let server = EphemeralServer::start(&bins)?;
                // A Unix socket has no TLS (libpq ignores sslmode there); PGSSLMODE=require in
                // the environment must not make the private server unreachable.
                let connect = PgConnectOptions::new()
                    .ssl_mode(sqlx::postgres::PgSslMode::Disable)
                    .socket(&server.socket_dir)
                    .port(server.port)
                    .username(ephemeral::SUPERUSER)
                    .database("postgres")
                    .disable_statement_logging();
                let libpq = Libpq::socket(&server.socket_dir, server.port, ephemeral::SUPERUSER, "postgres");
                (ShadowHost::Ephemeral(server), connect, libpq, format!("a throwaway PostgreSQL {major} server"), true)
            }
            Some(raw) => {
                let url = crate::url::DatabaseUrl::parse(raw)?;
                let crate::url::DatabaseUrl::Postgres { url: shadow_raw } = &url else {
                    return Err(Error::invalid(format!("the sandbox of a PostgreSQL target must be PostgreSQL, got {}", url.redacted())));
                };
                let admin = PgConnectOptions::from_str(shadow_raw)
                    .map_err(|e| Error::invalid(format!("malformed sandbox URL '{}': {}", url.redacted(), redact_url(&e.to_string()))))?
                    .application_name("dbconsultant")
                    .disable_statement_logging();
                let mut conn = admin.connect().await.map_err(|e| crate::driver::connection_error(&url.redacted(), e))?;
                let shadow_major = server_major(&mut conn, "sandbox server").await?;
                if shadow_major != major {
                    if options.strict_version {
                        return Err(Error::Sandbox(format!(
                            "the sandbox server runs PostgreSQL {shadow_major}, the target {major} (strict version match requested)"
                        )));
                    }
                    notes.push(format!(
                        "the sandbox server runs PostgreSQL {shadow_major} and the target {major}: locks and plans may differ"
                    ));
                }
                drop_stale_scratch(&admin, &mut conn).await;
                let database = format!(
                    "{SCRATCH_PREFIX}{}_{}",
                    chrono::Utc::now().format("%Y%m%d%H%M%S"),
                    &uuid::Uuid::new_v4().simple().to_string()[..8]
                );
                // The lease first, so no cleaner sees the new database without its owner.
                if !take_lease(&mut conn, &database)
                    .await
                    .map_err(|e| Error::Sandbox(format!("cannot lease the scratch database: {}", db_message(&e))))?
                {
                    return Err(Error::Sandbox(format!("the lease on scratch database {database} is held by another session")));
                }
                // Known before it exists: an interrupt during CREATE DATABASE must still drop it.
                if let Ok(mut open) = OPEN_SCRATCH.lock() {
                    open.push((admin.clone(), database.clone()));
                }
                let created = sqlx::query(sqlx::AssertSqlSafe(create_statement(&database))).execute(&mut conn).await;
                created.map_err(|e| {
                    forget_scratch(&database);
                    Error::Sandbox(format!(
                        "cannot create a scratch database on the sandbox server {}: {} (the sandbox login needs CREATEDB)",
                        url.redacted(),
                        db_message(&e)
                    ))
                })?;
                let mut libpq = Libpq::from_url(shadow_raw)?;
                let mut parsed = url::Url::parse(&libpq.conninfo).map_err(|e| Error::Internal(e.to_string()))?;
                parsed.set_path(&database);
                libpq.conninfo = parsed.to_string();
                let connect = admin.clone().database(&database);
                (
                    ShadowHost::Scratch { admin: Box::new(admin), database: database.clone(), lease: conn },
                    connect,
                    libpq,
                    format!("a scratch database {database} on {}", url.redacted()),
                    false,
                )
            }
        };
        // From here on, any failure discards the shadow before returning.
        match self
            .fill_shadow(
                target,
                &bins,
                &connect,
                &libpq,
                What { throwaway, sample_rows: options.sample_rows, selection: selection.as_ref() },
            )
            .await
        {
            Ok((partial, mut restore_notes, tables, rows)) => {
                notes.append(&mut restore_notes);
                Ok(Shadow {
                    description: format!(
                        "copy of {}'s schema and up to {} rows per table ({tables} tables, {rows} rows) in {label}, removed afterwards",
                        self.redacted, options.sample_rows
                    ),
                    host,
                    connect,
                    partial,
                    notes,
                })
            }
            Err(e) => {
                let _ = host.discard().await;
                Err(e)
            }
        }
    }

    async fn fill_shadow(
        &self,
        target: &mut PgConnection,
        bins: &Binaries,
        connect: &PgConnectOptions,
        libpq: &Libpq,
        what: What<'_>,
    ) -> Result<(Vec<String>, Vec<String>, usize, u64)> {
        let What { throwaway, sample_rows, selection } = what;
        let mut shadow = connect
            .connect()
            .await
            .map_err(|e| Error::Sandbox(format!("cannot connect to the sandbox database: {}", redact_url(&e.to_string()))))?;
        if throwaway {
            clone::copy_roles(target, &mut shadow, ephemeral::SUPERUSER).await?;
        }
        let dir = crate::driver::local_server::owned_temp_dir("dump")
            .map_err(|e| Error::Sandbox(format!("cannot create a temporary directory: {e}")))?;
        let source = Libpq::from_url(&self.raw)?;
        // The whole schema in one dump; or, for a subset, everything but tables in one and the
        // selected tables in another, taken at once and restored in that order.
        let dumps: Vec<(std::path::PathBuf, Vec<String>)> = match selection {
            None => vec![(dir.path().join("schema.dump"), Vec::new())],
            Some(s) => vec![
                (dir.path().join("objects.dump"), vec!["--exclude-table=*.*".to_string()]),
                (dir.path().join("tables.dump"), s.dump_args()),
            ],
        };
        let started = std::time::Instant::now();
        let tasks: Vec<_> = dumps
            .iter()
            .map(|(path, args)| {
                let (bins, source, path, args) = (bins.clone(), source.clone(), path.clone(), args.clone());
                tokio::task::spawn_blocking(move || clone::dump_schema(&bins, &source, &path, 2_000, &args))
            })
            .collect();
        for task in tasks {
            task.await.map_err(|e| Error::Internal(format!("pg_dump task: {e}")))??;
        }
        tracing::info!(ms = started.elapsed().as_millis() as u64, subset = selection.is_some(), "pg_dump --schema-only of the target");
        let started = std::time::Instant::now();
        let mut restore_errors = Vec::new();
        for (path, _) in dumps {
            let (bins_restore, shadow_libpq) = (bins.clone(), libpq.clone());
            restore_errors.extend(
                tokio::task::spawn_blocking(move || clone::restore_schema(&bins_restore, &shadow_libpq, &path, throwaway))
                    .await
                    .map_err(|e| Error::Internal(format!("pg_restore task: {e}")))??,
            );
        }
        tracing::info!(ms = started.elapsed().as_millis() as u64, "pg_restore into the shadow");
        let started = std::time::Instant::now();
        let mut notes: Vec<String> =
            restore_errors.into_iter().map(|e| format!("the sandbox could not recreate an object of the target: {e}")).collect();
        // Holds the snapshot the sample is read in (its transaction reads nothing, so locks
        // nothing) while short transactions on `target` import it.
        let mut holder = self
            .options
            .clone()
            .options([("default_transaction_read_only", "on"), ("idle_in_transaction_session_timeout", "0")])
            .connect()
            .await
            .map_err(|e| crate::driver::connection_error(&self.redacted, e))?;
        let only = selection.map(|s| &s.relations);
        let copied = clone::copy_sample(target, &mut holder, &mut shadow, sample_rows, only).await;
        holder.close().await.ok();
        let (sample, note) = copied?;
        notes.extend(note);
        clone::copy_sequences(target, &mut shadow).await?;
        tracing::info!(ms = started.elapsed().as_millis() as u64, tables = sample.tables, rows = sample.rows, "sample copied");
        // The planner then knows the sample's sizes and distributions.
        sqlx::query("ANALYZE")
            .execute(&mut shadow)
            .await
            .map_err(|e| Error::Sandbox(format!("ANALYZE in the sandbox failed: {}", db_message(&e))))?;
        shadow.close().await.ok();
        Ok((sample.partial, notes, sample.tables, sample.rows))
    }
}
