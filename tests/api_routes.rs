//! Route tests of the HTTP API (docs/api.md) with actix-web's test tools: the app in process,
//! a temporary flows directory, real flows running on the test runtime.

use std::path::Path;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{test, web};
use lambdaflow::api::{AppState, Settings, app};
use serde_json::{Value, json};

fn state(dir: &Path, settings: Settings) -> web::Data<AppState> {
    web::Data::new(
        AppState::open(
            dir,
            Some("route-test secret"),
            settings,
            tokio::runtime::Handle::current(),
        )
        .expect("state opens"),
    )
}

/// Calls the service; returns status, headers and the body parsed as JSON (`Null` when empty,
/// a string when it is not JSON).
macro_rules! call {
    ($srv:expr, $req:expr) => {{
        let res = test::call_service(&$srv, $req.to_request()).await;
        let status = res.status();
        let headers: HeaderMap = res.headers().clone();
        let bytes = test::read_body(res).await;
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, headers, body)
    }};
}

fn feeder_display(id: &str) -> Value {
    json!({
        "id": id, "name": "Feeder to Display", "description": "test",
        "nodes": [
            {"id": "feeder1", "type": "feeder", "name": "Feeder", "position": {"x": 0, "y": 0},
             "config": {"messages": [{"body": "default body", "contentType": "text/plain"}]}},
            {"id": "display1", "type": "display", "name": "Display", "position": {"x": 200, "y": 0},
             "config": {"maxMessages": 5}}
        ],
        "edges": [{"id": "route1", "from": {"node": "feeder1", "port": "out"},
                   "to": {"node": "display1", "port": "in"}}]
    })
}

fn put(id: &str, body: &Value) -> test::TestRequest {
    test::TestRequest::put()
        .uri(&format!("/api/flows/{id}"))
        .set_json(body)
}

fn get(uri: &str) -> test::TestRequest {
    test::TestRequest::get().uri(uri)
}

fn post(uri: &str, body: &Value) -> test::TestRequest {
    test::TestRequest::post().uri(uri).set_json(body)
}

fn assert_error_shape(body: &Value) {
    assert!(body["error"].is_string(), "error body: {body}");
    assert!(body["details"].is_array(), "error body: {body}");
}

#[actix_web::test]
async fn health_answers_without_a_token_and_everything_else_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        token: Some("t0k3n".into()),
        ..Settings::default()
    };
    let srv = test::init_service(app(state(dir.path(), settings))).await;

    let (status, _, body) = call!(srv, get("/api/health"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );

    for uri in [
        "/api/flows",
        "/api/components",
        "/api/openapi.json",
        "/metrics",
    ] {
        let (status, headers, body) = call!(srv, get(uri));
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_error_shape(&body);
        assert_eq!(headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
        let (status, _, _) = call!(
            srv,
            get(uri).insert_header((header::AUTHORIZATION, "Bearer wrong"))
        );
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        let (status, _, _) = call!(
            srv,
            get(uri).insert_header((header::AUTHORIZATION, "Bearer t0k3n"))
        );
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
    // The query token is for the event stream only.
    let (status, _, _) = call!(srv, get("/api/flows?token=t0k3n"));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The designer's page itself is public (it asks for the token).
    let (status, _, _) = call!(srv, get("/"));
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn a_saved_flow_is_one_pretty_file_and_reads_back_with_its_revision() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;

    let (status, headers, saved) = call!(srv, put("demo", &feeder_display("demo")));
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let rev = saved["rev"].as_str().expect("rev").to_owned();
    assert_eq!(
        headers.get(header::ETAG).unwrap().to_str().unwrap(),
        format!("\"{rev}\"")
    );

    let text = std::fs::read_to_string(dir.path().join("demo.json")).unwrap();
    assert!(text.starts_with("{\n  \"id\": \"demo\",\n"), "{text}");
    assert!(text.ends_with("}\n"));
    assert!(
        !text.contains("\"rev\""),
        "the revision is not part of the file"
    );
    lambdaflow::components::registry()
        .parse_flow(&text)
        .expect("the file is a valid flow");

    let (status, headers, doc) = call!(srv, get("/api/flows/demo"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["rev"], rev);
    assert_eq!(
        headers.get(header::ETAG).unwrap().to_str().unwrap(),
        format!("\"{rev}\"")
    );
    assert_eq!(doc["nodes"][1]["config"], json!({"maxMessages": 5}));

    // Saving the same document again is an update, with the same content and revision.
    let (status, _, again) = call!(srv, put("demo", &doc));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["rev"], rev);

    let (status, _, list) = call!(srv, get("/api/flows"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list,
        json!([{"id": "demo", "name": "Feeder to Display", "description": "test",
                "rev": rev, "state": "stopped"}])
    );
}

#[actix_web::test]
async fn stale_revisions_are_refused_instead_of_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let (_, _, first) = call!(srv, put("demo", &feeder_display("demo")));
    let rev1 = first["rev"].as_str().unwrap().to_owned();

    // Client A saves a change based on rev1.
    let mut a = first.clone();
    a["name"] = json!("A's name");
    let (status, _, saved_a) = call!(
        srv,
        put("demo", &a).insert_header((header::IF_MATCH, format!("\"{rev1}\"")))
    );
    assert_eq!(status, StatusCode::OK, "{saved_a}");

    // Client B, still on rev1, is refused: 412 with If-Match, 409 with the body's rev.
    let mut b = first.clone();
    b["name"] = json!("B's name");
    let (status, _, body) = call!(
        srv,
        put("demo", &b).insert_header((header::IF_MATCH, format!("\"{rev1}\"")))
    );
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_error_shape(&body);
    let (status, _, body) = call!(srv, put("demo", &b));
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error_shape(&body);

    let (_, _, doc) = call!(srv, get("/api/flows/demo"));
    assert_eq!(doc["name"], "A's name", "A's work survived");

    // A delete with a stale If-Match is refused too.
    let (status, _, _) = call!(
        srv,
        test::TestRequest::delete()
            .uri("/api/flows/demo")
            .insert_header((header::IF_MATCH, format!("\"{rev1}\"")))
    );
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    // If-Match on a flow that does not exist fails as well (someone deleted it).
    let (status, _, _) = call!(
        srv,
        put("other", &feeder_display("other")).insert_header((header::IF_MATCH, "\"x\""))
    );
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert!(!dir.path().join("other.json").exists());
}

#[actix_web::test]
async fn invalid_flows_are_refused_with_every_problem_located() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let mut flow = feeder_display("demo");
    flow["nodes"][1]["config"]["maxMessages"] = json!("ten");
    flow["edges"][0]["to"]["port"] = json!("out");
    let (status, _, body) = call!(srv, put("demo", &flow));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let details = body["details"].as_array().unwrap();
    assert!(
        details
            .iter()
            .any(|d| d["node"] == "route1" && d["pointer"] == "/edges/0/to/port"),
        "{body}"
    );
    assert!(!dir.path().join("demo.json").exists(), "nothing written");

    let mut wrong_config = feeder_display("demo");
    wrong_config["nodes"][1]["config"]["maxMessages"] = json!("ten");
    let (status, _, body) = call!(srv, put("demo", &wrong_config));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["details"][0]["node"], "display1");
    assert_eq!(body["details"][0]["pointer"], "/nodes/1/config/maxMessages");

    // The body's id must be the path's.
    let (status, _, body) = call!(srv, put("demo", &feeder_display("other")));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["details"][0]["pointer"], "/id");

    // Malformed JSON is a JSON 400.
    let (status, _, body) = call!(
        srv,
        test::TestRequest::put()
            .uri("/api/flows/demo")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{\"id\": ")
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error_shape(&body);
}

