//! The concurrency gate: a limit on calls in flight (fixed, or adaptive between `min` and
//! `max`), and a count of *busy* units (admitted and not yet past their first call, or inside a
//! retry's call) that tells the run loop when to read input.
//!
//! The adaptive limit is AIMD, as TCP's congestion window and the AWS SDK's adaptive retry
//! mode: until the first throttle each successful call adds a slot (the limit doubles each
//! round of calls: TCP's slow start); after it, each success adds `1/limit` (one slot per
//! round), and a throttled call multiplies the limit by [`BACKOFF`]. Calls in flight when the
//! limit drops all answer within the same round, so only the first throttle of a round (a call
//! that started after the last decrease) lowers it again.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// How far a throttle lowers an adaptive limit (the AWS SDK's adaptive mode uses 0.7).
pub const BACKOFF: f64 = 0.7;

/// How many calls may be in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// Exactly this many (at least one).
    Fixed(usize),
    /// Starts at `min`, grows while calls succeed (doubling each round until the first
    /// throttle, then one call per round), backs off on throttling; never outside `min..=max`.
    Adaptive {
        /// The floor, and the start.
        min: usize,
        /// The ceiling.
        max: usize,
    },
}

/// What one call's answer tells the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The call succeeded.
    Success,
    /// The service refused it for load.
    Throttled,
    /// Anything else (no change).
    Other,
}

/// The AIMD state of an adaptive limit.
#[derive(Debug)]
struct Aimd {
    window: f64,
    /// No throttle yet: grow a slot per success, not per round.
    slow_start: bool,
    /// The floor (the ceiling is the gate's `max`).
    min: f64,
}

/// A node's call limit and its busy units. The run loop reads input while fewer than the
/// current limit are busy; [`Gate::slot`] bounds calls in flight. A unit waiting for a retry is
/// not busy and holds no slot, so other units keep being called.
#[derive(Debug)]
pub struct Gate {
    max: usize,
    limit: AtomicUsize,
    in_flight: AtomicUsize,
    /// Bumped at each decrease: a throttle from a call that started before it is old news.
    round: AtomicU64,
    aimd: Option<Mutex<Aimd>>,
    /// Wakes a unit waiting for a slot when one is freed or the limit grows.
    freed: Notify,
    busy: AtomicUsize,
    /// Wakes the run loop when a unit stops being busy while its job goes on (a retry wait).
    retrying: Notify,
}

impl Gate {
    /// A gate with the given limit (a fixed one of at least one slot; an adaptive `min` of at
    /// least one and `max` of at least `min`).
    pub fn new(limit: Limit) -> Arc<Self> {
        let (start, max, aimd) = match limit {
            Limit::Fixed(n) => (n.max(1), n.max(1), None),
            Limit::Adaptive { min, max } => {
                let min = min.max(1);
                let max = max.max(min);
                let aimd = Aimd {
                    window: min as f64,
                    slow_start: true,
                    min: min as f64,
                };
                (min, max, Some(Mutex::new(aimd)))
            }
        };
        Arc::new(Gate {
            max,
            limit: AtomicUsize::new(start),
            in_flight: AtomicUsize::new(0),
            round: AtomicU64::new(0),
            aimd,
            freed: Notify::new(),
            busy: AtomicUsize::new(0),
            retrying: Notify::new(),
        })
    }

    /// The most calls that may ever be in flight (the fixed limit, or the adaptive `max`).
    pub fn max(&self) -> usize {
        self.max
    }

    /// The limit now.
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Acquire)
    }

    /// Whether the limit adapts.
    pub fn is_adaptive(&self) -> bool {
        self.aimd.is_some()
    }

    /// Units busy now.
    pub fn busy(&self) -> usize {
        self.busy.load(Ordering::Acquire)
    }

    /// Whether another unit may be admitted.
    pub fn has_room(&self) -> bool {
        self.busy() < self.limit()
    }

    /// Marks one unit busy until the guard is dropped.
    pub fn enter(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }

    /// Takes a call slot, waiting while the limit's worth are in flight.
    pub async fn slot(self: &Arc<Self>) -> Slot {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the check, so a release between the two is not missed.
            freed.as_mut().enable();
            if let Some(slot) = self.try_slot() {
                return slot;
            }
            freed.await;
        }
    }

    fn try_slot(self: &Arc<Self>) -> Option<Slot> {
        let mut now = self.in_flight.load(Ordering::Acquire);
        loop {
            if now >= self.limit() {
                return None;
            }
            match self.in_flight.compare_exchange_weak(
                now,
                now + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Some(Slot {
                        gate: self.clone(),
                        round: self.round.load(Ordering::Acquire),
                    });
                }
                Err(seen) => now = seen,
            }
        }
    }

    /// Feeds one call's answer to an adaptive limit (a fixed one ignores it). Returns the new
    /// limit when it changed.
    pub fn observe(&self, slot: &Slot, signal: Signal) -> Option<usize> {
        let aimd = self.aimd.as_ref()?;
        let mut a = aimd.lock().expect("adaptive limit lock");
        match signal {
            Signal::Success => {
                let step = if a.slow_start { 1.0 } else { 1.0 / a.window };
                a.window = (a.window + step).min(self.max as f64);
            }
            // One decrease per round: calls that started before the last one saw the old limit.
            Signal::Throttled if slot.round == self.round.load(Ordering::Acquire) => {
                a.window = (a.window * BACKOFF).max(a.min);
                a.slow_start = false;
                self.round.fetch_add(1, Ordering::AcqRel);
            }
            Signal::Throttled | Signal::Other => return None,
        }
        let next = a.window.floor() as usize;
        let before = self.limit.swap(next, Ordering::AcqRel);
        if next > before {
            // Room for waiting calls (and for the run loop to admit more).
            for _ in before..next {
                self.freed.notify_one();
            }
            self.retrying.notify_one();
        }
        (next != before).then_some(next)
    }

    /// Tells the run loop a unit left the busy count but its job goes on (it waits for a
    /// retry), so there may be room for more. A finished job wakes the loop by finishing, so
    /// only this case needs a wake-up (and the concurrency-1 path never pays for one).
    pub fn notify_retrying(&self) {
        self.retrying.notify_one();
    }

    /// Resolves after [`Gate::notify_retrying`] (or a grown limit).
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

