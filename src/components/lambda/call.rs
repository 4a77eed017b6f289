//! What one invocation sends besides its payload when that depends on the message: the client
//! context with the message's forwarded properties (`forwardProperties`, see [`super::forward`])
//! and its route (function, qualifier, tenant id, durable execution name; see [`super::route`]).
//! [`for_message`] decides it before the call; the invoker applies it
//! ([`super::invoke::Invoker::with_call`]).

use super::config::LambdaConfig;
use super::forward::{self, Selection};
use super::route::{self, Route};
use crate::message::Message;
use crate::runtime::Failure;

/// One message's call settings that differ from the node's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Call {
    /// The base64 client context to send instead of the configured one.
    pub client_context: Option<String>,
    /// Function, qualifier, tenant and execution name chosen by the message.
    pub route: Route,
}

/// The call settings of `input`, or `None` when they are the node's; a failure when the message
/// cannot be sent (a refused route, a client context over Lambda's limit).
pub fn for_message(config: &LambdaConfig, input: &Message) -> Result<Option<Call>, Failure> {
    let routes = config.allow_overrides
        || config.tenant_id_property.is_some()
        || config.durable_execution_name_property.is_some();
    if config.forward_properties.is_empty() && !routes {
        return Ok(None);
    }
    let route = match routes {
        true => route::route(config, input)?,
        false => Route::default(),
    };
    let picked = Selection::new(&config.forward_properties).pick(&input.properties);
    let client_context = match picked.is_empty() {
        true => None,
        false => forward::client_context(config.client_context.as_ref(), picked)?,
    };
    if client_context.is_none() && route == Route::default() {
        return Ok(None);
    }
    Ok(Some(Call {
        client_context,
        route,
    }))
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
        let routed: LambdaConfig = serde_json::from_value(json!({
            "functionName": "f", "allowOverrides": true
        }))
        .unwrap();
        assert_eq!(for_message(&routed, &Message::new("{}")).unwrap(), None);
        let m = Message::new("{}").with_property("lambda.functionName", "g");
        let call = for_message(&routed, &m).unwrap().unwrap();
        assert_eq!(call.route.target.unwrap().function_name, "g");
        let plain: LambdaConfig = serde_json::from_value(json!({"functionName": "f"})).unwrap();
        let m = Message::new("{}").with_property("tenant", "acme");
        assert_eq!(for_message(&plain, &m).unwrap(), None);
    }
}
