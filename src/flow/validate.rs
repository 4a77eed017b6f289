//! Flow validation (design §3), in order: JSON syntax, `flow.schema.json`, the graph, then each
//! node's `config` against its component's schema and config struct. Every [`Diagnostic`] names
//! the node or edge id and the JSON pointer of the offending value; a flow with any diagnostic
//! never starts.

use std::collections::{HashMap, HashSet};
use std::fmt;

use jsonschema::error::ValidationErrorKind;
use serde::Serialize;
use serde_json::Value;

use super::model::Flow;
use super::registry::{Compiled, Registry};
use crate::message::escape_pointer;
use crate::runtime::{NodeId, Plan, RuntimeError, TypedConfig};

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Diagnostic {
    /// The node or edge id the problem is in, when there is one.
    pub node: Option<String>,
    /// JSON pointer of the offending value in the flow document (`""` for the whole document).
    pub pointer: String,
    /// What is wrong, in words a user can act on. Never echoes a value (it could be a secret).
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic.
    pub fn new(node: Option<&str>, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            node: node.map(str::to_owned),
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    /// A diagnostic from a runtime error, with its pointer placed under `prefix`.
    pub fn from_runtime(e: &RuntimeError, prefix: &str) -> Self {
        let pointer = match e {
            RuntimeError::Config { pointer, .. } => format!("{prefix}{pointer}"),
            _ => prefix.to_owned(),
        };
        let message = match e {
            RuntimeError::Config { message, .. } => without_values(message),
            other => other.to_string(),
        };
        Diagnostic {
            node: e.node().map(str::to_owned),
            pointer,
            message,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(document)"
        } else {
            &self.pointer
        };
        match &self.node {
            Some(node) => write!(f, "{node}: {pointer}: {}", self.message),
            None => write!(f, "{pointer}: {}", self.message),
        }
    }
}

/// Errors of the flow layer.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The flow failed validation.
    #[error("flow is invalid: {}", summary(.0))]
    Invalid(Vec<Diagnostic>),
    /// The flow file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What happened.
        source: std::io::Error,
    },
}

