//! `GET /api/openapi.json`: the OpenAPI 3.1 document, derived with `utoipa` from the handlers'
//! `#[utoipa::path]` annotations and their own request and answer types, so it cannot drift
//! from what the server accepts (docs/api.md is the prose contract). Types other layers own
//! (messages, node status, Lambda listings, component descriptors) are described by the schema
//! types below, of the same shape; the flow document's schema is `flow.schema.json` itself, the
//! one PUT validates with. Bearer security is declared only when the server has a token.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{OpenApi, PartialSchema, ToSchema};

use super::{events, metrics, routes};
use crate::flow::registry::FLOW_SCHEMA;

/// The document's shape; `document` adds what depends on the server's settings.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "lambdaflow",
        description = "Design, run and watch flows whose star component invokes AWS Lambda. \
                       Every error is {\"error\", \"details\": [{node, pointer, message}]}."
    ),
    paths(
        routes::health,
        routes::openapi,
        routes::components::list,
        routes::components::test,
        routes::components::action,
        routes::lambda::functions,
        routes::lambda::qualifiers,
        routes::flows::list,
        routes::flows::get,
        routes::flows::put,
        routes::flows::delete,
        routes::flows::start,
        routes::flows::stop,
        routes::deploy::deploy,
        routes::deploy::deployed,
        routes::deploy::workers,
        routes::flows::status,
        routes::runtime::send,
        routes::runtime::messages,
        routes::runtime::clear_messages,
        events::events,
        metrics::metrics,
    ),
    tags(
        (name = "server", description = "Health, this document, metrics"),
        (name = "components", description = "Component types and the Test button"),
        (name = "flows", description = "Flow documents"),
        (name = "runtime", description = "Running flows"),
        (name = "lambda", description = "The LambdaConnector's listings under their contract paths"),
    )
)]
struct ApiDoc;

/// The OpenAPI document; `token`: whether the server requires a bearer token.
pub fn document(token: bool) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    if token {
        let components = doc.components.get_or_insert_with(Default::default);
        let mut scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        scheme.description = Some(
            "The server's token (--token / LAMBDAFLOW_TOKEN); every route but /api/health \
             needs it."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        // Health answers without the token.
        if let Some(item) = doc.paths.paths.get_mut("/api/health")
            && let Some(get) = item.get.as_mut()
        {
            get.security = Some(vec![SecurityRequirement::default()]);
        }
    }
    doc
}

/// An error answer: `{"error", "details": [{node, pointer, message}]}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorDoc {
    /// What went wrong, in words (never a value of the request).
    pub error: String,
    /// Each problem with its node (or edge) id and JSON pointer.
    pub details: Vec<crate::flow::Diagnostic>,
}

/// How a message body is written in JSON.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = BodyEncoding)]
pub enum BodyEncodingDoc {
    /// UTF-8 text.
    Utf8,
    /// Base64 of any bytes.
    Base64,
}

/// A message header property value: a JSON scalar or null.
#[derive(Serialize)]
pub struct PropertyValueDoc;

impl PartialSchema for PropertyValueDoc {
    fn schema() -> RefOr<Schema> {
        serde_json::from_value(serde_json::json!({
            "type": ["string", "number", "boolean", "null"],
            "description": "A header property's value: a JSON scalar or null."
        }))
        .expect("a scalar schema is an OpenAPI schema")
    }
}

impl ToSchema for PropertyValueDoc {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PropertyValue")
    }
}

/// A message (design §4), as the server writes it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Message)]
pub struct MessageDoc {
    /// Unique id (a UUID v7 for messages the engine made).
    pub id: String,
    /// When it was made (RFC 3339, UTC, milliseconds).
    #[schema(format = DateTime)]
    pub timestamp: String,
    /// MIME type of the body.
    pub content_type: Option<String>,
    /// The body: UTF-8 text, or base64 with `bodyEncoding: base64`.
    pub body: String,
    /// How `body` is written.
    pub body_encoding: BodyEncodingDoc,
    /// Header properties: names to JSON scalars (or null).
    pub properties: BTreeMap<String, PropertyValueDoc>,
}

