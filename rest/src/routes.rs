//! The router: one route per endpoint of the registry, the decision endpoint of the seed and
//! the OpenAPI document; every request authenticated (but the document), rate-limited per key,
//! size- and time-limited, and audited (who, what, which targets, outcome).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, on, post, MethodFilter};
use axum::{Json, Router};
use dbconsultant::ops::{HttpMethod, Role};
use serde_json::{Map, Value};

use crate::auth::Principal;
use crate::endpoints::{typed, Endpoint, Governed};
use crate::problem::Problem;
use crate::Service;

pub const API: &str = "/api/v1";
pub const DB: &str = "/db";
pub const HUMAN_APPROVAL: &str = "human-approval";
pub const OPENAPI: &str = "/openapi.json";

pub fn router(service: Arc<Service>) -> Router {
    let mut router = Router::new();
    for endpoint in service.endpoints.iter().copied() {
        let filter = match endpoint.method {
            HttpMethod::Get => MethodFilter::GET,
            HttpMethod::Post => MethodFilter::POST,
        };
        let handler = move |State(s): State<Arc<Service>>, Path(params): Path<HashMap<String, String>>, req: Request| async move {
            let path = req.uri().path().to_string();
            handle(&s, &path, req, |s, call| Box::pin(run(s, endpoint, call, params))).await
        };
        router = router.route(&format!("{API}{DB}/{}", endpoint.path), on(filter, handler));
    }
    router = crate::jobs_routes::routes(router, &format!("{API}{DB}"));
    router = crate::admin_routes::routes(router, &format!("{API}/admin"));
    router
        .route(&format!("{API}{DB}/{HUMAN_APPROVAL}"), post(human_approval))
        .route(
            &format!("{API}{OPENAPI}"),
            get(|State(s): State<Arc<Service>>| async move {
                s.audit("anonymous", &format!("GET {API}{OPENAPI} -> 200")).await;
                Json(s.openapi.clone())
            }),
        )
        .fallback(|State(s): State<Arc<Service>>, method: Method, uri: axum::http::Uri| async move {
            s.audit("anonymous", &format!("{method} {} -> 404 no_such_endpoint", uri.path())).await;
            Problem::new(StatusCode::NOT_FOUND, "no_such_endpoint", format!("no endpoint {method} {}; see {API}{OPENAPI}", uri.path()))
                .at(uri.path())
        })
        .with_state(service)
}

/// A successful answer: its status (200, or 202 for a queued job), body, where the job is,
/// and what the audit line adds (targets, run).
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub location: Option<String>,
    pub what: String,
}

impl Answer {
    pub fn ok(body: Value) -> Answer {
        Answer { status: StatusCode::OK, body, location: None, what: String::new() }
    }
}

/// A call as the router hands it to an endpoint's work.
pub(crate) struct Call {
    pub principal: Principal,
    pub input: Map<String, Value>,
    /// `Prefer: respond-async` (RFC 7240): queue the run and answer 202.
    pub respond_async: bool,
}

pub(crate) type Outcome = Result<Answer, Problem>;
pub(crate) type Running<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Outcome> + Send + 'a>>;

/// The caller, or the answer that refuses them (401, 429), audited.
pub(crate) async fn authenticate(s: &Service, path: &str, method: &Method, headers: &header::HeaderMap) -> Result<Principal, Response> {
    let token =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::to_string);
    let principal = match s.keys.check(s.consultant.store(), token.as_deref()).await {
        Ok(p) => p,
        Err(crate::auth::AuthError::Store(e)) => return Err(Problem::from(e).at(path).into_response()),
        Err(e) => {
            s.audit("anonymous", &format!("{method} {path} -> 401 ({e})")).await;
            return Err(Problem::unauthenticated(e.to_string()).at(path).into_response());
        }
    };
    if let Err(wait) = s.limiter.take(&principal.key_id) {
        s.audit(&principal.name, &format!("{method} {path} -> 429 rate_limited")).await;
        return Err(Problem::rate_limited(wait).at(path).into_response());
    }
    Ok(principal)
}

/// Authenticate, limit, read the input, run, audit.
pub(crate) async fn handle<'a>(s: &'a Service, path: &str, req: Request, work: impl FnOnce(&'a Service, Call) -> Running<'a>) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let principal = match authenticate(s, path, &method, req.headers()).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let respond_async = req
        .headers()
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("respond-async")));
    let input = match read_input(s, &method, req).await {
        Ok(i) => i,
        Err(p) => return finish(s, &principal, &method, path, started, Err(p)).await,
    };
    let call = Call { principal: principal.clone(), input, respond_async };
    let outcome = match tokio::time::timeout(s.limits.request_timeout, work(s, call)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            format!("the request ran longer than {} s (the server's --request-timeout)", s.limits.request_timeout.as_secs()),
        )),
    };
    finish(s, &principal, &method, path, started, outcome).await
}

async fn finish(s: &Service, principal: &Principal, method: &Method, path: &str, started: Instant, outcome: Outcome) -> Response {
    let ms = started.elapsed().as_millis();
    match outcome {
        Ok(answer) => {
            s.audit(&principal.name, &format!("{method} {path}{} -> {} in {ms} ms", answer.what, answer.status.as_u16())).await;
            let mut response = (answer.status, Json(answer.body)).into_response();
            if let Some(location) = answer.location.and_then(|l| header::HeaderValue::from_str(&l).ok()) {
                response.headers_mut().insert(header::LOCATION, location);
                response.headers_mut().insert("preference-applied", header::HeaderValue::from_static("respond-async"));
            }
            response
        }
        Err(p) => {
            s.audit(&principal.name, &format!("{method} {path} -> {} {} in {ms} ms", p.details().status, p.details().kind)).await;
            p.at(path).into_response()
        }
    }
}