#[actix_web::test]
async fn ids_never_reach_outside_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(dir.path().join("secret.json"), "{\"id\": \"secret\"}").unwrap();
    let srv = test::init_service(app(state(&flows, Settings::default()))).await;
    for uri in [
        "/api/flows/..%2Fsecret",
        "/api/flows/%2E%2E%2Fsecret",
        "/api/flows/Secret",
        "/api/flows/.credentials",
        "/api/flows/a%00b",
    ] {
        let (status, _, body) = call!(srv, get(uri));
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
            "{uri}: {status}"
        );
        assert_error_shape(&body);
        assert!(
            !body.to_string().contains("\\\"secret\\\""),
            "{uri}: {body}"
        );
        let (status, _, _) = call!(srv, put(uri.trim_start_matches("/api/flows/"), &json!({})));
        assert!(status.is_client_error(), "{uri}: {status}");
    }
    assert_eq!(
        std::fs::read_dir(&flows)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name().to_string_lossy().ends_with(".json")
                    && !e.file_name().to_string_lossy().starts_with('.')
            })
            .count(),
        0
    );
}

#[actix_web::test]
async fn a_running_flow_takes_feeder_sends_and_shows_display_messages() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    call!(srv, put("demo", &feeder_display("demo")));

    // Not running yet: sends are refused, status shows every node stopped.
    let (status, _, body) = call!(srv, post("/api/flows/demo/nodes/feeder1/send", &json!({})));
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, _, st) = call!(srv, get("/api/flows/demo/status"));
    assert_eq!(st["state"], "stopped");
    assert_eq!(st["nodes"]["display1"]["state"], "stopped");
    let (status, _, msgs) = call!(srv, get("/api/flows/demo/nodes/display1/messages"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(msgs, json!({"messages": [], "total": 0, "next": 0}));

    let (status, _, st) = call!(srv, post("/api/flows/demo/start", &json!({})));
    assert_eq!(status, StatusCode::OK, "{st}");
    assert_eq!(st["flow"], "demo");
    assert_eq!(st["state"], "running");
    // Idempotent.
    let (status, _, _) = call!(srv, post("/api/flows/demo/start", &json!({})));
    assert_eq!(status, StatusCode::OK);

    let (status, _, body) = call!(
        srv,
        post(
            "/api/flows/demo/nodes/feeder1/send",
            &json!({"body": "<script>alert(1)</script>", "contentType": "text/html",
                    "properties": {"orderId": 7}, "count": 2, "intervalMs": 1})
        )
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"accepted": 2}));
    // No body: the Feeder's default message.
    let (status, _, body) = call!(
        srv,
        test::TestRequest::post().uri("/api/flows/demo/nodes/feeder1/send")
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let mut display = Value::Null;
    for _ in 0..3000 {
        let (_, _, m) = call!(srv, get("/api/flows/demo/nodes/display1/messages"));
        if m["total"] == 3 {
            display = m;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(display["total"], 3, "{display}");
    let msgs = display["messages"].as_array().unwrap();
    assert_eq!(msgs[0]["body"], "<script>alert(1)</script>");
    assert_eq!(msgs[0]["properties"]["orderId"], 7);
    assert_eq!(msgs[2]["body"], "default body");

    // Display content is data: JSON, never sniffed as HTML.
    let res = test::call_service(
        &srv,
        get("/api/flows/demo/nodes/display1/messages").to_request(),
    )
    .await;
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    assert_eq!(
        res.headers().get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
        "nosniff"
    );

    let (_, _, st) = call!(srv, get("/api/flows/demo/status"));
    assert_eq!(st["nodes"]["display1"]["received"], 3);
    assert_eq!(st["nodes"]["feeder1"]["emitted"], 3);

    // Wrong targets.
    let (status, _, _) = call!(srv, post("/api/flows/demo/nodes/display1/send", &json!({})));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = call!(srv, post("/api/flows/demo/nodes/nope/send", &json!({})));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = call!(
        srv,
        post("/api/flows/demo/nodes/feeder1/send", &json!({"count": 0}))
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["details"][0]["pointer"], "/count");
    let (status, _, body) = call!(
        srv,
        post(
            "/api/flows/demo/nodes/feeder1/send",
            &json!({"body": "x", "properties": {"nested": {"a": 1}}})
        )
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["details"][0]["pointer"], "/properties/nested");

    let (status, _, _) = call!(
        srv,
        test::TestRequest::delete().uri("/api/flows/demo/nodes/display1/messages")
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, _, m) = call!(srv, get("/api/flows/demo/nodes/display1/messages"));
    assert_eq!(m["messages"], json!([]));
    assert_eq!(m["total"], 3);

    let (status, _, st) = call!(srv, post("/api/flows/demo/stop", &json!({})));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(st["state"], "stopped");
    let (_, _, list) = call!(srv, get("/api/flows"));
    assert_eq!(list[0]["state"], "stopped");
    // The last run stays visible.
    let (_, _, st) = call!(srv, get("/api/flows/demo/status"));
    assert_eq!(st["nodes"]["display1"]["received"], 3);
}

#[actix_web::test]
async fn metrics_count_per_flow_and_node() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    call!(srv, put("demo", &feeder_display("demo")));
    call!(srv, post("/api/flows/demo/start", &json!({})));
    call!(
        srv,
        post("/api/flows/demo/nodes/feeder1/send", &json!({"count": 4}))
    );
    let mut text = String::new();
    for _ in 0..3000 {
        let (status, headers, body) = call!(srv, get("/metrics"));
        assert_eq!(status, StatusCode::OK);
        assert!(
            headers
                .get(header::CONTENT_TYPE)
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        text = body.as_str().unwrap().to_owned();
        if text.contains(
            "lambdaflow_node_received_total{flow=\"demo\",node=\"display1\",type=\"display\"} 4",
        ) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(text.contains("lambdaflow_flows_running 1"), "{text}");
    assert!(
        text.contains(
            "lambdaflow_node_received_total{flow=\"demo\",node=\"display1\",type=\"display\"} 4"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "lambdaflow_node_emitted_total{flow=\"demo\",node=\"feeder1\",type=\"feeder\"} 4"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "lambdaflow_node_discarded_total{flow=\"demo\",node=\"feeder1\",type=\"feeder\"} 0"
        ),
        "{text}"
    );
    assert!(text.contains("# TYPE lambdaflow_invocation_duration_seconds histogram"));
    call!(srv, post("/api/flows/demo/stop", &json!({})));
    let (_, _, body) = call!(srv, get("/metrics"));
    assert!(
        body.as_str()
            .unwrap()
            .contains("lambdaflow_flows_running 0")
    );
}

#[actix_web::test]
async fn an_adaptive_concurrency_limit_shows_in_status_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let mut flow = lambda_flow("adaptive", unreachable_connection("AKIDEXAMPLE", SECRET));
    flow["nodes"][1]["config"]["concurrency"] = json!({"mode": "adaptive", "min": 3, "max": 10});
    let (status, _, _) = call!(srv, put("adaptive", &flow));
    assert!(status.is_success());
    call!(srv, post("/api/flows/adaptive/start", &json!({})));
    // The node starts at min, before any call.
    let mut st = Value::Null;
    for _ in 0..3000 {
        st = call!(srv, get("/api/flows/adaptive/status")).2;
        if st["nodes"]["lambda1"]["concurrencyLimit"] == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(st["nodes"]["lambda1"]["concurrencyLimit"], 3, "{st}");
    assert!(
        st["nodes"]["feeder1"].get("concurrencyLimit").is_none(),
        "only nodes whose limit adapts report one"
    );
    let (_, _, body) = call!(srv, get("/metrics"));
    let text = body.as_str().unwrap();
    assert!(
        text.contains("# TYPE lambdaflow_node_concurrency_limit gauge"),
        "{text}"
    );
    assert!(
        text.contains(
            "lambdaflow_node_concurrency_limit{flow=\"adaptive\",node=\"lambda1\",type=\"lambda\"} 3"
        ),
        "{text}"
    );
    call!(srv, post("/api/flows/adaptive/stop", &json!({})));
}

#[actix_web::test]
async fn deleting_a_running_flow_stops_it_and_removes_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    call!(srv, put("demo", &feeder_display("demo")));
    call!(srv, post("/api/flows/demo/start", &json!({})));
    let (status, _, _) = call!(srv, test::TestRequest::delete().uri("/api/flows/demo"));
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!dir.path().join("demo.json").exists());
    let (status, _, body) = call!(srv, get("/api/flows/demo"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_shape(&body);
    let (status, _, _) = call!(srv, get("/api/flows/demo/status"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = call!(srv, test::TestRequest::delete().uri("/api/flows/demo"));
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn invalid_files_in_the_store_are_listed_with_their_problems_and_never_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.json"),
        "{\"id\": \"broken\", \"nodes\": [",
    )
    .unwrap();
    let mut bad = feeder_display("bad");
    bad["nodes"][0]["type"] = json!("nonesuch");
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).unwrap();
    let mut misnamed = feeder_display("elsewhere");
    misnamed["name"] = json!("misnamed");
    std::fs::write(dir.path().join("misnamed.json"), misnamed.to_string()).unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;

    let (status, _, list) = call!(srv, get("/api/flows"));
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].clone())
        .collect();
    assert_eq!(ids, [json!("bad"), json!("broken"), json!("misnamed")]);
    for f in list.as_array().unwrap() {
        let errors = f["errors"].as_array().unwrap_or_else(|| panic!("{f}"));
        assert!(!errors.is_empty());
    }
    assert_eq!(list[0]["errors"][0]["node"], "feeder1");
    assert_eq!(list[0]["errors"][0]["pointer"], "/nodes/0/type");
    assert_eq!(list[2]["errors"][0]["pointer"], "/id");

    for id in ["bad", "broken", "misnamed"] {
        let (status, _, body) = call!(srv, post(&format!("/api/flows/{id}/start"), &json!({})));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{id}: {body}");
        assert!(!body["details"].as_array().unwrap().is_empty());
    }
    // A file that is JSON can still be opened (to be fixed in the designer).
    let (status, _, doc) = call!(srv, get("/api/flows/bad"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["nodes"][0]["type"], "nonesuch");
    let (status, _, body) = call!(srv, get("/api/flows/broken"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error_shape(&body);
}

#[actix_web::test]
async fn the_test_route_runs_one_component_on_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;

    let (status, _, list) = call!(srv, get("/api/components"));
    assert_eq!(status, StatusCode::OK);
    let display = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "display")
        .expect("display is listed")
        .clone();
    assert_eq!(display["inputs"], json!(["in"]));
    assert_eq!(display["outputs"], json!(["out"]));
    assert!(display["schema"].is_object());
    assert!(display["uiSchema"].is_object());

    let (status, _, result) = call!(
        srv,
        post(
            "/api/components/display/test",
            &json!({"config": {"maxMessages": 3},
                    "message": {"body": "{\"name\": \"World\"}", "contentType": "application/json",
                                "properties": {"orderId": 1}}})
        )
    );
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["out"].as_array().unwrap().len(), 1, "{result}");
    assert_eq!(result["out"][0]["body"], "{\"name\": \"World\"}");
    assert_eq!(result["out"][0]["properties"]["orderId"], 1);
    assert_eq!(result["error"], json!([]));
    assert!(result["durationMs"].is_u64());

    let (status, _, body) = call!(
        srv,
        post(
            "/api/components/display/test",
            &json!({"config": {"maxMessages": -1}, "message": {"body": "x"}})
        )
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["pointer"], "/config/maxMessages");

    let (status, _, body) = call!(
        srv,
        post("/api/components/nonesuch/test", &json!({"config": {}}))
    );
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_shape(&body);
}

#[actix_web::test]
async fn every_failure_is_a_json_error_even_actix_own() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        max_body: 1024,
        ..Settings::default()
    };
    let srv = test::init_service(app(state(dir.path(), settings))).await;

    let (status, _, body) = call!(srv, get("/api/nonesuch"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_shape(&body);

    let (status, headers, body) = call!(srv, test::TestRequest::patch().uri("/api/flows"));
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error_shape(&body);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );

    let mut big = feeder_display("big");
    big["description"] = json!("x".repeat(2048));
    let (status, _, body) = call!(srv, put("big", &big));
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error_shape(&body);
    assert!(body["error"].as_str().unwrap().contains("1024"), "{body}");
    assert!(!dir.path().join("big.json").exists());

    let (status, _, body) = call!(
        srv,
        test::TestRequest::post()
            .uri("/api/components/display/test")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("not json")
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error_shape(&body);
}

#[actix_web::test]
async fn other_origins_get_no_cors_and_cannot_send_requests() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;

    let res = test::call_service(
        &srv,
        get("/api/flows")
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .insert_header((header::ORIGIN, "http://127.0.0.1:8080"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );

    let (status, headers, body) = call!(
        srv,
        put("demo", &feeder_display("demo"))
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .insert_header((header::ORIGIN, "https://evil.example"))
    );
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error_shape(&body);
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert!(!dir.path().join("demo.json").exists());

    // A preflight gets nothing that would allow the real request.
    let (status, headers, _) = call!(
        srv,
        test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/flows/demo")
            .insert_header((header::ORIGIN, "https://evil.example"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "PUT"))
    );
    assert!(status.is_client_error());
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // DNS rebinding: a foreign host name pointing at our loopback port is refused.
    let (status, _, _) = call!(
        srv,
        get("/api/flows").insert_header((header::HOST, "evil.example:8080"))
    );
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn the_designer_is_served_at_the_root_with_spa_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let res = test::call_service(&srv, get("/").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let root = test::read_body(res).await;
    let res = test::call_service(&srv, get("/flows/demo").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        test::read_body(res).await,
        root,
        "designer routes get index.html"
    );
    let (status, _, body) = call!(srv, get("/nonesuch.js"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_shape(&body);
}

/// Replaces `{id}`, `{node}` and `{type}` with things that exist.
fn concrete(path: &str) -> String {
    path.replace("{id}", "demo")
        .replace("{node}", "feeder1")
        .replace("{type}", "display")
}

#[actix_web::test]
async fn every_route_in_the_openapi_document_answers() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    call!(srv, put("demo", &feeder_display("demo")));
    let (status, _, doc) = call!(srv, get("/api/openapi.json"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 13, "{}", paths.len());
    let mut checked = 0;
    for (path, item) in paths {
        for method in ["get", "put", "post", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let uri = concrete(path);
            let req = match method {
                "get" if path.ends_with("/events") => continue, // endless; see the server tests
                "get" => get(&uri),
                "put" => put("demo", &feeder_display("demo")),
                // A closed loopback port: the listing fails fast, without leaving the machine.
                "post" if path.starts_with("/api/lambda/") => post(
                    &uri,
                    &json!({"connection": unreachable_connection("AKIDEXAMPLE", "x"),
                            "functionName": "hello"}),
                ),
                "post" => post(&uri, &json!({})),
                _ => test::TestRequest::delete().uri(&uri),
            };
            let (status, _, body) = call!(srv, req);
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            let no_route = body["error"]
                .as_str()
                .is_some_and(|e| e.contains("route at this path"));
            assert!(!no_route, "{method} {path}: {body}");
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked}");
}

/// Static credentials and an endpoint nothing listens on (connections are refused at once).
fn unreachable_connection(access_key: &str, secret_key: &str) -> Value {
    json!({"region": "us-east-1", "endpointUrl": "http://127.0.0.1:9",
           "accessKey": access_key, "secretKey": secret_key,
           "connectTimeoutMs": 1000, "invokeTimeoutMs": 2000})
}

fn lambda_flow(id: &str, connection: Value) -> Value {
    json!({
        "id": id, "name": "with secrets",
        "nodes": [
            {"id": "feeder1", "type": "feeder", "config": {}},
            {"id": "lambda1", "type": "lambda",
             "config": {"functionName": "hello", "connection": connection}},
            {"id": "display1", "type": "display", "config": {}}
        ],
        "edges": [
            {"id": "e1", "from": {"node": "feeder1", "port": "out"}, "to": {"node": "lambda1", "port": "in"}},
            {"id": "e2", "from": {"node": "lambda1", "port": "out"}, "to": {"node": "display1", "port": "in"}}
        ]
    })
}

const SECRET: &str = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYSECRET";
const SESSION: &str = "FwoGZXIvYXdzEXAMPLE-SESSION-TOKEN";

fn dir_text(dir: &Path, skip: &str) -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy() != skip {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
        }
    }
    all
}

#[actix_web::test]
async fn secrets_stay_out_of_files_and_answers_and_are_kept_until_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let mut connection = unreachable_connection("AKIDEXAMPLE", SECRET);
    connection["sessionToken"] = json!(SESSION);
    let (status, _, saved) = call!(srv, put("sec", &lambda_flow("sec", connection)));
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let text = saved.to_string();
    assert!(!text.contains(SECRET) && !text.contains(SESSION), "{text}");
    assert_eq!(
        saved["nodes"][1]["secretsSet"],
        json!(["/connection/secretKey", "/connection/sessionToken"])
    );
    assert_eq!(
        saved["nodes"][1]["config"]["connection"]["accessKey"],
        "AKIDEXAMPLE"
    );
    assert!(
        saved["nodes"][1]["config"]["connection"]
            .get("secretKey")
            .is_none()
    );
    assert!(saved["nodes"][0].get("secretsSet").is_none());

    // Neither the flow file nor any other file but the encrypted store holds them, and that
    // one only encrypted.
    let files = dir_text(dir.path(), "");
    assert!(!files.contains(SECRET) && !files.contains(SESSION));
    let creds = std::fs::read_to_string(dir.path().join(".credentials.json")).unwrap();
    assert!(creds.contains("/connection/secretKey"));

    let (_, _, doc) = call!(srv, get("/api/flows/sec"));
    assert!(!doc.to_string().contains(SECRET));
    assert_eq!(
        doc["nodes"][1]["secretsSet"],
        saved["nodes"][1]["secretsSet"]
    );

    // Sent back as read (secretsSet included, the secret empty or absent): both kept.
    let mut again = doc.clone();
    again["nodes"][1]["config"]["connection"]["secretKey"] = json!("");
    let (status, _, saved) = call!(srv, put("sec", &again));
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        saved["nodes"][1]["secretsSet"],
        json!(["/connection/secretKey", "/connection/sessionToken"])
    );
    // The flow is valid only with the stored secret key (an access key needs one): it starts.
    let (status, _, body) = call!(srv, post("/api/flows/sec/start", &json!({})));
    assert_eq!(status, StatusCode::OK, "{body}");
    call!(srv, post("/api/flows/sec/stop", &json!({})));

    // Stored secrets stand in for the test route's missing ones, given flow and node.
    let config = json!({"functionName": "hello",
                        "connection": unreachable_connection("AKIDEXAMPLE", ""),
                        "errorHandling": {"connection": {"retry": {"enabled": false}}}});
    let (status, _, body) = call!(
        srv,
        post(
            "/api/components/lambda/test",
            &json!({"config": config, "message": {"body": "{}"}})
        )
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["details"][0]["pointer"],
        "/config/connection/secretKey"
    );
    let (status, _, body) = call!(
        srv,
        post(
            "/api/components/lambda/test",
            &json!({"config": config, "message": {"body": "{}"}, "flow": "sec", "node": "lambda1"})
        )
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["error"].as_array().unwrap().len(),
        1,
        "unreachable endpoint: {body}"
    );
    assert!(!body.to_string().contains(SECRET), "{body}");

    // secretsClear removes one; then the access key lacks its secret key: 422, located.
    let mut clear = doc.clone();
    clear["nodes"][1]["secretsClear"] = json!(["/connection/sessionToken"]);
    let (status, _, saved) = call!(srv, put("sec", &clear));
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        saved["nodes"][1]["secretsSet"],
        json!(["/connection/secretKey"])
    );
    let mut clear = saved.clone();
    clear["nodes"][1]["secretsClear"] = json!(["/connection/secretKey"]);
    let (status, _, body) = call!(srv, put("sec", &clear));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["node"], "lambda1");
    assert_eq!(
        body["details"][0]["pointer"],
        "/nodes/1/config/connection/secretKey"
    );

    // A new value replaces the stored one.
    let mut replace = saved.clone();
    replace["nodes"][1]["config"]["connection"]["secretKey"] = json!("another-secret-value");
    let (status, _, saved) = call!(srv, put("sec", &replace));
    assert_eq!(status, StatusCode::OK);
    assert!(!saved.to_string().contains("another-secret-value"));
    assert!(!dir_text(dir.path(), "").contains("another-secret-value"));

    // Deleting the flow forgets its secrets.
    let (status, _, _) = call!(srv, test::TestRequest::delete().uri("/api/flows/sec"));
    assert_eq!(status, StatusCode::NO_CONTENT);
    let creds = std::fs::read_to_string(dir.path().join(".credentials.json")).unwrap();
    assert!(!creds.contains("lambda1"), "{creds}");
}

