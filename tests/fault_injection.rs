//! Fault injection: thousands of messages through Feeder → LambdaConnector → Display against a
//! local Lambda endpoint that throttles (429 `TooManyRequestsException` with `Retry-After`),
//! fails (500 `ServiceException`), answers past `invokeTimeoutMs`, and is killed and restarted
//! mid-run (`benches/lambdaflow/endpoint.rs`, shared with the benchmark).
//!
//! What each test asserts, from the outside only (Display histories, node counters, what the
//! endpoint saw): messages in = messages on `out` + records on `error`; no message twice; each
//! `out` body is the answer to its own message (responses never cross under concurrency); with
//! `preserveOrder` everything leaves in input order; the failures that cannot heal are exactly
//! the ones on `error`; a server's `Retry-After` is waited; and the flow recovers by itself when
//! the endpoint comes back. Retry intervals are milliseconds so the suite stays quick; no
//! assertion is about speed.

#[path = "../benches/lambdaflow/endpoint.rs"]
mod endpoint;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use endpoint::{Action, Endpoint, Invocation};
use lambdaflow::Message;
use lambdaflow::components::registry;
use lambdaflow::runtime::{FlowHandle, RunMode, RunOptions, start};
use serde_json::{Value, json};

/// Distinct messages the Feeder holds (its maximum); it sends them `rounds` times.
const DISTINCT: u64 = 1000;
/// `invokeTimeoutMs` of the connector; slow answers take [`SLOW`].
const TIMEOUT_MS: u64 = 300;
const SLOW: Duration = Duration::from_millis(2 * TIMEOUT_MS);

/// What the endpoint does with message `k`, by how many times it has seen `k` before.
///
/// - `k % 100 == 7`: always 500 `ServiceException` — can never succeed.
/// - `k % 100 == 9`: always 429 — can never succeed.
/// - `k % 10 == 1`: every other call is a 429 with `Retry-After: 0.02` (`k == 1`: `1`, whole
///   seconds as Lambda sends it, on its very first call only).
/// - `k % 10 == 2`: every other call is a 500 `ServiceException`.
/// - `k % 250 == 3`, in the first two rounds: every other call answers after [`SLOW`], past
///   the timeout.
/// - anything else, and the calls in between: 200 with `{"k": k, "call": n}`.
///
/// "Every other call" makes the outcome independent of how calls of one `k` are spread over
/// rounds: whatever fails is followed by a success, so a message fails for good only when its
/// `k` is one of the two "always" kinds.
fn script(k: u64, call: u64) -> Action {
    let first_of_pair = call % 2 == 1;
    let ok = Action::ok(json!({"k": k, "call": call}).to_string());
    if k % 100 == 7 {
        Action::service_error()
    } else if k % 100 == 9 {
        Action::throttled_after("0.02")
    } else if k % 10 == 1 && first_of_pair {
        Action::throttled_after(if k == 1 && call == 1 { "1" } else { "0.02" })
    } else if k % 10 == 2 && first_of_pair {
        Action::service_error()
    } else if k % 250 == 3 && first_of_pair && call <= 4 {
        ok.after(SLOW)
    } else {
        ok
    }
}

fn never_succeeds(k: u64) -> bool {
    k % 100 == 7 || k % 100 == 9
}

/// Every call the endpoint got, per `k`: the answer's kind, in arrival order.
#[derive(Default)]
struct Log {
    calls: HashMap<u64, Vec<&'static str>>,
}

fn scripted_endpoint() -> (Endpoint, Arc<Mutex<Log>>) {
    let log = Arc::new(Mutex::new(Log::default()));
    let seen = log.clone();
    let endpoint = Endpoint::start(Arc::new(move |inv: &Invocation| {
        let k = serde_json::from_slice::<Value>(&inv.body)
            .ok()
            .and_then(|v| v["k"].as_u64())
            .expect("every payload is {\"k\": n}");
        let mut log = seen.lock().unwrap();
        let calls = log.calls.entry(k).or_default();
        let action = script(k, calls.len() as u64 + 1);
        let kind = match &action {
            Action::Answer { status: 200, .. } => "ok",
            Action::Answer { status: 429, .. } => "throttled",
            Action::Answer { .. } => "error",
            Action::HangUp => "hang-up",
        };
        calls.push(kind);
        action
    }));
    (endpoint, log)
}

