//! `GET /metrics`: Prometheus text exposition (format 0.0.4) of the flows this server runs —
//! flows running, per node received/emitted/errors counters, the adaptive concurrency limit of
//! nodes that have one, and the invocation latency histogram of nodes that make external calls
//! (the LambdaConnector).
//!
//! Counters belong to a run: they start at zero when a flow starts, which Prometheus reads as a
//! counter reset. A stopped flow's last run stays visible until it is started again or deleted.

use std::fmt::Write as _;

use actix_web::HttpResponse;

use super::routes::Data;
use crate::runtime::NodeStatus;

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The label set of a node's lines: `flow="…",node="…",type="…"`.
fn labels(flow: &str, node: &str, component: &str) -> String {
    format!(
        "flow=\"{}\",node=\"{}\",type=\"{}\"",
        escape(flow),
        escape(node),
        escape(component)
    )
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Renders the metrics text.
pub fn render(state: &Data) -> String {
    let handles = state.runner.handles();
    let mut out = String::new();
    header(
        &mut out,
        "lambdaflow_flows_running",
        "gauge",
        "Flows currently running.",
    );
    let running = handles.iter().filter(|(_, h)| h.is_running()).count();
    let _ = writeln!(out, "lambdaflow_flows_running {running}");
    header(
        &mut out,
        "lambdaflow_flow_running",
        "gauge",
        "1 while the flow runs, 0 after it stopped.",
    );
    for (id, h) in &handles {
        let _ = writeln!(
            out,
            "lambdaflow_flow_running{{flow=\"{}\"}} {}",
            escape(id),
            u8::from(h.is_running())
        );
    }

    let statuses: Vec<_> = handles
        .iter()
        .map(|(id, h)| (id, h, h.status(), h.node_types()))
        .collect();
    // Per-node figures: name, type, help, and the node's value (none: the line is left out).
    type PerNode = (
        &'static str,
        &'static str,
        &'static str,
        fn(&NodeStatus) -> Option<u64>,
    );
    let per_node: [PerNode; 5] = [
        (
            "lambdaflow_node_received_total",
            "counter",
            "Messages a node took from its input.",
            |s| Some(s.received),
        ),
        (
            "lambdaflow_node_emitted_total",
            "counter",
            "Messages a node sent to its outputs (other than error).",
            |s| Some(s.emitted),
        ),
        (
            "lambdaflow_node_errors_total",
            "counter",
            "Messages whose handling failed (after retries).",
            |s| Some(s.errors),
        ),
        (
            "lambdaflow_node_discarded_total",
            "counter",
            "Failed messages routed to no port (sendToErrorPort off): counted, never silent.",
            |s| Some(s.discarded),
        ),
        (
            "lambdaflow_node_concurrency_limit",
            "gauge",
            "Calls a node allows in flight now (nodes whose limit adapts to throttling).",
            |s| s.concurrency_limit,
        ),
    ];
    for (name, kind, help, get) in per_node {
        header(&mut out, name, kind, help);
        for (flow, _, status, types) in &statuses {
            for (node, component, _) in types {
                if let Some(value) = status.nodes.get(node.as_str()).and_then(get) {
                    let labels = labels(flow, node, component);
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
        }
    }

    let name = "lambdaflow_invocation_duration_seconds";
    header(
        &mut out,
        name,
        "histogram",
        "Duration of a node's external calls (Lambda invocations).",
    );
    for (flow, h, _, types) in &statuses {
        for (node, component, capabilities) in types {
            let Ok(latency) = h.latency(node) else {
                continue;
            };
            if latency.count == 0 && !capabilities.invokes {
                continue;
            }
            let labels = labels(flow, node, component);
            for (le, count) in &latency.buckets {
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {count}");
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels},le=\"+Inf\"}} {}",
                latency.count
            );
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", latency.sum_seconds);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", latency.count);
        }
    }
    out
}

/// `GET /metrics`
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses((status = 200, description = "Prometheus text format 0.0.4",
               content_type = "text/plain", body = String),
              (status = "default", description = "Error", body = super::openapi::ErrorDoc)))]
pub async fn metrics(state: Data) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(render(&state))
}
