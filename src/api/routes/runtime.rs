//! Commands to the nodes of a running flow: Feeder send, Display (and Feeder) messages.

use std::time::Duration;

use actix_web::{HttpResponse, web};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Data, NodePath, parse_body};
use crate::api::error::{ApiError, blocking};
use crate::api::openapi::{BodyEncodingDoc, ErrorDoc, MessageDoc, PropertyValueDoc};
use crate::flow::validate::without_values;
use crate::message::{BodyEncoding, Message, Properties, check_properties};
use crate::runtime::{RuntimeError, SendRequest};

/// Most messages one send request may ask for.
const MAX_COUNT: u64 = 1_000_000;
/// Longest interval between two sends.
const MAX_INTERVAL_MS: u64 = 3_600_000;
/// How long a send waits for a Feeder busy with an earlier send.
const SEND_WAIT: Duration = Duration::from_secs(10);

/// What to send: a message (`body` and, with it, `contentType` and `properties`), or without
/// `body` the Feeder's default message; `count` times, `intervalMs` apart.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SendBody {
    /// The body: text, or base64 with `bodyEncoding: base64`. Absent: the default message.
    body: Option<String>,
    /// How `body` is written (default utf8).
    #[schema(value_type = Option<BodyEncodingDoc>)]
    body_encoding: Option<BodyEncoding>,
    /// MIME type of the body (only with `body`).
    content_type: Option<String>,
    /// Header properties (only with `body`).
    #[schema(value_type = Option<BTreeMap<String, PropertyValueDoc>>)]
    properties: Option<Properties>,
    /// How many times (default 1).
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    count: Option<u64>,
    /// Milliseconds between two sends (default 0).
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(minimum = 0, maximum = 3_600_000)]
    interval_ms: Option<u64>,
}

/// A JSON integer, also written with a zero fraction (`5.0`), as JSON Schema's `integer` allows.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let number: Option<f64> = Option::deserialize(d)?;
    match number {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&n) => Ok(Some(n as u64)),
        Some(_) => Err(serde::de::Error::custom(
            "invalid value: expected a whole number from 0",
        )),
    }
}

/// A whole number in a query string (`5`, or `5.0`).
fn parse_whole(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().or_else(|| {
        let n: f64 = text.parse().ok()?;
        (n.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&n)).then_some(n as u64)
    })
}

/// How many messages a send accepted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// Messages accepted.
    accepted: u64,
}

/// One page of a node's kept messages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessagesPage {
    /// Oldest first.
    #[schema(value_type = Vec<MessageDoc>)]
    messages: Vec<Message>,
    /// Messages received since the flow started (the last is number `total`).
    total: u64,
    /// The number of this page's last message: the `after` of the next page.
    next: u64,
}

