//! Port names and a node's output side: fan-out of each message to every connected input.

use std::collections::HashMap;

use tokio::sync::mpsc;

use crate::message::Message;

/// The input port every consuming component has (Fiorano's IN_PORT).
pub const IN: &str = "in";
/// The regular output (Fiorano's OUT_PORT).
pub const OUT: &str = "out";
/// The error output (Fiorano's ON_EXCEPTION).
pub const ERROR: &str = "error";

/// The downstream inputs connected to each output port of one node. An output may feed several
/// inputs (each gets a copy); an unconnected output discards what is sent to it.
#[derive(Debug, Default, Clone)]
pub struct Outputs {
    ports: HashMap<String, Vec<mpsc::Sender<Message>>>,
}

/// A downstream input is gone (its node's task ended without draining).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a downstream input of port {port} is closed")]
pub struct Closed {
    /// The port whose downstream is gone.
    pub port: &'static str,
}

impl Outputs {
    /// Connects `port` to a downstream input.
    pub fn connect(&mut self, port: &str, to: mpsc::Sender<Message>) {
        self.ports.entry(port.to_owned()).or_default().push(to);
    }

    /// Whether anything is connected to `port`.
    pub fn is_connected(&self, port: &str) -> bool {
        self.ports.get(port).is_some_and(|v| !v.is_empty())
    }

    /// Sends `message` to every input connected to `port`, waiting while a downstream queue is
    /// full (back-pressure). The last receiver gets the original, the others a copy (bodies are
    /// reference-counted, so a copy does not copy the payload).
    pub async fn send(&self, port: &str, message: Message) -> Result<(), Closed> {
        let Some(targets) = self.ports.get(port) else {
            return Ok(());
        };
        let port_name: &'static str = if port == ERROR { ERROR } else { OUT };
        if let Some((last, rest)) = targets.split_last() {
            for target in rest {
                target
                    .send(message.clone())
                    .await
                    .map_err(|_| Closed { port: port_name })?;
            }
            last.send(message)
                .await
                .map_err(|_| Closed { port: port_name })?;
        }
        Ok(())
    }
}
