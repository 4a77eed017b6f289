//! Successful invocations of the LambdaConnector against a fake Lambda endpoint that records
//! the wire requests: RequestResponse, Event, DryRun and asyncInvoke; qualifier and function-name
//! forms; payloadIsJson; logTail and clientContext; response charsets; output modes.

#[path = "fixtures/lambda/common.rs"]
mod common;
#[path = "fixtures/lambda/fake_lambda.rs"]
mod fake_lambda;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::*;
use fake_lambda::{FakeLambda, Recorded, Reply};
use lambdaflow::Message;
use lambdaflow::components::lambda::LambdaConnector;
use serde_json::{Value, json};

/// Runs one message through a node configured with `extra`, against a fake answering `reply`;
/// returns the out message and the request the fake received.
async fn one(extra: Value, input: Message, reply: Reply) -> (Message, Recorded) {
    let fake = FakeLambda::start(move |_, _| reply.clone()).await;
    let connector =
        LambdaConnector::from_json("lambda1", &config(&fake.endpoint(), extra)).unwrap();
    let mut h = start(connector);
    h.send(input).await.unwrap();
    let out = h.out(WAIT).await.expect("a message on out");
    let rest = h.stop(WAIT).await;
    assert!(rest.error.is_empty(), "no error: {:?}", rest.error);
    assert!(rest.out.is_empty());
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "exactly one call");
    (out, requests.into_iter().next().unwrap())
}

fn world() -> Message {
    json_message(r#"{"name":"World"}"#)
}

#[tokio::test]
async fn sync_call_emits_the_response_with_lambda_properties() {
    let log =
        "START RequestId: req-42 Version: 3\nhello from the function\nEND RequestId: req-42\n";
    let reply = Reply::ok(r#"{"greeting":"Hello, World!"}"#)
        .request_id("req-42")
        .header("x-amz-executed-version", "3")
        .header("x-amz-log-result", &BASE64.encode(log));
    let extra = json!({
        "qualifier": "PROD",
        "logTail": true,
        "clientContext": {"custom": {"tenant": "acme"}},
    });
    let (out, req) = one(extra, world(), reply).await;

    assert_eq!(body(&out), json!({"greeting": "Hello, World!"}));
    assert_eq!(out.content_type.as_deref(), Some("application/json"));
    let p = &out.properties;
    assert_eq!(p["orderId"], 42, "input properties are kept");
    assert_eq!(p["lambda.statusCode"], 200);
    assert_eq!(p["lambda.requestId"], "req-42");
    assert_eq!(p["lambda.executedVersion"], "3");
    assert_eq!(p["lambda.functionName"], "hello");
    assert_eq!(p["lambda.qualifier"], "PROD");
    assert_eq!(p["lambda.invocationType"], "RequestResponse");
    assert_eq!(p["lambda.logResult"], log);

    assert_eq!(req.method, "POST");
    assert_eq!(
        req.target,
        "/2015-03-31/functions/hello/invocations?Qualifier=PROD"
    );
    // RequestResponse is Lambda's default: the header is left out, as the SDKs' defaults are.
    assert_eq!(req.header("x-amz-invocation-type"), None);
    assert_eq!(req.header("x-amz-log-type"), Some("Tail"));
    let ctx = BASE64
        .decode(req.header("x-amz-client-context").unwrap())
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&ctx).unwrap(),
        json!({"custom": {"tenant": "acme"}})
    );
    assert_eq!(
        req.body, br#"{"name":"World"}"#,
        "a JSON body is sent as it is"
    );
    assert!(
        req.header("authorization")
            .unwrap()
            .contains("Credential=AKIDLAMBDAFLOWTEST/"),
        "signed with the static key"
    );
}

#[tokio::test]
async fn every_function_name_form_reaches_the_right_path() {
    let cases = [
        (
            "hello:PROD",
            "/2015-03-31/functions/hello%3APROD/invocations",
        ),
        (
            "123456789012:function:hello",
            "/2015-03-31/functions/123456789012%3Afunction%3Ahello/invocations",
        ),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:hello",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ahello/invocations",
        ),
    ];
    for (name, path) in cases {
        let (out, req) = one(json!({"functionName": name}), world(), Reply::ok("{}")).await;
        assert_eq!(req.target, path, "{name}");
        assert_eq!(out.properties["lambda.functionName"], name);
    }
    let (_, req) = one(
        json!({"functionName": "arn:aws:lambda:us-east-1:123456789012:function:hello", "qualifier": "7"}),
        world(),
        Reply::ok("{}"),
    )
    .await;
    assert!(
        req.target.ends_with("/invocations?Qualifier=7"),
        "{}",
        req.target
    );
}

