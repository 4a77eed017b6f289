//! Message bodies to request payloads (including Pulsar V2 records), response bytes to text in
//! the configured charset, and successful calls to `out` messages.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use encoding_rs::Encoding;
use serde_json::{Map, Value, json};

use super::config::{LambdaConfig, MetadataField, OutputMode};
use crate::message::{Message, format_time};
use crate::runtime::{ErrorType, Failure};

/// The charset a response is decoded with.
#[derive(Debug, Clone, Copy)]
pub struct Charset(&'static Encoding);

impl Charset {
    /// The charset for a WHATWG label (`UTF-8`, `latin1`, `Shift_JIS`, `UTF-16LE`, …); `None`
    /// for unknown labels and for labels that only decode to the replacement character.
    pub fn for_label(label: &str) -> Option<Charset> {
        Encoding::for_label_no_replacement(label.trim().as_bytes()).map(Charset)
    }

    /// The charset's canonical name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Decodes `bytes` strictly: a byte-order mark of this charset is dropped; any sequence
    /// that is not valid in the charset fails (nothing is silently replaced).
    pub fn decode(&self, bytes: &[u8]) -> Option<String> {
        let body = match Encoding::for_bom(bytes) {
            Some((enc, len)) if enc == self.0 => &bytes[len..],
            _ => bytes,
        };
        self.0
            .decode_without_bom_handling_and_without_replacement(body)
            .map(|text| text.into_owned())
    }

    /// Decodes `bytes` for an error record, replacing what does not decode.
    pub fn decode_lossy(&self, bytes: &[u8]) -> String {
        self.0.decode_with_bom_removal(bytes).0.into_owned()
    }
}

/// A response decoded to text.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// The text parsed as JSON, when it is JSON.
    pub json: Option<Value>,
}

impl Decoded {
    /// Wraps decoded text, parsing it as JSON when it is.
    pub fn new(text: String) -> Self {
        let json = serde_json::from_str(&text).ok();
        Decoded { text, json }
    }

    /// The response as a JSON value for records: the JSON itself, else the text as a string.
    pub fn value(&self) -> Value {
        self.json
            .clone()
            .unwrap_or_else(|| Value::String(self.text.clone()))
    }
}

/// Decodes a response payload in `charset`; a payload that does not decode is a
/// `responseGeneration` failure.
pub fn decode_response(charset: Charset, bytes: &[u8]) -> Result<Decoded, Failure> {
    charset.decode(bytes).map(Decoded::new).ok_or_else(|| {
        Failure::new(
            ErrorType::ResponseGeneration,
            "UndecodableResponse",
            format!(
                "the function's response ({} bytes) is not valid {}; set responseCharset to \
                 the charset the function writes",
                bytes.len(),
                charset.name()
            ),
        )
    })
}

/// An error payload (`{"errorMessage", "errorType", …}`) as a JSON value for the error record.
pub fn error_payload_value(charset: Charset, bytes: &[u8]) -> Value {
    let text = charset
        .decode(bytes)
        .unwrap_or_else(|| charset.decode_lossy(bytes));
    Decoded::new(text).value()
}

/// The body as JSON-ready text for a payload: the text when it is UTF-8, base64 otherwise.
fn body_as_string(msg: &Message) -> String {
    match msg.body_text() {
        Some(text) => text.to_owned(),
        None => BASE64.encode(&msg.body),
    }
}

fn not_json(msg: &Message, e: &dyn std::fmt::Display) -> Failure {
    Failure::new(
        ErrorType::InvalidRequest,
        "InvalidJson",
        format!(
            "the message body ({} bytes) is not JSON ({}); payloadIsJson is on, so it was not \
             sent. Fix the body, or turn payloadIsJson off to send it as a JSON string",
            msg.body.len(),
            // serde_json's and std's messages name a position, never the content.
            e
        ),
    )
}

/// The request payload of one message (`payloadFormat: message`): the body itself when
/// `payload_is_json` (it must parse), else the body as a JSON string (base64 when it is not
/// UTF-8).
pub fn request_payload(msg: &Message, payload_is_json: bool) -> Result<Bytes, Failure> {
    if payload_is_json {
        // Parse from text: JSON must be UTF-8 (RFC 8259 §8.1), and parsing from bytes does not
        // check the strings it skips, so `{"a":"\x80"}` would pass (found by fuzzing).
        let text = std::str::from_utf8(&msg.body).map_err(|e| not_json(msg, &e))?;
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| not_json(msg, &e))?;
        Ok(msg.body.clone())
    } else {
        let text = body_as_string(msg);
        Ok(Bytes::from(Value::String(text).to_string()))
    }
}

