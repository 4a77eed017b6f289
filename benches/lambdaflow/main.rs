//! lambdaflow's benchmark: every figure beside a baseline measured in the same run, printed as
//! one table. `scripts/bench.sh` runs it in release mode; `the README's Performance section` explains each
//! row and what limits it.
//!
//! ```text
//! cargo bench --bench lambdaflow -- [--runs N] [--workers N] [--no-emulator] [--only engine,...]
//! ```
//!
//! The `instructions` section re-runs this binary under `valgrind --tool=callgrind` with
//! `--callgrind-probe SIDE HOPS MESSAGES` (one run of one side, nothing printed).
//!
//! Plain timing with `std::time::Instant`: a warm-up, then several runs of each side taken in
//! turn, and the median. Under `cargo test --all-targets` (no `--bench` argument) it runs a
//! smoke pass instead — tiny counts, the same code paths and the same correctness checks, no
//! figures worth reading — so CI keeps the benchmark compiling and working without ever
//! asserting a wall-clock figure.

mod emulator;
mod endpoint;
mod engine;
mod jetstream;
mod lambda;
mod memory;
mod raw;
mod sections;
mod stats;
mod stream;
mod throttle;
// The integration tests' support: free ports, the supervisor, a raw HTTP client.
#[path = "../../tests/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::time::Instant;

use stats::{Row, print_table};

/// `--concurrency` of `cargo lambda watch`: instances per function, enough for every row.
const EMULATOR_INSTANCES: u32 = 128;

/// What to run, from the command line.
struct Args {
    /// A real benchmark run (`cargo bench` passes `--bench`), not the smoke pass.
    full: bool,
    /// Measured runs per figure (after a warm-up).
    runs: usize,
    /// Sections to run; empty means all.
    only: Vec<String>,
    /// Worker threads of the tokio runtime everything runs on (default: one per core).
    workers: Option<usize>,
    /// Run the rows against `cargo lambda watch` (off with `--no-emulator`: only the minimal
    /// endpoint's rows, no release build of the demo functions).
    emulator: bool,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            full: false,
            runs: 5,
            only: Vec::new(),
            workers: None,
            emulator: true,
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            match a.as_str() {
                "--bench" => args.full = true,
                "--runs" => {
                    args.runs = it
                        .next()
                        .and_then(|v| v.parse().ok())
                        .filter(|&n: &usize| n > 0)
                        .unwrap_or_else(|| usage("--runs needs a positive number"))
                }
                "--only" => {
                    args.only = it
                        .next()
                        .unwrap_or_else(|| usage("--only needs a list"))
                        .split(',')
                        .map(str::to_owned)
                        .collect()
                }
                "--workers" => {
                    args.workers = Some(
                        it.next()
                            .and_then(|v| v.parse().ok())
                            .filter(|&n: &usize| n > 0)
                            .unwrap_or_else(|| usage("--workers needs a positive number")),
                    )
                }
                "--no-emulator" => args.emulator = false,
                "-h" | "--help" => usage(""),
                other => usage(&format!("unknown argument {other}")),
            }
        }
        for s in &args.only {
            if !SECTIONS.contains(&s.as_str()) {
                usage(&format!("unknown section {s}"));
            }
        }
        args
    }

    fn wants(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }
}

const SECTIONS: &[&str] = &[
    "engine",
    "instructions",
    "lambda",
    "scaling",
    "batching",
    "throttling",
    "memory",
    "jetstream",
    "stream",
];

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("bench: {problem}");
    }
    eprintln!(
        "usage: cargo bench --bench lambdaflow -- [--runs N] [--workers N] [--no-emulator] \
         [--only {}]",
        SECTIONS.join(",")
    );
    std::process::exit(2)
}

/// `--callgrind-probe SIDE HOPS MESSAGES`: the run `engine::instruction_rows` counts.
fn probe_from_args() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [flag, side, hops, messages] = args.as_slice() else {
        return false;
    };
    if flag != "--callgrind-probe" {
        return false;
    }
    let side = engine::Side::parse(side).unwrap_or_else(|| usage("probe side: engine or raw"));
    let hops = hops
        .parse()
        .unwrap_or_else(|_| usage("probe hops: a number"));
    let messages = messages
        .parse()
        .unwrap_or_else(|_| usage("probe messages: a number"));
    engine::probe(side, hops, messages);
    true
}

/// `--stream-probe SIDE MODE MB URL`: the run `stream::rows` measures in a child process.
fn stream_probe_from_args() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [flag, side, mode, mb, url] = args.as_slice() else {
        return false;
    };
    if flag != "--stream-probe" {
        return false;
    }
    let mb = mb
        .parse()
        .unwrap_or_else(|_| usage("stream probe size: a number"));
    stream::probe(side, mode, mb, url);
    true
}

fn main() {
    if probe_from_args() || stream_probe_from_args() {
        return;
    }
    let args = Args::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.workers {
        builder.worker_threads(n);
    }
    let runtime = builder.enable_all().build().expect("tokio runtime");
    let started = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    if !args.full {
        eprintln!(
            "bench: smoke pass (no --bench argument): tiny counts, figures not meaningful; \
             run scripts/bench.sh for the real table"
        );
    }
    runtime.block_on(async {
        if args.wants("engine") {
            let (messages, runs) = if args.full {
                (1_000_000, args.runs)
            } else {
                (2_000, 1)
            };
            eprintln!("bench: engine pass-through, {messages} messages × {runs} runs");
            rows.extend(engine::rows(messages, runs).await);
        }
        if args.wants("instructions") {
            if args.full {
                rows.extend(engine::instruction_rows(20_000, 100_000));
            } else {
                eprintln!(
                    "bench: smoke pass: the callgrind rows run only under `cargo bench` \
                     (scripts/bench.sh)"
                );
            }
        }
        let needs_emulator =
            args.full && args.emulator && (args.wants("lambda") || args.wants("scaling"));
        let emulator = needs_emulator.then(|| emulator::Emulator::start(EMULATOR_INSTANCES));
        if !args.full {
            eprintln!(
                "bench: smoke pass: the rows against cargo lambda watch run only under \
                 `cargo bench` (scripts/bench.sh)"
            );
        }
        if args.wants("lambda") {
            rows.extend(sections::lambda_path(&args, emulator.as_ref()).await);
        }
        if args.wants("scaling") {
            rows.extend(sections::scaling(&args, emulator.as_ref()).await);
        }
        if args.wants("batching") {
            rows.extend(sections::batching(&args).await);
            rows.extend(sections::batching_latency_bound(&args).await);
        }
        if args.wants("throttling") {
            rows.extend(throttle::rows(&args).await);
        }
        if args.wants("jetstream") {
            let (full, runs) = (args.full, args.runs);
            rows.extend(
                tokio::task::spawn_blocking(move || jetstream::rows(full, runs))
                    .await
                    .expect("the jetstream section ran"),
            );
        }
        if args.wants("stream") {
            rows.extend(stream::rows(args.full, args.runs).await);
        }
        if args.wants("memory") {
            let endpoint = endpoint::Endpoint::answer_at_once();
            let flows = if args.full { 100 } else { 3 };
            rows.extend(memory::rows(flows, &endpoint));
        }
    });
    println!();
    print_table(&rows);
    eprintln!("bench: done in {:.0} s", started.elapsed().as_secs_f64());
}
