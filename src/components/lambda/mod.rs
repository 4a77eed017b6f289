//! LambdaConnector: turns each message on `in` into an AWS Lambda invocation and emits the
//! response on `out`, or an error record on `error` (Fiorano's LambdaConnector). See
//! the README's LambdaConnector section for every property and what reaches each port.
//!
//! The run loop keeps up to `maxConcurrency` invocations (or V2 batches) in flight and reads no
//! more input than it can have in flight, so a slow function back-pressures upstream. With
//! `preserveOrder` results leave in input order (a slow message holds later ones back). Every
//! message that enters leaves through `out` or `error` exactly once.

// `Failure` (the engine's per-message error) is large; it is built at most once per attempt and
// moved, never copied in a loop, so boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod batch;
pub mod classify;
pub mod client;
pub mod config;
pub mod control;
pub mod error;
pub mod invoke;
pub mod payload;

use std::sync::Arc;

use aws_sdk_lambda::Client;
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, FuturesUnordered};
use futures::{FutureExt as _, StreamExt as _};
use serde_json::Value;

use crate::message::Message;
use crate::runtime::port::{ERROR, IN, OUT};
use crate::runtime::{
    Component, ComponentSpec, Condition, Emitter, FailureOutcome, FinalFailure, NodeConfig,
    NodeContext, NodeExit, RuntimeError,
};
use batch::{Batcher, Entry};
pub use client::ClientOverrides;
pub use config::{Connection, LambdaConfig};
use config::{OutputMode, PayloadFormat};
pub use control::{AliasSummary, FunctionSummary, Qualifiers, list_functions, list_qualifiers};
pub use error::LambdaError;
use invoke::Invoker;
use payload::{BatchPosition, out_message, request_payload, too_large};

/// The LambdaConnector's registry entry.
pub fn spec() -> ComponentSpec {
    ComponentSpec {
        type_name: "lambda",
        title: "LambdaConnector",
        description: "Invokes an AWS Lambda function for each message (or batch of messages) and \
                      emits the response on out; failures go to error as error records.",
        inputs: &[IN],
        outputs: &[OUT, ERROR],
        schema: include_str!("../../../component-schema/lambda.schema.json"),
        ui_schema: include_str!("../../../ui-forms/lambda.ui.json"),
        accepts_send: false,
        build,
    }
}

fn build(cfg: &NodeConfig<'_>) -> Result<Box<dyn Component>, RuntimeError> {
    let config: LambdaConfig = cfg.parse()?;
    Ok(Box::new(LambdaConnector::new(cfg.node, config)?))
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
    node: String,
    config: LambdaConfig,
    client: ClientSource,
}

impl LambdaConnector {
    /// A node with a checked config; its client is built when it starts running.
    pub fn new(node: &str, config: LambdaConfig) -> Result<Self, RuntimeError> {
        config.check(node)?;
        Ok(LambdaConnector {
            node: node.to_owned(),
            config,
            client: ClientSource::Build(ClientOverrides::default()),
        })
    }

