//! One process of a flow that runs on JetStream edges (`lambdaflow worker` and
//! `lambdaflow run --nats`): joins the flow's streams, runs every node with its JetStream edges
//! bound (sources only while holding their lease), reports its counters to the workers bucket,
//! and tells when the flow is drained.

use std::time::Duration;

use crate::runtime::transport::jetstream::deploy::WorkerReports;
use crate::runtime::transport::jetstream::{
    Binding, Bus, BusOptions, TransportError, connect, lease,
};
use crate::runtime::{
    FlowHandle, FlowState, NodeState, Plan, RunOptions, RuntimeError, start_bound,
};

/// How a worker joins a flow.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The NATS server.
    pub nats: String,
    /// This worker's id (lease holder, worker reports).
    pub worker: String,
    /// How long a delivery may stay unacknowledged before it goes to another worker (a dead
    /// worker's messages move after this).
    pub ack_wait: Duration,
    /// How long a source lease lasts unrenewed (a dead worker's sources move after this).
    pub lease_ttl: Duration,
    /// Which version of the flow runs (a deploy revision, or a hash of the flow file): a
    /// headless source that ran to its end is not run again by workers of the same version.
    pub generation: String,
}

impl WorkerOptions {
    /// Defaults: 30 s acknowledgement wait, 10 s lease, a worker id from host and process.
    pub fn new(nats: impl Into<String>) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
        WorkerOptions {
            nats: nats.into(),
            worker: format!("{host}-{}", std::process::id()),
            ack_wait: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(10),
            generation: String::new(),
        }
    }
}

/// Why a worker could not join its flow.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The broker side failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The flow could not start.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// A running worker of one flow.
pub struct Worker {
    /// The running flow.
    pub handle: FlowHandle,
    binding: Binding,
    reports: WorkerReports,
    sources: Vec<String>,
}

/// Joins `plan`'s flow as one worker and starts it. Must be called inside a tokio runtime.
pub async fn join(
    plan: &Plan,
    run: RunOptions,
    options: &WorkerOptions,
) -> Result<Worker, WorkerError> {
    let client = connect(&options.nats).await?;
    let bus = Bus::open(
        client,
        plan.flow.as_str(),
        BusOptions {
            ack_wait: options.ack_wait,
            ..BusOptions::default()
        },
    )
    .await?;
    let leases = lease::bucket(bus.context(), options.lease_ttl).await?;
    let reports = WorkerReports::open(bus.context(), options.lease_ttl * 3).await?;
    let binding = Binding {
        bus,
        leases,
        worker: options.worker.clone(),
        lease_ttl: options.lease_ttl,
        generation: options.generation.clone(),
    };
    let handle = start_bound(plan, run, Some(binding.clone()))?;
    tracing::info!(flow = %plan.flow, worker = %options.worker, "Worker joined the flow.");
    let sources = plan
        .nodes
        .iter()
        .filter(|n| n.descriptor.inputs.is_empty())
        .map(|n| n.id.to_string())
        .collect();
    Ok(Worker {
        handle,
        binding,
        reports,
        sources,
    })
}

/// How often a worker reports and checks whether its flow is drained.
const TICK: Duration = Duration::from_millis(250);

impl Worker {
    /// Publishes this worker's node counters to the workers bucket (what `serve --nats`
    /// shows).
    pub async fn report(&self) {
        let status = self.handle.status();
        let report = serde_json::json!({
            "worker": self.binding.worker,
            "running": status.state == FlowState::Running,
            "nodes": status.nodes,
        });
        if let Err(e) = self
            .reports
            .report(self.binding.bus.flow(), &self.binding.worker, &report)
            .await
        {
            tracing::debug!(error = %e, "Worker report not published.");
        }
    }

    /// Reports every tick until `until` completes.
    pub async fn report_until<F: std::future::Future>(&self, until: F) -> F::Output {
        tokio::pin!(until);
        loop {
            tokio::select! {
                out = &mut until => return out,
                _ = tokio::time::sleep(TICK) => self.report().await,
            }
        }
    }

