//! Issue 14's per-message features end to end, through the real HTTP stack (the SDK, hyper, a
//! TCP socket) against the AWS-wire endpoint (`support::aws_wire`): merge output, message
//! properties forwarded in the client context, per-item batch results, and routing per
//! message. Assertions are about what reached the endpoint and each port, never durations.

#[path = "fixtures/lambda/common.rs"]
mod common;
mod support;

use std::time::Duration;

use common::{body, config, start};
use lambdaflow::Message;
use lambdaflow::components::lambda::LambdaConnector;
use serde_json::{Value, json};
use support::aws_wire::{AwsWire, Reply, Request};

/// Generous: nothing here should take long, but CI machines are shared.
const WAIT: Duration = Duration::from_secs(60);

fn connector(config: &Value) -> LambdaConnector {
    LambdaConnector::from_json("lambda1", config).expect("valid config")
}

/// An endpoint answering every call with `{"price": 9.5}`.
async fn pricing() -> AwsWire {
    AwsWire::start(|_: &Request| Reply::ok(json!({"price": 9.5}).to_string())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_keeps_the_input_body_and_adds_the_response_at_merge_at() {
    let wire = pricing().await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"outputMode": "merge", "mergeAt": "/enrichment/quote"}),
    )));
    let input = Message::new(r#"{"sku":"A-1","enrichment":{"stock":3}}"#)
        .with_content_type("application/json")
        .with_property("orderId", 42);
    h.send(input.clone()).await.unwrap();
    let out = h.out(WAIT).await.expect("the merged message");
    assert_eq!(
        body(&out),
        json!({"sku": "A-1", "enrichment": {"stock": 3, "quote": {"price": 9.5}}})
    );
    assert_eq!(out.content_type.as_deref(), Some("application/json"));
    assert_eq!(out.properties["orderId"], 42);
    assert_eq!(out.properties["lambda.statusCode"], 200);
    assert_eq!(
        wire.requests()[0].json(),
        json!({"sku": "A-1", "enrichment": {"stock": 3}}),
        "the function gets the body as it came"
    );
    let rest = h.stop(WAIT).await;
    assert!(rest.error.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_refuses_bodies_it_cannot_merge_into_before_any_call() {
    let wire = pricing().await;
    let mut h = start(connector(&config(
        &wire.url(),
        // payloadIsJson off, so a text body reaches the merge check.
        json!({"outputMode": "merge", "mergeAt": "/a/b", "payloadIsJson": false}),
    )));
    h.send(Message::new("plain text secret").with_property("seq", 0))
        .await
        .unwrap();
    h.send(Message::new(r#"{"a":"scalar secret"}"#).with_property("seq", 1))
        .await
        .unwrap();
    h.send(Message::new(r#"{"a":null}"#).with_property("seq", 2))
        .await
        .unwrap();
    let not_json = h.error(WAIT).await.expect("the text body");
    let unreachable = h.error(WAIT).await.expect("the scalar parent");
    let merged = h.out(WAIT).await.expect("a null parent becomes an object");
    assert_eq!(body(&merged)["a"]["b"], json!({"price": 9.5}));
    for (err, code, seq) in [
        (&not_json, "MergeInputNotJson", 0),
        (&unreachable, "MergeTargetUnreachable", 1),
    ] {
        let rec = body(err);
        assert_eq!(err.properties["seq"], seq);
        assert_eq!(rec["error"]["type"], "invalidRequest");
        assert_eq!(rec["error"]["code"], code);
        assert_eq!(rec["requestContext"]["approximateInvokeCount"], 0);
        let message = rec["error"]["message"].as_str().unwrap();
        assert!(message.contains("mergeAt"), "{message}");
        assert!(!message.contains("secret"), "no value is echoed: {message}");
    }
    assert_eq!(wire.count(), 1, "only the mergeable message was sent");
    h.stop(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_in_a_v2_batch_merges_into_each_message_and_refuses_alone() {
    let wire = pricing().await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"outputMode": "merge", "payloadFormat": "v2", "metadataFields": [],
               "batch": {"maxRecords": 3, "maxWaitMs": 600000}}),
    )));
    h.send(Message::new(r#"{"n":0}"#)).await.unwrap();
    h.send(Message::new("[1]")).await.unwrap();
    h.send(Message::new(r#"{"n":2}"#)).await.unwrap();
    let a = h.out(WAIT).await.unwrap();
    let err = h.error(WAIT).await.unwrap();
    let b = h.out(WAIT).await.unwrap();
    assert_eq!(body(&a), json!({"n": 0, "lambda": {"price": 9.5}}));
    assert_eq!(body(&b), json!({"n": 2, "lambda": {"price": 9.5}}));
    assert_eq!(body(&err)["error"]["code"], "MergeTargetUnreachable");
    assert_eq!(
        wire.requests()[0].json(),
        json!([{"value": {"n": 0}}, {"value": {"n": 2}}]),
        "the refused message is not in the payload"
    );
    h.stop(WAIT).await;
}

/// The client context a request carried, decoded.
fn client_context(r: &Request) -> Option<Value> {
    use base64::Engine as _;
    let b64 = r.headers.get("x-amz-client-context")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    Some(serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_properties_reach_the_function_in_the_client_context() {
    let wire = pricing().await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"forwardProperties": ["orderId", "tenant.*"],
               "clientContext": {"custom": {"source": "node", "tenant.id": "node"},
                                 "env": {"stage": "test"}}}),
    )));
    h.send(
        Message::new(r#"{"n":0}"#)
            .with_property("orderId", 42)
            .with_property("tenant.id", "acme")
            .with_property("tenant.vip", true)
            .with_property("other", "not forwarded"),
    )
    .await
    .unwrap();
    h.send(Message::new(r#"{"n":1}"#).with_property("other", "x"))
        .await
        .unwrap();
    h.out(WAIT).await.expect("first");
    h.out(WAIT).await.expect("second");
    // Calls run concurrently: find each message's request by its body.
    let mut requests = wire.requests();
    requests.sort_by_key(|r| r.json()["n"].as_u64());
    assert_eq!(
        client_context(&requests[0]),
        Some(
            json!({"custom": {"source": "node", "tenant.id": "acme", "tenant.vip": "true",
                               "orderId": "42"},
                    "env": {"stage": "test"}})
        ),
        "forwarded properties, as strings, over the configured custom map"
    );
    assert_eq!(
        client_context(&requests[1]),
        Some(json!({"custom": {"source": "node", "tenant.id": "node"}, "env": {"stage": "test"}})),
        "nothing selected: the configured context as it is"
    );
    h.stop(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_context_over_the_limit_is_an_error_record_never_a_cut() {
    let wire = pricing().await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"forwardProperties": ["x-*"]}),
    )));
    let big = "s3cr3t".repeat(500);
    h.send(
        Message::new("{}")
            .with_property("x-big", big.clone())
            .with_property("seq", 0),
    )
    .await
    .unwrap();
    h.send(
        Message::new("{}")
            .with_property("x-small", "ok")
            .with_property("seq", 1),
    )
    .await
    .unwrap();
    let err = h.error(WAIT).await.expect("the oversized message");
    let out = h.out(WAIT).await.expect("the next message is sent");
    assert_eq!(out.properties["seq"], 1);
    let rec = body(&err);
    assert_eq!(err.properties["seq"], 0);
    assert_eq!(rec["error"]["type"], "invalidRequest");
    assert_eq!(rec["error"]["code"], "ClientContextTooLarge");
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 0);
    let message = rec["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("3583") && message.contains("forwardProperties"),
        "{message}"
    );
    assert!(!message.contains("s3cr3t"), "{message}");
    assert_eq!(wire.count(), 1, "the oversized message was never sent");
    assert_eq!(
        client_context(&wire.requests()[0]),
        Some(json!({"custom": {"x-small": "ok"}}))
    );
    h.stop(WAIT).await;
}

/// A V2 connector on `wire` with 3-record batches and `responseMapping`.
fn mapped(wire: &AwsWire, mapping: &str) -> LambdaConnector {
    connector(&config(
        &wire.url(),
        json!({"payloadFormat": "v2", "metadataFields": ["messageId"],
               "batch": {"maxRecords": 3, "maxWaitMs": 600000, "responseMapping": mapping}}),
    ))
}

fn numbered(n: u64) -> Message {
    Message::new(format!("{{\"n\":{n}}}")).with_property("seq", n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_record_gives_each_message_its_own_element() {
    // Answers each record with {"double": 2n}; a batch whose first value is 10 gets one
    // element too few.
    let wire = AwsWire::start(|r: &Request| {
        let records = r.json().as_array().cloned().unwrap_or_default();
        let mut out: Vec<Value> = records
            .iter()
            .map(|rec| json!({"double": rec["value"]["n"].as_u64().unwrap() * 2}))
            .collect();
        if records[0]["value"]["n"] == 10 {
            out.pop();
        }
        Reply::ok(Value::Array(out).to_string())
    })
    .await;
    let mut h = start(mapped(&wire, "perRecord"));
    for n in [1, 2, 3] {
        h.send(numbered(n)).await.unwrap();
    }
    for n in [1u64, 2, 3] {
        let out = h.out(WAIT).await.expect("one out per message");
        assert_eq!(out.properties["seq"], n);
        assert_eq!(body(&out), json!({"double": n * 2}));
        assert_eq!(out.properties["lambda.batchIndex"], n - 1);
    }
    for n in [10, 11, 12] {
        h.send(numbered(n)).await.unwrap();
    }
    for (i, n) in [10u64, 11, 12].into_iter().enumerate() {
        let err = h.error(WAIT).await.expect("a mismatch fails every message");
        let rec = body(&err);
        assert_eq!(err.properties["seq"], n);
        assert_eq!(rec["error"]["type"], "responseGeneration");
        assert_eq!(rec["error"]["code"], "BatchResponseMismatch");
        assert!(
            rec["error"]["message"]
                .as_str()
                .unwrap()
                .contains("an array of 2 elements")
        );
        assert_eq!(rec["requestContext"]["batchIndex"], i);
        assert_eq!(rec["requestContext"]["approximateInvokeCount"], 1);
        assert_eq!(
            rec["responsePayload"],
            json!([{"double": 20}, {"double": 22}])
        );
        assert_eq!(rec["requestPayload"], json!({"n": n}));
    }
    let rest = h.stop(WAIT).await;
    assert!(rest.out.is_empty() && rest.error.is_empty());
    assert_eq!(
        (
            rest.status.received,
            rest.status.emitted,
            rest.status.errors
        ),
        (6, 3, 3),
        "conservation"
    );
    assert_eq!(wire.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_item_failures_send_listed_messages_to_error_and_the_rest_out() {
    // Fails the record whose value is even, by its messageId; a batch starting at 10 names an
    // identifier that is not in it.
    let wire = AwsWire::start(|r: &Request| {
        let records = r.json().as_array().cloned().unwrap_or_default();
        let mut failures: Vec<Value> = records
            .iter()
            .filter(|rec| rec["value"]["n"].as_u64().unwrap() % 2 == 0)
            .map(|rec| json!({"itemIdentifier": rec["messageId"]}))
            .collect();
        if records[0]["value"]["n"] == 10 {
            failures.push(json!({"itemIdentifier": "not-in-this-batch"}));
        }
        Reply::ok(json!({"batchItemFailures": failures}).to_string())
    })
    .await;
    let mut h = start(mapped(&wire, "batchItemFailures"));
    for n in [1, 2, 3] {
        h.send(numbered(n)).await.unwrap();
    }
    let first = h.out(WAIT).await.expect("1 succeeded");
    let failed = h.error(WAIT).await.expect("2 was listed");
    let third = h.out(WAIT).await.expect("3 succeeded");
    assert_eq!(
        (
            first.properties["seq"].clone(),
            third.properties["seq"].clone()
        ),
        (json!(1), json!(3))
    );
    let rec = body(&failed);
    assert_eq!(failed.properties["seq"], 2);
    assert_eq!(rec["error"]["type"], "requestProcessing");
    assert_eq!(rec["error"]["code"], "BatchItemFailure");
    assert_eq!(rec["error"]["retryable"], false);
    assert_eq!(rec["requestContext"]["batchIndex"], 1);
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 1);
    let listed = &wire.requests()[0].json()[1]["messageId"];
    assert_eq!(
        rec["responsePayload"],
        json!({"batchItemFailures": [{"itemIdentifier": listed}]})
    );
    assert_eq!(
        *listed, rec["inputMessage"]["id"],
        "the itemIdentifier is the message's id"
    );

    for n in [10, 11, 12] {
        h.send(numbered(n)).await.unwrap();
    }
    for n in [10u64, 11, 12] {
        let err = h
            .error(WAIT)
            .await
            .expect("an unknown identifier fails the batch");
        assert_eq!(err.properties["seq"], n);
        let rec = body(&err);
        assert_eq!(rec["error"]["code"], "InvalidBatchItemFailures");
        let message = rec["error"]["message"].as_str().unwrap();
        assert!(message.contains("not in this batch"), "{message}");
        assert!(!message.contains("not-in-this-batch"), "{message}");
    }
    let rest = h.stop(WAIT).await;
    assert_eq!(
        (
            rest.status.received,
            rest.status.emitted,
            rest.status.errors
        ),
        (6, 2, 4),
        "conservation"
    );
}

/// An endpoint answering `{"function": <name called>}`, and 404 for the function `missing`.
async fn naming() -> AwsWire {
    AwsWire::start(|r: &Request| {
        if r.function == "missing" {
            return Reply::service_error(404, "ResourceNotFoundException", "Function not found");
        }
        Reply::ok(json!({"function": r.function, "query": r.query}).to_string())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_allow_overrides_a_message_chooses_function_and_qualifier() {
    let wire = naming().await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"qualifier": "PROD", "allowOverrides": true, "maxConcurrency": 1,
               "errorHandling": {"requestProcessing": {"retry": {"enabled": false}}}}),
    )));
    h.send(Message::new("{}").with_property("seq", 0))
        .await
        .unwrap();
    h.send(
        Message::new("{}")
            .with_property("seq", 1)
            .with_property("lambda.functionName", "world")
            .with_property("lambda.qualifier", "BETA"),
    )
    .await
    .unwrap();
    h.send(
        Message::new("{}")
            .with_property("seq", 2)
            .with_property("lambda.functionName", "world"),
    )
    .await
    .unwrap();
    h.send(
        Message::new("{}")
            .with_property("seq", 3)
            .with_property("lambda.functionName", "has spaces secret"),
    )
    .await
    .unwrap();
    h.send(
        Message::new("{}")
            .with_property("seq", 4)
            .with_property("lambda.functionName", "missing")
            .with_property("lambda.qualifier", "7"),
    )
    .await
    .unwrap();
    let node = h.out(WAIT).await.expect("the node's function");
    let beta = h.out(WAIT).await.expect("world:BETA");
    let bare = h.out(WAIT).await.expect("world, unqualified");
    assert_eq!(
        body(&node),
        json!({"function": "hello", "query": "Qualifier=PROD"})
    );
    assert_eq!(
        body(&beta),
        json!({"function": "world", "query": "Qualifier=BETA"})
    );
    assert_eq!(
        body(&bare),
        json!({"function": "world", "query": ""}),
        "the node's qualifier belongs to the node's function"
    );
    assert_eq!(beta.properties["lambda.functionName"], "world");
    assert_eq!(beta.properties["lambda.qualifier"], "BETA");
    assert_eq!(node.properties["lambda.qualifier"], "PROD");

    let refused = h.error(WAIT).await.expect("an invalid override");
    let rec = body(&refused);
    assert_eq!(refused.properties["seq"], 3);
    assert_eq!(rec["error"]["type"], "invalidRequest");
    assert_eq!(rec["error"]["code"], "InvalidOverride");
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 0);
    let message = rec["error"]["message"].as_str().unwrap();
    assert!(message.contains("lambda.functionName"), "{message}");
    assert!(!message.contains("secret"), "no value is echoed: {message}");

    let failed = h.error(WAIT).await.expect("the routed call failed");
    let rec = body(&failed);
    assert_eq!(rec["error"]["code"], "ResourceNotFoundException");
    assert_eq!(
        (
            rec["requestContext"]["functionName"].clone(),
            rec["requestContext"]["qualifier"].clone()
        ),
        (json!("missing"), json!("7")),
        "the record shows the function the message chose"
    );
    assert_eq!(wire.count(), 4, "the refused message was never sent");
    h.stop(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_are_ignored_unless_allowed() {
    let wire = naming().await;
    let mut h = start(connector(&config(&wire.url(), json!({}))));
    h.send(Message::new("{}").with_property("lambda.functionName", "world"))
        .await
        .unwrap();
    let out = h.out(WAIT).await.unwrap();
    assert_eq!(body(&out)["function"], "hello");
    h.stop(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_id_and_durable_execution_name_reach_lambda() {
    let wire = naming().await;
    let mut h = start(connector(&config(
        &wire.url(),
        json!({"tenantId": "shared", "tenantIdProperty": "tenant",
               "durableExecutionNameProperty": "orderId", "maxConcurrency": 1}),
    )));
    h.send(
        Message::new(r#"{"n":0}"#)
            .with_property("tenant", "blue")
            .with_property("orderId", 42),
    )
    .await
    .unwrap();
    h.send(Message::new(r#"{"n":1}"#)).await.unwrap();
    h.send(
        Message::new(r#"{"n":2}"#)
            .with_property("tenant", "blue!")
            .with_property("seq", 2),
    )
    .await
    .unwrap();
    h.out(WAIT).await.expect("tenant blue, execution 42");
    h.out(WAIT).await.expect("the fixed tenant");
    let err = h.error(WAIT).await.expect("a tenant id Lambda refuses");
    let rec = body(&err);
    assert_eq!(rec["error"]["code"], "InvalidTenantId");
    assert!(rec["error"]["message"].as_str().unwrap().contains("tenant"));
    assert!(!rec["error"]["message"].as_str().unwrap().contains("blue!"));
    let requests = wire.requests();
    assert_eq!(requests.len(), 2);
    let header = |r: &Request, name: &str| r.headers.get(name).cloned();
    assert_eq!(
        header(&requests[0], "x-amz-tenant-id").as_deref(),
        Some("blue")
    );
    assert_eq!(
        header(&requests[0], "x-amz-durable-execution-name").as_deref(),
        Some("42")
    );
    assert_eq!(
        header(&requests[1], "x-amz-tenant-id").as_deref(),
        Some("shared")
    );
    assert_eq!(header(&requests[1], "x-amz-durable-execution-name"), None);
    h.stop(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_batches_hold_messages_for_one_function() {
    let wire = AwsWire::start(|r: &Request| {
        let records = r.json().as_array().map(Vec::len).unwrap_or(0);
        Reply::ok(json!({"function": r.function, "records": records}).to_string())
    })
    .await;
    let h = start(connector(&config(
        &wire.url(),
        json!({"payloadFormat": "v2", "allowOverrides": true, "metadataFields": [],
               "batch": {"maxRecords": 10, "maxWaitMs": 600000}}),
    )));
    let routes = [None, None, Some("other"), Some("other"), None];
    for (n, route) in routes.iter().enumerate() {
        let mut m = numbered(n as u64);
        if let Some(f) = route {
            m = m.with_property("lambda.functionName", *f);
        }
        h.send(m).await.unwrap();
    }
    let rest = h.stop(WAIT).await;
    let outs: Vec<Value> = rest.out.iter().map(body).collect();
    assert_eq!(
        outs,
        vec![
            json!({"function": "hello", "records": 2}),
            json!({"function": "hello", "records": 2}),
            json!({"function": "other", "records": 2}),
            json!({"function": "other", "records": 2}),
            json!({"function": "hello", "records": 1}),
        ],
        "consecutive messages for one function share a batch, in input order"
    );
    let called: Vec<String> = wire.requests().iter().map(|r| r.function.clone()).collect();
    assert_eq!(called.len(), 3);
    assert_eq!(rest.out[2].properties["lambda.functionName"], "other");
}
