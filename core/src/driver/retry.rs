//! Connecting through a server restart, a failover or a full connection table: transient
//! failures are retried with capped exponential backoff and jitter, for a bounded time;
//! everything else (a wrong password, a TLS refusal, an unknown database) fails at once.

use std::future::Future;
use std::time::{Duration, Instant};

/// Environment variable: for how many seconds transient connection failures are retried.
pub const RETRY_ENV: &str = "DBCONSULTANT_CONNECT_RETRY_SECS";

/// Retry for this long when the environment does not say.
const DEFAULT_RETRY: Duration = Duration::from_secs(10);
const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(2);

/// How long transient connection failures are retried: `$DBCONSULTANT_CONNECT_RETRY_SECS`
/// (fractions allowed, 0 turns retries off), else 10 s.
pub fn retry_budget() -> Duration {
    std::env::var(RETRY_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_RETRY)
}

/// A connection failure after retries: the last error, and how hard we tried.
#[derive(Debug)]
pub(crate) struct GaveUp {
    pub error: sqlx::Error,
    pub attempts: u32,
    pub elapsed: Duration,
}

impl GaveUp {
    /// The driver's message, and the retries when there were any.
    pub fn reason(&self) -> String {
        if self.attempts > 1 {
            format!(
                "{} (gave up after {} attempts in {:.1} s; {RETRY_ENV} sets how long transient failures are retried)",
                self.error,
                self.attempts,
                self.elapsed.as_secs_f64()
            )
        } else {
            self.error.to_string()
        }
    }
}

/// Run `attempt` until it succeeds, fails for good, or `budget` is spent.
pub(crate) async fn connect_retrying<C, F, Fut>(budget: Duration, mut attempt: F) -> Result<C, GaveUp>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<C, sqlx::Error>>,
{
    let started = Instant::now();
    let mut delay = FIRST_DELAY;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match attempt().await {
            Ok(connection) => return Ok(connection),
            Err(e) => e,
        };
        // "Equal jitter": half the delay fixed, half random, so clients that lost the same
        // server do not come back in lockstep.
        let pause = delay / 2 + delay.mul_f64(jitter()) / 2;
        if !is_transient(&error) || started.elapsed() + pause > budget {
            return Err(GaveUp { error, attempts, elapsed: started.elapsed() });
        }
        tracing::info!(attempt = attempts, error = %crate::url::redact_url(&error.to_string()), "transient connection failure; retrying");
        tokio::time::sleep(pause).await;
        delay = (delay * 2).min(MAX_DELAY);
    }
}

/// A uniform number in [0, 1) from the operating system's randomness (through uuid's v4).
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() as u64 >> 11) as f64 / (1u64 << 53) as f64
}

/// Failures that a moment later may not recur: the server unreachable (restarting, failing
/// over, a temporary DNS failure), the connection cut, the server starting up or shutting down, its
/// connection slots full. Authentication, authorisation, TLS and configuration errors are
/// final.
pub(crate) fn is_transient(error: &sqlx::Error) -> bool {
    use std::io::ErrorKind::*;
    match error {
        sqlx::Error::Io(io) => {
            matches!(
                io.kind(),
                ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | NotConnected
                    | BrokenPipe
                    | TimedOut
                    | UnexpectedEof
                    | Interrupted
            ) || is_temporary_lookup_failure(&io.to_string())
        }
        sqlx::Error::PoolTimedOut => true,
        // A server that is shutting down accepts the connection and closes it at once.
        sqlx::Error::Protocol(message) => message.contains("at EOF"),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL: 57P03 cannot_connect_now (starting up, shutting down, recovery),
            // 53300 too_many_connections, 08xxx connection exceptions. MySQL/MariaDB error
            // numbers: 1040 too many connections, 1053 server shutdown in progress.
            code == "57P03" || code == "53300" || code.starts_with("08") || is_mysql_transient(db.as_ref())
        }
        _ => false,
    }
}

/// getaddrinfo's EAI_AGAIN ("Temporary failure in name resolution") may pass; EAI_NONAME
/// ("Name or service not known": a mistyped host) will not, so it fails at once.
fn is_temporary_lookup_failure(message: &str) -> bool {
    message.contains("failed to lookup address") && (message.contains("Temporary failure") || message.contains("try again"))
}

fn is_mysql_transient(db: &dyn sqlx::error::DatabaseError) -> bool {
    #[cfg(feature = "mysql")]
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return matches!(my.number(), 1040 | 1053);
    }
    let _ = db;
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: std::io::ErrorKind) -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::new(kind, "x"))
    }

    #[test]
    fn unreachable_servers_are_transient_and_configuration_is_not() {
        assert!(is_transient(&io(std::io::ErrorKind::ConnectionRefused)));
        assert!(is_transient(&io(std::io::ErrorKind::ConnectionReset)));
        assert!(!is_transient(&io(std::io::ErrorKind::PermissionDenied)));
        let lookup = |m: &str| sqlx::Error::Io(std::io::Error::other(format!("failed to lookup address information: {m}")));
        assert!(is_transient(&lookup("Temporary failure in name resolution")));
        assert!(!is_transient(&lookup("Name or service not known")));
        assert!(!is_transient(&sqlx::Error::Tls("bad certificate".into())));
        assert!(!is_transient(&sqlx::Error::Configuration("bad url".into())));
        assert!(is_transient(&sqlx::Error::Protocol("expected to read 5 bytes, got 0 bytes at EOF".into())));
        assert!(!is_transient(&sqlx::Error::Protocol("unknown message type".into())));
    }

    #[tokio::test]
    async fn retries_transient_failures_with_growing_pauses_within_the_budget() {
        let started = Instant::now();
        let mut calls = 0;
        let gave_up = connect_retrying(Duration::from_millis(700), || {
            calls += 1;
            async { Err::<(), _>(io(std::io::ErrorKind::ConnectionRefused)) }
        })
        .await
        .unwrap_err();
        // Pauses of 50-100, 100-200, 200-400 ms fit in 700 ms; the next would not.
        assert!((3..=4).contains(&gave_up.attempts), "{} attempts", gave_up.attempts);
        assert_eq!(gave_up.attempts, calls);
        assert!(started.elapsed() < Duration::from_millis(700));
        assert!(gave_up.reason().contains("attempts"), "{}", gave_up.reason());
    }

    #[tokio::test]
    async fn final_failures_are_not_retried_and_success_ends_the_loop() {
        let mut calls = 0;
        let gave_up = connect_retrying(Duration::from_secs(5), || {
            calls += 1;
            async { Err::<(), _>(sqlx::Error::Tls("unknown issuer".into())) }
        })
        .await
        .unwrap_err();
        assert_eq!((gave_up.attempts, calls), (1, 1));
        assert!(!gave_up.reason().contains("attempts"));
        let mut calls = 0;
        let ok = connect_retrying(Duration::from_secs(5), || {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(io(std::io::ErrorKind::ConnectionRefused))
                } else {
                    Ok(n)
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(ok, 3);
    }
}
