//! Deploy, as Node-RED's: apply the stored version of a flow to its run, and say which version
//! runs so that the designer can mark what changed since.
//!
//! `POST /api/flows/{id}/deploy` starts a stopped flow, or applies the stored version to a
//! running one. When only node configs changed (same nodes, types and edges), just those nodes
//! are redeployed: each finishes the work it holds, then its new version takes over its input
//! queue, outputs and counters (`"redeployed": [ids]`; a change of names or positions only
//! redeploys nothing). Otherwise the flow restarts: the stop lets the old run drain (queued and
//! in-flight messages are processed, within the server's drain bound) before the new version
//! starts, so no queued message is lost; every node then starts afresh. With `serve --nats`, a flow with JetStream edges is deployed to
//! the workers instead (`lf_flows`), and `GET /api/flows/{id}/workers` shows them.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::{Data, FlowPath};
use crate::api::error::{ApiError, blocking};
use crate::api::openapi::{DeployDoc, DeployedDoc, ErrorDoc, WorkersDoc};

/// `POST /api/flows/{id}/deploy`
#[utoipa::path(post, path = "/api/flows/{id}/deploy", tag = "runtime", params(FlowPath),
    responses((status = 200, description = "The saved version runs (started, restarted after \
               draining, or unchanged)", body = DeployDoc),
              (status = 422, description = "The stored flow is invalid", body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn deploy(state: Data, path: web::Path<FlowPath>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let (flow, document, rev) = super::flows::load_for_run(&state, &id).await?;
    // A flow with JetStream edges runs in the workers that follow it, not in the server.
    if state.broker.is_configured() && flow.edges.iter().any(|e| !e.transport.is_local()) {
        let file = {
            let s = state.clone();
            let id = id.clone();
            blocking(move || Ok(s.workspace.store.read(&id)?)).await?
        };
        let stored: Value = serde_json::from_slice(&file.bytes)
            .map_err(|_| ApiError::Internal("the stored flow is not JSON".into()))?;
        let revision = state
            .broker
            .deploy(state.runner.engine(), &id, &stored)
            .await?;
        state.runner.note_deployed(&id, &rev, document);
        tracing::info!(flow = %id, revision, "Flow deployed to the workers.");
        return Ok(HttpResponse::Ok().json(json!({
            "status": {"flow": id, "state": "stopped", "nodes": {}},
            "rev": rev,
            "restarted": false,
            "unchanged": false,
            "workers": {"revision": revision},
        })));
    }
    let running = state.runner.is_running(&id);
    let unchanged = running && state.runner.deployed(&id).is_some_and(|(r, _)| r == rev);
    // Only node configs changed: those nodes take their new version, the rest runs on.
    if running
        && !unchanged
        && let Some(redeployed) = state.runner.redeploy_nodes(&flow).await?
    {
        state.runner.note_deployed(&id, &rev, document);
        let status = state
            .runner
            .handle(&id)
            .map(|h| h.status())
            .ok_or_else(|| ApiError::Internal("the flow stopped while redeploying".into()))?;
        return Ok(HttpResponse::Ok().json(json!({
            "status": status,
            "rev": rev,
            "restarted": false,
            "unchanged": false,
            "redeployed": redeployed,
        })));
    }
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

/// `GET /api/flows/{id}/workers`: the workers running the flow on JetStream edges, each with its
/// nodes' counters (`nats: false` when the server was started without `--nats`).
#[utoipa::path(get, path = "/api/flows/{id}/workers", tag = "runtime", params(FlowPath),
    responses((status = 200, description = "The flow's workers and their node counters",
               body = WorkersDoc),
              (status = 502, description = "The NATS server failed", body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn workers(state: Data, path: web::Path<FlowPath>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    {
        let s = state.clone();
        let id = id.clone();
        blocking(move || s.workspace.store.read(&id).map(drop).map_err(Into::into)).await?; // 404
    }
    if !state.broker.is_configured() {
        return Ok(HttpResponse::Ok().json(json!({"nats": false, "workers": []})));
    }
    let workers = state.broker.workers(state.runner.engine(), &id).await?;
    Ok(HttpResponse::Ok().json(json!({"nats": true, "workers": workers})))
}
