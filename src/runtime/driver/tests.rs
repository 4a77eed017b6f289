//! The driver on its own, with a scripted service whose calls wait until the test releases
//! them: the concurrency limit, the reorder buffer's bound, retries that hold no slot,
//! `stopService`, and cancelling calls in flight. Timing runs on tokio's paused clock, where
//! an expired timeout means every task is idle (nothing more will happen without the test).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio::sync::watch;

use super::{Limit, Outcome, Service, Settings, run};
use crate::message::Message;
use crate::runtime::harness::Harness;
use crate::runtime::scheduler::NodeEndKind;
use crate::runtime::{
    Component, ErrorHandling, ErrorType, Failure, FinalFailure, NodeContext, NodeExit, Retry,
    RuntimeError,
};

/// Long enough that, on the paused clock, only an idle runtime lets it pass.
const IDLE: Duration = Duration::from_secs(30);

/// Which calls may answer.
#[derive(Debug, Default)]
struct Released {
    all: bool,
    some: BTreeSet<u64>,
}

/// What the scripted service saw.
struct Probe {
    released: watch::Sender<Released>,
    /// `(message number, attempt)` of every call, in the order they started.
    calls: Mutex<Vec<(u64, u32)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Calls dropped before they answered.
    cancelled: AtomicUsize,
    /// The failure (if any) of message `n`'s attempt `a`.
    script: fn(u64, u32) -> Option<Failure>,
}

impl Probe {
    fn new(script: fn(u64, u32) -> Option<Failure>) -> Arc<Self> {
        Arc::new(Probe {
            released: watch::Sender::new(Released::default()),
            calls: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            cancelled: AtomicUsize::new(0),
            script,
        })
    }

    fn release(&self, n: u64) {
        self.released.send_modify(|r| {
            r.some.insert(n);
        });
    }

    fn release_all(&self) {
        self.released.send_modify(|r| r.all = true);
    }

    fn calls(&self) -> Vec<(u64, u32)> {
        self.calls.lock().unwrap().clone()
    }
}

/// Counts a call in flight; a drop before [`InFlight::answered`] is a cancelled call.
struct InFlight<'a>(&'a Probe, bool);

impl InFlight<'_> {
    fn answered(mut self) {
        self.1 = true;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !self.1 {
            self.0.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn number(m: &Message) -> u64 {
    m.body_text().unwrap().parse().unwrap()
}

struct Scripted(Arc<Probe>);

impl Service for Scripted {
    type Unit = Message;
    type Request = Message;
    type Reply = Option<Failure>;
    type Response = ();

    fn build(&self, unit: Message) -> Result<Message, Vec<Outcome>> {
        Ok(unit)
    }

    async fn call(&self, request: &Message, attempt: u32) -> Option<Failure> {
        let probe = &self.0;
        let n = number(request);
        probe.calls.lock().unwrap().push((n, attempt));
        let now = probe.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        probe.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let guard = InFlight(probe, false);
        let mut released = probe.released.subscribe();
        released
            .wait_for(|r| r.all || r.some.contains(&n))
            .await
            .expect("the probe outlives its calls");
        guard.answered();
        (probe.script)(n, attempt)
    }

    fn classify(&self, _: &Message, reply: Option<Failure>, _: u32) -> Result<(), Failure> {
        reply.map_or(Ok(()), Err)
    }

    fn finish(&self, request: Message, result: Result<(), FinalFailure>) -> Vec<Outcome> {
        let out = result.map(|()| request.clone());
        vec![(request, out)]
    }
}

struct Node(Arc<Probe>, Settings);

impl Component for Node {
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut NodeContext,
    ) -> BoxFuture<'a, Result<NodeExit, RuntimeError>> {
        async move { Ok(run(Scripted(self.0), None, self.1, ctx).await) }.boxed()
    }
}

fn settings(max: usize, preserve_order: bool, reorder_buffer: usize) -> Settings {
    Settings {
        concurrency: Limit::Fixed(max),
        preserve_order,
        reorder_buffer,
        policy: ErrorHandling::default(),
    }
}

fn start(probe: &Arc<Probe>, settings: Settings) -> Harness {
    Harness::with_component(
        "scripted",
        "driver1",
        Box::new(Node(probe.clone(), settings)),
    )
}

async fn send(h: &Harness, numbers: std::ops::Range<u64>) {
    for n in numbers {
        h.send(Message::new(n.to_string())).await.unwrap();
    }
}

async fn outs(h: &mut Harness, count: usize) -> Vec<u64> {
    let mut seen = Vec::new();
    for _ in 0..count {
        seen.push(number(&h.out(IDLE).await.expect("a result")));
    }
    seen
}

fn never_fails(_: u64, _: u32) -> Option<Failure> {
    None
}

