//! The concurrency gate: `max` call slots, and a count of *busy* units (admitted and not yet
//! past their first call, or inside a retry's call) that tells the run loop when to read input.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// A node's call slots and its busy units. The run loop reads input while fewer than `max` are
/// busy; the semaphore bounds calls in flight. A unit waiting for a retry is not busy and holds
/// no slot, so other units keep being called.
#[derive(Debug)]
pub struct Gate {
    max: usize,
    slots: Arc<Semaphore>,
    busy: AtomicUsize,
    /// Wakes the run loop when a unit stops being busy while its job goes on (a retry wait).
    retrying: Notify,
}

impl Gate {
    /// A gate with `max` call slots (at least one).
    pub fn new(max: usize) -> Arc<Self> {
        let max = max.max(1);
        Arc::new(Gate {
            max,
            slots: Arc::new(Semaphore::new(max)),
            busy: AtomicUsize::new(0),
            retrying: Notify::new(),
        })
    }

    /// The number of call slots.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Units busy now.
    pub fn busy(&self) -> usize {
        self.busy.load(Ordering::Acquire)
    }

    /// Whether another unit may be admitted.
    pub fn has_room(&self) -> bool {
        self.busy() < self.max
    }

    /// Marks one unit busy until the guard is dropped.
    pub fn enter(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }

    /// Takes a call slot, waiting while all are taken.
    pub async fn slot(&self) -> OwnedSemaphorePermit {
        // The semaphore is never closed, so a permit always comes.
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("the gate's semaphore is never closed")
    }

    /// Tells the run loop a unit left the busy count but its job goes on (it waits for a
    /// retry), so there may be room for more. A finished job wakes the loop by finishing, so
    /// only this case needs a wake-up (and the concurrency-1 path never pays for one).
    pub fn notify_retrying(&self) {
        self.retrying.notify_one();
    }

    /// Resolves after [`Gate::notify_retrying`].
    pub async fn retrying(&self) {
        self.retrying.notified().await
    }
}

/// One busy unit (see [`Gate`]).
#[derive(Debug)]
pub struct Busy(Arc<Gate>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}
