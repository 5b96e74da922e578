//! What the SQLite store file needs beyond SQL: the pragmas every connection sets, and a
//! plain-words reason when the file system under the store is full.

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::{AnyConnection, Connection};

/// Below this many free bytes, a failed write is put down to a full file system. SQLite then
/// reports `database or disk is full`, or only `disk I/O error` when it could not grow the
/// WAL index (`-shm`) file.
const NEARLY_FULL_BYTES: u64 = 1 << 20;

/// How long a connection waits for another one's lock before giving up.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// Per-connection settings. WAL: readers do not wait for writers (CLI and SDKs share the
/// file), and a commit is not an fsync (synchronous=NORMAL keeps it crash-safe; only a power
/// loss may drop the last commits). Every MCP call writes one.
pub(super) async fn configure(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA busy_timeout = {}", BUSY_WAIT.as_millis()))).execute(&mut *conn).await?;
    use_wal(conn).await?;
    sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
    Ok(())
}

/// WAL is a property of the file, set once by whoever opens it first. Switching needs an
/// exclusive lock, and SQLite answers `database is locked` at once, without calling the busy
/// handler, while another connection is opening or closing the same new file; so the mode is
/// read first (already WAL: nothing to do) and the switch is retried until [`BUSY_WAIT`].
async fn use_wal(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    let deadline = Instant::now() + BUSY_WAIT;
    let mut pause = Duration::from_millis(5);
    loop {
        let attempt = async {
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await?;
            if !mode.eq_ignore_ascii_case("wal") {
                sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
            }
            Ok::<_, sqlx::Error>(())
        };
        match attempt.await {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            done => return done,
        }
    }
}

/// SQLITE_BUSY (5) and its extended codes (BUSY_RECOVERY 261, BUSY_SNAPSHOT 517, ...).
fn is_busy(e: &sqlx::Error) -> bool {
    let code = match e {
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<i64>().ok()),
        _ => None,
    };
    code.is_some_and(|c| c & 0xff == 5)
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
