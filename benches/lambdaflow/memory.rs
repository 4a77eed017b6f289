//! Memory rows: the resident size (`VmRSS` from `/proc/<pid>/status`) of a `lambdaflow serve`
//! process with 100 flows running, beside the same server idle, measured in the same run.
//!
//! The server is the release binary built with the benchmark (`CARGO_BIN_EXE_lambdaflow`), on
//! a free port with a fresh flow store, under the test support's supervisor. Flows are created
//! and started through the HTTP API (docs/api.md) as the designer does; each gets 10 messages
//! sent, and the size is read once every Display has received them (so each LambdaConnector
//! has built its client and opened its connections).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::endpoint::Endpoint;
use crate::stats::Row;
use crate::support::process::{Supervised, descendants};
use crate::support::{free_port, http};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A running `lambdaflow serve`.
struct Server {
    base: String,
    pid: u32,
    process: Supervised,
}

fn token_headers() -> Vec<(String, String)> {
    std::env::var("LAMBDAFLOW_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .map(|t| vec![("authorization".to_owned(), format!("Bearer {t}"))])
        .unwrap_or_default()
}

impl Server {
    fn start(flows: &Path) -> Server {
        let port = free_port();
        let log =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-serve-{port}.log"));
        let port_arg = port.to_string();
        let flows_arg = flows.display().to_string();
        let mut process = Supervised::spawn(
            "lambdaflow serve",
            env!("CARGO_BIN_EXE_lambdaflow"),
            &["serve", "--flows", &flows_arg, "--port", &port_arg],
            flows,
            &[("LAMBDAFLOW_LOG", "warn")],
            log,
        )
        .unwrap_or_else(|e| panic!("bench: {e}"));
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Some(status) = process.exit_status() {
                panic!(
                    "bench: lambdaflow serve exited ({status}):\n{}",
                    process.log_tail(30)
                );
            }
            let health = http::request(
                "GET",
                &format!("{base}/api/health"),
                &[],
                b"",
                Duration::from_secs(2),
            );
            if matches!(health, Ok(ref r) if r.status == 200) {
                break;
            }
            assert!(
                started.elapsed() < TIMEOUT,
                "bench: lambdaflow serve did not answer /api/health:\n{}",
                process.log_tail(30)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The supervisor runs the binary as a descendant; find it by name.
        let pid = descendants(process.pid())
            .into_iter()
            .find(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "lambdaflow")
            })
            .expect("the lambdaflow process under the supervisor");
        Server { base, pid, process }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let text = body.map(Value::to_string).unwrap_or_default();
        let auth = token_headers();
        let mut headers: Vec<(&str, &str)> =
            auth.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let url = format!("{}{path}", self.base);
        let r = http::request(method, &url, &headers, text.as_bytes(), TIMEOUT)
            .unwrap_or_else(|e| panic!("bench: {method} {path}: {e}"));
        assert!(
            (200..300).contains(&r.status),
            "bench: {method} {path} answered {}: {}\n{}",
            r.status,
            r.text(),
            self.process.log_tail(20)
        );
        serde_json::from_slice(&r.body).unwrap_or(Value::Null)
    }

    /// Resident size in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }
}

/// A served flow: Feeder → (LambdaConnector →) Display.
fn flow(id: &str, lambda_endpoint: Option<&str>) -> Value {
    let feeder = json!({"id": "feeder1", "type": "feeder", "config": {}});
    let display = json!({"id": "display1", "type": "display", "config": {"maxMessages": 10}});
    match lambda_endpoint {
        None => json!({
            "id": id, "name": id,
            "nodes": [feeder, display],
            "edges": [{"id": "r1", "from": {"node": "feeder1", "port": "out"}, "to": {"node": "display1", "port": "in"}}]
        }),
        Some(url) => json!({
            "id": id, "name": id,
            "nodes": [feeder,
                {"id": "lambda1", "type": "lambda", "config": {
                    "connection": {"region": "us-east-1", "accessKey": "test", "secretKey": "test",
                                   "endpointUrl": url},
                    "functionName": "hello"}},
                display],
            "edges": [
                {"id": "r1", "from": {"node": "feeder1", "port": "out"}, "to": {"node": "lambda1", "port": "in"}},
                {"id": "r2", "from": {"node": "lambda1", "port": "out"}, "to": {"node": "display1", "port": "in"}}
            ]
        }),
    }
}

/// Starts a server, reads its idle size, runs `flows` flows, reads the size again.
fn measure(flows: usize, lambda_endpoint: Option<&str>) -> (u64, u64) {
    let store = tempfile::tempdir().expect("a temporary flow store");
    let server = Server::start(store.path());
    std::thread::sleep(Duration::from_secs(1));
    let idle = server.rss_kib();
    for i in 0..flows {
        let id = format!("bench-{i:03}");
        server.call(
            "PUT",
            &format!("/api/flows/{id}"),
            Some(&flow(&id, lambda_endpoint)),
        );
        server.call("POST", &format!("/api/flows/{id}/start"), None);
        server.call(
            "POST",
            &format!("/api/flows/{id}/nodes/feeder1/send"),
            Some(&json!({"count": 10})),
        );
    }
    let started = Instant::now();
    for i in 0..flows {
        let path = format!("/api/flows/bench-{i:03}/status");
        loop {
            let status = server.call("GET", &path, None);
            if status["nodes"]["display1"]["received"].as_u64() == Some(10) {
                break;
            }
            assert!(
                started.elapsed() < TIMEOUT,
                "bench: flow {i} did not deliver: {status}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let running = server.rss_kib();
    (idle, running)
}

/// The memory rows: 100 Feeder → LambdaConnector → Display flows, and 100 Feeder → Display
/// flows, each beside the same server idle.
pub fn rows(flows: usize, lambda_endpoint: &Endpoint) -> Vec<Row> {
    let mut rows = Vec::new();
    let url = lambda_endpoint.url();
    for (label, endpoint) in [
        ("Feeder → LambdaConnector → Display", Some(url.as_str())),
        ("Feeder → Display", None),
    ] {
        eprintln!("bench: memory, lambdaflow serve with {flows} flows {label}");
        let (idle, running) = measure(flows, endpoint);
        rows.push(Row::new(
            format!("memory: lambdaflow serve, {flows} running flows {label}"),
            "VmRSS MiB",
            running as f64 / 1024.0,
            idle as f64 / 1024.0,
            format!(
                "the same server idle; {:.0} KiB per flow",
                (running as f64 - idle as f64) / flows as f64
            ),
        ));
    }
    rows
}
