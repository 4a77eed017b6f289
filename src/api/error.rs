//! [`ApiError`]: every failure of the HTTP API, rendered as
//! `{"error": "...", "details": [{"node", "pointer", "message"}]}` with its status code.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use super::secrets::SecretsError;
use crate::flow::Diagnostic;
use crate::flow::store::StoreError;
use crate::runtime::RuntimeError;

/// An error answered by the API. Messages never contain secret values.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request: bad JSON, bad id, bad field (400).
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// Where.
        details: Vec<Diagnostic>,
    },
    /// Missing or wrong bearer token (401).
    #[error("missing or wrong bearer token")]
    Unauthorized,
    /// A cross-origin or foreign-host request (403).
    #[error("{0}")]
    Forbidden(String),
    /// Unknown flow, node, component or route (404).
    #[error("{0}")]
    NotFound(String),
    /// The method is not allowed on this route (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Stale `rev` in the body, or the state does not allow the request (409).
    #[error("{0}")]
    Conflict(String),
    /// Stale `If-Match` (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// Body over the limit (413).
    #[error("request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// Validation failed (422).
    #[error("{message}")]
    Invalid {
        /// Summary.
        message: String,
        /// Every problem, with node id and pointer.
        details: Vec<Diagnostic>,
    },
    /// An upstream service (AWS) failed (502).
    #[error("{0}")]
    Upstream(String),
    /// Something broke on our side (500).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 with no details.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// A 400 naming the offending field of the request body.
    pub fn bad_field(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::BadRequest {
            details: vec![Diagnostic::new(None, pointer, message.clone())],
            message,
        }
    }

    /// A 422 naming one field: the request has the documented shape but breaks a rule the
    /// OpenAPI document cannot state (fields that go together, content that must decode).
    pub fn unprocessable(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Invalid {
            details: vec![Diagnostic::new(None, pointer, message.clone())],
            message,
        }
    }

    /// A 422 for a flow or config that failed validation.
    pub fn invalid(details: Vec<Diagnostic>) -> Self {
        let message = match details.len() {
            1 => format!("flow is invalid: {}", details[0]),
            n => format!("flow is invalid ({n} problems)"),
        };
        ApiError::Invalid { message, details }
    }

    fn details(&self) -> &[Diagnostic] {
        match self {
            ApiError::BadRequest { details, .. } | ApiError::Invalid { details, .. } => details,
            _ => &[],
        }
    }
}

/// What a 500 answers; the details are in the server's log.
pub const INTERNAL: &str = "the server could not complete the request; its log has the details";

#[derive(Serialize)]
struct Body<'a> {
    error: String,
    details: &'a [Diagnostic],
}

/// The JSON error body for a message with no details.
pub fn error_body(message: &str) -> String {
    serde_json::to_string(&Body {
        error: message.to_owned(),
        details: &[],
    })
    .expect("error bodies serialise")
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // A 500's message may name files (absolute paths) or other internals: it goes to the
        // log, and the answer says only that something failed on the server.
        let error = match self {
            ApiError::Internal(message) => {
                tracing::error!("Request failed: {message}");
                INTERNAL.to_owned()
            }
            other => other.to_string(),
        };
        let body = serde_json::to_string(&Body {
            error,
            details: self.details(),
        })
        .expect("error bodies serialise");
        let mut res = HttpResponse::build(self.status_code());
        res.content_type("application/json");
        if matches!(self, ApiError::Unauthorized) {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        res.body(body)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidId(_) => ApiError::bad_field("", e.to_string()),
            StoreError::NotFound(_) => ApiError::NotFound(e.to_string()),
            StoreError::Conflict { .. } => ApiError::Conflict(e.to_string()),
            StoreError::PreconditionFailed { .. } => ApiError::PreconditionFailed(e.to_string()),
            StoreError::Io { .. } => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<SecretsError> for ApiError {
    fn from(e: SecretsError) -> Self {
        match e {
            SecretsError::Store(e) => e.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> Self {
        match &e {
            // The node id comes from the request's path: not echoed.
            RuntimeError::UnknownNode { flow, .. } => {
                ApiError::NotFound(format!("flow \"{flow}\" has no such node"))
            }
            RuntimeError::NotRunning { .. } => ApiError::Conflict(e.to_string()),
            RuntimeError::Unsupported { .. } | RuntimeError::BadRequest { .. } => {
                ApiError::BadRequest {
                    message: e.to_string(),
                    details: vec![Diagnostic::new(e.node(), "", e.to_string())],
                }
            }
            RuntimeError::Config { .. } => {
                ApiError::invalid(vec![Diagnostic::from_runtime(&e, "/config")])
            }
            RuntimeError::NodeFailed { .. } => ApiError::Internal(e.to_string()),
            // The server runs flows in process unless started with --nats.
            RuntimeError::NeedsBroker { .. } => ApiError::Conflict(e.to_string()),
        }
    }
}

/// Runs blocking file work off the async workers.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    actix_web::web::block(f)
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
}