#[actix_web::test]
async fn a_secret_typed_into_a_hand_edited_file_is_never_returned() {
    let dir = tempfile::tempdir().unwrap();
    let flow = lambda_flow("hand", unreachable_connection("AKIDEXAMPLE", SECRET));
    std::fs::write(dir.path().join("hand.json"), flow.to_string()).unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let (status, _, doc) = call!(srv, get("/api/flows/hand"));
    assert_eq!(status, StatusCode::OK);
    assert!(!doc.to_string().contains(SECRET), "{doc}");
    // Saving it moves the secret into the encrypted store.
    let mut doc = flow.clone();
    doc["rev"] = json!(null);
    let (status, _, saved) = call!(srv, put("hand", &doc));
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        saved["nodes"][1]["secretsSet"],
        json!(["/connection/secretKey"])
    );
    assert!(!dir_text(dir.path(), ".credentials.json").contains(SECRET));
}

#[actix_web::test]
async fn lambda_listings_report_bad_connections_and_unreachable_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let (status, _, body) = call!(
        srv,
        post(
            "/api/lambda/functions",
            &json!({"connection": {"region": "Not A Region!"}})
        )
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["pointer"], "/connection/region");
    let (status, _, body) = call!(
        srv,
        post(
            "/api/lambda/qualifiers",
            &json!({"connection": {"region": "us-east-1"}})
        )
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["details"][0]["pointer"], "/functionName");
    let (status, _, body) = call!(
        srv,
        post(
            "/api/lambda/functions",
            &json!({"connection": unreachable_connection("AKIDEXAMPLE", SECRET)})
        )
    );
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_error_shape(&body);
    assert!(!body.to_string().contains(SECRET), "{body}");
    // A node that does not exist cannot lend its secrets.
    let (status, _, body) = call!(
        srv,
        post(
            "/api/lambda/functions",
            &json!({"connection": {"region": "us-east-1"}, "flow": "nope", "node": "lambda1"})
        )
    );
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[actix_web::test]
async fn a_server_without_nats_shows_no_workers_and_refuses_to_start_a_jetstream_flow() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let mut doc = feeder_display("durable");
    doc["edges"][0]["transport"] = json!("jetstream");
    let (status, _, body) = call!(srv, put("durable", &doc));
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, body) = call!(srv, get("/api/flows/durable/workers"));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"nats": false, "workers": []}));
    let (status, _, body) = call!(srv, post("/api/flows/durable/deploy", &json!({})));
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let edge = doc["edges"][0]["id"].as_str().unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains(&format!("edge {edge}")),
        "{body}"
    );
    let (status, _, _) = call!(srv, get("/api/flows/nope/workers"));
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn component_actions_run_with_the_node_config_and_check_only_the_fields_they_use() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    // The descriptor says which actions a type has and which field each fills.
    let (_, _, types) = call!(srv, get("/api/components"));
    let lambda = types
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["capabilities"]["invokes"] == true)
        .expect("a type that invokes a service");
    assert_eq!(lambda["actions"][0]["name"], "functions", "{lambda}");
    assert_eq!(lambda["actions"][0]["field"], "/functionName", "{lambda}");
    assert_eq!(lambda["actions"][1]["field"], "/qualifier", "{lambda}");
    let feeder = types
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "feeder")
        .unwrap();
    assert_eq!(feeder["capabilities"]["acceptsSend"], true);
    assert_eq!(feeder["actions"], json!([]));

    let functions = "/api/components/lambda/actions/functions";
    // A sheet without a function name yet lists functions: only `connection` is checked.
    let (status, _, body) = call!(
        srv,
        post(
            functions,
            &json!({"config": {"connection": {"region": "Not A Region!"}}})
        )
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["pointer"], "/config/connection/region");
    assert_eq!(body["details"].as_array().unwrap().len(), 1, "{body}");
    let (status, _, body) = call!(
        srv,
        post(
            "/api/components/lambda/actions/qualifiers",
            &json!({"config": {"connection": {"region": "us-east-1"}}})
        )
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["pointer"], "/config/functionName");
    let (status, _, body) = call!(
        srv,
        post(
            functions,
            &json!({"config": {"connection": unreachable_connection("AKIDEXAMPLE", SECRET)}})
        )
    );
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(!body.to_string().contains(SECRET), "{body}");
    // Unknown actions and types are not found, naming what exists.
    let (status, _, body) = call!(srv, post("/api/components/lambda/actions/nope", &json!({})));
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.to_string().contains("functions, qualifiers"), "{body}");
    let (status, _, body) = call!(
        srv,
        post("/api/components/display/actions/functions", &json!({}))
    );
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

