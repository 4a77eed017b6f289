#!/usr/bin/env bash
# Runs every test of lambdaflow on a fresh Debian machine of this kind, installing what it needs:
# formatting and lint, the Rust unit and integration tests (including the end-to-end tests against
# `cargo lambda watch` and `moto_server`), and — when the designer is present — its unit tests
# and the browser end-to-end tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

# Where cargo puts binaries (honours CARGO_TARGET_DIR and cargo config).
target_dir() {
  cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

step() { printf '\n==> %s\n' "$*"; }

if [ -x scripts/install-test-deps.sh ]; then
  step "Installing test dependencies"
  scripts/install-test-deps.sh
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

if [ -f web/package.json ]; then
  step "Designer: npm ci, unit tests, build"
  (cd web && npm ci --no-audit --no-fund && npm test && npm run build)
fi

step "cargo test (unit, integration, end-to-end)"
cargo test --all-targets

step "Demo functions: clippy and unit tests (functions/, a crate of its own)"
(cd functions && cargo fmt -- --check && cargo clippy --all-targets -- -D warnings && cargo test)

if [ -f web/package.json ] && grep -q '"e2e"' web/package.json; then
  step "Designer: browser end-to-end tests"
  if ! command -v chromium >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  cargo build
  (cd web && LAMBDAFLOW_BIN="$(target_dir)/debug/lambdaflow" npm run e2e)
fi

step "All tests passed."
