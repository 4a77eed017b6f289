//! Component descriptors and the component test route (Fiorano's Test button).

use std::time::Instant;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Data, parse_body};
use crate::api::error::{ApiError, blocking};
use crate::api::secrets::{merge_secrets, take_secrets};
use crate::api::workspace::secret_pointers;
use crate::flow::validate::without_values;
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
/// ones (in memory only). Stored secrets are used only with the connection they were stored
/// with (`binding_pointers`): a config that changes it must bring its own secrets (else 400,
/// naming the changed field), and then none of the stored ones is used. `prefix` is the
/// config's pointer in the request body, for the errors.
pub(crate) async fn config_with_stored_secrets(
    state: &Data,
    component_type: &'static str,
    mut config: Value,
    flow: Option<String>,
    node: Option<String>,
    prefix: &str,
) -> Result<Value, ApiError> {
    if !config.is_object() {
        let at = if prefix.is_empty() {
            "/connection"
        } else {
            prefix
        };
        return Err(ApiError::bad_field(
            at,
            "must be an object (the node's property sheet)",
        ));
    }
    let pointers = secret_pointers(component_type);
    let sent = take_secrets(&mut config, &pointers);
    match (flow, node) {
        (Some(flow), Some(node)) => {
            let s = state.clone();
            let request = config.clone();
            let (stored, changed) = blocking(move || {
                s.workspace
                    .node_secrets(&flow, &node, component_type, &request)
            })
            .await?;
            merge_secrets(&mut config, &sent);
            match changed {
                Some(field) if !stored.is_empty() && sent.is_empty() => {
                    return Err(ApiError::bad_field(
                        format!("{prefix}{field}"),
                        "differs from the connection the node's secrets were stored with; \
                         stored secrets are used only with the stored endpointUrl, region, \
                         roleArn and accessKey: enter the secrets for this connection (or save \
                         the flow first)",
                    ));
                }
                Some(_) => {} // the request's own secrets, and none of the stored ones
                None => merge_secrets(&mut config, &stored),
            }
        }
        (None, None) => merge_secrets(&mut config, &sent),
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
    let compiled = registry::global().get(&component).ok_or_else(|| {
        ApiError::NotFound(format!(
            "unknown component type (known: {})",
            registry::global().type_names().join(", ")
        ))
    })?;
    let body: TestBody = parse_body(&body)?;
    let message = match &body.message {
        None => Message::new(""),
        Some(m) => Message::from_json(m).map_err(|e| {
            ApiError::bad_field(format!("/message{}", e.pointer), without_values(&e.message))
        })?,
    };
    let node_id = body.node.clone().unwrap_or_else(|| "test".into());
    let config = config_with_stored_secrets(
        &state,
        compiled.spec.type_name,
        body.config.unwrap_or_else(|| Value::Object(Map::new())),
        body.flow,
        body.node,
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
    let collected = harness.stop(state.settings.test_timeout).await;
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
