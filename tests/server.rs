//! End-to-end tests of a real `lambdaflow serve` process on a free loopback port with a
//! temporary flows directory, driven over HTTP: crash safety of saves, concurrent edits, the
//! token, live events, graceful shutdown, loading the directory at start, and secrets (with
//! `moto_server` as the Lambda endpoint).

#[allow(unused_imports)] // each test file uses part of the support module
mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

/// Upper bound for anything a test waits for; only reached when something is broken.
const PATIENCE: Duration = Duration::from_secs(60);

/// A `lambdaflow serve` child process; killed on drop.
struct Server {
    child: Child,
    base: String,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

impl Server {
    fn start(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lambdaflow"));
        command
            .arg("serve")
            .arg("--flows")
            .arg(dir)
            .args(["--port", "0", "--drain", "5"])
            .args(args)
            .env_remove("LAMBDAFLOW_TOKEN")
            .env_remove("LAMBDAFLOW_CREDENTIAL_SECRET")
            .env("LAMBDAFLOW_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            command.env(k, v);
        }
        #[cfg(target_os = "linux")]
        unsafe {
            use std::os::unix::process::CommandExt as _;
            // The server dies with the test thread that started it, even if the test is killed.
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = command.spawn().expect("lambdaflow serve starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        collect(child.stderr.take().unwrap(), stderr.clone(), None);
        let (tx, rx) = mpsc::channel();
        collect(child.stdout.take().unwrap(), stdout.clone(), Some(tx));
        let base = rx
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no address printed; stderr:\n{}", stderr.lock().unwrap()));
        Server {
            child,
            base,
            stderr,
            stdout,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn signal(&self, signal: i32) {
        // SAFETY: sends a signal to our own child, which has not been reaped yet.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(rc, 0, "kill({}, {signal})", self.pid());
    }

    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the server's output contains `needle`; returns all output.
    fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let logs = self.logs();
            if logs.contains(needle) {
                return logs;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the logs:\n{logs}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn logs(&self) -> String {
        format!(
            "{}\n{}",
            self.stdout.lock().unwrap(),
            self.stderr.lock().unwrap()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Copies a child's output into `into`; sends the server's base URL once it is printed.
fn collect(
    stream: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
    address: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(tx) = &address
                && let Some(url) = line.trim().strip_prefix("lambdaflow listening on ")
            {
                let _ = tx.send(url.to_owned());
            }
            into.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn json_of(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

fn feeder_display(id: &str, body_size: usize) -> Value {
    json!({
        "id": id, "name": format!("flow {id}"),
        "nodes": [
            {"id": "feeder1", "type": "feeder", "position": {"x": 0, "y": 0},
             "config": {"messages": [{"body": "x".repeat(body_size)}]}},
            {"id": "display1", "type": "display", "position": {"x": 200, "y": 0}, "config": {}}
        ],
        "edges": [{"id": "route1", "from": {"node": "feeder1", "port": "out"},
                   "to": {"node": "display1", "port": "in"}}]
    })
}

fn flow_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files
}

/// Four clients saving large versions of two flows until the server is gone; `saves` counts
/// the successful ones.
fn burst_of_saves(server: &Server, saves: &Arc<AtomicUsize>) -> Vec<std::thread::JoinHandle<()>> {
    (0..4)
        .map(|w| {
            let url = server.url(&format!("/api/flows/burst{}", w % 2));
            let saves = saves.clone();
            std::thread::spawn(move || {
                let client = client();
                let id = url.rsplit('/').next().unwrap().to_owned();
                for i in 0.. {
                    // Large files, so a kill is likely to land while one is being written.
                    let doc = feeder_display(&id, 200_000 + (i * 7919 + w * 104_729) % 400_000);
                    match client.put(&url).json(&doc).send() {
                        Ok(res) if res.status().is_success() => {
                            saves.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(res) => panic!("save failed: {}", res.status()),
                        Err(_) => return, // the server is gone
                    }
                }
            })
        })
        .collect()
}

#[test]
fn kill_9_during_a_burst_of_saves_leaves_every_flow_file_parseable() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..5 {
        let mut server = Server::start(dir.path(), &[], &[]);
        if round > 0 {
            // The previous crash's leftovers are gone and every flow is listed as valid.
            let (status, list) = json_of(client().get(server.url("/api/flows")).send().unwrap());
            assert_eq!(status, StatusCode::OK);
            assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
            assert!(
                list.as_array()
                    .unwrap()
                    .iter()
                    .all(|f| f.get("errors").is_none()),
                "{list}"
            );
            assert!(
                !dir.path().read_dir().unwrap().any(|e| e
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp"))
            );
        }
        let saves = Arc::new(AtomicUsize::new(0));
        let writers = burst_of_saves(&server, &saves);
        let deadline = Instant::now() + PATIENCE;
        while saves.load(Ordering::Relaxed) < 10 + round * 7 {
            assert!(Instant::now() < deadline, "saves did not get going");
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(round as u64 * 3));
        server.signal(libc::SIGKILL);
        let status = server.wait();
        assert!(status.code().is_none(), "killed by a signal: {status:?}");
        for w in writers {
            w.join().unwrap();
        }
        let files = flow_files(dir.path());
        assert_eq!(files.len(), 2, "{files:?}");
        for file in &files {
            let flow = lambdaflow::components::registry()
                .load(file)
                .unwrap_or_else(|e| {
                    panic!("{} is not a valid flow after kill -9: {e}", file.display())
                });
            assert!(flow.id.starts_with("burst"));
        }
    }
}

#[test]
fn two_clients_editing_one_flow_the_second_gets_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &[]);
    let url = server.url("/api/flows/shared");
    let (alice, bob) = (client(), client());
    let (status, _) = json_of(
        alice
            .put(&url)
            .json(&feeder_display("shared", 10))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::CREATED);

    let a = alice.get(&url).send().unwrap();
    let etag_a = a.headers()["etag"].to_str().unwrap().to_owned();
    let mut doc_a: Value = a.json().unwrap();
    let mut doc_b: Value = bob.get(&url).send().unwrap().json().unwrap();

    doc_a["name"] = json!("Alice's edit");
    let (status, saved) = json_of(
        alice
            .put(&url)
            .header("If-Match", &etag_a)
            .json(&doc_a)
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{saved}");

    // Bob's copy still carries the old rev in its body: 409. With If-Match: 412.
    doc_b["name"] = json!("Bob's edit");
    let (status, body) = json_of(bob.put(&url).json(&doc_b).send().unwrap());
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("changed"),
        "{body}"
    );
    let (status, _) = json_of(
        bob.put(&url)
            .header("If-Match", &etag_a)
            .json(&doc_b)
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (_, now) = json_of(bob.get(&url).send().unwrap());
    assert_eq!(now["name"], "Alice's edit");

    // After reloading, Bob's change goes through.
    let mut fresh = now.clone();
    fresh["name"] = json!("Bob's edit");
    let (status, _) = json_of(bob.put(&url).json(&fresh).send().unwrap());
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn the_token_guards_the_api_over_http() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("demo.json"),
        feeder_display("demo", 3).to_string(),
    )
    .unwrap();
    let server = Server::start(
        dir.path(),
        &[],
        &[
            ("LAMBDAFLOW_TOKEN", "s3cret-t0ken"),
            ("LAMBDAFLOW_LOG", "debug"),
        ],
    );
    let c = client();
    let (status, _) = json_of(c.get(server.url("/api/health")).send().unwrap());
    assert_eq!(status, StatusCode::OK);
    let (status, body) = json_of(c.get(server.url("/api/flows")).send().unwrap());
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string() && body["details"].is_array());
    let (status, _) = json_of(
        c.post(server.url("/api/flows/demo/start"))
            .bearer_auth("wrong")
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, list) = json_of(
        c.get(server.url("/api/flows"))
            .bearer_auth("s3cret-t0ken")
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["id"], "demo");
    // The event stream takes the token in the query (EventSource cannot set headers).
    let res = c
        .get(server.url("/api/flows/demo/events?token=s3cret-t0ken"))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = c
        .get(server.url("/api/flows/demo/events?token=nope"))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        !server.logs().contains("s3cret-t0ken"),
        "the token is never logged"
    );
}

/// Reads server-sent events off a response in a thread: `(event, data)` pairs.
fn events(res: Response) -> mpsc::Receiver<(String, Value)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(res);
        let mut event = String::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let l = line.trim_end_matches(['\r', '\n']);
            if let Some(name) = l.strip_prefix("event: ") {
                event = name.to_owned();
            } else if let Some(data) = l.strip_prefix("data: ") {
                let data = serde_json::from_str(data).expect("event data is JSON");
                if tx.send((std::mem::take(&mut event), data)).is_err() {
                    return;
                }
            }
            line.clear();
        }
    });
    rx
}

/// Waits for the first event matching `want`.
fn expect_event(
    rx: &mpsc::Receiver<(String, Value)>,
    what: &str,
    want: impl Fn(&str, &Value) -> bool,
) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((name, data)) if want(&name, &data) => return data,
            Ok(_) => {}
            Err(_) => panic!("no {what} event"),
        }
    }
}

