//! Throwaway database servers for sandboxes: the installed server binaries, a data
//! directory in a temporary directory only its owner can enter, a Unix socket inside it and
//! no TCP port (no other local user can reach the target's schema and sample rows), stopped
//! and deleted when the sandbox closes.
//!
//! Initialising a data directory costs seconds (`initdb` ~1 s, `mariadb-install-db` ~5 s);
//! it runs once per kind and server build into a template that each sandbox copies, kept in
//! the template cache between runs (see `template_cache.rs`). Servers still running when the process is interrupted
//! are stopped by [`stop_all`]; directories of killed processes are removed by the next run.
//! PostgreSQL and MariaDB refuse or dislike running as root: as root, a server runs as the
//! `postgres` user (or `nobody`) when the kind asks for it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::template_cache;
use crate::error::{Error, Result};

/// Every temporary directory a sandbox makes is named `dbconsultant-<kind>-<pid>-<random>`,
/// so the next run can find those of processes that are gone (killed, even with `kill -9`)
/// and remove them: throwaway servers (`shadow`), SQLite copies (`sandbox`), schema dumps
/// (`dump`).
const DIR_KINDS: &[&str] = &["shadow", "sandbox", "dump"];

/// The user a server runs as.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunAs {
    pub(super) uid: u32,
    pub(super) gid: u32,
}

