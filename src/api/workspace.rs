//! Flow documents as the API sees them: the flow store plus the credential store. Saving
//! validates the flow (with its stored secrets in place), strips secrets into the encrypted
//! store and writes the file; reading adds `rev` and `secretsSet`; running merges the secrets
//! back into the configs, in memory only.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::secrets::{
    CredentialStore, FlowSecrets, NodeSecrets, merge_secrets, strip_secrets, take_secrets,
};
use crate::flow::store::{FlowStore, Precondition, StoreError, StoredFile};
use crate::flow::{Diagnostic, Flow, parse_flow, validate_value};
use crate::runtime::registry;

/// The flows directory: flow files and their credentials.
#[derive(Debug)]
pub struct Workspace {
    /// The flow files.
    pub store: FlowStore,
    /// Their secrets.
    pub credentials: CredentialStore,
}

/// One entry of `GET /api/flows`.
#[derive(Debug, Clone, Serialize)]
pub struct FlowSummary {
    /// Flow id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Revision of the file.
    pub rev: String,
    /// `running` or `stopped` (filled in by the caller).
    pub state: &'static str,
    /// Validation problems of the stored file; absent when it is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Diagnostic>>,
}

/// The outcome of a save.
#[derive(Debug)]
pub struct Saved {
    /// The document as `GET` returns it.
    pub document: Value,
    /// Its new revision.
    pub rev: String,
    /// Whether the flow did not exist before.
    pub created: bool,
}

/// The `writeOnly` pointers of a component type's config (none for unknown types).
pub fn secret_pointers(component_type: &str) -> Vec<String> {
    registry::global()
        .get(component_type)
        .map(|c| c.write_only.clone())
        .unwrap_or_default()
}

impl Workspace {
    /// The ids of the flows in the store (logging files that cannot be addressed).
    pub fn ids(&self) -> Result<Vec<String>, ApiError> {
        let listing = self.store.list()?;
        for path in &listing.ignored {
            tracing::warn!(file = %path.display(),
                "Ignoring a flow file whose name is not a valid flow id.");
        }
        Ok(listing.ids)
    }

