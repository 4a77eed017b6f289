//! Engine rows: a Feeder → Display (→ Display …) flow passing N messages, against a raw chain of
//! tokio bounded channels of the same shape (one producer task → a forwarding task per extra hop
//! → one consumer task, channels of the same capacity).
//!
//! The flow is a real one, started with the library API as `lambdaflow run` starts it (batch
//! mode), with Display printing off and `maxMessages: 1` and Feeder `historySize: 1`, so what is
//! measured is the engine's per-message path — a fresh message id and time per send, counters,
//! the one-message history, the channel hops — not stdout or a growing history. The raw chain
//! sends clones of one prebuilt [`Message`] and drops them on arrival: the floor any engine built
//! on tokio channels could reach.
//!
//! Beside the wall-clock rows, [`instruction_rows`] counts instructions per message with
//! `valgrind --tool=callgrind` (repeatable on a busy machine, where wall-clock figures move
//! 10–20 %): this benchmark re-runs itself under callgrind as a probe (`--callgrind-probe`) at two
//! message counts, and the difference over the difference in messages is the per-message cost,
//! start-up excluded.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use lambdaflow::Message;
use lambdaflow::components::registry;
use lambdaflow::runtime::{RunMode, RunOptions, start};
use serde_json::json;
use tokio::sync::mpsc;

use crate::stats::{Row, fmt_num, median};

/// Channel capacity of both sides (the engine's default input queue).
pub const QUEUE: usize = 128;
const BODY: &str = r#"{"name":"World"}"#;

/// Which side a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The lambdaflow flow.
    Engine,
    /// The raw tokio channel chain.
    Raw,
}

impl Side {
    /// The name used on the probe's command line.
    pub fn name(self) -> &'static str {
        match self {
            Side::Engine => "engine",
            Side::Raw => "raw",
        }
    }

    /// Parses [`Side::name`].
    pub fn parse(name: &str) -> Option<Side> {
        match name {
            "engine" => Some(Side::Engine),
            "raw" => Some(Side::Raw),
            _ => None,
        }
    }

    /// One run of `messages` over `hops` channel hops.
    pub async fn once(self, messages: u64, hops: usize) -> Duration {
        match self {
            Side::Engine => lambdaflow_once(messages, hops).await,
            Side::Raw => raw_once(messages, hops).await,
        }
    }
}

/// Runs the flow once (a Feeder and `hops` Displays in a line); returns the elapsed time from
/// start to the end of the run.
pub async fn lambdaflow_once(messages: u64, hops: usize) -> Duration {
    let mut nodes = vec![json!({"id": "feeder1", "type": "feeder", "config": {
        "messages": [{"body": BODY, "contentType": "application/json"}],
        "sendOnStart": true, "repeat": messages, "historySize": 1}})];
    let mut edges = Vec::new();
    let mut from = "feeder1".to_owned();
    for hop in 1..=hops {
        let id = format!("display{hop}");
        nodes.push(json!({"id": id, "type": "display", "config": {"maxMessages": 1}}));
        edges.push(
            json!({"id": format!("r{hop}"), "from": {"node": from, "port": "out"},
                          "to": {"node": id, "port": "in"}}),
        );
        from = id;
    }
    let flow = json!({"id": "bench-engine", "nodes": nodes, "edges": edges});
    let flow = registry()
        .parse_plan(&flow.to_string())
        .expect("the bench flow is valid");
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
    let received = handle.status().nodes[&from].received;
    assert_eq!(
        received, messages,
        "the last Display must see every message"
    );
    elapsed
}

/// Runs the raw channel chain once: a producer, `hops - 1` forwarders, a consumer.
pub async fn raw_once(messages: u64, hops: usize) -> Duration {
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
    for _ in 1..hops {
        let (next_tx, next_rx) = mpsc::channel::<Message>(QUEUE);
        let mut upstream = std::mem::replace(&mut rx, next_rx);
        tokio::spawn(async move {
            while let Some(m) = upstream.recv().await {
                if next_tx.send(m).await.is_err() {
                    break;
                }
            }
        });
    }
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

/// Warm-up, then `runs` alternating runs of each side at 1 and 2 hops; medians.
pub async fn rows(messages: u64, runs: usize) -> Vec<Row> {
    let secs = |side: Side, hops: usize| async move {
        side.once(messages / 10, hops).await;
        let mut all = Vec::new();
        for _ in 0..runs {
            all.push(side.once(messages, hops).await.as_secs_f64());
        }
        median(&all)
    };
    let (o1, r1) = (secs(Side::Engine, 1).await, secs(Side::Raw, 1).await);
    let (o2, r2) = (secs(Side::Engine, 2).await, secs(Side::Raw, 2).await);
    let n = messages as f64;
    let bench = format!("engine: Feeder → Display, {} msgs", fmt_num(n));
    let baseline = format!("tokio mpsc chain, capacity {QUEUE}");
    let hop = "engine: each extra hop (→ Display)";
    vec![
        Row::new(&bench, "msg/s", n / o1, n / r1, &baseline),
        Row::new(&bench, "ns/msg", o1 * 1e9 / n, r1 * 1e9 / n, &baseline),
        Row::new(
            hop,
            "ns/msg",
            (o2 - o1) * 1e9 / n,
            (r2 - r1) * 1e9 / n,
            "tokio mpsc chain, one more forwarding task",
        ),
    ]
}

/// The probe run under callgrind: one run of one side, nothing printed. A current-thread
/// runtime, so the count is the work per message and not idle workers parking and waking.
pub fn probe(side: Side, hops: usize, messages: u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(side.once(messages, hops));
}

/// Instructions of one probe run under callgrind.
fn instructions(side: Side, hops: usize, messages: u64) -> u64 {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args([
            "--callgrind-probe",
            side.name(),
            &hops.to_string(),
            &messages.to_string(),
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!("valgrind could not be started ({e}); scripts/bench.sh installs it")
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the callgrind probe failed: {stderr}");
    // `==PID== Collected : 123456789`
    stderr
        .lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, n)| n.trim().to_owned())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no instruction count in callgrind's output: {stderr}"))
}

/// Instructions per message at `hops`, start-up and shut-down excluded.
fn per_message(side: Side, hops: usize, small: u64, large: u64) -> f64 {
    let a = instructions(side, hops, small);
    let b = instructions(side, hops, large);
    b.saturating_sub(a) as f64 / (large - small) as f64
}

/// Instructions per message for 1 hop and per extra hop, engine beside the raw chain.
pub fn instruction_rows(small: u64, large: u64) -> Vec<Row> {
    eprintln!("bench: callgrind instruction counts, {small} and {large} messages, 1 and 2 hops");
    let e1 = per_message(Side::Engine, 1, small, large);
    let r1 = per_message(Side::Raw, 1, small, large);
    let e2 = per_message(Side::Engine, 2, small, large);
    let r2 = per_message(Side::Raw, 2, small, large);
    let baseline = format!("tokio mpsc chain, capacity {QUEUE}");
    vec![
        Row::new(
            "engine: Feeder → Display (callgrind)",
            "instr/msg",
            e1,
            r1,
            &baseline,
        ),
        Row::new(
            "engine: each extra hop (callgrind)",
            "instr/msg",
            e2 - e1,
            r2 - r1,
            "tokio mpsc chain, one more forwarding task",
        ),
    ]
}
