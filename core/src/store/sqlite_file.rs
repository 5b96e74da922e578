//! What the SQLite store file needs beyond SQL: the pragmas every connection sets, and a
//! plain-words reason when the file system under the store is full.

use std::path::Path;

use sqlx::{AnyConnection, Connection};

/// Below this many free bytes, a failed write is put down to a full file system. SQLite then
/// reports `database or disk is full`, or only `disk I/O error` when it could not grow the
/// WAL index (`-shm`) file.
const NEARLY_FULL_BYTES: u64 = 1 << 20;

/// Per-connection settings. WAL: readers do not wait for writers (CLI and SDKs share the
/// file), and a commit is not an fsync (synchronous=NORMAL keeps it crash-safe; only a power
/// loss may drop the last commits). Every MCP call writes one. The wait first: switching a
/// new file to WAL needs its lock too.
pub(super) async fn configure(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
    sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
    Ok(())
}

/// Open one connection outside the pool first: the pool retries a failing connection until
/// its acquire timeout and then reports only the timeout, hiding why the file would not open
/// (a full disk, a read-only directory).
pub(super) async fn probe(url: &str) -> Result<(), sqlx::Error> {
    let mut conn = AnyConnection::connect(url).await?;
    let configured = configure(&mut conn).await;
    conn.close().await.ok();
    configured
}

/// "the file system holding it is full" when the store file's directory has (almost) no
/// space left, so the reader knows what to free instead of seeing an I/O error.
pub(super) fn full_disk_hint(path: &str) -> Option<String> {
    let dir = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let free = free_bytes(dir)?;
    (free < NEARLY_FULL_BYTES)
        .then(|| format!("the file system holding the store is full ({free} bytes free in {}): free space and run again", dir.display()))
}

fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: c_path is a valid NUL-terminated string and stat points to writable memory of
    // the right type; statvfs only writes into it.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), stat.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled the struct.
    let stat = unsafe { stat.assume_init() };
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    Some(stat.f_bavail as u64 * stat.f_frsize as u64)
}
