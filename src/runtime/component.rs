//! The running side of the component contract: what a running node is ([`Component`]) and what
//! it gets from the engine ([`NodeContext`], [`Emitter`]). What a component *type* declares is in
//! [`super::component_type`].

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::error::RuntimeError;
use super::handling::{ErrorHandling, FinalFailure, RecordSource, error_message, error_record};
use super::id::{FlowId, NodeId};
use super::port::{Closed, ERROR, Outputs, Pending, PortId, TrySend};
use super::status::{FlowEvent, LastError, NodeStats};
use crate::message::Message;

/// How a node's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeExit {
    /// Its work is done (input closed, or a source sent everything).
    Finished,
    /// `stopService` stopped it after an error.
    StopService {
        /// The error that stopped it.
        reason: String,
    },
}

/// A running node. `run` consumes the node and drives it until its input closes (or, for a
/// source, until the flow stops or it has sent what it was configured to send).
pub trait Component: Send + 'static {
    /// Runs the node.
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut NodeContext,
    ) -> BoxFuture<'a, Result<NodeExit, RuntimeError>>;
}

/// How a flow runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Headless (`lambdaflow run`): sources send what they are configured to send, then end; the
    /// flow ends when every node has.
    Batch,
    /// Served: sources stay up for messages sent at run time until the flow is stopped.
    Interactive,
}

/// A run-time command to a node (from the API or the CLI).
#[derive(Debug)]
pub enum Control {
    /// Feeder: send a message (or the default one) `count` times, `interval` apart.
    Send {
        /// What to send.
        request: SendRequest,
        /// How many were accepted, or why not.
        reply: oneshot::Sender<Result<u64, RuntimeError>>,
    },
}

/// A Feeder send request.
#[derive(Debug, Clone)]
pub struct SendRequest {
    /// The message; `None` means the Feeder's default message.
    pub message: Option<Message>,
    /// How many times to send it.
    pub count: u64,
    /// Wait between two sends.
    pub interval: Duration,
}

/// Who a node is.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// Flow id.
    pub flow: FlowId,
    /// Node id.
    pub node: NodeId,
    /// Component type.
    pub component: &'static str,
}

/// Whether the node goes on after a failure was handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Go on with the next message.
    Continue,
    /// `stopService` is set for this error type: the node must stop.
    StopService {
        /// The error that stopped it.
        reason: String,
    },
}

/// A node's output side: emits messages and routes failures. Cheap to clone, so concurrent
/// work inside a node (several invocations in flight) can each hold one.
#[derive(Debug, Clone)]
pub struct Emitter {
    info: Arc<NodeInfo>,
    outputs: Arc<Outputs>,
    stats: Arc<NodeStats>,
    events: broadcast::Sender<FlowEvent>,
    abort: CancellationToken,
}

impl Emitter {
    pub(crate) fn new(
        info: Arc<NodeInfo>,
        outputs: Outputs,
        stats: Arc<NodeStats>,
        events: broadcast::Sender<FlowEvent>,
        abort: CancellationToken,
    ) -> Self {
        Emitter {
            info,
            outputs: Arc::new(outputs),
            stats,
            events,
            abort,
        }
    }

    /// Who this node is.
    pub fn info(&self) -> &NodeInfo {
        &self.info
    }

