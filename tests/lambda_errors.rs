//! Error mapping of the LambdaConnector against exact AWS wire responses (status,
//! `x-amzn-errortype`, `{"Type","message"}` bodies, `Retry-After`) replayed by the SDK's
//! `StaticReplayClient`, operation mocks from `aws-smithy-mocks`, and real sockets for
//! timeouts and refused connections. Each test asserts the port, the error record's fields and
//! the number of attempts actually sent.

#[path = "fixtures/lambda/common.rs"]
mod common;
#[path = "fixtures/lambda/fake_lambda.rs"]
mod fake_lambda;

use std::time::Duration;

use aws_sdk_lambda::operation::invoke::InvokeOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_smithy_http_client::test_util::ReplayEvent;
use aws_smithy_mocks::{RuleMode, create_mock_http_client, mock};
use common::*;
use fake_lambda::{FakeLambda, Reply};
use lambdaflow::Message;
use lambdaflow::components::lambda::{ClientOverrides, LambdaConnector};
use serde_json::{Value, json};

const ENDPOINT: &str = "http://lambda.test";

/// Sends one message, expects exactly one error and no output, and returns the error message.
async fn fails(connector: LambdaConnector, input: Message) -> Message {
    let mut h = start(connector);
    h.send(input).await.unwrap();
    let err = h.error(WAIT).await.expect("a message on the error port");
    let rest = h.stop(WAIT).await;
    assert!(rest.out.is_empty(), "nothing reaches out: {:?}", rest.out);
    assert!(
        rest.error.is_empty(),
        "one error record only: {:?}",
        rest.error
    );
    assert_eq!(rest.status.errors, 1);
    err
}

/// Checks the record's common fields.
fn check_record(
    err: &Message,
    error_type: &str,
    code: &str,
    attempts: u64,
    condition: &str,
) -> Value {
    let rec = body(err);
    assert_eq!(rec["version"], "1.0");
    assert_eq!(rec["error"]["type"], error_type, "{rec:#}");
    assert_eq!(rec["error"]["code"], code, "{rec:#}");
    assert_eq!(rec["requestContext"]["condition"], condition, "{rec:#}");
    assert_eq!(
        rec["requestContext"]["approximateInvokeCount"], attempts,
        "{rec:#}"
    );
    assert_eq!(rec["requestContext"]["functionName"], "hello");
    assert_eq!(rec["requestContext"]["invocationType"], "RequestResponse");
    assert_eq!(
        rec["component"],
        json!({"flow": "harness", "node": "lambda1", "type": "lambda"})
    );
    assert_eq!(rec["requestPayload"], json!({"name": "World"}));
    assert_eq!(rec["inputMessage"]["properties"]["orderId"], 42);
    assert_eq!(err.properties["orderId"], 42, "input properties are kept");
    assert_eq!(err.properties["error.type"], error_type);
    assert_eq!(err.properties["error.code"], code);
    rec
}

