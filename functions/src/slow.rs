//! `slow`: sleeps, then says for how long — or meets its peers at a barrier.
//!
//! `{"ms": 50}` sleeps 50 milliseconds and returns `{"sleptMs": 50}`. Without a usable `ms`
//! (missing, or not a non-negative integer) it sleeps [`DEFAULT_MS`]; values above [`MAX_MS`] are
//! capped. Useful for timeout, concurrency and ordering tests.
//!
//! `{"barrier": {"dir": "/tmp/b", "parties": 2}, "ms": 60000}` proves concurrency without a
//! clock: the call leaves a file of its own in `dir`, then waits until `dir` holds `parties`
//! files or `ms` passed, and returns `{"met": true}` or `{"met": false}`. Calls that overlap all
//! meet; calls run one after another cannot (the first one gives up after `ms`). Each
//! invocation runs in its own process under `cargo lambda watch`, so the meeting place is the
//! file system.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};

/// Sleep used when the input names none.
pub const DEFAULT_MS: u64 = 100;
/// Longest sleep, whatever the input asks.
pub const MAX_MS: u64 = 60_000;
/// How often a call at a barrier looks for its peers.
const BARRIER_POLL: Duration = Duration::from_millis(5);

/// The Lambda handler.
pub async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let ms = sleep_ms(&event.payload);
    if let Some((dir, parties)) = barrier(&event.payload) {
        let met = meet(&dir, parties, Duration::from_millis(ms))
            .await
            .map_err(|e| crate::function_error("BarrierError", e.to_string()))?;
        return Ok(json!({ "met": met }));
    }
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

/// The barrier `input` asks for: its directory and how many calls must meet there.
pub fn barrier(input: &Value) -> Option<(PathBuf, usize)> {
    let b = input.get("barrier")?;
    let dir = b.get("dir")?.as_str()?;
    let parties = b.get("parties")?.as_u64()?;
    Some((PathBuf::from(dir), usize::try_from(parties).ok()?))
}

/// Leaves this call's mark in `dir` and waits until `parties` marks are there (`true`) or
/// `patience` passed (`false`).
pub async fn meet(dir: &Path, parties: usize, patience: Duration) -> std::io::Result<bool> {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    std::fs::create_dir_all(dir)?;
    let mark = format!(
        "{}-{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    );
    std::fs::write(dir.join(mark), b"")?;
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if std::fs::read_dir(dir)?.count() >= parties {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(BARRIER_POLL).await;
    }
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

    #[test]
    fn reads_a_barrier() {
        assert_eq!(
            barrier(&json!({"barrier": {"dir": "/tmp/b", "parties": 3}})),
            Some((PathBuf::from("/tmp/b"), 3))
        );
        assert_eq!(barrier(&json!({"barrier": {"dir": "/tmp/b"}})), None);
        assert_eq!(barrier(&json!({"ms": 5})), None);
    }

    #[tokio::test(start_paused = true)]
    async fn handler_sleeps_then_reports() {
        let start = tokio::time::Instant::now();
        let event = LambdaEvent::new(json!({"ms": 50}), Default::default());
        assert_eq!(handler(event).await.unwrap(), json!({"sleptMs": 50}));
        assert_eq!(start.elapsed(), Duration::from_millis(50));
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_call_gives_up_and_two_calls_meet() {
        let dir = std::env::temp_dir().join(format!("slow-barrier-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!meet(&dir, 2, Duration::from_millis(50)).await.unwrap());
        // The lone call's mark stays: the next call completes the pair at once.
        assert!(meet(&dir, 2, Duration::from_secs(60)).await.unwrap());
        let pair = dir.join("pair");
        let (a, b) = tokio::join!(
            meet(&pair, 2, Duration::from_secs(60)),
            meet(&pair, 2, Duration::from_secs(60))
        );
        assert!(a.unwrap() && b.unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
