//! Throwaway-server templates kept between runs. Every CLI run is a new process, and
//! initialising a data directory (`initdb`, `mariadb-install-db`) cost each one 1-5 s of a
//! validation that otherwise takes about two. A template is a freshly initialised, empty data
//! directory (no data, no passwords: the sandbox server trusts only its private socket), so it
//! can be kept: under `$DBCONSULTANT_CACHE_DIR`, else `$XDG_CACHE_HOME/dbconsultant` or
//! `~/.cache/dbconsultant`, and as root `/var/cache/dbconsultant` (the server's own user must
//! be able to read it). One directory per server build (path, size and modification time of
//! the binary that made it); published by an atomic rename, so a run sees a whole template or
//! none, and two runs making one at once keep the first. Deleting the directory is always
//! safe. When the cache cannot be used, the template lives for the process, as before.

use std::path::{Path, PathBuf};

use super::local_server::{command, run, RunAs};

/// Where templates of one server build go.
pub(super) struct CachedTemplate {
    dir: PathBuf,
}

/// The cache's place for `key`, if there is a cache.
pub(super) fn lookup(key: &str) -> Option<CachedTemplate> {
    let root = root()?;
    let name: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
    Some(CachedTemplate { dir: root.join("templates").join(name) })
}

fn root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DBCONSULTANT_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return Some(PathBuf::from("/var/cache/dbconsultant"));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("dbconsultant"))
}

impl CachedTemplate {
    /// The kept template's data directory, when a whole one is there.
    pub fn ready(&self) -> Option<PathBuf> {
        let data = self.dir.join("data");
        self.dir.join("ready").is_file().then_some(data).filter(|d| d.is_dir())
    }

    /// Keep a copy of `data` (just initialised) for the next runs; the kept copy's data
    /// directory, or `None` when the cache cannot take it (then nothing is left behind).
    pub fn publish(&self, data: &Path, user: Option<RunAs>) -> Option<PathBuf> {
        let parent = self.dir.parent()?;
        if let Err(e) = create_shared_dirs(parent) {
            tracing::debug!(dir = %parent.display(), error = %e, "no template cache");
            return None;
        }
        remove_abandoned_staging(parent);
        let staging = parent.join(format!(".staging-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()));
        let made = (|| {
            std::fs::create_dir(&staging).ok()?;
            if let Some(u) = user {
                std::os::unix::fs::chown(&staging, Some(u.uid), Some(u.gid)).ok()?;
            }
            let mut copy = command("cp", user);
            copy.arg("-a").arg(data).arg(staging.join("data"));
            run(copy, "keeping the sandbox server's template").ok()?;
            std::fs::write(staging.join("ready"), b"").ok()?;
            // Another run may have published first: theirs is as good; ours goes.
            std::fs::rename(&staging, &self.dir).ok()
        })();
        if made.is_none() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        self.ready()
    }
}

/// Staging copies of runs that died while publishing (`kill -9`).
fn remove_abandoned_staging(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let pid = name.strip_prefix(".staging-").and_then(|rest| rest.split('-').next()).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|pid| !super::local_server::alive(pid)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The cache's directories, readable (not writable) by the server's user when it is another.
fn create_shared_dirs(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o755).create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_published_whole_once_and_found_again() {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("init");
        std::fs::create_dir_all(source.join("base")).unwrap();
        std::fs::write(source.join("base").join("file"), b"x").unwrap();
        let cached = CachedTemplate { dir: root.path().join("templates").join("postgres-15-abc") };
        assert_eq!(cached.ready(), None);
        let kept = cached.publish(&source, None).unwrap();
        assert_eq!(std::fs::read(kept.join("base").join("file")).unwrap(), b"x");
        assert_eq!(cached.ready(), Some(kept.clone()));
        // A second publisher (a run that started at the same time) keeps the first one.
        std::fs::write(source.join("base").join("file"), b"y").unwrap();
        assert_eq!(cached.publish(&source, None), Some(kept.clone()));
        assert_eq!(std::fs::read(kept.join("base").join("file")).unwrap(), b"x");
        let left: Vec<_> = std::fs::read_dir(root.path().join("templates")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 1, "no staging directory left: {left:?}");
    }
}