/// Reads an endless body chunk by chunk until `want` appears in what was read.
async fn read_until<B: actix_web::body::MessageBody>(body: B, want: &[&str]) -> String {
    let mut body = Box::pin(body);
    let mut seen = String::new();
    while !want.iter().all(|w| seen.contains(w)) {
        let chunk = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await;
        match chunk {
            Some(Ok(bytes)) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            _ => panic!("the stream ended before {want:?}; got:\n{seen}"),
        }
    }
    seen
}

#[actix_web::test]
async fn the_event_stream_opens_with_the_flow_state_and_keeps_alive() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        keep_alive: Duration::from_millis(20),
        ..Settings::default()
    };
    let data = state(dir.path(), settings);
    let srv = test::init_service(app(data.clone())).await;
    call!(srv, put("demo", &feeder_display("demo")));
    call!(srv, post("/api/flows/demo/start", &json!({})));

    let res = test::call_service(&srv, get("/api/flows/demo/events").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/event-stream"
    );
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-cache"
    );
    let seen = read_until(
        res.into_body(),
        &[
            "event: flow\ndata: {\"flow\":\"demo\",\"state\":\"running\"}\n\n",
            "event: status\ndata: {",
            "\"node\":\"display1\"",
            ": keep-alive\n\n",
        ],
    )
    .await;
    assert!(seen.starts_with("retry: 2000\n\n"), "{seen}");

    let (status, _, _) = call!(srv, get("/api/flows/nonesuch/events"));
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deleting the flow ends its streams.
    let res = test::call_service(&srv, get("/api/flows/demo/events").to_request()).await;
    let mut body = Box::pin(res.into_body());
    call!(srv, test::TestRequest::delete().uri("/api/flows/demo"));
    loop {
        use actix_web::body::MessageBody as _;
        match std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            Some(Ok(_)) => continue,
            Some(Err(_)) => panic!("the stream failed"),
            None => break,
        }
    }
}

