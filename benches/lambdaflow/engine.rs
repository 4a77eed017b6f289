//! Engine row: a Feeder → Display flow passing N messages, against a raw chain of tokio bounded
//! channels of the same shape (one producer task → one channel of the same capacity → one
//! consumer task).
//!
//! The flow is a real one, started with the library API as `lambdaflow run` starts it (batch
//! mode), with Display printing off and `maxMessages: 1` and Feeder `historySize: 1`, so what is
//! measured is the engine's per-message path — a fresh message id and time per send, counters,
//! the one-message history, a live event per displayed message, the channel hop — not stdout
//! or a growing history. The raw chain sends clones of one prebuilt [`Message`] and drops them
//! on arrival: the floor any engine built on tokio channels could reach.

use std::hint::black_box;
use std::time::{Duration, Instant};

use lambdaflow::Message;
use lambdaflow::flow::parse_flow;
use lambdaflow::runtime::{RunMode, RunOptions, start};
use serde_json::json;
use tokio::sync::mpsc;

use crate::stats::{Row, median};

/// Channel capacity of both sides (the engine's default input queue).
pub const QUEUE: usize = 128;
const BODY: &str = r#"{"name":"World"}"#;

/// Runs the flow once; returns the elapsed time from start to the end of the run.
pub async fn lambdaflow_once(messages: u64) -> Duration {
    let flow = json!({
        "id": "bench-engine",
        "nodes": [
            {"id": "feeder1", "type": "feeder", "config": {
                "messages": [{"body": BODY, "contentType": "application/json"}],
                "sendOnStart": true, "repeat": messages, "historySize": 1}},
            {"id": "display1", "type": "display", "config": {"maxMessages": 1}}
        ],
        "edges": [{"id": "r1", "from": {"node": "feeder1", "port": "out"},
                   "to": {"node": "display1", "port": "in"}}]
    });
    let flow = parse_flow(&flow.to_string()).expect("the bench flow is valid");
    let options = RunOptions {
        mode: RunMode::Batch,
        queue_size: QUEUE,
        print_displays: false,
    };
    let started = Instant::now();
    let handle = start(&flow, options).expect("the bench flow starts");
    let report = handle.wait().await;
    let elapsed = started.elapsed();
    assert!(report.is_clean(), "{:?}", report.problems());
    let received = handle.status().nodes["display1"].received;
    assert_eq!(received, messages, "the Display must see every message");
    elapsed
}

/// Runs the raw channel chain once.
pub async fn raw_once(messages: u64) -> Duration {
    let template = Message::new(BODY).with_content_type("application/json");
    let started = Instant::now();
    let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
    let producer = tokio::spawn(async move {
        for _ in 0..messages {
            if tx.send(template.clone()).await.is_err() {
                break;
            }
        }
    });
    let consumer = tokio::spawn(async move {
        let mut n = 0u64;
        while let Some(m) = rx.recv().await {
            black_box(m);
            n += 1;
        }
        n
    });
    producer.await.expect("producer");
    let received = consumer.await.expect("consumer");
    let elapsed = started.elapsed();
    assert_eq!(received, messages);
    elapsed
}

/// Warm-up, then `runs` alternating runs of each; medians.
pub async fn rows(messages: u64, runs: usize) -> Vec<Row> {
    lambdaflow_once(messages / 10).await;
    raw_once(messages / 10).await;
    let (mut ours, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(lambdaflow_once(messages).await.as_secs_f64());
        raw.push(raw_once(messages).await.as_secs_f64());
    }
    let (o, r) = (median(&ours), median(&raw));
    let n = messages as f64;
    let bench = format!(
        "engine: Feeder → Display, {} msgs",
        crate::stats::fmt_num(n)
    );
    let baseline = format!("tokio mpsc chain, capacity {QUEUE}");
    vec![
        Row::new(&bench, "msg/s", n / o, n / r, &baseline),
        Row::new(&bench, "ns/msg", o * 1e9 / n, r * 1e9 / n, &baseline),
    ]
}
