//! `GET /api/openapi.json`: a hand-written OpenAPI 3.1 description of the HTTP API
//! (docs/api.md is the prose contract; a test checks every path here answers).

use serde_json::{Value, json};

fn error_ref() -> Value {
    json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn json_body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn op(summary: &str, tag: &str, responses: Value) -> Value {
    let mut responses = responses;
    let map = responses.as_object_mut().expect("responses are an object");
    map.insert("default".into(), error_ref());
    json!({"summary": summary, "tags": [tag], "responses": responses})
}

fn with(mut op: Value, key: &str, value: Value) -> Value {
    op[key] = value;
    op
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": "string"}})
}

/// The OpenAPI document.
pub fn document() -> Value {
    let flow_id = path_param("id", "Flow id (^[a-z0-9][a-z0-9_-]{0,63}$).");
    let node_id = path_param("node", "Node id.");
    let if_match = json!({"name": "If-Match", "in": "header", "required": false,
        "description": "The flow's rev (as its ETag); a stale one is refused with 412.",
        "schema": {"type": "string"}});
    let status = ok("Flow status", schema("FlowStatus"));
    let mut paths = json!({
        "/api/health": {"get": with(op("Server health (never needs the token)", "server",
            json!({"200": ok("Up", json!({"type": "object", "properties": {
                "status": {"const": "ok"}, "version": {"type": "string"}}}))})),
            "security", json!([]))},
        "/api/openapi.json": {"get": op("This document", "server",
            json!({"200": ok("OpenAPI 3.1 document", json!({"type": "object"}))}))},
        "/api/components": {"get": op("Component types with their schemas", "components",
            json!({"200": ok("Descriptors", json!({"type": "array", "items": schema("Component")}))}))},
        "/api/components/{type}/test": {
            "parameters": [path_param("type", "Component type.")],
            "post": with(op("Run one component on one message", "components",
                json!({"200": ok("What reached out and error", schema("TestResult"))})),
                "requestBody", json_body("TestRequest"))},
        "/api/flows": {"get": op("Every flow in the store", "flows",
            json!({"200": ok("Summaries", json!({"type": "array", "items": schema("FlowSummary")}))}))},
        "/api/flows/{id}": {
            "parameters": [flow_id],
            "get": op("A flow document with its rev (secrets never returned)", "flows",
                json!({"200": ok("Flow document; ETag header carries rev", schema("FlowDocument"))})),
            "put": with(with(op("Create or replace a flow (validated; 409 stale rev, 412 stale If-Match)", "flows",
                json!({"200": ok("Updated", schema("FlowDocument")), "201": ok("Created", schema("FlowDocument"))})),
                "requestBody", json_body("FlowDocument")), "parameters", json!([if_match])),
            "delete": with(op("Delete a flow (stopping it first) and its secrets", "flows",
                json!({"204": {"description": "Deleted"}})), "parameters", json!([if_match]))},
        "/api/flows/{id}/start": {"parameters": [flow_id],
            "post": op("Start a flow (idempotent; 422 if invalid)", "runtime", json!({"200": status}))},
        "/api/flows/{id}/stop": {"parameters": [flow_id],
            "post": op("Stop a flow, letting in-flight work drain (idempotent)", "runtime", json!({"200": status}))},
        "/api/flows/{id}/deploy": {"parameters": [flow_id],
            "get": op("The stored version (rev, document) the current or last run started from", "runtime",
                json!({"200": ok("Deployed version", json!({"type": "object"}))})),
            "post": op("Deploy: start the stored version, restarting a run of an older one (drains first)", "runtime",
                json!({"200": ok("Deployed", json!({"type": "object", "properties": {"status": schema("FlowStatus"), "rev": {"type": "string"}, "restarted": {"type": "boolean"}}}))}))},
        "/api/flows/{id}/status": {"parameters": [flow_id],
            "get": op("Per-node state, counters and last error", "runtime", json!({"200": status}))},
        "/api/flows/{id}/nodes/{node}/send": {"parameters": [flow_id, node_id],
            "post": with(op("Feeder: send a message, or the default one, count times", "runtime",
                json!({"202": ok("Accepted", json!({"type": "object", "properties": {"accepted": {"type": "integer"}}}))})),
                "requestBody", json_body("SendRequest"))},
        "/api/flows/{id}/nodes/{node}/messages": {"parameters": [flow_id, node_id],
            "get": op("Display: messages received (Feeder: sent), oldest first", "runtime",
                json!({"200": ok("Messages", json!({"type": "object", "properties": {
                    "messages": {"type": "array", "items": schema("Message")},
                    "total": {"type": "integer"}}}))})),
            "delete": op("Forget the kept messages", "runtime", json!({"204": {"description": "Cleared"}}))},
        "/api/flows/{id}/events": {"parameters": [flow_id],
            "get": with(op("Live events (server-sent events: status, message, error, flow)", "runtime",
                json!({"200": {"description": "An endless text/event-stream; `: keep-alive` every 15 s",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}}}})),
                "parameters", json!([{"name": "token", "in": "query", "required": false,
                    "description": "The bearer token, for EventSource (which cannot set headers).",
                    "schema": {"type": "string"}}]))},
        "/metrics": {"get": op("Prometheus metrics", "server",
            json!({"200": {"description": "Prometheus text format 0.0.4",
                "content": {"text/plain": {"schema": {"type": "string"}}}}}))},
    });
    let map = paths.as_object_mut().expect("paths are an object");
    map.insert(
        "/api/lambda/functions".into(),
        json!({"post": with(op(
        "List the account's Lambda functions", "lambda",
        json!({"200": ok("Functions", json!({"type": "object", "properties": {
            "functions": {"type": "array", "items": {"type": "object"}}}}))})),
        "requestBody", json_body("LambdaListRequest"))}),
    );
    map.insert(
        "/api/lambda/qualifiers".into(),
        json!({"post": with(op(
        "List a function's aliases and versions", "lambda",
        json!({"200": ok("Qualifiers", json!({"type": "object", "properties": {
            "aliases": {"type": "array", "items": {"type": "object"}},
            "versions": {"type": "array", "items": {"type": "string"}}}}))})),
        "requestBody", json_body("LambdaQualifiersRequest"))}),
    );
    json!({
        "openapi": "3.1.0",
        "info": {"title": "lambdaflow", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Design, run and watch flows whose star component invokes AWS Lambda. Errors are {\"error\", \"details\": [{node, pointer, message}]}."},
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "Required on every /api route but health when the server has a token."}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "details"], "properties": {
                    "error": {"type": "string"},
                    "details": {"type": "array", "items": schema("Diagnostic")}}},
                "Diagnostic": {"type": "object", "properties": {
                    "node": {"type": ["string", "null"]}, "pointer": {"type": "string"},
                    "message": {"type": "string"}}},
                "Message": {"type": "object", "properties": {
                    "id": {"type": "string"}, "timestamp": {"type": "string", "format": "date-time"},
                    "contentType": {"type": "string"}, "body": {"type": "string"},
                    "bodyEncoding": {"enum": ["utf8", "base64"]},
                    "properties": {"type": "object"}}},
                "Component": {"type": "object", "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"},
                    "description": {"type": "string"},
                    "inputs": {"type": "array", "items": {"type": "string"}},
                    "outputs": {"type": "array", "items": {"type": "string"}},
                    "schema": {"type": "object"}, "uiSchema": {"type": "object"}}},
                "FlowSummary": {"type": "object", "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "description": {"type": "string"}, "rev": {"type": "string"},
                    "state": {"enum": ["running", "stopped"]},
                    "errors": {"type": "array", "items": schema("Diagnostic"),
                        "description": "Present when the stored file is invalid."}}},
                "FlowDocument": {"type": "object",
                    "description": "The flow file (component-schema/flow.schema.json) plus rev; nodes may carry secretsSet (read) or secretsClear (write).",
                    "properties": {"id": {"type": "string"}, "rev": {"type": "string"},
                        "name": {"type": "string"}, "description": {"type": "string"},
                        "nodes": {"type": "array", "items": {"type": "object"}},
                        "edges": {"type": "array", "items": {"type": "object"}}}},
                "FlowStatus": {"type": "object", "properties": {
                    "flow": {"type": "string"}, "state": {"enum": ["running", "stopped"]},
                    "nodes": {"type": "object", "additionalProperties": schema("NodeStatus")}}},
                "NodeStatus": {"type": "object", "properties": {
                    "state": {"enum": ["starting", "running", "stopped", "failed"]},
                    "received": {"type": "integer"}, "emitted": {"type": "integer"},
                    "errors": {"type": "integer"},
                    "lastError": {"type": ["object", "null"]}}},
                "SendRequest": {"type": "object", "properties": {
                    "body": {"type": "string"}, "bodyEncoding": {"enum": ["utf8", "base64"]},
                    "contentType": {"type": "string"}, "properties": {"type": "object"},
                    "count": {"type": "integer", "minimum": 1},
                    "intervalMs": {"type": "integer", "minimum": 0}}},
                "TestRequest": {"type": "object", "properties": {
                    "config": {"type": "object"}, "message": schema("Message"),
                    "flow": {"type": "string"}, "node": {"type": "string"}}},
                "TestResult": {"type": "object", "properties": {
                    "out": {"type": "array", "items": schema("Message")},
                    "error": {"type": "array", "items": schema("Message")},
                    "durationMs": {"type": "integer"},
                    "status": schema("NodeStatus")}},
                "LambdaListRequest": {"type": "object", "properties": {
                    "connection": {"type": "object"}, "flow": {"type": "string"},
                    "node": {"type": "string"}}},
                "LambdaQualifiersRequest": {"type": "object", "required": ["functionName"],
                    "properties": {"connection": {"type": "object"},
                        "functionName": {"type": "string"}, "flow": {"type": "string"},
                        "node": {"type": "string"}}}
            }
        }
    })
}
