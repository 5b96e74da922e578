//! JNI entry points of `io.dbconsultant.NativeConsultant`. A client owns a native handle: its
//! own tokio runtime and `Consultant`. Every call takes a JSON request and returns a JSON
//! envelope — `{"ok": result}` or `{"error": {"kind", "message"}}` — so no Java exception is
//! thrown from native code and a panic becomes an `internal` error, never a JVM abort.

use std::panic::AssertUnwindSafe;

use dbconsultant::{api, Consultant, ConsultantOptions, Error};
use jni::errors::ThrowRuntimeExAndDefault;
use jni::objects::{JClass, JString};
use jni::sys::jlong;
use jni::{Env, EnvUnowned};
use serde_json::{json, Value};
use tokio::runtime::Runtime;

struct Handle {
    runtime: Runtime,
    consultant: Consultant,
}

fn error_envelope(kind: &str, message: &str) -> Value {
    json!({ "error": { "kind": kind, "message": message } })
}

fn from_error(e: Error) -> Value {
    error_envelope(api::kind_name(&e), &e.to_string())
}

/// Run `work`, turning a panic into an internal error.
fn guarded(work: impl FnOnce() -> Value) -> Value {
    std::panic::catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|payload| error_envelope("internal", &format!("internal error: {}", api::panic_message(&*payload))))
}

/// A Java string argument as Rust text (`None` for null).
fn read(env: &Env, s: &JString) -> jni::errors::Result<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    s.try_to_string(env).map(Some)
}

/// Run a native method body with a JNI environment; a JNI failure (out of memory while
/// creating the reply string) becomes a Java RuntimeException, as jni's policy names it.
fn native<'local>(env: &mut EnvUnowned<'local>, body: impl FnOnce(&mut Env<'local>) -> jni::errors::Result<Value>) -> JString<'local> {
    env.with_env(|env| -> jni::errors::Result<JString<'local>> {
        let value = body(env)?;
        JString::from_str(env, value.to_string())
    })
    .resolve::<ThrowRuntimeExAndDefault>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_dbconsultant_NativeConsultant_open<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    store: JString<'local>,
) -> JString<'local> {
    native(&mut env, |env| {
        let store = read(env, &store)?;
        Ok(guarded(move || {
            let runtime =
                match tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("dbconsultant").enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => return error_envelope("internal", &format!("cannot start the async runtime: {e}")),
                };
            match runtime.block_on(Consultant::open(ConsultantOptions { store })) {
                Ok(consultant) => {
                    let handle = Box::into_raw(Box::new(Handle { runtime, consultant })) as jlong;
                    json!({ "ok": handle })
                }
                Err(e) => from_error(e),
            }
        }))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_dbconsultant_NativeConsultant_call<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    op: JString<'local>,
    request: JString<'local>,
) -> JString<'local> {
    native(&mut env, |env| {
        let op = read(env, &op)?.unwrap_or_default();
        let request = read(env, &request)?.unwrap_or_default();
        Ok(guarded(move || {
            if handle == 0 {
                return error_envelope("internal", "the client is closed");
            }
            // SAFETY: the Java side hands out handles from `open` and keeps them alive (under a
            // read lock) until `close`, which takes the write lock.
            let handle = unsafe { &*(handle as *const Handle) };
            if op == "__panic_for_tests" {
                panic!("deliberate panic for tests");
            }
            let request: Value = match serde_json::from_str(&request) {
                Ok(v) => v,
                Err(e) => return error_envelope("invalid_input", &format!("request is not JSON: {e}")),
            };
            match handle.runtime.block_on(api::call(&handle.consultant, &op, request)) {
                Ok(v) => json!({ "ok": v }),
                Err(e) => from_error(e),
            }
        }))
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_dbconsultant_NativeConsultant_close<'local>(
    _env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    if handle != 0 {
        // SAFETY: called once per handle by the Java side, after every call has returned.
        let handle = unsafe { Box::from_raw(handle as *mut Handle) };
        let Handle { runtime, consultant } = *handle;
        // Close the store's connections before returning: a SQLite store in WAL mode removes
        // its -wal file on the last close, which must not race the caller deleting the folder.
        runtime.block_on(consultant.store().close());
        drop(consultant);
        runtime.shutdown_background();
    }
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_dbconsultant_NativeConsultant_registry<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    env.with_env(|env| -> jni::errors::Result<JString<'local>> {
        JString::from_str(env, dbconsultant::ops::describe(dbconsultant::ops::registry()).to_string())
    })
    .resolve::<ThrowRuntimeExAndDefault>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_dbconsultant_NativeConsultant_version<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    env.with_env(|env| -> jni::errors::Result<JString<'local>> { JString::from_str(env, dbconsultant::VERSION) })
        .resolve::<ThrowRuntimeExAndDefault>()
}
