//! The reorder buffer: finished jobs leave at once, or (`preserveOrder`) in input order, the
//! ones that finished early held until every earlier one has left.

use std::collections::BTreeMap;

/// Finished jobs on their way out.
#[derive(Debug)]
pub struct Reorder<T> {
    preserve_order: bool,
    /// The sequence number whose results leave next (`preserveOrder`).
    next: u64,
    /// Finished results waiting for an earlier one.
    held: BTreeMap<u64, Vec<T>>,
}

impl<T> Reorder<T> {
    /// A buffer that keeps input order when `preserve_order` is set.
    pub fn new(preserve_order: bool) -> Self {
        Reorder {
            preserve_order,
            next: 0,
            held: BTreeMap::new(),
        }
    }

    /// Finished jobs held behind an earlier one.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Takes job `seq`'s results; returns what may leave now, in order. Sequence numbers start
    /// at 0 and each is given once.
    pub fn finish(&mut self, seq: u64, results: Vec<T>) -> Vec<T> {
        if !self.preserve_order {
            return results;
        }
        if seq == self.next && self.held.is_empty() {
            // The common case in order: nothing to hold, no map traffic.
            self.next += 1;
            return results;
        }
        self.held.insert(seq, results);
        let mut ready = Vec::new();
        while let Some(results) = self.held.remove(&self.next) {
            ready.extend(results);
            self.next += 1;
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_results_leave_in_input_order() {
        let mut r = Reorder::new(true);
        assert!(r.finish(1, vec!["b"]).is_empty(), "1 waits for 0");
        assert!(r.finish(2, vec!["c1", "c2"]).is_empty());
        assert_eq!(r.held(), 2);
        assert_eq!(r.finish(0, vec!["a"]), vec!["a", "b", "c1", "c2"]);
        assert_eq!(r.held(), 0);
        assert_eq!(r.finish(3, vec!["d"]), vec!["d"]);
    }

    #[test]
    fn without_preserve_order_results_leave_at_once() {
        let mut r = Reorder::new(false);
        assert_eq!(r.finish(5, vec![5]), vec![5]);
        assert_eq!(r.finish(0, vec![0]), vec![0]);
        assert_eq!(r.held(), 0);
    }
}
