//! The in-process scheduler: one tokio task per node, a bounded channel per input, and a
//! [`FlowHandle`] to observe, command and stop the running flow.
//!
//! Shutdown: `stop` cancels the shutdown token, so sources stop; each node ends when its input
//! closes, which closes its outputs in turn, so in-flight messages drain downstream. After the
//! drain period the abort token gives up blocked sends and retry waits, and finally tasks are
//! aborted. A node stopped by `stopService` keeps its input queue (upstream waits, as a stopped
//! Fiorano service's queue does) until the flow stops; then what is queued is counted and logged
//! as discarded, never dropped in silence.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt as _;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::component::{
    Component, Control, Emitter, NodeConfig, NodeContext, NodeExit, NodeInfo, RunMode, SendRequest,
};
use super::error::RuntimeError;
use super::port::Outputs;
use super::registry;
use super::status::{FlowEvent, FlowState, LastError, NodeState, NodeStats, NodeStatus};
use crate::flow::Flow;
use crate::message::{Message, format_time};

/// Default capacity of each input queue (messages).
pub const DEFAULT_QUEUE_SIZE: usize = 128;
/// How often changed node statuses are published as events.
const STATUS_INTERVAL: Duration = Duration::from_millis(200);

/// How to run a flow.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Headless batch run or served interactive run.
    pub mode: RunMode,
    /// Capacity of each node's input queue.
    pub queue_size: usize,
    /// Displays print each message as a JSON line on stdout.
    pub print_displays: bool,
}

impl RunOptions {
    /// Options for `lambdaflow run`.
    pub fn batch() -> Self {
        RunOptions {
            mode: RunMode::Batch,
            queue_size: DEFAULT_QUEUE_SIZE,
            print_displays: true,
        }
    }

    /// Options for a served flow.
    pub fn interactive() -> Self {
        RunOptions {
            mode: RunMode::Interactive,
            queue_size: DEFAULT_QUEUE_SIZE,
            print_displays: false,
        }
    }
}

/// How one node ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum NodeEndKind {
    /// Its work was done.
    Finished,
    /// `stopService` stopped it.
    StopService {
        /// The error that stopped it.
        reason: String,
    },
    /// It failed as a whole (or panicked).
    Failed {
        /// What happened.
        message: String,
    },
}

/// The end of one node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeEnd {
    /// Node id.
    pub node: String,
    /// How it ended.
    pub kind: NodeEndKind,
    /// Messages still queued for it when the flow stopped (counted and logged).
    pub discarded: u64,
}

/// How a flow run ended.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Every node's end, in the order they ended.
    pub nodes: Vec<NodeEnd>,
    /// Whether tasks had to be aborted after the drain period.
    pub aborted: bool,
}

impl RunReport {
    /// Whether every node finished its work and nothing was discarded.
    pub fn is_clean(&self) -> bool {
        !self.aborted
            && self
                .nodes
                .iter()
                .all(|n| n.kind == NodeEndKind::Finished && n.discarded == 0)
    }

    /// One line per problem, for the CLI.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for n in &self.nodes {
            match &n.kind {
                NodeEndKind::Finished => {}
                NodeEndKind::StopService { reason } => {
                    out.push(format!("node {} stopped (stopService): {reason}", n.node))
                }
                NodeEndKind::Failed { message } => {
                    out.push(format!("node {} failed: {message}", n.node))
                }
            }
            if n.discarded > 0 {
                out.push(format!(
                    "node {}: {} queued messages discarded at stop",
                    n.node, n.discarded
                ));
            }
        }
        if self.aborted {
            out.push("the flow did not drain in time; remaining work was aborted".into());
        }
        out
    }
}

/// A status snapshot of a whole flow.
#[derive(Debug, Clone, Serialize)]
pub struct FlowStatus {
    /// Flow id.
    pub flow: String,
    /// Running or stopped.
    pub state: FlowState,
    /// Every node's status.
    pub nodes: BTreeMap<String, NodeStatus>,
}

struct NodeHandle {
    component: &'static str,
    accepts_send: bool,
    stats: Arc<NodeStats>,
    control: mpsc::Sender<Control>,
}

/// A running (or finished) flow.
pub struct FlowHandle {
    flow: Arc<str>,
    nodes: BTreeMap<String, NodeHandle>,
    events: broadcast::Sender<FlowEvent>,
    shutdown: CancellationToken,
    abort: CancellationToken,
    kill: CancellationToken,
    done: watch::Receiver<Option<RunReport>>,
}

