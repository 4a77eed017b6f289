//! Response streaming (`invocationType: ResponseStream`): one `InvokeWithResponseStream` call,
//! its event stream read to the end and joined into one response (`streamOutput: whole`), or
//! emitted chunk by chunk as it arrives (`chunks`).
//!
//! What reaches each port:
//! - `whole`: the chunks are joined, up to `maxResponseBytes`; a longer stream is cut off and
//!   its message goes to `error` (`responseGeneration` `ResponseTooLarge`) — nothing of it
//!   reaches `out`. A complete stream becomes one `out` message exactly as a buffered
//!   response does (`responseCharset`, `outputMode`, `lambda.*` properties).
//! - `chunks`: each chunk is an `out` message as it arrives: the chunk's raw bytes
//!   (`application/octet-stream`), the input's properties plus `lambda.streamId` (one id per
//!   invocation), `lambda.chunkIndex` (from 0) and the call's `lambda.*`. When the stream is
//!   complete an end marker follows: `lambda.streamEnd` = true, `lambda.chunkCount`, and a
//!   JSON body `{"streamId", "chunkCount", "bytes"}`. Chunks are *parts* of the input's
//!   output: the node's `emitted` counter counts the end marker only, so every input still
//!   leaves exactly once (`received = emitted + errors`).
//! - A failure before the stream began is judged as an `Invoke` failure
//!   ([`super::classify::classify_stream_start`]). A failure mid-stream — `InvokeComplete`
//!   with an `ErrorCode` (the function failed), a dropped connection, a stream that ends
//!   without `InvokeComplete`, `invokeTimeoutMs` passing — sends an error record to `error`;
//!   chunks already emitted stay emitted, and such a failure is never retried (a retry would
//!   emit them again). A failure before the first chunk was emitted is retried as the
//!   error-handling policy says.

use std::time::{Duration, Instant};

use aws_sdk_lambda::operation::RequestId as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvokeWithResponseStreamResponseEvent as Event, LogType};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Bytes, BytesMut};
use serde_json::{Value, json};

use super::classify::{classify_stream_event, classify_stream_start};
use super::config::{InvocationKind, LambdaConfig, OutputMode, PayloadFormat, StreamOutput};
use super::invoke::Invoker;
use super::payload::{Decoded, Success, decode_response, out_message};
use crate::message::Message;
use crate::runtime::port::OUT;
use crate::runtime::{Emitter, ErrorType, Failure};

/// Lambda's largest streamed response (200 MiB), the highest `maxResponseBytes`.
pub const MAX_STREAMED_BYTES: u64 = 200 * 1_048_576;

/// Settings a streamed response combines badly with: the offending field's pointer and why.
pub fn check(config: &LambdaConfig) -> Result<(), (&'static str, &'static str)> {
    if config.invocation_type != InvocationKind::ResponseStream {
        return Ok(());
    }
    if config.async_invoke {
        return Err((
            "/asyncInvoke",
            "Async Invoke queues the event (Event) and no response comes back; ResponseStream \
             needs a synchronous call",
        ));
    }
    if config.payload_format == PayloadFormat::V2 {
        return Err((
            "/invocationType",
            "ResponseStream answers one message with one stream; v2 batches need a buffered \
             response (use payloadFormat message)",
        ));
    }
    if config.durable_execution_name_property.is_some() {
        return Err((
            "/durableExecutionNameProperty",
            "InvokeWithResponseStream does not start durable executions",
        ));
    }
    if config.stream_output == StreamOutput::Chunks && config.output_mode != OutputMode::Payload {
        return Err((
            "/outputMode",
            "streamOutput chunks emits each chunk as it arrives; record and merge need the \
             whole response (streamOutput whole)",
        ));
    }
    if config.max_response_bytes == 0 || config.max_response_bytes > MAX_STREAMED_BYTES {
        return Err((
            "/maxResponseBytes",
            "between 1 byte and Lambda's streaming limit of 200 MiB (209715200 bytes)",
        ));
    }
    Ok(())
}

/// A streamed response that was emitted chunk by chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streamed {
    /// The invocation's stream id (`lambda.streamId`).
    pub id: String,
    /// Chunks emitted.
    pub chunks: u64,
    /// Bytes in them.
    pub bytes: u64,
}

