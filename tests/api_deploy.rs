//! The designer's server side: Deploy (`/api/flows/{id}/deploy`) applies the saved version to
//! the run and reports which version runs; the Test button's records name the flow and node
//! being edited.

use std::path::Path;

use actix_web::http::StatusCode;
use actix_web::{test, web};
use lambdaflow::api::{AppState, Settings, app};
use serde_json::{Value, json};

fn state(dir: &Path) -> web::Data<AppState> {
    web::Data::new(
        AppState::open(
            dir,
            Some("deploy-test secret"),
            Settings::default(),
            tokio::runtime::Handle::current(),
        )
        .expect("state opens"),
    )
}

macro_rules! call {
    ($srv:expr, $req:expr) => {{
        let res = test::call_service(&$srv, $req.to_request()).await;
        let status = res.status();
        let bytes = test::read_body(res).await;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body)
    }};
}

fn flow(displays: usize) -> Value {
    let mut nodes = vec![json!({"id": "feeder1", "type": "feeder", "name": "Feeder",
        "position": {"x": 0, "y": 0}, "config": {}})];
    let mut edges = vec![];
    for i in 1..=displays {
        nodes.push(
            json!({"id": format!("display{i}"), "type": "display", "name": "Display",
            "position": {"x": 200, "y": 0}, "config": {}}),
        );
        edges.push(
            json!({"id": format!("route{i}"), "from": {"node": "feeder1", "port": "out"},
            "to": {"node": format!("display{i}"), "port": "in"}}),
        );
    }
    json!({"id": "demo", "name": "Deploy demo", "nodes": nodes, "edges": edges})
}

fn put(body: &Value) -> test::TestRequest {
    test::TestRequest::put()
        .uri("/api/flows/demo")
        .set_json(body)
}

fn post(uri: &str, body: &Value) -> test::TestRequest {
    test::TestRequest::post().uri(uri).set_json(body)
}

#[actix_web::test]
async fn deploy_starts_the_saved_version_and_restarts_a_run_of_an_older_one() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path()))).await;
    let (status, saved) = call!(srv, put(&flow(1)));
    assert_eq!(status, StatusCode::CREATED);

    // Never deployed: no version runs.
    let (status, deployed) = call!(srv, test::TestRequest::get().uri("/api/flows/demo/deploy"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deployed,
        json!({"running": false, "rev": null, "flow": null})
    );

    // A stopped flow is started.
    let (status, first) = call!(srv, post("/api/flows/demo/deploy", &json!({})));
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["restarted"], false);
    assert_eq!(first["status"]["state"], "running");
    assert_eq!(first["rev"], saved["rev"]);

    // Deploying the same version again leaves the run alone.
    let (_, again) = call!(srv, post("/api/flows/demo/deploy", &json!({})));
    assert_eq!(again["unchanged"], true, "{again}");
    assert_eq!(again["restarted"], false);

    // Saving a change does not touch the run; deploying it does.
    let (status, changed) = call!(srv, put(&flow(2)));
    assert_eq!(status, StatusCode::OK, "{changed}");
    let (_, before) = call!(srv, test::TestRequest::get().uri("/api/flows/demo/status"));
    assert!(before["nodes"].get("display2").is_none(), "{before}");
    let (_, deployed) = call!(srv, test::TestRequest::get().uri("/api/flows/demo/deploy"));
    assert_eq!(
        deployed["rev"], saved["rev"],
        "the run is still the first version"
    );
    assert_eq!(deployed["flow"]["nodes"].as_array().unwrap().len(), 2);

    let (status, second) = call!(srv, post("/api/flows/demo/deploy", &json!({})));
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["restarted"], true);
    assert_eq!(second["rev"], changed["rev"]);
    assert_eq!(second["status"]["state"], "running");
    assert!(
        second["status"]["nodes"].get("display2").is_some(),
        "{second}"
    );
    let (_, deployed) = call!(srv, test::TestRequest::get().uri("/api/flows/demo/deploy"));
    assert_eq!(deployed["running"], true);
    assert_eq!(deployed["rev"], changed["rev"]);
    assert_eq!(deployed["flow"]["nodes"].as_array().unwrap().len(), 3);

    // The new run works: a send reaches the new Display.
    let (status, _) = call!(
        srv,
        post("/api/flows/demo/nodes/feeder1/send", &json!({"body": "hi"}))
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, got) = call!(
            srv,
            test::TestRequest::get().uri("/api/flows/demo/nodes/display2/messages")
        );
        if got["total"] == 1 {
            assert_eq!(got["messages"][0]["body"], "hi");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "display2 got nothing: {got}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let (status, _) = call!(srv, post("/api/flows/demo/stop", &json!({})));
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call!(
        srv,
        test::TestRequest::get().uri("/api/flows/nonesuch/deploy")
    );
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn test_records_name_the_flow_and_node_being_edited_even_before_a_save() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path()))).await;
    call!(srv, put(&flow(1)));
    let config = json!({"functionName": "hello",
        "connection": {"region": "us-east-1", "endpointUrl": "http://127.0.0.1:9",
                       "accessKey": "AKIDEXAMPLE", "secretKey": "x", "connectTimeoutMs": 1000},
        "errorHandling": {"connection": {"retry": {"enabled": false}}}});
    // lambda7 is not saved yet (the stored flow has no such node).
    let (status, body) = call!(
        srv,
        post(
            "/api/components/lambda/test",
            &json!({"config": config, "message": {"body": "{}"}, "flow": "demo", "node": "lambda7"})
        )
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let record: Value =
        serde_json::from_str(body["error"][0]["body"].as_str().expect("an error record")).unwrap();
    assert_eq!(record["component"]["flow"], "demo", "{record}");
    assert_eq!(record["component"]["node"], "lambda7", "{record}");
    assert!(!body.to_string().contains("harness"), "{body}");
}

