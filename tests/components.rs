//! Feeder and Display through the component harness (send, `out()`, `error()`, `stop()`), and
//! the contract between each schema in `component-schema/` and its config struct.

use std::time::Duration;

use lambdaflow::components::display::DisplayConfig;
use lambdaflow::components::feeder::{FeederConfig, FeederType};
use lambdaflow::components::registry;
use lambdaflow::flow::registry::ERROR_HANDLING_SCHEMA;
use lambdaflow::message::Message;
use lambdaflow::runtime::{ComponentType, ErrorHandling, Harness, NodeId, NodeState, RunMode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn display_forwards_every_message_unchanged_and_keeps_the_last_n() {
    let plan = registry()
        .plan_node("t", "display", "display1", &json!({"maxMessages": 2}))
        .unwrap();
    let mut h = Harness::start(&plan).unwrap();
    let sent: Vec<Message> = (0..5)
        .map(|i| Message::new(format!("m{i}")).with_property("i", i))
        .collect();
    for m in &sent {
        h.send(m.clone()).await.unwrap();
    }
    for m in &sent {
        assert_eq!(
            &h.out(WAIT).await.unwrap(),
            m,
            "forwarded unchanged, in order"
        );
    }
    let collected = h.stop(WAIT).await;
    assert!(collected.error.is_empty());
    assert_eq!(collected.status.received, 5);
    assert_eq!(collected.status.emitted, 5);
    assert_eq!(collected.status.state, NodeState::Stopped);
}

#[tokio::test]
async fn display_history_is_bounded_oldest_dropped() {
    let flow = registry().parse_plan(
        r#"{"id": "hist", "nodes": [
            {"id": "f", "type": "feeder", "config": {"sendOnStart": true, "repeat": 25,
              "messages": [{"body": "x"}]}},
            {"id": "d", "type": "display", "config": {"maxMessages": 3}}],
           "edges": [{"id": "e", "from": {"node": "f", "port": "out"}, "to": {"node": "d", "port": "in"}}]}"#,
    )
    .unwrap();
    let mut opts = lambdaflow::runtime::RunOptions::batch();
    opts.print_displays = false;
    let h = lambdaflow::runtime::start(&flow, opts).unwrap();
    h.wait().await;
    let (kept, total) = h.messages("d").unwrap();
    assert_eq!((kept.len(), total), (3, 25));
    let (sent, sent_total) = h.messages("f").unwrap();
    assert_eq!(
        (sent.len(), sent_total),
        (10, 25),
        "feeder history defaults to 10"
    );
    assert_eq!(sent.last().unwrap().id, kept.last().unwrap().id);
}

#[tokio::test]
async fn feeder_sends_its_configured_messages_n_times_with_properties() {
    let config = json!({"sendOnStart": true, "repeat": 2, "intervalMs": 1, "messages": [
        {"body": "{\"name\": \"World\"}", "contentType": "application/json", "properties": {"orderId": 42}},
        {"body": "/w==", "bodyEncoding": "base64"}]});
    let cfg: FeederConfig = serde_json::from_value(config.clone()).unwrap();
    let component = FeederType.build(&NodeId::new("feeder1"), &cfg).unwrap();
    let mut h = Harness::with_component_in("feeder", "feeder1", component, RunMode::Batch);
    let mut out = Vec::new();
    while let Some(m) = h.out(WAIT).await {
        out.push(m);
        if out.len() == 4 {
            break;
        }
    }
    let collected = h.stop(WAIT).await;
    assert!(
        collected.out.is_empty(),
        "nothing beyond the configured sends"
    );
    assert_eq!(collected.status.emitted, 4);
    let collected = lambdaflow::runtime::harness::Collected { out, ..collected };
    assert_eq!(cfg.repeat, 2);
    let bodies: Vec<&[u8]> = collected.out.iter().map(|m| &m.body[..]).collect();
    assert_eq!(
        bodies,
        [
            &b"{\"name\": \"World\"}"[..],
            &[0xff],
            &b"{\"name\": \"World\"}"[..],
            &[0xff]
        ]
    );
    assert_eq!(collected.out[0].properties["orderId"], 42);
    assert_eq!(
        collected.out[0].content_type.as_deref(),
        Some("application/json")
    );
    let ids: std::collections::HashSet<_> = collected.out.iter().map(|m| &m.id).collect();
    assert_eq!(ids.len(), 4, "each send is a new message");
}

#[test]
fn error_handling_schema_defaults_match_the_struct() {
    let schema: Value = serde_json::from_str(ERROR_HANDLING_SCHEMA).unwrap();
    let defaults: Map<String, Value> = schema["properties"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["default"].clone()))
        .collect();
    let ours = serde_json::to_value(ErrorHandling::default()).unwrap();
    assert_eq!(
        normalise_numbers(Value::Object(defaults)),
        normalise_numbers(ours)
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&serde_json::to_value(ErrorHandling::default()).unwrap()));
}

/// Serialises `T::default()`: it must validate against the component's schema (so the struct
/// has no field the schema lacks) and equal the schema's defaults; every schema example must
/// validate and deserialise (so the schema has no field the struct lacks).
fn assert_schema_matches<T: Default + Serialize + DeserializeOwned>(type_name: &str) {
    let compiled = registry().get(type_name).unwrap();
    let ours = serde_json::to_value(T::default()).unwrap();
    let errors: Vec<String> = compiled
        .validator
        .iter_errors(&ours)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{type_name}: defaults violate the schema: {errors:?}"
    );
    let props = compiled.schema["properties"].as_object().unwrap();
    let ours_obj = ours.as_object().unwrap();
    for (name, prop) in props {
        let Some(default) = prop.get("default") else {
            continue;
        };
        assert_eq!(
            normalise_numbers(ours_obj[name].clone()),
            normalise_numbers(default.clone()),
            "{type_name}: default of {name} differs between schema and struct"
        );
    }
    for key in ours_obj.keys() {
        assert!(
            props.contains_key(key),
            "{type_name}: struct field {key} missing from schema"
        );
    }
    let examples = compiled.schema["examples"]
        .as_array()
        .expect("schema has examples");
    assert!(!examples.is_empty());
    for example in examples {
        assert!(
            compiled.validator.is_valid(example),
            "{type_name}: example {example} invalid"
        );
        serde_json::from_value::<T>(example.clone())
            .unwrap_or_else(|e| panic!("{type_name}: example {example} does not deserialise: {e}"));
    }
}

/// 2 and 2.0 are the same default.
fn normalise_numbers(v: Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.into_iter().map(normalise_numbers).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, normalise_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn feeder_schema_and_struct_agree() {
    assert_schema_matches::<FeederConfig>("feeder");
}

#[test]
fn display_schema_and_struct_agree() {
    assert_schema_matches::<DisplayConfig>("display");
}

#[test]
fn every_component_has_descriptions_a_user_can_read() {
    for c in registry().iter() {
        for (name, prop) in c.schema["properties"].as_object().unwrap() {
            let d = prop["description"].as_str().unwrap_or("");
            assert!(
                d.len() > 10,
                "{}.{name} lacks a description",
                c.descriptor.type_name
            );
        }
    }
}
