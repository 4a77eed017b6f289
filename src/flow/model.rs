//! The flow file (design §3): nodes with their configs and positions, and edges between ports.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A flow: a graph of component nodes wired output port → input port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Flow {
    /// `^[a-z0-9][a-z0-9_-]{0,63}$`, equal to the file's stem in a flow store.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// What the flow is for.
    #[serde(default)]
    pub description: String,
    /// The component instances.
    #[serde(default)]
    pub nodes: Vec<Node>,
    /// The routes between their ports.
    #[serde(default)]
    pub edges: Vec<Edge>,
}

/// One component instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Node {
    /// Unique within the flow.
    pub id: String,
    /// Component type (`feeder`, `display`, `lambda`).
    #[serde(rename = "type")]
    pub component_type: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Where the designer draws it.
    #[serde(default)]
    pub position: Position,
    /// The property sheet's values, valid against the component's schema.
    #[serde(default = "empty_object")]
    pub config: Value,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

/// A position on the designer's canvas.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Horizontal.
    pub x: f64,
    /// Vertical.
    pub y: f64,
}

/// A route from an output port to an input port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Unique within the flow.
    pub id: String,
    /// The output port it leaves.
    pub from: Endpoint,
    /// The input port it enters.
    pub to: Endpoint,
    /// How messages travel along it: in process (default) or through NATS JetStream.
    #[serde(default, skip_serializing_if = "Transport::is_local")]
    pub transport: Transport,
    /// JetStream edges only: the message property whose value picks the partition, so messages
    /// with the same value keep their order across workers.
    #[serde(
        default,
        rename = "partitionKey",
        skip_serializing_if = "Option::is_none"
    )]
    pub partition_key: Option<String>,
}

/// An edge's transport (`"transport"` in the flow file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// An in-process bounded queue.
    #[default]
    Local,
    /// A JetStream subject with a durable consumer shared by every worker of the flow.
    Jetstream,
}

impl Transport {
    /// Whether this is the in-process default.
    pub fn is_local(&self) -> bool {
        *self == Transport::Local
    }
}

/// One end of an edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Node id.
    pub node: String,
    /// Port name.
    pub port: String,
}

impl Flow {
    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The flow as written to disk: pretty-printed, fields in the order of design §3, keys of
    /// every config object sorted, ending in a newline, so diffs stay small.
    pub fn to_pretty_json(&self) -> String {
        let mut flow = self.clone();
        for node in &mut flow.nodes {
            sort_keys(&mut node.config);
        }
        let mut text = serde_json::to_string_pretty(&flow).expect("a flow always serialises");
        text.push('\n');
        text
    }
}

/// Sorts the keys of every object, recursively (stable output whatever the map type).
pub fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, mut v) in entries {
                sort_keys(&mut v);
                map.insert(k, v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}
