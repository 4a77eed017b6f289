//! The engine: component contract, ports, registry, scheduler, error handling, the invocation
//! driver of request/response components and the single-component harness.

pub mod component;
pub mod driver;
pub mod error;
pub mod handling;
pub mod harness;
pub mod port;
pub mod registry;
pub mod scheduler;
pub mod status;
pub mod transport;

pub use component::{
    BuildFn, Component, ComponentSpec, Control, Emitter, FailureOutcome, NodeConfig, NodeContext,
    NodeExit, NodeInfo, RunMode, SendRequest,
};
pub use error::{ErrorType, Failure, RuntimeError};
pub use handling::{Condition, ErrorActions, ErrorHandling, FinalFailure, Retry, with_retries};
pub use harness::Harness;
pub use scheduler::{
    FlowHandle, FlowStatus, NodeEnd, NodeEndKind, RunOptions, RunReport, start, start_with_registry,
};
pub use status::{FlowEvent, FlowState, NodeState, NodeStatus};
