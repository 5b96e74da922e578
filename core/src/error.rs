//! The library's error type. Bindings match on [`ErrorKind`] only, so the kinds are stable
//! while messages may improve.

use serde::Serialize;

/// Stable classification of an error, shared by every surface (CLI exit code 3, Python
/// exception subclasses, Node `code`, Java `Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    InvalidInput,
    Connection,
    Sandbox,
    NotFound,
    ApprovalState,
    Internal,
}

impl ErrorKind {
    /// The snake_case name bindings report (`invalid_input`, `not_found` ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Connection => "connection",
            ErrorKind::Sandbox => "sandbox",
            ErrorKind::NotFound => "not_found",
            ErrorKind::ApprovalState => "approval_state",
            ErrorKind::Internal => "internal",
        }
    }

    /// Upper-case code used by the Node binding and in JSON error documents.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "INVALID_INPUT",
            ErrorKind::Connection => "CONNECTION",
            ErrorKind::Sandbox => "SANDBOX",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::ApprovalState => "APPROVAL_STATE",
            ErrorKind::Internal => "INTERNAL",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Outside SQL the read-only guard turned away (see [`crate::guard`]).
    #[error("refused: {0}")]
    Refused(String),
    #[error("cannot connect to {url}: {reason}")]
    Connection { url: String, reason: String },
    #[error("sandbox failed: {0}")]
    Sandbox(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("approval state: {0}")]
    ApprovalState(String),
    #[error("artifact store error: {0}")]
    Store(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput(_) | Error::Refused(_) => ErrorKind::InvalidInput,
            Error::Connection { .. } => ErrorKind::Connection,
            Error::Sandbox(_) => ErrorKind::Sandbox,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::ApprovalState(_) => ErrorKind::ApprovalState,
            Error::Store(_) | Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The message without the kind's prefix ("unknown dialect 'x' ..." rather than
    /// "invalid input: unknown dialect 'x' ...").
    pub fn detail(&self) -> String {
        match self {
            Error::InvalidInput(m)
            | Error::Sandbox(m)
            | Error::NotFound(m)
            | Error::ApprovalState(m)
            | Error::Store(m)
            | Error::Internal(m) => m.clone(),
            other => other.to_string(),
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
