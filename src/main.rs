//! The `lambdaflow` command line (design §7).
//!
//! Exit codes: 0 success; 1 the flow is invalid or cannot be read; 2 the run ended with a node
//! stopped or failed, or messages discarded; 3 `--timeout` elapsed; 130 interrupted.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use lambdaflow::components::registry;
use lambdaflow::flow::Compiled;
use lambdaflow::flow::FlowError;
use lambdaflow::runtime::{self, RunOptions};

#[derive(Parser)]
#[command(
    name = "lambdaflow",
    version,
    about = "A flow engine whose star component invokes AWS Lambda."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a flow headless until its Feeders have sent what they were configured to send and
    /// the flow is idle; Displays print each message as one JSON line on stdout.
    Run {
        /// The flow file.
        flow: PathBuf,
        /// Stop the flow and exit 3 after this many seconds.
        #[arg(long)]
        timeout: Option<u64>,
        /// Print nothing from the Displays.
        #[arg(long, conflicts_with = "count")]
        quiet: bool,
        /// Print, instead of each message, one JSON line per Display at the end:
        /// `{"node": "display1", "received": N}`.
        #[arg(long)]
        count: bool,
        /// Run as one worker of a flow with JetStream edges on this NATS server; the run ends
        /// when its sources are done and the flow's streams are drained.
        #[arg(long, env = "NATS_URL")]
        nats: Option<String>,
        #[command(flatten)]
        durable: DurableArgs,
    },
    /// Join a flow with JetStream edges as one worker: runs every node (sources only while this
    /// worker holds their lease) and prints what its Displays receive as JSON lines, until
    /// SIGTERM or Ctrl-C, then finishes and acknowledges what it holds and exits 0.
    Worker {
        /// The flow file (or, with --flow-id, the revision deployed by `serve --nats`).
        #[arg(required_unless_present = "flow_id", conflicts_with = "flow_id")]
        flow: Option<PathBuf>,
        /// Run the flow deployed under this id in the `lf_flows` bucket, and restart with each
        /// new deploy.
        #[arg(long)]
        flow_id: Option<String>,
        /// The NATS server with JetStream.
        #[arg(long, env = "NATS_URL")]
        nats: String,
        /// Print nothing from the Displays.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        durable: DurableArgs,
    },
    /// Validate a flow file; lists every error with its node id and JSON pointer.
    Validate {
        /// The flow file.
        flow: PathBuf,
    },
    /// Serve the designer and the HTTP API (docs/api.md) for the flows in a directory.
    Serve(ServeArgs),
    /// List the component types with their ports.
    Components {
        /// Print the full descriptors (schema and uiSchema) as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// How a process joins a flow's JetStream edges.
#[derive(clap::Args, Clone)]
struct DurableArgs {
    /// This worker's name (lease holder, worker reports); default host and process id.
    #[arg(long)]
    worker_id: Option<String>,
    /// Milliseconds a delivery may stay unacknowledged before another worker gets it (how long
    /// a dead worker's messages wait). Set by the first worker that creates an edge's consumer.
    #[arg(long, default_value_t = 30_000)]
    ack_wait_ms: u64,
    /// Milliseconds a source lease lasts unrenewed (how long a dead worker's sources wait). Set
    /// by the first worker that creates the lease bucket.
    #[arg(long, default_value_t = 10_000)]
    lease_ttl_ms: u64,
}

impl DurableArgs {
    fn options(&self, nats: &str) -> lambdaflow::worker::WorkerOptions {
        let mut options = lambdaflow::worker::WorkerOptions::new(nats);
        if let Some(id) = &self.worker_id {
            options.worker = id.clone();
        }
        options.ack_wait = Duration::from_millis(self.ack_wait_ms.max(100));
        options.lease_ttl = Duration::from_millis(self.lease_ttl_ms.max(300));
        options
    }
}

/// Options of `lambdaflow serve`.
#[derive(clap::Args)]
struct ServeArgs {
    /// The flow store: one `<id>.json` per flow, plus the encrypted `.credentials.json`.
    #[arg(long, default_value = "flows")]
    flows: PathBuf,
    /// Address to listen on. Beyond loopback, set a token.
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Port to listen on (0: any free port; the address is printed on stdout).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Require `Authorization: Bearer <token>` on every /api route but /api/health, and on
    /// /metrics.
    #[arg(long, env = "LAMBDAFLOW_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, default_value_t = lambdaflow::api::DEFAULT_MAX_BODY)]
    max_body: usize,
    /// Seconds that stopping a flow (or the server) lets in-flight invocations finish.
    #[arg(long, default_value_t = 10)]
    drain: u64,
    /// The NATS server (with JetStream) flows with JetStream edges are deployed to; Deploy
    /// hands them to the workers following them, and the designer shows those workers.
    #[arg(long, env = "NATS_URL")]
    nats: Option<String>,
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            flow,
            timeout,
            quiet,
            count,
            nats: Some(nats),
            durable,
        } => run_worker(
            flow,
            durable.options(&nats),
            Printing::from_flags(quiet, count),
            Ending::Drained(timeout),
        ),
        Command::Run {
            flow,
            timeout,
            quiet,
            count,
            nats: None,
            ..
        } => run(flow, timeout, Printing::from_flags(quiet, count)),
        Command::Worker {
            flow_id: Some(id),
            nats,
            quiet,
            durable,
            ..
        } => follow(&id, durable.options(&nats), quiet),
        // clap requires one of the two.
        Command::Worker {
            flow: None,
            flow_id: None,
            ..
        } => ExitCode::from(1),
        Command::Worker {
            flow: Some(flow),
            nats,
            quiet,
            durable,
            ..
        } => run_worker(
            flow,
            durable.options(&nats),
            Printing::from_flags(quiet, false),
            Ending::Signal,
        ),
        Command::Validate { flow } => validate(flow),
        Command::Serve(args) => serve(args),
        Command::Components { json } => components(json),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let secret = std::env::var(lambdaflow::api::secrets::SECRET_ENV).ok();
    let options = lambdaflow::api::ServeOptions {
        flows: args.flows,
        bind: args.bind,
        port: args.port,
        token: args.token,
        max_body: args.max_body,
        credential_secret: secret,
        drain: Duration::from_secs(args.drain),
        nats: args.nats,
    };
    match lambdaflow::api::serve(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lambdaflow serve: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("LAMBDAFLOW_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn report_load_error(path: &std::path::Path, e: &FlowError) {
    match e {
        FlowError::Invalid(diags) => {
            for d in diags {
                eprintln!("{}: {d}", path.display());
            }
            eprintln!("{}: {} error(s)", path.display(), diags.len());
        }
        FlowError::Io { .. } => eprintln!("{e}"),
    }
}

fn validate(path: PathBuf) -> ExitCode {
    match registry().load_plan(&path) {
        Ok(f) => {
            println!(
                "{}: valid flow \"{}\" ({} nodes, {} edges)",
                path.display(),
                f.flow,
                f.nodes.len(),
                f.edges.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            report_load_error(&path, &e);
            ExitCode::from(1)
        }
    }
}

/// What `lambdaflow run` prints on stdout.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Printing {
    /// Every message reaching a Display, one JSON line each.
    Messages,
    /// Nothing.
    Quiet,
    /// One line per Display at the end: how many messages reached it.
    Count,
}

impl Printing {
    fn from_flags(quiet: bool, count: bool) -> Printing {
        match (quiet, count) {
            (_, true) => Printing::Count,
            (true, false) => Printing::Quiet,
            (false, false) => Printing::Messages,
        }
    }
}

fn run(path: PathBuf, timeout: Option<u64>, printing: Printing) -> ExitCode {
    let plan = match load_plan(&path) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async move {
        let options = RunOptions {
            print_displays: printing == Printing::Messages,
            ..RunOptions::batch()
        };
        let handle = match runtime::start(&plan, options) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::from(1);
            }
        };
        let deadline = async {
            match timeout {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => std::future::pending().await,
            }
        };
        let (report, code) = tokio::select! {
            report = handle.wait() => (report, None),
            _ = deadline => {
                eprintln!("{}: timed out after {}s; stopping the flow", path.display(), timeout.unwrap_or(0));
                (handle.stop(Duration::from_secs(5)).await, Some(3))
            }
            _ = tokio::signal::ctrl_c() => {
                eprintln!("{}: interrupted; stopping the flow", path.display());
                (handle.stop(Duration::from_secs(10)).await, Some(130))
            }
        };
        if printing == Printing::Count {
            print_counts(&handle);
        }
        for problem in report.problems() {
            eprintln!("{}: {problem}", path.display());
        }
        match code {
            Some(c) => ExitCode::from(c),
            None if report.is_clean() => ExitCode::SUCCESS,
            None => ExitCode::from(2),
        }
    })
}

