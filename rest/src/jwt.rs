//! OIDC / JWT bearer tokens, checked against the identity provider's keys (a JWKS file): the
//! signature (asymmetric algorithms only: a shared-secret HS256 key in a JWKS would let anyone
//! holding it mint tokens, and invites algorithm confusion), the issuer, the audience and the
//! expiry. The caller's name and grants come from claims (`sub` and `dbconsultant_grants` by
//! default), so the provider's groups map onto the service's roles.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::auth::{Grant, Principal};

/// How tokens are checked and read.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub keys: Arc<crate::jwks::KeySet>,
    pub issuer: String,
    pub audience: String,
    /// The claim naming the caller (recorded as requester and approver).
    pub name_claim: String,
    /// The claim listing the caller's grants (`runner:qa`, `approver:prod`, ...).
    pub grants_claim: String,
}

const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

impl JwtConfig {
    /// The caller a token stands for, or why it is refused (said to the caller: it names no
    /// secret, and tells an integrator what to fix).
    pub async fn principal(&self, token: &str) -> std::result::Result<Principal, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("malformed token: {e}"))?;
        if !ASYMMETRIC.contains(&header.alg) {
            return Err(format!("token algorithm {:?} is not accepted (asymmetric algorithms only)", header.alg));
        }
        let jwk = self.keys.find(header.kid.as_deref()).await?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("key '{}': {e}", header.kid.as_deref().unwrap_or("")))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data =
            jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &validation).map_err(|e| format!("token refused: {e}"))?;
        let claims = data.claims;
        let name = claims
            .get(&self.name_claim)
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| format!("the token has no '{}' claim naming the caller", self.name_claim))?;
        let grants = match claims.get(&self.grants_claim) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|g| g.as_str().ok_or_else(|| format!("'{}' holds a non-string", self.grants_claim)))
                .collect::<std::result::Result<Vec<_>, _>>()?,
            Some(Value::String(one)) => one.split_whitespace().collect(),
            _ => Vec::new(),
        };
        let grants = grants.into_iter().map(|g| g.parse::<Grant>().map_err(|e| e.detail())).collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Principal { key_id: format!("jwt:{name}"), name: name.to_string(), grants })
    }
}
