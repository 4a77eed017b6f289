//! Commands to the nodes of a running flow: Feeder send, Display (and Feeder) messages.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{Data, parse_body};
use crate::api::error::{ApiError, blocking};
use crate::message::{BodyEncoding, Message, Properties};
use crate::runtime::{RuntimeError, SendRequest};

/// Most messages one send request may ask for.
const MAX_COUNT: u64 = 1_000_000;
/// Longest interval between two sends.
const MAX_INTERVAL_MS: u64 = 3_600_000;
/// How long a send waits for a Feeder busy with an earlier send.
const SEND_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SendBody {
    body: Option<String>,
    body_encoding: Option<BodyEncoding>,
    content_type: Option<String>,
    properties: Option<Properties>,
    count: Option<u64>,
    interval_ms: Option<u64>,
}

impl SendBody {
    fn into_request(self) -> Result<SendRequest, ApiError> {
        let count = self.count.unwrap_or(1);
        if !(1..=MAX_COUNT).contains(&count) {
            return Err(ApiError::bad_field(
                "/count",
                format!("count must be between 1 and {MAX_COUNT}"),
            ));
        }
        let interval_ms = self.interval_ms.unwrap_or(0);
        if interval_ms > MAX_INTERVAL_MS {
            return Err(ApiError::bad_field(
                "/intervalMs",
                format!("intervalMs must be at most {MAX_INTERVAL_MS}"),
            ));
        }
        let message = match self.body {
            None if self.content_type.is_some() || self.properties.is_some() => {
                return Err(ApiError::bad_field(
                    "/body",
                    "contentType and properties need a body; leave all three out to send the \
                     Feeder's default message",
                ));
            }
            None => None,
            Some(body) => {
                let wire = json!({
                    "body": body,
                    "bodyEncoding": self.body_encoding.unwrap_or_default(),
                    "contentType": self.content_type,
                    "properties": self.properties.unwrap_or_default(),
                });
                Some(
                    Message::from_json(&wire)
                        .map_err(|e| ApiError::bad_field(e.pointer, e.message))?,
                )
            }
        };
        Ok(SendRequest {
            message,
            count,
            interval: Duration::from_millis(interval_ms),
        })
    }
}

/// Fills in the node id the Feeder leaves empty in its errors.
fn with_node(e: RuntimeError, node: &str) -> ApiError {
    match e {
        RuntimeError::BadRequest { node: n, message } if n.is_empty() => RuntimeError::BadRequest {
            node: node.to_owned(),
            message,
        }
        .into(),
        other => other.into(),
    }
}

async fn flow_exists(state: &Data, id: &str) -> Result<(), ApiError> {
    let s = state.clone();
    let id = id.to_owned();
    blocking(move || s.workspace.store.read(&id).map(drop).map_err(Into::into)).await
}

/// `POST /api/flows/{id}/nodes/{node}/send`
pub async fn send(
    state: Data,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (id, node) = path.into_inner();
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        SendBody::default()
    } else {
        parse_body::<SendBody>(&body)?
    }
    .into_request()?;
    flow_exists(&state, &id).await?;
    let handle = state
        .runner
        .handle(&id)
        .filter(|h| h.is_running())
        .ok_or_else(|| {
            ApiError::Conflict(format!("flow \"{id}\" is not running; start it first"))
        })?;
    let accepted = tokio::time::timeout(SEND_WAIT, handle.send(&node, request))
        .await
        .map_err(|_| {
            ApiError::Conflict(format!(
                "node \"{node}\" is still busy with an earlier send; try again later"
            ))
        })?
        .map_err(|e| with_node(e, &node))?;
    Ok(HttpResponse::Accepted().json(json!({ "accepted": accepted })))
}

/// Checks the node exists in the stored flow (for flows without a run).
async fn node_exists(state: &Data, id: &str, node: &str) -> Result<(), ApiError> {
    let s = state.clone();
    let flow = id.to_owned();
    let nodes = blocking(move || s.workspace.nodes(&flow)).await?;
    if nodes.iter().any(|(n, _)| n == node) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "flow \"{id}\" has no node \"{node}\""
        )))
    }
}

/// `GET /api/flows/{id}/nodes/{node}/messages`
pub async fn messages(
    state: Data,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, node) = path.into_inner();
    flow_exists(&state, &id).await?;
    let (messages, total) = match state.runner.handle(&id) {
        Some(h) => h.messages(&node)?,
        None => {
            node_exists(&state, &id, &node).await?;
            (Vec::new(), 0)
        }
    };
    Ok(HttpResponse::Ok().json(json!({ "messages": messages, "total": total })))
}

/// `DELETE /api/flows/{id}/nodes/{node}/messages`
pub async fn clear_messages(
    state: Data,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, node) = path.into_inner();
    flow_exists(&state, &id).await?;
    match state.runner.handle(&id) {
        Some(h) => h.clear_messages(&node)?,
        None => node_exists(&state, &id, &node).await?,
    }
    Ok(HttpResponse::NoContent().finish())
}
