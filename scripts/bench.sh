#!/usr/bin/env bash
# lambdaflow's benchmark: one command, one table. Every row is measured in the same run as its
# baseline, and the table gives both and their ratio (lambdaflow ÷ baseline).
#
#   scripts/bench.sh [--runs N] [--workers N] [--no-emulator] [--only engine,instructions,lambda,scaling,batching,throttling,memory,jetstream,stream]
#
# --runs: measured runs per figure (median; default 5). --workers: tokio worker threads
# (default one per core). --no-emulator: leave out the rows against `cargo lambda watch` (the
# minimal endpoint's rows stay). --only: a subset of the sections.
#
# It builds what it needs in release mode (the benchmark, the lambdaflow binary, the demo
# functions of functions/), starts what it needs on free loopback ports (a minimal
# Lambda-compatible endpoint inside the benchmark, `cargo lambda watch --release`, `lambdaflow
# serve`) and stops them when it ends. It needs cargo-lambda for the rows against the demo
# functions: scripts/install-test-deps.sh installs it. The README's Performance section explains each row and
# what limits it.
#
# CARGO_TARGET_DIR is honoured; the functions build in LAMBDAFLOW_FUNCTIONS_TARGET_DIR
# (default functions/target), as scripts/lambda-emulator.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo lambda --version >/dev/null 2>&1; then
    echo "bench: cargo-lambda is not installed; run scripts/install-test-deps.sh" \
        "(or: python3 -m pip install cargo-lambda)" >&2
    exit 127
fi

# The instruction-count rows run the benchmark under valgrind's callgrind.
if ! command -v valgrind >/dev/null 2>&1; then
    echo "bench: installing valgrind (for the callgrind rows)" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
    "${sudo[@]}" apt-get install -y valgrind >&2 || {
        "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y valgrind >&2
    }
fi

echo "bench: building the benchmark in release mode (a few minutes on a fresh machine)" >&2
cargo bench --bench lambdaflow --no-run
exec cargo bench --bench lambdaflow -- "$@"
