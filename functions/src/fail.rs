//! `fail`: always fails with a handled function error.
//!
//! The error has `errorType` `DemoFailure` and an `errorMessage` that names the input received, so
//! a caller can check that error routing carried the right message.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

use crate::function_error;

/// The Lambda handler.
pub async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    Err(failure(&event.payload))
}

/// The error returned for `input`.
pub fn failure(input: &Value) -> Diagnostic {
    function_error(
        "DemoFailure",
        format!("fail always fails; it received {input}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_what_it_received() {
        let err = failure(&json!({"orderId": 42}));
        assert_eq!(err.error_type, "DemoFailure");
        assert_eq!(
            err.error_message,
            r#"fail always fails; it received {"orderId":42}"#
        );
    }

    #[tokio::test]
    async fn handler_always_errs() {
        let event = LambdaEvent::new(json!("anything"), Default::default());
        let err = handler(event).await.unwrap_err();
        assert_eq!(err.error_type, "DemoFailure");
        assert!(err.error_message.contains("\"anything\""));
    }
}
