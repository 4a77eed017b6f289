//! The LambdaConnector's property sheet (`component-schema/lambda.schema.json`) as serde structs,
//! with the checks a schema cannot express (charset labels, client-context size, qualifier
//! clashes).
//!
//! Every default here is also written in the schema; a test compares the two in both directions.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::payload::Charset;
use crate::runtime::{ErrorHandling, RuntimeError};

/// The longest base64 client context Lambda accepts (`X-Amz-Client-Context`).
pub const MAX_CLIENT_CONTEXT_BYTES: usize = 3583;

/// LambdaConnector configuration (design §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LambdaConfig {
    /// AWS Connection Details: region, credentials, role, endpoint and timeouts.
    #[serde(default)]
    pub connection: Connection,
    /// The function to invoke: a name, a full or partial ARN, or `name:alias`.
    pub function_name: String,
    /// A version or alias to invoke; empty invokes `$LATEST` (or the alias in `functionName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    /// Fiorano's "Async Invoke?": invoke with `Event` and acknowledge each message as soon as
    /// Lambda has queued it; the function's result never comes back. Overrides
    /// `invocationType`.
    #[serde(default)]
    pub async_invoke: bool,
    /// `RequestResponse` (wait for the result), `Event` (queue it), `DryRun` (check
    /// permissions and parameters only) or `ResponseStream` (`InvokeWithResponseStream`: the
    /// response arrives as a stream, beyond the 6 MB buffered limit). Ignored when
    /// `asyncInvoke` is on.
    #[serde(default)]
    pub invocation_type: InvocationKind,
    /// With `ResponseStream`: `whole` (one `out` message once the stream is complete) or
    /// `chunks` (one `out` message per chunk as it arrives, then an end marker).
    #[serde(default)]
    pub stream_output: StreamOutput,
    /// With `ResponseStream` and `streamOutput: whole`: the largest response kept, in bytes;
    /// a longer stream is cut off and goes to `error` (Lambda streams at most 200 MiB).
    #[serde(default = "default_max_response_bytes")]
    pub max_response_bytes: u64,
    /// Fiorano's "Is PayLoad Json Object?": the body must be JSON and is sent as it is (a body
    /// that does not parse is an invalid request, refused before any call). Off: the body is
    /// sent as a JSON string.
    #[serde(default = "yes")]
    pub payload_is_json: bool,
    /// Charset (any WHATWG label) the function's response is decoded with.
    #[serde(default = "default_charset")]
    pub response_charset: String,
    /// Ask for the last 4 KB of the function's log (`X-Amz-Log-Type: Tail`); it arrives decoded
    /// in the `lambda.logResult` property. Synchronous calls only.
    #[serde(default)]
    pub log_tail: bool,
    /// Client context passed to the function (`context.clientContext`), as a JSON object; sent
    /// base64-encoded, at most 3,583 bytes encoded. Synchronous calls only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_context: Option<Map<String, Value>>,
    /// Message properties handed to the function in `clientContext.custom` (merged over
    /// `clientContext`): exact names, or prefixes ending in `*` (`tenant.*`). Values are sent
    /// as strings; over Lambda's 3,583-byte limit the message is refused. `RequestResponse`
    /// and `payloadFormat: message` only.
    #[serde(default)]
    pub forward_properties: Vec<String>,
    /// Let each message choose the function and qualifier with its `lambda.functionName` and
    /// `lambda.qualifier` properties (validated like `functionName` and `qualifier`).
    #[serde(default)]
    pub allow_overrides: bool,
    /// Tenant id sent with every call (`X-Amz-Tenant-Id`), for functions in tenant-isolation
    /// mode; a message's `tenantIdProperty` wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The message property whose value is the call's tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id_property: Option<String>,
    /// The message property whose value names the durable execution the call starts
    /// (`X-Amz-Durable-Execution-Name`), making the start idempotent. `payloadFormat: message`
    /// only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durable_execution_name_property: Option<String>,
    /// `message`: each message's body is one invocation's payload. `v2`: messages are batched
    /// into a JSON array of Pulsar V2 records `{<metadata>…, "value": <body>}`.
    #[serde(default)]
    pub payload_format: PayloadFormat,
    /// With `payloadFormat: v2`, the message metadata each record carries next to `value`.
    #[serde(default = "default_metadata_fields")]
    pub metadata_fields: Vec<MetadataField>,
    /// With `payloadFormat: v2`, when a batch is sent: whichever limit is reached first.
    #[serde(default)]
    pub batch: BatchConfig,
    /// Invocations (or batches) in flight at once for this node (with `concurrency.mode:
    /// fixed`, the default).
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: u32,
    /// How the number of calls in flight is chosen: fixed at `maxConcurrency`, or adapting to
    /// throttling between `min` and `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
    /// Emit results in the order the messages arrived (a slow or retrying message holds back
    /// later results, never later invocations).
    #[serde(default = "yes")]
    pub preserve_order: bool,
    /// `payload`: the `out` body is the decoded response. `record`: it is a Lambda
    /// Destinations-style success record with the request and response. `merge`: the input
    /// body with the response at `mergeAt`.
    #[serde(default)]
    pub output_mode: OutputMode,
    /// With `outputMode: merge`, where the response goes inside the input body: a JSON
    /// pointer (RFC 6901) below the root; missing objects along the path are created.
    #[serde(default = "default_merge_at")]
    pub merge_at: String,
    /// Largest request payloads, checked before any call.
    #[serde(default)]
    pub request_size_limits: RequestSizeLimits,
    /// Remedial actions for each error type (`component-schema/error-handling.schema.json`).
    #[serde(default)]
    pub error_handling: ErrorHandling,
}

