//! [`MotoServer`]: moto's AWS emulator (`moto_server`, PyPI `moto[server]`) as a Lambda
//! control plane.
//!
//! [`MotoServer::start`] runs `moto_server` on a free loopback port under the supervisor script
//! (see [`super::process`]), waits (bounded) until `POST /moto-api/config` with
//! `{"lambda": {"use_docker": false}}` is accepted, and creates the IAM role that
//! `CreateFunction` insists on (moto refuses a role it does not know with
//! `InvalidParameterValueException: The role defined for the function cannot be assumed by
//! Lambda.`). Dropping it stops the server; a leaked one stops when the test process exits.
//!
//! With `use_docker: false` moto never runs function code: an invocation answers with its own
//! request body (or a result queued with [`MotoServer::queue_invoke_results`]), `Event` gives
//! 202 and `DryRun` 204, and a missing function or qualifier is not reported (200 again). See
//! functions/README.md, "Emulator behaviour, measured".

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};

use super::process::Supervised;
use super::zip::stored_zip;
use super::{free_port, http, lambda_client};

/// How to install moto's server, quoted in every start-up failure.
pub const INSTALL_HINT: &str = "install it with `scripts/install-test-deps.sh` \
     (or `python3 -m pip install 'moto[server]'`)";

/// moto's default account id.
pub const ACCOUNT_ID: &str = "123456789012";
/// The execution role every function is created with.
pub const ROLE_NAME: &str = "lambdaflow-test-role";

/// An `Authorization` header for raw requests to moto's Lambda API. moto picks the service
/// from the credential scope (it never checks the signature); a request without it is routed
/// to S3 and fails with HTTP 500.
pub const LAMBDA_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
     Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0";

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `moto_server` configured for Lambda without Docker.
#[derive(Debug)]
pub struct MotoServer {
    port: u16,
    process: Supervised,
    code_revision: AtomicU64,
}

impl MotoServer {
    /// Starts a server of its own on a free port; it is stopped on drop.
    pub fn start() -> MotoServer {
        let mut failures = Vec::new();
        // A port picked by free_port can be taken before moto binds it: retry on another.
        for _ in 0..3 {
            match launch() {
                Ok(server) => return server,
                Err((true, message)) => failures.push(message),
                Err((false, message)) => panic!("{message}"),
            }
        }
        panic!("{}", failures.join("\n\n"))
    }

    /// Base URL to use as the SDK's `endpoint_url`, e.g. `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// URL of the Invoke API for `function` (a name, ARN or `name:qualifier`).
    pub fn invoke_url(&self, function: &str) -> String {
        format!(
            "{}/2015-03-31/functions/{function}/invocations",
            self.endpoint()
        )
    }

    /// Invokes `function` with a raw HTTP request, as the SDK would send it (the payload as
    /// `application/octet-stream`) plus `headers`, e.g. `("X-Amz-Invocation-Type", "Event")`.
    pub fn invoke_raw(
        &self,
        function: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
    ) -> http::Response {
        let mut all = vec![
            ("Authorization", LAMBDA_AUTHORIZATION),
            ("Content-Type", "application/octet-stream"),
        ];
        all.extend_from_slice(headers);
        let url = self.invoke_url(function);
        http::post(&url, &all, payload).unwrap_or_else(|e| panic!("MotoServer: POST {url}: {e}"))
    }

    /// An `aws-sdk-lambda` client pointed at this server (dummy credentials, us-east-1).
    pub fn client(&self) -> aws_sdk_lambda::Client {
        lambda_client(&self.endpoint())
    }

