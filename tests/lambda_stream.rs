//! `invocationType: ResponseStream` through the real HTTP stack (the SDK, hyper, a TCP socket)
//! against the AWS-wire endpoint answering `InvokeWithResponseStream` with real event-stream
//! frames (`support::event_stream`, encoded by `aws-smithy-eventstream`): `streamOutput: whole`
//! joined and shaped like a buffered response, `maxResponseBytes`, `streamOutput: chunks`
//! (chunk messages, their properties, the end marker, the counters), `InvokeComplete` with an
//! error code, a connection reset mid-stream, and the retry rule (before the first chunk: as
//! the policy says; after it: never). Assertions are about what reaches `out` and `error`, the
//! node's counters and what reached the endpoint; never about durations.

#[path = "fixtures/lambda/common.rs"]
mod common;
mod support;

use std::time::Duration;

use base64::Engine as _;
use common::{body, config, json_message, start};
use lambdaflow::Message;
use lambdaflow::components::lambda::LambdaConnector;
use serde_json::{Value, json};
use support::aws_wire::{AwsWire, Fault, Reply, Request};
use support::event_stream::{self, chunk, complete, frames};

/// Generous: nothing here should take long, but CI machines are shared.
const WAIT: Duration = Duration::from_secs(60);

fn connector(config: &Value) -> LambdaConnector {
    LambdaConnector::from_json("lambda1", config).expect("valid config")
}

/// A streaming node's config for `wire`, with `extra` merged over it.
fn streaming(wire: &AwsWire, extra: Value) -> Value {
    let mut base = json!({"invocationType": "ResponseStream"});
    base.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    config(&wire.url(), base)
}

/// Retries off for every error type.
fn no_retries() -> Value {
    let off = json!({"retry": {"enabled": false}});
    json!({"invalidRequest": off, "requestProcessing": off,
        "responseGeneration": off, "connection": off})
}

/// Connection errors retried up to `attempts` in all, 1 ms apart.
fn connection_retries(attempts: u32) -> Value {
    json!({"connection": {"retry": {"maxAttempts": attempts, "intervalMs": 1, "maxIntervalMs": 1}}})
}

fn prop<'a>(m: &'a Message, name: &str) -> &'a Value {
    m.properties
        .get(name)
        .unwrap_or_else(|| panic!("property {name} on {m:?}"))
}

/// Runs `messages` through a node with `config` and returns everything it emitted once its
/// input is closed and it has finished.
async fn run(config: &Value, messages: Vec<Message>) -> Ran {
    let h = start(connector(config));
    for m in messages {
        h.send(m).await.unwrap();
    }
    let rest = h.stop(WAIT).await;
    Ran {
        out: rest.out,
        error: rest.error,
        received: rest.status.received,
        emitted: rest.status.emitted,
        errors: rest.status.errors,
    }
}

