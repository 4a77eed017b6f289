//! One Lambda call: sends a payload with the node's settings ([`Invoker::call`]), then judges
//! the reply and decodes the response ([`Invoker::judge`]). Retries, call slots and ordering
//! are the invocation driver's (`runtime::driver`).

use std::borrow::Cow;
use std::time::{Duration, Instant};

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::operation::RequestId as _;
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde_json::json;

use super::call::Call;
use super::classify::classify;
use super::config::{InvocationKind, LambdaConfig};
use super::payload::{Charset, Success, decode_response};
use crate::runtime::{Condition, Emitter, Failure, FinalFailure};

/// What one call answered, and how long it took.
#[derive(Debug)]
pub struct Reply {
    result: Result<InvokeOutput, SdkError<InvokeError>>,
    elapsed: Duration,
}

/// Invokes the node's function.
#[derive(Debug, Clone)]
pub struct Invoker {
    client: Client,
    function_name: String,
    qualifier: Option<String>,
    kind: InvocationKind,
    log_tail: bool,
    client_context: Option<String>,
    charset: Charset,
    /// The qualifier the call resolves to: `qualifier`, else an alias in `functionName`.
    reported_qualifier: Option<String>,
    /// The function's qualified ARN, when known.
    function_arn: Option<String>,
    retry_timeouts: bool,
    /// `X-Amz-Tenant-Id`, when set.
    tenant_id: Option<String>,
    /// `X-Amz-Durable-Execution-Name`, when set.
    durable_execution_name: Option<String>,
}

impl Invoker {
    /// An invoker for `config` (with its parsed `charset`) using `client`.
    pub fn new(client: Client, config: &LambdaConfig, charset: Charset) -> Self {
        Invoker {
            client,
            function_name: config.function_name.trim().to_owned(),
            qualifier: config.qualifier().map(str::to_owned),
            kind: config.effective_invocation_type(),
            log_tail: config.log_tail,
            client_context: config.encoded_client_context(),
            charset,
            reported_qualifier: config.resolved_qualifier().map(str::to_owned),
            function_arn: config.qualified_arn(),
            retry_timeouts: config.connection.retry_timeouts,
            tenant_id: config.tenant_id.clone(),
            durable_execution_name: None,
        }
    }

    /// The client calls go through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The function name sent.
    pub fn function_name(&self) -> &str {
        &self.function_name
    }

    /// The qualifier sent, if any.
    pub fn qualifier(&self) -> Option<&str> {
        self.qualifier.as_deref()
    }

    /// The qualifier the call resolves to, as reported in `lambda.qualifier`.
    pub fn reported_qualifier(&self) -> Option<&str> {
        self.reported_qualifier.as_deref()
    }

    /// The function's qualified ARN, when known.
    pub fn function_arn(&self) -> Option<&str> {
        self.function_arn.as_deref()
    }

