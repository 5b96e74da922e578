//! JNI entry points of `io.dbconsultant.NativeConsultant`. A client owns a native handle: its
//! own tokio runtime and `Consultant`. Every call takes a JSON request and returns a JSON
//! envelope — `{"ok": result}` or `{"error": {"kind", "message"}}` — so no Java exception is
//! thrown from native code and a panic becomes an `internal` error, never a JVM abort.

use std::panic::AssertUnwindSafe;

use dbconsultant::{api, Consultant, ConsultantOptions, Error};
use jni::objects::{JClass, JString};
use jni::sys::{jlong, jstring};
use jni::JNIEnv;
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

fn read(env: &mut JNIEnv, s: &JString) -> Option<String> {
    if s.is_null() {
        return None;
    }
    env.get_string(s).ok().map(Into::into)
}

fn reply(env: &mut JNIEnv, value: Value) -> jstring {
    env.new_string(value.to_string()).map(|s| s.into_raw()).unwrap_or(std::ptr::null_mut())
}

#[no_mangle]
pub extern "system" fn Java_io_dbconsultant_NativeConsultant_open<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    store: JString<'local>,
) -> jstring {
    let store = read(&mut env, &store);
    let value = guarded(move || {
        let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("dbconsultant").enable_all().build() {
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
    });
    reply(&mut env, value)
}

#[no_mangle]
pub extern "system" fn Java_io_dbconsultant_NativeConsultant_call<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    op: JString<'local>,
    request: JString<'local>,
) -> jstring {
    let op = read(&mut env, &op).unwrap_or_default();
    let request = read(&mut env, &request).unwrap_or_default();
    let value = guarded(move || {
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
    });
    reply(&mut env, value)
}

#[no_mangle]
pub extern "system" fn Java_io_dbconsultant_NativeConsultant_close<'local>(_env: JNIEnv<'local>, _class: JClass<'local>, handle: jlong) {
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
