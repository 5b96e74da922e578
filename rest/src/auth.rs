//! API keys and what they may do. A key reads `dbc_<id>_<secret>`: the id finds its row in the
//! store, the secret is checked against an Argon2id hash (the store never holds the secret, so
//! a leaked store leaks no usable key). Argon2 costs tens of milliseconds by design, so a key
//! that checked out is remembered for [`CACHE_TTL`] under a SHA-256 of its text; a revoked key
//! stops working on every server within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use dbconsultant::model::Environment;
use dbconsultant::ops::Role;
use dbconsultant::store::{Store, StoredKey};
use dbconsultant::{Error, Result};
use sha2::{Digest, Sha256};

/// How long a checked key is trusted without looking at the store again.
pub const CACHE_TTL: Duration = Duration::from_secs(60);
const PREFIX: &str = "dbc_";

/// One grant: a role, in some environments (runner and approver) or everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    /// `None`: every environment.
    pub environments: Option<Vec<Environment>>,
}

impl std::str::FromStr for Grant {
    type Err = Error;
    /// `viewer`, `admin`, `runner:qa`, `approver:stage,prod`, `runner:*`.
    fn from_str(text: &str) -> Result<Grant> {
        let (role, envs) = match text.trim().split_once(':') {
            Some((r, e)) => (r.trim(), Some(e.trim())),
            None => (text.trim(), None),
        };
        let role = match role {
            "viewer" => Role::Viewer,
            "runner" => Role::Runner,
            "approver" => Role::Approver,
            "admin" => Role::Admin,
            other => {
                return Err(Error::invalid(format!(
                    "unknown role '{other}' in grant '{text}' (expected viewer, runner, approver or admin)"
                )))
            }
        };
        let environments = match (role, envs) {
            (Role::Viewer | Role::Admin, None) => None,
            (Role::Viewer | Role::Admin, Some(_)) => {
                return Err(Error::invalid(format!("grant '{text}': {} is not per environment", role.as_str())))
            }
            (_, None) => {
                return Err(Error::invalid(format!(
                    "grant '{text}': say in which environments, e.g. {0}:qa, {0}:qa,stage or {0}:*",
                    role.as_str()
                )))
            }
            (_, Some("*")) => None,
            (_, Some(list)) => Some(list.split(',').map(|e| e.parse()).collect::<Result<Vec<Environment>>>()?),
        };
        Ok(Grant { role, environments })
    }
}

/// Who is calling: the key's name and grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key_id: String,
    pub name: String,
    pub grants: Vec<Grant>,
}

impl Principal {
    /// May it act as `role` (in `environment`, for runner and approver)? Admin may do
    /// everything; any grant includes reading runs.
    pub fn may(&self, role: Role, environment: Option<Environment>) -> bool {
        self.grants.iter().any(|g| match (g.role, role) {
            (Role::Admin, _) => true,
            (_, Role::Viewer) => true,
            (have, want) if have == want => match (&g.environments, environment) {
                (None, _) => true,
                (Some(envs), Some(env)) => envs.contains(&env),
                (Some(_), None) => false,
            },
            _ => false,
        })
    }
}

fn hasher() -> Argon2<'static> {
    Argon2::default()
}

/// Random hex from v4 UUIDs (122 random bits each, from the OS's generator).
fn random_hex(uuids: usize) -> String {
    (0..uuids).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect()
}

/// Create a key; returns it as stored and its text, which is shown once and never again.
pub async fn create_key(store: &Store, name: &str, grants: &[String]) -> Result<(StoredKey, String)> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name the key (who or what it is for)"));
    }
    if grants.is_empty() {
        return Err(Error::invalid("give the key at least one grant: viewer, runner:ENV, approver:ENV or admin"));
    }
    for g in grants {
        g.parse::<Grant>()?;
    }
    if store.api_keys().await?.iter().any(|k| k.name == name && k.revoked_at.is_none()) {
        return Err(Error::invalid(format!("a key named '{name}' exists already; names are who decides, so they are unique")));
    }
    let id = random_hex(1)[..12].to_string();
    let secret = random_hex(2);
    let salt = SaltString::encode_b64(&uuid::Uuid::new_v4().into_bytes()).map_err(|e| Error::Internal(e.to_string()))?;
    let hash = hasher().hash_password(secret.as_bytes(), &salt).map_err(|e| Error::Internal(format!("hashing the key: {e}")))?;
    let key = store.insert_api_key(&id, name, grants, &hash.to_string()).await?;
    Ok((key, format!("{PREFIX}{id}_{secret}")))
}

/// Why a presented key was not accepted (the caller learns no more than "unauthenticated").
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no API key: send Authorization: Bearer <key>")]
    Missing,
    #[error("the API key is malformed, unknown, revoked or wrong")]
    Rejected,
    #[error("{0}")]
    Token(String),
    #[error("{0}")]
    Store(#[from] Error),
}

/// Checks keys against the store, remembering good ones for a while, and JWTs against the
/// identity provider's keys when configured.
pub struct KeyChecker {
    cache: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
    /// Tokens that failed, remembered as long as good ones: a client retrying a wrong key
    /// costs no further hashing.
    refused: Mutex<HashMap<[u8; 32], Instant>>,
    /// Argon2 checks at once: as many as there are cores, so a burst of new or wrong keys
    /// queues here instead of starving the requests that are already authenticated.
    hashing: tokio::sync::Semaphore,
    pub jwt: Option<crate::jwt::JwtConfig>,
}

impl Default for KeyChecker {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        KeyChecker { cache: Mutex::default(), refused: Mutex::default(), hashing: tokio::sync::Semaphore::new(cores), jwt: None }
    }
}

/// Bound on the entries each cache keeps (the oldest go first when it is full).
const CACHE_ENTRIES: usize = 10_000;

