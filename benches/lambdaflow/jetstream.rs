//! The `jetstream` section: flows on JetStream edges as separate `lambdaflow` processes against
//! a real `nats-server -js` started on a free port with a temporary store.
//!
//! - a JetStream edge against a local edge: the same Feeder → Display flow, `run --nats` vs
//!   `run`, messages per second of the whole run (connection and drain detection included);
//! - one, two and three `lambdaflow worker` processes against an endpoint that answers after
//!   20 ms, at `maxConcurrency` 4 per node: results per second, each against one worker;
//! - recovery after `kill -9` of one of two workers: seconds from the kill until every message
//!   came out, against the acknowledgement wait the workers were started with (the floor: a
//!   dead worker's messages wait that long before another worker gets them).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::endpoint::{Action, Endpoint};
use crate::stats::{Row, median};

const BIN: &str = env!("CARGO_BIN_EXE_lambdaflow");
const ACK_WAIT_MS: u64 = 3_000;

/// A `nats-server -js` for the section; killed when dropped.
struct Nats {
    child: Child,
    url: String,
    _store: tempfile::TempDir,
}

impl Nats {
    fn start() -> Nats {
        let store = tempfile::tempdir().expect("a store directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("bench: nats-server: {e}; install it with scripts/install-test-deps.sh")
            });
        let url = format!("nats://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "bench: nats-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Nats {
            child,
            url,
            _store: store,
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A worker process whose printed lines are counted.
struct Worker {
    child: Child,
    printed: Arc<AtomicU64>,
}

impl Worker {
    fn start(nats: &Nats, flow: &Path, name: &str) -> Worker {
        let mut child = Command::new(BIN)
            .args(["worker", "--nats", &nats.url, "--worker-id", name])
            .args([
                "--ack-wait-ms",
                &ACK_WAIT_MS.to_string(),
                "--lease-ttl-ms",
                "2000",
            ])
            .arg(flow)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("lambdaflow worker starts");
        let printed = Arc::new(AtomicU64::new(0));
        let count = printed.clone();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if line.is_err() {
                    break;
                }
                count.fetch_add(1, Ordering::SeqCst);
            }
        });
        Worker { child, printed }
    }

