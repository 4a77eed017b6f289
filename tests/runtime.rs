//! The scheduler and the shared error handling, driven through real flows: conservation with
//! injected failures, order and completeness at volume, fan-out and fan-in, back-pressure,
//! `stopService`, and graceful stop.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use std::sync::Arc;

use lambdaflow::components::{display, feeder};
use lambdaflow::flow::{Flow, Registry};
use lambdaflow::message::Message;
use lambdaflow::runtime::port::{ERROR, IN, OUT};
use lambdaflow::runtime::{
    Capabilities, Component, ComponentType, Descriptor, ErrorHandling, ErrorType, Failure,
    FailureOutcome, FlowHandle, NodeContext, NodeEndKind, NodeExit, NodeId, NodeState, RunMode,
    RunOptions, RuntimeError, SendRequest, with_retries,
};
use serde_json::{Value, json};

/// A test component: fails messages as their `fail` property says — `always` (final),
/// `transient:N` (N retryable failures, then success), anything else succeeds. Optionally
/// waits `delayMs` per message, or (`gated`) holds every message until the gate opens.
struct Flaky {
    policy: ErrorHandling,
    delay: Duration,
    gated: bool,
}

static GATE_OPEN: AtomicBool = AtomicBool::new(true);

/// The Flaky type's config.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlakyConfig {
    error_handling: Option<ErrorHandling>,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    gated: bool,
}

struct FlakyType;

impl ComponentType for FlakyType {
    type Config = FlakyConfig;

    fn descriptor(&self) -> Descriptor {
        Descriptor {
            type_name: "flaky",
            title: "Flaky",
            description: "test component",
            inputs: &[IN],
            outputs: &[OUT, ERROR],
            schema: r#"{"type": "object"}"#,
            ui_schema: "{}",
            capabilities: Capabilities::default(),
            actions: &[],
            secret_binding: &[],
        }
    }

    fn build(&self, _: &NodeId, cfg: &FlakyConfig) -> Result<Box<dyn Component>, RuntimeError> {
        Ok(Box::new(Flaky {
            policy: cfg.error_handling.clone().unwrap_or_else(fast_retries),
            delay: Duration::from_millis(cfg.delay_ms),
            gated: cfg.gated,
        }))
    }
}

fn fast_retries() -> ErrorHandling {
    let mut p = ErrorHandling::default();
    let retry = p.request_processing.retry.as_mut().unwrap();
    retry.interval_ms = 1;
    retry.max_interval_ms = 2;
    retry.max_attempts = 3;
    p
}

impl Component for Flaky {
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut NodeContext,
    ) -> BoxFuture<'a, Result<NodeExit, RuntimeError>> {
        async move {
            let emitter = ctx.emitter();
            while let Some(msg) = ctx.recv().await {
                while self.gated && !GATE_OPEN.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if !self.delay.is_zero() {
                    tokio::time::sleep(self.delay).await;
                }
                let mode = msg
                    .properties
                    .get("fail")
                    .and_then(Value::as_str)
                    .unwrap_or("never")
                    .to_owned();
                let result = with_retries(&self.policy, emitter.abort(), |attempt| {
                    let mode = mode.clone();
                    async move {
                        let transient: u32 = mode
                            .strip_prefix("transient:")
                            .map(|n| n.parse().unwrap())
                            .unwrap_or(0);
                        if mode == "always" {
                            Err(Failure::new(
                                ErrorType::RequestProcessing,
                                "Unhandled",
                                "boom",
                            ))
                        } else if attempt <= transient {
                            Err(
                                Failure::new(ErrorType::RequestProcessing, "Throttled", "slow")
                                    .retryable(true),
                            )
                        } else {
                            Ok(attempt)
                        }
                    }
                })
                .await;
                match result {
                    Ok((attempts, _)) => {
                        let out = msg.clone().with_property("attempts", attempts);
                        let _ = emitter.emit(OUT, out).await;
                    }
                    Err(fin) => {
                        if let FailureOutcome::StopService { reason } =
                            emitter.fail(&self.policy, fin, &msg).await
                        {
                            return Ok(NodeExit::StopService { reason });
                        }
                    }
                }
            }
            Ok(NodeExit::Finished)
        }
        .boxed()
    }
}

fn registry() -> &'static Registry {
    static R: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        Registry::new(vec![
            Arc::new(feeder::FeederType),
            Arc::new(display::DisplayType),
            Arc::new(FlakyType),
        ])
    })
}