/// Feeder (DISTINCT messages `{"k": i}` with property `k`, `rounds` times) → lambda →
/// `out`: Display "ok", `error`: Display "failed"; both also → Display "all" (order check).
fn flow(endpoint: &str, rounds: u64, lambda_extra: Value) -> lambdaflow::runtime::Plan {
    let messages: Vec<Value> = (0..DISTINCT)
        .map(|k| {
            json!({"body": json!({"k": k}).to_string(), "contentType": "application/json",
                   "properties": {"k": k}})
        })
        .collect();
    let fast_retry = |attempts: u32, interval: u64, max: u64| {
        json!({"maxAttempts": attempts, "intervalMs": interval, "backoffMultiplier": 2,
               "maxIntervalMs": max})
    };
    let mut lambda = json!({
        "connection": {"region": "us-east-1", "accessKey": "test", "secretKey": "test",
                       "endpointUrl": endpoint, "invokeTimeoutMs": TIMEOUT_MS,
                       "retryTimeouts": true, "connectTimeoutMs": 1000},
        "functionName": "faulty",
        "maxConcurrency": 16,
        "preserveOrder": true,
        "errorHandling": {
            // `maxAttempts` counts every attempt whatever its error type, and an outage spends
            // connection attempts (faster with full jitter, whose waits may be 0), so a message
            // that heals on its next call must still have requestProcessing attempts left
            // after one: 20, not 6. Connection's 30 stays above it, so a message that never
            // succeeds ends on its own error, not on the outage.
            "requestProcessing": {"retry": fast_retry(20, 5, 20)},
            "connection": {"retry": fast_retry(30, 50, 400)}
        }
    });
    let (Value::Object(l), Value::Object(extra)) = (&mut lambda, lambda_extra) else {
        unreachable!()
    };
    for (key, value) in extra {
        match (l.get_mut(&key), value) {
            (Some(Value::Object(inner)), Value::Object(more)) => inner.extend(more),
            (_, value) => {
                l.insert(key, value);
            }
        }
    }
    let doc = json!({
        "id": "fault-injection",
        "nodes": [
            {"id": "feeder1", "type": "feeder", "config": {
                "messages": messages, "sendOnStart": true, "repeat": rounds, "historySize": 1}},
            {"id": "lambda1", "type": "lambda", "config": lambda},
            {"id": "ok", "type": "display", "config": {"maxMessages": 0}},
            {"id": "failed", "type": "display", "config": {"maxMessages": 0}},
            {"id": "all", "type": "display", "config": {"maxMessages": 0}}
        ],
        "edges": [
            {"id": "r1", "from": {"node": "feeder1", "port": "out"}, "to": {"node": "lambda1", "port": "in"}},
            {"id": "r2", "from": {"node": "lambda1", "port": "out"}, "to": {"node": "ok", "port": "in"}},
            {"id": "r3", "from": {"node": "lambda1", "port": "error"}, "to": {"node": "failed", "port": "in"}},
            {"id": "r4", "from": {"node": "lambda1", "port": "out"}, "to": {"node": "all", "port": "in"}},
            {"id": "r5", "from": {"node": "lambda1", "port": "error"}, "to": {"node": "all", "port": "in"}}
        ]
    });
    registry()
        .parse_plan(&doc.to_string())
        .unwrap_or_else(|d| panic!("test flow is invalid: {d:?}"))
}

fn run(flow: &lambdaflow::runtime::Plan) -> FlowHandle {
    let options = RunOptions {
        mode: RunMode::Batch,
        queue_size: 128,
        print_displays: false,
    };
    start(flow, options).expect("the flow starts")
}

fn k_of(m: &Message) -> u64 {
    m.properties["k"]
        .as_u64()
        .expect("every message keeps its k property")
}

/// The error record of an `error` message.
fn record(m: &Message) -> Value {
    m.body_json().expect("an error record is JSON")
}

