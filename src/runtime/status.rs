//! Per-node state, counters, message history and the live events a running flow publishes.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::{Value, json};

use super::error::Failure;
use crate::message::{Message, format_time};

/// The life-cycle state of a node (design §8 status route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeState {
    /// Built, not yet running.
    Starting,
    /// Taking messages.
    Running,
    /// Ended: its input closed, the flow stopped, or `stopService` stopped it.
    Stopped,
    /// Ended with an error of its own (not of one message).
    Failed,
}

/// The last error a node saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastError {
    /// Error type (`requestProcessing`, …) or `node` for a failure of the node itself.
    #[serde(rename = "type")]
    pub error_type: String,
    /// Error code.
    pub code: String,
    /// What happened (never contains secrets).
    pub message: String,
    /// When (RFC 3339).
    pub at: String,
}

impl LastError {
    /// The last-error entry for a failure.
    pub fn from_failure(failure: &Failure) -> Self {
        LastError {
            error_type: failure.error_type.as_str().into(),
            code: failure.code.clone(),
            message: failure.message.clone(),
            at: format_time(&chrono::Utc::now()),
        }
    }
}

/// A snapshot of one node's status.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Life-cycle state.
    pub state: NodeState,
    /// Messages taken from the input.
    pub received: u64,
    /// Messages sent to `out` (and any other non-error port).
    pub emitted: u64,
    /// Messages whose handling failed (each counted once, after retries).
    pub errors: u64,
    /// Failed messages that left through no port (`sendToErrorPort` off, or the error port
    /// closed): `received = emitted + errors` once idle, and `discarded` of the errors were
    /// not routed.
    pub discarded: u64,
    /// The most recent error.
    pub last_error: Option<LastError>,
    /// Calls allowed in flight now, for a node whose limit adapts (`concurrency.mode:
    /// adaptive`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_limit: Option<u64>,
}

/// Bounded history of the messages a node kept (Display: received; Feeder: sent).
#[derive(Debug, Default)]
pub struct History {
    capacity: Option<usize>,
    items: VecDeque<Message>,
    total: u64,
}

impl History {
    /// Messages kept, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.items.iter().cloned().collect()
    }

    /// How many messages were ever recorded.
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// Upper bounds (seconds) of the latency histogram's buckets, Prometheus style.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram: cumulative counts per bucket of [`LATENCY_BUCKETS`], sum and count.
#[derive(Debug, Default)]
pub struct Latency {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// A snapshot of a [`Latency`] histogram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencySnapshot {
    /// `(upper bound in seconds, observations at or below it)`, cumulative.
    pub buckets: Vec<(f64, u64)>,
    /// Sum of all observations in seconds.
    pub sum_seconds: f64,
    /// Number of observations.
    pub count: u64,
}

