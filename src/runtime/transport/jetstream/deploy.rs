//! Deployed flows and the workers running them, in JetStream key-value buckets: every worker
//! runs the flow revision in `lf_flows`, and reports what it runs to `lf_workers`.

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use futures::StreamExt;
use serde_json::Value;

use super::TransportError;

/// The bucket of deployed flows: key = flow id, value = the flow file (JSON).
pub const FLOWS: &str = "lf_flows";
/// The bucket of worker reports: key = `<flow>.<worker>`, value = the worker's status (JSON).
pub const WORKERS: &str = "lf_workers";

fn kv_error(bucket: &str) -> impl Fn(String) -> TransportError + '_ {
    move |reason| TransportError::KeyValue {
        bucket: bucket.into(),
        reason,
    }
}

async fn open(
    js: &jetstream::Context,
    bucket: &str,
    history: i64,
    max_age: Duration,
) -> Result<kv::Store, TransportError> {
    match js.get_key_value(bucket).await {
        Ok(store) => Ok(store),
        Err(_) => js
            .create_key_value(kv::Config {
                bucket: bucket.into(),
                history,
                max_age,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| kv_error(bucket)(e.to_string())),
    }
}

/// The deployed flows.
#[derive(Clone)]
pub struct Deployments {
    store: kv::Store,
}

impl std::fmt::Debug for Deployments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployments").finish_non_exhaustive()
    }
}

impl Deployments {
    /// Opens the bucket, creating it when missing (five revisions of each flow are kept).
    pub async fn open(js: &jetstream::Context) -> Result<Self, TransportError> {
        Ok(Deployments {
            store: open(js, FLOWS, 5, Duration::ZERO).await?,
        })
    }

    /// Deploys `flow` (its file's JSON); returns the deployment's revision.
    pub async fn deploy(&self, id: &str, flow: &Value) -> Result<u64, TransportError> {
        self.store
            .put(id, flow.to_string().into())
            .await
            .map_err(|e| kv_error(FLOWS)(e.to_string()))
    }

    /// The deployed revision of flow `id`: `(revision, flow JSON)`.
    pub async fn get(&self, id: &str) -> Result<Option<(u64, Value)>, TransportError> {
        let entry = self
            .store
            .entry(id)
            .await
            .map_err(|e| kv_error(FLOWS)(e.to_string()))?;
        Ok(entry
            .filter(|e| e.operation == kv::Operation::Put)
            .and_then(|e| {
                serde_json::from_slice(&e.value)
                    .ok()
                    .map(|v| (e.revision, v))
            }))
    }

    /// Waits for a deployment of flow `id` newer than `after` and returns it.
    pub async fn next_after(&self, id: &str, after: u64) -> Result<(u64, Value), TransportError> {
        let mut watch = self
            .store
            .watch_with_history(id)
            .await
            .map_err(|e| kv_error(FLOWS)(e.to_string()))?;
        while let Some(entry) = watch.next().await {
            let entry = entry.map_err(|e| kv_error(FLOWS)(e.to_string()))?;
            if entry.revision > after
                && entry.operation == kv::Operation::Put
                && let Ok(flow) = serde_json::from_slice(&entry.value)
            {
                return Ok((entry.revision, flow));
            }
        }
        Err(kv_error(FLOWS)("the watch ended".into()))
    }
}

/// What the workers of flows report about themselves.
#[derive(Clone)]
pub struct WorkerReports {
    store: kv::Store,
}

impl std::fmt::Debug for WorkerReports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerReports").finish_non_exhaustive()
    }
}

impl WorkerReports {
    /// Opens the bucket, creating it when missing; a report not refreshed within `ttl`
    /// expires (its worker is gone).
    pub async fn open(js: &jetstream::Context, ttl: Duration) -> Result<Self, TransportError> {
        Ok(WorkerReports {
            store: open(js, WORKERS, 1, ttl).await?,
        })
    }

    /// Publishes `worker`'s report for `flow`.
    pub async fn report(
        &self,
        flow: &str,
        worker: &str,
        status: &Value,
    ) -> Result<(), TransportError> {
        self.store
            .put(format!("{flow}.{worker}"), status.to_string().into())
            .await
            .map(|_| ())
            .map_err(|e| kv_error(WORKERS)(e.to_string()))
    }

    /// Removes `worker`'s report (a worker stopping cleanly).
    pub async fn withdraw(&self, flow: &str, worker: &str) {
        let _ = self.store.delete(format!("{flow}.{worker}")).await;
    }

    /// The live reports for `flow`: `(worker, status)`, sorted by worker.
    pub async fn of_flow(&self, flow: &str) -> Result<Vec<(String, Value)>, TransportError> {
        let prefix = format!("{flow}.");
        let mut keys = self
            .store
            .keys()
            .await
            .map_err(|e| kv_error(WORKERS)(e.to_string()))?;
        let mut reports = Vec::new();
        while let Some(key) = keys.next().await {
            let key = key.map_err(|e| kv_error(WORKERS)(e.to_string()))?;
            let Some(worker) = key.strip_prefix(&prefix) else {
                continue;
            };
            let value = self
                .store
                .get(&key)
                .await
                .map_err(|e| kv_error(WORKERS)(e.to_string()))?;
            if let Some(status) = value.and_then(|v| serde_json::from_slice(&v).ok()) {
                reports.push((worker.to_owned(), status));
            }
        }
        reports.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(reports)
    }
}