/// What a run emitted, and the node's counters at its end.
struct Ran {
    out: Vec<Message>,
    error: Vec<Message>,
    received: u64,
    emitted: u64,
    errors: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_joins_the_chunks_into_one_message_shaped_like_a_buffered_response() {
    let log = base64::engine::general_purpose::STANDARD.encode("START RequestId: 1\nEND\n");
    let wire = AwsWire::start(move |_| {
        let mut all: Vec<Vec<u8>> = [&b"{\"greet"[..], b"ing\":\"hel", b"lo\"}"]
            .iter()
            .map(|c| chunk(c))
            .collect();
        all.push(complete(None, Some(&log)));
        event_stream::reply(&all)
    })
    .await;
    let ran = run(
        &streaming(&wire, json!({"logTail": true})),
        vec![json_message(r#"{"name":"World"}"#)],
    )
    .await;
    assert!(ran.error.is_empty(), "{:?}", ran.error);
    assert_eq!(ran.out.len(), 1, "one message for the whole stream");
    let out = &ran.out[0];
    assert_eq!(body(out), json!({"greeting": "hello"}));
    assert_eq!(out.content_type.as_deref(), Some("application/json"));
    assert_eq!(prop(out, "orderId"), &json!(42));
    assert_eq!(prop(out, "lambda.invocationType"), &json!("ResponseStream"));
    assert_eq!(prop(out, "lambda.statusCode"), &json!(200));
    assert_eq!(prop(out, "lambda.executedVersion"), &json!("$LATEST"));
    assert!(prop(out, "lambda.requestId").is_string());
    assert_eq!(
        prop(out, "lambda.logResult"),
        &json!("START RequestId: 1\nEND\n")
    );
    assert!(!out.properties.contains_key("lambda.streamId"));
    // It went to InvokeWithResponseStream, with the payload and the log type.
    let requests: Vec<Request> = wire.requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].streaming);
    assert_eq!(requests[0].function, "hello");
    assert_eq!(requests[0].json(), json!({"name": "World"}));
    assert_eq!(
        requests[0]
            .headers
            .get("x-amz-log-type")
            .map(String::as_str),
        Some("Tail")
    );
    assert_eq!((ran.received, ran.emitted, ran.errors), (1, 1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_feeds_record_mode_and_the_charset_like_a_buffered_response() {
    // "café" in ISO-8859-1, split inside the stream.
    let wire = AwsWire::start(|_| event_stream::reply(&frames(&[&b"caf"[..], &[0xE9]]))).await;
    let ran = run(
        &streaming(
            &wire,
            json!({"outputMode": "record", "responseCharset": "ISO-8859-1"}),
        ),
        vec![json_message(r#"{"name":"World"}"#)],
    )
    .await;
    assert!(ran.error.is_empty(), "{:?}", ran.error);
    let rec = body(&ran.out[0]);
    assert_eq!(rec["responsePayload"], "café");
    assert_eq!(rec["requestPayload"], json!({"name": "World"}));
    assert_eq!(rec["requestContext"]["invocationType"], "ResponseStream");
    assert_eq!(rec["requestContext"]["condition"], "Success");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_refuses_a_response_past_max_response_bytes_and_emits_none_of_it() {
    let wire =
        AwsWire::start(|_| event_stream::reply(&frames(&[&b"123456"[..], b"789012", b"345678"])))
            .await;
    let ran = run(
        &streaming(
            &wire,
            json!({"maxResponseBytes": 10, "errorHandling": no_retries()}),
        ),
        vec![json_message(r#"{"name":"World"}"#)],
    )
    .await;
    assert!(
        ran.out.is_empty(),
        "nothing of a refused stream reaches out"
    );
    assert_eq!(ran.error.len(), 1);
    let rec = body(&ran.error[0]);
    assert_eq!(rec["error"]["type"], "responseGeneration", "{rec:#}");
    assert_eq!(rec["error"]["code"], "ResponseTooLarge");
    assert_eq!(rec["error"]["retryable"], false);
    let message = rec["error"]["message"].as_str().unwrap();
    assert!(message.contains("/maxResponseBytes"), "{message}");
    assert_eq!(rec["requestContext"]["invocationType"], "ResponseStream");
    assert_eq!(rec["responseContext"]["statusCode"], 200);
    assert_eq!(wire.count(), 1, "not retried");
    assert_eq!((ran.received, ran.emitted, ran.errors), (1, 0, 1));
    // At the limit exactly, it passes.
    let ran = run(
        &streaming(&wire, json!({"maxResponseBytes": 18})),
        vec![json_message(r#"{"name":"World"}"#)],
    )
    .await;
    assert_eq!(ran.out[0].body_text(), Some("123456789012345678"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_leave_in_order_with_their_stream_properties_then_an_end_marker() {
    // Each input's payload names its chunks; the second chunk is not UTF-8.
    let wire = AwsWire::start(|r: &Request| {
        let tag = r.json()["tag"].as_str().unwrap().to_owned();
        let parts: Vec<Vec<u8>> = vec![
            format!("{tag}-0").into_bytes(),
            vec![0xFF, 0xFE, b'1'],
            format!("{tag}-2").into_bytes(),
        ];
        event_stream::reply(&frames(&parts))
    })
    .await;
    let ran = run(
        &streaming(
            &wire,
            json!({"streamOutput": "chunks", "maxConcurrency": 1}),
        ),
        vec![
            json_message(r#"{"tag":"a"}"#),
            json_message(r#"{"tag":"b"}"#),
        ],
    )
    .await;
    assert!(ran.error.is_empty(), "{:?}", ran.error);
    assert_eq!(ran.out.len(), 8, "3 chunks and an end marker per input");
    let mut ids = Vec::new();
    for (n, tag) in ["a", "b"].iter().enumerate() {
        let group = &ran.out[n * 4..n * 4 + 4];
        let id = prop(&group[0], "lambda.streamId").clone();
        assert!(id.is_string());
        for (i, m) in group[..3].iter().enumerate() {
            assert_eq!(prop(m, "lambda.streamId"), &id, "one id per invocation");
            assert_eq!(prop(m, "lambda.chunkIndex"), &json!(i));
            assert_eq!(prop(m, "orderId"), &json!(42), "the input's properties");
            assert_eq!(prop(m, "lambda.invocationType"), &json!("ResponseStream"));
            assert_eq!(prop(m, "lambda.statusCode"), &json!(200));
            assert_eq!(prop(m, "lambda.executedVersion"), &json!("$LATEST"));
            assert!(!m.properties.contains_key("lambda.streamEnd"));
            assert_eq!(m.content_type.as_deref(), Some("application/octet-stream"));
        }
        assert_eq!(group[0].body.as_ref(), format!("{tag}-0").as_bytes());
        assert_eq!(group[1].body.as_ref(), &[0xFF, 0xFE, b'1'], "raw bytes");
        assert_eq!(group[2].body.as_ref(), format!("{tag}-2").as_bytes());
        let end = &group[3];
        assert_eq!(prop(end, "lambda.streamEnd"), &json!(true));
        assert_eq!(prop(end, "lambda.chunkCount"), &json!(3));
        assert_eq!(prop(end, "lambda.streamId"), &id);
        assert!(!end.properties.contains_key("lambda.chunkIndex"));
        assert_eq!(
            body(end),
            json!({"streamId": id, "chunkCount": 3, "bytes": 9})
        );
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    // Chunks are parts of their input's output: emitted counts the end markers.
    assert_eq!((ran.received, ran.emitted, ran.errors), (2, 2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_in_invoke_complete_reaches_error_and_chunks_sent_stay_sent() {
    let details = json!({"errorType": "ReportError", "errorMessage": "page 3 failed"}).to_string();
    let wire = AwsWire::start(move |r: &Request| {
        let before = r.json()["before"].as_u64().unwrap() as usize;
        let mut all: Vec<Vec<u8>> = (0..before)
            .map(|i| chunk(format!("page {i}").as_bytes()))
            .collect();
        all.push(complete(Some(("Unhandled", &details)), None));
        event_stream::reply(&all)
    })
    .await;
    for (mode, before) in [("whole", 2), ("chunks", 0), ("chunks", 2)] {
        let ran = run(
            &streaming(&wire, json!({"streamOutput": mode})),
            vec![json_message(&json!({"before": before}).to_string())],
        )
        .await;
        let chunks_out = if mode == "chunks" { before } else { 0 };
        assert_eq!(
            ran.out.len(),
            chunks_out,
            "{mode}/{before}: chunks sent stay sent"
        );
        for (i, m) in ran.out.iter().enumerate() {
            assert_eq!(m.body_text(), Some(format!("page {i}").as_str()));
        }
        assert_eq!(ran.error.len(), 1, "{mode}/{before}");
        let rec = body(&ran.error[0]);
        assert_eq!(rec["error"]["type"], "requestProcessing", "{rec:#}");
        assert_eq!(rec["error"]["code"], "Unhandled");
        assert_eq!(rec["error"]["retryable"], false);
        assert!(
            rec["error"]["message"]
                .as_str()
                .unwrap()
                .contains("page 3 failed")
        );
        assert_eq!(rec["responsePayload"]["errorType"], "ReportError");
        assert_eq!(rec["requestContext"]["functionName"], "hello");
        assert!(rec["requestContext"]["requestId"].is_string());
        assert_eq!(
            prop(&ran.error[0], "orderId"),
            &json!(42),
            "the input's properties"
        );
        if mode == "chunks" {
            assert_eq!(rec["responseContext"]["chunksEmitted"], before);
            if before > 0 {
                assert_eq!(
                    rec["responseContext"]["streamId"],
                    *prop(&ran.out[0], "lambda.streamId")
                );
            }
        }
        assert_eq!((ran.received, ran.emitted, ran.errors), (1, 0, 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_stream_is_a_connection_error_not_a_hang() {
    let all = frames(&[&b"part one"[..], b"part two", b"part three"]);
    let cut = all[0].len() + all[1].len();
    let wire =
        AwsWire::start(move |_| event_stream::reply(&all).fault(Fault::ResetAfter(cut))).await;
    for mode in ["whole", "chunks"] {
        let ran = run(
            &streaming(
                &wire,
                json!({"streamOutput": mode, "errorHandling": no_retries()}),
            ),
            vec![json_message(r#"{"name":"World"}"#)],
        )
        .await;
        assert_eq!(ran.error.len(), 1, "{mode}");
        let rec = body(&ran.error[0]);
        assert_eq!(rec["error"]["type"], "connection", "{mode}: {rec:#}");
        assert_eq!(rec["error"]["code"], "ResponseInterrupted", "{mode}");
        let bodies: Vec<_> = ran.out.iter().map(|m| m.body_text().unwrap()).collect();
        match mode {
            "whole" => {
                assert!(bodies.is_empty());
                assert_eq!(rec["error"]["retryable"], true);
            }
            _ => {
                assert_eq!(
                    bodies,
                    ["part one", "part two"],
                    "the frames before the reset"
                );
                assert_eq!(rec["error"]["retryable"], false, "chunks were emitted");
            }
        }
    }
    // A frame cut in half, then a clean close: the same.
    let all = frames(&[&b"part one"[..], b"part two"]);
    let cut = all[0].len() + 5;
    let body_len = cut;
    let wire = AwsWire::start(move |_| {
        let mut reply = event_stream::reply(&all);
        reply.body.truncate(body_len);
        reply
    })
    .await;
    let ran = run(
        &streaming(&wire, json!({"errorHandling": no_retries()})),
        vec![json_message(r#"{"name":"World"}"#)],
    )
    .await;
    let rec = body(&ran.error[0]);
    assert_eq!(
        (rec["error"]["type"].as_str(), rec["error"]["code"].as_str()),
        (Some("connection"), Some("ResponseInterrupted")),
        "{rec:#}"
    );
    // A stream that ends cleanly without InvokeComplete: the same.
    let wire = AwsWire::start(|_| event_stream::reply(&[chunk(b"only")])).await;
    let ran = run(
        &streaming(&wire, json!({"errorHandling": no_retries()})),
        vec![json_message(r#"{"name":"World"}"#)],
    )
    .await;
    let rec = body(&ran.error[0]);
    assert_eq!(rec["error"]["code"], "ResponseInterrupted", "{rec:#}");
    assert!(ran.out.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_is_retried_before_its_first_chunk_and_never_after() {
    let all = frames(&[&b"c0"[..], b"c1", b"c2"]);
    let two = all[0].len() + all[1].len();
    // The first attempt drops before any frame; the second answers.
    let first_drops = {
        let all = all.clone();
        AwsWire::start(move |r: &Request| {
            let reply = event_stream::reply(&all);
            if r.seq == 1 {
                reply.fault(Fault::ResetAfter(0))
            } else {
                reply
            }
        })
        .await
    };
    for mode in ["whole", "chunks"] {
        let before = first_drops.count();
        let ran = run(
            &streaming(
                &first_drops,
                json!({"streamOutput": mode, "errorHandling": connection_retries(3)}),
            ),
            vec![json_message(r#"{"name":"World"}"#)],
        )
        .await;
        assert!(ran.error.is_empty(), "{mode}: {:?}", ran.error);
        let bodies: Vec<_> = ran.out.iter().map(|m| m.body.clone()).collect();
        match mode {
            "whole" => assert_eq!(bodies, [&b"c0c1c2"[..]]),
            _ => {
                assert_eq!(bodies.len(), 4);
                assert_eq!(&bodies[..3], [&b"c0"[..], b"c1", b"c2"]);
            }
        }
        assert_eq!((ran.received, ran.emitted, ran.errors), (1, 1, 0));
        if mode == "whole" {
            assert_eq!(first_drops.count() - before, 2, "retried once");
        }
    }
    // Every attempt drops after two frames: whole retries (nothing was emitted) up to the
    // policy's limit; chunks never retries once chunks were emitted.
    let wire =
        AwsWire::start(move |_| event_stream::reply(&all).fault(Fault::ResetAfter(two))).await;
    let ran = run(
        &streaming(
            &wire,
            json!({"streamOutput": "whole", "errorHandling": connection_retries(3)}),
        ),
        vec![json_message(r#"{"name":"World"}"#)],
    )
    .await;
    assert!(ran.out.is_empty());
    let rec = body(&ran.error[0]);
    assert_eq!(
        rec["requestContext"]["condition"], "RetriesExhausted",
        "{rec:#}"
    );
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(wire.count(), 3);
    let ran = run(
        &streaming(
            &wire,
            json!({"streamOutput": "chunks", "errorHandling": connection_retries(3)}),
        ),
        vec![json_message(r#"{"name":"World"}"#)],
    )
    .await;
    assert_eq!(wire.count(), 4, "one call, not retried");
    let bodies: Vec<_> = ran.out.iter().map(|m| m.body.clone()).collect();
    assert_eq!(bodies, [&b"c0"[..], b"c1"], "each chunk once");
    let rec = body(&ran.error[0]);
    assert_eq!(rec["error"]["code"], "ResponseInterrupted", "{rec:#}");
    assert_eq!(rec["error"]["retryable"], false);
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(rec["responseContext"]["chunksEmitted"], 2);
    let message = rec["error"]["message"].as_str().unwrap();
    assert!(message.contains("after 2 chunks"), "{message}");
    assert_eq!((ran.received, ran.emitted, ran.errors), (1, 0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_before_the_stream_is_classified_as_invokes() {
    let wire = AwsWire::start(|r: &Request| match r.json()["name"].as_str() {
        Some("a") => Reply::service_error(404, "ResourceNotFoundException", "Function not found"),
        _ => Reply::throttled("ReservedFunctionConcurrentInvocationLimitExceeded"),
    })
    .await;
    let ran = run(
        &streaming(&wire, json!({"errorHandling": no_retries()})),
        vec![
            json_message(r#"{"name":"a"}"#),
            json_message(r#"{"name":"b"}"#),
        ],
    )
    .await;
    assert!(ran.out.is_empty());
    let recs: Vec<Value> = ran.error.iter().map(body).collect();
    assert_eq!(recs[0]["error"]["code"], "ResourceNotFoundException");
    assert_eq!(recs[0]["error"]["type"], "requestProcessing");
    assert_eq!(recs[0]["responseContext"]["statusCode"], 404);
    assert_eq!(recs[1]["error"]["code"], "TooManyRequestsException");
    assert_eq!(recs[1]["error"]["retryable"], true);
    assert_eq!(
        recs[1]["error"]["detail"],
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    );
    assert!(wire.requests().iter().all(|r| r.streaming));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_streams_keep_each_streams_order_and_every_input_leaves_once() {
    // Even inputs stream 3 chunks and complete; odd ones fail after 2 chunks.
    let details = json!({"errorType": "Half", "errorMessage": "stopped half way"}).to_string();
    let wire = AwsWire::start(move |r: &Request| {
        let n = r.json()["n"].as_u64().unwrap();
        let parts: Vec<Vec<u8>> = (0..3).map(|i| format!("{n}:{i}").into_bytes()).collect();
        if n.is_multiple_of(2) {
            event_stream::reply(&frames(&parts))
        } else {
            let mut all: Vec<Vec<u8>> = parts[..2].iter().map(|p| chunk(p)).collect();
            all.push(complete(Some(("Unhandled", &details)), None));
            event_stream::reply(&all)
        }
    })
    .await;
    let inputs = (0..6)
        .map(|n| json_message(&json!({"n": n}).to_string()))
        .collect();
    let ran = run(
        &streaming(
            &wire,
            json!({"streamOutput": "chunks", "maxConcurrency": 4}),
        ),
        inputs,
    )
    .await;
    let (ends, chunks): (Vec<&Message>, Vec<&Message>) = ran
        .out
        .iter()
        .partition(|m| m.properties.contains_key("lambda.streamEnd"));
    assert_eq!(ends.len(), 3, "one end marker per complete stream");
    assert_eq!(ran.error.len(), 3, "one record per failed stream");
    assert_eq!(chunks.len(), 3 * 3 + 3 * 2, "every chunk once");
    // Within a stream, chunks leave in order, all before its end marker.
    let mut streams: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for m in &ran.out {
        let id = prop(m, "lambda.streamId").as_str().unwrap().to_owned();
        let seen = streams.entry(id).or_default();
        match m.properties.get("lambda.chunkIndex") {
            Some(i) => {
                assert_eq!(i, &json!(seen.len()), "chunk order within its stream");
                seen.push(m.body_text().unwrap().to_owned());
            }
            None => assert_eq!(prop(m, "lambda.chunkCount"), &json!(seen.len())),
        }
    }
    assert_eq!(streams.len(), 6, "one stream id per invocation");
    for parts in streams.values() {
        let n = parts[0].split(':').next().unwrap();
        assert!(
            parts.iter().all(|p| p.starts_with(&format!("{n}:"))),
            "{parts:?}"
        );
    }
    for rec in ran.error.iter().map(body) {
        assert!(
            !rec["requestPayload"]["n"]
                .as_u64()
                .unwrap()
                .is_multiple_of(2)
        );
        assert_eq!(rec["responseContext"]["chunksEmitted"], 2);
    }
    // Conservation: chunks are parts, each input is one end marker or one record.
    assert_eq!((ran.received, ran.emitted, ran.errors), (6, 3, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_stream_ends_at_invoke_timeout_ms_not_in_a_hang() {
    // Half the frames arrive, then nothing while the connection stays open.
    let all = frames(&[&b"first"[..], b"second", b"third", b"fourth"]);
    let wire = AwsWire::start(move |_| event_stream::reply(&all).fault(Fault::StallBody)).await;
    for mode in ["whole", "chunks"] {
        let ran = run(
            &streaming(
                &wire,
                json!({"streamOutput": mode, "connection": {"invokeTimeoutMs": 300},
                       "errorHandling": connection_retries(3)}),
            ),
            vec![json_message(r#"{"name":"World"}"#)],
        )
        .await;
        assert_eq!(ran.error.len(), 1, "{mode}");
        let rec = body(&ran.error[0]);
        assert_eq!(rec["error"]["type"], "connection", "{mode}: {rec:#}");
        assert_eq!(rec["error"]["code"], "Timeout", "{mode}");
        assert_eq!(
            rec["error"]["retryable"], false,
            "{mode}: the function may have run"
        );
        assert_eq!(rec["requestContext"]["approximateInvokeCount"], 1, "{mode}");
        let bodies: Vec<_> = ran.out.iter().map(|m| m.body_text().unwrap()).collect();
        match mode {
            "whole" => assert!(bodies.is_empty()),
            // Half the body is the first two frames and part of the third.
            _ => assert_eq!(bodies, ["first", "second"], "the frames before the stall"),
        }
        assert_eq!((ran.received, ran.emitted, ran.errors), (1, 0, 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_settings_apply_to_the_stream() {
    let wire = AwsWire::start(|_| event_stream::reply(&frames(&[&b"{}"[..]]))).await;
    let ran = run(
        &streaming(
            &wire,
            json!({"qualifier": "PROD", "tenantId": "acme", "forwardProperties": ["orderId"],
                   "clientContext": {"custom": {"source": "lambdaflow"}}}),
        ),
        vec![json_message(r#"{"name":"World"}"#)],
    )
    .await;
    assert!(ran.error.is_empty(), "{:?}", ran.error);
    assert_eq!(prop(&ran.out[0], "lambda.qualifier"), &json!("PROD"));
    let request = &wire.requests()[0];
    assert!(request.streaming);
    assert_eq!(request.query, "Qualifier=PROD");
    assert_eq!(
        request.headers.get("x-amz-tenant-id").map(String::as_str),
        Some("acme")
    );
    let context = request
        .headers
        .get("x-amz-client-context")
        .expect("a client context");
    let context: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(context)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        context["custom"],
        json!({"source": "lambdaflow", "orderId": "42"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_frame_is_a_malformed_response_not_retried() {
    let mut all = frames(&[&b"intact"[..], b"corrupt"]);
    // A payload byte of the second frame changes: its message checksum no longer matches.
    let second = all[1].len();
    all[1][second - 6] ^= 0xFF;
    let wire = AwsWire::start(move |_| event_stream::reply(&all)).await;
    let ran = run(
        &streaming(
            &wire,
            json!({"streamOutput": "chunks", "errorHandling": connection_retries(3)}),
        ),
        vec![json_message(r#"{"name":"World"}"#)],
    )
    .await;
    let bodies: Vec<_> = ran.out.iter().map(|m| m.body_text().unwrap()).collect();
    assert_eq!(bodies, ["intact"]);
    let rec = body(&ran.error[0]);
    assert_eq!(rec["error"]["type"], "requestProcessing", "{rec:#}");
    assert_eq!(rec["error"]["code"], "MalformedResponse");
    assert_eq!(rec["error"]["retryable"], false);
    assert_eq!(wire.count(), 1);
}
