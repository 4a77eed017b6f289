//! Flow validation against the fixtures in `tests/fixtures/flows`: each invalid fixture must be
//! refused with an error naming the right node (or edge) id and JSON pointer (Dora's habit).

use std::path::{Path, PathBuf};

use lambdaflow::components::registry;
use lambdaflow::flow::Diagnostic;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows")
}

/// (fixture, node or edge id, pointer, words the message must contain)
const INVALID: &[(&str, Option<&str>, &str, &str)] = &[
    ("invalid-malformed-json", None, "", "line 5 column 5"),
    ("invalid-flow-id", None, "/id", "does not match"),
    (
        "invalid-missing-edges",
        None,
        "/edges",
        "\"edges\" is required",
    ),
    (
        "invalid-duplicate-node-id",
        Some("display1"),
        "/nodes/2/id",
        "duplicate node id",
    ),
    (
        "invalid-unknown-type",
        Some("display1"),
        "/nodes/1/type",
        "unknown component type (known: ",
    ),
    (
        "invalid-edge-unknown-node",
        Some("route1"),
        "/edges/0/from/node",
        "not a node of this flow",
    ),
    (
        "invalid-edge-from-input",
        Some("route1"),
        "/edges/0/from/port",
        "is an input",
    ),
    (
        "invalid-edge-into-output",
        Some("route1"),
        "/edges/0/to/port",
        "is an output",
    ),
    (
        "invalid-unknown-port-name",
        Some("route1"),
        "/edges/0/from/port",
        "port",
    ),
    (
        "invalid-port-not-on-component",
        Some("route2"),
        "/edges/1/from/port",
        "has no such port",
    ),
    (
        "invalid-config-schema",
        Some("display1"),
        "/nodes/1/config/maxMessages",
        "maxMessages",
    ),
    (
        "invalid-config-unknown-field",
        Some("display1"),
        "/nodes/1/config/maxMessage",
        "unknown field \"maxMessage\"",
    ),
    (
        "invalid-config-missing-required",
        Some("feeder1"),
        "/nodes/0/config/messages/0/body",
        "\"body\" is required",
    ),
    (
        "invalid-feeder-bad-base64",
        Some("feeder1"),
        "/nodes/0/config/messages/0/body",
        "base64",
    ),
    (
        "invalid-duplicate-route",
        Some("route2"),
        "/edges/1",
        "same route",
    ),
    (
        "invalid-cycle-self-loop",
        Some("loop1"),
        "/edges/1",
        "cycles are not allowed",
    ),
    (
        "invalid-cycle-three-nodes",
        Some("back1"),
        "/edges/3",
        "route2 -> route3 -> back1",
    ),
];

/// The cycle fixtures: every edge on the cycle is named, with its pointer; the edge leading
/// into the cycle is not.
const CYCLES: &[(&str, &[(&str, &str)])] = &[
    ("invalid-cycle-self-loop", &[("loop1", "/edges/1")]),
    (
        "invalid-cycle-three-nodes",
        &[
            ("route2", "/edges/1"),
            ("route3", "/edges/2"),
            ("back1", "/edges/3"),
        ],
    ),
];

fn errors_of(name: &str) -> Vec<Diagnostic> {
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.json"))).unwrap();
    registry().parse_flow(&text).expect_err(name)
}

#[test]
fn each_invalid_fixture_names_its_node_and_pointer() {
    for (name, node, pointer, words) in INVALID {
        let errors = errors_of(name);
        let hit = errors.iter().find(|d| d.pointer == *pointer);
        let Some(d) = hit else {
            panic!("{name}: no error at pointer {pointer:?}; got {errors:#?}");
        };
        assert_eq!(d.node.as_deref(), *node, "{name}: wrong node in {d:?}");
        assert!(
            d.message.contains(words),
            "{name}: {:?} lacks {words:?}",
            d.message
        );
    }
}

#[test]
fn every_fixture_is_in_the_table_and_valid_ones_pass() {
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        if stem.starts_with("valid-") {
            let flow = registry()
                .parse_flow(&text)
                .unwrap_or_else(|e| panic!("{stem}: {e:#?}"));
            assert!(!flow.id.is_empty());
        } else {
            assert!(
                INVALID.iter().any(|(n, ..)| *n == stem),
                "fixture {stem} has no expectation in the table"
            );
        }
    }
}

#[test]
fn all_errors_are_reported_not_just_the_first() {
    let text = r#"{"id": "many", "nodes": [
        {"id": "d1", "type": "display", "config": {"maxMessages": -1, "colour": "red"}},
        {"id": "x1", "type": "nope"}],
      "edges": [{"id": "e1", "from": {"node": "ghost", "port": "out"}, "to": {"node": "d1", "port": "in"}}]}"#;
    let errors = registry().parse_flow(text).unwrap_err();
    let pointers: Vec<&str> = errors.iter().map(|d| d.pointer.as_str()).collect();
    for p in [
        "/nodes/1/type",
        "/edges/0/from/node",
        "/nodes/0/config/maxMessages",
        "/nodes/0/config/colour",
    ] {
        assert!(pointers.contains(&p), "{p} missing from {pointers:?}");
    }
}

#[test]
fn schema_errors_never_echo_the_offending_value() {
    // A secret pasted into the wrong field must not come back in an error message.
    let text = r#"{"id": "leak", "nodes": [{"id": "d1", "type": "display",
        "config": {"maxMessages": "AKIASECRETVALUE123"}}], "edges": []}"#;
    let errors = registry().parse_flow(text).unwrap_err();
    assert_eq!(errors[0].pointer, "/nodes/0/config/maxMessages");
    for d in &errors {
        assert!(!d.message.contains("AKIASECRETVALUE123"), "{d:?}");
    }
}

#[test]
fn defaults_are_applied_and_pretty_output_is_stable() {
    let text = std::fs::read_to_string(fixtures().join("valid-feeder-display.json")).unwrap();
    let flow = registry().parse_flow(&text).unwrap();
    let once = flow.to_pretty_json();
    let again = registry().parse_flow(&once).unwrap().to_pretty_json();
    assert_eq!(once, again, "writing is stable");
    assert!(
        once.starts_with("{\n  \"id\": \"fixture\""),
        "id comes first: {once}"
    );
    assert!(once.ends_with("}\n"));
}

#[test]
fn cycles_are_refused_naming_every_edge_on_them() {
    for (name, on_cycle) in CYCLES {
        let errors = errors_of(name);
        let named: Vec<(&str, &str)> = errors
            .iter()
            .map(|d| (d.node.as_deref().unwrap_or_default(), d.pointer.as_str()))
            .collect();
        assert_eq!(&named, on_cycle, "{name}: {errors:#?}");
        for d in &errors {
            assert!(d.message.contains("cycle"), "{name}: {d:?}");
        }
    }
}

#[test]
fn lambdaflow_validate_refuses_cycles_and_lists_their_edges() {
    for (name, on_cycle) in CYCLES {
        let path = fixtures().join(format!("{name}.json"));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lambdaflow"))
            .arg("validate")
            .arg(&path)
            .output()
            .expect("lambdaflow validate runs");
        assert!(!out.status.success(), "{name} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let text = format!("{stdout}{stderr}");
        for (edge, pointer) in *on_cycle {
            assert!(
                text.contains(&format!("{edge}: {pointer}: ")),
                "{name}: {edge} at {pointer} not listed in:\n{text}"
            );
        }
        assert!(
            !text.contains("route1: "),
            "{name}: the way in is no cycle:\n{text}"
        );
    }
}
