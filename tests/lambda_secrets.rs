//! Secrets never leak: with static credentials (secret key and session token), failing calls
//! of every kind are run while every log line of every crate (TRACE) is captured; neither the
//! logs, nor the error records, nor the node status, nor the control-plane errors contain the
//! secret key or the session token.

#[path = "fixtures/lambda/common.rs"]
mod common;
#[path = "fixtures/lambda/fake_lambda.rs"]
mod fake_lambda;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use fake_lambda::{FakeLambda, Reply};
use lambdaflow::components::lambda::{Connection, LambdaConfig, LambdaConnector, list_functions};
use serde_json::json;

/// A log sink shared by every thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET_KEY),
        "{what} contains the secret key:\n{text}"
    );
    assert!(
        !text.contains(SESSION_TOKEN),
        "{what} contains the session token:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_logs_records_status_or_errors() {
    let logs = Captured::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .init();

    let fake = FakeLambda::start(|req, _| match req.json()["case"].as_str().unwrap_or("") {
        "rejected" => Reply::error(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        "function" => Reply::ok(r#"{"errorMessage":"boom","errorType":"DemoFailure"}"#)
            .header("x-amz-function-error", "Unhandled"),
        _ => Reply::error(
            404,
            "ResourceNotFoundException",
            "Function not found: hello",
        ),
    })
    .await;
    let mut cfg = config(&fake.endpoint(), json!({"logTail": true}));
    cfg["connection"]["sessionToken"] = json!(SESSION_TOKEN);
    let config: LambdaConfig = serde_json::from_value(cfg.clone()).unwrap();
    assert_clean("the config's Debug", &format!("{config:?}"));

    let mut h = start(LambdaConnector::from_json("lambda1", &cfg).unwrap());
    for case in ["rejected", "function", "missing"] {
        h.send(json_message(&json!({"case": case}).to_string()))
            .await
            .unwrap();
    }
    let mut records = Vec::new();
    for _ in 0..3 {
        records.push(h.error(WAIT).await.expect("an error record"));
    }
    let codes: Vec<String> = records
        .iter()
        .map(|m| body(m)["error"]["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        codes,
        [
            "UnrecognizedClientException",
            "Unhandled",
            "ResourceNotFoundException"
        ]
    );
    let rest = h.stop(WAIT).await;
    for m in &records {
        assert_clean("an error record", &serde_json::to_string(m).unwrap());
    }
    assert_clean(
        "the node status",
        &serde_json::to_string(&rest.status).unwrap(),
    );

    // The signed requests did carry the token: the test would catch a leak of it.
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.header("x-amz-security-token") == Some(SESSION_TOKEN))
    );

    // A refused connection and a control-plane error.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut refused = cfg.clone();
    refused["connection"]["endpointUrl"] = json!(format!("http://127.0.0.1:{port}"));
    refused["errorHandling"] = json!({"connection": {"retry": {"maxAttempts": 1}}});
    let mut h = start(LambdaConnector::from_json("lambda1", &refused).unwrap());
    h.send(json_message("{}")).await.unwrap();
    let err = h.error(WAIT).await.expect("connection error");
    assert_eq!(body(&err)["error"]["type"], "connection");
    assert_clean(
        "a connection error record",
        &serde_json::to_string(&err).unwrap(),
    );
    h.stop(WAIT).await;

    let connection: Connection = serde_json::from_value(refused["connection"].clone()).unwrap();
    let e = list_functions(&connection).await.unwrap_err();
    assert_clean("a control-plane error", &format!("{e} {e:?}"));

    let text = logs.text();
    assert!(
        text.contains("Message failed") && text.contains("lambda1"),
        "the logs were captured:\n{text}"
    );
    assert!(
        text.contains("aws_smithy_runtime"),
        "SDK traces were captured too"
    );
    assert_clean("the logs", &text);
}