fn world() -> Message {
    json_message(r#"{"name":"World"}"#)
}

fn function_error(kind: &str) -> ReplayEvent {
    wire(
        200,
        &[
            ("x-amz-function-error", kind),
            ("x-amz-executed-version", "$LATEST"),
            ("x-amzn-requestid", "req-fn-error"),
        ],
        r#"{"errorMessage":"boom","errorType":"DemoFailure"}"#,
    )
}

#[tokio::test]
async fn handled_function_error_on_200_goes_to_error_not_out() {
    let (c, replay) = replayed(config(ENDPOINT, json!({})), vec![function_error("Handled")]);
    let err = fails(c, world()).await;
    let rec = check_record(&err, "requestProcessing", "Handled", 1, "Failure");
    assert_eq!(rec["error"]["retryable"], false);
    assert_eq!(rec["requestContext"]["requestId"], "req-fn-error");
    assert_eq!(
        rec["responseContext"],
        json!({"statusCode": 200, "functionError": "Handled", "executedVersion": "$LATEST"})
    );
    assert_eq!(
        rec["responsePayload"],
        json!({"errorMessage": "boom", "errorType": "DemoFailure"})
    );
    assert_eq!(
        replay.actual_requests().count(),
        1,
        "a function error is not retried"
    );
}

#[tokio::test]
async fn unhandled_function_error_is_not_retried_even_with_retries_on() {
    let cfg = config(ENDPOINT, retries("requestProcessing", 5, 10));
    let (c, replay) = replayed(cfg, vec![function_error("Unhandled")]);
    let err = fails(c, world()).await;
    let rec = check_record(&err, "requestProcessing", "Unhandled", 1, "Failure");
    assert_eq!(rec["responseContext"]["functionError"], "Unhandled");
    assert!(
        rec["error"]["message"]
            .as_str()
            .unwrap()
            .contains("DemoFailure: boom")
    );
    assert_eq!(replay.actual_requests().count(), 1);
}

#[tokio::test]
async fn resource_not_found_404_is_final() {
    let (c, replay) = replayed(
        config(ENDPOINT, json!({})),
        vec![service_error(
            404,
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:hello",
        )],
    );
    let err = fails(c, world()).await;
    let rec = check_record(
        &err,
        "requestProcessing",
        "ResourceNotFoundException",
        1,
        "Failure",
    );
    assert_eq!(rec["error"]["retryable"], false);
    assert!(
        rec["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Function not found")
    );
    assert_eq!(rec["responseContext"]["statusCode"], 404);
    assert_eq!(rec["requestContext"]["requestId"], "req-error");
    assert_eq!(rec["responsePayload"]["Type"], "User");
    assert_eq!(replay.actual_requests().count(), 1);
}

fn throttled(retry_after: &str) -> ReplayEvent {
    wire(
        429,
        &[
            ("x-amzn-errortype", "TooManyRequestsException"),
            ("retry-after", retry_after),
            ("content-type", "application/json"),
        ],
        r#"{"Type":"User","message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}"#,
    )
}

#[tokio::test(start_paused = true)]
async fn throttled_429_waits_retry_after_then_succeeds() {
    // The configured interval is 10 minutes and the server's Retry-After 1 s. The replayed
    // client does no I/O, so the test runs on tokio's paused clock: the wait is measured in
    // virtual time, exactly, whatever the machine's load.
    let cfg = config(
        ENDPOINT,
        json!({"outputMode": "record", "errorHandling": {"requestProcessing": {"retry": {
            "maxAttempts": 3, "intervalMs": 600000, "maxIntervalMs": 600000}}}}),
    );
    let ok = wire(
        200,
        &[("x-amzn-requestid", "req-ok")],
        r#"{"greeting":"Hello, World!"}"#,
    );
    let (c, replay) = replayed(cfg, vec![throttled("1"), ok]);
    let mut h = start(c);
    let started = tokio::time::Instant::now();
    h.send(world()).await.unwrap();
    let out = h.out(WAIT).await.expect("out after the retry");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After honoured ({waited:?})"
    );
    // Full jitter adds a spread of at most min(Retry-After, intervalMs, maxIntervalMs).
    assert!(
        waited <= Duration::from_secs(2),
        "Retry-After wins over intervalMs ({waited:?})"
    );
    let rec = body(&out);
    assert_eq!(rec["requestContext"]["condition"], "Success");
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 2);
    assert_eq!(rec["responsePayload"], json!({"greeting": "Hello, World!"}));
    assert_eq!(out.properties["lambda.requestId"], "req-ok");
    let rest = h.stop(WAIT).await;
    assert!(rest.error.is_empty() && rest.out.is_empty());
    assert_eq!(replay.actual_requests().count(), 2);
}

#[tokio::test]
async fn throttled_429_retried_until_attempts_are_exhausted() {
    let cfg = config(
        ENDPOINT,
        json!({"errorHandling": {"requestProcessing": {"retry": {
            "maxAttempts": 3, "intervalMs": 600000, "maxIntervalMs": 600000}}}}),
    );
    let (c, replay) = replayed(cfg, vec![throttled("0"), throttled("0"), throttled("0")]);
    let err = fails(c, world()).await;
    let rec = check_record(
        &err,
        "requestProcessing",
        "TooManyRequestsException",
        3,
        "RetriesExhausted",
    );
    assert_eq!(rec["error"]["retryable"], true);
    assert_eq!(rec["error"]["message"], "Rate Exceeded.");
    assert_eq!(rec["responseContext"]["statusCode"], 429);
    assert_eq!(replay.actual_requests().count(), 3);
}

#[tokio::test]
async fn request_too_large_413_is_an_invalid_request() {
    let (c, replay) = replayed(
        config(ENDPOINT, json!({})),
        vec![service_error(
            413,
            "RequestTooLargeException",
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
        )],
    );
    let err = fails(c, world()).await;
    let rec = check_record(
        &err,
        "invalidRequest",
        "RequestTooLargeException",
        1,
        "Failure",
    );
    assert_eq!(rec["responseContext"]["statusCode"], 413);
    assert_eq!(replay.actual_requests().count(), 1);
}