    /// Every flow's summary, with the problems of invalid files.
    pub fn summaries(&self) -> Result<Vec<FlowSummary>, ApiError> {
        let mut out = Vec::new();
        for id in self.ids()? {
            let file = match self.store.read(&id) {
                Ok(f) => f,
                Err(StoreError::NotFound(_)) => continue, // deleted meanwhile
                Err(e) => return Err(e.into()),
            };
            let value: Option<Value> = serde_json::from_slice(&file.bytes).ok();
            let text = |k: &str| {
                value
                    .as_ref()
                    .and_then(|v| v.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let errors = self.check(&file).err();
            out.push(FlowSummary {
                name: text("name"),
                description: text("description"),
                id,
                rev: file.rev,
                state: "stopped",
                errors,
            });
        }
        Ok(out)
    }

    /// Validates a stored file with its secrets merged in; returns the runnable flow.
    fn check(&self, file: &StoredFile) -> Result<Flow, Vec<Diagnostic>> {
        let text = String::from_utf8_lossy(&file.bytes);
        let mut value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            // Let the parser word the syntax error.
            Err(_) => return parse_flow(&text),
        };
        if let Some(id) = value.get("id").and_then(Value::as_str)
            && id != file.id
        {
            return Err(vec![Diagnostic::new(
                None,
                "/id",
                format!(
                    "the flow's id \"{id}\" is not its file name \"{}.json\"",
                    file.id
                ),
            )]);
        }
        let secrets = self
            .credentials
            .get(&file.id)
            .map_err(|e| vec![Diagnostic::new(None, "", e.to_string())])?;
        merge_flow_secrets(&mut value, &secrets);
        validate_value(&value)
    }

    /// Logs the problems of every invalid flow file (at server start).
    pub fn log_problems(&self) -> Result<usize, ApiError> {
        let summaries = self.summaries()?;
        for s in &summaries {
            if let Some(errors) = &s.errors {
                for d in errors {
                    tracing::warn!(flow = %s.id, "Flow file is invalid: {d}");
                }
            }
        }
        tracing::info!(dir = %self.store.dir().display(), flows = summaries.len(),
            invalid = summaries.iter().filter(|s| s.errors.is_some()).count(), "Flows loaded.");
        Ok(summaries.len())
    }

    /// The document `GET /api/flows/{id}` returns, and its revision.
    pub fn document(&self, id: &str) -> Result<(Value, String), ApiError> {
        let file = self.store.read(id)?;
        let mut value: Value = serde_json::from_slice(&file.bytes).map_err(|e| {
            ApiError::invalid(vec![Diagnostic::new(
                None,
                "",
                format!(
                    "the stored file is not valid JSON (line {} column {}); fix or replace it",
                    e.line(),
                    e.column()
                ),
            )])
        })?;
        if !value.is_object() {
            return Err(ApiError::invalid(vec![Diagnostic::new(
                None,
                "",
                "the stored file is not a JSON object; fix or replace it",
            )]));
        }
        // A hand-edited file may carry secrets: never return them.
        strip_document_secrets(&mut value);
        decorate(&mut value, &file.rev, &self.credentials.pointers_set(id));
        Ok((value, file.rev))
    }

    /// The flow with its secrets merged in, ready to start; 422 when it is invalid.
    pub fn runnable(&self, id: &str) -> Result<Flow, ApiError> {
        let file = self.store.read(id)?;
        self.check(&file).map_err(ApiError::invalid)
    }

    /// The node ids and types of a stored flow (for status of a flow that never ran).
    pub fn nodes(&self, id: &str) -> Result<Vec<(String, String)>, ApiError> {
        let file = self.store.read(id)?;
        let value: Value = serde_json::from_slice(&file.bytes).unwrap_or(Value::Null);
        Ok(value
            .get("nodes")
            .and_then(Value::as_array)
            .map(|nodes| {
                nodes
                    .iter()
                    .filter_map(|n| {
                        Some((
                            n.get("id")?.as_str()?.to_owned(),
                            n.get("type")?.as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The stored secrets of one node, when it exists in the flow with the given type.
    pub fn node_secrets(
        &self,
        flow: &str,
        node: &str,
        component_type: &str,
    ) -> Result<NodeSecrets, ApiError> {
        let nodes = self.nodes(flow)?;
        match nodes.iter().find(|(id, _)| id == node) {
            None => Err(ApiError::NotFound(format!(
                "flow \"{flow}\" has no node \"{node}\""
            ))),
            Some((_, t)) if t != component_type => Err(ApiError::bad_field(
                "/node",
                format!("node \"{node}\" of flow \"{flow}\" is a {t}, not a {component_type}"),
            )),
            Some(_) => Ok(self.credentials.get(flow)?.remove(node).unwrap_or_default()),
        }
    }

    /// Saves a flow document (`PUT /api/flows/{id}`).
    pub fn save(
        &self,
        id: &str,
        mut body: Value,
        precondition: Precondition,
    ) -> Result<Saved, ApiError> {
        let mut precondition = precondition;
        let Some(doc) = body.as_object_mut() else {
            return Err(ApiError::bad_field(
                "",
                "the body must be a flow document (a JSON object)",
            ));
        };
        self.store.path_of(id)?;
        match doc.get("id") {
            None => {
                doc.insert("id".into(), json!(id));
            }
            Some(Value::String(s)) if s == id => {}
            Some(_) => {
                return Err(ApiError::bad_field(
                    "/id",
                    format!("the document's id must be \"{id}\" (the id in the path) or absent"),
                ));
            }
        }
        match doc.remove("rev") {
            None | Some(Value::Null) => {}
            Some(Value::String(rev)) => precondition.rev = Some(rev),
            Some(_) => return Err(ApiError::bad_field("/rev", "rev must be a string")),
        }
        let edit = split_secrets(&mut body)?;

        let tx = self.store.transaction();
        let current = tx.current_rev(id)?;
        precondition.check(id, current.as_deref())?;

        // The secrets the flow will have: stored ones of nodes that still exist (same type),
        // minus cleared ones, plus new ones.
        let stored = self.credentials.get(id)?;
        let mut secrets = FlowSecrets::new();
        for (node, (component_type, new, clear)) in &edit.nodes {
            let allowed = secret_pointers(component_type);
            let mut values = NodeSecrets::new();
            if let Some(old) = stored.get(node) {
                for (p, v) in old {
                    if allowed.contains(p) && !clear.contains(p) {
                        values.insert(p.clone(), v.clone());
                    }
                }
            }
            values.extend(new.iter().map(|(p, v)| (p.clone(), v.clone())));
            if !values.is_empty() {
                secrets.insert(node.clone(), values);
            }
        }

        let mut full = body.clone();
        merge_flow_secrets(&mut full, &secrets);
        validate_value(&full).map_err(ApiError::invalid)?;
        let stripped: Flow = serde_json::from_value(body)
            .map_err(|e| ApiError::invalid(vec![Diagnostic::new(None, "", e.to_string())]))?;

        if secrets != stored {
            self.credentials.replace(id, &secrets)?;
        }
        let rev = tx.write(&stripped)?;
        drop(tx);
        tracing::info!(flow = %id, rev = %rev, created = current.is_none(), "Flow saved.");

        let mut document: Value =
            serde_json::from_str(&stripped.to_pretty_json()).expect("a flow serialises");
        decorate(&mut document, &rev, &self.credentials.pointers_set(id));
        Ok(Saved {
            document,
            rev,
            created: current.is_none(),
        })
    }

    /// Deletes a flow file and its secrets.
    pub fn delete(&self, id: &str, precondition: Precondition) -> Result<(), ApiError> {
        let tx = self.store.transaction();
        let current = tx.current_rev(id)?;
        if current.is_none() {
            return Err(StoreError::NotFound(id.to_owned()).into());
        }
        precondition.check(id, current.as_deref())?;
        tx.delete(id)?;
        self.credentials.remove(id)?;
        tracing::info!(flow = %id, "Flow deleted.");
        Ok(())
    }
}

/// Per node of a PUT body: type, new secret values, pointers to clear.
struct SecretEdit {
    nodes: BTreeMap<String, (String, NodeSecrets, Vec<String>)>,
}

/// Removes `secretsSet` / `secretsClear` and the secret values from every node of a body.
fn split_secrets(body: &mut Value) -> Result<SecretEdit, ApiError> {
    let mut edit = SecretEdit {
        nodes: BTreeMap::new(),
    };
    let Some(nodes) = body.get_mut("nodes").and_then(Value::as_array_mut) else {
        return Ok(edit);
    };
    for (i, node) in nodes.iter_mut().enumerate() {
        let Some(obj) = node.as_object_mut() else {
            continue;
        };
        obj.remove("secretsSet");
        let clear = match obj.remove("secretsClear") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(ApiError::bad_field(
                        format!("/nodes/{i}/secretsClear"),
                        "secretsClear must be an array of JSON pointers",
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(ApiError::bad_field(
                    format!("/nodes/{i}/secretsClear"),
                    "secretsClear must be an array of JSON pointers",
                ));
            }
        };
        let (Some(Value::String(id)), Some(Value::String(component_type))) =
            (obj.get("id").cloned(), obj.get("type").cloned())
        else {
            continue; // validation reports it
        };
        let pointers = secret_pointers(&component_type);
        let new = match obj.get_mut("config") {
            Some(config @ Value::Object(_)) => take_secrets(config, &pointers),
            _ => NodeSecrets::new(),
        };
        edit.nodes.insert(id, (component_type, new, clear));
    }
    Ok(edit)
}

/// Puts a flow's secrets into the configs of a flow document.
fn merge_flow_secrets(doc: &mut Value, secrets: &FlowSecrets) {
    let Some(nodes) = doc.get_mut("nodes").and_then(Value::as_array_mut) else {
        return;
    };
    for node in nodes {
        let Some(id) = node.get("id").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        if let Some(values) = secrets.get(&id) {
            let obj = node
                .as_object_mut()
                .expect("a node with an id is an object");
            let config = obj
                .entry("config")
                .or_insert_with(|| Value::Object(Map::new()));
            merge_secrets(config, values);
        }
    }
}

/// Removes every `writeOnly` value from a document's node configs.
fn strip_document_secrets(doc: &mut Value) {
    let Some(nodes) = doc.get_mut("nodes").and_then(Value::as_array_mut) else {
        return;
    };
    for node in nodes {
        let Some(t) = node.get("type").and_then(Value::as_str).map(str::to_owned) else {
            continue;
        };
        if let Some(config) = node.get_mut("config") {
            strip_secrets(config, &secret_pointers(&t));
        }
    }
}

/// Adds `rev` and, per node with stored secrets, `secretsSet`.
fn decorate(doc: &mut Value, rev: &str, set: &BTreeMap<String, Vec<String>>) {
    if let Some(nodes) = doc.get_mut("nodes").and_then(Value::as_array_mut) {
        for node in nodes {
            let Some(id) = node.get("id").and_then(Value::as_str) else {
                continue;
            };
            if let Some(pointers) = set.get(id).filter(|p| !p.is_empty()) {
                node["secretsSet"] = json!(pointers);
            }
        }
    }
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("rev".into(), json!(rev));
    }
}