/// What one streamed call answered, read to its end (or its failure).
#[derive(Debug)]
pub struct Reply {
    /// The response headers' status, when the stream began.
    status: Option<i32>,
    request_id: Option<String>,
    executed_version: Option<String>,
    /// `whole`: the chunks joined.
    body: BytesMut,
    /// Chunks emitted (`chunks`) and bytes read.
    streamed: Streamed,
    log_result: Option<String>,
    /// How the stream ended: `InvokeComplete` without an error, or the failure.
    end: Result<(), Failure>,
    elapsed: Duration,
}

/// How one streamed call reads and where its chunks go.
pub struct Reader<'a> {
    /// The call's invoker (function, qualifier, client context…).
    pub invoker: &'a Invoker,
    /// The node's config (`streamOutput`, `maxResponseBytes`, `logTail`, timeouts).
    pub config: &'a LambdaConfig,
    /// Where chunks are emitted.
    pub emitter: &'a Emitter,
    /// The input message, whose properties each chunk carries.
    pub input: &'a Message,
}

impl Reader<'_> {
    /// Calls `InvokeWithResponseStream` once with `payload` and reads its stream to the end,
    /// bounded as a whole by `connection.invokeTimeoutMs`.
    pub async fn call(&self, payload: &Bytes) -> Reply {
        let started = Instant::now();
        let limit = Duration::from_millis(self.config.connection.invoke_timeout_ms);
        let mut reply = Reply {
            status: None,
            request_id: None,
            executed_version: None,
            body: BytesMut::new(),
            streamed: Streamed {
                id: crate::message::new_id(),
                chunks: 0,
                bytes: 0,
            },
            log_result: None,
            end: Ok(()),
            elapsed: Duration::ZERO,
        };
        let end = tokio::time::timeout(limit, self.read(payload, &mut reply)).await;
        reply.end = end.unwrap_or_else(|_| {
            Err(Failure::new(
                ErrorType::Connection,
                "Timeout",
                "the stream did not complete within invokeTimeoutMs; the function may have \
                 run (retried only with connection.retryTimeouts)",
            )
            .retryable(self.config.connection.retry_timeouts))
        });
        reply.elapsed = started.elapsed();
        self.emitter.stats().latency.observe(reply.elapsed);
        reply
    }

    async fn read(&self, payload: &Bytes, reply: &mut Reply) -> Result<(), Failure> {
        let inv = self.invoker;
        let mut request = inv
            .client()
            .invoke_with_response_stream()
            .function_name(inv.function_name())
            .set_qualifier(inv.qualifier().map(str::to_owned))
            .set_tenant_id(inv.tenant_id().map(str::to_owned))
            .set_client_context(inv.client_context().map(str::to_owned))
            .payload(Blob::new(payload.to_vec()));
        if self.config.log_tail {
            request = request.log_type(LogType::Tail);
        }
        let retry_timeouts = self.config.connection.retry_timeouts;
        let mut out = request
            .send()
            .await
            .map_err(|e| classify_stream_start(&e, retry_timeouts))?;
        reply.status = Some(out.status_code());
        reply.request_id = out.request_id().map(str::to_owned);
        reply.executed_version = out.executed_version().map(str::to_owned);
        let chunks = self.config.stream_output == StreamOutput::Chunks;
        let max = self.config.max_response_bytes;
        // Chunks are parts of the input's output: its receipt (acknowledgement) stays with the
        // input's final message.
        let base = chunks.then(|| self.input.without_receipt());
        let port = self.emitter.port(OUT);
        loop {
            let event = out
                .event_stream
                .recv()
                .await
                .map_err(|e| classify_stream_event(&e))?;
            match event {
                Some(Event::PayloadChunk(update)) => {
                    let bytes = update.payload.map(Blob::into_inner).unwrap_or_default();
                    reply.streamed.bytes += bytes.len() as u64;
                    match &base {
                        Some(base) => {
                            let message = self.chunk_message(base, reply, bytes);
                            if self.emitter.emit_part(port, message).await.is_err() {
                                return Err(Failure::new(
                                    ErrorType::ResponseGeneration,
                                    "DownstreamClosed",
                                    "the flow stopped while the stream was being emitted",
                                ));
                            }
                            reply.streamed.chunks += 1;
                        }
                        None if reply.streamed.bytes > max => {
                            return Err(Failure::new(
                                ErrorType::ResponseGeneration,
                                "ResponseTooLarge",
                                format!(
                                    "the streamed response exceeds {max} bytes (/maxResponseBytes); \
                                     it was discarded"
                                ),
                            ));
                        }
                        None => reply.body.extend_from_slice(&bytes),
                    }
                }
                Some(Event::InvokeComplete(done)) => {
                    reply.log_result = done
                        .log_result
                        .as_deref()
                        .and_then(|b64| BASE64.decode(b64).ok())
                        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
                    return match done.error_code {
                        None => Ok(()),
                        Some(code) => Err(function_error(&code, done.error_details.as_deref())),
                    };
                }
                Some(_) => {}
                None => {
                    return Err(Failure::new(
                        ErrorType::Connection,
                        "ResponseInterrupted",
                        "the response stream ended before InvokeComplete",
                    )
                    .retryable(true));
                }
            }
        }
    }

    /// Chunk `index` of the stream: its bytes, the input's properties and the call's.
    fn chunk_message(&self, base: &Message, reply: &Reply, bytes: Vec<u8>) -> Message {
        let inv = self.invoker;
        let mut m = base.derive(bytes, Some("application/octet-stream".to_owned()));
        let props = &mut m.properties;
        props.insert("lambda.streamId".into(), json!(reply.streamed.id));
        props.insert("lambda.chunkIndex".into(), json!(reply.streamed.chunks));
        props.insert("lambda.statusCode".into(), json!(reply.status));
        props.insert("lambda.functionName".into(), json!(inv.function_name()));
        props.insert(
            "lambda.invocationType".into(),
            json!(InvocationKind::ResponseStream.as_str()),
        );
        if let Some(q) = inv.reported_qualifier() {
            props.insert("lambda.qualifier".into(), json!(q));
        }
        if let Some(v) = &reply.request_id {
            props.insert("lambda.requestId".into(), json!(v));
        }
        if let Some(v) = &reply.executed_version {
            props.insert("lambda.executedVersion".into(), json!(v));
        }
        m
    }
}

