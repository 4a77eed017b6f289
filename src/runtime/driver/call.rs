//! One job: build the request, call it attempt after attempt as the error-handling policy
//! allows (each attempt holds a call slot only while the call is in progress), and shape the
//! outcomes of its input messages.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::limit::{Busy, Gate, Signal};
use super::{Outcome, Service};
use crate::runtime::status::NodeStats;
use crate::runtime::{ErrorHandling, with_retries};

/// What every job of one run shares.
pub struct Shared<S> {
    /// The component's building, calling and classifying.
    pub service: S,
    /// Retries and their waits.
    pub policy: ErrorHandling,
    /// Call slots and busy units.
    pub gate: Arc<Gate>,
    /// Cuts retry waits short when the flow is torn down.
    pub abort: CancellationToken,
    /// Where an adaptive limit's changes show (node status, events, metrics).
    pub stats: Arc<NodeStats>,
}

/// Runs one unit to its outcomes; `busy` marks it busy until its first call ends.
pub async fn job<S: Service>(
    shared: Arc<Shared<S>>,
    seq: u64,
    unit: S::Unit,
    busy: Busy,
) -> (u64, Vec<Outcome>) {
    let request = match shared.service.build(unit) {
        Ok(request) => request,
        Err(refused) => return (seq, refused),
    };
    let mut first = Some(busy);
    let result = with_retries(&shared.policy, &shared.abort, |attempt| {
        let busy = first.take().unwrap_or_else(|| shared.gate.enter());
        let (shared, request) = (&shared, &request);
        async move {
            let slot = shared.gate.slot().await;
            let reply = shared.service.call(request, attempt).await;
            let classified = shared.service.classify(request, reply, attempt);
            let signal = match &classified {
                Ok(_) => Signal::Success,
                Err(failure) if failure.throttled => Signal::Throttled,
                Err(_) => Signal::Other,
            };
            if let Some(limit) = shared.gate.observe(&slot, signal) {
                shared.stats.set_concurrency_limit(limit);
            }
            drop(slot);
            drop(busy);
            if classified.is_err() {
                // It may wait for a retry now, holding nothing: the loop may admit another.
                shared.gate.notify_retrying();
            }
            classified
        }
    })
    .await
    .map(|(response, _attempts)| response);
    (seq, shared.service.finish(request, result))
}
