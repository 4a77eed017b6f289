//! The Lambda-path sections of the table: connector against raw SDK loop (minimal endpoint and
//! `cargo lambda watch`), concurrency scaling with a 50 ms function, and v2 batching.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::endpoint::{Action, Endpoint};
use crate::lambda::{self, Target};
use crate::stats::{Row, median};
use crate::{Args, EMULATOR_INSTANCES};

const HELLO: &str = r#"{"name":"World"}"#;
const SLOW_MS: u64 = 50;

fn minimal(url: String) -> Target {
    Target {
        label: "minimal endpoint".into(),
        url,
        function: "hello".into(),
        payload: HELLO.into(),
    }
}

/// Connector at maxConcurrency 1, 8, 64 against the raw loop: the minimal endpoint (our own
/// overhead), then the demo `echo` function under `cargo lambda watch --release`.
pub async fn lambda_path(args: &Args, emulator: Option<&Emulator>) -> Vec<Row> {
    let mut rows = Vec::new();
    let endpoint = Endpoint::answer_at_once();
    let target = minimal(endpoint.url());
    let (n, runs) = if args.full {
        (5_000, args.runs)
    } else {
        (40, 1)
    };
    for c in [1, 8, 64] {
        eprintln!("bench: lambda path, minimal endpoint, maxConcurrency {c}, {n} invocations");
        rows.extend(lambda::compare(&target, c, n, runs).await);
    }
    if let Some(emulator) = emulator {
        let target = Target {
            label: "cargo lambda watch --release, echo".into(),
            url: emulator.url(),
            function: "echo".into(),
            payload: HELLO.into(),
        };
        for c in [1, 8, 64] {
            let n = 2_000;
            eprintln!(
                "bench: lambda path, cargo lambda watch, maxConcurrency {c}, {n} invocations"
            );
            rows.extend(lambda::compare(&target, c, n, runs).await);
        }
    }
    rows
}

