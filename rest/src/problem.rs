//! Errors as RFC 9457 problem details (`application/problem+json`). `kind` carries the error
//! kind the SDKs already use (`invalid_input`, `not_found`, `approval_state`, ...) or one of the
//! service's own (`unauthenticated`, `forbidden`, `rate_limited`, `too_large`, `timeout`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dbconsultant::error::ErrorKind;
use dbconsultant::Error;
use serde::Serialize;

/// Error kinds of the service itself, beside the core's.
pub const SERVICE_KINDS: &[&str] = &["unauthenticated", "forbidden", "rate_limited", "too_large", "timeout", "no_such_endpoint"];

/// An error answer: its document, boxed (errors travel in `Result`s on every path).
#[derive(Debug, Clone)]
pub struct Problem(Box<ProblemDetails>);

/// A problem details document (RFC 9457).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProblemDetails {
    /// `urn:dbconsultant:problem:<kind>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// What was wrong, for a human (secrets redacted).
    pub detail: String,
    /// The request's path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The stable error kind (the SDKs' error names).
    pub kind: String,
    #[serde(skip)]
    #[schemars(skip)]
    retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Problem {
        Problem(Box::new(ProblemDetails {
            type_: format!("urn:dbconsultant:problem:{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: dbconsultant::url::redact_url(&detail.into()),
            instance: None,
            kind: kind.to_string(),
            retry_after: None,
        }))
    }

    pub fn details(&self) -> &ProblemDetails {
        &self.0
    }

    pub fn at(mut self, path: &str) -> Problem {
        self.0.instance = Some(path.to_string());
        self
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn invalid(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "invalid_input", detail)
    }

    pub fn rate_limited(retry_after: u64) -> Problem {
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests for this key; retry in {retry_after} s"),
        );
        p.0.retry_after = Some(retry_after);
        p
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Problem {
        let kind = e.kind();
        let status = match kind {
            ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::ApprovalState => StatusCode::CONFLICT,
            ErrorKind::Connection => StatusCode::BAD_GATEWAY,
            ErrorKind::Sandbox => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Problem::new(status, kind.name(), e.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&*self.0).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"dbconsultant\""));
        }
        if let Some(seconds) = self.0.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
