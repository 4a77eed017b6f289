//! What each fuzz target checks, as plain functions of the input bytes. A failed check panics,
//! which libFuzzer reports as a crash; the stable test `tests/fuzz_regressions.rs` calls the
//! same functions.
//!
//! - [`flow_parse`]: `lambdaflow::flow::parse_flow` never panics; a flow it accepts survives
//!   writing and reading back unchanged; every diagnostic of a refused flow carries a JSON
//!   pointer into the document (the offending value, or for a missing field its parent).
//! - [`message_json`]: `Message::from_json` never panics; an accepted message survives its JSON
//!   form (id, content type, body bytes, properties; the time to the millisecond), through
//!   `to_json`/`from_json` and through `Display`/`serde`; a refused one names a pointer. Raw
//!   bytes as a body survive the JSON form too (base64 when they are not UTF-8).
//! - [`payload_v2`]: the LambdaConnector's payload conversion. Request payloads of single
//!   messages; `payloadFormat: v2` batching of a run of messages under a config drawn from the
//!   input (every message in exactly one batch, in order; count and byte limits kept; each
//!   record's `value` is its body); response decoding in a charset (UTF-8 decoding agrees with
//!   the standard library; a response that does not decode is a `responseGeneration` failure).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use lambdaflow::Message;
use lambdaflow::components::lambda::LambdaConfig;
use lambdaflow::components::lambda::batch::{Batcher, payload};
use lambdaflow::components::lambda::payload::{
    Charset, decode_response, error_payload_value, request_payload,
};
use lambdaflow::components::registry;
use lambdaflow::flow::Flow;
use lambdaflow::message::{BodyEncoding, decode_body, format_time};
use lambdaflow::runtime::ErrorType;
use serde_json::Value;

/// Flow parsing and validation.
pub fn flow_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match registry().parse_flow(text) {
        Ok(flow) => {
            let written = serde_json::to_string_pretty(&flow).expect("a flow serialises");
            let again: Flow = registry().parse_flow(&written).unwrap_or_else(|d| {
                panic!("a flow that validated does not validate once written: {d:?}\n{written}")
            });
            assert_eq!(again, flow, "a flow changed when written and read back");
        }
        Err(diagnostics) => {
            assert!(
                !diagnostics.is_empty(),
                "a refused flow must say why: {text}"
            );
            let doc: Option<Value> = serde_json::from_str(text).ok();
            for d in &diagnostics {
                assert!(
                    d.pointer.is_empty() || d.pointer.starts_with('/'),
                    "not a JSON pointer: {d:?}"
                );
                assert!(!d.message.is_empty(), "a diagnostic without words: {d:?}");
                let Some(doc) = &doc else {
                    assert!(
                        d.pointer.is_empty(),
                        "JSON syntax errors point at the document"
                    );
                    continue;
                };
                if d.pointer.is_empty() {
                    continue;
                }
                let parent = &d.pointer[..d.pointer.rfind('/').unwrap_or(0)];
                assert!(
                    doc.pointer(&d.pointer).is_some() || doc.pointer(parent).is_some(),
                    "diagnostic points nowhere in the document: {d:?}\n{text}"
                );
            }
        }
    }
}

