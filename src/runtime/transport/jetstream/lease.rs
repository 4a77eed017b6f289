//! Sources are singletons: a source node runs in one worker of a flow at a time, the one that
//! holds its lease — a key in a JetStream key-value bucket whose entries expire when they are
//! not renewed, so a lease held by a dead worker frees itself and another worker takes over.

use std::time::Duration;

use async_nats::jetstream::{self, kv};

use super::TransportError;

/// The bucket holding the leases.
pub const BUCKET: &str = "lf_leases";

/// A lease this worker holds on one source node.
#[derive(Debug)]
pub struct Lease {
    store: kv::Store,
    key: String,
    holder: String,
    revision: u64,
}

/// The lease bucket, created when missing. Entries expire `ttl` after their last renewal.
pub async fn bucket(js: &jetstream::Context, ttl: Duration) -> Result<kv::Store, TransportError> {
    let failed = |e: String| TransportError::KeyValue {
        bucket: BUCKET.into(),
        reason: e,
    };
    match js.get_key_value(BUCKET).await {
        Ok(store) => Ok(store),
        Err(_) => js
            .create_key_value(kv::Config {
                bucket: BUCKET.into(),
                history: 1,
                max_age: ttl,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| failed(e.to_string())),
    }
}

/// The key of `node`'s lease in `flow`.
pub fn key(flow: &str, node: &str) -> String {
    format!("{flow}.{node}")
}

impl Lease {
    /// Takes the lease of `flow`'s node `node` for `holder` (a worker id) when nobody holds it:
    /// `Ok(None)` when another worker does.
    pub async fn try_acquire(
        store: &kv::Store,
        flow: &str,
        node: &str,
        holder: &str,
    ) -> Result<Option<Lease>, TransportError> {
        let key = key(flow, node);
        match store.create(&key, holder.to_owned().into()).await {
            Ok(revision) => Ok(Some(Lease {
                store: store.clone(),
                key,
                holder: holder.to_owned(),
                revision,
            })),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(TransportError::KeyValue {
                bucket: BUCKET.into(),
                reason: e.to_string(),
            }),
        }
    }

    /// Waits until this worker holds the lease, trying every `every`.
    pub async fn acquire(
        store: &kv::Store,
        flow: &str,
        node: &str,
        holder: &str,
        every: Duration,
    ) -> Result<Lease, TransportError> {
        loop {
            if let Some(lease) = Self::try_acquire(store, flow, node, holder).await? {
                return Ok(lease);
            }
            tokio::time::sleep(every).await;
        }
    }

    /// Who holds `flow`'s node `node` now, if anyone.
    pub async fn holder(
        store: &kv::Store,
        flow: &str,
        node: &str,
    ) -> Result<Option<String>, TransportError> {
        store
            .get(key(flow, node))
            .await
            .map(|v| v.map(|b| String::from_utf8_lossy(&b).into_owned()))
            .map_err(|e| TransportError::KeyValue {
                bucket: BUCKET.into(),
                reason: e.to_string(),
            })
    }

    /// Renews the lease (call it well within the bucket's time to live). An error means the
    /// lease is lost — it expired and another worker took it — and the source must stop.
    pub async fn renew(&mut self) -> Result<(), TransportError> {
        let revision = self
            .store
            .update(&self.key, self.holder.clone().into(), self.revision)
            .await
            .map_err(|e| TransportError::KeyValue {
                bucket: BUCKET.into(),
                reason: e.to_string(),
            })?;
        self.revision = revision;
        Ok(())
    }

    /// Gives the lease up at once (a worker stopping cleanly), so another takes over without
    /// waiting for it to expire.
    pub async fn release(self) {
        let _ = self
            .store
            .delete_expect_revision(&self.key, Some(self.revision))
            .await;
    }
}
