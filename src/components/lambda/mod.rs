//! LambdaConnector: turns each message on `in` into an AWS Lambda invocation and emits the
//! response on `out`, or an error record on `error` (Fiorano's LambdaConnector). See
//! the README's LambdaConnector section for every property and what reaches each port.
//!
//! The run loop keeps up to `maxConcurrency` invocations (or V2 batches) in flight and reads no
//! more input than it can invoke, so a slow function back-pressures upstream. A message waiting
//! for a retry holds no invocation slot: other messages keep being invoked. With
//! `preserveOrder` results leave in input order: a slow or retrying message holds back later
//! *results* (at most [`REORDER_BUFFER`] messages wait behind it; past that the node reads no
//! more input), never later invocations. Every message that enters leaves through `out` or
//! `error` exactly once, or is counted as discarded when its error actions route it nowhere.

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
pub mod table;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_lambda::Client;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt as _, StreamExt as _};
use serde_json::Value;

use crate::message::Message;
use crate::runtime::port::{ERROR, IN, OUT};
use crate::runtime::{
    ActionError, ActionSpec, Capabilities, Component, ComponentType, Condition, Descriptor,
    Emitter, FailureOutcome, FinalFailure, NodeContext, NodeExit, NodeId, RuntimeError,
};
use batch::{Batcher, Entry};
pub use client::ClientOverrides;
pub use config::{Connection, LambdaConfig};
use config::{OutputMode, PayloadFormat};
pub use control::{AliasSummary, FunctionSummary, Qualifiers, list_functions, list_qualifiers};
pub use error::LambdaError;
use invoke::{Busy, Gate, Invoker};
use payload::{BatchPosition, Charset, out_message, request_payload, too_large};

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

/// The outcome of one input message: its `out` message, or its final failure.
type Outcome = (Message, Result<Message, FinalFailure>);
/// One invocation (or one V2 batch) in flight, with its place in the input order.
type Job = BoxFuture<'static, (u64, Vec<Outcome>)>;

/// What every job shares.
struct Shared {
    config: LambdaConfig,
    /// The invoker, or why there is none (no region, bad endpoint…).
    invoker: Result<Invoker, LambdaError>,
    emitter: Emitter,
    gate: Arc<Gate>,
}

impl Shared {
    /// The final failure of a message refused before any call.
    fn refused(&self, failure: crate::runtime::Failure) -> FinalFailure {
        match &self.invoker {
            Ok(invoker) => invoker.before_call(failure),
            Err(_) => FinalFailure {
                failure,
                attempts: 0,
                condition: Condition::Failure,
            },
        }
    }

    fn client_failure(&self, e: &LambdaError) -> FinalFailure {
        let mut failure = e.to_failure();
        failure = failure
            .with_request_context("functionName", self.config.function_name.clone())
            .with_request_context(
                "invocationType",
                self.config.effective_invocation_type().as_str(),
            );
        FinalFailure {
            failure,
            attempts: 0,
            condition: Condition::Failure,
        }
    }
}

/// Finished jobs on their way out: at once, or in input order with `preserveOrder`.
struct Results {
    preserve_order: bool,
    /// The sequence number whose results leave next (`preserveOrder`).
    next: u64,
    /// Finished results waiting for an earlier one.
    held: BTreeMap<u64, Vec<Outcome>>,
}

impl Results {
    /// Takes a finished job; returns what may leave now, in order.
    fn finish(&mut self, seq: u64, outcomes: Vec<Outcome>) -> Vec<Outcome> {
        if !self.preserve_order {
            return outcomes;
        }
        self.held.insert(seq, outcomes);
        let mut ready = Vec::new();
        while let Some(outcomes) = self.held.remove(&self.next) {
            ready.extend(outcomes);
            self.next += 1;
        }
        ready
    }
}

/// One message, one invocation.
fn message_job(shared: Arc<Shared>, seq: u64, input: Message, busy: Busy) -> Job {
    async move { (seq, message_outcome(&shared, input, busy).await) }.boxed()
}

async fn message_outcome(shared: &Shared, input: Message, busy: Busy) -> Vec<Outcome> {
    {
        let invoker = match &shared.invoker {
            Ok(invoker) => invoker,
            Err(e) => {
                let fin = shared.client_failure(e);
                return vec![(input, Err(fin))];
            }
        };
        let config = &shared.config;
        let limit = config.request_limit();
        let payload = request_payload(&input, config.payload_is_json).and_then(|p| {
            if p.len() as u64 > limit {
                Err(too_large(
                    p.len(),
                    limit,
                    config.effective_invocation_type().as_str(),
                ))
            } else {
                Ok(p)
            }
        });
        let payload = match payload.and_then(|p| config.check_merge(&input).map(|()| p)) {
            Ok(p) => p,
            Err(f) => return vec![(input, Err(shared.refused(f)))],
        };
        let invoker = &match call::for_message(config, &input) {
            Ok(call) => invoker.with_call(call),
            Err(f) => return vec![(input, Err(shared.refused(f)))],
        };
        let result = invoker
            .invoke(
                &payload,
                &config.error_handling,
                &shared.emitter,
                &shared.gate,
                busy,
            )
            .await;
        let outcome = result.and_then(|ok| {
            // Only a success record shows the request payload.
            let request_value = match config.output_mode {
                OutputMode::Record => serde_json::from_slice(&payload).unwrap_or(Value::Null),
                OutputMode::Payload | OutputMode::Merge => Value::Null,
            };
            out_message(&input, &ok, config, request_value, None)
                .map_err(|f| invoker.after_call(f, ok.attempts))
        });
        vec![(input, outcome)]
    }
}

