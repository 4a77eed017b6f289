//! The demo functions of `functions/` under `cargo lambda watch --release`, for the Lambda-path
//! rows against real function code.
//!
//! The functions are built in release mode first (`cargo build --release --bins` in
//! functions/, target dir `LAMBDAFLOW_FUNCTIONS_TARGET_DIR` or `functions/target`, as
//! `scripts/lambda-emulator.sh` does in debug), so no invocation waits for a compiler. The
//! emulator runs under the test support's supervisor (`tests/support/process.rs`), which stops
//! it and every function process when the benchmark exits, however it exits. A missing
//! `cargo lambda` fails the benchmark with the install command.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::process::Supervised;
use crate::support::{free_port, http, repo_root};

/// How to install cargo-lambda.
const INSTALL_HINT: &str =
    "install it with `scripts/install-test-deps.sh` (or `python3 -m pip install cargo-lambda`)";

/// `cargo lambda watch --release` serving the demo functions.
pub struct Emulator {
    port: u16,
    concurrency: u32,
    _process: Supervised,
}

fn functions_target_dir() -> PathBuf {
    std::env::var_os("LAMBDAFLOW_FUNCTIONS_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("functions/target"))
}

impl Emulator {
    /// Builds the functions in release mode and starts the emulator with `--concurrency
    /// instances` on a free loopback port; panics saying what failed.
    pub fn start(instances: u32) -> Emulator {
        let cargo_lambda = Command::new("cargo").args(["lambda", "--version"]).output();
        match cargo_lambda {
            Ok(out) if out.status.success() => {}
            _ => panic!("bench: `cargo lambda` is not available; {INSTALL_HINT}"),
        }
        let functions = repo_root().join("functions");
        let target = functions_target_dir();
        eprintln!(
            "bench: building functions/ in release mode (target dir {})",
            target.display()
        );
        let status = Command::new("cargo")
            .args(["build", "--release", "--bins", "--manifest-path"])
            .arg(functions.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "bench: building functions/ failed");

        let port = free_port();
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("bench-cargo-lambda-{port}.log"));
        let target_text = target.display().to_string();
        let (port_arg, instances_arg) = (port.to_string(), instances.to_string());
        let process = Supervised::spawn(
            "cargo lambda watch --release",
            "cargo",
            &[
                "lambda",
                "watch",
                "--release",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port_arg,
                "--ignore-changes",
                "--concurrency",
                &instances_arg,
            ],
            &functions,
            &[("CARGO_TARGET_DIR", &target_text)],
            log,
        )
        .unwrap_or_else(|e| panic!("bench: {e}"));
        let mut emulator = Emulator {
            port,
            concurrency: instances,
            _process: process,
        };
        emulator.wait_ready();
        emulator
    }

    fn wait_ready(&mut self) {
        let url = format!("{}/2015-03-31/functions/echo/invocations", self.url());
        let probe = br#"{"probe":"bench"}"#;
        let started = Instant::now();
        loop {
            if let Some(status) = self._process.exit_status() {
                panic!(
                    "bench: cargo lambda watch exited during start-up ({status}):\n{}",
                    self._process.log_tail(40)
                );
            }
            match http::request("POST", &url, &[], probe, Duration::from_secs(30)) {
                Ok(r) if r.status == 200 && r.body == probe => return,
                _ if started.elapsed() > Duration::from_secs(180) => panic!(
                    "bench: cargo lambda watch did not answer within 180 s:\n{}",
                    self._process.log_tail(40)
                ),
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Base URL for the SDK's `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `--concurrency` it was started with (instances per function).
    pub fn concurrency(&self) -> u32 {
        self.concurrency
    }
}