    /// The node's live counters and history.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    pub(crate) fn stats_arc(&self) -> Arc<NodeStats> {
        self.stats.clone()
    }

    /// Cancelled when the flow is being torn down: blocked sends and retry waits give up.
    pub fn abort(&self) -> &CancellationToken {
        &self.abort
    }

    /// Whether anything is wired to `port`.
    pub fn is_connected(&self, port: &str) -> bool {
        self.outputs.is_connected(port)
    }

    /// Resolves an output port once, for [`Emitter::emit_to`] in a loop.
    pub fn port(&self, port: &str) -> PortId {
        self.outputs.port(port)
    }

    /// Sends a message out of `port` (counted as emitted), waiting while downstream is full.
    pub async fn emit(&self, port: &str, message: Message) -> Result<(), Closed> {
        self.emit_to(self.outputs.port(port), message).await
    }

    /// Sends a message out of a resolved port (counted as emitted), waiting while downstream
    /// is full.
    pub async fn emit_to(&self, port: PortId, message: Message) -> Result<(), Closed> {
        self.stats.add_emitted();
        self.send_raw(port, message).await
    }

    /// Sends one *part* of an input message's output (a streamed response's chunk), waiting
    /// while downstream is full. Not counted as emitted: `emitted` counts each input message's
    /// final `out` message once, so `received = emitted + errors` holds however many parts
    /// went before it.
    pub async fn emit_part(&self, port: PortId, message: Message) -> Result<(), Closed> {
        self.send_raw(port, message).await
    }

    /// Hands the message over without waiting when every downstream queue has room; otherwise
    /// waits for room, giving up when the flow is torn down.
    async fn send_raw(&self, port: PortId, message: Message) -> Result<(), Closed> {
        match self.outputs.try_send(port, message) {
            Ok(TrySend::Done) => Ok(()),
            // The waiting future is large (a semaphore acquire and a cancellation listener):
            // boxed, so the common path neither builds nor moves it.
            Ok(TrySend::Full(pending)) => Box::pin(self.wait_and_send(port, pending)).await,
            Err(closed) => Err(self.closed(closed)),
        }
    }

    async fn wait_and_send(&self, port: PortId, pending: Pending) -> Result<(), Closed> {
        tokio::select! {
            res = self.outputs.finish(pending) => res.map_err(|closed| self.closed(closed)),
            _ = self.abort.cancelled() => {
                tracing::warn!(flow = %self.info.flow, node = %self.info.node, port = port.name(),
                    "Flow torn down while downstream was full; message not delivered.");
                Err(Closed { port: port.name() })
            }
        }
    }

    fn closed(&self, closed: Closed) -> Closed {
        tracing::error!(flow = %self.info.flow, node = %self.info.node, port = closed.port,
            "Downstream input closed; message not delivered.");
        closed
    }

    /// Whether anyone follows the flow's live events: build an event only when this is true.
    pub fn has_subscribers(&self) -> bool {
        self.events.receiver_count() > 0
    }

    /// Publishes a live event (ignored when nobody listens).
    pub fn publish(&self, event: FlowEvent) {
        let _ = self.events.send(event);
    }

    /// Handles the final failure of one input message according to the node's error-handling
    /// policy: counts it, logs it, sends the error record to the error port, publishes it, and
    /// says whether the node must stop (`stopService`).
    pub async fn fail(
        &self,
        policy: &ErrorHandling,
        fin: FinalFailure,
        input: &Message,
    ) -> FailureOutcome {
        let failure = &fin.failure;
        let actions = policy.actions(failure.error_type);
        self.stats.add_error(LastError::from_failure(failure));
        if actions.log {
            tracing::warn!(
                flow = %self.info.flow,
                node = %self.info.node,
                error.type = failure.error_type.as_str(),
                error.code = %failure.code,
                attempts = fin.attempts,
                condition = fin.condition.as_str(),
                message_id = %input.id,
                "Message failed: {}", failure.message
            );
        }
        let record = error_record(
            &RecordSource {
                flow: &self.info.flow,
                node: &self.info.node,
                component: self.info.component,
            },
            &fin,
            input,
        );
        let routed = actions.send_to_error_port
            && self
                .send_raw(
                    self.outputs.port(ERROR),
                    error_message(&record, failure, input),
                )
                .await
                .is_ok();
        if !routed {
            // Conservation: a failed message that is not routed is counted and always logged.
            self.stats.add_discarded();
            tracing::warn!(
                flow = %self.info.flow,
                node = %self.info.node,
                message_id = %input.id,
                error.type = failure.error_type.as_str(),
                error.code = %failure.code,
                send_to_error_port = actions.send_to_error_port,
                "Message discarded (not routed to the error port): {}", failure.message
            );
        }
        self.publish(FlowEvent::Error {
            node: self.info.node.to_string(),
            record,
        });
        if actions.stop_service {
            tracing::error!(flow = %self.info.flow, node = %self.info.node,
                error.type = failure.error_type.as_str(), "Stopping node (stopService).");
            FailureOutcome::StopService {
                reason: failure.to_string(),
            }
        } else {
            FailureOutcome::Continue
        }
    }
}

/// Everything a running node gets from the engine.
#[derive(Debug)]
pub struct NodeContext {
    pub(crate) emitter: Emitter,
    pub(crate) input: Option<mpsc::Receiver<Message>>,
    pub(crate) control: Option<mpsc::Receiver<Control>>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) mode: RunMode,
    pub(crate) print_displays: bool,
    pub(crate) durable: Option<Arc<str>>,
    /// Cancelled when a new version of this node is waiting to take over (a redeploy of its
    /// config): the node's input then reads as ended, so it finishes its work in flight and
    /// returns; what is still queued stays for the new version.
    pub(crate) redeploying: CancellationToken,
    pub(crate) replacement: Arc<Replacement>,
}

/// A node's next version, waiting for the running one to finish: the running one sees its input
/// end ([`NodeContext::recv`]) and its commands end ([`NodeContext::next_command`]).
#[derive(Default)]
pub struct Replacement {
    next: std::sync::Mutex<Option<Box<dyn Component>>>,
    token: std::sync::Mutex<CancellationToken>,
}

