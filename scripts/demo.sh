#!/usr/bin/env bash
# The demo: builds the designer, lambdaflow and the demo Lambda functions in parallel, starts the
# functions locally under `cargo lambda watch`, and serves the designer on http://127.0.0.1:8080
# with a flow store of its own. Ctrl+C stops everything.
#
#   LAMBDAFLOW_DEMO_DIR  the demo's flow store (default .lambdaflow/demo/flows, git-ignored),
#                        created from flows/ on first start; your flows live there, never in the
#                        repository's flows/
#   PORT                 designer port (default 8080)
#   LAMBDA_PORT          port of the local Lambda endpoint (default 9000)
#
# Build and server output goes to .lambdaflow/demo/*.log; the terminal shows one line per step
# and, when everything answers, one line with the URL.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

LAMBDA_PORT=${LAMBDA_PORT:-9000}
PORT=${PORT:-8080}
state="$root/.lambdaflow/demo"
FLOWS=${LAMBDAFLOW_DEMO_DIR:-$state/flows}
mkdir -p "$state"

step() { printf '  %-34s %s\n' "$1" "$2"; }

# Where cargo puts binaries (honours CARGO_TARGET_DIR and cargo config).
target_dir() {
  cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "lambdaflow demo: building (logs in ${state#"$root"/})"
scripts/install-test-deps.sh >"$state/install.log" 2>&1 || { echo "installing tools failed: see $state/install.log" >&2; exit 1; }
step "tools (cargo-lambda, npm packages)" done

# The three builds run at the same time; each reports when it is done.
(
  if command -v npm >/dev/null; then
    (cd web && npm ci --no-audit --no-fund && npm run build) >"$state/web.log" 2>&1 &&
      step "designer (web/dist)" built || { step "designer (web/dist)" "FAILED: see $state/web.log"; exit 1; }
  else
    step "designer" "skipped: npm not found (the API still runs)"
  fi
) &
web=$!
(cargo build >"$state/server.log" 2>&1 && step "server (lambdaflow)" built) ||
  { step "server (lambdaflow)" "FAILED: see $state/server.log"; exit 1; } &
server=$!
(scripts/lambda-emulator.sh --build-only >"$state/functions.log" 2>&1 && step "Lambda functions (functions/)" built) ||
  { step "Lambda functions (functions/)" "FAILED: see $state/functions.log"; exit 1; } &
functions=$!
for pid in "$web" "$server" "$functions"; do wait "$pid" || exit 1; done

# The demo's own flow store, seeded once from the repository's demo flows.
if [[ ! -d $FLOWS ]]; then
  mkdir -p "$FLOWS"
  cp flows/*.json "$FLOWS/"
  step "flow store" "created from flows/"
fi

emulator_port=$((LAMBDA_PORT + 1))
scripts/lambda-emulator.sh "$emulator_port" >>"$state/functions.log" 2>&1 &
pids+=($!)
functions=$(sed -n 's/^name = "\(.*\)"$/\1/p' functions/Cargo.toml | grep -v '^lambdaflow' || true)
# shellcheck disable=SC2086 # one argument per function name
python3 scripts/demo-lambda-proxy.py "$LAMBDA_PORT" "http://127.0.0.1:$emulator_port" $functions >"$state/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  curl -sf -o /dev/null -X POST -d '{}' "http://127.0.0.1:$LAMBDA_PORT/2015-03-31/functions/echo/invocations" && break
  sleep 0.5
done
step "Lambda endpoint" "http://127.0.0.1:$LAMBDA_PORT ($(echo $functions | tr ' ' ','))"

export AWS_ENDPOINT_URL_LAMBDA="http://127.0.0.1:$LAMBDA_PORT"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
"$(target_dir)/debug/lambdaflow" serve --flows "$FLOWS" --bind 127.0.0.1 --port "$PORT" >"$state/serve.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 1 120); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/health" && break
  kill -0 "$server" 2>/dev/null || { echo "lambdaflow serve stopped: see $state/serve.log" >&2; exit 1; }
  sleep 0.25
done
echo "Ready: open http://127.0.0.1:$PORT (flows in ${FLOWS#"$root"/}; Ctrl+C stops)"
wait "$server"