    /// ARN of the execution role created at start-up.
    pub fn role_arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT_ID}:role/{ROLE_NAME}")
    }

    /// The last `lines` lines of the server's output (its request log).
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    /// Creates function `name` (a small python3.12 zip); returns its ARN.
    pub async fn create_function(&self, name: &str) -> String {
        let out = self
            .client()
            .create_function()
            .function_name(name)
            .runtime(Runtime::Python312)
            .role(self.role_arn())
            .handler("index.handler")
            .code(FunctionCode::builder().zip_file(self.next_zip()).build())
            .send()
            .await
            .unwrap_or_else(|e| panic!("MotoServer: CreateFunction {name} failed: {e:?}"));
        out.function_arn()
            .unwrap_or_else(|| panic!("MotoServer: CreateFunction {name} returned no ARN"))
            .to_owned()
    }

    /// Publishes a new version of `name`; returns its number ("1", "2", …).
    ///
    /// Like AWS, moto returns the existing version when nothing changed since it was published,
    /// so the function's code is replaced by a new zip first: every call yields a new version.
    pub async fn publish_version(&self, name: &str) -> String {
        let client = self.client();
        client
            .update_function_code()
            .function_name(name)
            .zip_file(self.next_zip())
            .send()
            .await
            .unwrap_or_else(|e| panic!("MotoServer: UpdateFunctionCode {name} failed: {e:?}"));
        let out = client
            .publish_version()
            .function_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("MotoServer: PublishVersion {name} failed: {e:?}"));
        out.version()
            .unwrap_or_else(|| panic!("MotoServer: PublishVersion {name} returned no version"))
            .to_owned()
    }

    /// Creates alias `alias` of `name` pointing at `version`; returns the alias ARN.
    pub async fn create_alias(&self, name: &str, alias: &str, version: &str) -> String {
        let out = self
            .client()
            .create_alias()
            .function_name(name)
            .name(alias)
            .function_version(version)
            .send()
            .await
            .unwrap_or_else(|e| panic!("MotoServer: CreateAlias {name}:{alias} failed: {e:?}"));
        out.alias_arn()
            .unwrap_or_else(|| panic!("MotoServer: CreateAlias {name}:{alias} returned no ARN"))
            .to_owned()
    }

    /// Makes the next invocations (of any function) answer `results`, one each, in order;
    /// afterwards invocations echo their payload again.
    pub fn queue_invoke_results(&self, results: &[&str]) {
        let body = serde_json::json!({"results": results, "region": "us-east-1"}).to_string();
        let url = format!("{}/moto-api/static/lambda-simple/response", self.endpoint());
        let response = http::post(
            &url,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("MotoServer: POST {url} failed: {e}"));
        assert_eq!(
            response.status,
            201,
            "MotoServer: queueing invoke results: {}",
            response.text()
        );
    }

    /// A deployment package whose content differs from every earlier one.
    fn next_zip(&self) -> Blob {
        let revision = self.code_revision.fetch_add(1, Ordering::Relaxed);
        let source =
            format!("# revision {revision}\ndef handler(event, context):\n    return event\n");
        Blob::new(stored_zip(&[("index.py", source.as_bytes())]))
    }
}

/// Starts moto; `Err((retry, message))`.
fn launch() -> Result<MotoServer, (bool, String)> {
    let port = free_port();
    let port_arg = port.to_string();
    let log = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("lambdaflow-emulators")
        .join(format!("moto-server-{port}.log"));
    let mut process = Supervised::spawn(
        "moto_server",
        "moto_server",
        &["-H", "127.0.0.1", "-p", &port_arg],
        &super::repo_root(),
        &[],
        log,
    )
    .map_err(|e| (false, format!("MotoServer: {e}; {INSTALL_HINT}")))?;

    let base = format!("http://127.0.0.1:{port}");
    let config = br#"{"lambda": {"use_docker": false}}"#;
    let started = Instant::now();
    loop {
        if let Some(status) = process.exit_status() {
            // 127: the shell found no moto_server; another port will not help.
            return Err((
                status.code() != Some(127),
                format!(
                    "MotoServer: `moto_server -p {port}` exited during start-up ({status}); \
                     {INSTALL_HINT} if it is missing. Output ({}):\n{}",
                    process.log_path().display(),
                    process.log_tail(40)
                ),
            ));
        }
        let attempt = http::request(
            "POST",
            &format!("{base}/moto-api/config"),
            &[("Content-Type", "application/json")],
            config,
            Duration::from_secs(10),
        );
        let last = match attempt {
            Ok(r) if r.status == 201 => break,
            Ok(r) => format!("HTTP {} {}", r.status, r.text()),
            Err(e) => e.to_string(),
        };
        if started.elapsed() > READY_TIMEOUT {
            let tail = process.log_tail(40);
            process.stop();
            return Err((
                false,
                format!(
                    "MotoServer: POST /moto-api/config on port {port} did not succeed within \
                     {READY_TIMEOUT:?} (last attempt: {last}); {INSTALL_HINT}. Output:\n{tail}"
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    create_role(&base).map_err(|e| {
        (
            false,
            format!("MotoServer: {e}\nOutput:\n{}", process.log_tail(40)),
        )
    })?;
    Ok(MotoServer {
        port,
        process,
        code_revision: AtomicU64::new(0),
    })
}

/// Creates [`ROLE_NAME`] through IAM's query API (the root crate has no IAM SDK). moto routes
/// the request to IAM by the service named in the Authorization header's credential scope; it
/// does not check the signature.
fn create_role(base: &str) -> Result<(), String> {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={ROLE_NAME}&AssumeRolePolicyDocument={}",
        form_encode(policy)
    );
    let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, \
                SignedHeaders=host, Signature=0";
    let response = http::post(
        &format!("{base}/"),
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", auth),
        ],
        body.as_bytes(),
    )
    .map_err(|e| format!("IAM CreateRole request failed: {e}"))?;
    if response.status == 200 && response.text().contains("<CreateRoleResponse") {
        Ok(())
    } else {
        Err(format!(
            "IAM CreateRole answered HTTP {}: {}",
            response.status,
            response.text()
        ))
    }
}

/// `application/x-www-form-urlencoded` encoding of `value`.
fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
