//! Deploy, as Node-RED's: apply the stored version of a flow to its run, and say which version
//! runs so that the designer can mark what changed since.
//!
//! `POST /api/flows/{id}/deploy` starts a stopped flow, or restarts a running one whose stored
//! version differs from the one it runs. A restart is a stop followed by a start: the stop lets
//! the old run drain (queued and in-flight messages are processed, within the server's drain
//! bound) before the new version takes over, so no queued message is lost. Nodes are not
//! restarted one by one: every node of the flow restarts (its counters and Display history start
//! afresh, as with any start).

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::{Data, FlowPath};
use crate::api::error::{ApiError, blocking};
use crate::api::openapi::{DeployDoc, DeployedDoc, ErrorDoc};

/// `POST /api/flows/{id}/deploy`
#[utoipa::path(post, path = "/api/flows/{id}/deploy", tag = "runtime", params(FlowPath),
    responses((status = 200, description = "The saved version runs (started, restarted after \
               draining, or unchanged)", body = DeployDoc),
              (status = 422, description = "The stored flow is invalid", body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn deploy(state: Data, path: web::Path<FlowPath>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let (flow, document, rev) = super::flows::load_for_run(&state, &id).await?;
    let running = state.runner.is_running(&id);
    let unchanged = running && state.runner.deployed(&id).is_some_and(|(r, _)| r == rev);
    let restarted = running && !unchanged;
    if restarted {
        state.runner.stop(&id, state.settings.drain).await;
        tracing::info!(flow = %id, "Flow redeployed: restarting with the saved version.");
    }
    let status = state.runner.start(&flow).await?;
    state.runner.note_deployed(&id, &rev, document);
    Ok(HttpResponse::Ok().json(json!({
        "status": status,
        "rev": rev,
        "restarted": restarted,
        "unchanged": unchanged,
    })))
}

/// `GET /api/flows/{id}/deploy`: the version the flow's current or last run was deployed from.
#[utoipa::path(get, path = "/api/flows/{id}/deploy", tag = "runtime", params(FlowPath),
    responses((status = 200, description = "Whether it runs, and the version its run started \
               from (null before the first run)", body = DeployedDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn deployed(state: Data, path: web::Path<FlowPath>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    {
        let s = state.clone();
        let id = id.clone();
        blocking(move || s.workspace.store.read(&id).map(drop).map_err(Into::into)).await?; // 404
    }
    let running = state.runner.is_running(&id);
    let (rev, flow) = match state.runner.deployed(&id) {
        Some((rev, flow)) => (Value::String(rev), flow),
        None => (Value::Null, Value::Null),
    };
    Ok(HttpResponse::Ok().json(json!({"running": running, "rev": rev, "flow": flow})))
}