/// AWS Connection Details. When nothing is set, the standard AWS configuration applies
/// (environment, shared config and credentials files, SSO, container and instance roles).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Connection {
    /// AWS region (e.g. `us-east-1`); when empty, `AWS_REGION` or the profile's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Access key id of static credentials (with `secretKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// Secret access key of static credentials. A secret: never written to flow files, logs
    /// or error records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// Session token of temporary static credentials. A secret, like `secretKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    /// Named profile of the shared AWS config and credentials files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Role to assume through STS with the credentials above (or the default chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// External id the role's trust policy asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Lambda endpoint override (local emulator, VPC endpoint); when empty,
    /// `AWS_ENDPOINT_URL_LAMBDA` / `AWS_ENDPOINT_URL` apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// How long to wait for a connection to the endpoint, in milliseconds.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// How long one call may take in all, in milliseconds. The default (910 s) is above
    /// Lambda's longest function timeout (900 s), so a synchronous call is never cut off
    /// before the function itself would be.
    #[serde(default = "default_invoke_timeout_ms")]
    pub invoke_timeout_ms: u64,
    /// Retry a call that timed out after its request was sent. Off by default: the function
    /// may have run (and would run again), so a timeout is final unless the function is
    /// idempotent and the user says so.
    #[serde(default)]
    pub retry_timeouts: bool,
}

impl Connection {
    /// Checks what the schema cannot: static credentials come in pairs.
    pub fn check(&self) -> Result<(), (String, String)> {
        let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        match (has(&self.access_key), has(&self.secret_key)) {
            (true, false) => Err((
                "/connection/secretKey".into(),
                "an access key needs its secret key".into(),
            )),
            (false, true) => Err((
                "/connection/accessKey".into(),
                "a secret key needs its access key".into(),
            )),
            _ if has(&self.session_token) && !has(&self.access_key) => Err((
                "/connection/sessionToken".into(),
                "a session token needs an access key and a secret key".into(),
            )),
            _ if has(&self.external_id) && !has(&self.role_arn) => Err((
                "/connection/externalId".into(),
                "an external id is only used with a role ARN".into(),
            )),
            _ => Ok(()),
        }
    }
}