#[test]
fn events_deliver_status_and_display_messages_after_a_feeder_send() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("demo.json"),
        feeder_display("demo", 3).to_string(),
    )
    .unwrap();
    let server = Server::start(dir.path(), &[], &[]);
    let c = client();
    // Opened before the flow starts, the stream follows the run.
    let res = Client::builder()
        .build()
        .unwrap()
        .get(server.url("/api/flows/demo/events"))
        .header("Accept", "text/event-stream")
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let rx = events(res);
    expect_event(&rx, "initial flow", |n, d| {
        n == "flow" && d["state"] == "stopped"
    });

    let (status, _) = json_of(c.post(server.url("/api/flows/demo/start")).send().unwrap());
    assert_eq!(status, StatusCode::OK);
    expect_event(&rx, "flow running", |n, d| {
        n == "flow" && d["state"] == "running"
    });
    let (status, _) = json_of(
        c.post(server.url("/api/flows/demo/nodes/feeder1/send"))
            .json(&json!({"body": "{\"hello\": 1}", "contentType": "application/json", "count": 2}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    for _ in 0..2 {
        let m = expect_event(&rx, "display message", |n, d| {
            n == "message" && d["node"] == "display1"
        });
        assert_eq!(m["message"]["body"], "{\"hello\": 1}");
        assert_eq!(m["message"]["contentType"], "application/json");
    }
    let s = expect_event(&rx, "display status", |n, d| {
        n == "status" && d["node"] == "display1" && d["received"] == 2
    });
    assert_eq!(s["state"], "running");
    assert_eq!(s["errors"], 0);

    let (status, _) = json_of(c.post(server.url("/api/flows/demo/stop")).send().unwrap());
    assert_eq!(status, StatusCode::OK);
    expect_event(&rx, "flow stopped", |n, d| {
        n == "flow" && d["state"] == "stopped"
    });
}

#[test]
fn sigterm_drains_running_flows_ends_streams_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("demo.json"),
        feeder_display("demo", 3).to_string(),
    )
    .unwrap();
    let mut server = Server::start(dir.path(), &[], &[]);
    let c = client();
    let (status, _) = json_of(c.post(server.url("/api/flows/demo/start")).send().unwrap());
    assert_eq!(status, StatusCode::OK);
    let res = Client::builder()
        .build()
        .unwrap()
        .get(server.url("/api/flows/demo/events"))
        .send()
        .unwrap();
    let rx = events(res);
    expect_event(&rx, "flow running", |n, d| {
        n == "flow" && d["state"] == "running"
    });

    server.signal(libc::SIGTERM);
    let status = server.wait();
    assert_eq!(status.code(), Some(0), "logs:\n{}", server.logs());
    server.wait_for_log("Flow stopped.");
    server.wait_for_log("Stopped.");
    // The event stream ended instead of hanging on.
    let deadline = Instant::now() + PATIENCE;
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(_) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("the event stream did not end"),
        }
    }
    assert!(
        c.get(server.url("/api/health")).send().is_err(),
        "nothing listens any more"
    );
}