fn summary(d: &[Diagnostic]) -> String {
    d.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl Registry {
    /// Parses and validates a flow file's text.
    pub fn parse_flow(&self, text: &str) -> Result<Flow, Vec<Diagnostic>> {
        self.validate_value(&json_document(text)?)
    }

    /// Parses a flow file's text and compiles it into a plan.
    pub fn parse_plan(&self, text: &str) -> Result<Plan, Vec<Diagnostic>> {
        self.plan_value(&json_document(text)?)
    }

    /// Compiles a flow document into a plan: the flow schema, then [`Registry::plan`] (which
    /// validates as it compiles, so nothing is checked twice).
    pub fn plan_value(&self, value: &Value) -> Result<Plan, Vec<Diagnostic>> {
        self.plan(&self.document(value)?)
    }

    /// Validates a flow document: the flow schema, then everything [`Registry::plan`] checks.
    pub fn validate_value(&self, value: &Value) -> Result<Flow, Vec<Diagnostic>> {
        let flow = self.document(value)?;
        self.plan(&flow)?;
        Ok(flow)
    }

    /// Reads and validates a flow file.
    pub fn load(&self, path: &std::path::Path) -> Result<Flow, FlowError> {
        self.parse_flow(&read(path)?).map_err(FlowError::Invalid)
    }

    /// Reads a flow file and compiles it into a plan.
    pub fn load_plan(&self, path: &std::path::Path) -> Result<Plan, FlowError> {
        self.parse_plan(&read(path)?).map_err(FlowError::Invalid)
    }

    /// A flow document checked against the flow schema, as the model.
    fn document(&self, value: &Value) -> Result<Flow, Vec<Diagnostic>> {
        let schema_errors: Vec<Diagnostic> = self
            .flow_validator()
            .iter_errors(value)
            .flat_map(|e| schema_diagnostics(&e, ""))
            .map(|mut d| {
                d.node = owner_of(value, &d.pointer);
                d
            })
            .collect();
        if !schema_errors.is_empty() {
            return Err(schema_errors);
        }
        serde_json::from_value(value.clone())
            .map_err(|e| vec![Diagnostic::new(None, "", without_values(&e.to_string()))])
    }
}

fn read(path: &std::path::Path) -> Result<String, FlowError> {
    std::fs::read_to_string(path).map_err(|source| FlowError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// A flow file's text as JSON; a syntax error names its line and column.
fn json_document(text: &str) -> Result<Value, Vec<Diagnostic>> {
    serde_json::from_str(text).map_err(|e| {
        vec![Diagnostic::new(
            None,
            "",
            format!(
                "invalid JSON at line {} column {}: {}",
                e.line(),
                e.column(),
                json_error_text(&e)
            ),
        )]
    })
}

/// A serde error message with every quoted value taken out: serde words its errors as
/// ``invalid type: string "<value>", expected u64`` or ``unknown field `<key>`, expected …``,
/// and the value could be a secret pasted into the wrong field. What stays is the rule
/// (`invalid type: expected u64`, `unknown field; expected one of …`); messages of other shapes
/// are kept as they are.
pub fn without_values(message: &str) -> String {
    // The value comes first and may itself contain the separator: split at the last one.
    let rule = |prefix: &str, sep: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.rfind(sep).map(|i| &rest[i + sep.len()..]))
    };
    for kind in ["invalid type", "invalid value", "invalid length"] {
        let prefix = if kind == "invalid length" {
            "invalid length ".to_owned()
        } else {
            format!("{kind}: ")
        };
        if let Some(expected) = rule(&prefix, ", expected ") {
            return format!("{kind}: expected {expected}");
        }
    }
    for kind in ["unknown field", "unknown variant"] {
        let prefix = format!("{kind} `");
        if let Some(expected) = rule(&prefix, "`, expected ") {
            return format!("{kind}; expected {expected}");
        }
        if message.starts_with(&prefix) {
            return format!("{kind}; there are none here");
        }
    }
    // The base64 decoder names the offending byte.
    if message.starts_with("body is not valid base64") {
        return "body is not valid base64".to_owned();
    }
    message.to_owned()
}

fn json_error_text(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; we print the position ourselves.
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The node or edge id owning a pointer like `/nodes/3/config/x` or `/edges/1/from`.
fn owner_of(doc: &Value, pointer: &str) -> Option<String> {
    let mut parts = pointer.split('/').skip(1);
    let list = parts.next()?;
    let index = parts.next()?;
    if list != "nodes" && list != "edges" {
        return None;
    }
    doc.pointer(&format!("/{list}/{index}/id"))?
        .as_str()
        .map(str::to_owned)
}

/// Validates one node's config against its component's schema, then parses it into the
/// component's `deny_unknown_fields` config struct and checks it: the one place a config's JSON
/// becomes typed. Diagnostics point under `prefix` (`/nodes/3/config`).
pub fn node_config(
    compiled: &Compiled,
    node: &NodeId,
    config: &Value,
    prefix: &str,
) -> Result<TypedConfig, Vec<Diagnostic>> {
    schema_check(compiled, node, config, prefix, |_| true)?;
    compiled
        .component
        .parse(node, config)
        .map_err(|e| vec![Diagnostic::from_runtime(&e, prefix)])
}

/// Validates a config against its component's schema, keeping only the diagnostics whose
/// pointer (relative to the config) `keep` accepts.
pub fn schema_check(
    compiled: &Compiled,
    node: &NodeId,
    config: &Value,
    prefix: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<(), Vec<Diagnostic>> {
    // A field declared only in a conditional branch (`if`/`then`/`else`) that fails there is
    // also reported by `unevaluatedProperties` as unknown; keep only the specific error.
    let mut tagged: Vec<(bool, Diagnostic)> = Vec::new();
    for e in compiled.validator.iter_errors(config) {
        let unevaluated = matches!(e.kind(), ValidationErrorKind::UnevaluatedProperties { .. });
        for mut d in schema_diagnostics(&e, "") {
            if !keep(&d.pointer) {
                continue;
            }
            d.pointer = format!("{prefix}{}", d.pointer);
            d.node = Some(node.to_string());
            tagged.push((unevaluated, d));
        }
    }
    let specific: Vec<String> = tagged
        .iter()
        .filter(|(unevaluated, _)| !unevaluated)
        .map(|(_, d)| d.pointer.clone())
        .collect();
    let diags: Vec<Diagnostic> = tagged
        .into_iter()
        .filter(|(unevaluated, d)| {
            !unevaluated
                || !specific
                    .iter()
                    .any(|p| p == &d.pointer || p.starts_with(&format!("{}/", d.pointer)))
        })
        .map(|(_, d)| d)
        .collect();
    if diags.is_empty() { Ok(()) } else { Err(diags) }
}

/// Turns one schema error into diagnostics whose pointer names the field itself (a missing
/// required field or an unknown field is named, not its parent object).
fn schema_diagnostics(e: &jsonschema::ValidationError<'_>, prefix: &str) -> Vec<Diagnostic> {
    let at = format!("{prefix}{}", e.instance_path().as_str());
    match e.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|name| {
                Diagnostic::new(
                    None,
                    format!("{at}/{}", escape_pointer(name)),
                    format!("unknown field \"{name}\""),
                )
            })
            .collect(),
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            vec![Diagnostic::new(
                None,
                format!("{at}/{}", escape_pointer(name)),
                format!("\"{name}\" is required"),
            )]
        }
        _ => {
            let field = at.rsplit('/').next().filter(|f| !f.is_empty());
            let text = e.masked().to_string();
            let message = match field {
                Some(f) if f.parse::<usize>().is_err() => format!("{f}: {text}"),
                _ => text,
            };
            vec![Diagnostic::new(None, at, message)]
        }
    }
}