/// `InvokeComplete` with an error code: the function failed while streaming.
fn function_error(code: &str, details: Option<&str>) -> Failure {
    let payload = details
        .map(|d| serde_json::from_str(d).unwrap_or_else(|_| Value::String(d.to_owned())))
        .unwrap_or(Value::Null);
    let detail = match payload.get("errorMessage").and_then(Value::as_str) {
        Some(m) => format!(": {m}"),
        None => String::new(),
    };
    Failure::new(
        ErrorType::RequestProcessing,
        code,
        format!("the function failed while streaming its response ({code}){detail}"),
    )
    .with_response_payload(payload)
}

/// Judges a read stream: the success (`whole`: the decoded response; `chunks`: what was
/// emitted), or the failure with the function's context. A failure after chunks were emitted
/// is final.
pub fn judge(
    invoker: &Invoker,
    config: &LambdaConfig,
    reply: Reply,
    emitter: &Emitter,
    attempt: u32,
) -> Result<Success, Failure> {
    let node = &emitter.info().node;
    let chunks = config.stream_output == StreamOutput::Chunks;
    let context = |mut f: Failure| {
        f = invoker.with_context(f);
        if let Some(id) = &reply.request_id {
            f = f.with_request_context("requestId", id.clone());
        }
        if let Some(status) = reply.status {
            let mut ctx = f.response_context.take().unwrap_or_else(|| json!({}));
            ctx["statusCode"] = json!(status);
            if let Some(v) = &reply.executed_version {
                ctx["executedVersion"] = json!(v);
            }
            if chunks {
                ctx["streamId"] = json!(reply.streamed.id);
                ctx["chunksEmitted"] = json!(reply.streamed.chunks);
            }
            f = f.with_response_context(ctx);
        }
        f
    };
    if let Err(mut f) = reply.end {
        tracing::debug!(node = %node, function = %invoker.function_name(), attempt,
            elapsed_ms = reply.elapsed.as_millis() as u64, code = %f.code,
            chunks = reply.streamed.chunks, "Lambda stream failed.");
        if reply.streamed.chunks > 0 {
            f.retryable = false;
            f.message = format!(
                "{} (after {} chunks were emitted; not retried, which would emit them again)",
                f.message, reply.streamed.chunks
            );
        }
        return Err(context(f));
    }
    tracing::debug!(node = %node, function = %invoker.function_name(), attempt,
        request_id = reply.request_id.as_deref().unwrap_or("-"), bytes = reply.streamed.bytes,
        chunks = reply.streamed.chunks, elapsed_ms = reply.elapsed.as_millis() as u64,
        "Lambda stream read.");
    let response = if chunks {
        None
    } else {
        Some(decode_response(invoker.charset(), &reply.body).map_err(&context)?)
    };
    Ok(Success {
        function_name: invoker.function_name().to_owned(),
        function_arn: invoker.function_arn().map(str::to_owned),
        qualifier: invoker.reported_qualifier().map(str::to_owned),
        invocation_type: InvocationKind::ResponseStream.as_str(),
        status: reply.status.unwrap_or(200),
        request_id: reply.request_id,
        executed_version: reply.executed_version,
        log_result: reply.log_result,
        response,
        stream: chunks.then_some(reply.streamed),
        attempts: attempt,
    })
}

