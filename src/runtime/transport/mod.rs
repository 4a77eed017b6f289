//! Edge transports: how a message travels from an output port to an input port.
//!
//! An edge is `local` (an in-process bounded channel, the embedded default that needs no broker)
//! or `jetstream` (a NATS JetStream subject consumed through a durable pull consumer shared by
//! every process running the flow; see [`jetstream`] and design §10).

pub mod jetstream;

/// Which transport an edge uses (`"transport"` in the flow file).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EdgeTransport {
    /// An in-process bounded channel.
    #[default]
    Local,
    /// A JetStream subject, optionally partitioned by a message property.
    JetStream {
        /// The message property whose value picks the partition (per-key order).
        partition_key: Option<String>,
    },
}
