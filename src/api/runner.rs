//! The flows the server runs: one [`FlowHandle`] per flow id (kept after a stop, so status and
//! Display messages stay visible until the next start), and one event hub per flow id that
//! outlives runs, so an event stream opened before a start sees the run.
//!
//! Flows run on the engine runtime (a multi-threaded tokio runtime of their own), not on the
//! HTTP workers, so a worker restarting or the server shutting down never kills a flow's tasks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::broadcast;

use crate::flow::Flow;
use crate::runtime::{
    self, FlowEvent, FlowHandle, FlowState, FlowStatus, RunOptions, RuntimeError,
};

/// Capacity of a flow's event hub (events per subscriber before it lags).
const HUB_CAPACITY: usize = 1024;

/// Running (and last-run) flows.
pub struct Runner {
    engine: Handle,
    flows: Mutex<HashMap<String, Arc<FlowHandle>>>,
    hubs: Mutex<HashMap<String, broadcast::Sender<FlowEvent>>>,
    /// Each flow's run counter: a run's events reach the hub only while it is the latest run, so
    /// a restarted flow's old run can never report "stopped" after the new run said "running".
    generations: Mutex<HashMap<String, Arc<Mutex<u64>>>>,
    /// The stored version (rev and document, without secrets) each run was started from.
    deployed: Mutex<HashMap<String, (String, serde_json::Value)>>,
    /// What each run's nodes run with (fingerprints, no secrets kept), for node-by-node
    /// redeploys.
    fingerprints: Mutex<HashMap<String, Fingerprint>>,
    transitions: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner whose flows run on `engine`.
    pub fn new(engine: Handle) -> Self {
        Runner {
            engine,
            flows: Mutex::new(HashMap::new()),
            hubs: Mutex::new(HashMap::new()),
            deployed: Mutex::new(HashMap::new()),
            fingerprints: Mutex::new(HashMap::new()),
            generations: Mutex::new(HashMap::new()),
            transitions: tokio::sync::Mutex::new(()),
        }
    }

    /// The runtime flows run on.
    pub fn engine(&self) -> &Handle {
        &self.engine
    }

    /// The handle of a flow's current or last run.
    pub fn handle(&self, id: &str) -> Option<Arc<FlowHandle>> {
        self.flows.lock().expect("runner lock").get(id).cloned()
    }

