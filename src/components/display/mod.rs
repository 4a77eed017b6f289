//! Display: shows what reaches it and forwards every message unchanged on `out` (Fiorano's
//! Display). Keeps the last `maxMessages` for the designer; in headless runs prints each message
//! as one JSON line on stdout.

pub mod config;

use std::io::{BufWriter, Write as _};

use futures::FutureExt as _;
use futures::future::BoxFuture;

use crate::runtime::port::{IN, OUT};
use crate::runtime::{
    Capabilities, Component, ComponentType, Descriptor, FlowEvent, NodeContext, NodeExit, NodeId,
    RuntimeError,
};
pub use config::DisplayConfig;

/// Bytes of printed lines a Display gathers before writing them to stdout.
const PRINT_BUFFER: usize = 64 * 1024;

/// The Display component type.
pub struct DisplayType;

impl ComponentType for DisplayType {
    type Config = DisplayConfig;

    fn descriptor(&self) -> Descriptor {
        Descriptor {
            type_name: "display",
            title: "Display",
            description: "Shows every message that reaches it (body and properties) and \
                          forwards it unchanged.",
            inputs: &[IN],
            outputs: &[OUT],
            schema: include_str!("../../../component-schema/display.schema.json"),
            ui_schema: include_str!("../../../ui-forms/display.ui.json"),
            capabilities: Capabilities {
                shows_messages: true,
                ..Capabilities::default()
            },
            actions: &[],
            secret_binding: &[],
        }
    }

    fn build(
        &self,
        _node: &NodeId,
        config: &DisplayConfig,
    ) -> Result<Box<dyn Component>, RuntimeError> {
        Ok(Box::new(Display {
            config: config.clone(),
        }))
    }
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
            // Lines are written whole into a buffer, which goes out when it fills or when the
            // input is momentarily empty, so a busy run makes few writes and a quiet one shows
            // each message at once. A closed stdout (`| head`) must not kill the flow.
            let mut printer = ctx
                .print_displays()
                .then(|| BufWriter::with_capacity(PRINT_BUFFER, std::io::stdout()));
            let out = ctx.port(OUT);
            while let Some(message) = ctx.recv().await {
                if let Some(printer) = &mut printer {
                    let mut line = serde_json::to_vec(&message).expect("a message serialises");
                    line.push(b'\n');
                    let _ = printer.write_all(&line);
                    if ctx.input_is_idle() {
                        let _ = printer.flush();
                    }
                }
                ctx.stats().record(message.clone());
                if ctx.has_subscribers() {
                    ctx.publish(FlowEvent::Message {
                        node: ctx.info().node.to_string(),
                        message: message.clone(),
                    });
                }
                if ctx.emit_to(out, message).await.is_err() {
                    break;
                }
            }
            if let Some(printer) = &mut printer {
                let _ = printer.flush();
            }
            Ok(NodeExit::Finished)
        }
        .boxed()
    }
}
