//! What can go wrong on a JetStream edge, and whether trying again can help.

/// A failure of the JetStream transport. Each variant names the edge (or bucket) and says
/// whether a retry can help.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The NATS server cannot be reached (or the connection was lost).
    #[error("NATS server {url}: cannot connect: {reason}")]
    Connect {
        /// The server URL (never carries credentials: they are stripped before).
        url: String,
        /// What the client said.
        reason: String,
    },
    /// A stream, consumer or bucket could not be created or opened.
    #[error("JetStream {what}: {reason}")]
    Provision {
        /// The stream, consumer or bucket.
        what: String,
        /// What the server said.
        reason: String,
    },
    /// A publish was not acknowledged by the stream (a full stream pushes back this way).
    #[error("edge {edge}: publish not acknowledged: {reason}")]
    Publish {
        /// Edge id.
        edge: String,
        /// What the server said.
        reason: String,
        /// Whether publishing again can succeed (a full stream, a lost connection).
        retryable: bool,
    },
    /// A message on the edge is not a lambdaflow message (poison).
    #[error("edge {edge}: not a lambdaflow message: {reason}")]
    Decode {
        /// Edge id.
        edge: String,
        /// Why it could not be decoded.
        reason: String,
    },
    /// An acknowledgement did not reach the server.
    #[error("edge {edge}: acknowledgement failed: {reason}")]
    Ack {
        /// Edge id.
        edge: String,
        /// What the client said.
        reason: String,
    },
    /// A key-value operation failed.
    #[error("JetStream bucket {bucket}: {reason}")]
    KeyValue {
        /// Bucket name.
        bucket: String,
        /// What the server said.
        reason: String,
    },
}

impl TransportError {
    /// Whether trying the same operation again can help.
    pub fn is_retryable(&self) -> bool {
        match self {
            TransportError::Connect { .. } | TransportError::Ack { .. } => true,
            TransportError::Publish { retryable, .. } => *retryable,
            TransportError::KeyValue { .. } => true,
            TransportError::Provision { .. } | TransportError::Decode { .. } => false,
        }
    }
}