/// One call in flight; frees its slot when dropped.
#[derive(Debug)]
pub struct Slot {
    gate: Arc<Gate>,
    /// The decrease round the call started in.
    round: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gate.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adaptive(min: usize, max: usize) -> Arc<Gate> {
        Gate::new(Limit::Adaptive { min, max })
    }

    #[tokio::test]
    async fn a_fixed_limit_ignores_what_calls_answer() {
        let gate = Gate::new(Limit::Fixed(3));
        let slot = gate.slot().await;
        assert_eq!(gate.observe(&slot, Signal::Throttled), None);
        assert_eq!(gate.observe(&slot, Signal::Success), None);
        assert_eq!(
            (gate.limit(), gate.max(), gate.is_adaptive()),
            (3, 3, false)
        );
    }

    #[tokio::test]
    async fn an_adaptive_limit_doubles_until_a_throttle_then_adds_one_slot_per_round() {
        let gate = adaptive(2, 20);
        assert_eq!(gate.limit(), 2);
        let slot = gate.slot().await;
        // Slow start: a slot per success.
        let grew: Vec<Option<usize>> = (0..3)
            .map(|_| gate.observe(&slot, Signal::Success))
            .collect();
        assert_eq!(grew, [Some(3), Some(4), Some(5)]);
        let throttled = gate.slot().await;
        assert_eq!(gate.observe(&throttled, Signal::Throttled), Some(3));
        drop(throttled);
        // Then about a round's worth of successes for each new slot (from 3.5: two to reach 4,
        // five more to reach 5).
        let grew: Vec<Option<usize>> = (0..7)
            .map(|_| gate.observe(&slot, Signal::Success))
            .collect();
        assert_eq!(grew, [None, Some(4), None, None, None, None, Some(5)]);
        for _ in 0..1000 {
            gate.observe(&slot, Signal::Success);
        }
        assert_eq!(gate.limit(), 20, "never above max");
    }

    #[tokio::test]
    async fn a_throttle_backs_off_once_per_round_and_never_below_min() {
        let gate = adaptive(1, 20);
        let warm = gate.slot().await;
        while gate.limit() < 20 {
            gate.observe(&warm, Signal::Success);
        }
        drop(warm);
        // Three calls of the same round throttled: one decrease.
        let round: Vec<Slot> = vec![gate.slot().await, gate.slot().await, gate.slot().await];
        for slot in &round {
            gate.observe(slot, Signal::Throttled);
        }
        assert_eq!(gate.limit(), 14);
        drop(round);
        // A call that started after the decrease counts again.
        let later = gate.slot().await;
        assert_eq!(gate.observe(&later, Signal::Throttled), Some(9));
        drop(later);
        for _ in 0..20 {
            let s = gate.slot().await;
            gate.observe(&s, Signal::Throttled);
        }
        assert_eq!(gate.limit(), 1, "never below min");
        let s = gate.slot().await;
        assert_eq!(gate.observe(&s, Signal::Other), None);
    }

    #[tokio::test]
    async fn slots_wait_at_the_limit_and_a_freed_or_grown_one_wakes_a_waiter() {
        let gate = adaptive(1, 4);
        let first = gate.slot().await;
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.slot().await.round }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "one slot at limit 1");
        // One success at limit 1 grows the limit to 2: the waiter gets the new slot.
        gate.observe(&first, Signal::Success);
        assert_eq!(waiting.await.expect("waiter"), 0);
        drop(first);
        let (a, b) = (gate.slot().await, gate.slot().await);
        assert_eq!(gate.in_flight.load(Ordering::Acquire), 2);
        drop((a, b));
        assert_eq!(gate.in_flight.load(Ordering::Acquire), 0);
    }
}
