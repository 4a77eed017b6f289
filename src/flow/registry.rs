//! A registry of component types, compiled: each type with its bundled schema, uiSchema and
//! validator. The types this binary ships are listed in `crate::components::registry`; tests
//! make registries of their own. [`Registry::plan`](super::plan) turns flows into plans.
//!
//! Component schemas refer to the shared error-handling schema as
//! `{"$ref": "error-handling.schema.json"}`. Bundling replaces that with a local
//! `#/$defs/errorHandling` and hoists the shared schema's own `$defs`, so the result is one
//! self-contained document: the server validates with it and the designer renders it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::runtime::{Descriptor, ErasedType};

/// The shared error-handling schema.
pub const ERROR_HANDLING_SCHEMA: &str =
    include_str!("../../component-schema/error-handling.schema.json");
/// The flow file schema.
pub const FLOW_SCHEMA: &str = include_str!("../../component-schema/flow.schema.json");

const ERROR_HANDLING_REF: &str = "error-handling.schema.json";

/// One compiled component type.
pub struct Compiled {
    /// The type itself.
    pub component: Arc<dyn ErasedType>,
    /// Its descriptor.
    pub descriptor: Descriptor,
    /// The bundled, self-contained JSON Schema of its config.
    pub schema: Value,
    /// Its uiSchema.
    pub ui_schema: Value,
    /// Validator for its config.
    pub validator: jsonschema::Validator,
    /// Pointers (into a config) of its `writeOnly` (secret) fields.
    pub write_only: Vec<String>,
}

impl Compiled {
    /// The descriptor the designer and `lambdaflow components --json` show: type, title,
    /// description, ports, capabilities, actions, bundled schema and uiSchema.
    pub fn descriptor_json(&self) -> Value {
        let d = &self.descriptor;
        let actions: Vec<Value> = d
            .actions
            .iter()
            .map(|a| serde_json::json!({"name": a.name, "title": a.title, "field": a.field}))
            .collect();
        serde_json::json!({
            "type": d.type_name,
            "title": d.title,
            "description": d.description,
            "inputs": d.inputs,
            "outputs": d.outputs,
            "capabilities": {
                "acceptsSend": d.capabilities.accepts_send,
                "showsMessages": d.capabilities.shows_messages,
                "invokes": d.capabilities.invokes,
            },
            "actions": actions,
            "schema": self.schema,
            "uiSchema": self.ui_schema,
        })
    }
}

/// Every component type, compiled.
pub struct Registry {
    types: BTreeMap<&'static str, Compiled>,
    order: Vec<&'static str>,
    flow_validator: jsonschema::Validator,
}

impl Registry {
    /// Compiles the given types. Panics on a broken schema: schemas are part of the binary and
    /// a test compiles them all.
    pub fn new(components: Vec<Arc<dyn ErasedType>>) -> Self {
        let shared: Value =
            serde_json::from_str(ERROR_HANDLING_SCHEMA).expect("error-handling schema is JSON");
        let mut types = BTreeMap::new();
        let mut order = Vec::new();
        for component in components {
            let spec = component.descriptor();
            let raw: Value = serde_json::from_str(spec.schema)
                .unwrap_or_else(|e| panic!("schema of {} is not JSON: {e}", spec.type_name));
            let schema = bundle(raw, &shared);
            let ui_schema: Value = serde_json::from_str(spec.ui_schema)
                .unwrap_or_else(|e| panic!("uiSchema of {} is not JSON: {e}", spec.type_name));
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("schema of {} does not compile: {e}", spec.type_name));
            order.push(spec.type_name);
            let write_only = write_only_pointers(&schema);
            types.insert(
                spec.type_name,
                Compiled {
                    component,
                    descriptor: spec,
                    schema,
                    ui_schema,
                    validator,
                    write_only,
                },
            );
        }
        let flow_schema: Value = serde_json::from_str(FLOW_SCHEMA).expect("flow schema is JSON");
        let flow_validator = jsonschema::validator_for(&flow_schema).expect("flow schema compiles");
        Registry {
            types,
            order,
            flow_validator,
        }
    }

    /// The compiled type, if known.
    pub fn get(&self, type_name: &str) -> Option<&Compiled> {
        self.types.get(type_name)
    }

    /// Every type in registry order.
    pub fn iter(&self) -> impl Iterator<Item = &Compiled> {
        self.order.iter().map(|t| &self.types[t])
    }

    /// Known type names, in registry order.
    pub fn type_names(&self) -> Vec<&'static str> {
        self.order.clone()
    }

    /// The validator of the flow file schema.
    pub fn flow_validator(&self) -> &jsonschema::Validator {
        &self.flow_validator
    }
}