#[test]
fn flows_in_the_directory_are_loaded_at_start_and_invalid_ones_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        feeder_display("good", 3).to_string(),
    )
    .unwrap();
    let mut bad = feeder_display("bad", 3);
    bad["edges"][0]["from"]["node"] = json!("ghost");
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).unwrap();
    let server = Server::start(dir.path(), &[], &[]);
    let logs = server.wait_for_log("Flows loaded.");
    assert!(logs.contains("Flow file is invalid"), "{logs}");
    assert!(logs.contains("/edges/0/from/node"), "{logs}");
    let (status, list) = json_of(client().get(server.url("/api/flows")).send().unwrap());
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["id"], "bad");
    assert_eq!(list[0]["errors"][0]["node"], "route1");
    assert_eq!(list[0]["errors"][0]["pointer"], "/edges/0/from/node");
    assert_eq!(list[1]["id"], "good");
    assert!(list[1].get("errors").is_none());
    assert_eq!(list[1]["state"], "stopped");
}

const SECRET: &str = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYSECRETKEY";
const SESSION: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue";

/// Every request and answer of a session, to search for secrets afterwards.
#[derive(Default)]
struct Transcript(String);

impl Transcript {
    fn record(&mut self, what: &str, res: Response) -> (StatusCode, Value) {
        let status = res.status();
        for (name, value) in res.headers() {
            self.0
                .push_str(&format!("{name}: {}\n", value.to_str().unwrap_or_default()));
        }
        let text = res.text().unwrap();
        self.0.push_str(&format!("{what} -> {status}: {text}\n"));
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

#[test]
fn a_secret_never_appears_in_any_response_log_line_or_file_but_the_encrypted_store() {
    let moto = support::MotoServer::start();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        moto.create_function("hello").await;
        let version = moto.publish_version("hello").await;
        moto.create_alias("hello", "PROD", &version).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(
        dir.path(),
        &[],
        &[
            ("LAMBDAFLOW_LOG", "debug"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    let c = client();
    let mut t = Transcript::default();
    let connection = json!({"region": "us-east-1", "endpointUrl": moto.endpoint(),
        "accessKey": "AKIDEXAMPLE", "secretKey": SECRET, "sessionToken": SESSION});
    let flow = json!({
        "id": "sec", "name": "secrets",
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
    });

    // Refused saves (invalid flow) and accepted ones.
    let mut invalid = flow.clone();
    invalid["nodes"][1]["config"]["functionName"] = json!(42);
    let (status, _) = t.record(
        "put invalid",
        c.put(server.url("/api/flows/sec"))
            .json(&invalid)
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, saved) = t.record(
        "put",
        c.put(server.url("/api/flows/sec"))
            .json(&flow)
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(
        saved["nodes"][1]["secretsSet"],
        json!(["/connection/secretKey", "/connection/sessionToken"])
    );
    t.record("get", c.get(server.url("/api/flows/sec")).send().unwrap());
    t.record("list", c.get(server.url("/api/flows")).send().unwrap());

    // Run it: the stored secrets reach the connector (moto echoes the payload).
    let (status, _) = t.record(
        "start",
        c.post(server.url("/api/flows/sec/start")).send().unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    let events_res = Client::builder()
        .build()
        .unwrap()
        .get(server.url("/api/flows/sec/events"))
        .send()
        .unwrap();
    let rx = events(events_res);
    let (status, _) = t.record(
        "send",
        c.post(server.url("/api/flows/sec/nodes/feeder1/send"))
            .json(&json!({"body": "{\"name\": \"World\"}", "contentType": "application/json"}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    let m = expect_event(&rx, "display message", |n, d| {
        n == "message" && d["node"] == "display1"
    });
    t.0.push_str(&m.to_string());
    assert_eq!(m["message"]["body"], "{\"name\": \"World\"}");
    t.record(
        "messages",
        c.get(server.url("/api/flows/sec/nodes/display1/messages"))
            .send()
            .unwrap(),
    );
    t.record(
        "status",
        c.get(server.url("/api/flows/sec/status")).send().unwrap(),
    );
    t.record("metrics", c.get(server.url("/metrics")).send().unwrap());

    // The designer's pickers and Test button, lending the node's stored secrets.
    let bare =
        json!({"region": "us-east-1", "endpointUrl": moto.endpoint(), "accessKey": "AKIDEXAMPLE"});
    let (status, listed) = t.record(
        "functions",
        c.post(server.url("/api/lambda/functions"))
            .json(&json!({"connection": bare, "flow": "sec", "node": "lambda1"}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert!(
        listed["functions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "hello"),
        "{listed}"
    );
    let (status, q) = t.record(
        "qualifiers",
        c.post(server.url("/api/lambda/qualifiers"))
            .json(&json!({"connection": bare, "functionName": "hello", "flow": "sec", "node": "lambda1"}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["aliases"][0]["name"], "PROD", "{q}");
    assert!(
        q["versions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "$LATEST"),
        "{q}"
    );
    let (status, tested) = t.record(
        "test",
        c.post(server.url("/api/components/lambda/test"))
            .json(
                &json!({"config": {"functionName": "hello", "connection": bare},
                          "message": {"body": "{\"n\": 1}"}, "flow": "sec", "node": "lambda1"}),
            )
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{tested}");
    assert_eq!(tested["out"].as_array().unwrap().len(), 1, "{tested}");

    // Failures with the secret in the request: the answer never echoes it.
    let mut refused = connection.clone();
    refused["endpointUrl"] = json!("http://127.0.0.1:9");
    refused["connectTimeoutMs"] = json!(500);
    let (status, _) = t.record(
        "functions unreachable",
        c.post(server.url("/api/lambda/functions"))
            .json(&json!({"connection": refused}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let mut bad = connection.clone();
    bad["secretKey"] = json!(12345);
    bad["sessionToken"] = json!({"nested": SECRET});
    let (status, _) = t.record(
        "functions bad types",
        c.post(server.url("/api/lambda/functions"))
            .json(&json!({"connection": bad}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    t.record(
        "stop",
        c.post(server.url("/api/flows/sec/stop")).send().unwrap(),
    );
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait().code(), Some(0));
    let logs = server.wait_for_log("Stopped.");
    assert!(logs.contains("DEBUG"), "debug logging was on");

    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(SECRET);
    for needle in [SECRET, SESSION, encoded.as_str()] {
        assert!(
            !t.0.contains(needle),
            "a response contains {needle}:\n{}",
            t.0
        );
        assert!(!logs.contains(needle), "the logs contain {needle}");
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(needle),
                "{} contains {needle}",
                path.display()
            );
        }
    }
    let store = std::fs::read_to_string(dir.path().join(".credentials.json")).unwrap();
    assert!(store.contains("/connection/secretKey") && store.contains("lambda1"));
}

/// The ways one path can be spelled that a router might see as the same path: percent-encoded,
/// double-encoded, case-changed, doubled slashes, dot segments.
fn spellings(path: &str) -> Vec<String> {
    let (first, rest) = path[1..].split_once('/').unwrap_or((&path[1..], ""));
    let rest = if rest.is_empty() {
        String::new()
    } else {
        format!("/{rest}")
    };
    let head = first.as_bytes()[0];
    let tail = &first[1..];
    vec![
        path.to_owned(),
        format!("/%{head:02x}{tail}{rest}"),
        format!("/%{head:02X}{tail}{rest}"),
        format!("/%25{head:02x}{tail}{rest}"),
        format!("/{}{rest}", first.to_uppercase()),
        format!("/{}{tail}{rest}", (head as char).to_ascii_uppercase()),
        path.replace('/', "//"),
        format!("/.{path}"),
        format!("/x/..{path}"),
        format!("{}/", path),
        // The last segment encoded too.
        match path.rsplit_once('/') {
            Some((dir, last)) if !last.is_empty() => {
                format!("{dir}/%{:02x}{}", last.as_bytes()[0], &last[1..])
            }
            _ => path.to_owned(),
        },
    ]
}

#[test]
fn no_spelling_of_a_path_reaches_a_handler_without_the_token_or_from_another_origin() {
    let dir = tempfile::tempdir().unwrap();
    let demo = feeder_display("demo", 3);
    std::fs::write(dir.path().join("demo.json"), demo.to_string()).unwrap();
    let before = std::fs::read(dir.path().join("demo.json")).unwrap();
    let server = Server::start(dir.path(), &[], &[("LAMBDAFLOW_TOKEN", "t0k3n")]);
    let doc = demo.to_string();
    // Every route but health, with a body it would accept.
    let routes: &[(&str, &str, &str)] = &[
        ("GET", "/api/flows", ""),
        ("GET", "/api/flows/demo", ""),
        ("PUT", "/api/flows/demo", &doc),
        ("DELETE", "/api/flows/demo", ""),
        ("POST", "/api/flows/demo/start", ""),
        ("POST", "/api/flows/demo/stop", ""),
        ("GET", "/api/flows/demo/status", ""),
        ("POST", "/api/flows/demo/nodes/feeder1/send", "{}"),
        ("GET", "/api/flows/demo/nodes/display1/messages", ""),
        ("DELETE", "/api/flows/demo/nodes/display1/messages", ""),
        ("GET", "/api/flows/demo/events", ""),
        ("GET", "/api/components", ""),
        ("POST", "/api/components/display/test", "{}"),
        ("POST", "/api/lambda/functions", "{}"),
        (
            "POST",
            "/api/lambda/qualifiers",
            "{\"functionName\": \"f\"}",
        ),
        ("GET", "/api/openapi.json", ""),
        ("GET", "/metrics", ""),
    ];
    let send = |method: &str, path: &str, headers: &[(&str, &str)], body: &str| {
        let url = server.url(path);
        support::http::request(method, &url, headers, body.as_bytes(), PATIENCE)
            .unwrap_or_else(|e| panic!("{method} {path}: no complete answer ({e})"))
    };
    let foreign = ("Origin", "http://evil.example");
    let token = ("Authorization", "Bearer t0k3n");
    // A cross-site form post sends text/plain, which needs no preflight.
    let form = ("Content-Type", "text/plain");
    let mut tried = 0;
    for (method, path, body) in routes {
        for spelling in spellings(path) {
            for headers in [vec![form], vec![form, foreign, token], vec![form, foreign]] {
                let res = send(method, &spelling, &headers, body);
                tried += 1;
                // Only the designer's page may answer 2xx to a spelling the API does not route.
                let page = res
                    .header("content-type")
                    .is_some_and(|t| t.starts_with("text/html"));
                assert!(
                    !(200..300).contains(&res.status) || page,
                    "{method} {spelling} with {headers:?} reached a handler: {} {}",
                    res.status,
                    res.text()
                );
            }
        }
    }
    assert!(tried > 500, "{tried} requests");
    // The guard was what stopped them: the same spellings with the token do reach the handlers.
    for spelling in ["/api/flows", "/%61pi/flows", "/api/%66lows", "/%6detrics"] {
        let res = send("GET", spelling, &[token], "");
        assert_eq!(
            res.status,
            200,
            "GET {spelling} with the token: {}",
            res.text()
        );
    }
    // Nothing was changed, started or deleted.
    assert_eq!(std::fs::read(dir.path().join("demo.json")).unwrap(), before);
    let (status, flows) = json_of(
        client()
            .get(server.url("/api/flows"))
            .bearer_auth("t0k3n")
            .send()
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(flows[0]["state"], "stopped", "{flows}");
}
