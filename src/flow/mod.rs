//! Flows: the file model, the registry of component types, validation, and compiling a flow into
//! the runtime's [`Plan`](crate::runtime::Plan).

pub mod model;
pub mod plan;
pub mod registry;
pub mod store;
pub mod validate;

pub use model::{Edge, Endpoint, Flow, Node, Position};
pub use registry::{Compiled, Registry};
pub use validate::{Diagnostic, FlowError};
