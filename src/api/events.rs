//! `GET /api/flows/{id}/events`: a flow's live events as server-sent events that a browser's
//! `EventSource` can follow.
//!
//! Each event is one `event: <name>` line and one `data: <json>` line, flushed as its own chunk.
//! Error records travel as `errorRecord`, never as `error`: a browser's `EventSource` fires
//! `error` for its own connection problems too, and a designer could not tell the two apart.
//! The stream opens with the flow's state and, when it has run, every node's status; it follows
//! the flow across stops and starts, sends a `: keep-alive` comment every 15 s, and ends when the
//! flow is deleted or the server shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use bytes::Bytes;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::error::{ApiError, blocking};
use super::routes::Data;
use crate::runtime::{FlowEvent, FlowState};

/// The server-sent-event name of an event: `status`, `message`, `errorRecord` or `flow`.
pub fn sse_name(event: &FlowEvent) -> &'static str {
    match event {
        FlowEvent::Error { .. } => "errorRecord",
        other => other.name(),
    }
}

/// One server-sent event.
pub fn frame(event: &FlowEvent) -> Bytes {
    let data = serde_json::to_string(&event.data()).expect("event data serialises");
    Bytes::from(format!("event: {}\ndata: {data}\n\n", sse_name(event)))
}

struct Stream {
    initial: VecDeque<Bytes>,
    events: broadcast::Receiver<FlowEvent>,
    keep_alive: tokio::time::Interval,
    shutdown: CancellationToken,
}

impl Stream {
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(first) = self.initial.pop_front() {
            return Some(first);
        }
        tokio::select! {
            _ = self.shutdown.cancelled() => None,
            _ = self.keep_alive.tick() => Some(Bytes::from_static(b": keep-alive\n\n")),
            event = self.events.recv() => match event {
                Ok(event) => Some(frame(&event)),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    Some(Bytes::from(format!(": {n} events skipped (slow reader)\n\n")))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            },
        }
    }
}

/// The event stream's token, for `EventSource`, which cannot set headers.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by the guard (`auth::token_or_query`)
pub struct EventsQuery {
    /// The bearer token.
    token: Option<String>,
}

/// `GET /api/flows/{id}/events`
#[utoipa::path(get, path = "/api/flows/{id}/events", tag = "runtime",
    params(super::routes::FlowPath, EventsQuery),
    responses((status = 200, description = "An endless text/event-stream (status, message, error, \
               flow events; a keep-alive comment every 15 s)", content_type = "text/event-stream",
               body = String),
              (status = "default", description = "Error", body = super::openapi::ErrorDoc)))]
pub async fn events(
    state: Data,
    path: web::Path<super::routes::FlowPath>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    {
        let s = state.clone();
        let id = id.clone();
        blocking(move || s.workspace.store.read(&id).map(drop).map_err(Into::into)).await?;
    }
    // Subscribe before the snapshot, so nothing between the two is lost.
    let events = state.runner.subscribe(&id);
    let mut initial = VecDeque::new();
    initial.push_back(Bytes::from_static(b"retry: 2000\n\n"));
    let handle = state.runner.handle(&id);
    let running = handle.as_ref().is_some_and(|h| h.is_running());
    initial.push_back(frame(&FlowEvent::Flow {
        flow: id.clone(),
        state: if running {
            FlowState::Running
        } else {
            FlowState::Stopped
        },
    }));
    if let Some(h) = handle {
        for (node, status) in h.status().nodes {
            initial.push_back(frame(&FlowEvent::Status { node, status }));
        }
    }
    let period = state.settings.keep_alive.max(Duration::from_millis(10));
    let stream = Stream {
        initial,
        events,
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + period, period),
        shutdown: state.shutdown.clone(),
    };
    let body = futures::stream::unfold(stream, |mut s| async move {
        s.next().await.map(|b| (Ok::<_, Infallible>(b), s))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn error_records_are_never_named_like_the_browsers_connection_error() {
        let record = FlowEvent::Error {
            node: "lambda1".into(),
            record: json!({"error": {"type": "connection"}}),
        };
        let text = String::from_utf8(frame(&record).to_vec()).unwrap();
        assert!(text.starts_with("event: errorRecord\ndata: {"), "{text}");
        assert!(text.contains("\"node\":\"lambda1\""), "{text}");
        let flow = FlowEvent::Flow {
            flow: "demo".into(),
            state: FlowState::Running,
        };
        assert!(frame(&flow).starts_with(b"event: flow\n"));
    }
}