/// One Pulsar V2 record of a message: the chosen metadata fields, then `value` (the body as
/// JSON when `payload_is_json`, else as a string; a non-UTF-8 body becomes base64 with
/// `"valueEncoding": "base64"`).
pub fn v2_record(
    msg: &Message,
    fields: &[MetadataField],
    payload_is_json: bool,
) -> Result<Value, Failure> {
    let mut record = Map::new();
    for field in fields {
        let value = match field {
            MetadataField::MessageId => json!(msg.id),
            MetadataField::Timestamp => json!(format_time(&msg.timestamp)),
            MetadataField::ContentType => json!(msg.content_type),
            MetadataField::Properties => json!(msg.properties),
        };
        record.insert(field.as_str().to_owned(), value);
    }
    let value = if payload_is_json {
        serde_json::from_slice::<Value>(&msg.body).map_err(|e| not_json(msg, &e))?
    } else {
        if msg.body_text().is_none() {
            record.insert("valueEncoding".into(), json!("base64"));
        }
        Value::String(body_as_string(msg))
    };
    record.insert("value".into(), value);
    Ok(Value::Object(record))
}

/// The request payload too large for the invocation type's limit.
pub fn too_large(size: usize, limit: u64, invocation_type: &str) -> Failure {
    Failure::new(
        ErrorType::InvalidRequest,
        "RequestTooLarge",
        format!(
            "the request payload is {size} bytes; the limit for {invocation_type} invocations is \
             {limit} bytes (requestSizeLimits)"
        ),
    )
}

/// What a successful call returned, as the out message needs it.
#[derive(Debug, Clone)]
pub struct Success {
    /// The function name as configured.
    pub function_name: String,
    /// The qualified function ARN, when known ([`super::config::LambdaConfig::qualified_arn`]).
    pub function_arn: Option<String>,
    /// The qualifier, when one was sent.
    pub qualifier: Option<String>,
    /// `RequestResponse`, `Event` or `DryRun`.
    pub invocation_type: &'static str,
    /// HTTP status (200, 202, 204).
    pub status: i32,
    /// `x-amzn-requestid`.
    pub request_id: Option<String>,
    /// The version that ran (an alias resolves to one).
    pub executed_version: Option<String>,
    /// The decoded log tail, when asked for.
    pub log_result: Option<String>,
    /// The decoded response of a synchronous call (`None` for `Event`, `DryRun` and a
    /// response streamed chunk by chunk).
    pub response: Option<Decoded>,
    /// A response streamed chunk by chunk (`streamOutput: chunks`): what was emitted.
    pub stream: Option<super::stream::Streamed>,
    /// Attempts made, the first included.
    pub attempts: u32,
}

/// Where a message sat in a V2 batch.
#[derive(Debug, Clone)]
pub struct BatchPosition {
    /// Identifies the batch (shared by its messages).
    pub batch_id: String,
    /// Records in the batch's payload.
    pub size: usize,
    /// This message's index among them.
    pub index: usize,
}

