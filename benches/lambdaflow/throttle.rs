//! Adaptive against fixed concurrency when Lambda throttles: a function that takes
//! [`ALLOWED`] concurrent executions (each held [`HOLD`]) and answers 429
//! `TooManyRequestsException` to any call beyond them, as a reserved-concurrency limit does.
//! The same flow runs with `concurrency.mode: adaptive` (min 1, max [`MAX`]) and with a fixed
//! `maxConcurrency` [`MAX`], both retrying throttled calls, so every message gets through: the
//! rows give the 429s per 1,000 messages and the message rate of each.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::Args;
use crate::endpoint::{Action, Endpoint};
use crate::lambda::{self, Target};
use crate::stats::{Row, median};

/// Concurrent executions the function takes.
pub const ALLOWED: usize = 8;
/// How long each execution runs.
pub const HOLD: Duration = Duration::from_millis(20);
/// The fixed limit, and the adaptive one's ceiling.
pub const MAX: usize = 64;

/// Lambda's side: executions running now (by their end time); a call beyond [`ALLOWED`] is
/// throttled at once and takes no execution.
#[derive(Default)]
struct Reserved {
    running: Mutex<VecDeque<Instant>>,
    throttled: AtomicU64,
}

impl Reserved {
    fn admit(&self) -> Action {
        let now = Instant::now();
        let mut running = self.running.lock().expect("executions");
        running.retain(|end| *end > now);
        if running.len() >= ALLOWED {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            return Action::throttled();
        }
        running.push_back(now + HOLD);
        Action::ok("{}").after(HOLD)
    }
}

/// One configuration's median rate and 429s per 1,000 messages.
async fn run(
    endpoint_url: &str,
    reserved: &Reserved,
    messages: u64,
    runs: usize,
    extra: serde_json::Value,
) -> (f64, f64) {
    let target = Target {
        label: "throttling".into(),
        url: endpoint_url.to_owned(),
        function: "reserved".into(),
        payload: "{}".into(),
    };
    let mut config = lambda::lambda_config(&target, MAX, extra);
    config["preserveOrder"] = json!(false);
    config["errorHandling"] = json!({"requestProcessing": {"retry": {
        "maxAttempts": 100, "intervalMs": 5, "backoffMultiplier": 2, "maxIntervalMs": 500}}});
    let flow = lambda::feeder_flow(&target, messages, config);
    let (mut rates, mut throttles) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let before = reserved.throttled.load(Ordering::Relaxed);
        let (rate, received) = lambda::run_feeder_flow(&flow, ALLOWED).await;
        assert_eq!(received, messages, "every message gets through");
        let seen = reserved.throttled.load(Ordering::Relaxed) - before;
        throttles.push(seen as f64 * 1000.0 / messages as f64);
        rates.push(rate);
    }
    (median(&rates), median(&throttles))
}

/// The section's rows.
pub async fn rows(args: &Args) -> Vec<Row> {
    let reserved = Arc::new(Reserved::default());
    let endpoint = Endpoint::start({
        let reserved = reserved.clone();
        Arc::new(move |_| reserved.admit())
    });
    let (messages, runs) = if args.full {
        (2_000, args.runs.min(3))
    } else {
        (100, 1)
    };
    eprintln!(
        "bench: throttling, {ALLOWED} concurrent executions allowed, {messages} messages, \
         adaptive (1..{MAX}) and fixed {MAX}"
    );
    let adaptive = json!({"concurrency": {"mode": "adaptive", "min": 1, "max": MAX}});
    let (adaptive_rate, adaptive_429) =
        run(&endpoint.url(), &reserved, messages, runs, adaptive).await;
    let (fixed_rate, fixed_429) = run(&endpoint.url(), &reserved, messages, runs, json!({})).await;
    let bench = format!(
        "throttling: {ALLOWED} executions allowed, {} ms each, adaptive 1..{MAX}",
        HOLD.as_millis()
    );
    let baseline = format!("fixed maxConcurrency {MAX}, same retries");
    vec![
        Row::new(
            &bench,
            "429s per 1k msgs",
            adaptive_429,
            fixed_429,
            &baseline,
        ),
        Row::new(&bench, "msg/s", adaptive_rate, fixed_rate, &baseline),
    ]
}
