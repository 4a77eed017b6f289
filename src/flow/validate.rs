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
use crate::message::escape_pointer;
use crate::runtime::component::NodeConfig;
use crate::runtime::error::RuntimeError;
use crate::runtime::registry::{self, Compiled};

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
            RuntimeError::Config { message, .. } => message.clone(),
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

/// Parses and validates a flow file's text.
pub fn parse_flow(text: &str) -> Result<Flow, Vec<Diagnostic>> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
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
    })?;
    validate_value(&value)
}

fn json_error_text(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; we print the position ourselves.
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Validates a flow document.
pub fn validate_value(value: &Value) -> Result<Flow, Vec<Diagnostic>> {
    let registry = registry::global();
    let schema_errors: Vec<Diagnostic> = registry
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
    let flow: Flow = serde_json::from_value(value.clone())
        .map_err(|e| vec![Diagnostic::new(None, "", e.to_string())])?;
    let mut diags = check_graph(&flow, registry);
    for (i, node) in flow.nodes.iter().enumerate() {
        if let Some(compiled) = registry.get(&node.component_type)
            && let Err(d) = validate_node_config(
                compiled,
                &node.id,
                &node.config,
                &format!("/nodes/{i}/config"),
            )
        {
            diags.extend(d);
        }
    }
    if diags.is_empty() {
        Ok(flow)
    } else {
        Err(diags)
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

/// Validates one node's config against its component's schema, then builds it (which
/// deserialises into the component's `deny_unknown_fields` config struct).
pub fn validate_node_config(
    compiled: &Compiled,
    node: &str,
    config: &Value,
    prefix: &str,
) -> Result<(), Vec<Diagnostic>> {
    // A field declared only in a conditional branch (`if`/`then`/`else`) that fails there is
    // also reported by `unevaluatedProperties` as unknown; keep only the specific error.
    let mut tagged: Vec<(bool, Diagnostic)> = Vec::new();
    for e in compiled.validator.iter_errors(config) {
        let unevaluated = matches!(e.kind(), ValidationErrorKind::UnevaluatedProperties { .. });
        for mut d in schema_diagnostics(&e, prefix) {
            d.node = Some(node.to_owned());
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
    if !diags.is_empty() {
        return Err(diags);
    }
    (compiled.spec.build)(&NodeConfig {
        flow: "validation",
        node,
        config,
    })
    .map(drop)
    .map_err(|e| vec![Diagnostic::from_runtime(&e, prefix)])
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

fn check_graph(flow: &Flow, registry: &registry::Registry) -> Vec<Diagnostic> {
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
                    "unknown component type \"{}\" (known: {})",
                    node.component_type,
                    registry.type_names().join(", ")
                ),
            ));
        }
        types.insert(&node.id, compiled);
    }
    let mut edge_ids = HashSet::new();
    let mut routes = HashSet::new();
    for (i, edge) in flow.edges.iter().enumerate() {
        let id = Some(edge.id.as_str());
        if !edge_ids.insert(edge.id.as_str()) {
            diags.push(Diagnostic::new(
                id,
                format!("/edges/{i}/id"),
                format!("duplicate edge id \"{}\"", edge.id),
            ));
        }
        let ends = [("from", &edge.from, true), ("to", &edge.to, false)];
        let mut ends_ok = true;
        for (side, end, is_source) in ends {
            let Some(compiled) = types.get(end.node.as_str()) else {
                diags.push(Diagnostic::new(
                    id,
                    format!("/edges/{i}/{side}/node"),
                    format!("edge {side} unknown node \"{}\"", end.node),
                ));
                ends_ok = false;
                continue;
            };
            let Some(compiled) = compiled else {
                ends_ok = false;
                continue; // unknown type: already reported on the node
            };
            let (inputs, outputs) = (compiled.spec.inputs, compiled.spec.outputs);
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
                    "node \"{}\" ({}) has no port \"{}\" (inputs: {}; outputs: {})",
                    end.node,
                    compiled.spec.type_name,
                    end.port,
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
