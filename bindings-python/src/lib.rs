//! The Python extension module `dbconsultant._native`: one class holding a `Consultant` and
//! one `call(op, request_json)` method. Everything else — keyword arguments, typed results,
//! exception classes — is the pure-Python layer in `python/dbconsultant`. Work runs on a
//! shared tokio runtime with the GIL released; panics become exceptions, never crashes.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use dbconsultant::{api, Consultant, ConsultantOptions, Error};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

create_exception!(_native, NativeError, PyException, "An error from the Rust core: args are (kind, message).");

/// One runtime per process. A forked child (multiprocessing) cannot use its parent's worker
/// threads, so the runtime is rebuilt when the process id changes.
static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

fn runtime() -> PyResult<Arc<Runtime>> {
    let mut slot = RUNTIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pid = std::process::id();
    if let Some((owner, rt)) = slot.as_ref() {
        if *owner == pid {
            return Ok(rt.clone());
        }
        // The parent's runtime cannot be shut down from here: forget it.
        if let Some((_, old)) = slot.take() {
            std::mem::forget(old);
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("dbconsultant")
        .enable_all()
        .build()
        .map_err(|e| NativeError::new_err(("internal", format!("cannot start the async runtime: {e}"))))?;
    let rt = Arc::new(rt);
    *slot = Some((pid, rt.clone()));
    Ok(rt)
}

fn to_py(e: Error) -> PyErr {
    NativeError::new_err((api::kind_name(&e), e.to_string()))
}

/// Run a core future without the GIL, turning a panic into an internal error. The future is
/// made inside the detached closure, so only its inputs need to be `Send`.
fn run<T, F, Fut>(py: Python<'_>, make: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> Fut + Send,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let rt = runtime()?;
    let outcome = py.detach(move || std::panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(make()))));
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(to_py(e)),
        Err(payload) => Err(NativeError::new_err(("internal", format!("internal error: {}", api::panic_message(&*payload))))),
    }
}

#[pyclass(module = "dbconsultant._native")]
struct NativeConsultant {
    inner: Consultant,
}

#[pymethods]
impl NativeConsultant {
    #[new]
    #[pyo3(signature = (store=None))]
    fn new(py: Python<'_>, store: Option<String>) -> PyResult<Self> {
        let inner = run(py, move || Consultant::open(ConsultantOptions { store }))?;
        Ok(NativeConsultant { inner })
    }

    /// Run one operation of `dbconsultant::api` with a JSON request; returns JSON.
    fn call(&self, py: Python<'_>, op: String, request_json: String) -> PyResult<String> {
        let consultant = self.inner.clone();
        run(py, move || async move {
            let request: serde_json::Value =
                serde_json::from_str(&request_json).map_err(|e| Error::invalid(format!("request is not JSON: {e}")))?;
            let value = api::call(&consultant, &op, request).await?;
            Ok(value.to_string())
        })
    }

    /// The store location (file path, or URL with the password redacted).
    #[getter]
    fn store(&self) -> String {
        self.inner.store().location().to_string()
    }
}

/// Panics inside the core on purpose, so tests can prove a panic is an exception.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    run(py, || async { panic!("deliberate panic for tests") })
}

/// The operation registry with its JSON Schemas, as JSON (what the SDK is generated from).
#[pyfunction]
fn registry() -> String {
    dbconsultant::ops::describe(dbconsultant::ops::registry()).to_string()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeConsultant>()?;
    m.add_function(wrap_pyfunction!(registry, m)?)?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add("__version__", dbconsultant::VERSION)?;
    Ok(())
}
