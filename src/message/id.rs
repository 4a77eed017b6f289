//! Message ids: a 16-byte UUIDv7 drawn from a userspace generator, formatted only when written
//! out (JSON, logs, records); ids read from JSON that are not canonical UUIDs are kept as text.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use uuid::Uuid;
use uuid::fmt::Hyphenated;
use uuid::timestamp::Timestamp;
use uuid::timestamp::context::ContextV7;

/// Keeps the ids drawn in the same millisecond increasing (a counter below the time), so ids
/// sort by creation time as `Uuid::now_v7` does; the random bits come from `rand`'s thread-local
/// generator (uuid's `fast-rng`), not from a system call per id.
static CONTEXT: Mutex<ContextV7> = Mutex::new(ContextV7::new());

/// A message id. Cloning copies 16 bytes (or bumps a reference count for a text id); the text
/// form of a UUID is built on first use by [`MessageId::as_str`] and kept (shared by clones).
/// Kept small: a message is moved several times per hop.
#[derive(Clone)]
pub struct MessageId(Repr);

#[derive(Clone)]
enum Repr {
    Uuid {
        uuid: Uuid,
        text: OnceLock<Arc<str>>,
    },
    Text(Arc<str>),
}

impl MessageId {
    /// A fresh UUIDv7 id and the time it was drawn at (one clock read for both).
    pub fn new_with_time() -> (MessageId, DateTime<Utc>) {
        let now = Utc::now();
        let secs = now.timestamp().max(0) as u64;
        let ts = Timestamp::from_unix(&CONTEXT, secs, now.timestamp_subsec_nanos());
        (MessageId::from_uuid(Uuid::new_v7(ts)), now)
    }

    /// A fresh UUIDv7 id.
    pub fn new() -> MessageId {
        Self::new_with_time().0
    }

    /// The same id for the same `(scope, sequence)` in every process: a UUIDv8 whose bits come
    /// from a fixed-key hash. A source that may be restarted elsewhere (a Feeder on JetStream
    /// edges taken over by another worker) numbers its sends this way, so a re-sent message is
    /// recognised as a duplicate by the stream.
    pub fn stable(scope: &str, sequence: u64) -> MessageId {
        let half = |salt: u8| {
            let mut h = std::hash::DefaultHasher::new();
            (salt, scope, sequence).hash(&mut h);
            h.finish()
        };
        let bits = (u128::from(half(1)) << 64) | u128::from(half(2));
        MessageId::from_uuid(uuid::Builder::from_custom_bytes(bits.to_be_bytes()).into_uuid())
    }

    fn from_uuid(uuid: Uuid) -> MessageId {
        MessageId(Repr::Uuid {
            uuid,
            text: OnceLock::new(),
        })
    }

    /// An id read from JSON: a canonical (lower-case, hyphenated) UUID is kept as 16 bytes,
    /// anything else as the text given.
    pub fn from_text(text: &str) -> MessageId {
        if text.len() == Hyphenated::LENGTH
            && let Ok(uuid) = Uuid::try_parse(text)
            && uuid.hyphenated().encode_lower(&mut [0; Hyphenated::LENGTH]) == text
        {
            return MessageId::from_uuid(uuid);
        }
        MessageId(Repr::Text(Arc::from(text)))
    }

    /// The id as text (a UUID is formatted once, on first call).
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Uuid { uuid, text } => text.get_or_init(|| {
                Arc::from(&*uuid.hyphenated().encode_lower(&mut [0; Hyphenated::LENGTH]))
            }),
            Repr::Text(text) => text,
        }
    }

    /// Whether the id is empty (never, for an id the engine made).
    pub fn is_empty(&self) -> bool {
        matches!(&self.0, Repr::Text(t) if t.is_empty())
    }

    /// Calls `f` with the text form, formatting a UUID on the stack (nothing is kept).
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match &self.0 {
            Repr::Uuid { uuid, text } => match text.get() {
                Some(cached) => f(cached),
                None => f(uuid.hyphenated().encode_lower(&mut [0; Hyphenated::LENGTH])),
            },
            Repr::Text(text) => f(text),
        }
    }
}

impl Default for MessageId {
    fn default() -> Self {
        MessageId::new()
    }
}

impl PartialEq for MessageId {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Uuid { uuid: a, .. }, Repr::Uuid { uuid: b, .. }) => a == b,
            (Repr::Text(a), Repr::Text(b)) => a == b,
            // A text id is never a canonical UUID (those are read as UUIDs).
            _ => false,
        }
    }
}

impl Eq for MessageId {}

impl Hash for MessageId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Repr::Uuid { uuid, .. } => uuid.hash(state),
            Repr::Text(text) => text.hash(state),
        }
    }
}

impl PartialEq<str> for MessageId {
    fn eq(&self, other: &str) -> bool {
        self.with_text(|t| t == other)
    }
}

impl PartialEq<&str> for MessageId {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_text(|t| f.write_str(t))
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_text(|t| fmt::Debug::fmt(t, f))
    }
}

impl Serialize for MessageId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_text(|t| serializer.serialize_str(t))
    }
}

impl From<MessageId> for String {
    fn from(id: MessageId) -> String {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_are_distinct_and_increase() {
        let ids: Vec<MessageId> = (0..1000).map(|_| MessageId::new()).collect();
        for pair in ids.windows(2) {
            assert!(pair[0].as_str() < pair[1].as_str(), "{pair:?}");
        }
    }

    #[test]
    fn a_message_stays_small_enough_to_move_cheaply() {
        assert!(std::mem::size_of::<MessageId>() <= 48);
        assert!(std::mem::size_of::<crate::message::Message>() <= 128);
    }

    #[test]
    fn canonical_uuid_text_round_trips_and_other_text_is_kept() {
        let id = MessageId::new();
        let text = id.to_string();
        let back = MessageId::from_text(&text);
        assert_eq!(back, id);
        assert_eq!(back.as_str(), text);
        let upper = MessageId::from_text(&text.to_uppercase());
        assert_eq!(upper.as_str(), text.to_uppercase());
        assert_ne!(upper, id);
        let custom = MessageId::from_text("order-42");
        assert_eq!(custom.as_str(), "order-42");
        assert_eq!(serde_json::to_value(&custom).unwrap(), "order-42");
        assert_eq!(format!("{custom:?}"), "\"order-42\"");
    }
}
