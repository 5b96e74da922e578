//! A throwaway MariaDB server for the sandbox of a MariaDB target (see
//! [`crate::driver::local_server`]): the installed `mariadbd` of the target's major.minor
//! version, initialised once per server build with `mariadb-install-db` (about 5 s; the template is kept between runs) and copied per
//! sandbox; Unix socket only (`--skip-networking`), root without a password on that socket.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use sqlx::mysql::MySqlConnectOptions;
use sqlx::ConnectOptions;

use crate::driver::local_server::{self, command, run, Launch, LocalServer};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub(super) struct MariadbBinaries {
    server: PathBuf,
    install: PathBuf,
    version: String,
}

/// `mariadbd` and `mariadb-install-db` of `version` (major.minor, e.g. `10.11`), in
/// `explicit` only when given.
pub(super) fn find_binaries(version: &str, explicit: Option<&str>) -> std::result::Result<MariadbBinaries, String> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = explicit.map(PathBuf::from).or_else(|| std::env::var_os("DBCONSULTANT_SERVER_BINDIR").map(PathBuf::from)) {
        dirs.push(dir);
    } else {
        dirs.extend(["/usr/sbin", "/usr/bin", "/usr/local/mysql/bin"].map(PathBuf::from));
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
    }
    let mut seen = Vec::new();
    for dir in &dirs {
        let server = dir.join("mariadbd");
        if !server.is_file() {
            continue;
        }
        let Some(install) = dirs.iter().map(|d| d.join("mariadb-install-db")).find(|p| p.is_file()) else { continue };
        match local_server::version_of(&server, 2) {
            Some(found) if found == version => return Ok(MariadbBinaries { server, install, version: found }),
            Some(found) => seen.push(found),
            None => {}
        }
    }
    let other = if seen.is_empty() { String::new() } else { format!(" (found {})", seen.join(", ")) };
    Err(format!("no MariaDB {version} server binaries (mariadbd, mariadb-install-db) on this machine{other}"))
}

/// A running throwaway MariaDB server; stopped and deleted on drop.
pub(crate) struct EphemeralMariadb {
    server: LocalServer,
    socket: PathBuf,
}

fn as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A temporary directory of the sandbox server's own, beside its data directory. A MariaDB
/// server deletes every `#sql*` file in its tmpdir when it starts: sharing `/tmp` with another
/// server on this machine (the user's own, or a test server) would delete that server's
/// in-flight temporary tables ("Error on delete of '/tmp/#sql-temptable-...'").
fn own_tmpdir(data: &std::path::Path) -> Result<PathBuf> {
    let tmp = data.parent().unwrap_or(data).join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| Error::Sandbox(format!("cannot create {}: {e}", tmp.display())))?;
    Ok(tmp)
}

impl EphemeralMariadb {
    pub fn start(bins: &MariadbBinaries) -> Result<EphemeralMariadb> {
        // mariadbd runs as root only when told so; it needs no other user.
        let root = as_root();
        let template =
            local_server::template(&format!("mariadb-{}-{}", bins.version, local_server::build_of(&bins.server)), None, |data| {
                let mut install = command(&bins.install, None);
                install.arg("--no-defaults").arg(format!("--datadir={}", data.display()));
                install.arg(format!("--tmpdir={}", own_tmpdir(data)?.display()));
                install.args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
                if root {
                    install.arg("--user=root");
                }
                run(install, "mariadb-install-db (the sandbox server)")
            })?;
        let launch = Launch { user: None, template: &template, pidfile: "server.pid", signal: libc::SIGKILL };
        let (server, dir) = LocalServer::start(launch, |dir, data| {
            let socket = dir.join("mysqld.sock");
            let mut start = command(&bins.server, None);
            start.arg("--no-defaults").arg(format!("--datadir={}", data.display())).arg(format!("--socket={}", socket.display()));
            start.arg(format!("--tmpdir={}", own_tmpdir(data)?.display()));
            start
                .arg(format!("--pid-file={}", dir.join("server.pid").display()))
                .arg(format!("--log-error={}", dir.join("server.log").display()));
            start.args(["--skip-networking", "--skip-log-bin", "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=0"]);
            if root {
                start.arg("--user=root");
            }
            start.stdout(Stdio::null()).stderr(Stdio::null());
            let mut child = start.spawn().map_err(|e| Error::Sandbox(format!("cannot start the sandbox server: {e}")))?;
            let started = Instant::now();
            while !(socket.exists() && dir.join("server.pid").exists()) {
                let exited = child.try_wait().ok().flatten();
                if exited.is_some() || started.elapsed() > Duration::from_secs(60) {
                    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                    return Err(Error::Sandbox(format!("the sandbox server did not start: {}", log.trim())));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            // Reaped by the local_server stop (waitpid); the handle is not needed.
            drop(child);
            Ok(())
        })?;
        Ok(EphemeralMariadb { socket: dir.join("mysqld.sock"), server })
    }

    /// Why the server failed, from its log.
    pub fn last_words(&self) -> Option<String> {
        self.server.last_words()
    }

    pub fn connect_options(&self) -> MySqlConnectOptions {
        MySqlConnectOptions::new()
            .ssl_mode(sqlx::mysql::MySqlSslMode::Disabled)
            .socket(&self.socket)
            .username("root")
            .disable_statement_logging()
    }
}