    /// A node from its JSON config (serde defaults applied, then checked).
    pub fn from_json(node: &str, config: &Value) -> Result<Self, RuntimeError> {
        Self::new(
            node,
            NodeConfig {
                flow: "",
                node,
                config,
            }
            .parse()?,
        )
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
/// One invocation (or one V2 batch) in flight.
type Job = BoxFuture<'static, Vec<Outcome>>;

/// What every job shares.
struct Shared {
    config: LambdaConfig,
    /// The invoker, or why there is none (no region, bad endpoint…).
    invoker: Result<Invoker, LambdaError>,
    emitter: Emitter,
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

/// In-flight jobs, yielding in input order or as they finish.
enum Jobs {
    Ordered(FuturesOrdered<Job>),
    Unordered(FuturesUnordered<Job>),
}

impl Jobs {
    fn new(preserve_order: bool) -> Self {
        if preserve_order {
            Jobs::Ordered(FuturesOrdered::new())
        } else {
            Jobs::Unordered(FuturesUnordered::new())
        }
    }

    fn push(&mut self, job: Job) {
        match self {
            Jobs::Ordered(j) => j.push_back(job),
            Jobs::Unordered(j) => j.push(job),
        }
    }

    fn len(&self) -> usize {
        match self {
            Jobs::Ordered(j) => j.len(),
            Jobs::Unordered(j) => j.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    async fn next(&mut self) -> Option<Vec<Outcome>> {
        match self {
            Jobs::Ordered(j) => j.next().await,
            Jobs::Unordered(j) => j.next().await,
        }
    }
}

/// One message, one invocation.
fn message_job(shared: Arc<Shared>, input: Message) -> Job {
    async move {
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
        let payload = match payload {
            Ok(p) => p,
            Err(f) => return vec![(input, Err(shared.refused(f)))],
        };
        let result = invoker
            .invoke(&payload, &config.error_handling, &shared.emitter)
            .await;
        let outcome = result.map(|ok| {
            // Only a success record shows the request payload.
            let request_value = match config.output_mode {
                OutputMode::Record => serde_json::from_slice(&payload).unwrap_or(Value::Null),
                OutputMode::Payload => Value::Null,
            };
            out_message(&input, &ok, config.output_mode, request_value, None)
        });
        vec![(input, outcome)]
    }
    .boxed()
}

/// One V2 batch, one invocation; each message gets its own outcome, in input order.
fn batch_job(shared: Arc<Shared>, entries: Vec<Entry>) -> Job {
    async move {
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
        let batch_id = crate::message::new_id();
        let result = if records == 0 {
            None
        } else {
            let payload = batch::payload(&entries);
            Some(
                invoker
                    .invoke(&payload, &shared.config.error_handling, &shared.emitter)
                    .await,
            )
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
                let outcome = match result.as_ref().expect("a batch with records was sent") {
                    Ok(ok) => Ok(out_message(
                        &entry.message,
                        ok,
                        shared.config.output_mode,
                        record,
                        Some(&position),
                    )),
                    Err(fin) => {
                        let mut fin = fin.clone();
                        fin.failure = fin
                            .failure
                            .with_request_context("batchId", position.batch_id.clone())
                            .with_request_context("batchSize", position.size)
                            .with_request_context("batchIndex", position.index);
                        Err(fin)
                    }
                };
                (entry.message, outcome)
            })
            .collect()
    }
    .boxed()
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
        let invoker = client
            .map(|c| Invoker::new(c, &self.config))
            .map_err(|e| e.for_node(&node));
        if let Err(e) = &invoker {
            tracing::error!(node = %node, code = e.code(),
                "Cannot create the Lambda client; every message will fail: {e}");
        }
        let max = self.config.max_concurrency.max(1) as usize;
        let mut batcher =
            (self.config.payload_format == PayloadFormat::V2).then(|| Batcher::new(&self.config));
        let shared = Arc::new(Shared {
            config: self.config,
            invoker,
            emitter: emitter.clone(),
        });
        let mut jobs = Jobs::new(shared.config.preserve_order);
        let mut input_open = true;
        let mut stop: Option<String> = None;
        loop {
            let reading = input_open && stop.is_none();
            // Send a batch whose trigger fired (or every waiting one once reading is over).
            if let Some(b) = batcher.as_mut()
                && !b.is_empty()
                && jobs.len() < max
                && (b.is_full()
                    || !reading
                    || b.deadline()
                        .is_some_and(|d| d <= tokio::time::Instant::now()))
            {
                jobs.push(batch_job(shared.clone(), b.take()));
                continue;
            }
            let batch_waiting = batcher.as_ref().is_some_and(|b| !b.is_empty());
            if !reading && jobs.is_empty() && !batch_waiting {
                break;
            }
            let can_read = reading
                && match &batcher {
                    None => jobs.len() < max,
                    Some(b) => !b.is_full(),
                };
            let deadline = batcher
                .as_ref()
                .and_then(|b| b.deadline())
                .filter(|_| jobs.len() < max);
            tokio::select! {
                biased;
                Some(outcomes) = jobs.next(), if !jobs.is_empty() => {
                    for (input, result) in outcomes {
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
                _ = sleep_until(deadline), if deadline.is_some() => {}
                message = ctx.recv(), if can_read => match message {
                    None => input_open = false,
                    Some(message) => match batcher.as_mut() {
                        Some(b) => b.push(message),
                        None => jobs.push(message_job(shared.clone(), message)),
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