fn remember<V>(map: &mut HashMap<[u8; 32], V>, digest: [u8; 32], value: V, at: impl Fn(&V) -> Instant) {
    map.retain(|_, v| at(v).elapsed() < CACHE_TTL);
    if map.len() >= CACHE_ENTRIES {
        if let Some(oldest) = map.iter().min_by_key(|(_, v)| at(v)).map(|(k, _)| *k) {
            map.remove(&oldest);
        }
    }
    map.insert(digest, value);
}

impl KeyChecker {
    /// The principal a bearer token stands for.
    pub async fn check(&self, store: &Store, token: Option<&str>) -> std::result::Result<Principal, AuthError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(AuthError::Missing)?;
        if !token.starts_with(PREFIX) && token.matches('.').count() == 2 {
            let jwt =
                self.jwt.as_ref().ok_or_else(|| AuthError::Token("JWT bearer tokens are not enabled on this server (--jwks)".into()))?;
            return jwt.principal(token).await.map_err(AuthError::Token);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(principal) = self.cached(&digest)? {
            return Ok(principal);
        }
        // One hashing at a time per core; whoever waited may find the same key checked meanwhile
        // (fifty first requests with one new key hash it once, not fifty times).
        let _permit = self.hashing.acquire().await.map_err(|e| AuthError::Store(Error::Internal(e.to_string())))?;
        if let Some(principal) = self.cached(&digest)? {
            return Ok(principal);
        }
        let checked = self.verify(store, token).await;
        match &checked {
            Ok(principal) => {
                remember(&mut self.cache.lock().unwrap_or_else(|p| p.into_inner()), digest, (principal.clone(), Instant::now()), |v| v.1)
            }
            Err(AuthError::Rejected) => {
                remember(&mut self.refused.lock().unwrap_or_else(|p| p.into_inner()), digest, Instant::now(), |v| *v)
            }
            Err(_) => {}
        }
        checked
    }

    /// Stop trusting a key this process checked (it was revoked here).
    pub fn forget(&self, key_id: &str) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, (principal, _)| principal.key_id != key_id);
    }

    /// A key checked (or refused) within the last [`CACHE_TTL`].
    fn cached(&self, digest: &[u8; 32]) -> std::result::Result<Option<Principal>, AuthError> {
        if let Some((principal, at)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(digest) {
            if at.elapsed() < CACHE_TTL {
                return Ok(Some(principal.clone()));
            }
        }
        match self.refused.lock().unwrap_or_else(|p| p.into_inner()).get(digest) {
            Some(at) if at.elapsed() < CACHE_TTL => Err(AuthError::Rejected),
            _ => Ok(None),
        }
    }

    /// An API key against its stored hash.
    async fn verify(&self, store: &Store, token: &str) -> std::result::Result<Principal, AuthError> {
        let (id, secret) = token.strip_prefix(PREFIX).and_then(|rest| rest.split_once('_')).ok_or(AuthError::Rejected)?;
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthError::Rejected);
        }
        let key = store.api_key(id).await?.filter(|k| k.revoked_at.is_none()).ok_or(AuthError::Rejected)?;
        PasswordHash::new(&key.secret_hash).map_err(|e| Error::Store(format!("API key {id}: unreadable hash: {e}")))?;
        // Argon2 is CPU-bound for tens of milliseconds: off the async workers.
        let (secret, phc) = (secret.to_string(), key.secret_hash.clone());
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&phc).map(|h| hasher().verify_password(secret.as_bytes(), &h).is_ok()).unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if !ok {
            return Err(AuthError::Rejected);
        }
        let grants = key.grants.iter().map(|g| g.parse()).collect::<Result<Vec<Grant>>>()?;
        Ok(Principal { key_id: key.id, name: key.name, grants })
    }
}

/// Requests per minute per key, as a token bucket (bursts up to a minute's worth).
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute, buckets: Mutex::default() }
    }

    /// `Ok` to go on, or the seconds until a request would be allowed.
    pub fn take(&self, key: &str) -> std::result::Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = self.per_minute as f64;
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_second).ceil() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(grants: &[&str]) -> Principal {
        Principal { key_id: "k".into(), name: "n".into(), grants: grants.iter().map(|g| g.parse().unwrap()).collect() }
    }

    #[test]
    fn a_runner_for_qa_cannot_run_against_prod_and_any_grant_reads_runs() {
        let p = principal(&["runner:qa,stage"]);
        assert!(p.may(Role::Runner, Some(Environment::Qa)));
        assert!(p.may(Role::Runner, Some(Environment::Stage)));
        assert!(!p.may(Role::Runner, Some(Environment::Prod)));
        assert!(!p.may(Role::Approver, Some(Environment::Qa)));
        assert!(p.may(Role::Viewer, None));
        assert!(!p.may(Role::Admin, None));
        assert!(principal(&["runner:*"]).may(Role::Runner, Some(Environment::Prod)));
        assert!(principal(&["admin"]).may(Role::Approver, Some(Environment::Prod)));
        assert!(!principal(&["viewer"]).may(Role::Runner, Some(Environment::Dev)));
    }

    #[test]
    fn grants_name_their_environments_or_say_what_is_wrong() {
        for (text, needle) in
            [("runner", "which environments"), ("viewer:qa", "not per environment"), ("root", "unknown role"), ("approver:live", "live")]
        {
            let e = text.parse::<Grant>().unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn the_bucket_allows_a_minute_of_requests_then_says_when_to_retry() {
        let limiter = RateLimiter::new(3);
        assert!((0..3).all(|_| limiter.take("a").is_ok()));
        let wait = limiter.take("a").unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.take("b").is_ok(), "buckets are per key");
    }
}
