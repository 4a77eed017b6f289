//! The contract paths of the LambdaConnector's listings (design §7): `POST /api/lambda/functions`
//! and `/api/lambda/qualifiers`, with their original bodies. They are the `lambda` type's
//! `functions` and `qualifiers` actions (`POST /api/components/lambda/actions/{name}`), reached
//! under the paths the designer and scripts already use; nothing here knows what they do.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::components::run_action;
use super::{Data, parse_body};
use crate::api::error::ApiError;
use crate::api::openapi::{ErrorDoc, FunctionDoc, QualifiersDoc};
use crate::components::registry;

/// The component type whose actions these paths reach.
const TYPE: &str = "lambda";

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

/// Runs the action with `{"connection": …, "functionName": …}` as the node's config, so the
/// pointers of problems (`/connection/region`, `/functionName`) point into the request body.
async fn listing(
    state: &Data,
    action: &str,
    connection: Option<Value>,
    function_name: Option<String>,
    flow: Option<String>,
    node: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let compiled = registry()
        .get(TYPE)
        .ok_or_else(|| ApiError::Internal("the lambda component is not registered".into()))?;
    let mut config = Map::new();
    if let Some(connection) = connection {
        if !connection.is_object() {
            return Err(ApiError::bad_field("/connection", "must be an object"));
        }
        config.insert("connection".into(), connection);
    }
    if let Some(function) = function_name {
        config.insert("functionName".into(), Value::String(function));
    }
    let answer = run_action(
        state,
        compiled,
        action,
        Value::Object(config),
        flow,
        node,
        "",
    )
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// `POST /api/lambda/functions`
#[utoipa::path(post, path = "/api/lambda/functions", tag = "lambda", request_body = FunctionsBody,
    responses((status = 200, description = "The account's functions", body = Functions),
              (status = 502, description = "AWS (or the endpoint) failed", body = ErrorDoc),
              (status = "default", description = "Error", body = ErrorDoc)))]
pub async fn functions(state: Data, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: FunctionsBody = parse_body(&body)?;
    listing(
        &state,
        "functions",
        body.connection,
        None,
        body.flow,
        body.node,
    )
    .await
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
    listing(
        &state,
        "qualifiers",
        body.connection,
        Some(function),
        body.flow,
        body.node,
    )
    .await
}
