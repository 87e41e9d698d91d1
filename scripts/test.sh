#!/usr/bin/env bash
# One command from a fresh machine to the whole test suite: sets everything up,
# then runs formatting, lint and every test (unit, integration, parity with
# transformers) in release mode, and closes with the totals.
set -euo pipefail
cd "$(dirname "$0")/.."
MEMSCAN_GEMMA3=1 MEMSCAN_LLAMACPP=1 MEMSCAN_CHROMIUM=1 scripts/setup.sh
cargo fmt --check
cargo clippy --release --all-targets --quiet -- -D warnings
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
# --no-fail-fast: every test binary runs even when an earlier one fails, so one
# failure never hides the others; the exit status still reports it.
cargo test --release --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?
passed=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
failed=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
echo "$passed passed, $failed failed"
exit "$status"
