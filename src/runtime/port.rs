//! Port names and a node's output side: fan-out of each message to every connected input.
//!
//! A node's output ports are resolved to indices when the flow starts ([`Outputs::port`]); a
//! send tries each downstream queue without waiting first, and only a full queue makes it wait.

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::message::Message;

/// The input port every consuming component has (Fiorano's IN_PORT).
pub const IN: &str = "in";
/// The regular output (Fiorano's OUT_PORT).
pub const OUT: &str = "out";
/// The error output (Fiorano's ON_EXCEPTION).
pub const ERROR: &str = "error";

/// An output port of one node, resolved once (see [`Outputs::port`]). A port nothing is
/// connected to resolves to [`PortId::UNCONNECTED`], and sends to it are discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortId {
    index: Option<u16>,
    name: &'static str,
}

impl PortId {
    /// A port nothing is connected to (its regular-output name is used in errors).
    pub const UNCONNECTED: PortId = PortId {
        index: None,
        name: OUT,
    };

    /// The port's name as errors report it: `error` or `out`.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// The downstream inputs connected to each output port of one node. An output may feed several
/// inputs (each gets a copy); an unconnected output discards what is sent to it.
#[derive(Debug, Default, Clone)]
pub struct Outputs {
    // A node has one to three output ports: a short list beats hashing the name.
    ports: Vec<(Box<str>, Vec<mpsc::Sender<Message>>)>,
}

/// A downstream input is gone (its node's task ended without draining).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a downstream input of port {port} is closed")]
pub struct Closed {
    /// The port whose downstream is gone.
    pub port: &'static str,
}

/// What a send that did not wait left to do.
pub(crate) enum TrySend {
    /// Every downstream input took the message (or none is connected).
    Done,
    /// A downstream input is full: wait on it with [`Outputs::finish`].
    Full(Pending),
}

/// A send that must wait: the message still owed to the input at `target` and to every input
/// after it.
pub(crate) struct Pending {
    port: PortId,
    target: usize,
    message: Message,
}

impl Outputs {
    /// Connects `port` to a downstream input.
    pub fn connect(&mut self, port: &str, to: mpsc::Sender<Message>) {
        match self.ports.iter_mut().find(|(name, _)| &**name == port) {
            Some((_, targets)) => targets.push(to),
            None => self.ports.push((port.into(), vec![to])),
        }
    }

    /// Whether anything is connected to `port`.
    pub fn is_connected(&self, port: &str) -> bool {
        self.port(port).index.is_some()
    }

    /// Resolves a port name once, for `Outputs::try_send`.
    pub fn port(&self, port: &str) -> PortId {
        let name = if port == ERROR { ERROR } else { OUT };
        let index = self
            .ports
            .iter()
            .position(|(n, targets)| &**n == port && !targets.is_empty())
            .map(|i| i as u16);
        PortId { index, name }
    }

    fn targets(&self, port: PortId) -> &[mpsc::Sender<Message>] {
        match port.index {
            Some(i) => &self.ports[usize::from(i)].1,
            None => &[],
        }
    }

    /// Hands `message` to every input connected to `port` that has room now; stops at the first
    /// full one. The last receiver gets the original, the others a copy (a copy shares the
    /// body, content type and properties).
    pub(crate) fn try_send(&self, port: PortId, message: Message) -> Result<TrySend, Closed> {
        self.try_send_from(port, 0, message)
    }

    fn try_send_from(
        &self,
        port: PortId,
        first: usize,
        message: Message,
    ) -> Result<TrySend, Closed> {
        let targets = self.targets(port);
        let closed = Closed { port: port.name };
        let Some(last) = targets.len().checked_sub(1) else {
            return Ok(TrySend::Done);
        };
        for (i, target) in targets.iter().enumerate().skip(first) {
            if i == last {
                return match target.try_send(message) {
                    Ok(()) => Ok(TrySend::Done),
                    Err(TrySendError::Full(message)) => Ok(TrySend::Full(Pending {
                        port,
                        target: i,
                        message,
                    })),
                    Err(TrySendError::Closed(_)) => Err(closed),
                };
            }
            match target.try_send(message.clone()) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    return Ok(TrySend::Full(Pending {
                        port,
                        target: i,
                        message,
                    }));
                }
                Err(TrySendError::Closed(_)) => return Err(closed),
            }
        }
        Ok(TrySend::Done)
    }

    /// Finishes a send that found a full input: waits for room there (back-pressure), then
    /// hands the message to the inputs after it.
    pub(crate) async fn finish(&self, mut pending: Pending) -> Result<(), Closed> {
        loop {
            let targets = self.targets(pending.port);
            let closed = Closed {
                port: pending.port.name,
            };
            let is_last = pending.target + 1 == targets.len();
            let target = &targets[pending.target];
            if is_last {
                return target.send(pending.message).await.map_err(|_| closed);
            }
            target
                .send(pending.message.clone())
                .await
                .map_err(|_| closed)?;
            match self.try_send_from(pending.port, pending.target + 1, pending.message)? {
                TrySend::Done => return Ok(()),
                TrySend::Full(next) => pending = next,
            }
        }
    }

    /// Sends `message` to every input connected to `port`, waiting while a downstream queue is
    /// full (back-pressure).
    pub async fn send(&self, port: &str, message: Message) -> Result<(), Closed> {
        match self.try_send(self.port(port), message)? {
            TrySend::Done => Ok(()),
            TrySend::Full(pending) => self.finish(pending).await,
        }
    }
}
