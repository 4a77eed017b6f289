//! Publishing to and consuming from a JetStream edge: deduplicated publishes that wait while
//! the stream is full, and deliveries that the node acknowledges only once it is done with them.

use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, pull};
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::{Acker, PublishMessage};
use futures::stream::{BoxStream, SelectAll, StreamExt};
use serde_json::{Value, json};

use super::{Bus, TransportError};
use crate::message::{Message, format_time};

/// How long a publisher pushed back by a full stream waits before trying again, at most.
const MAX_PUSHBACK: Duration = Duration::from_millis(500);

/// One JetStream edge as the bus sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeRef {
    /// Edge id (unique in the flow).
    pub id: String,
    /// The message property whose value picks the partition; `None`: one subject.
    pub partition_key: Option<String>,
}

/// The partition of `message` on an edge keyed by property `key`, out of `partitions`: a stable
/// hash (FNV-1a) of the property's JSON text, so every worker picks the same one. A message
/// without the property goes to partition 0.
pub fn partition_of(message: &Message, key: &str, partitions: u32) -> u32 {
    let Some(value) = message.properties.get(key) else {
        return 0;
    };
    let text = value.to_string();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % u64::from(partitions.max(1))) as u32
}

/// A message delivered from an edge, to be acknowledged when the node is done with it.
pub struct Delivery {
    /// The message.
    pub message: Message,
    /// How many times JetStream has delivered it (1 the first time).
    pub delivered: i64,
    edge: String,
    acker: Acker,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("edge", &self.edge)
            .field("delivered", &self.delivered)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    async fn reply(&self, kind: AckKind) -> Result<(), TransportError> {
        self.acker
            .ack_with(kind)
            .await
            .map_err(|e| TransportError::Ack {
                edge: self.edge.clone(),
                reason: e.to_string(),
            })
    }

    /// Done: JetStream removes the message from the edge.
    pub async fn ack(&self) -> Result<(), TransportError> {
        self.reply(AckKind::Ack).await
    }

    /// Not done here: deliver it again after `delay` (to this or another worker).
    pub async fn nak(&self, delay: Option<Duration>) -> Result<(), TransportError> {
        self.reply(AckKind::Nak(delay)).await
    }

    /// Still working on it: restart the acknowledgement timer.
    pub async fn progress(&self) -> Result<(), TransportError> {
        self.reply(AckKind::Progress).await
    }
}

/// The deliveries of one edge (of all its partitions when keyed) for this worker.
pub struct EdgeConsumer {
    bus: Bus,
    edge: EdgeRef,
    messages: SelectAll<BoxStream<'static, Result<async_nats::jetstream::Message, String>>>,
}

impl std::fmt::Debug for EdgeConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeConsumer")
            .field("edge", &self.edge)
            .finish_non_exhaustive()
    }
}

impl EdgeConsumer {
    /// The next delivery. Poison — a message that is not a lambdaflow message, or that was
    /// delivered more often than the bus allows (it keeps killing or stalling its workers) — is
    /// moved to the dead letters with a record and never handed out. `None` when the
    /// connection is closed for good.
    pub async fn next(&mut self) -> Option<Result<Delivery, TransportError>> {
        loop {
            let raw = match self.messages.next().await? {
                Ok(raw) => raw,
                Err(reason) => {
                    return Some(Err(TransportError::Provision {
                        what: format!("consumer of edge {}", self.edge.id),
                        reason,
                    }));
                }
            };
            let delivered = raw.info().map(|i| i.delivered).unwrap_or(1);
            let (raw, acker) = raw.split();
            let reason = match serde_json::from_slice::<Message>(&raw.payload) {
                Ok(message) if delivered <= self.bus.options.poison_after => {
                    return Some(Ok(Delivery {
                        message,
                        delivered,
                        edge: self.edge.id.clone(),
                        acker,
                    }));
                }
                Ok(_) => format!("delivered {delivered} times without being acknowledged"),
                // Where, not what: the payload may hold anything, and it is kept in the record.
                Err(e) => format!(
                    "not a lambdaflow message (invalid at line {}, column {})",
                    e.line(),
                    e.column()
                ),
            };
            tracing::warn!(edge = %self.edge.id, deliveries = delivered,
                "Moving a poison message to the dead letters: {reason}.");
            let record =
                dead_letter_record(&self.bus, &self.edge.id, &reason, delivered, &raw.payload);
            if let Err(e) = self.bus.dead_letter(&self.edge.id, &record).await {
                // Not acknowledged: it is delivered again and tried again.
                return Some(Err(e));
            }
            let _ = acker.ack_with(AckKind::Term).await;
        }
    }
}

