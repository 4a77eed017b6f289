//! `outputMode: merge`: the input body (JSON) is kept and the function's response is placed at
//! the JSON pointer `mergeAt` (RFC 6901), creating objects along the path.
//!
//! Rules (the README's "Merge output" says the same):
//! - the input body must be JSON, else the message is refused before any call
//!   (`invalidRequest` / `MergeInputNotJson`): the function never runs for a result that could
//!   not be emitted;
//! - each step of the pointer but the last goes into an object member (created as `{}` when it is
//!   missing or `null`) or an existing array element (a decimal index below the length);
//! - the last step sets an object member (replacing it), replaces an array element, or appends
//!   to an array (`-` or the index equal to the length);
//! - a step through a string, number or boolean, or to an array element that does not exist, is
//!   refused before any call (`invalidRequest` / `MergeTargetUnreachable`), naming `mergeAt` and
//!   the pointer prefix where it stopped, never a value of the body.
//!
//! [`check`] (before the call) and [`insert`] (after it) walk with the same `step`, so a body
//! that passed the check always takes the response.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::message::{Message, escape_pointer};
use crate::runtime::{ErrorType, Failure};

/// The reference tokens of `pointer`, unescaped; `Err` names what is wrong with it. The root
/// pointer (`""`) is refused: merging at the root would replace the body (that is
/// `outputMode: payload`).
pub fn tokens(pointer: &str) -> Result<Vec<String>, &'static str> {
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err("a JSON pointer below the root must start with '/' (e.g. /lambda)");
    };
    rest.split('/')
        .map(|raw| {
            let mut out = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                match c {
                    '~' => match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => return Err("'~' must be followed by 0 or 1 in a JSON pointer"),
                    },
                    c => out.push(c),
                }
            }
            Ok(out)
        })
        .collect()
}