/// A loopback HTTP endpoint that answers every request with 200 and the request's head as
/// JSON (as an endpoint that echoes would hand a session token back), and records each head.
struct Echo {
    url: String,
    heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Echo {
    fn start() -> Echo {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (h, s) = (heads.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        break Some(i);
                    }
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break None,
                        Ok(n) => raw.extend_from_slice(&buf[..n]),
                    }
                };
                let Some(end) = head_end else { continue };
                let head = String::from_utf8_lossy(&raw[..end]).into_owned();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (n, v) = l.split_once(':')?;
                        n.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while raw.len() < end + 4 + length {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => raw.extend_from_slice(&buf[..n]),
                    }
                }
                h.lock().unwrap().push(head.clone());
                let body = json!({ "echo": head }).to_string();
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\
                         Content-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            }
        });
        Echo { url, heads, stop }
    }

    /// Every request head received so far, joined.
    fn received(&self) -> String {
        self.heads.lock().unwrap().join("\n")
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn echo_connection(endpoint: &str) -> Value {
    json!({"region": "us-east-1", "endpointUrl": endpoint, "accessKey": "AKIDEXAMPLE",
           "connectTimeoutMs": 5000, "invokeTimeoutMs": 10000})
}

fn test_body(connection: Value) -> Value {
    json!({"config": {"functionName": "hello", "connection": connection,
                      "errorHandling": {"connection": {"retry": {"enabled": false}},
                                        "requestProcessing": {"retry": {"enabled": false}}}},
           "message": {"body": "{}"}, "flow": "bound", "node": "lambda1"})
}

#[actix_web::test]
async fn stored_secrets_never_travel_to_another_connection() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let (stored_endpoint, other) = (Echo::start(), Echo::start());
    let mut connection = echo_connection(&stored_endpoint.url);
    connection["secretKey"] = json!(SECRET);
    connection["sessionToken"] = json!(SESSION);
    let (status, _, saved) = call!(srv, put("bound", &lambda_flow("bound", connection)));
    assert_eq!(status, StatusCode::CREATED, "{saved}");

    // With the stored connection, the stored secrets are used (the token is sent).
    let (status, _, body) = call!(
        srv,
        post(
            "/api/components/lambda/test",
            &test_body(echo_connection(&stored_endpoint.url))
        )
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        stored_endpoint.received().contains(SESSION),
        "the stored token went to the stored endpoint"
    );

    // A config that changes any bound field, without secrets of its own: 400 naming the field,
    // through the Test route and both listing routes, and no request leaves.
    let other_endpoint = other.url.clone();
    let changes: &[(&str, Value)] = &[
        ("endpointUrl", json!(other_endpoint)),
        ("region", json!("eu-west-1")),
        ("roleArn", json!("arn:aws:iam::123456789012:role/elsewhere")),
        ("accessKey", json!("AKIDSOMEONEELSE")),
    ];
    for (field, value) in changes {
        let mut changed = echo_connection(&stored_endpoint.url);
        changed[*field] = value.clone();
        let (status, _, body) = call!(
            srv,
            post("/api/components/lambda/test", &test_body(changed.clone()))
        );
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert_eq!(
            body["details"][0]["pointer"],
            format!("/config/connection/{field}"),
            "{body}"
        );
        for route in ["/api/lambda/functions", "/api/lambda/qualifiers"] {
            let mut list = json!({"connection": changed, "flow": "bound", "node": "lambda1"});
            if route.ends_with("qualifiers") {
                list["functionName"] = json!("hello");
            }
            let (status, _, body) = call!(srv, post(route, &list));
            assert_eq!(status, StatusCode::BAD_REQUEST, "{route} {field}: {body}");
            assert_eq!(
                body["details"][0]["pointer"],
                format!("/connection/{field}"),
                "{body}"
            );
        }
    }
    // An emptied field is a change too.
    let mut emptied = echo_connection(&stored_endpoint.url);
    emptied["endpointUrl"] = json!("");
    let (status, _, _) = call!(
        srv,
        post("/api/components/lambda/test", &test_body(emptied))
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        other.received(),
        "",
        "nothing was sent to the other endpoint"
    );

    // With secrets of its own, the request runs with those only: no stored one comes along.
    let mut own = echo_connection(&other.url);
    own["secretKey"] = json!("own-secret-key");
    let (status, _, body) = call!(srv, post("/api/components/lambda/test", &test_body(own)));
    assert_eq!(status, StatusCode::OK, "{body}");
    let seen = other.received();
    assert!(seen.contains("AKIDEXAMPLE"), "the request was made: {seen}");
    assert!(
        !seen.contains(SESSION),
        "the stored token travelled: {seen}"
    );
    assert!(
        !seen.to_ascii_lowercase().contains("x-amz-security-token"),
        "{seen}"
    );
    assert!(!body.to_string().contains(SESSION));

    // Saving the flow with another endpoint drops the stored secrets: without new ones the
    // flow lacks its secret key (422, and nothing changes); with a new secret key only, the
    // old session token is gone.
    let mut moved = saved.clone();
    moved["nodes"][1]["config"]["connection"]["endpointUrl"] = json!(other.url);
    let (status, _, body) = call!(srv, put("bound", &moved));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["details"][0]["pointer"],
        "/nodes/1/config/connection/secretKey"
    );
    moved["nodes"][1]["config"]["connection"]["secretKey"] = json!("new-secret-key");
    let (status, _, body) = call!(srv, put("bound", &moved));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["nodes"][1]["secretsSet"],
        json!(["/connection/secretKey"])
    );
    let (status, _, body) = call!(
        srv,
        post(
            "/api/components/lambda/test",
            &test_body(echo_connection(&other.url))
        )
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!other.received().contains(SESSION));
}