/// The record kept with a dead letter: where it came from, why, and the payload as received.
fn dead_letter_record(
    bus: &Bus,
    edge: &str,
    reason: &str,
    deliveries: i64,
    payload: &[u8],
) -> Value {
    let payload = match std::str::from_utf8(payload) {
        Ok(text) => json!({"text": text}),
        Err(_) => {
            use base64::Engine as _;
            json!({"base64": base64::engine::general_purpose::STANDARD.encode(payload)})
        }
    };
    json!({
        "version": "1.0",
        "timestamp": format_time(&chrono::Utc::now()),
        "condition": "Poison",
        "flow": bus.flow,
        "edge": edge,
        "reason": reason,
        "deliveries": deliveries,
        "payload": payload,
    })
}

impl Bus {
    /// Publishes `message` on `edge` (on its partition when keyed) with `Nats-Msg-Id`
    /// `<message id>:<edge id>`, so that a re-publish within the duplicate window — a worker
    /// that produced the same output again after a redelivery — is dropped by the stream.
    /// Waits while the stream is full (`discard: new` pushes back; nothing is dropped).
    /// Returns whether the stream saw it as a duplicate.
    pub async fn publish(&self, edge: &EdgeRef, message: &Message) -> Result<bool, TransportError> {
        self.publish_as(edge, message, &format!("{}:{}", message.id, edge.id))
            .await
    }

    /// Sends `message` on `edge` under `Nats-Msg-Id` `id` without waiting for the stream's
    /// answer: the returned future resolves when the stream acknowledged it (`true`: it was a
    /// duplicate). Publishes sent one after another on the connection reach the stream in
    /// that order. A refusal (a full stream) is the future's error: publish again with
    /// [`Bus::publish_as`], which waits while the stream pushes back.
    pub async fn send_publish(
        &self,
        edge: &EdgeRef,
        message: &Message,
        id: &str,
    ) -> Result<
        impl std::future::Future<Output = Result<bool, String>> + Send + 'static,
        TransportError,
    > {
        let partition = edge
            .partition_key
            .as_deref()
            .map(|key| partition_of(message, key, self.options.partitions));
        let subject = self.subject(&edge.id, partition);
        let failed = |reason: String| TransportError::Publish {
            edge: edge.id.clone(),
            reason,
            retryable: true,
        };
        let payload = serde_json::to_vec(message).map_err(|e| failed(e.to_string()))?;
        let publish = PublishMessage::build()
            .payload(bytes::Bytes::from(payload))
            .message_id(id);
        let ack = self
            .js
            .send_publish(subject, publish)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(async move { ack.await.map(|a| a.duplicate).map_err(|e| e.to_string()) })
    }

