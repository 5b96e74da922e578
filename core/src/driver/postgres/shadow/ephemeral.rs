//! A throwaway PostgreSQL server for the sandbox (see [`crate::driver::local_server`]): the
//! installed server binaries of the target's major version. `initdb` costs about two
//! seconds once per server build (the template is kept between runs); each sandbox copies it (0.2 s) and starts it.

use std::path::PathBuf;
use std::process::Stdio;

use crate::driver::local_server::{self, command, run, Launch, LocalServer};
use crate::error::{Error, Result};
/// The superuser of the throwaway cluster.
pub(super) const SUPERUSER: &str = "dbconsultant";

/// The server binaries of one PostgreSQL major version.
#[derive(Debug, Clone)]
pub(crate) struct Binaries {
    pub major: u32,
    pub bindir: PathBuf,
}

impl Binaries {
    pub fn tool(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }
}

/// Where the server binaries of `major` are: `$DBCONSULTANT_SERVER_BINDIR`, Debian's
/// `/usr/lib/postgresql/<major>/bin`, RPM's `/usr/pgsql-<major>/bin`, Homebrew's, then `PATH`.
/// Each candidate must hold `pg_dump` and `pg_restore` of that major, and `initdb` and
/// `pg_ctl` when a server is to be started.
pub(super) fn find_binaries(major: u32, server: bool, explicit: Option<&str>) -> std::result::Result<Binaries, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = explicit.map(PathBuf::from).or_else(|| std::env::var_os("DBCONSULTANT_SERVER_BINDIR").map(PathBuf::from)) {
        candidates.push(dir);
    } else {
        candidates.extend(default_locations(major));
    }
    let mut seen = Vec::new();
    for dir in candidates {
        let tools: &[&str] = if server { &["initdb", "pg_ctl", "pg_dump", "pg_restore"] } else { &["pg_dump", "pg_restore"] };
        if !tools.iter().all(|t| dir.join(t).is_file()) {
            continue;
        }
        match local_server::version_of(&dir.join(tools[tools.len() - 1]), 1).and_then(|v| v.parse::<u32>().ok()) {
            Some(found) if found == major => return Ok(Binaries { major, bindir: dir }),
            Some(found) => seen.push(format!("{} ({found})", dir.display())),
            None => {}
        }
    }
    let other = if seen.is_empty() { String::new() } else { format!(" (found other versions: {})", seen.join(", ")) };
    Err(format!(
        "no PostgreSQL {major} {} ({}) on this machine{other}",
        if server { "server binaries" } else { "client tools" },
        tools_list(server)
    ))
}

fn default_locations(major: u32) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = vec![
        format!("/usr/lib/postgresql/{major}/bin").into(),
        format!("/usr/pgsql-{major}/bin").into(),
        format!("/opt/homebrew/opt/postgresql@{major}/bin").into(),
        format!("/usr/local/opt/postgresql@{major}/bin").into(),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs
}

fn tools_list(server: bool) -> &'static str {
    if server {
        "initdb, pg_ctl, pg_dump, pg_restore"
    } else {
        "pg_dump, pg_restore"
    }
}

/// A running throwaway PostgreSQL server; stopped and deleted on drop.
pub(crate) struct EphemeralServer {
    server: LocalServer,
    pub socket_dir: PathBuf,
    pub port: u16,
}

impl EphemeralServer {
    /// Why the server failed, from its log.
    pub fn last_words(&self) -> Option<String> {
        self.server.last_words()
    }

    /// Copy the template cluster and start it on a Unix socket only.
    pub fn start(bins: &Binaries) -> Result<EphemeralServer> {
        let user = local_server::unprivileged_user().map_err(Error::Sandbox)?;
        let template =
            local_server::template(&format!("postgres-{}-{}", bins.major, local_server::build_of(&bins.tool("initdb"))), user, |data| {
                let mut initdb = command(bins.tool("initdb"), user);
                initdb.args(["-D"]).arg(data).args(["-U", SUPERUSER, "--auth=trust", "-N", "-E", "UTF8", "--locale=C.UTF-8"]);
                run(initdb, "initdb (the sandbox server)")
            })?;
        // Any port number will do: no TCP listener, the number only names the socket file.
        let port = 5432;
        let launch = Launch { user, template: &template, pidfile: "data/postmaster.pid", signal: libc::SIGQUIT };
        let (server, dir) = LocalServer::start(launch, |dir, data| {
            let options = format!(
                "-c listen_addresses='' -k {} -p {port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=20 -c shared_buffers=32MB -c autovacuum=off",
                dir.display()
            );
            let mut start = command(bins.tool("pg_ctl"), user);
            start.arg("-D").arg(data).arg("-l").arg(dir.join("server.log")).args(["-w", "-t", "60", "-o", &options, "start"]);
            // pg_ctl's server inherits our stdout unless told otherwise: keep it clean.
            start.stdout(Stdio::null());
            run(start, "starting the sandbox server").map_err(|e| {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                Error::Sandbox(format!("{e}{}", if log.is_empty() { String::new() } else { format!("\n{log}") }))
            })
        })?;
        Ok(EphemeralServer { server, socket_dir: dir, port })
    }
}