#[actix_web::test]
async fn a_failed_save_changes_neither_the_flow_nor_its_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path(), Settings::default());
    let srv = test::init_service(app(state.clone())).await;
    let mut connection = unreachable_connection("AKIDEXAMPLE", SECRET);
    connection["sessionToken"] = json!(SESSION);
    let (status, _, saved) = call!(srv, put("disk", &lambda_flow("disk", connection)));
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let files = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    let (flow_before, creds_before) = (files("disk.json"), files(".credentials.json"));

    // The disk fills up while the flow file is written, in a save that also changes a secret.
    let mut edit = saved.clone();
    edit["name"] = json!("renamed");
    edit["nodes"][1]["config"]["connection"]["secretKey"] = json!("replacement-secret");
    state.workspace.store.fail_next_write();
    let (status, _, body) = call!(srv, put("disk", &edit));
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_error_shape(&body);
    let text = body.to_string();
    assert!(
        !text.contains(&*dir.path().to_string_lossy()),
        "a 500 names no path: {text}"
    );
    assert_eq!(files("disk.json"), flow_before);
    assert_eq!(files(".credentials.json"), creds_before);
    let secrets = state.workspace.credentials.get("disk").unwrap();
    assert_eq!(secrets["lambda1"]["/connection/secretKey"], SECRET);
    let (_, _, doc) = call!(srv, get("/api/flows/disk"));
    assert_eq!(doc["rev"], saved["rev"]);
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The same save, once the disk has room, goes through.
    let (status, _, body) = call!(srv, put("disk", &edit));
    assert_eq!(status, StatusCode::OK, "{body}");
    let secrets = state.workspace.credentials.get("disk").unwrap();
    assert_eq!(
        secrets["lambda1"]["/connection/secretKey"],
        "replacement-secret"
    );
}

