//! Lambda-path rows: the LambdaConnector against a raw `aws-sdk-lambda` invoke loop of the same
//! concurrency, both against the same endpoint.
//!
//! - Throughput: a real flow, Feeder → LambdaConnector → Display, as a user runs it (the Feeder
//!   keeps the connector's input queue full): results per second from the first wave of
//!   `maxConcurrency` results to the last (the raw loop's figure is taken the same way from its
//!   completions; see [`raw::steady_rate`]).
//! - Latency: a closed loop comparable with the raw loop's — a probe source sends a message only
//!   while fewer than `maxConcurrency` are between it and the probe sink, and each latency is
//!   the time from the source's emit to the sink's receive (two engine hops and the connector,
//!   the invocation included). The raw loop times each SDK call.
//!
//! Any failed invocation fails the benchmark: the error port must stay empty.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use futures::future::BoxFuture;
use lambdaflow::Message;
use lambdaflow::flow::{Flow, Registry};
use lambdaflow::runtime::port::{IN, OUT};
use lambdaflow::runtime::{
    Capabilities, Component, ComponentType, Descriptor, NodeContext, NodeExit, NodeId, RunMode,
    RunOptions, RuntimeError, start,
};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::raw;
use crate::stats::{Row, median, ms, percentile};

/// Where invocations go.
#[derive(Debug, Clone)]
pub struct Target {
    /// How the table names it.
    pub label: String,
    /// Base URL of the Lambda API.
    pub url: String,
    /// Function to invoke.
    pub function: String,
    /// Payload of every invocation.
    pub payload: String,
}

/// The LambdaConnector's config for `target` at `concurrency`, plus `extra` fields.
pub fn lambda_config(target: &Target, concurrency: usize, extra: Value) -> Value {
    let mut config = json!({
        "connection": {
            "region": "us-east-1",
            "accessKey": "test",
            "secretKey": "test",
            "endpointUrl": target.url,
            "invokeTimeoutMs": 60_000
        },
        "functionName": target.function,
        "maxConcurrency": concurrency,
    });
    if let (Value::Object(c), Value::Object(e)) = (&mut config, extra) {
        c.extend(e);
    }
    config
}

/// Feeder (n × payload) → lambda → Display, error → Display "errors"; validated like any flow.
pub fn feeder_flow(target: &Target, n: u64, lambda: Value) -> Flow {
    let flow = json!({
        "id": "bench-lambda",
        "nodes": [
            {"id": "feeder1", "type": "feeder", "config": {
                "messages": [{"body": target.payload, "contentType": "application/json"}],
                "sendOnStart": true, "repeat": n, "historySize": 1}},
            {"id": "lambda1", "type": "lambda", "config": lambda},
            {"id": "display1", "type": "display", "config": {"maxMessages": 0}},
            {"id": "errors", "type": "display", "config": {"maxMessages": 5}}
        ],
        "edges": [
            {"id": "r1", "from": {"node": "feeder1", "port": "out"}, "to": {"node": "lambda1", "port": "in"}},
            {"id": "r2", "from": {"node": "lambda1", "port": "out"}, "to": {"node": "display1", "port": "in"}},
            {"id": "r3", "from": {"node": "lambda1", "port": "error"}, "to": {"node": "errors", "port": "in"}}
        ]
    });
    registry()
        .parse_flow(&flow.to_string())
        .unwrap_or_else(|d| panic!("bench flow invalid: {d:?}"))
}

fn batch() -> RunOptions {
    RunOptions {
        mode: RunMode::Batch,
        queue_size: crate::engine::QUEUE,
        print_displays: false,
    }
}

/// Runs a Feeder → lambda → Display flow; returns the steady-state rate of results (results
/// after the first wave of `first_wave`, over the time from that wave to the last result, so
/// the node's start-up — building its AWS client — is not counted; see [`raw::steady_rate`])
/// and how many reached `display1`.
pub async fn run_feeder_flow(flow: &Flow, first_wave: usize) -> (f64, u64) {
    let plan = registry().plan(flow).expect("bench flow plans");
    let handle = start(&plan, batch()).expect("bench flow starts");
    let report = handle.wait().await;
    let status = handle.status();
    if status.nodes["errors"].received > 0 {
        let (errors, _) = handle.messages("errors").expect("errors display");
        panic!(
            "bench: the LambdaConnector reported {} failures, e.g. {}",
            status.nodes["errors"].received,
            errors[0].body_value()
        );
    }
    assert!(report.is_clean(), "{:?}", report.problems());
    let (results, received) = handle.messages("display1").expect("display1");
    assert_eq!(
        results.len() as u64,
        received,
        "display1 keeps every result"
    );
    let first = results.iter().map(|m| m.timestamp).min().expect("results");
    let times = results
        .iter()
        .map(|m| {
            (m.timestamp - first)
                .to_std()
                .unwrap_or_default()
                .as_secs_f64()
        })
        .collect();
    (raw::steady_rate(times, first_wave), received)
}

