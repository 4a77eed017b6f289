//! `payloadFormat: v2` batching: Pulsar V2 records, the count, byte and time triggers, the
//! flush when input ends, splitting at the request limit, and per-message routing of a
//! batch's result (one `out` or `error` message per input message).

#[path = "fixtures/lambda/common.rs"]
mod common;
#[path = "fixtures/lambda/fake_lambda.rs"]
mod fake_lambda;

use common::*;
use fake_lambda::{FakeLambda, Reply};
use lambdaflow::Message;
use lambdaflow::components::lambda::LambdaConnector;
use lambdaflow::runtime::{self, RunOptions};
use serde_json::{Value, json};

fn numbered(n: usize) -> Message {
    Message::new(format!("{{\"n\":{n}}}")).with_property("seq", n as u64)
}

/// A fake that answers every batch with `{"processed": <records>}`.
async fn counting_fake() -> FakeLambda {
    FakeLambda::start(|req, _| {
        let records = req.json().as_array().map(Vec::len).unwrap_or(0);
        Reply::ok(&json!({"processed": records}).to_string())
    })
    .await
}

fn v2(fake: &FakeLambda, extra: Value) -> LambdaConnector {
    let mut e = json!({"payloadFormat": "v2"});
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    LambdaConnector::from_json("lambda1", &config(&fake.endpoint(), e)).unwrap()
}

