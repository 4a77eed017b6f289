//! The LambdaConnector's property sheet: `component-schema/lambda.schema.json` and
//! `ui-forms/lambda.ui.json` agree with the `LambdaConfig` struct (defaults in both directions),
//! every example validates and builds, conditional fields behave, secrets are write-only, and
//! configuration errors name the node and the field.

use lambdaflow::components::lambda::{LambdaConfig, LambdaConnector};
use lambdaflow::components::registry;
use lambdaflow::flow::Compiled;
use lambdaflow::flow::registry::write_only_pointers;
use lambdaflow::flow::validate::{Diagnostic, node_config};
use lambdaflow::runtime::NodeId;
use serde_json::{Map, Value, json};

fn lambda() -> &'static Compiled {
    registry().get("lambda").expect("lambda is registered")
}

fn check(config: &Value) -> Result<(), Vec<Diagnostic>> {
    node_config(lambda(), &NodeId::new("lambda1"), config, "/config").map(drop)
}

fn pointers(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().map(|d| d.pointer.clone()).collect()
}

/// JSON equality where 2 and 2.0 are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Every property schema of an object schema, including those declared in `allOf` branches
/// (`then`/`else`), with `$ref`s into `$defs` resolved.
fn properties(root: &Value, schema: &Value) -> Map<String, Value> {
    let schema = &resolve(root, schema);
    let mut out = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for branch in schema["allOf"].as_array().into_iter().flatten() {
        for key in ["then", "else"] {
            if let Some(props) = branch[key]["properties"].as_object() {
                out.extend(props.clone());
            }
        }
    }
    out.into_iter()
        .map(|(k, v)| (k, resolve(root, &v)))
        .collect()
}

/// A schema with its local `$ref` resolved; keywords next to the `$ref` (title, default…) win.
fn resolve(root: &Value, schema: &Value) -> Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) if r.starts_with("#/") => {
            let mut target = root.pointer(&r[1..]).expect("local $ref resolves").clone();
            for (k, v) in schema.as_object().unwrap() {
                if k != "$ref" {
                    target[k] = v.clone();
                }
            }
            target
        }
        _ => schema.clone(),
    }
}

/// Compares the serialised defaults with the schema's defaults at `path`, both directions.
fn compare_defaults(
    root: &Value,
    schema: &Value,
    serialized: &Value,
    path: &str,
    problems: &mut Vec<String>,
) {
    // `errorHandling` is the shared schema's: its per-error-type defaults are compared; the
    // generic `retry` defaults below them are the shared schema's own business.
    let shared = path.starts_with("/errorHandling");
    let props = properties(root, schema);
    let object = serialized.as_object().cloned().unwrap_or_default();
    for (key, value) in &object {
        let at = format!("{path}/{key}");
        match props.get(key) {
            None => problems.push(format!("{at}: in the struct, not in the schema")),
            Some(prop) => match prop.get("default") {
                Some(d) if same(d, value) => {}
                Some(d) => {
                    problems.push(format!("{at}: schema default {d}, serde default {value}"))
                }
                None if at == "/functionName" || at == "/errorHandling" => {}
                None => problems.push(format!("{at}: serde default {value}, no schema default")),
            },
        }
        if let Some(prop) = props.get(key)
            && prop.get("properties").is_some()
            && !shared
        {
            compare_defaults(root, prop, value, &at, problems);
        }
    }
    for (key, prop) in &props {
        let at = format!("{path}/{key}");
        if let Some(d) = prop.get("default")
            && !object.contains_key(key)
        {
            problems.push(format!(
                "{at}: schema default {d}, absent from the struct's defaults"
            ));
        }
    }
}