    /// Waits until the flow is drained: this worker's sources have ended (they sent what they
    /// were configured to send, here or in another worker), the flow's stream holds nothing
    /// unacknowledged, and no node of this worker moved, over two checks in a row.
    pub async fn drained(&self) {
        let mut quiet = 0;
        let mut last = None;
        loop {
            tokio::time::sleep(TICK).await;
            let status = self.handle.status();
            let sources_done = self.sources.iter().all(|s| {
                status
                    .nodes
                    .get(s)
                    .is_some_and(|n| n.state == NodeState::Stopped)
            });
            let counters: Vec<(u64, u64, u64)> = status
                .nodes
                .values()
                .map(|n| (n.received, n.emitted, n.errors))
                .collect();
            let pending = self.binding.bus.pending().await.unwrap_or(u64::MAX);
            let still = last.as_ref() == Some(&counters);
            last = Some(counters);
            quiet = if sources_done && pending == 0 && still {
                quiet + 1
            } else {
                0
            };
            if quiet >= 2 {
                return;
            }
        }
    }

    /// Stops taking work, finishes and acknowledges what is in flight (up to `drain`), and
    /// withdraws this worker's report.
    pub async fn stop(&self, drain: Duration) -> crate::runtime::RunReport {
        let report = self.handle.stop(drain).await;
        self.reports
            .withdraw(self.binding.bus.flow(), &self.binding.worker)
            .await;
        report
    }
}

/// Why following a deployed flow stopped.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// Joining or watching failed.
    #[error(transparent)]
    Worker(#[from] WorkerError),
    /// A deployed revision is not a valid flow.
    #[error("flow {flow} revision {revision} is invalid: {problems}")]
    Invalid {
        /// The flow id.
        flow: String,
        /// The bucket revision.
        revision: u64,
        /// Every problem, with its node or edge id and pointer.
        problems: String,
    },
}

/// Runs the revision of flow `id` deployed in the `lf_flows` bucket (waiting for the first
/// deploy), and restarts with each newer revision (the old run drains first), until `stop`
/// completes.
pub async fn follow(
    id: &str,
    run: RunOptions,
    options: &WorkerOptions,
    drain: Duration,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), FollowError> {
    use crate::runtime::transport::jetstream::deploy::Deployments;
    let client = connect(&options.nats).await.map_err(WorkerError::from)?;
    let deployments = Deployments::open(&async_nats::jetstream::new(client))
        .await
        .map_err(WorkerError::from)?;
    tokio::pin!(stop);
    let mut current = match deployments.get(id).await.map_err(WorkerError::from)? {
        Some(deployed) => deployed,
        None => {
            tracing::info!(flow = %id, "Waiting for the flow's first deploy.");
            tokio::select! {
                next = deployments.next_after(id, 0) => next.map_err(WorkerError::from)?,
                _ = &mut stop => return Ok(()),
            }
        }
    };
    loop {
        let (revision, document) = current;
        let registry = crate::components::registry();
        let plan = registry
            .plan_value(&document)
            .map_err(|d| FollowError::Invalid {
                flow: id.to_owned(),
                revision,
                problems: d
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            })?;
        let options = WorkerOptions {
            generation: revision.to_string(),
            ..options.clone()
        };
        let worker = join(&plan, run.clone(), &options).await?;
        tracing::info!(flow = %id, revision, "Running the deployed revision.");
        let next = worker
            .report_until(async {
                tokio::select! {
                    next = deployments.next_after(id, revision) => Some(next),
                    _ = &mut stop => None,
                }
            })
            .await;
        worker.stop(drain).await;
        match next {
            Some(next) => {
                current = next.map_err(WorkerError::from)?;
                tracing::info!(flow = %id, revision = current.0, "New deploy: restarting with it.");
            }
            None => return Ok(()),
        }
    }
}
