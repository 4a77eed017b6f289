//! LambdaConnector: turns each message on `in` into an AWS Lambda invocation and emits the
//! response on `out`, or an error record on `error` (Fiorano's LambdaConnector). See
//! the README's LambdaConnector section for every property and what reaches each port.
//!
//! The node's calls run in the invocation driver (`runtime::driver`): up to `maxConcurrency`
//! invocations (or V2 batches) in flight, or a limit that adapts to throttling (`concurrency`), no more input read than it can invoke (a slow function
//! back-pressures upstream), retries that hold no invocation slot, `preserveOrder` through a
//! reorder buffer of [`REORDER_BUFFER`], batching triggers and `stopService`. The connector
//! supplies the rest ([`service::LambdaService`]): building the payload of a message or batch,
//! invoking, judging the reply and shaping what reaches each port. Every message that enters
//! leaves through `out` or `error` exactly once, or is counted as discarded when its error
//! actions route it nowhere.

// `Failure` (the engine's per-message error) is large; it is built at most once per attempt and
// moved, never copied in a loop, so boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod actions;
pub mod batch;
pub mod call;
pub mod classify;
pub mod client;
pub mod config;
pub mod control;
pub mod error;
pub mod forward;
pub mod invoke;
pub mod mapping;
pub mod merge;
pub mod payload;
pub mod route;
pub mod service;
pub mod stream;
pub mod table;

use aws_sdk_lambda::Client;
use futures::FutureExt as _;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::runtime::driver::{self, Batching, Settings};
use crate::runtime::port::{ERROR, IN, OUT};
use crate::runtime::{
    ActionError, ActionSpec, Capabilities, Component, ComponentType, Descriptor, NodeContext,
    NodeExit, NodeId, RuntimeError,
};
use batch::Batcher;
pub use client::ClientOverrides;
use config::PayloadFormat;
pub use config::{Connection, LambdaConfig};
pub use control::{AliasSummary, FunctionSummary, Qualifiers, list_functions, list_qualifiers};
pub use error::LambdaError;
use invoke::Invoker;
use payload::Charset;
use service::{LambdaService, Unit};

/// Messages that may wait, besides those being invoked, for a retry or (with `preserveOrder`)
/// for an earlier message's result. Past that the node reads no more input until they leave.
pub const REORDER_BUFFER: usize = 256;

/// The LambdaConnector component type.
pub struct LambdaType;

/// The config fields a node's stored secrets are bound to.
const SECRET_BINDING: &[&str] = &[
    "/connection/endpointUrl",
    "/connection/region",
    "/connection/roleArn",
    "/connection/accessKey",
];

/// The designer's pickers: the account's functions, and a function's aliases and versions.
const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        name: "functions",
        title: "List the account's functions",
        field: "/functionName",
        uses: &["connection"],
    },
    ActionSpec {
        name: "qualifiers",
        title: "List the function's aliases and versions",
        field: "/qualifier",
        uses: &["connection", "functionName"],
    },
];

impl ComponentType for LambdaType {
    type Config = LambdaConfig;

    fn descriptor(&self) -> Descriptor {
        Descriptor {
            type_name: "lambda",
            title: "LambdaConnector",
            description: "Invokes an AWS Lambda function for each message (or batch of \
                          messages) and emits the response on out; failures go to error as \
                          error records.",
            inputs: &[IN],
            outputs: &[OUT, ERROR],
            schema: include_str!("../../../component-schema/lambda.schema.json"),
            ui_schema: include_str!("../../../ui-forms/lambda.ui.json"),
            capabilities: Capabilities {
                invokes: true,
                ..Capabilities::default()
            },
            actions: ACTIONS,
            secret_binding: SECRET_BINDING,
        }
    }

    fn check(&self, node: &NodeId, config: &LambdaConfig) -> Result<(), RuntimeError> {
        config.check(node)?;
        config.charset(node).map(drop)
    }

