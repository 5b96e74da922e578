//! API keys of the REST service. The store keeps what identifies a key (its id, name and
//! grants) and a password hash of its secret; the secret itself is shown once, when created,
//! and never stored. Hashing and checking secrets is the service's business.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{now, store_error, Store};
use crate::error::{Error, Result};

/// One API key as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredKey {
    /// Public id, part of the key text (`dbc_<id>_<secret>`).
    pub id: String,
    /// What it is for (a pipeline, a person).
    pub name: String,
    /// What it may do: `viewer`, `admin`, `runner:qa`, `approver:prod,stage`, `runner:*`.
    pub grants: Vec<String>,
    /// PHC string of the secret's password hash (never shown).
    #[serde(skip_serializing, default)]
    #[schemars(skip)]
    pub secret_hash: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

const COLUMNS: &str = "id, name, grants, secret_hash, created_at, revoked_at";

fn stored_key(r: &sqlx::any::AnyRow) -> Result<StoredKey> {
    let grants: String = r.get(2);
    Ok(StoredKey {
        id: r.get(0),
        name: r.get(1),
        grants: serde_json::from_str(&grants).map_err(|e| Error::Store(format!("api key grants unreadable: {e}")))?,
        secret_hash: r.get(3),
        created_at: r.get(4),
        revoked_at: r.get(5),
    })
}

impl Store {
    /// Store a new key (its `created_at` is set now).
    pub async fn insert_api_key(&self, id: &str, name: &str, grants: &[String], secret_hash: &str) -> Result<StoredKey> {
        let key = StoredKey {
            id: id.to_string(),
            name: name.to_string(),
            grants: grants.to_vec(),
            secret_hash: secret_hash.to_string(),
            created_at: now(),
            revoked_at: None,
        };
        let grants = serde_json::to_string(&key.grants).map_err(|e| Error::Internal(e.to_string()))?;
        sqlx::query("INSERT INTO api_keys (id, name, grants, secret_hash, created_at) VALUES ($1,$2,$3,$4,$5)")
            .bind(&key.id)
            .bind(&key.name)
            .bind(grants)
            .bind(&key.secret_hash)
            .bind(&key.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(&self.label, e))?;
        Ok(key)
    }

    /// The key with this id, revoked or not.
    pub async fn api_key(&self, id: &str) -> Result<Option<StoredKey>> {
        let query = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(query)).bind(id).fetch_optional(&self.pool).await.map_err(|e| store_error(&self.label, e))?;
        row.as_ref().map(stored_key).transpose()
    }

    /// Every key, oldest first.
    pub async fn api_keys(&self) -> Result<Vec<StoredKey>> {
        let query = format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(query)).fetch_all(&self.pool).await.map_err(|e| store_error(&self.label, e))?;
        rows.iter().map(stored_key).collect()
    }

    /// Revoke a key: it stops working (on every server within its cache time).
    pub async fn revoke_api_key(&self, id: &str) -> Result<StoredKey> {
        let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(&self.label, e))?;
        let key = self.api_key(id).await?.ok_or_else(|| Error::NotFound(format!("no API key with id '{id}' in {}", self.label)))?;
        if done.rows_affected() == 0 {
            return Err(Error::invalid(format!("API key '{id}' was revoked already, at {}", key.revoked_at.unwrap_or_default())));
        }
        Ok(key)
    }
}
