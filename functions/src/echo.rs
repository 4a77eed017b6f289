//! `echo`: returns its input event unchanged.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

/// The Lambda handler.
pub async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    Ok(event.payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn returns_the_payload_unchanged() {
        for payload in [
            json!({"a": [1, 2, {"b": null}], "c": "d"}),
            json!("text"),
            json!(3.5),
            Value::Null,
        ] {
            let event = LambdaEvent::new(payload.clone(), Default::default());
            assert_eq!(handler(event).await.unwrap(), payload);
        }
    }
}