/// One V2 batch, one invocation; each message gets its own outcome, in input order.
fn batch_job(shared: Arc<Shared>, seq: u64, entries: Vec<Entry>, busy: Busy) -> Job {
    async move { (seq, batch_outcomes(&shared, entries, busy).await) }.boxed()
}

async fn batch_outcomes(shared: &Shared, entries: Vec<Entry>, busy: Busy) -> Vec<Outcome> {
    let records = entries.iter().filter(|e| e.record.is_ok()).count();
    let invoker = match &shared.invoker {
        Ok(invoker) => invoker,
        Err(e) => {
            let fin = shared.client_failure(e);
            return entries
                .into_iter()
                .map(|e| (e.message, Err(fin.clone())))
                .collect();
        }
    };
    if records == 0 {
        // Every message was refused before any call: nothing to send.
        return entries
            .into_iter()
            .filter_map(|e| match e.record {
                Err(f) => Some((e.message, Err(shared.refused(f)))),
                Ok(_) => None,
            })
            .collect();
    }
    let invoker = &invoker.with_call(batch::call(&entries));
    let batch_id = crate::message::new_id();
    let payload = batch::payload(&entries);
    let result = invoker
        .invoke(
            &payload,
            &shared.config.error_handling,
            &shared.emitter,
            &shared.gate,
            busy,
        )
        .await;
    // What each record gets from the response (`batch.responseMapping`), by its message id.
    let shares = match &result {
        Ok(ok) => mapping::shares(
            shared.config.batch.response_mapping,
            ok,
            &batch::ids(&entries),
        ),
        Err(_) => Vec::new(),
    };
    let mut index = 0;
    entries
        .into_iter()
        .map(|entry| {
            let (record, _) = match entry.record {
                Ok(r) => r,
                Err(f) => return (entry.message, Err(shared.refused(f))),
            };
            let position = BatchPosition {
                batch_id: batch_id.clone(),
                size: records,
                index,
            };
            index += 1;
            let outcome = match &result {
                Ok(ok) => mapping::success(ok, &shares[position.index])
                    .and_then(|mine| {
                        out_message(
                            &entry.message,
                            &mine,
                            &shared.config,
                            record,
                            Some(&position),
                        )
                    })
                    .map_err(|f| invoker.after_call(f, ok.attempts)),
                Err(fin) => Err(fin.clone()),
            };
            let outcome = outcome.map_err(|mut fin| {
                fin.failure = fin
                    .failure
                    .with_request_context("batchId", position.batch_id.clone())
                    .with_request_context("batchSize", position.size)
                    .with_request_context("batchIndex", position.index);
                fin
            });
            (entry.message, outcome)
        })
        .collect()
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
        let max = self.config.max_concurrency.max(1) as usize;
        let mut batcher =
            (self.config.payload_format == PayloadFormat::V2).then(|| Batcher::new(&self.config));
        let gate = Gate::new(max);
        let shared = Arc::new(Shared {
            config: self.config,
            invoker,
            emitter: emitter.clone(),
            gate: gate.clone(),
        });
        let mut jobs: FuturesUnordered<Job> = FuturesUnordered::new();
        let mut results = Results {
            preserve_order: shared.config.preserve_order,
            next: 0,
            held: BTreeMap::new(),
        };
        let mut seq: u64 = 0;
        let mut input_open = true;
        let mut stop: Option<String> = None;
        loop {
            let reading = input_open && stop.is_none();
            // Room for one more invocation, and for one more message waiting behind others.
            let room = gate.busy() < max && jobs.len() + results.held.len() < max + REORDER_BUFFER;
            // Send a batch whose trigger fired (or every waiting one once reading is over).
            if let Some(b) = batcher.as_mut()
                && !b.is_empty()
                && room
                && (b.is_full()
                    || !reading
                    || b.deadline()
                        .is_some_and(|d| d <= tokio::time::Instant::now()))
            {
                jobs.push(batch_job(shared.clone(), seq, b.take(), gate.enter()));
                seq += 1;
                continue;
            }
            let batch_waiting = batcher.as_ref().is_some_and(|b| !b.is_empty());
            if !reading && jobs.is_empty() && !batch_waiting {
                break;
            }
            let can_read = reading
                && match &batcher {
                    None => room,
                    Some(b) => !b.is_full(),
                };
            let deadline = batcher.as_ref().and_then(|b| b.deadline()).filter(|_| room);
            tokio::select! {
                biased;
                Some((done, outcomes)) = jobs.next(), if !jobs.is_empty() => {
                    for (input, result) in results.finish(done, outcomes) {
                        match result {
                            Ok(out) => {
                                let _ = emitter.emit(OUT, out).await;
                            }
                            Err(fin) => {
                                let outcome = emitter
                                    .fail(&shared.config.error_handling, fin, &input)
                                    .await;
                                if let FailureOutcome::StopService { reason } = outcome
                                    && stop.is_none()
                                {
                                    tracing::warn!(node = %node, in_flight = jobs.len(),
                                        "Stopping (stopService): taking no more input, \
                                         finishing what is in flight.");
                                    stop = Some(reason);
                                }
                            }
                        }
                    }
                }
                // A message went from busy to waiting for a retry: maybe room for more.
                _ = gate.changed.notified() => {}
                _ = sleep_until(deadline), if deadline.is_some() => {}
                message = ctx.recv(), if can_read => match message {
                    None => input_open = false,
                    Some(message) => match batcher.as_mut() {
                        Some(b) => b.push(message),
                        None => {
                            jobs.push(message_job(shared.clone(), seq, message, gate.enter()));
                            seq += 1;
                        }
                    },
                },
            }
        }
        Ok(match stop {
            Some(reason) => NodeExit::StopService { reason },
            None => NodeExit::Finished,
        })
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