/// The flow file compiled into a plan, or exit code 1 with every problem printed.
fn load_plan(path: &std::path::Path) -> Result<lambdaflow::runtime::Plan, ExitCode> {
    registry().load_plan(path).map_err(|e| {
        report_load_error(path, &e);
        ExitCode::from(1)
    })
}

/// When a worker process ends.
#[derive(Clone, Copy)]
enum Ending {
    /// `run --nats`: when the flow is drained (or after the timeout, exit 3).
    Drained(Option<u64>),
    /// `worker`: on SIGTERM or Ctrl-C.
    Signal,
}

fn run_worker(
    path: PathBuf,
    mut options: lambdaflow::worker::WorkerOptions,
    printing: Printing,
    ending: Ending,
) -> ExitCode {
    let plan = match load_plan(&path) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    // The flow file's version: workers of the same file share their sources' ends.
    options.generation = {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        std::fs::read(&path).unwrap_or_default().hash(&mut h);
        format!("{:016x}", h.finish())
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async move {
        let run = RunOptions {
            print_displays: printing == Printing::Messages,
            ..RunOptions::batch()
        };
        let worker = match lambdaflow::worker::join(&plan, run, &options).await {
            Ok(w) => w,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::from(1);
            }
        };
        let drain = Duration::from_secs(30);
        let code = match ending {
            Ending::Drained(timeout) => {
                let deadline = async {
                    match timeout {
                        Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                        None => std::future::pending().await,
                    }
                };
                worker
                    .report_until(async {
                        tokio::select! {
                            _ = worker.drained() => None,
                            _ = deadline => {
                                eprintln!("{}: timed out; stopping the worker", path.display());
                                Some(3)
                            }
                            _ = terminated() => Some(130),
                        }
                    })
                    .await
            }
            Ending::Signal => {
                worker.report_until(terminated()).await;
                eprintln!(
                    "{}: stopping: finishing and acknowledging what this worker holds",
                    path.display()
                );
                None
            }
        };
        let report = worker.stop(drain).await;
        if printing == Printing::Count {
            print_counts(&worker.handle);
        }
        for problem in report.problems() {
            eprintln!("{}: {problem}", path.display());
        }
        match (code, ending) {
            (Some(c), _) => ExitCode::from(c),
            // A worker asked to stop that finished what it held ends well.
            (None, Ending::Signal) => ExitCode::SUCCESS,
            (None, _) if report.is_clean() => ExitCode::SUCCESS,
            (None, _) => ExitCode::from(2),
        }
    })
}

