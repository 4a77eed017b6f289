//! [`LambdaError`]: what goes wrong in the Lambda layer outside one message's invocation (client
//! construction, the control-plane listings the designer uses). Its `Display` never contains a
//! secret.

use crate::runtime::{ErrorType, Failure};

/// Errors of the Lambda layer. Variants carry the node id where there is one and whether a
/// retry can help.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LambdaError {
    /// The connection settings cannot be used (bad endpoint URL, half a key pair, …).
    #[error("{}invalid connection setting at {pointer}: {message}", node_prefix(.node))]
    Config {
        /// The node, when the settings belong to one.
        node: Option<String>,
        /// JSON pointer of the setting inside the node's `config`.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// No region is configured and the environment gives none.
    #[error(
        "{}no AWS region: set connection.region, or AWS_REGION / a profile region in the \
         environment",
        node_prefix(.node)
    )]
    MissingRegion {
        /// The node, when there is one.
        node: Option<String>,
    },
    /// The endpoint could not be reached, timed out, or refused the credentials.
    #[error("{}cannot use the Lambda endpoint ({code}): {message}", node_prefix(.node))]
    Connection {
        /// The node, when there is one.
        node: Option<String>,
        /// A short code (`ConnectionFailed`, `Timeout`, `UnrecognizedClientException`, …).
        code: String,
        /// What happened.
        message: String,
        /// Whether trying again can help.
        retryable: bool,
    },
    /// Lambda answered with an error.
    #[error("{}{operation} failed with {code} (HTTP {status}): {message}",
        node_prefix(.node), status = .status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()))]
    Service {
        /// The node, when there is one.
        node: Option<String>,
        /// The API operation (`ListFunctions`, …).
        operation: &'static str,
        /// HTTP status, when a response arrived.
        status: Option<u16>,
        /// The error code (`ResourceNotFoundException`, …).
        code: String,
        /// Lambda's message.
        message: String,
        /// Whether trying again can help.
        retryable: bool,
    },
}

fn node_prefix(node: &Option<String>) -> String {
    node.as_deref()
        .map(|n| format!("node {n}: "))
        .unwrap_or_default()
}

impl LambdaError {
    /// The node this error is about, if any.
    pub fn node(&self) -> Option<&str> {
        match self {
            LambdaError::Config { node, .. }
            | LambdaError::MissingRegion { node }
            | LambdaError::Connection { node, .. }
            | LambdaError::Service { node, .. } => node.as_deref(),
        }
    }

    /// Whether trying again can help.
    pub fn retryable(&self) -> bool {
        match self {
            LambdaError::Config { .. } | LambdaError::MissingRegion { .. } => false,
            LambdaError::Connection { retryable, .. } | LambdaError::Service { retryable, .. } => {
                *retryable
            }
        }
    }

    /// A short machine-readable code.
    pub fn code(&self) -> &str {
        match self {
            LambdaError::Config { .. } => "InvalidConnectionConfig",
            LambdaError::MissingRegion { .. } => "MissingRegion",
            LambdaError::Connection { code, .. } | LambdaError::Service { code, .. } => code,
        }
    }

    /// Sets the node id.
    pub fn for_node(mut self, id: &str) -> Self {
        match &mut self {
            LambdaError::Config { node, .. }
            | LambdaError::MissingRegion { node }
            | LambdaError::Connection { node, .. }
            | LambdaError::Service { node, .. } => *node = Some(id.to_owned()),
        }
        self
    }

    /// The failure each message gets when the client cannot be built: a `connection` error.
    pub fn to_failure(&self) -> Failure {
        let error_type = match self {
            LambdaError::Service { .. } => ErrorType::RequestProcessing,
            _ => ErrorType::Connection,
        };
        let message = match self {
            LambdaError::Config {
                pointer, message, ..
            } => {
                format!("invalid connection setting at {pointer}: {message}")
            }
            LambdaError::MissingRegion { .. } => "no AWS region: set connection.region, or \
                 AWS_REGION / a profile region in the environment"
                .to_owned(),
            LambdaError::Connection { message, .. } | LambdaError::Service { message, .. } => {
                message.clone()
            }
        };
        Failure::new(error_type, self.code(), message).retryable(self.retryable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_node_and_code() {
        let e = LambdaError::MissingRegion { node: None }.for_node("lambda1");
        assert!(
            e.to_string().starts_with("node lambda1: no AWS region"),
            "{e}"
        );
        let e = LambdaError::Service {
            node: None,
            operation: "ListFunctions",
            status: Some(403),
            code: "AccessDeniedException".into(),
            message: "not allowed".into(),
            retryable: false,
        };
        assert_eq!(
            e.to_string(),
            "ListFunctions failed with AccessDeniedException (HTTP 403): not allowed"
        );
        let f = LambdaError::MissingRegion { node: None }.to_failure();
        assert_eq!(
            (f.error_type, f.code.as_str()),
            (ErrorType::Connection, "MissingRegion")
        );
        assert!(!f.retryable);
    }
}