/// Starts a flow. The flow must have passed validation; a node whose type is unknown or whose
/// config does not build is refused here too. Must be called inside a tokio runtime.
pub fn start(flow: &Flow, options: RunOptions) -> Result<FlowHandle, RuntimeError> {
    start_with_registry(flow, options, registry::global())
}

/// Starts a flow whose component types come from `registry` (tests add their own types).
pub fn start_with_registry(
    flow: &Flow,
    options: RunOptions,
    registry: &registry::Registry,
) -> Result<FlowHandle, RuntimeError> {
    let flow_id: Arc<str> = Arc::from(flow.id.as_str());
    let (events, _) = broadcast::channel(1024);
    let shutdown = CancellationToken::new();
    let abort = CancellationToken::new();
    let kill = CancellationToken::new();

    // Build every component and an input queue for each node that has inputs.
    let mut built: Vec<(String, &'static str, Box<dyn Component>)> = Vec::new();
    let mut inputs: BTreeMap<String, (mpsc::Sender<Message>, mpsc::Receiver<Message>)> =
        BTreeMap::new();
    let mut specs = BTreeMap::new();
    for node in &flow.nodes {
        let compiled = registry
            .get(&node.component_type)
            .ok_or_else(|| RuntimeError::Config {
                node: node.id.clone(),
                pointer: "/type".into(),
                message: format!("unknown component type \"{}\"", node.component_type),
            })?;
        let component = (compiled.spec.build)(&NodeConfig {
            flow: &flow.id,
            node: &node.id,
            config: &node.config,
        })?;
        if !compiled.spec.inputs.is_empty() {
            inputs.insert(node.id.clone(), mpsc::channel(options.queue_size.max(1)));
        }
        specs.insert(node.id.clone(), &compiled.spec);
        built.push((node.id.clone(), compiled.spec.type_name, component));
    }

    // Wire edges: each output port holds a sender clone of every input it feeds.
    let mut outputs: BTreeMap<String, Outputs> = BTreeMap::new();
    for edge in &flow.edges {
        let Some((tx, _)) = inputs.get(&edge.to.node) else {
            return Err(RuntimeError::Config {
                node: edge.id.clone(),
                pointer: "/to/node".into(),
                message: format!("node \"{}\" has no input", edge.to.node),
            });
        };
        outputs
            .entry(edge.from.node.clone())
            .or_default()
            .connect(&edge.from.port, tx.clone());
    }

    let mut set = JoinSet::new();
    let mut nodes = BTreeMap::new();
    for (id, component_type, component) in built {
        let stats = Arc::new(NodeStats::default());
        let (control_tx, control_rx) = mpsc::channel(16);
        let info = Arc::new(NodeInfo {
            flow: flow_id.clone(),
            node: Arc::from(id.as_str()),
            component: component_type,
        });
        let emitter = Emitter::new(
            info,
            outputs.remove(&id).unwrap_or_default(),
            stats.clone(),
            events.clone(),
            abort.clone(),
        );
        // The original sender is dropped here, so an input closes once all upstreams end.
        let input = inputs.remove(&id).map(|(_, rx)| rx);
        let ctx = NodeContext {
            emitter,
            input,
            control: Some(control_rx),
            shutdown: shutdown.clone(),
            mode: options.mode,
            print_displays: options.print_displays,
        };
        nodes.insert(
            id.clone(),
            NodeHandle {
                component: component_type,
                accepts_send: specs[&id].accepts_send,
                stats,
                control: control_tx,
            },
        );
        let stop_flow_on_abnormal_end = (options.mode == RunMode::Batch).then(|| shutdown.clone());
        set.spawn(drive(component, ctx, stop_flow_on_abnormal_end));
    }
    drop(inputs);

    let (done_tx, done_rx) = watch::channel(None);
    let handle = FlowHandle {
        flow: flow_id.clone(),
        nodes,
        events: events.clone(),
        shutdown,
        abort,
        kill: kill.clone(),
        done: done_rx,
    };
    let stats: Vec<(String, Arc<NodeStats>)> = handle
        .nodes
        .iter()
        .map(|(id, h)| (id.clone(), h.stats.clone()))
        .collect();
    let _ = events.send(FlowEvent::Flow {
        flow: flow_id.to_string(),
        state: FlowState::Running,
    });
    tracing::info!(flow = %flow_id, nodes = handle.nodes.len(), "Flow started.");
    tokio::spawn(publish_statuses(stats, events.clone(), done_tx.subscribe()));
    tokio::spawn(supervise(set, kill, done_tx, events, flow_id));
    Ok(handle)
}

/// Runs one node to its end, then parks its input queue until the flow stops.
pub(crate) async fn drive(
    component: Box<dyn Component>,
    mut ctx: NodeContext,
    stop_flow_on_abnormal_end: Option<CancellationToken>,
) -> NodeEnd {
    let stats = ctx.emitter.stats_arc();
    let node = ctx.info().node.to_string();
    let flow = ctx.info().flow.to_string();
    stats.set_state(NodeState::Running);
    let result = AssertUnwindSafe(component.run(&mut ctx))
        .catch_unwind()
        .await;
    let NodeContext {
        emitter,
        input,
        shutdown,
        ..
    } = ctx;
    let abort = emitter.abort().clone();
    let kind = match result {
        Ok(Ok(NodeExit::Finished)) => NodeEndKind::Finished,
        Ok(Ok(NodeExit::StopService { reason })) => NodeEndKind::StopService { reason },
        Ok(Err(e)) => NodeEndKind::Failed {
            message: e.to_string(),
        },
        Err(panic) => NodeEndKind::Failed {
            message: format!("panicked: {}", panic_text(&panic)),
        },
    };
    match &kind {
        NodeEndKind::Finished => stats.set_state(NodeState::Stopped),
        NodeEndKind::StopService { .. } => stats.set_state(NodeState::Stopped),
        NodeEndKind::Failed { message } => {
            tracing::error!(flow = %flow, node = %node, "Node failed: {message}");
            stats.set_last_error(LastError {
                error_type: "node".into(),
                code: "NodeFailed".into(),
                message: message.clone(),
                at: format_time(&chrono::Utc::now()),
            });
            stats.set_state(NodeState::Failed);
        }
    }
    if kind != NodeEndKind::Finished
        && let Some(flow_shutdown) = stop_flow_on_abnormal_end
    {
        flow_shutdown.cancel();
    }
    // A finished node closes its outputs at once, so downstream can finish. A stopped or
    // failed one keeps them open until the flow stops: downstream nodes stay up, as the rest of
    // a Fiorano flow does when one service stops.
    let held_outputs = if kind == NodeEndKind::Finished {
        drop(emitter);
        None
    } else {
        Some(emitter)
    };
    let discarded = match input {
        Some(rx) => park_and_discard(rx, &shutdown, &abort).await,
        None if held_outputs.is_some() => {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = abort.cancelled() => {}
            }
            0
        }
        None => 0,
    };
    drop(held_outputs);
    if discarded > 0 {
        tracing::warn!(flow = %flow, node = %node, discarded,
            "Discarded messages still queued for a stopped node.");
    }
    NodeEnd {
        node,
        kind,
        discarded,
    }
}

