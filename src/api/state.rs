//! The server's shared state: its settings, the flows directory (files and credentials) and the
//! flows it runs.

use std::path::Path;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use super::broker::Broker;

use super::runner::Runner;
use super::secrets::{CredentialStore, SecretsError};
use super::workspace::Workspace;
use crate::flow::store::{FlowStore, StoreError};

/// Default request body limit (8 MiB: a 6 MB Lambda payload, base64 or JSON-escaped, fits).
pub const DEFAULT_MAX_BODY: usize = 8 * 1024 * 1024;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Bearer token every `/api` route but health (and `/metrics`) requires, when set.
    pub token: Option<String>,
    /// Largest accepted request body in bytes.
    pub max_body: usize,
    /// How long stopping a flow lets in-flight work finish.
    pub drain: Duration,
    /// How long the component test route lets the component work.
    pub test_timeout: Duration,
    /// Interval of the event stream's keep-alive comments.
    pub keep_alive: Duration,
    /// The server listens on loopback only: `Host` must be a loopback name (DNS rebinding
    /// defence) and loopback origins are same-site.
    pub loopback: bool,
    /// The NATS server flows with JetStream edges are deployed to (`serve --nats`).
    pub nats: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token: None,
            max_body: DEFAULT_MAX_BODY,
            drain: Duration::from_secs(10),
            test_timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(15),
            loopback: true,
            nats: None,
        }
    }
}

/// Errors opening the server's state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The flows directory cannot be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The credential store cannot be opened.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// Everything the routes share.
#[derive(Debug)]
pub struct AppState {
    /// Settings.
    pub settings: Settings,
    /// The flows directory.
    pub workspace: Workspace,
    /// The flows being run.
    pub runner: Runner,
    /// Cancelled when the server shuts down (event streams end).
    pub shutdown: CancellationToken,
    /// The link to the workers of flows on JetStream edges (`--nats`).
    pub broker: Broker,
}

impl AppState {
    /// Opens the flows directory (creating it), its credential store (key from `secret`, else
    /// the key file), and a runner whose flows run on `engine`.
    pub fn open(
        flows: &Path,
        secret: Option<&str>,
        settings: Settings,
        engine: Handle,
    ) -> Result<Self, StateError> {
        let store = FlowStore::open(flows)?;
        let credentials = CredentialStore::open(store.dir(), secret)?;
        Ok(AppState {
            broker: Broker::new(settings.nats.clone()),
            settings,
            workspace: Workspace { store, credentials },
            runner: Runner::new(engine),
            shutdown: CancellationToken::new(),
        })
    }
}
