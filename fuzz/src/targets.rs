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

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use lambdaflow::Message;
use lambdaflow::flow::{Flow, parse_flow};
use lambdaflow::message::{BodyEncoding, decode_body, format_time};
use serde_json::Value;

/// Flow parsing and validation.
pub fn flow_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_flow(text) {
        Ok(flow) => {
            let written = serde_json::to_string_pretty(&flow).expect("a flow serialises");
            let again: Flow = parse_flow(&written).unwrap_or_else(|d| {
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
