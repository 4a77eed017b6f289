//! A plan's JetStream edges bound in one worker: a publisher task per edge leaving a node, a
//! feeder task per edge entering one, acknowledgements sent when the last message derived from
//! a delivery is done with, and leases that keep sources singletons.
//!
//! At-least-once, end to end: a delivery's [`Receipt`] travels with the message and with every
//! message a node derives from it; it is acknowledged when the last of them is gone — published
//! on the next JetStream edge, or handled by a node that passes nothing on. A message discarded
//! at a stop, or that cannot be published, gives its delivery back (nak) instead; a worker that
//! dies acknowledges nothing, so JetStream delivers its unacknowledged messages again after the
//! acknowledgement wait. Outputs of a redelivered input are published under the ids they had
//! the first time (`<input id>:<edge>:<n>`), so the stream drops them as duplicates within its
//! duplicate window.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_nats::jetstream::kv;
use futures::future::BoxFuture;
use futures::{FutureExt as _, StreamExt as _};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Bus, Delivery, EdgeRef, Lease};
use crate::message::{Message, MessageId, Receipt, ReceiptToken};
use crate::runtime::component::{Component, NodeContext, NodeExit, RunMode};
use crate::runtime::error::RuntimeError;

/// What a run needs to bind JetStream edges: the flow's bus, the lease bucket and who this
/// worker is.
#[derive(Clone)]
pub struct Binding {
    /// The flow's streams.
    pub bus: Bus,
    /// The lease bucket (sources run where their lease is held).
    pub leases: kv::Store,
    /// This worker's id (lease holder name, worker reports).
    pub worker: String,
    /// How long a lease lasts without renewal (a dead worker's sources move after this).
    pub lease_ttl: Duration,
    /// Which version of the flow runs (a deploy revision, or a hash of the flow file): a
    /// source that ran to its end is not run again by workers of the same version.
    pub generation: String,
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binding")
            .field("flow", &self.bus.flow())
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

/// The acknowledgements of one run: how many are on their way, and whether the run was torn
/// down (then nothing more is acknowledged: what was not finished is delivered again).
#[derive(Debug)]
pub struct Acks {
    handle: tokio::runtime::Handle,
    torn_down: AtomicBool,
    in_flight: AtomicUsize,
    settled: Notify,
}

impl Acks {
    /// Acknowledgements spawned on the current runtime.
    pub fn new() -> Arc<Acks> {
        Arc::new(Acks {
            handle: tokio::runtime::Handle::current(),
            torn_down: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            settled: Notify::new(),
        })
    }

    /// The run was torn down before it drained: acknowledge nothing from now on.
    pub fn tear_down(&self) {
        self.torn_down.store(true, Ordering::SeqCst);
    }

    /// Waits until every acknowledgement sent so far has been answered.
    pub async fn settled(&self) {
        loop {
            let notified = self.settled.notified();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    fn send(self: &Arc<Self>, delivery: Delivery, give_back: bool) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let acks = self.clone();
        self.handle.spawn(async move {
            let answer = if give_back {
                delivery.nak(None).await
            } else {
                delivery.ack().await
            };
            if let Err(e) = answer {
                tracing::warn!(error = %e, "Acknowledgement lost; the message will be delivered again.");
            }
            if acks.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
                acks.settled.notify_waiters();
            }
        });
    }
}

/// The receipt of one delivery: acknowledges it when dropped (see the module docs).
struct AckOnDrop {
    delivery: Mutex<Option<Delivery>>,
    /// The delivered message's id: outputs derived from it are published under ids made from it.
    origin: MessageId,
    acks: Arc<Acks>,
    abandoned: AtomicBool,
    /// Per edge, how many messages carrying this receipt were published on it.
    published: Mutex<HashMap<String, u32>>,
}

impl AckOnDrop {
    /// Tells JetStream the work goes on, so the delivery is not handed to another worker.
    async fn progress(&self) {
        let delivery = self.delivery.lock().expect("delivery lock").take();
        if let Some(delivery) = delivery {
            let _ = delivery.progress().await;
            *self.delivery.lock().expect("delivery lock") = Some(delivery);
        }
    }

