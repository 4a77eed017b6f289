//! `payloadFormat: v2` batching: collects messages as Pulsar V2 records until a count, byte or
//! time trigger fires, and builds the batch's JSON-array payload.
//!
//! - Count: `batch.maxRecords` messages (valid or not) make a batch full.
//! - Bytes: a record that would take the array past `min(batch.maxBytes, request limit)` is
//!   held back and starts the next batch, so a batch never exceeds the request limit (it is
//!   split instead). A record that alone exceeds `batch.maxBytes` but not the request limit is
//!   sent alone; one that alone exceeds the request limit fails as `RequestTooLarge`.
//! - Time: a batch is sent `batch.maxWaitMs` after its first message arrived.
//! - Route: a batch is one call, so its messages share a function, qualifier and tenant id
//!   (`allowOverrides`, `tenantIdProperty`). A message routed elsewhere than the open batch is
//!   held back and starts the next batch, like a record over the byte limit: batches follow the
//!   input order, and interleaved routes make smaller batches.
//! - A message that cannot become a record (not JSON with `payloadIsJson`, or a body
//!   `outputMode: merge` cannot merge into) stays in the batch as a rejected entry, so outputs
//!   keep input order; it is routed to `error` when the batch completes and is not part of the
//!   payload.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use super::call::{self, Call};
use super::config::{LambdaConfig, MetadataField};
use super::payload::{too_large, v2_record};
use super::service::Unit;
use crate::message::Message;
use crate::runtime::Failure;
use crate::runtime::driver::Batching;

/// One message in a batch: its record (serialised), or why it has none.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The input message.
    pub message: Message,
    /// Its record and the record's JSON text, or the failure that keeps it out of the payload.
    pub record: Result<(Value, Bytes), Failure>,
    /// Where its call goes, when the message chose (`None`: the node's settings).
    pub call: Option<Call>,
}

/// Collects entries until a trigger fires.
#[derive(Debug)]
pub struct Batcher {
    max_records: usize,
    max_bytes: usize,
    request_limit: usize,
    max_wait: Duration,
    fields: Vec<MetadataField>,
    payload_is_json: bool,
    /// The node's settings, for the per-message checks (`outputMode: merge`).
    config: LambdaConfig,
    invocation_type: &'static str,
    entries: Vec<Entry>,
    /// Bytes of the JSON array of the valid records so far (`[` and `]` included).
    bytes: usize,
    records: usize,
    /// A record that did not fit, or goes elsewhere; it starts the next batch.
    carry: Option<Entry>,
    /// Where the open batch's call goes (its first record's).
    route: Option<Call>,
    /// The current batch is full by bytes (a record bigger than `maxBytes` went in alone).
    full_by_bytes: bool,
    deadline: Option<Instant>,
}

impl Batcher {
    /// A batcher for `config`'s batch settings.
    pub fn new(config: &LambdaConfig) -> Self {
        let request_limit = usize::try_from(config.request_limit()).unwrap_or(usize::MAX);
        let max_bytes = usize::try_from(config.batch.max_bytes)
            .unwrap_or(usize::MAX)
            .min(request_limit);
        Batcher {
            max_records: config.batch.max_records.max(1) as usize,
            max_bytes,
            request_limit,
            max_wait: Duration::from_millis(config.batch.max_wait_ms),
            fields: config.metadata_fields.clone(),
            payload_is_json: config.payload_is_json,
            config: config.clone(),
            invocation_type: config.effective_invocation_type().as_str(),
            entries: Vec::new(),
            bytes: 2,
            records: 0,
            carry: None,
            route: None,
            full_by_bytes: false,
            deadline: None,
        }
    }

