//! Key administration over HTTP, for admins: create a key (its text is in the answer, once),
//! list keys (never secrets), revoke one (at once on this server; within a minute on others,
//! which trust a checked key that long).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get};
use axum::Router;
use dbconsultant::ops::Role;
use serde_json::{json, Value};

use crate::problem::Problem;
use crate::routes::{handle, Answer, Call};
use crate::Service;

pub(crate) fn routes(router: Router<Arc<Service>>, prefix: &str) -> Router<Arc<Service>> {
    router.route(&format!("{prefix}/keys"), get(list).post(create)).route(&format!("{prefix}/keys/{{key_id}}"), delete(revoke))
}

fn admin_only(call: &Call) -> Result<(), Problem> {
    if call.principal.may(Role::Admin, None) {
        Ok(())
    } else {
        Err(Problem::forbidden(format!("{} may not manage keys: it needs the admin role", call.principal.name)))
    }
}

async fn list(State(s): State<Arc<Service>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    handle(&s, &path, req, |s, call| {
        Box::pin(async move {
            admin_only(&call)?;
            Ok(Answer::ok(serde_json::to_value(s.consultant.store().api_keys().await?).unwrap_or_default()))
        })
    })
    .await
}

async fn create(State(s): State<Arc<Service>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    handle(&s, &path, req, |s, call| {
        Box::pin(async move {
            admin_only(&call)?;
            let name = call.input.get("name").and_then(Value::as_str).ok_or_else(|| Problem::invalid("keys: give the key a 'name'"))?;
            let grants: Vec<String> = match call.input.get("grants") {
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                _ => return Err(Problem::invalid("keys: give 'grants', a list such as [\"runner:qa\", \"viewer\"]")),
            };
            if let Some(unknown) = call.input.keys().find(|k| !["name", "grants"].contains(&k.as_str())) {
                return Err(Problem::invalid(format!("keys: unknown field '{unknown}' (expected name, grants)")));
            }
            let (key, text) = crate::auth::create_key(s.consultant.store(), name, &grants).await?;
            let mut body = serde_json::to_value(&key).unwrap_or_default();
            body["key"] = json!(text);
            Ok(Answer { status: StatusCode::CREATED, what: format!(" key {} ({})", key.id, key.name), ..Answer::ok(body) })
        })
    })
    .await
}

async fn revoke(State(s): State<Arc<Service>>, Path(id): Path<String>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    handle(&s, &path, req, move |s, call| {
        Box::pin(async move {
            admin_only(&call)?;
            let key = s.consultant.store().revoke_api_key(&id).await?;
            s.keys.forget(&key.id);
            Ok(Answer { what: format!(" key {} ({})", key.id, key.name), ..Answer::ok(serde_json::to_value(&key).unwrap_or_default()) })
        })
    })
    .await
}
