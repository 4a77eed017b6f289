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
    Component, Control, Emitter, NodeContext, NodeExit, NodeInfo, Replacement, RunMode, SendRequest,
};
use super::component_type::Capabilities;
use super::error::RuntimeError;
use super::id::{FlowId, NodeId};
use super::plan::Plan;
use super::port::Outputs;
use super::status::{FlowEvent, FlowState, LastError, NodeState, NodeStats, NodeStatus};
use super::transport::EdgeTransport;
use super::transport::jetstream::EdgeRef;
use super::transport::jetstream::bind::{Acks, Binding, LeasedSource, feed_edge, publish_edge};
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
    pub node: NodeId,
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
    capabilities: Capabilities,
    replacement: Arc<Replacement>,
    stats: Arc<NodeStats>,
    control: mpsc::Sender<Control>,
}

/// A running (or finished) flow.
pub struct FlowHandle {
    flow: FlowId,
    nodes: BTreeMap<NodeId, NodeHandle>,
    events: broadcast::Sender<FlowEvent>,
    shutdown: CancellationToken,
    abort: CancellationToken,
    kill: CancellationToken,
    done: watch::Receiver<Option<RunReport>>,
    acks: Option<Arc<Acks>>,
}

/// Starts a planned flow: builds every node afresh from its typed config, gives each node with
/// inputs a bounded queue, wires edges and spawns one task per node. Must be called inside a
/// tokio runtime.
pub fn start(plan: &Plan, options: RunOptions) -> Result<FlowHandle, RuntimeError> {
    start_bound(plan, options, None)
}

/// Starts a planned flow whose JetStream edges (if any) are bound through `binding`: this
/// process becomes one worker of the flow. Without a binding, a JetStream edge is refused,
/// naming the edge.
pub fn start_bound(
    plan: &Plan,
    options: RunOptions,
    binding: Option<Binding>,
) -> Result<FlowHandle, RuntimeError> {
    if binding.is_none()
        && let Some(edge) = plan.durable_edge()
    {
        return Err(RuntimeError::NeedsBroker {
            edge: edge.id.clone(),
        });
    }
    let acks = binding.as_ref().map(|_| Acks::new());
    let flow_id = plan.flow.clone();
    let (events, _) = broadcast::channel(1024);
    let run = RunShared {
        events: events.clone(),
        shutdown: CancellationToken::new(),
        abort: CancellationToken::new(),
        mode: options.mode,
        print_displays: options.print_displays,
        durable: binding.as_ref().map(|b| Arc::from(b.generation.as_str())),
    };
    let kill = CancellationToken::new();

    // Build every node, and an input queue for each node that has inputs.
    let mut built = Vec::with_capacity(plan.nodes.len());
    let mut senders: Vec<Option<mpsc::Sender<Message>>> = Vec::with_capacity(plan.nodes.len());
    let mut receivers = Vec::with_capacity(plan.nodes.len());
    for node in &plan.nodes {
        let component = node.build()?;
        built.push(match &binding {
            // Sources run in one worker at a time: the one holding their lease.
            Some(binding) if node.descriptor.inputs.is_empty() => Box::new(LeasedSource {
                inner: component,
                binding: binding.clone(),
            }),
            _ => component,
        });
        if node.descriptor.inputs.is_empty() {
            senders.push(None);
            receivers.push(None);
        } else {
            let (tx, rx) = mpsc::channel(options.queue_size.max(1));
            senders.push(Some(tx));
            receivers.push(Some(rx));
        }
    }

    // Wire edges: each output port holds a sender clone of every input it feeds; a JetStream
    // edge is a publisher task on the sending side and a feeder task on the receiving side.
    let mut outputs: Vec<Outputs> = plan.nodes.iter().map(|_| Outputs::default()).collect();
    let mut edge_tasks = JoinSet::new();
    for edge in &plan.edges {
        let tx = senders[edge.to]
            .as_ref()
            .ok_or_else(|| RuntimeError::Config {
                node: plan.nodes[edge.to].id.clone(),
                pointer: String::new(),
                message: format!("edge {} ends at a node without inputs", edge.id),
            })?;
        match (&edge.transport, &binding, &acks) {
            (EdgeTransport::JetStream { partition_key }, Some(binding), Some(acks)) => {
                let edge_ref = EdgeRef {
                    id: edge.id.to_string(),
                    partition_key: partition_key.clone(),
                };
                let (publish_tx, publish_rx) = mpsc::channel(options.queue_size.max(1));
                outputs[edge.from].connect(edge.port, publish_tx);
                edge_tasks.spawn(publish_edge(
                    binding.bus.clone(),
                    edge_ref.clone(),
                    publish_rx,
                ));
                edge_tasks.spawn(feed_edge(
                    binding.bus.clone(),
                    edge_ref,
                    (options.queue_size.max(1) as i64) * 4,
                    tx.clone(),
                    run.shutdown.clone(),
                    acks.clone(),
                ));
            }
            _ => outputs[edge.from].connect(edge.port, tx.clone()),
        }
    }
    // The original senders are dropped here, so an input closes once all upstreams end.
    drop(senders);

    let mut set = JoinSet::new();
    let mut nodes = BTreeMap::new();
    let stop_flow_on_abnormal_end = (options.mode == RunMode::Batch).then(|| run.shutdown.clone());
    for (((node, component), outputs), input) in
        plan.nodes.iter().zip(built).zip(outputs).zip(receivers)
    {
        let (control_tx, control_rx) = mpsc::channel(16);
        let (stats, replacement, task) = launch(
            &flow_id,
            &node.id,
            node.descriptor.type_name,
            component,
            outputs,
            input,
            Some(control_rx),
            &run,
            stop_flow_on_abnormal_end.clone(),
        );
        nodes.insert(
            node.id.clone(),
            NodeHandle {
                component: node.descriptor.type_name,
                capabilities: node.descriptor.capabilities,
                stats,
                control: control_tx,
                replacement,
            },
        );
        set.spawn(task);
    }

    let (done_tx, done_rx) = watch::channel(None);
    let handle = FlowHandle {
        flow: flow_id.clone(),
        nodes,
        events: events.clone(),
        shutdown: run.shutdown,
        abort: run.abort,
        kill: kill.clone(),
        done: done_rx,
        acks: acks.clone(),
    };
    let stats: Vec<(NodeId, Arc<NodeStats>)> = handle
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
    tokio::spawn(supervise(
        Tasks {
            nodes: set,
            edges: edge_tasks,
            acks,
        },
        kill,
        done_tx,
        events,
        flow_id,
    ));
    Ok(handle)
}