/// The conservation checks every test shares; returns (out messages, error messages).
fn check_conservation(h: &FlowHandle, total: u64) -> (Vec<Message>, Vec<Message>) {
    let status = h.status();
    assert_eq!(status.nodes["feeder1"].emitted, total, "messages in");
    let lambda = &status.nodes["lambda1"];
    assert_eq!(lambda.received, total);
    let (ok, ok_total) = h.messages("ok").unwrap();
    let (failed, failed_total) = h.messages("failed").unwrap();
    assert_eq!(
        ok_total + failed_total,
        total,
        "messages in = messages on out + records on error"
    );
    assert_eq!(lambda.emitted, ok_total, "the node's own count of out");
    assert_eq!(lambda.errors, failed_total, "the node's own count of error");

    // Each out body answers its own message, and no answer arrives twice: the endpoint's
    // (k, call) pair is unique per call.
    let mut answers = HashSet::new();
    for m in &ok {
        let body = m.body_json().expect("the endpoint answers JSON");
        assert_eq!(
            body["k"].as_u64(),
            Some(k_of(m)),
            "a response reached the wrong message"
        );
        assert!(
            answers.insert((k_of(m), body["call"].as_u64().unwrap())),
            "the same response was emitted twice: {body}"
        );
    }
    // No message is both on out and on error, or twice on error.
    let mut failed_ids = HashSet::new();
    for m in &failed {
        let input = &record(m)["inputMessage"];
        assert!(failed_ids.insert(input["id"].as_str().unwrap().to_owned()));
        assert_eq!(input["properties"]["k"].as_u64(), Some(k_of(m)));
    }
    (ok, failed)
}

/// With `preserveOrder`, everything leaves in input order: the Display fed by both ports sees
/// k = 0, 1, …, 999, 0, 1, … — each message exactly once.
fn check_order(h: &FlowHandle, total: u64) {
    let (all, all_total) = h.messages("all").unwrap();
    assert_eq!(all_total, total);
    for (i, m) in all.iter().enumerate() {
        assert_eq!(
            k_of(m),
            i as u64 % DISTINCT,
            "position {i}: out of order (or lost, or duplicated)"
        );
    }
}