/// Connector throughput (invocations per second) for `n` messages.
pub async fn connector_throughput(target: &Target, concurrency: usize, n: u64) -> f64 {
    let flow = feeder_flow(target, n, lambda_config(target, concurrency, json!({})));
    let (rate, received) = run_feeder_flow(&flow, concurrency).await;
    assert_eq!(received, n, "every message must come out of the connector");
    rate
}

/// Shared between the probe nodes of one closed-loop run.
struct Probe {
    count: u64,
    window: Arc<Semaphore>,
    sent: Mutex<Vec<Option<Instant>>>,
    latencies: Mutex<Vec<Duration>>,
    errors: Mutex<u64>,
}

static PROBE: Mutex<Option<Arc<Probe>>> = Mutex::new(None);

fn probe() -> Arc<Probe> {
    PROBE
        .lock()
        .unwrap()
        .clone()
        .expect("a probe run is set up")
}

struct ProbeSource(Arc<Probe>);
struct ProbeSink(Arc<Probe>);

impl Component for ProbeSource {
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut NodeContext,
    ) -> BoxFuture<'a, Result<NodeExit, RuntimeError>> {
        async move {
            let p = self.0;
            let payload = PAYLOAD.get().expect("payload set").clone();
            for seq in 0..p.count {
                p.window
                    .acquire()
                    .await
                    .expect("the window stays open")
                    .forget();
                let m = Message::new(payload.clone())
                    .with_content_type("application/json")
                    .with_property("probe.seq", seq);
                p.sent.lock().unwrap()[seq as usize] = Some(Instant::now());
                if ctx.emit(OUT, m).await.is_err() {
                    break;
                }
            }
            Ok(NodeExit::Finished)
        }
        .boxed()
    }
}

impl Component for ProbeSink {
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut NodeContext,
    ) -> BoxFuture<'a, Result<NodeExit, RuntimeError>> {
        async move {
            let p = self.0;
            while let Some(m) = ctx.recv().await {
                let now = Instant::now();
                let seq = m.properties.get("probe.seq").and_then(Value::as_u64);
                match seq.and_then(|s| p.sent.lock().unwrap()[s as usize]) {
                    Some(sent) if !m.properties.contains_key("error.type") => {
                        p.latencies.lock().unwrap().push(now - sent)
                    }
                    _ => *p.errors.lock().unwrap() += 1,
                }
                p.window.add_permits(1);
            }
            Ok(NodeExit::Finished)
        }
        .boxed()
    }
}

static PAYLOAD: OnceLock<String> = OnceLock::new();

/// A benchmark probe type: a source or a sink around the shared [`Probe`].
struct ProbeType {
    type_name: &'static str,
    inputs: &'static [&'static str],
    outputs: &'static [&'static str],
}

impl ComponentType for ProbeType {
    type Config = Value;

    fn descriptor(&self) -> Descriptor {
        Descriptor {
            type_name: self.type_name,
            title: self.type_name,
            description: "benchmark probe",
            inputs: self.inputs,
            outputs: self.outputs,
            schema: r#"{"type": "object"}"#,
            ui_schema: "{}",
            capabilities: Capabilities::default(),
            actions: &[],
            secret_binding: &[],
        }
    }

    fn build(&self, _: &NodeId, _: &Value) -> Result<Box<dyn Component>, RuntimeError> {
        Ok(if self.inputs.is_empty() {
            Box::new(ProbeSource(probe()))
        } else {
            Box::new(ProbeSink(probe()))
        })
    }
}

/// The shipped components plus the probes.
pub fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let mut types = lambdaflow::components::types();
        types.push(Arc::new(ProbeType {
            type_name: "probe-source",
            inputs: &[],
            outputs: &[OUT],
        }));
        types.push(Arc::new(ProbeType {
            type_name: "probe-sink",
            inputs: &[IN],
            outputs: &[],
        }));
        Registry::new(types)
    })
}

/// Connector latencies in a closed loop of `concurrency` messages.
pub async fn connector_latencies(target: &Target, concurrency: usize, n: u64) -> Vec<Duration> {
    let _ = PAYLOAD.set(target.payload.clone());
    assert_eq!(PAYLOAD.get(), Some(&target.payload), "one payload per run");
    let p = Arc::new(Probe {
        count: n,
        window: Arc::new(Semaphore::new(concurrency)),
        sent: Mutex::new(vec![None; n as usize]),
        latencies: Mutex::new(Vec::with_capacity(n as usize)),
        errors: Mutex::new(0),
    });
    *PROBE.lock().unwrap() = Some(p.clone());
    let lambda = lambda_config(target, concurrency, json!({}));
    let flow: Flow = serde_json::from_value(json!({
        "id": "bench-latency",
        "nodes": [
            {"id": "source", "type": "probe-source"},
            {"id": "lambda1", "type": "lambda", "config": lambda},
            {"id": "sink", "type": "probe-sink"}
        ],
        "edges": [
            {"id": "r1", "from": {"node": "source", "port": "out"}, "to": {"node": "lambda1", "port": "in"}},
            {"id": "r2", "from": {"node": "lambda1", "port": "out"}, "to": {"node": "sink", "port": "in"}},
            {"id": "r3", "from": {"node": "lambda1", "port": "error"}, "to": {"node": "sink", "port": "in"}}
        ]
    }))
    .expect("probe flow");
    let plan = registry().plan(&flow).expect("probe flow plans");
    let handle = start(&plan, batch()).expect("probe flow starts");
    let report = handle.wait().await;
    assert!(report.is_clean(), "{:?}", report.problems());
    *PROBE.lock().unwrap() = None;
    let errors = *p.errors.lock().unwrap();
    assert_eq!(
        errors, 0,
        "bench: {errors} invocations failed in the latency run"
    );
    let latencies = std::mem::take(&mut *p.latencies.lock().unwrap());
    assert_eq!(latencies.len() as u64, n);
    latencies
}

