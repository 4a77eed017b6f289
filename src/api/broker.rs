//! `lambdaflow serve --nats`: the server's link to the flows that run on JetStream edges. Deploy
//! puts a flow with JetStream edges into the `lf_flows` bucket (workers following it restart with
//! the new revision) instead of running it in the server, and the designer reads from
//! `lf_workers` which workers run it and their counters. Connected on first use, on the engine
//! runtime.

use serde_json::Value;
use tokio::sync::OnceCell;

use crate::api::error::ApiError;
use crate::runtime::transport::jetstream::deploy::{Deployments, WorkerReports};
use crate::runtime::transport::jetstream::{TransportError, connect};

/// How long a worker report lives without refresh (workers report every quarter second).
const REPORT_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// The buckets the server uses.
#[derive(Debug, Clone)]
struct Buckets {
    deployments: Deployments,
    reports: WorkerReports,
}

/// The server's JetStream link (none without `--nats`).
#[derive(Debug, Default)]
pub struct Broker {
    url: Option<String>,
    buckets: OnceCell<Buckets>,
}

impl Broker {
    /// A link to the NATS server at `url` (`None`: flows run in the server only).
    pub fn new(url: Option<String>) -> Self {
        Broker {
            url: url.filter(|u| !u.is_empty()),
            buckets: OnceCell::new(),
        }
    }

    /// Whether the server was started with `--nats`.
    pub fn is_configured(&self) -> bool {
        self.url.is_some()
    }

    async fn buckets(&self, engine: &tokio::runtime::Handle) -> Result<&Buckets, ApiError> {
        let url = self
            .url
            .clone()
            .ok_or_else(|| ApiError::Conflict("the server was started without --nats".into()))?;
        self.buckets
            .get_or_try_init(|| async {
                let opened = engine
                    .spawn(async move {
                        let client = connect(&url).await?;
                        let js = async_nats::jetstream::new(client);
                        Ok::<_, TransportError>(Buckets {
                            deployments: Deployments::open(&js).await?,
                            reports: WorkerReports::open(&js, REPORT_TTL).await?,
                        })
                    })
                    .await
                    .map_err(|e| ApiError::Internal(format!("connecting to NATS failed: {e}")))?;
                opened.map_err(|e| ApiError::Upstream(e.to_string()))
            })
            .await
    }

    /// Deploys flow `id` (its stored file, which holds no secrets) to the workers; returns the
    /// bucket revision.
    pub async fn deploy(
        &self,
        engine: &tokio::runtime::Handle,
        id: &str,
        flow: &Value,
    ) -> Result<u64, ApiError> {
        let buckets = self.buckets(engine).await?.clone();
        let (id, flow) = (id.to_owned(), flow.clone());
        engine
            .spawn(async move { buckets.deployments.deploy(&id, &flow).await })
            .await
            .map_err(|e| ApiError::Internal(format!("deploying failed: {e}")))?
            .map_err(|e| ApiError::Upstream(e.to_string()))
    }

    /// The live reports of the workers running flow `id`.
    pub async fn workers(
        &self,
        engine: &tokio::runtime::Handle,
        id: &str,
    ) -> Result<Vec<Value>, ApiError> {
        let buckets = self.buckets(engine).await?.clone();
        let id = id.to_owned();
        let reports = engine
            .spawn(async move { buckets.reports.of_flow(&id).await })
            .await
            .map_err(|e| ApiError::Internal(format!("reading worker reports failed: {e}")))?
            .map_err(|e| ApiError::Upstream(e.to_string()))?;
        Ok(reports.into_iter().map(|(_, report)| report).collect())
    }
}
