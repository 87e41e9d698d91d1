#!/usr/bin/env bash
# One command from a fresh machine to the whole test suite: sets everything up,
# then runs formatting, lint and every test (unit, integration, parity with
# transformers) in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --check
cargo clippy --release --all-targets --quiet -- -D warnings
cargo test --release "$@"
