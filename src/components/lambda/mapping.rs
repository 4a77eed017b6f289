//! `batch.responseMapping`: what each record of a successful V2 batch call gets from the batch's
//! response.
//!
//! - `whole`: every record gets the whole response.
//! - `perRecord`: the response is a JSON array as long as the batch; record i gets element i. A
//!   response that is not such an array fails every record (`responseGeneration` /
//!   `BatchResponseMismatch`).
//! - `batchItemFailures`: the AWS SQS/Kinesis partial-batch convention,
//!   `{"batchItemFailures": [{"itemIdentifier": "<messageId>"}]}`. Listed records fail
//!   (`requestProcessing` / `BatchItemFailure`), the rest get the whole response. As AWS's
//!   event source mappings do, `null`, an empty body, `{}` or an empty or `null` list mean every
//!   record succeeded, and a response that is not of that shape, or an item without a
//!   non-empty `itemIdentifier` string or naming a message not in this batch, fails the whole
//!   batch (`responseGeneration` / `InvalidBatchItemFailures`).
//!
//! Failures are final (the engine never re-invokes part of a batch) and carry the function's
//! response as `responsePayload`; their messages give counts and indexes, never values.

use std::borrow::Cow;
use std::collections::HashSet;

use serde_json::Value;

use super::config::ResponseMapping;
use super::payload::{Decoded, Success};
use crate::runtime::{ErrorType, Failure};

/// What one record gets: the batch's response (`None`), its own response, or a failure.
pub type Share = Result<Option<Decoded>, Failure>;

/// What each of the batch's records gets, in payload order; `ids` are the records' message ids
/// (`itemIdentifier`s).
pub fn shares(mapping: ResponseMapping, ok: &Success, ids: &[&str]) -> Vec<Share> {
    let Some(response) = ok.response.as_ref() else {
        // Event and DryRun have no response (config checks refuse them with a mapping).
        return ids.iter().map(|_| Ok(None)).collect();
    };
    match mapping {
        ResponseMapping::Whole => ids.iter().map(|_| Ok(None)).collect(),
        ResponseMapping::PerRecord => per_record(response, ids.len()),
        ResponseMapping::BatchItemFailures => item_failures(response, ids),
    }
}

/// `ok` as record `index`'s share makes it: the batch's success, or with its own response.
pub fn success<'a>(ok: &'a Success, share: &Share) -> Result<Cow<'a, Success>, Failure> {
    match share {
        Ok(None) => Ok(Cow::Borrowed(ok)),
        Ok(Some(own)) => Ok(Cow::Owned(Success {
            response: Some(own.clone()),
            ..ok.clone()
        })),
        Err(f) => Err(f.clone()),
    }
}

fn per_record(response: &Decoded, records: usize) -> Vec<Share> {
    let found = match &response.json {
        Some(Value::Array(items)) if items.len() == records => {
            return items
                .iter()
                .map(|item| {
                    Ok(Some(Decoded {
                        text: item.to_string(),
                        json: Some(item.clone()),
                    }))
                })
                .collect();
        }
        Some(Value::Array(items)) => format!("an array of {} elements", items.len()),
        Some(other) => format!("a JSON {}", kind(other)),
        None => "text that is not JSON".to_owned(),
    };
    let failure = Failure::new(
        ErrorType::ResponseGeneration,
        "BatchResponseMismatch",
        format!(
            "batch.responseMapping perRecord needs a JSON array of {records} elements, one per \
             record of the batch; the function returned {found}, so no record gets a response"
        ),
    )
    .with_response_payload(response.value());
    vec![Err(failure); records]
}

fn item_failures(response: &Decoded, ids: &[&str]) -> Vec<Share> {
    match failed_items(response, ids) {
        Ok(failed) => ids
            .iter()
            .map(|id| {
                if failed.contains(id) {
                    Err(Failure::new(
                        ErrorType::RequestProcessing,
                        "BatchItemFailure",
                        "the function reported this record as failed in batchItemFailures; \
                         the rest of the batch succeeded",
                    )
                    .with_response_payload(response.value()))
                } else {
                    Ok(None)
                }
            })
            .collect(),
        Err(why) => {
            let failure = Failure::new(
                ErrorType::ResponseGeneration,
                "InvalidBatchItemFailures",
                format!(
                    "batch.responseMapping batchItemFailures cannot read the function's \
                     response: {why}. As AWS event source mappings do, the whole batch counts \
                     as failed"
                ),
            )
            .with_response_payload(response.value());
            vec![Err(failure); ids.len()]
        }
    }
}

