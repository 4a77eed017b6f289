//! The engine: the component contract (typed types behind erased ones), ids, plans, ports, the
//! scheduler, error handling, the invocation driver of request/response components, the
//! single-component harness and the transports. It knows nothing of flow files or of the
//! components this binary ships.

pub mod component;
pub mod component_type;
pub mod driver;
pub mod error;
pub mod handling;
pub mod harness;
pub mod id;
pub mod plan;
pub mod port;
pub mod scheduler;
pub mod status;
pub mod transport;

pub use component::{
    Component, Control, Emitter, FailureOutcome, NodeContext, NodeExit, NodeInfo, RunMode,
    SendRequest,
};
pub use component_type::{
    ActionError, ActionSpec, Capabilities, ComponentType, Descriptor, ErasedType, TypedConfig,
};
pub use error::{ErrorType, Failure, RuntimeError};
pub use handling::{Condition, ErrorActions, ErrorHandling, FinalFailure, Retry, with_retries};
pub use harness::Harness;
pub use id::{EdgeId, FlowId, NodeId};
pub use plan::{Plan, PlannedEdge, PlannedNode};
pub use scheduler::{
    FlowHandle, FlowStatus, NodeEnd, NodeEndKind, RunOptions, RunReport, start, start_bound,
};
pub use status::{FlowEvent, FlowState, NodeState, NodeStatus};