#[test]
fn schema_defaults_are_the_struct_defaults_in_both_directions() {
    let c = lambda();
    let defaults = serde_json::to_value(LambdaConfig::default()).unwrap();
    let mut problems = Vec::new();
    compare_defaults(&c.schema, &c.schema, &defaults, "", &mut problems);
    // An object that is absent by default (`concurrency`) is compared as the struct fills it in
    // when a config gives it empty.
    for (key, prop) in properties(&c.schema, &c.schema) {
        if prop.get("properties").is_some()
            && prop.get("default").is_none()
            && defaults.get(&key).is_none()
        {
            let given = json!({"functionName": "f", key.clone(): {}});
            let filled = serde_json::to_value(
                serde_json::from_value::<LambdaConfig>(given).expect("an empty object is valid"),
            )
            .unwrap();
            compare_defaults(
                &c.schema,
                &prop,
                &filled[&key],
                &format!("/{key}"),
                &mut problems,
            );
        }
    }
    assert!(
        problems.is_empty(),
        "schema/struct drift:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_drift_check_catches_a_changed_default() {
    let c = lambda();
    let mut defaults = serde_json::to_value(LambdaConfig::default()).unwrap();
    defaults["maxConcurrency"] = json!(99);
    defaults["connection"]["invokeTimeoutMs"] = json!(1);
    defaults["unknownField"] = json!(true);
    let mut problems = Vec::new();
    compare_defaults(&c.schema, &c.schema, &defaults, "", &mut problems);
    let text = problems.join("\n");
    assert!(text.contains("/maxConcurrency"), "{text}");
    assert!(text.contains("/connection/invokeTimeoutMs"), "{text}");
    assert!(
        text.contains("/unknownField: in the struct, not in the schema"),
        "{text}"
    );
}

#[test]
fn every_property_has_a_title_and_a_description() {
    fn walk(root: &Value, schema: &Value, path: &str, missing: &mut Vec<String>) {
        for (key, prop) in properties(root, schema) {
            let at = format!("{path}/{key}");
            for field in ["title", "description"] {
                if prop
                    .get(field)
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    // errorHandling's sub-schemas come from the shared schema, which has its own.
                    if !at.starts_with("/errorHandling/") {
                        missing.push(format!("{at} has no {field}"));
                    }
                }
            }
            if prop.get("properties").is_some() {
                walk(root, &prop, &at, missing);
            }
        }
    }
    let c = lambda();
    let mut missing = Vec::new();
    walk(&c.schema, &c.schema, "", &mut missing);
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    assert_eq!(
        c.schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[tokio::test]
async fn every_example_validates_and_builds() {
    let c = lambda();
    let examples = c.schema["examples"].as_array().expect("examples");
    assert!(examples.len() >= 5);
    for example in examples {
        check(example).unwrap_or_else(|d| panic!("{example}: {d:?}"));
        let node = LambdaConnector::from_json("lambda1", example).expect("builds");
        assert_eq!(
            node.config().function_name,
            example["functionName"].as_str().unwrap()
        );
    }
    // Property-level examples, each in a minimal config.
    fn collect(root: &Value, schema: &Value, path: &str, out: &mut Vec<(String, Value)>) {
        for (key, prop) in properties(root, schema) {
            let at = format!("{path}/{key}");
            for e in prop["examples"].as_array().into_iter().flatten() {
                out.push((at.clone(), e.clone()));
            }
            if prop.get("properties").is_some() {
                collect(root, &prop, &at, out);
            }
        }
    }
    let mut field_examples = Vec::new();
    collect(&c.schema, &c.schema, "", &mut field_examples);
    assert!(field_examples.len() >= 10, "{field_examples:?}");
    for (pointer, example) in field_examples {
        let mut config = json!({"functionName": "hello"});
        let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
        let mut slot = &mut config;
        for part in &parts[..parts.len() - 1] {
            slot = slot
                .as_object_mut()
                .unwrap()
                .entry(part.to_string())
                .or_insert_with(|| json!({}));
        }
        slot[parts[parts.len() - 1]] = example.clone();
        check(&config).unwrap_or_else(|d| panic!("{pointer} = {example}: {d:?}"));
    }
}

#[test]
fn examples_mean_what_they_say() {
    let examples = lambda().schema["examples"].as_array().unwrap().clone();
    let configs: Vec<LambdaConfig> = examples
        .iter()
        .map(|e| serde_json::from_value(e.clone()).unwrap())
        .collect();
    use lambdaflow::components::lambda::config::{InvocationKind, OutputMode, PayloadFormat};
    assert_eq!(configs[1].output_mode, OutputMode::Record);
    assert_eq!(
        configs[1].connection.role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/lambdaflow-invoker")
    );
    assert_eq!(
        configs[2].effective_invocation_type(),
        InvocationKind::Event
    );
    assert_eq!(
        configs[3].effective_invocation_type(),
        InvocationKind::DryRun
    );
    assert!(!configs[4].payload_is_json && !configs[4].preserve_order);
    assert_eq!(configs[5].payload_format, PayloadFormat::V2);
    assert_eq!(configs[5].batch.max_records, 100);
    assert_eq!(
        configs[5]
            .error_handling
            .request_processing
            .retry
            .as_ref()
            .unwrap()
            .max_attempts,
        5
    );
    assert!(configs[5].error_handling.connection.stop_service);
    assert_eq!(configs[6].output_mode, OutputMode::Merge);
    assert_eq!(configs[6].merge_at, "/enrichment/price");
    assert_eq!(
        configs[7].forward_properties,
        ["orderId", "tenant.*", "x-*"]
    );
    assert_eq!(
        configs[8].batch.response_mapping,
        lambdaflow::components::lambda::config::ResponseMapping::BatchItemFailures
    );
    assert!(configs[9].allow_overrides);
    assert_eq!(configs[9].tenant_id.as_deref(), Some("shared"));
    assert_eq!(configs[9].tenant_id_property.as_deref(), Some("tenant"));
    assert_eq!(
        configs[9].durable_execution_name_property.as_deref(),
        Some("orderId")
    );
    use lambdaflow::components::lambda::config::StreamOutput;
    assert_eq!(configs[10].invocation_type, InvocationKind::ResponseStream);
    assert_eq!(configs[10].stream_output, StreamOutput::Chunks);
    assert_eq!(configs[11].stream_output, StreamOutput::Whole);
    assert_eq!(configs[11].max_response_bytes, 104_857_600);
    assert_eq!(
        configs[12].limit(),
        lambdaflow::runtime::driver::Limit::Adaptive { min: 2, max: 100 }
    );
}

#[test]
fn stream_fields_only_with_response_stream_and_within_lambdas_limit() {
    let stream = json!({"functionName": "f", "invocationType": "ResponseStream",
        "streamOutput": "chunks", "maxResponseBytes": 209_715_200});
    assert!(check(&stream).is_ok());
    let d = check(&json!({"functionName": "f", "streamOutput": "chunks"})).unwrap_err();
    assert_eq!(pointers(&d), vec!["/config/streamOutput"]);
    let d = check(
        &json!({"functionName": "f", "invocationType": "RequestResponse",
        "maxResponseBytes": 1000}),
    )
    .unwrap_err();
    assert_eq!(pointers(&d), vec!["/config/maxResponseBytes"]);
    let d = check(
        &json!({"functionName": "f", "invocationType": "ResponseStream",
        "maxResponseBytes": 209_715_201}),
    )
    .unwrap_err();
    assert_eq!(pointers(&d), vec!["/config/maxResponseBytes"]);
    let d = check(
        &json!({"functionName": "f", "invocationType": "ResponseStream",
        "streamOutput": "lines"}),
    )
    .unwrap_err();
    assert_eq!(pointers(&d), vec!["/config/streamOutput"]);
    // Combinations a schema does not express are refused by the node's checks, naming the field.
    for (extra, pointer) in [
        (json!({"payloadFormat": "v2"}), "/config/invocationType"),
        (
            json!({"streamOutput": "chunks", "outputMode": "merge"}),
            "/config/outputMode",
        ),
        (
            json!({"durableExecutionNameProperty": "orderId"}),
            "/config/durableExecutionNameProperty",
        ),
    ] {
        let mut config = json!({"functionName": "f", "invocationType": "ResponseStream"});
        config
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let d = check(&config).unwrap_err();
        assert_eq!(pointers(&d), vec![pointer], "{config}");
        assert_eq!(d[0].node.as_deref(), Some("lambda1"));
    }
}

#[test]
fn invocation_type_is_hidden_when_async_invoke_is_on() {
    assert!(check(&json!({"functionName": "f", "invocationType": "Event"})).is_ok());
    assert!(
        check(&json!({"functionName": "f", "asyncInvoke": false, "invocationType": "DryRun"}))
            .is_ok()
    );
    assert!(check(&json!({"functionName": "f", "asyncInvoke": true})).is_ok());
    let d = check(&json!({"functionName": "f", "asyncInvoke": true, "invocationType": "Event"}))
        .unwrap_err();
    assert_eq!(pointers(&d), vec!["/config/invocationType"]);
    assert_eq!(d[0].node.as_deref(), Some("lambda1"));
    let d = check(&json!({"functionName": "f", "invocationType": "Sometimes"})).unwrap_err();
    assert_eq!(pointers(&d), vec!["/config/invocationType"]);
}

#[test]
fn batch_fields_only_with_payload_format_v2() {
    let batch = json!({"maxRecords": 5, "maxBytes": 1000, "maxWaitMs": 10});
    assert!(check(&json!({"functionName": "f", "payloadFormat": "v2", "batch": batch, "metadataFields": ["messageId"]})).is_ok());
    let d = check(&json!({"functionName": "f", "batch": batch})).unwrap_err();
    assert_eq!(pointers(&d), vec!["/config/batch"]);
    let d = check(&json!({"functionName": "f", "payloadFormat": "message", "metadataFields": []}))
        .unwrap_err();
    assert_eq!(pointers(&d), vec!["/config/metadataFields"]);
    let d = check(&json!({"functionName": "f", "payloadFormat": "v2", "batch": {"maxRecords": 0}}))
        .unwrap_err();
    assert_eq!(pointers(&d), vec!["/config/batch/maxRecords"]);
}

#[test]
fn configuration_errors_name_the_node_and_the_field() {
    let cases = [
        (json!({}), "/config/functionName"),
        (
            json!({"functionName": "f", "responseCharset": "klingon-8"}),
            "/config/responseCharset",
        ),
        // WHATWG maps these to the `replacement` encoding, which decodes nothing; accepting
        // them once panicked the node at start.
        (
            json!({"functionName": "f", "responseCharset": "iso-2022-kr"}),
            "/config/responseCharset",
        ),
        (
            json!({"functionName": "f", "responseCharset": "hz-gb-2312"}),
            "/config/responseCharset",
        ),
        (
            json!({"functionName": "f", "connection": {"accessKey": "AKID"}}),
            "/config/connection/secretKey",
        ),
        (
            json!({"functionName": "f", "connection": {"endpointUrl": "localhost:9000"}}),
            "/config/connection/endpointUrl",
        ),
        (json!({"functionName": "has space"}), "/config/functionName"),
        (
            json!({"functionName": "f", "qualifier": "bad qualifier"}),
            "/config/qualifier",
        ),
        (
            json!({"functionName": "f:PROD", "qualifier": "DEV"}),
            "/config/qualifier",
        ),
        (
            json!({"functionName": "f", "maxConcurrency": 0}),
            "/config/maxConcurrency",
        ),
        (
            json!({"functionName": "f", "clientContext": {"custom": {"k": "x".repeat(3000)}}}),
            "/config/clientContext",
        ),
        // tenantId is a property now (issue 14): a value Lambda refuses names it.
        (
            json!({"functionName": "f", "tenantId": "not valid!"}),
            "/config/tenantId",
        ),
        (
            json!({"functionName": "f", "tenantIdProperty": ""}),
            "/config/tenantIdProperty",
        ),
        // A v2 batch is one execution for many messages.
        (
            json!({"functionName": "f", "payloadFormat": "v2",
                   "durableExecutionNameProperty": "orderId"}),
            "/config/durableExecutionNameProperty",
        ),
        (
            json!({"functionName": "f", "allowOverrides": "yes"}),
            "/config/allowOverrides",
        ),
        (
            json!({"functionName": "f", "outputMode": "merge", "mergeAt": "lambda"}),
            "/config/mergeAt",
        ),
        (
            json!({"functionName": "f", "forwardProperties": ["a*b"]}),
            "/config/forwardProperties/0",
        ),
        // v2 records carry their properties themselves.
        (
            json!({"functionName": "f", "payloadFormat": "v2", "forwardProperties": ["a"]}),
            "/config/forwardProperties",
        ),
        // Lambda drops the client context of asynchronous calls.
        (
            json!({"functionName": "f", "asyncInvoke": true, "forwardProperties": ["a"]}),
            "/config/forwardProperties",
        ),
        (
            json!({"functionName": "f", "payloadFormat": "v2",
                   "batch": {"responseMapping": "everything"}}),
            "/config/batch/responseMapping",
        ),
        (
            json!({"functionName": "f", "payloadFormat": "v2", "metadataFields": ["properties"],
                   "batch": {"responseMapping": "batchItemFailures"}}),
            "/config/batch/responseMapping",
        ),
        // mergeAt belongs to outputMode merge.
        (
            json!({"functionName": "f", "mergeAt": "/lambda"}),
            "/config/mergeAt",
        ),
    ];
    for (config, pointer) in cases {
        let d = check(&config).expect_err(&config.to_string());
        assert_eq!(pointers(&d), vec![pointer], "{config}");
        assert_eq!(d[0].node.as_deref(), Some("lambda1"));
    }
}

#[test]
fn an_unknown_charset_fails_flow_validation() {
    let flow = json!({
        "id": "bad-charset", "name": "bad charset",
        "nodes": [
            {"id": "feeder1", "type": "feeder", "name": "Feeder", "position": {"x": 0, "y": 0}, "config": {}},
            {"id": "lambda1", "type": "lambda", "name": "LambdaConnector", "position": {"x": 1, "y": 0},
             "config": {"functionName": "hello", "responseCharset": "no-such-charset"}}
        ],
        "edges": [{"id": "route1", "from": {"node": "feeder1", "port": "out"}, "to": {"node": "lambda1", "port": "in"}}]
    });
    let d = registry().validate_value(&flow).unwrap_err();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].node.as_deref(), Some("lambda1"));
    assert_eq!(d[0].pointer, "/nodes/1/config/responseCharset");
    // The message names the rule, never the value (issue 10: no value is echoed).
    assert!(d[0].message.contains("charset label"), "{d:?}");
    assert!(!d[0].message.contains("no-such-charset"), "{d:?}");
}

