//! [`LambdaEmulator`]: the demo functions of `functions/` under a real `cargo lambda watch`.
//!
//! Start-up: `scripts/lambda-emulator.sh --build-only` pre-builds the functions (so the first
//! invocation of each answers in tens of milliseconds rather than compiling on demand), then
//! `scripts/lambda-emulator.sh PORT --ignore-changes` runs `cargo lambda watch` on
//! `127.0.0.1:PORT` under the supervisor script (see [`super::process`]); `--ignore-changes`
//! keeps an edit of functions/ during a test run from rebuilding under a test. Ready means a real
//! invocation of `echo` came back with its payload. Every wait is bounded, and a failure panics
//! naming what failed, with the tail of the emulator's output and the install command.
//!
//! Teardown: dropping a [`LambdaEmulator`] stops `cargo lambda watch` and every function
//! process it started. [`LambdaEmulator::shared`] keeps one emulator per test binary in a
//! `static`, which Rust never drops: that one is stopped by the supervisor script within about
//! a second of the test process exiting, however it exits.
//!
//! What this emulator does differently from AWS Lambda (function errors as HTTP 500 with no
//! `X-Amz-Function-Error`, `Event` and `DryRun` run synchronously with 200, …) is measured in
//! `functions/README.md`.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::process::Supervised;
use super::{free_port, http, lambda_client, repo_root};

/// How to install cargo-lambda, quoted in every start-up failure.
pub const INSTALL_HINT: &str =
    "install it with `scripts/install-test-deps.sh` (or `python3 -m pip install cargo-lambda`)";

/// Bound on pre-building functions/ (a fresh machine compiles lambda_runtime and tokio).
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);
/// Bound on `cargo lambda watch` answering a first invocation once the build is done.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// `cargo lambda watch` serving `hello`, `echo`, `uppercase`, `fail` and `slow`.
#[derive(Debug)]
pub struct LambdaEmulator {
    port: u16,
    process: Supervised,
}

impl LambdaEmulator {
    /// Starts an emulator of its own on a free port; it is stopped on drop.
    ///
    /// Concurrent invocations of one function run one after another (cargo-lambda's default
    /// `--concurrency 1`); see [`LambdaEmulator::start_with_concurrency`].
    pub fn start() -> LambdaEmulator {
        Self::start_with_concurrency(1)
    }

    /// Starts an emulator that runs up to `instances` invocations of each function at once.
    pub fn start_with_concurrency(instances: u32) -> LambdaEmulator {
        Self::try_start(instances).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The emulator shared by the tests of this test binary, started by the first caller.
    ///
    /// If start-up failed, every caller panics with the same message.
    pub fn shared() -> &'static LambdaEmulator {
        static SHARED: OnceLock<Result<LambdaEmulator, String>> = OnceLock::new();
        match SHARED.get_or_init(|| Self::try_start(1)) {
            Ok(emulator) => emulator,
            Err(e) => panic!("{e}"),
        }
    }

    /// Base URL to use as the SDK's `endpoint_url`, e.g. `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port `cargo lambda watch` listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// URL of the Invoke API for `function`.
    pub fn invoke_url(&self, function: &str) -> String {
        format!(
            "{}/2015-03-31/functions/{function}/invocations",
            self.endpoint()
        )
    }

    /// An `aws-sdk-lambda` client pointed at this emulator (dummy credentials, us-east-1).
    pub fn client(&self) -> aws_sdk_lambda::Client {
        lambda_client(&self.endpoint())
    }

    /// Pid of the supervisor, which is also the process group id of the emulator.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The last `lines` lines of the emulator's output (cargo-lambda logs to stderr).
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    fn try_start(instances: u32) -> Result<LambdaEmulator, String> {
        prebuild()?;
        // A port picked by free_port can be taken by someone else before cargo-lambda binds
        // it; a start-up that dies early is retried on another port.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match launch(instances) {
                Ok(emulator) => return Ok(emulator),
                Err(Launch::Exited(message)) => failures.push(message),
                Err(Launch::Fatal(message)) => return Err(message),
            }
        }
        Err(failures.join("\n\n"))
    }
}