impl std::fmt::Debug for Replacement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replacement").finish_non_exhaustive()
    }
}

impl Replacement {
    /// Asks the running version to finish and hands over to `next`.
    pub(crate) fn request(&self, next: Box<dyn Component>) {
        *self.next.lock().expect("replacement lock") = Some(next);
        self.token.lock().expect("replacement lock").cancel();
    }

    /// The version waiting to take over, with the token the new version watches.
    pub(crate) fn take(&self) -> Option<(Box<dyn Component>, CancellationToken)> {
        let next = self.next.lock().expect("replacement lock").take()?;
        let token = CancellationToken::new();
        *self.token.lock().expect("replacement lock") = token.clone();
        Some((next, token))
    }

    /// The token the current version watches.
    pub(crate) fn token(&self) -> CancellationToken {
        self.token.lock().expect("replacement lock").clone()
    }
}

impl NodeContext {
    /// Who this node is.
    pub fn info(&self) -> &NodeInfo {
        self.emitter.info()
    }

    /// The node's live counters and history.
    pub fn stats(&self) -> &NodeStats {
        self.emitter.stats()
    }

    /// The next input message (counted as received), or `None` once every upstream has ended.
    /// Cancel-safe. One at a time, never in batches: a message taken from the queue frees a
    /// slot upstream, so a node holds no more than its queue's capacity plus the message in hand.
    pub async fn recv(&mut self) -> Option<Message> {
        if self.redeploying.is_cancelled() {
            return None;
        }
        let rx = self.input.as_mut()?;
        let msg = match rx.try_recv() {
            Ok(msg) => msg,
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) => tokio::select! {
                biased;
                _ = self.redeploying.cancelled() => return None,
                msg = rx.recv() => msg?,
            },
        };
        self.emitter.stats.add_received();
        Some(msg)
    }

    /// Whether no input message is waiting right now (the next `recv` would wait).
    pub fn input_is_idle(&self) -> bool {
        self.input.as_ref().is_none_or(|rx| rx.is_empty())
    }

    /// A handle for emitting and routing failures, cloneable into concurrent work.
    pub fn emitter(&self) -> Emitter {
        self.emitter.clone()
    }

    /// Sends a message out of `port`.
    pub async fn emit(&self, port: &str, message: Message) -> Result<(), Closed> {
        self.emitter.emit(port, message).await
    }

    /// Resolves an output port once, for [`NodeContext::emit_to`] in a loop.
    pub fn port(&self, port: &str) -> PortId {
        self.emitter.port(port)
    }

    /// Sends a message out of a resolved port.
    pub async fn emit_to(&self, port: PortId, message: Message) -> Result<(), Closed> {
        self.emitter.emit_to(port, message).await
    }

    /// Publishes a live event (ignored when nobody listens).
    pub fn publish(&self, event: FlowEvent) {
        self.emitter.publish(event)
    }

    /// Whether anyone follows the flow's live events: build an event only when this is true.
    pub fn has_subscribers(&self) -> bool {
        self.emitter.has_subscribers()
    }

    /// Cancelled when the flow is asked to stop: sources stop producing; other nodes go on until
    /// their input closes.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Cancelled when the flow is torn down (after the drain period): give up waiting.
    pub fn abort(&self) -> &CancellationToken {
        self.emitter.abort()
    }

    /// The next run-time command for this node (Feeder sends), or `None` once the node should
    /// stop taking them: the flow stops, a new version of the node waits to take over (a
    /// command that arrives after that is left queued for it), or the flow takes none.
    /// Cancel-safe.
    pub async fn next_command(&mut self) -> Option<Control> {
        let Some(control) = self.control.as_mut() else {
            tokio::select! {
                _ = self.shutdown.cancelled() => {}
                _ = self.redeploying.cancelled() => {}
            }
            return None;
        };
        tokio::select! {
            biased;
            _ = self.redeploying.cancelled() => None,
            _ = self.shutdown.cancelled() => None,
            command = control.recv() => command,
        }
    }

    /// How the flow runs.
    pub fn mode(&self) -> RunMode {
        self.mode
    }

    /// Whether Displays print each message as a JSON line on stdout (headless runs).
    pub fn print_displays(&self) -> bool {
        self.print_displays
    }

    /// When the flow runs on durable (JetStream) edges as one of several workers, the version
    /// of the flow that runs (a deploy revision or a hash of the flow file): a source then
    /// numbers its start-up sends with ids stable within that version, so a worker taking it
    /// over re-sends what the stream already has as duplicates it drops.
    pub fn durable_generation(&self) -> Option<&str> {
        self.durable.as_deref()
    }
}
