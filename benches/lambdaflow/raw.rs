//! The Lambda-path baseline: a raw `aws-sdk-lambda` invoke loop, `concurrency` workers each
//! invoking in turn until `invocations` calls are done, with the client set up as the
//! LambdaConnector sets up its own (static credentials, a region, an endpoint URL, the SDK's
//! retries off, the same timeouts).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::primitives::Blob;

/// What one run of a loop measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Latency of each call.
    pub latencies: Vec<Duration>,
    /// When each call completed, in seconds from the first completion.
    pub done: Vec<f64>,
    /// Calls in flight.
    pub concurrency: usize,
}

impl Measured {
    /// Calls per second in the steady state, taken as the connector's figure is (see
    /// [`steady_rate`]).
    pub fn throughput(&self) -> f64 {
        steady_rate(self.done.clone(), self.concurrency)
    }
}

/// Events per second in the steady state: the events after the first `first_wave`, over the
/// time from the `first_wave`-th event to the last. Start-up (building a client, opening
/// connections) is not counted, nor is the first wave of `first_wave` events that complete
/// together when that many calls start at once — counting them against the span after the
/// first event would overstate the rate by up to one wave.
pub fn steady_rate(mut times: Vec<f64>, first_wave: usize) -> f64 {
    assert!(times.len() >= 2, "a rate needs two events");
    times.sort_by(f64::total_cmp);
    let k = first_wave.clamp(1, times.len() - 1);
    let span = times[times.len() - 1] - times[k - 1];
    (times.len() - k) as f64 / span.max(1e-9)
}

/// A client for `endpoint` configured like the LambdaConnector's.
pub fn client(endpoint: &str, invoke_timeout: Duration) -> aws_sdk_lambda::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(invoke_timeout)
        .operation_attempt_timeout(invoke_timeout)
        .operation_timeout(invoke_timeout)
        .build();
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts)
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// Invokes `function` with `payload` `invocations` times from `concurrency` workers. Any
/// failed call fails the benchmark: a figure over failures would mean nothing.
pub async fn invoke_loop(
    client: &aws_sdk_lambda::Client,
    function: &str,
    payload: &[u8],
    concurrency: usize,
    invocations: u64,
) -> Measured {
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let function = function.to_owned();
        let payload = payload.to_vec();
        let next = next.clone();
        workers.spawn(async move {
            let mut calls = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < invocations {
                let t0 = Instant::now();
                let out = client
                    .invoke()
                    .function_name(&function)
                    .payload(Blob::new(payload.clone()))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("raw SDK invoke of {function} failed: {e:?}"));
                calls.push((t0.elapsed(), Instant::now()));
                assert_eq!(out.status_code(), 200, "raw SDK invoke of {function}");
                assert!(
                    out.function_error().is_none(),
                    "raw SDK invoke of {function}: function error"
                );
            }
            calls
        });
    }
    let mut calls = Vec::with_capacity(invocations as usize);
    while let Some(done) = workers.join_next().await {
        calls.extend(done.expect("invoke worker"));
    }
    let first = calls
        .iter()
        .map(|(_, d)| *d)
        .min()
        .expect("calls were made");
    Measured {
        latencies: calls.iter().map(|(l, _)| *l).collect(),
        done: calls
            .iter()
            .map(|(_, d)| (*d - first).as_secs_f64())
            .collect(),
        concurrency,
    }
}
