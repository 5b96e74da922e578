//! The audit of every request, committed in groups: each request hands its line to one writer
//! and waits until it is stored (a request is answered only once it is audited); the writer
//! stores whatever lines have arrived meanwhile in one transaction. Under load that is one
//! commit for many requests instead of one each; idle, a line is stored at once.

use dbconsultant::store::Store;
use tokio::sync::{mpsc, oneshot};

/// Most lines one transaction stores.
const BATCH: usize = 500;

type Line = (String, String, oneshot::Sender<()>);

pub(crate) struct Auditor {
    lines: mpsc::Sender<Line>,
}

impl Auditor {
    /// Start the writer (needs a tokio runtime).
    pub fn start(store: Store) -> Auditor {
        let (lines, mut incoming) = mpsc::channel::<Line>(4 * BATCH);
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match incoming.try_recv() {
                        Ok(line) => batch.push(line),
                        Err(_) => break,
                    }
                }
                let events: Vec<(String, String, String)> =
                    batch.iter().map(|(actor, details, _)| ("rest_request".to_string(), actor.clone(), details.clone())).collect();
                if let Err(e) = store.record_events(&events).await {
                    tracing::warn!("{} audit events not stored: {e}", events.len());
                }
                for (_, _, done) in batch {
                    let _ = done.send(());
                }
            }
        });
        Auditor { lines }
    }

    /// Store one line; returns once it is stored (or the store failed, which is logged: the
    /// answer still goes out).
    pub async fn record(&self, actor: &str, details: &str) {
        let (done, stored) = oneshot::channel();
        if self.lines.send((actor.to_string(), details.to_string(), done)).await.is_ok() {
            let _ = stored.await;
        }
    }
}