/// The query string (GET) or the JSON object of the body (POST), read within the size limit.
async fn read_input(s: &Service, method: &Method, req: Request) -> Result<Map<String, Value>, Problem> {
    if method == Method::GET {
        let query = req.uri().query().unwrap_or("");
        let pairs: Vec<(String, String)> =
            serde_urlencoded_pairs(query).map_err(|e| Problem::invalid(format!("malformed query string: {e}")))?;
        return Ok(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
    }
    let limit = s.limits.max_body_bytes;
    let bytes = axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than {limit} bytes (the server's --max-body-bytes)"),
        )
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(Problem::invalid("the request body must be a JSON object")),
        Err(e) => Err(Problem::invalid(format!("the request body is not JSON: {e}"))),
    }
}

fn serde_urlencoded_pairs(query: &str) -> Result<Vec<(String, String)>, String> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&format!("/?{query}").parse().map_err(|e| format!("{e}"))?)
        .map(|q| q.0)
        .map_err(|e| e.body_text())
}

/// One endpoint's work: the core request, the caller's rights, the operation.
async fn run(s: &Service, e: Endpoint, call: Call, params: HashMap<String, String>) -> Outcome {
    let Call { principal, mut input, respond_async } = call;
    let shape = e.shape();
    for (k, v) in input.iter_mut() {
        if let (Value::String(text), Some(schema), HttpMethod::Get) = (&*v, shape.fields.get(k), e.method) {
            *v = typed(text, schema, &shape.definitions)
                .map_err(|wanted| Problem::invalid(format!("{}: '{k}' must be {wanted}, got '{text}'", e.name())))?;
        }
    }
    for (k, v) in params {
        input.insert(k, Value::String(v));
    }
    let governed = Governed { config: &s.config, caller: &principal.name };
    // Checked in full before anything is queued: a bad request is a 400 now, not a failed job.
    let (request, targets) = e.request(input.clone(), &s.targets, &governed)?;
    match e.role {
        Role::Runner => {
            for t in &targets {
                if !principal.may(Role::Runner, Some(t.environment)) {
                    return Err(Problem::forbidden(format!(
                        "{} may not run against '{}' ({}): no runner grant for {}",
                        principal.name, t.name, t.environment, t.environment
                    )));
                }
            }
        }
        Role::Approver => {
            let id = request.get("test_run_id").and_then(Value::as_str).unwrap_or_default();
            let run = s.consultant.test_run(id).await?;
            if !principal.may(Role::Approver, Some(run.environment)) {
                return Err(Problem::forbidden(format!(
                    "{} may not decide runs in {}: no approver grant for it",
                    principal.name, run.environment
                )));
            }
        }
        role => {
            if !principal.may(role, None) {
                return Err(Problem::forbidden(format!(
                    "{} may not call {}: it needs the {} role",
                    principal.name,
                    e.name(),
                    role.as_str()
                )));
            }
        }
    }
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    let mut what = if names.is_empty() { String::new() } else { format!(" [{}]", names.join(", ")) };
    if respond_async && e.role == Role::Runner && e.op.spec.writes_store {
        let job = s.enqueue(&e, &principal.name, &input).await?;
        what.push_str(&format!(" job {}", job.job_id));
        let body = crate::jobs::document(&job);
        let location = body["location"].as_str().map(str::to_string);
        return Ok(Answer { status: StatusCode::ACCEPTED, body, location, what });
    }
    let result = e.op.call(&s.consultant, request).await?;
    if let Some(id) = result.get("test_run_id").and_then(Value::as_str) {
        what.push_str(&format!(" run {id}"));
    }
    Ok(Answer { what, ..Answer::ok(result) })
}

/// `POST human-approval`: the decision names which approval endpoint runs.
async fn human_approval(State(s): State<Arc<Service>>, req: Request<Body>) -> Response {
    let path = req.uri().path().to_string();
    handle(&s, &path, req, |s, call| {
        Box::pin(async move {
            let Call { principal, mut input, respond_async } = call;
            let decision = input.remove("decision").and_then(|d| d.as_str().map(str::to_string));
            let decision = decision.ok_or_else(|| Problem::invalid("human-approval: give a decision: approve, reject or escalate"))?;
            let endpoint = s
                .endpoints
                .iter()
                .copied()
                .find(|e| e.role == Role::Approver && e.path.rsplit('/').next() == Some(decision.as_str()))
                .ok_or_else(|| {
                    Problem::invalid(format!("human-approval: unknown decision '{decision}' (expected approve, reject or escalate)"))
                })?;
            let id = input.remove("test_run_id").and_then(|d| d.as_str().map(str::to_string));
            let id = id.ok_or_else(|| Problem::invalid("human-approval: missing field 'test_run_id'"))?;
            let call = Call { principal, input, respond_async };
            run(s, endpoint, call, HashMap::from([("test_run_id".to_string(), id)])).await
        })
    })
    .await
}
