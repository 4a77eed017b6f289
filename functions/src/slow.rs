//! `slow`: sleeps, then says for how long.
//!
//! `{"ms": 50}` sleeps 50 milliseconds and returns `{"sleptMs": 50}`. Without a usable `ms`
//! (missing, or not a non-negative integer) it sleeps [`DEFAULT_MS`]; values above [`MAX_MS`] are
//! capped. Useful for timeout, concurrency and ordering tests.

use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};

/// Sleep used when the input names none.
pub const DEFAULT_MS: u64 = 100;
/// Longest sleep, whatever the input asks.
pub const MAX_MS: u64 = 60_000;

/// The Lambda handler.
pub async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let ms = sleep_ms(&event.payload);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(json!({ "sleptMs": ms }))
}

/// How long to sleep for `input`.
pub fn sleep_ms(input: &Value) -> u64 {
    input
        .get("ms")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MS)
        .min(MAX_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ms_defaults_and_caps() {
        assert_eq!(sleep_ms(&json!({"ms": 50})), 50);
        assert_eq!(sleep_ms(&json!({"ms": 0})), 0);
        assert_eq!(sleep_ms(&json!({})), DEFAULT_MS);
        assert_eq!(sleep_ms(&json!({"ms": -5})), DEFAULT_MS);
        assert_eq!(sleep_ms(&json!({"ms": "50"})), DEFAULT_MS);
        assert_eq!(sleep_ms(&json!(null)), DEFAULT_MS);
        assert_eq!(sleep_ms(&json!({"ms": 999_999})), MAX_MS);
    }

    #[tokio::test(start_paused = true)]
    async fn handler_sleeps_then_reports() {
        let start = tokio::time::Instant::now();
        let event = LambdaEvent::new(json!({"ms": 50}), Default::default());
        assert_eq!(handler(event).await.unwrap(), json!({"sleptMs": 50}));
        assert!(start.elapsed() >= Duration::from_millis(50));
    }
}