fn follow(id: &str, options: lambdaflow::worker::WorkerOptions, quiet: bool) -> ExitCode {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async move {
        let run = RunOptions {
            print_displays: !quiet,
            ..RunOptions::batch()
        };
        match lambdaflow::worker::follow(id, run, &options, Duration::from_secs(30), terminated())
            .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("flow {id}: {e}");
                ExitCode::from(1)
            }
        }
    })
}

/// SIGTERM or Ctrl-C.
async fn terminated() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// One JSON line per Display: how many messages reached it.
fn print_counts(handle: &runtime::FlowHandle) {
    let status = handle.status();
    for (node, _, capabilities) in handle.node_types() {
        if capabilities.shows_messages {
            let received = status.nodes.get(node.as_str()).map_or(0, |s| s.received);
            println!(
                "{}",
                serde_json::json!({"node": node, "received": received})
            );
        }
    }
}

fn components(json: bool) -> ExitCode {
    let registry = registry();
    if json {
        let all: Vec<_> = registry.iter().map(Compiled::descriptor_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&all).expect("descriptors serialise")
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "{:<10} {:<16} {:<8} {:<12} DESCRIPTION",
        "TYPE", "TITLE", "INPUTS", "OUTPUTS"
    );
    for c in registry.iter() {
        println!(
            "{:<10} {:<16} {:<8} {:<12} {}",
            c.descriptor.type_name,
            c.descriptor.title,
            join_or_dash(c.descriptor.inputs),
            join_or_dash(c.descriptor.outputs),
            c.descriptor.description
        );
    }
    ExitCode::SUCCESS
}

fn join_or_dash(ports: &[&str]) -> String {
    if ports.is_empty() {
        "-".into()
    } else {
        ports.join(",")
    }
}
