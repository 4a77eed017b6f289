//! The LambdaConnector through the real HTTP stack (the SDK, hyper, a TCP socket) against an
//! endpoint that answers byte for byte as AWS Lambda does (`support::aws_wire`): every code of
//! the classification table, transport faults (reset before the response, reset in the middle
//! of the body, a stalled body), a throttle's `Reason`, timeouts after sending, Destinations
//! record fields, aliases in `functionName`, `Retry-After` against `maxIntervalMs`, and
//! `preserveOrder` with a retry waiting. Assertions are about ports, records, counts and the
//! order requests reached the endpoint, never about durations.

#[path = "fixtures/lambda/common.rs"]
mod common;
mod support;

use std::time::Duration;

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::primitives::Blob;
use common::{body, config, json_message, start};
use lambdaflow::Message;
use lambdaflow::components::lambda::LambdaConnector;
use lambdaflow::components::lambda::table::{self, ROWS};
use serde::Deserialize;
use serde_json::{Value, json};
use support::aws_wire::{AwsWire, Fault, Reply, Request};

/// Generous: nothing here should take long, but CI machines are shared.
const WAIT: Duration = Duration::from_secs(60);

fn connector(config: &Value) -> LambdaConnector {
    LambdaConnector::from_json("lambda1", config).expect("valid config")
}

/// Retries off for every error type.
fn no_retries() -> Value {
    let off = json!({"retry": {"enabled": false}});
    json!({"errorHandling": {"invalidRequest": off, "requestProcessing": off,
        "responseGeneration": off, "connection": off}})
}