#[test]
fn secrets_are_write_only_with_a_password_widget() {
    let c = lambda();
    assert_eq!(
        write_only_pointers(&c.schema),
        vec!["/connection/secretKey", "/connection/sessionToken"]
    );
    let ui = &c.ui_schema;
    assert_eq!(ui["connection"]["secretKey"]["ui:widget"], "password");
    assert_eq!(ui["connection"]["sessionToken"]["ui:widget"], "password");
    assert_eq!(ui["functionName"]["ui:widget"], "lambdaFunction");
    assert_eq!(ui["qualifier"]["ui:widget"], "lambdaQualifier");
}

#[test]
fn ui_order_names_every_property_and_only_properties() {
    let c = lambda();
    let props = properties(&c.schema, &c.schema);
    let order: Vec<&str> = c.ui_schema["ui:order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(order.last(), Some(&"*"));
    for name in &order[..order.len() - 1] {
        assert!(
            props.contains_key(*name),
            "ui:order names unknown field {name}"
        );
    }
    for name in props.keys() {
        assert!(order.contains(&name.as_str()), "ui:order misses {name}");
    }
    for nested in ["connection", "batch"] {
        let nested_props = properties(&c.schema, &props[nested]);
        for name in c.ui_schema[nested]["ui:order"].as_array().unwrap() {
            let name = name.as_str().unwrap();
            assert!(
                name == "*" || nested_props.contains_key(name),
                "{nested}: {name}"
            );
        }
    }
}

#[test]
fn the_registry_lists_the_connector_with_its_ports() {
    let spec = &lambda().descriptor;
    assert_eq!(spec.title, "LambdaConnector");
    assert_eq!(spec.inputs, ["in"]);
    assert_eq!(spec.outputs, ["out", "error"]);
    assert!(!spec.capabilities.accepts_send);
    assert!(spec.capabilities.invokes);
    assert_eq!(
        lambda().schema["properties"]["errorHandling"]["$ref"],
        "#/$defs/errorHandling",
        "the shared error-handling schema is bundled"
    );
}

#[test]
fn every_property_is_in_exactly_one_group_of_the_sheet() {
    let c = lambda();
    let groups = c.ui_schema["ui:options"]["groups"].as_array().unwrap();
    for name in properties(&c.schema, &c.schema).keys() {
        let homes = groups
            .iter()
            .filter(|g| {
                g["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f.as_str() == Some(name.as_str()))
            })
            .count();
        assert_eq!(homes, 1, "{name} is in {homes} groups of ui:options");
    }
}

/// The README's LambdaConnector section (up to the next top-level section).
fn readme_section() -> &'static str {
    let readme = include_str!("../README.md");
    let from = readme
        .find("## LambdaConnector (`lambda`)")
        .expect("section");
    let to = readme[from..]
        .find("\n## Error handling")
        .expect("next section")
        + from;
    &readme[from..to]
}

#[test]
fn the_readme_documents_every_property_with_its_default() {
    let c = lambda();
    let section = readme_section();
    // The table row of a property: "| `name` | default | meaning |".
    let row = |name: &str| {
        section
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .map(str::to_owned)
    };
    let mut problems = Vec::new();
    let mut check = |name: String, prop: &Value| {
        let Some(line) = row(&name) else {
            problems.push(format!("{name}: no row in the README's property tables"));
            return;
        };
        let shown: String = line
            .split('|')
            .nth(2)
            .unwrap_or_default()
            .chars()
            .filter(|ch| !ch.is_whitespace() && *ch != '`')
            .collect();
        let expected = match prop.get("default") {
            None | Some(Value::Object(_)) => return,
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        if shown != expected {
            problems.push(format!("{name}: README default {shown}, schema {expected}"));
        }
    };
    for (name, prop) in properties(&c.schema, &c.schema) {
        match name.as_str() {
            "errorHandling" => {}
            "connection" => {
                for (key, sub) in properties(&c.schema, &prop) {
                    check(key, &sub);
                }
            }
            "batch" | "requestSizeLimits" => {
                for (key, sub) in properties(&c.schema, &prop) {
                    check(format!("{name}.{key}"), &sub);
                }
            }
            _ => check(name, &prop),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