#[tokio::test]
async fn event_call_acknowledges_with_202() {
    let reply = Reply::new(202, Vec::new()).request_id("req-event");
    let (out, req) = one(
        json!({"invocationType": "Event", "logTail": true}),
        world(),
        reply,
    )
    .await;
    assert_eq!(
        body(&out),
        json!({"statusCode": 202, "requestId": "req-event", "functionName": "hello"})
    );
    assert_eq!(out.properties["lambda.statusCode"], 202);
    assert_eq!(out.properties["lambda.invocationType"], "Event");
    assert_eq!(req.header("x-amz-invocation-type"), Some("Event"));
    assert_eq!(
        req.header("x-amz-log-type"),
        None,
        "log tail is for synchronous calls only"
    );
}

#[tokio::test]
async fn async_invoke_is_an_event_call_with_an_acknowledgement() {
    let reply = Reply::new(202, Vec::new()).request_id("req-async");
    let (out, req) = one(json!({"asyncInvoke": true}), world(), reply).await;
    assert_eq!(
        body(&out),
        json!({"statusCode": 202, "requestId": "req-async", "functionName": "hello"})
    );
    assert_eq!(req.header("x-amz-invocation-type"), Some("Event"));
    assert_eq!(out.properties["orderId"], 42);
}

#[tokio::test]
async fn dry_run_acknowledges_with_204() {
    let reply = Reply::new(204, Vec::new()).request_id("req-dry");
    let (out, req) = one(json!({"invocationType": "DryRun"}), world(), reply).await;
    assert_eq!(
        body(&out),
        json!({"statusCode": 204, "requestId": "req-dry", "functionName": "hello"})
    );
    assert_eq!(req.header("x-amz-invocation-type"), Some("DryRun"));
}

#[tokio::test]
async fn unchecked_payload_is_sent_as_a_json_string() {
    let input = Message::new("Hello there").with_content_type("text/plain");
    let (out, req) = one(
        json!({"payloadIsJson": false}),
        input,
        Reply::ok(r#""HELLO THERE""#),
    )
    .await;
    assert_eq!(req.body, br#""Hello there""#);
    assert_eq!(body(&out), json!("HELLO THERE"));
}

#[tokio::test]
async fn responses_are_decoded_in_the_configured_charset() {
    let utf16: Vec<u8> = "{\"city\":\"Zürich\"}"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "UTF-8",
            "{\"city\":\"Zürich\"}".as_bytes().to_vec(),
            "{\"city\":\"Zürich\"}",
        ),
        (
            "ISO-8859-1",
            b"{\"city\":\"Z\xFCrich\"}".to_vec(),
            "{\"city\":\"Zürich\"}",
        ),
        (
            "Shift_JIS",
            b"{\"greeting\":\"\x82\xB1\x82\xF1\x82\xC9\x82\xBF\x82\xCD\"}".to_vec(),
            "{\"greeting\":\"こんにちは\"}",
        ),
        ("UTF-16LE", utf16, "{\"city\":\"Zürich\"}"),
    ];
    for (charset, bytes, text) in cases {
        let (out, _) = one(
            json!({"responseCharset": charset}),
            world(),
            Reply::new(200, bytes),
        )
        .await;
        assert_eq!(out.body_text(), Some(text), "{charset}");
        assert_eq!(
            out.content_type.as_deref(),
            Some("application/json"),
            "{charset}"
        );
    }
}

#[tokio::test]
async fn a_text_response_is_emitted_as_text() {
    let (out, _) = one(
        json!({}),
        world(),
        Reply::new(200, b"not json at all".to_vec()),
    )
    .await;
    assert_eq!(out.body_text(), Some("not json at all"));
    assert_eq!(
        out.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
}

#[tokio::test]
async fn record_mode_emits_a_destinations_success_record() {
    let reply = Reply::ok(r#"{"greeting":"Hello, World!"}"#)
        .request_id("req-rec")
        .header("x-amz-executed-version", "2");
    let (out, _) = one(
        json!({"outputMode": "record", "qualifier": "PROD"}),
        world(),
        reply,
    )
    .await;
    let rec = body(&out);
    assert_eq!(rec["version"], "1.0");
    assert_eq!(rec["requestContext"]["condition"], "Success");
    assert!(rec["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        rec["requestContext"],
        json!({"functionName": "hello", "qualifier": "PROD", "invocationType": "RequestResponse",
               "requestId": "req-rec", "approximateInvokeCount": 1, "condition": "Success"})
    );
    assert_eq!(
        rec["responseContext"],
        json!({"statusCode": 200, "executedVersion": "2"})
    );
    assert_eq!(rec["requestPayload"], json!({"name": "World"}));
    assert_eq!(rec["responsePayload"], json!({"greeting": "Hello, World!"}));
    assert_eq!(out.properties["lambda.requestId"], "req-rec");
}
