//! Lambda's `InvokeWithResponseStream` answers as AWS sends them, for [`super::aws_wire`]: a
//! 200 with `Content-Type: application/vnd.amazon.eventstream` whose body is event-stream
//! frames, encoded by `aws-smithy-eventstream` (the SDK's own codec, so prelude, header and
//! message CRCs are real).
//!
//! The frames follow the SDK's deserialiser (`aws-sdk-lambda`'s `event_stream_serde`): each is
//! an `:message-type: event` with `:event-type` `PayloadChunk` (`:content-type:
//! application/octet-stream`, the bytes as payload) or `InvokeComplete` (`:content-type:
//! application/json`, payload `{"ErrorCode","ErrorDetails","LogResult"}`, absent members left
//! out).

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use serde_json::{Map, Value, json};

use super::aws_wire::Reply;

fn frame(event_type: &str, content_type: &str, payload: Vec<u8>) -> Vec<u8> {
    let message = Message::new(payload)
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ))
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String(content_type.to_owned().into()),
        ));
    let mut out = Vec::new();
    write_message_to(&message, &mut out).expect("an event-stream frame");
    out
}

/// A `PayloadChunk` frame carrying `bytes`.
pub fn chunk(bytes: &[u8]) -> Vec<u8> {
    frame("PayloadChunk", "application/octet-stream", bytes.to_vec())
}

/// An `InvokeComplete` frame; `error` is `(ErrorCode, ErrorDetails)` when the function failed,
/// `log` the base64 log tail.
pub fn complete(error: Option<(&str, &str)>, log: Option<&str>) -> Vec<u8> {
    let mut body = Map::new();
    if let Some((code, details)) = error {
        body.insert("ErrorCode".into(), json!(code));
        body.insert("ErrorDetails".into(), json!(details));
    }
    if let Some(log) = log {
        body.insert("LogResult".into(), json!(log));
    }
    frame(
        "InvokeComplete",
        "application/json",
        Value::Object(body).to_string().into_bytes(),
    )
}

/// A successful stream: one `PayloadChunk` per element of `chunks`, then `InvokeComplete`.
pub fn frames<B: AsRef<[u8]>>(chunks: &[B]) -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = chunks.iter().map(|c| chunk(c.as_ref())).collect();
    all.push(complete(None, None));
    all
}

/// The 200 answer carrying `frames`, with the headers Lambda sends on a stream.
pub fn reply(frames: &[Vec<u8>]) -> Reply {
    Reply::new(200, frames.concat())
        .header("Content-Type", "application/vnd.amazon.eventstream")
        .header("X-Amz-Executed-Version", "$LATEST")
}