/// The end marker of a stream emitted chunk by chunk: its summary as the body, the call's
/// `lambda.*` properties, `lambda.streamEnd` and `lambda.chunkCount`.
pub fn end_message(
    input: &Message,
    ok: &Success,
    streamed: &Streamed,
    config: &LambdaConfig,
) -> Result<Message, Failure> {
    let summary = json!({
        "streamId": streamed.id,
        "chunkCount": streamed.chunks,
        "bytes": streamed.bytes,
    });
    let shaped = Success {
        response: Some(Decoded::new(summary.to_string())),
        ..ok.clone()
    };
    let mut m = out_message(input, &shaped, config, Value::Null, None)?;
    let props = &mut m.properties;
    props.insert("lambda.streamId".into(), json!(streamed.id));
    props.insert("lambda.streamEnd".into(), json!(true));
    props.insert("lambda.chunkCount".into(), json!(streamed.chunks));
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(v: Value) -> LambdaConfig {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn incompatible_settings_name_their_field() {
        let cases = [
            (json!({"asyncInvoke": true}), "/asyncInvoke"),
            (json!({"payloadFormat": "v2"}), "/invocationType"),
            (
                json!({"durableExecutionNameProperty": "orderId"}),
                "/durableExecutionNameProperty",
            ),
            (
                json!({"streamOutput": "chunks", "outputMode": "record"}),
                "/outputMode",
            ),
            (json!({"maxResponseBytes": 0}), "/maxResponseBytes"),
            (
                json!({"maxResponseBytes": MAX_STREAMED_BYTES + 1}),
                "/maxResponseBytes",
            ),
        ];
        for (extra, pointer) in cases {
            let mut v = json!({"functionName": "f", "invocationType": "ResponseStream"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            assert_eq!(check(&config(v)).unwrap_err().0, pointer);
        }
        let ok = config(
            json!({"functionName": "f", "invocationType": "ResponseStream",
            "streamOutput": "chunks", "maxResponseBytes": MAX_STREAMED_BYTES}),
        );
        assert!(check(&ok).is_ok());
        // The same settings without ResponseStream are not this check's business.
        let buffered = config(json!({"functionName": "f", "payloadFormat": "v2"}));
        assert!(check(&buffered).is_ok());
    }

    #[test]
    fn a_function_error_in_invoke_complete_carries_the_runtime_document() {
        let f = function_error(
            "Unhandled",
            Some(r#"{"errorType":"Boom","errorMessage":"broke at chunk 3"}"#),
        );
        assert_eq!(
            (f.error_type, f.code.as_str(), f.retryable),
            (ErrorType::RequestProcessing, "Unhandled", false)
        );
        assert!(f.message.contains("broke at chunk 3"), "{}", f.message);
        assert_eq!(f.response_payload.unwrap()["errorType"], "Boom");
    }
}
