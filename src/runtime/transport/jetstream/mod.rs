//! NATS JetStream as an edge transport (design §10): one work-queue stream per flow, one
//! subject and one durable pull consumer per edge — per partition when the edge is keyed —
//! shared by every worker that runs the flow, so the workers split an edge's messages between
//! them (NiFi's "round robin" and "partition by attribute" load balancing on a real broker).
//!
//! Names, for flow `f` and edge `e`:
//!
//! | what | name |
//! |---|---|
//! | stream (work queue, file storage, `discard: new`) | `LF_f`, subjects `lf.f.>` |
//! | edge subject | `lf.f.e`, or `lf.f.e.p<k>` for partition `k` of a keyed edge |
//! | durable consumer | `e`, or `e-p<k>` |
//! | dead letters (limits retention, kept for inspection) | stream `LF_f_DLQ`, subject `lfdlq.f.e` |
//!
//! [`edge`] publishes and consumes; [`lease`] keeps sources singletons; [`deploy`] keeps the
//! deployed flows in a key-value bucket.

pub mod bind;
pub mod deploy;
pub mod edge;
pub mod error;
pub mod lease;

use std::time::Duration;

use async_nats::jetstream::{self, stream};

pub use bind::{Acks, Binding, LeasedSource};
pub use edge::{Delivery, EdgeConsumer, EdgeRef, partition_of};
pub use error::TransportError;
pub use lease::Lease;

/// How the stream and consumers of a flow are set up.
#[derive(Debug, Clone)]
pub struct BusOptions {
    /// Messages the flow's stream holds at most; past it, publishers are pushed back
    /// (`discard: new`), never dropped.
    pub max_messages: i64,
    /// The window within which a re-published message (same `Nats-Msg-Id`) is dropped as a
    /// duplicate.
    pub duplicate_window: Duration,
    /// How long a delivered message may stay unacknowledged before it is delivered again
    /// (workers report progress on long work, so this bounds only a dead worker's hold).
    pub ack_wait: Duration,
    /// Deliveries after which a message counts as poison and goes to the dead letters.
    pub poison_after: i64,
    /// Partitions of a keyed edge.
    pub partitions: u32,
}

impl Default for BusOptions {
    fn default() -> Self {
        BusOptions {
            max_messages: 100_000,
            duplicate_window: Duration::from_secs(120),
            ack_wait: Duration::from_secs(30),
            poison_after: 5,
            partitions: 8,
        }
    }
}

/// A flow's connection to JetStream: its stream and dead-letter stream, ready to bind edges.
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    js: jetstream::Context,
    flow: String,
    stream: stream::Stream,
    options: BusOptions,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

/// Connects to the NATS server at `url`.
pub async fn connect(url: &str) -> Result<async_nats::Client, TransportError> {
    async_nats::ConnectOptions::new()
        .name("lambdaflow")
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connect(url)
        .await
        .map_err(|e| TransportError::Connect {
            url: redact_url(url),
            reason: e.to_string(),
        })
}

/// `url` without user info (a NATS URL may carry a user and password).
fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://{host}"),
            None => url.to_owned(),
        },
        None => url.rsplit_once('@').map_or(url, |(_, h)| h).to_owned(),
    }
}

impl Bus {
    /// Opens (creating when missing) the streams of `flow` on `client`'s server.
    pub async fn open(
        client: async_nats::Client,
        flow: &str,
        options: BusOptions,
    ) -> Result<Bus, TransportError> {
        let js = jetstream::new(client.clone());
        let name = stream_name(flow);
        let stream = js
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![format!("lf.{flow}.>")],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                discard: stream::DiscardPolicy::New,
                max_messages: options.max_messages,
                duplicate_window: options.duplicate_window,
                ..Default::default()
            })
            .await
            .map_err(|e| TransportError::Provision {
                what: format!("stream {name}"),
                reason: e.to_string(),
            })?;
        let dlq = format!("{name}_DLQ");
        js.get_or_create_stream(stream::Config {
            name: dlq.clone(),
            subjects: vec![format!("lfdlq.{flow}.>")],
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| TransportError::Provision {
            what: format!("stream {dlq}"),
            reason: e.to_string(),
        })?;
        Ok(Bus {
            client,
            js,
            flow: flow.to_owned(),
            stream,
            options,
        })
    }

    /// The flow this bus carries.
    pub fn flow(&self) -> &str {
        &self.flow
    }

    /// The options the bus was opened with.
    pub fn options(&self) -> &BusOptions {
        &self.options
    }

    /// The JetStream context (for key-value buckets).
    pub fn context(&self) -> &jetstream::Context {
        &self.js
    }

    /// The NATS client.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Messages waiting in the flow's stream (published, not yet acknowledged).
    pub async fn pending(&self) -> Result<u64, TransportError> {
        let mut stream = self.stream.clone();
        stream
            .info()
            .await
            .map(|info| info.state.messages)
            .map_err(|e| TransportError::Provision {
                what: format!("stream {}", stream_name(&self.flow)),
                reason: e.to_string(),
            })
    }

    /// The subject of `edge` (of its partition `partition` when keyed).
    pub fn subject(&self, edge: &str, partition: Option<u32>) -> String {
        match partition {
            Some(k) => format!("lf.{}.{edge}.p{k}", self.flow),
            None => format!("lf.{}.{edge}", self.flow),
        }
    }

    /// The dead-letter subject of `edge`.
    pub fn dead_letter_subject(&self, edge: &str) -> String {
        format!("lfdlq.{}.{edge}", self.flow)
    }
}

/// The stream that carries flow `flow`'s edges.
pub fn stream_name(flow: &str) -> String {
    format!("LF_{flow}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(redact_url("nats://u:p@host:4222"), "nats://host:4222");
        assert_eq!(redact_url("nats://host:4222"), "nats://host:4222");
        assert_eq!(redact_url("u:p@host"), "host");
    }
}