/// The identifiers the response lists, all in `ids`; `Err` says what is wrong with it.
fn failed_items<'a>(response: &Decoded, ids: &[&'a str]) -> Result<HashSet<&'a str>, String> {
    let json = match &response.json {
        Some(json) => json,
        None if response.text.trim().is_empty() => return Ok(HashSet::new()),
        None => return Err("it is not JSON".into()),
    };
    let list = match json {
        Value::Null => return Ok(HashSet::new()),
        Value::Object(map) => match map.get("batchItemFailures") {
            None | Some(Value::Null) => return Ok(HashSet::new()),
            Some(Value::Array(list)) => list,
            Some(other) => return Err(format!("batchItemFailures is a {}", kind(other))),
        },
        other => return Err(format!("it is a JSON {}, not an object", kind(other))),
    };
    let known: HashSet<&str> = ids.iter().copied().collect();
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let id = item
                .get("itemIdentifier")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| format!("item {i} has no non-empty itemIdentifier string"))?;
            known
                .get(id)
                .copied()
                .ok_or_else(|| format!("item {i} names a messageId that is not in this batch"))
        })
        .collect()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(text: &str) -> Success {
        Success {
            function_name: "f".into(),
            function_arn: None,
            qualifier: None,
            invocation_type: "RequestResponse",
            status: 200,
            request_id: None,
            executed_version: None,
            log_result: None,
            response: Some(Decoded::new(text.into())),
            stream: None,
            attempts: 1,
        }
    }

    const IDS: [&str; 3] = ["m0", "m1", "m2"];

    fn codes(shares: &[Share]) -> Vec<String> {
        shares
            .iter()
            .map(|s| match s {
                Ok(None) => "whole".to_owned(),
                Ok(Some(d)) => d.text.clone(),
                Err(f) => f.code.clone(),
            })
            .collect()
    }

    #[test]
    fn whole_gives_everyone_the_response() {
        let s = shares(ResponseMapping::Whole, &ok("[1,2]"), &IDS);
        assert_eq!(codes(&s), ["whole"; 3]);
    }

    #[test]
    fn per_record_gives_element_i_or_fails_every_record() {
        let s = shares(
            ResponseMapping::PerRecord,
            &ok(r#"[{"a":1},"x",null]"#),
            &IDS,
        );
        assert_eq!(codes(&s), [r#"{"a":1}"#, r#""x""#, "null"]);
        assert_eq!(
            success(&ok("[]"), &s[0])
                .unwrap()
                .response
                .as_ref()
                .unwrap()
                .json,
            Some(json!({"a": 1}))
        );
        for (response, found) in [
            ("[1,2]", "an array of 2 elements"),
            (r#"{"a":1}"#, "a JSON object"),
            ("oops", "text that is not JSON"),
        ] {
            let s = shares(ResponseMapping::PerRecord, &ok(response), &IDS);
            assert_eq!(codes(&s), ["BatchResponseMismatch"; 3], "{response}");
            let f = s[0].as_ref().unwrap_err();
            assert_eq!(f.error_type, ErrorType::ResponseGeneration);
            assert!(f.message.contains(found) && f.message.contains("3"), "{f}");
        }
    }

    #[test]
    fn batch_item_failures_fail_the_listed_records_only() {
        let s = shares(
            ResponseMapping::BatchItemFailures,
            &ok(r#"{"batchItemFailures":[{"itemIdentifier":"m2"},{"itemIdentifier":"m0"}]}"#),
            &IDS,
        );
        assert_eq!(codes(&s), ["BatchItemFailure", "whole", "BatchItemFailure"]);
        let f = s[0].as_ref().unwrap_err();
        assert_eq!(
            (f.error_type, f.retryable),
            (ErrorType::RequestProcessing, false)
        );
        assert!(f.response_payload.is_some());
    }

    #[test]
    fn empty_answers_mean_every_record_succeeded() {
        for response in [
            "",
            "null",
            "{}",
            r#"{"batchItemFailures":[]}"#,
            r#"{"batchItemFailures":null}"#,
        ] {
            let s = shares(ResponseMapping::BatchItemFailures, &ok(response), &IDS);
            assert_eq!(codes(&s), ["whole"; 3], "{response:?}");
        }
    }

    #[test]
    fn malformed_answers_and_unknown_ids_fail_the_whole_batch() {
        for (response, why) in [
            ("not json", "not JSON"),
            ("[]", "array, not an object"),
            (
                r#"{"batchItemFailures":"m1"}"#,
                "batchItemFailures is a string",
            ),
            (
                r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
                "item 0 has no",
            ),
            (r#"{"batchItemFailures":[{"id":"m1"}]}"#, "item 0 has no"),
            (
                r#"{"batchItemFailures":[{"itemIdentifier":"m1"},{"itemIdentifier":7}]}"#,
                "item 1 has no",
            ),
            (
                r#"{"batchItemFailures":[{"itemIdentifier":"zz-secret"}]}"#,
                "item 0 names a messageId",
            ),
        ] {
            let s = shares(ResponseMapping::BatchItemFailures, &ok(response), &IDS);
            assert_eq!(codes(&s), ["InvalidBatchItemFailures"; 3], "{response}");
            let f = s[0].as_ref().unwrap_err();
            assert!(f.message.contains(why), "{response}: {f}");
            assert!(!f.message.contains("zz-secret"), "{f}");
        }
    }
}