/// What every node of one run shares.
pub(crate) struct RunShared {
    pub(crate) events: broadcast::Sender<FlowEvent>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) abort: CancellationToken,
    pub(crate) mode: RunMode,
    pub(crate) print_displays: bool,
    pub(crate) durable: Option<Arc<str>>,
}

/// Gives a built node its context and returns its counters and the task that drives it: the
/// one path by which the scheduler and the harness start nodes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn launch(
    flow: &FlowId,
    node: &NodeId,
    component_type: &'static str,
    component: Box<dyn Component>,
    outputs: Outputs,
    input: Option<mpsc::Receiver<Message>>,
    control: Option<mpsc::Receiver<Control>>,
    run: &RunShared,
    stop_flow_on_abnormal_end: Option<CancellationToken>,
) -> (
    Arc<NodeStats>,
    Arc<Replacement>,
    impl Future<Output = NodeEnd> + Send + 'static,
) {
    let stats = Arc::new(NodeStats::default());
    let info = Arc::new(NodeInfo {
        flow: flow.clone(),
        node: node.clone(),
        component: component_type,
    });
    let replacement = Arc::new(Replacement::default());
    let ctx = NodeContext {
        redeploying: replacement.token(),
        replacement: replacement.clone(),
        emitter: Emitter::new(
            info,
            outputs,
            stats.clone(),
            run.events.clone(),
            run.abort.clone(),
        ),
        input,
        control,
        shutdown: run.shutdown.clone(),
        mode: run.mode,
        print_displays: run.print_displays,
        durable: run.durable.clone(),
    };
    (
        stats,
        replacement,
        drive(component, ctx, stop_flow_on_abnormal_end),
    )
}

