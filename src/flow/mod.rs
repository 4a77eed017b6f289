//! Flows: the file model, its validation, and loading flow files from disk.

pub mod model;
pub mod store;
pub mod validate;

pub use model::{Edge, Endpoint, Flow, Node, Position};
pub use validate::{Diagnostic, FlowError, parse_flow, validate_value};

/// Reads and validates a flow file.
pub fn load(path: &std::path::Path) -> Result<Flow, FlowError> {
    let text = std::fs::read_to_string(path).map_err(|source| FlowError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_flow(&text).map_err(FlowError::Invalid)
}