/// Why a step cannot be taken.
enum Blocked {
    /// A string, number or boolean is in the way.
    Scalar(&'static str),
    /// The array has no such element.
    NoElement,
}

/// Where one step leads inside an array: an existing index, or the end (append).
fn array_index(token: &str, len: usize, last: bool) -> Option<usize> {
    if last && token == "-" {
        return Some(len);
    }
    let canonical = token == "0" || (!token.starts_with('0') && !token.is_empty());
    let index = token
        .parse::<usize>()
        .ok()
        .filter(|_| canonical && token.bytes().all(|b| b.is_ascii_digit()))?;
    (index < len || (last && index == len)).then_some(index)
}

/// Checks one step from `value` by `token` (the last one when `last`).
fn step(value: &Value, token: &str, last: bool) -> Result<(), Blocked> {
    match value {
        Value::Object(_) | Value::Null => Ok(()),
        Value::Array(items) => array_index(token, items.len(), last)
            .map(|_| ())
            .ok_or(Blocked::NoElement),
        Value::String(_) => Err(Blocked::Scalar("string")),
        Value::Number(_) => Err(Blocked::Scalar("number")),
        Value::Bool(_) => Err(Blocked::Scalar("boolean")),
    }
}

fn unreachable_at(tokens: &[String], depth: usize, why: Blocked) -> Failure {
    let prefix: String = tokens[..depth]
        .iter()
        .map(|t| format!("/{}", escape_pointer(t)))
        .collect();
    let at = if prefix.is_empty() {
        "the body itself".to_owned()
    } else {
        format!("'{prefix}'")
    };
    let what = match why {
        Blocked::Scalar(kind) => format!("{at} is a {kind}, which has no members"),
        Blocked::NoElement => format!("{at} is an array without the element mergeAt names"),
    };
    Failure::new(
        ErrorType::InvalidRequest,
        "MergeTargetUnreachable",
        format!(
            "outputMode merge cannot place the response at mergeAt in this message's body: \
             {what}; it was not sent. Point mergeAt at an object member"
        ),
    )
}

/// Walks `tokens` from `root` without changing it: where the walk would stop, if anywhere.
fn walk(root: &Value, tokens: &[String]) -> Result<(), Failure> {
    let mut current = Some(root);
    for (depth, token) in tokens.iter().enumerate() {
        let last = depth + 1 == tokens.len();
        let Some(value) = current else {
            // Created by the insert: an empty object takes any member.
            return Ok(());
        };
        step(value, token, last).map_err(|why| unreachable_at(tokens, depth, why))?;
        current = match value {
            Value::Object(map) => map.get(token),
            Value::Array(items) => array_index(token, items.len(), last).and_then(|i| items.get(i)),
            _ => None,
        };
    }
    Ok(())
}

/// Puts `response` at `tokens` inside `root`, creating objects along the path.
pub fn insert(root: &mut Value, tokens: &[String], response: Value) -> Result<(), Failure> {
    walk(root, tokens)?;
    let mut current = root;
    for (depth, token) in tokens.iter().enumerate() {
        let last = depth + 1 == tokens.len();
        if current.is_null() {
            *current = Value::Object(Map::new());
        }
        current = match current {
            Value::Object(map) if last => {
                map.insert(token.clone(), response);
                return Ok(());
            }
            Value::Object(map) => map.entry(token.clone()).or_insert(Value::Null),
            Value::Array(items) => {
                let len = items.len();
                let index = array_index(token, len, last).expect("walk checked the index");
                if last {
                    if index == len {
                        items.push(response);
                    } else {
                        items[index] = response;
                    }
                    return Ok(());
                }
                &mut items[index]
            }
            _ => unreachable!("walk refused scalars"),
        };
    }
    Ok(())
}

fn not_json() -> Failure {
    Failure::new(
        ErrorType::InvalidRequest,
        "MergeInputNotJson",
        "outputMode merge keeps the input body and adds the response at mergeAt, so the body \
         must be JSON; this one is not, and it was not sent. Use outputMode payload or record \
         for non-JSON bodies",
    )
}

fn parse(body: &[u8]) -> Result<Value, Failure> {
    std::str::from_utf8(body)
        .ok()
        .and_then(|text| serde_json::from_str(text).ok())
        .ok_or_else(not_json)
}

/// Before the call: can this message's body take a response at `merge_at`?
pub fn check(input: &Message, merge_at: &str) -> Result<(), Failure> {
    let tokens = tokens(merge_at).map_err(config_error)?;
    walk(&parse(&input.body)?, &tokens)
}

/// After the call: the input body with `response` at `merge_at`, as JSON text.
pub fn merged_body(input: &Message, merge_at: &str, response: Value) -> Result<Bytes, Failure> {
    let tokens = tokens(merge_at).map_err(config_error)?;
    let mut body = parse(&input.body)?;
    insert(&mut body, &tokens, response)?;
    Ok(Bytes::from(body.to_string()))
}

/// `mergeAt` is not a pointer (config checks refuse it first; kept for direct callers).
fn config_error(why: &str) -> Failure {
    Failure::new(
        ErrorType::InvalidRequest,
        "MergeTargetUnreachable",
        format!("mergeAt is not a usable JSON pointer: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(body: Value, at: &str, response: Value) -> Result<Value, Failure> {
        let msg = Message::new(body.to_string());
        check(&msg, at)?;
        let bytes = merged_body(&msg, at, response)?;
        Ok(serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn the_response_goes_at_the_pointer_and_the_body_stays() {
        assert_eq!(
            merged(json!({"order": 7}), "/lambda", json!({"ok": true})).unwrap(),
            json!({"order": 7, "lambda": {"ok": true}})
        );
        assert_eq!(
            merged(json!({"a": 1}), "/lambda", json!("text")).unwrap(),
            json!({"a": 1, "lambda": "text"}),
            "a non-JSON response is placed as a string"
        );
    }

    #[test]
    fn missing_and_null_parents_become_objects() {
        assert_eq!(
            merged(json!({"a": {"x": 1}}), "/a/b/c", json!(2)).unwrap(),
            json!({"a": {"x": 1, "b": {"c": 2}}})
        );
        assert_eq!(
            merged(json!({"a": null}), "/a/b", json!(2)).unwrap(),
            json!({"a": {"b": 2}})
        );
        assert_eq!(
            merged(json!(null), "/x", json!(1)).unwrap(),
            json!({"x": 1})
        );
    }

    #[test]
    fn escaped_tokens_and_arrays() {
        assert_eq!(
            merged(json!({}), "/a~1b/c~0d", json!(1)).unwrap(),
            json!({"a/b": {"c~d": 1}})
        );
        assert_eq!(
            merged(
                json!({"items": [{"n": 1}, {"n": 2}]}),
                "/items/1/r",
                json!(9)
            )
            .unwrap(),
            json!({"items": [{"n": 1}, {"n": 2, "r": 9}]})
        );
        assert_eq!(merged(json!([1]), "/-", json!(2)).unwrap(), json!([1, 2]));
        assert_eq!(merged(json!([1]), "/1", json!(2)).unwrap(), json!([1, 2]));
        assert_eq!(merged(json!([1]), "/0", json!(2)).unwrap(), json!([2]));
    }

    #[test]
    fn unreachable_targets_are_refused_naming_the_place_not_the_value() {
        let f = merged(json!({"a": "secret-ish"}), "/a/b", json!(1)).unwrap_err();
        assert_eq!(
            (f.error_type, f.code.as_str()),
            (ErrorType::InvalidRequest, "MergeTargetUnreachable")
        );
        assert!(
            f.message.contains("mergeAt") && f.message.contains("'/a'"),
            "{f}"
        );
        assert!(!f.message.contains("secret-ish"), "{f}");
        let f = merged(json!(42), "/x", json!(1)).unwrap_err();
        assert!(f.message.contains("the body itself is a number"), "{f}");
        for at in ["/items/5/r", "/items/01", "/items/-/r", "/items/x"] {
            let f = merged(json!({"items": [1]}), at, json!(1)).unwrap_err();
            assert_eq!(f.code, "MergeTargetUnreachable", "{at}");
        }
    }

    #[test]
    fn a_non_json_body_is_refused() {
        for body in [&b"name=World"[..], b"{\"a\":\"\xff\"}"] {
            let f = check(&Message::new(Bytes::copy_from_slice(body)), "/lambda").unwrap_err();
            assert_eq!(f.code, "MergeInputNotJson");
            assert!(!f.message.contains("World"));
        }
    }

    #[test]
    fn pointers_are_parsed_as_rfc_6901_says() {
        assert_eq!(tokens("/lambda").unwrap(), vec!["lambda"]);
        assert_eq!(tokens("/a~1b/~0").unwrap(), vec!["a/b", "~"]);
        assert_eq!(tokens("/").unwrap(), vec![""]);
        assert!(tokens("").is_err(), "the root is refused");
        assert!(tokens("lambda").is_err());
        assert!(tokens("/a~2").is_err());
        assert!(tokens("/a~").is_err());
    }
}