/// Runs one node to its end, then parks its input queue until the flow stops.
async fn drive(
    component: Box<dyn Component>,
    mut ctx: NodeContext,
    stop_flow_on_abnormal_end: Option<CancellationToken>,
) -> NodeEnd {
    let stats = ctx.emitter.stats_arc();
    let node = ctx.info().node.clone();
    let flow = ctx.info().flow.clone();
    stats.set_state(NodeState::Running);
    let mut component = component;
    let result = loop {
        let result = AssertUnwindSafe(component.run(&mut ctx))
            .catch_unwind()
            .await;
        // A redeploy of this node: the new version takes over the same input queue, outputs
        // and counters; nothing queued is lost.
        if matches!(result, Ok(Ok(NodeExit::Finished)))
            && let Some((next, token)) = ctx.replacement.take()
        {
            ctx.redeploying = token;
            component = next;
            tracing::info!(flow = %flow, node = %node, "Node redeployed with its new config.");
            continue;
        }
        break result;
    };
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
                Some(m) => {
                    // A JetStream delivery is given back for another worker, not acknowledged.
                    m.receipt.abandon();
                    discarded += 1;
                }
                None => break,
            },
            _ = abort.cancelled() => {
                while let Ok(m) = rx.try_recv() {
                    m.receipt.abandon();
                    discarded += 1;
                }
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

/// The tasks of a run: one per node, the JetStream edges' publishers and feeders, and the
/// acknowledgements they send.
struct Tasks {
    nodes: JoinSet<NodeEnd>,
    edges: JoinSet<()>,
    acks: Option<Arc<Acks>>,
}

/// How long a stopping run waits for its last JetStream acknowledgements to be answered.
const ACK_SETTLE: Duration = Duration::from_secs(10);

async fn supervise(
    tasks: Tasks,
    kill: CancellationToken,
    done: watch::Sender<Option<RunReport>>,
    events: broadcast::Sender<FlowEvent>,
    flow: FlowId,
) {
    let Tasks {
        nodes: mut set,
        edges: mut edge_tasks,
        acks,
    } = tasks;
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
                if let Some(acks) = &acks {
                    acks.tear_down();
                }
                set.abort_all();
                edge_tasks.abort_all();
            }
        }
    }
    // Every node has ended, so every publisher's senders are gone: let them finish publishing,
    // then wait for the acknowledgements they released.
    loop {
        tokio::select! {
            next = edge_tasks.join_next() => if next.is_none() { break },
            _ = kill.cancelled(), if !aborted => {
                aborted = true;
                edge_tasks.abort_all();
            }
        }
    }
    if let Some(acks) = &acks
        && tokio::time::timeout(ACK_SETTLE, acks.settled())
            .await
            .is_err()
    {
        tracing::warn!(flow = %flow, "Some acknowledgements were not answered; those messages will be delivered again.");
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
    stats: Vec<(NodeId, Arc<NodeStats>)>,
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
                    node: node.to_string(),
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
                .map(|(id, h)| (id.to_string(), h.stats.snapshot()))
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
                flow: self.flow.clone(),
                node: NodeId::new(node),
            })
    }

    /// Asks a Feeder to send a message (or its default one) `count` times; returns how many
    /// were accepted.
    pub async fn send(&self, node: &str, request: SendRequest) -> Result<u64, RuntimeError> {
        let h = self.node(node)?;
        if !h.capabilities.accepts_send {
            return Err(RuntimeError::Unsupported {
                node: NodeId::new(node),
                component: h.component.to_owned(),
                operation: "send",
            });
        }
        let (reply, answer) = oneshot::channel();
        let not_running = || RuntimeError::NotRunning {
            node: NodeId::new(node),
        };
        h.control
            .send(Control::Send { request, reply })
            .await
            .map_err(|_| not_running())?;
        answer.await.map_err(|_| not_running())?
    }

    /// Redeploys one node: its running version finishes the work it holds (its input reads as
    /// ended; what is queued stays), then `component` — the node built from its new config —
    /// takes over the same input queue, outputs and counters. The rest of the flow runs on.
    pub fn redeploy_node(
        &self,
        node: &str,
        component: Box<dyn Component>,
    ) -> Result<(), RuntimeError> {
        let h = self.node(node)?;
        if !self.is_running() {
            return Err(RuntimeError::NotRunning {
                node: NodeId::new(node),
            });
        }
        h.replacement.request(component);
        Ok(())
    }

    /// The messages a node keeps (oldest first) and how many it ever recorded.
    pub fn messages(&self, node: &str) -> Result<(Vec<Message>, u64), RuntimeError> {
        Ok(self.node(node)?.stats.history())
    }

    /// The latency histogram of a node's external calls.
    pub fn latency(&self, node: &str) -> Result<super::status::LatencySnapshot, RuntimeError> {
        Ok(self.node(node)?.stats.latency.snapshot())
    }

    /// Node ids with their component types and what those can do, in id order.
    pub fn node_types(&self) -> Vec<(NodeId, &'static str, Capabilities)> {
        self.nodes
            .iter()
            .map(|(id, h)| (id.clone(), h.component, h.capabilities))
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
        if let Some(acks) = &self.acks {
            // What is still in flight is delivered again elsewhere, not acknowledged.
            acks.tear_down();
        }
        self.abort.cancel();
        if let Ok(report) = tokio::time::timeout(Duration::from_secs(2), self.wait()).await {
            return report;
        }
        self.kill.cancel();
        self.wait().await
    }
}
