//! The Lambda control-plane listings the designer's pickers use: the account's functions, and a
//! function's aliases and versions, for given connection details (a node's stored secrets may
//! stand in for the ones the designer cannot send back).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::components::config_with_stored_secrets;
use super::{Data, parse_body};
use crate::api::error::ApiError;
use crate::api::openapi::{ErrorDoc, FunctionDoc, QualifiersDoc};
use crate::components::lambda::{Connection, LambdaError, list_functions, list_qualifiers};
use crate::flow::Diagnostic;
use crate::flow::validate::validate_node_config;
use crate::runtime::registry;

/// Connection details (as a lambda node's `connection`), and optionally the flow and node whose
/// stored secrets may stand in for absent ones (only with the node's stored connection).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FunctionsBody {
    /// As the LambdaConnector's `connection` property.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    connection: Option<Value>,
    /// The flow whose node's stored secrets to use (with `node`).
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    flow: Option<String>,
    /// The node whose stored secrets to use (with `flow`).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    node: Option<String>,
}

/// As [`FunctionsBody`], with the function whose aliases and versions to list.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QualifiersBody {
    /// As the LambdaConnector's `connection` property.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    connection: Option<Value>,
    /// The function: name, `name:alias` or ARN (as the `functionName` property).
    #[schema(pattern = r"\S")]
    function_name: String,
    /// The flow whose node's stored secrets to use (with `node`).
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    flow: Option<String>,
    /// The node whose stored secrets to use (with `flow`).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    node: Option<String>,
}

/// The account's functions.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Functions {
    /// Every function the credentials can see in the region.
    #[schema(value_type = Vec<FunctionDoc>)]
    functions: Vec<crate::components::lambda::FunctionSummary>,
}

/// Validates the connection (with stored secrets merged) as part of a lambda config, so the
/// pointers of problems (`/connection/region`, `/functionName`) point into the request body.
async fn connection(
    state: &Data,
    connection: Option<Value>,
    function_name: Option<&str>,
    flow: Option<String>,
    node: Option<String>,
) -> Result<Connection, ApiError> {
    let connection = connection.unwrap_or_else(|| Value::Object(Map::new()));
    if !connection.is_object() {
        return Err(ApiError::bad_field("/connection", "must be an object"));
    }
    let config = config_with_stored_secrets(
        state,
        "lambda",
        json!({"connection": connection}),
        flow,
        node,
        "",
    )
    .await?;
    let mut check = config.clone();
    check["functionName"] = json!(function_name.unwrap_or("any"));
    let compiled = registry::global()
        .get("lambda")
        .ok_or_else(|| ApiError::Internal("the lambda component is not registered".into()))?;
    validate_node_config(compiled, "connection", &check, "").map_err(|details| {
        ApiError::Invalid {
            message: "the connection details are invalid".into(),
            details: details
                .into_iter()
                .map(|d| Diagnostic { node: None, ..d })
                .collect(),
        }
    })?;
    serde_json::from_value(config["connection"].clone())
        .map_err(|_| ApiError::bad_field("/connection", "the connection details are invalid"))
}

fn lambda_error(e: LambdaError) -> ApiError {
    match &e {
        LambdaError::Config {
            pointer, message, ..
        } => ApiError::Invalid {
            message: e.to_string(),
            details: vec![Diagnostic::new(None, pointer.clone(), message.clone())],
        },
        LambdaError::MissingRegion { .. } => ApiError::Invalid {
            message: e.to_string(),
            details: vec![Diagnostic::new(None, "/connection/region", e.to_string())],
        },
        LambdaError::Connection { .. } | LambdaError::Service { .. } => {
            ApiError::Upstream(e.to_string())
        }
    }
}

/// `POST /api/lambda/functions`
#[utoipa::path(post, path = "/api/lambda/functions", tag = "lambda", request_body = FunctionsBody,
    responses((status = 200, description = "The account's functions", body = Functions),
              (status = 502, description = "AWS (or the endpoint) failed", body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn functions(state: Data, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: FunctionsBody = parse_body(&body)?;
    let connection = connection(&state, body.connection, None, body.flow, body.node).await?;
    let listed = state
        .runner
        .engine()
        .spawn(async move { list_functions(&connection).await })
        .await
        .map_err(|e| ApiError::Internal(format!("listing functions failed: {e}")))?
        .map_err(lambda_error)?;
    Ok(HttpResponse::Ok().json(Functions { functions: listed }))
}

/// `POST /api/lambda/qualifiers`
#[utoipa::path(post, path = "/api/lambda/qualifiers", tag = "lambda", request_body = QualifiersBody,
    responses((status = 200, description = "A function's aliases and versions", body = QualifiersDoc),
              (status = 502, description = "AWS (or the endpoint) failed", body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn qualifiers(state: Data, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: QualifiersBody = parse_body(&body)?;
    let function = body.function_name.trim().to_owned();
    if function.is_empty() {
        return Err(ApiError::bad_field(
            "/functionName",
            "functionName must not be blank",
        ));
    }
    let connection = connection(
        &state,
        body.connection,
        Some(&function),
        body.flow,
        body.node,
    )
    .await?;
    let listed = state
        .runner
        .engine()
        .spawn(async move { list_qualifiers(&connection, &function).await })
        .await
        .map_err(|e| ApiError::Internal(format!("listing qualifiers failed: {e}")))?
        .map_err(lambda_error)?;
    Ok(HttpResponse::Ok().json(listed))
}