#[actix_web::test]
async fn a_change_of_secrets_alone_is_a_new_revision() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let (status, headers, saved) = call!(
        srv,
        put(
            "rev",
            &lambda_flow("rev", unreachable_connection("AKIDEXAMPLE", SECRET))
        )
    );
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let first = saved["rev"].as_str().unwrap().to_owned();
    assert_eq!(headers.get(header::ETAG).unwrap(), &format!("\"{first}\""));
    let file = std::fs::read(dir.path().join("rev.json")).unwrap();

    // Only the secret changes: the file stays the same, the revision does not.
    let mut edit = saved.clone();
    edit["nodes"][1]["config"]["connection"]["secretKey"] = json!("rotated-secret");
    let (status, _, body) = call!(srv, put("rev", &edit));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(std::fs::read(dir.path().join("rev.json")).unwrap(), file);
    let second = body["rev"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let (_, _, listed) = call!(srv, get("/api/flows"));
    assert_eq!(listed[0]["rev"], second.as_str());

    // A writer holding the old revision is refused, by header (412) and by body (409).
    let mut stale = saved.clone();
    stale["nodes"][1]["config"]["connection"]["secretKey"] = json!("stale-writer-secret");
    let (status, _, _) = call!(
        srv,
        put("rev", &stale).insert_header((header::IF_MATCH, format!("\"{first}\"")))
    );
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, _, _) = call!(srv, put("rev", &stale));
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _, _) = call!(
        srv,
        test::TestRequest::delete()
            .uri("/api/flows/rev")
            .insert_header((header::IF_MATCH, format!("\"{first}\"")))
    );
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
}

/// A string that must never come back in an error answer.
const MARK: &str = "M4RK.v4lue";

#[actix_web::test]
async fn no_error_answer_echoes_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let (status, _, _) = call!(srv, put("f", &feeder_display("f")));
    assert_eq!(status, StatusCode::CREATED);
    let lambda = |config: Value| {
        let mut base = json!({"functionName": "hello", "connection": {"region": "us-east-1"}});
        for (k, v) in config.as_object().unwrap() {
            base[k] = v.clone();
        }
        json!({"config": base})
    };
    let flow_with = |config: Value| {
        let mut doc = feeder_display("f");
        doc["nodes"][1]["config"] = config;
        doc
    };
    let mut edge_to_unknown = feeder_display("f");
    edge_to_unknown["edges"][0]["to"]["port"] = json!(MARK);
    let mut unknown_type = feeder_display("f");
    unknown_type["nodes"][1]["type"] = json!(MARK);
    let mut unknown_node = feeder_display("f");
    unknown_node["edges"][0]["from"]["node"] = json!(MARK);
    let test_route = "/api/components/lambda/test";
    let send_route = "/api/flows/f/nodes/feeder1/send";
    // (method, uri, body) — each carries the mark where a value goes.
    let cases: Vec<(&str, String, Value)> = vec![
        (
            "POST",
            test_route.into(),
            lambda(json!({"responseCharset": MARK})),
        ),
        (
            "POST",
            test_route.into(),
            lambda(json!({"functionName": format!("hello:{MARK}x"), "qualifier": "PROD"})),
        ),
        (
            "POST",
            test_route.into(),
            lambda(json!({"qualifier": 12345.678})),
        ),
        (
            "POST",
            test_route.into(),
            lambda(json!({"maxConcurrency": MARK})),
        ),
        (
            "POST",
            test_route.into(),
            lambda(json!({"invocationType": MARK})),
        ),
        (
            "POST",
            test_route.into(),
            lambda(json!({"connection": {"region": MARK}})),
        ),
        (
            "POST",
            test_route.into(),
            lambda(json!({"connection": {"endpointUrl": MARK}})),
        ),
        (
            "POST",
            test_route.into(),
            json!({"config": {}, "message": {"body": MARK, "bodyEncoding": "base64"}}),
        ),
        (
            "POST",
            test_route.into(),
            json!({"config": {}, "message": {"body": "x", "bodyEncoding": MARK}}),
        ),
        (
            "POST",
            test_route.into(),
            json!({"config": {}, "message": {"body": "x", "properties": {"p": [MARK]}}}),
        ),
        ("POST", test_route.into(), json!({"config": MARK})),
        (
            "POST",
            test_route.into(),
            json!({"flow": "f", "node": MARK}),
        ),
        ("POST", test_route.into(), json!({MARK: 1})),
        (
            "POST",
            test_route.into(),
            json!({"config": {}, "message": {"body": "x", MARK: 1}}),
        ),
        (
            "POST",
            "/api/components/display/test".into(),
            json!({"config": {"maxMessages": MARK}}),
        ),
        (
            "POST",
            "/api/components/display/test".into(),
            json!({"config": {"maxMessages": 1.5e300}}),
        ),
        ("POST", format!("/api/components/{MARK}/test"), json!({})),
        (
            "POST",
            "/api/lambda/functions".into(),
            json!({"connection": {"region": MARK}}),
        ),
        (
            "POST",
            "/api/lambda/functions".into(),
            json!({"connection": MARK}),
        ),
        (
            "POST",
            "/api/lambda/qualifiers".into(),
            json!({"connection": {}, "functionName": [MARK]}),
        ),
        ("POST", send_route.into(), json!({"count": MARK})),
        (
            "POST",
            send_route.into(),
            json!({"body": "x", "bodyEncoding": MARK}),
        ),
        (
            "POST",
            send_route.into(),
            json!({"body": "x", "properties": {"p": {"q": MARK}}}),
        ),
        (
            "PUT",
            "/api/flows/f".into(),
            flow_with(json!({"maxMessages": MARK})),
        ),
        (
            "PUT",
            "/api/flows/f".into(),
            flow_with(json!({"maxMessages": -7.25e-3})),
        ),
        ("PUT", "/api/flows/f".into(), edge_to_unknown),
        ("PUT", "/api/flows/f".into(), unknown_type),
        ("PUT", "/api/flows/f".into(), unknown_node),
        ("PUT", "/api/flows/f".into(), json!({"id": MARK})),
        ("PUT", "/api/flows/f".into(), json!({"rev": [MARK]})),
        ("PUT", format!("/api/flows/{MARK}"), feeder_display("f")),
        ("GET", format!("/api/flows/{MARK}"), Value::Null),
        (
            "GET",
            format!("/api/flows/f/nodes/feeder1/messages?limit={MARK}"),
            Value::Null,
        ),
        (
            "GET",
            format!("/api/flows/f/nodes/feeder1/messages?after={MARK}"),
            Value::Null,
        ),
        ("GET", format!("/api/{MARK}"), Value::Null),
        ("GET", format!("/{MARK}"), Value::Null),
    ];
    let mut refused = 0;
    for (method, uri, body) in &cases {
        let mut req = test::TestRequest::default()
            .method(method.parse().unwrap())
            .uri(uri);
        if !body.is_null() {
            req = req.set_json(body);
        }
        let (status, _, answer) = call!(srv, req);
        let text = answer.to_string();
        assert!(
            !text.contains(MARK),
            "{method} {uri} {body}: {status} echoed {text}"
        );
        assert!(
            !text.contains("12345.678") && !text.contains("1.5e300") && !text.contains("0.00725"),
            "{method} {uri}: a number was echoed: {text}"
        );
        if status.is_client_error() {
            refused += 1;
            assert_error_shape(&answer);
        }
    }
    assert_eq!(refused, cases.len(), "every hostile input is refused");
}