/// Plans a flow with the test registry and starts it.
fn start(flow: &Flow, options: RunOptions) -> FlowHandle {
    let plan = registry().plan(flow).expect("the test flow plans");
    lambdaflow::runtime::start(&plan, options).expect("the test flow starts")
}

fn flow(value: Value) -> Flow {
    serde_json::from_value(value).unwrap()
}

fn node(id: &str, kind: &str, config: Value) -> Value {
    json!({"id": id, "type": kind, "config": config})
}

fn edge(id: &str, from: (&str, &str), to: (&str, &str)) -> Value {
    json!({"id": id, "from": {"node": from.0, "port": from.1}, "to": {"node": to.0, "port": to.1}})
}

fn options(mode: RunMode, queue_size: usize) -> RunOptions {
    RunOptions {
        mode,
        queue_size,
        print_displays: false,
    }
}

/// Feeder → flaky → (out) display "ok", (error) display "failed".
fn conservation_flow(messages: Vec<Value>, repeat: u64, flaky_config: Value) -> Flow {
    flow(json!({
        "id": "conservation",
        "nodes": [
            node("feeder1", "feeder", json!({"messages": messages, "sendOnStart": true, "repeat": repeat})),
            node("flaky1", "flaky", flaky_config),
            node("ok", "display", json!({"maxMessages": 0})),
            node("failed", "display", json!({"maxMessages": 0})),
        ],
        "edges": [
            edge("r1", ("feeder1", "out"), ("flaky1", "in")),
            edge("r2", ("flaky1", "out"), ("ok", "in")),
            edge("r3", ("flaky1", "error"), ("failed", "in")),
        ]
    }))
}

fn feeder_message(i: usize, fail: &str) -> Value {
    json!({"body": format!("{{\"n\": {i}}}"), "contentType": "application/json",
           "properties": {"n": i, "fail": fail}})
}