/// `None`: the current user. As root, the `postgres` user (or `nobody`).
pub(crate) fn unprivileged_user() -> std::result::Result<Option<RunAs>, String> {
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

pub(crate) fn command(tool: impl Into<PathBuf>, user: Option<RunAs>) -> Command {
    let mut cmd = Command::new(tool.into());
    if let Some(u) = user {
        use std::os::unix::process::CommandExt;
        cmd.uid(u.uid).gid(u.gid);
    }
    cmd.stdin(Stdio::null()).env("LC_ALL", "C");
    cmd
}

/// Run a command to its end; its error output becomes the error.
pub(crate) fn run(mut cmd: Command, what: &str) -> Result<()> {
    let out = cmd.output().map_err(|e| Error::Sandbox(format!("cannot run {what}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let text = if text.trim().is_empty() { String::from_utf8_lossy(&out.stdout) } else { text };
    Err(Error::Sandbox(format!("{what} failed: {}", text.trim())))
}

/// The major version a server tool reports (`initdb (PostgreSQL) 15.18`, `mariadbd  Ver
/// 10.11.19-MariaDB`): its first number, or first two with `parts` 2.
pub(crate) fn version_of(tool: &Path, parts: usize) -> Option<String> {
    let out = Command::new(tool).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let numbers: Vec<&str> = version.split(|c: char| !c.is_ascii_digit()).take(parts).collect();
    (numbers.len() == parts).then(|| numbers.join("."))
}

/// A new private temporary directory of this process, of one of the [`DIR_KINDS`]; the
/// directories of processes that are gone are removed first.
pub(crate) fn owned_temp_dir(kind: &str) -> std::io::Result<tempfile::TempDir> {
    debug_assert!(DIR_KINDS.contains(&kind));
    remove_stale_dirs();
    tempfile::Builder::new().prefix(&format!("dbconsultant-{kind}-{}-", std::process::id())).tempdir()
}

fn new_dir(user: Option<RunAs>) -> Result<tempfile::TempDir> {
    let dir = owned_temp_dir("shadow").map_err(|e| Error::Sandbox(format!("cannot create a directory for the sandbox server: {e}")))?;
    // 0700 (tempfile's default): only the server's user (and root) may enter, so only they
    // reach the socket inside.
    if let Some(u) = user {
        std::os::unix::fs::chown(dir.path(), Some(u.uid), Some(u.gid))
            .map_err(|e| Error::Sandbox(format!("cannot hand {} to the sandbox server's user: {e}", dir.path().display())))?;
    }
    Ok(dir)
}

/// Template data directories, one per kind and version: kept between runs in the template
/// cache when there is one, else initialised once per process (the `TempDir` then lives
/// here).
static TEMPLATES: Mutex<Vec<(String, PathBuf, Option<tempfile::TempDir>)>> = Mutex::new(Vec::new());

/// The template for `key` (which names the server binary's version and build), made by
/// `init(data_dir)` when neither this process nor the template cache has it.
pub(crate) fn template(key: &str, user: Option<RunAs>, init: impl FnOnce(&Path) -> Result<()>) -> Result<PathBuf> {
    let mut templates = TEMPLATES.lock().map_err(|_| Error::Internal("sandbox template lock poisoned".into()))?;
    if let Some((_, data, _)) = templates.iter().find(|(k, _, _)| k == key) {
        return Ok(data.clone());
    }
    let cached = template_cache::lookup(key);
    if let Some(data) = cached.as_ref().and_then(|c| c.ready()) {
        templates.push((key.to_string(), data.clone(), None));
        return Ok(data);
    }
    let dir = new_dir(user)?;
    let data = dir.path().join("data");
    init(&data)?;
    // Kept for the next runs when the cache takes it; this process uses it either way.
    match cached.and_then(|c| c.publish(&data, user)) {
        Some(published) => templates.push((key.to_string(), published.clone(), None)),
        None => templates.push((key.to_string(), data.clone(), Some(dir))),
    }
    Ok(templates.last().map(|(_, d, _)| d.clone()).unwrap_or(data))
}

/// Which build of a server binary this is (its path, size and modification time), for the
/// name of its kept template: an upgraded server gets a new one.
pub(crate) fn build_of(binary: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    binary.hash(&mut hasher);
    if let Ok(meta) = std::fs::metadata(binary) {
        meta.len().hash(&mut hasher);
        meta.modified().ok().hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// The server's process id, from the first line of its pid file.
fn read_pid(pidfile: &Path) -> Option<i32> {
    std::fs::read_to_string(pidfile).ok()?.lines().next()?.trim().parse().ok()
}

pub(super) fn alive(pid: i32) -> bool {
    // A zombie has exited and freed everything but its process id; it lingers until its parent
    // reaps it. A server started through pg_ctl is re-parented to PID 1, and some PID 1s (in
    // containers and micro-VMs) reap only now and then: 1.2 s after PostgreSQL's immediate
    // shutdown here, on every run.
    if zombie(pid) {
        return false;
    }
    // SAFETY: signal 0 only checks whether the process exists.
    unsafe { libc::kill(pid, 0) == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) }
}

/// The process's state in /proc is `Z` (false where there is no /proc).
fn zombie(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // "pid (command) state ...": the command may itself hold parentheses and spaces.
    stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
}

/// Stop the server whose pid file this is, and wait (up to 10 s) until it is gone.
fn stop(pidfile: &Path, signal: i32) {
    let Some(pid) = read_pid(pidfile) else { return };
    // SAFETY: the pid comes from the pid file of a server this module started, in our own
    // directory.
    unsafe { libc::kill(pid, signal) };
    wait_until_gone(&[pid]);
}

/// Wait (up to 10 s) until every one of `pids` is gone.
fn wait_until_gone(pids: &[i32]) {
    let started = Instant::now();
    while pids.iter().any(|pid| alive(*pid)) && started.elapsed() < Duration::from_secs(10) {
        for pid in pids {
            // A process this one spawned itself stays a zombie until reaped; for any other
            // process this does nothing.
            // SAFETY: waitpid with WNOHANG and a null status pointer only reaps, never blocks.
            unsafe { libc::waitpid(*pid, std::ptr::null_mut(), libc::WNOHANG) };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The process that made a directory named by [`owned_temp_dir`].
fn owner_pid(name: &str) -> Option<i32> {
    let (kind, rest) = name.strip_prefix("dbconsultant-")?.split_once('-')?;
    DIR_KINDS.contains(&kind).then_some(())?;
    rest.split('-').next()?.parse().ok()
}

/// Directories of processes that no longer exist: their servers were never stopped, their
/// copies never deleted. A server is stopped first (its `stop` file names the signal and
/// the pid file).
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(owner) = owner_pid(&name) else { continue };
        if alive(owner) {
            continue;
        }
        if let Ok(stop_file) = std::fs::read_to_string(entry.path().join("stop")) {
            if let Some((signal, pidfile)) = stop_file.trim().split_once(' ') {
                stop(&entry.path().join(pidfile), signal.parse().unwrap_or(libc::SIGKILL));
            }
        }
        kill_processes_in(&entry.path());
        tracing::info!(dir = %entry.path().display(), "removing the sandbox directory of a process that is gone");
        // A process that was writing into it may have exited only just now.
        for _ in 0..3 {
            if std::fs::remove_dir_all(entry.path()).is_ok() || !entry.path().exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Kill the processes still working in `dir`, a directory of a process that is gone, and wait
/// (up to 10 s) until they are. A run killed while it copied a template (`cp`), initialised one
/// (`initdb`, `mariadb-install-db` and the bootstrap server it starts) or started a server that
/// had not written its pid file yet leaves them running: they outlive it and keep writing into
/// the directory while it is removed. Each names the directory on its command line or, for
/// `initdb`'s bootstrap backend, in `PGDATA`.
fn kill_processes_in(dir: &Path) {
    let working: Vec<i32> = processes_naming(dir);
    for pid in &working {
        // SAFETY: the pid is of a process whose command line or environment names a
        // directory only this tool makes, of a run that is gone.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    wait_until_gone(&working);
}

/// Processes (other than this one) whose command line or environment holds `dir`'s path
/// (empty where there is no /proc).
fn processes_naming(dir: &Path) -> Vec<i32> {
    use std::os::unix::ffi::OsStrExt;
    let needle = dir.as_os_str().as_bytes();
    let holds = |file: String| std::fs::read(file).is_ok_and(|text| text.windows(needle.len()).any(|w| w == needle));
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != std::process::id() as i32)
        .filter(|pid| holds(format!("/proc/{pid}/cmdline")) || holds(format!("/proc/{pid}/environ")))
        .collect()
}

/// Servers running now (their directory's pid file and stop signal), so an interrupted run
/// can stop them.
static RUNNING: Mutex<Vec<(PathBuf, PathBuf, i32)>> = Mutex::new(Vec::new());

/// A running throwaway server; stopped and its directory deleted on drop.
pub(crate) struct LocalServer {
    dir: Option<tempfile::TempDir>,
    pidfile: PathBuf,
    signal: i32,
}

/// How a kind of server is started from a copy of its template.
pub(crate) struct Launch<'a> {
    pub user: Option<RunAs>,
    /// The template's data directory.
    pub template: &'a Path,
    /// Where the server writes its process id, relative to the directory (the first line
    /// must be the pid).
    pub pidfile: &'a str,
    /// The signal that stops it at once (PostgreSQL: SIGQUIT, immediate shutdown).
    pub signal: i32,
}

impl LocalServer {
    /// Copy the template into a new private directory and run `start(dir, data)`, which
    /// starts the server and returns once it accepts connections.
    pub fn start(launch: Launch<'_>, start: impl FnOnce(&Path, &Path) -> Result<()>) -> Result<(LocalServer, PathBuf)> {
        let dir = new_dir(launch.user)?;
        let data = dir.path().join("data");
        let mut copy = command("cp", launch.user);
        copy.arg("-a").arg(launch.template).arg(&data);
        run(copy, "copying the sandbox server's template")?;
        let _ = std::fs::write(dir.path().join("stop"), format!("{} {}", launch.signal, launch.pidfile));
        let pidfile = dir.path().join(launch.pidfile);
        let path = dir.path().to_path_buf();
        let server = LocalServer { dir: Some(dir), pidfile: pidfile.clone(), signal: launch.signal };
        // A failed start drops `server`, which stops whatever did start.
        start(&path, &data)?;
        if let Ok(mut running) = RUNNING.lock() {
            running.push((path.clone(), pidfile, launch.signal));
        }
        Ok((server, path))
    }

    /// The last line of the server's log that says why it failed or stopped (PostgreSQL's
    /// `PANIC:`/`FATAL:`, MariaDB's `[ERROR]`), for an error that would otherwise only say
    /// the connection was lost.
    pub fn last_words(&self) -> Option<String> {
        let log = std::fs::read_to_string(self.dir.as_ref()?.path().join("server.log")).ok()?;
        let said = ["PANIC:", "FATAL:", "[ERROR]", "No space left on device"];
        log.lines().rev().find(|line| said.iter().any(|s| line.contains(s))).map(|line| line.trim().to_string())
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        stop(&self.pidfile, self.signal);
        if let Ok(mut running) = RUNNING.lock() {
            running.retain(|(_, p, _)| *p != self.pidfile);
        }
        // The TempDir removes itself.
        self.dir.take();
    }
}

/// Stop every sandbox server this process still runs (on interrupt or exit) and delete the
/// templates.
pub(crate) fn stop_all() {
    let running: Vec<(PathBuf, PathBuf, i32)> = RUNNING.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default();
    for (dir, pidfile, signal) in running {
        stop(&pidfile, signal);
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Ok(mut templates) = TEMPLATES.lock() {
        templates.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::alive;

    #[test]
    fn a_zombie_is_not_alive_and_a_running_process_is() {
        let mut running = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        let exited = std::process::Command::new("true").spawn().unwrap();
        // `true` has exited but is not reaped (no wait): a zombie until the child is waited for.
        let pid = exited.id() as i32;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !super::zombie(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(super::zombie(pid), "the unreaped child should be a zombie");
        assert!(!alive(pid), "a zombie has exited");
        assert!(alive(running.id() as i32));
        running.kill().unwrap();
        running.wait().unwrap();
        drop(exited);
    }

    #[test]
    fn the_next_run_kills_what_a_killed_run_left_working_in_its_directory_and_removes_it() {
        // A process id that is gone: a child that has exited and been reaped.
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        gone.wait().unwrap();
        let dir = tempfile::Builder::new().prefix(&format!("dbconsultant-shadow-{}-", gone.id())).tempdir().unwrap().keep();
        // Like `cp -a template data` orphaned by `kill -9`: it names the directory and keeps
        // writing into it.
        let script = format!("while true; do echo x >> '{}/data'; sleep 0.01; done", dir.display());
        let mut orphan = std::process::Command::new("sh").arg("-c").arg(&script).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(dir.join("data").exists(), "the stand-in orphan should be writing");
        super::remove_stale_dirs();
        // Reaped already by the reaper's waitpid (an error here) or exited: not running.
        let running = matches!(orphan.try_wait(), Ok(None));
        if running {
            let _ = orphan.kill();
        }
        assert!(!running, "the process working in the dead run's directory should have been killed");
        assert!(!dir.exists(), "the dead run's directory should be gone: {}", dir.display());
    }
}
