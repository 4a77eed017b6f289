//! `hello`: greets by name.
//!
//! `{"name": "World"}` → `{"greeting": "Hello, World!"}`. A missing, non-string or blank `name`
//! is a handled function error with `errorType` `InvalidInput`.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};

use crate::function_error;

/// The Lambda handler.
pub async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    greet(&event.payload)
}

/// Builds the greeting for `input`, or the `InvalidInput` error.
pub fn greet(input: &Value) -> Result<Value, Diagnostic> {
    match input.get("name").and_then(Value::as_str).map(str::trim) {
        Some(name) if !name.is_empty() => Ok(json!({ "greeting": format!("Hello, {name}!") })),
        _ => Err(function_error(
            "InvalidInput",
            format!("expected {{\"name\": <non-blank string>}}, got {input}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_by_name() {
        let out = greet(&json!({"name": "World"})).unwrap();
        assert_eq!(out, json!({"greeting": "Hello, World!"}));
    }

    #[test]
    fn trims_the_name() {
        let out = greet(&json!({"name": "  Ada "})).unwrap();
        assert_eq!(out, json!({"greeting": "Hello, Ada!"}));
    }

    #[test]
    fn missing_blank_or_non_string_name_is_invalid_input() {
        for input in [
            json!({}),
            json!({"name": ""}),
            json!({"name": "   "}),
            json!({"name": 42}),
            json!("World"),
            Value::Null,
        ] {
            let err = greet(&input).unwrap_err();
            assert_eq!(err.error_type, "InvalidInput", "input {input}");
            assert!(err.error_message.contains("name"), "{}", err.error_message);
        }
    }

    #[tokio::test]
    async fn handler_uses_the_payload() {
        let event = LambdaEvent::new(json!({"name": "Rust"}), Default::default());
        let out = handler(event).await.unwrap();
        assert_eq!(out["greeting"], "Hello, Rust!");
    }
}