#[tokio::test]
async fn every_message_leaves_through_out_or_error_under_injected_failures() {
    let modes = [
        "never",
        "always",
        "transient:1",
        "transient:2",
        "transient:5",
    ];
    let messages: Vec<Value> = (0..50)
        .map(|i| feeder_message(i, modes[i % modes.len()]))
        .collect();
    let f = conservation_flow(messages, 20, json!({}));
    let h = start(&f, options(RunMode::Batch, 8));
    let report = h.wait().await;
    assert!(report.is_clean(), "{:?}", report.problems());

    let (sent, _) = h.messages("feeder1").unwrap();
    let (ok, ok_total) = h.messages("ok").unwrap();
    let (failed, failed_total) = h.messages("failed").unwrap();
    assert_eq!(
        ok_total + failed_total,
        1000,
        "1000 in, each out exactly once"
    );
    assert_eq!(sent.len(), 10, "feeder history keeps its last 10");

    // No duplicates, and the two outputs are disjoint.
    let mut seen = HashSet::new();
    for m in &ok {
        assert!(seen.insert(m.id.to_string()), "duplicate on out");
    }
    let mut failed_inputs = HashSet::new();
    for m in &failed {
        let record: Value = m.body_json().unwrap();
        let input_id = record["inputMessage"]["id"].as_str().unwrap().to_owned();
        assert!(!seen.contains(&input_id), "message both on out and error");
        assert!(failed_inputs.insert(input_id), "duplicate on error");
    }

    // always → error after one attempt; transient:5 → error after 3 attempts (the cap);
    // transient:1 and :2 succeed with 2 and 3 attempts.
    let fails_of = |mode: &'static str| {
        failed.iter().filter(move |m| {
            let r: Value = m.body_json().unwrap();
            r["inputMessage"]["properties"]["fail"] == mode
        })
    };
    assert_eq!(fails_of("always").count(), 200);
    assert_eq!(fails_of("transient:5").count(), 200);
    for m in fails_of("always") {
        let r: Value = m.body_json().unwrap();
        assert_eq!(r["requestContext"]["condition"], "Failure");
        assert_eq!(r["requestContext"]["approximateInvokeCount"], 1);
        assert_eq!(m.properties["error.type"], "requestProcessing");
        assert_eq!(m.properties["error.code"], "Unhandled");
    }
    for m in fails_of("transient:5") {
        let r: Value = m.body_json().unwrap();
        assert_eq!(r["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(r["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(r["error"]["retryable"], true);
    }
    for m in &ok {
        let expected = match m.properties["fail"].as_str().unwrap() {
            "never" => 1,
            "transient:1" => 2,
            "transient:2" => 3,
            other => panic!("{other} should not succeed"),
        };
        assert_eq!(m.properties["attempts"], expected);
    }

    let status = h.status();
    let flaky = &status.nodes["flaky1"];
    assert_eq!(flaky.received, 1000);
    assert_eq!(flaky.emitted + flaky.errors, 1000);
    assert_eq!(
        flaky.last_error.as_ref().unwrap().error_type,
        "requestProcessing"
    );
}

#[tokio::test]
async fn a_hundred_thousand_messages_pass_a_display_chain_complete_and_in_order() {
    let messages: Vec<Value> = (0..100).map(|i| json!({"body": format!("m{i}")})).collect();
    let f = flow(json!({
        "id": "volume",
        "nodes": [
            node("feeder1", "feeder", json!({"messages": messages, "sendOnStart": true, "repeat": 1000})),
            node("d1", "display", json!({"maxMessages": 0})),
            node("d2", "display", json!({"maxMessages": 0})),
            node("d3", "display", json!({"maxMessages": 0})),
        ],
        "edges": [
            edge("r1", ("feeder1", "out"), ("d1", "in")),
            edge("r2", ("d1", "out"), ("d2", "in")),
            edge("r3", ("d2", "out"), ("d3", "in")),
        ]
    }));
    let h = start(&f, options(RunMode::Batch, 128));
    assert!(h.wait().await.is_clean());
    let (first, total) = h.messages("d1").unwrap();
    let (last, _) = h.messages("d3").unwrap();
    assert_eq!(total, 100_000);
    assert_eq!(first.len(), 100_000);
    let first_ids: Vec<&str> = first.iter().map(|m| m.id.as_str()).collect();
    let last_ids: Vec<&str> = last.iter().map(|m| m.id.as_str()).collect();
    assert!(
        first_ids == last_ids,
        "the chain lost or reordered messages"
    );
    assert_eq!(first_ids.iter().collect::<HashSet<_>>().len(), 100_000);
    for (i, m) in last.iter().enumerate() {
        assert_eq!(
            m.body_text().unwrap(),
            format!("m{}", i % 100),
            "order at {i}"
        );
    }
    assert_eq!(h.status().nodes["feeder1"].emitted, 100_000);
}

#[tokio::test]
async fn fan_out_copies_to_every_input_and_fan_in_merges() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/flows/valid-fan-out-fan-in.json"
    ))
    .unwrap();
    let mut f = registry().parse_flow(&text).unwrap();
    f.nodes[0].config = json!({"messages": [{"body": "a"}, {"body": "b"}], "sendOnStart": true});
    let h = start(&f, options(RunMode::Batch, 4));
    assert!(h.wait().await.is_clean());
    let s = h.status();
    assert_eq!(s.nodes["display1"].received, 2);
    assert_eq!(s.nodes["display2"].received, 2);
    assert_eq!(
        s.nodes["display3"].received, 4,
        "both branches merge into display3"
    );
    let (d1, _) = h.messages("display1").unwrap();
    let (d2, _) = h.messages("display2").unwrap();
    assert_eq!(
        d1[0].id, d2[0].id,
        "fan-out delivers the same message to each branch"
    );
}

#[tokio::test]
async fn a_blocked_node_back_pressures_the_feeder_instead_of_buffering() {
    GATE_OPEN.store(false, Ordering::SeqCst);
    let f = conservation_flow(
        vec![feeder_message(0, "never")],
        10_000,
        json!({"gated": true}),
    );
    let queue = 4;
    let h = start(&f, options(RunMode::Batch, queue));
    // The feeder runs into the full queue: the gate holds one message and the queue the next.
    wait_until(|| h.status().nodes["feeder1"].emitted > queue as u64).await;
    // Held there: given time, it does not run ahead.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let emitted = h.status().nodes["feeder1"].emitted;
    // queue slots + the message the gate holds + the send in progress
    assert!(
        emitted <= (queue + 2) as u64,
        "feeder ran ahead: {emitted} sent"
    );
    GATE_OPEN.store(true, Ordering::SeqCst);
    assert!(h.wait().await.is_clean());
    assert_eq!(h.messages("ok").unwrap().1, 10_000);
}