/// Warm-up, then `runs` rounds of (connector throughput, connector latency, raw loop); rows of
/// medians: throughput, p50 and p99, at `maxConcurrency` 1 also the p99 the connector adds
/// (against the issue-9 target of 100 µs) and the process's voluntary context switches per
/// `n` calls during the throughput runs (each a thread that parked and was woken).
pub async fn compare(target: &Target, concurrency: usize, n: u64, runs: usize) -> Vec<Row> {
    let client = raw::client(&target.url, Duration::from_secs(60));
    let payload = target.payload.as_bytes();
    let warm = (n / 10).max(concurrency as u64);
    connector_throughput(target, concurrency, warm).await;
    raw::invoke_loop(&client, &target.function, payload, concurrency, warm).await;
    let (mut ours_tp, mut ours_p50, mut ours_p99) = (Vec::new(), Vec::new(), Vec::new());
    let (mut raw_tp, mut raw_p50, mut raw_p99) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ours_cs, mut raw_cs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let switches = voluntary_context_switches();
        ours_tp.push(connector_throughput(target, concurrency, n).await);
        ours_cs.push((voluntary_context_switches() - switches) as f64);
        let lat = connector_latencies(target, concurrency, n).await;
        ours_p50.push(ms(percentile(&lat, 50.0)));
        ours_p99.push(ms(percentile(&lat, 99.0)));
        let switches = voluntary_context_switches();
        let m = raw::invoke_loop(&client, &target.function, payload, concurrency, n).await;
        raw_cs.push((voluntary_context_switches() - switches) as f64);
        raw_tp.push(m.throughput());
        raw_p50.push(ms(percentile(&m.latencies, 50.0)));
        raw_p99.push(ms(percentile(&m.latencies, 99.0)));
    }
    let bench = format!("lambda: {}, maxConcurrency {concurrency}", target.label);
    let baseline = format!("raw aws-sdk-lambda loop, {concurrency} in flight");
    let mut rows = vec![
        Row::new(
            &bench,
            "inv/s",
            median(&ours_tp),
            median(&raw_tp),
            &baseline,
        ),
        Row::new(
            &bench,
            "p50 ms",
            median(&ours_p50),
            median(&raw_p50),
            &baseline,
        ),
        Row::new(
            &bench,
            "p99 ms",
            median(&ours_p99),
            median(&raw_p99),
            &baseline,
        ),
    ];
    if concurrency == 1 {
        rows.push(Row::new(
            &bench,
            "p99 added µs",
            (median(&ours_p99) - median(&raw_p99)) * 1000.0,
            P99_ADDED_TARGET_US,
            "target: at most 100 µs added",
        ));
        rows.push(Row::new(
            &bench,
            format!("vol. ctx sw. / {n} calls"),
            median(&ours_cs),
            median(&raw_cs),
            &baseline,
        ));
    }
    rows
}

/// The p99 the connector may add to a call at `maxConcurrency` 1 (issue 9).
const P99_ADDED_TARGET_US: f64 = 100.0;

/// Voluntary context switches of this process so far, all threads (`getrusage`).
fn voluntary_context_switches() -> i64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage; RUSAGE_SELF is always accepted.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_SELF) failed");
    usage.ru_nvcsw
}

/// Throughput only, connector against raw loop (the scaling rows).
pub async fn throughput_pair(
    target: &Target,
    concurrency: usize,
    n: u64,
    runs: usize,
) -> (f64, f64) {
    let client = raw::client(&target.url, Duration::from_secs(60));
    let payload = target.payload.as_bytes();
    let warm = (concurrency as u64).max(2);
    connector_throughput(target, concurrency, warm).await;
    raw::invoke_loop(&client, &target.function, payload, concurrency, warm).await;
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(connector_throughput(target, concurrency, n).await);
        base.push(
            raw::invoke_loop(&client, &target.function, payload, concurrency, n)
                .await
                .throughput(),
        );
    }
    (median(&ours), median(&base))
}