/// The query of `GET …/messages`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by `Page::parse`, which words its own errors
pub struct PageQuery {
    /// Messages per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u64>,
    /// Start after the message with this number (default 0: the oldest kept).
    #[param(minimum = 0)]
    after: Option<u64>,
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
        // Property values must be scalars: a shape error (400), like the others above.
        if let Some(properties) = &self.properties {
            check_properties(properties).map_err(|e| ApiError::bad_field(e.pointer, e.message))?;
        }
        let message =
            match self.body {
                None if self.content_type.is_some() || self.properties.is_some() => {
                    return Err(ApiError::unprocessable(
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
                    Some(Message::from_json(&wire).map_err(|e| {
                        ApiError::unprocessable(e.pointer, without_values(&e.message))
                    })?)
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
            node: node.into(),
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
#[utoipa::path(post, path = "/api/flows/{id}/nodes/{node}/send", tag = "runtime",
    params(NodePath), request_body(content = Option<SendBody>, description = "Empty: the default message once"),
    responses((status = 202, description = "Accepted", body = Accepted),
              (status = 409, description = "The flow is not running", body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn send(
    state: Data,
    path: web::Path<NodePath>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let NodePath { id, node } = path.into_inner();
    // No body, or JSON null: the Feeder's default message, once.
    let empty = body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null";
    let request = if empty {
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
    Ok(HttpResponse::Accepted().json(Accepted { accepted }))
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
            "flow \"{id}\" has no such node"
        )))
    }
}

/// Messages per page when `limit` is not given.
pub const DEFAULT_PAGE: usize = 100;
/// Largest `limit`.
pub const MAX_PAGE: usize = 1000;

/// One page of kept messages: `limit` and `after` from the query string.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    limit: usize,
    after: u64,
}

impl Page {
    fn parse(query: &str) -> Result<Page, ApiError> {
        let mut page = Page {
            limit: DEFAULT_PAGE,
            after: 0,
        };
        for (key, value) in form_urlencoded_pairs(query) {
            match key.as_str() {
                "limit" => {
                    page.limit = parse_whole(&value)
                        .map(|n| n as usize)
                        .filter(|n| (1..=MAX_PAGE).contains(n))
                        .ok_or_else(|| {
                            ApiError::bad_field(
                                "/limit",
                                format!("limit must be a whole number from 1 to {MAX_PAGE}"),
                            )
                        })?;
                }
                "after" => {
                    page.after = parse_whole(&value).ok_or_else(|| {
                        ApiError::bad_field(
                            "/after",
                            "after must be a whole number (the `next` of the previous page)",
                        )
                    })?;
                }
                _ => {
                    return Err(ApiError::bad_field(
                        "",
                        "unknown query parameter; use limit and after",
                    ));
                }
            }
        }
        Ok(page)
    }
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(query)
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

/// `GET /api/flows/{id}/nodes/{node}/messages?limit=&after=`: the kept messages numbered from 1
/// (the first ever received) to `total`, oldest first; a page holds up to `limit` of those
/// numbered above `after`, and `next` is the `after` of the following page.
#[utoipa::path(get, path = "/api/flows/{id}/nodes/{node}/messages", tag = "runtime",
    params(NodePath, PageQuery),
    responses((status = 200, description = "Display: received; Feeder: sent", body = MessagesPage),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn messages(
    state: Data,
    path: web::Path<NodePath>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let NodePath { id, node } = path.into_inner();
    let page = Page::parse(req.query_string())?;
    flow_exists(&state, &id).await?;
    let (messages, total) = match state.runner.handle(&id) {
        Some(h) => h.messages(&node)?,
        None => {
            node_exists(&state, &id, &node).await?;
            (Vec::new(), 0)
        }
    };
    // The kept messages are the last ones received: the first of them is number
    // `total - kept + 1`.
    let first = total.saturating_sub(messages.len() as u64) + 1;
    let skip = page
        .after
        .saturating_sub(first - 1)
        .min(messages.len() as u64) as usize;
    let taken: Vec<_> = messages.into_iter().skip(skip).take(page.limit).collect();
    let next = (first - 1 + skip as u64 + taken.len() as u64).max(page.after.min(total));
    Ok(HttpResponse::Ok().json(MessagesPage {
        messages: taken,
        total,
        next,
    }))
}

/// `DELETE /api/flows/{id}/nodes/{node}/messages`
#[utoipa::path(delete, path = "/api/flows/{id}/nodes/{node}/messages", tag = "runtime",
    params(NodePath),
    responses((status = 204, description = "The kept messages are forgotten (the total stays)"),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn clear_messages(
    state: Data,
    path: web::Path<NodePath>,
) -> Result<HttpResponse, ApiError> {
    let NodePath { id, node } = path.into_inner();
    flow_exists(&state, &id).await?;
    match state.runner.handle(&id) {
        Some(h) => h.clear_messages(&node)?,
        None => node_exists(&state, &id, &node).await?,
    }
    Ok(HttpResponse::NoContent().finish())
}