/// Builds the `out` message of a successful call for one input message: the decoded response
/// (`payload`), a Destinations-style success record (`record`), the input body with the
/// response at `mergeAt` (`merge`), or the acknowledgement of an `Event`/`DryRun` call (merged
/// at `mergeAt` in `merge` mode); with the input's properties plus `lambda.*`. Fails only when
/// `merge` cannot place the response, which [`super::merge::check`] rules out before the call.
pub fn out_message(
    input: &Message,
    ok: &Success,
    config: &LambdaConfig,
    request_payload: Value,
    batch: Option<&BatchPosition>,
) -> Result<Message, Failure> {
    let (body, content_type) = match (&ok.response, config.output_mode) {
        (response, OutputMode::Merge) => {
            let value = match response {
                Some(decoded) => decoded.value(),
                None => acknowledgement(ok),
            };
            let body = super::merge::merged_body(input, &config.merge_at, value)?;
            (body, "application/json".to_owned())
        }
        (None, _) => (
            Bytes::from(acknowledgement(ok).to_string()),
            "application/json".to_owned(),
        ),
        (Some(decoded), OutputMode::Payload) => {
            let ct = if decoded.json.is_some() {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            (Bytes::from(decoded.text.clone()), ct.to_owned())
        }
        (Some(decoded), OutputMode::Record) => {
            let mut request_context = Map::new();
            request_context.insert("requestId".into(), json!(ok.request_id));
            if let Some(arn) = &ok.function_arn {
                request_context.insert("functionArn".into(), json!(arn));
            }
            request_context.insert("condition".into(), json!("Success"));
            request_context.insert("approximateInvokeCount".into(), json!(ok.attempts));
            request_context.insert("functionName".into(), json!(ok.function_name));
            if let Some(q) = &ok.qualifier {
                request_context.insert("qualifier".into(), json!(q));
            }
            request_context.insert("invocationType".into(), json!(ok.invocation_type));
            if let Some(b) = batch {
                request_context.insert("batchId".into(), json!(b.batch_id));
                request_context.insert("batchSize".into(), json!(b.size));
                request_context.insert("batchIndex".into(), json!(b.index));
            }
            let mut response_context = Map::new();
            response_context.insert("statusCode".into(), json!(ok.status));
            if let Some(v) = &ok.executed_version {
                response_context.insert("executedVersion".into(), json!(v));
            }
            let record = json!({
                "version": "1.0",
                "timestamp": format_time(&chrono::Utc::now()),
                "requestContext": request_context,
                "responseContext": response_context,
                "requestPayload": request_payload,
                "responsePayload": decoded.value(),
            });
            (
                Bytes::from(record.to_string()),
                "application/json".to_owned(),
            )
        }
    };
    let mut msg = input.derive(body, Some(content_type));
    let props = &mut msg.properties;
    props.insert("lambda.statusCode".into(), json!(ok.status));
    props.insert("lambda.functionName".into(), json!(ok.function_name));
    props.insert("lambda.invocationType".into(), json!(ok.invocation_type));
    if let Some(v) = &ok.request_id {
        props.insert("lambda.requestId".into(), json!(v));
    }
    if let Some(v) = &ok.qualifier {
        props.insert("lambda.qualifier".into(), json!(v));
    }
    if let Some(v) = &ok.executed_version {
        props.insert("lambda.executedVersion".into(), json!(v));
    }
    if let Some(v) = &ok.log_result {
        props.insert("lambda.logResult".into(), json!(v));
    }
    if let Some(b) = batch {
        props.insert("lambda.batchId".into(), json!(b.batch_id));
        props.insert("lambda.batchSize".into(), json!(b.size));
        props.insert("lambda.batchIndex".into(), json!(b.index));
    }
    Ok(msg)
}

/// What an `Event` or `DryRun` call emits: the status Lambda answered, its request id and the
/// function.
fn acknowledgement(ok: &Success) -> Value {
    json!({
        "statusCode": ok.status,
        "requestId": ok.request_id,
        "functionName": ok.function_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_inside_a_json_string_is_not_json() {
        let msg = Message::new(&b"{\"a\":\"\x80\"}"[..]);
        let f = request_payload(&msg, true).unwrap_err();
        assert_eq!(
            (f.error_type, f.code.as_str()),
            (ErrorType::InvalidRequest, "InvalidJson")
        );
        assert!(request_payload(&Message::new("{\"a\":\"é\"}"), true).is_ok());
    }

    fn charset(label: &str) -> Charset {
        Charset::for_label(label).unwrap()
    }

    #[test]
    fn decodes_utf8_with_and_without_bom() {
        let cs = charset("UTF-8");
        assert_eq!(cs.decode("héllo".as_bytes()).unwrap(), "héllo");
        assert_eq!(cs.decode(b"\xEF\xBB\xBFhi").unwrap(), "hi");
        assert!(cs.decode(b"\xff\xfe\x00").is_none(), "invalid UTF-8 fails");
    }

    #[test]
    fn decodes_iso_8859_1() {
        let cs = charset("ISO-8859-1");
        // "café" with é as the single byte 0xE9.
        assert_eq!(cs.decode(b"caf\xE9").unwrap(), "café");
        assert_eq!(charset("latin1").name(), cs.name());
    }

    #[test]
    fn decodes_shift_jis() {
        let cs = charset("Shift_JIS");
        // こんにちは in Shift_JIS.
        let bytes = b"\x82\xB1\x82\xF1\x82\xC9\x82\xBF\x82\xCD";
        assert_eq!(cs.decode(bytes).unwrap(), "こんにちは");
        assert!(cs.decode(b"\x82").is_none(), "a truncated sequence fails");
    }

    #[test]
    fn decodes_utf16le_and_drops_its_bom() {
        let cs = charset("UTF-16LE");
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "{\"a\":\"ü\"}".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let d = decode_response(cs, &bytes).unwrap();
        assert_eq!(d.text, "{\"a\":\"ü\"}");
        assert_eq!(d.json, Some(json!({"a": "ü"})));
        assert!(cs.decode(&[0x41]).is_none(), "an odd byte count fails");
    }

    #[test]
    fn unknown_and_replacement_labels_are_refused() {
        assert!(Charset::for_label("klingon-8").is_none());
        assert!(Charset::for_label("iso-2022-kr").is_none());
    }

    #[test]
    fn undecodable_response_is_a_response_generation_failure() {
        let f = decode_response(charset("UTF-8"), b"\xC3\x28").unwrap_err();
        assert_eq!(f.error_type, ErrorType::ResponseGeneration);
        assert_eq!(f.code, "UndecodableResponse");
        assert!(!f.retryable);
    }

    #[test]
    fn json_body_is_sent_as_is_and_non_json_is_refused() {
        let m = Message::new("{\"name\":\"World\"}");
        assert_eq!(request_payload(&m, true).unwrap(), m.body);
        let bad = Message::new("name=World");
        let f = request_payload(&bad, true).unwrap_err();
        assert_eq!(
            (f.error_type, f.code.as_str()),
            (ErrorType::InvalidRequest, "InvalidJson")
        );
        assert!(!f.message.contains("name=World"), "the body is not echoed");
    }

    #[test]
    fn unchecked_body_is_sent_as_a_json_string() {
        let m = Message::new("plain text");
        assert_eq!(&request_payload(&m, false).unwrap()[..], b"\"plain text\"");
        let m = Message::new("{\"a\":1}");
        assert_eq!(&request_payload(&m, false).unwrap()[..], br#""{\"a\":1}""#);
        let bin = Message::new(Bytes::from_static(&[0xff, 0x00]));
        assert_eq!(&request_payload(&bin, false).unwrap()[..], b"\"/wA=\"");
    }

    #[test]
    fn v2_record_carries_the_chosen_metadata_and_the_value() {
        let m = Message::new("{\"n\":1}")
            .with_content_type("application/json")
            .with_property("orderId", 7);
        let r = v2_record(
            &m,
            &[MetadataField::MessageId, MetadataField::Properties],
            true,
        )
        .unwrap();
        assert_eq!(
            r,
            json!({"messageId": m.id, "properties": {"orderId": 7}, "value": {"n": 1}})
        );
        let r = v2_record(
            &m,
            &[MetadataField::ContentType, MetadataField::Timestamp],
            false,
        )
        .unwrap();
        assert_eq!(r["contentType"], "application/json");
        assert_eq!(r["timestamp"], format_time(&m.timestamp));
        assert_eq!(r["value"], "{\"n\":1}");
        let bin = Message::new(Bytes::from_static(&[0xff]));
        let r = v2_record(&bin, &[], false).unwrap();
        assert_eq!(r, json!({"valueEncoding": "base64", "value": "/w=="}));
        assert!(v2_record(&Message::new("nope"), &[], true).is_err());
    }

    fn mode(output_mode: OutputMode) -> LambdaConfig {
        LambdaConfig {
            output_mode,
            ..LambdaConfig::default()
        }
    }

    fn success(response: Option<Decoded>) -> Success {
        Success {
            function_name: "hello".into(),
            function_arn: None,
            qualifier: Some("PROD".into()),
            invocation_type: "RequestResponse",
            status: 200,
            request_id: Some("req-1".into()),
            executed_version: Some("3".into()),
            log_result: Some("START RequestId".into()),
            response,
            stream: None,
            attempts: 2,
        }
    }

    #[test]
    fn payload_mode_carries_the_response_and_lambda_properties() {
        let input = Message::new("{\"name\":\"World\"}").with_property("orderId", 42);
        let ok = success(Some(Decoded::new("{\"greeting\":\"Hello\"}".into())));
        let out = out_message(&input, &ok, &mode(OutputMode::Payload), json!(null), None).unwrap();
        assert_eq!(out.body_json(), Some(json!({"greeting": "Hello"})));
        assert_eq!(out.content_type.as_deref(), Some("application/json"));
        let p = &out.properties;
        assert_eq!(p["orderId"], 42);
        assert_eq!(p["lambda.statusCode"], 200);
        assert_eq!(p["lambda.requestId"], "req-1");
        assert_eq!(p["lambda.executedVersion"], "3");
        assert_eq!(p["lambda.functionName"], "hello");
        assert_eq!(p["lambda.qualifier"], "PROD");
        assert_eq!(p["lambda.logResult"], "START RequestId");
        assert_ne!(out.id, input.id);
        let text = out_message(
            &input,
            &success(Some(Decoded::new("plain".into()))),
            &mode(OutputMode::Payload),
            json!(null),
            None,
        )
        .unwrap();
        assert_eq!(
            text.content_type.as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(text.body_text(), Some("plain"));
    }

    #[test]
    fn record_mode_is_a_destinations_success_record() {
        let input = Message::new("{\"name\":\"World\"}");
        let ok = success(Some(Decoded::new("{\"greeting\":\"Hello\"}".into())));
        let out = out_message(
            &input,
            &ok,
            &mode(OutputMode::Record),
            json!({"name": "World"}),
            None,
        )
        .unwrap();
        let r = out.body_json().unwrap();
        assert_eq!(r["version"], "1.0");
        assert_eq!(r["requestContext"]["condition"], "Success");
        assert_eq!(r["requestContext"]["requestId"], "req-1");
        assert_eq!(r["requestContext"]["approximateInvokeCount"], 2);
        assert_eq!(r["requestContext"]["qualifier"], "PROD");
        assert_eq!(
            r["responseContext"],
            json!({"statusCode": 200, "executedVersion": "3"})
        );
        assert_eq!(r["requestPayload"], json!({"name": "World"}));
        assert_eq!(r["responsePayload"], json!({"greeting": "Hello"}));
        assert!(r["responseContext"].get("functionError").is_none());
    }

    #[test]
    fn event_and_dry_run_give_an_acknowledgement() {
        let input = Message::new("{}");
        let mut ok = success(None);
        ok.status = 202;
        ok.invocation_type = "Event";
        let out = out_message(&input, &ok, &mode(OutputMode::Record), json!({}), None).unwrap();
        assert_eq!(
            out.body_json().unwrap(),
            json!({"statusCode": 202, "requestId": "req-1", "functionName": "hello"})
        );
        assert_eq!(out.properties["lambda.statusCode"], 202);
        let merged = out_message(
            &Message::new("{\"order\":1}"),
            &ok,
            &mode(OutputMode::Merge),
            json!({}),
            None,
        )
        .unwrap();
        assert_eq!(
            merged.body_json().unwrap(),
            json!({"order": 1, "lambda": {"statusCode": 202, "requestId": "req-1",
                                          "functionName": "hello"}}),
            "merge places the acknowledgement at mergeAt"
        );
    }

    #[test]
    fn merge_mode_keeps_the_input_body_and_its_properties() {
        let input = Message::new("{\"name\":\"World\"}")
            .with_content_type("application/json")
            .with_property("orderId", 42);
        let ok = success(Some(Decoded::new("{\"greeting\":\"Hello\"}".into())));
        let mut config = mode(OutputMode::Merge);
        config.merge_at = "/enriched/greeting".into();
        let out = out_message(&input, &ok, &config, json!(null), None).unwrap();
        assert_eq!(
            out.body_json().unwrap(),
            json!({"name": "World", "enriched": {"greeting": {"greeting": "Hello"}}})
        );
        assert_eq!(out.content_type.as_deref(), Some("application/json"));
        assert_eq!(out.properties["orderId"], 42);
        assert_eq!(out.properties["lambda.requestId"], "req-1");
        let scalar = Message::new("7");
        let f = out_message(&scalar, &ok, &config, json!(null), None).unwrap_err();
        assert_eq!(f.code, "MergeTargetUnreachable");
    }
}
