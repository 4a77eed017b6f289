#!/usr/bin/env bash
# Fuzzes the served OpenAPI document with schemathesis (PyPI `schemathesis`, installed by
# scripts/install-test-deps.sh): a debug `lambdaflow serve` with an empty flow store and a token
# on a free loopback port, every operation, a bounded number of examples (about a minute).
# Fails on any finding: a 5xx, an answer its schema does not describe, a request the document
# calls valid that the server refuses, or one it calls invalid that the server accepts.
#
#   scripts/schemathesis.sh [MAX_EXAMPLES]     (default 60 per operation)
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${1:-60}"
command -v st >/dev/null || {
    echo "schemathesis is missing: python3 -m pip install schemathesis" >&2
    exit 1
}
cargo build --quiet
bin="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/lambdaflow"

work="$(mktemp -d)"
token="schemathesis-$$-$RANDOM"
cleanup() {
    if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# No credentials, and every Lambda call goes to a closed loopback port: nothing leaves the machine.
env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
    AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ENDPOINT_URL_STS=http://127.0.0.1:9 \
    LAMBDAFLOW_TOKEN="$token" LAMBDAFLOW_LOG=warn "$bin" serve --flows "$work/flows" --port 0 \
    --drain 1 >"$work/stdout" 2>"$work/stderr" &
server=$!
for _ in $(seq 1 600); do
    address="$(sed -n 's/^lambdaflow listening on //p' "$work/stdout" | head -n 1)"
    [ -n "$address" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.1
done
[ -n "$address" ] || { echo "the server printed no address" >&2; exit 1; }

# A flow to find: operations on /api/flows/{id} then reach their handlers, not only 404s.
curl -fsS -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data '{"nodes": [{"id": "feeder1", "type": "feeder"}, {"id": "display1", "type": "display"}],
             "edges": [{"id": "route1", "from": {"node": "feeder1", "port": "out"},
                        "to": {"node": "display1", "port": "in"}}]}' \
    "$address/api/flows/demo" >/dev/null

# Component actions (the Lambda listings) are left out: a generated connection may name any
# endpoint, and they are tested against local endpoints in tests/api_routes.rs and tests/lambda_e2e.rs.
st --config-file scripts/schemathesis.toml run "$address/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --max-examples "$examples" --seed 20261201 --generation-deterministic \
    --exclude-path-regex '(/events$|/actions/)' \
    --request-timeout 20 --workers 2 --no-color --warnings off