    /// Adds a message. Never blocks; check [`Batcher::is_full`] before adding more.
    pub fn push(&mut self, message: Message) {
        debug_assert!(!self.is_full(), "push into a full batch");
        let call = call::for_message(&self.config, &message);
        let record = call.as_ref().map(|_| ()).map_err(Clone::clone);
        let record = record.and_then(|()| self.config.check_merge(&message));
        let record = record.and_then(|()| v2_record(&message, &self.fields, self.payload_is_json));
        let record = record.and_then(|v| {
            let text = Bytes::from(v.to_string());
            if text.len() + 2 > self.request_limit {
                Err(too_large(
                    text.len() + 2,
                    self.request_limit as u64,
                    self.invocation_type,
                ))
            } else {
                Ok((v, text))
            }
        });
        let entry = Entry {
            message,
            record,
            call: call.unwrap_or_default(),
        };
        if let Ok((_, text)) = &entry.record {
            let grown = self.grown_by(text.len());
            // A record that does not fit, or goes elsewhere, starts the next batch.
            if self.records > 0 && (grown > self.max_bytes || entry.call != self.route) {
                self.carry = Some(entry);
                return;
            }
            if grown > self.max_bytes {
                self.full_by_bytes = true;
            }
        }
        self.add(entry);
    }

    fn grown_by(&self, len: usize) -> usize {
        self.bytes + len + usize::from(self.records > 0)
    }

    fn add(&mut self, entry: Entry) {
        if let Ok((_, text)) = &entry.record {
            if self.records == 0 {
                self.route = entry.call.clone();
            }
            self.bytes = self.grown_by(text.len());
            self.records += 1;
        }
        if self.entries.is_empty() {
            self.deadline = Some(Instant::now() + self.max_wait);
        }
        self.entries.push(entry);
    }

    /// No message is waiting.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.carry.is_none()
    }

    /// The count or byte trigger fired: send before adding more.
    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.max_records || self.carry.is_some() || self.full_by_bytes
    }

    /// When the time trigger fires, if a batch is open.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Takes the current batch; a held-back record starts the next one.
    pub fn take(&mut self) -> Vec<Entry> {
        let batch = std::mem::take(&mut self.entries);
        self.bytes = 2;
        self.records = 0;
        self.full_by_bytes = false;
        self.deadline = None;
        self.route = None;
        if let Some(entry) = self.carry.take() {
            let len = entry.record.as_ref().map(|(_, t)| t.len()).unwrap_or(0);
            if self.grown_by(len) > self.max_bytes {
                self.full_by_bytes = true;
            }
            self.add(entry);
        }
        batch
    }
}

/// Where a batch's call goes: its records' shared route (`None`: the node's settings).
pub fn call(entries: &[Entry]) -> Option<Call> {
    entries
        .iter()
        .find(|e| e.record.is_ok())
        .and_then(|e| e.call.clone())
}

/// The message ids of a batch's valid records, in payload order (their `itemIdentifier`s).
pub fn ids(entries: &[Entry]) -> Vec<&str> {
    entries
        .iter()
        .filter(|e| e.record.is_ok())
        .map(|e| e.message.id.as_str())
        .collect()
}

/// The invocation driver's batching triggers are this batcher's.
impl Batching<Unit> for Batcher {
    fn push(&mut self, message: Message) {
        Batcher::push(self, message)
    }

    fn is_empty(&self) -> bool {
        Batcher::is_empty(self)
    }

    fn is_full(&self) -> bool {
        Batcher::is_full(self)
    }

    fn deadline(&self) -> Option<Instant> {
        Batcher::deadline(self)
    }

    fn take(&mut self) -> Unit {
        Unit::Batch(Batcher::take(self))
    }
}