/// A message's JSON form, and raw bytes as a body.
pub fn message_json(data: &[u8]) {
    // Raw bytes as a body: the JSON form keeps them exactly (UTF-8 text or base64).
    let raw = Message::new(data.to_vec());
    let json = raw.to_json();
    let expected_encoding = if std::str::from_utf8(data).is_ok() {
        "utf8"
    } else {
        "base64"
    };
    assert_eq!(json["bodyEncoding"], expected_encoding);
    let back = Message::from_json(&json).expect("a message's own JSON form reads back");
    assert_eq!(back.body, raw.body, "body bytes changed through JSON");

    // The bytes as a message's JSON form.
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match Message::from_json(&value) {
        Ok(m) => {
            let written = m.to_json();
            let m2 = Message::from_json(&written).unwrap_or_else(|e| {
                panic!("a message's JSON form does not read back: {e}\n{written}")
            });
            assert_eq!(m2.id, m.id);
            assert_eq!(m2.content_type, m.content_type);
            assert_eq!(m2.body, m.body);
            assert_eq!(m2.properties, m.properties);
            assert_eq!(format_time(&m2.timestamp), format_time(&m.timestamp));
            assert_eq!(m2.to_json(), written, "the JSON form is not a fixed point");
            let text = m.to_string();
            let m3: Message = serde_json::from_str(&text).expect("Display output reads back");
            assert_eq!(m3, m2, "Display and to_json disagree");
        }
        Err(e) => {
            assert!(
                e.pointer.is_empty() || e.pointer.starts_with('/'),
                "not a JSON pointer: {e:?}"
            );
        }
    }

    // The bytes as a base64 body: decoding never panics, and what decodes re-encodes to the
    // same bytes.
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(bytes) = decode_body(text, BodyEncoding::Base64)
    {
        let again = BASE64.encode(&bytes);
        assert_eq!(
            decode_body(&again, BodyEncoding::Base64).expect("own encoding decodes"),
            bytes
        );
    }
}

/// Charset labels a response may be decoded with.
const CHARSETS: &[&str] = &[
    "UTF-8",
    "ISO-8859-1",
    "windows-1252",
    "Shift_JIS",
    "EUC-JP",
    "ISO-2022-JP",
    "UTF-16LE",
    "UTF-16BE",
    "GBK",
    "gb18030",
    "Big5",
    "KOI8-R",
    "x-user-defined",
];

const FIELDS: &[&str] = &["messageId", "timestamp", "properties", "contentType"];

