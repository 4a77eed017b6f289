//! The message that travels between components (design §4) and its JSON form.
//!
//! Inside the engine a body is bytes ([`Bytes`], so fan-out copies are cheap). In JSON the body
//! is UTF-8 text, or base64 with `"bodyEncoding": "base64"` when it is not valid UTF-8.
//! `properties` are Fiorano's header properties: names mapped to JSON scalars.

mod id;
mod properties;
mod receipt;

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

pub use id::MessageId;
pub use properties::{Properties, PropertyMap};
pub use receipt::{Receipt, ReceiptToken};

/// One message flowing through a flow. Cloning it allocates nothing: the id is 16 bytes, the
/// body, content type and properties are reference-counted and shared.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Unique id (a UUIDv7, so ids sort by creation time).
    pub id: MessageId,
    /// When the message was created.
    pub timestamp: DateTime<Utc>,
    /// MIME type of the body, when known.
    pub content_type: Option<Arc<str>>,
    /// The payload.
    pub body: Bytes,
    /// Header properties.
    pub properties: Properties,
    /// The durable transport's receipt for the input this message comes from (none for
    /// in-process messages): shared with every message derived from it, never serialised.
    pub receipt: Receipt,
}

/// How a body is written in the message's JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BodyEncoding {
    /// The body is UTF-8 text.
    #[default]
    Utf8,
    /// The body is base64 of arbitrary bytes.
    Base64,
}