async fn wait_for_requests(fake: &FakeLambda, n: usize) {
    eventually(&format!("{n} calls arrived"), || fake.count() >= n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_trigger_sends_v2_records_with_metadata() {
    let fake = counting_fake().await;
    let c = v2(
        &fake,
        json!({"batch": {"maxRecords": 3, "maxWaitMs": 600000}}),
    );
    let mut h = start(c);
    let inputs: Vec<Message> = (0..3).map(numbered).collect();
    for m in &inputs {
        h.send(m.clone()).await.unwrap();
    }
    let mut outs = Vec::new();
    for _ in 0..3 {
        outs.push(
            h.out(WAIT)
                .await
                .expect("one out per message, long before maxWaitMs"),
        );
    }
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "one invocation for the batch");
    let records = requests[0].json();
    let expected: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(n, m)| {
            json!({
                "messageId": m.id,
                "timestamp": lambdaflow::message::format_time(&m.timestamp),
                "properties": {"seq": n},
                "value": {"n": n},
            })
        })
        .collect();
    assert_eq!(records, Value::Array(expected));
    let batch_id = outs[0].properties["lambda.batchId"].clone();
    for (i, out) in outs.iter().enumerate() {
        assert_eq!(body(out), json!({"processed": 3}));
        assert_eq!(
            out.properties["seq"], i,
            "each out carries its own message's properties"
        );
        assert_eq!(out.properties["lambda.batchSize"], 3);
        assert_eq!(out.properties["lambda.batchIndex"], i);
        assert_eq!(out.properties["lambda.batchId"], batch_id);
    }
    let rest = h.stop(WAIT).await;
    assert_eq!((rest.status.received, rest.status.emitted), (3, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byte_trigger_sends_before_the_batch_grows_past_max_bytes() {
    let fake = counting_fake().await;
    // Each record {"value":{"n":N}} is 17 bytes; two make a 37-byte array, three 55.
    let c = v2(
        &fake,
        json!({"metadataFields": [], "batch": {"maxRecords": 100, "maxBytes": 40, "maxWaitMs": 600000}}),
    );
    let mut h = start(c);
    for n in 0..5 {
        h.send(numbered(n)).await.unwrap();
    }
    wait_for_requests(&fake, 2).await;
    for req in fake.requests() {
        assert!(req.body.len() <= 40, "{} bytes", req.body.len());
        assert_eq!(req.json().as_array().unwrap().len(), 2);
    }
    for _ in 0..4 {
        h.out(WAIT).await.expect("the two full batches come out");
    }
    assert!(
        h.out(QUIET).await.is_none(),
        "the fifth message waits for its batch"
    );
    let rest = h.stop(WAIT).await;
    assert_eq!(
        rest.out.len(),
        1,
        "the partial batch is sent when input ends"
    );
    assert_eq!(fake.count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_trigger_sends_a_partial_batch_after_max_wait() {
    let fake = counting_fake().await;
    let c = v2(
        &fake,
        json!({"batch": {"maxRecords": 100, "maxWaitMs": 1000}}),
    );
    let mut h = start(c);
    h.send(numbered(0)).await.unwrap();
    h.send(numbered(1)).await.unwrap();
    // When the deadline falls is unit-tested on a paused clock (batch.rs); here: the partial
    // batch is not sent at once, and it is sent without more input.
    assert!(h.out(QUIET).await.is_none(), "not before maxWaitMs");
    assert_eq!(fake.count(), 0, "not before maxWaitMs");
    let first = h.out(WAIT).await.expect("sent after maxWaitMs");
    assert_eq!(body(&first), json!({"processed": 2}));
    assert!(h.out(WAIT).await.is_some());
    assert_eq!(fake.count(), 1);
    h.stop(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_batch_is_flushed_when_the_flow_stops() {
    let fake = counting_fake().await;
    let flow = json!({
        "id": "batch-flush",
        "name": "batch flush",
        "nodes": [
            {"id": "feeder1", "type": "feeder", "name": "Feeder", "position": {"x": 0, "y": 0},
             "config": {"messages": [{"body": "{\"name\":\"World\"}"}], "sendOnStart": true, "repeat": 3}},
            {"id": "lambda1", "type": "lambda", "name": "LambdaConnector", "position": {"x": 1, "y": 0},
             "config": config(&fake.endpoint(), json!({"payloadFormat": "v2",
                "batch": {"maxRecords": 10, "maxWaitMs": 600000}}))},
            {"id": "display1", "type": "display", "name": "Display", "position": {"x": 2, "y": 0},
             "config": {}}
        ],
        "edges": [
            {"id": "route1", "from": {"node": "feeder1", "port": "out"}, "to": {"node": "lambda1", "port": "in"}},
            {"id": "route2", "from": {"node": "lambda1", "port": "out"}, "to": {"node": "display1", "port": "in"}}
        ]
    });
    let plan = lambdaflow::components::registry()
        .plan_value(&flow)
        .expect("valid flow");
    let handle = runtime::start(
        &plan,
        RunOptions {
            print_displays: false,
            ..RunOptions::batch()
        },
    )
    .unwrap();
    let report = tokio::time::timeout(WAIT, handle.wait())
        .await
        .expect("the batch is sent when the Feeder is done, not after 10 minutes");
    assert!(report.is_clean(), "{:?}", report.problems());
    assert_eq!(fake.count(), 1);
    assert_eq!(fake.requests()[0].json().as_array().unwrap().len(), 3);
    assert_eq!(handle.status().nodes["display1"].received, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_the_request_limit_is_split() {
    let fake = counting_fake().await;
    let c = v2(
        &fake,
        json!({"metadataFields": [], "requestSizeLimits": {"sync": 40},
               "batch": {"maxRecords": 10, "maxBytes": 10000000, "maxWaitMs": 600000}}),
    );
    let h = start(c);
    for n in 0..4 {
        h.send(numbered(n)).await.unwrap();
    }
    let rest = h.stop(WAIT).await;
    assert_eq!(rest.out.len(), 4);
    assert!(rest.error.is_empty());
    let sizes: Vec<usize> = fake.requests().iter().map(|r| r.body.len()).collect();
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    assert!(sizes.iter().all(|&s| s <= 40), "{sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_routes_each_message_to_error() {
    let fake = FakeLambda::start(|_, _| {
        Reply::ok(r#"{"errorMessage":"bad batch","errorType":"DemoFailure"}"#)
            .header("x-amz-function-error", "Handled")
    })
    .await;
    let c = v2(
        &fake,
        json!({"batch": {"maxRecords": 3, "maxWaitMs": 600000}}),
    );
    let mut h = start(c);
    for n in 0..3 {
        h.send(numbered(n)).await.unwrap();
    }
    let mut ids = Vec::new();
    for i in 0..3 {
        let err = h.error(WAIT).await.expect("one error per message");
        let rec = body(&err);
        assert_eq!(err.properties["seq"], i);
        assert_eq!(rec["error"]["code"], "Handled");
        assert_eq!(rec["requestContext"]["batchSize"], 3);
        assert_eq!(rec["requestContext"]["batchIndex"], i);
        assert_eq!(rec["requestContext"]["approximateInvokeCount"], 1);
        assert_eq!(rec["requestPayload"], json!({"n": i}));
        ids.push(rec["requestContext"]["batchId"].clone());
    }
    assert!(ids.iter().all(|id| *id == ids[0]));
    let rest = h.stop(WAIT).await;
    assert!(rest.out.is_empty() && rest.error.is_empty());
    assert_eq!(
        (rest.status.received, rest.status.errors),
        (3, 3),
        "conservation"
    );
    assert_eq!(fake.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_message_fails_alone_and_keeps_its_place() {
    let fake = counting_fake().await;
    let c = v2(
        &fake,
        json!({"batch": {"maxRecords": 3, "maxWaitMs": 600000}}),
    );
    let mut h = start(c);
    h.send(numbered(0)).await.unwrap();
    h.send(Message::new("not json").with_property("seq", 1))
        .await
        .unwrap();
    h.send(numbered(2)).await.unwrap();
    let err = h.error(WAIT).await.expect("the invalid message");
    assert_eq!(err.properties["seq"], 1);
    assert_eq!(body(&err)["error"]["code"], "InvalidJson");
    assert_eq!(body(&err)["requestContext"]["approximateInvokeCount"], 0);
    let a = h.out(WAIT).await.unwrap();
    let b = h.out(WAIT).await.unwrap();
    assert_eq!(
        (a.properties["seq"].clone(), b.properties["seq"].clone()),
        (json!(0), json!(2))
    );
    assert_eq!(body(&a), json!({"processed": 2}));
    assert_eq!(a.properties["lambda.batchSize"], 2);
    assert_eq!(b.properties["lambda.batchIndex"], 1);
    h.stop(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchecked_values_are_strings() {
    let fake = counting_fake().await;
    let c = v2(
        &fake,
        json!({"payloadIsJson": false, "metadataFields": ["contentType"],
               "batch": {"maxRecords": 2, "maxWaitMs": 600000}}),
    );
    let mut h = start(c);
    h.send(Message::new("plain").with_content_type("text/plain"))
        .await
        .unwrap();
    h.send(Message::new("{\"a\":1}")).await.unwrap();
    h.out(WAIT).await.unwrap();
    assert_eq!(
        fake.requests()[0].json(),
        json!([{"contentType": "text/plain", "value": "plain"},
               {"contentType": null, "value": "{\"a\":1}"}])
    );
    h.stop(WAIT).await;
}