/// The LambdaConnector's payload conversion. The first 7 bytes choose the config; the rest,
/// split at NUL bytes, are the message bodies (and, whole, a response to decode).
pub fn payload_v2(data: &[u8]) {
    if data.len() < 7 {
        return;
    }
    let (head, rest) = data.split_at(7);
    let payload_is_json = head[0] & 1 == 1;
    let fields: Vec<&str> = FIELDS
        .iter()
        .enumerate()
        .filter(|(i, _)| head[0] >> (i + 1) & 1 == 1)
        .map(|(_, f)| *f)
        .collect();
    let max_records = 1 + u64::from(head[1] % 16);
    let max_bytes = 2 + u64::from(u16::from_le_bytes([head[2], head[3]]) % 4096);
    let limit = 1 + u64::from(u16::from_le_bytes([head[4], head[5]]) % 8192);
    let charset_label = CHARSETS[usize::from(head[6]) % CHARSETS.len()];

    // Response decoding.
    let charset = Charset::for_label(charset_label).expect("a known label");
    let decoded = charset.decode(rest);
    if charset_label == "UTF-8" {
        let unbommed = rest.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(rest);
        assert_eq!(
            decoded.as_deref(),
            std::str::from_utf8(unbommed).ok(),
            "strict UTF-8 decoding disagrees with std"
        );
    }
    match decode_response(charset, rest) {
        Ok(d) => {
            assert_eq!(Some(&d.text), decoded.as_ref());
            assert_eq!(d.json, serde_json::from_str::<Value>(&d.text).ok());
        }
        Err(f) => {
            assert!(decoded.is_none(), "decoded, yet refused");
            assert_eq!(f.error_type, ErrorType::ResponseGeneration);
            assert_eq!(f.code, "UndecodableResponse");
        }
    }
    let _ = error_payload_value(charset, rest);
    let _ = charset.decode_lossy(rest);

    // Messages.
    let messages: Vec<Message> = rest
        .split(|&b| b == 0)
        .take(64)
        .enumerate()
        .map(|(i, body)| {
            Message::new(body.to_vec())
                .with_content_type("application/json")
                .with_property("i", i as u64)
        })
        .collect();
    for m in &messages {
        // JSON text: UTF-8 (RFC 8259 §8.1) and JSON syntax. (Numbers beyond f64, such as
        // 1e999, are valid JSON that serde_json's `Value` cannot hold; the message path sends
        // them as they are, the v2 path refuses them: see the checks below.)
        let is_json_text = std::str::from_utf8(&m.body)
            .is_ok_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok());
        match request_payload(m, payload_is_json) {
            Ok(bytes) if payload_is_json => {
                // Regression (found by fuzzing; input kept in tests/fixtures/fuzz/payload_v2/):
                // a body with invalid UTF-8 inside a JSON string, such as `{"a":"\x80"}`, is
                // not JSON and must be refused, as v2 records refuse it.
                assert!(is_json_text, "a non-JSON body was accepted as JSON");
                assert_eq!(bytes, m.body, "a JSON body is sent as it is");
            }
            Ok(bytes) => {
                let sent: String = serde_json::from_slice(&bytes).expect("a JSON string");
                assert_eq!(sent, body_string(m));
            }
            Err(f) => {
                assert!(payload_is_json && !is_json_text, "refused: {f:?}");
                assert_eq!(f.error_type, ErrorType::InvalidRequest);
                assert_eq!(f.code, "InvalidJson");
            }
        }
    }

    // V2 batching.
    let config: LambdaConfig = serde_json::from_value(serde_json::json!({
        "functionName": "f",
        "payloadFormat": "v2",
        "payloadIsJson": payload_is_json,
        "metadataFields": fields,
        "batch": {"maxRecords": max_records, "maxBytes": max_bytes, "maxWaitMs": 0},
        "requestSizeLimits": {"sync": limit, "event": limit},
    }))
    .expect("a valid config");
    let mut batcher = Batcher::new(&config);
    let mut batches = Vec::new();
    for m in &messages {
        // As the connector does: send full batches (a held-back record can fill the next one
        // at once) before reading more.
        while batcher.is_full() {
            batches.push(batcher.take());
        }
        batcher.push(m.clone());
    }
    while !batcher.is_empty() {
        batches.push(batcher.take());
    }
    let ids: Vec<&str> = batches
        .iter()
        .flatten()
        .map(|e| e.message.id.as_str())
        .collect();
    let expected: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids, expected,
        "every message in exactly one batch, in order"
    );
    let byte_cap = max_bytes.min(limit) as usize;
    for batch in &batches {
        assert!(!batch.is_empty(), "an empty batch was taken");
        assert!(batch.len() as u64 <= max_records, "batch over maxRecords");
        let body = payload(batch);
        let array: Vec<Value> = serde_json::from_slice(&body).expect("a batch is a JSON array");
        let valid: Vec<_> = batch.iter().filter(|e| e.record.is_ok()).collect();
        assert_eq!(array.len(), valid.len());
        // A batch without a valid record is never sent (each entry fails alone).
        if !valid.is_empty() {
            assert!(body.len() as u64 <= limit, "batch over the request limit");
        }
        if valid.len() > 1 {
            assert!(
                body.len() <= byte_cap,
                "a batch of several records over maxBytes"
            );
        }
        for (entry, sent) in valid.iter().zip(&array) {
            let (record, _) = entry.record.as_ref().expect("valid");
            assert_eq!(record, sent);
            let m = &entry.message;
            for f in &fields {
                assert!(sent.get(*f).is_some(), "record without {f}");
            }
            if payload_is_json {
                assert_eq!(
                    Some(&sent["value"]),
                    serde_json::from_slice::<Value>(&m.body).ok().as_ref()
                );
            } else {
                assert_eq!(sent["value"], Value::String(body_string(m)));
                let binary = std::str::from_utf8(&m.body).is_err();
                assert_eq!(sent.get("valueEncoding").is_some(), binary);
            }
        }
        for entry in batch.iter().filter(|e| e.record.is_err()) {
            let f = entry.record.as_ref().expect_err("invalid");
            assert_eq!(f.error_type, ErrorType::InvalidRequest);
            let is_json = serde_json::from_slice::<Value>(&entry.message.body).is_ok();
            if payload_is_json && !is_json {
                assert_eq!(f.code, "InvalidJson");
            } else {
                assert_eq!(f.code, "RequestTooLarge", "{f:?}");
            }
        }
    }
}

/// A body as a JSON-string payload carries it: the text, or base64 when it is not UTF-8.
fn body_string(m: &Message) -> String {
    match std::str::from_utf8(&m.body) {
        Ok(text) => text.to_owned(),
        Err(_) => BASE64.encode(&m.body),
    }
}