/// Checks the graph: unique ids, known types, edges between existing ports, no duplicate
/// routes, no cycles.
pub(super) fn check_graph(flow: &Flow, registry: &Registry) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut types: HashMap<&str, Option<&Compiled>> = HashMap::new();
    for (i, node) in flow.nodes.iter().enumerate() {
        if types.contains_key(node.id.as_str()) {
            diags.push(Diagnostic::new(
                Some(&node.id),
                format!("/nodes/{i}/id"),
                format!("duplicate node id \"{}\"", node.id),
            ));
            continue;
        }
        let compiled = registry.get(&node.component_type);
        if compiled.is_none() {
            diags.push(Diagnostic::new(
                Some(&node.id),
                format!("/nodes/{i}/type"),
                format!(
                    "unknown component type (known: {})",
                    registry.type_names().join(", ")
                ),
            ));
        }
        types.insert(&node.id, compiled);
    }
    let mut edge_ids = HashSet::new();
    let mut routes = HashSet::new();
    let mut wired: Vec<usize> = Vec::new();
    for (i, edge) in flow.edges.iter().enumerate() {
        let id = Some(edge.id.as_str());
        if !edge_ids.insert(edge.id.as_str()) {
            diags.push(Diagnostic::new(
                id,
                format!("/edges/{i}/id"),
                format!("duplicate edge id \"{}\"", edge.id),
            ));
        }
        if edge.partition_key.is_some() && edge.transport.is_local() {
            diags.push(Diagnostic::new(
                id,
                format!("/edges/{i}/partitionKey"),
                "partitionKey applies to JetStream routes only (set \"transport\": \"jetstream\")",
            ));
        }
        let ends = [("from", &edge.from, true), ("to", &edge.to, false)];
        let mut ends_ok = true;
        for (side, end, is_source) in ends {
            let Some(compiled) = types.get(end.node.as_str()) else {
                diags.push(Diagnostic::new(
                    id,
                    format!("/edges/{i}/{side}/node"),
                    format!("the edge's {side} node is not a node of this flow"),
                ));
                ends_ok = false;
                continue;
            };
            let Some(compiled) = compiled else {
                ends_ok = false;
                continue; // unknown type: already reported on the node
            };
            let (inputs, outputs) = (compiled.descriptor.inputs, compiled.descriptor.outputs);
            let ok = if is_source {
                outputs.contains(&end.port.as_str())
            } else {
                inputs.contains(&end.port.as_str())
            };
            if ok {
                continue;
            }
            ends_ok = false;
            let message = if is_source && inputs.contains(&end.port.as_str()) {
                format!(
                    "port \"{}\" of node \"{}\" is an input; an edge starts at an output ({})",
                    end.port,
                    end.node,
                    list_or_none(outputs)
                )
            } else if !is_source && outputs.contains(&end.port.as_str()) {
                format!(
                    "port \"{}\" of node \"{}\" is an output; an edge ends at an input ({})",
                    end.port,
                    end.node,
                    list_or_none(inputs)
                )
            } else {
                format!(
                    "node \"{}\" ({}) has no such port (inputs: {}; outputs: {})",
                    end.node,
                    compiled.descriptor.type_name,
                    list_or_none(inputs),
                    list_or_none(outputs)
                )
            };
            diags.push(Diagnostic::new(
                id,
                format!("/edges/{i}/{side}/port"),
                message,
            ));
        }
        if ends_ok && !routes.insert((&edge.from, &edge.to)) {
            diags.push(Diagnostic::new(
                id,
                format!("/edges/{i}"),
                "the same route is already defined by another edge",
            ));
        }
        if ends_ok {
            wired.push(i);
        }
    }
    diags.extend(cycle_diagnostics(flow, &wired));
    diags
}

