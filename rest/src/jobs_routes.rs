//! The job endpoints: a queued run's state (`GET jobs/{id}`), its progress as Server-Sent
//! Events (`GET jobs/{id}/events`: one `state` event per change, the last one final), and
//! cancellation (`DELETE jobs/{id}`, by whoever queued it or an admin).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use dbconsultant::ops::Role;
use futures_util::stream;

use crate::jobs::document;
use crate::problem::Problem;
use crate::routes::{authenticate, handle, Answer, Call};
use crate::Service;

/// How often a progress stream looks at its job.
const POLL: Duration = Duration::from_millis(200);

pub(crate) fn routes(router: Router<Arc<Service>>, prefix: &str) -> Router<Arc<Service>> {
    router
        .route(&format!("{prefix}/jobs/{{job_id}}"), get(show).delete(cancel))
        .route(&format!("{prefix}/jobs/{{job_id}}/events"), get(events))
}

async fn show(State(s): State<Arc<Service>>, Path(id): Path<String>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    handle(&s, &path, req, move |s, _call: Call| Box::pin(async move { Ok(Answer::ok(document(&s.consultant.store().job(&id).await?))) }))
        .await
}

async fn cancel(State(s): State<Arc<Service>>, Path(id): Path<String>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    handle(&s, &path, req, move |s, call: Call| {
        Box::pin(async move {
            let store = s.consultant.store();
            let job = store.job(&id).await?;
            if job.requested_by != call.principal.name && !call.principal.may(Role::Admin, None) {
                return Err(Problem::forbidden(format!("{} may not cancel job {id}: {} queued it", call.principal.name, job.requested_by)));
            }
            Ok(Answer { what: format!(" job {id}"), ..Answer::ok(document(&store.cancel_job(&id).await?)) })
        })
    })
    .await
}

async fn events(State(s): State<Arc<Service>>, Path(id): Path<String>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let principal = match authenticate(&s, &path, req.method(), req.headers()).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    if let Err(e) = s.consultant.store().job(&id).await {
        let problem = Problem::from(e);
        s.audit(&principal.name, &format!("GET {path} -> {} {}", problem.details().status, problem.details().kind)).await;
        return problem.at(&path).into_response();
    }
    s.audit(&principal.name, &format!("GET {path} -> 200 (event stream)")).await;
    // (service, job, last document sent, done)
    let updates = stream::unfold((s, id, None::<serde_json::Value>, false), |(s, id, last, done)| async move {
        if done {
            return None;
        }
        loop {
            let job = match s.consultant.store().job(&id).await {
                Ok(job) => job,
                Err(e) => {
                    let event = Event::default().event("error").data(e.to_string());
                    return Some((Ok::<_, Infallible>(event), (s, id, last, true)));
                }
            };
            let doc = document(&job);
            if last.as_ref() != Some(&doc) {
                let event = Event::default().event("state").id(job.updated_at.clone()).data(doc.to_string());
                return Some((Ok(event), (s, id, Some(doc), job.state.finished())));
            }
            tokio::time::sleep(POLL).await;
        }
    });
    Sse::new(updates).keep_alive(KeepAlive::default()).into_response()
}
