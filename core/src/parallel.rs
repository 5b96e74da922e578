//! CPU-bound work (splitting and parsing migration files, running the rules over statements)
//! on every core. The pool is our own rather than rayon's global one: its threads get the
//! stack that walking deeply nested SQL needs (the guard admits nesting that recursive tree
//! walks cannot do in the default 2 MiB), and an embedding application's global pool settings
//! stay its own. `RAYON_NUM_THREADS` still sets its size.

use std::sync::OnceLock;

/// Stack of each worker: the same as the CLI's async runtime threads.
const STACK_BYTES: usize = 32 * 1024 * 1024;

/// Run `work` inside the pool, so rayon's parallel iterators in it use the pool's threads.
pub(crate) fn install<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(STACK_BYTES)
            .thread_name(|i| format!("dbconsultant-cpu-{i}"))
            .build()
            .map_err(|e| tracing::warn!("cannot start the parsing threads, parsing on one: {e}"))
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}
