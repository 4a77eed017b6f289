//! Conservation for every combination of error actions: with each of the 16 combinations of
//! `log`, `sendToErrorPort`, `stopService` and `retry` (applied to every error type), messages
//! that fail before any call, fail for good, fail and heal, and succeed go through the real
//! LambdaConnector against the AWS-wire endpoint. Every message is accounted for: taken from
//! the input or left queued at stop; once taken, it left through `out`, through `error`, or was
//! counted as `discarded` — exactly when its error actions route it nowhere — and a discarded
//! message is logged at warn with its id and error even when `log` is off.

#[path = "fixtures/lambda/common.rs"]
mod common;
mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{config, json_message};
use lambdaflow::Message;
use lambdaflow::runtime::Harness;
use serde_json::{Value, json};
use support::aws_wire::{AwsWire, Reply, Request};

const WAIT: Duration = Duration::from_secs(60);
/// Messages per run: k % 4 == 0 is not JSON (refused before any call), 1 always gets a 500,
/// 2 is throttled once and then answers, 3 answers at once.
const N: u64 = 8;

fn script(r: &Request) -> Reply {
    let k = r.json()["k"].as_u64().unwrap_or_default();
    match k % 4 {
        1 => Reply::service_error(500, "ServiceException", "internal"),
        2 if CALLS.first(r) => Reply::throttled("ConcurrentInvocationLimitExceeded"),
        _ => Reply::ok(json!({"k": k}).to_string()),
    }
}

/// Remembers which (run, k) were called, so a throttled message heals on its second call.
struct Seen(Mutex<Vec<(String, u64)>>);

static CALLS: Seen = Seen(Mutex::new(Vec::new()));

impl Seen {
    fn first(&self, r: &Request) -> bool {
        let key = (
            r.json()["run"].as_str().unwrap_or_default().to_owned(),
            r.json()["k"].as_u64().unwrap_or_default(),
        );
        let mut seen = self.0.lock().unwrap();
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    }
}

fn actions(log: bool, send: bool, stop: bool, retry: bool) -> Value {
    let a = json!({"log": log, "sendToErrorPort": send, "stopService": stop,
        "retry": {"enabled": retry, "maxAttempts": 3, "intervalMs": 1, "maxIntervalMs": 1}});
    json!({"invalidRequest": a, "requestProcessing": a, "responseGeneration": a, "connection": a})
}

fn message(run: &str, k: u64) -> Message {
    if k.is_multiple_of(4) {
        json_message("not json")
    } else {
        json_message(&json!({"run": run, "k": k}).to_string())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_is_accounted_for_under_every_combination_of_actions() {
    logs();
    let wire = AwsWire::start(script).await;
    for combo in 0..16u8 {
        let (log, send, stop, retry) = (
            combo & 1 != 0,
            combo & 2 != 0,
            combo & 4 != 0,
            combo & 8 != 0,
        );
        let label = format!("log={log} sendToErrorPort={send} stopService={stop} retry={retry}");
        let run = format!("run{combo}");
        let cfg = config(
            &wire.url(),
            json!({"maxConcurrency": 1, "errorHandling": actions(log, send, stop, retry)}),
        );
        let h = Harness::start(
            &lambdaflow::components::registry()
                .plan_node("conservation", "lambda", "lambda1", &cfg)
                .unwrap(),
        )
        .expect("valid config");
        for k in 0..N {
            h.send(message(&run, k)).await.unwrap();
        }
        if !stop {
            // Wait until everything sent was taken and handled.
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                let s = h.status();
                if s.received == N && s.emitted + s.errors == N {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{label}: stuck at {s:?}"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let rest = h.stop(WAIT).await;
        let s = &rest.status;
        // Taken or left queued; nothing else.
        assert_eq!(
            s.received + rest.end.discarded,
            N,
            "{label}: {s:?} {:?}",
            rest.end
        );
        // Once taken: out, error, or discarded.
        assert_eq!(s.received, s.emitted + s.errors, "{label}: {s:?}");
        assert_eq!(rest.out.len() as u64, s.emitted, "{label}");
        assert_eq!(
            rest.error.len() as u64 + s.discarded,
            s.errors,
            "{label}: {s:?}"
        );
        // Discarded exactly when the actions route a failure nowhere.
        if send {
            assert_eq!(s.discarded, 0, "{label}");
        } else {
            assert_eq!(s.discarded, s.errors, "{label}");
            assert!(rest.error.is_empty(), "{label}");
        }
        if stop {
            assert!(s.errors >= 1, "{label}: stopped by a failure");
            assert!(s.received < N, "{label}: stopped before taking everything");
        } else {
            // 0 and 4 refused, 1 and 5 always fail; 2 and 6 heal only with retry.
            let want_errors = if retry { 4 } else { 6 };
            assert_eq!((s.received, s.errors), (N, want_errors), "{label}");
        }
    }
}

/// A `MakeWriter` collecting everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged by this test binary (a global subscriber, installed by the first test
/// that asks, so no callsite is ever cached as uninteresting).
fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .init();
        logs
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discarded_message_is_logged_at_warn_with_its_id_even_with_log_off() {
    let logs = logs();
    let wire = AwsWire::start(|_| Reply::function_error("Unhandled", "DemoFailure", "boom")).await;
    let cfg = config(
        &wire.url(),
        json!({"errorHandling": actions(false, false, false, false)}),
    );
    let h = Harness::start(
        &lambdaflow::components::registry()
            .plan_node("conservation", "lambda", "lambda1", &cfg)
            .unwrap(),
    )
    .expect("valid config");
    let input = json_message(r#"{"k":3}"#);
    let id = input.id.clone();
    h.send(input).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while h.status().discarded < 1 {
        assert!(tokio::time::Instant::now() < deadline, "never discarded");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The status JSON (what `GET /api/flows/{id}/status` serves per node) shows it.
    let status = serde_json::to_value(h.status()).unwrap();
    assert_eq!(
        (status["errors"].as_u64(), status["discarded"].as_u64()),
        (Some(1), Some(1))
    );
    let rest = h.stop(WAIT).await;
    assert!(rest.error.is_empty() && rest.out.is_empty());
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains(id.as_str()))
        .unwrap_or_else(|| panic!("the message id is logged:\n{text}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("discarded"), "{line}");
    assert!(line.contains("Unhandled"), "the error is named: {line}");
}
