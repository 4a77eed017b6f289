//! The runtime layer's error enum and the failures a component reports for one message.
//!
//! A [`Failure`] is what went wrong with one message (typed as Fiorano's four error types, with a
//! code, a retry hint and the context that goes into the error record). [`RuntimeError`] is what
//! goes wrong with a node or a flow as a whole. Both carry the node id where there is one.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::id::{EdgeId, FlowId, NodeId};

/// Fiorano's error types (design §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorType {
    /// The message cannot become a request: bad JSON, too large, rejected as invalid content.
    InvalidRequest,
    /// The call failed: function error, unknown function, throttling, service errors.
    RequestProcessing,
    /// The response cannot become a message: undecodable in the configured charset.
    ResponseGeneration,
    /// Endpoint unreachable, timeouts, credentials.
    Connection,
}

impl ErrorType {
    /// Every error type, in the order property sheets list them.
    pub const ALL: [ErrorType; 4] = [
        ErrorType::InvalidRequest,
        ErrorType::RequestProcessing,
        ErrorType::ResponseGeneration,
        ErrorType::Connection,
    ];

    /// The name used in JSON (`invalidRequest`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "invalidRequest",
            ErrorType::RequestProcessing => "requestProcessing",
            ErrorType::ResponseGeneration => "responseGeneration",
            ErrorType::Connection => "connection",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong with one message.
///
/// Components build failures; the error-handling framework decides from the node's policy
/// whether to retry, log, route to the error port or stop the node. The messages in a failure
/// must never contain secrets: they are logged and written into error records.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Fiorano's error type.
    pub error_type: ErrorType,
    /// A short machine-readable code (`Unhandled`, `TooManyRequestsException`, `InvalidJson`…).
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
    /// What qualifies the code, when the service says (a throttle's `Reason`, e.g.
    /// `ReservedFunctionConcurrentInvocationLimitExceeded`); `error.detail` in records.
    pub detail: Option<String>,
    /// Whether trying the same request again can help.
    pub retryable: bool,
    /// The service refused for load (HTTP 429, a throttling code): an adaptive concurrency
    /// limit backs off.
    pub throttled: bool,
    /// A delay the server asked for before the next attempt (`Retry-After`); it wins over the
    /// configured interval.
    pub retry_after: Option<Duration>,
    /// `requestContext` fields of the error record (merged with the framework's own).
    pub request_context: Map<String, Value>,
    /// `responseContext` of the error record.
    pub response_context: Option<Value>,
    /// `requestPayload` of the error record (defaults to the input body).
    pub request_payload: Option<Value>,
    /// `responsePayload` of the error record.
    pub response_payload: Option<Value>,
}

impl Failure {
    /// A failure of the given type with a code and a message; not retryable.
    pub fn new(error_type: ErrorType, code: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            error_type,
            code: code.into(),
            message: message.into(),
            detail: None,
            retryable: false,
            throttled: false,
            retry_after: None,
            request_context: Map::new(),
            response_context: None,
            request_payload: None,
            response_payload: None,
        }
    }

    /// Marks the failure as one a retry can help with.
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Marks the failure as the service refusing for load (see [`Failure::throttled`]).
    pub fn throttled(mut self, throttled: bool) -> Self {
        self.throttled = throttled;
        self
    }

    /// Sets what qualifies the code (`error.detail`).
    pub fn with_detail(mut self, detail: Option<String>) -> Self {
        self.detail = detail;
        self
    }

    /// Sets the server's requested delay before a retry.
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    /// Adds one `requestContext` field.
    pub fn with_request_context(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.request_context.insert(key.to_owned(), value.into());
        self
    }

    /// Sets the `responseContext`.
    pub fn with_response_context(mut self, ctx: Value) -> Self {
        self.response_context = Some(ctx);
        self
    }

    /// Sets the `requestPayload`.
    pub fn with_request_payload(mut self, payload: Value) -> Self {
        self.request_payload = Some(payload);
        self
    }

    /// Sets the `responsePayload`.
    pub fn with_response_payload(mut self, payload: Value) -> Self {
        self.response_payload = Some(payload);
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} error {}: {}",
            self.error_type, self.code, self.message
        )
    }
}

impl std::error::Error for Failure {}

/// Errors of the runtime layer: building, starting, driving and stopping nodes and flows.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A node's configuration cannot be used.
    #[error("node {node}: invalid configuration at {pointer}: {message}")]
    Config {
        /// The node id.
        node: NodeId,
        /// JSON pointer into the node's `config`.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The flow has no node with that id.
    #[error("flow {flow} has no node {node}")]
    UnknownNode {
        /// The flow id.
        flow: FlowId,
        /// The node id asked for.
        node: NodeId,
    },
    /// The node does not accept that runtime command (e.g. `send` to a Display).
    #[error("node {node} ({component}) does not support {operation}")]
    Unsupported {
        /// The node id.
        node: NodeId,
        /// Its component type.
        component: String,
        /// What was asked.
        operation: &'static str,
    },
    /// The node is not running, so it cannot take the command.
    #[error("node {node} is not running")]
    NotRunning {
        /// The node id.
        node: NodeId,
    },
    /// A request to a node was malformed.
    #[error("node {node}: {message}")]
    BadRequest {
        /// The node id.
        node: NodeId,
        /// What is wrong.
        message: String,
    },
    /// A node failed as a whole (not one message): it stops; `retryable` says whether starting
    /// the flow again can help.
    #[error("node {node} failed: {message}")]
    NodeFailed {
        /// The node id.
        node: NodeId,
        /// What happened.
        message: String,
        /// Whether a restart can help.
        retryable: bool,
    },
    /// The flow has a JetStream edge and no NATS server was given.
    #[error(
        "edge {edge} uses the JetStream transport: run the flow with --nats URL (or set NATS_URL), \
         or set the edge's transport to local"
    )]
    NeedsBroker {
        /// The edge id.
        edge: EdgeId,
    },
}

impl RuntimeError {
    /// The node this error is about, if any.
    pub fn node(&self) -> Option<&str> {
        match self {
            RuntimeError::Config { node, .. }
            | RuntimeError::UnknownNode { node, .. }
            | RuntimeError::Unsupported { node, .. }
            | RuntimeError::NotRunning { node }
            | RuntimeError::BadRequest { node, .. }
            | RuntimeError::NodeFailed { node, .. } => Some(node),
            RuntimeError::NeedsBroker { edge } => Some(edge),
        }
    }

    /// Whether trying again (later, or after a restart) can help.
    pub fn retryable(&self) -> bool {
        match self {
            RuntimeError::NodeFailed { retryable, .. } => *retryable,
            RuntimeError::NotRunning { .. } => true,
            _ => false,
        }
    }
}
