//! Flow documents as the API sees them: the flow store plus the credential store. Saving
//! validates the flow (with its stored secrets in place), strips secrets into the encrypted
//! store and writes the file; reading adds `rev` and `secretsSet`; running merges the secrets
//! back into the configs, in memory only.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::secrets::{
    CredentialStore, FlowSecrets, NodeSecrets, changed_binding, merge_secrets, strip_secrets,
    take_secrets,
};
use crate::components::registry;
use crate::flow::store::{FlowStore, Precondition, StoreError, StoredFile, revision};
use crate::flow::{Diagnostic, Flow};

/// The flows directory: flow files and their credentials.
#[derive(Debug)]
pub struct Workspace {
    /// The flow files.
    pub store: FlowStore,
    /// Their secrets.
    pub credentials: CredentialStore,
}

/// One entry of `GET /api/flows`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = crate::api::openapi::FlowStateDoc)]
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
    registry()
        .get(component_type)
        .map(|c| c.write_only.clone())
        .unwrap_or_default()
}

impl Workspace {
    /// A flow's revision: its file's content hash, combined with the fingerprint of its stored
    /// secrets when it has any (so a change to secrets alone is a new revision too).
    pub fn rev(&self, id: &str, file_rev: &str) -> String {
        match self.credentials.stamp(id) {
            Some(stamp) => revision(format!("{file_rev}:{stamp}").as_bytes()),
            None => file_rev.to_owned(),
        }
    }

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
                rev: self.rev(&id, &file.rev),
                id,
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
            Err(_) => return registry().parse_flow(&text),
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
        registry().validate_value(&value)
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
        let rev = self.rev(id, &file.rev);
        decorate(&mut value, &rev, &self.credentials.pointers_set(id));
        Ok((value, rev))
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

    /// The stored secrets of one node, when it exists in the flow with the given type, and
    /// which field of `config` (the caller's config for that node, secrets taken out) differs
    /// from the stored node's connection, if any: then the stored secrets must not be used.
    pub fn node_secrets(
        &self,
        flow: &str,
        node: &str,
        component_type: &str,
        config: &Value,
    ) -> Result<(NodeSecrets, Option<&'static str>), ApiError> {
        let file = self.store.read(flow)?;
        let value: Value = serde_json::from_slice(&file.bytes).unwrap_or(Value::Null);
        let stored = stored_nodes(&value);
        match stored.get(node) {
            None => Err(ApiError::NotFound(format!(
                "flow \"{flow}\" has no such node"
            ))),
            Some((t, _)) if t != component_type => Err(ApiError::unprocessable(
                "/node",
                format!("node \"{node}\" of flow \"{flow}\" is a {t}, not a {component_type}"),
            )),
            Some((t, saved)) => Ok((
                self.credentials.get(flow)?.remove(node).unwrap_or_default(),
                changed_binding(t, saved, config),
            )),
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
                return Err(ApiError::unprocessable(
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
        // The document's shape first (flow.schema.json), so a malformed body is refused as such
        // whatever its precondition says; the full validation, with secrets, comes below.
        if registry()
            .flow_validator()
            .iter_errors(&body)
            .next()
            .is_some()
        {
            return Err(ApiError::invalid(
                registry().validate_value(&body).err().unwrap_or_default(),
            ));
        }

        let tx = self.store.transaction();
        let previous = tx.current(id)?;
        let current = previous.as_ref().map(|f| self.rev(id, &f.rev));
        precondition.check(id, current.as_deref())?;
        let saved_nodes = previous
            .as_ref()
            .and_then(|f| serde_json::from_slice::<Value>(&f.bytes).ok())
            .map(|v| stored_nodes(&v))
            .unwrap_or_default();

        // The secrets the flow will have: stored ones of nodes that still exist with the same
        // type and connection (see `binding_pointers`), minus cleared ones, plus new ones.
        let stored = self.credentials.get(id)?;
        let mut secrets = FlowSecrets::new();
        for (node, edit) in &edit.nodes {
            let allowed = secret_pointers(&edit.component_type);
            let mut values = NodeSecrets::new();
            if let Some(old) = stored.get(node) {
                let rebound = match saved_nodes.get(node) {
                    Some((t, saved)) if *t == edit.component_type => {
                        changed_binding(t, saved, &edit.config)
                    }
                    _ => Some(""),
                };
                match rebound {
                    None => values.extend(
                        old.iter()
                            .filter(|(p, _)| allowed.contains(p) && !edit.clear.contains(p))
                            .map(|(p, v)| (p.clone(), v.clone())),
                    ),
                    Some(field) => {
                        tracing::info!(flow = %id, node = %node, field,
                            "Stored secrets dropped: the node's connection changed.");
                    }
                }
            }
            values.extend(edit.new.iter().map(|(p, v)| (p.clone(), v.clone())));
            if !values.is_empty() {
                secrets.insert(node.clone(), values);
            }
        }

        let mut full = body.clone();
        merge_flow_secrets(&mut full, &secrets);
        registry()
            .validate_value(&full)
            .map_err(ApiError::invalid)?;
        let stripped: Flow = serde_json::from_value(body).map_err(|e| {
            ApiError::invalid(vec![Diagnostic::new(
                None,
                "",
                crate::flow::validate::without_values(&e.to_string()),
            )])
        })?;

        // Both files change, or neither: the new credentials are staged first (where a full disk
        // fails without changing anything), the flow file is written, then the credentials are
        // put in place; if that fails, the flow file gets its previous content back.
        let pending = if secrets != stored {
            self.credentials.stage(id, &secrets)?
        } else {
            None
        };
        let file_rev = tx.write(&stripped)?;
        if let Some(pending) = pending
            && let Err(e) = pending.commit()
        {
            if let Err(undo) = tx.restore(id, previous.as_ref().map(|f| f.bytes.as_slice())) {
                tracing::error!(flow = %id, "Could not restore the flow file after a failed save: {undo}");
            }
            return Err(e.into());
        }
        let rev = self.rev(id, &file_rev);
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
        let Some(file) = tx.current(id)? else {
            return Err(StoreError::NotFound(id.to_owned()).into());
        };
        let current = Some(self.rev(id, &file.rev));
        precondition.check(id, current.as_deref())?;
        tx.delete(id)?;
        self.credentials.remove(id)?;
        tracing::info!(flow = %id, "Flow deleted.");
        Ok(())
    }
}

/// The secret edits of a PUT body, per node id.
struct SecretEdit {
    nodes: BTreeMap<String, NodeEdit>,
}

/// One node of a PUT body: its type, config (secrets taken out), new secret values and the
/// pointers to clear.
struct NodeEdit {
    component_type: String,
    config: Value,
    new: NodeSecrets,
    clear: Vec<String>,
}

/// The nodes of a stored flow document: id → (type, config).
fn stored_nodes(doc: &Value) -> BTreeMap<String, (String, Value)> {
    doc.get("nodes")
        .and_then(Value::as_array)
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|n| {
                    Some((
                        n.get("id")?.as_str()?.to_owned(),
                        (
                            n.get("type")?.as_str()?.to_owned(),
                            n.get("config").cloned().unwrap_or(Value::Null),
                        ),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
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
        let config = obj.get("config").cloned().unwrap_or(Value::Null);
        edit.nodes.insert(
            id,
            NodeEdit {
                component_type,
                config,
                new,
                clear,
            },
        );
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
