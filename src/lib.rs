//! lambdaflow: a flow engine whose star component invokes AWS Lambda.
//!
//! Flows are graphs of components (Feeder, LambdaConnector, Display) wired output port → input
//! port, run in-process on tokio, designed in a browser designer served by the same binary, and
//! run headless from the command line. See `../shared/design.md` and the README.

#![deny(missing_docs)]

pub mod api;
pub mod components;
pub mod flow;
pub mod message;
pub mod runtime;
pub mod worker;

pub use message::Message;
