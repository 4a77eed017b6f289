#!/usr/bin/env bash
# The demo: builds the designer and lambdaflow, starts the demo Lambda functions locally under
# `cargo lambda watch` (port 9000), and serves the designer with the demo flows on
# http://127.0.0.1:8080 . Ctrl+C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

# Where cargo puts binaries (honours CARGO_TARGET_DIR and cargo config).
target_dir() {
  cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

LAMBDA_PORT=${LAMBDA_PORT:-9000}
PORT=${PORT:-8080}

scripts/install-test-deps.sh
if command -v npm >/dev/null; then
  (cd web && npm ci --no-audit --no-fund && npm run build)
else
  echo "npm not found: the designer cannot be built; the API still runs." >&2
fi
cargo build

scripts/lambda-emulator.sh "$LAMBDA_PORT" &
emulator=$!
trap 'kill $emulator 2>/dev/null; wait $emulator 2>/dev/null' EXIT INT TERM

export AWS_ENDPOINT_URL_LAMBDA="http://127.0.0.1:$LAMBDA_PORT"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
echo "Waiting for the local Lambda emulator on port $LAMBDA_PORT…"
for _ in $(seq 1 600); do
  if curl -sf -o /dev/null -X POST -d '{}' \
      "http://127.0.0.1:$LAMBDA_PORT/2015-03-31/functions/echo/invocations"; then
    break
  fi
  sleep 1
done
echo "Open http://127.0.0.1:$PORT — the demo flows are in the Flows list."
"$(target_dir)/debug/lambdaflow" serve --flows flows --bind 127.0.0.1 --port "$PORT"