    /// The next publish id of an output on `edge`.
    fn publish_id(&self, edge: &str) -> String {
        let mut published = self.published.lock().expect("published lock");
        let n = published.entry(edge.to_owned()).or_insert(0);
        let id = format!("{}:{edge}:{n}", self.origin);
        *n += 1;
        id
    }
}

/// The receipt holds the token shared: the token (and its acknowledgement) goes when the last
/// receipt and any keep-alive in progress are gone.
impl ReceiptToken for Arc<AckOnDrop> {
    fn abandon(&self) {
        self.abandoned.store(true, Ordering::SeqCst);
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Drop for AckOnDrop {
    fn drop(&mut self) {
        let delivery = self.delivery.get_mut().ok().and_then(Option::take);
        if let Some(delivery) = delivery
            && !self.acks.torn_down.load(Ordering::SeqCst)
        {
            self.acks
                .send(delivery, self.abandoned.load(Ordering::SeqCst));
        }
    }
}

/// The id `message` is published under on `edge`: derived from the delivery it comes from
/// (stable across redeliveries), else its own id.
fn publish_id(message: &Message, edge: &str) -> String {
    match message
        .receipt
        .token()
        .and_then(|t| t.as_any().downcast_ref::<Arc<AckOnDrop>>())
    {
        Some(token) => token.publish_id(edge),
        None => format!("{}:{edge}", message.id),
    }
}

/// Publishes the stream may still be answering, per edge.
const PUBLISHES_IN_FLIGHT: usize = 256;

/// Publishes what a node sends on a JetStream edge, in order, until every sender is gone.
/// Publishes are pipelined (up to `PUBLISHES_IN_FLIGHT` awaiting the stream's answer); a
/// message is let go — its receipt released — only once the stream acknowledged it. One the
/// stream refused (full) is published again, waiting while it pushes back; one that cannot be
/// published at all gives its delivery back.
pub async fn publish_edge(bus: Bus, edge: EdgeRef, mut rx: mpsc::Receiver<Message>) {
    type Answer = (Message, String, Result<bool, String>);
    let mut answers: futures::stream::FuturesOrdered<BoxFuture<'static, Answer>> =
        futures::stream::FuturesOrdered::new();
    let mut open = true;
    while open || !answers.is_empty() {
        tokio::select! {
            biased;
            Some((message, id, answer)) = answers.next(), if !answers.is_empty() => {
                if answer.is_err() {
                    republish(&bus, &edge, message, &id).await;
                }
            }
            next = rx.recv(), if open && answers.len() < PUBLISHES_IN_FLIGHT => match next {
                Some(message) => {
                    let id = publish_id(&message, &edge.id);
                    match bus.send_publish(&edge, &message, &id).await {
                        Ok(answer) => {
                            answers.push_back(async move { (message, id, answer.await) }.boxed())
                        }
                        Err(_) => republish(&bus, &edge, message, &id).await,
                    }
                }
                None => open = false,
            },
        }
    }
}

/// Publishes one message again until the stream takes it (waiting while it pushes back); a
/// message that cannot be published at all gives its delivery back.
async fn republish(bus: &Bus, edge: &EdgeRef, message: Message, id: &str) {
    if let Err(e) = bus.publish_as(edge, &message, id).await {
        tracing::error!(edge = %edge.id, message_id = %message.id, error = %e,
            "Message not published; its input will be delivered again.");
        message.receipt.abandon();
    }
}

/// Takes deliveries of a JetStream edge for one node of this worker until the run stops, each
/// with its receipt; keeps the deliveries still being worked on from timing out.
pub async fn feed_edge(
    bus: Bus,
    edge: EdgeRef,
    max_ack_pending: i64,
    tx: mpsc::Sender<Message>,
    shutdown: CancellationToken,
    acks: Arc<Acks>,
) {
    let keep_alive = (bus.options().ack_wait / 3).max(Duration::from_millis(100));
    let mut working: Vec<Weak<AckOnDrop>> = Vec::new();
    let mut tick = tokio::time::interval(keep_alive);
    'bind: loop {
        let mut consumer = tokio::select! {
            c = bus.consume(&edge, max_ack_pending) => match c {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(edge = %edge.id, error = %e, "Cannot bind the edge yet; trying again.");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue 'bind,
                        _ = shutdown.cancelled() => return,
                    }
                }
            },
            _ = shutdown.cancelled() => return,
        };
        loop {
            let next = tokio::select! {
                next = consumer.next() => next,
                _ = tick.tick() => {
                    working.retain(|w| w.strong_count() > 0);
                    for token in working.iter().filter_map(Weak::upgrade) {
                        token.progress().await;
                    }
                    continue;
                }
                _ = shutdown.cancelled() => return,
            };
            let delivery = match next {
                Some(Ok(delivery)) => delivery,
                Some(Err(e)) => {
                    tracing::warn!(edge = %edge.id, error = %e, "Edge delivery failed; going on.");
                    continue;
                }
                None => continue 'bind,
            };
            let mut message = delivery.message.clone();
            let token = Arc::new(AckOnDrop {
                origin: message.id.clone(),
                delivery: Mutex::new(Some(delivery)),
                acks: acks.clone(),
                abandoned: AtomicBool::new(false),
                published: Mutex::new(HashMap::new()),
            });
            working.push(Arc::downgrade(&token));
            message.receipt = Receipt::new(Box::new(token));
            tokio::select! {
                sent = tx.send(message) => if sent.is_err() { return },
                // Not handed over: dropping it gives the delivery back.
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

/// A source that runs only in the worker holding its lease, so it runs in one process of the
/// flow at a time and moves to another worker when its holder dies.
pub struct LeasedSource {
    /// The source itself.
    pub inner: Box<dyn Component>,
    /// Where the lease lives.
    pub binding: Binding,
}

/// The key marking that `node` of `flow` in version `generation` sent everything it was
/// configured to send (a headless source that ended), so workers of that version joining within
/// the lease time do not run it again.
fn done_key(flow: &str, node: &str, generation: &str) -> String {
    format!("{}.done.{generation}", super::lease::key(flow, node))
}

impl Component for LeasedSource {
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut NodeContext,
    ) -> BoxFuture<'a, Result<NodeExit, RuntimeError>> {
        async move {
            let LeasedSource { inner, binding } = *self;
            let flow = ctx.info().flow.to_string();
            let node = ctx.info().node.to_string();
            let store = &binding.leases;
            let retry = binding.lease_ttl / 4;
            let mut lease = loop {
                if matches!(
                    store.get(done_key(&flow, &node, &binding.generation)).await,
                    Ok(Some(_))
                ) {
                    tracing::info!(flow = %flow, node = %node, "Source already ran to its end in another worker.");
                    return Ok(NodeExit::Finished);
                }
                match Lease::try_acquire(store, &flow, &node, &binding.worker).await {
                    Ok(Some(lease)) => break lease,
                    Ok(None) => {}
                    Err(e) => tracing::warn!(flow = %flow, node = %node, error = %e, "Lease not taken; trying again."),
                }
                tokio::select! {
                    _ = tokio::time::sleep(retry) => {}
                    _ = ctx.shutdown().cancelled() => return Ok(NodeExit::Finished),
                }
            };
            tracing::info!(flow = %flow, node = %node, worker = %binding.worker, "Source lease taken; the source runs here.");
            let renew_every = binding.lease_ttl / 3;
            let mode = ctx.mode();
            let outcome = {
                let run = inner.run(ctx);
                tokio::pin!(run);
                loop {
                    tokio::select! {
                        end = &mut run => break Some(end),
                        _ = tokio::time::sleep(renew_every) => {
                            if let Err(e) = lease.renew().await {
                                tracing::warn!(flow = %flow, node = %node, error = %e,
                                    "Source lease lost; the source stops here.");
                                break None;
                            }
                        }
                    }
                }
            };
            match outcome {
                Some(end) => {
                    if mode == RunMode::Batch && matches!(end, Ok(NodeExit::Finished)) {
                        let key = done_key(&flow, &node, &binding.generation);
                        let _ = store.put(key, "done".into()).await;
                    }
                    lease.release().await;
                    end
                }
                None => Ok(NodeExit::Finished),
            }
        }
        .boxed()
    }
}