impl Default for LambdaConfig {
    fn default() -> Self {
        LambdaConfig {
            connection: Connection::default(),
            function_name: String::new(),
            qualifier: None,
            async_invoke: false,
            invocation_type: InvocationKind::default(),
            stream_output: StreamOutput::default(),
            max_response_bytes: default_max_response_bytes(),
            payload_is_json: true,
            response_charset: default_charset(),
            log_tail: false,
            client_context: None,
            forward_properties: Vec::new(),
            allow_overrides: false,
            tenant_id: None,
            tenant_id_property: None,
            durable_execution_name_property: None,
            payload_format: PayloadFormat::default(),
            metadata_fields: default_metadata_fields(),
            batch: BatchConfig::default(),
            max_concurrency: default_max_concurrency(),
            concurrency: None,
            preserve_order: true,
            output_mode: OutputMode::default(),
            merge_at: default_merge_at(),
            request_size_limits: RequestSizeLimits::default(),
            error_handling: ErrorHandling::default(),
        }
    }
}

/// Secrets never reach a `Debug` string (configs end up in logs and panics).
impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("Connection")
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &redacted(&self.secret_key))
            .field("session_token", &redacted(&self.session_token))
            .field("profile", &self.profile)
            .field("role_arn", &self.role_arn)
            .field("external_id", &redacted(&self.external_id))
            .field("endpoint_url", &self.endpoint_url)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("invoke_timeout_ms", &self.invoke_timeout_ms)
            .field("retry_timeouts", &self.retry_timeouts)
            .finish()
    }
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            region: None,
            access_key: None,
            secret_key: None,
            session_token: None,
            profile: None,
            role_arn: None,
            external_id: None,
            endpoint_url: None,
            connect_timeout_ms: default_connect_timeout_ms(),
            invoke_timeout_ms: default_invoke_timeout_ms(),
            retry_timeouts: false,
        }
    }
}

/// Lambda's invocation types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvocationKind {
    /// Wait for the function's result (HTTP 200).
    #[default]
    RequestResponse,
    /// Queue the event; Lambda answers 202 at once and runs the function later.
    Event,
    /// Validate parameters and permissions without running the function (HTTP 204).
    DryRun,
    /// `InvokeWithResponseStream`: wait for the result, read as an event stream.
    ResponseStream,
}

/// What a streamed response (`ResponseStream`) becomes on `out`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamOutput {
    /// The chunks joined: one `out` message when the stream is complete, shaped like a
    /// buffered response (`responseCharset`, `outputMode`).
    #[default]
    Whole,
    /// One `out` message per chunk as it arrives (`lambda.streamId`, `lambda.chunkIndex`),
    /// then an end marker (`lambda.streamEnd`).
    Chunks,
}

impl InvocationKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvocationKind::RequestResponse => "RequestResponse",
            InvocationKind::Event => "Event",
            InvocationKind::DryRun => "DryRun",
            InvocationKind::ResponseStream => "ResponseStream",
        }
    }
}

/// How messages become request payloads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadFormat {
    /// One invocation per message; the body is the payload.
    #[default]
    Message,
    /// Pulsar V2: a JSON array of `{<metadata>…, "value": …}` records, batched.
    V2,
}

/// Message metadata a V2 record can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MetadataField {
    /// The message id.
    MessageId,
    /// When the message was created (RFC 3339).
    Timestamp,
    /// The message's content type.
    ContentType,
    /// The message's header properties.
    Properties,
}

impl MetadataField {
    /// The record key.
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataField::MessageId => "messageId",
            MetadataField::Timestamp => "timestamp",
            MetadataField::ContentType => "contentType",
            MetadataField::Properties => "properties",
        }
    }
}

/// What the `out` body is for a synchronous call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputMode {
    /// The decoded response.
    #[default]
    Payload,
    /// A Destinations-style success record (request, response, context).
    Record,
    /// The input body (JSON) with the response at `mergeAt`.
    Merge,
}

/// How many calls a node keeps in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Concurrency {
    /// `fixed`: `maxConcurrency` calls at once. `adaptive`: start at `min`, add a call per
    /// round of successes, back off to 70 % on throttling (AIMD), never outside `min..=max`.
    #[serde(default)]
    pub mode: ConcurrencyMode,
    /// With `adaptive`: the fewest calls in flight, and the start.
    #[serde(default = "default_adaptive_min")]
    pub min: u32,
    /// With `adaptive`: the most calls in flight.
    #[serde(default = "default_adaptive_max")]
    pub max: u32,
}

