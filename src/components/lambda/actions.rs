//! The LambdaConnector's own actions, for the designer's pickers: `functions` lists the
//! account's functions and `qualifiers` a function's aliases and versions, with the connection
//! of the node being edited (stored secrets already merged in by the caller).

use serde_json::Value;

use super::config::Connection;
use super::control::{list_functions, list_qualifiers};
use super::error::LambdaError;
use crate::runtime::ActionError;

/// Runs the action `name` with a node's (possibly incomplete) config.
pub async fn run(name: &str, config: Value) -> Result<Value, ActionError> {
    let connection = connection(&config)?;
    match name {
        "functions" => {
            let functions = list_functions(&connection).await.map_err(action_error)?;
            Ok(serde_json::json!({ "functions": functions }))
        }
        "qualifiers" => {
            let function = config
                .get("functionName")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .ok_or_else(|| ActionError::Invalid {
                    pointer: "/functionName".into(),
                    message: "functionName is required to list its qualifiers".into(),
                })?;
            let listed = list_qualifiers(&connection, function)
                .await
                .map_err(action_error)?;
            serde_json::to_value(listed).map_err(|e| ActionError::Upstream(e.to_string()))
        }
        other => Err(ActionError::Unknown {
            action: other.to_owned(),
        }),
    }
}

/// The `connection` of a config (absent: every default).
fn connection(config: &Value) -> Result<Connection, ActionError> {
    match config.get("connection") {
        None | Some(Value::Null) => Ok(Connection::default()),
        Some(c) => serde_json::from_value(c.clone()).map_err(|_| ActionError::Invalid {
            pointer: "/connection".into(),
            message: "the connection details are invalid".into(),
        }),
    }
}

fn action_error(e: LambdaError) -> ActionError {
    match &e {
        LambdaError::Config {
            pointer, message, ..
        } => ActionError::Invalid {
            pointer: pointer.clone(),
            message: message.clone(),
        },
        LambdaError::MissingRegion { .. } => ActionError::Invalid {
            pointer: "/connection/region".into(),
            message: e.to_string(),
        },
        LambdaError::Connection { .. } | LambdaError::Service { .. } => {
            ActionError::Upstream(e.to_string())
        }
    }
}