/// Makes a component schema self-contained: `$ref: error-handling.schema.json` becomes
/// `#/$defs/errorHandling`, and the shared schema's `$defs` join the component's.
pub fn bundle(mut schema: Value, shared: &Value) -> Value {
    if !rewrite_refs(&mut schema) {
        return schema;
    }
    let mut shared_root = shared.as_object().cloned().unwrap_or_default();
    let shared_defs = shared_root.remove("$defs");
    shared_root.remove("$schema");
    shared_root.remove("$id");
    let obj = schema
        .as_object_mut()
        .expect("a component schema is an object");
    let defs = obj
        .entry("$defs")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .expect("$defs is an object");
    if let Some(Value::Object(extra)) = shared_defs {
        for (k, v) in extra {
            defs.entry(k).or_insert(v);
        }
    }
    defs.insert("errorHandling".into(), Value::Object(shared_root));
    schema
}

fn rewrite_refs(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut found = false;
            if map.get("$ref").and_then(Value::as_str) == Some(ERROR_HANDLING_REF) {
                map.insert("$ref".into(), Value::String("#/$defs/errorHandling".into()));
                found = true;
            }
            for v in map.values_mut() {
                found |= rewrite_refs(v);
            }
            found
        }
        Value::Array(items) => items.iter_mut().fold(false, |f, v| rewrite_refs(v) | f),
        _ => false,
    }
}

/// Pointers (relative to a config object) of the fields a schema marks `writeOnly` (secrets),
/// following nested `properties` and local `$ref`s.
pub fn write_only_pointers(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_write_only(schema, schema, "", &mut out, 0);
    out
}

fn collect_write_only(root: &Value, node: &Value, prefix: &str, out: &mut Vec<String>, depth: u8) {
    if depth > 16 {
        return;
    }
    let node = resolve_local_ref(root, node);
    if node.get("writeOnly").and_then(Value::as_bool) == Some(true) && !prefix.is_empty() {
        out.push(prefix.to_owned());
        return;
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            let pointer = format!("{prefix}/{}", crate::message::escape_pointer(name));
            collect_write_only(root, sub, &pointer, out, depth + 1);
        }
    }
}

fn resolve_local_ref<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with("#/") => root.pointer(&r[1..]).unwrap_or(node),
        _ => node,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bundling_makes_the_error_handling_ref_local() {
        let shared = json!({"$schema": "x", "$id": "y", "type": "object",
            "properties": {"a": {"$ref": "#/$defs/actions"}}, "$defs": {"actions": {"type": "object"}}});
        let schema = json!({"type": "object", "properties": {"errorHandling": {"$ref": ERROR_HANDLING_REF}}});
        let b = bundle(schema, &shared);
        assert_eq!(
            b["properties"]["errorHandling"]["$ref"],
            "#/$defs/errorHandling"
        );
        assert_eq!(b["$defs"]["actions"]["type"], "object");
        assert!(b["$defs"]["errorHandling"].get("$id").is_none());
        let v = jsonschema::validator_for(&b).unwrap();
        assert!(v.is_valid(&json!({"errorHandling": {"a": {}}})));
        assert!(!v.is_valid(&json!({"errorHandling": {"a": 1}})));
    }

    #[test]
    fn write_only_fields_are_found_through_refs() {
        let schema = json!({"properties": {
            "connection": {"$ref": "#/$defs/conn"},
            "plain": {"type": "string"}},
            "$defs": {"conn": {"properties": {"secretKey": {"type": "string", "writeOnly": true},
                                               "region": {"type": "string"}}}}});
        assert_eq!(write_only_pointers(&schema), vec!["/connection/secretKey"]);
    }
}
