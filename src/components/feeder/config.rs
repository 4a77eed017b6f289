//! The Feeder's property sheet (`component-schema/feeder.schema.json`).

use serde::{Deserialize, Serialize};

use crate::message::{BodyEncoding, Message, Properties, check_properties, decode_body};

/// Feeder configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FeederConfig {
    /// Messages this Feeder can send; the first one is the default message.
    #[serde(default = "default_messages")]
    pub messages: Vec<FeederMessage>,
    /// Send every configured message when the flow starts (what a headless run sends).
    #[serde(default)]
    pub send_on_start: bool,
    /// How many times the configured messages are sent at start (Fiorano's Send-N-times).
    #[serde(default = "one")]
    pub repeat: u64,
    /// Wait between two sends, in milliseconds.
    #[serde(default)]
    pub interval_ms: u64,
    /// How many sent messages the Feeder keeps for resending.
    #[serde(default = "ten")]
    pub history_size: u32,
}

/// One configured message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FeederMessage {
    /// The body: text, or base64 when `bodyEncoding` is `base64`.
    pub body: String,
    /// How `body` is written.
    #[serde(default)]
    pub body_encoding: BodyEncoding,
    /// MIME type of the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Header properties (names to strings, numbers, booleans or null).
    #[serde(default)]
    pub properties: Properties,
}

fn default_messages() -> Vec<FeederMessage> {
    vec![FeederMessage {
        body: "{\"name\": \"World\"}".into(),
        body_encoding: BodyEncoding::Utf8,
        content_type: Some("application/json".into()),
        properties: Properties::new(),
    }]
}

fn one() -> u64 {
    1
}

fn ten() -> u32 {
    10
}

impl Default for FeederConfig {
    fn default() -> Self {
        FeederConfig {
            messages: default_messages(),
            send_on_start: false,
            repeat: 1,
            interval_ms: 0,
            history_size: 10,
        }
    }
}

impl FeederMessage {
    /// A fresh message (new id and time) with this body, content type and properties.
    pub fn to_message(&self) -> Result<Message, crate::message::MessageError> {
        check_properties(&self.properties)?;
        let mut m = Message::new(decode_body(&self.body, self.body_encoding)?);
        m.content_type = self.content_type.as_deref().map(Into::into);
        m.properties = self.properties.clone();
        Ok(m)
    }
}