/// Throughput against maxConcurrency 1…128 with a function that takes 50 ms: the minimal
/// endpoint sleeping 50 ms (pure scaling), then `slow` under `cargo lambda watch`.
pub async fn scaling(args: &Args, emulator: Option<&Emulator>) -> Vec<Row> {
    let mut rows = Vec::new();
    let sleeping = Endpoint::start(Arc::new(|_| {
        Action::ok(format!(r#"{{"sleptMs":{SLOW_MS}}}"#)).after(Duration::from_millis(SLOW_MS))
    }));
    let concurrencies: &[usize] = if args.full {
        &[1, 2, 4, 8, 16, 32, 64, 128]
    } else {
        &[1, 4]
    };
    let runs = if args.full { args.runs.min(3) } else { 1 };
    let mut targets = vec![Target {
        label: format!("minimal endpoint sleeping {SLOW_MS} ms"),
        url: sleeping.url(),
        function: "slow".into(),
        payload: format!(r#"{{"ms":{SLOW_MS}}}"#),
    }];
    if let Some(emulator) = emulator {
        targets.push(Target {
            label: format!(
                "cargo lambda watch --release --concurrency {}, slow {SLOW_MS} ms",
                emulator.concurrency()
            ),
            url: emulator.url(),
            function: "slow".into(),
            payload: format!(r#"{{"ms":{SLOW_MS}}}"#),
        });
    }
    for target in &targets {
        for &c in concurrencies {
            // About ten rounds of c calls, and at least two seconds' worth at c = 1.
            let n = if args.full {
                (10 * c as u64).max(40)
            } else {
                2 * c as u64
            };
            eprintln!(
                "bench: scaling, {}, maxConcurrency {c}, {n} invocations",
                target.label
            );
            let (ours, raw) = lambda::throughput_pair(target, c, n, runs).await;
            let ideal = c.min(limit_of(target, emulator)) as f64 * 1000.0 / SLOW_MS as f64;
            rows.push(Row::new(
                format!("scaling: {}, maxConcurrency {c}", target.label),
                "inv/s",
                ours,
                raw,
                format!("raw SDK loop, {c} in flight (ideal {ideal:.0}/s)"),
            ));
        }
    }
    rows
}

/// How many calls the target can run at once.
fn limit_of(target: &Target, emulator: Option<&Emulator>) -> usize {
    match emulator {
        Some(e) if target.url == e.url() => EMULATOR_INSTANCES as usize,
        _ => usize::MAX,
    }
}

/// Invocations per 10,000 messages with `payloadFormat: v2` at maxRecords 1, 10, 100, counted
/// by the endpoint (which also counts the records inside each batch), and the message rate
/// beside `payloadFormat: message` on the same endpoint.
pub async fn batching(args: &Args) -> Vec<Row> {
    let messages: u64 = if args.full { 10_000 } else { 300 };
    let records = Arc::new(AtomicU64::new(0));
    let counted = records.clone();
    let endpoint = Endpoint::start(Arc::new(move |inv| {
        if let Ok(Value::Array(batch)) = serde_json::from_slice::<Value>(&inv.body) {
            counted.fetch_add(batch.len() as u64, Ordering::SeqCst);
        }
        Action::ok("{}")
    }));
    let target = minimal(endpoint.url());
    let concurrency = 4;
    let runs = if args.full { args.runs.min(3) } else { 1 };

    // payloadFormat: message, the same flow shape: the baseline for the message rate.
    let mut message_rates = Vec::new();
    for _ in 0..runs {
        message_rates.push(lambda::connector_throughput(&target, concurrency, messages).await);
    }
    let message_rate = median(&message_rates);

    let mut rows = Vec::new();
    for size in [1u64, 10, 100] {
        eprintln!("bench: v2 batching, maxRecords {size}, {messages} messages");
        let config = lambda::lambda_config(
            &target,
            concurrency,
            json!({"payloadFormat": "v2", "batch": {"maxRecords": size, "maxWaitMs": 1000}}),
        );
        let flow = lambda::feeder_flow(&target, messages, config);
        let (mut rates, mut invocations) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let before = endpoint.invocations();
            records.store(0, Ordering::SeqCst);
            let first_wave = concurrency * size as usize;
            let (rate, received) = lambda::run_feeder_flow(&flow, first_wave).await;
            assert_eq!(received, messages, "one out message per input message");
            assert_eq!(
                records.load(Ordering::SeqCst),
                messages,
                "every message reached the endpoint in exactly one batch record"
            );
            invocations.push((endpoint.invocations() - before) as f64);
            rates.push(rate);
        }
        let per_10k = median(&invocations) * 10_000.0 / messages as f64;
        let ideal = (10_000f64 / size as f64).ceil();
        let bench = format!("v2 batching: maxRecords {size}, maxConcurrency {concurrency}");
        rows.push(Row::new(
            &bench,
            "inv per 10k msgs",
            per_10k,
            ideal,
            "ideal: ceil(10,000 / maxRecords)",
        ));
        rows.push(Row::new(
            &bench,
            "msg/s",
            median(&rates),
            message_rate,
            "payloadFormat message, same endpoint",
        ));
    }
    rows
}

/// v2 batching against an endpoint that answers after 5 ms (latency-bound, as real Lambda is):
/// the message rate at maxRecords 100 beside maxRecords 1, at the same maxConcurrency.
pub async fn batching_latency_bound(args: &Args) -> Vec<Row> {
    let delay = Duration::from_millis(5);
    let endpoint = Endpoint::start(Arc::new(move |_| Action::ok("{}").after(delay)));
    let target = minimal(endpoint.url());
    let concurrency = 4;
    let runs = if args.full { args.runs.min(3) } else { 1 };
    let rate_at = async |size: u64, messages: u64| {
        eprintln!(
            "bench: v2 batching against a 5 ms endpoint, maxRecords {size}, {messages} messages"
        );
        let config = lambda::lambda_config(
            &target,
            concurrency,
            json!({"payloadFormat": "v2", "batch": {"maxRecords": size, "maxWaitMs": 1000}}),
        );
        let flow = lambda::feeder_flow(&target, messages, config);
        let mut rates = Vec::new();
        for _ in 0..runs {
            let (rate, received) =
                lambda::run_feeder_flow(&flow, concurrency * size as usize).await;
            assert_eq!(received, messages, "one out message per input message");
            rates.push(rate);
        }
        median(&rates)
    };
    // The same number of invocations on each side (maxRecords 100 moves 100× the messages).
    let calls: u64 = if args.full { 400 } else { 20 };
    let single = rate_at(1, calls).await;
    let batched = rate_at(100, calls * 100).await;
    vec![Row::new(
        "v2 batching, 5 ms endpoint: maxRecords 100, maxConcurrency 4",
        "msg/s",
        batched,
        single,
        "maxRecords 1, same endpoint",
    )]
}
