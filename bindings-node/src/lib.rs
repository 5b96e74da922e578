//! The Node addon: one class holding a `Consultant` and one `call(op, requestJson)` method
//! returning a Promise. The work runs on libuv's thread pool (napi `AsyncTask`) driving the
//! shared tokio runtime, so the JS thread stays free; panics become rejections. Everything
//! else — option objects, camelCase results, error classes — is `index.js`.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use dbconsultant::{api, Consultant, ConsultantOptions, Error};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::runtime::Runtime;

fn runtime() -> Result<Arc<Runtime>> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt.clone());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("dbconsultant")
        .enable_all()
        .build()
        .map_err(|e| native_error("internal", &format!("cannot start the async runtime: {e}")))?;
    Ok(RUNTIME.get_or_init(|| Arc::new(rt)).clone())
}

/// Errors cross as JSON `{"kind", "message"}` in the reason; `index.js` turns them into
/// error classes with a `code`.
fn native_error(kind: &str, message: &str) -> napi::Error {
    napi::Error::new(Status::GenericFailure, serde_json::json!({ "kind": kind, "message": message }).to_string())
}

fn to_napi(e: Error) -> napi::Error {
    native_error(api::kind_name(&e), &e.to_string())
}

/// Run core work to completion on the calling (pool) thread; a panic is an internal error.
fn block_on<T>(make: impl std::future::Future<Output = std::result::Result<T, Error>>) -> Result<T> {
    let rt = runtime()?;
    match std::panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(make))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_napi(e)),
        Err(payload) => Err(native_error("internal", &format!("internal error: {}", api::panic_message(&*payload)))),
    }
}

pub struct OpenTask {
    store: Option<String>,
}

impl Task for OpenTask {
    type Output = Consultant;
    type JsValue = NativeConsultant;

    fn compute(&mut self) -> Result<Self::Output> {
        let store = self.store.take();
        block_on(Consultant::open(ConsultantOptions { store }))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(NativeConsultant { inner: output })
    }
}

pub struct CallTask {
    consultant: Consultant,
    op: String,
    request: String,
}

impl Task for CallTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<Self::Output> {
        let consultant = self.consultant.clone();
        let op = std::mem::take(&mut self.op);
        let request = std::mem::take(&mut self.request);
        block_on(async move {
            if op == "__panic_for_tests" {
                panic!("deliberate panic for tests");
            }
            let request: serde_json::Value =
                serde_json::from_str(&request).map_err(|e| Error::invalid(format!("request is not JSON: {e}")))?;
            Ok(api::call(&consultant, &op, request).await?.to_string())
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

#[napi]
pub struct NativeConsultant {
    inner: Consultant,
}

#[napi]
impl NativeConsultant {
    /// Open (creating or upgrading) the store; resolves to a consultant.
    #[napi(ts_return_type = "Promise<NativeConsultant>")]
    pub fn open(store: Option<String>) -> AsyncTask<OpenTask> {
        AsyncTask::new(OpenTask { store })
    }

    /// Run one operation of `dbconsultant::api`; resolves to the JSON result.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn call(&self, op: String, request_json: String) -> AsyncTask<CallTask> {
        AsyncTask::new(CallTask { consultant: self.inner.clone(), op, request: request_json })
    }

    #[napi(getter)]
    pub fn store(&self) -> String {
        self.inner.store().location().to_string()
    }
}

/// The operation registry with its JSON Schemas, as JSON (what the SDK is generated from).
#[napi]
pub fn registry() -> String {
    dbconsultant::ops::describe(dbconsultant::ops::registry()).to_string()
}

/// The version of the Rust core inside this addon.
#[napi]
pub fn version() -> String {
    dbconsultant::VERSION.to_string()
}
