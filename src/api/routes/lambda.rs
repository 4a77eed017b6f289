//! The Lambda control-plane listings the designer's pickers use: the account's functions, and a
//! function's aliases and versions, for given connection details (a node's stored secrets may
//! stand in for the ones the designer cannot send back).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::components::config_with_stored_secrets;
use super::{Data, parse_body};
use crate::api::error::ApiError;
use crate::components::lambda::{Connection, LambdaError, list_functions, list_qualifiers};
use crate::flow::Diagnostic;
use crate::flow::validate::validate_node_config;
use crate::runtime::registry;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ListBody {
    #[serde(default)]
    connection: Option<Value>,
    #[serde(default)]
    function_name: Option<String>,
    #[serde(default)]
    flow: Option<String>,
    #[serde(default)]
    node: Option<String>,
}

/// Validates the connection (with stored secrets merged) as part of a lambda config, so the
/// pointers of problems (`/connection/region`, `/functionName`) point into the request body.
async fn connection(state: &Data, body: ListBody) -> Result<Connection, ApiError> {
    let connection = body.connection.unwrap_or_else(|| Value::Object(Map::new()));
    if !connection.is_object() {
        return Err(ApiError::bad_field("/connection", "must be an object"));
    }
    let config = config_with_stored_secrets(
        state,
        "lambda",
        json!({"connection": connection}),
        body.flow,
        body.node,
        "",
    )
    .await?;
    let mut check = config.clone();
    check["functionName"] = json!(body.function_name.as_deref().unwrap_or("any"));
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
pub async fn functions(state: Data, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: ListBody = parse_body(&body)?;
    if body.function_name.is_some() {
        return Err(ApiError::bad_field(
            "/functionName",
            "functionName belongs to /api/lambda/qualifiers",
        ));
    }
    let connection = connection(&state, body).await?;
    let listed = state
        .runner
        .engine()
        .spawn(async move { list_functions(&connection).await })
        .await
        .map_err(|e| ApiError::Internal(format!("listing functions failed: {e}")))?
        .map_err(lambda_error)?;
    Ok(HttpResponse::Ok().json(json!({ "functions": listed })))
}

/// `POST /api/lambda/qualifiers`
pub async fn qualifiers(state: Data, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: ListBody = parse_body(&body)?;
    let function = match body.function_name.as_deref().map(str::trim) {
        Some(f) if !f.is_empty() => f.to_owned(),
        _ => {
            return Err(ApiError::bad_field(
                "/functionName",
                "functionName is required",
            ));
        }
    };
    let connection = connection(&state, body).await?;
    let listed = state
        .runner
        .engine()
        .spawn(async move { list_qualifiers(&connection, &function).await })
        .await
        .map_err(|e| ApiError::Internal(format!("listing qualifiers failed: {e}")))?
        .map_err(lambda_error)?;
    Ok(HttpResponse::Ok().json(listed))
}
