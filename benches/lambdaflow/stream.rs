//! Streamed-response rows (`invocationType: ResponseStream`): throughput and peak resident size
//! of a LambdaConnector reading a 1, 10 or 50 MB `InvokeWithResponseStream` response in
//! `streamOutput: whole` and `chunks`, beside the SDK's own `recv` loop reading the same stream
//! (joining it for `whole`, dropping each chunk for `chunks`).
//!
//! The endpoint is the tests' AWS-wire endpoint serving real event-stream frames of 64 KiB
//! chunks, in this process. Each measured run is a child process of this binary
//! (`--stream-probe SIDE MODE MB URL`) so that its peak resident size (`VmHWM` from
//! `/proc/self/status`) is its own: it builds its client, reads the stream twice (the first
//! read warms the client, the connection and the node), checks every byte arrived each time,
//! and prints the seconds of the second read, from invoking to the last byte, and its `VmHWM`.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_lambda::types::InvokeWithResponseStreamResponseEvent as Event;
use lambdaflow::Message;
use lambdaflow::components::lambda::LambdaConnector;
use lambdaflow::runtime::Harness;
use serde_json::json;

use crate::stats::{Row, median};
use crate::support::aws_wire::{AwsWire, Request};
use crate::support::event_stream;

const MB: usize = 1_000_000;
const CHUNK: usize = 64 * 1024;

/// Streams of `sizes` MB, each a run of `CHUNK`-byte frames, served by the name `{"mb": N}`.
async fn endpoint(sizes: &[usize]) -> AwsWire {
    let bodies: Arc<Vec<(usize, Vec<u8>)>> = Arc::new(
        sizes
            .iter()
            .map(|&mb| {
                let data = vec![b'x'; mb * MB];
                let chunks: Vec<&[u8]> = data.chunks(CHUNK).collect();
                (mb, event_stream::reply(&event_stream::frames(&chunks)).body)
            })
            .collect(),
    );
    AwsWire::start(move |r: &Request| {
        let mb = r.json()["mb"].as_u64().expect("{\"mb\": N}") as usize;
        let body = &bodies.iter().find(|(n, _)| *n == mb).expect("a size").1;
        let frames = [body.clone()];
        event_stream::reply(&frames)
    })
    .await
}

/// The rows: for each size and mode, MB/s and peak RSS beside the SDK's loop.
pub async fn rows(full: bool, runs: usize) -> Vec<Row> {
    let sizes: &[usize] = if full { &[1, 10, 50] } else { &[1] };
    let runs = if full { runs.min(3) } else { 1 };
    let wire = endpoint(sizes).await;
    let mut rows = Vec::new();
    for &mb in sizes {
        for mode in ["whole", "chunks"] {
            eprintln!("bench: stream {mode}, {mb} MB × {runs} runs");
            let (mut ours, mut base) = (Vec::new(), Vec::new());
            for _ in 0..runs {
                ours.push(probe_child("lambdaflow", mode, mb, &wire.url()).await);
                base.push(probe_child("sdk", mode, mb, &wire.url()).await);
            }
            let rate =
                |v: &[(f64, f64)]| median(&v.iter().map(|r| mb as f64 / r.0).collect::<Vec<_>>());
            let rss = |v: &[(f64, f64)]| median(&v.iter().map(|r| r.1).collect::<Vec<_>>());
            let bench = format!("stream {mode}: {mb} MB response, 64 KiB chunks");
            let baseline = match mode {
                "whole" => "aws-sdk-lambda recv loop, joined",
                _ => "aws-sdk-lambda recv loop, chunks dropped",
            };
            rows.push(Row::new(&bench, "MB/s", rate(&ours), rate(&base), baseline));
            rows.push(Row::new(
                &bench,
                "peak RSS MB",
                rss(&ours),
                rss(&base),
                baseline,
            ));
        }
    }
    rows
}

/// Runs one probe in a child process: (seconds, peak RSS in MB).
async fn probe_child(side: &str, mode: &str, mb: usize, url: &str) -> (f64, f64) {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let args = [
        "--stream-probe".to_owned(),
        side.to_owned(),
        mode.to_owned(),
        mb.to_string(),
        url.to_owned(),
    ];
    let out = tokio::process::Command::from(Command::new(exe))
        .args(args)
        .output()
        .await
        .expect("run the stream probe");
    assert!(
        out.status.success(),
        "bench: stream probe {side} {mode} {mb} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text
        .split_whitespace()
        .map(|v| v.parse::<f64>().expect("a figure"));
    let (secs, hwm_kb) = (it.next().expect("seconds"), it.next().expect("VmHWM"));
    (secs, hwm_kb / 1024.0)
}

/// `--stream-probe SIDE MODE MB URL`: one measured read, printed as `seconds VmHWM-kB`.
pub fn probe(side: &str, mode: &str, mb: usize, url: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let secs = runtime.block_on(async {
        match side {
            "lambdaflow" => connector(mode, mb, url).await,
            "sdk" => sdk(mode, mb, url).await,
            other => panic!("bench: unknown stream probe side {other}"),
        }
    });
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM");
    println!("{secs} {hwm}");
}

async fn connector(mode: &str, mb: usize, url: &str) -> f64 {
    let config = json!({
        "functionName": "stream",
        "invocationType": "ResponseStream",
        "streamOutput": mode,
        "maxResponseBytes": 209_715_200,
        "connection": {"region": "us-east-1", "accessKey": "test", "secretKey": "test",
                       "endpointUrl": url},
    });
    let node = LambdaConnector::from_json("stream1", &config).expect("valid config");
    let mut h = Harness::with_component("lambda", "stream1", Box::new(node));
    let wait = std::time::Duration::from_secs(120);
    let mut secs = 0.0;
    for _ in 0..2 {
        let started = Instant::now();
        h.send(Message::new(json!({"mb": mb}).to_string()))
            .await
            .expect("send");
        let mut bytes = 0;
        loop {
            let m = h.out(wait).await.expect("an out message");
            if mode == "whole" {
                bytes = m.body.len();
                break;
            }
            if m.properties.contains_key("lambda.streamEnd") {
                break;
            }
            bytes += m.body.len();
        }
        secs = started.elapsed().as_secs_f64();
        assert_eq!(bytes, mb * MB, "every byte arrived");
    }
    let rest = h.stop(wait).await;
    assert!(rest.error.is_empty(), "no error: {:?}", rest.error);
    secs
}

async fn sdk(mode: &str, mb: usize, url: &str) -> f64 {
    let client = aws_sdk_lambda::Client::from_conf(crate::support::lambda_config(url).build());
    let mut secs = 0.0;
    for _ in 0..2 {
        let started = Instant::now();
        let mut out = client
            .invoke_with_response_stream()
            .function_name("stream")
            .payload(json!({"mb": mb}).to_string().into_bytes().into())
            .send()
            .await
            .expect("InvokeWithResponseStream");
        let (mut joined, mut bytes) = (Vec::new(), 0);
        while let Some(event) = out.event_stream.recv().await.expect("the stream") {
            if let Event::PayloadChunk(update) = event {
                let chunk = update.payload.map(|b| b.into_inner()).unwrap_or_default();
                bytes += chunk.len();
                if mode == "whole" {
                    joined.extend_from_slice(&chunk);
                }
            }
        }
        secs = started.elapsed().as_secs_f64();
        assert_eq!(bytes, mb * MB, "every byte arrived");
        std::hint::black_box(joined);
    }
    secs
}