#[actix_web::test]
async fn after_a_restart_the_event_stream_never_says_stopped_once_the_new_run_said_running() {
    use lambdaflow::runtime::{FlowEvent, FlowState};
    let dir = tempfile::tempdir().unwrap();
    let data = state(dir.path());
    let srv = test::init_service(app(data.clone())).await;
    call!(srv, put(&flow(1)));
    call!(srv, post("/api/flows/demo/deploy", &json!({})));
    for round in 0..5 {
        call!(srv, put(&flow(1 + (round % 2) + 1)));
        let mut events = data.runner.subscribe("demo");
        let (status, body) = call!(srv, post("/api/flows/demo/deploy", &json!({})));
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["restarted"], true);
        // A message of the new run marks a point after its start on the stream.
        call!(
            srv,
            post(
                "/api/flows/demo/nodes/feeder1/send",
                &json!({"body": "mark"})
            )
        );
        let mut running = false;
        loop {
            let event = tokio::time::timeout(std::time::Duration::from_secs(30), events.recv())
                .await
                .expect("events keep coming")
                .expect("the hub is open");
            match event {
                FlowEvent::Flow {
                    state: FlowState::Running,
                    ..
                } => running = true,
                FlowEvent::Flow {
                    state: FlowState::Stopped,
                    ..
                } => {
                    assert!(
                        !running,
                        "round {round}: stopped after the new run said running"
                    )
                }
                FlowEvent::Message { .. } if running => break,
                _ => {}
            }
        }
    }
}

/// Waits until `display`'s messages say `total` (`total` counts all, kept or not).
macro_rules! wait_total {
    ($srv:expr, $display:expr, $total:expr) => {{
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let uri = format!("/api/flows/demo/nodes/{}/messages", $display);
            let (_, got) = call!($srv, test::TestRequest::get().uri(&uri));
            if got["total"] == $total {
                break got;
            }
            assert!(std::time::Instant::now() < deadline, "{}: {got}", $display);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }};
}

#[actix_web::test]
async fn deploy_redeploys_only_the_nodes_whose_config_changed() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path()))).await;
    let mut doc = flow(1);
    call!(srv, put(&doc));
    let (status, _) = call!(srv, post("/api/flows/demo/deploy", &json!({})));
    assert_eq!(status, StatusCode::OK);
    let send = |body: Value| post("/api/flows/demo/nodes/feeder1/send", &body);
    for i in 0..3 {
        let (status, _) = call!(srv, send(json!({"body": format!("m{i}")})));
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    wait_total!(srv, "display1", 3);

    // Only the Display's config changes: only the Display is redeployed.
    doc["nodes"][1]["config"] = json!({"maxMessages": 2});
    let (status, saved) = call!(srv, put(&doc));
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (status, body) = call!(srv, post("/api/flows/demo/deploy", &json!({})));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["restarted"], false, "{body}");
    assert_eq!(body["redeployed"], json!(["display1"]), "{body}");
    assert_eq!(body["rev"], saved["rev"]);
    // The Feeder ran on: its counter was not reset.
    assert_eq!(body["status"]["nodes"]["feeder1"]["emitted"], 3, "{body}");
    for i in 3..5 {
        call!(srv, send(json!({"body": format!("m{i}")})));
    }
    // The new version applies (keeps 2) and took over the same counters and queue.
    let got = wait_total!(srv, "display1", 5);
    assert_eq!(got["messages"].as_array().unwrap().len(), 2, "{got}");
    assert_eq!(got["messages"][1]["body"], "m4", "{got}");

    // The Feeder's default message changes: the new version sends it.
    doc["nodes"][0]["config"] = json!({"messages": [{"body": "new default"}]});
    call!(srv, put(&doc));
    let (_, body) = call!(srv, post("/api/flows/demo/deploy", &json!({})));
    assert_eq!(body["redeployed"], json!(["feeder1"]), "{body}");
    call!(srv, send(json!({})));
    let got = wait_total!(srv, "display1", 6);
    assert_eq!(got["messages"][1]["body"], "new default", "{got}");

    // Names and positions only: nothing is redeployed, the new version is noted.
    doc["nodes"][1]["name"] = json!("Renamed");
    doc["nodes"][1]["position"] = json!({"x": 400, "y": 80});
    let (_, saved) = call!(srv, put(&doc));
    let (_, body) = call!(srv, post("/api/flows/demo/deploy", &json!({})));
    assert_eq!(body["redeployed"], json!([]), "{body}");
    assert_eq!(body["restarted"], false);
    let (_, deployed) = call!(srv, test::TestRequest::get().uri("/api/flows/demo/deploy"));
    assert_eq!(deployed["rev"], saved["rev"]);
}
