//! Compiling a flow into a [`Plan`]: the graph checks, every node's config validated against its
//! schema and parsed into its component's typed config (the only place this happens), and every
//! edge resolved to node indices and a declared port.

use std::collections::HashMap;

use serde_json::Value;

use super::model::Flow;
use super::registry::Registry;
use super::validate::{Diagnostic, check_graph, node_config};
use crate::runtime::{FlowId, NodeId, Plan, PlannedEdge, PlannedNode};

impl Registry {
    /// Compiles a flow. Every problem is reported at once, each naming its node or edge and the
    /// JSON pointer of the offending value in the flow document.
    pub fn plan(&self, flow: &Flow) -> Result<Plan, Vec<Diagnostic>> {
        let mut diags = check_graph(flow, self);
        let mut nodes = Vec::with_capacity(flow.nodes.len());
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, node) in flow.nodes.iter().enumerate() {
            let Some(compiled) = self.get(&node.component_type) else {
                continue; // reported by the graph check
            };
            let id = NodeId::new(&node.id);
            match node_config(compiled, &id, &node.config, &format!("/nodes/{i}/config")) {
                Ok(config) => {
                    index.entry(node.id.as_str()).or_insert(nodes.len());
                    nodes.push(PlannedNode {
                        id,
                        component: compiled.component.clone(),
                        descriptor: compiled.descriptor,
                        config,
                    });
                }
                Err(d) => diags.extend(d),
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let mut edges = Vec::with_capacity(flow.edges.len());
        for edge in &flow.edges {
            // The graph check has made sure both ends and the port exist.
            let from = index[edge.from.node.as_str()];
            let to = index[edge.to.node.as_str()];
            let port = nodes[from]
                .descriptor
                .outputs
                .iter()
                .copied()
                .find(|p| *p == edge.from.port)
                .expect("the graph check found the port");
            edges.push(PlannedEdge {
                id: edge.id.as_str().into(),
                from,
                port,
                to,
            });
        }
        Ok(Plan {
            flow: FlowId::new(&flow.id),
            nodes,
            edges,
        })
    }

    /// A plan of one node of type `type_name` with this config, as node `node` of flow `flow`
    /// (the harness and the designer's Test run these). Diagnostics point under `/config`.
    pub fn plan_node(
        &self,
        flow: &str,
        type_name: &str,
        node: &str,
        config: &Value,
    ) -> Result<Plan, Vec<Diagnostic>> {
        let id = NodeId::new(node);
        let compiled = self.get(type_name).ok_or_else(|| {
            vec![Diagnostic::new(
                Some(id.as_str()),
                "/type",
                format!(
                    "unknown component type (known: {})",
                    self.type_names().join(", ")
                ),
            )]
        })?;
        let config = node_config(compiled, &id, config, "/config")?;
        Ok(Plan {
            flow: FlowId::new(flow),
            nodes: vec![PlannedNode {
                id,
                component: compiled.component.clone(),
                descriptor: compiled.descriptor,
                config,
            }],
            edges: Vec::new(),
        })
    }
}
