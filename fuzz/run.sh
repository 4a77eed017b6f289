#!/usr/bin/env bash
# Runs every fuzz target with cargo fuzz (libFuzzer) for SECONDS each (default 300).
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (`cargo install cargo-fuzz`). Each target starts from its committed seeds (fuzz/seeds/TARGET)
# and the inputs kept as regression tests (tests/fixtures/fuzz/TARGET); what it learns goes to
# fuzz/corpus/TARGET (not committed). A crash leaves its input in fuzz/artifacts/TARGET/: copy
# it to tests/fixtures/fuzz/TARGET/ so tests/fuzz_regressions.rs replays it on stable forever.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-300}
shift || true
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list 2>/dev/null || true)
fi

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz: no nightly toolchain; install it with: rustup toolchain install nightly" >&2
    exit 127
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is missing; install it with: cargo install cargo-fuzz" >&2
    exit 127
fi
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz: cargo fuzz list found no targets" >&2
    exit 1
fi

for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    extra=()
    [ -d "../tests/fixtures/fuzz/$t" ] && extra+=("../tests/fixtures/fuzz/$t")
    echo "fuzz: $t for ${seconds}s" >&2
    cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" "${extra[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
done
echo "fuzz: no crash in ${targets[*]}" >&2