impl Latency {
    /// Records one observation.
    pub fn observe(&self, d: std::time::Duration) {
        let secs = d.as_secs_f64();
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The histogram so far.
    pub fn snapshot(&self) -> LatencySnapshot {
        LatencySnapshot {
            buckets: LATENCY_BUCKETS
                .iter()
                .zip(&self.buckets)
                .map(|(le, c)| (*le, c.load(Ordering::Relaxed)))
                .collect(),
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

/// Live counters of one node, shared by the node's task, the scheduler and the API.
#[derive(Debug)]
pub struct NodeStats {
    /// Latency of the node's external calls (the LambdaConnector's invocations).
    pub latency: Latency,
    received: AtomicU64,
    emitted: AtomicU64,
    errors: AtomicU64,
    discarded: AtomicU64,
    /// The adaptive concurrency limit; 0 when the node has none.
    concurrency_limit: AtomicU64,
    version: AtomicU64,
    state: Mutex<NodeState>,
    last_error: Mutex<Option<LastError>>,
    history: Mutex<History>,
}

impl Default for NodeStats {
    fn default() -> Self {
        NodeStats {
            latency: Latency::default(),
            received: AtomicU64::new(0),
            emitted: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            concurrency_limit: AtomicU64::new(0),
            version: AtomicU64::new(0),
            state: Mutex::new(NodeState::Starting),
            last_error: Mutex::new(None),
            history: Mutex::new(History {
                capacity: Some(10),
                ..History::default()
            }),
        }
    }
}

impl NodeStats {
    pub(crate) fn add_received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn add_emitted(&self) {
        self.emitted.fetch_add(1, Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn add_error(&self, error: LastError) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().expect("stats lock") = Some(error);
        self.version.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn add_discarded(&self) {
        self.discarded.fetch_add(1, Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn set_last_error(&self, error: LastError) {
        *self.last_error.lock().expect("stats lock") = Some(error);
        self.version.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn set_concurrency_limit(&self, limit: usize) {
        self.concurrency_limit
            .store(limit as u64, Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn set_state(&self, state: NodeState) {
        *self.state.lock().expect("stats lock") = state;
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Changes whenever anything in the status changes.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The node's life-cycle state.
    pub fn state(&self) -> NodeState {
        *self.state.lock().expect("stats lock")
    }

    /// A consistent-enough snapshot of the status.
    pub fn snapshot(&self) -> NodeStatus {
        NodeStatus {
            state: self.state(),
            received: self.received.load(Ordering::Relaxed),
            emitted: self.emitted.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            discarded: self.discarded.load(Ordering::Relaxed),
            last_error: self.last_error.lock().expect("stats lock").clone(),
            concurrency_limit: Some(self.concurrency_limit.load(Ordering::Relaxed))
                .filter(|&limit| limit > 0),
        }
    }

    /// Sets how many messages the history keeps (`None` = unlimited); trims at once.
    pub fn set_history_capacity(&self, capacity: Option<usize>) {
        let mut h = self.history.lock().expect("history lock");
        h.capacity = capacity;
        trim(&mut h);
    }

    /// Records a message in the history, dropping the oldest past the capacity.
    /// The kept copy carries no transport receipt (it must not hold back an acknowledgement).
    pub fn record(&self, message: Message) {
        let message = if message.receipt.is_some() {
            message.without_receipt()
        } else {
            message
        };
        let mut h = self.history.lock().expect("history lock");
        h.items.push_back(message);
        h.total += 1;
        trim(&mut h);
    }

    /// The kept messages (oldest first) and how many were ever recorded.
    pub fn history(&self) -> (Vec<Message>, u64) {
        let h = self.history.lock().expect("history lock");
        (h.messages(), h.total())
    }

    /// Forgets the kept messages (the total stays).
    pub fn clear_history(&self) {
        self.history.lock().expect("history lock").items.clear();
    }
}

fn trim(h: &mut History) {
    if let Some(cap) = h.capacity {
        while h.items.len() > cap {
            h.items.pop_front();
        }
    }
}

/// Whether a flow is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FlowState {
    /// Nodes are running.
    Running,
    /// Every node has ended.
    Stopped,
}

/// What a running flow tells its observers (the designer's event stream).
#[derive(Debug, Clone)]
pub enum FlowEvent {
    /// A node's status changed (published at most a few times a second per node).
    Status {
        /// Node id.
        node: String,
        /// The new status.
        status: NodeStatus,
    },
    /// A Display received a message.
    Message {
        /// Node id.
        node: String,
        /// The message.
        message: Message,
    },
    /// A node routed an error record.
    Error {
        /// Node id.
        node: String,
        /// The error record (design §6).
        record: Value,
    },
    /// The flow started or stopped.
    Flow {
        /// Flow id.
        flow: String,
        /// Its state.
        state: FlowState,
    },
}

impl FlowEvent {
    /// The server-sent-event name: `status`, `message`, `error` or `flow`.
    pub fn name(&self) -> &'static str {
        match self {
            FlowEvent::Status { .. } => "status",
            FlowEvent::Message { .. } => "message",
            FlowEvent::Error { .. } => "error",
            FlowEvent::Flow { .. } => "flow",
        }
    }

    /// The event's JSON data (docs/api.md).
    pub fn data(&self) -> Value {
        match self {
            FlowEvent::Status { node, status } => {
                let mut v = serde_json::to_value(status).expect("status serialises");
                v["node"] = json!(node);
                v
            }
            FlowEvent::Message { node, message } => json!({"node": node, "message": message}),
            FlowEvent::Error { node, record } => json!({"node": node, "record": record}),
            FlowEvent::Flow { flow, state } => json!({"flow": flow, "state": state}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_drops_the_oldest_past_capacity_and_counts_all() {
        let s = NodeStats::default();
        s.set_history_capacity(Some(2));
        for i in 0..5 {
            s.record(Message::new(format!("m{i}")));
        }
        let (msgs, total) = s.history();
        assert_eq!(total, 5);
        let bodies: Vec<_> = msgs
            .iter()
            .map(|m| m.body_text().unwrap().to_owned())
            .collect();
        assert_eq!(bodies, ["m3", "m4"]);
        s.set_history_capacity(None);
        s.record(Message::new("m5"));
        assert_eq!(s.history().0.len(), 3);
        s.clear_history();
        assert_eq!(s.history(), (vec![], 6));
    }

    #[test]
    fn latency_buckets_are_cumulative() {
        let l = Latency::default();
        l.observe(std::time::Duration::from_millis(3));
        l.observe(std::time::Duration::from_millis(300));
        let s = l.snapshot();
        assert_eq!(s.count, 2);
        assert_eq!(s.buckets[0], (0.001, 0));
        assert_eq!(s.buckets[1], (0.005, 1));
        assert_eq!(s.buckets[7], (0.5, 2));
        assert!((s.sum_seconds - 0.303).abs() < 1e-9);
    }

    #[test]
    fn status_event_data_names_the_node() {
        let s = NodeStats::default();
        s.add_received();
        let e = FlowEvent::Status {
            node: "n1".into(),
            status: s.snapshot(),
        };
        assert_eq!(e.name(), "status");
        assert_eq!(e.data()["node"], "n1");
        assert_eq!(e.data()["received"], 1);
        assert_eq!(e.data()["state"], "starting");
        assert_eq!(e.data()["lastError"], Value::Null);
        assert!(e.data().get("concurrencyLimit").is_none());
        s.set_concurrency_limit(7);
        let e = FlowEvent::Status {
            node: "n1".into(),
            status: s.snapshot(),
        };
        assert_eq!(
            e.data()["concurrencyLimit"],
            7,
            "live events carry the limit"
        );
    }
}
