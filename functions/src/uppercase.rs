//! `uppercase`: upper-cases strings.
//!
//! A JSON string becomes that string upper-cased; in an object or array every string *value* is
//! upper-cased, recursively (object keys, numbers, booleans and null are kept as they are).

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

/// The Lambda handler.
pub async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    Ok(uppercase(event.payload))
}

/// Upper-cases every string value in `value`.
pub fn uppercase(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.to_uppercase()),
        Value::Array(items) => Value::Array(items.into_iter().map(uppercase).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, uppercase(v))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_string_is_upper_cased() {
        assert_eq!(uppercase(json!("hello, wörld")), json!("HELLO, WÖRLD"));
    }

    #[test]
    fn object_values_are_upper_cased_recursively_keys_kept() {
        let input = json!({"name": "ada", "n": 1, "ok": true, "none": null,
                           "inner": {"city": "paris", "tags": ["a", 2, {"x": "y"}]}});
        let expected = json!({"name": "ADA", "n": 1, "ok": true, "none": null,
                              "inner": {"city": "PARIS", "tags": ["A", 2, {"x": "Y"}]}});
        assert_eq!(uppercase(input), expected);
    }

    #[test]
    fn scalars_are_unchanged() {
        assert_eq!(uppercase(json!(7)), json!(7));
        assert_eq!(uppercase(Value::Null), Value::Null);
    }

    #[tokio::test]
    async fn handler_uses_the_payload() {
        let event = LambdaEvent::new(json!({"k": "v"}), Default::default());
        assert_eq!(handler(event).await.unwrap(), json!({"k": "V"}));
    }
}