/// See [`Concurrency::mode`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConcurrencyMode {
    /// `maxConcurrency` calls at once.
    #[default]
    Fixed,
    /// AIMD between `min` and `max`.
    Adaptive,
}

/// V2 batching triggers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BatchConfig {
    /// Records per batch at most (1 sends each message on its own).
    #[serde(default = "default_max_records")]
    pub max_records: u32,
    /// Bytes of the batch's JSON payload at most (the request size limit also applies).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// How long the first record of a batch waits for more, in milliseconds.
    #[serde(default = "default_max_wait_ms")]
    pub max_wait_ms: u64,
    /// What each message of a successful batch gets from the batch's response.
    #[serde(default)]
    pub response_mapping: ResponseMapping,
}

/// How a V2 batch's response is shared among its messages (see `mapping.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResponseMapping {
    /// Every message gets the whole response.
    #[default]
    Whole,
    /// The response is an array as long as the batch; message i gets element i.
    PerRecord,
    /// `{"batchItemFailures":[{"itemIdentifier":"<messageId>"}]}`: listed messages fail.
    BatchItemFailures,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_records: default_max_records(),
            max_bytes: default_max_bytes(),
            max_wait_ms: default_max_wait_ms(),
            response_mapping: ResponseMapping::default(),
        }
    }
}

/// Request payload limits, checked before any call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestSizeLimits {
    /// Synchronous (`RequestResponse`, `DryRun`) payloads, in bytes (Lambda: 6 MB).
    #[serde(default = "default_sync_limit")]
    pub sync: u64,
    /// Asynchronous (`Event`, `asyncInvoke`) payloads, in bytes (Lambda: 1 MB).
    #[serde(default = "default_event_limit")]
    pub event: u64,
}

impl Default for RequestSizeLimits {
    fn default() -> Self {
        RequestSizeLimits {
            sync: default_sync_limit(),
            event: default_event_limit(),
        }
    }
}

fn yes() -> bool {
    true
}
fn default_charset() -> String {
    "UTF-8".into()
}
fn default_metadata_fields() -> Vec<MetadataField> {
    vec![
        MetadataField::MessageId,
        MetadataField::Timestamp,
        MetadataField::Properties,
    ]
}
fn default_merge_at() -> String {
    "/lambda".into()
}
fn default_max_concurrency() -> u32 {
    4
}
fn default_adaptive_min() -> u32 {
    1
}
fn default_adaptive_max() -> u32 {
    64
}
fn default_connect_timeout_ms() -> u64 {
    3100
}
fn default_invoke_timeout_ms() -> u64 {
    910_000
}
fn default_max_records() -> u32 {
    10
}
fn default_max_bytes() -> u64 {
    1_048_576
}
fn default_max_wait_ms() -> u64 {
    5000
}
fn default_sync_limit() -> u64 {
    6_291_456
}
fn default_event_limit() -> u64 {
    1_048_576
}
fn default_max_response_bytes() -> u64 {
    20 * 1_048_576
}

impl LambdaConfig {
    /// The invocation type actually used (`asyncInvoke` means `Event`).
    pub fn effective_invocation_type(&self) -> InvocationKind {
        if self.async_invoke {
            InvocationKind::Event
        } else {
            self.invocation_type
        }
    }

    /// The request size limit for the effective invocation type.
    pub fn request_limit(&self) -> u64 {
        match self.effective_invocation_type() {
            InvocationKind::Event => self.request_size_limits.event,
            _ => self.request_size_limits.sync,
        }
    }

    /// The qualifier to send, if any (an empty string means none).
    pub fn qualifier(&self) -> Option<&str> {
        self.qualifier.as_deref().filter(|q| !q.is_empty())
    }

    /// With `outputMode: merge`, whether `input`'s body can take the response at `mergeAt`
    /// (checked before the call, so the function never runs for an output that cannot be made).
    pub fn check_merge(
        &self,
        input: &crate::message::Message,
    ) -> Result<(), crate::runtime::Failure> {
        match self.output_mode {
            OutputMode::Merge => super::merge::check(input, &self.merge_at),
            OutputMode::Payload | OutputMode::Record => Ok(()),
        }
    }