fn throttled() -> Failure {
    Failure::new(ErrorType::RequestProcessing, "Throttled", "slow down").retryable(true)
}

async fn limit_is_never_exceeded(max: usize) {
    let probe = Probe::new(never_fails);
    let mut h = start(&probe, settings(max, true, 256));
    send(&h, 0..20).await;
    assert!(h.out(IDLE).await.is_none(), "nothing answered yet");
    assert_eq!(probe.in_flight.load(Ordering::SeqCst), max);
    assert_eq!(
        h.status().received,
        max as u64,
        "no more input read than can be called"
    );
    probe.release_all();
    assert_eq!(outs(&mut h, 20).await, (0..20).collect::<Vec<_>>());
    let rest = h.stop(IDLE).await;
    assert_eq!((rest.status.received, rest.status.emitted), (20, 20));
    assert_eq!(probe.max_in_flight.load(Ordering::SeqCst), max);
}

#[tokio::test(start_paused = true)]
async fn one_slot_calls_one_at_a_time() {
    limit_is_never_exceeded(1).await;
}

#[tokio::test(start_paused = true)]
async fn the_concurrency_limit_is_never_exceeded() {
    limit_is_never_exceeded(3).await;
}

#[tokio::test(start_paused = true)]
async fn preserve_order_holds_results_up_to_the_reorder_buffer() {
    let probe = Probe::new(never_fails);
    // Two slots and two units waiting: message 0 stuck, 1..=3 answered and held behind it.
    let mut h = start(&probe, settings(2, true, 2));
    for n in 1..10 {
        probe.release(n);
    }
    send(&h, 0..10).await;
    assert!(
        h.out(IDLE).await.is_none(),
        "everything waits for message 0"
    );
    assert_eq!(
        probe.calls(),
        vec![(0, 1), (1, 1), (2, 1), (3, 1)],
        "later messages are called while 0 is slow, up to the buffer's bound"
    );
    assert_eq!(h.status().received, 4, "no input read past the bound");
    probe.release(0);
    assert_eq!(outs(&mut h, 10).await, (0..10).collect::<Vec<_>>());
    let rest = h.stop(IDLE).await;
    assert_eq!(rest.status.emitted, 10);
}

#[tokio::test(start_paused = true)]
async fn without_preserve_order_results_leave_when_ready() {
    let probe = Probe::new(never_fails);
    let mut h = start(&probe, settings(2, false, 2));
    for n in 1..10 {
        probe.release(n);
    }
    send(&h, 0..10).await;
    assert_eq!(outs(&mut h, 9).await, (1..10).collect::<Vec<_>>());
    probe.release(0);
    assert_eq!(outs(&mut h, 1).await, vec![0]);
    h.stop(IDLE).await;
}

fn first_attempt_of_0_throttled(n: u64, attempt: u32) -> Option<Failure> {
    (n == 0 && attempt == 1).then(throttled)
}

async fn retry_holds_no_slot(preserve_order: bool) -> Vec<u64> {
    let probe = Probe::new(first_attempt_of_0_throttled);
    let mut settings = settings(1, preserve_order, 256);
    settings.policy.request_processing.retry = Some(Retry {
        // Shorter than IDLE: the retry comes before the test would give up.
        interval_ms: 10_000,
        max_interval_ms: 10_000,
        ..Retry::default()
    });
    let mut h = start(&probe, settings);
    probe.release(0);
    probe.release(1);
    send(&h, 0..2).await;
    let order = outs(&mut h, 2).await;
    assert_eq!(
        probe.calls(),
        vec![(0, 1), (1, 1), (0, 2)],
        "message 1 is called while message 0 waits for its retry"
    );
    assert_eq!(probe.max_in_flight.load(Ordering::SeqCst), 1);
    let rest = h.stop(IDLE).await;
    assert_eq!((rest.status.emitted, rest.status.errors), (2, 0));
    order
}

#[tokio::test(start_paused = true)]
async fn a_retry_wait_holds_no_slot() {
    assert_eq!(retry_holds_no_slot(false).await, vec![1, 0]);
}

#[tokio::test(start_paused = true)]
async fn a_retry_wait_holds_later_results_with_preserve_order() {
    assert_eq!(retry_holds_no_slot(true).await, vec![0, 1]);
}

fn message_0_fails(n: u64, _: u32) -> Option<Failure> {
    (n == 0).then(|| Failure::new(ErrorType::RequestProcessing, "Handled", "no"))
}

