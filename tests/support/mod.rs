//! Test support for lambdaflow's integration tests: real emulators on free loopback ports.
//!
//! Use it from a test file of the root crate with `mod support;`.
//!
//! - [`free_port`]: a free TCP port on 127.0.0.1.
//! - [`LambdaEmulator`]: the demo functions of `functions/` served by `cargo lambda watch`
//!   (real Lambda runtime, real function code). [`LambdaEmulator::shared`] gives one per test
//!   binary.
//! - [`MotoServer`]: `moto_server` as the Lambda control plane (ListFunctions, versions,
//!   aliases, `Event` → 202, `DryRun` → 204), with seeding helpers.
//! - [`lambda_client`] / [`lambda_config`]: an `aws-sdk-lambda` client for either, with dummy
//!   credentials `test`/`test` in `us-east-1`.
//! - [`aws_wire`]: an endpoint that answers Lambda's Invoke exactly as AWS does, scripted per
//!   request, with transport faults (resets, a stalled body).
//! - [`http`]: a raw HTTP/1.1 client, to look at status codes and headers the SDK hides.
//!
//! Nothing is skipped: when `cargo lambda` or `moto_server` is missing, starting it panics with
//! the install command (`scripts/install-test-deps.sh`). Every process started here runs under
//! `supervise.sh`, which stops it and its descendants when the test process exits, so no
//! emulator survives the test run (see [`process`]).
//!
//! How the two emulators differ from AWS Lambda is measured in functions/README.md.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod aws_wire;
pub mod event_stream;
pub mod http;
pub mod lambda_emulator;
pub mod moto;
pub mod nats;
pub mod process;
pub mod zip;

use std::net::TcpListener;
use std::path::PathBuf;

use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};

// Test binaries that only use the AWS-wire endpoint never name these.
#[allow(unused_imports)]
pub use lambda_emulator::LambdaEmulator;
#[allow(unused_imports)]
pub use moto::MotoServer;

/// How long a test waits for a condition before it fails: generous, because a busy machine is
/// slow, and a wait ends as soon as the condition holds.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Blocks until `condition` holds, looking every few milliseconds, and panics naming `what` when
/// it does not within [`PATIENCE`]. Tests wait for conditions; they never sleep and then look.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting until {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The async twin of [`wait_until`]: awaits `condition()` until it holds, for tests whose
/// condition is itself a request (a server's counters, a stream's state).
pub async fn wait_until_async<F, Fut>(mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + PATIENCE;
    while !condition().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting for a condition"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0 to find a free port: {e}"))
}

/// The root of the lambdaflow repository (the root crate's manifest dir).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An `aws-sdk-lambda` config builder for `endpoint`: region `us-east-1`, static credentials
/// `test`/`test`, latest behaviour version. Add a retry config, timeouts or interceptors, then
/// `aws_sdk_lambda::Client::from_conf(builder.build())`.
pub fn lambda_config(endpoint: &str) -> aws_sdk_lambda::config::Builder {
    aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "lambdaflow-tests",
        ))
        .endpoint_url(endpoint)
}

/// An `aws-sdk-lambda` client for `endpoint` with [`lambda_config`]'s settings.
pub fn lambda_client(endpoint: &str) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::from_conf(lambda_config(endpoint).build())
}
