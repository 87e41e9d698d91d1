#!/usr/bin/env bash
# Renders the scan, eval and forget-check report pages of the real-model fixture
# (SmolLM2-135M-Instruct with the LoRA adapter fine-tuned on fixtures/smollm2-lora)
# and takes a 1400 px screenshot of each with headless Chromium into docs/:
#   scripts/screenshots.sh [WORKDIR]      (about 10 minutes on 2 cores)
# Needs scripts/setup.sh and chromium-headless-shell (MEMSCAN_CHROMIUM=1 scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
ms=target/release/memscan
fix=fixtures/smollm2-lora
model=(--model models/SmolLM2-135M-Instruct.Q4_1.gguf --adapter "$fix/adapter" --device cpu)
chrome="$(command -v chromium-headless-shell || command -v chromium || true)"
[ -n "$chrome" ] || { echo "screenshots: no chromium-headless-shell or chromium on PATH" >&2; exit 2; }

# scan: the built-in prompts, one continuation each, and the fixture's member texts as the
# reference corpus for verbatim matches
"$ms" -q index build --corpus "$fix/train.jsonl" --out "$work/index"
"$ms" scan "${model[@]}" --samples-per-prompt 1 --max-new-tokens 32 --reference-corpus "$work/index" \
  --quiet --out "$work/scan"
# eval: 40 members against 40 held-out records, VerbMem, the base model as the retrained one
head -n 40 "$fix/members.jsonl" > "$work/members.jsonl"
head -n 40 "$fix/heldout.jsonl" > "$work/heldout.jsonl"
"$ms" eval "${model[@]}" --members "$work/members.jsonl" --nonmembers "$work/heldout.jsonl" \
  --verbmem --verbmem-tokens 32 --retrain-model models/SmolLM2-135M-Instruct.Q4_1.gguf \
  --quiet --out "$work/eval"
# forget-check: six members and three held-out records, the base model as the reference
{ head -n 6 "$fix/members.jsonl"; head -n 3 "$fix/heldout.jsonl"; } > "$work/records.jsonl"
"$ms" forget-check "${model[@]}" --records "$work/records.jsonl" \
  --reference-model models/SmolLM2-135M-Instruct.Q4_1.gguf --quiet --out "$work/forget" ||
  [ $? -eq 1 ] # 1: a record is memorized or extractable (the adapter was trained on them)

for kind in scan eval forget; do
  "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1800 \
    --screenshot="$PWD/docs/report-$kind.png" "file://$work/$kind/report.html" 2>"$work/chromium.log"
  echo "screenshots: docs/report-$kind.png ($work/$kind/report.html)" >&2
done