#[actix_web::test]
async fn flows_with_cycles_are_refused_naming_the_edges_of_the_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows");
    for (fixture, edges) in [
        ("invalid-cycle-self-loop", vec![("loop1", "/edges/1")]),
        (
            "invalid-cycle-three-nodes",
            vec![
                ("route2", "/edges/1"),
                ("route3", "/edges/2"),
                ("back1", "/edges/3"),
            ],
        ),
    ] {
        let doc: Value = serde_json::from_slice(
            &std::fs::read(fixtures.join(format!("{fixture}.json"))).unwrap(),
        )
        .unwrap();
        let (status, _, body) = call!(srv, put("fixture", &doc));
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fixture}: {body}"
        );
        let named: Vec<(&str, &str)> = body["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["node"].as_str().unwrap(), d["pointer"].as_str().unwrap()))
            .collect();
        assert_eq!(named, edges, "{fixture}: {body}");
        assert!(
            !dir.path().join("fixture.json").exists(),
            "nothing was saved"
        );
    }
}

#[actix_web::test]
async fn display_messages_come_in_bounded_pages() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    let mut doc = feeder_display("pages");
    doc["nodes"][1]["config"]["maxMessages"] = json!(0);
    let (status, _, _) = call!(srv, put("pages", &doc));
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, _) = call!(srv, post("/api/flows/pages/start", &json!({})));
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call!(
        srv,
        post(
            "/api/flows/pages/nodes/feeder1/send",
            &json!({"count": 250})
        )
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    let url = "/api/flows/pages/nodes/display1/messages";
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, _, page) = call!(srv, get(url));
        if page["total"] == 250 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all arrived: {page}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The default page is 100 messages; paging with `next` walks through all 250 in order.
    let (_, _, page) = call!(srv, get(url));
    assert_eq!(page["messages"].as_array().unwrap().len(), 100);
    assert_eq!(page["next"], 100);
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let (status, _, page) = call!(srv, get(&format!("{url}?limit=60&after={after}")));
        assert_eq!(status, StatusCode::OK, "{page}");
        let messages = page["messages"].as_array().unwrap();
        assert!(messages.len() <= 60);
        seen.extend(
            messages
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned()),
        );
        if messages.is_empty() {
            assert_eq!(page["next"], 250);
            break;
        }
        after = page["next"].as_u64().unwrap();
    }
    assert_eq!(seen.len(), 250);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 250);
    for bad in ["limit=0", "limit=1001", "limit=x", "after=-1", "page=2"] {
        let (status, _, body) = call!(srv, get(&format!("{url}?{bad}")));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (_, _, page) = call!(srv, get(&format!("{url}?limit=1000")));
    assert_eq!(page["messages"].as_array().unwrap().len(), 250);
    call!(srv, post("/api/flows/pages/stop", &json!({})));
}

#[actix_web::test]
async fn an_error_record_holds_its_input_once() {
    let dir = tempfile::tempdir().unwrap();
    let srv = test::init_service(app(state(dir.path(), Settings::default()))).await;
    // A 5 MB body that is not JSON fails before any call: the record carries it once.
    let body = "not json ".repeat(5_000_000 / 9);
    let (status, _, answer) = call!(
        srv,
        post(
            "/api/components/lambda/test",
            &json!({"config": {"functionName": "hello", "connection": {"region": "us-east-1"}},
                    "message": {"body": body, "properties": {"orderId": 42}}})
        )
    );
    assert_eq!(status, StatusCode::OK);
    let errors = answer["error"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", &answer.to_string()[..500]);
    let record_text = errors[0]["body"].as_str().unwrap();
    assert!(
        record_text.len() < body.len() + 10_000,
        "the record is {} bytes for a {} byte input",
        record_text.len(),
        body.len()
    );
    let record: Value = serde_json::from_str(record_text).unwrap();
    assert_eq!(record["requestPayload"], body.as_str());
    assert_eq!(record["inputMessage"]["properties"]["orderId"], 42);
    assert!(record["inputMessage"].get("body").is_none());
}