/// The JSON array of a batch's valid records.
pub fn payload(entries: &[Entry]) -> Bytes {
    let mut out = Vec::with_capacity(2 + entries.len() * 64);
    out.push(b'[');
    let mut first = true;
    for entry in entries {
        if let Ok((_, text)) = &entry.record {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(text);
        }
    }
    out.push(b']');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: Value) -> LambdaConfig {
        let mut base = json!({"functionName": "f", "payloadFormat": "v2", "metadataFields": []});
        base.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn msg(n: usize) -> Message {
        Message::new(format!("{{\"n\":{n}}}"))
    }

    #[test]
    fn count_trigger_fills_at_max_records() {
        let mut b = Batcher::new(&config(json!({"batch": {"maxRecords": 3}})));
        for n in 0..3 {
            assert!(!b.is_full());
            b.push(msg(n));
        }
        assert!(b.is_full());
        let batch = b.take();
        assert_eq!(batch.len(), 3);
        assert_eq!(
            serde_json::from_slice::<Value>(&payload(&batch)).unwrap(),
            json!([{"value": {"n": 0}}, {"value": {"n": 1}}, {"value": {"n": 2}}])
        );
        assert!(b.is_empty() && !b.is_full());
    }

    #[test]
    fn byte_trigger_holds_back_the_record_that_does_not_fit() {
        // Each record {"value":{"n":N}} is 17 bytes: [r] = 19, [r,r] = 37.
        let mut b = Batcher::new(&config(
            json!({"batch": {"maxRecords": 100, "maxBytes": 40}}),
        ));
        b.push(msg(1));
        b.push(msg(2));
        assert!(!b.is_full());
        b.push(msg(3));
        assert!(b.is_full(), "the third record would make 55 bytes");
        let first = b.take();
        assert_eq!(first.len(), 2);
        assert!(payload(&first).len() <= 40);
        assert!(!b.is_empty(), "the held-back record starts the next batch");
        let second = b.take();
        assert_eq!(second[0].message.body_text(), Some("{\"n\":3}"));
    }

    #[test]
    fn request_limit_caps_max_bytes_and_too_big_records_fail_alone() {
        let c = config(json!({
            "batch": {"maxBytes": 10_000_000},
            "requestSizeLimits": {"sync": 40}
        }));
        let mut b = Batcher::new(&c);
        b.push(msg(1));
        b.push(msg(2));
        b.push(msg(3));
        assert_eq!(b.take().len(), 2, "split at the 40-byte request limit");
        let mut b = Batcher::new(&c);
        b.push(Message::new(format!("\"{}\"", "x".repeat(100))));
        let batch = b.take();
        let f = batch[0].record.as_ref().unwrap_err();
        assert_eq!(f.code, "RequestTooLarge");
        assert_eq!(&payload(&batch)[..], b"[]");
    }

    #[test]
    fn a_record_over_max_bytes_but_under_the_limit_goes_alone() {
        let mut b = Batcher::new(&config(json!({"batch": {"maxBytes": 10}})));
        b.push(msg(1));
        assert!(b.is_full());
        assert_eq!(b.take().len(), 1);
    }

    #[test]
    fn invalid_messages_stay_in_order_but_out_of_the_payload() {
        let mut b = Batcher::new(&config(json!({})));
        b.push(msg(1));
        b.push(Message::new("not json"));
        b.push(msg(2));
        let batch = b.take();
        assert_eq!(batch.len(), 3);
        assert!(batch[1].record.is_err());
        assert_eq!(
            serde_json::from_slice::<Value>(&payload(&batch)).unwrap(),
            json!([{"value": {"n": 1}}, {"value": {"n": 2}}])
        );
    }

    #[test]
    fn a_record_routed_elsewhere_starts_the_next_batch() {
        let mut b = Batcher::new(&config(json!({"allowOverrides": true})));
        let to = |n: usize, f: &str| msg(n).with_property("lambda.functionName", f);
        b.push(msg(0));
        b.push(msg(1));
        assert!(!b.is_full());
        b.push(to(2, "other"));
        assert!(b.is_full(), "the route changed");
        let first = b.take();
        assert_eq!(first.len(), 2);
        assert_eq!(call(&first), None, "the node's function");
        b.push(to(3, "other"));
        b.push(Message::new("not json").with_property("lambda.functionName", "third"));
        assert!(!b.is_full(), "a refused record joins any batch");
        let second = b.take();
        assert_eq!(second.len(), 3);
        let target = call(&second).unwrap().route.target.unwrap();
        assert_eq!(target.function_name, "other");
        let mut bad = Batcher::new(&config(json!({"allowOverrides": true})));
        bad.push(msg(0).with_property("lambda.qualifier", "not a qualifier"));
        let refused = bad.take();
        assert_eq!(
            refused[0].record.as_ref().unwrap_err().code,
            "InvalidOverride"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_is_set_by_the_first_message() {
        let mut b = Batcher::new(&config(json!({"batch": {"maxWaitMs": 250}})));
        assert!(b.deadline().is_none());
        let first = Instant::now();
        b.push(msg(1));
        let deadline = b.deadline().unwrap();
        assert_eq!(deadline, first + Duration::from_millis(250));
        tokio::time::advance(Duration::from_millis(100)).await;
        b.push(msg(2));
        assert_eq!(
            b.deadline(),
            Some(deadline),
            "later messages do not move it"
        );
        b.take();
        assert!(b.deadline().is_none());
    }
}
