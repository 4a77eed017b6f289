//! A compiled flow: every node with its component type and typed config, every edge resolved to
//! node indices and a declared output port. Made once by the flow layer's `Registry::plan` (the
//! only place a config's JSON becomes typed), then started by the scheduler or the harness as
//! often as wanted.

use std::sync::Arc;

use super::component::Component;
use super::component_type::{Descriptor, ErasedType, TypedConfig};
use super::error::RuntimeError;
use super::id::{EdgeId, FlowId, NodeId};

/// One node of a plan.
#[derive(Clone)]
pub struct PlannedNode {
    /// Its id.
    pub id: NodeId,
    /// Its component type.
    pub component: Arc<dyn ErasedType>,
    /// The type's descriptor (ports, capabilities).
    pub descriptor: Descriptor,
    /// Its parsed, checked config.
    pub config: TypedConfig,
}

impl PlannedNode {
    /// Builds a fresh node to run.
    pub fn build(&self) -> Result<Box<dyn Component>, RuntimeError> {
        self.component.build(&self.id, &self.config)
    }

    /// The typed config, when it is a `C` (tests and tools that build a node themselves).
    pub fn config<C: 'static>(&self) -> Option<&C> {
        self.config.get()
    }
}

impl std::fmt::Debug for PlannedNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedNode")
            .field("id", &self.id)
            .field("type", &self.descriptor.type_name)
            .finish_non_exhaustive()
    }
}

/// One edge of a plan: from an output port of one node to the input of another.
#[derive(Debug, Clone)]
pub struct PlannedEdge {
    /// Its id.
    pub id: EdgeId,
    /// Index of the node it leaves, in [`Plan::nodes`].
    pub from: usize,
    /// The output port it leaves (one the node's type declares).
    pub port: &'static str,
    /// Index of the node it enters.
    pub to: usize,
}

/// A flow ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The flow's id.
    pub flow: FlowId,
    /// Its nodes, in the flow file's order.
    pub nodes: Vec<PlannedNode>,
    /// Its edges, in the flow file's order.
    pub edges: Vec<PlannedEdge>,
}

impl Plan {
    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&PlannedNode> {
        self.nodes.iter().find(|n| n.id == id)
    }
}
