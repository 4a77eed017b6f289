//! Component descriptors and the component test route (Fiorano's Test button).
//!
//! A test names the flow and node being edited (`flow`, `node`): its error records say
//! `{"component": {"flow": "<flow>", "node": "<node>"}}` as the same failure in the running flow
//! would, never the harness's own names. A node not saved yet is tested without stored secrets.

use std::time::Instant;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Data, parse_body};
use crate::api::error::{ApiError, blocking};
use crate::api::secrets::{merge_secrets, take_secrets};
use crate::api::workspace::secret_pointers;
use crate::message::Message;
use crate::runtime::{Harness, registry};

/// `GET /api/components`
pub async fn list() -> HttpResponse {
    let all: Vec<Value> = registry::global().iter().map(|c| c.descriptor()).collect();
    HttpResponse::Ok().json(all)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestBody {
    #[serde(default)]
    config: Option<Value>,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    flow: Option<String>,
    #[serde(default)]
    node: Option<String>,
}

/// A node's config with the stored secrets of `flow`/`node` standing in for absent or empty
/// ones (in memory only).
pub(crate) async fn config_with_stored_secrets(
    state: &Data,
    component_type: &'static str,
    mut config: Value,
    flow: Option<String>,
    node: Option<String>,
    config_pointer: &str,
) -> Result<Value, ApiError> {
    if !config.is_object() {
        return Err(ApiError::bad_field(
            config_pointer,
            "must be an object (the node's property sheet)",
        ));
    }
    let pointers = secret_pointers(component_type);
    let sent = take_secrets(&mut config, &pointers);
    merge_secrets(&mut config, &sent);
    match (flow, node) {
        (Some(flow), Some(node)) => {
            let s = state.clone();
            let stored =
                blocking(move || s.workspace.node_secrets(&flow, &node, component_type)).await?;
            merge_secrets(&mut config, &stored);
        }
        (None, None) => {}
        _ => {
            return Err(ApiError::bad_field(
                "/node",
                "give both flow and node to use a node's stored secrets",
            ));
        }
    }
    Ok(config)
}

/// `POST /api/components/{type}/test`: runs one component on one message and returns what
/// reached `out` and `error`.
pub async fn test(
    state: Data,
    component: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let component = component.into_inner();
    let compiled = registry::global()
        .get(&component)
        .ok_or_else(|| ApiError::NotFound(format!("unknown component type \"{component}\"")))?;
    let body: TestBody = parse_body(&body)?;
    let message = match &body.message {
        None => Message::new(""),
        Some(m) => Message::from_json(m)
            .map_err(|e| ApiError::bad_field(format!("/message{}", e.pointer), e.message))?,
    };
    let node_id = body.node.clone().unwrap_or_else(|| component.clone());
    let flow_label = body.flow.clone();
    // A node added since the last save has no stored secrets yet: it is tested as it is.
    let (secrets_flow, secrets_node) = match (body.flow, body.node) {
        (Some(flow), Some(node)) if !is_stored(&state, &flow, &node).await => (None, None),
        pair => pair,
    };
    let config = config_with_stored_secrets(
        &state,
        compiled.spec.type_name,
        body.config.unwrap_or_else(|| Value::Object(Map::new())),
        secrets_flow,
        secrets_node,
        "/config",
    )
    .await?;

    let started = Instant::now();
    let harness = {
        let _in_engine = state.runner.engine().enter();
        Harness::start(compiled.spec.type_name, &node_id, &config).map_err(|details| {
            ApiError::Invalid {
                message: format!("the {component} configuration is invalid"),
                details,
            }
        })?
    };
    drop(config);
    // The node owns its input until it ends; a node that never reads it (a Feeder) leaves
    // the message queued, which is what its Test button does too.
    harness
        .send(message)
        .await
        .map_err(|e| ApiError::Conflict(format!("the test node ended early: {e}")))?;
    let mut collected = harness.stop(state.settings.test_timeout).await;
    if let Some(flow) = &flow_label {
        for record in &mut collected.error {
            name_flow(record, flow);
        }
    }
    let duration_ms = started.elapsed().as_millis() as u64;
    tracing::info!(component = %component, out = collected.out.len(), error = collected.error.len(),
        duration_ms, "Component tested.");
    Ok(HttpResponse::Ok().json(json!({
        "out": collected.out,
        "error": collected.error,
        "durationMs": duration_ms,
        "status": collected.status,
    })))
}

/// Whether the stored flow `flow` has a node `node`.
async fn is_stored(state: &Data, flow: &str, node: &str) -> bool {
    let s = state.clone();
    let (flow, node) = (flow.to_owned(), node.to_owned());
    blocking(move || s.workspace.nodes(&flow))
        .await
        .is_ok_and(|nodes| nodes.iter().any(|(id, _)| *id == node))
}

/// Puts the flow being edited into an error record's `component.flow`, where the harness that
/// ran the test wrote its own name.
fn name_flow(record: &mut Message, flow: &str) {
    let Some(mut value) = record.body_json() else {
        return;
    };
    let Some(component) = value.get_mut("component").and_then(Value::as_object_mut) else {
        return;
    };
    component.insert("flow".into(), Value::String(flow.to_owned()));
    record.body = serde_json::to_vec(&value)
        .expect("a JSON value serialises")
        .into();
}
