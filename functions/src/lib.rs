//! Demo AWS Lambda functions for lambdaflow.
//!
//! Each function lives in a module of its own holding its handler logic and unit tests; the
//! binaries under `src/bin/` only hand that handler to [`lambda_runtime::run`], so that
//! `cargo lambda watch` serves every function under its binary's name (`hello`, `echo`,
//! `uppercase`, `fail`, `slow`).
//!
//! Handlers take and return [`serde_json::Value`] and report *handled* function errors as a
//! [`Diagnostic`] with a stable `errorType`, which is what a caller sees in the error body.

use lambda_runtime::Diagnostic;

pub mod echo;
pub mod fail;
pub mod hello;
pub mod slow;
pub mod uppercase;

/// A handled function error with the given `errorType` and `errorMessage`.
pub fn function_error(error_type: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        error_type: error_type.to_owned(),
        error_message: message.into(),
    }
}
