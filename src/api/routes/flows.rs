//! Flow documents and their life cycle: list, get, put, delete, start, stop, status.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{Data, FlowPath, IfMatch, parse_json};
use crate::api::error::{ApiError, blocking};
use crate::api::openapi::{ErrorDoc, FlowDocument, FlowStatusDoc};
use crate::api::workspace::FlowSummary;
use crate::flow::store::Precondition;
use crate::runtime::{FlowState, FlowStatus, NodeState, NodeStatus};

/// `GET /api/flows`
#[utoipa::path(get, path = "/api/flows", tag = "flows",
    responses((status = 200, description = "Every flow in the store", body = Vec<FlowSummary>), (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn list(state: Data) -> Result<HttpResponse, ApiError> {
    let s = state.clone();
    let mut summaries = blocking(move || s.workspace.summaries()).await?;
    for summary in &mut summaries {
        if state.runner.is_running(&summary.id) {
            summary.state = "running";
        }
    }
    Ok(HttpResponse::Ok().json(summaries))
}

fn etag(rev: &str) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{rev}\""))
}

/// `GET /api/flows/{id}`
#[utoipa::path(get, path = "/api/flows/{id}", tag = "flows", params(FlowPath),
    responses((status = 200, description = "The flow document with its rev (never a secret)",
               body = FlowDocument, headers(("ETag" = String, description = "The rev, quoted"))),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn get(state: Data, path: web::Path<FlowPath>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let (doc, rev) = blocking(move || state.workspace.document(&id)).await?;
    Ok(HttpResponse::Ok().insert_header(etag(&rev)).json(doc))
}

fn precondition(req: &HttpRequest) -> Result<Precondition, ApiError> {
    let if_match = match req.headers().get(header::IF_MATCH) {
        None => None,
        Some(v) => Some(Precondition::parse_if_match(v.to_str().map_err(|_| {
            ApiError::bad_request("the If-Match header is not valid text")
        })?)),
    };
    Ok(Precondition {
        if_match,
        rev: None,
    })
}

/// `PUT /api/flows/{id}`
#[utoipa::path(put, path = "/api/flows/{id}", tag = "flows", params(FlowPath, IfMatch),
    request_body = FlowDocument,
    responses((status = 200, description = "Saved", body = FlowDocument,
               headers(("ETag" = String, description = "The new rev, quoted"))),
              (status = 201, description = "Created", body = FlowDocument,
               headers(("ETag" = String, description = "The new rev, quoted"))),
              (status = 409, description = "Stale rev in the body", body = ErrorDoc),
              (status = 412, description = "Stale If-Match", body = ErrorDoc),
              (status = 422, description = "Invalid: every problem with its node and pointer",
               body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn put(
    state: Data,
    path: web::Path<FlowPath>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let precondition = precondition(&req)?;
    let body: Value = parse_json(&body)?;
    let saved = blocking(move || state.workspace.save(&id, body, precondition)).await?;
    let mut res = if saved.created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.insert_header(etag(&saved.rev)).json(saved.document))
}

/// `DELETE /api/flows/{id}`: stops the flow if it runs, removes its file and secrets.
#[utoipa::path(delete, path = "/api/flows/{id}", tag = "flows", params(FlowPath, IfMatch),
    responses((status = 204, description = "Deleted (stopped first, secrets forgotten)"),
              (status = 412, description = "Stale If-Match", body = ErrorDoc), (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn delete(
    state: Data,
    path: web::Path<FlowPath>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let precondition = precondition(&req)?;
    let s = state.clone();
    let flow = id.clone();
    blocking(move || s.workspace.delete(&flow, precondition)).await?;
    state.runner.forget(&id, state.settings.drain).await;
    Ok(HttpResponse::NoContent().finish())
}

/// The status of a flow that is not running and never ran in this server.
fn idle_status(id: &str, nodes: Vec<(String, String)>) -> FlowStatus {
    FlowStatus {
        flow: id.to_owned(),
        state: FlowState::Stopped,
        nodes: nodes
            .into_iter()
            .map(|(node, _)| {
                (
                    node,
                    NodeStatus {
                        state: NodeState::Stopped,
                        received: 0,
                        emitted: 0,
                        errors: 0,
                        discarded: 0,
                        last_error: None,
                        concurrency_limit: None,
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
    }
}

/// The status of a flow: its current or last run, else every node stopped with zero counts.
pub(crate) async fn status_of(state: &Data, id: &str) -> Result<FlowStatus, ApiError> {
    let s = state.clone();
    let flow = id.to_owned();
    let nodes = blocking(move || s.workspace.nodes(&flow)).await?;
    Ok(match state.runner.handle(id) {
        Some(h) => h.status(),
        None => idle_status(id, nodes),
    })
}

/// The stored flow `id` ready to start (secrets merged in), with the document and revision the
/// run is deployed from; 404 when there is none, 422 when it is invalid.
pub(super) async fn load_for_run(
    state: &Data,
    id: &str,
) -> Result<(crate::flow::Flow, Value, String), ApiError> {
    let s = state.clone();
    let id = id.to_owned();
    blocking(move || {
        let (document, rev) = s.workspace.document(&id)?;
        Ok((s.workspace.runnable(&id)?, document, rev))
    })
    .await
}

/// `POST /api/flows/{id}/start`
#[utoipa::path(post, path = "/api/flows/{id}/start", tag = "runtime", params(FlowPath),
    responses((status = 200, description = "Running (idempotent)", body = FlowStatusDoc),
              (status = 422, description = "The stored flow is invalid", body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn start(state: Data, path: web::Path<FlowPath>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let (flow, document, rev) = load_for_run(&state, &id).await?;
    let was_running = state.runner.is_running(&id);
    let status = state.runner.start(&flow).await?;
    if !was_running {
        state.runner.note_deployed(&id, &rev, document);
    }
    Ok(HttpResponse::Ok().json(status))
}

/// `POST /api/flows/{id}/stop`
#[utoipa::path(post, path = "/api/flows/{id}/stop", tag = "runtime", params(FlowPath),
    responses((status = 200, description = "Stopped; in-flight work drained (idempotent)",
               body = FlowStatusDoc), (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn stop(state: Data, path: web::Path<FlowPath>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let status = status_of(&state, &id).await?; // 404 for unknown flows
    let status = state
        .runner
        .stop(&id, state.settings.drain)
        .await
        .unwrap_or(status);
    Ok(HttpResponse::Ok().json(status))
}

/// `GET /api/flows/{id}/status`
#[utoipa::path(get, path = "/api/flows/{id}/status", tag = "runtime", params(FlowPath),
    responses((status = 200, description = "Per-node state, counters and last error",
               body = FlowStatusDoc), (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn status(state: Data, path: web::Path<FlowPath>) -> Result<HttpResponse, ApiError> {
    let status = status_of(&state, &path.into_inner().id).await?;
    Ok(HttpResponse::Ok().json(json!(status)))
}