/// A message as a request gives it: every field optional (the id and time are made when
/// absent; no body is an empty one).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MessageInput)]
pub struct MessageInputDoc {
    /// Id to keep (empty or absent: a new one).
    pub id: Option<String>,
    /// Time to keep (absent: now).
    #[schema(format = DateTime)]
    pub timestamp: Option<String>,
    /// MIME type of the body.
    pub content_type: Option<String>,
    /// The body: text, or base64 with `bodyEncoding: base64`.
    pub body: Option<String>,
    /// How `body` is written (default utf8).
    pub body_encoding: Option<BodyEncodingDoc>,
    /// Header properties: names to JSON scalars (or null).
    pub properties: Option<BTreeMap<String, PropertyValueDoc>>,
}

/// Node states.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = NodeState)]
pub enum NodeStateDoc {
    /// Being built.
    Starting,
    /// Taking messages.
    Running,
    /// Ended (done, stopped, or `stopService`).
    Stopped,
    /// Ended by a failure.
    Failed,
}

/// Flow states.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = FlowState)]
pub enum FlowStateDoc {
    /// Nodes are running.
    Running,
    /// Every node has ended.
    Stopped,
}

/// One node's state and counters.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NodeStatus)]
pub struct NodeStatusDoc {
    /// State.
    pub state: NodeStateDoc,
    /// Messages taken from `in`.
    pub received: u64,
    /// Messages sent on `out`.
    pub emitted: u64,
    /// Messages sent on `error` (or failed).
    pub errors: u64,
    /// Failed messages the error actions routed nowhere (counted, logged at warn).
    pub discarded: u64,
    /// The last error: type, code, message and time.
    #[schema(value_type = Option<Object>)]
    pub last_error: Option<Value>,
    /// Calls allowed in flight now, for a node whose limit adapts (`concurrency.mode:
    /// adaptive`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_limit: Option<u64>,
}

/// A flow's state and each node's status.
#[derive(Serialize, ToSchema)]
#[schema(as = FlowStatus)]
pub struct FlowStatusDoc {
    /// Flow id.
    pub flow: String,
    /// State.
    pub state: FlowStateDoc,
    /// Node id to status.
    pub nodes: BTreeMap<String, NodeStatusDoc>,
}

/// What `POST /api/flows/{id}/deploy` did.
#[derive(Serialize, ToSchema)]
#[schema(as = Deploy)]
pub struct DeployDoc {
    /// The flow's state and each node's status after the deploy.
    pub status: FlowStatusDoc,
    /// The saved version that now runs.
    pub rev: String,
    /// Whether a run of an older version was drained and replaced.
    pub restarted: bool,
    /// Whether the flow already ran this version (nothing was done).
    pub unchanged: bool,
}

/// Which saved version a flow's current or last run started from.
#[derive(Serialize, ToSchema)]
#[schema(as = Deployed)]
pub struct DeployedDoc {
    /// Whether the flow runs.
    pub running: bool,
    /// The version's revision; null before the first run.
    pub rev: Option<String>,
    /// The flow document of that version; null before the first run.
    #[schema(value_type = Option<Object>)]
    pub flow: Option<Value>,
}

/// The workers running a flow on JetStream edges.
#[derive(Serialize, ToSchema)]
#[schema(as = Workers)]
pub struct WorkersDoc {
    /// Whether the server was started with `--nats`.
    pub nats: bool,
    /// One report per live worker: `{"worker", "running", "nodes": {id: node status}}`.
    #[schema(value_type = Vec<Object>)]
    pub workers: Vec<Value>,
}

/// A component type, as `GET /api/components` lists it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Component)]
pub struct ComponentDoc {
    /// Type name (`feeder`, `display`, `lambda`).
    #[serde(rename = "type")]
    pub component_type: String,
    /// Display name.
    pub title: String,
    /// What it does.
    pub description: String,
    /// Input ports.
    pub inputs: Vec<String>,
    /// Output ports.
    pub outputs: Vec<String>,
    /// The property sheet's JSON Schema (bundled).
    #[schema(value_type = Object)]
    pub schema: Value,
    /// The form layout (react-jsonschema-form uiSchema).
    #[schema(value_type = Object)]
    pub ui_schema: Value,
}