#[tokio::test]
async fn stop_service_stops_only_that_node_and_counts_what_was_queued() {
    let stop_on_failure = json!({"errorHandling": {"requestProcessing": {"stopService": true}}});
    let f = conservation_flow(vec![feeder_message(0, "never")], 1, stop_on_failure);
    let h = start(&f, options(RunMode::Interactive, 16));
    let send = |fail: &str, count: u64| SendRequest {
        message: Some(Message::new("x").with_property("fail", fail)),
        count,
        interval: Duration::ZERO,
    };
    assert_eq!(h.send("feeder1", send("never", 2)).await.unwrap(), 2);
    assert_eq!(h.send("feeder1", send("always", 1)).await.unwrap(), 1);
    wait_until(|| h.status().nodes["flaky1"].state == NodeState::Stopped).await;
    assert_eq!(h.send("feeder1", send("never", 3)).await.unwrap(), 3);
    wait_until(|| h.status().nodes["feeder1"].emitted == 7).await; // 1 on start + 6 sent
    wait_until(|| h.status().nodes["ok"].received == 3).await;

    let status = h.status();
    assert_eq!(
        status.nodes["feeder1"].state,
        NodeState::Running,
        "the rest runs on"
    );
    assert_eq!(status.nodes["ok"].state, NodeState::Running);
    assert_eq!(
        status.nodes["failed"].received, 1,
        "the error was routed before stopping"
    );
    assert_eq!(status.nodes["ok"].received, 3);

    let report = h.stop(PATIENCE).await;
    let flaky = report.nodes.iter().find(|n| n.node == "flaky1").unwrap();
    assert!(matches!(flaky.kind, NodeEndKind::StopService { .. }));
    assert_eq!(
        flaky.discarded, 3,
        "queued messages are counted, not lost silently"
    );
    assert!(!report.is_clean());
    assert!(
        report
            .problems()
            .iter()
            .any(|p| p.contains("3 queued messages discarded"))
    );
}

#[tokio::test]
async fn stop_drains_messages_already_in_flight() {
    let f = conservation_flow(vec![feeder_message(0, "never")], 1, json!({"delayMs": 20}));
    let h = start(&f, options(RunMode::Interactive, 64));
    let req = SendRequest {
        message: None,
        count: 30,
        interval: Duration::ZERO,
    };
    h.send("feeder1", req).await.unwrap();
    wait_until(|| h.status().nodes["feeder1"].emitted == 31).await;
    let report = h.stop(PATIENCE).await;
    assert!(report.is_clean(), "{:?}", report.problems());
    assert_eq!(
        h.messages("ok").unwrap().1,
        31,
        "every sent message was processed"
    );
    assert!(!h.is_running());
}

#[tokio::test]
async fn send_to_a_display_is_refused_and_unknown_nodes_are_named() {
    let f = conservation_flow(vec![feeder_message(0, "never")], 1, json!({}));
    let h = start(&f, options(RunMode::Interactive, 4));
    let req = SendRequest {
        message: None,
        count: 1,
        interval: Duration::ZERO,
    };
    let e = h.send("ok", req.clone()).await.unwrap_err();
    assert!(matches!(e, RuntimeError::Unsupported { .. }), "{e}");
    let e = h.send("ghost", req).await.unwrap_err();
    assert_eq!(e.to_string(), "flow conservation has no node ghost");
    h.stop(PATIENCE).await;
}

#[tokio::test]
async fn live_events_report_status_display_messages_and_errors() {
    let f = conservation_flow(vec![feeder_message(0, "always")], 1, json!({}));
    let h = start(&f, options(RunMode::Interactive, 4));
    let mut events = h.subscribe();
    let (mut saw_error, mut saw_display, mut saw_status) = (false, false, false);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !(saw_error && saw_display && saw_status) {
        let e = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap()
            .unwrap();
        let data = e.data();
        match e.name() {
            "error" => saw_error |= data["record"]["error"]["code"] == "Unhandled",
            "message" => saw_display |= data["node"] == "failed",
            "status" => saw_status |= data["node"] == "flaky1" && data["errors"] == 1,
            _ => {}
        }
    }
    h.stop(PATIENCE).await;
}

#[tokio::test]
async fn a_batch_run_stops_the_flow_when_a_node_stops_and_says_why() {
    let stop_on_failure = json!({"errorHandling": {"requestProcessing": {"stopService": true}}});
    let messages = vec![feeder_message(0, "always"), feeder_message(1, "never")];
    let f = conservation_flow(messages, 500, stop_on_failure);
    let h = start(&f, options(RunMode::Batch, 4));
    let report = h.wait().await;
    assert!(!report.is_clean());
    let problems = report.problems().join("\n");
    assert!(
        problems.contains("node flaky1 stopped (stopService)"),
        "{problems}"
    );
}

/// How long a test waits for a condition: generous, since a wait ends as soon as it holds.
const PATIENCE: Duration = Duration::from_secs(60);

async fn wait_until(cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn flaky_type_is_only_in_the_test_registry() {
    assert!(lambdaflow::components::registry().get("flaky").is_none());
    assert!(registry().get("flaky").is_some());
}
