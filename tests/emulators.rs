//! The test-support module against the real emulators.
//!
//! These tests pin down what `cargo lambda watch` and `moto_server` really do (the facts
//! recorded in functions/README.md), so that a change of either tool shows up here first, and
//! prove that the support module starts, seeds and stops them.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_lambda::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_lambda::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde_json::{Value, json};

use support::process::{descendants, pid_alive};
use support::{LambdaEmulator, MotoServer, free_port, http, lambda_config};

fn json_payload(value: &Value) -> Blob {
    Blob::new(value.to_string())
}

fn parse(blob: Option<&Blob>) -> Value {
    let bytes = blob.expect("response has a payload").as_ref();
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "payload is not JSON ({e}): {:?}",
            String::from_utf8_lossy(bytes)
        )
    })
}

/// Counts the HTTP attempts an SDK client makes, retries included.
#[derive(Debug, Clone, Default)]
struct AttemptCounter(Arc<AtomicUsize>);

impl Intercept for AttemptCounter {
    fn name(&self) -> &'static str {
        "AttemptCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// cargo lambda watch

#[tokio::test]
async fn hello_greets_through_the_sdk() {
    let emulator = LambdaEmulator::shared();
    let out = emulator
        .client()
        .invoke()
        .function_name("hello")
        .payload(json_payload(&json!({"name": "World"})))
        .send()
        .await
        .unwrap_or_else(|e| panic!("invoke hello: {e:?}\n{}", emulator.log_tail(20)));
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), None);
    assert_eq!(parse(out.payload()), json!({"greeting": "Hello, World!"}));
    // cargo-lambda sends neither X-Amz-Executed-Version nor X-Amz-Log-Result.
    assert_eq!(out.executed_version(), None);
    assert_eq!(out.log_result(), None);
}

#[tokio::test]
async fn echo_and_uppercase_answer_through_the_sdk() {
    let client = LambdaEmulator::shared().client();
    let input = json!({"a": "mixed Case", "n": [1, "two"]});
    let echoed = client
        .invoke()
        .function_name("echo")
        .payload(json_payload(&input))
        .send()
        .await
        .expect("invoke echo");
    assert_eq!(parse(echoed.payload()), input);
    let upper = client
        .invoke()
        .function_name("uppercase")
        .payload(json_payload(&input))
        .send()
        .await
        .expect("invoke uppercase");
    assert_eq!(
        parse(upper.payload()),
        json!({"a": "MIXED CASE", "n": [1, "TWO"]})
    );
}