#[tokio::test]
async fn invalid_request_content_400_is_an_invalid_request() {
    let (c, replay) = replayed(
        config(ENDPOINT, json!({})),
        vec![service_error(
            400,
            "InvalidRequestContentException",
            "Could not parse request body into json",
        )],
    );
    let err = fails(c, world()).await;
    let rec = check_record(
        &err,
        "invalidRequest",
        "InvalidRequestContentException",
        1,
        "Failure",
    );
    assert_eq!(
        rec["error"]["message"],
        "Could not parse request body into json"
    );
    assert_eq!(replay.actual_requests().count(), 1);
}

#[tokio::test]
async fn service_exception_500_is_retried_until_exhausted() {
    let cfg = config(ENDPOINT, retries("requestProcessing", 3, 10));
    let events = (0..3)
        .map(|_| {
            service_error(
                500,
                "ServiceException",
                "Lambda was unable to process the request",
            )
        })
        .collect();
    let (c, replay) = replayed(cfg, events);
    let err = fails(c, world()).await;
    let rec = check_record(
        &err,
        "requestProcessing",
        "ServiceException",
        3,
        "RetriesExhausted",
    );
    assert_eq!(rec["error"]["retryable"], true);
    assert_eq!(rec["responseContext"]["statusCode"], 500);
    assert_eq!(replay.actual_requests().count(), 3);
}

#[tokio::test]
async fn bad_gateway_502_throttle_is_retried_and_then_succeeds() {
    let cfg = config(ENDPOINT, retries("requestProcessing", 3, 10));
    let ok = wire(
        200,
        &[("x-amzn-requestid", "req-ok")],
        r#"{"greeting":"Hello, World!"}"#,
    );
    let (c, replay) = replayed(
        cfg,
        vec![
            service_error(
                502,
                "EC2ThrottledException",
                "Lambda was throttled by Amazon EC2",
            ),
            ok,
        ],
    );
    let mut h = start(c);
    h.send(world()).await.unwrap();
    let out = h.out(WAIT).await.expect("out after one retry");
    assert_eq!(body(&out), json!({"greeting": "Hello, World!"}));
    let rest = h.stop(WAIT).await;
    assert!(rest.error.is_empty());
    assert_eq!(replay.actual_requests().count(), 2);
}

#[tokio::test]
async fn bad_gateway_502_invalid_runtime_is_final() {
    let cfg = config(ENDPOINT, retries("requestProcessing", 3, 10));
    let (c, replay) = replayed(
        cfg,
        vec![service_error(
            502,
            "InvalidRuntimeException",
            "The runtime parameter of nodejs4.3 is no longer supported",
        )],
    );
    let err = fails(c, world()).await;
    let rec = check_record(
        &err,
        "requestProcessing",
        "InvalidRuntimeException",
        1,
        "Failure",
    );
    assert_eq!(rec["error"]["retryable"], false);
    assert_eq!(rec["responseContext"]["statusCode"], 502);
    assert_eq!(replay.actual_requests().count(), 1);
}

#[tokio::test]
async fn service_unavailable_503_without_error_type_is_retried() {
    let cfg = config(ENDPOINT, retries("requestProcessing", 2, 10));
    let unavailable = || {
        wire(
            503,
            &[("content-type", "text/html")],
            "<html><body>Service Unavailable</body></html>",
        )
    };
    let (c, replay) = replayed(cfg, vec![unavailable(), unavailable()]);
    let err = fails(c, world()).await;
    let rec = check_record(&err, "requestProcessing", "Http503", 2, "RetriesExhausted");
    assert_eq!(rec["error"]["retryable"], true);
    assert_eq!(rec["responseContext"]["statusCode"], 503);
    assert_eq!(replay.actual_requests().count(), 2);
}

#[tokio::test]
async fn read_timeout_is_a_connection_error_retried_as_configured() {
    let fake = FakeLambda::start(|_, _| Reply::hang()).await;
    let cfg = config(
        &fake.endpoint(),
        // Timeouts after sending are only retried when the user opts in (issue 11).
        json!({"connection": {"invokeTimeoutMs": 300, "retryTimeouts": true}}),
    );
    let mut cfg = cfg;
    cfg["errorHandling"] = retries("connection", 2, 10)["errorHandling"].clone();
    let err = fails(
        LambdaConnector::from_json("lambda1", &cfg).unwrap(),
        world(),
    )
    .await;
    let rec = check_record(&err, "connection", "Timeout", 2, "RetriesExhausted");
    assert_eq!(rec["error"]["retryable"], true);
    assert_eq!(fake.count(), 2, "both attempts reached the server");
}