/// Holds a node's input queue after the node ended, so upstream waits instead of losing
/// messages; once the flow stops, counts what is still queued or arrives, until upstream ends.
async fn park_and_discard(
    mut rx: mpsc::Receiver<Message>,
    shutdown: &CancellationToken,
    abort: &CancellationToken,
) -> u64 {
    tokio::select! {
        _ = shutdown.cancelled() => {}
        _ = abort.cancelled() => {}
        // An input that is already closed and empty needs no parking.
        _ = rx_closed_and_empty(&mut rx) => return 0,
    }
    let mut discarded = 0;
    loop {
        tokio::select! {
            m = rx.recv() => match m {
                Some(_) => discarded += 1,
                None => break,
            },
            _ = abort.cancelled() => {
                while rx.try_recv().is_ok() { discarded += 1; }
                break;
            }
        }
    }
    discarded
}

async fn rx_closed_and_empty(rx: &mut mpsc::Receiver<Message>) {
    loop {
        if rx.is_closed() && rx.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

async fn supervise(
    mut set: JoinSet<NodeEnd>,
    kill: CancellationToken,
    done: watch::Sender<Option<RunReport>>,
    events: broadcast::Sender<FlowEvent>,
    flow: Arc<str>,
) {
    let mut ends = Vec::new();
    let mut aborted = false;
    loop {
        tokio::select! {
            next = set.join_next() => match next {
                None => break,
                Some(Ok(end)) => ends.push(end),
                Some(Err(e)) => tracing::error!(flow = %flow, "Node task ended abnormally: {e}"),
            },
            _ = kill.cancelled(), if !aborted => {
                aborted = true;
                set.abort_all();
            }
        }
    }
    tracing::info!(flow = %flow, "Flow stopped.");
    let _ = events.send(FlowEvent::Flow {
        flow: flow.to_string(),
        state: FlowState::Stopped,
    });
    let _ = done.send(Some(RunReport {
        nodes: ends,
        aborted,
    }));
}

async fn publish_statuses(
    stats: Vec<(String, Arc<NodeStats>)>,
    events: broadcast::Sender<FlowEvent>,
    mut done: watch::Receiver<Option<RunReport>>,
) {
    let mut seen: Vec<u64> = vec![u64::MAX; stats.len()];
    let mut tick = tokio::time::interval(STATUS_INTERVAL);
    loop {
        let finished = tokio::select! {
            _ = tick.tick() => false,
            _ = done.wait_for(Option::is_some) => true,
        };
        for (i, (node, s)) in stats.iter().enumerate() {
            let v = s.version();
            if v != seen[i] {
                seen[i] = v;
                let _ = events.send(FlowEvent::Status {
                    node: node.clone(),
                    status: s.snapshot(),
                });
            }
        }
        if finished {
            return;
        }
    }
}

impl FlowHandle {
    /// The flow id.
    pub fn id(&self) -> &str {
        &self.flow
    }

    /// Whether any node is still running.
    pub fn is_running(&self) -> bool {
        self.done.borrow().is_none()
    }

    /// A snapshot of every node's status.
    pub fn status(&self) -> FlowStatus {
        FlowStatus {
            flow: self.flow.to_string(),
            state: if self.is_running() {
                FlowState::Running
            } else {
                FlowState::Stopped
            },
            nodes: self
                .nodes
                .iter()
                .map(|(id, h)| (id.clone(), h.stats.snapshot()))
                .collect(),
        }
    }

    /// Follows the flow's live events.
    pub fn subscribe(&self) -> broadcast::Receiver<FlowEvent> {
        self.events.subscribe()
    }

    fn node(&self, node: &str) -> Result<&NodeHandle, RuntimeError> {
        self.nodes
            .get(node)
            .ok_or_else(|| RuntimeError::UnknownNode {
                flow: self.flow.to_string(),
                node: node.to_owned(),
            })
    }

    /// Asks a Feeder to send a message (or its default one) `count` times; returns how many
    /// were accepted.
    pub async fn send(&self, node: &str, request: SendRequest) -> Result<u64, RuntimeError> {
        let h = self.node(node)?;
        if !h.accepts_send {
            return Err(RuntimeError::Unsupported {
                node: node.to_owned(),
                component: h.component.to_owned(),
                operation: "send",
            });
        }
        let (reply, answer) = oneshot::channel();
        let not_running = || RuntimeError::NotRunning {
            node: node.to_owned(),
        };
        h.control
            .send(Control::Send { request, reply })
            .await
            .map_err(|_| not_running())?;
        answer.await.map_err(|_| not_running())?
    }

    /// The messages a node keeps (oldest first) and how many it ever recorded.
    pub fn messages(&self, node: &str) -> Result<(Vec<Message>, u64), RuntimeError> {
        Ok(self.node(node)?.stats.history())
    }

    /// The latency histogram of a node's external calls.
    pub fn latency(&self, node: &str) -> Result<super::status::LatencySnapshot, RuntimeError> {
        Ok(self.node(node)?.stats.latency.snapshot())
    }

    /// Node ids and component types, in id order.
    pub fn node_types(&self) -> Vec<(String, &'static str)> {
        self.nodes
            .iter()
            .map(|(id, h)| (id.clone(), h.component))
            .collect()
    }

    /// Forgets the messages a node keeps.
    pub fn clear_messages(&self, node: &str) -> Result<(), RuntimeError> {
        self.node(node)?.stats.clear_history();
        Ok(())
    }

    /// Waits until every node has ended.
    pub async fn wait(&self) -> RunReport {
        let mut done = self.done.clone();
        let report = done
            .wait_for(Option::is_some)
            .await
            .expect("the supervisor always reports");
        report.clone().expect("checked by wait_for")
    }

    /// Stops the flow: sources stop, in-flight messages drain for up to `drain`; then blocked
    /// work is given up, and finally tasks are aborted.
    pub async fn stop(&self, drain: Duration) -> RunReport {
        self.shutdown.cancel();
        if let Ok(report) = tokio::time::timeout(drain, self.wait()).await {
            return report;
        }
        tracing::warn!(flow = %self.flow, "Flow did not drain in time; giving up blocked work.");
        self.abort.cancel();
        if let Ok(report) = tokio::time::timeout(Duration::from_secs(2), self.wait()).await {
            return report;
        }
        self.kill.cancel();
        self.wait().await
    }
}