/// Refuses cycles: a message on a cycle would circulate for ever (and, with unbounded
/// Displays, grow memory without end). Each cycle found is reported once per edge on it: the
/// edge's id, its pointer, and the whole cycle as edge ids in order.
fn cycle_diagnostics(flow: &Flow, wired: &[usize]) -> Vec<Diagnostic> {
    // Outgoing edges (by index) per node, in document order.
    let mut out: HashMap<&str, Vec<usize>> = HashMap::new();
    for &i in wired {
        out.entry(flow.edges[i].from.node.as_str())
            .or_default()
            .push(i);
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark: HashMap<&str, Mark> = flow
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), Mark::New))
        .collect();
    let mut cycles: Vec<Vec<usize>> = Vec::new();
    for start in &flow.nodes {
        if mark.get(start.id.as_str()) != Some(&Mark::New) {
            continue;
        }
        // Depth-first, iteratively: the path's nodes, the edges taken between them, and the
        // next outgoing edge to try at each node.
        let mut nodes: Vec<&str> = vec![start.id.as_str()];
        let mut taken: Vec<usize> = Vec::new();
        let mut next: Vec<usize> = vec![0];
        mark.insert(start.id.as_str(), Mark::OnPath);
        while let Some(&node) = nodes.last() {
            let k = next.last_mut().expect("one cursor per node on the path");
            let edges = out.get(node).map(Vec::as_slice).unwrap_or_default();
            let Some(&e) = edges.get(*k) else {
                mark.insert(node, Mark::Done);
                nodes.pop();
                next.pop();
                taken.pop();
                continue;
            };
            *k += 1;
            let to = flow.edges[e].to.node.as_str();
            match mark.get(to).copied().unwrap_or(Mark::Done) {
                Mark::New => {
                    mark.insert(to, Mark::OnPath);
                    nodes.push(to);
                    taken.push(e);
                    next.push(0);
                }
                Mark::OnPath => {
                    let at = nodes.iter().position(|n| *n == to).expect("on the path");
                    let mut cycle = taken[at..].to_vec();
                    cycle.push(e);
                    cycles.push(cycle);
                }
                Mark::Done => {}
            }
        }
    }
    let mut diags = Vec::new();
    for cycle in cycles {
        let names: Vec<&str> = cycle.iter().map(|&i| flow.edges[i].id.as_str()).collect();
        let message = if cycle.len() == 1 {
            "this edge leads back into the node it leaves; cycles are not allowed (a message \
             would circulate for ever)"
                .to_owned()
        } else {
            format!(
                "edges {} form a cycle; cycles are not allowed (a message would circulate for \
                 ever)",
                names.join(" -> ")
            )
        };
        for &i in &cycle {
            diags.push(Diagnostic::new(
                Some(&flow.edges[i].id),
                format!("/edges/{i}"),
                message.clone(),
            ));
        }
    }
    diags
}

fn list_or_none(ports: &[&str]) -> String {
    if ports.is_empty() {
        "none".into()
    } else {
        ports.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        count: u64,
        mode: Mode,
        pair: (u8, u8),
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    enum Mode {
        Fast,
        Slow,
    }

    #[test]
    fn serde_messages_keep_the_rule_and_lose_the_value() {
        let mark = "VALUE, expected `x`, expected";
        for input in [
            serde_json::json!({"count": mark, "mode": "Fast", "pair": [1, 2]}),
            serde_json::json!({"count": -3.25, "mode": "Fast", "pair": [1, 2]}),
            serde_json::json!({"count": 1, "mode": mark, "pair": [1, 2]}),
            serde_json::json!({"count": 1, "mode": "Fast", "pair": [1, 2, 3]}),
            serde_json::json!({"count": 1, "mode": "Fast", "pair": [1, 2], mark: 1}),
            serde_json::json!({"count": 1, "mode": "Fast", "pair": [1, 777]}),
        ] {
            let raw = serde_json::from_value::<Strict>(input.clone())
                .unwrap_err()
                .to_string();
            let clean = without_values(&raw);
            for value in ["VALUE", "3.25", "777", "invalid length 3"] {
                assert!(!clean.contains(value), "{input}: {raw:?} became {clean:?}");
            }
            assert!(clean.contains("expected"), "{raw:?} became {clean:?}");
        }
        assert_eq!(
            without_values("missing field `count`"),
            "missing field `count`"
        );
    }
}
