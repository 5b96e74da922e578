//! A throwaway PostgreSQL server for the sandbox: the installed server binaries of the
//! target's major version, a data directory in a temporary directory, a Unix socket in a
//! directory only its owner can enter (no TCP port, so no other local user can read the
//! target's schema and sample rows), stopped and deleted when the sandbox closes.
//!
//! `initdb` costs about two seconds; it runs once per process and major version into a
//! template directory that each sandbox copies (0.2 s). Servers still running when the
//! process is interrupted are stopped by [`stop_all`]; directories of killed processes are
//! removed by the next run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Prefix of every directory this module creates, so stale ones can be found.
const DIR_PREFIX: &str = "dbconsultant-pgshadow-";
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

/// Where the server binaries of `major` are: `$DBCONSULTANT_PG_BINDIR`, Debian's
/// `/usr/lib/postgresql/<major>/bin`, RPM's `/usr/pgsql-<major>/bin`, Homebrew's, then `PATH`.
/// Each candidate must hold `pg_dump` and `pg_restore` of that major, and `initdb` and
/// `pg_ctl` when a server is to be started.
pub(super) fn find_binaries(major: u32, server: bool, explicit: Option<&str>) -> std::result::Result<Binaries, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = explicit.map(PathBuf::from).or_else(|| std::env::var_os("DBCONSULTANT_PG_BINDIR").map(PathBuf::from)) {
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
        match version_of(&dir.join(tools[tools.len() - 1])) {
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

/// The major version a PostgreSQL tool reports (`initdb (PostgreSQL) 15.18 ...`).
fn version_of(tool: &Path) -> Option<u32> {
    let out = Command::new(tool).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    version.split(['.', ' ']).next()?.parse().ok()
}

/// PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user (or
/// `nobody`) and owns its directory.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

fn run_as() -> std::result::Result<Option<RunAs>, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    for name in [c"postgres", c"nobody"] {
        // SAFETY: getpwnam takes a NUL-terminated name and returns a pointer into static
        // storage (or null), read at once.
        let entry = unsafe { libc::getpwnam(name.as_ptr()) };
        if !entry.is_null() {
            // SAFETY: non-null pointer from getpwnam.
            let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
            return Ok(Some(RunAs { uid, gid }));
        }
    }
    Err("the sandbox server cannot run as root and there is no 'postgres' or 'nobody' user to run it as".into())
}

fn command(tool: PathBuf, user: Option<RunAs>) -> Command {
    let mut cmd = Command::new(tool);
    if let Some(u) = user {
        use std::os::unix::process::CommandExt;
        cmd.uid(u.uid).gid(u.gid);
    }
    cmd.stdin(Stdio::null()).env("LC_ALL", "C");
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result<()> {
    let out = cmd.output().map_err(|e| Error::Sandbox(format!("cannot run {what}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let text = if text.trim().is_empty() { String::from_utf8_lossy(&out.stdout) } else { text };
    Err(Error::Sandbox(format!("{what} failed: {}", text.trim())))
}

fn chown(path: &Path, user: Option<RunAs>) -> Result<()> {
    if let Some(u) = user {
        std::os::unix::fs::chown(path, Some(u.uid), Some(u.gid))
            .map_err(|e| Error::Sandbox(format!("cannot hand {} to the sandbox server's user: {e}", path.display())))?;
    }
    Ok(())
}

fn new_dir(user: Option<RunAs>) -> Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
        .tempdir()
        .map_err(|e| Error::Sandbox(format!("cannot create a directory for the sandbox server: {e}")))?;
    // 0700 (tempfile's default): only the server's user (and root) may enter, so only they
    // reach the socket inside.
    chown(dir.path(), user)?;
    Ok(dir)
}

/// Template clusters, one per major version, initialised once per process.
static TEMPLATES: Mutex<Vec<(u32, tempfile::TempDir)>> = Mutex::new(Vec::new());

fn template(bins: &Binaries, user: Option<RunAs>) -> Result<PathBuf> {
    let mut templates = TEMPLATES.lock().map_err(|_| Error::Internal("sandbox template lock poisoned".into()))?;
    if let Some((_, dir)) = templates.iter().find(|(m, _)| *m == bins.major) {
        return Ok(dir.path().join("data"));
    }
    remove_stale_dirs();
    let dir = new_dir(user)?;
    let data = dir.path().join("data");
    let mut initdb = command(bins.tool("initdb"), user);
    initdb.args(["-D"]).arg(&data).args(["-U", SUPERUSER, "--auth=trust", "-N", "-E", "UTF8", "--locale=C.UTF-8"]);
    run(initdb, "initdb (the sandbox server)")?;
    templates.push((bins.major, dir));
    Ok(data)
}

/// Directories of processes that no longer exist: their servers were never stopped.
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name.strip_prefix(DIR_PREFIX).and_then(|r| r.split('-').next()).and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if alive {
            continue;
        }
        let pidfile = entry.path().join("data").join("postmaster.pid");
        if let Some(server) =
            std::fs::read_to_string(&pidfile).ok().and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        {
            // SAFETY: stops the orphaned postmaster this module started (its pid file is in
            // our own directory); SIGQUIT is PostgreSQL's immediate shutdown.
            unsafe { libc::kill(server, libc::SIGQUIT) };
        }
        tracing::info!(dir = %entry.path().display(), "removing the sandbox server of a process that is gone");
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// Data directories of servers running now, so an interrupted run can stop them.
static RUNNING: Mutex<Vec<(PathBuf, PathBuf)>> = Mutex::new(Vec::new());

/// A running throwaway server; stopped and deleted on drop.
pub(crate) struct EphemeralServer {
    dir: Option<tempfile::TempDir>,
    pg_ctl: PathBuf,
    user: Option<RunAs>,
    pub socket_dir: PathBuf,
    pub port: u16,
}

impl EphemeralServer {
    /// Copy the template cluster and start it on a Unix socket only.
    pub fn start(bins: &Binaries) -> Result<EphemeralServer> {
        let user = run_as().map_err(Error::Sandbox)?;
        let template = template(bins, user)?;
        let dir = new_dir(user)?;
        let data = dir.path().join("data");
        let mut copy = command("cp".into(), user);
        copy.arg("-a").arg(&template).arg(&data);
        run(copy, "copying the sandbox server's template")?;
        // Any port number will do: no TCP listener, the number only names the socket file.
        let port = 5432;
        let options = format!(
            "-c listen_addresses='' -k {} -p {port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=20 -c shared_buffers=32MB -c autovacuum=off",
            dir.path().display()
        );
        let mut start = command(bins.tool("pg_ctl"), user);
        start.arg("-D").arg(&data).arg("-l").arg(dir.path().join("server.log")).args(["-w", "-t", "60", "-o", &options, "start"]);
        // pg_ctl's server inherits our stdout/stderr unless told otherwise: keep them clean.
        start.stdout(Stdio::null());
        let server = EphemeralServer { socket_dir: dir.path().to_path_buf(), dir: Some(dir), pg_ctl: bins.tool("pg_ctl"), user, port };
        if let Err(e) = run(start, "starting the sandbox server") {
            let log = std::fs::read_to_string(server.socket_dir.join("server.log")).unwrap_or_default();
            return Err(Error::Sandbox(format!("{e}{}", if log.is_empty() { String::new() } else { format!("\n{log}") })));
        }
        if let Ok(mut running) = RUNNING.lock() {
            running.push((bins.tool("pg_ctl"), data));
        }
        Ok(server)
    }

    fn data(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("data"))
    }
}

fn stop(pg_ctl: &Path, data: &Path, user: Option<RunAs>) {
    let mut cmd = command(pg_ctl.to_path_buf(), user);
    cmd.arg("-D").arg(data).args(["-m", "immediate", "-w", "stop"]).stdout(Stdio::null()).stderr(Stdio::null());
    let _ = cmd.status();
}

impl Drop for EphemeralServer {
    fn drop(&mut self) {
        if let Some(data) = self.data() {
            stop(&self.pg_ctl, &data, self.user);
            if let Ok(mut running) = RUNNING.lock() {
                running.retain(|(_, d)| *d != data);
            }
        }
        // The TempDir removes itself.
        self.dir.take();
    }
}

/// Stop every sandbox server this process still runs (on interrupt) and delete the
/// templates.
pub(crate) fn stop_all() {
    let running: Vec<(PathBuf, PathBuf)> = RUNNING.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default();
    let user = run_as().ok().flatten();
    for (pg_ctl, data) in running {
        stop(&pg_ctl, &data, user);
        if let Some(dir) = data.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    if let Ok(mut templates) = TEMPLATES.lock() {
        templates.clear();
    }
}
