//! Feeder: produces messages on `out` — its configured messages when the flow starts (headless
//! runs), and messages sent at run time from the designer or the API (Fiorano's Feeder).

pub mod config;

use std::time::Duration;

use futures::FutureExt as _;
use futures::future::BoxFuture;

use crate::message::{Message, MessageId};
use crate::runtime::port::{OUT, PortId};
use crate::runtime::{
    Capabilities, Component, ComponentType, Control, Descriptor, NodeContext, NodeExit, NodeId,
    RunMode, RuntimeError, SendRequest,
};
pub use config::{FeederConfig, FeederMessage};

/// The Feeder component type.
pub struct FeederType;

impl ComponentType for FeederType {
    type Config = FeederConfig;

    fn descriptor(&self) -> Descriptor {
        Descriptor {
            type_name: "feeder",
            title: "Feeder",
            description: "Sends messages into the flow: its configured messages when the flow \
                          starts, and messages you type while it runs.",
            inputs: &[],
            outputs: &[OUT],
            schema: include_str!("../../../component-schema/feeder.schema.json"),
            ui_schema: include_str!("../../../ui-forms/feeder.ui.json"),
            capabilities: Capabilities {
                accepts_send: true,
                ..Capabilities::default()
            },
            actions: &[],
            secret_binding: &[],
        }
    }

    /// Every configured message decodes.
    fn check(&self, node: &NodeId, config: &FeederConfig) -> Result<(), RuntimeError> {
        configured(node, config).map(drop)
    }

    fn build(
        &self,
        node: &NodeId,
        config: &FeederConfig,
    ) -> Result<Box<dyn Component>, RuntimeError> {
        Ok(Box::new(Feeder {
            node: node.clone(),
            configured: configured(node, config)?,
            config: config.clone(),
        }))
    }
}

/// A running Feeder.
pub struct Feeder {
    node: NodeId,
    config: FeederConfig,
    /// The configured messages, decoded once: start-up sends and every run-time send of the
    /// default message use them.
    configured: Vec<Message>,
}

impl Component for Feeder {
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut NodeContext,
    ) -> BoxFuture<'a, Result<NodeExit, RuntimeError>> {
        self.run_inner(ctx).boxed()
    }
}

/// Why a send loop stopped early.
struct Interrupted;

impl Feeder {
    async fn run_inner(self, ctx: &mut NodeContext) -> Result<NodeExit, RuntimeError> {
        ctx.stats()
            .set_history_capacity(Some(self.config.history_size.max(1) as usize));
        let interval = Duration::from_millis(self.config.interval_ms);
        let configured = &self.configured;
        let out = ctx.port(OUT);
        // On durable edges a worker taking this Feeder over sends again from the start: stable
        // ids make the stream drop what it already has (within its duplicate window).
        let stable_scope = ctx
            .durable_generation()
            .map(|generation| format!("{}/{}/{generation}", ctx.info().flow, self.node));
        if self.config.send_on_start {
            'outer: for round in 0..self.config.repeat {
                for (i, m) in configured.iter().enumerate() {
                    let first = round == 0 && i == 0;
                    let mut message = fresh(m);
                    if let Some(scope) = &stable_scope {
                        let sequence = round * configured.len() as u64 + i as u64;
                        message.id = MessageId::stable(scope, sequence);
                    }
                    if send(ctx, out, message, if first { None } else { Some(interval) })
                        .await
                        .is_err()
                    {
                        break 'outer;
                    }
                }
            }
        } else if ctx.mode() == RunMode::Batch {
            tracing::warn!(node = %ctx.info().node,
                "Feeder has sendOnStart off, so a headless run sends nothing from it.");
        }
        if ctx.mode() == RunMode::Batch {
            return Ok(NodeExit::Finished);
        }
        // Until the flow stops or a redeploy hands over to the new version.
        while let Some(command) = ctx.next_command().await {
            match command {
                Control::Send { request, reply } => {
                    match resolve(&self.node, &request, configured) {
                        Ok(message) => {
                            let _ = reply.send(Ok(request.count));
                            for i in 0..request.count {
                                let wait = (i > 0).then_some(request.interval);
                                if send(ctx, out, fresh(&message), wait).await.is_err() {
                                    break;
                                }
                            }
                        }
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                    }
                }
            }
        }
        Ok(NodeExit::Finished)
    }
}

/// The configured messages, decoded.
fn configured(node: &NodeId, config: &FeederConfig) -> Result<Vec<Message>, RuntimeError> {
    config
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m.to_message().map_err(|e| RuntimeError::Config {
                node: node.clone(),
                pointer: format!("/messages/{i}{}", e.pointer),
                message: e.message,
            })
        })
        .collect()
}

/// The same message with a fresh id and time (each send is a new message).
fn fresh(m: &Message) -> Message {
    m.renewed()
}

/// The message a send request asks for: its own, or the default (first configured) one.
fn resolve(
    node: &NodeId,
    request: &SendRequest,
    configured: &[Message],
) -> Result<Message, RuntimeError> {
    if let Some(m) = &request.message {
        return Ok(m.clone());
    }
    configured
        .first()
        .cloned()
        .ok_or_else(|| RuntimeError::BadRequest {
            node: node.clone(),
            message: "no body given and the Feeder has no default message".into(),
        })
}

/// Waits `wait`, or fails when the flow is asked to stop first.
async fn pause(ctx: &NodeContext, wait: Duration) -> Result<(), Interrupted> {
    tokio::select! {
        _ = tokio::time::sleep(wait) => Ok(()),
        _ = ctx.shutdown().cancelled() => Err(Interrupted),
    }
}

/// Waits `wait` (cut short by shutdown), then emits on `out` and records the send.
async fn send(
    ctx: &NodeContext,
    out: PortId,
    message: Message,
    wait: Option<Duration>,
) -> Result<(), Interrupted> {
    if ctx.shutdown().is_cancelled() {
        return Err(Interrupted);
    }
    if let Some(wait) = wait.filter(|w| !w.is_zero()) {
        // Boxed: the timer future is large, and sends without an interval should not carry it.
        Box::pin(pause(ctx, wait)).await?;
    }
    ctx.stats().record(message.clone());
    ctx.emit_to(out, message).await.map_err(|_| Interrupted)
}
