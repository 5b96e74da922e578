//! What the language bindings (Python, Node, Java) call: one JSON-in / JSON-out entry point
//! over the operation registry, and the names they give errors. Each binding only converts
//! its arguments to a JSON object, calls [`call`] and maps the error kind to its exceptions.

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::Consultant;

/// Run one operation of the registry (see [`crate::ops`]) with a JSON request.
pub async fn call(consultant: &Consultant, op: &str, request: Value) -> Result<Value> {
    crate::ops::call(consultant, op, request).await
}

/// The text of a caught panic, for bindings that turn panics into errors.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The stable kind name of an error (`invalid_input`, `connection`, ...), as bindings report it.
pub fn kind_name(e: &Error) -> &'static str {
    e.kind().name()
}

/// Every error kind, by its stable name (the bindings' exception classes are generated from
/// this list).
pub const ERROR_KINDS: &[ErrorKind] = &[
    ErrorKind::InvalidInput,
    ErrorKind::Connection,
    ErrorKind::Sandbox,
    ErrorKind::NotFound,
    ErrorKind::ApprovalState,
    ErrorKind::Internal,
];
