//! The LambdaConnector's run loop: `maxConcurrency` calls in flight, `preserveOrder`, bounded
//! buffering (a slow function back-pressures the Feeder), conservation, and `stopService`.

#[path = "fixtures/lambda/common.rs"]
mod common;
#[path = "fixtures/lambda/fake_lambda.rs"]
mod fake_lambda;

use common::*;
use fake_lambda::{FakeLambda, Reply};
use lambdaflow::Message;
use lambdaflow::components::lambda::LambdaConnector;
use lambdaflow::runtime::{self, NodeEndKind, RunOptions};
use serde_json::{Value, json};
use tokio::sync::watch;

fn numbered(n: usize) -> Message {
    Message::new(format!("{{\"n\":{n}}}")).with_property("seq", n as u64)
}

fn n_of(m: &Message) -> u64 {
    body(m)["n"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrency_bounds_the_calls_in_flight() {
    let (open, gate) = watch::channel(false);
    let fake =
        FakeLambda::start(move |req, _| Reply::new(200, req.body.clone()).gated(gate.clone()))
            .await;
    let cfg = config(&fake.endpoint(), json!({"maxConcurrency": 3}));
    let mut h = start(LambdaConnector::from_json("lambda1", &cfg).unwrap());
    for n in 0..9 {
        h.send(numbered(n)).await.unwrap();
    }
    // Three calls at once, not one at a time and not more.
    eventually("three calls are in flight", || fake.in_flight() == 3).await;
    assert!(h.out(QUIET).await.is_none(), "nothing answered yet");
    assert_eq!(fake.count(), 3, "no fourth call while three are in flight");
    open.send(true).unwrap();
    let mut outs = Vec::new();
    for _ in 0..9 {
        outs.push(h.out(WAIT).await.expect("every message comes out"));
    }
    assert_eq!(
        fake.max_in_flight(),
        3,
        "never more than maxConcurrency at once"
    );
    assert_eq!(
        outs.iter().map(n_of).collect::<Vec<_>>(),
        (0..9).collect::<Vec<_>>()
    );
    let rest = h.stop(WAIT).await;
    assert!(rest.out.is_empty() && rest.error.is_empty());
    assert_eq!(
        (rest.status.received, rest.status.emitted),
        (9, 9),
        "conservation"
    );
}

/// Sends four messages; the first one's call is held until the other three have been answered
/// by the function, and the outputs are read in the order the node emits them.
async fn run_slow_first(preserve_order: bool) -> Vec<u64> {
    let (open, gate) = watch::channel(false);
    let fake = FakeLambda::start(move |req, _| {
        let reply = Reply::new(200, req.body.clone());
        if req.json()["n"] == 0 {
            reply.gated(gate.clone())
        } else {
            reply
        }
    })
    .await;
    let cfg = config(
        &fake.endpoint(),
        json!({"maxConcurrency": 4, "preserveOrder": preserve_order}),
    );
    let mut h = start(LambdaConnector::from_json("lambda1", &cfg).unwrap());
    for n in 0..4 {
        h.send(numbered(n)).await.unwrap();
    }
    // The slow call does not block the others' calls: all four reach the function, and the
    // three quick ones are answered while the first is still held.
    eventually(
        "the three quick calls are answered while the first is held",
        || fake.count() == 4 && fake.in_flight() == 1,
    )
    .await;
    let mut order = Vec::new();
    let take = |out: Message, order: &mut Vec<u64>| {
        assert_eq!(
            out.properties["seq"],
            json!(n_of(&out)),
            "properties follow their message"
        );
        order.push(n_of(&out));
    };
    if !preserve_order {
        for _ in 0..3 {
            take(h.out(WAIT).await.expect("out"), &mut order);
        }
    }
    open.send(true).unwrap();
    while order.len() < 4 {
        take(h.out(WAIT).await.expect("out"), &mut order);
    }
    h.stop(WAIT).await;
    order
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preserve_order_holds_later_results_behind_a_slow_one() {
    assert_eq!(run_slow_first(true).await, vec![0, 1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_preserve_order_results_leave_as_they_are_ready() {
    let order = run_slow_first(false).await;
    assert_eq!(
        order.last(),
        Some(&0),
        "the slow first message comes out last: {order:?}"
    );
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(sorted, vec![0, 1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_function_stops_the_node_reading_input() {
    let (open, gate) = watch::channel(false);
    let fake =
        FakeLambda::start(move |req, _| Reply::new(200, req.body.clone()).gated(gate.clone()))
            .await;
    let cfg = config(&fake.endpoint(), json!({"maxConcurrency": 2}));
    let mut h = start(LambdaConnector::from_json("lambda1", &cfg).unwrap());
    for n in 0..10 {
        h.send(numbered(n)).await.unwrap();
    }
    eventually("two calls are in flight", || fake.in_flight() == 2).await;
    assert!(h.out(QUIET).await.is_none());
    assert_eq!(fake.count(), 2, "two calls in flight");
    assert_eq!(
        h.status().received,
        2,
        "no more input read than can be in flight"
    );
    open.send(true).unwrap();
    let mut seen = Vec::new();
    for _ in 0..10 {
        seen.push(n_of(&h.out(WAIT).await.expect("released")));
    }
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    let rest = h.stop(WAIT).await;
    assert_eq!((rest.status.received, rest.status.emitted), (10, 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_function_back_pressures_the_feeder() {
    let (open, gate) = watch::channel(false);
    let fake =
        FakeLambda::start(move |req, _| Reply::new(200, req.body.clone()).gated(gate.clone()))
            .await;
    let flow: Value = json!({
        "id": "backpressure",
        "name": "back-pressure",
        "nodes": [
            {"id": "feeder1", "type": "feeder", "name": "Feeder", "position": {"x": 0, "y": 0},
             "config": {"messages": [{"body": "{\"name\":\"World\"}"}], "sendOnStart": true, "repeat": 200}},
            {"id": "lambda1", "type": "lambda", "name": "LambdaConnector", "position": {"x": 1, "y": 0},
             "config": config(&fake.endpoint(), json!({"maxConcurrency": 2}))},
            {"id": "display1", "type": "display", "name": "Display", "position": {"x": 2, "y": 0},
             "config": {"maxMessages": 0}}
        ],
        "edges": [
            {"id": "route1", "from": {"node": "feeder1", "port": "out"}, "to": {"node": "lambda1", "port": "in"}},
            {"id": "route2", "from": {"node": "lambda1", "port": "out"}, "to": {"node": "display1", "port": "in"}}
        ]
    });
    let plan = lambdaflow::components::registry()
        .plan_value(&flow)
        .expect("valid flow");
    let options = RunOptions {
        queue_size: 8,
        ..RunOptions::batch()
    };
    let options = RunOptions {
        print_displays: false,
        ..options
    };
    let handle = runtime::start(&plan, options).unwrap();
    eventually("two calls are in flight", || fake.in_flight() == 2).await;
    let status = handle.status();
    let fed = status.nodes["feeder1"].emitted;
    let taken = status.nodes["lambda1"].received;
    assert_eq!(taken, 2, "the connector holds only what it has in flight");
    assert!(
        fed <= 8 + 2 + 1,
        "the Feeder is held back by the full queue, not buffered: it sent {fed} of 200"
    );
    open.send(true).unwrap();
    let report = tokio::time::timeout(WAIT, handle.wait())
        .await
        .expect("the flow finishes once the function answers");
    assert!(report.is_clean(), "{:?}", report.problems());
    let status = handle.status();
    assert_eq!(status.nodes["display1"].received, 200, "nothing lost");
    assert_eq!(fake.count(), 200);
    assert!(fake.max_in_flight() <= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_service_routes_the_error_then_stops_taking_input() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cfg = config(
        &format!("http://127.0.0.1:{port}"),
        json!({"maxConcurrency": 1, "errorHandling": {"connection": {"stopService": true}}}),
    );
    let mut h = start(LambdaConnector::from_json("lambda1", &cfg).unwrap());
    for n in 0..3 {
        h.send(numbered(n)).await.unwrap();
    }
    let err = h
        .error(WAIT)
        .await
        .expect("the failure is routed before stopping");
    assert_eq!(body(&err)["error"]["type"], "connection");
    assert_eq!(err.properties["seq"], 0);
    let rest = h.stop(WAIT).await;
    assert!(
        matches!(rest.end.kind, NodeEndKind::StopService { .. }),
        "{:?}",
        rest.end
    );
    assert_eq!(rest.status.received, 1, "no further message was taken");
    assert_eq!(
        rest.end.discarded, 2,
        "the queued messages are counted at stop, not lost silently"
    );
    assert!(rest.error.is_empty() && rest.out.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_service_lets_calls_in_flight_finish() {
    // Message 0 fails with a function error (stopService on requestProcessing) while messages
    // 1 and 2 are in flight: they still come out; message 3, sent after the failure was routed,
    // never reaches Lambda.
    let (fail_now, fail_gate) = watch::channel(false);
    let (finish, finish_gate) = watch::channel(false);
    let fake = FakeLambda::start(move |req, _| {
        let n = req.json()["n"].as_u64().unwrap();
        if n == 0 {
            Reply::ok(r#"{"errorMessage":"no"}"#)
                .header("x-amz-function-error", "Handled")
                .gated(fail_gate.clone())
        } else {
            Reply::new(200, req.body.clone()).gated(finish_gate.clone())
        }
    })
    .await;
    let cfg = config(
        &fake.endpoint(),
        json!({"maxConcurrency": 3, "preserveOrder": false,
               "errorHandling": {"requestProcessing": {"stopService": true}}}),
    );
    let mut h = start(LambdaConnector::from_json("lambda1", &cfg).unwrap());
    for n in 0..3 {
        h.send(numbered(n)).await.unwrap();
    }
    eventually("three calls are in flight", || fake.in_flight() == 3).await;
    fail_now.send(true).unwrap();
    assert!(h.error(WAIT).await.is_some());
    h.send(numbered(3)).await.unwrap();
    finish.send(true).unwrap();
    let mut outs = vec![
        n_of(&h.out(WAIT).await.unwrap()),
        n_of(&h.out(WAIT).await.unwrap()),
    ];
    outs.sort();
    assert_eq!(outs, vec![1, 2]);
    let rest = h.stop(WAIT).await;
    assert!(matches!(rest.end.kind, NodeEndKind::StopService { .. }));
    assert_eq!(rest.status.received, 3);
    assert_eq!(rest.end.discarded, 1);
    assert_eq!(fake.count(), 3, "message 3 never reached Lambda");
}

/// What one run against a throttling function saw.
struct ThrottledRun {
    /// 429s the function answered.
    throttles: usize,
    /// Calls it answered with a result.
    served: usize,
    /// The node's counters once every message had left, and its concurrency limit.
    status: lambdaflow::runtime::NodeStatus,
}

/// Sends `total` messages through a node configured with `extra`, against a function Lambda
/// throttles above `limit` concurrent calls (429 `TooManyRequestsException`; a call it takes
/// holds for a while, so calls overlap), and waits until every message has left the node.
async fn against_throttling(extra: Value, limit: usize, total: usize) -> ThrottledRun {
    const HOLD: std::time::Duration = std::time::Duration::from_millis(40);
    let fake = FakeLambda::start(move |req, _| {
        if req.in_flight > limit {
            Reply::error(429, "TooManyRequestsException", "Rate Exceeded.")
        } else {
            Reply::new(200, req.body.clone()).after(HOLD)
        }
    })
    .await;
    let mut cfg = config(&fake.endpoint(), extra);
    cfg["preserveOrder"] = json!(false);
    let h = start(LambdaConnector::from_json("lambda1", &cfg).unwrap());
    for n in 0..total {
        h.send(numbered(n)).await.unwrap();
    }
    eventually("every message has left through out or error", || {
        let s = h.status();
        s.emitted + s.errors == total as u64
    })
    .await;
    let status = h.status();
    let rest = h.stop(WAIT).await;
    assert_eq!(rest.out.len() + rest.error.len(), total, "nothing vanishes");
    let throttles = fake
        .requests()
        .iter()
        .filter(|r| r.in_flight > limit)
        .count();
    ThrottledRun {
        throttles,
        served: fake.count() - throttles,
        status,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adaptive_limit_settles_near_what_lambda_allows_with_far_fewer_throttles() {
    const ALLOWED: usize = 4;
    const TOTAL: usize = 160;
    let no_retry = json!({"requestProcessing": {"retry": {"enabled": false}}});
    let fixed = against_throttling(
        json!({"maxConcurrency": 32, "errorHandling": no_retry}),
        ALLOWED,
        TOTAL,
    )
    .await;
    let adaptive = against_throttling(
        json!({"concurrency": {"mode": "adaptive", "min": 1, "max": 32}, "errorHandling": no_retry}),
        ALLOWED,
        TOTAL,
    )
    .await;
    // Without retries each throttled message is an error record, so fewer 429s is more of the
    // messages answered by the function.
    assert_eq!(fixed.status.errors as usize, fixed.throttles);
    assert_eq!(adaptive.status.errors as usize, adaptive.throttles);
    assert_eq!(adaptive.served + adaptive.throttles, TOTAL);
    assert!(
        adaptive.throttles * 3 < fixed.throttles,
        "adaptive: {} throttled calls, fixed at the same max: {}",
        adaptive.throttles,
        fixed.throttles
    );
    assert!(adaptive.served > fixed.served);
    // The limit shows in the node's status: near what Lambda allows, far below max.
    let limit = adaptive
        .status
        .concurrency_limit
        .expect("an adaptive node reports its limit") as usize;
    assert!(
        (1..=3 * ALLOWED).contains(&limit),
        "limit {limit} after the run"
    );
    assert_eq!(
        fixed.status.concurrency_limit, None,
        "a fixed limit is no news"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_retries_an_adaptive_limit_loses_no_throttled_message() {
    let run = against_throttling(
        json!({"concurrency": {"mode": "adaptive", "min": 2, "max": 16},
               "errorHandling": {"requestProcessing": {"retry": {
                   "maxAttempts": 50, "intervalMs": 5, "maxIntervalMs": 20}}}}),
        3,
        60,
    )
    .await;
    assert_eq!((run.status.emitted, run.status.errors), (60, 0));
    assert_eq!(run.served, 60, "each message answered once");
}
