//! Where jobs run: inline in the node's task (one call slot: no hand-off between threads) or
//! each as its own tokio task (several: calls spread over the cores), aborted when dropped.

use std::future::Future;

use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use tokio::task::JoinSet;

/// How jobs are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Polled by the node's own task.
    Inline,
    /// One tokio task each.
    Spawned,
}

impl Placement {
    /// Inline for one call slot (the node waits on its only call anyway, and a task of its own
    /// would cost a wake-up of another thread per call), spawned for more.
    pub fn for_limit(max: usize) -> Self {
        if max <= 1 {
            Placement::Inline
        } else {
            Placement::Spawned
        }
    }
}

/// The jobs in flight. Dropping it cancels every one (a spawned task is aborted).
pub enum Jobs<T> {
    /// Polled by the node's task.
    Inline(FuturesUnordered<BoxFuture<'static, T>>),
    /// Tasks of their own.
    Spawned(JoinSet<T>),
}

impl<T: Send + 'static> Jobs<T> {
    /// No job yet, placed as `placement` says.
    pub fn new(placement: Placement) -> Self {
        match placement {
            Placement::Inline => Jobs::Inline(FuturesUnordered::new()),
            Placement::Spawned => Jobs::Spawned(JoinSet::new()),
        }
    }

    /// Starts a job.
    pub fn push(&mut self, job: impl Future<Output = T> + Send + 'static) {
        match self {
            Jobs::Inline(set) => set.push(Box::pin(job)),
            Jobs::Spawned(set) => {
                set.spawn(job);
            }
        }
    }

    /// Jobs not yet collected.
    pub fn len(&self) -> usize {
        match self {
            Jobs::Inline(set) => set.len(),
            Jobs::Spawned(set) => set.len(),
        }
    }

    /// Whether no job is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next job to finish (`None` when there is none). Cancel-safe. A job that panicked
    /// panics here, in the node's task, as it would have inline.
    pub async fn next(&mut self) -> Option<T> {
        match self {
            Jobs::Inline(set) => set.next().await,
            Jobs::Spawned(set) => loop {
                match set.join_next().await? {
                    Ok(done) => return Some(done),
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    // Only dropping the set aborts a job; nothing to collect from one.
                    Err(_) => continue,
                }
            },
        }
    }
}
