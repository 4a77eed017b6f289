//! `forwardProperties`: the chosen message properties go to the function in
//! `clientContext.custom`, merged over the configured `clientContext`, base64-encoded and
//! checked against Lambda's 3,583-byte limit per message.
//!
//! - An entry ending in `*` is a prefix (`tenant.*` forwards `tenant.id`, `tenant.plan`; `x-*`
//!   forwards every property starting with `x-`; `*` alone forwards all); any other entry is an
//!   exact name.
//! - Values become strings, because Lambda runtimes type `custom` as a map of strings (Java,
//!   .NET, Go, Rust): a string as it is, a number, boolean or `null` as its JSON text (`42`,
//!   `true`, `null`).
//! - A forwarded property replaces a configured `custom` entry of the same name (the message is
//!   more specific than the node).
//! - Over the limit the message is refused before any call (`invalidRequest` /
//!   `ClientContextTooLarge`), never cut silently; the record gives sizes, never values.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::config::MAX_CLIENT_CONTEXT_BYTES;
use crate::message::Properties;
use crate::runtime::{ErrorType, Failure};

/// Which properties to forward.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    names: Vec<String>,
    prefixes: Vec<String>,
}

impl Selection {
    /// The selection `forwardProperties` describes.
    pub fn new(entries: &[String]) -> Self {
        let mut selection = Selection::default();
        for entry in entries {
            match entry.strip_suffix('*') {
                Some(prefix) => selection.prefixes.push(prefix.to_owned()),
                None => selection.names.push(entry.clone()),
            }
        }
        selection
    }

    /// Nothing is forwarded.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.prefixes.is_empty()
    }

    /// Whether `name` is selected.
    pub fn selects(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name) || self.prefixes.iter().any(|p| name.starts_with(p))
    }

    /// The selected properties, values as strings.
    pub fn pick(&self, properties: &Properties) -> Map<String, Value> {
        properties
            .iter()
            .filter(|(name, _)| self.selects(name))
            .map(|(name, value)| {
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (name.to_string(), Value::String(text))
            })
            .collect()
    }
}

/// Why an entry of `forwardProperties` cannot be used (config checks name the entry's pointer).
pub fn check_entry(entry: &str) -> Result<(), &'static str> {
    let body = entry.strip_suffix('*').unwrap_or(entry);
    if entry.is_empty() {
        Err("an entry must name a property or a prefix ending in '*'")
    } else if body.contains('*') {
        Err("'*' may only end an entry (a prefix such as tenant.*)")
    } else {
        Ok(())
    }
}

/// The base64 client context of one message: `configured` with `forwarded` merged into its
/// `custom` map. `None` when there is nothing to send.
pub fn client_context(
    configured: Option<&Map<String, Value>>,
    forwarded: Map<String, Value>,
) -> Result<Option<String>, Failure> {
    if forwarded.is_empty() {
        return Ok(configured.map(encode));
    }
    let mut context = configured.cloned().unwrap_or_default();
    let custom = context
        .entry("custom")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(custom) = custom {
        custom.extend(forwarded);
    }
    let encoded = encode(&context);
    if encoded.len() > MAX_CLIENT_CONTEXT_BYTES {
        let count = context["custom"].as_object().map_or(0, Map::len);
        return Err(Failure::new(
            ErrorType::InvalidRequest,
            "ClientContextTooLarge",
            format!(
                "the client context with this message's forwarded properties ({count} custom \
                 entries) is {} bytes base64-encoded; Lambda accepts at most {}. It was not \
                 sent: forward fewer properties (forwardProperties) or shorten clientContext",
                encoded.len(),
                MAX_CLIENT_CONTEXT_BYTES
            ),
        ));
    }
    Ok(Some(encoded))
}

fn encode(context: &Map<String, Value>) -> String {
    BASE64.encode(Value::Object(context.clone()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Properties {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect()
    }

    fn decode(b64: &str) -> Value {
        serde_json::from_slice(&BASE64.decode(b64).unwrap()).unwrap()
    }

    #[test]
    fn names_and_prefixes_pick_properties_as_strings() {
        let s = Selection::new(&["orderId".into(), "tenant.*".into(), "x-*".into()]);
        let picked = s.pick(&props(json!({
            "orderId": 42, "tenant.id": "acme", "tenant.vip": true, "x-trace": null,
            "tenantX": "no", "order": "no", "lambda.statusCode": 200
        })));
        assert_eq!(
            Value::Object(picked),
            json!({"orderId": "42", "tenant.id": "acme", "tenant.vip": "true", "x-trace": "null"})
        );
        let all = Selection::new(&["*".into()]);
        assert_eq!(all.pick(&props(json!({"a": 1, "b": "c"}))).len(), 2);
        assert!(Selection::new(&[]).is_empty());
    }

    #[test]
    fn forwarded_properties_merge_into_the_configured_context() {
        let configured =
            json!({"custom": {"tenant": "node", "keep": "yes"}, "env": {"stage": "prod"}});
        let forwarded = props(json!({"tenant": "msg"}));
        let b64 = client_context(
            configured.as_object(),
            Selection::new(&["tenant".into()]).pick(&forwarded),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            decode(&b64),
            json!({"custom": {"tenant": "msg", "keep": "yes"}, "env": {"stage": "prod"}})
        );
        let only = client_context(
            None,
            Selection::new(&["a".into()]).pick(&props(json!({"a": 1}))),
        );
        assert_eq!(
            decode(&only.unwrap().unwrap()),
            json!({"custom": {"a": "1"}})
        );
        assert_eq!(client_context(None, Map::new()).unwrap(), None);
        assert_eq!(
            decode(
                &client_context(configured.as_object(), Map::new())
                    .unwrap()
                    .unwrap()
            ),
            configured
        );
    }

    #[test]
    fn over_the_limit_is_refused_with_sizes_never_values() {
        let big = "v".repeat(3000);
        let forwarded = props(json!({"a": big.clone(), "b": "secret-value"}));
        let f = client_context(None, Selection::new(&["*".into()]).pick(&forwarded)).unwrap_err();
        assert_eq!(
            (f.error_type, f.code.as_str()),
            (ErrorType::InvalidRequest, "ClientContextTooLarge")
        );
        assert!(f.message.contains("3583") && f.message.contains("forwardProperties"));
        assert!(!f.message.contains("secret-value") && !f.message.contains(&big[..10]));
        // {"custom":{"a":"…"}} is 19 bytes plus the value: 2666 v's encode to 3580 bytes (the
        // largest multiple of 4 within 3583), one more to 3584.
        let one = |n: usize| {
            let p = props(json!({"a": "v".repeat(n)}));
            client_context(None, Selection::new(&["a".into()]).pick(&p))
        };
        assert_eq!(one(2666).unwrap().unwrap().len(), 3580);
        assert_eq!(one(2667).unwrap_err().code, "ClientContextTooLarge");
    }

    #[test]
    fn entries_must_be_names_or_trailing_star_prefixes() {
        assert!(check_entry("tenant.*").is_ok());
        assert!(check_entry("*").is_ok());
        assert!(check_entry("orderId").is_ok());
        assert!(check_entry("").is_err());
        assert!(check_entry("a*b").is_err());
        assert!(check_entry("**").is_err());
    }
}