    /// The driver's concurrency limit this config asks for (the gate keeps it at one call or
    /// more).
    pub fn limit(&self) -> crate::runtime::driver::Limit {
        use crate::runtime::driver::Limit;
        match &self.concurrency {
            Some(c) if c.mode == ConcurrencyMode::Adaptive => Limit::Adaptive {
                min: c.min as usize,
                max: c.max as usize,
            },
            _ => Limit::Fixed(self.max_concurrency as usize),
        }
    }

    /// The client context, base64-encoded as the header wants it.
    pub fn encoded_client_context(&self) -> Option<String> {
        self.client_context
            .as_ref()
            .map(|ctx| BASE64.encode(Value::Object(ctx.clone()).to_string()))
    }

    /// Checks what the schema cannot. Errors name the offending field's pointer inside the
    /// node's `config`.
    pub fn check(&self, node: &str) -> Result<(), RuntimeError> {
        let err = |pointer: &str, message: String| RuntimeError::Config {
            node: node.into(),
            pointer: pointer.to_owned(),
            message,
        };
        if self.function_name.trim().is_empty() {
            return Err(err("/functionName", "a function name is required".into()));
        }
        if let Err((pointer, message)) = self.connection.check() {
            return Err(err(&pointer, message));
        }
        self.charset(node)?;
        if let Some(ctx) = self.encoded_client_context()
            && ctx.len() > MAX_CLIENT_CONTEXT_BYTES
        {
            return Err(err(
                "/clientContext",
                format!(
                    "the client context is {} bytes base64-encoded; Lambda accepts at most {}",
                    ctx.len(),
                    MAX_CLIENT_CONTEXT_BYTES
                ),
            ));
        }
        self.check_forward(node)?;
        self.check_stream(node)?;
        self.check_mapping(node)?;
        if let Some(c) = &self.concurrency
            && c.mode == ConcurrencyMode::Adaptive
            && c.min > c.max
        {
            return Err(err(
                "/concurrency/min",
                "the adaptive limit's min must not be above its max".into(),
            ));
        }
        self.check_routing(node)?;
        if let Err(why) = super::merge::tokens(&self.merge_at) {
            return Err(err("/mergeAt", why.into()));
        }
        if self.qualifier_clashes() {
            return Err(err(
                "/qualifier",
                "functionName already names a different qualifier; they must agree".into(),
            ));
        }
        Ok(())
    }

    /// `forwardProperties`: usable entries, and only where the function sees a client context.
    fn check_forward(&self, node: &str) -> Result<(), RuntimeError> {
        let err = |pointer: String, message: &str| RuntimeError::Config {
            node: node.into(),
            pointer,
            message: message.to_owned(),
        };
        for (i, entry) in self.forward_properties.iter().enumerate() {
            super::forward::check_entry(entry)
                .map_err(|why| err(format!("/forwardProperties/{i}"), why))?;
        }
        if self.forward_properties.is_empty() {
            return Ok(());
        }
        if !matches!(
            self.effective_invocation_type(),
            InvocationKind::RequestResponse | InvocationKind::ResponseStream
        ) {
            return Err(err(
                "/forwardProperties".into(),
                "Lambda hands the client context to the function on RequestResponse calls \
                 only; forwarded properties would never arrive",
            ));
        }
        if self.payload_format == PayloadFormat::V2 {
            return Err(err(
                "/forwardProperties".into(),
                "a v2 batch is one call for many messages; each record carries its message's \
                 properties with metadataFields 'properties'",
            ));
        }
        Ok(())
    }

    /// `ResponseStream` answers one synchronous call with one stream: no batches, no `Event`,
    /// no durable execution name (`InvokeWithResponseStream` has none), and `chunks` cannot
    /// be shaped by `outputMode` record or merge.
    fn check_stream(&self, node: &str) -> Result<(), RuntimeError> {
        super::stream::check(self).map_err(|(pointer, message)| RuntimeError::Config {
            node: node.into(),
            pointer: pointer.to_owned(),
            message: message.to_owned(),
        })
    }