#[test]
fn a_function_error_is_http_500_without_x_amz_function_error() {
    let emulator = LambdaEmulator::shared();
    let response =
        http::post(&emulator.invoke_url("fail"), &[], br#"{"orderId":42}"#).expect("POST fail");
    assert_eq!(response.status, 500, "{response:?}");
    assert_eq!(
        response.header("x-amz-function-error"),
        None,
        "{response:?}"
    );
    assert_eq!(response.header("x-amzn-errortype"), None, "{response:?}");
    assert_eq!(response.header("x-amzn-requestid"), None, "{response:?}");
    assert_eq!(
        response.json(),
        json!({"errorType": "DemoFailure",
               "errorMessage": r#"fail always fails; it received {"orderId":42}"#})
    );

    let invalid = http::post(&emulator.invoke_url("hello"), &[], b"{}").expect("POST hello");
    assert_eq!(invalid.status, 500);
    assert_eq!(invalid.json()["errorType"], "InvalidInput");
}

#[tokio::test]
async fn the_sdk_sees_a_function_error_as_a_retried_service_error() {
    let emulator = LambdaEmulator::shared();
    let attempts = AttemptCounter::default();
    let config = lambda_config(&emulator.endpoint())
        .interceptor(attempts.clone())
        .build();
    let client = aws_sdk_lambda::Client::from_conf(config);
    let err = client
        .invoke()
        .function_name("fail")
        .payload(json_payload(&json!({"k": "v"})))
        .send()
        .await
        .expect_err("fail must not succeed");
    // Not Ok(200 + FunctionError) as on AWS: an HTTP 500 service error with no error code,
    // which the SDK's standard retry policy retries (3 attempts in all).
    let SdkError::ServiceError(service) = &err else {
        panic!("expected a service error, got {err:?}");
    };
    assert_eq!(service.raw().status().as_u16(), 500);
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::code(&err),
        None
    );
    let body = service.raw().body().bytes().expect("buffered body");
    let body: Value = serde_json::from_slice(body).expect("JSON error body");
    assert_eq!(body["errorType"], "DemoFailure");
    assert_eq!(attempts.0.load(Ordering::SeqCst), 3);
}

#[test]
fn event_and_dry_run_run_synchronously_with_200() {
    let emulator = LambdaEmulator::shared();
    for invocation_type in ["Event", "DryRun"] {
        // The answer is the function's own result, so the call ran to its end before the
        // response was sent: synchronously.
        let response = http::post(
            &emulator.invoke_url("slow"),
            &[("X-Amz-Invocation-Type", invocation_type)],
            br#"{"ms":300}"#,
        )
        .expect("POST slow");
        assert_eq!(response.status, 200, "{invocation_type}: {response:?}");
        assert_eq!(
            response.json(),
            json!({"sleptMs": 300}),
            "{invocation_type}"
        );
    }
}

#[test]
fn an_unknown_function_is_404_without_an_aws_error_type() {
    let emulator = LambdaEmulator::shared();
    let response = http::post(&emulator.invoke_url("no-such-function"), &[], b"{}")
        .expect("POST no-such-function");
    assert_eq!(response.status, 404);
    assert_eq!(response.header("x-amzn-errortype"), None);
    let body = response.json();
    assert_eq!(body["title"], "Missing function");
    assert!(body["detail"].as_str().unwrap().contains("hello"), "{body}");
}

#[tokio::test]
async fn the_sdk_sees_an_unknown_function_as_a_404_without_an_error_code() {
    let emulator = LambdaEmulator::shared();
    let attempts = AttemptCounter::default();
    let client = aws_sdk_lambda::Client::from_conf(
        lambda_config(&emulator.endpoint())
            .interceptor(attempts.clone())
            .build(),
    );
    let err = client
        .invoke()
        .function_name("no-such-function")
        .send()
        .await
        .expect_err("unknown function");
    // Not a ResourceNotFoundException: cargo-lambda's 404 body has no AWS error type.
    assert!(
        !matches!(
            err.as_service_error(),
            Some(aws_sdk_lambda::operation::invoke::InvokeError::ResourceNotFoundException(_))
        ),
        "{err:?}"
    );
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::code(&err),
        None
    );
    let SdkError::ServiceError(service) = &err else {
        panic!("expected a service error, got {err:?}");
    };
    assert_eq!(service.raw().status().as_u16(), 404);
    assert_eq!(attempts.0.load(Ordering::SeqCst), 1, "a 404 is not retried");
}

#[tokio::test]
async fn a_json_string_payload_reaches_the_function() {
    let out = LambdaEmulator::shared()
        .client()
        .invoke()
        .function_name("uppercase")
        .payload(Blob::new(r#""shout""#))
        .send()
        .await
        .expect("invoke uppercase");
    assert_eq!(parse(out.payload()), json!("SHOUT"));
}

/// Two calls of `slow` that wait for each other at a barrier in `dir` for up to `patience_ms`,
/// sent at the same time; their answers, `{"met": bool}` each.
fn two_calls_at_a_barrier(url: &str, dir: &std::path::Path, patience_ms: u64) -> Vec<bool> {
    let body = json!({"barrier": {"dir": dir, "parties": 2}, "ms": patience_ms}).to_string();
    let calls: Vec<_> = (0..2)
        .map(|_| {
            let (url, body) = (url.to_owned(), body.clone());
            std::thread::spawn(move || http::post(&url, &[], body.as_bytes()).unwrap())
        })
        .collect();
    let mut met: Vec<bool> = calls
        .into_iter()
        .map(|call| {
            let response = call.join().unwrap();
            assert_eq!(response.status, 200, "{response:?}");
            response.json()["met"].as_bool().expect("met")
        })
        .collect();
    met.sort_unstable();
    met
}

#[test]
fn concurrency_one_runs_invocations_one_after_another() {
    let emulator = LambdaEmulator::shared();
    let dir = tempfile::tempdir().unwrap();
    // One at a time: the first call waits alone for its peer and gives up; the second finds the
    // first one's mark at once. Had they overlapped, both would have met.
    assert_eq!(
        two_calls_at_a_barrier(&emulator.invoke_url("slow"), dir.path(), 500),
        vec![false, true]
    );
}

#[test]
fn an_emulator_of_its_own_runs_in_parallel_and_leaves_nothing_behind() {
    let emulator = LambdaEmulator::start_with_concurrency(2);
    let url = emulator.invoke_url("slow");
    let dir = tempfile::tempdir().unwrap();
    let pid = emulator.pid();
    let comm = |p: &u32| std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
    let names = |family: &[u32]| -> Vec<String> {
        family.iter().map(|p| comm(p).trim().to_owned()).collect()
    };
    // Both calls meet at the barrier: they ran at the same time, each in a process of its own.
    assert_eq!(
        two_calls_at_a_barrier(&url, dir.path(), 60_000),
        vec![true, true]
    );
    let mut family = Vec::new();
    support::wait_until("cargo-lambda and two `slow` processes run", || {
        family = descendants(pid);
        let names = names(&family);
        names.iter().filter(|n| *n == "slow").count() == 2 && names.contains(&"cargo-lambda".into())
    });

    let port = emulator.port();
    drop(emulator);
    assert!(!pid_alive(pid), "supervisor {pid} survived drop");
    support::wait_until("no process of the emulator is left", || {
        family.iter().all(|p| !pid_alive(*p))
    });
    support::wait_until("the emulator's port is closed", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    });
}

// ---------------------------------------------------------------------------------------------
// moto_server

#[tokio::test]
async fn moto_lists_seeded_functions_aliases_and_versions() {
    let moto = MotoServer::start();
    let arn = moto.create_function("hello").await;
    assert_eq!(arn, "arn:aws:lambda:us-east-1:123456789012:function:hello");
    moto.create_function("echo").await;
    assert_eq!(moto.publish_version("hello").await, "1");
    assert_eq!(moto.publish_version("hello").await, "2");
    let alias_arn = moto.create_alias("hello", "PROD", "1").await;
    assert_eq!(alias_arn, format!("{arn}:PROD"));

    let client = moto.client();
    let functions = client.list_functions().send().await.expect("ListFunctions");
    let mut names: Vec<&str> = functions
        .functions()
        .iter()
        .filter_map(|f| f.function_name())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["echo", "hello"]);

    let aliases = client
        .list_aliases()
        .function_name("hello")
        .send()
        .await
        .expect("ListAliases");
    let aliases: Vec<(&str, &str)> = aliases
        .aliases()
        .iter()
        .map(|a| (a.name().unwrap(), a.function_version().unwrap()))
        .collect();
    assert_eq!(aliases, [("PROD", "1")]);

    let versions = client
        .list_versions_by_function()
        .function_name("hello")
        .send()
        .await
        .expect("ListVersionsByFunction");
    let versions: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(versions, ["$LATEST", "1", "2"]);
}

#[tokio::test]
async fn moto_answers_event_with_202_and_dry_run_with_204() {
    let moto = MotoServer::start();
    moto.create_function("hello").await;
    let client = moto.client();
    let payload = json!({"name": "World"});

    let sync = client
        .invoke()
        .function_name("hello")
        .payload(json_payload(&payload))
        .send()
        .await
        .expect("RequestResponse");
    assert_eq!(sync.status_code(), 200);
    assert_eq!(parse(sync.payload()), payload, "moto echoes the payload");

    let event = client
        .invoke()
        .function_name("hello")
        .invocation_type(InvocationType::Event)
        .payload(json_payload(&payload))
        .send()
        .await
        .expect("Event");
    assert_eq!(event.status_code(), 202);

    let dry_run = client
        .invoke()
        .function_name("hello")
        .invocation_type(InvocationType::DryRun)
        .payload(json_payload(&payload))
        .send()
        .await
        .expect("DryRun");
    assert_eq!(dry_run.status_code(), 204);
}

#[tokio::test]
async fn moto_does_not_report_missing_functions_and_serves_queued_results() {
    let moto = MotoServer::start();
    // A function that was never created still "answers" with its payload.
    let missing = moto.invoke_raw("never-created", &[], br#"{"x":1}"#);
    assert_eq!(missing.status, 200);
    assert_eq!(missing.text(), r#"{"x":1}"#);
    assert_eq!(missing.header("x-amz-function-error"), None);

    moto.create_function("hello").await;
    moto.queue_invoke_results(&[r#"{"canned":true}"#]);
    let client = moto.client();
    let first = client
        .invoke()
        .function_name("hello")
        .payload(json_payload(&json!({"n": 1})))
        .send()
        .await
        .expect("first invoke");
    assert_eq!(parse(first.payload()), json!({"canned": true}));
    let second = client
        .invoke()
        .function_name("hello")
        .payload(json_payload(&json!({"n": 2})))
        .send()
        .await
        .expect("second invoke");
    assert_eq!(parse(second.payload()), json!({"n": 2}));
}

#[test]
fn moto_answers_non_object_json_payloads_with_an_html_500() {
    let moto = MotoServer::start();
    for payload in [&br#""text""#[..], b"[1,2]", b"42", b"null"] {
        let response = moto.invoke_raw("any", &[], payload);
        assert_eq!(response.status, 500, "{}", String::from_utf8_lossy(payload));
        assert!(response.text().contains("Internal Server Error"));
    }
    // Objects, and bodies that are not JSON at all, are echoed.
    assert_eq!(
        moto.invoke_raw("any", &[], br#"{"a":1}"#).text(),
        r#"{"a":1}"#
    );
    assert_eq!(moto.invoke_raw("any", &[], b"not json").text(), "not json");
}

#[tokio::test]
async fn moto_reports_an_oversized_response_as_an_unhandled_function_error() {
    // The one way to get 200 + X-Amz-Function-Error out of moto without Docker: its echo
    // of a payload over ~6 MB is replaced by a Function.ResponseSizeTooLarge error.
    let moto = MotoServer::start();
    moto.create_function("hello").await;
    let big = json!({"pad": "x".repeat(6_500_000)});
    let out = moto
        .client()
        .invoke()
        .function_name("hello")
        .payload(json_payload(&big))
        .send()
        .await
        .expect("invoke with a big payload");
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), Some("Unhandled"));
    let body = parse(out.payload());
    assert_eq!(body["errorType"], "Function.ResponseSizeTooLarge");
}

#[test]
fn moto_stops_on_drop() {
    let moto = MotoServer::start();
    let port = moto.port();
    assert!(http::get(&format!("{}/moto-api/", moto.endpoint())).is_ok());
    drop(moto);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "moto still listens on {port}"
    );
}

// ---------------------------------------------------------------------------------------------
// the support module's own pieces

#[test]
fn free_port_can_be_bound() {
    let port = free_port();
    assert_ne!(port, 0);
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("free_port gave a usable port");
}

#[test]
fn the_raw_http_client_reads_chunked_bodies() {
    let response = http::parse_response(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    )
    .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("X-a"), Some("1"));
    assert_eq!(response.text(), "abcde");
}

#[test]
fn the_zip_writer_matches_known_crc_and_layout() {
    assert_eq!(support::zip::crc32(b"123456789"), 0xCBF4_3926);
    let zip = support::zip::stored_zip(&[("a.txt", b"hi")]);
    assert_eq!(&zip[..4], b"PK\x03\x04");
    let eocd = &zip[zip.len() - 22..];
    assert_eq!(&eocd[..4], b"PK\x05\x06");
    assert_eq!(u16::from_le_bytes([eocd[10], eocd[11]]), 1, "one entry");
}

#[test]
fn the_supervisor_stops_its_command_when_the_owner_dies() {
    // Stand-in for a test process: a `sleep` that we kill.
    let mut owner = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let log = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("supervise-test.log");
    let script = support::repo_root().join("tests/support/supervise.sh");
    // The command starts a grandchild in a session of its own, as cargo-lambda does.
    let mut supervisor = std::process::Command::new("sh")
        .arg(&script)
        .arg(owner.id().to_string())
        .args(["sh", "-c", "setsid sleep 60 & sleep 60"])
        .stdout(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut family = Vec::new();
    support::wait_until("sh, sleep and setsid sleep run", || {
        family = descendants(supervisor.id());
        family.len() >= 3
    });

    owner.kill().unwrap();
    owner.wait().unwrap();
    support::wait_until("the supervisor exits", || {
        supervisor.try_wait().unwrap().is_some()
    });
    support::wait_until("nothing survives its owner", || {
        family.iter().all(|p| !pid_alive(*p))
    });
}