    /// As [`Bus::publish`], under the given `Nats-Msg-Id` (the outputs of a redelivered input
    /// are published under the ids they had the first time).
    pub async fn publish_as(
        &self,
        edge: &EdgeRef,
        message: &Message,
        id: &str,
    ) -> Result<bool, TransportError> {
        let partition = edge
            .partition_key
            .as_deref()
            .map(|key| partition_of(message, key, self.options.partitions));
        let subject = self.subject(&edge.id, partition);
        let payload = bytes::Bytes::from(serde_json::to_vec(message).map_err(|e| {
            TransportError::Publish {
                edge: edge.id.clone(),
                reason: e.to_string(),
                retryable: false,
            }
        })?);
        let mut pause = Duration::from_millis(10);
        loop {
            let publish = PublishMessage::build()
                .payload(payload.clone())
                .message_id(id);
            let attempt = match self.js.send_publish(subject.clone(), publish).await {
                Ok(ack) => ack.await,
                Err(e) => Err(e),
            };
            match attempt {
                Ok(ack) => return Ok(ack.duplicate),
                Err(e) => {
                    let retryable = !matches!(
                        e.kind(),
                        PublishErrorKind::StreamNotFound | PublishErrorKind::MaxPayloadExceeded
                    );
                    if !retryable {
                        return Err(TransportError::Publish {
                            edge: edge.id.clone(),
                            reason: e.to_string(),
                            retryable,
                        });
                    }
                    tracing::debug!(edge = %edge.id, "Publish pushed back, trying again: {e}");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PUSHBACK);
                }
            }
        }
    }

    /// Binds this worker to `edge` through its durable consumer(s), which every worker of the
    /// flow shares. At most `max_ack_pending` messages of the edge are out unacknowledged at
    /// once across all workers (back-pressure: it follows the consuming node's concurrency); a
    /// keyed edge has one consumer per partition with one message out at a time, so each key's
    /// messages are handled in order whichever worker takes them.
    pub async fn consume(
        &self,
        edge: &EdgeRef,
        max_ack_pending: i64,
    ) -> Result<EdgeConsumer, TransportError> {
        let mut bindings = Vec::new();
        match &edge.partition_key {
            None => bindings.push((
                edge.id.clone(),
                self.subject(&edge.id, None),
                max_ack_pending,
            )),
            Some(_) => {
                for k in 0..self.options.partitions {
                    bindings.push((
                        format!("{}-p{k}", edge.id),
                        self.subject(&edge.id, Some(k)),
                        1,
                    ));
                }
            }
        }
        let mut messages = SelectAll::new();
        for (name, subject, pending) in bindings {
            let consumer = self
                .stream
                .get_or_create_consumer(
                    &name,
                    pull::Config {
                        durable_name: Some(name.clone()),
                        filter_subject: subject,
                        ack_policy: AckPolicy::Explicit,
                        ack_wait: self.options.ack_wait,
                        max_ack_pending: pending.max(1),
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| TransportError::Provision {
                    what: format!("consumer {name}"),
                    reason: e.to_string(),
                })?;
            let stream = consumer
                .stream()
                .max_messages_per_batch(pending.clamp(1, 256) as usize)
                .messages()
                .await
                .map_err(|e| TransportError::Provision {
                    what: format!("consumer {name}"),
                    reason: e.to_string(),
                })?;
            messages.push(stream.map(|r| r.map_err(|e| e.to_string())).boxed());
        }
        Ok(EdgeConsumer {
            bus: self.clone(),
            edge: edge.clone(),
            messages,
        })
    }

    /// Puts `record` on `edge`'s dead-letter subject.
    pub async fn dead_letter(&self, edge: &str, record: &Value) -> Result<(), TransportError> {
        let payload = bytes::Bytes::from(record.to_string());
        let failed = |e: String| TransportError::Publish {
            edge: edge.to_owned(),
            reason: e,
            retryable: true,
        };
        self.js
            .publish(self.dead_letter_subject(edge), payload)
            .await
            .map_err(|e| failed(e.to_string()))?
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_always_picks_the_same_partition_and_keys_spread() {
        let keyed = |k: &str| Message::new("x").with_property("customer", k);
        let p = partition_of(&keyed("c-1"), "customer", 8);
        assert_eq!(partition_of(&keyed("c-1"), "customer", 8), p);
        let used: std::collections::HashSet<u32> = (0..64)
            .map(|i| partition_of(&keyed(&format!("c-{i}")), "customer", 8))
            .collect();
        assert!(
            used.len() > 4,
            "64 keys over 8 partitions use most of them: {used:?}"
        );
        assert!(used.iter().all(|&k| k < 8));
        assert_eq!(partition_of(&Message::new("x"), "customer", 8), 0);
    }
}