    /// The tenant id sent, if any.
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }

    /// The base64 client context sent, if any.
    pub fn client_context(&self) -> Option<&str> {
        self.client_context.as_deref()
    }

    /// The charset responses are decoded with.
    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// This invoker as one message's call needs it: itself when `call` is `None`.
    pub fn with_call(&self, call: Option<Call>) -> Cow<'_, Invoker> {
        let Some(call) = call else {
            return Cow::Borrowed(self);
        };
        let mut routed = self.clone();
        if call.client_context.is_some() {
            routed.client_context = call.client_context;
        }
        if let Some(target) = call.route.target {
            routed.function_name = target.function_name;
            routed.qualifier = target.qualifier;
            routed.reported_qualifier = target.reported_qualifier;
            routed.function_arn = target.function_arn;
        }
        if call.route.tenant_id.is_some() {
            routed.tenant_id = call.route.tenant_id;
        }
        routed.durable_execution_name = call.route.durable_execution_name;
        Cow::Owned(routed)
    }

    /// Adds the function's context (`functionName`, `qualifier`, `invocationType`, and
    /// `tenantId` / `durableExecutionName` when sent) to a failure's `requestContext`.
    pub fn with_context(&self, mut failure: Failure) -> Failure {
        failure = failure
            .with_request_context("functionName", self.function_name.clone())
            .with_request_context("invocationType", self.kind.as_str());
        if let Some(q) = &self.reported_qualifier {
            failure = failure.with_request_context("qualifier", q.clone());
        }
        if let Some(arn) = &self.function_arn {
            failure = failure.with_request_context("functionArn", arn.clone());
        }
        if let Some(tenant) = &self.tenant_id {
            failure = failure.with_request_context("tenantId", tenant.clone());
        }
        if let Some(name) = &self.durable_execution_name {
            failure = failure.with_request_context("durableExecutionName", name.clone());
        }
        failure
    }

    /// A failure found before any call (invalid body, too large): final, no attempt made.
    pub fn before_call(&self, failure: Failure) -> FinalFailure {
        FinalFailure {
            failure: self.with_context(failure),
            attempts: 0,
            condition: Condition::Failure,
        }
    }

    /// A failure found after a successful call (the response cannot become this message's
    /// output): final, after `attempts` attempts.
    pub fn after_call(&self, failure: Failure, attempts: u32) -> FinalFailure {
        FinalFailure {
            failure: self.with_context(failure),
            attempts,
            condition: Condition::Failure,
        }
    }

    /// Sends `payload` once, timing the call into the node's latency histogram.
    pub async fn call(&self, payload: &Bytes, emitter: &Emitter) -> Reply {
        // RequestResponse is Lambda's default: leaving the header out saves signing and sending it
        // on every call.
        let kind = match self.kind {
            // ResponseStream calls go through `stream::Reader`; a buffered one would be this.
            InvocationKind::RequestResponse | InvocationKind::ResponseStream => None,
            InvocationKind::Event => Some(InvocationType::Event),
            InvocationKind::DryRun => Some(InvocationType::DryRun),
        };
        let mut request = self
            .client
            .invoke()
            .function_name(&self.function_name)
            .set_qualifier(self.qualifier.clone())
            .set_invocation_type(kind)
            .set_tenant_id(self.tenant_id.clone())
            .set_durable_execution_name(self.durable_execution_name.clone())
            .payload(Blob::new(payload.to_vec()));
        if matches!(
            self.kind,
            InvocationKind::RequestResponse | InvocationKind::ResponseStream
        ) {
            if self.log_tail {
                request = request.log_type(LogType::Tail);
            }
            request = request.set_client_context(self.client_context.clone());
        }
        let started = Instant::now();
        let result = request.send().await;
        let elapsed = started.elapsed();
        emitter.stats().latency.observe(elapsed);
        Reply { result, elapsed }
    }

    /// Judges a reply: the decoded success, or the failure (with the function's context).
    pub fn judge(&self, reply: Reply, emitter: &Emitter, attempt: u32) -> Result<Success, Failure> {
        let Reply { result, elapsed } = reply;
        let node = &emitter.info().node;
        let out = classify(result, self.charset, self.retry_timeouts).map_err(|f| {
            tracing::debug!(node = %node, function = %self.function_name, attempt,
                elapsed_ms = elapsed.as_millis() as u64, code = %f.code, "Lambda call failed.");
            self.with_context(f)
        })?;
        let request_id = out.request_id().map(str::to_owned);
        tracing::debug!(node = %node, function = %self.function_name, attempt,
            status = out.status_code(), request_id = request_id.as_deref().unwrap_or("-"),
            elapsed_ms = elapsed.as_millis() as u64, "Lambda invoked.");
        let response = match self.kind {
            InvocationKind::RequestResponse | InvocationKind::ResponseStream => {
                let bytes = out.payload().map(|b| b.as_ref()).unwrap_or_default();
                Some(decode_response(self.charset, bytes).map_err(|f| {
                    let mut f = self.with_context(f).with_response_context(json!({
                        "statusCode": out.status_code(),
                        "executedVersion": out.executed_version(),
                    }));
                    if let Some(id) = &request_id {
                        f = f.with_request_context("requestId", id.clone());
                    }
                    f
                })?)
            }
            InvocationKind::Event | InvocationKind::DryRun => None,
        };
        let log_result = out
            .log_result()
            .and_then(|b64| BASE64.decode(b64).ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        Ok(Success {
            function_name: self.function_name.clone(),
            function_arn: self.function_arn.clone(),
            qualifier: self.reported_qualifier.clone(),
            invocation_type: self.kind.as_str(),
            status: out.status_code(),
            request_id,
            executed_version: out.executed_version().map(str::to_owned),
            log_result,
            response,
            stream: None,
            attempts: attempt,
        })
    }
}
