//! Display: shows what reaches it and forwards every message unchanged on `out` (Fiorano's
//! Display). Keeps the last `maxMessages` for the designer; in headless runs prints each message
//! as one JSON line on stdout.

pub mod config;

use std::io::Write as _;

use futures::FutureExt as _;
use futures::future::BoxFuture;

use crate::runtime::port::{IN, OUT};
use crate::runtime::{
    Component, ComponentSpec, FlowEvent, NodeConfig, NodeContext, NodeExit, RuntimeError,
};
pub use config::DisplayConfig;

/// The Display's registry entry.
pub fn spec() -> ComponentSpec {
    ComponentSpec {
        type_name: "display",
        title: "Display",
        description: "Shows every message that reaches it (body and properties) and forwards \
                      it unchanged.",
        inputs: &[IN],
        outputs: &[OUT],
        schema: include_str!("../../../component-schema/display.schema.json"),
        ui_schema: include_str!("../../../ui-forms/display.ui.json"),
        accepts_send: false,
        build,
    }
}

fn build(cfg: &NodeConfig<'_>) -> Result<Box<dyn Component>, RuntimeError> {
    Ok(Box::new(Display {
        config: cfg.parse()?,
    }))
}

/// A running Display.
pub struct Display {
    config: DisplayConfig,
}

impl Component for Display {
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut NodeContext,
    ) -> BoxFuture<'a, Result<NodeExit, RuntimeError>> {
        async move {
            let capacity = match self.config.max_messages {
                0 => None,
                n => Some(n as usize),
            };
            ctx.stats().set_history_capacity(capacity);
            let print = ctx.print_displays();
            let node = ctx.info().node.to_string();
            while let Some(message) = ctx.recv().await {
                if print {
                    let line = serde_json::to_string(&message).expect("a message serialises");
                    // A closed stdout (`| head`) must not kill the flow.
                    let _ = writeln!(std::io::stdout().lock(), "{line}");
                }
                ctx.stats().record(message.clone());
                ctx.emitter().publish(FlowEvent::Message {
                    node: node.clone(),
                    message: message.clone(),
                });
                if ctx.emit(OUT, message).await.is_err() {
                    break;
                }
            }
            Ok(NodeExit::Finished)
        }
        .boxed()
    }
}
