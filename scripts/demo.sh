#!/usr/bin/env bash
# One command from a fresh machine to a result: sets everything up, then scores
# examples/texts.jsonl on the embedded default model (SmolLM2-135M-Instruct).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p reports
target/release/memscan score --input examples/texts.jsonl --output reports/demo-scores.jsonl "$@"
echo "demo: wrote reports/demo-scores.jsonl" >&2
head -n 5 reports/demo-scores.jsonl