/// Kills the endpoint once `all` has seen `after` messages, keeps it down for `outage`, and
/// brings it back; returns when it is back, with how many messages had left at the kill.
async fn outage(h: &FlowHandle, endpoint: &Endpoint, after: u64, outage: Duration) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    let at_kill = loop {
        let seen = h.status().nodes["all"].received;
        if seen >= after {
            break seen;
        }
        assert!(
            Instant::now() < deadline,
            "the flow stalled before the outage"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    endpoint.kill().await;
    tokio::time::sleep(outage).await;
    endpoint.restart().await;
    at_kill
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_through_throttling_errors_timeouts_and_an_endpoint_restart() {
    let rounds = 10;
    let total = DISTINCT * rounds;
    let (endpoint, log) = scripted_endpoint();
    let h = run(&flow(&endpoint.url(), rounds, json!({})));

    // A short outage mid-run: connection retries (30 attempts, full-jitter waits of up to 50 ms
    // doubling to 400 ms: about five seconds on average, far more than the outage even on a
    // busy machine) outlast it, so every message caught in it (calls in flight are cut off
    // too) goes through.
    let at_kill = outage(&h, &endpoint, total / 3, Duration::from_millis(300)).await;
    let calls_at_restart = endpoint.invocations();

    let report = h.wait().await;
    assert!(report.is_clean(), "{:?}", report.problems());
    assert!(at_kill < total, "the endpoint went down mid-run");
    assert!(
        endpoint.invocations() > calls_at_restart,
        "the flow went on calling the endpoint once it was back"
    );

    let (ok, failed) = check_conservation(&h, total);
    check_order(&h, total);

    // Exactly the messages that can never succeed are on error, after their retries.
    let expected_failures = (0..DISTINCT).filter(|&k| never_succeeds(k)).count() as u64 * rounds;
    assert_eq!(
        failed.len() as u64,
        expected_failures,
        "{:?}",
        failed.iter().find(|m| !never_succeeds(k_of(m))).map(record)
    );
    assert_eq!(ok.len() as u64, total - expected_failures);
    for m in &failed {
        let r = record(m);
        let k = k_of(m);
        assert!(never_succeeds(k), "k {k} failed but heals on retry: {r}");
        assert_eq!(r["requestContext"]["condition"], "RetriesExhausted", "{r}");
        assert_eq!(r["error"]["type"], "requestProcessing");
        assert_eq!(r["error"]["retryable"], true);
        let code = r["error"]["code"].as_str().unwrap();
        let expected = if k % 100 == 7 {
            "ServiceException"
        } else {
            "TooManyRequestsException"
        };
        assert_eq!(code, expected, "{r}");
        assert_eq!(m.properties["error.code"], expected);
        assert!(
            r["requestContext"]["approximateInvokeCount"]
                .as_u64()
                .unwrap()
                >= 2
        );
    }

    // Every kind of fault was injected, and each healing one healed on a retry.
    let log = log.lock().unwrap();
    let kinds: HashSet<&str> = log.calls.values().flatten().copied().collect();
    assert!(
        kinds.contains("throttled") && kinds.contains("error"),
        "{kinds:?}"
    );
    // k = 3's first call answered past the timeout; the connector gave up on it and called
    // again (once per round, plus the two timed-out calls): an answer that had been waited
    // for would have ended the message with one call. (No timing check: with full jitter the
    // retry may follow the timeout at once.)
    let k3 = &log.calls[&3];
    assert!(k3.len() >= rounds as usize + 2, "{} calls", k3.len());

    // k = 1's first call was throttled (with `Retry-After: 1`) and retried; how long a retry
    // waits is asserted on tokio's paused clock in tests/lambda_errors.rs, never here.
    let k1 = &log.calls[&1];
    assert_eq!(k1[0], "throttled");
    assert!(k1.len() >= 2, "the throttled call was retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_long_outage_the_flow_fails_what_it_must_and_recovers_by_itself() {
    let rounds = 2;
    let total = DISTINCT * rounds;
    let (endpoint, log) = scripted_endpoint();
    // Connection retries give up after about 60 ms, well inside a 1.5 s outage: messages
    // caught in it fail as connection errors; the flow itself is never restarted.
    let h = run(&flow(
        &endpoint.url(),
        rounds,
        json!({"errorHandling": {"connection": {"retry": {"maxAttempts": 3, "intervalMs": 20,
                                                           "backoffMultiplier": 2, "maxIntervalMs": 40}}}}),
    ));
    let at_kill = outage(&h, &endpoint, total / 4, Duration::from_millis(1500)).await;
    let report = h.wait().await;
    assert!(report.is_clean(), "{:?}", report.problems());
    assert!(at_kill < total);

    let (ok, failed) = check_conservation(&h, total);
    check_order(&h, total);

    let connection_failures: Vec<Value> = failed
        .iter()
        .map(record)
        .filter(|r| r["error"]["type"] == "connection")
        .collect();
    assert!(
        !connection_failures.is_empty(),
        "an outage longer than the retries must show on the error port"
    );
    for r in &connection_failures {
        assert_eq!(r["error"]["retryable"], true, "{r}");
        assert_eq!(r["requestContext"]["condition"], "RetriesExhausted", "{r}");
    }
    // Recovery: the last messages of the run all went through, except those that never can
    // ("all" holds every result in input order; error messages carry `error.type`).
    let (all, _) = h.messages("all").unwrap();
    let tail_failures = all[all.len() - 200..]
        .iter()
        .filter(|m| m.properties.contains_key("error.type") && !never_succeeds(k_of(m)))
        .count();
    assert_eq!(
        tail_failures, 0,
        "once the endpoint is back, healthy messages succeed again without a restart"
    );
    assert!(ok.len() as u64 > total / 2);
    assert!(log.lock().unwrap().calls.len() as u64 >= DISTINCT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_preserve_order_nothing_is_lost_or_duplicated_either() {
    let rounds = 2;
    let total = DISTINCT * rounds;
    let (endpoint, _log) = scripted_endpoint();
    let h = run(&flow(
        &endpoint.url(),
        rounds,
        json!({"preserveOrder": false, "maxConcurrency": 32}),
    ));
    outage(&h, &endpoint, total / 2, Duration::from_millis(200)).await;
    let report = h.wait().await;
    assert!(report.is_clean(), "{:?}", report.problems());
    let (ok, failed) = check_conservation(&h, total);
    // Every k arrives `rounds` times in all, whatever the order.
    let mut per_k: HashMap<u64, u64> = HashMap::new();
    for m in ok.iter().chain(&failed) {
        *per_k.entry(k_of(m)).or_default() += 1;
    }
    assert_eq!(per_k.len() as u64, DISTINCT);
    assert!(
        per_k.values().all(|&n| n == rounds),
        "a message lost or duplicated"
    );
    assert!(failed.iter().all(|m| never_succeeds(k_of(m))));
}