/// The error record of the one message sent, and the endpoint's request count.
async fn one_failure(wire: &AwsWire, extra: Value) -> (Value, Message) {
    let mut h = start(connector(&config(&wire.url(), extra)));
    h.send(json_message(r#"{"name":"World"}"#)).await.unwrap();
    let err = h.error(WAIT).await.expect("a record on the error port");
    let rest = h.stop(WAIT).await;
    assert!(
        rest.out.is_empty() && rest.error.is_empty(),
        "one outcome only"
    );
    (body(&err), err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_code_of_the_table_is_classified_as_the_table_says_through_the_sdk() {
    // Which row to answer with is in the payload: {"row": i}.
    let wire = AwsWire::start(|r: &Request| {
        let row = &ROWS[r.json()["row"].as_u64().unwrap() as usize];
        Reply::service_error(row.status, row.code, "scripted")
    })
    .await;
    // 1. The SDK turns each modelled code into its own InvokeError variant, and the variant's
    //    row is the one for that code; codes the SDK does not model have no variant.
    let client = aws_sdk_lambda::Client::from_conf(
        support::lambda_config(&wire.url())
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    let mut modelled = 0;
    for (i, row) in ROWS.iter().enumerate() {
        let err = client
            .invoke()
            .function_name("hello")
            .payload(Blob::new(json!({"row": i}).to_string()))
            .send()
            .await
            .expect_err("every row is an error");
        let service = err.as_service_error().expect("a service error");
        match table::modelled(service) {
            Some(found) => {
                assert_eq!(found, row, "{}", row.code);
                modelled += 1;
            }
            None => assert_eq!(
                row.error_type,
                lambdaflow::runtime::ErrorType::Connection,
                "{} is not modelled by the SDK; only AWS front-end rejections may be",
                row.code
            ),
        }
    }
    assert_eq!(modelled, 43, "every InvokeError variant has its row");
    // 2. The connector routes each as the table says (retries off, so one call each).
    let mut extra = no_retries();
    extra["maxConcurrency"] = json!(8);
    let mut h = start(connector(&config(&wire.url(), extra)));
    for i in 0..ROWS.len() {
        h.send(json_message(&json!({"row": i}).to_string()))
            .await
            .unwrap();
    }
    for (i, row) in ROWS.iter().enumerate() {
        let err = h.error(WAIT).await.expect("one record per row");
        let rec = body(&err);
        assert_eq!(rec["requestPayload"]["row"], i, "in order");
        assert_eq!(rec["error"]["code"], row.code, "{rec:#}");
        assert_eq!(rec["error"]["type"], row.error_type.as_str(), "{rec:#}");
        assert_eq!(rec["error"]["retryable"], row.retryable, "{rec:#}");
        assert_eq!(rec["responseContext"]["statusCode"], row.status, "{rec:#}");
    }
    let rest = h.stop(WAIT).await;
    assert_eq!(rest.status.errors as usize, ROWS.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_or_eof_before_the_response_or_in_the_body_is_a_retryable_connection_error() {
    for (fault, code) in [
        (Fault::ResetBeforeResponse, "ConnectionFailed"),
        (Fault::ResetMidBody, "ResponseInterrupted"),
        (Fault::EofMidBody, "ResponseInterrupted"),
    ] {
        // Without retries: the record says what happened.
        let wire = AwsWire::start(move |_| Reply::ok(r#"{"hello":"world"}"#).fault(fault)).await;
        let (rec, _) = one_failure(&wire, no_retries()).await;
        assert_eq!(rec["error"]["type"], "connection", "{fault:?}: {rec:#}");
        assert_eq!(rec["error"]["code"], code, "{fault:?}: {rec:#}");
        assert_eq!(rec["error"]["retryable"], true, "{fault:?}");
        assert_eq!(wire.count(), 1);
        // With the default retries: the second call answers, so the message succeeds.
        let wire = AwsWire::start(move |r| {
            let reply = Reply::ok(r#"{"hello":"world"}"#);
            if r.seq == 1 {
                reply.fault(fault)
            } else {
                reply
            }
        })
        .await;
        let mut h = start(connector(&config(
            &wire.url(),
            json!({"errorHandling": {"connection": {"retry": {"intervalMs": 1, "maxIntervalMs": 1}}}}),
        )));
        h.send(json_message("{}")).await.unwrap();
        let out = h.out(WAIT).await.expect("healed by a retry");
        assert_eq!(body(&out), json!({"hello": "world"}), "{fault:?}");
        assert_eq!(wire.count(), 2, "{fault:?}");
        h.stop(WAIT).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_times_out_and_is_not_retried_unless_the_user_opts_in() {
    let wire = AwsWire::start(|_| Reply::ok(r#"{"slow":"answer"}"#).fault(Fault::StallBody)).await;
    let fast_retries =
        json!({"connection": {"retry": {"maxAttempts": 3, "intervalMs": 1, "maxIntervalMs": 1}}});
    // Default: the function may have run, so a timeout is final although connection errors
    // are retried.
    let (rec, _) = one_failure(
        &wire,
        json!({"connection": {"invokeTimeoutMs": 300}, "errorHandling": fast_retries}),
    )
    .await;
    assert_eq!(rec["error"]["code"], "Timeout", "{rec:#}");
    assert_eq!(rec["error"]["retryable"], false);
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(wire.count(), 1, "called once");
    // Opted in: retried up to maxAttempts.
    let wire = AwsWire::start(|_| Reply::ok(r#"{"slow":"answer"}"#).fault(Fault::StallBody)).await;
    let (rec, _) = one_failure(
        &wire,
        json!({"connection": {"invokeTimeoutMs": 300, "retryTimeouts": true},
               "errorHandling": fast_retries}),
    )
    .await;
    assert_eq!(rec["error"]["code"], "Timeout");
    assert_eq!(rec["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(wire.count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invoke_timeout_default_outlasts_lambdas_longest_function() {
    let c = connector(&config("http://127.0.0.1:9", json!({})));
    assert!(c.config().connection.invoke_timeout_ms > 900_000);
    assert!(!c.config().connection.retry_timeouts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttles_reason_tells_account_limits_from_function_limits() {
    for reason in [
        "ConcurrentInvocationLimitExceeded",
        "ReservedFunctionConcurrentInvocationLimitExceeded",
    ] {
        let wire =
            AwsWire::start(move |_| Reply::throttled(reason).header("Retry-After", "1")).await;
        let (rec, err) = one_failure(&wire, no_retries()).await;
        assert_eq!(rec["error"]["code"], "TooManyRequestsException");
        assert_eq!(rec["error"]["detail"], reason, "{rec:#}");
        assert_eq!(rec["responseContext"]["reason"], reason);
        assert_eq!(rec["responsePayload"]["Reason"], reason);
        assert_eq!(err.properties["error.detail"], reason);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_409s_and_403_mount_failures_are_not_retried() {
    for (status, code, error_type) in [
        (
            409,
            "DurableExecutionAlreadyStartedException",
            "requestProcessing",
        ),
        (403, "EFSMountFailureException", "requestProcessing"),
        (403, "S3FilesMountFailureException", "requestProcessing"),
    ] {
        let wire = AwsWire::start(move |_| Reply::service_error(status, code, "no")).await;
        // Default error handling: requestProcessing retries retryable failures 3 times.
        let (rec, _) = one_failure(&wire, json!({})).await;
        assert_eq!(rec["error"]["type"], error_type, "{code}");
        assert_eq!(rec["error"]["retryable"], false, "{code}");
        assert_eq!(wire.count(), 1, "{code} is final");
    }
}

/// An AWS Lambda Destinations execution record, field for field as AWS documents it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Destinations {
    version: String,
    timestamp: String,
    request_context: DestinationsRequest,
    request_payload: Value,
    response_context: DestinationsResponse,
    response_payload: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DestinationsRequest {
    request_id: String,
    function_arn: String,
    condition: String,
    approximate_invoke_count: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DestinationsResponse {
    status_code: u16,
    executed_version: String,
    function_error: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_parse_as_aws_destinations_records() {
    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:hello";
    let wire = AwsWire::start(|r| {
        if r.json()["fail"] == true {
            Reply::function_error("Unhandled", "DemoFailure", "boom")
                .header("X-Amz-Executed-Version", "3")
        } else {
            Reply::ok(r#"{"ok":true}"#).header("X-Amz-Executed-Version", "3")
        }
    })
    .await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"functionName": format!("{ARN}:PROD"), "outputMode": "record"}),
    )));
    h.send(json_message(r#"{"fail":true}"#)).await.unwrap();
    h.send(json_message(r#"{"fail":false}"#)).await.unwrap();
    let err = h.error(WAIT).await.expect("the failure");
    let out = h.out(WAIT).await.expect("the success");
    h.stop(WAIT).await;
    let failure: Destinations = serde_json::from_value(body(&err)).expect("a Destinations record");
    assert_eq!(failure.version, "1.0");
    assert!(!failure.timestamp.is_empty());
    assert_eq!(failure.request_context.function_arn, format!("{ARN}:PROD"));
    assert_eq!(failure.request_context.condition, "Failure");
    assert_eq!(failure.request_context.approximate_invoke_count, 1);
    assert!(!failure.request_context.request_id.is_empty());
    assert_eq!(failure.request_payload, json!({"fail": true}));
    assert_eq!(failure.response_context.status_code, 200);
    assert_eq!(failure.response_context.executed_version, "3");
    assert_eq!(
        failure.response_context.function_error.as_deref(),
        Some("Unhandled")
    );
    assert_eq!(failure.response_payload["errorType"], "DemoFailure");
    // Our extras stay.
    let rec = body(&err);
    for extra in ["error", "component", "inputMessage"] {
        assert!(rec.get(extra).is_some(), "{extra}: {rec:#}");
    }
    assert!(
        rec.get("condition").is_none(),
        "condition lives in requestContext"
    );
    let success: Destinations = serde_json::from_value(body(&out)).expect("a Destinations record");
    assert_eq!(success.request_context.condition, "Success");
    assert_eq!(success.request_context.function_arn, format!("{ARN}:PROD"));
    assert_eq!(success.response_context.function_error, None);
    assert_eq!(success.response_payload, json!({"ok": true}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alias_in_the_function_name_is_the_outs_qualifier() {
    let wire = AwsWire::start(|_| Reply::ok("{}").header("X-Amz-Executed-Version", "7")).await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"functionName": "echo:BETA"}),
    )));
    h.send(json_message("{}")).await.unwrap();
    let out = h.out(WAIT).await.expect("out");
    h.stop(WAIT).await;
    assert_eq!(out.properties["lambda.qualifier"], "BETA");
    assert_eq!(out.properties["lambda.executedVersion"], "7");
    assert_eq!(wire.requests()[0].function, "echo:BETA");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_although_max_interval_is_shorter() {
    // Message "a" is throttled once with Retry-After: 2 while maxIntervalMs is 10. Message "b",
    // sent once "a" was first called, fails twice with a 500 (10 ms backoff) and then works.
    // If maxIntervalMs capped Retry-After, "a" would be called again among b's calls.
    let wire = AwsWire::start(|r| {
        let who = r.json()["who"].as_str().unwrap_or_default().to_owned();
        match who.as_str() {
            "a" if r.seq == 1 => {
                Reply::throttled("ConcurrentInvocationLimitExceeded").header("Retry-After", "2")
            }
            "b" if r.seq <= 3 => Reply::service_error(500, "ServiceException", "oops"),
            _ => Reply::ok(r#"{"ok":true}"#),
        }
    })
    .await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"maxConcurrency": 2, "preserveOrder": false,
               "errorHandling": {"requestProcessing": {"retry": {
                   "maxAttempts": 5, "intervalMs": 10, "maxIntervalMs": 10}}}}),
    )));
    h.send(json_message(r#"{"who":"a"}"#)).await.unwrap();
    wait_for(|| wire.count() >= 1, "a's first call").await;
    h.send(json_message(r#"{"who":"b"}"#)).await.unwrap();
    for _ in 0..2 {
        h.out(WAIT).await.expect("both succeed");
    }
    h.stop(WAIT).await;
    let order: Vec<String> = wire
        .requests()
        .iter()
        .map(|r| r.json()["who"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        order,
        ["a", "b", "b", "b", "a"],
        "b's retries all ran within a's wait"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_waiting_holds_back_later_results_but_not_later_invocations() {
    const N: u64 = 12;
    // Message 0 is throttled on its first call with a long Retry-After; the rest answer.
    let wire = AwsWire::start(|r| {
        let k = r.json()["k"].as_u64().unwrap();
        if k == 0 && r.seq == 1 {
            Reply::throttled("ConcurrentInvocationLimitExceeded").header("Retry-After", "5")
        } else {
            Reply::ok(json!({"k": k}).to_string())
        }
    })
    .await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"maxConcurrency": 2, "preserveOrder": true}),
    )));
    h.send(json_message(r#"{"k":0}"#)).await.unwrap();
    wait_for(|| wire.count() >= 1, "message 0's first call").await;
    for k in 1..N {
        h.send(json_message(&json!({"k": k}).to_string()))
            .await
            .unwrap();
    }
    let mut ks = Vec::new();
    for _ in 0..N {
        let out = h.out(WAIT).await.expect("every message succeeds");
        ks.push(body(&out)["k"].as_u64().unwrap());
    }
    h.stop(WAIT).await;
    assert_eq!(
        ks,
        (0..N).collect::<Vec<_>>(),
        "results leave in input order"
    );
    let calls: Vec<u64> = wire
        .requests()
        .iter()
        .map(|r| r.json()["k"].as_u64().unwrap())
        .collect();
    // Two calls are in flight at once, so 1..N may arrive in any order among themselves; but
    // all of them arrive before message 0's retry.
    assert_eq!(calls.len() as u64, N + 1, "{calls:?}");
    assert_eq!((calls[0], calls[N as usize]), (0, 0), "{calls:?}");
    let mut middle = calls[1..N as usize].to_vec();
    middle.sort_unstable();
    assert_eq!(
        middle,
        (1..N).collect::<Vec<_>>(),
        "every later message was invoked while message 0 waited for its retry: {calls:?}"
    );
}

/// Polls `cond` until it holds, failing after [`WAIT`].
async fn wait_for(cond: impl Fn() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reorder_buffer_is_bounded() {
    use lambdaflow::components::lambda::REORDER_BUFFER;
    const MAX: u64 = 2;
    // Fewer than the buffer, the slots and the harness's input queue (64) can hold, so every
    // send returns although the node stops reading.
    let n = REORDER_BUFFER as u64 + 40;
    // Message 0's answer is held until the test opens the gate; the second slot keeps invoking
    // later messages, whose results wait behind message 0's, until the reorder buffer is full.
    let (open, gate) = tokio::sync::watch::channel(false);
    let wire = AwsWire::start(move |r| {
        let k = r.json()["k"].as_u64().unwrap();
        let reply = Reply::ok(json!({"k": k}).to_string());
        if k == 0 {
            reply.until(gate.clone())
        } else {
            reply
        }
    })
    .await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"maxConcurrency": MAX, "preserveOrder": true}),
    )));
    for k in 0..n {
        h.send(json_message(&json!({"k": k}).to_string()))
            .await
            .unwrap();
    }
    // Message 0 in flight, and MAX - 1 + REORDER_BUFFER later ones invoked and held.
    let bound = MAX + REORDER_BUFFER as u64;
    wait_for(|| wire.count() as u64 >= bound, "the buffer to fill").await;
    assert_eq!(
        wire.count() as u64,
        bound,
        "no more invoked than the buffer holds"
    );
    assert_eq!(
        h.status().received,
        bound,
        "no more read than the buffer holds"
    );
    assert_eq!(
        h.status().emitted,
        0,
        "every result waits behind message 0's"
    );
    open.send(true).unwrap();
    let mut ks = Vec::new();
    for _ in 0..n {
        let out = h.out(WAIT).await.expect("every message succeeds");
        ks.push(body(&out)["k"].as_u64().unwrap());
    }
    h.stop(WAIT).await;
    assert_eq!(ks, (0..n).collect::<Vec<_>>(), "in input order");
    assert_eq!(wire.count() as u64, n);
}