enum Launch {
    /// The emulator exited during start-up (maybe a port clash): worth another try.
    Exited(String),
    /// Anything else: give up.
    Fatal(String),
}

fn log_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lambdaflow-emulators")
}

fn script() -> String {
    repo_root()
        .join("scripts/lambda-emulator.sh")
        .display()
        .to_string()
}

/// Builds functions/ through the same script the demo uses, bounded by [`BUILD_TIMEOUT`].
fn prebuild() -> Result<(), String> {
    let log = log_dir().join(format!("functions-build-{}.log", std::process::id()));
    let mut build = Supervised::spawn(
        "functions build",
        "bash",
        &[&script(), "--build-only"],
        &repo_root(),
        &[],
        log,
    )?;
    let started = Instant::now();
    loop {
        if let Some(status) = build.exit_status() {
            if status.success() {
                return Ok(());
            }
            return Err(format!(
                "LambdaEmulator: building functions/ failed ({status}); \
                 `scripts/lambda-emulator.sh --build-only` printed:\n{}",
                build.log_tail(40)
            ));
        }
        if started.elapsed() > BUILD_TIMEOUT {
            let tail = build.log_tail(40);
            build.stop();
            return Err(format!(
                "LambdaEmulator: building functions/ took more than {BUILD_TIMEOUT:?}; \
                 output so far:\n{tail}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn launch(instances: u32) -> Result<LambdaEmulator, Launch> {
    check_cargo_lambda().map_err(Launch::Fatal)?;
    let port = free_port();
    let log = log_dir().join(format!("cargo-lambda-watch-{port}.log"));
    let port_arg = port.to_string();
    let instances_arg = instances.to_string();
    let mut process = Supervised::spawn(
        "cargo lambda watch",
        "bash",
        &[
            &script(),
            &port_arg,
            "--ignore-changes",
            "--concurrency",
            &instances_arg,
        ],
        &repo_root(),
        &[],
        log,
    )
    .map_err(Launch::Fatal)?;

    let url = format!("http://127.0.0.1:{port}/2015-03-31/functions/echo/invocations");
    let probe = br#"{"probe":"lambdaflow-support"}"#;
    let started = Instant::now();
    loop {
        if let Some(status) = process.exit_status() {
            return Err(Launch::Exited(format!(
                "LambdaEmulator: `cargo lambda watch` on port {port} exited during start-up \
                 ({status}); {INSTALL_HINT} if it is missing. Output ({}):\n{}",
                process.log_path().display(),
                process.log_tail(40)
            )));
        }
        let last = match http::request("POST", &url, &[], probe, Duration::from_secs(30)) {
            Ok(r) if r.status == 200 && r.body == probe => {
                return Ok(LambdaEmulator { port, process });
            }
            Ok(r) => format!("HTTP {} {}", r.status, r.text()),
            Err(e) => e.to_string(),
        };
        if started.elapsed() > READY_TIMEOUT {
            let tail = process.log_tail(40);
            process.stop();
            return Err(Launch::Fatal(format!(
                "LambdaEmulator: invoking `echo` on port {port} did not succeed within \
                 {READY_TIMEOUT:?} (last attempt: {last}). Output of `cargo lambda watch`:\n{tail}"
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Fails with the install command when `cargo lambda` is not available.
fn check_cargo_lambda() -> Result<(), String> {
    let output = std::process::Command::new("cargo")
        .args(["lambda", "--version"])
        .output();
    match output {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "LambdaEmulator: `cargo lambda --version` failed ({}): cargo-lambda is missing; \
             {INSTALL_HINT}.\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) => Err(format!(
            "LambdaEmulator: cannot run `cargo lambda --version` ({e}); {INSTALL_HINT}."
        )),
    }
}
