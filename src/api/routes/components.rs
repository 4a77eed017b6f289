//! Component descriptors and the component test route (Fiorano's Test button).
//!
//! A test names the flow and node being edited (`flow`, `node`): its error records say
//! `{"component": {"flow": "<flow>", "node": "<node>"}}` as the same failure in the running flow
//! would, never the harness's own names. A node not saved yet is tested without stored secrets.

use std::time::Instant;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Data, parse_body};
use crate::api::error::{ApiError, blocking};
use crate::api::openapi::{ComponentDoc, ErrorDoc, MessageDoc, MessageInputDoc, NodeStatusDoc};
use crate::api::secrets::{merge_secrets, take_secrets};
use crate::api::workspace::secret_pointers;
use crate::components::registry;
use crate::flow::Compiled;
use crate::flow::validate::{schema_check, without_values};
use crate::message::Message;
use crate::runtime::{ActionError, Harness, NodeId, NodeStatus};

/// A component type in the path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TypePath {
    /// Component type (`feeder`, `display`, `lambda`).
    #[serde(rename = "type")]
    pub component_type: String,
}

/// `GET /api/components`
#[utoipa::path(get, path = "/api/components", tag = "components",
    responses((status = 200, description = "Component types with their schemas",
               body = Vec<ComponentDoc>),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn list() -> HttpResponse {
    let all: Vec<Value> = registry().iter().map(Compiled::descriptor_json).collect();
    HttpResponse::Ok().json(all)
}

/// One component run on one message: its config (the property sheet), the message, and
/// optionally the flow and node whose stored secrets may stand in for absent ones.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    /// The property sheet's values (default `{}`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    config: Option<Value>,
    /// The message (default: an empty body).
    #[serde(default)]
    #[schema(value_type = Option<MessageInputDoc>)]
    message: Option<Value>,
    /// The flow whose node's stored secrets to use (with `node`).
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    flow: Option<String>,
    /// The node whose stored secrets to use (with `flow`).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    node: Option<String>,
}

/// What a component test produced.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestAnswer {
    /// What reached `out`.
    #[schema(value_type = Vec<MessageDoc>)]
    out: Vec<Message>,
    /// What reached `error` (error records).
    #[schema(value_type = Vec<MessageDoc>)]
    error: Vec<Message>,
    /// How long it took.
    duration_ms: u64,
    /// The node's final status.
    #[schema(value_type = NodeStatusDoc)]
    status: NodeStatus,
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
        return Err(ApiError::bad_field(
            prefix,
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
            return Err(ApiError::unprocessable(
                "/node",
                "give both flow and node to use a node's stored secrets",
            ));
        }
    }
    Ok(config)
}

/// `POST /api/components/{type}/test`: runs one component on one message and returns what
/// reached `out` and `error`.
#[utoipa::path(post, path = "/api/components/{type}/test", tag = "components",
    params(TypePath), request_body = TestBody,
    responses((status = 200, description = "What reached out and error", body = TestAnswer),
              (status = 422, description = "Invalid config (pointers start at /config)",
               body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn test(
    state: Data,
    path: web::Path<TypePath>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let component = path.into_inner().component_type;
    let compiled = compiled(&component)?;
    let body: TestBody = parse_body(&body)?;
    let message = match &body.message {
        None => Message::new(""),
        Some(m) => Message::from_json(m).map_err(|e| {
            ApiError::unprocessable(format!("/message{}", e.pointer), without_values(&e.message))
        })?,
    };
    // The node id names the place in the answer: only a valid one is ever repeated.
    if body
        .node
        .as_deref()
        .is_some_and(|node| !crate::flow::store::is_valid_node_id(node))
    {
        return Err(ApiError::unprocessable(
            "/node",
            "not a node id (a letter, then up to 63 letters, digits, _ or -)",
        ));
    }
    if body
        .flow
        .as_deref()
        .is_some_and(|flow| !crate::flow::store::is_valid_id(flow))
    {
        return Err(ApiError::unprocessable(
            "/flow",
            "not a flow id (a lower-case letter or digit, then up to 63 of them, _ or -)",
        ));
    }
    let node_id = body.node.clone().unwrap_or_else(|| component.clone());
    let flow_label = body.flow.clone().unwrap_or_default();
    // A node added since the last save has no stored secrets yet: it is tested as it is.
    let (secrets_flow, secrets_node) = match (body.flow, body.node) {
        (Some(flow), Some(node)) if !is_stored(&state, &flow, &node).await => (None, None),
        pair => pair,
    };
    let config = config_with_stored_secrets(
        &state,
        compiled.descriptor.type_name,
        body.config.unwrap_or_else(|| Value::Object(Map::new())),
        secrets_flow,
        secrets_node,
        "/config",
    )
    .await?;

    let started = Instant::now();
    // Planned as a one-node flow named after the flow being edited, so its records name it.
    let plan = registry()
        .plan_node(
            &flow_label,
            compiled.descriptor.type_name,
            &node_id,
            &config,
        )
        .map_err(|details| ApiError::Invalid {
            message: format!("the {component} configuration is invalid"),
            details,
        })?;
    drop(config);
    let harness = {
        let _in_engine = state.runner.engine().enter();
        Harness::start(&plan).map_err(|e| ApiError::Invalid {
            message: format!("the {component} configuration is invalid"),
            details: vec![crate::flow::Diagnostic::from_runtime(&e, "/config")],
        })?
    };
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
    Ok(HttpResponse::Ok().json(TestAnswer {
        out: collected.out,
        error: collected.error,
        duration_ms,
        status: collected.status,
    }))
}

/// Whether the stored flow `flow` has a node `node`.
async fn is_stored(state: &Data, flow: &str, node: &str) -> bool {
    let s = state.clone();
    let (flow, node) = (flow.to_owned(), node.to_owned());
    blocking(move || s.workspace.nodes(&flow))
        .await
        .is_ok_and(|nodes| nodes.iter().any(|(id, _)| *id == node))
}

/// The compiled type named in a path, or 404 listing the known ones.
fn compiled(component: &str) -> Result<&'static Compiled, ApiError> {
    registry().get(component).ok_or_else(|| {
        ApiError::NotFound(format!(
            "unknown component type (known: {})",
            registry().type_names().join(", ")
        ))
    })
}

/// A component type and one of its actions in the path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ActionPath {
    /// Component type (`lambda`).
    #[serde(rename = "type")]
    pub component_type: String,
    /// The action, as the type's descriptor lists it (`functions`, `qualifiers`).
    pub action: String,
}

