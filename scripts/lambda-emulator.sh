#!/usr/bin/env bash
# Serve the demo Lambda functions in functions/ locally with `cargo lambda watch`.
#
#   scripts/lambda-emulator.sh [PORT] [EXTRA cargo-lambda watch ARGS...]
#   scripts/lambda-emulator.sh --build-only
#
# Builds functions/ first (so the first invocation of each function answers in milliseconds
# instead of compiling on demand), then runs `cargo lambda watch` in the foreground on
# 127.0.0.1:PORT (default 9000). Each function is served under its binary's name:
#
#   POST http://127.0.0.1:PORT/2015-03-31/functions/{hello,echo,uppercase,fail,slow}/invocations
#
# Extra arguments go to `cargo lambda watch`, e.g. `--concurrency 4` (default 1: concurrent
# invocations of one function run one after another) or `--ignore-changes` (no rebuild when the
# sources change). `--build-only` builds and exits.
#
# functions/ is a package of its own with its own target dir: LAMBDAFLOW_FUNCTIONS_TARGET_DIR,
# default functions/target. A CARGO_TARGET_DIR set for the root crate is deliberately not used,
# so that builds of the two never wait on each other's lock.
#
# Stop it with Ctrl-C or SIGTERM: cargo-lambda then stops the function processes it started.
# See functions/README.md for how this emulator differs from AWS Lambda.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
functions="$root/functions"
export CARGO_TARGET_DIR="${LAMBDAFLOW_FUNCTIONS_TARGET_DIR:-$functions/target}"

build_only=false
port=9000
if [[ $# -gt 0 && $1 == --build-only ]]; then
    build_only=true
    shift
elif [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    port=$1
    shift
fi

echo "lambda-emulator: building $functions (target dir $CARGO_TARGET_DIR)" >&2
cargo build --manifest-path "$functions/Cargo.toml" --bins
if $build_only; then
    exit 0
fi

if ! cargo lambda --version >/dev/null 2>&1; then
    echo "lambda-emulator: cargo-lambda is not installed; run scripts/install-test-deps.sh" \
        "(or: python3 -m pip install cargo-lambda)" >&2
    exit 127
fi

echo "lambda-emulator: serving on http://127.0.0.1:$port" >&2
cd "$functions"
exec cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" "$@"