    /// Routing settings Lambda would refuse, or that cannot apply.
    fn check_routing(&self, node: &str) -> Result<(), RuntimeError> {
        let err = |pointer: &str, message: &str| RuntimeError::Config {
            node: node.into(),
            pointer: pointer.to_owned(),
            message: message.to_owned(),
        };
        if let Some(tenant) = &self.tenant_id
            && !super::route::valid_tenant_id(tenant)
        {
            return Err(err(
                "/tenantId",
                "not a tenant id Lambda accepts (1 to 256 letters, digits, spaces and ._:/=+-@)",
            ));
        }
        for (pointer, name) in [
            ("/tenantIdProperty", &self.tenant_id_property),
            (
                "/durableExecutionNameProperty",
                &self.durable_execution_name_property,
            ),
        ] {
            if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Err(err(pointer, "name a message property, or leave it out"));
            }
        }
        if self.durable_execution_name_property.is_some()
            && self.payload_format == PayloadFormat::V2
        {
            return Err(err(
                "/durableExecutionNameProperty",
                "a v2 batch is one execution for many messages; name executions with \
                 payloadFormat message",
            ));
        }
        Ok(())
    }

    /// Whether `qualifier` names a different qualifier than the alias in `functionName`.
    pub fn qualifier_clashes(&self) -> bool {
        matches!((self.qualifier(), self.name_qualifier()), (Some(q), Some((_, alias))) if q != alias)
    }

    /// `batch.responseMapping` other than `whole` needs a response, and `batchItemFailures`
    /// needs the records' `messageId`.
    fn check_mapping(&self, node: &str) -> Result<(), RuntimeError> {
        let err = |message: &str| RuntimeError::Config {
            node: node.into(),
            pointer: "/batch/responseMapping".to_owned(),
            message: message.to_owned(),
        };
        let mapping = self.batch.response_mapping;
        if self.payload_format != PayloadFormat::V2 || mapping == ResponseMapping::Whole {
            return Ok(());
        }
        if self.effective_invocation_type() != InvocationKind::RequestResponse {
            return Err(err(
                "perRecord and batchItemFailures share out a response; only RequestResponse \
                 calls have one",
            ));
        }
        if mapping == ResponseMapping::BatchItemFailures
            && !self.metadata_fields.contains(&MetadataField::MessageId)
        {
            return Err(err(
                "batchItemFailures names records by messageId: add messageId to metadataFields",
            ));
        }
        Ok(())
    }

    /// The response charset, parsed. Labels `encoding_rs` only maps to the `replacement`
    /// encoding (`iso-2022-kr`, `hz-gb-2312`, …) are refused: they decode nothing.
    pub fn charset(&self, node: &str) -> Result<Charset, RuntimeError> {
        Charset::for_label(&self.response_charset).ok_or_else(|| RuntimeError::Config {
            node: node.into(),
            pointer: "/responseCharset".to_owned(),
            message: "not a charset label responses can be decoded with (try UTF-8, ISO-8859-1, \
                      Shift_JIS, UTF-16LE)"
                .to_owned(),
        })
    }

    /// The qualifier a call resolves to: `qualifier`, else the alias in `functionName`.
    pub fn resolved_qualifier(&self) -> Option<&str> {
        self.qualifier()
            .or_else(|| self.name_qualifier().map(|(_, alias)| alias))
    }

    /// The function's ARN qualified as AWS writes it in Destinations records
    /// (`…:function:name:QUALIFIER`, `$LATEST` when none), when it is known: `functionName` is
    /// a full ARN, or a partial one (`account:function:name`) with `connection.region` set.
    pub fn qualified_arn(&self) -> Option<String> {
        let name = self.function_name.trim();
        let parts: Vec<&str> = name.split(':').collect();
        let base = match parts.as_slice() {
            ["arn", _, "lambda", _, _, "function", _]
            | ["arn", _, "lambda", _, _, "function", _, _] => parts[..7].join(":"),
            [account, "function", function] | [account, "function", function, _] => {
                let region = self.connection.region.as_deref().map(str::trim)?;
                if region.is_empty() {
                    return None;
                }
                let partition = if region.starts_with("cn-") {
                    "aws-cn"
                } else if region.starts_with("us-gov-") {
                    "aws-us-gov"
                } else {
                    "aws"
                };
                format!("arn:{partition}:lambda:{region}:{account}:function:{function}")
            }
            _ => return None,
        };
        Some(format!(
            "{base}:{}",
            self.resolved_qualifier().unwrap_or("$LATEST")
        ))
    }

    /// The qualifier written into `functionName` (`name:alias`, or an ARN's eighth field).
    fn name_qualifier(&self) -> Option<(&str, &str)> {
        let name = self.function_name.as_str();
        let parts: Vec<&str> = name.split(':').collect();
        match parts.len() {
            // name:alias
            2 => Some((parts[0], parts[1])),
            // account:function:name:alias
            4 if parts[1] == "function" => Some((parts[2], parts[3])),
            // arn:aws:lambda:region:account:function:name:alias
            8 => Some((parts[6], parts[7])),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> LambdaConfig {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_function_name_is_required() {
        let c = parse(json!({"functionName": "hello"}));
        assert_eq!(
            c,
            LambdaConfig {
                function_name: "hello".into(),
                ..LambdaConfig::default()
            }
        );
        assert!(c.check("n").is_ok());
        assert!(serde_json::from_value::<LambdaConfig>(json!({})).is_err());
    }

    #[test]
    fn async_invoke_means_event_and_the_event_limit() {
        let c =
            parse(json!({"functionName": "f", "asyncInvoke": true, "invocationType": "DryRun"}));
        assert_eq!(c.effective_invocation_type(), InvocationKind::Event);
        assert_eq!(c.request_limit(), 1_048_576);
        let c = parse(json!({"functionName": "f", "invocationType": "DryRun"}));
        assert_eq!(c.request_limit(), 6_291_456);
    }

    #[test]
    fn unknown_charset_is_a_config_error_naming_the_field() {
        let c = parse(json!({"functionName": "f", "responseCharset": "klingon-8"}));
        match c.check("lambda1").unwrap_err() {
            RuntimeError::Config { node, pointer, .. } => {
                assert_eq!(
                    (node.as_str(), pointer.as_str()),
                    ("lambda1", "/responseCharset")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oversized_client_context_is_refused() {
        let big = "x".repeat(3000);
        let c = parse(json!({"functionName": "f", "clientContext": {"custom": {"k": big}}}));
        let e = c.check("n").unwrap_err().to_string();
        assert!(e.contains("/clientContext") && e.contains("3583"), "{e}");
        let c = parse(json!({"functionName": "f", "clientContext": {"custom": {"k": "v"}}}));
        assert_eq!(
            c.encoded_client_context().unwrap(),
            BASE64.encode(br#"{"custom":{"k":"v"}}"#)
        );
    }

    #[test]
    fn qualifier_must_agree_with_an_alias_in_the_name() {
        let ok = parse(json!({"functionName": "hello:PROD", "qualifier": "PROD"}));
        assert!(ok.check("n").is_ok());
        let clash = parse(json!({"functionName": "hello:PROD", "qualifier": "DEV"}));
        assert!(
            clash
                .check("n")
                .unwrap_err()
                .to_string()
                .contains("/qualifier")
        );
        let arn = parse(json!({
            "functionName": "arn:aws:lambda:us-east-1:123456789012:function:hello:PROD",
            "qualifier": "3"}));
        assert!(arn.check("n").is_err());
        let plain_arn = parse(json!({
            "functionName": "arn:aws:lambda:us-east-1:123456789012:function:hello",
            "qualifier": "3"}));
        assert!(plain_arn.check("n").is_ok());
    }

    #[test]
    fn the_qualified_arn_is_known_for_full_and_partial_arns() {
        let arn = |v: Value| parse(v).qualified_arn();
        assert_eq!(
            arn(json!({"functionName": "arn:aws:lambda:eu-west-1:123456789012:function:f"})),
            Some("arn:aws:lambda:eu-west-1:123456789012:function:f:$LATEST".into())
        );
        assert_eq!(
            arn(json!({"functionName": "arn:aws:lambda:eu-west-1:123456789012:function:f:PROD"})),
            Some("arn:aws:lambda:eu-west-1:123456789012:function:f:PROD".into())
        );
        assert_eq!(
            arn(
                json!({"functionName": "123456789012:function:f", "qualifier": "3",
                       "connection": {"region": "cn-north-1"}})
            ),
            Some("arn:aws-cn:lambda:cn-north-1:123456789012:function:f:3".into())
        );
        assert_eq!(
            arn(json!({"functionName": "123456789012:function:f"})),
            None
        );
        assert_eq!(arn(json!({"functionName": "f:PROD"})), None);
        let alias = parse(json!({"functionName": "echo:BETA"}));
        assert_eq!(alias.resolved_qualifier(), Some("BETA"));
    }

    #[test]
    fn merge_at_must_be_a_pointer_below_the_root() {
        let c = parse(json!({"functionName": "f", "outputMode": "merge"}));
        assert_eq!(
            (c.output_mode, c.merge_at.as_str()),
            (OutputMode::Merge, "/lambda")
        );
        assert!(c.check("n").is_ok());
        for bad in ["", "lambda", "/a~2"] {
            let c = parse(json!({"functionName": "f", "outputMode": "merge", "mergeAt": bad}));
            let e = c.check("n").unwrap_err().to_string();
            assert!(e.contains("/mergeAt"), "{e}");
        }
    }

    #[test]
    fn forwarding_needs_usable_entries_and_a_synchronous_message_call() {
        let ok = parse(json!({"functionName": "f", "forwardProperties": ["orderId", "tenant.*"]}));
        assert!(ok.check("n").is_ok());
        let cases = [
            (
                json!({"forwardProperties": ["a", "b*c"]}),
                "/forwardProperties/1",
            ),
            (
                json!({"forwardProperties": ["a"], "asyncInvoke": true}),
                "/forwardProperties",
            ),
            (
                json!({"forwardProperties": ["a"], "invocationType": "DryRun"}),
                "/forwardProperties",
            ),
            (
                json!({"forwardProperties": ["a"], "payloadFormat": "v2"}),
                "/forwardProperties",
            ),
        ];
        for (extra, pointer) in cases {
            let mut v = json!({"functionName": "f"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            match parse(v).check("n").unwrap_err() {
                RuntimeError::Config { pointer: p, .. } => assert_eq!(p, pointer),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn response_mappings_need_a_response_and_batch_item_failures_the_message_id() {
        let v2 = |extra: Value| {
            let mut v = json!({"functionName": "f", "payloadFormat": "v2"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            parse(v).check("n")
        };
        assert!(v2(json!({"batch": {"responseMapping": "perRecord"}})).is_ok());
        assert!(v2(json!({"batch": {"responseMapping": "batchItemFailures"}})).is_ok());
        for extra in [
            json!({"batch": {"responseMapping": "perRecord"}, "asyncInvoke": true}),
            json!({"batch": {"responseMapping": "batchItemFailures"}, "metadataFields": ["properties"]}),
        ] {
            let e = v2(extra).unwrap_err().to_string();
            assert!(e.contains("/batch/responseMapping"), "{e}");
        }
    }

    #[test]
    fn half_a_key_pair_is_refused() {
        let c = parse(json!({"functionName": "f", "connection": {"accessKey": "AKID"}}));
        assert!(
            c.check("n")
                .unwrap_err()
                .to_string()
                .contains("/connection/secretKey")
        );
        let c = parse(json!({"functionName": "f", "connection": {"externalId": "x"}}));
        assert!(
            c.check("n")
                .unwrap_err()
                .to_string()
                .contains("/connection/externalId")
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = parse(json!({"functionName": "f", "connection": {
            "accessKey": "AKIDEXAMPLE", "secretKey": "wJalrXUtnFEMI/K7MDENG",
            "sessionToken": "FwoGZXIvYXdzEJr"}}));
        let text = format!("{c:?}");
        assert!(!text.contains("wJalrXUtnFEMI"), "{text}");
        assert!(!text.contains("FwoGZXIvYXdzEJr"), "{text}");
        assert!(text.contains("<redacted>"));
    }
}