/// An action run with the config of the node being edited, and optionally the flow and node
/// whose stored secrets may stand in for absent ones (only with the node's stored connection).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// The property sheet's values; only the fields the action uses are checked.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    config: Option<Value>,
    /// The flow whose node's stored secrets to use (with `node`).
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    flow: Option<String>,
    /// The node whose stored secrets to use (with `flow`).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    node: Option<String>,
}

/// `POST /api/components/{type}/actions/{action}`: runs one of a component type's own actions
/// (the LambdaConnector's function and qualifier listings) with a node's config.
#[utoipa::path(post, path = "/api/components/{type}/actions/{action}", tag = "components",
    params(ActionPath), request_body = ActionBody,
    responses((status = 200, description = "The action's answer", body = Object),
              (status = 422, description = "The fields the action uses are invalid (pointers \
               start at /config)", body = ErrorDoc),
              (status = 502, description = "The external service failed", body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn action(
    state: Data,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let ActionPath {
        component_type,
        action,
    } = path.into_inner();
    let compiled = compiled(&component_type)?;
    let body: ActionBody = parse_body(&body)?;
    let config = body.config.unwrap_or_else(|| Value::Object(Map::new()));
    let answer = run_action(
        &state, compiled, &action, config, body.flow, body.node, "/config",
    )
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Runs a type's action with a node's config (stored secrets of `flow`/`node` merged in, only
/// the fields the action uses checked). `prefix` is the config's pointer in the request body.
pub(crate) async fn run_action(
    state: &Data,
    compiled: &'static Compiled,
    action: &str,
    config: Value,
    flow: Option<String>,
    node: Option<String>,
    prefix: &str,
) -> Result<Value, ApiError> {
    let descriptor = &compiled.descriptor;
    let spec = descriptor
        .actions
        .iter()
        .find(|a| a.name == action)
        .ok_or_else(|| {
            let names: Vec<&str> = descriptor.actions.iter().map(|a| a.name).collect();
            ApiError::NotFound(format!(
                "the {} component has no such action (it has: {})",
                descriptor.title,
                names.join(", ")
            ))
        })?;
    let config =
        config_with_stored_secrets(state, descriptor.type_name, config, flow, node, prefix).await?;
    // Only the fields the action reads are checked: a sheet still being filled in is fine.
    let uses = |pointer: &str| {
        let top = pointer.strip_prefix('/').and_then(|p| p.split('/').next());
        top.is_some_and(|top| spec.uses.contains(&top))
    };
    schema_check(
        compiled,
        &NodeId::new(descriptor.type_name),
        &config,
        prefix,
        uses,
    )
    .map_err(|details| ApiError::Invalid {
        message: format!(
            "the config fields the {} action uses are invalid",
            spec.name
        ),
        details: details
            .into_iter()
            .map(|d| crate::flow::Diagnostic { node: None, ..d })
            .collect(),
    })?;
    let component = compiled.component.clone();
    let name = spec.name;
    let prefix = prefix.to_owned();
    state
        .runner
        .engine()
        .spawn(async move { component.action(name, config).await })
        .await
        .map_err(|e| ApiError::Internal(format!("the action failed: {e}")))?
        .map_err(|e| match e {
            ActionError::Invalid { pointer, message } => ApiError::Invalid {
                message: message.clone(),
                details: vec![crate::flow::Diagnostic::new(
                    None,
                    format!("{prefix}{pointer}"),
                    message,
                )],
            },
            ActionError::Unknown { .. } => ApiError::NotFound(e.to_string()),
            ActionError::Upstream(message) => ApiError::Upstream(message),
        })
}
