//! The invocation driver: runs any request/response component's calls — a concurrency limit,
//! input order kept through a bounded reorder buffer, batching triggers, retries with their
//! timers and `stopService` — so the component supplies only building, calling and classifying
//! ([`Service`]), as Vector splits a sink into request builder, service and retry logic.
//!
//! The loop keeps up to the concurrency limit's units (a message, or a batch) busy and reads no
//! more input than it can call, so a slow service back-pressures upstream. A unit waiting for a
//! retry holds no call slot: other units keep being called. With `preserve_order` results
//! leave in input order: a slow or retrying unit holds back later *results* (at most
//! `reorder_buffer` units wait behind the ones in flight; past that the node reads no more
//! input), never later calls. Every message that enters leaves through `out` or `error`
//! exactly once, or is counted as discarded when its error actions route it nowhere.
//!
//! With one call slot the calls run inline in the node's task; with more, each unit runs as a
//! tokio task of its own (aborted when the node's run is dropped), so calls in flight spread
//! over the cores.

// `Failure` (the engine's per-message error) is large; it is built at most once per attempt and
// moved, never copied in a loop, so boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod call;
mod jobs;
mod limit;
mod order;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;

use tokio::time::Instant;

use crate::message::Message;
use crate::runtime::port::OUT;
use crate::runtime::{ErrorHandling, Failure, FailureOutcome, FinalFailure, NodeContext, NodeExit};
use call::{Shared, job};
use jobs::Jobs;
pub use jobs::Placement;
pub use limit::{BACKOFF, Busy, Gate, Limit, Signal, Slot};
pub use order::Reorder;

/// The outcome of one input message: its `out` message, or its final failure (routed by the
/// node's error handling).
pub type Outcome = (Message, Result<Message, FinalFailure>);

/// What a request/response component supplies: how a unit of input becomes a request, how a
/// request is sent, how a reply is judged, and what each input message becomes.
pub trait Service: Send + Sync + 'static {
    /// What one call carries: a message, or a batch the component's [`Batching`] made.
    type Unit: From<Message> + Send + 'static;
    /// A built request, kept until its outcomes are shaped.
    type Request: Send + Sync + 'static;
    /// What a call answers, before it is judged.
    type Reply: Send;
    /// A successful reply, judged.
    type Response: Send;

    /// Builds the request for `unit`, or the outcomes of its messages when none can be sent.
    fn build(&self, unit: Self::Unit) -> Result<Self::Request, Vec<Outcome>>;

    /// Sends `request` once (`attempt` counts from 1).
    fn call(
        &self,
        request: &Self::Request,
        attempt: u32,
    ) -> impl Future<Output = Self::Reply> + Send;

    /// A success, or the failure the error-handling policy judges (retry or final).
    fn classify(
        &self,
        request: &Self::Request,
        reply: Self::Reply,
        attempt: u32,
    ) -> Result<Self::Response, Failure>;

    /// The outcome of each of the request's input messages, in input order.
    fn finish(
        &self,
        request: Self::Request,
        result: Result<Self::Response, FinalFailure>,
    ) -> Vec<Outcome>;
}

/// Collects messages into batches until a trigger fires.
pub trait Batching<U>: Send {
    /// Adds a message; called only while [`Batching::is_full`] is false.
    fn push(&mut self, message: Message);
    /// No message is waiting.
    fn is_empty(&self) -> bool;
    /// A count or size trigger fired: the batch must be sent before more is added.
    fn is_full(&self) -> bool;
    /// When the time trigger fires, if a batch is open.
    fn deadline(&self) -> Option<Instant>;
    /// Takes the current batch.
    fn take(&mut self) -> U;
}

/// How the driver runs a node's calls.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Units called at once: a fixed number, or a limit that adapts to throttling.
    pub concurrency: Limit,
    /// Results leave in input order.
    pub preserve_order: bool,
    /// Units that may wait, besides those in flight, for a retry or an earlier result.
    pub reorder_buffer: usize,
    /// Retries, error routing and `stopService`.
    pub policy: ErrorHandling,
}

/// Runs `service` over the node's input until the input ends (or `stopService`), and every
/// unit taken has left. `batching` collects messages into units; without it each message is
/// one.
pub async fn run<S: Service>(
    service: S,
    mut batching: Option<Box<dyn Batching<S::Unit>>>,
    settings: Settings,
    ctx: &mut NodeContext,
) -> NodeExit {
    let emitter = ctx.emitter();
    let out = emitter.port(OUT);
    let gate = Gate::new(settings.concurrency);
    let max = gate.max();
    if gate.is_adaptive() {
        emitter.stats().set_concurrency_limit(gate.limit());
    }
    let shared = Arc::new(Shared {
        service,
        policy: settings.policy,
        gate: gate.clone(),
        abort: emitter.abort().clone(),
        stats: emitter.stats_arc(),
    });
    let mut jobs = Jobs::new(Placement::for_limit(max));
    let mut order = Reorder::new(settings.preserve_order);
    let bound = max.saturating_add(settings.reorder_buffer);
    let mut seq: u64 = 0;
    let mut input_open = true;
    let mut stop: Option<String> = None;
    loop {
        let reading = input_open && stop.is_none();
        // Room for one more busy unit, and for one more waiting behind others.
        let room = gate.has_room() && jobs.len() + order.held() < bound;
        // Send a batch whose trigger fired (or every waiting one once reading is over).
        if let Some(b) = batching.as_mut()
            && !b.is_empty()
            && room
            && (b.is_full() || !reading || b.deadline().is_some_and(|d| d <= Instant::now()))
        {
            jobs.push(job(shared.clone(), seq, b.take(), gate.enter()));
            seq += 1;
            continue;
        }
        let batch_waiting = batching.as_ref().is_some_and(|b| !b.is_empty());
        if !reading && jobs.is_empty() && !batch_waiting {
            break;
        }
        let can_read = reading
            && match &batching {
                None => room,
                Some(b) => !b.is_full(),
            };
        let deadline = batching
            .as_ref()
            .and_then(|b| b.deadline())
            .filter(|_| room);
        tokio::select! {
            biased;
            Some((done, outcomes)) = jobs.next(), if !jobs.is_empty() => {
                for (input, result) in order.finish(done, outcomes) {
                    match result {
                        Ok(message) => {
                            let _ = emitter.emit_to(out, message).await;
                        }
                        Err(fin) => {
                            let outcome = emitter.fail(&shared.policy, fin, &input).await;
                            if let FailureOutcome::StopService { reason } = outcome
                                && stop.is_none()
                            {
                                tracing::warn!(node = %emitter.info().node,
                                    in_flight = jobs.len(),
                                    "Stopping (stopService): taking no more input, finishing \
                                     what is in flight.");
                                stop = Some(reason);
                            }
                        }
                    }
                }
            }
            // A unit went from busy to waiting for a retry: maybe room for more.
            _ = gate.retrying() => {}
            _ = sleep_until(deadline), if deadline.is_some() => {}
            message = ctx.recv(), if can_read => match message {
                None => input_open = false,
                Some(message) => match batching.as_mut() {
                    Some(b) => b.push(message),
                    None => {
                        jobs.push(job(shared.clone(), seq, S::Unit::from(message), gate.enter()));
                        seq += 1;
                    }
                },
            },
        }
    }
    match stop {
        Some(reason) => NodeExit::StopService { reason },
        None => NodeExit::Finished,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