    fn build(
        &self,
        node: &NodeId,
        config: &LambdaConfig,
    ) -> Result<Box<dyn Component>, RuntimeError> {
        Ok(Box::new(LambdaConnector::new(node, config.clone())?))
    }

    fn action(&self, name: &str, config: Value) -> BoxFuture<'static, Result<Value, ActionError>> {
        let name = name.to_owned();
        async move { actions::run(&name, config).await }.boxed()
    }
}

/// Where a node gets its client from.
enum ClientSource {
    /// Built in `run` from the `connection` settings.
    Build(ClientOverrides),
    /// Given (tests inject a mocked client).
    Ready(Client),
}

/// A LambdaConnector node.
pub struct LambdaConnector {
    node: NodeId,
    config: LambdaConfig,
    /// `responseCharset`, parsed once.
    charset: Charset,
    client: ClientSource,
}

impl LambdaConnector {
    /// A node with a checked config; its client is built when it starts running.
    pub fn new(node: &NodeId, config: LambdaConfig) -> Result<Self, RuntimeError> {
        config.check(node)?;
        let charset = config.charset(node)?;
        Ok(LambdaConnector {
            node: node.clone(),
            config,
            charset,
            client: ClientSource::Build(ClientOverrides::default()),
        })
    }

    /// A node from its JSON config, planned as the registry plans every node (schema, typed
    /// config, checks); the first problem is the error.
    pub fn from_json(node: &str, config: &Value) -> Result<Self, RuntimeError> {
        let plan = crate::components::registry()
            .plan_node("", "lambda", node, config)
            .map_err(|d| {
                let first = d.into_iter().next();
                RuntimeError::Config {
                    node: NodeId::new(node),
                    pointer: first
                        .as_ref()
                        .map(|d| d.pointer.trim_start_matches("/config").to_owned())
                        .unwrap_or_default(),
                    message: first.map(|d| d.message).unwrap_or_default(),
                }
            })?;
        let planned = &plan.nodes[0];
        let config = planned
            .config::<LambdaConfig>()
            .expect("a lambda plan holds a LambdaConfig");
        Self::new(&planned.id, config.clone())
    }

    /// Uses `client` as it is (its own retry and timeout settings apply).
    pub fn with_client(mut self, client: Client) -> Self {
        self.client = ClientSource::Ready(client);
        self
    }

    /// Builds the client from the `connection` settings with these overrides.
    pub fn with_overrides(mut self, overrides: ClientOverrides) -> Self {
        self.client = ClientSource::Build(overrides);
        self
    }

    /// The node's configuration.
    pub fn config(&self) -> &LambdaConfig {
        &self.config
    }
}

impl Component for LambdaConnector {
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut NodeContext,
    ) -> BoxFuture<'a, Result<NodeExit, RuntimeError>> {
        self.run_inner(ctx).boxed()
    }
}

impl LambdaConnector {
    async fn run_inner(self, ctx: &mut NodeContext) -> Result<NodeExit, RuntimeError> {
        let emitter = ctx.emitter();
        let node = self.node.clone();
        let client = match self.client {
            ClientSource::Ready(client) => Ok(client),
            ClientSource::Build(overrides) => {
                client::build_client(&self.config.connection, &overrides).await
            }
        };
        let charset = self.charset;
        let invoker = client
            .map(|c| Invoker::new(c, &self.config, charset))
            .map_err(|e| e.for_node(&node));
        if let Err(e) = &invoker {
            tracing::error!(node = %node, code = e.code(),
                "Cannot create the Lambda client; every message will fail: {e}");
        }
        let settings = Settings {
            concurrency: self.config.limit(),
            preserve_order: self.config.preserve_order,
            reorder_buffer: REORDER_BUFFER,
            policy: self.config.error_handling.clone(),
        };
        let batching = (self.config.payload_format == PayloadFormat::V2)
            .then(|| Box::new(Batcher::new(&self.config)) as Box<dyn Batching<Unit>>);
        let service = LambdaService::new(self.config, invoker, emitter);
        Ok(driver::run(service, batching, settings, ctx).await)
    }
}
