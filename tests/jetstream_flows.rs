//! Flows on JetStream edges, end to end: `lambdaflow worker` and `lambdaflow run --nats`
//! processes against a real `nats-server -js` (design §10). Two workers share the work and a
//! `kill -9` loses nothing; a keyed edge keeps each key's order across workers; a killed
//! source's lease moves and its sends resume without duplicates; the server restarted mid-run
//! loses nothing; poison lands in the dead letters with a record; and a JetStream edge without
//! `--nats` is refused naming the edge. Assertions are about ids, counts and order, never about
//! durations.

#[allow(unused_imports)]
mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use support::aws_wire::{AwsWire, Reply};
use support::nats::NatsServer;
use support::{PATIENCE, wait_until};

/// A `lambdaflow worker` (or `run --nats`) process, with what its Displays printed.
struct WorkerProcess {
    name: String,
    child: Child,
    lines: Arc<Mutex<Vec<Value>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    log: PathBuf,
}

impl WorkerProcess {
    fn spawn(args: &[&str], name: &str) -> WorkerProcess {
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("jetstream-flows")
            .join(format!("{name}-{}.log", std::process::id()));
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_lambdaflow"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("lambdaflow starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap().push(v);
                }
            }
        });
        WorkerProcess {
            name: name.into(),
            child,
            lines,
            reader: Some(reader),
            log,
        }
    }

    fn worker(server: &NatsServer, flow: &Path, name: &str) -> WorkerProcess {
        WorkerProcess::spawn(
            &[
                "worker",
                "--nats",
                &server.url(),
                "--worker-id",
                name,
                "--ack-wait-ms",
                "3000",
                "--lease-ttl-ms",
                "2000",
                flow.to_str().unwrap(),
            ],
            name,
        )
    }

    fn printed(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`, then everything it printed before it died.
    fn kill_hard(&mut self) -> Vec<Value> {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.printed()
    }

    fn terminate(&mut self) -> Option<i32> {
        support::process::signal("TERM", &self.child.id().to_string());
        let mut status = None;
        wait_until(&format!("{} exits after SIGTERM", self.name), || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        status.and_then(|s| s.code())
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `n` property of every printed result (error records are not results).
fn ns(lines: &[Value]) -> Vec<u64> {
    lines
        .iter()
        .filter(|m| m["properties"].get("error.type").is_none())
        .filter_map(|m| m["properties"]["n"].as_u64())
        .collect()
}

/// Printed error records.
fn records(lines: &[Value]) -> usize {
    lines
        .iter()
        .filter(|m| m["properties"].get("error.type").is_some())
        .count()
}

fn counts(all: &[u64]) -> BTreeMap<u64, usize> {
    let mut c = BTreeMap::new();
    for n in all {
        *c.entry(*n).or_insert(0) += 1;
    }
    c
}

/// Result lines by message id (a message delivered twice prints the same id twice).
fn ids(lines: &[Value]) -> Vec<(String, u64)> {
    lines
        .iter()
        .filter(|m| m["properties"].get("error.type").is_none())
        .filter_map(|m| Some((m["id"].as_str()?.to_owned(), m["properties"]["n"].as_u64()?)))
        .collect()
}

/// Feeder messages `{"n": i}` with property `n` (and `k = i % keys` when `keys > 0`), each
/// sent `repeat` times.
fn feeder_repeated(count: u64, repeat: u64, keys: u64, interval_ms: u64) -> Value {
    let mut f = feeder(count, keys, interval_ms);
    f["config"]["repeat"] = json!(repeat);
    f
}

/// Feeder messages `{"n": i}` with property `n` (and `k = i % keys` when `keys > 0`).
fn feeder(count: u64, keys: u64, interval_ms: u64) -> Value {
    let messages: Vec<Value> = (0..count)
        .map(|i| {
            let mut props = json!({"n": i});
            if keys > 0 {
                props["k"] = json!(i % keys);
            }
            json!({"body": format!("{{\"n\":{i}}}"), "contentType": "application/json",
                   "properties": props})
        })
        .collect();
    json!({"id": "feeder1", "type": "feeder",
           "config": {"sendOnStart": true, "intervalMs": interval_ms, "messages": messages}})
}

fn display(id: &str) -> Value {
    json!({"id": id, "type": "display", "config": {"maxMessages": 10}})
}

fn lambda(endpoint: &str) -> Value {
    json!({"id": "lambda1", "type": "lambda", "config": {
        "functionName": "echo", "maxConcurrency": 8,
        "connection": {"region": "us-east-1", "accessKey": "AKIDEXAMPLE", "secretKey": "not-a-secret",
                       "endpointUrl": endpoint}}})
}

fn js_edge(id: &str, from: &str, port: &str, to: &str) -> Value {
    json!({"id": id, "from": {"node": from, "port": port}, "to": {"node": to, "port": "in"},
           "transport": "jetstream"})
}

fn write_flow(dir: &Path, flow: Value) -> PathBuf {
    let path = dir.join(format!("{}.json", flow["id"].as_str().unwrap()));
    std::fs::write(&path, flow.to_string()).unwrap();
    path
}

/// An endpoint that answers every invocation with its payload.
async fn echo_endpoint() -> AwsWire {
    AwsWire::start(|req| Reply::ok(req.body.clone())).await
}

#[test]
fn a_jetstream_edge_without_nats_is_refused_naming_the_edge() {
    let dir = tempfile::tempdir().unwrap();
    let flow = write_flow(
        dir.path(),
        json!({"id": "nobroker", "nodes": [feeder(3, 0, 0), display("display1")],
               "edges": [js_edge("to-display", "feeder1", "out", "display1")]}),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_lambdaflow"))
        .args(["run", flow.to_str().unwrap()])
        .env_remove("NATS_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("edge to-display"), "{stderr}");
    assert!(stderr.contains("--nats"), "{stderr}");
    // Valid as a document: the designer can save it and a worker can run it.
    let valid = Command::new(env!("CARGO_BIN_EXE_lambdaflow"))
        .args(["validate", flow.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(valid.status.success());
    // A partition key belongs to JetStream edges only.
    let keyed_local = write_flow(
        dir.path(),
        json!({"id": "keyedlocal", "nodes": [feeder(3, 0, 0), display("display1")],
               "edges": [{"id": "e1", "from": {"node": "feeder1", "port": "out"},
                          "to": {"node": "display1", "port": "in"}, "partitionKey": "k"}]}),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_lambdaflow"))
        .args(["validate", keyed_local.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/edges/0/partitionKey"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_two_workers_one_killed_hard_nothing_lost() {
    // 1,000 distinct messages (the Feeder's limit), sent 10 times each.
    const DISTINCT: u64 = 1_000;
    const ROUNDS: u64 = 10;
    const N: u64 = DISTINCT * ROUNDS;
    let server = NatsServer::start();
    let endpoint = echo_endpoint().await;
    let dir = tempfile::tempdir().unwrap();
    let flow = write_flow(
        dir.path(),
        json!({"id": "scale", "nodes": [feeder_repeated(DISTINCT, ROUNDS, 0, 0), lambda(&endpoint.url()), display("display1"), display("errors")],
               "edges": [js_edge("to-lambda", "feeder1", "out", "lambda1"),
                         js_edge("to-display", "lambda1", "out", "display1"),
                         js_edge("to-errors", "lambda1", "error", "errors")]}),
    );
    let mut a = WorkerProcess::worker(&server, &flow, "worker-a");
    let b = WorkerProcess::worker(&server, &flow, "worker-b");
    let total = |ws: &[&WorkerProcess]| ws.iter().map(|w| w.printed().len()).sum::<usize>();
    // Mid-run: both workers have printed results, far from all of them.
    wait_until("both workers print results", || {
        a.printed().len() >= 500 && b.printed().len() >= 500
    });
    assert!(total(&[&a, &b]) < N as usize, "the run is still going");
    let a_before_kill = a.kill_hard();
    let c = WorkerProcess::worker(&server, &flow, "worker-c");
    let seen = || {
        let mut all = ids(&a_before_kill);
        all.extend(ids(&b.printed()));
        all.extend(ids(&c.printed()));
        all
    };
    let distinct = |all: &[(String, u64)]| {
        let mut by_id: BTreeMap<&str, u64> = BTreeMap::new();
        for (id, n) in all {
            by_id.insert(id, *n);
        }
        by_id.into_values().collect::<Vec<u64>>()
    };
    let patience = std::time::Instant::now();
    while distinct(&seen()).len() < N as usize {
        assert!(
            patience.elapsed() < PATIENCE * 3,
            "only {} of {N} messages reached a Display; b: {}, c: {}",
            distinct(&seen()).len(),
            b.log(),
            c.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let all = seen();
    let per_n = counts(&distinct(&all));
    assert_eq!(
        per_n.len(),
        DISTINCT as usize,
        "every message sent came out"
    );
    assert!(
        per_n.values().all(|&c| c == ROUNDS as usize),
        "each message exactly once per round: ids seen = ids sent"
    );
    let duplicates = all.len() - N as usize;
    // Only what was in flight on the killed worker can come twice: at most what its consumers
    // could hold unacknowledged (4 × 128 per edge, two edges into its nodes).
    eprintln!("duplicates after kill -9: {duplicates}");
    assert!(duplicates <= 2 * 4 * 128, "{duplicates} duplicates");
    // Every message reached `out`: the echo endpoint never failed, so no error record.
    assert_eq!(
        records(&a_before_kill) + records(&b.printed()) + records(&c.printed()),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_edge_keeps_each_keys_order_across_two_workers() {
    const N: u64 = 600;
    let server = NatsServer::start();
    let endpoint = echo_endpoint().await;
    let dir = tempfile::tempdir().unwrap();
    let mut keyed = js_edge("to-lambda", "feeder1", "out", "lambda1");
    keyed["partitionKey"] = json!("k");
    let flow = write_flow(
        dir.path(),
        json!({"id": "keyed", "nodes": [feeder(N, 6, 0), lambda(&endpoint.url()), display("display1")],
               "edges": [keyed, js_edge("to-display", "lambda1", "out", "display1")]}),
    );
    let a = WorkerProcess::worker(&server, &flow, "keyed-a");
    let b = WorkerProcess::worker(&server, &flow, "keyed-b");
    wait_until("every message reaches a Display", || {
        counts(&[ns(&a.printed()), ns(&b.printed())].concat()).len() == N as usize
    });
    assert!(
        !a.printed().is_empty() && !b.printed().is_empty(),
        "both workers took part"
    );
    // The endpoint saw each key's messages in the order they were sent.
    let mut per_key: HashMap<u64, Vec<u64>> = HashMap::new();
    for req in endpoint.requests() {
        let n = req.json()["n"].as_u64().unwrap();
        per_key.entry(n % 6).or_default().push(n);
    }
    for (k, seq) in per_key {
        let mut sorted = seq.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let mut firsts = seq.clone();
        firsts.dedup();
        assert_eq!(firsts, sorted, "key {k} kept its order");
    }
}

#[test]
fn a_killed_sources_lease_moves_and_its_sends_resume_without_duplicates() {
    const N: u64 = 400;
    let server = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let flow = write_flow(
        dir.path(),
        json!({"id": "failover", "nodes": [feeder(N, 0, 10), display("display1")],
               "edges": [js_edge("to-display", "feeder1", "out", "display1")]}),
    );
    let mut a = WorkerProcess::worker(&server, &flow, "source-a");
    wait_until("worker a takes the Feeder's lease", || {
        a.log().contains("Source lease taken")
    });
    let b = WorkerProcess::worker(&server, &flow, "source-b");
    wait_until("the Feeder is half-way", || {
        a.printed().len() + b.printed().len() >= (N / 4) as usize
    });
    let a_before = a.kill_hard();
    wait_until("worker b takes the lease over", || {
        b.log().contains("Source lease taken")
    });
    wait_until("every message reaches a Display", || {
        counts(&[ns(&a_before), ns(&b.printed())].concat()).len() == N as usize
    });
    let all = [ns(&a_before), ns(&b.printed())].concat();
    let duplicates: usize = counts(&all).values().map(|c| c - 1).sum();
    eprintln!("duplicates after the source moved: {duplicates}");
    // Re-sent messages the stream already had are dropped as duplicates (stable ids); only a
    // message in flight to worker a's Display when it died can come twice.
    assert!(duplicates <= 4 * 128, "{duplicates} duplicates");
}

#[test]
fn the_server_restarted_mid_run_loses_nothing() {
    const N: u64 = 1_000;
    let mut server = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let flow = write_flow(
        dir.path(),
        json!({"id": "restart", "nodes": [feeder(N, 0, 1), display("display1")],
               "edges": [js_edge("to-display", "feeder1", "out", "display1")]}),
    );
    let a = WorkerProcess::worker(&server, &flow, "restart-a");
    wait_until("messages flow", || a.printed().len() >= 100);
    server.restart();
    wait_until(
        "every message reaches the Display after the restart",
        || counts(&ns(&a.printed())).len() == N as usize,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_lands_in_the_dead_letters_with_a_record_and_work_goes_on() {
    let server = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let flow = write_flow(
        dir.path(),
        json!({"id": "poison", "nodes": [feeder(50, 0, 0), display("display1")],
               "edges": [js_edge("to-display", "feeder1", "out", "display1")]}),
    );
    let mut a = WorkerProcess::worker(&server, &flow, "poison-a");
    wait_until("the Feeder's messages arrive", || {
        counts(&ns(&a.printed())).len() == 50
    });
    let client = async_nats::connect(server.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    js.publish("lf.poison.to-display", "not a message {".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let dlq = js.get_stream("LF_poison_DLQ").await.unwrap();
    let mut record = None;
    for _ in 0..600 {
        if let Ok(m) = dlq
            .get_last_raw_message_by_subject("lfdlq.poison.to-display")
            .await
        {
            record = Some(serde_json::from_slice::<Value>(&m.payload).unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let record = record.expect("a dead letter within the patience");
    assert_eq!(record["edge"], "to-display");
    assert_eq!(record["condition"], "Poison");
    assert_eq!(record["payload"]["text"], "not a message {");
    // The worker goes on, and stops cleanly on SIGTERM.
    assert_eq!(a.terminate(), Some(0));
    assert!(a.log().contains("Moving a poison message"), "{}", a.log());
}

#[test]
fn run_with_nats_ends_when_its_sources_are_done_and_the_streams_drained() {
    let server = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let flow = write_flow(
        dir.path(),
        json!({"id": "drain", "nodes": [feeder(300, 0, 0), display("display1")],
               "edges": [js_edge("to-display", "feeder1", "out", "display1")]}),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_lambdaflow"))
        .args([
            "run",
            "--nats",
            &server.url(),
            "--count",
            flow.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim(), r#"{"node":"display1","received":300}"#);
}

/// `lambdaflow serve --nats`, its address read from its first stdout line.
struct ServeProcess {
    child: Child,
    url: String,
}

impl ServeProcess {
    fn start(flows: &Path, nats: &str) -> ServeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lambdaflow"))
            .args(["serve", "--port", "0", "--nats", nats, "--flows"])
            .arg(flows)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("lambdaflow serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("lambdaflow listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        ServeProcess { child, url }
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let r = support::http::request(
            method,
            &format!("{}{path}", self.url),
            &[("Content-Type", "application/json")],
            &body,
            PATIENCE,
        )
        .unwrap();
        (r.status, r.json())
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_flow_deployed_from_the_server_runs_in_two_workers_that_the_server_shows() {
    let server = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let serve = ServeProcess::start(dir.path(), &server.url());
    let flow = |count: u64| {
        json!({"id": "designed", "name": "designed", "nodes": [feeder(count, 0, 0), display("display1")],
               "edges": [js_edge("to-display", "feeder1", "out", "display1")]})
    };
    let (status, saved) = serve.call("PUT", "/api/flows/designed", &flow(40));
    assert_eq!(status, 201, "created: {saved}");
    assert_eq!(saved["edges"][0]["transport"], "jetstream", "{saved}");
    let (status, deployed) = serve.call("POST", "/api/flows/designed/deploy", &Value::Null);
    assert_eq!(status, 200, "{deployed}");
    let first = deployed["workers"]["revision"]
        .as_u64()
        .expect("a bucket revision");

    let follow = |name: &str| {
        WorkerProcess::spawn(
            &[
                "worker",
                "--nats",
                &server.url(),
                "--flow-id",
                "designed",
                "--worker-id",
                name,
            ],
            name,
        )
    };
    let a = follow("designed-a");
    let b = follow("designed-b");
    wait_until(
        "the deployed flow's messages reach the workers' Displays",
        || counts(&[ns(&a.printed()), ns(&b.printed())].concat()).len() == 40,
    );
    wait_until("the server shows both workers with their counters", || {
        let (status, body) = serve.call("GET", "/api/flows/designed/workers", &Value::Null);
        let workers = body["workers"].as_array().cloned().unwrap_or_default();
        let received: u64 = workers
            .iter()
            .filter_map(|w| w["nodes"]["display1"]["received"].as_u64())
            .sum();
        status == 200 && body["nats"] == true && workers.len() == 2 && received >= 40
    });

    // A new deploy: both workers restart with it, and its Feeder sends its messages again.
    let (status, _) = serve.call("PUT", "/api/flows/designed", &flow(60));
    assert_eq!(status, 200);
    let (_, deployed) = serve.call("POST", "/api/flows/designed/deploy", &Value::Null);
    assert!(deployed["workers"]["revision"].as_u64().unwrap() > first);
    wait_until("the new revision's messages arrive", || {
        let all = counts(&[ns(&a.printed()), ns(&b.printed())].concat());
        (0..40).all(|n| all.get(&n) == Some(&2)) && (40..60).all(|n| all.get(&n) == Some(&1))
    });
    assert!(a.log().contains("New deploy") || b.log().contains("New deploy"));
}