    /// Every flow with a current or last run.
    pub fn handles(&self) -> Vec<(String, Arc<FlowHandle>)> {
        let mut all: Vec<_> = self
            .flows
            .lock()
            .expect("runner lock")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Whether a flow is running.
    pub fn is_running(&self, id: &str) -> bool {
        self.handle(id).is_some_and(|h| h.is_running())
    }

    fn hub(&self, id: &str) -> broadcast::Sender<FlowEvent> {
        self.hubs
            .lock()
            .expect("hub lock")
            .entry(id.to_owned())
            .or_insert_with(|| broadcast::channel(HUB_CAPACITY).0)
            .clone()
    }

    /// Follows a flow's events across runs.
    pub fn subscribe(&self, id: &str) -> broadcast::Receiver<FlowEvent> {
        self.hub(id).subscribe()
    }

    /// Starts a flow (already validated, secrets merged); a running flow is left as it is.
    pub async fn start(&self, flow: &Flow) -> Result<FlowStatus, RuntimeError> {
        let _t = self.transitions.lock().await;
        if let Some(h) = self.handle(&flow.id)
            && h.is_running()
        {
            return Ok(h.status());
        }
        let plan = crate::components::registry()
            .plan(flow)
            .map_err(|d| plan_error(flow, d))?;
        let handle = {
            let _in_engine = self.engine.enter();
            runtime::start(&plan, RunOptions::interactive())?
        };
        let handle = Arc::new(handle);
        let hub = self.hub(&flow.id);
        let events = handle.subscribe();
        let current = self
            .generations
            .lock()
            .expect("generations lock")
            .entry(flow.id.clone())
            .or_default()
            .clone();
        let generation = {
            // Under the counter's lock, so no event of an older run slips in after these.
            let mut latest = current.lock().expect("generation lock");
            *latest += 1;
            // The run published its first events before we could subscribe: repeat them.
            let _ = hub.send(FlowEvent::Flow {
                flow: flow.id.clone(),
                state: FlowState::Running,
            });
            for (node, status) in handle.status().nodes {
                let _ = hub.send(FlowEvent::Status { node, status });
            }
            *latest
        };
        self.engine
            .spawn(forward(events, hub, Generation(generation, current)));
        self.flows
            .lock()
            .expect("runner lock")
            .insert(flow.id.clone(), handle.clone());
        self.fingerprints
            .lock()
            .expect("fingerprints lock")
            .insert(flow.id.clone(), Fingerprint::of(flow));
        Ok(handle.status())
    }

    /// Applies a new version of a running flow node by node when only node configs changed
    /// (same nodes, types and edges): each changed node finishes its work in flight and its new
    /// version takes over its queue; the rest runs on. Returns the redeployed node ids, or
    /// `None` when the flow's shape changed (the caller restarts the whole flow) or it does not
    /// run.
    pub async fn redeploy_nodes(&self, flow: &Flow) -> Result<Option<Vec<String>>, RuntimeError> {
        let _t = self.transitions.lock().await;
        let Some(handle) = self.handle(&flow.id).filter(|h| h.is_running()) else {
            return Ok(None);
        };
        let new = Fingerprint::of(flow);
        let changed = {
            let prints = self.fingerprints.lock().expect("fingerprints lock");
            match prints.get(&flow.id) {
                Some(old) if old.shape == new.shape => new.changed_since(old),
                _ => return Ok(None),
            }
        };
        let plan = crate::components::registry()
            .plan(flow)
            .map_err(|d| plan_error(flow, d))?;
        for id in &changed {
            let node = plan.node(id).ok_or_else(|| RuntimeError::UnknownNode {
                flow: plan.flow.clone(),
                node: id.as_str().into(),
            })?;
            let component = {
                let _in_engine = self.engine.enter();
                node.build()?
            };
            handle.redeploy_node(id, component)?;
            tracing::info!(flow = %flow.id, node = %id, "Redeploying the node with its new config.");
        }
        self.fingerprints
            .lock()
            .expect("fingerprints lock")
            .insert(flow.id.clone(), new);
        Ok(Some(changed))
    }

    /// Stops a flow, letting in-flight work drain for up to `drain`; `None` if it never ran.
    pub async fn stop(&self, id: &str, drain: Duration) -> Option<FlowStatus> {
        let _t = self.transitions.lock().await;
        let handle = self.handle(id)?;
        if handle.is_running() {
            let report = handle.stop(drain).await;
            for problem in report.problems() {
                tracing::warn!(flow = %id, "{problem}");
            }
        }
        Some(handle.status())
    }

    /// Records the stored version (rev, document without secrets) a run was started from.
    pub fn note_deployed(&self, id: &str, rev: &str, document: serde_json::Value) {
        self.deployed
            .lock()
            .expect("deployed lock")
            .insert(id.to_owned(), (rev.to_owned(), document));
    }

    /// The stored version a flow's current or last run was started from, when known.
    pub fn deployed(&self, id: &str) -> Option<(String, serde_json::Value)> {
        self.deployed
            .lock()
            .expect("deployed lock")
            .get(id)
            .cloned()
    }

    /// Stops a flow and forgets it and its event hub (its streams end).
    pub async fn forget(&self, id: &str, drain: Duration) {
        self.stop(id, drain).await;
        let _t = self.transitions.lock().await;
        self.flows.lock().expect("runner lock").remove(id);
        self.hubs.lock().expect("hub lock").remove(id);
        self.deployed.lock().expect("deployed lock").remove(id);
        self.generations
            .lock()
            .expect("generations lock")
            .remove(id);
    }

    /// Stops every running flow, in parallel, each with the same drain bound.
    pub async fn stop_all(&self, drain: Duration) {
        let _t = self.transitions.lock().await;
        let running: Vec<_> = self
            .handles()
            .into_iter()
            .filter(|(_, h)| h.is_running())
            .collect();
        if running.is_empty() {
            return;
        }
        tracing::info!(
            flows = running.len(),
            drain_secs = drain.as_secs(),
            "Stopping flows."
        );
        let stops = running.iter().map(|(id, h)| async move {
            let report = h.stop(drain).await;
            for problem in report.problems() {
                tracing::warn!(flow = %id, "{problem}");
            }
        });
        futures::future::join_all(stops).await;
    }
}

/// A run's number, and the flow's counter of runs.
struct Generation(u64, Arc<Mutex<u64>>);

/// Copies one run's events into the flow's hub until the run's handle is gone, or a newer run
/// of the flow started (whose events then own the hub).
async fn forward(
    mut events: broadcast::Receiver<FlowEvent>,
    hub: broadcast::Sender<FlowEvent>,
    Generation(mine, current): Generation,
) {
    loop {
        match events.recv().await {
            Ok(event) => {
                let latest = current.lock().expect("generation lock");
                if *latest != mine {
                    return;
                }
                let _ = hub.send(event);
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(skipped = n, "Event forwarding lagged; events were skipped.");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// A flow that passed validation and still does not plan (its config changed underneath): the
/// first problem, as the node's configuration error.
fn plan_error(flow: &Flow, diags: Vec<crate::flow::Diagnostic>) -> RuntimeError {
    let first = diags.into_iter().next();
    RuntimeError::Config {
        node: crate::runtime::NodeId::new(
            first
                .as_ref()
                .and_then(|d| d.node.clone())
                .unwrap_or_else(|| flow.id.clone()),
        ),
        pointer: first
            .as_ref()
            .map(|d| d.pointer.clone())
            .unwrap_or_default(),
        message: first.map(|d| d.message).unwrap_or_default(),
    }
}

/// What a run's nodes run with: the flow's shape (node ids and types, edges) and a hash of each
/// node's config (secrets included, so a new secret redeploys its node; only hashes are kept).
#[derive(Debug, Clone, PartialEq)]
struct Fingerprint {
    shape: u64,
    configs: Vec<(String, u64)>,
}

impl Fingerprint {
    fn of(flow: &Flow) -> Fingerprint {
        let nodes: Vec<(&str, &str)> = flow
            .nodes
            .iter()
            .map(|n| (n.id.as_str(), n.component_type.as_str()))
            .collect();
        let shape = json_hash(&serde_json::json!({"nodes": nodes, "edges": flow.edges}));
        let configs = flow
            .nodes
            .iter()
            .map(|n| (n.id.clone(), json_hash(&n.config)))
            .collect();
        Fingerprint { shape, configs }
    }

    /// The nodes whose config differs from `old`'s.
    fn changed_since(&self, old: &Fingerprint) -> Vec<String> {
        self.configs
            .iter()
            .filter(|(id, h)| !old.configs.iter().any(|(o, oh)| o == id && oh == h))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// A hash of a JSON value's canonical text (keys sorted).
fn json_hash(value: &serde_json::Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut canonical = value.clone();
    crate::flow::model::sort_keys(&mut canonical);
    let mut h = std::hash::DefaultHasher::new();
    canonical.to_string().hash(&mut h);
    h.finish()
}