#[tokio::test(start_paused = true)]
async fn stop_service_routes_the_failure_and_takes_no_more_input() {
    let probe = Probe::new(message_0_fails);
    let mut settings = settings(1, true, 256);
    settings.policy.request_processing.stop_service = true;
    let mut h = start(&probe, settings);
    probe.release_all();
    send(&h, 0..3).await;
    let err = h.error(IDLE).await.expect("the failure is routed first");
    assert_eq!(err.properties["error.code"], "Handled");
    let rest = h.stop(IDLE).await;
    assert!(
        matches!(rest.end.kind, NodeEndKind::StopService { .. }),
        "{:?}",
        rest.end
    );
    assert_eq!(probe.calls(), vec![(0, 1)], "nothing called after the stop");
    assert_eq!(rest.status.received, 1);
    assert_eq!(rest.end.discarded, 2, "the queued messages are counted");
    assert!(rest.out.is_empty());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_run_cancels_calls_in_flight() {
    let probe = Probe::new(never_fails);
    let h = start(&probe, settings(4, true, 256));
    send(&h, 0..4).await;
    // Stop: the calls never answer, so after the drain period the node's task is aborted,
    // which drops the run and with it every call's task.
    let rest = h.stop(Duration::from_secs(1)).await;
    assert!(
        matches!(rest.end.kind, NodeEndKind::Failed { .. }),
        "{:?}",
        rest.end
    );
    let deadline = tokio::time::Instant::now() + IDLE;
    while probe.cancelled.load(Ordering::SeqCst) < 4 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        probe.cancelled.load(Ordering::SeqCst),
        4,
        "every call cancelled"
    );
    assert_eq!(probe.in_flight.load(Ordering::SeqCst), 0);
}

/// Units of up to two messages, sent two together, alone after `wait`, or at input end.
struct Pairs {
    held: Vec<Message>,
    wait: Duration,
    deadline: Option<tokio::time::Instant>,
}

impl super::Batching<Batch> for Pairs {
    fn push(&mut self, message: Message) {
        if self.held.is_empty() {
            self.deadline = Some(tokio::time::Instant::now() + self.wait);
        }
        self.held.push(message);
    }

    fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    fn is_full(&self) -> bool {
        self.held.len() >= 2
    }

    fn deadline(&self) -> Option<tokio::time::Instant> {
        self.deadline
    }

    fn take(&mut self) -> Batch {
        self.deadline = None;
        Batch(std::mem::take(&mut self.held))
    }
}

/// A unit of messages (one alone when it comes without batching).
struct Batch(Vec<Message>);

impl From<Message> for Batch {
    fn from(message: Message) -> Self {
        Batch(vec![message])
    }
}

/// Answers every batch at once and records its size.
struct Batches(Arc<Mutex<Vec<usize>>>);

impl Service for Batches {
    type Unit = Batch;
    type Request = Vec<Message>;
    type Reply = ();
    type Response = ();

    fn build(&self, unit: Batch) -> Result<Vec<Message>, Vec<Outcome>> {
        Ok(unit.0)
    }

    async fn call(&self, request: &Vec<Message>, _: u32) {
        self.0.lock().unwrap().push(request.len());
    }

    fn classify(&self, _: &Vec<Message>, (): (), _: u32) -> Result<(), Failure> {
        Ok(())
    }

    fn finish(&self, request: Vec<Message>, _: Result<(), FinalFailure>) -> Vec<Outcome> {
        request.into_iter().map(|m| (m.clone(), Ok(m))).collect()
    }
}

struct BatchNode(Arc<Mutex<Vec<usize>>>, Duration);

impl Component for BatchNode {
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut NodeContext,
    ) -> BoxFuture<'a, Result<NodeExit, RuntimeError>> {
        let pairs = Pairs {
            held: Vec::new(),
            wait: self.1,
            deadline: None,
        };
        let settings = settings(2, true, 256);
        async move { Ok(run(Batches(self.0), Some(Box::new(pairs)), settings, ctx).await) }.boxed()
    }
}

#[tokio::test(start_paused = true)]
async fn batches_leave_when_full_or_when_their_time_is_up() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let node = BatchNode(sizes.clone(), Duration::from_secs(1));
    let mut h = Harness::with_component("batches", "driver1", Box::new(node));
    send(&h, 0..5).await;
    assert_eq!(outs(&mut h, 5).await, (0..5).collect::<Vec<_>>());
    assert_eq!(
        *sizes.lock().unwrap(),
        vec![2, 2, 1],
        "the last one alone, on time"
    );
    h.stop(IDLE).await;
}

#[tokio::test(start_paused = true)]
async fn a_waiting_batch_leaves_when_the_input_ends() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    // A time trigger far past the drain period: only the input's end can send it.
    let node = BatchNode(sizes.clone(), Duration::from_secs(3600));
    let h = Harness::with_component("batches", "driver1", Box::new(node));
    send(&h, 0..1).await;
    let rest = h.stop(Duration::from_secs(10)).await;
    assert_eq!(rest.out.len(), 1);
    assert!(
        matches!(rest.end.kind, NodeEndKind::Finished),
        "{:?}",
        rest.end
    );
    assert_eq!(*sizes.lock().unwrap(), vec![1]);
}