    fn printed(&self) -> u64 {
        self.printed.load(Ordering::SeqCst)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn feeder(distinct: u64, repeat: u64) -> Value {
    let messages: Vec<Value> = (0..distinct)
        .map(|i| json!({"body": format!("{{\"n\":{i}}}"), "properties": {"n": i}}))
        .collect();
    json!({"id": "feeder1", "type": "feeder",
           "config": {"sendOnStart": true, "repeat": repeat, "messages": messages}})
}

fn edge(id: &str, from: &str, port: &str, to: &str, jetstream: bool) -> Value {
    let mut e =
        json!({"id": id, "from": {"node": from, "port": port}, "to": {"node": to, "port": "in"}});
    if jetstream {
        e["transport"] = json!("jetstream");
    }
    e
}

fn write(dir: &Path, flow: &Value) -> PathBuf {
    let path = dir.join(format!("{}.json", flow["id"].as_str().expect("an id")));
    std::fs::write(&path, flow.to_string()).expect("the flow file is written");
    path
}

/// Messages per second of `lambdaflow run [--nats URL] --count` over a Feeder → Display flow.
fn pass_through_rate(dir: &Path, nats: Option<&Nats>, id: &str, messages: u64) -> f64 {
    let flow = json!({"id": id, "nodes": [feeder(1_000, messages / 1_000),
                                          {"id": "display1", "type": "display", "config": {"maxMessages": 1}}],
                      "edges": [edge("e1", "feeder1", "out", "display1", nats.is_some())]});
    let path = write(dir, &flow);
    let mut cmd = Command::new(BIN);
    cmd.arg("run").arg("--count");
    if let Some(nats) = nats {
        cmd.args(["--nats", &nats.url]);
    }
    let started = Instant::now();
    let out = cmd.arg(&path).output().expect("lambdaflow run");
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "bench: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = format!("{{\"node\":\"display1\",\"received\":{messages}}}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), expected);
    messages as f64 / elapsed
}

fn lambda_flow(id: &str, endpoint: &Endpoint, distinct: u64, repeat: u64) -> Value {
    json!({"id": id, "nodes": [
        feeder(distinct, repeat),
        {"id": "lambda1", "type": "lambda", "config": {"functionName": "bench", "maxConcurrency": 4,
            "connection": {"region": "us-east-1", "accessKey": "AKIDEXAMPLE", "secretKey": "bench",
                           "endpointUrl": endpoint.url()}}},
        {"id": "display1", "type": "display", "config": {"maxMessages": 1}}],
        "edges": [edge("e1", "feeder1", "out", "lambda1", true),
                  edge("e2", "lambda1", "out", "display1", true)]})
}

/// Waits until the workers printed `messages` lines in all (panics after `patience`).
fn wait_printed(workers: &[&Worker], messages: u64, patience: Duration) {
    let deadline = Instant::now() + patience;
    while workers.iter().map(|w| w.printed()).sum::<u64>() < messages {
        assert!(
            Instant::now() < deadline,
            "bench: the workers did not finish"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Results per second with `n` workers against a 20 ms endpoint.
fn workers_rate(dir: &Path, nats: &Nats, endpoint: &Endpoint, n: usize, run: usize) -> f64 {
    let messages = 1_200;
    let path = write(
        dir,
        &lambda_flow(&format!("scale{n}r{run}"), endpoint, 600, 2),
    );
    let started = Instant::now();
    let workers: Vec<Worker> = (0..n)
        .map(|i| Worker::start(nats, &path, &format!("w{i}")))
        .collect();
    let refs: Vec<&Worker> = workers.iter().collect();
    wait_printed(&refs, messages, Duration::from_secs(300));
    messages as f64 / started.elapsed().as_secs_f64()
}

/// Seconds from `kill -9` of one of two workers until every message came out.
fn recovery_seconds(dir: &Path, nats: &Nats, endpoint: &Endpoint, run: usize) -> f64 {
    let messages = 1_200;
    let path = write(
        dir,
        &lambda_flow(&format!("recover{run}"), endpoint, 600, 2),
    );
    let mut a = Worker::start(nats, &path, "a");
    let b = Worker::start(nats, &path, "b");
    wait_printed(&[&a, &b], messages / 3, Duration::from_secs(300));
    let _ = a.child.kill();
    let killed = Instant::now();
    let printed_by_a = a.printed();
    // What the killed worker had printed is out; the rest must come from b.
    wait_printed(
        &[&b],
        messages.saturating_sub(printed_by_a),
        Duration::from_secs(300),
    );
    killed.elapsed().as_secs_f64()
}

/// The section's rows. Blocking: run it with `spawn_blocking` on the benchmark's runtime.
pub fn rows(full: bool, runs: usize) -> Vec<Row> {
    let nats = Nats::start();
    let dir = tempfile::tempdir().expect("a flows directory");
    let runs = if full { runs.clamp(1, 3) } else { 1 };
    let messages = if full { 20_000 } else { 2_000 };
    eprintln!("bench: JetStream edge vs local edge, {messages} messages × {runs} runs");
    let mut local = Vec::new();
    let mut durable = Vec::new();
    for run in 0..runs {
        local.push(pass_through_rate(
            dir.path(),
            None,
            &format!("local{run}"),
            messages,
        ));
        durable.push(pass_through_rate(
            dir.path(),
            Some(&nats),
            &format!("js{run}"),
            messages,
        ));
    }
    let mut rows = vec![Row::new(
        format!("JetStream edge: Feeder → [jetstream] → Display, {messages} msgs, run --nats"),
        "msg/s",
        median(&durable),
        median(&local),
        "the same flow on a local edge",
    )];

    // Called on a blocking thread of the benchmark's runtime: the endpoint serves on it.
    let endpoint = Endpoint::start(Arc::new(|_| {
        Action::ok("{}").after(Duration::from_millis(20))
    }));
    eprintln!("bench: 1, 2, 3 workers against a 20 ms endpoint, maxConcurrency 4 per node");
    let rate = |n: usize| {
        let r: Vec<f64> = (0..runs)
            .map(|run| workers_rate(dir.path(), &nats, &endpoint, n, run))
            .collect();
        median(&r)
    };
    let one = rate(1);
    for n in [2, 3] {
        rows.push(Row::new(
            format!("JetStream workers: {n} workers, 20 ms endpoint, maxConcurrency 4, 1,200 msgs"),
            "results/s",
            rate(n),
            one,
            "1 worker",
        ));
    }
    eprintln!("bench: recovery after kill -9 of one of two workers");
    let recovery: Vec<f64> = (0..runs)
        .map(|run| recovery_seconds(dir.path(), &nats, &endpoint, run))
        .collect();
    rows.push(Row::new(
        "JetStream recovery: kill -9 of 1 of 2 workers until every message is out",
        "s",
        median(&recovery),
        ACK_WAIT_MS as f64 / 1000.0,
        "--ack-wait-ms (the floor)",
    ));
    rows
}
