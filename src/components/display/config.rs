//! The Display's property sheet (`component-schema/display.schema.json`).

use serde::{Deserialize, Serialize};

/// Display configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DisplayConfig {
    /// How many received messages are kept (the oldest is dropped past it); 0 keeps all.
    #[serde(default = "ten")]
    pub max_messages: u32,
}

fn ten() -> u32 {
    10
}

impl Default for DisplayConfig {
    fn default() -> Self {
        DisplayConfig { max_messages: 10 }
    }
}