/// A message's JSON form could not be turned into a message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct MessageError {
    /// JSON pointer of the offending value inside the message JSON.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl Message {
    /// A new message with a fresh id, the current time, no content type and no properties.
    pub fn new(body: impl Into<Bytes>) -> Self {
        let (id, timestamp) = MessageId::new_with_time();
        Message {
            id,
            timestamp,
            content_type: None,
            body: body.into(),
            properties: Properties::new(),
            receipt: Receipt::default(),
        }
    }

    /// Sets the content type.
    pub fn with_content_type(mut self, content_type: impl Into<Arc<str>>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Sets one property.
    pub fn with_property(mut self, name: impl Into<Arc<str>>, value: impl Into<Value>) -> Self {
        self.properties.insert(name.into(), value.into());
        self
    }

    /// A new message (fresh id and time) derived from this one: same properties, new body.
    pub fn derive(&self, body: impl Into<Bytes>, content_type: Option<String>) -> Self {
        let (id, timestamp) = MessageId::new_with_time();
        Message {
            id,
            timestamp,
            content_type: content_type.map(Arc::from),
            body: body.into(),
            properties: self.properties.clone(),
            receipt: self.receipt.clone(),
        }
    }

    /// The same message without its transport receipt: what histories keep, so that a kept copy
    /// never holds back an acknowledgement.
    pub fn without_receipt(&self) -> Self {
        Message {
            receipt: Receipt::default(),
            ..self.clone()
        }
    }

    /// The same message as a new one: a fresh id and time, the same body, content type and
    /// properties (shared, not copied). What a Feeder sends each time it sends a message.
    pub fn renewed(&self) -> Self {
        let (id, timestamp) = MessageId::new_with_time();
        Message {
            id,
            timestamp,
            ..self.clone()
        }
    }

    /// The body as text, when it is valid UTF-8.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as a JSON value for records and previews: parsed JSON when it is JSON, else a
    /// string when it is UTF-8, else `{"base64": "…"}`.
    pub fn body_value(&self) -> Value {
        if let Some(v) = self.body_json() {
            return v;
        }
        match self.body_text() {
            Some(text) => Value::String(text.to_owned()),
            None => serde_json::json!({ "base64": BASE64.encode(&self.body) }),
        }
    }

    /// The message's JSON form as a value.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a message always serialises")
    }

    /// Builds a message from its JSON form, naming the offending field on error.
    pub fn from_json(value: &Value) -> Result<Self, MessageError> {
        // serde reads a struct from an array too (fields by position): a message is an object.
        if !value.is_object() {
            return Err(MessageError {
                pointer: String::new(),
                message: "a message is a JSON object".into(),
            });
        }
        let wire: WireMessage =
            serde_json::from_value(value.clone()).map_err(|e| MessageError {
                pointer: String::new(),
                message: e.to_string(),
            })?;
        wire.try_into()
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

/// A fresh id as text (for ids that leave the engine at once, such as a batch id).
pub fn new_id() -> String {
    MessageId::new().to_string()
}

/// Formats a time the way every JSON document of lambdaflow does (RFC 3339, milliseconds, `Z`).
pub fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Decodes a body written in JSON with the given encoding.
pub fn decode_body(text: &str, encoding: BodyEncoding) -> Result<Bytes, MessageError> {
    match encoding {
        BodyEncoding::Utf8 => Ok(Bytes::copy_from_slice(text.as_bytes())),
        BodyEncoding::Base64 => {
            BASE64
                .decode(text.trim())
                .map(Bytes::from)
                .map_err(|e| MessageError {
                    pointer: "/body".into(),
                    message: format!("body is not valid base64: {e}"),
                })
        }
    }
}

/// Checks that every property value is a JSON scalar.
pub fn check_properties(properties: &Properties) -> Result<(), MessageError> {
    for (name, value) in properties {
        if value.is_object() || value.is_array() {
            return Err(MessageError {
                pointer: format!("/properties/{}", escape_pointer(name)),
                message: format!(
                    "property \"{name}\" must be a string, number, boolean or null, not an {}",
                    if value.is_object() { "object" } else { "array" }
                ),
            });
        }
    }
    Ok(())
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The JSON form of a message, as read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireMessage {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    content_type: Option<Arc<str>>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    body_encoding: BodyEncoding,
    #[serde(default)]
    properties: Properties,
}

impl TryFrom<WireMessage> for Message {
    type Error = MessageError;

    fn try_from(w: WireMessage) -> Result<Self, MessageError> {
        check_properties(&w.properties)?;
        Ok(Message {
            id: w
                .id
                .filter(|id| !id.is_empty())
                .map_or_else(MessageId::new, |id| MessageId::from_text(&id)),
            timestamp: w.timestamp.unwrap_or_else(Utc::now),
            content_type: w.content_type,
            body: decode_body(&w.body, w.body_encoding)?,
            properties: w.properties,
            receipt: Receipt::default(),
        })
    }
}

/// The JSON form of a message, as written (borrowing, so writing never copies the body).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireMessageRef<'a> {
    id: &'a MessageId,
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    body: std::borrow::Cow<'a, str>,
    body_encoding: BodyEncoding,
    properties: &'a Properties,
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (body, body_encoding) = match std::str::from_utf8(&self.body) {
            Ok(text) => (std::borrow::Cow::Borrowed(text), BodyEncoding::Utf8),
            Err(_) => (
                std::borrow::Cow::Owned(BASE64.encode(&self.body)),
                BodyEncoding::Base64,
            ),
        };
        WireMessageRef {
            id: &self.id,
            timestamp: format_time(&self.timestamp),
            content_type: self.content_type.as_deref(),
            body,
            body_encoding,
            properties: &self.properties,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireMessage::deserialize(deserializer)?;
        wire.try_into().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_object_is_a_message() {
        for not_object in [
            json!([null, null]),
            json!(["body"]),
            json!("body"),
            json!(null),
        ] {
            let e = Message::from_json(&not_object).unwrap_err();
            assert_eq!(e.message, "a message is a JSON object", "{not_object}");
        }
        assert!(Message::from_json(&json!({"body": "x"})).is_ok());
    }

    #[test]
    fn utf8_body_round_trips_as_text() {
        let m = Message::new("{\"name\":\"World\"}")
            .with_content_type("application/json")
            .with_property("orderId", 42);
        let v = m.to_json();
        assert_eq!(v["body"], "{\"name\":\"World\"}");
        assert_eq!(v["bodyEncoding"], "utf8");
        assert_eq!(v["properties"]["orderId"], 42);
        assert_eq!(v["contentType"], "application/json");
        let back = Message::from_json(&v).unwrap();
        assert_eq!(
            back,
            Message {
                timestamp: back.timestamp,
                ..m.clone()
            }
        );
        assert_eq!(format_time(&back.timestamp), format_time(&m.timestamp));
    }

    #[test]
    fn non_utf8_body_is_written_as_base64_and_read_back_exactly() {
        let bytes: &[u8] = &[0xff, 0xfe, 0x00, 0x41, 0x80];
        let m = Message::new(Bytes::from_static(bytes));
        let v = m.to_json();
        assert_eq!(v["bodyEncoding"], "base64");
        assert_eq!(v["body"], BASE64.encode(bytes));
        let back: Message = serde_json::from_value(v).unwrap();
        assert_eq!(&back.body[..], bytes);
    }

    #[test]
    fn missing_fields_get_fresh_id_and_time() {
        let m = Message::from_json(&json!({"body": "hi"})).unwrap();
        assert!(!m.id.is_empty());
        assert_eq!(m.body_text(), Some("hi"));
        assert_eq!(m.body_value(), json!("hi"));
        let other = Message::from_json(&json!({"body": "hi"})).unwrap();
        assert_ne!(m.id, other.id);
    }

    #[test]
    fn nested_property_is_refused_with_its_pointer() {
        let err =
            Message::from_json(&json!({"body": "", "properties": {"a/b": {"x": 1}}})).unwrap_err();
        assert_eq!(err.pointer, "/properties/a~1b");
        assert!(err.message.contains("must be a string"));
    }

    #[test]
    fn bad_base64_names_the_body() {
        let err =
            Message::from_json(&json!({"body": "%%%", "bodyEncoding": "base64"})).unwrap_err();
        assert_eq!(err.pointer, "/body");
    }

    #[test]
    fn unknown_field_is_refused() {
        let err = Message::from_json(&json!({"body": "", "headers": {}})).unwrap_err();
        assert!(err.message.contains("headers"), "{err}");
    }

    #[test]
    fn body_value_of_binary_is_base64_object() {
        let m = Message::new(Bytes::from_static(&[0xff]));
        assert_eq!(m.body_value(), json!({"base64": "/w=="}));
    }
}
