//! What one invocation sends besides its payload when that depends on the message: the client
//! context with the message's forwarded properties (`forwardProperties`, see [`super::forward`]).
//! [`for_message`] decides it before the call; the invoker applies it
//! ([`super::invoke::Invoker::with_call`]).

use super::config::LambdaConfig;
use super::forward::{self, Selection};
use crate::message::Message;
use crate::runtime::Failure;

/// One message's call settings that differ from the node's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Call {
    /// The base64 client context to send instead of the configured one.
    pub client_context: Option<String>,
}

/// The call settings of `input`, or `None` when they are the node's; a failure when the message
/// cannot be sent (its client context is over Lambda's limit).
pub fn for_message(config: &LambdaConfig, input: &Message) -> Result<Option<Call>, Failure> {
    if config.forward_properties.is_empty() {
        return Ok(None);
    }
    let picked = Selection::new(&config.forward_properties).pick(&input.properties);
    if picked.is_empty() {
        return Ok(None);
    }
    let client_context = forward::client_context(config.client_context.as_ref(), picked)?;
    Ok(Some(Call { client_context }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_messages_with_forwarded_properties_get_their_own_call() {
        let config: LambdaConfig = serde_json::from_value(json!({
            "functionName": "f", "forwardProperties": ["tenant"]
        }))
        .unwrap();
        assert_eq!(for_message(&config, &Message::new("{}")).unwrap(), None);
        let call = for_message(&config, &Message::new("{}").with_property("tenant", "acme"))
            .unwrap()
            .unwrap();
        assert!(call.client_context.is_some());
        let plain: LambdaConfig = serde_json::from_value(json!({"functionName": "f"})).unwrap();
        let m = Message::new("{}").with_property("tenant", "acme");
        assert_eq!(for_message(&plain, &m).unwrap(), None);
    }
}
