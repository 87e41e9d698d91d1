#!/usr/bin/env bash
# One command from a fresh machine to a result: sets everything up, then runs an
# extraction scan of the embedded default model (SmolLM2-135M-Instruct) with the pii and
# secrets prompt sets, and scores examples/texts.jsonl. Extra arguments go to the scan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p reports
target/release/memscan scan --prompts pii --prompts secrets --max-new-tokens 32 --out reports/demo-scan "$@"
target/release/memscan score --input examples/texts.jsonl --output reports/demo-scores.jsonl
echo "demo: wrote reports/demo-scan/ (report.md, report.html, report.json, samples.jsonl) and reports/demo-scores.jsonl" >&2
sed -n 1,12p reports/demo-scan/report.md