#[tokio::test]
async fn connection_refused_is_a_connection_error_retried_as_configured() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // the listener is closed here: nothing listens on the port any more
    let mut cfg = config(&format!("http://127.0.0.1:{port}"), json!({}));
    cfg["errorHandling"] = retries("connection", 3, 10)["errorHandling"].clone();
    let err = fails(
        LambdaConnector::from_json("lambda1", &cfg).unwrap(),
        world(),
    )
    .await;
    let rec = check_record(
        &err,
        "connection",
        "ConnectionFailed",
        3,
        "RetriesExhausted",
    );
    assert_eq!(rec["error"]["retryable"], true);
    assert!(rec.get("responseContext").is_none(), "no response arrived");
}

#[tokio::test]
async fn undecodable_response_is_a_response_generation_error() {
    // 0xC3 0x28 is not UTF-8.
    let (c, replay) = replayed(
        config(ENDPOINT, json!({})),
        vec![wire(
            200,
            &[("x-amzn-requestid", "req-bad")],
            vec![b'"', 0xC3, 0x28, b'"'],
        )],
    );
    let err = fails(c, world()).await;
    let rec = check_record(
        &err,
        "responseGeneration",
        "UndecodableResponse",
        1,
        "Failure",
    );
    assert_eq!(rec["requestContext"]["requestId"], "req-bad");
    assert_eq!(rec["responseContext"]["statusCode"], 200);
    assert!(rec["error"]["message"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(replay.actual_requests().count(), 1);
}

#[tokio::test]
async fn non_json_body_is_refused_before_any_call() {
    let (c, replay) = replayed(config(ENDPOINT, json!({})), vec![]);
    let mut h = start(c);
    h.send(Message::new("name=World").with_property("orderId", 42))
        .await
        .unwrap();
    let err = h.error(WAIT).await.expect("error port");
    let rec = body(&err);
    assert_eq!(rec["error"]["type"], "invalidRequest");
    assert_eq!(rec["error"]["code"], "InvalidJson");
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 0);
    assert_eq!(rec["requestPayload"], "name=World");
    h.stop(WAIT).await;
    assert_eq!(
        replay.actual_requests().count(),
        0,
        "Lambda was never called"
    );
}

#[tokio::test]
async fn payload_over_the_request_limit_is_refused_before_any_call() {
    let cfg = config(ENDPOINT, json!({"requestSizeLimits": {"sync": 10}}));
    let (c, replay) = replayed(cfg, vec![]);
    let err = fails(c, world()).await;
    let rec = check_record(&err, "invalidRequest", "RequestTooLarge", 0, "Failure");
    assert!(
        rec["error"]["message"]
            .as_str()
            .unwrap()
            .contains("16 bytes")
    );
    assert_eq!(replay.actual_requests().count(), 0);
}

#[tokio::test]
async fn smithy_mocks_function_error_and_503_sequence() {
    // aws-smithy-mocks at the operation level, through the node's own client settings (SDK
    // retries off), so the attempts counted are ours.
    let flaky = mock!(aws_sdk_lambda::Client::invoke)
        .match_requests(|r| r.function_name() == Some("hello") && r.qualifier() == Some("live"))
        .sequence()
        .http_status(503, None)
        .times(2)
        .output(|| {
            InvokeOutput::builder()
                .status_code(200)
                .function_error("Unhandled")
                .payload(Blob::new(
                    r#"{"errorMessage":"Task timed out after 3.00 seconds"}"#,
                ))
                .build()
        })
        .build();
    let interceptor = aws_smithy_mocks::MockResponseInterceptor::new()
        .rule_mode(RuleMode::Sequential)
        .with_rule(&flaky);
    let cfg = config(ENDPOINT, json!({"qualifier": "live"}));
    let mut cfg = cfg;
    cfg["errorHandling"] = retries("requestProcessing", 5, 10)["errorHandling"].clone();
    let connector = LambdaConnector::from_json("lambda1", &cfg)
        .unwrap()
        .with_overrides(ClientOverrides {
            http_client: Some(create_mock_http_client()),
            interceptors: vec![aws_sdk_lambda::config::SharedInterceptor::new(interceptor)],
            ..Default::default()
        });
    let err = fails(connector, world()).await;
    let rec = body(&err);
    assert_eq!(rec["error"]["code"], "Unhandled");
    assert_eq!(rec["requestContext"]["qualifier"], "live");
    assert_eq!(
        rec["requestContext"]["approximateInvokeCount"], 3,
        "two retried 503s, then the function error ends it"
    );
    assert_eq!(rec["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(
        rec["responsePayload"]["errorMessage"],
        "Task timed out after 3.00 seconds"
    );
    assert_eq!(flaky.num_calls(), 3);
}

/// An STS `AssumeRole` error exactly as STS sends it (query protocol, XML).
fn sts_error(status: u16, code: &str, message: &str) -> ReplayEvent {
    wire(
        status,
        &[("content-type", "text/xml")],
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>sts-err</RequestId></ErrorResponse>"
        ),
    )
}

fn sts_ok() -> ReplayEvent {
    wire(
        200,
        &[("content-type", "text/xml")],
        r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><AssumedRoleId>AROA:lambdaflow</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/invoker/lambdaflow</Arn></AssumedRoleUser>
    <Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey>
      <SessionToken>role-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>sts-req</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#,
    )
}

fn with_role(extra: Value) -> Value {
    let mut cfg = config(ENDPOINT, extra);
    cfg["connection"]["roleArn"] = json!("arn:aws:iam::123456789012:role/invoker");
    cfg["errorHandling"] = retries("connection", 3, 1)["errorHandling"].clone();
    cfg
}

#[tokio::test]
async fn a_throttled_or_failing_credential_service_is_retried() {
    for first in [
        sts_error(400, "Throttling", "Rate exceeded"),
        sts_error(500, "InternalFailure", "internal"),
    ] {
        let ok = wire(200, &[("x-amzn-requestid", "req-ok")], r#"{"ok":true}"#);
        let (c, replay) = replayed(with_role(json!({})), vec![first, sts_ok(), ok]);
        let mut h = start(c);
        h.send(world()).await.unwrap();
        let out = h.out(WAIT).await.expect("healed after STS answered");
        assert_eq!(body(&out), json!({"ok": true}));
        h.stop(WAIT).await;
        assert_eq!(
            replay.actual_requests().count(),
            3,
            "STS twice, then Lambda"
        );
    }
}

#[tokio::test]
async fn credentials_the_service_rejects_are_final() {
    let (c, replay) = replayed(
        with_role(json!({})),
        vec![sts_error(
            403,
            "AccessDenied",
            "not authorized to perform sts:AssumeRole",
        )],
    );
    let err = fails(c, world()).await;
    let rec = body(&err);
    assert_eq!(rec["error"]["type"], "connection", "{rec:#}");
    assert_eq!(rec["error"]["code"], "CredentialsError", "{rec:#}");
    assert_eq!(rec["error"]["retryable"], false);
    assert_eq!(replay.actual_requests().count(), 1, "not retried");
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_not_capped_by_max_interval_but_by_max_retry_after() {
    // maxIntervalMs is 500 and the server says 4 s: the server wins (issue 11: it used to be
    // read as a cap in the schema text while the code waited 4 s; now both say the same).
    for (retry_after, max_retry_after_ms, least, most) in [
        ("4", 60_000, 4_000, 4_500),
        // A Retry-After past maxRetryAfterMs waits the ceiling instead.
        ("3600", 10_000, 10_000, 10_500),
    ] {
        let cfg = config(
            ENDPOINT,
            json!({"errorHandling": {"requestProcessing": {"retry": {
                "maxAttempts": 2, "intervalMs": 500, "maxIntervalMs": 500,
                "maxRetryAfterMs": max_retry_after_ms}}}}),
        );
        let ok = wire(200, &[("x-amzn-requestid", "req-ok")], r#"{"ok":true}"#);
        let (c, replay) = replayed(cfg, vec![throttled(retry_after), ok]);
        let mut h = start(c);
        let started = tokio::time::Instant::now();
        h.send(world()).await.unwrap();
        h.out(Duration::from_secs(3600))
            .await
            .expect("out after the retry");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(least) && waited <= Duration::from_millis(most),
            "Retry-After {retry_after}: waited {waited:?}"
        );
        h.stop(WAIT).await;
        assert_eq!(replay.actual_requests().count(), 2);
    }
}
