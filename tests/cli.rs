//! The `lambdaflow` binary: `run`, `validate` and `components`, as a user at a shell sees them.

use std::path::Path;
use std::process::{Command, Output};

use lambdaflow::components::registry;
use lambdaflow::message::Message;

fn lambdaflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lambdaflow"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LAMBDAFLOW_LOG", "warn")
        .output()
        .expect("lambdaflow runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn run_prints_each_display_message_as_one_json_line() {
    let out = lambdaflow(&["run", "flows/feeder-display.json"]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let messages: Vec<Message> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a message line {l:?}: {e}"))
        })
        .collect();
    let bodies: Vec<&str> = messages.iter().map(|m| m.body_text().unwrap()).collect();
    assert_eq!(
        bodies,
        [
            "{\"name\": \"World\"}",
            "{\"name\": \"Fiorano\"}",
            "plain text is fine too"
        ]
    );
    assert_eq!(messages[0].properties["orderId"], 1);
    assert_eq!(messages[2].content_type.as_deref(), Some("text/plain"));
}

#[test]
fn run_quiet_prints_nothing_and_run_count_prints_one_line_per_display() {
    let quiet = lambdaflow(&["run", "--quiet", "flows/feeder-display.json"]);
    assert!(quiet.status.success(), "stderr: {}", text(&quiet.stderr));
    assert_eq!(text(&quiet.stdout), "");

    let count = lambdaflow(&["run", "--count", "flows/feeder-display.json"]);
    assert!(count.status.success(), "stderr: {}", text(&count.stderr));
    let lines: Vec<serde_json::Value> = text(&count.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [serde_json::json!({"node": "display1", "received": 3})]
    );
}

#[test]
fn run_prints_every_message_of_a_long_run_once_and_in_order() {
    // More lines than one buffer holds: buffered printing loses, splits and reorders none.
    let dir = tempfile::tempdir().unwrap();
    let flow = serde_json::json!({
        "id": "many",
        "nodes": [
            {"id": "feeder1", "type": "feeder", "config": {
                "messages": [{"body": "{\"n\": 1}", "contentType": "application/json"}],
                "sendOnStart": true, "repeat": 5000}},
            {"id": "display1", "type": "display", "config": {"maxMessages": 1}}
        ],
        "edges": [{"id": "r1", "from": {"node": "feeder1", "port": "out"},
                   "to": {"node": "display1", "port": "in"}}]
    });
    let path = dir.path().join("many.json");
    std::fs::write(&path, flow.to_string()).unwrap();
    let out = lambdaflow(&["run", path.to_str().unwrap()]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let messages: Vec<Message> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    assert_eq!(messages.len(), 5000);
    let ids: Vec<String> = messages.iter().map(|m| m.id.to_string()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids in sending order");
}

#[test]
fn validate_accepts_the_demo_flows() {
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("flows")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue; // the server keeps its credential key beside the flows
        }
        let out = lambdaflow(&["validate", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("valid flow"));
    }
}

#[test]
fn validate_prints_every_error_with_node_and_pointer_and_fails() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if !name.starts_with("invalid-") {
            continue;
        }
        let expected = registry()
            .parse_flow(&std::fs::read_to_string(&path).unwrap())
            .unwrap_err();
        let out = lambdaflow(&["validate", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = text(&out.stderr);
        for d in &expected {
            assert!(
                stderr.contains(&d.to_string()),
                "{name}: missing {d} in\n{stderr}"
            );
            if let Some(node) = &d.node {
                assert!(
                    stderr.contains(&format!("{node}: {}", d.pointer)),
                    "{name}: {stderr}"
                );
            }
        }
        assert!(
            stderr.contains(&format!("{} error(s)", expected.len())),
            "{stderr}"
        );
    }
}

#[test]
fn run_refuses_an_invalid_flow_without_starting_it() {
    let out = lambdaflow(&["run", "tests/fixtures/flows/invalid-config-schema.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing ran");
    assert!(text(&out.stderr).contains("display1: /nodes/1/config/maxMessages"));
}

#[test]
fn run_stops_at_the_timeout_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("endless.json");
    std::fs::write(
        &flow,
        r#"{"id": "endless", "nodes": [
            {"id": "f", "type": "feeder", "config": {"sendOnStart": true, "repeat": 1000000, "intervalMs": 200}},
            {"id": "d", "type": "display"}],
           "edges": [{"id": "e", "from": {"node": "f", "port": "out"}, "to": {"node": "d", "port": "in"}}]}"#,
    )
    .unwrap();
    let out = lambdaflow(&["run", flow.to_str().unwrap(), "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("timed out after 1s"));
    assert!(
        !out.stdout.is_empty(),
        "the Display printed what arrived before the timeout"
    );
}

#[test]
fn missing_file_is_reported_by_name() {
    let out = lambdaflow(&["validate", "no/such/flow.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no/such/flow.json"));
}

#[test]
fn components_lists_types_with_ports() {
    let out = lambdaflow(&["components"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let feeder = stdout.lines().find(|l| l.starts_with("feeder")).unwrap();
    assert!(feeder.contains(" - ") && feeder.contains("out"), "{feeder}");
    let display = stdout.lines().find(|l| l.starts_with("display")).unwrap();
    assert!(
        display.contains("in") && display.contains("out"),
        "{display}"
    );
    let json = lambdaflow(&["components", "--json"]);
    let all: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(all.as_array().unwrap().iter().any(|c| c["type"] == "display" && c["schema"]["properties"]["maxMessages"].is_object()));
}