/// A Lambda function of the account.
#[derive(Serialize, ToSchema)]
#[schema(as = FunctionSummary)]
pub struct FunctionDoc {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Runtime; none for container images.
    pub runtime: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// An alias and the version it points to.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AliasSummary)]
pub struct AliasDoc {
    /// Alias name.
    pub name: String,
    /// Version.
    pub function_version: String,
}

/// A function's aliases and versions.
#[derive(Serialize, ToSchema)]
#[schema(as = Qualifiers)]
pub struct QualifiersDoc {
    /// Aliases.
    pub aliases: Vec<AliasDoc>,
    /// Versions, `$LATEST` first.
    pub versions: Vec<String>,
}

/// The flow document: `component-schema/flow.schema.json` (the schema PUT validates with),
/// plus `rev`, and on each node `secretsSet` (answers) and `secretsClear` (requests). Its id
/// may be left out of a PUT body (the path names the flow).
pub struct FlowDocument;

impl PartialSchema for FlowDocument {
    fn schema() -> RefOr<Schema> {
        serde_json::from_value(flow_document_schema())
            .expect("the flow schema is an OpenAPI schema")
    }
}

impl ToSchema for FlowDocument {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FlowDocument")
    }
}

/// `flow.schema.json` with its `$defs` inlined, and the API's additions.
fn flow_document_schema() -> Value {
    let mut schema: Value = serde_json::from_str(FLOW_SCHEMA).expect("flow.schema.json is JSON");
    let defs = schema
        .as_object_mut()
        .and_then(|s| s.remove("$defs"))
        .unwrap_or_default();
    if let Some(obj) = schema.as_object_mut() {
        obj.remove("$schema");
        obj.remove("$id");
        obj.insert("required".into(), serde_json::json!(["nodes", "edges"]));
        if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert(
                "rev".into(),
                serde_json::json!({"type": "string", "description":
                    "The revision read (answers always carry it); a stale one is refused with 409."}),
            );
        }
    }
    inline_defs(&mut schema, &defs);
    if let Some(node) = schema
        .pointer_mut("/properties/nodes/items/properties")
        .and_then(Value::as_object_mut)
    {
        let pointers = serde_json::json!({"type": "array", "items": {"type": "string"}});
        let mut set = pointers.clone();
        set["readOnly"] = Value::Bool(true);
        set["description"] = "Pointers into config of the secrets stored for this node.".into();
        let mut clear = pointers;
        clear["description"] = "Pointers into config of stored secrets to remove.".into();
        node.insert("secretsSet".into(), set);
        node.insert("secretsClear".into(), clear);
    }
    schema
}

/// Replaces every `{"$ref": "#/$defs/x"}` with the definition (flow.schema.json's definitions
/// do not refer to themselves), keeping the referring object's other keys.
fn inline_defs(value: &mut Value, defs: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
                && let Some(Value::Object(def)) = defs.get(name)
            {
                let mut merged: Map<String, Value> = def.clone();
                map.remove("$ref");
                for (k, v) in std::mem::take(map) {
                    merged.insert(k, v);
                }
                *map = merged;
                inline_defs(value, defs);
                return;
            }
            for v in map.values_mut() {
                inline_defs(v, defs);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| inline_defs(v, defs)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_security_is_declared_only_with_a_token() {
        let open = serde_json::to_value(document(false)).unwrap();
        assert!(open.get("security").is_none(), "{}", open["security"]);
        assert!(open.pointer("/components/securitySchemes").is_none());
        let closed = serde_json::to_value(document(true)).unwrap();
        assert_eq!(closed["security"], serde_json::json!([{"bearer": []}]));
        assert_eq!(
            closed["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert_eq!(
            closed["paths"]["/api/health"]["get"]["security"],
            serde_json::json!([{}])
        );
    }

    #[test]
    fn ids_are_stated_as_patterns_the_flow_schema_shares() {
        let doc = serde_json::to_value(document(false)).unwrap();
        let flow: Value = serde_json::from_str(FLOW_SCHEMA).unwrap();
        let flow_id = flow["properties"]["id"]["pattern"].as_str().unwrap();
        let node_id = flow["$defs"]["nodeId"]["pattern"].as_str().unwrap();
        let params = doc["paths"]["/api/flows/{id}/nodes/{node}/send"]["post"]["parameters"]
            .as_array()
            .unwrap();
        let pattern = |name: &str| {
            params.iter().find(|p| p["name"] == name).unwrap()["schema"]["pattern"].clone()
        };
        assert_eq!(pattern("id"), flow_id);
        assert_eq!(pattern("node"), node_id);
        let document = &doc["components"]["schemas"]["FlowDocument"];
        assert_eq!(document["properties"]["id"]["pattern"], flow_id);
        assert_eq!(
            document["properties"]["nodes"]["items"]["properties"]["id"]["pattern"],
            node_id
        );
        assert_eq!(
            document["properties"]["edges"]["items"]["properties"]["from"]["properties"]["port"]["enum"],
            serde_json::json!(["in", "out", "error"])
        );
    }
}
