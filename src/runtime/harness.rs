//! A harness that runs one component outside a flow: send into its input, read what reached
//! `out` and `error`, stop it. Tests use it, and so does the API's component test route
//! (Fiorano's Test button). It starts its node from a one-node plan through the scheduler's own
//! start path (Tremor's harness), so a node tested here is the node that runs in a flow.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::component::{Component, RunMode};
use super::error::RuntimeError;
use super::id::{FlowId, NodeId};
use super::plan::Plan;
use super::port::{ERROR, OUT, Outputs};
use super::scheduler::{NodeEnd, RunShared, launch};
use super::status::{FlowEvent, NodeStats, NodeStatus};
use crate::message::Message;

/// Capacity of the harness's input and output queues.
const QUEUE: usize = 64;

/// One component running alone.
pub struct Harness {
    node: NodeId,
    input: Option<mpsc::Sender<Message>>,
    out: mpsc::UnboundedReceiver<Message>,
    error: mpsc::UnboundedReceiver<Message>,
    stats: Arc<NodeStats>,
    shutdown: CancellationToken,
    abort: CancellationToken,
    events: broadcast::Sender<FlowEvent>,
    task: Option<JoinHandle<NodeEnd>>,
}

/// What a stopped harness collected.
#[derive(Debug)]
pub struct Collected {
    /// Messages that reached `out`, in order.
    pub out: Vec<Message>,
    /// Messages that reached `error`, in order.
    pub error: Vec<Message>,
    /// The node's final status.
    pub status: NodeStatus,
    /// How the node ended.
    pub end: NodeEnd,
}

impl Harness {
    /// Starts the only node of a one-node plan (the registry's `plan_node`), as node `node` of
    /// the plan's flow, through the scheduler's own start path.
    pub fn start(plan: &Plan) -> Result<Self, RuntimeError> {
        let node = plan.nodes.first().ok_or_else(|| RuntimeError::BadRequest {
            node: NodeId::new(""),
            message: "the plan has no node to run".into(),
        })?;
        let component = node.build()?;
        Ok(Self::launch(
            &plan.flow,
            &node.id,
            node.descriptor.type_name,
            component,
            RunMode::Interactive,
        ))
    }

    /// Starts an already built component (tests inject mocked clients this way).
    pub fn with_component(
        type_name: &'static str,
        node: &str,
        component: Box<dyn Component>,
    ) -> Self {
        Self::with_component_in(type_name, node, component, RunMode::Interactive)
    }

    /// Like [`Harness::with_component`], choosing the run mode.
    pub fn with_component_in(
        type_name: &'static str,
        node: &str,
        component: Box<dyn Component>,
        mode: RunMode,
    ) -> Self {
        Self::launch(
            &FlowId::new("harness"),
            &NodeId::new(node),
            type_name,
            component,
            mode,
        )
    }

    fn launch(
        flow: &FlowId,
        node: &NodeId,
        type_name: &'static str,
        component: Box<dyn Component>,
        mode: RunMode,
    ) -> Self {
        let (in_tx, in_rx) = mpsc::channel(QUEUE);
        let (out_tx, out) = collector();
        let (err_tx, error) = collector();
        let mut outputs = Outputs::default();
        outputs.connect(OUT, out_tx);
        outputs.connect(ERROR, err_tx);
        let (events, _) = broadcast::channel(1024);
        let run = RunShared {
            events: events.clone(),
            shutdown: CancellationToken::new(),
            abort: CancellationToken::new(),
            mode,
            print_displays: false,
            durable: None,
        };
        let (stats, _, task) = launch(
            flow,
            node,
            type_name,
            component,
            outputs,
            Some(in_rx),
            None,
            &run,
            None,
        );
        Harness {
            node: node.clone(),
            input: Some(in_tx),
            out,
            error,
            stats,
            shutdown: run.shutdown,
            abort: run.abort,
            events,
            task: Some(tokio::spawn(task)),
        }
    }

    /// Sends a message into the node's `in` port.
    pub async fn send(&self, message: Message) -> Result<(), RuntimeError> {
        let tx = self
            .input
            .as_ref()
            .ok_or_else(|| RuntimeError::NotRunning {
                node: self.node.clone(),
            })?;
        tx.send(message)
            .await
            .map_err(|_| RuntimeError::NotRunning {
                node: self.node.clone(),
            })
    }

    /// The next message on `out`, waiting up to `within`.
    pub async fn out(&mut self, within: Duration) -> Option<Message> {
        tokio::time::timeout(within, self.out.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next message on `error`, waiting up to `within`.
    pub async fn error(&mut self, within: Duration) -> Option<Message> {
        tokio::time::timeout(within, self.error.recv())
            .await
            .ok()
            .flatten()
    }

    /// The node's current status.
    pub fn status(&self) -> NodeStatus {
        self.stats.snapshot()
    }

    /// Follows the node's events.
    pub fn subscribe(&self) -> broadcast::Receiver<FlowEvent> {
        self.events.subscribe()
    }

    /// Closes the input, lets the node finish what it has (up to `drain`), and returns
    /// everything that reached `out` and `error` that was not read yet.
    pub async fn stop(mut self, drain: Duration) -> Collected {
        self.input = None;
        self.shutdown.cancel();
        let mut task = self.task.take().expect("started");
        let end = match tokio::time::timeout(drain, &mut task).await {
            Ok(end) => end.expect("node task completes"),
            Err(_) => {
                self.abort.cancel();
                match tokio::time::timeout(Duration::from_secs(2), &mut task).await {
                    Ok(end) => end.expect("node task completes"),
                    Err(_) => {
                        task.abort();
                        NodeEnd {
                            node: self.node.clone(),
                            kind: super::scheduler::NodeEndKind::Failed {
                                message: "did not stop".into(),
                            },
                            discarded: 0,
                        }
                    }
                }
            }
        };
        // The node's end dropped its outputs, so both collectors close once forwarded.
        let out = drain_all(&mut self.out).await;
        let error = drain_all(&mut self.error).await;
        Collected {
            out,
            error,
            status: self.stats.snapshot(),
            end,
        }
    }
}

async fn drain_all(rx: &mut mpsc::UnboundedReceiver<Message>) -> Vec<Message> {
    let mut all = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        all.push(m);
    }
    all
}

/// A bounded port the node sends into, forwarded into an unbounded test-side buffer so a test
/// that reads late never blocks the node.
fn collector() -> (mpsc::Sender<Message>, mpsc::UnboundedReceiver<Message>) {
    let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
    let (utx, urx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if utx.send(m).is_err() {
                break;
            }
        }
    });
    (tx, urx)
}
